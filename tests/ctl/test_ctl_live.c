/*
 * test_ctl_live.c - peerlsp-ctl's LIVE backend (ctl_backend_live.c, the
 * code that calls ws2_32's WSC and WSC...32 functions) run against two
 * simulated catalogs standing for the 64-bit and 32-bit catalogs of 64-bit
 * Windows, through the tool's test seam ctl_winapi_override.
 *
 * The simulated functions keep Windows' semantics (installer/simcatalog.h):
 * the plain ones work on the 64-bit catalog, the ...32 ones on the 32-bit
 * catalog, and WSCInstallProvider64_32 installs one list into both, each
 * catalog handing out its own ids. Windows does not document what
 * WSCInstallProvider64_32 leaves behind when its second half fails; the
 * simulation leaves the first half in place, the worst case for the tool.
 *
 * The two catalogs differ on purpose: the 32-bit one holds an extra base
 * entry first, so the same protocol has different ids in each, and a
 * chain copied from the wrong catalog names the wrong entry.
 *
 * Covered: install/verify/uninstall across both catalogs (layout checked
 * in each), every mutating call failing in either catalog (and the one
 * after it), the CLI over both (install, list, status, export to two
 * files, uninstall), and a table without the ...32 functions (32-bit
 * Windows, Wine): 64-bit catalog only, said once, exit codes as before,
 * including Wine's stubs (install 5, uninstall 0, status 0).
 */
#include "ctl_test.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include <peerlsp/peerlsp.h>

#include "ctl_winapi.h"

static const GUID peerlsp_guid = PEERLSP_GUID_INIT;
static const GUID guid_dummy = { 0x5a5a0032, 0x3232, 0x3232, { 3, 2, 3, 2, 3, 2, 3, 2 } };

/* ---- the simulated WSC functions ---------------------------------------- */

enum { C64, C32 };

static struct {
    struct simcat *cat[2];
    int calls[2];          /* mutating calls so far, per catalog */
    int fail_a[2], fail_b[2]; /* the mutating call numbers that fail (0: none) */
} sim;

static const int injected_error = WSANO_RECOVERY;

/* Counts a mutating call in catalog c; 1 when it is to fail. */
static int take(int c, LPINT lpErrno)
{
    sim.calls[c]++;
    if (sim.calls[c] == sim.fail_a[c] || sim.calls[c] == sim.fail_b[c]) {
        *lpErrno = injected_error;
        return 1;
    }
    return 0;
}

#define SIM_SET(C, SFX)                                                                        \
    static int WSPAPI enum_##SFX(LPINT p, LPWSAPROTOCOL_INFOW buf, LPDWORD len, LPINT err)    \
    {                                                                                          \
        return simcat_enum(sim.cat[C], p, buf, len, err);                                      \
    }                                                                                          \
    static int WSPAPI path_##SFX(LPGUID g, WCHAR *p, LPINT len, LPINT err)                    \
    {                                                                                          \
        return simcat_get_path(sim.cat[C], g, p, len, err);                                    \
    }                                                                                          \
    static int WSPAPI deinstall_##SFX(LPGUID g, LPINT err)                                     \
    {                                                                                          \
        return take(C, err) ? SOCKET_ERROR : simcat_deinstall(sim.cat[C], g, err);            \
    }                                                                                          \
    static int WSPAPI update_##SFX(LPGUID g, const WCHAR *p, const WSAPROTOCOL_INFOW *l,      \
                                   DWORD n, LPINT err)                                         \
    {                                                                                          \
        return take(C, err) ? SOCKET_ERROR : simcat_update(sim.cat[C], g, p, l, n, err);      \
    }                                                                                          \
    static int WSPAPI order_##SFX(LPDWORD ids, DWORD n)                                       \
    {                                                                                          \
        int err = 0;                                                                           \
        return take(C, &err) ? err : simcat_write_order(sim.cat[C], ids, n);                  \
    }                                                                                          \
    static int WSPAPI getinfo_##SFX(LPGUID g, WSC_PROVIDER_INFO_TYPE t, PBYTE i, size_t *s,   \
                                    DWORD f, LPINT err)                                        \
    {                                                                                          \
        return simcat_get_provider_info(sim.cat[C], g, t, i, s, f, err);                      \
    }                                                                                          \
    static int WSPAPI setinfo_##SFX(LPGUID g, WSC_PROVIDER_INFO_TYPE t, PBYTE i, size_t s,    \
                                    DWORD f, LPINT err)                                        \
    {                                                                                          \
        return take(C, err) ? SOCKET_ERROR                                                     \
                            : simcat_set_provider_info(sim.cat[C], g, t, i, s, f, err);       \
    }

SIM_SET(C64, 64)
SIM_SET(C32, 32)

static int WSPAPI install_64(LPGUID g, const WCHAR *p, const WSAPROTOCOL_INFOW *l, DWORD n,
                             LPINT err)
{
    return take(C64, err) ? SOCKET_ERROR : simcat_install(sim.cat[C64], g, p, l, n, NULL, err);
}

/* WSCInstallProvider64_32: the 64-bit half, then the 32-bit half; each
 * counts as a mutating call of its catalog. */
static int WSPAPI install_64_32(LPGUID g, const WCHAR *p, const WSAPROTOCOL_INFOW *l, DWORD n,
                                LPINT err)
{
    if (take(C64, err) || simcat_install(sim.cat[C64], g, p, l, n, NULL, err))
        return SOCKET_ERROR;
    if (take(C32, err) || simcat_install(sim.cat[C32], g, p, l, n, NULL, err))
        return SOCKET_ERROR;
    return 0;
}

#define NATIVE_SET                                                                             \
    {                                                                                          \
        enum_64, path_64, install_64, deinstall_64, update_64, order_64, getinfo_64,          \
            setinfo_64, NULL, NULL                                                             \
    }

/* 64-bit Windows: both catalogs. */
static const struct ctl_winapi api_both = {
    .native = NATIVE_SET,
    .wow32 = { enum_32, path_32, NULL, deinstall_32, update_32, order_32, getinfo_32,
               setinfo_32, NULL, NULL },
    .install_provider64_32 = install_64_32,
};

/* 64-bit Windows where WSCInstallProvider64_32 is missing (Microsoft marks
 * it "no longer available"): both catalogs readable and changeable, but no
 * way for the x64 tool to install into the 32-bit one. */
static const struct ctl_winapi api_no6432 = {
    .native = NATIVE_SET,
    .wow32 = { enum_32, path_32, NULL, deinstall_32, update_32, order_32, getinfo_32,
               setinfo_32, NULL, NULL },
};

