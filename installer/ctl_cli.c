/*
 * ctl_cli.c - peerlsp-ctl's command line: arguments, the catalogs a command
 * works on, the admin check, help texts. Every message that ends a command
 * says what to do next; the exit codes are in ctl.h and docs/peerlsp-ctl.md.
 */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <peerlsp/peerlsp.h>
#include <peerlsp/version.h>

#include "ctl.h"
#include "ctl_winapi.h"

static const char global_help[] =
    "peerlsp-ctl " PEERLSP_VERSION_STRING " - installs and checks the peerlsp Winsock LSP\n"
    "\n"
    "usage: peerlsp-ctl [global options] COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  install --dll PATH   install peerlsp (the layered entry and one chain per protocol)\n"
    "  uninstall            remove peerlsp; other LSPs keep working\n"
    "  list [--json]        show the catalog; peerlsp's entries '*', broken chains '!'\n"
    "  verify               exit 0 only if peerlsp is installed consistently\n"
    "  repair               remove broken or orphaned peerlsp entries\n"
    "  export FILE          write a snapshot of the catalog to FILE\n"
    "  status               installed or not, DLL version, problems, exclusions, what next\n"
    "  exclude APP          keep peerlsp out of one program (its full path)\n"
    "  include APP          let peerlsp into that program again\n"
    "  help [COMMAND]       this text, or a command's\n"
    "\n"
    "global options:\n"
    "  --catalog FILE       work on a snapshot file instead of the system catalog\n"
    "  --catalog32 FILE     a second snapshot, standing for the 32-bit catalog\n"
    "  --dry-run            print the catalog calls a change would make; change nothing\n"
    "  --guid {GUID}        peerlsp's layered GUID (default: the one peerlsp.dll reports)\n"
    "  --verbose            print every catalog call\n"
    "\n"
    "exit codes: 0 ok, 1 usage, 2 problems found, 3 not administrator, 4 a catalog\n"
    "function is missing, 5 the catalog did not change (rolled back), 6 a catalog call\n"
    "failed (rolled back), 7 the DLL is not usable. See docs/peerlsp-ctl.md.\n";

