/*
 * test_ctl_vendors.c - peerlsp-ctl on catalogs that other vendors' LSPs
 * share with peerlsp, laid out the way their installers lay them out:
 * Microsoft's instlsp sample names the chain entry of the LSP below in the
 * second slot of its chains ([its layered id, the lower LSP's chain entry,
 * base]), not the lower LSP's layered entry. uninstall, its rollback,
 * install, verify and repair must all treat that as the working stack it
 * is, and a rollback is only claimed when the re-read catalog shows it.
 */
#include "ctl_test.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include <peerlsp/peerlsp.h>

static const GUID peerlsp_guid = PEERLSP_GUID_INIT;
static const GUID guid_x = { 0x5a5a0101, 0x1111, 0x2222, { 1, 2, 3, 4, 5, 6, 7, 8 } };
static const GUID guid_y = { 0x5a5a0102, 0x1111, 0x2222, { 1, 2, 3, 4, 5, 6, 7, 8 } };
static const GUID guid_z = { 0x5a5a0103, 0x1111, 0x2222, { 1, 2, 3, 4, 5, 6, 7, 8 } };

#define expect_rc(call, want) CTLT_EXPECT_RC(call, want, ctlt_output())

#define expect_out(text) CTLT_EXPECT_OUT(text, ctlt_output())

/* Rewrites the second slot of each of `guid`'s chains listed in ids to
 * second[i]: the instlsp layout. */
static void name_chain_below(struct simcat *cat, const GUID *guid, const DWORD *ids,
                             const DWORD *second, DWORD n)
{
    WSAPROTOCOL_INFOW list[8];
    for (DWORD i = 0; i < n; i++) {
        list[i] = ctlt_entry(cat, ids[i]);
        list[i].ProtocolChain.ChainEntries[1] = second[i];
    }
    GUID g = *guid;
    int err = 0;
    if (simcat_update(cat, &g, PEERLSP_TEST_BASE_DLL, list, n, &err))
        fail_msg("simcat_update: %d", err);
}

/* No chain in the catalog is broken. */
static void expect_nothing_broken(struct simcat *cat, const char *what)
{
    struct ctl_backend *b = ctl_backend_simcat(cat, "t");
    struct ctl_catalog c;
    char why[192];
    assert_non_null(b);
    assert_int_equal(ctl_catalog_read(b, &c), 0);
    for (DWORD i = 0; i < c.n; i++) {
        if (ctl_chain_broken(&c, &c.e[i], why, sizeof why))
            fail_msg("%s: entry %lu \"%ls\" broken: %s", what,
                     (unsigned long)c.e[i].dwCatalogEntryId, c.e[i].szProtocol, why);
    }
    ctl_catalog_free(&c);
    ctl_backend_destroy(b);
}

/* peerlsp installed by the tool, lspX over it by an instlsp-style
 * installer: X's chains are [X, peerlsp's chain entry, base]. */
static struct simcat *instlsp_over_peerlsp(struct host_lsp_ids *xids, DWORD bases[4])
{
    struct simcat *cat = ctlt_base_catalog();
    struct ctl_options o = ctlt_opts();
    expect_rc(ctlt_install(cat, PEERLSP_TEST_LSP_DLL, &o), 0);
    DWORD lid = ctlt_layered_id(cat, &peerlsp_guid), chains[4];
    assert_int_equal(ctlt_chain_ids(cat, lid, chains, 4), 4);
    for (int i = 0; i < 4; i++)
        bases[i] = ctlt_entry(cat, chains[i]).ProtocolChain.ChainEntries[1];
    assert_int_equal(host_catalog_install_lsp_over(cat, PEERLSP_TEST_BASE_DLL, &guid_x, L"lspX",
                                                   HOST_CHAINS_SHARE_GUID, chains, 4, xids),
                     0);
    name_chain_below(cat, &guid_x, xids->chain_ids, chains, 4);
    return cat;
}

