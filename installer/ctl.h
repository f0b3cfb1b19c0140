/*
 * ctl.h - peerlsp-ctl's internals, shared by its files and its tests
 * (the logic is the static library ctl_core; main.c only calls ctl_main).
 *
 * Layers, bottom up:
 *   backends   ctl_backend: the catalog calls, either the live system
 *              catalog (ctl_backend_live.c, ws2_32's WSC functions) or a
 *              snapshot file (ctl_backend_file.c, simcatalog).
 *   catalog    ctl_catalog: one consistent read of a backend (entries,
 *              per-GUID path and categories) and the chain checks.
 *   txn        ctl_txn: every change goes through it; it remembers the
 *              catalog before the first change and which providers and
 *              whether the order were touched, and puts exactly those back
 *              on rollback.
 *   commands   install, uninstall, repair, verify, list, export,
 *              exclude/include (ctl_exclude.c), status (ctl_status.c).
 *   cli        ctl_main: arguments, messages, exit codes.
 */
#ifndef PEERLSP_CTL_H
#define PEERLSP_CTL_H

#include <stdio.h>

#include <winsock2.h>
#include <ws2spi.h>
#include <windows.h>

#include "simcatalog.h"

/* Exit codes (docs/peerlsp-ctl.md). */
enum ctl_exit {
    CTL_EXIT_OK = 0,
    CTL_EXIT_USAGE = 1,            /* bad command line */
    CTL_EXIT_PROBLEMS = 2,         /* verify/list/install found an inconsistent catalog */
    CTL_EXIT_NOT_ADMIN = 3,        /* a change to the live catalog without admin rights */
    CTL_EXIT_MISSING_FUNCTION = 4, /* a catalog function this needs is missing here */
    CTL_EXIT_NO_EFFECT = 5,        /* the catalog did not change as expected: rolled back */
    CTL_EXIT_CALL_FAILED = 6,      /* a catalog call failed: rolled back */
    CTL_EXIT_BAD_DLL = 7,          /* the DLL path is not usable */
};

/* ---- backends ------------------------------------------------------------ */

/* The mutating operations, for messages and "is it available here". */
enum ctl_op {
    CTL_OP_INSTALL,
    CTL_OP_DEINSTALL,
    CTL_OP_UPDATE,
    CTL_OP_WRITE_ORDER,
    CTL_OP_SET_CATEGORIES,
    CTL_OP_INSTALL_BOTH, /* WSCInstallProvider64_32: this catalog and its twin */
    CTL_OP_INSTALL_AND_CHAINS, /* WSCInstallProviderAndChains */
    CTL_OP_COUNT
};

/* An application kept away from peerlsp (exclude/include). */
#define CTL_ARGS_MAX SIMCAT_APP_EXTRA_MAX
struct ctl_app_record {
    WCHAR app[MAX_PATH];   /* the program's full path (may hold %SystemRoot%) */
    WCHAR args[CTL_ARGS_MAX]; /* its command line, "" for none */
    DWORD removed;         /* the categories exclude took away */
    DWORD permitted;       /* the application's permitted categories, as recorded */
    int from_catalog;      /* 1: read from a snapshot's application records */
};

/* One catalog. Every function returns 0 or a WSA / Win32 error code. A
 * mutating function pointer is NULL when this system lacks the call;
 * op_names[op] then still names the missing function for the message. */
