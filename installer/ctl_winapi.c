/*
 * ctl_winapi.c - resolves ws2_32's catalog functions at start-up with
 * GetProcAddress, so the tool runs on systems that lack some of them and
 * says which one is missing instead of failing to start.
 *
 * Wine 8 exports WSCUpdateProvider as an unimplemented stub that raises an
 * exception when called, so under Wine (ntdll exports wine_get_version) it
 * is treated as missing. Wine's WSCInstallProvider, WSCDeinstallProvider and
 * WSCWriteProviderOrder return 0 and do nothing; that is caught by the
 * re-read after every change, not here. Wine exports none of the ...32
 * functions nor WSCInstallProvider64_32: to the tool that is a system
 * without a separate 32-bit catalog, like 32-bit Windows.
 *
 * ctl_winapi_override is the tests' seam: they put a table backed by two
 * simulated catalogs in place of the system's, so that the live backend's
 * own code runs against Windows' semantics (tests/ctl/test_ctl_live.c).
 */
#include "ctl_winapi.h"

static struct ctl_winapi system_api;
static const struct ctl_winapi *current = &system_api;

static const char *wine_version;
static int initialised;

#define RESOLVE(mod, type, name) ((type)(void (*)(void))GetProcAddress(mod, name))

void ctl_winapi_init(void)
{
    if (initialised)
        return;
    initialised = 1;
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    if (ntdll) {
        const char *(CDECL * get)(void) =
            RESOLVE(ntdll, const char *(CDECL *)(void), "wine_get_version");
        if (get)
            wine_version = get();
    }
    /* ws2_32 from the system directory only. */
    HMODULE ws = LoadLibraryExW(L"ws2_32.dll", NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
    if (!ws)
        ws = LoadLibraryW(L"ws2_32.dll"); /* systems without LOAD_LIBRARY_SEARCH_* */
    if (!ws)
        return;
    struct ctl_wsc *n = &system_api.native;
    n->enum_protocols = RESOLVE(ws, sWSCEnumProtocols, "WSCEnumProtocols");
    n->get_provider_path = RESOLVE(ws, sWSCGetProviderPath, "WSCGetProviderPath");
    n->install_provider = RESOLVE(ws, sWSCInstallProvider, "WSCInstallProvider");
    n->deinstall_provider = RESOLVE(ws, sWSCDeinstallProvider, "WSCDeinstallProvider");
    n->update_provider = RESOLVE(ws, sWSCUpdateProvider, "WSCUpdateProvider");
    n->write_provider_order = RESOLVE(ws, sWSCWriteProviderOrder, "WSCWriteProviderOrder");
    n->get_provider_info = RESOLVE(ws, sWSCGetProviderInfo, "WSCGetProviderInfo");
    n->set_provider_info = RESOLVE(ws, sWSCSetProviderInfo, "WSCSetProviderInfo");
    /* Wine 8 exports WSCSetApplicationCategory as a stub that returns 0
     * and changes nothing, and has no WSCGetApplicationCategory; exclude
     * then refuses to act, since it could neither read nor confirm. */
    n->set_application_category =
        RESOLVE(ws, sWSCSetApplicationCategory, "WSCSetApplicationCategory");
    n->get_application_category =
        RESOLVE(ws, sWSCGetApplicationCategory, "WSCGetApplicationCategory");
    system_api.install_provider_and_chains =
        RESOLVE(ws, sWSCInstallProviderAndChains, "WSCInstallProviderAndChains");
    if (wine_version) {
        n->update_provider = NULL; /* raises an exception under Wine 8 */
        /* Wine's WSCGetProviderInfo is a stub as well; categories cannot
         * be read there. */
        n->get_provider_info = NULL;
    }
#ifdef _WIN64
    /* The 32-bit catalog. There is no WSCInstallProvider32: installing
     * there takes WSCInstallProvider64_32, which installs into both
     * catalogs at once (ctl_install.c pairs the two catalogs for it). */
    struct ctl_wsc *w = &system_api.wow32;
    w->enum_protocols = RESOLVE(ws, sWSCEnumProtocols, "WSCEnumProtocols32");
    w->get_provider_path = RESOLVE(ws, sWSCGetProviderPath, "WSCGetProviderPath32");
    w->deinstall_provider = RESOLVE(ws, sWSCDeinstallProvider, "WSCDeinstallProvider32");
    w->update_provider = RESOLVE(ws, sWSCUpdateProvider, "WSCUpdateProvider32");
    w->write_provider_order = RESOLVE(ws, sWSCWriteProviderOrder, "WSCWriteProviderOrder32");
    w->get_provider_info = RESOLVE(ws, sWSCGetProviderInfo, "WSCGetProviderInfo32");
    w->set_provider_info = RESOLVE(ws, sWSCSetProviderInfo, "WSCSetProviderInfo32");
    system_api.install_provider64_32 =
        RESOLVE(ws, sWSCInstallProvider, "WSCInstallProvider64_32");
#endif
}

const struct ctl_winapi *ctl_winapi(void)
{
    ctl_winapi_init();
    return current;
}

void ctl_winapi_override(const struct ctl_winapi *api)
{
    ctl_winapi_init();
    current = api ? api : &system_api;
}

int ctl_winapi_overridden(void)
{
    return current != &system_api;
}

const char *ctl_wine_version(void)
{
    ctl_winapi_init();
    return wine_version;
}

int ctl_is_64bit_windows(void)
{
#ifdef _WIN64
    return 1;
#else
    BOOL wow = FALSE;
    return IsWow64Process(GetCurrentProcess(), &wow) && wow;
#endif
}
