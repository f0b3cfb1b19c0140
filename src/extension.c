/*
 * extension.c - the Microsoft extension functions that change a socket's
 * peer, and the two socket options that complete them.
 *
 * Applications get ConnectEx, AcceptEx, DisconnectEx, TransmitFile and
 * TransmitPackets from WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER) and call
 * them directly, never through ws2_32 again. .NET, libuv, Go, tokio and IOCP
 * servers connect and accept this way, so peerlsp hands back its own
 * functions for these five; each calls the lower provider's function for the
 * socket it is given. Every other GUID (GetAcceptExSockaddrs, WSARecvMsg ...)
 * gets the lower provider's own pointer.
 *
 * How the record follows each path:
 *  - ConnectEx: the record is VOLATILE from before the call; the peer is
 *    read from below when SO_UPDATE_CONNECT_CONTEXT is set (before that,
 *    getpeername gives the lower provider's answer: WSAENOTCONN on Windows);
 *    a ConnectEx that fails at once sets it back to UNKNOWN.
 *  - AcceptEx: the accept socket's record is VOLATILE; its peer is read
 *    from below when SO_UPDATE_ACCEPT_CONTEXT is set.
 *  - DisconnectEx, and TransmitFile/TransmitPackets with TF_DISCONNECT or
 *    TF_REUSE_SOCKET: the record becomes VOLATILE before the call (the
 *    lower provider answers and nothing is cached) until the handle connects
 *    again by any path.
 */
#include <mswsock.h>

#include "internal.h"

enum plsp_ext {
    PLSP_EXT_CONNECTEX,
    PLSP_EXT_ACCEPTEX,
    PLSP_EXT_DISCONNECTEX,
    PLSP_EXT_TRANSMITFILE,
    PLSP_EXT_TRANSMITPACKETS,
    PLSP_EXT_COUNT
};

_Static_assert(PLSP_EXT_COUNT == PLSP_EXT_SLOTS, "one slot per wrapped extension");

static const GUID plsp_ext_guids[PLSP_EXT_COUNT] = {
    [PLSP_EXT_CONNECTEX] = WSAID_CONNECTEX,
    [PLSP_EXT_ACCEPTEX] = WSAID_ACCEPTEX,
    [PLSP_EXT_DISCONNECTEX] = WSAID_DISCONNECTEX,
    [PLSP_EXT_TRANSMITFILE] = WSAID_TRANSMITFILE,
    [PLSP_EXT_TRANSMITPACKETS] = WSAID_TRANSMITPACKETS,
};

static int ext_index(const GUID *guid)
{
    for (int i = 0; i < PLSP_EXT_COUNT; i++) {
        if (IsEqualGUID(guid, &plsp_ext_guids[i]))
            return i;
    }
    return -1;
}

/* The lower provider's function `which` for socket s: remembered from the
 * WSPIoctl that handed peerlsp's own out, or asked for now (an application
 * may use one pointer for sockets of several providers). NULL with
 * *err set when the lower provider has none. */
static void *ext_lower_fn(struct plsp_lower *lower, SOCKET s, enum plsp_ext which, int *err)
{
    void *fn = InterlockedCompareExchangePointer(&lower->ext[which], NULL, NULL);
    if (fn)
        return fn;
    GUID guid = plsp_ext_guids[which];
    DWORD returned = 0;
    *err = 0;
    if (lower->procs.lpWSPIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof guid, &fn,
                                sizeof fn, &returned, NULL, NULL, NULL, err) != 0 || !fn) {
        if (!*err)
            *err = WSAEOPNOTSUPP;
        return NULL;
    }
    InterlockedExchangePointer(&lower->ext[which], fn);
    return fn;
}

/* Finds s's lower provider and its function `which`; on failure sets the
 * thread's last error, as an extension function reports errors. */
static void *ext_prepare(SOCKET s, enum plsp_ext which, struct plsp_conn *rec, int *found)
{
    int err = 0;
    struct plsp_lower *lower = plsp_socket_lower(s, rec, found, &err);
    void *fn = lower ? ext_lower_fn(lower, s, which, &err) : NULL;
    if (!fn)
        WSASetLastError(err);
    return fn;
}

