/*
 * e2e_ws2.c - the end-to-end scenarios on the process's own ws2_32
 * (`--ws2_32`): what replaces the test host's inspection there.
 *
 * - Which entry a socket is bound to: its SO_PROTOCOL_INFOW, compared with
 *   the entry ws2_32 must pick (the first visible one for (af, type,
 *   protocol) in WSAEnumProtocolsW order), which on Windows must be one of
 *   peerlsp's chains (found by peerlsp's GUID in WSCEnumProtocols);
 *   test_socket_goes_through_peerlsp holds every kind of socket to that,
 *   and the scenarios also accept a handle peerlsp's trace shows it made.
 * - That peerlsp's WSPGetPeerName ran: its own trace line (HKLM\SOFTWARE\
 *   peerlsp Trace = 1, administrators only), read from the debugger output
 *   as a debugger sees it (a vectored handler sees OutputDebugString's
 *   exception first), on the thread that asked.
 * - The base provider's answer: for TCP, the kernel's own connection table
 *   (GetTcpTable / GetTcp6Table, which no LSP sits in front of) must hold a
 *   connection from the socket's local address to the peer answered.
 *
 * Under Wine nothing goes through peerlsp: Wine's ws2_32 never loads a
 * service provider. The "goes through peerlsp" checks are skipped there,
 * saying so; everything else runs on Wine's real sockets.
 */
#include "e2e.h"

#include <iphlpapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <peerlsp/peerlsp.h>

#ifndef DBG_PRINTEXCEPTION_WIDE_C
#define DBG_PRINTEXCEPTION_WIDE_C 0x4001000A
#endif

static int ws2_mode;

int e2e_ws2_mode(void)
{
    return ws2_mode;
}

int e2e_on_wine(void)
{
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll && GetProcAddress(ntdll, "wine_get_version") != NULL;
}

/* Each distinct note once per program, on stdout beside cmocka's lines.
 * Called from the scenarios' main thread only. */
#define NOTES_MAX 32
static const char *notes_seen[NOTES_MAX];
static int notes_count;

void e2e_note_skip(const char *what, const char *why)
{
    for (int i = 0; i < notes_count; i++) {
        if (!strcmp(notes_seen[i], what))
            return;
    }
    if (notes_count < NOTES_MAX)
        notes_seen[notes_count++] = what;
    printf("[ ws2_32  ] skipped: %s: %s\n", what, why);
    fflush(stdout);
}

/* ---- the debugger output, per thread ------------------------------------ */

#define TRACE_CAPTURE 4096
static _Thread_local char trace_text[TRACE_CAPTURE];
static _Thread_local size_t trace_len;
static int trace_on; /* the HKLM value was 1 when the program started */

/* Handles peerlsp made in this process (its WSPSocket, WSPAccept or
 * WSPJoinLeaf returned them to ws2_32) and has not closed, learnt from its
 * trace lines as they are written. */
#define MADE_MAX 4096
static SRWLOCK made_lock = SRWLOCK_INIT;
static unsigned long long made[MADE_MAX];
static size_t made_count;

static void made_update(const char *line)
{
    char mine[48];
    snprintf(mine, sizeof mine, "peerlsp: pid %lu ", GetCurrentProcessId());
    if (strncmp(line, mine, strlen(mine)))
        return;
    const char *fn = strchr(line + strlen(mine) + 4, ' '); /* after "tid N" */
    if (!fn)
        return;
    fn++;
    const char *arrow = strstr(fn, " -> ");
    const char *sock_at = strstr(fn, " socket ");
    if (!arrow || !sock_at || !strncmp(arrow + 4, "error", 5))
        return;
    unsigned long long sock = strtoull(sock_at + 8, NULL, 0);
    unsigned long long ret = strtoull(arrow + 4, NULL, 10);
    int add = !strncmp(fn, "WSPSocket ", 10) || !strncmp(fn, "WSPAccept ", 10) ||
              !strncmp(fn, "WSPJoinLeaf ", 12);
    int del = !strncmp(fn, "WSPCloseSocket ", 15);
    AcquireSRWLockExclusive(&made_lock);
    /* Once per handle, whether the line came once (wide) or twice (wide,
     * then narrow, as OutputDebugStringW may do). */
    for (size_t i = 0; add && i < made_count; i++)
        add = made[i] != ret;
    if (add && made_count < MADE_MAX)
        made[made_count++] = ret;
    if (del) {
        for (size_t i = 0; i < made_count; i++) {
            if (made[i] == sock) {
                made[i] = made[--made_count];
                break;
            }
        }
    }
    ReleaseSRWLockExclusive(&made_lock);
}

