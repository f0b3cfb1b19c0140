/*
 * ctl_catalog.c - one read of a catalog and the questions asked of it:
 * which entries are peerlsp's, which chains are broken, which entry
 * socket() would pick.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ctl.h"

void ctl_catalog_free(struct ctl_catalog *c)
{
    free(c->e);
    free(c->p);
    memset(c, 0, sizeof *c);
}

const WSAPROTOCOL_INFOW *ctl_catalog_entry(const struct ctl_catalog *c, DWORD id)
{
    for (DWORD i = 0; i < c->n; i++) {
        if (c->e[i].dwCatalogEntryId == id)
            return &c->e[i];
    }
    return NULL;
}

const struct ctl_provider *ctl_catalog_provider(const struct ctl_catalog *c, const GUID *guid)
{
    for (DWORD i = 0; i < c->np; i++) {
        if (IsEqualGUID(&c->p[i].guid, guid))
            return &c->p[i];
    }
    return NULL;
}

int ctl_catalog_read(struct ctl_backend *b, struct ctl_catalog *out)
{
    memset(out, 0, sizeof *out);
    int err = b->enumerate(b, &out->e, &out->n);
    if (err)
        return err;
    out->dll_machine = b->dll_machine;
    out->dll_wow64 = b->dll_wow64;
    out->p = calloc(out->n ? out->n : 1, sizeof *out->p);
    if (!out->p) {
        ctl_catalog_free(out);
        return WSA_NOT_ENOUGH_MEMORY;
    }
    for (DWORD i = 0; i < out->n; i++) {
        if (ctl_catalog_provider(out, &out->e[i].ProviderId))
            continue;
        struct ctl_provider *p = &out->p[out->np++];
        p->guid = out->e[i].ProviderId;
        /* A provider without a readable path is reported, not fatal: Wine's
         * WSCGetProviderPath answers 0 and writes nothing. */
        p->path[0] = 0;
        p->has_path = b->get_path(b, &p->guid, p->path) == 0 && p->path[0];
        p->path[MAX_PATH - 1] = 0;
        p->has_categories =
            b->get_categories && b->get_categories(b, &p->guid, &p->categories) == 0;
        if (!p->has_categories)
            p->categories = 0;
    }
    return 0;
}

int ctl_entry_same(const WSAPROTOCOL_INFOW *a, const WSAPROTOCOL_INFOW *b)
{
    /* Compare field by field: padding in the struct is not guaranteed
     * equal, and names are compared up to their NUL. */
    WSAPROTOCOL_INFOW x = *a, y = *b;
    memset(x.szProtocol, 0, sizeof x.szProtocol);
    memset(y.szProtocol, 0, sizeof y.szProtocol);
    return x.dwServiceFlags1 == y.dwServiceFlags1 && x.dwServiceFlags2 == y.dwServiceFlags2 &&
           x.dwServiceFlags3 == y.dwServiceFlags3 && x.dwServiceFlags4 == y.dwServiceFlags4 &&
           x.dwProviderFlags == y.dwProviderFlags && IsEqualGUID(&x.ProviderId, &y.ProviderId) &&
           x.dwCatalogEntryId == y.dwCatalogEntryId &&
           x.ProtocolChain.ChainLen == y.ProtocolChain.ChainLen &&
           !memcmp(x.ProtocolChain.ChainEntries, y.ProtocolChain.ChainEntries,
                   sizeof x.ProtocolChain.ChainEntries) &&
           x.iVersion == y.iVersion && x.iAddressFamily == y.iAddressFamily &&
           x.iMaxSockAddr == y.iMaxSockAddr && x.iMinSockAddr == y.iMinSockAddr &&
           x.iSocketType == y.iSocketType && x.iProtocol == y.iProtocol &&
           x.iProtocolMaxOffset == y.iProtocolMaxOffset &&
           x.iNetworkByteOrder == y.iNetworkByteOrder && x.iSecurityScheme == y.iSecurityScheme &&
           x.dwMessageSize == y.dwMessageSize && x.dwProviderReserved == y.dwProviderReserved &&
           !wcsncmp(a->szProtocol, b->szProtocol, WSAPROTOCOL_LEN + 1);
}

