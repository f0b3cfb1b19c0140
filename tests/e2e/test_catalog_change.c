/*
 * test_catalog_change.c - WSPStartup and WSPSocket when the catalog is not
 * what ws2_32 read, and WSPStartup out of memory.
 *
 * - The catalog changes between two start-ups: a base entry that some of
 *   peerlsp's chains sit on is removed. A start-up for one of those chains
 *   fails (WSAEPROVIDERFAILEDINIT); a start-up for a chain that is still
 *   whole succeeds and serves its sockets.
 * - The catalog changes after ws2_32 read it: a chain of peerlsp's appears
 *   that ws2_32 does not know. peerlsp loads it at its start-up, but a
 *   socket made on it cannot be bound to it (WPUModifyIFSHandle refuses
 *   the entry): WSPSocket fails with the upcall's error, and the lower
 *   provider's socket is closed again.
 * - Every allocation of WSPStartup failing in turn (the allocators of the
 *   loaded DLL replaced, as test_oom.c does for the calls after start-up):
 *   WSPStartup answers WSA_NOT_ENOUGH_MEMORY, nothing stays started, and
 *   the next start-up succeeds.
 */
#include "e2e.h"

#include <string.h>

#include <peerlsp/peerlsp.h>

#include "simprov.h"

#include <mswsock.h>

static const GUID lsp_guid = PEERLSP_GUID_INIT;

static int find_entry(struct simcat *cat, DWORD id, WSAPROTOCOL_INFOW *out)
{
    WSAPROTOCOL_INFOW entries[32];
    DWORD size = sizeof entries;
    int err = 0, count = simcat_enum(cat, NULL, entries, &size, &err);
    for (int i = 0; i < count; i++) {
        if (entries[i].dwCatalogEntryId == id) {
            *out = entries[i];
            return 1;
        }
    }
    return 0;
}

/* ---- a base entry removed between start-ups ------------------------------ */

static void test_base_removed_between_startups(void **state)
{
    (void)state;
    struct e2e_session session, *s = &session;
    e2e_start(s, E2E_LSP_SHARED);
    SOCKET sock = s->api->socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP);
    assert_true(sock != INVALID_SOCKET);
    E2E_OK(s->api->closesocket(sock));
    assert_int_equal(host_cleanup(), 0);

    /* tbase's IPv6 entries go; peerlsp's chains over them stay behind. */
    GUID v6 = TBASE_GUID_IPV6;
    int err = 0;
    assert_int_equal(simcat_deinstall(s->cat, &v6, &err), 0);
    WSAPROTOCOL_INFOW chain;
    assert_true(find_entry(s->cat, s->lsp.chain_ids[HOST_BASE_TCP6], &chain));
    assert_int_equal(host_startup(), 0);

    LONG startups = e2e_base_startups();
    sock = s->api->socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP);
    assert_true(sock == INVALID_SOCKET);
    assert_int_equal(s->api->WSAGetLastError(), WSAEPROVIDERFAILEDINIT);
    assert_int_equal(host_last_startup_error(), WSAEPROVIDERFAILEDINIT);
    /* Nothing stayed started after the failed start-up. */
    assert_int_equal(e2e_base_startups(), startups);

    /* The IPv4 chains are whole: their start-up skips the broken ones. */
    sock = s->api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(sock != INVALID_SOCKET);
    assert_int_equal(host_socket_entry(sock), s->lsp.chain_ids[HOST_BASE_TCP4]);
    SOCKADDR_STORAGE addr;
    int len;
    SOCKET server, l = e2e_listener(s, AF_INET, &addr, &len);
    SOCKET c = e2e_connect_pair(s, l, &addr, len, &server);
    e2e_peer_matches_base(s, c, 0);
    /* Its socket made from the broken chain's entry is refused by peerlsp
     * itself (no chain loaded for it), without reaching a provider. */
    WSPPROC_TABLE lsp;
    assert_int_equal(host_provider(&lsp_guid, &lsp, NULL), 0);
    LONG made = e2e_base_calls("WSPSocket");
    SOCKET none = lsp.lpWSPSocket(AF_INET6, SOCK_STREAM, IPPROTO_TCP, &chain, 0, 0, &err);
    assert_true(none == INVALID_SOCKET);
    assert_int_equal(err, WSAEINVAL);
    assert_int_equal(e2e_base_calls("WSPSocket"), made);
    E2E_OK(s->api->closesocket(c));
    E2E_OK(s->api->closesocket(server));
    E2E_OK(s->api->closesocket(l));
    E2E_OK(s->api->closesocket(sock));
    e2e_stop(s);
    assert_int_equal(e2e_base_startups(), 0);
}

