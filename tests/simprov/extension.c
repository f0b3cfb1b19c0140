/*
 * extension.c - the extension functions simprov hands out through
 * WSPIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER): ConnectEx, AcceptEx,
 * GetAcceptExSockaddrs, DisconnectEx, TransmitFile, TransmitPackets; and
 * WSPGetOverlappedResult for them.
 *
 * Every operation completes at once (Internal = 0 or a WSA error code,
 * InternalHigh = bytes, hEvent signalled, TRUE returned), except the one
 * after simprov_pend_next(), which returns FALSE/WSA_IO_PENDING and takes
 * effect at simprov_complete_pending(), and an AcceptEx with no connection
 * queued, which waits for the next connect to its listener.
 */
#include <string.h>

#include "internal.h"

/* Internal while an operation is under way (STATUS_PENDING). */
#define SIM_PENDING ((ULONG_PTR)0x103)

static volatile LONG pend_armed;

/* The one operation held back by simprov_pend_next (lock held to touch). */
static struct {
    int active;
    SOCKET s;
    LPOVERLAPPED ov;
    DWORD bytes;
    int connect;          /* a ConnectEx: connect to peer */
    DWORD disconnect;     /* TF_DISCONNECT [| TF_REUSE_SOCKET]: disconnect */
    SOCKADDR_STORAGE peer;
    int peer_len;
} pending;

static void complete(LPOVERLAPPED ov, int err, DWORD bytes)
{
    if (!ov)
        return;
    ov->Internal = (ULONG_PTR)err;
    ov->InternalHigh = bytes;
    if (ov->hEvent)
        SetEvent(ov->hEvent);
}

/* The peer goes; TF_REUSE_SOCKET leaves the handle reusable (it keeps its
 * address), without it the handle cannot connect again. */
static void disconnect(struct sim_sock *rec, DWORD flags)
{
    rec->connected = 0;
    rec->context = SIM_CONTEXT_NONE;
    memset(&rec->peer, 0, sizeof rec->peer);
    rec->peer_len = 0;
    rec->reusable = (flags & TF_REUSE_SOCKET) != 0;
    rec->spent = !rec->reusable;
}

/* Applies an operation's effect now or holds it back; returns what the
 * extension function returns (lock held; the error goes out through
 * WSASetLastError after the unlock, see finish). */
static BOOL start(struct sim_sock *rec, LPOVERLAPPED ov, DWORD bytes, int connect,
                  const struct sockaddr *peer, int peer_len, DWORD disconnect_flags)
{
    if (ov && InterlockedExchange(&pend_armed, 0)) {
        pending.active = 1;
        pending.s = rec->h;
        pending.ov = ov;
        pending.bytes = bytes;
        pending.connect = connect;
        pending.disconnect = disconnect_flags;
        if (connect)
            memcpy(&pending.peer, peer, (size_t)peer_len);
        pending.peer_len = peer_len;
        ov->Internal = SIM_PENDING;
        ov->InternalHigh = 0;
        return FALSE;
    }
    if (connect)
        sim_connect_to(rec, peer, peer_len, SIM_CONTEXT_CONNECT);
    if (disconnect_flags & TF_DISCONNECT)
        disconnect(rec, disconnect_flags);
    complete(ov, 0, bytes);
    return TRUE;
}

/* The extension functions' egress: TRUE, or FALSE with err (WSA_IO_PENDING
 * for an operation held back) as the last error. */
static BOOL finish(int err, BOOL started)
{
    sim_unlock();
    if (err) {
        WSASetLastError(err);
        return FALSE;
    }
    if (!started)
        WSASetLastError(WSA_IO_PENDING);
    return started;
}

BOOL WINAPI simprov_complete_pending(void)
{
    sim_lock();
    int was = pending.active;
    if (was) {
        struct sim_sock *rec = sim_find(pending.s);
        if (rec && pending.connect)
            sim_connect_to(rec, (struct sockaddr *)&pending.peer, pending.peer_len,
                           SIM_CONTEXT_CONNECT);
        if (rec && (pending.disconnect & TF_DISCONNECT))
            disconnect(rec, pending.disconnect);
        complete(pending.ov, rec ? 0 : WSA_OPERATION_ABORTED, rec ? pending.bytes : 0);
        pending.active = 0;
    }
    sim_unlock();
    return was;
}

