/*
 * peerlsp-run.exe - runs an unmodified Windows program with its Winsock
 * calls going through the test host over a catalog snapshot (route.h).
 *
 *   peerlsp-run --write-base-catalog FILE
 *       writes a snapshot whose base provider is tbase.dll (beside this
 *       program): TCP and UDP over IPv4 and IPv6, as Windows' own.
 *   peerlsp-run --catalog FILE [--base-only] [--stats FILE] -- PROGRAM [ARGS...]
 *       runs PROGRAM over the snapshot (typically written by
 *       `peerlsp-ctl --catalog FILE install`); --base-only removes the
 *       layered entries and chains first. Exit code: PROGRAM's; 125 when
 *       peerlsp-run or the router could not start it; 126 when PROGRAM
 *       called a function the router cannot route (the message names it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "run_inject.h"
#include "wshost.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: peerlsp-run --write-base-catalog FILE\n"
            "       peerlsp-run --catalog FILE [--base-only] [--stats FILE] -- PROGRAM [ARGS...]\n");
    return ROUTE_EXIT_START_FAILED;
}

static int fail(const char *what, DWORD err)
{
    fprintf(stderr, "peerlsp-run: %s failed (error %lu)\n", what, err);
    return ROUTE_EXIT_START_FAILED;
}

/* dir\name for a file beside this program. */
static int beside_me(const WCHAR *name, WCHAR out[MAX_PATH])
{
    DWORD n = GetModuleFileNameW(NULL, out, MAX_PATH);
    if (!n || n >= MAX_PATH)
        return 0;
    WCHAR *slash = wcsrchr(out, L'\\');
    if (!slash || (size_t)(slash + 1 - out) + wcslen(name) >= MAX_PATH)
        return 0;
    wcscpy(slash + 1, name);
    return 1;
}

static int write_base_catalog(const WCHAR *file)
{
    WCHAR tbase[MAX_PATH];
    if (!beside_me(L"tbase.dll", tbase))
        return fail("finding tbase.dll", ERROR_FILENAME_EXCED_RANGE);
    if (GetFileAttributesW(tbase) == INVALID_FILE_ATTRIBUTES)
        return fail("finding tbase.dll beside peerlsp-run.exe", GetLastError());
    struct simcat *cat = simcat_create();
    if (!cat)
        return fail("creating the catalog", ERROR_OUTOFMEMORY);
    int err = host_catalog_add_wine_catalog(cat, tbase);
    if (!err)
        err = simcat_save(cat, file);
    simcat_destroy(cat);
    return err ? fail("writing the base catalog", (DWORD)err) : 0;
}

/* Appends `arg` to the command line quoted as CommandLineToArgvW reads it. */
static int append_quoted(WCHAR *line, size_t size, size_t *at, const WCHAR *arg)
{
    size_t need = wcslen(arg) * 2 + 4;
    if (*at + need >= size)
        return 0;
    if (*at)
        line[(*at)++] = L' ';
    int plain = *arg && !wcspbrk(arg, L" \t\"");
    if (plain) {
        wcscpy(line + *at, arg);
        *at += wcslen(arg);
        return 1;
    }
    line[(*at)++] = L'"';
    for (const WCHAR *p = arg;; p++) {
        size_t slashes = 0;
        while (*p == L'\\') {
            p++;
            slashes++;
        }
        if (!*p) {
            /* Backslashes before the closing quote are doubled. */
            for (size_t i = 0; i < slashes * 2; i++)
                line[(*at)++] = L'\\';
            break;
        }
        if (*p == L'"') {
            for (size_t i = 0; i < slashes * 2 + 1; i++)
                line[(*at)++] = L'\\';
        } else {
            for (size_t i = 0; i < slashes; i++)
                line[(*at)++] = L'\\';
        }
        line[(*at)++] = *p;
    }
    line[(*at)++] = L'"';
    line[*at] = L'\0';
    return 1;
}

