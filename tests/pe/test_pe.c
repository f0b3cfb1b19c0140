/*
 * test_pe.c - the staged DLLs of both architectures carry what the README
 * promises: exactly the two exports, undecorated; a VERSIONINFO; ASLR
 * (high-entropy on x64) and NX; no MinGW runtime DLL to ship beside them;
 * nothing but DllMain at process attach.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <windows.h>

#include <peerlsp/version.h>

#include "pefile.h"

struct arch_case {
    const char *name;
    const WCHAR *dir;
    WORD machine;
    WORD must_have; /* DllCharacteristics bits */
};

#ifndef IMAGE_DLLCHARACTERISTICS_HIGH_ENTROPY_VA
#define IMAGE_DLLCHARACTERISTICS_HIGH_ENTROPY_VA 0x0020
#endif

static const struct arch_case arches[] = {
    { "x64", L"x64", IMAGE_FILE_MACHINE_AMD64,
      IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE | IMAGE_DLLCHARACTERISTICS_NX_COMPAT |
          IMAGE_DLLCHARACTERISTICS_HIGH_ENTROPY_VA },
    { "x86", L"x86", IMAGE_FILE_MACHINE_I386,
      IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE | IMAGE_DLLCHARACTERISTICS_NX_COMPAT },
};

static void dll_path(const struct arch_case *a, const WCHAR *file, WCHAR *out, size_t n)
{
    _snwprintf(out, n, L"%ls\\%ls\\%ls", PEERLSP_TEST_DIST_ROOT, a->dir, file);
    out[n - 1] = 0;
}

static void read_or_fail(const struct arch_case *a, const WCHAR *file, struct pefile *pe)
{
    WCHAR path[MAX_PATH];
    dll_path(a, file, path, MAX_PATH);
    const char *why = pefile_read(path, pe);
    if (why)
        fail_msg("%s: %ls: %s (make test builds dist/x64 and dist/x86 first)", a->name, path, why);
}

static void test_exports_exactly_two_undecorated(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++) {
        struct pefile pe;
        read_or_fail(&arches[i], L"peerlsp.dll", &pe);
        if (pe.export_count != 2)
            fail_msg("%s: %d exports, expected 2 (first: %s)", arches[i].name, pe.export_count,
                     pe.export_count ? pe.exports[0] : "-");
        /* The export directory's name table is sorted. */
        if (strcmp(pe.exports[0], "GetLspGuid") || strcmp(pe.exports[1], "WSPStartup"))
            fail_msg("%s: exports %s, %s; expected GetLspGuid, WSPStartup", arches[i].name,
                     pe.exports[0], pe.exports[1]);
    }
}

static void test_machine_and_characteristics(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++) {
        struct pefile pe;
        read_or_fail(&arches[i], L"peerlsp.dll", &pe);
        if (pe.machine != arches[i].machine)
            fail_msg("%s: machine 0x%04x, expected 0x%04x", arches[i].name, pe.machine,
                     arches[i].machine);
        if (!(pe.characteristics & IMAGE_FILE_DLL))
            fail_msg("%s: IMAGE_FILE_DLL not set (0x%04x)", arches[i].name, pe.characteristics);
        if ((pe.dll_characteristics & arches[i].must_have) != arches[i].must_have)
            fail_msg("%s: DllCharacteristics 0x%04x lacks 0x%04x", arches[i].name,
                     pe.dll_characteristics, arches[i].must_have);
    }
}

/* Only system DLLs: a MinGW runtime DLL (libgcc_s_*, libwinpthread-1) would
 * have to be shipped and loaded into every Winsock program. */
static void test_imports_only_system_dlls(void **state)
{
    static const char *const allowed[] = { "KERNEL32.dll", "WS2_32.dll", "ADVAPI32.dll",
                                           "msvcrt.dll", "api-ms-win-crt-" };
    (void)state;
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++) {
        struct pefile pe;
        read_or_fail(&arches[i], L"peerlsp.dll", &pe);
        assert_true(pe.import_count > 0);
        for (int k = 0; k < pe.import_count; k++) {
            int ok = 0;
            for (size_t j = 0; j < sizeof allowed / sizeof allowed[0]; j++)
                ok |= !_strnicmp(pe.imports[k], allowed[j], strlen(allowed[j]));
            if (!ok)
                fail_msg("%s: imports %s", arches[i].name, pe.imports[k]);
        }
    }
}

