/*
 * ctab_fuzz_replay.c - runs the fuzz target without libFuzzer, so that any
 * compiler can build it and CTest can run its checks.
 *
 *   ctab_fuzz_replay FILE...      each file is one input (e.g. a crash or a
 *                                 corpus entry saved by libFuzzer)
 *   ctab_fuzz_replay -n COUNT     COUNT pseudo-random inputs (fixed seed)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_state = 0x853C49E6748FEA9Bull;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t size = 0, cap = 0, n;

    if (fp == NULL) {
        perror(path);
        return -1;
    }
    for (;;) {
        if (size == cap) {
            uint8_t *nb = realloc(buf, cap ? cap * 2 : 4096);
            if (nb == NULL) {
                fprintf(stderr, "%s: out of memory\n", path);
                free(buf);
                fclose(fp);
                return -1;
            }
            buf = nb;
            cap = cap ? cap * 2 : 4096;
        }
        n = fread(buf + size, 1, cap - size, fp);
        size += n;
        if (n == 0)
            break;
    }
    if (ferror(fp)) {
        perror(path);
        free(buf);
        fclose(fp);
        return -1;
    }
    fclose(fp);
    LLVMFuzzerTestOneInput(buf, size);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    static uint8_t buf[8192];
    unsigned long count, i;
    size_t size, j;
    int a;

    if (argc == 3 && strcmp(argv[1], "-n") == 0) {
        count = strtoul(argv[2], NULL, 10);
        for (i = 0; i < count; i++) {
            /* Mostly short inputs, some long ones (growth). */
            size = (size_t)(rng_next() % (i % 8 == 0 ? sizeof(buf) : 512));
            for (j = 0; j < size; j++)
                buf[j] = (uint8_t)rng_next();
            LLVMFuzzerTestOneInput(buf, size);
        }
        printf("ctab_fuzz_replay: %lu random inputs passed\n", count);
        return 0;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: ctab_fuzz_replay FILE... | -n COUNT\n");
        return 2;
    }
    for (a = 1; a < argc; a++)
        if (run_file(argv[a]) != 0)
            return 1;
    printf("ctab_fuzz_replay: %d inputs passed\n", argc - 1);
    return 0;
}
