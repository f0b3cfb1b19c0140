/*
 * wshost.h - the test host: ws2_32's part, played under Wine.
 *
 * Wine's ws2_32 never loads service providers, so the tests load them here.
 * The host reads a simulated catalog (installer/simcatalog.h), loads the
 * DLL of an entry when a socket is first made on it, calls its WSPStartup
 * with an upcall table that follows the SPI documentation, and routes every
 * call of the Winsock API in wsapi.h to the WSP function of the catalog
 * entry the handle is bound to (WPUModifyIFSHandle / WPUCreateSocketHandle).
 *
 * Session rules, as for ws2_32:
 *  - host_startup()/host_cleanup() (or host_api()->WSAStartup/WSACleanup)
 *    are reference counted. The first startup takes a snapshot of the
 *    catalog: sockets are made from the catalog as it was then ("catalog
 *    changes are seen only by processes whose WSAStartup comes after the
 *    change"). The WSC functions the providers import (below) read the
 *    catalog as it is now, as ws2_32's read the registry.
 *  - A provider DLL is loaded and started once per provider GUID per
 *    session, on the first use of one of its entries, with that entry's
 *    WSAPROTOCOL_INFOW. A failed start is not remembered: the next use
 *    tries again.
 *  - The last cleanup calls WSPCleanup once per successful WSPStartup,
 *    frees the DLLs and forgets every handle; no call may be in flight
 *    then. host_startup works again right after.
 *
 * Import redirection: before calling WSPStartup the host patches the import
 * address table of each DLL it loads itself, so that the module's imports
 * of WSCEnumProtocols, WSCGetProviderPath, WSCGetProviderInfo and
 * WPUCompleteOverlappedRequest from ws2_32.dll (by name, or by ordinal when
 * the resolved address is ws2_32's) reach the host instead of Wine's stubs.
 * Delay-load imports and GetProcAddress lookups are not redirected; DLLs a
 * provider loads itself (an LSP's lower layer) are not patched.
 *
 * WPUCreateSocketHandle's handles are event objects (CreateEventW): real
 * kernel handles, so no socket Wine hands out can have the same value while
 * they are open. WPUCompleteOverlappedRequest sets Internal (the error) and
 * InternalHigh (the byte count) and signals hEvent; completion ports cannot
 * be associated with these handles, so that path is not simulated.
 *
 * The handle table's read path takes no lock and writes no shared memory,
 * so calls on existing sockets scale across threads.
 */
#ifndef PEERLSP_TESTS_WSHOST_H
#define PEERLSP_TESTS_WSHOST_H

#include "wsapi.h"

#include <ws2spi.h>

#include "simcatalog.h"

/* ---- the Winsock API through the host -------------------------------- */

/* Every member routes through the SPI as described above; the last error
 * is per thread (TlsAlloc) and read with this table's WSAGetLastError. */
const struct wsapi *host_api(void);

/* host_api()->WSAStartup(MAKEWORD(2, 2), ...): 0 or a WSA error code. */
int host_startup(void);
/* host_api()->WSACleanup(): 0, or SOCKET_ERROR (last error
 * WSANOTINITIALISED) when the host is not started. */
int host_cleanup(void);

/* ---- the catalog ------------------------------------------------------- */

/* The catalog the host starts from and the providers' WSC imports read.
 * By default an empty catalog the host owns. */
struct simcat *host_catalog(void);
/* Uses `cat` instead (the caller keeps it alive while the host may read it);
 * NULL goes back to the host's own catalog. Takes effect for sockets at the
 * next first startup; for the providers' WSC imports at once. */
void host_set_catalog(struct simcat *cat);

/* Indexes into host_catalog_add_base's ids_out. */
enum host_base_index {
    HOST_BASE_TCP4,
    HOST_BASE_UDP4,
    HOST_BASE_TCP6,
    HOST_BASE_UDP6,
    HOST_BASE_COUNT
};

/* Installs tbase as the base provider, like Windows' mswsock entries:
 * TCP/IPv4 and UDP/IPv4 under TBASE_GUID_IPV4, then TCP/IPv6 and UDP/IPv6
 * under TBASE_GUID_IPV6, each a copy of the matching entry of Wine's
 * WSAEnumProtocolsW with XP1_IFS_HANDLES set, ChainLen 1 and
 * dwProviderReserved 0, stored with the path as given. ids_out (optional)
 * receives the four ids in enum host_base_index order. Returns 0 or a WSA
 * error code (catalog unchanged then). */
int host_catalog_add_base(struct simcat *cat, const wchar_t *tbase_path,
                          DWORD ids_out[HOST_BASE_COUNT]);

/* Installs every entry of Wine's own catalog with tbase as its provider,
 * in Wine's order (IPv4 entries under TBASE_GUID_IPV4, IPv6 under
 * TBASE_GUID_IPV6, the rest under TBASE_GUID_OTHER), plus RAW/IP and
 * RAW/IPv6 entries as Windows has them: the catalog peerlsp-run's programs
 * see. Returns 0 or a WSA error code. */
int host_catalog_add_wine_catalog(struct simcat *cat, const wchar_t *tbase_path);

/* Whether the protocol chains of an LSP share the layered entry's GUID or
 * each get their own. */