/* Nothing may run at process attach but DllMain itself, which only calls
 * DisableThreadLibraryCalls: DllMain runs under the loader lock in every
 * Winsock program. What would run anything else is in the file: TLS
 * callbacks (a TLS directory), the CRT's initialiser tables (.CRT) and the
 * CRT start-up code, whose imports give it away (_initterm, _amsg_exit,
 * _lock/_unlock: the start-up lock). On x86 MinGW's crtbegin.o looks up
 * and loads libgcc_s_dw2-1.dll from a constructor (GetModuleHandleA,
 * LoadLibraryA and the DLL's name). The only library load peerlsp has is
 * LoadLibraryExW, in WSPStartup. */
static void test_nothing_runs_at_attach(void **state)
{
    static const char *const forbidden[] = {
        "KERNEL32.dll!LoadLibraryA", "KERNEL32.dll!LoadLibraryW",
        "KERNEL32.dll!GetModuleHandleA", "KERNEL32.dll!GetModuleHandleW",
        "KERNEL32.dll!LoadLibraryExA", "KERNEL32.dll!EnterCriticalSection",
        "KERNEL32.dll!TlsAlloc", "msvcrt.dll!_initterm", "msvcrt.dll!_amsg_exit",
        "msvcrt.dll!_lock", "msvcrt.dll!_unlock", "msvcrt.dll!atexit", "msvcrt.dll!_onexit",
        "msvcrt.dll!__dllonexit",
    };
    (void)state;
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++) {
        struct pefile pe;
        read_or_fail(&arches[i], L"peerlsp.dll", &pe);
        assert_true(pe.function_count > 0);
        if (pe.tls_size)
            fail_msg("%s: a TLS directory (%lu bytes): TLS callbacks run at attach",
                     arches[i].name, pe.tls_size);
        for (int k = 0; k < pe.section_count; k++) {
            if (!strcmp(pe.sections[k], ".CRT") || !strcmp(pe.sections[k], ".tls"))
                fail_msg("%s: section %s: CRT start-up code runs at attach", arches[i].name,
                         pe.sections[k]);
        }
        if (pe.has_string_libgcc)
            fail_msg("%s: the file names libgcc_s (crtbegin.o's frame registration)",
                     arches[i].name);
        for (int k = 0; k < pe.function_count; k++) {
            for (size_t j = 0; j < sizeof forbidden / sizeof forbidden[0]; j++) {
                if (!_stricmp(pe.functions[k], forbidden[j]))
                    fail_msg("%s: imports %s", arches[i].name, pe.functions[k]);
            }
        }
    }
}

static void expect_version_string(const char *arch, const void *info, const WCHAR *key,
                                  const WCHAR *expected)
{
    WCHAR query[128];
    WCHAR *value = NULL;
    UINT len = 0;
    _snwprintf(query, 128, L"\\StringFileInfo\\040904b0\\%ls", key);
    query[127] = 0;
    if (!VerQueryValueW(info, query, (void **)&value, &len) || !value)
        fail_msg("%s: no %ls in VERSIONINFO", arch, key);
    if (wcscmp(value, expected))
        fail_msg("%s: %ls is \"%ls\", expected \"%ls\"", arch, key, value, expected);
}

