/*
 * host_api.c - the Winsock API of wsapi.h, routed through the SPI.
 *
 * Each call looks up the catalog entry its handle is bound to, calls that
 * entry's provider's WSP function with an errno out-parameter, and turns
 * SOCKET_ERROR + errno into the per-thread last error (WSASYSCALLFAILURE
 * when a provider fails without a code). A handle bound to nothing is
 * WSAENOTSOCK; any call before startup is WSANOTINITIALISED.
 */
#include <string.h>

#include "host_internal.h"

/* The entry that serves s, its provider started; NULL with *err set. This
 * is the fast path: no lock once the provider runs. */
struct host_entry *host_route(SOCKET s, int *err)
{
    if (!host_session()) {
        *err = WSANOTINITIALISED;
        return NULL;
    }
    struct host_entry *e = host_binding_entry(s);
    if (!e) {
        host_count_unknown_handle();
        *err = WSAENOTSOCK;
        return NULL;
    }
    if ((*err = host_provider_ensure(e)))
        return NULL;
    return e;
}

/* ---- startup ----------------------------------------------------------- */

static int WSAAPI host_WSAStartup(WORD version, LPWSADATA data)
{
    if (LOBYTE(version) < 1)
        return WSAVERNOTSUPPORTED;
    if (!data)
        return WSAEFAULT;
    int err = host_session_acquire();
    if (err)
        return err;
    /* ws2_32 answers with the version asked for, capped at 2.2. */
    WORD granted = version;
    if (LOBYTE(version) > 2 || (LOBYTE(version) == 2 && HIBYTE(version) > 2))
        granted = MAKEWORD(2, 2);
    memset(data, 0, sizeof *data);
    data->wVersion = granted;
    data->wHighVersion = MAKEWORD(2, 2);
    strncpy(data->szDescription, "peerlsp test host", WSADESCRIPTION_LEN);
    strncpy(data->szSystemStatus, "Running", WSASYS_STATUS_LEN);
    return 0;
}

static int WSAAPI host_WSACleanup(void)
{
    int err = host_session_release();
    return err ? host_fail(err) : 0;
}

int host_startup(void)
{
    WSADATA data;
    return host_WSAStartup(MAKEWORD(2, 2), &data);
}

int host_cleanup(void)
{
    return host_WSACleanup();
}

static int WSAAPI host_WSAGetLastError(void)
{
    return host_last_error();
}

static void WSAAPI host_WSASetLastError(int error)
{
    host_set_last_error(error);
}

static int WSAAPI host_WSAEnumProtocolsW(LPINT protocols, LPWSAPROTOCOL_INFOW buffer,
                                         LPDWORD length)
{
    struct host_session *ses = host_session();
    if (!ses)
        return host_fail(WSANOTINITIALISED);
    int err = 0;
    int n = simcat_enum_visible(ses->catalog, protocols, buffer, length, &err);
    return n == SOCKET_ERROR ? host_fail(err) : host_ok(n);
}

/* ---- making sockets ----------------------------------------------------- */

/* Whether a catalog entry serves af/type/protocol as ws2_32 matches them:
 * 0 (AF_UNSPEC, no type) matches any family and type; protocol 0 matches
 * only an entry with PFL_MATCHES_PROTOCOL_ZERO, any other protocol the
 * entry's range iProtocol .. iProtocol + iProtocolMaxOffset. */
static int entry_serves(const WSAPROTOCOL_INFOW *info, int af, int type, int protocol)
{
    if (info->ProtocolChain.ChainLen == LAYERED_PROTOCOL)
        return 0;
    if (af && info->iAddressFamily != af)
        return 0;
    if (type && info->iSocketType != type)
        return 0;
    if (!protocol)
        return (info->dwProviderFlags & PFL_MATCHES_PROTOCOL_ZERO) != 0;
    return protocol >= info->iProtocol &&
           protocol <= info->iProtocol + info->iProtocolMaxOffset;
}

/* The first entry in catalog order that serves af/type/protocol. Without
 * one, the error ws2_32 gives (Wine's sock.c test_WSASocket, which passes
 * on Windows, pins the order): AF_UNSPEC with no protocol cannot choose a
 * family, WSAEINVAL; a type no entry of any family has, WSAESOCKTNOSUPPORT;
 * then a family no entry has, WSAEAFNOSUPPORT; else WSAEPROTONOSUPPORT. */
