/*
 * ctl_test.c - helpers for the peerlsp-ctl tests (ctl_test.h).
 */
#include "ctl_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static char output[65536];

int ctlt_without_and_chains;

struct simcat *ctlt_base_catalog(void)
{
    struct simcat *cat = simcat_create();
    assert_non_null(cat);
    int err = host_catalog_add_base(cat, PEERLSP_TEST_BASE_DLL, NULL);
    if (err)
        fail_msg("host_catalog_add_base: %d", err);
    return cat;
}

/* Runs fn with the tool's output captured in a temporary file. */
static int run(struct simcat *cat, const WCHAR *dll, const struct ctl_options *o,
               int (*fn)(struct ctl_target *, int, const struct ctl_options *))
{
    FILE *f = tmpfile();
    assert_non_null(f);
    ctl_out_stream = ctl_err_stream = f;
    struct ctl_target t;
    memset(&t, 0, sizeof t);
    t.b = ctl_backend_simcat(cat, "test catalog");
    assert_non_null(t.b);
    if (ctlt_without_and_chains)
        t.b->install_and_chains = NULL;
    t.dll_path = dll;
    t.check_exports = 1;
    int rc = fn(&t, 1, o);
    ctl_backend_destroy(t.b);
    ctl_out_stream = ctl_err_stream = NULL;
    rewind(f);
    size_t n = fread(output, 1, sizeof output - 1, f);
    output[n] = 0;
    fclose(f);
    return rc;
}

int ctlt_install(struct simcat *cat, const WCHAR *dll, const struct ctl_options *o)
{
    return run(cat, dll, o, ctl_install);
}

int ctlt_uninstall(struct simcat *cat, const struct ctl_options *o)
{
    return run(cat, NULL, o, ctl_uninstall);
}

int ctlt_repair(struct simcat *cat, const struct ctl_options *o)
{
    return run(cat, NULL, o, ctl_repair);
}

int ctlt_verify(struct simcat *cat, const struct ctl_options *o)
{
    return run(cat, NULL, o, ctl_verify);
}

static const WCHAR *app_arg, *args_arg;

static int do_exclude(struct ctl_target *t, int n, const struct ctl_options *o)
{
    return ctl_exclude(t, n, app_arg, args_arg, o);
}

static int do_include(struct ctl_target *t, int n, const struct ctl_options *o)
{
    return ctl_include(t, n, app_arg, args_arg, o);
}

static int do_list_exclusions(struct ctl_target *t, int n, const struct ctl_options *o)
{
    (void)n;
    return ctl_exclusions_print(t[0].b, o, "");
}

int ctlt_exclude(struct simcat *cat, const WCHAR *app, const WCHAR *args,
                 const struct ctl_options *o)
{
    app_arg = app;
    args_arg = args;
    return run(cat, NULL, o, do_exclude);
}

int ctlt_include(struct simcat *cat, const WCHAR *app, const WCHAR *args,
                 const struct ctl_options *o)
{
    app_arg = app;
    args_arg = args;
    return run(cat, NULL, o, do_include);
}

int ctlt_exclusions(struct simcat *cat, const struct ctl_options *o)
{
    return run(cat, NULL, o, do_list_exclusions);
}

int ctlt_status(struct simcat *cat, const struct ctl_options *o)
{
    return run(cat, NULL, o, ctl_status);
}

int ctlt_run_backend(struct ctl_backend *b, const WCHAR *app, const WCHAR *args,
                     const struct ctl_options *o, int include)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    ctl_out_stream = ctl_err_stream = f;
    struct ctl_target t;
    memset(&t, 0, sizeof t);
    t.b = b;
    int rc = include ? ctl_include(&t, 1, app, args, o) : ctl_exclude(&t, 1, app, args, o);
    ctl_out_stream = ctl_err_stream = NULL;
    rewind(f);
    size_t n = fread(output, 1, sizeof output - 1, f);
    output[n] = 0;
    fclose(f);
    return rc;
}

