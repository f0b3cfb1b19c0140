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

void bench_compare(const struct bench_op *lsp, const struct bench_op *base, int rounds,
                   double target_ms, struct bench_pair *out)
{
    double a[MAX_ROUNDS], b[MAX_ROUNDS];
    long na = bench_calibrate(lsp, target_ms, 1), nb = bench_calibrate(base, target_ms, 1);

    if (rounds > MAX_ROUNDS)
        rounds = MAX_ROUNDS;
    for (int r = 0; r < rounds; r++) {
        if (r % 2 == 0) {
            a[r] = lsp->run(lsp->ctx, na) / (double)na;
            b[r] = base->run(base->ctx, nb) / (double)nb;
        } else {
            b[r] = base->run(base->ctx, nb) / (double)nb;
            a[r] = lsp->run(lsp->ctx, na) / (double)na;
        }
    }
    out->rounds = rounds;
    out->lsp_ns = bench_median(a, rounds);
    out->base_ns = bench_median(b, rounds);
    out->lsp_min = a[0];
    out->lsp_max = a[rounds - 1];
    out->base_min = b[0];
    out->base_max = b[rounds - 1];
    out->ratio = out->lsp_ns / out->base_ns;
}
