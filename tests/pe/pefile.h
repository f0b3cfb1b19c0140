/*
 * pefile.h - just enough of a PE reader to check what a built DLL promises:
 * machine, DLL characteristics, export names, imported modules and
 * functions, section names, the TLS directory.
 * Works on either architecture's file from any process.
 */
#ifndef PEERLSP_TESTS_PEFILE_H
#define PEERLSP_TESTS_PEFILE_H

#include <windows.h>

#define PEFILE_MAX_NAMES 64
#define PEFILE_MAX_FUNCTIONS 256
#define PEFILE_MAX_SECTIONS 32

struct pefile {
    WORD machine;
    WORD characteristics;
    WORD dll_characteristics;
    int export_count;
    char exports[PEFILE_MAX_NAMES][64];
    int import_count;
    char imports[PEFILE_MAX_NAMES][64];
    /* Functions imported by name, as "module!function". */
    int function_count;
    char functions[PEFILE_MAX_FUNCTIONS][96];
    int section_count;
    char sections[PEFILE_MAX_SECTIONS][IMAGE_SIZEOF_SHORT_NAME + 1];
    DWORD tls_size;   /* size of the TLS directory: 0 when there is none */
    int has_string_libgcc; /* the file holds the bytes "libgcc_s" */
};

/* Fills pe. Returns 0, or a short reason the file is not a readable PE image. */
const char *pefile_read(const WCHAR *path, struct pefile *pe);

#endif
