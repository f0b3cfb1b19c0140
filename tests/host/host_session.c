/*
 * host_session.c - startup and cleanup, the catalog snapshot, and starting
 * providers (loading the DLL, redirecting its imports, WSPStartup).
 */
#include <stdlib.h>
#include <string.h>

#include "host_internal.h"

/* Startup counts per GUID survive sessions (host_provider_startups). */
#define HOST_MAX_GUIDS 64

static struct {
    /* Serialises startup, cleanup and provider starts. A critical section,
     * not an SRW lock: it is held across WSPStartup, and a provider that
     * calls back into the host from there must not deadlock. */
    CRITICAL_SECTION lock;
    LONG refcount;
    _Atomic(struct host_session *) session;
    _Atomic(struct simcat *) user_catalog;
    struct simcat *own_catalog;
    int last_startup_error;
    size_t nguids;
    GUID guids[HOST_MAX_GUIDS];
    LONG startups[HOST_MAX_GUIDS];
} g;

static INIT_ONCE g_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK g_init(PINIT_ONCE once, PVOID param, PVOID *context)
{
    (void)once;
    (void)param;
    (void)context;
    InitializeCriticalSection(&g.lock);
    return TRUE;
}

static void lock(void)
{
    InitOnceExecuteOnce(&g_once, g_init, NULL, NULL);
    EnterCriticalSection(&g.lock);
}

static void unlock(void)
{
    LeaveCriticalSection(&g.lock);
}

/* ---- the catalog ------------------------------------------------------- */

struct simcat *host_catalog(void)
{
    struct simcat *cat = atomic_load_explicit(&g.user_catalog, memory_order_acquire);
    if (cat)
        return cat;
    lock();
    if (!g.own_catalog)
        g.own_catalog = simcat_create();
    cat = g.own_catalog;
    unlock();
    return cat;
}

void host_set_catalog(struct simcat *cat)
{
    atomic_store_explicit(&g.user_catalog, cat, memory_order_release);
}

struct simcat *host_live_catalog(void)
{
    return host_catalog();
}

/* ---- the session ------------------------------------------------------- */

struct host_session *host_session(void)
{
    return atomic_load_explicit(&g.session, memory_order_acquire);
}

struct host_entry *host_session_entry(struct host_session *ses, DWORD id)
{
    if (!ses)
        return NULL;
    for (size_t i = 0; i < ses->nentries; i++) {
        if (ses->entries[i].info.dwCatalogEntryId == id)
            return &ses->entries[i];
    }
    return NULL;
}

static void session_free(struct host_session *ses)
{
    if (!ses)
        return;
    simcat_destroy(ses->catalog);
    free(ses->entries);
    free(ses->providers);
    free(ses);
}

static struct host_provider *session_provider(struct host_session *ses, const GUID *guid)
{
    for (size_t i = 0; i < ses->nproviders; i++) {
        if (IsEqualGUID(&ses->providers[i].guid, guid))
            return &ses->providers[i];
    }
    return NULL;
}

/* The snapshot: a copy of the catalog, its entries in order and one
 * provider record per GUID with the GUID's path. */
