/*
 * test_paths_misc.c - the other ways a socket's peer appears, changes or
 * goes: non-blocking connect (FIONBIO, WSAEventSelect, WSAAsyncSelect),
 * WSAAccept with a condition function (CF_ACCEPT, CF_REJECT, CF_DEFER),
 * WSAJoinLeaf, WSADuplicateSocket in this process, shutdown, a socket
 * closed with CloseHandle whose handle value is reused, and a socket
 * re-created from its SO_PROTOCOL_INFO.
 *
 * Every scenario runs on the base provider alone and through both peerlsp
 * layouts; every getpeername is compared with the base provider's answer
 * for the same handle.
 */
#include "e2e.h"

#include <stdio.h>
#include <string.h>

static const int families[] = { AF_INET, AF_INET6 };

/* ---- non-blocking connect ------------------------------------------------- */

enum nb_mode { NB_FIONBIO, NB_EVENTSELECT, NB_ASYNCSELECT };

struct nb_row {
    const char *row;
    enum nb_mode mode;
    int refused; /* to a port nothing listens on */
};

static const struct nb_row nb_rows[] = {
    { "FIONBIO, select", NB_FIONBIO, 0 },
    { "FIONBIO, refused", NB_FIONBIO, 1 },
    { "WSAEventSelect FD_CONNECT", NB_EVENTSELECT, 0 },
    { "WSAEventSelect, refused", NB_EVENTSELECT, 1 },
    { "WSAAsyncSelect FD_CONNECT", NB_ASYNCSELECT, 0 },
    { "WSAAsyncSelect, refused", NB_ASYNCSELECT, 1 },
};

#define WM_SOCKET (WM_USER + 1)

/* A message-only window for WSAAsyncSelect, pumped by nb_wait. Wine posts
 * the FD_CONNECT message to it like Windows does; the test is its message
 * loop. */
static HWND nb_window(void)
{
    static ATOM cls;
    if (!cls) {
        WNDCLASSW wc;
        memset(&wc, 0, sizeof wc);
        wc.lpfnWndProc = DefWindowProcW;
        wc.hInstance = GetModuleHandleW(NULL);
        wc.lpszClassName = L"peerlsp_paths_async";
        cls = RegisterClassW(&wc);
        if (!cls)
            fail_msg("RegisterClassW: error %lu", GetLastError());
    }
    HWND w = CreateWindowExW(0, L"peerlsp_paths_async", L"", 0, 0, 0, 0, 0, HWND_MESSAGE, NULL,
                             GetModuleHandleW(NULL), NULL);
    if (!w)
        fail_msg("CreateWindowExW: error %lu", GetLastError());
    return w;
}

/* Waits until the connect finished; returns its error (0: connected). */
static int nb_wait(const struct e2e_session *s, enum nb_mode mode, SOCKET c, WSAEVENT ev,
                   HWND wnd)
{
    DWORD start = GetTickCount();
    if (mode == NB_FIONBIO) {
        fd_set w, x;
        struct timeval tv = { 10, 0 };
        FD_ZERO(&w);
        FD_ZERO(&x);
        FD_SET(c, &w);
        FD_SET(c, &x);
        int n = s->api->select(0, NULL, &w, &x, &tv);
        if (n <= 0)
            fail_msg("select: %d, error %d", n, s->api->WSAGetLastError());
        if (FD_ISSET(c, &w))
            return 0;
        int err = 0, len = sizeof err;
        E2E_OK(s->api->getsockopt(c, SOL_SOCKET, SO_ERROR, (char *)&err, &len));
        return err;
    }
    if (mode == NB_EVENTSELECT) {
        WSANETWORKEVENTS ne;
        for (;;) {
            if (WaitForSingleObject(ev, 10000) != WAIT_OBJECT_0)
                fail_msg("no network event in 10 s");
            E2E_OK(s->api->WSAEnumNetworkEvents(c, ev, &ne));
            if (ne.lNetworkEvents & FD_CONNECT)
                return ne.iErrorCode[FD_CONNECT_BIT];
        }
    }
    for (;;) {
        MSG msg;
        while (PeekMessageW(&msg, wnd, 0, 0, PM_REMOVE)) {
            if (msg.message == WM_SOCKET && (SOCKET)msg.wParam == c &&
                WSAGETSELECTEVENT(msg.lParam) == FD_CONNECT)
                return WSAGETSELECTERROR(msg.lParam);
            DispatchMessageW(&msg);
        }
        if (GetTickCount() - start > 10000)
            fail_msg("no FD_CONNECT message in 10 s");
        MsgWaitForMultipleObjects(0, NULL, FALSE, 100, QS_ALLINPUT);
    }
}

