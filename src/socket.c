/*
 * socket.c - every way a socket handle appears or goes away: WSPSocket,
 * WSPAccept, WSPJoinLeaf and WSPCloseSocket.
 *
 * peerlsp is an IFS LSP: applications hold the lower provider's handle. The
 * lower provider registers it with ws2_32 for its own catalog entry; peerlsp
 * registers it again for its chain entry (WPUModifyIFSHandle replaces the
 * earlier binding), or ws2_32 would route every later call past peerlsp.
 */
#include <stdlib.h>

#include "internal.h"

/* ---- Handles that share their socket ---------------------------------------
 *
 * WSPDuplicateSocket makes a second handle (in this process or another) for
 * the same socket. A connect, a dissolve or a disconnect through either
 * handle changes the peer of both, but peerlsp's table is keyed by handle
 * value and only sees the handle the call came through. Both the source of
 * a duplication and every socket made from duplicate information are
 * therefore "shared": their peer is never recorded, every getpeername asks
 * the lower provider (plsp_socket_is_shared, getpeername.c).
 *
 * Duplicated sockets are rare, so the set is a plain array under a lock,
 * scanned only on the paths that would record a peer; the count lets every
 * other process skip the lock entirely. A value leaves the set when its
 * socket is closed or the value is taken by a new socket.
 *
 * When the set cannot grow (out of memory), the handle it could not hold
 * is shared all the same: from then on every handle counts as shared (no
 * peer is recorded for any socket, every getpeername asks below) until the
 * last WSPCleanup. Slower, never wrong. */
static SRWLOCK shared_lock = SRWLOCK_INIT;
static SOCKET *shared_handles;
static size_t shared_cap;
static volatile LONG shared_count;
static volatile LONG shared_overflow;

static size_t shared_find(SOCKET s)
{
    for (size_t i = 0; i < (size_t)shared_count; i++) {
        if (shared_handles[i] == s)
            return i;
    }
    return SIZE_MAX;
}

/* Adds s to the set; when the set cannot grow, every handle becomes
 * shared (shared_overflow). */
static void shared_add(SOCKET s)
{
    AcquireSRWLockExclusive(&shared_lock);
    if (shared_find(s) == SIZE_MAX) {
        if ((size_t)shared_count == shared_cap) {
            size_t cap = shared_cap ? 2 * shared_cap : 16;
            SOCKET *grown = realloc(shared_handles, cap * sizeof *grown);
            if (grown) {
                shared_handles = grown;
                shared_cap = cap;
            }
        }
        if ((size_t)shared_count < shared_cap)
            shared_handles[shared_count++] = s;
        else
            InterlockedExchange(&shared_overflow, 1);
    }
    ReleaseSRWLockExclusive(&shared_lock);
}

void plsp_socket_reset_shared(void)
{
    AcquireSRWLockExclusive(&shared_lock);
    free(shared_handles);
    shared_handles = NULL;
    shared_cap = 0;
    shared_count = 0;
    shared_overflow = 0;
    ReleaseSRWLockExclusive(&shared_lock);
}

static void shared_remove(SOCKET s)
{
    if (!shared_count)
        return;
    AcquireSRWLockExclusive(&shared_lock);
    size_t i = shared_find(s);
    if (i != SIZE_MAX)
        shared_handles[i] = shared_handles[--shared_count];
    if (!shared_count) {
        /* Freed when empty, so that nothing is left when peerlsp unloads
         * (unless a duplicated socket is never closed). */
        free(shared_handles);
        shared_handles = NULL;
        shared_cap = 0;
    }
    ReleaseSRWLockExclusive(&shared_lock);
}

int plsp_socket_is_shared(SOCKET s)
{
    if (shared_overflow) /* a plain load: set once, never cleared while started */
        return 1;
    if (!shared_count)
        return 0;
    AcquireSRWLockShared(&shared_lock);
    int found = shared_find(s) != SIZE_MAX;
    ReleaseSRWLockShared(&shared_lock);
    return found;
}

