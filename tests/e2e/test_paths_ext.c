/*
 * test_paths_ext.c - connect paths through the Microsoft extension
 * functions: the pointers WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER)
 * hands out, ConnectEx and AcceptEx (event, IOCP, with and without data,
 * before and after the SO_UPDATE_*_CONTEXT options), DisconnectEx,
 * TransmitFile and TransmitPackets, and an IOCP client/server pair.
 *
 * Every scenario runs on the base provider alone and through both peerlsp
 * layouts; every getpeername is compared with the base provider's answer
 * for the same handle. Extension functions are obtained through the host
 * as an application obtains them and then called directly; they report
 * errors through ws2_32's own WSAGetLastError, as the originals do.
 */
#include "e2e.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static const int families[] = { AF_INET, AF_INET6 };
static const GUID guid_connectex = WSAID_CONNECTEX;
static const GUID guid_acceptex = WSAID_ACCEPTEX;
static const GUID guid_getacceptexsockaddrs = WSAID_GETACCEPTEXSOCKADDRS;
static const GUID guid_disconnectex = WSAID_DISCONNECTEX;
static const GUID guid_transmitfile = WSAID_TRANSMITFILE;
static const GUID guid_transmitpackets = WSAID_TRANSMITPACKETS;

/* AcceptEx's address slots: the largest address plus 16, as documented. */
#define ADDR_SLOT ((DWORD)sizeof(SOCKADDR_STORAGE) + 16)

/* A TCP socket of af bound to the loopback (ConnectEx needs a bound socket). */
static SOCKET bound_tcp(const struct e2e_session *s, int af)
{
    SOCKADDR_STORAGE addr;
    int len;
    SOCKET c = s->api->socket(af, SOCK_STREAM, IPPROTO_TCP);
    if (c == INVALID_SOCKET)
        fail_msg("socket(%d): error %d", af, s->api->WSAGetLastError());
    e2e_loopback(af, 0, &addr, &len);
    E2E_OK(s->api->bind(c, (struct sockaddr *)&addr, len));
    return c;
}

/* The DLL an extension function's code lives in ("?" when none). */
static void module_of(const void *fn, WCHAR *name, DWORD size)
{
    HMODULE module = NULL;
    WCHAR path[MAX_PATH];
    wcsncpy(name, L"?", size);
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                                GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                            (LPCWSTR)fn, &module) ||
        !GetModuleFileNameW(module, path, MAX_PATH))
        return;
    const WCHAR *base = wcsrchr(path, L'\\');
    wcsncpy(name, base ? base + 1 : path, size);
    name[size - 1] = 0;
}

/* The base provider's pointer for a GUID, asked of it directly; NULL in
 * --ws2_32 mode, where nothing below the provider in use can be asked
 * (expect_own_pointer then looks at which DLL the pointer is in). */
static void *base_ext_fn(const struct e2e_session *s, SOCKET sock, int af, const GUID *guid)
{
    return s->layout == E2E_WS2_32 ? NULL : e2e_base_ext_fn(s, sock, af, guid);
}

/* Through peerlsp the five functions that change a socket's peer must be
 * peerlsp's own; on the base provider alone, the base provider's. In
 * --ws2_32 mode: peerlsp's own are in peerlsp.dll, every other pointer in
 * another DLL. */
static void expect_own_pointer(const struct e2e_session *s, const char *row, void *fn,
                               void *base_fn, int wrapped)
{
    int own = E2E_IS_LSP(s) && wrapped;
    if (s->layout == E2E_WS2_32) {
        WCHAR module[MAX_PATH];
        module_of(fn, module, MAX_PATH);
        int in_peerlsp = !_wcsicmp(module, L"peerlsp.dll");
        e2e_note_skip("the base provider's own extension function pointers",
                      "nothing below the provider in use can be asked; each pointer's DLL is "
                      "checked instead (peerlsp.dll for the five it wraps, another for the rest)");
        if (own != in_peerlsp)
            fail_msg("%s: pointer %p is in %ls; expected %s (%s)", row, fn, module,
                     own ? "peerlsp.dll" : "a DLL other than peerlsp.dll",
                     e2e_layout_names[s->layout]);
        return;
    }
    if (own && fn == base_fn)
        fail_msg("%s: peerlsp handed out the base provider's pointer %p (%s)", row, fn,
                 e2e_layout_names[s->layout]);
    if (!own && fn != base_fn)
        fail_msg("%s: pointer %p, the base provider's is %p (%s)", row, fn, base_fn,
                 e2e_layout_names[s->layout]);
}

/* ---- SIO_GET_EXTENSION_FUNCTION_POINTER -------------------------------- */

struct ext_row {
    const char *row;
    GUID guid;
    int wrapped; /* peerlsp hands out its own */
};

static const struct ext_row ext_rows[] = {
    { "ConnectEx", WSAID_CONNECTEX, 1 },
    { "AcceptEx", WSAID_ACCEPTEX, 1 },
    { "DisconnectEx", WSAID_DISCONNECTEX, 1 },
    { "TransmitFile", WSAID_TRANSMITFILE, 1 },
    { "TransmitPackets", WSAID_TRANSMITPACKETS, 1 },
    { "GetAcceptExSockaddrs", WSAID_GETACCEPTEXSOCKADDRS, 0 },
    { "WSARecvMsg", WSAID_WSARECVMSG, 0 },
    { "WSASendMsg", WSAID_WSASENDMSG, 0 },
    { "unknown GUID", { 0x1badcafe, 0x1234, 0x5678, { 1, 2, 3, 4, 5, 6, 7, 8 } }, 0 },
};

/* --ws2_32: one row of test_ext_pointers without the base provider to
 * ask. An unknown GUID fails; on Windows every known one succeeds (Wine 8
 * has no TransmitPackets); a pointer is in the right DLL and the same the
 * second time. */
static void ws2_pointer_row(const struct e2e_session *s, SOCKET sock, int af,
                            const struct ext_row *row, int rh, int err, void *fn, DWORD ret)
{
    static const GUID unknown = { 0x1badcafe, 0x1234, 0x5678, { 1, 2, 3, 4, 5, 6, 7, 8 } };
    if (IsEqualGUID(&row->guid, &unknown)) {
        if (!rh)
            fail_msg("af %d, %s: succeeded (%s)", af, row->row, e2e_layout_names[s->layout]);
        return;
    }
    if (rh) {
        if (e2e_on_wine() && IsEqualGUID(&row->guid, &guid_transmitpackets)) {
            e2e_note_skip("TransmitPackets on Wine's own ws2_32",
                          "Wine 8 has no TransmitPackets (its WSAIoctl fails that GUID)");
            return;
        }
        fail_msg("af %d, %s: error %d (%s)", af, row->row, err, e2e_layout_names[s->layout]);
    }
    if (ret != sizeof fn || !fn)
        fail_msg("af %d, %s: pointer %p, %lu bytes", af, row->row, fn, ret);
    expect_own_pointer(s, row->row, fn, NULL, row->wrapped);
    void *again = e2e_ext_fn(s, sock, &row->guid);
    if (again != fn)
        fail_msg("af %d, %s: second request gave %p, first %p", af, row->row, again, fn);
}

