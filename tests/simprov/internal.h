/*
 * internal.h - what simprov's source files share (tests see simprov.h).
 *
 * Every WSP function is the single egress point that sets *lpErrno; the
 * extension functions report through WSASetLastError, as the originals do.
 * All socket state lives in one table under one lock: simprov serves tests,
 * and one lock keeps every transition (connect, disconnect, accept pairing)
 * atomic without further thought.
 */
#ifndef SIMPROV_INTERNAL_H
#define SIMPROV_INTERNAL_H

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>
#include <ws2spi.h>

#include "simprov.h"

/* ---- Call counters (control.c) ------------------------------------------ */

#define SIM_FUNCTIONS(X) \
    X(WSPStartup) X(WSPCleanup) X(WSPSocket) X(WSPCloseSocket) X(WSPBind) X(WSPListen) \
    X(WSPConnect) X(WSPAccept) X(WSPJoinLeaf) X(WSPGetPeerName) X(WSPGetSockName) \
    X(WSPSetSockOpt) X(WSPGetSockOpt) X(WSPIoctl) X(WSPGetOverlappedResult) \
    X(WSPRecv) X(WSPSend) X(WSPEnumNetworkEvents) \
    X(ConnectEx) X(AcceptEx) X(DisconnectEx) X(TransmitFile) X(TransmitPackets)

enum sim_fn {
#define SIM_FN_ENUM(name) SIM_FN_##name,
    SIM_FUNCTIONS(SIM_FN_ENUM)
#undef SIM_FN_ENUM
    SIM_FN_COUNT
};

void sim_count(enum sim_fn fn);
#define SIM_COUNT(name) sim_count(SIM_FN_##name)

/* simprov_next_peer_bytes's setting, once: 0 when none was given. */
int sim_take_peer_bytes(void);

/* simprov_join_new_socket's setting. */
int sim_join_makes_new_socket(void);

/* ---- Start-up (startup.c) ----------------------------------------------- */

/* The WPUModifyIFSHandle upcall of the current start-up; NULL when simprov
 * is not started. */
LPWPUMODIFYIFSHANDLE sim_modify_ifs_handle(void);

/* ---- Sockets (socktable.c) ---------------------------------------------- */

#define SIM_BACKLOG 8

enum sim_context {
    SIM_CONTEXT_NONE,    /* getpeername reports the peer */
    SIM_CONTEXT_CONNECT, /* connected by ConnectEx: SO_UPDATE_CONNECT_CONTEXT due */
    SIM_CONTEXT_ACCEPT   /* accepted by AcceptEx: SO_UPDATE_ACCEPT_CONTEXT due */
};

/* An AcceptEx waiting for a connection (the listener's only one). */
struct sim_accept_wait {
    SOCKET accepted;
    char *buf;
    DWORD recv_len, local_len, remote_len;
    LPOVERLAPPED ov;
};

struct sim_sock {
    SOCKET h;
    DWORD entry_id;
    int af, type, protocol;
    int bound, listening, connected;
    int spent;    /* disconnected without TF_REUSE_SOCKET: cannot connect again */
    int reusable; /* disconnected with TF_REUSE_SOCKET: AcceptEx may take it */
    int reset;    /* reset by the other end (simprov_reset) */
    enum sim_context context;
    SOCKADDR_STORAGE local, peer;
    int local_len, peer_len;
    /* Listeners: connections waiting for accept (the connectors' addresses). */
    SOCKADDR_STORAGE backlog[SIM_BACKLOG];
    int backlog_len[SIM_BACKLOG];
    int nbacklog;
    int accept_waiting;
    struct sim_accept_wait wait;
};

/* The table lock: every access to a struct sim_sock holds it. */
void sim_lock(void);
void sim_unlock(void);

/* The record of s (lock held), or NULL. */
struct sim_sock *sim_find(SOCKET s);

/* The listening socket bound to addr (lock held), or NULL. */
struct sim_sock *sim_find_listener(const struct sockaddr *addr, int len);

/* Makes a socket for entry: a new event handle, registered with
 * WPUModifyIFSHandle, then recorded. Takes the lock itself (not held by
 * the caller). INVALID_SOCKET with *err on failure. */
SOCKET sim_sock_create(DWORD entry_id, int af, int type, int protocol, int *err);

/* Forgets s and closes its handle (lock held). */
void sim_sock_destroy(struct sim_sock *rec);

