/*
 * socket.c - where handles come from and go: WSPSocket, WSPAccept,
 * WSPJoinLeaf, WSPDuplicateSocket, WSPCloseSocket.
 *
 * tbase is an IFS provider: the handle it returns is the Wine socket itself,
 * registered with WPUModifyIFSHandle under the catalog entry it was created
 * for, so that ws2_32 (the test host) routes later calls on it to that entry.
 */
#include <string.h>

#include "internal.h"

/* Wine 8's WSADuplicateSocketW duplicates the handle into the target process,
 * stores it in dwServiceFlags3 and marks the structure with this value in
 * dwServiceFlags4; its WSASocketW hands back dwServiceFlags3 when it sees the
 * mark (dlls/ws2_32/socket.c, "hack for WSADuplicateSocket"). */
#define WINE_DUPLICATE_MARK 0xff00ff00

void tbase__identify_w(WSAPROTOCOL_INFOW *info, const WSAPROTOCOL_INFOW *entry)
{
    info->dwCatalogEntryId = entry->dwCatalogEntryId;
    info->ProviderId = entry->ProviderId;
    info->ProtocolChain = entry->ProtocolChain;
}

void tbase__identify_a(WSAPROTOCOL_INFOA *info, const WSAPROTOCOL_INFOW *entry)
{
    info->dwCatalogEntryId = entry->dwCatalogEntryId;
    info->ProviderId = entry->ProviderId;
    info->ProtocolChain = entry->ProtocolChain;
}

/* Registers the new Wine socket `s` with ws2_32 under entry->dwCatalogEntryId
 * and records it. On failure `s` is closed, `rec` freed and *lpErrno set:
 * the caller must never see a handle ws2_32 does not know. */
static SOCKET register_socket(SOCKET s, const WSAPROTOCOL_INFOW *entry,
                              struct tbase__sock *rec, LPINT lpErrno)
{
    LPWPUMODIFYIFSHANDLE modify = tbase__modify_ifs_handle();
    SOCKET registered;
    int err = 0;

    if (!modify) {
        err = WSANOTINITIALISED;
        goto fail;
    }
    registered = modify(entry->dwCatalogEntryId, s, &err);
    if (registered == INVALID_SOCKET) {
        if (!err)
            err = WSASYSCALLFAILURE;
        goto fail;
    }
    if (registered != s) {
        /* ws2_32 keeps an IFS handle as proposed; another value means the
         * upcall treated tbase like a non-IFS provider. Every later call
         * would reach Wine with a handle it does not know. */
        err = WSAEINVAL;
        goto fail;
    }
    tbase__sock_insert(rec, s, entry);
    return s;

fail:
    closesocket(s);
    tbase__sock_free(rec);
    *lpErrno = err;
    return INVALID_SOCKET;
}

/* FROM_PROTOCOL_INFO, and 0 for the wildcards ws2_32 passes, take the value
 * from the catalog entry (WSPSocket documentation). */
static int from_entry(int value, int entry_value)
{
    return (value == 0 || value == FROM_PROTOCOL_INFO) ? entry_value : value;
}

/***********************************************************************
 *      WSPSocket
 *
 * NOTES
 *  A WSAPROTOCOL_INFOW with dwProviderReserved != 0 comes from
 *  WSPDuplicateSocket (tbase's catalog entries have 0 there): the socket is
 *  then the duplicated handle, taken over through Wine's own duplicate path
 *  with the fields Wine looks at restored from dwProviderReserved, so that a
 *  layer above may have rewritten them.
 */