/* ---- a chain ws2_32 does not know ----------------------------------------- */

static void test_chain_unknown_to_ws2_32(void **state)
{
    (void)state;
    struct e2e_session session, *s = &session;
    e2e_start(s, E2E_LSP_SHARED);
    /* simprov's entry, which the host reads (simprov registers its handles
     * under it), then a chain of peerlsp's over it, added to the catalog
     * after the host read it. */
    assert_int_equal(host_cleanup(), 0);
    WSAPROTOCOL_INFOW sim_entry, chain;
    assert_true(find_entry(s->cat, s->base_ids[HOST_BASE_UDP4], &sim_entry));
    GUID sim_guid = SIMPROV_GUID;
    sim_entry.ProviderId = sim_guid;
    sim_entry.dwCatalogEntryId = 0x7e00;
    assert_int_equal(simcat_add_entry(s->cat, &sim_entry, PEERLSP_TEST_SIM_DLL, 0), 0);
    assert_int_equal(host_startup(), 0);
    assert_true(find_entry(s->cat, s->lsp.chain_ids[HOST_BASE_UDP4], &chain));
    chain.dwCatalogEntryId = 0x7e01;
    chain.ProtocolChain.ChainLen = 2;
    chain.ProtocolChain.ChainEntries[0] = s->lsp.layered_id;
    chain.ProtocolChain.ChainEntries[1] = sim_entry.dwCatalogEntryId;
    assert_int_equal(simcat_add_entry(s->cat, &chain, PEERLSP_TEST_LSP_DLL, 0), 0);

    HMODULE sim = LoadLibraryW(PEERLSP_TEST_SIM_DLL);
    assert_non_null(sim);
    SIMPROV_CALLS_FN sim_calls =
        (SIMPROV_CALLS_FN)(void (*)(void))GetProcAddress(sim, "simprov_calls");
    SIMPROV_OPEN_SOCKETS_FN sim_open =
        (SIMPROV_OPEN_SOCKETS_FN)(void (*)(void))GetProcAddress(sim, "simprov_open_sockets");
    assert_true(sim_calls && sim_open);

    /* peerlsp starts (for a chain the host knows) and loads the new chain
     * too, starting simprov below it. */
    SOCKET sock = s->api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(sock != INVALID_SOCKET);
    WSPPROC_TABLE lsp;
    assert_int_equal(host_provider(&lsp_guid, &lsp, NULL), 0);
    LONG made = sim_calls("WSPSocket"), closed = sim_calls("WSPCloseSocket"),
         open = sim_open();
    int err = 0;
    SOCKET r = lsp.lpWSPSocket(AF_INET, SOCK_DGRAM, IPPROTO_UDP, &chain, 0, 0, &err);
    if (r != INVALID_SOCKET || err != WSAEINVAL)
        fail_msg("WSPSocket on a chain the host does not know: %#llx, error %d; expected the "
                 "upcall's WSAEINVAL", (unsigned long long)r, err);
    assert_int_equal(sim_calls("WSPSocket"), made + 1);
    assert_int_equal(sim_calls("WSPCloseSocket"), closed + 1);
    assert_int_equal(sim_open(), open);
    E2E_OK(s->api->closesocket(sock));
    e2e_stop(s);
    FreeLibrary(sim);
}

/* ---- a lower provider that fails to start, or starts broken ------------- */

/* peerlsp over simprov alone (its TCP/IPv4 chain): simprov's WSPStartup
 * failing gives peerlsp's WSPStartup that very error; a start-up that
 * succeeds but leaves a proc-table slot empty is refused
 * (WSAEPROVIDERFAILEDINIT) after simprov's WSPCleanup undid it. */