/* Fails every mutating call of uninstall in turn: the catalog afterwards
 * equals the one before, with nothing broken. */
static void uninstall_faults(struct simcat *start, int calls)
{
    for (int k = 1; k <= calls + 1; k++) {
        struct simcat *cat = simcat_clone(start);
        struct ctl_options o = ctlt_opts();
        simcat_fail_call(cat, k, WSANO_RECOVERY);
        int rc = ctlt_uninstall(cat, &o);
        if (k <= calls) {
            if (rc != CTL_EXIT_CALL_FAILED)
                fail_msg("call %d failing: exit %d\n%s", k, rc, ctlt_output());
            expect_out("Every catalog was put back");
            ctlt_assert_equal(cat, start, "uninstall with a failing call");
        } else if (rc != 0) {
            fail_msg("uninstall with %d calls: exit %d\n%s", calls, rc, ctlt_output());
        }
        simcat_destroy(cat);
    }
}

/* Issue 11, item 1: uninstall under an instlsp-style LSP rewrites its
 * chains to [X, base] and leaves nothing broken; every failure rolls back
 * to the catalog before. */
static void test_uninstall_under_instlsp_chain(void **state)
{
    (void)state;
    struct host_lsp_ids xids;
    DWORD bases[4];
    struct simcat *cat = instlsp_over_peerlsp(&xids, bases);
    struct ctl_options o = ctlt_opts();
    expect_nothing_broken(cat, "the instlsp layout");
    /* One rewrite of X's chains, then peerlsp's removal. */
    uninstall_faults(cat, 2);
    expect_rc(ctlt_uninstall(cat, &o), 0);
    expect_out("peerlsp uninstalled");
    assert_int_equal(ctlt_layered_id(cat, &peerlsp_guid), 0);
    for (int i = 0; i < 4; i++) {
        WSAPROTOCOL_INFOW c = ctlt_entry(cat, xids.chain_ids[i]);
        if (c.ProtocolChain.ChainLen != 2 || c.ProtocolChain.ChainEntries[0] != xids.layered_id ||
            c.ProtocolChain.ChainEntries[1] != bases[i])
            fail_msg("lspX chain %lu: ChainLen %d [%lu %lu], expected 2 [%lu %lu]",
                     (unsigned long)xids.chain_ids[i], c.ProtocolChain.ChainLen,
                     (unsigned long)c.ProtocolChain.ChainEntries[0],
                     (unsigned long)c.ProtocolChain.ChainEntries[1],
                     (unsigned long)xids.layered_id, (unsigned long)bases[i]);
    }
    expect_nothing_broken(cat, "after uninstall");
    simcat_destroy(cat);
}

/* Issue 11, item 2: verify sees peerlsp under an instlsp-style LSP as
 * installed (no bypass), and repair --all-orphans leaves it alone. */
static void test_verify_and_repair_accept_instlsp_chain(void **state)
{
    (void)state;
    struct host_lsp_ids xids;
    DWORD bases[4];
    struct simcat *cat = instlsp_over_peerlsp(&xids, bases), *before = simcat_clone(cat);
    struct ctl_options o = ctlt_opts();
    expect_rc(ctlt_verify(cat, &o), 0);
    o.all_orphans = 1;
    expect_rc(ctlt_repair(cat, &o), 0);
    expect_out("nothing to repair");
    ctlt_assert_equal(cat, before, "repair --all-orphans on working stacks");
    simcat_destroy(before);
    simcat_destroy(cat);
}

/* lspZ over the base entries, lspY over Z's chains the instlsp way (Y's
 * chains [Y, Z's chain, base], each under its own GUID): a working stack
 * of two other vendors. */
