/*
 * test_paths_sim.c - connect paths Wine 8 cannot drive, against simprov,
 * a simulated base provider (tests/simprov, simprov.h):
 *  - a handle reused after DisconnectEx(TF_REUSE_SOCKET),
 *    TransmitFile(TF_DISCONNECT | TF_REUSE_SOCKET) or TransmitPackets
 *    (TP_DISCONNECT | TP_REUSE_SOCKET) that connects again with ConnectEx,
 *    or is the accept socket of an AcceptEx. Wine 8 cannot reuse a handle
 *    (ConnectEx on it fails with WSAEISCONN), ignores TF_REUSE_SOCKET in
 *    TransmitFile and has no TransmitPackets;
 *  - a getpeername while the disconnect (or the new ConnectEx) is still
 *    pending: simprov holds the operation back until the test completes it;
 *  - a successful WSAJoinLeaf that returns the socket itself or a new one.
 *    Wine 8's WSAJoinLeaf is a stub that always fails;
 *  - a connection reset by the other end, seen with Windows' codes
 *    (WSAECONNRESET; Wine reports a reset to recv as 0 bytes).
 *
 * Like every connect-path test, each scenario runs on the base provider
 * (here simprov) alone and through both peerlsp layouts, and every
 * getpeername through the host is compared with simprov's own answer for
 * the same handle (host_lower_getpeername) and with the expected peer.
 * simprov follows Windows where Wine differs: a ConnectEx or AcceptEx
 * socket has no peer (WSAENOTCONN) until SO_UPDATE_*_CONTEXT is set.
 */
#include "e2e.h"

#include <stdio.h>
#include <string.h>

#include <peerlsp/peerlsp.h>

#include "simprov.h"

static const int families[] = { AF_INET, AF_INET6 };
static const GUID guid_connectex = WSAID_CONNECTEX;
static const GUID guid_acceptex = WSAID_ACCEPTEX;
static const GUID guid_getacceptexsockaddrs = WSAID_GETACCEPTEXSOCKADDRS;
static const GUID guid_disconnectex = WSAID_DISCONNECTEX;
static const GUID guid_transmitfile = WSAID_TRANSMITFILE;
static const GUID guid_transmitpackets = WSAID_TRANSMITPACKETS;

#define ADDR_SLOT ((DWORD)sizeof(SOCKADDR_STORAGE) + 16)

/* ---- simprov's control exports ------------------------------------------ */

static FARPROC sim_export(const char *name)
{
    static HMODULE module;
    if (!module && !(module = LoadLibraryW(PEERLSP_TEST_SIM_DLL)))
        fail_msg("cannot load %ls: error %lu", PEERLSP_TEST_SIM_DLL, GetLastError());
    FARPROC fn = GetProcAddress(module, name);
    if (!fn)
        fail_msg("simprov.dll does not export %s", name);
    return fn;
}

#define SIM_FN(type, name) ((type)(void (*)(void))sim_export(name))

static LONG sim_calls(const char *name)
{
    return SIM_FN(SIMPROV_CALLS_FN, "simprov_calls")(name);
}

/* ---- the catalog: simprov as the base provider -------------------------- */

/* simprov's four entries are tbase's (realistic fields copied from Wine's
 * own entries, see host_catalog_add_base) under simprov's GUID and path,
 * in host_base_index order, so e2e_expected_entry works unchanged. */
static void sim_install_base(struct simcat *cat, DWORD ids[HOST_BASE_COUNT])
{
    struct simcat *scratch = simcat_create();
    DWORD tbase_ids[HOST_BASE_COUNT], len = 0;
    WSAPROTOCOL_INFOW all[16], entries[HOST_BASE_COUNT];
    int err = 0;
    assert_non_null(scratch);
    if ((err = host_catalog_add_base(scratch, PEERLSP_TEST_BASE_DLL, tbase_ids)))
        fail_msg("host_catalog_add_base (scratch): %d", err);
    len = sizeof all;
    int n = simcat_enum(scratch, NULL, all, &len, &err);
    if (n != HOST_BASE_COUNT)
        fail_msg("scratch catalog: %d entries (error %d), expected %d", n, err, HOST_BASE_COUNT);
    for (int k = 0; k < HOST_BASE_COUNT; k++) {
        int found = 0;
        for (int i = 0; i < n; i++) {
            if (all[i].dwCatalogEntryId == tbase_ids[k]) {
                entries[k] = all[i];
                found = 1;
            }
        }
        assert_true(found);
        entries[k].ProviderId = SIMPROV_GUID;
        entries[k].dwProviderReserved = 0;
    }
    simcat_destroy(scratch);
    GUID g = SIMPROV_GUID;
    if (simcat_install(cat, &g, PEERLSP_TEST_SIM_DLL, entries, HOST_BASE_COUNT, ids, &err) ==
        SOCKET_ERROR)
        fail_msg("simcat_install(simprov): %d", err);
}

