/*
 * ctl_records.c - the record of the exclusions peerlsp-ctl made on the live
 * system. Windows can read and set one application's categories
 * (WSCGetApplicationCategory / WSCSetApplicationCategory) but cannot list
 * the categorized applications, so `list` and `status` show what this tool
 * wrote here: HKLM\SOFTWARE\peerlsp\Exclusions (the 64-bit view, so that
 * the x86 and x64 tools share it), one REG_SZ value per application. The
 * value's name is the program's path, followed by '|' and its command line
 * when one was given ('|' cannot occur in a Windows path); its data is
 * "removed=0xXXXXXXXX permitted=0xXXXXXXXX".
 */
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "ctl.h"

HKEY ctl_records_root = HKEY_LOCAL_MACHINE;
const WCHAR *ctl_records_subkey = L"SOFTWARE\\peerlsp\\Exclusions";

#define NAME_MAX_CHARS (MAX_PATH + 1 + CTL_ARGS_MAX)

static void value_name(const WCHAR *app, const WCHAR *args, WCHAR name[NAME_MAX_CHARS])
{
    if (args && args[0])
        swprintf(name, NAME_MAX_CHARS, L"%ls|%ls", app, args);
    else
        swprintf(name, NAME_MAX_CHARS, L"%ls", app);
}

int ctl_records_registry_enum(struct ctl_backend *b,
                              void (*cb)(void *ctx, const struct ctl_app_record *r), void *ctx)
{
    (void)b;
    HKEY key;
    LONG err = RegOpenKeyExW(ctl_records_root, ctl_records_subkey, 0,
                             KEY_QUERY_VALUE | KEY_WOW64_64KEY, &key);
    if (err == ERROR_FILE_NOT_FOUND)
        return 0; /* nothing was ever excluded */
    if (err)
        return (int)err;
    static struct ctl_app_record r;
    static WCHAR name[NAME_MAX_CHARS];
    for (DWORD i = 0;; i++) {
        WCHAR data[64];
        DWORD nlen = NAME_MAX_CHARS, dlen = sizeof data - sizeof(WCHAR), type = 0;
        err = RegEnumValueW(key, i, name, &nlen, NULL, &type, (BYTE *)data, &dlen);
        if (err == ERROR_NO_MORE_ITEMS) {
            err = 0;
            break;
        }
        if (err == ERROR_MORE_DATA)
            continue; /* not a value this tool wrote */
        if (err)
            break;
        data[dlen / sizeof(WCHAR)] = 0;
        memset(&r, 0, sizeof r);
        unsigned long removed, permitted;
        if (type != REG_SZ || swscanf(data, L"removed=0x%lx permitted=0x%lx", &removed,
                                      &permitted) != 2)
            continue;
        r.removed = (DWORD)removed;
        r.permitted = (DWORD)permitted;
        WCHAR *bar = wcschr(name, L'|');
        if (bar)
            *bar = 0;
        if (wcslen(name) >= MAX_PATH || (bar && wcslen(bar + 1) >= CTL_ARGS_MAX))
            continue;
        wcscpy(r.app, name);
        if (bar)
            wcscpy(r.args, bar + 1);
        cb(ctx, &r);
    }
    RegCloseKey(key);
    return (int)err;
}

int ctl_records_registry_put(struct ctl_backend *b, const struct ctl_app_record *r)
{
    (void)b;
    HKEY key;
    LONG err = RegCreateKeyExW(ctl_records_root, ctl_records_subkey, 0, NULL, 0,
                               KEY_SET_VALUE | KEY_WOW64_64KEY, NULL, &key, NULL);
    if (err)
        return (int)err;
    static WCHAR name[NAME_MAX_CHARS];
    WCHAR data[64];
    value_name(r->app, r->args, name);
    swprintf(data, 64, L"removed=0x%08lX permitted=0x%08lX", (unsigned long)r->removed,
             (unsigned long)r->permitted);
    err = RegSetValueExW(key, name, 0, REG_SZ, (const BYTE *)data,
                         (DWORD)((wcslen(data) + 1) * sizeof(WCHAR)));
    RegCloseKey(key);
    return (int)err;
}

int ctl_records_registry_del(struct ctl_backend *b, const WCHAR *app, const WCHAR *args)
{
    (void)b;
    HKEY key;
    LONG err = RegOpenKeyExW(ctl_records_root, ctl_records_subkey, 0,
                             KEY_SET_VALUE | KEY_WOW64_64KEY, &key);
    if (err == ERROR_FILE_NOT_FOUND)
        return 0;
    if (err)
        return (int)err;
    static WCHAR name[NAME_MAX_CHARS];
    value_name(app, args, name);
    err = RegDeleteValueW(key, name);
    RegCloseKey(key);
    return err == ERROR_FILE_NOT_FOUND ? 0 : (int)err;
}
