/*
 * bench_churn.c - getpeername through peerlsp while one other thread
 * connects and closes sockets through peerlsp without pause, over the same
 * getpeername on a quiet table: getpeername_churn_ratio.
 *
 * Every churn cycle is socket() + connect() of a UDP socket + closesocket(),
 * all through peerlsp: a table insert, the connect's two writes (VOLATILE,
 * then the peer read from below) and a removal, so the table's writer lock,
 * sequence count and counters change all the time while the timed thread
 * looks its own socket up.  The two paths are timed in interleaved rounds
 * (bench_compare): lsp_ns is the churned figure, base_ns the quiet one.
 *
 * The churner needs a CPU too (and Wine's socket calls need wineserver's),
 * so in the same way the bench times a loop that calls nothing and touches
 * nothing shared, churned over quiet: the control, what the churn costs any
 * thread on this machine at that moment (getpeername_churn_control).
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

struct churn {
    SOCKADDR_STORAGE server;
    int server_len;
    HANDLE go;              /* manual-reset: set while a churned batch runs */
    volatile LONG stop;
    volatile LONG busy;     /* 1 while the churner is inside a cycle */
    volatile LONG cycles;   /* cycles done, ever */
    volatile LONG failed;
};

struct timed {
    SOCKET s;               /* the socket looked up, connected, peerlsp's */
    struct churn *churn;    /* NULL: the quiet table */
    int control;            /* time the arithmetic loop instead */
};

static volatile unsigned long long control_sink;

static DWORD WINAPI churn_main(void *p)
{
    struct churn *c = p;
    const struct wsapi *api = host_api();

    for (;;) {
        if (WaitForSingleObject(c->go, INFINITE) != WAIT_OBJECT_0) {
            InterlockedExchange(&c->failed, 1);
            return 1;
        }
        if (c->stop)
            return 0;
        InterlockedExchange(&c->busy, 1);
        /* The event may have been reset while this thread was waking. */
        if (WaitForSingleObject(c->go, 0) == WAIT_OBJECT_0) {
            SOCKET s = bench_socket_raw(BENCH_LSP, AF_INET, SOCK_DGRAM);
            if (s == INVALID_SOCKET ||
                api->connect(s, (const struct sockaddr *)&c->server, c->server_len) ||
                api->closesocket(s))
                InterlockedExchange(&c->failed, 1);
            InterlockedIncrement(&c->cycles);
        }
        InterlockedExchange(&c->busy, 0);
    }
}

static double run_timed(void *p, long iters)
{
    struct timed *t = p;
    const struct wsapi *api = host_api();
    SOCKADDR_STORAGE name;
    int failed = 0;

    if (t->churn) {
        /* Start the churner and wait until it has finished a cycle, so the
         * whole timed part runs against a table being written. */
        LONG before = t->churn->cycles;
        if (!SetEvent(t->churn->go))
            bench_die("SetEvent");
        while (t->churn->cycles - before < 1 && !t->churn->failed)
            SwitchToThread();
    }
    double t0 = bench_now_ns();
    if (t->control) {
        unsigned long long x = 88172645463325252ull;
        for (long n = 0; n < iters * 16; n++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        control_sink = x;
    } else {
        for (long n = 0; n < iters; n++) {
            int len = sizeof name;
            failed |= api->getpeername(t->s, (struct sockaddr *)&name, &len);
        }
    }
    double t1 = bench_now_ns();
    if (t->churn) {
        if (!ResetEvent(t->churn->go))
            bench_die("ResetEvent");
        /* The quiet batch that may follow must not overlap a cycle. */
        while (t->churn->busy)
            SwitchToThread();
        if (t->churn->failed)
            bench_die("churn cycle (socket/connect/closesocket)");
    }
    if (failed)
        bench_die("getpeername");
    return t1 - t0;
}

void bench_getpeername_churn(int rounds, struct bench_pair *out, struct bench_pair *control,
                             double *cycles_per_s)
{
    const struct wsapi *api = host_api();
    struct churn c = { 0 };
    SOCKADDR_STORAGE la;
    int llen;
    SOCKET server = bench_udp_server(&c.server, &c.server_len);
    SOCKET listener = bench_listener(BENCH_LSP, &la, &llen);
    SOCKET s, acc;

    s = bench_tcp_pair(BENCH_LSP, listener, &la, llen, &acc);
    c.go = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!c.go)
        bench_die("CreateEvent");
    HANDLE th = CreateThread(NULL, 0, churn_main, &c, 0, NULL);
    if (!th)
        bench_die("CreateThread");

    struct timed churned = { s, &c, 0 }, quiet = { s, NULL, 0 };
    struct bench_op cop = { run_timed, &churned }, qop = { run_timed, &quiet };
    LONG cycles0 = c.cycles;
    double w0 = bench_now_ns();
    bench_compare(&cop, &qop, rounds, 20.0, out);
    double w1 = bench_now_ns();
    /* Cycles per second of the whole comparison (quiet batches included):
     * a lower bound of the churn rate during the churned batches. */
    *cycles_per_s = (double)(c.cycles - cycles0) / ((w1 - w0) / 1e9);
    struct timed c_churned = { s, &c, 1 }, c_quiet = { s, NULL, 1 };
    struct bench_op ccop = { run_timed, &c_churned }, cqop = { run_timed, &c_quiet };
    bench_compare(&ccop, &cqop, rounds, 20.0, control);

    InterlockedExchange(&c.stop, 1);
    if (!SetEvent(c.go) || WaitForSingleObject(th, INFINITE) != WAIT_OBJECT_0)
        bench_die("churn thread");
    CloseHandle(th);
    CloseHandle(c.go);
    SOCKET all[] = { s, acc, listener, server };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (api->closesocket(all[i]))
            bench_die("closesocket");
}
