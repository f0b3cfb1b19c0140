/*
 * e2e.c - sessions, loopback helpers and base-provider comparisons for the
 * end-to-end tests.
 */
#include "e2e.h"

#include <stdio.h>
#include <string.h>

#include <peerlsp/peerlsp.h>

const char *const e2e_layout_names[] = {
    [E2E_BASE_ONLY] = "base provider alone",
    [E2E_LSP_SHARED] = "peerlsp, chains sharing its GUID",
    [E2E_LSP_OWN] = "peerlsp, a GUID per chain",
    [E2E_WS2_32] = "this process's own ws2_32",
};

static HMODULE base_module(void)
{
    static HMODULE module;
    if (!module) {
        /* The same file the catalog names: Windows loads a DLL once per
         * process, so these are the counters of the provider in use. */
        module = LoadLibraryW(PEERLSP_TEST_BASE_DLL);
        if (!module)
            fail_msg("cannot load %ls: error %lu", PEERLSP_TEST_BASE_DLL, GetLastError());
    }
    return module;
}

static FARPROC base_export(const char *name)
{
    FARPROC fn = GetProcAddress(base_module(), name);
    if (!fn)
        fail_msg("tbase.dll does not export %s", name);
    return fn;
}

LONG e2e_base_calls(const char *wsp_function)
{
    return ((TBASE_CALLS_FN)(void (*)(void))base_export("tbase_calls"))(wsp_function);
}

LONG e2e_base_startups(void)
{
    return ((LONG (WINAPI *)(void))(void (*)(void))base_export("tbase_startups"))();
}

LONG e2e_base_open_sockets(void)
{
    return ((LONG (WINAPI *)(void))(void (*)(void))base_export("tbase_open_sockets"))();
}

void e2e_base_fail_next_startup(int error)
{
    ((TBASE_FAIL_NEXT_STARTUP_FN)(void (*)(void))base_export("tbase_fail_next_startup"))(error);
}

void e2e_start(struct e2e_session *s, enum e2e_layout layout)
{
    static const GUID lsp_guid = PEERLSP_GUID_INIT;
    int err;

    memset(s, 0, sizeof *s);
    if (e2e_ws2_mode()) {
        WSADATA data;
        s->layout = E2E_WS2_32;
        s->api = wsapi_ws2_32();
        err = s->api->WSAStartup(MAKEWORD(2, 2), &data);
        if (err)
            fail_msg("WSAStartup: %d", err);
        e2e_ws2_catalog(s);
        return;
    }
    s->layout = layout;
    s->through_lsp = layout != E2E_BASE_ONLY;
    s->cat = simcat_create();
    assert_non_null(s->cat);
    err = host_catalog_add_base(s->cat, PEERLSP_TEST_BASE_DLL, s->base_ids);
    if (err)
        fail_msg("host_catalog_add_base: %d", err);
    if (layout != E2E_BASE_ONLY) {
        err = host_catalog_install_lsp(s->cat, PEERLSP_TEST_LSP_DLL, &lsp_guid,
                                       layout == E2E_LSP_SHARED ? HOST_CHAINS_SHARE_GUID
                                                                : HOST_CHAINS_OWN_GUID,
                                       &s->lsp);
        if (err)
            fail_msg("host_catalog_install_lsp: %d", err);
        assert_int_equal(s->lsp.chain_count, HOST_BASE_COUNT);
    }
    host_set_catalog(s->cat);
    err = host_startup();
    if (err)
        fail_msg("host_startup: %d", err);
    s->api = host_api();
    (void)base_module();
}

void e2e_stop(struct e2e_session *s)
{
    if (s->layout == E2E_WS2_32) {
        if (s->api->WSACleanup())
            fail_msg("WSACleanup: error %d", s->api->WSAGetLastError());
        return;
    }
    if (host_cleanup() != 0)
        fail_msg("host_cleanup failed");
    host_set_catalog(NULL);
    simcat_destroy(s->cat);
    s->cat = NULL;
}