/* WSAEWOULDBLOCK, then the lower provider's answer while the connect is
 * under way, then the peer once it completed (recorded by peerlsp from
 * the first answer after completion) - or, refused, no peer at all. */
static void test_nonblocking_connect(void **state)
{
    struct e2e_session *s = *state;
    for (size_t r = 0; r < sizeof nb_rows / sizeof nb_rows[0]; r++) {
        const struct nb_row *row = &nb_rows[r];
        for (size_t i = 0; i < 2; i++) {
            SOCKADDR_STORAGE laddr;
            int llen;
            SOCKET l = e2e_listener(s, families[i], &laddr, &llen);
            if (row->refused)
                e2e_loopback(families[i], e2e_closed_port(s, families[i]), &laddr, &llen);
            SOCKET c = s->api->socket(families[i], SOCK_STREAM, IPPROTO_TCP);
            assert_true(c != INVALID_SOCKET);
            WSAEVENT ev = NULL;
            HWND wnd = NULL;
            if (row->mode == NB_FIONBIO) {
                u_long one = 1;
                E2E_OK(s->api->ioctlsocket(c, FIONBIO, &one));
            } else if (row->mode == NB_EVENTSELECT) {
                ev = CreateEventW(NULL, TRUE, FALSE, NULL);
                assert_non_null(ev);
                E2E_OK(s->api->WSAEventSelect(c, ev, FD_CONNECT));
            } else {
                wnd = nb_window();
                /* WSAAsyncSelect is not in the host's API table: the
                 * provider's own WSPAsyncSelect is called, as ws2_32 does. */
                WSPPROC_TABLE procs;
                int err = 0;
                const GUID *guid = NULL;
                if (s->layout == E2E_WS2_32) {
                    if (WSAAsyncSelect(c, wnd, WM_SOCKET, FD_CONNECT))
                        fail_msg("WSAAsyncSelect: error %d", WSAGetLastError());
                    goto selected;
                }
                WSAPROTOCOL_INFOW info;
                int ilen = sizeof info;
                E2E_OK(s->api->getsockopt(c, SOL_SOCKET, SO_PROTOCOL_INFOW, (char *)&info,
                                          &ilen));
                guid = &info.ProviderId;
                if (E2E_IS_LSP(s)) {
                    /* The chain's GUID is the LSP's (or the chain's own);
                     * SO_PROTOCOL_INFOW comes from the base provider, so
                     * find the proc table the host started for the chain. */
                    for (DWORD k = 0; k < s->lsp.chain_count; k++) {
                        if (s->lsp.chain_ids[k] == e2e_expected_entry(s, families[i],
                                                                      SOCK_STREAM))
                            guid = &s->lsp.chain_guids[k];
                    }
                }
                if (host_provider(guid, &procs, NULL))
                    fail_msg("no proc table for the socket's entry");
                if (procs.lpWSPAsyncSelect(c, wnd, WM_SOCKET, FD_CONNECT, &err))
                    fail_msg("WSPAsyncSelect: error %d", err);
            }
        selected:
            e2e_peer_matches_base(s, c, SOCKET_ERROR);

            s->api->WSASetLastError((int)0xdeadbeef);
            int ret = s->api->connect(c, (struct sockaddr *)&laddr, llen);
            int err = s->api->WSAGetLastError();
            if (ret != SOCKET_ERROR || err != WSAEWOULDBLOCK)
                fail_msg("af %d, %s: connect gave %d, error %d; expected WSAEWOULDBLOCK (%s)",
                         families[i], row->row, ret, err, e2e_layout_names[s->layout]);
            /* Under way (or, on Wine's loopback, possibly done already). */
            e2e_peer_agrees(s, c);
            err = nb_wait(s, row->mode, c, ev, wnd);
            if (row->refused) {
                if (err != WSAECONNREFUSED)
                    fail_msg("af %d, %s: connect finished with %d (%s)", families[i], row->row,
                             err, e2e_layout_names[s->layout]);
                for (int k = 0; k < 3; k++)
                    e2e_peer_matches_base(s, c, SOCKET_ERROR);
            } else {
                if (err)
                    fail_msg("af %d, %s: connect finished with %d (%s)", families[i], row->row,
                             err, e2e_layout_names[s->layout]);
                e2e_peer_matches_base(s, c, 0);
                e2e_peer_is(s, c, &laddr, llen);
                e2e_peer_from_table(s, c, &laddr, llen, 3);
            }
            E2E_OK(s->api->closesocket(c));
            E2E_OK(s->api->closesocket(l));
            if (ev)
                CloseHandle(ev);
            if (wnd)
                DestroyWindow(wnd);
        }
    }
}

