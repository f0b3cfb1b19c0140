/*
 * ctl_exclude.c - `exclude APP` / `include APP`: keep peerlsp out of one
 * program, or let it in again, the documented way: the program's permitted
 * LSP categories (WSCSetApplicationCategory). Windows loads an LSP into a
 * program only when the program permits the LSP's categories, so exclude
 * takes peerlsp's categories (as installed, default LSP_SYSTEM |
 * LSP_INSPECTOR) out of the program's permitted set and include puts them
 * back.
 *
 * Every change is read back with WSCGetApplicationCategory; where that
 * function is missing (Wine) nothing is changed at all, because a change
 * that cannot be read can neither be confirmed nor undone. What this tool
 * excluded is recorded (ctl_records.c for the live system; a snapshot's
 * own application records), since Windows cannot list categorized
 * programs.
 */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ctl.h"

/* A program is named by its full path; %SystemRoot% and the like are
 * allowed (WSCSetApplicationCategory expands them) but the expanded path
 * must be absolute. */
static int app_path_ok(const WCHAR *app)
{
    WCHAR x[MAX_PATH];
    DWORD n = ExpandEnvironmentStringsW(app, x, MAX_PATH);
    if (!n || n > MAX_PATH || wcslen(app) >= MAX_PATH)
        return 0;
    return (((x[0] >= L'A' && x[0] <= L'Z') || (x[0] >= L'a' && x[0] <= L'z')) && x[1] == L':' &&
            (x[2] == L'\\' || x[2] == L'/')) ||
           (x[0] == L'\\' && x[1] == L'\\');
}

static int check_names(const WCHAR *app, const WCHAR *args, const char *cmd)
{
    if (!app_path_ok(app)) {
        ctl_err("peerlsp-ctl %s: \"%ls\" is not a full path. Give the program's absolute path, "
                "e.g. C:\\Windows\\System32\\wsl.exe: Windows identifies a program by the path "
                "it was started from.\n",
                cmd, app);
        return CTL_EXIT_USAGE;
    }
    if (args && wcslen(args) >= CTL_ARGS_MAX) {
        ctl_err("peerlsp-ctl %s: --args is longer than %d characters.\n", cmd,
                CTL_ARGS_MAX - 1);
        return CTL_EXIT_USAGE;
    }
    return 0;
}

static const WCHAR *or_empty(const WCHAR *s)
{
    return s ? s : L"";
}

/* How a program is named in messages: path, and its command line. */
static void app_label(const WCHAR *app, const WCHAR *args, char *out, size_t cap)
{
    if (args && args[0])
        snprintf(out, cap, "%ls (command line \"%ls\")", app, args);
    else
        snprintf(out, cap, "%ls", app);
}

DWORD ctl_peerlsp_categories(struct ctl_backend *b, const struct ctl_options *o)
{
    struct ctl_catalog c;
    DWORD cats = CTL_DEFAULT_CATEGORIES;
    if (ctl_catalog_read(b, &c))
        return cats;
    const struct ctl_provider *p = ctl_catalog_provider(&c, &o->guid);
    if (p && p->has_categories)
        cats = p->categories;
    ctl_catalog_free(&c);
    return cats;
}

/* ---- the records --------------------------------------------------------- */

struct find_ctx {
    const WCHAR *app, *args;
    struct ctl_app_record *found;
    int hit;
};

static void find_cb(void *ctx, const struct ctl_app_record *r)
{
    struct find_ctx *f = ctx;
    if (!f->hit && !_wcsicmp(r->app, f->app) && !wcscmp(r->args, or_empty(f->args))) {
        *f->found = *r;
        f->hit = 1;
    }
}

static int record_find(struct ctl_backend *b, const WCHAR *app, const WCHAR *args,
                       struct ctl_app_record *out, int *hit)
{
    struct find_ctx f = { app, args, out, 0 };
    *hit = 0;
    if (!b->records_enum)
        return 0;
    int err = b->records_enum(b, find_cb, &f);
    *hit = f.hit;
    return err;
}

