/*
 * test_host.c - the test host with tbase alone (no LSP), and hostprobe for
 * what tbase does not exercise.
 *
 * The catalog of every test: tbase's four base entries (TCP/UDP over IPv4
 * and IPv6, as host_catalog_add_base makes them) followed by one hostprobe
 * entry for AF_APPLETALK stream sockets, whose path holds an environment
 * variable (the host must expand it; the catalog keeps it unexpanded).
 * The test holds its own references on tbase.dll and hostprobe.dll so that
 * their counters survive the host's sessions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include <cmocka.h>

#include "host_ext.h"
#include "hostprobe.h"
#include "tbase.h"
#include "wshost.h"

#define SENTINEL 0xdeadbeef
#define ERR_SENTINEL ((int)SENTINEL)

#define check_int(row, got, want)                                                             \
    do {                                                                                      \
        long long got_ = (long long)(got), want_ = (long long)(want);                        \
        if (got_ != want_)                                                                    \
            fail_msg("%s: %s: got %lld (0x%llx), expected %lld (0x%llx)", (row), #got, got_, \
                     (unsigned long long)got_, want_, (unsigned long long)want_);            \
    } while (0)

static const struct wsapi *api;
static const GUID probe_guid = HOSTPROBE_GUID_INIT;

static HMODULE tbase_module, probe_module;
static TBASE_CALLS_FN p_tbase_calls;
static TBASE_RESET_CALLS_FN p_tbase_reset_calls;
static TBASE_FAIL_NEXT_STARTUP_FN p_tbase_fail_next_startup;
static TBASE_STARTUPS_FN p_tbase_startups;
static TBASE_OPEN_SOCKETS_FN p_tbase_open_sockets;
static HOSTPROBE_STARTUPS_FN p_probe_startups;
static HOSTPROBE_FAIL_NEXT_STARTUP_FN p_probe_fail_next_startup;
static HOSTPROBE_EMPTY_SLOT_FN p_probe_empty_slot_next_startup;
static HOSTPROBE_STARTED_ENTRY_FN p_probe_started_entry;
static HOSTPROBE_CATALOG_COUNT_FN p_probe_catalog_count;
static HOSTPROBE_CATALOG_PATH_FN p_probe_catalog_path;
static HOSTPROBE_CATEGORIES_FN p_probe_categories;
static HOSTPROBE_COMPLETE_FN p_probe_complete;
static HOSTPROBE_UPCALLS_FN p_probe_upcalls;

/* The probe's path as stored: %HOSTPROBE_DIR%\hostprobe.dll. */
static WCHAR probe_catalog_path[MAX_PATH];
#define PROBE_CATEGORIES (LSP_SYSTEM | LSP_INSPECTOR)

/* Per test: the catalog and its ids. */
static struct simcat *cat;
static DWORD base[HOST_BASE_COUNT];
static DWORD probe_id;

#define RESOLVE(module, var, name) \
    assert_non_null(var = (void *)(void (*)(void))GetProcAddress(module, name))

static int group_setup(void **state)
{
    (void)state;
    api = host_api();
    tbase_module = LoadLibraryW(PEERLSP_TEST_BASE_DLL);
    probe_module = LoadLibraryW(HOST_TEST_PROBE_DLL);
    assert_non_null(tbase_module);
    assert_non_null(probe_module);
    RESOLVE(tbase_module, p_tbase_calls, "tbase_calls");
    RESOLVE(tbase_module, p_tbase_reset_calls, "tbase_reset_calls");
    RESOLVE(tbase_module, p_tbase_fail_next_startup, "tbase_fail_next_startup");
    RESOLVE(tbase_module, p_tbase_startups, "tbase_startups");
    RESOLVE(tbase_module, p_tbase_open_sockets, "tbase_open_sockets");
    RESOLVE(probe_module, p_probe_startups, "probe_startups");
    RESOLVE(probe_module, p_probe_fail_next_startup, "probe_fail_next_startup");
    RESOLVE(probe_module, p_probe_empty_slot_next_startup, "probe_empty_slot_next_startup");
    RESOLVE(probe_module, p_probe_started_entry, "probe_started_entry");
    RESOLVE(probe_module, p_probe_catalog_count, "probe_catalog_count");
    RESOLVE(probe_module, p_probe_catalog_path, "probe_catalog_path");
    RESOLVE(probe_module, p_probe_categories, "probe_categories");
    RESOLVE(probe_module, p_probe_complete, "probe_complete");
    RESOLVE(probe_module, p_probe_upcalls, "probe_upcalls");

    /* The probe's directory through an environment variable. */
    WCHAR dir[MAX_PATH];
    wcsncpy(dir, HOST_TEST_PROBE_DLL, MAX_PATH - 1);
    dir[MAX_PATH - 1] = 0;
    WCHAR *slash = wcsrchr(dir, L'\\');
    assert_non_null(slash);
    *slash = 0;
    assert_true(SetEnvironmentVariableW(L"HOSTPROBE_DIR", dir));
    wcscpy(probe_catalog_path, L"%HOSTPROBE_DIR%\\hostprobe.dll");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    FreeLibrary(probe_module);
    FreeLibrary(tbase_module);
    return 0;
}

static WSAPROTOCOL_INFOW probe_entry(void)
{
    WSAPROTOCOL_INFOW e;
    memset(&e, 0, sizeof e);
    e.dwServiceFlags1 = XP1_GUARANTEED_DELIVERY | XP1_GUARANTEED_ORDER; /* not IFS */
    e.ProtocolChain.ChainLen = BASE_PROTOCOL;
    e.iVersion = 2;
    e.iAddressFamily = AF_APPLETALK;
    e.iMaxSockAddr = e.iMinSockAddr = sizeof(struct sockaddr_in);
    e.iSocketType = SOCK_STREAM;
    e.iProtocol = 0;
    /* socket(af, type, 0) picks only an entry that says it may. */
    e.dwProviderFlags = PFL_MATCHES_PROTOCOL_ZERO;
    wcscpy(e.szProtocol, L"hostprobe");
    return e;
}

static int setup(void **state)
{
    (void)state;
    cat = simcat_create();
    assert_non_null(cat);
    assert_int_equal(host_catalog_add_base(cat, PEERLSP_TEST_BASE_DLL, base), 0);
    WSAPROTOCOL_INFOW e = probe_entry();
    GUID g = probe_guid;
    int err = ERR_SENTINEL;
    assert_int_equal(simcat_install(cat, &g, probe_catalog_path, &e, 1, &probe_id, &err), 0);
    DWORD cats = PROBE_CATEGORIES;
    assert_int_equal(simcat_set_provider_info(cat, &g, ProviderInfoLspCategories, (PBYTE)&cats,
                                              sizeof cats, 0, &err),
                     0);
    host_set_catalog(cat);
    p_tbase_reset_calls();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    while (host_cleanup() == 0)
        ;
    host_set_catalog(NULL);
    simcat_destroy(cat);
    cat = NULL;
    /* Every WSPStartup the host made was matched by a WSPCleanup. */
    assert_int_equal(p_tbase_startups(), 0);
    assert_int_equal(p_probe_startups(), 0);
    return 0;
}

/* ---- helpers -------------------------------------------------------------- */

static void expect_fail(const char *row, int ret, int err)
{
    check_int(row, ret, SOCKET_ERROR);
    check_int(row, api->WSAGetLastError(), err);
}

static void expect_socket_fail(const char *row, SOCKET s, int err)
{
    check_int(row, s == INVALID_SOCKET, 1);
    check_int(row, api->WSAGetLastError(), err);
}

