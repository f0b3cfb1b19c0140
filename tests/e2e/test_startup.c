/*
 * test_startup.c - WSPStartup's failure paths and recovery: every broken
 * catalog or lower provider makes WSPStartup return an error code (the
 * socket call fails with it), never a crash, and a good catalog works
 * right after.
 */
#include "e2e.h"

#include <string.h>

#include <peerlsp/peerlsp.h>

static const GUID lsp_guid = PEERLSP_GUID_INIT;

/* Starts the host on `cat` and tries a TCP/IPv4 socket. Returns its error
 * (0 when it worked) and cleans the host up again. */
static int try_socket(struct simcat *cat, int *startup_error)
{
    const struct wsapi *api = host_api();
    host_set_catalog(cat);
    assert_int_equal(host_startup(), 0);
    SOCKET s = api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    int err = s == INVALID_SOCKET ? api->WSAGetLastError() : 0;
    *startup_error = host_last_startup_error();
    if (s != INVALID_SOCKET)
        assert_int_equal(api->closesocket(s), 0);
    assert_int_equal(host_cleanup(), 0);
    host_set_catalog(NULL);
    return err;
}

static struct simcat *catalog_with(const wchar_t *base_path, enum host_chain_guids mode,
                                   struct host_lsp_ids *ids)
{
    struct simcat *cat = simcat_create();
    struct host_lsp_ids unused;
    assert_non_null(cat);
    assert_int_equal(host_catalog_add_base(cat, base_path, NULL), 0);
    assert_int_equal(host_catalog_install_lsp(cat, PEERLSP_TEST_LSP_DLL, &lsp_guid, mode,
                                              ids ? ids : &unused),
                     0);
    return cat;
}

/* After a failure, the same process starts peerlsp on a good catalog. */
static void expect_good_catalog_works(void)
{
    int startup_error;
    struct simcat *cat = catalog_with(PEERLSP_TEST_BASE_DLL, HOST_CHAINS_SHARE_GUID, NULL);
    assert_int_equal(try_socket(cat, &startup_error), 0);
    assert_int_equal(startup_error, 0);
    simcat_destroy(cat);
    assert_int_equal(e2e_base_startups(), 0);
}

static void expect_failure(struct simcat *cat, int expected, const char *what)
{
    int startup_error;
    int err = try_socket(cat, &startup_error);
    if (err != expected || startup_error != expected)
        fail_msg("%s: socket error %d, WSPStartup error %d, expected %d", what, err,
                 startup_error, expected);
    /* Nothing started below peerlsp may be left running. */
    if (e2e_base_startups() != 0)
        fail_msg("%s: %ld tbase startups left", what, e2e_base_startups());
    expect_good_catalog_works();
}

static void test_lower_startup_fails(void **state)
{
    (void)state;
    for (int mode = HOST_CHAINS_SHARE_GUID; mode <= HOST_CHAINS_OWN_GUID; mode++) {
        struct simcat *cat = catalog_with(PEERLSP_TEST_BASE_DLL, mode, NULL);
        e2e_base_fail_next_startup(WSASYSNOTREADY);
        expect_failure(cat, WSASYSNOTREADY, "tbase's WSPStartup fails");
        simcat_destroy(cat);
    }
}

static void test_next_dll_missing(void **state)
{
    (void)state;
    static const wchar_t *const paths[] = {
        L"Z:\\nonexistent\\peerlsp-tests\\tbase.dll", /* no such file */
        L"tbase.dll",                                   /* not a full path */
        L"%PEERLSP_NO_SUCH_VARIABLE%\\tbase.dll",       /* expands to nothing usable */
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct simcat *cat = catalog_with(paths[i], HOST_CHAINS_SHARE_GUID, NULL);
        expect_failure(cat, WSAEPROVIDERFAILEDINIT, "next DLL not loadable");
        simcat_destroy(cat);
    }
}

/* The catalog may hold %VARIABLES% in a path (as %SystemRoot% for
 * Windows' own providers): peerlsp expands them. */