static int base_index(int af, int type)
{
    if (af == AF_INET)
        return type == SOCK_STREAM ? HOST_BASE_TCP4 : HOST_BASE_UDP4;
    return type == SOCK_STREAM ? HOST_BASE_TCP6 : HOST_BASE_UDP6;
}

DWORD e2e_expected_entry(const struct e2e_session *s, int af, int type)
{
    int i = base_index(af, type);
    return s->through_lsp ? s->lsp.chain_ids[i] : s->base_ids[i];
}

void e2e_loopback(int af, unsigned short port, SOCKADDR_STORAGE *addr, int *len)
{
    memset(addr, 0, sizeof *addr);
    if (af == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)addr;
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        *len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        in6->sin6_addr = in6addr_loopback;
        *len = sizeof *in6;
    }
}

static SOCKET bound_socket(const struct e2e_session *s, int af, int type,
                           SOCKADDR_STORAGE *addr, int *len)
{
    SOCKET sock = s->api->socket(af, type, type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP);
    if (sock == INVALID_SOCKET)
        fail_msg("socket(%d, %d): error %d", af, type, s->api->WSAGetLastError());
    DWORD bound = e2e_socket_entry(s, sock), expected = e2e_expected_entry(s, af, type);
    if (bound != expected)
        fail_msg("socket(%d, %d) is bound to entry %lu, expected %lu (%s)", af, type, bound,
                 expected, e2e_layout_names[s->layout]);
    e2e_loopback(af, 0, addr, len);
    E2E_OK(s->api->bind(sock, (struct sockaddr *)addr, *len));
    *len = sizeof *addr;
    E2E_OK(s->api->getsockname(sock, (struct sockaddr *)addr, len));
    return sock;
}

SOCKET e2e_listener(const struct e2e_session *s, int af, SOCKADDR_STORAGE *addr, int *len)
{
    SOCKET sock = bound_socket(s, af, SOCK_STREAM, addr, len);
    E2E_OK(s->api->listen(sock, SOMAXCONN));
    return sock;
}

SOCKET e2e_udp_bound(const struct e2e_session *s, int af, SOCKADDR_STORAGE *addr, int *len)
{
    return bound_socket(s, af, SOCK_DGRAM, addr, len);
}

SOCKET e2e_connect_pair(const struct e2e_session *s, SOCKET listener,
                        const SOCKADDR_STORAGE *addr, int len, SOCKET *accepted)
{
    SOCKET c = s->api->socket(addr->ss_family, SOCK_STREAM, IPPROTO_TCP);
    if (c == INVALID_SOCKET)
        fail_msg("socket: error %d", s->api->WSAGetLastError());
    if (s->layout == E2E_WS2_32) {
        DWORD bound = e2e_socket_entry(s, c);
        DWORD expected = e2e_expected_entry(s, addr->ss_family, SOCK_STREAM);
        if (bound != expected)
            fail_msg("client socket is bound to entry %lu, expected %lu", bound, expected);
    }
    E2E_OK(s->api->connect(c, (const struct sockaddr *)addr, len));
    if (accepted) {
        *accepted = s->api->accept(listener, NULL, NULL);
        if (*accepted == INVALID_SOCKET)
            fail_msg("accept: error %d", s->api->WSAGetLastError());
    }
    return c;
}

/* Below the ephemeral range (Linux hands out 32768-60999 for port 0): a
 * socket bound to port 0 next can never get the same port and connect to
 * itself (a loopback "simultaneous open" that succeeds), which a port just
 * freed from that range invites. */
#define E2E_CLOSED_PORT_FIRST 20000
#define E2E_CLOSED_PORT_SPAN 10000

