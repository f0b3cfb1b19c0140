/*
 * test_ctl_cli.c - the real peerlsp-ctl.exe as a process: help, usage
 * errors, bad DLLs, snapshots (export, install, list --json, verify,
 * --dry-run, uninstall), the live catalog under Wine, and end to end: the
 * tool installs into a snapshot, the test host loads peerlsp from that very
 * snapshot and real loopback traffic gets the right getpeername, uninstall
 * leaves the snapshot byte-identical to the original.
 */
#include "ctl_test.h"
#include "e2e.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <peerlsp/peerlsp.h>

static char out[65536];

/* CreateProcessW, again when the new process died while Wine was still
 * starting it. Wine's NtCreateUserProcess waits for the child to report
 * that its start-up is done; a child that exits before that (on a loaded
 * machine: its Unix process failing to map or reserve memory, or losing
 * the race with the wineserver) leaves no exit code, and Wine returns
 * STATUS_INTERNAL_ERROR, which CreateProcess turns into
 * ERROR_INTERNAL_ERROR (1359). Such a child never ran a line of
 * peerlsp-ctl, so it changed nothing: starting it again is what the test
 * needs, and each attempt waits for the child's start-up itself. Any other
 * error is real and fails at once. */
static BOOL create_process_retrying(WCHAR *cmd, STARTUPINFOW *si, PROCESS_INFORMATION *pi)
{
    enum { ATTEMPTS = 5 };
    for (int attempt = 1;; attempt++) {
        if (CreateProcessW(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, si, pi))
            return TRUE;
        DWORD err = GetLastError();
        if (err != ERROR_INTERNAL_ERROR || attempt == ATTEMPTS) {
            SetLastError(err);
            return FALSE;
        }
        print_message("CreateProcess: the child died during Wine's start-up (error %lu); "
                      "starting it again (attempt %d)\n",
                      (unsigned long)err, attempt + 1);
    }
}

/* Runs peerlsp-ctl.exe with args; stdout and stderr into out. */
static int ctl(const WCHAR *args)
{
    WCHAR cmd[4096];
    swprintf(cmd, 4096, L"\"%ls\" %ls", PEERLSP_TEST_CTL_EXE, args);
    SECURITY_ATTRIBUTES sa = { sizeof sa, NULL, TRUE };
    HANDLE rd, wr;
    if (!CreatePipe(&rd, &wr, &sa, 0))
        fail_msg("CreatePipe: %lu", GetLastError());
    SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdOutput = si.hStdError = wr;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    if (!create_process_retrying(cmd, &si, &pi))
        fail_msg("CreateProcess %ls: %lu", cmd, GetLastError());
    CloseHandle(wr);
    DWORD total = 0, got;
    while (total < sizeof out - 1 &&
           ReadFile(rd, out + total, (DWORD)(sizeof out - 1 - total), &got, NULL) && got)
        total += got;
    out[total] = 0;
    CloseHandle(rd);
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = 0xdeadbeef;
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    return (int)code;
}

#define expect_exit(args, code)                                                              \
    do {                                                                                     \
        int rc_ = ctl(args);                                                                 \
        if (rc_ != (code))                                                                   \
            fail_msg("%s:%d: peerlsp-ctl %ls: exit %d, expected %d; output:\n%s", __FILE__,  \
                     __LINE__, args, rc_, (code), out);                                      \
    } while (0)

#define expect_output(text)                                                                  \
    do {                                                                                     \
        if (!strstr(out, text))                                                              \
            fail_msg("%s:%d: output lacks \"%s\":\n%s", __FILE__, __LINE__, text, out);    \
    } while (0)

static void scratch(const WCHAR *name, WCHAR path[MAX_PATH])
{
    swprintf(path, MAX_PATH, L"%ls\\%ls", PEERLSP_TEST_SCRATCH, name);
}

/* A snapshot with tbase as the base provider. */
static void make_snapshot(const WCHAR *file)
{
    struct simcat *cat = ctlt_base_catalog();
    int err = simcat_save(cat, file);
    if (err)
        fail_msg("simcat_save %ls: %d", file, err);
    simcat_destroy(cat);
}

