/*
 * test_conntable.c - the connection table (src/conntable.c).
 *
 * Built twice from this one file: for Windows (run under Wine by CTest) and
 * natively (tests/native), both with the counting allocator of
 * ctab_test_alloc.c, so that plsp_ctab_memory() is checked against the bytes
 * really allocated and allocation failures can be injected.
 *
 * Habits: outputs are pre-filled with a sentinel (0xdeadbeef words) so a
 * test tells "written" from "left alone"; every failure message names the
 * case and prints both values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <pthread.h>
#endif

#include "conntable.h"
#include "ctab_test_alloc.h"

#define SENTINEL 0xdeadbeefu

/* ---- helpers ------------------------------------------------------------- */

/* splitmix64, seeded per test so every run does the same thing. */
struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static size_t rng_below(struct rng *r, size_t n)
{
    return (size_t)(rng_next(r) % n);
}

static void shuffle(struct rng *r, uint64_t *v, size_t n)
{
    size_t i, j;
    uint64_t tmp;

    for (i = n; i > 1; i--) {
        j = rng_below(r, i);
        tmp = v[i - 1];
        v[i - 1] = v[j];
        v[j] = tmp;
    }
}

static void fill_sentinel(struct plsp_conn *c)
{
    uint32_t s = SENTINEL;
    size_t i;

    for (i = 0; i + sizeof(s) <= sizeof(*c); i += sizeof(s))
        memcpy((unsigned char *)c + i, &s, sizeof(s));
}

static int is_sentinel(const struct plsp_conn *c)
{
    struct plsp_conn s;

    fill_sentinel(&s);
    return memcmp(&s, c, sizeof(s)) == 0;
}

/* A peer address whose every byte depends on the key and on the length, so
 * a record copied from another key or torn between two writes shows. */
static uint8_t peer_byte(uint64_t key, size_t len, size_t j)
{
    uint64_t z = (key + 0x632BE59BD9B4E019ull * (len + 1)) * 0x9E3779B97F4A7C15ull;
    return (uint8_t)(((z >> ((j & 7) * 8)) + j * 29) | 1u);
}

static void make_peer(uint64_t key, size_t len, uint8_t *out)
{
    size_t j;

    for (j = 0; j < len; j++)
        out[j] = peer_byte(key, len, j);
}

static uint8_t provider_of(uint64_t key)
{
    return (uint8_t)((key >> 2) ^ (key >> 32) ^ 0x5a);
}

/* Looks key up and checks every field.  peer_len 0 with state UNKNOWN means
 * "no peer": all peer bytes must be zero.  Returns the record's gen. */
#define expect_record(t, key, provider, state, peer, len, what) \
    expect_record_(t, key, provider, state, peer, len, what, __LINE__)
static plsp_gen expect_record_(const struct plsp_ctab *t, uint64_t key, uint8_t provider,
                               uint8_t state, const uint8_t *peer, size_t len, const char *what,
                               int line)
{
    struct plsp_conn c;
    uint8_t want[PLSP_PEER_MAX] = {0};
    int r;

    fill_sentinel(&c);
    r = plsp_ctab_lookup(t, key, &c);
    if (r != 1)
        fail_msg("line %d, %s: key %#llx: lookup returned %d, expected 1", line, what,
                 (unsigned long long)key, r);
    if (c.gen == PLSP_ANY_GEN || c.gen == ((plsp_gen)SENTINEL << 32 | SENTINEL))
        fail_msg("line %d, %s: key %#llx: gen %#llx is not a record's gen", line, what,
                 (unsigned long long)key, (unsigned long long)c.gen);
    if (c.provider != provider)
        fail_msg("line %d, %s: key %#llx: provider %u, expected %u", line, what,
                 (unsigned long long)key, c.provider, provider);
    if (c.state != state)
        fail_msg("line %d, %s: key %#llx: state %u, expected %u", line, what,
                 (unsigned long long)key, c.state, state);
    if (c.peer_len != len)
        fail_msg("line %d, %s: key %#llx: peer_len %u, expected %u", line, what,
                 (unsigned long long)key, c.peer_len, (unsigned)len);
    if (c.reserved != 0)
        fail_msg("line %d, %s: key %#llx: reserved %u, expected 0", line, what,
                 (unsigned long long)key, c.reserved);
    if (len > 0)
        memcpy(want, peer, len);
    if (memcmp(c.peer, want, sizeof(want)) != 0) {
        size_t j;
        for (j = 0; j < sizeof(want) && c.peer[j] == want[j]; j++)
            ;
        fail_msg("line %d, %s: key %#llx: peer[%u] is %#x, expected %#x", line, what,
                 (unsigned long long)key, (unsigned)j, c.peer[j], want[j]);
    }
    return c.gen;
}

#define expect_absent(t, key, what) expect_absent_(t, key, what, __LINE__)
static void expect_absent_(const struct plsp_ctab *t, uint64_t key, const char *what, int line)
{
    struct plsp_conn c;
    int r;

    fill_sentinel(&c);
    r = plsp_ctab_lookup(t, key, &c);
    if (r != 0)
        fail_msg("line %d, %s: key %#llx: lookup returned %d, expected 0", line, what,
                 (unsigned long long)key, r);
    if (!is_sentinel(&c))
        fail_msg("line %d, %s: key %#llx: a failed lookup wrote *out", line, what,
                 (unsigned long long)key);
}

static plsp_gen gen_of(const struct plsp_ctab *t, uint64_t key)
{
    struct plsp_conn c;

    fill_sentinel(&c);
    assert_int_equal(plsp_ctab_lookup(t, key, &c), 1);
    return c.gen;
}

static struct plsp_ctab *create_table(void)
{
    struct plsp_ctab *t = plsp_ctab_create();

    assert_non_null(t);
    return t;
}

/* Destroys t and checks that it gave back every byte it had. */
static void destroy_table(struct plsp_ctab *t, size_t live_before)
{
    plsp_ctab_destroy(t);
    if (ctab_test_live_bytes() != live_before)
        fail_msg("after destroy %u bytes are still allocated, expected %u",
                 (unsigned)ctab_test_live_bytes(), (unsigned)live_before);
}

static void expect_memory_matches(const struct plsp_ctab *t, size_t live_before, const char *what)
{
    size_t reported = plsp_ctab_memory(t), real = ctab_test_live_bytes() - live_before;

    if (reported != real)
        fail_msg("%s: plsp_ctab_memory says %u bytes, the allocator has %u", what,
                 (unsigned)reported, (unsigned)real);
}

/* Handle-like keys: what SOCKET values look like (multiples of 4). */
static uint64_t handle_key(size_t i)
{
    return 0x100u + 4u * (uint64_t)i;
}

/* ---- basic behaviour -------------------------------------------------------- */

static void test_empty_table(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    uint8_t peer[4] = {1, 2, 3, 4};

    (void)state;
    assert_int_equal(plsp_ctab_count(t), 0);
    assert_true(plsp_ctab_memory(t) > 0);
    expect_memory_matches(t, live, "empty table");
    expect_absent(t, 0, "empty");
    expect_absent(t, 4, "empty");
    expect_absent(t, UINT64_MAX, "empty");
    assert_int_equal(plsp_ctab_set_peer(t, 4, PLSP_ANY_GEN, peer, sizeof(peer)), 0);
    assert_int_equal(plsp_ctab_forget_peer(t, 4), 0);
    assert_int_equal(plsp_ctab_remove(t, 4), 0);
    assert_int_equal(plsp_ctab_count(t), 0);
    expect_absent(t, 4, "after calls on an absent key");
    destroy_table(t, live);
}

static const struct {
    const char *name;
    uint64_t key;
    uint8_t provider;
} insert_rows[] = {
    {"key 0", 0, 1},
    {"handle 4", 4, 2},
    {"handle 0x1234", 0x1234, 3},
    {"high word only", 1ull << 32, 4},
    {"same low word as handle 4", (1ull << 32) | 4, 5},
    {"same fold as handle 4", (5ull << 32) | 1, 6},
    {"top bit", 1ull << 63, 7},
    {"INVALID_SOCKET (x64)", UINT64_MAX, 8},
    {"INVALID_SOCKET (x86)", UINT32_MAX, 9},
    {"provider 0", 0x8888, 0},
    {"provider 255", 0x9990, 255},
};
#define N_INSERT_ROWS (sizeof(insert_rows) / sizeof(insert_rows[0]))

static void test_insert_lookup(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    plsp_gen gens[N_INSERT_ROWS];
    size_t i, j;

    (void)state;
    for (i = 0; i < N_INSERT_ROWS; i++) {
        if (plsp_ctab_insert(t, insert_rows[i].key, insert_rows[i].provider) != 0)
            fail_msg("row '%s': insert failed", insert_rows[i].name);
        assert_int_equal(plsp_ctab_count(t), i + 1);
    }
    for (i = 0; i < N_INSERT_ROWS; i++)
        gens[i] = expect_record(t, insert_rows[i].key, insert_rows[i].provider, PLSP_PEER_UNKNOWN,
                                NULL, 0, insert_rows[i].name);
    for (i = 0; i < N_INSERT_ROWS; i++)
        for (j = i + 1; j < N_INSERT_ROWS; j++)
            if (gens[i] == gens[j])
                fail_msg("rows '%s' and '%s' share gen %#llx", insert_rows[i].name,
                         insert_rows[j].name, (unsigned long long)gens[i]);
    /* Keys next to the inserted ones are absent. */
    expect_absent(t, 8, "absent neighbour");
    expect_absent(t, (2ull << 32) | 4, "absent, other high word");
    expect_absent(t, UINT64_MAX - 1, "absent, near INVALID_SOCKET");
    expect_memory_matches(t, live, "after inserts");
    destroy_table(t, live);
}

static void test_replace_resets_record(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    uint8_t peer[PLSP_PEER_MAX];
    plsp_gen g0, g1, g2;

    (void)state;
    make_peer(0x40, sizeof(peer), peer);
    assert_int_equal(plsp_ctab_insert(t, 0x40, 1), 0);
    g0 = gen_of(t, 0x40);
    assert_int_equal(plsp_ctab_set_peer(t, 0x40, g0, peer, sizeof(peer)), 1);
    g1 = expect_record(t, 0x40, 1, PLSP_PEER_KNOWN, peer, sizeof(peer), "peer set");

    /* The handle value is reused by a new socket of another provider. */
    assert_int_equal(plsp_ctab_insert(t, 0x40, 7), 0);
    assert_int_equal(plsp_ctab_count(t), 1);
    g2 = expect_record(t, 0x40, 7, PLSP_PEER_UNKNOWN, NULL, 0, "replaced");
    if (g2 == g0 || g2 == g1)
        fail_msg("replace kept an old gen: %#llx (before: %#llx, %#llx)", (unsigned long long)g2,
                 (unsigned long long)g0, (unsigned long long)g1);
    /* An answer fetched for the old socket must not land on the new one. */
    assert_int_equal(plsp_ctab_set_peer(t, 0x40, g1, peer, sizeof(peer)), 0);
    expect_record(t, 0x40, 7, PLSP_PEER_UNKNOWN, NULL, 0, "stale set_peer after replace");
    destroy_table(t, live);
}

static void test_set_peer_gen(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    uint8_t a[16], b[PLSP_PEER_MAX];
    plsp_gen g0, g1, g2, g3, g4;

    (void)state;
    make_peer(0x44, sizeof(a), a);
    make_peer(0x48, sizeof(b), b);
    assert_int_equal(plsp_ctab_insert(t, 0x44, 3), 0);
    g0 = gen_of(t, 0x44);

    assert_int_equal(plsp_ctab_set_peer(t, 0x44, g0, a, sizeof(a)), 1);
    g1 = expect_record(t, 0x44, 3, PLSP_PEER_KNOWN, a, sizeof(a), "set with current gen");
    assert_int_not_equal(g1, g0);

    /* g0 is stale now: refused, record untouched. */
    assert_int_equal(plsp_ctab_set_peer(t, 0x44, g0, b, sizeof(b)), 0);
    assert_int_equal(expect_record(t, 0x44, 3, PLSP_PEER_KNOWN, a, sizeof(a), "stale gen refused"), g1);
    assert_int_equal(plsp_ctab_set_peer(t, 0x44, g1 + 1000u, b, sizeof(b)), 0);
    assert_int_equal(expect_record(t, 0x44, 3, PLSP_PEER_KNOWN, a, sizeof(a), "future gen refused"), g1);

    assert_int_equal(plsp_ctab_set_peer(t, 0x44, g1, b, sizeof(b)), 1);
    g2 = expect_record(t, 0x44, 3, PLSP_PEER_KNOWN, b, sizeof(b), "set again");
    assert_int_not_equal(g2, g1);

    assert_int_equal(plsp_ctab_set_peer(t, 0x44, PLSP_ANY_GEN, a, sizeof(a)), 1);
    g3 = expect_record(t, 0x44, 3, PLSP_PEER_KNOWN, a, sizeof(a), "set with PLSP_ANY_GEN");
    assert_int_not_equal(g3, g2);

    /* A forget is a write too: the gen read before it is stale. */
    assert_int_equal(plsp_ctab_forget_peer(t, 0x44), 1);
    g4 = expect_record(t, 0x44, 3, PLSP_PEER_UNKNOWN, NULL, 0, "forgotten");
    assert_int_not_equal(g4, g3);
    assert_int_equal(plsp_ctab_set_peer(t, 0x44, g3, a, sizeof(a)), 0);
    expect_record(t, 0x44, 3, PLSP_PEER_UNKNOWN, NULL, 0, "set with gen from before forget");

    /* An absent key gets no record from set_peer, whatever the gen. */
    assert_int_equal(plsp_ctab_set_peer(t, 0x4c, PLSP_ANY_GEN, a, sizeof(a)), 0);
    assert_int_equal(plsp_ctab_set_peer(t, 0x4c, g4, a, sizeof(a)), 0);
    expect_absent(t, 0x4c, "set_peer on absent key");
    assert_int_equal(plsp_ctab_count(t), 1);
    destroy_table(t, live);
}

