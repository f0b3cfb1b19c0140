/*
 * transfer.c - send, receive, their overlapped results and network event
 * enumeration: where peerlsp learns that a connection has ended.
 *
 * A KNOWN record is never asked below again, so whatever tells peerlsp that
 * the peer is gone must end it: the remote end resetting or aborting the
 * connection, a keep-alive failure, the end of the stream. Each function
 * here passes the call down unchanged and looks at the answer only on the
 * paths that can mean an ending (an error, zero bytes, FD_CLOSE); the
 * record then becomes VOLATILE, as after a shutdown: every later
 * getpeername asks the lower provider and nothing is cached until a connect
 * path records a new connection. What peerlsp cannot see (completions that
 * go through a completion port or a completion routine, FD_CLOSE posted to
 * a window...) is listed in docs/architecture.md.
 *
 * The success path costs one load: when every lower provider has the same
 * function for a slot (one base provider, as on Windows, started once per
 * GUID), plsp_g.data_procs points at one of their tables and no record is
 * looked up.
 */
#include "internal.h"

/* Errors that say the connection is gone, or that its state is no longer
 * what was recorded. WSAETIMEDOUT: a keep-alive failure, or a receive
 * timeout after which Windows calls the socket's state indeterminate. */
static int error_ends_connection(int err)
{
    switch (err) {
    case WSAECONNRESET:
    case WSAECONNABORTED:
    case WSAENETRESET:
    case WSAENOTCONN:
    case WSAESHUTDOWN:
    case WSAEDISCON:
    case WSAETIMEDOUT:
        return 1;
    default:
        return 0;
    }
}

/* s's connection ended (or may have): its record stops answering. The
 * record is read afresh, not the one read before the call, so that a peer
 * cached by a getpeername while the call ran is ended too. A record already
 * VOLATILE is left alone (no write, no new gen). */
static void connection_ended(SOCKET s)
{
    struct plsp_conn rec;

    if (plsp_g.table && plsp_ctab_lookup(plsp_g.table, (uint64_t)s, &rec) &&
        rec.state != PLSP_PEER_VOLATILE)
        (void)plsp_ctab_set_state(plsp_g.table, (uint64_t)s, PLSP_PEER_VOLATILE, rec.gen, NULL);
}

/* A receive that returns 0 bytes into buffers that had room is the end of
 * the stream (Wine also reports a reset that way). A zero-length buffer
 * (the "zero-byte read" IOCP servers post to wait for data) says nothing.
 * On a datagram socket it is an empty datagram: ending the record then only
 * costs later getpeernames a call below. */
static int end_of_stream(const WSABUF *bufs, DWORD count, const DWORD *received)
{
    if (!received || *received != 0 || !bufs)
        return 0;
    for (DWORD i = 0; i < count; i++) {
        if (bufs[i].len)
            return 1;
    }
    return 0;
}

/* The proc table whose data functions serve s: the one shared by every
 * lower provider, or s's own lower provider's. NULL with *lpErrno set. */
static const WSPPROC_TABLE *data_procs(SOCKET s, LPINT lpErrno)
{
    /* A plain load (the field is volatile, and an aligned pointer load is
     * atomic): an interlocked read would write the shared cache line on
     * every send and receive of every thread. The value is published under
     * the startup lock before any socket that needs another one exists. */
    const WSPPROC_TABLE *procs = plsp_g.data_procs;
    if (procs)
        return procs;
    struct plsp_conn rec;
    int found;
    struct plsp_lower *lower = plsp_socket_lower(s, &rec, &found, lpErrno);
    return lower ? &lower->procs : NULL;
}

int WSPAPI plsp_WSPRecv(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD received, LPDWORD flags,
                        LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE completion,
                        LPWSATHREADID thread, LPINT lpErrno)
{
    const WSPPROC_TABLE *procs = data_procs(s, lpErrno);
    if (!procs)
        return SOCKET_ERROR;
    int ret = procs->lpWSPRecv(s, bufs, count, received, flags, ov, completion, thread, lpErrno);
    if (ret != 0 ? error_ends_connection(*lpErrno) : end_of_stream(bufs, count, received))
        connection_ended(s);
    return ret;
}

