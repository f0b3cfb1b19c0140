/*
 * bench_net.c - the benchmark's host session and its loopback sockets.
 *
 * One catalog holds tbase's base entries and peerlsp's chains over them
 * (first in catalog order, as peerlsp-ctl installs them). socket() then
 * gets peerlsp's chain, and WSASocketW with a base entry's protocol info
 * gets tbase alone, in the same session: no restart between the two paths.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <peerlsp/peerlsp.h>

#include "tbase.h"

const char *const bench_path_names[] = { [BENCH_LSP] = "peerlsp", [BENCH_BASE] = "base" };

static struct {
    struct simcat *cat;
    DWORD base_ids[HOST_BASE_COUNT];
    struct host_lsp_ids lsp;
    WSAPROTOCOL_INFOW base_info[HOST_BASE_COUNT];
    TBASE_CALLS_FN tbase_calls;
} g;

static int base_index(int af, int type)
{
    if (af == AF_INET)
        return type == SOCK_STREAM ? HOST_BASE_TCP4 : HOST_BASE_UDP4;
    return type == SOCK_STREAM ? HOST_BASE_TCP6 : HOST_BASE_UDP6;
}

/* The base entries' WSAPROTOCOL_INFOW as an application would find them:
 * through WSAEnumProtocolsW. */
static void find_base_infos(void)
{
    WSAPROTOCOL_INFOW *infos = NULL;
    DWORD len = 0;
    const struct wsapi *api = host_api();
    int n = api->WSAEnumProtocolsW(NULL, NULL, &len);

    if (n != SOCKET_ERROR || api->WSAGetLastError() != WSAENOBUFS)
        bench_die("WSAEnumProtocolsW (size)");
    infos = malloc(len);
    if (!infos)
        bench_die("malloc");
    n = api->WSAEnumProtocolsW(NULL, infos, &len);
    if (n == SOCKET_ERROR)
        bench_die("WSAEnumProtocolsW");
    for (int k = 0; k < HOST_BASE_COUNT; k++) {
        int found = 0;
        for (int i = 0; i < n; i++) {
            if (infos[i].dwCatalogEntryId == g.base_ids[k]) {
                g.base_info[k] = infos[i];
                found = 1;
            }
        }
        if (!found) {
            fprintf(stderr, "peerlsp-bench: base entry %lu not enumerated\n", g.base_ids[k]);
            exit(1);
        }
    }
    free(infos);
}

void bench_session_start(void)
{
    static const GUID lsp_guid = PEERLSP_GUID_INIT;
    int err;

    g.cat = simcat_create();
    if (!g.cat) {
        fprintf(stderr, "peerlsp-bench: simcat_create failed\n");
        exit(1);
    }
    if ((err = host_catalog_add_base(g.cat, PEERLSP_TEST_BASE_DLL, g.base_ids)) ||
        (err = host_catalog_install_lsp(g.cat, PEERLSP_TEST_LSP_DLL, &lsp_guid,
                                        HOST_CHAINS_SHARE_GUID, &g.lsp))) {
        fprintf(stderr, "peerlsp-bench: cannot build the catalog: %d\n", err);
        exit(1);
    }
    host_set_catalog(g.cat);
    if ((err = host_startup())) {
        fprintf(stderr, "peerlsp-bench: host_startup: %d\n", err);
        exit(1);
    }
    find_base_infos();

    /* The same file the catalog names: the counters of the provider in use. */
    HMODULE m = LoadLibraryW(PEERLSP_TEST_BASE_DLL);
    g.tbase_calls = m ? (TBASE_CALLS_FN)(void (*)(void))GetProcAddress(m, "tbase_calls") : NULL;
    if (!g.tbase_calls) {
        fprintf(stderr, "peerlsp-bench: cannot load tbase_calls from %ls\n",
                PEERLSP_TEST_BASE_DLL);
        exit(1);
    }
}

void bench_session_stop(void)
{
    if (host_cleanup() != 0)
        fprintf(stderr, "peerlsp-bench: host_cleanup failed\n");
    host_set_catalog(NULL);
    simcat_destroy(g.cat);
    g.cat = NULL;
}

long bench_base_getpeername_calls(void)
{
    return g.tbase_calls("WSPGetPeerName");
}

SOCKET bench_socket_raw(enum bench_path path, int af, int type)
{
    const struct wsapi *api = host_api();
    int k = base_index(af, type), proto = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
    return path == BENCH_LSP
               ? api->socket(af, type, proto)
               : api->WSASocketW(af, type, proto, &g.base_info[k], 0, WSA_FLAG_OVERLAPPED);
}

SOCKET bench_socket(enum bench_path path, int af, int type)
{
    int k = base_index(af, type);
    SOCKET s = bench_socket_raw(path, af, type);
    if (s == INVALID_SOCKET)
        bench_die("socket");
    DWORD want = path == BENCH_LSP ? g.lsp.chain_ids[k] : g.base_ids[k];
    DWORD bound = host_socket_entry(s);
    if (bound != want) {
        fprintf(stderr, "peerlsp-bench: %s socket bound to entry %lu, expected %lu\n",
                bench_path_names[path], bound, want);
        exit(1);
    }
    return s;
}

static void loopback4(SOCKADDR_STORAGE *addr, int *len)
{
    struct sockaddr_in *in = (struct sockaddr_in *)addr;
    memset(addr, 0, sizeof *addr);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *len = sizeof *in;
}

static SOCKET bound(enum bench_path path, int type, SOCKADDR_STORAGE *addr, int *len)
{
    const struct wsapi *api = host_api();
    SOCKET s = bench_socket(path, AF_INET, type);
    loopback4(addr, len);
    if (api->bind(s, (struct sockaddr *)addr, *len))
        bench_die("bind");
    *len = sizeof *addr;
    if (api->getsockname(s, (struct sockaddr *)addr, len))
        bench_die("getsockname");
    return s;
}

SOCKET bench_listener(enum bench_path path, SOCKADDR_STORAGE *addr, int *len)
{
    SOCKET s = bound(path, SOCK_STREAM, addr, len);
    if (host_api()->listen(s, SOMAXCONN))
        bench_die("listen");
    return s;
}

SOCKET bench_udp_server(SOCKADDR_STORAGE *addr, int *len)
{
    return bound(BENCH_BASE, SOCK_DGRAM, addr, len);
}

SOCKET bench_tcp_pair(enum bench_path path, SOCKET listener, const SOCKADDR_STORAGE *addr,
                      int len, SOCKET *accepted)
{
    const struct wsapi *api = host_api();
    SOCKET c = bench_socket(path, AF_INET, SOCK_STREAM);
    if (api->connect(c, (const struct sockaddr *)addr, len))
        bench_die("connect");
    *accepted = api->accept(listener, NULL, NULL);
    if (*accepted == INVALID_SOCKET)
        bench_die("accept");
    return c;
}
