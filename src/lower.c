/*
 * lower.c - loading and starting the provider below peerlsp.
 *
 * ws2_32 loads only the top layer's DLL; each layer loads the next one
 * itself, by the path the catalog holds for the next layer's GUID.
 */
#include <string.h>

#include "internal.h"

/* A path the catalog may hold for a provider: unexpanded, e.g.
 * %SystemRoot%\system32\mswsock.dll. */
#define PLSP_PATH_MAX MAX_PATH

/* Only a full path is loaded, never a bare name that the DLL search order
 * would resolve (a planted DLL in an application's folder must not load). */
static int path_is_absolute(const WCHAR *p)
{
    if (((p[0] >= L'A' && p[0] <= L'Z') || (p[0] >= L'a' && p[0] <= L'z')) && p[1] == L':' &&
        (p[2] == L'\\' || p[2] == L'/'))
        return 1;
    return p[0] == L'\\' && p[1] == L'\\';
}

static int lower_path(const GUID *guid, WCHAR *expanded, DWORD expanded_len)
{
    WCHAR raw[PLSP_PATH_MAX];
    int raw_len = PLSP_PATH_MAX, err = 0;

    raw[0] = 0;
    if (WSCGetProviderPath((GUID *)guid, raw, &raw_len, &err) == SOCKET_ERROR)
        return WSAEPROVIDERFAILEDINIT;
    raw[PLSP_PATH_MAX - 1] = 0;
    DWORD n = ExpandEnvironmentStringsW(raw, expanded, expanded_len);
    if (n == 0 || n > expanded_len || !path_is_absolute(expanded))
        return WSAEPROVIDERFAILEDINIT;
    return 0;
}

int plsp_lower_start(const WSAPROTOCOL_INFOW *next_entry, WORD version,
                     WSAPROTOCOL_INFOW *start_info, const WSPUPCALLTABLE *upcalls,
                     struct plsp_lower **out)
{
    WCHAR path[PLSP_PATH_MAX];
    int err = lower_path(&next_entry->ProviderId, path, PLSP_PATH_MAX);
    if (err)
        return err;

    struct plsp_lower *lower = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *lower);
    if (!lower)
        return WSA_NOT_ENOUGH_MEMORY;
    lower->guid = next_entry->ProviderId;
    /* What its sockets are: for a base provider its own entry says, for
     * another LSP the chain entry (a chain is IFS only if every layer is). */
    lower->ifs_handles = (start_info->dwServiceFlags1 & XP1_IFS_HANDLES) != 0;
    /* LOAD_WITH_ALTERED_SEARCH_PATH: the lower DLL's own dependencies are
     * found next to it, as they would be for ws2_32's own load. */
    lower->module = LoadLibraryExW(path, NULL, LOAD_WITH_ALTERED_SEARCH_PATH);
    if (!lower->module) {
        err = WSAEPROVIDERFAILEDINIT;
        goto fail;
    }
    LPWSPSTARTUP startup = (LPWSPSTARTUP)(void (*)(void))GetProcAddress(lower->module, "WSPStartup");
    if (!startup) {
        err = WSAEPROVIDERFAILEDINIT;
        goto fail;
    }
    /* The upcall table goes down unmodified: the layers below register
     * their handles with ws2_32 themselves. */
    err = startup(version, &lower->data, start_info, *upcalls, &lower->procs);
    if (err)
        goto fail;
    /* A provider that claims success but leaves a slot empty would crash
     * the first call that chains to it. */
    if (!plsp_proctable_complete(&lower->procs)) {
        int ignored;
        if (lower->procs.lpWSPCleanup)
            lower->procs.lpWSPCleanup(&ignored);
        err = WSAEPROVIDERFAILEDINIT;
        goto fail;
    }
    *out = lower;
    return 0;

fail:
    if (lower->module)
        FreeLibrary(lower->module);
    HeapFree(GetProcessHeap(), 0, lower);
    return err;
}

void plsp_lower_stop(struct plsp_lower *lower)
{
    int err = 0;

    /* A failing lower cleanup cannot be undone; the DLL is released anyway
     * so that a later WSPStartup loads it afresh. */
    (void)lower->procs.lpWSPCleanup(&err);
    FreeLibrary(lower->module);
    HeapFree(GetProcessHeap(), 0, lower);
}