/* Each GUID through the host and asked of the base provider directly:
 * same return value, error and byte count; the pointer is peerlsp's own
 * for the five it wraps (and the same one every time), the base
 * provider's for every other GUID; an unknown GUID fails as below. */
static void test_ext_pointers(void **state)
{
    struct e2e_session *s = *state;
    for (size_t i = 0; i < 2; i++) {
        SOCKET sock = s->api->socket(families[i], SOCK_STREAM, IPPROTO_TCP);
        assert_true(sock != INVALID_SOCKET);
        WSPPROC_TABLE base;
        if (s->layout == E2E_WS2_32)
            memset(&base, 0, sizeof base);
        else
            e2e_base_procs(s, sock, families[i], &base);
        for (size_t r = 0; r < sizeof ext_rows / sizeof ext_rows[0]; r++) {
            const struct ext_row *row = &ext_rows[r];
            GUID g = row->guid;
            void *fn = (void *)(uintptr_t)0xdeadbeef, *bfn = (void *)(uintptr_t)0xdeadbeef;
            DWORD ret = 0xdeadbeef, bret = 0xdeadbeef;
            int err = 0, berr = 0;

            s->api->WSASetLastError((int)0xdeadbeef);
            int rh = s->api->WSAIoctl(sock, SIO_GET_EXTENSION_FUNCTION_POINTER, &g, sizeof g, &fn,
                                      sizeof fn, &ret, NULL, NULL);
            if (rh)
                err = s->api->WSAGetLastError();
            if (s->layout == E2E_WS2_32) {
                ws2_pointer_row(s, sock, families[i], row, rh, err, fn, ret);
                continue;
            }
            int rb = base.lpWSPIoctl(sock, SIO_GET_EXTENSION_FUNCTION_POINTER, &g, sizeof g, &bfn,
                                     sizeof bfn, &bret, NULL, NULL, NULL, &berr);
            if (!rb)
                berr = 0;
            if (rh != rb || err != berr)
                fail_msg("af %d, %s: %d/%d through the host, %d/%d from the base (%s)",
                         families[i], row->row, rh, err, rb, berr, e2e_layout_names[s->layout]);
            if (rh)
                continue;
            if (ret != bret)
                fail_msg("af %d, %s: %lu bytes returned, the base says %lu", families[i],
                         row->row, ret, bret);
            if (!fn && !bfn)
                continue; /* a GUID the base provider answers with NULL */
            expect_own_pointer(s, row->row, fn, bfn, row->wrapped);
            void *again = e2e_ext_fn(s, sock, &row->guid);
            if (again != fn)
                fail_msg("af %d, %s: second request gave %p, first %p", families[i], row->row,
                         again, fn);
        }
        E2E_OK(s->api->closesocket(sock));
    }
}

/* Bad buffers get the lower provider's answer: the same return value,
 * error and byte count through peerlsp as from the base provider asked
 * directly. Where the lower provider accepts them anyway (Wine 8 ignores
 * both lengths and writes a pointer), peerlsp must still not hand out the
 * base provider's ConnectEx, or the application would connect past it.
 * NULL buffers are not rows: Wine 8's WSAIoctl dereferences them (a page
 * fault inside ws2_32), so the base provider itself cannot answer them;
 * peerlsp passes them to the lower provider before looking at them. */
struct bad_ext_row {
    const char *row;
    GUID guid;
    int wrapped;
    DWORD in_len, out_len;
};

static const struct bad_ext_row bad_ext_rows[] = {
    { "ConnectEx, GUID one byte short", WSAID_CONNECTEX, 1, sizeof(GUID) - 1, sizeof(void *) },
    { "ConnectEx, GUID length 0", WSAID_CONNECTEX, 1, 0, sizeof(void *) },
    { "ConnectEx, GUID length long", WSAID_CONNECTEX, 1, sizeof(GUID) + 8, sizeof(void *) },
    { "ConnectEx, output long", WSAID_CONNECTEX, 1, sizeof(GUID), 2 * sizeof(void *) },
    { "ConnectEx, output one byte short", WSAID_CONNECTEX, 1, sizeof(GUID),
      sizeof(void *) - 1 },
    { "AcceptEx, output length 0", WSAID_ACCEPTEX, 1, sizeof(GUID), 0 },
    { "GetAcceptExSockaddrs, GUID short", WSAID_GETACCEPTEXSOCKADDRS, 0, sizeof(GUID) - 1,
      sizeof(void *) },
};

static void test_ext_bad_buffers(void **state)
{
    struct e2e_session *s = *state;
    for (size_t i = 0; i < 2; i++) {
        SOCKET sock = s->api->socket(families[i], SOCK_STREAM, IPPROTO_TCP);
        assert_true(sock != INVALID_SOCKET);
        WSPPROC_TABLE base;
        if (s->layout == E2E_WS2_32)
            memset(&base, 0, sizeof base);
        else
            e2e_base_procs(s, sock, families[i], &base);
        for (size_t r = 0; r < sizeof bad_ext_rows / sizeof bad_ext_rows[0]; r++) {
            const struct bad_ext_row *row = &bad_ext_rows[r];
            /* GUID and pointer live in larger buffers: a provider that
             * reads or writes past the lengths given must not corrupt the
             * test itself. */
            unsigned char in[64], bin[64];
            void *out[4], *bout[4];
            memset(in, 0, sizeof in);
            memcpy(in, &row->guid, sizeof row->guid);
            memcpy(bin, in, sizeof in);
            for (int k = 0; k < 4; k++)
                out[k] = bout[k] = (void *)(uintptr_t)0xdeadbeef;
            DWORD ret = 0xdeadbeef, bret = 0xdeadbeef;
            int err = 0, berr = 0;

            s->api->WSASetLastError((int)0xdeadbeef);
            int rh = s->api->WSAIoctl(sock, SIO_GET_EXTENSION_FUNCTION_POINTER, in, row->in_len,
                                      out, row->out_len, &ret, NULL, NULL);
            if (rh)
                err = s->api->WSAGetLastError();
            if (s->layout == E2E_WS2_32) {
                /* Whatever ws2_32 answers; a pointer it writes with room
                 * for one is the one a well-formed request gives. */
                e2e_note_skip("the base provider's answer to a malformed extension request",
                              "nothing below the provider in use can be asked; a pointer "
                              "written is checked against a well-formed request's");
                (void)err;
                if (!rh && row->out_len >= sizeof(void *)) {
                    void *good = e2e_ext_fn(s, sock, &row->guid);
                    if (out[0] != good)
                        fail_msg("af %d, %s: pointer %p, a well-formed request gives %p (%s)",
                                 families[i], row->row, out[0], good,
                                 e2e_layout_names[s->layout]);
                    expect_own_pointer(s, row->row, out[0], NULL, row->wrapped);
                }
                continue;
            }
            int rb = base.lpWSPIoctl(sock, SIO_GET_EXTENSION_FUNCTION_POINTER, bin, row->in_len,
                                     bout, row->out_len, &bret, NULL, NULL, NULL, &berr);
            if (!rb)
                berr = 0;
            if (rh != rb || err != berr || ret != bret)
                fail_msg("af %d, %s: %d/%d/%lu bytes through the host, %d/%d/%lu from the base "
                         "(%s)",
                         families[i], row->row, rh, err, ret, rb, berr, bret,
                         e2e_layout_names[s->layout]);
            if (out[1] != bout[1])
                fail_msg("af %d, %s: second pointer slot %p, the base wrote %p", families[i],
                         row->row, out[1], bout[1]);
            if (rh || row->out_len < sizeof(void *)) {
                /* Failed, or succeeded without room for a pointer: the
                 * bytes are whatever the lower provider wrote. */
                if (out[0] != bout[0])
                    fail_msg("af %d, %s: wrote %p, the base wrote %p", families[i], row->row,
                             out[0], bout[0]);
                continue;
            }
            void *good = e2e_ext_fn(s, sock, &row->guid);
            if (out[0] != good)
                fail_msg("af %d, %s: pointer %p, a well-formed request gives %p (base %p, %s)",
                         families[i], row->row, out[0], good, bout[0],
                         e2e_layout_names[s->layout]);
            expect_own_pointer(s, row->row, out[0], bout[0], row->wrapped);
        }
        E2E_OK(s->api->closesocket(sock));
    }
}

