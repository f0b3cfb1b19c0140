/*
 * test_oom.c - peerlsp out of memory: never a failed call that the base
 * provider alone would have answered, never a crash.
 *
 * The shipped DLL has no test hook. After the host has loaded and started
 * it, the test replaces the DLL's imports of every allocation function it
 * has (malloc, calloc, realloc from msvcrt.dll; HeapAlloc, HeapReAlloc from
 * kernel32.dll) in its import address table (host_patch_import), then runs
 * one scenario - socket, bind, listen, connect, accept, getpeername,
 * datagram connect, WSADuplicateSocket and a socket made from its
 * information, close - with enough sockets to make the connection table
 * grow. A counting run learns how many allocations the scenario makes;
 * then each allocation fails in turn, in a fresh session each time, and
 * once every allocation fails. Every call must succeed as on the base
 * provider alone, every socket must stay bound to peerlsp's chain, and
 * every getpeername must equal the base provider's answer for the handle.
 *
 * WSPStartup itself is outside this: it needs memory for the catalog and
 * its chains, and fails (WSA_NOT_ENOUGH_MEMORY) without it. The scenario's
 * sockets of every kind are made once before the allocators are replaced,
 * so that every start-up has happened.
 */
#include "e2e.h"

#include <stdio.h>
#include <string.h>

#define PAIRS 130 /* 261 records with the listener: more than one chunk */

/* ---- the failing allocators ---------------------------------------------- */

typedef void *(__cdecl *malloc_fn)(size_t);
typedef void *(__cdecl *calloc_fn)(size_t, size_t);
typedef void *(__cdecl *realloc_fn)(void *, size_t);

static malloc_fn real_malloc;
static calloc_fn real_calloc;
static realloc_fn real_realloc;

static volatile LONG armed;    /* count and fail only while the scenario runs */
static volatile LONG calls;    /* allocations made since armed */
static volatile LONG fail_at;  /* the allocation that fails (1-based); 0: none */
static volatile LONG fail_all; /* every allocation fails */
static volatile LONG failed;   /* allocations refused */

static int take_failure(void)
{
    if (!armed)
        return 0;
    LONG n = InterlockedIncrement(&calls);
    if (fail_all || n == fail_at) {
        InterlockedIncrement(&failed);
        return 1;
    }
    return 0;
}

static void *__cdecl oom_malloc(size_t n)
{
    return take_failure() ? NULL : real_malloc(n);
}

static void *__cdecl oom_calloc(size_t n, size_t size)
{
    return take_failure() ? NULL : real_calloc(n, size);
}

static void *__cdecl oom_realloc(void *p, size_t n)
{
    return take_failure() ? NULL : real_realloc(p, n);
}

static LPVOID WINAPI oom_HeapAlloc(HANDLE heap, DWORD flags, SIZE_T n)
{
    return take_failure() ? NULL : HeapAlloc(heap, flags, n);
}

static LPVOID WINAPI oom_HeapReAlloc(HANDLE heap, DWORD flags, LPVOID p, SIZE_T n)
{
    return take_failure() ? NULL : HeapReAlloc(heap, flags, p, n);
}

static void resolve_real_allocators(void)
{
    HMODULE crt = GetModuleHandleW(L"msvcrt.dll");
    assert_non_null(crt);
    real_malloc = (malloc_fn)(void (*)(void))GetProcAddress(crt, "malloc");
    real_calloc = (calloc_fn)(void (*)(void))GetProcAddress(crt, "calloc");
    real_realloc = (realloc_fn)(void (*)(void))GetProcAddress(crt, "realloc");
    assert_true(real_malloc && real_calloc && real_realloc);
}

/* Replaces every allocation import of the loaded peerlsp.dll. Fails the
 * test unless at least one was found (the DLL allocates somehow). */
static void patch_peerlsp(void)
{
    static const struct {
        const char *dll, *function;
        void *replacement;
    } allocators[] = {
        { "msvcrt.dll", "malloc", (void *)oom_malloc },
        { "msvcrt.dll", "calloc", (void *)oom_calloc },
        { "msvcrt.dll", "realloc", (void *)oom_realloc },
        { "kernel32.dll", "HeapAlloc", (void *)oom_HeapAlloc },
        { "kernel32.dll", "HeapReAlloc", (void *)oom_HeapReAlloc },
    };
    HMODULE lsp = GetModuleHandleW(PEERLSP_TEST_LSP_DLL);
    if (!lsp)
        fail_msg("peerlsp.dll is not loaded after the warm-up");
    int total = 0;
    for (size_t i = 0; i < sizeof allocators / sizeof allocators[0]; i++) {
        int n = host_patch_import(lsp, allocators[i].dll, allocators[i].function,
                                  allocators[i].replacement);
        if (n < 0)
            fail_msg("patching %s!%s failed: %lu", allocators[i].dll, allocators[i].function,
                     GetLastError());
        total += n;
    }
    if (total == 0)
        fail_msg("peerlsp.dll imports none of the allocation functions");
}