struct ctl_backend {
    char name[MAX_PATH + 32]; /* "64-bit catalog", "snapshot FILE" */
    void *ctx;
    const char *op_names[CTL_OP_COUNT];
    int (*enumerate)(struct ctl_backend *b, WSAPROTOCOL_INFOW **out, DWORD *count);
    /* WSAEINVAL for an unknown GUID. */
    int (*get_path)(struct ctl_backend *b, const GUID *guid, WCHAR path[MAX_PATH]);
    /* NULL when the system has no WSCGetProviderInfo. */
    int (*get_categories)(struct ctl_backend *b, const GUID *guid, DWORD *categories);
    int (*install)(struct ctl_backend *b, const GUID *guid, const WCHAR *path,
                   const WSAPROTOCOL_INFOW *list, DWORD n);
    int (*deinstall)(struct ctl_backend *b, const GUID *guid);
    int (*update)(struct ctl_backend *b, const GUID *guid, const WCHAR *path,
                  const WSAPROTOCOL_INFOW *list, DWORD n);
    int (*write_order)(struct ctl_backend *b, const DWORD *ids, DWORD n);
    int (*set_categories)(struct ctl_backend *b, const GUID *guid, DWORD categories);
    /* Installs the same provider into this catalog AND into `twin` in one
     * call (WSCInstallProvider64_32: the 64-bit catalog and the 32-bit
     * one). NULL where the system lacks it; only called when twin is set.
     * The ids each catalog hands out are its own. */
    int (*install_both)(struct ctl_backend *b, const GUID *guid, const WCHAR *path,
                        const WSAPROTOCOL_INFOW *list, DWORD n);
    /* WSCInstallProviderAndChains: the hidden layered entry (named
     * `name`, service flags `flags`) and one chain over the base entry of
     * each protocol in `list`, first in order, in one call; *layered_id
     * gets the layered entry's id. NULL where the system lacks it. */
    int (*install_and_chains)(struct ctl_backend *b, const GUID *guid, const WCHAR *path,
                              const WCHAR *name, DWORD flags, const WSAPROTOCOL_INFOW *list,
                              DWORD n, DWORD *layered_id);
    /* The other catalog install_both reaches (the live 32-bit catalog for
     * the live 64-bit one); NULL: none. Set by whoever made both. */
    struct ctl_backend *twin;
    /* Application categories (ctl_exclude.c). NULL where the system lacks
     * WSCGetApplicationCategory / WSCSetApplicationCategory. args NULL or
     * "": no command line. get: WSASERVICE_NOT_FOUND when the application
     * is not categorized. */
    int (*get_app_category)(struct ctl_backend *b, const WCHAR *app, const WCHAR *args,
                            DWORD *permitted);
    int (*set_app_category)(struct ctl_backend *b, const WCHAR *app, const WCHAR *args,
                            DWORD permitted, DWORD *previous);
    /* The exclusions peerlsp-ctl keeps a record of (Windows cannot
     * enumerate application categories): the registry for the live
     * catalog, the snapshot's own application records for a file. The
     * callback is called once per record; put replaces a record. */
    int (*records_enum)(struct ctl_backend *b,
                        void (*cb)(void *ctx, const struct ctl_app_record *r), void *ctx);
    int (*record_put)(struct ctl_backend *b, const struct ctl_app_record *r);
    int (*record_del)(struct ctl_backend *b, const WCHAR *app, const WCHAR *args);
    /* What the programs reading this catalog load: the machine type their
     * DLLs must have (IMAGE_FILE_MACHINE_AMD64 / _I386; 0: not checked,
     * snapshots) and whether a path under System32 reaches them in
     * SysWOW64 (the 32-bit catalog seen from the x64 tool: WOW64
     * redirects 32-bit programs there, but not this process). */
    WORD dll_machine;
    int dll_wow64;
    /* A catalog of this system (live backend): its changes are logged. */
    int system_catalog;
    /* Makes the changes durable (a snapshot file is written); NULL: nothing. */
    int (*commit)(struct ctl_backend *b);
    void (*destroy)(struct ctl_backend *b);
};

/* A backend over a simcat the caller owns (tests, --dry-run); commit does
 * nothing. */
struct ctl_backend *ctl_backend_simcat(struct simcat *cat, const char *name);
/* A backend over a snapshot file: loaded now, written by commit. Returns 0
 * or the simcat_load error. */
int ctl_backend_file_open(const WCHAR *file, struct ctl_backend **out);

