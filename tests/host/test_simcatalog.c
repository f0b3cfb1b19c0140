/*
 * test_simcatalog.c - the simulated catalog against the WSC contracts.
 *
 * Every documented error of every function, table-driven (a failing row
 * names itself), with outputs pre-filled with sentinels so that "written"
 * and "left alone" can be told apart, and a snapshot of the catalog taken
 * before each failing call to show that a failure changes nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include <cmocka.h>

#include "simcatalog.h"

#define SENTINEL 0xdeadbeef
#define ERR_SENTINEL ((int)SENTINEL)

/* Fails with the row's name and both values. */
#define check_int(row, got, want)                                                      \
    do {                                                                               \
        long long got_ = (long long)(got), want_ = (long long)(want);                 \
        if (got_ != want_)                                                             \
            fail_msg("%s: %s: got %lld (0x%llx), expected %lld (0x%llx)", (row), #got, got_, \
                     (unsigned long long)got_, want_, (unsigned long long)want_);     \
    } while (0)

static GUID guid_a = { 0x11111111, 0x1111, 0x1111, { 1, 1, 1, 1, 1, 1, 1, 1 } };
static GUID guid_b = { 0x22222222, 0x2222, 0x2222, { 2, 2, 2, 2, 2, 2, 2, 2 } };
static GUID guid_c = { 0x33333333, 0x3333, 0x3333, { 3, 3, 3, 3, 3, 3, 3, 3 } };
static GUID guid_unknown = { 0x99999999, 0x9999, 0x9999, { 9, 9, 9, 9, 9, 9, 9, 9 } };

static const WCHAR path_a[] = L"%SystemRoot%\\system32\\a.dll";
static const WCHAR path_b[] = L"Z:\\tests\\b.dll";
static const WCHAR path_c[] = L"C:\\c.dll";

static WSAPROTOCOL_INFOW make_entry(int af, int type, int protocol, int chain_len,
                                    const WCHAR *name)
{
    WSAPROTOCOL_INFOW e;
    memset(&e, 0, sizeof e);
    e.dwServiceFlags1 = XP1_IFS_HANDLES | XP1_GUARANTEED_DELIVERY;
    e.dwProviderFlags = type ? PFL_MATCHES_PROTOCOL_ZERO : 0;
    e.ProviderId = guid_unknown; /* install must overwrite it */
    e.dwCatalogEntryId = SENTINEL; /* likewise */
    e.ProtocolChain.ChainLen = chain_len;
    e.iVersion = 2;
    e.iAddressFamily = af;
    e.iMaxSockAddr = af == AF_INET6 ? 28 : 16;
    e.iMinSockAddr = af == AF_INET6 ? 28 : 16;
    e.iSocketType = type;
    e.iProtocol = protocol;
    e.dwMessageSize = type == SOCK_DGRAM ? 65507 : 0;
    wcsncpy(e.szProtocol, name, WSAPROTOCOL_LEN);
    return e;
}

/* Catalog: A = [tcp4, udp4] base, B = [layered (hidden), chain over tcp4],
 * C = [tcp6] base with PFL_HIDDEN. Ids 1001..1005. */
static struct simcat *make_catalog(void)
{
    struct simcat *cat = simcat_create();
    assert_non_null(cat);
    WSAPROTOCOL_INFOW a[2] = { make_entry(AF_INET, SOCK_STREAM, IPPROTO_TCP, 1, L"tcp4"),
                               make_entry(AF_INET, SOCK_DGRAM, IPPROTO_UDP, 1, L"udp4") };
    WSAPROTOCOL_INFOW b[2] = {
        make_entry(AF_INET, 0, 0, 0, L"layer"),
        make_entry(AF_INET, SOCK_STREAM, IPPROTO_TCP, 2, L"layer over tcp4"),
    };
    WSAPROTOCOL_INFOW c = make_entry(AF_INET6, SOCK_STREAM, IPPROTO_TCP, 1, L"tcp6");
    b[0].dwProviderFlags |= PFL_HIDDEN;
    b[1].ProtocolChain.ChainEntries[0] = 1003;
    b[1].ProtocolChain.ChainEntries[1] = 1001;
    c.dwProviderFlags |= PFL_HIDDEN;
    int err = ERR_SENTINEL;
    assert_int_equal(simcat_install(cat, &guid_a, path_a, a, 2, NULL, &err), 0);
    assert_int_equal(simcat_install(cat, &guid_b, path_b, b, 2, NULL, &err), 0);
    assert_int_equal(simcat_install(cat, &guid_c, path_c, &c, 1, NULL, &err), 0);
    assert_int_equal(err, ERR_SENTINEL); /* success leaves lpErrno alone */
    return cat;
}

/* The whole catalog (at most 16 entries) and its count. */
static int read_all(const struct simcat *cat, WSAPROTOCOL_INFOW out[16])
{
    DWORD len = 16 * sizeof(WSAPROTOCOL_INFOW);
    int err = ERR_SENTINEL;
    int n = simcat_enum(cat, NULL, out, &len, &err);
    assert_int_not_equal(n, SOCKET_ERROR);
    return n;
}

static void check_ids(const char *row, const struct simcat *cat, const DWORD *ids, int n)
{
    WSAPROTOCOL_INFOW all[16];
    check_int(row, read_all(cat, all), n);
    for (int i = 0; i < n; i++)
        check_int(row, all[i].dwCatalogEntryId, ids[i]);
}

/* ---- create / install ---------------------------------------------------- */

static void test_empty_catalog(void **state)
{
    (void)state;
    struct simcat *cat = simcat_create();
    assert_non_null(cat);
    assert_int_equal(simcat_count(cat), 0);
    DWORD len = SENTINEL;
    int err = ERR_SENTINEL;
    assert_int_equal(simcat_enum(cat, NULL, NULL, &len, &err), 0);
    assert_int_equal(len, SENTINEL);
    assert_int_equal(err, ERR_SENTINEL);
    simcat_destroy(cat);
}

static void test_install_assigns_ids_in_order(void **state)
{
    (void)state;
    struct simcat *cat = simcat_create();
    WSAPROTOCOL_INFOW a[2] = { make_entry(AF_INET, SOCK_STREAM, IPPROTO_TCP, 1, L"tcp4"),
                               make_entry(AF_INET, 0, 0, 0, L"layer") };
    a[1].ProtocolChain.ChainEntries[0] = 4242; /* layered: stored as given */
    DWORD ids[3] = { SENTINEL, SENTINEL, SENTINEL };
    int err = ERR_SENTINEL;
    assert_int_equal(simcat_install(cat, &guid_a, path_a, a, 2, ids, &err), 0);
    assert_int_equal(ids[0], SIMCAT_FIRST_ID);
    assert_int_equal(ids[1], SIMCAT_FIRST_ID + 1);
    assert_int_equal(ids[2], SENTINEL); /* only dwNumberOfEntries written */

    WSAPROTOCOL_INFOW b = make_entry(AF_INET6, SOCK_DGRAM, IPPROTO_UDP, 1, L"udp6");
    assert_int_equal(simcat_install(cat, &guid_b, path_b, &b, 1, ids, &err), 0);
    assert_int_equal(ids[0], 1003);

    WSAPROTOCOL_INFOW all[16];
    assert_int_equal(read_all(cat, all), 3);
    static const DWORD want_ids[3] = { 1001, 1002, 1003 };
    check_ids("order", cat, want_ids, 3);
    assert_true(IsEqualGUID(&all[0].ProviderId, &guid_a));
    assert_true(IsEqualGUID(&all[1].ProviderId, &guid_a));
    assert_true(IsEqualGUID(&all[2].ProviderId, &guid_b));
    /* A base entry is chained to itself; a layered one is left as given. */
    assert_int_equal(all[0].ProtocolChain.ChainEntries[0], 1001);
    assert_int_equal(all[1].ProtocolChain.ChainEntries[0], 4242);
    assert_int_equal(all[2].ProtocolChain.ChainEntries[0], 1003);
    assert_true(!wcscmp(all[2].szProtocol, L"udp6"));
    assert_int_equal(all[2].dwMessageSize, 65507);
    simcat_destroy(cat);
}

