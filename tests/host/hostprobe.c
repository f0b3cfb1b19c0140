/*
 * hostprobe.c - the probe provider (see hostprobe.h).
 */
#include <string.h>

#include "hostprobe.h"

/* The stubs take the SPI's full parameter lists and use few of them. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

static volatile LONG startups, next_context;
static volatile LONG fail_next = 0, empty_slot = -1;
static WSPUPCALLTABLE upcalls;
static LONG have_upcalls;
static DWORD started_entry;
static int catalog_count;
static int path_error;
static WCHAR path_seen[MAX_PATH];
static DWORD categories_seen;

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    if (reason == DLL_PROCESS_ATTACH)
        DisableThreadLibraryCalls(instance);
    return TRUE;
}

static int fail(LPINT lpErrno, int err)
{
    *lpErrno = err;
    return SOCKET_ERROR;
}

/* ---- the WSP functions that do something -------------------------------- */

static SOCKET WSPAPI probe_WSPSocket(int af, int type, int protocol,
                                     LPWSAPROTOCOL_INFOW lpProtocolInfo, GROUP g, DWORD dwFlags,
                                     LPINT lpErrno)
{
    if (!lpProtocolInfo) {
        *lpErrno = WSAEFAULT;
        return INVALID_SOCKET;
    }
    DWORD_PTR context = HOSTPROBE_CONTEXT_BASE + (DWORD_PTR)InterlockedIncrement(&next_context);
    return upcalls.lpWPUCreateSocketHandle(lpProtocolInfo->dwCatalogEntryId, context, lpErrno);
}

static int WSPAPI probe_WSPCloseSocket(SOCKET s, LPINT lpErrno)
{
    if (upcalls.lpWPUCloseSocketHandle(s, lpErrno) == 0)
        return 0;
    /* One of the handles accept/join made without registering it. */
    if (*lpErrno == WSAENOTSOCK && CloseHandle((HANDLE)s))
        return 0;
    return SOCKET_ERROR;
}

/* A provider that forgets to register the handles it makes: ws2_32 (the
 * host) has to bind them to the entry of the socket they came from. */
static SOCKET unregistered_handle(LPINT lpErrno)
{
    HANDLE h = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!h) {
        *lpErrno = WSAENOBUFS;
        return INVALID_SOCKET;
    }
    return (SOCKET)h;
}

static SOCKET WSPAPI probe_WSPAccept(SOCKET s, struct sockaddr *addr, LPINT addrlen,
                                     LPCONDITIONPROC cond, DWORD_PTR data, LPINT lpErrno)
{
    return unregistered_handle(lpErrno);
}

static SOCKET WSPAPI probe_WSPJoinLeaf(SOCKET s, const struct sockaddr *name, int namelen,
                                       LPWSABUF caller, LPWSABUF callee, LPQOS sqos, LPQOS gqos,
                                       DWORD flags, LPINT lpErrno)
{
    return unregistered_handle(lpErrno);
}

static int WSPAPI probe_WSPGetPeerName(SOCKET s, struct sockaddr *name, LPINT namelen,
                                       LPINT lpErrno)
{
    DWORD_PTR context;
    if (upcalls.lpWPUQuerySocketHandleContext(s, &context, lpErrno) == SOCKET_ERROR)
        return SOCKET_ERROR;
    if (!name || !namelen || *namelen < (int)sizeof(struct sockaddr_in))
        return fail(lpErrno, WSAEFAULT);
    struct sockaddr_in *sin = (struct sockaddr_in *)name;
    memset(sin, 0, sizeof *sin);
    sin->sin_family = AF_INET;
    sin->sin_port = htons((u_short)(context & 0xffff));
    sin->sin_addr.s_addr = htonl(0xc0000201); /* HOSTPROBE_PEER_ADDR */
    *namelen = sizeof *sin;
    return 0;
}

/* A broken provider: fails without saying why. */
static int WSPAPI probe_WSPGetSockName(SOCKET s, struct sockaddr *name, LPINT namelen,
                                       LPINT lpErrno)
{
    *lpErrno = 0;
    return SOCKET_ERROR;
}

static int WSPAPI probe_WSPSelect(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
                                  const PTIMEVAL timeout, LPINT lpErrno)
{
    return HOSTPROBE_SELECT_RESULT;
}

static int WSPAPI probe_WSPCleanup(LPINT lpErrno)
{
    if (InterlockedCompareExchange(&startups, 0, 0) <= 0)
        return fail(lpErrno, WSANOTINITIALISED);
    InterlockedDecrement(&startups);
    return 0;
}