static struct host_entry *select_entry(struct host_session *ses, int af, int type, int protocol,
                                       int *err)
{
    if (!af && !protocol) {
        *err = WSAEINVAL;
        return NULL;
    }
    int type_known = !type, af_known = !af;
    for (size_t i = 0; i < ses->nentries; i++) {
        const WSAPROTOCOL_INFOW *info = &ses->entries[i].info;
        if (entry_serves(info, af, type, protocol))
            return &ses->entries[i];
        if (info->ProtocolChain.ChainLen == LAYERED_PROTOCOL)
            continue;
        type_known |= info->iSocketType == type;
        af_known |= info->iAddressFamily == af;
    }
    *err = !type_known ? WSAESOCKTNOSUPPORT : !af_known ? WSAEAFNOSUPPORT : WSAEPROTONOSUPPORT;
    return NULL;
}

static SOCKET WSAAPI host_WSASocketW(int af, int type, int protocol, LPWSAPROTOCOL_INFOW info,
                                     GROUP g, DWORD flags)
{
    struct host_session *ses = host_session();
    if (!ses)
        return host_fail_socket(WSANOTINITIALISED);

    int err = 0;
    struct host_entry *e;
    WSAPROTOCOL_INFOW pass;
    if (info) {
        /* A protocol info from WSAEnumProtocols or WSADuplicateSocket names
         * its entry by id and goes to the provider as given. */
        if (!(e = host_session_entry(ses, info->dwCatalogEntryId)))
            return host_fail_socket(WSAEINVAL);
        pass = *info;
    } else {
        if (!(e = select_entry(ses, af, type, protocol, &err)))
            return host_fail_socket(err);
        pass = e->info;
    }
    if ((err = host_provider_ensure(e)))
        return host_fail_socket(err);

    host_count(HOST_WSPSocket);
    unsigned long since = host_binding_generation();
    SOCKET s = e->provider->procs.lpWSPSocket(af, type, protocol, &pass, g, flags, &err);
    if (s == INVALID_SOCKET)
        return host_fail_socket(err);
    if ((err = host_binding_adopt(s, since, e, e)))
        return host_fail_socket(err);
    return host_ok_socket(s);
}

static SOCKET WSAAPI host_socket(int af, int type, int protocol)
{
    /* ws2_32's socket() makes overlapped-capable sockets unless the
     * thread's SO_OPENTYPE asks for synchronous ones. */
    DWORD flags = host_open_type() ? 0 : WSA_FLAG_OVERLAPPED;
    return host_WSASocketW(af, type, protocol, NULL, 0, flags);
}

/* A socket that a call on `from` produced (accept, join) belongs to the
 * entry the provider registered it under, else to `from`'s entry. */
static SOCKET adopt_new(SOCKET from, struct host_entry *e, SOCKET s, unsigned long since)
{
    struct host_binding b;
    struct host_entry *created = host_binding_get(from, &b) && b.created ? b.created : e;
    int err = host_binding_adopt(s, since, e, created);
    return err ? host_fail_socket(err) : host_ok_socket(s);
}

static SOCKET WSAAPI host_WSAAccept(SOCKET s, struct sockaddr *addr, LPINT addrlen,
                                    LPCONDITIONPROC condition, DWORD_PTR callback_data)
{
    int err = 0;
    struct host_entry *e = host_route(s, &err);
    if (!e)
        return host_fail_socket(err);
    host_count(HOST_WSPAccept);
    unsigned long since = host_binding_generation();
    SOCKET ns = e->provider->procs.lpWSPAccept(s, addr, addrlen, condition, callback_data, &err);
    if (ns == INVALID_SOCKET)
        return host_fail_socket(err);
    return adopt_new(s, e, ns, since);
}

static SOCKET WSAAPI host_accept(SOCKET s, struct sockaddr *addr, int *addrlen)
{
    return host_WSAAccept(s, addr, addrlen, NULL, 0);
}

static SOCKET WSAAPI host_WSAJoinLeaf(SOCKET s, const struct sockaddr *name, int namelen,
                                      LPWSABUF caller_data, LPWSABUF callee_data, LPQOS sqos,
                                      LPQOS gqos, DWORD flags)
{
    int err = 0;
    struct host_entry *e = host_route(s, &err);
    if (!e)
        return host_fail_socket(err);
    host_count(HOST_WSPJoinLeaf);
    unsigned long since = host_binding_generation();
    SOCKET ns = e->provider->procs.lpWSPJoinLeaf(s, name, namelen, caller_data, callee_data,
                                                 sqos, gqos, flags, &err);
    if (ns == INVALID_SOCKET)
        return host_fail_socket(err);
    return adopt_new(s, e, ns, since);
}

