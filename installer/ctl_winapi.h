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

/* The process's own catalog (the 64-bit one for the x64 tool), and the
 * 32-bit catalog through the ...32 functions (x64 tool only). */
extern struct ctl_wsc ctl_wsc_native, ctl_wsc_32;
/* Whether WSCInstallProviderAndChains exists here (reported by --help). */
extern int ctl_have_install_and_chains;

#endif