/* ---- ConnectEx ---------------------------------------------------------- */

enum completion { BY_RESULT, BY_EVENT, BY_PORT };

struct connectex_row {
    const char *row;
    enum completion how;
    int send_data;
};

static const struct connectex_row connectex_rows[] = {
    { "blocking-style, no data", BY_RESULT, 0 },
    { "blocking-style, with data", BY_RESULT, 1 },
    { "event, no data", BY_EVENT, 0 },
    { "event, with data", BY_EVENT, 1 },
    { "completion port, no data", BY_PORT, 0 },
    { "completion port, with data", BY_PORT, 1 },
};

/* Starts the overlapped operation's wait object for `how`. */
static HANDLE begin_overlapped(enum completion how, SOCKET sock, WSAOVERLAPPED *ov)
{
    memset(ov, 0, sizeof *ov);
    if (how == BY_EVENT) {
        ov->hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
        assert_non_null(ov->hEvent);
    }
    if (how == BY_PORT) {
        HANDLE port = CreateIoCompletionPort((HANDLE)sock, NULL, 0x5eed, 1);
        if (!port)
            fail_msg("CreateIoCompletionPort: error %lu", GetLastError());
        return port;
    }
    return NULL;
}

/* The error an extension function just reported: 0 when it returned TRUE,
 * ws2_32's last error (read at once, before any other call) otherwise. */
#define START_ERR(ok) ((ok) ? 0 : WSAGetLastError())

/* Waits for the operation the extension function started to finish;
 * start_err is START_ERR of its return value. Returns the operation's
 * error (0) and its byte count. */
static int finish_overlapped(const struct e2e_session *s, enum completion how, SOCKET sock,
                             WSAOVERLAPPED *ov, HANDLE port, int start_err, DWORD *transferred)
{
    int err = start_err;
    if (err && err != WSA_IO_PENDING)
        goto done;
    if (how == BY_PORT) {
        ULONG_PTR key = 0;
        LPOVERLAPPED got = NULL;
        BOOL done = GetQueuedCompletionStatus(port, transferred, &key, &got, 10000);
        if (!got)
            fail_msg("no completion packet in 10 s (error %lu)", GetLastError());
        if (got != ov || key != 0x5eed)
            fail_msg("completion for %p key %#Ix, expected %p", (void *)got, key, (void *)ov);
        err = done ? 0 : (int)GetLastError();
        /* The port speaks Win32 errors; the socket's own error is asked
         * for below, as an IOCP program asks WSAGetOverlappedResult. */
    }
    if (!e2e_overlapped_wait(s, sock, ov, 10000, transferred, &err) && err == WAIT_TIMEOUT)
        fail_msg("overlapped operation did not finish in 10 s");
done:
    if (ov->hEvent)
        CloseHandle(ov->hEvent);
    if (port)
        CloseHandle(port);
    return err;
}

static void test_connectex(void **state)
{
    struct e2e_session *s = *state;
    static const char data[] = "connectex first bytes";
    for (size_t r = 0; r < sizeof connectex_rows / sizeof connectex_rows[0]; r++) {
        const struct connectex_row *row = &connectex_rows[r];
        for (size_t i = 0; i < 2; i++) {
            SOCKADDR_STORAGE laddr;
            int llen;
            SOCKET l = e2e_listener(s, families[i], &laddr, &llen);
            SOCKET c = bound_tcp(s, families[i]);
            e2e_peer_matches_base(s, c, SOCKET_ERROR);

            LPFN_CONNECTEX fn = (LPFN_CONNECTEX)e2e_ext_fn(s, c, &guid_connectex);
            expect_own_pointer(s, row->row, (void *)fn,
                               base_ext_fn(s, c, families[i], &guid_connectex), 1);
            WSAOVERLAPPED ov;
            HANDLE port = begin_overlapped(row->how, c, &ov);
            DWORD sent = 0xdeadbeef, transferred = 0xdeadbeef;
            DWORD len = row->send_data ? (DWORD)sizeof data : 0;
            BOOL ok = fn(c, (struct sockaddr *)&laddr, llen, row->send_data ? (PVOID)data : NULL,
                         len, &sent, &ov);
            int err = finish_overlapped(s, row->how, c, &ov, port, START_ERR(ok), &transferred);
            if (err)
                fail_msg("af %d, %s: ConnectEx failed: %d (%s)", families[i], row->row, err,
                         e2e_layout_names[s->layout]);
            if (transferred != len)
                fail_msg("af %d, %s: %lu bytes sent, expected %lu", families[i], row->row,
                         transferred, len);

            /* Before the option: whatever the lower provider says (Windows:
             * WSAENOTCONN; Wine 8 already reports the peer). */
            e2e_peer_agrees(s, c);
            E2E_OK(s->api->setsockopt(c, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0));
            e2e_peer_matches_base(s, c, 0);
            e2e_peer_is(s, c, &laddr, llen);

            /* Through peerlsp the option recorded the peer: later answers
             * come from the table. */
            e2e_peer_from_table(s, c, &laddr, llen, 3);

            SOCKET server = s->api->accept(l, NULL, NULL);
            assert_true(server != INVALID_SOCKET);
            if (row->send_data) {
                char got[sizeof data];
                int n = 0;
                while (n < (int)sizeof data) {
                    int k = s->api->recv(server, got + n, (int)sizeof data - n, 0);
                    if (k <= 0)
                        fail_msg("af %d, %s: recv gave %d (error %d)", families[i], row->row, k,
                                 s->api->WSAGetLastError());
                    n += k;
                }
                assert_memory_equal(got, data, sizeof data);
            }
            E2E_OK(s->api->closesocket(server));
            E2E_OK(s->api->closesocket(c));
            E2E_OK(s->api->closesocket(l));
        }
    }
}

