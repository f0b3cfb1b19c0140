/*
 * internal.h - what tbase's source files share (tests see only tbase.h).
 *
 * Every WSP function here is the single egress point that sets *lpErrno. The
 * SPI guarantees lpErrno is a valid pointer in every call, so it is not
 * checked. Wine's error codes are passed up untouched.
 */
#ifndef TBASE_INTERNAL_H
#define TBASE_INTERNAL_H

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <ws2spi.h>

#include "tbase.h"

/* ---- Call counters (control.c) ------------------------------------------ */

/* Every function tbase counts, in WSPPROC_TABLE order, then WSPStartup. The
 * names are what tbase_calls() accepts. */
#define TBASE__FUNCTIONS(X) \
    X(WSPAccept) X(WSPAddressToString) X(WSPAsyncSelect) X(WSPBind) \
    X(WSPCancelBlockingCall) X(WSPCleanup) X(WSPCloseSocket) X(WSPConnect) \
    X(WSPDuplicateSocket) X(WSPEnumNetworkEvents) X(WSPEventSelect) \
    X(WSPGetOverlappedResult) X(WSPGetPeerName) X(WSPGetSockName) \
    X(WSPGetSockOpt) X(WSPGetQOSByName) X(WSPIoctl) X(WSPJoinLeaf) \
    X(WSPListen) X(WSPRecv) X(WSPRecvDisconnect) X(WSPRecvFrom) \
    X(WSPSelect) X(WSPSend) X(WSPSendDisconnect) X(WSPSendTo) \
    X(WSPSetSockOpt) X(WSPShutdown) X(WSPSocket) X(WSPStringToAddress) \
    X(WSPStartup)

enum tbase__fn {
#define TBASE__FN_ENUM(name) TBASE__FN_##name,
    TBASE__FUNCTIONS(TBASE__FN_ENUM)
#undef TBASE__FN_ENUM
    TBASE__FN_COUNT
};

void tbase__count(enum tbase__fn fn);
#define TBASE__COUNT(name) tbase__count(TBASE__FN_##name)

/* The failure set by tbase_fail_next_startup (0 for none), cleared so that
 * exactly one WSPStartup sees it. */
int tbase__take_startup_failure(void);

/* ---- Start-up state (startup.c) ----------------------------------------- */

/* The WPUModifyIFSHandle upcall of the current start-up, or NULL when tbase
 * is not started. */
LPWPUMODIFYIFSHANDLE tbase__modify_ifs_handle(void);

/* ---- Socket records (socktable.c) --------------------------------------- */

/* Which catalog entry each socket was created for: WSPAccept and WSPJoinLeaf
 * register new handles under the entry of the socket they came from, and
 * WSPDuplicateSocket and SO_PROTOCOL_INFO report it. Records are allocated
 * before the socket exists so that no failure can come after it does. */
struct tbase__sock;

struct tbase__sock *tbase__sock_new(void);
void tbase__sock_free(struct tbase__sock *rec);

/* Records `s` with a copy of `entry`, taking ownership of `rec`. A record
 * already held for the same handle value is replaced: handle values are
 * reused after a close, and a socket closed with CloseHandle is never seen. */
void tbase__sock_insert(struct tbase__sock *rec, SOCKET s, const WSAPROTOCOL_INFOW *entry);

/* Copies the entry recorded for `s` to *entry and the record's serial number
 * to *serial (either may be NULL). Returns FALSE when `s` has no record. */
BOOL tbase__sock_find(SOCKET s, WSAPROTOCOL_INFOW *entry, ULONG64 *serial);

/* Forgets `s` if its record is still the one with `serial` (a new socket may
 * have taken the handle value since the caller looked). */
void tbase__sock_remove(SOCKET s, ULONG64 serial);

/* Forgets one record and returns its handle; INVALID_SOCKET when none is
 * left. */
SOCKET tbase__sock_pop(void);

LONG tbase__sock_count(void);

/* ---- Protocol info (socket.c) ------------------------------------------- */

/* Makes `info`, filled in by Wine, name the catalog entry `entry`. */
void tbase__identify_w(WSAPROTOCOL_INFOW *info, const WSAPROTOCOL_INFOW *entry);
void tbase__identify_a(WSAPROTOCOL_INFOA *info, const WSAPROTOCOL_INFOW *entry);

/* ---- The WSP functions, by file ----------------------------------------- */

/* startup.c (WSPStartup itself is declared by ws2spi.h) */
int WSPAPI WSPCleanup(LPINT lpErrno);
int WSPAPI WSPCancelBlockingCall(LPINT lpErrno);

/* socket.c: handles come and go */
SOCKET WSPAPI WSPSocket(int af, int type, int protocol, LPWSAPROTOCOL_INFOW lpProtocolInfo,
                        GROUP g, DWORD dwFlags, LPINT lpErrno);
SOCKET WSPAPI WSPAccept(SOCKET s, struct sockaddr *addr, LPINT addrlen,
                        LPCONDITIONPROC lpfnCondition, DWORD_PTR dwCallbackData, LPINT lpErrno);
SOCKET WSPAPI WSPJoinLeaf(SOCKET s, const struct sockaddr *name, int namelen,
                          LPWSABUF lpCallerData, LPWSABUF lpCalleeData, LPQOS lpSQOS,
                          LPQOS lpGQOS, DWORD dwFlags, LPINT lpErrno);