/* WSCEnumProtocols-shaped reader: the catalog can grow between the size
 * query and the read, so both backends retry through this. Returns 0 with
 * a malloc'ed array (*out, *count), or a Winsock error. */
typedef int (*ctl_enum_fn)(void *ctx, WSAPROTOCOL_INFOW *buf, LPDWORD len, LPINT err);
int ctl_enumerate_with(ctl_enum_fn fn, void *ctx, WSAPROTOCOL_INFOW **out, DWORD *count);
/* The simcat inside a file or simcat backend, NULL for others. */
struct simcat *ctl_backend_simcat_of(struct ctl_backend *b);
void ctl_backend_destroy(struct ctl_backend *b);

/* The live catalogs, through the table ctl_winapi() gives. bits 64 or 32
 * in the x64 tool (32: the 32-bit catalog of 64-bit Windows through the
 * ...32 functions); in the x86 tool only 32, its own catalog (the 32-bit
 * one under WOW64). NULL when that catalog cannot be reached here: in
 * the x64 tool, bits 32 gives NULL when WSCEnumProtocols32 is missing
 * (32-bit Windows has no such catalog; Wine exports no ...32 function).
 * The 64-bit backend gets install_both when WSCInstallProvider64_32
 * exists; the caller links the pair with ctl_backend_live_pair. */
struct ctl_backend *ctl_backend_live(int bits);
/* Makes b64's install_both reach b32 (both live, same machine). */
void ctl_backend_live_pair(struct ctl_backend *b64, struct ctl_backend *b32);

/* ---- optional system functions (ctl_winapi.c) ---------------------------- */

/* Resolved once; the pointers are NULL where the system lacks them. */
void ctl_winapi_init(void);
/* Wine's version string, or NULL on Windows. */
const char *ctl_wine_version(void);
/* 1 on 64-bit Windows (a 64-bit process, or a 32-bit one under WOW64). */
int ctl_is_64bit_windows(void);

/* ---- catalog reads ------------------------------------------------------- */

struct ctl_provider {
    GUID guid;
    WCHAR path[MAX_PATH]; /* empty when the catalog gave none */
    int has_path;
    DWORD categories;
    int has_categories;
};

struct ctl_catalog {
    WSAPROTOCOL_INFOW *e;
    DWORD n;
    struct ctl_provider *p; /* one per distinct GUID, in first-seen order */
    DWORD np;
    WORD dll_machine; /* the backend's, for the DLL checks */
    int dll_wow64;
};

int ctl_catalog_read(struct ctl_backend *b, struct ctl_catalog *out);
void ctl_catalog_free(struct ctl_catalog *c);
const WSAPROTOCOL_INFOW *ctl_catalog_entry(const struct ctl_catalog *c, DWORD id);
const struct ctl_provider *ctl_catalog_provider(const struct ctl_catalog *c, const GUID *guid);
/* All fields equal (names compared up to their NUL). */
int ctl_entry_same(const WSAPROTOCOL_INFOW *a, const WSAPROTOCOL_INFOW *b);
/* Same entries (all fields), same order, same paths and categories. */
int ctl_catalog_same(const struct ctl_catalog *a, const struct ctl_catalog *b);
/* A simcat holding the same entries with the same ids; NULL on failure. */
struct simcat *ctl_catalog_to_simcat(const struct ctl_catalog *c);

/* Why an entry's protocol chain is broken (ids that do not exist, a layer
 * that is not a layered entry, a bottom that is not a base entry, a bad
 * ChainLen); 0 when it is fine or not a chain. */
int ctl_chain_broken(const struct ctl_catalog *c, const WSAPROTOCOL_INFOW *e, char *why,
                     size_t why_size);
/* Whether `id` is one of the entry's chain elements. */
int ctl_chain_contains(const WSAPROTOCOL_INFOW *e, DWORD id);
/* The ids of peerlsp's entries: its GUID's entries and chains of other
 * GUIDs whose top layer is its layered entry. Returns how many there are
 * (only the first cap are written). */
