/*
 * test_ctl_core.c - peerlsp-ctl's transaction logic, in process, against
 * the simulated catalog: the layout install makes, "never half-installed"
 * proved by failing every mutating catalog call (and, separately, the one
 * after it) of install, uninstall and repair, 100 install/uninstall cycles,
 * other LSPs above and below peerlsp, uninstall with the DLL deleted,
 * verify and repair on broken catalogs, and both catalogs as one
 * transaction.
 */
#include "ctl_test.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include <peerlsp/peerlsp.h>
#include <peerlsp/version.h>

#include "tbase.h"

static const GUID peerlsp_guid = PEERLSP_GUID_INIT;
static const GUID guid_x = { 0x5a5a0001, 0x1111, 0x2222, { 1, 2, 3, 4, 5, 6, 7, 8 } };
static const GUID guid_y = { 0x5a5a0002, 0x1111, 0x2222, { 1, 2, 3, 4, 5, 6, 7, 8 } };

static void install_ok(struct simcat *cat)
{
    struct ctl_options o = ctlt_opts();
    int rc = ctlt_install(cat, PEERLSP_TEST_LSP_DLL, &o);
    if (rc != 0)
        fail_msg("install: exit %d\n%s", rc, ctlt_output());
}

static void remove_guid(struct simcat *cat, const GUID *g)
{
    int err = 0;
    GUID copy = *g;
    if (simcat_deinstall(cat, &copy, &err))
        fail_msg("simcat_deinstall: %d", err);
}

/* ---- the layout -------------------------------------------------------- */

static void test_install_layout(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog(), *base = simcat_clone(cat);
    install_ok(cat);

    DWORD lid = ctlt_layered_id(cat, &peerlsp_guid), chains[8];
    assert_int_not_equal(lid, 0);
    WSAPROTOCOL_INFOW l = ctlt_entry(cat, lid);
    assert_true(l.dwProviderFlags & PFL_HIDDEN);
    assert_true(l.dwServiceFlags1 & XP1_IFS_HANDLES);
    assert_int_equal(l.iSocketType, 0);
    assert_string_equal((const char *)"peerlsp", (const char *)"peerlsp");
    assert_int_equal(wcscmp(l.szProtocol, L"peerlsp"), 0);

    DWORD n = ctlt_chain_ids(cat, lid, chains, 8);
    assert_int_equal(n, 4);
    WSAPROTOCOL_INFOW all[16];
    DWORD size = sizeof all;
    int err = 0, count = simcat_enum(cat, NULL, all, &size, &err);
    assert_int_equal(count, 9);
    static const struct {
        int af, type;
    } want[4] = { { AF_INET, SOCK_STREAM }, { AF_INET, SOCK_DGRAM },
                  { AF_INET6, SOCK_STREAM }, { AF_INET6, SOCK_DGRAM } };
    for (int i = 0; i < 4; i++) {
        /* Chains first, in protocol order, each [layered, base]. */
        const WSAPROTOCOL_INFOW *c = &all[i];
        if (c->ProtocolChain.ChainLen != 2 || c->ProtocolChain.ChainEntries[0] != lid)
            fail_msg("entry %d: ChainLen %d, top %lu; expected 2 and %lu", i,
                     c->ProtocolChain.ChainLen, (unsigned long)c->ProtocolChain.ChainEntries[0],
                     (unsigned long)lid);
        assert_int_equal(c->iAddressFamily, want[i].af);
        assert_int_equal(c->iSocketType, want[i].type);
        assert_true(IsEqualGUID(&c->ProviderId, &peerlsp_guid));
        WSAPROTOCOL_INFOW b = ctlt_entry(cat, c->ProtocolChain.ChainEntries[1]);
        assert_int_equal(b.ProtocolChain.ChainLen, 1);
        WCHAR name[WSAPROTOCOL_LEN + 1];
        swprintf(name, WSAPROTOCOL_LEN + 1, L"peerlsp over %ls", b.szProtocol);
        if (wcscmp(c->szProtocol, name))
            fail_msg("chain %d named \"%ls\", expected \"%ls\"", i, c->szProtocol, name);
    }
    DWORD cats = 0xdeadbeef;
    size_t cs = sizeof cats;
    GUID g = peerlsp_guid;
    assert_int_equal(simcat_get_provider_info(cat, &g, ProviderInfoLspCategories, (PBYTE)&cats,
                                              &cs, 0, &err),
                     0);
    assert_int_equal(cats, CTL_DEFAULT_CATEGORIES);
    WCHAR path[MAX_PATH];
    int plen = MAX_PATH;
    assert_int_equal(simcat_get_path(cat, &g, path, &plen, &err), 0);
    assert_int_equal(wcscmp(path, PEERLSP_TEST_LSP_DLL), 0);

    struct ctl_options o = ctlt_opts();
    assert_int_equal(ctlt_verify(cat, &o), 0);

    /* Installing again is a no-op that says so. */
    struct simcat *installed = simcat_clone(cat);
    assert_int_equal(ctlt_install(cat, PEERLSP_TEST_LSP_DLL, &o), 0);
    assert_non_null(strstr(ctlt_output(), "already installed"));
    ctlt_assert_equal(cat, installed, "second install");

    assert_int_equal(ctlt_uninstall(cat, &o), 0);
    ctlt_assert_equal(cat, base, "after uninstall");
    simcat_destroy(installed);
    simcat_destroy(base);
    simcat_destroy(cat);
}

static void test_install_protocol_choice(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog();
    struct ctl_options o = ctlt_opts();
    o.protocols = CTL_PROTO_TCP4 | CTL_PROTO_TCP6;
    o.categories = 0x20;
    assert_int_equal(ctlt_install(cat, PEERLSP_TEST_LSP_DLL, &o), 0);
    DWORD chains[8], lid = ctlt_layered_id(cat, &peerlsp_guid);
    assert_int_equal(ctlt_chain_ids(cat, lid, chains, 8), 2);
    for (int i = 0; i < 2; i++)
        assert_int_equal(ctlt_entry(cat, chains[i]).iSocketType, SOCK_STREAM);
    simcat_destroy(cat);
}

/* ---- fault injection --------------------------------------------------- */

