/*
 * proctable.c - the WSPPROC_TABLE peerlsp hands to ws2_32.
 *
 * peerlsp only adds work where a socket's peer can change; everything else
 * goes to the lower provider's own function, with no peerlsp code on the
 * path at all, when that is unambiguous.
 */
#include <string.h>

#include "internal.h"

/* WSPPROC_TABLE is 30 function pointers of one size; handling it as an
 * array of slots keeps the per-slot comparison in one loop. */
typedef void (*plsp_slot)(void);
#define PLSP_SLOTS (sizeof(WSPPROC_TABLE) / sizeof(plsp_slot))

_Static_assert(sizeof(WSPPROC_TABLE) == 30 * sizeof(plsp_slot), "WSPPROC_TABLE has 30 slots");

static void table_to_slots(const WSPPROC_TABLE *table, plsp_slot slots[PLSP_SLOTS])
{
    memcpy(slots, table, sizeof *table);
}

int plsp_proctable_complete(const WSPPROC_TABLE *table)
{
    plsp_slot slots[PLSP_SLOTS];

    table_to_slots(table, slots);
    for (size_t i = 0; i < PLSP_SLOTS; i++) {
        if (!slots[i])
            return 0;
    }
    return 1;
}

void plsp_proctable_fill(WSPPROC_TABLE *table, struct plsp_chain *const *chains, size_t count)
{
    plsp_slot out[PLSP_SLOTS], dispatch[PLSP_SLOTS], first[PLSP_SLOTS], other[PLSP_SLOTS];

    table_to_slots(&chains[0]->lower->procs, first);
    table_to_slots(&plsp_dispatch_procs, dispatch);
    memcpy(out, first, sizeof out);
    for (size_t c = 1; c < count; c++) {
        if (chains[c]->lower == chains[0]->lower)
            continue;
        table_to_slots(&chains[c]->lower->procs, other);
        for (size_t i = 0; i < PLSP_SLOTS; i++) {
            if (other[i] != first[i])
                out[i] = dispatch[i];
        }
    }
    memcpy(table, out, sizeof *table);

    /* What peerlsp does itself: every way a handle appears, connects,
     * disconnects or goes away, and the question it answers. */
    table->lpWSPSocket = plsp_WSPSocket;
    table->lpWSPAccept = plsp_WSPAccept;
    table->lpWSPJoinLeaf = plsp_WSPJoinLeaf;
    table->lpWSPConnect = plsp_WSPConnect;
    table->lpWSPShutdown = plsp_WSPShutdown;
    table->lpWSPSendDisconnect = plsp_WSPSendDisconnect;
    table->lpWSPRecvDisconnect = plsp_WSPRecvDisconnect;
    table->lpWSPCloseSocket = plsp_WSPCloseSocket;
    table->lpWSPDuplicateSocket = plsp_WSPDuplicateSocket;
    table->lpWSPGetPeerName = plsp_WSPGetPeerName;
    table->lpWSPCleanup = plsp_WSPCleanup;
    /* Where a connection can be seen to end (transfer.c). */
    table->lpWSPRecv = plsp_WSPRecv;
    table->lpWSPRecvFrom = plsp_WSPRecvFrom;
    table->lpWSPSend = plsp_WSPSend;
    table->lpWSPSendTo = plsp_WSPSendTo;
    table->lpWSPGetOverlappedResult = plsp_WSPGetOverlappedResult;
    table->lpWSPEnumNetworkEvents = plsp_WSPEnumNetworkEvents;
    /* Extension functions and the options that complete them. */
    table->lpWSPIoctl = plsp_WSPIoctl;
    table->lpWSPSetSockOpt = plsp_WSPSetSockOpt;
    /* SO_PROTOCOL_INFO names peerlsp's chain entry (options.c). */
    table->lpWSPGetSockOpt = plsp_WSPGetSockOpt;
}