static void test_install_errors(void **state)
{
    (void)state;
    WCHAR long_path[MAX_PATH + 1];
    for (int i = 0; i < MAX_PATH; i++)
        long_path[i] = L'x';
    long_path[MAX_PATH] = 0;
    WSAPROTOCOL_INFOW good = make_entry(AF_INET, SOCK_STREAM, IPPROTO_TCP, 1, L"tcp");
    WSAPROTOCOL_INFOW long_chain = make_entry(AF_INET, SOCK_STREAM, IPPROTO_TCP, 8, L"x");
    WSAPROTOCOL_INFOW neg_chain = make_entry(AF_INET, SOCK_STREAM, IPPROTO_TCP, -1, L"x");
    const struct {
        const char *row;
        GUID *guid;
        const WCHAR *path;
        const WSAPROTOCOL_INFOW *list;
        DWORD n;
        int err;
    } rows[] = {
        { "NULL GUID", NULL, path_c, &good, 1, WSAEFAULT },
        { "NULL path", &guid_unknown, NULL, &good, 1, WSAEFAULT },
        { "NULL list", &guid_unknown, path_c, NULL, 1, WSAEFAULT },
        { "no entries", &guid_unknown, path_c, &good, 0, WSAEINVAL },
        { "empty path", &guid_unknown, L"", &good, 1, WSAEINVAL },
        { "path of MAX_PATH chars", &guid_unknown, long_path, &good, 1, WSAEINVAL },
        { "ChainLen 8", &guid_unknown, path_c, &long_chain, 1, WSAEINVAL },
        { "ChainLen -1", &guid_unknown, path_c, &neg_chain, 1, WSAEINVAL },
        { "duplicate GUID", &guid_b, path_c, &good, 1, WSANO_RECOVERY },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct simcat *cat = make_catalog(), *before = simcat_clone(cat);
        DWORD ids[1] = { SENTINEL };
        int err = ERR_SENTINEL;
        check_int(rows[i].row,
                  simcat_install(cat, rows[i].guid, rows[i].path, rows[i].list, rows[i].n, ids,
                                 &err),
                  SOCKET_ERROR);
        check_int(rows[i].row, err, rows[i].err);
        check_int(rows[i].row, ids[0], SENTINEL);
        check_int(rows[i].row, simcat_equal(cat, before), 1);
        simcat_destroy(before);
        simcat_destroy(cat);
    }
}

/* ---- enumerating ----------------------------------------------------------- */

static void test_enum_all_and_visible(void **state)
{
    (void)state;
    struct simcat *cat = make_catalog();
    WSAPROTOCOL_INFOW buf[8];
    DWORD len = sizeof buf;
    int err = ERR_SENTINEL;
    assert_int_equal(simcat_enum(cat, NULL, buf, &len, &err), 5);
    static const DWORD all_ids[5] = { 1001, 1002, 1003, 1004, 1005 };
    check_ids("all", cat, all_ids, 5);

    /* WSAEnumProtocols: no layered entry, no PFL_HIDDEN entry. */
    memset(buf, 0xcc, sizeof buf);
    len = sizeof buf;
    assert_int_equal(simcat_enum_visible(cat, NULL, buf, &len, &err), 3);
    assert_int_equal(buf[0].dwCatalogEntryId, 1001);
    assert_int_equal(buf[1].dwCatalogEntryId, 1002);
    assert_int_equal(buf[2].dwCatalogEntryId, 1004);
    assert_int_equal(buf[3].dwCatalogEntryId, 0xcccccccc); /* nothing beyond */
    assert_int_equal(err, ERR_SENTINEL);

    /* lpiProtocols filters on iProtocol. */
    INT udp_only[] = { IPPROTO_UDP, 0 };
    len = sizeof buf;
    assert_int_equal(simcat_enum(cat, udp_only, buf, &len, &err), 1);
    assert_int_equal(buf[0].dwCatalogEntryId, 1002);
    INT tcp[] = { IPPROTO_TCP, 0 };
    len = sizeof buf;
    assert_int_equal(simcat_enum_visible(cat, tcp, buf, &len, &err), 2);
    assert_int_equal(buf[0].dwCatalogEntryId, 1001);
    assert_int_equal(buf[1].dwCatalogEntryId, 1004);
    simcat_destroy(cat);
}

static void test_enum_errors(void **state)
{
    (void)state;
    struct simcat *cat = make_catalog();
    WSAPROTOCOL_INFOW buf[8];
    const DWORD all = 5 * sizeof(WSAPROTOCOL_INFOW), visible = 3 * sizeof(WSAPROTOCOL_INFOW);
    const struct {
        const char *row;
        int visible;
        WSAPROTOCOL_INFOW *buffer;
        DWORD len_in;
        int null_len;
        int ret, err;
        DWORD len_out;
    } rows[] = {
        { "size query", 0, NULL, 0, 0, SOCKET_ERROR, WSAENOBUFS, all },
        { "one short", 0, buf, all - 1, 0, SOCKET_ERROR, WSAENOBUFS, all },
        { "visible size query", 1, NULL, 0, 0, SOCKET_ERROR, WSAENOBUFS, visible },
        { "visible one short", 1, buf, visible - 1, 0, SOCKET_ERROR, WSAENOBUFS, visible },
        { "NULL length", 0, buf, 0, 1, SOCKET_ERROR, WSAEFAULT, SENTINEL },
        /* No buffer is a size query even when the length would do (Wine's
         * protocol.c, as on Windows). */
        { "NULL buffer, length enough", 0, NULL, all, 0, SOCKET_ERROR, WSAENOBUFS, all },
        { "NULL buffer, length too much", 1, NULL, all, 0, SOCKET_ERROR, WSAENOBUFS, visible },
        { "exact size", 0, buf, all, 0, 5, SENTINEL, all },
        { "visible exact size", 1, buf, visible, 0, 3, SENTINEL, visible },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        DWORD len = rows[i].len_in;
        int err = ERR_SENTINEL;
        memset(buf, 0xcc, sizeof buf);
        LPDWORD plen = rows[i].null_len ? NULL : &len;
        int ret = rows[i].visible ? simcat_enum_visible(cat, NULL, rows[i].buffer, plen, &err)
                                  : simcat_enum(cat, NULL, rows[i].buffer, plen, &err);
        check_int(rows[i].row, ret, rows[i].ret);
        check_int(rows[i].row, err, rows[i].err);
        if (!rows[i].null_len)
            check_int(rows[i].row, len, rows[i].len_out == SENTINEL ? rows[i].len_in
                                                                   : rows[i].len_out);
        if (ret == SOCKET_ERROR)
            check_int(rows[i].row, buf[0].dwCatalogEntryId, 0xcccccccc);
    }
    simcat_destroy(cat);
}

/* ---- WSCGetProviderPath ---------------------------------------------------- */

