/*
 * events.c - readiness and notification: WSPSelect, WSPEventSelect,
 * WSPAsyncSelect, WSPEnumNetworkEvents.
 *
 * The fd_sets hold tbase's handles, which are Wine's sockets, so Wine's
 * select takes them as they are; events and window messages are signalled
 * and posted by Wine itself.
 */
#include "internal.h"

/* Returns the number of ready sockets (0 on timeout) as select does. */
int WSPAPI WSPSelect(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
                     const PTIMEVAL timeout, LPINT lpErrno)
{
    int ready;

    TBASE__COUNT(WSPSelect);

    ready = select(nfds, readfds, writefds, exceptfds, timeout);
    if (ready == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return ready;
}

int WSPAPI WSPEventSelect(SOCKET s, WSAEVENT hEventObject, LONG lNetworkEvents, LPINT lpErrno)
{
    TBASE__COUNT(WSPEventSelect);

    if (WSAEventSelect(s, hEventObject, lNetworkEvents) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}

int WSPAPI WSPAsyncSelect(SOCKET s, HWND hWnd, unsigned int wMsg, LONG lEvent, LPINT lpErrno)
{
    TBASE__COUNT(WSPAsyncSelect);

    if (WSAAsyncSelect(s, hWnd, wMsg, lEvent) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}

int WSPAPI WSPEnumNetworkEvents(SOCKET s, WSAEVENT hEventObject,
                                LPWSANETWORKEVENTS lpNetworkEvents, LPINT lpErrno)
{
    TBASE__COUNT(WSPEnumNetworkEvents);

    if (WSAEnumNetworkEvents(s, hEventObject, lpNetworkEvents) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}
