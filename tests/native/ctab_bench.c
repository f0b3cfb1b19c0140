/*
 * ctab_bench - lookup time and memory of the connection table, as one JSON
 * line:
 *
 *   {"lookup_ns_1k": ..., "lookup_ns_1m": ..., "ratio_1m_to_1k": ...,
 *    "bytes_per_entry": ..., ...}
 *
 * lookup_ns_N: a table of N socket-like keys (multiples of 4, each with an
 * AF_INET6-sized peer), LOOKUPS successful lookups per round in a random
 * order (shuffled passes over all N keys), ROUNDS rounds, the median round's
 * nanoseconds per lookup.  bytes_per_entry: plsp_ctab_memory() / count at
 * 1,000,000 such entries (every allocation the table made, retired indexes
 * and blocks included).
 */
#include "bench_time.h" /* first: it sets _POSIX_C_SOURCE */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conntable.h"

#define ROUNDS 7
#define LOOKUPS 2000000u
#define BIG 1000000u
#define SMALL 1000u

static uint64_t key_of(size_t i)
{
    return 0x100u + 4u * (uint64_t)i;
}

static struct plsp_ctab *build(size_t n)
{
    struct plsp_ctab *t = plsp_ctab_create();
    uint8_t peer[PLSP_PEER_MAX];
    size_t i;

    if (t == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        memset(peer, (int)(i & 0xff), sizeof(peer));
        peer[0] = 23; /* AF_INET6 */
        if (plsp_ctab_insert(t, key_of(i), 1) != 0 ||
            plsp_ctab_set_peer(t, key_of(i), PLSP_ANY_GEN, peer, sizeof(peer)) != 1) {
            plsp_ctab_destroy(t);
            return NULL;
        }
    }
    return t;
}

/* LOOKUPS keys: shuffled passes over all n keys. */
static uint64_t *lookup_order(size_t n)
{
    uint64_t *keys = malloc(LOOKUPS * sizeof(*keys));
    size_t i, base, j, len;

    if (keys == NULL)
        return NULL;
    for (base = 0; base < LOOKUPS; base += n) {
        len = LOOKUPS - base < n ? LOOKUPS - base : n;
        for (i = 0; i < len; i++)
            keys[base + i] = key_of(i);
        for (i = len - 1; i > 0; i--) {
            uint64_t tmp;
            j = (size_t)(bench_rng_next() % (i + 1));
            tmp = keys[base + i];
            keys[base + i] = keys[base + j];
            keys[base + j] = tmp;
        }
    }
    return keys;
}

/* Median ns per lookup over ROUNDS rounds, or a negative value on failure. */
static double measure(const struct plsp_ctab *t, const uint64_t *keys)
{
    double samples[ROUNDS], start;
    struct plsp_conn conn;
    uint32_t check = 0;
    size_t r, i, found;

    for (r = 0; r < ROUNDS; r++) {
        found = 0;
        start = bench_now_ns();
        for (i = 0; i < LOOKUPS; i++) {
            found += (size_t)plsp_ctab_lookup(t, keys[i], &conn);
            check += conn.peer[1];
        }
        samples[r] = (bench_now_ns() - start) / LOOKUPS;
        if (found != LOOKUPS) {
            fprintf(stderr, "ctab_bench: %zu of %u lookups found their key\n", found, LOOKUPS);
            return -1.0;
        }
    }
    /* Keeps the copies observable, so the compiler cannot drop them. */
    if (check == 0xdeadbeef)
        fprintf(stderr, "ctab_bench: unlikely checksum\n");
    qsort(samples, ROUNDS, sizeof(samples[0]), bench_cmp_double);
    return samples[ROUNDS / 2];
}

int main(void)
{
    struct plsp_ctab *small = build(SMALL), *big = build(BIG);
    uint64_t *small_keys = lookup_order(SMALL), *big_keys = lookup_order(BIG);
    double ns_small, ns_big, bpe;

    if (small == NULL || big == NULL || small_keys == NULL || big_keys == NULL) {
        fprintf(stderr, "ctab_bench: out of memory building the tables\n");
        return 1;
    }
    if (plsp_ctab_count(big) != BIG) {
        fprintf(stderr, "ctab_bench: count %zu, expected %u\n", plsp_ctab_count(big), BIG);
        return 1;
    }
    ns_small = measure(small, small_keys);
    ns_big = measure(big, big_keys);
    if (ns_small <= 0 || ns_big <= 0)
        return 1;
    bpe = (double)plsp_ctab_memory(big) / (double)plsp_ctab_count(big);
    printf("{\"lookup_ns_1k\": %.2f, \"lookup_ns_1m\": %.2f, \"ratio_1m_to_1k\": %.2f, "
           "\"bytes_per_entry\": %.2f, \"memory_bytes_1m\": %zu, \"entries_1m\": %zu, "
           "\"lookups_per_round\": %u, \"rounds\": %d}\n",
           ns_small, ns_big, ns_big / ns_small, bpe, plsp_ctab_memory(big),
           plsp_ctab_count(big), LOOKUPS, ROUNDS);
    plsp_ctab_destroy(small);
    plsp_ctab_destroy(big);
    free(small_keys);
    free(big_keys);
    return 0;
}