static int WSAAPI host_closesocket(SOCKET s)
{
    ROUTE(s, WSPCloseSocket);
    unsigned long gen = host_binding_gen(s);
    if (wsp->lpWSPCloseSocket(s, &err) == SOCKET_ERROR)
        return host_fail(err); /* the handle stays valid and bound */
    host_binding_clear_if(s, gen);
    return host_ok(0);
}

/* ---- the rest: one WSP call each --------------------------------------- */

static int WSAAPI host_bind(SOCKET s, const struct sockaddr *name, int namelen)
{
    ROUTE(s, WSPBind);
    return wsp->lpWSPBind(s, name, namelen, &err) == SOCKET_ERROR ? host_fail(err) : host_ok(0);
}

static int WSAAPI host_listen(SOCKET s, int backlog)
{
    ROUTE(s, WSPListen);
    return wsp->lpWSPListen(s, backlog, &err) == SOCKET_ERROR ? host_fail(err) : host_ok(0);
}

static int WSAAPI host_WSAConnect(SOCKET s, const struct sockaddr *name, int namelen,
                                  LPWSABUF caller_data, LPWSABUF callee_data, LPQOS sqos,
                                  LPQOS gqos)
{
    ROUTE(s, WSPConnect);
    if (wsp->lpWSPConnect(s, name, namelen, caller_data, callee_data, sqos, gqos, &err) ==
        SOCKET_ERROR)
        return host_fail(err);
    return host_ok(0);
}

static int WSAAPI host_connect(SOCKET s, const struct sockaddr *name, int namelen)
{
    return host_WSAConnect(s, name, namelen, NULL, NULL, NULL, NULL);
}

static int WSAAPI host_getpeername(SOCKET s, struct sockaddr *name, int *namelen)
{
    ROUTE(s, WSPGetPeerName);
    return wsp->lpWSPGetPeerName(s, name, namelen, &err) == SOCKET_ERROR ? host_fail(err) : host_ok(0);
}

static int WSAAPI host_getsockname(SOCKET s, struct sockaddr *name, int *namelen)
{
    ROUTE(s, WSPGetSockName);
    return wsp->lpWSPGetSockName(s, name, namelen, &err) == SOCKET_ERROR ? host_fail(err) : host_ok(0);
}

/* SO_OPENTYPE is the thread's, not a socket's: ws2_32 answers it itself,
 * whatever handle is given (INVALID_SOCKET, a file). */
static int open_type_option(int set, char *optval, int *optlen, int setlen)
{
    if (!host_session())
        return host_fail(WSANOTINITIALISED);
    /* The length is compared as unsigned: a negative one is long enough,
     * as in Wine and on Windows (sock.c test_set_getsockopt). */
    int len = set ? setlen : optlen ? *optlen : 0;
    if (!optval || (unsigned int)len < sizeof(int))
        return host_fail(WSAEFAULT);
    if (set) {
        int value;
        memcpy(&value, optval, sizeof value);
        host_set_open_type(value);
    } else {
        int value = host_open_type();
        memcpy(optval, &value, sizeof value);
        *optlen = sizeof value;
    }
    return host_ok(0);
}

static int WSAAPI host_getsockopt(SOCKET s, int level, int optname, char *optval, int *optlen)
{
    if (level == SOL_SOCKET && optname == SO_OPENTYPE)
        return open_type_option(0, optval, optlen, 0);
    ROUTE(s, WSPGetSockOpt);
    if (wsp->lpWSPGetSockOpt(s, level, optname, optval, optlen, &err) == SOCKET_ERROR)
        return host_fail(err);
    return host_ok(0);
}

static int WSAAPI host_setsockopt(SOCKET s, int level, int optname, const char *optval,
                                  int optlen)
{
    if (level == SOL_SOCKET && optname == SO_OPENTYPE)
        return open_type_option(1, (char *)optval, NULL, optlen);
    ROUTE(s, WSPSetSockOpt);
    if (wsp->lpWSPSetSockOpt(s, level, optname, optval, optlen, &err) == SOCKET_ERROR)
        return host_fail(err);
    return host_ok(0);
}

static int WSAAPI host_WSAIoctl(SOCKET s, DWORD code, LPVOID in, DWORD in_len, LPVOID out,
                                DWORD out_len, LPDWORD returned, LPWSAOVERLAPPED overlapped,
                                LPWSAOVERLAPPED_COMPLETION_ROUTINE completion)
{
    ROUTE(s, WSPIoctl);
    if (wsp->lpWSPIoctl(s, code, in, in_len, out, out_len, returned, overlapped, completion,
                        host_thread_id(), &err) == SOCKET_ERROR)
        return host_fail(err);
    return host_ok(0);
}

