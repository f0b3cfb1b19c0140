/*
 * run_prog.exe - an ordinary Winsock program (nothing in it knows about
 * peerlsp-run) that test_run runs directly on Wine, through peerlsp-run
 * --base-only and through peerlsp-run over peerlsp. It prints facts that
 * must be the same all three ways (never a port or a handle value), one
 * per line, and exits 0 when every call it made succeeded.
 *
 * It reaches ws2_32 every way a program can: imports by name (most calls),
 * by ordinal (getpeername, through ws2_32_by_ordinal.def), GetProcAddress
 * by name and by ordinal, a DLL loaded later (run_later.dll), and
 * mswsock's AcceptEx import.
 *
 *   run_prog peers        the scenarios above
 *   run_prog unsupported  calls an export the router cannot route
 *   run_prog bypass       makes a Wine DLL (wsock32's WSARecvEx) call recv
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <stdio.h>
#include <string.h>

static int failures;

static void fact(const char *what, int value)
{
    printf("%s: %d\n", what, value);
    fflush(stdout);
}

static void check(const char *what, int ok)
{
    if (!ok) {
        printf("FAILED %s (error %d)\n", what, WSAGetLastError());
        failures++;
    }
}

/* A connected pair over loopback: *client connected to *listener's
 * address, *server accepted. */
static void tcp_pair(int af, SOCKET *listener, SOCKET *client, SOCKET *server,
                     struct sockaddr_storage *listen_addr)
{
    memset(listen_addr, 0, sizeof *listen_addr);
    int len = af == AF_INET6 ? (int)sizeof(struct sockaddr_in6) : (int)sizeof(struct sockaddr_in);
    listen_addr->ss_family = (ADDRESS_FAMILY)af;
    if (af == AF_INET6)
        ((struct sockaddr_in6 *)listen_addr)->sin6_addr = in6addr_loopback;
    else
        ((struct sockaddr_in *)listen_addr)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *listener = socket(af, SOCK_STREAM, IPPROTO_TCP);
    check("listener", *listener != INVALID_SOCKET);
    check("bind", !bind(*listener, (struct sockaddr *)listen_addr, len));
    check("listen", !listen(*listener, 5));
    check("getsockname", !getsockname(*listener, (struct sockaddr *)listen_addr, &len));
    *client = socket(af, SOCK_STREAM, IPPROTO_TCP);
    check("connect", !connect(*client, (struct sockaddr *)listen_addr, len));
    *server = accept(*listener, NULL, NULL);
    check("accept", *server != INVALID_SOCKET);
}

static int same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b,
                        int len)
{
    return !memcmp(a, b, (size_t)len);
}

typedef int(WSAAPI *getpeername_fn)(SOCKET, struct sockaddr *, int *);