static int sim_setup(void **state)
{
    static const GUID lsp_guid = PEERLSP_GUID_INIT;
    struct e2e_session *s = test_calloc(1, sizeof *s);
    enum e2e_layout layout = *(enum e2e_layout *)*state;
    int err;

    s->layout = layout;
    s->through_lsp = layout != E2E_BASE_ONLY;
    s->cat = simcat_create();
    assert_non_null(s->cat);
    sim_install_base(s->cat, s->base_ids);
    if (layout != E2E_BASE_ONLY) {
        err = host_catalog_install_lsp_over(s->cat, PEERLSP_TEST_LSP_DLL, &lsp_guid, NULL,
                                            layout == E2E_LSP_SHARED ? HOST_CHAINS_SHARE_GUID
                                                                     : HOST_CHAINS_OWN_GUID,
                                            s->base_ids, HOST_BASE_COUNT, &s->lsp);
        if (err)
            fail_msg("host_catalog_install_lsp_over(simprov): %d", err);
        assert_int_equal(s->lsp.chain_count, HOST_BASE_COUNT);
    }
    host_set_catalog(s->cat);
    if ((err = host_startup()))
        fail_msg("host_startup: %d", err);
    s->api = host_api();
    *state = s;
    return 0;
}

static int sim_teardown(void **state)
{
    struct e2e_session *s = *state;
    LONG live = e2e_live_handles(s);
    e2e_stop(s);
    test_free(s);
    /* Checked after the cleanup so that a failure cannot leave the host
     * started for the next test. */
    if (live != 0)
        fail_msg("%ld handles still bound after the test", live);
    return 0;
}

/* ---- helpers -------------------------------------------------------------- */

/* A documentation address of af (TEST-NET / 2001:db8::) with a port. */
static void doc_addr(int af, int n, SOCKADDR_STORAGE *a, int *len)
{
    memset(a, 0, sizeof *a);
    if (af == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)a;
        in->sin_family = AF_INET;
        in->sin_port = htons((u_short)(1000 + n));
        in->sin_addr.s_addr = htonl(0xC0000200u + (u_long)n); /* 192.0.2.n */
        *len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)a;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((u_short)(1000 + n));
        in6->sin6_addr.s6_addr[0] = 0x20;
        in6->sin6_addr.s6_addr[1] = 0x01;
        in6->sin6_addr.s6_addr[2] = 0x0d;
        in6->sin6_addr.s6_addr[3] = 0xb8;
        in6->sin6_addr.s6_addr[15] = (u_char)n;
        *len = sizeof *in6;
    }
}

static void hex(char *out, const void *p, int len)
{
    out[0] = 0;
    for (int i = 0; i < len && i < 28; i++)
        sprintf(out + 2 * i, "%02x", ((const unsigned char *)p)[i]);
}

/* getpeername through the host and from simprov directly for the same
 * handle must agree (return value, error, length, bytes), and must be
 * `want` (NULL: SOCKET_ERROR with WSAENOTCONN). */
#define CHECK_PEER(row, af, sock, want, wantlen) \
    check_peer(s, row, af, sock, want, wantlen, __LINE__)
static void check_peer(const struct e2e_session *s, const char *row, int af, SOCKET sock,
                       const void *want, int wantlen, int line)
{
    SOCKADDR_STORAGE a, b;
    int alen = sizeof a, blen = sizeof b, ea = 0, eb = (int)0xdeadbeef;
    char ha[64], hb[64];
    memset(&a, 0xcc, sizeof a);
    memset(&b, 0xcc, sizeof b);
    s->api->WSASetLastError((int)0xdeadbeef);
    int ra = s->api->getpeername(sock, (struct sockaddr *)&a, &alen);
    if (ra)
        ea = s->api->WSAGetLastError();
    int rb = host_lower_getpeername(sock, (struct sockaddr *)&b, &blen, &eb);
    if (!rb)
        eb = 0;
    hex(ha, &a, ra ? 0 : alen);
    hex(hb, &b, rb ? 0 : blen);
    if (ra != rb || ea != eb || (!ra && (alen != blen || memcmp(&a, &b, (size_t)alen))))
        fail_msg("line %d, %s, af %d: host %d/%d len %d [%s], simprov %d/%d len %d [%s] (%s)",
                 line, row, af, ra, ea, alen, ha, rb, eb, blen, hb,
                 e2e_layout_names[s->layout]);
    if (!want) {
        if (ra != SOCKET_ERROR || ea != WSAENOTCONN)
            fail_msg("line %d, %s, af %d: getpeername %d/%d [%s], expected WSAENOTCONN (%s)",
                     line, row, af, ra, ea, ha, e2e_layout_names[s->layout]);
        return;
    }
    char hw[64];
    hex(hw, want, wantlen);
    if (ra || alen != wantlen || memcmp(&a, want, (size_t)wantlen))
        fail_msg("line %d, %s, af %d: getpeername %d/%d len %d [%s], expected len %d [%s] (%s)",
                 line, row, af, ra, ea, alen, ha, wantlen, hw, e2e_layout_names[s->layout]);
}

/* Three more answers: through peerlsp all from its table (simprov is not
 * asked), on simprov alone each one asked. */
