/*
 * ctl_main.c - peerlsp-ctl.exe's entry point; everything else is in
 * ctl_core (ctl_cli.c and below) so that the tests can call it directly.
 */
#include <stdlib.h>

#include "ctl.h"

#include <shellapi.h>

int main(void)
{
    int argc = 0;
    WCHAR **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (!argv) {
        fprintf(stderr, "peerlsp-ctl: cannot read the command line: error %lu\n",
                GetLastError());
        return CTL_EXIT_USAGE;
    }
    int rc = ctl_main(argc, argv);
    LocalFree(argv);
    fflush(stdout);
    return rc;
}
