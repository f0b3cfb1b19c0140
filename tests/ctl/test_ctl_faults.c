/*
 * test_ctl_faults.c - peerlsp-ctl on catalogs it finds broken and when the
 * things under it fail: verify and status on each kind of damage they name
 * (a visible layered entry, a second one, a one-entry "chain" with
 * peerlsp's GUID, chains left without their layered entry, another
 * vendor's chain over peerlsp whose DLL is gone, no DLL path); uninstall
 * over WSC calls that answer 0 and change nothing (Wine's kind of stub),
 * over chains of peerlsp's under another GUID, over an LSP above peerlsp
 * without a path, and past the tool's limits; a catalog that cannot be
 * read at each step of a transaction; a missing WSC function in a real and
 * a dry run; a snapshot file another program holds open when it is to be
 * written; and the change log when it cannot be written.
 *
 * Each checks the exit code, the message, and that the catalog (or the
 * snapshot file, byte for byte) is as it was whenever the command failed.
 */
#include "ctl_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <peerlsp/peerlsp.h>

static const GUID peerlsp_guid = PEERLSP_GUID_INIT;
static const GUID guid_other = { 0x5a5a0101, 0x1111, 0x2222, { 1, 2, 3, 4, 5, 6, 7, 8 } };
static const GUID guid_own_chains = { 0x5a5a0102, 0x1111, 0x2222, { 1, 2, 3, 4, 5, 6, 7, 8 } };

static char out[65536];

/* ---- running a command on a backend --------------------------------------- */

typedef int (*command_fn)(struct ctl_target *, int, const struct ctl_options *);

static int run_on(struct ctl_backend *b, command_fn fn, const struct ctl_options *o)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    ctl_out_stream = ctl_err_stream = f;
    struct ctl_target t;
    memset(&t, 0, sizeof t);
    t.b = b;
    t.dll_path = PEERLSP_TEST_LSP_DLL;
    t.check_exports = 1;
    int rc = fn(&t, 1, o);
    ctl_out_stream = ctl_err_stream = NULL;
    rewind(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    fclose(f);
    return rc;
}

/* The same on a simcat backend over `cat`. */
static int run_cat(struct simcat *cat, command_fn fn, const struct ctl_options *o)
{
    struct ctl_backend *b = ctl_backend_simcat(cat, "test catalog");
    assert_non_null(b);
    int rc = run_on(b, fn, o);
    ctl_backend_destroy(b);
    return rc;
}

#define expect_rc(call, want) CTLT_EXPECT_RC(call, want, out)

#define expect_out(text) CTLT_EXPECT_OUT(text, out)

#define expect_not_out(text) CTLT_EXPECT_NOT_OUT(text, out)

static int verify(struct simcat *cat)
{
    struct ctl_options o = ctlt_opts();
    return run_cat(cat, ctl_verify, &o);
}

static int status(struct simcat *cat)
{
    struct ctl_options o = ctlt_opts();
    return run_cat(cat, ctl_status, &o);
}

static struct simcat *installed_catalog(void)
{
    struct simcat *cat = ctlt_base_catalog();
    struct ctl_options o = ctlt_opts();
    int rc = ctlt_install(cat, PEERLSP_TEST_LSP_DLL, &o);
    if (rc)
        fail_msg("install: exit %d\n%s", rc, ctlt_output());
    return cat;
}

/* ---- building damaged catalogs ------------------------------------------- */

static DWORD layered_id(struct simcat *cat)
{
    DWORD id = ctlt_layered_id(cat, &peerlsp_guid);
    assert_int_not_equal(id, 0);
    return id;
}

static int show_layered(WSAPROTOCOL_INFOW *e, void *ctx)
{
    (void)ctx;
    if (e->ProtocolChain.ChainLen == LAYERED_PROTOCOL)
        e->dwProviderFlags &= ~PFL_HIDDEN;
    return 1;
}

static int drop_layered(WSAPROTOCOL_INFOW *e, void *ctx)
{
    (void)ctx;
    return !(e->ProtocolChain.ChainLen == LAYERED_PROTOCOL &&
             IsEqualGUID(&e->ProviderId, &peerlsp_guid));
}

/* The first chain of peerlsp's as a one-entry "chain" (ChainLen 1). */
static int flatten_first_chain(WSAPROTOCOL_INFOW *e, void *ctx)
{
    int *done = ctx;
    if (!*done && e->ProtocolChain.ChainLen > 1 && IsEqualGUID(&e->ProviderId, &peerlsp_guid)) {
        e->ProtocolChain.ChainLen = BASE_PROTOCOL;
        e->ProtocolChain.ChainEntries[0] = e->dwCatalogEntryId;
        e->ProtocolChain.ChainEntries[1] = 0;
        *done = 1;
    }
    return 1;
}

/* peerlsp's chains under guid_own_chains, as some vendors' installers lay
 * chains out (each chain its own provider). */
static int chains_own_guid(WSAPROTOCOL_INFOW *e, void *ctx)
{
    (void)ctx;
    if (e->ProtocolChain.ChainLen > 1 && IsEqualGUID(&e->ProviderId, &peerlsp_guid))
        e->ProviderId = guid_own_chains;
    return 1;
}

/* n entries of `guid` layered over peerlsp's chains: [new, ...chain]. */
static int over_peerlsp(struct simcat *cat, const GUID *guid, DWORD first_id,
                        WSAPROTOCOL_INFOW *out_e, int cap)
{
    static WSAPROTOCOL_INFOW e[64];
    int n = ctlt_entries(cat, e, 64), k = 0;
    DWORD lid = layered_id(cat);
    for (int i = 0; i < n && k < cap; i++) {
        if (e[i].ProtocolChain.ChainLen < 2 || e[i].ProtocolChain.ChainEntries[0] != lid)
            continue;
        WSAPROTOCOL_INFOW x = e[i];
        x.ProviderId = *guid;
        x.dwCatalogEntryId = first_id + (DWORD)k;
        x.ProtocolChain.ChainLen = 3;
        x.ProtocolChain.ChainEntries[0] = first_id + 100; /* its layered entry */
        x.ProtocolChain.ChainEntries[1] = lid;
        x.ProtocolChain.ChainEntries[2] = e[i].ProtocolChain.ChainEntries[1];
        swprintf(x.szProtocol, WSAPROTOCOL_LEN + 1, L"other over %ls", e[i].szProtocol);
        out_e[k++] = x;
    }
    /* Its layered entry. */
    WSAPROTOCOL_INFOW l = out_e[0];
    l.dwCatalogEntryId = first_id + 100;
    l.ProtocolChain.ChainLen = LAYERED_PROTOCOL;
    memset(l.ProtocolChain.ChainEntries, 0, sizeof l.ProtocolChain.ChainEntries);
    l.dwProviderFlags |= PFL_HIDDEN;
    wcscpy(l.szProtocol, L"other layered");
    out_e[k++] = l;
    return k;
}

