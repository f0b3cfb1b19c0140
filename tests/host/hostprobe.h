/*
 * hostprobe.h - a minimal provider DLL for testing the host itself.
 *
 * tbase covers real I/O over IFS handles. hostprobe covers the rest of what
 * the host promises a provider: it is a non-IFS base provider (its handles
 * come from WPUCreateSocketHandle, with a context), it reads the catalog
 * through its imports of WSCEnumProtocols, WSCGetProviderPath and
 * WSCGetProviderInfo at WSPStartup (which only work if the host redirected
 * them), it can complete a request through its import of
 * WPUCompleteOverlappedRequest, and it can be told to fail its next
 * WSPStartup or to leave a proc-table slot empty.
 *
 * Its WSP functions: WSPSocket makes a WPUCreateSocketHandle handle with
 * context HOSTPROBE_CONTEXT_BASE + n; WSPGetPeerName answers 192.0.2.1 with
 * the context's low 16 bits as the port; WSPGetSockName fails without an
 * error code (a broken provider); WSPSelect returns HOSTPROBE_SELECT_RESULT
 * without touching the sets; WSPAccept and WSPJoinLeaf return a new handle
 * (an event object) WITHOUT registering it, as a careless provider would;
 * WSPCloseSocket calls WPUCloseSocketHandle (or closes such a handle);
 * every other function fails with WSAEOPNOTSUPP.
 *
 * Not for use outside tests/host.
 */
#ifndef PEERLSP_TESTS_HOSTPROBE_H
#define PEERLSP_TESTS_HOSTPROBE_H

#include <winsock2.h>
#include <ws2spi.h>
#include <windows.h>

/* {5d1e9a37-6c2b-4f0e-9a41-3b7c8d2e6f10} */
#define HOSTPROBE_GUID_INIT \
    { 0x5d1e9a37, 0x6c2b, 0x4f0e, { 0x9a, 0x41, 0x3b, 0x7c, 0x8d, 0x2e, 0x6f, 0x10 } }

#define HOSTPROBE_CONTEXT_BASE 0x5000
#define HOSTPROBE_SELECT_RESULT 7
#define HOSTPROBE_PEER_ADDR "192.0.2.1"

/* Successful WSPStartups not yet matched by a WSPCleanup. */
typedef LONG (WINAPI *HOSTPROBE_STARTUPS_FN)(void);
/* The next WSPStartup returns `error` (0: cancel). */
typedef void (WINAPI *HOSTPROBE_FAIL_NEXT_STARTUP_FN)(int error);
/* The next successful WSPStartup leaves proc-table slot `index` (0..29, in
 * WSPPROC_TABLE order) NULL; -1 cancels. */
typedef void (WINAPI *HOSTPROBE_EMPTY_SLOT_FN)(int index);
/* What the last WSPStartup saw: the entry id it was started for, the
 * number of entries WSCEnumProtocols reported (or -error), the path
 * WSCGetProviderPath gave for its own GUID (0 or the error), and the LSP
 * categories WSCGetProviderInfo gave (MAXDWORD on failure). */
typedef DWORD (WINAPI *HOSTPROBE_STARTED_ENTRY_FN)(void);
typedef int (WINAPI *HOSTPROBE_CATALOG_COUNT_FN)(void);
typedef int (WINAPI *HOSTPROBE_CATALOG_PATH_FN)(WCHAR *buf, int len);
typedef DWORD (WINAPI *HOSTPROBE_CATEGORIES_FN)(void);
/* Calls the imported WPUCompleteOverlappedRequest. */
typedef int (WINAPI *HOSTPROBE_COMPLETE_FN)(SOCKET s, LPWSAOVERLAPPED overlapped, DWORD error,
                                            DWORD transferred, int *errno_out);
/* The upcall table of the first WSPStartup (NULL before). */
typedef const WSPUPCALLTABLE *(WINAPI *HOSTPROBE_UPCALLS_FN)(void);

#endif /* PEERLSP_TESTS_HOSTPROBE_H */