/* A connect that cannot finish quickly (a TEST-NET-1 address nobody
 * answers for): while it is under way, and after the application gives
 * up and closes, there is no peer. A real timeout (21 s on Windows, two
 * minutes on Linux) is too slow for the suite; the state peerlsp keeps is
 * the same "connect failed" as the refused rows above. */
static void test_nonblocking_pending(void **state)
{
    struct e2e_session *s = *state;
    struct sockaddr_in distant;
    memset(&distant, 0, sizeof distant);
    distant.sin_family = AF_INET;
    distant.sin_port = htons(9);
    distant.sin_addr.s_addr = htonl(0xC0000263); /* 192.0.2.99 */
    SOCKET c = s->api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(c != INVALID_SOCKET);
    u_long one = 1;
    E2E_OK(s->api->ioctlsocket(c, FIONBIO, &one));
    int ret = s->api->connect(c, (struct sockaddr *)&distant, sizeof distant);
    int err = s->api->WSAGetLastError();
    if (ret == 0)
        fail_msg("connect to 192.0.2.99 succeeded at once (%s)", e2e_layout_names[s->layout]);
    print_message("non-blocking connect to 192.0.2.99: error %d (%s)\n", err,
                  e2e_layout_names[s->layout]);
    for (int k = 0; k < 5; k++) {
        e2e_peer_matches_base(s, c, SOCKET_ERROR);
        Sleep(20);
    }
    E2E_OK(s->api->closesocket(c));
}

/* ---- WSAAccept with a condition function --------------------------------- */

struct cond_call {
    int verdict;
    int calls;
    SOCKADDR_STORAGE caller;
    int caller_len;
};

static int CALLBACK condition(LPWSABUF caller_id, LPWSABUF caller_data, LPQOS sqos, LPQOS gqos,
                              LPWSABUF callee_id, LPWSABUF callee_data, GROUP *g,
                              DWORD_PTR callback_data)
{
    struct cond_call *cc = (struct cond_call *)callback_data;
    (void)caller_data, (void)sqos, (void)gqos, (void)callee_id, (void)callee_data, (void)g;
    cc->calls++;
    cc->caller_len = 0;
    if (caller_id && caller_id->buf && caller_id->len <= sizeof cc->caller) {
        memcpy(&cc->caller, caller_id->buf, caller_id->len);
        cc->caller_len = (int)caller_id->len;
    }
    return cc->verdict;
}

/* CF_DEFER leaves the connection queued (WSATRY_AGAIN), CF_REJECT refuses
 * it (WSAECONNREFUSED) and makes no socket, CF_ACCEPT makes the socket
 * whose peer is the client, recorded at once through peerlsp. */
