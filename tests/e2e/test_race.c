/*
 * test_race.c - connect, getpeername, close and reuse racing on the same
 * handle values, through the DLL in the test host, every answer checked
 * against the answers that were legal at that moment.
 *
 * Four threads share three slots, each holding a UDP socket (handle value).
 * A thread picks a slot and, on the value there: connects it to a new peer
 * (a UDP connect needs nobody at the other end, so every connect gets a
 * loopback port of its own: peer p is 127.0.0.1:(PORT0 + p)), asks
 * getpeername — connects and getpeernames of several threads race on the
 * same socket — or closes it and puts a new socket in the slot (Wine hands
 * the freed value out again, often at once, to this slot or another).  A
 * close waits for the calls on its slot to return (a lock per slot, shared
 * by connect and getpeername): under Wine a call racing a close of its own
 * handle can land on whatever socket reuses the Unix descriptor, which no
 * model of handle values can predict (seen on the base provider alone), and
 * on Windows it is a use after close.  The test knows the order of its own events on a clock: a
 * peer is born when its connect starts; it ends when a later call on the
 * same handle value — one that started after the connect had returned —
 * connects it elsewhere or closes it, and returns.  A getpeername that
 * started at t0 and returned at t1 with peer p is legal only if p was
 * connected on that handle value, born by t1 and not ended before t0.
 * Errors (WSAENOTCONN, WSAENOTSOCK) are always legal here.  The same run on
 * the base provider alone checks the test itself.
 */
#include "e2e.h"

#include <stdio.h>
#include <string.h>

#define RACE_THREADS 4
#define RACE_SLOTS 3
#define RACE_OPS 250
#define RACE_PEERS (RACE_THREADS * RACE_OPS + 1)
#define PORT0 20000

struct race {
    const struct e2e_session *s;
    volatile LONG_PTR slot[RACE_SLOTS];
    SRWLOCK slot_lock[RACE_SLOTS];
    volatile LONG clock, next_peer;
    CRITICAL_SECTION book; /* the bookkeeping below, never held across a call */
    LONG born[RACE_PEERS], returned[RACE_PEERS], ended[RACE_PEERS];
    SOCKET handle_of[RACE_PEERS];
    volatile LONG wrong, checked, from_peers;
    char first_error[200];
};

struct race_thread {
    struct race *r;
    unsigned id;
};

static LONG tick(struct race *r)
{
    return InterlockedIncrement(&r->clock);
}

static void race_wrong(struct race *r, const char *fmt, long a, long b, long c)
{
    if (InterlockedIncrement(&r->wrong) == 1)
        snprintf(r->first_error, sizeof r->first_error, fmt, a, b, c);
}

/* A call on h that began at `began` changed its peer (connect) or ended the
 * socket (close) and returned at `now`: every peer of h whose connect had
 * returned before `began` has ended. */
static void end_peers(struct race *r, SOCKET h, LONG began, LONG now, LONG except)
{
    EnterCriticalSection(&r->book);
    for (LONG p = 1; p < r->next_peer && p < RACE_PEERS; p++)
        if (p != except && r->handle_of[p] == h && r->returned[p] != 0 &&
            r->returned[p] < began && r->ended[p] == 0)
            r->ended[p] = now;
    LeaveCriticalSection(&r->book);
}

static void op_connect(struct race *r, SOCKET h)
{
    const struct wsapi *api = r->s->api;
    LONG p = InterlockedIncrement(&r->next_peer);
    SOCKADDR_STORAGE to;
    int len;

    if (p >= RACE_PEERS)
        return;
    e2e_loopback(AF_INET, (unsigned short)(PORT0 + p), &to, &len);
    EnterCriticalSection(&r->book);
    r->handle_of[p] = h;
    r->born[p] = tick(r);
    LeaveCriticalSection(&r->book);
    LONG began = r->born[p];
    int ret = api->connect(h, (struct sockaddr *)&to, len);
    LONG now = tick(r);
    if (ret == 0) {
        EnterCriticalSection(&r->book);
        r->returned[p] = now;
        LeaveCriticalSection(&r->book);
        end_peers(r, h, began, now, p);
    } else {
        EnterCriticalSection(&r->book);
        r->handle_of[p] = INVALID_SOCKET; /* never anyone's peer */
        LeaveCriticalSection(&r->book);
    }
}

static void op_getpeername(struct race *r, SOCKET h)
{
    const struct wsapi *api = r->s->api;
    SOCKADDR_STORAGE peer;
    int plen = sizeof peer;
    LONG t0 = tick(r);
    int ret = api->getpeername(h, (struct sockaddr *)&peer, &plen);
    LONG t1 = tick(r);

    if (ret != 0)
        return;
    InterlockedIncrement(&r->checked);
    const struct sockaddr_in *in = (const struct sockaddr_in *)&peer;
    long p = (long)ntohs(in->sin_port) - PORT0;
    if (plen != (int)sizeof *in || in->sin_family != AF_INET || p < 1 || p >= RACE_PEERS) {
        race_wrong(r, "handle %#lx: getpeername answered family %ld, port %ld", (long)h,
                   in->sin_family, (long)ntohs(in->sin_port));
        return;
    }
    EnterCriticalSection(&r->book);
    SOCKET of = r->handle_of[p];
    LONG born = r->born[p], ended = r->ended[p];
    LeaveCriticalSection(&r->book);
    InterlockedIncrement(&r->from_peers);
    if (of != h)
        race_wrong(r, "handle %#lx: answered peer %ld, connected on handle %#lx", (long)h, p,
                   (long)of);
    else if (born == 0 || born > t1)
        race_wrong(r, "peer %ld answered in [%ld, ...], born at %ld", p, t0, born);
    else if (ended != 0 && ended < t0)
        race_wrong(r, "peer %ld answered in [%ld, ...], ended at %ld", p, t0, ended);
}

