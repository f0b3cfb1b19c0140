/*
 * ctl_backend_live.c - the system catalogs through ws2_32's WSC functions
 * (the table ctl_winapi() gives: the system's, or a test's). Changes are
 * immediate; there is nothing to commit.
 *
 * On 64-bit Windows the x64 tool makes two of these: the 64-bit catalog
 * (the plain functions) and the 32-bit one (the ...32 functions). The
 * 32-bit catalog has no install of its own: WSCInstallProvider64_32
 * installs one provider into both catalogs at once, so it is the 64-bit
 * backend's install_both, and ctl_install pairs the two catalogs for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ctl_winapi.h"

/* What a live backend calls: its catalog's set of functions, and the
 * table's WSCInstallProvider64_32 (64-bit backend only). */
struct live_ctx {
    struct ctl_wsc w;
    sWSCInstallProvider install64_32;
    sWSCInstallProviderAndChains and_chains;
};

static const struct ctl_wsc *wsc(struct ctl_backend *b)
{
    return &((struct live_ctx *)b->ctx)->w;
}

static int live_enum_fn(void *ctx, WSAPROTOCOL_INFOW *buf, LPDWORD len, LPINT err)
{
    const struct ctl_wsc *w = ctx;
    return w->enum_protocols(NULL, buf, len, err);
}

static int live_enumerate(struct ctl_backend *b, WSAPROTOCOL_INFOW **out, DWORD *count)
{
    *out = NULL;
    *count = 0;
    if (!wsc(b)->enum_protocols)
        return CTL_ERR_MISSING;
    return ctl_enumerate_with(live_enum_fn, (void *)wsc(b), out, count);
}

static int live_get_path(struct ctl_backend *b, const GUID *guid, WCHAR path[MAX_PATH])
{
    int len = MAX_PATH, err = 0;
    GUID g = *guid;
    if (!wsc(b)->get_provider_path)
        return CTL_ERR_MISSING;
    path[0] = 0;
    return wsc(b)->get_provider_path(&g, path, &len, &err) == SOCKET_ERROR ? err : 0;
}

static int live_get_categories(struct ctl_backend *b, const GUID *guid, DWORD *categories)
{
    size_t size = sizeof *categories;
    int err = 0;
    GUID g = *guid;
    return wsc(b)->get_provider_info(&g, ProviderInfoLspCategories, (PBYTE)categories, &size, 0,
                                     &err) == SOCKET_ERROR
               ? err
               : 0;
}

static int live_install(struct ctl_backend *b, const GUID *guid, const WCHAR *path,
                        const WSAPROTOCOL_INFOW *list, DWORD n)
{
    int err = 0;
    GUID g = *guid;
    return wsc(b)->install_provider(&g, path, list, n, &err) == SOCKET_ERROR ? err : 0;
}

static int live_install_both(struct ctl_backend *b, const GUID *guid, const WCHAR *path,
                             const WSAPROTOCOL_INFOW *list, DWORD n)
{
    int err = 0;
    GUID g = *guid;
    return ((struct live_ctx *)b->ctx)->install64_32(&g, path, list, n, &err) == SOCKET_ERROR
               ? err
               : 0;
}

static int live_install_and_chains(struct ctl_backend *b, const GUID *guid, const WCHAR *path,
                                   const WCHAR *name, DWORD flags,
                                   const WSAPROTOCOL_INFOW *list, DWORD n, DWORD *layered_id)
{
    int err = 0;
    GUID g = *guid;
    WCHAR path_copy[MAX_PATH], name_copy[WSAPROTOCOL_LEN + 1];
    /* The prototype takes non-const strings and list. */
    wcsncpy(path_copy, path, MAX_PATH - 1);
    path_copy[MAX_PATH - 1] = 0;
    wcsncpy(name_copy, name, WSAPROTOCOL_LEN);
    name_copy[WSAPROTOCOL_LEN] = 0;
    return ((struct live_ctx *)b->ctx)
                       ->and_chains(&g, path_copy, name_copy, flags, (LPWSAPROTOCOL_INFOW)list,
                                    n, layered_id, &err) == SOCKET_ERROR
               ? err
               : 0;
}

static int live_deinstall(struct ctl_backend *b, const GUID *guid)
{
    int err = 0;
    GUID g = *guid;
    return wsc(b)->deinstall_provider(&g, &err) == SOCKET_ERROR ? err : 0;
}

static int live_update(struct ctl_backend *b, const GUID *guid, const WCHAR *path,
                       const WSAPROTOCOL_INFOW *list, DWORD n)
{
    int err = 0;
    GUID g = *guid;
    return wsc(b)->update_provider(&g, path, list, n, &err) == SOCKET_ERROR ? err : 0;
}

static int live_write_order(struct ctl_backend *b, const DWORD *ids, DWORD n)
{
    /* Returns the error code itself, as documented. */
    return wsc(b)->write_provider_order((LPDWORD)ids, n);
}

static int live_set_categories(struct ctl_backend *b, const GUID *guid, DWORD categories)
{
    int err = 0;
    GUID g = *guid;
    return wsc(b)->set_provider_info(&g, ProviderInfoLspCategories, (PBYTE)&categories,
                                     sizeof categories, 0, &err) == SOCKET_ERROR
               ? err
               : 0;
}

