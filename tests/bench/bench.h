/*
 * bench.h - what the files of peerlsp-bench.exe share.
 *
 * peerlsp-bench runs under Wine through the test host (tests/host), with
 * one catalog in which peerlsp's chains come first over tbase (the base
 * provider). Every figure compares the same operation on two sockets of the
 * same session: one made with socket() (peerlsp's chain, as every program
 * gets it once peerlsp is installed) and one made with WSASocketW and the
 * base entry's WSAPROTOCOL_INFOW (tbase alone). Both go through the same
 * host routing code (handle -> catalog entry -> proc table), so the ratio
 * is the cost peerlsp adds, and nothing else.
 */
#ifndef PEERLSP_BENCH_H
#define PEERLSP_BENCH_H

#include <stddef.h>

#include "wshost.h"

/* ---- measurement (bench_measure.c) ------------------------------------ */

/* Runs the operation `iters` times; returns the nanoseconds it timed (a
 * run may leave set-up work outside its timed part). */
typedef double (*bench_run_fn)(void *ctx, long iters);

struct bench_op {
    bench_run_fn run;
    void *ctx;
};

/* Interleaved rounds: per-path medians, and the median of the rounds'
 * ratios. */
struct bench_pair {
    double lsp_ns;    /* median ns per operation through peerlsp */
    double base_ns;   /* median ns per operation on the base provider alone */
    double lsp_min, lsp_max, base_min, base_max; /* spread over the rounds */
    double ratio;     /* median over the rounds of lsp / base in the round */
    double ratio_min, ratio_max;
    int rounds;
};

/* Nanoseconds since an arbitrary start (QueryPerformanceCounter). */
double bench_now_ns(void);

/* How many iterations of op take about target_ms (at least min_iters). */
long bench_calibrate(const struct bench_op *op, double target_ms, long min_iters);

/* Calibrates both operations, then runs `rounds` rounds of about
 * 2 x target_ms each.  A round times both in eight slices each, interleaved
 * A B B A A B B A (mirrored every other round), so that a drift of the
 * machine within the round hits both alike; its ratio compares the two
 * paths over the same stretch of time.  Stores the median ratio of the
 * rounds and each path's median. */
void bench_compare(const struct bench_op *lsp, const struct bench_op *base, int rounds,
                   double target_ms, struct bench_pair *out);

double bench_median(double *v, int n);

/* Prints the message and the host's last error, and exits with 1. */
void bench_die(const char *what);

/* ---- the session and its sockets (bench_net.c) ------------------------ */

enum bench_path { BENCH_LSP, BENCH_BASE };

extern const char *const bench_path_names[];

/* Builds the catalog (tbase, then peerlsp over it, chains first) and starts
 * the host. */
void bench_session_start(void);
void bench_session_stop(void);

/* A socket of (af, type) on the given path: socket() for BENCH_LSP,
 * WSASocketW with the base entry's protocol info for BENCH_BASE. Checks
 * that the host bound it to the expected entry. */
SOCKET bench_socket(enum bench_path path, int af, int type);
/* The same without the check (for timed loops): INVALID_SOCKET on failure. */
SOCKET bench_socket_raw(enum bench_path path, int af, int type);

/* A listening TCP/IPv4 socket on loopback of the path; its address out. */
SOCKET bench_listener(enum bench_path path, SOCKADDR_STORAGE *addr, int *len);
/* A UDP/IPv4 socket bound to loopback (any path); its address out. */
SOCKET bench_udp_server(SOCKADDR_STORAGE *addr, int *len);
/* A connected TCP client of the path and the accepted side (from
 * `listener`, whose path decides the accepted socket's path). */
SOCKET bench_tcp_pair(enum bench_path path, SOCKET listener, const SOCKADDR_STORAGE *addr,
                      int len, SOCKET *accepted);

/* tbase's count of WSPGetPeerName calls (all sessions). */
long bench_base_getpeername_calls(void);

/* ---- the figures ------------------------------------------------------ */

/* bench_peer.c */
/* One connected TCP socket per path: through the host (out), and the
 * providers' WSPGetPeerName called from their proc tables (spi). */
void bench_getpeername_one(int rounds, struct bench_pair *out, struct bench_pair *spi);
/* n real connected UDP sockets per path, called in a random order. */
void bench_getpeername_many(int n, int rounds, struct bench_pair *out);

/* bench_churn.c: one connected TCP socket through peerlsp, its getpeername
 * timed while another thread does socket + connect (UDP) + closesocket
 * through peerlsp without pause (out->lsp_ns) and on a quiet table
 * (out->base_ns); out->ratio is churned / quiet.  control: the same for a
 * loop that calls nothing (what the churner costs any thread).  *cycles_per_s: the
 * churner's rate over the whole comparison. */
void bench_getpeername_churn(int rounds, struct bench_pair *out, struct bench_pair *control,
                             double *cycles_per_s);

/* bench_io.c */
/* out: peerlsp / base; aa: a second base pair / the first (the noise
 * floor); *identical: whether peerlsp's WSPSend/WSPRecv slots are the base
 * provider's own functions. */
void bench_send_recv(int rounds, struct bench_pair *out, struct bench_pair *aa, int *identical);
void bench_connect_close(int rounds, struct bench_pair *out);

/* bench_threads.c: getpeername throughput, 2 threads / 1 thread (each
 * thread its own connected socket), for the path. */
struct bench_scaling {
    double ns_1;     /* median wall ns per call, one thread */
    double ns_2;     /* median wall ns per call (all calls), two threads */
    double speedup;  /* throughput with 2 threads / with 1 = ns_1 / ns_2 */
    double ceiling;  /* the same for a loop that calls nothing (arithmetic
                        only), measured in the same rounds: what the machine
                        gives two threads at the time */
};
void bench_threads(enum bench_path path, int rounds, struct bench_scaling *out);

/* bench_table.c: the connection table (src/conntable.c, compiled into this
 * program with the DLL's compiler and flags) under Wine: ns per lookup of
 * `entries` peer records, keys looked up in a random order (one key over
 * and over when entries is 1). */
double bench_table_lookup_ns(size_t entries, int rounds);

#endif /* PEERLSP_BENCH_H */
