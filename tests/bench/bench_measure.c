/*
 * bench_measure.c - timing: QueryPerformanceCounter, calibration, and
 * interleaved rounds with medians.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

double bench_now_ns(void)
{
    static LARGE_INTEGER freq;
    LARGE_INTEGER now;

    if (!freq.QuadPart && !QueryPerformanceFrequency(&freq)) {
        fprintf(stderr, "peerlsp-bench: QueryPerformanceFrequency failed: %lu\n",
                GetLastError());
        exit(1);
    }
    QueryPerformanceCounter(&now);
    return (double)now.QuadPart * 1e9 / (double)freq.QuadPart;
}

void bench_die(const char *what)
{
    fprintf(stderr, "peerlsp-bench: %s failed: error %d\n", what, host_api()->WSAGetLastError());
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

long bench_calibrate(const struct bench_op *op, double target_ms, long min_iters)
{
    long iters = min_iters > 0 ? min_iters : 1;

    /* One untimed warm-up, then grow until a batch is long enough to time. */
    op->run(op->ctx, iters);
    for (;;) {
        double ns = op->run(op->ctx, iters);
        if (ns >= target_ms * 1e6 / 4.0 || iters >= (1L << 28)) {
            double want = (double)iters * target_ms * 1e6 / (ns > 0 ? ns : 1.0);
            return want < (double)min_iters ? min_iters : (long)want;
        }
        iters *= 4;
    }
}

#define MAX_ROUNDS 64
/* Slices per round and path: a round is SLICES alternating slices of each
 * path, so that what the machine does meanwhile lands on both paths alike. */
#define SLICES 8

/* Runs op `iters` times per slice over SLICES slices, the two paths'
 * slices interleaved as A B B A A B B A (or its mirror); returns ns per
 * operation for each path in *lsp_ns and *base_ns. */
static void compare_round(const struct bench_op *lsp, long lsp_iters, const struct bench_op *base,
                          long base_iters, int mirror, double *lsp_ns, double *base_ns)
{
    double ta = 0, tb = 0;

    for (int k = 0; k < SLICES; k++) {
        if (((k + (k >> 1) + mirror) & 1) == 0) {
            ta += lsp->run(lsp->ctx, lsp_iters);
            tb += base->run(base->ctx, base_iters);
        } else {
            tb += base->run(base->ctx, base_iters);
            ta += lsp->run(lsp->ctx, lsp_iters);
        }
    }
    *lsp_ns = ta / ((double)lsp_iters * SLICES);
    *base_ns = tb / ((double)base_iters * SLICES);
}

void bench_compare(const struct bench_op *lsp, const struct bench_op *base, int rounds,
                   double target_ms, struct bench_pair *out)
{
    double a[MAX_ROUNDS], b[MAX_ROUNDS], q[MAX_ROUNDS];
    long na = bench_calibrate(lsp, target_ms / SLICES, 1);
    long nb = bench_calibrate(base, target_ms / SLICES, 1);

    if (rounds > MAX_ROUNDS)
        rounds = MAX_ROUNDS;
    for (int r = 0; r < rounds; r++) {
        compare_round(lsp, na, base, nb, r & 1, &a[r], &b[r]);
        q[r] = a[r] / b[r];
    }
    out->rounds = rounds;
    out->ratio = bench_median(q, rounds);
    out->ratio_min = q[0];
    out->ratio_max = q[rounds - 1];
    out->lsp_ns = bench_median(a, rounds);
    out->base_ns = bench_median(b, rounds);
    out->lsp_min = a[0];
    out->lsp_max = a[rounds - 1];
    out->base_min = b[0];
    out->base_max = b[rounds - 1];
}
