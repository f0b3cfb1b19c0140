/*
 * socktable.c - simprov's sockets: a fixed table of records under one lock,
 * keyed by the event handle that is the socket.
 */
#include <string.h>

#include "internal.h"

#define SIM_MAX_SOCKETS 256

static SRWLOCK table_lock = SRWLOCK_INIT;
static struct sim_sock table[SIM_MAX_SOCKETS];
static LONG open_count;

void sim_lock(void)
{
    AcquireSRWLockExclusive(&table_lock);
}

void sim_unlock(void)
{
    ReleaseSRWLockExclusive(&table_lock);
}

struct sim_sock *sim_find(SOCKET s)
{
    if (s == 0 || s == INVALID_SOCKET)
        return NULL;
    for (size_t i = 0; i < SIM_MAX_SOCKETS; i++) {
        if (table[i].h == s)
            return &table[i];
    }
    return NULL;
}

struct sim_sock *sim_find_listener(const struct sockaddr *addr, int len)
{
    for (size_t i = 0; i < SIM_MAX_SOCKETS; i++) {
        struct sim_sock *r = &table[i];
        if (r->h && r->listening && r->local_len == len && !memcmp(&r->local, addr, (size_t)len))
            return r;
    }
    return NULL;
}

SOCKET sim_sock_create(DWORD entry_id, int af, int type, int protocol, int *err)
{
    LPWPUMODIFYIFSHANDLE modify = sim_modify_ifs_handle();
    if (!modify) {
        *err = WSANOTINITIALISED;
        return INVALID_SOCKET;
    }
    /* A real kernel handle: no Wine socket can have this value while it is
     * open, and the system reuses the value after a close, as for sockets. */
    HANDLE ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!ev) {
        *err = WSAENOBUFS;
        return INVALID_SOCKET;
    }
    SOCKET s = (SOCKET)ev;
    struct sim_sock *rec = NULL;
    sim_lock();
    for (size_t i = 0; i < SIM_MAX_SOCKETS && !rec; i++) {
        if (!table[i].h)
            rec = &table[i];
    }
    if (rec) {
        memset(rec, 0, sizeof *rec);
        rec->h = s;
        rec->entry_id = entry_id;
        rec->af = af;
        rec->type = type;
        rec->protocol = protocol;
        open_count++;
    }
    sim_unlock();
    if (!rec) {
        CloseHandle(ev);
        *err = WSAEMFILE;
        return INVALID_SOCKET;
    }
    int upcall_err = 0;
    SOCKET bound = modify(entry_id, s, &upcall_err);
    if (bound != s) {
        sim_lock();
        sim_sock_destroy(rec);
        sim_unlock();
        *err = upcall_err ? upcall_err : WSAEINVAL;
        return INVALID_SOCKET;
    }
    return s;
}

void sim_sock_destroy(struct sim_sock *rec)
{
    CloseHandle((HANDLE)rec->h);
    memset(rec, 0, sizeof *rec);
    open_count--;
}

void sim_sock_destroy_all(void)
{
    sim_lock();
    for (size_t i = 0; i < SIM_MAX_SOCKETS; i++) {
        if (table[i].h)
            sim_sock_destroy(&table[i]);
    }
    sim_unlock();
}

LONG sim_sock_count(void)
{
    sim_lock();
    LONG n = open_count;
    sim_unlock();
    return n;
}
