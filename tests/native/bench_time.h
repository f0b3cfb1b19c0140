/*
 * bench_time.h - what the native lookup benchmarks share (ctab_bench.c and
 * tests/bench/lookupfloor.c, whose figures make bench divides): the clock,
 * the order of the lookups' random shuffles, and the median's comparison.
 * Header-only, so that bench.sh can build lookupfloor.c with one gcc line.
 */
#ifndef PEERLSP_BENCH_TIME_H
#define PEERLSP_BENCH_TIME_H

#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* splitmix64, from a fixed seed: both programs shuffle the same way. */
static inline uint64_t bench_rng_next(void)
{
    static uint64_t state = 0x2545F4914F6CDD1Dull;
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline double bench_now_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("clock_gettime");
        exit(1);
    }
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

#endif /* PEERLSP_BENCH_TIME_H */
