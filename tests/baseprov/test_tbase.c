/*
 * test_tbase.c - direct smoke test of tbase.dll, without the test host.
 *
 * The test plays a minimal ws2_32: it loads the built tbase.dll by path,
 * calls WSPStartup with a catalog of four entries (TCP and UDP over IPv4 and
 * IPv6) and an upcall table whose only live member, WPUModifyIFSHandle,
 * records which catalog entry each handle was bound to, then drives the WSP
 * table over loopback. Outputs are pre-filled with sentinels so that "left
 * alone" can be told from "written"; table-driven cases name their row.
 *
 * The program calls WSAStartup itself (as every Winsock application in the
 * process would), so that Wine's own last WSACleanup never hides whether
 * tbase's last WSPCleanup closed the sockets it still had.
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>
#include <ws2spi.h>

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include <cmocka.h>

#include "tbase.h"

#ifndef TBASE_TEST_DLL_PATH
#error "TBASE_TEST_DLL_PATH (Windows path of the built tbase.dll) must be defined by the build"
#endif

#define SENTINEL 0xdeadbeef
#define SENTINEL_BYTE 0xcc

/* ---- The DLL under test ------------------------------------------------- */

static HMODULE tbase_dll;
static LPWSPSTARTUP p_WSPStartup;
static TBASE_CALLS_FN p_tbase_calls;
static TBASE_RESET_CALLS_FN p_tbase_reset_calls;
static TBASE_FAIL_NEXT_STARTUP_FN p_tbase_fail_next_startup;
static TBASE_STARTUPS_FN p_tbase_startups;
static TBASE_OPEN_SOCKETS_FN p_tbase_open_sockets;

/* The procedure table of the fixture's WSPStartup. */
static WSPPROC_TABLE wsp;

/* ---- The simulated catalog ---------------------------------------------- */

enum { TCP4, UDP4, TCP6, UDP6, ENTRY_COUNT };

static WSAPROTOCOL_INFOW entries[ENTRY_COUNT];

static void make_entry(WSAPROTOCOL_INFOW *e, DWORD id, const GUID *guid, int af, int type,
                       int protocol, const WCHAR *name)
{
    memset(e, 0, sizeof(*e));
    if (type == SOCK_STREAM)
        e->dwServiceFlags1 = XP1_GUARANTEED_DELIVERY | XP1_GUARANTEED_ORDER |
                             XP1_GRACEFUL_CLOSE | XP1_EXPEDITED_DATA | XP1_IFS_HANDLES;
    else
        e->dwServiceFlags1 = XP1_CONNECTIONLESS | XP1_MESSAGE_ORIENTED |
                             XP1_SUPPORT_BROADCAST | XP1_SUPPORT_MULTIPOINT | XP1_IFS_HANDLES;
    e->dwProviderFlags = PFL_MATCHES_PROTOCOL_ZERO;
    e->ProviderId = *guid;
    e->dwCatalogEntryId = id;
    e->ProtocolChain.ChainLen = 1;
    e->ProtocolChain.ChainEntries[0] = id;
    e->iVersion = 2;
    e->iAddressFamily = af;
    e->iMaxSockAddr = af == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    e->iMinSockAddr = e->iMaxSockAddr;
    e->iSocketType = type;
    e->iProtocol = protocol;
    e->dwMessageSize = type == SOCK_STREAM ? 0 : 65527;
    wcsncpy(e->szProtocol, name, WSAPROTOCOL_LEN);
}

/* ---- The upcall table: WPUModifyIFSHandle records bindings -------------- */

#define MAX_BINDINGS 4096

struct binding {
    DWORD catalog_id;
    SOCKET s;
};

static SRWLOCK binding_lock = SRWLOCK_INIT;
static struct binding bindings[MAX_BINDINGS];
static LONG binding_count;
static volatile LONG modify_calls;
/* When non-zero, the next WPUModifyIFSHandle fails with this error. */
static volatile LONG modify_failure;
/* The handle of the last WPUModifyIFSHandle call, failed or not. */
static SOCKET last_proposed = INVALID_SOCKET;

static SOCKET WSPAPI fake_modify_ifs_handle(DWORD catalog_id, SOCKET proposed, LPINT err)
{
    LONG failure = InterlockedExchange(&modify_failure, 0);

    InterlockedIncrement(&modify_calls);
    AcquireSRWLockExclusive(&binding_lock);
    last_proposed = proposed;
    if (failure) {
        ReleaseSRWLockExclusive(&binding_lock);
        *err = failure;
        return INVALID_SOCKET;
    }
    if (binding_count < MAX_BINDINGS) {
        bindings[binding_count].catalog_id = catalog_id;
        bindings[binding_count].s = proposed;
        binding_count++;
    }
    ReleaseSRWLockExclusive(&binding_lock);
    return proposed;
}

static void reset_bindings(void)
{
    AcquireSRWLockExclusive(&binding_lock);
    binding_count = 0;
    last_proposed = INVALID_SOCKET;
    ReleaseSRWLockExclusive(&binding_lock);
    InterlockedExchange(&modify_calls, 0);
    InterlockedExchange(&modify_failure, 0);
}

/* Catalog id `s` was bound to last, 0 when never. */
static DWORD bound_id(SOCKET s)
{
    DWORD id = 0;
    LONG i;

    AcquireSRWLockShared(&binding_lock);
    for (i = binding_count - 1; i >= 0; i--) {
        if (bindings[i].s == s) {
            id = bindings[i].catalog_id;
            break;
        }
    }
    ReleaseSRWLockShared(&binding_lock);
    return id;
}

static WSPUPCALLTABLE make_upcalls(void)
{
    WSPUPCALLTABLE upcalls;

    memset(&upcalls, 0, sizeof(upcalls));
    upcalls.lpWPUModifyIFSHandle = fake_modify_ifs_handle;
    return upcalls;
}

/* ---- Checks ------------------------------------------------------------- */

#define check_int(row, what, got, want) do { \
        long long got_ = (long long)(got), want_ = (long long)(want); \
        if (got_ != want_) \
            fail_msg("%s: %s: got %lld, want %lld", (row), (what), got_, want_); \
    } while (0)

#define check_true(row, what, cond) do { \
        if (!(cond)) \
            fail_msg("%s: %s: false", (row), (what)); \
    } while (0)

/* ---- Socket helpers (the caller's line goes into failure messages) ------ */

static SOCKET open_socket_(int line, int entry, int af, int type, int protocol)
{
    int err = SENTINEL;
    SOCKET s = wsp.lpWSPSocket(af, type, protocol, &entries[entry], 0, WSA_FLAG_OVERLAPPED,
                               &err);

    if (s == INVALID_SOCKET)
        fail_msg("line %d: WSPSocket(entry %d, %d, %d, %d) failed with %d", line, entry, af, type,
                 protocol, err);
    return s;
}
#define open_socket(entry) \
    open_socket_(__LINE__, (entry), entries[entry].iAddressFamily, \
                 entries[entry].iSocketType, entries[entry].iProtocol)

static void close_socket_(int line, SOCKET s)
{
    int err = SENTINEL;

    if (wsp.lpWSPCloseSocket(s, &err) != 0)
        fail_msg("line %d: WSPCloseSocket(%#llx) failed with %d", line, (unsigned long long)s,
                 err);
}
#define close_socket(s) close_socket_(__LINE__, (s))