/* A ConnectEx pointer obtained on a socket of one provider used for a
 * socket of another (IPv4 and IPv6 are different base GUIDs here, as
 * Windows' two MSAFD entries are): the call reaches the right provider. */
static void test_connectex_pointer_across_providers(void **state)
{
    struct e2e_session *s = *state;
    SOCKET v4 = s->api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(v4 != INVALID_SOCKET);
    LPFN_CONNECTEX fn = (LPFN_CONNECTEX)e2e_ext_fn(s, v4, &guid_connectex);
    SOCKADDR_STORAGE laddr;
    int llen;
    SOCKET l = e2e_listener(s, AF_INET6, &laddr, &llen);
    SOCKET c = bound_tcp(s, AF_INET6);
    WSAOVERLAPPED ov;
    HANDLE port = begin_overlapped(BY_EVENT, c, &ov);
    DWORD transferred = 0;
    BOOL ok = fn(c, (struct sockaddr *)&laddr, llen, NULL, 0, NULL, &ov);
    int err = finish_overlapped(s, BY_EVENT, c, &ov, port, START_ERR(ok), &transferred);
    if (err)
        fail_msg("IPv4 socket's ConnectEx on an IPv6 socket: %d (%s)", err,
                 e2e_layout_names[s->layout]);
    E2E_OK(s->api->setsockopt(c, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0));
    e2e_peer_matches_base(s, c, 0);
    e2e_peer_is(s, c, &laddr, llen);
    SOCKET server = s->api->accept(l, NULL, NULL);
    assert_true(server != INVALID_SOCKET);
    E2E_OK(s->api->closesocket(server));
    E2E_OK(s->api->closesocket(c));
    E2E_OK(s->api->closesocket(l));
    E2E_OK(s->api->closesocket(v4));
}

/* A ConnectEx that fails (refused, or refused at once because the socket
 * is not bound) leaves no peer, before and after SO_UPDATE_CONNECT_CONTEXT
 * (whose own answer is the lower provider's). */
static void test_connectex_failed(void **state)
{
    struct e2e_session *s = *state;
    for (size_t i = 0; i < 2; i++) {
        SOCKADDR_STORAGE addr;
        int len;
        e2e_loopback(families[i], e2e_closed_port(s, families[i]), &addr, &len);

        SOCKET c = bound_tcp(s, families[i]);
        LPFN_CONNECTEX fn = (LPFN_CONNECTEX)e2e_ext_fn(s, c, &guid_connectex);
        WSAOVERLAPPED ov;
        HANDLE port = begin_overlapped(BY_EVENT, c, &ov);
        DWORD transferred = 0;
        BOOL ok = fn(c, (struct sockaddr *)&addr, len, NULL, 0, NULL, &ov);
        int err = finish_overlapped(s, BY_EVENT, c, &ov, port, START_ERR(ok), &transferred);
        if (err != WSAECONNREFUSED)
            fail_msg("af %d: ConnectEx to a closed port: error %d, expected %d (%s)",
                     families[i], err, WSAECONNREFUSED, e2e_layout_names[s->layout]);
        e2e_peer_matches_base(s, c, SOCKET_ERROR);

        WSPPROC_TABLE base;
        s->api->WSASetLastError((int)0xdeadbeef);
        if (s->layout == E2E_WS2_32) {
            (void)s->api->setsockopt(c, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0);
            e2e_note_skip("the base provider's SO_UPDATE_CONNECT_CONTEXT after a failed "
                          "ConnectEx",
                          "nothing below the provider in use can be asked; the peer after it "
                          "is checked");
            e2e_peer_matches_base(s, c, SOCKET_ERROR);
            E2E_OK(s->api->closesocket(c));
            goto unbound;
        }
        e2e_base_procs(s, c, families[i], &base);
        int rh = s->api->setsockopt(c, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0);
        int eh = rh ? s->api->WSAGetLastError() : 0, eb = 0;
        int rb = base.lpWSPSetSockOpt(c, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0, &eb);
        if (!rb)
            eb = 0;
        if (rh != rb || eh != eb)
            fail_msg("af %d: SO_UPDATE_CONNECT_CONTEXT after a failed ConnectEx: %d/%d, base "
                     "%d/%d",
                     families[i], rh, eh, rb, eb);
        e2e_peer_matches_base(s, c, SOCKET_ERROR);
        E2E_OK(s->api->closesocket(c));

        /* Not bound: fails at once, with ws2_32's last error set. */
    unbound:
        c = s->api->socket(families[i], SOCK_STREAM, IPPROTO_TCP);
        assert_true(c != INVALID_SOCKET);
        memset(&ov, 0, sizeof ov);
        WSASetLastError((int)0xdeadbeef);
        ok = fn(c, (struct sockaddr *)&addr, len, NULL, 0, NULL, &ov);
        err = WSAGetLastError();
        if (ok || err != WSAEINVAL)
            fail_msg("af %d: ConnectEx on an unbound socket: %d, error %d (%s)", families[i], ok,
                     err, e2e_layout_names[s->layout]);
        e2e_peer_matches_base(s, c, SOCKET_ERROR);
        E2E_OK(s->api->closesocket(c));
    }
}

/* ---- AcceptEx ----------------------------------------------------------- */

struct acceptex_row {
    const char *row;
    enum completion how;
    DWORD recv_len;
};

static const struct acceptex_row acceptex_rows[] = {
    { "event, no data", BY_EVENT, 0 },
    { "event, first data", BY_EVENT, 11 },
    { "completion port, no data", BY_PORT, 0 },
    { "completion port, first data", BY_PORT, 11 },
};

/* The accept socket's peer: before SO_UPDATE_ACCEPT_CONTEXT the lower
 * provider's answer, after it the client's address (from the table
 * through peerlsp); GetAcceptExSockaddrs (the base provider's own function
 * through peerlsp) parses the buffer as it would without it. */
