/*
 * ctl_remove.h - taking providers out of a catalog without breaking the
 * ones that stay (ctl_remove.c); used by uninstall and repair.
 */
#ifndef PEERLSP_CTL_REMOVE_H
#define PEERLSP_CTL_REMOVE_H

#include "ctl.h"

#define CTL_MAX_REWRITES 8

struct ctl_rewrite {
    GUID guid;
    WCHAR path[MAX_PATH];
    WSAPROTOCOL_INFOW entries[CTL_MAX_CHAINS];
    DWORD n;
};

struct ctl_removal {
    GUID remove[CTL_TXN_MAX_TOUCHED / 2]; /* deinstalled in this order */
    DWORD nremove;
    struct ctl_rewrite rewrites[CTL_MAX_REWRITES];
    DWORD nrewrites;
    DWORD gone_ids[CTL_MAX_CHAINS * 4]; /* no chain may name these afterwards */
    DWORD ngone;
};

/* Adds peerlsp (layered GUID `guid`) to the plan: its GUID, chains of other
 * GUIDs whose top layer is peerlsp (as another installer may lay them
 * out), and a rewrite without peerlsp's id for every other LSP's chain that
 * runs through peerlsp. Returns 0, or an exit code after saying why. */
int ctl_removal_add_peerlsp(const struct ctl_catalog *c, const GUID *guid,
                            const char *name, struct ctl_removal *r);
/* Adds a whole provider GUID (once). 0, or CTL_EXIT_PROBLEMS when full. */
int ctl_removal_add_guid(struct ctl_removal *r, const GUID *guid);
int ctl_removal_has(const struct ctl_removal *r, const GUID *guid);
/* Prints the plan. */
void ctl_removal_print(const struct ctl_catalog *c, const struct ctl_removal *r,
                       const char *name);

/* ctl_run ops: rewrites first (reversible in place), then the removals,
 * peerlsp's own GUID last. */
int ctl_removal_apply(struct ctl_txn *t, struct ctl_target *tg, void *plan,
                      const struct ctl_options *o);
int ctl_removal_check(struct ctl_txn *t, struct ctl_target *tg, void *plan,
                      const struct ctl_options *o);

#endif
