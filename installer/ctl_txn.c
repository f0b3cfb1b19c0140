/*
 * ctl_txn.c - every change to a catalog goes through a transaction.
 *
 * The transaction reads the whole catalog when it begins and records, for
 * each mutating call, which provider GUID it touches and whether it changes
 * the order. Rollback puts exactly those back as they were at the start:
 * touched providers that did not exist are removed, removed ones are
 * installed again, changed ones are updated back in place (keeping their
 * ids), categories are set back, and the order is written back. Providers
 * nobody touched are left alone, so a change another program made
 * meanwhile is not undone.
 *
 * Rollback works from the recorded "before" and the catalog as it is now,
 * not from a log of inverse calls, so it is idempotent: when one of its own
 * calls fails it simply tries again from a fresh read.
 *
 * A provider that has to be installed again gets new catalog ids (Windows
 * never reuses one). Rollback therefore works in two passes: first every
 * touched provider is made present or absent as it was (noting old id ->
 * new id), then every one is rewritten in place as it was with the ids
 * mapped, so chains that named a re-installed entry (its own chains, or
 * another LSP's above it) name its new id and nothing is left broken.
 * This happens when a command removes a provider from one catalog and a
 * later step (in the other catalog) fails.
 *
 * A WSCInstallProvider64_32 (install_both) touches the provider in this
 * transaction and in its twin's, so both catalogs are rolled back.
 */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ctl.h"

#define ROLLBACK_ATTEMPTS 3

int ctl_txn_begin(struct ctl_txn *t, struct ctl_backend *b)
{
    memset(t, 0, sizeof *t);
    t->b = b;
    return ctl_catalog_read(b, &t->before);
}

void ctl_txn_end(struct ctl_txn *t)
{
    ctl_catalog_free(&t->before);
    free(t->written_order);
    t->written_order = NULL;
    t->nwritten = 0;
}

static void touch(struct ctl_txn *t, const GUID *guid)
{
    for (DWORD i = 0; i < t->ntouched; i++) {
        if (IsEqualGUID(&t->touched[i], guid))
            return;
    }
    /* The commands touch a handful of providers; the bound is checked by
     * them before they start (CTL_TXN_MAX_TOUCHED). */
    if (t->ntouched < CTL_TXN_MAX_TOUCHED)
        t->touched[t->ntouched++] = *guid;
}

static void log_call(struct ctl_txn *t, enum ctl_op op, const GUID *guid, const char *what,
                     int err)
{
    char g[39] = "";
    if (guid)
        ctl_guid_format(guid, g);
    if (err == CTL_ERR_MISSING)
        ctl_out("  %s: %s %s %s: not available on this system\n", t->b->name,
                t->b->op_names[op], g, what);
    else if (err)
        ctl_out("  %s: %s %s %s: failed, error %d\n", t->b->name, t->b->op_names[op], g, what,
                err);
    else if (t->verbose)
        ctl_out("  %s: %s %s %s\n", t->b->name, t->b->op_names[op], g, what);
}

int ctl_txn_install(struct ctl_txn *t, const GUID *guid, const WCHAR *path,
                    const WSAPROTOCOL_INFOW *list, DWORD n)
{
    char what[64];
    int err = CTL_ERR_MISSING;
    touch(t, guid);
    if (t->b->install)
        err = t->b->install(t->b, guid, path, list, n);
    snprintf(what, sizeof what, "(%lu entries)", (unsigned long)n);
    log_call(t, CTL_OP_INSTALL, guid, what, err);
    return err;
}

int ctl_txn_install_both(struct ctl_txn *t, const GUID *guid, const WCHAR *path,
                         const WSAPROTOCOL_INFOW *list, DWORD n)
{
    char what[96];
    int err = CTL_ERR_MISSING;
    touch(t, guid);
    if (t->twin)
        touch(t->twin, guid);
    if (t->b->install_both && t->b->twin && t->twin && t->twin->b == t->b->twin)
        err = t->b->install_both(t->b, guid, path, list, n);
    snprintf(what, sizeof what, "(%lu entries, into this catalog and the %s)", (unsigned long)n,
             t->b->twin ? t->b->twin->name : "other one");
    log_call(t, CTL_OP_INSTALL_BOTH, guid, what, err);
    return err;
}