static void test_versioninfo(void **state)
{
    WCHAR version[32];
    (void)state;
    _snwprintf(version, 32, L"%hs", PEERLSP_VERSION_STRING);
    version[31] = 0;
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++) {
        WCHAR path[MAX_PATH];
        DWORD handle = 0;
        dll_path(&arches[i], L"peerlsp.dll", path, MAX_PATH);
        DWORD size = GetFileVersionInfoSizeW(path, &handle);
        if (!size)
            fail_msg("%s: no VERSIONINFO (error %lu)", arches[i].name, GetLastError());
        void *info = test_malloc(size);
        assert_true(GetFileVersionInfoW(path, 0, size, info));
        VS_FIXEDFILEINFO *fixed = NULL;
        UINT len = 0;
        assert_true(VerQueryValueW(info, L"\\", (void **)&fixed, &len));
        assert_int_equal(fixed->dwFileVersionMS,
                         MAKELONG(PEERLSP_VERSION_MINOR, PEERLSP_VERSION_MAJOR));
        assert_int_equal(fixed->dwFileVersionLS, MAKELONG(0, PEERLSP_VERSION_PATCH));
        expect_version_string(arches[i].name, info, L"ProductName", L"peerlsp");
        expect_version_string(arches[i].name, info, L"ProductVersion", version);
        expect_version_string(arches[i].name, info, L"FileVersion", version);
        expect_version_string(arches[i].name, info, L"FileDescription",
                              L"peerlsp Winsock layered service provider");
        test_free(info);
    }
}

/* peerlsp-ctl of both architectures: an executable of its machine with the
 * same hardening, a VERSIONINFO, and a manifest that asks for administrator
 * rights (it changes the system catalog). */
static void test_ctl_executables(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++) {
        struct pefile pe;
        WCHAR path[MAX_PATH];
        read_or_fail(&arches[i], L"peerlsp-ctl.exe", &pe);
        if (pe.machine != arches[i].machine || (pe.characteristics & IMAGE_FILE_DLL))
            fail_msg("%s: peerlsp-ctl.exe machine 0x%04x, characteristics 0x%04x", arches[i].name,
                     pe.machine, pe.characteristics);
        if ((pe.dll_characteristics & arches[i].must_have) != arches[i].must_have)
            fail_msg("%s: peerlsp-ctl.exe DllCharacteristics 0x%04x lacks 0x%04x",
                     arches[i].name, pe.dll_characteristics, arches[i].must_have);

        dll_path(&arches[i], L"peerlsp-ctl.exe", path, MAX_PATH);
        HMODULE m = LoadLibraryExW(path, NULL, LOAD_LIBRARY_AS_DATAFILE | LOAD_LIBRARY_AS_IMAGE_RESOURCE);
        if (!m)
            fail_msg("%s: cannot open %ls for its resources: %lu", arches[i].name, path,
                     GetLastError());
        HRSRC r = FindResourceW(m, MAKEINTRESOURCEW(1), MAKEINTRESOURCEW(24) /* RT_MANIFEST */);
        if (!r)
            fail_msg("%s: peerlsp-ctl.exe has no manifest (resource 1)", arches[i].name);
        DWORD size = SizeofResource(m, r);
        HGLOBAL g = LoadResource(m, r);
        const char *text = g ? LockResource(g) : NULL;
        assert_non_null(text);
        char *copy = test_calloc(1, size + 1);
        memcpy(copy, text, size);
        /* asInvoker: the read-only commands run from any prompt; the
         * changing ones check for elevation themselves (exit 3). */
        if (!strstr(copy, "level=\"asInvoker\"") || strstr(copy, "requireAdministrator"))
            fail_msg("%s: the manifest does not run the tool as the invoker:\n%s",
                     arches[i].name, copy);
        test_free(copy);
        FreeLibrary(m);

        DWORD handle = 0;
        if (!GetFileVersionInfoSizeW(path, &handle))
            fail_msg("%s: peerlsp-ctl.exe has no VERSIONINFO", arches[i].name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exports_exactly_two_undecorated),
        cmocka_unit_test(test_machine_and_characteristics),
        cmocka_unit_test(test_imports_only_system_dlls),
        cmocka_unit_test(test_nothing_runs_at_attach),
        cmocka_unit_test(test_versioninfo),
        cmocka_unit_test(test_ctl_executables),
    };
    return cmocka_run_group_tests_name("pe", tests, NULL, NULL);
}
