/*
 * startup.c - WSPStartup and WSPCleanup: finding peerlsp's chains in the
 * catalog, starting the providers below them, and tearing it all down.
 */
#include <string.h>

#include "internal.h"
#include "catalog.h"
#include "trace.h"

struct plsp_state plsp_g;

/* Serialises startup and cleanup. Never taken on a data path. */
static SRWLOCK plsp_startup_lock = SRWLOCK_INIT;
/* Successful WSPStartups not yet matched by a WSPCleanup. */
static LONG plsp_startup_refs;
/* The thread inside startup or cleanup now (0: none). A lower provider's
 * WSPStartup or WSPCleanup runs under the lock; should it come back into
 * peerlsp's (a socket made during its start-up that ws2_32 routes to
 * peerlsp's chain), the SRW lock is not recursive: that thread is refused
 * instead of deadlocking the process. */
static volatile DWORD plsp_startup_owner;

static int startup_lock(void)
{
    if (plsp_startup_owner == GetCurrentThreadId())
        return 0;
    AcquireSRWLockExclusive(&plsp_startup_lock);
    plsp_startup_owner = GetCurrentThreadId();
    return 1;
}

static void startup_unlock(void)
{
    plsp_startup_owner = 0;
    ReleaseSRWLockExclusive(&plsp_startup_lock);
}

#define PLSP_VERSION MAKEWORD(2, 2)

struct plsp_chain *plsp_chain_by_entry(DWORD entry_id)
{
    LONG count = InterlockedCompareExchange(&plsp_g.chain_count, 0, 0);
    for (LONG i = 0; i < count; i++) {
        const struct plsp_chain *chain = plsp_g.chains[i];
        if (chain->entry_id == entry_id && !chain->unusable)
            return plsp_g.chains[i];
    }
    return NULL;
}

static struct plsp_lower *lower_by_guid(const GUID *guid)
{
    for (LONG i = 0; i < plsp_g.lower_count; i++) {
        if (IsEqualGUID(&plsp_g.lowers[i]->guid, guid))
            return plsp_g.lowers[i];
    }
    return NULL;
}

/* Builds and publishes the chain record for catalog entry `entry`, starting
 * its lower provider if no chain started that one yet. */
static int chain_load(const struct plsp_catalog *cat, const WSAPROTOCOL_INFOW *entry,
                      DWORD layered_id, WORD version, struct plsp_chain **out)
{
    const WSAPROTOCOLCHAIN *pc = &entry->ProtocolChain;
    int me = -1;

    for (int i = 0; i < pc->ChainLen && i < MAX_PROTOCOL_CHAIN; i++) {
        if (pc->ChainEntries[i] == layered_id) {
            me = i;
            break;
        }
    }
    /* peerlsp must have a layer below it within the chain. */
    if (me < 0 || me + 1 >= pc->ChainLen || pc->ChainLen > MAX_PROTOCOL_CHAIN)
        return WSAEPROVIDERFAILEDINIT;

    const WSAPROTOCOL_INFOW *next = plsp_catalog_find(cat, pc->ChainEntries[me + 1]);
    const WSAPROTOCOL_INFOW *base = plsp_catalog_find(cat, pc->ChainEntries[pc->ChainLen - 1]);
    if (!next || !base || base->ProtocolChain.ChainLen != BASE_PROTOCOL)
        return WSAEPROVIDERFAILEDINIT;
    if (plsp_g.chain_count >= PLSP_MAX_CHAINS)
        return WSAEPROVIDERFAILEDINIT;

    struct plsp_chain *chain = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *chain);
    if (!chain)
        return WSA_NOT_ENOUGH_MEMORY;
    chain->entry_id = entry->dwCatalogEntryId;
    chain->guid = entry->ProviderId;
    chain->own_info = *entry;
    /* The next layer is the base: it gets its own entry. Another LSP: it
     * gets the chain as it is, to find itself in it as peerlsp did. */
    chain->lower_info = (me + 1 == pc->ChainLen - 1) ? *base : *entry;

    struct plsp_lower *lower = lower_by_guid(&next->ProviderId);
    if (!lower) {
        if (plsp_g.lower_count >= PLSP_MAX_LOWERS) {
            HeapFree(GetProcessHeap(), 0, chain);
            return WSAEPROVIDERFAILEDINIT;
        }
        int err = plsp_lower_start(next, version, &chain->lower_info, &plsp_g.upcalls, &lower);
        if (err) {
            HeapFree(GetProcessHeap(), 0, chain);
            return err;
        }
        plsp_g.lowers[plsp_g.lower_count] = lower;
        InterlockedIncrement(&plsp_g.lower_count);
        plsp_data_procs_update(); /* before any socket of it can exist */
    }
    chain->lower = lower;
    chain->tag = (uint8_t)plsp_g.chain_count;
    plsp_g.chains[plsp_g.chain_count] = chain;
    InterlockedIncrement(&plsp_g.chain_count); /* full barrier: publishes the slot */
    *out = chain;
    return 0;
}

/* Undoes everything: lower cleanups, unloads, the table. Lock held. */
static void state_reset(void)
{
    for (LONG i = plsp_g.lower_count; i-- > 0;)
        plsp_lower_stop(plsp_g.lowers[i]);
    for (LONG i = 0; i < plsp_g.chain_count; i++)
        HeapFree(GetProcessHeap(), 0, plsp_g.chains[i]);
    if (plsp_g.table)
        plsp_ctab_destroy(plsp_g.table);
    memset(&plsp_g, 0, sizeof plsp_g);
    plsp_socket_reset_shared();
}