void WINAPI simprov_pend_next(void)
{
    InterlockedExchange(&pend_armed, 1);
}

static BOOL WINAPI sim_ConnectEx(SOCKET s, const struct sockaddr *name, int namelen,
                                 PVOID send_buf, DWORD send_len, LPDWORD sent, LPOVERLAPPED ov)
{
    int err = 0;
    BOOL started = FALSE;
    (void)send_buf;
    SIM_COUNT(ConnectEx);
    sim_lock();
    struct sim_sock *rec = sim_find(s);
    if (!rec)
        err = WSAENOTSOCK;
    else if (!ov || !rec->bound) /* "s is an unbound or a listening socket" */
        err = WSAEINVAL;
    else if (!(err = sim_addr_check(rec->af, name, namelen)) && !(err = sim_can_connect(rec))) {
        started = start(rec, ov, send_len, 1, name, sim_addr_size(rec->af), 0);
        if (started && sent)
            *sent = send_len;
    }
    return finish(err, started);
}

/* AcceptEx's buffer after the data: two slots, each an int length and the
 * address (simprov's own layout, read by its GetAcceptExSockaddrs). */
static void put_addr(char *slot, const SOCKADDR_STORAGE *addr, int len)
{
    memcpy(slot, &len, sizeof len);
    memcpy(slot + sizeof len, addr, (size_t)len);
}

void sim_accept_serve(struct sim_sock *l)
{
    if (!l->accept_waiting || !l->nbacklog)
        return;
    struct sim_accept_wait *w = &l->wait;
    struct sim_sock *a = sim_find(w->accepted);
    if (a) {
        a->local = l->local;
        a->local_len = l->local_len;
        a->bound = 1;
        a->peer = l->backlog[0];
        a->peer_len = l->backlog_len[0];
        a->connected = 1;
        a->reusable = 0;
        a->context = SIM_CONTEXT_ACCEPT;
        put_addr(w->buf + w->recv_len, &a->local, a->local_len);
        put_addr(w->buf + w->recv_len + w->local_len, &a->peer, a->peer_len);
    }
    l->nbacklog--;
    memmove(&l->backlog[0], &l->backlog[1], (size_t)l->nbacklog * sizeof l->backlog[0]);
    memmove(&l->backlog_len[0], &l->backlog_len[1], (size_t)l->nbacklog * sizeof(int));
    l->accept_waiting = 0;
    complete(w->ov, a ? 0 : WSAENOTSOCK, 0);
}

/* AcceptEx with recv_len 0 only (simprov carries no data); one AcceptEx
 * waiting per listener. The accept socket must be new or reused after
 * TF_REUSE_SOCKET: a bound or connected one is WSAEINVAL. */
static BOOL WINAPI sim_AcceptEx(SOCKET listener, SOCKET accepted, PVOID buf, DWORD recv_len,
                                DWORD local_len, DWORD remote_len, LPDWORD received,
                                LPOVERLAPPED ov)
{
    int err = 0;
    BOOL started = FALSE;
    SIM_COUNT(AcceptEx);
    sim_lock();
    struct sim_sock *l = sim_find(listener), *a = sim_find(accepted);
    if (!l || !a)
        err = WSAENOTSOCK;
    else if (!buf || !ov)
        err = WSAEFAULT;
    else if (recv_len)
        err = WSAEOPNOTSUPP;
    else if (!l->listening || l->accept_waiting || a->connected || a->listening || a->spent ||
             (a->bound && !a->reusable) || local_len < (DWORD)sim_addr_size(l->af) + 16 ||
             remote_len < (DWORD)sim_addr_size(l->af) + 16)
        err = WSAEINVAL;
    if (!err) {
        l->accept_waiting = 1;
        l->wait.accepted = accepted;
        l->wait.buf = buf;
        l->wait.recv_len = recv_len;
        l->wait.local_len = local_len;
        l->wait.remote_len = remote_len;
        l->wait.ov = ov;
        ov->Internal = SIM_PENDING;
        ov->InternalHigh = 0;
        sim_accept_serve(l);
        started = !l->accept_waiting;
        if (started && received)
            *received = 0;
    }
    return finish(err, started);
}

