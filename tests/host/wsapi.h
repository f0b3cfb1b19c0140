/*
 * wsapi.h - the Winsock API surface the end-to-end tests are written against.
 *
 * Two things can provide it: the test host (tests/host), which plays ws2_32's
 * part under Wine and routes every call through the simulated catalog and the
 * providers it loaded; and, on real Windows, ws2_32 itself (wsapi_ws2_32()).
 * Tests written against this table would therefore pass on Windows too.
 * Every member has exactly ws2_32's signature and semantics, including the
 * per-thread last error read by WSAGetLastError.
 */
#ifndef PEERLSP_TESTS_WSAPI_H
#define PEERLSP_TESTS_WSAPI_H

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>

struct wsapi {
    const char *name; /* for messages: "host" or "ws2_32" */

    int (WSAAPI *WSAStartup)(WORD version, LPWSADATA data);
    int (WSAAPI *WSACleanup)(void);
    int (WSAAPI *WSAGetLastError)(void);
    void (WSAAPI *WSASetLastError)(int error);
    int (WSAAPI *WSAEnumProtocolsW)(LPINT protocols, LPWSAPROTOCOL_INFOW buffer, LPDWORD length);

    SOCKET (WSAAPI *socket)(int af, int type, int protocol);
    SOCKET (WSAAPI *WSASocketW)(int af, int type, int protocol, LPWSAPROTOCOL_INFOW info,
                                GROUP g, DWORD flags);
    int (WSAAPI *closesocket)(SOCKET s);
    int (WSAAPI *bind)(SOCKET s, const struct sockaddr *name, int namelen);
    int (WSAAPI *listen)(SOCKET s, int backlog);
    SOCKET (WSAAPI *accept)(SOCKET s, struct sockaddr *addr, int *addrlen);
    SOCKET (WSAAPI *WSAAccept)(SOCKET s, struct sockaddr *addr, LPINT addrlen,
                               LPCONDITIONPROC condition, DWORD_PTR callback_data);
    int (WSAAPI *connect)(SOCKET s, const struct sockaddr *name, int namelen);
    int (WSAAPI *WSAConnect)(SOCKET s, const struct sockaddr *name, int namelen,
                             LPWSABUF caller_data, LPWSABUF callee_data, LPQOS sqos, LPQOS gqos);
    SOCKET (WSAAPI *WSAJoinLeaf)(SOCKET s, const struct sockaddr *name, int namelen,
                                 LPWSABUF caller_data, LPWSABUF callee_data, LPQOS sqos,
                                 LPQOS gqos, DWORD flags);
    int (WSAAPI *getpeername)(SOCKET s, struct sockaddr *name, int *namelen);
    int (WSAAPI *getsockname)(SOCKET s, struct sockaddr *name, int *namelen);
    int (WSAAPI *getsockopt)(SOCKET s, int level, int optname, char *optval, int *optlen);
    int (WSAAPI *setsockopt)(SOCKET s, int level, int optname, const char *optval, int optlen);
    int (WSAAPI *ioctlsocket)(SOCKET s, long cmd, u_long *argp);
    int (WSAAPI *WSAIoctl)(SOCKET s, DWORD code, LPVOID in, DWORD in_len, LPVOID out,
                           DWORD out_len, LPDWORD returned, LPWSAOVERLAPPED overlapped,
                           LPWSAOVERLAPPED_COMPLETION_ROUTINE completion);
    int (WSAAPI *send)(SOCKET s, const char *buf, int len, int flags);
    int (WSAAPI *recv)(SOCKET s, char *buf, int len, int flags);
    int (WSAAPI *sendto)(SOCKET s, const char *buf, int len, int flags,
                         const struct sockaddr *to, int tolen);
    int (WSAAPI *recvfrom)(SOCKET s, char *buf, int len, int flags, struct sockaddr *from,
                           int *fromlen);
    int (WSAAPI *WSASend)(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD sent, DWORD flags,
                          LPWSAOVERLAPPED overlapped,
                          LPWSAOVERLAPPED_COMPLETION_ROUTINE completion);
    int (WSAAPI *WSARecv)(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD received,
                          LPDWORD flags, LPWSAOVERLAPPED overlapped,
                          LPWSAOVERLAPPED_COMPLETION_ROUTINE completion);
    BOOL (WSAAPI *WSAGetOverlappedResult)(SOCKET s, LPWSAOVERLAPPED overlapped,
                                          LPDWORD transferred, BOOL wait, LPDWORD flags);
    int (WSAAPI *shutdown)(SOCKET s, int how);
    int (WSAAPI *select)(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
                         const struct timeval *timeout);
    int (WSAAPI *WSAEventSelect)(SOCKET s, WSAEVENT event, long events);
    int (WSAAPI *WSAEnumNetworkEvents)(SOCKET s, WSAEVENT event, LPWSANETWORKEVENTS events);
    int (WSAAPI *WSADuplicateSocketW)(SOCKET s, DWORD pid, LPWSAPROTOCOL_INFOW info);
};

/* ws2_32's own functions (what a test binary would use on real Windows). */
const struct wsapi *wsapi_ws2_32(void);

#endif /* PEERLSP_TESTS_WSAPI_H */