static int loopback(int af, struct sockaddr_storage *ss, u_short port)
{
    memset(ss, 0, sizeof *ss);
    if (af == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_loopback;
        s6->sin6_port = htons(port);
        return sizeof *s6;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s4->sin_port = htons(port);
    return sizeof *s4;
}

struct tcp_pair {
    SOCKET listener, client, server;
    struct sockaddr_storage listen_addr, accepted_peer;
    int listen_len, accepted_len;
};

static void make_tcp_pair(int af, struct tcp_pair *p)
{
    p->listener = api->socket(af, SOCK_STREAM, IPPROTO_TCP);
    assert_true(p->listener != INVALID_SOCKET);
    p->listen_len = loopback(af, &p->listen_addr, 0);
    assert_int_equal(api->bind(p->listener, (struct sockaddr *)&p->listen_addr, p->listen_len), 0);
    assert_int_equal(api->listen(p->listener, 4), 0);
    p->listen_len = sizeof p->listen_addr;
    assert_int_equal(api->getsockname(p->listener, (struct sockaddr *)&p->listen_addr,
                                      &p->listen_len),
                     0);
    p->client = api->socket(af, SOCK_STREAM, IPPROTO_TCP);
    assert_true(p->client != INVALID_SOCKET);
    assert_int_equal(api->connect(p->client, (struct sockaddr *)&p->listen_addr, p->listen_len),
                     0);
    p->accepted_len = sizeof p->accepted_peer;
    p->server = api->accept(p->listener, (struct sockaddr *)&p->accepted_peer, &p->accepted_len);
    assert_true(p->server != INVALID_SOCKET);
}

static void close_tcp_pair(struct tcp_pair *p)
{
    assert_int_equal(api->closesocket(p->server), 0);
    assert_int_equal(api->closesocket(p->client), 0);
    assert_int_equal(api->closesocket(p->listener), 0);
}

static const WSPUPCALLTABLE *upcalls(void)
{
    const WSPUPCALLTABLE *u = p_probe_upcalls();
    assert_non_null(u); /* the probe has been started once in this process */
    return u;
}

/* Starts the probe (it keeps the host's upcall table) with one socket. */
static SOCKET probe_socket(void)
{
    SOCKET s = api->socket(AF_APPLETALK, SOCK_STREAM, 0);
    assert_true(s != INVALID_SOCKET);
    return s;
}

/* ---- sessions -------------------------------------------------------------- */

static void test_not_initialised(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char buf[4];
    fd_set set;
    FD_ZERO(&set);
    FD_SET((SOCKET)0x1234, &set);
    DWORD plen = 0;

    api->WSASetLastError(ERR_SENTINEL);
    expect_socket_fail("socket", api->socket(AF_INET, SOCK_STREAM, 0), WSANOTINITIALISED);
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("getpeername", api->getpeername((SOCKET)0x1234, (struct sockaddr *)&ss, &len),
                WSANOTINITIALISED);
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("recv", api->recv((SOCKET)0x1234, buf, sizeof buf, 0), WSANOTINITIALISED);
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("select", api->select(0, &set, NULL, NULL, NULL), WSANOTINITIALISED);
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("WSAEnumProtocolsW", api->WSAEnumProtocolsW(NULL, NULL, &plen),
                WSANOTINITIALISED);
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("WSACleanup", api->WSACleanup(), WSANOTINITIALISED);
    check_int("host_socket_entry", host_socket_entry((SOCKET)0x1234), 0);
    int err = ERR_SENTINEL;
    check_int("host_lower_getpeername",
              host_lower_getpeername((SOCKET)0x1234, (struct sockaddr *)&ss, &len, &err),
              SOCKET_ERROR);
    check_int("host_lower_getpeername", err, WSANOTINITIALISED);
    check_int("host_provider", host_provider(&TBASE_GUID_IPV4, NULL, NULL), WSANOTINITIALISED);
}

static void test_startup_versions(void **state)
{
    (void)state;
    const struct {
        const char *row;
        WORD version;
        int null_data;
        int ret;
        WORD granted;
    } rows[] = {
        { "2.2", MAKEWORD(2, 2), 0, 0, MAKEWORD(2, 2) },
        { "1.1", MAKEWORD(1, 1), 0, 0, MAKEWORD(1, 1) },
        { "2.0", MAKEWORD(2, 0), 0, 0, MAKEWORD(2, 0) },
        { "2.5", MAKEWORD(2, 5), 0, 0, MAKEWORD(2, 2) },
        { "3.0", MAKEWORD(3, 0), 0, 0, MAKEWORD(2, 2) },
        { "0.9", MAKEWORD(0, 9), 0, WSAVERNOTSUPPORTED, 0 },
        { "NULL data", MAKEWORD(2, 2), 1, WSAEFAULT, 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        WSADATA data;
        memset(&data, 0xcc, sizeof data);
        int ret = api->WSAStartup(rows[i].version, rows[i].null_data ? NULL : &data);
        check_int(rows[i].row, ret, rows[i].ret);
        if (ret == 0) {
            check_int(rows[i].row, data.wVersion, rows[i].granted);
            check_int(rows[i].row, data.wHighVersion, MAKEWORD(2, 2));
            check_int(rows[i].row, api->WSACleanup(), 0);
        } else {
            check_int(rows[i].row, data.wVersion, 0xcccc);
        }
        /* Nothing left started. */
        check_int(rows[i].row, api->WSACleanup(), SOCKET_ERROR);
    }
}

static void test_startup_is_counted(void **state)
{
    (void)state;
    assert_int_equal(host_startup(), 0);
    assert_int_equal(host_startup(), 0);
    assert_int_equal(host_cleanup(), 0);
    SOCKET s = api->socket(AF_INET, SOCK_STREAM, 0); /* still started */
    assert_true(s != INVALID_SOCKET);
    assert_int_equal(api->closesocket(s), 0);
    assert_int_equal(host_cleanup(), 0);
    api->WSASetLastError(ERR_SENTINEL);
    expect_socket_fail("after the last cleanup", api->socket(AF_INET, SOCK_STREAM, 0),
                       WSANOTINITIALISED);
}

static void test_lazy_start_once_per_guid(void **state)
{
    (void)state;
    WSPPROC_TABLE procs;
    WSPDATA data;
    LONG v4_before = host_provider_startups(&TBASE_GUID_IPV4);
    LONG v6_before = host_provider_startups(&TBASE_GUID_IPV6);

    assert_int_equal(host_startup(), 0);
    /* Nothing is loaded by startup alone. */
    assert_int_equal(p_tbase_startups(), 0);
    assert_int_equal(p_tbase_calls("WSPStartup"), 0);
    assert_int_equal(host_provider(&TBASE_GUID_IPV4, &procs, &data), WSAEINVAL);

    SOCKET tcp4 = api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(tcp4 != INVALID_SOCKET);
    assert_int_equal(p_tbase_startups(), 1);
    SOCKET udp4 = api->socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP); /* same GUID: no new start */
    assert_true(udp4 != INVALID_SOCKET);
    assert_int_equal(p_tbase_startups(), 1);
    assert_int_equal(host_provider_startups(&TBASE_GUID_IPV4), v4_before + 1);
    assert_int_equal(host_provider_startups(&TBASE_GUID_IPV6), v6_before);

    SOCKET tcp6 = api->socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP); /* second GUID */
    assert_true(tcp6 != INVALID_SOCKET);
    SOCKET udp6 = api->socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP);
    assert_true(udp6 != INVALID_SOCKET);
    assert_int_equal(p_tbase_startups(), 2);
    assert_int_equal(p_tbase_calls("WSPStartup"), 2);
    assert_int_equal(host_provider_startups(&TBASE_GUID_IPV6), v6_before + 1);

    memset(&data, 0xcc, sizeof data);
    memset(&procs, 0, sizeof procs);
    assert_int_equal(host_provider(&TBASE_GUID_IPV4, &procs, &data), 0);
    assert_int_equal(data.wVersion, MAKEWORD(2, 2));
    assert_non_null(procs.lpWSPGetPeerName);
    assert_int_equal(host_last_startup_error(), 0);

    SOCKET all[4] = { tcp4, udp4, tcp6, udp6 };
    for (int i = 0; i < 4; i++)
        assert_int_equal(api->closesocket(all[i]), 0);
    assert_int_equal(host_cleanup(), 0);
    /* One WSPCleanup per successful WSPStartup. */
    assert_int_equal(p_tbase_calls("WSPCleanup"), 2);
    assert_int_equal(p_tbase_startups(), 0);
}

static void test_failed_start_is_retried(void **state)
{
    (void)state;
    assert_int_equal(host_startup(), 0);
    p_tbase_fail_next_startup(WSAENETDOWN);
    api->WSASetLastError(ERR_SENTINEL);
    expect_socket_fail("failing WSPStartup", api->socket(AF_INET, SOCK_STREAM, 0), WSAENETDOWN);
    assert_int_equal(host_last_startup_error(), WSAENETDOWN);
    assert_int_equal(p_tbase_startups(), 0);

    SOCKET s = api->socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s != INVALID_SOCKET);
    assert_int_equal(p_tbase_startups(), 1);
    assert_int_equal(p_tbase_calls("WSPStartup"), 2);
    assert_int_equal(api->closesocket(s), 0);
    assert_int_equal(host_cleanup(), 0);
    /* A new session starts with a clean record. */
    assert_int_equal(host_startup(), 0);
    assert_int_equal(host_last_startup_error(), 0);
}

static void test_incomplete_proc_table(void **state)
{
    (void)state;
    assert_int_equal(host_startup(), 0);
    p_probe_empty_slot_next_startup(12); /* lpWSPGetPeerName */
    api->WSASetLastError(ERR_SENTINEL);
    expect_socket_fail("empty slot", api->socket(AF_APPLETALK, SOCK_STREAM, 0),
                       WSAEINVALIDPROCTABLE);
    assert_int_equal(host_last_startup_error(), WSAEINVALIDPROCTABLE);
    /* The provider that started was cleaned up again. */
    assert_int_equal(p_probe_startups(), 0);

    p_probe_fail_next_startup(WSAEPROVIDERFAILEDINIT);
    expect_socket_fail("failing probe", api->socket(AF_APPLETALK, SOCK_STREAM, 0),
                       WSAEPROVIDERFAILEDINIT);
    SOCKET s = probe_socket();
    assert_int_equal(p_probe_startups(), 1);
    assert_int_equal(api->closesocket(s), 0);
}

