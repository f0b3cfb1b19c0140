/*
 * route_api.c - the router's own replacements, around the host's.
 */
#include "host_ext.h"
#include "route.h"
#include "tbase.h"
#include "wshost.h"

/* WSAStartup: Wine's answers (versions, WSADATA, errors) are the ones a
 * program must see, and Wine's ws2_32 must be started for the base
 * provider's sockets anyway; the host's session is taken alongside. */
int WSAAPI route_WSAStartup(WORD version, LPWSADATA data)
{
    int ret = WSAStartup(version, data);
    if (ret)
        return ret;
    WSADATA host_data;
    int err = host_api()->WSAStartup(MAKEWORD(2, 2), &host_data);
    if (err) {
        WSACleanup();
        return err;
    }
    return 0;
}

int WSAAPI route_WSACleanup(void)
{
    if (host_api()->WSACleanup() == SOCKET_ERROR)
        return SOCKET_ERROR;
    return WSACleanup();
}

/* tbase's per-thread count of WSPGetPeerName calls, once tbase is loaded
 * (by the host, at the first socket); NULL when the catalog's base
 * provider is not tbase. */
static TBASE_THREAD_CALLS_FN thread_calls(void)
{
    static TBASE_THREAD_CALLS_FN fn;
    if (!fn) {
        HMODULE tbase = GetModuleHandleW(TBASE_DLL_NAME);
        if (tbase)
            fn = (TBASE_THREAD_CALLS_FN)(void (*)(void))GetProcAddress(tbase,
                                                                       "tbase_thread_calls");
    }
    return fn;
}

/* getpeername, counted by whether the base provider was asked during the
 * call (on this thread): peerlsp answered from its table when it was not. */
int WSAAPI route_getpeername(SOCKET s, struct sockaddr *name, int *namelen)
{
    TBASE_THREAD_CALLS_FN calls = thread_calls();
    LONG before = calls ? calls("WSPGetPeerName") : 0;
    int ret = host_api()->getpeername(s, name, namelen);
    DWORD saved = GetLastError();
    if (!calls)
        calls = thread_calls(); /* the first call may have loaded tbase */
    if (calls && host_socket_entry(s))
        route_stats_getpeername(calls("WSPGetPeerName") > before);
    SetLastError(saved);
    return ret;
}