static struct simcat *two_vendor_stack(struct host_lsp_ids *yids, struct host_lsp_ids *zids)
{
    struct simcat *cat = ctlt_base_catalog();
    assert_int_equal(host_catalog_install_lsp_over(cat, PEERLSP_TEST_BASE_DLL, &guid_z, L"lspZ",
                                                   HOST_CHAINS_SHARE_GUID, NULL, 0, zids),
                     0);
    assert_int_equal(host_catalog_install_lsp_over(cat, PEERLSP_TEST_BASE_DLL, &guid_y, L"lspY",
                                                   HOST_CHAINS_OWN_GUID, zids->chain_ids,
                                                   zids->chain_count, yids),
                     0);
    for (DWORD i = 0; i < yids->chain_count; i++)
        name_chain_below(cat, &yids->chain_guids[i], &yids->chain_ids[i], &zids->chain_ids[i], 1);
    return cat;
}

/* Issue 11, item 2: install layers over such a stack (on top of what
 * socket() picks), verify accepts it, repair --all-orphans leaves the
 * other vendors' entries alone, uninstall gives the catalog back. */
static void test_install_over_instlsp_stack(void **state)
{
    (void)state;
    struct host_lsp_ids yids, zids;
    struct simcat *cat = two_vendor_stack(&yids, &zids), *start = simcat_clone(cat);
    struct ctl_options o = ctlt_opts();
    expect_nothing_broken(cat, "two vendors");
    o.all_orphans = 1;
    expect_rc(ctlt_repair(cat, &o), 0);
    ctlt_assert_equal(cat, start, "repair --all-orphans before install");
    o = ctlt_opts();
    expect_rc(ctlt_install(cat, PEERLSP_TEST_LSP_DLL, &o), 0);
    DWORD lid = ctlt_layered_id(cat, &peerlsp_guid), chains[4];
    assert_int_equal(ctlt_chain_ids(cat, lid, chains, 4), 4);
    for (int i = 0; i < 4; i++) {
        WSAPROTOCOL_INFOW c = ctlt_entry(cat, chains[i]);
        if (c.ProtocolChain.ChainLen != 4 || c.ProtocolChain.ChainEntries[1] != yids.layered_id ||
            c.ProtocolChain.ChainEntries[2] != zids.chain_ids[i])
            fail_msg("chain %lu: ChainLen %d [%lu %lu %lu], expected 4 [%lu %lu %lu ...]",
                     (unsigned long)chains[i], c.ProtocolChain.ChainLen,
                     (unsigned long)c.ProtocolChain.ChainEntries[0],
                     (unsigned long)c.ProtocolChain.ChainEntries[1],
                     (unsigned long)c.ProtocolChain.ChainEntries[2], (unsigned long)lid,
                     (unsigned long)yids.layered_id, (unsigned long)zids.chain_ids[i]);
    }
    expect_rc(ctlt_verify(cat, &o), 0);
    expect_rc(ctlt_uninstall(cat, &o), 0);
    ctlt_assert_equal(cat, start, "after uninstall");
    simcat_destroy(start);
    simcat_destroy(cat);
}

/* A backend whose mutating calls all fail from the k-th on: the rollback
 * cannot put anything back. */
struct failing_from {
    struct ctl_backend *inner;
    int count, from;
};
static struct failing_from ff;