int ctl_catalog_same(const struct ctl_catalog *a, const struct ctl_catalog *b)
{
    if (a->n != b->n || a->np != b->np)
        return 0;
    for (DWORD i = 0; i < a->n; i++) {
        if (!ctl_entry_same(&a->e[i], &b->e[i]))
            return 0;
    }
    for (DWORD i = 0; i < a->np; i++) {
        const struct ctl_provider *pa = &a->p[i], *pb = ctl_catalog_provider(b, &pa->guid);
        if (!pb || pa->has_path != pb->has_path || wcsncmp(pa->path, pb->path, MAX_PATH) ||
            pa->has_categories != pb->has_categories || pa->categories != pb->categories)
            return 0;
    }
    return 1;
}

struct simcat *ctl_catalog_to_simcat(const struct ctl_catalog *c)
{
    struct simcat *cat = simcat_create();
    for (DWORD i = 0; cat && i < c->n; i++) {
        const struct ctl_provider *p = ctl_catalog_provider(c, &c->e[i].ProviderId);
        /* A catalog that gives no path (Wine) still needs one in a
         * snapshot: mark it so that nobody mistakes it for a real one. */
        const WCHAR *path = p && p->has_path ? p->path : L"(no path in the catalog)";
        if (simcat_add_entry(cat, &c->e[i], path, p ? p->categories : 0)) {
            simcat_destroy(cat);
            cat = NULL;
        }
    }
    return cat;
}

int ctl_chain_contains(const WSAPROTOCOL_INFOW *e, DWORD id)
{
    int len = e->ProtocolChain.ChainLen;
    if (len <= BASE_PROTOCOL || len > MAX_PROTOCOL_CHAIN)
        return 0;
    for (int i = 0; i < len; i++) {
        if (e->ProtocolChain.ChainEntries[i] == id)
            return 1;
    }
    return 0;
}

int ctl_chain_broken(const struct ctl_catalog *c, const WSAPROTOCOL_INFOW *e, char *why,
                     size_t why_size)
{
    int len = e->ProtocolChain.ChainLen;
    if (len < 0 || len > MAX_PROTOCOL_CHAIN) {
        snprintf(why, why_size, "ChainLen %d is out of range", len);
        return 1;
    }
    if (len <= BASE_PROTOCOL)
        return 0;
    for (int i = 0; i < len; i++) {
        DWORD id = e->ProtocolChain.ChainEntries[i];
        const WSAPROTOCOL_INFOW *el = ctl_catalog_entry(c, id);
        if (!el) {
            snprintf(why, why_size, "chain element %d is id %lu, which does not exist", i,
                     (unsigned long)id);
            return 1;
        }
        /* The bottom is a base entry. A layer above it is named by its
         * layered entry or, as Microsoft's instlsp sample lays out a
         * stack, by its own chain entry ([top, lower LSP's chain entry,
         * base]): each layer loads the next one through that entry's
         * provider GUID, so both work. */
        int last = i == len - 1, kind = el->ProtocolChain.ChainLen;
        int ok = last ? kind == BASE_PROTOCOL
                      : kind == LAYERED_PROTOCOL ||
                            (kind > BASE_PROTOCOL && kind <= MAX_PROTOCOL_CHAIN);
        int want = last ? BASE_PROTOCOL : LAYERED_PROTOCOL;
        if (!ok) {
            snprintf(why, why_size, "chain element %d (id %lu) is %s, expected a %s entry", i,
                     (unsigned long)id,
                     el->ProtocolChain.ChainLen == LAYERED_PROTOCOL ? "a layered entry"
                     : el->ProtocolChain.ChainLen == BASE_PROTOCOL  ? "a base entry"
                                                                    : "a chain",
                     want == BASE_PROTOCOL ? "base" : "layered or chain");
            return 1;
        }
    }
    return 0;
}

const WSAPROTOCOL_INFOW *ctl_layered_entry(const struct ctl_catalog *c, const GUID *guid)
{
    for (DWORD i = 0; i < c->n; i++) {
        if (c->e[i].ProtocolChain.ChainLen == LAYERED_PROTOCOL &&
            IsEqualGUID(&c->e[i].ProviderId, guid))
            return &c->e[i];
    }
    return NULL;
}

DWORD ctl_peerlsp_ids(const struct ctl_catalog *c, const GUID *guid, DWORD *ids, DWORD cap)
{
    const WSAPROTOCOL_INFOW *l = ctl_layered_entry(c, guid);
    DWORD n = 0;
    for (DWORD i = 0; i < c->n; i++) {
        const WSAPROTOCOL_INFOW *e = &c->e[i];
        int ours = IsEqualGUID(&e->ProviderId, guid) ||
                   (l && e->ProtocolChain.ChainLen > BASE_PROTOCOL &&
                    e->ProtocolChain.ChainLen <= MAX_PROTOCOL_CHAIN &&
                    e->ProtocolChain.ChainEntries[0] == l->dwCatalogEntryId);
        if (ours) {
            if (n < cap)
                ids[n] = e->dwCatalogEntryId;
            n++;
        }
    }
    return n;
}