unsigned short e2e_closed_port(const struct e2e_session *s, int af)
{
    unsigned start = (unsigned)(GetCurrentProcessId() * 7919u + GetTickCount()) %
                     E2E_CLOSED_PORT_SPAN;
    for (unsigned n = 0; n < 200; n++) {
        unsigned short port =
            (unsigned short)(E2E_CLOSED_PORT_FIRST + (start + n * 37u) % E2E_CLOSED_PORT_SPAN);
        SOCKADDR_STORAGE addr;
        int len;
        SOCKET sock = s->api->socket(af, SOCK_STREAM, IPPROTO_TCP);
        if (sock == INVALID_SOCKET)
            fail_msg("socket: error %d", s->api->WSAGetLastError());
        e2e_loopback(af, port, &addr, &len);
        int bound = s->api->bind(sock, (struct sockaddr *)&addr, len) == 0;
        E2E_OK(s->api->closesocket(sock));
        if (bound)
            return port; /* free a moment ago, and nothing listens on it */
    }
    fail_msg("no free loopback port in %d..%d", E2E_CLOSED_PORT_FIRST,
             E2E_CLOSED_PORT_FIRST + E2E_CLOSED_PORT_SPAN - 1);
    return 0;
}

void e2e_addr_equal_(const void *a, int alen, const void *b, int blen, const char *file, int line)
{
    if (alen != blen)
        fail_msg("%s:%d: address lengths differ: %d vs %d", file, line, alen, blen);
    if (memcmp(a, b, (size_t)alen)) {
        char ha[3 * 28 + 1] = "", hb[3 * 28 + 1] = "";
        for (int i = 0; i < alen && i < 28; i++) {
            sprintf(ha + 3 * i, "%02x ", ((const unsigned char *)a)[i]);
            sprintf(hb + 3 * i, "%02x ", ((const unsigned char *)b)[i]);
        }
        fail_msg("%s:%d: addresses differ:\n  %s\n  %s", file, line, ha, hb);
    }
}

/* --ws2_32: getpeername on ws2_32, whose answer is checked against what
 * can be asked apart from the provider in use (see e2e_ws2.c). expect_ret
 * is 0, SOCKET_ERROR, or 1 for either. Returns getpeername's result. */
static int ws2_peer_check(const struct e2e_session *s, SOCKET sock, int expect_ret,
                          const char *file, int line)
{
    SOCKADDR_STORAGE a, local;
    int alen = sizeof a, llen = sizeof local, ea = 0, type = 0, tlen = sizeof type;

    memset(&a, 0xcc, sizeof a);
    s->api->WSASetLastError((int)0xdeadbeef);
    e2e_trace_begin();
    int ra = s->api->getpeername(sock, (struct sockaddr *)&a, &alen);
    if (ra)
        ea = s->api->WSAGetLastError();
    if (expect_ret != 1 && ra != expect_ret)
        fail_msg("%s:%d: getpeername returned %d (error %d), expected %d (%s)", file, line, ra,
                 ea, expect_ret, e2e_layout_names[s->layout]);
    e2e_trace_expect_getpeername_(s, sock, ra, ea, file, line);
    if (ra) {
        if (alen != (int)sizeof a)
            fail_msg("%s:%d: a failed getpeername changed namelen to %d", file, line, alen);
        e2e_note_skip("the base provider's error for a failed getpeername",
                      "on ws2_32 nothing below the provider in use can be asked for it; the "
                      "return value and the unchanged namelen are checked");
        return ra;
    }
    if (alen != (a.ss_family == AF_INET ? (int)sizeof(struct sockaddr_in)
                                        : (int)sizeof(struct sockaddr_in6)))
        fail_msg("%s:%d: namelen %d for family %d", file, line, alen, a.ss_family);
    E2E_OK(s->api->getsockopt(sock, SOL_SOCKET, SO_TYPE, (char *)&type, &tlen));
    if (type != SOCK_STREAM) {
        e2e_note_skip("the base provider's peer of a datagram socket",
                      "the kernel's UDP table has no remote address to compare with; the "
                      "scenario's own expected address is checked");
        return ra;
    }
    E2E_OK(s->api->getsockname(sock, (struct sockaddr *)&local, &llen));
    int found = e2e_kernel_has_connection(&local, &a);
    if (found < 0)
        fail_msg("%s:%d: GetExtendedTcpTable failed", file, line);
    if (!found)
        fail_msg("%s:%d: the kernel's TCP table has no connection from this socket's address "
                 "to the peer getpeername answered", file, line);
    return ra;
}

