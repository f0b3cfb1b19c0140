/*
 * ctl_remove.c - removing providers so that every chain left behind still
 * works. Another LSP layered over peerlsp has chains [other, peerlsp, ...,
 * base]; they are rewritten in place without peerlsp's id (WSCUpdateProvider
 * keeps their ids and positions, so the rewrite can be undone exactly)
 * before anything is removed. The removals come last, peerlsp's own GUID
 * (the layered entry and its chains, one WSCDeinstallProvider) last of all:
 * a removed entry can only come back with a new id.
 */
#include <string.h>
#include <wchar.h>

#include "ctl_remove.h"
#include "ctl_run.h"

int ctl_removal_has(const struct ctl_removal *r, const GUID *guid)
{
    for (DWORD i = 0; i < r->nremove; i++) {
        if (IsEqualGUID(&r->remove[i], guid))
            return 1;
    }
    return 0;
}

int ctl_removal_add_guid(struct ctl_removal *r, const GUID *guid)
{
    if (ctl_removal_has(r, guid))
        return 0;
    if (r->nremove == sizeof r->remove / sizeof r->remove[0]) {
        ctl_err("Too many providers to remove in one go.\n");
        return CTL_EXIT_PROBLEMS;
    }
    r->remove[r->nremove++] = *guid;
    return 0;
}

static void gone(struct ctl_removal *r, DWORD id)
{
    if (r->ngone < sizeof r->gone_ids / sizeof r->gone_ids[0])
        r->gone_ids[r->ngone++] = id;
}

/* Drops "peerlsp over " from a stacked chain's name. */
static void name_without_peerlsp(WCHAR name[WSAPROTOCOL_LEN + 1])
{
    static const WCHAR part[] = L"peerlsp over ";
    WCHAR *at = wcsstr(name, part);
    if (at)
        memmove(at, at + wcslen(part), (wcslen(at + wcslen(part)) + 1) * sizeof(WCHAR));
}

static int is_gone(const struct ctl_removal *r, DWORD id)
{
    for (DWORD k = 0; k < r->ngone; k++) {
        if (r->gone_ids[k] == id)
            return 1;
    }
    return 0;
}

/* Whether a chain names one of the ids that are going. */
static int names_gone(const struct ctl_removal *r, const WSAPROTOCOL_INFOW *e)
{
    for (DWORD k = 0; k < r->ngone; k++) {
        if (ctl_chain_contains(e, r->gone_ids[k]))
            return 1;
    }
    return 0;
}

/* The chain rewritten without every id that is going: [other, peerlsp,
 * base] and instlsp's [other, peerlsp's chain entry, base] both become
 * [other, base]. */
static int add_rewrite(const struct ctl_catalog *c, struct ctl_removal *r,
                       const WSAPROTOCOL_INFOW *e, const char *name)
{
    struct ctl_rewrite *w = NULL;
    for (DWORD i = 0; i < r->nrewrites && !w; i++) {
        if (IsEqualGUID(&r->rewrites[i].guid, &e->ProviderId))
            w = &r->rewrites[i];
    }
    if (!w) {
        const struct ctl_provider *p = ctl_catalog_provider(c, &e->ProviderId);
        if (r->nrewrites == CTL_MAX_REWRITES || !p) {
            ctl_err("%s: too many other LSPs layered over peerlsp.\n", name);
            return CTL_EXIT_PROBLEMS;
        }
        if (!p->has_path) {
            ctl_err("%s: the catalog gives no DLL path for the LSP above peerlsp (entry %lu), "
                    "so its chains cannot be rewritten.\n",
                    name, (unsigned long)e->dwCatalogEntryId);
            return CTL_EXIT_MISSING_FUNCTION;
        }
        w = &r->rewrites[r->nrewrites++];
        memset(w, 0, sizeof *w);
        w->guid = e->ProviderId;
        wcsncpy(w->path, p->path, MAX_PATH - 1);
    }
    if (w->n == CTL_MAX_CHAINS) {
        ctl_err("%s: too many chains to rewrite.\n", name);
        return CTL_EXIT_PROBLEMS;
    }
    WSAPROTOCOL_INFOW *x = &w->entries[w->n++];
    *x = *e;
    int len = 0;
    for (int i = 0; i < e->ProtocolChain.ChainLen; i++) {
        if (!is_gone(r, e->ProtocolChain.ChainEntries[i]))
            x->ProtocolChain.ChainEntries[len++] = e->ProtocolChain.ChainEntries[i];
    }
    for (int i = len; i < MAX_PROTOCOL_CHAIN; i++)
        x->ProtocolChain.ChainEntries[i] = 0;
    x->ProtocolChain.ChainLen = len;
    name_without_peerlsp(x->szProtocol);
    return 0;
}

