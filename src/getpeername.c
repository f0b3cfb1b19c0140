/*
 * getpeername.c - WSPGetPeerName, answered from the connection table.
 */
#include <string.h>

#include "internal.h"

#include <ws2tcpip.h>

/* The table keeps only the two families whose sizes it knows; any other
 * answer is left to the lower provider every time. */
static int peer_is_cacheable(const struct sockaddr *name, int len)
{
    if (len == (int)sizeof(struct sockaddr_in))
        return name->sa_family == AF_INET;
    if (len == (int)sizeof(struct sockaddr_in6))
        return name->sa_family == AF_INET6;
    return 0;
}

/* The table records peers of these two sizes only (peer_is_cacheable); a
 * record of any other size is treated as unknown. */
static int is_recorded_size(size_t len)
{
    return len == sizeof(struct sockaddr_in) || len == sizeof(struct sockaddr_in6);
}

/* Copies a recorded peer (is_recorded_size) in moves of a size known at
 * compile time.  A memcpy of a length known only at run time compiles to
 * rep movsq here, whose start-up cost more than the whole table lookup
 * (measured: 40 ns per getpeername against 9). */
static void copy_peer(void *name, const uint8_t *peer, size_t len)
{
    if (len == sizeof(struct sockaddr_in6))
        memcpy(name, peer, sizeof(struct sockaddr_in6));
    else
        memcpy(name, peer, sizeof(struct sockaddr_in));
}

/* Asks below and caches a successful answer over the record read as gen.
 * buffer_len is what the caller's buffer holds: nothing past it is read. */
static int peer_fetch(struct plsp_lower *lower, SOCKET s, plsp_gen gen, struct sockaddr *name,
                      LPINT namelen, LPINT lpErrno)
{
    int buffer_len = namelen ? *namelen : 0;
    int ret = lower->procs.lpWSPGetPeerName(s, name, namelen, lpErrno);
    if (ret == 0 && name && namelen && *namelen <= buffer_len &&
        peer_is_cacheable(name, *namelen) && !plsp_socket_is_shared(s))
        plsp_ctab_set_peer(plsp_g.table, (uint64_t)s, gen, name, (size_t)*namelen);
    return ret;
}

void plsp_peer_refresh(struct plsp_lower *lower, SOCKET s, plsp_gen gen)
{
    SOCKADDR_STORAGE peer;
    int len = (int)sizeof peer, err = 0;

    /* Another handle of the same socket may change its peer behind
     * peerlsp's back: such a socket is always asked below. */
    if (plsp_socket_is_shared(s)) {
        plsp_ctab_mark_volatile(plsp_g.table, (uint64_t)s);
        return;
    }
    if (lower->procs.lpWSPGetPeerName(s, (struct sockaddr *)&peer, &len, &err) == 0 &&
        len <= (int)sizeof peer && peer_is_cacheable((struct sockaddr *)&peer, len)) {
        if (plsp_ctab_set_peer(plsp_g.table, (uint64_t)s, gen, &peer, (size_t)len)) {
            /* A duplication racing with this connect marks the socket
             * shared before it marks the record: checked again after the
             * write, one of the two marks comes last. */
            if (plsp_socket_is_shared(s))
                plsp_ctab_mark_volatile(plsp_g.table, (uint64_t)s);
            return;
        }
        /* Refused: the record changed since gen (a shutdown, a disconnect,
         * another connect, a close and a new socket on the value).  That
         * newer write may itself be a connect that read its peer before
         * this one connected and is recording it now: VOLATILE, so that
         * no answer read before this point is recorded after it
         * (test_threads_race_same_handles). */
        plsp_ctab_mark_volatile(plsp_g.table, (uint64_t)s);
        return;
    }
    plsp_peer_end_change(s, gen);
}

void plsp_peer_end_change(SOCKET s, plsp_gen gen)
{
    if (!plsp_ctab_set_state(plsp_g.table, (uint64_t)s, PLSP_PEER_UNKNOWN, gen, NULL))
        plsp_ctab_mark_volatile(plsp_g.table, (uint64_t)s);
}

int plsp_peer_begin_change(SOCKET s, plsp_gen *gen)
{
    return plsp_ctab_set_state(plsp_g.table, (uint64_t)s, PLSP_PEER_VOLATILE, PLSP_ANY_GEN, gen);
}

/***********************************************************************
 *              WSPGetPeerName  (peerlsp, through the proc table)
 *
 * RETURNS
 *  0 with the peer in name and its size in *namelen, or SOCKET_ERROR with
 *  *lpErrno: WSAEFAULT for a NULL name or namelen or a *namelen smaller than
 *  the address; from below, whatever the lower provider says (WSAENOTCONN
 *  for an unconnected socket ...).
 *
 * NOTES
 *  Only a peer recorded from the lower provider's own answer is returned
 *  from the table; every other case asks below, and a successful answer is
 *  recorded, so the table never claims less than the lower provider knows.
 */
int WSPAPI plsp_WSPGetPeerName(SOCKET s, struct sockaddr *name, LPINT namelen, LPINT lpErrno)
{
    struct plsp_conn rec;

    if (plsp_ctab_lookup(plsp_g.table, (uint64_t)s, &rec)) {
        if (rec.state == PLSP_PEER_KNOWN && is_recorded_size(rec.peer_len)) {
            if (!name || !namelen || *namelen < (int)rec.peer_len) {
                *lpErrno = WSAEFAULT;
                return SOCKET_ERROR;
            }
            copy_peer(name, rec.peer, rec.peer_len);
            *namelen = rec.peer_len;
            return 0;
        }
        struct plsp_lower *lower = plsp_chain_of(&rec)->lower;
        if (rec.state == PLSP_PEER_VOLATILE)
            return lower->procs.lpWSPGetPeerName(s, name, namelen, lpErrno);
        return peer_fetch(lower, s, rec.gen, name, namelen, lpErrno);
    }
    /* No record: the owner answers, nothing is recorded. */
    int found;
    struct plsp_lower *lower = plsp_socket_lower(s, &rec, &found, lpErrno);
    return lower ? lower->procs.lpWSPGetPeerName(s, name, namelen, lpErrno) : SOCKET_ERROR;
}
