/*
 * simcatalog.c - the simulated Winsock transport catalog (see simcatalog.h):
 * the model and its WSC functions. Snapshots are in simcatalog_file.c.
 *
 * Entries are kept in catalog order in one array; provider records (GUID,
 * path, LSP categories) in a second array sorted by GUID, so that a saved
 * snapshot does not depend on the order in which providers were installed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "simcatalog_internal.h"

/* ---- small helpers ---------------------------------------------------- */

/* Readers of a const catalog still take its lock. */
SRWLOCK *simcat__cat_lock(const struct simcat *cat)
{
    return (SRWLOCK *)&cat->lock;
}

static int fail_with(LPINT lpErrno, int error)
{
    if (lpErrno)
        *lpErrno = error;
    return SOCKET_ERROR;
}

/* Orders GUIDs as their text form sorts: field by field, numerically. */
int simcat__guid_cmp(const GUID *a, const GUID *b)
{
    if (a->Data1 != b->Data1)
        return a->Data1 < b->Data1 ? -1 : 1;
    if (a->Data2 != b->Data2)
        return a->Data2 < b->Data2 ? -1 : 1;
    if (a->Data3 != b->Data3)
        return a->Data3 < b->Data3 ? -1 : 1;
    return memcmp(a->Data4, b->Data4, sizeof a->Data4);
}

struct simcat_provider *simcat__provider_find(const struct simcat *cat, const GUID *guid)
{
    for (size_t i = 0; i < cat->nproviders; i++) {
        if (!simcat__guid_cmp(&cat->providers[i].guid, guid))
            return &cat->providers[i];
    }
    return NULL;
}

ptrdiff_t simcat__entry_index(const struct simcat *cat, DWORD id)
{
    for (size_t i = 0; i < cat->count; i++) {
        if (cat->entries[i].dwCatalogEntryId == id)
            return (ptrdiff_t)i;
    }
    return -1;
}

/* A path is stored as given: non-empty and shorter than MAX_PATH. */
int simcat__path_valid(const WCHAR *path)
{
    size_t n = wcsnlen(path, MAX_PATH);
    return n > 0 && n < MAX_PATH;
}

int simcat__chain_valid(const WSAPROTOCOL_INFOW *info)
{
    return info->ProtocolChain.ChainLen >= 0 && info->ProtocolChain.ChainLen <= MAX_PROTOCOL_CHAIN;
}

/* Copies an entry into the catalog's form: the provider GUID and id forced,
 * the name NUL-terminated within WSAPROTOCOL_LEN and zero-padded (so that
 * equal catalogs compare and save equal), a base entry chained to itself. */
static void entry_store(WSAPROTOCOL_INFOW *dst, const WSAPROTOCOL_INFOW *src, const GUID *guid,
                        DWORD id)
{
    size_t name_len = wcsnlen(src->szProtocol, WSAPROTOCOL_LEN);
    WCHAR name[WSAPROTOCOL_LEN + 1];

    memcpy(name, src->szProtocol, name_len * sizeof(WCHAR));
    *dst = *src;
    memset(dst->szProtocol, 0, sizeof dst->szProtocol);
    memcpy(dst->szProtocol, name, name_len * sizeof(WCHAR));
    dst->ProviderId = *guid;
    dst->dwCatalogEntryId = id;
    if (dst->ProtocolChain.ChainLen == BASE_PROTOCOL)
        dst->ProtocolChain.ChainEntries[0] = id;
}

static int entry_equal(const WSAPROTOCOL_INFOW *a, const WSAPROTOCOL_INFOW *b)
{
    return a->dwServiceFlags1 == b->dwServiceFlags1 && a->dwServiceFlags2 == b->dwServiceFlags2 &&
           a->dwServiceFlags3 == b->dwServiceFlags3 && a->dwServiceFlags4 == b->dwServiceFlags4 &&
           a->dwProviderFlags == b->dwProviderFlags &&
           !simcat__guid_cmp(&a->ProviderId, &b->ProviderId) &&
           a->dwCatalogEntryId == b->dwCatalogEntryId &&
           a->ProtocolChain.ChainLen == b->ProtocolChain.ChainLen &&
           !memcmp(a->ProtocolChain.ChainEntries, b->ProtocolChain.ChainEntries,
                   sizeof a->ProtocolChain.ChainEntries) &&
           a->iVersion == b->iVersion && a->iAddressFamily == b->iAddressFamily &&
           a->iMaxSockAddr == b->iMaxSockAddr && a->iMinSockAddr == b->iMinSockAddr &&
           a->iSocketType == b->iSocketType && a->iProtocol == b->iProtocol &&
           a->iProtocolMaxOffset == b->iProtocolMaxOffset &&
           a->iNetworkByteOrder == b->iNetworkByteOrder &&
           a->iSecurityScheme == b->iSecurityScheme && a->dwMessageSize == b->dwMessageSize &&
           a->dwProviderReserved == b->dwProviderReserved &&
           !wcsncmp(a->szProtocol, b->szProtocol, WSAPROTOCOL_LEN + 1);
}