static int ff_take(void)
{
    return ++ff.count >= ff.from;
}
static int ff_install(struct ctl_backend *b, const GUID *g, const WCHAR *p,
                      const WSAPROTOCOL_INFOW *l, DWORD n)
{
    (void)b;
    return ff_take() ? WSANO_RECOVERY : ff.inner->install(ff.inner, g, p, l, n);
}
static int ff_deinstall(struct ctl_backend *b, const GUID *g)
{
    (void)b;
    return ff_take() ? WSANO_RECOVERY : ff.inner->deinstall(ff.inner, g);
}
static int ff_update(struct ctl_backend *b, const GUID *g, const WCHAR *p,
                     const WSAPROTOCOL_INFOW *l, DWORD n)
{
    (void)b;
    return ff_take() ? WSANO_RECOVERY : ff.inner->update(ff.inner, g, p, l, n);
}
static int ff_write_order(struct ctl_backend *b, const DWORD *ids, DWORD n)
{
    (void)b;
    return ff_take() ? WSANO_RECOVERY : ff.inner->write_order(ff.inner, ids, n);
}
static int ff_enumerate(struct ctl_backend *b, WSAPROTOCOL_INFOW **o, DWORD *n)
{
    (void)b;
    return ff.inner->enumerate(ff.inner, o, n);
}
static int ff_get_path(struct ctl_backend *b, const GUID *g, WCHAR p[MAX_PATH])
{
    (void)b;
    return ff.inner->get_path(ff.inner, g, p);
}
static int ff_get_categories(struct ctl_backend *b, const GUID *g, DWORD *c)
{
    (void)b;
    return ff.inner->get_categories(ff.inner, g, c);
}

/* Issue 11, item 1: the tool never says the catalog was put back when the
 * re-read catalog does not show it. */
static void test_no_false_restore_claim(void **state)
{
    (void)state;
    struct host_lsp_ids xids;
    DWORD bases[4];
    struct simcat *start = instlsp_over_peerlsp(&xids, bases);
    /* Call 2 (the removal) fails, and so does everything after it. */
    for (int from = 1; from <= 2; from++) {
        struct simcat *cat = simcat_clone(start);
        struct ctl_backend *inner = ctl_backend_simcat(cat, "inner"), outer = *inner;
        outer.install = ff_install;
        outer.deinstall = ff_deinstall;
        outer.update = ff_update;
        outer.write_order = ff_write_order;
        outer.set_categories = NULL;
        outer.enumerate = ff_enumerate;
        outer.get_path = ff_get_path;
        outer.get_categories = ff_get_categories;
        outer.commit = NULL;
        outer.destroy = NULL;
        ff = (struct failing_from){ inner, 0, from };
        /* Run through the command's own runner, output captured. */
        struct ctl_target t = { &outer, NULL, 0 };
        struct ctl_options o = ctlt_opts();
        FILE *f = tmpfile();
        ctl_out_stream = ctl_err_stream = f;
        int rc = ctl_uninstall(&t, 1, &o);
        ctl_out_stream = ctl_err_stream = NULL;
        char text[8192];
        rewind(f);
        size_t got = fread(text, 1, sizeof text - 1, f);
        text[got] = 0;
        fclose(f);
        int same = simcat_equal(cat, start);
        if (rc == 0)
            fail_msg("failing from call %d: exit 0\n%s", from, text);
        if (!same && strstr(text, "Every catalog was put back"))
            fail_msg("failing from call %d: claims a restore the catalog does not show:\n%s",
                     from, text);
        if (!same && (!strstr(text, "ROLLBACK INCOMPLETE") || rc != CTL_EXIT_CALL_FAILED))
            fail_msg("failing from call %d: exit %d, no ROLLBACK INCOMPLETE:\n%s", from, rc, text);
        ctl_backend_destroy(inner);
        simcat_destroy(cat);
    }
    simcat_destroy(start);
}

/* Issue 11, item 3: an IFS LSP may not be layered over a non-IFS
 * provider (Microsoft's rule for LSP stacks): install refuses, names the
 * entry, changes nothing. */
