/*
 * host_catalog.c - building test catalogs: tbase as the base provider and
 * LSPs over it, the way Windows' installers lay them out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "host_internal.h"
#include "tbase.h"

/* The whole catalog in order; *count entries, free() the result. */
static WSAPROTOCOL_INFOW *catalog_read(const struct simcat *cat, DWORD *count, int *err)
{
    DWORD len = 0;
    *count = 0;
    if (simcat_enum(cat, NULL, NULL, &len, err) != SOCKET_ERROR)
        return calloc(1, sizeof(WSAPROTOCOL_INFOW)); /* empty catalog */
    if (*err != WSAENOBUFS)
        return NULL;
    WSAPROTOCOL_INFOW *all = malloc(len);
    if (!all) {
        *err = WSA_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    int n = simcat_enum(cat, NULL, all, &len, err);
    if (n == SOCKET_ERROR) {
        free(all);
        return NULL;
    }
    *count = (DWORD)n;
    return all;
}

DWORD host_catalog_find(const struct simcat *cat, int af, int type, int chain_len)
{
    DWORD n, id = 0;
    int err;
    WSAPROTOCOL_INFOW *all = catalog_read(cat, &n, &err);
    for (DWORD i = 0; all && i < n && !id; i++) {
        if (all[i].iAddressFamily == af && all[i].iSocketType == type &&
            all[i].ProtocolChain.ChainLen == chain_len)
            id = all[i].dwCatalogEntryId;
    }
    free(all);
    return id;
}

/* ---- tbase as the base provider ---------------------------------------- */

static const struct {
    int af, type, protocol;
} base_protocols[HOST_BASE_COUNT] = {
    [HOST_BASE_TCP4] = { AF_INET, SOCK_STREAM, IPPROTO_TCP },
    [HOST_BASE_UDP4] = { AF_INET, SOCK_DGRAM, IPPROTO_UDP },
    [HOST_BASE_TCP6] = { AF_INET6, SOCK_STREAM, IPPROTO_TCP },
    [HOST_BASE_UDP6] = { AF_INET6, SOCK_DGRAM, IPPROTO_UDP },
};

/* Wine's own catalog (WSAEnumProtocolsW): *all is the caller's to free.
 * Returns 0 or a WSA error code. */
static int wine_catalog(WSAPROTOCOL_INFOW **all, int *n)
{
    WSADATA data;
    int err = WSAStartup(MAKEWORD(2, 2), &data);
    if (err)
        return err;
    DWORD len = 0;
    *all = NULL;
    *n = WSAEnumProtocolsW(NULL, NULL, &len);
    if (*n == SOCKET_ERROR && WSAGetLastError() == WSAENOBUFS && (*all = malloc(len)))
        *n = WSAEnumProtocolsW(NULL, *all, &len);
    err = !*all ? WSA_NOT_ENOUGH_MEMORY : *n == SOCKET_ERROR ? WSAGetLastError() : 0;
    WSACleanup();
    if (err) {
        free(*all);
        *all = NULL;
    }
    return err;
}

/* Wine's own entries for the four protocols: realistic field values. */
static int wine_base_entries(WSAPROTOCOL_INFOW out[HOST_BASE_COUNT])
{
    WSAPROTOCOL_INFOW *all = NULL;
    int n = 0;
    int err = wine_catalog(&all, &n);
    for (int k = 0; k < HOST_BASE_COUNT && !err; k++) {
        int found = 0;
        for (int i = 0; i < n && !found; i++) {
            if (all[i].iAddressFamily == base_protocols[k].af &&
                all[i].iSocketType == base_protocols[k].type &&
                all[i].iProtocol == base_protocols[k].protocol &&
                all[i].ProtocolChain.ChainLen == BASE_PROTOCOL) {
                out[k] = all[i];
                found = 1;
            }
        }
        if (!found)
            err = WSAEPROTONOSUPPORT;
    }
    free(all);
    return err;
}

int host_catalog_add_base(struct simcat *cat, const wchar_t *tbase_path,
                          DWORD ids_out[HOST_BASE_COUNT])
{
    WSAPROTOCOL_INFOW entries[HOST_BASE_COUNT];
    DWORD ids[HOST_BASE_COUNT];
    int err = wine_base_entries(entries);
    if (err)
        return err;
    for (int k = 0; k < HOST_BASE_COUNT; k++) {
        entries[k].dwServiceFlags1 |= XP1_IFS_HANDLES;
        entries[k].ProtocolChain.ChainLen = BASE_PROTOCOL;
        /* tbase reads a non-zero value as a duplicated socket's info. */
        entries[k].dwProviderReserved = 0;
    }
    GUID v4 = TBASE_GUID_IPV4, v6 = TBASE_GUID_IPV6;
    if (simcat_install(cat, &v4, tbase_path, &entries[HOST_BASE_TCP4], 2, &ids[HOST_BASE_TCP4],
                       &err) == SOCKET_ERROR)
        return err;
    if (simcat_install(cat, &v6, tbase_path, &entries[HOST_BASE_TCP6], 2, &ids[HOST_BASE_TCP6],
                       &err) == SOCKET_ERROR) {
        int ignored;
        simcat_deinstall(cat, &v4, &ignored);
        return err;
    }
    if (ids_out)
        memcpy(ids_out, ids, sizeof ids);
    return 0;
}

/* Every entry of Wine's own catalog, served by tbase, plus the two RAW
 * entries Windows has and Wine's catalog lacks (Wine's socket() makes raw
 * sockets without looking at its catalog; ws2_32 on Windows needs an
 * entry). A routed program then finds an entry for every socket it could
 * make directly on Wine. */
static int add_family(struct simcat *cat, const wchar_t *tbase_path, GUID guid,
                      const WSAPROTOCOL_INFOW *all, int n, int af, int with_raw)
{
    WSAPROTOCOL_INFOW *mine = calloc((size_t)n + 1, sizeof *mine);
    if (!mine)
        return WSA_NOT_ENOUGH_MEMORY;
    DWORD count = 0, ids[64];
    const WSAPROTOCOL_INFOW *udp = NULL;
    for (int i = 0; i < n && count < ARRAYSIZE(ids) - 1; i++) {
        if (all[i].iAddressFamily != af || all[i].ProtocolChain.ChainLen != BASE_PROTOCOL)
            continue;
        if (all[i].iSocketType == SOCK_DGRAM && all[i].iProtocol == IPPROTO_UDP)
            udp = &all[i];
        mine[count++] = all[i];
    }
    if (with_raw && udp) {
        /* As Windows' "MSAFD Tcpip [RAW/IP]": any protocol 0..255. */
        WSAPROTOCOL_INFOW *raw = &mine[count++];
        *raw = *udp;
        raw->iSocketType = SOCK_RAW;
        raw->iProtocol = 0;
        raw->iProtocolMaxOffset = 255;
        raw->dwProviderFlags |= PFL_MATCHES_PROTOCOL_ZERO;
        swprintf(raw->szProtocol, WSAPROTOCOL_LEN + 1, L"%ls", af == AF_INET6 ? L"RAW/IPv6" : L"RAW/IP");
    }
    int err = 0;
    for (DWORD k = 0; k < count; k++) {
        mine[k].dwServiceFlags1 |= XP1_IFS_HANDLES;
        mine[k].ProtocolChain.ChainLen = BASE_PROTOCOL;
        mine[k].dwProviderReserved = 0; /* tbase reads non-zero as a duplicate */
    }
    if (count && simcat_install(cat, &guid, tbase_path, mine, count, ids, &err) == SOCKET_ERROR) {
        free(mine);
        return err;
    }
    free(mine);
    return 0;
}

int host_catalog_add_wine_catalog(struct simcat *cat, const wchar_t *tbase_path)
{
    WSAPROTOCOL_INFOW *all = NULL;
    int n = 0;
    int err = wine_catalog(&all, &n);
    GUID v4 = TBASE_GUID_IPV4, v6 = TBASE_GUID_IPV6, other = TBASE_GUID_OTHER;
    if (!err)
        err = add_family(cat, tbase_path, v4, all, n, AF_INET, 1);
    if (!err)
        err = add_family(cat, tbase_path, v6, all, n, AF_INET6, 1);
    if (!err)
        err = add_family(cat, tbase_path, other, all, n, AF_IPX, 0);
    free(all);
    return err;
}

/* ---- LSPs --------------------------------------------------------------- */

/* "<name> over <lower>", cut to what szProtocol holds. */
static void chain_name(WCHAR out[WSAPROTOCOL_LEN + 1], const WCHAR *name, const WCHAR *lower)
{
    const WCHAR *parts[3] = { name, L" over ", lower };
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        for (const WCHAR *c = parts[i]; *c && n < WSAPROTOCOL_LEN; c++)
            out[n++] = *c;
    }
    out[n] = 0;
}

