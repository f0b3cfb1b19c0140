/*
 * host_internal.h - what the test host's files share (see wshost.h).
 */
#ifndef PEERLSP_TESTS_HOST_INTERNAL_H
#define PEERLSP_TESTS_HOST_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include "wshost.h"
#include "host_ext.h"

/* ---- session (host_session.c) -----------------------------------------
 * A session lives from the first startup to the last cleanup. It holds the
 * catalog snapshot: entries in catalog order and one provider per GUID.
 * Nothing in it moves or is freed before the last cleanup, so readers may
 * keep pointers to entries and providers without a lock. */

enum host_provider_state { HOST_PROVIDER_IDLE, HOST_PROVIDER_STARTED };

struct host_provider {
    GUID guid;
    WCHAR path[MAX_PATH];   /* unexpanded, as the catalog holds it */
    atomic_int state;       /* enum host_provider_state; release on start */
    int start_order;        /* for cleaning up in reverse start order */
    HMODULE module;
    WSPDATA data;
    WSPPROC_TABLE procs;
};

struct host_entry {
    WSAPROTOCOL_INFOW info;
    struct host_provider *provider;
    atomic_long handles;    /* handles bound to this entry now */
};

struct host_session {
    struct simcat *catalog; /* the snapshot (for WSAEnumProtocols) */
    size_t nentries;
    struct host_entry *entries;
    size_t nproviders;
    struct host_provider *providers;
    int starts;             /* providers started so far, for start_order */
};

/* The current session, or NULL when the host is not started (acquire). */
struct host_session *host_session(void);
int host_session_acquire(void);
int host_session_release(void);
struct host_entry *host_session_entry(struct host_session *ses, DWORD id);
/* Starts the entry's provider if it is not started yet: 0 or an error. */
int host_provider_ensure(struct host_entry *e);
/* The catalog as it is now (what the redirected WSC imports read). */
struct simcat *host_live_catalog(void);

/* ---- per-thread state (host_thread.c) --------------------------------- */

int host_fail(int err);       /* sets the last error; returns SOCKET_ERROR */
/* A call that succeeded: in system last-error mode the thread's last error
 * becomes 0, as Wine's ws2_32 leaves it after a successful call (the
 * provider's own calls may have changed it); returns `ret`. */
int host_ok(int ret);
SOCKET host_ok_socket(SOCKET s);
SOCKET host_fail_socket(int err);
int host_last_error(void);
void host_set_last_error(int err);
/* The calling thread's SO_OPENTYPE (0: overlapped sockets from socket()). */
int host_open_type(void);
void host_set_open_type(int value);
/* The calling thread's WSATHREADID (for overlapped calls), or NULL. */
LPWSATHREADID host_thread_id(void);

/* ---- call counts (host_stats.c) -------------------------------------- */

#define HOST_WSP_FUNCTIONS(X)                                                       \
    X(WSPAccept) X(WSPAddressToString) X(WSPAsyncSelect) X(WSPBind)                  \
    X(WSPCancelBlockingCall) X(WSPCleanup) X(WSPCloseSocket) X(WSPConnect)           \
    X(WSPDuplicateSocket) X(WSPEnumNetworkEvents) X(WSPEventSelect)                  \
    X(WSPGetOverlappedResult) X(WSPGetPeerName) X(WSPGetSockName) X(WSPGetSockOpt)   \
    X(WSPGetQOSByName) X(WSPIoctl) X(WSPJoinLeaf) X(WSPListen) X(WSPRecv)            \
    X(WSPRecvDisconnect) X(WSPRecvFrom) X(WSPSelect) X(WSPSend) X(WSPSendDisconnect) \
    X(WSPSendTo) X(WSPSetSockOpt) X(WSPShutdown) X(WSPSocket) X(WSPStringToAddress)

enum host_wsp {
#define HOST_WSP_ENUM(name) HOST_##name,
    HOST_WSP_FUNCTIONS(HOST_WSP_ENUM)
#undef HOST_WSP_ENUM
    HOST_WSP_COUNT
};

void host_count(enum host_wsp fn);
/* A call on a handle the host has no binding for (answered WSAENOTSOCK). */
void host_count_unknown_handle(void);

/* ---- routing (host_api.c) --------------------------------------------- */

/* The entry that serves s, its provider started; NULL with *err set
 * (WSANOTINITIALISED, WSAENOTSOCK, or the provider's start error). */
struct host_entry *host_route(SOCKET s, int *err);

/* The start of every routed call: the entry of s or return SOCKET_ERROR
 * with the last error set; counts fn; `wsp` is the provider's table. */
#define ROUTE(s, fn)                           \
    int err = 0;                               \
    struct host_entry *e = host_route(s, &err); \
    if (!e)                                    \
        return host_fail(err);                 \
    host_count(HOST_##fn);                     \
    const WSPPROC_TABLE *wsp = &e->provider->procs

/* ---- handle bindings (host_handles.c) ---------------------------------
 * Handle value -> entry. Reads take no lock; writes are serialised. */

struct host_binding {
    struct host_entry *entry;   /* bound now; NULL: not bound */
    struct host_entry *created; /* chosen when the socket was made */
    uintptr_t context;          /* WPUCreateSocketHandle's context */
    int wpu;                    /* made by WPUCreateSocketHandle */
};

/* Reads the binding of s; 0 when s was never bound or is unbound now. */
int host_binding_get(SOCKET s, struct host_binding *out);
/* The entry s is bound to, or NULL: the lock-free fast path. */
struct host_entry *host_binding_entry(SOCKET s);
/* Binds s (replacing any earlier binding); wpu/context as above. */
int host_binding_set(SOCKET s, struct host_entry *e, int wpu, uintptr_t context);
/* After a socket was made on `chosen` (or accepted/joined on a socket of
 * that entry): binds it to `fallback` unless a provider bound it after
 * generation `since`, and records `created`. 0 or WSAENOBUFS. */
int host_binding_adopt(SOCKET s, unsigned long since, struct host_entry *fallback,
                       struct host_entry *created);
void host_binding_clear(SOCKET s);
/* The bind generation of s's binding now (0: none), and a clear that
 * happens only if the binding is still that one. */
unsigned long host_binding_gen(SOCKET s);
void host_binding_clear_if(SOCKET s, unsigned long gen);
/* Current bind generation (see host_binding_adopt). */
unsigned long host_binding_generation(void);
/* Forgets every binding (last cleanup; no readers may be running). */
void host_bindings_reset(void);

/* ---- upcalls and redirected imports (host_upcall.c, host_iat.c) ------- */

const WSPUPCALLTABLE *host_upcalls(void);
/* host_WPUCompleteOverlappedRequest and the host_WSC functions: host_ext.h. */

/* Patches module's ws2_32.dll imports of the functions above. Returns the
 * number of slots patched, or -1 (GetLastError) when the module's import
 * table could not be read or written. */
int host_redirect_imports(HMODULE module);

#endif /* PEERLSP_TESTS_HOST_INTERNAL_H */