void e2e_peer_matches_base_(const struct e2e_session *s, SOCKET sock, int expect_ret,
                            const char *file, int line)
{
    if (s->layout == E2E_WS2_32) {
        (void)ws2_peer_check(s, sock, expect_ret, file, line);
        return;
    }
    SOCKADDR_STORAGE a, b;
    int alen = sizeof a, blen = sizeof b, ea = 0, eb = (int)0xdeadbeef;

    memset(&a, 0xcc, sizeof a);
    memset(&b, 0xcc, sizeof b);
    s->api->WSASetLastError((int)0xdeadbeef);
    int ra = s->api->getpeername(sock, (struct sockaddr *)&a, &alen);
    if (ra)
        ea = s->api->WSAGetLastError();
    int rb = host_lower_getpeername(sock, (struct sockaddr *)&b, &blen, &eb);
    if (!rb)
        eb = 0;
    if (ra != expect_ret)
        fail_msg("%s:%d: getpeername returned %d (error %d), expected %d (%s)", file, line, ra,
                 ea, expect_ret, e2e_layout_names[s->layout]);
    if (ra != rb || ea != eb)
        fail_msg("%s:%d: getpeername %d/%d through the host, %d/%d from the base (%s)", file,
                 line, ra, ea, rb, eb, e2e_layout_names[s->layout]);
    if (alen != blen)
        fail_msg("%s:%d: namelen %d through the host, %d from the base", file, line, alen, blen);
    if (ra == 0)
        e2e_addr_equal_(&a, alen, &b, blen, file, line);
}

/* ---- connect paths ------------------------------------------------------ */

void e2e_base_procs(const struct e2e_session *s, SOCKET sock, int af, WSPPROC_TABLE *procs)
{
    SOCKADDR_STORAGE ignored;
    int len = sizeof ignored, err = 0;
    if (s->layout == E2E_WS2_32)
        fail_msg("e2e_base_procs needs the test host");
    /* Any answer will do: the call only makes sure the host started the
     * base provider itself, so that host_provider knows its table. */
    (void)host_lower_getpeername(sock, (struct sockaddr *)&ignored, &len, &err);
    int r = host_provider(af == AF_INET ? &TBASE_GUID_IPV4 : &TBASE_GUID_IPV6, procs, NULL);
    if (r)
        fail_msg("host_provider(tbase, af %d): %d", af, r);
}

void *e2e_ext_fn(const struct e2e_session *s, SOCKET sock, const GUID *guid)
{
    GUID g = *guid;
    void *fn = (void *)(uintptr_t)0xdeadbeef;
    DWORD returned = 0xdeadbeef;
    if (s->api->WSAIoctl(sock, SIO_GET_EXTENSION_FUNCTION_POINTER, &g, sizeof g, &fn, sizeof fn,
                         &returned, NULL, NULL))
        fail_msg("SIO_GET_EXTENSION_FUNCTION_POINTER {%08lx}: error %d (%s)", guid->Data1,
                 s->api->WSAGetLastError(), e2e_layout_names[s->layout]);
    if (!fn || fn == (void *)(uintptr_t)0xdeadbeef || returned != sizeof fn)
        fail_msg("SIO_GET_EXTENSION_FUNCTION_POINTER {%08lx}: pointer %p, %lu bytes (%s)",
                 guid->Data1, fn, returned, e2e_layout_names[s->layout]);
    return fn;
}

void *e2e_base_ext_fn(const struct e2e_session *s, SOCKET sock, int af, const GUID *guid)
{
    WSPPROC_TABLE procs;
    GUID g = *guid;
    void *fn = NULL;
    DWORD returned = 0;
    int err = 0;
    e2e_base_procs(s, sock, af, &procs);
    if (procs.lpWSPIoctl(sock, SIO_GET_EXTENSION_FUNCTION_POINTER, &g, sizeof g, &fn, sizeof fn,
                         &returned, NULL, NULL, NULL, &err) || !fn)
        fail_msg("base SIO_GET_EXTENSION_FUNCTION_POINTER {%08lx}: error %d", guid->Data1, err);
    return fn;
}