/* ws2_32's ioctlsocket is WSPIoctl with the u_long as both buffers. */
static int WSAAPI host_ioctlsocket(SOCKET s, long cmd, u_long *argp)
{
    DWORD returned = 0;
    return host_WSAIoctl(s, (DWORD)cmd, argp, sizeof *argp, argp, sizeof *argp, &returned, NULL,
                         NULL);
}

static int WSAAPI host_WSASend(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD sent, DWORD flags,
                               LPWSAOVERLAPPED overlapped,
                               LPWSAOVERLAPPED_COMPLETION_ROUTINE completion)
{
    ROUTE(s, WSPSend);
    if (wsp->lpWSPSend(s, bufs, count, sent, flags, overlapped, completion, host_thread_id(),
                       &err) == SOCKET_ERROR)
        return host_fail(err);
    return host_ok(0);
}

static int WSAAPI host_WSARecv(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD received,
                               LPDWORD flags, LPWSAOVERLAPPED overlapped,
                               LPWSAOVERLAPPED_COMPLETION_ROUTINE completion)
{
    ROUTE(s, WSPRecv);
    if (wsp->lpWSPRecv(s, bufs, count, received, flags, overlapped, completion,
                       host_thread_id(), &err) == SOCKET_ERROR)
        return host_fail(err);
    return host_ok(0);
}

/* send/recv/sendto/recvfrom are one-buffer WSPSend/WSPRecv calls. A
 * negative length cannot describe a buffer: WSAEFAULT. */
static int WSAAPI host_send(SOCKET s, const char *buf, int len, int flags)
{
    if (len < 0)
        return host_fail(host_session() ? WSAEFAULT : WSANOTINITIALISED);
    WSABUF b = { (ULONG)len, (char *)buf };
    DWORD sent = 0;
    if (host_WSASend(s, &b, 1, &sent, (DWORD)flags, NULL, NULL) == SOCKET_ERROR)
        return SOCKET_ERROR;
    return (int)sent;
}

static int WSAAPI host_recv(SOCKET s, char *buf, int len, int flags)
{
    if (len < 0)
        return host_fail(host_session() ? WSAEFAULT : WSANOTINITIALISED);
    WSABUF b = { (ULONG)len, buf };
    DWORD received = 0, fl = (DWORD)flags;
    if (host_WSARecv(s, &b, 1, &received, &fl, NULL, NULL) == SOCKET_ERROR)
        return SOCKET_ERROR;
    return (int)received;
}

static int WSAAPI host_sendto(SOCKET s, const char *buf, int len, int flags,
                              const struct sockaddr *to, int tolen)
{
    if (len < 0)
        return host_fail(host_session() ? WSAEFAULT : WSANOTINITIALISED);
    ROUTE(s, WSPSendTo);
    WSABUF b = { (ULONG)len, (char *)buf };
    DWORD sent = 0;
    if (wsp->lpWSPSendTo(s, &b, 1, &sent, (DWORD)flags, to, tolen, NULL, NULL, host_thread_id(),
                         &err) == SOCKET_ERROR)
        return host_fail(err);
    return host_ok((int)sent);
}

static int WSAAPI host_recvfrom(SOCKET s, char *buf, int len, int flags, struct sockaddr *from,
                                int *fromlen)
{
    if (len < 0)
        return host_fail(host_session() ? WSAEFAULT : WSANOTINITIALISED);
    ROUTE(s, WSPRecvFrom);
    WSABUF b = { (ULONG)len, buf };
    DWORD received = 0, fl = (DWORD)flags;
    if (wsp->lpWSPRecvFrom(s, &b, 1, &received, &fl, from, fromlen, NULL, NULL,
                           host_thread_id(), &err) == SOCKET_ERROR)
        return host_fail(err);
    return host_ok((int)received);
}

static BOOL WSAAPI host_WSAGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED overlapped,
                                               LPDWORD transferred, BOOL wait, LPDWORD flags)
{
    int err = 0;
    struct host_entry *e = host_route(s, &err);
    if (!e) {
        host_fail(err);
        return FALSE;
    }
    host_count(HOST_WSPGetOverlappedResult);
    if (!e->provider->procs.lpWSPGetOverlappedResult(s, overlapped, transferred, wait, flags,
                                                     &err)) {
        host_fail(err);
        return FALSE;
    }
    return host_ok(TRUE);
}

