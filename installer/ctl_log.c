/*
 * ctl_log.c - the change log: every change peerlsp-ctl makes to a system
 * catalog is appended to %ProgramData%\peerlsp\peerlsp-ctl.log (time,
 * command line, each catalog's entries before and after, the result), so
 * that an administrator can see what happened after an MSI install whose
 * console output is lost. Snapshot files and --dry-run are not logged:
 * they change no system. A log that cannot be written is said on stderr
 * and does not fail the command (the catalog change is already made or
 * rolled back by then).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "ctl.h"

WCHAR ctl_log_file[MAX_PATH];

static WCHAR command_line[2048];

void ctl_log_set_command(int argc, WCHAR **argv)
{
    size_t n = 0;
    command_line[0] = 0;
    for (int i = 0; i < argc && n + 4 < sizeof command_line / sizeof command_line[0]; i++) {
        int quote = wcschr(argv[i], L' ') != NULL;
        int w = swprintf(command_line + n, sizeof command_line / sizeof command_line[0] - n,
                         quote ? L"%ls\"%ls\"" : L"%ls%ls", i ? L" " : L"", argv[i]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

/* %ProgramData%\peerlsp\peerlsp-ctl.log, its directory made; 0 when it
 * cannot be. A test may set ctl_log_file first. */
static int log_path(WCHAR path[MAX_PATH])
{
    if (ctl_log_file[0]) {
        wcscpy(path, ctl_log_file);
        return 1;
    }
    WCHAR dir[MAX_PATH];
    DWORD n = GetEnvironmentVariableW(L"ProgramData", dir, MAX_PATH);
    if (!n || n >= MAX_PATH - 32)
        return 0;
    wcscat(dir, L"\\peerlsp");
    if (!CreateDirectoryW(dir, NULL) && GetLastError() != ERROR_ALREADY_EXISTS)
        return 0;
    swprintf(path, MAX_PATH, L"%ls\\peerlsp-ctl.log", dir);
    return 1;
}

static void write_catalog(FILE *f, const char *name, const char *when,
                          const struct ctl_catalog *c)
{
    fprintf(f, "%s: %s (%lu entries):\n", name, when, (unsigned long)c->n);
    for (DWORD i = 0; i < c->n; i++) {
        const WSAPROTOCOL_INFOW *e = &c->e[i];
        char g[39];
        ctl_guid_format(&e->ProviderId, g);
        fprintf(f, "  %lu len %d [", (unsigned long)e->dwCatalogEntryId,
                e->ProtocolChain.ChainLen);
        for (int k = 0; k < e->ProtocolChain.ChainLen && k < MAX_PROTOCOL_CHAIN; k++)
            fprintf(f, "%s%lu", k ? " " : "", (unsigned long)e->ProtocolChain.ChainEntries[k]);
        const struct ctl_provider *p = ctl_catalog_provider(c, &e->ProviderId);
        fprintf(f, "] %s \"%ls\" %ls\n", g, e->szProtocol,
                p && p->has_path ? p->path : L"(no path)");
    }
}

static FILE *open_entry(void)
{
    WCHAR path[MAX_PATH];
    FILE *f = NULL;
    if (!log_path(path) || !(f = _wfopen(path, L"a"))) {
        ctl_err("peerlsp-ctl: the change log %ls cannot be written.\n",
                ctl_log_file[0] ? ctl_log_file : L"%ProgramData%\\peerlsp\\peerlsp-ctl.log");
        return NULL;
    }
    time_t now = time(NULL);
    struct tm tm;
    char stamp[32] = "?";
    if (gmtime_s(&tm, &now) == 0)
        strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%SZ", &tm);
    fprintf(f, "=== %s pid %lu: %ls\n", stamp, (unsigned long)GetCurrentProcessId(),
            command_line[0] ? command_line : L"(command line not recorded)");
    return f;
}

void ctl_log_note(int rc, const char *fmt, ...)
{
    FILE *f = open_entry();
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fprintf(f, "\nresult: exit %d\n\n", rc);
    fclose(f);
}

void ctl_log_change(struct ctl_backend *const *backends, const struct ctl_catalog *before, int n,
                    int rc)
{
    FILE *f = open_entry();
    if (!f)
        return;
    for (int i = 0; i < n; i++) {
        if (!backends[i])
            continue;
        struct ctl_catalog after;
        write_catalog(f, backends[i]->name, "before", &before[i]);
        if (ctl_catalog_read(backends[i], &after) == 0) {
            write_catalog(f, backends[i]->name, "after", &after);
            ctl_catalog_free(&after);
        } else {
            fprintf(f, "%s: after: cannot be read\n", backends[i]->name);
        }
    }
    fprintf(f, "result: exit %d (%s)\n\n", rc,
            rc == CTL_EXIT_OK ? "changed as planned" : "failed; rolled back as said above");
    fclose(f);
}
