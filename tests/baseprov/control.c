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

void tbase__count(enum tbase__fn fn)
{
    InterlockedIncrement(&call_counts[fn]);
}

/***********************************************************************
 *      tbase_calls
 */
LONG WINAPI tbase_calls(const char *wsp_function_name)
{
    size_t i;

    if (!wsp_function_name)
        return -1;
    for (i = 0; i < TBASE__FN_COUNT; i++) {
        if (!strcmp(function_names[i], wsp_function_name))
            return InterlockedCompareExchange(&call_counts[i], 0, 0);
    }
    return -1;
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
