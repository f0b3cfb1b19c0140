/*
 * host_upcall.c - the upcall table (WPU functions) the host hands to every
 * WSPStartup, and the ws2_32 exports it redirects providers' imports to.
 *
 * Each function follows its Microsoft documentation (ws2spi.h pages): it
 * returns its documented failure value and puts the code in *lpErrno.
 * Where the documentation lists no code for a case, the comment says what
 * is used and why.
 */
#include "host_internal.h"

static int upcall_fail(LPINT lpErrno, int err)
{
    if (lpErrno)
        *lpErrno = err;
    return SOCKET_ERROR;
}

static BOOL upcall_fail_bool(LPINT lpErrno, int err)
{
    if (lpErrno)
        *lpErrno = err;
    return FALSE;
}

/* The entry a provider names by id, in the current session. */
static struct host_entry *upcall_entry(DWORD id, LPINT lpErrno)
{
    struct host_session *ses = host_session();
    struct host_entry *e = host_session_entry(ses, id);
    if (!e)
        upcall_fail(lpErrno, ses ? WSAEINVAL : WSANOTINITIALISED);
    return e;
}

/***********************************************************************
 *      WPUCloseEvent
 */
static BOOL WSPAPI host_WPUCloseEvent(WSAEVENT hEvent, LPINT lpErrno)
{
    if (!CloseHandle(hEvent))
        return upcall_fail_bool(lpErrno, WSA_INVALID_HANDLE);
    return TRUE;
}

/***********************************************************************
 *      WPUCloseSocketHandle
 *
 * Only for handles made by WPUCreateSocketHandle: WSAENOTSOCK otherwise.
 */
static int WSPAPI host_WPUCloseSocketHandle(SOCKET s, LPINT lpErrno)
{
    struct host_binding b;
    if (!host_binding_get(s, &b) || !b.wpu)
        return upcall_fail(lpErrno, WSAENOTSOCK);
    host_binding_clear(s);
    CloseHandle((HANDLE)s);
    return 0;
}

/***********************************************************************
 *      WPUCreateEvent
 *
 * Manual reset, initially non-signalled, as documented.
 */
static WSAEVENT WSPAPI host_WPUCreateEvent(LPINT lpErrno)
{
    HANDLE h = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!h) {
        upcall_fail(lpErrno, WSA_NOT_ENOUGH_MEMORY);
        return WSA_INVALID_EVENT;
    }
    return h;
}

/***********************************************************************
 *      WPUCreateSocketHandle
 *
 * The handle is an event object: a real kernel handle, so that no socket
 * Wine creates can have its value while it is open. Failures: WSAENOBUFS
 * (documented); an id the catalog does not hold gets WSAEINVAL, the code
 * WPUModifyIFSHandle and WPUQueryBlockingCallback use for a bad id.
 */
static SOCKET WSPAPI host_WPUCreateSocketHandle(DWORD dwCatalogEntryId, DWORD_PTR dwContext,
                                                LPINT lpErrno)
{
    struct host_entry *e = upcall_entry(dwCatalogEntryId, lpErrno);
    if (!e)
        return INVALID_SOCKET;
    HANDLE h = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!h) {
        upcall_fail(lpErrno, WSAENOBUFS);
        return INVALID_SOCKET;
    }
    int err = host_binding_set((SOCKET)h, e, 1, dwContext);
    if (err) {
        CloseHandle(h);
        upcall_fail(lpErrno, WSAENOBUFS);
        return INVALID_SOCKET;
    }
    return (SOCKET)h;
}

/***********************************************************************
 *      WPUFDIsSet
 */
static int WSPAPI host_WPUFDIsSet(SOCKET s, fd_set *fdset)
{
    if (!fdset)
        return 0;
    for (u_int i = 0; i < fdset->fd_count && i < FD_SETSIZE; i++) {
        if (fdset->fd_array[i] == s)
            return 1;
    }
    return 0;
}

/***********************************************************************
 *      WPUGetProviderPath
 *
 * Same contract as WSCGetProviderPath, on the catalog as it is now.
 */
static int WSPAPI host_WPUGetProviderPath(LPGUID lpProviderId, WCHAR *lpszProviderDllPath,
                                          LPINT lpProviderDllPathLen, LPINT lpErrno)
{
    return simcat_get_path(host_live_catalog(), lpProviderId, lpszProviderDllPath,
                           lpProviderDllPathLen, lpErrno);
}