/* ---- the scenario ----------------------------------------------------------- */

static void check_bound(const struct e2e_session *s, SOCKET sock, int af, int type)
{
    DWORD bound = host_socket_entry(sock), expected = e2e_expected_entry(s, af, type);
    if (bound != expected)
        fail_msg("socket bound to entry %lu, expected peerlsp's chain %lu (%s)", bound, expected,
                 e2e_layout_names[s->layout]);
}

/* Makes every start-up happen: one socket of each kind. */
static void warm_up(const struct e2e_session *s)
{
    static const int afs[] = { AF_INET, AF_INET6 }, types[] = { SOCK_STREAM, SOCK_DGRAM };
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
            SOCKET sock = s->api->socket(afs[i], types[j], 0);
            if (sock == INVALID_SOCKET)
                fail_msg("warm-up socket: error %d", s->api->WSAGetLastError());
            E2E_OK(s->api->closesocket(sock));
        }
    }
}

static void scenario(const struct e2e_session *s)
{
    static SOCKET c[PAIRS], a[PAIRS];
    SOCKADDR_STORAGE addr, uaddr;
    int len, ulen;

    SOCKET l = e2e_listener(s, AF_INET, &addr, &len);
    for (int i = 0; i < PAIRS; i++) {
        c[i] = e2e_connect_pair(s, l, &addr, len, &a[i]);
        check_bound(s, c[i], AF_INET, SOCK_STREAM);
        e2e_peer_matches_base(s, c[i], 0);
        e2e_peer_matches_base(s, a[i], 0);
    }

    SOCKET u = e2e_udp_bound(s, AF_INET6, &uaddr, &ulen);
    SOCKET uc = s->api->socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP);
    if (uc == INVALID_SOCKET)
        fail_msg("UDP socket: error %d", s->api->WSAGetLastError());
    check_bound(s, uc, AF_INET6, SOCK_DGRAM);
    E2E_OK(s->api->connect(uc, (struct sockaddr *)&uaddr, ulen));
    e2e_peer_matches_base(s, uc, 0);

    /* A second handle of c[0]: both become "shared" (socket.c). */
    WSAPROTOCOL_INFOW info;
    E2E_OK(s->api->WSADuplicateSocketW(c[0], GetCurrentProcessId(), &info));
    SOCKET d = s->api->WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO,
                                  &info, 0, WSA_FLAG_OVERLAPPED);
    if (d == INVALID_SOCKET)
        fail_msg("socket from duplicate information: error %d", s->api->WSAGetLastError());
    e2e_peer_matches_base(s, d, 0);
    e2e_peer_matches_base(s, c[0], 0);

    E2E_OK(s->api->closesocket(d));
    for (int i = 0; i < PAIRS; i++) {
        E2E_OK(s->api->closesocket(c[i]));
        E2E_OK(s->api->closesocket(a[i]));
    }
    E2E_OK(s->api->closesocket(uc));
    E2E_OK(s->api->closesocket(u));
    E2E_OK(s->api->closesocket(l));
}

/* One fresh session: start, warm up, replace the allocators, run the
 * scenario with failures as set, clean up. Returns the allocations made. */
static LONG run(enum e2e_layout layout, LONG fail_which, int fail_every)
{
    struct e2e_session session;
    e2e_start(&session, layout);
    warm_up(&session);
    patch_peerlsp();
    calls = 0;
    failed = 0;
    fail_at = fail_which;
    fail_all = fail_every;
    armed = 1;
    scenario(&session);
    armed = 0;
    LONG made = calls;
    e2e_stop(&session);
    return made;
}

static void out_of_memory(enum e2e_layout layout)
{
    LONG total = run(layout, 0, 0);
    if (total == 0)
        fail_msg("the scenario made no allocation in peerlsp (%s)", e2e_layout_names[layout]);
    print_message("%s: %ld allocations in the scenario\n", e2e_layout_names[layout], total);
    for (LONG n = 1; n <= total; n++) {
        LONG made = run(layout, n, 0);
        print_message("  allocation %ld failing: %ld allocations, %ld refused\n", n, made, failed);
        if (failed != 1)
            fail_msg("allocation %ld of %ld: %ld refused, expected 1 (%s)", n, total, failed,
                     e2e_layout_names[layout]);
    }
    (void)run(layout, 0, 1);
    if (failed < total)
        fail_msg("with every allocation failing, only %ld refused (%s)", failed,
                 e2e_layout_names[layout]);
}

static void test_out_of_memory_shared_guid(void **state)
{
    (void)state;
    out_of_memory(E2E_LSP_SHARED);
}

static void test_out_of_memory_guid_per_chain(void **state)
{
    (void)state;
    out_of_memory(E2E_LSP_OWN);
}

int main(void)
{
    resolve_real_allocators();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_of_memory_shared_guid),
        cmocka_unit_test(test_out_of_memory_guid_per_chain),
    };
    return cmocka_run_group_tests_name("peerlsp out of memory", tests, NULL, NULL);
}
