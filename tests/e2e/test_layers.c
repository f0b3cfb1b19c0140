/*
 * test_layers.c - the proc table peerlsp hands to ws2_32 over one lower
 * provider and over several.
 *
 * Over one base provider, every slot peerlsp has nothing to do in is the
 * base provider's own function: no peerlsp code on that path at all (send,
 * receive and their results are peerlsp's own: they watch for the
 * connection ending, see src/transfer.c). When
 * one proc table serves chains over two different lower providers (chains
 * sharing peerlsp's GUID over two different base DLLs), those slots must
 * find each socket's own lower provider instead; traffic of both kinds then
 * reaches the right provider. A handle peerlsp has no record of is only
 * asked about of IFS lower providers.
 */
#include "e2e.h"

#include <stdio.h>
#include <string.h>

#include <peerlsp/peerlsp.h>

#include "simprov.h"

static const GUID lsp_guid = PEERLSP_GUID_INIT;
/* The second base DLL's entries: another file, other GUIDs. */
static const GUID second_v4 = { 0x5e11c0de, 0x1, 0x4a4a, { 1, 2, 3, 4, 5, 6, 7, 8 } };
static const GUID second_v6 = { 0x5e11c0de, 0x2, 0x4a4a, { 1, 2, 3, 4, 5, 6, 7, 8 } };

/* Pass-through slots: peerlsp intercepts none of these. */
#define PASS_SLOTS(X)                                                                      \
    X(lpWSPBind) X(lpWSPListen) X(lpWSPGetSockName) X(lpWSPSelect)                         \
    X(lpWSPEventSelect)

/* Slots where peerlsp passes the call down and only watches for the
 * connection ending (transfer.c): its own functions, over any number of
 * lower providers. */
#define OBSERVED_SLOTS(X)                                                                  \
    X(lpWSPSend) X(lpWSPRecv) X(lpWSPSendTo) X(lpWSPRecvFrom) X(lpWSPEnumNetworkEvents)    \
    X(lpWSPGetOverlappedResult)

/* Slots peerlsp always fills with its own functions. */
#define OWN_SLOTS(X)                                                                       \
    X(lpWSPSocket) X(lpWSPAccept) X(lpWSPConnect) X(lpWSPCloseSocket) X(lpWSPGetPeerName)  \
    X(lpWSPIoctl) X(lpWSPSetSockOpt) X(lpWSPJoinLeaf) X(lpWSPDuplicateSocket)              \
    X(lpWSPShutdown) X(lpWSPSendDisconnect) X(lpWSPRecvDisconnect) X(lpWSPGetSockOpt)

static void base_procs(const GUID *guid, SOCKET any_socket_of_it, WSPPROC_TABLE *procs)
{
    SOCKADDR_STORAGE a;
    int len = sizeof a, err = 0;
    /* Starts the base provider in the host too: the same module, so the
     * same function addresses peerlsp got from its own start of it. */
    (void)host_lower_getpeername(any_socket_of_it, (struct sockaddr *)&a, &len, &err);
    assert_int_equal(host_provider(guid, procs, NULL), 0);
}