/***********************************************************************
 *      WPUModifyIFSHandle
 *
 * Binds the handle to the calling entry, replacing any earlier binding:
 * from now on ws2_32 routes calls on it to that entry's provider. The
 * handle comes back unchanged. An unknown id or a handle that cannot be
 * one (0, INVALID_SOCKET) is WSAEINVAL.
 */
static SOCKET WSPAPI host_WPUModifyIFSHandle(DWORD dwCatalogEntryId, SOCKET ProposedHandle,
                                             LPINT lpErrno)
{
    struct host_entry *e = upcall_entry(dwCatalogEntryId, lpErrno);
    if (!e)
        return INVALID_SOCKET;
    if (ProposedHandle == 0 || ProposedHandle == INVALID_SOCKET) {
        upcall_fail(lpErrno, WSAEINVAL);
        return INVALID_SOCKET;
    }
    int err = host_binding_set(ProposedHandle, e, 0, 0);
    if (err) {
        upcall_fail(lpErrno, err);
        return INVALID_SOCKET;
    }
    return ProposedHandle;
}

/***********************************************************************
 *      WPUPostMessage
 */
static BOOL WSPAPI host_WPUPostMessage(HWND hWnd, UINT Msg, WPARAM wParam, LPARAM lParam)
{
    return PostMessageW(hWnd, Msg, wParam, lParam);
}

/***********************************************************************
 *      WPUQueryBlockingCallback
 *
 * Winsock 2 has no blocking hooks: the callback is NULL, which tells the
 * provider to block with native synchronisation objects.
 */
static int WSPAPI host_WPUQueryBlockingCallback(DWORD dwCatalogEntryId,
                                                LPBLOCKINGCALLBACK *lplpfnCallback,
                                                PDWORD_PTR lpdwContext, LPINT lpErrno)
{
    if (!lplpfnCallback || !lpdwContext)
        return upcall_fail(lpErrno, WSAEFAULT);
    if (!upcall_entry(dwCatalogEntryId, lpErrno))
        return SOCKET_ERROR;
    *lplpfnCallback = NULL;
    *lpdwContext = 0;
    return 0;
}

/***********************************************************************
 *      WPUQuerySocketHandleContext
 *
 * Only for handles made by WPUCreateSocketHandle (IFS handles have no
 * context): WSAENOTSOCK otherwise.
 */
static int WSPAPI host_WPUQuerySocketHandleContext(SOCKET s, PDWORD_PTR lpContext, LPINT lpErrno)
{
    struct host_binding b;
    if (!lpContext)
        return upcall_fail(lpErrno, WSAEFAULT);
    if (!host_binding_get(s, &b) || !b.wpu)
        return upcall_fail(lpErrno, WSAENOTSOCK);
    *lpContext = b.context;
    return 0;
}

/***********************************************************************
 *      WPUQueueApc
 *
 * WSAEFAULT for a thread that cannot take the APC, as documented.
 */
static int WSPAPI host_WPUQueueApc(LPWSATHREADID lpThreadId, LPWSAUSERAPC lpfnUserApc,
                                   DWORD_PTR dwContext, LPINT lpErrno)
{
    if (!lpThreadId || !lpfnUserApc)
        return upcall_fail(lpErrno, WSAEFAULT);
    if (!QueueUserAPC((PAPCFUNC)lpfnUserApc, lpThreadId->ThreadHandle, dwContext))
        return upcall_fail(lpErrno, WSAEFAULT);
    return 0;
}

/***********************************************************************
 *      WPUResetEvent
 */
static BOOL WSPAPI host_WPUResetEvent(WSAEVENT hEvent, LPINT lpErrno)
{
    if (!ResetEvent(hEvent))
        return upcall_fail_bool(lpErrno, WSA_INVALID_HANDLE);
    return TRUE;
}

/***********************************************************************
 *      WPUSetEvent
 */
static BOOL WSPAPI host_WPUSetEvent(WSAEVENT hEvent, LPINT lpErrno)
{
    if (!SetEvent(hEvent))
        return upcall_fail_bool(lpErrno, WSA_INVALID_HANDLE);
    return TRUE;
}

