/*
 * simcatalog.h - a simulated Winsock transport catalog.
 *
 * Wine's ws2_32 stubs the catalog functions (WSCInstallProvider and friends
 * return 0 and do nothing), so the tests and peerlsp-ctl's `--catalog FILE`
 * mode work on this in-memory model instead. It follows Windows' semantics,
 * not Wine's:
 *
 *  - an ordered list of WSAPROTOCOL_INFOW entries; per provider GUID one
 *    DLL path, stored unexpanded (it may hold %SystemRoot%);
 *  - catalog entry ids come from a counter starting at 1001 and new entries
 *    are appended at the end;
 *  - ProtocolChain.ChainLen 0 = layered entry, 1 = base entry (whose
 *    ChainEntries[0] is its own id, set on install), >1 = protocol chain.
 *
 * Every simcat_ function that mirrors a WSC function takes the catalog first
 * and then exactly that function's parameters, and keeps its contract:
 * it returns 0 (or a count) on success and SOCKET_ERROR with *lpErrno set on
 * failure. simcat_write_order, like WSCWriteProviderOrder, returns the error
 * code itself. Outputs are left untouched on failure unless the contract
 * says otherwise (a short buffer gets the needed size).
 *
 * A catalog is safe to use from several threads (an SRW lock inside).
 */
#ifndef PEERLSP_SIMCATALOG_H
#define PEERLSP_SIMCATALOG_H

#include <stddef.h>

#include <winsock2.h>
#include <ws2spi.h>
#include <windows.h>

/* The first id a catalog hands out, as ws2_32 does. */
#define SIMCAT_FIRST_ID 1001

struct simcat;

/* An empty catalog; NULL when out of memory. */
struct simcat *simcat_create(void);
void simcat_destroy(struct simcat *cat);

/* A deep copy of the catalog's contents (entries, order, ids, paths, LSP
 * categories, application categories, id counter). A pending simcat_fail_call is not copied.
 * NULL when out of memory. */
struct simcat *simcat_clone(const struct simcat *cat);

/* 1 when both catalogs hold the same entries in the same order with the same
 * ids, the same path and LSP categories per provider GUID, and the same
 * application category records; else 0.
 * The id counter is not compared (see simcat_save). */
int simcat_equal(const struct simcat *a, const struct simcat *b);

/* Number of entries, hidden and layered ones included. */
size_t simcat_count(const struct simcat *cat);

/* WSCEnumProtocols: every entry, layered and hidden ones too, in catalog
 * order. lpiProtocols (optional) is a 0-terminated list of iProtocol values;
 * an entry is returned when its iProtocol equals one of them.
 * Returns the number of entries written.
 * Errors: WSAEFAULT  lpdwBufferLength is NULL, or the buffer is NULL while
 *                    *lpdwBufferLength claims it is large enough;
 *         WSAENOBUFS *lpdwBufferLength is too small; it then receives the
 *                    size in bytes needed. */
int simcat_enum(const struct simcat *cat, LPINT lpiProtocols, LPWSAPROTOCOL_INFOW lpProtocolBuffer,
                LPDWORD lpdwBufferLength, LPINT lpErrno);

/* WSAEnumProtocolsW's view: as simcat_enum, but leaving out PFL_HIDDEN
 * entries and layered (ChainLen 0) entries. */
int simcat_enum_visible(const struct simcat *cat, LPINT lpiProtocols,
                        LPWSAPROTOCOL_INFOW lpProtocolBuffer, LPDWORD lpdwBufferLength,
                        LPINT lpErrno);

/* WSCGetProviderPath: the unexpanded DLL path of a provider GUID.
 * *lpProviderDllPathLen is the buffer size in characters. On success it
 * receives the number of characters written including the terminating NUL
 * (Microsoft documents the parameter as in/out without saying what comes
 * out; this is the choice made here).
 * Errors: WSAEINVAL unknown GUID;
 *         WSAEFAULT lpProviderId or lpProviderDllPathLen NULL, or the buffer
 *                   NULL or too small: *lpProviderDllPathLen then receives
 *                   the length needed in characters, NUL included. */