static int peerlsp_made(SOCKET sock)
{
    int found = 0;
    AcquireSRWLockShared(&made_lock);
    for (size_t i = 0; i < made_count && !found; i++)
        found = made[i] == (unsigned long long)sock;
    ReleaseSRWLockShared(&made_lock);
    return found;
}

void e2e_trace_line_seen(const char *line)
{
    made_update(line);
}

int e2e_trace_made(SOCKET sock)
{
    return peerlsp_made(sock);
}

static void trace_capture(const char *text, size_t len)
{
    made_update(text);
    if (trace_len >= TRACE_CAPTURE - 1)
        return;
    if (trace_len + len >= TRACE_CAPTURE)
        len = TRACE_CAPTURE - 1 - trace_len;
    memcpy(trace_text + trace_len, text, len);
    trace_len += len;
    trace_text[trace_len] = 0;
}

static LONG CALLBACK debug_output_handler(EXCEPTION_POINTERS *ep)
{
    const EXCEPTION_RECORD *r = ep->ExceptionRecord;
    if (r->ExceptionCode == DBG_PRINTEXCEPTION_C && r->NumberParameters >= 2) {
        const char *text = (const char *)r->ExceptionInformation[1];
        trace_capture(text, strnlen(text, 1024));
        return EXCEPTION_CONTINUE_EXECUTION;
    }
    if (r->ExceptionCode == DBG_PRINTEXCEPTION_WIDE_C && r->NumberParameters >= 2) {
        char narrow[1024];
        int n = WideCharToMultiByte(CP_UTF8, 0, (const WCHAR *)r->ExceptionInformation[1], -1,
                                    narrow, sizeof narrow, NULL, NULL);
        if (n > 0)
            trace_capture(narrow, (size_t)n - 1);
        return EXCEPTION_CONTINUE_EXECUTION;
    }
    return EXCEPTION_CONTINUE_SEARCH;
}

void e2e_trace_begin(void)
{
    trace_len = 0;
    trace_text[0] = 0;
}

void e2e_trace_expect_getpeername_(const struct e2e_session *s, SOCKET sock, int ret, int err,
                                   const char *file, int line)
{
    char want[160];
    if (!ws2_mode || !s->through_lsp)
        return;
    if (ret == 0)
        snprintf(want, sizeof want, "tid %lu WSPGetPeerName socket %#llx -> 0",
                 GetCurrentThreadId(), (unsigned long long)sock);
    else
        snprintf(want, sizeof want, "tid %lu WSPGetPeerName socket %#llx -> error %d",
                 GetCurrentThreadId(), (unsigned long long)sock, err);
    if (!strstr(trace_text, want))
        fail_msg("%s:%d: peerlsp's WSPGetPeerName did not answer: no \"%s\" in its trace:\n%s",
                 file, line, want, trace_text);
}

/* ---- the kernel's own connection table ----------------------------------- */

/* The tables hold ports in network order in the low 16 bits. */
static int same_endpoint4(const SOCKADDR_STORAGE *a, DWORD addr, DWORD port)
{
    const struct sockaddr_in *in = (const struct sockaddr_in *)a;
    return a->ss_family == AF_INET && in->sin_addr.s_addr == addr &&
           in->sin_port == (USHORT)port;
}