int WSPAPI plsp_WSPRecvFrom(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD received,
                            LPDWORD flags, struct sockaddr *from, LPINT fromlen,
                            LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE completion,
                            LPWSATHREADID thread, LPINT lpErrno)
{
    const WSPPROC_TABLE *procs = data_procs(s, lpErrno);
    if (!procs)
        return SOCKET_ERROR;
    int ret = procs->lpWSPRecvFrom(s, bufs, count, received, flags, from, fromlen, ov,
                                   completion, thread, lpErrno);
    if (ret != 0 ? error_ends_connection(*lpErrno) : end_of_stream(bufs, count, received))
        connection_ended(s);
    return ret;
}

int WSPAPI plsp_WSPSend(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD sent, DWORD flags,
                        LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE completion,
                        LPWSATHREADID thread, LPINT lpErrno)
{
    const WSPPROC_TABLE *procs = data_procs(s, lpErrno);
    if (!procs)
        return SOCKET_ERROR;
    int ret = procs->lpWSPSend(s, bufs, count, sent, flags, ov, completion, thread, lpErrno);
    if (ret != 0 && error_ends_connection(*lpErrno))
        connection_ended(s);
    return ret;
}

int WSPAPI plsp_WSPSendTo(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD sent, DWORD flags,
                          const struct sockaddr *to, int tolen, LPWSAOVERLAPPED ov,
                          LPWSAOVERLAPPED_COMPLETION_ROUTINE completion, LPWSATHREADID thread,
                          LPINT lpErrno)
{
    const WSPPROC_TABLE *procs = data_procs(s, lpErrno);
    if (!procs)
        return SOCKET_ERROR;
    int ret = procs->lpWSPSendTo(s, bufs, count, sent, flags, to, tolen, ov, completion, thread,
                                 lpErrno);
    if (ret != 0 && error_ends_connection(*lpErrno))
        connection_ended(s);
    return ret;
}

/* The result does not say whether the operation was a receive or a send:
 * a success with 0 bytes may be the end of a stream (or a zero-byte read,
 * or an empty send), and is taken as a possible ending. */
BOOL WSPAPI plsp_WSPGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED ov, LPDWORD transferred,
                                        BOOL wait, LPDWORD flags, LPINT lpErrno)
{
    const WSPPROC_TABLE *procs = data_procs(s, lpErrno);
    if (!procs)
        return FALSE;
    BOOL ok = procs->lpWSPGetOverlappedResult(s, ov, transferred, wait, flags, lpErrno);
    if (ok ? (transferred && *transferred == 0) : error_ends_connection(*lpErrno))
        connection_ended(s);
    return ok;
}

int WSPAPI plsp_WSPEnumNetworkEvents(SOCKET s, WSAEVENT event, LPWSANETWORKEVENTS events,
                                     LPINT lpErrno)
{
    const WSPPROC_TABLE *procs = data_procs(s, lpErrno);
    if (!procs)
        return SOCKET_ERROR;
    int ret = procs->lpWSPEnumNetworkEvents(s, event, events, lpErrno);
    if (ret == 0 ? (events && (events->lNetworkEvents & FD_CLOSE))
                 : error_ends_connection(*lpErrno))
        connection_ended(s);
    return ret;
}

/* Called under the startup lock whenever lowers[] changes. */
void plsp_data_procs_update(void)
{
    const WSPPROC_TABLE *first = plsp_g.lower_count > 0 ? &plsp_g.lowers[0]->procs : NULL;
    for (LONG i = 1; first && i < plsp_g.lower_count; i++) {
        const WSPPROC_TABLE *t = &plsp_g.lowers[i]->procs;
        if (t->lpWSPRecv != first->lpWSPRecv || t->lpWSPRecvFrom != first->lpWSPRecvFrom ||
            t->lpWSPSend != first->lpWSPSend || t->lpWSPSendTo != first->lpWSPSendTo ||
            t->lpWSPGetOverlappedResult != first->lpWSPGetOverlappedResult ||
            t->lpWSPEnumNetworkEvents != first->lpWSPEnumNetworkEvents)
            first = NULL;
    }
    InterlockedExchangePointer((void *volatile *)&plsp_g.data_procs, (void *)first);
}