int simcat_get_path(const struct simcat *cat, LPGUID lpProviderId, WCHAR *lpszProviderDllPath,
                    LPINT lpProviderDllPathLen, LPINT lpErrno);

/* WSCInstallProvider: appends dwNumberOfEntries entries for a new provider
 * GUID with the given path. Each entry gets the next catalog id and
 * ProviderId = *lpProviderId; a base entry (ChainLen 1) gets
 * ChainEntries[0] = its own id. Other chain elements are stored as given
 * (ws2_32 does not check them either). The assigned ids are written to
 * ids_out (optional; dwNumberOfEntries elements) in list order.
 * Errors: WSAEFAULT     a required pointer is NULL;
 *         WSAEINVAL     no entries, empty path or one of MAX_PATH characters
 *                       or more, a ChainLen above MAX_PROTOCOL_CHAIN;
 *         WSANO_RECOVERY the GUID is already installed;
 *         WSA_NOT_ENOUGH_MEMORY. */
int simcat_install(struct simcat *cat, LPGUID lpProviderId, const WCHAR *lpszProviderDllPath,
                   const WSAPROTOCOL_INFOW *lpProtocolInfoList, DWORD dwNumberOfEntries,
                   DWORD *ids_out, LPINT lpErrno);

/* WSCDeinstallProvider: removes every entry of the GUID and its path.
 * Errors: WSAEFAULT NULL GUID; WSAEINVAL unknown GUID. */
int simcat_deinstall(struct simcat *cat, LPGUID lpProviderId, LPINT lpErrno);

/* WSCUpdateProvider: replaces entries of an installed GUID in place and sets
 * its path. Each given entry names the entry it replaces by its
 * dwCatalogEntryId (as an installer gets it from WSCEnumProtocols); the id
 * and the position in the catalog are kept, ProviderId is forced to the
 * GUID and a base entry's ChainEntries[0] to its id. Entries of the GUID
 * that are not named stay as they are. (Microsoft documents only "modifies
 * the specified provider"; matching by catalog id is an inference.)
 * Errors: WSAEFAULT a required pointer is NULL;
 *         WSAEINVAL unknown GUID, no entries, an id that is not an entry of
 *                   this GUID or is named twice, a bad path or ChainLen. */
int simcat_update(struct simcat *cat, LPGUID lpProviderId, const WCHAR *lpszProviderDllPath,
                  const WSAPROTOCOL_INFOW *lpProtocolInfoList, DWORD dwNumberOfEntries,
                  LPINT lpErrno);

/* WSCWriteProviderOrder: puts the entries in the order given. The list must
 * hold every id of the catalog exactly once. Returns 0 (ERROR_SUCCESS) or
 * the error code itself (as WSCWriteProviderOrder does):
 * WSAEINVAL for a NULL list, a wrong count, an unknown or repeated id;
 * nothing changes then. */
int simcat_write_order(struct simcat *cat, LPDWORD lpwdCatalogEntryId, DWORD dwNumberOfEntries);

/* WSCInstallProviderAndChains (Vista+): in one call, a hidden layered
 * ("dummy") entry named lpszLspName with dwServiceFlags as its service
 * flags, and one protocol chain [dummy, base] per entry of the list, over
 * the first base entry whose iAddressFamily, iSocketType and iProtocol
 * match (the fields Microsoft says are examined); all under the one GUID,
 * the chains first in catalog order (no WSCWriteProviderOrder needed),
 * the dummy entry last. *lpdwCatalogEntryId (optional) receives the dummy
 * entry's id. Microsoft does not document the chains' names or their
 * other fields; here they copy their base entry, named "NAME over BASE".
 * Errors: WSAEFAULT a required pointer is NULL; WSAEINVAL no entries, an
 * empty name, a list entry with no matching base entry (nothing changes),
 * a bad path; WSANO_RECOVERY the GUID is already installed.
 * A mutating call for simcat_fail_call. */
