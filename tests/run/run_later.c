/*
 * run_later.dll - loaded by run_prog.exe with LoadLibrary after it started:
 * its own import of getpeername must be routed too.
 */
#include <winsock2.h>

__declspec(dllexport) int later_getpeername(SOCKET s, struct sockaddr *name, int *namelen)
{
    return getpeername(s, name, namelen);
}