#define CHECK_RECORDED(row, af, sock, want, wantlen) \
    check_recorded(s, row, af, sock, want, wantlen, __LINE__)
static void check_recorded(const struct e2e_session *s, const char *row, int af, SOCKET sock,
                           const void *want, int wantlen, int line)
{
    LONG before = sim_calls("WSPGetPeerName");
    for (int k = 0; k < 3; k++) {
        SOCKADDR_STORAGE a;
        int alen = sizeof a;
        memset(&a, 0xcc, sizeof a);
        if (s->api->getpeername(sock, (struct sockaddr *)&a, &alen) || alen != wantlen ||
            memcmp(&a, want, (size_t)wantlen))
            fail_msg("line %d, %s, af %d: answer %d differs (len %d, error %d) (%s)", line, row,
                     af, k, alen, s->api->WSAGetLastError(), e2e_layout_names[s->layout]);
    }
    LONG asked = sim_calls("WSPGetPeerName") - before;
    if (asked != (E2E_IS_LSP(s) ? 0 : 3))
        fail_msg("line %d, %s, af %d: simprov asked %ld times for 3 answers (%s)", line, row, af,
                 asked, e2e_layout_names[s->layout]);
}

static SOCKET sim_socket(const struct e2e_session *s, int af, int type)
{
    SOCKET sock = s->api->socket(af, type, type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP);
    if (sock == INVALID_SOCKET)
        fail_msg("socket(%d, %d): error %d (%s)", af, type, s->api->WSAGetLastError(),
                 e2e_layout_names[s->layout]);
    DWORD bound = host_socket_entry(sock), expected = e2e_expected_entry(s, af, type);
    if (bound != expected)
        fail_msg("socket(%d, %d) bound to entry %lu, expected %lu (%s)", af, type, bound,
                 expected, e2e_layout_names[s->layout]);
    return sock;
}

/* A TCP socket bound to the loopback, its address in *addr. */
static SOCKET sim_bound(const struct e2e_session *s, int af, SOCKADDR_STORAGE *addr, int *len)
{
    SOCKET sock = sim_socket(s, af, SOCK_STREAM);
    e2e_loopback(af, 0, addr, len);
    E2E_OK(s->api->bind(sock, (struct sockaddr *)addr, *len));
    *len = sizeof *addr;
    E2E_OK(s->api->getsockname(sock, (struct sockaddr *)addr, len));
    return sock;
}

/* The base provider's own pointer for guid, asked of simprov directly. */
static void *sim_base_ext_fn(const struct e2e_session *s, SOCKET sock, const GUID *guid)
{
    SOCKADDR_STORAGE ignored;
    int len = sizeof ignored, err = 0;
    WSPPROC_TABLE procs;
    GUID g = *guid;
    void *fn = NULL;
    DWORD returned = 0;
    (void)s;
    /* Makes the host start simprov itself, so that host_provider knows it. */
    (void)host_lower_getpeername(sock, (struct sockaddr *)&ignored, &len, &err);
    if (host_provider(&SIMPROV_GUID, &procs, NULL))
        fail_msg("host_provider(simprov) failed");
    if (procs.lpWSPIoctl(sock, SIO_GET_EXTENSION_FUNCTION_POINTER, &g, sizeof g, &fn, sizeof fn,
                         &returned, NULL, NULL, NULL, &err) || !fn)
        fail_msg("simprov SIO_GET_EXTENSION_FUNCTION_POINTER {%08lx}: error %d", guid->Data1,
                 err);
    return fn;
}

/* The function an application gets; through peerlsp never simprov's own. */
static void *app_ext_fn(const struct e2e_session *s, SOCKET sock, const GUID *guid)
{
    void *fn = e2e_ext_fn(s, sock, guid);
    void *base = sim_base_ext_fn(s, sock, guid);
    if (E2E_IS_LSP(s) ? fn == base : fn != base)
        fail_msg("{%08lx}: pointer %p, simprov's %p (%s)", guid->Data1, fn, base,
                 e2e_layout_names[s->layout]);
    return fn;
}

/* An extension function's start: TRUE, or FALSE with WSA_IO_PENDING when
 * `pend`; anything else fails the test. */
static void expect_start(const struct e2e_session *s, const char *row, const char *what, int af,
                         BOOL ok, int pend)
{
    int err = ok ? 0 : WSAGetLastError();
    if (pend ? (ok || err != WSA_IO_PENDING) : !ok)
        fail_msg("%s, af %d: %s returned %d, error %d; expected %s (%s)", row, af, what, ok, err,
                 pend ? "WSA_IO_PENDING" : "TRUE", e2e_layout_names[s->layout]);
}

/* A started operation's result through the host's WSAGetOverlappedResult. */
static void expect_done(const struct e2e_session *s, const char *row, const char *what, int af,
                        SOCKET sock, WSAOVERLAPPED *ov, DWORD want_bytes)
{
    DWORD transferred = 0xdeadbeef;
    int err = 0;
    if (!e2e_overlapped_wait(s, sock, ov, 5000, &transferred, &err))
        fail_msg("%s, af %d: %s finished with %d (%s)", row, af, what, err,
                 e2e_layout_names[s->layout]);
    if (transferred != want_bytes)
        fail_msg("%s, af %d: %s moved %lu bytes, expected %lu", row, af, what, transferred,
                 want_bytes);
}