const char *ctlt_output(void)
{
    return output;
}

struct ctl_options ctlt_opts(void)
{
    struct ctl_options o;
    ctl_options_default(&o);
    return o;
}

static void dump(struct simcat *cat, const char *label)
{
    WSAPROTOCOL_INFOW e[64];
    DWORD size = sizeof e;
    int err = 0, n = simcat_enum(cat, NULL, e, &size, &err);
    print_message("%s (%d entries):\n", label, n);
    for (int i = 0; i < n; i++)
        print_message("  %lu len %d [%lu %lu %lu] %ls\n", (unsigned long)e[i].dwCatalogEntryId,
                      e[i].ProtocolChain.ChainLen, (unsigned long)e[i].ProtocolChain.ChainEntries[0],
                      (unsigned long)e[i].ProtocolChain.ChainEntries[1],
                      (unsigned long)e[i].ProtocolChain.ChainEntries[2], e[i].szProtocol);
}

void ctlt_assert_equal_(struct simcat *a, struct simcat *b, const char *what, const char *file,
                        int line)
{
    if (simcat_equal(a, b))
        return;
    dump(a, "got");
    dump(b, "expected");
    print_message("tool output:\n%s\n", output);
    fail_msg("%s:%d: %s: catalogs differ", file, line, what);
}

WSAPROTOCOL_INFOW ctlt_entry(struct simcat *cat, DWORD id)
{
    WSAPROTOCOL_INFOW e[64], none;
    DWORD size = sizeof e;
    int err = 0, n = simcat_enum(cat, NULL, e, &size, &err);
    for (int i = 0; i < n; i++) {
        if (e[i].dwCatalogEntryId == id)
            return e[i];
    }
    memset(&none, 0, sizeof none);
    fail_msg("no entry %lu", (unsigned long)id);
    return none;
}

DWORD ctlt_layered_id(struct simcat *cat, const GUID *guid)
{
    WSAPROTOCOL_INFOW e[64];
    DWORD size = sizeof e;
    int err = 0, n = simcat_enum(cat, NULL, e, &size, &err);
    for (int i = 0; i < n; i++) {
        if (e[i].ProtocolChain.ChainLen == 0 && IsEqualGUID(&e[i].ProviderId, guid))
            return e[i].dwCatalogEntryId;
    }
    return 0;
}

DWORD ctlt_chain_ids(struct simcat *cat, DWORD layered_id, DWORD *ids, DWORD cap)
{
    WSAPROTOCOL_INFOW e[64];
    DWORD size = sizeof e, k = 0;
    int err = 0, n = simcat_enum(cat, NULL, e, &size, &err);
    for (int i = 0; i < n; i++) {
        if (e[i].ProtocolChain.ChainLen > 1 && e[i].ProtocolChain.ChainEntries[0] == layered_id &&
            k < cap)
            ids[k++] = e[i].dwCatalogEntryId;
    }
    return k;
}

/* Every entry of `cat`, in order. */
int ctlt_entries(struct simcat *cat, WSAPROTOCOL_INFOW *e, int cap)
{
    DWORD size = (DWORD)(cap * sizeof *e);
    int err = 0, n = simcat_enum(cat, NULL, e, &size, &err);
    if (n < 0)
        fail_msg("simcat_enum: %d", err);
    return n;
}