int simcat_install_and_chains(struct simcat *cat, LPGUID lpProviderId,
                              const WCHAR *lpszProviderDllPath, const WCHAR *lpszLspName,
                              DWORD dwServiceFlags, const WSAPROTOCOL_INFOW *lpProtocolInfoList,
                              DWORD dwNumberOfEntries, LPDWORD lpdwCatalogEntryId,
                              LPINT lpErrno);

/* WSCGetProviderInfo / WSCSetProviderInfo for ProviderInfoLspCategories
 * (a DWORD, 0 until set). Flags must be 0.
 * Errors: WSAEFAULT           NULL GUID or InfoSize (get), NULL Info (set),
 *                             or (get) Info NULL or *InfoSize too small:
 *                             *InfoSize then receives sizeof(DWORD);
 *         WSAEINVALIDPROVIDER unknown GUID;
 *         WSAEINVAL           another InfoType, a wrong InfoSize (set),
 *                             non-zero Flags;
 *         ERROR_CALL_NOT_IMPLEMENTED  ProviderInfoAudit (as documented). */
int simcat_get_provider_info(const struct simcat *cat, LPGUID lpProviderId,
                             WSC_PROVIDER_INFO_TYPE InfoType, PBYTE Info, size_t *InfoSize,
                             DWORD Flags, LPINT lpErrno);
int simcat_set_provider_info(struct simcat *cat, LPGUID lpProviderId,
                             WSC_PROVIDER_INFO_TYPE InfoType, PBYTE Info, size_t InfoSize,
                             DWORD Flags, LPINT lpErrno);

/*
 * Application categories (Vista+). Windows keeps, per application (its
 * executable path plus, optionally, its command line), the LSP categories
 * it permits; an LSP is loaded into it only when the application permits
 * its categories. The simulated catalog keeps these records next to the
 * entries (they are part of simcat_equal, simcat_clone and snapshots).
 *
 * An application is named by Path (PathLength characters, no NUL counted)
 * and Extra (ExtraLength characters; NULL or 0 characters: no command line).
 * Paths are compared without regard to ASCII case (Windows paths are case
 * insensitive), Extra exactly; both are stored as first given. Windows
 * documents neither comparison; this is the choice made here.
 */
#define SIMCAT_APP_EXTRA_MAX 1024 /* characters, NUL included */

/* WSCSetApplicationCategory: sets the application's permitted categories,
 * creating its record. *pPrevPermLspCat (optional) receives the previous
 * set; for an application that was not categorized it receives 0 (Windows
 * does not document this case; an inference).
 * Errors: WSAEFAULT Path NULL, or Extra NULL with ExtraLength > 0;
 *         WSAEINVAL PathLength 0 or >= MAX_PATH, ExtraLength >=
 *                   SIMCAT_APP_EXTRA_MAX, a NUL inside either string;
 *         WSA_NOT_ENOUGH_MEMORY.
 * A mutating call for simcat_fail_call. */
int simcat_set_app_category(struct simcat *cat, LPCWSTR Path, DWORD PathLength, LPCWSTR Extra,
                            DWORD ExtraLength, DWORD PermittedLspCategories,
                            DWORD *pPrevPermLspCat, LPINT lpErrno);

/* WSCGetApplicationCategory: the application's permitted categories.
 * Errors: as simcat_set_app_category, plus WSAEFAULT for a NULL
 *         pPermittedLspCategories, and WSASERVICE_NOT_FOUND when the
 *         application is not categorized (as documented). The output is
 *         left alone on failure. */
int simcat_get_app_category(const struct simcat *cat, LPCWSTR Path, DWORD PathLength,
                            LPCWSTR Extra, DWORD ExtraLength, DWORD *pPermittedLspCategories,
                            LPINT lpErrno);

