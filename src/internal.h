/*
 * internal.h - what peerlsp.dll's source files share with each other.
 *
 * Prefix: plsp_ for everything shared between files. The WSP functions keep
 * Microsoft's names with the plsp_ prefix (plsp_WSPConnect ...) so that the
 * role of each one is plain; none of them is exported (only WSPStartup and
 * GetLspGuid are, see peerlsp.def).
 */
#ifndef PEERLSP_INTERNAL_H
#define PEERLSP_INTERNAL_H

#include <winsock2.h>
#include <ws2spi.h>
#include <windows.h>

#include "conntable.h"

/* ---- Limits -------------------------------------------------------------- */

/* A socket's record names its chain by a one-byte tag (struct plsp_conn). */
#define PLSP_MAX_CHAINS 255
/* Distinct lower providers (one per next-layer GUID) in one process. */
#define PLSP_MAX_LOWERS 64

/* Extension functions peerlsp hands out its own version of (extension.c). */
#define PLSP_EXT_SLOTS 5

/* ---- Lower providers and chains (startup.c, lower.c) --------------------- */

/* A provider below peerlsp that peerlsp started: one per provider GUID of
 * the next layer, as ws2_32 would (a DLL is started once per GUID). */
struct plsp_lower {
    GUID guid;
    HMODULE module;
    WSPPROC_TABLE procs;
    WSPDATA data;
    /* Its catalog entry has XP1_IFS_HANDLES: its handles are kernel handles
     * (socket.c asks only such providers about a handle of unknown owner). */
    int ifs_handles;
    /* Its extension functions peerlsp wraps (extension.c), learned when an
     * application first asks for them. */
    void *volatile ext[PLSP_EXT_SLOTS];
};

/* One of peerlsp's protocol chain entries in the catalog. */
struct plsp_chain {
    DWORD entry_id;  /* its dwCatalogEntryId: what sockets are bound to */
    uint8_t tag;     /* its index in plsp_g.chains, kept in socket records */
    GUID guid;       /* its ProviderId: the GUID ws2_32 started peerlsp with */
    struct plsp_lower *lower;
    /* The chain entry itself, as the catalog holds it. */
    WSAPROTOCOL_INFOW own_info;
    /* What the lower WSPSocket gets: the base entry's own info when the
     * next layer is the base provider, the chain entry itself otherwise. */
    WSAPROTOCOL_INFOW lower_info;
    /* Set when the WSPStartup that published this chain failed after all:
     * the slot stays (other threads may be reading it) but no lookup finds
     * it; it is freed with everything else by the last WSPCleanup. */
    volatile LONG unusable;
};

/* Process-wide state. chains[] and lowers[] only grow while peerlsp is
 * started (under the startup lock) and are read without a lock: a slot is
 * published, with a release store of the count, after it is complete, and
 * is never freed, unloaded or reused before the last WSPCleanup (a failed
 * WSPStartup marks the chains it published unusable instead). */
struct plsp_state {
    struct plsp_ctab *table;
    WSPUPCALLTABLE upcalls;
    struct plsp_chain *chains[PLSP_MAX_CHAINS];
    volatile LONG chain_count;
    struct plsp_lower *lowers[PLSP_MAX_LOWERS];
    volatile LONG lower_count;
    /* The proc table of lowers[0] when every lower provider has the same
     * send/receive functions (transfer.c), else NULL: those calls then
     * need no lookup to find their provider. */
    const WSPPROC_TABLE *volatile data_procs;
};

extern struct plsp_state plsp_g;

/* The chain a record's tag names (tags are indexes into plsp_g.chains). */
static inline struct plsp_chain *plsp_chain_of(const struct plsp_conn *rec)
{
    return plsp_g.chains[rec->provider];
}

/* The usable chain whose catalog entry id is entry_id, or NULL. */
struct plsp_chain *plsp_chain_by_entry(DWORD entry_id);

/* lower.c: loads and starts the provider whose catalog entry is next_entry.
 * start_info is what its WSPStartup receives. Returns 0 or a WSA error. */