/* While held back, the host's non-waiting WSAGetOverlappedResult says
 * WSA_IO_INCOMPLETE. */
static void expect_in_flight(const struct e2e_session *s, const char *row, int af, SOCKET sock,
                             WSAOVERLAPPED *ov)
{
    DWORD transferred = 0xdeadbeef, flags = 0;
    s->api->WSASetLastError((int)0xdeadbeef);
    BOOL ok = s->api->WSAGetOverlappedResult(sock, ov, &transferred, FALSE, &flags);
    int err = s->api->WSAGetLastError();
    if (ok || err != WSA_IO_INCOMPLETE)
        fail_msg("%s, af %d: in flight, WSAGetOverlappedResult gave %d/%d (%s)", row, af, ok,
                 err, e2e_layout_names[s->layout]);
}

static void complete_pending(const char *row, int af)
{
    if (!SIM_FN(SIMPROV_COMPLETE_PENDING_FN, "simprov_complete_pending")())
        fail_msg("%s, af %d: nothing was pending in simprov", row, af);
}

/* ---- a reused handle connects again -------------------------------------- */

enum disconnect_fn { BY_DISCONNECTEX, BY_TRANSMITFILE, BY_TRANSMITPACKETS };
enum again { AGAIN_CONNECTEX, AGAIN_ACCEPTEX };

struct reuse_row {
    const char *row;
    enum disconnect_fn fn;
    int reuse;          /* TF_REUSE_SOCKET (with TF_DISCONNECT where needed) */
    int pend;           /* the disconnect and the ConnectEx are held back */
    enum again again;
};

static const struct reuse_row reuse_rows[] = {
    { "DisconnectEx(TF_REUSE_SOCKET), ConnectEx", BY_DISCONNECTEX, 1, 0, AGAIN_CONNECTEX },
    { "DisconnectEx pending, ConnectEx pending", BY_DISCONNECTEX, 1, 1, AGAIN_CONNECTEX },
    { "TransmitFile(TF_DISCONNECT|TF_REUSE_SOCKET), ConnectEx", BY_TRANSMITFILE, 1, 0,
      AGAIN_CONNECTEX },
    { "TransmitFile pending, ConnectEx pending", BY_TRANSMITFILE, 1, 1, AGAIN_CONNECTEX },
    { "TransmitPackets(TP_DISCONNECT|TP_REUSE_SOCKET), ConnectEx", BY_TRANSMITPACKETS, 1, 0,
      AGAIN_CONNECTEX },
    { "TransmitPackets pending, ConnectEx pending", BY_TRANSMITPACKETS, 1, 1, AGAIN_CONNECTEX },
    { "DisconnectEx(TF_REUSE_SOCKET), AcceptEx", BY_DISCONNECTEX, 1, 0, AGAIN_ACCEPTEX },
    { "TransmitFile(TF_DISCONNECT|TF_REUSE_SOCKET), AcceptEx", BY_TRANSMITFILE, 1, 0,
      AGAIN_ACCEPTEX },
    { "TransmitPackets pending, AcceptEx", BY_TRANSMITPACKETS, 1, 1, AGAIN_ACCEPTEX },
    { "DisconnectEx without TF_REUSE_SOCKET", BY_DISCONNECTEX, 0, 0, AGAIN_CONNECTEX },
};

/* Starts the row's disconnect on c (through the pointer an application
 * gets); returns what the function returned. */
static BOOL start_disconnect(const struct e2e_session *s, const struct reuse_row *row, SOCKET c,
                             WSAOVERLAPPED *ov, DWORD *bytes)
{
    static char head[] = "last words";
    *bytes = 0;
    if (row->fn == BY_DISCONNECTEX) {
        LPFN_DISCONNECTEX fn = (LPFN_DISCONNECTEX)app_ext_fn(s, c, &guid_disconnectex);
        return fn(c, ov, row->reuse ? TF_REUSE_SOCKET : 0, 0);
    }
    if (row->fn == BY_TRANSMITFILE) {
        LPFN_TRANSMITFILE fn = (LPFN_TRANSMITFILE)app_ext_fn(s, c, &guid_transmitfile);
        TRANSMIT_FILE_BUFFERS b = { head, sizeof head, NULL, 0 };
        *bytes = sizeof head;
        return fn(c, NULL, 0, 0, ov, &b, TF_DISCONNECT | (row->reuse ? TF_REUSE_SOCKET : 0));
    }
    LPFN_TRANSMITPACKETS fn = (LPFN_TRANSMITPACKETS)app_ext_fn(s, c, &guid_transmitpackets);
    TRANSMIT_PACKETS_ELEMENT el;
    memset(&el, 0, sizeof el);
    el.dwElFlags = TP_ELEMENT_MEMORY;
    el.cLength = sizeof head;
    el.pBuffer = head;
    *bytes = sizeof head;
    return fn(c, &el, 1, 0, ov, TP_DISCONNECT | (row->reuse ? TP_REUSE_SOCKET : 0));
}

