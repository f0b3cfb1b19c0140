/*
 * bench_threads.c - getpeername throughput on one thread and on two, each
 * thread with its own connected socket (a server's threads serve different
 * connections).
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_THREADS 2

/* Each worker on its own cache lines: the two threads write their results
 * here, and a shared line would cost more than the call being measured. */
struct worker {
    _Alignas(64) SOCKET s;
    long iters;
    HANDLE go;           /* manual-reset: set once the round starts */
    double start, end;   /* the worker's own QPC stamps */
    int failed;
    int spin;            /* arithmetic only, no call: the control */
};

static volatile unsigned long long spin_sink;

/* About as long per iteration as a getpeername through peerlsp, touching
 * nothing shared. */
static void spin(long iters)
{
    unsigned long long x = 88172645463325252ull;
    for (long n = 0; n < iters * 16; n++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    spin_sink = x;
}

static DWORD WINAPI worker_main(void *p)
{
    struct worker *w = p;
    const struct wsapi *api = host_api();
    SOCKADDR_STORAGE name;

    if (WaitForSingleObject(w->go, INFINITE) != WAIT_OBJECT_0) {
        w->failed = 1;
        return 1;
    }
    w->start = bench_now_ns();
    if (w->spin) {
        spin(w->iters);
        w->end = bench_now_ns();
        return 0;
    }
    /* Results stay in locals until the end: a store into *w on every call
     * would put the two workers on one cache line (false sharing). */
    int failed = 0;
    for (long n = 0; n < w->iters; n++) {
        int len = sizeof name;
        failed |= api->getpeername(w->s, (struct sockaddr *)&name, &len);
    }
    w->end = bench_now_ns();
    w->failed = failed;
    return 0;
}

/* Wall ns per call with `threads` workers, each doing iters calls: from the
 * first worker's start to the last one's end, over all calls. */
static double run_round(SOCKET *socks, int threads, long iters, int spin_only)
{
    struct worker w[MAX_THREADS];
    HANDLE h[MAX_THREADS];
    HANDLE go = CreateEventW(NULL, TRUE, FALSE, NULL);

    if (!go)
        bench_die("CreateEventW");
    for (int i = 0; i < threads; i++) {
        w[i] = (struct worker){ .s = socks[i], .iters = iters, .go = go, .spin = spin_only };
        h[i] = CreateThread(NULL, 0, worker_main, &w[i], 0, NULL);
        if (!h[i])
            bench_die("CreateThread");
    }
    Sleep(5); /* let both threads reach the wait */
    SetEvent(go);
    if (WaitForMultipleObjects((DWORD)threads, h, TRUE, INFINITE) == WAIT_FAILED)
        bench_die("WaitForMultipleObjects");
    double first = w[0].start, last = w[0].end;
    for (int i = 0; i < threads; i++) {
        CloseHandle(h[i]);
        if (w[i].failed)
            bench_die("getpeername (thread)");
        if (w[i].start < first)
            first = w[i].start;
        if (w[i].end > last)
            last = w[i].end;
    }
    CloseHandle(go);
    return (last - first) / (double)(threads * iters);
}

#define ROUNDS_MAX 32

void bench_threads(enum bench_path path, int rounds, struct bench_scaling *out)
{
    const struct wsapi *api = host_api();
    SOCKADDR_STORAGE la;
    int llen;
    SOCKET l = bench_listener(path, &la, &llen), socks[MAX_THREADS], acc[MAX_THREADS];
    double one[ROUNDS_MAX], two[ROUNDS_MAX], c1[ROUNDS_MAX], c2[ROUNDS_MAX];

    for (int i = 0; i < MAX_THREADS; i++)
        socks[i] = bench_tcp_pair(path, l, &la, llen, &acc[i]);
    /* About 100 ms per round on one thread. */
    double per = run_round(socks, 1, path == BENCH_LSP ? 100000 : 2000, 0);
    long iters = (long)(100e6 / per);
    if (iters < 1000)
        iters = 1000;
    double cper = run_round(socks, 1, 100000, 1);
    long citers = (long)(100e6 / cper);
    if (rounds > ROUNDS_MAX)
        rounds = ROUNDS_MAX;
    for (int r = 0; r < rounds; r++) {
        if (r % 2 == 0) {
            one[r] = run_round(socks, 1, iters, 0);
            two[r] = run_round(socks, 2, iters, 0);
            c1[r] = run_round(socks, 1, citers, 1);
            c2[r] = run_round(socks, 2, citers, 1);
        } else {
            c2[r] = run_round(socks, 2, citers, 1);
            c1[r] = run_round(socks, 1, citers, 1);
            two[r] = run_round(socks, 2, iters, 0);
            one[r] = run_round(socks, 1, iters, 0);
        }
    }
    out->ceiling = bench_median(c1, rounds) / bench_median(c2, rounds);
    out->ns_1 = bench_median(one, rounds);
    out->ns_2 = bench_median(two, rounds);
    out->speedup = out->ns_1 / out->ns_2;
    for (int i = 0; i < MAX_THREADS; i++)
        if (api->closesocket(socks[i]) || api->closesocket(acc[i]))
            bench_die("closesocket");
    if (api->closesocket(l))
        bench_die("closesocket");
}
