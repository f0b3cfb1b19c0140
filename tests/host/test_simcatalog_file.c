/*
 * test_simcatalog_file.c - catalog snapshot files that are not well formed
 * (installer/simcatalog_file.c): every field the reader parses, broken one
 * at a time in an otherwise valid file, makes simcat_load answer
 * ERROR_INVALID_DATA; what the format allows (lower-case hex, CRLF line
 * ends, a negative integer field) loads; a file that cannot be written or
 * read gives the system's error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <windows.h>

#include "simcatalog.h"

#define PROVIDER "provider {11111111-1111-1111-0101-010101010101} categories=0x80000000 " \
                 "path=\"%SystemRoot%\\\\a.dll\"\n"
#define ENTRY "entry 1001 {11111111-1111-1111-0101-010101010101} chain=1:1001,0,0,0,0,0,0 " \
              "sf1=0x00020002 sf2=0x00000000 sf3=0x00000000 sf4=0x00000000 pf=0x00000008 " \
              "ver=2 af=2 maxsa=16 minsa=16 type=1 proto=6 protomax=0 order=0 sec=0 "    \
              "msgsize=0 reserved=0 name=\"q\\\"b\\\\s \\u00E9 \\u2603\"\n"
static const char valid[] = "peerlsp-simcatalog 1\n" PROVIDER ENTRY;

static WCHAR file[MAX_PATH];

static void write_bytes(const char *data, size_t len)
{
    HANDLE h = CreateFileW(file, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    DWORD put = 0;
    assert_true(WriteFile(h, data, (DWORD)len, &put, NULL));
    assert_int_equal(put, len);
    CloseHandle(h);
}

/* simcat_load's answer for `text`. */
static int load_text(const char *text, size_t *entries)
{
    write_bytes(text, strlen(text));
    struct simcat *cat = NULL;
    int err = simcat_load(file, &cat);
    if (!err) {
        *entries = simcat_count(cat);
        simcat_destroy(cat);
    }
    return err;
}

/* The valid file with the first `from` replaced by `to`. */
static int load_variant(const char *from, const char *to, size_t *entries)
{
    static char text[4096];
    const char *at = strstr(valid, from);
    if (!at)
        fail_msg("\"%s\" is not in the valid file", from);
    size_t head = (size_t)(at - valid);
    snprintf(text, sizeof text, "%.*s%s%s", (int)head, valid, to, at + strlen(from));
    return load_text(text, entries);
}