/* connect -> disconnect (maybe pending: the old peer while in flight, then
 * none, never cached past the disconnect) -> no peer -> ConnectEx to a new
 * peer or AcceptEx as the accept socket -> no peer before the SO_UPDATE
 * option -> the NEW peer after it, recorded by peerlsp. */
static void reuse_once(const struct e2e_session *s, const struct reuse_row *row, int af)
{
    SOCKADDR_STORAGE p1, p2, caddr, laddr;
    int p1len, p2len, clen, llen;
    doc_addr(af, 1, &p1, &p1len);
    doc_addr(af, 2, &p2, &p2len);
    SOCKET c = sim_bound(s, af, &caddr, &clen);
    CHECK_PEER(row->row, af, c, NULL, 0);
    E2E_OK(s->api->connect(c, (struct sockaddr *)&p1, p1len));
    CHECK_PEER(row->row, af, c, &p1, p1len);
    CHECK_RECORDED(row->row, af, c, &p1, p1len);

    WSAOVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_non_null(ov.hEvent);
    DWORD bytes;
    if (row->pend)
        SIM_FN(SIMPROV_PEND_NEXT_FN, "simprov_pend_next")();
    expect_start(s, row->row, "the disconnect", af, start_disconnect(s, row, c, &ov, &bytes),
                 row->pend);
    if (row->pend) {
        /* In flight: the old peer is still there; answers read now must
         * not outlive the disconnect. */
        expect_in_flight(s, row->row, af, c, &ov);
        for (int k = 0; k < 3; k++)
            CHECK_PEER(row->row, af, c, &p1, p1len);
        complete_pending(row->row, af);
    }
    expect_done(s, row->row, "the disconnect", af, c, &ov, bytes);
    for (int k = 0; k < 3; k++)
        CHECK_PEER(row->row, af, c, NULL, 0);

    if (!row->reuse) {
        /* Not reusable: simprov refuses to connect it again (WSAEINVAL),
         * peerlsp passes that through and keeps no peer. */
        LPFN_CONNECTEX cex = (LPFN_CONNECTEX)app_ext_fn(s, c, &guid_connectex);
        ResetEvent(ov.hEvent);
        BOOL ok = cex(c, (struct sockaddr *)&p2, p2len, NULL, 0, NULL, &ov);
        int err = ok ? 0 : WSAGetLastError();
        if (ok || err != WSAEINVAL)
            fail_msg("%s, af %d: ConnectEx on a spent handle gave %d/%d, expected WSAEINVAL (%s)",
                     row->row, af, ok, err, e2e_layout_names[s->layout]);
        CHECK_PEER(row->row, af, c, NULL, 0);
    } else if (row->again == AGAIN_CONNECTEX) {
        LPFN_CONNECTEX cex = (LPFN_CONNECTEX)app_ext_fn(s, c, &guid_connectex);
        ResetEvent(ov.hEvent);
        if (row->pend)
            SIM_FN(SIMPROV_PEND_NEXT_FN, "simprov_pend_next")();
        DWORD sent = 0xdeadbeef;
        expect_start(s, row->row, "ConnectEx", af,
                     cex(c, (struct sockaddr *)&p2, p2len, NULL, 0, &sent, &ov), row->pend);
        if (row->pend) {
            expect_in_flight(s, row->row, af, c, &ov);
            CHECK_PEER(row->row, af, c, NULL, 0);
            complete_pending(row->row, af);
        }
        expect_done(s, row->row, "ConnectEx", af, c, &ov, 0);
        /* Windows: no peer before the option. */
        for (int k = 0; k < 2; k++)
            CHECK_PEER(row->row, af, c, NULL, 0);
        E2E_OK(s->api->setsockopt(c, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0));
        CHECK_PEER(row->row, af, c, &p2, p2len);
        CHECK_RECORDED(row->row, af, c, &p2, p2len);
    } else {
        /* The reused handle as AcceptEx's accept socket; the client is
         * another simprov socket connecting to the listener. */
        SOCKET l = sim_bound(s, af, &laddr, &llen);
        E2E_OK(s->api->listen(l, SOMAXCONN));
        LPFN_ACCEPTEX aex = (LPFN_ACCEPTEX)app_ext_fn(s, l, &guid_acceptex);
        LPFN_GETACCEPTEXSOCKADDRS parse =
            (LPFN_GETACCEPTEXSOCKADDRS)e2e_ext_fn(s, l, &guid_getacceptexsockaddrs);
        unsigned char buf[2 * ADDR_SLOT];
        DWORD received = 0xdeadbeef;
        ResetEvent(ov.hEvent);
        expect_start(s, row->row, "AcceptEx (nothing queued)", af,
                     aex(l, c, buf, 0, ADDR_SLOT, ADDR_SLOT, &received, &ov), 1);
        CHECK_PEER(row->row, af, c, NULL, 0);
        SOCKADDR_STORAGE kaddr;
        int klen;
        SOCKET k = sim_bound(s, af, &kaddr, &klen);
        E2E_OK(s->api->connect(k, (struct sockaddr *)&laddr, llen));
        expect_done(s, row->row, "AcceptEx", af, c, &ov, 0);
        for (int i = 0; i < 2; i++)
            CHECK_PEER(row->row, af, c, NULL, 0);
        E2E_OK(s->api->setsockopt(c, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (char *)&l, sizeof l));
        CHECK_PEER(row->row, af, c, &kaddr, klen);
        CHECK_RECORDED(row->row, af, c, &kaddr, klen);
        struct sockaddr *local = NULL, *remote = NULL;
        int local_len = 0, remote_len = 0;
        parse(buf, 0, ADDR_SLOT, ADDR_SLOT, &local, &local_len, &remote, &remote_len);
        e2e_addr_equal(remote, remote_len, &kaddr, klen);
        CHECK_PEER(row->row, af, k, &laddr, llen);
        E2E_OK(s->api->closesocket(k));
        E2E_OK(s->api->closesocket(l));
    }
    CloseHandle(ov.hEvent);
    E2E_OK(s->api->closesocket(c));
}