static const struct {
    const char *name;
    size_t len;
    int null_peer;
    int written;
} length_rows[] = {
    {"len 1", 1, 0, 1},
    {"len 16 (sockaddr_in)", 16, 0, 1},
    {"len 28 (sockaddr_in6)", 28, 0, 1},
    {"len 0", 0, 0, 0},
    {"len 29", 29, 0, 0},
    {"len SIZE_MAX", (size_t)-1, 0, 0},
    {"NULL peer", 16, 1, 0},
};

static void test_set_peer_lengths(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    uint8_t peer[64], big[PLSP_PEER_MAX];
    size_t i;

    (void)state;
    make_peer(0x50, sizeof(big), big);
    for (i = 0; i < sizeof(length_rows) / sizeof(length_rows[0]); i++) {
        size_t len = length_rows[i].len;
        plsp_gen g0, g1;
        int r;

        /* Start from a full-length peer, so that a shorter write must clear
         * the bytes after it. */
        assert_int_equal(plsp_ctab_insert(t, 0x50, 2), 0);
        assert_int_equal(plsp_ctab_set_peer(t, 0x50, PLSP_ANY_GEN, big, sizeof(big)), 1);
        g0 = gen_of(t, 0x50);
        make_peer(0x50, len <= sizeof(peer) ? len : sizeof(peer), peer);
        r = plsp_ctab_set_peer(t, 0x50, g0, length_rows[i].null_peer ? NULL : peer, len);
        if (r != length_rows[i].written)
            fail_msg("row '%s': set_peer returned %d, expected %d", length_rows[i].name, r,
                     length_rows[i].written);
        if (r) {
            g1 = expect_record(t, 0x50, 2, PLSP_PEER_KNOWN, peer, len, length_rows[i].name);
            if (g1 == g0)
                fail_msg("row '%s': gen stayed %#llx after a write", length_rows[i].name,
                         (unsigned long long)g1);
        } else {
            g1 = expect_record(t, 0x50, 2, PLSP_PEER_KNOWN, big, sizeof(big), length_rows[i].name);
            if (g1 != g0)
                fail_msg("row '%s': refused write changed gen %#llx to %#llx", length_rows[i].name,
                         (unsigned long long)g0, (unsigned long long)g1);
        }
    }
    destroy_table(t, live);
}

static void test_forget_peer(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    uint8_t peer[16];
    plsp_gen g0, g1, g2;

    (void)state;
    make_peer(0x60, sizeof(peer), peer);
    assert_int_equal(plsp_ctab_insert(t, 0x60, 9), 0);
    assert_int_equal(plsp_ctab_set_peer(t, 0x60, PLSP_ANY_GEN, peer, sizeof(peer)), 1);
    g0 = expect_record(t, 0x60, 9, PLSP_PEER_KNOWN, peer, sizeof(peer), "known");
    assert_int_equal(plsp_ctab_forget_peer(t, 0x60), 1);
    g1 = expect_record(t, 0x60, 9, PLSP_PEER_UNKNOWN, NULL, 0, "forgotten");
    assert_int_not_equal(g1, g0);
    /* Forgetting an unknown peer still counts as a write. */
    assert_int_equal(plsp_ctab_forget_peer(t, 0x60), 1);
    g2 = expect_record(t, 0x60, 9, PLSP_PEER_UNKNOWN, NULL, 0, "forgotten twice");
    assert_int_not_equal(g2, g1);
    assert_int_equal(plsp_ctab_forget_peer(t, 0x64), 0);
    expect_absent(t, 0x64, "forget on absent key");
    assert_int_equal(plsp_ctab_count(t), 1);
    destroy_table(t, live);
}

static void test_remove(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    uint8_t peer[28];
    plsp_gen g0, g1;

    (void)state;
    make_peer(0x74, sizeof(peer), peer);
    assert_int_equal(plsp_ctab_insert(t, 0x70, 1), 0);
    assert_int_equal(plsp_ctab_insert(t, 0x74, 2), 0);
    assert_int_equal(plsp_ctab_insert(t, 0x78, 3), 0);
    assert_int_equal(plsp_ctab_set_peer(t, 0x74, PLSP_ANY_GEN, peer, sizeof(peer)), 1);
    g0 = gen_of(t, 0x74);

    assert_int_equal(plsp_ctab_remove(t, 0x74), 1);
    assert_int_equal(plsp_ctab_count(t), 2);
    expect_absent(t, 0x74, "removed");
    assert_int_equal(plsp_ctab_remove(t, 0x74), 0);
    assert_int_equal(plsp_ctab_forget_peer(t, 0x74), 0);
    assert_int_equal(plsp_ctab_set_peer(t, 0x74, g0, peer, sizeof(peer)), 0);
    expect_absent(t, 0x74, "after calls on the removed key");
    expect_record(t, 0x70, 1, PLSP_PEER_UNKNOWN, NULL, 0, "neighbour");
    expect_record(t, 0x78, 3, PLSP_PEER_UNKNOWN, NULL, 0, "neighbour");

    /* Inserted again (the record is reused): a fresh record. */
    assert_int_equal(plsp_ctab_insert(t, 0x74, 4), 0);
    g1 = expect_record(t, 0x74, 4, PLSP_PEER_UNKNOWN, NULL, 0, "inserted again");
    assert_int_not_equal(g1, g0);
    assert_int_equal(plsp_ctab_count(t), 3);
    destroy_table(t, live);
}

/* Every write takes a gen larger than any before it (one table-wide
 * counter): across the carry into the gen's high word (test builds start the
 * counter 256 writes below 2^32), across socket instances on one handle
 * value, and interleaved with writes to other keys.  PLSP_ANY_GEN is never
 * one. */
static void test_gen_grows(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    uint8_t peer[4] = {1, 2, 3, 4};
    plsp_gen g, prev, other, out;
    unsigned n;
    int crossed = 0;

    (void)state;
    assert_int_equal(plsp_ctab_insert(t, 0x90, 1), 0);
    assert_int_equal(plsp_ctab_insert(t, 0x94, 1), 0);
    prev = gen_of(t, 0x90);
    for (n = 0; n < 0x1000; n++) {
        out = 0;
        switch (n % 5) {
        case 0: assert_int_equal(plsp_ctab_set_peer(t, 0x90, prev, peer, sizeof(peer)), 1); break;
        case 1: assert_int_equal(plsp_ctab_forget_peer(t, 0x90), 1); break;
        case 2: assert_int_equal(plsp_ctab_set_state(t, 0x90, PLSP_PEER_VOLATILE, prev, &out), 1); break;
        case 3: assert_int_equal(plsp_ctab_insert_get(t, 0x90, 1, &out), 0); break;
        default: assert_int_equal(plsp_ctab_mark_volatile(t, 0x90), 1); break;
        }
        g = gen_of(t, 0x90);
        if (g == PLSP_ANY_GEN || g <= prev || (out != 0 && out != g))
            fail_msg("write %u: gen %#llx after %#llx (reported %#llx)", n, (unsigned long long)g,
                     (unsigned long long)prev, (unsigned long long)out);
        crossed |= (prev >> 32) != (g >> 32);
        prev = g;
        /* A write elsewhere takes the next value too. */
        if (n % 7 == 0) {
            assert_int_equal(plsp_ctab_forget_peer(t, 0x94), 1);
            other = gen_of(t, 0x94);
            if (other <= prev)
                fail_msg("write %u to another key: gen %#llx after %#llx", n,
                         (unsigned long long)other, (unsigned long long)prev);
        }
    }
    print_message("gens ran up to %#llx%s\n", (unsigned long long)prev,
                  crossed ? ", across a carry into the high word" : "");
    destroy_table(t, live);
}

/* The issue's scenario: a getpeername reads gen G on an UNKNOWN socket and
 * asks the provider below; meanwhile another thread connects the socket
 * again and again (each connect makes the record VOLATILE, then records the
 * peer: two writes).  The answer fetched with G must be refused however
 * many writes came between (a gen that wraps comes back after 2^k of them),
 * and so must a set_state with G; remove_if with G still removes the
 * record, which is the same socket instance. */
static void test_gen_never_comes_back(void **state)
{
    static const unsigned long writes[] = {
        1, 2, 255, 256, 257, 512, 0xffff, 0x10000, 0x10001, 0x10000 + 0x100, 0x20000,
    };
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    uint8_t stale[16], fresh[PLSP_PEER_MAX];
    size_t row;

    (void)state;
    make_peer(0xA0, sizeof(stale), stale);
    make_peer(0xA4, sizeof(fresh), fresh);
    for (row = 0; row < sizeof(writes) / sizeof(writes[0]); row++) {
        uint64_t key = 0xA00 + 4u * row;
        uint64_t g_read, g_write = 0;
        unsigned long n;
        int last_volatile = 0;

        assert_int_equal(plsp_ctab_insert(t, key, 3), 0);
        g_read = expect_record(t, key, 3, PLSP_PEER_UNKNOWN, NULL, 0, "read before asking below");
        for (n = 0; n < writes[row]; n++) {
            if (n % 2 == 0) {
                uint64_t before = g_write;
                assert_int_equal(plsp_ctab_set_state(t, key, PLSP_PEER_VOLATILE, PLSP_ANY_GEN,
                                                     &g_write), 1);
                assert_true(g_write != before);
                last_volatile = 1;
            } else {
                assert_int_equal(plsp_ctab_set_peer(t, key, g_write, fresh, sizeof(fresh)), 1);
                last_volatile = 0;
            }
        }
        if (plsp_ctab_set_peer(t, key, g_read, stale, sizeof(stale)) != 0)
            fail_msg("%lu writes after the read: set_peer with the gen read before them "
                     "(%#llx) was accepted", writes[row], (unsigned long long)g_read);
        if (plsp_ctab_set_state(t, key, PLSP_PEER_UNKNOWN, g_read, NULL) != 0)
            fail_msg("%lu writes after the read: set_state with the gen read before them "
                     "(%#llx) was accepted", writes[row], (unsigned long long)g_read);
        if (last_volatile)
            expect_record(t, key, 3, PLSP_PEER_VOLATILE, NULL, 0, "after the stale writes");
        else
            expect_record(t, key, 3, PLSP_PEER_KNOWN, fresh, sizeof(fresh),
                          "after the stale writes");
        assert_int_equal(plsp_ctab_remove_if(t, key, g_read), 1);
    }
    assert_int_equal(plsp_ctab_count(t), 0);
    destroy_table(t, live);
}

/* ---- growth and deletion ----------------------------------------------------- */

static void expect_keyed_record(const struct plsp_ctab *t, uint64_t key, const char *what)
{
    uint8_t peer[PLSP_PEER_MAX];
    size_t len = 1 + (size_t)(key % PLSP_PEER_MAX);

    make_peer(key, len, peer);
    expect_record(t, key, provider_of(key), PLSP_PEER_KNOWN, peer, len, what);
}

