/*
 * test_trace.c - the administrator-only trace switch: with
 * HKLM\SOFTWARE\peerlsp Trace = 1, peerlsp writes a line per call of its
 * own WSP functions to the debugger output; without it, nothing.
 *
 * The test reads the debugger output as a debugger would see it:
 * OutputDebugString raises DBG_PRINTEXCEPTION_C (or _WIDE_C) when no
 * debugger is attached, and a vectored handler sees it first.
 */
#include "e2e.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef DBG_PRINTEXCEPTION_WIDE_C
#define DBG_PRINTEXCEPTION_WIDE_C 0x4001000A
#endif

#define CAPTURE_MAX 32768

static char captured[CAPTURE_MAX];
static volatile LONG captured_len;

static void capture(const char *text, size_t len)
{
    e2e_trace_line_seen(text); /* the --ws2_32 mode's reading of the same lines */
    LONG at = InterlockedExchangeAdd(&captured_len, (LONG)len);
    if (at >= 0 && (size_t)at + len < CAPTURE_MAX)
        memcpy(captured + at, text, len);
}

static LONG CALLBACK debug_output_handler(EXCEPTION_POINTERS *ep)
{
    const EXCEPTION_RECORD *r = ep->ExceptionRecord;
    if (r->ExceptionCode == DBG_PRINTEXCEPTION_C && r->NumberParameters >= 2) {
        const char *text = (const char *)r->ExceptionInformation[1];
        capture(text, strnlen(text, 1024));
        return EXCEPTION_CONTINUE_EXECUTION;
    }
    if (r->ExceptionCode == DBG_PRINTEXCEPTION_WIDE_C && r->NumberParameters >= 2) {
        char narrow[1024];
        int n = WideCharToMultiByte(CP_UTF8, 0, (const WCHAR *)r->ExceptionInformation[1], -1,
                                    narrow, sizeof narrow, NULL, NULL);
        if (n > 0)
            capture(narrow, (size_t)n - 1);
        return EXCEPTION_CONTINUE_EXECUTION;
    }
    return EXCEPTION_CONTINUE_SEARCH;
}

static void set_trace(DWORD value)
{
    LSTATUS st = RegSetKeyValueW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\peerlsp", L"Trace", REG_DWORD,
                                 &value, sizeof value);
    if (st != ERROR_SUCCESS)
        fail_msg("cannot write HKLM\\SOFTWARE\\peerlsp Trace: %ld", (long)st);
}

static void clear_trace(void)
{
    LSTATUS st = RegDeleteKeyValueW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\peerlsp", L"Trace");
    if (st != ERROR_SUCCESS && st != ERROR_FILE_NOT_FOUND)
        fail_msg("cannot delete the Trace value: %ld", (long)st);
}

/* One connection through peerlsp; returns the client handle it used. */
static SOCKET run_traffic(struct e2e_session *s, SOCKADDR_STORAGE *laddr, int *llen)
{
    SOCKET server, l = e2e_listener(s, AF_INET, laddr, llen);
    SOCKET c = e2e_connect_pair(s, l, laddr, *llen, &server);
    SOCKADDR_STORAGE peer;
    int plen = sizeof peer;
    E2E_OK(s->api->getpeername(c, (struct sockaddr *)&peer, &plen));
    /* Traced: the handles peerlsp made, read from its lines (e2e_ws2.c),
     * including the accepted one; none of them once closed. */
    int traced = captured_len > 0, made_l = e2e_trace_made(l), made_c = e2e_trace_made(c),
        made_server = e2e_trace_made(server);
    E2E_OK(s->api->closesocket(c));
    E2E_OK(s->api->closesocket(server));
    E2E_OK(s->api->closesocket(l));
    if (traced != made_l || traced != made_c || traced != made_server)
        fail_msg("handles made by peerlsp read from its trace: listener %d, client %d, "
                 "accepted %d; traced %d",
                 made_l, made_c, made_server, traced);
    if (e2e_trace_made(c) || e2e_trace_made(server) || e2e_trace_made(l))
        fail_msg("a closed handle is still among those peerlsp made");
    return c;
}

static void expect_line(const char *needle)
{
    if (!strstr(captured, needle))
        fail_msg("no trace line containing \"%s\" in:\n%s", needle, captured);
}

static void test_trace_on(void **state)
{
    (void)state;
    struct e2e_session s;
    SOCKADDR_STORAGE laddr;
    int llen;
    char line[160];

    set_trace(1);
    memset(captured, 0, sizeof captured);
    captured_len = 0;
    e2e_start(&s, E2E_LSP_SHARED);
    SOCKET c = run_traffic(&s, &laddr, &llen);
    e2e_stop(&s);
    clear_trace();

    unsigned short port = ntohs(((struct sockaddr_in *)&laddr)->sin_port);
    snprintf(line, sizeof line, "peerlsp: pid %lu ", GetCurrentProcessId());
    expect_line(line);
    snprintf(line, sizeof line, "WSPConnect socket %#llx -> 0 peer 127.0.0.1:%u", (unsigned long long)c, port);
    expect_line(line);
    snprintf(line, sizeof line, "WSPGetPeerName socket %#llx -> 0 peer 127.0.0.1:%u", (unsigned long long)c,
             port);
    expect_line(line);
    snprintf(line, sizeof line, "WSPCloseSocket socket %#llx -> 0", (unsigned long long)c);
    expect_line(line);
    expect_line("WSPSocket socket ");
    expect_line("WSPAccept socket ");
    if (getenv("PEERLSP_SHOW_TRACE"))
        fputs(captured, stderr);
}

static void test_trace_off_by_default(void **state)
{
    (void)state;
    struct e2e_session s;
    SOCKADDR_STORAGE laddr;
    int llen;

    clear_trace();
    memset(captured, 0, sizeof captured);
    captured_len = 0;
    e2e_start(&s, E2E_LSP_SHARED);
    (void)run_traffic(&s, &laddr, &llen);
    e2e_stop(&s);
    if (strstr(captured, "peerlsp:"))
        fail_msg("traced without the registry value:\n%s", captured);

    set_trace(0); /* present but 0: still off */
    e2e_start(&s, E2E_LSP_OWN);
    (void)run_traffic(&s, &laddr, &llen);
    e2e_stop(&s);
    clear_trace();
    if (strstr(captured, "peerlsp:"))
        fail_msg("traced with Trace = 0:\n%s", captured);
}

int main(void)
{
    PVOID handler = AddVectoredExceptionHandler(1, debug_output_handler);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_off_by_default),
        cmocka_unit_test(test_trace_on),
    };
    int failed = cmocka_run_group_tests_name("tracing", tests, NULL, NULL);
    RemoveVectoredExceptionHandler(handler);
    clear_trace();
    return failed;
}