static const struct {
    const char *name, *help;
} commands[] = {
    { "install",
      "usage: peerlsp-ctl [--catalog FILE] [--dry-run] install --dll PATH [options]\n"
      "\n"
      "Installs peerlsp's hidden layered entry and one protocol chain per protocol, first in\n"
      "catalog order, as one transaction: on any failure the catalog is put back as it was.\n"
      "On 64-bit Windows the x64 tool installs into both catalogs (64-bit and 32-bit) with\n"
      "WSCInstallProvider64_32, fixes each up and checks each; all or nothing.\n"
      "Installing when already installed does nothing.\n"
      "\n"
      "  --dll PATH           absolute path of peerlsp.dll (must exist and export WSPStartup\n"
      "                       and GetLspGuid); stored as %SystemRoot%\\... when under Windows\n"
      "  --dll32 PATH         the DLL path for the 32-bit catalog (or --catalog32); default --dll\n"
      "  --protocols LIST     tcp4,udp4,tcp6,udp6 (default: all four)\n"
      "  --over ID[,ID...]    layer over these catalog entries instead\n"
      "  --over-base          layer over the base providers, not over whatever is on top now\n"
      "  --categories HEX|none  LSP categories (default 0x80000001: LSP_SYSTEM|LSP_INSPECTOR)\n"
      "  --32bit-by-x86-tool  where WSCInstallProvider64_32 is missing, install into the\n"
      "                       64-bit catalog only: the x86 tool installs into the 32-bit one\n"
      "                       next (without this option install refuses there, exit 4)\n" },
    { "uninstall",
      "usage: peerlsp-ctl [--catalog FILE] [--dry-run] uninstall [--purge]\n"
      "\n"
      "Removes peerlsp's chains and layered entry from every catalog. Other LSPs layered over\n"
      "peerlsp are rewritten to skip it. Works when the DLL file is gone.\n"
      "  --purge              then let peerlsp into every program 'exclude' kept it out of,\n"
      "                       and remove HKLM\\SOFTWARE\\peerlsp (the MSI's removal does this)\n" },
    { "list",
      "usage: peerlsp-ctl [--catalog FILE] list [--json]\n"
      "\n"
      "Shows every catalog entry: id, chain, flags, name, DLL path. '*' marks peerlsp's\n"
      "entries, '!' broken chains (with the reason). Exit 2 when a chain is broken.\n" },
    { "verify",
      "usage: peerlsp-ctl [--catalog FILE] verify\n"
      "\n"
      "Exit 0 only if peerlsp is installed consistently in every catalog: layered entry,\n"
      "intact chains first in order, the DLL present with its exports. Otherwise exit 2 and\n"
      "one line per problem.\n" },
    { "repair",
      "usage: peerlsp-ctl [--catalog FILE] [--dry-run] repair [--orphan ID[,ID...]]\n"
      "\n"
      "Shows, then removes, peerlsp's broken or orphaned entries (chains naming ids that no\n"
      "longer exist, a layered entry without chains). If any of peerlsp's entries is broken,\n"
      "all of peerlsp is removed: install it again afterwards. Other vendors' broken or\n"
      "unused entries are only reported, with their ids.\n"
      "  --orphan ID[,ID...]  also remove the providers of these entries of other vendors,\n"
      "                       each only if none of its entries works\n"
      "  --all-orphans        accepted for old scripts; reports only (use --orphan ID)\n" },
    { "export",
      "usage: peerlsp-ctl [--catalog FILE [--catalog32 FILE]] export OUTFILE [OUTFILE32]\n"
      "\n"
      "Writes a snapshot of the catalog (the format --catalog reads) to OUTFILE. With two\n"
      "catalogs (the 64-bit and 32-bit ones of 64-bit Windows, or two snapshots) the second\n"
      "goes to OUTFILE32, by default OUTFILE with -32 before its extension.\n" },
    { "status",
      "usage: peerlsp-ctl [--catalog FILE [--catalog32 FILE]] status\n"
      "\n"
      "One screen: in which catalogs peerlsp is installed, the DLL the catalog names and its\n"
      "version, the problems verify finds, the programs excluded with peerlsp-ctl, and what\n"
      "to do next. Exit 0 when healthy (installed and consistent everywhere, or cleanly not\n"
      "installed), 2 when problems were found.\n" },
    { "exclude",
      "usage: peerlsp-ctl [--catalog FILE] [--dry-run] exclude APP [--args \"ARGS\"]\n"
      "\n"
      "Keeps peerlsp out of one program: takes peerlsp's LSP categories (as installed; default\n"
      "0x80000001) out of the program's permitted categories (WSCSetApplicationCategory), the\n"
      "documented way a program refuses LSPs. APP is the program's full path (%SystemRoot%\n"
      "allowed). The change is read back (WSCGetApplicationCategory) and recorded under\n"
      "HKLM\\SOFTWARE\\peerlsp\\Exclusions so that list and status can show it. Where the\n"
      "read-back function is missing (Wine) nothing is changed (exit 4).\n"
      "  --args \"ARGS\"        the program's command line, for one instance of a shared\n"
      "                       program (svchost.exe -k NAME, rundll32.exe ...)\n" },
    { "include",
      "usage: peerlsp-ctl [--catalog FILE] [--dry-run] include APP [--args \"ARGS\"]\n"
      "\n"
      "Lets peerlsp into a program again: puts peerlsp's categories back into its permitted\n"
      "categories and removes the record. A program that is not excluded is left alone.\n"
      "  --args \"ARGS\"        as given to exclude\n" },
    { "help", "usage: peerlsp-ctl help [COMMAND]\n" },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static int usage_error(const char *fmt, const char *arg)
{
    ctl_err("peerlsp-ctl: ");
    ctl_err(fmt, arg);
    ctl_err("\nRun 'peerlsp-ctl --help' for the commands and options.\n");
    return CTL_EXIT_USAGE;
}

/* ASCII-only view of an argument, for option values that are ASCII. */
static void narrow(const WCHAR *w, char *out, size_t cap)
{
    size_t i = 0;
    for (; w[i] && i + 1 < cap; i++)
        out[i] = w[i] < 0x80 ? (char)w[i] : '?';
    out[i] = 0;
}

static int parse_protocols(const char *s, unsigned *mask)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = { { "tcp4", CTL_PROTO_TCP4 }, { "udp4", CTL_PROTO_UDP4 },
                  { "tcp6", CTL_PROTO_TCP6 }, { "udp6", CTL_PROTO_UDP6 },
                  { "all", CTL_PROTO_DEFAULT } };
    *mask = 0;
    while (*s) {
        size_t len = strcspn(s, ",");
        int ok = 0;
        for (size_t i = 0; i < sizeof names / sizeof names[0] && !ok; i++) {
            if (strlen(names[i].name) == len && !strncmp(s, names[i].name, len)) {
                *mask |= names[i].bit;
                ok = 1;
            }
        }
        if (!ok)
            return 0;
        s += len;
        if (*s == ',')
            s++;
    }
    return *mask != 0;
}

