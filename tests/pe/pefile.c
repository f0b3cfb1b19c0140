/*
 * pefile.c - reads a PE file from disk without loading it.
 */
#include "pefile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct image {
    const BYTE *data;
    DWORD size;
    const IMAGE_SECTION_HEADER *sections;
    WORD section_count;
};

/* File offset of an RVA, or 0 when it is in no section. */
static DWORD rva_to_offset(const struct image *img, DWORD rva)
{
    for (WORD i = 0; i < img->section_count; i++) {
        const IMAGE_SECTION_HEADER *s = &img->sections[i];
        DWORD span = s->Misc.VirtualSize > s->SizeOfRawData ? s->Misc.VirtualSize : s->SizeOfRawData;
        if (rva >= s->VirtualAddress && rva < s->VirtualAddress + span)
            return rva - s->VirtualAddress + s->PointerToRawData;
    }
    return 0;
}

/* A NUL-terminated string at rva, copied into out (bounded), or 0. */
static int copy_string(const struct image *img, DWORD rva, char *out, size_t out_size)
{
    DWORD off = rva_to_offset(img, rva);
    if (!off || off >= img->size)
        return 0;
    size_t n = 0;
    while (off + n < img->size && img->data[off + n] && n + 1 < out_size) {
        out[n] = (char)img->data[off + n];
        n++;
    }
    out[n] = 0;
    return 1;
}

/* len bytes at file offset off, or NULL; offset 0 is "not found" here
 * (rva_to_offset's answer for an RVA in no section). */
static const void *at(const struct image *img, DWORD off, DWORD len)
{
    if (!off || off > img->size || len > img->size - off)
        return NULL;
    return img->data + off;
}

static void read_exports(const struct image *img, const IMAGE_DATA_DIRECTORY *dir,
                         struct pefile *pe)
{
    if (!dir->VirtualAddress)
        return;
    const IMAGE_EXPORT_DIRECTORY *ed =
        at(img, rva_to_offset(img, dir->VirtualAddress), sizeof *ed);
    if (!ed)
        return;
    const DWORD *names = at(img, rva_to_offset(img, ed->AddressOfNames),
                            ed->NumberOfNames * sizeof(DWORD));
    if (!names)
        return;
    for (DWORD i = 0; i < ed->NumberOfNames && pe->export_count < PEFILE_MAX_NAMES; i++) {
        if (copy_string(img, names[i], pe->exports[pe->export_count], sizeof pe->exports[0]))
            pe->export_count++;
    }
}

/* The names of the functions one import descriptor brings in by name. */
static void read_import_functions(const struct image *img, const IMAGE_IMPORT_DESCRIPTOR *d,
                                  const char *module, int pe64, struct pefile *pe)
{
    DWORD thunks = d->OriginalFirstThunk ? d->OriginalFirstThunk : d->FirstThunk;
    DWORD off = rva_to_offset(img, thunks), step = pe64 ? 8 : 4;
    for (;; off += step) {
        const BYTE *t = at(img, off, step);
        if (!t || pe->function_count >= PEFILE_MAX_FUNCTIONS)
            return;
        ULONGLONG v = pe64 ? *(const ULONGLONG *)t : *(const DWORD *)t;
        if (!v)
            return;
        if (v & (pe64 ? IMAGE_ORDINAL_FLAG64 : IMAGE_ORDINAL_FLAG32))
            continue; /* by ordinal: no name */
        char name[80];
        if (!copy_string(img, (DWORD)v + 2, name, sizeof name)) /* past the hint */
            continue;
        snprintf(pe->functions[pe->function_count], sizeof pe->functions[0], "%s!%s", module,
                 name);
        pe->functions[pe->function_count][sizeof pe->functions[0] - 1] = 0;
        pe->function_count++;
    }
}

static void read_imports(const struct image *img, const IMAGE_DATA_DIRECTORY *dir, int pe64,
                         struct pefile *pe)
{
    if (!dir->VirtualAddress)
        return;
    DWORD off = rva_to_offset(img, dir->VirtualAddress);
    for (;;) {
        const IMAGE_IMPORT_DESCRIPTOR *d = at(img, off, sizeof *d);
        if (!d || !d->Name || pe->import_count >= PEFILE_MAX_NAMES)
            return;
        if (copy_string(img, d->Name, pe->imports[pe->import_count], sizeof pe->imports[0])) {
            read_import_functions(img, d, pe->imports[pe->import_count], pe64, pe);
            pe->import_count++;
        }
        off += sizeof *d;
    }
}