int ctl_txn_install_and_chains(struct ctl_txn *t, const GUID *guid, const WCHAR *path,
                               const WCHAR *name, DWORD flags, const WSAPROTOCOL_INFOW *list,
                               DWORD n, DWORD *layered_id)
{
    char what[80];
    int err = CTL_ERR_MISSING;
    touch(t, guid);
    t->order_changed = 1; /* the chains go first */
    if (t->b->install_and_chains)
        err = t->b->install_and_chains(t->b, guid, path, name, flags, list, n, layered_id);
    struct ctl_catalog now;
    if (!err && !ctl_catalog_read(t->b, &now)) {
        /* The order it wrote, for restore_order. */
        DWORD *copy = malloc((now.n ? now.n : 1) * sizeof *copy);
        for (DWORD i = 0; copy && i < now.n; i++)
            copy[i] = now.e[i].dwCatalogEntryId;
        free(t->written_order);
        t->written_order = copy;
        t->nwritten = copy ? now.n : 0;
        ctl_catalog_free(&now);
    }
    snprintf(what, sizeof what, "(layered entry and %lu chains, first)", (unsigned long)n);
    log_call(t, CTL_OP_INSTALL_AND_CHAINS, guid, what, err);
    return err;
}

int ctl_txn_deinstall(struct ctl_txn *t, const GUID *guid)
{
    int err = CTL_ERR_MISSING;
    touch(t, guid);
    if (t->b->deinstall)
        err = t->b->deinstall(t->b, guid);
    log_call(t, CTL_OP_DEINSTALL, guid, "", err);
    return err;
}

int ctl_txn_update(struct ctl_txn *t, const GUID *guid, const WCHAR *path,
                   const WSAPROTOCOL_INFOW *list, DWORD n)
{
    char what[64];
    int err = CTL_ERR_MISSING;
    touch(t, guid);
    if (t->b->update)
        err = t->b->update(t->b, guid, path, list, n);
    snprintf(what, sizeof what, "(%lu entries rewritten)", (unsigned long)n);
    log_call(t, CTL_OP_UPDATE, guid, what, err);
    return err;
}

int ctl_txn_write_order(struct ctl_txn *t, const DWORD *ids, DWORD n)
{
    char what[64];
    int err = CTL_ERR_MISSING;
    t->order_changed = 1;
    if (t->b->write_order)
        err = t->b->write_order(t->b, ids, n);
    if (!err) {
        /* Remembered so that rollback can tell whether the order is
         * still ours (see restore_order). */
        DWORD *copy = malloc((n ? n : 1) * sizeof *copy);
        free(t->written_order);
        t->written_order = copy;
        t->nwritten = copy ? n : 0;
        if (copy && n)
            memcpy(copy, ids, n * sizeof *copy);
    }
    snprintf(what, sizeof what, "(%lu ids)", (unsigned long)n);
    log_call(t, CTL_OP_WRITE_ORDER, NULL, what, err);
    return err;
}

int ctl_txn_set_categories(struct ctl_txn *t, const GUID *guid, DWORD categories)
{
    char what[64];
    int err = CTL_ERR_MISSING;
    touch(t, guid);
    if (t->b->set_categories)
        err = t->b->set_categories(t->b, guid, categories);
    snprintf(what, sizeof what, "(LSP categories 0x%08lX)", (unsigned long)categories);
    log_call(t, CTL_OP_SET_CATEGORIES, guid, what, err);
    return err;
}

/* ---- rollback --------------------------------------------------------- */

/* The entries of a GUID in catalog order; *n of them (max cap). */
static DWORD entries_of(const struct ctl_catalog *c, const GUID *guid, WSAPROTOCOL_INFOW *out,
                        DWORD cap)
{
    DWORD n = 0;
    for (DWORD i = 0; i < c->n; i++) {
        if (IsEqualGUID(&c->e[i].ProviderId, guid)) {
            if (n < cap)
                out[n] = c->e[i];
            n++;
        }
    }
    return n;
}

static int same_ids(const WSAPROTOCOL_INFOW *a, DWORD na, const WSAPROTOCOL_INFOW *b, DWORD nb)
{
    if (na != nb)
        return 0;
    for (DWORD i = 0; i < na; i++) {
        int found = 0;
        for (DWORD j = 0; j < nb && !found; j++)
            found = a[i].dwCatalogEntryId == b[j].dwCatalogEntryId;
        if (!found)
            return 0;
    }
    return 1;
}

