/*
 * trace.c - tracing wrappers for the WSP functions peerlsp implements.
 *
 * A line per call: process id, thread id, function, socket, result and,
 * for getpeername, accept and connect, the peer. Errors travel as they do
 * without tracing: the wrappers only read what the real function returned.
 */
#include <wchar.h>

#include "internal.h"
#include "trace.h"

#include <ws2tcpip.h>

#define PLSP_TRACE_KEY L"SOFTWARE\\peerlsp"
#define PLSP_TRACE_VALUE L"Trace"
#define PLSP_TRACE_LINE 256

int plsp_trace_configured(void)
{
    DWORD value = 0, size = sizeof value;

    if (RegGetValueW(HKEY_LOCAL_MACHINE, PLSP_TRACE_KEY, PLSP_TRACE_VALUE, RRF_RT_REG_DWORD, NULL,
                     &value, &size) != ERROR_SUCCESS)
        return 0;
    return value != 0;
}

/* "a.b.c.d:port" or "[v6]:port"; "-" for anything else. Bounded by n. */
static void format_peer(const struct sockaddr *name, const int *namelen, WCHAR *out, size_t n)
{
    if (name && namelen && *namelen == (int)sizeof(struct sockaddr_in) &&
        name->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)name;
        const unsigned char *b = (const unsigned char *)&in->sin_addr;
        _snwprintf(out, n, L"%u.%u.%u.%u:%u", b[0], b[1], b[2], b[3], ntohs(in->sin_port));
    } else if (name && namelen && *namelen == (int)sizeof(struct sockaddr_in6) &&
               name->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)name;
        const unsigned char *b = in6->sin6_addr.s6_addr;
        unsigned g[8];
        for (int i = 0; i < 8; i++)
            g[i] = (unsigned)(b[2 * i] << 8 | b[2 * i + 1]);
        /* msvcrt's _snwprintf, not MinGW's C99 snprintf: that one brings
         * gdtoa and its atexit, which a DLL without CRT start-up code
         * cannot have (src/CMakeLists.txt). */
        _snwprintf(out, n, L"[%x:%x:%x:%x:%x:%x:%x:%x]:%u", g[0], g[1], g[2], g[3], g[4], g[5],
                   g[6], g[7], ntohs(in6->sin6_port));
    } else {
        _snwprintf(out, n, L"-");
    }
    out[n - 1] = 0;
}

static void trace_line(const char *fn, SOCKET s, INT_PTR ret, int failed, int err,
                       const WCHAR *peer)
{
    WCHAR line[PLSP_TRACE_LINE];

    if (failed)
        _snwprintf(line, PLSP_TRACE_LINE, L"peerlsp: pid %lu tid %lu %hs socket %#Ix -> error %d\n",
                   GetCurrentProcessId(), GetCurrentThreadId(), fn, (size_t)s, err);
    else
        _snwprintf(line, PLSP_TRACE_LINE, L"peerlsp: pid %lu tid %lu %hs socket %#Ix -> %Id%ls%ls\n",
                   GetCurrentProcessId(), GetCurrentThreadId(), fn, (size_t)s, ret,
                   peer ? L" peer " : L"", peer ? peer : L"");
    line[PLSP_TRACE_LINE - 1] = 0;
    OutputDebugStringW(line);
}

static SOCKET WSPAPI t_Socket(int af, int type, int protocol, LPWSAPROTOCOL_INFOW info, GROUP g,
                              DWORD flags, LPINT lpErrno)
{
    SOCKET r = plsp_WSPSocket(af, type, protocol, info, g, flags, lpErrno);
    trace_line("WSPSocket", r, (INT_PTR)r, r == INVALID_SOCKET, *lpErrno, NULL);
    return r;
}

static SOCKET WSPAPI t_Accept(SOCKET s, struct sockaddr *addr, LPINT addrlen,
                              LPCONDITIONPROC condition, DWORD_PTR data, LPINT lpErrno)
{
    WCHAR peer[64];
    SOCKET r = plsp_WSPAccept(s, addr, addrlen, condition, data, lpErrno);
    /* The caller's buffers are read only after a success: on a failure
     * they may be exactly what the lower provider rejected. */
    format_peer(r != INVALID_SOCKET ? addr : NULL, addrlen, peer, 64);
    trace_line("WSPAccept", s, (INT_PTR)r, r == INVALID_SOCKET, *lpErrno, peer);
    return r;
}