static void set_name(WCHAR out[WSAPROTOCOL_LEN + 1], const WCHAR *name)
{
    size_t n = wcsnlen(name, WSAPROTOCOL_LEN);
    memcpy(out, name, n * sizeof(WCHAR));
    out[n] = 0;
}

static int guid_in_use(const struct simcat *cat, const GUID *g, const GUID *taken, DWORD ntaken)
{
    int len = 0, err = 0;
    simcat_get_path(cat, (GUID *)g, NULL, &len, &err);
    if (err != WSAEINVAL)
        return 1; /* the catalog knows it (WSAEFAULT: it has a path) */
    for (DWORD i = 0; i < ntaken; i++) {
        if (IsEqualGUID(&taken[i], g))
            return 1;
    }
    return 0;
}

/* The hidden layered entry, modelled on the first entry layered over. */
static void layered_entry(WSAPROTOCOL_INFOW *l, const WSAPROTOCOL_INFOW *model,
                          const WCHAR *name)
{
    *l = *model;
    l->iSocketType = 0;
    l->iProtocol = 0;
    l->iProtocolMaxOffset = 0;
    l->dwProviderFlags |= PFL_HIDDEN;
    l->dwProviderFlags &= ~(DWORD)(PFL_MATCHES_PROTOCOL_ZERO | PFL_RECOMMENDED_PROTO_ENTRY);
    l->dwProviderReserved = 0;
    memset(&l->ProtocolChain, 0, sizeof l->ProtocolChain);
    l->ProtocolChain.ChainLen = LAYERED_PROTOCOL;
    set_name(l->szProtocol, name);
}

