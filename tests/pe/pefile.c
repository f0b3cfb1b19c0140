/*
 * pefile.c - reads a PE file from disk without loading it.
 */
#include "pefile.h"

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

static void read_imports(const struct image *img, const IMAGE_DATA_DIRECTORY *dir,
                         struct pefile *pe)
{
    if (!dir->VirtualAddress)
        return;
    DWORD off = rva_to_offset(img, dir->VirtualAddress);
    for (;;) {
        const IMAGE_IMPORT_DESCRIPTOR *d = at(img, off, sizeof *d);
        if (!d || !d->Name || pe->import_count >= PEFILE_MAX_NAMES)
            return;
        if (copy_string(img, d->Name, pe->imports[pe->import_count], sizeof pe->imports[0]))
            pe->import_count++;
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

    const IMAGE_DATA_DIRECTORY *dirs;
    WORD magic = *(const WORD *)opt;
    if (magic == IMAGE_NT_OPTIONAL_HDR64_MAGIC) {
        const IMAGE_OPTIONAL_HEADER64 *oh = (const IMAGE_OPTIONAL_HEADER64 *)opt;
        pe->dll_characteristics = oh->DllCharacteristics;
        dirs = oh->DataDirectory;
    } else if (magic == IMAGE_NT_OPTIONAL_HDR32_MAGIC) {
        const IMAGE_OPTIONAL_HEADER32 *oh = (const IMAGE_OPTIONAL_HEADER32 *)opt;
        pe->dll_characteristics = oh->DllCharacteristics;
        dirs = oh->DataDirectory;
    } else {
        return "unknown optional header magic";
    }
    read_exports(&img, &dirs[IMAGE_DIRECTORY_ENTRY_EXPORT], pe);
    read_imports(&img, &dirs[IMAGE_DIRECTORY_ENTRY_IMPORT], pe);
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
