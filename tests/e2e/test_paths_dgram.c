/*
 * test_paths_dgram.c - datagram sockets' peer (sendto never sets it,
 * connect sets and replaces it, an all-zero or AF_UNSPEC address dissolves
 * it) and address details: garbage in sin_zero, sin6_flowinfo and
 * sin6_scope_id from the caller, IPv4-mapped IPv6 on a dual-stack socket,
 * link-local with a scope id. The answer must be the lower provider's, not
 * the bytes the caller passed in.
 *
 * Every scenario runs on the base provider alone and through both peerlsp
 * layouts; every getpeername is compared with the base provider's answer
 * for the same handle.
 */
#include "e2e.h"

#include <iphlpapi.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static const int families[] = { AF_INET, AF_INET6 };

/* ---- datagram peer, step by step ---------------------------------------- */

enum dgram_op {
    OP_NONE,        /* just ask */
    OP_SENDTO_A,
    OP_RECVFROM_B,  /* B sends to us first */
    OP_CONNECT_A,
    OP_CONNECT_B,
    OP_CONNECT_ZERO,      /* the all-zero address, port 0 */
    OP_CONNECT_UNSPEC,    /* an AF_UNSPEC address */
    OP_CONNECT_ANY_PORT,  /* the unspecified address with A's port */
};

enum dgram_expect {
    EXPECT_NOTCONN, /* WSAENOTCONN */
    EXPECT_A,
    EXPECT_B,
    EXPECT_BASE     /* whatever the lower provider says */
};

struct dgram_step {
    const char *row;
    enum dgram_op op;
    enum dgram_expect expect;
};

static const struct dgram_step dgram_steps[] = {
    { "new socket", OP_NONE, EXPECT_NOTCONN },
    { "after sendto A", OP_SENDTO_A, EXPECT_NOTCONN },
    { "after recvfrom B", OP_RECVFROM_B, EXPECT_NOTCONN },
    { "after connect A", OP_CONNECT_A, EXPECT_A },
    { "after sendto A while connected", OP_SENDTO_A, EXPECT_A },
    { "after connect B (replaces A)", OP_CONNECT_B, EXPECT_B },
    { "after connect to the all-zero address", OP_CONNECT_ZERO, EXPECT_BASE },
    { "asked again after the dissolve", OP_NONE, EXPECT_BASE },
    { "after sendto A once dissolved", OP_SENDTO_A, EXPECT_BASE },
    { "after connect A again", OP_CONNECT_A, EXPECT_A },
    { "after connect to AF_UNSPEC", OP_CONNECT_UNSPEC, EXPECT_BASE },
    { "asked again after AF_UNSPEC", OP_NONE, EXPECT_BASE },
    { "after connect B again", OP_CONNECT_B, EXPECT_B },
    { "after connect to the unspecified address with a port", OP_CONNECT_ANY_PORT,
      EXPECT_BASE },
    { "after connect A last", OP_CONNECT_A, EXPECT_A },
};