/* WSCInstallProviderAndChains over the 64-bit catalog. */
static int WSPAPI and_chains_64(LPGUID g, const LPWSTR p, const LPWSTR name, DWORD flags,
                                LPWSAPROTOCOL_INFOW l, DWORD n, LPDWORD lid, LPINT err)
{
    return take(C64, err) ? SOCKET_ERROR
                          : simcat_install_and_chains(sim.cat[C64], g, p, name, flags, l, n,
                                                      lid, err);
}

/* One catalog (32-bit Windows as the x86 tool sees it) with
 * WSCInstallProviderAndChains, as Windows has had since Vista. */
static const struct ctl_winapi api_and_chains = {
    .native = NATIVE_SET,
    .install_provider_and_chains = and_chains_64,
};

/* No ...32 function and no WSCInstallProvider64_32 (32-bit Windows as
 * seen by a 64-bit table, Wine's prefix). */
static const struct ctl_winapi api_no32 = { .native = NATIVE_SET };

/* Wine 8's catalog functions: install, deinstall and order return 0 and
 * do nothing, WSCUpdateProvider is masked (it raises), no provider info,
 * no ...32. */
static int WSPAPI wine_install(LPGUID g, const WCHAR *p, const WSAPROTOCOL_INFOW *l, DWORD n,
                               LPINT err)
{
    (void)g, (void)p, (void)l, (void)n, (void)err;
    return 0;
}
static int WSPAPI wine_deinstall(LPGUID g, LPINT err)
{
    (void)g, (void)err;
    return 0;
}
static int WSPAPI wine_order(LPDWORD ids, DWORD n)
{
    (void)ids, (void)n;
    return 0;
}
static const struct ctl_winapi api_wine = {
    .native = { enum_64, path_64, wine_install, wine_deinstall, NULL, wine_order, NULL, NULL,
                NULL, NULL },
};

/* ---- the DLLs where the MSI puts them ------------------------------------ */

/* The x64 DLL in System32 and the x86 one in SysWOW64 under the same name
 * (the Wine prefix's), so that one catalog path serves both catalogs as on
 * 64-bit Windows; the 32-bit catalog's programs load the SysWOW64 file. */
static WCHAR live_dll[MAX_PATH], live_dll_wow64[MAX_PATH], wow64_dir[MAX_PATH];
static int made_wow64_dir;
#define LIVE_DLL_NAME L"peerlsp-ctl-live-test.dll"

static int put_file(const WCHAR *from, const WCHAR *to)
{
    if (!from)
        return DeleteFileW(to) || GetLastError() == ERROR_FILE_NOT_FOUND;
    return CopyFileW(from, to, FALSE);
}

static void layout_dlls(const WCHAR *x64, const WCHAR *wow64)
{
    if (!put_file(x64, live_dll) || !put_file(wow64, live_dll_wow64))
        fail_msg("cannot lay out %ls / %ls: error %lu", live_dll, live_dll_wow64,
                 GetLastError());
}

static int setup_dlls(void **state)
{
    (void)state;
    WCHAR sys[MAX_PATH], wow[MAX_PATH];
    UINT ns = GetSystemDirectoryW(sys, MAX_PATH), nw = GetSystemWow64DirectoryW(wow, MAX_PATH);
    if (!ns || ns >= MAX_PATH || !nw || nw >= MAX_PATH) {
        print_message("no System32/SysWOW64 pair: error %lu\n", GetLastError());
        return -1;
    }
    /* The live backend logs its changes; not into the prefix's
     * %ProgramData% from a test. */
    WCHAR tmp[MAX_PATH];
    if (!GetTempPathW(MAX_PATH, tmp))
        return -1;
    swprintf(ctl_log_file, MAX_PATH, L"%lsctl-live-all-%lu.log", tmp,
             (unsigned long)GetCurrentProcessId());
    /* A Wine prefix without 32-bit Wine has no SysWOW64 until an MSI
     * puts something there; make it, and take it away again if empty. */
    made_wow64_dir = CreateDirectoryW(wow, NULL);
    wcscpy(wow64_dir, wow);
    swprintf(live_dll, MAX_PATH, L"%ls\\%ls", sys, LIVE_DLL_NAME);
    swprintf(live_dll_wow64, MAX_PATH, L"%ls\\%ls", wow, LIVE_DLL_NAME);
    if (!put_file(PEERLSP_TEST_LSP_DLL, live_dll) ||
        !put_file(PEERLSP_TEST_LSP_DLL32, live_dll_wow64)) {
        print_message("cannot copy the DLLs to %ls / %ls: error %lu\n", live_dll,
                      live_dll_wow64, GetLastError());
        return -1;
    }
    return 0;
}

static int teardown_dlls(void **state)
{
    (void)state;
    DeleteFileW(live_dll);
    DeleteFileW(live_dll_wow64);
    if (made_wow64_dir)
        RemoveDirectoryW(wow64_dir);
    DeleteFileW(ctl_log_file);
    return 0;
}

/* ---- catalogs and running the tool --------------------------------------- */

static struct simcat *start64, *start32;

/* The 32-bit catalog: an extra base entry first, then tbase. */
static struct simcat *catalog32(void)
{
    struct simcat *cat = simcat_create();
    assert_non_null(cat);
    WSAPROTOCOL_INFOW e;
    memset(&e, 0, sizeof e);
    e.dwServiceFlags1 = XP1_CONNECTIONLESS;
    e.iAddressFamily = AF_IPX;
    e.iSocketType = SOCK_DGRAM;
    e.iProtocol = 1000;
    e.iVersion = 2;
    e.ProtocolChain.ChainLen = BASE_PROTOCOL;
    wcscpy(e.szProtocol, L"32-bit only dummy");
    GUID g = guid_dummy;
    int err = 0;
    if (simcat_install(cat, &g, L"%SystemRoot%\\system32\\dummy32.dll", &e, 1, NULL, &err))
        fail_msg("simcat_install dummy: %d", err);
    err = host_catalog_add_base(cat, PEERLSP_TEST_BASE_DLL, NULL);
    if (err)
        fail_msg("host_catalog_add_base: %d", err);
    return cat;
}

static void sim_from(struct simcat *c64, struct simcat *c32)
{
    simcat_destroy(sim.cat[C64]);
    simcat_destroy(sim.cat[C32]);
    memset(&sim, 0, sizeof sim);
    sim.cat[C64] = simcat_clone(c64);
    sim.cat[C32] = simcat_clone(c32);
    assert_non_null(sim.cat[C64]);
    assert_non_null(sim.cat[C32]);
}

static char out[65536];

