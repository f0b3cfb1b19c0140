/*
 * ctl_winapi.h - ws2_32's catalog functions, resolved once at start-up
 * (ctl_winapi.c). Each pointer is NULL where the system lacks the export.
 */
#ifndef PEERLSP_CTL_WINAPI_H
#define PEERLSP_CTL_WINAPI_H

#include "ctl.h"

typedef int(WSPAPI *sWSCEnumProtocols)(LPINT, LPWSAPROTOCOL_INFOW, LPDWORD, LPINT);
typedef int(WSPAPI *sWSCGetProviderPath)(LPGUID, WCHAR *, LPINT, LPINT);
typedef int(WSPAPI *sWSCInstallProvider)(LPGUID, const WCHAR *, const WSAPROTOCOL_INFOW *,
                                         DWORD, LPINT);
typedef int(WSPAPI *sWSCInstallProviderAndChains)(LPGUID, const LPWSTR, const LPWSTR, DWORD,
                                                  LPWSAPROTOCOL_INFOW, DWORD, LPDWORD, LPINT);
typedef int(WSPAPI *sWSCDeinstallProvider)(LPGUID, LPINT);
typedef int(WSPAPI *sWSCUpdateProvider)(LPGUID, const WCHAR *, const WSAPROTOCOL_INFOW *, DWORD,
                                        LPINT);
typedef int(WSPAPI *sWSCWriteProviderOrder)(LPDWORD, DWORD);
typedef int(WSPAPI *sWSCGetProviderInfo)(LPGUID, WSC_PROVIDER_INFO_TYPE, PBYTE, size_t *, DWORD,
                                         LPINT);
typedef int(WSPAPI *sWSCSetProviderInfo)(LPGUID, WSC_PROVIDER_INFO_TYPE, PBYTE, size_t, DWORD,
                                         LPINT);

typedef int(WSPAPI *sWSCSetApplicationCategory)(LPCWSTR, DWORD, LPCWSTR, DWORD, DWORD, DWORD *,
                                                LPINT);
typedef int(WSPAPI *sWSCGetApplicationCategory)(LPCWSTR, DWORD, LPCWSTR, DWORD, DWORD *, LPINT);

/* One catalog's set of functions. */
struct ctl_wsc {
    sWSCEnumProtocols enum_protocols;
    sWSCGetProviderPath get_provider_path;
    /* The 32-bit catalog has no WSCInstallProvider32: NULL there. */
    sWSCInstallProvider install_provider;
    sWSCDeinstallProvider deinstall_provider;
    sWSCUpdateProvider update_provider;
    sWSCWriteProviderOrder write_provider_order;
    sWSCGetProviderInfo get_provider_info;
    sWSCSetProviderInfo set_provider_info;
    /* Application categories have no ...32 variants: native set only. */
    sWSCSetApplicationCategory set_application_category;
    sWSCGetApplicationCategory get_application_category;
};

/* Every catalog function the tool uses. */
struct ctl_winapi {
    /* The process's own catalog (the 64-bit one for the x64 tool). */
    struct ctl_wsc native;
    /* The 32-bit catalog of 64-bit Windows through the ...32 functions
     * (x64 tool only; all NULL on 32-bit Windows and under Wine, which
     * export none of them). */
    struct ctl_wsc wow32;
    /* WSCInstallProvider64_32: one provider into BOTH catalogs (same
     * signature as WSCInstallProvider). NULL where missing. */
    sWSCInstallProvider install_provider64_32;
    /* WSCInstallProviderAndChains (the process's own catalog); NULL where
     * missing (Wine does not export it). */
    sWSCInstallProviderAndChains install_provider_and_chains;
};

/* The table in use: the system's (resolved once, Wine's stubs masked), or
 * the one a test put in place. */
const struct ctl_winapi *ctl_winapi(void);

/*
 * TEST SEAM, used only by tests/ctl: replaces the table the live backend
 * calls (ctl_backend_live) with `api`, exactly as given (no Wine
 * masking), until called again; NULL puts the system's table back. The
 * table must outlive its use. Backends made before the call keep the
 * table they were made with.
 */
void ctl_winapi_override(const struct ctl_winapi *api);
/* 1 while a test's table is in place. */
int ctl_winapi_overridden(void);

#endif