static void test_refuse_ifs_over_non_ifs(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog();
    struct host_lsp_ids nids;
    assert_int_equal(host_catalog_install_lsp_over(cat, PEERLSP_TEST_BASE_DLL, &guid_y,
                                                   L"nonifs", HOST_CHAINS_SHARE_GUID, NULL, 0,
                                                   &nids),
                     0);
    /* A non-IFS LSP: its entries do not return IFS handles. */
    WSAPROTOCOL_INFOW list[HOST_MAX_CHAINS + 1];
    DWORD n = 0;
    list[n] = ctlt_entry(cat, nids.layered_id);
    list[n++].dwServiceFlags1 &= ~(DWORD)XP1_IFS_HANDLES;
    for (DWORD i = 0; i < nids.chain_count; i++) {
        list[n] = ctlt_entry(cat, nids.chain_ids[i]);
        list[n++].dwServiceFlags1 &= ~(DWORD)XP1_IFS_HANDLES;
    }
    GUID g = guid_y;
    int err = 0;
    if (simcat_update(cat, &g, PEERLSP_TEST_BASE_DLL, list, n, &err))
        fail_msg("simcat_update: %d", err);
    struct simcat *before = simcat_clone(cat);
    struct ctl_options o = ctlt_opts();
    expect_rc(ctlt_install(cat, PEERLSP_TEST_LSP_DLL, &o), CTL_EXIT_PROBLEMS);
    char id[32];
    snprintf(id, sizeof id, "entry %lu", (unsigned long)nids.chain_ids[0]);
    expect_out(id);
    expect_out("XP1_IFS_HANDLES");
    ctlt_assert_equal(cat, before, "refused install");
    /* Over the base entries (IFS) it may go, if the administrator says so. */
    o.over_base = 1;
    expect_rc(ctlt_install(cat, PEERLSP_TEST_LSP_DLL, &o), 0);
    simcat_destroy(before);
    simcat_destroy(cat);
}

/* A backend over a simcat where another installer acts at a chosen
 * moment: before the n-th read, or inside WSCSetProviderInfo. */
struct meddler {
    struct ctl_backend *inner;
    int reads, act_before_read;
    int reorder_in_set_categories;
};
static struct meddler md;

static void other_installer_lsp(struct simcat *cat)
{
    struct host_lsp_ids ids;
    assert_int_equal(host_catalog_install_lsp_over(cat, PEERLSP_TEST_BASE_DLL, &guid_z, L"lspZ",
                                                   HOST_CHAINS_SHARE_GUID, NULL, 0, &ids),
                     0);
}

/* Another installer moves the last base entry to the front. */
static void other_installer_reorder(struct simcat *cat)
{
    WSAPROTOCOL_INFOW e[64];
    DWORD size = sizeof e, order[64], k = 0;
    int err = 0, n = simcat_enum(cat, NULL, e, &size, &err), last = -1;
    assert_true(n > 1);
    for (int i = 0; i < n; i++) {
        if (e[i].ProtocolChain.ChainLen == BASE_PROTOCOL)
            last = i;
    }
    assert_true(last >= 0);
    order[k++] = e[last].dwCatalogEntryId;
    for (int i = 0; i < n; i++) {
        if (i != last)
            order[k++] = e[i].dwCatalogEntryId;
    }
    assert_int_equal(simcat_write_order(cat, order, k), 0);
}

static int md_enumerate(struct ctl_backend *b, WSAPROTOCOL_INFOW **o, DWORD *n)
{
    (void)b;
    if (++md.reads == md.act_before_read)
        other_installer_lsp(ctl_backend_simcat_of(md.inner));
    return md.inner->enumerate(md.inner, o, n);
}
static int md_set_categories(struct ctl_backend *b, const GUID *g, DWORD c)
{
    (void)b;
    (void)g;
    (void)c;
    if (md.reorder_in_set_categories)
        other_installer_reorder(ctl_backend_simcat_of(md.inner));
    return WSANO_RECOVERY;
}

static int run_meddled(struct simcat *cat, struct meddler m, char *text, size_t cap)
{
    struct ctl_backend *inner = ctl_backend_simcat(cat, "inner"), outer = *inner;
    md = m;
    md.inner = inner;
    outer.enumerate = md_enumerate;
    if (m.reorder_in_set_categories)
        outer.set_categories = md_set_categories;
    outer.commit = NULL;
    outer.destroy = NULL;
    struct ctl_target t = { &outer, PEERLSP_TEST_LSP_DLL, 1 };
    struct ctl_options o = ctlt_opts();
    FILE *f = tmpfile();
    ctl_out_stream = ctl_err_stream = f;
    int rc = ctl_install(&t, 1, &o);
    ctl_out_stream = ctl_err_stream = NULL;
    rewind(f);
    size_t got = fread(text, 1, cap - 1, f);
    text[got] = 0;
    fclose(f);
    ctl_backend_destroy(inner);
    return rc;
}