static void test_acceptex(void **state)
{
    struct e2e_session *s = *state;
    static const char data[] = "hello acceptex";
    for (size_t r = 0; r < sizeof acceptex_rows / sizeof acceptex_rows[0]; r++) {
        const struct acceptex_row *row = &acceptex_rows[r];
        for (size_t i = 0; i < 2; i++) {
            SOCKADDR_STORAGE laddr, cname;
            int llen, clen = sizeof cname;
            SOCKET l = e2e_listener(s, families[i], &laddr, &llen);
            SOCKET as = s->api->socket(families[i], SOCK_STREAM, IPPROTO_TCP);
            assert_true(as != INVALID_SOCKET);
            e2e_peer_matches_base(s, as, SOCKET_ERROR);

            LPFN_ACCEPTEX fn = (LPFN_ACCEPTEX)e2e_ext_fn(s, l, &guid_acceptex);
            expect_own_pointer(s, row->row, (void *)fn,
                               base_ext_fn(s, l, families[i], &guid_acceptex), 1);
            LPFN_GETACCEPTEXSOCKADDRS parse =
                (LPFN_GETACCEPTEXSOCKADDRS)e2e_ext_fn(s, l, &guid_getacceptexsockaddrs);
            expect_own_pointer(s, row->row, (void *)parse,
                               base_ext_fn(s, l, families[i], &guid_getacceptexsockaddrs), 0);

            unsigned char buf[64 + 2 * ADDR_SLOT];
            memset(buf, 0xcc, sizeof buf);
            WSAOVERLAPPED ov;
            HANDLE port = begin_overlapped(row->how, l, &ov);
            DWORD received = 0xdeadbeef, transferred = 0xdeadbeef;
            BOOL ok = fn(l, as, buf, row->recv_len, ADDR_SLOT, ADDR_SLOT, &received, &ov);
            int start_err = START_ERR(ok);
            if (start_err && start_err != WSA_IO_PENDING)
                fail_msg("af %d, %s: AcceptEx: error %d (%s)", families[i], row->row, start_err,
                         e2e_layout_names[s->layout]);

            SOCKET c = s->api->socket(families[i], SOCK_STREAM, IPPROTO_TCP);
            assert_true(c != INVALID_SOCKET);
            E2E_OK(s->api->connect(c, (struct sockaddr *)&laddr, llen));
            E2E_OK(s->api->getsockname(c, (struct sockaddr *)&cname, &clen));
            if (row->recv_len)
                assert_int_equal(s->api->send(c, data, (int)row->recv_len, 0),
                                 (int)row->recv_len);
            int err = finish_overlapped(s, row->how, l, &ov, port, start_err, &transferred);
            if (err)
                fail_msg("af %d, %s: AcceptEx completed with %d (%s)", families[i], row->row,
                         err, e2e_layout_names[s->layout]);
            if (transferred != row->recv_len)
                fail_msg("af %d, %s: %lu bytes received, expected %lu", families[i], row->row,
                         transferred, row->recv_len);
            if (row->recv_len)
                assert_memory_equal(buf, data, row->recv_len);

            struct sockaddr *local = NULL, *remote = NULL;
            int local_len = -1, remote_len = -1;
            parse(buf, row->recv_len, ADDR_SLOT, ADDR_SLOT, &local, &local_len, &remote,
                  &remote_len);
            if (!local || !remote)
                fail_msg("af %d, %s: GetAcceptExSockaddrs gave %p / %p", families[i], row->row,
                         (void *)local, (void *)remote);
            e2e_addr_equal(remote, remote_len, &cname, clen);
            e2e_addr_equal(local, local_len, &laddr, llen);

            e2e_peer_agrees(s, as);
            E2E_OK(s->api->setsockopt(as, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (char *)&l,
                                      sizeof l));
            e2e_peer_matches_base(s, as, 0);
            e2e_peer_is(s, as, &cname, clen);
            e2e_peer_from_table(s, as, &cname, clen, 3);

            E2E_OK(s->api->closesocket(c));
            E2E_OK(s->api->closesocket(as));
            E2E_OK(s->api->closesocket(l));
        }
    }
}

/* ---- DisconnectEx, TransmitFile, TransmitPackets ------------------------ */

struct reuse_row {
    const char *row;
    enum { BY_DISCONNECTEX, BY_TRANSMITFILE, BY_TRANSMITPACKETS } fn;
    DWORD flags;
};

static const struct reuse_row reuse_rows[] = {
    { "DisconnectEx, no flags", BY_DISCONNECTEX, 0 },
    { "DisconnectEx, TF_REUSE_SOCKET", BY_DISCONNECTEX, TF_REUSE_SOCKET },
    { "TransmitFile, no flags", BY_TRANSMITFILE, 0 },
    { "TransmitFile, TF_DISCONNECT", BY_TRANSMITFILE, TF_DISCONNECT },
    { "TransmitFile, TF_DISCONNECT | TF_REUSE_SOCKET", BY_TRANSMITFILE,
      TF_DISCONNECT | TF_REUSE_SOCKET },
    { "TransmitPackets, TP_DISCONNECT | TP_REUSE_SOCKET", BY_TRANSMITPACKETS,
      TP_DISCONNECT | TP_REUSE_SOCKET },
};

/* Whether the base provider hands out the function at all (Wine 8 has no
 * TransmitPackets: its WSAIoctl answers that GUID with an error). */
static int base_has(const struct e2e_session *s, SOCKET sock, int af, const GUID *guid)
{
    WSPPROC_TABLE base;
    GUID g = *guid;
    void *fn = NULL;
    DWORD ret = 0;
    int err = 0;
    if (s->layout == E2E_WS2_32) {
        /* Only Wine lacks one (TransmitPackets): on Windows a failure here
         * is peerlsp's, and e2e_ext_fn reports it. */
        if (!e2e_on_wine())
            return 1;
        int has = !s->api->WSAIoctl(sock, SIO_GET_EXTENSION_FUNCTION_POINTER, &g, sizeof g, &fn,
                                    sizeof fn, &ret, NULL, NULL) &&
                  fn;
        if (!has)
            e2e_note_skip("TransmitPackets on Wine's own ws2_32",
                          "Wine 8 has no TransmitPackets (its WSAIoctl fails that GUID)");
        return has;
    }
    e2e_base_procs(s, sock, af, &base);
    return !base.lpWSPIoctl(sock, SIO_GET_EXTENSION_FUNCTION_POINTER, &g, sizeof g, &fn,
                            sizeof fn, &ret, NULL, NULL, NULL, &err) &&
           fn;
}

/* After a disconnect by an extension function the old peer is gone
 * exactly when the lower provider says so; a handle reused with
 * TF_REUSE_SOCKET connects again with ConnectEx and then reports the new
 * peer. Wine 8 cannot reuse a socket (its ConnectEx on a disconnected
 * handle fails with WSAEISCONN, and its TransmitFile ignores TF_DISCONNECT
 * and TF_REUSE_SOCKET): then the reconnect's failure and every later
 * answer must still be the lower provider's. */
