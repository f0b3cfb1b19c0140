/*
 * conntable.c - the connection table: socket handle -> peer record.
 *
 * Readers never lock, and write nothing but their thread's reader slot,
 * with plain stores (reclamation, below), because getpeername is called
 * from every application thread and must not serialise them.  The scheme is a
 * table-wide sequence count (a seqlock):
 *
 *   writer: lock; seq = odd; change words; seq = even; unlock
 *   reader: s = seq (must be even); find and copy the record; retry if seq
 *           is no longer s
 *
 * Every word a reader can touch while a writer changes it is a C11 atomic
 * (32-bit, pointer-sized, or a record cell: 64-bit on 64-bit targets, 32-bit
 * on i686, where 64-bit atomics would pull in libatomic), read and written
 * relaxed, so a racing copy is not a data race, only a value the sequence
 * check throws away.
 *
 * Memory (1,000,000 AF_INET6 entries must fit in 64 bytes each, every
 * allocation counted):
 *   - records: 48 bytes (key and struct plsp_conn) in chunks of
 *     CHUNK_RECORDS, each chunk ending in its records' births.  Freed
 *     records go on a free list; a chunk is not freed on its own (a reader
 *     holding a stale record id may still read it) but with the whole
 *     layout when the table shrinks (below).
 *   - a chunk directory (pointers) that doubles; an old one is retired.
 *   - the index: open addressing with linear probing over uint32 slots
 *     (0 = empty, else a record id; id 0 is never handed out, which saves
 *     the lookup a subtraction), at most half full, doubled before an
 *     insert would pass that, deleted from by backward shift (no
 *     tombstones).  An old index is retired, not freed at once, as a
 *     reader may still be probing it.
 *   - shrinking: when a removal leaves the index at most 1/8 full, the
 *     writer builds a new layout sized for what is left (index at most 1/4
 *     full, records packed into new chunks, a new directory), publishes it
 *     inside a write bracket and retires the whole old one.
 *
 * Giving retired blocks back (see "reclamation" below): each thread that
 * looks up takes a reader slot (READER_SLOTS, each on its own cache line,
 * found from the thread's identity, given back when the thread ends) and
 * stores in it, with plain stores, the table-wide epoch while it reads the
 * table and 0 after.  A writer bumps the epoch after unpublishing blocks
 * and makes every thread of the process drain its pending stores (a
 * process-wide barrier, ctab_barrier); it frees the blocks once no slot
 * holds an older epoch.  The lookup thus pays no locked instruction; the
 * writer pays the barrier, once per batch of retired blocks (growths and
 * shrinks, not ordinary writes).  A lookup that finds no slot (all taken,
 * or the OS refused what slots need) counts itself in one of
 * 2 x READER_STRIPES counters instead (the stripe chosen by the thread's
 * stack address; the pair by the epoch's parity): a block is freed only
 * once, after it was unpublished, each parity's counters were seen all
 * zero; bumping the epoch makes new readers use the other parity, so the
 * old one drains.  Writers never wait for readers: what cannot be freed
 * yet is tried again at the next write; plsp_ctab_destroy() frees the rest.
 */
#include "conntable.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

/* Allocation hook.  The shipped DLL uses malloc/free; a test build defines
 * both macros on the compiler command line, as names of its own functions,
 * to count bytes and inject failures.  There is no run-time switch. */
#ifndef PLSP_CTAB_MALLOC
#define PLSP_CTAB_MALLOC(size) malloc(size)
#define PLSP_CTAB_FREE(ptr) free(ptr)
#else
void *PLSP_CTAB_MALLOC(size_t size);
void PLSP_CTAB_FREE(void *ptr);
#endif

/* Race widening.  A test build defines PLSP_CTAB_RACE_POINT (as the name of
 * a function) to stall now and then at the points below, between a
 * writer's stores and between a reader's loads, so that its thread tests
 * hit those windows; elsewhere it is nothing. */
#ifndef PLSP_CTAB_RACE_POINT
#define PLSP_CTAB_RACE_POINT() ((void)0)
#else
void PLSP_CTAB_RACE_POINT(void);
#endif

/* Page protection for the barrier (ctab_barrier).  A test build defines
 * PLSP_CTAB_PAGE_PROTECT as the name of its own function (same arguments
 * and result as page_protect below), which changes the protection as the
 * OS does or fails when told to, so that its tests see what a failed
 * barrier leaves; elsewhere it is page_protect. */
#ifndef PLSP_CTAB_PAGE_PROTECT
#define CTAB_PAGE_PROTECT page_protect
#else
int PLSP_CTAB_PAGE_PROTECT(void *page, size_t size, int writable);
#define CTAB_PAGE_PROTECT PLSP_CTAB_PAGE_PROTECT
#endif

/* The first gen handed out.  Test builds start 256 writes below 2^32, so
 * that every test run carries into the gen's high word and wraps the
 * 32-bit birth (see same_instance). */
#ifndef PLSP_CTAB_FIRST_GEN
#define PLSP_CTAB_FIRST_GEN 1u
#endif

#if ATOMIC_INT_LOCK_FREE != 2 || ATOMIC_POINTER_LOCK_FREE != 2
#error "conntable.c needs lock-free 32-bit and pointer atomics"
#endif

/* CTAB_COLD keeps the rarely taken retry path out of the lookup's code;
 * CTAB_INLINE puts the lookup's body into the hot path although the retry
 * path uses it too. */
#if defined(__GNUC__)
#define CTAB_COLD __attribute__((noinline, cold))
#define CTAB_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define CTAB_COLD __declspec(noinline)
#define CTAB_INLINE __forceinline
#else
#define CTAB_COLD
#define CTAB_INLINE inline
#endif

/* ---- records ------------------------------------------------------------ */

/* An index slot. */
typedef _Atomic uint32_t ctab_word;

/* A record is 48 bytes, the key (8) and struct plsp_conn (40) byte for
 * byte, read and written in cells: 64-bit atomics on 64-bit targets (a
 * lookup copies the record in five loads), 32-bit ones elsewhere (64-bit
 * atomics would call libatomic on i686). */
#if UINTPTR_MAX > 0xFFFFFFFFu && ATOMIC_LLONG_LOCK_FREE == 2
typedef uint64_t ctab_cell_bits;
#else
typedef uint32_t ctab_cell_bits;
#endif
typedef _Atomic ctab_cell_bits ctab_cell;

#define CELL_BYTES sizeof(ctab_cell_bits)
#define KEY_CELLS (sizeof(uint64_t) / CELL_BYTES)
#define CONN_CELLS (sizeof(struct plsp_conn) / CELL_BYTES)
#define REC_CELLS (KEY_CELLS + CONN_CELLS)
#define REC_CONN KEY_CELLS      /* the first cell of struct plsp_conn */
#define REC_NEXT_FREE REC_CONN  /* a freed record's list link */

_Static_assert(sizeof(struct plsp_conn) == 40, "struct plsp_conn must be 40 bytes");
_Static_assert(offsetof(struct plsp_conn, gen) == 0, "gen comes first");
_Static_assert(offsetof(struct plsp_conn, peer) == 12, "peer follows the gen and 4 tag bytes");
_Static_assert(sizeof(ctab_word) == sizeof(uint32_t), "an atomic word is a plain word");
_Static_assert(sizeof(ctab_cell) == sizeof(ctab_cell_bits), "an atomic cell is a plain cell");

/* A chunk: CHUNK_RECORDS records, then as many births: the low 32 bits of
 * the gen of the insert that made each record's socket instance, what
 * remove_if compares (same_instance).  Births are the writers' alone
 * (plain words, under the lock); lookups never read them, so they stay out
 * of the records, which keeps a record's cells aligned. */
#define CHUNK_SHIFT 8u
#define CHUNK_RECORDS (1u << CHUNK_SHIFT)
#define CHUNK_MASK (CHUNK_RECORDS - 1u)
#define CHUNK_RECORD_BYTES ((size_t)CHUNK_RECORDS * REC_CELLS * CELL_BYTES)
#define CHUNK_BYTES (CHUNK_RECORD_BYTES + (size_t)CHUNK_RECORDS * sizeof(uint32_t)) /* 13,312 */

#define FREE_NONE 0u /* id 0 is never a record */

/* ---- index and chunk directory -------------------------------------------
 * The table points at the slot array and at the chunk-pointer array, not at
 * the blocks' headers, so the lookup indexes them without adding an offset;
 * the header sits just before the array (index_of, dir_of). */

typedef _Atomic(ctab_cell *) ctab_chunk_ptr;