int WSPAPI WSPDuplicateSocket(SOCKET s, DWORD dwProcessId, LPWSAPROTOCOL_INFOW lpProtocolInfo,
                              LPINT lpErrno);
int WSPAPI WSPCloseSocket(SOCKET s, LPINT lpErrno);

/* connection.c: addresses and connection state */
int WSPAPI WSPBind(SOCKET s, const struct sockaddr *name, int namelen, LPINT lpErrno);
int WSPAPI WSPListen(SOCKET s, int backlog, LPINT lpErrno);
int WSPAPI WSPConnect(SOCKET s, const struct sockaddr *name, int namelen,
                      LPWSABUF lpCallerData, LPWSABUF lpCalleeData, LPQOS lpSQOS,
                      LPQOS lpGQOS, LPINT lpErrno);
int WSPAPI WSPGetPeerName(SOCKET s, struct sockaddr *name, LPINT namelen, LPINT lpErrno);
int WSPAPI WSPGetSockName(SOCKET s, struct sockaddr *name, LPINT namelen, LPINT lpErrno);
int WSPAPI WSPShutdown(SOCKET s, int how, LPINT lpErrno);
int WSPAPI WSPRecvDisconnect(SOCKET s, LPWSABUF lpInboundDisconnectData, LPINT lpErrno);
int WSPAPI WSPSendDisconnect(SOCKET s, LPWSABUF lpOutboundDisconnectData, LPINT lpErrno);
INT WSPAPI WSPAddressToString(LPSOCKADDR lpsaAddress, DWORD dwAddressLength,
                              LPWSAPROTOCOL_INFOW lpProtocolInfo, LPWSTR lpszAddressString,
                              LPDWORD lpdwAddressStringLength, LPINT lpErrno);
INT WSPAPI WSPStringToAddress(LPWSTR AddressString, INT AddressFamily,
                              LPWSAPROTOCOL_INFOW lpProtocolInfo, LPSOCKADDR lpAddress,
                              LPINT lpAddressLength, LPINT lpErrno);

/* transfer.c: data */
int WSPAPI WSPSend(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
                   LPDWORD lpNumberOfBytesSent, DWORD dwFlags, LPWSAOVERLAPPED lpOverlapped,
                   LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine,
                   LPWSATHREADID lpThreadId, LPINT lpErrno);
int WSPAPI WSPSendTo(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
                     LPDWORD lpNumberOfBytesSent, DWORD dwFlags, const struct sockaddr *lpTo,
                     int iTolen, LPWSAOVERLAPPED lpOverlapped,
                     LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine,
                     LPWSATHREADID lpThreadId, LPINT lpErrno);
int WSPAPI WSPRecv(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
                   LPDWORD lpNumberOfBytesRecvd, LPDWORD lpFlags, LPWSAOVERLAPPED lpOverlapped,
                   LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine,
                   LPWSATHREADID lpThreadId, LPINT lpErrno);
int WSPAPI WSPRecvFrom(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
                       LPDWORD lpNumberOfBytesRecvd, LPDWORD lpFlags, struct sockaddr *lpFrom,
                       LPINT lpFromlen, LPWSAOVERLAPPED lpOverlapped,
                       LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine,
                       LPWSATHREADID lpThreadId, LPINT lpErrno);
BOOL WSPAPI WSPGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED lpOverlapped, LPDWORD lpcbTransfer,
                                   BOOL fWait, LPDWORD lpdwFlags, LPINT lpErrno);

/* options.c: options, ioctls, QoS */
int WSPAPI WSPGetSockOpt(SOCKET s, int level, int optname, char *optval, LPINT optlen,
                         LPINT lpErrno);
int WSPAPI WSPSetSockOpt(SOCKET s, int level, int optname, const char *optval, int optlen,
                         LPINT lpErrno);
int WSPAPI WSPIoctl(SOCKET s, DWORD dwIoControlCode, LPVOID lpvInBuffer, DWORD cbInBuffer,
                    LPVOID lpvOutBuffer, DWORD cbOutBuffer, LPDWORD lpcbBytesReturned,
                    LPWSAOVERLAPPED lpOverlapped,
                    LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine,
                    LPWSATHREADID lpThreadId, LPINT lpErrno);
BOOL WSPAPI WSPGetQOSByName(SOCKET s, LPWSABUF lpQOSName, LPQOS lpQOS, LPINT lpErrno);

/* events.c: readiness and notification */
int WSPAPI WSPSelect(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
                     const PTIMEVAL timeout, LPINT lpErrno);
int WSPAPI WSPEventSelect(SOCKET s, WSAEVENT hEventObject, LONG lNetworkEvents,
                          LPINT lpErrno);
int WSPAPI WSPAsyncSelect(SOCKET s, HWND hWnd, unsigned int wMsg, LONG lEvent, LPINT lpErrno);
int WSPAPI WSPEnumNetworkEvents(SOCKET s, WSAEVENT hEventObject,
                                LPWSANETWORKEVENTS lpNetworkEvents, LPINT lpErrno);

/* ---- Errors ------------------------------------------------------------- */

/* The error Wine left for the call that just failed. A failure without an
 * error becomes `if_unset` (ws2_32 would turn a 0 into WSASYSCALLFAILURE;
 * a layer above should see a real code instead). */
static inline int tbase__wine_error(int if_unset)
{
    int err = WSAGetLastError();
    return err ? err : if_unset;
}

#endif /* TBASE_INTERNAL_H */