enum host_chain_guids {
    HOST_CHAINS_SHARE_GUID, /* every chain carries the layered entry's GUID */
    HOST_CHAINS_OWN_GUID    /* each chain its own GUID (derived, see below) */
};

#define HOST_MAX_CHAINS 16

/* What host_catalog_install_lsp installed. chain_ids[i] and chain_guids[i]
 * belong to the chain over the i-th entry layered over. */
struct host_lsp_ids {
    DWORD layered_id;
    DWORD chain_count;
    DWORD chain_ids[HOST_MAX_CHAINS];
    GUID chain_guids[HOST_MAX_CHAINS];
};

/* Installs an LSP over every base entry (ChainLen 1), in catalog order:
 * host_catalog_install_lsp_over(cat, path, guid, NULL, mode, NULL, 0, ids). */
int host_catalog_install_lsp(struct simcat *cat, const wchar_t *lsp_path,
                             const GUID *layered_guid, enum host_chain_guids mode,
                             struct host_lsp_ids *ids_out);

/* Installs an LSP: a hidden layered entry (ChainLen 0, PFL_HIDDEN, socket
 * type and protocol 0, named `name`) under layered_guid, and one protocol
 * chain per entry in over_ids (NULL: every base entry in catalog order).
 * A chain is a copy of the entry below it named "<name> over <its name>"
 * (XP1_IFS_HANDLES kept), whose ChainEntries are the layered id followed by
 * the lower entry's chain (its own id for a base entry): over a base entry
 * that gives ChainLen 2, over another LSP's chain ChainLen 3 (stacking).
 * The chains are then moved to the front of the catalog, in over_ids order,
 * as WSCInstallProviderAndChains does. name NULL: "peerlsp".
 * HOST_CHAINS_OWN_GUID: chain i gets the layered GUID with Data1 + 1 + i
 * (skipping GUIDs already in use), so the catalog is reproducible.
 * Returns 0 or a WSA error code (WSAEINVAL: an id in over_ids that is not a
 * base or chain entry, more than HOST_MAX_CHAINS chains, a chain longer than
 * MAX_PROTOCOL_CHAIN); on failure the catalog is left as it was. */
int host_catalog_install_lsp_over(struct simcat *cat, const wchar_t *lsp_path,
                                  const GUID *layered_guid, const wchar_t *name,
                                  enum host_chain_guids mode, const DWORD *over_ids,
                                  DWORD over_count, struct host_lsp_ids *ids_out);

/* The id of the first entry in catalog order with this address family,
 * socket type and ChainLen; 0 when there is none. */
DWORD host_catalog_find(const struct simcat *cat, int af, int type, int chain_len);

/* ---- inspection (for tests) ------------------------------------------- */

/* The catalog entry a handle is bound to now (the last WPUModifyIFSHandle
 * or WPUCreateSocketHandle for it); 0 when unbound or the host is not
 * started. */
DWORD host_socket_entry(SOCKET s);

/* The entry the host chose when the socket was made (socket/WSASocketW) or
 * the listening socket's when it was accepted/joined; 0 when unknown. */
DWORD host_socket_created_entry(SOCKET s);

/* How many handles are bound to the entry now; -1 for an id the session
 * does not know (or the host not started). */
LONG host_entry_handles(DWORD entry_id);

/* Calls WSPGetPeerName of the BASE provider of the socket's creation entry
 * (the last element of its protocol chain; the entry itself for a base
 * entry) directly for the same handle, bypassing any LSP, so that a test
 * can compare the LSP's answer with the base provider's. Starts the base
 * provider in the host on first use (one more WSPStartup of that DLL).
 * Returns what WSPGetPeerName returns, with its error in *err untouched
 * (WSAENOTSOCK for a handle the host does not know, WSANOTINITIALISED
 * before startup). */
int host_lower_getpeername(SOCKET s, struct sockaddr *name, int *namelen, int *err);

/* The proc table and WSPDATA the host got from the provider GUID's
 * WSPStartup in this session. Returns 0, WSANOTINITIALISED, or WSAEINVAL
 * when the GUID is not started (yet). Either output may be NULL. */
int host_provider(const GUID *guid, WSPPROC_TABLE *procs, WSPDATA *data);

/* Successful WSPStartup calls the host made for a provider GUID since the
 * process started (all sessions). */
LONG host_provider_startups(const GUID *guid);

/* The error of the most recent failed provider start in this session:
 * WSPStartup's return value, WSAEPROVIDERFAILEDINIT when the DLL or its
 * WSPStartup could not be loaded, WSAEINVALIDPROCTABLE when the proc table
 * it filled has an empty slot. 0 when none failed. */
int host_last_startup_error(void);

/* Replaces every import of `function` (by name) from `dll` in the import
 * address table of the loaded module with `replacement`, as the host does
 * for the WSC functions: a test can put a failing allocator under a
 * provider the host loaded, without a test path inside the provider.
 * Returns the number of slots patched (0: not imported), or -1 when the
 * module's import table could not be read or written. */
int host_patch_import(HMODULE module, const char *dll, const char *function, void *replacement);

#endif /* PEERLSP_TESTS_WSHOST_H */