int simcat__reserve(void **array, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 1;
    size_t n = *cap ? *cap : 8;
    while (n < need)
        n *= 2;
    if (n > SIZE_MAX / elem)
        return 0;
    void *p = realloc(*array, n * elem);
    if (!p)
        return 0;
    *array = p;
    *cap = n;
    return 1;
}

/* Inserts a provider record keeping the array sorted; capacity must have
 * been reserved by the caller. */
void simcat__provider_insert(struct simcat *cat, const struct simcat_provider *rec)
{
    size_t at = 0;
    while (at < cat->nproviders && simcat__guid_cmp(&cat->providers[at].guid, &rec->guid) < 0)
        at++;
    memmove(&cat->providers[at + 1], &cat->providers[at],
            (cat->nproviders - at) * sizeof *cat->providers);
    cat->providers[at] = *rec;
    cat->nproviders++;
}

/* Counts one mutating call against a pending injected failure. Returns 1
 * (with the error) when this call is the one that must fail. */
static int fault_take(struct simcat *cat, int *error)
{
    if (cat->fail_countdown <= 0)
        return 0;
    if (--cat->fail_countdown > 0)
        return 0;
    *error = cat->fail_error;
    return 1;
}

/* ---- life cycle --------------------------------------------------------- */

struct simcat *simcat_create(void)
{
    struct simcat *cat = calloc(1, sizeof *cat);
    if (!cat)
        return NULL;
    InitializeSRWLock(&cat->lock);
    cat->next_id = SIMCAT_FIRST_ID;
    return cat;
}

void simcat_destroy(struct simcat *cat)
{
    if (!cat)
        return;
    free(cat->entries);
    free(cat->providers);
    free(cat->apps);
    free(cat);
}

struct simcat *simcat_clone(const struct simcat *cat)
{
    if (!cat)
        return NULL;
    struct simcat *copy = simcat_create();
    if (!copy)
        return NULL;
    AcquireSRWLockShared(simcat__cat_lock(cat));
    int ok = simcat__reserve((void **)&copy->entries, &copy->cap, cat->count,
                             sizeof *copy->entries) &&
             simcat__reserve((void **)&copy->providers, &copy->pcap, cat->nproviders,
                     sizeof *copy->providers) &&
             simcat__reserve((void **)&copy->apps, &copy->acap, cat->napps, sizeof *copy->apps);
    if (ok) {
        if (cat->napps)
            memcpy(copy->apps, cat->apps, cat->napps * sizeof *cat->apps);
        copy->napps = cat->napps;
        if (cat->count)
            memcpy(copy->entries, cat->entries, cat->count * sizeof *cat->entries);
        if (cat->nproviders)
            memcpy(copy->providers, cat->providers, cat->nproviders * sizeof *cat->providers);
        copy->count = cat->count;
        copy->nproviders = cat->nproviders;
        copy->next_id = cat->next_id;
    }
    ReleaseSRWLockShared(simcat__cat_lock(cat));
    if (!ok) {
        simcat_destroy(copy);
        return NULL;
    }
    return copy;
}

static int equal_locked(const struct simcat *a, const struct simcat *b)
{
    if (a->count != b->count || a->nproviders != b->nproviders)
        return 0;
    for (size_t i = 0; i < a->count; i++) {
        if (!entry_equal(&a->entries[i], &b->entries[i]))
            return 0;
    }
    /* Both provider arrays are sorted by GUID. */
    for (size_t i = 0; i < a->nproviders; i++) {
        const struct simcat_provider *pa = &a->providers[i], *pb = &b->providers[i];
        if (simcat__guid_cmp(&pa->guid, &pb->guid) || pa->categories != pb->categories ||
            wcsncmp(pa->path, pb->path, MAX_PATH))
            return 0;
    }
    if (a->napps != b->napps)
        return 0;
    /* Sorted too; the stored spelling of a path counts (it is saved). */
    for (size_t i = 0; i < a->napps; i++) {
        const struct simcat_app *x = &a->apps[i], *y = &b->apps[i];
        if (x->permitted != y->permitted || wcsncmp(x->path, y->path, MAX_PATH) ||
            wcsncmp(x->extra, y->extra, SIMCAT_APP_EXTRA_MAX))
            return 0;
    }
    return 1;
}