/* What a failed WSPStartup published on top of earlier successful ones
 * (chains past `chains`, and the lower providers they started) cannot be
 * freed: other threads, in calls through the proc tables already handed
 * out, may be iterating the slots from a count read before (a chain
 * lookup, the search for a handle's owner). The chains are marked unusable
 * and the lower providers stay started and loaded; the last WSPCleanup
 * frees and stops them with everything else. A later WSPStartup for the
 * same chains publishes new slots (reusing a lower provider already
 * started). Lock held. */
static void state_retire(LONG chains)
{
    for (LONG i = chains; i < plsp_g.chain_count; i++)
        InterlockedExchange(&plsp_g.chains[i]->unusable, 1);
}

/* Loads every chain of peerlsp's whose provider GUID is `guid` (one chain
 * when each chain has its own GUID; all of them when they share one) and
 * fills the proc table for them. Lock held. */
static int startup_locked(WORD version, const WSAPROTOCOL_INFOW *info,
                          const WSPUPCALLTABLE *upcalls, WSPPROC_TABLE *procs)
{
    struct plsp_catalog cat;
    struct plsp_chain *served[PLSP_MAX_CHAINS];
    size_t served_count = 0;
    LONG chains_before = plsp_g.chain_count;
    int err = plsp_catalog_read(&cat);
    if (err)
        return err;

    DWORD layered_id;
    err = plsp_catalog_own_layer(&cat, &layered_id);
    if (err)
        goto done;

    if (!plsp_g.table) {
        plsp_g.upcalls = *upcalls;
        plsp_g.table = plsp_ctab_create();
        if (!plsp_g.table) {
            err = WSA_NOT_ENOUGH_MEMORY;
            goto done;
        }
    }

    for (size_t i = 0; i < cat.count; i++) {
        const WSAPROTOCOL_INFOW *entry = &cat.entries[i];
        if (entry->ProtocolChain.ChainLen <= BASE_PROTOCOL ||
            !IsEqualGUID(&entry->ProviderId, &info->ProviderId))
            continue;
        struct plsp_chain *chain = plsp_chain_by_entry(entry->dwCatalogEntryId);
        if (!chain) {
            err = chain_load(&cat, entry, layered_id, version, &chain);
            /* Only the chain ws2_32 started peerlsp for must load: one
             * broken chain sharing the GUID (its next DLL removed, say)
             * must not take every other protocol down with it. Its
             * sockets then fail in WSPSocket. */
            if (err && entry->dwCatalogEntryId != info->dwCatalogEntryId) {
                err = 0;
                continue;
            }
            if (err)
                goto done;
        }
        served[served_count++] = chain;
    }
    /* ws2_32 started peerlsp for an entry that is not one of its chains. */
    if (served_count == 0 || !plsp_chain_by_entry(info->dwCatalogEntryId)) {
        err = WSAEPROVIDERFAILEDINIT;
        goto done;
    }
    plsp_proctable_fill(procs, served, served_count);
    if (plsp_trace_configured())
        plsp_trace_wrap(procs);

done:
    if (err) {
        /* With no start-up left, no proc table is out and no other thread
         * can be in peerlsp: everything goes. */
        if (plsp_startup_refs == 0)
            state_reset();
        else
            state_retire(chains_before);
    }
    plsp_catalog_free(&cat);
    return err;
}

/***********************************************************************
 *              WSPStartup  (peerlsp.@)
 *
 * RETURNS
 *  0, or a Winsock error code (never SOCKET_ERROR: WSPStartup returns the
 *  code itself).
 *
 * NOTES
 *  Called by ws2_32 once per provider GUID of peerlsp's chain entries, and
 *  again after every full cleanup. Each success must be matched by one
 *  WSPCleanup.
 */
int WSPAPI WSPStartup(WORD wVersionRequested, LPWSPDATA lpWSPData,
                      LPWSAPROTOCOL_INFOW lpProtocolInfo, WSPUPCALLTABLE UpcallTable,
                      LPWSPPROC_TABLE lpProcTable)
{
    WSPPROC_TABLE procs;
    BYTE major = LOBYTE(wVersionRequested), minor = HIBYTE(wVersionRequested);

    if (major < 2 || (major == 2 && minor < 2))
        return WSAVERNOTSUPPORTED;
    if (!lpWSPData || !lpProtocolInfo || !lpProcTable)
        return WSAEFAULT;

    if (!startup_lock())
        return WSAEINPROGRESS;
    int err = startup_locked(PLSP_VERSION, lpProtocolInfo, &UpcallTable, &procs);
    if (!err)
        plsp_startup_refs++;
    startup_unlock();
    if (err)
        return err;

    memset(lpWSPData, 0, sizeof *lpWSPData);
    lpWSPData->wVersion = PLSP_VERSION; /* requested >= 2.2 here: min is 2.2 */
    lpWSPData->wHighVersion = PLSP_VERSION;
    wcsncpy(lpWSPData->szDescription, L"peerlsp layered service provider", WSADESCRIPTION_LEN);
    *lpProcTable = procs;
    return 0;
}

/***********************************************************************
 *              WSPCleanup  (peerlsp, through the proc table)
 *
 * NOTES
 *  Only the last cleanup does the work: the lower providers get their own
 *  WSPCleanup and are unloaded, and all state goes, so that a WSPStartup
 *  right after starts afresh. It returns only when the DLL may be unloaded.
 */
int WSPAPI plsp_WSPCleanup(LPINT lpErrno)
{
    int ret = 0;

    if (!startup_lock()) {
        *lpErrno = WSAEINPROGRESS;
        return SOCKET_ERROR;
    }
    if (plsp_startup_refs == 0) {
        *lpErrno = WSANOTINITIALISED;
        ret = SOCKET_ERROR;
    } else if (--plsp_startup_refs == 0) {
        state_reset();
    }
    startup_unlock();
    return ret;
}