static void insert_keyed(struct plsp_ctab *t, uint64_t key)
{
    uint8_t peer[PLSP_PEER_MAX];
    size_t len = 1 + (size_t)(key % PLSP_PEER_MAX);

    make_peer(key, len, peer);
    if (plsp_ctab_insert(t, key, provider_of(key)) != 0)
        fail_msg("insert of key %#llx failed", (unsigned long long)key);
    if (plsp_ctab_set_peer(t, key, PLSP_ANY_GEN, peer, len) != 1)
        fail_msg("set_peer of key %#llx failed", (unsigned long long)key);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

#define GROWTH_HANDLES 120000u
#define GROWTH_RANDOM 40000u

static void test_growth(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    struct rng r = {1};
    uint64_t *random_keys = malloc(GROWTH_RANDOM * sizeof(*random_keys));
    size_t i, mem_before;

    (void)state;
    assert_non_null(random_keys);
    for (i = 0; i < GROWTH_HANDLES; i++) {
        insert_keyed(t, handle_key(i));
        /* Spot check while growing: the first and the latest key. */
        if ((i & (i - 1)) == 0) {
            expect_keyed_record(t, handle_key(0), "first key during growth");
            expect_keyed_record(t, handle_key(i), "latest key during growth");
            expect_memory_matches(t, live, "during growth");
        }
    }
    /* Arbitrary 64-bit keys, kept apart from the handle keys (bit 1 set). */
    for (i = 0; i < GROWTH_RANDOM; i++) {
        random_keys[i] = rng_next(&r) | 2u;
        insert_keyed(t, random_keys[i]);
    }
    /* A random key may repeat: count the distinct ones. */
    {
        size_t distinct = GROWTH_HANDLES;
        uint64_t *sorted = malloc(GROWTH_RANDOM * sizeof(*sorted));
        assert_non_null(sorted);
        memcpy(sorted, random_keys, GROWTH_RANDOM * sizeof(*sorted));
        qsort(sorted, GROWTH_RANDOM, sizeof(*sorted), cmp_u64);
        for (i = 0; i < GROWTH_RANDOM; i++)
            distinct += i == 0 || sorted[i] != sorted[i - 1];
        free(sorted);
        assert_int_equal(plsp_ctab_count(t), distinct);
    }
    for (i = 0; i < GROWTH_HANDLES; i++)
        expect_keyed_record(t, handle_key(i), "handle key after growth");
    for (i = 0; i < GROWTH_RANDOM; i++)
        expect_keyed_record(t, random_keys[i], "random key after growth");
    for (i = 0; i < 10000; i++)
        expect_absent(t, handle_key(GROWTH_HANDLES + i), "never inserted");
    expect_memory_matches(t, live, "after growth");

    /* Replacing every key allocates nothing. */
    mem_before = plsp_ctab_memory(t);
    for (i = 0; i < GROWTH_HANDLES; i += 7)
        assert_int_equal(plsp_ctab_insert(t, handle_key(i), 1), 0);
    assert_int_equal(plsp_ctab_memory(t), mem_before);
    free(random_keys);
    destroy_table(t, live);
}

/* Removes keys[0..n) in order; after each removal every removed key must be
 * absent and every remaining one intact (checked fully every `every`
 * removals, and for the neighbours each time). */
static void remove_and_check(struct plsp_ctab *t, const uint64_t *keys, size_t n, size_t every,
                             const char *what)
{
    size_t i, j;

    for (i = 0; i < n; i++) {
        if (plsp_ctab_remove(t, keys[i]) != 1)
            fail_msg("%s: removal %u of key %#llx returned 0", what, (unsigned)i,
                     (unsigned long long)keys[i]);
        assert_int_equal(plsp_ctab_count(t), n - i - 1);
        expect_absent(t, keys[i], what);
        if ((i + 1) % every == 0 || i + 1 == n) {
            for (j = 0; j <= i; j++)
                expect_absent(t, keys[j], what);
            for (j = i + 1; j < n; j++)
                expect_keyed_record(t, keys[j], what);
        } else if (i + 1 < n) {
            expect_keyed_record(t, keys[i + 1], what);
        }
    }
}

/* Many small tables, each emptied in a random order with a full check after
 * every removal: backward shift moves entries across the index's end, out
 * of long clusters, and past entries that must stay. */
static void test_remove_random_small(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct rng r = {2};
    uint64_t keys[48];
    size_t trial, n, i, j;

    (void)state;
    for (trial = 0; trial < 400; trial++) {
        struct plsp_ctab *t = create_table();

        n = 1 + rng_below(&r, 48);
        for (i = 0; i < n; i++) {
            int dup;
            do {
                /* Small handle values, or keys that fold to the same 32
                 * bits (hi ^ lo == 0x10): long clusters. */
                uint64_t hi = rng_below(&r, 1000);
                keys[i] = (rng_next(&r) & 1) ? 4u * (uint64_t)rng_below(&r, 64)
                                             : (hi << 32) | (hi ^ 0x10u);
                dup = 0;
                for (j = 0; j < i; j++)
                    dup |= keys[j] == keys[i];
            } while (dup);
            insert_keyed(t, keys[i]);
        }
        shuffle(&r, keys, n);
        remove_and_check(t, keys, n, 1, "small table, random order");
        destroy_table(t, live);
    }
}

#define LARGE_REMOVE 60000u

static void test_remove_random_large(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    struct rng r = {3};
    uint64_t *keys = malloc(LARGE_REMOVE * sizeof(*keys));
    size_t i, mem_full;

    (void)state;
    assert_non_null(keys);
    for (i = 0; i < LARGE_REMOVE; i++) {
        keys[i] = handle_key(i);
        insert_keyed(t, keys[i]);
    }
    mem_full = plsp_ctab_memory(t);
    shuffle(&r, keys, LARGE_REMOVE);
    remove_and_check(t, keys, LARGE_REMOVE, 4999, "large table, random order");
    /* The layout shrank on the way down (test_memory_returns_after_peak). */
    if (plsp_ctab_memory(t) >= mem_full / 16)
        fail_msg("emptied: %u bytes, full: %u", (unsigned)plsp_ctab_memory(t), (unsigned)mem_full);
    expect_memory_matches(t, live, "emptied");
    /* Refilled (in another order): the same again, but for the blocks'
     * spare room, which depends on the order, and the replaced blocks that
     * wait for a batch (at most 1/16 of the memory: conntable.c,
     * BLOCK_BATCH). */
    for (i = 0; i < LARGE_REMOVE; i++)
        insert_keyed(t, keys[i]);
    print_message("full: %u bytes, refilled: %u\n", (unsigned)mem_full,
                  (unsigned)plsp_ctab_memory(t));
    if (plsp_ctab_memory(t) > mem_full + mem_full / 16 ||
        plsp_ctab_memory(t) < mem_full - mem_full / 16)
        fail_msg("refilled: %u bytes, full before: %u", (unsigned)plsp_ctab_memory(t),
                 (unsigned)mem_full);
    expect_memory_matches(t, live, "refilled");
    for (i = 0; i < LARGE_REMOVE; i++)
        expect_keyed_record(t, keys[i], "refilled");
    free(keys);
    destroy_table(t, live);
}

/* A removal moves records between the groups' blocks (backward shift) into
 * positions freed on the way, never into new memory: with an allocation
 * failure armed before each removal, every removal succeeds, the records
 * left stay intact, and the only allocation a removal tries is a shrink's
 * (refused here: the memory then stays as it was). */
#define NO_ALLOC_REMOVE 20000u

static void test_remove_never_allocates(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    struct rng r = {6};
    uint64_t *keys = malloc(NO_ALLOC_REMOVE * sizeof(*keys));
    size_t i, j, mem, shrinks_refused = 0;

    (void)state;
    assert_non_null(keys);
    for (i = 0; i < NO_ALLOC_REMOVE; i++) {
        keys[i] = handle_key(i);
        insert_keyed(t, keys[i]);
    }
    shuffle(&r, keys, NO_ALLOC_REMOVE);
    for (i = 0; i < NO_ALLOC_REMOVE; i++) {
        mem = plsp_ctab_memory(t);
        ctab_test_fail_after(0);
        if (plsp_ctab_remove(t, keys[i]) != 1)
            fail_msg("removal %u returned 0", (unsigned)i);
        shrinks_refused += !ctab_test_fail_pending();
        ctab_test_fail_after(-1);
        if (plsp_ctab_memory(t) != mem)
            fail_msg("removal %u: memory %u -> %u with every allocation failing", (unsigned)i,
                     (unsigned)mem, (unsigned)plsp_ctab_memory(t));
        expect_absent(t, keys[i], "removed, allocation failing");
        if ((i + 1) % 997 == 0 || i + 1 == NO_ALLOC_REMOVE) {
            for (j = i + 1; j < NO_ALLOC_REMOVE; j++)
                expect_keyed_record(t, keys[j], "left, allocation failing");
        } else if (i + 1 < NO_ALLOC_REMOVE) {
            expect_keyed_record(t, keys[i + 1], "next, allocation failing");
        }
    }
    /* The table wanted to shrink on the way down: that was the only memory
     * a removal asked for. */
    print_message("%u removals tried to shrink the table\n", (unsigned)shrinks_refused);
    assert_true(shrinks_refused > 0);
    expect_memory_matches(t, live, "emptied with allocation failing");
    for (i = 0; i < NO_ALLOC_REMOVE; i += 3)
        insert_keyed(t, keys[i]);
    for (i = 0; i < NO_ALLOC_REMOVE; i += 3)
        expect_keyed_record(t, keys[i], "refilled");
    free(keys);
    destroy_table(t, live);
}

/* Keys whose 64 bits fold to the same 32 (hi ^ lo constant) share a home
 * slot under the 32-bit targets' hash (which folds the key first); whatever
 * the hash, they must all work. */
static void test_colliding_keys(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    struct rng r = {4};
    uint64_t keys[200];
    size_t i;

    (void)state;
    for (i = 0; i < 200; i++) {
        keys[i] = ((uint64_t)i << 32) | (uint32_t)(i ^ 0xABCD0u);
        insert_keyed(t, keys[i]);
    }
    for (i = 0; i < 200; i++)
        expect_keyed_record(t, keys[i], "colliding");
    shuffle(&r, keys, 200);
    remove_and_check(t, keys, 200, 1, "colliding, random order");
    destroy_table(t, live);
}

/* Keys that all share one home slot, at every index size: k = j * A^-1
 * (mod 2^64), A the 64-bit table's Fibonacci multiplier, so k * A = j, whose
 * top bits are 0.  One cluster from slot 0 that spans many groups: probes
 * run through it, a growth rebuilds an index whose other groups stay empty,
 * and backward shift moves records from group to group all along it. */
#define SHARED_HOME_KEYS 600u

static void test_keys_sharing_one_home(void **state)
{
    const uint64_t a = UINT64_C(0x9E3779B97F4A7C15);
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    struct rng r = {7};
    uint64_t inv = a, keys[SHARED_HOME_KEYS];
    size_t i, round;

    (void)state;
    for (i = 0; i < 6; i++) /* Newton: each step doubles the correct bits */
        inv *= 2u - a * inv;
    assert_true(a * inv == 1u);
    for (round = 0; round < 2; round++) {
        for (i = 0; i < SHARED_HOME_KEYS; i++) {
            keys[i] = (uint64_t)(i + 1u) * inv;
            insert_keyed(t, keys[i]);
        }
        for (i = 0; i < SHARED_HOME_KEYS; i++)
            expect_keyed_record(t, keys[i], "sharing one home");
        expect_absent(t, (uint64_t)(SHARED_HOME_KEYS + 1u) * inv, "never inserted, same home");
        shuffle(&r, keys, SHARED_HOME_KEYS);
        remove_and_check(t, keys, SHARED_HOME_KEYS, 50, "sharing one home, random order");
        expect_memory_matches(t, live, "sharing one home, emptied");
    }
    destroy_table(t, live);
}

/* Filling a table replaces a group's block every BLOCK_STEP inserts to the
 * group; replaced blocks wait for a batch before they cost a barrier (two
 * protection changes), so that filling does not pay one every few inserts.
 * This thread looks up first, so that it holds a slot and every barrier is
 * needed. */
#define FILL_KEYS 20000u

static void test_fill_costs_few_barriers(void **state)
{
    size_t live = ctab_test_live_bytes(), before, barriers, i;
    struct plsp_ctab *t = create_table();

    (void)state;
    insert_keyed(t, handle_key(0));
    expect_keyed_record(t, handle_key(0), "before the fill");
    before = ctab_test_protect_calls();
    for (i = 1; i < FILL_KEYS; i++)
        insert_keyed(t, handle_key(i));
    barriers = (ctab_test_protect_calls() - before) / 2u;
    print_message("%u inserts: %u barriers\n", (unsigned)FILL_KEYS - 1u, (unsigned)barriers);
    /* About 5,000 blocks are replaced: a barrier for each made 5,075
     * barriers; batched, 268 when this was written (the index's 12
     * growths, 16 -> 65,536 slots, and batches of 1/16 of the table). */
    if (barriers > FILL_KEYS / 40u)
        fail_msg("%u barriers for %u inserts", (unsigned)barriers, (unsigned)FILL_KEYS - 1u);
    for (i = 0; i < FILL_KEYS; i += 97)
        expect_keyed_record(t, handle_key(i), "after the fill");
    destroy_table(t, live);
}

/* ---- memory ------------------------------------------------------------------ */

static void test_memory_accounting(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    size_t i, empty = plsp_ctab_memory(t), now;

    (void)state;
    expect_memory_matches(t, live, "empty");
    for (i = 0; i < 5000; i++) {
        insert_keyed(t, handle_key(i));
        now = plsp_ctab_memory(t);
        /* At most 128 bytes per record on top of the empty table, and a
         * block's worth: an index at most 3/4 empty (4 bytes per record),
         * 8 bytes per 64 slots, a block per group with at most 3 spare
         * records, the blocks replaced on the way that wait for a batch
         * (1/16 of the memory), and the index a growth replaced. */
        if (now > empty + 128u * (i + 1) + 1024u)
            fail_msg("insert %u: %u bytes, empty table %u", (unsigned)i, (unsigned)now,
                     (unsigned)empty);
        if (now != ctab_test_live_bytes() - live)
            fail_msg("insert %u: plsp_ctab_memory says %u, the allocator has %u", (unsigned)i,
                     (unsigned)now, (unsigned)(ctab_test_live_bytes() - live));
        /* At least the records themselves (44 bytes each). */
        if (now < (i + 1) * 44)
            fail_msg("insert %u: %u bytes cannot hold %u records", (unsigned)i, (unsigned)now,
                     (unsigned)(i + 1));
    }
    for (i = 0; i < 5000; i += 2)
        assert_int_equal(plsp_ctab_remove(t, handle_key(i)), 1);
    expect_memory_matches(t, live, "after removals");
    destroy_table(t, live);
}

/* After a peak (100,000 sockets opened, then closed) the table gives its
 * memory back: within 2x of an empty table's, by its own accounting (checked
 * against the allocator's), with the records left on the way down intact.
 * No lookup runs here, so nothing retired has to wait (reclamation). */
#define PEAK_KEYS 100000u

static void test_memory_returns_after_peak(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    struct rng r = {5};
    uint64_t *keys = malloc(PEAK_KEYS * sizeof(*keys));
    size_t empty = plsp_ctab_memory(t), peak, mem, i, round;

    (void)state;
    assert_non_null(keys);
    for (round = 0; round < 2; round++) {
        for (i = 0; i < PEAK_KEYS; i++) {
            keys[i] = handle_key(i);
            insert_keyed(t, keys[i]);
        }
        peak = plsp_ctab_memory(t);
        expect_memory_matches(t, live, "at the peak");
        shuffle(&r, keys, PEAK_KEYS);
        /* Down to 1,000 sockets: those must still be there, and the memory
         * must have followed the count down. */
        for (i = 0; i < PEAK_KEYS - 1000u; i++)
            if (plsp_ctab_remove(t, keys[i]) != 1)
                fail_msg("removal %u failed", (unsigned)i);
        for (i = PEAK_KEYS - 1000u; i < PEAK_KEYS; i++)
            expect_keyed_record(t, keys[i], "one of the 1,000 left");
        for (i = 0; i < 1000u; i++)
            expect_absent(t, keys[i], "closed");
        mem = plsp_ctab_memory(t);
        {
            /* What a table that only ever held these 1,000 has. */
            struct plsp_ctab *ref = create_table();
            size_t fresh;

            for (i = PEAK_KEYS - 1000u; i < PEAK_KEYS; i++)
                assert_int_equal(plsp_ctab_insert(ref, keys[i], 1), 0);
            fresh = plsp_ctab_memory(ref);
            plsp_ctab_destroy(ref);
            print_message("round %u: empty %u bytes, peak (100,000) %u, 1,000 left %u "
                          "(a table of 1,000: %u)\n", (unsigned)round, (unsigned)empty,
                          (unsigned)peak, (unsigned)mem, (unsigned)fresh);
            if (mem > 2u * fresh)
                fail_msg("1,000 records left hold %u bytes, more than 2x a table of 1,000 (%u)",
                         (unsigned)mem, (unsigned)fresh);
        }
        for (i = PEAK_KEYS - 1000u; i < PEAK_KEYS; i++)
            assert_int_equal(plsp_ctab_remove(t, keys[i]), 1);
        assert_int_equal(plsp_ctab_count(t), 0);
        mem = plsp_ctab_memory(t);
        expect_memory_matches(t, live, "after the peak");
        print_message("round %u: all closed: %u bytes (%.2f x empty)\n", (unsigned)round,
                      (unsigned)mem, (double)mem / (double)empty);
        if (mem > 2u * empty)
            fail_msg("after the peak %u bytes, empty table %u: more than 2x", (unsigned)mem,
                     (unsigned)empty);
    }
    free(keys);
    destroy_table(t, live);
}

/* The target that shapes the layout: 1,000,000 AF_INET6 entries in at most
 * 64 bytes each, every allocation (retired blocks too) counted. */
static void test_memory_per_entry_1m(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    uint8_t peer[PLSP_PEER_MAX];
    size_t i, mem;

    (void)state;
    make_peer(1, sizeof(peer), peer);
    for (i = 0; i < 1000000; i++) {
        if (plsp_ctab_insert(t, handle_key(i), 1) != 0 ||
            plsp_ctab_set_peer(t, handle_key(i), PLSP_ANY_GEN, peer, sizeof(peer)) != 1)
            fail_msg("entry %u: insert or set_peer failed", (unsigned)i);
    }
    assert_int_equal(plsp_ctab_count(t), 1000000);
    mem = plsp_ctab_memory(t);
    expect_memory_matches(t, live, "1M entries");
    print_message("1,000,000 entries: %u bytes, %.2f bytes per entry\n", (unsigned)mem,
                  (double)mem / 1e6);
    if (mem > 64u * 1000000u)
        fail_msg("%u bytes for 1,000,000 entries: %.2f per entry, more than 64", (unsigned)mem,
                 (double)mem / 1e6);
    expect_record(t, handle_key(0), 1, PLSP_PEER_KNOWN, peer, sizeof(peer), "first of 1M");
    expect_record(t, handle_key(999999), 1, PLSP_PEER_KNOWN, peer, sizeof(peer), "last of 1M");
    destroy_table(t, live);
}

/* ---- out of memory ------------------------------------------------------------ */

static void test_create_out_of_memory(void **state)
{
    size_t live = ctab_test_live_bytes(), calls, n, degraded = 0;
    struct plsp_ctab *t;

    (void)state;
    /* How many allocations a create makes... */
    calls = ctab_test_alloc_calls();
    t = create_table();
    n = ctab_test_alloc_calls() - calls;
    destroy_table(t, live);
    assert_true(n >= 1);
    /* ...and each of them failing makes it fail cleanly, except the one
     * for the reader slots' barrier page: without it the table works and
     * its lookups count themselves instead (no slot is handed out). */
    for (calls = 0; calls < n; calls++) {
        ctab_test_fail_after((long)calls);
        t = plsp_ctab_create();
        assert_false(ctab_test_fail_pending());
        if (t != NULL) {
            if (++degraded > 1)
                fail_msg("create succeeded with more than one allocation failed");
            ctab_test_fail_after(-1);
            insert_keyed(t, handle_key(1));
            expect_keyed_record(t, handle_key(1), "table without reader slots");
            assert_int_equal(plsp_ctab_reader_slots(t), 0);
            expect_memory_matches(t, live, "table without reader slots");
            destroy_table(t, live);
            continue;
        }
        if (ctab_test_live_bytes() != live)
            fail_msg("failed create leaked %u bytes", (unsigned)(ctab_test_live_bytes() - live));
    }
    ctab_test_fail_after(-1);
}

#define OOM_KEYS 2500u

static void test_insert_out_of_memory(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    size_t i, j, failures = 0, mem, count;
    uint8_t peer[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    long f;

    (void)state;
    for (i = 0; i < OOM_KEYS; i++) {
        /* Fail the first, second or third allocation this insert makes (if
         * it makes that many): the table must be exactly as before. */
        for (f = 0; f < 3; f++) {
            mem = plsp_ctab_memory(t);
            count = plsp_ctab_count(t);
            ctab_test_fail_after(f);
            if (plsp_ctab_insert(t, handle_key(i), provider_of(handle_key(i))) == 0) {
                /* This insert made at most f allocations. */
                ctab_test_fail_after(-1);
                assert_int_equal(plsp_ctab_remove(t, handle_key(i)), 1);
                continue;
            }
            assert_false(ctab_test_fail_pending());
            failures++;
            if (plsp_ctab_count(t) != count || plsp_ctab_memory(t) != mem)
                fail_msg("key %u, allocation %ld failed: count %u -> %u, memory %u -> %u",
                         (unsigned)i, f, (unsigned)count, (unsigned)plsp_ctab_count(t),
                         (unsigned)mem, (unsigned)plsp_ctab_memory(t));
            expect_memory_matches(t, live, "after a failed insert");
            expect_absent(t, handle_key(i), "failed insert");
            for (j = 0; j < i; j++)
                expect_keyed_record(t, handle_key(j), "earlier key after a failed insert");
        }
        ctab_test_fail_after(-1);
        insert_keyed(t, handle_key(i));
    }
    /* At least one failure per allocating insert: 9 index doublings (16 ->
     * 8192 slots) for 2500 keys, each group's first block, and a larger
     * block every BLOCK_STEP (4) records a group gains beyond the room a
     * doubling gave it (637 failed inserts when this was written). */
    print_message("%u inserts failed by injected allocation failures\n", (unsigned)failures);
    if (failures < 300)
        fail_msg("only %u failed inserts: the failure paths were hardly reached", (unsigned)failures);

    /* Writes to existing keys never allocate. */
    ctab_test_fail_after(0);
    assert_int_equal(plsp_ctab_insert(t, handle_key(0), 1), 0);
    assert_int_equal(plsp_ctab_set_peer(t, handle_key(0), PLSP_ANY_GEN, peer, sizeof(peer)), 1);
    assert_int_equal(plsp_ctab_forget_peer(t, handle_key(0)), 1);
    assert_int_equal(plsp_ctab_remove(t, handle_key(1)), 1);
    assert_int_equal(plsp_ctab_insert(t, handle_key(1), 1), 0); /* the position it left */
    assert_true(ctab_test_fail_pending());
    ctab_test_fail_after(-1);
    destroy_table(t, live);
}

/* ---- threads ------------------------------------------------------------------ */

struct thread {
    void (*fn)(void *);
    void *arg;
#ifdef _WIN32
    HANDLE handle;
#else
    pthread_t handle;
#endif
};

#ifdef _WIN32
static DWORD WINAPI thread_main(LPVOID p)
{
    struct thread *th = p;
    th->fn(th->arg);
    return 0;
}

static int thread_start(struct thread *th)
{
    th->handle = CreateThread(NULL, 0, thread_main, th, 0, NULL);
    return th->handle != NULL ? 0 : -1;
}

static int thread_join(struct thread *th)
{
    if (WaitForSingleObject(th->handle, INFINITE) != WAIT_OBJECT_0)
        return -1;
    return CloseHandle(th->handle) ? 0 : -1;
}
#else
static void *thread_main(void *p)
{
    struct thread *th = p;
    th->fn(th->arg);
    return NULL;
}

static int thread_start(struct thread *th)
{
    return pthread_create(&th->handle, NULL, thread_main, th) == 0 ? 0 : -1;
}

static int thread_join(struct thread *th)
{
    return pthread_join(th->handle, NULL) == 0 ? 0 : -1;
}
#endif

/* ---- reader slots ---------------------------------------------------------------
 * A thread that looks up holds a reader slot while it lives (a test build
 * may have fewer slots than its threads: the rest count themselves). */
#ifndef PLSP_CTAB_READER_SLOT_BITS
#define PLSP_CTAB_READER_SLOT_BITS 8u
#endif
#define TEST_READER_SLOTS ((size_t)1 << PLSP_CTAB_READER_SLOT_BITS)
#define SLOT_THREADS 6u

struct slot_thread {
    struct plsp_ctab *t;
    atomic_int *arrived, *go;
    size_t slots_seen; /* plsp_ctab_reader_slots() after its lookup */
    int found;
};

static void slot_thread_main(void *arg)
{
    struct slot_thread *st = arg;
    struct plsp_conn c;

    st->found = plsp_ctab_lookup(st->t, handle_key(1), &c) == 1 && c.state == PLSP_PEER_KNOWN;
    st->slots_seen = plsp_ctab_reader_slots(st->t);
    if (st->arrived == NULL)
        return;
    atomic_fetch_add(st->arrived, 1);
    while (!atomic_load(st->go))
        ctab_test_yield();
}

/* Starts n threads that look up in t and then stay until *go, and waits
 * until all of them have looked up (*arrived, set to 0 first). */
static void start_slot_holders(struct plsp_ctab *t, struct slot_thread *st, struct thread *th,
                               size_t n, atomic_int *arrived, atomic_int *go)
{
    size_t i;

    atomic_store(arrived, 0);
    atomic_store(go, 0);
    for (i = 0; i < n; i++) {
        memset(&st[i], 0, sizeof st[i]);
        st[i].t = t;
        st[i].arrived = arrived;
        st[i].go = go;
        th[i].fn = slot_thread_main;
        th[i].arg = &st[i];
        if (thread_start(&th[i]) != 0)
            fail_msg("could not start slot holder %u", (unsigned)i);
    }
    while (atomic_load(arrived) != (int)n)
        ctab_test_yield();
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static void test_reader_slots_follow_threads(void **state)
{
    size_t live = ctab_test_live_bytes(), i;
    struct plsp_ctab *t = create_table();
    struct slot_thread st[SLOT_THREADS];
    struct thread th[SLOT_THREADS];
    atomic_int arrived = 0, go = 0;

    (void)state;
    insert_keyed(t, handle_key(1));
    assert_int_equal(plsp_ctab_reader_slots(t), 0);
    expect_keyed_record(t, handle_key(1), "first lookup");
    assert_int_equal(plsp_ctab_reader_slots(t), 1);
    expect_keyed_record(t, handle_key(1), "second lookup");
    assert_int_equal(plsp_ctab_reader_slots(t), 1);

    /* One thread after another, more of them than there are slots: each
     * finds a slot (the ended ones' are free again) and gives it back. */
    for (i = 0; i < 3 * TEST_READER_SLOTS && i < 600; i++) {
        memset(&st[0], 0, sizeof st[0]);
        st[0].t = t;
        th[0].fn = slot_thread_main;
        th[0].arg = &st[0];
        if (thread_start(&th[0]) != 0 || thread_join(&th[0]) != 0)
            fail_msg("thread %u: could not run it", (unsigned)i);
        assert_true(st[0].found);
        if (st[0].slots_seen != min_size(2, TEST_READER_SLOTS))
            fail_msg("thread %u: %u slots held during its life, expected %u", (unsigned)i,
                     (unsigned)st[0].slots_seen, (unsigned)min_size(2, TEST_READER_SLOTS));
        if (plsp_ctab_reader_slots(t) != 1)
            fail_msg("thread %u ended: %u slots held, expected 1 (this thread's)", (unsigned)i,
                     (unsigned)plsp_ctab_reader_slots(t));
    }

    /* Several at once: one each, as far as they go; the others count
     * themselves, and all of them find the record. */
    start_slot_holders(t, st, th, SLOT_THREADS, &arrived, &go);
    assert_int_equal(plsp_ctab_reader_slots(t), min_size(1 + SLOT_THREADS, TEST_READER_SLOTS));
    atomic_store(&go, 1);
    for (i = 0; i < SLOT_THREADS; i++) {
        if (thread_join(&th[i]) != 0)
            fail_msg("could not join thread %u", (unsigned)i);
        assert_true(st[i].found);
    }
    assert_int_equal(plsp_ctab_reader_slots(t), 1);
    destroy_table(t, live);
}

/* Nothing retired is freed without a barrier: while the barrier's page
 * cannot be protected, a growth's old index stays (lookups answer from the
 * new one); the first write after the barrier works again frees it. */
static void test_failed_barrier_keeps_retired(void **state)
{
    size_t live = ctab_test_live_bytes(), held, still, after, fresh_mem, i;
    struct plsp_ctab *t = create_table(), *fresh;

    (void)state;
    insert_keyed(t, handle_key(1));
    /* This thread looks up: it holds a slot, so the barrier is needed. */
    expect_keyed_record(t, handle_key(1), "before");
    ctab_test_fail_protect(1);
    for (i = 0; i < 40; i++)
        insert_keyed(t, handle_key(1000 + i));
    held = plsp_ctab_memory(t);
    insert_keyed(t, handle_key(1040));
    still = plsp_ctab_memory(t);
    for (i = 0; i <= 40; i++)
        expect_keyed_record(t, handle_key(1000 + i), "while the barrier fails");
    ctab_test_fail_protect(0);
    insert_keyed(t, handle_key(1041));
    after = plsp_ctab_memory(t);

    fresh = create_table();
    insert_keyed(fresh, handle_key(1));
    for (i = 0; i <= 41; i++)
        insert_keyed(fresh, handle_key(1000 + i));
    fresh_mem = plsp_ctab_memory(fresh);
    plsp_ctab_destroy(fresh);
    print_message("barrier failing: %u bytes, one write later %u; barrier back: %u "
                  "(the layout alone %u)\n", (unsigned)held, (unsigned)still, (unsigned)after,
                  (unsigned)fresh_mem);
    if (still < fresh_mem + 64)
        fail_msg("with the barrier failing, %u bytes: the retired index was freed "
                 "(the layout alone %u)", (unsigned)still, (unsigned)fresh_mem);
    if (after != fresh_mem)
        fail_msg("with the barrier back, %u bytes, the layout alone %u", (unsigned)after,
                 (unsigned)fresh_mem);
    expect_memory_matches(t, live, "after the barrier came back");
    destroy_table(t, live);
}

#ifdef _WIN32
/* A fiber's fiber-local value names the slot of the thread it ran on.  When
 * another thread deletes that fiber, Windows calls the exit callback there,
 * with that value: the first thread still owns the slot (and may be inside
 * a lookup), so it must stay its own. */
struct fiber_case {
    struct plsp_ctab *t;
    LPVOID main_fiber, fiber;
    int found_in_fiber, found_after;
    atomic_int registered, deleted;
};

static void WINAPI fiber_lookup(LPVOID arg)
{
    struct fiber_case *fc = arg;
    struct plsp_conn c;

    fc->found_in_fiber = plsp_ctab_lookup(fc->t, handle_key(1), &c) == 1;
    SwitchToFiber(fc->main_fiber);
}

static void fiber_owner_main(void *arg)
{
    struct fiber_case *fc = arg;
    struct plsp_conn c;

    fc->main_fiber = ConvertThreadToFiber(NULL);
    fc->fiber = fc->main_fiber ? CreateFiber(0, fiber_lookup, fc) : NULL;
    if (fc->fiber != NULL)
        SwitchToFiber(fc->fiber);
    atomic_store(&fc->registered, 1);
    while (!atomic_load(&fc->deleted))
        ctab_test_yield();
    fc->found_after = plsp_ctab_lookup(fc->t, handle_key(1), &c) == 1;
    if (fc->main_fiber != NULL)
        ConvertFiberToThread();
}

static void test_reader_slot_fiber_deleted_elsewhere(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    struct fiber_case fc;
    struct thread th;

    (void)state;
    memset(&fc, 0, sizeof fc);
    fc.t = t;
    insert_keyed(t, handle_key(1));
    th.fn = fiber_owner_main;
    th.arg = &fc;
    if (thread_start(&th) != 0)
        fail_msg("could not start the fiber thread");
    while (!atomic_load(&fc.registered))
        ctab_test_yield();
    assert_non_null(fc.fiber);
    assert_true(fc.found_in_fiber);
    assert_int_equal(plsp_ctab_reader_slots(t), 1);
    /* This thread deletes the fiber: the callback runs here, with the
     * other thread's slot. */
    DeleteFiber(fc.fiber);
    if (plsp_ctab_reader_slots(t) != 1)
        fail_msg("deleting the fiber elsewhere freed its thread's slot (%u slots held)",
                 (unsigned)plsp_ctab_reader_slots(t));
    atomic_store(&fc.deleted, 1);
    if (thread_join(&th) != 0)
        fail_msg("could not join the fiber thread");
    assert_true(fc.found_after);
    destroy_table(t, live);
}
#endif

/* A lookup parked inside the table keeps what it reads: the index that a
 * growth retires meanwhile is not freed until the lookup has left, whether
 * the lookup holds a slot or counts itself (the build with fewer slots than
 * threads).  Then it is, at the next write. */
struct parked_lookup {
    struct plsp_ctab *t;
    int found;
};

static void parked_lookup_main(void *arg)
{
    struct parked_lookup *pl = arg;
    struct plsp_conn c;

    ctab_test_park_at_next_race_point();
    pl->found = plsp_ctab_lookup(pl->t, handle_key(1), &c) == 1;
}

static void test_reader_keeps_retired_index(void **state)
{
    size_t live = ctab_test_live_bytes(), held, after, fresh_mem, i, r, fill = 0, holders;
    struct plsp_ctab *t, *fresh;
    struct parked_lookup pl;
    struct slot_thread st[8];
    struct thread th, hth[8];
    atomic_int arrived, go;

    (void)state;
    t = create_table();
    insert_keyed(t, handle_key(1));
    /* Round 0: the parked reader holds a slot.  Round 1, in a build with at
     * most 8 slots: threads that stay alive hold every slot first, so the
     * parked reader counts itself. */
    for (r = 0; r < (TEST_READER_SLOTS <= 8 ? 2u : 1u); r++) {
        holders = r == 0 ? 0 : TEST_READER_SLOTS;
        start_slot_holders(t, st, hth, holders, &arrived, &go);
        if (holders != 0)
            assert_int_equal(plsp_ctab_reader_slots(t), TEST_READER_SLOTS);

        pl.t = t;
        pl.found = 0;
        th.fn = parked_lookup_main;
        th.arg = &pl;
        if (thread_start(&th) != 0)
            fail_msg("could not start the reader");
        while (!ctab_test_parked())
            ctab_test_yield();
        /* Grow the index (a growth doubles it when half full): the old one
         * retires while the reader is inside. */
        for (i = 0; i < 40; i++)
            insert_keyed(t, handle_key(1000 + fill++));
        held = plsp_ctab_memory(t);
        ctab_test_unpark();
        if (thread_join(&th) != 0)
            fail_msg("could not join the reader");
        assert_true(pl.found);
        atomic_store(&go, 1);
        for (i = 0; i < holders; i++)
            if (thread_join(&hth[i]) != 0)
                fail_msg("could not join slot holder %u", (unsigned)i);
        /* The next write frees what the reader held. */
        insert_keyed(t, handle_key(1000 + fill++));
        after = plsp_ctab_memory(t);
        /* The same records written with no reader: the layout alone. */
        fresh = create_table();
        insert_keyed(fresh, handle_key(1));
        for (i = 0; i < fill; i++)
            insert_keyed(fresh, handle_key(1000 + i));
        fresh_mem = plsp_ctab_memory(fresh);
        plsp_ctab_destroy(fresh);
        print_message("round %u (%s): with a reader parked %u bytes, after it left %u, "
                      "the layout alone %u\n", (unsigned)r, r == 0 ? "slot" : "counted",
                      (unsigned)held, (unsigned)after, (unsigned)fresh_mem);
        if (held <= after)
            fail_msg("round %u: nothing was held back for the parked reader (%u, then %u)",
                     (unsigned)r, (unsigned)held, (unsigned)after);
        if (after != fresh_mem)
            fail_msg("round %u: after the reader left %u bytes, the layout alone %u",
                     (unsigned)r, (unsigned)after, (unsigned)fresh_mem);
    }
    destroy_table(t, live);
}

#define MT_WRITERS 2
#define MT_READERS 4
#define MT_KEYS 2000u /* per writer */
#define MT_HOT 4u     /* per writer: half of all operations hit these */
#define MT_WRITER_OPS 150000u

/* Key i of a writer is "stable" when i % 4 == 0: inserted before the
 * threads start and never removed (a writer forgets its peer instead), so
 * a reader must always find it, even while removals of its neighbours shift
 * it around the index. */
#define MT_STABLE(i) ((i) % 4u == 0)

struct mt_shared {
    struct plsp_ctab *t;
    atomic_int writers_left;
    atomic_ulong wrong;
    atomic_ulong printed;
};

struct mt_writer {
    struct mt_shared *sh;
    unsigned id;
    size_t present; /* keys present at the end */
};

struct mt_reader {
    struct mt_shared *sh;
    unsigned id;
    unsigned long lookups, found, known, stable;
};

/* Writer w owns keys mt_key(w, i); bit 1 is never set in them, so a key
 * with it is never in the table. */
static uint64_t mt_key(unsigned w, size_t i)
{
    uint64_t k = 0x1000u + 4u * ((uint64_t)i * MT_WRITERS + w);
    if (i % 3 == 1)
        k |= (uint64_t)(i % 5 + 1) << 32; /* some keys use the high word */
    return k;
}

static size_t mt_pick(struct rng *r)
{
    return rng_below(r, 2) ? rng_below(r, MT_HOT) : rng_below(r, MT_KEYS);
}

static void mt_report(struct mt_shared *sh, const char *fmt, unsigned long long key, unsigned a,
                      unsigned b)
{
    atomic_fetch_add(&sh->wrong, 1);
    if (atomic_fetch_add(&sh->printed, 1) < 10) {
        fprintf(stderr, fmt, key, a, b);
        fputc('\n', stderr);
    }
}

/* Checks a record as any reader may see it: self-consistent, and made for
 * this key.  Returns 0 if wrong. */
static int mt_record_ok(struct mt_shared *sh, uint64_t key, const struct plsp_conn *c)
{
    size_t j;

    if (c->provider != provider_of(key)) {
        mt_report(sh, "key %#llx: provider %u, expected %u", key, c->provider, provider_of(key));
        return 0;
    }
    if (c->reserved != 0 || c->gen == PLSP_ANY_GEN) {
        mt_report(sh, "key %#llx: reserved %u, gen low bits %#x", key, c->reserved,
                  (unsigned)c->gen);
        return 0;
    }
    if (c->state == PLSP_PEER_UNKNOWN) {
        if (c->peer_len != 0) {
            mt_report(sh, "key %#llx: UNKNOWN with peer_len %u (%u)", key, c->peer_len, 0);
            return 0;
        }
        for (j = 0; j < PLSP_PEER_MAX; j++)
            if (c->peer[j] != 0) {
                mt_report(sh, "key %#llx: UNKNOWN, peer[%u] = %#x", key, (unsigned)j, c->peer[j]);
                return 0;
            }
        return 1;
    }
    if (c->state != PLSP_PEER_KNOWN || c->peer_len < 1 || c->peer_len > PLSP_PEER_MAX) {
        mt_report(sh, "key %#llx: state %u, peer_len %u", key, c->state, c->peer_len);
        return 0;
    }
    for (j = 0; j < PLSP_PEER_MAX; j++) {
        uint8_t want = j < c->peer_len ? peer_byte(key, c->peer_len, j) : 0;
        if (c->peer[j] != want) {
            mt_report(sh, "key %#llx: torn or foreign peer: byte %u is %#x", key, (unsigned)j,
                      c->peer[j]);
            return 0;
        }
    }
    return 1;
}

struct mt_model {
    uint8_t present, state, len;
    plsp_gen gen;
};

static void mt_writer_main(void *arg)
{
    struct mt_writer *w = arg;
    struct mt_shared *sh = w->sh;
    struct mt_model *m = calloc(MT_KEYS, sizeof(*m));
    struct rng r = {100 + w->id};
    uint8_t peer[PLSP_PEER_MAX];
    struct plsp_conn c;
    size_t op, i, len;
    uint64_t key;
    int got;

    if (m == NULL) {
        mt_report(sh, "writer %llu: out of memory (%u %u)", w->id, 0, 0);
        atomic_fetch_sub(&sh->writers_left, 1);
        return;
    }
    for (i = 0; i < MT_KEYS; i++) {
        if (!MT_STABLE(i))
            continue;
        if (plsp_ctab_lookup(sh->t, mt_key(w->id, i), &c) != 1) {
            mt_report(sh, "key %#llx: stable key missing at start (%u %u)", mt_key(w->id, i), 0, 0);
            continue;
        }
        m[i].present = 1;
        m[i].gen = c.gen;
    }
    for (op = 0; op < MT_WRITER_OPS; op++) {
        i = mt_pick(&r);
        key = mt_key(w->id, i);
        const uint8_t was_present = m[i].present;
        const plsp_gen was_gen = m[i].gen;
        switch (rng_below(&r, 10)) {
        case 0: case 1: /* a new socket on this handle value */
            if (plsp_ctab_insert(sh->t, key, provider_of(key)) != 0)
                mt_report(sh, "key %#llx: insert failed (%u %u)", key, 0, 0);
            m[i].present = 1;
            m[i].state = PLSP_PEER_UNKNOWN;
            m[i].len = 0;
            break;
        case 2: case 3: case 4: /* a getpeername answer cached with its gen */
            len = 1 + rng_below(&r, PLSP_PEER_MAX);
            make_peer(key, len, peer);
            got = plsp_ctab_set_peer(sh->t, key, m[i].present ? m[i].gen : PLSP_ANY_GEN, peer, len);
            if (got != m[i].present)
                mt_report(sh, "key %#llx: set_peer returned %u, expected %u", key, (unsigned)got,
                          m[i].present);
            if (got) {
                m[i].state = PLSP_PEER_KNOWN;
                m[i].len = (uint8_t)len;
                /* The gen just used is stale now. */
                got = plsp_ctab_set_peer(sh->t, key, m[i].gen, peer, len);
                if (got != 0)
                    mt_report(sh, "key %#llx: set_peer with stale gen %#x returned %u", key,
                              (unsigned)m[i].gen, (unsigned)got);
            }
            break;
        case 5: case 6: /* connect: the peer is known, no gen check */
            len = 1 + rng_below(&r, PLSP_PEER_MAX);
            make_peer(key, len, peer);
            got = plsp_ctab_set_peer(sh->t, key, PLSP_ANY_GEN, peer, len);
            if (got != m[i].present)
                mt_report(sh, "key %#llx: set_peer(ANY) returned %u, expected %u", key,
                          (unsigned)got, m[i].present);
            if (got) {
                m[i].state = PLSP_PEER_KNOWN;
                m[i].len = (uint8_t)len;
            }
            break;
        case 7:
            got = plsp_ctab_forget_peer(sh->t, key);
            if (got != m[i].present)
                mt_report(sh, "key %#llx: forget returned %u, expected %u", key, (unsigned)got,
                          m[i].present);
            m[i].state = PLSP_PEER_UNKNOWN;
            m[i].len = 0;
            break;
        default: /* close: removed, except the stable keys */
            if (MT_STABLE(i)) {
                got = plsp_ctab_forget_peer(sh->t, key);
                m[i].state = PLSP_PEER_UNKNOWN;
                m[i].len = 0;
            } else {
                got = plsp_ctab_remove(sh->t, key);
                m[i].present = 0;
            }
            if (got != 1 && got != 0)
                mt_report(sh, "key %#llx: remove returned %u (%u)", key, (unsigned)got, 0);
            break;
        }
        /* Only this writer writes these keys: the table must agree with
         * the model exactly, and every write must have taken a new gen. */
        got = plsp_ctab_lookup(sh->t, key, &c);
        if (got != m[i].present) {
            mt_report(sh, "key %#llx: lookup returned %u, writer expected %u", key, (unsigned)got,
                      m[i].present);
        } else if (got) {
            if (mt_record_ok(sh, key, &c) && (c.state != m[i].state || c.peer_len != m[i].len))
                mt_report(sh, "key %#llx: state %u, writer expected %u", key, c.state, m[i].state);
            /* Every write takes a new, larger gen (conntable.h). */
            if (was_present && c.gen <= was_gen)
                mt_report(sh, "key %#llx: gen %#x not increased by a write (was %#x)", key,
                          (unsigned)c.gen, (unsigned)was_gen);
            m[i].gen = c.gen;
        }
    }
    for (i = 0; i < MT_KEYS; i++)
        w->present += m[i].present;
    free(m);
    atomic_fetch_sub(&sh->writers_left, 1);
}

static void mt_reader_main(void *arg)
{
    struct mt_reader *rd = arg;
    struct mt_shared *sh = rd->sh;
    plsp_gen *seen = calloc((size_t)MT_WRITERS * MT_KEYS, sizeof(*seen));
    uint8_t *have = calloc((size_t)MT_WRITERS * MT_KEYS, 1);
    struct rng r = {200 + rd->id};
    struct plsp_conn c;
    int last_round = 0;

    if (seen == NULL || have == NULL) {
        mt_report(sh, "reader %llu: out of memory (%u %u)", rd->id, 0, 0);
        free(seen);
        free(have);
        return;
    }
    /* Until the writers are done, then one more round. */
    while (!last_round) {
        unsigned n;

        last_round = atomic_load(&sh->writers_left) == 0;
        for (n = 0; n < 1000; n++) {
            unsigned w = (unsigned)rng_below(&r, MT_WRITERS);
            size_t i = mt_pick(&r), slot = w * MT_KEYS + i;
            uint64_t key = mt_key(w, i);
            int absent = rng_below(&r, 8) == 0;

            if (absent)
                key |= 2u; /* never inserted */
            rd->lookups++;
            if (!plsp_ctab_lookup(sh->t, key, &c)) {
                if (!absent && MT_STABLE(i))
                    mt_report(sh, "stable key %#llx not found (%u %u)", key, 0, 0);
                continue;
            }
            if (absent) {
                mt_report(sh, "key %#llx was never inserted but found (gen %#x, %u)", key,
                          (unsigned)c.gen, 0);
                continue;
            }
            rd->found++;
            rd->stable += MT_STABLE(i);
            if (!mt_record_ok(sh, key, &c))
                continue;
            rd->known += c.state == PLSP_PEER_KNOWN;
            /* The gens of one key only grow (one table-wide counter):
             * a reader never sees an older write after a newer one. */
            if (have[slot] && c.gen < seen[slot])
                mt_report(sh, "key %#llx: gen went back from %#x to %#x", key, (unsigned)seen[slot],
                          (unsigned)c.gen);
            seen[slot] = c.gen;
            have[slot] = 1;
        }
    }
    free(seen);
    free(have);
}

static void test_threads(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct mt_shared sh;
    struct mt_writer writers[MT_WRITERS];
    struct mt_reader readers[MT_READERS];
    struct thread threads[MT_WRITERS + MT_READERS];
    size_t present = 0, i;
    unsigned long lookups = 0;
    unsigned w;

    (void)state;
    sh.t = create_table();
    atomic_init(&sh.writers_left, MT_WRITERS);
    atomic_init(&sh.wrong, 0);
    atomic_init(&sh.printed, 0);
    for (w = 0; w < MT_WRITERS; w++)
        for (i = 0; i < MT_KEYS; i++)
            if (MT_STABLE(i))
                assert_int_equal(plsp_ctab_insert(sh.t, mt_key(w, i), provider_of(mt_key(w, i))), 0);
    memset(writers, 0, sizeof(writers));
    memset(readers, 0, sizeof(readers));
    for (w = 0; w < MT_READERS; w++) {
        readers[w].sh = &sh;
        readers[w].id = w;
        threads[w].fn = mt_reader_main;
        threads[w].arg = &readers[w];
    }
    for (w = 0; w < MT_WRITERS; w++) {
        writers[w].sh = &sh;
        writers[w].id = w;
        threads[MT_READERS + w].fn = mt_writer_main;
        threads[MT_READERS + w].arg = &writers[w];
    }
    for (w = 0; w < MT_WRITERS + MT_READERS; w++)
        if (thread_start(&threads[w]) != 0)
            fail_msg("could not start thread %u", w);
    for (w = 0; w < MT_WRITERS + MT_READERS; w++)
        if (thread_join(&threads[w]) != 0)
            fail_msg("could not join thread %u", w);

    for (w = 0; w < MT_READERS; w++) {
        print_message("reader %u: %lu lookups, %lu found (%lu stable), %lu with a known peer\n", w,
                      readers[w].lookups, readers[w].found, readers[w].stable, readers[w].known);
        lookups += readers[w].lookups;
        /* The check must not be vacuous. */
        if (readers[w].found == 0 || readers[w].known == 0 || readers[w].stable == 0)
            fail_msg("reader %u found %lu records, %lu with a peer: nothing was checked", w,
                     readers[w].found, readers[w].known);
    }
    if (atomic_load(&sh.wrong) != 0)
        fail_msg("%lu wrong answers (the first ones are on stderr), expected 0",
                 (unsigned long)atomic_load(&sh.wrong));
    for (w = 0; w < MT_WRITERS; w++)
        present += writers[w].present;
    assert_int_equal(plsp_ctab_count(sh.t), present);
    expect_memory_matches(sh.t, live, "after the threads");
    print_message("%lu concurrent lookups, 0 wrong\n", lookups);
    destroy_table(sh.t, live);
}

/* A narrower race, made likely: one writer rewrites the peers of a few
 * keys and removes and inserts them again, all in one probe cluster (the
 * keys fold to the same 32 bits, so every removal shifts the keys inserted
 * after it), while readers look up nothing else.  Per key, the writer bumps
 * a version to odd before removing it and back to even once it is inserted
 * again; a reader that sees the same even version before and after its
 * lookup must have found the key.  A record copied while being written, or
 * a key missed while a removal shifts it, shows. */
#define HOT_MEMBERS 8u
#define HOT_WRITER_OPS 400000u

struct hot_shared {
    struct mt_shared mt;
    atomic_int writer_done;
    atomic_uint version[HOT_MEMBERS];
};

struct hot_reader {
    struct hot_shared *sh;
    unsigned id;
    unsigned long lookups, known, must_find;
};

static uint64_t hot_key(size_t i)
{
    return ((uint64_t)i << 32) | (uint32_t)(0x7770u ^ i);
}

static void hot_writer_main(void *arg)
{
    struct hot_shared *sh = arg;
    struct rng r = {300};
    uint8_t peer[PLSP_PEER_MAX];
    size_t op, i, len;
    uint64_t key;
    int present[HOT_MEMBERS];

    for (i = 0; i < HOT_MEMBERS; i++)
        present[i] = 1;
    for (op = 0; op < HOT_WRITER_OPS; op++) {
        i = rng_below(&r, HOT_MEMBERS);
        key = hot_key(i);
        if (rng_below(&r, 2) == 0) {
            if (present[i]) {
                atomic_fetch_add(&sh->version[i], 1); /* odd: may be absent */
                if (plsp_ctab_remove(sh->mt.t, key) != 1)
                    mt_report(&sh->mt, "hot key %#llx: remove failed (%u %u)", key, 0, 0);
            } else {
                if (plsp_ctab_insert(sh->mt.t, key, provider_of(key)) != 0)
                    mt_report(&sh->mt, "hot key %#llx: insert failed (%u %u)", key, 0, 0);
                atomic_fetch_add(&sh->version[i], 1); /* even: present */
            }
            present[i] = !present[i];
        } else if (rng_below(&r, 8) == 0) {
            if (plsp_ctab_forget_peer(sh->mt.t, key) != present[i])
                mt_report(&sh->mt, "hot key %#llx: forget did not return %u (%u)", key,
                          (unsigned)present[i], 0);
        } else {
            len = 1 + rng_below(&r, PLSP_PEER_MAX);
            make_peer(key, len, peer);
            if (plsp_ctab_set_peer(sh->mt.t, key, PLSP_ANY_GEN, peer, len) != present[i])
                mt_report(&sh->mt, "hot key %#llx: set_peer did not return %u (%u)", key,
                          (unsigned)present[i], 0);
        }
    }
    atomic_store(&sh->writer_done, 1);
}

static void hot_reader_main(void *arg)
{
    struct hot_reader *rd = arg;
    struct hot_shared *sh = rd->sh;
    struct rng r = {400 + rd->id};
    struct plsp_conn c;

    while (!atomic_load(&sh->writer_done)) {
        size_t i = rng_below(&r, HOT_MEMBERS);
        uint64_t key = hot_key(i);
        unsigned v1 = atomic_load(&sh->version[i]), v2;
        int found = plsp_ctab_lookup(sh->mt.t, key, &c);

        v2 = atomic_load(&sh->version[i]);
        rd->lookups++;
        if (v1 == v2 && v1 % 2 == 0) {
            rd->must_find++;
            if (!found)
                mt_report(&sh->mt, "hot key %#llx: present all along (version %u) but not found (%u)",
                          key, v1, 0);
        }
        if (found && mt_record_ok(&sh->mt, key, &c))
            rd->known += c.state == PLSP_PEER_KNOWN;
    }
}

static void test_threads_hot_cluster(void **state)
{
    size_t live = ctab_test_live_bytes(), i;
    struct hot_shared sh;
    struct hot_reader readers[3];
    struct thread threads[4];
    unsigned w;

    (void)state;
    sh.mt.t = create_table();
    atomic_init(&sh.mt.writers_left, 1);
    atomic_init(&sh.mt.wrong, 0);
    atomic_init(&sh.mt.printed, 0);
    atomic_init(&sh.writer_done, 0);
    for (i = 0; i < HOT_MEMBERS; i++) {
        atomic_init(&sh.version[i], 0);
        assert_int_equal(plsp_ctab_insert(sh.mt.t, hot_key(i), provider_of(hot_key(i))), 0);
    }
    memset(readers, 0, sizeof(readers));
    threads[0].fn = hot_writer_main;
    threads[0].arg = &sh;
    for (w = 0; w < 3; w++) {
        readers[w].sh = &sh;
        readers[w].id = w;
        threads[1 + w].fn = hot_reader_main;
        threads[1 + w].arg = &readers[w];
    }
    for (w = 0; w < 4; w++)
        if (thread_start(&threads[w]) != 0)
            fail_msg("could not start thread %u", w);
    for (w = 0; w < 4; w++)
        if (thread_join(&threads[w]) != 0)
            fail_msg("could not join thread %u", w);
    for (w = 0; w < 3; w++) {
        print_message("hot reader %u: %lu lookups, %lu had to find their key, %lu known peers\n",
                      w, readers[w].lookups, readers[w].must_find, readers[w].known);
        if (readers[w].known == 0 || readers[w].must_find == 0)
            fail_msg("hot reader %u: %lu lookups checked nothing", w, readers[w].lookups);
    }
    if (atomic_load(&sh.mt.wrong) != 0)
        fail_msg("%lu wrong answers (the first ones are on stderr), expected 0",
                 (unsigned long)atomic_load(&sh.mt.wrong));
    for (i = 0; i < HOT_MEMBERS; i++) {
        struct plsp_conn c;
        int want = atomic_load(&sh.version[i]) % 2 == 0;
        int got = plsp_ctab_lookup(sh.mt.t, hot_key(i), &c);
        if (got != want || (got && !mt_record_ok(&sh.mt, hot_key(i), &c)))
            fail_msg("hot key %#llx: found %d, expected %d, at the end", (unsigned long long)hot_key(i),
                     got, want);
    }
    expect_memory_matches(sh.mt.t, live, "after the hot cluster");
    destroy_table(sh.mt.t, live);
}

/* Memory given back while lookups run: one writer fills a few thousand
 * keys and empties them again, cycle after cycle, so that the index and its
 * blocks grow and the whole layout is rebuilt smaller and retired
 * over and over; readers meanwhile look up keys that are never removed
 * (they must always be found, intact) and the cycling ones (intact when
 * found).  A reader stalled inside a retired block (the race points) must
 * find it still allocated: ASan and TSan run this natively. */
#define SG_STABLE 16u
#define SG_KEYS 3000u
#define SG_CYCLES 40u

struct sg_shared {
    struct mt_shared mt;
    atomic_int writer_done;
};

struct sg_reader {
    struct sg_shared *sh;
    unsigned id;
    unsigned long stable_found, cycling_found;
};

static uint64_t sg_stable_key(size_t i)
{
    return 0x7000000u + 4u * (uint64_t)i;
}

static void sg_writer_main(void *arg)
{
    struct sg_shared *sh = arg;
    uint8_t peer[PLSP_PEER_MAX];
    size_t cycle, i, len;
    uint64_t key;

    for (cycle = 0; cycle < SG_CYCLES; cycle++) {
        for (i = 0; i < SG_KEYS; i++) {
            key = handle_key(i);
            len = 1 + (size_t)(key % PLSP_PEER_MAX);
            make_peer(key, len, peer);
            if (plsp_ctab_insert(sh->mt.t, key, provider_of(key)) != 0 ||
                plsp_ctab_set_peer(sh->mt.t, key, PLSP_ANY_GEN, peer, len) != 1)
                mt_report(&sh->mt, "key %#llx: insert or set_peer failed (%u %u)", key, 0, 0);
        }
        for (i = 0; i < SG_KEYS; i++)
            if (plsp_ctab_remove(sh->mt.t, handle_key(i)) != 1)
                mt_report(&sh->mt, "key %#llx: remove failed (%u %u)", handle_key(i), 0, 0);
        /* The stable keys are rewritten too (same bytes). */
        key = sg_stable_key(cycle % SG_STABLE);
        len = 1 + (size_t)(key % PLSP_PEER_MAX);
        make_peer(key, len, peer);
        if (plsp_ctab_set_peer(sh->mt.t, key, PLSP_ANY_GEN, peer, len) != 1)
            mt_report(&sh->mt, "stable key %#llx: set_peer failed (%u %u)", key, 0, 0);
    }
    atomic_store(&sh->writer_done, 1);
}

static void sg_reader_main(void *arg)
{
    struct sg_reader *rd = arg;
    struct sg_shared *sh = rd->sh;
    struct rng r = {500 + rd->id};
    struct plsp_conn c;

    while (!atomic_load(&sh->writer_done)) {
        uint64_t key = sg_stable_key(rng_below(&r, SG_STABLE));

        if (plsp_ctab_lookup(sh->mt.t, key, &c) != 1)
            mt_report(&sh->mt, "stable key %#llx not found (%u %u)", key, 0, 0);
        else if (mt_record_ok(&sh->mt, key, &c) && c.state == PLSP_PEER_KNOWN)
            rd->stable_found++;
        key = handle_key(rng_below(&r, SG_KEYS));
        if (plsp_ctab_lookup(sh->mt.t, key, &c) == 1 && mt_record_ok(&sh->mt, key, &c))
            rd->cycling_found++;
    }
}

static void test_threads_shrink_grow(void **state)
{
    size_t live = ctab_test_live_bytes(), i, fresh;
    struct sg_shared sh;
    struct sg_reader readers[3];
    struct thread threads[4];
    struct plsp_ctab *ref;
    unsigned w;

    (void)state;
    sh.mt.t = create_table();
    atomic_init(&sh.mt.writers_left, 1);
    atomic_init(&sh.mt.wrong, 0);
    atomic_init(&sh.mt.printed, 0);
    atomic_init(&sh.writer_done, 0);
    for (i = 0; i < SG_STABLE; i++)
        insert_keyed(sh.mt.t, sg_stable_key(i));
    memset(readers, 0, sizeof(readers));
    threads[0].fn = sg_writer_main;
    threads[0].arg = &sh;
    for (w = 0; w < 3; w++) {
        readers[w].sh = &sh;
        readers[w].id = w;
        threads[1 + w].fn = sg_reader_main;
        threads[1 + w].arg = &readers[w];
    }
    for (w = 0; w < 4; w++)
        if (thread_start(&threads[w]) != 0)
            fail_msg("could not start thread %u", w);
    for (w = 0; w < 4; w++)
        if (thread_join(&threads[w]) != 0)
            fail_msg("could not join thread %u", w);
    for (w = 0; w < 3; w++) {
        print_message("shrink/grow reader %u: %lu stable keys found, %lu cycling ones\n", w,
                      readers[w].stable_found, readers[w].cycling_found);
        if (readers[w].stable_found == 0)
            fail_msg("reader %u checked nothing", w);
    }
    if (atomic_load(&sh.mt.wrong) != 0)
        fail_msg("%lu wrong answers (the first ones are on stderr), expected 0",
                 (unsigned long)atomic_load(&sh.mt.wrong));
    for (i = 0; i < SG_STABLE; i++)
        expect_keyed_record(sh.mt.t, sg_stable_key(i), "stable key at the end");
    /* With no lookup running, one more write frees whatever waited: the
     * table then holds what a table of the 16 stable keys holds. */
    assert_int_equal(plsp_ctab_forget_peer(sh.mt.t, sg_stable_key(0)), 1);
    expect_memory_matches(sh.mt.t, live, "after the cycles");
    ref = create_table();
    for (i = 0; i < SG_STABLE; i++)
        insert_keyed(ref, sg_stable_key(i));
    fresh = plsp_ctab_memory(ref);
    plsp_ctab_destroy(ref);
    print_message("after the cycles %u bytes, a table of the stable keys alone %u\n",
                  (unsigned)plsp_ctab_memory(sh.mt.t), (unsigned)fresh);
    if (plsp_ctab_memory(sh.mt.t) > 2u * fresh)
        fail_msg("after the cycles %u bytes, more than twice a table of the stable keys alone (%u)",
                 (unsigned)plsp_ctab_memory(sh.mt.t), (unsigned)fresh);
    destroy_table(sh.mt.t, live);
}

/* ---- racing connect, getpeername, shutdown, close and reuse ---------------------
 *
 * Threads run what the DLL runs (connect.c, getpeername.c, socket.c), on a
 * few handle values shared by all of them, against a simulated provider
 * below: per handle value one word, the socket instance living there (0:
 * none) and its peer (0: not connected), changed atomically by the
 * simulated lower calls.  Every peer is a new number.  The test knows the
 * order of its own events: a clock ticks at the start of each connect (the
 * peer's birth) and at the end of the operation that ended a peer (a
 * connect to another one, a shutdown, a close).  An answer the table gives
 * (KNOWN) to a getpeername that began at t0 and ended at t1 is legal only if
 * that peer was born by t1 and not ended before t0, and belongs to the socket
 * instance the record was made for (the record's provider tag is the
 * instance's low byte).  Answers from below are legal by construction.
 * As in a program, a socket is used (connected, shut down, closed) only
 * once the call that created it has returned: until then the word carries
 * RACE_CREATING and those calls find no socket there.  A call on a value
 * with no usable socket when it starts never reaches peerlsp (ws2_32
 * answers WSAENOTSOCK): a getpeername then checks nothing.  (A close that
 * starts on one socket can still close the next one on the value, as a
 * program closing a value twice does; the record it leaves is then that of
 * a closed socket, which ws2_32 no longer routes to peerlsp.)  Between the
 * steps of each call the threads stall now and then (RACE_STALL, the race
 * point of the table's test builds), so the windows between a lower call
 * and the table write after it are hit. */
#define RACE_STALL() race_stall()

/* One time in four, give the CPU away (more threads than CPUs run here, so
 * whole calls of other threads fit in); otherwise a short stall now and
 * then (the race point). */
static void race_stall(void)
{
    static _Thread_local uint32_t x;

    if (x == 0)
        x = (uint32_t)(uintptr_t)&x | 1u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    if ((x & 3u) == 0) {
        ctab_test_yield();
        return;
    }
    ctab_test_race_point();
}
#define RACE_KEYS 3u
#define RACE_THREADS 6u
#define RACE_OPS 25000u
#define RACE_PEER_BITS 20u
#define RACE_PEER_MASK ((1u << RACE_PEER_BITS) - 1u)
#define RACE_CREATING 0x80000000u
#define RACE_INSTANCES ((RACE_CREATING >> RACE_PEER_BITS) - 1u) /* 1..2047 */
#define RACE_PEERS (RACE_THREADS * RACE_OPS + 2u)

struct race {
    struct plsp_ctab *t;
    atomic_uint clock, next_peer, next_instance;
    atomic_uint lower[RACE_KEYS];  /* [RACE_CREATING |] instance << RACE_PEER_BITS | peer */
    atomic_uint *born, *ended;     /* per peer: clock (0: not yet) */
    atomic_uint *ended_by;         /* per peer: what ended it (diagnostics) */
    atomic_uint *instance_of;      /* per peer: the instance it connected */
    atomic_ulong wrong, printed, from_table, refused;
};

struct race_thread {
    struct race *r;
    unsigned id;
};

static unsigned race_instance(unsigned v) { return (v & ~RACE_CREATING) >> RACE_PEER_BITS; }
/* A socket a program may use: there, and its creating call returned. */
static int race_usable(unsigned v) { return race_instance(v) != 0 && !(v & RACE_CREATING); }
static unsigned race_peer(unsigned v) { return v & RACE_PEER_MASK; }

static void race_report(struct race *r, const char *fmt, unsigned a, unsigned b, unsigned c)
{
    atomic_fetch_add(&r->wrong, 1);
    if (atomic_fetch_add(&r->printed, 1) < 10) {
        fprintf(stderr, fmt, a, b, c);
        fputc('\n', stderr);
    }
}

/* The address of peer p: 16 or 28 bytes, p in the first four, the rest
 * derived from p, so a torn or foreign copy shows. */
static size_t race_peer_bytes(unsigned p, uint8_t *out)
{
    size_t len = p % 2 ? 28 : 16, j;

    memcpy(out, &p, sizeof(p));
    for (j = sizeof(p); j < len; j++)
        out[j] = peer_byte(p, len, j);
    return len;
}

static unsigned race_decode(struct race *r, const struct plsp_conn *c)
{
    uint8_t want[PLSP_PEER_MAX] = {0};
    unsigned p;

    memcpy(&p, c->peer, sizeof(p));
    if (p == 0 || p >= RACE_PEERS || race_peer_bytes(p, want) != c->peer_len ||
        memcmp(want, c->peer, sizeof(want)) != 0) {
        race_report(r, "a torn or foreign peer (first word %u, len %u) %u", p, c->peer_len, 0);
        return 0;
    }
    return p;
}

/* The simulated provider below: one atomic change per call.  A connect
 * (new_peer != 0) notes which instance its peer belongs to before the
 * change makes it visible. */
static unsigned race_lower_change(struct race *r, unsigned k, unsigned (*next)(unsigned, unsigned),
                                  unsigned arg, unsigned new_peer, unsigned *before)
{
    unsigned v = atomic_load(&r->lower[k]), n;

    do {
        n = next(v, arg);
        if (n == v)
            break;
        if (new_peer != 0)
            atomic_store(&r->instance_of[new_peer], race_instance(v));
    } while (!atomic_compare_exchange_weak(&r->lower[k], &v, n));
    *before = v;
    return n != v;
}

static unsigned next_connect(unsigned v, unsigned p)
{
    return race_usable(v) ? (race_instance(v) << RACE_PEER_BITS) | p : v;
}

static unsigned next_shutdown(unsigned v, unsigned unused)
{
    (void)unused;
    return race_usable(v) ? race_instance(v) << RACE_PEER_BITS : v;
}

static unsigned next_close(unsigned v, unsigned unused)
{
    (void)unused;
    return race_usable(v) ? 0 : v;
}

static unsigned next_socket(unsigned v, unsigned inst)
{
    return v == 0 ? RACE_CREATING | inst << RACE_PEER_BITS : v;
}

/* After a lower call that changed the word from before: its peer ended,
 * by a connect (1), shutdown (2) or close (3), whose lookup found a record
 * (+ 10) or not. */
static void race_end_peer(struct race *r, unsigned before, unsigned by)
{
    unsigned p = race_peer(before);

    if (p != 0) {
        atomic_store(&r->ended_by[p], by);
        atomic_store(&r->ended[p], atomic_fetch_add(&r->clock, 1) + 1);
    }
}

static void race_getpeername(struct race *r, unsigned k)
{
    uint64_t key = handle_key(k);
    unsigned t0 = atomic_fetch_add(&r->clock, 1) + 1, t1, p, born, ended, v;
    uint8_t bytes[PLSP_PEER_MAX];
    struct plsp_conn c;

    if (!race_usable(atomic_load(&r->lower[k])))
        return; /* WSAENOTSOCK from ws2_32 */
    if (!plsp_ctab_lookup(r->t, key, &c))
        return; /* asks below, records nothing */
    if (c.state == PLSP_PEER_KNOWN) {
        t1 = atomic_fetch_add(&r->clock, 1) + 1;
        p = race_decode(r, &c);
        if (p == 0)
            return;
        atomic_fetch_add(&r->from_table, 1);
        born = atomic_load(&r->born[p]);
        ended = atomic_load(&r->ended[p]);
        if (born == 0 || born > t1)
            race_report(r, "peer %u answered in [%u, ...] but born at %u", p, t0, born);
        if (ended != 0 && ended < t0)
            race_report(r, "peer %u answered in [%u, ...] but ended at %u", p, t0,
                        ended * 100u + atomic_load(&r->ended_by[p]));
        if (c.provider != (uint8_t)atomic_load(&r->instance_of[p]))
            race_report(r, "peer %u of instance %u answered for instance tag %u", p,
                        atomic_load(&r->instance_of[p]), c.provider);
        return;
    }
    if (c.state == PLSP_PEER_VOLATILE)
        return; /* asks below, records nothing */
    RACE_STALL();
    v = atomic_load(&r->lower[k]);
    RACE_STALL();
    if (race_peer(v) != 0) {
        size_t len = race_peer_bytes(race_peer(v), bytes);
        if (!plsp_ctab_set_peer(r->t, key, c.gen, bytes, len))
            atomic_fetch_add(&r->refused, 1);
    }
}

/* nonblocking: the lower connect says WSAEWOULDBLOCK (and here completes
 * at once), so connect.c leaves the record UNKNOWN and the next getpeername
 * asks below and records what it hears, over the gen it looked up. */
static void race_connect(struct race *r, unsigned k, int nonblocking)
{
    uint64_t key = handle_key(k);
    unsigned p = atomic_fetch_add(&r->next_peer, 1) + 1, before, v;
    struct plsp_conn c;
    plsp_gen gen = 0;
    int found, marked, ok;
    uint8_t bytes[PLSP_PEER_MAX];

    atomic_store(&r->born[p], atomic_fetch_add(&r->clock, 1) + 1);
    found = plsp_ctab_lookup(r->t, key, &c);
    RACE_STALL();
    marked = found && plsp_ctab_set_state(r->t, key, PLSP_PEER_VOLATILE, PLSP_ANY_GEN, &gen);
    RACE_STALL();
    ok = race_lower_change(r, k, next_connect, p, p, &before);
    RACE_STALL();
    if (!marked)
        (void)plsp_ctab_mark_volatile(r->t, key); /* connect.c: a record made meanwhile */
    if (marked) {
        v = atomic_load(&r->lower[k]); /* plsp_peer_refresh asks below */
        RACE_STALL();
        if (ok && !nonblocking && race_peer(v) != 0) {
            size_t len = race_peer_bytes(race_peer(v), bytes);
            /* Refused: another change came since gen, and what it
             * recorded may predate this connect (getpeername.c). */
            if (!plsp_ctab_set_peer(r->t, key, gen, bytes, len))
                (void)plsp_ctab_mark_volatile(r->t, key);
        } else if (!plsp_ctab_set_state(r->t, key, PLSP_PEER_UNKNOWN, gen, NULL)) {
            (void)plsp_ctab_mark_volatile(r->t, key); /* plsp_peer_end_change */
        }
    }
    if (ok)
        race_end_peer(r, before, 1u + 10u * (unsigned)found);
}

static void race_shutdown(struct race *r, unsigned k)
{
    uint64_t key = handle_key(k);
    unsigned before;
    struct plsp_conn c;
    int found = plsp_ctab_lookup(r->t, key, &c);

    /* VOLATILE before the lower call and again after it (connect.c). */
    if (found)
        (void)plsp_ctab_mark_volatile(r->t, key);
    RACE_STALL();
    if (race_lower_change(r, k, next_shutdown, 0, 0, &before)) {
        RACE_STALL();
        (void)plsp_ctab_mark_volatile(r->t, key);
        race_end_peer(r, before, 2u + 10u * (unsigned)found);
    }
}

static void race_close(struct race *r, unsigned k)
{
    uint64_t key = handle_key(k);
    unsigned before;
    struct plsp_conn c;
    int found = plsp_ctab_lookup(r->t, key, &c);

    RACE_STALL();
    if (!race_lower_change(r, k, next_close, 0, 0, &before))
        return; /* no socket there: WSAENOTSOCK */
    RACE_STALL();
    if (found)
        (void)plsp_ctab_remove_if(r->t, key, c.gen);
    race_end_peer(r, before, 3u + 10u * (unsigned)found);
}

static void race_socket(struct race *r, unsigned k)
{
    unsigned inst, before;

    /* Instances 1..2047, over and over. */
    inst = atomic_fetch_add(&r->next_instance, 1) % RACE_INSTANCES + 1u;
    if (!race_lower_change(r, k, next_socket, inst, 0, &before))
        return; /* the value is in use */
    if (plsp_ctab_insert(r->t, handle_key(k), (uint8_t)inst) != 0)
        race_report(r, "insert failed (%u %u %u)", k, inst, 0);
    atomic_fetch_and(&r->lower[k], ~RACE_CREATING); /* WSPSocket returns */
}

static void race_thread_main(void *arg)
{
    struct race_thread *th = arg;
    struct rng rg = {600 + th->id};
    unsigned op;

    for (op = 0; op < RACE_OPS; op++) {
        unsigned k = (unsigned)rng_below(&rg, RACE_KEYS);
        switch (rng_below(&rg, 20)) {
        case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
            race_getpeername(th->r, k); break;
        case 8: case 9: case 10:
            race_connect(th->r, k, 0); break;
        case 11:
            race_connect(th->r, k, 1); break;
        case 12: case 13:
            race_shutdown(th->r, k); break;
        case 14: case 15: case 16:
            race_close(th->r, k); break;
        default:
            race_socket(th->r, k); break;
        }
    }
}

static void test_threads_race_same_handles(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct race r;
    struct race_thread ths[RACE_THREADS];
    struct thread threads[RACE_THREADS];
    unsigned k, w, known_at_end = 0;

    (void)state;
    memset(&r, 0, sizeof(r));
    r.t = create_table();
    atomic_init(&r.clock, 0);
    atomic_init(&r.next_peer, 0);
    atomic_init(&r.next_instance, 0);
    atomic_init(&r.wrong, 0);
    atomic_init(&r.printed, 0);
    atomic_init(&r.from_table, 0);
    atomic_init(&r.refused, 0);
    r.born = calloc(RACE_PEERS, sizeof(*r.born));
    r.ended = calloc(RACE_PEERS, sizeof(*r.ended));
    r.instance_of = calloc(RACE_PEERS, sizeof(*r.instance_of));
    r.ended_by = calloc(RACE_PEERS, sizeof(*r.ended_by));
    assert_true(r.born != NULL && r.ended != NULL && r.instance_of != NULL && r.ended_by != NULL);
    for (k = 0; k < RACE_KEYS; k++) {
        atomic_init(&r.lower[k], 0);
        race_socket(&r, k);
    }
    for (w = 0; w < RACE_THREADS; w++) {
        ths[w].r = &r;
        ths[w].id = w;
        threads[w].fn = race_thread_main;
        threads[w].arg = &ths[w];
    }
    for (w = 0; w < RACE_THREADS; w++)
        if (thread_start(&threads[w]) != 0)
            fail_msg("could not start thread %u", w);
    for (w = 0; w < RACE_THREADS; w++)
        if (thread_join(&threads[w]) != 0)
            fail_msg("could not join thread %u", w);

    /* Quiet now: a peer the table still holds is the one below, of the
     * instance living there. */
    for (k = 0; k < RACE_KEYS; k++) {
        struct plsp_conn c;
        unsigned v = atomic_load(&r.lower[k]), p;

        if (!plsp_ctab_lookup(r.t, handle_key(k), &c) || c.state != PLSP_PEER_KNOWN)
            continue;
        known_at_end++;
        p = race_decode(&r, &c);
        if (p != 0 && (race_peer(v) != p || race_instance(v) != atomic_load(&r.instance_of[p]) ||
                       c.provider != (uint8_t)race_instance(v)))
            race_report(&r, "at the end: the table says peer %u, below is %#x (instance tag %u)",
                        p, v, c.provider);
    }
    print_message("%u operations: %lu answers from the table checked, %lu stale set_peer "
                  "refused, %u of %u handle values known at the end\n",
                  RACE_THREADS * RACE_OPS, (unsigned long)atomic_load(&r.from_table),
                  (unsigned long)atomic_load(&r.refused), known_at_end, RACE_KEYS);
    if (atomic_load(&r.from_table) == 0)
        fail_msg("no answer came from the table: nothing was checked");
    if (atomic_load(&r.wrong) != 0)
        fail_msg("%lu wrong answers (the first ones are on stderr), expected 0",
                 (unsigned long)atomic_load(&r.wrong));
    free(r.born);
    free(r.ended);
    free(r.instance_of);
    free(r.ended_by);
    destroy_table(r.t, live);
}

/* remove_if removes the socket instance whose gen was read, whatever was
 * written to it since, and never a later socket on the same handle value. */
static void test_remove_if_instance(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    uint8_t a[16];
    plsp_gen g_old, g_new;

    (void)state;
    make_peer(0x80, sizeof(a), a);
    assert_int_equal(plsp_ctab_insert(t, 0x80, 1), 0);
    g_old = gen_of(t, 0x80);
    /* Writes to the same instance do not change who it is. */
    assert_int_equal(plsp_ctab_set_peer(t, 0x80, PLSP_ANY_GEN, a, sizeof(a)), 1);
    assert_int_equal(plsp_ctab_forget_peer(t, 0x80), 1);
    assert_int_equal(plsp_ctab_remove_if(t, 0x80, g_old), 1);
    expect_absent(t, 0x80, "removed by its own instance's gen");
    assert_int_equal(plsp_ctab_remove_if(t, 0x80, g_old), 0);

    /* The handle value is reused by a new socket before the old close
     * finished: the old gen must not remove the new record. */
    assert_int_equal(plsp_ctab_insert(t, 0x84, 1), 0);
    g_old = gen_of(t, 0x84);
    assert_int_equal(plsp_ctab_insert(t, 0x84, 2), 0);
    g_new = gen_of(t, 0x84);
    if (g_new <= g_old)
        fail_msg("replace did not take a newer gen: %#llx then %#llx", (unsigned long long)g_old,
                 (unsigned long long)g_new);
    assert_int_equal(plsp_ctab_remove_if(t, 0x84, g_old), 0);
    expect_record(t, 0x84, 2, PLSP_PEER_UNKNOWN, NULL, 0, "newer instance kept");
    assert_int_equal(plsp_ctab_remove_if(t, 0x88, g_new), 0);
    assert_int_equal(plsp_ctab_count(t), 1);
    assert_int_equal(plsp_ctab_remove_if(t, 0x84, g_new), 1);
    assert_int_equal(plsp_ctab_count(t), 0);
    destroy_table(t, live);
}

/* VOLATILE: no peer, a new gen (so an answer fetched before is refused),
 * and a set with PLSP_ANY_GEN (a new connection) ends it. */
static void test_mark_volatile(void **state)
{
    size_t live = ctab_test_live_bytes();
    struct plsp_ctab *t = create_table();
    uint8_t a[28];
    plsp_gen g0, g1;

    (void)state;
    make_peer(0x90, sizeof(a), a);
    assert_int_equal(plsp_ctab_mark_volatile(t, 0x90), 0);
    expect_absent(t, 0x90, "mark_volatile on an absent key");
    assert_int_equal(plsp_ctab_insert(t, 0x90, 7), 0);
    assert_int_equal(plsp_ctab_set_peer(t, 0x90, PLSP_ANY_GEN, a, sizeof(a)), 1);
    g0 = gen_of(t, 0x90);
    assert_int_equal(plsp_ctab_mark_volatile(t, 0x90), 1);
    g1 = expect_record(t, 0x90, 7, PLSP_PEER_VOLATILE, NULL, 0, "volatile");
    assert_int_not_equal(g1, g0);
    assert_true(g1 > g0);
    assert_int_equal(plsp_ctab_set_peer(t, 0x90, g0, a, sizeof(a)), 0);
    expect_record(t, 0x90, 7, PLSP_PEER_VOLATILE, NULL, 0, "stale answer refused");
    assert_int_equal(plsp_ctab_set_peer(t, 0x90, PLSP_ANY_GEN, a, 16), 1);
    expect_record(t, 0x90, 7, PLSP_PEER_KNOWN, a, 16, "reconnected");
    destroy_table(t, live);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_table),
        cmocka_unit_test(test_insert_lookup),
        cmocka_unit_test(test_replace_resets_record),
        cmocka_unit_test(test_set_peer_gen),
        cmocka_unit_test(test_set_peer_lengths),
        cmocka_unit_test(test_forget_peer),
        cmocka_unit_test(test_remove),
        cmocka_unit_test(test_gen_grows),
        cmocka_unit_test(test_gen_never_comes_back),
        cmocka_unit_test(test_remove_if_instance),
        cmocka_unit_test(test_mark_volatile),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_remove_random_small),
        cmocka_unit_test(test_remove_random_large),
        cmocka_unit_test(test_remove_never_allocates),
        cmocka_unit_test(test_keys_sharing_one_home),
        cmocka_unit_test(test_fill_costs_few_barriers),
        cmocka_unit_test(test_colliding_keys),
        cmocka_unit_test(test_memory_accounting),
        cmocka_unit_test(test_memory_per_entry_1m),
        cmocka_unit_test(test_memory_returns_after_peak),
        cmocka_unit_test(test_create_out_of_memory),
        cmocka_unit_test(test_insert_out_of_memory),
        cmocka_unit_test(test_reader_slots_follow_threads),
        cmocka_unit_test(test_reader_keeps_retired_index),
        cmocka_unit_test(test_failed_barrier_keeps_retired),
#ifdef _WIN32
        cmocka_unit_test(test_reader_slot_fiber_deleted_elsewhere),
#endif
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_threads_hot_cluster),
        cmocka_unit_test(test_threads_shrink_grow),
        cmocka_unit_test(test_threads_race_same_handles),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