static void test_disconnect_and_reuse(void **state)
{
    struct e2e_session *s = *state;
    static const char head[] = "transmitted";
    for (size_t r = 0; r < sizeof reuse_rows / sizeof reuse_rows[0]; r++) {
        const struct reuse_row *row = &reuse_rows[r];
        for (size_t i = 0; i < 2; i++) {
            SOCKADDR_STORAGE laddr;
            int llen;
            SOCKET server, l = e2e_listener(s, families[i], &laddr, &llen);
            SOCKET c = e2e_connect_pair(s, l, &laddr, llen, &server);
            e2e_peer_matches_base(s, c, 0); /* recorded through peerlsp */

            BOOL ok = FALSE;
            WSASetLastError((int)0xdeadbeef);
            if (row->fn == BY_DISCONNECTEX) {
                LPFN_DISCONNECTEX fn = (LPFN_DISCONNECTEX)e2e_ext_fn(s, c, &guid_disconnectex);
                expect_own_pointer(s, row->row, (void *)fn,
                                   base_ext_fn(s, c, families[i], &guid_disconnectex), 1);
                ok = fn(c, NULL, row->flags, 0);
            } else if (row->fn == BY_TRANSMITFILE) {
                LPFN_TRANSMITFILE fn = (LPFN_TRANSMITFILE)e2e_ext_fn(s, c, &guid_transmitfile);
                expect_own_pointer(s, row->row, (void *)fn,
                                   base_ext_fn(s, c, families[i], &guid_transmitfile), 1);
                TRANSMIT_FILE_BUFFERS tfb = { (PVOID)head, sizeof head, NULL, 0 };
                ok = fn(c, NULL, 0, 0, NULL, &tfb, row->flags);
            } else {
                if (!base_has(s, c, families[i], &guid_transmitpackets)) {
                    /* Wine 8 has no TransmitPackets: peerlsp has nothing
                     * to wrap and must fail the request as the base does
                     * (test_ext_pointers compares that answer). */
                    E2E_OK(s->api->closesocket(c));
                    E2E_OK(s->api->closesocket(server));
                    E2E_OK(s->api->closesocket(l));
                    continue;
                }
                LPFN_TRANSMITPACKETS fn =
                    (LPFN_TRANSMITPACKETS)e2e_ext_fn(s, c, &guid_transmitpackets);
                TRANSMIT_PACKETS_ELEMENT el;
                memset(&el, 0, sizeof el);
                el.dwElFlags = TP_ELEMENT_MEMORY;
                el.cLength = sizeof head;
                el.pBuffer = (PVOID)head;
                ok = fn(c, &el, 1, 0, NULL, row->flags);
            }
            if (!ok)
                fail_msg("af %d, %s: failed with %d (%s)", families[i], row->row,
                         WSAGetLastError(), e2e_layout_names[s->layout]);
            e2e_peer_agrees(s, c);
            e2e_peer_agrees(s, c);
            if (row->fn != BY_DISCONNECTEX) {
                char got[sizeof head];
                int n = 0;
                while (n < (int)sizeof head) {
                    int k = s->api->recv(server, got + n, (int)sizeof head - n, 0);
                    if (k <= 0)
                        fail_msg("af %d, %s: recv gave %d", families[i], row->row, k);
                    n += k;
                }
                assert_memory_equal(got, head, sizeof head);
            }
            E2E_OK(s->api->closesocket(server));
            e2e_peer_agrees(s, c);

            if (row->flags & TF_REUSE_SOCKET) {
                LPFN_CONNECTEX cex = (LPFN_CONNECTEX)e2e_ext_fn(s, c, &guid_connectex);
                WSAOVERLAPPED ov;
                HANDLE port = begin_overlapped(BY_EVENT, c, &ov);
                DWORD transferred = 0;
                ok = cex(c, (struct sockaddr *)&laddr, llen, NULL, 0, NULL, &ov);
                int err = finish_overlapped(s, BY_EVENT, c, &ov, port, START_ERR(ok), &transferred);
                e2e_peer_agrees(s, c);
                if (!err) {
                    /* Windows: the reused handle is connected again. */
                    E2E_OK(s->api->setsockopt(c, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL,
                                              0));
                    e2e_peer_matches_base(s, c, 0);
                    e2e_peer_is(s, c, &laddr, llen);
                    server = s->api->accept(l, NULL, NULL);
                    assert_true(server != INVALID_SOCKET);
                    E2E_OK(s->api->closesocket(server));
                } else if (err != WSAEISCONN) {
                    /* Wine 8 refuses ConnectEx on a disconnected handle
                     * with WSAEISCONN; anything else is unexpected. */
                    fail_msg("af %d, %s: ConnectEx on the reused handle: %d (%s)", families[i],
                             row->row, err, e2e_layout_names[s->layout]);
                }
            }
            E2E_OK(s->api->closesocket(c));
            E2E_OK(s->api->closesocket(l));
        }
    }
}

/* ---- an IOCP client/server pair ------------------------------------------ */

#define IOCP_CONNECTIONS 150 /* per address family */
#define IOCP_WORKERS 3
#define IOCP_CLIENT_THREADS 2
#define IOCP_ACCEPTS_POSTED 16

enum op_kind { OP_CONNECT, OP_ACCEPT };

struct op {
    WSAOVERLAPPED ov; /* first: the completion hands back &op->ov */
    enum op_kind kind;
    SOCKET sock;
    unsigned char buf[2 * ADDR_SLOT];
};

struct iocp_run {
    const struct e2e_session *s;
    int af;
    HANDLE port;
    SOCKET listener;
    SOCKADDR_STORAGE laddr;
    int llen;
    LPFN_CONNECTEX connectex;
    LPFN_ACCEPTEX acceptex;
    LPFN_GETACCEPTEXSOCKADDRS parse;
    volatile LONG accepts_posted;
    volatile LONG connects_started;
    volatile LONG finished; /* connect and accept sides, 2 per connection */
    volatile LONG checked;  /* getpeername answers checked */
    volatile LONG wrong;
    volatile LONG kernel_turn; /* --ws2_32: connect sides seen, for sampling */
    HANDLE all_done;
    HANDLE in_flight; /* semaphore: connects not yet accepted */
    char first_error[200];
};

static void iocp_wrong(struct iocp_run *run, const char *what, SOCKET sock, int err)
{
    if (InterlockedIncrement(&run->wrong) == 1)
        snprintf(run->first_error, sizeof run->first_error, "%s on %#llx: error %d", what,
                 (unsigned long long)sock, err);
}