static void test_lower_fails_to_start(void **state)
{
    (void)state;
    struct simcat *cat = simcat_create();
    DWORD base[HOST_BASE_COUNT], sim_id = 0;
    int err = 0;
    assert_non_null(cat);
    assert_int_equal(host_catalog_add_base(cat, PEERLSP_TEST_BASE_DLL, base), 0);
    WSAPROTOCOL_INFOW sim_entry;
    assert_true(find_entry(cat, base[HOST_BASE_TCP4], &sim_entry));
    GUID sim_guid = SIMPROV_GUID;
    sim_entry.ProviderId = sim_guid;
    assert_int_equal(simcat_install(cat, &sim_guid, PEERLSP_TEST_SIM_DLL, &sim_entry, 1, &sim_id,
                                    &err), 0);
    DWORD over[] = { sim_id };
    struct host_lsp_ids ids;
    assert_int_equal(host_catalog_install_lsp_over(cat, PEERLSP_TEST_LSP_DLL, &lsp_guid, NULL,
                                                   HOST_CHAINS_SHARE_GUID, over, 1, &ids), 0);
    HMODULE sim = LoadLibraryW(PEERLSP_TEST_SIM_DLL);
    assert_non_null(sim);
    SIMPROV_CALLS_FN sim_calls =
        (SIMPROV_CALLS_FN)(void (*)(void))GetProcAddress(sim, "simprov_calls");
    SIMPROV_FAIL_NEXT_FN fail_next =
        (SIMPROV_FAIL_NEXT_FN)(void (*)(void))GetProcAddress(sim, "simprov_fail_next");
    SIMPROV_EMPTY_NEXT_SLOT_FN empty_next =
        (SIMPROV_EMPTY_NEXT_SLOT_FN)(void (*)(void))GetProcAddress(sim, "simprov_empty_next_slot");
    assert_true(sim_calls && fail_next && empty_next);
    host_set_catalog(cat);
    const struct wsapi *api = host_api();

    /* Failing to start: its own error comes back. */
    assert_int_equal(host_startup(), 0);
    assert_true(fail_next("WSPStartup", WSASYSNOTREADY));
    SOCKET sock = api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(sock == INVALID_SOCKET);
    assert_int_equal(api->WSAGetLastError(), WSASYSNOTREADY);
    assert_int_equal(host_last_startup_error(), WSASYSNOTREADY);
    assert_int_equal(host_cleanup(), 0);

    /* Starting with an empty slot (WSPIoctl, slot 16): refused, and
     * cleaned up below. */
    assert_int_equal(host_startup(), 0);
    LONG started = sim_calls("WSPStartup"), cleaned = sim_calls("WSPCleanup");
    empty_next(16);
    sock = api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(sock == INVALID_SOCKET);
    assert_int_equal(api->WSAGetLastError(), WSAEPROVIDERFAILEDINIT);
    assert_int_equal(sim_calls("WSPStartup"), started + 1);
    assert_int_equal(sim_calls("WSPCleanup"), cleaned + 1);

    /* Whole again: sockets through peerlsp reach simprov. */
    LONG made = sim_calls("WSPSocket");
    sock = api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(sock != INVALID_SOCKET);
    assert_int_equal(host_socket_entry(sock), ids.chain_ids[0]);
    assert_int_equal(sim_calls("WSPSocket"), made + 1);
    assert_int_equal(api->closesocket(sock), 0);
    assert_int_equal(host_cleanup(), 0);
    host_set_catalog(NULL);
    simcat_destroy(cat);
    FreeLibrary(sim);
}

/* ---- an extension function called after the last WSPCleanup ------------- */

/* Applications call extension functions directly, not through ws2_32: one
 * kept after the last cleanup (the DLL still loaded by someone) must fail
 * with WSANOTINITIALISED, not touch freed state. */
static void test_extension_after_cleanup(void **state)
{
    (void)state;
    struct e2e_session session, *s = &session;
    HMODULE held = LoadLibraryW(PEERLSP_TEST_LSP_DLL);
    assert_non_null(held);
    e2e_start(s, E2E_LSP_SHARED);
    SOCKET sock = s->api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(sock != INVALID_SOCKET);
    GUID guid = WSAID_CONNECTEX;
    LPFN_CONNECTEX connect_ex = (LPFN_CONNECTEX)e2e_ext_fn(s, sock, &guid);
    HMODULE owner = NULL;
    assert_true(GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                                       GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                                   (LPCWSTR)(void *)connect_ex, &owner));
    assert_ptr_equal(owner, held); /* peerlsp's own ConnectEx */
    E2E_OK(s->api->closesocket(sock));
    e2e_stop(s);

    SOCKADDR_STORAGE to;
    int tolen;
    e2e_loopback(AF_INET, 4242, &to, &tolen);
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    WSASetLastError(0);
    BOOL ok = connect_ex(sock, (struct sockaddr *)&to, tolen, NULL, 0, NULL, &ov);
    if (ok || WSAGetLastError() != WSANOTINITIALISED)
        fail_msg("ConnectEx after the last WSPCleanup: %d, last error %d; expected "
                 "WSANOTINITIALISED", ok, WSAGetLastError());
    FreeLibrary(held);
}