static void test_reuse(void **state)
{
    struct e2e_session *s = *state;
    for (size_t r = 0; r < sizeof reuse_rows / sizeof reuse_rows[0]; r++) {
        for (size_t i = 0; i < 2; i++)
            reuse_once(s, &reuse_rows[r], families[i]);
    }
    LONG open = SIM_FN(SIMPROV_OPEN_SOCKETS_FN, "simprov_open_sockets")();
    if (open != 0)
        fail_msg("%ld sockets left open in simprov (%s)", open, e2e_layout_names[s->layout]);
}

/* A handle reused twice in a row, each time by another path: the peer is
 * always the latest one. */
static void test_reuse_twice(void **state)
{
    struct e2e_session *s = *state;
    const char *row = "reused twice";
    for (size_t i = 0; i < 2; i++) {
        int af = families[i];
        SOCKADDR_STORAGE p[4], caddr;
        int plen[4], clen;
        for (int n = 1; n < 4; n++)
            doc_addr(af, n, &p[n], &plen[n]);
        SOCKET c = sim_bound(s, af, &caddr, &clen);
        LPFN_CONNECTEX cex = (LPFN_CONNECTEX)app_ext_fn(s, c, &guid_connectex);
        LPFN_DISCONNECTEX dex = (LPFN_DISCONNECTEX)app_ext_fn(s, c, &guid_disconnectex);
        WSAOVERLAPPED ov;
        memset(&ov, 0, sizeof ov);
        for (int n = 1; n < 4; n++) {
            expect_start(s, row, "ConnectEx", af,
                         cex(c, (struct sockaddr *)&p[n], plen[n], NULL, 0, NULL, &ov), 0);
            CHECK_PEER(row, af, c, NULL, 0);
            E2E_OK(s->api->setsockopt(c, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0));
            CHECK_PEER(row, af, c, &p[n], plen[n]);
            CHECK_RECORDED(row, af, c, &p[n], plen[n]);
            expect_start(s, row, "DisconnectEx", af, dex(c, NULL, TF_REUSE_SOCKET, 0), 0);
            CHECK_PEER(row, af, c, NULL, 0);
        }
        E2E_OK(s->api->closesocket(c));
    }
}

/* ---- WSAJoinLeaf ---------------------------------------------------------- */

struct join_row {
    const char *row;
    int type;
};

static const struct join_row join_rows[] = {
    { "WSAJoinLeaf, datagram socket", SOCK_DGRAM },
    { "WSAJoinLeaf, stream socket", SOCK_STREAM },
};

/* A socket connected to leaf 1 joins leaf 2 and gets itself back: its peer
 * is leaf 2 (never 1), recorded; joining leaf 3 with a new socket gives a
 * socket bound to the same entry (peerlsp's chain) whose peer is leaf 3,
 * while the first keeps leaf 2. */
