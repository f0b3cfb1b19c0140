/*
 * conntable.h - per-socket connection state, keyed by socket handle.
 *
 * Portable C11 with no Windows types, so that the same file builds into
 * peerlsp.dll and natively (unit tests, fuzzing, instruction counts).
 *
 * Concurrency: any number of threads may call plsp_ctab_lookup() at once,
 * with each other and with one writer; lookups take no lock and write only
 * their thread's reader slot (plain stores, on a cache line of its own), or
 * when every slot is taken a reader counter, so that retired memory can be
 * freed (conntable.c); readers do not serialise. Writers (insert, set_peer,
 * set_state, forget_peer, mark_volatile, remove, remove_if) serialise on an
 * internal lock and never wait for readers.
 */
#ifndef PEERLSP_CONNTABLE_H
#define PEERLSP_CONNTABLE_H

#include <stddef.h>
#include <stdint.h>

/* Largest peer address the table stores inline: sizeof(struct sockaddr_in6). */
#define PLSP_PEER_MAX 28

/* What the record knows about the socket's peer. */
enum plsp_peer_state {
    PLSP_PEER_UNKNOWN = 0, /* ask the lower provider */
    PLSP_PEER_KNOWN = 1,   /* peer[0..peer_len) is exactly getpeername's answer */
    PLSP_PEER_VOLATILE = 2 /* ask the lower provider and cache nothing: a
                              disconnect is under way */
};

/* A record's generation: the value of the table-wide write counter taken by
 * the record's latest write.  Every write (insert, replace, set_peer,
 * set_state, forget_peer, mark_volatile) takes the next value of one 64-bit
 * counter, so a gen never comes back within the table's lifetime (2^64
 * writes), and the gens of one handle value only grow, across socket
 * instances too. */
typedef uint64_t plsp_gen;

/* A copy of one socket's record, as plsp_ctab_lookup() returns it. */
struct plsp_conn {
    plsp_gen gen;      /* changes on every write to the record */
    uint8_t provider;  /* caller's tag: which lower provider owns the socket */
    uint8_t state;     /* enum plsp_peer_state */
    uint8_t peer_len;  /* valid bytes in peer when state == PLSP_PEER_KNOWN */
    uint8_t reserved;
    uint8_t peer[PLSP_PEER_MAX];
};

/* plsp_ctab_set_peer()'s and set_state()'s expected_gen that matches any
 * record; never a record's gen. */
#define PLSP_ANY_GEN UINT64_MAX

struct plsp_ctab;

/* Returns NULL when out of memory. */
struct plsp_ctab *plsp_ctab_create(void);
/* No other call may be in progress or follow. */
void plsp_ctab_destroy(struct plsp_ctab *table);

/* Adds a record for key, or replaces the one there (a reused handle value
 * starts afresh): state UNKNOWN, the given provider tag.
 * Returns 0, or -1 when out of memory (the table is then unchanged). */
int plsp_ctab_insert(struct plsp_ctab *table, uint64_t key, uint8_t provider);

/* The same, and *gen_out (when not NULL) receives the new record's gen. */
int plsp_ctab_insert_get(struct plsp_ctab *table, uint64_t key, uint8_t provider,
                         plsp_gen *gen_out);

/* Copies key's record into *out. Returns 1 when found, 0 when not. */
int plsp_ctab_lookup(const struct plsp_ctab *table, uint64_t key, struct plsp_conn *out);

/* Records key's peer (len bytes, 1..PLSP_PEER_MAX) if the record exists and
 * its gen is still expected_gen (or expected_gen is PLSP_ANY_GEN), so that an
 * answer fetched from below is not cached over a newer write.
 * Returns 1 when written, 0 when not. */
int plsp_ctab_set_peer(struct plsp_ctab *table, uint64_t key, plsp_gen expected_gen,
                       const void *peer, size_t len);

/* Drops key's peer and sets state (PLSP_PEER_UNKNOWN or PLSP_PEER_VOLATILE)
 * if the record exists and its gen is still expected_gen (or expected_gen is
 * PLSP_ANY_GEN). *gen_out (when not NULL) receives the new gen. Returns 1
 * when written, 0 when not. */
int plsp_ctab_set_state(struct plsp_ctab *table, uint64_t key, uint8_t state,
                        plsp_gen expected_gen, plsp_gen *gen_out);

/* Sets key's state back to UNKNOWN. Returns 1 when the record exists. */
int plsp_ctab_forget_peer(struct plsp_ctab *table, uint64_t key);

/* Sets key's state to VOLATILE. Returns 1 when the record exists. A later
 * set_peer with the gen read before this call is refused, as after any
 * write; set_peer with PLSP_ANY_GEN (a new connection) ends it. */
int plsp_ctab_mark_volatile(struct plsp_ctab *table, uint64_t key);

/* Deletes key's record. Returns 1 when it existed. */
int plsp_ctab_remove(struct plsp_ctab *table, uint64_t key);

/* Deletes key's record only if it is still the socket instance that gen was
 * read from (no insert on key since that read, whatever else was written),
 * so that closing a handle cannot delete the record of a new socket that
 * reused the value meanwhile. gen must have been read from key. Returns 1
 * when it deleted. */
int plsp_ctab_remove_if(struct plsp_ctab *table, uint64_t key, plsp_gen gen);

/* Number of records. */
size_t plsp_ctab_count(const struct plsp_ctab *table);

/* Reader slots held by threads (one per thread that has looked up and not
 * ended). */
size_t plsp_ctab_reader_slots(const struct plsp_ctab *table);

/* Bytes currently allocated by the table, all allocations included. */
size_t plsp_ctab_memory(const struct plsp_ctab *table);

#endif /* PEERLSP_CONNTABLE_H */