static void test_accept_condition(void **state)
{
    struct e2e_session *s = *state;
    for (size_t i = 0; i < 2; i++) {
        SOCKADDR_STORAGE laddr, cname;
        int llen, clen = sizeof cname;
        SOCKET l = e2e_listener(s, families[i], &laddr, &llen);
        LONG live = e2e_live_handles(s);

        /* Rejected client. */
        SOCKET c = e2e_connect_pair(s, l, &laddr, llen, NULL);
        struct cond_call cc = { CF_REJECT, 0, { 0 }, 0 };
        s->api->WSASetLastError((int)0xdeadbeef);
        SOCKET a = s->api->WSAAccept(l, NULL, NULL, condition, (DWORD_PTR)&cc);
        if (a != INVALID_SOCKET || s->api->WSAGetLastError() != WSAECONNREFUSED)
            fail_msg("af %d, CF_REJECT: %#llx, error %d (%s)", families[i],
                     (unsigned long long)a, s->api->WSAGetLastError(),
                     e2e_layout_names[s->layout]);
        assert_int_equal(cc.calls, 1);
        if (live >= 0 && e2e_live_handles(s) != live + 1)
            fail_msg("af %d, CF_REJECT: %ld handles bound, expected %ld", families[i],
                     e2e_live_handles(s), live + 1);
        e2e_peer_agrees(s, c);
        E2E_OK(s->api->closesocket(c));

        /* Deferred, then accepted. */
        c = e2e_connect_pair(s, l, &laddr, llen, NULL);
        E2E_OK(s->api->getsockname(c, (struct sockaddr *)&cname, &clen));
        cc.verdict = CF_DEFER;
        cc.calls = 0;
        s->api->WSASetLastError((int)0xdeadbeef);
        a = s->api->WSAAccept(l, NULL, NULL, condition, (DWORD_PTR)&cc);
        if (a != INVALID_SOCKET || s->api->WSAGetLastError() != WSATRY_AGAIN)
            fail_msg("af %d, CF_DEFER: %#llx, error %d (%s)", families[i],
                     (unsigned long long)a, s->api->WSAGetLastError(),
                     e2e_layout_names[s->layout]);
        cc.verdict = CF_ACCEPT;
        SOCKADDR_STORAGE from;
        int fromlen = sizeof from;
        a = s->api->WSAAccept(l, (struct sockaddr *)&from, &fromlen, condition, (DWORD_PTR)&cc);
        if (a == INVALID_SOCKET)
            fail_msg("af %d, CF_ACCEPT: error %d (%s)", families[i], s->api->WSAGetLastError(),
                     e2e_layout_names[s->layout]);
        assert_int_equal(cc.calls, 2);
        e2e_addr_equal(&from, fromlen, &cname, clen);
        if (cc.caller_len)
            e2e_addr_equal(&cc.caller, cc.caller_len, &cname, clen);
        assert_int_equal(e2e_socket_entry(s, a), e2e_expected_entry(s, families[i], SOCK_STREAM));
        e2e_peer_matches_base(s, a, 0);
        e2e_peer_is(s, a, &cname, clen);
        LONG before = s->layout == E2E_WS2_32 ? 0 : e2e_base_calls("WSPGetPeerName");
        e2e_peer_is(s, a, &cname, clen);
        if (s->layout == E2E_WS2_32)
            e2e_note_skip("how often the base provider was asked",
                          "only the test base provider counts its calls; each answer is checked");
        else if (e2e_base_calls("WSPGetPeerName") - before != (E2E_IS_LSP(s) ? 0 : 1))
            fail_msg("af %d, CF_ACCEPT: the accepted peer was not recorded (%s)", families[i],
                     e2e_layout_names[s->layout]);
        E2E_OK(s->api->closesocket(a));
        E2E_OK(s->api->closesocket(c));
        E2E_OK(s->api->closesocket(l));
        if (live >= 0)
            assert_int_equal(e2e_live_handles(s), live - 1);
    }
}

/* ---- WSAJoinLeaf ------------------------------------------------------------ */

/* Wine 8's WSAJoinLeaf is a stub that fails (tbase reports WSAEOPNOTSUPP),
 * and there is no multipoint protocol in the catalog, so a successful join
 * cannot be driven here. What can be: the failure passes through untouched
 * and leaves the socket's peer (a connected UDP socket) as the lower
 * provider reports it, and no handle appears. */