/* Closes every socket (the last WSPCleanup). */
void sim_sock_destroy_all(void);

LONG sim_sock_count(void);

/* ---- Addresses (connection.c) ------------------------------------------- */

/* The size of an address of af, or 0 for a family simprov does not know. */
int sim_addr_size(int af);

/* Validates a caller's address for a socket of af: 0 or a WSA error. */
int sim_addr_check(int af, const struct sockaddr *name, int namelen);

/* Gives rec an address of its own if it has none (connect binds
 * implicitly). */
void sim_autobind(struct sim_sock *rec);

/* Whether rec may connect now: 0 or a WSA error (lock held). */
int sim_can_connect(const struct sim_sock *rec);

/* Makes rec connected to peer (lock held); a connect to a simprov
 * listener's address is queued there, and completes its waiting AcceptEx. */
void sim_connect_to(struct sim_sock *rec, const struct sockaddr *peer, int len,
                    enum sim_context context);

/* ---- Extension functions (extension.c) ---------------------------------- */

/* Gives a listener's waiting AcceptEx the first queued connection (lock
 * held). */
void sim_accept_serve(struct sim_sock *listener);

/* The WSP functions, by file. */
int WSPAPI sim_WSPCleanup(LPINT lpErrno);
SOCKET WSPAPI sim_WSPSocket(int af, int type, int protocol, LPWSAPROTOCOL_INFOW info, GROUP g,
                            DWORD flags, LPINT lpErrno);
int WSPAPI sim_WSPCloseSocket(SOCKET s, LPINT lpErrno);
int WSPAPI sim_WSPBind(SOCKET s, const struct sockaddr *name, int namelen, LPINT lpErrno);
int WSPAPI sim_WSPListen(SOCKET s, int backlog, LPINT lpErrno);
int WSPAPI sim_WSPConnect(SOCKET s, const struct sockaddr *name, int namelen, LPWSABUF caller,
                          LPWSABUF callee, LPQOS sqos, LPQOS gqos, LPINT lpErrno);
SOCKET WSPAPI sim_WSPAccept(SOCKET s, struct sockaddr *addr, LPINT addrlen,
                            LPCONDITIONPROC condition, DWORD_PTR data, LPINT lpErrno);
SOCKET WSPAPI sim_WSPJoinLeaf(SOCKET s, const struct sockaddr *name, int namelen,
                              LPWSABUF caller, LPWSABUF callee, LPQOS sqos, LPQOS gqos,
                              DWORD flags, LPINT lpErrno);
int WSPAPI sim_WSPGetPeerName(SOCKET s, struct sockaddr *name, LPINT namelen, LPINT lpErrno);
int WSPAPI sim_WSPGetSockName(SOCKET s, struct sockaddr *name, LPINT namelen, LPINT lpErrno);
int WSPAPI sim_WSPSetSockOpt(SOCKET s, int level, int name, const char *val, int len,
                             LPINT lpErrno);
int WSPAPI sim_WSPGetSockOpt(SOCKET s, int level, int name, char *val, LPINT len,
                             LPINT lpErrno);
int WSPAPI sim_WSPIoctl(SOCKET s, DWORD code, LPVOID in, DWORD in_len, LPVOID out,
                        DWORD out_len, LPDWORD returned, LPWSAOVERLAPPED ov,
                        LPWSAOVERLAPPED_COMPLETION_ROUTINE completion, LPWSATHREADID thread,
                        LPINT lpErrno);
BOOL WSPAPI sim_WSPGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED ov, LPDWORD transferred,
                                       BOOL wait, LPDWORD flags, LPINT lpErrno);

/* transfer.c */
int WSPAPI sim_WSPRecv(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD received, LPDWORD flags,
                       LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE completion,
                       LPWSATHREADID thread, LPINT lpErrno);
int WSPAPI sim_WSPSend(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD sent, DWORD flags,
                       LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE completion,
                       LPWSATHREADID thread, LPINT lpErrno);
int WSPAPI sim_WSPEventSelect(SOCKET s, WSAEVENT ev, LONG events, LPINT lpErrno);
int WSPAPI sim_WSPEnumNetworkEvents(SOCKET s, WSAEVENT ev, LPWSANETWORKEVENTS events,
                                    LPINT lpErrno);

/* unsupported.c: the other slots of the proc table. */
extern const WSPPROC_TABLE sim_unsupported_procs;

#endif /* SIMPROV_INTERNAL_H */
