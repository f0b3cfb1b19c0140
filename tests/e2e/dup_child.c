/*
 * dup_child.c - the child process of test_dup_process: re-creates a socket
 * another process duplicated for it, through the test host and the catalog
 * that process saved, and checks its peer.
 *
 * Usage: dup_child CATALOG_FILE, with one line on standard input:
 *   <WSAPROTOCOL_INFOW as hex> <expected peer as hex> <expected entry id>
 * Exit code 0 only when the socket was re-created (WSASocketW with
 * FROM_PROTOCOL_INFO), is bound to the expected catalog entry, and its
 * getpeername through the host equals the base provider's answer for the
 * same handle and the expected peer; otherwise a code naming the step,
 * with both values on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wshost.h"

enum child_exit {
    CHILD_OK,
    CHILD_USAGE,
    CHILD_INPUT,
    CHILD_CATALOG,
    CHILD_STARTUP,
    CHILD_SOCKET,
    CHILD_ENTRY,
    CHILD_PEER,
    CHILD_BASE_DIFFERS,
    CHILD_CLEANUP
};

/* Reads exactly len bytes of hex from *p; 0 on success. */
static int unhex(const char **p, void *out, size_t len)
{
    unsigned char *o = out;
    for (size_t i = 0; i < len; i++) {
        unsigned int v;
        if (sscanf(*p, "%2x", &v) != 1)
            return -1;
        o[i] = (unsigned char)v;
        *p += 2;
    }
    while (**p == ' ')
        (*p)++;
    return 0;
}

static void show(const char *what, const void *p, int len)
{
    fprintf(stderr, "dup_child: %s (%d bytes):", what, len);
    for (int i = 0; i < len && i < 28; i++)
        fprintf(stderr, " %02x", ((const unsigned char *)p)[i]);
    fprintf(stderr, "\n");
}

int main(int argc, char **argv)
{
    static char line[4096];
    WSAPROTOCOL_INFOW info;
    SOCKADDR_STORAGE want;
    int want_len;
    unsigned long want_entry;
    wchar_t path[MAX_PATH];

    if (argc != 2 || !MultiByteToWideChar(CP_ACP, 0, argv[1], -1, path, MAX_PATH)) {
        fprintf(stderr, "dup_child: usage: dup_child CATALOG_FILE\n");
        return CHILD_USAGE;
    }
    if (!fgets(line, sizeof line, stdin)) {
        fprintf(stderr, "dup_child: no input line\n");
        return CHILD_INPUT;
    }
    const char *p = line;
    memset(&want, 0, sizeof want);
    if (unhex(&p, &info, sizeof info) || sscanf(p, "%d", &want_len) != 1 || want_len <= 0 ||
        want_len > (int)sizeof want || !(p = strchr(p, ' ')) || (p++, unhex(&p, &want, (size_t)want_len)) ||
        sscanf(p, "%lu", &want_entry) != 1) {
        fprintf(stderr, "dup_child: malformed input line\n");
        return CHILD_INPUT;
    }

    struct simcat *cat = NULL;
    int err = simcat_load(path, &cat);
    if (err) {
        fprintf(stderr, "dup_child: simcat_load(%s): %d\n", argv[1], err);
        return CHILD_CATALOG;
    }
    host_set_catalog(cat);
    if ((err = host_startup())) {
        fprintf(stderr, "dup_child: host_startup: %d\n", err);
        return CHILD_STARTUP;
    }
    const struct wsapi *api = host_api();
    SOCKET d = api->WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, &info,
                               0, WSA_FLAG_OVERLAPPED);
    if (d == INVALID_SOCKET) {
        fprintf(stderr, "dup_child: WSASocketW(FROM_PROTOCOL_INFO, entry %lu): error %d\n",
                info.dwCatalogEntryId, api->WSAGetLastError());
        return CHILD_SOCKET;
    }
    DWORD entry = host_socket_entry(d);
    if (entry != want_entry) {
        fprintf(stderr, "dup_child: socket bound to entry %lu, expected %lu\n", entry,
                want_entry);
        return CHILD_ENTRY;
    }
    /* Twice: peerlsp has no record of this socket's peer in this process;
     * neither answer may be anything but the lower provider's. */
    for (int k = 0; k < 2; k++) {
        SOCKADDR_STORAGE a, b;
        int alen = sizeof a, blen = sizeof b, eb = (int)0xdeadbeef;
        memset(&a, 0xcc, sizeof a);
        memset(&b, 0xcc, sizeof b);
        api->WSASetLastError((int)0xdeadbeef);
        int ra = api->getpeername(d, (struct sockaddr *)&a, &alen);
        int ea = ra ? api->WSAGetLastError() : 0;
        int rb = host_lower_getpeername(d, (struct sockaddr *)&b, &blen, &eb);
        if (ra || alen != want_len || memcmp(&a, &want, (size_t)want_len)) {
            fprintf(stderr, "dup_child: answer %d: getpeername %d/%d\n", k, ra, ea);
            show("got", &a, ra ? 0 : alen);
            show("expected", &want, want_len);
            return CHILD_PEER;
        }
        if (rb || blen != alen || memcmp(&a, &b, (size_t)alen)) {
            fprintf(stderr, "dup_child: answer %d: the base provider says %d/%d\n", k, rb,
                    rb ? eb : 0);
            show("through the host", &a, alen);
            show("from the base", &b, rb ? 0 : blen);
            return CHILD_BASE_DIFFERS;
        }
    }
    if (api->closesocket(d) || host_cleanup()) {
        fprintf(stderr, "dup_child: closesocket/cleanup failed: %d\n", api->WSAGetLastError());
        return CHILD_CLEANUP;
    }
    host_set_catalog(NULL);
    simcat_destroy(cat);
    return CHILD_OK;
}
