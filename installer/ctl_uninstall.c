/*
 * ctl_uninstall.c - `uninstall`: peerlsp's layered entry and chains out of
 * every catalog, other LSPs above it rewritten to skip it. Needs nothing
 * from the DLL file (it may be gone): peerlsp is found by its GUID.
 */
#include <string.h>

#include "ctl_remove.h"
#include "ctl_run.h"

static int ctl_uninstall_with(struct ctl_target *targets, int n, const struct ctl_options *o,
                              struct ctl_catalog *planned)
{
    static struct ctl_removal plans[CTL_MAX_TARGETS];
    void *todo[CTL_MAX_TARGETS] = { NULL };
    int pending = 0, rc;

    for (int i = 0; i < n; i++) {
        struct ctl_catalog *const c = &planned[i];
        int err = ctl_catalog_read(targets[i].b, c);
        if (err)
            return ctl_exit_for_error(err, "reading the catalog");
        memset(&plans[i], 0, sizeof plans[i]);
        rc = ctl_removal_add_peerlsp(c, &o->guid, targets[i].b->name, &plans[i]);
        if (rc == 0 && plans[i].nremove == 0 && plans[i].nrewrites == 0)
            ctl_out("%s: peerlsp is not installed; nothing to do.\n", targets[i].b->name);
        else if (rc == 0) {
            ctl_removal_print(c, &plans[i], targets[i].b->name);
            todo[i] = &plans[i];
            pending++;
        }
        if (rc)
            return rc;
    }
    if (!pending)
        return CTL_EXIT_OK;
    static const struct ctl_run_ops ops = { ctl_removal_apply, ctl_removal_check };
    rc = ctl_run(targets, n, todo, planned, &ops, o);
    if (rc == CTL_EXIT_OK && !o->dry_run)
        ctl_out("peerlsp uninstalled. Programs started from now on no longer load it.\n");
    return rc;
}

/* The catalogs read for the plan are the ones the transaction checks
 * against (ctl_run): kept until it has run. */
int ctl_uninstall(struct ctl_target *targets, int n, const struct ctl_options *o)
{
    struct ctl_catalog planned[CTL_MAX_TARGETS];
    memset(planned, 0, sizeof planned);
    int rc = ctl_uninstall_with(targets, n, o, planned);
    for (int i = 0; i < CTL_MAX_TARGETS; i++)
        ctl_catalog_free(&planned[i]);
    return rc;
}
