/*
 * ctl_repair.c - `repair`: takes out peerlsp's broken or orphaned entries,
 * after printing the plan; other vendors' entries only when named by id.
 *
 * peerlsp's own GUID: if any of its entries is broken, or its layered
 * entry has no chain left, all of peerlsp is removed (other LSPs above it
 * rewritten, as uninstall does), and the message says to install again.
 *
 * Another provider's entries are never removed unless the administrator
 * names one of them with --orphan ID: a chain layout the tool does not
 * know may still work (instlsp's, for one), and a provider is the vendor's
 * to remove. A named provider is removed only when every one of its
 * entries is broken or is a layered entry no chain uses any more;
 * otherwise it is reported and left alone. Without --orphan, broken or
 * unused entries of others are reported with the command that would
 * remove them.
 */
#include <string.h>

#include "ctl_remove.h"
#include "ctl_run.h"

/* A layered entry that no chain names outside `r`'s removals and outside
 * the provider `going` (NULL: none) that is being weighed for removal. */
static int layered_unused_but(const struct ctl_catalog *c, const WSAPROTOCOL_INFOW *e,
                              const struct ctl_removal *r, const GUID *going)
{
    if (e->ProtocolChain.ChainLen != LAYERED_PROTOCOL)
        return 0;
    for (DWORD i = 0; i < c->n; i++) {
        const GUID *owner = &c->e[i].ProviderId;
        if (ctl_chain_contains(&c->e[i], e->dwCatalogEntryId) && !ctl_removal_has(r, owner) &&
            !(going && IsEqualGUID(owner, going)))
            return 0;
    }
    return 1;
}

static int layered_unused(const struct ctl_catalog *c, const WSAPROTOCOL_INFOW *e,
                          const struct ctl_removal *r)
{
    return layered_unused_but(c, e, r, NULL);
}

/* Every entry of the GUID is a broken chain or a layered entry no chain
 * uses but the GUID's own (which go with it): the layout
 * WSCInstallProviderAndChains makes, one GUID for the layered entry and
 * its chains, once the base below them is gone. */
static int guid_all_dead(const struct ctl_catalog *c, const GUID *g, const struct ctl_removal *r)
{
    char why[160];
    for (DWORD i = 0; i < c->n; i++) {
        const WSAPROTOCOL_INFOW *e = &c->e[i];
        if (IsEqualGUID(&e->ProviderId, g) && !ctl_chain_broken(c, e, why, sizeof why) &&
            !layered_unused_but(c, e, r, g))
            return 0;
    }
    return 1;
}

static int named(const struct ctl_options *o, DWORD id)
{
    for (DWORD i = 0; i < o->norphans; i++) {
        if (o->orphan_ids[i] == id)
            return 1;
    }
    return 0;
}

/* Another vendor's entry that is broken or unused: removed when named
 * (and its whole provider is dead), else reported. */
static int other_dead_entry(const struct ctl_catalog *c, const struct ctl_options *o,
                            const char *name, struct ctl_removal *r, const WSAPROTOCOL_INFOW *e,
                            const char *why)
{
    unsigned long id = (unsigned long)e->dwCatalogEntryId;
    if (!named(o, e->dwCatalogEntryId)) {
        ctl_out("%s: entry %lu \"%ls\" is %s; not peerlsp's, left alone (to remove its "
                "provider: peerlsp-ctl repair --orphan %lu)\n",
                name, id, e->szProtocol, why, id);
        return 0;
    }
    if (!guid_all_dead(c, &e->ProviderId, r)) {
        ctl_out("%s: entry %lu \"%ls\" is %s, but its provider also has working entries; "
                "left alone (remove that LSP with its own installer)\n",
                name, id, e->szProtocol, why);
        return 0;
    }
    ctl_out("%s: entry %lu \"%ls\" is %s; removing its provider as asked\n", name, id,
            e->szProtocol, why);
    return ctl_removal_add_guid(r, &e->ProviderId);
}

