/*
 * test_dispatch.c - every WSP entry through peerlsp's proc table when its
 * chains sit over two different lower providers, each call failing below.
 *
 * One catalog, one peerlsp GUID shared by two chains: TCP over tbase (the
 * first lower provider peerlsp starts), UDP over simprov (another DLL, so
 * other functions: the pass-through slots of the table are dispatch.c's).
 * For every entry, the call on a simprov socket is made to fail in simprov
 * with an error of its own (simprov_fail_next): peerlsp must answer with
 * exactly that error, and the call must have reached simprov once and
 * tbase not at all; the same entry on a tbase socket must reach tbase and
 * not simprov. A handle neither provider owns gets WSAENOTSOCK from every
 * entry that takes a socket. With HKLM\SOFTWARE\peerlsp Trace = 1 the same
 * run goes through the trace wrappers, whose lines must carry the results
 * and the lower provider's error codes.
 */
#include "e2e.h"

#include <stdio.h>
#include <string.h>

#include <peerlsp/peerlsp.h>

#include "simprov.h"

#include <mswsock.h>

#ifndef DBG_PRINTEXCEPTION_WIDE_C
#define DBG_PRINTEXCEPTION_WIDE_C 0x4001000A
#endif

static const GUID lsp_guid = PEERLSP_GUID_INIT;

/* ---- the trace, as a debugger sees it (as test_trace.c reads it) -------- */

#define CAPTURE_MAX 65536
static char captured[CAPTURE_MAX];
static volatile LONG captured_len;

static LONG CALLBACK debug_output_handler(EXCEPTION_POINTERS *ep)
{
    const EXCEPTION_RECORD *r = ep->ExceptionRecord;
    if (r->ExceptionCode != DBG_PRINTEXCEPTION_WIDE_C &&
        r->ExceptionCode != DBG_PRINTEXCEPTION_C)
        return EXCEPTION_CONTINUE_SEARCH;
    if (r->NumberParameters < 2)
        return EXCEPTION_CONTINUE_EXECUTION;
    char narrow[1024];
    size_t n;
    if (r->ExceptionCode == DBG_PRINTEXCEPTION_WIDE_C) {
        int w = WideCharToMultiByte(CP_UTF8, 0, (const WCHAR *)r->ExceptionInformation[1], -1,
                                    narrow, sizeof narrow, NULL, NULL);
        n = w > 0 ? (size_t)w - 1 : 0;
    } else {
        n = strnlen((const char *)r->ExceptionInformation[1], sizeof narrow - 1);
        memcpy(narrow, (const char *)r->ExceptionInformation[1], n);
    }
    LONG at = InterlockedExchangeAdd(&captured_len, (LONG)n);
    if (at >= 0 && (size_t)at + n < CAPTURE_MAX)
        memcpy(captured + at, narrow, n);
    return EXCEPTION_CONTINUE_EXECUTION;
}

static void set_trace(int on)
{
    LSTATUS st;
    if (on) {
        DWORD value = 1;
        st = RegSetKeyValueW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\peerlsp", L"Trace", REG_DWORD,
                             &value, sizeof value);
    } else {
        st = RegDeleteKeyValueW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\peerlsp", L"Trace");
        if (st == ERROR_FILE_NOT_FOUND)
            st = ERROR_SUCCESS;
    }
    if (st != ERROR_SUCCESS)
        fail_msg("cannot set HKLM\\SOFTWARE\\peerlsp Trace: %ld", (long)st);
}

static void expect_trace(const char *fn, SOCKET s, const char *result)
{
    char line[160];
    snprintf(line, sizeof line, "%s socket %#llx -> %s", fn, (unsigned long long)s, result);
    if (!strstr(captured, line))
        fail_msg("no trace line containing \"%s\" in:\n%s", line, captured);
}

/* ---- the two-provider session ------------------------------------------ */

struct two {
    struct simcat *cat;
    const struct wsapi *api;
    struct host_lsp_ids ids;
    WSPPROC_TABLE lsp;          /* peerlsp's table, as ws2_32 got it */
    WSAPROTOCOL_INFOW tcp_chain, udp_chain; /* the chains' catalog entries */
    HMODULE sim;
    SIMPROV_CALLS_FN sim_calls;
    SIMPROV_FAIL_NEXT_FN sim_fail_next;
    SOCKET t;                   /* TCP, over tbase: recorded by peerlsp */
    SOCKET m;                   /* UDP, over simprov: recorded by peerlsp */
    HANDLE stranger;            /* a handle neither provider owns */
};

#define E2E_OK_API(api, call)                                                        \
    do {                                                                             \
        if ((call) == SOCKET_ERROR)                                                  \
            fail_msg("%s:%d: %s failed: error %d", __FILE__, __LINE__, #call,        \
                     (api)->WSAGetLastError());                                      \
    } while (0)

static void find_entry(struct simcat *cat, DWORD id, WSAPROTOCOL_INFOW *out)
{
    WSAPROTOCOL_INFOW entries[32];
    DWORD size = sizeof entries;
    int err = 0, count = simcat_enum(cat, NULL, entries, &size, &err);
    for (int i = 0; i < count; i++) {
        if (entries[i].dwCatalogEntryId == id) {
            *out = entries[i];
            return;
        }
    }
    fail_msg("catalog entry %lu not found", id);
}