LONG e2e_live_handles(const struct e2e_session *s)
{
    LONG total = 0;
    if (s->layout == E2E_WS2_32) {
        e2e_note_skip("how many handles each catalog entry has bound",
                      "only the test host keeps that count");
        return -1;
    }
    for (int i = 0; i < HOST_BASE_COUNT; i++) {
        DWORD id = s->layout == E2E_BASE_ONLY ? s->base_ids[i] : s->lsp.chain_ids[i];
        LONG n = host_entry_handles(id);
        if (n < 0)
            fail_msg("host_entry_handles(%lu): %ld", id, n);
        total += n;
    }
    return total;
}

BOOL e2e_overlapped_wait(const struct e2e_session *s, SOCKET sock, WSAOVERLAPPED *ov, DWORD ms,
                         DWORD *transferred, int *err)
{
    DWORD flags = 0;
    if (ov->hEvent && WaitForSingleObject(ov->hEvent, ms) != WAIT_OBJECT_0) {
        *err = WAIT_TIMEOUT;
        return FALSE;
    }
    if (!s->api->WSAGetOverlappedResult(sock, ov, transferred, TRUE, &flags)) {
        *err = s->api->WSAGetLastError();
        return FALSE;
    }
    *err = 0;
    return TRUE;
}

int e2e_setup_layout(void **state)
{
    struct e2e_session *s = test_malloc(sizeof *s);
    e2e_start(s, *(enum e2e_layout *)*state);
    *state = s;
    return 0;
}

int e2e_teardown_layout(void **state)
{
    struct e2e_session *s = *state;
    e2e_stop(s);
    test_free(s);
    return 0;
}

int e2e_peer_agrees_(const struct e2e_session *s, SOCKET sock, const char *file, int line)
{
    if (s->layout == E2E_WS2_32)
        return ws2_peer_check(s, sock, 1, file, line) == 0 ? 0 : SOCKET_ERROR;
    SOCKADDR_STORAGE b;
    int blen = sizeof b, eb = 0;
    memset(&b, 0xcc, sizeof b);
    /* The base provider is asked first only to learn which return value
     * to expect; the comparison below asks it again after the host. */
    int rb = host_lower_getpeername(sock, (struct sockaddr *)&b, &blen, &eb);
    e2e_peer_matches_base_(s, sock, rb == 0 ? 0 : SOCKET_ERROR, file, line);
    return rb == 0 ? 0 : SOCKET_ERROR;
}

void e2e_peer_is_(const struct e2e_session *s, SOCKET sock, const void *want, int wantlen,
                  const char *file, int line)
{
    SOCKADDR_STORAGE a;
    int alen = sizeof a;
    memset(&a, 0xcc, sizeof a);
    e2e_trace_begin();
    if (s->api->getpeername(sock, (struct sockaddr *)&a, &alen))
        fail_msg("%s:%d: getpeername failed: error %d (%s)", file, line,
                 s->api->WSAGetLastError(), e2e_layout_names[s->layout]);
    e2e_trace_expect_getpeername_(s, sock, 0, 0, file, line);
    e2e_addr_equal_(&a, alen, want, wantlen, file, line);
}

void e2e_peer_from_table_(const struct e2e_session *s, SOCKET sock, const void *want,
                          int wantlen, int calls, const char *file, int line)
{
    if (s->layout == E2E_WS2_32) {
        for (int k = 0; k < calls; k++)
            e2e_peer_is_(s, sock, want, wantlen, file, line);
        e2e_note_skip("how often the base provider was asked",
                      "only the test base provider counts its calls; each answer is checked");
        return;
    }
    LONG before = e2e_base_calls("WSPGetPeerName");
    for (int k = 0; k < calls; k++)
        e2e_peer_is_(s, sock, want, wantlen, file, line);
    LONG asked = e2e_base_calls("WSPGetPeerName") - before;
    if (asked != (E2E_IS_LSP(s) ? 0 : calls))
        fail_msg("%s:%d: the base provider was asked %ld times for %d answers (%s)", file, line,
                 asked, calls, e2e_layout_names[s->layout]);
}
