/*
 * options.c - WSPSetSockOpt and WSPGetSockOpt: the two options that finish
 * ConnectEx and AcceptEx, and the little a caller may ask about a socket.
 */
#include <string.h>

#include "internal.h"

/***********************************************************************
 *      WSPSetSockOpt
 *
 * NOTES
 *  SO_UPDATE_CONNECT_CONTEXT: WSAENOTCONN unless the socket is connected;
 *  from then on getpeername reports the peer. SO_UPDATE_ACCEPT_CONTEXT: the
 *  value is the listening socket (WSAEFAULT when shorter than a SOCKET,
 *  WSAEINVAL when it is not a listening simprov socket). Every other option
 *  is WSAENOPROTOOPT.
 */
int WSPAPI sim_WSPSetSockOpt(SOCKET s, int level, int name, const char *val, int len,
                             LPINT lpErrno)
{
    int err = 0;
    SIM_ENTER(WSPSetSockOpt, SOCKET_ERROR);
    sim_lock();
    struct sim_sock *rec = sim_find(s);
    if (!rec) {
        err = WSAENOTSOCK;
    } else if (level == SOL_SOCKET && name == SO_UPDATE_CONNECT_CONTEXT) {
        if (!rec->connected)
            err = WSAENOTCONN;
        else
            rec->context = SIM_CONTEXT_NONE;
    } else if (level == SOL_SOCKET && name == SO_UPDATE_ACCEPT_CONTEXT) {
        SOCKET ls;
        struct sim_sock *l = NULL;
        if (!val || len < (int)sizeof ls) {
            err = WSAEFAULT;
        } else {
            memcpy(&ls, val, sizeof ls);
            l = sim_find(ls);
            if (!l || !l->listening)
                err = WSAEINVAL;
            else if (!rec->connected)
                err = WSAENOTCONN;
            else
                rec->context = SIM_CONTEXT_NONE;
        }
    } else {
        err = WSAENOPROTOOPT;
    }
    sim_unlock();
    if (err) {
        *lpErrno = err;
        return SOCKET_ERROR;
    }
    return 0;
}

/***********************************************************************
 *      WSPGetSockOpt
 *
 * NOTES
 *  SO_TYPE and SO_ERROR (always 0: nothing fails asynchronously); every
 *  other option is WSAENOPROTOOPT.
 */
int WSPAPI sim_WSPGetSockOpt(SOCKET s, int level, int name, char *val, LPINT len,
                             LPINT lpErrno)
{
    int err = 0, value = 0;
    SIM_ENTER(WSPGetSockOpt, SOCKET_ERROR);
    sim_lock();
    struct sim_sock *rec = sim_find(s);
    if (!rec)
        err = WSAENOTSOCK;
    else if (level != SOL_SOCKET || (name != SO_TYPE && name != SO_ERROR))
        err = WSAENOPROTOOPT;
    else if (!val || !len || *len < (int)sizeof value)
        err = WSAEFAULT;
    else
        value = name == SO_TYPE ? rec->type : 0;
    sim_unlock();
    if (err) {
        *lpErrno = err;
        return SOCKET_ERROR;
    }
    memcpy(val, &value, sizeof value);
    *len = sizeof value;
    return 0;
}