static void two_start(struct two *w, int trace)
{
    memset(w, 0, sizeof *w);
    set_trace(trace);
    w->cat = simcat_create();
    assert_non_null(w->cat);
    DWORD base[HOST_BASE_COUNT], sim_id = 0;
    int err = 0;
    assert_int_equal(host_catalog_add_base(w->cat, PEERLSP_TEST_BASE_DLL, base), 0);
    /* simprov's entry: tbase's UDP/IPv4 entry under simprov's GUID and path. */
    WSAPROTOCOL_INFOW sim_entry;
    find_entry(w->cat, base[HOST_BASE_UDP4], &sim_entry);
    GUID sim_guid = SIMPROV_GUID;
    sim_entry.ProviderId = sim_guid;
    wcscpy(sim_entry.szProtocol, L"simprov UDP/IP");
    assert_int_equal(simcat_install(w->cat, &sim_guid, PEERLSP_TEST_SIM_DLL, &sim_entry, 1,
                                    &sim_id, &err), 0);
    /* TCP over tbase first: tbase is the first lower provider peerlsp starts. */
    DWORD over[] = { base[HOST_BASE_TCP4], sim_id, base[HOST_BASE_TCP6] };
    assert_int_equal(host_catalog_install_lsp_over(w->cat, PEERLSP_TEST_LSP_DLL, &lsp_guid, NULL,
                                                   HOST_CHAINS_SHARE_GUID, over, 3, &w->ids), 0);
    find_entry(w->cat, w->ids.chain_ids[0], &w->tcp_chain);
    find_entry(w->cat, w->ids.chain_ids[1], &w->udp_chain);
    host_set_catalog(w->cat);
    assert_int_equal(host_startup(), 0);
    w->api = host_api();
    w->sim = LoadLibraryW(PEERLSP_TEST_SIM_DLL);
    assert_non_null(w->sim);
    w->sim_calls = (SIMPROV_CALLS_FN)(void (*)(void))GetProcAddress(w->sim, "simprov_calls");
    w->sim_fail_next =
        (SIMPROV_FAIL_NEXT_FN)(void (*)(void))GetProcAddress(w->sim, "simprov_fail_next");
    assert_non_null(w->sim_calls);
    assert_non_null(w->sim_fail_next);

    w->t = w->api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    w->m = w->api->socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    assert_true(w->t != INVALID_SOCKET && w->m != INVALID_SOCKET);
    assert_int_equal(host_socket_entry(w->t), w->ids.chain_ids[0]);
    assert_int_equal(host_socket_entry(w->m), w->ids.chain_ids[1]);
    assert_int_equal(host_provider(&lsp_guid, &w->lsp, NULL), 0);
    w->stranger = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_non_null(w->stranger);
}

static void two_stop(struct two *w)
{
    (void)w->sim_fail_next(NULL, 0);
    if (w->t != INVALID_SOCKET)
        E2E_OK_API(w->api, w->api->closesocket(w->t));
    if (w->m != INVALID_SOCKET)
        E2E_OK_API(w->api, w->api->closesocket(w->m));
    CloseHandle(w->stranger);
    assert_int_equal(host_cleanup(), 0);
    host_set_catalog(NULL);
    simcat_destroy(w->cat);
    FreeLibrary(w->sim);
    set_trace(0);
}

/* The counts of one WSP function in both providers, before a call. */
struct counts {
    const char *fn;
    LONG base, sim;
};

static struct counts counts_of(const struct two *w, const char *fn)
{
    struct counts c = { fn, e2e_base_calls(fn), w->sim_calls(fn) };
    return c;
}

/* The call reached tbase `base` times and simprov `sim` times since c. */
#define REACHED(w, c, b, m) reached_(w, c, b, m, __LINE__)
static void reached_(const struct two *w, struct counts c, LONG base, LONG sim, int line)
{
    LONG db = e2e_base_calls(c.fn) - c.base, ds = w->sim_calls(c.fn) - c.sim;
    if (db != base || ds != sim)
        fail_msg("line %d: %s reached tbase %ld times and simprov %ld times; expected %ld and %ld",
                 line, c.fn, db, ds, base, sim);
}

#define EXPECT_ERR(ret, failed_value, err, want)                                           \
    do {                                                                                   \
        if ((ret) != (failed_value) || (err) != (want))                                    \
            fail_msg("line %d: returned %lld with error %d; expected %lld with error %d",  \
                     __LINE__, (long long)(ret), (err), (long long)(failed_value), (want)); \
    } while (0)

/* Distinct errors simprov fails with, none of which peerlsp makes itself. */
enum {
    E_BIND = WSAENETDOWN,
    E_LISTEN = WSAENETRESET,
    E_SOCKNAME = WSAEHOSTDOWN,
    E_EVENTSELECT = WSAEHOSTUNREACH,
    E_ASYNCSELECT = WSAEPROCLIM,
    E_QOS = WSAEUSERS,
    E_SELECT = WSAEDQUOT,
    E_ADDRSTR = WSAESTALE,
    E_STRADDR = WSAEREMOTE,
    E_CANCEL = WSAEDISCON,
};

/* ---- the pass-through entries (dispatch.c) ------------------------------ */

typedef int (*socket_call)(const struct two *w, SOCKET s, int *err);

static int call_bind(const struct two *w, SOCKET s, int *err)
{
    SOCKADDR_STORAGE a;
    int len;
    e2e_loopback(AF_INET, 0, &a, &len);
    return w->lsp.lpWSPBind(s, (struct sockaddr *)&a, len, err);
}

static int call_listen(const struct two *w, SOCKET s, int *err)
{
    return w->lsp.lpWSPListen(s, 2, err);
}

static int call_getsockname(const struct two *w, SOCKET s, int *err)
{
    SOCKADDR_STORAGE a;
    int len = sizeof a;
    return w->lsp.lpWSPGetSockName(s, (struct sockaddr *)&a, &len, err);
}

static int call_eventselect(const struct two *w, SOCKET s, int *err)
{
    return w->lsp.lpWSPEventSelect(s, NULL, 0, err);
}

