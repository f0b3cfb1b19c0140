/*
 * bench_peer.c - getpeername through peerlsp and on the base provider
 * alone: one connected TCP socket, and many connected UDP sockets called in
 * a random order.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

#include <peerlsp/peerlsp.h>

#include "tbase.h"

/* Handles to call, in the order to call them (one handle: over and over). */
struct peer_ctx {
    enum bench_path path;
    const SOCKET *handles;
    long count;
    long next;
};

static double run_getpeername(void *p, long iters)
{
    struct peer_ctx *c = p;
    const struct wsapi *api = host_api();
    SOCKADDR_STORAGE name;
    long before = bench_base_getpeername_calls(), i = c->next;
    int failed = 0;

    double t0 = bench_now_ns();
    for (long n = 0; n < iters; n++) {
        int len = sizeof name;
        failed |= api->getpeername(c->handles[i], (struct sockaddr *)&name, &len);
        if (++i == c->count)
            i = 0;
    }
    double t1 = bench_now_ns();
    c->next = i;
    if (failed)
        bench_die("getpeername");
    /* What the figure claims: through peerlsp, the base provider is never
     * asked (the answer comes from the table); on the base path it is asked
     * every time. */
    long asked = bench_base_getpeername_calls() - before;
    if (asked != (c->path == BENCH_LSP ? 0 : iters)) {
        fprintf(stderr, "peerlsp-bench: %s path: base provider asked %ld times in %ld calls\n",
                bench_path_names[c->path], asked, iters);
        exit(1);
    }
    return t1 - t0;
}

/* The provider's WSPGetPeerName called straight from its proc table: the
 * same figure without the host's routing (what ws2_32's own share would
 * be), to show how much of the API-level figure is the router's. */
struct spi_ctx {
    LPWSPGETPEERNAME fn;
    SOCKET s;
};

static double run_spi(void *p, long iters)
{
    struct spi_ctx *c = p;
    SOCKADDR_STORAGE name;
    int failed = 0, err = 0;

    double t0 = bench_now_ns();
    for (long n = 0; n < iters; n++) {
        int len = sizeof name;
        failed |= c->fn(c->s, (struct sockaddr *)&name, &len, &err);
    }
    double t1 = bench_now_ns();
    if (failed)
        bench_die("WSPGetPeerName");
    return t1 - t0;
}

static LPWSPGETPEERNAME provider_getpeername(const GUID *guid)
{
    WSPPROC_TABLE procs;
    int err = host_provider(guid, &procs, NULL);
    if (err) {
        fprintf(stderr, "peerlsp-bench: host_provider: %d\n", err);
        exit(1);
    }
    return procs.lpWSPGetPeerName;
}

void bench_getpeername_one(int rounds, struct bench_pair *out, struct bench_pair *spi)
{
    static const GUID lsp_guid = PEERLSP_GUID_INIT;
    SOCKADDR_STORAGE la, ba;
    int llen, blen;
    SOCKET ll = bench_listener(BENCH_LSP, &la, &llen);
    SOCKET bl = bench_listener(BENCH_BASE, &ba, &blen);
    SOCKET ls, lacc, bs, bacc;

    ls = bench_tcp_pair(BENCH_LSP, ll, &la, llen, &lacc);
    bs = bench_tcp_pair(BENCH_BASE, bl, &ba, blen, &bacc);
    struct peer_ctx lc = { BENCH_LSP, &ls, 1, 0 }, bc = { BENCH_BASE, &bs, 1, 0 };
    struct bench_op lop = { run_getpeername, &lc }, bop = { run_getpeername, &bc };
    bench_compare(&lop, &bop, rounds, 20.0, out);

    struct spi_ctx ls_spi = { provider_getpeername(&lsp_guid), ls };
    struct spi_ctx bs_spi = { provider_getpeername(&TBASE_GUID_IPV4), bs };
    struct bench_op lsop = { run_spi, &ls_spi }, bsop = { run_spi, &bs_spi };
    bench_compare(&lsop, &bsop, rounds, 20.0, spi);

    const struct wsapi *api = host_api();
    SOCKET all[] = { ls, lacc, bs, bacc, ll, bl };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (api->closesocket(all[i]))
            bench_die("closesocket");
}

static void shuffle(SOCKET *v, long n, unsigned long long *rng)
{
    for (long i = n - 1; i > 0; i--) {
        *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
        long j = (long)((*rng >> 33) % (unsigned long long)(i + 1));
        SOCKET t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

/* n UDP sockets of the path, each connected to server (so each has a peer
 * and, through peerlsp, a KNOWN record). */
static SOCKET *udp_connected(enum bench_path path, int n, const SOCKADDR_STORAGE *server,
                             int len)
{
    const struct wsapi *api = host_api();
    SOCKET *v = malloc((size_t)n * sizeof *v);
    if (!v)
        bench_die("malloc");
    for (int i = 0; i < n; i++) {
        v[i] = bench_socket(path, AF_INET, SOCK_DGRAM);
        if (api->connect(v[i], (const struct sockaddr *)server, len))
            bench_die("connect (UDP)");
    }
    return v;
}

void bench_getpeername_many(int n, int rounds, struct bench_pair *out)
{
    const struct wsapi *api = host_api();
    unsigned long long rng = 0x853c49e6748fea9bull;
    SOCKADDR_STORAGE sa;
    int slen;
    SOCKET server = bench_udp_server(&sa, &slen);
    SOCKET *lv = udp_connected(BENCH_LSP, n, &sa, slen);
    SOCKET *bv = udp_connected(BENCH_BASE, n, &sa, slen);

    shuffle(lv, n, &rng);
    shuffle(bv, n, &rng);
    struct peer_ctx lc = { BENCH_LSP, lv, n, 0 }, bc = { BENCH_BASE, bv, n, 0 };
    struct bench_op lop = { run_getpeername, &lc }, bop = { run_getpeername, &bc };
    bench_compare(&lop, &bop, rounds, 20.0, out);

    for (int i = 0; i < n; i++)
        if (api->closesocket(lv[i]) || api->closesocket(bv[i]))
            bench_die("closesocket");
    if (api->closesocket(server))
        bench_die("closesocket");
    free(lv);
    free(bv);
}
