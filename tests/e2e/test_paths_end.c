/*
 * test_paths_end.c - a connection that ends while peerlsp holds its peer.
 *
 * The other end resets the connection (SO_LINGER 0 and close: a real RST
 * through Wine's stack) or closes it gracefully; the application then sees
 * the ending through one call that passes through peerlsp: recv, send, an
 * overlapped WSARecv's WSAGetOverlappedResult, or WSAEnumNetworkEvents with
 * FD_CLOSE. After it, getpeername through the host must agree with the base
 * provider for the same handle (which, after a reset, says WSAENOTCONN):
 * peerlsp must no longer answer the old peer from its table.
 *
 * Each scenario runs on the base provider alone and through both peerlsp
 * layouts. The same paths with Windows' error codes (Wine reports a reset
 * to recv as 0 bytes) run against simprov in test_paths_sim.c.
 */
#include "e2e.h"

#include <string.h>

static const int families[] = { AF_INET, AF_INET6 };

enum observer {
    SEEN_BY_RECV,
    SEEN_BY_SEND,
    SEEN_BY_OVERLAPPED_RESULT,
    SEEN_BY_NETWORK_EVENTS,
};

static const char *const observer_names[] = {
    [SEEN_BY_RECV] = "recv",
    [SEEN_BY_SEND] = "send",
    [SEEN_BY_OVERLAPPED_RESULT] = "WSAGetOverlappedResult",
    [SEEN_BY_NETWORK_EVENTS] = "WSAEnumNetworkEvents",
};

static int is_ending_error(int err)
{
    return err == WSAECONNRESET || err == WSAECONNABORTED || err == WSAENETRESET ||
           err == WSAENOTCONN || err == WSAESHUTDOWN || err == WSAEDISCON;
}

/* Closes sock with SO_LINGER 0: the stack sends a reset. */
static void abort_connection(const struct e2e_session *s, SOCKET sock)
{
    struct linger lg = { 1, 0 };
    E2E_OK(s->api->setsockopt(sock, SOL_SOCKET, SO_LINGER, (const char *)&lg, sizeof lg));
    E2E_OK(s->api->closesocket(sock));
}

/* Waits until sock is readable: a reset that arrived makes it so. */
static void wait_readable(const struct e2e_session *s, SOCKET sock)
{
    fd_set r;
    FD_ZERO(&r);
    FD_SET(sock, &r);
    if (s->api->select(0, &r, NULL, NULL, NULL) != 1)
        fail_msg("select: error %d", s->api->WSAGetLastError());
}

/* The base provider must say WSAENOTCONN for sock now (what the test
 * stands on), and the answer through the host must be the same. */
static void peer_gone(const struct e2e_session *s, SOCKET sock, const char *how)
{
    SOCKADDR_STORAGE b;
    int blen = sizeof b, eb = 0;
    if (host_lower_getpeername(sock, (struct sockaddr *)&b, &blen, &eb) != SOCKET_ERROR ||
        eb != WSAENOTCONN)
        fail_msg("after a reset seen by %s the base provider says error %d, not WSAENOTCONN",
                 how, eb);
    e2e_peer_matches_base(s, sock, SOCKET_ERROR);
}

static void reset_seen_by(const struct e2e_session *s, int af, enum observer how)
{
    SOCKADDR_STORAGE addr;
    int len;
    SOCKET listener = e2e_listener(s, af, &addr, &len), accepted;
    SOCKET c = e2e_connect_pair(s, listener, &addr, len, &accepted);
    char buf[16];
    WSAOVERLAPPED ov;
    WSABUF wb = { sizeof buf, buf };
    DWORD flags = 0, got = 0;
    WSAEVENT ev = NULL;

    /* Recorded: answered from peerlsp's table from now on. */
    e2e_peer_from_table(s, c, &addr, len, 2);

    if (how == SEEN_BY_OVERLAPPED_RESULT) {
        memset(&ov, 0, sizeof ov);
        ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
        assert_non_null(ov.hEvent);
        if (s->api->WSARecv(c, &wb, 1, &got, &flags, &ov, NULL) != SOCKET_ERROR ||
            s->api->WSAGetLastError() != WSA_IO_PENDING)
            fail_msg("overlapped WSARecv with no data: error %d, expected WSA_IO_PENDING",
                     s->api->WSAGetLastError());
    } else if (how == SEEN_BY_NETWORK_EVENTS) {
        ev = CreateEventW(NULL, TRUE, FALSE, NULL);
        assert_non_null(ev);
        E2E_OK(s->api->WSAEventSelect(c, ev, FD_CLOSE));
    }

    abort_connection(s, accepted);

    switch (how) {
    case SEEN_BY_RECV: {
        wait_readable(s, c);
        int n = s->api->recv(c, buf, sizeof buf, 0);
        if (n != 0 && !(n == SOCKET_ERROR && is_ending_error(s->api->WSAGetLastError())))
            fail_msg("recv after a reset: %d (error %d)", n, s->api->WSAGetLastError());
        break;
    }
    case SEEN_BY_SEND: {
        wait_readable(s, c);
        if (s->api->send(c, "x", 1, 0) != SOCKET_ERROR ||
            !is_ending_error(s->api->WSAGetLastError()))
            fail_msg("send after a reset: error %d", s->api->WSAGetLastError());
        break;
    }
    case SEEN_BY_OVERLAPPED_RESULT: {
        int err = 0;
        BOOL ok = e2e_overlapped_wait(s, c, &ov, INFINITE, &got, &err);
        if (!(ok && got == 0) && !(!ok && is_ending_error(err)))
            fail_msg("overlapped WSARecv over a reset: %d, %lu bytes, error %d", ok, got, err);
        CloseHandle(ov.hEvent);
        break;
    }
    case SEEN_BY_NETWORK_EVENTS: {
        WSANETWORKEVENTS events;
        if (WaitForSingleObject(ev, INFINITE) != WAIT_OBJECT_0)
            fail_msg("FD_CLOSE event never signalled");
        E2E_OK(s->api->WSAEnumNetworkEvents(c, ev, &events));
        if (!(events.lNetworkEvents & FD_CLOSE))
            fail_msg("WSAEnumNetworkEvents: events %#lx without FD_CLOSE", events.lNetworkEvents);
        E2E_OK(s->api->WSAEventSelect(c, NULL, 0));
        CloseHandle(ev);
        break;
    }
    }
    peer_gone(s, c, observer_names[how]);
    E2E_OK(s->api->closesocket(c));
    E2E_OK(s->api->closesocket(listener));
}

