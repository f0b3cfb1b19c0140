/*
 * ctl_dll.c - the DLL checks: the path is absolute, the file exists, it is
 * a DLL exporting WSPStartup and GetLspGuid, and its GUID.
 *
 * The GUID comes from the DLL's GetLspGuid (Microsoft's installer
 * convention). The DLL is loaded for that only when it is built for this
 * process's architecture; an x86 DLL seen from the x64 tool is inspected as
 * a file, and its GUID is then peerlsp.h's constant (the GUID never changes
 * between versions). That fallback is said on the output.
 */
#include <string.h>
#include <wchar.h>

#include <peerlsp/peerlsp.h>

#include "ctl.h"

static const char *const needed[] = { "WSPStartup", "GetLspGuid" };

static int is_absolute(const WCHAR *p)
{
    return (((p[0] >= L'A' && p[0] <= L'Z') || (p[0] >= L'a' && p[0] <= L'z')) && p[1] == L':' &&
            (p[2] == L'\\' || p[2] == L'/')) ||
           (p[0] == L'\\' && p[1] == L'\\');
}

static WORD own_machine(void)
{
#if defined(_M_X64) || defined(__x86_64__)
    return IMAGE_FILE_MACHINE_AMD64;
#else
    return IMAGE_FILE_MACHINE_I386;
#endif
}

/* Expanded path of a catalog path, or 0. */
static int expand(const WCHAR *in, WCHAR out[MAX_PATH])
{
    DWORD n = ExpandEnvironmentStringsW(in, out, MAX_PATH);
    return n > 0 && n <= MAX_PATH;
}

static const char *machine_name(WORD m)
{
    return m == IMAGE_FILE_MACHINE_AMD64  ? "x64"
           : m == IMAGE_FILE_MACHINE_I386 ? "x86"
                                          : "another architecture";
}

/* A path under the system directory, as a 32-bit program sees it: WOW64
 * redirects System32 to SysWOW64 for 32-bit programs, not for this
 * process, so the x64 tool looks there itself. 0 when there is no
 * SysWOW64 (32-bit Windows). */
static int wow64_path(WCHAR path[MAX_PATH])
{
    WCHAR sys[MAX_PATH], wow[MAX_PATH], out[MAX_PATH];
    UINT ns = GetSystemDirectoryW(sys, MAX_PATH);
    UINT nw = GetSystemWow64DirectoryW(wow, MAX_PATH);
    size_t len = wcslen(path);
    if (!ns || ns >= MAX_PATH || !nw || nw >= MAX_PATH)
        return 0;
    if (len <= ns || path[ns] != L'\\' || _wcsnicmp(path, sys, ns))
        return 1; /* not under System32: the same file for everyone */
    if (nw + (len - ns) >= MAX_PATH)
        return 0;
    wcscpy(out, wow);
    wcscat(out, path + ns);
    wcscpy(path, out);
    return 1;
}

int ctl_dll_usable(const WCHAR *catalog_path, char *why, size_t why_size)
{
    return ctl_dll_usable_for(catalog_path, 0, 0, NULL, why, why_size);
}

int ctl_dll_usable_for(const WCHAR *catalog_path, WORD want_machine, int wow64,
                       WCHAR resolved[MAX_PATH], char *why, size_t why_size)
{
    WCHAR path[MAX_PATH];
    if (!expand(catalog_path, path)) {
        snprintf(why, why_size, "the path cannot be expanded");
        return 1;
    }
    if (wow64 && !wow64_path(path)) {
        snprintf(why, why_size, "the 32-bit programs' copy of the path cannot be found "
                                "(no SysWOW64 directory)");
        return 1;
    }
    if (resolved)
        wcscpy(resolved, path);
    if (!is_absolute(path)) {
        snprintf(why, why_size, "the path is not absolute");
        return 1;
    }
    DWORD attr = GetFileAttributesW(path);
    if (attr == INVALID_FILE_ATTRIBUTES || (attr & FILE_ATTRIBUTE_DIRECTORY)) {
        snprintf(why, why_size, "the file does not exist");
        return 1;
    }
    WORD machine;
    int found[2];
    const char *bad = ctl_pe_exports(path, &machine, needed, 2, found);
    if (bad) {
        snprintf(why, why_size, "%s", bad);
        return 1;
    }
    for (int k = 0; k < 2; k++) {
        if (!found[k]) {
            snprintf(why, why_size, "the DLL does not export %s", needed[k]);
            return 1;
        }
    }
    if (want_machine && machine != want_machine) {
        snprintf(why, why_size, "%ls is built for %s, but this catalog's programs are %s: "
                 "they cannot load it",
                 path, machine_name(machine), machine_name(want_machine));
        return 1;
    }
    return 0;
}

