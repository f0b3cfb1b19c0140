/*
 * pefile.h - just enough of a PE reader to check what a built DLL promises:
 * machine, DLL characteristics, export names and import module names.
 * Works on either architecture's file from any process.
 */
#ifndef PEERLSP_TESTS_PEFILE_H
#define PEERLSP_TESTS_PEFILE_H

#include <windows.h>

#define PEFILE_MAX_NAMES 64

struct pefile {
    WORD machine;
    WORD characteristics;
    WORD dll_characteristics;
    int export_count;
    char exports[PEFILE_MAX_NAMES][64];
    int import_count;
    char imports[PEFILE_MAX_NAMES][64];
};

/* Returns 0, or a short reason the file is not a readable PE image. */
const char *pefile_read(const WCHAR *path, struct pefile *pe);

#endif