/* ---- verify and status on damaged catalogs ------------------------------ */

static void test_verify_damage(void **state)
{
    (void)state;
    struct simcat *cat = installed_catalog();
    DWORD lid = layered_id(cat);
    char want[160];

    struct simcat *x = ctlt_edited(cat, show_layered, NULL, NULL, 0, NULL);
    expect_rc(verify(x), CTL_EXIT_PROBLEMS);
    snprintf(want, sizeof want, "test catalog: layered entry %lu is not hidden (PFL_HIDDEN)",
             (unsigned long)lid);
    expect_out(want);
    expect_out("1 problem(s)");
    simcat_destroy(x);

    /* A second layered entry with peerlsp's GUID. */
    WSAPROTOCOL_INFOW second = ctlt_entry(cat, lid);
    second.dwCatalogEntryId = 3001;
    x = ctlt_edited(cat, NULL, NULL, &second, 1, PEERLSP_TEST_LSP_DLL);
    expect_rc(verify(x), CTL_EXIT_PROBLEMS);
    expect_out("test catalog: second layered entry 3001 with peerlsp's GUID");
    simcat_destroy(x);

    int done = 0;
    x = ctlt_edited(cat, flatten_first_chain, &done, NULL, 0, NULL);
    assert_true(done);
    expect_rc(verify(x), CTL_EXIT_PROBLEMS);
    expect_out("\"peerlsp over TCP/IP\" has peerlsp's GUID but ChainLen 1: it is not a chain");
    simcat_destroy(x);

    /* The layered entry gone, its chains left: each named, status too. */
    x = ctlt_edited(cat, drop_layered, NULL, NULL, 0, NULL);
    expect_rc(verify(x), CTL_EXIT_PROBLEMS);
    expect_out("test catalog: peerlsp is not installed (no layered entry with its GUID)");
    snprintf(want, sizeof want, "\"peerlsp over UDP/IPv6\": chain element 0 is id %lu, which does "
             "not exist", (unsigned long)lid);
    expect_out(want);
    expect_out("5 problem(s)");
    expect_rc(status(x), CTL_EXIT_PROBLEMS);
    expect_out("test catalog: peerlsp is NOT installed, but 4 of its entries are left over:");
    expect_out("    problem: entry ");
    expect_out("\"peerlsp over TCP/IP\" belongs to peerlsp");
    expect_out("    - run peerlsp-ctl repair (removes peerlsp's leftover entries)");
    expect_out("Status: 4 problem(s).");
    simcat_destroy(x);

    /* Chains of peerlsp's under another GUID whose DLL is gone. */
    static WSAPROTOCOL_INFOW e[64];
    int n = ctlt_entries(cat, e, 64);
    x = simcat_create();
    for (int i = 0; i < n; i++) {
        WCHAR path[MAX_PATH];
        int len = MAX_PATH, err = 0;
        GUID g = e[i].ProviderId;
        assert_int_equal(simcat_get_path(cat, &g, path, &len, &err), 0);
        WSAPROTOCOL_INFOW c = e[i];
        int chain = c.ProtocolChain.ChainLen > 1 && IsEqualGUID(&g, &peerlsp_guid);
        if (chain)
            c.ProviderId = guid_own_chains;
        assert_int_equal(simcat_add_entry(x, &c, chain ? L"Z:\\nonexistent\\vendor.dll" : path,
                                          CTL_DEFAULT_CATEGORIES),
                         0);
    }
    expect_rc(verify(x), CTL_EXIT_PROBLEMS);
    expect_out(": DLL Z:\\nonexistent\\vendor.dll: the file does not exist");
    expect_out("4 problem(s)");
    simcat_destroy(x);
    simcat_destroy(cat);
}

/* A backend that cannot read peerlsp's path, one whose catalog cannot be
 * read at all. */
static int no_path(struct ctl_backend *b, const GUID *guid, WCHAR path[MAX_PATH])
{
    (void)b, (void)guid;
    path[0] = 0;
    return WSAEINVAL;
}

static int unreadable(struct ctl_backend *b, WSAPROTOCOL_INFOW **e, DWORD *n)
{
    (void)b;
    *e = NULL;
    *n = 0;
    return WSAEACCES;
}

static void test_unreadable_catalogs(void **state)
{
    (void)state;
    struct simcat *cat = installed_catalog(), *before = simcat_clone(cat);
    struct ctl_options o = ctlt_opts();
    struct ctl_backend *b = ctl_backend_simcat(cat, "test catalog");
    assert_non_null(b);

    b->get_path = no_path;
    expect_rc(run_on(b, ctl_verify, &o), CTL_EXIT_PROBLEMS);
    expect_out("test catalog: the catalog gives no DLL path for peerlsp");
    expect_rc(run_on(b, ctl_status, &o), CTL_EXIT_PROBLEMS);
    expect_out("    DLL: the catalog gives no path");

    b->enumerate = unreadable;
    char want[96];
    snprintf(want, sizeof want, "peerlsp-ctl: reading the catalog failed with error %d.",
             WSAEACCES);
    static const command_fn fns[] = { ctl_verify, ctl_install, ctl_uninstall, ctl_repair };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        expect_rc(run_on(b, fns[i], &o), CTL_EXIT_CALL_FAILED);
        expect_out(want);
    }
    o.dry_run = 1;
    expect_rc(run_on(b, ctl_install, &o), CTL_EXIT_CALL_FAILED);
    o.dry_run = 0;
    expect_rc(run_on(b, ctl_status, &o), CTL_EXIT_PROBLEMS);
    snprintf(want, sizeof want, "test catalog: cannot be read: error %d", WSAEACCES);
    expect_out(want);
    expect_out("    - run peerlsp-ctl status again as administrator; a catalog could not be read");
    expect_out("Status: 1 problem(s).");
    ctlt_assert_equal(cat, before, "unreadable catalog");
    ctl_backend_destroy(b);
    simcat_destroy(before);
    simcat_destroy(cat);
}

/* The catalog readable for the plan, then not: at the transaction's
 * start, at its check, in the dry run's copy; once (a transient failure)
 * or from then on. */
static struct {
    int (*enumerate)(struct ctl_backend *, WSAPROTOCOL_INFOW **, DWORD *);
    int calls, fail_from, once;
} reads;

