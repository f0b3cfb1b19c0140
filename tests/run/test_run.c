/*
 * test_run - peerlsp-run end to end: run_prog.exe (an ordinary Winsock
 * program) directly on Wine, through peerlsp-run --base-only and through
 * peerlsp-run over peerlsp, on a catalog made the documented way
 * (peerlsp-run --write-base-catalog, then peerlsp-ctl --catalog install).
 * Outputs must be identical; the stats must say where each getpeername
 * was answered; an unroutable call must stop the program with 126 and a
 * message naming it; a socket call from a Wine DLL must be counted and
 * named as a bypass.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include <cmocka.h>

static WCHAR dir[MAX_PATH];

static void path_in_dir(WCHAR out[MAX_PATH], const WCHAR *name)
{
    swprintf(out, MAX_PATH, L"%ls\\%ls", dir, name);
}

/* Runs `command` with stdout and stderr in files of the test directory;
 * returns the exit code. */
static DWORD run(const WCHAR *command, const WCHAR *out_name, const WCHAR *err_name)
{
    SECURITY_ATTRIBUTES inherit = { sizeof inherit, NULL, TRUE };
    WCHAR out_path[MAX_PATH], err_path[MAX_PATH];
    path_in_dir(out_path, out_name);
    path_in_dir(err_path, err_name);
    HANDLE out = CreateFileW(out_path, GENERIC_WRITE, FILE_SHARE_READ, &inherit, CREATE_ALWAYS, 0,
                             NULL);
    HANDLE err = CreateFileW(err_path, GENERIC_WRITE, FILE_SHARE_READ, &inherit, CREATE_ALWAYS, 0,
                             NULL);
    assert_true(out != INVALID_HANDLE_VALUE && err != INVALID_HANDLE_VALUE);
    STARTUPINFOW si = { .cb = sizeof si, .dwFlags = STARTF_USESTDHANDLES };
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = out;
    si.hStdError = err;
    PROCESS_INFORMATION pi;
    static WCHAR line[4096];
    swprintf(line, ARRAYSIZE(line), L"%ls", command);
    if (!CreateProcessW(NULL, line, NULL, NULL, TRUE, 0, NULL, dir, &si, &pi))
        fail_msg("cannot start %ls (error %lu)", command, GetLastError());
    CloseHandle(out);
    CloseHandle(err);
    DWORD code = 0;
    assert_int_equal(WaitForSingleObject(pi.hProcess, 120000), WAIT_OBJECT_0);
    assert_true(GetExitCodeProcess(pi.hProcess, &code));
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    return code;
}

