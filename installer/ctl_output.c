/*
 * ctl_output.c - where peerlsp-ctl's messages go. Results and plans go to
 * the output stream, errors (each saying what to do next) to the error
 * stream; tests may redirect both.
 */
#include <stdarg.h>
#include <stdio.h>

#include "ctl.h"

FILE *ctl_out_stream, *ctl_err_stream;

void ctl_out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(ctl_out_stream ? ctl_out_stream : stdout, fmt, ap);
    va_end(ap);
}

void ctl_err(const char *fmt, ...)
{
    va_list ap;
    FILE *f = ctl_err_stream ? ctl_err_stream : stderr;
    fflush(ctl_out_stream ? ctl_out_stream : stdout);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fflush(f);
}
