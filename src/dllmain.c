/*
 * dllmain.c - the DLL entry point and GetLspGuid.
 *
 * peerlsp runs inside every Winsock program on the machine, so DllMain does
 * nothing that could take another lock under the loader lock: no library
 * loads, no Winsock calls, no waiting. All work happens in WSPStartup.
 * DllMain is the DLL's entry point itself (src/CMakeLists.txt links no CRT
 * start-up code), so nothing else runs at attach either.
 */
#include "internal.h"

#include <peerlsp/peerlsp.h>

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH)
        (void)DisableThreadLibraryCalls(instance);
    return TRUE;
}

/***********************************************************************
 *              GetLspGuid  (peerlsp.@)
 *
 * The installer convention from Microsoft's LSP sample: an installer asks
 * the DLL for the GUID of its layered entry instead of hard-coding it.
 */
void WSPAPI GetLspGuid(LPGUID lpGuid)
{
    static const GUID guid = PEERLSP_GUID_INIT;

    if (lpGuid)
        *lpGuid = guid;
}