int simcat_equal(const struct simcat *a, const struct simcat *b)
{
    if (!a || !b)
        return a == b;
    if (a == b)
        return 1;
    /* Two shared locks cannot deadlock against each other; a writer waiting
     * on one of them does not hold the other. */
    AcquireSRWLockShared(simcat__cat_lock(a));
    AcquireSRWLockShared(simcat__cat_lock(b));
    int eq = equal_locked(a, b);
    ReleaseSRWLockShared(simcat__cat_lock(b));
    ReleaseSRWLockShared(simcat__cat_lock(a));
    return eq;
}

size_t simcat_count(const struct simcat *cat)
{
    if (!cat)
        return 0;
    AcquireSRWLockShared(simcat__cat_lock(cat));
    size_t n = cat->count;
    ReleaseSRWLockShared(simcat__cat_lock(cat));
    return n;
}

/* ---- WSCEnumProtocols / WSAEnumProtocols ------------------------------ */

static int protocol_listed(const INT *protocols, int protocol)
{
    if (!protocols)
        return 1;
    for (; *protocols; protocols++) {
        if (*protocols == protocol)
            return 1;
    }
    return 0;
}

static int entry_visible(const WSAPROTOCOL_INFOW *e)
{
    return !(e->dwProviderFlags & PFL_HIDDEN) && e->ProtocolChain.ChainLen != LAYERED_PROTOCOL;
}

static int enum_entries(const struct simcat *cat, int visible_only, LPINT protocols,
                        LPWSAPROTOCOL_INFOW buffer, LPDWORD length, LPINT lpErrno)
{
    if (!cat || !length)
        return fail_with(lpErrno, WSAEFAULT);

    AcquireSRWLockShared(simcat__cat_lock(cat));
    size_t n = 0;
    for (size_t i = 0; i < cat->count; i++) {
        const WSAPROTOCOL_INFOW *e = &cat->entries[i];
        if ((!visible_only || entry_visible(e)) && protocol_listed(protocols, e->iProtocol))
            n++;
    }
    int ret;
    size_t need = n * sizeof(WSAPROTOCOL_INFOW);
    if (need > MAXDWORD) {
        ret = fail_with(lpErrno, WSAENOBUFS);
    } else if (*length < need || (n && !buffer)) {
        /* No buffer is a size query, whatever *length says (Wine's
         * protocol.c test_WSAEnumProtocolsW, which passes on Windows). */
        *length = (DWORD)need;
        ret = fail_with(lpErrno, WSAENOBUFS);
    } else {
        size_t out = 0;
        for (size_t i = 0; i < cat->count; i++) {
            const WSAPROTOCOL_INFOW *e = &cat->entries[i];
            if ((!visible_only || entry_visible(e)) && protocol_listed(protocols, e->iProtocol))
                buffer[out++] = *e;
        }
        ret = (int)n;
    }
    ReleaseSRWLockShared(simcat__cat_lock(cat));
    return ret;
}

int simcat_enum(const struct simcat *cat, LPINT lpiProtocols, LPWSAPROTOCOL_INFOW lpProtocolBuffer,
                LPDWORD lpdwBufferLength, LPINT lpErrno)
{
    return enum_entries(cat, 0, lpiProtocols, lpProtocolBuffer, lpdwBufferLength, lpErrno);
}

int simcat_enum_visible(const struct simcat *cat, LPINT lpiProtocols,
                        LPWSAPROTOCOL_INFOW lpProtocolBuffer, LPDWORD lpdwBufferLength,
                        LPINT lpErrno)
{
    return enum_entries(cat, 1, lpiProtocols, lpProtocolBuffer, lpdwBufferLength, lpErrno);
}

/* ---- WSCGetProviderPath ----------------------------------------------- */

int simcat_get_path(const struct simcat *cat, LPGUID lpProviderId, WCHAR *lpszProviderDllPath,
                    LPINT lpProviderDllPathLen, LPINT lpErrno)
{
    if (!cat || !lpProviderId || !lpProviderDllPathLen)
        return fail_with(lpErrno, WSAEFAULT);

    int ret = 0;
    AcquireSRWLockShared(simcat__cat_lock(cat));
    const struct simcat_provider *p = simcat__provider_find(cat, lpProviderId);
    if (!p) {
        ret = fail_with(lpErrno, WSAEINVAL);
    } else {
        int need = (int)wcsnlen(p->path, MAX_PATH) + 1;
        if (!lpszProviderDllPath || *lpProviderDllPathLen < need) {
            *lpProviderDllPathLen = need;
            ret = fail_with(lpErrno, WSAEFAULT);
        } else {
            memcpy(lpszProviderDllPath, p->path, (size_t)need * sizeof(WCHAR));
            *lpProviderDllPathLen = need;
        }
    }
    ReleaseSRWLockShared(simcat__cat_lock(cat));
    return ret;
}

