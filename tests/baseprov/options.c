/*
 * options.c - socket options, ioctls and QoS: WSPGetSockOpt, WSPSetSockOpt,
 * WSPIoctl, WSPGetQOSByName.
 */
#include <string.h>

#include "internal.h"

#include <mswsock.h>

/***********************************************************************
 *      WSPGetSockOpt
 *
 * NOTES
 *  Wine's getsockopt on the same handle. SO_PROTOCOL_INFOW/A is the one
 *  option a base provider answers from its own catalog entry: Wine would
 *  name an entry of Wine's static catalog, whose ids (1001...) mean
 *  something else in the test host's catalog. The identity fields are
 *  therefore replaced by those of the entry the socket was created for, as
 *  in WSPDuplicateSocket.
 */
int WSPAPI WSPGetSockOpt(SOCKET s, int level, int optname, char *optval, LPINT optlen,
                         LPINT lpErrno)
{
    WSAPROTOCOL_INFOW entry;

    TBASE__COUNT(WSPGetSockOpt);

    if (getsockopt(s, level, optname, optval, optlen) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    if (level == SOL_SOCKET && optval && tbase__sock_find(s, &entry, NULL)) {
        if (optname == SO_PROTOCOL_INFOW && *optlen >= (int)sizeof(WSAPROTOCOL_INFOW))
            tbase__identify_w((WSAPROTOCOL_INFOW *)optval, &entry);
        else if (optname == SO_PROTOCOL_INFOA && *optlen >= (int)sizeof(WSAPROTOCOL_INFOA))
            tbase__identify_a((WSAPROTOCOL_INFOA *)optval, &entry);
    }
    return 0;
}

int WSPAPI WSPSetSockOpt(SOCKET s, int level, int optname, const char *optval, int optlen,
                         LPINT lpErrno)
{
    TBASE__COUNT(WSPSetSockOpt);

    if (setsockopt(s, level, optname, optval, optlen) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}

/***********************************************************************
 *      WSPIoctl
 *
 * NOTES
 *  Everything goes to Wine's WSAIoctl, overlapped and completion routine
 *  included (lpThreadId is not needed, see transfer.c). In particular
 *  SIO_GET_EXTENSION_FUNCTION_POINTER hands back Wine's own ConnectEx,
 *  AcceptEx, GetAcceptExSockaddrs, DisconnectEx, TransmitFile,
 *  TransmitPackets, WSARecvMsg and WSASendMsg: they work on tbase's handles
 *  because those are Wine's sockets, as mswsock's do on Windows. An LSP that
 *  must see such calls has to hand back its own functions instead.
 */
/* SIO_BSP_HANDLE, SIO_BSP_HANDLE_SELECT and SIO_BSP_HANDLE_POLL ask the base
 * service provider for its handle (ws2_32's WSAPoll and select use them);
 * Wine's WSAIoctl does not know them, so tbase answers as mswsock does:
 * its handle is the socket itself. */
static int bsp_handle(SOCKET s, LPVOID out, DWORD out_len, LPDWORD returned, LPINT lpErrno)
{
    if (!out || out_len < sizeof s) {
        *lpErrno = WSAEFAULT;
        return SOCKET_ERROR;
    }
    memcpy(out, &s, sizeof s);
    if (returned)
        *returned = sizeof s;
    return 0;
}

/* SIO_EXT_SENDMSG is how ws2_32's WSASendMsg reaches a provider (the input
 * is a WSASENDMSG); Wine's WSAIoctl does not know it, so tbase makes the
 * call with Wine's WSASendMsg. */
static int ext_sendmsg(SOCKET s, LPVOID in, DWORD in_len, LPINT lpErrno)
{
    WSASENDMSG params;

    if (!in || in_len < sizeof params) {
        *lpErrno = WSAEFAULT;
        return SOCKET_ERROR;
    }
    memcpy(&params, in, sizeof params);
    if (WSASendMsg(s, params.lpMsg, params.dwFlags, params.lpNumberOfBytesSent,
                   params.lpOverlapped, params.lpCompletionRoutine) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}

int WSPAPI WSPIoctl(SOCKET s, DWORD dwIoControlCode, LPVOID lpvInBuffer, DWORD cbInBuffer,
                    LPVOID lpvOutBuffer, DWORD cbOutBuffer, LPDWORD lpcbBytesReturned,
                    LPWSAOVERLAPPED lpOverlapped,
                    LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine,
                    LPWSATHREADID lpThreadId, LPINT lpErrno)
{
    (void)lpThreadId;
    TBASE__COUNT(WSPIoctl);

    switch (dwIoControlCode) {
    case SIO_BSP_HANDLE:
    case SIO_BSP_HANDLE_SELECT:
    case SIO_BSP_HANDLE_POLL:
        return bsp_handle(s, lpvOutBuffer, cbOutBuffer, lpcbBytesReturned, lpErrno);
    case SIO_EXT_SENDMSG:
        return ext_sendmsg(s, lpvInBuffer, cbInBuffer, lpErrno);
    default:
        break;
    }

    if (WSAIoctl(s, dwIoControlCode, lpvInBuffer, cbInBuffer, lpvOutBuffer, cbOutBuffer,
                 lpcbBytesReturned, lpOverlapped, lpCompletionRoutine) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}

/* Wine 8's WSAGetQOSByName is a stub that returns FALSE without setting an
 * error; that failure is reported as WSAEOPNOTSUPP. */
BOOL WSPAPI WSPGetQOSByName(SOCKET s, LPWSABUF lpQOSName, LPQOS lpQOS, LPINT lpErrno)
{
    TBASE__COUNT(WSPGetQOSByName);

    /* Cleared so that a stale code cannot pass for the stub's failure. */
    SetLastError(0);
    if (!WSAGetQOSByName(s, lpQOSName, lpQOS)) {
        *lpErrno = tbase__wine_error(WSAEOPNOTSUPP);
        return FALSE;
    }
    return TRUE;
}
