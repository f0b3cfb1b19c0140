/*
 * ctl_install.c - `install`: peerlsp's hidden layered entry and one
 * protocol chain per chosen protocol, first in catalog order.
 *
 * Layout: the layered entry and all chains are installed under ONE provider
 * GUID (the DLL's, from GetLspGuid). Removal is then a single
 * WSCDeinstallProvider call, so uninstall has exactly one step that cannot
 * be undone with the same ids, and it is its last step. The chains need
 * the layered entry's id, which exists only after the install, so they are
 * installed with a placeholder (0) in ChainEntries[0] and then rewritten in
 * place with WSCUpdateProvider. Until WSCWriteProviderOrder moves them
 * first they sit at the end of the catalog, behind the entries socket()
 * picks, so no program can use them before they are complete.
 *
 * Calls, in order: WSCInstallProvider, WSCUpdateProvider,
 * WSCWriteProviderOrder, WSCSetProviderInfo.
 *
 * Both live catalogs of 64-bit Windows: there is no WSCInstallProvider32.
 * WSCInstallProvider64_32 installs one list into both catalogs, each
 * handing out its own ids, so the install is made once through the 64-bit
 * catalog (its entries: the layered entry modelled on the 64-bit base, the
 * chains naming 64-bit ids), and then each catalog is fixed up on its own:
 * 64-bit: WSCUpdateProvider (chains), WSCWriteProviderOrder,
 * WSCSetProviderInfo; 32-bit: WSCUpdateProvider32 (the layered entry and
 * the chains rewritten from the 32-bit catalog's own plan and ids, and the
 * --dll32 path), WSCWriteProviderOrder32, WSCSetProviderInfo32. Both are
 * re-read and verified; the transaction over each catalog records the
 * GUID as touched by the one call, so a rollback removes it from both.
 * The list must have as many entries for both catalogs (the same
 * protocols); otherwise install refuses before changing anything.
 */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ctl.h"
#include "ctl_run.h"

static const struct {
    unsigned bit;
    int af, type, protocol;
    const char *name;
} protocols[] = {
    { CTL_PROTO_TCP4, AF_INET, SOCK_STREAM, IPPROTO_TCP, "tcp4" },
    { CTL_PROTO_UDP4, AF_INET, SOCK_DGRAM, IPPROTO_UDP, "udp4" },
    { CTL_PROTO_TCP6, AF_INET6, SOCK_STREAM, IPPROTO_TCP, "tcp6" },
    { CTL_PROTO_UDP6, AF_INET6, SOCK_DGRAM, IPPROTO_UDP, "udp6" },
};

struct install_plan {
    GUID guid;
    WCHAR path[MAX_PATH];
    WSAPROTOCOL_INFOW entries[CTL_MAX_CHAINS + 1]; /* [0] layered, then chains */
    DWORD nchains;
    /* Every chain goes over the first base entry of its protocol: what
     * WSCInstallProviderAndChains makes, so it can do it in one call. */
    int over_first_bases;
    WSAPROTOCOL_INFOW bases[CTL_MAX_CHAINS];
    int joint;  /* installed with install_both, reaching the twin too */
    int by_twin; /* the entries came with the twin's install_both: fix up only */
};

/* "peerlsp over <lower>", cut to what szProtocol holds. */
static void chain_name(WCHAR out[WSAPROTOCOL_LEN + 1], const WCHAR *lower)
{
    const WCHAR *parts[2] = { L"peerlsp over ", lower };
    size_t n = 0;
    for (int i = 0; i < 2; i++) {
        for (const WCHAR *c = parts[i]; *c && n < WSAPROTOCOL_LEN; c++)
            out[n++] = *c;
    }
    out[n] = 0;
}

static const WSAPROTOCOL_INFOW *base_of(const struct ctl_catalog *c, const WSAPROTOCOL_INFOW *e)
{
    if (e->ProtocolChain.ChainLen == BASE_PROTOCOL)
        return e;
    return ctl_catalog_entry(c, e->ProtocolChain.ChainEntries[e->ProtocolChain.ChainLen - 1]);
}