static void WINAPI sim_GetAcceptExSockaddrs(PVOID buf, DWORD recv_len, DWORD local_len,
                                            DWORD remote_len, struct sockaddr **local,
                                            LPINT local_out, struct sockaddr **remote,
                                            LPINT remote_out)
{
    char *p = (char *)buf + recv_len;
    (void)remote_len;
    memcpy(local_out, p, sizeof *local_out);
    *local = (struct sockaddr *)(p + sizeof(int));
    memcpy(remote_out, p + local_len, sizeof *remote_out);
    *remote = (struct sockaddr *)(p + local_len + sizeof(int));
}

static BOOL WINAPI sim_DisconnectEx(SOCKET s, LPOVERLAPPED ov, DWORD flags, DWORD reserved)
{
    int err = 0;
    BOOL started = FALSE;
    SIM_COUNT(DisconnectEx);
    sim_lock();
    struct sim_sock *rec = sim_find(s);
    if (!rec)
        err = WSAENOTSOCK;
    else if (reserved || (flags & ~(DWORD)TF_REUSE_SOCKET))
        err = WSAEINVAL;
    else if (!rec->connected)
        err = WSAENOTCONN;
    else
        started = start(rec, ov, 0, 0, NULL, 0, flags | TF_DISCONNECT);
    return finish(err, started);
}

/* TF_REUSE_SOCKET is valid only with TF_DISCONNECT (TransmitFile docs). */
static int transmit_check(const struct sim_sock *rec, DWORD flags)
{
    if (!rec)
        return WSAENOTSOCK;
    if ((flags & TF_REUSE_SOCKET) && !(flags & TF_DISCONNECT))
        return WSAEINVAL;
    return rec->connected ? 0 : WSAENOTCONN;
}

static BOOL WINAPI sim_TransmitFile(SOCKET s, HANDLE file, DWORD bytes, DWORD per_send,
                                    LPOVERLAPPED ov, LPTRANSMIT_FILE_BUFFERS buffers,
                                    DWORD flags)
{
    BOOL started = FALSE;
    (void)per_send;
    SIM_COUNT(TransmitFile);
    sim_lock();
    struct sim_sock *rec = sim_find(s);
    int err = transmit_check(rec, flags);
    if (!err) {
        /* Nothing is sent anywhere: the count is what would have been. */
        DWORD total = (file ? bytes : 0) +
                      (buffers ? buffers->HeadLength + buffers->TailLength : 0);
        started = start(rec, ov, total, 0, NULL, 0, flags & (TF_DISCONNECT | TF_REUSE_SOCKET));
    }
    return finish(err, started);
}

static BOOL WINAPI sim_TransmitPackets(SOCKET s, LPTRANSMIT_PACKETS_ELEMENT packets,
                                       DWORD count, DWORD send_size, LPOVERLAPPED ov,
                                       DWORD flags)
{
    BOOL started = FALSE;
    (void)send_size;
    SIM_COUNT(TransmitPackets);
    sim_lock();
    struct sim_sock *rec = sim_find(s);
    int err = transmit_check(rec, flags);
    if (!err && count && !packets)
        err = WSAEFAULT;
    if (!err) {
        DWORD total = 0;
        for (DWORD i = 0; i < count; i++)
            total += packets[i].cLength;
        started = start(rec, ov, total, 0, NULL, 0, flags & (TP_DISCONNECT | TP_REUSE_SOCKET));
    }
    return finish(err, started);
}

