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
 * allocation counted) and a lookup that leaves the caches once, for the
 * record (1,000,000 entries take no more than 4 times as long as 1,000):
 *   - the index: open addressing with linear probing over one-byte slots,
 *     at most half full, doubled before an insert would pass that, deleted
 *     from by backward shift (no tombstones).  A slot holds 0 (empty) or
 *     1 + its record's position in its group's block: GROUP_SLOTS
 *     consecutive slots share a block, whose pointer sits in an array
 *     after the slots (8 bytes per 64 slots; 2 MB of slots and 256 KB of
 *     pointers at 1,000,000 entries, which the caches keep).
 *   - records: 48 bytes (key and struct plsp_conn), then the births, in
 *     the group's block, which grows BLOCK_STEP records at a time (a
 *     larger copy replaces it, the old one retired).  A removed record's
 *     position stays free for the next insert to its group; a removal
 *     never allocates (index_delete).
 *   - an old index is retired with its blocks, not freed at once, as a
 *     reader may still be probing it; so are replaced blocks.
 *   - shrinking: when a removal leaves the index at most 1/8 full, the
 *     writer builds a new index sized for what is left (at most 1/4 full,
 *     each block with room for what its group holds), publishes it with
 *     one store and retires the old one with its blocks.
 *
 * Giving retired blocks back (see "reclamation" below): each thread that
 * looks up takes a reader slot (READER_SLOTS, each on its own cache line,
 * found from the thread's identity, given back when the thread ends) and
 * stores in it, with plain stores, the table-wide epoch while it reads the
 * table and 0 after.  A writer bumps the epoch after unpublishing blocks
 * and makes every thread of the process drain its pending stores (a
 * process-wide barrier, ctab_barrier); it frees the blocks once no slot
 * holds an older epoch.  The lookup thus pays no locked instruction; the
 * writer pays the barrier, once per batch of retired blocks (an index's
 * growth or shrink, or enough blocks replaced by larger ones; not ordinary
 * writes).  A lookup that finds no slot (all taken,
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
#define REC_CONN KEY_CELLS /* the first cell of struct plsp_conn */

_Static_assert(sizeof(struct plsp_conn) == 40, "struct plsp_conn must be 40 bytes");
_Static_assert(offsetof(struct plsp_conn, gen) == 0, "gen comes first");
_Static_assert(offsetof(struct plsp_conn, peer) == 12, "peer follows the gen and 4 tag bytes");
_Static_assert(sizeof(ctab_cell) == sizeof(ctab_cell_bits), "an atomic cell is a plain cell");

/* ---- index and blocks ----------------------------------------------------
 *
 * An index slot is one byte: 0 when empty, else 1 + the position of its
 * record in the block of the slot's group (GROUP_SLOTS consecutive slots
 * share a block).  A lookup thus loads the slot, the group's block pointer
 * (an array of 8 bytes per 64 slots: it stays in the caches) and the record:
 * one load that leaves the caches where an index of record ids made two.
 *
 * A block holds at most its group's slot count of records, at the
 * positions the slots name; it grows BLOCK_STEP records at a time, as a new
 * block (same positions) that replaces it, the old one retired.  A removed
 * record's position stays free in its block for a later insert to the
 * group.  Births (the low 32 bits of the gen of the insert that made each
 * record's socket instance, what remove_if compares: same_instance) follow
 * the records in the block; lookups never read them. */
typedef _Atomic uint8_t ctab_pos;

#define GROUP_SHIFT 6u
#define GROUP_SLOTS (1u << GROUP_SHIFT)
#define BLOCK_STEP 4u

struct ctab_block {
    struct ctab_block *retired_next; /* writer only, once retired */
    uint64_t free_mask;              /* writer only: bit p set = position p free */
    uint32_t cap;                    /* records it has room for; fixed once made */
    uint32_t reserved;
    ctab_cell recs[];                /* cap records, then cap births (uint32_t) */
};

/* A group's block, NULL before its first record.  Within an index a block
 * is only ever replaced by a larger one. */
typedef _Atomic(struct ctab_block *) ctab_group;

/* An index owns the blocks its groups point at: retired, they go with
 * it. */
struct ctab_index {
    struct ctab_index *retired_next; /* writer only, once retired */
    uint32_t mask;                   /* capacity - 1 */
    uint32_t shift;                  /* HASH_BITS - log2(capacity) */
    ctab_group *groups;              /* after the slots, in this allocation */
    ctab_pos slots[];
};

#define INDEX_MIN_BITS 4u  /* 16 slots */
#define INDEX_MAX_BITS 31u
#define MAX_RECORDS ((size_t)1 << (INDEX_MAX_BITS - 1u)) /* the index stays half empty */

_Static_assert(GROUP_SLOTS <= 64u && GROUP_SLOTS < 0xFFu, "positions fit free_mask and a slot");

/* The table points at the slot array, not at the index's header, so the
 * lookup indexes it without adding an offset; the header sits just before
 * it. */
static const struct ctab_index *index_of(const ctab_pos *slots)
{
    return (const struct ctab_index *)((const char *)slots - offsetof(struct ctab_index, slots));
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
    _Atomic(ctab_pos *) slots; /* the live index's slot array */

    /* Writers only, under lock; count and memory are atomic so that
     * plsp_ctab_count/memory may be called from any thread. */
    _Alignas(CTAB_LINE) ctab_lock lock;
    _Atomic size_t count;
    _Atomic size_t memory;
    plsp_gen next_gen; /* the next write's gen: one counter, never wraps */
    /* Retired indexes (each with its blocks) and blocks replaced by larger
     * ones (reclamation): pending ones were unpublished since the last idle
     * check; waiting ones have been seen clear of readers of one parity. */
    struct ctab_index *pending_indexes, *waiting_indexes;
    struct ctab_block *pending_blocks, *waiting_blocks;
    size_t pending_block_bytes; /* the pending blocks' size */
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

/* The writer's (non-const) view of the live index. */
static struct ctab_index *live_index(const struct plsp_ctab *t)
{
    return (struct ctab_index *)index_of(atomic_load_explicit(&t->slots, memory_order_relaxed));
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

/* Where an index of n slots keeps its groups: after the header and the
 * slots, aligned for them. */
static size_t index_groups_offset(size_t n)
{
    const size_t align = _Alignof(ctab_group);

    return (offsetof(struct ctab_index, slots) + n + align - 1u) & ~(align - 1u);
}

static size_t groups_of(size_t n)
{
    return (n + GROUP_SLOTS - 1u) >> GROUP_SHIFT;
}

static size_t index_groups(const struct ctab_index *ix)
{
    return groups_of((size_t)ix->mask + 1u);
}

static size_t index_bytes(const struct ctab_index *ix)
{
    return index_groups_offset((size_t)ix->mask + 1u) + index_groups(ix) * sizeof(ctab_group);
}

static size_t block_bytes(uint32_t cap)
{
    return offsetof(struct ctab_block, recs) +
           (size_t)cap * (REC_CELLS * CELL_BYTES + sizeof(uint32_t));
}

/* The most records a block of ix can need: its group's slot count. */
static uint32_t block_cap_max(const struct ctab_index *ix)
{
    return ix->mask + 1u < GROUP_SLOTS ? ix->mask + 1u : GROUP_SLOTS;
}

/* Room for n records, in steps of BLOCK_STEP, within ix's groups. */
static uint32_t block_cap_for(const struct ctab_index *ix, uint32_t n)
{
    uint32_t cap = (n + BLOCK_STEP - 1u) / BLOCK_STEP * BLOCK_STEP, max = block_cap_max(ix);

    return cap < max ? cap : max;
}

static struct ctab_index *index_new(struct plsp_ctab *t, uint32_t bits)
{
    struct ctab_index *ix;
    size_t n, groups, head, i;

    /* On 32-bit targets the largest indexes are not addressable. */
    if (bits > INDEX_MAX_BITS || bits >= sizeof(size_t) * 8u - 1u)
        return NULL;
    n = (size_t)1 << bits;
    groups = groups_of(n);
    if (n > SIZE_MAX / 2u - offsetof(struct ctab_index, slots))
        return NULL;
    head = index_groups_offset(n);
    if (groups > (SIZE_MAX - head) / sizeof(ctab_group))
        return NULL;
    ix = ctab_alloc(t, head + groups * sizeof(ctab_group));
    if (ix == NULL)
        return NULL;
    ix->retired_next = NULL;
    ix->mask = (uint32_t)(n - 1u);
    ix->shift = HASH_BITS - bits;
    ix->groups = (ctab_group *)(void *)((unsigned char *)ix + head);
    for (i = 0; i < n; i++)
        atomic_init(&ix->slots[i], 0);
    for (i = 0; i < groups; i++)
        atomic_init(&ix->groups[i], NULL);
    return ix;
}

static struct ctab_block *block_new(struct plsp_ctab *t, uint32_t cap)
{
    struct ctab_block *b = ctab_alloc(t, block_bytes(cap));
    size_t i;

    if (b == NULL)
        return NULL;
    b->retired_next = NULL;
    b->free_mask = cap >= 64u ? UINT64_MAX : ((uint64_t)1 << cap) - 1u;
    b->cap = cap;
    b->reserved = 0;
    for (i = 0; i < (size_t)cap * REC_CELLS; i++)
        atomic_init(&b->recs[i], 0);
    return b;
}

static void block_free(struct plsp_ctab *t, struct ctab_block *b)
{
    if (b != NULL)
        ctab_free(t, b, block_bytes(b->cap));
}

/* Frees ix and the blocks it owns. */
static void index_free(struct plsp_ctab *t, struct ctab_index *ix)
{
    size_t g, groups = index_groups(ix);

    for (g = 0; g < groups; g++)
        block_free(t, atomic_load_explicit(&ix->groups[g], memory_order_relaxed));
    ctab_free(t, ix, index_bytes(ix));
}

/* ---- writer-side helpers (called with the lock held) ---------------------- */

static ctab_cell *block_rec(const struct ctab_block *b, unsigned p)
{
    return (ctab_cell *)b->recs + (size_t)p * REC_CELLS;
}

static uint32_t *block_births(const struct ctab_block *b)
{
    return (uint32_t *)(void *)((ctab_cell *)b->recs + (size_t)b->cap * REC_CELLS);
}

/* Takes the lowest free position of b; the caller knows there is one. */
static unsigned block_take(struct ctab_block *b)
{
    unsigned p = 0;

    while (((b->free_mask >> p) & 1u) == 0)
        p++;
    b->free_mask &= ~((uint64_t)1 << p);
    return p;
}

static struct ctab_block *group_block(const struct ctab_index *ix, uint32_t i)
{
    return atomic_load_explicit(&ix->groups[i >> GROUP_SHIFT], memory_order_relaxed);
}

/* Makes b group g's block. */
static void group_set(struct ctab_index *ix, size_t g, struct ctab_block *b)
{
    atomic_store_explicit(&ix->groups[g], b, memory_order_release);
}

/* Slot i's position, 0 when empty. */
static unsigned slot_pos(const struct ctab_index *ix, uint32_t i)
{
    return atomic_load_explicit(&ix->slots[i], memory_order_relaxed);
}

/* The record and the birth of occupied slot i. */
static ctab_cell *slot_rec(const struct ctab_index *ix, uint32_t i)
{
    return block_rec(group_block(ix, i), slot_pos(ix, i) - 1u);
}

static uint32_t *slot_birth(const struct ctab_index *ix, uint32_t i)
{
    return block_births(group_block(ix, i)) + (slot_pos(ix, i) - 1u);
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

static void rec_copy(ctab_cell *to, const ctab_cell *from)
{
    unsigned c;

    for (c = 0; c < REC_CELLS; c++)
        rec_set_cell(to, c, rec_cell(from, c));
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

/* Probes ix for key: returns 1 with *pos at its slot, or 0 with *pos at the
 * empty slot that ended the probe. */
static int index_find_in(const struct ctab_index *ix, uint64_t key, uint32_t *pos)
{
    uint32_t i = (uint32_t)key_home(key, ix->shift);
    int found = 0;

    while (slot_pos(ix, i) != 0) {
        if (rec_key(slot_rec(ix, i)) == key) {
            found = 1;
            break;
        }
        i = (i + 1u) & ix->mask;
    }
    *pos = i;
    return found;
}

static int index_find(const struct plsp_ctab *t, uint64_t key, uint32_t *pos)
{
    return index_find_in(live_index(t), key, pos);
}

/* The first empty slot of `to` from key's home, marked taken with `mark`. */
static uint32_t index_claim(struct ctab_index *to, uint64_t key, unsigned mark)
{
    uint32_t j = (uint32_t)key_home(key, to->shift);

    while (slot_pos(to, j) != 0)
        j = (j + 1u) & to->mask;
    atomic_store_explicit(&to->slots[j], (uint8_t)mark, memory_order_relaxed);
    return j;
}

/* Fills `to`, a new, empty, unpublished index, with the records of `from`:
 * each in the first free slot from its home, copied into the block of that
 * slot's group, made here with room for the group's records (rounded up to
 * BLOCK_STEP).  Two passes in the same order, so that the second lands every
 * record where the first counted it.  Readers meanwhile use `from`.  Returns
 * 0, or -1 out of memory (`to` then has no blocks). */
static int index_fill(struct plsp_ctab *t, const struct ctab_index *from, struct ctab_index *to)
{
    const size_t groups = index_groups(to);
    uint8_t *counts = ctab_alloc(t, groups);
    struct ctab_block *b;
    uint32_t i, j;
    size_t g;
    unsigned p;

    if (counts == NULL)
        return -1;
    memset(counts, 0, groups);
    for (i = 0; i <= from->mask; i++)
        if (slot_pos(from, i) != 0)
            counts[index_claim(to, rec_key(slot_rec(from, i)), 0xFFu) >> GROUP_SHIFT]++;
    for (j = 0; j <= to->mask; j++)
        atomic_store_explicit(&to->slots[j], 0, memory_order_relaxed);
    for (g = 0; g < groups; g++) {
        if (counts[g] == 0)
            continue;
        b = block_new(t, block_cap_for(to, counts[g]));
        if (b == NULL) {
            ctab_free(t, counts, groups);
            for (g = 0; g < groups; g++) {
                block_free(t, atomic_load_explicit(&to->groups[g], memory_order_relaxed));
                group_set(to, g, NULL);
            }
            return -1;
        }
        group_set(to, g, b);
    }
    ctab_free(t, counts, groups);
    for (i = 0; i <= from->mask; i++) {
        const ctab_cell *rec;

        if (slot_pos(from, i) == 0)
            continue;
        rec = slot_rec(from, i);
        j = index_claim(to, rec_key(rec), 0xFFu);
        b = group_block(to, j);
        p = block_take(b);
        rec_copy(block_rec(b, p), rec);
        block_births(b)[p] = *slot_birth(from, i);
        atomic_store_explicit(&to->slots[j], (uint8_t)(p + 1u), memory_order_relaxed);
    }
    return 0;
}

/* Moves occupied slot `from`'s record into the block of slot `to`'s group
 * (another group's) and returns its position there, plus 1.  That block has
 * a free position: see index_delete. */
static unsigned move_record(struct ctab_index *ix, uint32_t from, uint32_t to)
{
    struct ctab_block *src = group_block(ix, from), *dst = group_block(ix, to);
    unsigned sp = slot_pos(ix, from) - 1u, dp = block_take(dst);

    rec_copy(block_rec(dst, dp), block_rec(src, sp));
    block_births(dst)[dp] = block_births(src)[sp];
    src->free_mask |= (uint64_t)1 << sp;
    return dp + 1u;
}

/* Empties slot pos, whose record's position was just freed, by backward
 * shift: each later entry of the cluster that may live in the hole (its
 * home is not in the cyclic range (hole, j]) moves into it, and its old slot
 * becomes the hole.  The hole's group always has a free position: at first
 * the removed record's; a move within a group leaves it free; a move from
 * another group takes it and frees the moved record's position in the group
 * the hole moves to.  Called inside the write bracket: a reader that sees
 * an entry twice or not at all retries.  Release stores: a moved record was
 * written before its slot. */
static void index_delete(struct plsp_ctab *t, uint32_t pos)
{
    struct ctab_index *ix = live_index(t);
    uint32_t hole = pos, j = pos, home;
    unsigned p;

    for (;;) {
        j = (j + 1u) & ix->mask;
        p = slot_pos(ix, j);
        if (p == 0)
            break;
        home = (uint32_t)key_home(rec_key(slot_rec(ix, j)), ix->shift);
        if (((j - home) & ix->mask) >= ((j - hole) & ix->mask)) {
            if ((j >> GROUP_SHIFT) != (hole >> GROUP_SHIFT))
                p = move_record(ix, j, hole);
            atomic_store_explicit(&ix->slots[hole], (uint8_t)p, memory_order_release);
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
        index_free(t, ix);
    }
}

static void free_block_list(struct plsp_ctab *t, struct ctab_block *b)
{
    struct ctab_block *next;

    for (; b != NULL; b = next) {
        next = b->retired_next;
        block_free(t, b);
    }
}

static void retire_index(struct plsp_ctab *t, struct ctab_index *ix)
{
    ix->retired_next = t->pending_indexes;
    t->pending_indexes = ix;
}

static void retire_block(struct plsp_ctab *t, struct ctab_block *b)
{
    b->retired_next = t->pending_blocks;
    t->pending_blocks = b;
    t->pending_block_bytes += block_bytes(b->cap);
}

/* Blocks replaced by larger ones (one every BLOCK_STEP inserts to a group
 * while the table fills) wait until they make up 1/BLOCK_BATCH of the
 * table's memory, or an index retires, before they cost a barrier: a
 * barrier per replaced block made filling a table eight times slower
 * (about 1.5 us per insert natively). */
#define BLOCK_BATCH 16u

static int only_few_blocks_pending(const struct plsp_ctab *t)
{
    return t->pending_indexes == NULL && t->waiting_indexes == NULL &&
           t->waiting_blocks == NULL &&
           t->pending_block_bytes <
               atomic_load_explicit(&t->memory, memory_order_relaxed) / BLOCK_BATCH;
}

static int nothing_retired(const struct plsp_ctab *t)
{
    return t->pending_indexes == NULL && t->pending_blocks == NULL &&
           t->waiting_indexes == NULL && t->waiting_blocks == NULL;
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

    if (nothing_retired(t) || only_few_blocks_pending(t))
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
    free_block_list(t, t->waiting_blocks);
    t->waiting_indexes = t->pending_indexes;
    t->waiting_blocks = t->pending_blocks;
    t->pending_indexes = NULL;
    t->pending_blocks = NULL;
    t->pending_block_bytes = 0;
    if (t->waiting_indexes != NULL || t->waiting_blocks != NULL) {
        atomic_fetch_add_explicit(&t->epoch, 2u, memory_order_seq_cst);
        /* Slot readers are only known to be seen after a barrier. */
        t->waiting_unfenced = t->have_slots && ctab_barrier(t) != 0;
    }
}

/* At the end of every write: two steps, so that with no lookup running
 * everything retired is freed at once (replaced blocks once they make a
 * batch). */
static void reclaim(struct plsp_ctab *t)
{
    reclaim_step(t);
    reclaim_step(t);
}

/* Builds a new index for the records left, when a removal leaves the index
 * at most 1/8 full: at most 1/4 full, each group's block with room for what
 * it holds.  Readers meanwhile use the old one; the new one is published
 * with one store and the old one retired with its blocks.  Out of memory: no
 * shrink, the table stays as it was.  Lock held. */
static void maybe_shrink(struct plsp_ctab *t)
{
    struct ctab_index *ix = live_index(t), *new_ix;
    size_t count = atomic_load_explicit(&t->count, memory_order_relaxed);
    uint32_t bits = INDEX_MIN_BITS;

    if (ix->mask + 1u <= (1u << INDEX_MIN_BITS) || count > ((size_t)ix->mask + 1u) / 8u)
        return;
    /* Not while an older layout still waits for readers to leave it: a
     * lookup that never leaves (a thread suspended or terminated inside
     * one) then stops reclamation, and without this shrinking and growing
     * again would pile up retired layouts without bound.  With it what
     * waits stays below one layout plus what growths retired: old indexes
     * (together less than the live one) and replaced blocks (at most a
     * few times the live ones: a group's block grows BLOCK_STEP records at
     * a time). */
    if (t->pending_indexes != NULL || t->waiting_indexes != NULL || t->waiting_blocks != NULL)
        return;
    while (((size_t)1 << bits) / 4u < count)
        bits++;
    new_ix = index_new(t, bits);
    if (new_ix == NULL)
        return;
    if (index_fill(t, ix, new_ix) != 0) {
        index_free(t, new_ix); /* never published: freed at once */
        return;
    }
    atomic_store_explicit(&t->slots, new_ix->slots, memory_order_release);
    retire_index(t, ix);
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

/* A block of ix to replace b (NULL: a group's first), with b's records at
 * their positions and BLOCK_STEP more free ones; NULL out of memory. */
static struct ctab_block *block_grown(struct plsp_ctab *t, const struct ctab_index *ix,
                                      const struct ctab_block *b)
{
    struct ctab_block *nb = block_new(t, block_cap_for(ix, b == NULL ? 1u : b->cap + 1u));
    unsigned p;

    if (nb == NULL || b == NULL)
        return nb;
    for (p = 0; p < b->cap; p++) {
        rec_copy(block_rec(nb, p), block_rec(b, p));
        block_births(nb)[p] = block_births(b)[p];
    }
    nb->free_mask = (nb->free_mask & ~(((uint64_t)1 << (b->cap - 1u) << 1) - 1u)) | b->free_mask;
    return nb;
}

/* Makes room for key's record before anything changes, so that running
 * out of memory leaves the table as it was: an index with room for one more
 * (doubled if need be) and a free position in the block of the slot the
 * insert will take, whose number goes to *pos.  A block replaced keeps the
 * same records at the same positions, so readers get the same answers from
 * either.  Returns 0 or -1. */
static int make_room(struct plsp_ctab *t, uint64_t key, uint32_t *pos)
{
    struct ctab_index *ix = live_index(t), *new_ix = NULL, *in = ix;
    struct ctab_block *b, *nb = NULL;
    size_t count = atomic_load_explicit(&t->count, memory_order_relaxed);

    if (count >= MAX_RECORDS)
        return -1;
    if (count + 1u > ((size_t)ix->mask + 1u) / 2u) {
        new_ix = index_new(t, HASH_BITS - ix->shift + 1u);
        if (new_ix == NULL)
            return -1;
        if (index_fill(t, ix, new_ix) != 0) {
            index_free(t, new_ix);
            return -1;
        }
        in = new_ix;
    }
    (void)index_find_in(in, key, pos);
    b = group_block(in, *pos);
    if (b == NULL || b->free_mask == 0) {
        nb = block_grown(t, in, b);
        if (nb == NULL) {
            if (new_ix != NULL)
                index_free(t, new_ix);
            return -1;
        }
    }

    /* Nothing fails from here on. */
    if (nb != NULL) {
        group_set(in, *pos >> GROUP_SHIFT, nb);
        if (b != NULL) {
            if (new_ix != NULL)
                block_free(t, b); /* never published */
            else
                retire_block(t, b);
        }
    }
    if (new_ix != NULL) {
        atomic_store_explicit(&t->slots, new_ix->slots, memory_order_release);
        retire_index(t, ix);
    }
    return 0;
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
    t->pending_indexes = t->waiting_indexes = NULL;
    t->pending_blocks = t->waiting_blocks = NULL;
    t->pending_block_bytes = 0;
    t->waiting_unfenced = 0;
    for (p = 0; p < 2; p++)
        for (i = 0; i < READER_STRIPES; i++)
            atomic_init(&t->readers[p][i].n, 0);
    for (i = 0; i < READER_SLOTS; i++) {
        atomic_init(&t->rslots[i].owner, 0);
        atomic_init(&t->rslots[i].active, 0);
    }
    slots_create(t);

    /* The smallest index, which is never shrunk: an application that opens
     * and closes a few sockets keeps its one block. */
    ix = index_new(t, INDEX_MIN_BITS);
    if (ix == NULL || ctab_lock_init(&t->lock) != 0)
        goto fail;
    atomic_init(&t->slots, ix->slots);
    return t;

fail:
    slots_destroy(t);
    if (ix != NULL)
        PLSP_CTAB_FREE(ix);
    PLSP_CTAB_FREE(raw);
    return NULL;
}

void plsp_ctab_destroy(struct plsp_ctab *t)
{
    if (t == NULL)
        return;
    index_free(t, live_index(t));
    free_index_list(t, t->pending_indexes);
    free_index_list(t, t->waiting_indexes);
    free_block_list(t, t->pending_blocks);
    free_block_list(t, t->waiting_blocks);
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
    struct ctab_index *ix;
    struct ctab_block *b;
    struct plsp_conn conn;
    ctab_cell *rec;
    uint32_t pos;
    unsigned p;

    ctab_lock_acquire(&t->lock);
    if (index_find(t, key, &pos)) {
        /* A reused handle value: whatever was known about it is gone. */
        ix = live_index(t);
        conn_fresh(&conn, take_gen(t), provider);
        write_begin(t);
        rec_write_conn(slot_rec(ix, pos), &conn);
        *slot_birth(ix, pos) = (uint32_t)conn.gen;
        write_end(t);
        settle(t);
        ctab_lock_release(&t->lock);
        if (gen_out)
            *gen_out = conn.gen;
        return 0;
    }
    if (make_room(t, key, &pos) != 0) {
        ctab_lock_release(&t->lock);
        return -1;
    }
    ix = live_index(t);
    b = group_block(ix, pos);
    p = block_take(b);
    rec = block_rec(b, p);
    conn_fresh(&conn, take_gen(t), provider);

    write_begin(t);
    rec_set_key(rec, key);
    rec_write_conn(rec, &conn);
    block_births(b)[p] = (uint32_t)conn.gen;
    /* Release: a reader that finds the position also finds the record. */
    atomic_store_explicit(&ix->slots[pos], (uint8_t)(p + 1u), memory_order_release);
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
    struct plsp_conn conn;
    ctab_cell *rec;
    uint32_t pos;
    int written = 0;

    if (peer == NULL || len == 0 || len > PLSP_PEER_MAX)
        return 0;
    ctab_lock_acquire(&t->lock);
    if (index_find(t, key, &pos)) {
        rec = slot_rec(live_index(t), pos);
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
    struct plsp_conn conn;
    ctab_cell *rec;
    uint32_t pos;
    int written = 0;

    if (state != PLSP_PEER_UNKNOWN && state != PLSP_PEER_VOLATILE)
        return 0;
    ctab_lock_acquire(&t->lock);
    if (index_find(t, key, &pos)) {
        rec = slot_rec(live_index(t), pos);
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

/* Deletes the record of slot pos.  Its position in the block is free from
 * then on; the record keeps its memory, and a reader still copying it
 * retries.  Lock held. */
static void remove_at(struct plsp_ctab *t, uint32_t pos)
{
    struct ctab_index *ix = live_index(t);

    write_begin(t);
    group_block(ix, pos)->free_mask |= (uint64_t)1 << (slot_pos(ix, pos) - 1u);
    index_delete(t, pos);
    write_end(t);
    atomic_fetch_sub_explicit(&t->count, 1u, memory_order_relaxed);
}

int plsp_ctab_remove_if(struct plsp_ctab *t, uint64_t key, plsp_gen gen)
{
    struct ctab_index *ix;
    struct plsp_conn conn;
    uint32_t pos;
    int removed = 0;

    ctab_lock_acquire(&t->lock);
    if (index_find(t, key, &pos)) {
        ix = live_index(t);
        rec_read_conn(slot_rec(ix, pos), &conn);
        if (same_instance(conn.gen, *slot_birth(ix, pos), gen)) {
            remove_at(t, pos);
            removed = 1;
        }
    }
    settle(t);
    ctab_lock_release(&t->lock);
    return removed;
}

int plsp_ctab_remove(struct plsp_ctab *t, uint64_t key)
{
    uint32_t pos;
    int found;

    ctab_lock_acquire(&t->lock);
    found = index_find(t, key, &pos);
    if (found)
        remove_at(t, pos);
    settle(t);
    ctab_lock_release(&t->lock);
    return found;
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
    const ctab_pos *slots = atomic_load_explicit(&t->slots, memory_order_seq_cst);
    const struct ctab_index *ix = index_of(slots);
    uintptr_t i = key_home(key, ix->shift);
    const struct ctab_block *b;
    const ctab_cell *rec;
    unsigned char *o;
    ctab_cell_bits c;
    unsigned p;

    for (;;) {
        /* Acquire: the block pointer and the record were written before
         * the slot was. */
        p = atomic_load_explicit(&slots[i], memory_order_acquire);
        if (p == 0) {
            /* Pairs with write_begin's release fence: if a load above saw
             * a writer's store, this re-read sees its odd seq or later. */
            atomic_thread_fence(memory_order_acquire);
            return atomic_load_explicit(&t->seq, memory_order_relaxed) == s ? 0 : -1;
        }
        /* The group's block, loaded after the slot: the position is inside
         * it, however a writer races this lookup.  The slot's store of p
         * came after the store of a block with room for p (make_room,
         * move_record); the acquire load of the slot orders this load
         * after that store, so it reads that block or a later one of the
         * same index, and blocks only grow.  (Retired ones stay until no
         * lookup can be in them: reclamation.)  The group array, 8 bytes
         * per 64 slots, stays in the caches: the record is the lookup's one
         * load from memory. */
        b = atomic_load_explicit(&ix->groups[i >> GROUP_SHIFT], memory_order_acquire);
        rec = (const ctab_cell *)b->recs + (uintptr_t)(p - 1u) * REC_CELLS;
        /* One 64-bit compare: fewer live registers than two halves. */
        if (rec_key(rec) == key)
            break;
        PLSP_CTAB_RACE_POINT();
        i = (i + 1u) & ix->mask;
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
