/*
 * ctl_run.c - runs a change on every target catalog as one transaction:
 * read every catalog, then apply on each, then re-read and check each,
 * then commit each. Any failure rolls every catalog back (committed
 * snapshot files are written again), so the catalogs end either all
 * changed or all as they were. Every catalog is read before the first
 * change anywhere, because one call can change two catalogs
 * (WSCInstallProvider64_32: a target whose backend has a twin among the
 * targets gets its transaction linked to the twin's).
 * --dry-run applies the same steps to an in-memory copy of each catalog
 * (twins stay twins) and prints them.
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

/* Returns the number of catalogs that could not be put back. */
static int rollback_all(struct ctl_txn *txns, const int *begun, const int *committed, int n)
{
    int incomplete = 0;
    for (int i = n - 1; i >= 0; i--) {
        if (!begun[i])
            continue;
        if (ctl_txn_rollback(&txns[i])) {
            incomplete++;
        } else if (committed[i] && txns[i].b->commit && txns[i].b->commit(txns[i].b)) {
            ctl_err("%s: could not write the rolled-back catalog.\n", txns[i].b->name);
            incomplete++;
        }
    }
    return incomplete;
}

/* The copy answers like the original: the same call names (the ...32
 * ones for the live 32-bit catalog) and no call the original lacks. */
static void mirror_calls(struct ctl_backend *copy, const struct ctl_backend *orig)
{
    memcpy(copy->op_names, orig->op_names, sizeof copy->op_names);
    if (!orig->install)
        copy->install = NULL;
    if (!orig->install_both)
        copy->install_both = NULL;
    if (!orig->install_and_chains)
        copy->install_and_chains = NULL;
    if (!orig->deinstall)
        copy->deinstall = NULL;
    if (!orig->update)
        copy->update = NULL;
    if (!orig->write_order)
        copy->write_order = NULL;
    if (!orig->set_categories)
        copy->set_categories = NULL;
}

/* Links each transaction to the one over its backend's twin. */
static void link_twins(struct ctl_txn *txns, const int *begun, int n)
{
    for (int i = 0; i < n; i++) {
        if (!begun[i] || !txns[i].b->twin)
            continue;
        for (int j = 0; j < n; j++) {
            if (j != i && begun[j] && txns[j].b == txns[i].b->twin)
                txns[i].twin = &txns[j];
        }
    }
}

static int run_dry(struct ctl_target *targets, int n, void **plans, const struct ctl_run_ops *ops,
                   const struct ctl_options *o)
{
    struct ctl_target dry[CTL_MAX_TARGETS];
    struct simcat *copies[CTL_MAX_TARGETS] = { NULL };
    struct ctl_txn txns[CTL_MAX_TARGETS];
    int begun[CTL_MAX_TARGETS] = { 0 };
    int rc = CTL_EXIT_OK;

    memset(dry, 0, sizeof dry);
    for (int i = 0; i < n && rc == CTL_EXIT_OK; i++) {
        if (!plans[i])
            continue;
        struct ctl_catalog c;
        int err = ctl_catalog_read(targets[i].b, &c);
        if (err) {
            rc = ctl_exit_for_error(err, "reading the catalog");
            break;
        }
        copies[i] = ctl_catalog_to_simcat(&c);
        ctl_catalog_free(&c);
        dry[i] = targets[i];
        dry[i].b = ctl_backend_simcat(copies[i], targets[i].b->name);
        if (!dry[i].b) {
            rc = ctl_exit_for_error(ERROR_NOT_ENOUGH_MEMORY, "copying the catalog");
            break;
        }
        mirror_calls(dry[i].b, targets[i].b);
        if ((err = ctl_txn_begin(&txns[i], dry[i].b))) {
            rc = ctl_exit_for_error(err, "reading the catalog");
            break;
        }
        begun[i] = 1;
        txns[i].verbose = 1;
    }
    /* The copies of two twin catalogs are twins. */
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n && begun[i]; j++) {
            if (j != i && begun[j] && targets[i].b->twin == targets[j].b)
                dry[i].b->twin = dry[j].b;
        }
    }
    link_twins(txns, begun, n);
    for (int i = 0; i < n && rc == CTL_EXIT_OK; i++) {
        if (!begun[i])
            continue;
        ctl_out("%s: would make these calls:\n", dry[i].b->name);
        rc = ops->apply(&txns[i], &dry[i], plans[i], o);
    }
    for (int i = 0; i < n && rc == CTL_EXIT_OK; i++) {
        if (begun[i])
            rc = ops->check(&txns[i], &dry[i], plans[i], o);
    }
    for (int i = 0; i < n; i++) {
        if (begun[i])
            ctl_txn_end(&txns[i]);
        if (dry[i].b)
            ctl_backend_destroy(dry[i].b);
        simcat_destroy(copies[i]);
    }
    if (rc == CTL_EXIT_OK)
        ctl_out("Dry run: nothing was changed.\n");
    return rc;
}

int ctl_run(struct ctl_target *targets, int n, void **plans, const struct ctl_catalog *planned,
            const struct ctl_run_ops *ops, const struct ctl_options *o)
{
    if (o->dry_run)
        return run_dry(targets, n, plans, ops, o);

    struct ctl_txn txns[CTL_MAX_TARGETS];
    int begun[CTL_MAX_TARGETS] = { 0 }, committed[CTL_MAX_TARGETS] = { 0 };
    int rc = CTL_EXIT_OK;

    /* Every catalog as it is before the first change anywhere. */
    for (int i = 0; i < n && rc == CTL_EXIT_OK; i++) {
        if (!plans[i])
            continue;
        int err = ctl_txn_begin(&txns[i], targets[i].b);
        if (err) {
            ctl_txn_end(&txns[i]);
            rc = ctl_exit_for_error(err, "reading the catalog");
            break;
        }
        begun[i] = 1;
        txns[i].verbose = o->verbose;
        if (!ctl_catalog_same(&planned[i], &txns[i].before)) {
            ctl_err("%s: the catalog changed since it was read (another installer?); the "
                    "plan no longer fits it. Nothing was changed: run the command again.\n",
                    targets[i].b->name);
            rc = CTL_EXIT_CALL_FAILED;
        }
    }
    link_twins(txns, begun, n);
    for (int i = 0; i < n && rc == CTL_EXIT_OK; i++) {
        if (begun[i])
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
        /* Said only when every re-read catalog shows it (ctl_txn_rollback
         * confirms); otherwise ROLLBACK INCOMPLETE was said, and exit 6. */
        if (rollback_all(txns, begun, committed, n) == 0) {
            ctl_err("Every catalog was put back as it was before this command.\n");
        } else {
            ctl_err("NOT every catalog could be put back: run 'peerlsp-ctl verify' and "
                    "'peerlsp-ctl repair'.\n");
            rc = CTL_EXIT_CALL_FAILED;
        }
    }
    /* The system's catalogs get an entry in the change log; snapshot
     * files are their own record. */
    struct ctl_backend *logged[CTL_MAX_TARGETS] = { NULL };
    struct ctl_catalog before[CTL_MAX_TARGETS];
    int nlogged = 0;
    memset(before, 0, sizeof before);
    for (int i = 0; i < n; i++) {
        if (begun[i] && targets[i].b->system_catalog) {
            logged[i] = targets[i].b;
            before[i] = txns[i].before;
            nlogged++;
        }
    }
    if (nlogged)
        ctl_log_change(logged, before, n, rc);
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
