/*
 * host_ext.h - the rest of ws2_32's (and mswsock's) functions through the
 * test host, for peerlsp-run's router (tests/run), which hands them to an
 * unmodified program in place of Wine's. Each has exactly the signature and
 * contract of the Windows function of the same name without "host_"; the
 * last error is the host's (see host_use_system_last_error).
 */
#ifndef PEERLSP_TESTS_HOST_EXT_H
#define PEERLSP_TESTS_HOST_EXT_H

#include "wsapi.h"

#include <ws2spi.h>

/* ---- ws2_32 --------------------------------------------------------------- */
SOCKET WSAAPI host_WSASocketA(int af, int type, int protocol, LPWSAPROTOCOL_INFOA info,
                              GROUP g, DWORD flags);
int WSAAPI host_WSADuplicateSocketA(SOCKET s, DWORD pid, LPWSAPROTOCOL_INFOA info);
int WSAAPI host_WSAEnumProtocolsA(LPINT protocols, LPWSAPROTOCOL_INFOA buffer, LPDWORD length);
int WSAAPI host_WSAAsyncSelect(SOCKET s, HWND window, u_int message, long events);
int WSAAPI host_WSASendTo(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD sent, DWORD flags,
                          const struct sockaddr *to, int tolen, LPWSAOVERLAPPED overlapped,
                          LPWSAOVERLAPPED_COMPLETION_ROUTINE completion);
int WSAAPI host_WSARecvFrom(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD received,
                            LPDWORD flags, struct sockaddr *from, LPINT fromlen,
                            LPWSAOVERLAPPED overlapped,
                            LPWSAOVERLAPPED_COMPLETION_ROUTINE completion);
int WSAAPI host_WSARecvDisconnect(SOCKET s, LPWSABUF data);
int WSAAPI host_WSASendDisconnect(SOCKET s, LPWSABUF data);
BOOL WSAAPI host_WSAGetQOSByName(SOCKET s, LPWSABUF name, LPQOS qos);
int WSAAPI host_WSASendMsg(SOCKET s, LPWSAMSG msg, DWORD flags, LPDWORD sent,
                           LPWSAOVERLAPPED overlapped,
                           LPWSAOVERLAPPED_COMPLETION_ROUTINE completion);
int WSAAPI host_WSAHtonl(SOCKET s, u_long host_value, u_long *net_value);
int WSAAPI host_WSAHtons(SOCKET s, u_short host_value, u_short *net_value);
int WSAAPI host_WSANtohl(SOCKET s, u_long net_value, u_long *host_value);
int WSAAPI host_WSANtohs(SOCKET s, u_short net_value, u_short *host_value);

/* WSAPoll: each handle's base handle (SIO_BSP_HANDLE_POLL through its
 * provider), polled in one call of Wine's WSAPoll. */
int WSAAPI host_WSAPoll(WSAPOLLFD *fds, ULONG count, int timeout);
BOOL WSAAPI host_WSAConnectByNameA(SOCKET s, LPCSTR node, LPCSTR service, LPDWORD local_len,
                                   LPSOCKADDR local, LPDWORD remote_len, LPSOCKADDR remote,
                                   const struct timeval *timeout, LPWSAOVERLAPPED reserved);
BOOL WSAAPI host_WSAConnectByNameW(SOCKET s, LPWSTR node, LPWSTR service, LPDWORD local_len,
                                   LPSOCKADDR local, LPDWORD remote_len, LPSOCKADDR remote,
                                   const struct timeval *timeout, LPWSAOVERLAPPED reserved);

/* The catalog functions, on the catalog as it is now (providers' imports
 * are redirected to these; a program may call them too). */
int WSPAPI host_WPUCompleteOverlappedRequest(SOCKET s, LPWSAOVERLAPPED overlapped, DWORD error,
                                             DWORD transferred, LPINT errno_out);
int WSPAPI host_WSCEnumProtocols(LPINT protocols, LPWSAPROTOCOL_INFOW buffer, LPDWORD length,
                                 LPINT errno_out);
int WSPAPI host_WSCGetProviderPath(LPGUID guid, WCHAR *path, LPINT length, LPINT errno_out);
int WSPAPI host_WSCGetProviderInfo(LPGUID guid, WSC_PROVIDER_INFO_TYPE type, PBYTE info,
                                   size_t *size, DWORD flags, LPINT errno_out);

/* ---- mswsock ----------------------------------------------------------------- */
BOOL WSAAPI host_AcceptEx(SOCKET listener, SOCKET accepted, PVOID buffer, DWORD receive_len,
                          DWORD local_len, DWORD remote_len, LPDWORD received,
                          LPOVERLAPPED overlapped);
BOOL WSAAPI host_TransmitFile(SOCKET s, HANDLE file, DWORD bytes, DWORD per_send,
                              LPOVERLAPPED overlapped, LPTRANSMIT_FILE_BUFFERS buffers,
                              DWORD flags);
int WSAAPI host_WSARecvEx(SOCKET s, char *buf, int len, int *flags);

/* ---- what peerlsp-run's router sets up and reads ------------------------ */

/* The last error lives in the thread's Win32 last error (as on Windows)
 * instead of the host's own slot, and successful calls set it to 0, as
 * Wine's ws2_32 does. Call before the first call through the host. */
void host_use_system_last_error(int on);
/* Count calls per WSP function and calls on unknown handles. */
void host_count_calls(int on);
/* The i-th WSP function's name and how often the host called it; NULL
 * past the last one. */
const char *host_call_count(size_t i, LONG *count);
/* Calls on a handle the host had no binding for (answered WSAENOTSOCK). */
LONG host_unknown_handles(void);

#endif /* PEERLSP_TESTS_HOST_EXT_H */