static int set_full_path_env(const WCHAR *name, const WCHAR *path)
{
    WCHAR full[MAX_PATH];
    DWORD n = GetFullPathNameW(path, MAX_PATH, full, NULL);
    if (!n || n >= MAX_PATH)
        return 0;
    return SetEnvironmentVariableW(name, full);
}

static int run(const WCHAR *catalog, int base_only, const WCHAR *stats, int argc, WCHAR **argv)
{
    WCHAR router[MAX_PATH];
    if (!beside_me(L"peerlsp-route.dll", router) ||
        GetFileAttributesW(router) == INVALID_FILE_ATTRIBUTES)
        return fail("finding peerlsp-route.dll beside peerlsp-run.exe", GetLastError());
    if (GetFileAttributesW(catalog) == INVALID_FILE_ATTRIBUTES)
        return fail("opening the catalog snapshot", GetLastError());
    if (!set_full_path_env(L"PEERLSP_RUN_CATALOG", catalog) ||
        !SetEnvironmentVariableW(L"PEERLSP_RUN_MODE", base_only ? L"base-only" : L"peerlsp"))
        return fail("setting the environment", GetLastError());
    if (stats) {
        /* A stale file must never pass for this run's. */
        if (!DeleteFileW(stats) && GetLastError() != ERROR_FILE_NOT_FOUND)
            return fail("removing the old stats file", GetLastError());
        if (!set_full_path_env(L"PEERLSP_RUN_STATS", stats))
            return fail("setting the environment", GetLastError());
    } else {
        SetEnvironmentVariableW(L"PEERLSP_RUN_STATS", NULL);
    }

    static WCHAR line[32768];
    size_t at = 0;
    for (int i = 0; i < argc; i++) {
        if (!append_quoted(line, ARRAYSIZE(line), &at, argv[i]))
            return fail("building the command line (too long)", ERROR_FILENAME_EXCED_RANGE);
    }
    STARTUPINFOW si = { .cb = sizeof si, .dwFlags = STARTF_USESTDHANDLES };
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(NULL, line, NULL, NULL, TRUE, CREATE_SUSPENDED, NULL, NULL, &si, &pi))
        return fail("starting the program", GetLastError());
    const char *what = "";
    int err = run_inject(pi.hProcess, router, &what);
    if (err) {
        TerminateProcess(pi.hProcess, ROUTE_EXIT_START_FAILED);
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
        return fail(what, (DWORD)err);
    }
    ResumeThread(pi.hThread);
    CloseHandle(pi.hThread);
    DWORD code = ROUTE_EXIT_START_FAILED;
    if (WaitForSingleObject(pi.hProcess, INFINITE) != WAIT_OBJECT_0 ||
        !GetExitCodeProcess(pi.hProcess, &code))
        code = (DWORD)fail("waiting for the program", GetLastError());
    CloseHandle(pi.hProcess);
    if (stats && GetFileAttributesW(stats) == INVALID_FILE_ATTRIBUTES)
        fprintf(stderr, "peerlsp-run: the program ended without writing its stats "
                        "(it did not run through the router to its end)\n");
    return (int)code;
}

int wmain(int argc, WCHAR **argv)
{
    const WCHAR *catalog = NULL, *stats = NULL;
    int base_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!wcscmp(argv[i], L"--write-base-catalog") && i + 1 < argc && argc == 3)
            return write_base_catalog(argv[i + 1]);
        if (!wcscmp(argv[i], L"--catalog") && i + 1 < argc)
            catalog = argv[++i];
        else if (!wcscmp(argv[i], L"--stats") && i + 1 < argc)
            stats = argv[++i];
        else if (!wcscmp(argv[i], L"--base-only"))
            base_only = 1;
        else if (!wcscmp(argv[i], L"--") && i + 1 < argc && catalog)
            return run(catalog, base_only, stats, argc - i - 1, argv + i + 1);
        else
            return usage();
    }
    return usage();
}
