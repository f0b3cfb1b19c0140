/*
 * test_ctl_exclude_live.c - exclude, include and `uninstall --purge` on the
 * LIVE backend (ctl_backend_live.c's WSCSetApplicationCategory and
 * WSCGetApplicationCategory wrappers), with the registry record of
 * exclusions (ctl_records.c, pointed at HKCU) and the change log
 * (ctl_log.c, a scratch file): what an administrator's machine runs, which
 * the simcat-backed tests in test_ctl_core.c do not reach.
 *
 * The WSC functions are a one-catalog simulation put in place through
 * ctl_winapi_override; application categories go through simcatalog's
 * semantics (WSASERVICE_NOT_FOUND for a program never categorized). Each
 * failure is a real one where Wine can make it (a registry root that is not
 * a key, a snapshot file another program holds open) and an injected WSC
 * error otherwise; every test checks the exit code, the message, what the
 * program's categories are afterwards, what the registry holds and what the
 * change log says.
 */
#include "ctl_test.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include <peerlsp/peerlsp.h>

#include "ctl_winapi.h"

static const WCHAR wsl[] = L"C:\\Windows\\System32\\wsl.exe";
static const WCHAR svchost[] = L"C:\\Windows\\System32\\svchost.exe";
#define PEERLSP_OUT (CTL_ALL_LSP_CATEGORIES & ~CTL_DEFAULT_CATEGORIES) /* 0x000000FE */

/* Not a registry key: every Reg* call on it fails with ERROR_INVALID_HANDLE. */
#define BAD_ROOT ((HKEY)(ULONG_PTR)0x7eadbeef)

/* ---- the simulated catalog ---------------------------------------------- */

static struct {
    struct simcat *cat;
    int set_calls, get_calls;
    int fail_set, fail_get; /* the call number that fails (0: none) */
    DWORD lie;              /* set stores want ^ lie (a set that does not do what it says) */
} sim;

static const int injected_error = WSANO_RECOVERY;

static int WSPAPI enum_(LPINT p, LPWSAPROTOCOL_INFOW buf, LPDWORD len, LPINT err)
{
    return simcat_enum(sim.cat, p, buf, len, err);
}
static int WSPAPI path_(LPGUID g, WCHAR *p, LPINT len, LPINT err)
{
    return simcat_get_path(sim.cat, g, p, len, err);
}
static int WSPAPI install_(LPGUID g, const WCHAR *p, const WSAPROTOCOL_INFOW *l, DWORD n,
                           LPINT err)
{
    return simcat_install(sim.cat, g, p, l, n, NULL, err);
}
static int WSPAPI deinstall_(LPGUID g, LPINT err)
{
    return simcat_deinstall(sim.cat, g, err);
}
static int WSPAPI update_(LPGUID g, const WCHAR *p, const WSAPROTOCOL_INFOW *l, DWORD n,
                          LPINT err)
{
    return simcat_update(sim.cat, g, p, l, n, err);
}
static int WSPAPI order_(LPDWORD ids, DWORD n)
{
    return simcat_write_order(sim.cat, ids, n);
}
static int WSPAPI getinfo_(LPGUID g, WSC_PROVIDER_INFO_TYPE t, PBYTE i, size_t *s, DWORD f,
                           LPINT err)
{
    return simcat_get_provider_info(sim.cat, g, t, i, s, f, err);
}
static int WSPAPI setinfo_(LPGUID g, WSC_PROVIDER_INFO_TYPE t, PBYTE i, size_t s, DWORD f,
                           LPINT err)
{
    return simcat_set_provider_info(sim.cat, g, t, i, s, f, err);
}
static int WSPAPI set_app_(LPCWSTR path, DWORD plen, LPCWSTR extra, DWORD elen, DWORD permitted,
                           DWORD *prev, LPINT err)
{
    if (++sim.set_calls == sim.fail_set) {
        *err = injected_error;
        return SOCKET_ERROR;
    }
    return simcat_set_app_category(sim.cat, path, plen, extra, elen, permitted ^ sim.lie, prev,
                                   err);
}
static int WSPAPI get_app_(LPCWSTR path, DWORD plen, LPCWSTR extra, DWORD elen, DWORD *permitted,
                           LPINT err)
{
    if (++sim.get_calls == sim.fail_get) {
        *err = injected_error;
        return SOCKET_ERROR;
    }
    return simcat_get_app_category(sim.cat, path, plen, extra, elen, permitted, err);
}