SOCKET WSPAPI WSPSocket(int af, int type, int protocol, LPWSAPROTOCOL_INFOW lpProtocolInfo,
                        GROUP g, DWORD dwFlags, LPINT lpErrno)
{
    WSAPROTOCOL_INFOW entry;
    struct tbase__sock *rec;
    SOCKET s;
    int err;

    TBASE__COUNT(WSPSocket);

    if (!lpProtocolInfo) {
        *lpErrno = WSAEFAULT;
        return INVALID_SOCKET;
    }
    if (!tbase__modify_ifs_handle()) {
        *lpErrno = WSANOTINITIALISED;
        return INVALID_SOCKET;
    }
    rec = tbase__sock_new();
    if (!rec) {
        *lpErrno = WSAENOBUFS;
        return INVALID_SOCKET;
    }

    entry = *lpProtocolInfo;
    if (lpProtocolInfo->dwProviderReserved != 0) {
        WSAPROTOCOL_INFOW wine_info = *lpProtocolInfo;

        wine_info.dwServiceFlags3 = (DWORD)lpProtocolInfo->dwProviderReserved;
        wine_info.dwServiceFlags4 = WINE_DUPLICATE_MARK;
        s = WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO,
                       &wine_info, g, dwFlags);
        /* What is recorded is the catalog entry, not the duplicate ticket. */
        entry.dwProviderReserved = 0;
        entry.dwServiceFlags3 = 0;
        entry.dwServiceFlags4 = 0;
    } else if (!from_entry(af, lpProtocolInfo->iAddressFamily)) {
        /* A family neither given nor in the information: no socket can be
         * made (Windows' base provider and Wine's WSASocketW with protocol
         * information both answer so). */
        tbase__sock_free(rec);
        *lpErrno = WSAEAFNOSUPPORT;
        return INVALID_SOCKET;
    } else {
        s = WSASocketW(from_entry(af, lpProtocolInfo->iAddressFamily),
                       from_entry(type, lpProtocolInfo->iSocketType),
                       from_entry(protocol, lpProtocolInfo->iProtocol), NULL, g, dwFlags);
    }
    if (s == INVALID_SOCKET) {
        err = tbase__wine_error(WSASYSCALLFAILURE);
        tbase__sock_free(rec);
        *lpErrno = err;
        return INVALID_SOCKET;
    }
    return register_socket(s, &entry, rec, lpErrno);
}

/***********************************************************************
 *      WSPAccept
 *
 * NOTES
 *  The accepted socket is registered under the catalog entry of the
 *  listening socket. A listening socket tbase has no record of did not come
 *  from tbase: WSAENOTSOCK, without accepting anything.
 */
SOCKET WSPAPI WSPAccept(SOCKET s, struct sockaddr *addr, LPINT addrlen,
                        LPCONDITIONPROC lpfnCondition, DWORD_PTR dwCallbackData, LPINT lpErrno)
{
    WSAPROTOCOL_INFOW entry;
    struct tbase__sock *rec;
    SOCKET accepted;
    int err;

    TBASE__COUNT(WSPAccept);

    if (!tbase__sock_find(s, &entry, NULL)) {
        *lpErrno = WSAENOTSOCK;
        return INVALID_SOCKET;
    }
    rec = tbase__sock_new();
    if (!rec) {
        *lpErrno = WSAENOBUFS;
        return INVALID_SOCKET;
    }
    /* The condition function and its data go to Wine unchanged; Wine calls
     * it with the caller and callee ids as WSAAccept documents. */
    accepted = WSAAccept(s, addr, addrlen, lpfnCondition, dwCallbackData);
    if (accepted == INVALID_SOCKET) {
        err = tbase__wine_error(WSASYSCALLFAILURE);
        tbase__sock_free(rec);
        *lpErrno = err;
        return INVALID_SOCKET;
    }
    return register_socket(accepted, &entry, rec, lpErrno);
}

/***********************************************************************
 *      WSPJoinLeaf
 *
 * NOTES
 *  A new handle (c_root or d_root joins) is registered like an accepted
 *  socket; when Wine hands back `s` itself nothing new exists. Wine 8's
 *  WSAJoinLeaf is a stub that fails without setting an error: that failure
 *  is reported as WSAEOPNOTSUPP.
 */