/* Marks s shared and stops its record from answering. */
static void socket_share(SOCKET s)
{
    shared_add(s);
    plsp_ctab_mark_volatile(plsp_g.table, (uint64_t)s);
}

/* With several lower providers, the one that owns a handle without a
 * record is found by asking: each is asked for the handle's protocol
 * information, and the one whose own catalog entry it names is the owner.
 * A slow path, taken only for handles peerlsp did not record; without it
 * such a handle could not even be closed.
 *
 * Only IFS providers are asked (XP1_IFS_HANDLES in their catalog entry).
 * Their handles are kernel handles: given one it does not own, an IFS
 * provider's call fails on the handle itself (WSAENOTSOCK), as mswsock's
 * does. A non-IFS provider's handles come from WPUCreateSocketHandle and
 * it finds its own state through WPUQuerySocketHandleContext; handed a
 * handle of another provider it may take that provider's context for its
 * own. Such a provider cannot own a handle peerlsp adopted anyway
 * (plsp_socket_adopt requires the handle to stay as it is). */
static struct plsp_lower *lower_by_protocol_info(SOCKET s)
{
    LONG chains = InterlockedCompareExchange(&plsp_g.chain_count, 0, 0);
    LONG lowers = InterlockedCompareExchange(&plsp_g.lower_count, 0, 0);
    for (LONG i = 0; i < lowers; i++) {
        struct plsp_lower *lower = plsp_g.lowers[i];
        if (!lower->ifs_handles)
            continue;
        WSAPROTOCOL_INFOW info;
        int len = (int)sizeof info, err = 0;
        if (lower->procs.lpWSPGetSockOpt(s, SOL_SOCKET, SO_PROTOCOL_INFOW, (char *)&info, &len,
                                         &err) != 0 || len != (int)sizeof info)
            continue;
        for (LONG c = 0; c < chains; c++) {
            const struct plsp_chain *chain = plsp_g.chains[c];
            if (chain->lower == lower &&
                (chain->lower_info.dwCatalogEntryId == info.dwCatalogEntryId ||
                 chain->entry_id == info.dwCatalogEntryId))
                return lower;
        }
    }
    return NULL;
}

struct plsp_lower *plsp_socket_lower(SOCKET s, struct plsp_conn *rec, int *found, LPINT lpErrno)
{
    /* Extension functions are called by applications directly, not through
     * ws2_32: one called after the last WSPCleanup finds no table. */
    if (!plsp_g.table) {
        *found = 0;
        *lpErrno = WSANOTINITIALISED;
        return NULL;
    }
    if (plsp_ctab_lookup(plsp_g.table, (uint64_t)s, rec)) {
        *found = 1;
        return plsp_chain_of(rec)->lower;
    }
    *found = 0;
    /* A handle peerlsp has no record of (never adopted, or its record lost)
     * can only belong to the one lower provider, if there is just one. */
    if (plsp_g.lower_count == 1)
        return plsp_g.lowers[0];
    struct plsp_lower *owner = lower_by_protocol_info(s);
    if (!owner)
        *lpErrno = WSAENOTSOCK;
    return owner;
}

static void close_below(struct plsp_lower *lower, SOCKET s)
{
    int ignored = 0;

    (void)lower->procs.lpWSPCloseSocket(s, &ignored);
}

int plsp_socket_adopt(SOCKET s, struct plsp_chain *chain, plsp_gen *gen, LPINT lpErrno)
{
    int err = 0;

    /* A handle value is reused by the system as soon as it is closed, even
     * with CloseHandle, which no provider sees: whatever was recorded under
     * this value belongs to a socket that is gone, and insert replaces it. */
    shared_remove(s);
    /* A record is an optimisation: without memory for one (insert fails
     * only for a value not in the table, so nothing stale is left under
     * it) the socket works all the same, bound to the chain, and every
     * call on it finds its provider without a record (plsp_socket_lower):
     * getpeername asks below. */
    int recorded = plsp_ctab_insert_get(plsp_g.table, (uint64_t)s, chain->tag, gen) == 0;
    SOCKET bound = plsp_g.upcalls.lpWPUModifyIFSHandle(chain->entry_id, s, &err);
    if (bound != s) {
        /* INVALID_SOCKET, or another handle: peerlsp only layers over IFS
         * providers, whose handles ws2_32 keeps as they are. */
        if (recorded)
            plsp_ctab_remove(plsp_g.table, (uint64_t)s);
        close_below(chain->lower, s);
        *lpErrno = (bound == INVALID_SOCKET && err) ? err : WSAEPROVIDERFAILEDINIT;
        return SOCKET_ERROR;
    }
    return recorded ? 0 : 1;
}