typedef int (*command_fn)(struct simcat *cat);

static int cmd_install(struct simcat *cat)
{
    struct ctl_options o = ctlt_opts();
    return ctlt_install(cat, PEERLSP_TEST_LSP_DLL, &o);
}

static int cmd_uninstall(struct simcat *cat)
{
    struct ctl_options o = ctlt_opts();
    return ctlt_uninstall(cat, &o);
}

static int cmd_repair(struct simcat *cat)
{
    struct ctl_options o = ctlt_opts();
    return ctlt_repair(cat, &o);
}

/* Fails the k-th mutating call for k = 1, 2, ... (so every call, and
 * separately the one after it) until the command gets through without
 * reaching the injection; after each failure the catalog must be exactly
 * the one before. Returns the number of mutating calls of a clean run. */
static int fault_matrix(struct simcat *start, command_fn cmd, const char *what,
                        int expect_calls)
{
    static const int errors[] = { WSANO_RECOVERY, WSAENOBUFS };
    int calls = -1;
    for (int k = 1; k <= 40 && calls < 0; k++) {
        for (size_t e = 0; e < 2; e++) {
            struct simcat *cat = simcat_clone(start);
            assert_non_null(cat);
            simcat_fail_call(cat, k, errors[e]);
            int rc = cmd(cat);
            if (rc == CTL_EXIT_OK) {
                calls = k - 1;
            } else {
                if (rc != CTL_EXIT_CALL_FAILED)
                    fail_msg("%s: call %d failing with %d: exit %d, expected %d\n%s", what, k,
                             errors[e], rc, CTL_EXIT_CALL_FAILED, ctlt_output());
                char label[96];
                snprintf(label, sizeof label, "%s, call %d failing", what, k);
                ctlt_assert_equal(cat, start, label);
            }
            simcat_destroy(cat);
        }
    }
    if (calls != expect_calls)
        fail_msg("%s: %d mutating calls, expected %d", what, calls, expect_calls);
    return calls;
}

static void test_install_fault_matrix(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog();
    /* WSCInstallProviderAndChains, WSCSetProviderInfo. */
    fault_matrix(cat, cmd_install, "install", 2);
    /* Without it: WSCInstallProvider, WSCUpdateProvider,
     * WSCWriteProviderOrder, WSCSetProviderInfo. */
    ctlt_without_and_chains = 1;
    fault_matrix(cat, cmd_install, "two-step install", 4);
    ctlt_without_and_chains = 0;
    simcat_destroy(cat);
}

static void test_uninstall_fault_matrix(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog();
    install_ok(cat);
    fault_matrix(cat, cmd_uninstall, "uninstall", 1);
    simcat_destroy(cat);
}

static void test_repair_fault_matrix(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog();
    install_ok(cat);
    remove_guid(cat, &TBASE_GUID_IPV4); /* peerlsp's IPv4 chains now point at nothing */
    fault_matrix(cat, cmd_repair, "repair", 1);
    simcat_destroy(cat);
}

/* The rollback's own first call fails too: it retries from a fresh read. */
struct flaky {
    struct ctl_backend *inner;
    int count, fail_a, fail_b;
};

static struct flaky flaky_state;

static int flaky_take(void)
{
    flaky_state.count++;
    return flaky_state.count == flaky_state.fail_a || flaky_state.count == flaky_state.fail_b;
}

static int fl_install(struct ctl_backend *b, const GUID *g, const WCHAR *p,
                      const WSAPROTOCOL_INFOW *l, DWORD n)
{
    (void)b;
    return flaky_take() ? WSAENOBUFS : flaky_state.inner->install(flaky_state.inner, g, p, l, n);
}
static int fl_deinstall(struct ctl_backend *b, const GUID *g)
{
    (void)b;
    return flaky_take() ? WSAENOBUFS : flaky_state.inner->deinstall(flaky_state.inner, g);
}
static int fl_update(struct ctl_backend *b, const GUID *g, const WCHAR *p,
                     const WSAPROTOCOL_INFOW *l, DWORD n)
{
    (void)b;
    return flaky_take() ? WSAENOBUFS : flaky_state.inner->update(flaky_state.inner, g, p, l, n);
}
static int fl_write_order(struct ctl_backend *b, const DWORD *ids, DWORD n)
{
    (void)b;
    return flaky_take() ? WSAENOBUFS : flaky_state.inner->write_order(flaky_state.inner, ids, n);
}
static int fl_set_categories(struct ctl_backend *b, const GUID *g, DWORD c)
{
    (void)b;
    return flaky_take() ? WSAENOBUFS
                        : flaky_state.inner->set_categories(flaky_state.inner, g, c);
}
static int fl_enumerate(struct ctl_backend *b, WSAPROTOCOL_INFOW **o, DWORD *n)
{
    (void)b;
    return flaky_state.inner->enumerate(flaky_state.inner, o, n);
}
static int fl_get_path(struct ctl_backend *b, const GUID *g, WCHAR p[MAX_PATH])
{
    (void)b;
    return flaky_state.inner->get_path(flaky_state.inner, g, p);
}
static int fl_get_categories(struct ctl_backend *b, const GUID *g, DWORD *c)
{
    (void)b;
    return flaky_state.inner->get_categories(flaky_state.inner, g, c);
}

