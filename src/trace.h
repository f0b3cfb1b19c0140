/*
 * trace.h - optional tracing of peerlsp's own WSP functions to the debugger
 * output (OutputDebugString: DebugView, a debugger).
 *
 * Off by default. An administrator turns it on with the DWORD value
 *   HKLM\SOFTWARE\peerlsp  Trace = 1
 * (HKLM: only administrators can write it, so no program can make peerlsp
 * log another program's traffic). It is read at each WSPStartup, so it
 * applies to processes that start Winsock afterwards.
 *
 * Off costs nothing at all: the proc table then holds peerlsp's functions
 * themselves; on, it holds wrappers that call them and log the call.
 */
#ifndef PEERLSP_TRACE_H
#define PEERLSP_TRACE_H

#include <winsock2.h>
#include <ws2spi.h>

/* 1 when the registry value asks for tracing. */
int plsp_trace_configured(void);

/* Replaces peerlsp's own functions in table by tracing wrappers. */
void plsp_trace_wrap(WSPPROC_TABLE *table);

#endif /* PEERLSP_TRACE_H */
