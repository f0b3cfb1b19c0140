/*
 * memlat.c - native: the machine's dependent random-load latency over a
 * working set, in ns per load (a pointer chase through a random cycle of
 * 64-byte nodes). scripts/bench-native.sh prints it next to the table's
 * lookup times: a table lookup at 1,000,000 entries makes dependent loads
 * (index slot, then record) that miss every cache, so this bounds it.
 *
 *   memlat BYTES
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct node {
    struct node *next;
    char pad[64 - sizeof(struct node *)];
};

int main(int argc, char **argv)
{
    size_t bytes = argc > 1 ? strtoull(argv[1], NULL, 10) : 64u << 20;
    size_t n = bytes / sizeof(struct node), i, steps = 4000000;
    struct node *v = malloc(n * sizeof *v);
    size_t *order = malloc(n * sizeof *order);
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    struct timespec a, b;

    if (n < 2 || v == NULL || order == NULL) {
        fprintf(stderr, "memlat: bad size or out of memory\n");
        return 1;
    }
    for (i = 0; i < n; i++)
        order[i] = i;
    for (i = n - 1; i > 0; i--) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        size_t j = (size_t)((rng >> 33) % (i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (i = 0; i < n; i++)
        v[order[i]].next = &v[order[(i + 1) % n]];
    struct node *p = &v[order[0]];
    for (i = 0; i < n; i++)
        p = p->next;
    if (clock_gettime(CLOCK_MONOTONIC, &a) != 0)
        return 1;
    for (i = 0; i < steps; i++)
        p = p->next;
    if (clock_gettime(CLOCK_MONOTONIC, &b) != 0)
        return 1;
    double ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / steps;
    printf("%.2f\n", p == NULL ? -1.0 : ns);
    free(v);
    free(order);
    return 0;
}