/* Issue 11, item 5: the transaction checks the very catalog the plan was
 * made from; a change in between (another installer putting its LSP on
 * top) stops the command before it changes anything. */
static void test_plan_from_the_read_the_transaction_checks(void **state)
{
    (void)state;
    char text[16384];
    struct simcat *cat = ctlt_base_catalog(), *expect = ctlt_base_catalog();
    other_installer_lsp(expect);
    int rc = run_meddled(cat, (struct meddler){ NULL, 0, 2, 0 }, text, sizeof text);
    if (rc != CTL_EXIT_CALL_FAILED)
        fail_msg("install with the catalog changed after planning: exit %d\n%s", rc, text);
    if (!strstr(text, "changed since it was read"))
        fail_msg("no word of the change:\n%s", text);
    ctlt_assert_equal(cat, expect, "only the other installer's change");
    simcat_destroy(expect);
    simcat_destroy(cat);
}

/* Issue 11, item 5: rollback puts the old order back only while the order
 * is still the one peerlsp-ctl wrote; another installer's reorder in the
 * meantime is kept. */
static void test_rollback_keeps_someone_elses_order(void **state)
{
    (void)state;
    char text[16384];
    struct simcat *cat = ctlt_base_catalog(), *expect = ctlt_base_catalog();
    other_installer_reorder(expect);
    int rc = run_meddled(cat, (struct meddler){ NULL, 0, 0, 1 }, text, sizeof text);
    if (rc != CTL_EXIT_CALL_FAILED)
        fail_msg("install with WSCSetProviderInfo failing: exit %d\n%s", rc, text);
    assert_int_equal(ctlt_layered_id(cat, &peerlsp_guid), 0);
    if (!simcat_equal(cat, expect))
        print_message("%s\n", text);
    ctlt_assert_equal(cat, expect, "the other installer's order kept");
    if (!strstr(text, "order"))
        fail_msg("the rollback does not say it left the order alone:\n%s", text);
    simcat_destroy(expect);
    simcat_destroy(cat);
}

/* A process killed after its k-th mutating call: that call and every one
 * after it (the rollback's too) never happen. */
struct killed {
    struct ctl_backend *inner;
    int count, at;
};
static struct killed kl;

static int kl_dead(void)
{
    return ++kl.count >= kl.at;
}
static int kl_install(struct ctl_backend *b, const GUID *g, const WCHAR *p,
                      const WSAPROTOCOL_INFOW *l, DWORD n)
{
    (void)b;
    return kl_dead() ? WSANO_RECOVERY : kl.inner->install(kl.inner, g, p, l, n);
}
static int kl_and_chains(struct ctl_backend *b, const GUID *g, const WCHAR *p,
                         const WCHAR *name, DWORD flags, const WSAPROTOCOL_INFOW *l, DWORD n,
                         DWORD *lid)
{
    (void)b;
    return kl_dead() ? WSANO_RECOVERY
                     : kl.inner->install_and_chains(kl.inner, g, p, name, flags, l, n, lid);
}
static int kl_deinstall(struct ctl_backend *b, const GUID *g)
{
    (void)b;
    return kl_dead() ? WSANO_RECOVERY : kl.inner->deinstall(kl.inner, g);
}
static int kl_update(struct ctl_backend *b, const GUID *g, const WCHAR *p,
                     const WSAPROTOCOL_INFOW *l, DWORD n)
{
    (void)b;
    return kl_dead() ? WSANO_RECOVERY : kl.inner->update(kl.inner, g, p, l, n);
}
static int kl_write_order(struct ctl_backend *b, const DWORD *ids, DWORD n)
{
    (void)b;
    return kl_dead() ? WSANO_RECOVERY : kl.inner->write_order(kl.inner, ids, n);
}
static int kl_set_categories(struct ctl_backend *b, const GUID *g, DWORD c)
{
    (void)b;
    return kl_dead() ? WSANO_RECOVERY : kl.inner->set_categories(kl.inner, g, c);
}

