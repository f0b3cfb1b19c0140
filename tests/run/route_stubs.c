/*
 * route_stubs.c - the replacement of an UNSUPPORTED export: a few bytes of
 * x64 code, one per export, that call report_unsupported with the export's
 * name whatever the caller passed, so that a program that calls a function
 * the host cannot route is stopped with a message naming it, never let
 * through to Wine's sockets and never crashed. (The router runs only in
 * 64-bit processes: 32-bit Windows code cannot run on the build machines.)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

#if !defined(__x86_64__)
#error "peerlsp-route.dll is built for x64 only"
#endif

struct stub_target {
    char dll[16];
    char name[64];
};

#define STUB_SIZE 32
#define STUBS_PER_PAGE (4096 / STUB_SIZE)

static SRWLOCK stubs_lock = SRWLOCK_INIT;
static BYTE *page;        /* executable, STUBS_PER_PAGE stubs */
static size_t page_used;

void route_say(const char *fmt, ...)
{
    char line[512];
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, args);
    va_end(args);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    DWORD written;
    HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
    WriteFile(err, "peerlsp-run: ", 13, &written, NULL);
    WriteFile(err, line, (DWORD)n, &written, NULL);
}

static void __attribute__((noreturn)) report_unsupported(const struct stub_target *target)
{
    route_say("%s!%s is not supported through the SPI host; stopping the program (exit %d)",
              target->dll, target->name, ROUTE_EXIT_UNSUPPORTED);
    route_stats_write();
    ExitProcess(ROUTE_EXIT_UNSUPPORTED);
}

/* mov rcx, imm64 (target); mov rax, imm64 (report_unsupported); jmp rax */
static void emit(BYTE *code, const struct stub_target *target)
{
    UINT64 arg = (UINT64)(ULONG_PTR)target;
    UINT64 fn = (UINT64)(ULONG_PTR)report_unsupported;
    code[0] = 0x48, code[1] = 0xB9;
    memcpy(code + 2, &arg, 8);
    code[10] = 0x48, code[11] = 0xB8;
    memcpy(code + 12, &fn, 8);
    code[20] = 0xFF, code[21] = 0xE0;
}

/* mov rax, imm64 (counter); lock inc qword [rax]; mov rax, imm64 (real);
 * jmp rax: the caller's arguments reach `real` untouched. */
static void emit_counting(BYTE *code, volatile LONG64 *counter, void *real)
{
    UINT64 at = (UINT64)(ULONG_PTR)counter;
    UINT64 fn = (UINT64)(ULONG_PTR)real;
    code[0] = 0x48, code[1] = 0xB8;
    memcpy(code + 2, &at, 8);
    code[10] = 0xF0, code[11] = 0x48, code[12] = 0xFF, code[13] = 0x00;
    code[14] = 0x48, code[15] = 0xB8;
    memcpy(code + 16, &fn, 8);
    code[24] = 0xFF, code[25] = 0xE0;
}

/* A STUB_SIZE slot of executable memory; NULL without memory. */
static BYTE *stub_slot(void)
{
    BYTE *code = NULL;
    AcquireSRWLockExclusive(&stubs_lock);
    if (!page || page_used == STUBS_PER_PAGE) {
        page = VirtualAlloc(NULL, 4096, MEM_COMMIT | MEM_RESERVE, PAGE_EXECUTE_READWRITE);
        page_used = 0;
    }
    if (page)
        code = page + page_used++ * STUB_SIZE;
    ReleaseSRWLockExclusive(&stubs_lock);
    return code;
}

void *route_unsupported_stub(const char *dll, const char *name)
{
    struct stub_target *target = calloc(1, sizeof *target);
    BYTE *code = target ? stub_slot() : NULL;
    if (!code) {
        free(target);
        return NULL;
    }
    snprintf(target->dll, sizeof target->dll, "%s", dll);
    snprintf(target->name, sizeof target->name, "%s", name);
    emit(code, target);
    FlushInstructionCache(GetCurrentProcess(), code, STUB_SIZE);
    return code;
}

void *route_counting_stub(volatile LONG64 *counter, void *real)
{
    BYTE *code = stub_slot();
    if (!code)
        return NULL;
    emit_counting(code, counter, real);
    FlushInstructionCache(GetCurrentProcess(), code, STUB_SIZE);
    return code;
}