/* ---- WSCInstallProvider / WSCDeinstallProvider / WSCUpdateProvider ---- */

static int check_list(const WCHAR *path, const WSAPROTOCOL_INFOW *list, DWORD n)
{
    if (n == 0 || !simcat__path_valid(path))
        return WSAEINVAL;
    for (DWORD i = 0; i < n; i++) {
        if (!simcat__chain_valid(&list[i]))
            return WSAEINVAL;
    }
    return 0;
}

static int install_locked(struct simcat *cat, const GUID *guid, const WCHAR *path,
                          const WSAPROTOCOL_INFOW *list, DWORD n, DWORD *ids_out)
{
    int err = check_list(path, list, n);
    if (err)
        return err;
    if (simcat__provider_find(cat, guid))
        return WSANO_RECOVERY;
    if (n > MAXDWORD - cat->next_id)
        return WSANO_RECOVERY; /* the id counter would wrap */
    if (!simcat__reserve((void **)&cat->entries, &cat->cap, cat->count + n, sizeof *cat->entries) ||
        !simcat__reserve((void **)&cat->providers, &cat->pcap, cat->nproviders + 1,
                 sizeof *cat->providers))
        return WSA_NOT_ENOUGH_MEMORY;

    struct simcat_provider rec;
    memset(&rec, 0, sizeof rec);
    rec.guid = *guid;
    wcsncpy(rec.path, path, MAX_PATH - 1);
    simcat__provider_insert(cat, &rec);
    for (DWORD i = 0; i < n; i++) {
        DWORD id = cat->next_id++;
        entry_store(&cat->entries[cat->count++], &list[i], guid, id);
        if (ids_out)
            ids_out[i] = id;
    }
    return 0;
}

int simcat_install(struct simcat *cat, LPGUID lpProviderId, const WCHAR *lpszProviderDllPath,
                   const WSAPROTOCOL_INFOW *lpProtocolInfoList, DWORD dwNumberOfEntries,
                   DWORD *ids_out, LPINT lpErrno)
{
    if (!cat)
        return fail_with(lpErrno, WSAEFAULT);
    int err;
    AcquireSRWLockExclusive(&cat->lock);
    if (!fault_take(cat, &err)) {
        if (!lpProviderId || !lpszProviderDllPath || !lpProtocolInfoList)
            err = WSAEFAULT;
        else
            err = install_locked(cat, lpProviderId, lpszProviderDllPath, lpProtocolInfoList,
                                 dwNumberOfEntries, ids_out);
    }
    ReleaseSRWLockExclusive(&cat->lock);
    return err ? fail_with(lpErrno, err) : 0;
}

static int deinstall_locked(struct simcat *cat, const GUID *guid)
{
    struct simcat_provider *p = simcat__provider_find(cat, guid);
    if (!p)
        return WSAEINVAL;
    size_t at = (size_t)(p - cat->providers);
    memmove(p, p + 1, (cat->nproviders - at - 1) * sizeof *p);
    cat->nproviders--;

    size_t kept = 0;
    for (size_t i = 0; i < cat->count; i++) {
        if (simcat__guid_cmp(&cat->entries[i].ProviderId, guid))
            cat->entries[kept++] = cat->entries[i];
    }
    cat->count = kept;
    return 0;
}

int simcat_deinstall(struct simcat *cat, LPGUID lpProviderId, LPINT lpErrno)
{
    if (!cat)
        return fail_with(lpErrno, WSAEFAULT);
    int err;
    AcquireSRWLockExclusive(&cat->lock);
    if (!fault_take(cat, &err))
        err = lpProviderId ? deinstall_locked(cat, lpProviderId) : WSAEFAULT;
    ReleaseSRWLockExclusive(&cat->lock);
    return err ? fail_with(lpErrno, err) : 0;
}

static int update_locked(struct simcat *cat, const GUID *guid, const WCHAR *path,
                         const WSAPROTOCOL_INFOW *list, DWORD n)
{
    struct simcat_provider *p = simcat__provider_find(cat, guid);
    if (!p)
        return WSAEINVAL;
    int err = check_list(path, list, n);
    if (err)
        return err;
    /* Every entry must name a distinct entry of this GUID; all is checked
     * before anything changes. */
    for (DWORD i = 0; i < n; i++) {
        ptrdiff_t at = simcat__entry_index(cat, list[i].dwCatalogEntryId);
        if (at < 0 || simcat__guid_cmp(&cat->entries[at].ProviderId, guid))
            return WSAEINVAL;
        for (DWORD j = 0; j < i; j++) {
            if (list[j].dwCatalogEntryId == list[i].dwCatalogEntryId)
                return WSAEINVAL;
        }
    }
    for (DWORD i = 0; i < n; i++) {
        ptrdiff_t at = simcat__entry_index(cat, list[i].dwCatalogEntryId);
        entry_store(&cat->entries[at], &list[i], guid, list[i].dwCatalogEntryId);
    }
    memset(p->path, 0, sizeof p->path);
    wcsncpy(p->path, path, MAX_PATH - 1);
    return 0;
}