static void test_rollback_survives_its_own_failure(void **state)
{
    (void)state;
    struct simcat *start = ctlt_base_catalog();
    install_ok(start);
    DWORD lid = ctlt_layered_id(start, &peerlsp_guid), chains[4];
    assert_int_equal(ctlt_chain_ids(start, lid, chains, 4), 4);
    /* Another LSP above peerlsp, so uninstall has a rewrite to undo. */
    struct host_lsp_ids xids;
    assert_int_equal(host_catalog_install_lsp_over(start, PEERLSP_TEST_BASE_DLL, &guid_x,
                                                   L"lspX", HOST_CHAINS_SHARE_GUID, chains, 4,
                                                   &xids),
                     0);
    struct simcat *fresh = ctlt_base_catalog();
    static const struct {
        const char *name;
        int is_install;
    } rows[] = { { "install", 1 }, { "uninstall", 0 } };
    for (size_t r = 0; r < 2; r++) {
        struct simcat *from = rows[r].is_install ? fresh : start;
        for (int k = 1; k <= 4; k++) {
            struct simcat *cat = simcat_clone(from);
            struct ctl_backend *inner = ctl_backend_simcat(cat, "inner"), outer;
            memset(&outer, 0, sizeof outer);
            outer = *inner;
            outer.install = fl_install;
            outer.deinstall = fl_deinstall;
            outer.update = fl_update;
            outer.write_order = fl_write_order;
            outer.set_categories = fl_set_categories;
            outer.enumerate = fl_enumerate;
            outer.get_path = fl_get_path;
            outer.get_categories = fl_get_categories;
            outer.commit = NULL;
            flaky_state = (struct flaky){ inner, 0, k, k + 1 };
            struct ctl_target t = { &outer, PEERLSP_TEST_LSP_DLL, 1 };
            struct ctl_options o = ctlt_opts();
            FILE *f = tmpfile();
            ctl_out_stream = ctl_err_stream = f;
            int rc = rows[r].is_install ? ctl_install(&t, 1, &o) : ctl_uninstall(&t, 1, &o);
            ctl_out_stream = ctl_err_stream = NULL;
            fclose(f);
            if (flaky_state.count >= k) {
                if (rc != CTL_EXIT_CALL_FAILED)
                    fail_msg("%s, calls %d and %d failing: exit %d", rows[r].name, k, k + 1, rc);
                char label[96];
                snprintf(label, sizeof label, "%s, calls %d and %d failing", rows[r].name, k,
                         k + 1);
                ctlt_assert_equal(cat, from, label);
            }
            ctl_backend_destroy(inner);
            simcat_destroy(cat);
        }
    }
    simcat_destroy(fresh);
    simcat_destroy(start);
}

/* ---- cycles ------------------------------------------------------------ */

static void test_hundred_cycles(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog(), *start = simcat_clone(cat);
    struct ctl_options o = ctlt_opts();
    for (int i = 0; i < 100; i++) {
        int rc = ctlt_install(cat, PEERLSP_TEST_LSP_DLL, &o);
        if (rc)
            fail_msg("cycle %d: install exit %d\n%s", i, rc, ctlt_output());
        rc = ctlt_uninstall(cat, &o);
        if (rc)
            fail_msg("cycle %d: uninstall exit %d\n%s", i, rc, ctlt_output());
    }
    ctlt_assert_equal(cat, start, "after 100 cycles");
    simcat_destroy(start);
    simcat_destroy(cat);
}

/* ---- other LSPs -------------------------------------------------------- */

/* Y installed first: peerlsp layers over Y's chains (what socket() picks),
 * so Y keeps seeing the traffic; uninstall gives back Y's catalog. */
static void test_lsp_below(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog();
    struct host_lsp_ids yids;
    assert_int_equal(host_catalog_install_lsp_over(cat, PEERLSP_TEST_BASE_DLL, &guid_y, L"lspY",
                                                   HOST_CHAINS_SHARE_GUID, NULL, 0, &yids),
                     0);
    struct simcat *with_y = simcat_clone(cat);
    fault_matrix(cat, cmd_install, "install over lspY", 4);
    install_ok(cat);
    DWORD lid = ctlt_layered_id(cat, &peerlsp_guid), chains[4];
    assert_int_equal(ctlt_chain_ids(cat, lid, chains, 4), 4);
    for (int i = 0; i < 4; i++) {
        WSAPROTOCOL_INFOW c = ctlt_entry(cat, chains[i]);
        if (c.ProtocolChain.ChainLen != 3 ||
            c.ProtocolChain.ChainEntries[1] != yids.layered_id)
            fail_msg("chain %lu: ChainLen %d, second %lu; expected 3 and lspY's %lu",
                     (unsigned long)chains[i], c.ProtocolChain.ChainLen,
                     (unsigned long)c.ProtocolChain.ChainEntries[1],
                     (unsigned long)yids.layered_id);
    }
    struct ctl_options o = ctlt_opts();
    assert_int_equal(ctlt_verify(cat, &o), 0);
    fault_matrix(cat, cmd_uninstall, "uninstall over lspY", 1);
    assert_int_equal(ctlt_uninstall(cat, &o), 0);
    ctlt_assert_equal(cat, with_y, "lspY alone again");
    simcat_destroy(with_y);
    simcat_destroy(cat);
}

/* X installed over peerlsp's chains: uninstall rewrites X's chains without
 * peerlsp (same ids, same place) and X keeps working. */
static void test_lsp_above(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog();
    install_ok(cat);
    DWORD lid = ctlt_layered_id(cat, &peerlsp_guid), chains[4], bases[4];
    assert_int_equal(ctlt_chain_ids(cat, lid, chains, 4), 4);
    for (int i = 0; i < 4; i++)
        bases[i] = ctlt_entry(cat, chains[i]).ProtocolChain.ChainEntries[1];
    struct host_lsp_ids xids;
    assert_int_equal(host_catalog_install_lsp_over(cat, PEERLSP_TEST_BASE_DLL, &guid_x, L"lspX",
                                                   HOST_CHAINS_SHARE_GUID, chains, 4, &xids),
                     0);
    struct ctl_options o = ctlt_opts();
    assert_int_equal(ctlt_verify(cat, &o), 0);
    /* A rewrite of X's chains, then peerlsp's removal. */
    fault_matrix(cat, cmd_uninstall, "uninstall under lspX", 2);
    assert_int_equal(ctlt_uninstall(cat, &o), 0);
    assert_int_equal(ctlt_layered_id(cat, &peerlsp_guid), 0);
    for (int i = 0; i < 4; i++) {
        WSAPROTOCOL_INFOW c = ctlt_entry(cat, xids.chain_ids[i]);
        WSAPROTOCOL_INFOW b = ctlt_entry(cat, bases[i]);
        WCHAR name[WSAPROTOCOL_LEN + 1];
        swprintf(name, WSAPROTOCOL_LEN + 1, L"lspX over %ls", b.szProtocol);
        if (c.ProtocolChain.ChainLen != 2 || c.ProtocolChain.ChainEntries[0] != xids.layered_id ||
            c.ProtocolChain.ChainEntries[1] != bases[i])
            fail_msg("lspX chain %lu: ChainLen %d [%lu %lu], expected 2 [%lu %lu]",
                     (unsigned long)xids.chain_ids[i], c.ProtocolChain.ChainLen,
                     (unsigned long)c.ProtocolChain.ChainEntries[0],
                     (unsigned long)c.ProtocolChain.ChainEntries[1],
                     (unsigned long)xids.layered_id, (unsigned long)bases[i]);
        if (wcscmp(c.szProtocol, name))
            fail_msg("lspX chain named \"%ls\", expected \"%ls\"", c.szProtocol, name);
    }
    /* Nothing is broken; peerlsp can come back under X's chains' base. */
    struct ctl_catalog c;
    struct ctl_backend *b = ctl_backend_simcat(cat, "t");
    assert_int_equal(ctl_catalog_read(b, &c), 0);
    char why[192];
    for (DWORD i = 0; i < c.n; i++)
        if (ctl_chain_broken(&c, &c.e[i], why, sizeof why))
            fail_msg("entry %lu broken: %s", (unsigned long)c.e[i].dwCatalogEntryId, why);
    ctl_catalog_free(&c);
    ctl_backend_destroy(b);
    simcat_destroy(cat);
}

