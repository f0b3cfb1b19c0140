/*
 * ctl_test.h - what the peerlsp-ctl tests share: catalogs built the way
 * Windows lays them out (tbase as the base provider, LSPs over it through
 * the test host's helpers), and running the tool's commands on them.
 */
#ifndef PEERLSP_TESTS_CTL_TEST_H
#define PEERLSP_TESTS_CTL_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ctl.h"
#include "wshost.h"

/* tbase's four base entries (TCP/UDP over IPv4/IPv6). */
struct simcat *ctlt_base_catalog(void);
/* Set: the commands below run on a simcat backend without
 * WSCInstallProviderAndChains (the two-step install of systems that lack
 * it); clear: with it, as on Windows since Vista. */
extern int ctlt_without_and_chains;
/* Runs a command on one simcat (quietly: output goes to a scratch file). */
int ctlt_install(struct simcat *cat, const WCHAR *dll, const struct ctl_options *o);
int ctlt_uninstall(struct simcat *cat, const struct ctl_options *o);
int ctlt_repair(struct simcat *cat, const struct ctl_options *o);
int ctlt_verify(struct simcat *cat, const struct ctl_options *o);
/* exclude/include APP (args optional), the exclusions list (returns the
 * count), status; on one simcat, output captured like the others. */
int ctlt_exclude(struct simcat *cat, const WCHAR *app, const WCHAR *args,
                 const struct ctl_options *o);
int ctlt_include(struct simcat *cat, const WCHAR *app, const WCHAR *args,
                 const struct ctl_options *o);
int ctlt_exclusions(struct simcat *cat, const struct ctl_options *o);
int ctlt_status(struct simcat *cat, const struct ctl_options *o);
/* exclude (include = 0) or include on a backend the caller made. */
int ctlt_run_backend(struct ctl_backend *b, const WCHAR *app, const WCHAR *args,
                     const struct ctl_options *o, int include);
/* The output of the last command. */
const char *ctlt_output(void);
/* The tool's default options (ctl_options_default), as a value. */
struct ctl_options ctlt_opts(void);
/* Fail, with the caller's line and `output`, unless the command `call`
 * exits `want` / unless `output` contains (or lacks) `text`.  Each test
 * file defines expect_rc, expect_out and expect_not_out over the output it
 * captures: ctlt_output(), or a buffer of its own. */
#define CTLT_EXPECT_RC(call, want, output)                                                    \
    do {                                                                                    \
        int rc_ = (call);                                                                   \
        if (rc_ != (want))                                                                  \
            fail_msg("line %d: %s: exit %d, expected %d\n%s", __LINE__, #call, rc_, (want), \
                     (output));                                                             \
    } while (0)
#define CTLT_EXPECT_OUT(text, output)                                                         \
    do {                                                                                    \
        if (!strstr((output), text))                                                        \
            fail_msg("line %d: output lacks \"%s\":\n%s", __LINE__, text, (output));        \
    } while (0)
#define CTLT_EXPECT_NOT_OUT(text, output)                                                     \
    do {                                                                                    \
        if (strstr((output), text))                                                         \
            fail_msg("line %d: output has \"%s\":\n%s", __LINE__, text, (output));          \
    } while (0)
/* Fails (with the caller's line and a listing of both) unless equal. */
#define ctlt_assert_equal(a, b, what) ctlt_assert_equal_(a, b, what, __FILE__, __LINE__)
void ctlt_assert_equal_(struct simcat *a, struct simcat *b, const char *what, const char *file,
                        int line);
/* The ids of peerlsp's chains, in catalog order; returns the count. */
DWORD ctlt_chain_ids(struct simcat *cat, DWORD layered_id, DWORD *ids, DWORD cap);
DWORD ctlt_layered_id(struct simcat *cat, const GUID *guid);
WSAPROTOCOL_INFOW ctlt_entry(struct simcat *cat, DWORD id);

/* Every entry of `cat`, in catalog order (at most cap); returns the count. */
int ctlt_entries(struct simcat *cat, WSAPROTOCOL_INFOW *e, int cap);
/* A copy of `cat` with the same ids, paths and categories, in which edit
 * (optional) may change each entry or drop it (returning 0); then the
 * `nextra` entries `extra` are appended under the path `extra_path`. */
typedef int (*ctlt_edit_fn)(WSAPROTOCOL_INFOW *e, void *ctx);
struct simcat *ctlt_edited(struct simcat *cat, ctlt_edit_fn edit, void *ctx,
                           const WSAPROTOCOL_INFOW *extra, int nextra, const WCHAR *extra_path);
/* Equal up to a renumbering of the ids (what a rollback that had to
 * install a provider again leaves: Windows never reuses an id). */
int ctlt_same_but_ids(struct simcat *a, struct simcat *b);
/* A command on targets the caller made; output captured (ctlt_output). */
int ctlt_run_targets(struct ctl_target *t, int n,
                     int (*fn)(struct ctl_target *, int, const struct ctl_options *),
                     const struct ctl_options *o);

/* What an enumeration of app records reports: how many, the first four
 * kept.  ctlt_rec_collect is its callback (ctx: a zeroed ctlt_rec_list). */
struct ctlt_rec_list {
    int n;
    struct ctl_app_record r[4];
};
void ctlt_rec_collect(void *ctx, const struct ctl_app_record *r);

#endif