static void test_next_dll_path_expanded(void **state)
{
    (void)state;
    wchar_t dir[MAX_PATH];
    wcsncpy(dir, PEERLSP_TEST_BASE_DLL, MAX_PATH - 1);
    dir[MAX_PATH - 1] = 0;
    wchar_t *slash = wcsrchr(dir, L'\\');
    assert_non_null(slash);
    *slash = 0;
    assert_true(SetEnvironmentVariableW(L"PEERLSP_TEST_BASE_DIR", dir));
    struct simcat *cat = catalog_with(L"%PEERLSP_TEST_BASE_DIR%\\tbase.dll",
                                      HOST_CHAINS_SHARE_GUID, NULL);
    int startup_error;
    assert_int_equal(try_socket(cat, &startup_error), 0);
    assert_int_equal(startup_error, 0);
    simcat_destroy(cat);
}

/* Chains that name a layered entry that is not in the catalog. */
static void test_layered_entry_missing(void **state)
{
    (void)state;
    struct simcat *cat = catalog_with(PEERLSP_TEST_BASE_DLL, HOST_CHAINS_OWN_GUID, NULL);
    int err = 0;
    GUID guid = lsp_guid;
    assert_int_equal(simcat_deinstall(cat, &guid, &err), 0);
    expect_failure(cat, WSAEPROVIDERFAILEDINIT, "layered entry missing");
    simcat_destroy(cat);
}

/* A chain in which peerlsp is the last element has nothing below it. */
static void test_chain_ends_at_peerlsp(void **state)
{
    (void)state;
    struct host_lsp_ids ids;
    struct simcat *cat = catalog_with(PEERLSP_TEST_BASE_DLL, HOST_CHAINS_OWN_GUID, &ids);
    WSAPROTOCOL_INFOW entries[64];
    DWORD size = sizeof entries;
    int err = 0, n = simcat_enum(cat, NULL, entries, &size, &err);
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        if (entries[i].dwCatalogEntryId != ids.chain_ids[HOST_BASE_TCP4])
            continue;
        WSAPROTOCOL_INFOW broken = entries[i];
        broken.ProtocolChain.ChainLen = 1;
        broken.ProtocolChain.ChainEntries[0] = ids.layered_id;
        GUID guid = broken.ProviderId;
        assert_int_equal(simcat_update(cat, &guid, PEERLSP_TEST_LSP_DLL, &broken, 1, &err), 0);
    }
    /* ChainLen 1 makes it look like a base entry to the host: socket()
     * picks it and starts peerlsp with it. */
    expect_failure(cat, WSAEPROVIDERFAILEDINIT, "chain ends at peerlsp");
    simcat_destroy(cat);
}

/* ---- a WSPStartup that fails after publishing chains --------------------- */

/* A catalog with a GUID per chain, except that the TCP/IPv6 chain shares
 * its GUID with one more chain (after it in catalog order) whose base
 * provider's DLL does not exist. A WSPStartup for that chain loads the
 * TCP/IPv6 chain first (publishing it and starting tbase's IPv6 provider
 * below it), then fails. Returns the broken chain's entry in *bad. */