/***********************************************************************
 *              WSPSocket  (peerlsp, through the proc table)
 */
SOCKET WSPAPI plsp_WSPSocket(int af, int type, int protocol, LPWSAPROTOCOL_INFOW info,
                             GROUP g, DWORD flags, LPINT lpErrno)
{
    struct plsp_chain *chain = info ? plsp_chain_by_entry(info->dwCatalogEntryId) : NULL;
    if (!chain) {
        *lpErrno = WSAEINVAL;
        return INVALID_SOCKET;
    }
    /* The caller's information describes the socket to make: its family,
     * type and protocol (which the provider reads when the arguments are 0
     * or FROM_PROTOCOL_INFO) may differ from the catalog entry's. Only the
     * identity is the lower provider's: its entry id, GUID and chain.
     * Information made by WSPDuplicateSocket names peerlsp's chain (so the
     * target process comes through peerlsp too) and carries the lower
     * provider's reference to the original socket in dwProviderReserved,
     * which goes down as it is. */
    WSAPROTOCOL_INFOW below = *info;
    below.dwCatalogEntryId = chain->lower_info.dwCatalogEntryId;
    below.ProviderId = chain->lower_info.ProviderId;
    below.ProtocolChain = chain->lower_info.ProtocolChain;
    SOCKET s = chain->lower->procs.lpWSPSocket(af, type, protocol, &below, g, flags, lpErrno);
    if (s == INVALID_SOCKET)
        return s;
    if (plsp_socket_adopt(s, chain, NULL, lpErrno) == SOCKET_ERROR)
        return INVALID_SOCKET;
    /* Catalog entries carry 0 in dwProviderReserved; duplicate information
     * carries the lower provider's reference: another handle of a socket
     * that lives on elsewhere. */
    if (info->dwProviderReserved)
        socket_share(s);
    return s;
}

/***********************************************************************
 *              WSPAccept  (peerlsp, through the proc table)
 *
 * NOTES
 *  The accepted socket belongs to the listening socket's chain. Its peer is
 *  recorded straight away, as the lower provider reports it.
 */
SOCKET WSPAPI plsp_WSPAccept(SOCKET s, struct sockaddr *addr, LPINT addrlen,
                             LPCONDITIONPROC condition, DWORD_PTR callback_data, LPINT lpErrno)
{
    struct plsp_conn rec;
    int found;
    struct plsp_lower *lower = plsp_socket_lower(s, &rec, &found, lpErrno);
    if (!lower)
        return INVALID_SOCKET;
    SOCKET ns = lower->procs.lpWSPAccept(s, addr, addrlen, condition, callback_data, lpErrno);
    if (ns == INVALID_SOCKET || !found)
        return ns;
    struct plsp_chain *chain = plsp_chain_of(&rec);
    plsp_gen gen;
    int adopted = plsp_socket_adopt(ns, chain, &gen, lpErrno);
    if (adopted == SOCKET_ERROR)
        return INVALID_SOCKET;
    if (adopted == 0)
        plsp_peer_refresh(lower, ns, gen);
    return ns;
}

/***********************************************************************
 *              WSPJoinLeaf  (peerlsp, through the proc table)
 *
 * NOTES
 *  Joining can return a new socket (adopted like an accepted one) or s
 *  itself, whose peer may now be the leaf: either way the peer is re-read.
 */