static int entries_differ(const WSAPROTOCOL_INFOW *a, const WSAPROTOCOL_INFOW *b, DWORD n)
{
    for (DWORD i = 0; i < n; i++) {
        const WSAPROTOCOL_INFOW *match = NULL;
        for (DWORD j = 0; j < n && !match; j++) {
            if (b[j].dwCatalogEntryId == a[i].dwCatalogEntryId)
                match = &b[j];
        }
        if (!match || !ctl_entry_same(&a[i], match))
            return 1;
    }
    return 0;
}

/* Old id -> new id for providers installed again during rollback. */
struct id_map {
    DWORD from[256], to[256];
    DWORD n;
};

static DWORD map_id(const struct id_map *m, DWORD id)
{
    for (DWORD i = 0; i < m->n; i++) {
        if (m->from[i] == id)
            return m->to[i];
    }
    return id;
}

#define MAX_PROVIDER_ENTRIES 64

/* Pass 1: makes one provider present or absent as it was; a provider that
 * has to come back is installed again and its new ids go into the map.
 * Returns the number of calls that failed. */
static int restore_presence(struct ctl_txn *t, const struct ctl_catalog *now, const GUID *guid,
                            struct id_map *map, int *reinstalled)
{
    static WSAPROTOCOL_INFOW was[MAX_PROVIDER_ENTRIES], is[MAX_PROVIDER_ENTRIES];
    DWORD nwas = entries_of(&t->before, guid, was, MAX_PROVIDER_ENTRIES);
    DWORD nis = entries_of(now, guid, is, MAX_PROVIDER_ENTRIES);
    const struct ctl_provider *pwas = ctl_catalog_provider(&t->before, guid);
    struct ctl_backend *b = t->b;

    if (nwas > MAX_PROVIDER_ENTRIES || nis > MAX_PROVIDER_ENTRIES)
        return 1;
    if (!nwas)
        return nis && (!b->deinstall || b->deinstall(b, guid)) ? 1 : 0;
    if (nis && !same_ids(was, nwas, is, nis)) {
        /* Removed and installed again inside the transaction: the ids
         * differ, so go back through removal. */
        if (!b->deinstall || b->deinstall(b, guid))
            return 1;
        nis = 0;
    }
    if (nis)
        return 0;
    /* Chains are installed as they were and fixed in pass 2, once every
     * new id is known (ws2_32 does not check chain elements on install). */
    const WCHAR *path = pwas && pwas->has_path ? pwas->path : L"";
    if (!b->install || b->install(b, guid, path, was, nwas))
        return 1;
    *reinstalled = 1;
    /* New ids: install appends in list order. */
    struct ctl_catalog after;
    if (ctl_catalog_read(b, &after))
        return 1;
    DWORD k = 0;
    for (DWORD i = 0; i < after.n && k < nwas; i++) {
        if (IsEqualGUID(&after.e[i].ProviderId, guid) && map->n < 256) {
            map->from[map->n] = was[k++].dwCatalogEntryId;
            map->to[map->n++] = after.e[i].dwCatalogEntryId;
        }
    }
    ctl_catalog_free(&after);
    return 0;
}

/* Pass 2: rewrites one provider's entries, path and categories as they
 * were, in today's ids. Returns the number of calls that failed. */