static char *read_file(const WCHAR *file, DWORD *size)
{
    HANDLE h = CreateFileW(file, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        fail_msg("cannot open %ls: %lu", file, GetLastError());
    *size = GetFileSize(h, NULL);
    char *buf = malloc(*size + 1);
    DWORD got = 0;
    assert_non_null(buf);
    assert_true(ReadFile(h, buf, *size, &got, NULL));
    assert_int_equal(got, *size);
    CloseHandle(h);
    return buf;
}

#define expect_same_file(a, b) expect_same_file_(a, b, __LINE__)
static void expect_same_file_(const WCHAR *a, const WCHAR *b, int line)
{
    DWORD na, nb;
    char *x = read_file(a, &na), *y = read_file(b, &nb);
    if (na != nb || memcmp(x, y, na))
        fail_msg("line %d: %ls (%lu bytes) and %ls (%lu bytes) differ", line, a,
                 (unsigned long)na, b, (unsigned long)nb);
    free(x);
    free(y);
}

/* ---- help and usage ----------------------------------------------------- */

static void test_help(void **state)
{
    (void)state;
    expect_exit(L"--help", 0);
    expect_output("usage: peerlsp-ctl");
    expect_output("exit codes");
    static const WCHAR *const cmds[] = { L"install", L"uninstall", L"list",    L"verify",
                                         L"repair",  L"export",    L"help",    L"status",
                                         L"exclude", L"include" };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        WCHAR args[64];
        swprintf(args, 64, L"%ls --help", cmds[i]);
        expect_exit(args, 0);
        expect_output("usage: peerlsp-ctl");
    }
    expect_exit(L"help install", 0);
    expect_output("--dll PATH");
    expect_exit(L"help exclude", 0);
    expect_output("--args");
    expect_output("WSCSetApplicationCategory");
    expect_exit(L"--help", 0);
    expect_output("exclude APP");
    expect_output("status ");
}

