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
    E2E_LSP_OWN         /* each chain its own GUID: one WSPStartup per chain */
};

extern const char *const e2e_layout_names[];

struct e2e_session {
    enum e2e_layout layout;
    struct simcat *cat;
    DWORD base_ids[HOST_BASE_COUNT];
    struct host_lsp_ids lsp;
    const struct wsapi *api;
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

#endif /* PEERLSP_TESTS_E2E_H */