static void test_joinleaf(void **state)
{
    struct e2e_session *s = *state;
    for (size_t i = 0; i < 2; i++) {
        SOCKADDR_STORAGE a;
        int alen;
        SOCKET sa = e2e_udp_bound(s, families[i], &a, &alen);
        SOCKET u = s->api->socket(families[i], SOCK_DGRAM, IPPROTO_UDP);
        assert_true(u != INVALID_SOCKET);
        E2E_OK(s->api->connect(u, (struct sockaddr *)&a, alen));
        e2e_peer_matches_base(s, u, 0);
        LONG live = e2e_live_handles(s);
        s->api->WSASetLastError((int)0xdeadbeef);
        SOCKET j = s->api->WSAJoinLeaf(u, (struct sockaddr *)&a, alen, NULL, NULL, NULL, NULL,
                                       JL_BOTH);
        int err = s->api->WSAGetLastError();
        if (s->layout == E2E_WS2_32 && !e2e_on_wine() && j == INVALID_SOCKET) {
            /* Windows' own code for a join without a multipoint protocol
             * cannot be told apart from peerlsp's here: it only has to fail. */
            e2e_note_skip("WSAJoinLeaf's error code on Windows",
                          "nothing below peerlsp can be asked; the join must fail");
            err = WSAEOPNOTSUPP;
        }
        if (s->layout == E2E_WS2_32 && e2e_on_wine() && j == INVALID_SOCKET &&
            err == (int)0xdeadbeef) {
            /* Seen: Wine 8's own WSAJoinLeaf is a stub that returns
             * INVALID_SOCKET without setting any error (tbase answers
             * WSAEOPNOTSUPP for it in the host's layouts). */
            e2e_note_skip("WSAJoinLeaf's error code on Wine's own ws2_32",
                          "Wine 8's WSAJoinLeaf stub fails without setting an error (a Wine "
                          "gap, not peerlsp's); the join must fail");
            err = WSAEOPNOTSUPP;
        }
        if (j != INVALID_SOCKET || err != WSAEOPNOTSUPP)
            fail_msg("af %d: WSAJoinLeaf gave %#llx, error %d; Wine's stub fails with "
                     "WSAEOPNOTSUPP (%s)",
                     families[i], (unsigned long long)j, err, e2e_layout_names[s->layout]);
        if (live >= 0)
            assert_int_equal(e2e_live_handles(s), live);
        e2e_peer_matches_base(s, u, 0);
        e2e_peer_is(s, u, &a, alen);
        E2E_OK(s->api->closesocket(u));
        E2E_OK(s->api->closesocket(sa));
    }
}

/* ---- WSADuplicateSocket ---------------------------------------------------- */

static SOCKET duplicate(const struct e2e_session *s, SOCKET sock, int af, int type)
{
    WSAPROTOCOL_INFOW info;
    memset(&info, 0xcc, sizeof info);
    E2E_OK(s->api->WSADuplicateSocketW(sock, GetCurrentProcessId(), &info));
    if (info.dwCatalogEntryId != e2e_expected_entry(s, af, type))
        fail_msg("duplicate info names entry %lu, expected %lu (%s)", info.dwCatalogEntryId,
                 e2e_expected_entry(s, af, type), e2e_layout_names[s->layout]);
    SOCKET d = s->api->WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO,
                                  &info, 0, WSA_FLAG_OVERLAPPED);
    if (d == INVALID_SOCKET)
        fail_msg("WSASocketW(duplicate): error %d (%s)", s->api->WSAGetLastError(),
                 e2e_layout_names[s->layout]);
    if (d == sock)
        fail_msg("the duplicate has the original's handle value");
    assert_int_equal(e2e_socket_entry(s, d), e2e_expected_entry(s, af, type));
    return d;
}

/* A duplicate (another handle of the same socket, made from the protocol
 * info in this process) starts with no record of its own and answers as
 * the lower provider does; it keeps answering after the original is
 * closed. Both handles name one socket, so a change of peer made through
 * either (a datagram socket connected elsewhere, or dissolved) must show
 * through the other: neither may keep a peer the socket no longer has. */