static void dgram_do(const struct e2e_session *s, SOCKET u, int af, const struct dgram_step *st,
                     const SOCKADDR_STORAGE *a, int alen, SOCKET b_sock,
                     const SOCKADDR_STORAGE *b, int blen)
{
    SOCKADDR_STORAGE addr;
    int len = 0, r = 0;
    char buf[8];
    switch (st->op) {
    case OP_NONE:
        return;
    case OP_SENDTO_A:
        r = s->api->sendto(u, "a", 1, 0, (const struct sockaddr *)a, alen);
        if (r != 1)
            fail_msg("af %d, %s: sendto gave %d, error %d", af, st->row, r,
                     s->api->WSAGetLastError());
        return;
    case OP_RECVFROM_B: {
        SOCKADDR_STORAGE me, from;
        int melen = sizeof me, fromlen = sizeof from;
        E2E_OK(s->api->getsockname(u, (struct sockaddr *)&me, &melen));
        assert_int_equal(s->api->sendto(b_sock, "b", 1, 0, (struct sockaddr *)&me, melen), 1);
        r = s->api->recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
        if (r != 1)
            fail_msg("af %d, %s: recvfrom gave %d, error %d", af, st->row, r,
                     s->api->WSAGetLastError());
        e2e_addr_equal(&from, fromlen, b, blen);
        return;
    }
    case OP_CONNECT_A:
        E2E_OK(s->api->connect(u, (const struct sockaddr *)a, alen));
        return;
    case OP_CONNECT_B:
        E2E_OK(s->api->connect(u, (const struct sockaddr *)b, blen));
        return;
    case OP_CONNECT_ZERO:
    case OP_CONNECT_ANY_PORT:
        memset(&addr, 0, sizeof addr);
        addr.ss_family = (ADDRESS_FAMILY)af;
        len = af == AF_INET ? (int)sizeof(struct sockaddr_in) : (int)sizeof(struct sockaddr_in6);
        if (st->op == OP_CONNECT_ANY_PORT)
            ((struct sockaddr_in *)&addr)->sin_port = ((const struct sockaddr_in *)a)->sin_port;
        break;
    case OP_CONNECT_UNSPEC:
        memset(&addr, 0, sizeof addr);
        addr.ss_family = AF_UNSPEC;
        len = af == AF_INET ? (int)sizeof(struct sockaddr_in) : (int)sizeof(struct sockaddr_in6);
        break;
    }
    /* Dissolving connects: the answer, whatever it is, must be the same
     * through peerlsp (checked by the caller's comparison with the base;
     * all three layouts must also agree on the return value). */
    s->api->WSASetLastError((int)0xdeadbeef);
    r = s->api->connect(u, (struct sockaddr *)&addr, len);
    if (r && r != SOCKET_ERROR)
        fail_msg("af %d, %s: connect returned %d", af, st->row, r);
    if (r != 0)
        print_message("af %d, %s: connect failed with %d (%s)\n", af, st->row,
                      s->api->WSAGetLastError(), e2e_layout_names[s->layout]);
}

static void test_dgram_peer(void **state)
{
    struct e2e_session *s = *state;
    for (size_t i = 0; i < 2; i++) {
        SOCKADDR_STORAGE a, b;
        int alen, blen;
        SOCKET sa = e2e_udp_bound(s, families[i], &a, &alen);
        SOCKET sb = e2e_udp_bound(s, families[i], &b, &blen);
        SOCKADDR_STORAGE bind_addr;
        int bind_len;
        SOCKET u = s->api->socket(families[i], SOCK_DGRAM, IPPROTO_UDP);
        assert_true(u != INVALID_SOCKET);
        e2e_loopback(families[i], 0, &bind_addr, &bind_len);
        E2E_OK(s->api->bind(u, (struct sockaddr *)&bind_addr, bind_len));

        for (size_t k = 0; k < sizeof dgram_steps / sizeof dgram_steps[0]; k++) {
            const struct dgram_step *st = &dgram_steps[k];
            dgram_do(s, u, families[i], st, &a, alen, sb, &b, blen);
            switch (st->expect) {
            case EXPECT_NOTCONN: {
                SOCKADDR_STORAGE p;
                int plen = sizeof p;
                e2e_peer_matches_base(s, u, SOCKET_ERROR);
                if (s->api->getpeername(u, (struct sockaddr *)&p, &plen) != SOCKET_ERROR ||
                    s->api->WSAGetLastError() != WSAENOTCONN)
                    fail_msg("af %d, %s: expected WSAENOTCONN, got error %d (%s)", families[i],
                             st->row, s->api->WSAGetLastError(), e2e_layout_names[s->layout]);
                break;
            }
            case EXPECT_A:
            case EXPECT_B:
                e2e_peer_matches_base(s, u, 0);
                if (st->expect == EXPECT_A)
                    e2e_peer_is(s, u, &a, alen);
                else
                    e2e_peer_is(s, u, &b, blen);
                break;
            case EXPECT_BASE:
                e2e_peer_agrees(s, u);
                break;
            }
        }
        E2E_OK(s->api->closesocket(u));
        E2E_OK(s->api->closesocket(sa));
        E2E_OK(s->api->closesocket(sb));
    }
}

