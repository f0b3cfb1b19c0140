/*
 * host_handles.c - which catalog entry each handle is bound to.
 *
 * Every routed call looks its handle up here, from any number of threads,
 * so the read path takes no lock and writes nothing shared: an
 * open-addressed table whose slots are read with acquire loads.
 *
 *  - A slot's key is written once (0 -> handle value, release) and never
 *    changes while the table is published; unbinding only clears the entry
 *    pointer. A reader that finds its key therefore reads that handle's
 *    binding, never another handle's, and a probe ends at the first empty
 *    key.
 *  - Writers are serialised by an SRW lock. When keys fill half the table,
 *    a writer copies the live bindings into a larger table and publishes it
 *    with a release store. The old table stays allocated (readers may still
 *    be probing it) until the last cleanup, when no call is in flight.
 *  - Handle values are kernel handles (multiples of 4); the hash is a
 *    Fibonacci multiply of the value without its two low bits.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "host_internal.h"

struct host_slot {
    _Atomic(uintptr_t) key;
    _Atomic(struct host_entry *) entry;
    _Atomic(struct host_entry *) created;
    _Atomic(uintptr_t) context;
    atomic_int wpu;
    unsigned long gen; /* bind generation; read and written under the lock only */
};

struct host_table {
    size_t mask;              /* capacity - 1, capacity a power of two */
    size_t used;              /* slots with a key */
    struct host_table *older; /* retired tables, freed by host_bindings_reset */
    struct host_slot slots[];
};

#define HOST_TABLE_MIN 1024

static _Atomic(struct host_table *) table;
static SRWLOCK table_lock = SRWLOCK_INIT;
static unsigned long generation; /* under table_lock; wraps harmlessly */

static size_t slot_hash(uintptr_t key)
{
    uint64_t h = (uint64_t)(key >> 2) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32);
}

static struct host_slot *table_find(struct host_table *t, uintptr_t key)
{
    for (size_t i = slot_hash(key) & t->mask;; i = (i + 1) & t->mask) {
        uintptr_t k = atomic_load_explicit(&t->slots[i].key, memory_order_acquire);
        if (k == key)
            return &t->slots[i];
        if (k == 0)
            return NULL;
    }
}

static struct host_slot *lookup(SOCKET s)
{
    struct host_table *t = atomic_load_explicit(&table, memory_order_acquire);
    if (!t || s == 0 || s == INVALID_SOCKET)
        return NULL;
    return table_find(t, (uintptr_t)s);
}

struct host_entry *host_binding_entry(SOCKET s)
{
    struct host_slot *slot = lookup(s);
    return slot ? atomic_load_explicit(&slot->entry, memory_order_acquire) : NULL;
}

int host_binding_get(SOCKET s, struct host_binding *out)
{
    struct host_slot *slot = lookup(s);
    if (!slot)
        return 0;
    out->entry = atomic_load_explicit(&slot->entry, memory_order_acquire);
    if (!out->entry)
        return 0;
    out->created = atomic_load_explicit(&slot->created, memory_order_acquire);
    out->context = atomic_load_explicit(&slot->context, memory_order_acquire);
    out->wpu = atomic_load_explicit(&slot->wpu, memory_order_acquire);
    return 1;
}

/* ---- writers (table_lock held) ---------------------------------------- */

static struct host_table *table_alloc(size_t capacity)
{
    struct host_table *t = calloc(1, sizeof *t + capacity * sizeof(struct host_slot));
    if (t)
        t->mask = capacity - 1;
    return t;
}

