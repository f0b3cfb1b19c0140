/*
 * unsupported.c - the proc table slots simprov has nothing to simulate
 * for: datagram transfer, readiness by select and window message, disconnect data, QoS, duplication and
 * address strings. Each has its exact WSP signature (on x86 a __stdcall
 * callee pops its own arguments, so one shared stub would corrupt the
 * stack) and fails with WSAEOPNOTSUPP through *lpErrno. startup.c fills the
 * other 18 slots; together all 30 are filled.
 */
#include "internal.h"

#define UNSUPPORTED(ret)         \
    do {                         \
        *lpErrno = WSAEOPNOTSUPP; \
        return ret;              \
    } while (0)

static INT WSPAPI sim_WSPAddressToString(LPSOCKADDR a, DWORD alen, LPWSAPROTOCOL_INFOW info,
                                         LPWSTR str, LPDWORD slen, LPINT lpErrno)
{
    (void)a, (void)alen, (void)info, (void)str, (void)slen;
    UNSUPPORTED(SOCKET_ERROR);
}

static int WSPAPI sim_WSPAsyncSelect(SOCKET s, HWND wnd, unsigned int msg, LONG events,
                                     LPINT lpErrno)
{
    (void)s, (void)wnd, (void)msg, (void)events;
    UNSUPPORTED(SOCKET_ERROR);
}

/* Nothing ever blocks, so there is never anything to cancel. */
static int WSPAPI sim_WSPCancelBlockingCall(LPINT lpErrno)
{
    (void)lpErrno;
    return 0;
}

static int WSPAPI sim_WSPDuplicateSocket(SOCKET s, DWORD pid, LPWSAPROTOCOL_INFOW info,
                                         LPINT lpErrno)
{
    (void)s, (void)pid, (void)info;
    UNSUPPORTED(SOCKET_ERROR);
}



static BOOL WSPAPI sim_WSPGetQOSByName(SOCKET s, LPWSABUF name, LPQOS qos, LPINT lpErrno)
{
    (void)s, (void)name, (void)qos;
    UNSUPPORTED(FALSE);
}


static int WSPAPI sim_WSPRecvDisconnect(SOCKET s, LPWSABUF data, LPINT lpErrno)
{
    (void)s, (void)data;
    UNSUPPORTED(SOCKET_ERROR);
}

static int WSPAPI sim_WSPRecvFrom(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD received,
                                  LPDWORD flags, struct sockaddr *from, LPINT fromlen,
                                  LPWSAOVERLAPPED ov,
                                  LPWSAOVERLAPPED_COMPLETION_ROUTINE completion,
                                  LPWSATHREADID thread, LPINT lpErrno)
{
    (void)s, (void)bufs, (void)count, (void)received, (void)flags, (void)from, (void)fromlen,
        (void)ov, (void)completion, (void)thread;
    UNSUPPORTED(SOCKET_ERROR);
}

static int WSPAPI sim_WSPSelect(int nfds, fd_set *r, fd_set *w, fd_set *x,
                                const PTIMEVAL timeout, LPINT lpErrno)
{
    (void)nfds, (void)r, (void)w, (void)x, (void)timeout;
    UNSUPPORTED(SOCKET_ERROR);
}


static int WSPAPI sim_WSPSendDisconnect(SOCKET s, LPWSABUF data, LPINT lpErrno)
{
    (void)s, (void)data;
    UNSUPPORTED(SOCKET_ERROR);
}

static int WSPAPI sim_WSPSendTo(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD sent,
                                DWORD flags, const struct sockaddr *to, int tolen,
                                LPWSAOVERLAPPED ov,
                                LPWSAOVERLAPPED_COMPLETION_ROUTINE completion,
                                LPWSATHREADID thread, LPINT lpErrno)
{
    (void)s, (void)bufs, (void)count, (void)sent, (void)flags, (void)to, (void)tolen, (void)ov,
        (void)completion, (void)thread;
    UNSUPPORTED(SOCKET_ERROR);
}

static int WSPAPI sim_WSPShutdown(SOCKET s, int how, LPINT lpErrno)
{
    (void)s, (void)how;
    UNSUPPORTED(SOCKET_ERROR);
}

static INT WSPAPI sim_WSPStringToAddress(LPWSTR str, INT af, LPWSAPROTOCOL_INFOW info,
                                         LPSOCKADDR addr, LPINT len, LPINT lpErrno)
{
    (void)str, (void)af, (void)info, (void)addr, (void)len;
    UNSUPPORTED(SOCKET_ERROR);
}

const WSPPROC_TABLE sim_unsupported_procs = {
    .lpWSPAddressToString = sim_WSPAddressToString,
    .lpWSPAsyncSelect = sim_WSPAsyncSelect,
    .lpWSPCancelBlockingCall = sim_WSPCancelBlockingCall,
    .lpWSPDuplicateSocket = sim_WSPDuplicateSocket,
    .lpWSPGetQOSByName = sim_WSPGetQOSByName,
    .lpWSPRecvDisconnect = sim_WSPRecvDisconnect,
    .lpWSPRecvFrom = sim_WSPRecvFrom,
    .lpWSPSelect = sim_WSPSelect,
    .lpWSPSendDisconnect = sim_WSPSendDisconnect,
    .lpWSPSendTo = sim_WSPSendTo,
    .lpWSPShutdown = sim_WSPShutdown,
    .lpWSPStringToAddress = sim_WSPStringToAddress,
};