static int WSAAPI host_shutdown(SOCKET s, int how)
{
    ROUTE(s, WSPShutdown);
    return wsp->lpWSPShutdown(s, how, &err) == SOCKET_ERROR ? host_fail(err) : host_ok(0);
}

/* ws2_32 hands select to the provider of the first socket in the sets. */
static int WSAAPI host_select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
                              const struct timeval *timeout)
{
    fd_set *sets[3] = { readfds, writefds, exceptfds };
    const fd_set *with_handles = NULL;
    for (int i = 0; i < 3 && !with_handles; i++) {
        if (sets[i] && sets[i]->fd_count)
            with_handles = sets[i];
    }
    /* Every value counts, INVALID_SOCKET too: it is a handle no provider
     * owns (WSAENOTSOCK), not an empty set (WSAEINVAL). */
    if (!with_handles)
        return host_fail(host_session() ? WSAEINVAL : WSANOTINITIALISED);
    SOCKET first = with_handles->fd_array[0];
    ROUTE(first, WSPSelect);
    int n = wsp->lpWSPSelect(nfds, readfds, writefds, exceptfds, (PTIMEVAL)timeout, &err);
    return n == SOCKET_ERROR ? host_fail(err) : host_ok(n);
}

static int WSAAPI host_WSAEventSelect(SOCKET s, WSAEVENT event, long events)
{
    ROUTE(s, WSPEventSelect);
    return wsp->lpWSPEventSelect(s, event, events, &err) == SOCKET_ERROR ? host_fail(err) : host_ok(0);
}

static int WSAAPI host_WSAEnumNetworkEvents(SOCKET s, WSAEVENT event, LPWSANETWORKEVENTS events)
{
    ROUTE(s, WSPEnumNetworkEvents);
    if (wsp->lpWSPEnumNetworkEvents(s, event, events, &err) == SOCKET_ERROR)
        return host_fail(err);
    return host_ok(0);
}

static int WSAAPI host_WSADuplicateSocketW(SOCKET s, DWORD pid, LPWSAPROTOCOL_INFOW info)
{
    ROUTE(s, WSPDuplicateSocket);
    if (wsp->lpWSPDuplicateSocket(s, pid, info, &err) == SOCKET_ERROR)
        return host_fail(err);
    return host_ok(0);
}

static const struct wsapi host_table = {
    "host",
    host_WSAStartup,
    host_WSACleanup,
    host_WSAGetLastError,
    host_WSASetLastError,
    host_WSAEnumProtocolsW,
    host_socket,
    host_WSASocketW,
    host_closesocket,
    host_bind,
    host_listen,
    host_accept,
    host_WSAAccept,
    host_connect,
    host_WSAConnect,
    host_WSAJoinLeaf,
    host_getpeername,
    host_getsockname,
    host_getsockopt,
    host_setsockopt,
    host_ioctlsocket,
    host_WSAIoctl,
    host_send,
    host_recv,
    host_sendto,
    host_recvfrom,
    host_WSASend,
    host_WSARecv,
    host_WSAGetOverlappedResult,
    host_shutdown,
    host_select,
    host_WSAEventSelect,
    host_WSAEnumNetworkEvents,
    host_WSADuplicateSocketW,
};

const struct wsapi *host_api(void)
{
    return &host_table;
}

/* ---- the base provider, bypassing the chain ---------------------------- */

int host_lower_getpeername(SOCKET s, struct sockaddr *name, int *namelen, int *err)
{
    struct host_session *ses = host_session();
    struct host_binding b;
    if (!ses) {
        *err = WSANOTINITIALISED;
        return SOCKET_ERROR;
    }
    if (!host_binding_get(s, &b)) {
        *err = WSAENOTSOCK;
        return SOCKET_ERROR;
    }
    struct host_entry *top = b.created ? b.created : b.entry;
    struct host_entry *base = top;
    const WSAPROTOCOLCHAIN *chain = &top->info.ProtocolChain;
    if (chain->ChainLen > BASE_PROTOCOL && chain->ChainLen <= MAX_PROTOCOL_CHAIN)
        base = host_session_entry(ses, chain->ChainEntries[chain->ChainLen - 1]);
    if (!base) {
        *err = WSAEINVAL; /* a chain that ends in no entry */
        return SOCKET_ERROR;
    }
    int e = host_provider_ensure(base);
    if (e) {
        *err = e;
        return SOCKET_ERROR;
    }
    return base->provider->procs.lpWSPGetPeerName(s, name, namelen, err);
}