int plsp_lower_start(const WSAPROTOCOL_INFOW *next_entry, WORD version,
                     WSAPROTOCOL_INFOW *start_info, const WSPUPCALLTABLE *upcalls,
                     struct plsp_lower **out);
/* Calls the lower WSPCleanup and unloads it. */
void plsp_lower_stop(struct plsp_lower *lower);

/* ---- Sockets (socket.c) --------------------------------------------------- */

/* Finds the lower provider that owns s. On success returns it and fills
 * *rec (rec->provider is meaningful only when *found is 1). When peerlsp has
 * no record of s (a handle it did not create, see docs/architecture.md) and
 * exactly one lower provider is loaded, that one is returned with *found 0.
 * Otherwise returns NULL with *lpErrno = WSAENOTSOCK. */
struct plsp_lower *plsp_socket_lower(SOCKET s, struct plsp_conn *rec, int *found,
                                     LPINT lpErrno);

/* Records a socket the lower provider just created for chain, and binds the
 * handle to chain's catalog entry so ws2_32 routes later calls to peerlsp.
 * Returns 0 (recorded; *gen, when not NULL, receives the record's gen), 1
 * (bound, but no memory for a record: the socket works without one), or
 * SOCKET_ERROR with *lpErrno after closing the socket below (the binding
 * failed). */
int plsp_socket_adopt(SOCKET s, struct plsp_chain *chain, plsp_gen *gen, LPINT lpErrno);

/* Forgets every shared handle: the last cleanup calls it. */
void plsp_socket_reset_shared(void);

/* 1 when s shares its socket with another handle (the source of a
 * WSPDuplicateSocket, or a socket made from duplicate information): its
 * peer can change through a handle peerlsp does not see, so it is never
 * recorded. */
int plsp_socket_is_shared(SOCKET s);

/* ---- Peer state (getpeername.c) ------------------------------------------ */

/* Asks the lower provider for s's peer and records the answer when it is
 * one the table stores (AF_INET / AF_INET6), else sets the record UNKNOWN,
 * either only if the record's gen is still `gen`: the gen of the caller's
 * own write just before (plsp_peer_begin_change, or the insert of a new
 * socket). A newer write (shutdown, disconnect, another connect, a close and
 * a new socket on the value) therefore always wins. Used right after a
 * connection is made, so the first getpeername is already answered from the
 * table with exactly the lower provider's bytes. */
void plsp_peer_refresh(struct plsp_lower *lower, SOCKET s, plsp_gen gen);

/* Makes s's record VOLATILE before a call that may change its peer, and
 * returns (in *gen) the gen that write gave it. Returns 0 when s has no
 * record. */
int plsp_peer_begin_change(SOCKET s, plsp_gen *gen);

/* Ends such a change with no peer to record: UNKNOWN over gen.  If another
 * write came since gen, VOLATILE instead, whatever it was: that write may be
 * another change recording a peer it read before this call changed it. */
void plsp_peer_end_change(SOCKET s, plsp_gen gen);

/* ---- The WSP functions peerlsp implements itself ---------------------- */

SOCKET WSPAPI plsp_WSPSocket(int af, int type, int protocol, LPWSAPROTOCOL_INFOW info,
                             GROUP g, DWORD flags, LPINT lpErrno);
SOCKET WSPAPI plsp_WSPAccept(SOCKET s, struct sockaddr *addr, LPINT addrlen,
                             LPCONDITIONPROC condition, DWORD_PTR callback_data,
                             LPINT lpErrno);
SOCKET WSPAPI plsp_WSPJoinLeaf(SOCKET s, const struct sockaddr *name, int namelen,
                               LPWSABUF caller_data, LPWSABUF callee_data, LPQOS sqos,
                               LPQOS gqos, DWORD flags, LPINT lpErrno);
