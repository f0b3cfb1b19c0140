/*
 * startup.c - DLL entry, WSPStartup/WSPCleanup and the procedure table.
 *
 * WSPStartup is reference counted as the SPI requires: one WSPCleanup per
 * successful WSPStartup, and only the last one really cleans up. Each
 * successful WSPStartup takes one reference on Wine's ws2_32 (WSAStartup),
 * each WSPCleanup gives one back, so Wine stays initialised exactly as long
 * as some client of tbase does.
 */
#include <string.h>

#include "internal.h"

/* The only version tbase speaks; it is also the lowest it accepts. */
#define TBASE_VERSION_MAJOR 2
#define TBASE_VERSION_MINOR 2

static const WCHAR description[] = L"peerlsp test base provider (over Wine ws2_32)";

_Static_assert(sizeof(description) <= sizeof(((WSPDATA *)0)->szDescription),
               "description must fit WSPDATA.szDescription");
_Static_assert(sizeof(WSPPROC_TABLE) == 30 * sizeof(void *),
               "WSPPROC_TABLE has 30 entries and all of them are filled below");

static const WSPPROC_TABLE proc_table = {
    .lpWSPAccept = WSPAccept,
    .lpWSPAddressToString = WSPAddressToString,
    .lpWSPAsyncSelect = WSPAsyncSelect,
    .lpWSPBind = WSPBind,
    .lpWSPCancelBlockingCall = WSPCancelBlockingCall,
    .lpWSPCleanup = WSPCleanup,
    .lpWSPCloseSocket = WSPCloseSocket,
    .lpWSPConnect = WSPConnect,
    .lpWSPDuplicateSocket = WSPDuplicateSocket,
    .lpWSPEnumNetworkEvents = WSPEnumNetworkEvents,
    .lpWSPEventSelect = WSPEventSelect,
    .lpWSPGetOverlappedResult = WSPGetOverlappedResult,
    .lpWSPGetPeerName = WSPGetPeerName,
    .lpWSPGetSockName = WSPGetSockName,
    .lpWSPGetSockOpt = WSPGetSockOpt,
    .lpWSPGetQOSByName = WSPGetQOSByName,
    .lpWSPIoctl = WSPIoctl,
    .lpWSPJoinLeaf = WSPJoinLeaf,
    .lpWSPListen = WSPListen,
    .lpWSPRecv = WSPRecv,
    .lpWSPRecvDisconnect = WSPRecvDisconnect,
    .lpWSPRecvFrom = WSPRecvFrom,
    .lpWSPSelect = WSPSelect,
    .lpWSPSend = WSPSend,
    .lpWSPSendDisconnect = WSPSendDisconnect,
    .lpWSPSendTo = WSPSendTo,
    .lpWSPSetSockOpt = WSPSetSockOpt,
    .lpWSPShutdown = WSPShutdown,
    .lpWSPSocket = WSPSocket,
    .lpWSPStringToAddress = WSPStringToAddress,
};

/* Serialises WSPStartup and WSPCleanup; readers of the upcall table take it
 * shared. */
static SRWLOCK startup_lock = SRWLOCK_INIT;
static volatile LONG startup_count;
static WSPUPCALLTABLE upcalls;

/* Loader lock rules: nothing here but the one call that is always safe. No
 * Winsock call, no allocation, no thread work (see the facts note: work in
 * DllMain deadlocks LSP stacks). */
BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH)
        DisableThreadLibraryCalls(instance);
    return TRUE;
}

LPWPUMODIFYIFSHANDLE tbase__modify_ifs_handle(void)
{
    LPWPUMODIFYIFSHANDLE fn = NULL;

    AcquireSRWLockShared(&startup_lock);
    if (startup_count > 0)
        fn = upcalls.lpWPUModifyIFSHandle;
    ReleaseSRWLockShared(&startup_lock);
    return fn;
}

/***********************************************************************
 *      WSPStartup
 *
 * PARAMS
 *  wVersionRequested [I] highest SPI version the caller can use
 *  lpWSPData         [O] negotiated version and description
 *  lpProtocolInfo    [I] the catalog entry tbase is started for
 *  UpcallTable       [I] ws2_32's upcalls (the test host's)
 *  lpProcTable       [O] tbase's 30 WSP functions
 *
 * RETURNS
 *  0, or the error itself (not SOCKET_ERROR): WSAVERNOTSUPPORTED when the
 *  caller asks for less than 2.2, WSAEFAULT for a NULL output or protocol
 *  info, WSAEINVAL when the upcall table lacks WPUModifyIFSHandle (an IFS
 *  provider cannot register its handles without it), or WSAStartup's error.
 *
 * NOTES
 *  wVersion = min(requested, 2.2), wHighVersion = 2.2. On failure nothing is
 *  written and no reference is taken. The upcall table of the first start-up
 *  (after the count was 0) is kept; ws2_32 passes the same one every time.
 */