static int counted_enum(struct ctl_backend *b, WSAPROTOCOL_INFOW **e, DWORD *n)
{
    ++reads.calls;
    if (reads.fail_from &&
        (reads.calls == reads.fail_from || (!reads.once && reads.calls > reads.fail_from))) {
        *e = NULL;
        *n = 0;
        return WSAEACCES;
    }
    return reads.enumerate(b, e, n);
}

static int two_step; /* reads_in: a backend without WSCInstallProviderAndChains */

static int reads_in(struct simcat *cat, command_fn fn, struct ctl_options *o, int fail_from,
                    int once)
{
    struct ctl_backend *b = ctl_backend_simcat(cat, "test catalog");
    assert_non_null(b);
    if (two_step)
        b->install_and_chains = NULL;
    reads.enumerate = b->enumerate;
    reads.calls = 0;
    reads.fail_from = fail_from;
    reads.once = once;
    b->enumerate = counted_enum;
    int rc = run_on(b, fn, o);
    ctl_backend_destroy(b);
    return rc;
}

static void test_catalog_unreadable_midway(void **state)
{
    (void)state;
    struct simcat *base = ctlt_base_catalog(), *installed = installed_catalog();
    struct ctl_options o = ctlt_opts();
    char want[96]; /* "peerlsp-ctl: reading ..." or "... re-reading ..." */
    snprintf(want, sizeof want, "the catalog failed with error %d.", WSAEACCES);
    static const struct {
        const char *row;
        command_fn fn;
        int from_installed, dry_run, two_step;
    } rows[] = {
        { "install", ctl_install, 0, 0, 0 },
        { "two-step install", ctl_install, 0, 0, 1 },
        { "uninstall", ctl_uninstall, 1, 0, 0 },
        { "dry-run install", ctl_install, 0, 1, 0 },
        { "dry-run uninstall", ctl_uninstall, 1, 1, 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct simcat *start = rows[i].from_installed ? installed : base;
        o.dry_run = rows[i].dry_run;
        two_step = rows[i].two_step;
        /* A clean run counts the reads; then the k-th read fails, once or
         * for good, for every k after the plan's. The command fails with
         * exit 6 and the catalog is the one before, except when the
         * rollback itself cannot read it, which it says. */
        struct simcat *clean = simcat_clone(start), *cat;
        int rc = reads_in(clean, rows[i].fn, &o, 0, 0), total = reads.calls;
        if (rc)
            fail_msg("%s: clean run exit %d\n%s", rows[i].row, rc, out);
        if (total < 2)
            fail_msg("%s: only %d reads", rows[i].row, total);
        for (int once = 0; once < 2; once++) {
            for (int k = 2; k <= total; k++) {
                cat = simcat_clone(start);
                rc = reads_in(cat, rows[i].fn, &o, k, once);
                if (rc == CTL_EXIT_OK && once) {
                    /* A read the command only takes a note from (the
                     * order WSCInstallProviderAndChains wrote, kept for
                     * a rollback): the result is the clean run's. */
                    ctlt_assert_equal(cat, clean, rows[i].row);
                    simcat_destroy(cat);
                    continue;
                }
                if (rc != CTL_EXIT_CALL_FAILED)
                    fail_msg("%s: read %d failing%s: exit %d, expected %d\n%s", rows[i].row, k,
                             once ? " once" : "", rc, CTL_EXIT_CALL_FAILED, out);
                int incomplete = strstr(out, "ROLLBACK INCOMPLETE") != NULL;
                if (!strstr(out, want) && !incomplete)
                    fail_msg("%s: read %d failing%s: no message\n%s", rows[i].row, k,
                             once ? " once" : "", out);
                if (incomplete && (once || rows[i].dry_run))
                    fail_msg("%s: read %d failing once: rollback incomplete\n%s", rows[i].row,
                             k, out);
                /* Put back; an uninstall's rollback installs peerlsp
                 * again, under new ids. */
                if (!incomplete && !ctlt_same_but_ids(cat, start))
                    ctlt_assert_equal(cat, start, rows[i].row);
                simcat_destroy(cat);
            }
        }
        simcat_destroy(clean);
    }
    two_step = 0;
    simcat_destroy(base);
    simcat_destroy(installed);
}

/* ---- uninstall over calls that do nothing ------------------------------- */

static int noop_deinstall(struct ctl_backend *b, const GUID *guid)
{
    (void)b, (void)guid;
    return 0;
}

static int noop_update(struct ctl_backend *b, const GUID *guid, const WCHAR *path,
                       const WSAPROTOCOL_INFOW *list, DWORD n)
{
    (void)b, (void)guid, (void)path, (void)list, (void)n;
    return 0;
}

static void test_uninstall_without_effect(void **state)
{
    (void)state;
    struct simcat *cat = installed_catalog();
    WSAPROTOCOL_INFOW above[16];
    int n = over_peerlsp(cat, &guid_other, 2001, above, 16);
    struct simcat *x = ctlt_edited(cat, NULL, NULL, above, n, PEERLSP_TEST_BASE_DLL);
    struct simcat *before = simcat_clone(x);
    DWORD lid = layered_id(x);
    struct ctl_options o = ctlt_opts();
    struct ctl_backend *b = ctl_backend_simcat(x, "test catalog");
    assert_non_null(b);
    b->deinstall = noop_deinstall;
    b->update = noop_update;
    expect_rc(run_on(b, ctl_uninstall, &o), CTL_EXIT_NO_EFFECT);
    char g[39], want[160];
    ctl_guid_format(&peerlsp_guid, g);
    snprintf(want, sizeof want, "test catalog: provider %s is still in the catalog", g);
    expect_out(want);
    expect_out("test catalog: entry 2001 was not rewritten");
    snprintf(want, sizeof want, "test catalog: entry 2001 still names removed id %lu",
             (unsigned long)lid);
    expect_out(want);
    expect_out("test catalog: the catalog did not change as expected; rolling back.");
    expect_out("Every catalog was put back as it was before this command.");
    ctlt_assert_equal(x, before, "uninstall without effect");

    /* The same with WSCDeinstallProvider missing: exit 4, named; the
     * dry run says which call it lacks. */
    b->update = NULL;
    b->deinstall = NULL;
    b->write_order = NULL;
    b->set_categories = NULL;
    expect_rc(run_on(b, ctl_uninstall, &o), CTL_EXIT_MISSING_FUNCTION);
    expect_out("test catalog: WSCUpdateProvider is not available on this system; peerlsp-ctl "
               "cannot make this change here.");
    ctlt_assert_equal(x, before, "uninstall with calls missing");
    o.dry_run = 1;
    expect_rc(run_on(b, ctl_uninstall, &o), CTL_EXIT_MISSING_FUNCTION);
    expect_out("test catalog: would make these calls:");
    expect_out("  test catalog: WSCUpdateProvider {5A5A0101-1111-2222-0102-030405060708} ");
    expect_out(": not available on this system");
    ctlt_assert_equal(x, before, "dry-run uninstall with calls missing");
    ctl_backend_destroy(b);
    simcat_destroy(before);
    simcat_destroy(x);

    /* peerlsp's GUID on a lone entry (no layered entry, no chain): the
     * only problem left is the provider itself staying. */
    struct simcat *base = ctlt_base_catalog();
    WSAPROTOCOL_INFOW lone = ctlt_entry(base, 1001);
    lone.ProviderId = peerlsp_guid;
    lone.dwCatalogEntryId = 3001;
    x = ctlt_edited(base, NULL, NULL, &lone, 1, PEERLSP_TEST_LSP_DLL);
    before = simcat_clone(x);
    b = ctl_backend_simcat(x, "test catalog");
    b->deinstall = noop_deinstall;
    o.dry_run = 0;
    expect_rc(run_on(b, ctl_uninstall, &o), CTL_EXIT_NO_EFFECT);
    snprintf(want, sizeof want, "test catalog: provider %s is still in the catalog", g);
    expect_out(want);
    expect_not_out("still names removed id");
    ctlt_assert_equal(x, before, "lone entry, uninstall without effect");
    ctl_backend_destroy(b);
    expect_rc(run_cat(x, ctl_uninstall, &o), CTL_EXIT_OK);
    ctlt_assert_equal(x, base, "lone entry removed");
    simcat_destroy(before);
    simcat_destroy(x);
    simcat_destroy(base);
    simcat_destroy(cat);
}

/* ---- uninstall's plans ------------------------------------------------------- */

static int path_except_other(struct ctl_backend *b, const GUID *guid, WCHAR path[MAX_PATH])
{
    if (IsEqualGUID(guid, &guid_other)) {
        path[0] = 0;
        return WSAEINVAL;
    }
    struct simcat *cat = ctl_backend_simcat_of(b);
    int len = MAX_PATH, err = 0;
    GUID g = *guid;
    return simcat_get_path(cat, &g, path, &len, &err) ? err : 0;
}

static void test_uninstall_plans(void **state)
{
    (void)state;
    struct simcat *cat = installed_catalog(), *base = ctlt_base_catalog();
    struct ctl_options o = ctlt_opts();

    /* Chains of peerlsp's under their own GUID go with it, that GUID
     * before peerlsp's own. */
    struct simcat *x = ctlt_edited(cat, chains_own_guid, NULL, NULL, 0, NULL);
    o.verbose = 1;
    expect_rc(run_cat(x, ctl_uninstall, &o), CTL_EXIT_OK);
    o.verbose = 0;
    const char *own = strstr(out, "WSCDeinstallProvider {5A5A0102-1111-2222-0102-030405060708}");
    const char *ours = strstr(out, "WSCDeinstallProvider {C7924C1B-0BBF-4CE2-BACC-376F63B54C01}");
    if (!own || !ours || own > ours)
        fail_msg("the chains' GUID is not removed before peerlsp's:\n%s", out);
    ctlt_assert_equal(x, base, "uninstall with chains under their own GUID");
    simcat_destroy(x);

    /* That GUID also holds an entry of its own: refused, nothing changed. */
    WSAPROTOCOL_INFOW extra = ctlt_entry(base, 1001);
    extra.ProviderId = guid_own_chains;
    extra.dwCatalogEntryId = 2500;
    wcscpy(extra.szProtocol, L"vendor's own base");
    x = ctlt_edited(cat, chains_own_guid, NULL, &extra, 1, PEERLSP_TEST_BASE_DLL);
    struct simcat *before = simcat_clone(x);
    expect_rc(run_cat(x, ctl_uninstall, &o), CTL_EXIT_PROBLEMS);
    expect_out("holds both peerlsp chains and other entries; remove it with its own installer "
               "first.");
    ctlt_assert_equal(x, before, "refused uninstall");
    simcat_destroy(before);
    simcat_destroy(x);

    /* An LSP above peerlsp whose path cannot be read: its chains cannot
     * be rewritten, so nothing is done. */
    WSAPROTOCOL_INFOW above[16];
    int n = over_peerlsp(cat, &guid_other, 2001, above, 16);
    x = ctlt_edited(cat, NULL, NULL, above, n, PEERLSP_TEST_BASE_DLL);
    before = simcat_clone(x);
    struct ctl_backend *b = ctl_backend_simcat(x, "test catalog");
    b->get_path = path_except_other;
    expect_rc(run_on(b, ctl_uninstall, &o), CTL_EXIT_MISSING_FUNCTION);
    expect_out("test catalog: the catalog gives no DLL path for the LSP above peerlsp (entry "
               "2001), so its chains cannot be rewritten.");
    ctlt_assert_equal(x, before, "LSP above without a path");
    ctl_backend_destroy(b);
    simcat_destroy(before);
    simcat_destroy(x);

    /* More LSPs above peerlsp than the tool rewrites in one go. */
    static WSAPROTOCOL_INFOW many[64];
    int k = 0;
    for (int v = 0; v < 9; v++) {
        GUID g = guid_other;
        g.Data1 += (DWORD)v + 16;
        WSAPROTOCOL_INFOW one[8];
        int m = over_peerlsp(cat, &g, 4000 + (DWORD)v * 200, one, 8);
        /* Only the first chain and the layered entry of each. */
        many[k++] = one[0];
        many[k++] = one[m - 1];
    }
    x = simcat_create();
    {
        static WSAPROTOCOL_INFOW e[64];
        int ne = ctlt_entries(cat, e, 64);
        for (int i = 0; i < ne; i++) {
            WCHAR path[MAX_PATH];
            int len = MAX_PATH, err = 0;
            GUID g = e[i].ProviderId;
            assert_int_equal(simcat_get_path(cat, &g, path, &len, &err), 0);
            assert_int_equal(simcat_add_entry(x, &e[i], path, 0), 0);
        }
        for (int i = 0; i < k; i++)
            assert_int_equal(simcat_add_entry(x, &many[i], PEERLSP_TEST_BASE_DLL, 0), 0);
    }
    before = simcat_clone(x);
    expect_rc(run_cat(x, ctl_uninstall, &o), CTL_EXIT_PROBLEMS);
    expect_out("test catalog: too many other LSPs layered over peerlsp.");
    ctlt_assert_equal(x, before, "too many LSPs above");
    simcat_destroy(before);
    simcat_destroy(x);

    /* One LSP above with more chains over peerlsp than one rewrite takes
     * (CTL_MAX_CHAINS): each of its chains names peerlsp's TCP chain. */
    WSAPROTOCOL_INFOW one[8];
    int m = over_peerlsp(cat, &guid_other, 2001, one, 8);
    k = 0;
    for (int i = 0; i <= CTL_MAX_CHAINS; i++) {
        many[k] = one[0];
        many[k].dwCatalogEntryId = 5000 + (DWORD)i;
        k++;
    }
    many[k++] = one[m - 1];
    x = ctlt_edited(cat, NULL, NULL, many, k, PEERLSP_TEST_BASE_DLL);
    before = simcat_clone(x);
    expect_rc(run_cat(x, ctl_uninstall, &o), CTL_EXIT_PROBLEMS);
    expect_out("test catalog: too many chains to rewrite.");
    ctlt_assert_equal(x, before, "too many chains above");
    simcat_destroy(before);
    simcat_destroy(x);

    /* peerlsp's chains spread over more GUIDs than one uninstall removes:
     * 33 more chains [peerlsp, base] under a GUID each. */
    DWORD lid = layered_id(cat);
    DWORD chain_ids[8];
    assert_int_equal(ctlt_chain_ids(cat, lid, chain_ids, 8), 4);
    WSAPROTOCOL_INFOW model = ctlt_entry(cat, chain_ids[0]);
    k = 0;
    for (int i = 0; i < 33; i++) {
        many[k] = model;
        many[k].dwCatalogEntryId = 6000 + (DWORD)i;
        many[k].ProviderId = guid_own_chains;
        many[k].ProviderId.Data1 += (DWORD)i + 1;
        k++;
    }
    x = simcat_clone(cat);
    for (int i = 0; i < k; i++)
        assert_int_equal(simcat_add_entry(x, &many[i], PEERLSP_TEST_LSP_DLL, 0), 0);
    before = simcat_clone(x);
    expect_rc(run_cat(x, ctl_uninstall, &o), CTL_EXIT_PROBLEMS);
    expect_out("Too many providers to remove in one go.");
    ctlt_assert_equal(x, before, "too many providers");
    simcat_destroy(before);
    simcat_destroy(x);
    simcat_destroy(base);
    simcat_destroy(cat);
}

/* ---- a snapshot file that cannot be written --------------------------- */

static void scratch(WCHAR path[MAX_PATH], const WCHAR *name)
{
    WCHAR dir[MAX_PATH];
    DWORD n = GetTempPathW(MAX_PATH, dir);
    assert_true(n > 0 && n < MAX_PATH - 60);
    _snwprintf(path, MAX_PATH, L"%lsctl-faults-%lu-%ls", dir, GetCurrentProcessId(), name);
    path[MAX_PATH - 1] = 0;
}

static char *slurp(const WCHAR *file, size_t *len)
{
    FILE *f = _wfopen(file, L"rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static void test_snapshot_held_open(void **state)
{
    (void)state;
    WCHAR file[MAX_PATH];
    scratch(file, L"held.snap");
    struct simcat *cat = ctlt_base_catalog();
    assert_int_equal(simcat_save(cat, file), 0);
    size_t len0, len1;
    char *before = slurp(file, &len0);
    struct ctl_options o = ctlt_opts();
    char want[96];
    /* Wine, like Windows, refuses to rename over a file open elsewhere
     * with ERROR_ACCESS_DENIED. */
    snprintf(want, sizeof want, ": could not be written: error %d.", (int)ERROR_ACCESS_DENIED);

    /* install: the change is made in memory, the file cannot be replaced:
     * exit 6, the file as it was. */
    struct ctl_backend *b = NULL;
    assert_int_equal(ctl_backend_file_open(file, &b), 0);
    HANDLE h = CreateFileW(file, GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    expect_rc(run_on(b, ctl_install, &o), CTL_EXIT_CALL_FAILED);
    expect_out(want);
    expect_out("Every catalog was put back as it was before this command.");
    expect_not_out("peerlsp installed");

    /* exclude: the same for an application's categories. */
    FILE *f = tmpfile();
    ctl_out_stream = ctl_err_stream = f;
    struct ctl_target t;
    memset(&t, 0, sizeof t);
    t.b = b;
    int rc = ctl_exclude(&t, 1, L"C:\\Windows\\System32\\wsl.exe", NULL, &o);
    ctl_out_stream = ctl_err_stream = NULL;
    rewind(f);
    out[fread(out, 1, sizeof out - 1, f)] = 0;
    fclose(f);
    /* peerlsp is not installed in the snapshot: exclude takes the default
     * categories away. */
    if (rc != CTL_EXIT_CALL_FAILED || !strstr(out, want) ||
        !strstr(out, "The program's categories were set back to 0x800000FF."))
        fail_msg("exclude with the snapshot held open: exit %d\n%s", rc, out);
    CloseHandle(h);
    ctl_backend_destroy(b);
    char *after = slurp(file, &len1);
    if (len0 != len1 || memcmp(before, after, len0))
        fail_msg("the snapshot file changed");
    free(after);

    /* include: installed and excluded on the file, then held open. */
    assert_int_equal(ctl_backend_file_open(file, &b), 0);
    expect_rc(run_on(b, ctl_install, &o), 0);
    t.b = b;
    f = tmpfile();
    ctl_out_stream = ctl_err_stream = f;
    rc = ctl_exclude(&t, 1, L"C:\\Windows\\System32\\wsl.exe", NULL, &o);
    assert_int_equal(rc, 0);
    ctl_backend_destroy(b);
    free(before);
    before = slurp(file, &len0);
    assert_int_equal(ctl_backend_file_open(file, &b), 0);
    h = CreateFileW(file, GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    t.b = b;
    rewind(f);
    rc = ctl_include(&t, 1, L"C:\\Windows\\System32\\wsl.exe", NULL, &o);
    ctl_out_stream = ctl_err_stream = NULL;
    long end = ftell(f);
    rewind(f);
    (void)end;
    out[fread(out, 1, sizeof out - 1, f)] = 0;
    fclose(f);
    if (rc != CTL_EXIT_CALL_FAILED || !strstr(out, want))
        fail_msg("include with the snapshot held open: exit %d\n%s", rc, out);
    /* In memory the categories went back to the excluded set. */
    DWORD v = 0;
    int err = 0;
    const WCHAR *wsl = L"C:\\Windows\\System32\\wsl.exe";
    assert_int_equal(simcat_get_app_category(ctl_backend_simcat_of(b), wsl, (DWORD)wcslen(wsl),
                                             NULL, 0, &v, &err),
                     0);
    assert_int_equal(v, CTL_ALL_LSP_CATEGORIES & ~CTL_DEFAULT_CATEGORIES);
    CloseHandle(h);
    ctl_backend_destroy(b);
    after = slurp(file, &len1);
    if (len0 != len1 || memcmp(before, after, len0))
        fail_msg("the snapshot file changed");
    free(after);
    free(before);
    DeleteFileW(file);
    simcat_destroy(cat);
}

/* ---- the change log ------------------------------------------------------- */

/* A backend standing for the system's catalog (its changes are logged). */
static int install_logged(struct simcat *cat)
{
    struct ctl_backend *b = ctl_backend_simcat(cat, "system catalog");
    assert_non_null(b);
    b->system_catalog = 1;
    struct ctl_options o = ctlt_opts();
    int rc = run_on(b, ctl_install, &o);
    ctl_backend_destroy(b);
    return rc;
}

static void test_change_log_unwritable(void **state)
{
    (void)state;
    WCHAR saved[MAX_PATH], dir[MAX_PATH], program_data[MAX_PATH];
    wcscpy(saved, ctl_log_file);
    DWORD n = GetEnvironmentVariableW(L"ProgramData", program_data, MAX_PATH);
    assert_true(n > 0 && n < MAX_PATH);

    /* A log file in a directory that does not exist. */
    scratch(dir, L"no-such-dir");
    swprintf(ctl_log_file, MAX_PATH, L"%ls\\peerlsp-ctl.log", dir);
    struct simcat *cat = ctlt_base_catalog();
    expect_rc(install_logged(cat), 0);
    char want[MAX_PATH + 80];
    snprintf(want, sizeof want, "peerlsp-ctl: the change log %ls cannot be written.",
             ctl_log_file);
    expect_out(want);
    expect_out("peerlsp installed");
    assert_int_not_equal(ctlt_layered_id(cat, &peerlsp_guid), 0);
    simcat_destroy(cat);

    /* The default place: no %ProgramData%, then one that does not exist. */
    ctl_log_file[0] = 0;
    static const WCHAR *const values[] = { NULL, L"Z:\\nonexistent\\peerlsp-programdata" };
    for (int i = 0; i < 2; i++) {
        assert_true(SetEnvironmentVariableW(L"ProgramData", values[i]));
        cat = ctlt_base_catalog();
        expect_rc(install_logged(cat), 0);
        expect_out("peerlsp-ctl: the change log %ProgramData%\\peerlsp\\peerlsp-ctl.log cannot "
                   "be written.");
        simcat_destroy(cat);
    }
    assert_true(SetEnvironmentVariableW(L"ProgramData", program_data));

    /* The catalog unreadable after the change: the entry says so. */
    WCHAR file[MAX_PATH];
    scratch(file, L"unreadable-after.log");
    DeleteFileW(file);
    wcscpy(ctl_log_file, file);
    cat = ctlt_base_catalog();
    struct ctl_backend *b = ctl_backend_simcat(cat, "system catalog");
    b->system_catalog = 1;
    reads.enumerate = b->enumerate;
    reads.calls = 0;
    reads.fail_from = 0;
    reads.once = 0;
    b->enumerate = counted_enum;
    struct ctl_options o = ctlt_opts();
    expect_rc(run_on(b, ctl_install, &o), 0);
    int total = reads.calls;
    expect_rc(run_on(b, ctl_uninstall, &o), 0);
    DeleteFileW(file);
    reads.calls = 0;
    reads.fail_from = total; /* the log's own read, the last */
    reads.once = 1;
    expect_rc(run_on(b, ctl_install, &o), 0);
    ctl_backend_destroy(b);
    size_t len;
    char *log = slurp(file, &len);
    log[len < (1 << 20) ? len : (1 << 20) - 1] = 0;
    if (!strstr(log, "system catalog: before (4 entries):") ||
        !strstr(log, "system catalog: after: cannot be read") ||
        !strstr(log, "result: exit 0 (changed as planned)"))
        fail_msg("log:\n%s", log);
    free(log);
    DeleteFileW(file);
    simcat_destroy(cat);

    /* A command line longer than the entry keeps: cut, still one line. */
    static WCHAR long_arg[3000];
    wmemset(long_arg, L'q', 2999);
    long_arg[2999] = 0;
    WCHAR *argv[] = { (WCHAR *)L"peerlsp-ctl", (WCHAR *)L"install", (WCHAR *)L"--dll",
                      long_arg };
    ctl_log_set_command(4, argv);
    ctl_log_note(0, "a note");
    log = slurp(file, &len);
    log[len < (1 << 20) ? len : (1 << 20) - 1] = 0;
    char *line = strstr(log, ": peerlsp-ctl install --dll");
    if (!line || !strstr(log, "\na note\r\nresult: exit 0"))
        fail_msg("log:\n%.300s", log);
    char *eol = strchr(line, '\n');
    if (!eol || eol - line > 2100)
        fail_msg("the command line runs on for %ld characters", eol ? (long)(eol - line) : -1L);
    for (char *p = line + strlen(": peerlsp-ctl install --dll "); p < eol; p++) {
        if (*p != 'q' && *p != '\r')
            fail_msg("the command line holds 0x%02x at %ld", (unsigned char)*p,
                     (long)(p - line));
    }
    free(log);
    DeleteFileW(file);
    ctl_log_set_command(0, NULL);
    wcscpy(ctl_log_file, saved);
}

/* ---- two catalogs, one with nothing to do ------------------------------ */

static void test_two_catalogs_one_to_do(void **state)
{
    (void)state;
    struct simcat *base = ctlt_base_catalog(), *c0 = installed_catalog(),
                  *c1 = simcat_clone(base);
    struct ctl_target t[2];
    memset(t, 0, sizeof t);
    t[0].b = ctl_backend_simcat(c0, "first catalog");
    t[1].b = ctl_backend_simcat(c1, "second catalog");
    struct ctl_options o = ctlt_opts();
    for (int dry = 1; dry >= 0; dry--) {
        o.dry_run = dry;
        FILE *f = tmpfile();
        ctl_out_stream = ctl_err_stream = f;
        int rc = ctl_uninstall(t, 2, &o);
        ctl_out_stream = ctl_err_stream = NULL;
        rewind(f);
        out[fread(out, 1, sizeof out - 1, f)] = 0;
        fclose(f);
        expect_rc(rc, 0);
        expect_out("second catalog: peerlsp is not installed; nothing to do.");
        expect_not_out("second catalog: would make these calls");
        ctlt_assert_equal(c1, base, "the second catalog");
        if (dry)
            expect_out("first catalog: would make these calls:");
    }
    ctlt_assert_equal(c0, base, "the first catalog after uninstall");
    ctl_backend_destroy(t[0].b);
    ctl_backend_destroy(t[1].b);
    simcat_destroy(c0);
    simcat_destroy(c1);
    simcat_destroy(base);
}

/* ---- status: the DLL's version --------------------------------------------- */

/* `cat` with peerlsp's path replaced by `path`. */
static struct simcat *with_peerlsp_path(struct simcat *cat, const WCHAR *path)
{
    static WSAPROTOCOL_INFOW e[64];
    int n = ctlt_entries(cat, e, 64);
    struct simcat *x = simcat_create();
    assert_non_null(x);
    for (int i = 0; i < n; i++) {
        WCHAR p[MAX_PATH];
        int len = MAX_PATH, err = 0;
        GUID g = e[i].ProviderId;
        assert_int_equal(simcat_get_path(cat, &g, p, &len, &err), 0);
        int ours = IsEqualGUID(&g, &peerlsp_guid);
        assert_int_equal(simcat_add_entry(x, &e[i], ours ? path : p,
                                          ours ? CTL_DEFAULT_CATEGORIES : 0),
                         0);
    }
    return x;
}

static void test_status_dll_version(void **state)
{
    (void)state;
    struct simcat *cat = installed_catalog();
    static const struct {
        const WCHAR *path;
        const char *says;
    } rows[] = {
        { L"%PEERLSP_TEST_LONG_DIR%\\peerlsp.dll", "version unknown (the path cannot be expanded)" },
        { L"Z:\\nonexistent\\peerlsp.dll", "version unknown (file missing, error 3)" },
        /* tbase.dll has no VERSIONINFO. */
        { PEERLSP_TEST_BASE_DLL, "version unknown (no version info, error " },
    };
    static WCHAR long_value[MAX_PATH + 8];
    wmemset(long_value, L'x', MAX_PATH + 4);
    long_value[MAX_PATH + 4] = 0;
    assert_true(SetEnvironmentVariableW(L"PEERLSP_TEST_LONG_DIR", long_value));
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct simcat *x = with_peerlsp_path(cat, rows[i].path);
        expect_rc(status(x), CTL_EXIT_PROBLEMS);
        expect_out(rows[i].says);
        expect_out("    problem: DLL ");
        simcat_destroy(x);
    }
    SetEnvironmentVariableW(L"PEERLSP_TEST_LONG_DIR", NULL);
    simcat_destroy(cat);
}

/* ---- repair --orphan: what it refuses, what it leaves ------------------- */

static int repair_orphans(struct simcat *cat, DWORD id)
{
    struct ctl_options o = ctlt_opts();
    o.orphan_ids[0] = id;
    o.norphans = 1;
    return run_cat(cat, ctl_repair, &o);
}

static void test_repair_orphan_refusals(void **state)
{
    (void)state;
    struct simcat *cat = installed_catalog(), *before = simcat_clone(cat);
    DWORD lid = layered_id(cat), chains[8];
    assert_int_equal(ctlt_chain_ids(cat, lid, chains, 8), 4);

    expect_rc(repair_orphans(cat, 9999), CTL_EXIT_USAGE);
    expect_out("test catalog: --orphan 9999: no such entry (see 'peerlsp-ctl list').");
    char want[128];
    snprintf(want, sizeof want, "test catalog: --orphan %lu: that is peerlsp's entry; plain "
             "'peerlsp-ctl repair' handles it.", (unsigned long)chains[0]);
    expect_rc(repair_orphans(cat, chains[0]), CTL_EXIT_USAGE);
    expect_out(want);
    ctlt_assert_equal(cat, before, "refused --orphan");

    /* Another vendor's broken chain whose provider also has a working
     * entry: named, but left alone. */
    WSAPROTOCOL_INFOW extra[3];
    WSAPROTOCOL_INFOW b = ctlt_entry(cat, 1001);
    extra[0] = b; /* its layered entry */
    extra[0].ProviderId = guid_other;
    extra[0].dwCatalogEntryId = 2001;
    extra[0].ProtocolChain.ChainLen = LAYERED_PROTOCOL;
    memset(extra[0].ProtocolChain.ChainEntries, 0, sizeof extra[0].ProtocolChain.ChainEntries);
    extra[0].dwProviderFlags |= PFL_HIDDEN;
    wcscpy(extra[0].szProtocol, L"vendor layered");
    extra[1] = b; /* its chain over an entry that is gone */
    extra[1].ProviderId = guid_other;
    extra[1].dwCatalogEntryId = 2100;
    extra[1].ProtocolChain.ChainLen = 2;
    extra[1].ProtocolChain.ChainEntries[0] = 2001;
    extra[1].ProtocolChain.ChainEntries[1] = 9999;
    wcscpy(extra[1].szProtocol, L"vendor over nothing");
    extra[2] = b; /* a base entry of its own that works */
    extra[2].ProviderId = guid_other;
    extra[2].dwCatalogEntryId = 2200;
    extra[2].ProtocolChain.ChainEntries[0] = 2200;
    wcscpy(extra[2].szProtocol, L"vendor base");
    struct simcat *x = ctlt_edited(cat, NULL, NULL, extra, 3, PEERLSP_TEST_BASE_DLL);
    struct simcat *xb = simcat_clone(x);
    expect_rc(repair_orphans(x, 2100), CTL_EXIT_OK);
    expect_out("test catalog: entry 2100 \"vendor over nothing\" is broken (chain element 1 is "
               "id 9999, which does not exist), but its provider also has working entries; "
               "left alone (remove that LSP with its own installer)");
    expect_out("test catalog: nothing to repair.");
    ctlt_assert_equal(x, xb, "a vendor's provider with a working entry");
    simcat_destroy(xb);
    simcat_destroy(x);

    /* Without the working entry it goes, as asked. */
    x = ctlt_edited(cat, NULL, NULL, extra, 2, PEERLSP_TEST_BASE_DLL);
    expect_rc(repair_orphans(x, 2100), CTL_EXIT_OK);
    expect_out("removing its provider as asked");
    ctlt_assert_equal(x, before, "a dead vendor's provider removed");
    simcat_destroy(x);

    /* Only its layered entry left (its chains removed by someone else):
     * reported with the command; removed when named. */
    x = ctlt_edited(cat, NULL, NULL, extra, 1, PEERLSP_TEST_BASE_DLL);
    xb = simcat_clone(x);
    struct ctl_options o = ctlt_opts();
    expect_rc(run_cat(x, ctl_repair, &o), CTL_EXIT_OK);
    expect_out("test catalog: entry 2001 \"vendor layered\" is a layered entry no chain uses; "
               "not peerlsp's, left alone (to remove its provider: peerlsp-ctl repair --orphan "
               "2001)");
    ctlt_assert_equal(x, xb, "an unused layered entry, not named");
    expect_rc(repair_orphans(x, 2001), CTL_EXIT_OK);
    expect_out("test catalog: entry 2001 \"vendor layered\" is a layered entry no chain uses; "
               "removing its provider as asked");
    ctlt_assert_equal(x, before, "an unused layered entry removed");
    simcat_destroy(xb);
    simcat_destroy(x);
    simcat_destroy(before);
    simcat_destroy(cat);
}

/* ---- the catalog reader --------------------------------------------------- */

/* A WSCEnumProtocols that answers WSAENOBUFS `grow` times, each time for
 * one more entry (the catalog growing between the size query and the
 * read), then reads, or fails with `fail` from call `fail_at`. */
static struct {
    int calls, grow, fail_at, fail;
} enumsim;

static int growing_enum(void *ctx, WSAPROTOCOL_INFOW *buf, LPDWORD len, LPINT err)
{
    (void)ctx;
    enumsim.calls++;
    if (enumsim.fail_at && enumsim.calls >= enumsim.fail_at) {
        *err = enumsim.fail;
        return SOCKET_ERROR;
    }
    DWORD entries = 1 + (DWORD)(enumsim.calls < enumsim.grow ? enumsim.calls : enumsim.grow);
    if (enumsim.calls <= enumsim.grow || *len < entries * sizeof *buf) {
        *len = entries * (DWORD)sizeof *buf;
        *err = WSAENOBUFS;
        return SOCKET_ERROR;
    }
    for (DWORD i = 0; i < entries; i++) {
        memset(&buf[i], 0, sizeof buf[i]);
        buf[i].dwCatalogEntryId = 1001 + i;
    }
    return (int)entries;
}

static void test_catalog_reader(void **state)
{
    (void)state;
    WSAPROTOCOL_INFOW *e = NULL;
    DWORD n = 0;
    /* The size query, then the catalog grows once before the read: read
     * on the third call. */
    memset(&enumsim, 0, sizeof enumsim);
    enumsim.grow = 2;
    assert_int_equal(ctl_enumerate_with(growing_enum, NULL, &e, &n), 0);
    assert_int_equal(enumsim.calls, 3);
    assert_int_equal(n, 3);
    assert_int_equal(e[2].dwCatalogEntryId, 1003);
    free(e);
    /* Grows every time: gives up after four attempts with WSAENOBUFS. */
    memset(&enumsim, 0, sizeof enumsim);
    enumsim.grow = 100;
    assert_int_equal(ctl_enumerate_with(growing_enum, NULL, &e, &n), WSAENOBUFS);
    assert_int_equal(enumsim.calls, 4);
    assert_null(e);
    assert_int_equal(n, 0);
    /* Another error: given back at once. */
    memset(&enumsim, 0, sizeof enumsim);
    enumsim.fail_at = 2;
    enumsim.fail = WSAEACCES;
    assert_int_equal(ctl_enumerate_with(growing_enum, NULL, &e, &n), WSAEACCES);
    assert_int_equal(enumsim.calls, 2);
    assert_null(e);

    /* Chains that cannot be: out-of-range lengths, elements of the wrong
     * kind. */
    WSAPROTOCOL_INFOW x[4];
    memset(x, 0, sizeof x);
    x[0].dwCatalogEntryId = 1001; /* a base entry */
    x[0].ProtocolChain.ChainLen = BASE_PROTOCOL;
    x[0].ProtocolChain.ChainEntries[0] = 1001;
    x[1].dwCatalogEntryId = 1002; /* a layered entry */
    x[1].ProtocolChain.ChainLen = LAYERED_PROTOCOL;
    x[2].dwCatalogEntryId = 1003; /* [layered, layered] */
    x[2].ProtocolChain.ChainLen = 2;
    x[2].ProtocolChain.ChainEntries[0] = 1002;
    x[2].ProtocolChain.ChainEntries[1] = 1002;
    x[3].dwCatalogEntryId = 1004; /* [base, base] */
    x[3].ProtocolChain.ChainLen = 2;
    x[3].ProtocolChain.ChainEntries[0] = 1001;
    x[3].ProtocolChain.ChainEntries[1] = 1001;
    struct ctl_catalog c;
    memset(&c, 0, sizeof c);
    c.e = x;
    c.n = 4;
    char why[160];
    assert_int_equal(ctl_chain_broken(&c, &x[2], why, sizeof why), 1);
    assert_string_equal(why, "chain element 1 (id 1002) is a layered entry, expected a base entry");
    assert_int_equal(ctl_chain_broken(&c, &x[3], why, sizeof why), 1);
    assert_string_equal(why, "chain element 0 (id 1001) is a base entry, expected a layered or "
                             "chain entry");
    WSAPROTOCOL_INFOW odd = x[2];
    odd.ProtocolChain.ChainLen = MAX_PROTOCOL_CHAIN + 1;
    assert_int_equal(ctl_chain_broken(&c, &odd, why, sizeof why), 1);
    assert_string_equal(why, "ChainLen 8 is out of range");
    odd.ProtocolChain.ChainLen = -1;
    assert_int_equal(ctl_chain_broken(&c, &odd, why, sizeof why), 1);
    assert_string_equal(why, "ChainLen -1 is out of range");
    assert_int_equal(ctl_chain_broken(&c, &x[0], why, sizeof why), 0);
    assert_int_equal(ctl_chain_broken(&c, &x[1], why, sizeof why), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_damage),
        cmocka_unit_test(test_unreadable_catalogs),
        cmocka_unit_test(test_catalog_unreadable_midway),
        cmocka_unit_test(test_uninstall_without_effect),
        cmocka_unit_test(test_uninstall_plans),
        cmocka_unit_test(test_snapshot_held_open),
        cmocka_unit_test(test_change_log_unwritable),
        cmocka_unit_test(test_two_catalogs_one_to_do),
        cmocka_unit_test(test_status_dll_version),
        cmocka_unit_test(test_repair_orphan_refusals),
        cmocka_unit_test(test_catalog_reader),
    };
    return cmocka_run_group_tests_name("peerlsp-ctl on broken catalogs and failing calls", tests,
                                       NULL, NULL);
}
