/*
 * ctab_fuzz.c - libFuzzer target for the connection table.
 *
 * The input is decoded into a sequence of operations (insert, replace,
 * set_peer with a current, stale or wildcard gen, forget, mark_volatile,
 * lookup, remove, remove_if with the current or another instance's gen,
 * bulk insert/remove for growth, inserts whose allocations fail) on a small
 * key space, and every answer, gens included, is checked against a
 * plain-array model.  The
 * key space mixes keys that fold to the same 32 bits (long probe clusters,
 * backward shifts across them) with a wider range of handle-like keys (the
 * index and its groups' blocks grow).
 *
 * Built with the counting, failure-injecting allocator
 * (tests/unit/ctab_test_alloc.c), so memory accounting and leaks are checked
 * too.  Any mismatch aborts with a message.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conntable.h"
#include "ctab_test_alloc.h"

#define NARROW_KEYS 64u  /* 16 groups of 4 keys with the same 32-bit fold */
#define WIDE_KEYS 2048u
#define KEYS (NARROW_KEYS + WIDE_KEYS)

struct model {
    int present;
    uint8_t provider, state, len;
    uint8_t peer[PLSP_PEER_MAX];
    plsp_gen gen;   /* the latest write's */
    plsp_gen birth; /* the gen of the insert that made this instance */
};