/* A chain over `lower`: [layered, lower's chain...]; 0 or WSAEINVAL. */
static int chain_entry(WSAPROTOCOL_INFOW *c, const WSAPROTOCOL_INFOW *lower, DWORD layered_id,
                       const WCHAR *name)
{
    int lower_len = lower->ProtocolChain.ChainLen;
    if (lower_len < BASE_PROTOCOL || lower_len >= MAX_PROTOCOL_CHAIN)
        return WSAEINVAL;
    *c = *lower;
    c->dwProviderFlags &= ~(DWORD)PFL_HIDDEN;
    c->ProtocolChain.ChainLen = lower_len + 1;
    c->ProtocolChain.ChainEntries[0] = layered_id;
    if (lower_len == BASE_PROTOCOL)
        c->ProtocolChain.ChainEntries[1] = lower->dwCatalogEntryId;
    else
        memcpy(&c->ProtocolChain.ChainEntries[1], lower->ProtocolChain.ChainEntries,
               (size_t)lower_len * sizeof(DWORD));
    chain_name(c->szProtocol, name, lower->szProtocol);
    return 0;
}

static const WSAPROTOCOL_INFOW *find_id(const WSAPROTOCOL_INFOW *all, DWORD n, DWORD id)
{
    for (DWORD i = 0; i < n; i++) {
        if (all[i].dwCatalogEntryId == id)
            return &all[i];
    }
    return NULL;
}

/* Moves the chains to the front, the rest keeping its order. */
static int chains_first(struct simcat *cat, const DWORD *chain_ids, DWORD nchains)
{
    DWORD n;
    int err;
    WSAPROTOCOL_INFOW *all = catalog_read(cat, &n, &err);
    if (!all)
        return err;
    DWORD *order = malloc((n ? n : 1) * sizeof *order);
    if (!order) {
        free(all);
        return WSA_NOT_ENOUGH_MEMORY;
    }
    DWORD k = 0;
    for (DWORD i = 0; i < nchains; i++)
        order[k++] = chain_ids[i];
    for (DWORD i = 0; i < n; i++) {
        int is_chain = 0;
        for (DWORD j = 0; j < nchains && !is_chain; j++)
            is_chain = all[i].dwCatalogEntryId == chain_ids[j];
        if (!is_chain)
            order[k++] = all[i].dwCatalogEntryId;
    }
    err = simcat_write_order(cat, order, k);
    free(order);
    free(all);
    return err;
}

/* Installs the layered entry (entries[0]) and the chains (entries[1..n]),
 * fills *ids and moves the chains first; on failure removes what it
 * installed. */
static int install_entries(struct simcat *cat, const wchar_t *path, const GUID *layered_guid,
                           enum host_chain_guids mode, WSAPROTOCOL_INFOW *entries, DWORD nchains,
                           struct host_lsp_ids *ids)
{
    GUID lguid = *layered_guid;
    DWORD installed_own = 0, all_ids[HOST_MAX_CHAINS + 1];
    int err = 0;