static int call_asyncselect(const struct two *w, SOCKET s, int *err)
{
    return w->lsp.lpWSPAsyncSelect(s, NULL, 0, 0, err);
}

static int call_qos(const struct two *w, SOCKET s, int *err)
{
    char name[] = "none";
    WSABUF buf = { sizeof name, name };
    QOS qos;
    return w->lsp.lpWSPGetQOSByName(s, &buf, &qos, err) ? 0 : SOCKET_ERROR;
}

static int call_select_read(const struct two *w, SOCKET s, int *err)
{
    fd_set r;
    TIMEVAL zero = { 0, 0 };
    FD_ZERO(&r);
    FD_SET(s, &r);
    return w->lsp.lpWSPSelect(0, &r, NULL, NULL, &zero, err);
}

static int call_select_except(const struct two *w, SOCKET s, int *err)
{
    fd_set r, x;
    TIMEVAL zero = { 0, 0 };
    FD_ZERO(&r);
    FD_ZERO(&x);
    FD_SET(s, &x);
    /* An empty read set and no write set: the except set names the socket. */
    return w->lsp.lpWSPSelect(0, &r, NULL, &x, &zero, err);
}

static int call_select_write(const struct two *w, SOCKET s, int *err)
{
    fd_set wr;
    TIMEVAL zero = { 0, 0 };
    FD_ZERO(&wr);
    FD_SET(s, &wr);
    return w->lsp.lpWSPSelect(0, NULL, &wr, NULL, &zero, err);
}

static const struct {
    const char *fn;
    socket_call call;
    int error;
} socket_rows[] = {
    { "WSPBind", call_bind, E_BIND },
    { "WSPListen", call_listen, E_LISTEN },
    { "WSPGetSockName", call_getsockname, E_SOCKNAME },
    { "WSPEventSelect", call_eventselect, E_EVENTSELECT },
    { "WSPAsyncSelect", call_asyncselect, E_ASYNCSELECT },
    { "WSPGetQOSByName", call_qos, E_QOS },
    { "WSPSelect", call_select_read, E_SELECT },
    { "WSPSelect", call_select_except, E_SELECT },
    { "WSPSelect", call_select_write, E_SELECT },
};

static void run_pass_through(struct two *w)
{
    /* The table itself: these slots are neither provider's own function. */
    WSPPROC_TABLE base;
    SOCKADDR_STORAGE a;
    int alen = sizeof a, aerr = 0;
    (void)host_lower_getpeername(w->t, (struct sockaddr *)&a, &alen, &aerr);
    assert_int_equal(host_provider(&TBASE_GUID_IPV4, &base, NULL), 0);
    if ((void *)w->lsp.lpWSPBind == (void *)base.lpWSPBind)
        fail_msg("WSPBind is tbase's own function in a table that serves simprov too");

    for (size_t i = 0; i < sizeof socket_rows / sizeof socket_rows[0]; i++) {
        const char *fn = socket_rows[i].fn;
        /* On simprov's socket, failing there with simprov's own error. */
        assert_true(w->sim_fail_next(fn, socket_rows[i].error));
        struct counts c = counts_of(w, fn);
        int err = 0, ret = socket_rows[i].call(w, w->m, &err);
        if (ret != SOCKET_ERROR || err != socket_rows[i].error)
            fail_msg("%s (row %zu) on the simprov socket: %d, error %d; expected simprov's "
                     "error %d", fn, i, ret, err, socket_rows[i].error);
        REACHED(w, c, 0, 1);
        /* On tbase's socket: tbase's function, never simprov's. */
        c = counts_of(w, fn);
        err = 0;
        (void)socket_rows[i].call(w, w->t, &err);
        REACHED(w, c, 1, 0);
        /* A handle neither owns: every lower provider asked who owns it
         * (tbase twice: started once per GUID, IPv4 and IPv6), no one
         * called. */
        struct counts asked = counts_of(w, "WSPGetSockOpt");
        c = counts_of(w, fn);
        err = 0;
        ret = socket_rows[i].call(w, (SOCKET)w->stranger, &err);
        EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOTSOCK);
        REACHED(w, c, 0, 0);
        REACHED(w, asked, 2, 1);
    }
    (void)w->sim_fail_next(NULL, 0);

    /* select with nothing in any set names no provider. */
    fd_set empty;
    FD_ZERO(&empty);
    TIMEVAL zero = { 0, 0 };
    struct counts c = counts_of(w, "WSPSelect");
    int err = 0;
    int ret = w->lsp.lpWSPSelect(0, &empty, &empty, &empty, &zero, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAEINVAL);
    ret = w->lsp.lpWSPSelect(0, NULL, NULL, NULL, &zero, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAEINVAL);
    REACHED(w, c, 0, 0);

    /* Address strings name their catalog entry: simprov's chain goes to
     * simprov, tbase's to tbase, none at all to the first lower provider
     * (tbase), an entry that is not peerlsp's is refused. */
    struct sockaddr_in sin;
    int sinlen = sizeof sin;
    e2e_loopback(AF_INET, 80, (SOCKADDR_STORAGE *)&a, &alen);
    memcpy(&sin, &a, sizeof sin);
    WCHAR str[64];
    DWORD slen = 64;
    assert_true(w->sim_fail_next("WSPAddressToString", E_ADDRSTR));
    c = counts_of(w, "WSPAddressToString");
    ret = w->lsp.lpWSPAddressToString((LPSOCKADDR)&sin, sizeof sin, &w->udp_chain, str, &slen,
                                      &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, E_ADDRSTR);
    REACHED(w, c, 0, 1);
    slen = 64;
    c = counts_of(w, "WSPAddressToString");
    assert_int_equal(w->lsp.lpWSPAddressToString((LPSOCKADDR)&sin, sizeof sin, &w->tcp_chain,
                                                 str, &slen, &err), 0);
    assert_true(wcscmp(str, L"127.0.0.1:80") == 0);
    slen = 64;
    assert_int_equal(w->lsp.lpWSPAddressToString((LPSOCKADDR)&sin, sizeof sin, NULL, str,
                                                 &slen, &err), 0);
    REACHED(w, c, 2, 0);
    WSAPROTOCOL_INFOW foreign = w->tcp_chain;
    foreign.dwCatalogEntryId = 0x7fff0001;
    slen = 64;
    ret = w->lsp.lpWSPAddressToString((LPSOCKADDR)&sin, sizeof sin, &foreign, str, &slen, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAEINVAL);
    REACHED(w, c, 2, 0);

    WCHAR text[] = L"127.0.0.1:80";
    struct sockaddr_in parsed;
    int plen = sizeof parsed;
    assert_true(w->sim_fail_next("WSPStringToAddress", E_STRADDR));
    c = counts_of(w, "WSPStringToAddress");
    ret = w->lsp.lpWSPStringToAddress(text, AF_INET, &w->udp_chain, (LPSOCKADDR)&parsed, &plen,
                                      &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, E_STRADDR);
    REACHED(w, c, 0, 1);
    c = counts_of(w, "WSPStringToAddress");
    plen = sizeof parsed;
    assert_int_equal(w->lsp.lpWSPStringToAddress(text, AF_INET, &w->tcp_chain,
                                                 (LPSOCKADDR)&parsed, &plen, &err), 0);
    e2e_addr_equal(&parsed, plen, &sin, sinlen);
    REACHED(w, c, 1, 0);
    plen = sizeof parsed;
    ret = w->lsp.lpWSPStringToAddress(text, AF_INET, &foreign, (LPSOCKADDR)&parsed, &plen, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAEINVAL);
    REACHED(w, c, 1, 0);

    /* WSPCancelBlockingCall names nothing: every lower provider is told,
     * (tbase once per GUID), and one failing makes the call fail with its
     * error. */
    c = counts_of(w, "WSPCancelBlockingCall");
    assert_int_equal(w->lsp.lpWSPCancelBlockingCall(&err), 0);
    REACHED(w, c, 2, 1);
    assert_true(w->sim_fail_next("WSPCancelBlockingCall", E_CANCEL));
    c = counts_of(w, "WSPCancelBlockingCall");
    err = 0;
    ret = w->lsp.lpWSPCancelBlockingCall(&err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, E_CANCEL);
    REACHED(w, c, 2, 1);
}