/* ---- address details ----------------------------------------------------- */

enum detail {
    DETAIL_SIN_ZERO,       /* AF_INET with 0xab in sin_zero */
    DETAIL_FLOW_SCOPE,     /* AF_INET6 ::1 with flow info and a scope id */
    DETAIL_MAPPED,         /* dual-stack AF_INET6 socket to ::ffff:127.0.0.1 */
    DETAIL_MAPPED_ACCEPT,  /* dual-stack listener accepting an IPv4 client */
};

struct detail_row {
    const char *row;
    enum detail what;
    int type;
};

static const struct detail_row detail_rows[] = {
    { "TCP, garbage in sin_zero", DETAIL_SIN_ZERO, SOCK_STREAM },
    { "UDP, garbage in sin_zero", DETAIL_SIN_ZERO, SOCK_DGRAM },
    { "TCP, flow info and scope id on ::1", DETAIL_FLOW_SCOPE, SOCK_STREAM },
    { "UDP, flow info and scope id on ::1", DETAIL_FLOW_SCOPE, SOCK_DGRAM },
    { "TCP, IPv4-mapped peer on a dual-stack socket", DETAIL_MAPPED, SOCK_STREAM },
    { "UDP, IPv4-mapped peer on a dual-stack socket", DETAIL_MAPPED, SOCK_DGRAM },
    { "TCP, dual-stack listener accepts an IPv4 client", DETAIL_MAPPED_ACCEPT, SOCK_STREAM },
};

static SOCKET dual_stack(const struct e2e_session *s, int type)
{
    SOCKET sock = s->api->socket(AF_INET6, type, type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP);
    assert_true(sock != INVALID_SOCKET);
    DWORD off = 0;
    E2E_OK(s->api->setsockopt(sock, IPPROTO_IPV6, IPV6_V6ONLY, (char *)&off, sizeof off));
    return sock;
}

/* The peer of a socket connected with unusual address bytes is exactly
 * what the base provider reports for it (which, for a connected socket,
 * is also what peerlsp recorded, asked three more times from the table). */