/* A file of the test directory, NUL-terminated (static buffer per slot). */
static const char *slurp(const WCHAR *name, int slot)
{
    static char buffers[4][16384];
    char *buf = buffers[slot];
    WCHAR path[MAX_PATH];
    path_in_dir(path, name);
    FILE *f = _wfopen(path, L"rb");
    if (!f) {
        buf[0] = 0;
        return buf;
    }
    size_t n = fread(buf, 1, sizeof buffers[0] - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* The number after "key": in the stats file; fails the test without it. */
static long stat_of(const char *json, const char *key)
{
    char pattern[80];
    snprintf(pattern, sizeof pattern, "\"%s\": ", key);
    const char *at = strstr(json, pattern);
    if (!at)
        fail_msg("no %s in the stats:\n%s", key, json);
    return strtol(at + strlen(pattern), NULL, 10);
}

static int setup(void **state)
{
    (void)state;
    WCHAR tmp[MAX_PATH];
    assert_true(GetTempPathW(MAX_PATH, tmp) > 0);
    swprintf(dir, MAX_PATH, L"%lspeerlsp-test-run-%lu", tmp, GetCurrentProcessId());
    CreateDirectoryW(dir, NULL);
    WCHAR command[2048];
    swprintf(command, ARRAYSIZE(command), L"\"%ls\" --write-base-catalog base.cat", RUN_EXE);
    assert_int_equal(run(command, L"setup.out", L"setup.err"), 0);
    WCHAR base[MAX_PATH], lsp[MAX_PATH];
    path_in_dir(base, L"base.cat");
    path_in_dir(lsp, L"lsp.cat");
    assert_true(CopyFileW(base, lsp, FALSE));
    swprintf(command, ARRAYSIZE(command), L"\"%ls\" --catalog lsp.cat install --dll \"%ls\"",
             CTL_EXE, LSP_DLL);
    DWORD code = run(command, L"install.out", L"install.err");
    if (code)
        fail_msg("peerlsp-ctl install: %lu\n%s%s", code, slurp(L"install.out", 0),
                 slurp(L"install.err", 1));
    return 0;
}

/* Runs run_prog MODE three ways; a NULL direct_out skips the direct run. */
static void run_three(const char *mode, DWORD *direct, DWORD *base, DWORD *lsp)
{
    WCHAR command[2048];
    if (direct) {
        swprintf(command, ARRAYSIZE(command), L"\"%ls\" %hs", PROG_EXE, mode);
        *direct = run(command, L"direct.out", L"direct.err");
    }
    swprintf(command, ARRAYSIZE(command),
             L"\"%ls\" --catalog lsp.cat --base-only --stats base.json -- \"%ls\" %hs", RUN_EXE,
             PROG_EXE, mode);
    *base = run(command, L"base.out", L"base.err");
    swprintf(command, ARRAYSIZE(command),
             L"\"%ls\" --catalog lsp.cat --stats lsp.json -- \"%ls\" %hs", RUN_EXE, PROG_EXE,
             mode);
    *lsp = run(command, L"lsp.out", L"lsp.err");
}

static void test_peers_three_ways(void **state)
{
    (void)state;
    DWORD direct, base, lsp;
    run_three("peers", &direct, &base, &lsp);
    const char *out_direct = slurp(L"direct.out", 0);
    const char *out_base = slurp(L"base.out", 1), *out_lsp = slurp(L"lsp.out", 2);
    if (direct || base || lsp)
        fail_msg("exit codes %lu/%lu/%lu\ndirect:\n%s\nbase-only:\n%s%s\npeerlsp:\n%s%s", direct,
                 base, lsp, out_direct, out_base, slurp(L"base.err", 3), out_lsp,
                 slurp(L"lsp.err", 3));
    /* 8 answers that must all be 1, then the AcceptEx and WSAPoll facts. */
    assert_non_null(strstr(out_direct, "tcp6 client peer is the listener (a DLL loaded later): 1"));
    assert_null(strstr(out_direct, ": 0\nfailures"));
    assert_null(strstr(out_direct, "FAILED"));
    assert_string_equal(out_base, out_direct);
    assert_string_equal(out_lsp, out_direct);

    /* 8 getpeername calls on clients and 1 on the AcceptEx socket. */
    const char *stats = slurp(L"base.json", 3);
    assert_int_equal(stat_of(stats, "getpeername_from_table"), 0);
    assert_int_equal(stat_of(stats, "getpeername_asked_below"), 9);
    assert_int_equal(stat_of(stats, "WSPGetPeerName"), 9);
    assert_int_equal(stat_of(stats, "bypasses"), 0);
    assert_true(stat_of(stats, "WSPConnect") >= 3);
    stats = slurp(L"lsp.json", 3);
    assert_int_equal(stat_of(stats, "getpeername_from_table"), 9);
    assert_int_equal(stat_of(stats, "getpeername_asked_below"), 0);
    assert_int_equal(stat_of(stats, "WSPGetPeerName"), 9);
    assert_int_equal(stat_of(stats, "bypasses"), 0);
}

static void test_unsupported_stops_the_program(void **state)
{
    (void)state;
    DWORD base, lsp;
    run_three("unsupported", NULL, &base, &lsp);
    assert_int_equal(base, 126);
    assert_int_equal(lsp, 126);
    assert_non_null(strstr(slurp(L"lsp.out", 0), "rcmd found: 1"));
    assert_null(strstr(slurp(L"lsp.out", 0), "after rcmd"));
    assert_non_null(strstr(slurp(L"lsp.err", 1), "mswsock.dll!rcmd is not supported"));
    /* The stats are written before the program stops. */
    assert_int_equal(stat_of(slurp(L"lsp.json", 2), "bypasses"), 0);
}

static void test_bypass_is_counted_and_named(void **state)
{
    (void)state;
    DWORD direct, base, lsp;
    run_three("bypass", &direct, &base, &lsp);
    assert_int_equal(direct, 0);
    assert_int_equal(base, 0);
    assert_int_equal(lsp, 0);
    assert_string_equal(slurp(L"lsp.out", 0), slurp(L"direct.out", 1));
    const char *stats = slurp(L"lsp.json", 2);
    assert_int_equal(stat_of(stats, "bypasses"), 1);
    assert_non_null(strstr(stats, "\"bypassed\": [\"ws2_32.dll!recv\"]"));
}

static void test_usage_errors(void **state)
{
    (void)state;
    WCHAR command[2048];
    const char *rows[] = { "", "--catalog", "--catalog lsp.cat", "--catalog lsp.cat --",
                           "--bogus -- x.exe", "--catalog missing.cat -- cmd.exe" };
    for (size_t i = 0; i < ARRAYSIZE(rows); i++) {
        swprintf(command, ARRAYSIZE(command), L"\"%ls\" %hs", RUN_EXE, rows[i]);
        DWORD code = run(command, L"usage.out", L"usage.err");
        if (code != 125)
            fail_msg("'%s': exit %lu, expected 125", rows[i], code);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peers_three_ways),
        cmocka_unit_test(test_unsupported_stops_the_program),
        cmocka_unit_test(test_bypass_is_counted_and_named),
        cmocka_unit_test(test_usage_errors),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