/* Installs on `cat` as if the process died at mutating call `at`. */
static void install_killed_at(struct simcat *cat, int at, int and_chains)
{
    struct ctl_backend *inner = ctl_backend_simcat(cat, "inner"), outer = *inner;
    kl = (struct killed){ inner, 0, at };
    outer.install = kl_install;
    outer.install_and_chains = and_chains && inner->install_and_chains ? kl_and_chains : NULL;
    outer.deinstall = kl_deinstall;
    outer.update = kl_update;
    outer.write_order = kl_write_order;
    outer.set_categories = kl_set_categories;
    outer.commit = NULL;
    outer.destroy = NULL;
    struct ctl_target t = { &outer, PEERLSP_TEST_LSP_DLL, 1 };
    struct ctl_options o = ctlt_opts();
    FILE *f = tmpfile();
    ctl_out_stream = ctl_err_stream = f;
    ctl_install(&t, 1, &o);
    ctl_out_stream = ctl_err_stream = NULL;
    fclose(f);
    ctl_backend_destroy(inner);
}

/* Issue 11, item 4: whichever way install goes (WSCInstallProviderAndChains
 * where the system has it, the two-step path where not), a process killed
 * between any two of its calls leaves a catalog that `repair` makes
 * clean: afterwards either peerlsp verifies, or it is gone and nothing is
 * broken; and `install` then works. */
static void test_killed_install_is_repairable(void **state)
{
    (void)state;
    for (int and_chains = 0; and_chains < 2; and_chains++) {
        for (int at = 1; at <= 5; at++) {
            struct simcat *cat = ctlt_base_catalog();
            install_killed_at(cat, at, and_chains);
            struct ctl_options o = ctlt_opts();
            int rc = ctlt_repair(cat, &o);
            if (rc)
                fail_msg("%s, killed at call %d: repair exit %d\n%s",
                         and_chains ? "WSCInstallProviderAndChains" : "two-step", at, rc,
                         ctlt_output());
            if (ctlt_layered_id(cat, &peerlsp_guid)) {
                rc = ctlt_verify(cat, &o);
                if (rc)
                    fail_msg("%s, killed at call %d: after repair verify exit %d\n%s",
                             and_chains ? "WSCInstallProviderAndChains" : "two-step", at, rc,
                             ctlt_output());
            }
            expect_nothing_broken(cat, "after repair");
            rc = ctlt_install(cat, PEERLSP_TEST_LSP_DLL, &o);
            if (rc)
                fail_msg("%s, killed at call %d: install after repair exit %d\n%s",
                         and_chains ? "WSCInstallProviderAndChains" : "two-step", at, rc,
                         ctlt_output());
            expect_rc(ctlt_verify(cat, &o), 0);
            simcat_destroy(cat);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uninstall_under_instlsp_chain),
        cmocka_unit_test(test_verify_and_repair_accept_instlsp_chain),
        cmocka_unit_test(test_install_over_instlsp_stack),
        cmocka_unit_test(test_no_false_restore_claim),
        cmocka_unit_test(test_refuse_ifs_over_non_ifs),
        cmocka_unit_test(test_plan_from_the_read_the_transaction_checks),
        cmocka_unit_test(test_rollback_keeps_someone_elses_order),
        cmocka_unit_test(test_killed_install_is_repairable),
    };
    return cmocka_run_group_tests_name("peerlsp-ctl and other vendors' chains", tests, NULL,
                                       NULL);
}
