/*
 * transfer.c - WSPRecv, WSPSend, WSPEventSelect, WSPEnumNetworkEvents, and
 * simprov_reset: a connection reset by the other end, with Windows' codes.
 *
 * No data ever arrives: a receive on a connected socket has nothing to
 * return (WSAEWOULDBLOCK, or an overlapped receive that stays pending), a
 * send "sends" everything. After simprov_reset the connection is gone as
 * after a TCP reset on Windows: receive and send fail with WSAECONNRESET,
 * a pending overlapped receive completes with it, WSAEnumNetworkEvents
 * reports FD_CLOSE with WSAECONNRESET, getpeername says WSAENOTCONN.
 */
#include <string.h>

#include "internal.h"

#define SIM_PENDING ((ULONG_PTR)0x103)

/* The one overlapped receive waiting for data (lock held to touch). */
static struct {
    SOCKET s;
    LPWSAOVERLAPPED ov;
} parked;

static void complete(LPWSAOVERLAPPED ov, int err)
{
    ov->InternalHigh = 0;
    ov->Internal = (ULONG_PTR)err;
    if (ov->hEvent)
        SetEvent(ov->hEvent);
}

/***********************************************************************
 *      simprov_reset
 */
BOOL WINAPI simprov_reset(SOCKET s)
{
    sim_lock();
    struct sim_sock *rec = sim_find(s);
    if (rec) {
        rec->connected = 0;
        rec->reset = 1;
        rec->context = SIM_CONTEXT_NONE;
        memset(&rec->peer, 0, sizeof rec->peer);
        rec->peer_len = 0;
        if (parked.ov && parked.s == s) {
            complete(parked.ov, WSAECONNRESET);
            parked.ov = NULL;
        }
    }
    sim_unlock();
    return rec != NULL;
}

/* 0, or the error a data call on rec fails with (lock held). */
static int data_error(const struct sim_sock *rec)
{
    if (!rec)
        return WSAENOTSOCK;
    if (rec->reset)
        return WSAECONNRESET;
    if (!rec->connected)
        return WSAENOTCONN;
    return 0;
}

int WSPAPI sim_WSPRecv(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD received, LPDWORD flags,
                       LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE completion,
                       LPWSATHREADID thread, LPINT lpErrno)
{
    (void)bufs, (void)count, (void)received, (void)flags, (void)completion, (void)thread;
    SIM_COUNT(WSPRecv);
    sim_lock();
    int err = data_error(sim_find(s));
    if (!err) {
        if (ov && !parked.ov) {
            ov->Internal = SIM_PENDING;
            parked.s = s;
            parked.ov = ov;
            err = WSA_IO_PENDING;
        } else {
            err = WSAEWOULDBLOCK;
        }
    }
    sim_unlock();
    *lpErrno = err;
    return SOCKET_ERROR;
}

int WSPAPI sim_WSPSend(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD sent, DWORD flags,
                       LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE completion,
                       LPWSATHREADID thread, LPINT lpErrno)
{
    (void)flags, (void)ov, (void)completion, (void)thread;
    SIM_COUNT(WSPSend);
    sim_lock();
    int err = data_error(sim_find(s));
    sim_unlock();
    if (err) {
        *lpErrno = err;
        return SOCKET_ERROR;
    }
    DWORD total = 0;
    for (DWORD i = 0; bufs && i < count; i++)
        total += bufs[i].len;
    if (sent)
        *sent = total;
    return 0;
}

int WSPAPI sim_WSPEventSelect(SOCKET s, WSAEVENT ev, LONG events, LPINT lpErrno)
{
    (void)ev, (void)events;
    sim_lock();
    int known = sim_find(s) != NULL;
    sim_unlock();
    if (!known) {
        *lpErrno = WSAENOTSOCK;
        return SOCKET_ERROR;
    }
    return 0;
}

int WSPAPI sim_WSPEnumNetworkEvents(SOCKET s, WSAEVENT ev, LPWSANETWORKEVENTS events,
                                    LPINT lpErrno)
{
    (void)ev;
    SIM_COUNT(WSPEnumNetworkEvents);
    if (!events) {
        *lpErrno = WSAEFAULT;
        return SOCKET_ERROR;
    }
    sim_lock();
    struct sim_sock *rec = sim_find(s);
    int reset = rec && rec->reset;
    sim_unlock();
    if (!rec) {
        *lpErrno = WSAENOTSOCK;
        return SOCKET_ERROR;
    }
    memset(events, 0, sizeof *events);
    if (reset) {
        events->lNetworkEvents = FD_CLOSE;
        events->iErrorCode[FD_CLOSE_BIT] = WSAECONNRESET;
    }
    return 0;
}
