/*
 * test_ctl_install_faults.c - what install refuses, and what it does when a
 * call does less than it says: --over naming an entry that is not there or
 * is a layered one, protocols without a provider, a broken chain or a full
 * seven-layer chain where peerlsp would go, peerlsp already installed but
 * inconsistently, two catalogs it cannot install into together (no install
 * call, different protocol counts, DLLs reporting different GUIDs),
 * WSCSetProviderInfo missing (a warning) or answering 0 without setting
 * anything (rolled back).
 *
 * Every refusal checks the exit code and message and that the catalog is
 * exactly as before.
 */
#include "ctl_test.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include <peerlsp/peerlsp.h>

static const GUID peerlsp_guid = PEERLSP_GUID_INIT;
static const GUID guid_other = { 0x5a5a0201, 0x1111, 0x2222, { 1, 2, 3, 4, 5, 6, 7, 8 } };

#define expect_rc(call, want) CTLT_EXPECT_RC(call, want, ctlt_output())

#define expect_out(text) CTLT_EXPECT_OUT(text, ctlt_output())

/* install on `cat`; when it must fail, the catalog must not change. */
static int install_on(struct simcat *cat, const struct ctl_options *o)
{
    struct simcat *before = simcat_clone(cat);
    int rc = ctlt_install(cat, PEERLSP_TEST_LSP_DLL, o);
    if (rc)
        ctlt_assert_equal(cat, before, "refused install");
    simcat_destroy(before);
    return rc;
}

static int drop_ipv6(WSAPROTOCOL_INFOW *e, void *ctx)
{
    (void)ctx;
    return e->iAddressFamily != AF_INET6;
}

static void test_over_and_protocols(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog();
    struct ctl_options o = ctlt_opts();

    /* --over an id that is not there. */
    o.over_ids[0] = 1001;
    o.over_ids[1] = 9999;
    o.nover = 2;
    expect_rc(install_on(cat, &o), CTL_EXIT_USAGE);
    expect_out("test catalog: --over 9999 is not a base or chain entry; see 'peerlsp-ctl list'.");
    /* --over the explicit entries: one chain each. */
    o.over_ids[1] = 1002;
    expect_rc(install_on(cat, &o), CTL_EXIT_OK);
    DWORD lid = ctlt_layered_id(cat, &peerlsp_guid), chains[8];
    assert_int_equal(ctlt_chain_ids(cat, lid, chains, 8), 2);
    assert_int_equal(ctlt_entry(cat, chains[0]).ProtocolChain.ChainEntries[1], 1001);
    assert_int_equal(ctlt_entry(cat, chains[1]).ProtocolChain.ChainEntries[1], 1002);
    o = ctlt_opts();
    expect_rc(ctlt_uninstall(cat, &o), CTL_EXIT_OK);
    /* The same entry named twice: one chain over it. */
    o.over_ids[0] = o.over_ids[1] = 1002;
    o.nover = 2;
    expect_rc(install_on(cat, &o), CTL_EXIT_OK);
    lid = ctlt_layered_id(cat, &peerlsp_guid);
    assert_int_equal(ctlt_chain_ids(cat, lid, chains, 8), 1);
    assert_int_equal(ctlt_entry(cat, chains[0]).ProtocolChain.ChainEntries[1], 1002);
    o = ctlt_opts();
    expect_rc(ctlt_uninstall(cat, &o), CTL_EXIT_OK);
    simcat_destroy(cat);

    /* No IPv6 provider: those protocols get no chain, said; asking for
     * IPv6 only is refused. */
    struct simcat *base = ctlt_base_catalog();
    cat = ctlt_edited(base, drop_ipv6, NULL, NULL, 0, NULL);
    o = ctlt_opts();
    o.protocols = CTL_PROTO_TCP6 | CTL_PROTO_UDP6;
    expect_rc(install_on(cat, &o), CTL_EXIT_PROBLEMS);
    expect_out("test catalog: no provider for tcp6; it gets no chain.");
    expect_out("test catalog: no provider for udp6; it gets no chain.");
    expect_out("test catalog: none of the chosen protocols has a provider to layer over; check "
               "--protocols and 'peerlsp-ctl list'.");
    o = ctlt_opts();
    expect_rc(install_on(cat, &o), CTL_EXIT_OK);
    expect_out("test catalog: no provider for tcp6; it gets no chain.");
    expect_out("1 layered entry and 2 chains");
    simcat_destroy(cat);
    simcat_destroy(base);
}