DWORD ctl_peerlsp_ids(const struct ctl_catalog *c, const GUID *guid, DWORD *ids, DWORD cap);
/* Whether a chain runs through peerlsp: one of its elements is one of
 * peerlsp's ids (its layered entry, or one of its chain entries as
 * instlsp-style stacks name the layer below). */
int ctl_chain_through(const struct ctl_catalog *c, const WSAPROTOCOL_INFOW *e, const GUID *guid);
/* peerlsp's hidden layered entry (ChainLen 0, ProviderId guid) or NULL. */
const WSAPROTOCOL_INFOW *ctl_layered_entry(const struct ctl_catalog *c, const GUID *guid);
/* Whether an entry belongs to peerlsp: its GUID, a chain whose top layer is
 * peerlsp's layered entry, or a provider whose DLL file is peerlsp.dll. */
int ctl_entry_is_ours(const struct ctl_catalog *c, const WSAPROTOCOL_INFOW *e,
                      const GUID *guid);
/* The entry socket(af, type, protocol) would pick: the first non-layered
 * entry in catalog order that matches. NULL when none. */
const WSAPROTOCOL_INFOW *ctl_catalog_select(const struct ctl_catalog *c, int af, int type,
                                            int protocol);

void ctl_guid_format(const GUID *g, char out[39]);
int ctl_guid_parse(const char *s, GUID *g);

/* ---- output -------------------------------------------------------------- */

/* Where messages go; tests may point them at a file. NULL: stdout/stderr. */
extern FILE *ctl_out_stream, *ctl_err_stream;
void ctl_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- transactions (ctl_txn.c) -------------------------------------------- */

#define CTL_TXN_MAX_TOUCHED 64

struct ctl_txn {
    struct ctl_backend *b;
    struct ctl_catalog before; /* the catalog when the transaction began */
    GUID touched[CTL_TXN_MAX_TOUCHED];
    DWORD ntouched;
    int order_changed;
    DWORD *written_order; /* the last order this transaction wrote (malloc'ed) */
    DWORD nwritten;
    int verbose; /* print each call */
    /* The transaction over b->twin in the same command, when there is
     * one: an install_both touches the provider in both. */
    struct ctl_txn *twin;
};

int ctl_txn_begin(struct ctl_txn *t, struct ctl_backend *b);
/* The mutating calls; each logs itself and records what it touches before
 * calling. CTL_ERR_MISSING when the backend lacks the call. */
#define CTL_ERR_MISSING (-1)
int ctl_txn_install(struct ctl_txn *t, const GUID *guid, const WCHAR *path,
                    const WSAPROTOCOL_INFOW *list, DWORD n);
/* WSCInstallProvider64_32: records the GUID as touched in t and in
 * t->twin (both rolled back), then calls t->b->install_both. */
int ctl_txn_install_both(struct ctl_txn *t, const GUID *guid, const WCHAR *path,
                         const WSAPROTOCOL_INFOW *list, DWORD n);
/* WSCInstallProviderAndChains: touches the GUID and the order. */
int ctl_txn_install_and_chains(struct ctl_txn *t, const GUID *guid, const WCHAR *path,
                               const WCHAR *name, DWORD flags, const WSAPROTOCOL_INFOW *list,
                               DWORD n, DWORD *layered_id);
int ctl_txn_deinstall(struct ctl_txn *t, const GUID *guid);
int ctl_txn_update(struct ctl_txn *t, const GUID *guid, const WCHAR *path,
                   const WSAPROTOCOL_INFOW *list, DWORD n);
int ctl_txn_write_order(struct ctl_txn *t, const DWORD *ids, DWORD n);
int ctl_txn_set_categories(struct ctl_txn *t, const GUID *guid, DWORD categories);
/* Puts the touched providers and the order back as they were at begin.
 * Retries (each attempt re-reads the catalog and redoes only what still
 * differs). Returns 0 when the catalog is again as it was. */