/* ---- peerlsp's own entries over a failing lower provider ---------------- */

/* getpeername through peerlsp on m: asked below (`asked` 1) or answered from
 * its table (0), with the expected result. */
#define PEER_ASKED(w, s, asked, want_ret, want_err) peer_asked_(w, s, asked, want_ret, want_err, __LINE__)
static void peer_asked_(const struct two *w, SOCKET s, LONG asked, int want_ret, int want_err,
                        int line)
{
    SOCKADDR_STORAGE a;
    int len = sizeof a, err = 0;
    struct counts c = counts_of(w, "WSPGetPeerName");
    int ret = w->lsp.lpWSPGetPeerName(s, (struct sockaddr *)&a, &len, &err);
    if (ret != want_ret || (ret != 0 && err != want_err))
        fail_msg("line %d: getpeername %d error %d; expected %d error %d", line, ret, err,
                 want_ret, want_err);
    reached_(w, c, 0, asked, line);
}

/* Arms simprov to fail `fn` with `error`, and checks the count after. */
#define ARM(w, fn, error) assert_true((w)->sim_fail_next(fn, error))

static void run_own_entries(struct two *w)
{
    int err = 0, ret;
    SOCKET r;
    struct counts c;
    SOCKADDR_STORAGE to;
    int tolen;
    e2e_loopback(AF_INET, 4242, &to, &tolen);

    /* WSPSocket: the lower provider's error; an entry that is not one of
     * peerlsp's chains never reaches a provider. */
    ARM(w, "WSPSocket", WSAEMFILE);
    c = counts_of(w, "WSPSocket");
    r = w->lsp.lpWSPSocket(AF_INET, SOCK_DGRAM, IPPROTO_UDP, &w->udp_chain, 0, 0, &err);
    EXPECT_ERR(r, INVALID_SOCKET, err, WSAEMFILE);
    REACHED(w, c, 0, 1);
    WSAPROTOCOL_INFOW foreign = w->udp_chain;
    foreign.dwCatalogEntryId = 0x7fff0002;
    r = w->lsp.lpWSPSocket(AF_INET, SOCK_DGRAM, IPPROTO_UDP, &foreign, 0, 0, &err);
    EXPECT_ERR(r, INVALID_SOCKET, err, WSAEINVAL);
    r = w->lsp.lpWSPSocket(AF_INET, SOCK_DGRAM, IPPROTO_UDP, NULL, 0, 0, &err);
    EXPECT_ERR(r, INVALID_SOCKET, err, WSAEINVAL);
    REACHED(w, c, 0, 1);

    /* WSPConnect failing below: the error as simprov gave it, and the
     * record no longer answers (getpeername asks simprov); a connect that
     * succeeds is then answered from the table. */
    ARM(w, "WSPConnect", WSAETIMEDOUT);
    c = counts_of(w, "WSPConnect");
    ret = w->lsp.lpWSPConnect(w->m, (struct sockaddr *)&to, tolen, NULL, NULL, NULL, NULL, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAETIMEDOUT);
    REACHED(w, c, 0, 1);
    PEER_ASKED(w, w->m, 1, SOCKET_ERROR, WSAENOTCONN);
    assert_int_equal(w->lsp.lpWSPConnect(w->m, (struct sockaddr *)&to, tolen, NULL, NULL, NULL,
                                         NULL, &err), 0);
    PEER_ASKED(w, w->m, 0, 0, 0);

    /* A close failing below keeps the socket and its record. */
    ARM(w, "WSPCloseSocket", WSAEWOULDBLOCK);
    c = counts_of(w, "WSPCloseSocket");
    ret = w->lsp.lpWSPCloseSocket(w->m, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAEWOULDBLOCK);
    REACHED(w, c, 0, 1);
    PEER_ASKED(w, w->m, 0, 0, 0);

    /* The options and ioctl peerlsp wraps, send and receive. */
    char byte = 1;
    int optlen = sizeof byte;
    ARM(w, "WSPSetSockOpt", WSAENOPROTOOPT);
    ret = w->lsp.lpWSPSetSockOpt(w->m, SOL_SOCKET, SO_BROADCAST, &byte, 1, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOPROTOOPT);
    ARM(w, "WSPGetSockOpt", WSAEINVALIDPROVIDER);
    ret = w->lsp.lpWSPGetSockOpt(w->m, SOL_SOCKET, SO_BROADCAST, &byte, &optlen, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAEINVALIDPROVIDER);
    u_long nonblocking = 1;
    DWORD returned = 0;
    ARM(w, "WSPIoctl", WSAEINVALIDPROCTABLE);
    ret = w->lsp.lpWSPIoctl(w->m, FIONBIO, &nonblocking, sizeof nonblocking, NULL, 0, &returned,
                            NULL, NULL, NULL, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAEINVALIDPROCTABLE);
    char data[4] = "abc";
    WSABUF buf = { sizeof data, data };
    DWORD done = 0, flags = 0;
    ARM(w, "WSPSend", WSAENOBUFS);
    ret = w->lsp.lpWSPSend(w->m, &buf, 1, &done, 0, NULL, NULL, NULL, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOBUFS);
    ARM(w, "WSPRecv", WSAEMSGSIZE);
    ret = w->lsp.lpWSPRecv(w->m, &buf, 1, &done, &flags, NULL, NULL, NULL, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAEMSGSIZE);
    ARM(w, "WSPSendTo", WSAEACCES);
    ret = w->lsp.lpWSPSendTo(w->m, &buf, 1, &done, 0, (struct sockaddr *)&to, tolen, NULL, NULL,
                             NULL, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAEACCES);
    ARM(w, "WSPRecvFrom", WSAEINTR);
    ret = w->lsp.lpWSPRecvFrom(w->m, &buf, 1, &done, &flags, NULL, NULL, NULL, NULL, NULL, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAEINTR);
    WSANETWORKEVENTS events;
    ARM(w, "WSPEnumNetworkEvents", WSAEBADF);
    ret = w->lsp.lpWSPEnumNetworkEvents(w->m, NULL, &events, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAEBADF);
    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ARM(w, "WSPGetOverlappedResult", WSA_IO_INCOMPLETE);
    BOOL ok = w->lsp.lpWSPGetOverlappedResult(w->m, &ov, &done, FALSE, &flags, &err);
    EXPECT_ERR(ok, FALSE, err, WSA_IO_INCOMPLETE);
    PEER_ASKED(w, w->m, 0, 0, 0); /* none of these touched the peer */

    /* A transfer failing with an error that ends the connection: from then
     * on every getpeername asks below (simprov, which still has the peer),
     * until a join to the same address makes peerlsp record it again. */
    for (int i = 0; i < 5; i++) {
        static const char *const fns[] = { "WSPSend", "WSPSendTo", "WSPRecvFrom",
                                           "WSPGetOverlappedResult", "WSPEnumNetworkEvents" };
        static const int errors[] = { WSAENETRESET, WSAECONNRESET, WSAECONNABORTED,
                                      WSAETIMEDOUT, WSAEDISCON };
        ARM(w, fns[i], errors[i]);
        if (i == 0)
            ret = w->lsp.lpWSPSend(w->m, &buf, 1, &done, 0, NULL, NULL, NULL, &err);
        else if (i == 1)
            ret = w->lsp.lpWSPSendTo(w->m, &buf, 1, &done, 0, (struct sockaddr *)&to, tolen,
                                     NULL, NULL, NULL, &err);
        else if (i == 2)
            ret = w->lsp.lpWSPRecvFrom(w->m, &buf, 1, &done, &flags, NULL, NULL, NULL, NULL,
                                       NULL, &err);
        else if (i == 3)
            ret = w->lsp.lpWSPGetOverlappedResult(w->m, &ov, &done, FALSE, &flags, &err)
                      ? 0 : SOCKET_ERROR;
        else
            ret = w->lsp.lpWSPEnumNetworkEvents(w->m, NULL, &events, &err);
        EXPECT_ERR(ret, SOCKET_ERROR, err, errors[i]);
        PEER_ASKED(w, w->m, 1, 0, 0);
        PEER_ASKED(w, w->m, 1, 0, 0);
        assert_true(w->lsp.lpWSPJoinLeaf(w->m, (struct sockaddr *)&to, tolen, NULL, NULL, NULL,
                                         NULL, JL_BOTH, &err) == w->m);
        PEER_ASKED(w, w->m, 0, 0, 0);
    }

    /* Accept, join and duplicate failing below. */
    ARM(w, "WSPAccept", WSAECONNABORTED);
    r = w->lsp.lpWSPAccept(w->m, NULL, NULL, NULL, 0, &err);
    EXPECT_ERR(r, INVALID_SOCKET, err, WSAECONNABORTED);
    ARM(w, "WSPJoinLeaf", WSAEADDRNOTAVAIL);
    r = w->lsp.lpWSPJoinLeaf(w->m, (struct sockaddr *)&to, tolen, NULL, NULL, NULL, NULL,
                             JL_BOTH, &err);
    EXPECT_ERR(r, INVALID_SOCKET, err, WSAEADDRNOTAVAIL);
    /* A failed join leaves s unknown: asked below once, and recorded. */
    PEER_ASKED(w, w->m, 1, 0, 0);
    PEER_ASKED(w, w->m, 0, 0, 0);
    WSAPROTOCOL_INFOW dup;
    ARM(w, "WSPDuplicateSocket", WSAEPROVIDERFAILEDINIT);
    ret = w->lsp.lpWSPDuplicateSocket(w->m, GetCurrentProcessId(), &dup, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAEPROVIDERFAILEDINIT);

    /* Shutdown and the disconnects failing below: the error as given, and
     * from the call on the peer is asked below (the stack may drop it). */
    WSABUF none = { 0, NULL };
    ARM(w, "WSPSendDisconnect", WSAENOTCONN);
    ret = w->lsp.lpWSPSendDisconnect(w->m, &none, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOTCONN);
    PEER_ASKED(w, w->m, 1, 0, 0);
    ARM(w, "WSPRecvDisconnect", WSAESHUTDOWN);
    ret = w->lsp.lpWSPRecvDisconnect(w->m, &none, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAESHUTDOWN);
    ARM(w, "WSPShutdown", WSAEINPROGRESS);
    ret = w->lsp.lpWSPShutdown(w->m, SD_BOTH, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAEINPROGRESS);
    PEER_ASKED(w, w->m, 1, 0, 0);
    (void)w->sim_fail_next(NULL, 0);

    /* A handle neither lower provider owns: every entry that takes a
     * socket answers WSAENOTSOCK, after asking all three lower providers
     * (tbase's two GUIDs, simprov) who owns it. */
    SOCKET x = (SOCKET)w->stranger;
    struct counts asked = counts_of(w, "WSPGetSockOpt");
    r = w->lsp.lpWSPAccept(x, NULL, NULL, NULL, 0, &err);
    EXPECT_ERR(r, INVALID_SOCKET, err, WSAENOTSOCK);
    r = w->lsp.lpWSPJoinLeaf(x, (struct sockaddr *)&to, tolen, NULL, NULL, NULL, NULL, JL_BOTH,
                             &err);
    EXPECT_ERR(r, INVALID_SOCKET, err, WSAENOTSOCK);
    ret = w->lsp.lpWSPConnect(x, (struct sockaddr *)&to, tolen, NULL, NULL, NULL, NULL, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOTSOCK);
    ret = w->lsp.lpWSPShutdown(x, SD_BOTH, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOTSOCK);
    ret = w->lsp.lpWSPSendDisconnect(x, &none, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOTSOCK);
    ret = w->lsp.lpWSPRecvDisconnect(x, &none, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOTSOCK);
    ret = w->lsp.lpWSPDuplicateSocket(x, GetCurrentProcessId(), &dup, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOTSOCK);
    ret = w->lsp.lpWSPCloseSocket(x, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOTSOCK);
    SOCKADDR_STORAGE a;
    int alen = sizeof a;
    ret = w->lsp.lpWSPGetPeerName(x, (struct sockaddr *)&a, &alen, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOTSOCK);
    REACHED(w, asked, 18, 9);
}