static void test_duplicate(void **state)
{
    struct e2e_session *s = *state;
    for (size_t i = 0; i < 2; i++) {
        SOCKADDR_STORAGE laddr, a, b;
        int llen, alen, blen;
        SOCKET server, l = e2e_listener(s, families[i], &laddr, &llen);
        SOCKET c = e2e_connect_pair(s, l, &laddr, llen, &server);
        e2e_peer_matches_base(s, c, 0);
        SOCKET d = duplicate(s, c, families[i], SOCK_STREAM);
        e2e_peer_matches_base(s, d, 0);
        e2e_peer_is(s, d, &laddr, llen);
        E2E_OK(s->api->closesocket(c));
        e2e_peer_matches_base(s, d, 0);
        e2e_peer_is(s, d, &laddr, llen);
        E2E_OK(s->api->closesocket(d));
        E2E_OK(s->api->closesocket(server));
        E2E_OK(s->api->closesocket(l));

        SOCKET sa = e2e_udp_bound(s, families[i], &a, &alen);
        SOCKET sb = e2e_udp_bound(s, families[i], &b, &blen);
        SOCKET u = s->api->socket(families[i], SOCK_DGRAM, IPPROTO_UDP);
        assert_true(u != INVALID_SOCKET);
        E2E_OK(s->api->connect(u, (struct sockaddr *)&a, alen));
        SOCKET du = duplicate(s, u, families[i], SOCK_DGRAM);
        e2e_peer_matches_base(s, u, 0);
        e2e_peer_matches_base(s, du, 0);
        e2e_peer_is(s, du, &a, alen);
        /* Through the original: the duplicate must follow. */
        E2E_OK(s->api->connect(u, (struct sockaddr *)&b, blen));
        e2e_peer_matches_base(s, u, 0);
        e2e_peer_matches_base(s, du, 0);
        e2e_peer_is(s, du, &b, blen);
        /* Through the duplicate: the original must follow. */
        E2E_OK(s->api->connect(du, (struct sockaddr *)&a, alen));
        e2e_peer_matches_base(s, du, 0);
        e2e_peer_matches_base(s, u, 0);
        e2e_peer_is(s, u, &a, alen);
        /* Dissolved through the duplicate. */
        SOCKADDR_STORAGE zero;
        memset(&zero, 0, sizeof zero);
        zero.ss_family = (ADDRESS_FAMILY)families[i];
        E2E_OK(s->api->connect(du, (struct sockaddr *)&zero, alen));
        e2e_peer_agrees(s, du);
        e2e_peer_agrees(s, u);
        E2E_OK(s->api->closesocket(du));
        E2E_OK(s->api->closesocket(u));
        E2E_OK(s->api->closesocket(sa));
        E2E_OK(s->api->closesocket(sb));
    }
    if (s->layout != E2E_WS2_32)
        assert_int_equal(e2e_live_handles(s), 0);
}

/* ---- shutdown ---------------------------------------------------------------- */

struct shutdown_row {
    const char *row;
    int how_client, how_server; /* -1: none */
    int server_closes;
};

static const struct shutdown_row shutdown_rows[] = {
    { "SD_SEND", SD_SEND, -1, 0 },
    { "SD_RECEIVE", SD_RECEIVE, -1, 0 },
    { "SD_BOTH", SD_BOTH, -1, 0 },
    { "SD_SEND both ways", SD_SEND, SD_SEND, 0 },
    { "SD_BOTH, then the server closes", SD_BOTH, -1, 1 },
};

/* After shutdown, alone or with the other end shutting down or closing,
 * the answer is the lower provider's: the peer while the stack still
 * reports one, and WSAENOTCONN once the connection is gone (Wine), never
 * a peer recorded before. */
static void test_shutdown(void **state)
{
    struct e2e_session *s = *state;
    for (size_t r = 0; r < sizeof shutdown_rows / sizeof shutdown_rows[0]; r++) {
        const struct shutdown_row *row = &shutdown_rows[r];
        for (size_t i = 0; i < 2; i++) {
            SOCKADDR_STORAGE laddr;
            int llen;
            SOCKET server, l = e2e_listener(s, families[i], &laddr, &llen);
            SOCKET c = e2e_connect_pair(s, l, &laddr, llen, &server);
            e2e_peer_matches_base(s, c, 0);
            e2e_peer_matches_base(s, server, 0);
            E2E_OK(s->api->shutdown(c, row->how_client));
            e2e_peer_agrees(s, c);
            if (row->how_server >= 0)
                E2E_OK(s->api->shutdown(server, row->how_server));
            if (row->server_closes) {
                E2E_OK(s->api->closesocket(server));
                server = INVALID_SOCKET;
            }
            Sleep(50); /* let the FINs cross */
            for (int k = 0; k < 3; k++) {
                int ret = e2e_peer_agrees(s, c);
                if (server != INVALID_SOCKET)
                    e2e_peer_agrees(s, server);
                if (k == 0)
                    print_message("af %d, %s: getpeername after it: %d (%s)\n", families[i],
                                  row->row, ret, e2e_layout_names[s->layout]);
            }
            if (server != INVALID_SOCKET)
                E2E_OK(s->api->closesocket(server));
            E2E_OK(s->api->closesocket(c));
            E2E_OK(s->api->closesocket(l));
        }
    }
}

