/*
 * control.c - the test-only exports: call counters and inspection.
 *
 * Counters are plain LONGs changed with Interlocked operations, so that WSP
 * functions running on many threads never contend on a lock to count.
 */
#include <string.h>

#include "internal.h"

static volatile LONG call_counts[TBASE__FN_COUNT];

static const char *const function_names[TBASE__FN_COUNT] = {
#define TBASE__FN_NAME(name) #name,
    TBASE__FUNCTIONS(TBASE__FN_NAME)
#undef TBASE__FN_NAME
};

static volatile LONG next_startup_failure;

/* Per-thread counts: one array per thread that makes calls, in a TLS slot
 * allocated on first use and never freed (a test DLL; threads are few). */
static INIT_ONCE thread_counts_once = INIT_ONCE_STATIC_INIT;
static DWORD thread_counts_slot = TLS_OUT_OF_INDEXES;

static BOOL CALLBACK thread_counts_init(PINIT_ONCE once, PVOID param, PVOID *context)
{
    (void)once;
    (void)param;
    (void)context;
    thread_counts_slot = TlsAlloc();
    return thread_counts_slot != TLS_OUT_OF_INDEXES;
}

/* The calling thread's counts, created when `create`; NULL without. The
 * thread's last error is kept: counting must not change what the caller
 * of a WSP function sees. */
static LONG *thread_counts(int create)
{
    DWORD saved = GetLastError();
    LONG *counts = NULL;
    if (InitOnceExecuteOnce(&thread_counts_once, thread_counts_init, NULL, NULL)) {
        counts = TlsGetValue(thread_counts_slot);
        if (!counts && create) {
            counts = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY,
                               TBASE__FN_COUNT * sizeof *counts);
            if (counts && !TlsSetValue(thread_counts_slot, counts)) {
                HeapFree(GetProcessHeap(), 0, counts);
                counts = NULL;
            }
        }
    }
    SetLastError(saved);
    return counts;
}

void tbase__count(enum tbase__fn fn)
{
    InterlockedIncrement(&call_counts[fn]);
    LONG *mine = thread_counts(1);
    if (mine)
        mine[fn]++;
}

static int function_index(const char *wsp_function_name)
{
    if (!wsp_function_name)
        return -1;
    for (int i = 0; i < TBASE__FN_COUNT; i++) {
        if (!strcmp(function_names[i], wsp_function_name))
            return i;
    }
    return -1;
}

/***********************************************************************
 *      tbase_thread_calls
 */
LONG WINAPI tbase_thread_calls(const char *wsp_function_name)
{
    int i = function_index(wsp_function_name);
    if (i < 0)
        return -1;
    LONG *mine = thread_counts(0);
    return mine ? mine[i] : 0;
}

/***********************************************************************
 *      tbase_calls
 */
LONG WINAPI tbase_calls(const char *wsp_function_name)
{
    int i = function_index(wsp_function_name);
    return i < 0 ? -1 : InterlockedCompareExchange(&call_counts[i], 0, 0);
}

/***********************************************************************
 *      tbase_reset_calls
 */
void WINAPI tbase_reset_calls(void)
{
    size_t i;

    for (i = 0; i < TBASE__FN_COUNT; i++)
        InterlockedExchange(&call_counts[i], 0);
}

/***********************************************************************
 *      tbase_fail_next_startup
 */
void WINAPI tbase_fail_next_startup(int error)
{
    InterlockedExchange(&next_startup_failure, error);
}

int tbase__take_startup_failure(void)
{
    return (int)InterlockedExchange(&next_startup_failure, 0);
}

/***********************************************************************
 *      tbase_open_sockets
 */
LONG WINAPI tbase_open_sockets(void)
{
    return tbase__sock_count();
}