static void test_missing_dll(void **state)
{
    (void)state;
    WSAPROTOCOL_INFOW e = probe_entry();
    e.iAddressFamily = AF_IPX;
    GUID g = { 0x0badd11, 0, 0, { 0 } };
    int err;
    assert_int_equal(simcat_install(cat, &g, L"Z:\\no\\such.dll", &e, 1, NULL, &err), 0);
    assert_int_equal(host_startup(), 0);
    api->WSASetLastError(ERR_SENTINEL);
    expect_socket_fail("no DLL", api->socket(AF_IPX, SOCK_STREAM, 0), WSAEPROVIDERFAILEDINIT);
    assert_int_equal(host_last_startup_error(), WSAEPROVIDERFAILEDINIT);
}

static void test_cleanup_and_restart(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        assert_int_equal(host_startup(), 0);
        struct tcp_pair p;
        make_tcp_pair(AF_INET, &p);
        assert_int_equal(p_tbase_startups(), 1);
        assert_int_equal(host_socket_entry(p.client), base[HOST_BASE_TCP4]);
        /* Sockets left open: the last cleanup forgets them (tbase's last
         * WSPCleanup closes its own). */
        assert_int_equal(host_cleanup(), 0);
        assert_int_equal(p_tbase_startups(), 0);
        assert_int_equal(p_tbase_open_sockets(), 0);
        check_int("forgotten", host_socket_entry(p.client), 0);
    }
}

static void test_catalog_snapshot_per_session(void **state)
{
    (void)state;
    assert_int_equal(host_startup(), 0);
    GUID v6 = TBASE_GUID_IPV6;
    int err;
    assert_int_equal(simcat_deinstall(cat, &v6, &err), 0);
    /* This session still has the IPv6 entries ... */
    SOCKET s = api->socket(AF_INET6, SOCK_STREAM, 0);
    assert_true(s != INVALID_SOCKET);
    assert_int_equal(api->closesocket(s), 0);
    /* ... while a provider's WSC imports read the catalog as it is now. */
    s = probe_socket();
    assert_int_equal(p_probe_catalog_count(), (int)simcat_count(cat));
    assert_int_equal(p_probe_catalog_count(), 3);
    assert_int_equal(api->closesocket(s), 0);
    assert_int_equal(host_cleanup(), 0);

    assert_int_equal(host_startup(), 0);
    api->WSASetLastError(ERR_SENTINEL);
    expect_socket_fail("next session", api->socket(AF_INET6, SOCK_STREAM, 0), WSAEAFNOSUPPORT);
}

/* ---- choosing the entry ----------------------------------------------------- */

static void test_provider_selection(void **state)
{
    (void)state;
    const struct {
        const char *row;
        int af, type, protocol;
        int entry; /* index into base[], 4 = probe, -1 = error */
        int err;
    } rows[] = {
        { "tcp4", AF_INET, SOCK_STREAM, IPPROTO_TCP, HOST_BASE_TCP4, 0 },
        { "stream4, protocol 0", AF_INET, SOCK_STREAM, 0, HOST_BASE_TCP4, 0 },
        { "dgram4, protocol 0", AF_INET, SOCK_DGRAM, 0, HOST_BASE_UDP4, 0 },
        { "type 0, udp", AF_INET, 0, IPPROTO_UDP, HOST_BASE_UDP4, 0 },
        { "type 0, protocol 0", AF_INET, 0, 0, HOST_BASE_TCP4, 0 },
        { "inet6 anything", AF_INET6, 0, 0, HOST_BASE_TCP6, 0 },
        { "udp6", AF_INET6, SOCK_DGRAM, IPPROTO_UDP, HOST_BASE_UDP6, 0 },
        { "probe", AF_APPLETALK, SOCK_STREAM, 0, 4, 0 },
        { "stream with udp", AF_INET, SOCK_STREAM, IPPROTO_UDP, -1, WSAEPROTONOSUPPORT },
        { "raw", AF_INET, SOCK_RAW, 0, -1, WSAESOCKTNOSUPPORT },
        { "ipx", AF_IPX, SOCK_STREAM, 0, -1, WSAEAFNOSUPPORT },
        /* The rest as Wine's sock.c test_WSASocket finds Windows: AF_UNSPEC
         * with a protocol takes the first family that has it; without one
         * it is WSAEINVAL; a type no family has comes before the family. */
        { "unspec tcp", AF_UNSPEC, SOCK_STREAM, IPPROTO_TCP, HOST_BASE_TCP4, 0 },
        { "unspec type 0 udp", AF_UNSPEC, 0, IPPROTO_UDP, HOST_BASE_UDP4, 0 },
        { "unspec protocol 0", AF_UNSPEC, SOCK_STREAM, 0, -1, WSAEINVAL },
        { "unspec nothing", AF_UNSPEC, 0, 0, -1, WSAEINVAL },
        { "unknown family and type", 0xdead, 0xdead, IPPROTO_TCP, -1, WSAESOCKTNOSUPPORT },
        { "unknown family and protocol", 0xdead, SOCK_STREAM, 0xdead, -1, WSAEAFNOSUPPORT },
        { "unknown type and protocol", AF_INET, 0xdead, 0xdead, -1, WSAESOCKTNOSUPPORT },
        { "unknown protocol, any type", AF_INET, 0, 0xdead, -1, WSAEPROTONOSUPPORT },
    };
    assert_int_equal(host_startup(), 0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        api->WSASetLastError(ERR_SENTINEL);
        SOCKET s = api->socket(rows[i].af, rows[i].type, rows[i].protocol);
        if (rows[i].entry < 0) {
            expect_socket_fail(rows[i].row, s, rows[i].err);
            continue;
        }
        check_int(rows[i].row, s != INVALID_SOCKET, 1);
        DWORD want = rows[i].entry == 4 ? probe_id : base[rows[i].entry];
        check_int(rows[i].row, host_socket_entry(s), want);
        check_int(rows[i].row, host_socket_created_entry(s), want);
        check_int(rows[i].row, api->closesocket(s), 0);
    }
}

static void test_catalog_order_decides(void **state)
{
    (void)state;
    /* A layered entry first (never chosen), then UDP before TCP. */
    WSAPROTOCOL_INFOW layered = probe_entry();
    layered.iAddressFamily = AF_INET;
    layered.ProtocolChain.ChainLen = LAYERED_PROTOCOL;
    layered.dwProviderFlags = PFL_HIDDEN;
    GUID g = { 0x1a7e4ed, 0, 0, { 0 } };
    DWORD lid;
    int err;
    assert_int_equal(simcat_install(cat, &g, L"Z:\\never\\loaded.dll", &layered, 1, &lid, &err),
                     0);
    DWORD order[6] = { lid, base[HOST_BASE_UDP4], base[HOST_BASE_TCP4], base[HOST_BASE_TCP6],
                       base[HOST_BASE_UDP6], probe_id };
    assert_int_equal(simcat_write_order(cat, order, 6), 0);
    assert_int_equal(host_startup(), 0);
    SOCKET s = api->socket(AF_INET, 0, 0);
    assert_true(s != INVALID_SOCKET);
    assert_int_equal(host_socket_entry(s), base[HOST_BASE_UDP4]);
    assert_int_equal(api->closesocket(s), 0);
    s = api->socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s != INVALID_SOCKET);
    assert_int_equal(host_socket_entry(s), base[HOST_BASE_TCP4]);
    assert_int_equal(api->closesocket(s), 0);
}

static void test_wsasocket_with_protocol_info(void **state)
{
    (void)state;
    assert_int_equal(host_startup(), 0);
    WSAPROTOCOL_INFOW infos[8];
    DWORD len = 0;
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("size query", api->WSAEnumProtocolsW(NULL, NULL, &len), WSAENOBUFS);
    assert_int_equal(len, 5 * sizeof(WSAPROTOCOL_INFOW));
    len = sizeof infos;
    assert_int_equal(api->WSAEnumProtocolsW(NULL, infos, &len), 5);
    assert_int_equal(infos[HOST_BASE_UDP4].dwCatalogEntryId, base[HOST_BASE_UDP4]);
    assert_true(infos[HOST_BASE_UDP4].dwServiceFlags1 & XP1_IFS_HANDLES);
    assert_int_equal(infos[HOST_BASE_UDP4].ProtocolChain.ChainLen, 1);
    assert_int_equal(infos[HOST_BASE_UDP4].ProtocolChain.ChainEntries[0], base[HOST_BASE_UDP4]);

    SOCKET s = api->WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO,
                               &infos[HOST_BASE_UDP4], 0, WSA_FLAG_OVERLAPPED);
    assert_true(s != INVALID_SOCKET);
    assert_int_equal(host_socket_entry(s), base[HOST_BASE_UDP4]);
    int type = 0, optlen = sizeof type;
    assert_int_equal(api->getsockopt(s, SOL_SOCKET, SO_TYPE, (char *)&type, &optlen), 0);
    assert_int_equal(type, SOCK_DGRAM);
    assert_int_equal(api->closesocket(s), 0);

    WSAPROTOCOL_INFOW bogus = infos[HOST_BASE_UDP4];
    bogus.dwCatalogEntryId = 4711;
    api->WSASetLastError(ERR_SENTINEL);
    expect_socket_fail("unknown entry id",
                       api->WSASocketW(AF_INET, SOCK_DGRAM, 0, &bogus, 0, WSA_FLAG_OVERLAPPED),
                       WSAEINVAL);
}