/* The peer through the host must equal want and the base provider's answer. */
static void iocp_check_peer(struct iocp_run *run, SOCKET sock, const void *want, int wantlen,
                            int check_kernel)
{
    const struct wsapi *api = run->s->api;
    SOCKADDR_STORAGE a, b;
    int alen = sizeof a, blen = sizeof b, eb = 0;
    if (api->getpeername(sock, (struct sockaddr *)&a, &alen)) {
        iocp_wrong(run, "getpeername", sock, api->WSAGetLastError());
        return;
    }
    if (alen != wantlen || memcmp(&a, want, (size_t)alen)) {
        iocp_wrong(run, "getpeername gave another address", sock, alen);
        return;
    }
    if (run->s->layout == E2E_WS2_32) {
        /* The accept side's want is the kernel's own (the AcceptEx
         * buffer); the connect side's is asked of the kernel's TCP table
         * once per socket (each read is slow under Wine). */
        int llen = sizeof b;
        if (check_kernel &&
            (api->getsockname(sock, (struct sockaddr *)&b, &llen) ||
             e2e_kernel_has_connection(&b, &a) != 1)) {
            iocp_wrong(run, "the kernel's TCP table disagrees", sock, 0);
            return;
        }
    } else if (host_lower_getpeername(sock, (struct sockaddr *)&b, &blen, &eb) || blen != alen ||
               memcmp(&a, &b, (size_t)alen)) {
        iocp_wrong(run, "base provider disagrees", sock, eb);
        return;
    }
    InterlockedIncrement(&run->checked);
}

static void iocp_finish_one(struct iocp_run *run)
{
    if (InterlockedIncrement(&run->finished) == 2 * IOCP_CONNECTIONS)
        SetEvent(run->all_done);
}

static int iocp_post_accept(struct iocp_run *run)
{
    const struct wsapi *api = run->s->api;
    if (InterlockedIncrement(&run->accepts_posted) > IOCP_CONNECTIONS)
        return 0;
    struct op *op = calloc(1, sizeof *op);
    if (!op)
        return -1;
    op->kind = OP_ACCEPT;
    op->sock = api->socket(run->af, SOCK_STREAM, IPPROTO_TCP);
    if (op->sock == INVALID_SOCKET) {
        iocp_wrong(run, "socket for AcceptEx", 0, api->WSAGetLastError());
        free(op);
        return -1;
    }
    DWORD received = 0;
    if (!run->acceptex(run->listener, op->sock, op->buf, 0, ADDR_SLOT, ADDR_SLOT, &received,
                       &op->ov) &&
        WSAGetLastError() != WSA_IO_PENDING) {
        iocp_wrong(run, "AcceptEx", op->sock, WSAGetLastError());
        api->closesocket(op->sock);
        free(op);
        return -1;
    }
    return 0;
}

static void iocp_completed(struct iocp_run *run, struct op *op, BOOL ok)
{
    const struct wsapi *api = run->s->api;
    if (op->kind == OP_CONNECT) {
        if (!ok) {
            iocp_wrong(run, "ConnectEx completion", op->sock, (int)GetLastError());
        } else if (api->setsockopt(op->sock, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0)) {
            iocp_wrong(run, "SO_UPDATE_CONNECT_CONTEXT", op->sock, api->WSAGetLastError());
        } else {
            int sample = InterlockedIncrement(&run->kernel_turn) % E2E_KERNEL_SAMPLE == 0;
            for (int k = 0; k < 2; k++)
                iocp_check_peer(run, op->sock, &run->laddr, run->llen, k == 0 && sample);
        }
    } else {
        ReleaseSemaphore(run->in_flight, 1, NULL);
        if (!ok) {
            iocp_wrong(run, "AcceptEx completion", op->sock, (int)GetLastError());
        } else if (api->setsockopt(op->sock, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT,
                                   (char *)&run->listener, sizeof run->listener)) {
            iocp_wrong(run, "SO_UPDATE_ACCEPT_CONTEXT", op->sock, api->WSAGetLastError());
        } else {
            struct sockaddr *local = NULL, *remote = NULL;
            int local_len = 0, remote_len = 0;
            run->parse(op->buf, 0, ADDR_SLOT, ADDR_SLOT, &local, &local_len, &remote,
                       &remote_len);
            if (!remote)
                iocp_wrong(run, "GetAcceptExSockaddrs", op->sock, 0);
            else
                for (int k = 0; k < 2; k++)
                    iocp_check_peer(run, op->sock, remote, remote_len, 0);
        }
        iocp_post_accept(run);
    }
    /* Closing here, on the worker threads, while clients open new sockets
     * on other threads: handle values are reused under load. */
    if (api->closesocket(op->sock))
        iocp_wrong(run, "closesocket", op->sock, api->WSAGetLastError());
    free(op);
    iocp_finish_one(run);
}

static DWORD WINAPI iocp_worker(void *arg)
{
    struct iocp_run *run = arg;
    for (;;) {
        DWORD n = 0;
        ULONG_PTR key = 0;
        LPOVERLAPPED ov = NULL;
        BOOL ok = GetQueuedCompletionStatus(run->port, &n, &key, &ov, INFINITE);
        if (!ov)
            return ok ? 0 : 1; /* the quit packet (or a broken port) */
        iocp_completed(run, (struct op *)ov, ok);
    }
}

static DWORD WINAPI iocp_client(void *arg)
{
    struct iocp_run *run = arg;
    const struct wsapi *api = run->s->api;
    for (;;) {
        if (InterlockedIncrement(&run->connects_started) > IOCP_CONNECTIONS)
            return 0;
        /* Never more connects pending than accepts can take. */
        if (WaitForSingleObject(run->in_flight, 20000) != WAIT_OBJECT_0) {
            iocp_wrong(run, "waiting for an accept slot", 0, 0);
            return 1;
        }
        struct op *op = calloc(1, sizeof *op);
        if (!op)
            return 1;
        op->kind = OP_CONNECT;
        op->sock = api->socket(run->af, SOCK_STREAM, IPPROTO_TCP);
        SOCKADDR_STORAGE any;
        int len;
        e2e_loopback(run->af, 0, &any, &len);
        if (op->sock == INVALID_SOCKET || api->bind(op->sock, (struct sockaddr *)&any, len)) {
            iocp_wrong(run, "socket/bind for ConnectEx", op->sock, api->WSAGetLastError());
            free(op);
            iocp_finish_one(run);
            continue;
        }
        /* A new socket, maybe on a reused handle value: no peer yet. */
        SOCKADDR_STORAGE peer;
        int plen = sizeof peer;
        if (api->getpeername(op->sock, (struct sockaddr *)&peer, &plen) != SOCKET_ERROR ||
            api->WSAGetLastError() != WSAENOTCONN)
            iocp_wrong(run, "new socket has a peer", op->sock, api->WSAGetLastError());
        if (!CreateIoCompletionPort((HANDLE)op->sock, run->port, 0, 0)) {
            iocp_wrong(run, "CreateIoCompletionPort", op->sock, (int)GetLastError());
            api->closesocket(op->sock);
            free(op);
            iocp_finish_one(run);
            continue;
        }
        if (!run->connectex(op->sock, (struct sockaddr *)&run->laddr, run->llen, NULL, 0, NULL,
                            &op->ov) &&
            WSAGetLastError() != WSA_IO_PENDING) {
            iocp_wrong(run, "ConnectEx", op->sock, WSAGetLastError());
            api->closesocket(op->sock);
            free(op);
            iocp_finish_one(run);
        }
    }
}