int simcat_update(struct simcat *cat, LPGUID lpProviderId, const WCHAR *lpszProviderDllPath,
                  const WSAPROTOCOL_INFOW *lpProtocolInfoList, DWORD dwNumberOfEntries,
                  LPINT lpErrno)
{
    if (!cat)
        return fail_with(lpErrno, WSAEFAULT);
    int err;
    AcquireSRWLockExclusive(&cat->lock);
    if (!fault_take(cat, &err)) {
        if (!lpProviderId || !lpszProviderDllPath || !lpProtocolInfoList)
            err = WSAEFAULT;
        else
            err = update_locked(cat, lpProviderId, lpszProviderDllPath, lpProtocolInfoList,
                                dwNumberOfEntries);
    }
    ReleaseSRWLockExclusive(&cat->lock);
    return err ? fail_with(lpErrno, err) : 0;
}

/* ---- WSCWriteProviderOrder -------------------------------------------- */

static int write_order_locked(struct simcat *cat, const DWORD *ids, DWORD n)
{
    if (!ids || n != cat->count)
        return WSAEINVAL;
    if (n == 0)
        return 0;
    WSAPROTOCOL_INFOW *ordered = malloc((size_t)n * sizeof *ordered);
    if (!ordered)
        return WSA_NOT_ENOUGH_MEMORY;
    for (DWORD i = 0; i < n; i++) {
        ptrdiff_t at = simcat__entry_index(cat, ids[i]);
        int repeated = 0;
        for (DWORD j = 0; j < i && !repeated; j++)
            repeated = ids[j] == ids[i];
        if (at < 0 || repeated) {
            free(ordered);
            return WSAEINVAL;
        }
        ordered[i] = cat->entries[at];
    }
    memcpy(cat->entries, ordered, (size_t)n * sizeof *ordered);
    free(ordered);
    return 0;
}

int simcat_write_order(struct simcat *cat, LPDWORD lpwdCatalogEntryId, DWORD dwNumberOfEntries)
{
    if (!cat)
        return WSAEINVAL;
    int err;
    AcquireSRWLockExclusive(&cat->lock);
    if (!fault_take(cat, &err))
        err = write_order_locked(cat, lpwdCatalogEntryId, dwNumberOfEntries);
    ReleaseSRWLockExclusive(&cat->lock);
    return err;
}

/* ---- WSCInstallProviderAndChains ---------------------------------------- */

/* The first base entry (ChainLen 1) in catalog order for the protocol an
 * entry of the list names (the fields Microsoft says are examined:
 * iAddressFamily, iSocketType, iProtocol); -1 when there is none. */
static ptrdiff_t base_for(const struct simcat *cat, const WSAPROTOCOL_INFOW *want)
{
    for (size_t i = 0; i < cat->count; i++) {
        const WSAPROTOCOL_INFOW *e = &cat->entries[i];
        if (e->ProtocolChain.ChainLen == BASE_PROTOCOL &&
            e->iAddressFamily == want->iAddressFamily && e->iSocketType == want->iSocketType &&
            e->iProtocol == want->iProtocol)
            return (ptrdiff_t)i;
    }
    return -1;
}