static void test_usage_errors(void **state)
{
    (void)state;
    static const struct {
        const WCHAR *args;
        const char *says;
    } rows[] = {
        { L"", "usage:" },
        { L"frobnicate", "unknown command frobnicate" },
        { L"list --bogus", "unknown option --bogus" },
        { L"install", "install needs --dll" },
        { L"export", "export needs a file name" },
        { L"--catalog", "--catalog needs a value" },
        { L"install --dll Z:\\x.dll --protocols tcp5", "--protocols" },
        { L"uninstall --guid nonsense", "--guid" },
        { L"exclude", "exclude needs the program's full path" },
        { L"include", "include needs the program's full path" },
        { L"exclude wsl.exe", "is not a full path" },
        { L"include wsl.exe", "is not a full path" },
        { L"exclude C:\\a.exe C:\\b.exe", "unexpected argument" },
        { L"exclude C:\\a.exe --args", "--args needs a value" },
        { L"status --args x", "--args is an option of exclude and include only" },
        { L"status extra", "unexpected argument" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        expect_exit(rows[i].args, CTL_EXIT_USAGE);
        expect_output(rows[i].says);
    }
    WCHAR args[MAX_PATH + 64], missing[MAX_PATH];
    scratch(L"no-such-snapshot", missing);
    swprintf(args, MAX_PATH + 64, L"--catalog \"%ls\" list", missing);
    expect_exit(args, CTL_EXIT_USAGE);
    expect_output("Cannot read the catalog snapshot");
}

/* ---- snapshots ----------------------------------------------------------- */

static void test_bad_dll(void **state)
{
    (void)state;
    WCHAR snap[MAX_PATH], orig[MAX_PATH], args[1024];
    scratch(L"bad-dll.snap", snap);
    scratch(L"bad-dll.orig", orig);
    make_snapshot(snap);
    make_snapshot(orig);
    static const struct {
        const WCHAR *dll;
        const char *says;
    } rows[] = {
        { L"peerlsp.dll", "not absolute" },
        { L"Z:\\nonexistent\\peerlsp.dll", "does not exist" },
        { PEERLSP_TEST_BASE_DLL, "does not export GetLspGuid" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        swprintf(args, 1024, L"--catalog \"%ls\" install --dll \"%ls\"", snap, rows[i].dll);
        expect_exit(args, CTL_EXIT_BAD_DLL);
        expect_output(rows[i].says);
        expect_same_file(snap, orig);
    }
}

static void test_snapshot_commands(void **state)
{
    (void)state;
    WCHAR snap[MAX_PATH], orig[MAX_PATH], exported[MAX_PATH], args[1024];
    scratch(L"cmds.snap", snap);
    scratch(L"cmds.orig", orig);
    scratch(L"cmds.export", exported);
    make_snapshot(snap);
    make_snapshot(orig);

    swprintf(args, 1024, L"--catalog \"%ls\" export \"%ls\"", snap, exported);
    expect_exit(args, 0);
    expect_same_file(exported, orig);

    swprintf(args, 1024, L"--catalog \"%ls\" verify", snap);
    expect_exit(args, CTL_EXIT_PROBLEMS);
    expect_output("not installed");

    swprintf(args, 1024, L"--catalog \"%ls\" --dry-run install --dll \"%ls\"", snap,
             PEERLSP_TEST_LSP_DLL);
    expect_exit(args, 0);
    expect_output("WSCInstallProvider");
    expect_output("Dry run: nothing was changed");
    expect_same_file(snap, orig);

    swprintf(args, 1024, L"--catalog \"%ls\" install --dll \"%ls\"", snap, PEERLSP_TEST_LSP_DLL);
    expect_exit(args, 0);
    expect_output("peerlsp installed");
    expect_exit(args, 0);
    expect_output("already installed");

    swprintf(args, 1024, L"--catalog \"%ls\" list --json", snap);
    expect_exit(args, 0);
    expect_output("\"peerlsp\":true");
    expect_output("\"chain_len\":2");
    expect_output("\"broken\":null");

    swprintf(args, 1024, L"--catalog \"%ls\" list", snap);
    expect_exit(args, 0);
    expect_output("peerlsp over ");

    swprintf(args, 1024, L"--catalog \"%ls\" verify", snap);
    expect_exit(args, 0);
    expect_output("OK: peerlsp is installed consistently");

    swprintf(args, 1024, L"--catalog \"%ls\" --dry-run uninstall", snap);
    expect_exit(args, 0);
    expect_output("WSCDeinstallProvider");

    swprintf(args, 1024, L"--catalog \"%ls\" uninstall", snap);
    expect_exit(args, 0);
    expect_output("peerlsp uninstalled");
    expect_same_file(snap, orig);
}

/* Issue 11, item 11: `uninstall --purge` (what the MSI's removal runs)
 * also lets peerlsp into every program `exclude` kept it out of, so no
 * category change of peerlsp's outlives it. */
static void test_uninstall_purge(void **state)
{
    (void)state;
    WCHAR snap[MAX_PATH], args[2048];
    scratch(L"purge.snap", snap);
    make_snapshot(snap);
    swprintf(args, 2048, L"--catalog \"%ls\" install --dll \"%ls\"", snap, PEERLSP_TEST_LSP_DLL);
    expect_exit(args, 0);
    swprintf(args, 2048, L"--catalog \"%ls\" exclude C:\\Windows\\System32\\wsl.exe", snap);
    expect_exit(args, 0);
    swprintf(args, 2048,
             L"--catalog \"%ls\" exclude C:\\Windows\\System32\\svchost.exe --args \"-k netsvcs\"",
             snap);
    expect_exit(args, 0);
    swprintf(args, 2048, L"--catalog \"%ls\" uninstall --purge", snap);
    expect_exit(args, 0);
    expect_output("peerlsp uninstalled");
    expect_output("may load into");
    DWORD size;
    char *text = read_file(snap, &size);
    if (strstr(text, "0x000000FE") || !strstr(text, "app categories=0x800000FF"))
        fail_msg("the programs still refuse peerlsp's categories:\n%s", text);
    free(text);
    swprintf(args, 2048, L"--catalog \"%ls\" list", snap);
    expect_exit(args, 0);
    if (strstr(out, "wsl.exe") || strstr(out, "svchost.exe"))
        fail_msg("exclusions still listed after uninstall --purge:\n%s", out);
    /* --purge belongs to uninstall. */
    swprintf(args, 2048, L"--catalog \"%ls\" verify --purge", snap);
    expect_exit(args, CTL_EXIT_USAGE);
}

static void test_snapshot_exclude_status(void **state)
{
    (void)state;
    WCHAR snap[MAX_PATH], orig[MAX_PATH], args[2048];
    scratch(L"excl.snap", snap);
    scratch(L"excl.orig", orig);
    make_snapshot(snap);
    make_snapshot(orig);

    /* Not installed, nothing left over: healthy. */
    swprintf(args, 2048, L"--catalog \"%ls\" status", snap);
    expect_exit(args, 0);
    expect_output("peerlsp is not installed");
    expect_output("Exclusions");
    expect_output("to install: run peerlsp-ctl install --dll");
    expect_output("Status: healthy");

    swprintf(args, 2048, L"--catalog \"%ls\" install --dll \"%ls\"", snap, PEERLSP_TEST_LSP_DLL);
    expect_exit(args, 0);
    swprintf(args, 2048, L"--catalog \"%ls\" export \"%ls\"", snap, orig);
    expect_exit(args, 0);

    swprintf(args, 2048, L"--catalog \"%ls\" --dry-run exclude C:\\Windows\\System32\\wsl.exe",
             snap);
    expect_exit(args, 0);
    expect_output("would call WSCSetApplicationCategory");
    expect_same_file(snap, orig);

    swprintf(args, 2048,
             L"--catalog \"%ls\" exclude C:\\Windows\\System32\\svchost.exe --args \"-k netsvcs\"",
             snap);
    expect_exit(args, 0);
    expect_output("now kept out");
    expect_output("0x800000FF -> 0x000000FE");
    DWORD size;
    char *text = read_file(snap, &size);
    if (!strstr(text, "app categories=0x000000FE path=\"C:\\\\Windows\\\\System32\\\\svchost.exe\" "
                      "extra=\"-k netsvcs\""))
        fail_msg("the snapshot holds no application record:\n%s", text);
    free(text);

    swprintf(args, 2048, L"--catalog \"%ls\" list", snap);
    expect_exit(args, 0);
    expect_output("Exclusions made with peerlsp-ctl exclude:");
    expect_output("svchost.exe (command line \"-k netsvcs\")");

    swprintf(args, 2048, L"--catalog \"%ls\" status", snap);
    expect_exit(args, 0);
    expect_output("peerlsp is installed");
    expect_output("version ");
    expect_output("svchost.exe (command line \"-k netsvcs\")");
    expect_output("Status: healthy (installed and consistent)");

    swprintf(args, 2048,
             L"--catalog \"%ls\" include C:\\Windows\\System32\\svchost.exe --args \"-k netsvcs\"",
             snap);
    expect_exit(args, 0);
    expect_output("may load into");
    expect_exit(args, 0);
    expect_output("Nothing to do");
    swprintf(args, 2048, L"--catalog \"%ls\" list", snap);
    expect_exit(args, 0);
    if (strstr(out, "svchost.exe (command line"))
        fail_msg("include left the exclusion listed:\n%s", out);
    swprintf(args, 2048, L"--catalog \"%ls\" include C:\\never\\excluded.exe", snap);
    expect_exit(args, 0);
    expect_output("is not excluded");

    /* Broken: status says so, exit 2, and says what to do. */
    struct simcat *cat = NULL;
    int err = simcat_load(snap, &cat);
    if (err)
        fail_msg("simcat_load: %d", err);
    WSAPROTOCOL_INFOW e[32];
    DWORD len = sizeof e;
    int n = simcat_enum(cat, NULL, e, &len, &err);
    static const GUID lsp_guid = PEERLSP_GUID_INIT;
    for (int i = 0; i < n; i++) {
        if (e[i].ProtocolChain.ChainLen == 1 && !IsEqualGUID(&e[i].ProviderId, &lsp_guid)) {
            GUID g = e[i].ProviderId;
            assert_int_equal(simcat_deinstall(cat, &g, &err), 0);
            break;
        }
    }
    assert_int_equal(simcat_save(cat, snap), 0);
    simcat_destroy(cat);
    swprintf(args, 2048, L"--catalog \"%ls\" status", snap);
    expect_exit(args, CTL_EXIT_PROBLEMS);
    expect_output("problem: ");
    expect_output("run peerlsp-ctl repair");
    expect_output("problem(s)");
}

/* ---- the live catalog under Wine ---------------------------------------- */

static void test_live_catalog_under_wine(void **state)
{
    (void)state;
    if (!ctl_wine_version()) {
        /* On Windows this would change the machine's catalog. */
        skip();
    }
    WCHAR args[1024];
    swprintf(args, 1024, L"install --dll \"%ls\"", PEERLSP_TEST_LSP_DLL);
    expect_exit(args, CTL_EXIT_NO_EFFECT);
    expect_output("did not change");
    /* Wine exports none of the ...32 functions: one catalog, said once. */
    expect_output("no separate 32-bit Winsock catalog");
    if (strstr(strstr(out, "no separate 32-bit") + 1, "no separate 32-bit"))
        fail_msg("the note about the 32-bit catalog appears twice:\n%s", out);
    if (strstr(out, "peerlsp installed"))
        fail_msg("install claimed success under Wine:\n%s", out);
    expect_exit(L"verify", CTL_EXIT_PROBLEMS);
    expect_output("not installed");
    expect_exit(L"list", 0);
    expect_output("TCP/IP");
    expect_exit(L"uninstall", 0);
    expect_output("not installed; nothing to do");

    /* exclude cannot confirm anything here (WSCGetApplicationCategory is
     * missing, WSCSetApplicationCategory a stub): it must not claim
     * success, and changes nothing. */
    expect_exit(L"exclude C:\\Windows\\System32\\wsl.exe", CTL_EXIT_MISSING_FUNCTION);
    expect_output("WSCGetApplicationCategory is missing");
    if (strstr(out, "now kept out"))
        fail_msg("exclude claimed success under Wine:\n%s", out);
    expect_exit(L"include C:\\Windows\\System32\\wsl.exe", 0);
    expect_output("was not excluded by peerlsp-ctl");
    /* status agrees with verify: not installed, nothing left over. */
    expect_exit(L"status", 0);
    expect_output("peerlsp is not installed");
    expect_output("Status: healthy (not installed");
    expect_output("Wine");
}

/* ---- end to end ---------------------------------------------------------- */

static void test_end_to_end(void **state)
{
    (void)state;
    WCHAR snap[MAX_PATH], orig[MAX_PATH], args[1024];
    scratch(L"e2e.snap", snap);
    scratch(L"e2e.orig", orig);
    make_snapshot(snap);
    swprintf(args, 1024, L"--catalog \"%ls\" export \"%ls\"", snap, orig);
    expect_exit(args, 0);
    swprintf(args, 1024, L"--catalog \"%ls\" install --dll \"%ls\"", snap, PEERLSP_TEST_LSP_DLL);
    expect_exit(args, 0);

    /* The test host loads peerlsp from that very snapshot. */
    struct simcat *cat = NULL;
    int err = simcat_load(snap, &cat);
    if (err)
        fail_msg("simcat_load: %d", err);
    static const GUID lsp_guid = PEERLSP_GUID_INIT;
    host_set_catalog(cat);
    assert_int_equal(host_startup(), 0);
    struct e2e_session s;
    memset(&s, 0, sizeof s);
    s.layout = E2E_LSP_SHARED;
    s.cat = cat;
    s.api = host_api();
    const int families[] = { AF_INET, AF_INET6 };
    for (int i = 0; i < 2; i++) {
        SOCKADDR_STORAGE laddr, peer;
        int llen, plen = sizeof peer;
        SOCKET l = s.api->socket(families[i], SOCK_STREAM, IPPROTO_TCP);
        assert_int_not_equal(l, INVALID_SOCKET);
        /* Bound to a chain of the tool's, which is peerlsp's. */
        DWORD entry = host_socket_entry(l);
        WSAPROTOCOL_INFOW e = ctlt_entry(cat, entry);
        if (e.ProtocolChain.ChainLen != 2 || !IsEqualGUID(&e.ProviderId, &lsp_guid))
            fail_msg("socket bound to entry %lu (ChainLen %d), not a peerlsp chain",
                     (unsigned long)entry, e.ProtocolChain.ChainLen);
        e2e_loopback(families[i], 0, &laddr, &llen);
        assert_int_equal(s.api->bind(l, (struct sockaddr *)&laddr, llen), 0);
        llen = sizeof laddr;
        assert_int_equal(s.api->getsockname(l, (struct sockaddr *)&laddr, &llen), 0);
        assert_int_equal(s.api->listen(l, 4), 0);
        SOCKET server;
        SOCKET c = e2e_connect_pair(&s, l, &laddr, llen, &server);
        assert_int_equal(s.api->getpeername(c, (struct sockaddr *)&peer, &plen), 0);
        e2e_addr_equal(&peer, plen, &laddr, llen);
        e2e_peer_matches_base(&s, c, 0);
        e2e_peer_matches_base(&s, server, 0);
        s.api->closesocket(c);
        s.api->closesocket(server);
        s.api->closesocket(l);
    }
    assert_true(host_provider_startups(&lsp_guid) >= 1);
    assert_int_equal(host_cleanup(), 0);
    host_set_catalog(NULL);
    simcat_destroy(cat);

    swprintf(args, 1024, L"--catalog \"%ls\" uninstall", snap);
    expect_exit(args, 0);
    expect_same_file(snap, orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_bad_dll),
        cmocka_unit_test(test_snapshot_commands),
        cmocka_unit_test(test_snapshot_exclude_status),
        cmocka_unit_test(test_uninstall_purge),
        cmocka_unit_test(test_live_catalog_under_wine),
        cmocka_unit_test(test_end_to_end),
    };
    return cmocka_run_group_tests_name("peerlsp-ctl.exe", tests, NULL, NULL);
}
