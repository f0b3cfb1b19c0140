/*
 * startup.c - DLL entry, WSPStartup/WSPCleanup and the procedure table.
 *
 * WSPStartup is reference counted as the SPI requires: one WSPCleanup per
 * successful WSPStartup, and only the last one closes what is left.
 */
#include <string.h>

#include "internal.h"

#define SIM_VERSION MAKEWORD(2, 2)

static const WCHAR description[] = L"peerlsp simulated base provider";

_Static_assert(sizeof(description) <= sizeof(((WSPDATA *)0)->szDescription),
               "description must fit WSPDATA.szDescription");

static SRWLOCK startup_lock = SRWLOCK_INIT;
static LONG startup_count;
static WSPUPCALLTABLE upcalls;

/* Nothing under the loader lock but the one call that is always safe. */
BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH)
        DisableThreadLibraryCalls(instance);
    return TRUE;
}

LPWPUMODIFYIFSHANDLE sim_modify_ifs_handle(void)
{
    LPWPUMODIFYIFSHANDLE fn = NULL;
    AcquireSRWLockShared(&startup_lock);
    if (startup_count > 0)
        fn = upcalls.lpWPUModifyIFSHandle;
    ReleaseSRWLockShared(&startup_lock);
    return fn;
}

/* simprov's own functions over the unsupported ones. */
static void fill_procs(WSPPROC_TABLE *t)
{
    *t = sim_unsupported_procs;
    t->lpWSPCleanup = sim_WSPCleanup;
    t->lpWSPSocket = sim_WSPSocket;
    t->lpWSPCloseSocket = sim_WSPCloseSocket;
    t->lpWSPBind = sim_WSPBind;
    t->lpWSPListen = sim_WSPListen;
    t->lpWSPConnect = sim_WSPConnect;
    t->lpWSPAccept = sim_WSPAccept;
    t->lpWSPJoinLeaf = sim_WSPJoinLeaf;
    t->lpWSPGetPeerName = sim_WSPGetPeerName;
    t->lpWSPGetSockName = sim_WSPGetSockName;
    t->lpWSPSetSockOpt = sim_WSPSetSockOpt;
    t->lpWSPGetSockOpt = sim_WSPGetSockOpt;
    t->lpWSPIoctl = sim_WSPIoctl;
    t->lpWSPGetOverlappedResult = sim_WSPGetOverlappedResult;
    t->lpWSPRecv = sim_WSPRecv;
    t->lpWSPSend = sim_WSPSend;
    t->lpWSPEventSelect = sim_WSPEventSelect;
    t->lpWSPEnumNetworkEvents = sim_WSPEnumNetworkEvents;
}

/***********************************************************************
 *      WSPStartup
 *
 * RETURNS
 *  0, or the error itself: WSAVERNOTSUPPORTED below 2.2, WSAEFAULT for a
 *  NULL output or protocol info, WSAEINVAL without WPUModifyIFSHandle (an
 *  IFS provider cannot register its handles without it).
 *
 * NOTES
 *  wVersion = min(requested, 2.2), wHighVersion = 2.2. Nothing is written
 *  on failure.
 */
int WSPAPI WSPStartup(WORD wVersionRequested, LPWSPDATA lpWSPData,
                      LPWSAPROTOCOL_INFOW lpProtocolInfo, WSPUPCALLTABLE UpcallTable,
                      LPWSPPROC_TABLE lpProcTable)
{
    BYTE major = LOBYTE(wVersionRequested), minor = HIBYTE(wVersionRequested);

    SIM_COUNT(WSPStartup);
    if (!lpWSPData || !lpProtocolInfo || !lpProcTable)
        return WSAEFAULT;
    if (major < 2 || (major == 2 && minor < 2))
        return WSAVERNOTSUPPORTED;
    if (!UpcallTable.lpWPUModifyIFSHandle)
        return WSAEINVAL;

    AcquireSRWLockExclusive(&startup_lock);
    if (startup_count++ == 0)
        upcalls = UpcallTable;
    ReleaseSRWLockExclusive(&startup_lock);

    /* Every version accepted above is at least 2.2, simprov's only one. */
    lpWSPData->wVersion = SIM_VERSION;
    lpWSPData->wHighVersion = SIM_VERSION;
    memcpy(lpWSPData->szDescription, description, sizeof description);
    fill_procs(lpProcTable);
    return 0;
}

/***********************************************************************
 *      WSPCleanup
 *
 * RETURNS
 *  0, or SOCKET_ERROR with WSANOTINITIALISED when no start-up is left.
 */
int WSPAPI sim_WSPCleanup(LPINT lpErrno)
{
    int err = 0;

    SIM_COUNT(WSPCleanup);
    AcquireSRWLockExclusive(&startup_lock);
    if (startup_count == 0) {
        err = WSANOTINITIALISED;
    } else if (--startup_count == 0) {
        /* "Sockets open when WSPCleanup is called are deallocated as if
         * WSPCloseSocket was called." */
        sim_sock_destroy_all();
        memset(&upcalls, 0, sizeof upcalls);
    }
    ReleaseSRWLockExclusive(&startup_lock);
    if (err) {
        *lpErrno = err;
        return SOCKET_ERROR;
    }
    return 0;
}
