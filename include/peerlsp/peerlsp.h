/*
 * peerlsp.h - what peerlsp.dll, peerlsp-ctl and the tests share.
 *
 * Only constants live here: the provider GUID that identifies peerlsp in the
 * Winsock catalog and the names under which the DLL exports its entry points.
 */
#ifndef PEERLSP_PEERLSP_H
#define PEERLSP_PEERLSP_H

/* {c7924c1b-0bbf-4ce2-bacc-376f63b54c01}: the GUID of peerlsp's hidden
 * layered catalog entry. It never changes between versions: the installer
 * and the DLL find each other's entries by it. */
#define PEERLSP_GUID_INIT \
    { 0xc7924c1b, 0x0bbf, 0x4ce2, { 0xba, 0xcc, 0x37, 0x6f, 0x63, 0xb5, 0x4c, 0x01 } }

/* Name of the layered entry and prefix of the chain entries' names
 * (WSAPROTOCOL_INFOW.szProtocol holds at most WSAPROTOCOL_LEN characters). */
#define PEERLSP_PROVIDER_NAME L"peerlsp"

#define PEERLSP_DLL_NAME L"peerlsp.dll"

#endif /* PEERLSP_PEERLSP_H */
