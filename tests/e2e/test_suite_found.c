/*
 * test_suite_found.c - what Wine's ws2_32 conformance suite (sock.c, run
 * through peerlsp with peerlsp-run: `make conformance`) found peerlsp
 * doing differently from the base provider, each case kept here as a test
 * of the project's own. Each runs on the base provider alone (the
 * reference) and through peerlsp in both catalog layouts, with the same
 * expected values.
 */
#include "e2e.h"

#include <stdio.h>
#include <string.h>

#include <winternl.h>

/* The visible catalog entry a plain socket(af, type, 0) uses, as a
 * program gets it from WSAEnumProtocols. */
static void visible_entry(const struct e2e_session *s, int af, int type, WSAPROTOCOL_INFOW *out)
{
    DWORD want = e2e_expected_entry(s, af, type);
    WSAPROTOCOL_INFOW entries[32];
    DWORD len = sizeof entries;
    int n = s->api->WSAEnumProtocolsW(NULL, entries, &len);
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        if (entries[i].dwCatalogEntryId == want) {
            *out = entries[i];
            return;
        }
    }
    fail_msg("entry %lu is not in WSAEnumProtocols' answer", want);
}

/* sock.c test_WSASocket: a protocol info from WSAEnumProtocols with its
 * family, type and protocol edited by the caller describes the socket to
 * make; the entry it names only says which provider makes it. peerlsp used
 * to pass the lower provider's own, unedited information down. */
static void test_socket_from_edited_protocol_info(void **state)
{
    struct e2e_session *s = *state;
    WSAPROTOCOL_INFOW info;
    visible_entry(s, AF_INET, SOCK_STREAM, &info);
    DWORD entry = info.dwCatalogEntryId;

    /* The caller's fields rule: a datagram socket on the stream entry. */
    info.iAddressFamily = AF_INET;
    info.iSocketType = SOCK_DGRAM;
    info.iProtocol = IPPROTO_UDP;
    SOCKET sock = s->api->WSASocketW(0, 0, 0, &info, 0, 0);
    if (sock == INVALID_SOCKET)
        fail_msg("WSASocketW from edited info: error %d", s->api->WSAGetLastError());
    int type = 0, len = sizeof type;
    E2E_OK(s->api->getsockopt(sock, SOL_SOCKET, SO_TYPE, (char *)&type, &len));
    assert_int_equal(type, SOCK_DGRAM);
    assert_int_equal(host_socket_entry(sock), entry);
    E2E_OK(s->api->closesocket(sock));

    /* Fields the base provider cannot use: its error, not a socket of the
     * entry's own kind. */
    info.iAddressFamily = -1;
    info.iSocketType = -1;
    info.iProtocol = -1;
    s->api->WSASetLastError(0xdeadbeef);
    sock = s->api->WSASocketW(0, 0, IPPROTO_UDP, &info, 0, 0);
    if (sock != INVALID_SOCKET)
        fail_msg("WSASocketW with family -1 made a socket");
    assert_int_equal(s->api->WSAGetLastError(), WSAEAFNOSUPPORT);
}

/* sock.c test_AcceptEx: AcceptEx on a listening socket that is not a
 * socket fails with WSAENOTSOCK after marking the OVERLAPPED pending, as
 * the base provider's AcceptEx does. peerlsp's AcceptEx used to fail
 * before reaching the base provider, leaving Internal untouched. */
static void test_acceptex_invalid_listener(void **state)
{
    struct e2e_session *s = *state;
    SOCKADDR_STORAGE addr;
    int len;
    SOCKET listener = e2e_listener(s, AF_INET, &addr, &len);
    SOCKET accepted = s->api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(accepted != INVALID_SOCKET);
    GUID guid = WSAID_ACCEPTEX;
    LPFN_ACCEPTEX accept_ex = (LPFN_ACCEPTEX)e2e_ext_fn(s, listener, &guid);
    char buffer[2 * (sizeof(struct sockaddr_in) + 16)];
    DWORD received = 0xdeadbeef;
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.Internal = 0xdeadbeef;
    WSASetLastError(0xdeadbeef);
    BOOL ok = accept_ex(INVALID_SOCKET, accepted, buffer, 0, sizeof(struct sockaddr_in) + 16,
                        sizeof(struct sockaddr_in) + 16, &received, &ov);
    int err = WSAGetLastError();
    assert_false(ok);
    assert_int_equal(err, WSAENOTSOCK);
    assert_int_equal(ov.Internal, STATUS_PENDING);
    E2E_OK(s->api->closesocket(accepted));
    E2E_OK(s->api->closesocket(listener));
}

/* sock.c test_getsockopt (line 1690): SO_PROTOCOL_INFOA/W into a buffer
 * larger than the structure succeed and leave the length as the caller
 * gave it, as the base provider does. peerlsp's own answer (its chain
 * entry) used to set the length to the structure's size. */
static void test_protocol_info_length_kept(void **state)
{
    struct e2e_session *s = *state;
    SOCKET sock = s->api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(sock != INVALID_SOCKET);
    const int names[] = { SO_PROTOCOL_INFOA, SO_PROTOCOL_INFOW };
    const int sizes[] = { sizeof(WSAPROTOCOL_INFOA), sizeof(WSAPROTOCOL_INFOW) };
    for (int i = 0; i < 2; i++) {
        char buffer[2 * sizeof(WSAPROTOCOL_INFOW)];
        int len = 2 * sizes[i];
        E2E_OK(s->api->getsockopt(sock, SOL_SOCKET, names[i], buffer, &len));
        if (len != 2 * sizes[i])
            fail_msg("option %#x: length %d, expected %d (unchanged)", names[i], len,
                     2 * sizes[i]);
    }
    E2E_OK(s->api->closesocket(sock));
}

int main(void)
{
    static enum e2e_layout layouts[] = { E2E_BASE_ONLY, E2E_LSP_SHARED, E2E_LSP_OWN };
    const struct CMUnitTest tests[] = {
        E2E_LAYOUT_TESTS(test_socket_from_edited_protocol_info, layouts),
        E2E_LAYOUT_TESTS(test_acceptex_invalid_listener, layouts),
        E2E_LAYOUT_TESTS(test_protocol_info_length_kept, layouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