static void test_one_lower_direct_pointers(void **state)
{
    (void)state;
    struct e2e_session session, *s = &session;
    WSPPROC_TABLE lsp, base;
    e2e_start(s, E2E_LSP_SHARED);
    SOCKET sock = s->api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(sock != INVALID_SOCKET);
    assert_int_equal(host_provider(&lsp_guid, &lsp, NULL), 0);
    base_procs(&TBASE_GUID_IPV4, sock, &base);
#define SAME(slot)                                                                     \
    if ((void *)lsp.slot != (void *)base.slot)                                         \
        fail_msg(#slot ": peerlsp's table has %p, the base provider's function is %p", \
                 (void *)lsp.slot, (void *)base.slot);
    PASS_SLOTS(SAME)
#define OWN(slot)                                                                      \
    if ((void *)lsp.slot == (void *)base.slot)                                         \
        fail_msg(#slot ": peerlsp's table has the base provider's own function");
    OWN_SLOTS(OWN)
    OBSERVED_SLOTS(OWN)
    assert_int_equal(s->api->closesocket(sock), 0);
    e2e_stop(s);
}

/* Installs a copy of tbase.dll (another module: other function addresses)
 * as a second base provider under other GUIDs; returns its entries' ids. */
static void add_second_base(struct simcat *cat, const wchar_t *path, DWORD ids[HOST_BASE_COUNT])
{
    struct simcat *scratch = simcat_create();
    DWORD first[HOST_BASE_COUNT];
    WSAPROTOCOL_INFOW entries[HOST_BASE_COUNT];
    DWORD size = sizeof entries;
    int err = 0;
    assert_non_null(scratch);
    assert_int_equal(host_catalog_add_base(scratch, path, first), 0);
    assert_int_equal(simcat_enum(scratch, NULL, entries, &size, &err), HOST_BASE_COUNT);
    GUID v4 = second_v4, v6 = second_v6;
    for (int i = 0; i < HOST_BASE_COUNT; i++)
        entries[i].ProviderId = entries[i].iAddressFamily == AF_INET ? v4 : v6;
    assert_int_equal(simcat_install(cat, &v4, path, &entries[HOST_BASE_TCP4], 2,
                                    &ids[HOST_BASE_TCP4], &err), 0);
    assert_int_equal(simcat_install(cat, &v6, path, &entries[HOST_BASE_TCP6], 2,
                                    &ids[HOST_BASE_TCP6], &err), 0);
    simcat_destroy(scratch);
}

static void test_two_lowers_dispatch(void **state)
{
    (void)state;
    wchar_t dir[MAX_PATH], copy[MAX_PATH];
    DWORD n = GetTempPathW(MAX_PATH, dir);
    assert_true(n > 0 && n < MAX_PATH - 32);
    _snwprintf(copy, MAX_PATH, L"%lstbase-second-%lu.dll", dir, GetCurrentProcessId());
    copy[MAX_PATH - 1] = 0;
    assert_true(CopyFileW(PEERLSP_TEST_BASE_DLL, copy, FALSE));

    struct simcat *cat = simcat_create();
    DWORD first[HOST_BASE_COUNT], second[HOST_BASE_COUNT];
    assert_int_equal(host_catalog_add_base(cat, PEERLSP_TEST_BASE_DLL, first), 0);
    add_second_base(cat, copy, second);
    /* TCP over the first DLL, UDP over the second, one shared GUID: one
     * WSPStartup and one proc table for both kinds of socket. */
    DWORD over[] = { first[HOST_BASE_TCP4], second[HOST_BASE_UDP4] };
    struct host_lsp_ids ids;
    assert_int_equal(host_catalog_install_lsp_over(cat, PEERLSP_TEST_LSP_DLL, &lsp_guid, NULL,
                                                   HOST_CHAINS_SHARE_GUID, over, 2, &ids), 0);
    host_set_catalog(cat);
    assert_int_equal(host_startup(), 0);
    const struct wsapi *api = host_api();

    HMODULE second_module = LoadLibraryW(copy);
    assert_non_null(second_module);
    TBASE_CALLS_FN second_calls =
        (TBASE_CALLS_FN)(void (*)(void))GetProcAddress(second_module, "tbase_calls");
    assert_non_null(second_calls);

    /* TCP through the first lower provider. */
    struct e2e_session session = { .layout = E2E_LSP_SHARED, .cat = cat, .api = api, .through_lsp = 1 };
    struct e2e_session *s = &session;
    memcpy(s->base_ids, first, sizeof first);
    s->lsp = ids;
    SOCKADDR_STORAGE laddr, uaddr, peer;
    int llen, ulen, plen;
    SOCKET l = api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(l != INVALID_SOCKET);
    assert_int_equal(host_socket_entry(l), ids.chain_ids[0]);
    e2e_loopback(AF_INET, 0, &laddr, &llen);
    E2E_OK(api->bind(l, (struct sockaddr *)&laddr, llen));
    E2E_OK(api->getsockname(l, (struct sockaddr *)&laddr, &llen));
    E2E_OK(api->listen(l, 4));
    SOCKET server, c = e2e_connect_pair(s, l, &laddr, llen, &server);
    assert_int_equal(api->send(c, "tcp", 3, 0), 3);
    char buf[8];
    assert_int_equal(api->recv(server, buf, sizeof buf, 0), 3);
    e2e_peer_matches_base(s, c, 0);

    /* UDP through the second. */
    LONG sends_before = second_calls("WSPSend");
    SOCKET u = api->socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    SOCKET userver = api->socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    assert_true(u != INVALID_SOCKET && userver != INVALID_SOCKET);
    assert_int_equal(host_socket_entry(u), ids.chain_ids[1]);
    e2e_loopback(AF_INET, 0, &uaddr, &ulen);
    E2E_OK(api->bind(userver, (struct sockaddr *)&uaddr, ulen));
    E2E_OK(api->getsockname(userver, (struct sockaddr *)&uaddr, &ulen));
    E2E_OK(api->connect(u, (struct sockaddr *)&uaddr, ulen));
    assert_int_equal(api->send(u, "udp", 3, 0), 3);
    assert_int_equal(api->recv(userver, buf, sizeof buf, 0), 3);
    plen = sizeof peer;
    E2E_OK(api->getpeername(u, (struct sockaddr *)&peer, &plen));
    e2e_addr_equal(&peer, plen, &uaddr, ulen);
    e2e_peer_matches_base(s, u, 0);
    if (second_calls("WSPSend") - sends_before != 1)
        fail_msg("the UDP send reached the second base provider %ld times, expected 1",
                 second_calls("WSPSend") - sends_before);

    /* The table: the pass-through slots cannot be either DLL's function. */
    WSPPROC_TABLE lsp, a, b;
    assert_int_equal(host_provider(&lsp_guid, &lsp, NULL), 0);
    base_procs(&TBASE_GUID_IPV4, c, &a);
    base_procs(&second_v4, u, &b);
#define DISPATCHED(slot)                                                               \
    if ((void *)lsp.slot == (void *)a.slot || (void *)lsp.slot == (void *)b.slot)      \
        fail_msg(#slot ": one lower provider's function serves both chains");
    PASS_SLOTS(DISPATCHED)
    OBSERVED_SLOTS(DISPATCHED)

    /* A handle peerlsp has no record of (made on the second base provider
     * directly, past peerlsp), handed to peerlsp's own functions: with two
     * lower providers peerlsp finds the owner by asking, so the handle
     * still answers and can still be closed, instead of WSAENOTSOCK. */
    WSAPROTOCOL_INFOW entries[32];
    DWORD size = sizeof entries;
    int err = 0, count = simcat_enum(cat, NULL, entries, &size, &err);
    assert_true(count > 0);
    WSAPROTOCOL_INFOW *direct_info = NULL;
    for (int i = 0; i < count; i++) {
        if (entries[i].dwCatalogEntryId == second[HOST_BASE_UDP4])
            direct_info = &entries[i];
    }
    assert_non_null(direct_info);
    SOCKET direct = api->WSASocketW(AF_INET, SOCK_DGRAM, IPPROTO_UDP, direct_info, 0, 0);
    assert_true(direct != INVALID_SOCKET);
    assert_int_equal(host_socket_entry(direct), second[HOST_BASE_UDP4]);
    E2E_OK(api->connect(direct, (struct sockaddr *)&uaddr, ulen));
    SOCKADDR_STORAGE via_lsp, via_base;
    int vlen = sizeof via_lsp, blen = sizeof via_base, lerr = (int)0xdeadbeef, berr = 0;
    memset(&via_lsp, 0xcc, sizeof via_lsp);
    if (lsp.lpWSPGetPeerName(direct, (struct sockaddr *)&via_lsp, &vlen, &lerr) != 0)
        fail_msg("peerlsp's WSPGetPeerName on a handle it has no record of: error %d", lerr);
    assert_int_equal(b.lpWSPGetPeerName(direct, (struct sockaddr *)&via_base, &blen, &berr), 0);
    e2e_addr_equal(&via_lsp, vlen, &via_base, blen);
    e2e_addr_equal(&via_lsp, vlen, &uaddr, ulen);
    lerr = (int)0xdeadbeef;
    if (lsp.lpWSPCloseSocket(direct, &lerr) != 0)
        fail_msg("peerlsp's WSPCloseSocket on a handle it has no record of: error %d", lerr);

    E2E_OK(api->closesocket(c));
    E2E_OK(api->closesocket(server));
    E2E_OK(api->closesocket(l));
    E2E_OK(api->closesocket(u));
    E2E_OK(api->closesocket(userver));
    assert_int_equal(host_cleanup(), 0);
    host_set_catalog(NULL);
    simcat_destroy(cat);
    FreeLibrary(second_module);
    DeleteFileW(copy);
}

/* A lower provider whose catalog entry is not IFS (XP1_IFS_HANDLES clear:
 * its handles would come from WPUCreateSocketHandle) is never asked about
 * a handle peerlsp has no record of: only IFS providers, whose handles are
 * kernel handles, can be asked safely about a handle they may not own.
 * simprov plays the non-IFS provider (its entry declared without the
 * flag), loaded first, below one chain; tbase below the other. */
static void test_non_ifs_lower_not_asked(void **state)
{
    (void)state;
    struct simcat *cat = simcat_create();
    DWORD base[HOST_BASE_COUNT], sim_id = 0;
    assert_non_null(cat);
    assert_int_equal(host_catalog_add_base(cat, PEERLSP_TEST_BASE_DLL, base), 0);
    WSAPROTOCOL_INFOW entries[32], sim_entry;
    DWORD size = sizeof entries;
    int err = 0, count = simcat_enum(cat, NULL, entries, &size, &err), found = 0;
    for (int i = 0; i < count; i++) {
        if (entries[i].dwCatalogEntryId == base[HOST_BASE_TCP4]) {
            sim_entry = entries[i];
            found = 1;
        }
    }
    assert_true(found);
    GUID sim_guid = SIMPROV_GUID;
    sim_entry.ProviderId = sim_guid;
    sim_entry.dwServiceFlags1 &= ~(DWORD)XP1_IFS_HANDLES;
    wcscpy(sim_entry.szProtocol, L"simprov, declared non-IFS");
    assert_int_equal(simcat_install(cat, &sim_guid, PEERLSP_TEST_SIM_DLL, &sim_entry, 1, &sim_id,
                                    &err), 0);
    /* The chain over simprov first: its provider is peerlsp's first lower. */
    DWORD over[] = { sim_id, base[HOST_BASE_TCP4] };
    struct host_lsp_ids ids;
    assert_int_equal(host_catalog_install_lsp_over(cat, PEERLSP_TEST_LSP_DLL, &lsp_guid, NULL,
                                                   HOST_CHAINS_SHARE_GUID, over, 2, &ids), 0);
    host_set_catalog(cat);
    assert_int_equal(host_startup(), 0);
    const struct wsapi *api = host_api();

    HMODULE sim = LoadLibraryW(PEERLSP_TEST_SIM_DLL);
    assert_non_null(sim);
    SIMPROV_CALLS_FN sim_calls =
        (SIMPROV_CALLS_FN)(void (*)(void))GetProcAddress(sim, "simprov_calls");
    assert_non_null(sim_calls);

    /* A peerlsp socket on the simprov chain starts peerlsp (both chains). */
    SOCKET on_sim = api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(on_sim != INVALID_SOCKET);
    assert_int_equal(host_socket_entry(on_sim), ids.chain_ids[0]);
    WSPPROC_TABLE lsp, b;
    assert_int_equal(host_provider(&lsp_guid, &lsp, NULL), 0);

    /* A tbase handle made past peerlsp, then a listener to connect it to. */
    WSAPROTOCOL_INFOW *direct_info = NULL;
    size = sizeof entries;
    count = simcat_enum(cat, NULL, entries, &size, &err);
    for (int i = 0; i < count; i++) {
        if (entries[i].dwCatalogEntryId == base[HOST_BASE_TCP4])
            direct_info = &entries[i];
    }
    assert_non_null(direct_info);
    SOCKET direct = api->WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, direct_info, 0, 0);
    SOCKET l = api->WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, direct_info, 0, 0);
    assert_true(direct != INVALID_SOCKET && l != INVALID_SOCKET);
    SOCKADDR_STORAGE addr, via_lsp, via_base;
    int len;
    e2e_loopback(AF_INET, 0, &addr, &len);
    assert_int_equal(api->bind(l, (struct sockaddr *)&addr, len), 0);
    assert_int_equal(api->getsockname(l, (struct sockaddr *)&addr, &len), 0);
    assert_int_equal(api->listen(l, 4), 0);
    assert_int_equal(api->connect(direct, (struct sockaddr *)&addr, len), 0);
    base_procs(&TBASE_GUID_IPV4, direct, &b);

    LONG asked_before = sim_calls("WSPGetSockOpt");
    int vlen = sizeof via_lsp, blen = sizeof via_base, lerr = (int)0xdeadbeef, berr = 0;
    if (lsp.lpWSPGetPeerName(direct, (struct sockaddr *)&via_lsp, &vlen, &lerr) != 0)
        fail_msg("peerlsp's WSPGetPeerName on a handle it has no record of: error %d", lerr);
    assert_int_equal(b.lpWSPGetPeerName(direct, (struct sockaddr *)&via_base, &blen, &berr), 0);
    e2e_addr_equal(&via_lsp, vlen, &via_base, blen);
    e2e_addr_equal(&via_lsp, vlen, &addr, len);
    if (sim_calls("WSPGetSockOpt") != asked_before)
        fail_msg("the non-IFS lower provider was asked %ld times about a handle it does not own",
                 sim_calls("WSPGetSockOpt") - asked_before);

    assert_int_equal(api->closesocket(direct), 0);
    assert_int_equal(api->closesocket(l), 0);
    assert_int_equal(api->closesocket(on_sim), 0);
    assert_int_equal(host_cleanup(), 0);
    host_set_catalog(NULL);
    simcat_destroy(cat);
    FreeLibrary(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_lower_direct_pointers),
        cmocka_unit_test(test_two_lowers_dispatch),
        cmocka_unit_test(test_non_ifs_lower_not_asked),
    };
    return cmocka_run_group_tests_name("proc tables over one and two lower providers", tests,
                                       NULL, NULL);
}