static void test_get_path(void **state)
{
    (void)state;
    struct simcat *cat = make_catalog();
    const int need = (int)wcslen(path_a) + 1;
    WCHAR buf[MAX_PATH];
    const struct {
        const char *row;
        GUID *guid;
        int buffer, null_len;
        int len_in;
        int ret, err, len_out;
    } rows[] = {
        { "unknown GUID", &guid_unknown, 1, 0, MAX_PATH, SOCKET_ERROR, WSAEINVAL, MAX_PATH },
        { "NULL GUID", NULL, 1, 0, MAX_PATH, SOCKET_ERROR, WSAEFAULT, MAX_PATH },
        { "NULL length", &guid_a, 1, 1, 0, SOCKET_ERROR, WSAEFAULT, 0 },
        { "NULL buffer", &guid_a, 0, 0, MAX_PATH, SOCKET_ERROR, WSAEFAULT, need },
        { "size query", &guid_a, 0, 0, 0, SOCKET_ERROR, WSAEFAULT, need },
        { "one short", &guid_a, 1, 0, need - 1, SOCKET_ERROR, WSAEFAULT, need },
        { "negative length", &guid_a, 1, 0, -1, SOCKET_ERROR, WSAEFAULT, need },
        { "exact", &guid_a, 1, 0, need, 0, SENTINEL, need },
        { "roomy", &guid_a, 1, 0, MAX_PATH, 0, SENTINEL, need },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int len = rows[i].len_in, err = ERR_SENTINEL;
        for (int k = 0; k < MAX_PATH; k++)
            buf[k] = 0xcccc;
        int ret = simcat_get_path(cat, rows[i].guid, rows[i].buffer ? buf : NULL,
                                  rows[i].null_len ? NULL : &len, &err);
        check_int(rows[i].row, ret, rows[i].ret);
        check_int(rows[i].row, err, rows[i].err);
        if (!rows[i].null_len)
            check_int(rows[i].row, len, rows[i].len_out);
        if (ret == 0) {
            /* Stored unexpanded, written with its NUL and nothing after. */
            check_int(rows[i].row, wcscmp(buf, path_a), 0);
            check_int(rows[i].row, buf[need], 0xcccc);
        } else {
            check_int(rows[i].row, buf[0], 0xcccc);
        }
    }
    simcat_destroy(cat);
}

/* ---- WSCDeinstallProvider ------------------------------------------------- */

static void test_deinstall(void **state)
{
    (void)state;
    struct simcat *cat = make_catalog();
    int err = ERR_SENTINEL;
    assert_int_equal(simcat_deinstall(cat, &guid_b, &err), 0);
    assert_int_equal(err, ERR_SENTINEL);
    static const DWORD left[3] = { 1001, 1002, 1005 };
    check_ids("after deinstall", cat, left, 3);
    int len = MAX_PATH;
    WCHAR buf[MAX_PATH];
    assert_int_equal(simcat_get_path(cat, &guid_b, buf, &len, &err), SOCKET_ERROR);
    assert_int_equal(err, WSAEINVAL);

    /* Ids are not reused: the counter goes on. */
    WSAPROTOCOL_INFOW e = make_entry(AF_INET, SOCK_STREAM, IPPROTO_TCP, 1, L"again");
    DWORD id = SENTINEL;
    assert_int_equal(simcat_install(cat, &guid_b, path_b, &e, 1, &id, &err), 0);
    assert_int_equal(id, 1006);
    simcat_destroy(cat);
}

static void test_deinstall_errors(void **state)
{
    (void)state;
    const struct {
        const char *row;
        GUID *guid;
        int err;
    } rows[] = {
        { "NULL GUID", NULL, WSAEFAULT },
        { "unknown GUID", &guid_unknown, WSAEINVAL },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct simcat *cat = make_catalog(), *before = simcat_clone(cat);
        int err = ERR_SENTINEL;
        check_int(rows[i].row, simcat_deinstall(cat, rows[i].guid, &err), SOCKET_ERROR);
        check_int(rows[i].row, err, rows[i].err);
        check_int(rows[i].row, simcat_equal(cat, before), 1);
        simcat_destroy(before);
        simcat_destroy(cat);
    }
}

/* ---- WSCUpdateProvider ----------------------------------------------------- */

static void test_update_in_place(void **state)
{
    (void)state;
    struct simcat *cat = make_catalog();
    WSAPROTOCOL_INFOW all[16];
    read_all(cat, all);
    /* Rewrite the chain (1004) to point at udp4 instead, as an uninstaller
     * rewriting a chain would; the layered entry (1003) is not named. */
    WSAPROTOCOL_INFOW chain = all[3];
    chain.ProtocolChain.ChainEntries[1] = 1002;
    chain.iSocketType = SOCK_DGRAM;
    chain.ProviderId = guid_unknown; /* forced back to the GUID */
    wcscpy(chain.szProtocol, L"layer over udp4");
    int err = ERR_SENTINEL;
    assert_int_equal(simcat_update(cat, &guid_b, L"Z:\\new\\b.dll", &chain, 1, &err), 0);
    assert_int_equal(err, ERR_SENTINEL);

    WSAPROTOCOL_INFOW now[16];
    assert_int_equal(read_all(cat, now), 5);
    static const DWORD same_ids[5] = { 1001, 1002, 1003, 1004, 1005 };
    check_ids("ids and order kept", cat, same_ids, 5);
    assert_int_equal(now[3].ProtocolChain.ChainEntries[1], 1002);
    assert_int_equal(now[3].iSocketType, SOCK_DGRAM);
    assert_true(IsEqualGUID(&now[3].ProviderId, &guid_b));
    assert_true(!wcscmp(now[3].szProtocol, L"layer over udp4"));
    assert_true(!memcmp(&now[2], &all[2], sizeof now[2])); /* not named: as it was */
    WCHAR path[MAX_PATH];
    int len = MAX_PATH;
    assert_int_equal(simcat_get_path(cat, &guid_b, path, &len, &err), 0);
    assert_true(!wcscmp(path, L"Z:\\new\\b.dll"));

    /* A base entry stays chained to itself. */
    WSAPROTOCOL_INFOW base = now[0];
    base.ProtocolChain.ChainEntries[0] = 7;
    assert_int_equal(simcat_update(cat, &guid_a, path_a, &base, 1, &err), 0);
    read_all(cat, now);
    assert_int_equal(now[0].ProtocolChain.ChainEntries[0], 1001);
    simcat_destroy(cat);
}

static void test_update_errors(void **state)
{
    (void)state;
    struct simcat *model = make_catalog();
    WSAPROTOCOL_INFOW all[16];
    read_all(model, all);
    simcat_destroy(model);
    WSAPROTOCOL_INFOW b_both[2] = { all[2], all[3] };
    WSAPROTOCOL_INFOW b_twice[2] = { all[3], all[3] };
    WSAPROTOCOL_INFOW other_guid = all[0]; /* 1001 belongs to A */
    WSAPROTOCOL_INFOW no_such_id = all[3];
    no_such_id.dwCatalogEntryId = 4711;
    WSAPROTOCOL_INFOW bad_chain = all[3];
    bad_chain.ProtocolChain.ChainLen = MAX_PROTOCOL_CHAIN + 1;
    const struct {
        const char *row;
        GUID *guid;
        const WCHAR *path;
        const WSAPROTOCOL_INFOW *list;
        DWORD n;
        int err;
    } rows[] = {
        { "NULL GUID", NULL, path_b, b_both, 2, WSAEFAULT },
        { "NULL path", &guid_b, NULL, b_both, 2, WSAEFAULT },
        { "NULL list", &guid_b, path_b, NULL, 2, WSAEFAULT },
        { "unknown GUID", &guid_unknown, path_b, b_both, 2, WSAEINVAL },
        { "no entries", &guid_b, path_b, b_both, 0, WSAEINVAL },
        { "entry of another GUID", &guid_b, path_b, &other_guid, 1, WSAEINVAL },
        { "unknown id", &guid_b, path_b, &no_such_id, 1, WSAEINVAL },
        { "id named twice", &guid_b, path_b, b_twice, 2, WSAEINVAL },
        { "empty path", &guid_b, L"", b_both, 2, WSAEINVAL },
        { "ChainLen 8", &guid_b, path_b, &bad_chain, 1, WSAEINVAL },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct simcat *cat = make_catalog(), *before = simcat_clone(cat);
        int err = ERR_SENTINEL;
        check_int(rows[i].row,
                  simcat_update(cat, rows[i].guid, rows[i].path, rows[i].list, rows[i].n, &err),
                  SOCKET_ERROR);
        check_int(rows[i].row, err, rows[i].err);
        check_int(rows[i].row, simcat_equal(cat, before), 1);
        simcat_destroy(before);
        simcat_destroy(cat);
    }
}