SOCKET WSPAPI plsp_WSPJoinLeaf(SOCKET s, const struct sockaddr *name, int namelen,
                               LPWSABUF caller_data, LPWSABUF callee_data, LPQOS sqos,
                               LPQOS gqos, DWORD flags, LPINT lpErrno)
{
    struct plsp_conn rec;
    int found;
    struct plsp_lower *lower = plsp_socket_lower(s, &rec, &found, lpErrno);
    if (!lower)
        return INVALID_SOCKET;
    plsp_gen gen = 0;
    int marked = found && plsp_peer_begin_change(s, &gen);
    SOCKET r = lower->procs.lpWSPJoinLeaf(s, name, namelen, caller_data, callee_data, sqos,
                                          gqos, flags, lpErrno);
    if (!found)
        return r;
    if (r == INVALID_SOCKET || r != s) {
        /* s itself did not join (failure, or a new socket joined): it is
         * as unknown as before, unless something else wrote meanwhile. */
        if (marked)
            plsp_peer_end_change(s, gen);
        if (r == INVALID_SOCKET)
            return r;
    }
    struct plsp_chain *chain = plsp_chain_of(&rec);
    if (r != s) {
        int adopted = plsp_socket_adopt(r, chain, &gen, lpErrno);
        if (adopted == SOCKET_ERROR)
            return INVALID_SOCKET;
        if (adopted == 1)
            return r; /* no record: nothing to refresh */
    } else {
        int ignored = 0;
        /* Same handle: start its record afresh (if memory is short, the
         * VOLATILE mark stays and every getpeername asks below) and bind it
         * again, as the contract asks after every lower call that hands
         * back a handle. */
        if (plsp_ctab_insert_get(plsp_g.table, (uint64_t)s, rec.provider, &gen) != 0)
            return r;
        (void)plsp_g.upcalls.lpWPUModifyIFSHandle(chain->entry_id, s, &ignored);
    }
    plsp_peer_refresh(lower, r, gen);
    return r;
}

/***********************************************************************
 *              WSPDuplicateSocket  (peerlsp, through the proc table)
 *
 * NOTES
 *  The lower provider fills the information; peerlsp then makes it name
 *  its own chain entry, keeping the lower provider's dwProviderReserved, so
 *  that WSASocket(FROM_PROTOCOL_INFO) in the target process is routed to
 *  peerlsp and peerlsp hands the reference back down (WSPSocket). The new
 *  socket has no recorded peer: its first getpeername asks below.
 */
int WSPAPI plsp_WSPDuplicateSocket(SOCKET s, DWORD pid, LPWSAPROTOCOL_INFOW info, LPINT lpErrno)
{
    struct plsp_conn rec;
    int found;
    struct plsp_lower *lower = plsp_socket_lower(s, &rec, &found, lpErrno);
    if (!lower)
        return SOCKET_ERROR;
    int ret = lower->procs.lpWSPDuplicateSocket(s, pid, info, lpErrno);
    if (ret != 0 || !found)
        return ret;
    DWORD reserved = info->dwProviderReserved;
    *info = plsp_chain_of(&rec)->own_info;
    info->dwProviderReserved = reserved;
    /* From now on another handle may change this socket's peer. */
    socket_share(s);
    return ret;
}

/***********************************************************************
 *              WSPCloseSocket  (peerlsp, through the proc table)
 *
 * NOTES
 *  A close can fail (WSAEWOULDBLOCK with linger on a non-blocking socket)
 *  and the handle then stays valid, so the record goes only after the lower
 *  provider's close succeeded, and only if no new socket has reused the
 *  handle value in between.
 */
int WSPAPI plsp_WSPCloseSocket(SOCKET s, LPINT lpErrno)
{
    struct plsp_conn rec;
    int found;
    struct plsp_lower *lower = plsp_socket_lower(s, &rec, &found, lpErrno);
    if (!lower)
        return SOCKET_ERROR;
    int ret = lower->procs.lpWSPCloseSocket(s, lpErrno);
    if (ret == 0 && found && plsp_ctab_remove_if(plsp_g.table, (uint64_t)s, rec.gen))
        shared_remove(s);
    return ret;
}