/* Send, receive, their results, the options, ioctl and the extension
 * functions on a handle neither lower provider owns: WSAENOTSOCK. The
 * extension functions are peerlsp's own; they report through the thread's
 * last error. */
static void run_unknown_handle_rest(struct two *w)
{
    SOCKET x = (SOCKET)w->stranger;
    int err = 0, ret;
    char data[4] = "abc", opt[4];
    int optlen = sizeof opt;
    WSABUF buf = { sizeof data, data };
    DWORD done = 0, flags = 0, returned = 0;
    SOCKADDR_STORAGE to;
    int tolen;
    e2e_loopback(AF_INET, 4242, &to, &tolen);
    ret = w->lsp.lpWSPSend(x, &buf, 1, &done, 0, NULL, NULL, NULL, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOTSOCK);
    ret = w->lsp.lpWSPRecv(x, &buf, 1, &done, &flags, NULL, NULL, NULL, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOTSOCK);
    ret = w->lsp.lpWSPSendTo(x, &buf, 1, &done, 0, (struct sockaddr *)&to, tolen, NULL, NULL,
                             NULL, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOTSOCK);
    ret = w->lsp.lpWSPRecvFrom(x, &buf, 1, &done, &flags, NULL, NULL, NULL, NULL, NULL, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOTSOCK);
    WSANETWORKEVENTS events;
    ret = w->lsp.lpWSPEnumNetworkEvents(x, NULL, &events, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOTSOCK);
    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    BOOL ok = w->lsp.lpWSPGetOverlappedResult(x, &ov, &done, FALSE, &flags, &err);
    EXPECT_ERR(ok, FALSE, err, WSAENOTSOCK);
    ret = w->lsp.lpWSPGetSockOpt(x, SOL_SOCKET, SO_TYPE, opt, &optlen, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOTSOCK);
    ret = w->lsp.lpWSPSetSockOpt(x, SOL_SOCKET, SO_BROADCAST, opt, 1, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOTSOCK);
    u_long nonblocking = 1;
    ret = w->lsp.lpWSPIoctl(x, FIONBIO, &nonblocking, sizeof nonblocking, NULL, 0, &returned,
                            NULL, NULL, NULL, &err);
    EXPECT_ERR(ret, SOCKET_ERROR, err, WSAENOTSOCK);

    /* peerlsp's five extension functions, as an application gets them:
     * asked on tbase's socket, but TransmitPackets (Wine 8 has none) on
     * simprov's. */
    static const GUID guids[] = { WSAID_CONNECTEX, WSAID_ACCEPTEX, WSAID_DISCONNECTEX,
                                  WSAID_TRANSMITFILE, WSAID_TRANSMITPACKETS };
    void *fns[5];
    for (int i = 0; i < 5; i++) {
        GUID g = guids[i];
        fns[i] = NULL;
        assert_int_equal(w->lsp.lpWSPIoctl(i < 4 ? w->t : w->m,
                                           SIO_GET_EXTENSION_FUNCTION_POINTER, &g,
                                           sizeof g, &fns[i], sizeof fns[i], &returned, NULL,
                                           NULL, NULL, &err), 0);
        assert_non_null(fns[i]);
    }
    OVERLAPPED xov;
    memset(&xov, 0, sizeof xov);
    char abuf[128];
#define EXT_NOTSOCK(call)                                                                  \
    do {                                                                                   \
        WSASetLastError(0);                                                                \
        BOOL ok_ = (call);                                                                 \
        int err_ = WSAGetLastError();                                                      \
        if (ok_ || err_ != WSAENOTSOCK)                                                    \
            fail_msg("%s on a handle no provider owns: %d, last error %d", #call, ok_, err_); \
    } while (0)
    EXT_NOTSOCK(((LPFN_CONNECTEX)fns[0])(x, (struct sockaddr *)&to, tolen, NULL, 0, NULL, &xov));
    EXT_NOTSOCK(((LPFN_ACCEPTEX)fns[1])(x, x, abuf, 0, 40, 40, &done, &xov));
    EXT_NOTSOCK(((LPFN_DISCONNECTEX)fns[2])(x, &xov, 0, 0));
    EXT_NOTSOCK(((LPFN_TRANSMITFILE)fns[3])(x, NULL, 0, 0, &xov, NULL, 0));
    EXT_NOTSOCK(((LPFN_TRANSMITPACKETS)fns[4])(x, NULL, 0, 0, &xov, 0));

    /* The ConnectEx pointer came from tbase's socket: simprov's own was
     * never asked for. On simprov's socket peerlsp asks simprov now; that
     * failing, the application gets simprov's error. */
    assert_true(w->sim_fail_next("WSPIoctl", WSAEINVALIDPROVIDER));
    WSASetLastError(0);
    ok = ((LPFN_CONNECTEX)fns[0])(w->m, (struct sockaddr *)&to, tolen, NULL, 0, NULL, &xov);
    if (ok || WSAGetLastError() != WSAEINVALIDPROVIDER)
        fail_msg("ConnectEx with simprov's WSPIoctl failing: %d, last error %d", ok,
                 WSAGetLastError());
    (void)w->sim_fail_next(NULL, 0);
}

/* Successful calls of every traced entry, IPv6 peers included: TCP/IPv6
 * over tbase (the third chain), a join and a duplication. */
struct successes {
    SOCKET accepted_plain; /* accepted without an address buffer */
    SOCKET odd;            /* connected with another family's length */
};

static void run_successes(struct two *w, SOCKET *client6, SOCKET *server6, SOCKET *listener6,
                          SOCKET *dup_of, struct successes *out)
{
    const struct wsapi *api = w->api;
    SOCKADDR_STORAGE addr, peer;
    int len, plen = sizeof peer;
    SOCKET l = api->socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP);
    SOCKET c = api->socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP);
    assert_true(l != INVALID_SOCKET && c != INVALID_SOCKET);
    assert_int_equal(host_socket_entry(c), w->ids.chain_ids[2]);
    e2e_loopback(AF_INET6, 0, &addr, &len);
    E2E_OK_API(api, api->bind(l, (struct sockaddr *)&addr, len));
    E2E_OK_API(api, api->getsockname(l, (struct sockaddr *)&addr, &len));
    E2E_OK_API(api, api->listen(l, 2));
    E2E_OK_API(api, api->connect(c, (struct sockaddr *)&addr, len));
    SOCKET sv = api->accept(l, (struct sockaddr *)&peer, &plen);
    assert_true(sv != INVALID_SOCKET);
    plen = sizeof peer;
    E2E_OK_API(api, api->getpeername(c, (struct sockaddr *)&peer, &plen));
    e2e_addr_equal(&peer, plen, &addr, len);
    *client6 = c;
    *server6 = sv;
    *listener6 = l;

    /* A second connection accepted without an address buffer. */
    SOCKET c2 = api->socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP);
    assert_true(c2 != INVALID_SOCKET);
    E2E_OK_API(api, api->connect(c2, (struct sockaddr *)&addr, len));
    SOCKET sv2 = api->accept(l, NULL, NULL);
    assert_true(sv2 != INVALID_SOCKET);
    E2E_OK_API(api, api->closesocket(c2));
    E2E_OK_API(api, api->closesocket(sv2));
    out->accepted_plain = sv2;

    /* A connect whose address length is not its family's (an IPv4 address
     * given with IPv6's length, as Windows allows) on a new simprov socket. */
    int err = 0;
    SOCKET odd = w->lsp.lpWSPSocket(AF_INET, SOCK_DGRAM, IPPROTO_UDP, &w->udp_chain, 0, 0, &err);
    assert_true(odd != INVALID_SOCKET);
    SOCKADDR_STORAGE wide;
    int widelen;
    e2e_loopback(AF_INET, 4444, &wide, &widelen);
    assert_int_equal(w->lsp.lpWSPConnect(odd, (struct sockaddr *)&wide,
                                         (int)sizeof(struct sockaddr_in6), NULL, NULL, NULL,
                                         NULL, &err), 0);
    assert_int_equal(w->lsp.lpWSPCloseSocket(odd, &err), 0);
    out->odd = odd;

    /* A join on simprov: the socket itself joins (simprov's default). */
    SOCKADDR_STORAGE leaf;
    int leaflen;
    e2e_loopback(AF_INET, 4343, &leaf, &leaflen);
    SOCKET j = w->lsp.lpWSPJoinLeaf(w->m, (struct sockaddr *)&leaf, leaflen, NULL, NULL, NULL,
                                    NULL, JL_BOTH, &err);
    assert_true(j == w->m);
    PEER_ASKED(w, w->m, 0, 0, 0);

    /* A duplication on tbase's socket. */
    WSAPROTOCOL_INFOW dup;
    assert_int_equal(w->lsp.lpWSPDuplicateSocket(c, GetCurrentProcessId(), &dup, &err), 0);
    assert_int_equal(dup.dwCatalogEntryId, w->ids.chain_ids[2]);
    *dup_of = c;
    u_long nonblocking = 0;
    DWORD returned = 0;
    assert_int_equal(w->lsp.lpWSPIoctl(c, FIONBIO, &nonblocking, sizeof nonblocking, NULL, 0,
                                       &returned, NULL, NULL, NULL, &err), 0);
    int on = 1;
    assert_int_equal(w->lsp.lpWSPSetSockOpt(c, SOL_SOCKET, SO_KEEPALIVE, (char *)&on, sizeof on,
                                            &err), 0);
    E2E_OK_API(api, api->closesocket(l));
}

