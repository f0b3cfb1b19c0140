/*
 * socket.c - where simprov's handles come from and go: WSPSocket,
 * WSPAccept, WSPJoinLeaf, WSPCloseSocket.
 */
#include <string.h>

#include "internal.h"

/* FROM_PROTOCOL_INFO, and the 0 wildcards ws2_32 passes, take the entry's
 * value (WSPSocket documentation). */
static int from_entry(int value, int entry_value)
{
    return (value == 0 || value == FROM_PROTOCOL_INFO) ? entry_value : value;
}

/***********************************************************************
 *      WSPSocket
 *
 * NOTES
 *  Information from WSPDuplicateSocket (dwProviderReserved != 0) is
 *  refused with WSAEOPNOTSUPP: simprov does not duplicate sockets.
 */
SOCKET WSPAPI sim_WSPSocket(int af, int type, int protocol, LPWSAPROTOCOL_INFOW info, GROUP g,
                            DWORD flags, LPINT lpErrno)
{
    (void)g, (void)flags;
    SIM_ENTER(WSPSocket, INVALID_SOCKET);
    if (!info) {
        *lpErrno = WSAEFAULT;
        return INVALID_SOCKET;
    }
    if (info->dwProviderReserved) {
        *lpErrno = WSAEOPNOTSUPP;
        return INVALID_SOCKET;
    }
    af = from_entry(af, info->iAddressFamily);
    if (!sim_addr_size(af)) {
        *lpErrno = WSAEAFNOSUPPORT;
        return INVALID_SOCKET;
    }
    return sim_sock_create(info->dwCatalogEntryId, af, from_entry(type, info->iSocketType),
                           from_entry(protocol, info->iProtocol), lpErrno);
}

/***********************************************************************
 *      WSPCloseSocket
 */
int WSPAPI sim_WSPCloseSocket(SOCKET s, LPINT lpErrno)
{
    SIM_ENTER(WSPCloseSocket, SOCKET_ERROR);
    sim_lock();
    struct sim_sock *rec = sim_find(s);
    if (rec)
        sim_sock_destroy(rec);
    sim_unlock();
    if (!rec) {
        *lpErrno = WSAENOTSOCK;
        return SOCKET_ERROR;
    }
    return 0;
}

/* A new socket like `from` (same catalog entry and kind), connected to
 * peer, with from's local address: what accept and a c_root join make.
 * INVALID_SOCKET with *err on failure. */
static SOCKET new_connected(SOCKET from, const SOCKADDR_STORAGE *peer, int peer_len, int *err)
{
    sim_lock();
    struct sim_sock *f = sim_find(from);
    struct sim_sock proto;
    if (f)
        proto = *f;
    sim_unlock();
    if (!f) {
        *err = WSAENOTSOCK;
        return INVALID_SOCKET;
    }
    SOCKET ns = sim_sock_create(proto.entry_id, proto.af, proto.type, proto.protocol, err);
    if (ns == INVALID_SOCKET)
        return ns;
    sim_lock();
    struct sim_sock *rec = sim_find(ns);
    if (rec) {
        rec->local = proto.local;
        rec->local_len = proto.local_len;
        rec->bound = proto.bound;
        rec->peer = *peer;
        rec->peer_len = peer_len;
        rec->connected = 1;
    }
    sim_unlock();
    return ns;
}

/***********************************************************************
 *      WSPAccept
 *
 * NOTES
 *  Takes the first queued connection; with none queued it fails with
 *  WSAEWOULDBLOCK (simprov never blocks). A condition function is not
 *  called: every connection is accepted.
 */
SOCKET WSPAPI sim_WSPAccept(SOCKET s, struct sockaddr *addr, LPINT addrlen,
                            LPCONDITIONPROC condition, DWORD_PTR data, LPINT lpErrno)
{
    SOCKADDR_STORAGE peer;
    int peer_len = 0, err = 0;
    (void)condition, (void)data;
    SIM_ENTER(WSPAccept, INVALID_SOCKET);
    sim_lock();
    struct sim_sock *l = sim_find(s);
    if (!l)
        err = WSAENOTSOCK;
    else if (!l->listening)
        err = WSAEINVAL;
    else if (addr && (!addrlen || *addrlen < sim_addr_size(l->af)))
        err = WSAEFAULT;
    else if (!l->nbacklog)
        err = WSAEWOULDBLOCK;
    if (!err) {
        peer = l->backlog[0];
        peer_len = l->backlog_len[0];
        l->nbacklog--;
        memmove(&l->backlog[0], &l->backlog[1], (size_t)l->nbacklog * sizeof l->backlog[0]);
        memmove(&l->backlog_len[0], &l->backlog_len[1],
                (size_t)l->nbacklog * sizeof l->backlog_len[0]);
    }
    sim_unlock();
    if (err) {
        *lpErrno = err;
        return INVALID_SOCKET;
    }
    SOCKET ns = new_connected(s, &peer, peer_len, lpErrno);
    if (ns != INVALID_SOCKET && addr) {
        memcpy(addr, &peer, (size_t)peer_len);
        *addrlen = peer_len;
    }
    return ns;
}

/***********************************************************************
 *      WSPJoinLeaf
 *
 * NOTES
 *  The leaf (name) becomes the peer of the socket returned: s itself, or a
 *  new socket when simprov_join_new_socket(1) was called (as a c_root
 *  join returns one on Windows). Caller/callee data and QoS are ignored.
 */
SOCKET WSPAPI sim_WSPJoinLeaf(SOCKET s, const struct sockaddr *name, int namelen,
                              LPWSABUF caller, LPWSABUF callee, LPQOS sqos, LPQOS gqos,
                              DWORD flags, LPINT lpErrno)
{
    SOCKADDR_STORAGE leaf;
    int err, len = 0, new_socket = sim_join_makes_new_socket();
    (void)caller, (void)callee, (void)sqos, (void)gqos, (void)flags;
    SIM_ENTER(WSPJoinLeaf, INVALID_SOCKET);
    sim_lock();
    struct sim_sock *rec = sim_find(s);
    err = rec ? sim_addr_check(rec->af, name, namelen) : WSAENOTSOCK;
    if (!err) {
        len = sim_addr_size(rec->af);
        memset(&leaf, 0, sizeof leaf);
        memcpy(&leaf, name, (size_t)len);
        sim_autobind(rec);
        if (!new_socket) {
            rec->peer = leaf;
            rec->peer_len = len;
            rec->connected = 1;
            rec->context = SIM_CONTEXT_NONE;
        }
    }
    sim_unlock();
    if (err) {
        *lpErrno = err;
        return INVALID_SOCKET;
    }
    return new_socket ? new_connected(s, &leaf, len, lpErrno) : s;
}