static int parse_ids(const char *s, DWORD ids[CTL_MAX_CHAINS], DWORD *n)
{
    *n = 0;
    while (*s) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (end == s || v == 0 || v > MAXDWORD || *n == CTL_MAX_CHAINS ||
            (*end && *end != ','))
            return 0;
        ids[(*n)++] = (DWORD)v;
        s = *end ? end + 1 : end;
    }
    return *n > 0;
}

void ctl_options_default(struct ctl_options *o)
{
    static const GUID g = PEERLSP_GUID_INIT;
    memset(o, 0, sizeof *o);
    o->guid = g;
    o->protocols = CTL_PROTO_DEFAULT;
    o->categories = CTL_DEFAULT_CATEGORIES;
    o->set_categories = 1;
}

struct args {
    const WCHAR *catalog, *catalog32, *dll, *dll32, *export_file, *export_file32, *app, *app_args;
    const char *command;
    int json, help, guid_given;
    int x86_does_32; /* install --32bit-by-x86-tool */
    int purge;       /* uninstall --purge */
};

static int command_index(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (!strcmp(commands[i].name, name))
            return (int)i;
    }
    return -1;
}

static int parse_args(int argc, WCHAR **argv, struct args *a, struct ctl_options *o)
{
    static char command[32];
    char val[128];
    for (int i = 1; i < argc; i++) {
        const WCHAR *w = argv[i];
        const WCHAR *next = i + 1 < argc ? argv[i + 1] : NULL;
        char arg[64];
        narrow(w, arg, sizeof arg);
#define NEED_VALUE()                                                      \
    do {                                                                  \
        if (!next)                                                        \
            return usage_error("%s needs a value.", arg);                 \
        i++;                                                              \
    } while (0)
        if (!wcscmp(w, L"--help") || !wcscmp(w, L"-h") || !wcscmp(w, L"/?")) {
            a->help = 1;
        } else if (!wcscmp(w, L"--catalog")) {
            NEED_VALUE();
            a->catalog = next;
        } else if (!wcscmp(w, L"--catalog32")) {
            NEED_VALUE();
            a->catalog32 = next;
        } else if (!wcscmp(w, L"--dry-run")) {
            o->dry_run = 1;
        } else if (!wcscmp(w, L"--verbose")) {
            o->verbose = 1;
        } else if (!wcscmp(w, L"--guid")) {
            NEED_VALUE();
            narrow(next, val, sizeof val);
            if (!ctl_guid_parse(val, &o->guid))
                return usage_error("--guid wants {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}, not %s",
                                   val);
            a->guid_given = 1;
        } else if (!wcscmp(w, L"--dll")) {
            NEED_VALUE();
            a->dll = next;
        } else if (!wcscmp(w, L"--dll32")) {
            NEED_VALUE();
            a->dll32 = next;
        } else if (!wcscmp(w, L"--protocols")) {
            NEED_VALUE();
            narrow(next, val, sizeof val);
            if (!parse_protocols(val, &o->protocols))
                return usage_error("--protocols wants a list of tcp4,udp4,tcp6,udp6, not %s",
                                   val);
        } else if (!wcscmp(w, L"--over")) {
            NEED_VALUE();
            narrow(next, val, sizeof val);
            if (!parse_ids(val, o->over_ids, &o->nover))
                return usage_error("--over wants catalog ids like 1001,1002, not %s", val);
        } else if (!wcscmp(w, L"--purge")) {
            a->purge = 1;
        } else if (!wcscmp(w, L"--32bit-by-x86-tool")) {
            a->x86_does_32 = 1;
        } else if (!wcscmp(w, L"--over-base")) {
            o->over_base = 1;
        } else if (!wcscmp(w, L"--categories")) {
            NEED_VALUE();
            narrow(next, val, sizeof val);
            char *end;
            if (!strcmp(val, "none")) {
                o->set_categories = 0;
            } else {
                unsigned long v = strtoul(val, &end, 16);
                if (!*val || *end || v > MAXDWORD)
                    return usage_error("--categories wants a hex number or none, not %s", val);
                o->categories = (DWORD)v;
            }
        } else if (!wcscmp(w, L"--all-orphans")) {
            o->all_orphans = 1;
        } else if (!wcscmp(w, L"--orphan")) {
            NEED_VALUE();
            narrow(next, val, sizeof val);
            if (!parse_ids(val, o->orphan_ids, &o->norphans))
                return usage_error("--orphan wants catalog ids like 1009,1010, not %s", val);
        } else if (!wcscmp(w, L"--args")) {
            NEED_VALUE();
            a->app_args = next;
        } else if (!wcscmp(w, L"--json")) {
            a->json = 1;
        } else if (w[0] == L'-') {
            return usage_error("unknown option %s.", arg);
        } else if (!a->command) {
            narrow(w, command, sizeof command);
            if (command_index(command) < 0)
                return usage_error("unknown command %s.", command);
            a->command = command;
        } else if (!strcmp(a->command, "export") && !a->export_file) {
            a->export_file = w;
        } else if (!strcmp(a->command, "export") && !a->export_file32) {
            a->export_file32 = w;
        } else if ((!strcmp(a->command, "exclude") || !strcmp(a->command, "include")) &&
                   !a->app) {
            a->app = w;
        } else if (!strcmp(a->command, "help") && command_index(arg) >= 0 && !a->help) {
            a->help = 1;
            a->command = commands[command_index(arg)].name;
        } else {
            return usage_error("unexpected argument %s.", arg);
        }
#undef NEED_VALUE
    }
    return 0;
}

