/*
 * test_ctl_dll.c - the DLL checks of peerlsp-ctl (installer/ctl_dll.c):
 * every kind of path install refuses, with its message and
 * CTL_EXIT_BAD_DLL; the x64 and x86 peerlsp.dll accepted (the x86 one's
 * GUID taken from peerlsp.h, as the x64 tool cannot load it); and the
 * catalog checks of ctl_dll_usable_for, which name what is wrong; the PE
 * reader (ctl_pe.c) on damaged copies of peerlsp.dll, each with the reason
 * it gives; files that cannot be opened or are too large; and DLLs that
 * pass the file checks but cannot be loaded or give no GUID (fake_lsp.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
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

/* ---- the PE reader on damaged files ------------------------------------- */

static BYTE *image;
static DWORD image_size;

static void load_image(void)
{
    HANDLE h = CreateFileW(PEERLSP_TEST_LSP_DLL, GENERIC_READ, FILE_SHARE_READ, NULL,
                           OPEN_EXISTING, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    image_size = GetFileSize(h, NULL);
    assert_true(image_size > 4096 && image_size != INVALID_FILE_SIZE);
    image = malloc(image_size);
    assert_non_null(image);
    DWORD got = 0;
    assert_true(ReadFile(h, image, image_size, &got, NULL) && got == image_size);
    CloseHandle(h);
}

static void scratch_path(WCHAR path[MAX_PATH], const WCHAR *name)
{
    WCHAR dir[MAX_PATH];
    DWORD n = GetTempPathW(MAX_PATH, dir);
    assert_true(n > 0 && n < MAX_PATH - 60);
    _snwprintf(path, MAX_PATH, L"%lsctl-pe-%lu-%ls", dir, GetCurrentProcessId(), name);
    path[MAX_PATH - 1] = 0;
}

static void write_file(const WCHAR *path, const BYTE *data, DWORD size)
{
    HANDLE h = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    DWORD put = 0;
    assert_true(!size || (WriteFile(h, data, size, &put, NULL) && put == size));
    CloseHandle(h);
}

/* The headers of the copy `img` of peerlsp.dll (x64). */
static IMAGE_NT_HEADERS64 *nt_of(BYTE *img)
{
    return (IMAGE_NT_HEADERS64 *)(img + ((IMAGE_DOS_HEADER *)img)->e_lfanew);
}

static IMAGE_EXPORT_DIRECTORY *exports_of(BYTE *img)
{
    IMAGE_NT_HEADERS64 *nt = nt_of(img);
    DWORD rva = nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_EXPORT].VirtualAddress;
    IMAGE_SECTION_HEADER *s = IMAGE_FIRST_SECTION(nt);
    for (WORD i = 0; i < nt->FileHeader.NumberOfSections; i++) {
        if (rva >= s[i].VirtualAddress && rva < s[i].VirtualAddress + s[i].SizeOfRawData)
            return (IMAGE_EXPORT_DIRECTORY *)(img + rva - s[i].VirtualAddress +
                                              s[i].PointerToRawData);
    }
    fail_msg("peerlsp.dll has no export directory in a section");
    return NULL;
}

enum damage {
    NO_MZ, LFANEW_PAST_END, NO_PE_SIGNATURE, CUT_IN_OPTIONAL_HEADER, TOO_MANY_SECTIONS,
    UNKNOWN_MAGIC, NOT_A_DLL, NO_EXPORTS, EXPORTS_IN_NO_SECTION, NAME_TABLE_PAST_END
};

static const char *pe_reason(enum damage d, WORD *machine, int found[2])
{
    static const char *const names[] = { "WSPStartup", "GetLspGuid" };
    BYTE *img = malloc(image_size);
    assert_non_null(img);
    memcpy(img, image, image_size);
    DWORD size = image_size;
    IMAGE_NT_HEADERS64 *nt = nt_of(img);
    switch (d) {
    case NO_MZ: ((IMAGE_DOS_HEADER *)img)->e_magic = 0x5a4e; break;
    case LFANEW_PAST_END: ((IMAGE_DOS_HEADER *)img)->e_lfanew = (LONG)image_size; break;
    case NO_PE_SIGNATURE: nt->Signature = 0x00004550 ^ 0x100; break;
    case CUT_IN_OPTIONAL_HEADER:
        size = (DWORD)((BYTE *)&nt->OptionalHeader - img) + 16;
        break;
    case TOO_MANY_SECTIONS: nt->FileHeader.NumberOfSections = 0xffff; break;
    case UNKNOWN_MAGIC: nt->OptionalHeader.Magic = 0x0999; break;
    case NOT_A_DLL: nt->FileHeader.Characteristics &= (WORD)~IMAGE_FILE_DLL; break;
    case NO_EXPORTS:
        nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_EXPORT].VirtualAddress = 0;
        break;
    case EXPORTS_IN_NO_SECTION:
        nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_EXPORT].VirtualAddress =
            0x7ffff000;
        break;
    case NAME_TABLE_PAST_END: exports_of(img)->NumberOfNames = 0x10000000; break;
    }
    WCHAR path[MAX_PATH];
    scratch_path(path, L"damaged.dll");
    write_file(path, img, size);
    free(img);
    const char *why = ctl_pe_exports(path, machine, names, 2, found);
    DeleteFileW(path);
    return why;
}