static void test_address_details(void **state)
{
    struct e2e_session *s = *state;
    for (size_t r = 0; r < sizeof detail_rows / sizeof detail_rows[0]; r++) {
        const struct detail_row *row = &detail_rows[r];
        int af = row->what == DETAIL_SIN_ZERO ? AF_INET
                 : row->what == DETAIL_FLOW_SCOPE ? AF_INET6 : AF_INET;
        SOCKADDR_STORAGE laddr, target;
        int llen, tlen;
        SOCKET server = INVALID_SOCKET, l, c;
        if (row->what == DETAIL_MAPPED_ACCEPT) {
            l = dual_stack(s, SOCK_STREAM);
            struct sockaddr_in6 any6;
            memset(&any6, 0, sizeof any6);
            any6.sin6_family = AF_INET6;
            E2E_OK(s->api->bind(l, (struct sockaddr *)&any6, sizeof any6));
            E2E_OK(s->api->listen(l, 5));
            llen = sizeof laddr;
            E2E_OK(s->api->getsockname(l, (struct sockaddr *)&laddr, &llen));
            e2e_loopback(AF_INET, ntohs(((struct sockaddr_in6 *)&laddr)->sin6_port), &target,
                         &tlen);
            c = s->api->socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
            assert_true(c != INVALID_SOCKET);
            E2E_OK(s->api->connect(c, (struct sockaddr *)&target, tlen));
            server = s->api->accept(l, NULL, NULL);
            assert_true(server != INVALID_SOCKET);
            e2e_peer_matches_base(s, server, 0);
            SOCKADDR_STORAGE p;
            int plen = sizeof p;
            E2E_OK(s->api->getpeername(server, (struct sockaddr *)&p, &plen));
            if (p.ss_family != AF_INET6 ||
                !IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&p)->sin6_addr))
                fail_msg("%s: peer family %d is not IPv4-mapped IPv6", row->row, p.ss_family);
            E2E_OK(s->api->closesocket(server));
            E2E_OK(s->api->closesocket(c));
            E2E_OK(s->api->closesocket(l));
            continue;
        }
        l = row->type == SOCK_STREAM ? e2e_listener(s, af, &laddr, &llen)
                                     : e2e_udp_bound(s, af, &laddr, &llen);
        memcpy(&target, &laddr, sizeof target);
        tlen = llen;
        if (row->what == DETAIL_SIN_ZERO) {
            memset(((struct sockaddr_in *)&target)->sin_zero, 0xab, 8);
            c = s->api->socket(AF_INET, row->type, 0);
        } else if (row->what == DETAIL_FLOW_SCOPE) {
            ((struct sockaddr_in6 *)&target)->sin6_flowinfo = htonl(0x12345);
            ((struct sockaddr_in6 *)&target)->sin6_scope_id = 7;
            c = s->api->socket(AF_INET6, row->type, 0);
        } else {
            struct sockaddr_in6 *m = (struct sockaddr_in6 *)&target;
            memset(m, 0, sizeof *m);
            m->sin6_family = AF_INET6;
            m->sin6_port = ((struct sockaddr_in *)&laddr)->sin_port;
            m->sin6_addr.s6_addr[10] = m->sin6_addr.s6_addr[11] = 0xff;
            memcpy(&m->sin6_addr.s6_addr[12], &((struct sockaddr_in *)&laddr)->sin_addr, 4);
            tlen = sizeof *m;
            c = dual_stack(s, row->type);
        }
        assert_true(c != INVALID_SOCKET);
        E2E_OK(s->api->connect(c, (struct sockaddr *)&target, tlen));
        if (row->type == SOCK_STREAM) {
            server = s->api->accept(l, NULL, NULL);
            assert_true(server != INVALID_SOCKET);
        }
        e2e_peer_matches_base(s, c, 0);
        SOCKADDR_STORAGE p;
        int plen = sizeof p;
        E2E_OK(s->api->getpeername(c, (struct sockaddr *)&p, &plen));
        for (int k = 0; k < 3; k++)
            e2e_peer_matches_base(s, c, 0);
        if (row->what == DETAIL_MAPPED && (p.ss_family != AF_INET6 || plen != tlen))
            fail_msg("%s: peer family %d, length %d", row->row, p.ss_family, plen);
        print_message("%s: the caller's bytes %s the answer (%s)\n", row->row,
                      plen == tlen && !memcmp(&p, &target, (size_t)plen) ? "are" : "are not",
                      e2e_layout_names[s->layout]);
        if (server != INVALID_SOCKET)
            E2E_OK(s->api->closesocket(server));
        E2E_OK(s->api->closesocket(c));
        E2E_OK(s->api->closesocket(l));
    }
}

/* Wine 8's GetAdaptersAddresses fails on the build machines (error 9852),
 * so under Wine the host's own list is read through Wine's Z: drive:
 * /proc/net/if_inet6 lines are "address ifindex prefix scope flags name",
 * in hex, scope 0x20 for link-local; Wine passes scope ids through to the
 * host unchanged, so the interface index is the scope id. */
static int find_link_local_wine(struct sockaddr_in6 *out)
{
    FILE *f = fopen("Z:\\proc\\net\\if_inet6", "r");
    char hex[33], name[64];
    unsigned int index, prefix, scope, flags;
    int found = 0;
    if (!f)
        return 0;
    while (!found &&
           fscanf(f, "%32s %x %x %x %x %63s", hex, &index, &prefix, &scope, &flags, name) == 6) {
        if (scope != 0x20 || strlen(hex) != 32)
            continue;
        memset(out, 0, sizeof *out);
        out->sin6_family = AF_INET6;
        out->sin6_scope_id = index;
        for (int i = 0; i < 16; i++) {
            unsigned int byte;
            if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
                break;
            out->sin6_addr.s6_addr[i] = (unsigned char)byte;
        }
        found = IN6_IS_ADDR_LINKLOCAL(&out->sin6_addr);
    }
    fclose(f);
    return found;
}