static struct simcat *catalog_failing_after_publish(struct host_lsp_ids *ids,
                                                    WSAPROTOCOL_INFOW *bad)
{
    struct simcat *tmpl = catalog_with(PEERLSP_TEST_BASE_DLL, HOST_CHAINS_OWN_GUID, ids);
    struct simcat *cat = simcat_create();
    WSAPROTOCOL_INFOW entries[64];
    DWORD size = sizeof entries, max_id = 0;
    int err = 0, n = simcat_enum(tmpl, NULL, entries, &size, &err);
    assert_true(n > 0);
    assert_non_null(cat);
    for (int i = 0; i < n; i++)
        max_id = entries[i].dwCatalogEntryId > max_id ? entries[i].dwCatalogEntryId : max_id;
    const DWORD bad_chain_id = max_id + 10, bad_base_id = max_id + 11;
    const GUID bad_base_guid = { 0xbad0ba5e, 0x1, 0x4a4a, { 1, 2, 3, 4, 5, 6, 7, 9 } };
    WSAPROTOCOL_INFOW bad_base = { 0 };
    int have_bad_base = 0;
    for (int i = 0; i < n; i++) {
        WCHAR path[MAX_PATH];
        int len = MAX_PATH;
        GUID g = entries[i].ProviderId;
        assert_int_equal(simcat_get_path(tmpl, &g, path, &len, &err), 0);
        assert_int_equal(simcat_add_entry(cat, &entries[i], path, 0), 0);
        if (entries[i].dwCatalogEntryId == ids->chain_ids[HOST_BASE_TCP6]) {
            /* Right after it: the broken chain, under the same GUID. */
            *bad = entries[i];
            bad->dwCatalogEntryId = bad_chain_id;
            bad->ProtocolChain.ChainLen = 2;
            bad->ProtocolChain.ChainEntries[0] = ids->layered_id;
            bad->ProtocolChain.ChainEntries[1] = bad_base_id;
            wcscpy(bad->szProtocol, L"peerlsp over a missing provider");
            assert_int_equal(simcat_add_entry(cat, bad, path, 0), 0);
        }
        if (entries[i].ProtocolChain.ChainLen == BASE_PROTOCOL &&
            entries[i].iAddressFamily == AF_INET6 && !have_bad_base) {
            bad_base = entries[i];
            have_bad_base = 1;
        }
    }
    assert_true(have_bad_base);
    bad_base.dwCatalogEntryId = bad_base_id;
    bad_base.ProviderId = bad_base_guid;
    bad_base.ProtocolChain.ChainEntries[0] = bad_base_id;
    assert_int_equal(simcat_add_entry(cat, &bad_base, L"Z:\\nonexistent\\peerlsp-tests\\bad.dll",
                                      0),
                     0);
    simcat_destroy(tmpl);
    return cat;
}

/* What the thread in calls does, and what it saw go wrong. */
struct busy_thread {
    const struct wsapi *api;
    WSPPROC_TABLE lsp_procs; /* peerlsp's proc table of the TCP/IPv4 chain */
    SOCKET connected;        /* a peerlsp socket with a recorded peer */
    SOCKET unrecorded;       /* a base handle peerlsp has no record of */
    HANDLE running;          /* set after the first round */
    volatile LONG stop;
    LONG rounds, failures;
};

static DWORD WINAPI busy_calls(void *arg)
{
    struct busy_thread *t = arg;
    while (!t->stop) {
        SOCKADDR_STORAGE a;
        int len = sizeof a, err = 0;
        /* WSPSocket looks its chain up; the unrecorded handle's owner is
         * searched among the lower providers; the table answers. */
        SOCKET s = t->api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
        if (s == INVALID_SOCKET || t->api->closesocket(s))
            t->failures++;
        if (t->lsp_procs.lpWSPGetPeerName(t->unrecorded, (struct sockaddr *)&a, &len, &err))
            t->failures++;
        len = sizeof a;
        if (t->api->getpeername(t->connected, (struct sockaddr *)&a, &len))
            t->failures++;
        if (t->rounds++ == 0)
            SetEvent(t->running);
    }
    return 0;
}

/* The second start-up fails after publishing a chain while another thread
 * is in calls: what it published is not freed or unloaded under that
 * thread (the lower provider it started is not cleaned up until the last
 * WSPCleanup), the broken chain is never used, and the same chain loads
 * again at the next start-up, over the provider already started. */