/* ---- I/O through the host -------------------------------------------------- */

static void test_tcp_loopback(void **state)
{
    (void)state;
    static const struct {
        const char *row;
        int af, entry;
    } rows[] = { { "tcp4", AF_INET, HOST_BASE_TCP4 }, { "tcp6", AF_INET6, HOST_BASE_TCP6 } };
    assert_int_equal(host_startup(), 0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *row = rows[i].row;
        DWORD id = base[rows[i].entry];
        struct tcp_pair p;
        make_tcp_pair(rows[i].af, &p);
        check_int(row, host_socket_entry(p.listener), id);
        check_int(row, host_socket_entry(p.client), id);
        /* tbase registered the accepted socket under the same entry. */
        check_int(row, host_socket_entry(p.server), id);
        check_int(row, host_socket_created_entry(p.server), id);
        check_int(row, host_entry_handles(id), 3);

        /* The client's peer is the listener's address, through the host and
         * straight from the base provider alike. */
        struct sockaddr_storage a, b;
        int alen = sizeof a, blen = sizeof b, err = ERR_SENTINEL;
        memset(&a, 0xcc, sizeof a);
        memset(&b, 0xdd, sizeof b);
        check_int(row, api->getpeername(p.client, (struct sockaddr *)&a, &alen), 0);
        check_int(row, host_lower_getpeername(p.client, (struct sockaddr *)&b, &blen, &err), 0);
        check_int(row, err, ERR_SENTINEL);
        check_int(row, alen, p.listen_len);
        check_int(row, blen, alen);
        check_int(row, memcmp(&a, &p.listen_addr, (size_t)alen), 0);
        check_int(row, memcmp(&a, &b, (size_t)alen), 0);
        /* accept's address is the client's own. */
        alen = sizeof a;
        check_int(row, api->getsockname(p.client, (struct sockaddr *)&a, &alen), 0);
        check_int(row, p.accepted_len, alen);
        check_int(row, memcmp(&a, &p.accepted_peer, (size_t)alen), 0);

        /* Data both ways, then select sees it. */
        char buf[16];
        check_int(row, api->send(p.client, "ping", 4, 0), 4);
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(p.server, &rd);
        struct timeval tv = { 5, 0 };
        check_int(row, api->select(0, &rd, NULL, NULL, &tv), 1);
        check_int(row, FD_ISSET(p.server, &rd) != 0, 1);
        check_int(row, api->recv(p.server, buf, sizeof buf, 0), 4);
        check_int(row, memcmp(buf, "ping", 4), 0);
        WSABUF wb = { 4, "pong" };
        DWORD sent = 0;
        check_int(row, api->WSASend(p.server, &wb, 1, &sent, 0, NULL, NULL), 0);
        check_int(row, sent, 4);
        char rbuf[8];
        WSABUF rb = { sizeof rbuf, rbuf };
        DWORD got = 0, flags = 0;
        check_int(row, api->WSARecv(p.client, &rb, 1, &got, &flags, NULL, NULL), 0);
        check_int(row, got, 4);
        check_int(row, memcmp(rbuf, "pong", 4), 0);

        u_long avail = SENTINEL;
        check_int(row, api->ioctlsocket(p.client, FIONREAD, &avail), 0);
        check_int(row, avail, 0);
        check_int(row, api->shutdown(p.client, SD_SEND), 0);
        check_int(row, api->recv(p.server, buf, sizeof buf, 0), 0); /* orderly end */
        close_tcp_pair(&p);
        check_int(row, host_entry_handles(id), 0);
    }
}

static void test_udp_loopback(void **state)
{
    (void)state;
    static const struct {
        const char *row;
        int af, entry;
    } rows[] = { { "udp4", AF_INET, HOST_BASE_UDP4 }, { "udp6", AF_INET6, HOST_BASE_UDP6 } };
    assert_int_equal(host_startup(), 0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *row = rows[i].row;
        SOCKET a = api->socket(rows[i].af, SOCK_DGRAM, IPPROTO_UDP);
        SOCKET b = api->socket(rows[i].af, SOCK_DGRAM, IPPROTO_UDP);
        check_int(row, a != INVALID_SOCKET && b != INVALID_SOCKET, 1);
        check_int(row, host_socket_entry(a), base[rows[i].entry]);
        struct sockaddr_storage aa, ba, from;
        int alen = loopback(rows[i].af, &aa, 0), blen = loopback(rows[i].af, &ba, 0);
        check_int(row, api->bind(a, (struct sockaddr *)&aa, alen), 0);
        check_int(row, api->bind(b, (struct sockaddr *)&ba, blen), 0);
        alen = sizeof aa;
        blen = sizeof ba;
        check_int(row, api->getsockname(a, (struct sockaddr *)&aa, &alen), 0);
        check_int(row, api->getsockname(b, (struct sockaddr *)&ba, &blen), 0);

        /* sendto does not make a peer. */
        check_int(row, api->sendto(a, "one", 3, 0, (struct sockaddr *)&ba, blen), 3);
        char buf[16];
        int flen = sizeof from;
        check_int(row, api->recvfrom(b, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen), 3);
        check_int(row, flen, alen);
        check_int(row, memcmp(&from, &aa, (size_t)alen), 0);
        int plen = sizeof from;
        api->WSASetLastError(ERR_SENTINEL);
        expect_fail(row, api->getpeername(a, (struct sockaddr *)&from, &plen), WSAENOTCONN);

        /* connect does; both views agree. */
        check_int(row, api->connect(a, (struct sockaddr *)&ba, blen), 0);
        struct sockaddr_storage p1, p2;
        int l1 = sizeof p1, l2 = sizeof p2, err = ERR_SENTINEL;
        check_int(row, api->getpeername(a, (struct sockaddr *)&p1, &l1), 0);
        check_int(row, host_lower_getpeername(a, (struct sockaddr *)&p2, &l2, &err), 0);
        check_int(row, l1, blen);
        check_int(row, l2, l1);
        check_int(row, memcmp(&p1, &ba, (size_t)l1), 0);
        check_int(row, memcmp(&p1, &p2, (size_t)l1), 0);
        check_int(row, api->send(a, "two", 3, 0), 3);
        check_int(row, api->recv(b, buf, sizeof buf, 0), 3);
        check_int(row, memcmp(buf, "two", 3), 0);
        check_int(row, api->closesocket(a), 0);
        check_int(row, api->closesocket(b), 0);
    }
}

static void test_event_select(void **state)
{
    (void)state;
    assert_int_equal(host_startup(), 0);
    struct tcp_pair p;
    make_tcp_pair(AF_INET, &p);
    WSAEVENT ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_non_null(ev);
    assert_int_equal(api->WSAEventSelect(p.server, ev, FD_READ | FD_CLOSE), 0);
    assert_int_equal(api->send(p.client, "x", 1, 0), 1);
    assert_int_equal(WaitForSingleObject(ev, 5000), WAIT_OBJECT_0);
    WSANETWORKEVENTS events;
    memset(&events, 0, sizeof events);
    assert_int_equal(api->WSAEnumNetworkEvents(p.server, ev, &events), 0);
    assert_true(events.lNetworkEvents & FD_READ);
    assert_int_equal(events.iErrorCode[FD_READ_BIT], 0);
    assert_int_equal(api->WSAEventSelect(p.server, NULL, 0), 0);
    CloseHandle(ev);
    close_tcp_pair(&p);
}

/* ---- errors ------------------------------------------------------------------ */

static void test_error_conversion(void **state)
{
    (void)state;
    assert_int_equal(host_startup(), 0);
    struct sockaddr_storage ss, bound;
    int len;
    SOCKET s = api->socket(AF_INET, SOCK_STREAM, 0);
    SOCKET t = api->socket(AF_INET, SOCK_STREAM, 0);
    SOCKET probe = probe_socket();
    assert_true(s != INVALID_SOCKET && t != INVALID_SOCKET);
    int blen = loopback(AF_INET, &bound, 0);
    assert_int_equal(api->bind(s, (struct sockaddr *)&bound, blen), 0);
    blen = sizeof bound;
    assert_int_equal(api->getsockname(s, (struct sockaddr *)&bound, &blen), 0);
    char buf[4];

    api->WSASetLastError(ERR_SENTINEL);
    len = sizeof ss;
    expect_fail("not connected", api->getpeername(s, (struct sockaddr *)&ss, &len), WSAENOTCONN);
    struct tcp_pair p;
    make_tcp_pair(AF_INET, &p);
    api->WSASetLastError(ERR_SENTINEL);
    len = 1;
    expect_fail("name too short", api->getpeername(p.client, (struct sockaddr *)&ss, &len),
                WSAEFAULT);
    close_tcp_pair(&p);
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("address in use", api->bind(t, (struct sockaddr *)&bound, blen), WSAEADDRINUSE);
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("refused", api->connect(t, (struct sockaddr *)&bound, blen), WSAECONNREFUSED);
    api->WSASetLastError(ERR_SENTINEL);
    len = sizeof ss;
    expect_fail("provider gave no code", api->getsockname(probe, (struct sockaddr *)&ss, &len),
                WSASYSCALLFAILURE);
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("negative length", api->recv(s, buf, -1, 0), WSAEFAULT);
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("unsupported", api->listen(probe, 1), WSAEOPNOTSUPP);

    /* The last error is per thread. */
    api->WSASetLastError(WSAEINTR);
    assert_int_equal(api->WSAGetLastError(), WSAEINTR);
    assert_int_equal(api->closesocket(s), 0);
    assert_int_equal(api->closesocket(t), 0);
    assert_int_equal(api->closesocket(probe), 0);
}

