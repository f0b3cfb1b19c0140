/*
 * dispatch.c - pass-through functions that find the socket's lower provider.
 *
 * When one proc table serves chains over different lower providers (chains
 * sharing peerlsp's GUID, over an LSP for TCP and the base provider for
 * UDP, say) and those providers' functions differ, the table cannot point
 * at one of them: these find the right one from the socket's record.
 */
#include "internal.h"

/* Declares `lower` for socket s, or returns `failed` (*lpErrno is set). */
#define PLSP_LOWER_OF(s, failed)                                                  \
    struct plsp_conn rec_;                                                        \
    int found_;                                                                   \
    struct plsp_lower *lower = plsp_socket_lower((s), &rec_, &found_, lpErrno);   \
    if (!lower)                                                                   \
        return (failed)

/* Calls without a socket name their catalog entry, or none at all. */
static struct plsp_lower *lower_of_info(const WSAPROTOCOL_INFOW *info, LPINT lpErrno)
{
    struct plsp_chain *chain = info ? plsp_chain_by_entry(info->dwCatalogEntryId) : NULL;
    if (chain)
        return chain->lower;
    if (!info && plsp_g.lower_count > 0)
        return plsp_g.lowers[0];
    *lpErrno = WSAEINVAL;
    return NULL;
}

static INT WSPAPI d_AddressToString(LPSOCKADDR addr, DWORD addr_len, LPWSAPROTOCOL_INFOW info,
                                    LPWSTR str, LPDWORD str_len, LPINT lpErrno)
{
    struct plsp_lower *lower = lower_of_info(info, lpErrno);
    if (!lower)
        return SOCKET_ERROR;
    return lower->procs.lpWSPAddressToString(addr, addr_len, info, str,
                                             str_len, lpErrno);
}

static INT WSPAPI d_StringToAddress(LPWSTR str, INT af, LPWSAPROTOCOL_INFOW info,
                                    LPSOCKADDR addr, LPINT addr_len, LPINT lpErrno)
{
    struct plsp_lower *lower = lower_of_info(info, lpErrno);
    if (!lower)
        return SOCKET_ERROR;
    return lower->procs.lpWSPStringToAddress(str, af, info, addr, addr_len, lpErrno);
}

static int WSPAPI d_AsyncSelect(SOCKET s, HWND wnd, unsigned int msg, __LONG32 events,
                                LPINT lpErrno)
{
    PLSP_LOWER_OF(s, SOCKET_ERROR);
    return lower->procs.lpWSPAsyncSelect(s, wnd, msg, events, lpErrno);
}

static int WSPAPI d_Bind(SOCKET s, const struct sockaddr *name, int namelen, LPINT lpErrno)
{
    PLSP_LOWER_OF(s, SOCKET_ERROR);
    return lower->procs.lpWSPBind(s, name, namelen, lpErrno);
}

static int WSPAPI d_CancelBlockingCall(LPINT lpErrno)
{
    /* Obsolete since Winsock 2.2 (no blocking hooks); every lower provider
     * is told, as any of them may be the one blocking. */
    int ret = 0;
    for (LONG i = 0; i < plsp_g.lower_count; i++) {
        if (plsp_g.lowers[i]->procs.lpWSPCancelBlockingCall(lpErrno) != 0)
            ret = SOCKET_ERROR;
    }
    return ret;
}

static int WSPAPI d_DuplicateSocket(SOCKET s, DWORD pid, LPWSAPROTOCOL_INFOW info,
                                    LPINT lpErrno)
{
    PLSP_LOWER_OF(s, SOCKET_ERROR);
    return lower->procs.lpWSPDuplicateSocket(s, pid, info, lpErrno);
}


static int WSPAPI d_EventSelect(SOCKET s, WSAEVENT event, __LONG32 events, LPINT lpErrno)
{
    PLSP_LOWER_OF(s, SOCKET_ERROR);
    return lower->procs.lpWSPEventSelect(s, event, events, lpErrno);
}


static int WSPAPI d_GetSockName(SOCKET s, struct sockaddr *name, LPINT namelen, LPINT lpErrno)
{
    PLSP_LOWER_OF(s, SOCKET_ERROR);
    return lower->procs.lpWSPGetSockName(s, name, namelen, lpErrno);
}