/* ---- WSCWriteProviderOrder ------------------------------------------------ */

static void test_write_order(void **state)
{
    (void)state;
    struct simcat *cat = make_catalog();
    DWORD order[5] = { 1004, 1001, 1005, 1002, 1003 };
    assert_int_equal(simcat_write_order(cat, order, 5), 0);
    check_ids("reordered", cat, order, 5);
    /* New entries still go to the end. */
    WSAPROTOCOL_INFOW e = make_entry(AF_INET, SOCK_RAW, 0, 1, L"raw");
    int err = ERR_SENTINEL;
    DWORD id = SENTINEL;
    assert_int_equal(simcat_install(cat, &guid_unknown, path_c, &e, 1, &id, &err), 0);
    DWORD after[6] = { 1004, 1001, 1005, 1002, 1003, 1006 };
    check_ids("appended", cat, after, 6);
    simcat_destroy(cat);
}

static void test_write_order_errors(void **state)
{
    (void)state;
    DWORD short_list[4] = { 1001, 1002, 1003, 1004 };
    DWORD long_list[6] = { 1001, 1002, 1003, 1004, 1005, 1005 };
    DWORD unknown[5] = { 1001, 1002, 1003, 1004, 4711 };
    DWORD repeated[5] = { 1001, 1002, 1003, 1004, 1004 };
    const struct {
        const char *row;
        DWORD *ids;
        DWORD n;
    } rows[] = {
        { "NULL list", NULL, 5 },   { "one id missing", short_list, 4 },
        { "one too many", long_list, 6 }, { "unknown id", unknown, 5 },
        { "id twice", repeated, 5 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct simcat *cat = make_catalog(), *before = simcat_clone(cat);
        check_int(rows[i].row, simcat_write_order(cat, rows[i].ids, rows[i].n), WSAEINVAL);
        check_int(rows[i].row, simcat_equal(cat, before), 1);
        simcat_destroy(before);
        simcat_destroy(cat);
    }
}

/* ---- WSCGetProviderInfo / WSCSetProviderInfo ------------------------------- */

static void test_provider_info(void **state)
{
    (void)state;
    struct simcat *cat = make_catalog();
    DWORD cats = SENTINEL;
    size_t size = sizeof cats;
    int err = ERR_SENTINEL;
    assert_int_equal(simcat_get_provider_info(cat, &guid_b, ProviderInfoLspCategories,
                                              (PBYTE)&cats, &size, 0, &err),
                     0);
    assert_int_equal(cats, 0); /* uncategorized until set */
    assert_int_equal(size, sizeof(DWORD));
    DWORD set = LSP_SYSTEM | LSP_INSPECTOR;
    assert_int_equal(simcat_set_provider_info(cat, &guid_b, ProviderInfoLspCategories,
                                              (PBYTE)&set, sizeof set, 0, &err),
                     0);
    cats = SENTINEL;
    assert_int_equal(simcat_get_provider_info(cat, &guid_b, ProviderInfoLspCategories,
                                              (PBYTE)&cats, &size, 0, &err),
                     0);
    assert_int_equal(cats, LSP_SYSTEM | LSP_INSPECTOR);
    assert_int_equal(err, ERR_SENTINEL);

    struct simcat *other = make_catalog();
    assert_int_equal(simcat_equal(cat, other), 0); /* categories are compared */
    simcat_destroy(other);
    simcat_destroy(cat);
}

static void test_provider_info_errors(void **state)
{
    (void)state;
    DWORD value = 1;
    const struct {
        const char *row;
        int set;
        GUID *guid;
        WSC_PROVIDER_INFO_TYPE type;
        int null_info, null_size;
        size_t size;
        DWORD flags;
        int err;
        size_t size_out;
    } rows[] = {
        { "get NULL GUID", 0, NULL, ProviderInfoLspCategories, 0, 0, 4, 0, WSAEFAULT, 4 },
        { "get NULL InfoSize", 0, &guid_a, ProviderInfoLspCategories, 0, 1, 4, 0, WSAEFAULT, 0 },
        /* An unknown provider comes before every other check (Wine's
         * protocol.c, as on Windows). */
        { "get unknown GUID", 0, &guid_unknown, ProviderInfoLspCategories, 0, 0, 4, 0,
          WSANO_RECOVERY, 4 },
        { "get unknown GUID, bad type", 0, &guid_unknown, (WSC_PROVIDER_INFO_TYPE)-1, 0, 0, 4, 0,
          WSANO_RECOVERY, 4 },
        { "get unknown GUID, NULL Info", 0, &guid_unknown, ProviderInfoLspCategories, 1, 0, 4, 0,
          WSANO_RECOVERY, 4 },
        { "get unknown GUID, NULL InfoSize", 0, &guid_unknown, ProviderInfoLspCategories, 0, 1,
          4, 0, WSANO_RECOVERY, 0 },
        { "get unknown GUID, size 0", 0, &guid_unknown, ProviderInfoLspCategories, 0, 0, 0, 0,
          WSANO_RECOVERY, 0 },
        { "get NULL Info", 0, &guid_a, ProviderInfoLspCategories, 1, 0, 4, 0, WSAEFAULT, 4 },
        { "get size query", 0, &guid_a, ProviderInfoLspCategories, 1, 0, 0, 0, WSAEFAULT, 4 },
        { "get short", 0, &guid_a, ProviderInfoLspCategories, 0, 0, 3, 0, WSAEFAULT, 4 },
        { "get audit", 0, &guid_a, ProviderInfoAudit, 0, 0, 4, 0, ERROR_CALL_NOT_IMPLEMENTED, 4 },
        { "get bad type", 0, &guid_a, (WSC_PROVIDER_INFO_TYPE)7, 0, 0, 4, 0, WSAEINVAL, 4 },
        { "get flags", 0, &guid_a, ProviderInfoLspCategories, 0, 0, 4, 1, WSAEINVAL, 4 },
        { "set NULL GUID", 1, NULL, ProviderInfoLspCategories, 0, 0, 4, 0, WSAEFAULT, 0 },
        { "set NULL Info", 1, &guid_a, ProviderInfoLspCategories, 1, 0, 4, 0, WSAEFAULT, 0 },
        { "set unknown GUID", 1, &guid_unknown, ProviderInfoLspCategories, 0, 0, 4, 0,
          WSAEINVALIDPROVIDER, 0 },
        { "set wrong size", 1, &guid_a, ProviderInfoLspCategories, 0, 0, 2, 0, WSAEINVAL, 0 },
        { "set audit", 1, &guid_a, ProviderInfoAudit, 0, 0, 4, 0, ERROR_CALL_NOT_IMPLEMENTED, 0 },
        { "set flags", 1, &guid_a, ProviderInfoLspCategories, 0, 0, 4, 1, WSAEINVAL, 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct simcat *cat = make_catalog(), *before = simcat_clone(cat);
        int err = ERR_SENTINEL;
        DWORD info = SENTINEL;
        size_t size = rows[i].size;
        PBYTE pinfo = rows[i].null_info ? NULL : rows[i].set ? (PBYTE)&value : (PBYTE)&info;
        int ret = rows[i].set
                      ? simcat_set_provider_info(cat, rows[i].guid, rows[i].type, pinfo,
                                                 rows[i].size, rows[i].flags, &err)
                      : simcat_get_provider_info(cat, rows[i].guid, rows[i].type, pinfo,
                                                 rows[i].null_size ? NULL : &size,
                                                 rows[i].flags, &err);
        check_int(rows[i].row, ret, SOCKET_ERROR);
        check_int(rows[i].row, err, rows[i].err);
        check_int(rows[i].row, info, SENTINEL);
        if (!rows[i].set && !rows[i].null_size)
            check_int(rows[i].row, size, rows[i].size_out);
        check_int(rows[i].row, simcat_equal(cat, before), 1);
        simcat_destroy(before);
        simcat_destroy(cat);
    }
}

/* ---- fault injection ------------------------------------------------------- */

static void test_fault_injection(void **state)
{
    (void)state;
    struct simcat *cat = make_catalog();
    WSAPROTOCOL_INFOW e = make_entry(AF_INET, SOCK_RAW, 0, 1, L"raw");
    DWORD id = SENTINEL;
    int err = ERR_SENTINEL;

    /* The 4th mutating call from now fails: an install and a deinstall that
     * work, a deinstall that fails on its own (it still counts), then the
     * victim. */
    simcat_fail_call(cat, 4, WSANO_RECOVERY);
    assert_int_equal(simcat_install(cat, &guid_unknown, path_c, &e, 1, &id, &err), 0);
    assert_int_equal(id, 1006);
    assert_int_equal(simcat_deinstall(cat, &guid_c, NULL), 0); /* NULL lpErrno is fine */
    assert_int_equal(simcat_deinstall(cat, &guid_c, &err), SOCKET_ERROR);
    assert_int_equal(err, WSAEINVAL);
    struct simcat *before = simcat_clone(cat);
    err = ERR_SENTINEL;
    assert_int_equal(simcat_deinstall(cat, &guid_a, &err), SOCKET_ERROR);
    assert_int_equal(err, WSANO_RECOVERY);
    assert_int_equal(simcat_equal(cat, before), 1);
    /* Disarmed: the same call now works. */
    assert_int_equal(simcat_deinstall(cat, &guid_a, &err), 0);

    /* WriteProviderOrder reports the injected error as its return value. */
    DWORD order[2] = { 1004, 1003 };
    simcat_fail_call(cat, 1, WSA_NOT_ENOUGH_MEMORY);
    assert_int_equal(simcat_write_order(cat, order, 2), WSA_NOT_ENOUGH_MEMORY);
    assert_int_equal(simcat_write_order(cat, order, 2), WSAEINVAL); /* 1006 missing */

    /* update and set_provider_info are mutating calls too. */
    WSAPROTOCOL_INFOW all[16];
    read_all(cat, all);
    simcat_fail_call(cat, 2, WSAEACCES);
    DWORD cats = LSP_SYSTEM;
    assert_int_equal(simcat_set_provider_info(cat, &guid_b, ProviderInfoLspCategories,
                                              (PBYTE)&cats, sizeof cats, 0, &err),
                     0);
    err = ERR_SENTINEL;
    assert_int_equal(simcat_update(cat, &guid_b, path_b, &all[0], 1, &err), SOCKET_ERROR);
    assert_int_equal(err, WSAEACCES);

    /* Reads do not count; n <= 0 disarms; clones do not inherit it. */
    simcat_fail_call(cat, 1, WSAEACCES);
    DWORD len = sizeof all;
    assert_int_equal(simcat_enum(cat, NULL, all, &len, &err), 3);
    struct simcat *copy = simcat_clone(cat);
    assert_int_equal(simcat_deinstall(copy, &guid_b, &err), 0);
    simcat_fail_call(cat, 0, WSAEACCES);
    assert_int_equal(simcat_deinstall(cat, &guid_b, &err), 0);
    simcat_destroy(copy);
    simcat_destroy(before);
    simcat_destroy(cat);
}

/* ---- clone / equal --------------------------------------------------------- */

static void test_clone_and_equal(void **state)
{
    (void)state;
    struct simcat *cat = make_catalog(), *copy = simcat_clone(cat);
    assert_non_null(copy);
    assert_int_equal(simcat_equal(cat, copy), 1);
    assert_int_equal(simcat_equal(cat, cat), 1);

    /* The copy is independent. */
    int err = ERR_SENTINEL;
    assert_int_equal(simcat_deinstall(copy, &guid_c, &err), 0);
    assert_int_equal(simcat_equal(cat, copy), 0);
    assert_int_equal(simcat_count(cat), 5);
    assert_int_equal(simcat_count(copy), 4);

    /* Same content, different id counters: still equal (see header). */
    struct simcat *other = simcat_clone(cat);
    WSAPROTOCOL_INFOW e = make_entry(AF_INET, SOCK_RAW, 0, 1, L"raw");
    assert_int_equal(simcat_install(other, &guid_unknown, path_c, &e, 1, NULL, &err), 0);
    assert_int_equal(simcat_equal(cat, other), 0);
    assert_int_equal(simcat_deinstall(other, &guid_unknown, &err), 0);
    assert_int_equal(simcat_equal(cat, other), 1);

    /* A different order is a different catalog. */
    DWORD order[5] = { 1002, 1001, 1003, 1004, 1005 };
    assert_int_equal(simcat_write_order(other, order, 5), 0);
    assert_int_equal(simcat_equal(cat, other), 0);
    simcat_destroy(other);
    simcat_destroy(copy);
    simcat_destroy(cat);
}

/* ---- snapshots ---------------------------------------------------------------- */

static void temp_file(WCHAR out[MAX_PATH], const WCHAR *name)
{
    WCHAR dir[MAX_PATH];
    DWORD n = GetTempPathW(MAX_PATH, dir);
    assert_true(n > 0 && n < MAX_PATH - 40);
    wcscpy(out, dir);
    wcscat(out, name);
}

/* Reads a whole file into buf (NUL-terminated); returns its length. */
static size_t read_file(const WCHAR *path, char *buf, size_t cap)
{
    HANDLE h = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    DWORD got = 0;
    assert_true(ReadFile(h, buf, (DWORD)cap - 1, &got, NULL));
    CloseHandle(h);
    buf[got] = 0;
    return got;
}

static void write_file(const WCHAR *path, const char *text)
{
    HANDLE h = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    DWORD put = 0;
    assert_true(WriteFile(h, text, (DWORD)strlen(text), &put, NULL));
    assert_int_equal(put, strlen(text));
    CloseHandle(h);
}

static void test_save_format(void **state)
{
    (void)state;
    struct simcat *cat = simcat_create();
    WSAPROTOCOL_INFOW e = make_entry(AF_INET, SOCK_STREAM, IPPROTO_TCP, 1,
                                     L"q\"b\\s \x00e9 \x2603");
    int err = ERR_SENTINEL;
    assert_int_equal(simcat_install(cat, &guid_a, L"%SystemRoot%\\a.dll", &e, 1, NULL, &err), 0);
    DWORD cats = LSP_SYSTEM;
    assert_int_equal(simcat_set_provider_info(cat, &guid_a, ProviderInfoLspCategories,
                                              (PBYTE)&cats, sizeof cats, 0, &err),
                     0);
    WCHAR file[MAX_PATH];
    temp_file(file, L"simcat-format.txt");
    assert_int_equal(simcat_save(cat, file), 0);
    char text[4096];
    read_file(file, text, sizeof text);
    static const char want[] =
        "peerlsp-simcatalog 1\n"
        "provider {11111111-1111-1111-0101-010101010101} categories=0x80000000 "
        "path=\"%SystemRoot%\\\\a.dll\"\n"
        "entry 1001 {11111111-1111-1111-0101-010101010101} chain=1:1001,0,0,0,0,0,0 "
        "sf1=0x00020002 sf2=0x00000000 sf3=0x00000000 sf4=0x00000000 pf=0x00000008 "
        "ver=2 af=2 maxsa=16 minsa=16 type=1 proto=6 protomax=0 order=0 sec=0 msgsize=0 "
        "reserved=0 name=\"q\\\"b\\\\s \\u00E9 \\u2603\"\n";
    if (strcmp(text, want))
        fail_msg("saved:\n%s\nexpected:\n%s", text, want);
    DeleteFileW(file);
    simcat_destroy(cat);
}

/* Provider lines are sorted by GUID whatever the install order, so a
 * catalog read from a file with another order saves the same bytes. */
static void test_save_is_canonical(void **state)
{
    (void)state;
    struct simcat *cat = simcat_create();
    WSAPROTOCOL_INFOW e = make_entry(AF_INET, SOCK_STREAM, IPPROTO_TCP, 1, L"x");
    int err = ERR_SENTINEL;
    assert_int_equal(simcat_install(cat, &guid_b, path_b, &e, 1, NULL, &err), 0);
    assert_int_equal(simcat_install(cat, &guid_a, path_a, &e, 1, NULL, &err), 0);
    WCHAR file[MAX_PATH], other[MAX_PATH];
    temp_file(file, L"simcat-canon-1.txt");
    temp_file(other, L"simcat-canon-2.txt");
    assert_int_equal(simcat_save(cat, file), 0);
    static char a[8192], b[8192];
    read_file(file, a, sizeof a);
    const char *pa = strstr(a, "provider {11111111"), *pb = strstr(a, "provider {22222222");
    assert_non_null(pa);
    assert_non_null(pb);
    assert_true(pa < pb);

    /* The same catalog written by hand with B's provider line first. */
    char *cut = strchr(a, '\n') + 1;            /* after the header */
    char *line2 = strchr(cut, '\n') + 1;        /* after provider A */
    char *entries = strchr(line2, '\n') + 1;    /* after provider B */
    size_t n = 0;
    memcpy(b + n, a, (size_t)(cut - a));
    n += (size_t)(cut - a);
    memcpy(b + n, line2, (size_t)(entries - line2));
    n += (size_t)(entries - line2);
    memcpy(b + n, cut, (size_t)(line2 - cut));
    n += (size_t)(line2 - cut);
    strcpy(b + n, entries);
    assert_true(strcmp(a, b) != 0);
    write_file(other, b);
    struct simcat *loaded = NULL;
    assert_int_equal(simcat_load(other, &loaded), 0);
    assert_int_equal(simcat_equal(cat, loaded), 1);
    assert_int_equal(simcat_save(loaded, other), 0);
    read_file(other, b, sizeof b);
    assert_string_equal(a, b);
    DeleteFileW(file);
    DeleteFileW(other);
    simcat_destroy(loaded);
    simcat_destroy(cat);
}

static void test_save_load_round_trip(void **state)
{
    (void)state;
    struct simcat *cat = make_catalog();
    DWORD cats = LSP_FIREWALL;
    int err = ERR_SENTINEL;
    assert_int_equal(simcat_set_provider_info(cat, &guid_b, ProviderInfoLspCategories,
                                              (PBYTE)&cats, sizeof cats, 0, &err),
                     0);
    DWORD order[5] = { 1004, 1001, 1002, 1005, 1003 };
    assert_int_equal(simcat_write_order(cat, order, 5), 0);

    WCHAR first[MAX_PATH], second[MAX_PATH], third[MAX_PATH];
    temp_file(first, L"simcat-1.txt");
    temp_file(second, L"simcat-2.txt");
    temp_file(third, L"simcat-3.txt");
    assert_int_equal(simcat_save(cat, first), 0);
    struct simcat *loaded = NULL;
    assert_int_equal(simcat_load(first, &loaded), 0);
    assert_non_null(loaded);
    assert_int_equal(simcat_equal(cat, loaded), 1);
    assert_int_equal(simcat_save(loaded, second), 0);
    /* An equal catalog with another history saves the same bytes. */
    struct simcat *copy = simcat_clone(cat);
    WSAPROTOCOL_INFOW e = make_entry(AF_INET, SOCK_RAW, 0, 1, L"raw");
    assert_int_equal(simcat_install(copy, &guid_unknown, path_c, &e, 1, NULL, &err), 0);
    assert_int_equal(simcat_deinstall(copy, &guid_unknown, &err), 0);
    assert_int_equal(simcat_save(copy, third), 0);

    static char a[16384], b[16384], c[16384];
    size_t na = read_file(first, a, sizeof a), nb = read_file(second, b, sizeof b),
           nc = read_file(third, c, sizeof c);
    assert_true(na > 0);
    assert_int_equal(na, nb);
    assert_int_equal(na, nc);
    assert_memory_equal(a, b, na);
    assert_memory_equal(a, c, na);

    /* A loaded catalog hands out ids after the highest it holds. */
    DWORD id = SENTINEL;
    assert_int_equal(simcat_install(loaded, &guid_unknown, path_c, &e, 1, &id, &err), 0);
    assert_int_equal(id, 1006);
    /* Saving over an existing file replaces it. */
    assert_int_equal(simcat_save(loaded, first), 0);
    assert_true(read_file(first, a, sizeof a) > na);

    DeleteFileW(first);
    DeleteFileW(second);
    DeleteFileW(third);
    simcat_destroy(copy);
    simcat_destroy(loaded);
    simcat_destroy(cat);
}

static void test_load_errors(void **state)
{
    (void)state;
#define P "provider {11111111-1111-1111-0101-010101010101} categories=0x00000000 path=\"a.dll\"\n"
#define E(id)                                                                               \
    "entry " #id " {11111111-1111-1111-0101-010101010101} chain=1:" #id ",0,0,0,0,0,0 "     \
    "sf1=0x00000000 sf2=0x00000000 sf3=0x00000000 sf4=0x00000000 pf=0x00000000 ver=2 af=2 " \
    "maxsa=16 minsa=16 type=1 proto=6 protomax=0 order=0 sec=0 msgsize=0 reserved=0 "      \
    "name=\"x\"\n"
#define H "peerlsp-simcatalog 1\n"
    const struct {
        const char *row;
        const char *text;
        int err;
    } rows[] = {
        { "well formed", H P E(1001) E(1002), 0 },
        { "empty catalog", H, 0 },
        { "CRLF line ends", "peerlsp-simcatalog 1\r\n", 0 },
        { "empty file", "", ERROR_INVALID_DATA },
        { "other version", "peerlsp-simcatalog 2\n", ERROR_INVALID_DATA },
        { "no final LF", "peerlsp-simcatalog 1", ERROR_INVALID_DATA },
        { "unknown line", H "comment\n", ERROR_INVALID_DATA },
        { "blank line", H "\n", ERROR_INVALID_DATA },
        { "entry without provider", H E(1001), ERROR_INVALID_DATA },
        { "provider without entry", H P, ERROR_INVALID_DATA },
        { "provider twice", H P P E(1001), ERROR_INVALID_DATA },
        { "provider after entry", H P E(1001) P, ERROR_INVALID_DATA },
        { "id twice", H P E(1001) E(1001), ERROR_INVALID_DATA },
        { "id 0", H P E(0), ERROR_INVALID_DATA },
        { "bad GUID", H "provider {1111111-1111-1111-0101-010101010101} categories=0x00000000 "
                        "path=\"a.dll\"\n" E(1001),
          ERROR_INVALID_DATA },
        { "short hex", H "provider {11111111-1111-1111-0101-010101010101} categories=0x0 "
                         "path=\"a.dll\"\n" E(1001),
          ERROR_INVALID_DATA },
        { "bad escape", H "provider {11111111-1111-1111-0101-010101010101} categories=0x00000000 "
                          "path=\"a\\q.dll\"\n" E(1001),
          ERROR_INVALID_DATA },
        { "unterminated string", H "provider {11111111-1111-1111-0101-010101010101} "
                                   "categories=0x00000000 path=\"a.dll\n" E(1001),
          ERROR_INVALID_DATA },
        { "empty path", H "provider {11111111-1111-1111-0101-010101010101} categories=0x00000000 "
                          "path=\"\"\n" E(1001),
          ERROR_INVALID_DATA },
        { "trailing text", H P "entry 1001 {11111111-1111-1111-0101-010101010101} "
                               "chain=1:1001,0,0,0,0,0,0 sf1=0x00000000 sf2=0x00000000 "
                               "sf3=0x00000000 sf4=0x00000000 pf=0x00000000 ver=2 af=2 "
                               "maxsa=16 minsa=16 type=1 proto=6 protomax=0 order=0 sec=0 "
                               "msgsize=0 reserved=0 name=\"x\" extra\n",
          ERROR_INVALID_DATA },
        { "ChainLen 8", H P "entry 1001 {11111111-1111-1111-0101-010101010101} "
                            "chain=8:1001,0,0,0,0,0,0 sf1=0x00000000 sf2=0x00000000 "
                            "sf3=0x00000000 sf4=0x00000000 pf=0x00000000 ver=2 af=2 "
                            "maxsa=16 minsa=16 type=1 proto=6 protomax=0 order=0 sec=0 "
                            "msgsize=0 reserved=0 name=\"x\"\n",
          ERROR_INVALID_DATA },
        { "int overflow", H P "entry 1001 {11111111-1111-1111-0101-010101010101} "
                              "chain=1:1001,0,0,0,0,0,0 sf1=0x00000000 sf2=0x00000000 "
                              "sf3=0x00000000 sf4=0x00000000 pf=0x00000000 ver=2147483648 "
                              "af=2 maxsa=16 minsa=16 type=1 proto=6 protomax=0 order=0 "
                              "sec=0 msgsize=0 reserved=0 name=\"x\"\n",
          ERROR_INVALID_DATA },
    };
#undef P
#undef E
#undef H
    WCHAR file[MAX_PATH];
    temp_file(file, L"simcat-bad.txt");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        write_file(file, rows[i].text);
        struct simcat *cat = (struct simcat *)(uintptr_t)SENTINEL;
        int err = simcat_load(file, &cat);
        check_int(rows[i].row, err, rows[i].err);
        if (err)
            check_int(rows[i].row, (uintptr_t)cat, (uintptr_t)SENTINEL);
        else
            simcat_destroy(cat);
    }
    DeleteFileW(file);
    struct simcat *cat = NULL;
    assert_int_equal(simcat_load(file, &cat), ERROR_FILE_NOT_FOUND);
    assert_null(cat);
}


/* ---- application categories (WSCSetApplicationCategory / Get) ---------- */

static const WCHAR app_path[] = L"C:\\Windows\\System32\\wsl.exe";

static void test_app_category(void **state)
{
    (void)state;
    struct simcat *cat = simcat_create();
    assert_non_null(cat);
    DWORD plen = (DWORD)wcslen(app_path), v = SENTINEL, prev = SENTINEL;
    int err = ERR_SENTINEL;

    /* Not categorized: WSASERVICE_NOT_FOUND, output left alone. */
    check_int("uncategorized", simcat_get_app_category(cat, app_path, plen, NULL, 0, &v, &err),
              SOCKET_ERROR);
    check_int("uncategorized", err, WSASERVICE_NOT_FOUND);
    check_int("uncategorized", v, SENTINEL);

    /* First set: previous is 0 (the documented-nowhere case, our choice). */
    err = ERR_SENTINEL;
    check_int("first set",
              simcat_set_app_category(cat, app_path, plen, NULL, 0, 0xFE, &prev, &err), 0);
    check_int("first set", err, ERR_SENTINEL);
    check_int("first set", prev, 0);
    check_int("get", simcat_get_app_category(cat, app_path, plen, NULL, 0, &v, &err), 0);
    check_int("get", v, 0xFE);
    /* The path without regard to case; Extra "" is the same as NULL. */
    v = SENTINEL;
    check_int("case", simcat_get_app_category(cat, L"c:\\WINDOWS\\system32\\WSL.EXE", plen,
                                              L"", 0, &v, &err),
              0);
    check_int("case", v, 0xFE);
    /* Only PathLength characters count. */
    v = SENTINEL;
    check_int("length", simcat_get_app_category(cat, L"C:\\Windows\\System32\\wsl.exeXYZ", plen,
                                                NULL, 0, &v, &err),
              0);
    check_int("length", v, 0xFE);
    /* A command line makes another application. */
    v = SENTINEL;
    check_int("extra", simcat_get_app_category(cat, app_path, plen, L"-d x", 4, &v, &err),
              SOCKET_ERROR);
    check_int("extra", err, WSASERVICE_NOT_FOUND);
    check_int("extra set", simcat_set_app_category(cat, app_path, plen, L"-d x", 4, 0x2, NULL, &err),
              0);
    /* Second set: previous is the old value, the record is replaced. */
    prev = SENTINEL;
    check_int("second set",
              simcat_set_app_category(cat, L"C:\\WINDOWS\\System32\\WSL.exe", plen, NULL, 0,
                                      0x800000FF, &prev, &err),
              0);
    check_int("second set", prev, 0xFE);
    WCHAR p[MAX_PATH], x[SIMCAT_APP_EXTRA_MAX];
    DWORD perm = SENTINEL;
    /* Two records, path then extra order, the spelling first given kept. */
    check_int("enum 0", simcat_app_enum(cat, 0, p, x, &perm), 0);
    if (wcscmp(p, app_path) || x[0] || perm != 0x800000FF)
        fail_msg("enum 0: \"%ls\" \"%ls\" 0x%lx", p, x, (unsigned long)perm);
    check_int("enum 1", simcat_app_enum(cat, 1, p, x, &perm), 0);
    if (wcscmp(p, app_path) || wcscmp(x, L"-d x") || perm != 0x2)
        fail_msg("enum 1: \"%ls\" \"%ls\" 0x%lx", p, x, (unsigned long)perm);
    perm = SENTINEL;
    check_int("enum end", simcat_app_enum(cat, 2, p, x, &perm), ERROR_NO_MORE_ITEMS);
    check_int("enum end", perm, SENTINEL);
    check_int("enum null", simcat_app_enum(cat, 0, NULL, x, &perm), WSAEFAULT);

    /* Clone and equal see the records. */
    struct simcat *copy = simcat_clone(cat);
    assert_non_null(copy);
    check_int("clone equal", simcat_equal(cat, copy), 1);
    check_int("changed", simcat_set_app_category(copy, app_path, plen, NULL, 0, 1, NULL, &err), 0);
    check_int("clone differs", simcat_equal(cat, copy), 0);
    simcat_destroy(copy);

    /* Errors, each leaving the catalog as it was. */
    static const struct {
        const char *row;
        const WCHAR *path;
        DWORD plen;
        const WCHAR *extra;
        DWORD xlen;
        int err;
    } rows[] = {
        { "NULL path", NULL, 5, NULL, 0, WSAEFAULT },
        { "NULL extra with length", app_path, 10, NULL, 3, WSAEFAULT },
        { "empty path", app_path, 0, NULL, 0, WSAEINVAL },
        { "path of MAX_PATH", app_path, MAX_PATH, NULL, 0, WSAEINVAL },
        { "extra too long", app_path, 10, app_path, SIMCAT_APP_EXTRA_MAX, WSAEINVAL },
        { "NUL inside path", L"C:\\a\0b", 6, NULL, 0, WSAEINVAL },
    };
    struct simcat *before = simcat_clone(cat);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        err = ERR_SENTINEL;
        prev = SENTINEL;
        check_int(rows[i].row,
                  simcat_set_app_category(cat, rows[i].path, rows[i].plen, rows[i].extra,
                                          rows[i].xlen, 7, &prev, &err),
                  SOCKET_ERROR);
        check_int(rows[i].row, err, rows[i].err);
        check_int(rows[i].row, prev, SENTINEL);
        err = ERR_SENTINEL;
        v = SENTINEL;
        check_int(rows[i].row,
                  simcat_get_app_category(cat, rows[i].path, rows[i].plen, rows[i].extra,
                                          rows[i].xlen, &v, &err),
                  SOCKET_ERROR);
        check_int(rows[i].row, err, rows[i].err);
        check_int(rows[i].row, v, SENTINEL);
        check_int(rows[i].row, simcat_equal(cat, before), 1);
    }
    err = ERR_SENTINEL;
    check_int("NULL out", simcat_get_app_category(cat, app_path, plen, NULL, 0, NULL, &err),
              SOCKET_ERROR);
    check_int("NULL out", err, WSAEFAULT);

    /* A mutating call for fault injection. */
    simcat_fail_call(cat, 1, WSANO_RECOVERY);
    err = ERR_SENTINEL;
    check_int("injected", simcat_set_app_category(cat, app_path, plen, NULL, 0, 9, NULL, &err),
              SOCKET_ERROR);
    check_int("injected", err, WSANO_RECOVERY);
    check_int("injected", simcat_equal(cat, before), 1);
    simcat_destroy(before);
    simcat_destroy(cat);
}