static DWORD WINAPI read_last_error(void *arg)
{
    *(int *)arg = api->WSAGetLastError();
    api->WSASetLastError(WSAEWOULDBLOCK);
    return 0;
}

static void test_last_error_per_thread(void **state)
{
    (void)state;
    api->WSASetLastError(WSAEINTR);
    int other = ERR_SENTINEL;
    HANDLE th = CreateThread(NULL, 0, read_last_error, &other, 0, NULL);
    assert_non_null(th);
    assert_int_equal(WaitForSingleObject(th, 5000), WAIT_OBJECT_0);
    CloseHandle(th);
    assert_int_equal(other, 0);
    assert_int_equal(api->WSAGetLastError(), WSAEINTR);
}

static void test_unknown_handles(void **state)
{
    (void)state;
    assert_int_equal(host_startup(), 0);
    /* A real Wine socket the host never saw, and a made-up value. */
    WSADATA data;
    assert_int_equal(WSAStartup(MAKEWORD(2, 2), &data), 0);
    SOCKET wine = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(wine != INVALID_SOCKET);
    SOCKET values[] = { wine, (SOCKET)0x1234, (SOCKET)0, INVALID_SOCKET };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char row[32];
        snprintf(row, sizeof row, "handle %#llx", (unsigned long long)values[i]);
        struct sockaddr_storage ss;
        int len = sizeof ss;
        api->WSASetLastError(ERR_SENTINEL);
        expect_fail(row, api->getpeername(values[i], (struct sockaddr *)&ss, &len), WSAENOTSOCK);
        api->WSASetLastError(ERR_SENTINEL);
        expect_fail(row, api->closesocket(values[i]), WSAENOTSOCK);
        api->WSASetLastError(ERR_SENTINEL);
        expect_socket_fail(row, api->accept(values[i], NULL, NULL), WSAENOTSOCK);
        api->WSASetLastError(ERR_SENTINEL);
        expect_fail(row, api->send(values[i], "x", 1, 0), WSAENOTSOCK);
        check_int(row, host_socket_entry(values[i]), 0);
        int err = ERR_SENTINEL;
        check_int(row, host_lower_getpeername(values[i], (struct sockaddr *)&ss, &len, &err),
                  SOCKET_ERROR);
        check_int(row, err, WSAENOTSOCK);
    }
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(wine, &rd);
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("select on unknown", api->select(0, &rd, NULL, NULL, NULL), WSAENOTSOCK);
    /* INVALID_SOCKET in a set is a handle no provider owns, not an empty
     * set (Wine's sock.c test_select, which passes on Windows), in any of
     * the three sets. */
    for (int set = 0; set < 3; set++) {
        fd_set sets[3];
        for (int k = 0; k < 3; k++)
            FD_ZERO(&sets[k]);
        FD_SET(INVALID_SOCKET, &sets[set]);
        char row[48];
        snprintf(row, sizeof row, "select on INVALID_SOCKET in set %d", set);
        api->WSASetLastError(ERR_SENTINEL);
        expect_fail(row, api->select(0, &sets[0], &sets[1], &sets[2], NULL), WSAENOTSOCK);
    }
    FD_ZERO(&rd);
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("select on nothing", api->select(0, &rd, NULL, NULL, NULL), WSAEINVAL);
    closesocket(wine);
    WSACleanup();
}

/* The functions peerlsp-run's router adds (host_ext.h), where Wine's sock.c
 * found the host answering differently from Wine's ws2_32 (and Windows). */

static DWORD WINAPI read_open_type(void *arg)
{
    int *value = arg, len = sizeof *value;
    if (api->getsockopt(INVALID_SOCKET, SOL_SOCKET, SO_OPENTYPE, (char *)value, &len))
        *value = -1;
    return 0;
}

static void test_router_functions(void **state)
{
    (void)state;
    assert_int_equal(host_startup(), 0);

    /* SO_OPENTYPE belongs to the thread, whatever handle is given. */
    int value = 1, len = sizeof value;
    check_int("set SO_OPENTYPE", api->setsockopt(INVALID_SOCKET, SOL_SOCKET, SO_OPENTYPE,
                                                 (char *)&value, sizeof value), 0);
    value = 0xdead;
    check_int("get SO_OPENTYPE",
              api->getsockopt(INVALID_SOCKET, SOL_SOCKET, SO_OPENTYPE, (char *)&value, &len), 0);
    check_int("SO_OPENTYPE", value, 1);
    int other = 0xdead;
    HANDLE thread = CreateThread(NULL, 0, read_open_type, &other, 0, NULL);
    assert_non_null(thread);
    WaitForSingleObject(thread, INFINITE);
    CloseHandle(thread);
    check_int("SO_OPENTYPE in a new thread", other, 0);
    len = 2;
    expect_fail("SO_OPENTYPE short", api->getsockopt(INVALID_SOCKET, SOL_SOCKET, SO_OPENTYPE,
                                                      (char *)&value, &len), WSAEFAULT);
    /* A negative length is compared as unsigned, so it is long enough
     * (sock.c test_set_getsockopt, which passes on Windows). */
    len = -1;
    check_int("get SO_OPENTYPE, length -1",
              api->getsockopt(INVALID_SOCKET, SOL_SOCKET, SO_OPENTYPE, (char *)&value, &len), 0);
    check_int("SO_OPENTYPE length", len, sizeof(int));
    check_int("set SO_OPENTYPE, length -1",
              api->setsockopt(INVALID_SOCKET, SOL_SOCKET, SO_OPENTYPE, (char *)&value, -1), 0);
    value = 0;
    check_int("reset SO_OPENTYPE", api->setsockopt(INVALID_SOCKET, SOL_SOCKET, SO_OPENTYPE,
                                                   (char *)&value, sizeof value), 0);

    /* WSADuplicateSocketA: the socket first, then the structure. */
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("duplicate A, no socket", host_WSADuplicateSocketA(0, 0, NULL), WSAENOTSOCK);
    SOCKET s = api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(s != INVALID_SOCKET);
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("duplicate A, no info, process 0", host_WSADuplicateSocketA(s, 0, NULL),
                WSAEINVAL);
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("duplicate A, no info", host_WSADuplicateSocketA(s, GetCurrentProcessId(), NULL),
                WSAEFAULT);

    /* WSAPoll with no valid handle: each marked POLLNVAL, WSAENOTSOCK. */
    WSAPOLLFD fds[2] = { { INVALID_SOCKET, POLLERR, (SHORT)0xdead },
                         { (SOCKET)0xabacab, POLLERR, (SHORT)0xdead } };
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("poll on nothing", host_WSAPoll(fds, 2, 0), WSAENOTSOCK);
    check_int("revents 0", fds[0].revents, POLLNVAL);
    check_int("revents 1", fds[1].revents, POLLNVAL);

    /* Protocol information whose family is 0, no family given. */
    WSAPROTOCOL_INFOW info;
    int info_len = sizeof info;
    check_int("SO_PROTOCOL_INFOW",
              api->getsockopt(s, SOL_SOCKET, SO_PROTOCOL_INFOW, (char *)&info, &info_len), 0);
    info.iAddressFamily = 0;
    info.iSocketType = 0;
    info.iProtocol = 0;
    api->WSASetLastError(ERR_SENTINEL);
    expect_socket_fail("family 0 in the information",
                       api->WSASocketW(0, 0, IPPROTO_UDP, &info, 0, 0), WSAEAFNOSUPPORT);
    check_int("close", api->closesocket(s), 0);
}

/* ---- bindings ----------------------------------------------------------------- */

static void test_closesocket_unbinds(void **state)
{
    (void)state;
    assert_int_equal(host_startup(), 0);
    SOCKET s = api->socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s != INVALID_SOCKET);
    assert_int_equal(host_entry_handles(base[HOST_BASE_UDP4]), 1);
    assert_int_equal(p_tbase_open_sockets(), 1);
    assert_int_equal(api->closesocket(s), 0);
    assert_int_equal(host_socket_entry(s), 0);
    assert_int_equal(host_entry_handles(base[HOST_BASE_UDP4]), 0);
    assert_int_equal(p_tbase_open_sockets(), 0);
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("closed twice", api->closesocket(s), WSAENOTSOCK);
    assert_int_equal(host_entry_handles(4711), -1);
}