int ctl_chain_through(const struct ctl_catalog *c, const WSAPROTOCOL_INFOW *e, const GUID *guid)
{
    DWORD ids[CTL_MAX_CHAINS * 4];
    DWORD n = ctl_peerlsp_ids(c, guid, ids, sizeof ids / sizeof ids[0]);
    if (n > sizeof ids / sizeof ids[0])
        n = sizeof ids / sizeof ids[0];
    for (DWORD k = 0; k < n; k++) {
        if (ctl_chain_contains(e, ids[k]))
            return 1;
    }
    return 0;
}

static int path_is_peerlsp(const WCHAR *path)
{
    const WCHAR *slash = wcsrchr(path, L'\\'), *name = slash ? slash + 1 : path;
    return !_wcsicmp(name, L"peerlsp.dll");
}

int ctl_entry_is_ours(const struct ctl_catalog *c, const WSAPROTOCOL_INFOW *e,
                      const GUID *guid)
{
    if (IsEqualGUID(&e->ProviderId, guid))
        return 1;
    const WSAPROTOCOL_INFOW *l = ctl_layered_entry(c, guid);
    if (l && e->ProtocolChain.ChainLen > BASE_PROTOCOL &&
        e->ProtocolChain.ChainLen <= MAX_PROTOCOL_CHAIN &&
        e->ProtocolChain.ChainEntries[0] == l->dwCatalogEntryId)
        return 1;
    const struct ctl_provider *p = ctl_catalog_provider(c, &e->ProviderId);
    return p && p->has_path && path_is_peerlsp(p->path);
}

const WSAPROTOCOL_INFOW *ctl_catalog_select(const struct ctl_catalog *c, int af, int type,
                                            int protocol)
{
    for (DWORD i = 0; i < c->n; i++) {
        const WSAPROTOCOL_INFOW *e = &c->e[i];
        if (e->ProtocolChain.ChainLen == LAYERED_PROTOCOL || e->iAddressFamily != af)
            continue;
        if (type && e->iSocketType != type)
            continue;
        if (protocol && (protocol < e->iProtocol ||
                         protocol > e->iProtocol + e->iProtocolMaxOffset))
            continue;
        return e;
    }
    return NULL;
}

void ctl_guid_format(const GUID *g, char out[39])
{
    snprintf(out, 39, "{%08lX-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}",
             (unsigned long)g->Data1, (unsigned)g->Data2, (unsigned)g->Data3,
             (unsigned)g->Data4[0], (unsigned)g->Data4[1], (unsigned)g->Data4[2],
             (unsigned)g->Data4[3], (unsigned)g->Data4[4], (unsigned)g->Data4[5],
             (unsigned)g->Data4[6], (unsigned)g->Data4[7]);
}

int ctl_guid_parse(const char *s, GUID *g)
{
    unsigned long d1;
    unsigned d2, d3, b[8];
    char end;
    if (strlen(s) != 38 ||
        sscanf(s, "{%8lx-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x%c", &d1, &d2, &d3, &b[0], &b[1], &b[2],
               &b[3], &b[4], &b[5], &b[6], &b[7], &end) != 12 ||
        end != '}')
        return 0;
    g->Data1 = d1;
    g->Data2 = (unsigned short)d2;
    g->Data3 = (unsigned short)d3;
    for (int i = 0; i < 8; i++)
        g->Data4[i] = (unsigned char)b[i];
    return 1;
}

int ctl_enumerate_with(ctl_enum_fn fn, void *ctx, WSAPROTOCOL_INFOW **out, DWORD *count)
{
    DWORD len = 0;
    int err = 0;
    *out = NULL;
    *count = 0;
    for (int attempt = 0; attempt < 4; attempt++) {
        WSAPROTOCOL_INFOW *buf = len ? malloc(len) : NULL;
        if (len && !buf)
            return WSA_NOT_ENOUGH_MEMORY;
        int n = fn(ctx, buf, &len, &err);
        if (n != SOCKET_ERROR) {
            *out = buf;
            *count = (DWORD)n;
            return 0;
        }
        free(buf);
        /* The catalog may grow between the size query and the read. */
        if (err != WSAENOBUFS)
            return err;
    }
    return WSAENOBUFS;
}