/* Several threads, hundreds of ConnectEx + AcceptEx connections on one
 * completion port: zero wrong answers, and afterwards no socket left bound
 * to peerlsp's entries (or tbase's) and none open in tbase; a handle value
 * reused after that has no peer. */
static void test_iocp_pair(void **state)
{
    struct e2e_session *s = *state;
    int host = s->layout != E2E_WS2_32;
    LONG live_before = host ? e2e_live_handles(s) : 0;
    LONG open_before = host ? e2e_base_open_sockets() : 0;
    if (!host) {
        e2e_note_skip("sockets left bound and open after the IOCP run",
                      "only the test host and the test base provider count them");
        e2e_note_skip("the kernel's TCP table for every IOCP connection",
                      "one connect side in E2E_KERNEL_SAMPLE is compared with it (each read is "
                      "slow under Wine); every answer is compared with its expected address");
    }
    for (size_t i = 0; i < 2; i++) {
        struct iocp_run *run = test_calloc(1, sizeof *run);
        HANDLE threads[IOCP_WORKERS + IOCP_CLIENT_THREADS];
        run->s = s;
        run->af = families[i];
        run->listener = e2e_listener(s, families[i], &run->laddr, &run->llen);
        run->connectex = (LPFN_CONNECTEX)e2e_ext_fn(s, run->listener, &guid_connectex);
        run->acceptex = (LPFN_ACCEPTEX)e2e_ext_fn(s, run->listener, &guid_acceptex);
        run->parse = (LPFN_GETACCEPTEXSOCKADDRS)e2e_ext_fn(s, run->listener,
                                                           &guid_getacceptexsockaddrs);
        run->all_done = CreateEventW(NULL, TRUE, FALSE, NULL);
        run->in_flight = CreateSemaphoreW(NULL, IOCP_ACCEPTS_POSTED, IOCP_ACCEPTS_POSTED, NULL);
        run->port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, IOCP_WORKERS);
        assert_non_null(run->all_done);
        assert_non_null(run->in_flight);
        assert_non_null(run->port);
        assert_non_null(CreateIoCompletionPort((HANDLE)run->listener, run->port, 0, 0));
        for (int k = 0; k < IOCP_ACCEPTS_POSTED; k++)
            assert_int_equal(iocp_post_accept(run), 0);
        for (int t = 0; t < IOCP_WORKERS; t++)
            threads[t] = CreateThread(NULL, 0, iocp_worker, run, 0, NULL);
        for (int t = 0; t < IOCP_CLIENT_THREADS; t++)
            threads[IOCP_WORKERS + t] = CreateThread(NULL, 0, iocp_client, run, 0, NULL);
        for (int t = 0; t < IOCP_WORKERS + IOCP_CLIENT_THREADS; t++)
            assert_non_null(threads[t]);

        DWORD waited = WaitForSingleObject(run->all_done, 60000);
        for (int t = 0; t < IOCP_WORKERS; t++)
            PostQueuedCompletionStatus(run->port, 0, 0, NULL);
        assert_int_equal(WaitForMultipleObjects(IOCP_WORKERS + IOCP_CLIENT_THREADS, threads,
                                                TRUE, 30000),
                         WAIT_OBJECT_0);
        for (int t = 0; t < IOCP_WORKERS + IOCP_CLIENT_THREADS; t++)
            CloseHandle(threads[t]);
        if (waited != WAIT_OBJECT_0)
            fail_msg("af %d: %ld of %d sides finished in 60 s; %ld wrong, first: %s (%s)",
                     families[i], run->finished, 2 * IOCP_CONNECTIONS, run->wrong,
                     run->first_error, e2e_layout_names[s->layout]);
        if (run->wrong)
            fail_msg("af %d: %ld wrong answers, first: %s (%s)", families[i], run->wrong,
                     run->first_error, e2e_layout_names[s->layout]);
        if (run->checked != 4 * IOCP_CONNECTIONS)
            fail_msg("af %d: %ld answers checked, expected %d", families[i], run->checked,
                     4 * IOCP_CONNECTIONS);
        E2E_OK(s->api->closesocket(run->listener));
        CloseHandle(run->port);
        CloseHandle(run->all_done);
        CloseHandle(run->in_flight);
        test_free(run);
    }
    LONG live = host ? e2e_live_handles(s) : 0, open = host ? e2e_base_open_sockets() : 0;
    if (live != live_before || open != open_before)
        fail_msg("after the run: %ld handles bound (%ld before), %ld open in tbase (%ld before) "
                 "(%s)",
                 live, live_before, open, open_before, e2e_layout_names[s->layout]);
    assert_int_equal(live, 0);
    assert_int_equal(open, 0);

    /* Handle values the run used are free again: new sockets taking them
     * have no peer, through peerlsp as below. */
    SOCKET fresh[32];
    for (int k = 0; k < 32; k++) {
        fresh[k] = s->api->socket(families[k % 2], SOCK_STREAM, IPPROTO_TCP);
        assert_true(fresh[k] != INVALID_SOCKET);
        e2e_peer_matches_base(s, fresh[k], SOCKET_ERROR);
    }
    for (int k = 0; k < 32; k++)
        E2E_OK(s->api->closesocket(fresh[k]));
    if (host)
        assert_int_equal(e2e_live_handles(s), 0);
}

int main(int argc, char **argv)
{
    static enum e2e_layout layouts[] = { E2E_BASE_ONLY, E2E_LSP_SHARED, E2E_LSP_OWN };
    const struct CMUnitTest tests[] = {
        E2E_LAYOUT_TESTS(test_ext_pointers, layouts),
        E2E_LAYOUT_TESTS(test_ext_bad_buffers, layouts),
        E2E_LAYOUT_TESTS(test_connectex, layouts),
        E2E_LAYOUT_TESTS(test_connectex_pointer_across_providers, layouts),
        E2E_LAYOUT_TESTS(test_connectex_failed, layouts),
        E2E_LAYOUT_TESTS(test_acceptex, layouts),
        E2E_LAYOUT_TESTS(test_disconnect_and_reuse, layouts),
        E2E_LAYOUT_TESTS(test_iocp_pair, layouts),
    };
    return E2E_MAIN("peerlsp connect paths: extension functions", tests, argc, argv);
}
