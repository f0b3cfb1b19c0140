/*
 * ctl_status.c - `status`: one screen for a person. Per catalog: installed
 * or not, the DLL the catalog names and its version (its VERSIONINFO), the
 * problems `verify` finds; then the exclusions peerlsp-ctl knows of, and
 * one line per thing to do next. Exit 0 when healthy: installed and
 * consistent in every catalog, or cleanly not installed in every one.
 */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ctl.h"

/* "1.2.3.4" from the file's fixed version info, or a reason. */
static void dll_version(const WCHAR *catalog_path, char *out, size_t cap)
{
    WCHAR path[MAX_PATH];
    DWORD n = ExpandEnvironmentStringsW(catalog_path, path, MAX_PATH);
    if (!n || n > MAX_PATH) {
        snprintf(out, cap, "unknown (the path cannot be expanded)");
        return;
    }
    DWORD handle = 0, size = GetFileVersionInfoSizeW(path, &handle);
    if (!size) {
        DWORD e = GetLastError();
        snprintf(out, cap, "unknown (%s, error %lu)",
                 e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND ? "file missing"
                                                                       : "no version info",
                 (unsigned long)e);
        return;
    }
    void *data = malloc(size);
    VS_FIXEDFILEINFO *fi = NULL;
    UINT len = 0;
    if (!data) {
        snprintf(out, cap, "unknown (out of memory)");
        return;
    }
    if (GetFileVersionInfoW(path, 0, size, data) && VerQueryValueW(data, L"\\", (void **)&fi, &len) &&
        fi && len >= sizeof *fi && fi->dwSignature == 0xFEEF04BD)
        snprintf(out, cap, "%u.%u.%u.%u", (unsigned)HIWORD(fi->dwFileVersionMS),
                 (unsigned)LOWORD(fi->dwFileVersionMS), (unsigned)HIWORD(fi->dwFileVersionLS),
                 (unsigned)LOWORD(fi->dwFileVersionLS));
    else
        snprintf(out, cap, "unknown (no version info)");
    free(data);
}

struct cat_state {
    int installed, leftovers, problems, chains;
};

static void status_catalog(struct ctl_backend *b, const struct ctl_catalog *c,
                           const struct ctl_options *o, struct cat_state *st, WCHAR *dll_seen)
{
    const WSAPROTOCOL_INFOW *l = ctl_layered_entry(c, &o->guid);
    memset(st, 0, sizeof *st);
    if (!l) {
        for (DWORD i = 0; i < c->n; i++)
            st->leftovers += ctl_entry_is_ours(c, &c->e[i], &o->guid);
        if (!st->leftovers) {
            ctl_out("%s: peerlsp is not installed.\n", b->name);
            return;
        }
        ctl_out("%s: peerlsp is NOT installed, but %d of its entries are left over:\n", b->name,
                st->leftovers);
        st->problems = st->leftovers;
        for (DWORD i = 0; i < c->n; i++) {
            if (ctl_entry_is_ours(c, &c->e[i], &o->guid))
                ctl_out("    problem: entry %lu \"%ls\" belongs to peerlsp\n",
                        (unsigned long)c->e[i].dwCatalogEntryId, c->e[i].szProtocol);
        }
        return;
    }
    st->installed = 1;
    for (DWORD i = 0; i < c->n; i++)
        st->chains += c->e[i].ProtocolChain.ChainLen > 1 &&
                      c->e[i].ProtocolChain.ChainEntries[0] == l->dwCatalogEntryId;
    ctl_out("%s: peerlsp is installed (layered entry %lu, %d protocol chain(s)).\n", b->name,
            (unsigned long)l->dwCatalogEntryId, st->chains);
    const struct ctl_provider *p = ctl_catalog_provider(c, &o->guid);
    if (p && p->has_path) {
        char ver[96], why[256];
        WCHAR resolved[MAX_PATH] = L"";
        /* The file this catalog's programs load (SysWOW64's for the
         * 32-bit catalog), whatever is wrong with it (verify says). */
        ctl_dll_usable_for(p->path, c->dll_machine, c->dll_wow64, resolved, why, sizeof why);
        dll_version(resolved[0] ? resolved : p->path, ver, sizeof ver);
        if (resolved[0] && wcsncmp(resolved, p->path, MAX_PATH))
            ctl_out("    DLL: %ls (32-bit programs load %ls), version %s\n", p->path, resolved,
                    ver);
        else
            ctl_out("    DLL: %ls, version %s\n", p->path, ver);
        if (dll_seen && !dll_seen[0])
            wcsncpy(dll_seen, p->path, MAX_PATH - 1);
    } else {
        ctl_out("    DLL: the catalog gives no path\n");
    }
    if (p && p->has_categories)
        ctl_out("    LSP categories: 0x%08lX\n", (unsigned long)p->categories);
    st->problems = ctl_verify_catalog(c, &o->guid, "    problem: ");
    if (!st->problems)
        ctl_out("    verify: no problems\n");
}