/* Places a slot's contents in an unpublished table (no readers yet). */
static void table_place(struct host_table *t, uintptr_t key, const struct host_slot *from)
{
    size_t i = slot_hash(key) & t->mask;
    while (atomic_load_explicit(&t->slots[i].key, memory_order_relaxed))
        i = (i + 1) & t->mask;
    struct host_slot *to = &t->slots[i];
    atomic_store_explicit(&to->entry, atomic_load_explicit(&from->entry, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&to->created,
                          atomic_load_explicit(&from->created, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&to->context,
                          atomic_load_explicit(&from->context, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&to->wpu, atomic_load_explicit(&from->wpu, memory_order_relaxed),
                          memory_order_relaxed);
    to->gen = from->gen;
    atomic_store_explicit(&to->key, key, memory_order_relaxed);
    t->used++;
}

/* Makes room for one more key: a new, larger table holding only the live
 * bindings when half the slots have keys. */
static struct host_table *table_room(void)
{
    struct host_table *t = atomic_load_explicit(&table, memory_order_relaxed);
    if (t && (t->used + 1) * 2 <= t->mask + 1)
        return t;

    size_t live = 0;
    if (t) {
        for (size_t i = 0; i <= t->mask; i++)
            live += atomic_load_explicit(&t->slots[i].entry, memory_order_relaxed) != NULL;
    }
    size_t capacity = HOST_TABLE_MIN;
    while (capacity < (live + 1) * 4)
        capacity *= 2;
    struct host_table *n = table_alloc(capacity);
    if (!n)
        return NULL;
    if (t) {
        for (size_t i = 0; i <= t->mask; i++) {
            if (atomic_load_explicit(&t->slots[i].entry, memory_order_relaxed))
                table_place(n, atomic_load_explicit(&t->slots[i].key, memory_order_relaxed),
                            &t->slots[i]);
        }
    }
    n->older = t;
    /* Everything written above is visible to a reader that sees n. */
    atomic_store_explicit(&table, n, memory_order_release);
    return n;
}

/* The slot for s, creating it (key published last) if needed. */
static struct host_slot *slot_for(SOCKET s)
{
    uintptr_t key = (uintptr_t)s;
    struct host_table *t = atomic_load_explicit(&table, memory_order_relaxed);
    struct host_slot *slot = t ? table_find(t, key) : NULL;
    if (slot)
        return slot;
    if (!(t = table_room()))
        return NULL;
    size_t i = slot_hash(key) & t->mask;
    while (atomic_load_explicit(&t->slots[i].key, memory_order_relaxed))
        i = (i + 1) & t->mask;
    slot = &t->slots[i];
    /* A fresh slot's fields are zero: a reader that sees the key before the
     * caller stores the entry finds the handle unbound, as it was. */
    atomic_store_explicit(&slot->key, key, memory_order_release);
    t->used++;
    return slot;
}

static void entry_count(struct host_entry *old, struct host_entry *now)
{
    if (old == now)
        return;
    if (old)
        atomic_fetch_sub_explicit(&old->handles, 1, memory_order_relaxed);
    if (now)
        atomic_fetch_add_explicit(&now->handles, 1, memory_order_relaxed);
}

static void slot_bind(struct host_slot *slot, struct host_entry *e, int wpu, uintptr_t context)
{
    struct host_entry *old = atomic_load_explicit(&slot->entry, memory_order_relaxed);
    atomic_store_explicit(&slot->wpu, wpu, memory_order_relaxed);
    atomic_store_explicit(&slot->context, context, memory_order_relaxed);
    if (!old)
        atomic_store_explicit(&slot->created, NULL, memory_order_relaxed);
    slot->gen = ++generation;
    entry_count(old, e);
    atomic_store_explicit(&slot->entry, e, memory_order_release);
}

int host_binding_set(SOCKET s, struct host_entry *e, int wpu, uintptr_t context)
{
    if (s == 0 || s == INVALID_SOCKET || !e)
        return WSAEINVAL;
    AcquireSRWLockExclusive(&table_lock);
    struct host_slot *slot = slot_for(s);
    if (slot)
        slot_bind(slot, e, wpu, context);
    ReleaseSRWLockExclusive(&table_lock);
    return slot ? 0 : WSAENOBUFS;
}

int host_binding_adopt(SOCKET s, unsigned long since, struct host_entry *fallback,
                       struct host_entry *created)
{
    if (s == 0 || s == INVALID_SOCKET)
        return WSAEINVAL;
    AcquireSRWLockExclusive(&table_lock);
    struct host_slot *slot = slot_for(s);
    if (slot) {
        /* Any new socket on a handle value replaces what was recorded for
         * that value: a provider that registered nothing during this call
         * gets its handle bound to the entry the call went to. "During
         * this call" is a bind generation after `since` (modulo wrap). */
        int registered = atomic_load_explicit(&slot->entry, memory_order_relaxed) &&
                         slot->gen - since - 1 < ULONG_MAX / 2;
        if (!registered)
            slot_bind(slot, fallback, 0, 0);
        atomic_store_explicit(&slot->created, created, memory_order_release);
    }
    ReleaseSRWLockExclusive(&table_lock);
    return slot ? 0 : WSAENOBUFS;
}

unsigned long host_binding_gen(SOCKET s)
{
    AcquireSRWLockShared(&table_lock);
    struct host_slot *slot = lookup(s);
    unsigned long g = slot ? slot->gen : 0;
    ReleaseSRWLockShared(&table_lock);
    return g;
}

void host_binding_clear(SOCKET s)
{
    host_binding_clear_if(s, 0);
}

void host_binding_clear_if(SOCKET s, unsigned long gen)
{
    AcquireSRWLockExclusive(&table_lock);
    struct host_slot *slot = lookup(s);
    /* A handle value is free for reuse the moment the provider closed it:
     * another thread's new socket may already have bound it again, and
     * that binding must stay (gen 0: clear whatever is there). */
    if (slot && (gen == 0 || slot->gen == gen)) {
        entry_count(atomic_load_explicit(&slot->entry, memory_order_relaxed), NULL);
        atomic_store_explicit(&slot->entry, NULL, memory_order_release);
        atomic_store_explicit(&slot->created, NULL, memory_order_relaxed);
        atomic_store_explicit(&slot->wpu, 0, memory_order_relaxed);
        atomic_store_explicit(&slot->context, 0, memory_order_relaxed);
    }
    ReleaseSRWLockExclusive(&table_lock);
}

unsigned long host_binding_generation(void)
{
    AcquireSRWLockShared(&table_lock);
    unsigned long g = generation;
    ReleaseSRWLockShared(&table_lock);
    return g;
}

void host_bindings_reset(void)
{
    AcquireSRWLockExclusive(&table_lock);
    struct host_table *t = atomic_exchange_explicit(&table, NULL, memory_order_acq_rel);
    while (t) {
        struct host_table *older = t->older;
        free(t);
        t = older;
    }
    ReleaseSRWLockExclusive(&table_lock);
}