static void test_damaged_pe_files(void **state)
{
    (void)state;
    load_image();
    static const struct {
        enum damage d;
        const char *why; /* NULL: read, exports not found */
    } rows[] = {
        { NO_MZ, "not a PE image (no MZ header)" },
        { LFANEW_PAST_END, "not a PE image (no PE header)" },
        { NO_PE_SIGNATURE, "not a PE image (no PE header)" },
        { CUT_IN_OPTIONAL_HEADER, "truncated PE header" },
        { TOO_MANY_SECTIONS, "truncated section table" },
        { UNKNOWN_MAGIC, "unknown PE optional header" },
        { NOT_A_DLL, "not a DLL" },
        { NO_EXPORTS, NULL },
        { EXPORTS_IN_NO_SECTION, "bad export directory" },
        { NAME_TABLE_PAST_END, "bad export name table" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        WORD machine = 0xdead;
        int found[2] = { -1, -1 };
        const char *why = pe_reason(rows[i].d, &machine, found);
        if (rows[i].why ? !why || strcmp(why, rows[i].why) : why != NULL)
            fail_msg("row %zu: \"%s\", expected \"%s\"", i, why ? why : "(none)",
                     rows[i].why ? rows[i].why : "(none)");
        if (!rows[i].why && (found[0] || found[1] || machine != IMAGE_FILE_MACHINE_AMD64))
            fail_msg("row %zu: found %d %d, machine 0x%x", i, found[0], found[1], machine);
    }
    /* The undamaged copy finds both. */
    WCHAR path[MAX_PATH];
    scratch_path(path, L"whole.dll");
    write_file(path, image, image_size);
    static const char *const names[] = { "WSPStartup", "GetLspGuid" };
    WORD machine = 0;
    int found[2] = { 0, 0 };
    assert_null(ctl_pe_exports(path, &machine, names, 2, found));
    assert_true(found[0] && found[1]);
    assert_int_equal(machine, IMAGE_FILE_MACHINE_AMD64);

    /* Through the catalog check: the reason is what verify prints. */
    char why[256];
    BYTE saved = image[0];
    image[0] = 'X';
    write_file(path, image, image_size);
    image[0] = saved;
    assert_int_equal(ctl_dll_usable(path, why, sizeof why), 1);
    assert_string_equal(why, "not a PE image (no MZ header)");
    DeleteFileW(path);
    free(image);
    image = NULL;
}

/* Files that are not even read: held open by another program without
 * sharing, empty, larger than any DLL. */
static void test_unreadable_files(void **state)
{
    (void)state;
    static const char *const names[] = { "WSPStartup", "GetLspGuid" };
    WORD machine;
    int found[2];
    WCHAR path[MAX_PATH];
    scratch_path(path, L"locked.dll");
    assert_true(CopyFileW(PEERLSP_TEST_LSP_DLL, path, FALSE));
    HANDLE h = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    const char *why = ctl_pe_exports(path, &machine, names, 2, found);
    if (!why || strcmp(why, "cannot open the file"))
        fail_msg("a file open without sharing: \"%s\"", why ? why : "(none)");
    GUID g;
    int rc = check(path, &g);
    if (rc != CTL_EXIT_BAD_DLL || !strstr(out, "is not a usable DLL: cannot open the file."))
        fail_msg("install of a file held open: exit %d\n%s", rc, out);
    CloseHandle(h);

    write_file(path, NULL, 0);
    why = ctl_pe_exports(path, &machine, names, 2, found);
    if (!why || strcmp(why, "file size not that of a DLL"))
        fail_msg("an empty file: \"%s\"", why ? why : "(none)");

    /* 64 MiB and one byte, sparse where the file system allows. */
    h = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    LARGE_INTEGER end;
    end.QuadPart = 64 * 1024 * 1024 + 1;
    assert_true(SetFilePointerEx(h, end, NULL, FILE_BEGIN) && SetEndOfFile(h));
    CloseHandle(h);
    why = ctl_pe_exports(path, &machine, names, 2, found);
    if (!why || strcmp(why, "file size not that of a DLL"))
        fail_msg("a 64 MiB file: \"%s\"", why ? why : "(none)");
    DeleteFileW(path);
}

/* DLLs that pass the file checks: the load or GetLspGuid decides. */
static void test_guid_from_the_dll(void **state)
{
    (void)state;
    GUID g;
    memset(&g, 0x55, sizeof g);
    GUID untouched = g;
    char want[MAX_PATH + 64];

    snprintf(want, sizeof want, "\"%ls\" cannot be loaded: error %d. Is a DLL it needs missing?",
             FAKE_LSP_INIT_FAILS_DLL, (int)ERROR_DLL_INIT_FAILED);
    if (check(FAKE_LSP_INIT_FAILS_DLL, &g) != CTL_EXIT_BAD_DLL || !strstr(out, want))
        fail_msg("a DLL whose DllMain fails:\n%s\nexpected \"%s\"", out, want);
    assert_memory_equal(&g, &untouched, sizeof g);

    snprintf(want, sizeof want, "\"%ls\": GetLspGuid gave no GUID.", FAKE_LSP_NULL_GUID_DLL);
    if (check(FAKE_LSP_NULL_GUID_DLL, &g) != CTL_EXIT_BAD_DLL || !strstr(out, want))
        fail_msg("a DLL giving the null GUID:\n%s\nexpected \"%s\"", out, want);
    assert_memory_equal(&g, &untouched, sizeof g);

    static const GUID other = { 0x0a0b0c0d, 0x1111, 0x2222, { 3, 4, 5, 6, 7, 8, 9, 10 } };
    assert_int_equal(check(FAKE_LSP_OTHER_GUID_DLL, &g), 0);
    assert_memory_equal(&g, &other, sizeof g);
    if (!strstr(out, "Note: the DLL's GUID {0A0B0C0D-1111-2222-0304-05060708090A} is not "
                     "peerlsp's usual one; uninstall and verify then need --guid "
                     "{0A0B0C0D-1111-2222-0304-05060708090A}."))
        fail_msg("no note about the other GUID:\n%s", out);
    /* quiet: the same GUID, no note. */
    FILE *f = tmpfile();
    assert_non_null(f);
    ctl_out_stream = ctl_err_stream = f;
    memset(&g, 0, sizeof g);
    assert_int_equal(ctl_dll_check(FAKE_LSP_OTHER_GUID_DLL, &g, 1), 0);
    ctl_out_stream = ctl_err_stream = NULL;
    assert_int_equal(ftell(f), 0);
    fclose(f);
    assert_memory_equal(&g, &other, sizeof g);
}

/* Catalog paths: one that expands past MAX_PATH, and the 32-bit
 * catalog's view of a path outside System32 (the same file). */
static void test_catalog_paths(void **state)
{
    (void)state;
    static WCHAR long_value[MAX_PATH + 8];
    wmemset(long_value, L'x', MAX_PATH + 4);
    long_value[MAX_PATH + 4] = 0;
    assert_true(SetEnvironmentVariableW(L"PEERLSP_TEST_LONG_DIR", long_value));
    char why[256];
    assert_int_equal(ctl_dll_usable(L"%PEERLSP_TEST_LONG_DIR%\\peerlsp.dll", why, sizeof why), 1);
    assert_string_equal(why, "the path cannot be expanded");
    SetEnvironmentVariableW(L"PEERLSP_TEST_LONG_DIR", NULL);

    WCHAR resolved[MAX_PATH];
    assert_int_equal(ctl_dll_usable_for(PEERLSP_TEST_LSP_DLL32, IMAGE_FILE_MACHINE_I386, 1,
                                        resolved, why, sizeof why),
                     0);
    if (wcscmp(resolved, PEERLSP_TEST_LSP_DLL32))
        fail_msg("outside System32 the 32-bit view moved the path to %ls", resolved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_paths),
        cmocka_unit_test(test_accepted_dlls),
        cmocka_unit_test(test_usable_for_a_catalog),
        cmocka_unit_test(test_damaged_pe_files),
        cmocka_unit_test(test_unreadable_files),
        cmocka_unit_test(test_guid_from_the_dll),
        cmocka_unit_test(test_catalog_paths),
    };
    return cmocka_run_group_tests_name("peerlsp-ctl's DLL checks", tests, NULL, NULL);
}