int ctl_removal_add_peerlsp(const struct ctl_catalog *c, const GUID *guid, const char *name,
                            struct ctl_removal *r)
{
    const WSAPROTOCOL_INFOW *l = ctl_layered_entry(c, guid);
    int rc;
    if (ctl_catalog_provider(c, guid) && (rc = ctl_removal_add_guid(r, guid)))
        return rc;
    if (!l)
        return 0;
    DWORD lid = l->dwCatalogEntryId;
    gone(r, lid);
    /* First every id that goes (peerlsp's GUID, its chains under their
     * own GUIDs), then every other chain that names any of them. */
    for (DWORD i = 0; i < c->n; i++) {
        const WSAPROTOCOL_INFOW *e = &c->e[i];
        if (IsEqualGUID(&e->ProviderId, guid))
            gone(r, e->dwCatalogEntryId);
    }
    for (DWORD i = 0; i < c->n; i++) {
        const WSAPROTOCOL_INFOW *e = &c->e[i];
        if (IsEqualGUID(&e->ProviderId, guid) || e->ProtocolChain.ChainLen <= BASE_PROTOCOL ||
            e->ProtocolChain.ChainLen > MAX_PROTOCOL_CHAIN ||
            e->ProtocolChain.ChainEntries[0] != lid)
            continue;
        /* A chain of peerlsp's under its own GUID: that GUID must hold
         * nothing else, or removing it would take others' entries. */
        for (DWORD j = 0; j < c->n; j++) {
            const WSAPROTOCOL_INFOW *o = &c->e[j];
            if (IsEqualGUID(&o->ProviderId, &e->ProviderId) &&
                !(o->ProtocolChain.ChainLen > BASE_PROTOCOL &&
                  o->ProtocolChain.ChainEntries[0] == lid)) {
                ctl_err("%s: provider of entry %lu holds both peerlsp chains and other "
                        "entries; remove it with its own installer first.\n",
                        name, (unsigned long)e->dwCatalogEntryId);
                return CTL_EXIT_PROBLEMS;
            }
        }
        gone(r, e->dwCatalogEntryId);
        if ((rc = ctl_removal_add_guid(r, &e->ProviderId)))
            return rc;
    }
    for (DWORD i = 0; i < c->n; i++) {
        const WSAPROTOCOL_INFOW *e = &c->e[i];
        if (is_gone(r, e->dwCatalogEntryId) || ctl_removal_has(r, &e->ProviderId) ||
            !names_gone(r, e))
            continue;
        /* What is left must still end in a base entry under a layer:
         * [other, peerlsp] with nothing below is broken already; removing
         * peerlsp cannot make it worse, and repair reports it. */
        int kept = 0;
        for (int k = 0; k < e->ProtocolChain.ChainLen; k++)
            kept += !is_gone(r, e->ProtocolChain.ChainEntries[k]);
        if (kept >= 2 && (rc = add_rewrite(c, r, e, name)))
            return rc;
    }
    /* peerlsp's own GUID goes last. */
    for (DWORD i = 0; i + 1 < r->nremove; i++) {
        if (IsEqualGUID(&r->remove[i], guid)) {
            memmove(&r->remove[i], &r->remove[i + 1], (r->nremove - i - 1) * sizeof(GUID));
            r->remove[r->nremove - 1] = *guid;
            break;
        }
    }
    return 0;
}