/* ---- the DLL ------------------------------------------------------------ */

static void test_uninstall_with_dll_deleted(void **state)
{
    (void)state;
    WCHAR dir[MAX_PATH], copy[MAX_PATH];
    assert_true(GetTempPathW(MAX_PATH, dir) > 0);
    assert_true(GetTempFileNameW(dir, L"plc", 0, copy) != 0);
    assert_true(CopyFileW(PEERLSP_TEST_LSP_DLL, copy, FALSE));
    struct simcat *cat = ctlt_base_catalog(), *start = simcat_clone(cat);
    struct ctl_options o = ctlt_opts();
    int rc = ctlt_install(cat, copy, &o);
    if (rc)
        fail_msg("install from %ls: exit %d\n%s", copy, rc, ctlt_output());
    if (!DeleteFileW(copy))
        fail_msg("cannot delete %ls: error %lu (still loaded?)", copy, GetLastError());
    assert_int_equal(ctlt_verify(cat, &o), CTL_EXIT_PROBLEMS);
    assert_non_null(strstr(ctlt_output(), "does not exist"));
    rc = ctlt_uninstall(cat, &o);
    if (rc)
        fail_msg("uninstall: exit %d\n%s", rc, ctlt_output());
    ctlt_assert_equal(cat, start, "after uninstall without the DLL");
    simcat_destroy(start);
    simcat_destroy(cat);
}

