/*
 * wsapi_ws2_32.c - wsapi.h's table filled with ws2_32's own functions, for
 * running the same tests against the real thing (Windows), or against
 * Wine's ws2_32 to compare.
 */
#include "wsapi.h"

/* MinGW declares select's timeout as `const PTIMEVAL` (a const pointer to
 * a mutable timeval) where Microsoft's header has a pointer to const. */
static int WSAAPI ws2_select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
                             const struct timeval *timeout)
{
    return select(nfds, readfds, writefds, exceptfds, (PTIMEVAL)timeout);
}

static const struct wsapi ws2_32_table = {
    "ws2_32",
    WSAStartup,
    WSACleanup,
    WSAGetLastError,
    WSASetLastError,
    WSAEnumProtocolsW,
    socket,
    WSASocketW,
    closesocket,
    bind,
    listen,
    accept,
    WSAAccept,
    connect,
    WSAConnect,
    WSAJoinLeaf,
    getpeername,
    getsockname,
    getsockopt,
    setsockopt,
    ioctlsocket,
    WSAIoctl,
    send,
    recv,
    sendto,
    recvfrom,
    WSASend,
    WSARecv,
    WSAGetOverlappedResult,
    shutdown,
    ws2_select,
    WSAEventSelect,
    WSAEnumNetworkEvents,
    WSADuplicateSocketW,
};

const struct wsapi *wsapi_ws2_32(void)
{
    return &ws2_32_table;
}