/* Loopback address of `family`, port `port` (host order). */
static int loopback(int family, USHORT port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;

        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        sin6->sin6_addr.s6_addr[15] = 1;
        return sizeof(*sin6);
    }
}

static void bind_loopback_(int line, SOCKET s, int family)
{
    struct sockaddr_storage ss;
    int len = loopback(family, 0, &ss);
    int err = SENTINEL;

    if (wsp.lpWSPBind(s, (struct sockaddr *)&ss, len, &err) != 0)
        fail_msg("line %d: WSPBind failed with %d", line, err);
}
#define bind_loopback(s, family) bind_loopback_(__LINE__, (s), (family))

static int sock_name_(int line, SOCKET s, struct sockaddr_storage *ss)
{
    int len = sizeof(*ss);
    int err = SENTINEL;

    memset(ss, SENTINEL_BYTE, sizeof(*ss));
    if (wsp.lpWSPGetSockName(s, (struct sockaddr *)ss, &len, &err) != 0)
        fail_msg("line %d: WSPGetSockName failed with %d", line, err);
    return len;
}
#define sock_name(s, ss) sock_name_(__LINE__, (s), (ss))

static int peer_name_(int line, SOCKET s, struct sockaddr_storage *ss)
{
    int len = sizeof(*ss);
    int err = SENTINEL;

    memset(ss, SENTINEL_BYTE, sizeof(*ss));
    if (wsp.lpWSPGetPeerName(s, (struct sockaddr *)ss, &len, &err) != 0)
        fail_msg("line %d: WSPGetPeerName failed with %d", line, err);
    return len;
}
#define peer_name(s, ss) peer_name_(__LINE__, (s), (ss))

static void check_same_address_(int line, const char *row, const struct sockaddr_storage *a,
                                int alen, const struct sockaddr_storage *b, int blen)
{
    if (alen != blen)
        fail_msg("line %d: %s: address lengths differ: %d vs %d", line, row, alen, blen);
    if (memcmp(a, b, alen))
        fail_msg("line %d: %s: addresses differ (family %d vs %d, port %u vs %u)", line, row,
                 a->ss_family, b->ss_family, ntohs(((const struct sockaddr_in *)a)->sin_port),
                 ntohs(((const struct sockaddr_in *)b)->sin_port));
}
#define check_same_address(row, a, alen, b, blen) \
    check_same_address_(__LINE__, (row), (a), (alen), (b), (blen))

static void connect_to_(int line, SOCKET s, const struct sockaddr_storage *to, int len)
{
    int err = SENTINEL;

    if (wsp.lpWSPConnect(s, (const struct sockaddr *)to, len, NULL, NULL, NULL, NULL, &err) != 0)
        fail_msg("line %d: WSPConnect failed with %d", line, err);
}
#define connect_to(s, to, len) connect_to_(__LINE__, (s), (to), (len))

/* A listening socket of `entry` on loopback; its address in *addr. */
static SOCKET listen_on_(int line, int entry, struct sockaddr_storage *addr, int *addrlen)
{
    SOCKET l = open_socket_(line, entry, entries[entry].iAddressFamily,
                            entries[entry].iSocketType, entries[entry].iProtocol);
    int err = SENTINEL;

    bind_loopback_(line, l, entries[entry].iAddressFamily);
    if (wsp.lpWSPListen(l, 5, &err) != 0)
        fail_msg("line %d: WSPListen failed with %d", line, err);
    *addrlen = sock_name_(line, l, addr);
    return l;
}
#define listen_on(entry, addr, addrlen) listen_on_(__LINE__, (entry), (addr), (addrlen))

static SOCKET accept_one_(int line, SOCKET l)
{
    int err = SENTINEL;
    SOCKET a = wsp.lpWSPAccept(l, NULL, NULL, NULL, 0, &err);

    if (a == INVALID_SOCKET)
        fail_msg("line %d: WSPAccept failed with %d", line, err);
    return a;
}
#define accept_one(l) accept_one_(__LINE__, (l))

static void send_bytes_(int line, SOCKET s, const char *data, DWORD len)
{
    WSABUF buf = { len, (char *)data };
    DWORD sent = SENTINEL;
    int err = SENTINEL;

    if (wsp.lpWSPSend(s, &buf, 1, &sent, 0, NULL, NULL, NULL, &err) != 0)
        fail_msg("line %d: WSPSend failed with %d", line, err);
    if (sent != len)
        fail_msg("line %d: WSPSend sent %lu bytes, want %lu", line, sent, len);
}
#define send_bytes(s, data, len) send_bytes_(__LINE__, (s), (data), (len))

static void recv_expect_(int line, SOCKET s, const char *want, DWORD len)
{
    char data[256];
    WSABUF buf = { sizeof(data), data };
    DWORD got = SENTINEL, flags = 0;
    int err = SENTINEL;

    memset(data, SENTINEL_BYTE, sizeof(data));
    if (wsp.lpWSPRecv(s, &buf, 1, &got, &flags, NULL, NULL, NULL, &err) != 0)
        fail_msg("line %d: WSPRecv failed with %d", line, err);
    if (got != len || memcmp(data, want, len))
        fail_msg("line %d: WSPRecv got %lu bytes \"%.*s\", want %lu \"%.*s\"", line, got,
                 (int)(got < sizeof(data) ? got : sizeof(data)), data, len, (int)len, want);
}
#define recv_expect(s, want, len) recv_expect_(__LINE__, (s), (want), (len))

/* ---- Fixtures ----------------------------------------------------------- */

