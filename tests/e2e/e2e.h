/*
 * e2e.h - what the end-to-end tests share: a session of the test host over
 * a catalog with or without peerlsp, loopback socket helpers, and the
 * comparison of an answer through peerlsp with the base provider's answer
 * for the same socket.
 *
 * The scenarios use only the Winsock API (struct wsapi) and, for the
 * comparison and counters, the host's inspection functions: on Windows the
 * same scenarios could run against ws2_32 itself.
 */
#ifndef PEERLSP_TESTS_E2E_H
#define PEERLSP_TESTS_E2E_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "wshost.h"
#include "tbase.h"

/* Which catalog a scenario runs on. */
enum e2e_layout {
    E2E_BASE_ONLY,      /* tbase alone: the reference */
    E2E_LSP_SHARED,     /* peerlsp's chains share its GUID: one WSPStartup */
    E2E_LSP_OWN,        /* each chain its own GUID: one WSPStartup per chain */
    E2E_WS2_32          /* --ws2_32: this process's own ws2_32, the machine's catalog */
};

extern const char *const e2e_layout_names[];

struct e2e_session {
    enum e2e_layout layout;
    struct simcat *cat;
    DWORD base_ids[HOST_BASE_COUNT];
    struct host_lsp_ids lsp;
    const struct wsapi *api;
    int through_lsp;    /* sockets go through peerlsp (its layouts; Windows in --ws2_32) */
};

/* Builds the catalog for layout, points the host at it and starts it.
 * Fails the test on any error. */
void e2e_start(struct e2e_session *s, enum e2e_layout layout);
/* Cleans the host up and frees the catalog. */
void e2e_stop(struct e2e_session *s);

/* tbase.dll's control exports (loaded from the same file the catalog
 * names, so the counters are the base provider's own). */
LONG e2e_base_calls(const char *wsp_function);
LONG e2e_base_startups(void);
LONG e2e_base_open_sockets(void);
void e2e_base_fail_next_startup(int error);

/* The catalog entry a new socket of (af, type) must be bound to: the
 * peerlsp chain over that base entry, or the base entry itself. */
DWORD e2e_expected_entry(const struct e2e_session *s, int af, int type);

/* Loopback address of af with a port. */
void e2e_loopback(int af, unsigned short port, SOCKADDR_STORAGE *addr, int *len);

/* A listening TCP socket on the loopback of af, its address in *addr. */
SOCKET e2e_listener(const struct e2e_session *s, int af, SOCKADDR_STORAGE *addr, int *len);
/* A UDP socket bound to the loopback of af, its address in *addr. */
SOCKET e2e_udp_bound(const struct e2e_session *s, int af, SOCKADDR_STORAGE *addr, int *len);
/* A TCP client connected to addr, and the accepted server side. */
SOCKET e2e_connect_pair(const struct e2e_session *s, SOCKET listener,
                        const SOCKADDR_STORAGE *addr, int len, SOCKET *accepted);
/* A loopback port nothing listens on (bound and closed again). */
unsigned short e2e_closed_port(const struct e2e_session *s, int af);

/* getpeername through the host and through the base provider directly for
 * the same handle; fails the test (with the caller's line) unless return
 * value, error, namelen and address bytes agree. The answer through the
 * host is returned in *name / *namelen (start values given by the caller). */
#define e2e_peer_matches_base(s, sock, expect_ret) \
    e2e_peer_matches_base_(s, sock, expect_ret, __FILE__, __LINE__)
void e2e_peer_matches_base_(const struct e2e_session *s, SOCKET sock, int expect_ret,
                            const char *file, int line);

/* Fails unless the two addresses are byte for byte equal. */
#define e2e_addr_equal(a, alen, b, blen) e2e_addr_equal_(a, alen, b, blen, __FILE__, __LINE__)
void e2e_addr_equal_(const void *a, int alen, const void *b, int blen, const char *file,
                     int line);

/* Checked socket calls: fail the test with the call, its error and line. */
#define E2E_OK(call)                                                                 \
    do {                                                                             \
        if ((call) == SOCKET_ERROR)                                                  \
            fail_msg("%s:%d: %s failed: error %d", __FILE__, __LINE__, #call,        \
                     s->api->WSAGetLastError());                                     \
    } while (0)


/* ---- connect paths (test_paths_*.c) ------------------------------------ */

/* The base provider's proc table for sock (of family af), asked directly:
 * starts the base provider in the host if needed (host_lower_getpeername)
 * and returns host_provider's table for tbase's GUID of af. Fails the test
 * when it cannot. */
void e2e_base_procs(const struct e2e_session *s, SOCKET sock, int af, WSPPROC_TABLE *procs);

/* An extension function as an application gets it: WSAIoctl(SIO_GET_
 * EXTENSION_FUNCTION_POINTER) through the host. Fails the test unless the
 * call succeeds with a non-NULL pointer. */
void *e2e_ext_fn(const struct e2e_session *s, SOCKET sock, const GUID *guid);
/* The same, asked of the base provider directly (bypassing any LSP). */
void *e2e_base_ext_fn(const struct e2e_session *s, SOCKET sock, int af, const GUID *guid);

/* Handles bound now to the entries new sockets of this layout are bound
 * to (peerlsp's four chains, or tbase's four entries): the host's view of
 * how many sockets peerlsp (or tbase) still has records for. -1 in
 * --ws2_32 mode (only the host counts them; the caller skips the check). */
LONG e2e_live_handles(const struct e2e_session *s);

/* Waits up to ms for an overlapped operation on sock to finish (through
 * the host's WSAGetOverlappedResult). Returns TRUE on success; FALSE with
 * *err set to the operation's error (WAIT_TIMEOUT when it did not finish). */