/* ---- CloseHandle ---------------------------------------------------------- */

/* A connected socket closed with CloseHandle (no provider sees it) and its
 * handle value taken by a new socket: the new socket has no peer, then its
 * own, never the old one. The host still has the old binding (ws2_32 would
 * too); the new socket replaces it. */
static void test_closehandle_reuse(void **state)
{
    struct e2e_session *s = *state;
    SOCKADDR_STORAGE laddr, uaddr;
    int llen, ulen;
    SOCKET server, l = e2e_listener(s, AF_INET, &laddr, &llen);
    SOCKET su = e2e_udp_bound(s, AF_INET, &uaddr, &ulen);
    SOCKET c = e2e_connect_pair(s, l, &laddr, llen, &server);
    e2e_peer_matches_base(s, c, 0);
    SOCKET old = c;
    if (!CloseHandle((HANDLE)c))
        fail_msg("CloseHandle on a socket: error %lu", GetLastError());

    SOCKET kept[64];
    int n = 0, reused = -1;
    for (; n < 64; n++) {
        /* A datagram socket this time: a different kind on the same value. */
        kept[n] = s->api->socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
        assert_true(kept[n] != INVALID_SOCKET);
        if (kept[n] == old) {
            reused = n;
            break;
        }
    }
    if (reused < 0)
        fail_msg("handle value %#llx was not reused by 64 new sockets",
                 (unsigned long long)old);
    SOCKET nu = kept[reused];
    assert_int_equal(e2e_socket_entry(s, nu), e2e_expected_entry(s, AF_INET, SOCK_DGRAM));
    e2e_peer_matches_base(s, nu, SOCKET_ERROR);
    E2E_OK(s->api->connect(nu, (struct sockaddr *)&uaddr, ulen));
    e2e_peer_matches_base(s, nu, 0);
    e2e_peer_is(s, nu, &uaddr, ulen);
    for (int k = 0; k <= reused; k++)
        E2E_OK(s->api->closesocket(kept[k]));
    E2E_OK(s->api->closesocket(su));
    E2E_OK(s->api->closesocket(server));
    E2E_OK(s->api->closesocket(l));
}

/* ---- SO_PROTOCOL_INFO and a socket re-created from it ------------------ */

/* The catalog entry with this id, as WSAEnumProtocolsW lists it. */
static void catalog_entry(const struct e2e_session *s, DWORD id, WSAPROTOCOL_INFOW *out)
{
    WSAPROTOCOL_INFOW all[32];
    DWORD size = sizeof all;
    int n = s->api->WSAEnumProtocolsW(NULL, all, &size);
    for (int i = 0; i < n; i++) {
        if (all[i].dwCatalogEntryId == id) {
            *out = all[i];
            return;
        }
    }
    fail_msg("entry %lu not in WSAEnumProtocolsW (%d entries)", id, n);
}

/* getsockopt(SO_PROTOCOL_INFOW / A) names the entry the socket is bound to
 * (peerlsp's chain through peerlsp, exactly as the catalog holds it), and a
 * socket re-created from that information (WSASocket(FROM_PROTOCOL_INFO))
 * is bound to the same entry: through peerlsp it is peerlsp's socket, its
 * peer recorded and answered from the table. */
