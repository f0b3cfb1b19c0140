/*
 * transfer.c - data: WSPSend, WSPSendTo, WSPRecv, WSPRecvFrom,
 * WSPGetOverlappedResult.
 *
 * Overlapped structures and completion routines go to Wine unchanged, so an
 * overlapped call that has started fails with WSA_IO_PENDING in *lpErrno and
 * completes through Wine (event, IOCP or APC) exactly as a base provider's
 * would. lpThreadId is not needed: the SPI gives it so that a provider can
 * queue the completion routine to the calling thread with WPUQueueApc, but
 * Wine already runs completion routines as APCs in the thread that issued
 * the call.
 */
#include "internal.h"

int WSPAPI WSPSend(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
                   LPDWORD lpNumberOfBytesSent, DWORD dwFlags, LPWSAOVERLAPPED lpOverlapped,
                   LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine,
                   LPWSATHREADID lpThreadId, LPINT lpErrno)
{
    (void)lpThreadId;
    TBASE__COUNT(WSPSend);

    if (WSASend(s, lpBuffers, dwBufferCount, lpNumberOfBytesSent, dwFlags, lpOverlapped,
                lpCompletionRoutine) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}

int WSPAPI WSPSendTo(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
                     LPDWORD lpNumberOfBytesSent, DWORD dwFlags, const struct sockaddr *lpTo,
                     int iTolen, LPWSAOVERLAPPED lpOverlapped,
                     LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine,
                     LPWSATHREADID lpThreadId, LPINT lpErrno)
{
    (void)lpThreadId;
    TBASE__COUNT(WSPSendTo);

    if (WSASendTo(s, lpBuffers, dwBufferCount, lpNumberOfBytesSent, dwFlags, lpTo, iTolen,
                  lpOverlapped, lpCompletionRoutine) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}

int WSPAPI WSPRecv(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
                   LPDWORD lpNumberOfBytesRecvd, LPDWORD lpFlags, LPWSAOVERLAPPED lpOverlapped,
                   LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine,
                   LPWSATHREADID lpThreadId, LPINT lpErrno)
{
    (void)lpThreadId;
    TBASE__COUNT(WSPRecv);

    if (WSARecv(s, lpBuffers, dwBufferCount, lpNumberOfBytesRecvd, lpFlags, lpOverlapped,
                lpCompletionRoutine) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}

int WSPAPI WSPRecvFrom(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
                       LPDWORD lpNumberOfBytesRecvd, LPDWORD lpFlags, struct sockaddr *lpFrom,
                       LPINT lpFromlen, LPWSAOVERLAPPED lpOverlapped,
                       LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine,
                       LPWSATHREADID lpThreadId, LPINT lpErrno)
{
    (void)lpThreadId;
    TBASE__COUNT(WSPRecvFrom);

    if (WSARecvFrom(s, lpBuffers, dwBufferCount, lpNumberOfBytesRecvd, lpFlags, lpFrom,
                    lpFromlen, lpOverlapped, lpCompletionRoutine) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}

/* Returns Wine's BOOL; FALSE (WSA_IO_INCOMPLETE, or the operation's own
 * error) puts the error in *lpErrno. */
BOOL WSPAPI WSPGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED lpOverlapped, LPDWORD lpcbTransfer,
                                   BOOL fWait, LPDWORD lpdwFlags, LPINT lpErrno)
{
    TBASE__COUNT(WSPGetOverlappedResult);

    if (!WSAGetOverlappedResult(s, lpOverlapped, lpcbTransfer, fWait, lpdwFlags)) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return FALSE;
    }
    return TRUE;
}