static void test_reset_seen_by_recv(void **state)
{
    for (size_t f = 0; f < 2; f++)
        reset_seen_by(*state, families[f], SEEN_BY_RECV);
}

static void test_reset_seen_by_send(void **state)
{
    for (size_t f = 0; f < 2; f++)
        reset_seen_by(*state, families[f], SEEN_BY_SEND);
}

static void test_reset_seen_by_overlapped_result(void **state)
{
    for (size_t f = 0; f < 2; f++)
        reset_seen_by(*state, families[f], SEEN_BY_OVERLAPPED_RESULT);
}

static void test_reset_seen_by_network_events(void **state)
{
    for (size_t f = 0; f < 2; f++)
        reset_seen_by(*state, families[f], SEEN_BY_NETWORK_EVENTS);
}

/* The other end closes gracefully: recv returns 0 (end of stream). The
 * stack still knows the peer (the connection is half closed), but it may
 * drop it at any moment without a call through peerlsp (the other end's
 * reset to the next send), so getpeername asks below from now on: every
 * answer is the base provider's own, and the base provider is asked. */
static void test_end_of_stream(void **state)
{
    const struct e2e_session *s = *state;
    for (size_t f = 0; f < 2; f++) {
        SOCKADDR_STORAGE addr;
        int len;
        char buf[16];
        SOCKET listener = e2e_listener(s, families[f], &addr, &len), accepted;
        SOCKET c = e2e_connect_pair(s, listener, &addr, len, &accepted);

        e2e_peer_from_table(s, c, &addr, len, 2);
        E2E_OK(s->api->shutdown(accepted, SD_SEND));
        int n = s->api->recv(c, buf, sizeof buf, 0);
        if (n != 0)
            fail_msg("recv after the other end's shutdown: %d (error %d)", n,
                     s->api->WSAGetLastError());
        LONG before = e2e_base_calls("WSPGetPeerName");
        e2e_peer_is(s, c, &addr, len);
        e2e_peer_matches_base(s, c, 0);
        /* Two answers through the host, one direct comparison: all three
         * the base provider's own. */
        LONG asked = e2e_base_calls("WSPGetPeerName") - before;
        if (asked != 3)
            fail_msg("after the end of the stream the base provider was asked %ld times for "
                     "3 answers (%s)", asked, e2e_layout_names[s->layout]);
        E2E_OK(s->api->closesocket(accepted));
        E2E_OK(s->api->closesocket(c));
        E2E_OK(s->api->closesocket(listener));
    }
}

/* A zero-byte receive (an IOCP server's "wait for data" read) returns 0
 * bytes without any ending: the peer stays answered from the table. */
static void test_zero_byte_read_keeps_peer(void **state)
{
    const struct e2e_session *s = *state;
    SOCKADDR_STORAGE addr;
    int len;
    char buf[1];
    SOCKET listener = e2e_listener(s, AF_INET, &addr, &len), accepted;
    SOCKET c = e2e_connect_pair(s, listener, &addr, len, &accepted);
    WSABUF wb = { 0, buf };
    DWORD got = 1, flags = 0;

    if (s->api->send(accepted, "x", 1, 0) != 1)
        fail_msg("send: error %d", s->api->WSAGetLastError());
    wait_readable(s, c);
    E2E_OK(s->api->WSARecv(c, &wb, 1, &got, &flags, NULL, NULL));
    assert_int_equal(got, 0);
    e2e_peer_from_table(s, c, &addr, len, 2);
    E2E_OK(s->api->closesocket(accepted));
    E2E_OK(s->api->closesocket(c));
    E2E_OK(s->api->closesocket(listener));
}

int main(void)
{
    static enum e2e_layout layouts[] = { E2E_BASE_ONLY, E2E_LSP_SHARED, E2E_LSP_OWN };
    const struct CMUnitTest tests[] = {
        E2E_LAYOUT_TESTS(test_reset_seen_by_recv, layouts),
        E2E_LAYOUT_TESTS(test_reset_seen_by_send, layouts),
        E2E_LAYOUT_TESTS(test_reset_seen_by_overlapped_result, layouts),
        E2E_LAYOUT_TESTS(test_reset_seen_by_network_events, layouts),
        E2E_LAYOUT_TESTS(test_end_of_stream, layouts),
        E2E_LAYOUT_TESTS(test_zero_byte_read_keeps_peer, layouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
