/*
 * ctl_backend_file.c - the catalog backend over the simulated catalog:
 * a snapshot file (--catalog FILE) or a simcat the caller owns (tests,
 * --dry-run). The simcat functions keep the WSC contracts, so the logic
 * above cannot tell this backend from the live one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ctl.h"

struct file_ctx {
    struct simcat *cat;
    int owned;           /* destroy the simcat with the backend */
    WCHAR file[MAX_PATH]; /* empty: nothing to save */
};

static struct simcat *cat_of(struct ctl_backend *b)
{
    return ((struct file_ctx *)b->ctx)->cat;
}

static int file_enum_fn(void *ctx, WSAPROTOCOL_INFOW *buf, LPDWORD len, LPINT err)
{
    return simcat_enum(ctx, NULL, buf, len, err);
}

static int file_enumerate(struct ctl_backend *b, WSAPROTOCOL_INFOW **out, DWORD *count)
{
    return ctl_enumerate_with(file_enum_fn, cat_of(b), out, count);
}

static int file_get_path(struct ctl_backend *b, const GUID *guid, WCHAR path[MAX_PATH])
{
    int len = MAX_PATH, err = 0;
    GUID g = *guid;
    return simcat_get_path(cat_of(b), &g, path, &len, &err) == SOCKET_ERROR ? err : 0;
}

static int file_get_categories(struct ctl_backend *b, const GUID *guid, DWORD *categories)
{
    size_t size = sizeof *categories;
    int err = 0;
    GUID g = *guid;
    return simcat_get_provider_info(cat_of(b), &g, ProviderInfoLspCategories,
                                    (PBYTE)categories, &size, 0, &err) == SOCKET_ERROR
               ? err
               : 0;
}

static int file_install(struct ctl_backend *b, const GUID *guid, const WCHAR *path,
                        const WSAPROTOCOL_INFOW *list, DWORD n)
{
    int err = 0;
    GUID g = *guid;
    return simcat_install(cat_of(b), &g, path, list, n, NULL, &err) == SOCKET_ERROR ? err : 0;
}

/* WSCInstallProvider64_32 over two simulated catalogs (the --dry-run
 * copies of the two live catalogs, linked as twins): this one, then the
 * twin. Like the simulated WSCInstallProvider64_32 of the tests, a
 * failure in the twin does not undo the first half; the transaction's
 * rollback does. */
static int file_install_both(struct ctl_backend *b, const GUID *guid, const WCHAR *path,
                             const WSAPROTOCOL_INFOW *list, DWORD n)
{
    struct simcat *other = ctl_backend_simcat_of(b->twin);
    if (!other)
        return CTL_ERR_MISSING;
    int err = file_install(b, guid, path, list, n);
    if (err)
        return err;
    GUID g = *guid;
    return simcat_install(other, &g, path, list, n, NULL, &err) == SOCKET_ERROR ? err : 0;
}

static int file_install_and_chains(struct ctl_backend *b, const GUID *guid, const WCHAR *path,
                                   const WCHAR *name, DWORD flags,
                                   const WSAPROTOCOL_INFOW *list, DWORD n, DWORD *layered_id)
{
    int err = 0;
    GUID g = *guid;
    return simcat_install_and_chains(cat_of(b), &g, path, name, flags, list, n, layered_id,
                                     &err) == SOCKET_ERROR
               ? err
               : 0;
}

static int file_deinstall(struct ctl_backend *b, const GUID *guid)
{
    int err = 0;
    GUID g = *guid;
    return simcat_deinstall(cat_of(b), &g, &err) == SOCKET_ERROR ? err : 0;
}

static int file_update(struct ctl_backend *b, const GUID *guid, const WCHAR *path,
                       const WSAPROTOCOL_INFOW *list, DWORD n)
{
    int err = 0;
    GUID g = *guid;
    return simcat_update(cat_of(b), &g, path, list, n, &err) == SOCKET_ERROR ? err : 0;
}

static int file_write_order(struct ctl_backend *b, const DWORD *ids, DWORD n)
{
    return simcat_write_order(cat_of(b), (LPDWORD)ids, n);
}

static int file_set_categories(struct ctl_backend *b, const GUID *guid, DWORD categories)
{
    int err = 0;
    GUID g = *guid;
    return simcat_set_provider_info(cat_of(b), &g, ProviderInfoLspCategories,
                                    (PBYTE)&categories, sizeof categories, 0, &err) ==
                   SOCKET_ERROR
               ? err
               : 0;
}

static DWORD len_of(const WCHAR *s)
{
    return s ? (DWORD)wcslen(s) : 0;
}

static int file_get_app_category(struct ctl_backend *b, const WCHAR *app, const WCHAR *args,
                                 DWORD *permitted)
{
    int err = 0;
    return simcat_get_app_category(cat_of(b), app, len_of(app), args, len_of(args), permitted,
                                   &err) == SOCKET_ERROR
               ? err
               : 0;
}