static int and_chains_locked(struct simcat *cat, const GUID *guid, const WCHAR *path,
                             const WCHAR *name, DWORD service_flags,
                             const WSAPROTOCOL_INFOW *list, DWORD n, DWORD *layered_id)
{
    WSAPROTOCOL_INFOW entries[1 + MAX_PROTOCOL_CHAIN * 8];
    DWORD ids[1 + MAX_PROTOCOL_CHAIN * 8];
    if (n == 0 || n >= sizeof entries / sizeof entries[0] || !name[0])
        return WSAEINVAL;
    /* Everything is checked before anything changes. */
    ptrdiff_t bases[MAX_PROTOCOL_CHAIN * 8];
    for (DWORD i = 0; i < n; i++) {
        if ((bases[i] = base_for(cat, &list[i])) < 0)
            return WSAEINVAL;
    }
    /* The "dummy" entry: hidden, ChainLen 0, named lpszLspName, with the
     * service flags given (XP1_IFS_HANDLES for an IFS LSP). */
    WSAPROTOCOL_INFOW *l = &entries[0];
    *l = cat->entries[bases[0]];
    l->dwServiceFlags1 = service_flags;
    l->dwProviderFlags = PFL_HIDDEN;
    l->iSocketType = 0;
    l->iProtocol = 0;
    l->iProtocolMaxOffset = 0;
    l->dwProviderReserved = 0;
    memset(&l->ProtocolChain, 0, sizeof l->ProtocolChain);
    memset(l->szProtocol, 0, sizeof l->szProtocol);
    wcsncpy(l->szProtocol, name, WSAPROTOCOL_LEN);
    /* One chain per list entry over its base entry; the top is filled in
     * once the dummy entry has its id. */
    for (DWORD i = 0; i < n; i++) {
        WSAPROTOCOL_INFOW *c = &entries[1 + i];
        const WSAPROTOCOL_INFOW *b = &cat->entries[bases[i]];
        *c = *b;
        c->dwProviderFlags &= ~(DWORD)PFL_HIDDEN;
        c->dwProviderReserved = 0;
        memset(&c->ProtocolChain, 0, sizeof c->ProtocolChain);
        c->ProtocolChain.ChainLen = 2;
        c->ProtocolChain.ChainEntries[1] = b->dwCatalogEntryId;
        memset(c->szProtocol, 0, sizeof c->szProtocol);
        _snwprintf(c->szProtocol, WSAPROTOCOL_LEN, L"%ls over %ls", name, b->szProtocol);
    }
    int err = install_locked(cat, guid, path, entries, n + 1, ids);
    if (err)
        return err;
    /* The chains name the dummy entry, and go first, in list order. */
    size_t first = cat->count - (n + 1);
    for (DWORD i = 0; i < n; i++)
        cat->entries[first + 1 + i].ProtocolChain.ChainEntries[0] = ids[0];
    WSAPROTOCOL_INFOW moved[MAX_PROTOCOL_CHAIN * 8];
    memcpy(moved, &cat->entries[first + 1], n * sizeof *moved);
    memmove(&cat->entries[n], &cat->entries[0], (first + 1) * sizeof *cat->entries);
    memcpy(&cat->entries[0], moved, n * sizeof *moved);
    if (layered_id)
        *layered_id = ids[0];
    return 0;
}

int simcat_install_and_chains(struct simcat *cat, LPGUID lpProviderId,
                              const WCHAR *lpszProviderDllPath, const WCHAR *lpszLspName,
                              DWORD dwServiceFlags, const WSAPROTOCOL_INFOW *lpProtocolInfoList,
                              DWORD dwNumberOfEntries, LPDWORD lpdwCatalogEntryId,
                              LPINT lpErrno)
{
    if (!cat)
        return fail_with(lpErrno, WSAEFAULT);
    int err;
    AcquireSRWLockExclusive(&cat->lock);
    if (!fault_take(cat, &err)) {
        if (!lpProviderId || !lpszProviderDllPath || !lpszLspName || !lpProtocolInfoList)
            err = WSAEFAULT;
        else
            err = and_chains_locked(cat, lpProviderId, lpszProviderDllPath, lpszLspName,
                                    dwServiceFlags, lpProtocolInfoList, dwNumberOfEntries,
                                    lpdwCatalogEntryId);
    }
    ReleaseSRWLockExclusive(&cat->lock);
    return err ? fail_with(lpErrno, err) : 0;
}

/* ---- WSCGetProviderInfo / WSCSetProviderInfo -------------------------- */

int simcat_get_provider_info(const struct simcat *cat, LPGUID lpProviderId,
                             WSC_PROVIDER_INFO_TYPE InfoType, PBYTE Info, size_t *InfoSize,
                             DWORD Flags, LPINT lpErrno)
{
    if (!cat || !lpProviderId)
        return fail_with(lpErrno, WSAEFAULT);

    /* A provider the catalog does not hold is WSANO_RECOVERY, whatever the
     * other arguments (Wine's protocol.c test_WSCGetProviderInfo, which
     * passes on Windows); only then are they checked. */
    int ret = 0;
    AcquireSRWLockShared(simcat__cat_lock(cat));
    const struct simcat_provider *p = simcat__provider_find(cat, lpProviderId);
    if (!p) {
        ret = fail_with(lpErrno, WSANO_RECOVERY);
    } else if (!InfoSize) {
        ret = fail_with(lpErrno, WSAEFAULT);
    } else if (InfoType == ProviderInfoAudit) {
        ret = fail_with(lpErrno, ERROR_CALL_NOT_IMPLEMENTED);
    } else if (InfoType != ProviderInfoLspCategories || Flags) {
        ret = fail_with(lpErrno, WSAEINVAL);
    } else if (!Info || *InfoSize < sizeof(DWORD)) {
        *InfoSize = sizeof(DWORD);
        ret = fail_with(lpErrno, WSAEFAULT);
    } else {
        memcpy(Info, &p->categories, sizeof(DWORD));
        *InfoSize = sizeof(DWORD);
    }
    ReleaseSRWLockShared(simcat__cat_lock(cat));
    return ret;
}