static void peers(void)
{
    HMODULE ws2 = GetModuleHandleA("ws2_32.dll");
    getpeername_fn by_name = (getpeername_fn)(void (*)(void))GetProcAddress(ws2, "getpeername");
    getpeername_fn by_ordinal =
        (getpeername_fn)(void (*)(void))GetProcAddress(ws2, MAKEINTRESOURCEA(5));
    HMODULE later = LoadLibraryA("run_later.dll");
    getpeername_fn in_later =
        later ? (getpeername_fn)(void (*)(void))GetProcAddress(later, "later_getpeername") : NULL;
    check("GetProcAddress", by_name && by_ordinal && in_later);

    const int families[] = { AF_INET, AF_INET6 };
    for (size_t f = 0; f < 2 && in_later; f++) {
        SOCKET listener, client, server;
        struct sockaddr_storage listen_addr, peer;
        tcp_pair(families[f], &listener, &client, &server, &listen_addr);
        int want = families[f] == AF_INET6 ? (int)sizeof(struct sockaddr_in6)
                                           : (int)sizeof(struct sockaddr_in);
        const struct {
            const char *how;
            getpeername_fn fn;
        } ways[] = { { "ordinal import", getpeername },
                     { "GetProcAddress by name", by_name },
                     { "GetProcAddress by ordinal", by_ordinal },
                     { "a DLL loaded later", in_later } };
        for (size_t w = 0; w < 4; w++) {
            int len = sizeof peer;
            memset(&peer, 0xcc, sizeof peer);
            char what[96];
            snprintf(what, sizeof what, "tcp%d client peer is the listener (%s)",
                     families[f] == AF_INET6 ? 6 : 4, ways[w].how);
            check(what, !ways[w].fn(client, (struct sockaddr *)&peer, &len));
            fact(what, len == want && same_address(&peer, &listen_addr, want));
        }
        closesocket(client);
        closesocket(server);
        closesocket(listener);
    }

    /* mswsock's AcceptEx, imported from mswsock.dll. */
    SOCKET listener, client, server;
    struct sockaddr_storage listen_addr, peer;
    tcp_pair(AF_INET, &listener, &client, &server, &listen_addr);
    closesocket(client);
    closesocket(server);
    SOCKET accepted = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    char buffer[2 * (sizeof(struct sockaddr_in) + 16)];
    DWORD received = 0;
    OVERLAPPED ov = { 0 };
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    BOOL started = AcceptEx(listener, accepted, buffer, 0, sizeof(struct sockaddr_in) + 16,
                            sizeof(struct sockaddr_in) + 16, &received, &ov);
    check("AcceptEx", started || WSAGetLastError() == ERROR_IO_PENDING);
    client = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    check("connect for AcceptEx", !connect(client, (struct sockaddr *)&listen_addr,
                                           sizeof(struct sockaddr_in)));
    check("AcceptEx completes", WaitForSingleObject(ov.hEvent, 10000) == WAIT_OBJECT_0);
    check("SO_UPDATE_ACCEPT_CONTEXT",
          !setsockopt(accepted, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (char *)&listener,
                      sizeof listener));
    struct sockaddr_storage client_addr;
    int len = sizeof client_addr;
    check("client getsockname", !getsockname(client, (struct sockaddr *)&client_addr, &len));
    len = sizeof peer;
    check("AcceptEx peer", !getpeername(accepted, (struct sockaddr *)&peer, &len));
    fact("AcceptEx socket's peer is the client",
         len == (int)sizeof(struct sockaddr_in) && same_address(&peer, &client_addr, len));

    /* WSAPoll through GetProcAddress (Windows' libraries look it up). */
    typedef int(WSAAPI * poll_fn)(WSAPOLLFD *, ULONG, INT);
    poll_fn poll = (poll_fn)(void (*)(void))GetProcAddress(ws2, "WSAPoll");
    WSAPOLLFD fd = { client, POLLWRNORM, 0 };
    check("WSAPoll", poll && poll(&fd, 1, 10000) == 1);
    fact("WSAPoll: connected socket writable", (fd.revents & POLLWRNORM) != 0);

    CloseHandle(ov.hEvent);
    closesocket(accepted);
    closesocket(client);
    closesocket(listener);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "peers";
    WSADATA data;
    check("WSAStartup", !WSAStartup(MAKEWORD(2, 2), &data));
    if (!strcmp(mode, "peers")) {
        peers();
    } else if (!strcmp(mode, "unsupported")) {
        /* mswsock's rcmd is a stub export: nothing can route it. */
        FARPROC rcmd = GetProcAddress(GetModuleHandleA("mswsock.dll"), "rcmd");
        fact("rcmd found", rcmd != NULL);
        if (rcmd)
            rcmd();
        fact("after rcmd", 1);
    } else if (!strcmp(mode, "bypass")) {
        SOCKET listener, client, server;
        struct sockaddr_storage listen_addr;
        tcp_pair(AF_INET, &listener, &client, &server, &listen_addr);
        check("send", send(client, "x", 1, 0) == 1);
        typedef int(WINAPI * recvex_fn)(SOCKET, char *, int, int *);
        HMODULE wsock32 = LoadLibraryA("wsock32.dll");
        recvex_fn recvex =
            wsock32 ? (recvex_fn)(void (*)(void))GetProcAddress(wsock32, "WSARecvEx") : NULL;
        char byte = 0;
        int flags = 0;
        check("wsock32 WSARecvEx", recvex && recvex(server, &byte, 1, &flags) == 1);
        fact("WSARecvEx got the byte", byte == 'x');
        closesocket(client);
        closesocket(server);
        closesocket(listener);
    }
    WSACleanup();
    fact("failures", failures);
    return failures ? 1 : 0;
}