static void test_binding_replacement(void **state)
{
    (void)state;
    assert_int_equal(host_startup(), 0);
    SOCKET probe = probe_socket(); /* the probe now holds the host's upcalls */
    const WSPUPCALLTABLE *u = upcalls();
    SOCKET s = api->socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s != INVALID_SOCKET);
    DWORD tcp4 = base[HOST_BASE_TCP4], udp4 = base[HOST_BASE_UDP4];
    assert_int_equal(host_socket_entry(s), tcp4);

    /* The last WPUModifyIFSHandle wins, and the handle comes back as is. */
    int err = ERR_SENTINEL;
    assert_true(u->lpWPUModifyIFSHandle(udp4, s, &err) == s);
    assert_int_equal(err, ERR_SENTINEL);
    assert_int_equal(host_socket_entry(s), udp4);
    assert_int_equal(host_socket_created_entry(s), tcp4); /* where it was made */
    assert_int_equal(host_entry_handles(tcp4), 0);
    assert_int_equal(host_entry_handles(udp4), 1);

    /* Calls go where the binding says: bound to the probe's entry, the
     * probe answers for a tbase handle (and fails: it is not its handle). */
    assert_true(u->lpWPUModifyIFSHandle(probe_id, s, &err) == s);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("routed to the probe", api->getpeername(s, (struct sockaddr *)&ss, &len),
                WSAENOTSOCK);
    assert_true(u->lpWPUModifyIFSHandle(tcp4, s, &err) == s);
    len = sizeof ss;
    api->WSASetLastError(ERR_SENTINEL);
    expect_fail("back at tbase", api->getpeername(s, (struct sockaddr *)&ss, &len), WSAENOTCONN);

    /* Errors change nothing. */
    const struct {
        const char *row;
        DWORD id;
        SOCKET h;
    } rows[] = {
        { "unknown id", 4711, s },
        { "INVALID_SOCKET", udp4, INVALID_SOCKET },
        { "handle 0", udp4, 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        err = ERR_SENTINEL;
        check_int(rows[i].row, u->lpWPUModifyIFSHandle(rows[i].id, rows[i].h, &err) ==
                                   INVALID_SOCKET,
                  1);
        check_int(rows[i].row, err, WSAEINVAL);
        check_int(rows[i].row, host_socket_entry(s), tcp4);
    }
    assert_int_equal(api->closesocket(s), 0);
    assert_int_equal(api->closesocket(probe), 0);
}

/* ---- the probe: non-IFS handles, redirected imports, upcalls ----------------- */

static void test_probe_non_ifs_provider(void **state)
{
    (void)state;
    assert_int_equal(host_startup(), 0);
    SOCKET s = probe_socket();
    assert_int_equal(p_probe_startups(), 1);
    assert_int_equal(p_probe_started_entry(), probe_id);
    assert_int_equal(host_socket_entry(s), probe_id);
    assert_int_equal(host_entry_handles(probe_id), 1);

    /* Its imports saw the simulated catalog, the path unexpanded. */
    assert_int_equal(p_probe_catalog_count(), 5);
    WCHAR path[MAX_PATH];
    assert_int_equal(p_probe_catalog_path(path, MAX_PATH), 0);
    assert_true(!wcscmp(path, probe_catalog_path));
    assert_int_equal(p_probe_categories(), PROBE_CATEGORIES);

    /* Calls on its handle reach it; the context round-trips. */
    struct sockaddr_in peer;
    int len = sizeof peer;
    assert_int_equal(api->getpeername(s, (struct sockaddr *)&peer, &len), 0);
    assert_int_equal(len, sizeof peer);
    assert_int_equal(peer.sin_addr.s_addr, inet_addr(HOSTPROBE_PEER_ADDR));
    DWORD_PTR ctx = 0;
    int err = ERR_SENTINEL;
    assert_int_equal(upcalls()->lpWPUQuerySocketHandleContext(s, &ctx, &err), 0);
    assert_int_equal(ntohs(peer.sin_port), ctx & 0xffff);
    assert_true(ctx > HOSTPROBE_CONTEXT_BASE);

    /* select goes to the provider of the first socket in the sets. */
    SOCKET t = api->socket(AF_INET, SOCK_STREAM, 0);
    fd_set rd, wr;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_SET(t, &wr);
    FD_SET(s, &rd);
    assert_int_equal(api->select(0, &rd, &wr, NULL, NULL), HOSTPROBE_SELECT_RESULT);

    /* closesocket -> WSPCloseSocket -> WPUCloseSocketHandle. */
    assert_int_equal(api->closesocket(s), 0);
    assert_int_equal(host_socket_entry(s), 0);
    assert_int_equal(host_entry_handles(probe_id), 0);
    assert_int_equal(api->closesocket(t), 0);
}

/* A provider that registers nothing for a socket made by accept or join:
 * the host binds it to the entry of the socket it came from. */
static void test_unregistered_new_sockets(void **state)
{
    (void)state;
    assert_int_equal(host_startup(), 0);
    SOCKET listener = probe_socket();
    int err = ERR_SENTINEL;
    SOCKET accepted = api->accept(listener, NULL, NULL);
    assert_true(accepted != INVALID_SOCKET);
    assert_int_equal(host_socket_entry(accepted), probe_id);
    assert_int_equal(host_socket_created_entry(accepted), probe_id);
    struct sockaddr_storage group;
    int len = loopback(AF_INET, &group, 9);
    SOCKET joined = api->WSAJoinLeaf(listener, (struct sockaddr *)&group, len, NULL, NULL, NULL,
                                     NULL, JL_BOTH);
    assert_true(joined != INVALID_SOCKET);
    assert_int_equal(host_socket_entry(joined), probe_id);
    assert_int_equal(host_entry_handles(probe_id), 3);
    /* Not WPUCreateSocketHandle handles: no context. */
    DWORD_PTR ctx;
    assert_int_equal(upcalls()->lpWPUQuerySocketHandleContext(accepted, &ctx, &err),
                     SOCKET_ERROR);
    assert_int_equal(err, WSAENOTSOCK);
    assert_int_equal(api->closesocket(joined), 0);
    assert_int_equal(api->closesocket(accepted), 0);
    assert_int_equal(api->closesocket(listener), 0);
    assert_int_equal(host_entry_handles(probe_id), 0);
}

static void test_complete_overlapped_request(void **state)
{
    (void)state;
    assert_int_equal(host_startup(), 0);
    SOCKET s = probe_socket();
    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_non_null(ov.hEvent);
    ov.Internal = SENTINEL;
    ov.InternalHigh = SENTINEL;
    int err = ERR_SENTINEL;
    /* Through the probe's own import of WPUCompleteOverlappedRequest. */
    assert_int_equal(p_probe_complete(s, &ov, WSAECONNRESET, 77, &err), 0);
    assert_int_equal(err, ERR_SENTINEL);
    assert_int_equal(ov.Internal, WSAECONNRESET);
    assert_int_equal(ov.InternalHigh, 77);
    assert_int_equal(WaitForSingleObject(ov.hEvent, 0), WAIT_OBJECT_0);

    /* The low bit of hEvent (no completion port) is not part of the handle. */
    ResetEvent(ov.hEvent);
    HANDLE event = ov.hEvent;
    ov.hEvent = (HANDLE)((ULONG_PTR)event | 1);
    assert_int_equal(p_probe_complete(s, &ov, 0, 5, &err), 0);
    assert_int_equal(WaitForSingleObject(event, 0), WAIT_OBJECT_0);
    ov.hEvent = event;

    /* Not a WPUCreateSocketHandle handle: WSAEINVAL. */
    SOCKET ifs = api->socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(ifs != INVALID_SOCKET);
    ov.Internal = SENTINEL;
    err = ERR_SENTINEL;
    assert_int_equal(p_probe_complete(ifs, &ov, 0, 1, &err), SOCKET_ERROR);
    assert_int_equal(err, WSAEINVAL);
    assert_int_equal(ov.Internal, SENTINEL);
    err = ERR_SENTINEL;
    assert_int_equal(p_probe_complete(s, NULL, 0, 1, &err), SOCKET_ERROR);
    assert_int_equal(err, WSAEFAULT);
    CloseHandle(event);
    assert_int_equal(api->closesocket(ifs), 0);
    assert_int_equal(api->closesocket(s), 0);
}

static DWORD_PTR apc_seen;
static void CALLBACK user_apc(DWORD_PTR context)
{
    apc_seen = context;
}

