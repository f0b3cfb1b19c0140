/*
 * ctab_test_alloc.c - counting, failure-injecting allocator and race point
 * for the connection table's tests and fuzzer (see ctab_test_alloc.h).
 */
#include "ctab_test_alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <sched.h>
#include <sys/mman.h>
#endif

/* Each block starts with its size, padded to the strictest alignment so the
 * table's blocks stay as aligned as malloc's. */
typedef union {
    max_align_t align;
    size_t size;
} block_header;

static atomic_size_t live_bytes;
static atomic_size_t alloc_calls;
static atomic_long fail_countdown = -1;

void *ctab_test_malloc(size_t size)
{
    block_header *h;
    long c;

    atomic_fetch_add(&alloc_calls, 1);
    c = atomic_load(&fail_countdown);
    while (c >= 0) {
        /* Armed: count down; the allocation that finds 0 fails. */
        if (atomic_compare_exchange_weak(&fail_countdown, &c, c - 1)) {
            if (c == 0)
                return NULL;
            break;
        }
    }
    if (size > (size_t)-1 - sizeof(*h))
        return NULL;
    h = malloc(sizeof(*h) + size);
    if (h == NULL)
        return NULL;
    h->size = size;
    atomic_fetch_add(&live_bytes, size);
    return h + 1;
}

void ctab_test_free(void *ptr)
{
    block_header *h;

    if (ptr == NULL)
        return;
    h = (block_header *)ptr - 1;
    atomic_fetch_sub(&live_bytes, h->size);
    free(h);
}

size_t ctab_test_live_bytes(void)
{
    return atomic_load(&live_bytes);
}

size_t ctab_test_alloc_calls(void)
{
    return atomic_load(&alloc_calls);
}

void ctab_test_fail_after(long n)
{
    atomic_store(&fail_countdown, n < 0 ? -1 : n);
}

int ctab_test_fail_pending(void)
{
    return atomic_load(&fail_countdown) >= 0;
}

static atomic_int fail_protect;
static atomic_size_t protect_calls;

size_t ctab_test_protect_calls(void)
{
    return atomic_load(&protect_calls);
}

void ctab_test_fail_protect(int fail)
{
    atomic_store(&fail_protect, fail);
}

int ctab_test_page_protect(void *page, size_t size, int writable)
{
    atomic_fetch_add(&protect_calls, 1);
    if (atomic_load(&fail_protect))
        return -1;
#ifdef _WIN32
    DWORD old;
    return VirtualProtect(page, size, writable ? PAGE_READWRITE : PAGE_READONLY, &old) ? 0 : -1;
#else
    return mprotect(page, size, writable ? PROT_READ | PROT_WRITE : PROT_READ) == 0 ? 0 : -1;
#endif
}

static _Thread_local int park_me;
static atomic_int parked, unparked;

void ctab_test_park_at_next_race_point(void)
{
    atomic_store(&unparked, 0);
    park_me = 1;
}

int ctab_test_parked(void)
{
    return atomic_load(&parked);
}

void ctab_test_unpark(void)
{
    atomic_store(&unparked, 1);
}

void ctab_test_yield(void)
{
#ifdef _WIN32
    SwitchToThread();
#else
    sched_yield();
#endif
}

static void park(void)
{
    park_me = 0;
    atomic_store(&parked, 1);
    while (!atomic_load(&unparked))
        ctab_test_yield();
    atomic_store(&parked, 0);
}

void ctab_test_race_point(void)
{
    /* xorshift32 per thread, seeded from the address of its state. */
    static _Thread_local uint32_t x;
    volatile unsigned spin;
    unsigned n;

    if (park_me) {
        park();
        return;
    }

    if (x == 0)
        x = (uint32_t)(uintptr_t)&x | 1u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    /* One time in 8, stall for up to ~1000 loop turns. */
    if ((x & 7u) != 0)
        return;
    n = (x >> 8) & 0x3ffu;
    for (spin = 0; spin < n; spin++)
        ;
}