int WSPAPI plsp_WSPCloseSocket(SOCKET s, LPINT lpErrno);
int WSPAPI plsp_WSPDuplicateSocket(SOCKET s, DWORD pid, LPWSAPROTOCOL_INFOW info, LPINT lpErrno);
int WSPAPI plsp_WSPConnect(SOCKET s, const struct sockaddr *name, int namelen,
                           LPWSABUF caller_data, LPWSABUF callee_data, LPQOS sqos,
                           LPQOS gqos, LPINT lpErrno);
int WSPAPI plsp_WSPShutdown(SOCKET s, int how, LPINT lpErrno);
int WSPAPI plsp_WSPSendDisconnect(SOCKET s, LPWSABUF data, LPINT lpErrno);
int WSPAPI plsp_WSPRecvDisconnect(SOCKET s, LPWSABUF data, LPINT lpErrno);
int WSPAPI plsp_WSPGetPeerName(SOCKET s, struct sockaddr *name, LPINT namelen,
                               LPINT lpErrno);
int WSPAPI plsp_WSPCleanup(LPINT lpErrno);
int WSPAPI plsp_WSPIoctl(SOCKET s, DWORD code, LPVOID in, DWORD in_len, LPVOID out,
                         DWORD out_len, LPDWORD returned, LPWSAOVERLAPPED ov,
                         LPWSAOVERLAPPED_COMPLETION_ROUTINE completion, LPWSATHREADID thread,
                         LPINT lpErrno);
int WSPAPI plsp_WSPGetSockOpt(SOCKET s, int level, int name, char *val, LPINT len,
                              LPINT lpErrno);
int WSPAPI plsp_WSPSetSockOpt(SOCKET s, int level, int name, const char *val, int len,
                              LPINT lpErrno);

/* ---- Send and receive (transfer.c) -------------------------------------- */

int WSPAPI plsp_WSPRecv(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD received, LPDWORD flags,
                        LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE completion,
                        LPWSATHREADID thread, LPINT lpErrno);
int WSPAPI plsp_WSPRecvFrom(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD received,
                            LPDWORD flags, struct sockaddr *from, LPINT fromlen,
                            LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE completion,
                            LPWSATHREADID thread, LPINT lpErrno);
int WSPAPI plsp_WSPSend(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD sent, DWORD flags,
                        LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE completion,
                        LPWSATHREADID thread, LPINT lpErrno);
int WSPAPI plsp_WSPSendTo(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD sent, DWORD flags,
                          const struct sockaddr *to, int tolen, LPWSAOVERLAPPED ov,
                          LPWSAOVERLAPPED_COMPLETION_ROUTINE completion, LPWSATHREADID thread,
                          LPINT lpErrno);
BOOL WSPAPI plsp_WSPGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED ov, LPDWORD transferred,
                                        BOOL wait, LPDWORD flags, LPINT lpErrno);
int WSPAPI plsp_WSPEnumNetworkEvents(SOCKET s, WSAEVENT event, LPWSANETWORKEVENTS events,
                                     LPINT lpErrno);

/* Recomputes plsp_g.data_procs. Startup lock held; called after a lower
 * provider is added and before any chain over it is published (lower
 * providers are only removed all at once, by the last WSPCleanup). */
void plsp_data_procs_update(void);

/* ---- Proc tables (proctable.c, dispatch.c) ------------------------------ */

/* Fills table for a WSPStartup that serves chains[0..count): the lower
 * provider's own function wherever peerlsp has nothing to do and every
 * chain's lower provider has the same one; a dispatching function where
 * they differ; peerlsp's own where it intercepts. */
void plsp_proctable_fill(WSPPROC_TABLE *table, struct plsp_chain *const *chains,
                         size_t count);

/* 1 when every slot of table is filled. */
int plsp_proctable_complete(const WSPPROC_TABLE *table);

/* Functions that find the socket's lower provider and call its function:
 * used for the slots where chains served by one proc table disagree. */
extern const WSPPROC_TABLE plsp_dispatch_procs;

#endif /* PEERLSP_INTERNAL_H */