int ctl_txn_rollback(struct ctl_txn *t);
void ctl_txn_end(struct ctl_txn *t);

/* ---- commands ------------------------------------------------------------ */

/* Which protocols get a chain (install). */
enum {
    CTL_PROTO_TCP4 = 1,
    CTL_PROTO_UDP4 = 2,
    CTL_PROTO_TCP6 = 4,
    CTL_PROTO_UDP6 = 8,
    CTL_PROTO_DEFAULT = 15
};

#define CTL_MAX_CHAINS 16
#define CTL_MAX_TARGETS 2

/* LSP_SYSTEM | LSP_INSPECTOR (docs/peerlsp-ctl.md says why). */
#define CTL_DEFAULT_CATEGORIES 0x80000001u

/* One catalog a command works on and, for install, the DLL path to store
 * there. */
struct ctl_target {
    struct ctl_backend *b;
    const WCHAR *dll_path; /* install: as given on the command line */
    int check_exports;     /* install: the file can be inspected from here */
};

struct ctl_options {
    GUID guid;                 /* peerlsp's layered GUID */
    unsigned protocols;        /* CTL_PROTO_* (install) */
    DWORD over_ids[CTL_MAX_CHAINS]; /* install: explicit entries to layer over */
    DWORD nover;
    int over_base;             /* install: over base entries, not the current top */
    DWORD categories;
    int set_categories;
    int all_orphans;           /* repair: accepted, reports only (see ctl_repair.c) */
    DWORD orphan_ids[CTL_MAX_CHAINS]; /* repair --orphan: other vendors' entries to remove */
    DWORD norphans;
    int dry_run;
    int verbose;
};

void ctl_options_default(struct ctl_options *o);

/* Each returns an enum ctl_exit. They work on every target as one
 * transaction (all or nothing), re-read each catalog afterwards and check
 * the change is really there. */
int ctl_install(struct ctl_target *targets, int ntargets, const struct ctl_options *o);
int ctl_uninstall(struct ctl_target *targets, int ntargets, const struct ctl_options *o);
int ctl_repair(struct ctl_target *targets, int ntargets, const struct ctl_options *o);
/* exclude APP / include APP (ctl_exclude.c): keeps peerlsp out of one
 * program through its permitted LSP categories, or lets it in again. On
 * the first target only: application categories are not per catalog. */
int ctl_exclude(struct ctl_target *targets, int ntargets, const WCHAR *app, const WCHAR *args,
                const struct ctl_options *o);
int ctl_include(struct ctl_target *targets, int ntargets, const WCHAR *app, const WCHAR *args,
                const struct ctl_options *o);
/* Prints the exclusions peerlsp-ctl knows of, one per line with `prefix`;
 * returns how many (or -1 when they cannot be read). */
int ctl_exclusions_print(struct ctl_backend *b, const struct ctl_options *o, const char *prefix);
/* The categories peerlsp is installed with in this catalog (default ones
 * when it is not installed or they cannot be read). */
DWORD ctl_peerlsp_categories(struct ctl_backend *b, const struct ctl_options *o);
/* Every documented LSP category: what an uncategorized application
 * permits, as exclude sees it. */
#define CTL_ALL_LSP_CATEGORIES 0x800000FFu

/* The registry record of exclusions (ctl_records.c), used by the live
 * backend. Root and subkey are variables so that tests can point them at
 * HKEY_CURRENT_USER. */
extern HKEY ctl_records_root;
extern const WCHAR *ctl_records_subkey;
int ctl_records_registry_enum(struct ctl_backend *b,
                              void (*cb)(void *ctx, const struct ctl_app_record *r), void *ctx);