static void test_upcall_contracts(void **state)
{
    (void)state;
    assert_int_equal(host_startup(), 0);
    SOCKET probe = probe_socket();
    const WSPUPCALLTABLE *u = upcalls();
    SOCKET ifs = api->socket(AF_INET, SOCK_STREAM, 0);
    assert_true(ifs != INVALID_SOCKET);
    int err;

    /* Events: manual reset, initially clear. */
    err = ERR_SENTINEL;
    WSAEVENT ev = u->lpWPUCreateEvent(&err);
    assert_true(ev != WSA_INVALID_EVENT);
    assert_int_equal(WaitForSingleObject(ev, 0), WAIT_TIMEOUT);
    assert_true(u->lpWPUSetEvent(ev, &err));
    assert_int_equal(WaitForSingleObject(ev, 0), WAIT_OBJECT_0);
    assert_int_equal(WaitForSingleObject(ev, 0), WAIT_OBJECT_0); /* still set */
    assert_true(u->lpWPUResetEvent(ev, &err));
    assert_int_equal(WaitForSingleObject(ev, 0), WAIT_TIMEOUT);
    assert_true(u->lpWPUCloseEvent(ev, &err));
    assert_int_equal(err, ERR_SENTINEL);
    HANDLE bad = (HANDLE)(ULONG_PTR)0x7ff0;
    err = ERR_SENTINEL;
    assert_false(u->lpWPUSetEvent(bad, &err));
    assert_int_equal(err, WSA_INVALID_HANDLE);
    err = ERR_SENTINEL;
    assert_false(u->lpWPUResetEvent(bad, &err));
    assert_int_equal(err, WSA_INVALID_HANDLE);
    err = ERR_SENTINEL;
    assert_false(u->lpWPUCloseEvent(bad, &err));
    assert_int_equal(err, WSA_INVALID_HANDLE);

    /* Blocking hooks do not exist in Winsock 2. */
    LPBLOCKINGCALLBACK cb = (LPBLOCKINGCALLBACK)(ULONG_PTR)SENTINEL;
    DWORD_PTR ctx = SENTINEL;
    err = ERR_SENTINEL;
    assert_int_equal(u->lpWPUQueryBlockingCallback(probe_id, &cb, &ctx, &err), 0);
    assert_null(cb);
    assert_int_equal(ctx, 0);
    assert_int_equal(u->lpWPUQueryBlockingCallback(4711, &cb, &ctx, &err), SOCKET_ERROR);
    assert_int_equal(err, WSAEINVAL);
    assert_int_equal(u->lpWPUQueryBlockingCallback(probe_id, NULL, &ctx, &err), SOCKET_ERROR);
    assert_int_equal(err, WSAEFAULT);

    /* APCs to a thread opened with WPUOpenCurrentThread. */
    WSATHREADID tid;
    memset(&tid, 0, sizeof tid);
    err = ERR_SENTINEL;
    assert_int_equal(u->lpWPUOpenCurrentThread(&tid, &err), 0);
    assert_non_null(tid.ThreadHandle);
    apc_seen = 0;
    assert_int_equal(u->lpWPUQueueApc(&tid, user_apc, 42, &err), 0);
    assert_int_equal(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
    assert_int_equal(apc_seen, 42);
    assert_int_equal(u->lpWPUQueueApc(&tid, NULL, 1, &err), SOCKET_ERROR);
    assert_int_equal(err, WSAEFAULT);
    assert_int_equal(u->lpWPUCloseThread(&tid, &err), 0);
    err = ERR_SENTINEL;
    WSATHREADID dead = { bad, 0 };
    assert_int_equal(u->lpWPUQueueApc(&dead, user_apc, 1, &err), SOCKET_ERROR);
    assert_int_equal(err, WSAEFAULT);

    /* WPUFDIsSet. */
    fd_set set;
    FD_ZERO(&set);
    FD_SET(ifs, &set);
    assert_int_equal(u->lpWPUFDIsSet(ifs, &set), 1);
    assert_int_equal(u->lpWPUFDIsSet(probe, &set), 0);

    /* WPUPostMessage to this thread's queue. */
    MSG msg;
    PeekMessageW(&msg, NULL, 0, 0, PM_NOREMOVE); /* gives the thread a queue */
    assert_true(u->lpWPUPostMessage(NULL, WM_APP + 7, 5, 6));
    assert_true(PeekMessageW(&msg, (HWND)-1, WM_APP + 7, WM_APP + 7, PM_REMOVE));
    assert_int_equal(msg.wParam, 5);
    assert_int_equal(msg.lParam, 6);

    /* WPUGetProviderPath: as WSCGetProviderPath, unexpanded. */
    WCHAR path[MAX_PATH];
    int len = MAX_PATH;
    GUID g = probe_guid;
    assert_int_equal(u->lpWPUGetProviderPath(&g, path, &len, &err), 0);
    assert_true(!wcscmp(path, probe_catalog_path));
    assert_int_equal(len, (int)wcslen(probe_catalog_path) + 1);
    GUID none = { 0x4711, 0, 0, { 0 } };
    len = MAX_PATH;
    assert_int_equal(u->lpWPUGetProviderPath(&none, path, &len, &err), SOCKET_ERROR);
    assert_int_equal(err, WSAEINVAL);

    /* Handle contexts exist only for WPUCreateSocketHandle handles. */
    err = ERR_SENTINEL;
    SOCKET h = u->lpWPUCreateSocketHandle(probe_id, 0x77, &err);
    assert_true(h != INVALID_SOCKET);
    assert_int_equal(host_socket_entry(h), probe_id);
    ctx = 0;
    assert_int_equal(u->lpWPUQuerySocketHandleContext(h, &ctx, &err), 0);
    assert_int_equal(ctx, 0x77);
    assert_int_equal(u->lpWPUQuerySocketHandleContext(h, NULL, &err), SOCKET_ERROR);
    assert_int_equal(err, WSAEFAULT);
    assert_int_equal(u->lpWPUCloseSocketHandle(h, &err), 0);
    assert_int_equal(host_socket_entry(h), 0);
    err = ERR_SENTINEL;
    assert_int_equal(u->lpWPUCloseSocketHandle(h, &err), SOCKET_ERROR);
    assert_int_equal(err, WSAENOTSOCK);
    err = ERR_SENTINEL;
    assert_int_equal(u->lpWPUQuerySocketHandleContext(ifs, &ctx, &err), SOCKET_ERROR);
    assert_int_equal(err, WSAENOTSOCK);
    err = ERR_SENTINEL;
    assert_int_equal(u->lpWPUCloseSocketHandle(ifs, &err), SOCKET_ERROR);
    assert_int_equal(err, WSAENOTSOCK);
    assert_int_equal(host_socket_entry(ifs), base[HOST_BASE_TCP4]); /* untouched */
    err = ERR_SENTINEL;
    assert_true(u->lpWPUCreateSocketHandle(4711, 1, &err) == INVALID_SOCKET);
    assert_int_equal(err, WSAEINVAL);

    assert_int_equal(api->closesocket(ifs), 0);
    assert_int_equal(api->closesocket(probe), 0);
}

/* ---- concurrency ------------------------------------------------------------------ */

struct reader {
    SOCKET s;
    struct sockaddr_storage want;
    int want_len;
    volatile LONG *stop;
    LONG calls, failures;
};

static DWORD WINAPI getpeername_loop(void *arg)
{
    struct reader *r = arg;
    while (!InterlockedCompareExchange((LONG *)r->stop, 0, 0) || r->calls < 1000) {
        struct sockaddr_storage ss;
        int len = sizeof ss;
        if (api->getpeername(r->s, (struct sockaddr *)&ss, &len) ||
            len != r->want_len || memcmp(&ss, &r->want, (size_t)len))
            r->failures++;
        r->calls++;
    }
    return 0;
}

/* Two threads read a binding while a third makes the table grow twice
 * (thousands of WPUCreateSocketHandle handles) and empties it again. */
static void test_concurrent_lookups(void **state)
{
    (void)state;
    assert_int_equal(host_startup(), 0);
    SOCKET probe = probe_socket();
    const WSPUPCALLTABLE *u = upcalls();
    struct tcp_pair p;
    make_tcp_pair(AF_INET, &p);
    volatile LONG stop = 0;
    struct reader r[2];
    HANDLE th[2];
    for (int i = 0; i < 2; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].s = p.client;
        r[i].want = p.listen_addr;
        r[i].want_len = p.listen_len;
        r[i].stop = &stop;
        th[i] = CreateThread(NULL, 0, getpeername_loop, &r[i], 0, NULL);
        assert_non_null(th[i]);
    }
    enum { N = 3000 };
    static SOCKET made[N];
    int err;
    for (int i = 0; i < N; i++) {
        made[i] = u->lpWPUCreateSocketHandle(probe_id, (DWORD_PTR)i, &err);
        assert_true(made[i] != INVALID_SOCKET);
    }
    assert_int_equal(host_entry_handles(probe_id), N + 1);
    for (int i = 0; i < N; i++)
        assert_int_equal(u->lpWPUCloseSocketHandle(made[i], &err), 0);
    InterlockedExchange((LONG *)&stop, 1);
    assert_int_equal(WaitForMultipleObjects(2, th, TRUE, 30000), WAIT_OBJECT_0);
    for (int i = 0; i < 2; i++) {
        CloseHandle(th[i]);
        assert_true(r[i].calls >= 1000);
        assert_int_equal(r[i].failures, 0);
    }
    assert_int_equal(host_entry_handles(probe_id), 1);
    assert_int_equal(host_socket_entry(p.client), base[HOST_BASE_TCP4]);
    close_tcp_pair(&p);
    assert_int_equal(api->closesocket(probe), 0);
}