/* Windows since Vista: every function. */
static const struct ctl_winapi api_all = {
    .native = { enum_, path_, install_, deinstall_, update_, order_, getinfo_, setinfo_,
                set_app_, get_app_ },
};
/* WSCGetApplicationCategory missing (Wine's ws2_32 has none). */
static const struct ctl_winapi api_no_get = {
    .native = { enum_, path_, install_, deinstall_, update_, order_, getinfo_, setinfo_,
                set_app_, NULL },
};
/* WSCSetApplicationCategory missing. */
static const struct ctl_winapi api_no_set = {
    .native = { enum_, path_, install_, deinstall_, update_, order_, getinfo_, setinfo_, NULL,
                get_app_ },
};

/* The program's categories in the simulated catalog; 0xdeadbeef with
 * *err WSASERVICE_NOT_FOUND when it is not categorized. */
static DWORD app_cats(const WCHAR *app, const WCHAR *args, int *err)
{
    DWORD v = 0xdeadbeef;
    *err = 0;
    simcat_get_app_category(sim.cat, app, (DWORD)wcslen(app), args,
                            args ? (DWORD)wcslen(args) : 0, &v, err);
    return v;
}

#define expect_cats(app, args, want)                                                        \
    do {                                                                                    \
        int e_;                                                                             \
        DWORD v_ = app_cats(app, args, &e_);                                                \
        if (e_ || v_ != (DWORD)(want))                                                      \
            fail_msg("line %d: %ls: categories 0x%08lx (error %d), expected 0x%08lx\n%s",   \
                     __LINE__, app, (unsigned long)v_, e_, (unsigned long)(want), out);     \
    } while (0)

#define expect_uncategorized(app, args)                                                     \
    do {                                                                                    \
        int e_;                                                                             \
        DWORD v_ = app_cats(app, args, &e_);                                                \
        if (e_ != WSASERVICE_NOT_FOUND)                                                     \
            fail_msg("line %d: %ls: categorized (0x%08lx, error %d), expected none\n%s",    \
                     __LINE__, app, (unsigned long)v_, e_, out);                            \
    } while (0)

/* ---- the registry record and the change log ----------------------------- */

static WCHAR product_key[64], records_key[96];

static void set_records(HKEY root, const WCHAR *subkey)
{
    ctl_records_root = root;
    ctl_records_subkey = subkey;
}

/* The data of the record value `name`, or NULL when there is none. */
static const WCHAR *record_value(const WCHAR *name)
{
    static WCHAR data[128];
    DWORD size = sizeof data - sizeof(WCHAR), type = 0;
    HKEY k;
    if (RegOpenKeyExW(HKEY_CURRENT_USER, records_key, 0, KEY_QUERY_VALUE, &k))
        return NULL;
    LONG err = RegQueryValueExW(k, name, NULL, &type, (BYTE *)data, &size);
    RegCloseKey(k);
    if (err || type != REG_SZ)
        return NULL;
    data[size / sizeof(WCHAR)] = 0;
    return data;
}

static int key_exists(const WCHAR *key)
{
    HKEY k;
    if (RegOpenKeyExW(HKEY_CURRENT_USER, key, 0, KEY_READ, &k))
        return 0;
    RegCloseKey(k);
    return 1;
}

static DWORD value_count(void)
{
    HKEY k;
    DWORD n = 0;
    if (RegOpenKeyExW(HKEY_CURRENT_USER, records_key, 0, KEY_QUERY_VALUE, &k))
        return 0;
    if (RegQueryInfoKeyW(k, NULL, NULL, NULL, NULL, NULL, NULL, &n, NULL, NULL, NULL, NULL))
        n = 0;
    RegCloseKey(k);
    return n;
}

#define expect_record(name, data)                                                           \
    do {                                                                                    \
        const WCHAR *v_ = record_value(name);                                               \
        if (!v_ || wcscmp(v_, data))                                                        \
            fail_msg("line %d: record \"%ls\" holds \"%ls\", expected \"%ls\"\n%s",         \
                     __LINE__, name, v_ ? v_ : L"(none)", data, out);                       \
    } while (0)

#define expect_no_record(name)                                                              \
    do {                                                                                    \
        const WCHAR *v_ = record_value(name);                                               \
        if (v_)                                                                             \
            fail_msg("line %d: record \"%ls\" still there (\"%ls\")\n%s", __LINE__, name,   \
                     v_, out);                                                              \
    } while (0)

static char *read_log(void)
{
    static char text[1 << 16];
    text[0] = 0;
    FILE *f = _wfopen(ctl_log_file, L"r"); /* text: the log is written with CRLF */
    if (!f)
        return text;
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    return text;
}

