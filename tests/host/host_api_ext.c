/*
 * host_api_ext.c - the rest of ws2_32's socket functions (and mswsock's
 * three that take a socket), routed through the SPI the way ws2_32 and
 * mswsock do it on Windows. wsapi.h's table covers what the end-to-end
 * tests use; peerlsp-run's router (tests/run) needs every function an
 * unmodified program may call, declared in host_ext.h.
 *
 * Where Windows implements a function in ws2_32 on top of other SPI calls
 * (WSAPoll, WSASendMsg, the A variants, WSAHtonl...) the comment says which
 * calls; nothing here reaches Wine's sockets except through a provider.
 */
#include <stdlib.h>
#include <string.h>

#include "host_internal.h"
#include "host_ext.h"

#include <ws2tcpip.h>

/* ---- ANSI variants: ws2_32 converts and calls the wide path ------------ */

static void protocol_info_w_to_a(const WSAPROTOCOL_INFOW *w, WSAPROTOCOL_INFOA *a)
{
    /* The two structures differ only in szProtocol. */
    memcpy(a, w, offsetof(WSAPROTOCOL_INFOA, szProtocol));
    if (!WideCharToMultiByte(CP_ACP, 0, w->szProtocol, -1, a->szProtocol,
                             sizeof a->szProtocol, NULL, NULL))
        a->szProtocol[0] = '\0';
}

static void protocol_info_a_to_w(const WSAPROTOCOL_INFOA *a, WSAPROTOCOL_INFOW *w)
{
    memcpy(w, a, offsetof(WSAPROTOCOL_INFOW, szProtocol));
    if (!MultiByteToWideChar(CP_ACP, 0, a->szProtocol, -1, w->szProtocol,
                             ARRAYSIZE(w->szProtocol)))
        w->szProtocol[0] = L'\0';
}

SOCKET WSAAPI host_WSASocketA(int af, int type, int protocol, LPWSAPROTOCOL_INFOA info,
                              GROUP g, DWORD flags)
{
    if (!info)
        return host_api()->WSASocketW(af, type, protocol, NULL, g, flags);
    WSAPROTOCOL_INFOW wide;
    protocol_info_a_to_w(info, &wide);
    return host_api()->WSASocketW(af, type, protocol, &wide, g, flags);
}

int WSAAPI host_WSADuplicateSocketA(SOCKET s, DWORD pid, LPWSAPROTOCOL_INFOA info)
{
    /* No structure to convert: the provider checks the socket, then the
     * pointer, as for the wide call. */
    if (!info)
        return host_api()->WSADuplicateSocketW(s, pid, NULL);
    WSAPROTOCOL_INFOW wide;
    if (host_api()->WSADuplicateSocketW(s, pid, &wide) == SOCKET_ERROR)
        return SOCKET_ERROR;
    protocol_info_w_to_a(&wide, info);
    return host_ok(0);
}

/* Same contract as the wide function, with the ANSI structure's size in
 * *length (needed size on WSAENOBUFS). */
int WSAAPI host_WSAEnumProtocolsA(LPINT protocols, LPWSAPROTOCOL_INFOA buffer, LPDWORD length)
{
    if (!length)
        return host_fail(host_session() ? WSAEFAULT : WSANOTINITIALISED);
    DWORD wide_len = 0;
    int n = host_api()->WSAEnumProtocolsW(protocols, NULL, &wide_len);
    if (n == SOCKET_ERROR && host_last_error() != WSAENOBUFS)
        return SOCKET_ERROR;
    size_t count = wide_len / sizeof(WSAPROTOCOL_INFOW);
    DWORD needed = (DWORD)(count * sizeof(WSAPROTOCOL_INFOA));
    if (!buffer || *length < needed) {
        *length = needed;
        return host_fail(WSAENOBUFS);
    }
    WSAPROTOCOL_INFOW *wide = count ? malloc(wide_len) : NULL;
    if (count && !wide)
        return host_fail(WSAENOBUFS);
    n = host_api()->WSAEnumProtocolsW(protocols, wide, &wide_len);
    if (n != SOCKET_ERROR) {
        for (int i = 0; i < n && (size_t)i < count; i++)
            protocol_info_w_to_a(&wide[i], &buffer[i]);
    }
    free(wide);
    return n == SOCKET_ERROR ? SOCKET_ERROR : host_ok(n);
}

/* ---- one WSP call each -------------------------------------------------- */

int WSAAPI host_WSAAsyncSelect(SOCKET s, HWND window, u_int message, long events)
{
    ROUTE(s, WSPAsyncSelect);
    if (wsp->lpWSPAsyncSelect(s, window, message, events, &err) == SOCKET_ERROR)
        return host_fail(err);
    return host_ok(0);
}

