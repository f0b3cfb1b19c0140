/*
 * test_ctl_dll.c - the DLL checks of peerlsp-ctl (installer/ctl_dll.c):
 * every kind of path install refuses, with its message and
 * CTL_EXIT_BAD_DLL; the x64 and x86 peerlsp.dll accepted (the x86 one's
 * GUID taken from peerlsp.h, as the x64 tool cannot load it); and the
 * catalog checks of ctl_dll_usable_for, which name what is wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <peerlsp/peerlsp.h>

#include "ctl.h"

static char out[4096];

static int check(const WCHAR *path, GUID *guid)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    ctl_out_stream = ctl_err_stream = f;
    int rc = ctl_dll_check(path, guid, 0);
    ctl_out_stream = ctl_err_stream = NULL;
    rewind(f);
    size_t got = fread(out, 1, sizeof out - 1, f);
    out[got] = 0;
    fclose(f);
    return rc;
}

#define REFUSED(path, text)                                                                \
    do {                                                                                   \
        GUID g_;                                                                           \
        int rc_ = check(path, &g_);                                                        \
        if (rc_ != CTL_EXIT_BAD_DLL || !strstr(out, text))                                 \
            fail_msg("line %d: exit %d, expected CTL_EXIT_BAD_DLL with \"%s\":\n%s",      \
                     __LINE__, rc_, text, out);                                            \
    } while (0)

static void temp_text_file(WCHAR path[MAX_PATH])
{
    WCHAR dir[MAX_PATH];
    DWORD n = GetTempPathW(MAX_PATH, dir);
    assert_true(n > 0 && n < MAX_PATH - 40);
    _snwprintf(path, MAX_PATH, L"%lsctl-dll-%lu.dll", dir, GetCurrentProcessId());
    path[MAX_PATH - 1] = 0;
    HANDLE h = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    DWORD put = 0;
    assert_true(WriteFile(h, "not a DLL\n", 10, &put, NULL));
    CloseHandle(h);
}

static void test_refused_paths(void **state)
{
    (void)state;
    WCHAR text_file[MAX_PATH];
    temp_text_file(text_file);
    REFUSED(NULL, "install needs --dll PATH");
    REFUSED(L"", "install needs --dll PATH");
    REFUSED(L"peerlsp.dll", "is not absolute");
    REFUSED(L"%PEERLSP_NO_SUCH_VARIABLE%\\peerlsp.dll", "is not absolute");
    REFUSED(L"Z:\\nonexistent\\peerlsp\\peerlsp.dll", "does not exist");
    REFUSED(L"%SystemRoot%\\system32", "does not exist"); /* a directory */
    REFUSED(text_file, "is not a usable DLL");
    REFUSED(L"%SystemRoot%\\system32\\version.dll", "does not export WSPStartup");
    REFUSED(PEERLSP_TEST_BASE_DLL, "does not export GetLspGuid"); /* tbase */
    DeleteFileW(text_file);
}

static void test_accepted_dlls(void **state)
{
    (void)state;
    static const GUID peerlsp_guid = PEERLSP_GUID_INIT;
    GUID g;
    memset(&g, 0, sizeof g);
    assert_int_equal(check(PEERLSP_TEST_LSP_DLL, &g), 0);
    assert_memory_equal(&g, &peerlsp_guid, sizeof g);
    /* The x86 DLL cannot be loaded by this x64 process: peerlsp.h's GUID. */
    memset(&g, 0, sizeof g);
    assert_int_equal(check(PEERLSP_TEST_LSP_DLL32, &g), 0);
    assert_memory_equal(&g, &peerlsp_guid, sizeof g);
    if (!strstr(out, "built for another architecture"))
        fail_msg("no note about the x86 DLL's GUID:\n%s", out);
}

static void test_usable_for_a_catalog(void **state)
{
    (void)state;
    char why[256];
    WCHAR resolved[MAX_PATH];
    assert_int_equal(ctl_dll_usable_for(PEERLSP_TEST_LSP_DLL, IMAGE_FILE_MACHINE_AMD64, 0,
                                        resolved, why, sizeof why), 0);
    assert_int_equal(ctl_dll_usable_for(PEERLSP_TEST_LSP_DLL, IMAGE_FILE_MACHINE_I386, 0,
                                        resolved, why, sizeof why), 1);
    if (!strstr(why, "is built for x64, but this catalog's programs are x86"))
        fail_msg("why: %s", why);
    assert_int_equal(ctl_dll_usable_for(PEERLSP_TEST_LSP_DLL32, IMAGE_FILE_MACHINE_AMD64, 0,
                                        resolved, why, sizeof why), 1);
    if (!strstr(why, "is built for x86, but this catalog's programs are x64"))
        fail_msg("why: %s", why);
    assert_int_equal(ctl_dll_usable(L"tbase.dll", why, sizeof why), 1);
    assert_string_equal(why, "the path is not absolute");
    assert_int_equal(ctl_dll_usable(L"Z:\\nonexistent\\peerlsp.dll", why, sizeof why), 1);
    assert_string_equal(why, "the file does not exist");
    assert_int_equal(ctl_dll_usable(L"%SystemRoot%\\system32\\version.dll", why, sizeof why), 1);
    assert_string_equal(why, "the DLL does not export WSPStartup");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_paths),
        cmocka_unit_test(test_accepted_dlls),
        cmocka_unit_test(test_usable_for_a_catalog),
    };
    return cmocka_run_group_tests_name("peerlsp-ctl's DLL checks", tests, NULL, NULL);
}