/* ---- what lies where peerlsp would go ----------------------------------- */

/* A chain under guid_other over base entry `base_id`, with `layers`
 * layered entries of its own above it, put first. */
static struct simcat *with_stack(struct simcat *base, DWORD base_id, int layers, DWORD bad_below)
{
    WSAPROTOCOL_INFOW extra[MAX_PROTOCOL_CHAIN + 1];
    WSAPROTOCOL_INFOW b = ctlt_entry(base, base_id);
    int k = 0;
    for (int i = 0; i < layers; i++) {
        WSAPROTOCOL_INFOW l = b;
        l.ProviderId = guid_other;
        l.dwCatalogEntryId = 2001 + (DWORD)i;
        l.ProtocolChain.ChainLen = LAYERED_PROTOCOL;
        memset(l.ProtocolChain.ChainEntries, 0, sizeof l.ProtocolChain.ChainEntries);
        l.dwProviderFlags |= PFL_HIDDEN;
        swprintf(l.szProtocol, WSAPROTOCOL_LEN + 1, L"other layer %d", i);
        extra[k++] = l;
    }
    WSAPROTOCOL_INFOW c = b;
    c.ProviderId = guid_other;
    c.dwCatalogEntryId = 2100;
    c.ProtocolChain.ChainLen = layers + 1;
    for (int i = 0; i < layers; i++)
        c.ProtocolChain.ChainEntries[i] = 2001 + (DWORD)i;
    c.ProtocolChain.ChainEntries[layers] = bad_below ? bad_below : base_id;
    swprintf(c.szProtocol, WSAPROTOCOL_LEN + 1, L"other over %ls", b.szProtocol);
    extra[k++] = c;
    struct simcat *cat = ctlt_edited(base, NULL, NULL, extra, k, PEERLSP_TEST_BASE_DLL);
    /* The chain first in order, as its installer leaves it. */
    WSAPROTOCOL_INFOW e[64];
    int n = ctlt_entries(cat, e, 64);
    DWORD order[64];
    int m = 0;
    order[m++] = 2100;
    for (int i = 0; i < n; i++) {
        if (e[i].dwCatalogEntryId != 2100)
            order[m++] = e[i].dwCatalogEntryId;
    }
    assert_int_equal(simcat_write_order(cat, order, (DWORD)m), 0);
    return cat;
}

static void test_what_is_below(void **state)
{
    (void)state;
    struct simcat *base = ctlt_base_catalog();
    struct ctl_options o = ctlt_opts();

    /* TCP/IPv4's first entry is a chain whose base is gone. */
    struct simcat *cat = with_stack(base, 1001, 1, 9999);
    expect_rc(install_on(cat, &o), CTL_EXIT_PROBLEMS);
    expect_out("test catalog: entry 2100 is a broken chain; see 'peerlsp-ctl repair' (its "
               "vendor's installer, or --orphan ID) first.");
    simcat_destroy(cat);

    /* UDP/IPv4's (a later chain) is broken the same way. */
    cat = with_stack(base, 1002, 1, 9999);
    expect_rc(install_on(cat, &o), CTL_EXIT_PROBLEMS);
    expect_out("test catalog: cannot layer over entry 2100: chain element 1 is id 9999, which "
               "does not exist.");
    simcat_destroy(cat);

    /* TCP/IPv4's first entry already has seven layers. */
    cat = with_stack(base, 1001, MAX_PROTOCOL_CHAIN - 1, 0);
    char want[128];
    snprintf(want, sizeof want, "test catalog: entry 2100 already has %d layers; a chain holds "
             "at most %d.", MAX_PROTOCOL_CHAIN, MAX_PROTOCOL_CHAIN);
    expect_rc(install_on(cat, &o), CTL_EXIT_PROBLEMS);
    expect_out(want);
    /* --over a layered entry: refused. */
    o.over_ids[0] = 2001;
    o.nover = 1;
    expect_rc(install_on(cat, &o), CTL_EXIT_USAGE);
    expect_out("test catalog: --over 2001 is not a base or chain entry");
    o.nover = 0;
    /* Over the base entries instead, it goes in. */
    o.over_base = 1;
    expect_rc(install_on(cat, &o), CTL_EXIT_OK);
    DWORD lid = ctlt_layered_id(cat, &peerlsp_guid), chains[8];
    assert_int_equal(ctlt_chain_ids(cat, lid, chains, 8), 4);
    assert_int_equal(ctlt_entry(cat, chains[0]).ProtocolChain.ChainEntries[1], 1001);
    simcat_destroy(cat);
    simcat_destroy(base);
}