int WSAAPI host_WSASendTo(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD sent, DWORD flags,
                          const struct sockaddr *to, int tolen, LPWSAOVERLAPPED overlapped,
                          LPWSAOVERLAPPED_COMPLETION_ROUTINE completion)
{
    ROUTE(s, WSPSendTo);
    if (wsp->lpWSPSendTo(s, bufs, count, sent, flags, to, tolen, overlapped, completion,
                         host_thread_id(), &err) == SOCKET_ERROR)
        return host_fail(err);
    return host_ok(0);
}

int WSAAPI host_WSARecvFrom(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD received,
                            LPDWORD flags, struct sockaddr *from, LPINT fromlen,
                            LPWSAOVERLAPPED overlapped,
                            LPWSAOVERLAPPED_COMPLETION_ROUTINE completion)
{
    ROUTE(s, WSPRecvFrom);
    if (wsp->lpWSPRecvFrom(s, bufs, count, received, flags, from, fromlen, overlapped,
                           completion, host_thread_id(), &err) == SOCKET_ERROR)
        return host_fail(err);
    return host_ok(0);
}

int WSAAPI host_WSARecvDisconnect(SOCKET s, LPWSABUF data)
{
    ROUTE(s, WSPRecvDisconnect);
    if (wsp->lpWSPRecvDisconnect(s, data, &err) == SOCKET_ERROR)
        return host_fail(err);
    return host_ok(0);
}

int WSAAPI host_WSASendDisconnect(SOCKET s, LPWSABUF data)
{
    ROUTE(s, WSPSendDisconnect);
    if (wsp->lpWSPSendDisconnect(s, data, &err) == SOCKET_ERROR)
        return host_fail(err);
    return host_ok(0);
}

BOOL WSAAPI host_WSAGetQOSByName(SOCKET s, LPWSABUF name, LPQOS qos)
{
    int err = 0;
    struct host_entry *e = host_route(s, &err);
    if (!e) {
        host_fail(err);
        return FALSE;
    }
    host_count(HOST_WSPGetQOSByName);
    if (!e->provider->procs.lpWSPGetQOSByName(s, name, qos, &err)) {
        host_fail(err);
        return FALSE;
    }
    return host_ok(TRUE);
}

/* ws2_32's WSASendMsg hands the call to the provider as SIO_EXT_SENDMSG
 * with a WSASENDMSG describing it. */
int WSAAPI host_WSASendMsg(SOCKET s, LPWSAMSG msg, DWORD flags, LPDWORD sent,
                           LPWSAOVERLAPPED overlapped,
                           LPWSAOVERLAPPED_COMPLETION_ROUTINE completion)
{
    WSASENDMSG params = { msg, flags, sent, overlapped, completion };
    DWORD returned = 0;
    return host_api()->WSAIoctl(s, SIO_EXT_SENDMSG, &params, sizeof params, NULL, 0, &returned,
                                NULL, NULL);
}

/* ---- byte order: ws2_32 checks the socket, converts by the provider's
 * byte order (every entry here is big-endian: NetworkByteOrder) -------- */

static int byte_order_socket(SOCKET s, const void *out)
{
    int err = 0;
    if (!host_route(s, &err))
        return host_fail(err);
    if (!out)
        return host_fail(WSAEFAULT);
    return 0;
}

int WSAAPI host_WSAHtonl(SOCKET s, u_long host_value, u_long *net_value)
{
    if (byte_order_socket(s, net_value))
        return SOCKET_ERROR;
    *net_value = htonl(host_value);
    return host_ok(0);
}

int WSAAPI host_WSAHtons(SOCKET s, u_short host_value, u_short *net_value)
{
    if (byte_order_socket(s, net_value))
        return SOCKET_ERROR;
    *net_value = htons(host_value);
    return host_ok(0);
}

int WSAAPI host_WSANtohl(SOCKET s, u_long net_value, u_long *host_value)
{
    if (byte_order_socket(s, host_value))
        return SOCKET_ERROR;
    *host_value = ntohl(net_value);
    return host_ok(0);
}

int WSAAPI host_WSANtohs(SOCKET s, u_short net_value, u_short *host_value)
{
    if (byte_order_socket(s, host_value))
        return SOCKET_ERROR;
    *host_value = ntohs(net_value);
    return host_ok(0);
}

