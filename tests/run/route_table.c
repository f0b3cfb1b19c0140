/*
 * route_table.c - what the router does with each export of Wine's
 * ws2_32.dll and mswsock.dll (the kinds: route.h).
 *
 * ROUTED: every function that takes or makes a socket, and the catalog
 * functions a program may read (WSCEnumProtocols...): the host's, through
 * the providers. PURE: byte order, address text and name resolution,
 * events (kernel objects), the Winsock 1 blocking hooks, the name-space
 * and service functions, and the catalog editing functions (Wine's stubs:
 * a program run by peerlsp-run does not edit the snapshot). The last error
 * functions are PURE because the host keeps its error in the thread's last
 * error (host_use_system_last_error), as ws2_32 does. mswsock's AcceptEx,
 * TransmitFile and WSARecvEx take a socket and go through the provider's
 * extension functions, as on Windows; its other exports take none.
 * Not listed, and so UNSUPPORTED: Wine's stub exports (rcmd, rexec,
 * s_perror, ...), which Wine itself cannot run either.
 */
#include <string.h>

#include "host_ext.h"
#include "route.h"
#include "wshost.h"

/* Entries whose replacement is a member of host_api() are filled in at
 * run time (a table of constants cannot read them). */
static struct route_export exports[] = {
    { "ws2_32.dll", "__WSAFDIsSet", ROUTE_PURE, NULL },
    { "ws2_32.dll", "accept", ROUTE_ROUTED, NULL /* host_api()->accept */ },
    { "ws2_32.dll", "bind", ROUTE_ROUTED, NULL /* host_api()->bind */ },
    { "ws2_32.dll", "closesocket", ROUTE_ROUTED, NULL /* host_api()->closesocket */ },
    { "ws2_32.dll", "connect", ROUTE_ROUTED, NULL /* host_api()->connect */ },
    { "ws2_32.dll", "freeaddrinfo", ROUTE_PURE, NULL },
    { "ws2_32.dll", "FreeAddrInfoEx", ROUTE_PURE, NULL },
    { "ws2_32.dll", "FreeAddrInfoExW", ROUTE_PURE, NULL },
    { "ws2_32.dll", "FreeAddrInfoW", ROUTE_PURE, NULL },
    { "ws2_32.dll", "getaddrinfo", ROUTE_PURE, NULL },
    { "ws2_32.dll", "GetAddrInfoExCancel", ROUTE_PURE, NULL },
    { "ws2_32.dll", "GetAddrInfoExOverlappedResult", ROUTE_PURE, NULL },
    { "ws2_32.dll", "GetAddrInfoExW", ROUTE_PURE, NULL },
    { "ws2_32.dll", "GetAddrInfoW", ROUTE_PURE, NULL },
    { "ws2_32.dll", "gethostbyaddr", ROUTE_PURE, NULL },
    { "ws2_32.dll", "gethostbyname", ROUTE_PURE, NULL },
    { "ws2_32.dll", "gethostname", ROUTE_PURE, NULL },
    { "ws2_32.dll", "GetHostNameW", ROUTE_PURE, NULL },
    { "ws2_32.dll", "getnameinfo", ROUTE_PURE, NULL },
    { "ws2_32.dll", "GetNameInfoW", ROUTE_PURE, NULL },
    { "ws2_32.dll", "getpeername", ROUTE_ROUTED, (void *)route_getpeername },
    { "ws2_32.dll", "getprotobyname", ROUTE_PURE, NULL },
    { "ws2_32.dll", "getprotobynumber", ROUTE_PURE, NULL },
    { "ws2_32.dll", "getservbyname", ROUTE_PURE, NULL },
    { "ws2_32.dll", "getservbyport", ROUTE_PURE, NULL },
    { "ws2_32.dll", "getsockname", ROUTE_ROUTED, NULL /* host_api()->getsockname */ },
    { "ws2_32.dll", "getsockopt", ROUTE_ROUTED, NULL /* host_api()->getsockopt */ },
    { "ws2_32.dll", "htonl", ROUTE_PURE, NULL },
    { "ws2_32.dll", "htons", ROUTE_PURE, NULL },
    { "ws2_32.dll", "inet_addr", ROUTE_PURE, NULL },
    { "ws2_32.dll", "inet_ntoa", ROUTE_PURE, NULL },
    { "ws2_32.dll", "inet_ntop", ROUTE_PURE, NULL },
    { "ws2_32.dll", "inet_pton", ROUTE_PURE, NULL },
    { "ws2_32.dll", "InetNtopW", ROUTE_PURE, NULL },
    { "ws2_32.dll", "InetPtonW", ROUTE_PURE, NULL },
    { "ws2_32.dll", "ioctlsocket", ROUTE_ROUTED, NULL /* host_api()->ioctlsocket */ },
    { "ws2_32.dll", "listen", ROUTE_ROUTED, NULL /* host_api()->listen */ },
    { "ws2_32.dll", "ntohl", ROUTE_PURE, NULL },
    { "ws2_32.dll", "ntohs", ROUTE_PURE, NULL },
    { "ws2_32.dll", "recv", ROUTE_ROUTED, NULL /* host_api()->recv */ },
    { "ws2_32.dll", "recvfrom", ROUTE_ROUTED, NULL /* host_api()->recvfrom */ },
    { "ws2_32.dll", "select", ROUTE_ROUTED, NULL /* host_api()->select */ },
    { "ws2_32.dll", "send", ROUTE_ROUTED, NULL /* host_api()->send */ },
    { "ws2_32.dll", "sendto", ROUTE_ROUTED, NULL /* host_api()->sendto */ },
    { "ws2_32.dll", "setsockopt", ROUTE_ROUTED, NULL /* host_api()->setsockopt */ },
    { "ws2_32.dll", "shutdown", ROUTE_ROUTED, NULL /* host_api()->shutdown */ },
    { "ws2_32.dll", "socket", ROUTE_ROUTED, NULL /* host_api()->socket */ },
    { "ws2_32.dll", "WEP", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WPUCompleteOverlappedRequest", ROUTE_ROUTED, (void *)host_WPUCompleteOverlappedRequest },
    { "ws2_32.dll", "WSAAccept", ROUTE_ROUTED, NULL /* host_api()->WSAAccept */ },
    { "ws2_32.dll", "WSAAddressToStringA", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAAddressToStringW", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAAsyncGetHostByAddr", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAAsyncGetHostByName", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAAsyncGetProtoByName", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAAsyncGetProtoByNumber", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAAsyncGetServByName", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAAsyncGetServByPort", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAAsyncSelect", ROUTE_ROUTED, (void *)host_WSAAsyncSelect },
    { "ws2_32.dll", "WSACancelAsyncRequest", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSACancelBlockingCall", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSACleanup", ROUTE_ROUTED, (void *)route_WSACleanup },
    { "ws2_32.dll", "WSACloseEvent", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAConnect", ROUTE_ROUTED, NULL /* host_api()->WSAConnect */ },
    { "ws2_32.dll", "WSAConnectByNameA", ROUTE_ROUTED, (void *)host_WSAConnectByNameA },
    { "ws2_32.dll", "WSAConnectByNameW", ROUTE_ROUTED, (void *)host_WSAConnectByNameW },
    { "ws2_32.dll", "WSACreateEvent", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSADuplicateSocketA", ROUTE_ROUTED, (void *)host_WSADuplicateSocketA },
    { "ws2_32.dll", "WSADuplicateSocketW", ROUTE_ROUTED, NULL /* host_api()->WSADuplicateSocketW */ },
    { "ws2_32.dll", "WSAEnumNameSpaceProvidersA", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAEnumNameSpaceProvidersW", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAEnumNetworkEvents", ROUTE_ROUTED, NULL /* host_api()->WSAEnumNetworkEvents */ },
    { "ws2_32.dll", "WSAEnumProtocolsA", ROUTE_ROUTED, (void *)host_WSAEnumProtocolsA },
    { "ws2_32.dll", "WSAEnumProtocolsW", ROUTE_ROUTED, NULL /* host_api()->WSAEnumProtocolsW */ },
    { "ws2_32.dll", "WSAEventSelect", ROUTE_ROUTED, NULL /* host_api()->WSAEventSelect */ },
    { "ws2_32.dll", "WSAGetLastError", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAGetOverlappedResult", ROUTE_ROUTED, NULL /* host_api()->WSAGetOverlappedResult */ },
    { "ws2_32.dll", "WSAGetQOSByName", ROUTE_ROUTED, (void *)host_WSAGetQOSByName },
    { "ws2_32.dll", "WSAGetServiceClassInfoA", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAGetServiceClassInfoW", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAGetServiceClassNameByClassIdA", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAGetServiceClassNameByClassIdW", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAHtonl", ROUTE_ROUTED, (void *)host_WSAHtonl },
    { "ws2_32.dll", "WSAHtons", ROUTE_ROUTED, (void *)host_WSAHtons },
    { "ws2_32.dll", "WSAInstallServiceClassA", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAInstallServiceClassW", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAIoctl", ROUTE_ROUTED, NULL /* host_api()->WSAIoctl */ },
    { "ws2_32.dll", "WSAIsBlocking", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAJoinLeaf", ROUTE_ROUTED, NULL /* host_api()->WSAJoinLeaf */ },
    { "ws2_32.dll", "WSALookupServiceBeginA", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSALookupServiceBeginW", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSALookupServiceEnd", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSALookupServiceNextA", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSALookupServiceNextW", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSANSPIoctl", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSANtohl", ROUTE_ROUTED, (void *)host_WSANtohl },
    { "ws2_32.dll", "WSANtohs", ROUTE_ROUTED, (void *)host_WSANtohs },
    { "ws2_32.dll", "WSAPoll", ROUTE_ROUTED, (void *)host_WSAPoll },
    { "ws2_32.dll", "WSAProviderConfigChange", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSApSetPostRoutine", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSARecv", ROUTE_ROUTED, NULL /* host_api()->WSARecv */ },
    { "ws2_32.dll", "WSARecvDisconnect", ROUTE_ROUTED, (void *)host_WSARecvDisconnect },
    { "ws2_32.dll", "WSARecvFrom", ROUTE_ROUTED, (void *)host_WSARecvFrom },
    { "ws2_32.dll", "WSARemoveServiceClass", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAResetEvent", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSASend", ROUTE_ROUTED, NULL /* host_api()->WSASend */ },
    { "ws2_32.dll", "WSASendDisconnect", ROUTE_ROUTED, (void *)host_WSASendDisconnect },
    { "ws2_32.dll", "WSASendMsg", ROUTE_ROUTED, (void *)host_WSASendMsg },
    { "ws2_32.dll", "WSASendTo", ROUTE_ROUTED, (void *)host_WSASendTo },
    { "ws2_32.dll", "WSASetBlockingHook", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSASetEvent", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSASetLastError", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSASetServiceA", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSASetServiceW", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSASocketA", ROUTE_ROUTED, (void *)host_WSASocketA },
    { "ws2_32.dll", "WSASocketW", ROUTE_ROUTED, NULL /* host_api()->WSASocketW */ },
    { "ws2_32.dll", "WSAStartup", ROUTE_ROUTED, (void *)route_WSAStartup },
    { "ws2_32.dll", "WSAStringToAddressA", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAStringToAddressW", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAUnhookBlockingHook", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSAWaitForMultipleEvents", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSCDeinstallProvider", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSCEnableNSProvider", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSCEnumProtocols", ROUTE_ROUTED, (void *)host_WSCEnumProtocols },
    { "ws2_32.dll", "WSCGetProviderInfo", ROUTE_ROUTED, (void *)host_WSCGetProviderInfo },
    { "ws2_32.dll", "WSCGetProviderPath", ROUTE_ROUTED, (void *)host_WSCGetProviderPath },
    { "ws2_32.dll", "WSCInstallNameSpace", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSCInstallProvider", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSCSetApplicationCategory", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSCUnInstallNameSpace", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSCUpdateProvider", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSCWriteNameSpaceOrder", ROUTE_PURE, NULL },
    { "ws2_32.dll", "WSCWriteProviderOrder", ROUTE_PURE, NULL },
    { "mswsock.dll", "AcceptEx", ROUTE_ROUTED, (void *)host_AcceptEx },
    { "mswsock.dll", "EnumProtocolsA", ROUTE_PURE, NULL },
    { "mswsock.dll", "EnumProtocolsW", ROUTE_PURE, NULL },
    { "mswsock.dll", "GetAcceptExSockaddrs", ROUTE_PURE, NULL },
    { "mswsock.dll", "GetAddressByNameA", ROUTE_PURE, NULL },
    { "mswsock.dll", "GetAddressByNameW", ROUTE_PURE, NULL },
    { "mswsock.dll", "GetNameByTypeA", ROUTE_PURE, NULL },
    { "mswsock.dll", "GetNameByTypeW", ROUTE_PURE, NULL },
    { "mswsock.dll", "GetServiceA", ROUTE_PURE, NULL },
    { "mswsock.dll", "GetServiceW", ROUTE_PURE, NULL },
    { "mswsock.dll", "GetTypeByNameA", ROUTE_PURE, NULL },
    { "mswsock.dll", "GetTypeByNameW", ROUTE_PURE, NULL },
    { "mswsock.dll", "SetServiceA", ROUTE_PURE, NULL },
    { "mswsock.dll", "SetServiceW", ROUTE_PURE, NULL },
    { "mswsock.dll", "TransmitFile", ROUTE_ROUTED, (void *)host_TransmitFile },
    { "mswsock.dll", "WSARecvEx", ROUTE_ROUTED, (void *)host_WSARecvEx },
};

/* The host_api() members, by export name. */
static void fill_host_api(void)
{
    const struct wsapi *api = host_api();
    const struct {
        const char *name;
        void *fn;
    } members[] = {
        { "accept", (void *)api->accept },
        { "bind", (void *)api->bind },
        { "closesocket", (void *)api->closesocket },
        { "connect", (void *)api->connect },
        { "getsockname", (void *)api->getsockname },
        { "getsockopt", (void *)api->getsockopt },
        { "ioctlsocket", (void *)api->ioctlsocket },
        { "listen", (void *)api->listen },
        { "recv", (void *)api->recv },
        { "recvfrom", (void *)api->recvfrom },
        { "select", (void *)api->select },
        { "send", (void *)api->send },
        { "sendto", (void *)api->sendto },
        { "setsockopt", (void *)api->setsockopt },
        { "shutdown", (void *)api->shutdown },
        { "socket", (void *)api->socket },
        { "WSAAccept", (void *)api->WSAAccept },
        { "WSAConnect", (void *)api->WSAConnect },
        { "WSADuplicateSocketW", (void *)api->WSADuplicateSocketW },
        { "WSAEnumNetworkEvents", (void *)api->WSAEnumNetworkEvents },
        { "WSAEnumProtocolsW", (void *)api->WSAEnumProtocolsW },
        { "WSAEventSelect", (void *)api->WSAEventSelect },
        { "WSAGetOverlappedResult", (void *)api->WSAGetOverlappedResult },
        { "WSAIoctl", (void *)api->WSAIoctl },
        { "WSAJoinLeaf", (void *)api->WSAJoinLeaf },
        { "WSARecv", (void *)api->WSARecv },
        { "WSASend", (void *)api->WSASend },
        { "WSASocketW", (void *)api->WSASocketW },
    };
    for (size_t i = 0; i < ARRAYSIZE(members); i++) {
        for (size_t k = 0; k < ARRAYSIZE(exports); k++) {
            if (!strcmp(exports[k].name, members[i].name))
                exports[k].routed = members[i].fn;
        }
    }
}

static INIT_ONCE filled = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK fill_once(PINIT_ONCE once, PVOID param, PVOID *context)
{
    (void)once;
    (void)param;
    (void)context;
    fill_host_api();
    return TRUE;
}

const struct route_export *route_table_find(const char *dll, const char *name)
{
    InitOnceExecuteOnce(&filled, fill_once, NULL, NULL);
    for (size_t i = 0; i < ARRAYSIZE(exports); i++) {
        if (!_stricmp(exports[i].dll, dll) && !strcmp(exports[i].name, name))
            return &exports[i];
    }
    return NULL;
}
