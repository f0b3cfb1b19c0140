/*
 * fake_lsp.c - DLLs that pass peerlsp-ctl's file checks (they export
 * WSPStartup and GetLspGuid) but fail what install does next, for
 * test_ctl_dll.c. One source, three builds:
 *   FAKE_LSP_NULL_GUID    GetLspGuid gives the null GUID
 *   FAKE_LSP_OTHER_GUID   GetLspGuid gives a GUID that is not peerlsp's
 *   FAKE_LSP_INIT_FAILS   DllMain refuses the load (LoadLibrary fails)
 * None is ever used as a provider: WSPStartup refuses.
 */
#include <winsock2.h>
#include <ws2spi.h>
#include <windows.h>

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst;
    (void)reserved;
#ifdef FAKE_LSP_INIT_FAILS
    return reason != DLL_PROCESS_ATTACH;
#else
    (void)reason;
    return TRUE;
#endif
}

int WSPAPI WSPStartup(WORD version, LPWSPDATA data, LPWSAPROTOCOL_INFOW info,
                      WSPUPCALLTABLE upcalls, LPWSPPROC_TABLE procs)
{
    (void)version, (void)data, (void)info, (void)upcalls, (void)procs;
    return WSAEPROVIDERFAILEDINIT;
}

void WINAPI GetLspGuid(GUID *guid)
{
#ifdef FAKE_LSP_OTHER_GUID
    static const GUID other = { 0x0a0b0c0d, 0x1111, 0x2222, { 3, 4, 5, 6, 7, 8, 9, 10 } };
    *guid = other;
#else
    ZeroMemory(guid, sizeof *guid);
#endif
}