static int set_info_locked(struct simcat *cat, const GUID *guid, WSC_PROVIDER_INFO_TYPE type,
                           const BYTE *info, size_t size, DWORD flags)
{
    if (!guid || !info)
        return WSAEFAULT;
    if (type == ProviderInfoAudit)
        return ERROR_CALL_NOT_IMPLEMENTED;
    if (type != ProviderInfoLspCategories || size != sizeof(DWORD) || flags)
        return WSAEINVAL;
    struct simcat_provider *p = simcat__provider_find(cat, guid);
    if (!p)
        return WSAEINVALIDPROVIDER;
    memcpy(&p->categories, info, sizeof(DWORD));
    return 0;
}

int simcat_set_provider_info(struct simcat *cat, LPGUID lpProviderId,
                             WSC_PROVIDER_INFO_TYPE InfoType, PBYTE Info, size_t InfoSize,
                             DWORD Flags, LPINT lpErrno)
{
    if (!cat)
        return fail_with(lpErrno, WSAEFAULT);
    int err;
    AcquireSRWLockExclusive(&cat->lock);
    if (!fault_take(cat, &err))
        err = set_info_locked(cat, lpProviderId, InfoType, Info, InfoSize, Flags);
    ReleaseSRWLockExclusive(&cat->lock);
    return err ? fail_with(lpErrno, err) : 0;
}

/* ---- WSCSetApplicationCategory / WSCGetApplicationCategory ------------ */

static WCHAR ascii_lower(WCHAR c)
{
    return c >= L'A' && c <= L'Z' ? (WCHAR)(c - L'A' + L'a') : c;
}

int simcat__app_cmp(const WCHAR *path_a, const WCHAR *extra_a, const WCHAR *path_b,
                    const WCHAR *extra_b)
{
    for (size_t i = 0;; i++) {
        WCHAR x = ascii_lower(path_a[i]), y = ascii_lower(path_b[i]);
        if (x != y)
            return x < y ? -1 : 1;
        if (!x)
            break;
    }
    int c = wcscmp(extra_a, extra_b);
    return c < 0 ? -1 : c > 0;
}

int simcat__app_put(struct simcat *cat, const struct simcat_app *rec)
{
    size_t at = 0;
    int c = 1;
    while (at < cat->napps &&
           (c = simcat__app_cmp(cat->apps[at].path, cat->apps[at].extra, rec->path,
                                rec->extra)) < 0)
        at++;
    if (at < cat->napps && c == 0) {
        /* The same application: only its categories change; the spelling
         * first given stays. */
        cat->apps[at].permitted = rec->permitted;
        return 0;
    }
    if (!simcat__reserve((void **)&cat->apps, &cat->acap, cat->napps + 1, sizeof *cat->apps))
        return WSA_NOT_ENOUGH_MEMORY;
    memmove(&cat->apps[at + 1], &cat->apps[at], (cat->napps - at) * sizeof *cat->apps);
    cat->apps[at] = *rec;
    cat->napps++;
    return 0;
}

/* Checks and copies the (Path, Extra) pair into rec's strings. */
static int app_name(LPCWSTR path, DWORD path_len, LPCWSTR extra, DWORD extra_len,
                    struct simcat_app *rec)
{
    if (!path || (!extra && extra_len))
        return WSAEFAULT;
    if (path_len == 0 || path_len >= MAX_PATH || extra_len >= SIMCAT_APP_EXTRA_MAX ||
        wcsnlen(path, path_len) != path_len || (extra_len && wcsnlen(extra, extra_len) != extra_len))
        return WSAEINVAL;
    memset(rec, 0, sizeof *rec);
    memcpy(rec->path, path, path_len * sizeof(WCHAR));
    if (extra_len)
        memcpy(rec->extra, extra, extra_len * sizeof(WCHAR));
    return 0;
}

static const struct simcat_app *app_find(const struct simcat *cat, const struct simcat_app *key)
{
    for (size_t i = 0; i < cat->napps; i++) {
        if (!simcat__app_cmp(cat->apps[i].path, cat->apps[i].extra, key->path, key->extra))
            return &cat->apps[i];
    }
    return NULL;
}