static void test_protocol_info_recreate(void **state)
{
    const struct e2e_session *s = *state;
    for (size_t f = 0; f < 2; f++) {
        for (int type = SOCK_STREAM; type <= SOCK_DGRAM; type++) {
            int af = families[f];
            DWORD expected = e2e_expected_entry(s, af, type);
            WSAPROTOCOL_INFOW want, w;
            WSAPROTOCOL_INFOA a;
            int len = sizeof w;
            char name[WSAPROTOCOL_LEN + 1];
            catalog_entry(s, expected, &want);

            SOCKET sock = s->api->socket(af, type, 0);
            assert_true(sock != INVALID_SOCKET);
            E2E_OK(s->api->getsockopt(sock, SOL_SOCKET, SO_PROTOCOL_INFOW, (char *)&w, &len));
            assert_int_equal(len, sizeof w);
            if (w.dwCatalogEntryId != expected)
                fail_msg("af %d type %d: SO_PROTOCOL_INFOW names entry %lu, the socket is bound "
                         "to %lu (%s)", af, type, w.dwCatalogEntryId, expected,
                         e2e_layout_names[s->layout]);
            if (memcmp(&w, &want, sizeof w))
                fail_msg("af %d type %d: SO_PROTOCOL_INFOW differs from catalog entry %lu (%s)",
                         af, type, expected, e2e_layout_names[s->layout]);
            len = sizeof a;
            E2E_OK(s->api->getsockopt(sock, SOL_SOCKET, SO_PROTOCOL_INFOA, (char *)&a, &len));
            assert_int_equal(len, sizeof a);
            assert_int_equal(a.dwCatalogEntryId, expected);
            assert_int_equal(a.ProtocolChain.ChainLen, want.ProtocolChain.ChainLen);
            assert_true(WideCharToMultiByte(CP_ACP, 0, want.szProtocol, -1, name, sizeof name,
                                            NULL, NULL) > 0);
            assert_string_equal(a.szProtocol, name);

            /* A buffer one byte short gets the lower provider's WSAEFAULT. */
            len = sizeof w - 1;
            assert_int_equal(s->api->getsockopt(sock, SOL_SOCKET, SO_PROTOCOL_INFOW,
                                                (char *)&w, &len), SOCKET_ERROR);
            assert_int_equal(s->api->WSAGetLastError(), WSAEFAULT);

            SOCKET again = s->api->WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO,
                                              FROM_PROTOCOL_INFO, &want, 0, WSA_FLAG_OVERLAPPED);
            if (again == INVALID_SOCKET)
                fail_msg("WSASocketW(FROM_PROTOCOL_INFO): error %d", s->api->WSAGetLastError());
            if (e2e_socket_entry(s, again) != expected)
                fail_msg("af %d type %d: the re-created socket is bound to entry %lu, expected "
                         "%lu (%s)", af, type, e2e_socket_entry(s, again), expected,
                         e2e_layout_names[s->layout]);
            SOCKADDR_STORAGE addr;
            int alen;
            SOCKET server = type == SOCK_STREAM ? e2e_listener(s, af, &addr, &alen)
                                                : e2e_udp_bound(s, af, &addr, &alen);
            E2E_OK(s->api->connect(again, (struct sockaddr *)&addr, alen));
            e2e_peer_matches_base(s, again, 0);
            e2e_peer_from_table(s, again, &addr, alen, 2);
            E2E_OK(s->api->closesocket(again));
            E2E_OK(s->api->closesocket(server));
            E2E_OK(s->api->closesocket(sock));
        }
    }
}

int main(int argc, char **argv)
{
    static enum e2e_layout layouts[] = { E2E_BASE_ONLY, E2E_LSP_SHARED, E2E_LSP_OWN };
    const struct CMUnitTest tests[] = {
        E2E_LAYOUT_TESTS(test_nonblocking_connect, layouts),
        E2E_LAYOUT_TESTS(test_nonblocking_pending, layouts),
        E2E_LAYOUT_TESTS(test_accept_condition, layouts),
        E2E_LAYOUT_TESTS(test_joinleaf, layouts),
        E2E_LAYOUT_TESTS(test_duplicate, layouts),
        E2E_LAYOUT_TESTS(test_shutdown, layouts),
        E2E_LAYOUT_TESTS(test_closehandle_reuse, layouts),
        E2E_LAYOUT_TESTS(test_protocol_info_recreate, layouts),
    };
    return E2E_MAIN("peerlsp connect paths: the rest", tests, argc, argv);
}