/* An index carries the directory its ids are to be looked up in: after a
 * shrink, the new directory is smaller than the old ids, so a lookup must
 * never pair the old index with the new directory.  While an index is
 * live, its directory pointer follows every directory growth (a larger one
 * covers the same ids); once retired, it keeps the directory it had, which
 * is retired no earlier. */
struct ctab_index {
    struct ctab_index *retired_next; /* writer only, once retired */
    uint32_t mask;                   /* capacity - 1 */
    uint32_t shift;                  /* 32 - log2(capacity) */
    _Atomic(ctab_chunk_ptr *) chunks;
    ctab_word slots[];
};

struct ctab_dir {
    struct ctab_dir *retired_next; /* writer only, once retired */
    size_t cap;
    size_t owned; /* once retired: chunks[0..owned) are freed with it */
    ctab_chunk_ptr chunks[];
};

#define INDEX_MIN_BITS 4u  /* 16 slots */
#define INDEX_MAX_BITS 31u /* ids are 32-bit and the index stays half empty */
#define MAX_RECORDS ((size_t)1 << (INDEX_MAX_BITS - 1u))
#define DIR_MIN_CAP 4u

static const struct ctab_index *index_of(const ctab_word *slots)
{
    return (const struct ctab_index *)((const char *)slots - offsetof(struct ctab_index, slots));
}

static const struct ctab_dir *dir_of(const ctab_chunk_ptr *chunks)
{
    return (const struct ctab_dir *)((const char *)chunks - offsetof(struct ctab_dir, chunks));
}

/* ---- writer lock and reader back-off: the only OS-specific code ---------- */

/* A spin-wait hint: lets the other hyperthread run and keeps the spinning
 * load from flooding the memory system while a writer finishes. */
