/*
 * test_dup_process.c - a socket duplicated into ANOTHER process.
 *
 * The parent connects a TCP socket through the host (tbase alone, or tbase
 * under peerlsp in both layouts), starts dup_child.exe, duplicates the
 * socket for the child's process id with WSADuplicateSocketW, saves the
 * catalog to a file and hands the child the protocol info, the expected
 * peer and the catalog entry the new socket must be bound to (through a
 * pipe on its standard input). The child loads the catalog, re-creates the
 * socket with WSASocketW(FROM_PROTOCOL_INFO) - through peerlsp, which has
 * no record of it there - and checks its getpeername against the base
 * provider's answer and the expected peer (see dup_child.c). Under CTest
 * both processes run under Wine; Wine 8 duplicates the socket handle into
 * the target process itself (tbase.h, "Duplicated sockets").
 */
#include "e2e.h"

#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <string.h>

#define CHILD_TIMEOUT_MS 30000

/* Writes len bytes as hex. */
static void put_hex(FILE *f, const void *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        fprintf(f, "%02x", ((const unsigned char *)p)[i]);
}

static void test_dup_into_child(void **state)
{
    struct e2e_session *s = *state;
    const char *layout = e2e_layout_names[s->layout];
    SOCKADDR_STORAGE laddr;
    int llen;
    SOCKET server, l = e2e_listener(s, AF_INET, &laddr, &llen);
    SOCKET c = e2e_connect_pair(s, l, &laddr, llen, &server);
    e2e_peer_matches_base(s, c, 0);

    /* The catalog the child starts from: this session's, ids included. */
    wchar_t dir[MAX_PATH], cat_path[MAX_PATH];
    assert_true(GetTempPathW(MAX_PATH, dir) > 0);
    assert_true(GetTempFileNameW(dir, L"pls", 0, cat_path) != 0);
    int err = simcat_save(s->cat, cat_path);
    if (err)
        fail_msg("simcat_save(%ls): %d", cat_path, err);

    SECURITY_ATTRIBUTES sa = { sizeof sa, NULL, TRUE };
    HANDLE rd, wr;
    assert_true(CreatePipe(&rd, &wr, &sa, 0));
    assert_true(SetHandleInformation(wr, HANDLE_FLAG_INHERIT, 0));
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = rd;
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    wchar_t cmd[2 * MAX_PATH + 8];
    swprintf(cmd, sizeof cmd / sizeof cmd[0], L"\"%ls\" \"%ls\"", PEERLSP_TEST_DUP_CHILD,
             cat_path);
    if (!CreateProcessW(PEERLSP_TEST_DUP_CHILD, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi))
        fail_msg("CreateProcessW(%ls): error %lu", PEERLSP_TEST_DUP_CHILD, GetLastError());
    CloseHandle(rd);

    WSAPROTOCOL_INFOW info;
    memset(&info, 0xcc, sizeof info);
    s->api->WSASetLastError((int)0xdeadbeef);
    int ret = s->api->WSADuplicateSocketW(c, pi.dwProcessId, &info);
    int dup_err = ret ? s->api->WSAGetLastError() : 0;

    /* The child always gets a line (a bad one when duplication failed),
     * so that it never waits for input that will not come. */
    int fd = _open_osfhandle((intptr_t)wr, 0);
    FILE *f = fd >= 0 ? _fdopen(fd, "w") : NULL;
    assert_non_null(f);
    SOCKADDR_STORAGE peer;
    int plen = sizeof peer;
    E2E_OK(s->api->getpeername(c, (struct sockaddr *)&peer, &plen));
    DWORD want_entry = e2e_expected_entry(s, AF_INET, SOCK_STREAM);
    if (ret == 0) {
        put_hex(f, &info, sizeof info);
        fprintf(f, " %d ", plen);
        put_hex(f, &peer, (size_t)plen);
        fprintf(f, " %lu\n", want_entry);
    } else {
        fprintf(f, "duplication failed\n");
    }
    fclose(f);

    DWORD waited = WaitForSingleObject(pi.hProcess, CHILD_TIMEOUT_MS);
    DWORD code = 0xdeadbeef;
    if (waited != WAIT_OBJECT_0)
        TerminateProcess(pi.hProcess, 99);
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    DeleteFileW(cat_path);

    if (ret)
        fail_msg("WSADuplicateSocketW(pid %lu): error %d (%s)", pi.dwProcessId, dup_err, layout);
    if (info.dwCatalogEntryId != want_entry)
        fail_msg("duplicate info names entry %lu, expected %lu (%s)", info.dwCatalogEntryId,
                 want_entry, layout);
    if (waited != WAIT_OBJECT_0)
        fail_msg("dup_child did not finish in %d ms (%s)", CHILD_TIMEOUT_MS, layout);
    if (code != 0)
        fail_msg("dup_child exited with %lu (see its message above; dup_child.c names the "
                 "codes) (%s)",
                 code, layout);

    /* The original still answers, and the peer the child saw was its. */
    e2e_peer_matches_base(s, c, 0);
    e2e_peer_is(s, c, &laddr, llen);
    E2E_OK(s->api->closesocket(c));
    E2E_OK(s->api->closesocket(server));
    E2E_OK(s->api->closesocket(l));
}

int main(void)
{
    static enum e2e_layout layouts[] = { E2E_BASE_ONLY, E2E_LSP_SHARED, E2E_LSP_OWN };
    const struct CMUnitTest tests[] = {
        E2E_LAYOUT_TESTS(test_dup_into_child, layouts),
    };
    return cmocka_run_group_tests_name("peerlsp: a socket duplicated into another process",
                                       tests, NULL, NULL);
}
