/*
 * lookupfloor.c - native, x86-64: the least time a lookup among N entries
 * can take on this machine when it executes as many instructions as the
 * connection table's (instructions_per_lookup_with_loop, about 65) and makes
 * only one dependent load that leaves the caches: the record itself, found
 * with no index at all (its position is the key).  make bench prints it
 * next to lookup_ns_1k / lookup_ns_1m: what any table layout could reach,
 * one with its records inside the probed array included, before its own
 * probing is counted.
 *
 *   lookupfloor     prints {"lookup_floor_ns_1k": ..., "lookup_floor_ns_1m": ...}
 *
 * Same shape as tests/native/ctab_bench.c: 48-byte records (the table's
 * size, so some straddle two cache lines as the table's do), LOOKUPS
 * lookups per round in shuffled passes over all N keys, the median of
 * ROUNDS rounds, each record's 40 bytes copied out.  The rest of a lookup's
 * work is stood in for by 48 instructions that depend on nothing the loop
 * loads (12 loads and 6 stores of one cache line, 30 additions): an
 * optimistic stand-in, as the table's own instructions wait on each other.
 */
#include "../native/bench_time.h" /* first: it sets _POSIX_C_SOURCE */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 7
#define LOOKUPS 2000000u
#define RECORD 48u
#define PAYLOAD 40u

#if defined(__x86_64__)
#define ADD4 "add $1, %%r8\n\tadd $1, %%r9\n\tadd $1, %%r10\n\tadd $1, %%r11\n\t"
#define LOAD2 "mov (%1), %%r10\n\tmov 8(%1), %%r11\n\t"
#define STORE2 "mov %%r8, 16(%1)\n\tmov %%r9, 24(%1)\n\t"
/* 12 loads, 6 stores, 30 additions. */
#define STAND_IN LOAD2 LOAD2 LOAD2 LOAD2 LOAD2 LOAD2 STORE2 STORE2 STORE2 \
    ADD4 ADD4 ADD4 ADD4 ADD4 ADD4 ADD4 "add $1, %%r8\n\tadd $1, %%r9\n\t"
#endif

/* Median ns per lookup over ROUNDS rounds of LOOKUPS lookups among n
 * records, or a negative value when out of memory. */
static double floor_ns(size_t n)
{
    unsigned char *records = malloc(n * RECORD);
    uint32_t *keys = malloc(LOOKUPS * sizeof(*keys));
    uint64_t hot[8] = { 0 }, check = 0;
    double samples[ROUNDS];
    size_t base, i, len, r;

    if (records == NULL || keys == NULL) {
        free(records);
        free(keys);
        return -1.0;
    }
    for (i = 0; i < n * RECORD; i++)
        records[i] = (unsigned char)i;
    for (base = 0; base < LOOKUPS; base += n) {
        len = LOOKUPS - base < n ? LOOKUPS - base : n;
        for (i = 0; i < len; i++)
            keys[base + i] = (uint32_t)i;
        for (i = len - 1; i > 0; i--) {
            size_t j = (size_t)(bench_rng_next() % (i + 1));
            uint32_t t = keys[base + i];
            keys[base + i] = keys[base + j];
            keys[base + j] = t;
        }
    }
    for (r = 0; r < ROUNDS; r++) {
        double start = bench_now_ns();
        for (i = 0; i < LOOKUPS; i++) {
            uint64_t out[PAYLOAD / 8];
            memcpy(out, records + (size_t)keys[i] * RECORD + 8, sizeof(out));
            /* As the table's lookup does, the copy lands in memory. */
            __asm__ volatile("" : : "r"(out) : "memory");
            check += out[1];
            __asm__ volatile(STAND_IN : "+r"(check) : "r"(hot) : "r8", "r9", "r10", "r11", "memory");
        }
        samples[r] = (bench_now_ns() - start) / LOOKUPS;
    }
    /* Keeps the copies observable, so the compiler cannot drop them. */
    if (check == 0xdeadbeef)
        fprintf(stderr, "lookupfloor: unlikely checksum\n");
    free(records);
    free(keys);
    qsort(samples, ROUNDS, sizeof(samples[0]), bench_cmp_double);
    return samples[ROUNDS / 2];
}

int main(void)
{
#if defined(__x86_64__)
    double small = floor_ns(1000), big = floor_ns(1000000);

    if (small < 0 || big < 0) {
        fprintf(stderr, "lookupfloor: out of memory\n");
        return 1;
    }
    printf("{\"lookup_floor_ns_1k\": %.2f, \"lookup_floor_ns_1m\": %.2f}\n", small, big);
    return 0;
#else
    fprintf(stderr, "lookupfloor: x86-64 only (its stand-in work is assembly)\n");
    return 1;
#endif
}