struct print_ctx {
    struct ctl_backend *b;
    DWORD cats;
    const char *prefix;
    int count;
};

static void print_cb(void *ctx, const struct ctl_app_record *r)
{
    struct print_ctx *p = ctx;
    char label[MAX_PATH + CTL_ARGS_MAX + 32];
    app_label(r->app, r->args, label, sizeof label);
    if (r->from_catalog) {
        /* A snapshot lists every categorized program; only those that keep
         * peerlsp out are exclusions. */
        if ((r->permitted & p->cats) == p->cats)
            return;
        ctl_out("%s%s: permitted categories 0x%08lX (peerlsp's 0x%08lX not permitted)\n",
                p->prefix, label, (unsigned long)r->permitted, (unsigned long)p->cats);
    } else {
        DWORD now = 0;
        int err = p->b->get_app_category ? p->b->get_app_category(p->b, r->app, r->args, &now)
                                         : CTL_ERR_MISSING;
        if (err == 0)
            ctl_out("%s%s: permitted categories 0x%08lX%s\n", p->prefix, label,
                    (unsigned long)now,
                    (now & p->cats) == p->cats ? " (changed since: peerlsp is permitted again)"
                                               : "");
        else
            ctl_out("%s%s: recorded 0x%08lX (cannot be read back here)\n", p->prefix, label,
                    (unsigned long)r->permitted);
    }
    p->count++;
}

int ctl_exclusions_print(struct ctl_backend *b, const struct ctl_options *o, const char *prefix)
{
    if (!b->records_enum)
        return -1;
    struct print_ctx p = { b, ctl_peerlsp_categories(b, o), prefix, 0 };
    int err = b->records_enum(b, print_cb, &p);
    if (err) {
        ctl_out("%sthe record of exclusions cannot be read: error %d\n", prefix, err);
        return -1;
    }
    return p.count;
}

/* ---- the change ---------------------------------------------------------- */

/* Sets the program's categories and reads them back. On a read-back that
 * differs the old set is put back (an uncategorized program gets every
 * category: Windows has no call that uncategorizes it). */
static int set_and_confirm_(struct ctl_backend *b, const WCHAR *app, const WCHAR *args,
                            DWORD old, DWORD want, const struct ctl_options *o);

/* set_and_confirm_, with an entry in the change log for the system's
 * catalog. */
static int set_and_confirm(struct ctl_backend *b, const WCHAR *app, const WCHAR *args,
                           DWORD old, DWORD want, const struct ctl_options *o)
{
    int rc = set_and_confirm_(b, app, args, old, want, o);
    if (b->system_catalog)
        ctl_log_note(rc, "%s: application %ls%s%ls%s: permitted LSP categories 0x%08lX -> "
                     "0x%08lX",
                     b->name, app, args && args[0] ? " (command line \"" : "",
                     args ? args : L"", args && args[0] ? "\")" : "", (unsigned long)old,
                     (unsigned long)want);
    return rc;
}

static int set_and_confirm_(struct ctl_backend *b, const WCHAR *app, const WCHAR *args,
                            DWORD old, DWORD want, const struct ctl_options *o)
{
    DWORD prev = 0xdeadbeef, got = 0xdeadbeef;
    if (o->verbose)
        ctl_out("  %s: WSCSetApplicationCategory 0x%08lX\n", b->name, (unsigned long)want);
    int err = b->set_app_category(b, app, args, want, &prev);
    if (err) {
        ctl_err("%s: WSCSetApplicationCategory failed with error %d.%s\n", b->name, err,
                err == WSANO_RECOVERY ? " (Administrator rights are needed.)" : "");
        return CTL_EXIT_CALL_FAILED;
    }
    err = b->get_app_category(b, app, args, &got);
    if (err || got != want) {
        if (err)
            ctl_err("%s: WSCSetApplicationCategory reported success, but the catalog did not "
                    "change as expected: WSCGetApplicationCategory failed with error %d.\n",
                    b->name, err);
        else
            ctl_err("%s: WSCSetApplicationCategory reported success, but the catalog did not "
                    "change as expected: it reads 0x%08lX, not 0x%08lX.\n",
                    b->name, (unsigned long)got, (unsigned long)want);
        if (b->set_app_category(b, app, args, old, NULL) == 0)
            ctl_err("The program's categories were set back to 0x%08lX.\n", (unsigned long)old);
        return CTL_EXIT_NO_EFFECT;
    }
    return 0;
}