static int same_endpoint6(const SOCKADDR_STORAGE *a, const UCHAR addr[16], DWORD port)
{
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;
    return a->ss_family == AF_INET6 && !memcmp(&in6->sin6_addr, addr, 16) &&
           in6->sin6_port == (USHORT)port;
}

/* GetTcpTable / GetTcp6Table: the plain tables (the owner-pid ones make
 * Wine look through every process's descriptors, far too slow for a check
 * per answer). */
static ULONG read_tcp_table(ULONG af, void *table, ULONG *size)
{
    return af == AF_INET ? GetTcpTable(table, size, FALSE) : GetTcp6Table(table, size, FALSE);
}

static int table_has_connection(const SOCKADDR_STORAGE *local, const SOCKADDR_STORAGE *peer);

/* An IPv4-mapped IPv6 address as the IPv4 address it stands for. */
static int unmapped(const SOCKADDR_STORAGE *a, SOCKADDR_STORAGE *v4)
{
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;
    if (a->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
        return 0;
    struct sockaddr_in *in = (struct sockaddr_in *)v4;
    memset(v4, 0, sizeof *v4);
    in->sin_family = AF_INET;
    in->sin_port = in6->sin6_port;
    memcpy(&in->sin_addr, &in6->sin6_addr.s6_addr[12], 4);
    return 1;
}

int e2e_kernel_has_connection(const SOCKADDR_STORAGE *local, const SOCKADDR_STORAGE *peer)
{
    int found = table_has_connection(local, peer);
    SOCKADDR_STORAGE local4, peer4;
    /* A dual-stack socket's IPv4 connection: Linux lists it in the IPv6
     * table (mapped), Windows in the IPv4 one. */
    if (found == 0 && unmapped(local, &local4) && unmapped(peer, &peer4))
        found = table_has_connection(&local4, &peer4);
    return found;
}

static int table_has_connection(const SOCKADDR_STORAGE *local, const SOCKADDR_STORAGE *peer)
{
    ULONG af = local->ss_family, size = 0;
    ULONG r = read_tcp_table(af, NULL, &size);
    /* Other programs' connections come and go between the two calls:
     * ask again with room to spare while the table outgrows the buffer. */
    for (int tries = 0; tries < 16 && r == ERROR_INSUFFICIENT_BUFFER; tries++) {
        ULONG room = size + size / 2 + 4096;
        void *table = malloc(room);
        if (!table)
            return -1;
        size = room;
        r = read_tcp_table(af, table, &size);
        if (r == NO_ERROR) {
            int found = 0;
            if (af == AF_INET) {
                const MIB_TCPTABLE *t = table;
                for (DWORD i = 0; i < t->dwNumEntries && !found; i++)
                    found = same_endpoint4(local, t->table[i].dwLocalAddr,
                                           t->table[i].dwLocalPort) &&
                            same_endpoint4(peer, t->table[i].dwRemoteAddr,
                                           t->table[i].dwRemotePort);
            } else {
                const MIB_TCP6TABLE *t = table;
                for (DWORD i = 0; i < t->dwNumEntries && !found; i++)
                    found = same_endpoint6(local, t->table[i].LocalAddr.s6_addr,
                                           t->table[i].dwLocalPort) &&
                            same_endpoint6(peer, t->table[i].RemoteAddr.s6_addr,
                                           t->table[i].dwRemotePort);
            }
            free(table);
            return found;
        }
        free(table);
    }
    return r == NO_ERROR ? 0 : -1;
}

/* ---- the machine's catalog ---------------------------------------------- */

static const struct {
    int af, type, protocol;
} base_kinds[HOST_BASE_COUNT] = {
    [HOST_BASE_TCP4] = { AF_INET, SOCK_STREAM, IPPROTO_TCP },
    [HOST_BASE_UDP4] = { AF_INET, SOCK_DGRAM, IPPROTO_UDP },
    [HOST_BASE_TCP6] = { AF_INET6, SOCK_STREAM, IPPROTO_TCP },
    [HOST_BASE_UDP6] = { AF_INET6, SOCK_DGRAM, IPPROTO_UDP },
};

/* peerlsp's layered entry id from WSCEnumProtocols (which, unlike
 * WSAEnumProtocols, lists hidden layered entries); 0 when not installed. */
static DWORD peerlsp_layered_id(void)
{
    static const GUID lsp_guid = PEERLSP_GUID_INIT;
    DWORD size = 0, id = 0;
    int err = 0;
    if (WSCEnumProtocols(NULL, NULL, &size, &err) != SOCKET_ERROR || err != WSAENOBUFS)
        fail_msg("WSCEnumProtocols (size): error %d", err);
    WSAPROTOCOL_INFOW *all = malloc(size);
    assert_non_null(all);
    int n = WSCEnumProtocols(NULL, all, &size, &err);
    if (n == SOCKET_ERROR)
        fail_msg("WSCEnumProtocols: error %d", err);
    for (int i = 0; i < n && !id; i++) {
        if (all[i].ProtocolChain.ChainLen == LAYERED_PROTOCOL &&
            IsEqualGUID(&all[i].ProviderId, &lsp_guid))
            id = all[i].dwCatalogEntryId;
    }
    free(all);
    return id;
}

void e2e_ws2_catalog(struct e2e_session *s)
{
    DWORD size = 0;
    int wine = e2e_on_wine();
    DWORD layered = wine ? 0 : peerlsp_layered_id();

    if (s->api->WSAEnumProtocolsW(NULL, NULL, &size) != SOCKET_ERROR ||
        s->api->WSAGetLastError() != WSAENOBUFS)
        fail_msg("WSAEnumProtocolsW (size): error %d", s->api->WSAGetLastError());
    WSAPROTOCOL_INFOW *all = malloc(size);
    assert_non_null(all);
    int n = s->api->WSAEnumProtocolsW(NULL, all, &size);
    if (n == SOCKET_ERROR)
        fail_msg("WSAEnumProtocolsW: error %d", s->api->WSAGetLastError());
    s->through_lsp = !wine;
    s->lsp.layered_id = layered;
    s->lsp.chain_count = HOST_BASE_COUNT;
    for (int k = 0; k < HOST_BASE_COUNT; k++) {
        int first = -1;
        for (int i = 0; i < n && first < 0; i++) {
            if (all[i].iAddressFamily == base_kinds[k].af &&
                all[i].iSocketType == base_kinds[k].type &&
                all[i].iProtocol == base_kinds[k].protocol)
                first = i;
        }
        if (first < 0)
            fail_msg("no catalog entry for (%d, %d, %d)", base_kinds[k].af, base_kinds[k].type,
                     base_kinds[k].protocol);
        /* The entry ws2_32 picks for socket(af, type, protocol). */
        s->base_ids[k] = all[first].dwCatalogEntryId;
        s->lsp.chain_ids[k] = all[first].dwCatalogEntryId;
        if (!wine && (all[first].ProtocolChain.ChainLen < 2 || !layered ||
                      all[first].ProtocolChain.ChainEntries[0] != layered))
            fail_msg("on Windows the ws2_32 mode tests peerlsp, but the first catalog entry "
                     "for (%d, %d, %d) is %lu \"%ls\", not one of peerlsp's chains (layered "
                     "entry %lu): run `peerlsp-ctl install` first",
                     base_kinds[k].af, base_kinds[k].type, base_kinds[k].protocol,
                     all[first].dwCatalogEntryId, all[first].szProtocol, layered);
    }
    free(all);
    if (wine)
        e2e_note_skip("the socket goes through peerlsp (SO_PROTOCOL_INFOW names its chain, "
                      "its WSPGetPeerName traces)",
                      "this is Wine (ntdll exports wine_get_version): Wine's ws2_32 never loads "
                      "a layered service provider, so no socket can go through peerlsp here");
}

DWORD e2e_socket_entry(const struct e2e_session *s, SOCKET sock)
{
    if (!ws2_mode)
        return host_socket_entry(sock);
    WSAPROTOCOL_INFOW info;
    int len = sizeof info;
    memset(&info, 0, sizeof info);
    if (s->api->getsockopt(sock, SOL_SOCKET, SO_PROTOCOL_INFOW, (char *)&info, &len))
        fail_msg("getsockopt(SO_PROTOCOL_INFOW): error %d", s->api->WSAGetLastError());
    if (!s->through_lsp || (info.ProtocolChain.ChainLen >= 2 &&
                            info.ProtocolChain.ChainEntries[0] == s->lsp.layered_id))
        return info.dwCatalogEntryId;
    /* SO_PROTOCOL_INFOW names another entry (peerlsp passes the option to
     * the provider below it): test_socket_goes_through_peerlsp fails on
     * that by itself. Here, so that the scenarios still run, the socket is
     * peerlsp's when peerlsp's own trace shows it made the handle. */
    if (!peerlsp_made(sock))
        fail_msg("socket %#llx: peerlsp did not make it (no trace line) and SO_PROTOCOL_INFOW "
                 "names entry %lu \"%ls\", not one of peerlsp's chains",
                 (unsigned long long)sock, info.dwCatalogEntryId, info.szProtocol);
    e2e_note_skip("the socket's entry from SO_PROTOCOL_INFOW",
                  "it does not name peerlsp's chain (test_socket_goes_through_peerlsp fails on "
                  "that); peerlsp's trace shows it made each handle instead");
    for (int k = 0; k < HOST_BASE_COUNT; k++) {
        if (base_kinds[k].af == info.iAddressFamily && base_kinds[k].type == info.iSocketType)
            return s->lsp.chain_ids[k];
    }
    fail_msg("socket %#llx: no peerlsp chain for (%d, %d)", (unsigned long long)sock,
             info.iAddressFamily, info.iSocketType);
    return 0;
}

/* --ws2_32: every kind of socket goes through peerlsp on Windows: its
 * SO_PROTOCOL_INFOW names peerlsp's chain entry for its kind, peerlsp's
 * WSPSocket made it, and peerlsp's WSPGetPeerName answers its getpeername. */
static void test_socket_goes_through_peerlsp(void **state)
{
    struct e2e_session *s = *state;
    if (!s->through_lsp) {
        e2e_note_skip("test_socket_goes_through_peerlsp",
                      "this is Wine: its ws2_32 never loads a layered service provider");
        skip();
    }
    for (int k = 0; k < HOST_BASE_COUNT; k++) {
        SOCKET sock = s->api->socket(base_kinds[k].af, base_kinds[k].type, base_kinds[k].protocol);
        if (sock == INVALID_SOCKET)
            fail_msg("socket(%d, %d): error %d", base_kinds[k].af, base_kinds[k].type,
                     s->api->WSAGetLastError());
        WSAPROTOCOL_INFOW info;
        int len = sizeof info;
        memset(&info, 0, sizeof info);
        if (s->api->getsockopt(sock, SOL_SOCKET, SO_PROTOCOL_INFOW, (char *)&info, &len))
            fail_msg("getsockopt(SO_PROTOCOL_INFOW): error %d", s->api->WSAGetLastError());
        if (!peerlsp_made(sock))
            fail_msg("socket(%d, %d) = %#llx: no WSPSocket line in peerlsp's trace for it",
                     base_kinds[k].af, base_kinds[k].type, (unsigned long long)sock);
        if (info.dwCatalogEntryId != s->lsp.chain_ids[k] || info.ProtocolChain.ChainLen < 2 ||
            info.ProtocolChain.ChainEntries[0] != s->lsp.layered_id)
            fail_msg("socket(%d, %d): SO_PROTOCOL_INFOW names entry %lu \"%ls\" (chain length "
                     "%d, first link %lu); peerlsp's chain is %lu over layered entry %lu",
                     base_kinds[k].af, base_kinds[k].type, info.dwCatalogEntryId,
                     info.szProtocol, info.ProtocolChain.ChainLen,
                     info.ProtocolChain.ChainEntries[0], s->lsp.chain_ids[k], s->lsp.layered_id);
        if (s->api->closesocket(sock))
            fail_msg("closesocket: error %d", s->api->WSAGetLastError());
    }
    SOCKADDR_STORAGE laddr;
    int llen;
    SOCKET server, l = e2e_listener(s, AF_INET, &laddr, &llen);
    SOCKET c = e2e_connect_pair(s, l, &laddr, llen, &server);
    e2e_peer_is(s, c, &laddr, llen); /* with its trace line, checked inside */
    s->api->closesocket(c);
    s->api->closesocket(server);
    s->api->closesocket(l);
}

/* ---- the program ------------------------------------------------------- */

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--ws2_32]\n"
            "  (no option)  on the test host, over the simulated catalog (three layouts)\n"
            "  --ws2_32     on this process's own ws2_32 and the machine's catalog\n",
            argv0);
}