/* ---- WSAPoll ----------------------------------------------------------
 * There is no WSPPoll. Windows' ws2_32 asks each socket's provider for its
 * base handle with SIO_BSP_HANDLE_POLL and polls the base handles in one
 * call; the host does the same, polling with Wine's WSAPoll (the host's
 * own import). A handle no provider owns is passed as it is, so that the
 * base poll reports it (POLLNVAL). */

int WSAAPI host_WSAPoll(WSAPOLLFD *fds, ULONG count, int timeout)
{
    if (!host_session())
        return host_fail(WSANOTINITIALISED);
    if (!count || !fds)
        return WSAPoll(fds, count, timeout); /* its own WSAEINVAL/WSAEFAULT */
    WSAPOLLFD *base = calloc(count, sizeof *base);
    if (!base)
        return host_fail(WSAENOBUFS);
    for (ULONG i = 0; i < count; i++) {
        base[i] = fds[i];
        int err = 0;
        struct host_entry *e = host_route(fds[i].fd, &err);
        if (!e)
            continue;
        SOCKET handle = INVALID_SOCKET;
        DWORD returned = 0;
        host_count(HOST_WSPIoctl);
        if (e->provider->procs.lpWSPIoctl(fds[i].fd, SIO_BSP_HANDLE_POLL, NULL, 0, &handle,
                                          sizeof handle, &returned, NULL, NULL,
                                          host_thread_id(), &err) == 0 &&
            returned == sizeof handle)
            base[i].fd = handle;
    }
    /* revents are the caller's answer even when the poll fails (every
     * handle invalid: POLLNVAL each, WSAENOTSOCK). */
    int n = WSAPoll(base, count, timeout);
    for (ULONG i = 0; i < count; i++)
        fds[i].revents = base[i].revents;
    DWORD saved = GetLastError();
    free(base);
    SetLastError(saved);
    if (n == SOCKET_ERROR)
        return host_fail((int)saved);
    return host_ok(n);
}

/* ---- mswsock's exports: through the provider's extension functions ---- */

/* What mswsock's exported AcceptEx and TransmitFile do on Windows: ask the
 * socket's provider for the extension function and call it. */
static void *extension(SOCKET s, GUID guid)
{
    void *fn = NULL;
    DWORD returned = 0;
    if (host_api()->WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof guid, &fn,
                             sizeof fn, &returned, NULL, NULL) == SOCKET_ERROR)
        return NULL;
    return fn;
}

BOOL WSAAPI host_AcceptEx(SOCKET listener, SOCKET accepted, PVOID buffer, DWORD receive_len,
                          DWORD local_len, DWORD remote_len, LPDWORD received,
                          LPOVERLAPPED overlapped)
{
    LPFN_ACCEPTEX fn = (LPFN_ACCEPTEX)extension(listener, (GUID)WSAID_ACCEPTEX);
    if (!fn)
        return FALSE;
    return fn(listener, accepted, buffer, receive_len, local_len, remote_len, received,
              overlapped);
}

BOOL WSAAPI host_TransmitFile(SOCKET s, HANDLE file, DWORD bytes, DWORD per_send,
                              LPOVERLAPPED overlapped, LPTRANSMIT_FILE_BUFFERS buffers,
                              DWORD flags)
{
    LPFN_TRANSMITFILE fn = (LPFN_TRANSMITFILE)extension(s, (GUID)WSAID_TRANSMITFILE);
    if (!fn)
        return FALSE;
    return fn(s, file, bytes, per_send, overlapped, buffers, flags);
}

/* WSARecvEx: WSARecv that reports a partial message in *flags. */
int WSAAPI host_WSARecvEx(SOCKET s, char *buf, int len, int *flags)
{
    if (!flags)
        return host_fail(host_session() ? WSAEFAULT : WSANOTINITIALISED);
    if (len < 0)
        return host_fail(host_session() ? WSAEFAULT : WSANOTINITIALISED);
    WSABUF b = { (ULONG)len, buf };
    DWORD received = 0, fl = (DWORD)*flags;
    if (host_api()->WSARecv(s, &b, 1, &received, &fl, NULL, NULL) == SOCKET_ERROR)
        return SOCKET_ERROR;
    *flags = (int)fl;
    return (int)received;
}

/* ---- WSAConnectByName --------------------------------------------------
 * ws2_32 implements it on top of other calls: the socket's protocol (its
 * SO_PROTOCOL_INFO), name resolution for that family and type, a connect,
 * a wait until the socket is writable, and the two addresses. Here every
 * call on the socket goes through the host. A stream socket only; the
 * timeout is not honoured (Wine 8 ignores it too). */

