/*
 * run_inject.c - see run_inject.h. x64 only.
 */
#include <stddef.h>
#include <string.h>

#include <winternl.h>

#include "route.h"
#include "run_inject.h"

struct emitter {
    BYTE *code;
    size_t at, size;
};

static void bytes(struct emitter *e, const void *b, size_t n)
{
    if (e->at + n <= e->size)
        memcpy(e->code + e->at, b, n);
    e->at += n;
}

/* mov <reg>, imm64: rax 0xB8, rcx 0xB9, rdx 0xBA (REX.W prefix 0x48) */
static void mov_imm64(struct emitter *e, BYTE opcode, UINT64 value)
{
    BYTE op[2] = { 0x48, opcode };
    bytes(e, op, 2);
    bytes(e, &value, 8);
}

/* A short conditional jump to be resolved later; returns its offset. */
static size_t jump_short(struct emitter *e, BYTE opcode)
{
    BYTE op[2] = { opcode, 0 };
    bytes(e, op, 2);
    return e->at - 1;
}

static void resolve(struct emitter *e, size_t at, size_t target)
{
    e->code[at] = (BYTE)(target - (at + 1));
}

static const BYTE call_rax[] = { 0xFF, 0xD0 }, test_rax[] = { 0x48, 0x85, 0xC0 },
                  test_eax[] = { 0x85, 0xC0 }, jmp_rax[] = { 0xFF, 0xE0 },
                  save_args[] = { 0x51, 0x52, 0x41, 0x50, 0x41, 0x51 },       /* push rcx rdx r8 r9 */
                  restore_args[] = { 0x41, 0x59, 0x41, 0x58, 0x5A, 0x59 },    /* pop r9 r8 rdx rcx */
                  frame[] = { 0x48, 0x83, 0xEC, 0x28 },                       /* sub rsp, 0x28 */
                  unframe[] = { 0x48, 0x83, 0xC4, 0x28 },                     /* add rsp, 0x28 */
                  mov_rcx_rax[] = { 0x48, 0x89, 0xC1 },
                  mov_ecx_exit[] = { 0xB9, ROUTE_EXIT_START_FAILED, 0, 0, 0 };

/* The block's code, for a block at `remote`. At the entry point rsp is
 * 8 mod 16; four pushes and 0x28 bytes make it 0 mod 16 for the calls,
 * with the 32 bytes of shadow space the x64 convention asks for. */
static int emit_code(struct run_inject_block *b, UINT64 remote)
{
    HMODULE k32 = GetModuleHandleW(L"kernel32.dll");
    UINT64 load = (UINT64)(ULONG_PTR)GetProcAddress(k32, "LoadLibraryW");
    UINT64 find = (UINT64)(ULONG_PTR)GetProcAddress(k32, "GetProcAddress");
    UINT64 quit = (UINT64)(ULONG_PTR)GetProcAddress(k32, "ExitProcess");
    if (!load || !find || !quit)
        return ERROR_PROC_NOT_FOUND;

    struct emitter e = { b->code, 0, sizeof b->code };
    bytes(&e, save_args, sizeof save_args);
    bytes(&e, frame, sizeof frame);
    mov_imm64(&e, 0xB9, remote + offsetof(struct run_inject_block, router_path));
    mov_imm64(&e, 0xB8, load);
    bytes(&e, call_rax, sizeof call_rax);
    bytes(&e, test_rax, sizeof test_rax);
    size_t fail1 = jump_short(&e, 0x74); /* jz fail */
    bytes(&e, mov_rcx_rax, sizeof mov_rcx_rax);
    mov_imm64(&e, 0xBA, remote + offsetof(struct run_inject_block, start_name));
    mov_imm64(&e, 0xB8, find);
    bytes(&e, call_rax, sizeof call_rax);
    bytes(&e, test_rax, sizeof test_rax);
    size_t fail2 = jump_short(&e, 0x74); /* jz fail */
    mov_imm64(&e, 0xB9, remote);
    bytes(&e, call_rax, sizeof call_rax);
    bytes(&e, test_eax, sizeof test_eax);
    size_t fail3 = jump_short(&e, 0x75); /* jnz fail */
    bytes(&e, unframe, sizeof unframe);
    bytes(&e, restore_args, sizeof restore_args);
    mov_imm64(&e, 0xB8, b->entry);
    bytes(&e, jmp_rax, sizeof jmp_rax);
    size_t fail = e.at;
    bytes(&e, mov_ecx_exit, sizeof mov_ecx_exit);
    mov_imm64(&e, 0xB8, quit);
    bytes(&e, call_rax, sizeof call_rax);
    if (e.at > e.size)
        return ERROR_INSUFFICIENT_BUFFER;
    resolve(&e, fail1, fail);
    resolve(&e, fail2, fail);
    resolve(&e, fail3, fail);
    return 0;
}