#define expect_log(text)                                                                    \
    do {                                                                                    \
        const char *l_ = read_log();                                                        \
        if (!strstr(l_, text))                                                              \
            fail_msg("line %d: the change log lacks \"%s\":\n%s", __LINE__, text, l_);      \
    } while (0)

/* ---- running the tool ----------------------------------------------------- */

static char out[65536];

static void capture_begin(FILE **f)
{
    *f = tmpfile();
    assert_non_null(*f);
    ctl_out_stream = ctl_err_stream = *f;
}

static void capture_end(FILE *f)
{
    ctl_out_stream = ctl_err_stream = NULL;
    rewind(f);
    size_t got = fread(out, 1, sizeof out - 1, f);
    out[got] = 0;
    fclose(f);
}

/* The CLI in process on the live backend made from `api`; `args` ends
 * with NULL. */
static int run_cli(const struct ctl_winapi *api, const WCHAR *const *args)
{
    WCHAR *argv[10] = { (WCHAR *)L"peerlsp-ctl" };
    int argc = 1;
    while (argc < 9 && args[argc - 1]) {
        argv[argc] = (WCHAR *)args[argc - 1];
        argc++;
    }
    FILE *f;
    capture_begin(&f);
    ctl_winapi_override(api);
    int rc = ctl_main(argc, argv);
    ctl_winapi_override(NULL);
    capture_end(f);
    return rc;
}

#define CLI(api, ...) run_cli(api, (const WCHAR *const[]){ __VA_ARGS__, NULL })

#define expect_rc(call, want) CTLT_EXPECT_RC(call, want, out)

#define expect_out(text) CTLT_EXPECT_OUT(text, out)

#define expect_not_out(text) CTLT_EXPECT_NOT_OUT(text, out)

/* ---- fixtures -------------------------------------------------------------- */

static WCHAR live_dll[MAX_PATH];

