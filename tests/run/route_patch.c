/*
 * route_patch.c - rewriting import address tables.
 *
 * The map: for every export of ws2_32.dll and mswsock.dll, its address in
 * this process (what the loader writes into an importer's slot, whether the
 * import is by name or by ordinal) and what the program gets instead
 * (route.h: the host's function, nothing for PURE, an UNSUPPORTED stub).
 *
 * Which modules: the program's own, i.e. every module outside the Windows
 * directory except the router and the catalog's provider DLLs (the host
 * loads those, and their calls into Wine are the base provider's
 * business).
 * Wine's own DLLs (the Windows directory) are not routed, but their
 * imports of the routed socket functions get counting forwarders: a socket
 * call that reaches Wine from there has passed no provider, and is
 * counted and named as a bypass in the stats.
 *
 * Modules loaded later: the program's LoadLibrary* imports are replaced by
 * functions that load, then patch every module not seen before; its
 * GetProcAddress import by one that hands out the replacement of an export
 * of the two DLLs.
 */
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "simcatalog.h"

#include <psapi.h>

struct mapping {
    void *real;
    void *program;   /* what the program's modules get; NULL: leave it */
    void *wine;      /* what Wine's modules get (a bypass counter); NULL: leave it */
};

static struct {
    SRWLOCK lock;
    struct mapping *map;
    size_t count, capacity;
    HMODULE router;
    WCHAR windows_dir[MAX_PATH];
    /* The catalog's provider DLLs, expanded: the host loads them. */
    WCHAR (*providers)[MAX_PATH];
    size_t nproviders;
    /* Modules already patched (their base addresses). */
    HMODULE *seen;
    size_t nseen, seen_capacity;
} g = { .lock = SRWLOCK_INIT };

/* ---- the map ------------------------------------------------------------ */

static int map_add(void *real, void *program, void *wine)
{
    if (g.count == g.capacity) {
        size_t capacity = g.capacity ? g.capacity * 2 : 256;
        struct mapping *grown = realloc(g.map, capacity * sizeof *grown);
        if (!grown)
            return ERROR_OUTOFMEMORY;
        g.map = grown;
        g.capacity = capacity;
    }
    g.map[g.count++] = (struct mapping){ real, program, wine };
    return 0;
}

static const struct mapping *map_find(const void *real)
{
    for (size_t i = 0; i < g.count; i++) {
        if (g.map[i].real == real)
            return &g.map[i];
    }
    return NULL;
}

static const IMAGE_DATA_DIRECTORY *directory(HMODULE module, int index)
{
    const BYTE *base = (const BYTE *)module;
    const IMAGE_DOS_HEADER *dos = (const IMAGE_DOS_HEADER *)base;
    if (dos->e_magic != IMAGE_DOS_SIGNATURE)
        return NULL;
    const IMAGE_NT_HEADERS *nt = (const IMAGE_NT_HEADERS *)(base + dos->e_lfanew);
    if (nt->Signature != IMAGE_NT_SIGNATURE ||
        nt->OptionalHeader.Magic != IMAGE_NT_OPTIONAL_HDR_MAGIC ||
        nt->OptionalHeader.NumberOfRvaAndSizes <= (DWORD)index)
        return NULL;
    const IMAGE_DATA_DIRECTORY *dir = &nt->OptionalHeader.DataDirectory[index];
    return dir->VirtualAddress ? dir : NULL;
}

/* Adds every named export of `dll` (loaded here) to the map. */
static int map_dll(const char *dll)
{
    HMODULE module = LoadLibraryA(dll);
    if (!module)
        return (int)GetLastError();
    const IMAGE_DATA_DIRECTORY *dir = directory(module, IMAGE_DIRECTORY_ENTRY_EXPORT);
    if (!dir)
        return ERROR_BAD_EXE_FORMAT;
    const BYTE *base = (const BYTE *)module;
    const IMAGE_EXPORT_DIRECTORY *exp = (const IMAGE_EXPORT_DIRECTORY *)(base + dir->VirtualAddress);
    const DWORD *functions = (const DWORD *)(base + exp->AddressOfFunctions);
    const DWORD *names = (const DWORD *)(base + exp->AddressOfNames);
    const WORD *ordinals = (const WORD *)(base + exp->AddressOfNameOrdinals);
    for (DWORD i = 0; i < exp->NumberOfNames; i++) {
        DWORD rva = functions[ordinals[i]];
        /* A forwarder (WSASetEvent -> kernel32.SetEvent) is another DLL's
         * function: the slot never holds an address of this one. */
        if (rva >= dir->VirtualAddress && rva < dir->VirtualAddress + dir->Size)
            continue;
        const char *name = (const char *)(base + names[i]);
        void *real = (void *)(base + rva);
        const struct route_export *e = route_table_find(dll, name);
        void *program = NULL, *wine = NULL;
        if (!e || e->kind == ROUTE_UNSUPPORTED) {
            if (!(program = route_unsupported_stub(dll, name)))
                return ERROR_OUTOFMEMORY;
        } else if (e->kind == ROUTE_ROUTED) {
            program = e->routed;
            volatile LONG64 *counter = route_stats_bypass_counter(dll, name);
            if (!counter || !(wine = route_counting_stub(counter, real)))
                return ERROR_OUTOFMEMORY;
        }
        int err = map_add(real, program, wine);
        if (err)
            return err;
    }
    return 0;
}