static const char *parse(const struct image *base, struct pefile *pe)
{
    struct image img = *base;
    if (img.size < sizeof(IMAGE_DOS_HEADER))
        return "file too small";
    const IMAGE_DOS_HEADER *dos = (const IMAGE_DOS_HEADER *)img.data;
    if (dos->e_magic != IMAGE_DOS_SIGNATURE)
        return "no MZ header";
    const BYTE *nt = at(&img, (DWORD)dos->e_lfanew, sizeof(DWORD) + sizeof(IMAGE_FILE_HEADER));
    if (!nt || *(const DWORD *)nt != IMAGE_NT_SIGNATURE)
        return "no PE header";
    const IMAGE_FILE_HEADER *fh = (const IMAGE_FILE_HEADER *)(nt + sizeof(DWORD));
    const BYTE *opt = (const BYTE *)(fh + 1);
    if (!at(&img, (DWORD)(opt - img.data), fh->SizeOfOptionalHeader))
        return "truncated optional header";
    pe->machine = fh->Machine;
    pe->characteristics = fh->Characteristics;
    img.sections = (const IMAGE_SECTION_HEADER *)(opt + fh->SizeOfOptionalHeader);
    img.section_count = fh->NumberOfSections;
    if (!at(&img, (DWORD)((const BYTE *)img.sections - img.data),
            img.section_count * sizeof(IMAGE_SECTION_HEADER)))
        return "truncated section table";

    for (WORD i = 0; i < img.section_count && pe->section_count < PEFILE_MAX_SECTIONS; i++) {
        memcpy(pe->sections[pe->section_count], img.sections[i].Name, IMAGE_SIZEOF_SHORT_NAME);
        pe->sections[pe->section_count][IMAGE_SIZEOF_SHORT_NAME] = 0;
        pe->section_count++;
    }
    static const char libgcc[] = "libgcc_s";
    for (DWORD i = 0; i + sizeof libgcc - 1 <= img.size && !pe->has_string_libgcc; i++)
        pe->has_string_libgcc = !memcmp(img.data + i, libgcc, sizeof libgcc - 1);

    const IMAGE_DATA_DIRECTORY *dirs;
    DWORD ndirs;
    WORD magic = *(const WORD *)opt;
    if (magic == IMAGE_NT_OPTIONAL_HDR64_MAGIC) {
        const IMAGE_OPTIONAL_HEADER64 *oh = (const IMAGE_OPTIONAL_HEADER64 *)opt;
        pe->dll_characteristics = oh->DllCharacteristics;
        dirs = oh->DataDirectory;
        ndirs = oh->NumberOfRvaAndSizes;
    } else if (magic == IMAGE_NT_OPTIONAL_HDR32_MAGIC) {
        const IMAGE_OPTIONAL_HEADER32 *oh = (const IMAGE_OPTIONAL_HEADER32 *)opt;
        pe->dll_characteristics = oh->DllCharacteristics;
        dirs = oh->DataDirectory;
        ndirs = oh->NumberOfRvaAndSizes;
    } else {
        return "unknown optional header magic";
    }
    if (ndirs <= IMAGE_DIRECTORY_ENTRY_TLS)
        return "too few data directories";
    read_exports(&img, &dirs[IMAGE_DIRECTORY_ENTRY_EXPORT], pe);
    read_imports(&img, &dirs[IMAGE_DIRECTORY_ENTRY_IMPORT], magic == IMAGE_NT_OPTIONAL_HDR64_MAGIC,
                 pe);
    pe->tls_size = dirs[IMAGE_DIRECTORY_ENTRY_TLS].Size;
    return NULL;
}

const char *pefile_read(const WCHAR *path, struct pefile *pe)
{
    memset(pe, 0, sizeof *pe);
    HANDLE f = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (f == INVALID_HANDLE_VALUE)
        return "cannot open file";
    LARGE_INTEGER size;
    const char *why = NULL;
    BYTE *data = NULL;
    DWORD got = 0;
    if (!GetFileSizeEx(f, &size) || size.QuadPart <= 0 || size.QuadPart > 64 * 1024 * 1024) {
        why = "bad file size";
    } else if (!(data = malloc((size_t)size.QuadPart))) {
        why = "out of memory";
    } else if (!ReadFile(f, data, (DWORD)size.QuadPart, &got, NULL) || got != size.QuadPart) {
        why = "read failed";
    } else {
        struct image img = { data, got, NULL, 0 };
        why = parse(&img, pe);
    }
    free(data);
    CloseHandle(f);
    return why;
}