/* ---- everything else: not supported -------------------------------------- */


static INT WSPAPI probe_WSPAddressToString(LPSOCKADDR a, DWORD alen, LPWSAPROTOCOL_INFOW info,
                                           LPWSTR str, LPDWORD slen, LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static int WSPAPI probe_WSPAsyncSelect(SOCKET s, HWND hwnd, unsigned int msg, __LONG32 ev,
                                       LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static int WSPAPI probe_WSPBind(SOCKET s, const struct sockaddr *name, int namelen, LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static int WSPAPI probe_WSPCancelBlockingCall(LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static int WSPAPI probe_WSPConnect(SOCKET s, const struct sockaddr *name, int namelen,
                                   LPWSABUF caller, LPWSABUF callee, LPQOS sqos, LPQOS gqos,
                                   LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static int WSPAPI probe_WSPDuplicateSocket(SOCKET s, DWORD pid, LPWSAPROTOCOL_INFOW info,
                                           LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static int WSPAPI probe_WSPEnumNetworkEvents(SOCKET s, WSAEVENT ev, LPWSANETWORKEVENTS events,
                                             LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static int WSPAPI probe_WSPEventSelect(SOCKET s, WSAEVENT ev, __LONG32 events, LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static WINBOOL WSPAPI probe_WSPGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED ov, LPDWORD bytes,
                                                   WINBOOL wait, LPDWORD flags, LPINT lpErrno)
{
    *lpErrno = WSAEOPNOTSUPP;
    return FALSE;
}

static int WSPAPI probe_WSPGetSockOpt(SOCKET s, int level, int name, char *val, LPINT len,
                                      LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static WINBOOL WSPAPI probe_WSPGetQOSByName(SOCKET s, LPWSABUF name, LPQOS qos, LPINT lpErrno)
{
    *lpErrno = WSAEOPNOTSUPP;
    return FALSE;
}

static int WSPAPI probe_WSPIoctl(SOCKET s, DWORD code, LPVOID in, DWORD inlen, LPVOID out,
                                 DWORD outlen, LPDWORD ret, LPWSAOVERLAPPED ov,
                                 LPWSAOVERLAPPED_COMPLETION_ROUTINE cr, LPWSATHREADID tid,
                                 LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}


static int WSPAPI probe_WSPListen(SOCKET s, int backlog, LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static int WSPAPI probe_WSPRecv(SOCKET s, LPWSABUF bufs, DWORD n, LPDWORD got, LPDWORD flags,
                                LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE cr,
                                LPWSATHREADID tid, LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static int WSPAPI probe_WSPRecvDisconnect(SOCKET s, LPWSABUF data, LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static int WSPAPI probe_WSPRecvFrom(SOCKET s, LPWSABUF bufs, DWORD n, LPDWORD got, LPDWORD flags,
                                    struct sockaddr *from, LPINT fromlen, LPWSAOVERLAPPED ov,
                                    LPWSAOVERLAPPED_COMPLETION_ROUTINE cr, LPWSATHREADID tid,
                                    LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static int WSPAPI probe_WSPSend(SOCKET s, LPWSABUF bufs, DWORD n, LPDWORD sent, DWORD flags,
                                LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE cr,
                                LPWSATHREADID tid, LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static int WSPAPI probe_WSPSendDisconnect(SOCKET s, LPWSABUF data, LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static int WSPAPI probe_WSPSendTo(SOCKET s, LPWSABUF bufs, DWORD n, LPDWORD sent, DWORD flags,
                                  const struct sockaddr *to, int tolen, LPWSAOVERLAPPED ov,
                                  LPWSAOVERLAPPED_COMPLETION_ROUTINE cr, LPWSATHREADID tid,
                                  LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static int WSPAPI probe_WSPSetSockOpt(SOCKET s, int level, int name, const char *val, int len,
                                      LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static int WSPAPI probe_WSPShutdown(SOCKET s, int how, LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static INT WSPAPI probe_WSPStringToAddress(LPWSTR str, INT af, LPWSAPROTOCOL_INFOW info,
                                           LPSOCKADDR addr, LPINT len, LPINT lpErrno)
{
    return fail(lpErrno, WSAEOPNOTSUPP);
}

static const WSPPROC_TABLE proc_table = {
    probe_WSPAccept,       probe_WSPAddressToString,     probe_WSPAsyncSelect,
    probe_WSPBind,         probe_WSPCancelBlockingCall,  probe_WSPCleanup,
    probe_WSPCloseSocket,  probe_WSPConnect,             probe_WSPDuplicateSocket,
    probe_WSPEnumNetworkEvents, probe_WSPEventSelect,    probe_WSPGetOverlappedResult,
    probe_WSPGetPeerName,  probe_WSPGetSockName,         probe_WSPGetSockOpt,
    probe_WSPGetQOSByName, probe_WSPIoctl,               probe_WSPJoinLeaf,
    probe_WSPListen,       probe_WSPRecv,                probe_WSPRecvDisconnect,
    probe_WSPRecvFrom,     probe_WSPSelect,              probe_WSPSend,
    probe_WSPSendDisconnect, probe_WSPSendTo,            probe_WSPSetSockOpt,
    probe_WSPShutdown,     probe_WSPSocket,              probe_WSPStringToAddress,
};

/* Reads the catalog the way an LSP does at start-up, through the imports. */
static void look_at_catalog(LPWSAPROTOCOL_INFOW info)
{
    DWORD len = 0;
    int err = 0;
    int n = WSCEnumProtocols(NULL, NULL, &len, &err);
    catalog_count = n == SOCKET_ERROR ? (err == WSAENOBUFS ? (int)(len / sizeof(*info)) : -err)
                                      : n;

    int plen = MAX_PATH;
    memset(path_seen, 0, sizeof path_seen);
    path_error = WSCGetProviderPath(&info->ProviderId, path_seen, &plen, &err) == SOCKET_ERROR
                     ? err
                     : 0;

    DWORD cats = MAXDWORD;
    size_t size = sizeof cats;
    if (WSCGetProviderInfo(&info->ProviderId, ProviderInfoLspCategories, (PBYTE)&cats, &size, 0,
                           &err) == SOCKET_ERROR)
        cats = MAXDWORD;
    categories_seen = cats;
}

int WSPAPI WSPStartup(WORD wVersionRequested, LPWSPDATA lpWSPData,
                      LPWSAPROTOCOL_INFOW lpProtocolInfo, WSPUPCALLTABLE UpcallTable,
                      LPWSPPROC_TABLE lpProcTable)
{
    int err = (int)InterlockedExchange(&fail_next, 0);
    if (err)
        return err;
    if (!lpWSPData || !lpProtocolInfo || !lpProcTable)
        return WSAEFAULT;
    if (!InterlockedExchange(&have_upcalls, 1))
        upcalls = UpcallTable;
    started_entry = lpProtocolInfo->dwCatalogEntryId;
    look_at_catalog(lpProtocolInfo);

    lpWSPData->wVersion = MAKEWORD(2, 2);
    lpWSPData->wHighVersion = MAKEWORD(2, 2);
    memcpy(lpWSPData->szDescription, L"hostprobe", sizeof L"hostprobe");
    *lpProcTable = proc_table;
    LONG slot = InterlockedExchange(&empty_slot, -1);
    if (slot >= 0 && slot < (LONG)(sizeof proc_table / sizeof(void *)))
        ((void **)lpProcTable)[slot] = NULL;
    InterlockedIncrement(&startups);
    return 0;
}

/* ---- control exports ------------------------------------------------------ */

LONG WINAPI probe_startups(void)
{
    return InterlockedCompareExchange(&startups, 0, 0);
}

void WINAPI probe_fail_next_startup(int error)
{
    InterlockedExchange(&fail_next, error);
}

void WINAPI probe_empty_slot_next_startup(int index)
{
    InterlockedExchange(&empty_slot, index);
}

DWORD WINAPI probe_started_entry(void)
{
    return started_entry;
}

int WINAPI probe_catalog_count(void)
{
    return catalog_count;
}

int WINAPI probe_catalog_path(WCHAR *buf, int len)
{
    if (path_error)
        return path_error;
    if (len <= 0)
        return WSAEFAULT;
    wcsncpy(buf, path_seen, (size_t)len - 1);
    buf[len - 1] = 0;
    return 0;
}

DWORD WINAPI probe_categories(void)
{
    return categories_seen;
}

int WINAPI probe_complete(SOCKET s, LPWSAOVERLAPPED overlapped, DWORD error, DWORD transferred,
                          int *errno_out)
{
    return WPUCompleteOverlappedRequest(s, overlapped, error, transferred, errno_out);
}

const WSPUPCALLTABLE *WINAPI probe_upcalls(void)
{
    return InterlockedCompareExchange(&have_upcalls, 0, 0) ? &upcalls : NULL;
}