int e2e_main(const char *group, const struct CMUnitTest *tests, size_t count, int argc,
             char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--ws2_32")) {
            ws2_mode = 1;
        } else {
            usage(argv[0]);
            return 2;
        }
    }
    if (!ws2_mode)
        return _cmocka_run_group_tests(group, tests, count, NULL, NULL);

    /* Every scenario once, on the machine's catalog: the layouts are the
     * host's. Scenarios that only the host can run are named. */
    static enum e2e_layout machine = E2E_WS2_32;
    struct CMUnitTest *mine = calloc(count + 1, sizeof *mine);
    size_t n = 0;
    assert_non_null(mine);
    mine[n++] = (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(
        test_socket_goes_through_peerlsp, e2e_setup_layout, e2e_teardown_layout, &machine);
    for (size_t i = 0; i < count; i++) {
        if (tests[i].setup_func != e2e_setup_layout) {
            printf("[ ws2_32  ] not run: %s (needs the test host)\n", tests[i].name);
            continue;
        }
        if (*(const enum e2e_layout *)tests[i].initial_state == E2E_BASE_ONLY)
            mine[n++] = tests[i];
    }
    int wine = e2e_on_wine();
    printf("[ ws2_32  ] %s: this process's own ws2_32 (%s)\n", group,
           wine ? "Wine's; peerlsp is never loaded there" : "Windows; peerlsp must be installed");
    DWORD value = 0, vsize = sizeof value;
    trace_on = RegGetValueW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\peerlsp", L"Trace", RRF_RT_REG_DWORD,
                            NULL, &value, &vsize) == ERROR_SUCCESS && value == 1;
    if (!wine && !trace_on) {
        /* Without its trace nothing shows that peerlsp's own
         * WSPGetPeerName answered: refuse rather than pass without it. */
        fprintf(stderr, "%s --ws2_32 on Windows needs HKLM\\SOFTWARE\\peerlsp Trace = 1 "
                        "(as administrator: reg add HKLM\\SOFTWARE\\peerlsp /v Trace /t "
                        "REG_DWORD /d 1 /f) before it starts\n", argv[0]);
        free(mine);
        return 1;
    }
    PVOID handler = AddVectoredExceptionHandler(1, debug_output_handler);
    char name[160];
    snprintf(name, sizeof name, "%s (--ws2_32)", group);
    int failed = _cmocka_run_group_tests(name, mine, n, NULL, NULL);
    if (handler)
        RemoveVectoredExceptionHandler(handler);
    free(mine);
    return failed;
}
