/*
 * ctl_run.h - the transaction runner shared by install, uninstall and
 * repair (ctl_run.c).
 */
#ifndef PEERLSP_CTL_RUN_H
#define PEERLSP_CTL_RUN_H

#include "ctl.h"

struct ctl_run_ops {
    /* Makes the change in one catalog through the transaction's calls;
     * returns an enum ctl_exit. */
    int (*apply)(struct ctl_txn *t, struct ctl_target *tg, void *plan,
                 const struct ctl_options *o);
    /* Re-reads the catalog and checks the change is there. */
    int (*check)(struct ctl_txn *t, struct ctl_target *tg, void *plan,
                 const struct ctl_options *o);
};

/* plans[i] NULL: nothing to do in targets[i]. planned[i] is the catalog
 * read the plan was made from: the transaction goes ahead only if the
 * catalog is still exactly that when it begins (another installer may
 * have changed it meanwhile; the plan would then be wrong). */
int ctl_run(struct ctl_target *targets, int n, void **plans, const struct ctl_catalog *planned,
            const struct ctl_run_ops *ops, const struct ctl_options *o);

/* Reports a failed mutating call; returns CTL_EXIT_MISSING_FUNCTION for
 * CTL_ERR_MISSING, else CTL_EXIT_CALL_FAILED. */
int ctl_call_failed(struct ctl_backend *b, enum ctl_op op, int err);

#endif