int simcat_set_app_category(struct simcat *cat, LPCWSTR Path, DWORD PathLength, LPCWSTR Extra,
                            DWORD ExtraLength, DWORD PermittedLspCategories,
                            DWORD *pPrevPermLspCat, LPINT lpErrno)
{
    if (!cat)
        return fail_with(lpErrno, WSAEFAULT);
    struct simcat_app rec;
    int err;
    AcquireSRWLockExclusive(&cat->lock);
    if (!fault_take(cat, &err)) {
        err = app_name(Path, PathLength, Extra, ExtraLength, &rec);
        if (!err) {
            const struct simcat_app *old = app_find(cat, &rec);
            DWORD prev = old ? old->permitted : 0;
            rec.permitted = PermittedLspCategories;
            err = simcat__app_put(cat, &rec);
            if (!err && pPrevPermLspCat)
                *pPrevPermLspCat = prev;
        }
    }
    ReleaseSRWLockExclusive(&cat->lock);
    return err ? fail_with(lpErrno, err) : 0;
}

int simcat_get_app_category(const struct simcat *cat, LPCWSTR Path, DWORD PathLength,
                            LPCWSTR Extra, DWORD ExtraLength, DWORD *pPermittedLspCategories,
                            LPINT lpErrno)
{
    if (!cat || !pPermittedLspCategories)
        return fail_with(lpErrno, WSAEFAULT);
    struct simcat_app key;
    int err = app_name(Path, PathLength, Extra, ExtraLength, &key);
    if (err)
        return fail_with(lpErrno, err);
    AcquireSRWLockShared(simcat__cat_lock(cat));
    const struct simcat_app *rec = app_find(cat, &key);
    if (rec)
        *pPermittedLspCategories = rec->permitted;
    ReleaseSRWLockShared(simcat__cat_lock(cat));
    return rec ? 0 : fail_with(lpErrno, WSASERVICE_NOT_FOUND);
}

int simcat_app_enum(const struct simcat *cat, size_t index, WCHAR path[MAX_PATH],
                    WCHAR extra[SIMCAT_APP_EXTRA_MAX], DWORD *permitted)
{
    if (!cat || !path || !extra || !permitted)
        return WSAEFAULT;
    int err = ERROR_NO_MORE_ITEMS;
    AcquireSRWLockShared(simcat__cat_lock(cat));
    if (index < cat->napps) {
        const struct simcat_app *a = &cat->apps[index];
        memcpy(path, a->path, sizeof a->path);
        memcpy(extra, a->extra, sizeof a->extra);
        *permitted = a->permitted;
        err = 0;
    }
    ReleaseSRWLockShared(simcat__cat_lock(cat));
    return err;
}

/* ---- building a copy of another catalog ------------------------------ */

int simcat_add_entry(struct simcat *cat, const WSAPROTOCOL_INFOW *entry, const WCHAR *path,
                     DWORD categories)
{
    if (!cat || !entry || !path)
        return WSAEFAULT;
    DWORD id = entry->dwCatalogEntryId;
    if (id == 0 || id == MAXDWORD || !simcat__path_valid(path) || !simcat__chain_valid(entry))
        return WSAEINVAL;
    int err = 0;
    AcquireSRWLockExclusive(&cat->lock);
    int new_provider = !simcat__provider_find(cat, &entry->ProviderId);
    if (simcat__entry_index(cat, id) >= 0) {
        err = WSAEINVAL;
    } else if (!simcat__reserve((void **)&cat->entries, &cat->cap, cat->count + 1,
                                sizeof *cat->entries) ||
               (new_provider && !simcat__reserve((void **)&cat->providers, &cat->pcap,
                                                 cat->nproviders + 1, sizeof *cat->providers))) {
        err = WSA_NOT_ENOUGH_MEMORY;
    } else {
        if (new_provider) {
            struct simcat_provider rec;
            memset(&rec, 0, sizeof rec);
            rec.guid = entry->ProviderId;
            wcsncpy(rec.path, path, MAX_PATH - 1);
            rec.categories = categories;
            simcat__provider_insert(cat, &rec);
        }
        /* entry_store keeps a copied base entry's ChainEntries[0] == id. */
        entry_store(&cat->entries[cat->count++], entry, &entry->ProviderId, id);
        if (id >= cat->next_id)
            cat->next_id = id + 1;
    }
    ReleaseSRWLockExclusive(&cat->lock);
    return err;
}

/* ---- fault injection -------------------------------------------------- */

void simcat_fail_call(struct simcat *cat, int nth_mutating_call, int error)
{
    if (!cat)
        return;
    AcquireSRWLockExclusive(&cat->lock);
    cat->fail_countdown = nth_mutating_call > 0 ? nth_mutating_call : 0;
    cat->fail_error = error;
    ReleaseSRWLockExclusive(&cat->lock);
}

