/*
 * run_inject.h - how peerlsp-run starts the router inside a program.
 *
 * The program is created suspended. peerlsp-run writes a block into it
 * (code, the router's path, the program's entry point and its first
 * bytes) and replaces the first bytes of the entry point with a jump to
 * the block's code. When the program runs, the loader first loads and
 * starts its static imports as always, then calls the entry point, which
 * now runs the block: LoadLibraryW(router), GetProcAddress
 * ("peerlsp_route_start"), start(block), which restores the entry point's
 * bytes, and a jump back to the entry point with the registers the loader
 * gave it. Any failure ends the process with exit code 125. kernel32 is
 * mapped at the same address in every process, so the parent's addresses
 * of LoadLibraryW, GetProcAddress and ExitProcess are the child's.
 */
#ifndef PEERLSP_TESTS_RUN_INJECT_H
#define PEERLSP_TESTS_RUN_INJECT_H

#include <windows.h>

/* mov rax, imm64; jmp rax */
#define RUN_INJECT_PATCH_SIZE 12

struct run_inject_block {
    BYTE code[160];
    WCHAR router_path[MAX_PATH];
    char start_name[32];
    UINT64 entry;
    BYTE saved[RUN_INJECT_PATCH_SIZE];
};

/* In peerlsp-run: prepares the suspended process. 0 or a Win32 error,
 * with what failed in `what`. */
int run_inject(HANDLE process, const WCHAR *router_path, const char **what);

/* In the router: puts the entry point's first bytes back. 0 or an error. */
int run_inject_restore_entry(const struct run_inject_block *block);

#endif /* PEERLSP_TESTS_RUN_INJECT_H */