/* Not a WSC function (Windows cannot enumerate application categories):
 * the index-th application record in the catalog's order (path without
 * regard to case, then extra). path and extra receive NUL-terminated
 * copies (extra "" when there is no command line). Returns 0, or
 * ERROR_NO_MORE_ITEMS past the last record, or WSAEFAULT for NULL
 * pointers; outputs are left alone on failure. */
int simcat_app_enum(const struct simcat *cat, size_t index, WCHAR path[MAX_PATH],
                    WCHAR extra[SIMCAT_APP_EXTRA_MAX], DWORD *permitted);

/* Builds a copy of an existing catalog (peerlsp-ctl's export of the live
 * catalog and its --dry-run): appends *entry keeping its dwCatalogEntryId
 * and ProviderId as given, unlike simcat_install. The provider record is
 * created with path and categories on the first entry of a GUID; later
 * entries of that GUID ignore both. The id counter moves past the id.
 * Not a WSC function and not a mutating call for simcat_fail_call.
 * Returns 0 or WSAEFAULT (NULL pointer), WSAEINVAL (id 0 or MAXDWORD, an id
 * already present, a bad path or ChainLen), WSA_NOT_ENOUGH_MEMORY. */
int simcat_add_entry(struct simcat *cat, const WSAPROTOCOL_INFOW *entry, const WCHAR *path,
                     DWORD categories);

/* Fault injection for transaction tests. The mutating calls are
 * simcat_install, simcat_install_and_chains, simcat_deinstall, simcat_update, simcat_write_order,
 * simcat_set_provider_info and simcat_set_app_category. After simcat_fail_call(cat, n, error) with
 * n >= 1, the n-th mutating call from now fails with `error` (through
 * *lpErrno, or as simcat_write_order's return value) before looking at its
 * arguments, and changes nothing; calls before it behave normally (whether
 * they succeed or fail, each counts). The injection then disarms itself.
 * n <= 0 disarms a pending injection. */
void simcat_fail_call(struct simcat *cat, int nth_mutating_call, int error);

/*
 * Snapshots. The file is UTF-8 text (ASCII only in practice), lines ending
 * in LF, in a fixed field order, so that two equal catalogs (simcat_equal)
 * always give byte-identical files:
 *
 *   peerlsp-simcatalog 1
 *   provider {GUID} categories=0xXXXXXXXX path="..."        one per GUID, sorted by GUID
 *   entry ID {GUID} chain=LEN:E0,E1,E2,E3,E4,E5,E6 sf1=0xX sf2=0xX sf3=0xX sf4=0xX
 *         pf=0xX ver=N af=N maxsa=N minsa=N type=N proto=N protomax=N order=N
 *         sec=N msgsize=N reserved=N name="..."              one per entry, catalog order
 *
 *   app categories=0xX path="..." extra="..."               one per application
 *                                                            category record, last,
 *                                                            in simcat_app_enum order
 *
 * (each entry is a single line; it is wrapped here only for reading). The
 * app lines were added after version 1 was first written; a catalog without
 * application records saves exactly as before, so the version is still 1. GUIDs
 * are written {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX} in upper case; 0xX is
 * an 8-digit upper-case hex DWORD, N a decimal integer. In strings,
 * printable ASCII stands for itself except '"' and '\' (written \" and \\),
 * every other UTF-16 unit is written \uXXXX. The id counter is not stored:
 * a loaded catalog hands out ids after the highest id it holds (at least
 * 1001), so an id removed before the save can be handed out again; that is
 * the one way a loaded catalog differs from Windows, which never reuses one.
 *
 * simcat_save writes FILE.tmp and renames it over FILE, so a reader never
 * sees half a file. Both return 0 or a Win32 error code (ERROR_INVALID_DATA
 * for a file that is not a well-formed catalog: unknown version, bad field,
 * duplicate id or GUID, an entry without a provider line or the reverse,
 * a provider or entry line after an app line, an app line naming an
 * application twice).
 */
int simcat_save(const struct simcat *cat, const wchar_t *file);
int simcat_load(const wchar_t *file, struct simcat **out);

#endif /* PEERLSP_SIMCATALOG_H */
