/*
 * ctab_test_alloc.h - the hooks the connection table's test builds compile
 * src/conntable.c with:
 *
 *   -DPLSP_CTAB_MALLOC=ctab_test_malloc -DPLSP_CTAB_FREE=ctab_test_free
 *   -DPLSP_CTAB_RACE_POINT=ctab_test_race_point
 *
 * The allocator counts live bytes (so plsp_ctab_memory() can be checked
 * against what was really allocated) and fails a chosen allocation; the
 * race point stalls now and then, widening the windows the thread tests
 * aim at.  The shipped DLL is built without them.
 */
#ifndef PEERLSP_CTAB_TEST_ALLOC_H
#define PEERLSP_CTAB_TEST_ALLOC_H

#include <stddef.h>

void *ctab_test_malloc(size_t size);
void ctab_test_free(void *ptr);

/* Bytes allocated through the hook and not yet freed. */
size_t ctab_test_live_bytes(void);
/* Allocation calls made through the hook so far (failed ones included). */
size_t ctab_test_alloc_calls(void);
/* Makes the n-th allocation from now fail (0 = the next one), once;
 * n < 0 disarms. */
void ctab_test_fail_after(long n);
/* 1 when an armed failure has not happened yet. */
int ctab_test_fail_pending(void);

/* Spins for a short random time once in a while (per-thread randomness);
 * or parks the thread, when it asked to (below). */
void ctab_test_race_point(void);

/* The barrier's page protection (-DPLSP_CTAB_PAGE_PROTECT=
 * ctab_test_page_protect): changes it as the OS does, or fails while
 * ctab_test_fail_protect(1) is in force. */
int ctab_test_page_protect(void *page, size_t size, int writable);
void ctab_test_fail_protect(int fail);
/* Protection changes asked for so far (a barrier asks for two). */
size_t ctab_test_protect_calls(void);

/* Gives the CPU away (SwitchToThread / sched_yield). */
void ctab_test_yield(void);

/* Parking a thread inside a table call: the calling thread's next race
 * point waits there until ctab_test_unpark().  ctab_test_parked() is 1
 * while a thread waits at one.  One parked thread at a time. */
void ctab_test_park_at_next_race_point(void);
int ctab_test_parked(void);
void ctab_test_unpark(void);

#endif /* PEERLSP_CTAB_TEST_ALLOC_H */