int ctl_status(struct ctl_target *targets, int n, const struct ctl_options *o)
{
    int installed = 0, absent = 0, problems = 0, leftovers = 0, unreadable = 0;
    WCHAR dll[MAX_PATH] = L"";
    for (int i = 0; i < n; i++) {
        struct ctl_catalog c;
        int err = ctl_catalog_read(targets[i].b, &c);
        if (err) {
            ctl_out("%s: cannot be read: error %d\n", targets[i].b->name, err);
            unreadable++;
            continue;
        }
        struct cat_state st;
        status_catalog(targets[i].b, &c, o, &st, dll);
        ctl_catalog_free(&c);
        installed += st.installed;
        absent += !st.installed;
        problems += st.problems;
        leftovers += st.leftovers;
    }
    int mixed = installed && absent;

    ctl_out("Exclusions (programs kept out with peerlsp-ctl exclude):\n");
    int nex = n ? ctl_exclusions_print(targets[0].b, o, "    ") : -1;
    if (nex == 0)
        ctl_out("    none\n");

    int healthy = !problems && !unreadable && !mixed;
    ctl_out("Next:\n");
    if (unreadable)
        ctl_out("    - run peerlsp-ctl status again as administrator; a catalog could not be "
                "read\n");
    if (problems && installed) {
        ctl_out("    - run peerlsp-ctl repair (removes the broken entries)\n");
        ctl_out("    - then run peerlsp-ctl install --dll %ls\n",
                dll[0] ? dll : L"C:\\Windows\\System32\\peerlsp.dll");
    } else if (leftovers) {
        ctl_out("    - run peerlsp-ctl repair (removes peerlsp's leftover entries)\n");
    }
    if (mixed && !problems)
        ctl_out("    - install into every catalog: run peerlsp-ctl uninstall, then peerlsp-ctl "
                "install --dll %ls (the x64 tool installs into the 64-bit and 32-bit catalogs "
                "together)\n",
                dll[0] ? dll : L"C:\\Windows\\System32\\peerlsp.dll");
    if (!installed && !problems)
        ctl_out("    - to install: run peerlsp-ctl install --dll "
                "C:\\Windows\\System32\\peerlsp.dll\n");
    if (nex > 0)
        ctl_out("    - run peerlsp-ctl include APP to let peerlsp into an excluded program "
                "again\n");
    if (healthy && installed)
        ctl_out("    - nothing to do. Programs started from now on pick the catalog up; "
                "running programs and services keep what they loaded at start: restart "
                "them (services: restart the service, or reboot)\n");
    if (!healthy)
        ctl_out("    - after a change, restart running programs and services (or reboot): "
                "only processes started afterwards pick it up\n");
    if (ctl_wine_version() && n && !ctl_backend_simcat_of(targets[0].b))
        ctl_out("Note: under Wine %s ws2_32 never loads LSPs and its catalog functions are "
                "stubs.\n",
                ctl_wine_version());
    if (healthy) {
        ctl_out("Status: healthy (%s).\n", installed ? "installed and consistent"
                                                     : "not installed, nothing left over");
        return CTL_EXIT_OK;
    }
    ctl_out("Status: %d problem(s)%s.\n", problems + unreadable + mixed,
            mixed ? " (installed in some catalogs only)" : "");
    return CTL_EXIT_PROBLEMS;
}
