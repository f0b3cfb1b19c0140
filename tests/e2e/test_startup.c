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
    };
    return cmocka_run_group_tests_name("WSPStartup failures", tests, NULL, NULL);
}