BOOL e2e_overlapped_wait(const struct e2e_session *s, SOCKET sock, WSAOVERLAPPED *ov, DWORD ms,
                         DWORD *transferred, int *err);

/* cmocka setup/teardown for a scenario that runs on one layout: the
 * prestate is a pointer to an enum e2e_layout; the state becomes a started
 * struct e2e_session. */
int e2e_setup_layout(void **state);
int e2e_teardown_layout(void **state);

/* One scenario on the base provider alone and through both peerlsp
 * layouts; `layouts` is an array of the three enum values. */
#define E2E_LAYOUT_TESTS(fn, layouts)                                                     \
    cmocka_unit_test_prestate_setup_teardown(fn, e2e_setup_layout, e2e_teardown_layout,  \
                                             &(layouts)[E2E_BASE_ONLY]),                  \
    cmocka_unit_test_prestate_setup_teardown(fn, e2e_setup_layout, e2e_teardown_layout,  \
                                             &(layouts)[E2E_LSP_SHARED]),                 \
    cmocka_unit_test_prestate_setup_teardown(fn, e2e_setup_layout, e2e_teardown_layout,  \
                                             &(layouts)[E2E_LSP_OWN])

#define E2E_IS_LSP(s) ((s)->through_lsp)

/* ---- the --ws2_32 mode (e2e_ws2.c) --------------------------------------- */

/* A test program's main: `prog` runs every test on the test host;
 * `prog --ws2_32` runs each E2E_LAYOUT_TESTS scenario once on the process's
 * own ws2_32 (the layouts are the host's) and names the tests it leaves to
 * the host. */
#define E2E_MAIN(group, tests, argc, argv) \
    e2e_main(group, tests, sizeof(tests) / sizeof((tests)[0]), argc, argv)
int e2e_main(const char *group, const struct CMUnitTest *tests, size_t count, int argc,
             char **argv);
/* Non-zero in --ws2_32 mode. */
int e2e_ws2_mode(void);
/* Non-zero under Wine (ntdll exports wine_get_version). */
int e2e_on_wine(void);
/* Prints "skipped: what: why" once per program for each `what` (kept by
 * pointer: a string literal). */
void e2e_note_skip(const char *what, const char *why);
/* The catalog entry sock is bound to: the host's record, or in --ws2_32
 * mode its SO_PROTOCOL_INFOW (whose chain must start at peerlsp's layered
 * entry when sockets go through peerlsp). */
DWORD e2e_socket_entry(const struct e2e_session *s, SOCKET sock);
/* --ws2_32: fills s from the machine's catalog (the entries ws2_32 picks;
 * on Windows they must be peerlsp's chains). */
void e2e_ws2_catalog(struct e2e_session *s);
/* 1 when the kernel's TCP table holds a connection local -> peer, 0 when
 * not, -1 when the table cannot be read. */
int e2e_kernel_has_connection(const SOCKADDR_STORAGE *local, const SOCKADDR_STORAGE *peer);
/* Reading the kernel's table takes tens of milliseconds under Wine: the
 * scenarios that make hundreds of connections ask it for one in this many
 * (and say so); each answer is still compared with its expected address. */
#define E2E_KERNEL_SAMPLE 8
/* peerlsp's trace of the calling thread: begin before a getpeername, then
 * expect its line (nothing to check unless sockets go through peerlsp in
 * --ws2_32 mode). */
void e2e_trace_begin(void);
/* The handles peerlsp made in this process and has not closed, as its
 * trace lines tell (WSPSocket/WSPAccept/WSPJoinLeaf add, WSPCloseSocket
 * removes). --ws2_32 feeds every line it sees; test_trace feeds the lines
 * it captures, to check the reading against the real DLL's lines. */
void e2e_trace_line_seen(const char *line);
int e2e_trace_made(SOCKET sock);
#define e2e_trace_expect_getpeername(s, sock, ret, err) \
    e2e_trace_expect_getpeername_(s, sock, ret, err, __FILE__, __LINE__)
void e2e_trace_expect_getpeername_(const struct e2e_session *s, SOCKET sock, int ret, int err,
                                   const char *file, int line);

/* getpeername through the host and from the base provider for the same
 * handle, whatever the base provider answers: fails the test (with the
 * caller's line) unless return value, error, namelen and bytes agree.
 * Returns the answer's return value. For states whose answer differs
 * between Windows and Wine (a ConnectEx socket before
 * SO_UPDATE_CONNECT_CONTEXT, say). */
#define e2e_peer_agrees(s, sock) e2e_peer_agrees_(s, sock, __FILE__, __LINE__)
int e2e_peer_agrees_(const struct e2e_session *s, SOCKET sock, const char *file, int line);

/* getpeername through the host must succeed and give exactly want/wantlen. */
#define e2e_peer_is(s, sock, want, wantlen) e2e_peer_is_(s, sock, want, wantlen, __FILE__, __LINE__)
void e2e_peer_is_(const struct e2e_session *s, SOCKET sock, const void *want, int wantlen,
                  const char *file, int line);

/* `calls` getpeernames through the host each give exactly want/wantlen, and
 * the base provider is asked for none of them through peerlsp (the answers
 * come from its table) and for every one on the base provider alone. */
#define e2e_peer_from_table(s, sock, want, wantlen, calls) \
    e2e_peer_from_table_(s, sock, want, wantlen, calls, __FILE__, __LINE__)
void e2e_peer_from_table_(const struct e2e_session *s, SOCKET sock, const void *want,
                          int wantlen, int calls, const char *file, int line);

#endif /* PEERLSP_TESTS_E2E_H */