/***********************************************************************
 *      WPUOpenCurrentThread
 *
 * WSANOTINITIALISED before startup (documented); a handle that cannot be
 * duplicated is reported as WSAENOBUFS (no documented code).
 */
static int WSPAPI host_WPUOpenCurrentThread(LPWSATHREADID lpThreadId, LPINT lpErrno)
{
    if (!lpThreadId)
        return upcall_fail(lpErrno, WSAEFAULT);
    if (!host_session())
        return upcall_fail(lpErrno, WSANOTINITIALISED);
    HANDLE h;
    if (!DuplicateHandle(GetCurrentProcess(), GetCurrentThread(), GetCurrentProcess(), &h, 0,
                         FALSE, DUPLICATE_SAME_ACCESS))
        return upcall_fail(lpErrno, WSAENOBUFS);
    lpThreadId->ThreadHandle = h;
    lpThreadId->Reserved = 0;
    return 0;
}

/***********************************************************************
 *      WPUCloseThread
 */
static int WSPAPI host_WPUCloseThread(LPWSATHREADID lpThreadId, LPINT lpErrno)
{
    if (!lpThreadId)
        return upcall_fail(lpErrno, WSAEFAULT);
    if (!CloseHandle(lpThreadId->ThreadHandle))
        return upcall_fail(lpErrno, WSAEINVAL);
    lpThreadId->ThreadHandle = NULL;
    return 0;
}

static const WSPUPCALLTABLE upcalls = {
    host_WPUCloseEvent,
    host_WPUCloseSocketHandle,
    host_WPUCreateEvent,
    host_WPUCreateSocketHandle,
    host_WPUFDIsSet,
    host_WPUGetProviderPath,
    host_WPUModifyIFSHandle,
    host_WPUPostMessage,
    host_WPUQueryBlockingCallback,
    host_WPUQuerySocketHandleContext,
    host_WPUQueueApc,
    host_WPUResetEvent,
    host_WPUSetEvent,
    host_WPUOpenCurrentThread,
    host_WPUCloseThread,
};

const WSPUPCALLTABLE *host_upcalls(void)
{
    return &upcalls;
}

/***********************************************************************
 *      WPUCompleteOverlappedRequest (exported by ws2_32, not an upcall)
 *
 * Only for handles made by WPUCreateSocketHandle (WSAEINVAL otherwise, as
 * documented). Stores the completion status in Internal and the byte count
 * in InternalHigh, then signals hEvent (its low bit, the "no completion
 * port" marker, masked off). Completion ports: see wshost.h.
 */
int WSPAPI host_WPUCompleteOverlappedRequest(SOCKET s, LPWSAOVERLAPPED overlapped, DWORD error,
                                             DWORD transferred, LPINT errno_out)
{
    struct host_binding b;
    if (!host_binding_get(s, &b) || !b.wpu)
        return upcall_fail(errno_out, WSAEINVAL);
    if (!overlapped)
        return upcall_fail(errno_out, WSAEFAULT);
    overlapped->Internal = error;
    overlapped->InternalHigh = transferred;
    HANDLE event = (HANDLE)((ULONG_PTR)overlapped->hEvent & ~(ULONG_PTR)1);
    if (event && !SetEvent(event))
        return upcall_fail(errno_out, WSA_INVALID_HANDLE);
    return 0;
}

/* The catalog functions providers import, on the catalog as it is now. */

int WSPAPI host_WSCEnumProtocols(LPINT protocols, LPWSAPROTOCOL_INFOW buffer, LPDWORD length,
                                 LPINT errno_out)
{
    return simcat_enum(host_live_catalog(), protocols, buffer, length, errno_out);
}

int WSPAPI host_WSCGetProviderPath(LPGUID guid, WCHAR *path, LPINT length, LPINT errno_out)
{
    return simcat_get_path(host_live_catalog(), guid, path, length, errno_out);
}

int WSPAPI host_WSCGetProviderInfo(LPGUID guid, WSC_PROVIDER_INFO_TYPE type, PBYTE info,
                                   size_t *size, DWORD flags, LPINT errno_out)
{
    return simcat_get_provider_info(host_live_catalog(), guid, type, info, size, flags,
                                    errno_out);
}
