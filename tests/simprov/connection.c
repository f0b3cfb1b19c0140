/*
 * connection.c - addresses and connection state: WSPBind, WSPListen,
 * WSPConnect, WSPGetPeerName, WSPGetSockName, and the helpers every way of
 * connecting shares.
 */
#include <string.h>

#include "internal.h"

int sim_addr_size(int af)
{
    if (af == AF_INET)
        return (int)sizeof(struct sockaddr_in);
    if (af == AF_INET6)
        return (int)sizeof(struct sockaddr_in6);
    return 0;
}

/* Windows: WSAEFAULT for a NULL name or a length too small for the
 * family; WSAEAFNOSUPPORT for an address of another family. */
int sim_addr_check(int af, const struct sockaddr *name, int namelen)
{
    if (!name || namelen < (int)sizeof(struct sockaddr) || namelen < sim_addr_size(af))
        return WSAEFAULT;
    if (name->sa_family != af)
        return WSAEAFNOSUPPORT;
    return 0;
}

/* Ports simprov hands out for port 0, like an ephemeral range. */
static unsigned short next_port = 50000;

static void set_loopback(struct sim_sock *rec, unsigned short port)
{
    memset(&rec->local, 0, sizeof rec->local);
    if (rec->af == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&rec->local;
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&rec->local;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        in6->sin6_addr = in6addr_loopback;
    }
    rec->local_len = sim_addr_size(rec->af);
    rec->bound = 1;
}

void sim_autobind(struct sim_sock *rec)
{
    if (!rec->bound)
        set_loopback(rec, next_port++);
}

void sim_connect_to(struct sim_sock *rec, const struct sockaddr *peer, int len,
                    enum sim_context context)
{
    sim_autobind(rec);
    memcpy(&rec->peer, peer, (size_t)len);
    rec->peer_len = len;
    rec->connected = 1;
    rec->reusable = 0;
    rec->reset = 0;
    rec->context = context;
    struct sim_sock *l = sim_find_listener(peer, len);
    if (l && l->nbacklog < SIM_BACKLOG) {
        l->backlog[l->nbacklog] = rec->local;
        l->backlog_len[l->nbacklog] = rec->local_len;
        l->nbacklog++;
        sim_accept_serve(l);
    }
}

/***********************************************************************
 *      WSPBind
 *
 * NOTES
 *  Any address of the socket's family is accepted as given; port 0 gets a
 *  port of simprov's own.
 */
int WSPAPI sim_WSPBind(SOCKET s, const struct sockaddr *name, int namelen, LPINT lpErrno)
{
    int err = 0;
    SIM_COUNT(WSPBind);
    sim_lock();
    struct sim_sock *rec = sim_find(s);
    if (!rec)
        err = WSAENOTSOCK;
    else if ((err = sim_addr_check(rec->af, name, namelen)) == 0 && rec->bound)
        err = WSAEINVAL;
    if (!err) {
        int len = sim_addr_size(rec->af);
        memcpy(&rec->local, name, (size_t)len);
        rec->local_len = len;
        rec->bound = 1;
        if (((const struct sockaddr_in *)name)->sin_port == 0)
            ((struct sockaddr_in *)&rec->local)->sin_port = htons(next_port++);
    }
    sim_unlock();
    if (err) {
        *lpErrno = err;
        return SOCKET_ERROR;
    }
    return 0;
}

int WSPAPI sim_WSPListen(SOCKET s, int backlog, LPINT lpErrno)
{
    int err = 0;
    (void)backlog;
    SIM_COUNT(WSPListen);
    sim_lock();
    struct sim_sock *rec = sim_find(s);
    if (!rec)
        err = WSAENOTSOCK;
    else if (!rec->bound || rec->connected)
        err = rec->connected ? WSAEISCONN : WSAEINVAL;
    else
        rec->listening = 1;
    sim_unlock();
    if (err) {
        *lpErrno = err;
        return SOCKET_ERROR;
    }
    return 0;
}