struct fuzz {
    const uint8_t *data;
    size_t size, pos;
    struct plsp_ctab *t;
    struct model m[KEYS];
    size_t count;
    plsp_gen next_gen; /* the next write's gen: one table-wide counter */
    int have_gen;      /* learnt from the first insert */
    size_t live_before;
};

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("ctab_fuzz: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* Input bytes; zeros once it runs out. */
static uint8_t next_byte(struct fuzz *f)
{
    return f->pos < f->size ? f->data[f->pos++] : 0;
}

static uint64_t key_at(size_t k)
{
    if (k < NARROW_KEYS) {
        uint64_t member = k & 3u, group = k >> 2;
        /* hi ^ lo is the same for the 4 members of a group. */
        return (member << 32) | ((0x40u + 4u * group) ^ member);
    }
    return 0x10000u + 4u * (uint64_t)(k - NARROW_KEYS);
}

static size_t next_key(struct fuzz *f)
{
    uint8_t b = next_byte(f);

    if (b & 0x80u)
        return NARROW_KEYS + ((((size_t)b & 0x7fu) << 8 | next_byte(f)) % WIDE_KEYS);
    return b % NARROW_KEYS;
}

/* Compares key k's record in the table with the model. */
static void check_key(struct fuzz *f, size_t k)
{
    const struct model *m = &f->m[k];
    uint64_t key = key_at(k);
    struct plsp_conn c;
    uint8_t want[PLSP_PEER_MAX] = {0};
    int r;

    memset(&c, 0xa5, sizeof(c));
    r = plsp_ctab_lookup(f->t, key, &c);
    if (r != m->present)
        die("key %#llx: lookup returned %d, model says %d", (unsigned long long)key, r, m->present);
    if (!r)
        return;
    memcpy(want, m->peer, m->len);
    if (c.gen != m->gen || c.provider != m->provider || c.state != m->state ||
        c.peer_len != m->len || c.reserved != 0 || memcmp(c.peer, want, sizeof(want)) != 0)
        die("key %#llx: record gen %#llx provider %u state %u len %u, model gen %#llx provider %u "
            "state %u len %u (or peer bytes differ)",
            (unsigned long long)key, (unsigned long long)c.gen, c.provider, c.state, c.peer_len,
            (unsigned long long)m->gen, m->provider, m->state, m->len);
}

/* The gen scheme (conntable.h): every write that succeeds, insert or not,
 * takes the next value of one table-wide 64-bit counter.  The first insert
 * tells where the counter starts (builds may choose it). */
static void expect_write_gen(struct fuzz *f, size_t k, int insert)
{
    struct plsp_conn c;
    uint64_t key = key_at(k);

    if (plsp_ctab_lookup(f->t, key, &c) != 1)
        die("key %#llx: not found right after a write", (unsigned long long)key);
    if (!f->have_gen) {
        f->next_gen = c.gen;
        f->have_gen = 1;
    }
    if (c.gen != f->next_gen)
        die("key %#llx: write gave gen %#llx, expected %#llx", (unsigned long long)key,
            (unsigned long long)c.gen, (unsigned long long)f->next_gen);
    f->m[k].gen = f->next_gen++;
    if (insert)
        f->m[k].birth = f->m[k].gen;
    check_key(f, k);
}

static void check_all(struct fuzz *f)
{
    size_t k;

    for (k = 0; k < KEYS; k++)
        check_key(f, k);
    if (plsp_ctab_count(f->t) != f->count)
        die("count %zu, model %zu", plsp_ctab_count(f->t), f->count);
    if (plsp_ctab_memory(f->t) != ctab_test_live_bytes() - f->live_before)
        die("memory %zu, allocator %zu", plsp_ctab_memory(f->t),
            ctab_test_live_bytes() - f->live_before);
}

static void do_insert(struct fuzz *f, size_t k, uint8_t provider, long fail_at)
{
    size_t mem = plsp_ctab_memory(f->t);
    int r;

    ctab_test_fail_after(fail_at);
    r = plsp_ctab_insert(f->t, key_at(k), provider);
    ctab_test_fail_after(-1);
    if (r == -1) {
        /* Only an injected failure may fail an insert, and only one that
         * needed memory; the table must be untouched. */
        if (fail_at < 0 || f->m[k].present)
            die("key %#llx: insert failed without cause", (unsigned long long)key_at(k));
        if (plsp_ctab_memory(f->t) != mem || plsp_ctab_count(f->t) != f->count)
            die("failed insert changed memory %zu -> %zu or count %zu -> %zu", mem,
                plsp_ctab_memory(f->t), f->count, plsp_ctab_count(f->t));
        check_key(f, k);
        return;
    }
    if (r != 0)
        die("insert returned %d", r);
    if (!f->m[k].present)
        f->count++;
    f->m[k].present = 1;
    f->m[k].provider = provider;
    f->m[k].state = PLSP_PEER_UNKNOWN;
    f->m[k].len = 0;
    expect_write_gen(f, k, 1);
}

static void do_set_peer(struct fuzz *f, size_t k)
{
    struct model *m = &f->m[k];
    uint8_t mode = next_byte(f), peer[PLSP_PEER_MAX + 8];
    size_t len = next_byte(f) % (PLSP_PEER_MAX + 3), i;
    plsp_gen gen;
    int want, r;

    for (i = 0; i < len; i++)
        peer[i] = next_byte(f);
    switch (mode % 5) {
    case 0: gen = PLSP_ANY_GEN; break;
    case 1: gen = m->gen; break;                                /* current */
    case 2: gen = m->gen - 1u - (mode >> 3); break;             /* an older write */
    case 3: gen = m->gen - 0x100u * (1u + (mode >> 3)); break;   /* much older */
    default: gen = f->have_gen ? f->next_gen : 1u; break;       /* not yet made */
    }
    want = m->present && len >= 1 && len <= PLSP_PEER_MAX &&
           (gen == PLSP_ANY_GEN || gen == m->gen);
    r = plsp_ctab_set_peer(f->t, key_at(k), gen, peer, len);
    if (r != want)
        die("key %#llx: set_peer(gen %#llx, len %zu) returned %d, model %d (gen %#llx, present %d)",
            (unsigned long long)key_at(k), (unsigned long long)gen, len, r, want,
            (unsigned long long)m->gen, m->present);
    if (r) {
        m->state = PLSP_PEER_KNOWN;
        m->len = (uint8_t)len;
        memcpy(m->peer, peer, len);
        expect_write_gen(f, k, 0);
    } else {
        check_key(f, k);
    }
}

/* forget_peer (to UNKNOWN) or mark_volatile (to VOLATILE): no peer. */
static void do_unset(struct fuzz *f, size_t k, int volatile_)
{
    int r = volatile_ ? plsp_ctab_mark_volatile(f->t, key_at(k)) : plsp_ctab_forget_peer(f->t, key_at(k));

    if (r != f->m[k].present)
        die("key %#llx: %s returned %d, model %d", (unsigned long long)key_at(k),
            volatile_ ? "mark_volatile" : "forget", r, f->m[k].present);
    if (r) {
        f->m[k].state = volatile_ ? PLSP_PEER_VOLATILE : PLSP_PEER_UNKNOWN;
        f->m[k].len = 0;
        expect_write_gen(f, k, 0);
    } else {
        check_key(f, k);
    }
}

static void do_remove(struct fuzz *f, size_t k)
{
    int r = plsp_ctab_remove(f->t, key_at(k));

    if (r != f->m[k].present)
        die("key %#llx: remove returned %d, model %d", (unsigned long long)key_at(k), r,
            f->m[k].present);
    if (r) {
        f->m[k].present = 0;
        f->count--;
    }
    check_key(f, k);
}

/* remove_if deletes only the instance that the gen was read from: the
 * record's, if no insert came after it (birth <= gen <= the latest gen). */
static void do_remove_if(struct fuzz *f, size_t k)
{
    struct model *m = &f->m[k];
    uint8_t mode = next_byte(f);
    plsp_gen gen;
    int want, r;

    switch (mode % 6) {
    case 0: gen = m->gen; break;                                 /* as read */
    case 1: gen = m->birth; break;                               /* read at the insert */
    case 2: gen = m->gen - (1u + (mode >> 3)); break;            /* an older write */
    case 3: gen = m->birth - (1u + (mode >> 3)); break;          /* an older instance */
    case 4: gen = f->have_gen ? f->next_gen : 1u; break;        /* not yet made */
    default: gen = PLSP_ANY_GEN; break;
    }
    want = m->present && m->birth <= gen && gen <= m->gen;
    r = plsp_ctab_remove_if(f->t, key_at(k), gen);
    if (r != want)
        die("key %#llx: remove_if(gen %#llx) returned %d, model %d (gen %#llx, birth %#llx, "
            "present %d)", (unsigned long long)key_at(k), (unsigned long long)gen, r, want,
            (unsigned long long)m->gen, (unsigned long long)m->birth, m->present);
    if (r) {
        m->present = 0;
        f->count--;
    }
    check_key(f, k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz f;
    size_t k, n, i;
    uint8_t op;

    memset(&f, 0, sizeof(f));
    f.data = data;
    f.size = size;
    f.live_before = ctab_test_live_bytes();
    ctab_test_fail_after(-1);
    f.t = plsp_ctab_create();
    if (f.t == NULL)
        die("create failed");

    while (f.pos < f.size) {
        op = next_byte(&f);
        switch (op % 12) {
        case 0: case 1:
            k = next_key(&f);
            do_insert(&f, k, next_byte(&f), -1);
            break;
        case 2:
            /* An insert whose first, second or third allocation fails. */
            k = next_key(&f);
            do_insert(&f, k, next_byte(&f), (long)(op / 12 % 3));
            break;
        case 3: case 4:
            do_set_peer(&f, next_key(&f));
            break;
        case 5:
            do_unset(&f, next_key(&f), 0);
            break;
        case 6:
            do_unset(&f, next_key(&f), 1);
            break;
        case 7:
            do_remove(&f, next_key(&f));
            break;
        case 8:
            do_remove_if(&f, next_key(&f));
            break;
        case 9:
            check_key(&f, next_key(&f));
            break;
        case 10:
            /* A run of wide keys: in (growth) or out (long deletions). */
            k = NARROW_KEYS + (((size_t)next_byte(&f) << 8 | next_byte(&f)) % WIDE_KEYS);
            n = next_byte(&f);
            for (i = 0; i < n && k + i < KEYS; i++) {
                if (op & 0x80u)
                    do_remove(&f, k + i);
                else
                    do_insert(&f, k + i, (uint8_t)i, -1);
            }
            break;
        default:
            check_all(&f);
            break;
        }
    }
    check_all(&f);
    plsp_ctab_destroy(f.t);
    if (ctab_test_live_bytes() != f.live_before)
        die("destroy left %zu bytes allocated", ctab_test_live_bytes() - f.live_before);
    return 0;
}
