/*
 * ctl_repair.c - `repair`: takes out chains that point at ids that no
 * longer exist (or at the wrong kind of entry) and peerlsp's orphaned
 * entries, after printing the plan.
 *
 * A provider GUID is removed when every one of its entries is broken (a
 * provider with broken and working entries is left alone and reported:
 * removing it would take working entries too). peerlsp's own GUID is the
 * exception: if any of its entries is broken, or its layered entry has no
 * chain left, all of peerlsp is removed (other LSPs above it rewritten, as
 * uninstall does), and the message says to install again. Without
 * --all-orphans only peerlsp's entries are considered.
 */
#include <string.h>

#include "ctl_remove.h"
#include "ctl_run.h"

static int guid_all_broken(const struct ctl_catalog *c, const GUID *g)
{
    char why[160];
    for (DWORD i = 0; i < c->n; i++) {
        if (IsEqualGUID(&c->e[i].ProviderId, g) && !ctl_chain_broken(c, &c->e[i], why, sizeof why))
            return 0;
    }
    return 1;
}

static int plan_repair(const struct ctl_catalog *c, const struct ctl_options *o,
                       const char *name, struct ctl_removal *r)
{
    int remove_peerlsp = 0, rc;
    const WSAPROTOCOL_INFOW *l = ctl_layered_entry(c, &o->guid);

    for (DWORD i = 0; i < c->n; i++) {
        const WSAPROTOCOL_INFOW *e = &c->e[i];
        char why[160];
        if (!ctl_chain_broken(c, e, why, sizeof why))
            continue;
        int ours = ctl_entry_is_ours(c, e, &o->guid);
        if (!ours && !o->all_orphans) {
            ctl_out("%s: entry %lu \"%ls\" is broken (%s); not peerlsp's: use --all-orphans "
                    "to remove it\n",
                    name, (unsigned long)e->dwCatalogEntryId, e->szProtocol, why);
            continue;
        }
        ctl_out("%s: entry %lu \"%ls\" is broken: %s\n", name,
                (unsigned long)e->dwCatalogEntryId, e->szProtocol, why);
        if (IsEqualGUID(&e->ProviderId, &o->guid) ||
            (l && e->ProtocolChain.ChainLen > BASE_PROTOCOL &&
             e->ProtocolChain.ChainEntries[0] == l->dwCatalogEntryId && !guid_all_broken(c, &e->ProviderId))) {
            remove_peerlsp = 1;
        } else if (guid_all_broken(c, &e->ProviderId)) {
            if ((rc = ctl_removal_add_guid(r, &e->ProviderId)))
                return rc;
        } else {
            ctl_out("%s: its provider also has working entries; left alone (remove that LSP "
                    "with its own installer)\n",
                    name);
        }
    }
    /* A layered entry no chain uses any more. */
    if (l && !remove_peerlsp) {
        int used = 0;
        for (DWORD i = 0; i < c->n && !used; i++) {
            if (ctl_chain_contains(&c->e[i], l->dwCatalogEntryId) &&
                !ctl_removal_has(r, &c->e[i].ProviderId))
                used = 1;
        }
        if (!used) {
            ctl_out("%s: peerlsp's layered entry %lu has no chains\n", name,
                    (unsigned long)l->dwCatalogEntryId);
            remove_peerlsp = 1;
        }
    }
    if (remove_peerlsp && (rc = ctl_removal_add_peerlsp(c, &o->guid, name, r)))
        return rc;
    return 0;
}

int ctl_repair(struct ctl_target *targets, int n, const struct ctl_options *o)
{
    static struct ctl_removal plans[CTL_MAX_TARGETS];
    void *todo[CTL_MAX_TARGETS] = { NULL };
    int pending = 0, rc, peerlsp_removed = 0;

    for (int i = 0; i < n; i++) {
        struct ctl_catalog c;
        int err = ctl_catalog_read(targets[i].b, &c);
        if (err)
            return ctl_exit_for_error(err, "reading the catalog");
        memset(&plans[i], 0, sizeof plans[i]);
        rc = plan_repair(&c, o, targets[i].b->name, &plans[i]);
        if (rc == 0 && (plans[i].nremove || plans[i].nrewrites)) {
            ctl_out("%s: repair will:\n", targets[i].b->name);
            ctl_removal_print(&c, &plans[i], targets[i].b->name);
            todo[i] = &plans[i];
            pending++;
            peerlsp_removed |= ctl_removal_has(&plans[i], &o->guid);
        } else if (rc == 0) {
            ctl_out("%s: nothing to repair.\n", targets[i].b->name);
        }
        ctl_catalog_free(&c);
        if (rc)
            return rc;
    }
    if (!pending)
        return CTL_EXIT_OK;
    static const struct ctl_run_ops ops = { ctl_removal_apply, ctl_removal_check };
    rc = ctl_run(targets, n, todo, &ops, o);
    if (rc == CTL_EXIT_OK && !o->dry_run) {
        ctl_out("Repaired.\n");
        if (peerlsp_removed)
            ctl_out("peerlsp was removed; run 'peerlsp-ctl install --dll PATH' to install it "
                    "again.\n");
    }
    return rc;
}
