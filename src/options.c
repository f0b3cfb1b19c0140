/*
 * options.c - WSPGetSockOpt: SO_PROTOCOL_INFOW / SO_PROTOCOL_INFOA name
 * peerlsp's own chain entry.
 *
 * A program may re-create a socket from its protocol information
 * (WSASocket(FROM_PROTOCOL_INFO, ..., &info)): ws2_32 routes that to the
 * catalog entry the information names. The lower provider reports its own
 * entry, which would land the new socket on it and bypass peerlsp from
 * then on; peerlsp reports its chain entry instead, as Microsoft's LSP
 * sample does. Every other option, and every error, is the lower
 * provider's.
 */
#include <stddef.h>
#include <string.h>

#include "internal.h"

_Static_assert(offsetof(WSAPROTOCOL_INFOA, szProtocol) ==
                   offsetof(WSAPROTOCOL_INFOW, szProtocol),
               "the A and W protocol infos differ only in szProtocol");

static void info_to_ansi(const WSAPROTOCOL_INFOW *w, WSAPROTOCOL_INFOA *a)
{
    memcpy(a, w, offsetof(WSAPROTOCOL_INFOW, szProtocol));
    memset(a->szProtocol, 0, sizeof a->szProtocol);
    if (!WideCharToMultiByte(CP_ACP, 0, w->szProtocol, -1, a->szProtocol,
                             (int)sizeof a->szProtocol, NULL, NULL))
        a->szProtocol[0] = 0;
    a->szProtocol[sizeof a->szProtocol - 1] = 0;
}

/***********************************************************************
 *              WSPGetSockOpt  (peerlsp, through the proc table)
 *
 * NOTES
 *  The lower provider answers first, so its checks of the caller's buffer
 *  and its codes (WSAEFAULT for a short one) are what the caller sees; a
 *  successful SO_PROTOCOL_INFO answer is then replaced by peerlsp's chain
 *  entry, within the size the lower provider just accepted. A handle
 *  without a record (see docs/architecture.md) keeps the lower answer.
 */
int WSPAPI plsp_WSPGetSockOpt(SOCKET s, int level, int name, char *val, LPINT len,
                              LPINT lpErrno)
{
    struct plsp_conn rec;
    int found;
    struct plsp_lower *lower = plsp_socket_lower(s, &rec, &found, lpErrno);
    if (!lower)
        return SOCKET_ERROR;
    int ret = lower->procs.lpWSPGetSockOpt(s, level, name, val, len, lpErrno);
    if (ret != 0 || !found || level != SOL_SOCKET || !val || !len)
        return ret;
    /* Only the contents change: the length stays as the lower provider
     * left it (a larger buffer keeps its length, as on Windows: Wine's
     * sock.c test_getsockopt). */
    const WSAPROTOCOL_INFOW *own = &plsp_chain_of(&rec)->own_info;
    if (name == SO_PROTOCOL_INFOW && *len >= (int)sizeof(WSAPROTOCOL_INFOW)) {
        memcpy(val, own, sizeof *own);
    } else if (name == SO_PROTOCOL_INFOA && *len >= (int)sizeof(WSAPROTOCOL_INFOA)) {
        WSAPROTOCOL_INFOA a;
        info_to_ansi(own, &a);
        memcpy(val, &a, sizeof a);
    }
    return ret;
}