static void test_failed_startup_keeps_published_slots(void **state)
{
    (void)state;
    struct host_lsp_ids ids;
    WSAPROTOCOL_INFOW bad;
    struct simcat *cat = catalog_failing_after_publish(&ids, &bad);
    host_set_catalog(cat);
    assert_int_equal(host_startup(), 0);
    const struct wsapi *api = host_api();
    struct e2e_session session = { .layout = E2E_LSP_OWN, .cat = cat, .api = api,
                                   .through_lsp = 1 };
    struct e2e_session *s = &session;
    s->lsp = ids;
    WSAPROTOCOL_INFOW base_entries[64];
    DWORD size = sizeof base_entries;
    int err = 0, n = simcat_enum(cat, NULL, base_entries, &size, &err);
    WSAPROTOCOL_INFOW *tcp4_base = NULL;
    for (int i = 0; i < n; i++) {
        if (base_entries[i].ProtocolChain.ChainLen == BASE_PROTOCOL &&
            base_entries[i].iAddressFamily == AF_INET && base_entries[i].iSocketType == SOCK_STREAM)
            tcp4_base = &base_entries[i];
    }
    assert_non_null(tcp4_base);

    /* The first start-up (TCP/IPv4 chain) and the sockets the thread uses. */
    SOCKADDR_STORAGE addr;
    int len;
    SOCKET l = e2e_listener(s, AF_INET, &addr, &len), accepted;
    struct busy_thread t = { .api = api };
    t.connected = e2e_connect_pair(s, l, &addr, len, &accepted);
    e2e_peer_matches_base(s, t.connected, 0); /* starts tbase in the host too */
    t.unrecorded = api->WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, tcp4_base, 0, 0);
    assert_true(t.unrecorded != INVALID_SOCKET);
    E2E_OK(api->connect(t.unrecorded, (struct sockaddr *)&addr, len));
    SOCKET accepted2 = api->accept(l, NULL, NULL);
    assert_true(accepted2 != INVALID_SOCKET);
    assert_int_equal(host_provider(&ids.chain_guids[HOST_BASE_TCP4], &t.lsp_procs, NULL), 0);
    t.running = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_non_null(t.running);
    HANDLE thread = CreateThread(NULL, 0, busy_calls, &t, 0, NULL);
    assert_non_null(thread);
    assert_int_equal(WaitForSingleObject(t.running, INFINITE), WAIT_OBJECT_0);

    /* The second start-up: publishes the TCP/IPv6 chain and starts tbase's
     * IPv6 provider, then fails on the broken chain it was started for. */
    LONG cleanups = e2e_base_calls("WSPCleanup"), startups = e2e_base_startups();
    SOCKET none = api->WSASocketW(AF_INET6, SOCK_STREAM, IPPROTO_TCP, &bad, 0, 0);
    assert_true(none == INVALID_SOCKET);
    assert_int_equal(api->WSAGetLastError(), WSAEPROVIDERFAILEDINIT);
    assert_int_equal(host_last_startup_error(), WSAEPROVIDERFAILEDINIT);
    if (e2e_base_calls("WSPCleanup") != cleanups)
        fail_msg("the failed start-up cleaned up a lower provider it had published (%ld "
                 "WSPCleanup calls) while another thread was in calls",
                 e2e_base_calls("WSPCleanup") - cleanups);
    assert_int_equal(e2e_base_startups(), startups + 1); /* still started */

    t.stop = 1;
    assert_int_equal(WaitForSingleObject(thread, INFINITE), WAIT_OBJECT_0);
    CloseHandle(thread);
    CloseHandle(t.running);
    if (t.failures)
        fail_msg("the thread in calls saw %ld failures in %ld rounds", t.failures, t.rounds);

    /* The TCP/IPv6 chain loads again (the broken one, not started for,
     * is skipped), over the tbase IPv6 provider already started. */
    SOCKADDR_STORAGE addr6;
    int len6;
    SOCKET l6 = e2e_listener(s, AF_INET6, &addr6, &len6), accepted6;
    SOCKET c6 = e2e_connect_pair(s, l6, &addr6, len6, &accepted6);
    e2e_peer_matches_base(s, c6, 0);
    e2e_peer_from_table(s, c6, &addr6, len6, 2);

    SOCKET all[] = { c6, accepted6, l6, t.connected, accepted, t.unrecorded, accepted2, l };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        E2E_OK(api->closesocket(all[i]));
    assert_int_equal(host_cleanup(), 0);
    host_set_catalog(NULL);
    simcat_destroy(cat);
    /* The last cleanup stopped everything, the retired chain's provider too. */
    assert_int_equal(e2e_base_startups(), 0);
}