/* peerlsp there already, but broken: install does not paper over it. */
static int show_layered(WSAPROTOCOL_INFOW *e, void *ctx)
{
    (void)ctx;
    if (e->ProtocolChain.ChainLen == LAYERED_PROTOCOL)
        e->dwProviderFlags &= ~PFL_HIDDEN;
    return 1;
}

static void test_installed_inconsistently(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog();
    struct ctl_options o = ctlt_opts();
    expect_rc(ctlt_install(cat, PEERLSP_TEST_LSP_DLL, &o), 0);
    struct simcat *x = ctlt_edited(cat, show_layered, NULL, NULL, 0, NULL);
    expect_rc(install_on(x, &o), CTL_EXIT_PROBLEMS);
    expect_out("is not hidden (PFL_HIDDEN)");
    expect_out("test catalog: peerlsp is installed but not consistently (above). Run "
               "'peerlsp-ctl repair', then install again.");
    simcat_destroy(x);
    simcat_destroy(cat);
}

/* ---- the categories ------------------------------------------------------ */

static int noop_set_categories(struct ctl_backend *b, const GUID *guid, DWORD categories)
{
    (void)b, (void)guid, (void)categories;
    return 0;
}

static int install_with(struct simcat *cat, int (*set)(struct ctl_backend *, const GUID *, DWORD))
{
    struct ctl_target t;
    memset(&t, 0, sizeof t);
    t.b = ctl_backend_simcat(cat, "test catalog");
    assert_non_null(t.b);
    t.b->set_categories = set;
    t.dll_path = PEERLSP_TEST_LSP_DLL;
    t.check_exports = 1;
    struct ctl_options o = ctlt_opts();
    int rc = ctlt_run_targets(&t, 1, ctl_install, &o);
    ctl_backend_destroy(t.b);
    return rc;
}

static void test_categories_not_set(void **state)
{
    (void)state;
    struct simcat *cat = ctlt_base_catalog(), *before = simcat_clone(cat);

    /* WSCSetProviderInfo says yes and sets nothing: rolled back. */
    expect_rc(install_with(cat, noop_set_categories), CTL_EXIT_NO_EFFECT);
    expect_out("test catalog: after install: the LSP categories were not set");
    expect_out("test catalog: the catalog is not as the install left it; rolling back.");
    expect_out("Every catalog was put back as it was before this command.");
    ctlt_assert_equal(cat, before, "install whose categories were not set");

    /* WSCSetProviderInfo missing: installed without categories, said. */
    expect_rc(install_with(cat, NULL), CTL_EXIT_OK);
    expect_out("test catalog: WSCSetProviderInfo is not available: LSP categories not set "
               "(Windows then keeps peerlsp out of services and system processes).");
    GUID g = peerlsp_guid;
    DWORD cats = 0xdeadbeef;
    size_t cs = sizeof cats;
    int err = 0;
    assert_int_equal(simcat_get_provider_info(cat, &g, ProviderInfoLspCategories, (PBYTE)&cats,
                                              &cs, 0, &err),
                     0);
    assert_int_equal(cats, 0);
    simcat_destroy(before);
    simcat_destroy(cat);
}

