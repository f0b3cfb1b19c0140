/*
 * demo.c - `make demo`: real loopback TCP and UDP traffic over IPv4 and
 * IPv6 through the shipped dist/x64/peerlsp.dll, loaded by the test host
 * from a simulated catalog in which peerlsp's chains come first. For each
 * socket it prints the peer as peerlsp answered it, what the base provider
 * says for the same handle, and how often the base provider was asked.
 */
#include <stdio.h>
#include <string.h>

#include "wshost.h"
#include "tbase.h"

#include <peerlsp/peerlsp.h>
#include <peerlsp/version.h>

#define QUERIES 1000

static LONG base_calls(const char *fn)
{
    static TBASE_CALLS_FN calls;
    if (!calls) {
        HMODULE m = LoadLibraryW(PEERLSP_TEST_BASE_DLL);
        calls = m ? (TBASE_CALLS_FN)(void (*)(void))GetProcAddress(m, "tbase_calls") : NULL;
    }
    return calls ? calls(fn) : -1;
}

static void format_addr(const SOCKADDR_STORAGE *a, int len, char *out, size_t n)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (len == (int)sizeof(struct sockaddr_in) && a->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)a;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(out, n, "%s:%u", ip, ntohs(in->sin_port));
    } else if (len == (int)sizeof(struct sockaddr_in6) && a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        snprintf(out, n, "[%s]:%u", ip, ntohs(in6->sin6_port));
    } else {
        snprintf(out, n, "(family %d, %d bytes)", a->ss_family, len);
    }
}

static void loopback(int af, SOCKADDR_STORAGE *a, int *len)
{
    memset(a, 0, sizeof *a);
    a->ss_family = (short)af;
    if (af == AF_INET) {
        ((struct sockaddr_in *)a)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        *len = sizeof(struct sockaddr_in);
    } else {
        ((struct sockaddr_in6 *)a)->sin6_addr = in6addr_loopback;
        *len = sizeof(struct sockaddr_in6);
    }
}

static int fail(const struct wsapi *api, const char *what)
{
    fprintf(stderr, "demo: %s failed: error %d\n", what, api->WSAGetLastError());
    return 1;
}

/* One client socket connected to a server on loopback; prints one row. */
static int show(const struct wsapi *api, const char *label, int af, int type)
{
    int proto = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
    SOCKADDR_STORAGE saddr, peer, base;
    int slen, plen, blen, berr = 0;
    SOCKET server = api->socket(af, type, proto), client, accepted = INVALID_SOCKET;
    if (server == INVALID_SOCKET)
        return fail(api, "socket");
    loopback(af, &saddr, &slen);
    if (api->bind(server, (struct sockaddr *)&saddr, slen) ||
        api->getsockname(server, (struct sockaddr *)&saddr, &slen))
        return fail(api, "bind");
    if (type == SOCK_STREAM && api->listen(server, 4))
        return fail(api, "listen");
    client = api->socket(af, type, proto);
    if (client == INVALID_SOCKET || api->connect(client, (struct sockaddr *)&saddr, slen))
        return fail(api, "connect");
    if (type == SOCK_STREAM && (accepted = api->accept(server, NULL, NULL)) == INVALID_SOCKET)
        return fail(api, "accept");
    if (api->send(client, "hello", 5, 0) != 5)
        return fail(api, "send");

    LONG before = base_calls("WSPGetPeerName");
    for (int i = 0; i < QUERIES; i++) {
        plen = sizeof peer;
        if (api->getpeername(client, (struct sockaddr *)&peer, &plen))
            return fail(api, "getpeername");
    }
    LONG asked = base_calls("WSPGetPeerName") - before;
    blen = sizeof base;
    if (host_lower_getpeername(client, (struct sockaddr *)&base, &blen, &berr))
        return fail(api, "getpeername from the base provider");

    char a[64], b[64];
    format_addr(&peer, plen, a, sizeof a);
    format_addr(&base, blen, b, sizeof b);
    int same = plen == blen && !memcmp(&peer, &base, (size_t)plen);
    printf("  %-9s %-28s %-28s %-10s %ld of %d\n", label, a, b, same ? "yes" : "NO", asked,
           QUERIES);
    if (accepted != INVALID_SOCKET)
        api->closesocket(accepted);
    api->closesocket(client);
    api->closesocket(server);
    return same && asked == 0 ? 0 : 1;
}

int main(void)
{
    static const GUID lsp_guid = PEERLSP_GUID_INIT;
    struct host_lsp_ids ids;
    struct simcat *cat = simcat_create();
    if (!cat || host_catalog_add_base(cat, PEERLSP_TEST_BASE_DLL, NULL) ||
        host_catalog_install_lsp(cat, PEERLSP_TEST_LSP_DLL, &lsp_guid, HOST_CHAINS_SHARE_GUID,
                                 &ids)) {
        fprintf(stderr, "demo: cannot build the catalog\n");
        return 1;
    }
    host_set_catalog(cat);
    if (host_startup()) {
        fprintf(stderr, "demo: host_startup failed\n");
        return 1;
    }
    const struct wsapi *api = host_api();

    printf("peerlsp %s demo\n", PEERLSP_VERSION_STRING);
    printf("  LSP:  %ls\n  base: %ls (real sockets through Wine)\n", PEERLSP_TEST_LSP_DLL,
           PEERLSP_TEST_BASE_DLL);
    printf("  catalog: peerlsp layered entry %lu, chains", ids.layered_id);
    for (DWORD i = 0; i < ids.chain_count; i++)
        printf(" %lu", ids.chain_ids[i]);
    printf(" first in catalog order\n\n");
    printf("  %-9s %-28s %-28s %-10s %s\n", "socket", "peer via peerlsp", "base provider says",
           "identical", "base provider asked");

    int bad = 0;
    bad |= show(api, "TCP/IPv4", AF_INET, SOCK_STREAM);
    bad |= show(api, "UDP/IPv4", AF_INET, SOCK_DGRAM);
    bad |= show(api, "TCP/IPv6", AF_INET6, SOCK_STREAM);
    bad |= show(api, "UDP/IPv6", AF_INET6, SOCK_DGRAM);

    printf("\n%s\n", bad ? "demo: FAILED (see above)"
                         : "Every getpeername above was answered from peerlsp's connection table\n"
                           "(the base provider was asked 0 times), with exactly the base provider's bytes.");
    host_cleanup();
    host_set_catalog(NULL);
    simcat_destroy(cat);
    return bad;
}