static SOCKET WSPAPI t_JoinLeaf(SOCKET s, const struct sockaddr *name, int namelen,
                                LPWSABUF caller, LPWSABUF callee, LPQOS sqos, LPQOS gqos,
                                DWORD flags, LPINT lpErrno)
{
    SOCKET r = plsp_WSPJoinLeaf(s, name, namelen, caller, callee, sqos, gqos, flags, lpErrno);
    trace_line("WSPJoinLeaf", s, (INT_PTR)r, r == INVALID_SOCKET, *lpErrno, NULL);
    return r;
}

static int WSPAPI t_Connect(SOCKET s, const struct sockaddr *name, int namelen, LPWSABUF caller,
                            LPWSABUF callee, LPQOS sqos, LPQOS gqos, LPINT lpErrno)
{
    WCHAR peer[64];
    int r = plsp_WSPConnect(s, name, namelen, caller, callee, sqos, gqos, lpErrno);
    format_peer(r == 0 ? name : NULL, &namelen, peer, 64);
    trace_line("WSPConnect", s, r, r == SOCKET_ERROR, *lpErrno, peer);
    return r;
}

static int WSPAPI t_CloseSocket(SOCKET s, LPINT lpErrno)
{
    int r = plsp_WSPCloseSocket(s, lpErrno);
    trace_line("WSPCloseSocket", s, r, r == SOCKET_ERROR, *lpErrno, NULL);
    return r;
}

static int WSPAPI t_DuplicateSocket(SOCKET s, DWORD pid, LPWSAPROTOCOL_INFOW info, LPINT lpErrno)
{
    int r = plsp_WSPDuplicateSocket(s, pid, info, lpErrno);
    trace_line("WSPDuplicateSocket", s, r, r == SOCKET_ERROR, *lpErrno, NULL);
    return r;
}

static int WSPAPI t_GetPeerName(SOCKET s, struct sockaddr *name, LPINT namelen, LPINT lpErrno)
{
    WCHAR peer[64];
    int r = plsp_WSPGetPeerName(s, name, namelen, lpErrno);
    format_peer(r == 0 ? name : NULL, namelen, peer, 64);
    trace_line("WSPGetPeerName", s, r, r == SOCKET_ERROR, *lpErrno, peer);
    return r;
}

static int WSPAPI t_Ioctl(SOCKET s, DWORD code, LPVOID in, DWORD in_len, LPVOID out,
                          DWORD out_len, LPDWORD returned, LPWSAOVERLAPPED ov,
                          LPWSAOVERLAPPED_COMPLETION_ROUTINE completion, LPWSATHREADID thread,
                          LPINT lpErrno)
{
    int r = plsp_WSPIoctl(s, code, in, in_len, out, out_len, returned, ov, completion, thread,
                          lpErrno);
    trace_line("WSPIoctl", s, r, r == SOCKET_ERROR, *lpErrno, NULL);
    return r;
}

static int WSPAPI t_SetSockOpt(SOCKET s, int level, int name, const char *val, int len,
                               LPINT lpErrno)
{
    int r = plsp_WSPSetSockOpt(s, level, name, val, len, lpErrno);
    trace_line("WSPSetSockOpt", s, r, r == SOCKET_ERROR, *lpErrno, NULL);
    return r;
}

void plsp_trace_wrap(WSPPROC_TABLE *table)
{
    table->lpWSPSocket = t_Socket;
    table->lpWSPAccept = t_Accept;
    table->lpWSPJoinLeaf = t_JoinLeaf;
    table->lpWSPConnect = t_Connect;
    table->lpWSPCloseSocket = t_CloseSocket;
    table->lpWSPDuplicateSocket = t_DuplicateSocket;
    table->lpWSPGetPeerName = t_GetPeerName;
    table->lpWSPIoctl = t_Ioctl;
    table->lpWSPSetSockOpt = t_SetSockOpt;
}