static int plan_repair(const struct ctl_catalog *c, const struct ctl_options *o,
                       const char *name, struct ctl_removal *r)
{
    int remove_peerlsp = 0, rc;
    const WSAPROTOCOL_INFOW *l = ctl_layered_entry(c, &o->guid);

    for (DWORD i = 0; i < o->norphans; i++) {
        const WSAPROTOCOL_INFOW *e = ctl_catalog_entry(c, o->orphan_ids[i]);
        if (!e || ctl_entry_is_ours(c, e, &o->guid)) {
            ctl_err("%s: --orphan %lu: %s.\n", name, (unsigned long)o->orphan_ids[i],
                    e ? "that is peerlsp's entry; plain 'peerlsp-ctl repair' handles it"
                      : "no such entry (see 'peerlsp-ctl list')");
            return CTL_EXIT_USAGE;
        }
        char why[160];
        if (!ctl_chain_broken(c, e, why, sizeof why) && !layered_unused(c, e, r))
            ctl_out("%s: --orphan %lu: entry \"%ls\" works; repair does not remove working "
                    "entries\n",
                    name, (unsigned long)o->orphan_ids[i], e->szProtocol);
    }
    for (DWORD i = 0; i < c->n; i++) {
        const WSAPROTOCOL_INFOW *e = &c->e[i];
        char why[160], what[200];
        if (!ctl_chain_broken(c, e, why, sizeof why))
            continue;
        if (!ctl_entry_is_ours(c, e, &o->guid)) {
            snprintf(what, sizeof what, "broken (%s)", why);
            if ((rc = other_dead_entry(c, o, name, r, e, what)))
                return rc;
            continue;
        }
        ctl_out("%s: entry %lu \"%ls\" is broken: %s\n", name,
                (unsigned long)e->dwCatalogEntryId, e->szProtocol, why);
        /* A peerlsp chain under its own GUID (another installer's layout)
         * goes alone when that GUID holds nothing that works; anything
         * else broken of peerlsp's takes all of peerlsp. */
        if (!IsEqualGUID(&e->ProviderId, &o->guid) && guid_all_dead(c, &e->ProviderId, r)) {
            if ((rc = ctl_removal_add_guid(r, &e->ProviderId)))
                return rc;
        } else {
            remove_peerlsp = 1;
        }
    }
    /* Other vendors' hidden entries that no chain uses (their chains
     * were removed, by repair or by someone else). */
    for (DWORD i = 0; i < c->n; i++) {
        const WSAPROTOCOL_INFOW *e = &c->e[i];
        if (ctl_entry_is_ours(c, e, &o->guid) || ctl_removal_has(r, &e->ProviderId) ||
            !layered_unused(c, e, r))
            continue;
        if ((rc = other_dead_entry(c, o, name, r, e, "a layered entry no chain uses")))
            return rc;
    }
    /* A chain of peerlsp's that sits behind the very entry it layers
     * over: the trace of a two-step install that was killed before it
     * wrote the order (its chains complete, at the end of the catalog).
     * Nobody else puts peerlsp's own lower entry in front of it. */
    for (DWORD i = 0; l && !remove_peerlsp && i < c->n; i++) {
        const WSAPROTOCOL_INFOW *e = &c->e[i];
        if (e->ProtocolChain.ChainLen <= BASE_PROTOCOL ||
            e->ProtocolChain.ChainLen > MAX_PROTOCOL_CHAIN ||
            e->ProtocolChain.ChainEntries[0] != l->dwCatalogEntryId)
            continue;
        const WSAPROTOCOL_INFOW *sel =
            ctl_catalog_select(c, e->iAddressFamily, e->iSocketType, e->iProtocol);
        if (!sel || sel == e || ctl_chain_through(c, sel, &o->guid))
            continue;
        int same_below = sel->ProtocolChain.ChainLen == BASE_PROTOCOL
                             ? e->ProtocolChain.ChainLen == 2 &&
                                   e->ProtocolChain.ChainEntries[1] == sel->dwCatalogEntryId
                             : sel->ProtocolChain.ChainLen == e->ProtocolChain.ChainLen - 1 &&
                                   !memcmp(sel->ProtocolChain.ChainEntries,
                                           e->ProtocolChain.ChainEntries + 1,
                                           (size_t)sel->ProtocolChain.ChainLen * sizeof(DWORD));
        if (same_below) {
            ctl_out("%s: peerlsp's chain %lu comes after entry %lu, the very entry it layers "
                    "over (an install that did not finish)\n",
                    name, (unsigned long)e->dwCatalogEntryId,
                    (unsigned long)sel->dwCatalogEntryId);
            remove_peerlsp = 1;
        }
    }
    /* peerlsp's layered entry with no chain left. */
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

static int ctl_repair_with(struct ctl_target *targets, int n, const struct ctl_options *o,
                           struct ctl_catalog *planned)
{
    static struct ctl_removal plans[CTL_MAX_TARGETS];
    void *todo[CTL_MAX_TARGETS] = { NULL };
    int pending = 0, rc, peerlsp_removed = 0;

    for (int i = 0; i < n; i++) {
        struct ctl_catalog *const c = &planned[i];
        int err = ctl_catalog_read(targets[i].b, c);
        if (err)
            return ctl_exit_for_error(err, "reading the catalog");
        memset(&plans[i], 0, sizeof plans[i]);
        rc = plan_repair(c, o, targets[i].b->name, &plans[i]);
        if (rc == 0 && (plans[i].nremove || plans[i].nrewrites)) {
            ctl_out("%s: repair will:\n", targets[i].b->name);
            ctl_removal_print(c, &plans[i], targets[i].b->name);
            todo[i] = &plans[i];
            pending++;
            peerlsp_removed |= ctl_removal_has(&plans[i], &o->guid);
        } else if (rc == 0) {
            ctl_out("%s: nothing to repair.\n", targets[i].b->name);
        }
        if (rc)
            return rc;
    }
    if (!pending)
        return CTL_EXIT_OK;
    static const struct ctl_run_ops ops = { ctl_removal_apply, ctl_removal_check };
    rc = ctl_run(targets, n, todo, planned, &ops, o);
    if (rc == CTL_EXIT_OK && !o->dry_run) {
        ctl_out("Repaired.\n");
        if (peerlsp_removed)
            ctl_out("peerlsp was removed; run 'peerlsp-ctl install --dll PATH' to install it "
                    "again.\n");
    }
    return rc;
}

/* The catalogs read for the plan are the ones the transaction checks
 * against (ctl_run): kept until it has run. */
int ctl_repair(struct ctl_target *targets, int n, const struct ctl_options *o)
{
    struct ctl_catalog planned[CTL_MAX_TARGETS];
    memset(planned, 0, sizeof planned);
    int rc = ctl_repair_with(targets, n, o, planned);
    for (int i = 0; i < CTL_MAX_TARGETS; i++)
        ctl_catalog_free(&planned[i]);
    return rc;
}