static const struct {
    GUID guid;
    void *fn;
} extensions[] = {
    { WSAID_CONNECTEX, (void *)sim_ConnectEx },
    { WSAID_ACCEPTEX, (void *)sim_AcceptEx },
    { WSAID_GETACCEPTEXSOCKADDRS, (void *)sim_GetAcceptExSockaddrs },
    { WSAID_DISCONNECTEX, (void *)sim_DisconnectEx },
    { WSAID_TRANSMITFILE, (void *)sim_TransmitFile },
    { WSAID_TRANSMITPACKETS, (void *)sim_TransmitPackets },
};

/***********************************************************************
 *      WSPIoctl
 *
 * NOTES
 *  SIO_GET_EXTENSION_FUNCTION_POINTER (WSAEFAULT for a buffer too small
 *  for a GUID or a pointer, WSAEINVAL for a GUID simprov does not know),
 *  FIONBIO (accepted; simprov never blocks anyway) and SIO_BASE_HANDLE (the
 *  handle itself). Every other code is WSAEINVAL. Always synchronous.
 */
int WSPAPI sim_WSPIoctl(SOCKET s, DWORD code, LPVOID in, DWORD in_len, LPVOID out,
                        DWORD out_len, LPDWORD returned, LPWSAOVERLAPPED ov,
                        LPWSAOVERLAPPED_COMPLETION_ROUTINE completion, LPWSATHREADID thread,
                        LPINT lpErrno)
{
    int err = 0;
    void *result = NULL;
    (void)ov, (void)completion, (void)thread;
    SIM_ENTER(WSPIoctl, SOCKET_ERROR);
    sim_lock();
    int known = sim_find(s) != NULL;
    sim_unlock();
    if (!known) {
        err = WSAENOTSOCK;
    } else if (code == SIO_GET_EXTENSION_FUNCTION_POINTER || code == SIO_BASE_HANDLE) {
        if (code == SIO_BASE_HANDLE)
            result = (void *)s;
        else if (!in || in_len < sizeof(GUID))
            err = WSAEFAULT;
        else {
            err = WSAEINVAL;
            for (size_t i = 0; i < sizeof extensions / sizeof extensions[0] && err; i++) {
                if (IsEqualGUID((const GUID *)in, &extensions[i].guid)) {
                    result = extensions[i].fn;
                    err = 0;
                }
            }
        }
        if (!err && (!out || out_len < sizeof result))
            err = WSAEFAULT;
        if (!err) {
            memcpy(out, &result, sizeof result);
            if (returned)
                *returned = sizeof result;
        }
    } else if (code == (DWORD)FIONBIO) {
        if (!in || in_len < sizeof(u_long))
            err = WSAEFAULT;
        else if (returned)
            *returned = 0;
    } else {
        err = WSAEINVAL;
    }
    if (err) {
        *lpErrno = err;
        return SOCKET_ERROR;
    }
    return 0;
}

/***********************************************************************
 *      WSPGetOverlappedResult
 *
 * NOTES
 *  Internal holds a WSA error code (0 for success) once the operation is
 *  done, STATUS_PENDING while it is not.
 */
BOOL WSPAPI sim_WSPGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED ov, LPDWORD transferred,
                                       BOOL wait, LPDWORD flags, LPINT lpErrno)
{
    (void)s;
    SIM_ENTER(WSPGetOverlappedResult, FALSE);
    if (!ov || !transferred) {
        *lpErrno = WSAEFAULT;
        return FALSE;
    }
    while (*(volatile ULONG_PTR *)&ov->Internal == SIM_PENDING) {
        if (!wait) {
            *lpErrno = WSA_IO_INCOMPLETE;
            return FALSE;
        }
        if (!ov->hEvent || WaitForSingleObject(ov->hEvent, 50) != WAIT_OBJECT_0)
            Sleep(1);
    }
    *transferred = (DWORD)ov->InternalHigh;
    if (flags)
        *flags = 0;
    if (ov->Internal) {
        *lpErrno = (int)ov->Internal;
        return FALSE;
    }
    return TRUE;
}
