/*
 * control.c - the test-only exports: call counters and the switches that
 * steer WSPJoinLeaf and pending completion.
 */
#include <string.h>

#include "internal.h"

static volatile LONG call_counts[SIM_FN_COUNT];
static volatile LONG join_new_socket;
static volatile LONG next_peer_bytes;
/* simprov_fail_next: the function (its enum sim_fn + 1; 0: none) and the
 * error. One armed failure at a time. */
static volatile LONG fail_fn;
static volatile LONG fail_error;

static const char *const function_names[SIM_FN_COUNT] = {
#define SIM_FN_NAME(name) #name,
    SIM_FUNCTIONS(SIM_FN_NAME)
#undef SIM_FN_NAME
};

void sim_count(enum sim_fn fn)
{
    InterlockedIncrement(&call_counts[fn]);
}

int sim_enter(enum sim_fn fn)
{
    sim_count(fn);
    if (InterlockedCompareExchange(&fail_fn, 0, (LONG)fn + 1) != (LONG)fn + 1)
        return 0;
    return (int)InterlockedCompareExchange(&fail_error, 0, 0);
}

/***********************************************************************
 *      simprov_fail_next
 */
BOOL WINAPI simprov_fail_next(const char *function_name, int error)
{
    for (size_t i = 0; function_name && error && i < SIM_FN_COUNT; i++) {
        if (!strcmp(function_names[i], function_name)) {
            InterlockedExchange(&fail_error, error);
            InterlockedExchange(&fail_fn, (LONG)i + 1);
            return TRUE;
        }
    }
    InterlockedExchange(&fail_fn, 0);
    return FALSE;
}

/* simprov_empty_next_slot: the slot index + 1 (0: none). */
static volatile LONG empty_slot;

int sim_take_empty_slot(void)
{
    return (int)InterlockedExchange(&empty_slot, 0) - 1;
}

/***********************************************************************
 *      simprov_empty_next_slot
 */
void WINAPI simprov_empty_next_slot(int index)
{
    InterlockedExchange(&empty_slot, index >= 0 && index < 30 ? index + 1 : 0);
}

int sim_join_makes_new_socket(void)
{
    return InterlockedCompareExchange(&join_new_socket, 0, 0) != 0;
}

int sim_take_peer_bytes(void)
{
    return (int)InterlockedExchange(&next_peer_bytes, 0);
}

/***********************************************************************
 *      simprov_next_peer_bytes
 */
void WINAPI simprov_next_peer_bytes(int len)
{
    if (len < 0 || len > (int)sizeof(SOCKADDR_STORAGE))
        len = 0;
    InterlockedExchange(&next_peer_bytes, len);
}

/***********************************************************************
 *      simprov_calls
 */
LONG WINAPI simprov_calls(const char *function_name)
{
    for (size_t i = 0; function_name && i < SIM_FN_COUNT; i++) {
        if (!strcmp(function_names[i], function_name))
            return InterlockedCompareExchange(&call_counts[i], 0, 0);
    }
    return -1;
}

/***********************************************************************
 *      simprov_join_new_socket
 */
void WINAPI simprov_join_new_socket(int new_socket)
{
    InterlockedExchange(&join_new_socket, new_socket != 0);
}

/***********************************************************************
 *      simprov_open_sockets
 */
LONG WINAPI simprov_open_sockets(void)
{
    return sim_sock_count();
}
