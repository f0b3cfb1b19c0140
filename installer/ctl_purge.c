/*
 * ctl_purge.c - `uninstall --purge`, what the MSI's removal runs: after
 * peerlsp has left the catalog, every program `exclude` kept it out of is
 * let in again (its recorded categories put back, as `include` does), and
 * peerlsp-ctl's registry key HKLM\SOFTWARE\peerlsp (the record of
 * exclusions, the Trace setting) is removed. Nothing of peerlsp's then
 * outlives the product. A program whose categories cannot be put back is
 * reported, and its record (and so the key) is kept, so that `include`
 * can still be run by hand.
 */
#include <string.h>
#include <wchar.h>

#include "ctl.h"

#define MAX_PURGED 64

struct collected {
    struct ctl_app_record r[MAX_PURGED];
    int n, overflow;
};

static void collect(void *ctx, const struct ctl_app_record *r)
{
    struct collected *c = ctx;
    if (c->n < MAX_PURGED)
        c->r[c->n++] = *r;
    else
        c->overflow = 1;
}

int ctl_records_registry_purge(void)
{
    /* The product's key is the parent of the Exclusions key. */
    WCHAR product[MAX_PATH], *slash;
    wcsncpy(product, ctl_records_subkey, MAX_PATH - 1);
    product[MAX_PATH - 1] = 0;
    if (!(slash = wcsrchr(product, L'\\')))
        return ERROR_INVALID_PARAMETER;
    *slash = 0;
    WCHAR *leaf = wcsrchr(product, L'\\');
    if (!leaf)
        return ERROR_INVALID_PARAMETER;
    *leaf++ = 0;
    HKEY parent;
    LONG err = RegOpenKeyExW(ctl_records_root, product, 0,
                             KEY_ENUMERATE_SUB_KEYS | KEY_QUERY_VALUE | KEY_SET_VALUE | DELETE |
                                 KEY_WOW64_64KEY,
                             &parent);
    if (err)
        return err == ERROR_FILE_NOT_FOUND ? 0 : (int)err;
    err = RegDeleteTreeW(parent, leaf);
    RegCloseKey(parent);
    return err == ERROR_FILE_NOT_FOUND ? 0 : (int)err;
}

int ctl_purge(struct ctl_target *targets, int n, const struct ctl_options *o)
{
    if (n < 1 || !targets[0].b->records_enum)
        return CTL_EXIT_OK;
    struct ctl_backend *b = targets[0].b;
    static struct collected c;
    memset(&c, 0, sizeof c);
    int err = b->records_enum(b, collect, &c), kept = c.overflow;
    if (err) {
        ctl_err("The record of exclusions cannot be read (error %d); programs excluded with "
                "peerlsp-ctl exclude keep their categories.\n",
                err);
        return CTL_EXIT_OK;
    }
    for (int i = 0; i < c.n; i++) {
        int rc = ctl_include(targets, 1, c.r[i].app, c.r[i].args[0] ? c.r[i].args : NULL, o);
        if (rc) {
            ctl_err("%ls: its categories could not be put back (exit %d); its record is kept: "
                    "run 'peerlsp-ctl include' for it later.\n",
                    c.r[i].app, rc);
            kept = 1;
        }
    }
    if (!kept && b->records_enum == ctl_records_registry_enum && !o->dry_run) {
        err = ctl_records_registry_purge();
        ctl_log_note(err ? CTL_EXIT_CALL_FAILED : CTL_EXIT_OK,
                     "uninstall --purge: HKLM\\SOFTWARE\\peerlsp removed%s",
                     err ? " (failed)" : "");
        if (err)
            ctl_err("HKLM\\SOFTWARE\\peerlsp could not be removed: error %d.\n", err);
        else
            ctl_out("Removed HKLM\\SOFTWARE\\peerlsp (peerlsp-ctl's settings and records).\n");
    }
    return CTL_EXIT_OK;
}