static DWORD len_of(const WCHAR *s)
{
    return s ? (DWORD)wcslen(s) : 0;
}

static int live_get_app_category(struct ctl_backend *b, const WCHAR *app, const WCHAR *args,
                                 DWORD *permitted)
{
    int err = 0;
    DWORD n = len_of(args);
    return wsc(b)->get_application_category(app, len_of(app), n ? args : NULL, n, permitted,
                                            &err) == SOCKET_ERROR
               ? err
               : 0;
}

static int live_set_app_category(struct ctl_backend *b, const WCHAR *app, const WCHAR *args,
                                 DWORD permitted, DWORD *previous)
{
    int err = 0;
    DWORD n = len_of(args);
    return wsc(b)->set_application_category(app, len_of(app), n ? args : NULL, n, permitted,
                                            previous, &err) == SOCKET_ERROR
               ? err
               : 0;
}

static void live_destroy(struct ctl_backend *b)
{
    free(b->ctx);
    free(b);
}

struct ctl_backend *ctl_backend_live(int bits)
{
    const struct ctl_winapi *api = ctl_winapi();
    const struct ctl_wsc *w;
    const char *name;
    int wow32 = 0;
#ifdef _WIN64
    w = bits == 32 ? &api->wow32 : &api->native;
    name = bits == 32 ? "32-bit catalog" : "64-bit catalog";
    wow32 = bits == 32;
#else
    if (bits == 64)
        return NULL; /* only the x64 tool reaches the 64-bit catalog */
    w = &api->native;
    name = ctl_is_64bit_windows() ? "32-bit catalog" : "catalog";
#endif
    if (!w->enum_protocols)
        return NULL;
    struct ctl_backend *b = calloc(1, sizeof *b);
    struct live_ctx *ctx = calloc(1, sizeof *ctx);
    if (!b || !ctx) {
        free(b);
        free(ctx);
        return NULL;
    }
    /* A copy: a backend keeps the functions it was made with. */
    ctx->w = *w;
    ctx->install64_32 = wow32 ? NULL : api->install_provider64_32;
    /* The process's own catalog only (no ...32 form here). */
    ctx->and_chains = wow32 ? NULL : api->install_provider_and_chains;
    b->ctx = ctx;
    int wine = ctl_wine_version() && !ctl_winapi_overridden();
    snprintf(b->name, sizeof b->name, "%s%s", name, wine ? " (Wine)" : "");
    b->op_names[CTL_OP_INSTALL] = wow32 ? "WSCInstallProvider32 (no such function)"
                                        : "WSCInstallProvider";
    b->op_names[CTL_OP_DEINSTALL] = wow32 ? "WSCDeinstallProvider32" : "WSCDeinstallProvider";
    b->op_names[CTL_OP_UPDATE] = wow32  ? "WSCUpdateProvider32"
                                 : wine ? "WSCUpdateProvider (a stub under Wine)"
                                        : "WSCUpdateProvider";
    b->op_names[CTL_OP_WRITE_ORDER] = wow32 ? "WSCWriteProviderOrder32" : "WSCWriteProviderOrder";
    b->op_names[CTL_OP_SET_CATEGORIES] = wow32 ? "WSCSetProviderInfo32" : "WSCSetProviderInfo";
    b->op_names[CTL_OP_INSTALL_BOTH] = "WSCInstallProvider64_32";
    b->op_names[CTL_OP_INSTALL_AND_CHAINS] = "WSCInstallProviderAndChains";
#ifdef _WIN64
    b->dll_machine = wow32 ? IMAGE_FILE_MACHINE_I386 : IMAGE_FILE_MACHINE_AMD64;
#else
    b->dll_machine = IMAGE_FILE_MACHINE_I386;
#endif
    b->dll_wow64 = wow32;
    b->system_catalog = 1;
    b->enumerate = live_enumerate;
    b->get_path = live_get_path;
    b->get_categories = w->get_provider_info ? live_get_categories : NULL;
    /* The 32-bit catalog has no install of its own (see above). */
    b->install = w->install_provider && !wow32 ? live_install : NULL;
    b->install_both = ctx->install64_32 ? live_install_both : NULL;
    b->install_and_chains = ctx->and_chains ? live_install_and_chains : NULL;
    b->deinstall = w->deinstall_provider ? live_deinstall : NULL;
    b->update = w->update_provider ? live_update : NULL;
    b->write_order = w->write_provider_order ? live_write_order : NULL;
    b->set_categories = w->set_provider_info ? live_set_categories : NULL;
    /* Application categories have no ...32 functions: only the process's
     * own ws2_32 sets them. */
    b->get_app_category = w->get_application_category && !wow32 ? live_get_app_category : NULL;
    b->set_app_category = w->set_application_category && !wow32 ? live_set_app_category : NULL;
    b->records_enum = ctl_records_registry_enum;
    b->record_put = ctl_records_registry_put;
    b->record_del = ctl_records_registry_del;
    b->destroy = live_destroy;
    return b;
}

void ctl_backend_live_pair(struct ctl_backend *b64, struct ctl_backend *b32)
{
    if (b64 && b32 && b64->destroy == live_destroy && b32->destroy == live_destroy &&
        b64->install_both)
        b64->twin = b32;
}