static int add_lower(const WSAPROTOCOL_INFOW **lower, DWORD *n, const WSAPROTOCOL_INFOW *e)
{
    for (DWORD i = 0; i < *n; i++) {
        if (lower[i] == e)
            return 1;
    }
    if (*n == CTL_MAX_CHAINS)
        return 0;
    lower[(*n)++] = e;
    return 1;
}

/* The entries to layer over: explicit ids, or per protocol the entry
 * socket() picks today (the top of whatever stack is there, so another LSP
 * keeps working below peerlsp), or with --over-base the first base entry. */
static int choose_lower(const struct ctl_catalog *c, const struct ctl_options *o,
                        const char *name, const WSAPROTOCOL_INFOW **lower, DWORD *n)
{
    *n = 0;
    if (o->nover) {
        for (DWORD i = 0; i < o->nover; i++) {
            const WSAPROTOCOL_INFOW *e = ctl_catalog_entry(c, o->over_ids[i]);
            if (!e || e->ProtocolChain.ChainLen == LAYERED_PROTOCOL) {
                ctl_err("%s: --over %lu is not a base or chain entry; see 'peerlsp-ctl list'.\n",
                        name, (unsigned long)o->over_ids[i]);
                return CTL_EXIT_USAGE;
            }
            add_lower(lower, n, e);
        }
        return 0;
    }
    for (size_t k = 0; k < sizeof protocols / sizeof protocols[0]; k++) {
        if (!(o->protocols & protocols[k].bit))
            continue;
        const WSAPROTOCOL_INFOW *e = NULL;
        if (o->over_base) {
            for (DWORD i = 0; i < c->n && !e; i++) {
                const WSAPROTOCOL_INFOW *x = &c->e[i];
                if (x->ProtocolChain.ChainLen == BASE_PROTOCOL &&
                    x->iAddressFamily == protocols[k].af && x->iSocketType == protocols[k].type &&
                    x->iProtocol == protocols[k].protocol)
                    e = x;
            }
        } else {
            e = ctl_catalog_select(c, protocols[k].af, protocols[k].type, protocols[k].protocol);
        }
        if (!e) {
            ctl_err("%s: no provider for %s; it gets no chain.\n", name, protocols[k].name);
            continue;
        }
        if (!add_lower(lower, n, e)) {
            ctl_err("%s: too many chains.\n", name);
            return CTL_EXIT_USAGE;
        }
    }
    if (!*n) {
        ctl_err("%s: none of the chosen protocols has a provider to layer over; check "
                "--protocols and 'peerlsp-ctl list'.\n",
                name);
        return CTL_EXIT_PROBLEMS;
    }
    return 0;
}

