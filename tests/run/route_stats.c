/*
 * route_stats.c - what --stats reports: the WSP calls the host made, how
 * getpeername was answered, bypasses and unknown handles. Written once, at
 * process exit (or when an unsupported call stops the program), to the
 * file named by PEERLSP_RUN_STATS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_ext.h"
#include "route.h"

static volatile LONG from_table, asked_below;

struct bypass {
    char dll[16];
    char name[64];
    volatile LONG64 calls;
};

static SRWLOCK bypass_lock = SRWLOCK_INIT;
static struct bypass **bypasses;
static size_t nbypasses, bypass_capacity;
static volatile LONG written;

void route_stats_getpeername(int below)
{
    InterlockedIncrement(below ? &asked_below : &from_table);
}

volatile LONG64 *route_stats_bypass_counter(const char *dll, const char *name)
{
    struct bypass *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    snprintf(b->dll, sizeof b->dll, "%s", dll);
    snprintf(b->name, sizeof b->name, "%s", name);
    AcquireSRWLockExclusive(&bypass_lock);
    if (nbypasses == bypass_capacity) {
        size_t capacity = bypass_capacity ? bypass_capacity * 2 : 64;
        struct bypass **grown = realloc(bypasses, capacity * sizeof *grown);
        if (!grown) {
            ReleaseSRWLockExclusive(&bypass_lock);
            free(b);
            return NULL;
        }
        bypasses = grown;
        bypass_capacity = capacity;
    }
    bypasses[nbypasses++] = b;
    ReleaseSRWLockExclusive(&bypass_lock);
    return &b->calls;
}

static void write_json(FILE *out)
{
    fprintf(out, "{\n  \"calls\": {");
    LONG count;
    const char *name;
    const char *sep = "";
    for (size_t i = 0; (name = host_call_count(i, &count)); i++) {
        fprintf(out, "%s\n    \"%s\": %ld", sep, name, count);
        sep = ",";
    }
    LONG64 total = 0;
    AcquireSRWLockShared(&bypass_lock);
    for (size_t i = 0; i < nbypasses; i++)
        total += bypasses[i]->calls;
    fprintf(out, "\n  },\n  \"getpeername_from_table\": %ld,\n  \"getpeername_asked_below\": %ld,\n",
            (long)from_table, (long)asked_below);
    fprintf(out, "  \"bypasses\": %lld,\n  \"bypassed\": [", (long long)total);
    sep = "";
    for (size_t i = 0; i < nbypasses; i++) {
        if (bypasses[i]->calls) {
            fprintf(out, "%s\"%s!%s\"", sep, bypasses[i]->dll, bypasses[i]->name);
            sep = ", ";
        }
    }
    ReleaseSRWLockShared(&bypass_lock);
    fprintf(out, "],\n  \"unknown_handles\": %ld\n}\n", host_unknown_handles());
}

void route_stats_write(void)
{
    if (InterlockedExchange(&written, 1))
        return;
    WCHAR path[MAX_PATH];
    DWORD n = GetEnvironmentVariableW(L"PEERLSP_RUN_STATS", path, MAX_PATH);
    if (!n || n >= MAX_PATH)
        return;
    FILE *out = _wfopen(path, L"w");
    if (!out) {
        route_say("cannot write the stats file (errno %d)", errno);
        return;
    }
    write_json(out);
    if (fclose(out))
        route_say("writing the stats file failed");
}
