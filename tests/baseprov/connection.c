/*
 * connection.c - addresses and connection state: WSPBind, WSPListen,
 * WSPConnect, WSPGetPeerName, WSPGetSockName, WSPShutdown, the disconnect
 * pair, and the address/string conversions.
 *
 * Each is Wine's function on the same handle; a failure's error goes to
 * *lpErrno as Wine reported it.
 */
#include "internal.h"

int WSPAPI WSPBind(SOCKET s, const struct sockaddr *name, int namelen, LPINT lpErrno)
{
    TBASE__COUNT(WSPBind);

    if (bind(s, name, namelen) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}

int WSPAPI WSPListen(SOCKET s, int backlog, LPINT lpErrno)
{
    TBASE__COUNT(WSPListen);

    if (listen(s, backlog) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}

/* WSAConnect carries the SPI's caller/callee data and QoS parameters. A
 * non-blocking connect fails with WSAEWOULDBLOCK like on Windows (under Wine
 * a loopback connect usually completes at once). */
int WSPAPI WSPConnect(SOCKET s, const struct sockaddr *name, int namelen,
                      LPWSABUF lpCallerData, LPWSABUF lpCalleeData, LPQOS lpSQOS,
                      LPQOS lpGQOS, LPINT lpErrno)
{
    TBASE__COUNT(WSPConnect);

    if (WSAConnect(s, name, namelen, lpCallerData, lpCalleeData, lpSQOS, lpGQOS) ==
        SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}

/* Windows answers WSAEFAULT for a missing name or length and for a negative
 * length. Wine must not see a negative length: it zero-fills *namelen bytes
 * of the buffer even when it fails, and with -1 that wipes the stack and the
 * process dies in Wine's Unix side. */
static BOOL name_args_valid(const struct sockaddr *name, const int *namelen)
{
    return name && namelen && *namelen >= 0;
}

/***********************************************************************
 *      WSPGetPeerName
 *
 * RETURNS
 *  0 with *namelen set to the size of the peer's address, or SOCKET_ERROR
 *  with WSAEFAULT (NULL name or namelen, negative or too small *namelen),
 *  WSAENOTCONN, WSAENOTSOCK, ...
 */
int WSPAPI WSPGetPeerName(SOCKET s, struct sockaddr *name, LPINT namelen, LPINT lpErrno)
{
    TBASE__COUNT(WSPGetPeerName);

    if (!name_args_valid(name, namelen)) {
        *lpErrno = WSAEFAULT;
        return SOCKET_ERROR;
    }
    if (getpeername(s, name, namelen) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}

/***********************************************************************
 *      WSPGetSockName
 *
 * RETURNS
 *  As WSPGetPeerName, with WSAEINVAL for a socket that is not bound.
 */
int WSPAPI WSPGetSockName(SOCKET s, struct sockaddr *name, LPINT namelen, LPINT lpErrno)
{
    TBASE__COUNT(WSPGetSockName);

    if (!name_args_valid(name, namelen)) {
        *lpErrno = WSAEFAULT;
        return SOCKET_ERROR;
    }
    if (getsockname(s, name, namelen) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}

int WSPAPI WSPShutdown(SOCKET s, int how, LPINT lpErrno)
{
    TBASE__COUNT(WSPShutdown);

    if (shutdown(s, how) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}

int WSPAPI WSPRecvDisconnect(SOCKET s, LPWSABUF lpInboundDisconnectData, LPINT lpErrno)
{
    TBASE__COUNT(WSPRecvDisconnect);

    if (WSARecvDisconnect(s, lpInboundDisconnectData) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}

int WSPAPI WSPSendDisconnect(SOCKET s, LPWSABUF lpOutboundDisconnectData, LPINT lpErrno)
{
    TBASE__COUNT(WSPSendDisconnect);

    if (WSASendDisconnect(s, lpOutboundDisconnectData) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}

/* The protocol info argument names tbase's own catalog entry; Wine's
 * conversions would look it up in Wine's catalog instead, so it is not
 * passed on (NULL means "by address family", which is what tbase serves). */
INT WSPAPI WSPAddressToString(LPSOCKADDR lpsaAddress, DWORD dwAddressLength,
                              LPWSAPROTOCOL_INFOW lpProtocolInfo, LPWSTR lpszAddressString,
                              LPDWORD lpdwAddressStringLength, LPINT lpErrno)
{
    (void)lpProtocolInfo;
    TBASE__COUNT(WSPAddressToString);

    if (WSAAddressToStringW(lpsaAddress, dwAddressLength, NULL, lpszAddressString,
                            lpdwAddressStringLength) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}

INT WSPAPI WSPStringToAddress(LPWSTR AddressString, INT AddressFamily,
                              LPWSAPROTOCOL_INFOW lpProtocolInfo, LPSOCKADDR lpAddress,
                              LPINT lpAddressLength, LPINT lpErrno)
{
    (void)lpProtocolInfo;
    TBASE__COUNT(WSPStringToAddress);

    if (WSAStringToAddressW(AddressString, AddressFamily, NULL, lpAddress, lpAddressLength) ==
        SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    return 0;
}
