/*
 * host_stats.c - how often the host called each WSP function, for
 * peerlsp-run's --stats. Off unless host_count_calls(1) was called: the
 * counters are shared by every thread, and the end-to-end tests and
 * benchmarks that go through the host should not pay for them.
 */
#include "host_internal.h"

static const char *const wsp_names[HOST_WSP_COUNT] = {
#define HOST_WSP_NAME(name) #name,
    HOST_WSP_FUNCTIONS(HOST_WSP_NAME)
#undef HOST_WSP_NAME
};

static volatile LONG wsp_calls[HOST_WSP_COUNT];
static volatile LONG unknown_handles;
static int counting;

void host_count_calls(int on)
{
    counting = on;
}

void host_count(enum host_wsp fn)
{
    if (counting)
        InterlockedIncrement(&wsp_calls[fn]);
}

const char *host_call_count(size_t i, LONG *count)
{
    if (i >= HOST_WSP_COUNT)
        return NULL;
    *count = InterlockedCompareExchange(&wsp_calls[i], 0, 0);
    return wsp_names[i];
}

void host_count_unknown_handle(void)
{
    if (counting)
        InterlockedIncrement(&unknown_handles);
}

LONG host_unknown_handles(void)
{
    return InterlockedCompareExchange(&unknown_handles, 0, 0);
}