static void test_joinleaf(void **state)
{
    struct e2e_session *s = *state;
    SIMPROV_JOIN_NEW_SOCKET_FN join_new =
        SIM_FN(SIMPROV_JOIN_NEW_SOCKET_FN, "simprov_join_new_socket");
    for (size_t r = 0; r < sizeof join_rows / sizeof join_rows[0]; r++) {
        const char *row = join_rows[r].row;
        for (size_t i = 0; i < 2; i++) {
            int af = families[i];
            SOCKADDR_STORAGE leaf[4];
            int len[4];
            for (int n = 1; n < 4; n++)
                doc_addr(af, 10 + n, &leaf[n], &len[n]);
            SOCKET u = sim_socket(s, af, join_rows[r].type);
            E2E_OK(s->api->connect(u, (struct sockaddr *)&leaf[1], len[1]));
            CHECK_PEER(row, af, u, &leaf[1], len[1]);
            CHECK_RECORDED(row, af, u, &leaf[1], len[1]);
            LONG live = e2e_live_handles(s);

            join_new(0);
            SOCKET j = s->api->WSAJoinLeaf(u, (struct sockaddr *)&leaf[2], len[2], NULL, NULL,
                                           NULL, NULL, JL_BOTH);
            if (j != u)
                fail_msg("%s, af %d: WSAJoinLeaf gave %#llx (error %d), expected the socket "
                         "%#llx (%s)",
                         row, af, (unsigned long long)j, s->api->WSAGetLastError(),
                         (unsigned long long)u, e2e_layout_names[s->layout]);
            assert_int_equal(host_socket_entry(u), e2e_expected_entry(s, af, join_rows[r].type));
            assert_int_equal(e2e_live_handles(s), live);
            CHECK_PEER(row, af, u, &leaf[2], len[2]);
            CHECK_RECORDED(row, af, u, &leaf[2], len[2]);

            join_new(1);
            j = s->api->WSAJoinLeaf(u, (struct sockaddr *)&leaf[3], len[3], NULL, NULL, NULL,
                                    NULL, JL_BOTH);
            join_new(0);
            if (j == INVALID_SOCKET || j == u)
                fail_msg("%s, af %d: WSAJoinLeaf gave %#llx (error %d), expected a new socket "
                         "(%s)",
                         row, af, (unsigned long long)j, s->api->WSAGetLastError(),
                         e2e_layout_names[s->layout]);
            DWORD entry = host_socket_entry(j), want = e2e_expected_entry(s, af, join_rows[r].type);
            if (entry != want)
                fail_msg("%s, af %d: the joined socket is bound to entry %lu, expected %lu (%s)",
                         row, af, entry, want, e2e_layout_names[s->layout]);
            assert_int_equal(e2e_live_handles(s), live + 1);
            CHECK_PEER(row, af, j, &leaf[3], len[3]);
            CHECK_RECORDED(row, af, j, &leaf[3], len[3]);
            CHECK_PEER(row, af, u, &leaf[2], len[2]);
            CHECK_RECORDED(row, af, u, &leaf[2], len[2]);
            E2E_OK(s->api->closesocket(j));
            E2E_OK(s->api->closesocket(u));
            assert_int_equal(e2e_live_handles(s), live - 1);
        }
    }
}

/* The table stores only AF_INET and AF_INET6 addresses of their own sizes.
 * A lower provider that reports a peer of another shape (here: the family's
 * address followed by more bytes, as a provider with a longer address
 * structure would) is asked every time, and its bytes pass through as they
 * are; a buffer too small for them gets its WSAEFAULT. */
static void test_peer_shape_not_stored(void **state)
{
    struct e2e_session *s = *state;
    for (size_t i = 0; i < 2; i++) {
        int af = families[i], base_len = af == AF_INET ? 16 : 28, long_len = base_len + 8;
        SOCKADDR_STORAGE laddr, want;
        int llen;
        SOCKET l = sim_bound(s, af, &laddr, &llen);
        E2E_OK(s->api->listen(l, 4));
        memset(&want, 0, sizeof want);
        memcpy(&want, &laddr, (size_t)llen);
        memset((char *)&want + base_len, 0x5a, 8); /* the extra bytes */

        SOCKET c = sim_socket(s, af, SOCK_STREAM);
        SIM_FN(SIMPROV_NEXT_PEER_BYTES_FN, "simprov_next_peer_bytes")(long_len);
        E2E_OK(s->api->connect(c, (struct sockaddr *)&want, (int)sizeof want));
        CHECK_PEER("long peer", af, c, &want, long_len);

        LONG before = sim_calls("WSPGetPeerName");
        for (int k = 0; k < 3; k++)
            CHECK_PEER("long peer, again", af, c, &want, long_len);
        /* Each CHECK_PEER asks simprov once itself (the comparison) and,
         * through peerlsp, once more: nothing came from the table. */
        LONG asked = sim_calls("WSPGetPeerName") - before;
        if (asked != 6)
            fail_msg("af %d: simprov asked %ld times for 3 answers and 3 comparisons, "
                     "expected 6 (%s)", af, asked, e2e_layout_names[s->layout]);

        SOCKADDR_STORAGE a;
        int alen = base_len; /* big enough for the family, not for this peer */
        memset(&a, 0xcc, sizeof a);
        s->api->WSASetLastError((int)0xdeadbeef);
        int r = s->api->getpeername(c, (struct sockaddr *)&a, &alen);
        if (r != SOCKET_ERROR || s->api->WSAGetLastError() != WSAEFAULT || alen != base_len)
            fail_msg("af %d: a %d-byte buffer for a %d-byte peer gave %d/%d, namelen %d (%s)",
                     af, base_len, long_len, r, s->api->WSAGetLastError(), alen,
                     e2e_layout_names[s->layout]);
        E2E_OK(s->api->closesocket(c));
        E2E_OK(s->api->closesocket(l));
    }
}