static int setup(void **state)
{
    (void)state;
    WCHAR tmp[MAX_PATH];
    DWORD pid = GetCurrentProcessId();
    if (!GetTempPathW(MAX_PATH, tmp))
        return -1;
    swprintf(product_key, 64, L"Software\\peerlsp-test-excl-%lu", (unsigned long)pid);
    swprintf(records_key, 96, L"%ls\\Exclusions", product_key);
    swprintf(ctl_log_file, MAX_PATH, L"%lsctl-excl-%lu.log", tmp, (unsigned long)pid);
    wcscpy(live_dll, PEERLSP_TEST_LSP_DLL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    RegDeleteTreeW(HKEY_CURRENT_USER, product_key);
    DeleteFileW(ctl_log_file);
    set_records(HKEY_LOCAL_MACHINE, L"SOFTWARE\\peerlsp\\Exclusions");
    return 0;
}

/* Before each test: peerlsp installed in a fresh catalog, no record, no
 * log, no injection. */
static int fresh(void **state)
{
    (void)state;
    simcat_destroy(sim.cat);
    memset(&sim, 0, sizeof sim);
    sim.cat = ctlt_base_catalog();
    struct ctl_options o;
    ctl_options_default(&o);
    int rc = ctlt_install(sim.cat, live_dll, &o);
    if (rc)
        fail_msg("install: exit %d\n%s", rc, ctlt_output());
    RegDeleteTreeW(HKEY_CURRENT_USER, product_key);
    DeleteFileW(ctl_log_file);
    set_records(HKEY_CURRENT_USER, records_key);
    return 0;
}

static int done(void **state)
{
    (void)state;
    simcat_destroy(sim.cat);
    memset(&sim, 0, sizeof sim);
    set_records(HKEY_CURRENT_USER, records_key);
    return 0;
}

/* ---- exclude and include through the live backend ------------------------ */

static void test_exclude_include(void **state)
{
    (void)state;
    WCHAR wsl_debian[MAX_PATH + 16];
    swprintf(wsl_debian, MAX_PATH + 16, L"%ls|-d Debian", wsl);

    /* With a command line: the WSC functions get it (another application
     * than the program alone), the registry records it after a '|'. */
    expect_rc(CLI(&api_all, L"--verbose", L"exclude", wsl, L"--args", L"-d Debian"), 0);
    expect_out("64-bit catalog: WSCSetApplicationCategory 0x000000FE");
    expect_out("now kept out of C:\\Windows\\System32\\wsl.exe (command line \"-d Debian\")");
    expect_cats(wsl, L"-d Debian", PEERLSP_OUT);
    expect_uncategorized(wsl, NULL);
    expect_record(wsl_debian, L"removed=0x80000001 permitted=0x000000FE");
    expect_log("64-bit catalog: application C:\\Windows\\System32\\wsl.exe (command line "
               "\"-d Debian\"): permitted LSP categories 0x800000FF -> 0x000000FE\n"
               "result: exit 0");

    expect_rc(CLI(&api_all, L"exclude", wsl), 0);
    expect_cats(wsl, NULL, PEERLSP_OUT);
    expect_record(wsl, L"removed=0x80000001 permitted=0x000000FE");
    expect_log("64-bit catalog: application C:\\Windows\\System32\\wsl.exe: permitted LSP "
               "categories 0x800000FF -> 0x000000FE");

    /* status reads each recorded program's categories back. */
    expect_rc(CLI(&api_all, L"status"), 0);
    expect_out("    C:\\Windows\\System32\\wsl.exe (command line \"-d Debian\"): permitted "
               "categories 0x000000FE\n");
    expect_out("    C:\\Windows\\System32\\wsl.exe: permitted categories 0x000000FE\n");
    /* Someone else lets peerlsp in again: status says so. */
    int err = 0;
    assert_int_equal(simcat_set_app_category(sim.cat, wsl, (DWORD)wcslen(wsl), NULL, 0,
                                             CTL_ALL_LSP_CATEGORIES, NULL, &err),
                     0);
    expect_rc(CLI(&api_all, L"status"), 0);
    expect_out("wsl.exe: permitted categories 0x800000FF (changed since: peerlsp is permitted "
               "again)");
    /* Without WSCGetApplicationCategory the record is all there is. */
    expect_rc(CLI(&api_no_get, L"status"), 0);
    expect_out("wsl.exe (command line \"-d Debian\"): recorded 0x000000FE (cannot be read back "
               "here)");

    /* include of the program someone else let in: nothing to do, and the
     * stale record goes. */
    expect_rc(CLI(&api_all, L"include", wsl), 0);
    expect_out("is not excluded: it permits peerlsp (categories include peerlsp's)");
    expect_no_record(wsl);
    expect_record(wsl_debian, L"removed=0x80000001 permitted=0x000000FE");

    /* --dry-run names the call and changes nothing. */
    int sets = sim.set_calls;
    expect_rc(CLI(&api_all, L"--dry-run", L"include", wsl, L"--args", L"-d Debian"), 0);
    expect_out("64-bit catalog: would call WSCSetApplicationCategory for "
               "C:\\Windows\\System32\\wsl.exe (command line \"-d Debian\"): permitted "
               "categories 0x000000FE -> 0x800000FF.\nDry run: nothing was changed.");
    assert_int_equal(sim.set_calls, sets);
    expect_cats(wsl, L"-d Debian", PEERLSP_OUT);
    expect_record(wsl_debian, L"removed=0x80000001 permitted=0x000000FE");

    expect_rc(CLI(&api_all, L"include", wsl, L"--args", L"-d Debian"), 0);
    expect_out("peerlsp may load into C:\\Windows\\System32\\wsl.exe (command line \"-d "
               "Debian\") again: permitted categories 0x000000FE -> 0x800000FF.");
    expect_cats(wsl, L"-d Debian", CTL_ALL_LSP_CATEGORIES);
    expect_no_record(wsl_debian);
    expect_log("(command line \"-d Debian\"): permitted LSP categories 0x000000FE -> "
               "0x800000FF\nresult: exit 0");
}

/* ---- exclude's failures --------------------------------------------------- */

static void test_exclude_failures(void **state)
{
    (void)state;
    /* WSCGetApplicationCategory fails: nothing set, nothing recorded. */
    sim.fail_get = 1;
    expect_rc(CLI(&api_all, L"exclude", wsl), CTL_EXIT_CALL_FAILED);
    expect_out("64-bit catalog: WSCGetApplicationCategory failed with error 11003.");
    assert_int_equal(sim.set_calls, 0);
    expect_uncategorized(wsl, NULL);
    expect_no_record(wsl);
    assert_false(key_exists(records_key));
    assert_int_equal(read_log()[0], 0);

    /* WSCSetApplicationCategory says yes but stores something else: the
     * read-back catches it and the old categories are put back
     * (uncategorized becomes "every category": Windows cannot undo a
     * categorization). */
    sim.fail_get = 0;
    sim.lie = 0x1;
    expect_rc(CLI(&api_all, L"exclude", wsl), CTL_EXIT_NO_EFFECT);
    expect_out("64-bit catalog: WSCSetApplicationCategory reported success, but the catalog "
               "did not change as expected: it reads 0x000000FF, not 0x000000FE.");
    sim.lie = 0;
    expect_cats(wsl, NULL, CTL_ALL_LSP_CATEGORIES ^ 0x1); /* the lying set put it back too */
    expect_no_record(wsl);
    expect_log("permitted LSP categories 0x800000FF -> 0x000000FE\nresult: exit 5");

    /* The registry record cannot be written: the program's categories go
     * back, exit 6. */
    done(NULL);
    fresh(NULL);
    set_records(BAD_ROOT, records_key);
    expect_rc(CLI(&api_all, L"exclude", wsl), CTL_EXIT_CALL_FAILED);
    char want[96];
    snprintf(want, sizeof want, "The exclusion could not be recorded: error %d.",
             (int)ERROR_INVALID_HANDLE);
    expect_out(want);
    expect_out("The program's categories were set back to 0x800000FF.");
    expect_not_out("now kept out");
    expect_cats(wsl, NULL, CTL_ALL_LSP_CATEGORIES);
    assert_false(key_exists(records_key));

    /* The change log cannot be written: said, the exclusion stands. */
    set_records(HKEY_CURRENT_USER, records_key);
    WCHAR log_saved[MAX_PATH];
    wcscpy(log_saved, ctl_log_file);
    wcscpy(ctl_log_file, L"Z:\\nonexistent\\peerlsp\\peerlsp-ctl.log");
    expect_rc(CLI(&api_all, L"exclude", wsl), 0);
    expect_out("peerlsp-ctl: the change log Z:\\nonexistent\\peerlsp\\peerlsp-ctl.log cannot be "
               "written.");
    expect_cats(wsl, NULL, PEERLSP_OUT);
    expect_record(wsl, L"removed=0x80000001 permitted=0x000000FE");
    wcscpy(ctl_log_file, log_saved);

    /* --args longer than a WSC call takes, and an application path that
     * does not expand to a full path: refused before any call. */
    set_records(HKEY_CURRENT_USER, records_key);
    static WCHAR long_args[CTL_ARGS_MAX + 1];
    wmemset(long_args, L'a', CTL_ARGS_MAX);
    long_args[CTL_ARGS_MAX] = 0;
    int gets = sim.get_calls;
    expect_rc(CLI(&api_all, L"exclude", svchost, L"--args", long_args), CTL_EXIT_USAGE);
    snprintf(want, sizeof want, "peerlsp-ctl exclude: --args is longer than %d characters.",
             CTL_ARGS_MAX - 1);
    expect_out(want);
    static WCHAR long_value[MAX_PATH + 8];
    wmemset(long_value, L'x', MAX_PATH + 4);
    long_value[MAX_PATH + 4] = 0;
    assert_true(SetEnvironmentVariableW(L"PEERLSP_TEST_LONG_DIR", long_value));
    expect_rc(CLI(&api_all, L"include", L"%PEERLSP_TEST_LONG_DIR%\\a.exe"), CTL_EXIT_USAGE);
    expect_out("\"%PEERLSP_TEST_LONG_DIR%\\a.exe\" is not a full path");
    SetEnvironmentVariableW(L"PEERLSP_TEST_LONG_DIR", NULL);
    assert_int_equal(sim.get_calls, gets);
    expect_uncategorized(svchost, NULL);
}

/* ---- include's failures --------------------------------------------------- */

static void exclude_wsl(void)
{
    expect_rc(CLI(&api_all, L"exclude", wsl), 0);
    expect_cats(wsl, NULL, PEERLSP_OUT);
    expect_record(wsl, L"removed=0x80000001 permitted=0x000000FE");
}

static int failing_del(struct ctl_backend *b, const WCHAR *app, const WCHAR *args)
{
    (void)b, (void)app, (void)args;
    return ERROR_ACCESS_DENIED;
}

static void test_include_failures(void **state)
{
    (void)state;
    exclude_wsl();
    char want[96];

    /* The record cannot be read: nothing is called. */
    set_records(BAD_ROOT, records_key);
    int sets = sim.set_calls, gets = sim.get_calls;
    expect_rc(CLI(&api_all, L"include", wsl), CTL_EXIT_CALL_FAILED);
    snprintf(want, sizeof want, "The record of exclusions cannot be read: error %d.",
             (int)ERROR_INVALID_HANDLE);
    expect_out(want);
    assert_int_equal(sim.set_calls, sets);
    assert_int_equal(sim.get_calls, gets);
    /* status says the same and still reports the catalog. */
    expect_rc(CLI(&api_all, L"status"), 0);
    snprintf(want, sizeof want, "    the record of exclusions cannot be read: error %d\n",
             (int)ERROR_INVALID_HANDLE);
    expect_out(want);
    expect_out("64-bit catalog: peerlsp is installed");
    set_records(HKEY_CURRENT_USER, records_key);

    /* Recorded, but WSCSetApplicationCategory is missing. */
    expect_rc(CLI(&api_no_set, L"include", wsl), CTL_EXIT_MISSING_FUNCTION);
    expect_out("64-bit catalog: WSCSetApplicationCategory is not available on this system; "
               "peerlsp-ctl include cannot work here.");

    /* WSCGetApplicationCategory fails. */
    sim.fail_get = sim.get_calls + 1;
    expect_rc(CLI(&api_all, L"include", wsl), CTL_EXIT_CALL_FAILED);
    expect_out("64-bit catalog: WSCGetApplicationCategory failed with error 11003.");
    assert_int_equal(sim.set_calls, sets);

    /* WSCSetApplicationCategory fails: the record stays for a later
     * include. */
    sim.fail_set = sim.set_calls + 1;
    expect_rc(CLI(&api_all, L"include", wsl), CTL_EXIT_CALL_FAILED);
    expect_out("64-bit catalog: WSCSetApplicationCategory failed with error 11003. "
               "(Administrator rights are needed.)");
    expect_cats(wsl, NULL, PEERLSP_OUT);
    expect_record(wsl, L"removed=0x80000001 permitted=0x000000FE");
    expect_log("permitted LSP categories 0x000000FE -> 0x800000FF\nresult: exit 6");

    /* The record cannot be removed after the change: said, but the
     * change stands (the program permits peerlsp again). */
    FILE *f;
    capture_begin(&f);
    ctl_winapi_override(&api_all);
    struct ctl_target t;
    memset(&t, 0, sizeof t);
    t.b = ctl_backend_live(64);
    ctl_winapi_override(NULL);
    assert_non_null(t.b);
    t.b->record_del = failing_del;
    struct ctl_options o;
    ctl_options_default(&o);
    int rc = ctl_include(&t, 1, wsl, NULL, &o);
    ctl_backend_destroy(t.b);
    capture_end(f);
    assert_int_equal(rc, 0);
    snprintf(want, sizeof want, "Note: the record of the exclusion could not be removed: error %d",
             (int)ERROR_ACCESS_DENIED);
    expect_out(want);
    expect_out("peerlsp may load into C:\\Windows\\System32\\wsl.exe again");
    expect_cats(wsl, NULL, CTL_ALL_LSP_CATEGORIES);
}

/* ---- uninstall --purge ----------------------------------------------------- */

static void test_purge(void **state)
{
    (void)state;
    WCHAR svc_args[MAX_PATH + 16];
    swprintf(svc_args, MAX_PATH + 16, L"%ls|-k netsvcs", svchost);
    exclude_wsl();
    expect_rc(CLI(&api_all, L"exclude", svchost, L"--args", L"-k netsvcs"), 0);
    HKEY k;
    assert_int_equal(RegCreateKeyExW(HKEY_CURRENT_USER, product_key, 0, NULL, 0, KEY_SET_VALUE,
                                     NULL, &k, NULL),
                     0);
    DWORD one = 1;
    assert_int_equal(RegSetValueExW(k, L"Trace", 0, REG_DWORD, (const BYTE *)&one, sizeof one), 0);
    RegCloseKey(k);

    expect_rc(CLI(&api_all, L"uninstall", L"--purge"), 0);
    expect_out("Removed HKLM\\SOFTWARE\\peerlsp (peerlsp-ctl's settings and records).");
    expect_cats(wsl, NULL, CTL_ALL_LSP_CATEGORIES);
    expect_cats(svchost, L"-k netsvcs", CTL_ALL_LSP_CATEGORIES);
    assert_false(key_exists(product_key));
    assert_int_equal(ctlt_layered_id(sim.cat, &(GUID)PEERLSP_GUID_INIT), 0);
    expect_log("uninstall --purge: HKLM\\SOFTWARE\\peerlsp removed\nresult: exit 0");
}

static void test_purge_failures(void **state)
{
    (void)state;
    struct ctl_options o;
    ctl_options_default(&o);
    WCHAR svc_args[MAX_PATH + 16];
    swprintf(svc_args, MAX_PATH + 16, L"%ls|-k netsvcs", svchost);

    /* One program's categories cannot be put back: reported, its record
     * and the key kept; the other program is let in. uninstall itself
     * succeeded, so exit 0. */
    exclude_wsl();
    expect_rc(CLI(&api_all, L"exclude", svchost, L"--args", L"-k netsvcs"), 0);
    /* The records are enumerated in the registry's order; fail whichever
     * include comes first and see which one it was. */
    sim.fail_set = sim.set_calls + 1;
    expect_rc(CLI(&api_all, L"uninstall", L"--purge"), 0);
    expect_out("its categories could not be put back (exit 6); its record is kept: run "
               "'peerlsp-ctl include' for it later.");
    expect_not_out("Removed HKLM");
    int wsl_failed = strstr(out, "wsl.exe: its categories could not be put back") != NULL;
    expect_cats(wsl, NULL, wsl_failed ? PEERLSP_OUT : CTL_ALL_LSP_CATEGORIES);
    expect_cats(svchost, L"-k netsvcs", wsl_failed ? CTL_ALL_LSP_CATEGORIES : PEERLSP_OUT);
    assert_int_equal(value_count(), 1);
    if (wsl_failed)
        expect_record(wsl, L"removed=0x80000001 permitted=0x000000FE");
    else
        expect_record(svc_args, L"removed=0x80000001 permitted=0x000000FE");

    /* The record cannot be read: said; nothing else happens. */
    done(NULL);
    fresh(NULL);
    exclude_wsl();
    set_records(BAD_ROOT, records_key);
    expect_rc(CLI(&api_all, L"uninstall", L"--purge"), 0);
    char want[160];
    snprintf(want, sizeof want, "The record of exclusions cannot be read (error %d); programs "
             "excluded with peerlsp-ctl exclude keep their categories.",
             (int)ERROR_INVALID_HANDLE);
    expect_out(want);
    expect_cats(wsl, NULL, PEERLSP_OUT);
    expect_record(wsl, L"removed=0x80000001 permitted=0x000000FE");

    /* More records than one purge takes: the key stays so that none is
     * lost; each visited record is let in and removed. */
    done(NULL);
    fresh(NULL);
    enum { MANY = 65 };
    for (int i = 0; i < MANY; i++) {
        struct ctl_app_record r;
        memset(&r, 0, sizeof r);
        swprintf(r.app, MAX_PATH, L"C:\\purge\\app%02d.exe", i);
        r.removed = CTL_DEFAULT_CATEGORIES;
        r.permitted = PEERLSP_OUT;
        int e = 0;
        assert_int_equal(simcat_set_app_category(sim.cat, r.app, (DWORD)wcslen(r.app), NULL, 0,
                                                 PEERLSP_OUT, NULL, &e),
                         0);
        assert_int_equal(ctl_records_registry_put(NULL, &r), 0);
    }
    expect_rc(CLI(&api_all, L"uninstall", L"--purge"), 0);
    expect_not_out("Removed HKLM");
    assert_true(key_exists(records_key));
    assert_int_equal(value_count(), 1);
    int still_out = 0;
    for (int i = 0; i < MANY; i++) {
        WCHAR app[MAX_PATH];
        swprintf(app, MAX_PATH, L"C:\\purge\\app%02d.exe", i);
        int e;
        DWORD v = app_cats(app, NULL, &e);
        if (e || (v != PEERLSP_OUT && v != CTL_ALL_LSP_CATEGORIES))
            fail_msg("%ls: 0x%08lx (error %d)", app, (unsigned long)v, e);
        if (v == PEERLSP_OUT) {
            still_out++;
            expect_record(app, L"removed=0x80000001 permitted=0x000000FE");
        }
    }
    assert_int_equal(still_out, 1);

    /* The product's key cannot be removed (a records key without a parent
     * under the root): said, with the log entry, exit 0. */
    done(NULL);
    fresh(NULL);
    WCHAR shallow[64];
    swprintf(shallow, 64, L"peerlsp-test-shallow-%lu\\Exclusions",
             (unsigned long)GetCurrentProcessId());
    set_records(HKEY_CURRENT_USER, shallow);
    expect_rc(CLI(&api_all, L"uninstall", L"--purge"), 0);
    snprintf(want, sizeof want, "HKLM\\SOFTWARE\\peerlsp could not be removed: error %d.",
             (int)ERROR_INVALID_PARAMETER);
    expect_out(want);
    expect_log("uninstall --purge: HKLM\\SOFTWARE\\peerlsp removed (failed)\nresult: exit 6");
    set_records(HKEY_CURRENT_USER, records_key);
}

/* ---- the registry record itself -------------------------------------------- */

static void test_records_foreign_values(void **state)
{
    (void)state;
    struct ctl_app_record r;
    memset(&r, 0, sizeof r);
    wcscpy(r.app, L"C:\\ok.exe");
    r.removed = CTL_DEFAULT_CATEGORIES;
    r.permitted = PEERLSP_OUT;
    assert_int_equal(ctl_records_registry_put(NULL, &r), 0);
    /* Values the tool never writes: another type, other text, data longer
     * than a record's, a name longer than a path. */
    HKEY k;
    assert_int_equal(RegOpenKeyExW(HKEY_CURRENT_USER, records_key, 0, KEY_SET_VALUE, &k), 0);
    DWORD one = 1;
    assert_int_equal(RegSetValueExW(k, L"C:\\dword.exe", 0, REG_DWORD, (const BYTE *)&one,
                                    sizeof one),
                     0);
    static const WCHAR garbage[] = L"garbage";
    assert_int_equal(RegSetValueExW(k, L"C:\\garbage.exe", 0, REG_SZ, (const BYTE *)garbage,
                                    sizeof garbage),
                     0);
    WCHAR long_data[100];
    swprintf(long_data, 100, L"removed=0x80000001 permitted=0x000000FE %60ls", L"padding");
    assert_int_equal(RegSetValueExW(k, L"C:\\long.exe", 0, REG_SZ, (const BYTE *)long_data,
                                    (DWORD)((wcslen(long_data) + 1) * sizeof(WCHAR))),
                     0);
    static WCHAR long_name[MAX_PATH + 20];
    wcscpy(long_name, L"C:\\");
    wmemset(long_name + 3, L'n', MAX_PATH + 10);
    long_name[MAX_PATH + 13] = 0;
    static const WCHAR good[] = L"removed=0x80000001 permitted=0x000000FE";
    assert_int_equal(RegSetValueExW(k, long_name, 0, REG_SZ, (const BYTE *)good, sizeof good), 0);
    RegCloseKey(k);

    struct ctlt_rec_list l;
    memset(&l, 0, sizeof l);
    assert_int_equal(ctl_records_registry_enum(NULL, ctlt_rec_collect, &l), 0);
    if (l.n != 1 || wcscmp(l.r[0].app, L"C:\\ok.exe") || l.r[0].permitted != PEERLSP_OUT)
        fail_msg("%d records, the first \"%ls\" 0x%08lx; expected only C:\\ok.exe", l.n,
                 l.n ? l.r[0].app : L"", l.n ? (unsigned long)l.r[0].permitted : 0ul);

    /* A root that is not a key: each call says the registry's error. */
    set_records(BAD_ROOT, records_key);
    assert_int_equal(ctl_records_registry_enum(NULL, ctlt_rec_collect, &l), ERROR_INVALID_HANDLE);
    assert_int_equal(ctl_records_registry_put(NULL, &r), ERROR_INVALID_HANDLE);
    assert_int_equal(ctl_records_registry_del(NULL, L"C:\\ok.exe", NULL), ERROR_INVALID_HANDLE);
    assert_int_equal(ctl_records_registry_purge(), ERROR_INVALID_HANDLE);
    /* A records key with no product key above it. */
    set_records(HKEY_CURRENT_USER, L"Exclusions");
    assert_int_equal(ctl_records_registry_purge(), ERROR_INVALID_PARAMETER);
    set_records(HKEY_CURRENT_USER, records_key);
    expect_record(L"C:\\ok.exe", L"removed=0x80000001 permitted=0x000000FE");
    /* Deleting from a key that is not there: nothing to do. */
    RegDeleteTreeW(HKEY_CURRENT_USER, product_key);
    assert_int_equal(ctl_records_registry_del(NULL, L"C:\\ok.exe", NULL), 0);
}

int main(void)
{
#ifndef _WIN64
    print_message("test_ctl_exclude_live: the live backend's 64-bit catalog is the x64 "
                  "tool's; built for x86, nothing to run.\n");
    return 77;
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exclude_include, fresh, done),
        cmocka_unit_test_setup_teardown(test_exclude_failures, fresh, done),
        cmocka_unit_test_setup_teardown(test_include_failures, fresh, done),
        cmocka_unit_test_setup_teardown(test_purge, fresh, done),
        cmocka_unit_test_setup_teardown(test_purge_failures, fresh, done),
        cmocka_unit_test_setup_teardown(test_records_foreign_values, fresh, done),
    };
    return cmocka_run_group_tests_name("peerlsp-ctl exclude/include on the live backend", tests,
                                       setup, teardown);
}