static int session_create(struct host_session **out)
{
    struct host_session *ses = calloc(1, sizeof *ses);
    if (!ses || !(ses->catalog = simcat_clone(host_catalog()))) {
        session_free(ses);
        return WSA_NOT_ENOUGH_MEMORY;
    }
    size_t n = simcat_count(ses->catalog);
    WSAPROTOCOL_INFOW *infos = calloc(n ? n : 1, sizeof *infos);
    ses->entries = calloc(n ? n : 1, sizeof *ses->entries);
    ses->providers = calloc(n ? n : 1, sizeof *ses->providers);
    if (!infos || !ses->entries || !ses->providers) {
        free(infos);
        session_free(ses);
        return WSA_NOT_ENOUGH_MEMORY;
    }
    DWORD len = (DWORD)(n * sizeof *infos);
    int err = 0;
    int got = n ? simcat_enum(ses->catalog, NULL, infos, &len, &err) : 0;
    if (got == SOCKET_ERROR || (size_t)got != n) {
        free(infos);
        session_free(ses);
        return err ? err : WSASYSCALLFAILURE;
    }

    for (size_t i = 0; i < n; i++) {
        struct host_entry *e = &ses->entries[i];
        e->info = infos[i];
        atomic_init(&e->handles, 0);
        struct host_provider *p = session_provider(ses, &infos[i].ProviderId);
        if (!p) {
            p = &ses->providers[ses->nproviders++];
            p->guid = infos[i].ProviderId;
            atomic_init(&p->state, HOST_PROVIDER_IDLE);
            int plen = MAX_PATH;
            if (simcat_get_path(ses->catalog, &p->guid, p->path, &plen, &err) == SOCKET_ERROR) {
                free(infos);
                session_free(ses);
                return err;
            }
        }
        e->provider = p;
    }
    ses->nentries = n;
    free(infos);
    *out = ses;
    return 0;
}

static void count_startup(const GUID *guid)
{
    for (size_t i = 0; i < g.nguids; i++) {
        if (IsEqualGUID(&g.guids[i], guid)) {
            InterlockedIncrement(&g.startups[i]);
            return;
        }
    }
    if (g.nguids < HOST_MAX_GUIDS) {
        g.guids[g.nguids] = *guid;
        InterlockedExchange(&g.startups[g.nguids], 1);
        g.nguids++;
    }
}

/* Every slot of a proc table must be filled: ws2_32 refuses a provider
 * that leaves one empty rather than crash on the first call through it. */
static int proctable_complete(const WSPPROC_TABLE *t)
{
    const void *const *slot = (const void *const *)t;
    for (size_t i = 0; i < sizeof *t / sizeof(void *); i++) {
        if (!slot[i])
            return 0;
    }
    return 1;
}

static int provider_start(struct host_session *ses, struct host_provider *p,
                          const WSAPROTOCOL_INFOW *entry_info)
{
    WCHAR path[MAX_PATH];
    DWORD n = ExpandEnvironmentStringsW(p->path, path, MAX_PATH);
    if (n == 0 || n > MAX_PATH)
        return WSAEPROVIDERFAILEDINIT;
    HMODULE module = LoadLibraryW(path);
    if (!module)
        return WSAEPROVIDERFAILEDINIT;
    /* Before WSPStartup: an LSP reads the catalog from there. */
    if (host_redirect_imports(module) < 0) {
        FreeLibrary(module);
        return WSAEPROVIDERFAILEDINIT;
    }
    LPWSPSTARTUP startup = (LPWSPSTARTUP)(void (*)(void))GetProcAddress(module, "WSPStartup");
    if (!startup) {
        FreeLibrary(module);
        return WSAEPROVIDERFAILEDINIT;
    }

    WSAPROTOCOL_INFOW info = *entry_info;
    WSPDATA data;
    WSPPROC_TABLE procs;
    memset(&data, 0, sizeof data);
    memset(&procs, 0, sizeof procs);
    int err = startup(MAKEWORD(2, 2), &data, &info, *host_upcalls(), &procs);
    if (err) {
        FreeLibrary(module);
        return err;
    }
    count_startup(&p->guid);
    if (!proctable_complete(&procs)) {
        int ignored;
        if (procs.lpWSPCleanup)
            procs.lpWSPCleanup(&ignored);
        FreeLibrary(module);
        return WSAEINVALIDPROCTABLE;
    }
    p->module = module;
    p->data = data;
    p->procs = procs;
    p->start_order = ++ses->starts;
    atomic_store_explicit(&p->state, HOST_PROVIDER_STARTED, memory_order_release);
    return 0;
}