/* With the slot's lock held exclusively. */
static void op_close_reuse(struct race *r, unsigned slot)
{
    const struct wsapi *api = r->s->api;
    SOCKET h = (SOCKET)r->slot[slot];
    LONG began = tick(r);
    int ret = api->closesocket(h);
    LONG now = tick(r);

    if (ret != 0)
        race_wrong(r, "closesocket(%#lx) failed: %ld (%ld)", (long)h, (long)api->WSAGetLastError(), 0);
    end_peers(r, h, began, now, 0);
    SOCKET n = api->socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    if (n == INVALID_SOCKET)
        race_wrong(r, "socket failed: %ld (%ld %ld)", (long)api->WSAGetLastError(), 0, 0);
    r->slot[slot] = (LONG_PTR)n;
}

static DWORD WINAPI race_main(void *arg)
{
    struct race_thread *th = arg;
    struct race *r = th->r;
    unsigned long long x = 0x9E3779B97F4A7C15ull * (th->id + 1);

    for (int op = 0; op < RACE_OPS; op++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        unsigned slot = (unsigned)(x >> 40) % RACE_SLOTS, what = (unsigned)(x >> 20) % 10;
        if (what >= 8) {
            AcquireSRWLockExclusive(&r->slot_lock[slot]);
            if ((SOCKET)r->slot[slot] != INVALID_SOCKET)
                op_close_reuse(r, slot);
            ReleaseSRWLockExclusive(&r->slot_lock[slot]);
            continue;
        }
        AcquireSRWLockShared(&r->slot_lock[slot]);
        SOCKET h = (SOCKET)r->slot[slot];
        if (h != INVALID_SOCKET) {
            if (what < 3)
                op_connect(r, h);
            else
                op_getpeername(r, h);
        }
        ReleaseSRWLockShared(&r->slot_lock[slot]);
    }
    return 0;
}

static void test_race_same_handles(void **state)
{
    enum e2e_layout layout = *(enum e2e_layout *)*state;
    struct e2e_session s;
    static struct race r;
    struct race_thread ths[RACE_THREADS];
    HANDLE threads[RACE_THREADS];

    e2e_start(&s, layout);
    memset(&r, 0, sizeof r);
    r.s = &s;
    InitializeCriticalSection(&r.book);
    for (int i = 0; i < RACE_SLOTS; i++) {
        InitializeSRWLock(&r.slot_lock[i]);
        SOCKET h = s.api->socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
        assert_true(h != INVALID_SOCKET);
        r.slot[i] = (LONG_PTR)h;
    }
    for (int t = 0; t < RACE_THREADS; t++) {
        ths[t].r = &r;
        ths[t].id = (unsigned)t;
        threads[t] = CreateThread(NULL, 0, race_main, &ths[t], 0, NULL);
        assert_non_null(threads[t]);
    }
    assert_int_equal(WaitForMultipleObjects(RACE_THREADS, threads, TRUE, 120000), WAIT_OBJECT_0);
    for (int t = 0; t < RACE_THREADS; t++)
        CloseHandle(threads[t]);
    for (int i = 0; i < RACE_SLOTS; i++)
        if ((SOCKET)r.slot[i] != INVALID_SOCKET && s.api->closesocket((SOCKET)r.slot[i]))
            race_wrong(&r, "closesocket at the end failed: %ld (%ld %ld)",
                       (long)s.api->WSAGetLastError(), 0, 0);
    print_message("%s: %ld getpeername answers checked, %ld connects, %ld wrong\n",
                  e2e_layout_names[layout], (long)r.checked, (long)r.next_peer, (long)r.wrong);
    DeleteCriticalSection(&r.book);
    e2e_stop(&s);
    if (r.checked == 0)
        fail_msg("%s: no getpeername succeeded: nothing was checked", e2e_layout_names[layout]);
    if (r.wrong != 0)
        fail_msg("%s: %ld wrong answers, first: %s", e2e_layout_names[layout], (long)r.wrong,
                 r.first_error);
}

int main(void)
{
    static enum e2e_layout layouts[] = { E2E_BASE_ONLY, E2E_LSP_SHARED, E2E_LSP_OWN };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_race_same_handles, &layouts[E2E_BASE_ONLY]),
        cmocka_unit_test_prestate(test_race_same_handles, &layouts[E2E_LSP_SHARED]),
        cmocka_unit_test_prestate(test_race_same_handles, &layouts[E2E_LSP_OWN]),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