typedef int (*command_fn)(struct ctl_target *, int, const struct ctl_options *);

/* A command on the live backends made from `api`, paired as the CLI pairs
 * them; output captured. */
static int run_live(const struct ctl_winapi *api, command_fn fn, const struct ctl_options *o)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    ctl_out_stream = ctl_err_stream = f;
    ctl_winapi_override(api);
    struct ctl_target t[2];
    memset(t, 0, sizeof t);
    int n = 0;
    t[n].b = ctl_backend_live(64);
    assert_non_null(t[n].b);
    t[n].dll_path = live_dll;
    t[n++].check_exports = 1;
    struct ctl_backend *b32 = ctl_backend_live(32);
    if (b32) {
        t[n].b = b32;
        t[n++].dll_path = live_dll;
        ctl_backend_live_pair(t[0].b, b32);
    }
    int rc = fn(t, n, o);
    for (int i = 0; i < n; i++)
        ctl_backend_destroy(t[i].b);
    ctl_winapi_override(NULL);
    ctl_out_stream = ctl_err_stream = NULL;
    rewind(f);
    size_t got = fread(out, 1, sizeof out - 1, f);
    out[got] = 0;
    fclose(f);
    return rc;
}

/* The CLI in process (ctl_main) on the live backends made from `api`. */
static int run_cli(const struct ctl_winapi *api, const WCHAR *a1, const WCHAR *a2,
                   const WCHAR *a3, const WCHAR *a4)
{
    WCHAR *argv[6] = { (WCHAR *)L"peerlsp-ctl", (WCHAR *)a1, (WCHAR *)a2, (WCHAR *)a3,
                       (WCHAR *)a4, NULL };
    int argc = 1;
    while (argc < 5 && argv[argc])
        argc++;
    FILE *f = tmpfile();
    assert_non_null(f);
    ctl_out_stream = ctl_err_stream = f;
    ctl_winapi_override(api);
    int rc = ctl_main(argc, argv);
    ctl_winapi_override(NULL);
    ctl_out_stream = ctl_err_stream = NULL;
    rewind(f);
    size_t got = fread(out, 1, sizeof out - 1, f);
    out[got] = 0;
    fclose(f);
    return rc;
}

#define expect_rc(call, want) CTLT_EXPECT_RC(call, want, out)

#define expect_out(text) CTLT_EXPECT_OUT(text, out)

static int count_of(const char *text)
{
    int n = 0;
    for (const char *p = strstr(out, text); p; p = strstr(p + 1, text))
        n++;
    return n;
}

/* Every peerlsp chain in `cat` layered over an entry of `cat` for the same
 * protocol; returns the number of chains. */
static DWORD check_chains(struct simcat *cat, const char *which)
{
    DWORD lid = ctlt_layered_id(cat, &peerlsp_guid), ids[8];
    if (!lid)
        fail_msg("%s: no layered entry\n%s", which, out);
    DWORD n = ctlt_chain_ids(cat, lid, ids, 8);
    for (DWORD i = 0; i < n; i++) {
        WSAPROTOCOL_INFOW c = ctlt_entry(cat, ids[i]);
        WSAPROTOCOL_INFOW b = ctlt_entry(cat, c.ProtocolChain.ChainEntries[1]);
        if (b.ProtocolChain.ChainLen != BASE_PROTOCOL || b.iAddressFamily != c.iAddressFamily ||
            b.iSocketType != c.iSocketType || b.iProtocol != c.iProtocol ||
            !IsEqualGUID(&c.ProviderId, &peerlsp_guid))
            fail_msg("%s: chain %lu (af %d type %d) over entry %lu (len %d af %d type %d)", which,
                     (unsigned long)ids[i], c.iAddressFamily, c.iSocketType,
                     (unsigned long)b.dwCatalogEntryId, b.ProtocolChain.ChainLen,
                     b.iAddressFamily, b.iSocketType);
    }
    return n;
}

static void setup_starts(void)
{
    if (!start64) {
        start64 = ctlt_base_catalog();
        start32 = catalog32();
    }
    sim_from(start64, start32);
}

/* ---- install, verify, uninstall across both catalogs ------------------- */