/* Whether rec may connect now: 0, or WSAEISCONN (connected), WSAEINVAL
 * (listening, or disconnected without TF_REUSE_SOCKET: such a handle
 * cannot be used again; inferred from the TF_REUSE_SOCKET documentation). */
int sim_can_connect(const struct sim_sock *rec)
{
    if (rec->connected)
        return WSAEISCONN;
    if (rec->listening || rec->spent)
        return WSAEINVAL;
    return 0;
}

/***********************************************************************
 *      WSPConnect
 *
 * NOTES
 *  Always succeeds at once (there is no network): the peer is the address
 *  given, byte for byte.
 */
int WSPAPI sim_WSPConnect(SOCKET s, const struct sockaddr *name, int namelen, LPWSABUF caller,
                          LPWSABUF callee, LPQOS sqos, LPQOS gqos, LPINT lpErrno)
{
    int err = 0;
    (void)caller, (void)callee, (void)sqos, (void)gqos;
    SIM_COUNT(WSPConnect);
    sim_lock();
    struct sim_sock *rec = sim_find(s);
    if (!rec)
        err = WSAENOTSOCK;
    else if (!(err = sim_addr_check(rec->af, name, namelen)) && !(err = sim_can_connect(rec))) {
        /* A test may ask for a peer of another size than the family's,
         * as a provider with a longer address structure would report. */
        int len = sim_take_peer_bytes();
        if (len <= 0 || len > namelen)
            len = sim_addr_size(rec->af);
        sim_connect_to(rec, name, len, SIM_CONTEXT_NONE);
    }
    sim_unlock();
    if (err) {
        *lpErrno = err;
        return SOCKET_ERROR;
    }
    return 0;
}

/* Copies an address out as getpeername/getsockname do: 0 or WSAEFAULT. */
static int copy_out(const SOCKADDR_STORAGE *addr, int len, struct sockaddr *name, LPINT namelen)
{
    if (*namelen < len)
        return WSAEFAULT;
    memcpy(name, addr, (size_t)len);
    *namelen = len;
    return 0;
}

/***********************************************************************
 *      WSPGetPeerName
 *
 * RETURNS
 *  0, or SOCKET_ERROR with WSAEFAULT (NULL name or namelen, *namelen
 *  negative or smaller than the peer's address), WSAENOTSOCK, or
 *  WSAENOTCONN: no peer, or a ConnectEx/AcceptEx socket whose
 *  SO_UPDATE_*_CONTEXT has not been set yet (Windows' behaviour).
 */
int WSPAPI sim_WSPGetPeerName(SOCKET s, struct sockaddr *name, LPINT namelen, LPINT lpErrno)
{
    int err;
    SIM_COUNT(WSPGetPeerName);
    if (!name || !namelen || *namelen < 0) {
        *lpErrno = WSAEFAULT;
        return SOCKET_ERROR;
    }
    sim_lock();
    struct sim_sock *rec = sim_find(s);
    if (!rec)
        err = WSAENOTSOCK;
    else if (!rec->connected || rec->context != SIM_CONTEXT_NONE)
        err = WSAENOTCONN;
    else
        err = copy_out(&rec->peer, rec->peer_len, name, namelen);
    sim_unlock();
    if (err) {
        *lpErrno = err;
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
int WSPAPI sim_WSPGetSockName(SOCKET s, struct sockaddr *name, LPINT namelen, LPINT lpErrno)
{
    int err;
    SIM_COUNT(WSPGetSockName);
    if (!name || !namelen || *namelen < 0) {
        *lpErrno = WSAEFAULT;
        return SOCKET_ERROR;
    }
    sim_lock();
    struct sim_sock *rec = sim_find(s);
    if (!rec)
        err = WSAENOTSOCK;
    else if (!rec->bound)
        err = WSAEINVAL;
    else
        err = copy_out(&rec->local, rec->local_len, name, namelen);
    sim_unlock();
    if (err) {
        *lpErrno = err;
        return SOCKET_ERROR;
    }
    return 0;
}