static int open_targets(const struct args *a, int mutating, struct ctl_target *t, int *n)
{
    *n = 0;
    if (a->catalog) {
        const WCHAR *files[2] = { a->catalog, a->catalog32 };
        for (int i = 0; i < 2 && files[i]; i++) {
            int err = ctl_backend_file_open(files[i], &t[*n].b);
            if (err) {
                ctl_err("Cannot read the catalog snapshot %ls: error %d%s. Make one with "
                        "'peerlsp-ctl export FILE'.\n",
                        files[i], err, err == ERROR_INVALID_DATA ? " (not a snapshot)" : "");
                return CTL_EXIT_USAGE;
            }
            (*n)++;
        }
        return 0;
    }
    if (a->catalog32)
        return usage_error("--catalog32 needs --catalog as well.%s", "");
    ctl_winapi_init();
    int bits[2] = { 64, 32 }, nb = 2;
#ifndef _WIN64
    bits[0] = 32;
    nb = 1;
#endif
    for (int i = 0; i < nb; i++) {
        struct ctl_backend *b = ctl_backend_live(bits[i]);
        if (!b) {
            if (i == 0) {
                ctl_err("The system catalog cannot be read here: WSCEnumProtocols is "
                        "missing.\n");
                return CTL_EXIT_MISSING_FUNCTION;
            }
            /* No WSCEnumProtocols32: 32-bit Windows, or Wine's 64-bit
             * prefix. Not an error: there is no second catalog. */
            ctl_out("Note: this system has no separate 32-bit Winsock catalog "
                    "(WSCEnumProtocols32 is missing); working on the 64-bit catalog only.\n");
            continue;
        }
        t[(*n)++].b = b;
    }
    if (*n == 2)
        ctl_backend_live_pair(t[0].b, t[1].b);
    if (mutating && ctl_wine_version())
        ctl_out("Note: running under Wine %s: Wine's catalog functions return success and "
                "change nothing, and WSCUpdateProvider is a stub; use --catalog FILE to "
                "work on a snapshot.\n",
                ctl_wine_version());
    return 0;
}

