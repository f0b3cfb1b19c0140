/*
 * ctl_run.c - runs a change on every target catalog as one transaction:
 * apply on each, then re-read and check each, then commit each. Any
 * failure rolls every catalog back (committed snapshot files are written
 * again), so the catalogs end either all changed or all as they were.
 * --dry-run applies the same steps to an in-memory copy of each catalog
 * and prints them.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_run.h"

int ctl_call_failed(struct ctl_backend *b, enum ctl_op op, int err)
{
    if (err == CTL_ERR_MISSING) {
        ctl_err("%s: %s is not available on this system; peerlsp-ctl cannot make this change "
                "here.\n",
                b->name, b->op_names[op]);
        return CTL_EXIT_MISSING_FUNCTION;
    }
    ctl_err("%s: %s failed with error %d.\n", b->name, b->op_names[op], err);
    return CTL_EXIT_CALL_FAILED;
}

static void rollback_all(struct ctl_txn *txns, const int *begun, const int *committed, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        if (!begun[i])
            continue;
        if (ctl_txn_rollback(&txns[i]) == 0 && committed[i] && txns[i].b->commit &&
            txns[i].b->commit(txns[i].b))
            ctl_err("%s: could not write the rolled-back catalog.\n", txns[i].b->name);
    }
}

static int run_dry(struct ctl_target *targets, int n, void **plans, const struct ctl_run_ops *ops,
                   const struct ctl_options *o)
{
    int rc = CTL_EXIT_OK;
    for (int i = 0; i < n && rc == CTL_EXIT_OK; i++) {
        if (!plans[i])
            continue;
        struct ctl_catalog c;
        int err = ctl_catalog_read(targets[i].b, &c);
        if (err)
            return ctl_exit_for_error(err, "reading the catalog");
        struct simcat *copy = ctl_catalog_to_simcat(&c);
        ctl_catalog_free(&c);
        struct ctl_backend *b = ctl_backend_simcat(copy, targets[i].b->name);
        if (!b) {
            simcat_destroy(copy);
            return ctl_exit_for_error(ERROR_NOT_ENOUGH_MEMORY, "copying the catalog");
        }
        ctl_out("%s: would make these calls:\n", targets[i].b->name);
        struct ctl_target dry = targets[i];
        dry.b = b;
        struct ctl_txn t;
        if ((err = ctl_txn_begin(&t, b)))
            rc = ctl_exit_for_error(err, "reading the catalog");
        else {
            t.verbose = 1;
            rc = ops->apply(&t, &dry, plans[i], o);
            if (rc == CTL_EXIT_OK)
                rc = ops->check(&t, &dry, plans[i], o);
            ctl_txn_end(&t);
        }
        ctl_backend_destroy(b);
        simcat_destroy(copy);
    }
    if (rc == CTL_EXIT_OK)
        ctl_out("Dry run: nothing was changed.\n");
    return rc;
}

int ctl_run(struct ctl_target *targets, int n, void **plans, const struct ctl_run_ops *ops,
            const struct ctl_options *o)
{
    if (o->dry_run)
        return run_dry(targets, n, plans, ops, o);

    struct ctl_txn txns[CTL_MAX_TARGETS];
    int begun[CTL_MAX_TARGETS] = { 0 }, committed[CTL_MAX_TARGETS] = { 0 };
    int rc = CTL_EXIT_OK;

    for (int i = 0; i < n && rc == CTL_EXIT_OK; i++) {
        if (!plans[i])
            continue;
        int err = ctl_txn_begin(&txns[i], targets[i].b);
        if (err) {
            rc = ctl_exit_for_error(err, "reading the catalog");
            break;
        }
        begun[i] = 1;
        txns[i].verbose = o->verbose;
        rc = ops->apply(&txns[i], &targets[i], plans[i], o);
    }
    /* The change must really be there: re-read every catalog. */
    for (int i = 0; i < n && rc == CTL_EXIT_OK; i++) {
        if (begun[i])
            rc = ops->check(&txns[i], &targets[i], plans[i], o);
    }
    for (int i = 0; i < n && rc == CTL_EXIT_OK; i++) {
        if (!begun[i] || !targets[i].b->commit)
            continue;
        int err = targets[i].b->commit(targets[i].b);
        if (err) {
            ctl_err("%s: could not be written: error %d.\n", targets[i].b->name, err);
            rc = CTL_EXIT_CALL_FAILED;
        } else {
            committed[i] = 1;
        }
    }
    if (rc != CTL_EXIT_OK) {
        rollback_all(txns, begun, committed, n);
        ctl_err("Every catalog was put back as it was before this command.\n");
    }
    for (int i = 0; i < n; i++) {
        if (begun[i])
            ctl_txn_end(&txns[i]);
    }
    return rc;
}

int ctl_exit_for_error(int err, const char *what)
{
    ctl_err("peerlsp-ctl: %s failed with error %d.\n", what, err);
    return CTL_EXIT_CALL_FAILED;
}