static int connected_addresses(SOCKET s, const struct sockaddr *remote, int size,
                               DWORD *local_len, struct sockaddr *local, DWORD *remote_len,
                               struct sockaddr *remote_out)
{
    if (remote_len && remote_out) {
        if (*remote_len < (DWORD)size)
            return host_fail(WSAEFAULT);
        memcpy(remote_out, remote, (size_t)size);
        *remote_len = (DWORD)size;
    }
    if (local_len && local) {
        if (*local_len < (DWORD)size)
            return host_fail(WSAEFAULT);
        int len = size;
        if (host_api()->getsockname(s, local, &len) == SOCKET_ERROR)
            return SOCKET_ERROR;
        /* Documented: the local address comes back without its port. */
        if (local->sa_family == AF_INET6)
            ((SOCKADDR_IN6 *)local)->sin6_port = 0;
        else
            ((SOCKADDR_IN *)local)->sin_port = 0;
        *local_len = (DWORD)size;
    }
    return 0;
}

BOOL WSAAPI host_WSAConnectByNameA(SOCKET s, LPCSTR node, LPCSTR service, LPDWORD local_len,
                                   LPSOCKADDR local, LPDWORD remote_len, LPSOCKADDR remote,
                                   const struct timeval *timeout, LPWSAOVERLAPPED reserved)
{
    (void)timeout;
    if (!node || !service || reserved)
        return host_fail(WSAEINVAL), FALSE;
    if (!s)
        return host_fail(WSAENOTSOCK), FALSE;
    WSAPROTOCOL_INFOW info;
    int len = sizeof info;
    if (host_api()->getsockopt(s, SOL_SOCKET, SO_PROTOCOL_INFOW, (char *)&info, &len))
        return FALSE;
    struct addrinfo hints = { 0 }, *found = NULL;
    hints.ai_family = info.iAddressFamily;
    hints.ai_socktype = info.iSocketType;
    hints.ai_protocol = info.iProtocol;
    int err = getaddrinfo(node, service, &hints, &found);
    if (err)
        return host_fail(err), FALSE;
    int size = info.iAddressFamily == AF_INET6  ? (int)sizeof(SOCKADDR_IN6)
               : info.iAddressFamily == AF_INET ? (int)sizeof(SOCKADDR_IN)
                                                : 0;
    BOOL ok = FALSE;
    if (info.iSocketType != SOCK_STREAM)
        host_fail(WSAEFAULT);
    else if (!size)
        host_fail(WSAENOTSOCK);
    else if (host_api()->connect(s, found->ai_addr, size) == 0) {
        /* Connected once writable; a poll that fails left its error. */
        WSAPOLLFD writable = { s, POLLWRNORM, 0 };
        int polled = host_WSAPoll(&writable, 1, -1) != SOCKET_ERROR;
        if (polled && (writable.revents & (POLLERR | POLLHUP | POLLNVAL))) {
            int sock_err = 0, opt_len = sizeof sock_err;
            if (!host_api()->getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&sock_err, &opt_len))
                host_fail(sock_err);
        } else if (polled) {
            ok = !connected_addresses(s, found->ai_addr, size, local_len, local, remote_len,
                                      remote);
        }
    }
    DWORD saved = GetLastError();
    freeaddrinfo(found);
    SetLastError(saved);
    return ok ? host_ok(TRUE) : FALSE;
}

static char *to_ansi(LPCWSTR text)
{
    int n = WideCharToMultiByte(CP_ACP, 0, text, -1, NULL, 0, NULL, NULL);
    char *out = n > 0 ? malloc((size_t)n) : NULL;
    if (out && !WideCharToMultiByte(CP_ACP, 0, text, -1, out, n, NULL, NULL)) {
        free(out);
        out = NULL;
    }
    return out;
}

BOOL WSAAPI host_WSAConnectByNameW(SOCKET s, LPWSTR node, LPWSTR service, LPDWORD local_len,
                                   LPSOCKADDR local, LPDWORD remote_len, LPSOCKADDR remote,
                                   const struct timeval *timeout, LPWSAOVERLAPPED reserved)
{
    if (!node || !service)
        return host_fail(WSAEINVAL), FALSE;
    char *node_a = to_ansi(node), *service_a = to_ansi(service);
    BOOL ok = FALSE;
    if (!node_a || !service_a)
        host_fail(WSAENOBUFS);
    else
        ok = host_WSAConnectByNameA(s, node_a, service_a, local_len, local, remote_len, remote,
                                    timeout, reserved);
    DWORD saved = GetLastError();
    free(node_a);
    free(service_a);
    SetLastError(saved);
    return ok;
}
