/*
 * bench_io.c - what peerlsp only passes through or tracks: a 1-byte TCP
 * ping-pong, and socket + connect + getpeername + close cycles.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

#include <peerlsp/peerlsp.h>

#include "tbase.h"

/* ---- send/recv ---------------------------------------------------------- */

struct pingpong_ctx {
    SOCKET client, server;
};

/* One round trip: client -> server -> client, one byte each way, on one
 * thread (blocking sockets; the byte is already there when recv is called,
 * so no thread switch is timed, only the four calls). */
static double run_pingpong(void *p, long iters)
{
    struct pingpong_ctx *c = p;
    const struct wsapi *api = host_api();
    char b = 'x';
    int bad = 0;

    double t0 = bench_now_ns();
    for (long n = 0; n < iters; n++) {
        bad |= api->send(c->client, &b, 1, 0) != 1;
        bad |= api->recv(c->server, &b, 1, 0) != 1;
        bad |= api->send(c->server, &b, 1, 0) != 1;
        bad |= api->recv(c->client, &b, 1, 0) != 1;
    }
    double t1 = bench_now_ns();
    if (bad)
        bench_die("send/recv");
    return t1 - t0;
}

static void nodelay(SOCKET s)
{
    BOOL on = TRUE;
    if (host_api()->setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&on, sizeof on))
        bench_die("setsockopt(TCP_NODELAY)");
}

/* Whether peerlsp's proc table holds the base provider's own WSPSend and
 * WSPRecv: then a send or recv through peerlsp runs not one instruction of
 * peerlsp's, and any measured difference is noise. */
static int passthrough_identical(void)
{
    static const GUID lsp_guid = PEERLSP_GUID_INIT;
    WSPPROC_TABLE lsp, base;
    if (host_provider(&lsp_guid, &lsp, NULL) || host_provider(&TBASE_GUID_IPV4, &base, NULL)) {
        fprintf(stderr, "peerlsp-bench: host_provider failed\n");
        exit(1);
    }
    return lsp.lpWSPSend == base.lpWSPSend && lsp.lpWSPRecv == base.lpWSPRecv;
}

void bench_send_recv(int rounds, struct bench_pair *out, struct bench_pair *aa,
                     int *identical)
{
    const struct wsapi *api = host_api();
    SOCKADDR_STORAGE la, ba;
    int llen, blen;
    SOCKET ll = bench_listener(BENCH_LSP, &la, &llen);
    SOCKET bl = bench_listener(BENCH_BASE, &ba, &blen);
    struct pingpong_ctx lc, bc;

    lc.client = bench_tcp_pair(BENCH_LSP, ll, &la, llen, &lc.server);
    bc.client = bench_tcp_pair(BENCH_BASE, bl, &ba, blen, &bc.server);
    nodelay(lc.client);
    nodelay(lc.server);
    nodelay(bc.client);
    nodelay(bc.server);
    struct bench_op lop = { run_pingpong, &lc }, bop = { run_pingpong, &bc };
    bench_compare(&lop, &bop, rounds, 40.0, out);
    *identical = passthrough_identical();

    /* The noise floor: the same comparison between two base-provider
     * pairs (an A/A test), in the same way. */
    struct pingpong_ctx b2;
    b2.client = bench_tcp_pair(BENCH_BASE, bl, &ba, blen, &b2.server);
    nodelay(b2.client);
    nodelay(b2.server);
    struct bench_op b2op = { run_pingpong, &b2 };
    bench_compare(&b2op, &bop, rounds, 40.0, aa);

    SOCKET all[] = { lc.client, lc.server, bc.client, bc.server, b2.client, b2.server, ll, bl };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (api->closesocket(all[i]))
            bench_die("closesocket");
}

/* ---- connect/close ------------------------------------------------------- */

struct cycle_ctx {
    enum bench_path path;
    SOCKET listener; /* the base provider's, for both paths: the server side
                        is the same for both and is not timed */
    SOCKADDR_STORAGE addr;
    int len;
};

/* Times socket + connect + getpeername + close of the client; the accept
 * and close of the server side happen between the timed parts. */
static double run_cycles(void *p, long iters)
{
    struct cycle_ctx *c = p;
    const struct wsapi *api = host_api();
    double total = 0;

    for (long n = 0; n < iters; n++) {
        SOCKADDR_STORAGE peer;
        int plen = sizeof peer;

        double t0 = bench_now_ns();
        SOCKET s = bench_socket_raw(c->path, AF_INET, SOCK_STREAM);
        if (s == INVALID_SOCKET)
            bench_die("socket");
        if (api->connect(s, (const struct sockaddr *)&c->addr, c->len))
            bench_die("connect");
        if (api->getpeername(s, (struct sockaddr *)&peer, &plen))
            bench_die("getpeername");
        if (api->closesocket(s))
            bench_die("closesocket");
        total += bench_now_ns() - t0;

        SOCKET a = api->accept(c->listener, NULL, NULL);
        if (a == INVALID_SOCKET || api->closesocket(a))
            bench_die("accept/closesocket");
    }
    return total;
}

void bench_connect_close(int rounds, struct bench_pair *out)
{
    struct cycle_ctx lc = { .path = BENCH_LSP }, bc = { .path = BENCH_BASE };

    lc.listener = bench_listener(BENCH_BASE, &lc.addr, &lc.len);
    bc.listener = lc.listener;
    bc.addr = lc.addr;
    bc.len = lc.len;
    struct bench_op lop = { run_cycles, &lc }, bop = { run_cycles, &bc };
    bench_compare(&lop, &bop, rounds, 40.0, out);
    if (host_api()->closesocket(lc.listener))
        bench_die("closesocket");
}
