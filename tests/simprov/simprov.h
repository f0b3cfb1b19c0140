/*
 * simprov.h - the simulated base provider (simprov.dll) as seen by tests.
 *
 * simprov is an IFS base provider whose sockets are not Wine sockets but
 * in-memory objects. It exists for the connect paths Wine 8 cannot drive
 * (see docs/architecture.md, "Every connect path"): a handle reused after
 * DisconnectEx / TransmitFile / TransmitPackets with TF_REUSE_SOCKET that
 * connects again, and a successful WSAJoinLeaf. Its handles are event
 * objects it creates (CreateEventW), so they are real kernel handles whose
 * values never collide with Wine sockets; each is registered with
 * WPUModifyIFSHandle under the catalog entry it was made for.
 *
 * What it simulates, with Windows' semantics where Wine differs:
 *  - bind (port 0 gets a port of its own), listen, connect (always
 *    succeeds; to the address of a simprov listener it queues the
 *    connector's address there), accept (from that queue);
 *  - ConnectEx and AcceptEx: getpeername says WSAENOTCONN until
 *    SO_UPDATE_CONNECT_CONTEXT / SO_UPDATE_ACCEPT_CONTEXT is set;
 *  - DisconnectEx, TransmitFile, TransmitPackets with TF_DISCONNECT (and
 *    TF_REUSE_SOCKET): the peer is gone; with TF_REUSE_SOCKET the handle
 *    can be given to ConnectEx or AcceptEx again (it keeps its address);
 *  - WSPJoinLeaf: the leaf becomes the peer of the socket it returns,
 *    which is the socket itself or a new one (simprov_join_new_socket);
 *  - getpeername: WSAEFAULT for NULL pointers or a short/negative length,
 *    WSAENOTCONN when there is no peer.
 *
 * Overlapped calls complete at once: Internal (a WSA error code, as the
 * test host's WPUCompleteOverlappedRequest stores it) and InternalHigh are
 * set, hEvent is signalled and the function returns TRUE. After
 * simprov_pend_next(), the next ConnectEx / DisconnectEx / TransmitFile /
 * TransmitPackets instead returns FALSE with WSA_IO_PENDING and takes effect
 * only at simprov_complete_pending(). Completion ports are not simulated.
 * Data is not transferred anywhere; byte counts are what was asked for.
 *
 * The catalog entries for simprov are copies of tbase's (see tbase.h) under
 * SIMPROV_GUID with simprov's path: any address family and socket type.
 *
 * Control exports are WINAPI and exported undecorated (x86 too); resolve
 * them with GetProcAddress through the SIMPROV_*_FN types.
 */
#ifndef PEERLSP_TESTS_SIMPROV_H
#define PEERLSP_TESTS_SIMPROV_H

#include <winsock2.h>
#include <windows.h>

/* {5f3c1f0e-7a41-4d2b-9c55-1e0d6a3b8c21} */
#define SIMPROV_GUID_INIT \
    { 0x5f3c1f0e, 0x7a41, 0x4d2b, { 0x9c, 0x55, 0x1e, 0x0d, 0x6a, 0x3b, 0x8c, 0x21 } }

static const GUID SIMPROV_GUID = SIMPROV_GUID_INIT;

/* How many times the named WSP function or extension function ("WSPGetPeerName",
 * "ConnectEx", ...) was entered since the DLL was loaded; -1 for other names. */
LONG WINAPI simprov_calls(const char *function_name);

/* WSPJoinLeaf returns a new socket (nonzero) or the socket itself (0, the
 * default). */
void WINAPI simprov_join_new_socket(int new_socket);

/* The next ConnectEx, DisconnectEx, TransmitFile or TransmitPackets stays
 * pending until simprov_complete_pending. */
void WINAPI simprov_pend_next(void);

/* Completes the pending operation (its effect on the socket happens now).
 * Returns FALSE when nothing was pending. */
BOOL WINAPI simprov_complete_pending(void);

/* The next WSPConnect records the first len bytes of the caller's address
 * as the peer (len no more than the namelen given), instead of the family's
 * address size: a peer of a shape peerlsp does not store. 0: the default. */
void WINAPI simprov_next_peer_bytes(int len);

/* The other end resets s's connection (a TCP reset, with Windows' codes):
 * WSPRecv and WSPSend fail with WSAECONNRESET, a pending overlapped
 * WSPRecv completes with it, WSPEnumNetworkEvents reports FD_CLOSE with
 * WSAECONNRESET, WSPGetPeerName says WSAENOTCONN. Without a reset, WSPRecv
 * has no data (WSAEWOULDBLOCK; an overlapped one stays pending, one at a
 * time) and WSPSend sends everything. FALSE for an unknown handle. */
BOOL WINAPI simprov_reset(SOCKET s);

/* Sockets open in simprov (made and not yet closed). */
LONG WINAPI simprov_open_sockets(void);

typedef LONG (WINAPI *SIMPROV_CALLS_FN)(const char *function_name);
typedef void (WINAPI *SIMPROV_NEXT_PEER_BYTES_FN)(int len);
typedef void (WINAPI *SIMPROV_JOIN_NEW_SOCKET_FN)(int new_socket);
typedef void (WINAPI *SIMPROV_PEND_NEXT_FN)(void);
typedef BOOL (WINAPI *SIMPROV_COMPLETE_PENDING_FN)(void);
typedef LONG (WINAPI *SIMPROV_OPEN_SOCKETS_FN)(void);
typedef BOOL (WINAPI *SIMPROV_RESET_FN)(SOCKET s);

#endif /* PEERLSP_TESTS_SIMPROV_H */