/* FILE.txt -> FILE-32.txt (FILE -> FILE-32): where export writes the
 * second catalog when no second file is given. 0 when it does not fit. */
static int name_32(const WCHAR *file, WCHAR out[MAX_PATH])
{
    size_t len = wcslen(file), dot = len;
    for (size_t i = len; i > 0; i--) {
        WCHAR c = file[i - 1];
        if (c == L'\\' || c == L'/' || c == L':')
            break;
        if (c == L'.') {
            dot = i - 1;
            break;
        }
    }
    if (len + 4 > MAX_PATH)
        return 0;
    memcpy(out, file, dot * sizeof(WCHAR));
    memcpy(out + dot, L"-32", 3 * sizeof(WCHAR));
    memcpy(out + dot + 3, file + dot, (len - dot + 1) * sizeof(WCHAR));
    return 1;
}

static int run_export(struct ctl_backend *b, const WCHAR *file)
{
    struct ctl_catalog c;
    int err = ctl_catalog_read(b, &c);
    if (err)
        return ctl_exit_for_error(err, "reading the catalog");
    struct simcat *cat = ctl_catalog_to_simcat(&c);
    ctl_catalog_free(&c);
    if (!cat)
        return ctl_exit_for_error(ERROR_INVALID_DATA, "copying the catalog");
    err = simcat_save(cat, file);
    simcat_destroy(cat);
    if (err) {
        ctl_err("Cannot write %ls: error %d. Check the directory exists and is writable.\n",
                file, err);
        return CTL_EXIT_CALL_FAILED;
    }
    ctl_out("%s: written to %ls\n", b->name, file);
    return CTL_EXIT_OK;
}