static void test_both_catalogs(void **state)
{
    (void)state;
    setup_starts();
    struct ctl_options o = ctlt_opts();
    o.verbose = 1;
    expect_rc(run_live(&api_both, ctl_install, &o), CTL_EXIT_OK);
    static const char *const calls[] = {
        "64-bit catalog: WSCInstallProvider64_32", "64-bit catalog: WSCUpdateProvider ",
        "64-bit catalog: WSCWriteProviderOrder ",  "64-bit catalog: WSCSetProviderInfo ",
        "32-bit catalog: WSCUpdateProvider32",     "32-bit catalog: WSCWriteProviderOrder32",
        "32-bit catalog: WSCSetProviderInfo32",
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
        expect_out(calls[i]);
    expect_out("32-bit catalog: peerlsp installed");
    if (strstr(out, "x86"))
        fail_msg("install still sends the user to the x86 tool:\n%s", out);
    /* One install call for both, then per catalog the three fix-ups. */
    if (sim.calls[C64] != 4 || sim.calls[C32] != 4)
        fail_msg("mutating calls: 64-bit %d, 32-bit %d; expected 4 and 4", sim.calls[C64],
                 sim.calls[C32]);
    assert_int_equal(check_chains(sim.cat[C64], "64-bit"), 4);
    assert_int_equal(check_chains(sim.cat[C32], "32-bit"), 4);
    /* The ids differ between the catalogs: the 32-bit chains are its own. */
    DWORD c64[4], c32[4];
    ctlt_chain_ids(sim.cat[C64], ctlt_layered_id(sim.cat[C64], &peerlsp_guid), c64, 4);
    ctlt_chain_ids(sim.cat[C32], ctlt_layered_id(sim.cat[C32], &peerlsp_guid), c32, 4);
    WSAPROTOCOL_INFOW e64 = ctlt_entry(sim.cat[C64], c64[0]),
                      e32 = ctlt_entry(sim.cat[C32], c32[0]);
    if (e64.ProtocolChain.ChainEntries[1] == e32.ProtocolChain.ChainEntries[1])
        fail_msg("both catalogs' first chains over entry %lu: the 32-bit ids were not used",
                 (unsigned long)e32.ProtocolChain.ChainEntries[1]);
    for (int c = 0; c < 2; c++) {
        DWORD cats = 0xdeadbeef;
        size_t cs = sizeof cats;
        int err = 0;
        GUID g = peerlsp_guid;
        WCHAR path[MAX_PATH];
        int plen = MAX_PATH;
        assert_int_equal(simcat_get_provider_info(sim.cat[c], &g, ProviderInfoLspCategories,
                                                  (PBYTE)&cats, &cs, 0, &err),
                         0);
        if (cats != CTL_DEFAULT_CATEGORIES)
            fail_msg("catalog %d: categories 0x%08lx, expected 0x%08lx", c, (unsigned long)cats,
                     (unsigned long)CTL_DEFAULT_CATEGORIES);
        assert_int_equal(simcat_get_path(sim.cat[c], &g, path, &plen, &err), 0);
        WCHAR stored[MAX_PATH];
        ctl_dll_catalog_path(live_dll, stored);
        if (wcscmp(path, stored))
            fail_msg("catalog %d: path %ls, expected %ls", c, path, stored);
    }
    o.verbose = 0;
    expect_rc(run_live(&api_both, ctl_verify, &o), CTL_EXIT_OK);
    expect_out("64-bit catalog: OK");
    expect_out("32-bit catalog: OK");
    expect_rc(run_live(&api_both, ctl_status, &o), CTL_EXIT_OK);
    expect_out("Status: healthy (installed and consistent)");

    /* Again: nothing to do, nothing changes. */
    struct simcat *i64 = simcat_clone(sim.cat[C64]), *i32 = simcat_clone(sim.cat[C32]);
    expect_rc(run_live(&api_both, ctl_install, &o), CTL_EXIT_OK);
    expect_out("already installed");
    ctlt_assert_equal(sim.cat[C64], i64, "64-bit, second install");
    ctlt_assert_equal(sim.cat[C32], i32, "32-bit, second install");

    /* A dry run of uninstall changes nothing and names the ...32 call. */
    o.dry_run = 1;
    expect_rc(run_live(&api_both, ctl_uninstall, &o), CTL_EXIT_OK);
    expect_out("WSCDeinstallProvider32");
    ctlt_assert_equal(sim.cat[C32], i32, "32-bit, dry-run uninstall");
    o.dry_run = 0;

    expect_rc(run_live(&api_both, ctl_uninstall, &o), CTL_EXIT_OK);
    ctlt_assert_equal(sim.cat[C64], start64, "64-bit after uninstall");
    ctlt_assert_equal(sim.cat[C32], start32, "32-bit after uninstall");
    expect_rc(run_live(&api_both, ctl_verify, &o), CTL_EXIT_PROBLEMS);
    expect_rc(run_live(&api_both, ctl_status, &o), CTL_EXIT_OK);

    /* A dry run of install: the same calls, on copies. */
    o.dry_run = 1;
    expect_rc(run_live(&api_both, ctl_install, &o), CTL_EXIT_OK);
    expect_out("WSCInstallProvider64_32");
    expect_out("WSCUpdateProvider32");
    expect_out("Dry run: nothing was changed");
    ctlt_assert_equal(sim.cat[C64], start64, "64-bit after dry-run install");
    ctlt_assert_equal(sim.cat[C32], start32, "32-bit after dry-run install");
    simcat_destroy(i64);
    simcat_destroy(i32);
}

/* Installed in the 64-bit catalog only (an older tool): the 32-bit one
 * cannot be installed into alone. */
static void test_half_installed(void **state)
{
    (void)state;
    setup_starts();
    struct ctl_options o = ctlt_opts();
    expect_rc(run_live(&api_no32, ctl_install, &o), CTL_EXIT_OK);
    struct simcat *s64 = simcat_clone(sim.cat[C64]);
    expect_rc(run_live(&api_both, ctl_install, &o), CTL_EXIT_PROBLEMS);
    expect_out("run 'peerlsp-ctl uninstall', then install again");
    ctlt_assert_equal(sim.cat[C64], s64, "64-bit, refused install");
    ctlt_assert_equal(sim.cat[C32], start32, "32-bit, refused install");
    expect_rc(run_live(&api_both, ctl_status, &o), CTL_EXIT_PROBLEMS);
    expect_out("installed in some catalogs only");
    expect_out("run peerlsp-ctl uninstall, then peerlsp-ctl install");
    expect_rc(run_live(&api_both, ctl_uninstall, &o), CTL_EXIT_OK);
    expect_rc(run_live(&api_both, ctl_install, &o), CTL_EXIT_OK);
    assert_int_equal(check_chains(sim.cat[C32], "32-bit"), 4);
    simcat_destroy(s64);
}

/* ---- fault injection across both catalogs ------------------------------ */

/* For each catalog and k = 1, 2, ...: the k-th mutating call in that
 * catalog fails (and, with `and_next`, the (k+1)-th as well, which is
 * usually the rollback's first). Until the command gets through: exit 6
 * and both catalogs as before, except where `renumbered` says the row
 * may only come back with new ids. Returns the calls per catalog. */
static void fault_matrix(command_fn cmd, struct simcat *from64, struct simcat *from32,
                         const char *what, const int expect_calls[2],
                         int (*renumbered)(int cat, int k))
{
    for (int c = 0; c < 2; c++) {
        for (int and_next = 0; and_next < 2; and_next++) {
            int calls = -1;
            for (int k = 1; k <= 12 && calls < 0; k++) {
                sim_from(from64, from32);
                sim.fail_a[c] = k;
                sim.fail_b[c] = and_next ? k + 1 : 0;
                struct ctl_options o = ctlt_opts();
                int rc = run_live(&api_both, cmd, &o);
                if (rc == CTL_EXIT_OK && sim.calls[c] < k) {
                    calls = k - 1;
                    continue;
                }
                char row[128];
                snprintf(row, sizeof row, "%s, %s call %d%s failing", what,
                         c == C64 ? "64-bit" : "32-bit", k, and_next ? " and the next" : "");
                if (rc != CTL_EXIT_CALL_FAILED)
                    fail_msg("%s: exit %d, expected %d\n%s", row, rc, CTL_EXIT_CALL_FAILED, out);
                if (!strstr(out, "failed with error 11003"))
                    fail_msg("%s: the failing call is not named:\n%s", row, out);
                if (renumbered && renumbered(c, k)) {
                    if (!ctlt_same_but_ids(sim.cat[C64], from64) ||
                        !ctlt_same_but_ids(sim.cat[C32], from32))
                        fail_msg("%s: not as before (up to new ids)\n%s", row, out);
                    if (!strstr(out, "came back with new catalog ids"))
                        fail_msg("%s: the new ids are not reported:\n%s", row, out);
                } else {
                    ctlt_assert_equal(sim.cat[C64], from64, row);
                    ctlt_assert_equal(sim.cat[C32], from32, row);
                }
                if (strstr(out, "ROLLBACK INCOMPLETE"))
                    fail_msg("%s: rollback incomplete\n%s", row, out);
            }
            if (calls != expect_calls[c])
                fail_msg("%s: %d mutating calls in the %s catalog, expected %d", what, calls,
                         c == C64 ? "64-bit" : "32-bit", expect_calls[c]);
        }
    }
}

static void test_install_fault_matrix(void **state)
{
    (void)state;
    setup_starts();
    /* 64-bit: WSCInstallProvider64_32 (its 64-bit half), WSCUpdateProvider,
     * WSCWriteProviderOrder, WSCSetProviderInfo; 32-bit: the 32-bit half,
     * WSCUpdateProvider32, WSCWriteProviderOrder32, WSCSetProviderInfo32. */
    static const int calls[2] = { 4, 4 };
    fault_matrix(ctl_install, start64, start32, "install", calls, NULL);
}

/* uninstall removes peerlsp from the 64-bit catalog, then from the 32-bit
 * one. When the 32-bit removal fails, the 64-bit catalog has to get
 * peerlsp back by installing it again: same entries, same places, new
 * ids (Windows never reuses one). Every other row comes back identical. */
static int uninstall_renumbers(int cat, int k)
{
    return cat == C32 && k == 1;
}

static void test_uninstall_fault_matrix(void **state)
{
    (void)state;
    setup_starts();
    struct ctl_options o = ctlt_opts();
    expect_rc(run_live(&api_both, ctl_install, &o), CTL_EXIT_OK);
    struct simcat *i64 = simcat_clone(sim.cat[C64]), *i32 = simcat_clone(sim.cat[C32]);
    static const int calls[2] = { 1, 1 };
    fault_matrix(ctl_uninstall, i64, i32, "uninstall", calls, uninstall_renumbers);
    /* The renumbered row is consistent: verify passes, uninstall works. */
    sim_from(i64, i32);
    sim.fail_a[C32] = 1;
    expect_rc(run_live(&api_both, ctl_uninstall, &o), CTL_EXIT_CALL_FAILED);
    memset(sim.fail_a, 0, sizeof sim.fail_a);
    expect_rc(run_live(&api_both, ctl_verify, &o), CTL_EXIT_OK);
    expect_rc(run_live(&api_both, ctl_uninstall, &o), CTL_EXIT_OK);
    ctlt_assert_equal(sim.cat[C64], start64, "64-bit after the renumbered row's uninstall");
    ctlt_assert_equal(sim.cat[C32], start32, "32-bit after the renumbered row's uninstall");
    simcat_destroy(i64);
    simcat_destroy(i32);
}

/* repair with peerlsp broken in the 32-bit catalog only (its base gone). */
static void test_repair_fault_matrix(void **state)
{
    (void)state;
    setup_starts();
    struct ctl_options o = ctlt_opts();
    expect_rc(run_live(&api_both, ctl_install, &o), CTL_EXIT_OK);
    WSAPROTOCOL_INFOW e[32];
    DWORD size = sizeof e;
    int err = 0, n = simcat_enum(sim.cat[C32], NULL, e, &size, &err);
    for (int i = 0; i < n; i++) {
        if (e[i].ProtocolChain.ChainLen == BASE_PROTOCOL && e[i].iAddressFamily == AF_INET) {
            GUID g = e[i].ProviderId;
            assert_int_equal(simcat_deinstall(sim.cat[C32], &g, &err), 0);
            break;
        }
    }
    struct simcat *b64 = simcat_clone(sim.cat[C64]), *b32 = simcat_clone(sim.cat[C32]);
    expect_rc(run_live(&api_both, ctl_verify, &o), CTL_EXIT_PROBLEMS);
    expect_out("32-bit catalog: entry");
    static const int calls[2] = { 0, 1 };
    fault_matrix(ctl_repair, b64, b32, "repair", calls, NULL);
    simcat_destroy(b64);
    simcat_destroy(b32);
}

/* ---- the command line over both live catalogs ------------------------- */

static void test_cli_both(void **state)
{
    (void)state;
    setup_starts();
    expect_rc(run_cli(&api_both, L"install", L"--dll", live_dll, NULL), 0);
    expect_out("64-bit catalog: peerlsp installed");
    expect_out("32-bit catalog: peerlsp installed");
    if (strstr(out, "x86") || strstr(out, "no separate 32-bit"))
        fail_msg("install output:\n%s", out);
    expect_rc(run_cli(&api_both, L"verify", NULL, NULL, NULL), 0);
    expect_rc(run_cli(&api_both, L"list", NULL, NULL, NULL), 0);
    expect_out("32-bit catalog");
    expect_out("dummy");
    expect_rc(run_cli(&api_both, L"status", NULL, NULL, NULL), 0);
    expect_out("32-bit catalog: peerlsp is installed");
    expect_out("Status: healthy (installed and consistent)");

    WCHAR dir[MAX_PATH], file[MAX_PATH], file32[MAX_PATH];
    assert_true(GetTempPathW(MAX_PATH, dir) > 0);
    swprintf(file, MAX_PATH, L"%lsctl-live-%lu.txt", dir, (unsigned long)GetCurrentProcessId());
    swprintf(file32, MAX_PATH, L"%lsctl-live-%lu-32.txt", dir,
             (unsigned long)GetCurrentProcessId());
    expect_rc(run_cli(&api_both, L"export", file, NULL, NULL), 0);
    struct simcat *l64 = NULL, *l32 = NULL;
    int err = simcat_load(file, &l64);
    if (err)
        fail_msg("%ls: %d\n%s", file, err, out);
    err = simcat_load(file32, &l32);
    if (err)
        fail_msg("%ls (the 32-bit catalog's file): %d\n%s", file32, err, out);
    ctlt_assert_equal(l64, sim.cat[C64], "export of the 64-bit catalog");
    ctlt_assert_equal(l32, sim.cat[C32], "export of the 32-bit catalog");
    DeleteFileW(file);
    DeleteFileW(file32);
    simcat_destroy(l64);
    simcat_destroy(l32);

    expect_rc(run_cli(&api_both, L"uninstall", NULL, NULL, NULL), 0);
    ctlt_assert_equal(sim.cat[C64], start64, "64-bit after CLI uninstall");
    ctlt_assert_equal(sim.cat[C32], start32, "32-bit after CLI uninstall");
}

/* Issue 11, item 7: without WSCInstallProvider64_32 install never
 * succeeds half-way: it refuses and changes nothing, naming the x86 tool,
 * unless told that the x86 tool does the 32-bit catalog (what the MSI
 * does: its next action runs the x86 tool). */
static void test_no_install64_32(void **state)
{
    (void)state;
    setup_starts();
    int rc = run_cli(&api_no6432, L"install", L"--dll", live_dll, NULL);
    if (rc != CTL_EXIT_MISSING_FUNCTION)
        fail_msg("install without WSCInstallProvider64_32: exit %d, expected %d\n%s", rc,
                 CTL_EXIT_MISSING_FUNCTION, out);
    expect_out("WSCInstallProvider64_32");
    expect_out("x86\\peerlsp-ctl.exe install");
    expect_out("Nothing was changed");
    ctlt_assert_equal(sim.cat[C64], start64, "64-bit catalog after a refused install");
    ctlt_assert_equal(sim.cat[C32], start32, "32-bit catalog after a refused install");

    expect_rc(run_cli(&api_no6432, L"install", L"--dll", live_dll, L"--32bit-by-x86-tool"), 0);
    expect_out("64-bit catalog: peerlsp installed");
    expect_out("the x86 tool");
    assert_int_not_equal(ctlt_layered_id(sim.cat[C64], &peerlsp_guid), 0);
    ctlt_assert_equal(sim.cat[C32], start32, "32-bit catalog left to the x86 tool");
    /* status says what is missing until the x86 tool has run. */
    expect_rc(run_cli(&api_no6432, L"status", NULL, NULL, NULL), CTL_EXIT_PROBLEMS);
    /* uninstall covers both catalogs (the ...32 removal functions exist). */
    expect_rc(run_cli(&api_no6432, L"uninstall", NULL, NULL, NULL), 0);
    ctlt_assert_equal(sim.cat[C64], start64, "64-bit after uninstall");
}

/* ---- without the ...32 functions --------------------------------------- */

static const char note[] = "no separate 32-bit Winsock catalog";

static void test_no_32bit_functions(void **state)
{
    (void)state;
    setup_starts();
    static const struct {
        const WCHAR *a1, *a2, *a3;
        int rc;
    } rows[] = {
        { L"status", NULL, NULL, 0 },
        { L"install", L"--dll", live_dll, 0 },
        { L"verify", NULL, NULL, 0 },
        { L"list", NULL, NULL, 0 },
        { L"status", NULL, NULL, 0 },
        { L"uninstall", NULL, NULL, 0 },
        { L"uninstall", NULL, NULL, 0 },
        { L"verify", NULL, NULL, CTL_EXIT_PROBLEMS },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int rc = run_cli(&api_no32, rows[i].a1, rows[i].a2, rows[i].a3, NULL);
        if (rc != rows[i].rc)
            fail_msg("row %zu (%ls): exit %d, expected %d\n%s", i, rows[i].a1, rc, rows[i].rc,
                     out);
        if (count_of(note) != 1)
            fail_msg("row %zu (%ls): the note appears %d times:\n%s", i, rows[i].a1,
                     count_of(note), out);
        if (strstr(out, "32-bit catalog:"))
            fail_msg("row %zu (%ls): a 32-bit catalog was used:\n%s", i, rows[i].a1, out);
        if (i == 1)
            expect_out("64-bit catalog: peerlsp installed");
        ctlt_assert_equal(sim.cat[C32], start32, "32-bit catalog never touched");
    }
    ctlt_assert_equal(sim.cat[C64], start64, "64-bit after install and uninstall");

    /* Wine's stubs behind the same rule: install 5, uninstall 0, status 0,
     * verify 2, as the tool has always answered under Wine. */
    static const struct {
        const WCHAR *a1, *a2, *a3;
        int rc;
        const char *says;
    } wine[] = {
        { L"install", L"--dll", live_dll, CTL_EXIT_NO_EFFECT, "did not change" },
        { L"uninstall", NULL, NULL, 0, "not installed; nothing to do" },
        { L"status", NULL, NULL, 0, "Status: healthy (not installed" },
        { L"verify", NULL, NULL, CTL_EXIT_PROBLEMS, "not installed" },
    };
    for (size_t i = 0; i < sizeof wine / sizeof wine[0]; i++) {
        int rc = run_cli(&api_wine, wine[i].a1, wine[i].a2, wine[i].a3, NULL);
        if (rc != wine[i].rc)
            fail_msg("Wine row %zu (%ls): exit %d, expected %d\n%s", i, wine[i].a1, rc,
                     wine[i].rc, out);
        if (!strstr(out, wine[i].says))
            fail_msg("Wine row %zu (%ls): output lacks \"%s\":\n%s", i, wine[i].a1,
                     wine[i].says, out);
        if (count_of(note) != 1)
            fail_msg("Wine row %zu (%ls): the note appears %d times:\n%s", i, wine[i].a1,
                     count_of(note), out);
    }
    ctlt_assert_equal(sim.cat[C64], start64, "64-bit after Wine's stubs");
}

/* Issue 11, item 6: the 32-bit catalog's DLL is checked where its
 * programs find it (SysWOW64, not through this process's view of
 * System32) and for its machine type: install refuses, verify and status
 * report, instead of OK while every 32-bit Winsock program fails. */
static void test_32bit_dll_checked(void **state)
{
    (void)state;
    setup_starts();
    struct ctl_options o = ctlt_opts();
    static const struct {
        const char *row;
        int x86_there; /* SysWOW64 holds: 1 the x86 DLL, 0 nothing, -1 the x64 DLL */
        const char *says;
    } rows[] = {
        { "no SysWOW64 copy", 0, "does not exist" },
        { "an x64 DLL in SysWOW64", -1, "built for x64" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        layout_dlls(PEERLSP_TEST_LSP_DLL,
                    rows[i].x86_there < 0 ? PEERLSP_TEST_LSP_DLL : NULL);
        int rc = run_live(&api_both, ctl_install, &o);
        if (rc != CTL_EXIT_BAD_DLL)
            fail_msg("%s: install exit %d, expected %d\n%s", rows[i].row, rc, CTL_EXIT_BAD_DLL,
                     out);
        expect_out("32-bit catalog: its programs would load");
        expect_out(rows[i].says);
        ctlt_assert_equal(sim.cat[C64], start64, rows[i].row);
        ctlt_assert_equal(sim.cat[C32], start32, rows[i].row);
    }
    layout_dlls(PEERLSP_TEST_LSP_DLL, PEERLSP_TEST_LSP_DLL32);
    expect_rc(run_live(&api_both, ctl_install, &o), CTL_EXIT_OK);
    expect_rc(run_live(&api_both, ctl_verify, &o), CTL_EXIT_OK);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        layout_dlls(PEERLSP_TEST_LSP_DLL,
                    rows[i].x86_there < 0 ? PEERLSP_TEST_LSP_DLL : NULL);
        int rc = run_live(&api_both, ctl_verify, &o);
        if (rc != CTL_EXIT_PROBLEMS)
            fail_msg("%s: verify exit %d, expected %d\n%s", rows[i].row, rc, CTL_EXIT_PROBLEMS,
                     out);
        expect_out("64-bit catalog: OK");
        expect_out("32-bit catalog: DLL");
        expect_out(rows[i].says);
        rc = run_live(&api_both, ctl_status, &o);
        if (rc != CTL_EXIT_PROBLEMS)
            fail_msg("%s: status exit %d, expected %d\n%s", rows[i].row, rc, CTL_EXIT_PROBLEMS,
                     out);
        expect_out(rows[i].says);
    }
    layout_dlls(PEERLSP_TEST_LSP_DLL, PEERLSP_TEST_LSP_DLL32);
}

/* Issue 11, item 4: where ws2_32 exports WSCInstallProviderAndChains the
 * live backend installs with it (one call: layered entry and chains,
 * first), then sets the categories; the result verifies and uninstalls
 * back to the catalog before. */
static void test_install_and_chains(void **state)
{
    (void)state;
    setup_starts();
    ctl_winapi_override(&api_and_chains);
    struct ctl_backend *b = ctl_backend_live(64);
    ctl_winapi_override(NULL);
    assert_non_null(b);
    assert_non_null(b->install_and_chains);
    ctl_backend_destroy(b);
    expect_rc(run_cli(&api_and_chains, L"--verbose", L"install", L"--dll", live_dll), 0);
    expect_out("64-bit catalog: WSCInstallProviderAndChains");
    expect_out("64-bit catalog: WSCSetProviderInfo");
    if (strstr(out, "catalog: WSCUpdateProvider") || strstr(out, "catalog: WSCWriteProviderOrder"))
        fail_msg("two-step calls made although WSCInstallProviderAndChains exists:\n%s", out);
    if (sim.calls[C64] != 2)
        fail_msg("mutating calls: %d, expected 2", sim.calls[C64]);
    assert_int_equal(check_chains(sim.cat[C64], "64-bit"), 4);
    expect_rc(run_cli(&api_and_chains, L"verify", NULL, NULL, NULL), 0);
    expect_rc(run_cli(&api_and_chains, L"uninstall", NULL, NULL, NULL), 0);
    ctlt_assert_equal(sim.cat[C64], start64, "after uninstall");
    ctlt_assert_equal(sim.cat[C32], start32, "32-bit never touched");
}

/* Issue 11, item 13: every change to the system's catalogs is appended to
 * the change log (here a scratch file in place of
 * %ProgramData%\peerlsp\peerlsp-ctl.log): time, command line, each
 * catalog's entries before and after, the result. */
static char *read_all(const WCHAR *file)
{
    static char text[1 << 20];
    FILE *f = _wfopen(file, L"rb");
    if (!f)
        return NULL;
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    return text;
}

static void test_change_log(void **state)
{
    (void)state;
    setup_starts();
    WCHAR dir[MAX_PATH], group_log[MAX_PATH];
    wcscpy(group_log, ctl_log_file);
    assert_true(GetTempPathW(MAX_PATH, dir) > 0);
    swprintf(ctl_log_file, MAX_PATH, L"%lsctl-live-%lu.log", dir,
             (unsigned long)GetCurrentProcessId());
    DeleteFileW(ctl_log_file);
    expect_rc(run_cli(&api_both, L"install", L"--dll", live_dll, NULL), 0);
    sim.fail_a[C32] = sim.calls[C32] + 1; /* the uninstall's 32-bit removal fails */
    expect_rc(run_cli(&api_both, L"uninstall", NULL, NULL, NULL), CTL_EXIT_CALL_FAILED);
    expect_rc(run_cli(&api_both, L"status", NULL, NULL, NULL), 0); /* reads: no entry */
    char *log = read_all(ctl_log_file);
    if (!log)
        fail_msg("no change log at %ls", ctl_log_file);
    static const char *const want[] = {
        "=== ", "peerlsp-ctl install --dll ", "64-bit catalog: before (", "64-bit catalog: after (",
        "32-bit catalog: before (", "32-bit catalog: after (", "\"peerlsp over ",
        "result: exit 0 (changed as planned)", "peerlsp-ctl uninstall", "result: exit 6",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!strstr(log, want[i]))
            fail_msg("the change log lacks \"%s\":\n%s", want[i], log);
    }
    int entries = 0;
    for (const char *p = log; (p = strstr(p, "=== ")); p += 4)
        entries++;
    if (entries != 2)
        fail_msg("%d log entries, expected 2 (status changes nothing):\n%s", entries, log);
    DeleteFileW(ctl_log_file);
    wcscpy(ctl_log_file, group_log);
}