    if (mode == HOST_CHAINS_SHARE_GUID) {
        /* One provider, one install; the layered id is known only after it,
         * so the chains are pointed at it with an update (in place). */
        if (simcat_install(cat, &lguid, path, entries, nchains + 1, all_ids, &err) ==
            SOCKET_ERROR)
            return err;
        for (DWORD i = 1; i <= nchains; i++) {
            entries[i].dwCatalogEntryId = all_ids[i];
            entries[i].ProtocolChain.ChainEntries[0] = all_ids[0];
            ids->chain_guids[i - 1] = lguid;
        }
        if (simcat_update(cat, &lguid, path, &entries[1], nchains, &err) == SOCKET_ERROR)
            goto undo;
    } else {
        if (simcat_install(cat, &lguid, path, entries, 1, all_ids, &err) == SOCKET_ERROR)
            return err;
        for (DWORD i = 1; i <= nchains; i++) {
            GUID g = lguid;
            for (DWORD bump = i;; bump++) {
                g.Data1 = layered_guid->Data1 + bump;
                if (!guid_in_use(cat, &g, ids->chain_guids, i - 1))
                    break;
            }
            entries[i].ProtocolChain.ChainEntries[0] = all_ids[0];
            if (simcat_install(cat, &g, path, &entries[i], 1, &all_ids[i], &err) == SOCKET_ERROR)
                goto undo;
            ids->chain_guids[i - 1] = g;
            installed_own = i;
        }
    }
    ids->layered_id = all_ids[0];
    ids->chain_count = nchains;
    memcpy(ids->chain_ids, &all_ids[1], nchains * sizeof(DWORD));
    if ((err = chains_first(cat, ids->chain_ids, nchains)))
        goto undo;
    return 0;

undo:;
    int ignored;
    for (DWORD i = 1; i <= installed_own; i++)
        simcat_deinstall(cat, &ids->chain_guids[i - 1], &ignored);
    simcat_deinstall(cat, &lguid, &ignored);
    return err;
}

int host_catalog_install_lsp_over(struct simcat *cat, const wchar_t *lsp_path,
                                  const GUID *layered_guid, const wchar_t *name,
                                  enum host_chain_guids mode, const DWORD *over_ids,
                                  DWORD over_count, struct host_lsp_ids *ids_out)
{
    if (!cat || !lsp_path || !layered_guid)
        return WSAEFAULT;
    if (!name)
        name = L"peerlsp";
    DWORD n;
    int err;
    WSAPROTOCOL_INFOW *all = catalog_read(cat, &n, &err);
    if (!all)
        return err;

    /* The entries to layer over, in the order they were given. */
    const WSAPROTOCOL_INFOW *lower[HOST_MAX_CHAINS];
    DWORD nlower = 0;
    err = 0;
    if (over_ids) {
        for (DWORD i = 0; i < over_count && !err; i++) {
            const WSAPROTOCOL_INFOW *e = find_id(all, n, over_ids[i]);
            if (!e || e->ProtocolChain.ChainLen == LAYERED_PROTOCOL || nlower == HOST_MAX_CHAINS)
                err = WSAEINVAL;
            else
                lower[nlower++] = e;
        }
    } else {
        for (DWORD i = 0; i < n && !err; i++) {
            if (all[i].ProtocolChain.ChainLen != BASE_PROTOCOL)
                continue;
            if (nlower == HOST_MAX_CHAINS)
                err = WSAEINVAL;
            else
                lower[nlower++] = &all[i];
        }
    }
    if (!err && nlower == 0)
        err = WSAEINVAL;

    WSAPROTOCOL_INFOW entries[HOST_MAX_CHAINS + 1];
    if (!err) {
        layered_entry(&entries[0], lower[0], name);
        /* The layered id goes in once it is known. */
        for (DWORD i = 0; i < nlower && !err; i++)
            err = chain_entry(&entries[i + 1], lower[i], 0, name);
    }
    struct host_lsp_ids ids;
    memset(&ids, 0, sizeof ids);
    if (!err)
        err = install_entries(cat, lsp_path, layered_guid, mode, entries, nlower, &ids);
    free(all);
    if (!err && ids_out)
        *ids_out = ids;
    return err;
}

int host_catalog_install_lsp(struct simcat *cat, const wchar_t *lsp_path,
                             const GUID *layered_guid, enum host_chain_guids mode,
                             struct host_lsp_ids *ids_out)
{
    return host_catalog_install_lsp_over(cat, lsp_path, layered_guid, NULL, mode, NULL, 0,
                                         ids_out);
}
