/*
 * ctl_list.c - `list`: the catalog as `netsh winsock show catalog` shows it,
 * one entry per line, peerlsp's entries marked '*', broken chains '!' with
 * the reason; or JSON for scripts. Exit 2 when a chain is broken.
 */
#include <string.h>

#include "ctl.h"

static void json_string(const WCHAR *s, size_t max)
{
    ctl_out("\"");
    for (size_t i = 0; i < max && s[i]; i++) {
        WCHAR c = s[i];
        if (c == L'"' || c == L'\\')
            ctl_out("\\%c", (char)c);
        else if (c >= 0x20 && c < 0x7f)
            ctl_out("%c", (char)c);
        else
            ctl_out("\\u%04x", (unsigned)c);
    }
    ctl_out("\"");
}

static void json_ascii(const char *s)
{
    ctl_out("\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            ctl_out("\\%c", *s);
        else
            ctl_out("%c", *s);
    }
    ctl_out("\"");
}

static void print_json(const struct ctl_catalog *c, const char *name, const GUID *guid)
{
    ctl_out("{\"catalog\":");
    json_ascii(name);
    ctl_out(",\"entries\":[");
    for (DWORD i = 0; i < c->n; i++) {
        const WSAPROTOCOL_INFOW *e = &c->e[i];
        const struct ctl_provider *p = ctl_catalog_provider(c, &e->ProviderId);
        char g[39], why[192];
        int len = e->ProtocolChain.ChainLen;
        ctl_guid_format(&e->ProviderId, g);
        ctl_out("%s\n{\"id\":%lu,\"name\":", i ? "," : "", (unsigned long)e->dwCatalogEntryId);
        json_string(e->szProtocol, WSAPROTOCOL_LEN);
        ctl_out(",\"guid\":\"%s\",\"chain_len\":%d,\"chain\":[", g, len);
        for (int k = 0; k < len && k < MAX_PROTOCOL_CHAIN; k++)
            ctl_out("%s%lu", k ? "," : "", (unsigned long)e->ProtocolChain.ChainEntries[k]);
        ctl_out("],\"service_flags1\":%lu,\"provider_flags\":%lu,\"af\":%d,\"type\":%d,"
                "\"protocol\":%d,\"path\":",
                (unsigned long)e->dwServiceFlags1, (unsigned long)e->dwProviderFlags,
                e->iAddressFamily, e->iSocketType, e->iProtocol);
        if (p && p->has_path)
            json_string(p->path, MAX_PATH);
        else
            ctl_out("null");
        ctl_out(",\"categories\":%lu,\"peerlsp\":%s,\"broken\":",
                (unsigned long)(p ? p->categories : 0),
                ctl_entry_is_ours(c, e, guid) ? "true" : "false");
        if (ctl_chain_broken(c, e, why, sizeof why))
            json_ascii(why);
        else
            ctl_out("null");
        ctl_out("}");
    }
    ctl_out("\n]}\n");
}

static void print_text(const struct ctl_catalog *c, const char *name, const GUID *guid)
{
    ctl_out("%s: %lu entries (* peerlsp, ! broken chain)\n", name, (unsigned long)c->n);
    ctl_out("   %-6s %-30s %-10s %-10s %s\n", "id", "chain", "flags1", "provflags",
            "name / path");
    for (DWORD i = 0; i < c->n; i++) {
        const WSAPROTOCOL_INFOW *e = &c->e[i];
        const struct ctl_provider *p = ctl_catalog_provider(c, &e->ProviderId);
        char chain[96] = "", why[192];
        int len = e->ProtocolChain.ChainLen, off = 0;
        off = snprintf(chain, sizeof chain, "%s",
                       len == LAYERED_PROTOCOL ? "layered"
                       : len == BASE_PROTOCOL  ? "base"
                                               : "");
        for (int k = 0; len > BASE_PROTOCOL && k < len && k < MAX_PROTOCOL_CHAIN; k++)
            off += snprintf(chain + off, sizeof chain - (size_t)off, "%s%lu", k ? ">" : "",
                            (unsigned long)e->ProtocolChain.ChainEntries[k]);
        int broken = ctl_chain_broken(c, e, why, sizeof why);
        ctl_out("%c%c %-6lu %-30s 0x%08lX 0x%08lX %ls\n", ctl_entry_is_ours(c, e, guid) ? '*' : ' ',
                broken ? '!' : ' ', (unsigned long)e->dwCatalogEntryId, chain,
                (unsigned long)e->dwServiceFlags1, (unsigned long)e->dwProviderFlags,
                e->szProtocol);
        ctl_out("   %-6s %ls\n", "", p && p->has_path ? p->path : L"(no path)");
        if (broken)
            ctl_out("   %-6s BROKEN: %s\n", "", why);
    }
}

int ctl_list(struct ctl_backend *b, const struct ctl_options *o, int json)
{
    struct ctl_catalog c;
    int err = ctl_catalog_read(b, &c);
    if (err)
        return ctl_exit_for_error(err, "reading the catalog");
    if (json)
        print_json(&c, b->name, &o->guid);
    else
        print_text(&c, b->name, &o->guid);
    int broken = 0;
    char why[192];
    for (DWORD i = 0; i < c.n; i++)
        broken += ctl_chain_broken(&c, &c.e[i], why, sizeof why);
    ctl_catalog_free(&c);
    if (broken && !json)
        ctl_err("%d broken chain(s): 'peerlsp-ctl repair' removes peerlsp's own; another "
                "vendor's only with 'peerlsp-ctl repair --orphan ID'.\n",
                broken);
    return broken ? CTL_EXIT_PROBLEMS : CTL_EXIT_OK;
}