/* The command line's remaining paths over both live catalogs: install's
 * options (--over-base, --categories, --dll32) reaching the catalogs,
 * repair, list on a broken catalog (exit 2), export to two named files, to
 * a directory that does not exist (exit 6, nothing written) and with a
 * name too long to derive the 32-bit file's (exit 1), and a table without
 * WSCEnumProtocols (exit 4). */
static void test_cli_paths(void **state)
{
    (void)state;
    setup_starts();
    expect_rc(run_cli(&api_both, L"install", L"--dll", live_dll, L"--over-base"), 0);
    expect_rc(run_cli(&api_both, L"uninstall", NULL, NULL, NULL), 0);
    WCHAR *argv[] = { (WCHAR *)L"peerlsp-ctl", (WCHAR *)L"install", (WCHAR *)L"--dll", live_dll,
                      (WCHAR *)L"--dll32", live_dll, (WCHAR *)L"--categories", (WCHAR *)L"20" };
    FILE *f = tmpfile();
    assert_non_null(f);
    ctl_out_stream = ctl_err_stream = f;
    ctl_winapi_override(&api_both);
    int rc = ctl_main(8, argv);
    ctl_winapi_override(NULL);
    ctl_out_stream = ctl_err_stream = NULL;
    rewind(f);
    out[fread(out, 1, sizeof out - 1, f)] = 0;
    fclose(f);
    if (rc)
        fail_msg("install --dll32 --categories 20: exit %d\n%s", rc, out);
    for (int c = 0; c < 2; c++) {
        DWORD cats = 0xdeadbeef;
        size_t cs = sizeof cats;
        int err = 0;
        GUID g = peerlsp_guid;
        assert_int_equal(simcat_get_provider_info(sim.cat[c], &g, ProviderInfoLspCategories,
                                                  (PBYTE)&cats, &cs, 0, &err),
                         0);
        assert_int_equal(cats, 0x20);
    }

    /* The 32-bit catalog's base under a chain goes: list says so (exit 2),
     * repair removes peerlsp's broken chain there. */
    WSAPROTOCOL_INFOW e[32];
    DWORD size = sizeof e;
    int err = 0, n = simcat_enum(sim.cat[C32], NULL, e, &size, &err);
    for (int i = 0; i < n; i++) {
        if (e[i].ProtocolChain.ChainLen == BASE_PROTOCOL && e[i].iAddressFamily == AF_INET6 &&
            e[i].iSocketType == SOCK_DGRAM) {
            WSAPROTOCOL_INFOW gone = e[i];
            GUID g = gone.ProviderId;
            /* tbase's GUID holds all four: remove it and put back three. */
            assert_int_equal(simcat_deinstall(sim.cat[C32], &g, &err), 0);
            for (int j = 0; j < n; j++) {
                if (IsEqualGUID(&e[j].ProviderId, &g) &&
                    e[j].dwCatalogEntryId != gone.dwCatalogEntryId)
                    assert_int_equal(simcat_add_entry(sim.cat[C32], &e[j], PEERLSP_TEST_BASE_DLL,
                                                      0),
                                     0);
            }
            break;
        }
    }
    expect_rc(run_cli(&api_both, L"list", NULL, NULL, NULL), CTL_EXIT_PROBLEMS);
    expect_out("BROKEN: ");
    expect_out("broken chain(s): 'peerlsp-ctl repair' removes peerlsp's own");
    /* repair takes peerlsp out of the catalog where it is broken (install
     * is the next step), and leaves the other alone. */
    expect_rc(run_cli(&api_both, L"repair", NULL, NULL, NULL), 0);
    expect_rc(run_cli(&api_both, L"verify", NULL, NULL, NULL), CTL_EXIT_PROBLEMS);
    expect_out("64-bit catalog: OK");
    expect_out("32-bit catalog: peerlsp is not installed");
    if (strstr(out, "32-bit catalog: entry"))
        fail_msg("repair left a broken entry:\n%s", out);
    assert_int_equal(ctlt_layered_id(sim.cat[C32], &peerlsp_guid), 0);
    assert_int_equal(check_chains(sim.cat[C64], "64-bit"), 4);

    WCHAR dir[MAX_PATH], file[MAX_PATH], file32[MAX_PATH];
    assert_true(GetTempPathW(MAX_PATH, dir) > 0);
    swprintf(file, MAX_PATH, L"%lsctl-paths-%lu-a.txt", dir, (unsigned long)GetCurrentProcessId());
    swprintf(file32, MAX_PATH, L"%lsctl-paths-%lu-b.txt", dir,
             (unsigned long)GetCurrentProcessId());
    expect_rc(run_cli(&api_both, L"export", file, file32, NULL), 0);
    struct simcat *l64 = NULL, *l32 = NULL;
    assert_int_equal(simcat_load(file, &l64), 0);
    assert_int_equal(simcat_load(file32, &l32), 0);
    ctlt_assert_equal(l64, sim.cat[C64], "export of the 64-bit catalog");
    ctlt_assert_equal(l32, sim.cat[C32], "export of the 32-bit catalog (named)");
    simcat_destroy(l64);
    simcat_destroy(l32);
    DeleteFileW(file);
    DeleteFileW(file32);

    expect_rc(run_cli(&api_both, L"export", L"Z:\\nonexistent\\ctl\\catalog.txt", NULL, NULL),
              CTL_EXIT_CALL_FAILED);
    char want[128];
    snprintf(want, sizeof want, "Cannot write Z:\\nonexistent\\ctl\\catalog.txt: error %d. Check "
             "the directory exists and is writable.", (int)ERROR_PATH_NOT_FOUND);
    expect_out(want);
    assert_true(GetFileAttributesW(L"Z:\\nonexistent\\ctl\\catalog.txt") ==
                INVALID_FILE_ATTRIBUTES);
    static WCHAR long_name[MAX_PATH + 1];
    swprintf(long_name, MAX_PATH + 1, L"%ls", dir);
    size_t len = wcslen(long_name);
    wmemset(long_name + len, L'n', MAX_PATH - 2 - len);
    long_name[MAX_PATH - 2] = 0;
    expect_rc(run_cli(&api_both, L"export", long_name, NULL, NULL), CTL_EXIT_USAGE);
    expect_out("the file name is too long to derive the 32-bit catalog's; give it as a second "
               "file.");
    DeleteFileW(long_name);

    static const struct ctl_winapi api_nothing = { .native = { NULL } };
    expect_rc(run_cli(&api_nothing, L"status", NULL, NULL, NULL), CTL_EXIT_MISSING_FUNCTION);
    expect_out("The system catalog cannot be read here: WSCEnumProtocols is missing.");
    expect_rc(run_cli(&api_both, L"uninstall", NULL, NULL, NULL), 0);
}

