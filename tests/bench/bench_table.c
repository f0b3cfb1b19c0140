/*
 * bench_table.c - the connection table at sizes no Wine process can reach
 * with real sockets (the wineserver's descriptor limit here is 20,000,
 * shared by every Wine process of the prefix).
 *
 * src/conntable.c is compiled into this program by the same compiler with
 * the same flags as into peerlsp.dll, and filled through its own interface
 * (plsp_ctab_insert + plsp_ctab_set_peer, AF_INET6-sized peers, keys spaced
 * like socket handles). The shipped DLL has no back door to fill its table,
 * so this table is a separate instance of the same code: it measures what
 * growing the table costs a getpeername, which bench_main.c adds to a
 * getpeername measured through the DLL with real sockets.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conntable.h"

static uint64_t key_of(size_t i)
{
    return 0x1000u + 4u * (uint64_t)i;
}

static double run_lookups(const struct plsp_ctab *t, const uint64_t *keys, size_t nkeys,
                          long iters)
{
    struct plsp_conn conn;
    size_t i = 0;
    long found = 0;
    unsigned check = 0;

    double t0 = bench_now_ns();
    for (long n = 0; n < iters; n++) {
        found += plsp_ctab_lookup(t, keys[i], &conn);
        check += conn.peer[3];
        if (++i == nkeys)
            i = 0;
    }
    double t1 = bench_now_ns();
    if (found != iters) {
        fprintf(stderr, "peerlsp-bench: %ld of %ld table lookups found their key\n", found,
                iters);
        exit(1);
    }
    /* Keeps the copies observable. */
    if (check == 0xdeadbeef)
        fputs("", stderr);
    return (t1 - t0) / (double)iters;
}

double bench_table_lookup_ns(size_t entries, int rounds)
{
    struct plsp_ctab *t = plsp_ctab_create();
    uint64_t *keys = malloc(entries * sizeof *keys);
    uint8_t peer[PLSP_PEER_MAX];
    unsigned long long rng = 0xda3e39cb94b95bdbull;
    double v[64];

    if (!t || !keys) {
        fprintf(stderr, "peerlsp-bench: out of memory for the table\n");
        exit(1);
    }
    for (size_t i = 0; i < entries; i++) {
        memset(peer, (int)(i & 0xff), sizeof peer);
        peer[0] = AF_INET6;
        peer[1] = 0;
        if (plsp_ctab_insert(t, key_of(i), 1) != 0 ||
            plsp_ctab_set_peer(t, key_of(i), PLSP_ANY_GEN, peer, sizeof peer) != 1) {
            fprintf(stderr, "peerlsp-bench: table insert %zu failed\n", i);
            exit(1);
        }
        keys[i] = key_of(i);
    }
    for (size_t i = entries - 1; i > 0; i--) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        size_t j = (size_t)((rng >> 33) % (i + 1));
        uint64_t k = keys[i];
        keys[i] = keys[j];
        keys[j] = k;
    }
    if (rounds > 64)
        rounds = 64;
    /* 2,000,000 lookups a round: every key of 100,000 twenty times over. */
    run_lookups(t, keys, entries, 2000000);
    for (int r = 0; r < rounds; r++)
        v[r] = run_lookups(t, keys, entries, 2000000);
    plsp_ctab_destroy(t);
    free(keys);
    return bench_median(v, rounds);
}