SOCKET WSPAPI WSPJoinLeaf(SOCKET s, const struct sockaddr *name, int namelen,
                          LPWSABUF lpCallerData, LPWSABUF lpCalleeData, LPQOS lpSQOS,
                          LPQOS lpGQOS, DWORD dwFlags, LPINT lpErrno)
{
    WSAPROTOCOL_INFOW entry;
    struct tbase__sock *rec;
    SOCKET joined;
    int err;

    TBASE__COUNT(WSPJoinLeaf);

    if (!tbase__sock_find(s, &entry, NULL)) {
        *lpErrno = WSAENOTSOCK;
        return INVALID_SOCKET;
    }
    rec = tbase__sock_new();
    if (!rec) {
        *lpErrno = WSAENOBUFS;
        return INVALID_SOCKET;
    }
    /* Cleared so that a stale code cannot pass for the stub's failure. */
    SetLastError(0);
    joined = WSAJoinLeaf(s, name, namelen, lpCallerData, lpCalleeData, lpSQOS, lpGQOS,
                         dwFlags);
    if (joined == INVALID_SOCKET) {
        err = tbase__wine_error(WSAEOPNOTSUPP);
        tbase__sock_free(rec);
        *lpErrno = err;
        return INVALID_SOCKET;
    }
    if (joined == s) {
        tbase__sock_free(rec);
        return s;
    }
    return register_socket(joined, &entry, rec, lpErrno);
}

/***********************************************************************
 *      WSPDuplicateSocket
 *
 * NOTES
 *  The result is Wine's duplicate information naming tbase's catalog entry
 *  (dwCatalogEntryId, ProviderId, ProtocolChain), with Wine's own fields kept
 *  and the duplicated handle also in dwProviderReserved, which is what
 *  WSPSocket in the target process looks for.
 */
int WSPAPI WSPDuplicateSocket(SOCKET s, DWORD dwProcessId, LPWSAPROTOCOL_INFOW lpProtocolInfo,
                              LPINT lpErrno)
{
    WSAPROTOCOL_INFOW entry;
    WSAPROTOCOL_INFOW info;

    TBASE__COUNT(WSPDuplicateSocket);

    if (!tbase__sock_find(s, &entry, NULL)) {
        *lpErrno = WSAENOTSOCK;
        return SOCKET_ERROR;
    }
    /* A missing structure goes to Wine as it is, so that its checks come
     * in Windows' order (Wine's sock.c test_WSADuplicateSocket): a process
     * that cannot be opened is WSAEINVAL before the structure's WSAEFAULT. */
    if (WSADuplicateSocketW(s, dwProcessId, lpProtocolInfo ? &info : NULL) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    if (info.dwServiceFlags4 != WINE_DUPLICATE_MARK) {
        /* A Wine whose duplicate format tbase does not know: the target
         * could not re-create the socket, so say so now instead. (A handle
         * Wine duplicated into the target stays there.) */
        *lpErrno = WSAEOPNOTSUPP;
        return SOCKET_ERROR;
    }
    if (info.dwServiceFlags3 == 0) {
        /* Wine does not check its DuplicateHandle into the target; no
         * handle arrived there (no PROCESS_DUP_HANDLE access, say). */
        *lpErrno = WSAEINVAL;
        return SOCKET_ERROR;
    }
    tbase__identify_w(&info, &entry);
    info.dwProviderReserved = info.dwServiceFlags3;
    *lpProtocolInfo = info;
    return 0;
}

/***********************************************************************
 *      WSPCloseSocket
 *
 * NOTES
 *  The record goes only when the close succeeded (a linger close of a
 *  non-blocking socket can fail with WSAEWOULDBLOCK and the handle stays
 *  valid), and only if no new socket has taken the handle value meanwhile.
 */
int WSPAPI WSPCloseSocket(SOCKET s, LPINT lpErrno)
{
    ULONG64 serial;
    BOOL known;

    TBASE__COUNT(WSPCloseSocket);

    known = tbase__sock_find(s, NULL, &serial);
    if (closesocket(s) == SOCKET_ERROR) {
        *lpErrno = tbase__wine_error(WSASYSCALLFAILURE);
        return SOCKET_ERROR;
    }
    if (known)
        tbase__sock_remove(s, serial);
    return 0;
}