static BOOL WINAPI plsp_ConnectEx(SOCKET s, const struct sockaddr *name, int namelen,
                                  PVOID send_buf, DWORD send_len, LPDWORD sent,
                                  LPOVERLAPPED ov)
{
    struct plsp_conn rec;
    int found;
    LPFN_CONNECTEX fn = (LPFN_CONNECTEX)ext_prepare(s, PLSP_EXT_CONNECTEX, &rec, &found);
    if (!fn)
        return FALSE;
    plsp_gen gen = 0;
    int marked = found && plsp_peer_begin_change(s, &gen);
    BOOL ok = fn(s, name, namelen, send_buf, send_len, sent, ov);
    /* Pending or done, the peer is read when SO_UPDATE_CONNECT_CONTEXT is
     * set; a ConnectEx that failed at once leaves nothing to wait for. */
    if (!ok && marked && WSAGetLastError() != WSA_IO_PENDING) {
        int err = WSAGetLastError();
        plsp_peer_end_change(s, gen);
        WSASetLastError(err);
    }
    return ok;
}

static BOOL WINAPI plsp_AcceptEx(SOCKET listener, SOCKET accepted, PVOID buf, DWORD recv_len,
                                 DWORD local_len, DWORD remote_len, LPDWORD received,
                                 LPOVERLAPPED ov)
{
    struct plsp_conn rec;
    int found;
    int err = 0;
    /* The lower provider of the listening socket; when that is not a
     * socket peerlsp can place (an invalid handle), the accept socket's:
     * its AcceptEx then reports the bad listener exactly as it would
     * without peerlsp (the OVERLAPPED marked pending, WSAENOTSOCK). */
    SOCKET placed = listener;
    struct plsp_lower *lower = plsp_socket_lower(listener, &rec, &found, &err);
    if (!lower)
        lower = plsp_socket_lower(placed = accepted, &rec, &found, &err);
    LPFN_ACCEPTEX fn =
        lower ? (LPFN_ACCEPTEX)ext_lower_fn(lower, placed, PLSP_EXT_ACCEPTEX, &err) : NULL;
    if (!fn) {
        WSASetLastError(err);
        return FALSE;
    }
    /* The accept socket may be a handle reused after DisconnectEx or
     * TransmitFile(TF_REUSE_SOCKET): its old peer is gone. */
    plsp_ctab_mark_volatile(plsp_g.table, (uint64_t)accepted);
    return fn(listener, accepted, buf, recv_len, local_len, remote_len, received, ov);
}

static BOOL WINAPI plsp_DisconnectEx(SOCKET s, LPOVERLAPPED ov, DWORD flags, DWORD reserved)
{
    struct plsp_conn rec;
    int found;
    LPFN_DISCONNECTEX fn = (LPFN_DISCONNECTEX)ext_prepare(s, PLSP_EXT_DISCONNECTEX, &rec, &found);
    if (!fn)
        return FALSE;
    if (found)
        plsp_ctab_mark_volatile(plsp_g.table, (uint64_t)s);
    return fn(s, ov, flags, reserved);
}

static BOOL WINAPI plsp_TransmitFile(SOCKET s, HANDLE file, DWORD bytes, DWORD per_send,
                                     LPOVERLAPPED ov, LPTRANSMIT_FILE_BUFFERS buffers,
                                     DWORD flags)
{
    struct plsp_conn rec;
    int found;
    LPFN_TRANSMITFILE fn = (LPFN_TRANSMITFILE)ext_prepare(s, PLSP_EXT_TRANSMITFILE, &rec, &found);
    if (!fn)
        return FALSE;
    if (found && (flags & (TF_DISCONNECT | TF_REUSE_SOCKET)))
        plsp_ctab_mark_volatile(plsp_g.table, (uint64_t)s);
    return fn(s, file, bytes, per_send, ov, buffers, flags);
}

static BOOL WINAPI plsp_TransmitPackets(SOCKET s, LPTRANSMIT_PACKETS_ELEMENT packets,
                                        DWORD count, DWORD send_size, LPOVERLAPPED ov,
                                        DWORD flags)
{
    struct plsp_conn rec;
    int found;
    LPFN_TRANSMITPACKETS fn =
        (LPFN_TRANSMITPACKETS)ext_prepare(s, PLSP_EXT_TRANSMITPACKETS, &rec, &found);
    if (!fn)
        return FALSE;
    if (found && (flags & (TP_DISCONNECT | TP_REUSE_SOCKET)))
        plsp_ctab_mark_volatile(plsp_g.table, (uint64_t)s);
    return fn(s, packets, count, send_size, ov, flags);
}