static WINBOOL WSPAPI d_GetQOSByName(SOCKET s, LPWSABUF name, LPQOS qos, LPINT lpErrno)
{
    PLSP_LOWER_OF(s, FALSE);
    return lower->procs.lpWSPGetQOSByName(s, name, qos, lpErrno);
}

static int WSPAPI d_Ioctl(SOCKET s, DWORD code, LPVOID in, DWORD in_len, LPVOID out,
                          DWORD out_len, LPDWORD returned, LPWSAOVERLAPPED ov,
                          LPWSAOVERLAPPED_COMPLETION_ROUTINE completion, LPWSATHREADID thread,
                          LPINT lpErrno)
{
    PLSP_LOWER_OF(s, SOCKET_ERROR);
    return lower->procs.lpWSPIoctl(s, code, in, in_len, out, out_len, returned, ov, completion,
                                   thread, lpErrno);
}

static int WSPAPI d_Listen(SOCKET s, int backlog, LPINT lpErrno)
{
    PLSP_LOWER_OF(s, SOCKET_ERROR);
    return lower->procs.lpWSPListen(s, backlog, lpErrno);
}


static int WSPAPI d_RecvDisconnect(SOCKET s, LPWSABUF data, LPINT lpErrno)
{
    PLSP_LOWER_OF(s, SOCKET_ERROR);
    return lower->procs.lpWSPRecvDisconnect(s, data, lpErrno);
}


/* select names no single socket: the first one in the sets decides, as in
 * ws2_32 itself. */
static SOCKET first_socket(const fd_set *r, const fd_set *w, const fd_set *e)
{
    if (r && r->fd_count)
        return r->fd_array[0];
    if (w && w->fd_count)
        return w->fd_array[0];
    if (e && e->fd_count)
        return e->fd_array[0];
    return INVALID_SOCKET;
}

static int WSPAPI d_Select(int nfds, fd_set *r, fd_set *w, fd_set *e, const PTIMEVAL timeout,
                           LPINT lpErrno)
{
    SOCKET s = first_socket(r, w, e);
    if (s == INVALID_SOCKET) {
        *lpErrno = WSAEINVAL;
        return SOCKET_ERROR;
    }
    PLSP_LOWER_OF(s, SOCKET_ERROR);
    return lower->procs.lpWSPSelect(nfds, r, w, e, timeout, lpErrno);
}


static int WSPAPI d_SendDisconnect(SOCKET s, LPWSABUF data, LPINT lpErrno)
{
    PLSP_LOWER_OF(s, SOCKET_ERROR);
    return lower->procs.lpWSPSendDisconnect(s, data, lpErrno);
}


static int WSPAPI d_SetSockOpt(SOCKET s, int level, int name, const char *val, int len,
                               LPINT lpErrno)
{
    PLSP_LOWER_OF(s, SOCKET_ERROR);
    return lower->procs.lpWSPSetSockOpt(s, level, name, val, len, lpErrno);
}

static int WSPAPI d_Shutdown(SOCKET s, int how, LPINT lpErrno)
{
    PLSP_LOWER_OF(s, SOCKET_ERROR);
    return lower->procs.lpWSPShutdown(s, how, lpErrno);
}

/* Slots peerlsp always fills with its own functions stay NULL here:
 * plsp_proctable_fill() overwrites them anyway. */
const WSPPROC_TABLE plsp_dispatch_procs = {
    .lpWSPAddressToString = d_AddressToString,
    .lpWSPAsyncSelect = d_AsyncSelect,
    .lpWSPBind = d_Bind,
    .lpWSPCancelBlockingCall = d_CancelBlockingCall,
    .lpWSPDuplicateSocket = d_DuplicateSocket,
    .lpWSPEventSelect = d_EventSelect,
    .lpWSPGetSockName = d_GetSockName,
    .lpWSPGetQOSByName = d_GetQOSByName,
    .lpWSPIoctl = d_Ioctl,
    .lpWSPListen = d_Listen,
    .lpWSPRecvDisconnect = d_RecvDisconnect,
    .lpWSPSelect = d_Select,
    .lpWSPSendDisconnect = d_SendDisconnect,
    .lpWSPSetSockOpt = d_SetSockOpt,
    .lpWSPShutdown = d_Shutdown,
    .lpWSPStringToAddress = d_StringToAddress,
};
