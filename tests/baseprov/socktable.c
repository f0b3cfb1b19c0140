/*
 * socktable.c - per-process record of which catalog entry each socket was
 * created for.
 *
 * A small chained hash table keyed by handle value under one SRW lock. The
 * lock is never held across a call into Wine or into the test host, so a
 * blocking accept or linger close on one thread cannot stall the others.
 * SRWLOCK_INIT needs no initialisation call, which keeps DllMain empty.
 */
#include <stdlib.h>

#include "internal.h"

/* Prime, so that handle values (multiples of 4 under Wine) spread out. */
#define BUCKET_COUNT 251

struct tbase__sock {
    struct tbase__sock *next;
    SOCKET s;
    ULONG64 serial;
    WSAPROTOCOL_INFOW entry;
};

static SRWLOCK table_lock = SRWLOCK_INIT;
static struct tbase__sock *buckets[BUCKET_COUNT];
static ULONG64 next_serial = 1;
static volatile LONG record_count;

static struct tbase__sock **bucket_of(SOCKET s)
{
    return &buckets[(s >> 2) % BUCKET_COUNT];
}

/* Finds the link that points at the record for `s`, or at the NULL that
 * ends its chain. Called with table_lock held. */
static struct tbase__sock **link_of(SOCKET s)
{
    struct tbase__sock **link = bucket_of(s);

    while (*link && (*link)->s != s)
        link = &(*link)->next;
    return link;
}

struct tbase__sock *tbase__sock_new(void)
{
    return calloc(1, sizeof(struct tbase__sock));
}

void tbase__sock_free(struct tbase__sock *rec)
{
    free(rec);
}

void tbase__sock_insert(struct tbase__sock *rec, SOCKET s, const WSAPROTOCOL_INFOW *entry)
{
    struct tbase__sock **link;
    struct tbase__sock *old;

    rec->s = s;
    rec->entry = *entry;

    AcquireSRWLockExclusive(&table_lock);
    rec->serial = next_serial++;
    link = link_of(s);
    old = *link;
    if (old) {
        rec->next = old->next;
    } else {
        rec->next = NULL;
        InterlockedIncrement(&record_count);
    }
    *link = rec;
    ReleaseSRWLockExclusive(&table_lock);

    free(old);
}

BOOL tbase__sock_find(SOCKET s, WSAPROTOCOL_INFOW *entry, ULONG64 *serial)
{
    struct tbase__sock *rec;

    AcquireSRWLockShared(&table_lock);
    rec = *link_of(s);
    if (rec) {
        if (entry)
            *entry = rec->entry;
        if (serial)
            *serial = rec->serial;
    }
    ReleaseSRWLockShared(&table_lock);
    return rec != NULL;
}

void tbase__sock_remove(SOCKET s, ULONG64 serial)
{
    struct tbase__sock **link;
    struct tbase__sock *rec = NULL;

    AcquireSRWLockExclusive(&table_lock);
    link = link_of(s);
    if (*link && (*link)->serial == serial) {
        rec = *link;
        *link = rec->next;
        InterlockedDecrement(&record_count);
    }
    ReleaseSRWLockExclusive(&table_lock);

    free(rec);
}

SOCKET tbase__sock_pop(void)
{
    struct tbase__sock *rec = NULL;
    SOCKET s = INVALID_SOCKET;
    size_t i;

    AcquireSRWLockExclusive(&table_lock);
    for (i = 0; i < BUCKET_COUNT && !rec; i++) {
        rec = buckets[i];
        if (rec) {
            buckets[i] = rec->next;
            InterlockedDecrement(&record_count);
        }
    }
    ReleaseSRWLockExclusive(&table_lock);

    if (rec) {
        s = rec->s;
        free(rec);
    }
    return s;
}

LONG tbase__sock_count(void)
{
    return InterlockedCompareExchange(&record_count, 0, 0);
}