int ctl_main(int argc, WCHAR **argv)
{
    struct args a;
    struct ctl_options o;
    memset(&a, 0, sizeof a);
    ctl_options_default(&o);
    int rc = parse_args(argc, argv, &a, &o);
    if (rc)
        return rc;
    ctl_log_set_command(argc, argv);
    if (!a.command || !strcmp(a.command, "help")) {
        if (!a.command && !a.help && argc > 1)
            return usage_error("no command given.%s", "");
        ctl_out("%s", global_help);
        return a.command || a.help || argc > 1 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
    }
    if (a.help) {
        ctl_out("%s", commands[command_index(a.command)].help);
        return CTL_EXIT_OK;
    }
    int install = !strcmp(a.command, "install");
    int app_cmd = !strcmp(a.command, "exclude") || !strcmp(a.command, "include");
    int mutating = install || app_cmd || !strcmp(a.command, "uninstall") ||
                   !strcmp(a.command, "repair");
    if (app_cmd && !a.app)
        return usage_error("%s needs the program's full path, e.g. C:\\Windows\\System32\\wsl.exe.",
                           a.command);
    if (!app_cmd && a.app_args)
        return usage_error("--args is an option of exclude and include only.%s", "");
    if (install && !a.dll)
        return usage_error("install needs --dll PATH (the absolute path of peerlsp.dll).%s", "");
    if (a.purge && strcmp(a.command, "uninstall"))
        return usage_error("--purge is an option of uninstall only.%s", "");
    if (!install && a.x86_does_32)
        return usage_error("--32bit-by-x86-tool is an option of install only.%s", "");
    if (!install && (a.dll || a.dll32))
        return usage_error("--dll is an option of install only.%s", "");
    if (!strcmp(a.command, "export") && !a.export_file)
        return usage_error("export needs a file name.%s", "");
    if (a.guid_given && install)
        return usage_error("install takes the GUID from the DLL; --guid is for the other "
                           "commands.%s",
                           "");

    struct ctl_target t[CTL_MAX_TARGETS];
    int n = 0;
    memset(t, 0, sizeof t);
    if ((rc = open_targets(&a, mutating, t, &n)))
        return rc;
    if (mutating && !a.catalog && !o.dry_run && !ctl_is_admin()) {
        ctl_err("peerlsp-ctl %s changes the system's Winsock catalog and needs administrator "
                "rights. Run it from an elevated command prompt (Run as administrator).\n",
                a.command);
        rc = CTL_EXIT_NOT_ADMIN;
        goto done;
    }

    if (install) {
        int ntargets = n;
        for (int i = 0; i < n; i++) {
            t[i].dll_path = i == 1 && a.dll32 ? a.dll32 : a.dll;
            /* A second path given for the 32-bit catalog is its own file to
             * check; the same path again serves both (System32/SysWOW64). */
            t[i].check_exports = i == 0 || (a.dll32 && wcscmp(a.dll32, a.dll));
        }
        if (!a.catalog && n == 2 && !t[0].b->twin) {
            /* The live 32-bit catalog has no install of its own, and
             * WSCInstallProvider64_32 is missing: only the x86 tool's
             * plain WSCInstallProvider reaches it, from WOW64. The
             * 64-bit catalog alone would leave every 32-bit program
             * without peerlsp, so that takes the caller's word that the
             * x86 tool runs next (the MSI's next action). */
            if (!a.x86_does_32) {
                ctl_err("%s: WSCInstallProvider64_32 is missing, so this tool cannot install "
                        "into it, and installing into the 64-bit catalog alone would leave "
                        "32-bit programs without peerlsp. Nothing was changed. Install with "
                        "both tools: peerlsp-ctl install --dll PATH --32bit-by-x86-tool, then "
                        "x86\\peerlsp-ctl.exe install --dll PATH (the MSI does both).\n",
                        t[1].b->name);
                rc = CTL_EXIT_MISSING_FUNCTION;
                goto done;
            }
            ntargets = 1;
            ctl_out("%s: WSCInstallProvider64_32 is missing: left to the x86 tool, as asked "
                    "(x86\\peerlsp-ctl.exe install --dll PATH).\n",
                    t[1].b->name);
        }
        rc = ctl_install(t, ntargets, &o);
    } else if (!strcmp(a.command, "uninstall")) {
        rc = ctl_uninstall(t, n, &o);
        if (rc == CTL_EXIT_OK && a.purge)
            rc = ctl_purge(t, n, &o);
    } else if (!strcmp(a.command, "repair")) {
        rc = ctl_repair(t, n, &o);
    } else if (!strcmp(a.command, "verify")) {
        rc = ctl_verify(t, n, &o);
    } else if (!strcmp(a.command, "list")) {
        rc = CTL_EXIT_OK;
        for (int i = 0; i < n; i++) {
            int r = ctl_list(t[i].b, &o, a.json);
            if (r > rc)
                rc = r;
        }
        if (!a.json && n) {
            /* Windows cannot list categorized programs: these are the ones
             * this tool excluded (docs/peerlsp-ctl.md). */
            ctl_out("Exclusions made with peerlsp-ctl exclude:\n");
            if (ctl_exclusions_print(t[0].b, &o, "   ") == 0)
                ctl_out("   none\n");
        }
    } else if (!strcmp(a.command, "status")) {
        rc = ctl_status(t, n, &o);
    } else if (!strcmp(a.command, "exclude")) {
        rc = ctl_exclude(t, n, a.app, a.app_args, &o);
    } else if (!strcmp(a.command, "include")) {
        rc = ctl_include(t, n, a.app, a.app_args, &o);
    } else if (!strcmp(a.command, "export")) {
        rc = run_export(t[0].b, a.export_file);
        if (rc == CTL_EXIT_OK && n == 2) {
            WCHAR second[MAX_PATH];
            if (a.export_file32)
                rc = run_export(t[1].b, a.export_file32);
            else if (!name_32(a.export_file, second))
                rc = usage_error("the file name is too long to derive the 32-bit catalog's; "
                                 "give it as a second file.%s",
                                 "");
            else
                rc = run_export(t[1].b, second);
        }
    }
done:
    for (int i = 0; i < n; i++)
        ctl_backend_destroy(t[i].b);
    return rc;
}
