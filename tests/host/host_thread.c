/*
 * host_thread.c - per-thread state: the last error and the WSATHREADID.
 *
 * ws2_32 keeps WSAGetLastError per thread; the host does the same with its
 * own TLS slot, so that the host's last error and Wine's (which tbase's
 * calls into Wine's sockets change) never mix.
 */
#include "host_internal.h"

static INIT_ONCE tls_once = INIT_ONCE_STATIC_INIT;
static DWORD tls_error = TLS_OUT_OF_INDEXES;
static DWORD tls_thread = TLS_OUT_OF_INDEXES;
static DWORD tls_open_type = TLS_OUT_OF_INDEXES;

static BOOL CALLBACK tls_init(PINIT_ONCE once, PVOID param, PVOID *context)
{
    (void)once;
    (void)param;
    (void)context;
    /* Never freed: the slots outlive every session, like ws2_32's. */
    tls_error = TlsAlloc();
    tls_thread = TlsAlloc();
    tls_open_type = TlsAlloc();
    return tls_error != TLS_OUT_OF_INDEXES && tls_thread != TLS_OUT_OF_INDEXES &&
           tls_open_type != TLS_OUT_OF_INDEXES;
}

static int tls_ready(void)
{
    return InitOnceExecuteOnce(&tls_once, tls_init, NULL, NULL);
}

/* Where the last error lives: the host's own slot (the default), or the
 * thread's Win32 last error, as on Windows, where WSAGetLastError is
 * GetLastError. Set once, before any call, by peerlsp-run's router: an
 * unmodified program reads GetLastError() after a failed socket call. */
static int system_last_error;

void host_use_system_last_error(int on)
{
    system_last_error = on;
}

int host_system_last_error(void)
{
    return system_last_error;
}

void host_set_last_error(int err)
{
    if (system_last_error)
        SetLastError((DWORD)err);
    else if (tls_ready())
        TlsSetValue(tls_error, (void *)(intptr_t)err);
}

int host_last_error(void)
{
    if (system_last_error)
        return (int)GetLastError();
    if (!tls_ready())
        return WSASYSCALLFAILURE;
    /* TlsGetValue sets the thread's Win32 last error; keep it as it was. */
    DWORD saved = GetLastError();
    int err = (int)(intptr_t)TlsGetValue(tls_error);
    SetLastError(saved);
    return err;
}

int host_fail(int err)
{
    /* A provider that fails without saying why is itself broken; ws2_32
     * reports that as WSASYSCALLFAILURE. */
    host_set_last_error(err ? err : WSASYSCALLFAILURE);
    return SOCKET_ERROR;
}

int host_ok(int ret)
{
    if (system_last_error)
        SetLastError(0);
    return ret;
}

SOCKET host_ok_socket(SOCKET s)
{
    host_ok(0);
    return s;
}

SOCKET host_fail_socket(int err)
{
    host_fail(err);
    return INVALID_SOCKET;
}

LPWSATHREADID host_thread_id(void)
{
    if (!tls_ready())
        return NULL;
    DWORD saved = GetLastError();
    LPWSATHREADID id = TlsGetValue(tls_thread);
    if (!id) {
        /* A real handle the provider can queue APCs to, kept for the
         * thread's lifetime (one small allocation and handle per thread
         * that makes calls; a static library sees no thread detach). */
        id = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *id);
        if (id && !DuplicateHandle(GetCurrentProcess(), GetCurrentThread(), GetCurrentProcess(),
                                   &id->ThreadHandle, 0, FALSE, DUPLICATE_SAME_ACCESS)) {
            HeapFree(GetProcessHeap(), 0, id);
            id = NULL;
        }
        if (id && !TlsSetValue(tls_thread, id)) {
            CloseHandle(id->ThreadHandle);
            HeapFree(GetProcessHeap(), 0, id);
            id = NULL;
        }
    }
    SetLastError(saved);
    return id;
}

/* SO_OPENTYPE: ws2_32 keeps it per thread (0 in a new thread) and socket()
 * reads it; the socket argument of the option is ignored. */
int host_open_type(void)
{
    if (!tls_ready())
        return 0;
    DWORD saved = GetLastError();
    int value = (int)(intptr_t)TlsGetValue(tls_open_type);
    SetLastError(saved);
    return value;
}

void host_set_open_type(int value)
{
    if (tls_ready())
        TlsSetValue(tls_open_type, (void *)(intptr_t)value);
}