static int file_set_app_category(struct ctl_backend *b, const WCHAR *app, const WCHAR *args,
                                 DWORD permitted, DWORD *previous)
{
    int err = 0;
    return simcat_set_app_category(cat_of(b), app, len_of(app), args, len_of(args), permitted,
                                   previous, &err) == SOCKET_ERROR
               ? err
               : 0;
}

/* A snapshot can list its application records, so they are the record:
 * every categorized application in it (from_catalog = 1). */
static int file_records_enum(struct ctl_backend *b,
                             void (*cb)(void *ctx, const struct ctl_app_record *r), void *ctx)
{
    static struct ctl_app_record r;
    for (size_t i = 0;; i++) {
        memset(&r, 0, sizeof r);
        int err = simcat_app_enum(cat_of(b), i, r.app, r.args, &r.permitted);
        if (err == ERROR_NO_MORE_ITEMS)
            return 0;
        if (err)
            return err;
        r.from_catalog = 1;
        cb(ctx, &r);
    }
}

/* The snapshot's application record is the record: nothing more to keep. */
static int file_record_put(struct ctl_backend *b, const struct ctl_app_record *r)
{
    (void)b;
    (void)r;
    return 0;
}

static int file_record_del(struct ctl_backend *b, const WCHAR *app, const WCHAR *args)
{
    (void)b;
    (void)app;
    (void)args;
    return 0;
}

static int file_commit(struct ctl_backend *b)
{
    struct file_ctx *ctx = b->ctx;
    return ctx->file[0] ? simcat_save(ctx->cat, ctx->file) : 0;
}

static void file_destroy(struct ctl_backend *b)
{
    struct file_ctx *ctx = b->ctx;
    if (ctx->owned)
        simcat_destroy(ctx->cat);
    free(ctx);
    free(b);
}

static struct ctl_backend *make(struct simcat *cat, int owned, const WCHAR *file,
                                const char *name)
{
    struct ctl_backend *b = calloc(1, sizeof *b);
    struct file_ctx *ctx = calloc(1, sizeof *ctx);
    if (!b || !ctx) {
        free(b);
        free(ctx);
        return NULL;
    }
    ctx->cat = cat;
    ctx->owned = owned;
    if (file)
        wcsncpy(ctx->file, file, MAX_PATH - 1);
    b->ctx = ctx;
    snprintf(b->name, sizeof b->name, "%s", name);
    b->op_names[CTL_OP_INSTALL] = "WSCInstallProvider";
    b->op_names[CTL_OP_DEINSTALL] = "WSCDeinstallProvider";
    b->op_names[CTL_OP_UPDATE] = "WSCUpdateProvider";
    b->op_names[CTL_OP_WRITE_ORDER] = "WSCWriteProviderOrder";
    b->op_names[CTL_OP_SET_CATEGORIES] = "WSCSetProviderInfo";
    b->op_names[CTL_OP_INSTALL_BOTH] = "WSCInstallProvider64_32";
    b->op_names[CTL_OP_INSTALL_AND_CHAINS] = "WSCInstallProviderAndChains";
    b->enumerate = file_enumerate;
    b->get_path = file_get_path;
    b->get_categories = file_get_categories;
    b->install = file_install;
    b->install_both = file_install_both; /* used only when twin is set */
    b->install_and_chains = file_install_and_chains;
    b->deinstall = file_deinstall;
    b->update = file_update;
    b->write_order = file_write_order;
    b->set_categories = file_set_categories;
    b->get_app_category = file_get_app_category;
    b->set_app_category = file_set_app_category;
    b->records_enum = file_records_enum;
    b->record_put = file_record_put;
    b->record_del = file_record_del;
    b->commit = file_commit;
    b->destroy = file_destroy;
    return b;
}

struct ctl_backend *ctl_backend_simcat(struct simcat *cat, const char *name)
{
    return cat ? make(cat, 0, NULL, name ? name : "simulated catalog") : NULL;
}

int ctl_backend_file_open(const WCHAR *file, struct ctl_backend **out)
{
    struct simcat *cat = NULL;
    *out = NULL;
    if (wcslen(file) >= MAX_PATH - 5)
        return ERROR_FILENAME_EXCED_RANGE;
    int err = simcat_load(file, &cat);
    if (err)
        return err;
    char name[MAX_PATH + 16];
    snprintf(name, sizeof name, "snapshot %ls", file);
    *out = make(cat, 1, file, name);
    if (!*out) {
        simcat_destroy(cat);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    return 0;
}

struct simcat *ctl_backend_simcat_of(struct ctl_backend *b)
{
    return b && b->destroy == file_destroy ? cat_of(b) : NULL;
}

void ctl_backend_destroy(struct ctl_backend *b)
{
    if (b)
        b->destroy(b);
}