/* ---- which modules ------------------------------------------------------ */

enum module_kind { MODULE_SKIP, MODULE_PROGRAM, MODULE_WINE };

static int path_under(const WCHAR *path, const WCHAR *dir)
{
    size_t n = wcslen(dir);
    return n && !_wcsnicmp(path, dir, n) && (path[n] == L'\\' || path[n] == L'/');
}

static enum module_kind module_kind(HMODULE module)
{
    WCHAR path[MAX_PATH];
    DWORD n = GetModuleFileNameW(module, path, MAX_PATH);
    if (!n || n >= MAX_PATH || module == g.router)
        return MODULE_SKIP;
    /* The providers: their calls into Wine are the base provider's own
     * business (an LSP's into the layer below goes through the SPI). */
    for (size_t i = 0; i < g.nproviders; i++) {
        if (!_wcsicmp(path, g.providers[i]))
            return MODULE_SKIP;
    }
    if (path_under(path, g.windows_dir)) {
        const WCHAR *file = wcsrchr(path, L'\\');
        file = file ? file + 1 : path;
        /* The two DLLs themselves call their own internals. */
        if (!_wcsicmp(file, L"ws2_32.dll") || !_wcsicmp(file, L"mswsock.dll"))
            return MODULE_SKIP;
        return MODULE_WINE;
    }
    return MODULE_PROGRAM;
}

static int patch_slot(ULONG_PTR *slot, void *value)
{
    DWORD old, ignored;
    if (!VirtualProtect(slot, sizeof *slot, PAGE_READWRITE, &old))
        return 0;
    *slot = (ULONG_PTR)value;
    return VirtualProtect(slot, sizeof *slot, old, &ignored);
}

static void patch_module(HMODULE module, enum module_kind kind)
{
    const IMAGE_DATA_DIRECTORY *dir = directory(module, IMAGE_DIRECTORY_ENTRY_IMPORT);
    if (!dir)
        return;
    BYTE *base = (BYTE *)module;
    for (const IMAGE_IMPORT_DESCRIPTOR *d =
             (const IMAGE_IMPORT_DESCRIPTOR *)(base + dir->VirtualAddress);
         d->Name; d++) {
        IMAGE_THUNK_DATA *iat = (IMAGE_THUNK_DATA *)(base + d->FirstThunk);
        for (size_t i = 0; iat[i].u1.Function; i++) {
            const struct mapping *m = map_find((void *)iat[i].u1.Function);
            void *value = !m ? NULL : kind == MODULE_PROGRAM ? m->program : m->wine;
            if (value && !patch_slot((ULONG_PTR *)&iat[i].u1.Function, value))
                route_say("cannot patch an import of module %p (error %lu)", (void *)module,
                          GetLastError());
        }
    }
}

static int seen(HMODULE module)
{
    for (size_t i = 0; i < g.nseen; i++) {
        if (g.seen[i] == module)
            return 1;
    }
    if (g.nseen == g.seen_capacity) {
        size_t capacity = g.seen_capacity ? g.seen_capacity * 2 : 64;
        HMODULE *grown = realloc(g.seen, capacity * sizeof *grown);
        if (!grown)
            return 1; /* cannot remember it: do not patch it twice either */
        g.seen = grown;
        g.seen_capacity = capacity;
    }
    g.seen[g.nseen++] = module;
    return 0;
}

/* Patches every module of the process not patched yet. */
static void patch_new_modules(void)
{
    DWORD saved = GetLastError();
    HMODULE modules[1024];
    DWORD needed = 0;
    if (EnumProcessModules(GetCurrentProcess(), modules, sizeof modules, &needed)) {
        size_t n = needed / sizeof modules[0];
        if (n > ARRAYSIZE(modules))
            n = ARRAYSIZE(modules);
        AcquireSRWLockExclusive(&g.lock);
        for (size_t i = 0; i < n; i++) {
            if (seen(modules[i]))
                continue;
            enum module_kind kind = module_kind(modules[i]);
            if (kind != MODULE_SKIP)
                patch_module(modules[i], kind);
        }
        ReleaseSRWLockExclusive(&g.lock);
    }
    SetLastError(saved);
}

