/*
 * ctl_verify.c - `verify`: is peerlsp installed consistently? One line per
 * problem; exit 0 only when every catalog it should be in is right.
 */
#include <string.h>
#include <wchar.h>

#include "ctl.h"

static const char *type_name(int type)
{
    return type == SOCK_STREAM ? "stream" : type == SOCK_DGRAM ? "datagram" : "other";
}

int ctl_verify_catalog(const struct ctl_catalog *c, const GUID *guid, const char *prefix)
{
    int problems = 0;
    const WSAPROTOCOL_INFOW *l = ctl_layered_entry(c, guid);
    char why[192];

    if (!l) {
        ctl_out("%speerlsp is not installed (no layered entry with its GUID)\n", prefix);
        problems++;
        /* Chains left without their layered entry are still worth naming. */
        for (DWORD i = 0; i < c->n; i++) {
            if (ctl_entry_is_ours(c, &c->e[i], guid) &&
                ctl_chain_broken(c, &c->e[i], why, sizeof why)) {
                ctl_out("%sentry %lu \"%ls\": %s\n", prefix,
                        (unsigned long)c->e[i].dwCatalogEntryId, c->e[i].szProtocol, why);
                problems++;
            }
        }
        return problems;
    }
    DWORD lid = l->dwCatalogEntryId, chains = 0;
    if (!(l->dwProviderFlags & PFL_HIDDEN)) {
        ctl_out("%slayered entry %lu is not hidden (PFL_HIDDEN)\n", prefix, (unsigned long)lid);
        problems++;
    }
    for (DWORD i = 0; i < c->n; i++) {
        const WSAPROTOCOL_INFOW *e = &c->e[i];
        int ours_guid = IsEqualGUID(&e->ProviderId, guid);
        if (ours_guid && e->ProtocolChain.ChainLen == LAYERED_PROTOCOL && e != l) {
            ctl_out("%ssecond layered entry %lu with peerlsp's GUID\n", prefix,
                    (unsigned long)e->dwCatalogEntryId);
            problems++;
            continue;
        }
        if (ours_guid && e->ProtocolChain.ChainLen == BASE_PROTOCOL) {
            ctl_out("%sentry %lu \"%ls\" has peerlsp's GUID but ChainLen 1: it is not a chain\n",
                    prefix, (unsigned long)e->dwCatalogEntryId, e->szProtocol);
            problems++;
            continue;
        }
        int through = ctl_chain_through(c, e, guid);
        int broken = ctl_chain_broken(c, e, why, sizeof why);
        if ((through || ours_guid) && broken) {
            ctl_out("%sentry %lu \"%ls\": %s\n", prefix, (unsigned long)e->dwCatalogEntryId,
                    e->szProtocol, why);
            problems++;
            continue;
        }
        if (e->ProtocolChain.ChainLen <= BASE_PROTOCOL || e->ProtocolChain.ChainEntries[0] != lid)
            continue;
        chains++;
        /* socket() takes the first matching entry: it must lead through
         * peerlsp (its layered entry, or one of its chains as another
         * LSP above it may name it), or programs bypass it. */
        const WSAPROTOCOL_INFOW *sel =
            ctl_catalog_select(c, e->iAddressFamily, e->iSocketType, e->iProtocol);
        if (sel && !ctl_chain_through(c, sel, guid)) {
            ctl_out("%sentry %lu \"%ls\" comes before peerlsp's chain %lu for af %d %s protocol "
                    "%d: programs bypass peerlsp\n",
                    prefix, (unsigned long)sel->dwCatalogEntryId, sel->szProtocol,
                    (unsigned long)e->dwCatalogEntryId, e->iAddressFamily,
                    type_name(e->iSocketType), e->iProtocol);
            problems++;
        }
        if (!ours_guid) {
            const struct ctl_provider *p = ctl_catalog_provider(c, &e->ProviderId);
            if (p && p->has_path &&
                ctl_dll_usable_for(p->path, c->dll_machine, c->dll_wow64, NULL, why,
                                   sizeof why)) {
                ctl_out("%sentry %lu: DLL %ls: %s\n", prefix, (unsigned long)e->dwCatalogEntryId,
                        p->path, why);
                problems++;
            }
        }
    }
    if (!chains) {
        ctl_out("%sthe layered entry %lu has no protocol chains\n", prefix, (unsigned long)lid);
        problems++;
    }
    const struct ctl_provider *p = ctl_catalog_provider(c, guid);
    WCHAR resolved[MAX_PATH] = L"";
    if (!p || !p->has_path) {
        ctl_out("%sthe catalog gives no DLL path for peerlsp\n", prefix);
        problems++;
    } else if (ctl_dll_usable_for(p->path, c->dll_machine, c->dll_wow64, resolved, why,
                                  sizeof why)) {
        if (c->dll_wow64 && wcsncmp(resolved, p->path, MAX_PATH))
            ctl_out("%sDLL %ls (for 32-bit programs: %ls): %s\n", prefix, p->path, resolved,
                    why);
        else
            ctl_out("%sDLL %ls: %s\n", prefix, p->path, why);
        problems++;
    }
    return problems;
}

int ctl_verify(struct ctl_target *targets, int n, const struct ctl_options *o)
{
    int total = 0;
    for (int i = 0; i < n; i++) {
        struct ctl_catalog c;
        int err = ctl_catalog_read(targets[i].b, &c);
        if (err)
            return ctl_exit_for_error(err, "reading the catalog");
        char prefix[MAX_PATH + 48];
        snprintf(prefix, sizeof prefix, "%s: ", targets[i].b->name);
        int problems = ctl_verify_catalog(&c, &o->guid, prefix);
        ctl_catalog_free(&c);
        if (!problems)
            ctl_out("%s: OK: peerlsp is installed consistently.\n", targets[i].b->name);
        total += problems;
    }
    if (total) {
        ctl_err("%d problem(s). 'peerlsp-ctl repair' removes broken entries; then "
                "'peerlsp-ctl install --dll PATH'.\n",
                total);
        return CTL_EXIT_PROBLEMS;
    }
    return CTL_EXIT_OK;
}