static void scenario(int trace)
{
    struct two w;
    captured_len = 0;
    memset(captured, 0, sizeof captured);
    two_start(&w, trace);
    run_pass_through(&w);
    run_own_entries(&w);
    run_unknown_handle_rest(&w);
    SOCKET c6, s6, l6, dup_of, stranger = (SOCKET)w.stranger;
    struct successes more;
    run_successes(&w, &c6, &s6, &l6, &dup_of, &more);
    E2E_OK_API(w.api, w.api->closesocket(c6));
    E2E_OK_API(w.api, w.api->closesocket(s6));
    SOCKET m = w.m;
    two_stop(&w);
    if (!trace) {
        if (captured_len)
            fail_msg("traced without the registry value:\n%s", captured);
        return;
    }
    /* Every traced entry, failing with the lower provider's error, and
     * succeeding (with the peer, IPv6 and IPv4). */
    char want[64];
    expect_trace("WSPSocket", INVALID_SOCKET, "error 10024");            /* WSAEMFILE */
    expect_trace("WSPConnect", m, "error 10060");                        /* WSAETIMEDOUT */
    expect_trace("WSPConnect", m, "0 peer 127.0.0.1:4242");
    expect_trace("WSPCloseSocket", m, "error 10035");                    /* WSAEWOULDBLOCK */
    expect_trace("WSPCloseSocket", m, "0");
    expect_trace("WSPSetSockOpt", m, "error 10042");                     /* WSAENOPROTOOPT */
    expect_trace("WSPIoctl", m, "error 10104");                          /* WSAEINVALIDPROCTABLE */
    expect_trace("WSPAccept", m, "error 10053");                         /* WSAECONNABORTED */
    expect_trace("WSPJoinLeaf", m, "error 10049");                       /* WSAEADDRNOTAVAIL */
    snprintf(want, sizeof want, "%lld", (long long)m);
    expect_trace("WSPJoinLeaf", m, want);
    expect_trace("WSPDuplicateSocket", m, "error 10106");                /* WSAEPROVIDERFAILEDINIT */
    expect_trace("WSPDuplicateSocket", dup_of, "0");
    expect_trace("WSPGetPeerName", m, "error 10057");                    /* WSAENOTCONN */
    expect_trace("WSPGetPeerName", m, "0 peer 127.0.0.1:4242");
    expect_trace("WSPGetPeerName", stranger, "error 10038");             /* WSAENOTSOCK */
    expect_trace("WSPConnect", c6, "0 peer [0:0:0:0:0:0:0:1]:");
    expect_trace("WSPGetPeerName", c6, "0 peer [0:0:0:0:0:0:0:1]:");
    snprintf(want, sizeof want, "%lld peer [0:0:0:0:0:0:0:1]:", (long long)s6);
    expect_trace("WSPAccept", l6, want);
    expect_trace("WSPSetSockOpt", c6, "0");
    expect_trace("WSPIoctl", c6, "0");
    snprintf(want, sizeof want, "%lld peer -", (long long)more.accepted_plain);
    expect_trace("WSPAccept", l6, want);
    expect_trace("WSPConnect", more.odd, "0 peer -");
}

static void test_dispatch_failing_lower(void **state)
{
    (void)state;
    scenario(0);
}

static void test_dispatch_failing_lower_traced(void **state)
{
    (void)state;
    scenario(1);
}

int main(void)
{
    PVOID handler = AddVectoredExceptionHandler(1, debug_output_handler);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dispatch_failing_lower),
        cmocka_unit_test(test_dispatch_failing_lower_traced),
    };
    int failed = cmocka_run_group_tests_name("every entry over two lower providers, failing below",
                                             tests, NULL, NULL);
    RemoveVectoredExceptionHandler(handler);
    set_trace(0);
    return failed;
}