int WSPAPI WSPStartup(WORD wVersionRequested, LPWSPDATA lpWSPData,
                      LPWSAPROTOCOL_INFOW lpProtocolInfo, WSPUPCALLTABLE UpcallTable,
                      LPWSPPROC_TABLE lpProcTable)
{
    BYTE major = LOBYTE(wVersionRequested);
    BYTE minor = HIBYTE(wVersionRequested);
    WSADATA wsa_data;
    int err;

    TBASE__COUNT(WSPStartup);

    err = tbase__take_startup_failure();
    if (err)
        return err;
    if (!lpWSPData || !lpProtocolInfo || !lpProcTable)
        return WSAEFAULT;
    if (major < TBASE_VERSION_MAJOR ||
        (major == TBASE_VERSION_MAJOR && minor < TBASE_VERSION_MINOR))
        return WSAVERNOTSUPPORTED;
    if (!UpcallTable.lpWPUModifyIFSHandle)
        return WSAEINVAL;

    AcquireSRWLockExclusive(&startup_lock);
    /* Allowed here and never in DllMain: WSPStartup runs outside the loader
     * lock. WSAStartup returns its error directly. */
    err = WSAStartup(MAKEWORD(2, 2), &wsa_data);
    if (!err) {
        if (startup_count == 0)
            upcalls = UpcallTable;
        InterlockedIncrement(&startup_count);
    }
    ReleaseSRWLockExclusive(&startup_lock);
    if (err)
        return err;

    /* min(requested, 2.2) is 2.2 for every version accepted above. */
    lpWSPData->wVersion = MAKEWORD(TBASE_VERSION_MAJOR, TBASE_VERSION_MINOR);
    lpWSPData->wHighVersion = MAKEWORD(TBASE_VERSION_MAJOR, TBASE_VERSION_MINOR);
    memcpy(lpWSPData->szDescription, description, sizeof(description));
    *lpProcTable = proc_table;
    return 0;
}

/* The last WSPCleanup: "any sockets open when WSPCleanup is called are reset
 * and automatically deallocated as if WSPCloseSocket was called". A zero
 * linger makes the close abortive (the reset) and keeps it from blocking. */
static void close_remaining_sockets(void)
{
    static const struct linger reset = { 1, 0 };
    SOCKET s;

    while ((s = tbase__sock_pop()) != INVALID_SOCKET) {
        /* Failures are ignored: a handle already closed with CloseHandle
         * is simply gone, which is what cleanup wants. */
        setsockopt(s, SOL_SOCKET, SO_LINGER, (const char *)&reset, sizeof(reset));
        closesocket(s);
    }
}

/***********************************************************************
 *      WSPCleanup
 *
 * RETURNS
 *  0, or SOCKET_ERROR with WSANOTINITIALISED when there is no start-up left
 *  to undo (or with WSACleanup's error).
 */
int WSPAPI WSPCleanup(LPINT lpErrno)
{
    int err = 0;

    TBASE__COUNT(WSPCleanup);

    AcquireSRWLockExclusive(&startup_lock);
    if (startup_count == 0) {
        err = WSANOTINITIALISED;
    } else {
        if (InterlockedDecrement(&startup_count) == 0) {
            close_remaining_sockets();
            memset(&upcalls, 0, sizeof(upcalls));
        }
        if (WSACleanup() == SOCKET_ERROR)
            err = tbase__wine_error(WSANOTINITIALISED);
    }
    ReleaseSRWLockExclusive(&startup_lock);

    if (err) {
        *lpErrno = err;
        return SOCKET_ERROR;
    }
    return 0;
}

/***********************************************************************
 *      WSPCancelBlockingCall
 *
 * NOTES
 *  Blocking hooks are gone from Winsock 2.2 (WSACancelBlockingCall is
 *  obsolete and ws2_32 never calls this for a 2.2 client); tbase's blocking
 *  calls are Wine's, which are truly blocking and have no hook to cancel.
 *  There is never anything to cancel, so it succeeds, as Wine's own
 *  WSACancelBlockingCall does.
 */
int WSPAPI WSPCancelBlockingCall(LPINT lpErrno)
{
    (void)lpErrno;
    TBASE__COUNT(WSPCancelBlockingCall);
    return 0;
}

/***********************************************************************
 *      tbase_startups
 */
LONG WINAPI tbase_startups(void)
{
    return InterlockedCompareExchange(&startup_count, 0, 0);
}