static int need_functions(struct ctl_backend *b, const char *cmd)
{
    if (!b->set_app_category) {
        ctl_err("%s: WSCSetApplicationCategory is not available on this system; peerlsp-ctl "
                "%s cannot work here.\n",
                b->name, cmd);
        return CTL_EXIT_MISSING_FUNCTION;
    }
    if (!b->get_app_category) {
        ctl_err("%s: WSCGetApplicationCategory is missing on this system, so peerlsp-ctl can "
                "neither read the program's categories nor confirm a change. Nothing was "
                "changed. Use --catalog FILE to plan on a snapshot.\n",
                b->name);
        return CTL_EXIT_MISSING_FUNCTION;
    }
    return 0;
}

static int commit(struct ctl_backend *b)
{
    int err = b->commit ? b->commit(b) : 0;
    if (err) {
        ctl_err("%s: could not be written: error %d.\n", b->name, err);
        return CTL_EXIT_CALL_FAILED;
    }
    return 0;
}

int ctl_exclude(struct ctl_target *targets, int ntargets, const WCHAR *app, const WCHAR *args,
                const struct ctl_options *o)
{
    int rc = check_names(app, args, "exclude");
    if (rc || ntargets < 1)
        return rc ? rc : CTL_EXIT_USAGE;
    struct ctl_backend *b = targets[0].b;
    char label[MAX_PATH + CTL_ARGS_MAX + 32];
    app_label(app, args, label, sizeof label);
    if ((rc = need_functions(b, "exclude")))
        return rc;

    DWORD cats = ctl_peerlsp_categories(b, o);
    if (!cats) {
        ctl_err("peerlsp is installed without LSP categories here, and a program can refuse an "
                "LSP only by its categories. Install peerlsp again with categories (the "
                "default) to exclude programs.\n");
        return CTL_EXIT_PROBLEMS;
    }
    DWORD cur = 0xdeadbeef;
    int categorized = 1, err = b->get_app_category(b, app, args, &cur);
    if (err == WSASERVICE_NOT_FOUND) {
        categorized = 0;
        cur = CTL_ALL_LSP_CATEGORIES;
    } else if (err) {
        ctl_err("%s: WSCGetApplicationCategory failed with error %d.\n", b->name, err);
        return CTL_EXIT_CALL_FAILED;
    }
    if (categorized && (cur & cats) != cats) {
        ctl_out("%s already keeps peerlsp out: its permitted categories 0x%08lX do not include "
                "all of peerlsp's 0x%08lX. Nothing to do.\n",
                label, (unsigned long)cur, (unsigned long)cats);
        return CTL_EXIT_OK;
    }
    DWORD want = cur & ~cats;
    if (o->dry_run) {
        ctl_out("%s: would call WSCSetApplicationCategory for %s: permitted categories "
                "0x%08lX -> 0x%08lX.\nDry run: nothing was changed.\n",
                b->name, label, (unsigned long)cur, (unsigned long)want);
        return CTL_EXIT_OK;
    }
    if ((rc = set_and_confirm(b, app, args, cur, want, o)))
        return rc;
    struct ctl_app_record r;
    memset(&r, 0, sizeof r);
    wcsncpy(r.app, app, MAX_PATH - 1);
    wcsncpy(r.args, or_empty(args), CTL_ARGS_MAX - 1);
    r.removed = cats;
    r.permitted = want;
    err = b->record_put ? b->record_put(b, &r) : 0;
    if (!err && (rc = commit(b)) == 0) {
        ctl_out("peerlsp is now kept out of %s: permitted categories %s0x%08lX -> 0x%08lX "
                "(peerlsp's are 0x%08lX).\nPrograms started from now on do not load peerlsp; "
                "an instance already running keeps it until it restarts. No reboot needed.\n",
                label, categorized ? "" : "(not categorized: all) ", (unsigned long)cur,
                (unsigned long)want, (unsigned long)cats);
        return CTL_EXIT_OK;
    }
    if (err)
        ctl_err("The exclusion could not be recorded: error %d.\n", err);
    if (b->set_app_category(b, app, args, cur, NULL) == 0)
        ctl_err("The program's categories were set back to 0x%08lX.\n", (unsigned long)cur);
    return CTL_EXIT_CALL_FAILED;
}

