/*
 * catalog.c - reading the Winsock catalog at WSPStartup.
 */
#include "catalog.h"

#include <peerlsp/peerlsp.h>

static const GUID plsp_guid = PEERLSP_GUID_INIT;

/* The catalog can change between the size query and the read (another
 * program installing a provider), so the read is retried a few times. */
#define PLSP_CATALOG_READ_TRIES 4

int plsp_catalog_read(struct plsp_catalog *cat)
{
    DWORD size = 0;
    int err = 0;

    cat->entries = NULL;
    cat->count = 0;
    for (int attempt = 0; attempt < PLSP_CATALOG_READ_TRIES; attempt++) {
        int n = WSCEnumProtocols(NULL, cat->entries, &size, &err);
        if (n != SOCKET_ERROR) {
            if (n <= 0 || !cat->entries)
                break; /* an empty catalog cannot hold peerlsp */
            cat->count = (size_t)n;
            return 0;
        }
        if (err != WSAENOBUFS || size == 0)
            break;
        if (cat->entries)
            HeapFree(GetProcessHeap(), 0, cat->entries);
        cat->entries = HeapAlloc(GetProcessHeap(), 0, size);
        if (!cat->entries)
            return WSA_NOT_ENOUGH_MEMORY;
    }
    plsp_catalog_free(cat);
    return WSAEPROVIDERFAILEDINIT;
}

void plsp_catalog_free(struct plsp_catalog *cat)
{
    if (cat->entries)
        HeapFree(GetProcessHeap(), 0, cat->entries);
    cat->entries = NULL;
    cat->count = 0;
}

const WSAPROTOCOL_INFOW *plsp_catalog_find(const struct plsp_catalog *cat, DWORD id)
{
    for (size_t i = 0; i < cat->count; i++) {
        if (cat->entries[i].dwCatalogEntryId == id)
            return &cat->entries[i];
    }
    return NULL;
}

int plsp_catalog_own_layer(const struct plsp_catalog *cat, DWORD *id)
{
    for (size_t i = 0; i < cat->count; i++) {
        const WSAPROTOCOL_INFOW *e = &cat->entries[i];
        if (e->ProtocolChain.ChainLen == LAYERED_PROTOCOL && IsEqualGUID(&e->ProviderId, &plsp_guid)) {
            *id = e->dwCatalogEntryId;
            return 0;
        }
    }
    return WSAEPROVIDERFAILEDINIT;
}