/* Which wrapped function the lower provider just handed out as lower_fn.
 * The caller's GUID is read only when its buffer holds a whole one. A lower
 * provider may accept a shorter buffer (Wine 8 ignores both lengths) and
 * still hand out its ConnectEx: that request is recognised by the pointer
 * instead, so that no malformed request gives the application a function
 * that goes past peerlsp. -1 for every other function. */
static int ext_requested(struct plsp_lower *lower, SOCKET s, const void *in, DWORD in_len,
                         void *lower_fn)
{
    if (in && in_len >= sizeof(GUID))
        return ext_index((const GUID *)in);
    for (int i = 0; i < PLSP_EXT_COUNT; i++) {
        int err = 0;
        if (ext_lower_fn(lower, s, (enum plsp_ext)i, &err) == lower_fn)
            return i;
    }
    return -1;
}

static void *const plsp_ext_own[PLSP_EXT_COUNT] = {
    [PLSP_EXT_CONNECTEX] = (void *)plsp_ConnectEx,
    [PLSP_EXT_ACCEPTEX] = (void *)plsp_AcceptEx,
    [PLSP_EXT_DISCONNECTEX] = (void *)plsp_DisconnectEx,
    [PLSP_EXT_TRANSMITFILE] = (void *)plsp_TransmitFile,
    [PLSP_EXT_TRANSMITPACKETS] = (void *)plsp_TransmitPackets,
};

/***********************************************************************
 *              WSPIoctl  (peerlsp, through the proc table)
 *
 * NOTES
 *  The lower provider answers first, so its checks of the caller's buffers
 *  (short GUID, short output) and its error codes are what the caller sees;
 *  only then is its pointer swapped for peerlsp's own.
 */
int WSPAPI plsp_WSPIoctl(SOCKET s, DWORD code, LPVOID in, DWORD in_len, LPVOID out,
                         DWORD out_len, LPDWORD returned, LPWSAOVERLAPPED ov,
                         LPWSAOVERLAPPED_COMPLETION_ROUTINE completion, LPWSATHREADID thread,
                         LPINT lpErrno)
{
    struct plsp_conn rec;
    int found;
    struct plsp_lower *lower = plsp_socket_lower(s, &rec, &found, lpErrno);
    if (!lower)
        return SOCKET_ERROR;
    int ret = lower->procs.lpWSPIoctl(s, code, in, in_len, out, out_len, returned, ov,
                                      completion, thread, lpErrno);
    if (ret != 0 || code != SIO_GET_EXTENSION_FUNCTION_POINTER || !out ||
        out_len < sizeof(void *))
        return ret;
    void *lower_fn = *(void **)out;
    if (!lower_fn)
        return ret;
    int which = ext_requested(lower, s, in, in_len, lower_fn);
    if (which < 0)
        return ret;
    InterlockedExchangePointer(&lower->ext[which], lower_fn);
    *(void **)out = plsp_ext_own[which];
    return ret;
}

/***********************************************************************
 *              WSPSetSockOpt  (peerlsp, through the proc table)
 *
 * NOTES
 *  SO_UPDATE_CONNECT_CONTEXT and SO_UPDATE_ACCEPT_CONTEXT are where a
 *  ConnectEx or AcceptEx socket becomes fully connected: its peer is read
 *  from below then.
 */
int WSPAPI plsp_WSPSetSockOpt(SOCKET s, int level, int name, const char *val, int len,
                              LPINT lpErrno)
{
    struct plsp_conn rec;
    int found;
    struct plsp_lower *lower = plsp_socket_lower(s, &rec, &found, lpErrno);
    if (!lower)
        return SOCKET_ERROR;
    int ret = lower->procs.lpWSPSetSockOpt(s, level, name, val, len, lpErrno);
    plsp_gen gen;
    if (ret == 0 && found && level == SOL_SOCKET &&
        (name == SO_UPDATE_CONNECT_CONTEXT || name == SO_UPDATE_ACCEPT_CONTEXT) &&
        plsp_peer_begin_change(s, &gen))
        plsp_peer_refresh(lower, s, gen);
    return ret;
}
