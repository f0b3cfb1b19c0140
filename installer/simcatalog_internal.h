/*
 * simcatalog_internal.h - what simcatalog.c (the catalog and its WSC
 * functions) and simcatalog_file.c (snapshots) share. Not part of the API.
 */
#ifndef PEERLSP_SIMCATALOG_INTERNAL_H
#define PEERLSP_SIMCATALOG_INTERNAL_H

#include <stddef.h>

#include "simcatalog.h"

struct simcat_provider {
    GUID guid;
    WCHAR path[MAX_PATH];
    DWORD categories; /* ProviderInfoLspCategories */
};

/* An application's permitted LSP categories (WSCSetApplicationCategory). */
struct simcat_app {
    WCHAR path[MAX_PATH];
    WCHAR extra[SIMCAT_APP_EXTRA_MAX]; /* empty: no command line */
    DWORD permitted;
};

struct simcat {
    SRWLOCK lock; /* shared for readers, exclusive for the mutating calls */
    WSAPROTOCOL_INFOW *entries;
    size_t count, cap;
    struct simcat_provider *providers; /* sorted by simcat__guid_cmp */
    size_t nproviders, pcap;
    struct simcat_app *apps; /* sorted by simcat__app_cmp */
    size_t napps, acap;
    DWORD next_id;
    int fail_countdown; /* > 0: that many mutating calls until the injected failure */
    int fail_error;
};

/* Readers of a const catalog still take its lock. */
SRWLOCK *simcat__cat_lock(const struct simcat *cat);
/* Orders GUIDs as their text form sorts. */
int simcat__guid_cmp(const GUID *a, const GUID *b);
struct simcat_provider *simcat__provider_find(const struct simcat *cat, const GUID *guid);
/* Index of the entry with that id, or -1. */
ptrdiff_t simcat__entry_index(const struct simcat *cat, DWORD id);
/* Non-empty and shorter than MAX_PATH. */
int simcat__path_valid(const WCHAR *path);
/* 0 <= ChainLen <= MAX_PROTOCOL_CHAIN. */
int simcat__chain_valid(const WSAPROTOCOL_INFOW *info);
/* Grows *array to hold `need` elements; 0 when out of memory. */
int simcat__reserve(void **array, size_t *cap, size_t need, size_t elem);
/* Inserts in GUID order; capacity reserved by the caller. */
void simcat__provider_insert(struct simcat *cat, const struct simcat_provider *rec);
/* Orders application records: path without regard to ASCII case, then
 * extra exactly (0 = the same application). */
int simcat__app_cmp(const WCHAR *path_a, const WCHAR *extra_a, const WCHAR *path_b,
                    const WCHAR *extra_b);
/* Inserts or replaces (same path and extra) keeping the order; returns 0 or
 * WSA_NOT_ENOUGH_MEMORY. */
int simcat__app_put(struct simcat *cat, const struct simcat_app *rec);

#endif /* PEERLSP_SIMCATALOG_INTERNAL_H */
