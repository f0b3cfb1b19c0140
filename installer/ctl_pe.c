/*
 * ctl_pe.c - reads a DLL's machine and export names from the file, without
 * loading it: the only way the x64 tool can look at an x86 DLL, and safe for
 * a file that is not what it claims. (Adapted from the tests' PE reader.)
 */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

struct image {
    const BYTE *data;
    DWORD size;
    const IMAGE_SECTION_HEADER *sections;
    WORD nsections;
};

/* File offset of an RVA, or 0 when it is in no section. */
static DWORD rva_to_offset(const struct image *img, DWORD rva)
{
    for (WORD i = 0; i < img->nsections; i++) {
        const IMAGE_SECTION_HEADER *s = &img->sections[i];
        DWORD span = s->Misc.VirtualSize > s->SizeOfRawData ? s->Misc.VirtualSize : s->SizeOfRawData;
        if (rva >= s->VirtualAddress && rva - s->VirtualAddress < span)
            return rva - s->VirtualAddress + s->PointerToRawData;
    }
    return 0;
}

/* len bytes at file offset off, or NULL. */
static const void *at(const struct image *img, DWORD off, DWORD len)
{
    if (!off || off > img->size || len > img->size - off)
        return NULL;
    return img->data + off;
}

/* Whether the NUL-terminated name at rva equals want (bounded by the file). */
static int name_is(const struct image *img, DWORD rva, const char *want)
{
    DWORD off = rva_to_offset(img, rva);
    size_t n = strlen(want);
    const char *s = at(img, off, (DWORD)n + 1);
    return s && !memcmp(s, want, n) && s[n] == 0;
}

static const char *parse(struct image *img, WORD *machine, const char *const *names, int nnames,
                         int *found)
{
    if (img->size < sizeof(IMAGE_DOS_HEADER))
        return "file too small to be a DLL";
    const IMAGE_DOS_HEADER *dos = (const IMAGE_DOS_HEADER *)img->data;
    if (dos->e_magic != IMAGE_DOS_SIGNATURE)
        return "not a PE image (no MZ header)";
    const BYTE *nt = at(img, (DWORD)dos->e_lfanew, sizeof(DWORD) + sizeof(IMAGE_FILE_HEADER));
    if (!nt || *(const DWORD *)nt != IMAGE_NT_SIGNATURE)
        return "not a PE image (no PE header)";
    const IMAGE_FILE_HEADER *fh = (const IMAGE_FILE_HEADER *)(nt + sizeof(DWORD));
    const BYTE *opt = (const BYTE *)(fh + 1);
    if (!at(img, (DWORD)(opt - img->data), fh->SizeOfOptionalHeader) ||
        fh->SizeOfOptionalHeader < sizeof(WORD))
        return "truncated PE header";
    *machine = fh->Machine;
    img->sections = (const IMAGE_SECTION_HEADER *)(opt + fh->SizeOfOptionalHeader);
    img->nsections = fh->NumberOfSections;
    if (!at(img, (DWORD)((const BYTE *)img->sections - img->data),
            img->nsections * (DWORD)sizeof(IMAGE_SECTION_HEADER)))
        return "truncated section table";

    const IMAGE_DATA_DIRECTORY *dir;
    WORD magic = *(const WORD *)opt;
    if (magic == IMAGE_NT_OPTIONAL_HDR64_MAGIC &&
        fh->SizeOfOptionalHeader >= sizeof(IMAGE_OPTIONAL_HEADER64))
        dir = &((const IMAGE_OPTIONAL_HEADER64 *)opt)->DataDirectory[IMAGE_DIRECTORY_ENTRY_EXPORT];
    else if (magic == IMAGE_NT_OPTIONAL_HDR32_MAGIC &&
             fh->SizeOfOptionalHeader >= sizeof(IMAGE_OPTIONAL_HEADER32))
        dir = &((const IMAGE_OPTIONAL_HEADER32 *)opt)->DataDirectory[IMAGE_DIRECTORY_ENTRY_EXPORT];
    else
        return "unknown PE optional header";
    if (!(fh->Characteristics & IMAGE_FILE_DLL))
        return "not a DLL";
    if (!dir->VirtualAddress)
        return NULL; /* no exports at all: found[] stays 0 */
    const IMAGE_EXPORT_DIRECTORY *ed = at(img, rva_to_offset(img, dir->VirtualAddress), sizeof *ed);
    if (!ed)
        return "bad export directory";
    const DWORD *rvas = at(img, rva_to_offset(img, ed->AddressOfNames),
                           ed->NumberOfNames * (DWORD)sizeof(DWORD));
    if (ed->NumberOfNames && !rvas)
        return "bad export name table";
    for (DWORD i = 0; i < ed->NumberOfNames; i++) {
        for (int k = 0; k < nnames; k++) {
            if (!found[k] && name_is(img, rvas[i], names[k]))
                found[k] = 1;
        }
    }
    return NULL;
}

const char *ctl_pe_exports(const WCHAR *path, WORD *machine, const char *const *names,
                           int nnames, int *found)
{
    for (int k = 0; k < nnames; k++)
        found[k] = 0;
    *machine = 0;
    HANDLE f = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (f == INVALID_HANDLE_VALUE)
        return "cannot open the file";
    LARGE_INTEGER size;
    const char *why = NULL;
    BYTE *data = NULL;
    DWORD got = 0;
    if (!GetFileSizeEx(f, &size) || size.QuadPart <= 0 || size.QuadPart > 64 * 1024 * 1024)
        why = "file size not that of a DLL";
    else if (!(data = malloc((size_t)size.QuadPart)))
        why = "out of memory";
    else if (!ReadFile(f, data, (DWORD)size.QuadPart, &got, NULL) || got != size.QuadPart)
        why = "cannot read the file";
    else {
        struct image img = { data, got, NULL, 0 };
        why = parse(&img, machine, names, nnames, found);
    }
    free(data);
    CloseHandle(f);
    return why;
}
