/*
 * route.h - peerlsp-route.dll, the router peerlsp-run loads into an
 * unmodified program: what its files share.
 *
 * The router makes the program's Winsock calls go through the test host
 * (tests/host), which plays ws2_32's part over a catalog snapshot and
 * loads the providers of that catalog (peerlsp.dll over tbase.dll). It
 * rewrites the import address tables of the program's modules: every slot
 * that the loader filled with an export of ws2_32.dll or mswsock.dll gets
 * the router's replacement for that export (found by address, so imports
 * by ordinal are covered), and the program's GetProcAddress and
 * LoadLibrary* imports are replaced too, so that later look-ups and
 * modules loaded later are covered.
 *
 * Every export of Wine's ws2_32.dll and mswsock.dll has one of these
 * kinds (route_table.c):
 *  - ROUTED: the host's function: the call goes through the SPI.
 *  - PURE: Wine's own function, left in place: it takes no socket (byte
 *    order, address text, name resolution, events, the catalog editing
 *    functions of a program that is not ours to route).
 *  - UNSUPPORTED: takes a socket, or its meaning depends on the providers,
 *    and the host has no SPI path for it: the call prints a message naming
 *    the function and ends the process with exit code 126. An export the
 *    table does not list is UNSUPPORTED.
 * No export reaches Wine's sockets without passing a provider; a program
 * can still do so through a module the router does not patch (Wine's own
 * DLLs) or through kernel32 on a socket handle, as on Windows.
 */
#ifndef PEERLSP_TESTS_ROUTE_H
#define PEERLSP_TESTS_ROUTE_H

#include <winsock2.h>
#include <windows.h>

/* Exit code of a program that called an unsupported function. */
#define ROUTE_EXIT_UNSUPPORTED 126
/* Exit code when the router could not start (reported by peerlsp-run). */
#define ROUTE_EXIT_START_FAILED 125

enum route_kind { ROUTE_PURE, ROUTE_ROUTED, ROUTE_UNSUPPORTED };

struct route_export {
    const char *dll;   /* "ws2_32.dll" or "mswsock.dll" */
    const char *name;
    enum route_kind kind;
    void *routed;      /* ROUTE_ROUTED: the replacement */
};

/* route_table.c: the kind of every export by name; NULL if not listed. */
const struct route_export *route_table_find(const char *dll, const char *name);

/* route_api.c: the router's own replacements (what the host's functions
 * need around them: WSAStartup and WSACleanup also start Wine's ws2_32,
 * getpeername is counted). */
int WSAAPI route_WSAStartup(WORD version, LPWSADATA data);
int WSAAPI route_WSACleanup(void);
int WSAAPI route_getpeername(SOCKET s, struct sockaddr *name, int *namelen);

/* route_stubs.c: a function that ends the program naming `name` (made
 * once per export, kept for the life of the process); NULL without memory. */
void *route_unsupported_stub(const char *dll, const char *name);
/* A function that adds one to *counter and continues in `real` with the
 * caller's arguments (a bypass counter); NULL without memory. */
void *route_counting_stub(volatile LONG64 *counter, void *real);

/* route_patch.c: maps every export of the two DLLs to its replacement and
 * patches the modules loaded now (all but the router and the DLLs of the
 * catalog's providers); later loads through the program's LoadLibrary* are
 * patched as they come. 0 or a Win32 error. */
struct simcat;
int route_patch_start(const struct simcat *cat);

/* route_stats.c */
void route_stats_getpeername(int asked_below);
/* A counter for calls of dll!name that reached Wine's socket functions
 * from a module the router does not route (named in the stats when it is
 * not 0); NULL without memory. */
volatile LONG64 *route_stats_bypass_counter(const char *dll, const char *name);
/* Writes the --stats file (PEERLSP_RUN_STATS); called at process exit. */
void route_stats_write(void);

/* Messages to the program's standard error, prefixed "peerlsp-run: ". */
void route_say(const char *fmt, ...);

#endif /* PEERLSP_TESTS_ROUTE_H */