static int group_setup(void **state)
{
    WSADATA wsa_data;
    GUID v4 = TBASE_GUID_IPV4_INIT, v6 = TBASE_GUID_IPV6_INIT;
    int err;

    (void)state;
    tbase_dll = LoadLibraryA(TBASE_TEST_DLL_PATH);
    if (!tbase_dll) {
        print_error("LoadLibrary(%s) failed with %lu\n", TBASE_TEST_DLL_PATH, GetLastError());
        return -1;
    }
#define RESOLVE(var, type, name) \
    if (!(var = (type)(void (*)(void))GetProcAddress(tbase_dll, name))) { \
        print_error("tbase.dll does not export %s\n", name); \
        return -1; \
    }
    RESOLVE(p_WSPStartup, LPWSPSTARTUP, "WSPStartup");
    RESOLVE(p_tbase_calls, TBASE_CALLS_FN, "tbase_calls");
    RESOLVE(p_tbase_reset_calls, TBASE_RESET_CALLS_FN, "tbase_reset_calls");
    RESOLVE(p_tbase_fail_next_startup, TBASE_FAIL_NEXT_STARTUP_FN, "tbase_fail_next_startup");
    RESOLVE(p_tbase_startups, TBASE_STARTUPS_FN, "tbase_startups");
    RESOLVE(p_tbase_open_sockets, TBASE_OPEN_SOCKETS_FN, "tbase_open_sockets");
#undef RESOLVE

    /* Ids unlike Wine's own catalog (1001...), so that an answer that came
     * from Wine's catalog instead of tbase's entry cannot pass by accident. */
    make_entry(&entries[TCP4], 1011, &v4, AF_INET, SOCK_STREAM, IPPROTO_TCP, L"tbase TCP/IP");
    make_entry(&entries[UDP4], 1012, &v4, AF_INET, SOCK_DGRAM, IPPROTO_UDP, L"tbase UDP/IP");
    make_entry(&entries[TCP6], 1013, &v6, AF_INET6, SOCK_STREAM, IPPROTO_TCP, L"tbase TCP/IPv6");
    make_entry(&entries[UDP6], 1014, &v6, AF_INET6, SOCK_DGRAM, IPPROTO_UDP, L"tbase UDP/IPv6");

    err = WSAStartup(MAKEWORD(2, 2), &wsa_data);
    if (err) {
        print_error("WSAStartup failed with %d\n", err);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    WSACleanup();
    FreeLibrary(tbase_dll);
    return 0;
}

/* Every socket test runs between one WSPStartup and its WSPCleanup, and
 * must leave no socket open and no start-up behind. */
static int start_tbase(void **state)
{
    WSPDATA data;
    int err;

    (void)state;
    if (p_tbase_startups() != 0) {
        print_error("a previous test left %ld start-ups\n", p_tbase_startups());
        return -1;
    }
    reset_bindings();
    memset(&wsp, 0, sizeof(wsp));
    err = p_WSPStartup(MAKEWORD(2, 2), &data, &entries[TCP4], make_upcalls(), &wsp);
    if (err) {
        print_error("WSPStartup failed with %d\n", err);
        return -1;
    }
    return 0;
}

static int stop_tbase(void **state)
{
    LONG open = p_tbase_open_sockets();
    int err = SENTINEL;

    (void)state;
    if (wsp.lpWSPCleanup(&err) != 0) {
        print_error("WSPCleanup failed with %d\n", err);
        return -1;
    }
    if (open != 0) {
        print_error("the test left %ld sockets open\n", open);
        return -1;
    }
    if (p_tbase_startups() != 0) {
        print_error("%ld start-ups left after WSPCleanup\n", p_tbase_startups());
        return -1;
    }
    return 0;
}

/* ---- WSPStartup --------------------------------------------------------- */

static void fill_sentinels(WSPDATA *data, WSPPROC_TABLE *table)
{
    memset(data, SENTINEL_BYTE, sizeof(*data));
    memset(table, SENTINEL_BYTE, sizeof(*table));
}

static BOOL untouched(const void *p, size_t len)
{
    const unsigned char *b = p;
    size_t i;

    for (i = 0; i < len; i++) {
        if (b[i] != SENTINEL_BYTE)
            return FALSE;
    }
    return TRUE;
}

static void check_proc_table_full(const char *row, const WSPPROC_TABLE *table)
{
    void *const *fn = (void *const *)table;
    size_t i;

    for (i = 0; i < sizeof(*table) / sizeof(void *); i++) {
        if (!fn[i] || untouched(&fn[i], sizeof(fn[i])))
            fail_msg("%s: procedure table entry %u not filled", row, (unsigned)i);
    }
}

static void test_startup_versions(void **state)
{
    static const struct {
        const char *row;
        WORD requested;
        int err;
    } rows[] = {
        { "0.0", MAKEWORD(0, 0), WSAVERNOTSUPPORTED },
        { "1.1", MAKEWORD(1, 1), WSAVERNOTSUPPORTED },
        { "1.9", MAKEWORD(1, 9), WSAVERNOTSUPPORTED },
        { "2.0", MAKEWORD(2, 0), WSAVERNOTSUPPORTED },
        { "2.1", MAKEWORD(2, 1), WSAVERNOTSUPPORTED },
        { "2.2", MAKEWORD(2, 2), 0 },
        { "2.3", MAKEWORD(2, 3), 0 },
        { "3.0", MAKEWORD(3, 0), 0 },
        { "255.255", MAKEWORD(255, 255), 0 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        WSPDATA data;
        WSPPROC_TABLE table;
        int err, cleanup = SENTINEL, cleanup_err = SENTINEL;
        LONG startups = 0;

        fill_sentinels(&data, &table);
        err = p_WSPStartup(rows[i].requested, &data, &entries[TCP4], make_upcalls(), &table);
        /* Undo a start-up before checking anything, so that a failed check
         * does not leave a reference behind for the tests that follow. */
        if (!err) {
            startups = p_tbase_startups();
            cleanup = table.lpWSPCleanup(&cleanup_err);
        }
        check_int(rows[i].row, "WSPStartup result", err, rows[i].err);
        if (err) {
            check_true(rows[i].row, "WSPDATA untouched on failure", untouched(&data, sizeof(data)));
            check_true(rows[i].row, "table untouched on failure", untouched(&table, sizeof(table)));
            check_int(rows[i].row, "start-ups after failure", p_tbase_startups(), 0);
            continue;
        }
        check_int(rows[i].row, "WSPCleanup", cleanup, 0);
        check_proc_table_full(rows[i].row, &table);
        check_int(rows[i].row, "start-ups while started", startups, 1);
        check_int(rows[i].row, "start-ups after cleanup", p_tbase_startups(), 0);
        check_int(rows[i].row, "wVersion", data.wVersion, MAKEWORD(2, 2));
        check_int(rows[i].row, "wHighVersion", data.wHighVersion, MAKEWORD(2, 2));
        check_true(rows[i].row, "szDescription names tbase",
                   wcsstr(data.szDescription, L"test base provider") != NULL);
    }
}

static void test_startup_bad_arguments(void **state)
{
    static const struct {
        const char *row;
        BOOL no_data, no_info, no_table, no_modify;
        int err;
    } rows[] = {
        { "NULL lpWSPData", TRUE, FALSE, FALSE, FALSE, WSAEFAULT },
        { "NULL lpProtocolInfo", FALSE, TRUE, FALSE, FALSE, WSAEFAULT },
        { "NULL lpProcTable", FALSE, FALSE, TRUE, FALSE, WSAEFAULT },
        { "no WPUModifyIFSHandle upcall", FALSE, FALSE, FALSE, TRUE, WSAEINVAL },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        WSPDATA data;
        WSPPROC_TABLE table;
        WSPUPCALLTABLE upcalls = make_upcalls();
        int err;

        if (rows[i].no_modify)
            upcalls.lpWPUModifyIFSHandle = NULL;
        fill_sentinels(&data, &table);
        err = p_WSPStartup(MAKEWORD(2, 2), rows[i].no_data ? NULL : &data,
                           rows[i].no_info ? NULL : &entries[TCP4], upcalls,
                           rows[i].no_table ? NULL : &table);
        check_int(rows[i].row, "WSPStartup result", err, rows[i].err);
        check_true(rows[i].row, "WSPDATA untouched", untouched(&data, sizeof(data)));
        check_true(rows[i].row, "table untouched", untouched(&table, sizeof(table)));
        check_int(rows[i].row, "start-ups", p_tbase_startups(), 0);
    }
}

static void test_startup_reference_count(void **state)
{
    WSPDATA data;
    WSPPROC_TABLE t1, t2, t3;
    int err = SENTINEL;

    (void)state;
    check_int("first", "WSPStartup", p_WSPStartup(MAKEWORD(2, 2), &data, &entries[TCP4],
                                                  make_upcalls(), &t1), 0);
    check_int("IPv6 entry", "WSPStartup", p_WSPStartup(MAKEWORD(2, 2), &data, &entries[TCP6],
                                                       make_upcalls(), &t2), 0);
    check_int("two", "start-ups", p_tbase_startups(), 2);
    check_int("two", "first WSPCleanup", t1.lpWSPCleanup(&err), 0);
    check_int("one left", "start-ups", p_tbase_startups(), 1);

    /* Still started: sockets can be made with the remaining reference. */
    memcpy(&wsp, &t2, sizeof(wsp));
    reset_bindings();
    close_socket(open_socket(UDP6));

    check_int("one left", "second WSPCleanup", t2.lpWSPCleanup(&err), 0);
    check_int("none", "start-ups", p_tbase_startups(), 0);

    err = SENTINEL;
    check_int("unbalanced", "extra WSPCleanup", t2.lpWSPCleanup(&err), SOCKET_ERROR);
    check_int("unbalanced", "extra WSPCleanup error", err, WSANOTINITIALISED);
    check_int("unbalanced", "start-ups", p_tbase_startups(), 0);

    /* WSPStartup works again right after the last cleanup. */
    check_int("restart", "WSPStartup", p_WSPStartup(MAKEWORD(2, 2), &data, &entries[TCP4],
                                                    make_upcalls(), &t3), 0);
    check_int("restart", "start-ups", p_tbase_startups(), 1);
    check_int("restart", "WSPCleanup", t3.lpWSPCleanup(&err), 0);
}

static void test_fail_next_startup(void **state)
{
    WSPDATA data;
    WSPPROC_TABLE table;
    int err = SENTINEL;

    (void)state;
    p_tbase_fail_next_startup(WSAENETDOWN);
    fill_sentinels(&data, &table);
    check_int("injected", "WSPStartup", p_WSPStartup(MAKEWORD(2, 2), &data, &entries[TCP4],
                                                     make_upcalls(), &table), WSAENETDOWN);
    check_true("injected", "WSPDATA untouched", untouched(&data, sizeof(data)));
    check_true("injected", "table untouched", untouched(&table, sizeof(table)));
    check_int("injected", "start-ups", p_tbase_startups(), 0);

    /* Only the next one fails. */
    check_int("after", "WSPStartup", p_WSPStartup(MAKEWORD(2, 2), &data, &entries[TCP4],
                                                  make_upcalls(), &table), 0);
    check_int("after", "WSPCleanup", table.lpWSPCleanup(&err), 0);

    /* 0 cancels a pending failure. */
    p_tbase_fail_next_startup(WSAEPROCLIM);
    p_tbase_fail_next_startup(0);
    check_int("cancelled", "WSPStartup", p_WSPStartup(MAKEWORD(2, 2), &data, &entries[TCP4],
                                                      make_upcalls(), &table), 0);
    check_int("cancelled", "WSPCleanup", table.lpWSPCleanup(&err), 0);
}

/* ---- Call counters ------------------------------------------------------ */

static void test_call_counters(void **state)
{
    static const char *const names[] = {
        "WSPAccept", "WSPAddressToString", "WSPAsyncSelect", "WSPBind",
        "WSPCancelBlockingCall", "WSPCleanup", "WSPCloseSocket", "WSPConnect",
        "WSPDuplicateSocket", "WSPEnumNetworkEvents", "WSPEventSelect",
        "WSPGetOverlappedResult", "WSPGetPeerName", "WSPGetSockName", "WSPGetSockOpt",
        "WSPGetQOSByName", "WSPIoctl", "WSPJoinLeaf", "WSPListen", "WSPRecv",
        "WSPRecvDisconnect", "WSPRecvFrom", "WSPSelect", "WSPSend", "WSPSendDisconnect",
        "WSPSendTo", "WSPSetSockOpt", "WSPShutdown", "WSPSocket", "WSPStringToAddress",
        "WSPStartup",
    };
    static const char *const unknown[] = { "WSPNoSuchFunction", "wspgetpeername", "", "WSP" };
    int len = 16, err = SENTINEL;
    size_t i;

    (void)state;
    p_tbase_reset_calls();
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        check_int(names[i], "count after reset", p_tbase_calls(names[i]), 0);
    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        check_int(unknown[i], "unknown name", p_tbase_calls(unknown[i]), -1);
    check_int("NULL", "unknown name", p_tbase_calls(NULL), -1);

    /* Failed calls count too. */
    for (i = 0; i < 3; i++)
        wsp.lpWSPGetPeerName(INVALID_SOCKET, NULL, &len, &err);
    check_int("after 3 calls", "WSPGetPeerName", p_tbase_calls("WSPGetPeerName"), 3);
    check_int("after 3 calls", "WSPGetSockName", p_tbase_calls("WSPGetSockName"), 0);
    check_int("cancel", "WSPCancelBlockingCall", wsp.lpWSPCancelBlockingCall(&err), 0);
    check_int("cancel", "WSPCancelBlockingCall count", p_tbase_calls("WSPCancelBlockingCall"), 1);

    close_socket(open_socket(TCP4));
    check_int("socket", "WSPSocket count", p_tbase_calls("WSPSocket"), 1);
    check_int("socket", "WSPCloseSocket count", p_tbase_calls("WSPCloseSocket"), 1);

    p_tbase_reset_calls();
    check_int("reset", "WSPGetPeerName", p_tbase_calls("WSPGetPeerName"), 0);
    check_int("reset", "WSPSocket", p_tbase_calls("WSPSocket"), 0);
}

/* ---- Socket creation and registration ----------------------------------- */

static void test_socket_registration(void **state)
{
    static const struct {
        const char *row;
        int entry;
        int af, type, protocol;
    } rows[] = {
        { "TCP/IPv4 explicit", TCP4, AF_INET, SOCK_STREAM, IPPROTO_TCP },
        { "TCP/IPv4 FROM_PROTOCOL_INFO", TCP4, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO,
          FROM_PROTOCOL_INFO },
        { "UDP/IPv4 wildcards", UDP4, 0, 0, 0 },
        { "TCP/IPv6 wildcards", TCP6, 0, 0, 0 },
        { "UDP/IPv6 explicit", UDP6, AF_INET6, SOCK_DGRAM, IPPROTO_UDP },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const WSAPROTOCOL_INFOW *e = &entries[rows[i].entry];
        WSAPROTOCOL_INFOW info;
        int len = sizeof(info), err = SENTINEL;
        SOCKET s = open_socket_(__LINE__, rows[i].entry, rows[i].af, rows[i].type,
                                rows[i].protocol);

        check_int(rows[i].row, "bound catalog id", bound_id(s), e->dwCatalogEntryId);
        check_int(rows[i].row, "open sockets", p_tbase_open_sockets(), 1);

        /* The socket Wine made has the entry's family, type and protocol,
         * and SO_PROTOCOL_INFOW names tbase's entry, not Wine's. */
        memset(&info, SENTINEL_BYTE, sizeof(info));
        check_int(rows[i].row, "SO_PROTOCOL_INFOW",
                  wsp.lpWSPGetSockOpt(s, SOL_SOCKET, SO_PROTOCOL_INFOW, (char *)&info, &len,
                                      &err), 0);
        check_int(rows[i].row, "iAddressFamily", info.iAddressFamily, e->iAddressFamily);
        check_int(rows[i].row, "iSocketType", info.iSocketType, e->iSocketType);
        check_int(rows[i].row, "iProtocol", info.iProtocol, e->iProtocol);
        check_int(rows[i].row, "dwCatalogEntryId", info.dwCatalogEntryId, e->dwCatalogEntryId);
        check_true(rows[i].row, "ProviderId", IsEqualGUID(&info.ProviderId, &e->ProviderId));
        check_int(rows[i].row, "ChainLen", info.ProtocolChain.ChainLen, 1);
        check_int(rows[i].row, "ChainEntries[0]", info.ProtocolChain.ChainEntries[0],
                  e->dwCatalogEntryId);

        close_socket(s);
        check_int(rows[i].row, "open sockets after close", p_tbase_open_sockets(), 0);
    }
}

static void test_socket_errors(void **state)
{
    int err = SENTINEL, len;
    SOCKET s;
    struct sockaddr_storage ss;

    (void)state;
    s = wsp.lpWSPSocket(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, 0, &err);
    check_int("NULL protocol info", "socket", s, INVALID_SOCKET);
    check_int("NULL protocol info", "error", err, WSAEFAULT);

    /* A handle tbase never made is not its to accept on. */
    err = SENTINEL;
    s = wsp.lpWSPAccept((SOCKET)0x1230, NULL, NULL, NULL, 0, &err);
    check_int("unknown listener", "socket", s, INVALID_SOCKET);
    check_int("unknown listener", "error", err, WSAENOTSOCK);

    /* Wine's errors pass through: a closed handle is not a socket. */
    s = open_socket(TCP4);
    close_socket(s);
    err = SENTINEL;
    len = sizeof(ss);
    check_int("closed handle", "WSPGetSockName", wsp.lpWSPGetSockName(s, (struct sockaddr *)&ss,
                                                                      &len, &err), SOCKET_ERROR);
    check_int("closed handle", "error", err, WSAENOTSOCK);
    err = SENTINEL;
    check_int("closed handle", "WSPCloseSocket", wsp.lpWSPCloseSocket(s, &err), SOCKET_ERROR);
    check_int("closed handle", "close error", err, WSAENOTSOCK);
    check_int("closed handle", "open sockets", p_tbase_open_sockets(), 0);
}

static void test_registration_failure(void **state)
{
    struct sockaddr_storage ss;
    int err = SENTINEL, len = sizeof(ss);
    SOCKET s;

    (void)state;
    InterlockedExchange(&modify_failure, WSAENOBUFS);
    s = wsp.lpWSPSocket(AF_INET, SOCK_STREAM, IPPROTO_TCP, &entries[TCP4], 0,
                        WSA_FLAG_OVERLAPPED, &err);
    check_int("upcall fails", "socket", s, INVALID_SOCKET);
    check_int("upcall fails", "error", err, WSAENOBUFS);
    check_int("upcall fails", "upcall calls", modify_calls, 1);
    check_true("upcall fails", "a handle was proposed", last_proposed != INVALID_SOCKET);
    check_int("upcall fails", "open sockets", p_tbase_open_sockets(), 0);

    /* The Wine socket behind the refused handle was closed, not leaked
     * (asked of Wine directly: tbase no longer knows the handle). */
    check_int("upcall fails", "getsockname on the proposed handle",
              getsockname(last_proposed, (struct sockaddr *)&ss, &len), SOCKET_ERROR);
    check_int("upcall fails", "error", WSAGetLastError(), WSAENOTSOCK);
}

/* ---- TCP and UDP over loopback ------------------------------------------ */

static void test_tcp_loopback(void **state)
{
    static const struct {
        const char *row;
        int entry;
        int client_af, client_type, client_protocol;
    } rows[] = {
        { "IPv4", TCP4, AF_INET, SOCK_STREAM, IPPROTO_TCP },
        { "IPv4, client from protocol info", TCP4, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO,
          FROM_PROTOCOL_INFO },
        { "IPv6", TCP6, AF_INET6, SOCK_STREAM, IPPROTO_TCP },
        { "IPv6, client with wildcards", TCP6, 0, 0, 0 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *row = rows[i].row;
        DWORD id = entries[rows[i].entry].dwCatalogEntryId;
        struct sockaddr_storage laddr, caddr, cpeer, saddr, speer, from;
        int llen, clen, cplen, slen, splen, fromlen, err = SENTINEL;
        SOCKET l, c, s;

        l = listen_on(rows[i].entry, &laddr, &llen);
        c = open_socket_(__LINE__, rows[i].entry, rows[i].client_af, rows[i].client_type,
                         rows[i].client_protocol);
        connect_to(c, &laddr, llen);

        /* WSPAccept with an address buffer; the new socket is bound to the
         * listener's catalog entry. */
        fromlen = sizeof(from);
        memset(&from, SENTINEL_BYTE, sizeof(from));
        s = wsp.lpWSPAccept(l, (struct sockaddr *)&from, &fromlen, NULL, 0, &err);
        if (s == INVALID_SOCKET)
            fail_msg("%s: WSPAccept failed with %d", row, err);
        check_int(row, "accepted socket's catalog id", bound_id(s), id);
        check_int(row, "client's catalog id", bound_id(c), id);
        check_int(row, "listener's catalog id", bound_id(l), id);
        check_int(row, "open sockets", p_tbase_open_sockets(), 3);

        clen = sock_name(c, &caddr);
        cplen = peer_name(c, &cpeer);
        slen = sock_name(s, &saddr);
        splen = peer_name(s, &speer);
        check_same_address(row, &cpeer, cplen, &laddr, llen);
        check_same_address(row, &speer, splen, &caddr, clen);
        check_same_address(row, &from, fromlen, &caddr, clen);
        check_same_address(row, &saddr, slen, &laddr, llen);

        send_bytes(c, "ping", 4);
        recv_expect(s, "ping", 4);
        send_bytes(s, "pong!", 5);
        recv_expect(c, "pong!", 5);

        /* Orderly shutdown: the receiver sees end of stream. */
        check_int(row, "WSPShutdown", wsp.lpWSPShutdown(c, SD_SEND, &err), 0);
        recv_expect(s, "", 0);

        close_socket(s);
        close_socket(c);
        close_socket(l);
        check_int(row, "open sockets after close", p_tbase_open_sockets(), 0);
    }
}

static void test_udp_connect(void **state)
{
    static const struct {
        const char *row;
        int entry;
    } rows[] = {
        { "UDP/IPv4", UDP4 },
        { "UDP/IPv6", UDP6 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *row = rows[i].row;
        int family = entries[rows[i].entry].iAddressFamily;
        struct sockaddr_storage raddr, saddr, peer, from;
        int rlen, slen, plen, fromlen, err = SENTINEL;
        char data[16];
        WSABUF buf;
        DWORD n, flags = 0;
        SOCKET r, s;

        r = open_socket(rows[i].entry);
        bind_loopback(r, family);
        rlen = sock_name(r, &raddr);
        s = open_socket(rows[i].entry);
        bind_loopback(s, family);
        slen = sock_name(s, &saddr);

        /* Not connected yet: no peer, however often it is asked. */
        plen = sizeof(peer);
        check_int(row, "getpeername before connect",
                  wsp.lpWSPGetPeerName(s, (struct sockaddr *)&peer, &plen, &err), SOCKET_ERROR);
        check_int(row, "error before connect", err, WSAENOTCONN);

        connect_to(s, &raddr, rlen);
        plen = peer_name(s, &peer);
        check_same_address(row, &peer, plen, &raddr, rlen);

        buf.buf = (char *)"dgram";
        buf.len = 5;
        n = SENTINEL;
        check_int(row, "WSPSendTo", wsp.lpWSPSendTo(s, &buf, 1, &n, 0, NULL, 0, NULL, NULL, NULL,
                                                    &err), 0);
        check_int(row, "bytes sent", n, 5);

        memset(data, SENTINEL_BYTE, sizeof(data));
        buf.buf = data;
        buf.len = sizeof(data);
        fromlen = sizeof(from);
        n = SENTINEL;
        check_int(row, "WSPRecvFrom", wsp.lpWSPRecvFrom(r, &buf, 1, &n, &flags,
                                                        (struct sockaddr *)&from, &fromlen, NULL,
                                                        NULL, NULL, &err), 0);
        check_int(row, "bytes received", n, 5);
        check_true(row, "datagram contents", !memcmp(data, "dgram", 5));
        check_same_address(row, &from, fromlen, &saddr, slen);

        close_socket(s);
        close_socket(r);
    }
}

/* ---- getpeername / getsockname argument checks -------------------------- */

static void test_getpeername_not_connected(void **state)
{
    static const struct {
        const char *row;
        int entry;
    } rows[] = {
        { "TCP/IPv4", TCP4 },
        { "TCP/IPv6", TCP6 },
        { "UDP/IPv4", UDP4 },
        { "UDP/IPv6", UDP6 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct sockaddr_storage ss;
        int len = sizeof(ss), err = SENTINEL;
        SOCKET s = open_socket(rows[i].entry);

        check_int(rows[i].row, "WSPGetPeerName",
                  wsp.lpWSPGetPeerName(s, (struct sockaddr *)&ss, &len, &err), SOCKET_ERROR);
        check_int(rows[i].row, "error", err, WSAENOTCONN);
        close_socket(s);
    }
}

typedef int (WSPAPI *name_fn)(SOCKET, struct sockaddr *, LPINT, LPINT);

static void test_name_faults(void **state)
{
    enum { NAME_NULL, LEN_NULL, LEN_VALUE };
    static const struct {
        const char *row;
        int kind;
        int namelen;     /* for LEN_VALUE; -2 means "one less than the address" */
        BOOL untouched;  /* tbase answers before Wine can touch the buffer */
    } rows[] = {
        { "NULL name", NAME_NULL, sizeof(struct sockaddr_storage), TRUE },
        { "NULL namelen", LEN_NULL, 0, TRUE },
        { "namelen -1", LEN_VALUE, -1, TRUE },
        { "namelen INT_MIN", LEN_VALUE, INT_MIN, TRUE },
        { "namelen 0", LEN_VALUE, 0, FALSE },
        { "namelen one too small", LEN_VALUE, -2, FALSE },
    };
    static const int families[] = { TCP4, TCP6 };
    struct sockaddr_storage laddr;
    size_t f, i, which;

    (void)state;
    for (f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
        int llen;
        SOCKET l = listen_on(families[f], &laddr, &llen);
        SOCKET c = open_socket(families[f]);
        SOCKET s;

        connect_to(c, &laddr, llen);
        s = accept_one(l);

        for (which = 0; which < 2; which++) {
            name_fn fn = which ? wsp.lpWSPGetSockName : wsp.lpWSPGetPeerName;

            for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                struct sockaddr_storage ss;
                int len, err = SENTINEL, ret;
                char row[128];

                snprintf(row, sizeof(row), "%s %s %s", families[f] == TCP4 ? "IPv4" : "IPv6",
                         which ? "WSPGetSockName" : "WSPGetPeerName", rows[i].row);
                len = rows[i].namelen == -2 ? llen - 1 : rows[i].namelen;
                memset(&ss, SENTINEL_BYTE, sizeof(ss));
                ret = fn(c, rows[i].kind == NAME_NULL ? NULL : (struct sockaddr *)&ss,
                         rows[i].kind == LEN_NULL ? NULL : &len, &err);
                check_int(row, "result", ret, SOCKET_ERROR);
                check_int(row, "error", err, WSAEFAULT);
                if (rows[i].untouched) {
                    check_true(row, "buffer untouched", untouched(&ss, sizeof(ss)));
                    if (rows[i].kind == LEN_VALUE)
                        check_int(row, "namelen unchanged", len, rows[i].namelen);
                }
            }
        }
        close_socket(s);
        close_socket(c);
        close_socket(l);
    }
}

/* ---- Duplication -------------------------------------------------------- */

static void test_duplicate_to_self(void **state)
{
    const WSAPROTOCOL_INFOW *e = &entries[TCP4];
    struct sockaddr_storage laddr, orig_peer, dup_peer;
    WSAPROTOCOL_INFOW info, rewritten;
    int llen, olen, dlen, err = SENTINEL;
    SOCKET l, c, s, dup, dup2;

    (void)state;
    l = listen_on(TCP4, &laddr, &llen);
    c = open_socket(TCP4);
    connect_to(c, &laddr, llen);
    s = accept_one(l);

    memset(&info, SENTINEL_BYTE, sizeof(info));
    check_int("duplicate", "WSPDuplicateSocket",
              wsp.lpWSPDuplicateSocket(c, GetCurrentProcessId(), &info, &err), 0);
    check_int("duplicate", "dwCatalogEntryId", info.dwCatalogEntryId, e->dwCatalogEntryId);
    check_true("duplicate", "ProviderId", IsEqualGUID(&info.ProviderId, &TBASE_GUID_IPV4));
    check_int("duplicate", "ChainLen", info.ProtocolChain.ChainLen, 1);
    check_int("duplicate", "ChainEntries[0]", info.ProtocolChain.ChainEntries[0],
              e->dwCatalogEntryId);
    check_true("duplicate", "dwProviderReserved set", info.dwProviderReserved != 0);
    check_int("duplicate", "iAddressFamily", info.iAddressFamily, AF_INET);
    check_int("duplicate", "iSocketType", info.iSocketType, SOCK_STREAM);

    /* The target (this process) re-creates it through WSPSocket. */
    err = SENTINEL;
    dup = wsp.lpWSPSocket(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, &info, 0,
                          WSA_FLAG_OVERLAPPED, &err);
    if (dup == INVALID_SOCKET)
        fail_msg("WSPSocket from the duplicate info failed with %d", err);
    check_true("re-created", "a new handle", dup != c);
    check_int("re-created", "catalog id", bound_id(dup), e->dwCatalogEntryId);
    check_int("re-created", "open sockets", p_tbase_open_sockets(), 4);
    olen = peer_name(c, &orig_peer);
    dlen = peer_name(dup, &dup_peer);
    check_same_address("re-created", &dup_peer, dlen, &orig_peer, olen);

    /* A layer above may rebuild the structure from its own entry and keep
     * only dwProviderReserved and the identity: Wine's fields are restored. */
    memset(&info, SENTINEL_BYTE, sizeof(info));
    check_int("second duplicate", "WSPDuplicateSocket",
              wsp.lpWSPDuplicateSocket(c, GetCurrentProcessId(), &info, &err), 0);
    rewritten = *e;
    rewritten.dwProviderReserved = info.dwProviderReserved;
    err = SENTINEL;
    dup2 = wsp.lpWSPSocket(0, 0, 0, &rewritten, 0, WSA_FLAG_OVERLAPPED, &err);
    if (dup2 == INVALID_SOCKET)
        fail_msg("WSPSocket from rewritten duplicate info failed with %d", err);
    dlen = peer_name(dup2, &dup_peer);
    check_same_address("rewritten", &dup_peer, dlen, &orig_peer, olen);
    close_socket(dup2);

    /* The duplicate is its own handle: it outlives the original. */
    close_socket(c);
    send_bytes(dup, "via dup", 7);
    recv_expect(s, "via dup", 7);

    err = SENTINEL;
    check_int("NULL info", "WSPDuplicateSocket",
              wsp.lpWSPDuplicateSocket(dup, GetCurrentProcessId(), NULL, &err), SOCKET_ERROR);
    /* WSAEFAULT for the structure, but WSAEINVAL first for a process that
     * cannot be opened, as Windows' base provider (Wine's sock.c). */
    check_int("NULL info", "error", err, WSAEFAULT);
    err = SENTINEL;
    check_int("NULL info, process 0", "WSPDuplicateSocket",
              wsp.lpWSPDuplicateSocket(dup, 0, NULL, &err), SOCKET_ERROR);
    check_int("NULL info, process 0", "error", err, WSAEINVAL);
    /* No such process: Wine's error passes through. */
    err = SENTINEL;
    check_int("no such process", "WSPDuplicateSocket",
              wsp.lpWSPDuplicateSocket(dup, 0xfffffff0, &info, &err), SOCKET_ERROR);
    check_int("no such process", "error", err, WSAEINVAL);
    err = SENTINEL;
    check_int("unknown socket", "WSPDuplicateSocket",
              wsp.lpWSPDuplicateSocket(c, GetCurrentProcessId(), &info, &err), SOCKET_ERROR);
    check_int("unknown socket", "error", err, WSAENOTSOCK);

    close_socket(dup);
    close_socket(s);
    close_socket(l);
}

/* ---- Cleanup ------------------------------------------------------------ */

static void test_last_cleanup_closes_sockets(void **state)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss), err = SENTINEL;
    WSPDATA data;
    SOCKET s;

    (void)state;
    s = open_socket(UDP4);
    bind_loopback(s, AF_INET);
    check_int("before", "open sockets", p_tbase_open_sockets(), 1);
    check_int("before", "WSPCleanup", wsp.lpWSPCleanup(&err), 0);
    check_int("after", "start-ups", p_tbase_startups(), 0);
    check_int("after", "open sockets", p_tbase_open_sockets(), 0);

    /* Wine is still initialised (this program's WSAStartup), so only tbase
     * can have closed the handle. */
    check_int("after", "getsockname on the old handle",
              getsockname(s, (struct sockaddr *)&ss, &len), SOCKET_ERROR);
    check_int("after", "error", WSAGetLastError(), WSAENOTSOCK);

    /* Balance the fixture's WSPCleanup. */
    check_int("restart", "WSPStartup", p_WSPStartup(MAKEWORD(2, 2), &data, &entries[TCP4],
                                                    make_upcalls(), &wsp), 0);
}

/* ---- Extension functions, overlapped I/O, readiness --------------------- */

static void test_connectex(void **state)
{
    GUID guid = WSAID_CONNECTEX;
    LPFN_CONNECTEX connect_ex = NULL;
    struct sockaddr_storage laddr, peer;
    WSAOVERLAPPED ov;
    DWORD bytes = SENTINEL, flags = SENTINEL;
    int llen, plen, err = SENTINEL;
    SOCKET l, c, s;

    (void)state;
    l = listen_on(TCP4, &laddr, &llen);
    c = open_socket(TCP4);
    bind_loopback(c, AF_INET);

    check_int("ConnectEx", "WSPIoctl", wsp.lpWSPIoctl(c, SIO_GET_EXTENSION_FUNCTION_POINTER,
                                                      &guid, sizeof(guid), &connect_ex,
                                                      sizeof(connect_ex), &bytes, NULL, NULL,
                                                      NULL, &err), 0);
    check_int("ConnectEx", "bytes returned", bytes, sizeof(connect_ex));
    check_true("ConnectEx", "function pointer", connect_ex != NULL);

    memset(&ov, 0, sizeof(ov));
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    check_true("ConnectEx", "event", ov.hEvent != NULL);
    if (!connect_ex(c, (struct sockaddr *)&laddr, llen, NULL, 0, NULL, &ov))
        check_int("ConnectEx", "pending", WSAGetLastError(), WSA_IO_PENDING);

    bytes = SENTINEL;
    check_int("ConnectEx", "WSPGetOverlappedResult",
              wsp.lpWSPGetOverlappedResult(c, &ov, &bytes, TRUE, &flags, &err), TRUE);
    check_int("ConnectEx", "bytes transferred", bytes, 0);
    check_int("ConnectEx", "SO_UPDATE_CONNECT_CONTEXT",
              wsp.lpWSPSetSockOpt(c, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0, &err), 0);
    plen = peer_name(c, &peer);
    check_same_address("ConnectEx", &peer, plen, &laddr, llen);

    /* An overlapped receive that cannot complete yet reports
     * WSA_IO_INCOMPLETE without waiting. */
    s = accept_one(l);
    {
        char data[8];
        WSABUF buf = { sizeof(data), data };
        DWORD got = SENTINEL, rflags = 0;
        WSAOVERLAPPED rov;

        memset(&rov, 0, sizeof(rov));
        rov.hEvent = ov.hEvent;
        ResetEvent(rov.hEvent);
        err = SENTINEL;
        check_int("overlapped recv", "WSPRecv",
                  wsp.lpWSPRecv(s, &buf, 1, &got, &rflags, &rov, NULL, NULL, &err), SOCKET_ERROR);
        check_int("overlapped recv", "error", err, WSA_IO_PENDING);
        err = SENTINEL;
        check_int("overlapped recv", "not yet",
                  wsp.lpWSPGetOverlappedResult(s, &rov, &got, FALSE, &rflags, &err), FALSE);
        check_int("overlapped recv", "incomplete error", err, WSA_IO_INCOMPLETE);
        send_bytes(c, "late", 4);
        check_int("overlapped recv", "completed",
                  wsp.lpWSPGetOverlappedResult(s, &rov, &got, TRUE, &rflags, &err), TRUE);
        check_int("overlapped recv", "bytes", got, 4);
        check_true("overlapped recv", "contents", !memcmp(data, "late", 4));
    }

    CloseHandle(ov.hEvent);
    close_socket(s);
    close_socket(c);
    close_socket(l);
}

static void test_select_and_events(void **state)
{
    struct sockaddr_storage laddr;
    struct timeval tv = { 5, 0 };
    WSANETWORKEVENTS ne;
    fd_set readfds;
    WSAEVENT ev;
    int llen, err = SENTINEL;
    SOCKET l, c, s;

    (void)state;
    l = listen_on(TCP6, &laddr, &llen);
    c = open_socket(TCP6);
    connect_to(c, &laddr, llen);

    /* A pending connection makes the listener readable. */
    FD_ZERO(&readfds);
    FD_SET(l, &readfds);
    check_int("select", "ready", wsp.lpWSPSelect(0, &readfds, NULL, NULL, &tv, &err), 1);
    check_true("select", "listener readable", FD_ISSET(l, &readfds));
    s = accept_one(l);

    ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    check_true("events", "event", ev != NULL);
    check_int("events", "WSPEventSelect",
              wsp.lpWSPEventSelect(s, ev, FD_READ | FD_CLOSE, &err), 0);
    send_bytes(c, "x", 1);
    check_int("events", "signalled", WaitForSingleObject(ev, 5000), WAIT_OBJECT_0);
    memset(&ne, SENTINEL_BYTE, sizeof(ne));
    check_int("events", "WSPEnumNetworkEvents", wsp.lpWSPEnumNetworkEvents(s, ev, &ne, &err), 0);
    check_true("events", "FD_READ reported", (ne.lNetworkEvents & FD_READ) != 0);
    check_int("events", "FD_READ error", ne.iErrorCode[FD_READ_BIT], 0);
    check_int("events", "WSPEventSelect off", wsp.lpWSPEventSelect(s, NULL, 0, &err), 0);
    CloseHandle(ev);

    close_socket(s);
    close_socket(c);
    close_socket(l);
}

/* ---- Address strings and Wine's stubs ----------------------------------- */

static void test_address_strings(void **state)
{
    struct sockaddr_storage ss;
    WCHAR text[64];
    WCHAR input[] = L"::1";
    WCHAR bad[] = L"not an address";
    DWORD text_len = sizeof(text) / sizeof(text[0]);
    int len, err = SENTINEL;

    (void)state;
    len = loopback(AF_INET, 80, &ss);
    check_int("to string", "WSPAddressToString",
              wsp.lpWSPAddressToString((LPSOCKADDR)&ss, len, &entries[TCP4], text, &text_len,
                                       &err), 0);
    check_true("to string", "text", !wcscmp(text, L"127.0.0.1:80"));
    check_int("to string", "length with terminator", text_len, 13);

    len = sizeof(ss);
    memset(&ss, SENTINEL_BYTE, sizeof(ss));
    check_int("from string", "WSPStringToAddress",
              wsp.lpWSPStringToAddress(input, AF_INET6, &entries[TCP6], (LPSOCKADDR)&ss, &len,
                                       &err), 0);
    check_int("from string", "length", len, sizeof(struct sockaddr_in6));
    check_int("from string", "family", ss.ss_family, AF_INET6);
    check_int("from string", "last address byte",
              ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr[15], 1);

    len = sizeof(ss);
    err = SENTINEL;
    check_int("bad string", "WSPStringToAddress",
              wsp.lpWSPStringToAddress(bad, AF_INET, &entries[TCP4], (LPSOCKADDR)&ss, &len, &err),
              SOCKET_ERROR);
    check_int("bad string", "error", err, WSAEINVAL);
}

/* Wine 8 stubs WSAJoinLeaf and WSAGetQOSByName without setting an error;
 * tbase reports WSAEOPNOTSUPP for them rather than a stale code. */
static void test_wine_stubs(void **state)
{
    struct sockaddr_storage to;
    WSABUF name = { 4, (char *)"none" };
    QOS qos;
    int len, err;
    SOCKET s;

    (void)state;
    s = open_socket(UDP4);
    len = loopback(AF_INET, 9, &to);

    WSASetLastError(WSAEDISCON);   /* a stale code that must not leak */
    err = SENTINEL;
    check_int("WSPJoinLeaf", "result",
              wsp.lpWSPJoinLeaf(s, (struct sockaddr *)&to, len, NULL, NULL, NULL, NULL,
                                JL_BOTH, &err), INVALID_SOCKET);
    check_int("WSPJoinLeaf", "error", err, WSAEOPNOTSUPP);

    WSASetLastError(WSAEDISCON);
    err = SENTINEL;
    check_int("WSPGetQOSByName", "result", wsp.lpWSPGetQOSByName(s, &name, &qos, &err), FALSE);
    check_int("WSPGetQOSByName", "error", err, WSAEOPNOTSUPP);

    check_int("stubs", "open sockets", p_tbase_open_sockets(), 1);
    close_socket(s);
}

/* ---- Threads ------------------------------------------------------------ */

#define THREADS 4
#define ROUNDS 100

static volatile LONG thread_failures;

static DWORD WINAPI socket_churn(void *arg)
{
    int entry = (int)(INT_PTR)arg;
    int i;

    for (i = 0; i < ROUNDS; i++) {
        int err = 0;
        SOCKET s = wsp.lpWSPSocket(0, 0, 0, &entries[entry], 0, WSA_FLAG_OVERLAPPED, &err);

        if (s == INVALID_SOCKET || bound_id(s) != entries[entry].dwCatalogEntryId) {
            InterlockedIncrement(&thread_failures);
            continue;
        }
        if (wsp.lpWSPCloseSocket(s, &err) != 0)
            InterlockedIncrement(&thread_failures);
    }
    return 0;
}

static void test_threads(void **state)
{
    HANDLE threads[THREADS];
    int i;

    (void)state;
    p_tbase_reset_calls();
    thread_failures = 0;
    for (i = 0; i < THREADS; i++) {
        threads[i] = CreateThread(NULL, 0, socket_churn, (void *)(INT_PTR)(i % ENTRY_COUNT), 0,
                                  NULL);
        check_true("threads", "CreateThread", threads[i] != NULL);
    }
    check_int("threads", "wait", WaitForMultipleObjects(THREADS, threads, TRUE, 60000),
              WAIT_OBJECT_0);
    for (i = 0; i < THREADS; i++)
        CloseHandle(threads[i]);
    check_int("threads", "failures", thread_failures, 0);
    check_int("threads", "WSPSocket calls", p_tbase_calls("WSPSocket"), THREADS * ROUNDS);
    check_int("threads", "WSPCloseSocket calls", p_tbase_calls("WSPCloseSocket"),
              THREADS * ROUNDS);
    check_int("threads", "open sockets", p_tbase_open_sockets(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_startup_versions),
        cmocka_unit_test(test_startup_bad_arguments),
        cmocka_unit_test(test_startup_reference_count),
        cmocka_unit_test(test_fail_next_startup),
        cmocka_unit_test_setup_teardown(test_call_counters, start_tbase, stop_tbase),
        cmocka_unit_test_setup_teardown(test_socket_registration, start_tbase, stop_tbase),
        cmocka_unit_test_setup_teardown(test_socket_errors, start_tbase, stop_tbase),
        cmocka_unit_test_setup_teardown(test_registration_failure, start_tbase, stop_tbase),
        cmocka_unit_test_setup_teardown(test_tcp_loopback, start_tbase, stop_tbase),
        cmocka_unit_test_setup_teardown(test_udp_connect, start_tbase, stop_tbase),
        cmocka_unit_test_setup_teardown(test_getpeername_not_connected, start_tbase, stop_tbase),
        cmocka_unit_test_setup_teardown(test_name_faults, start_tbase, stop_tbase),
        cmocka_unit_test_setup_teardown(test_duplicate_to_self, start_tbase, stop_tbase),
        cmocka_unit_test_setup_teardown(test_last_cleanup_closes_sockets, start_tbase,
                                        stop_tbase),
        cmocka_unit_test_setup_teardown(test_connectex, start_tbase, stop_tbase),
        cmocka_unit_test_setup_teardown(test_select_and_events, start_tbase, stop_tbase),
        cmocka_unit_test_setup_teardown(test_address_strings, start_tbase, stop_tbase),
        cmocka_unit_test_setup_teardown(test_wine_stubs, start_tbase, stop_tbase),
        cmocka_unit_test_setup_teardown(test_threads, start_tbase, stop_tbase),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