int ctl_records_registry_put(struct ctl_backend *b, const struct ctl_app_record *r);
int ctl_records_registry_del(struct ctl_backend *b, const WCHAR *app, const WCHAR *args);
/* Removes the product's key (the parent of ctl_records_subkey) with all
 * it holds; 0 also when it is not there. */
int ctl_records_registry_purge(void);
/* uninstall --purge (ctl_purge.c): lets peerlsp into every program
 * `exclude` kept it out of, then removes the registry key. Problems are
 * reported, not fatal (peerlsp is already out of the catalog). */
int ctl_purge(struct ctl_target *targets, int n, const struct ctl_options *o);

/* status (ctl_status.c): one screen for a person; 0 healthy (installed
 * and consistent, or cleanly not installed), else CTL_EXIT_PROBLEMS. */
int ctl_status(struct ctl_target *targets, int ntargets, const struct ctl_options *o);

/* Problems, one line each through ctl_out; 0 or CTL_EXIT_PROBLEMS. */
int ctl_verify(struct ctl_target *targets, int ntargets, const struct ctl_options *o);
int ctl_list(struct ctl_backend *b, const struct ctl_options *o, int json);

/* Lists what is wrong with peerlsp's installation in one catalog, one line
 * per problem through ctl_out with `prefix`; returns the count. */
int ctl_verify_catalog(const struct ctl_catalog *c, const GUID *guid, const char *prefix);

/* Maps a failed call's error to an exit code and says what to do next. */
int ctl_exit_for_error(int err, const char *what);

/* ---- the DLL (ctl_dll.c) ------------------------------------------------- */

/* Checks an install path: absolute, an existing file, a PE image exporting
 * WSPStartup and GetLspGuid. Fills *guid from GetLspGuid when the DLL can
 * be loaded here (same architecture), else from peerlsp.h (and says so).
 * Returns 0 or CTL_EXIT_BAD_DLL after printing why. */
int ctl_dll_check(const WCHAR *path, GUID *guid, int quiet);
/* Whether the file a catalog path names exists and exports both functions
 * (environment strings expanded). 0 ok, else a reason in why. */
int ctl_dll_usable(const WCHAR *catalog_path, char *why, size_t why_size);
/* The same for the programs of one catalog: the path as they resolve it
 * (System32 -> SysWOW64 when wow64) and, when machine is not 0, the
 * file's machine type. The resolved path goes to `resolved` (optional). */
int ctl_dll_usable_for(const WCHAR *catalog_path, WORD machine, int wow64,
                       WCHAR resolved[MAX_PATH], char *why, size_t why_size);
/* The path as stored: %SystemRoot%\... when under the Windows directory. */
void ctl_dll_catalog_path(const WCHAR *path, WCHAR out[MAX_PATH]);

/* PE export reader (ctl_pe.c): machine and whether the named export
 * exists. 0 or a short reason. */
const char *ctl_pe_exports(const WCHAR *path, WORD *machine, const char *const *names,
                           int nnames, int *found);

/* ---- the change log (ctl_log.c) ----------------------------------------- */

/* Where the log goes: empty = %ProgramData%\peerlsp\peerlsp-ctl.log; tests
 * point it at a scratch file. */
extern WCHAR ctl_log_file[MAX_PATH];
/* The command line, for the log's entries (ctl_main). */
void ctl_log_set_command(int argc, WCHAR **argv);
/* Appends one entry: the command line, each catalog before (as given) and
 * after (read now), the exit code. backends[i] NULL: skipped. */
void ctl_log_change(struct ctl_backend *const *backends, const struct ctl_catalog *before, int n,
                    int rc);

/* Appends one entry of one line (a change that is not a catalog
 * transaction: application categories, the registry key). */
void ctl_log_note(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- admin (ctl_admin.c) ------------------------------------------------- */

int ctl_is_admin(void);

/* ---- the command line (ctl_cli.c) ---------------------------------------- */

int ctl_main(int argc, WCHAR **argv);

#endif /* PEERLSP_CTL_H */
