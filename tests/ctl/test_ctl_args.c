/*
 * test_ctl_args.c - peerlsp-ctl's command line in process (ctl_main): every
 * option value it refuses and every option given to a command it does not
 * belong to ends with CTL_EXIT_USAGE and a message naming the mistake,
 * before any catalog is read or changed; the values it accepts reach the
 * command.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ctl.h"

static char out[8192];

/* Runs ctl_main on the NULL-terminated arguments; its output in `out`. */
static int run(const WCHAR *first, ...)
{
    WCHAR *argv[32] = { (WCHAR *)L"peerlsp-ctl" };
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const WCHAR *a = first; a && argc < 31; a = va_arg(ap, const WCHAR *))
        argv[argc++] = (WCHAR *)a;
    va_end(ap);
    FILE *f = tmpfile();
    assert_non_null(f);
    ctl_out_stream = ctl_err_stream = f;
    int rc = ctl_main(argc, argv);
    ctl_out_stream = ctl_err_stream = NULL;
    rewind(f);
    size_t got = fread(out, 1, sizeof out - 1, f);
    out[got] = 0;
    fclose(f);
    return rc;
}

#define EXPECT(rc_want, text, ...)                                                         \
    do {                                                                                   \
        int rc_ = run(__VA_ARGS__, NULL);                                                  \
        if (rc_ != (rc_want) || !strstr(out, text))                                        \
            fail_msg("line %d: exit %d, expected %d with \"%s\"; output:\n%s", __LINE__,   \
                     rc_, (rc_want), text, out);                                           \
    } while (0)

static void test_refused_values(void **state)
{
    (void)state;
    EXPECT(CTL_EXIT_USAGE, "--protocols wants", L"--protocols", L"tcp4,bogus", L"list");
    EXPECT(CTL_EXIT_USAGE, "--protocols wants", L"--protocols", L"", L"list");
    EXPECT(CTL_EXIT_USAGE, "--protocols needs a value", L"list", L"--protocols");
    EXPECT(CTL_EXIT_USAGE, "--over wants", L"--over", L"0", L"list");
    EXPECT(CTL_EXIT_USAGE, "--over wants", L"--over", L"1001;1002", L"list");
    EXPECT(CTL_EXIT_USAGE, "--over wants", L"--over", L"x", L"list");
    EXPECT(CTL_EXIT_USAGE, "--over wants", L"--over",
           L"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,"
           L"31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,"
           L"58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84",
           L"list");
    EXPECT(CTL_EXIT_USAGE, "--orphan wants", L"--orphan", L"abc", L"repair");
    EXPECT(CTL_EXIT_USAGE, "--categories wants", L"--categories", L"zz", L"list");
    EXPECT(CTL_EXIT_USAGE, "--categories wants", L"--categories", L"", L"list");
    EXPECT(CTL_EXIT_USAGE, "--guid wants", L"--guid", L"nope", L"list");
    EXPECT(CTL_EXIT_USAGE, "--catalog needs a value", L"list", L"--catalog");
    EXPECT(CTL_EXIT_USAGE, "--dll needs a value", L"install", L"--dll");
    EXPECT(CTL_EXIT_USAGE, "--args needs a value", L"exclude", L"--args");
}

static void test_misplaced_arguments(void **state)
{
    (void)state;
    EXPECT(CTL_EXIT_USAGE, "unknown option --bogus", L"--bogus", L"list");
    EXPECT(CTL_EXIT_USAGE, "unknown command frobnicate", L"frobnicate");
    EXPECT(CTL_EXIT_USAGE, "unexpected argument extra", L"list", L"extra");
    EXPECT(CTL_EXIT_USAGE, "no command given", L"--dry-run");
    EXPECT(CTL_EXIT_USAGE, "--catalog32 needs --catalog as well", L"--catalog32", L"x.cat",
           L"list");
    EXPECT(CTL_EXIT_USAGE, "--32bit-by-x86-tool is an option of install only",
           L"--32bit-by-x86-tool", L"list");
    EXPECT(CTL_EXIT_USAGE, "--dll is an option of install only", L"--dll", L"x.dll", L"list");
    EXPECT(CTL_EXIT_USAGE, "install takes the GUID from the DLL", L"--guid",
           L"{6a3c9e21-4d7b-4f5e-8c1a-2b9d0e7f3a64}", L"install", L"--dll", L"x.dll");
}

/* Accepted values reach the command: a snapshot that does not exist is
 * reported as such (a usage error too), after the whole line was parsed. */
static void test_accepted_values(void **state)
{
    (void)state;
    EXPECT(CTL_EXIT_USAGE, "Cannot read the catalog snapshot", L"--catalog",
           L"Z:\\nonexistent\\peerlsp-args.cat", L"--protocols", L"tcp4,udp6,all", L"--over",
           L"1001,1002", L"--categories", L"none", L"--orphan", L"1009", L"--verbose",
           L"--json", L"--guid", L"{6a3c9e21-4d7b-4f5e-8c1a-2b9d0e7f3a64}", L"list");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_values),
        cmocka_unit_test(test_misplaced_arguments),
        cmocka_unit_test(test_accepted_values),
    };
    return cmocka_run_group_tests_name("peerlsp-ctl's command line", tests, NULL, NULL);
}