static CTAB_INLINE void ctab_pause(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_ia32_pause();
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
    _mm_pause();
#elif defined(__GNUC__) && defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

#ifdef _WIN32
typedef SRWLOCK ctab_lock;
static int ctab_lock_init(ctab_lock *lock) { InitializeSRWLock(lock); return 0; }
static void ctab_lock_destroy(ctab_lock *lock) { (void)lock; }
static void ctab_lock_acquire(ctab_lock *lock) { AcquireSRWLockExclusive(lock); }
static void ctab_lock_release(ctab_lock *lock) { ReleaseSRWLockExclusive(lock); }
static void ctab_yield(void) { SwitchToThread(); }
#else
typedef pthread_mutex_t ctab_lock;
static int ctab_lock_init(ctab_lock *lock) { return pthread_mutex_init(lock, NULL) == 0 ? 0 : -1; }
static void ctab_lock_destroy(ctab_lock *lock) { (void)pthread_mutex_destroy(lock); }
/* Locking a valid default mutex that this thread does not hold cannot fail;
 * a failure means corrupted memory, and going on would corrupt the table. */
static void ctab_lock_acquire(ctab_lock *lock) { if (pthread_mutex_lock(lock) != 0) abort(); }
static void ctab_lock_release(ctab_lock *lock) { if (pthread_mutex_unlock(lock) != 0) abort(); }
static void ctab_yield(void) { (void)sched_yield(); }
#endif

/* ---- reader slots: thread identity, exit notice, process-wide barrier ----
 *
 * What a lookup needs from the OS to announce itself with plain stores
 * (reclamation, below): a value that tells live threads apart and costs no
 * call; a notice when a thread ends, so that its slot can be taken again;
 * and, for the writer, a barrier that makes every other thread of the
 * process drain its pending stores.  All of it outside the lookup's path
 * except the identity. */

#ifdef _WIN32
/* The thread's TEB, read from the segment register as winnt.h's
 * NtCurrentTeb() does (whose inline form trips GCC 12's -Warray-bounds): one
 * per live thread, reused only after its thread ended. */
static CTAB_INLINE uintptr_t ctab_thread_self(void)
{
#if defined(__GNUC__) && defined(__x86_64__)
    uintptr_t teb;
    __asm__("movq %%gs:0x30, %0" : "=r"(teb));
    return teb;
#elif defined(__GNUC__) && defined(__i386__)
    uintptr_t teb;
    __asm__("movl %%fs:0x18, %0" : "=r"(teb));
    return teb;
#else
    return (uintptr_t)NtCurrentTeb();
#endif
}

typedef DWORD ctab_exit_key;
static void WINAPI slot_thread_ended(void *slot);
/* Fiber-local storage, for its callback: Windows calls it when a thread
 * ends (and a fiber is deleted, and the index is freed) with the value the
 * thread stored, without DllMain's thread notices.  The lookup's slow path
 * calls these, so each keeps the thread's last error as it was. */
static int exit_key_create(ctab_exit_key *key)
{
    *key = FlsAlloc(slot_thread_ended);
    return *key == FLS_OUT_OF_INDEXES ? -1 : 0;
}
static void exit_key_delete(ctab_exit_key key) { (void)FlsFree(key); }
static int exit_key_set(ctab_exit_key key, void *slot)
{
    DWORD error = GetLastError();
    BOOL ok = FlsSetValue(key, slot);

    SetLastError(error);
    return ok ? 0 : -1;
}
static void *exit_key_get(ctab_exit_key key)
{
    DWORD error = GetLastError();
    void *slot = FlsGetValue(key);

    SetLastError(error);
    return slot;
}

static size_t ctab_page_size(void)
{
    SYSTEM_INFO info;

    GetSystemInfo(&info);
    return info.dwPageSize;
}
#ifndef PLSP_CTAB_PAGE_PROTECT
static int page_protect(void *page, size_t size, int writable)
{
    DWORD old;

    return VirtualProtect(page, size, writable ? PAGE_READWRITE : PAGE_READONLY, &old) ? 0 : -1;
}
#endif
/* The documented process-wide barrier (Vista and later).  Wine 8 stubs it
 * (ntdll/unix/virtual.c: a FIXME and nothing else), which is why
 * ctab_barrier() also changes a page's protection. */
static void os_barrier(void) { FlushProcessWriteBuffers(); }
#else
/* The address of a thread-local variable: one per live thread. */
static _Thread_local char ctab_thread_marker;
static CTAB_INLINE uintptr_t ctab_thread_self(void) { return (uintptr_t)&ctab_thread_marker; }

typedef pthread_key_t ctab_exit_key;
static void slot_thread_ended(void *slot);
static int exit_key_create(ctab_exit_key *key)
{
    return pthread_key_create(key, slot_thread_ended) == 0 ? 0 : -1;
}
static void exit_key_delete(ctab_exit_key key) { (void)pthread_key_delete(key); }
static int exit_key_set(ctab_exit_key key, void *slot)
{
    return pthread_setspecific(key, slot) == 0 ? 0 : -1;
}
static void *exit_key_get(ctab_exit_key key) { return pthread_getspecific(key); }

static size_t ctab_page_size(void)
{
    long size = sysconf(_SC_PAGESIZE);

    return size > 0 ? (size_t)size : 4096u;
}
#ifndef PLSP_CTAB_PAGE_PROTECT
static int page_protect(void *page, size_t size, int writable)
{
    return mprotect(page, size, writable ? PROT_READ | PROT_WRITE : PROT_READ) == 0 ? 0 : -1;
}
#endif
static void os_barrier(void) { }
#endif

/* ---- the table ------------------------------------------------------------ */

#define CTAB_LINE 64u /* cache line size assumed for the layout below */
#define READER_STRIPE_BITS 4u
#define READER_STRIPES (1u << READER_STRIPE_BITS)
/* Reader slots: one per thread that looks up, while it lives.  A test
 * build may define fewer, so that its threads also take the counted path
 * (no slot left) and reuse the slots of threads that ended. */
#ifndef PLSP_CTAB_READER_SLOT_BITS
#define PLSP_CTAB_READER_SLOT_BITS 8u
#endif
#define READER_SLOTS (1u << PLSP_CTAB_READER_SLOT_BITS)

/* One reader counter on a cache line of its own. */
struct ctab_readers {
    _Atomic uint32_t n;
    char pad[CTAB_LINE - sizeof(uint32_t)];
};

/* One thread's reader slot, on a cache line of its own.  owner is the
 * thread's identity (ctab_thread_self), 0 when free; only a thread taking
 * the slot (compare-and-swap from 0) and the thread that owns it (at its
 * end) write it.  active is written by the owner only: 0 outside a lookup,
 * the epoch inside one. */
struct ctab_slot {
    _Atomic uintptr_t owner;
    _Atomic uint32_t active;
    char pad[CTAB_LINE - sizeof(uintptr_t) - sizeof(uint32_t)];
};

/* Three groups, each starting a cache line (the table is allocated aligned
 * to CTAB_LINE): what every lookup reads; what only writers touch; the
 * reader counters.  So a writer taking its lock or counting does not take
 * the lookups' line away from them, and only seq (and the rare epoch flip)
 * does. */
struct plsp_ctab {
    /* What lookups read (and never write). */
    _Alignas(CTAB_LINE) _Atomic uint32_t seq;
    /* Odd, advanced by 2 at each bump (so never 0): what a lookup holding
     * a slot stores in it; (epoch >> 1) & 1 picks the reader counters. */
    _Atomic uint32_t epoch;
    _Atomic(ctab_word *) slots;       /* the live index's slot array */
    /* The live directory's array, for writers (lookups take the one their
     * index carries). */
    _Atomic(ctab_chunk_ptr *) chunks;

    /* Writers only, under lock; count and memory are atomic so that
     * plsp_ctab_count/memory may be called from any thread. */
    _Alignas(CTAB_LINE) ctab_lock lock;
    _Atomic size_t count;
    _Atomic size_t memory;
    plsp_gen next_gen;     /* the next write's gen: one counter, never wraps */
    uint32_t free_head;    /* FREE_NONE or a record id */
    size_t used_records;   /* ids below this have been handed out */
    size_t nchunks;        /* chunks allocated */
    /* Retired blocks (reclamation): pending ones were unpublished since the
     * last idle check; waiting ones have been seen clear of readers of one
     * parity. */
    struct ctab_index *pending_indexes, *waiting_indexes;
    struct ctab_dir *pending_dirs, *waiting_dirs;
    void *raw; /* what the allocator returned (the table is aligned in it) */
    size_t raw_size;
    /* Reader slots usable: the exit key and the barrier page exist. */
    int have_slots;
    ctab_exit_key exit_key;
    /* The barrier's page (page_size bytes, aligned inside barrier_raw),
     * and whether the waiting blocks still need a barrier. */
    unsigned char *barrier_page;
    void *barrier_raw;
    size_t page_size;
    int waiting_unfenced;

    /* Written by lookups that found no slot: each thread mostly its own
     * stripe's line. */
    _Alignas(CTAB_LINE) struct ctab_readers readers[2][READER_STRIPES];
    /* Written by lookups: each thread its own slot's line. */
    _Alignas(CTAB_LINE) struct ctab_slot rslots[READER_SLOTS];
};

static void *ctab_alloc(struct plsp_ctab *t, size_t size)
{
    void *p = PLSP_CTAB_MALLOC(size);

    if (p != NULL)
        atomic_fetch_add_explicit(&t->memory, size, memory_order_relaxed);
    return p;
}

static void ctab_free(struct plsp_ctab *t, void *p, size_t size)
{
    if (p == NULL)
        return;
    PLSP_CTAB_FREE(p);
    atomic_fetch_sub_explicit(&t->memory, size, memory_order_relaxed);
}

static size_t index_bytes(const struct ctab_index *ix)
{
    return offsetof(struct ctab_index, slots) + ((size_t)ix->mask + 1u) * sizeof(ctab_word);
}

static size_t dir_bytes(const struct ctab_dir *d)
{
    return offsetof(struct ctab_dir, chunks) + d->cap * sizeof(ctab_chunk_ptr);
}

/* The writer's (non-const) views of the live blocks. */
static struct ctab_index *live_index(const struct plsp_ctab *t)
{
    return (struct ctab_index *)index_of(atomic_load_explicit(&t->slots, memory_order_relaxed));
}

static struct ctab_dir *live_dir(const struct plsp_ctab *t)
{
    return (struct ctab_dir *)dir_of(atomic_load_explicit(&t->chunks, memory_order_relaxed));
}

/* Socket handles are multiples of 4 and often sequential; Fibonacci hashing
 * spreads them by taking the top bits of a multiply by 2^w/phi: one 64-bit
 * multiply on 64-bit targets; on 32-bit ones the key is folded to 32 bits
 * first, to stay one 32-bit multiply (SOCKET values fit in 32 bits in
 * practice; the fold still uses all 64).  An index of 2^bits slots keeps
 * shift = HASH_BITS - bits: a key's home slot is key_home(key, shift). */
#if UINTPTR_MAX > 0xFFFFFFFFu
#define HASH_BITS 64u
static CTAB_INLINE uintptr_t key_home(uint64_t key, uint32_t shift)
{
    return (uintptr_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> shift);
}
#else
#define HASH_BITS 32u
static CTAB_INLINE uintptr_t key_home(uint64_t key, uint32_t shift)
{
    return (((uint32_t)key ^ (uint32_t)(key >> 32)) * 0x9E3779B9u) >> shift;
}
#endif

static struct ctab_index *index_new(struct plsp_ctab *t, uint32_t bits)
{
    struct ctab_index *ix;
    size_t n = (size_t)1 << bits, i;

    /* On 32-bit targets the largest indexes are not addressable. */
    if (bits > INDEX_MAX_BITS ||
        n > (SIZE_MAX - offsetof(struct ctab_index, slots)) / sizeof(ctab_word))
        return NULL;
    ix = ctab_alloc(t, offsetof(struct ctab_index, slots) + n * sizeof(ctab_word));
    if (ix == NULL)
        return NULL;
    ix->retired_next = NULL;
    ix->mask = (uint32_t)(n - 1u);
    ix->shift = HASH_BITS - bits;
    atomic_init(&ix->chunks, NULL);
    for (i = 0; i < n; i++)
        atomic_init(&ix->slots[i], 0);
    return ix;
}

static struct ctab_dir *dir_new(struct plsp_ctab *t, size_t cap)
{
    struct ctab_dir *d;
    size_t i;

    if (cap > (SIZE_MAX - offsetof(struct ctab_dir, chunks)) / sizeof(ctab_chunk_ptr))
        return NULL;
    d = ctab_alloc(t, offsetof(struct ctab_dir, chunks) + cap * sizeof(ctab_chunk_ptr));
    if (d == NULL)
        return NULL;
    d->retired_next = NULL;
    d->cap = cap;
    d->owned = 0;
    for (i = 0; i < cap; i++)
        atomic_init(&d->chunks[i], NULL);
    return d;
}

/* ---- writer-side helpers (called with the lock held) ---------------------- */

static ctab_cell *chunk_of(const struct plsp_ctab *t, uint32_t id)
{
    const ctab_chunk_ptr *chunks = atomic_load_explicit(&t->chunks, memory_order_relaxed);

    return atomic_load_explicit(&chunks[id >> CHUNK_SHIFT], memory_order_relaxed);
}

static ctab_cell *rec_at(const struct plsp_ctab *t, uint32_t id)
{
    return chunk_of(t, id) + (size_t)(id & CHUNK_MASK) * REC_CELLS;
}

static uint32_t *birth_at(const struct plsp_ctab *t, uint32_t id)
{
    return (uint32_t *)(void *)((unsigned char *)chunk_of(t, id) + CHUNK_RECORD_BYTES) +
           (id & CHUNK_MASK);
}

static ctab_cell_bits rec_cell(const ctab_cell *rec, unsigned c)
{
    return atomic_load_explicit(&rec[c], memory_order_relaxed);
}

static void rec_set_cell(ctab_cell *rec, unsigned c, ctab_cell_bits v)
{
    atomic_store_explicit(&rec[c], v, memory_order_relaxed);
}

/* The key, from one cell or two (low half first, as in memory). */
static CTAB_INLINE uint64_t rec_key(const ctab_cell *rec)
{
    if (KEY_CELLS == 1)
        return (uint64_t)atomic_load_explicit(&rec[0], memory_order_relaxed);
    return (uint64_t)atomic_load_explicit(&rec[0], memory_order_relaxed) |
           (uint64_t)atomic_load_explicit(&rec[KEY_CELLS - 1u], memory_order_relaxed) << 32;
}

static void rec_set_key(ctab_cell *rec, uint64_t key)
{
    if (KEY_CELLS == 1) {
        rec_set_cell(rec, 0, (ctab_cell_bits)key);
    } else {
        rec_set_cell(rec, 0, (ctab_cell_bits)(uint32_t)key);
        rec_set_cell(rec, KEY_CELLS - 1u, (ctab_cell_bits)(key >> 32));
    }
}

static void rec_read_conn(const ctab_cell *rec, struct plsp_conn *conn)
{
    ctab_cell_bits cells[CONN_CELLS];
    unsigned i;

    for (i = 0; i < CONN_CELLS; i++)
        cells[i] = rec_cell(rec, REC_CONN + i);
    memcpy(conn, cells, sizeof(*conn));
}

static void rec_write_conn(ctab_cell *rec, const struct plsp_conn *conn)
{
    ctab_cell_bits cells[CONN_CELLS];
    unsigned i;

    memcpy(cells, conn, sizeof(cells));
    for (i = 0; i < CONN_CELLS; i++) {
        rec_set_cell(rec, REC_CONN + i, cells[i]);
        if (i == CONN_CELLS / 2)
            PLSP_CTAB_RACE_POINT();
    }
}

static uint32_t rec_home(const struct plsp_ctab *t, const struct ctab_index *ix, uint32_t id)
{
    const uint64_t key = rec_key(rec_at(t, id));

    return (uint32_t)key_home(key, ix->shift);
}

/* Every write takes the next value of one table-wide 64-bit counter
 * (conntable.h): at one write per nanosecond it would take 584 years to
 * wrap, so a gen read once never matches a later write, and PLSP_ANY_GEN
 * (2^64 - 1) is never reached.  A record's gens only grow, across the
 * socket instances of one handle value too, as an insert is a write. */
static plsp_gen take_gen(struct plsp_ctab *t)
{
    return t->next_gen++;
}

/* Whether the record whose latest gen is gen_now and whose instance began
 * with a gen ending in birth_lo is the socket instance that gen_read was
 * read from.  Gens only grow, so it is iff no insert came after the read:
 * birth <= gen_read, i.e. gen_now - gen_read <= gen_now - birth.  The
 * record keeps only birth's low 32 bits, which give gen_now - birth exactly
 * while it is below 2^32.  Beyond that the answer can be wrong only in two
 * ways, neither of which makes an answer wrong: with 2^32 or more writes to
 * the table between the read and the remove_if (one close call), a newer
 * instance's record can be deleted (getpeername then asks below); and an
 * instance that outlived 2^32 writes can be kept, until its handle value is
 * reused (an insert replaces it). */
static int same_instance(plsp_gen gen_now, uint32_t birth_lo, plsp_gen gen_read)
{
    uint32_t age = (uint32_t)gen_now - birth_lo;

    return gen_read <= gen_now && gen_now - gen_read <= age;
}

/* Writers bracket every change a reader could see.  The release fence after
 * making seq odd orders it before the data stores, so a reader that sees
 * any of them also sees seq odd or further on; the release store making seq
 * even again publishes them. */
static void write_begin(struct plsp_ctab *t)
{
    uint32_t s = atomic_load_explicit(&t->seq, memory_order_relaxed);

    atomic_store_explicit(&t->seq, s + 1u, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

static void write_end(struct plsp_ctab *t)
{
    uint32_t s = atomic_load_explicit(&t->seq, memory_order_relaxed);

    atomic_store_explicit(&t->seq, s + 1u, memory_order_release);
}

/* Finds key in the live index.  Returns its record id and sets *pos to its
 * slot, or returns 0 with *pos at the empty slot that ended the probe. */
static uint32_t index_find(const struct plsp_ctab *t, uint32_t lo, uint32_t hi, uint32_t *pos)
{
    const struct ctab_index *ix = live_index(t);
    uint32_t i = (uint32_t)key_home((uint64_t)hi << 32 | lo, ix->shift);
    uint32_t id;

    while ((id = atomic_load_explicit(&ix->slots[i], memory_order_relaxed)) != 0) {
        if (rec_key(rec_at(t, id)) == ((uint64_t)hi << 32 | lo))
            break;
        i = (i + 1u) & ix->mask;
    }
    *pos = i;
    return id;
}

/* Fills the new, unpublished index from the live one.  Readers meanwhile
 * get the same answers from the live one. */
static void index_rehash(const struct plsp_ctab *t, const struct ctab_index *from,
                         struct ctab_index *to)
{
    uint32_t i, j, id;

    for (i = 0; i <= from->mask; i++) {
        id = atomic_load_explicit(&from->slots[i], memory_order_relaxed);
        if (id == 0)
            continue;
        j = rec_home(t, to, id);
        while (atomic_load_explicit(&to->slots[j], memory_order_relaxed) != 0)
            j = (j + 1u) & to->mask;
        atomic_store_explicit(&to->slots[j], id, memory_order_relaxed);
    }
}

/* Empties slot pos by backward shift: each later entry of the cluster that
 * may live in the hole (its home is not in the cyclic range (hole, j])
 * moves into it, and its old slot becomes the hole.  Called inside the
 * write bracket: a reader that sees an entry twice or not at all retries.
 * Release stores: a moved id's record was written before it. */
static void index_delete(struct plsp_ctab *t, uint32_t pos)
{
    struct ctab_index *ix = live_index(t);
    uint32_t hole = pos, j = pos, id, home;

    for (;;) {
        j = (j + 1u) & ix->mask;
        id = atomic_load_explicit(&ix->slots[j], memory_order_relaxed);
        if (id == 0)
            break;
        home = rec_home(t, ix, id);
        if (((j - home) & ix->mask) >= ((j - hole) & ix->mask)) {
            atomic_store_explicit(&ix->slots[hole], id, memory_order_release);
            PLSP_CTAB_RACE_POINT();
            hole = j;
        }
    }
    atomic_store_explicit(&ix->slots[hole], 0, memory_order_release);
    PLSP_CTAB_RACE_POINT();
}

/* ---- reclamation (see the top of the file) --------------------------------
 *
 * The argument, in C11 terms.  A writer unpublishes a block B (a release
 * store of the new pointer), later executes a seq_cst fence X and then reads
 * a parity's counters with seq_cst loads.  A lookup increments its counter
 * with a seq_cst read-modify-write R and then loads the table's pointers with
 * seq_cst loads P.  If the writer's load did not see R, X precedes R in the
 * single total order S, so P follows X in S and sees B's unpublishing (or
 * later): the lookup never reaches B.  If it saw R and the reader is still
 * inside, the counter is not zero and B stays.  A lookup that has left
 * decremented with a release, which the writer's load (after the fence)
 * synchronises with, so its reads of B happen before B is freed.  The epoch
 * load that picks the parity is an acquire, so a reader that sees a flip
 * also sees every block unpublished before it. */

/* The counters' parity of an epoch.  The epoch itself is what a lookup
 * holding a slot stores in it: never 0 (outside), and the same for two
 * epochs only 2^31 bumps apart, which cannot happen while a lookup is
 * inside (a bump waits for the lookups of the epoch before). */
static CTAB_INLINE uint32_t epoch_parity(uint32_t epoch)
{
    return (epoch >> 1) & 1u;
}

/* The slot path's argument.  A lookup holding a slot stores its tag with a
 * plain store and then loads the table's pointers; no fence, so its store
 * may still sit in its CPU's store buffer while it reads.  A writer that
 * retired B bumps the epoch and then runs ctab_barrier(): every other
 * thread of the process drains its pending stores at some point during the
 * barrier.  A lookup whose store came before that point is seen by the scan
 * below (tag of an older epoch: B stays).  One whose store came after it
 * loads the pointers after it too, so after B was unpublished: it never
 * reaches B.  A lookup that loaded the new epoch was ordered after the
 * unpublishing by that load (acquire).  A lookup that has left stored 0
 * with a release, which the scan's acquire load synchronises with, so its
 * reads of B happen before B is freed.  The C11 model has no asymmetric
 * fence; this part of the argument rests on the barrier's definition
 * (FlushProcessWriteBuffers, a TLB shootdown). */
static int slots_clear(const struct plsp_ctab *t, uint32_t epoch)
{
    uint32_t active;
    unsigned i;

    for (i = 0; i < READER_SLOTS; i++) {
        active = atomic_load_explicit(&t->rslots[i].active, memory_order_acquire);
        if (active != 0 && active != epoch)
            return 0;
    }
    return 1;
}

/* Makes every thread of the process drain its pending stores.  Besides the
 * OS's own call, lowering a page's protection: the kernel must then flush
 * the page's translation on every CPU that runs a thread of the process,
 * which it does with an interrupt to each (what Linux's membarrier and
 * Windows' FlushProcessWriteBuffers do directly); the store before it keeps
 * the page's translation present, so that the change cannot be skipped.
 * Returns 0, or -1 when a protection change failed: nothing retired is
 * freed then, until a later barrier succeeds. */
static int ctab_barrier(struct plsp_ctab *t)
{
    os_barrier();
    if (t->barrier_page == NULL)
        return -1;
    atomic_fetch_add_explicit((_Atomic uint32_t *)(void *)t->barrier_page, 1u,
                              memory_order_seq_cst);
    if (CTAB_PAGE_PROTECT(t->barrier_page, t->page_size, 0) != 0)
        return -1;
    if (CTAB_PAGE_PROTECT(t->barrier_page, t->page_size, 1) != 0) {
        /* A read-only page must never go back to the allocator: keep it,
         * and stop using it. */
        t->barrier_page = NULL;
        t->barrier_raw = NULL;
        return -1;
    }
    return 0;
}

static int readers_idle(const struct plsp_ctab *t, unsigned parity)
{
    unsigned i;

    for (i = 0; i < READER_STRIPES; i++)
        if (atomic_load_explicit(&t->readers[parity][i].n, memory_order_seq_cst) != 0)
            return 0;
    return 1;
}

static void free_index_list(struct plsp_ctab *t, struct ctab_index *ix)
{
    struct ctab_index *next;

    for (; ix != NULL; ix = next) {
        next = ix->retired_next;
        ctab_free(t, ix, index_bytes(ix));
    }
}

static void free_dir_list(struct plsp_ctab *t, struct ctab_dir *d)
{
    struct ctab_dir *next;
    size_t i;

    for (; d != NULL; d = next) {
        next = d->retired_next;
        for (i = 0; i < d->owned; i++)
            ctab_free(t, atomic_load_explicit(&d->chunks[i], memory_order_relaxed), CHUNK_BYTES);
        ctab_free(t, d, dir_bytes(d));
    }
}

static void retire_index(struct plsp_ctab *t, struct ctab_index *ix)
{
    ix->retired_next = t->pending_indexes;
    t->pending_indexes = ix;
}

/* owned: how many of the directory's chunks go with it (0 when they moved
 * to a new directory). */
static void retire_dir(struct plsp_ctab *t, struct ctab_dir *d, size_t owned)
{
    d->owned = owned;
    d->retired_next = t->pending_dirs;
    t->pending_dirs = d;
}

/* One step: if the parity new counted lookups do not use is idle, and no
 * slot holds a lookup that began before the last epoch bump (after a
 * barrier that followed that bump), the waiting blocks (already seen clear
 * of the other parity) are freed and the pending ones start waiting, with
 * the epoch bumped (so the parity just checked is the one new counted
 * lookups use from now on) and a barrier.  Lock held. */
static void reclaim_step(struct plsp_ctab *t)
{
    uint32_t epoch;

    if (t->pending_indexes == NULL && t->pending_dirs == NULL && t->waiting_indexes == NULL &&
        t->waiting_dirs == NULL)
        return;
    if (t->waiting_unfenced) {
        if (ctab_barrier(t) != 0)
            return;
        t->waiting_unfenced = 0;
    }
    epoch = atomic_load_explicit(&t->epoch, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
    if (!readers_idle(t, epoch_parity(epoch) ^ 1u) || !slots_clear(t, epoch))
        return;
    free_index_list(t, t->waiting_indexes);
    free_dir_list(t, t->waiting_dirs);
    t->waiting_indexes = t->pending_indexes;
    t->waiting_dirs = t->pending_dirs;
    t->pending_indexes = NULL;
    t->pending_dirs = NULL;
    if (t->waiting_indexes != NULL || t->waiting_dirs != NULL) {
        atomic_fetch_add_explicit(&t->epoch, 2u, memory_order_seq_cst);
        /* Slot readers are only known to be seen after a barrier. */
        t->waiting_unfenced = t->have_slots && ctab_barrier(t) != 0;
    }
}

/* At the end of every write: two steps, so that with no lookup running
 * everything retired is freed at once. */
static void reclaim(struct plsp_ctab *t)
{
    reclaim_step(t);
    reclaim_step(t);
}

/* Builds a new layout for the records left, when a removal leaves the
 * index at most 1/8 full: an index at most 1/4 full, the records packed
 * into as few chunks as they need (new ids), a directory to match.  Readers
 * meanwhile use the old layout; the new one is published inside a write
 * bracket and the whole old one retired.  Out of memory: no shrink, the
 * table stays as it was.  Lock held. */
static void maybe_shrink(struct plsp_ctab *t)
{
    struct ctab_index *ix = live_index(t), *new_ix;
    struct ctab_dir *d = live_dir(t), *new_d;
    size_t count = atomic_load_explicit(&t->count, memory_order_relaxed);
    size_t nchunks, cap, i;
    uint32_t bits = INDEX_MIN_BITS, next_id = 1, id, j;
    int failed = 0;

    if (ix->mask + 1u <= (1u << INDEX_MIN_BITS) || count > ((size_t)ix->mask + 1u) / 8u)
        return;
    /* Not while an older layout still waits for readers to leave it: a
     * lookup that never leaves (a thread suspended or terminated inside
     * one) then stops reclamation, and without this shrinking and growing
     * again would pile up retired layouts without bound.  With it what
     * waits stays below one layout plus the growth retirements (less than
     * the live index and directory). */
    if (t->pending_indexes != NULL || t->pending_dirs != NULL || t->waiting_indexes != NULL ||
        t->waiting_dirs != NULL)
        return;
    while (((size_t)1 << bits) / 4u < count)
        bits++;
    nchunks = (count + 1u + CHUNK_RECORDS - 1u) / CHUNK_RECORDS; /* ids 1..count, never 0 */
    for (cap = DIR_MIN_CAP; cap < nchunks; cap *= 2u)
        ;
    new_ix = index_new(t, bits);
    new_d = dir_new(t, cap);
    if (new_ix == NULL || new_d == NULL) {
        if (new_ix != NULL)
            ctab_free(t, new_ix, index_bytes(new_ix));
        if (new_d != NULL)
            ctab_free(t, new_d, dir_bytes(new_d));
        return;
    }
    for (i = 0; i < nchunks; i++) {
        ctab_cell *chunk = ctab_alloc(t, CHUNK_BYTES);
        if (chunk == NULL) {
            failed = 1;
            break;
        }
        atomic_init(&new_d->chunks[i], chunk);
    }
    if (failed) {
        new_d->owned = i;
        new_d->retired_next = NULL;
        free_dir_list(t, new_d); /* never published: freed at once */
        ctab_free(t, new_ix, index_bytes(new_ix));
        return;
    }

    /* Copy every record to its new id and place it in the new index. */
    for (j = 0; j <= ix->mask; j++) {
        const ctab_cell *from;
        ctab_cell *to_chunk, *to;
        uint64_t key;
        unsigned c;

        id = atomic_load_explicit(&ix->slots[j], memory_order_relaxed);
        if (id == 0)
            continue;
        from = rec_at(t, id);
        to_chunk = atomic_load_explicit(&new_d->chunks[next_id >> CHUNK_SHIFT], memory_order_relaxed);
        to = to_chunk + (size_t)(next_id & CHUNK_MASK) * REC_CELLS;
        for (c = 0; c < REC_CELLS; c++)
            atomic_init(&to[c], rec_cell(from, c));
        ((uint32_t *)(void *)((unsigned char *)to_chunk + CHUNK_RECORD_BYTES))[next_id & CHUNK_MASK] =
            *birth_at(t, id);
        key = rec_key(from);
        i = (uint32_t)key_home(key, new_ix->shift);
        while (atomic_load_explicit(&new_ix->slots[i], memory_order_relaxed) != 0)
            i = (i + 1u) & new_ix->mask;
        atomic_init(&new_ix->slots[i], next_id);
        next_id++;
    }

    atomic_init(&new_ix->chunks, new_d->chunks);
    write_begin(t);
    atomic_store_explicit(&t->slots, new_ix->slots, memory_order_release);
    atomic_store_explicit(&t->chunks, new_d->chunks, memory_order_release);
    write_end(t);
    retire_index(t, ix);
    retire_dir(t, d, t->nchunks);
    t->nchunks = nchunks;
    t->used_records = next_id;
    t->free_head = FREE_NONE;
}

/* At the end of every write, lock held: frees what retired blocks it can,
 * shrinks the layout if it is due and nothing older still waits, and frees
 * again (with no lookup running, everything retired goes at once). */
static void settle(struct plsp_ctab *t)
{
    reclaim(t);
    maybe_shrink(t);
    reclaim(t);
}

/* Makes room for one more record before anything changes, so that running
 * out of memory leaves the table as it was.  Returns 0 or -1. */
static int reserve_one(struct plsp_ctab *t)
{
    struct ctab_index *ix = live_index(t), *new_ix = NULL;
    struct ctab_dir *d = live_dir(t), *new_d = NULL;
    size_t count = atomic_load_explicit(&t->count, memory_order_relaxed), i;
    ctab_cell *chunk = NULL;

    if (count >= MAX_RECORDS)
        return -1;
    if (t->free_head == FREE_NONE && t->used_records >= t->nchunks * CHUNK_RECORDS) {
        chunk = ctab_alloc(t, CHUNK_BYTES);
        if (chunk == NULL)
            goto fail;
        if (t->nchunks == d->cap) {
            new_d = dir_new(t, d->cap * 2u);
            if (new_d == NULL)
                goto fail;
        }
    }
    if (count + 1u > ((size_t)ix->mask + 1u) / 2u) {
        new_ix = index_new(t, HASH_BITS - ix->shift + 1u);
        if (new_ix == NULL)
            goto fail;
    }

    /* Nothing fails from here on.  A new block is filled, then published
     * with a release store, so a reader that loads the pointer sees its
     * contents; the old block is retired (reclamation). */
    if (chunk != NULL) {
        if (new_d != NULL) {
            for (i = 0; i < t->nchunks; i++)
                atomic_init(&new_d->chunks[i],
                            atomic_load_explicit(&d->chunks[i], memory_order_relaxed));
            atomic_init(&new_d->chunks[t->nchunks], chunk);
            atomic_store_explicit(&t->chunks, new_d->chunks, memory_order_release);
            atomic_store_explicit(&ix->chunks, new_d->chunks, memory_order_release);
            retire_dir(t, d, 0);
        } else {
            atomic_store_explicit(&d->chunks[t->nchunks], chunk, memory_order_release);
        }
        t->nchunks++;
    }
    if (new_ix != NULL) {
        index_rehash(t, ix, new_ix);
        atomic_init(&new_ix->chunks, atomic_load_explicit(&t->chunks, memory_order_relaxed));
        atomic_store_explicit(&t->slots, new_ix->slots, memory_order_release);
        retire_index(t, ix);
    }
    return 0;

fail:
    ctab_free(t, chunk, CHUNK_BYTES);
    if (new_d != NULL)
        ctab_free(t, new_d, dir_bytes(new_d));
    return -1;
}

static void conn_fresh(struct plsp_conn *c, plsp_gen gen, uint8_t provider)
{
    memset(c, 0, sizeof(*c));
    c->gen = gen;
    c->provider = provider;
    c->state = PLSP_PEER_UNKNOWN;
}

/* ---- reader slots: set-up and the slow path ---------------------------------- */

/* A thread ended (or a fiber was deleted, or the key is being deleted):
 * the slot is free for another thread if the calling thread owns it, as it
 * is then inside no lookup.  A fiber's value can name the slot of another
 * thread (a fiber that ran on one thread and is deleted from another, or
 * ran on several): that thread may be inside a lookup now, so its slot is
 * left alone. */
#ifdef _WIN32
static void WINAPI slot_thread_ended(void *slot)
#else
static void slot_thread_ended(void *slot)
#endif
{
    struct ctab_slot *s = slot;

    if (s != NULL && atomic_load_explicit(&s->owner, memory_order_relaxed) == ctab_thread_self())
        atomic_store_explicit(&s->owner, 0, memory_order_release);
}

/* The exit key and the barrier page.  Without either, lookups take the
 * counted path only: slower, never wrong. */
static void slots_create(struct plsp_ctab *t)
{
    size_t page = ctab_page_size();

    t->have_slots = 0;
    t->barrier_page = NULL;
    t->page_size = page;
    t->barrier_raw = ctab_alloc(t, 2u * page);
    if (t->barrier_raw == NULL)
        return;
    /* A whole page of its own inside the block: nothing else of the
     * allocator's lives on it while its protection changes. */
    t->barrier_page = (unsigned char *)(((uintptr_t)t->barrier_raw + page - 1u) &
                                        ~(uintptr_t)(page - 1u));
    memset(t->barrier_page, 0, page);
    if (exit_key_create(&t->exit_key) != 0) {
        ctab_free(t, t->barrier_raw, 2u * page);
        t->barrier_raw = NULL;
        t->barrier_page = NULL;
        return;
    }
    t->have_slots = 1;
}

static void slots_destroy(struct plsp_ctab *t)
{
    if (t->have_slots)
        exit_key_delete(t->exit_key); /* calls slot_thread_ended: slots still there */
    t->have_slots = 0;
    /* Not when a barrier left the page read-only (ctab_barrier). */
    if (t->barrier_raw != NULL)
        ctab_free(t, t->barrier_raw, 2u * t->page_size);
    t->barrier_raw = NULL;
    t->barrier_page = NULL;
}

/* A thread's home slot: its identity's page number, modulo the slots.
 * Live threads' identities are a fixed distance apart when their threads
 * were made one after another (typically x64 TEBs 8 KiB, WOW64 ones 12 KiB;
 * Wine's 64 KiB; Linux threads' thread-local blocks the stack size plus a
 * guard page), so consecutive threads get distinct homes, which a
 * multiplicative hash would not promise; a thread whose home is taken
 * finds another slot (slot_find).  As a byte offset into the slots. */
#ifdef _WIN32
#define SLOT_ID_SHIFT 13u /* 8 KiB */
#else
#define SLOT_ID_SHIFT 12u /* 4 KiB */
#endif
_Static_assert(sizeof(struct ctab_slot) == CTAB_LINE && CTAB_LINE == 64u, "a slot is 2^6 bytes");
static CTAB_INLINE uintptr_t slot_home_offset(uintptr_t self)
{
    return (self >> (SLOT_ID_SHIFT - 6u)) & ((uintptr_t)(READER_SLOTS - 1u) << 6);
}

static CTAB_INLINE struct ctab_slot *slot_home(const struct plsp_ctab *t, uintptr_t self)
{
    /* The slots are the part of the table a lookup writes. */
    return (struct ctab_slot *)(void *)((unsigned char *)((struct plsp_ctab *)t)->rslots +
                                        slot_home_offset(self));
}

/* The calling thread's slot when it is not at its home position: the one
 * the exit key names, or a free one taken now (the nearest after home).
 * NULL when every slot is taken or the key cannot be set: the lookup
 * counts itself instead. */
CTAB_COLD static struct ctab_slot *slot_find(const struct plsp_ctab *t, uintptr_t self)
{
    /* Slots are the other part of the table lookups write. */
    struct ctab_slot *slots = ((struct plsp_ctab *)t)->rslots, *slot;
    uint32_t home = (uint32_t)(slot_home_offset(self) >> 6), k;
    uintptr_t expected;

    if (!t->have_slots)
        return NULL;
    slot = exit_key_get(t->exit_key);
    if (slot != NULL && atomic_load_explicit(&slot->owner, memory_order_relaxed) == self)
        return slot;
    for (k = 0; k < READER_SLOTS; k++) {
        slot = &slots[(home + k) & (READER_SLOTS - 1u)];
        expected = 0;
        if (atomic_load_explicit(&slot->owner, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong_explicit(&slot->owner, &expected, self,
                                                    memory_order_acquire, memory_order_relaxed)) {
            if (exit_key_set(t->exit_key, slot) == 0)
                return slot;
            /* No notice at the thread's end: do not keep the slot. */
            atomic_store_explicit(&slot->owner, 0, memory_order_release);
            return NULL;
        }
    }
    return NULL;
}

/* ---- the interface ---------------------------------------------------------- */

struct plsp_ctab *plsp_ctab_create(void)
{
    /* Allocated CTAB_LINE - 1 bytes larger and aligned by hand: malloc only
     * promises max_align_t, and the layout needs whole cache lines. */
    const size_t raw_size = sizeof(struct plsp_ctab) + CTAB_LINE - 1u;
    void *raw = PLSP_CTAB_MALLOC(raw_size);
    struct plsp_ctab *t;
    struct ctab_index *ix;
    struct ctab_dir *d;
    ctab_cell *chunk;
    unsigned p, i;

    if (raw == NULL)
        return NULL;
    t = (struct plsp_ctab *)(((uintptr_t)raw + CTAB_LINE - 1u) & ~(uintptr_t)(CTAB_LINE - 1u));
    t->raw = raw;
    t->raw_size = raw_size;
    atomic_init(&t->seq, 0);
    atomic_init(&t->epoch, 1);
    atomic_init(&t->count, 0);
    atomic_init(&t->memory, raw_size);
    t->next_gen = PLSP_CTAB_FIRST_GEN;
    t->free_head = FREE_NONE;
    t->used_records = 1; /* id 0 means "empty slot" */
    t->nchunks = 0;
    t->pending_indexes = t->waiting_indexes = NULL;
    t->pending_dirs = t->waiting_dirs = NULL;
    t->waiting_unfenced = 0;
    for (p = 0; p < 2; p++)
        for (i = 0; i < READER_STRIPES; i++)
            atomic_init(&t->readers[p][i].n, 0);
    for (i = 0; i < READER_SLOTS; i++) {
        atomic_init(&t->rslots[i].owner, 0);
        atomic_init(&t->rslots[i].active, 0);
    }
    slots_create(t);

    /* The table always has its first chunk: an application that opens and
     * closes a few sockets never allocates or frees one, and a shrink keeps
     * it (maybe_shrink), so an emptied table has what a new one has. */
    ix = index_new(t, INDEX_MIN_BITS);
    d = dir_new(t, DIR_MIN_CAP);
    chunk = ctab_alloc(t, CHUNK_BYTES);
    if (ix == NULL || d == NULL || chunk == NULL || ctab_lock_init(&t->lock) != 0)
        goto fail;
    atomic_init(&d->chunks[0], chunk);
    atomic_init(&ix->chunks, d->chunks);
    t->nchunks = 1;
    atomic_init(&t->slots, ix->slots);
    atomic_init(&t->chunks, d->chunks);
    return t;

fail:
    slots_destroy(t);
    if (ix != NULL)
        PLSP_CTAB_FREE(ix);
    if (d != NULL)
        PLSP_CTAB_FREE(d);
    if (chunk != NULL)
        PLSP_CTAB_FREE(chunk);
    PLSP_CTAB_FREE(raw);
    return NULL;
}

void plsp_ctab_destroy(struct plsp_ctab *t)
{
    struct ctab_index *ix;
    struct ctab_dir *d;

    if (t == NULL)
        return;
    d = live_dir(t);
    d->owned = t->nchunks;
    d->retired_next = NULL;
    free_dir_list(t, d);
    free_dir_list(t, t->pending_dirs);
    free_dir_list(t, t->waiting_dirs);
    ix = live_index(t);
    ix->retired_next = NULL;
    free_index_list(t, ix);
    free_index_list(t, t->pending_indexes);
    free_index_list(t, t->waiting_indexes);
    slots_destroy(t);
    ctab_lock_destroy(&t->lock);
    PLSP_CTAB_FREE(t->raw);
}

int plsp_ctab_insert(struct plsp_ctab *t, uint64_t key, uint8_t provider)
{
    return plsp_ctab_insert_get(t, key, provider, NULL);
}

int plsp_ctab_insert_get(struct plsp_ctab *t, uint64_t key, uint8_t provider, plsp_gen *gen_out)
{
    const uint32_t lo = (uint32_t)key, hi = (uint32_t)(key >> 32);
    struct plsp_conn conn;
    uint32_t pos, id;
    ctab_cell *rec;

    ctab_lock_acquire(&t->lock);
    id = index_find(t, lo, hi, &pos);
    if (id != 0) {
        /* A reused handle value: whatever was known about it is gone. */
        conn_fresh(&conn, take_gen(t), provider);
        rec = rec_at(t, id);
        write_begin(t);
        rec_write_conn(rec, &conn);
        *birth_at(t, id) = (uint32_t)conn.gen;
        write_end(t);
        settle(t);
        ctab_lock_release(&t->lock);
        if (gen_out)
            *gen_out = conn.gen;
        return 0;
    }
    if (reserve_one(t) != 0) {
        ctab_lock_release(&t->lock);
        return -1;
    }
    /* The index may have grown: find the insert position again. */
    (void)index_find(t, lo, hi, &pos);

    if (t->free_head != FREE_NONE) {
        id = t->free_head;
        t->free_head = (uint32_t)rec_cell(rec_at(t, id), REC_NEXT_FREE);
    } else {
        id = (uint32_t)t->used_records++;
    }
    rec = rec_at(t, id);
    conn_fresh(&conn, take_gen(t), provider);

    write_begin(t);
    rec_set_key(rec, key);
    rec_write_conn(rec, &conn);
    *birth_at(t, id) = (uint32_t)conn.gen;
    /* Release: a reader that finds the id also finds the record's chunk. */
    atomic_store_explicit(&live_index(t)->slots[pos], id, memory_order_release);
    write_end(t);

    atomic_fetch_add_explicit(&t->count, 1u, memory_order_relaxed);
    settle(t);
    ctab_lock_release(&t->lock);
    if (gen_out)
        *gen_out = conn.gen;
    return 0;
}

int plsp_ctab_set_peer(struct plsp_ctab *t, uint64_t key, plsp_gen expected_gen,
                       const void *peer, size_t len)
{
    const uint32_t lo = (uint32_t)key, hi = (uint32_t)(key >> 32);
    struct plsp_conn conn;
    uint32_t pos, id;
    ctab_cell *rec;
    int written = 0;

    if (peer == NULL || len == 0 || len > PLSP_PEER_MAX)
        return 0;
    ctab_lock_acquire(&t->lock);
    id = index_find(t, lo, hi, &pos);
    if (id != 0) {
        rec = rec_at(t, id);
        rec_read_conn(rec, &conn);
        if (expected_gen == PLSP_ANY_GEN || conn.gen == expected_gen) {
            conn.gen = take_gen(t);
            conn.state = PLSP_PEER_KNOWN;
            conn.peer_len = (uint8_t)len;
            memset(conn.peer, 0, sizeof(conn.peer));
            memcpy(conn.peer, peer, len);
            write_begin(t);
            rec_write_conn(rec, &conn);
            write_end(t);
            written = 1;
        }
    }
    settle(t);
    ctab_lock_release(&t->lock);
    return written;
}

int plsp_ctab_set_state(struct plsp_ctab *t, uint64_t key, uint8_t state, plsp_gen expected_gen,
                        plsp_gen *gen_out)
{
    const uint32_t lo = (uint32_t)key, hi = (uint32_t)(key >> 32);
    struct plsp_conn conn;
    uint32_t pos, id;
    ctab_cell *rec;
    int written = 0;

    if (state != PLSP_PEER_UNKNOWN && state != PLSP_PEER_VOLATILE)
        return 0;
    ctab_lock_acquire(&t->lock);
    id = index_find(t, lo, hi, &pos);
    if (id != 0) {
        rec = rec_at(t, id);
        rec_read_conn(rec, &conn);
        if (expected_gen == PLSP_ANY_GEN || conn.gen == expected_gen) {
            conn.gen = take_gen(t);
            conn.state = state;
            conn.peer_len = 0;
            memset(conn.peer, 0, sizeof(conn.peer));
            write_begin(t);
            rec_write_conn(rec, &conn);
            write_end(t);
            written = 1;
            if (gen_out)
                *gen_out = conn.gen;
        }
    }
    settle(t);
    ctab_lock_release(&t->lock);
    return written;
}

int plsp_ctab_forget_peer(struct plsp_ctab *t, uint64_t key)
{
    return plsp_ctab_set_state(t, key, PLSP_PEER_UNKNOWN, PLSP_ANY_GEN, NULL);
}

int plsp_ctab_mark_volatile(struct plsp_ctab *t, uint64_t key)
{
    return plsp_ctab_set_state(t, key, PLSP_PEER_VOLATILE, PLSP_ANY_GEN, NULL);
}

/* Deletes the record at id (index position pos). Lock held. */
static void remove_at(struct plsp_ctab *t, uint32_t pos, uint32_t id)
{
    write_begin(t);
    index_delete(t, pos);
    /* The record keeps its memory; a reader still copying it retries. */
    rec_set_cell(rec_at(t, id), REC_NEXT_FREE, t->free_head);
    write_end(t);
    t->free_head = id;
    atomic_fetch_sub_explicit(&t->count, 1u, memory_order_relaxed);
}

int plsp_ctab_remove_if(struct plsp_ctab *t, uint64_t key, plsp_gen gen)
{
    const uint32_t lo = (uint32_t)key, hi = (uint32_t)(key >> 32);
    struct plsp_conn conn;
    uint32_t pos, id;
    int removed = 0;

    ctab_lock_acquire(&t->lock);
    id = index_find(t, lo, hi, &pos);
    if (id != 0) {
        rec_read_conn(rec_at(t, id), &conn);
        if (same_instance(conn.gen, *birth_at(t, id), gen)) {
            remove_at(t, pos, id);
            removed = 1;
        }
    }
    settle(t);
    ctab_lock_release(&t->lock);
    return removed;
}

int plsp_ctab_remove(struct plsp_ctab *t, uint64_t key)
{
    const uint32_t lo = (uint32_t)key, hi = (uint32_t)(key >> 32);
    uint32_t pos, id;

    ctab_lock_acquire(&t->lock);
    id = index_find(t, lo, hi, &pos);
    if (id != 0) {
        remove_at(t, pos, id);
    }
    settle(t);
    ctab_lock_release(&t->lock);
    return id != 0;
}

/* ---- lookup ------------------------------------------------------------------ */

/* One attempt at a lookup in the read bracket that began when seq was s
 * (even).  Returns 1 (found, *out written), 0 (absent), or -1 when a writer
 * interfered and the attempt must be repeated; *out may have been written
 * then, which is why callers read it only when 1 is returned. */
static CTAB_INLINE int lookup_once(const struct plsp_ctab *t, uint64_t key, uint32_t s,
                                   struct plsp_conn *out)
{
    /* seq_cst, not only acquire: ordered after the reader count's increment
     * (reclamation).  On x86 both are a plain load. */
    const ctab_word *slots = atomic_load_explicit(&t->slots, memory_order_seq_cst);
    uintptr_t i = key_home(key, index_of(slots)->shift);
    const ctab_cell *rec;
    unsigned char *o;
    ctab_cell_bits c;
    uint32_t id;

    for (;;) {
        const ctab_chunk_ptr *chunks;

        /* Acquire: the record and its chunk pointer were written before
         * the slot was. */
        id = atomic_load_explicit(&slots[i], memory_order_acquire);
        if (id == 0) {
            /* Pairs with write_begin's release fence: if a load above saw
             * a writer's store, this re-read sees its odd seq or later. */
            atomic_thread_fence(memory_order_acquire);
            return atomic_load_explicit(&t->seq, memory_order_relaxed) == s ? 0 : -1;
        }
        /* The index's own directory (struct ctab_index), loaded after the
         * slot: it covers the id. */
        chunks = atomic_load_explicit(&index_of(slots)->chunks, memory_order_seq_cst);
        rec = atomic_load_explicit(&chunks[id >> CHUNK_SHIFT], memory_order_relaxed) +
              (uintptr_t)(id & CHUNK_MASK) * REC_CELLS;
        /* One 64-bit compare: fewer live registers than two halves. */
        if (rec_key(rec) == key)
            break;
        PLSP_CTAB_RACE_POINT();
        i = (i + 1u) & index_of(slots)->mask;
        /* On wrapping to slot 0, make sure no writer has been at work: a
         * reader racing many writes could otherwise see nothing but full
         * slots, forever.  With seq unchanged the index is as it was at s,
         * half empty, and the probe ends before it wraps again. */
        if (i == 0) {
            atomic_thread_fence(memory_order_acquire);
            if (atomic_load_explicit(&t->seq, memory_order_relaxed) != s)
                return -1;
        }
    }

    /* Cell by cell into *out (a memcpy per cell, as out's fields are
     * bytes), unrolled by hand, then one check for all of them. */
    o = (unsigned char *)out;
#define CTAB_COPY_CELL(k)                                                  \
    c = atomic_load_explicit(&rec[REC_CONN + (k)], memory_order_relaxed);  \
    memcpy(o + (k) * sizeof(c), &c, sizeof(c))
    PLSP_CTAB_RACE_POINT();
    CTAB_COPY_CELL(0); CTAB_COPY_CELL(1); CTAB_COPY_CELL(2);
    PLSP_CTAB_RACE_POINT();
    CTAB_COPY_CELL(3); CTAB_COPY_CELL(4);
    if (CONN_CELLS == 10) { /* 32-bit cells */
        CTAB_COPY_CELL(5); CTAB_COPY_CELL(6); CTAB_COPY_CELL(7); CTAB_COPY_CELL(8);
        CTAB_COPY_CELL(9);
    }
#undef CTAB_COPY_CELL
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&t->seq, memory_order_relaxed) == s ? 1 : -1;
}

/* Taken only when a writer is inside its bracket, or changed something
 * while the first attempt ran: waits for it to leave the bracket, pausing
 * (ctab_pause) between polls of seq, twice as long after each poll that
 * still finds it there, up to 64 pauses; after that it yields the CPU now
 * and then, as the writer may have been preempted inside. */
CTAB_COLD static int lookup_slow(const struct plsp_ctab *t, uint64_t key, struct plsp_conn *out)
{
    unsigned pauses = 1, polls = 0, k;
    uint32_t s;
    int r;

    for (;;) {
        s = atomic_load_explicit(&t->seq, memory_order_acquire);
        if (s & 1u) {
            if (pauses < 64u) {
                for (k = 0; k < pauses; k++)
                    ctab_pause();
                pauses *= 2u;
            } else if (++polls >= 16u) {
                ctab_yield();
                polls = 0;
            } else {
                for (k = 0; k < pauses; k++)
                    ctab_pause();
            }
            continue;
        }
        r = lookup_once(t, key, s, out);
        if (r >= 0)
            return r;
        ctab_pause();
    }
}

/* A lookup without a slot counts itself in its stripe's reader counter for
 * as long as it reads the table (reclamation): two locked operations.  The
 * stripe comes from the address of the thread's stack, in 64 KiB steps:
 * threads' stacks are at least that far apart, so threads mostly write
 * lines of their own. */
static CTAB_INLINE _Atomic uint32_t *reader_enter(const struct plsp_ctab *t)
{
    unsigned char here;
    uint32_t stripe = ((uint32_t)((uintptr_t)&here >> 16) * 0x9E3779B9u) >> (32u - READER_STRIPE_BITS);
    uint32_t parity = epoch_parity(atomic_load_explicit(&t->epoch, memory_order_acquire));
    /* The counters are a part of the table a lookup writes; the table
     * itself was not defined const (plsp_ctab_create allocates it). */
    _Atomic uint32_t *n = &((struct plsp_ctab *)t)->readers[parity][stripe].n;

    atomic_fetch_add_explicit(n, 1u, memory_order_seq_cst);
    return n;
}

static CTAB_INLINE void reader_exit(_Atomic uint32_t *n)
{
    atomic_fetch_sub_explicit(n, 1u, memory_order_release);
}

/* The lookup proper, between a reader's announcement and its end. */
static CTAB_INLINE int lookup_inside(const struct plsp_ctab *t, uint64_t key,
                                     struct plsp_conn *out)
{
    const uint32_t s = atomic_load_explicit(&t->seq, memory_order_acquire);
    int r = -1;

    if ((s & 1u) == 0)
        r = lookup_once(t, key, s, out);
    if (r < 0)
        r = lookup_slow(t, key, out);
    return r;
}

/* Announces the lookup in the thread's slot: a plain store of the epoch's
 * tag, ordered before the table's loads for the compiler only; the writer's
 * barrier does the CPU's part (slots_clear). */
static CTAB_INLINE void slot_enter(const struct plsp_ctab *t, struct ctab_slot *slot)
{
    atomic_store_explicit(&slot->active, atomic_load_explicit(&t->epoch, memory_order_acquire),
                          memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
}

static CTAB_INLINE void slot_exit(struct ctab_slot *slot)
{
    atomic_store_explicit(&slot->active, 0, memory_order_release);
}

/* A thread not at its home slot: its slot elsewhere, or a counter. */
CTAB_COLD static int lookup_away(const struct plsp_ctab *t, uint64_t key, struct plsp_conn *out,
                                 uintptr_t self)
{
    struct ctab_slot *slot = slot_find(t, self);
    _Atomic uint32_t *readers;
    int r;

    if (slot != NULL) {
        slot_enter(t, slot);
        r = lookup_inside(t, key, out);
        slot_exit(slot);
        return r;
    }
    readers = reader_enter(t);
    r = lookup_inside(t, key, out);
    reader_exit(readers);
    return r;
}

/* The hot path: a thread at its home slot announces itself with plain
 * stores, makes one attempt inline, and calls nothing but the slow paths;
 * no division, no indirect jumps. */
int plsp_ctab_lookup(const struct plsp_ctab *t, uint64_t key, struct plsp_conn *out)
{
    const uintptr_t self = ctab_thread_self();
    struct ctab_slot *slot = slot_home(t, self);
    int r;

    if (atomic_load_explicit(&slot->owner, memory_order_relaxed) != self)
        return lookup_away(t, key, out, self);
    slot_enter(t, slot);
    r = lookup_inside(t, key, out);
    slot_exit(slot);
    return r;
}

size_t plsp_ctab_reader_slots(const struct plsp_ctab *t)
{
    size_t n = 0;
    unsigned i;

    for (i = 0; i < READER_SLOTS; i++)
        n += atomic_load_explicit(&t->rslots[i].owner, memory_order_relaxed) != 0;
    return n;
}

size_t plsp_ctab_count(const struct plsp_ctab *t)
{
    return atomic_load_explicit(&t->count, memory_order_relaxed);
}

size_t plsp_ctab_memory(const struct plsp_ctab *t)
{
    return atomic_load_explicit(&t->memory, memory_order_relaxed);
}