int ctl_include(struct ctl_target *targets, int ntargets, const WCHAR *app, const WCHAR *args,
                const struct ctl_options *o)
{
    int rc = check_names(app, args, "include");
    if (rc || ntargets < 1)
        return rc ? rc : CTL_EXIT_USAGE;
    struct ctl_backend *b = targets[0].b;
    char label[MAX_PATH + CTL_ARGS_MAX + 32];
    app_label(app, args, label, sizeof label);

    struct ctl_app_record r;
    memset(&r, 0, sizeof r);
    int recorded = 0, err = record_find(b, app, args, &r, &recorded);
    if (err) {
        ctl_err("The record of exclusions cannot be read: error %d.\n", err);
        return CTL_EXIT_CALL_FAILED;
    }
    if (!recorded && !b->get_app_category) {
        ctl_out("%s was not excluded by peerlsp-ctl: nothing to do. (WSCGetApplicationCategory "
                "is missing here, so its categories cannot be checked.)\n",
                label);
        return CTL_EXIT_OK;
    }
    if ((rc = need_functions(b, "include")))
        return rc;
    DWORD cats = ctl_peerlsp_categories(b, o), cur = 0xdeadbeef;
    err = b->get_app_category(b, app, args, &cur);
    if (err && err != WSASERVICE_NOT_FOUND) {
        ctl_err("%s: WSCGetApplicationCategory failed with error %d.\n", b->name, err);
        return CTL_EXIT_CALL_FAILED;
    }
    DWORD removed = recorded && !r.from_catalog ? r.removed : cats;
    if (err == WSASERVICE_NOT_FOUND || ((cur & cats) == cats && (cur & removed) == removed)) {
        if (recorded && !r.from_catalog && !o->dry_run && b->record_del)
            b->record_del(b, app, args); /* stale: someone else let peerlsp in */
        ctl_out("%s is not excluded: it permits peerlsp (%s). Nothing to do.\n", label,
                err == WSASERVICE_NOT_FOUND ? "it is not categorized" : "categories include "
                                                                        "peerlsp's");
        return CTL_EXIT_OK;
    }
    if (!recorded || r.from_catalog)
        ctl_out("Note: %s keeps peerlsp out%s; permitting peerlsp's categories again.\n", label,
                r.from_catalog && recorded ? "" : ", but not through peerlsp-ctl");
    DWORD want = cur | removed | cats;
    if (o->dry_run) {
        ctl_out("%s: would call WSCSetApplicationCategory for %s: permitted categories "
                "0x%08lX -> 0x%08lX.\nDry run: nothing was changed.\n",
                b->name, label, (unsigned long)cur, (unsigned long)want);
        return CTL_EXIT_OK;
    }
    if ((rc = set_and_confirm(b, app, args, cur, want, o)))
        return rc;
    err = recorded && b->record_del ? b->record_del(b, app, args) : 0;
    if (err)
        ctl_err("Note: the record of the exclusion could not be removed: error %d; 'list' may "
                "still show it.\n",
                err);
    if ((rc = commit(b))) {
        b->set_app_category(b, app, args, cur, NULL);
        return rc;
    }
    ctl_out("peerlsp may load into %s again: permitted categories 0x%08lX -> 0x%08lX.\n"
            "Programs started from now on load peerlsp; no reboot needed.\n",
            label, (unsigned long)cur, (unsigned long)want);
    return CTL_EXIT_OK;
}