/* A copy of `cat` (same ids) in which edit() may change each entry. */
struct simcat *ctlt_edited(struct simcat *cat, ctlt_edit_fn edit, void *ctx,
                           const WSAPROTOCOL_INFOW *extra, int nextra, const WCHAR *extra_path)
{
    static WSAPROTOCOL_INFOW e[64];
    int n = ctlt_entries(cat, e, 64);
    struct simcat *copy = simcat_create();
    assert_non_null(copy);
    for (int i = 0; i < n; i++) {
        WCHAR path[MAX_PATH];
        int len = MAX_PATH, err = 0;
        DWORD cats = 0;
        size_t cs = sizeof cats;
        GUID g = e[i].ProviderId;
        assert_int_equal(simcat_get_path(cat, &g, path, &len, &err), 0);
        if (simcat_get_provider_info(cat, &g, ProviderInfoLspCategories, (PBYTE)&cats, &cs, 0,
                                     &err))
            cats = 0;
        WSAPROTOCOL_INFOW x = e[i];
        if (edit && !edit(&x, ctx))
            continue;
        if (simcat_add_entry(copy, &x, path, cats))
            fail_msg("simcat_add_entry %lu", (unsigned long)x.dwCatalogEntryId);
    }
    for (int i = 0; i < nextra; i++) {
        if (simcat_add_entry(copy, &extra[i], extra_path, 0))
            fail_msg("simcat_add_entry extra %lu", (unsigned long)extra[i].dwCatalogEntryId);
    }
    return copy;
}

int ctlt_run_targets(struct ctl_target *t, int n,
                     int (*fn)(struct ctl_target *, int, const struct ctl_options *),
                     const struct ctl_options *o)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    ctl_out_stream = ctl_err_stream = f;
    int rc = fn(t, n, o);
    ctl_out_stream = ctl_err_stream = NULL;
    rewind(f);
    size_t got = fread(output, 1, sizeof output - 1, f);
    output[got] = 0;
    fclose(f);
    return rc;
}

/* Equal up to a renumbering: same entries in the same order, each
 * entry's id (and every chain element naming one) mapped to the id at the
 * same place in `b`; same paths and categories. What a catalog looks like
 * after a provider had to be installed again (Windows never reuses an
 * id). */
int ctlt_same_but_ids(struct simcat *a, struct simcat *b)
{
    static WSAPROTOCOL_INFOW x[64], y[64];
    DWORD sx = sizeof x, sy = sizeof y;
    int err = 0, nx = simcat_enum(a, NULL, x, &sx, &err), ny = simcat_enum(b, NULL, y, &sy, &err);
    if (nx != ny || nx < 0)
        return 0;
    for (int i = 0; i < nx; i++) {
        WSAPROTOCOL_INFOW e = x[i];
        for (int k = -1; k < e.ProtocolChain.ChainLen && k < MAX_PROTOCOL_CHAIN; k++) {
            DWORD *id = k < 0 ? &e.dwCatalogEntryId : &e.ProtocolChain.ChainEntries[k];
            int found = 0;
            for (int j = 0; j < nx && !found; j++) {
                if (x[j].dwCatalogEntryId == *id) {
                    *id = y[j].dwCatalogEntryId;
                    found = 1;
                }
            }
            if (!found)
                return 0; /* a chain naming an entry that is not there */
        }
        if (!ctl_entry_same(&e, &y[i]))
            return 0;
        WCHAR pa[MAX_PATH], pb[MAX_PATH];
        int la = MAX_PATH, lb = MAX_PATH;
        DWORD ca = 0xdeadbeef, cb = 0xfeedface;
        size_t sa = sizeof ca, sb = sizeof cb;
        GUID g = e.ProviderId;
        if (simcat_get_path(a, &g, pa, &la, &err) || simcat_get_path(b, &g, pb, &lb, &err) ||
            wcscmp(pa, pb) ||
            simcat_get_provider_info(a, &g, ProviderInfoLspCategories, (PBYTE)&ca, &sa, 0,
                                     &err) ||
            simcat_get_provider_info(b, &g, ProviderInfoLspCategories, (PBYTE)&cb, &sb, 0,
                                     &err) ||
            ca != cb)
            return 0;
    }
    return 1;
}

void ctlt_rec_collect(void *ctx, const struct ctl_app_record *r)
{
    struct ctlt_rec_list *l = ctx;
    if (l->n < 4)
        l->r[l->n] = *r;
    l->n++;
}