int host_provider_ensure(struct host_entry *e)
{
    struct host_provider *p = e->provider;
    if (atomic_load_explicit(&p->state, memory_order_acquire) == HOST_PROVIDER_STARTED)
        return 0;
    int err = 0;
    lock();
    struct host_session *ses = host_session();
    if (!ses)
        err = WSANOTINITIALISED;
    else if (atomic_load_explicit(&p->state, memory_order_relaxed) != HOST_PROVIDER_STARTED)
        err = provider_start(ses, p, &e->info);
    if (err && err != WSANOTINITIALISED)
        g.last_startup_error = err;
    unlock();
    return err;
}

int host_session_acquire(void)
{
    int err = 0;
    lock();
    if (g.refcount == 0) {
        struct host_session *ses;
        err = session_create(&ses);
        if (!err) {
            g.last_startup_error = 0;
            atomic_store_explicit(&g.session, ses, memory_order_release);
        }
    }
    if (!err)
        g.refcount++;
    unlock();
    return err;
}

/* WSPCleanup once per successful WSPStartup, the latest started first,
 * then the DLL goes. */
static void session_stop_providers(struct host_session *ses)
{
    for (int order = ses->starts; order > 0; order--) {
        for (size_t i = 0; i < ses->nproviders; i++) {
            struct host_provider *p = &ses->providers[i];
            if (atomic_load_explicit(&p->state, memory_order_relaxed) != HOST_PROVIDER_STARTED ||
                p->start_order != order)
                continue;
            int ignored = 0;
            p->procs.lpWSPCleanup(&ignored);
            FreeLibrary(p->module);
            p->module = NULL;
            atomic_store_explicit(&p->state, HOST_PROVIDER_IDLE, memory_order_relaxed);
        }
    }
}

int host_session_release(void)
{
    lock();
    if (g.refcount == 0) {
        unlock();
        return WSANOTINITIALISED;
    }
    if (--g.refcount == 0) {
        /* The session stays visible while the providers clean up: a
         * WSPCleanup may still call upcalls (WPUCloseSocketHandle). */
        session_stop_providers(host_session());
        struct host_session *ses = atomic_exchange(&g.session, NULL);
        host_bindings_reset();
        session_free(ses);
    }
    unlock();
    return 0;
}

/* ---- inspection -------------------------------------------------------- */

int host_provider(const GUID *guid, WSPPROC_TABLE *procs, WSPDATA *data)
{
    int err = 0;
    lock();
    struct host_session *ses = host_session();
    struct host_provider *p = ses && guid ? session_provider(ses, guid) : NULL;
    if (!ses)
        err = WSANOTINITIALISED;
    else if (!p || atomic_load_explicit(&p->state, memory_order_relaxed) != HOST_PROVIDER_STARTED)
        err = WSAEINVAL;
    else {
        if (procs)
            *procs = p->procs;
        if (data)
            *data = p->data;
    }
    unlock();
    return err;
}

LONG host_provider_startups(const GUID *guid)
{
    LONG n = 0;
    lock();
    for (size_t i = 0; guid && i < g.nguids; i++) {
        if (IsEqualGUID(&g.guids[i], guid))
            n = g.startups[i];
    }
    unlock();
    return n;
}

int host_last_startup_error(void)
{
    lock();
    int err = g.last_startup_error;
    unlock();
    return err;
}

DWORD host_socket_entry(SOCKET s)
{
    if (!host_session())
        return 0;
    struct host_entry *e = host_binding_entry(s);
    return e ? e->info.dwCatalogEntryId : 0;
}

DWORD host_socket_created_entry(SOCKET s)
{
    struct host_binding b;
    if (!host_session() || !host_binding_get(s, &b) || !b.created)
        return 0;
    return b.created->info.dwCatalogEntryId;
}

LONG host_entry_handles(DWORD entry_id)
{
    struct host_entry *e = host_session_entry(host_session(), entry_id);
    return e ? atomic_load_explicit(&e->handles, memory_order_relaxed) : -1;
}