typedef int (WSPAPI *startup_fn)(WORD, LPWSPDATA, LPWSAPROTOCOL_INFOW, WSPUPCALLTABLE,
                                 LPWSPPROC_TABLE);

/* Called directly: version negotiation and NULL pointers. */
static void test_direct_wspstartup_arguments(void **state)
{
    (void)state;
    HMODULE m = LoadLibraryW(PEERLSP_TEST_LSP_DLL);
    assert_non_null(m);
    startup_fn start = (startup_fn)(void (*)(void))GetProcAddress(m, "WSPStartup");
    assert_non_null(start);
    WSPDATA data;
    WSAPROTOCOL_INFOW info;
    WSPUPCALLTABLE upcalls;
    WSPPROC_TABLE procs;
    memset(&info, 0, sizeof info);
    memset(&upcalls, 0, sizeof upcalls);

    static const WORD too_old[] = { MAKEWORD(1, 1), MAKEWORD(2, 0), MAKEWORD(2, 1), MAKEWORD(0, 9) };
    for (size_t i = 0; i < sizeof too_old / sizeof too_old[0]; i++) {
        memset(&data, 0xcc, sizeof data);
        memset(&procs, 0xcc, sizeof procs);
        int r = start(too_old[i], &data, &info, upcalls, &procs);
        if (r != WSAVERNOTSUPPORTED)
            fail_msg("version %d.%d: got %d, expected WSAVERNOTSUPPORTED", LOBYTE(too_old[i]),
                     HIBYTE(too_old[i]), r);
        assert_int_equal(data.wVersion, 0xcccc); /* left alone */
    }
    assert_int_equal(start(MAKEWORD(2, 2), NULL, &info, upcalls, &procs), WSAEFAULT);
    assert_int_equal(start(MAKEWORD(2, 2), &data, NULL, upcalls, &procs), WSAEFAULT);
    assert_int_equal(start(MAKEWORD(2, 2), &data, &info, upcalls, NULL), WSAEFAULT);

    void (WSPAPI *get_guid)(LPGUID) =
        (void (WSPAPI *)(LPGUID))(void (*)(void))GetProcAddress(m, "GetLspGuid");
    assert_non_null(get_guid);
    GUID got;
    memset(&got, 0xcc, sizeof got);
    get_guid(&got);
    assert_memory_equal(&got, &lsp_guid, sizeof got);
    FreeLibrary(m);
}

/* What ws2_32 gets back in WSPDATA: version 2.2, highest 2.2. */
static void test_wspdata_version(void **state)
{
    (void)state;
    struct simcat *cat = catalog_with(PEERLSP_TEST_BASE_DLL, HOST_CHAINS_SHARE_GUID, NULL);
    host_set_catalog(cat);
    assert_int_equal(host_startup(), 0);
    SOCKET s = host_api()->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(s != INVALID_SOCKET);
    WSPDATA data;
    assert_int_equal(host_provider(&lsp_guid, NULL, &data), 0);
    assert_int_equal(data.wVersion, MAKEWORD(2, 2));
    assert_int_equal(data.wHighVersion, MAKEWORD(2, 2));
    assert_int_equal(host_api()->closesocket(s), 0);
    assert_int_equal(host_cleanup(), 0);
    host_set_catalog(NULL);
    simcat_destroy(cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direct_wspstartup_arguments),
        cmocka_unit_test(test_wspdata_version),
        cmocka_unit_test(test_lower_startup_fails),
        cmocka_unit_test(test_next_dll_missing),
        cmocka_unit_test(test_next_dll_path_expanded),
        cmocka_unit_test(test_layered_entry_missing),
        cmocka_unit_test(test_chain_ends_at_peerlsp),
        cmocka_unit_test(test_failed_startup_keeps_published_slots),
    };
    return cmocka_run_group_tests_name("WSPStartup failures", tests, NULL, NULL);
}