int ctl_dll_check(const WCHAR *path, GUID *guid, int quiet)
{
    static const GUID fallback = PEERLSP_GUID_INIT;
    WCHAR expanded[MAX_PATH];
    if (!path || !path[0]) {
        ctl_err("install needs --dll PATH: the absolute path of peerlsp.dll.\n");
        return CTL_EXIT_BAD_DLL;
    }
    if (!expand(path, expanded) || !is_absolute(expanded)) {
        ctl_err("The DLL path \"%ls\" is not absolute. Give the full path, e.g. "
                "C:\\Windows\\System32\\peerlsp.dll: the catalog is read by every process, "
                "whatever its current directory.\n",
                path);
        return CTL_EXIT_BAD_DLL;
    }
    DWORD attr = GetFileAttributesW(expanded);
    if (attr == INVALID_FILE_ATTRIBUTES || (attr & FILE_ATTRIBUTE_DIRECTORY)) {
        ctl_err("The DLL \"%ls\" does not exist. Copy peerlsp.dll there first (dist\\x64 for "
                "the 64-bit catalog, dist\\x86 for the 32-bit one).\n",
                expanded);
        return CTL_EXIT_BAD_DLL;
    }
    WORD machine;
    int found[2];
    const char *bad = ctl_pe_exports(expanded, &machine, needed, 2, found);
    if (bad) {
        ctl_err("\"%ls\" is not a usable DLL: %s.\n", expanded, bad);
        return CTL_EXIT_BAD_DLL;
    }
    for (int k = 0; k < 2; k++) {
        if (!found[k]) {
            ctl_err("\"%ls\" does not export %s: it is not peerlsp.dll (an LSP DLL must export "
                    "WSPStartup and GetLspGuid).\n",
                    expanded, needed[k]);
            return CTL_EXIT_BAD_DLL;
        }
    }
    if (machine != own_machine()) {
        *guid = fallback;
        if (!quiet)
            ctl_out("Note: %ls is built for another architecture; its GUID is taken from "
                    "peerlsp.h instead of GetLspGuid.\n",
                    expanded);
        return 0;
    }
    HMODULE m = LoadLibraryExW(expanded, NULL, LOAD_WITH_ALTERED_SEARCH_PATH);
    if (!m) {
        ctl_err("\"%ls\" cannot be loaded: error %lu. Is a DLL it needs missing?\n", expanded,
                GetLastError());
        return CTL_EXIT_BAD_DLL;
    }
    void (WINAPI *get)(GUID *) =
        (void (WINAPI *)(GUID *))(void (*)(void))GetProcAddress(m, "GetLspGuid");
    GUID g;
    memset(&g, 0, sizeof g);
    if (get)
        get(&g);
    FreeLibrary(m);
    static const GUID null_guid;
    if (!get || IsEqualGUID(&g, &null_guid)) {
        ctl_err("\"%ls\": GetLspGuid gave no GUID.\n", expanded);
        return CTL_EXIT_BAD_DLL;
    }
    if (!IsEqualGUID(&g, &fallback) && !quiet) {
        char s[39];
        ctl_guid_format(&g, s);
        ctl_out("Note: the DLL's GUID %s is not peerlsp's usual one; uninstall and verify "
                "then need --guid %s.\n",
                s, s);
    }
    *guid = g;
    return 0;
}

void ctl_dll_catalog_path(const WCHAR *path, WCHAR out[MAX_PATH])
{
    WCHAR windir[MAX_PATH];
    UINT n = GetSystemWindowsDirectoryW(windir, MAX_PATH);
    size_t len = wcslen(path);
    /* Windows' own providers are stored as %SystemRoot%\system32\...: one
     * path that stays right if the system is moved. */
    if (n > 0 && n < MAX_PATH && len > n && path[n] == L'\\' && !_wcsnicmp(path, windir, n) &&
        len - n + 12 < MAX_PATH) {
        wcscpy(out, L"%SystemRoot%");
        wcscat(out, path + n);
        return;
    }
    wcsncpy(out, path, MAX_PATH - 1);
    out[MAX_PATH - 1] = 0;
}
