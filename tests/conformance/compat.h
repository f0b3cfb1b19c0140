/* Force-included (-include compat.h) into every file of the conformance
 * executable: what Wine's tests and Wine's own headers take for granted and
 * MinGW-w64 10's headers do not have. The values are copied from Wine 8's
 * include/ws2def.h and include/ws2ipdef.h (the pinned source). */
#ifndef PEERLSP_CONFORMANCE_COMPAT_H
#define PEERLSP_CONFORMANCE_COMPAT_H

/* Attributes of wine/debug.h and wine/heap.h that only Wine's own build
 * defines (include/windef.h of Wine). */
#define __WINE_ALLOC_SIZE(...)
#define __WINE_MALLOC
#define __WINE_DEALLOC(...)

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#include <winsock2.h>

#ifndef SO_BSP_STATE
#define SO_BSP_STATE 0x1009
#endif
#ifndef AI_DNS_ONLY
#define AI_DNS_ONLY 0x00000010
#endif
#ifndef WSA_CMSG_ALIGN
#define WSA_CMSG_ALIGN(len) (((len) + sizeof(SIZE_T) - 1) & ~(sizeof(SIZE_T) - 1))
#endif
#ifndef SIO_IDEAL_SEND_BACKLOG_QUERY
#define SIO_IDEAL_SEND_BACKLOG_QUERY _IOR('t', 123, ULONG)
#endif

/* ntdll exports MinGW's headers do not declare (linked with -lntdll). */
ULONG WINAPI RtlNtStatusToDosErrorNoTeb(LONG status);

#endif