/* A link-local IPv6 address of this machine and its scope id (interface
 * index), from GetAdaptersAddresses (or Wine's host, see above). Returns 0
 * when there is none. */
static int find_link_local(struct sockaddr_in6 *out)
{
    ULONG size = 16384;
    IP_ADAPTER_ADDRESSES *list = malloc(size);
    int found = 0;
    if (!list)
        return 0;
    if (GetAdaptersAddresses(AF_INET6, GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST, NULL,
                             list, &size) == NO_ERROR) {
        for (IP_ADAPTER_ADDRESSES *a = list; a && !found; a = a->Next) {
            if (a->OperStatus != IfOperStatusUp)
                continue;
            for (IP_ADAPTER_UNICAST_ADDRESS *u = a->FirstUnicastAddress; u; u = u->Next) {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)u->Address.lpSockaddr;
                if (in6->sin6_family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr)) {
                    *out = *in6;
                    if (!out->sin6_scope_id)
                        out->sin6_scope_id = a->Ipv6IfIndex;
                    found = 1;
                    break;
                }
            }
        }
    }
    free(list);
    if (!found)
        found = find_link_local_wine(out);
    return found;
}

/* Link-local with a scope id, TCP and UDP: the peer (scope id included)
 * is the lower provider's answer, and the accepted side's too. */
static void test_link_local(void **state)
{
    struct e2e_session *s = *state;
    struct sockaddr_in6 ll;
    memset(&ll, 0, sizeof ll);
    if (!find_link_local(&ll)) {
        /* Not a pass: the machine has no link-local IPv6 address, so the
         * scenario cannot run; say so loudly. */
        print_message("no link-local IPv6 address on an interface that is up: "
                      "link-local scenario not run\n");
        skip();
    }
    for (int type = SOCK_STREAM; type <= SOCK_DGRAM; type++) {
        SOCKET l = s->api->socket(AF_INET6, type, 0);
        assert_true(l != INVALID_SOCKET);
        struct sockaddr_in6 bind_addr = ll;
        bind_addr.sin6_port = 0;
        E2E_OK(s->api->bind(l, (struct sockaddr *)&bind_addr, sizeof bind_addr));
        SOCKADDR_STORAGE laddr;
        int llen = sizeof laddr;
        E2E_OK(s->api->getsockname(l, (struct sockaddr *)&laddr, &llen));
        if (type == SOCK_STREAM)
            E2E_OK(s->api->listen(l, 5));
        SOCKET c = s->api->socket(AF_INET6, type, 0);
        assert_true(c != INVALID_SOCKET);
        E2E_OK(s->api->connect(c, (struct sockaddr *)&laddr, llen));
        e2e_peer_matches_base(s, c, 0);
        SOCKADDR_STORAGE p;
        int plen = sizeof p;
        E2E_OK(s->api->getpeername(c, (struct sockaddr *)&p, &plen));
        if (((struct sockaddr_in6 *)&p)->sin6_scope_id != ll.sin6_scope_id)
            print_message("type %d: scope id %lu in the answer, %lu connected to\n", type,
                          ((struct sockaddr_in6 *)&p)->sin6_scope_id, ll.sin6_scope_id);
        if (type == SOCK_STREAM) {
            SOCKET server = s->api->accept(l, NULL, NULL);
            assert_true(server != INVALID_SOCKET);
            e2e_peer_matches_base(s, server, 0);
            E2E_OK(s->api->closesocket(server));
        }
        E2E_OK(s->api->closesocket(c));
        E2E_OK(s->api->closesocket(l));
    }
}

int main(int argc, char **argv)
{
    static enum e2e_layout layouts[] = { E2E_BASE_ONLY, E2E_LSP_SHARED, E2E_LSP_OWN };
    const struct CMUnitTest tests[] = {
        E2E_LAYOUT_TESTS(test_dgram_peer, layouts),
        E2E_LAYOUT_TESTS(test_address_details, layouts),
        E2E_LAYOUT_TESTS(test_link_local, layouts),
    };
    return E2E_MAIN("peerlsp connect paths: datagrams and addresses", tests, argc, argv);
}
