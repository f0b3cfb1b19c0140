/*
 * host_iat.c - redirecting a provider's catalog imports to the host.
 *
 * A provider reads the catalog with WSCEnumProtocols and WSCGetProviderPath
 * (and may complete requests with WPUCompleteOverlappedRequest), imported
 * from ws2_32.dll; Wine's versions are stubs. The host rewrites those slots
 * of the import address table of each DLL it loads itself, after the loader
 * resolved them and before WSPStartup runs.
 *
 * A slot is recognised by the import's name when the module imports by
 * name, and by its resolved address (ws2_32's export of that function)
 * when it imports by ordinal; ws2_32's ordinals for these functions are
 * not fixed across versions, the addresses are what the loader put there.
 */
#include <string.h>

#include "host_internal.h"

struct redirect {
    const char *name;
    void *replacement;
    void *real; /* ws2_32's own export, resolved at patch time */
};

static int is_ws2_32(const char *dll)
{
    return !_stricmp(dll, "ws2_32.dll") || !_stricmp(dll, "ws2_32");
}

static void redirects_init(struct redirect *r, size_t n)
{
    HMODULE ws2 = GetModuleHandleW(L"ws2_32.dll");
    for (size_t i = 0; i < n; i++)
        r[i].real = ws2 ? (void *)(void (*)(void))GetProcAddress(ws2, r[i].name) : NULL;
}

static int patch_slot(ULONG_PTR *slot, void *value)
{
    DWORD old, ignored;
    if (!VirtualProtect(slot, sizeof *slot, PAGE_READWRITE, &old))
        return 0;
    *slot = (ULONG_PTR)value;
    /* Restore what the loader chose (read-only after relocation). */
    return VirtualProtect(slot, sizeof *slot, old, &ignored);
}

int host_redirect_imports(HMODULE module)
{
    struct redirect redirects[] = {
        { "WSCEnumProtocols", (void *)host_WSCEnumProtocols, NULL },
        { "WSCGetProviderPath", (void *)host_WSCGetProviderPath, NULL },
        { "WSCGetProviderInfo", (void *)host_WSCGetProviderInfo, NULL },
        { "WPUCompleteOverlappedRequest", (void *)host_WPUCompleteOverlappedRequest, NULL },
    };
    const size_t nredirects = sizeof redirects / sizeof redirects[0];
    redirects_init(redirects, nredirects);

    BYTE *base = (BYTE *)module;
    const IMAGE_DOS_HEADER *dos = (const IMAGE_DOS_HEADER *)base;
    if (dos->e_magic != IMAGE_DOS_SIGNATURE) {
        SetLastError(ERROR_BAD_EXE_FORMAT);
        return -1;
    }
    const IMAGE_NT_HEADERS *nt = (const IMAGE_NT_HEADERS *)(base + dos->e_lfanew);
    if (nt->Signature != IMAGE_NT_SIGNATURE ||
        nt->OptionalHeader.Magic != IMAGE_NT_OPTIONAL_HDR_MAGIC) {
        SetLastError(ERROR_BAD_EXE_FORMAT);
        return -1;
    }
    const IMAGE_DATA_DIRECTORY *dir =
        &nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_IMPORT];
    if (nt->OptionalHeader.NumberOfRvaAndSizes <= IMAGE_DIRECTORY_ENTRY_IMPORT ||
        !dir->VirtualAddress)
        return 0; /* imports nothing */

    int patched = 0;
    const IMAGE_IMPORT_DESCRIPTOR *d =
        (const IMAGE_IMPORT_DESCRIPTOR *)(base + dir->VirtualAddress);
    for (; d->Name; d++) {
        if (!is_ws2_32((const char *)(base + d->Name)))
            continue;
        IMAGE_THUNK_DATA *iat = (IMAGE_THUNK_DATA *)(base + d->FirstThunk);
        const IMAGE_THUNK_DATA *names =
            d->OriginalFirstThunk ? (const IMAGE_THUNK_DATA *)(base + d->OriginalFirstThunk)
                                  : NULL;
        for (size_t i = 0; iat[i].u1.Function; i++) {
            const struct redirect *r = NULL;
            for (size_t k = 0; k < nredirects && !r; k++) {
                if (names && !IMAGE_SNAP_BY_ORDINAL(names[i].u1.Ordinal)) {
                    const IMAGE_IMPORT_BY_NAME *by_name =
                        (const IMAGE_IMPORT_BY_NAME *)(base + names[i].u1.AddressOfData);
                    if (!strcmp((const char *)by_name->Name, redirects[k].name))
                        r = &redirects[k];
                } else if (redirects[k].real &&
                           (void *)iat[i].u1.Function == redirects[k].real) {
                    r = &redirects[k];
                }
            }
            if (!r)
                continue;
            if (!patch_slot((ULONG_PTR *)&iat[i].u1.Function, r->replacement))
                return -1;
            patched++;
        }
    }
    return patched;
}

int host_patch_import(HMODULE module, const char *dll, const char *function, void *replacement)
{
    BYTE *base = (BYTE *)module;
    const IMAGE_DOS_HEADER *dos = (const IMAGE_DOS_HEADER *)base;
    if (!module || dos->e_magic != IMAGE_DOS_SIGNATURE)
        return -1;
    const IMAGE_NT_HEADERS *nt = (const IMAGE_NT_HEADERS *)(base + dos->e_lfanew);
    if (nt->Signature != IMAGE_NT_SIGNATURE ||
        nt->OptionalHeader.Magic != IMAGE_NT_OPTIONAL_HDR_MAGIC)
        return -1;
    const IMAGE_DATA_DIRECTORY *dir =
        &nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_IMPORT];
    if (nt->OptionalHeader.NumberOfRvaAndSizes <= IMAGE_DIRECTORY_ENTRY_IMPORT ||
        !dir->VirtualAddress)
        return 0;

    int patched = 0;
    const IMAGE_IMPORT_DESCRIPTOR *d =
        (const IMAGE_IMPORT_DESCRIPTOR *)(base + dir->VirtualAddress);
    for (; d->Name; d++) {
        if (_stricmp((const char *)(base + d->Name), dll) || !d->OriginalFirstThunk)
            continue;
        IMAGE_THUNK_DATA *iat = (IMAGE_THUNK_DATA *)(base + d->FirstThunk);
        const IMAGE_THUNK_DATA *names = (const IMAGE_THUNK_DATA *)(base + d->OriginalFirstThunk);
        for (size_t i = 0; iat[i].u1.Function; i++) {
            if (IMAGE_SNAP_BY_ORDINAL(names[i].u1.Ordinal))
                continue;
            const IMAGE_IMPORT_BY_NAME *by_name =
                (const IMAGE_IMPORT_BY_NAME *)(base + names[i].u1.AddressOfData);
            if (strcmp((const char *)by_name->Name, function))
                continue;
            if (!patch_slot((ULONG_PTR *)&iat[i].u1.Function, replacement))
                return -1;
            patched++;
        }
    }
    return patched;
}