static void test_broken_fields(void **state)
{
    (void)state;
    static const struct {
        const char *from, *to, *what;
    } rows[] = {
        { "categories=0x80000000", "categories=0x8000000G", "a hex digit" },
        { "categories=0x80000000", "categories=80000000", "a hex number without 0x" },
        { "{11111111-1111-1111-0101-010101010101} categories", "{11111111+1111-1111-0101-010101010101} categories", "a GUID's dash" },
        { "{11111111-1111-1111-0101-010101010101} categories", "11111111-1111-1111-0101-010101010101} categories", "a GUID's brace" },
        { "010101010101} categories", "010101010101) categories", "a GUID's closing brace" },
        { "ver=2", "ver=99999999999", "a number past 32 bits" },
        { "ver=2", "ver=x", "a number without digits" },
        { "af=2", "af=-2147483649", "a negative number past int" },
        { "af=2", "af=2147483648", "a positive number past int" },
        { "name=\"q\\\"b", "name=\"q\\qb", "an unknown escape" },
        { "\\u00E9", "\\u00G9", "a \\u escape's hex digit" },
        { "\\u2603\"\n", "\\u2603\n", "an unterminated string" },
        { "name=\"q", "name=q", "a string without quotes" },
        { "path=\"%SystemRoot%", "path=\"%System\x01Root%", "a control character in a string" },
        { "path=\"%SystemRoot%", "path=\"%System\x80Root%", "a non-ASCII byte in a string" },
        { "\\u2603\"\n", "\\u2603\" trailing\n", "text after the last field" },
        { "entry 1001", "entry 0", "entry id 0" },
        { "entry 1001", "entry 4294967295", "entry id MAXDWORD" },
        { "entry 1001 {11111111", "entry 1001 {22222222", "an entry without its provider" },
        { "peerlsp-simcatalog 1", "peerlsp-simcatalog 2", "an unknown version" },
        { "provider {", "providr {", "an unknown line" },
        { ENTRY, "", "a provider without entries" },
        { PROVIDER, PROVIDER PROVIDER, "a provider named twice" },
        { ENTRY, ENTRY ENTRY, "an entry id twice" },
        { PROVIDER ENTRY, ENTRY PROVIDER, "a provider line after an entry" },
        { "\\u2603\"\n", "\\u2603\"", "a last line without LF" },
        { "chain=1:1001", "chain=9:1001", "a chain length past the limit" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t entries = 0;
        int err = load_variant(rows[i].from, rows[i].to, &entries);
        if (err != ERROR_INVALID_DATA)
            fail_msg("%s: simcat_load gave %d, expected ERROR_INVALID_DATA", rows[i].what, err);
    }
    size_t entries = 0;
    assert_int_equal(load_text("", &entries), ERROR_INVALID_DATA); /* empty */
    /* An embedded NUL would end the text early. */
    char with_nul[sizeof valid];
    memcpy(with_nul, valid, sizeof valid);
    with_nul[30] = 0;
    write_bytes(with_nul, sizeof valid - 1);
    struct simcat *cat = NULL;
    assert_int_equal(simcat_load(file, &cat), ERROR_INVALID_DATA);
}

static void test_allowed_forms(void **state)
{
    (void)state;
    size_t entries = 0;
    assert_int_equal(load_text(valid, &entries), 0);
    assert_int_equal(entries, 1);
    /* Lower-case hex in GUIDs and numbers. */
    static char lower[sizeof valid];
    memcpy(lower, valid, sizeof valid);
    for (char *p = lower; (p = strstr(p, "0x")) != NULL; p += 2)
        for (char *d = p + 2; (*d >= '0' && *d <= '9') || (*d >= 'A' && *d <= 'F'); d++)
            if (*d >= 'A')
                *d = (char)(*d - 'A' + 'a');
    char *e9 = strstr(lower, "\\u00E9");
    assert_non_null(e9);
    e9[5] = 'e';
    entries = 0;
    assert_int_equal(load_text(lower, &entries), 0);
    assert_int_equal(entries, 1);
    /* A file that went through a CRLF editor. */
    static char crlf[2 * sizeof valid];
    size_t n = 0;
    for (const char *p = valid; *p; p++) {
        if (*p == '\n')
            crlf[n++] = '\r';
        crlf[n++] = *p;
    }
    crlf[n] = 0;
    entries = 0;
    assert_int_equal(load_text(crlf, &entries), 0);
    assert_int_equal(entries, 1);
    /* A negative integer field. */
    entries = 0;
    assert_int_equal(load_variant("sec=0", "sec=-1", &entries), 0);
}

static void test_unreadable_and_unwritable(void **state)
{
    (void)state;
    struct simcat *cat = NULL;
    assert_int_equal(simcat_load(NULL, &cat), ERROR_INVALID_PARAMETER);
    assert_int_equal(simcat_load(file, NULL), ERROR_INVALID_PARAMETER);
    assert_int_equal(simcat_save(NULL, file), ERROR_INVALID_PARAMETER);
    assert_int_equal(simcat_load(L"Z:\\nonexistent\\peerlsp\\none.cat", &cat),
                     ERROR_PATH_NOT_FOUND);
    struct simcat *empty = simcat_create();
    assert_non_null(empty);
    assert_int_equal(simcat_save(empty, L"Z:\\nonexistent\\peerlsp\\none.cat"),
                     ERROR_PATH_NOT_FOUND);
    simcat_destroy(empty);
}

int main(void)
{
    WCHAR dir[MAX_PATH];
    DWORD n = GetTempPathW(MAX_PATH, dir);
    if (n == 0 || n > MAX_PATH - 40)
        return 1;
    _snwprintf(file, MAX_PATH, L"%lssimcat-file-%lu.cat", dir, GetCurrentProcessId());
    file[MAX_PATH - 1] = 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broken_fields),
        cmocka_unit_test(test_allowed_forms),
        cmocka_unit_test(test_unreadable_and_unwritable),
    };
    int failed = cmocka_run_group_tests_name("catalog snapshot files", tests, NULL, NULL);
    DeleteFileW(file);
    return failed;
}