void ctl_removal_print(const struct ctl_catalog *c, const struct ctl_removal *r,
                       const char *name)
{
    for (DWORD i = 0; i < r->nrewrites; i++) {
        const struct ctl_rewrite *w = &r->rewrites[i];
        for (DWORD k = 0; k < w->n; k++)
            ctl_out("%s: rewrite entry %lu \"%ls\" without peerlsp (chain of %d)\n", name,
                    (unsigned long)w->entries[k].dwCatalogEntryId, w->entries[k].szProtocol,
                    w->entries[k].ProtocolChain.ChainLen);
    }
    for (DWORD i = 0; i < r->nremove; i++) {
        char g[39];
        DWORD count = 0;
        for (DWORD k = 0; k < c->n; k++)
            count += IsEqualGUID(&c->e[k].ProviderId, &r->remove[i]);
        ctl_guid_format(&r->remove[i], g);
        ctl_out("%s: remove provider %s (%lu entries)\n", name, g, (unsigned long)count);
    }
}

int ctl_removal_apply(struct ctl_txn *t, struct ctl_target *tg, void *plan,
                      const struct ctl_options *o)
{
    struct ctl_removal *r = plan;
    int err;
    (void)tg;
    (void)o;
    for (DWORD i = 0; i < r->nrewrites; i++) {
        struct ctl_rewrite *w = &r->rewrites[i];
        if ((err = ctl_txn_update(t, &w->guid, w->path, w->entries, w->n)))
            return ctl_call_failed(t->b, CTL_OP_UPDATE, err);
    }
    for (DWORD i = 0; i < r->nremove; i++) {
        if ((err = ctl_txn_deinstall(t, &r->remove[i])))
            return ctl_call_failed(t->b, CTL_OP_DEINSTALL, err);
    }
    return CTL_EXIT_OK;
}

int ctl_removal_check(struct ctl_txn *t, struct ctl_target *tg, void *plan,
                      const struct ctl_options *o)
{
    struct ctl_removal *r = plan;
    struct ctl_catalog c;
    int problems = 0;
    (void)o;
    int err = ctl_catalog_read(t->b, &c);
    if (err)
        return ctl_exit_for_error(err, "re-reading the catalog");
    for (DWORD i = 0; i < r->nremove; i++) {
        if (ctl_catalog_provider(&c, &r->remove[i])) {
            char g[39];
            ctl_guid_format(&r->remove[i], g);
            ctl_out("%s: provider %s is still in the catalog\n", tg->b->name, g);
            problems++;
        }
    }
    for (DWORD i = 0; i < c.n; i++) {
        for (DWORD k = 0; k < r->ngone; k++) {
            if (ctl_chain_contains(&c.e[i], r->gone_ids[k])) {
                ctl_out("%s: entry %lu still names removed id %lu\n", tg->b->name,
                        (unsigned long)c.e[i].dwCatalogEntryId, (unsigned long)r->gone_ids[k]);
                problems++;
            }
        }
    }
    for (DWORD i = 0; i < r->nrewrites; i++) {
        for (DWORD k = 0; k < r->rewrites[i].n; k++) {
            const WSAPROTOCOL_INFOW *want = &r->rewrites[i].entries[k];
            const WSAPROTOCOL_INFOW *got = ctl_catalog_entry(&c, want->dwCatalogEntryId);
            if (!got || !ctl_entry_same(got, want)) {
                ctl_out("%s: entry %lu was not rewritten\n", tg->b->name,
                        (unsigned long)want->dwCatalogEntryId);
                problems++;
            }
        }
    }
    ctl_catalog_free(&c);
    if (problems) {
        ctl_err("%s: the catalog did not change as expected; rolling back.\n", tg->b->name);
        return CTL_EXIT_NO_EFFECT;
    }
    return CTL_EXIT_OK;
}
