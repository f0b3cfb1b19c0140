/*
 * tbase.h - the test base provider (tbase.dll) as seen by the tests.
 *
 * tbase.dll is a Winsock 2 base service provider: the bottom of a protocol
 * chain, in the role mswsock plays on Windows. Its only provider export is
 * WSPStartup; every WSP function in the table it fills runs on a real Wine
 * socket, and the handles it returns ARE those sockets (IFS handles), each
 * registered with WPUModifyIFSHandle under the catalog entry it was created
 * for. The test host (tests/host) loads it by path and plays ws2_32's part;
 * peerlsp.dll loads it through the simulated catalog.
 *
 * What the catalog entries for tbase must look like (the test host builds
 * them): one entry per protocol it serves (TCP and UDP over IPv4 under
 * TBASE_GUID_IPV4, the same over IPv6 under TBASE_GUID_IPV6), ChainLen 1 with
 * ChainEntries[0] = the entry's own id, XP1_IFS_HANDLES set, and
 * dwProviderReserved = 0: a non-zero dwProviderReserved is how WSPSocket
 * recognises the WSAPROTOCOL_INFOW of a duplicated socket (see below).
 *
 * Duplicated sockets: WSPDuplicateSocket hands back Wine's duplicate
 * information with dwCatalogEntryId, ProviderId and ProtocolChain replaced by
 * those of the catalog entry the socket was created for, and the handle
 * duplicated into the target process in dwProviderReserved. A layer above may
 * rewrite any other field; WSPSocket in the target needs dwProviderReserved
 * (and dwCatalogEntryId, to register the new handle) to be passed down intact.
 *
 * The control exports below are for tests only. They use WINAPI so that the
 * x86 build exports them undecorated like WSPStartup; resolve them with
 * GetProcAddress through the TBASE_*_FN types.
 */
#ifndef PEERLSP_TESTS_TBASE_H
#define PEERLSP_TESTS_TBASE_H

#include <winsock2.h>
#include <windows.h>

/* {b6443265-9b2f-4c8c-afd8-96d465d6a5d3}: provider GUID of tbase's IPv4
 * entries (TCP and UDP), like Windows' MSAFD Tcpip GUID. */
#define TBASE_GUID_IPV4_INIT \
    { 0xb6443265, 0x9b2f, 0x4c8c, { 0xaf, 0xd8, 0x96, 0xd4, 0x65, 0xd6, 0xa5, 0xd3 } }

/* {b61ced34-3daf-43e1-8d5d-a3a95abc7381}: provider GUID of tbase's IPv6
 * entries (TCP and UDP), like Windows' MSAFD Tcpip [IPv6] GUID. */
#define TBASE_GUID_IPV6_INIT \
    { 0xb61ced34, 0x3daf, 0x43e1, { 0x8d, 0x5d, 0xa3, 0xa9, 0x5a, 0xbc, 0x73, 0x81 } }

/* {4f1c2d7e-6a35-4b8e-9d41-0c7f2e8a5b19}: provider GUID of tbase's other
 * entries (Wine's IPX and SPX), used by peerlsp-run's base catalog. */
#define TBASE_GUID_OTHER_INIT \
    { 0x4f1c2d7e, 0x6a35, 0x4b8e, { 0x9d, 0x41, 0x0c, 0x7f, 0x2e, 0x8a, 0x5b, 0x19 } }

static const GUID TBASE_GUID_IPV4 = TBASE_GUID_IPV4_INIT;
static const GUID TBASE_GUID_IPV6 = TBASE_GUID_IPV6_INIT;
static const GUID TBASE_GUID_OTHER = TBASE_GUID_OTHER_INIT;

/* File name of the DLL; the build puts it in <build>/tests/baseprov. */
#define TBASE_DLL_NAME L"tbase.dll"

/* How many times the named WSP function ("WSPGetPeerName", "WSPStartup", ...)
 * has been entered since the last tbase_reset_calls, failed calls included.
 * -1 for a name that is not one of tbase's WSP functions. */
LONG WINAPI tbase_calls(const char *wsp_function_name);

/* The same count for the calling thread only: how often this thread called
 * the function (so that a caller can tell whether one call of its own
 * reached tbase while other threads make calls too); -1 for an unknown name. */
LONG WINAPI tbase_thread_calls(const char *wsp_function_name);

/* Sets every call counter to 0. */
void WINAPI tbase_reset_calls(void);

/* The next WSPStartup returns `error` (a WSA error code) and changes nothing:
 * no output is written, no reference is taken. 0 cancels a pending failure. */
void WINAPI tbase_fail_next_startup(int error);

/* Current reference count: successful WSPStartups not yet matched by a
 * WSPCleanup. */
LONG WINAPI tbase_startups(void);

/* Sockets created, accepted, joined or re-created from a duplicate through
 * tbase and not yet closed through WSPCloseSocket (the last WSPCleanup closes
 * and forgets the rest). */
LONG WINAPI tbase_open_sockets(void);

typedef LONG (WINAPI *TBASE_CALLS_FN)(const char *wsp_function_name);
typedef LONG (WINAPI *TBASE_THREAD_CALLS_FN)(const char *wsp_function_name);
typedef void (WINAPI *TBASE_RESET_CALLS_FN)(void);
typedef void (WINAPI *TBASE_FAIL_NEXT_STARTUP_FN)(int error);
typedef LONG (WINAPI *TBASE_STARTUPS_FN)(void);
typedef LONG (WINAPI *TBASE_OPEN_SOCKETS_FN)(void);

#endif /* PEERLSP_TESTS_TBASE_H */