static int teardown(void **state)
{
    (void)state;
    simcat_destroy(sim.cat[C64]);
    simcat_destroy(sim.cat[C32]);
    memset(&sim, 0, sizeof sim);
    return 0;
}

int main(void)
{
#ifndef _WIN64
    /* The x86 tool has one catalog (its own) and none of the ...32
     * functions; the pairing tested here is the x64 tool's. */
    print_message("test_ctl_live: built for x86, where ctl_backend_live(64) does not exist; "
                  "this program tests the x64 tool.\n");
    return 77;
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_both_catalogs, teardown),
        cmocka_unit_test_teardown(test_half_installed, teardown),
        cmocka_unit_test_teardown(test_install_fault_matrix, teardown),
        cmocka_unit_test_teardown(test_uninstall_fault_matrix, teardown),
        cmocka_unit_test_teardown(test_repair_fault_matrix, teardown),
        cmocka_unit_test_teardown(test_cli_both, teardown),
        cmocka_unit_test_teardown(test_no_32bit_functions, teardown),
        cmocka_unit_test_teardown(test_32bit_dll_checked, teardown),
        cmocka_unit_test_teardown(test_no_install64_32, teardown),
        cmocka_unit_test_teardown(test_install_and_chains, teardown),
        cmocka_unit_test_teardown(test_change_log, teardown),
        cmocka_unit_test_teardown(test_cli_paths, teardown),
    };
    int rc = cmocka_run_group_tests_name("peerlsp-ctl live backend", tests, setup_dlls,
                                         teardown_dlls);
    simcat_destroy(start64);
    simcat_destroy(start32);
    return rc;
}