static void test_app_category_snapshot(void **state)
{
    (void)state;
    WCHAR file[MAX_PATH];
    GetTempPathW(MAX_PATH, file);
    wcscat(file, L"simcat-apps.snap");
    struct simcat *cat = simcat_create(), *loaded = NULL;
    int err = 0;
    WSAPROTOCOL_INFOW e = make_entry(AF_INET, SOCK_STREAM, IPPROTO_TCP, 1, L"tcp");
    assert_int_equal(simcat_install(cat, &guid_a, path_a, &e, 1, NULL, &err), 0);
    /* Inserted out of order: the file is in path order, whatever the order of calls. */
    assert_int_equal(simcat_set_app_category(cat, L"Z:\\b.exe", 8, L"q\"", 2, 0x2, NULL, &err), 0);
    assert_int_equal(simcat_set_app_category(cat, L"C:\\a.exe", 8, NULL, 0, 0xFE, NULL, &err), 0);
    check_int("save", simcat_save(cat, file), 0);
    check_int("load", simcat_load(file, &loaded), 0);
    check_int("round trip", simcat_equal(cat, loaded), 1);
    simcat_destroy(loaded);
    HANDLE h = CreateFileW(file, GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    char text[4096];
    DWORD got = 0;
    assert_true(ReadFile(h, text, sizeof text - 1, &got, NULL));
    CloseHandle(h);
    text[got] = 0;
    const char *a = strstr(text, "app categories=0x000000FE path=\"C:\\\\a.exe\" extra=\"\"\n");
    const char *b = strstr(text, "app categories=0x00000002 path=\"Z:\\\\b.exe\" extra=\"q\\\"\"\n");
    const char *entry = strstr(text, "entry ");
    if (!a || !b || !entry || a > b || entry > a)
        fail_msg("app lines missing or out of order:\n%s", text);

    /* Bad app lines: not a catalog. */
    static const char *const bad[] = {
        "app categories=0x00000001 path=\"C:\\\\a.exe\" extra=\"\"\n"
        "app categories=0x00000002 path=\"c:\\\\A.EXE\" extra=\"\"\n", /* twice */
        "app categories=0x00000001 path=\"\" extra=\"\"\n",          /* empty path */
        "app categories=0x1 path=\"C:\\\\a.exe\" extra=\"\"\n",      /* short hex */
        "app categories=0x00000001 path=\"C:\\\\a.exe\"\n",          /* no extra */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[1024];
        snprintf(buf, sizeof buf, "peerlsp-simcatalog 1\n%s", bad[i]);
        h = CreateFileW(file, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
        DWORD w = 0;
        assert_true(WriteFile(h, buf, (DWORD)strlen(buf), &w, NULL));
        CloseHandle(h);
        loaded = NULL;
        int rc = simcat_load(file, &loaded);
        if (rc != ERROR_INVALID_DATA || loaded)
            fail_msg("bad app line %u: load gave %d", (unsigned)i, rc);
    }
    /* An entry after an app line is refused too (app lines come last). */
    {
        char buf[2048];
        check_int("save", simcat_save(cat, file), 0);
        h = CreateFileW(file, GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
        got = 0;
        assert_true(ReadFile(h, text, sizeof text - 1, &got, NULL));
        CloseHandle(h);
        text[got] = 0;
        char *app = strstr(text, "app "), *ent = strstr(text, "entry ");
        char *ent_end = strchr(ent, '\n');
        assert_non_null(app);
        /* provider line(s), then the app lines, then the entry line. */
        snprintf(buf, sizeof buf, "%.*s%s%.*s", (int)(ent - text), text, app,
                 (int)(ent_end + 1 - ent), ent);
        h = CreateFileW(file, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
        DWORD w = 0;
        assert_true(WriteFile(h, buf, (DWORD)strlen(buf), &w, NULL));
        CloseHandle(h);
        loaded = NULL;
        check_int("entry after app", simcat_load(file, &loaded), ERROR_INVALID_DATA);
    }
    DeleteFileW(file);
    simcat_destroy(cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_catalog),
        cmocka_unit_test(test_install_assigns_ids_in_order),
        cmocka_unit_test(test_install_errors),
        cmocka_unit_test(test_enum_all_and_visible),
        cmocka_unit_test(test_enum_errors),
        cmocka_unit_test(test_get_path),
        cmocka_unit_test(test_deinstall),
        cmocka_unit_test(test_deinstall_errors),
        cmocka_unit_test(test_update_in_place),
        cmocka_unit_test(test_update_errors),
        cmocka_unit_test(test_write_order),
        cmocka_unit_test(test_write_order_errors),
        cmocka_unit_test(test_provider_info),
        cmocka_unit_test(test_provider_info_errors),
        cmocka_unit_test(test_fault_injection),
        cmocka_unit_test(test_clone_and_equal),
        cmocka_unit_test(test_save_format),
        cmocka_unit_test(test_save_is_canonical),
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_app_category),
        cmocka_unit_test(test_app_category_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
