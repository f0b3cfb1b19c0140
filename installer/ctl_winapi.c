/*
 * ctl_winapi.c - resolves ws2_32's catalog functions at start-up with
 * GetProcAddress, so the tool runs on systems that lack some of them and
 * says which one is missing instead of failing to start.
 *
 * Wine 8 exports WSCUpdateProvider as an unimplemented stub that raises an
 * exception when called, so under Wine (ntdll exports wine_get_version) it
 * is treated as missing. Wine's WSCInstallProvider, WSCDeinstallProvider and
 * WSCWriteProviderOrder return 0 and do nothing; that is caught by the
 * re-read after every change, not here.
 */
#include "ctl_winapi.h"

struct ctl_wsc ctl_wsc_native, ctl_wsc_32;
int ctl_have_install_and_chains;

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
    struct ctl_wsc *n = &ctl_wsc_native;
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
    ctl_have_install_and_chains = GetProcAddress(ws, "WSCInstallProviderAndChains") != NULL;
    if (wine_version) {
        n->update_provider = NULL; /* raises an exception under Wine 8 */
        /* Wine's WSCGetProviderInfo is a stub as well; categories cannot
         * be read there. */
        n->get_provider_info = NULL;
    }
#ifdef _WIN64
    /* The 32-bit catalog. There is no WSCInstallProvider32: installing
     * there takes WSCInstallProvider64_32 (both catalogs at once) or the
     * x86 tool; see docs/peerlsp-ctl.md. */
    struct ctl_wsc *w = &ctl_wsc_32;
    w->enum_protocols = RESOLVE(ws, sWSCEnumProtocols, "WSCEnumProtocols32");
    w->get_provider_path = RESOLVE(ws, sWSCGetProviderPath, "WSCGetProviderPath32");
    w->deinstall_provider = RESOLVE(ws, sWSCDeinstallProvider, "WSCDeinstallProvider32");
    w->update_provider = RESOLVE(ws, sWSCUpdateProvider, "WSCUpdateProvider32");
    w->write_provider_order = RESOLVE(ws, sWSCWriteProviderOrder, "WSCWriteProviderOrder32");
    w->get_provider_info = RESOLVE(ws, sWSCGetProviderInfo, "WSCGetProviderInfo32");
    w->set_provider_info = RESOLVE(ws, sWSCSetProviderInfo, "WSCSetProviderInfo32");
#endif
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