static int restore_contents(struct ctl_txn *t, const struct ctl_catalog *now, const GUID *guid,
                            const struct id_map *map)
{
    static WSAPROTOCOL_INFOW want[MAX_PROVIDER_ENTRIES], is[MAX_PROVIDER_ENTRIES];
    DWORD nwant = entries_of(&t->before, guid, want, MAX_PROVIDER_ENTRIES);
    DWORD nis = entries_of(now, guid, is, MAX_PROVIDER_ENTRIES);
    const struct ctl_provider *pwas = ctl_catalog_provider(&t->before, guid);
    const struct ctl_provider *pis = ctl_catalog_provider(now, guid);
    struct ctl_backend *b = t->b;
    int failed = 0;

    if (!nwant)
        return 0; /* absent, as pass 1 made it */
    if (nwant > MAX_PROVIDER_ENTRIES || nis > MAX_PROVIDER_ENTRIES)
        return 1;
    for (DWORD i = 0; i < nwant; i++) {
        WSAPROTOCOL_INFOW *e = &want[i];
        e->dwCatalogEntryId = map_id(map, e->dwCatalogEntryId);
        int len = e->ProtocolChain.ChainLen;
        for (int k = 0; k < len && k < MAX_PROTOCOL_CHAIN; k++)
            e->ProtocolChain.ChainEntries[k] = map_id(map, e->ProtocolChain.ChainEntries[k]);
    }
    if (!same_ids(want, nwant, is, nis))
        return 1; /* pass 1 did not bring it back */
    const WCHAR *path = pwas && pwas->has_path ? pwas->path : L"";
    if (entries_differ(want, is, nwant) ||
        (pwas && pis && wcsncmp(pwas->path, pis->path, MAX_PATH))) {
        if (!b->update || b->update(b, guid, path, want, nwant))
            failed++;
    }
    if (pwas && pwas->has_categories && (!pis || pis->categories != pwas->categories) &&
        (pis || pwas->categories)) {
        if (!b->set_categories || b->set_categories(b, guid, pwas->categories))
            failed++;
    }
    return failed;
}

/* Whether the entries of `now` that are also in the order this
 * transaction wrote still stand in that order: if not, another installer
 * has reordered the catalog since, and its order is not ours to undo. */
static int order_still_ours(const struct ctl_txn *t, const struct ctl_catalog *now)
{
    DWORD next = 0;
    for (DWORD i = 0; i < now->n; i++) {
        DWORD id = now->e[i].dwCatalogEntryId, at = next;
        while (at < t->nwritten && t->written_order[at] != id)
            at++;
        if (at < t->nwritten) {
            next = at + 1;
            continue;
        }
        /* Not found after the previous one: earlier (reordered) or not
         * written by us at all (new since: ignored). */
        for (DWORD k = 0; k < next; k++) {
            if (t->written_order[k] == id)
                return 0;
        }
    }
    return 1;
}

/* The order as it was, in today's ids, with entries that are new since
 * (nobody's business of ours) kept after them in their current order. */
static int restore_order(struct ctl_txn *t, const struct id_map *map)
{
    struct ctl_catalog now;
    if (ctl_catalog_read(t->b, &now))
        return 1;
    if (t->written_order && !order_still_ours(t, &now)) {
        ctl_err("  %s: the catalog order was changed by another program after peerlsp-ctl "
                "wrote it; that order is left as it is.\n",
                t->b->name);
        ctl_catalog_free(&now);
        return 0;
    }
    DWORD *order = malloc((now.n ? now.n : 1) * sizeof *order), k = 0;
    int failed = 0;
    if (!order) {
        ctl_catalog_free(&now);
        return 1;
    }
    for (DWORD i = 0; i < t->before.n; i++) {
        DWORD id = map_id(map, t->before.e[i].dwCatalogEntryId);
        if (ctl_catalog_entry(&now, id))
            order[k++] = id;
    }
    for (DWORD i = 0; i < now.n; i++) {
        int listed = 0;
        for (DWORD j = 0; j < k && !listed; j++)
            listed = order[j] == now.e[i].dwCatalogEntryId;
        if (!listed)
            order[k++] = now.e[i].dwCatalogEntryId;
    }
    int differs = 0;
    for (DWORD i = 0; i < now.n && !differs; i++)
        differs = order[i] != now.e[i].dwCatalogEntryId;
    if (differs && (!t->b->write_order || t->b->write_order(t->b, order, k)))
        failed = 1;
    free(order);
    ctl_catalog_free(&now);
    return failed;
}

/* Providers nobody touched whose chains name an entry that came back
 * with a new id (another LSP layered over a re-installed one, however it
 * names it) are rewritten as well, or they would point at nothing. */
static void touch_chains_naming(struct ctl_txn *t, const struct id_map *map)
{
    struct ctl_catalog now;
    if (!map->n || ctl_catalog_read(t->b, &now))
        return;
    for (DWORD i = 0; i < now.n; i++) {
        for (DWORD k = 0; k < map->n; k++) {
            if (ctl_chain_contains(&now.e[i], map->from[k]) &&
                ctl_catalog_provider(&t->before, &now.e[i].ProviderId))
                touch(t, &now.e[i].ProviderId);
        }
    }
    ctl_catalog_free(&now);
}

