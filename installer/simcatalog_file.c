/*
 * simcatalog_file.c - saving and loading catalog snapshots (the format is
 * described in simcatalog.h).
 *
 * The text is built in memory under the catalog's lock and written without
 * it; a file is parsed completely into a new catalog before it is handed
 * out, so a bad file never yields half a catalog.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "simcatalog_internal.h"

#define SIMCAT_FILE_MAGIC "peerlsp-simcatalog 1"
/* A catalog file larger than this is not something this code wrote. */
#define SIMCAT_FILE_MAX (16u * 1024u * 1024u)

/* ---- writing ---------------------------------------------------------- */

struct text {
    char *p;
    size_t len, cap;
    int oom;
};

static void text_append(struct text *t, const char *s, size_t n)
{
    if (t->oom)
        return;
    if (!simcat__reserve((void **)&t->p, &t->cap, t->len + n + 1, 1)) {
        t->oom = 1;
        return;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = 0;
}

static void text_printf(struct text *t, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* Every format used here is far shorter than the buffer. */
    if (n < 0 || (size_t)n >= sizeof buf) {
        t->oom = 1;
        return;
    }
    text_append(t, buf, (size_t)n);
}

static void text_guid(struct text *t, const GUID *g)
{
    text_printf(t, "{%08lX-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}", (unsigned long)g->Data1,
                (unsigned)g->Data2, (unsigned)g->Data3, (unsigned)g->Data4[0],
                (unsigned)g->Data4[1], (unsigned)g->Data4[2], (unsigned)g->Data4[3],
                (unsigned)g->Data4[4], (unsigned)g->Data4[5], (unsigned)g->Data4[6],
                (unsigned)g->Data4[7]);
}

static void text_string(struct text *t, const WCHAR *s, size_t max)
{
    text_append(t, "\"", 1);
    for (size_t i = 0; i < max && s[i]; i++) {
        WCHAR c = s[i];
        if (c == L'"' || c == L'\\') {
            char esc[2] = { '\\', (char)c };
            text_append(t, esc, 2);
        } else if (c >= 0x20 && c < 0x7f) {
            char ch = (char)c;
            text_append(t, &ch, 1);
        } else {
            text_printf(t, "\\u%04X", (unsigned)c);
        }
    }
    text_append(t, "\"", 1);
}

static void text_entry(struct text *t, const WSAPROTOCOL_INFOW *e)
{
    const WSAPROTOCOLCHAIN *c = &e->ProtocolChain;
    text_printf(t, "entry %lu ", (unsigned long)e->dwCatalogEntryId);
    text_guid(t, &e->ProviderId);
    text_printf(t, " chain=%d:%lu,%lu,%lu", c->ChainLen, (unsigned long)c->ChainEntries[0],
                (unsigned long)c->ChainEntries[1], (unsigned long)c->ChainEntries[2]);
    text_printf(t, ",%lu,%lu,%lu,%lu", (unsigned long)c->ChainEntries[3],
                (unsigned long)c->ChainEntries[4], (unsigned long)c->ChainEntries[5],
                (unsigned long)c->ChainEntries[6]);
    text_printf(t, " sf1=0x%08lX sf2=0x%08lX sf3=0x%08lX sf4=0x%08lX pf=0x%08lX",
                (unsigned long)e->dwServiceFlags1, (unsigned long)e->dwServiceFlags2,
                (unsigned long)e->dwServiceFlags3, (unsigned long)e->dwServiceFlags4,
                (unsigned long)e->dwProviderFlags);
    text_printf(t, " ver=%d af=%d maxsa=%d minsa=%d type=%d proto=%d", e->iVersion,
                e->iAddressFamily, e->iMaxSockAddr, e->iMinSockAddr, e->iSocketType,
                e->iProtocol);
    text_printf(t, " protomax=%d order=%d sec=%d msgsize=%lu reserved=%lu name=",
                e->iProtocolMaxOffset, e->iNetworkByteOrder, e->iSecurityScheme,
                (unsigned long)e->dwMessageSize, (unsigned long)e->dwProviderReserved);
    text_string(t, e->szProtocol, WSAPROTOCOL_LEN);
    text_append(t, "\n", 1);
}

static void text_catalog(struct text *t, const struct simcat *cat)
{
    text_append(t, SIMCAT_FILE_MAGIC "\n", strlen(SIMCAT_FILE_MAGIC "\n"));
    for (size_t i = 0; i < cat->nproviders; i++) {
        const struct simcat_provider *p = &cat->providers[i];
        text_append(t, "provider ", 9);
        text_guid(t, &p->guid);
        text_printf(t, " categories=0x%08lX path=", (unsigned long)p->categories);
        text_string(t, p->path, MAX_PATH);
        text_append(t, "\n", 1);
    }
    for (size_t i = 0; i < cat->count; i++)
        text_entry(t, &cat->entries[i]);
    for (size_t i = 0; i < cat->napps; i++) {
        const struct simcat_app *a = &cat->apps[i];
        text_printf(t, "app categories=0x%08lX path=", (unsigned long)a->permitted);
        text_string(t, a->path, MAX_PATH);
        text_append(t, " extra=", 7);
        text_string(t, a->extra, SIMCAT_APP_EXTRA_MAX);
        text_append(t, "\n", 1);
    }
}

static int write_whole_file(const wchar_t *file, const char *data, size_t len)
{
    HANDLE h =
        CreateFileW(file, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return (int)GetLastError();
    int err = 0;
    while (len && !err) {
        DWORD chunk = len > 0x10000000u ? 0x10000000u : (DWORD)len, written = 0;
        if (!WriteFile(h, data, chunk, &written, NULL) || written == 0)
            err = (int)GetLastError();
        data += written;
        len -= written;
    }
    if (!err && !FlushFileBuffers(h))
        err = (int)GetLastError();
    if (!CloseHandle(h) && !err)
        err = (int)GetLastError();
    return err ? err : 0;
}

int simcat_save(const struct simcat *cat, const wchar_t *file)
{
    if (!cat || !file)
        return ERROR_INVALID_PARAMETER;

    struct text t = { 0 };
    AcquireSRWLockShared(simcat__cat_lock(cat));
    text_catalog(&t, cat);
    ReleaseSRWLockShared(simcat__cat_lock(cat));
    if (t.oom) {
        free(t.p);
        return ERROR_NOT_ENOUGH_MEMORY;
    }

    size_t flen = wcslen(file);
    wchar_t *tmp = malloc((flen + 5) * sizeof(wchar_t));
    if (!tmp) {
        free(t.p);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    memcpy(tmp, file, flen * sizeof(wchar_t));
    memcpy(tmp + flen, L".tmp", 5 * sizeof(wchar_t));

    int err = write_whole_file(tmp, t.p, t.len);
    if (!err && !MoveFileExW(tmp, file, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
        err = (int)GetLastError();
    if (err)
        DeleteFileW(tmp);
    free(tmp);
    free(t.p);
    return err;
}

/* ---- reading ---------------------------------------------------------- */

/* The parser works on one NUL-terminated line at a time; each helper
 * advances *p past what it consumed and returns 0 when the text does not
 * match. */

static int parse_lit(const char **p, const char *lit)
{
    size_t n = strlen(lit);
    if (strncmp(*p, lit, n))
        return 0;
    *p += n;
    return 1;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Exactly `digits` hex digits. */
static int parse_hex_fixed(const char **p, int digits, unsigned long *out)
{
    unsigned long v = 0;
    for (int i = 0; i < digits; i++) {
        int d = hex_digit((*p)[i]);
        if (d < 0)
            return 0;
        v = (v << 4) | (unsigned long)d;
    }
    *p += digits;
    *out = v;
    return 1;
}

static int parse_hex32(const char **p, DWORD *out)
{
    unsigned long v;
    if (!parse_lit(p, "0x") || !parse_hex_fixed(p, 8, &v))
        return 0;
    *out = (DWORD)v;
    return 1;
}

static int parse_u32(const char **p, DWORD *out)
{
    unsigned long long v = 0;
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (unsigned)(*s - '0');
        if (v > MAXDWORD)
            return 0;
        s++;
    }
    *p = s;
    *out = (DWORD)v;
    return 1;
}

static int parse_int(const char **p, int *out)
{
    int neg = 0;
    DWORD mag;
    if (**p == '-') {
        neg = 1;
        (*p)++;
    }
    if (!parse_u32(p, &mag))
        return 0;
    if (neg ? mag > (DWORD)INT_MAX + 1u : mag > (DWORD)INT_MAX)
        return 0;
    *out = neg ? (int)(0 - (long long)mag) : (int)mag;
    return 1;
}

static int parse_guid(const char **p, GUID *g)
{
    unsigned long v[11];
    static const int widths[11] = { 8, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2 };
    if (!parse_lit(p, "{"))
        return 0;
    for (int i = 0; i < 11; i++) {
        if ((i == 1 || i == 2 || i == 3 || i == 5) && !parse_lit(p, "-"))
            return 0;
        if (!parse_hex_fixed(p, widths[i], &v[i]))
            return 0;
    }
    if (!parse_lit(p, "}"))
        return 0;
    g->Data1 = v[0];
    g->Data2 = (unsigned short)v[1];
    g->Data3 = (unsigned short)v[2];
    for (int i = 0; i < 8; i++)
        g->Data4[i] = (unsigned char)v[3 + i];
    return 1;
}

/* A quoted string into out[cap]; at most cap - 1 characters. */
static int parse_string(const char **p, WCHAR *out, size_t cap)
{
    const char *s = *p;
    size_t n = 0;
    if (*s++ != '"')
        return 0;
    while (*s != '"') {
        WCHAR c;
        if (*s == 0 || (unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f) {
            return 0;
        } else if (*s == '\\') {
            s++;
            if (*s == '"' || *s == '\\') {
                c = (WCHAR)*s++;
            } else if (*s == 'u') {
                unsigned long v;
                s++;
                if (!parse_hex_fixed(&s, 4, &v))
                    return 0;
                c = (WCHAR)v;
            } else {
                return 0;
            }
        } else {
            c = (WCHAR)*s++;
        }
        if (n + 1 >= cap)
            return 0;
        out[n++] = c;
    }
    out[n] = 0;
    *p = s + 1;
    return 1;
}

static int parse_provider(const char *s, struct simcat_provider *rec)
{
    memset(rec, 0, sizeof *rec);
    return parse_guid(&s, &rec->guid) && parse_lit(&s, " categories=") &&
           parse_hex32(&s, &rec->categories) && parse_lit(&s, " path=") &&
           parse_string(&s, rec->path, MAX_PATH) && *s == 0 && simcat__path_valid(rec->path);
}

static int parse_app(const char *s, struct simcat_app *rec)
{
    memset(rec, 0, sizeof *rec);
    return parse_lit(&s, "categories=") && parse_hex32(&s, &rec->permitted) &&
           parse_lit(&s, " path=") && parse_string(&s, rec->path, MAX_PATH) &&
           parse_lit(&s, " extra=") && parse_string(&s, rec->extra, SIMCAT_APP_EXTRA_MAX) &&
           *s == 0 && rec->path[0];
}

static int parse_entry(const char *s, WSAPROTOCOL_INFOW *e)
{
    WSAPROTOCOLCHAIN *c = &e->ProtocolChain;
    memset(e, 0, sizeof *e);
    if (!parse_u32(&s, &e->dwCatalogEntryId) || !parse_lit(&s, " ") ||
        !parse_guid(&s, &e->ProviderId) || !parse_lit(&s, " chain=") ||
        !parse_int(&s, &c->ChainLen) || !parse_lit(&s, ":"))
        return 0;
    for (int i = 0; i < MAX_PROTOCOL_CHAIN; i++) {
        if ((i && !parse_lit(&s, ",")) || !parse_u32(&s, &c->ChainEntries[i]))
            return 0;
    }
    return parse_lit(&s, " sf1=") && parse_hex32(&s, &e->dwServiceFlags1) &&
           parse_lit(&s, " sf2=") && parse_hex32(&s, &e->dwServiceFlags2) &&
           parse_lit(&s, " sf3=") && parse_hex32(&s, &e->dwServiceFlags3) &&
           parse_lit(&s, " sf4=") && parse_hex32(&s, &e->dwServiceFlags4) &&
           parse_lit(&s, " pf=") && parse_hex32(&s, &e->dwProviderFlags) &&
           parse_lit(&s, " ver=") && parse_int(&s, &e->iVersion) && parse_lit(&s, " af=") &&
           parse_int(&s, &e->iAddressFamily) && parse_lit(&s, " maxsa=") &&
           parse_int(&s, &e->iMaxSockAddr) && parse_lit(&s, " minsa=") &&
           parse_int(&s, &e->iMinSockAddr) && parse_lit(&s, " type=") &&
           parse_int(&s, &e->iSocketType) && parse_lit(&s, " proto=") &&
           parse_int(&s, &e->iProtocol) && parse_lit(&s, " protomax=") &&
           parse_int(&s, &e->iProtocolMaxOffset) && parse_lit(&s, " order=") &&
           parse_int(&s, &e->iNetworkByteOrder) && parse_lit(&s, " sec=") &&
           parse_int(&s, &e->iSecurityScheme) && parse_lit(&s, " msgsize=") &&
           parse_u32(&s, &e->dwMessageSize) && parse_lit(&s, " reserved=") &&
           parse_u32(&s, &e->dwProviderReserved) && parse_lit(&s, " name=") &&
           parse_string(&s, e->szProtocol, WSAPROTOCOL_LEN + 1) && *s == 0 &&
           simcat__chain_valid(e);
}

/* Parses a whole file's text (modified in place: lines are cut at '\n'). */
static int parse_catalog(char *text, struct simcat *cat)
{
    char *line = text;
    int first = 1;
    while (*line) {
        char *end = strchr(line, '\n');
        if (!end)
            return ERROR_INVALID_DATA; /* every line ends in LF */
        *end = 0;
        if (end > line && end[-1] == '\r')
            end[-1] = 0; /* tolerate a file that went through a CRLF editor */

        const char *s = line;
        if (first) {
            if (strcmp(s, SIMCAT_FILE_MAGIC))
                return ERROR_INVALID_DATA;
            first = 0;
        } else if (parse_lit(&s, "provider ")) {
            struct simcat_provider rec;
            /* Providers come before entries, once per GUID. */
            if (cat->count || cat->napps || !parse_provider(s, &rec) || simcat__provider_find(cat, &rec.guid))
                return ERROR_INVALID_DATA;
            if (!simcat__reserve((void **)&cat->providers, &cat->pcap, cat->nproviders + 1,
                         sizeof *cat->providers))
                return ERROR_NOT_ENOUGH_MEMORY;
            simcat__provider_insert(cat, &rec);
        } else if (parse_lit(&s, "entry ")) {
            WSAPROTOCOL_INFOW e;
            if (cat->napps || !parse_entry(s, &e) || !simcat__provider_find(cat, &e.ProviderId) ||
                e.dwCatalogEntryId == 0 || simcat__entry_index(cat, e.dwCatalogEntryId) >= 0)
                return ERROR_INVALID_DATA;
            if (!simcat__reserve((void **)&cat->entries, &cat->cap, cat->count + 1,
                                 sizeof *cat->entries))
                return ERROR_NOT_ENOUGH_MEMORY;
            cat->entries[cat->count++] = e;
            if (e.dwCatalogEntryId >= cat->next_id) {
                if (e.dwCatalogEntryId == MAXDWORD)
                    return ERROR_INVALID_DATA;
                cat->next_id = e.dwCatalogEntryId + 1;
            }
        } else if (parse_lit(&s, "app ")) {
            /* Application records come last, once per application. */
            struct simcat_app rec;
            size_t before = cat->napps;
            if (!parse_app(s, &rec))
                return ERROR_INVALID_DATA;
            if (simcat__app_put(cat, &rec))
                return ERROR_NOT_ENOUGH_MEMORY;
            if (cat->napps == before)
                return ERROR_INVALID_DATA; /* named twice */
        } else {
            return ERROR_INVALID_DATA;
        }
        line = end + 1;
    }
    if (first)
        return ERROR_INVALID_DATA; /* empty file */
    /* A provider without entries cannot come out of the WSC calls. */
    for (size_t i = 0; i < cat->nproviders; i++) {
        size_t j = 0;
        while (j < cat->count &&
               simcat__guid_cmp(&cat->entries[j].ProviderId, &cat->providers[i].guid))
            j++;
        if (j == cat->count)
            return ERROR_INVALID_DATA;
    }
    return 0;
}

static int read_whole_file(const wchar_t *file, char **out)
{
    HANDLE h = CreateFileW(file, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return (int)GetLastError();
    int err = 0;
    char *buf = NULL;
    LARGE_INTEGER size;
    if (!GetFileSizeEx(h, &size)) {
        err = (int)GetLastError();
    } else if (size.QuadPart > SIMCAT_FILE_MAX) {
        err = ERROR_INVALID_DATA;
    } else if (!(buf = malloc((size_t)size.QuadPart + 1))) {
        err = ERROR_NOT_ENOUGH_MEMORY;
    } else {
        DWORD got = 0, want = (DWORD)size.QuadPart;
        if (!ReadFile(h, buf, want, &got, NULL))
            err = (int)GetLastError();
        else if (got != want)
            err = ERROR_INVALID_DATA;
        else
            buf[got] = 0;
        /* An embedded NUL would silently end the text early. */
        if (!err && strlen(buf) != got)
            err = ERROR_INVALID_DATA;
    }
    CloseHandle(h);
    if (err) {
        free(buf);
        return err;
    }
    *out = buf;
    return 0;
}

int simcat_load(const wchar_t *file, struct simcat **out)
{
    if (!file || !out)
        return ERROR_INVALID_PARAMETER;
    char *text = NULL;
    int err = read_whole_file(file, &text);
    if (err)
        return err;
    struct simcat *cat = simcat_create();
    if (!cat) {
        free(text);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    err = parse_catalog(text, cat);
    free(text);
    if (err) {
        simcat_destroy(cat);
        return err;
    }
    *out = cat;
    return 0;
}
