/*
 * ctl_uninstall.c - `uninstall`: peerlsp's layered entry and chains out of
 * every catalog, other LSPs above it rewritten to skip it. Needs nothing
 * from the DLL file (it may be gone): peerlsp is found by its GUID.
 */
#include <string.h>

#include "ctl_remove.h"
#include "ctl_run.h"

int ctl_uninstall(struct ctl_target *targets, int n, const struct ctl_options *o)
{
    static struct ctl_removal plans[CTL_MAX_TARGETS];
    void *todo[CTL_MAX_TARGETS] = { NULL };
    int pending = 0, rc;

    for (int i = 0; i < n; i++) {
        struct ctl_catalog c;
        int err = ctl_catalog_read(targets[i].b, &c);
        if (err)
            return ctl_exit_for_error(err, "reading the catalog");
        memset(&plans[i], 0, sizeof plans[i]);
        rc = ctl_removal_add_peerlsp(&c, &o->guid, targets[i].b->name, &plans[i]);
        if (rc == 0 && plans[i].nremove == 0 && plans[i].nrewrites == 0)
            ctl_out("%s: peerlsp is not installed; nothing to do.\n", targets[i].b->name);
        else if (rc == 0) {
            ctl_removal_print(&c, &plans[i], targets[i].b->name);
            todo[i] = &plans[i];
            pending++;
        }
        ctl_catalog_free(&c);
        if (rc)
            return rc;
    }
    if (!pending)
        return CTL_EXIT_OK;
    static const struct ctl_run_ops ops = { ctl_removal_apply, ctl_removal_check };
    rc = ctl_run(targets, n, todo, &ops, o);
    if (rc == CTL_EXIT_OK && !o->dry_run)
        ctl_out("peerlsp uninstalled. Programs started from now on no longer load it.\n");
    return rc;
}