/* The old id of an entry that came back with a new one. */
static DWORD unmap_id(const struct id_map *m, DWORD id)
{
    for (DWORD i = 0; i < m->n; i++) {
        if (m->to[i] == id)
            return m->from[i];
    }
    return id;
}

/* Whether an entry is this transaction's business: its provider was
 * touched, or its chain names an entry of a touched provider (as it was,
 * or with the id it came back with). A broken entry of someone else's,
 * made meanwhile, is not ours to answer for. */
static int concerns_us(const struct ctl_txn *t, const struct id_map *map,
                       const WSAPROTOCOL_INFOW *e)
{
    for (DWORD k = 0; k < t->ntouched; k++) {
        if (IsEqualGUID(&e->ProviderId, &t->touched[k]))
            return 1;
    }
    for (DWORD i = 0; i < t->before.n; i++) {
        const WSAPROTOCOL_INFOW *b = &t->before.e[i];
        for (DWORD k = 0; k < t->ntouched; k++) {
            if (IsEqualGUID(&b->ProviderId, &t->touched[k]) &&
                (ctl_chain_contains(e, b->dwCatalogEntryId) ||
                 ctl_chain_contains(e, map_id(map, b->dwCatalogEntryId))))
                return 1;
        }
    }
    return 0;
}

/* The rollback is only claimed when the re-read catalog shows it: every
 * touched provider has as many entries as before, and no chain of ours
 * (concerns_us) is broken that was not broken before. Returns 0 when so. */
static int confirm_restored(struct ctl_txn *t, const struct id_map *map)
{
    struct ctl_catalog now;
    char why[160];
    int wrong = 0;
    if (ctl_catalog_read(t->b, &now))
        return 1;
    for (DWORD i = 0; i < t->ntouched; i++) {
        WSAPROTOCOL_INFOW scratch;
        if (entries_of(&now, &t->touched[i], &scratch, 0) !=
            entries_of(&t->before, &t->touched[i], &scratch, 0))
            wrong++;
    }
    for (DWORD i = 0; i < now.n; i++) {
        if (!ctl_chain_broken(&now, &now.e[i], why, sizeof why) ||
            !concerns_us(t, map, &now.e[i]))
            continue;
        const WSAPROTOCOL_INFOW *was =
            ctl_catalog_entry(&t->before, unmap_id(map, now.e[i].dwCatalogEntryId));
        if (!was || !ctl_chain_broken(&t->before, was, why, sizeof why)) {
            ctl_err("  %s: after the rollback entry %lu \"%ls\" is broken: %s\n", t->b->name,
                    (unsigned long)now.e[i].dwCatalogEntryId, now.e[i].szProtocol, why);
            wrong++;
        }
    }
    ctl_catalog_free(&now);
    return wrong;
}

int ctl_txn_rollback(struct ctl_txn *t)
{
    for (int attempt = 0; attempt < ROLLBACK_ATTEMPTS; attempt++) {
        struct ctl_catalog now;
        if (ctl_catalog_read(t->b, &now))
            continue;
        struct id_map map = { .n = 0 };
        int failed = 0, reinstalled = 0;
        for (DWORD i = 0; i < t->ntouched; i++)
            failed += restore_presence(t, &now, &t->touched[i], &map, &reinstalled);
        ctl_catalog_free(&now);
        if (failed)
            continue;
        touch_chains_naming(t, &map);
        if (ctl_catalog_read(t->b, &now))
            continue;
        for (DWORD i = 0; i < t->ntouched; i++)
            failed += restore_contents(t, &now, &t->touched[i], &map);
        ctl_catalog_free(&now);
        if (t->order_changed || reinstalled)
            failed += restore_order(t, &map);
        if (!failed && !confirm_restored(t, &map)) {
            if (map.n)
                ctl_err("  %s: rolled back; %lu entries came back with new catalog ids "
                        "(Windows never reuses an id)\n",
                        t->b->name, (unsigned long)map.n);
            return 0;
        }
    }
    ctl_err("  %s: ROLLBACK INCOMPLETE. Run 'peerlsp-ctl verify' and 'peerlsp-ctl repair'; "
            "as a last resort 'netsh winsock reset' (it removes every LSP).\n",
            t->b->name);
    return CTL_EXIT_CALL_FAILED;
}