/* ---- two catalogs --------------------------------------------------------- */

static void test_two_catalogs_refused(void **state)
{
    (void)state;
    struct simcat *base = ctlt_base_catalog();
    struct simcat *c0 = simcat_clone(base), *c1 = ctlt_edited(base, drop_ipv6, NULL, NULL, 0, NULL);
    struct simcat *b0 = simcat_clone(c0), *b1 = simcat_clone(c1);
    struct ctl_target t[2];
    memset(t, 0, sizeof t);
    t[0].b = ctl_backend_simcat(c0, "first catalog");
    t[1].b = ctl_backend_simcat(c1, "second catalog");
    assert_non_null(t[0].b);
    assert_non_null(t[1].b);
    t[0].dll_path = t[1].dll_path = PEERLSP_TEST_LSP_DLL;
    t[0].check_exports = 1;
    struct ctl_options o = ctlt_opts();

    /* The second catalog has no install call and no twin to do it. */
    t[1].b->install = NULL;
    t[1].b->install_and_chains = NULL;
    expect_rc(ctlt_run_targets(t, 2, ctl_install, &o), CTL_EXIT_MISSING_FUNCTION);
    expect_out("second catalog: WSCInstallProvider is not available on this system; "
               "peerlsp-ctl cannot install into this catalog here. Nothing was changed.");
    /* With the first as its twin (WSCInstallProvider64_32), but the two
     * offer different protocols. */
    t[0].b->twin = t[1].b;
    expect_rc(ctlt_run_targets(t, 2, ctl_install, &o), CTL_EXIT_PROBLEMS);
    expect_out("second catalog: 2 protocol chain(s) here, 4 in the first catalog: "
               "WSCInstallProvider64_32 installs one list into both catalogs, so they must "
               "offer the same protocols. Choose them with --protocols. Nothing was changed.");
    ctlt_assert_equal(c0, b0, "first catalog");
    ctlt_assert_equal(c1, b1, "second catalog");
    /* Choosing IPv4 only, they go in together. */
    o.protocols = CTL_PROTO_TCP4 | CTL_PROTO_UDP4;
    expect_rc(ctlt_run_targets(t, 2, ctl_install, &o), CTL_EXIT_OK);
    assert_int_not_equal(ctlt_layered_id(c0, &peerlsp_guid), 0);
    assert_int_not_equal(ctlt_layered_id(c1, &peerlsp_guid), 0);
    ctl_backend_destroy(t[0].b);
    ctl_backend_destroy(t[1].b);

    /* The DLL for the second catalog reports another GUID. */
    struct simcat *d0 = simcat_clone(base), *d1 = simcat_clone(base);
    t[0].b = ctl_backend_simcat(d0, "first catalog");
    t[1].b = ctl_backend_simcat(d1, "second catalog");
    t[1].dll_path = FAKE_LSP_OTHER_GUID_DLL;
    t[1].check_exports = 1;
    o = ctlt_opts();
    expect_rc(ctlt_run_targets(t, 2, ctl_install, &o), CTL_EXIT_BAD_DLL);
    expect_out("The DLLs for the two catalogs report different GUIDs; use the same peerlsp "
               "version for both.");
    ctlt_assert_equal(d0, base, "first catalog, different GUIDs");
    ctlt_assert_equal(d1, base, "second catalog, different GUIDs");
    ctl_backend_destroy(t[0].b);
    ctl_backend_destroy(t[1].b);
    simcat_destroy(d0);
    simcat_destroy(d1);
    simcat_destroy(b0);
    simcat_destroy(b1);
    simcat_destroy(c0);
    simcat_destroy(c1);
    simcat_destroy(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_over_and_protocols),
        cmocka_unit_test(test_what_is_below),
        cmocka_unit_test(test_installed_inconsistently),
        cmocka_unit_test(test_categories_not_set),
        cmocka_unit_test(test_two_catalogs_refused),
    };
    return cmocka_run_group_tests_name("peerlsp-ctl install's refusals", tests, NULL, NULL);
}