static int read_remote(HANDLE process, UINT64 at, void *out, size_t n)
{
    SIZE_T got = 0;
    return ReadProcessMemory(process, (LPCVOID)(ULONG_PTR)at, out, n, &got) && got == n;
}

/* The program's entry point: its image base from the PEB, then the PE
 * header's AddressOfEntryPoint. */
static int find_entry(HANDLE process, UINT64 *entry, const char **what)
{
    PROCESS_BASIC_INFORMATION info;
    ULONG len = 0;
    if (NtQueryInformationProcess(process, ProcessBasicInformation, &info, sizeof info, &len)) {
        *what = "NtQueryInformationProcess";
        return ERROR_ACCESS_DENIED;
    }
    UINT64 image = 0;
    IMAGE_DOS_HEADER dos;
    IMAGE_NT_HEADERS64 nt;
    /* PEB.ImageBaseAddress is at 0x10 on x64. */
    if (!read_remote(process, (UINT64)(ULONG_PTR)info.PebBaseAddress + 0x10, &image, sizeof image) ||
        !image || !read_remote(process, image, &dos, sizeof dos) ||
        dos.e_magic != IMAGE_DOS_SIGNATURE ||
        !read_remote(process, image + (UINT64)dos.e_lfanew, &nt, sizeof nt) ||
        nt.Signature != IMAGE_NT_SIGNATURE) {
        *what = "reading the program's image header";
        return ERROR_BAD_EXE_FORMAT;
    }
    if (nt.OptionalHeader.Magic != IMAGE_NT_OPTIONAL_HDR64_MAGIC ||
        !nt.OptionalHeader.AddressOfEntryPoint) {
        *what = "the program (not a 64-bit executable with an entry point)";
        return ERROR_BAD_EXE_FORMAT;
    }
    *entry = image + nt.OptionalHeader.AddressOfEntryPoint;
    return 0;
}

int run_inject(HANDLE process, const WCHAR *router_path, const char **what)
{
    struct run_inject_block block;
    memset(&block, 0, sizeof block);
    int err = find_entry(process, &block.entry, what);
    if (err)
        return err;
    if (wcslen(router_path) >= ARRAYSIZE(block.router_path)) {
        *what = "the router's path";
        return ERROR_FILENAME_EXCED_RANGE;
    }
    wcscpy(block.router_path, router_path);
    strcpy(block.start_name, "peerlsp_route_start");
    if (!read_remote(process, block.entry, block.saved, sizeof block.saved)) {
        *what = "reading the entry point";
        return (int)GetLastError();
    }

    void *remote = VirtualAllocEx(process, NULL, sizeof block, MEM_COMMIT | MEM_RESERVE,
                                  PAGE_EXECUTE_READWRITE);
    if (!remote) {
        *what = "VirtualAllocEx";
        return (int)GetLastError();
    }
    if ((err = emit_code(&block, (UINT64)(ULONG_PTR)remote))) {
        *what = "building the start code";
        return err;
    }
    SIZE_T written = 0;
    if (!WriteProcessMemory(process, remote, &block, sizeof block, &written) ||
        written != sizeof block) {
        *what = "WriteProcessMemory (block)";
        return (int)GetLastError();
    }

    BYTE patch[RUN_INJECT_PATCH_SIZE] = { 0x48, 0xB8 };
    UINT64 target = (UINT64)(ULONG_PTR)remote;
    memcpy(patch + 2, &target, 8);
    patch[10] = 0xFF, patch[11] = 0xE0;
    DWORD old, ignored;
    LPVOID entry = (LPVOID)(ULONG_PTR)block.entry;
    if (!VirtualProtectEx(process, entry, sizeof patch, PAGE_EXECUTE_READWRITE, &old)) {
        *what = "VirtualProtectEx (entry point)";
        return (int)GetLastError();
    }
    BOOL ok = WriteProcessMemory(process, entry, patch, sizeof patch, &written) &&
              written == sizeof patch;
    err = ok ? 0 : (int)GetLastError();
    VirtualProtectEx(process, entry, sizeof patch, old, &ignored);
    FlushInstructionCache(process, entry, sizeof patch);
    if (err)
        *what = "WriteProcessMemory (entry point)";
    return err;
}

int run_inject_restore_entry(const struct run_inject_block *block)
{
    LPVOID entry = (LPVOID)(ULONG_PTR)block->entry;
    DWORD old, ignored;
    if (!VirtualProtect(entry, sizeof block->saved, PAGE_EXECUTE_READWRITE, &old))
        return (int)GetLastError();
    memcpy(entry, block->saved, sizeof block->saved);
    VirtualProtect(entry, sizeof block->saved, old, &ignored);
    FlushInstructionCache(GetCurrentProcess(), entry, sizeof block->saved);
    return 0;
}