static int build_plan(const struct ctl_catalog *c, struct ctl_target *tg, const GUID *guid,
                      const struct ctl_options *o, struct install_plan *p)
{
    const WSAPROTOCOL_INFOW *lower[CTL_MAX_CHAINS];
    DWORD n;
    int rc = choose_lower(c, o, tg->b->name, lower, &n);
    if (rc)
        return rc;
    memset(p, 0, sizeof *p);
    p->guid = *guid;
    ctl_dll_catalog_path(tg->dll_path, p->path);

    /* The layered entry, modelled on the base provider below the first
     * chain: its flags (XP1_IFS_HANDLES among them when the base has it),
     * hidden, for no particular socket type or protocol. */
    const WSAPROTOCOL_INFOW *model = base_of(c, lower[0]);
    if (!model) {
        ctl_err("%s: entry %lu is a broken chain; see 'peerlsp-ctl repair' (its "
                "vendor's installer, or --orphan ID) first.\n",
                tg->b->name, (unsigned long)lower[0]->dwCatalogEntryId);
        return CTL_EXIT_PROBLEMS;
    }
    WSAPROTOCOL_INFOW *l = &p->entries[0];
    *l = *model;
    l->iSocketType = 0;
    l->iProtocol = 0;
    l->iProtocolMaxOffset = 0;
    l->dwProviderFlags |= PFL_HIDDEN;
    l->dwProviderFlags &= ~(DWORD)(PFL_MATCHES_PROTOCOL_ZERO | PFL_RECOMMENDED_PROTO_ENTRY);
    l->dwProviderReserved = 0;
    memset(&l->ProtocolChain, 0, sizeof l->ProtocolChain);
    l->ProtocolChain.ChainLen = LAYERED_PROTOCOL;
    memset(l->szProtocol, 0, sizeof l->szProtocol);
    wcscpy(l->szProtocol, L"peerlsp");

    for (DWORD i = 0; i < n; i++) {
        const WSAPROTOCOL_INFOW *lo = lower[i];
        int len = lo->ProtocolChain.ChainLen;
        char why[160];
        if (ctl_chain_broken(c, lo, why, sizeof why) || len < BASE_PROTOCOL) {
            ctl_err("%s: cannot layer over entry %lu: %s.\n", tg->b->name,
                    (unsigned long)lo->dwCatalogEntryId, why);
            return CTL_EXIT_PROBLEMS;
        }
        /* peerlsp is an IFS LSP: it hands applications the lower
         * provider's handles. Microsoft allows an IFS LSP only over IFS
         * providers; over one that returns its own non-IFS handles every
         * program using the chain would fail. */
        if (!(lo->dwServiceFlags1 & XP1_IFS_HANDLES)) {
            ctl_err("%s: cannot layer over entry %lu \"%ls\": it does not return IFS handles "
                    "(no XP1_IFS_HANDLES), and peerlsp, an IFS LSP, may only be layered over "
                    "IFS providers. Nothing was changed. Layer over other entries with --over "
                    "ID or --over-base, or remove that LSP first.\n",
                    tg->b->name, (unsigned long)lo->dwCatalogEntryId, lo->szProtocol);
            return CTL_EXIT_PROBLEMS;
        }
        if (len >= MAX_PROTOCOL_CHAIN) {
            ctl_err("%s: entry %lu already has %d layers; a chain holds at most %d.\n",
                    tg->b->name, (unsigned long)lo->dwCatalogEntryId, len, MAX_PROTOCOL_CHAIN);
            return CTL_EXIT_PROBLEMS;
        }
        WSAPROTOCOL_INFOW *e = &p->entries[1 + i];
        *e = *lo;
        e->dwProviderFlags &= ~(DWORD)PFL_HIDDEN;
        e->dwProviderReserved = 0;
        e->ProtocolChain.ChainLen = len + 1;
        e->ProtocolChain.ChainEntries[0] = 0; /* the layered id, once known */
        if (len == BASE_PROTOCOL)
            e->ProtocolChain.ChainEntries[1] = lo->dwCatalogEntryId;
        else
            memcpy(&e->ProtocolChain.ChainEntries[1], lo->ProtocolChain.ChainEntries,
                   (size_t)len * sizeof(DWORD));
        for (int k = len + 1; k < MAX_PROTOCOL_CHAIN; k++)
            e->ProtocolChain.ChainEntries[k] = 0;
        chain_name(e->szProtocol, lo->szProtocol);
    }
    p->nchains = n;
    p->over_first_bases = 1;
    for (DWORD i = 0; i < n; i++) {
        const WSAPROTOCOL_INFOW *lo = lower[i], *first = NULL;
        for (DWORD k = 0; k < c->n && !first; k++) {
            const WSAPROTOCOL_INFOW *x = &c->e[k];
            if (x->ProtocolChain.ChainLen == BASE_PROTOCOL &&
                x->iAddressFamily == lo->iAddressFamily && x->iSocketType == lo->iSocketType &&
                x->iProtocol == lo->iProtocol)
                first = x;
        }
        if (first != lo)
            p->over_first_bases = 0;
        p->bases[i] = *lo;
    }
    return 0;
}

