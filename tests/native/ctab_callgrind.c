/*
 * ctab_callgrind - instructions per successful plsp_ctab_lookup.
 *
 *   ctab_callgrind [entries [lookups]]      (defaults 1000000 and 1000000)
 *
 * Builds a table of `entries` socket-like keys (multiples of 4, with a peer
 * set, as the DLL has them), then calls run_lookups(), which does `lookups`
 * successful lookups in a random order and nothing else.  Run it as
 *
 *   valgrind --tool=callgrind --toggle-collect=run_lookups ./ctab_callgrind
 *
 * and divide the instructions collected (callgrind's "Collected" / totals
 * line, Ir) by `lookups`: that is per lookup including run_lookups' loop
 * (about 6 instructions: load key, call, add, compare, branch).
 * --toggle-collect=plsp_ctab_lookup instead counts the lookup function
 * alone.  scripts/table-metrics.sh does both.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "conntable.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

/* splitmix64: a fixed seed makes every run do the same lookups. */
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The measured function: successful lookups and their loop, nothing more.
 * noinline keeps it a function that --toggle-collect can name. */
__attribute__((noinline)) size_t run_lookups(const struct plsp_ctab *table, const uint64_t *keys,
                                             size_t n, struct plsp_conn *out)
{
    size_t found = 0, i;

    for (i = 0; i < n; i++)
        found += (size_t)plsp_ctab_lookup(table, keys[i], out);
    return found;
}

static size_t parse_count(const char *s, size_t fallback)
{
    char *end;
    unsigned long long v;

    if (s == NULL)
        return fallback;
    v = strtoull(s, &end, 10);
    if (*end != '\0' || v == 0 || v > 100000000ull) {
        fprintf(stderr, "ctab_callgrind: bad count '%s'\n", s);
        exit(2);
    }
    return (size_t)v;
}

int main(int argc, char **argv)
{
    size_t entries = parse_count(argc > 1 ? argv[1] : NULL, 1000000);
    size_t lookups = parse_count(argc > 2 ? argv[2] : NULL, 1000000);
    uint8_t peer[PLSP_PEER_MAX] = {23, 0};
    struct plsp_ctab *table = plsp_ctab_create();
    uint64_t *keys = malloc(lookups * sizeof(*keys));
    struct plsp_conn conn;
    size_t i, found;

    if (table == NULL || keys == NULL) {
        fprintf(stderr, "ctab_callgrind: out of memory\n");
        return 1;
    }
    for (i = 0; i < entries; i++) {
        uint64_t key = 0x100 + 4 * (uint64_t)i;
        if (plsp_ctab_insert(table, key, 1) != 0 ||
            plsp_ctab_set_peer(table, key, PLSP_ANY_GEN, peer, sizeof(peer)) != 1) {
            fprintf(stderr, "ctab_callgrind: insert %zu failed\n", i);
            return 1;
        }
    }
    for (i = 0; i < lookups; i++)
        keys[i] = 0x100 + 4 * (rng_next() % entries);

    found = run_lookups(table, keys, lookups, &conn);
    if (found != lookups) {
        fprintf(stderr, "ctab_callgrind: %zu of %zu lookups found their key\n", found, lookups);
        return 1;
    }
    printf("{\"entries\": %zu, \"lookups\": %zu}\n", entries, lookups);
    plsp_ctab_destroy(table);
    free(keys);
    return 0;
}