/* ---- catalog helpers ----------------------------------------------------------- */

static void test_add_base_entries(void **state)
{
    (void)state;
    WSAPROTOCOL_INFOW all[8];
    DWORD len = sizeof all;
    int err;
    assert_int_equal(simcat_enum(cat, NULL, all, &len, &err), 5);
    static const struct {
        int af, type, protocol;
        const GUID *guid;
    } want[HOST_BASE_COUNT] = {
        { AF_INET, SOCK_STREAM, IPPROTO_TCP, &TBASE_GUID_IPV4 },
        { AF_INET, SOCK_DGRAM, IPPROTO_UDP, &TBASE_GUID_IPV4 },
        { AF_INET6, SOCK_STREAM, IPPROTO_TCP, &TBASE_GUID_IPV6 },
        { AF_INET6, SOCK_DGRAM, IPPROTO_UDP, &TBASE_GUID_IPV6 },
    };
    for (int i = 0; i < HOST_BASE_COUNT; i++) {
        char row[16];
        snprintf(row, sizeof row, "entry %d", i);
        check_int(row, all[i].dwCatalogEntryId, base[i]);
        check_int(row, base[i], SIMCAT_FIRST_ID + i);
        check_int(row, all[i].iAddressFamily, want[i].af);
        check_int(row, all[i].iSocketType, want[i].type);
        check_int(row, all[i].iProtocol, want[i].protocol);
        check_int(row, IsEqualGUID(&all[i].ProviderId, want[i].guid), 1);
        check_int(row, (all[i].dwServiceFlags1 & XP1_IFS_HANDLES) != 0, 1);
        check_int(row, all[i].ProtocolChain.ChainLen, 1);
        check_int(row, all[i].ProtocolChain.ChainEntries[0], base[i]);
        check_int(row, all[i].dwProviderReserved, 0);
        check_int(row, all[i].szProtocol[0] != 0, 1);
    }
    WCHAR path[MAX_PATH];
    int plen = MAX_PATH;
    GUID v4 = TBASE_GUID_IPV4;
    assert_int_equal(simcat_get_path(cat, &v4, path, &plen, &err), 0);
    assert_true(!wcscmp(path, PEERLSP_TEST_BASE_DLL));
    assert_int_equal(host_catalog_find(cat, AF_INET6, SOCK_DGRAM, 1), base[HOST_BASE_UDP6]);
    assert_int_equal(host_catalog_find(cat, AF_INET6, SOCK_RAW, 1), 0);
    /* Installing tbase twice is a duplicate GUID. */
    assert_int_equal(host_catalog_add_base(cat, PEERLSP_TEST_BASE_DLL, NULL), WSANO_RECOVERY);
    assert_int_equal(simcat_count(cat), 5);
}

static void test_install_lsp_layout(void **state)
{
    (void)state;
    static const GUID lsp = { 0xc7924c1b, 0x0bbf, 0x4ce2,
                              { 0xba, 0xcc, 0x37, 0x6f, 0x63, 0xb5, 0x4c, 0x01 } };
    const struct {
        const char *row;
        enum host_chain_guids mode;
    } rows[] = { { "shared GUID", HOST_CHAINS_SHARE_GUID }, { "own GUIDs", HOST_CHAINS_OWN_GUID } };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const char *row = rows[r].row;
        /* tbase alone: the probe's entry is a base entry too. */
        struct simcat *c = simcat_clone(cat);
        GUID pg = probe_guid;
        int err;
        check_int(row, simcat_deinstall(c, &pg, &err), 0);
        struct host_lsp_ids ids;
        memset(&ids, 0, sizeof ids);
        check_int(row, host_catalog_install_lsp(c, L"Z:\\lsp.dll", &lsp, rows[r].mode, &ids), 0);
        check_int(row, ids.chain_count, HOST_BASE_COUNT);
        WSAPROTOCOL_INFOW all[16];
        DWORD len = sizeof all;
        check_int(row, simcat_enum(c, NULL, all, &len, &err), HOST_BASE_COUNT * 2 + 1);
        /* Chains first, in base order; then the rest as it was. */
        for (int i = 0; i < HOST_BASE_COUNT; i++) {
            const WSAPROTOCOL_INFOW *e = &all[i];
            check_int(row, e->dwCatalogEntryId, ids.chain_ids[i]);
            check_int(row, e->ProtocolChain.ChainLen, 2);
            check_int(row, e->ProtocolChain.ChainEntries[0], ids.layered_id);
            check_int(row, e->ProtocolChain.ChainEntries[1], base[i]);
            check_int(row, (e->dwServiceFlags1 & XP1_IFS_HANDLES) != 0, 1);
            check_int(row, !wcsncmp(e->szProtocol, L"peerlsp over ", 13), 1);
            check_int(row, IsEqualGUID(&e->ProviderId, &ids.chain_guids[i]), 1);
            check_int(row, IsEqualGUID(&e->ProviderId, &lsp),
                      rows[r].mode == HOST_CHAINS_SHARE_GUID);
        }
        for (int i = 0; i < HOST_BASE_COUNT; i++)
            check_int(row, all[HOST_BASE_COUNT + i].dwCatalogEntryId, base[i]);
        const WSAPROTOCOL_INFOW *l = &all[8];
        check_int(row, l->dwCatalogEntryId, ids.layered_id);
        check_int(row, l->ProtocolChain.ChainLen, 0);
        check_int(row, (l->dwProviderFlags & PFL_HIDDEN) != 0, 1);
        check_int(row, l->iSocketType, 0);
        check_int(row, wcscmp(l->szProtocol, L"peerlsp"), 0);
        if (rows[r].mode == HOST_CHAINS_OWN_GUID) {
            GUID g = lsp;
            g.Data1 += 1;
            check_int(row, IsEqualGUID(&ids.chain_guids[0], &g), 1);
        }

        /* A second LSP stacked over the first one's TCP/IPv4 chain. */
        static const GUID second = { 0x5eC0, 0, 0, { 1, 2, 3, 4, 5, 6, 7, 8 } };
        struct host_lsp_ids ids2;
        check_int(row, host_catalog_install_lsp_over(c, L"Z:\\two.dll", &second, L"two",
                                                     HOST_CHAINS_SHARE_GUID, &ids.chain_ids[0], 1,
                                                     &ids2),
                  0);
        len = sizeof all;
        check_int(row, simcat_enum(c, NULL, all, &len, &err), HOST_BASE_COUNT * 2 + 3);
        check_int(row, all[0].dwCatalogEntryId, ids2.chain_ids[0]);
        check_int(row, all[0].ProtocolChain.ChainLen, 3);
        check_int(row, all[0].ProtocolChain.ChainEntries[0], ids2.layered_id);
        check_int(row, all[0].ProtocolChain.ChainEntries[1], ids.layered_id);
        check_int(row, all[0].ProtocolChain.ChainEntries[2], base[HOST_BASE_TCP4]);
        check_int(row, !wcsncmp(all[0].szProtocol, L"two over peerlsp over ", 22), 1);

        /* Errors leave the catalog as it was. */
        struct simcat *before = simcat_clone(c);
        DWORD layered_only = ids.layered_id, unknown = 4711;
        check_int(row, host_catalog_install_lsp_over(c, L"Z:\\x.dll", &second, NULL,
                                                     HOST_CHAINS_OWN_GUID, &layered_only, 1,
                                                     NULL),
                  WSAEINVAL);
        check_int(row, host_catalog_install_lsp_over(c, L"Z:\\x.dll", &second, NULL,
                                                     HOST_CHAINS_OWN_GUID, &unknown, 1, NULL),
                  WSAEINVAL);
        check_int(row, host_catalog_install_lsp(c, L"Z:\\x.dll", &lsp, rows[r].mode, NULL),
                  WSANO_RECOVERY); /* already installed */
        simcat_fail_call(c, 2, WSANO_RECOVERY); /* the chains fail half-way */
        static const GUID third = { 0x3d, 0, 0, { 0 } };
        check_int(row, host_catalog_install_lsp(c, L"Z:\\x.dll", &third, rows[r].mode, NULL),
                  WSANO_RECOVERY);
        check_int(row, simcat_equal(c, before), 1);
        simcat_destroy(before);
        simcat_destroy(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_not_initialised, setup, teardown),
        cmocka_unit_test_setup_teardown(test_startup_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_startup_is_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lazy_start_once_per_guid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_start_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incomplete_proc_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_dll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cleanup_and_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catalog_snapshot_per_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provider_selection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catalog_order_decides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wsasocket_with_protocol_info, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_loopback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_loopback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_select, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_conversion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_error_per_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_handles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_router_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_closesocket_unbinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binding_replacement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_non_ifs_provider, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unregistered_new_sockets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complete_overlapped_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upcall_contracts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_lookups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_base_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_install_lsp_layout, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
