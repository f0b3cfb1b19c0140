/*
 * route_main.c - peerlsp-route.dll's start: called once by the code
 * peerlsp-run placed at the program's entry point (run_inject.c), after
 * the loader has loaded and started the program's static imports and
 * before the program's own entry point runs.
 *
 * What peerlsp-run passes (environment, inherited by the program):
 *   PEERLSP_RUN_CATALOG  the catalog snapshot (peerlsp-ctl --catalog FILE)
 *   PEERLSP_RUN_MODE     "peerlsp", or "base-only": the same catalog with
 *                        every layered entry and protocol chain removed
 *   PEERLSP_RUN_STATS    optional: where the stats go at exit (JSON)
 */
#include <string.h>

#include "host_ext.h"
#include "route.h"
#include "run_inject.h"
#include "simcatalog.h"
#include "wshost.h"

static volatile LONG started;

/* Removes every provider GUID that has an entry other than a base entry
 * (ChainLen 1): what is left is the catalog as it was before any LSP. */
static int keep_base_entries(struct simcat *cat)
{
    int err = 0;
    for (;;) {
        DWORD len = 0;
        if (simcat_enum(cat, NULL, NULL, &len, &err) != SOCKET_ERROR || err != WSAENOBUFS)
            return err;
        WSAPROTOCOL_INFOW *entries = HeapAlloc(GetProcessHeap(), 0, len);
        if (!entries)
            return WSA_NOT_ENOUGH_MEMORY;
        int n = simcat_enum(cat, NULL, entries, &len, &err);
        GUID layered;
        int found = 0;
        for (int i = 0; i < n && !found; i++) {
            if (entries[i].ProtocolChain.ChainLen != BASE_PROTOCOL) {
                layered = entries[i].ProviderId;
                found = 1;
            }
        }
        HeapFree(GetProcessHeap(), 0, entries);
        if (n == SOCKET_ERROR)
            return err;
        if (!found)
            return 0;
        if (simcat_deinstall(cat, &layered, &err) == SOCKET_ERROR)
            return err;
    }
}

static int load_catalog(void)
{
    WCHAR path[MAX_PATH], mode[32];
    DWORD n = GetEnvironmentVariableW(L"PEERLSP_RUN_CATALOG", path, MAX_PATH);
    if (!n || n >= MAX_PATH) {
        route_say("PEERLSP_RUN_CATALOG is not set: start the program with peerlsp-run");
        return ERROR_ENVVAR_NOT_FOUND;
    }
    n = GetEnvironmentVariableW(L"PEERLSP_RUN_MODE", mode, ARRAYSIZE(mode));
    int base_only = n && n < ARRAYSIZE(mode) && !wcscmp(mode, L"base-only");

    struct simcat *cat = NULL;
    int err = simcat_load(path, &cat);
    if (err) {
        route_say("cannot read the catalog snapshot %ls (error %d)", path, err);
        return err;
    }
    if (base_only && (err = keep_base_entries(cat))) {
        route_say("cannot remove the layered entries from the catalog (error %d)", err);
        simcat_destroy(cat);
        return err;
    }
    /* Kept for the life of the process: the host and the providers' WSC
     * imports read it until the end. */
    host_set_catalog(cat);
    return 0;
}

/***********************************************************************
 *      peerlsp_route_start
 *
 * RETURNS
 *  0, or a Win32/WSA error after a message: the injected code then ends
 *  the process with ROUTE_EXIT_START_FAILED. A second call does nothing.
 */
__declspec(dllexport) int WINAPI peerlsp_route_start(const struct run_inject_block *block)
{
    if (InterlockedExchange(&started, 1))
        return 0;
    int err = run_inject_restore_entry(block);
    if (err) {
        route_say("cannot restore the program's entry point (error %d)", err);
        return err;
    }
    if ((err = load_catalog()))
        return err;
    host_use_system_last_error(1);
    host_count_calls(1);
    if ((err = route_patch_start(host_catalog()))) {
        route_say("cannot patch the program's imports (error %d)", err);
        return err;
    }
    return 0;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH)
        DisableThreadLibraryCalls(instance);
    else if (reason == DLL_PROCESS_DETACH && started)
        route_stats_write(); /* a file write at exit: the program is done */
    return TRUE;
}