/* The entries of the GUID, in catalog order. */
static DWORD find_ours(const struct ctl_catalog *c, const GUID *guid, WSAPROTOCOL_INFOW *out,
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

static int set_categories(struct ctl_txn *t, struct ctl_target *tg, struct install_plan *p,
                          const struct ctl_options *o)
{
    if (!o->set_categories)
        return CTL_EXIT_OK;
    int err = ctl_txn_set_categories(t, &p->guid, o->categories);
    if (err == CTL_ERR_MISSING)
        ctl_err("%s: %s is not available: LSP categories not set (Windows then keeps "
                "peerlsp out of services and system processes).\n",
                tg->b->name, t->b->op_names[CTL_OP_SET_CATEGORIES]);
    else if (err)
        return ctl_call_failed(t->b, CTL_OP_SET_CATEGORIES, err);
    return CTL_EXIT_OK;
}

static int apply_install(struct ctl_txn *t, struct ctl_target *tg, void *plan_,
                         const struct ctl_options *o)
{
    struct install_plan *p = plan_;
    struct ctl_backend *b = t->b;
    DWORD total = p->nchains + 1;
    int err;

    /* Microsoft's documented way, where the system has it and the layout
     * is the one it makes (each chain over its protocol's first base
     * entry): the layered entry and the chains, already first, in one
     * call, so no half-made chain can exist. Over another LSP's chains,
     * or into two catalogs at once, the steps below. */
    if (!p->joint && !p->by_twin && p->over_first_bases && b->install_and_chains) {
        DWORD layered_id = 0;
        err = ctl_txn_install_and_chains(t, &p->guid, p->path, p->entries[0].szProtocol,
                                         p->entries[0].dwServiceFlags1, p->bases, p->nchains,
                                         &layered_id);
        if (err)
            return ctl_call_failed(b, CTL_OP_INSTALL_AND_CHAINS, err);
        return set_categories(t, tg, p, o);
    }

    enum ctl_op how = p->joint || p->by_twin ? CTL_OP_INSTALL_BOTH : CTL_OP_INSTALL;
    if (p->joint)
        err = ctl_txn_install_both(t, &p->guid, p->path, p->entries, total);
    else if (!p->by_twin)
        err = ctl_txn_install(t, &p->guid, p->path, p->entries, total);
    else
        err = 0; /* the 64-bit catalog's WSCInstallProvider64_32 put them here */
    if (err)
        return ctl_call_failed(b, how, err);

    struct ctl_catalog c;
    if ((err = ctl_catalog_read(b, &c)))
        return ctl_exit_for_error(err, "reading the catalog");
    WSAPROTOCOL_INFOW got[CTL_MAX_CHAINS + 1];
    memset(got, 0, sizeof got);
    DWORD ngot = find_ours(&c, &p->guid, got, CTL_MAX_CHAINS + 1);
    if (ngot != total || got[0].ProtocolChain.ChainLen != LAYERED_PROTOCOL) {
        ctl_err("%s: %s reported success, but the catalog %s.\n", tg->b->name,
                b->op_names[how],
                ngot ? "does not hold the entries it was given" : "did not change");
        ctl_catalog_free(&c);
        return CTL_EXIT_NO_EFFECT;
    }
    DWORD layered_id = got[0].dwCatalogEntryId;
    /* [0]: the layered entry, rewritten only where it came with the
     * twin's install (it was modelled on the other catalog's base). */
    WSAPROTOCOL_INFOW rewrite[CTL_MAX_CHAINS + 1], *chains = rewrite + 1;
    rewrite[0] = p->entries[0];
    rewrite[0].ProviderId = p->guid;
    rewrite[0].dwCatalogEntryId = layered_id;
    for (DWORD i = 0; i < p->nchains; i++) {
        chains[i] = p->entries[1 + i];
        chains[i].ProviderId = p->guid;
        chains[i].dwCatalogEntryId = got[1 + i].dwCatalogEntryId;
        chains[i].ProtocolChain.ChainEntries[0] = layered_id;
    }
    err = p->by_twin ? ctl_txn_update(t, &p->guid, p->path, rewrite, total)
                     : ctl_txn_update(t, &p->guid, p->path, chains, p->nchains);
    if (err) {
        ctl_catalog_free(&c);
        return ctl_call_failed(b, CTL_OP_UPDATE, err);
    }

    /* Chains first, in the order chosen; everything else keeps its order. */
    DWORD *order = malloc(c.n * sizeof *order), k = 0;
    if (!order) {
        ctl_catalog_free(&c);
        return ctl_exit_for_error(ERROR_NOT_ENOUGH_MEMORY, "ordering");
    }
    for (DWORD i = 0; i < p->nchains; i++)
        order[k++] = chains[i].dwCatalogEntryId;
    for (DWORD i = 0; i < c.n; i++) {
        int is_chain = 0;
        for (DWORD j = 0; j < p->nchains && !is_chain; j++)
            is_chain = c.e[i].dwCatalogEntryId == chains[j].dwCatalogEntryId;
        if (!is_chain)
            order[k++] = c.e[i].dwCatalogEntryId;
    }
    err = ctl_txn_write_order(t, order, k);
    free(order);
    ctl_catalog_free(&c);
    if (err)
        return ctl_call_failed(b, CTL_OP_WRITE_ORDER, err);
    return set_categories(t, tg, p, o);
}

static int check_install(struct ctl_txn *t, struct ctl_target *tg, void *plan_,
                         const struct ctl_options *o)
{
    struct install_plan *p = plan_;
    struct ctl_catalog c;
    int err = ctl_catalog_read(t->b, &c);
    if (err)
        return ctl_exit_for_error(err, "re-reading the catalog");
    char prefix[MAX_PATH + 48];
    snprintf(prefix, sizeof prefix, "%s: after install: ", tg->b->name);
    int problems = ctl_verify_catalog(&c, &p->guid, prefix);
    if (!problems && o->set_categories && t->b->set_categories) {
        const struct ctl_provider *pr = ctl_catalog_provider(&c, &p->guid);
        if (!pr || !pr->has_categories || pr->categories != o->categories) {
            ctl_out("%sthe LSP categories were not set\n", prefix);
            problems++;
        }
    }
    ctl_catalog_free(&c);
    if (problems) {
        ctl_err("%s: the catalog is not as the install left it; rolling back.\n", tg->b->name);
        return CTL_EXIT_NO_EFFECT;
    }
    return CTL_EXIT_OK;
}

/* A catalog without an install of its own (the live 32-bit catalog) is
 * installed into by its twin's install_both (WSCInstallProvider64_32),
 * which must then install there too, earlier in the run, with as many
 * entries. Returns 0 or an exit code after saying why. */
static int pair_installs(struct ctl_target *targets, int n, void **todo,
                         struct install_plan *plans)
{
    for (int i = 0; i < n; i++) {
        if (!todo[i] || targets[i].b->install)
            continue;
        int j = -1;
        for (int k = 0; k < i && j < 0; k++) {
            if (targets[k].b->twin == targets[i].b && targets[k].b->install_both)
                j = k;
        }
        if (j < 0) {
            ctl_err("%s: %s is not available on this system; peerlsp-ctl cannot install into "
                    "this catalog here. Nothing was changed.\n",
                    targets[i].b->name, targets[i].b->op_names[CTL_OP_INSTALL]);
            return CTL_EXIT_MISSING_FUNCTION;
        }
        if (!todo[j]) {
            ctl_err("%s: peerlsp is missing here but installed in the %s. This catalog can "
                    "only be installed into together with that one (%s; there is no "
                    "WSCInstallProvider32): run 'peerlsp-ctl uninstall', then install again. "
                    "Nothing was changed.\n",
                    targets[i].b->name, targets[j].b->name,
                    targets[j].b->op_names[CTL_OP_INSTALL_BOTH]);
            return CTL_EXIT_PROBLEMS;
        }
        if (plans[j].nchains != plans[i].nchains) {
            ctl_err("%s: %lu protocol chain(s) here, %lu in the %s: %s installs one list into "
                    "both catalogs, so they must offer the same protocols. Choose them with "
                    "--protocols. Nothing was changed.\n",
                    targets[i].b->name, (unsigned long)plans[i].nchains,
                    (unsigned long)plans[j].nchains, targets[j].b->name,
                    targets[j].b->op_names[CTL_OP_INSTALL_BOTH]);
            return CTL_EXIT_PROBLEMS;
        }
        plans[j].joint = 1;
        plans[i].by_twin = 1;
    }
    return 0;
}

/* The DLL as this catalog's programs will load it: on 64-bit Windows the
 * 32-bit catalog's System32 path is SysWOW64's file for them, and it must
 * be an x86 DLL, whatever the x64 tool sees at the same path. */
static int check_dll_for_catalog(const struct ctl_target *tg)
{
    WCHAR stored[MAX_PATH], resolved[MAX_PATH] = L"";
    char why[512];
    if (!tg->b->dll_machine)
        return 0;
    ctl_dll_catalog_path(tg->dll_path, stored);
    if (!ctl_dll_usable_for(stored, tg->b->dll_machine, tg->b->dll_wow64, resolved, why,
                            sizeof why))
        return 0;
    ctl_err("%s: its programs would load %ls, which is not usable: %s. Nothing was changed. "
            "%s\n",
            tg->b->name, resolved[0] ? resolved : stored, why,
            tg->b->dll_wow64 ? "Put the x86 peerlsp.dll (dist\\x86) in SysWOW64 under the same "
                               "name (the MSI does), or give its path with --dll32."
                             : "Give the right --dll path.");
    return CTL_EXIT_BAD_DLL;
}

static int ctl_install_with(struct ctl_target *targets, int n, const struct ctl_options *o,
                            struct ctl_catalog *planned)
{
    static struct install_plan plans[CTL_MAX_TARGETS];
    void *todo[CTL_MAX_TARGETS] = { NULL };
    GUID guid;
    int rc, pending = 0;

    for (int i = 0; i < n; i++) {
        GUID g = o->guid;
        if (targets[i].check_exports && (rc = ctl_dll_check(targets[i].dll_path, &g, i > 0)))
            return rc;
        if ((rc = check_dll_for_catalog(&targets[i])))
            return rc;
        if (i == 0)
            guid = g;
        else if (!IsEqualGUID(&g, &guid)) {
            ctl_err("The DLLs for the two catalogs report different GUIDs; use the same "
                    "peerlsp version for both.\n");
            return CTL_EXIT_BAD_DLL;
        }
    }
    for (int i = 0; i < n; i++) {
        struct ctl_catalog *const c = &planned[i];
        int err = ctl_catalog_read(targets[i].b, c);
        if (err)
            return ctl_exit_for_error(err, "reading the catalog");
        if (ctl_layered_entry(c, &guid)) {
            char prefix[MAX_PATH + 16];
            snprintf(prefix, sizeof prefix, "%s: ", targets[i].b->name);
            int problems = ctl_verify_catalog(c, &guid, prefix);
            if (problems) {
                ctl_err("%s: peerlsp is installed but not consistently (above). Run "
                        "'peerlsp-ctl repair', then install again.\n",
                        targets[i].b->name);
                return CTL_EXIT_PROBLEMS;
            }
            ctl_out("%s: peerlsp is already installed; nothing to do.\n", targets[i].b->name);
            continue;
        }
        rc = build_plan(c, &targets[i], &guid, o, &plans[i]);
        if (rc)
            return rc;
        todo[i] = &plans[i];
        pending++;
    }
    if (!pending)
        return CTL_EXIT_OK;
    if ((rc = pair_installs(targets, n, todo, plans)))
        return rc;

    static const struct ctl_run_ops ops = { apply_install, check_install };
    rc = ctl_run(targets, n, todo, planned, &ops, o);
    if (rc == CTL_EXIT_OK && !o->dry_run) {
        for (int i = 0; i < n; i++) {
            if (todo[i])
                ctl_out("%s: peerlsp installed: 1 layered entry and %lu chains, first in "
                        "catalog order. Programs started from now on use it.\n",
                        targets[i].b->name, (unsigned long)plans[i].nchains);
        }
    }
    return rc;
}

/* The catalogs read for the plan are the ones the transaction checks
 * against (ctl_run): kept until it has run. */
int ctl_install(struct ctl_target *targets, int n, const struct ctl_options *o)
{
    struct ctl_catalog planned[CTL_MAX_TARGETS];
    memset(planned, 0, sizeof planned);
    int rc = ctl_install_with(targets, n, o, planned);
    for (int i = 0; i < CTL_MAX_TARGETS; i++)
        ctl_catalog_free(&planned[i]);
    return rc;
}