/* The other end resets a connection whose peer peerlsp holds, and the
 * application sees it through one call that passes through peerlsp, with
 * Windows' codes (under Wine, a reset reaches recv as 0 bytes; that path
 * is test_paths_end): recv and send fail with WSAECONNRESET, a pending
 * overlapped WSARecv completes with it (WSAGetOverlappedResult), or
 * WSAEnumNetworkEvents reports FD_CLOSE with it. simprov then says
 * WSAENOTCONN, and so must getpeername through the host. */
enum reset_observer { BY_RECV, BY_SEND, BY_OVERLAPPED_RESULT, BY_NETWORK_EVENTS, BY_COUNT };

static void test_reset_seen(void **state)
{
    static const char *const rows[BY_COUNT] = { "reset seen by recv", "reset seen by send",
                                                "reset seen by WSAGetOverlappedResult",
                                                "reset seen by WSAEnumNetworkEvents" };
    struct e2e_session *s = *state;
    for (size_t i = 0; i < 2; i++) {
        for (int how = 0; how < BY_COUNT; how++) {
            int af = families[i];
            const char *row = rows[how];
            SOCKADDR_STORAGE laddr;
            int llen;
            char buf[8];
            WSABUF wb = { sizeof buf, buf };
            DWORD got = 0, flags = 0;
            WSAOVERLAPPED ov;
            SOCKET l = sim_bound(s, af, &laddr, &llen);
            E2E_OK(s->api->listen(l, 4));
            SOCKET c = sim_socket(s, af, SOCK_STREAM);
            E2E_OK(s->api->connect(c, (struct sockaddr *)&laddr, llen));
            CHECK_RECORDED(row, af, c, &laddr, llen);

            if (how == BY_OVERLAPPED_RESULT) {
                memset(&ov, 0, sizeof ov);
                ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
                assert_non_null(ov.hEvent);
                if (s->api->WSARecv(c, &wb, 1, &got, &flags, &ov, NULL) != SOCKET_ERROR ||
                    s->api->WSAGetLastError() != WSA_IO_PENDING)
                    fail_msg("%s, af %d: overlapped WSARecv: error %d, expected pending", row,
                             af, s->api->WSAGetLastError());
            }
            assert_true(SIM_FN(SIMPROV_RESET_FN, "simprov_reset")(c));

            int err = 0;
            if (how == BY_RECV) {
                if (s->api->recv(c, buf, sizeof buf, 0) != SOCKET_ERROR)
                    fail_msg("%s, af %d: recv succeeded", row, af);
                err = s->api->WSAGetLastError();
            } else if (how == BY_SEND) {
                if (s->api->send(c, "x", 1, 0) != SOCKET_ERROR)
                    fail_msg("%s, af %d: send succeeded", row, af);
                err = s->api->WSAGetLastError();
            } else if (how == BY_OVERLAPPED_RESULT) {
                if (e2e_overlapped_wait(s, c, &ov, INFINITE, &got, &err))
                    fail_msg("%s, af %d: the overlapped WSARecv succeeded", row, af);
                CloseHandle(ov.hEvent);
            } else {
                WSANETWORKEVENTS events;
                E2E_OK(s->api->WSAEnumNetworkEvents(c, NULL, &events));
                if (!(events.lNetworkEvents & FD_CLOSE))
                    fail_msg("%s, af %d: no FD_CLOSE (events %#lx)", row, af,
                             events.lNetworkEvents);
                err = events.iErrorCode[FD_CLOSE_BIT];
            }
            if (err != WSAECONNRESET)
                fail_msg("%s, af %d: error %d, expected WSAECONNRESET (%s)", row, af, err,
                         e2e_layout_names[s->layout]);
            CHECK_PEER(row, af, c, NULL, 0);
            E2E_OK(s->api->closesocket(c));
            E2E_OK(s->api->closesocket(l));
        }
    }
}

#define SIM_LAYOUT_TESTS(fn, layouts)                                                        \
    cmocka_unit_test_prestate_setup_teardown(fn, sim_setup, sim_teardown,                    \
                                             &(layouts)[E2E_BASE_ONLY]),                     \
    cmocka_unit_test_prestate_setup_teardown(fn, sim_setup, sim_teardown,                    \
                                             &(layouts)[E2E_LSP_SHARED]),                    \
    cmocka_unit_test_prestate_setup_teardown(fn, sim_setup, sim_teardown,                    \
                                             &(layouts)[E2E_LSP_OWN])

int main(void)
{
    static enum e2e_layout layouts[] = { E2E_BASE_ONLY, E2E_LSP_SHARED, E2E_LSP_OWN };
    const struct CMUnitTest tests[] = {
        SIM_LAYOUT_TESTS(test_reuse, layouts),
        SIM_LAYOUT_TESTS(test_reuse_twice, layouts),
        SIM_LAYOUT_TESTS(test_joinleaf, layouts),
        SIM_LAYOUT_TESTS(test_peer_shape_not_stored, layouts),
        SIM_LAYOUT_TESTS(test_reset_seen, layouts),
    };
    return cmocka_run_group_tests_name("peerlsp connect paths over simprov (simulated base)",
                                       tests, NULL, NULL);
}