/* ---- WSPStartup out of memory --------------------------------------------- */

static volatile LONG armed, calls, fail_at, failed;

static int take_failure(void)
{
    if (!armed)
        return 0;
    if (InterlockedIncrement(&calls) == fail_at) {
        InterlockedIncrement(&failed);
        return 1;
    }
    return 0;
}

static LPVOID WINAPI oom_HeapAlloc(HANDLE heap, DWORD flags, SIZE_T n)
{
    return take_failure() ? NULL : HeapAlloc(heap, flags, n);
}

typedef void *(__cdecl *malloc_fn)(size_t);
typedef void *(__cdecl *calloc_fn)(size_t, size_t);
static malloc_fn real_malloc;
static calloc_fn real_calloc;

static void *__cdecl oom_malloc(size_t n)
{
    return take_failure() ? NULL : real_malloc(n);
}

static void *__cdecl oom_calloc(size_t n, size_t size)
{
    return take_failure() ? NULL : real_calloc(n, size);
}

static void test_startup_allocation_fails(void **state)
{
    (void)state;
    struct e2e_session session, *s = &session;
    /* Held for the whole test: the DLL stays loaded between sessions, with
     * its imports as this test leaves them. */
    HMODULE held = LoadLibraryW(PEERLSP_TEST_LSP_DLL);
    assert_non_null(held);
    HMODULE crt = GetModuleHandleW(L"msvcrt.dll");
    real_malloc = (malloc_fn)(void (*)(void))GetProcAddress(crt, "malloc");
    real_calloc = (calloc_fn)(void (*)(void))GetProcAddress(crt, "calloc");
    assert_true(real_malloc && real_calloc);
    assert_true(host_patch_import(held, "kernel32.dll", "HeapAlloc", (void *)oom_HeapAlloc) > 0);
    assert_true(host_patch_import(held, "msvcrt.dll", "malloc", (void *)oom_malloc) >= 0);
    assert_true(host_patch_import(held, "msvcrt.dll", "calloc", (void *)oom_calloc) >= 0);

    int startup_failures = 0;
    for (LONG n = 1; n < 64; n++) {
        e2e_start(s, E2E_LSP_SHARED);
        calls = 0;
        failed = 0;
        fail_at = n;
        armed = 1;
        SOCKET sock = s->api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
        int err = sock == INVALID_SOCKET ? s->api->WSAGetLastError() : 0;
        armed = 0;
        int startup_error = host_last_startup_error();
        if (sock != INVALID_SOCKET) {
            /* The failed allocation (if any) was the socket's record: the
             * socket works without one, bound to peerlsp's chain. */
            assert_int_equal(startup_error, 0);
            assert_int_equal(host_socket_entry(sock), s->lsp.chain_ids[HOST_BASE_TCP4]);
            E2E_OK(s->api->closesocket(sock));
        } else {
            if (err != WSA_NOT_ENOUGH_MEMORY || startup_error != WSA_NOT_ENOUGH_MEMORY)
                fail_msg("allocation %ld failing: socket error %d, WSPStartup %d; expected "
                         "WSA_NOT_ENOUGH_MEMORY", n, err, startup_error);
            assert_int_equal(failed, 1);
            startup_failures++;
        }
        e2e_stop(s);
        /* Nothing below peerlsp stays started. */
        assert_int_equal(e2e_base_startups(), 0);
        if (!failed)
            break; /* past the last allocation */
    }
    /* The catalog read, the table, the chain and the lower provider. */
    if (startup_failures < 4)
        fail_msg("only %d allocations of WSPStartup failed it", startup_failures);

    /* With memory again, the next start-up succeeds. */
    e2e_start(s, E2E_LSP_SHARED);
    SOCKET sock = s->api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(sock != INVALID_SOCKET);
    E2E_OK(s->api->closesocket(sock));
    e2e_stop(s);
    FreeLibrary(held);
}

int main(int argc, char **argv)
{
    (void)argc, (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_removed_between_startups),
        cmocka_unit_test(test_chain_unknown_to_ws2_32),
        cmocka_unit_test(test_lower_fails_to_start),
        cmocka_unit_test(test_extension_after_cleanup),
        cmocka_unit_test(test_startup_allocation_fails),
    };
    return cmocka_run_group_tests_name("catalog changes and WSPStartup out of memory", tests,
                                       NULL, NULL);
}