static void test_bad_dll_paths(void **state)
{
    (void)state;
    static const struct {
        const char *row;
        const WCHAR *path;
        const char *says;
    } rows[] = {
        { "relative", L"peerlsp.dll", "not absolute" },
        { "missing", L"Z:\\nonexistent\\peerlsp-ctl-tests\\peerlsp.dll", "does not exist" },
        { "no GetLspGuid", PEERLSP_TEST_BASE_DLL, "GetLspGuid" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct simcat *cat = ctlt_base_catalog(), *start = simcat_clone(cat);
        struct ctl_options o = ctlt_opts();
        int rc = ctlt_install(cat, rows[i].path, &o);
        if (rc != CTL_EXIT_BAD_DLL)
            fail_msg("%s: exit %d, expected %d", rows[i].row, rc, CTL_EXIT_BAD_DLL);
        if (!strstr(ctlt_output(), rows[i].says))
            fail_msg("%s: output lacks \"%s\":\n%s", rows[i].row, rows[i].says, ctlt_output());
        ctlt_assert_equal(cat, start, rows[i].row);
        simcat_destroy(start);
        simcat_destroy(cat);
    }
}

/* ---- verify and repair ------------------------------------------------- */

static void test_verify_and_repair_base_gone(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog();
    install_ok(cat);
    remove_guid(cat, &TBASE_GUID_IPV4);
    struct simcat *expect = ctlt_base_catalog();
    remove_guid(expect, &TBASE_GUID_IPV4);
    struct ctl_options o = ctlt_opts();
    assert_int_equal(ctlt_verify(cat, &o), CTL_EXIT_PROBLEMS);
    assert_non_null(strstr(ctlt_output(), "does not exist"));
    o.dry_run = 1;
    struct simcat *before = simcat_clone(cat);
    assert_int_equal(ctlt_repair(cat, &o), 0);
    ctlt_assert_equal(cat, before, "repair --dry-run");
    assert_non_null(strstr(ctlt_output(), "WSCDeinstallProvider"));
    o.dry_run = 0;
    int rc = ctlt_repair(cat, &o);
    if (rc)
        fail_msg("repair: exit %d\n%s", rc, ctlt_output());
    assert_non_null(strstr(ctlt_output(), "install it again"));
    ctlt_assert_equal(cat, expect, "after repair");
    assert_int_equal(ctlt_repair(cat, &o), 0);
    assert_non_null(strstr(ctlt_output(), "nothing to repair"));
    simcat_destroy(before);
    simcat_destroy(expect);
    simcat_destroy(cat);
}

static void test_repair_orphaned_layered_entry(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog(), *start = simcat_clone(cat);
    struct host_lsp_ids ids;
    assert_int_equal(host_catalog_install_lsp(cat, PEERLSP_TEST_LSP_DLL, &peerlsp_guid,
                                              HOST_CHAINS_OWN_GUID, &ids),
                     0);
    for (DWORD i = 0; i < ids.chain_count; i++)
        remove_guid(cat, &ids.chain_guids[i]);
    struct ctl_options o = ctlt_opts();
    assert_int_equal(ctlt_verify(cat, &o), CTL_EXIT_PROBLEMS);
    assert_non_null(strstr(ctlt_output(), "no protocol chains"));
    assert_int_equal(ctlt_repair(cat, &o), 0);
    ctlt_assert_equal(cat, start, "orphaned layered entry removed");
    simcat_destroy(start);
    simcat_destroy(cat);
}

/* Chains under their own GUIDs (another installer's layout): only the
 * broken ones go; the rest of peerlsp stays and verifies. */
static void test_repair_own_guid_chains(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog();
    struct host_lsp_ids ids;
    assert_int_equal(host_catalog_install_lsp(cat, PEERLSP_TEST_LSP_DLL, &peerlsp_guid,
                                              HOST_CHAINS_OWN_GUID, &ids),
                     0);
    remove_guid(cat, &TBASE_GUID_IPV4);
    struct ctl_options o = ctlt_opts();
    int rc = ctlt_repair(cat, &o);
    if (rc)
        fail_msg("repair: exit %d\n%s", rc, ctlt_output());
    assert_int_equal(ctlt_verify(cat, &o), 0);
    DWORD chains[4];
    assert_int_equal(ctlt_chain_ids(cat, ids.layered_id, chains, 4), 2);
    simcat_destroy(cat);
}

static void test_repair_other_orphans_only_when_asked(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog();
    struct host_lsp_ids yids;
    assert_int_equal(host_catalog_install_lsp_over(cat, PEERLSP_TEST_BASE_DLL, &guid_y, L"lspY",
                                                   HOST_CHAINS_OWN_GUID, NULL, 0, &yids),
                     0);
    remove_guid(cat, &TBASE_GUID_IPV4);
    struct simcat *before = simcat_clone(cat);
    struct ctl_options o = ctlt_opts();
    assert_int_equal(ctlt_repair(cat, &o), 0);
    assert_non_null(strstr(ctlt_output(), "--orphan"));
    ctlt_assert_equal(cat, before, "repair without --orphan");
    /* --all-orphans (old scripts) reports only: another vendor's entries
     * are removed only when named by id. */
    o.all_orphans = 1;
    assert_int_equal(ctlt_repair(cat, &o), 0);
    ctlt_assert_equal(cat, before, "repair --all-orphans");
    /* Naming one broken chain removes that chain's provider only. */
    o = ctlt_opts();
    o.orphan_ids[o.norphans++] = yids.chain_ids[0];
    int rc = ctlt_repair(cat, &o);
    if (rc)
        fail_msg("repair --orphan: exit %d\n%s", rc, ctlt_output());
    assert_int_equal(simcat_count(cat), simcat_count(before) - 1);
    o.orphan_ids[0] = yids.chain_ids[1];
    assert_int_equal(ctlt_repair(cat, &o), 0);
    /* lspY's two IPv4 chains (own GUIDs) are gone, its IPv6 ones stay. */
    assert_int_equal(simcat_count(cat), simcat_count(before) - 2);
    /* A working entry cannot be removed by naming it. */
    struct simcat *now = simcat_clone(cat);
    o.orphan_ids[0] = yids.chain_ids[2];
    assert_int_equal(ctlt_repair(cat, &o), 0);
    assert_non_null(strstr(ctlt_output(), "nothing to repair"));
    ctlt_assert_equal(cat, now, "repair --orphan of a working entry");
    simcat_destroy(now);
    struct ctl_backend *b = ctl_backend_simcat(cat, "t");
    FILE *f = tmpfile();
    ctl_out_stream = ctl_err_stream = f;
    assert_int_equal(ctl_list(b, &o, 0), 0);
    ctl_out_stream = ctl_err_stream = NULL;
    fclose(f);
    ctl_backend_destroy(b);
    simcat_destroy(before);
    simcat_destroy(cat);
}

static void test_verify_order(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog();
    install_ok(cat);
    WSAPROTOCOL_INFOW all[16];
    DWORD size = sizeof all, order[16];
    int err = 0, n = simcat_enum(cat, NULL, all, &size, &err);
    /* Base entries back in front of peerlsp's chains. */
    for (int i = 0; i < n; i++)
        order[(i + 4) % n] = all[i].dwCatalogEntryId;
    assert_int_equal(simcat_write_order(cat, order, (DWORD)n), 0);
    struct ctl_options o = ctlt_opts();
    assert_int_equal(ctlt_verify(cat, &o), CTL_EXIT_PROBLEMS);
    assert_non_null(strstr(ctlt_output(), "bypass peerlsp"));
    simcat_destroy(cat);
}

/* ---- both catalogs as one transaction ---------------------------------- */

static void test_two_catalogs_all_or_nothing(void **state)
{
    (void)state;
    /* With WSCInstallProviderAndChains 2 mutating calls per catalog,
     * without it 4. */
    for (int k = 1; k <= 6; k++) {
        int two_step = k > 2;
        struct simcat *c64 = ctlt_base_catalog(), *c32 = ctlt_base_catalog();
        struct simcat *s64 = simcat_clone(c64), *s32 = simcat_clone(c32);
        struct ctl_target t[2] = {
            { ctl_backend_simcat(c64, "64"), PEERLSP_TEST_LSP_DLL, 1 },
            { ctl_backend_simcat(c32, "32"), PEERLSP_TEST_LSP_DLL, 0 },
        };
        if (two_step)
            t[0].b->install_and_chains = t[1].b->install_and_chains = NULL;
        struct ctl_options o = ctlt_opts();
        simcat_fail_call(c32, two_step ? k - 2 : k, WSANO_RECOVERY);
        FILE *f = tmpfile();
        ctl_out_stream = ctl_err_stream = f;
        int rc = ctl_install(t, 2, &o);
        ctl_out_stream = ctl_err_stream = NULL;
        fclose(f);
        if (rc != CTL_EXIT_CALL_FAILED)
            fail_msg("32-bit call %d failing: exit %d", k, rc);
        ctlt_assert_equal(c64, s64, "64-bit catalog after a 32-bit failure");
        ctlt_assert_equal(c32, s32, "32-bit catalog after its failure");
        /* Then the same without a failure reaches both. */
        simcat_fail_call(c32, 0, 0);
        f = tmpfile();
        ctl_out_stream = ctl_err_stream = f;
        assert_int_equal(ctl_install(t, 2, &o), 0);
        assert_int_equal(ctl_verify(t, 2, &o), 0);
        assert_int_equal(ctl_uninstall(t, 2, &o), 0);
        ctl_out_stream = ctl_err_stream = NULL;
        fclose(f);
        ctlt_assert_equal(c64, s64, "64-bit catalog after install+uninstall");
        ctlt_assert_equal(c32, s32, "32-bit catalog after install+uninstall");
        for (int i = 0; i < 2; i++)
            ctl_backend_destroy(t[i].b);
        simcat_destroy(c64);
        simcat_destroy(c32);
        simcat_destroy(s64);
        simcat_destroy(s32);
    }
}

static void test_dry_run_changes_nothing(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog(), *start = simcat_clone(cat);
    struct ctl_options o = ctlt_opts();
    o.dry_run = 1;
    assert_int_equal(ctlt_install(cat, PEERLSP_TEST_LSP_DLL, &o), 0);
    ctlt_assert_equal(cat, start, "install --dry-run");
    if (!strstr(ctlt_output(), "WSCInstallProviderAndChains"))
        fail_msg("dry run output lacks WSCInstallProviderAndChains:\n%s", ctlt_output());
    ctlt_without_and_chains = 1;
    assert_int_equal(ctlt_install(cat, PEERLSP_TEST_LSP_DLL, &o), 0);
    ctlt_without_and_chains = 0;
    ctlt_assert_equal(cat, start, "two-step install --dry-run");
    const char *calls[] = { "WSCInstallProvider", "WSCUpdateProvider", "WSCWriteProviderOrder",
                            "WSCSetProviderInfo", "Dry run: nothing was changed" };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
        if (!strstr(ctlt_output(), calls[i]))
            fail_msg("dry run output lacks %s:\n%s", calls[i], ctlt_output());
    simcat_destroy(start);
    simcat_destroy(cat);
}


/* ---- exclude / include / status ---------------------------------------- */

static const WCHAR wsl[] = L"C:\\Windows\\System32\\wsl.exe";

/* The application's permitted categories in the simcat, or SENTINEL with
 * the error when it is not categorized. */
static DWORD app_cats(struct simcat *cat, const WCHAR *app, const WCHAR *args, int *err)
{
    DWORD v = 0xdeadbeef;
    *err = 0;
    simcat_get_app_category(cat, app, (DWORD)wcslen(app), args, args ? (DWORD)wcslen(args) : 0,
                            &v, err);
    return v;
}

#define expect_rc(call, want) CTLT_EXPECT_RC(call, want, ctlt_output())

#define expect_out(text) CTLT_EXPECT_OUT(text, ctlt_output())

static void test_exclude_include(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog();
    install_ok(cat);
    struct ctl_options o = ctlt_opts();
    int err;

    expect_rc(ctlt_exclusions(cat, &o), 0);
    expect_rc(ctlt_exclude(cat, wsl, NULL, &o), CTL_EXIT_OK);
    expect_out("now kept out");
    DWORD v = app_cats(cat, wsl, NULL, &err);
    if (err || v != (CTL_ALL_LSP_CATEGORIES & ~CTL_DEFAULT_CATEGORIES))
        fail_msg("after exclude: 0x%08lx err %d, expected 0x%08lx", (unsigned long)v, err,
                 (unsigned long)(CTL_ALL_LSP_CATEGORIES & ~CTL_DEFAULT_CATEGORIES));
    expect_rc(ctlt_exclusions(cat, &o), 1);
    expect_out("wsl.exe");

    /* Again: nothing to do, nothing changes. */
    struct simcat *excluded = simcat_clone(cat);
    expect_rc(ctlt_exclude(cat, wsl, NULL, &o), CTL_EXIT_OK);
    expect_out("already keeps peerlsp out");
    ctlt_assert_equal(cat, excluded, "second exclude");

    /* The same program with a command line is another application. */
    expect_rc(ctlt_exclude(cat, wsl, L"-d Debian", &o), CTL_EXIT_OK);
    expect_rc(ctlt_exclusions(cat, &o), 2);
    expect_out("command line \"-d Debian\"");

    /* include puts peerlsp's categories back; list no longer shows it. */
    expect_rc(ctlt_include(cat, L"c:\\windows\\system32\\WSL.EXE", NULL, &o), CTL_EXIT_OK);
    expect_out("may load into");
    v = app_cats(cat, wsl, NULL, &err);
    if (err || (v & CTL_DEFAULT_CATEGORIES) != CTL_DEFAULT_CATEGORIES)
        fail_msg("after include: 0x%08lx err %d", (unsigned long)v, err);
    expect_rc(ctlt_exclusions(cat, &o), 1);
    if (strstr(ctlt_output(), "wsl.exe: permitted"))
        fail_msg("include left the exclusion listed:\n%s", ctlt_output());

    /* include of a program never excluded: a clear no-op. */
    struct simcat *before = simcat_clone(cat);
    expect_rc(ctlt_include(cat, L"C:\\Program Files\\never.exe", NULL, &o), CTL_EXIT_OK);
    expect_out("is not excluded");
    expect_out("Nothing to do");
    ctlt_assert_equal(cat, before, "include of a program never excluded");
    expect_rc(ctlt_include(cat, wsl, NULL, &o), CTL_EXIT_OK);
    expect_out("Nothing to do");
    ctlt_assert_equal(cat, before, "include twice");

    /* Relative paths are refused before anything is read. */
    static const WCHAR *const bad[] = { L"wsl.exe", L"System32\\wsl.exe", L"\\wsl.exe" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_rc(ctlt_exclude(cat, bad[i], NULL, &o), CTL_EXIT_USAGE);
        expect_out("is not a full path");
        expect_rc(ctlt_include(cat, bad[i], NULL, &o), CTL_EXIT_USAGE);
        ctlt_assert_equal(cat, before, "relative path");
    }
    /* --dry-run says the call and changes nothing. */
    o.dry_run = 1;
    expect_rc(ctlt_exclude(cat, L"C:\\x.exe", NULL, &o), CTL_EXIT_OK);
    expect_out("would call WSCSetApplicationCategory");
    ctlt_assert_equal(cat, before, "dry run");
    simcat_destroy(before);
    simcat_destroy(excluded);
    simcat_destroy(cat);
}

/* The categories taken away are the ones peerlsp was installed with; an
 * application already categorized keeps its other categories. */
static void test_exclude_categories(void **state)
{
    (void)state;
    static const struct {
        const char *row;
        DWORD installed;   /* peerlsp's categories */
        int categorized;   /* the application before */
        DWORD before, after;
    } rows[] = {
        { "default, uncategorized app", CTL_DEFAULT_CATEGORIES, 0, 0, 0x000000FE },
        { "default, app permitting 0x80000003", CTL_DEFAULT_CATEGORIES, 1, 0x80000003, 0x2 },
        { "peerlsp as OUTBOUND_MODIFY", 0x20, 0, 0, 0x800000DF },
        { "peerlsp as OUTBOUND_MODIFY, app 0x21", 0x20, 1, 0x21, 0x1 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct simcat *cat = ctlt_base_catalog();
        struct ctl_options o = ctlt_opts();
        o.categories = rows[i].installed;
        expect_rc(ctlt_install(cat, PEERLSP_TEST_LSP_DLL, &o), 0);
        int err = 0;
        if (rows[i].categorized)
            assert_int_equal(simcat_set_app_category(cat, wsl, (DWORD)wcslen(wsl), NULL, 0,
                                                     rows[i].before, NULL, &err),
                             0);
        o = ctlt_opts();
        expect_rc(ctlt_exclude(cat, wsl, NULL, &o), CTL_EXIT_OK);
        DWORD v = app_cats(cat, wsl, NULL, &err);
        if (err || v != rows[i].after)
            fail_msg("%s: 0x%08lx (err %d), expected 0x%08lx\n%s", rows[i].row,
                     (unsigned long)v, err, (unsigned long)rows[i].after, ctlt_output());
        expect_rc(ctlt_include(cat, wsl, NULL, &o), CTL_EXIT_OK);
        v = app_cats(cat, wsl, NULL, &err);
        DWORD want = (rows[i].categorized ? rows[i].before : CTL_ALL_LSP_CATEGORIES) |
                     rows[i].installed;
        if (err || v != want)
            fail_msg("%s: after include 0x%08lx (err %d), expected 0x%08lx", rows[i].row,
                     (unsigned long)v, err, (unsigned long)want);
        simcat_destroy(cat);
    }
    /* Installed without categories: a program cannot refuse it. */
    struct simcat *cat = ctlt_base_catalog();
    struct ctl_options o = ctlt_opts();
    o.set_categories = 0;
    expect_rc(ctlt_install(cat, PEERLSP_TEST_LSP_DLL, &o), 0);
    o = ctlt_opts();
    struct simcat *before = simcat_clone(cat);
    expect_rc(ctlt_exclude(cat, wsl, NULL, &o), CTL_EXIT_PROBLEMS);
    expect_out("without LSP categories");
    ctlt_assert_equal(cat, before, "exclude with uncategorized peerlsp");
    simcat_destroy(before);
    simcat_destroy(cat);
}

/* A backend whose WSCSetApplicationCategory returns 0 and does nothing
 * (Wine's stub), and one without WSCGetApplicationCategory (Wine). */
static int stub_set(struct ctl_backend *b, const WCHAR *app, const WCHAR *args, DWORD permitted,
                    DWORD *previous)
{
    (void)b;
    (void)app;
    (void)args;
    (void)permitted;
    (void)previous;
    return 0;
}

static void test_exclude_unconfirmed(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog();
    install_ok(cat);
    struct simcat *before = simcat_clone(cat);
    struct ctl_options o = ctlt_opts();
    struct ctl_backend *b = ctl_backend_simcat(cat, "stub catalog");
    assert_non_null(b);
    b->set_app_category = stub_set;
    expect_rc(ctlt_run_backend(b, wsl, NULL, &o, 0), CTL_EXIT_NO_EFFECT);
    expect_out("did not change as expected");
    if (strstr(ctlt_output(), "now kept out"))
        fail_msg("claimed success:\n%s", ctlt_output());
    ctlt_assert_equal(cat, before, "unconfirmed exclude");

    b->get_app_category = NULL;
    expect_rc(ctlt_run_backend(b, wsl, NULL, &o, 0), CTL_EXIT_MISSING_FUNCTION);
    expect_out("WSCGetApplicationCategory is missing");
    expect_out("Nothing was changed");
    expect_rc(ctlt_run_backend(b, wsl, NULL, &o, 1), CTL_EXIT_OK);
    expect_out("was not excluded by peerlsp-ctl");
    b->set_app_category = NULL;
    expect_rc(ctlt_run_backend(b, wsl, NULL, &o, 0), CTL_EXIT_MISSING_FUNCTION);
    expect_out("WSCSetApplicationCategory is not available");
    ctlt_assert_equal(cat, before, "missing functions");

    /* A failing WSCSetApplicationCategory: exit 6, nothing changed. */
    ctl_backend_destroy(b);
    b = ctl_backend_simcat(cat, "failing catalog");
    simcat_fail_call(cat, 1, WSANO_RECOVERY);
    expect_rc(ctlt_run_backend(b, wsl, NULL, &o, 0), CTL_EXIT_CALL_FAILED);
    expect_out("failed with error 11003");
    ctlt_assert_equal(cat, before, "failing set");
    ctl_backend_destroy(b);
    simcat_destroy(before);
    simcat_destroy(cat);
}

/* The registry record, pointed at HKCU for the test. */
static void test_registry_records(void **state)
{
    (void)state;
    HKEY root = ctl_records_root;
    const WCHAR *sub = ctl_records_subkey;
    ctl_records_root = HKEY_CURRENT_USER;
    ctl_records_subkey = L"Software\\peerlsp-test\\Exclusions";
    RegDeleteKeyW(HKEY_CURRENT_USER, ctl_records_subkey);

    struct ctlt_rec_list l;
    memset(&l, 0, sizeof l);
    assert_int_equal(ctl_records_registry_enum(NULL, ctlt_rec_collect, &l), 0);
    assert_int_equal(l.n, 0);
    struct ctl_app_record r;
    memset(&r, 0, sizeof r);
    wcscpy(r.app, wsl);
    r.removed = CTL_DEFAULT_CATEGORIES;
    r.permitted = 0xFE;
    assert_int_equal(ctl_records_registry_put(NULL, &r), 0);
    wcscpy(r.args, L"-k netsvcs");
    r.permitted = 0x2;
    assert_int_equal(ctl_records_registry_put(NULL, &r), 0);
    assert_int_equal(ctl_records_registry_enum(NULL, ctlt_rec_collect, &l), 0);
    assert_int_equal(l.n, 2);
    int with_args = wcscmp(l.r[0].args, L"") ? 0 : 1;
    if (wcscmp(l.r[with_args].args, L"-k netsvcs") || wcscmp(l.r[with_args].app, wsl) ||
        l.r[with_args].permitted != 0x2 || l.r[with_args].removed != CTL_DEFAULT_CATEGORIES ||
        l.r[1 - with_args].permitted != 0xFE || l.r[1 - with_args].args[0])
        fail_msg("records: \"%ls\" \"%ls\" 0x%lx / \"%ls\" \"%ls\" 0x%lx", l.r[0].app,
                 l.r[0].args, (unsigned long)l.r[0].permitted, l.r[1].app, l.r[1].args,
                 (unsigned long)l.r[1].permitted);
    assert_int_equal(ctl_records_registry_del(NULL, wsl, L"-k netsvcs"), 0);
    assert_int_equal(ctl_records_registry_del(NULL, wsl, L"-k netsvcs"), 0); /* gone: fine */
    memset(&l, 0, sizeof l);
    assert_int_equal(ctl_records_registry_enum(NULL, ctlt_rec_collect, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.r[0].args[0], 0);
    assert_int_equal(ctl_records_registry_del(NULL, wsl, NULL), 0);
    memset(&l, 0, sizeof l);
    assert_int_equal(ctl_records_registry_enum(NULL, ctlt_rec_collect, &l), 0);
    assert_int_equal(l.n, 0);
    /* uninstall --purge takes the product's whole key away (issue 11,
     * item 11): the Exclusions key, its parent and what else it holds. */
    assert_int_equal(ctl_records_registry_put(NULL, &r), 0);
    HKEY k;
    assert_int_equal(RegCreateKeyExW(HKEY_CURRENT_USER, L"Software\\peerlsp-test", 0, NULL, 0,
                                     KEY_SET_VALUE, NULL, &k, NULL),
                     0);
    DWORD one = 1;
    assert_int_equal(RegSetValueExW(k, L"Trace", 0, REG_DWORD, (const BYTE *)&one, sizeof one), 0);
    RegCloseKey(k);
    assert_int_equal(ctl_records_registry_purge(), 0);
    assert_int_equal(RegOpenKeyExW(HKEY_CURRENT_USER, L"Software\\peerlsp-test", 0, KEY_READ, &k),
                     ERROR_FILE_NOT_FOUND);
    assert_int_equal(ctl_records_registry_purge(), 0); /* gone: fine */
    RegDeleteKeyW(HKEY_CURRENT_USER, ctl_records_subkey);
    RegDeleteKeyW(HKEY_CURRENT_USER, L"Software\\peerlsp-test");
    ctl_records_root = root;
    ctl_records_subkey = sub;
}

static void test_status(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog();
    struct ctl_options o = ctlt_opts();
    expect_rc(ctlt_status(cat, &o), CTL_EXIT_OK);
    expect_out("peerlsp is not installed");
    expect_out("to install: run peerlsp-ctl install --dll");
    expect_out("Status: healthy (not installed");

    install_ok(cat);
    expect_rc(ctlt_exclude(cat, wsl, NULL, &o), CTL_EXIT_OK);
    expect_rc(ctlt_status(cat, &o), CTL_EXIT_OK);
    expect_out("peerlsp is installed (layered entry");
    expect_out("4 protocol chain(s)");
    /* The VERSIONINFO of the DLL the catalog names (src/peerlsp.rc). */
    expect_out("version " PEERLSP_VERSION_STRING ".0");
    expect_out("verify: no problems");
    expect_out("wsl.exe: permitted categories 0x000000FE");
    expect_out("run peerlsp-ctl include APP");
    expect_out("services keep what they loaded at start: restart them");
    expect_out("Status: healthy (installed and consistent)");

    /* Broken: the base entry under a chain is gone. */
    WSAPROTOCOL_INFOW e[16];
    DWORD size = sizeof e;
    int err = 0, n = simcat_enum(cat, NULL, e, &size, &err);
    GUID base = peerlsp_guid;
    for (int i = 0; i < n; i++) {
        if (e[i].ProtocolChain.ChainLen == 1) {
            base = e[i].ProviderId;
            break;
        }
    }
    assert_false(IsEqualGUID(&base, &peerlsp_guid));
    remove_guid(cat, &base);
    expect_rc(ctlt_status(cat, &o), CTL_EXIT_PROBLEMS);
    expect_out("problem: ");
    expect_out("run peerlsp-ctl repair");
    expect_out("then run peerlsp-ctl install --dll");
    expect_out("Status: ");
    expect_out("problem(s)");
    simcat_destroy(cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_layout),
        cmocka_unit_test(test_install_protocol_choice),
        cmocka_unit_test(test_install_fault_matrix),
        cmocka_unit_test(test_uninstall_fault_matrix),
        cmocka_unit_test(test_repair_fault_matrix),
        cmocka_unit_test(test_rollback_survives_its_own_failure),
        cmocka_unit_test(test_hundred_cycles),
        cmocka_unit_test(test_lsp_below),
        cmocka_unit_test(test_lsp_above),
        cmocka_unit_test(test_uninstall_with_dll_deleted),
        cmocka_unit_test(test_bad_dll_paths),
        cmocka_unit_test(test_verify_and_repair_base_gone),
        cmocka_unit_test(test_repair_orphaned_layered_entry),
        cmocka_unit_test(test_repair_own_guid_chains),
        cmocka_unit_test(test_repair_other_orphans_only_when_asked),
        cmocka_unit_test(test_verify_order),
        cmocka_unit_test(test_two_catalogs_all_or_nothing),
        cmocka_unit_test(test_dry_run_changes_nothing),
        cmocka_unit_test(test_exclude_include),
        cmocka_unit_test(test_exclude_categories),
        cmocka_unit_test(test_exclude_unconfirmed),
        cmocka_unit_test(test_registry_records),
        cmocka_unit_test(test_status),
    };
    return cmocka_run_group_tests_name("peerlsp-ctl transactions", tests, NULL, NULL);
}
