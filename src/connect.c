/*
 * connect.c - WSPConnect: the blocking and non-blocking connect path; and
 * WSPShutdown, WSPSendDisconnect, WSPRecvDisconnect, after which the stack
 * may drop the peer at any moment.
 *
 * peerlsp never records the address the caller passed: the lower provider's
 * own answer after the connect is what getpeername must return, byte for
 * byte (it may differ from the caller's bytes: sin_zero, flow info, scope,
 * an unspecified address the stack replaced, a datagram association
 * dissolved by connecting to an all-zero address).
 */
#include "internal.h"

/***********************************************************************
 *              WSPConnect  (peerlsp, through the proc table)
 *
 * NOTES
 *  The record is VOLATILE while the lower connect runs. On success the peer
 *  is read from below and recorded. On any failure, WSAEWOULDBLOCK included
 *  (a non-blocking connect in progress), the record is set back to UNKNOWN:
 *  getpeername then asks the lower provider, which knows when the connect
 *  completes or fails. Neither write happens if anything else wrote to the
 *  record meanwhile.
 */
int WSPAPI plsp_WSPConnect(SOCKET s, const struct sockaddr *name, int namelen,
                           LPWSABUF caller_data, LPWSABUF callee_data, LPQOS sqos, LPQOS gqos,
                           LPINT lpErrno)
{
    struct plsp_conn rec;
    int found;
    plsp_gen gen = 0;
    struct plsp_lower *lower = plsp_socket_lower(s, &rec, &found, lpErrno);
    if (!lower)
        return SOCKET_ERROR;
    /* VOLATILE while the connect runs: a getpeername meanwhile asks below
     * and records nothing, and any write meanwhile outranks this one. */
    int marked = found && plsp_peer_begin_change(s, &gen);
    int ret = lower->procs.lpWSPConnect(s, name, namelen, caller_data, callee_data, sqos, gqos,
                                        lpErrno);
    if (!marked) {
        /* No record when the call began, but the value may have been
         * closed and taken by a new socket meanwhile, which this connect
         * then reached: whatever that socket recorded predates it. */
        plsp_ctab_mark_volatile(plsp_g.table, (uint64_t)s);
        return ret;
    }
    if (ret == 0) {
        plsp_peer_refresh(lower, s, gen);
    } else {
        /* The lower error code stays as it is: only the record changes. */
        plsp_peer_end_change(s, gen);
    }
    return ret;
}

/* After a shutdown in either direction the connection can be gone as soon
 * as the other end closes too, without any further call through peerlsp
 * (Wine then answers WSAENOTCONN). The record becomes VOLATILE before the
 * call, as for DisconnectEx: every later getpeername asks below, and a
 * getpeername racing with the shutdown cannot record a peer after it.
 * Returns s's lower provider, or NULL with *lpErrno set. */
static struct plsp_lower *lower_losing_peer(SOCKET s, LPINT lpErrno)
{
    struct plsp_conn rec;
    int found;
    struct plsp_lower *lower = plsp_socket_lower(s, &rec, &found, lpErrno);
    if (lower && found)
        plsp_ctab_mark_volatile(plsp_g.table, (uint64_t)s);
    return lower;
}

/* And again once the lower call has returned: a connect running meanwhile
 * may have read its peer from below before this call dropped it, and must
 * not record it after (its write is conditional on the gen it took, which
 * this write changes). */
static int peer_lost(SOCKET s, int ret)
{
    plsp_ctab_mark_volatile(plsp_g.table, (uint64_t)s);
    return ret;
}

/***********************************************************************
 *              WSPShutdown  (peerlsp, through the proc table)
 */
int WSPAPI plsp_WSPShutdown(SOCKET s, int how, LPINT lpErrno)
{
    struct plsp_lower *lower = lower_losing_peer(s, lpErrno);
    return lower ? peer_lost(s, lower->procs.lpWSPShutdown(s, how, lpErrno)) : SOCKET_ERROR;
}

/***********************************************************************
 *              WSPSendDisconnect  (peerlsp, through the proc table)
 */
int WSPAPI plsp_WSPSendDisconnect(SOCKET s, LPWSABUF data, LPINT lpErrno)
{
    struct plsp_lower *lower = lower_losing_peer(s, lpErrno);
    return lower ? peer_lost(s, lower->procs.lpWSPSendDisconnect(s, data, lpErrno)) : SOCKET_ERROR;
}

/***********************************************************************
 *              WSPRecvDisconnect  (peerlsp, through the proc table)
 */
int WSPAPI plsp_WSPRecvDisconnect(SOCKET s, LPWSABUF data, LPINT lpErrno)
{
    struct plsp_lower *lower = lower_losing_peer(s, lpErrno);
    return lower ? peer_lost(s, lower->procs.lpWSPRecvDisconnect(s, data, lpErrno)) : SOCKET_ERROR;
}