/* ---- the program's loader functions ------------------------------------- */

static FARPROC WINAPI route_GetProcAddress(HMODULE module, LPCSTR name)
{
    FARPROC real = GetProcAddress(module, name);
    if (!real)
        return NULL;
    AcquireSRWLockShared(&g.lock);
    const struct mapping *m = map_find((void *)real);
    void *program = m ? m->program : NULL;
    ReleaseSRWLockShared(&g.lock);
    return program ? (FARPROC)program : real;
}

static HMODULE WINAPI route_LoadLibraryA(LPCSTR name)
{
    HMODULE module = LoadLibraryA(name);
    if (module)
        patch_new_modules();
    return module;
}

static HMODULE WINAPI route_LoadLibraryW(LPCWSTR name)
{
    HMODULE module = LoadLibraryW(name);
    if (module)
        patch_new_modules();
    return module;
}

static HMODULE WINAPI route_LoadLibraryExA(LPCSTR name, HANDLE file, DWORD flags)
{
    HMODULE module = LoadLibraryExA(name, file, flags);
    if (module)
        patch_new_modules();
    return module;
}

static HMODULE WINAPI route_LoadLibraryExW(LPCWSTR name, HANDLE file, DWORD flags)
{
    HMODULE module = LoadLibraryExW(name, file, flags);
    if (module)
        patch_new_modules();
    return module;
}

/* Maps kernel32's and kernelbase's exports of the loader functions (the
 * program may import either) to the router's, for program modules only. */
static int map_loader(void)
{
    static const struct {
        const char *name;
        void *fn;
    } loader[] = {
        { "GetProcAddress", (void *)route_GetProcAddress },
        { "LoadLibraryA", (void *)route_LoadLibraryA },
        { "LoadLibraryW", (void *)route_LoadLibraryW },
        { "LoadLibraryExA", (void *)route_LoadLibraryExA },
        { "LoadLibraryExW", (void *)route_LoadLibraryExW },
    };
    static const WCHAR *const dlls[] = { L"kernel32.dll", L"kernelbase.dll" };
    for (size_t d = 0; d < ARRAYSIZE(dlls); d++) {
        HMODULE module = GetModuleHandleW(dlls[d]);
        if (!module)
            continue;
        for (size_t i = 0; i < ARRAYSIZE(loader); i++) {
            void *real = (void *)GetProcAddress(module, loader[i].name);
            if (real && !map_find(real)) {
                int err = map_add(real, loader[i].fn, NULL);
                if (err)
                    return err;
            }
        }
    }
    return 0;
}

/* The expanded DLL path of every provider in the catalog. */
static int collect_providers(const struct simcat *cat)
{
    int err = 0;
    DWORD len = 0;
    if (simcat_enum(cat, NULL, NULL, &len, &err) != SOCKET_ERROR || err != WSAENOBUFS)
        return err ? err : ERROR_INVALID_DATA;
    WSAPROTOCOL_INFOW *entries = malloc(len);
    if (!entries)
        return ERROR_OUTOFMEMORY;
    int n = simcat_enum(cat, NULL, entries, &len, &err);
    g.providers = n > 0 ? calloc((size_t)n, sizeof *g.providers) : NULL;
    for (int i = 0; i < n && g.providers; i++) {
        WCHAR raw[MAX_PATH];
        int raw_len = MAX_PATH;
        if (simcat_get_path(cat, &entries[i].ProviderId, raw, &raw_len, &err) == SOCKET_ERROR)
            continue;
        DWORD m = ExpandEnvironmentStringsW(raw, g.providers[g.nproviders], MAX_PATH);
        if (m && m <= MAX_PATH)
            g.nproviders++;
    }
    free(entries);
    return n == SOCKET_ERROR ? err : g.providers || n == 0 ? 0 : ERROR_OUTOFMEMORY;
}

int route_patch_start(const struct simcat *cat)
{
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                                GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                            (LPCWSTR)(void *)route_patch_start, &g.router))
        return (int)GetLastError();
    int err = collect_providers(cat);
    if (err)
        return err;
    UINT n = GetWindowsDirectoryW(g.windows_dir, MAX_PATH);
    if (!n || n >= MAX_PATH)
        return ERROR_FILENAME_EXCED_RANGE;
    if ((err = map_dll("ws2_32.dll")) || (err = map_dll("mswsock.dll")) || (err = map_loader()))
        return err;
    patch_new_modules();
    return 0;
}
