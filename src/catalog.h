/*
 * catalog.h - a read of the Winsock catalog, as WSCEnumProtocols gives it.
 */
#ifndef PEERLSP_CATALOG_H
#define PEERLSP_CATALOG_H

#include <winsock2.h>
#include <ws2spi.h>

struct plsp_catalog {
    WSAPROTOCOL_INFOW *entries;
    size_t count;
};

/* Reads every entry (hidden and layered ones too). Returns 0 or a WSA error. */
int plsp_catalog_read(struct plsp_catalog *cat);
void plsp_catalog_free(struct plsp_catalog *cat);

/* The entry with that catalog id, or NULL. */
const WSAPROTOCOL_INFOW *plsp_catalog_find(const struct plsp_catalog *cat, DWORD id);

/* The id of peerlsp's own hidden layered entry: the ChainLen 0 entry with
 * peerlsp's GUID. Returns 0, or WSAEPROVIDERFAILEDINIT when there is none. */
int plsp_catalog_own_layer(const struct plsp_catalog *cat, DWORD *id);

#endif /* PEERLSP_CATALOG_H */
