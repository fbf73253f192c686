/*
 * worker.c — eider_materialize_worker(): a run whose user code runs in a run worker, a
 * child process, while this process records (DESIGN §3). This process plans the run
 * and forks; the worker opens the databases and runs the steps, and writes each event
 * into a ring of shared memory before the step goes on, so that what it wrote outlives
 * it; this process reads the ring, keeps the result, records each event and passes it
 * on. When the worker dies before the run's end (a crash, exit(), SIGKILL, or the kill
 * after a timeout), this process ends the run truly: the running steps failed with the
 * signal or exit status, the steps not started skipped, the run crashed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"
#include "wire.h"
#include "../store/store.h"

#define RING_BYTES (1u << 20)        /* events in flight; a longer one passes in parts */
#define WAIT_MS 20                   /* the longest either side sleeps without looking */
#define NAP_MS 0.1                   /* the parent's nap while events come often ... */
#define BUSY_S 0.002                 /* ... that is, within this time of the last one */
#define GRACE_DEFAULT_S 5.0          /* eider_run_options.timeout_grace_s */
#define ALT_STACK_BYTES (64u << 10)

/* The memory the two processes share: the ring of encoded events, and what the worker
 * says about its own end. The parent sleeps in poll() on a pipe that only the worker
 * holds open for writing: a byte there wakes it for new events, and the pipe's hang-up
 * the moment the worker dies. The worker, when the ring is full, sleeps on a futex. */
typedef struct ring {
    _Atomic uint64_t head;           /* bytes the worker wrote */
    _Atomic uint64_t tail;           /* bytes the parent read */
    atomic_int reader_waits, writer_waits;
    int bell_fd;                     /* the worker's end of the pipe (the parent has the other),
                                        as the worker numbers it: the worker sets it */
    atomic_uint writer_bell;         /* a futex word, bumped to wake the worker */
    eider_atomic_int cancel;         /* the caller's cancel flag, passed on */
    atomic_long crash_asset;         /* the asset whose thread crashed or called exit(), + 1 */
    atomic_int exit_status;          /* exit() in the worker: its status + 1 */
    char data[RING_BYTES];
} ring;

/* ---- the ring ---- */

static void bell_wait(atomic_uint *bell, unsigned seen, int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    syscall(SYS_futex, (unsigned *)bell, FUTEX_WAIT, seen, &ts, NULL, 0);
}

static void bell_ring(atomic_uint *bell)
{
    atomic_fetch_add(bell, 1);
    syscall(SYS_futex, (unsigned *)bell, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* Make the bytes up to head visible to the parent, and wake it if it sleeps. */
static void publish(ring *r, uint64_t head)
{
    atomic_store(&r->head, head);
    if (atomic_load(&r->reader_waits) && write(r->bell_fd, "", 1) < 0)
        return;                      /* full (it is awake, then) or gone: nothing to do */
}

/* Write n bytes, waiting for room while the ring is full. Once it returns they are in
 * memory the parent keeps, whatever becomes of this process. The parent takes a record
 * only once it is whole: one of up to half the ring always finds room once those
 * before it are taken; a longer one the parent copies out as it comes. */
static void ring_write(ring *r, const char *p, size_t n)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    while (n) {
        uint64_t tail = atomic_load(&r->tail);
        size_t room = RING_BYTES - (size_t)(head - tail), at = (size_t)(head % RING_BYTES);
        if (!room) {
            publish(r, head);
            unsigned seen = atomic_load(&r->writer_bell);
            atomic_store(&r->writer_waits, 1);
            if (atomic_load(&r->tail) == tail)
                bell_wait(&r->writer_bell, seen, WAIT_MS);
            atomic_store(&r->writer_waits, 0);
            continue;
        }
        size_t chunk = n < room ? n : room;
        chunk = chunk < RING_BYTES - at ? chunk : RING_BYTES - at;
        memcpy(r->data + at, p, chunk);
        head += chunk;
        p += chunk;
        n -= chunk;
    }
    publish(r, head);
}

/* Copy n bytes at position pos of the stream out of the ring. */
static void ring_copy(const ring *r, uint64_t pos, char *out, size_t n)
{
    size_t at = (size_t)(pos % RING_BYTES), first = n < RING_BYTES - at ? n : RING_BYTES - at;
    memcpy(out, r->data + at, first);
    memcpy(out + first, r->data, n - first);
}

/* Give the bytes before tail back to the worker, and wake it if it waits for room. */
static void ring_release(ring *r, uint64_t tail)
{
    atomic_store(&r->tail, tail);
    if (atomic_load(&r->writer_waits))
        bell_ring(&r->writer_bell);
}

/* Sleep until the worker writes or dies, or ms pass. Returns 1 when it has hung up
 * the pipe: it has exited (or is exiting). */
static int ring_wait(ring *r, int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    char drain[256];
    int hung_up = 0;
    atomic_store(&r->reader_waits, 1);
    if (atomic_load(&r->head) == atomic_load(&r->tail) && poll(&p, 1, ms) > 0) {
        hung_up = (p.revents & (POLLHUP | POLLERR)) && !(p.revents & POLLIN);
        while (read(fd, drain, sizeof(drain)) > 0)
            ;
    }
    atomic_store(&r->reader_waits, 0);
    return hung_up;
}

/* ---- events as bytes: a record is its length (u32), its kind, then its fields ---- */

enum { RECORD_EVENT = 1, RECORD_ERROR = 2 };

/* ev, whose asset is asset (an index into the definitions, or -1 when not known). */
static void encode_event(eider__buf *b, const eider_event *ev, long asset)
{
    int32_t ints[12] = { ev->type, ev->attempt, (int32_t)ev->level, ev->n_succeeded, ev->n_failed,
                         ev->n_skipped, ev->n_canceled, ev->crashed, (int32_t)asset,
                         (int32_t)ev->check_status, (int32_t)ev->check_severity,
                         ev->check_blocking };
    eider__buf_putc(b, RECORD_EVENT);
    eider__buf_add(b, (const char *)ints, sizeof(ints));
    eider__put_i64(b, ev->time_us);
    eider__put_f64(b, ev->duration_s);
    eider__put_i64(b, (int64_t)ev->n_steps);
    const char *strs[] = { ev->asset_key, ev->message, ev->sql, ev->code_version, ev->selection,
                           ev->partition, ev->check_name };
    for (size_t i = 0; i < EIDER__ARRAY_LEN(strs); i++)
        eider__put_str(b, strs[i]);
    eider__put_u32(b, (uint32_t)ev->n_metadata);
    for (size_t i = 0; i < ev->n_metadata; i++) {
        const eider_meta *m = &ev->metadata[i];
        eider__put_str(b, m->key);
        eider__put_u32(b, (uint32_t)m->type);
        eider__put_str(b, m->text);
        eider__put_i64(b, m->i);
        eider__put_f64(b, m->f);
    }
    eider__put_u32(b, (uint32_t)ev->n_partitions);
    for (size_t i = 0; i < ev->n_partitions; i++)
        eider__put_str(b, ev->partitions[i]);
}

/* The worker's sink: each event encoded and in the ring before the step goes on. The
 * run calls it one event at a time. */
typedef struct ring_sink {
    ring *r;
    const eider_defs *defs;
    eider__buf enc;
} ring_sink;

static void send_record(ring_sink *rs)
{
    uint32_t len = (uint32_t)(rs->enc.len - sizeof(uint32_t));
    memcpy(rs->enc.data, &len, sizeof(len));
    ring_write(rs->r, rs->enc.data, rs->enc.len);
}

static void start_record(ring_sink *rs)
{
    eider__buf_reset(&rs->enc);
    rs->enc.max = (size_t)1 << 40;   /* never cut: the strings are */
    eider__put_u32(&rs->enc, 0);            /* the length, filled in by send_record() */
}

/* The index of ev's asset when it is the step that runs on this thread (most events),
 * which saves the parent a lookup by key; else -1. */
static long asset_of(const ring_sink *rs, const eider_event *ev)
{
    long a = eider__current_asset_index();
    return a >= 0 && ev->asset_key == rs->defs->assets[a].key ? a : -1;
}

static void send_event(const eider_event *ev, void *user_data)
{
    ring_sink *rs = user_data;
    start_record(rs);
    encode_event(&rs->enc, ev, asset_of(rs, ev));
    send_record(rs);
}

/* The databases could not be opened: code and message, for the parent to report. */
static void send_error(ring_sink *rs, int code, const char *message)
{
    start_record(rs);
    eider__buf_putc(&rs->enc, RECORD_ERROR);
    eider__put_u32(&rs->enc, (uint32_t)code);
    eider__put_str(&rs->enc, message);
    send_record(rs);
}

/* Arrays a decoded event points into, kept from one event to the next. */
typedef struct decoded {
    eider_meta *meta;
    size_t cap_meta;
    const char **parts;
    size_t cap_parts;
} decoded;

/* Decode an event into *ev (*asset: its asset's index, or -1), its metadata and
 * partitions into d. */
static int decode_event(eider__reader *rd, eider_event *ev, long *asset, decoded *d)
{
    int32_t ints[12];
    eider__get(rd, ints, sizeof(ints));
    *ev = (eider_event){ .type = (eider_event_type)ints[0], .attempt = ints[1],
                         .level = (eider_log_level)ints[2], .n_succeeded = ints[3],
                         .n_failed = ints[4], .n_skipped = ints[5], .n_canceled = ints[6],
                         .crashed = ints[7], .check_status = (eider_check_status)ints[9],
                         .check_severity = (eider_check_severity)ints[10],
                         .check_blocking = ints[11] };
    *asset = ints[8];
    ev->time_us = eider__get_i64(rd);
    ev->duration_s = eider__get_f64(rd);
    ev->n_steps = (size_t)eider__get_i64(rd);
    const char **strs[] = { &ev->asset_key, &ev->message, &ev->sql, &ev->code_version,
                            &ev->selection, &ev->partition, &ev->check_name };
    for (size_t i = 0; i < EIDER__ARRAY_LEN(strs); i++)
        *strs[i] = eider__get_str(rd);
    uint32_t n = eider__get_u32(rd);
    if (n > (size_t)(rd->end - rd->p))       /* each takes bytes: a bad count stops here */
        return -1;
    EIDER__GROW(d->meta, d->cap_meta, (size_t)n + 1);
    for (uint32_t i = 0; i < n && !rd->bad; i++) {
        eider_meta *m = &d->meta[i];
        m->key = eider__get_str(rd);
        m->type = (eider_meta_type)eider__get_u32(rd);
        m->text = eider__get_str(rd);
        m->i = eider__get_i64(rd);
        m->f = eider__get_f64(rd);
    }
    ev->metadata = d->meta;
    ev->n_metadata = rd->bad ? 0 : n;
    n = rd->bad ? 0 : eider__get_u32(rd);
    if (n > (size_t)(rd->end - rd->p))
        return -1;
    EIDER__GROW(d->parts, d->cap_parts, (size_t)n + 1);
    for (uint32_t i = 0; i < n && !rd->bad; i++)
        d->parts[i] = eider__get_str(rd);
    ev->partitions = n ? d->parts : NULL;
    ev->n_partitions = rd->bad ? 0 : n;
    return rd->bad ? -1 : 0;
}

/* ---- the run worker ---- */

static ring *worker_ring;            /* for the worker's handlers */
static pid_t worker_pid;             /* not a process the asset's code forked */

/* A crash in the worker: note the asset of the thread that crashed, then die of the
 * same signal (the handler was reset), which the parent reads from waitpid(). */
static void on_crash(int sig)
{
    long a = eider__current_asset_index();
    if (a >= 0 && getpid() == worker_pid)
        atomic_store(&worker_ring->crash_asset, a + 1);
    raise(sig);
}

/* exit() in an asset's code: note it and the asset, flush what was printed, and end
 * here, before exit's handlers tear down what the other threads still use. */
static void on_exit_called(int status, void *arg)
{
    (void)arg;
    long a = eider__current_asset_index();
    if (getpid() != worker_pid)      /* a child of the asset's own: its exit is its own */
        return;
    if (a >= 0)
        atomic_store(&worker_ring->crash_asset, a + 1);
    atomic_store(&worker_ring->exit_status, (status & 0xff) + 1);
    fflush(NULL);
    _exit(status);
}

/* SIGTERM sent to the worker itself cancels the run, as the parent's cancel does. */
static void on_term(int sig)
{
    (void)sig;
    atomic_store(&worker_ring->cancel, 1);
}

static void worker_signals(ring *r, pid_t parent)
{
    static const int crashes[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS };
    static char alt[ALT_STACK_BYTES];
    stack_t ss = { .ss_sp = alt, .ss_size = sizeof(alt) };
    struct sigaction crash = { .sa_handler = on_crash, .sa_flags = SA_ONSTACK | SA_RESETHAND };
    struct sigaction term = { .sa_handler = on_term, .sa_flags = SA_RESTART };
    worker_ring = r;
    worker_pid = getpid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)         /* the parent died before the line above */
        _exit(1);
    sigaltstack(&ss, NULL);          /* a stack overflow is reported too (on this thread) */
    sigemptyset(&crash.sa_mask);
    for (size_t i = 0; i < EIDER__ARRAY_LEN(crashes); i++)
        sigaction(crashes[i], &crash, NULL);
    sigemptyset(&term.sa_mask);
    sigaction(SIGTERM, &term, NULL);
    signal(SIGINT, SIG_IGN);         /* a terminal's Ctrl-C reaches the parent, which cancels */
    signal(SIGPIPE, SIG_IGN);
    /* The caller's thread may block signals (eider dev takes SIGINT and SIGTERM with
     * sigwait()); the worker inherits that mask, and must get SIGTERM and the crashes. */
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    on_exit(on_exit_called, NULL);
}

/* The worker: open the databases, run the steps, end. Never touches the store. */
static void worker_main(ring *r, pid_t parent, eider_defs *defs, const eider_run_options *o,
                        eider_result *result) __attribute__((noreturn));
static void worker_main(ring *r, pid_t parent, eider_defs *defs, const eider_run_options *o,
                        eider_result *result)
{
    eider__run run;
    ring_sink rs = { .r = r, .defs = defs };
    eider_event_sink sink = { send_event, &rs };
    eider__buf err = { 0 };
    worker_signals(r, parent);
    eider__run_init(&run, defs, o, result, &sink, &r->cancel);
    int rc = eider__run_open(&run, o, &err);
    if (rc)
        send_error(&rs, rc, eider__buf_str(&err));
    else
        eider__run_steps(&run, o);
    fflush(NULL);
    _exit(0);
}

/* ---- the parent ---- */

typedef struct worker {
    eider_defs *defs;
    const eider_run_options *o;
    eider_result *result;
    const eider_event_sink *sink;    /* the recorder, or the caller's sink */
    ring *r;
    int bell;                        /* the parent's end of the worker's pipe */
    int bell_w;                      /* the worker's end, until the worker has it */
    pid_t pid;
    eider__buf in;                   /* a record that lies in two pieces, or is long */
    size_t need;                     /* the bytes of a long record still to come */
    decoded dec;
    double t0;
    double *attempt_start;           /* per step: when its attempt began (monotonic), or -1
                                        while it waits to retry */
    double *first_start;             /* per step: when its first attempt began */
    double grace;
    int has_timeouts;
    int started, ended;              /* RUN_START and RUN_END came */
    int error_code;                  /* the worker could not open the databases */
    char *error;
    long killed;                     /* the step whose timeout got the worker killed, or -1 */
    int no_run;                      /* no run took place: the result is not handed out */
    int lost;                        /* someone else reaped the worker: its status is lost */
    eider__launch_source source;     /* not NONE: the launcher forked the worker */
    eider__launched launched;
    int shm;                         /* the shared memory's file, until the worker has it */
    size_t shm_bytes;
} worker;

static void pass_on(worker *w, eider_event *ev)
{
    ev->run_id = w->result->run_id;
    if (w->sink && w->sink->on_event)
        w->sink->on_event(ev, w->sink->user_data);
}

static void end_step(eider__step *s, eider_step_status status, const eider_event *ev)
{
    free(s->error);
    free(s->sql);
    s->error = status == EIDER_STEP_SUCCESS || !ev->message ? NULL : eider__xstrdup(ev->message);
    s->sql = ev->sql ? eider__xstrdup(ev->sql) : NULL;
    s->status = status;
    s->duration_s = ev->duration_s;
    s->done = 1;
    s->running = 0;
}

/* Keep in the result what ev says of its step, as the run in the worker keeps it;
 * asset is the index of its asset, when known, else -1. */
static void apply_to_step(worker *w, const eider_event *ev, long asset)
{
    if (!ev->asset_key || ev->type == EIDER_EVENT_OBSERVATION)
        return;
    long i = asset >= 0 && (size_t)asset < w->defs->n_assets ? w->result->step_of[asset]
                                                             : eider_result_find(w->result, ev->asset_key);
    eider__step *s = i >= 0 ? &w->result->steps[i] : NULL;
    if (!s || strcmp(eider_result_key(w->result, (size_t)i), ev->asset_key) != 0)
        return;
    switch (ev->type) {
    case EIDER_EVENT_STEP_START:
        s->running = 1;
        s->attempts = ev->attempt;
        eider__step_drop_metadata(s);
        eider__step_drop_checks(s);
        w->attempt_start[i] = eider__mono_s();
        if (ev->attempt <= 1)
            w->first_start[i] = w->attempt_start[i];
        break;
    case EIDER_EVENT_STEP_RETRY:     /* no deadline while it waits to retry */
        w->attempt_start[i] = -1;
        break;
    case EIDER_EVENT_LOG:
        eider__log_line(&s->log, ev->time_us, ev->level, ev->message ? ev->message : "");
        break;
    case EIDER_EVENT_MATERIALIZATION:
        for (size_t m = 0; m < ev->n_metadata; m++)
            if (ev->metadata[m].key)
                eider__step_add_meta(s, &ev->metadata[m]);
        break;
    case EIDER_EVENT_CHECK:
        eider__step_add_check(s, &(eider_check_outcome){ .name = ev->check_name ? ev->check_name : "",
            .status = ev->check_status, .severity = ev->check_severity,
            .blocking = ev->check_blocking, .message = ev->message, .sql = ev->sql,
            .metadata = ev->metadata, .n_metadata = ev->n_metadata });
        break;
    case EIDER_EVENT_STEP_SUCCESS: end_step(s, EIDER_STEP_SUCCESS, ev); break;
    case EIDER_EVENT_STEP_FAILURE: end_step(s, EIDER_STEP_FAILED, ev); break;
    case EIDER_EVENT_STEP_SKIPPED: end_step(s, EIDER_STEP_SKIPPED, ev); break;
    case EIDER_EVENT_STEP_CANCELED: end_step(s, EIDER_STEP_CANCELED, ev); break;
    default: break;
    }
}

static void take_record(worker *w, const char *p, size_t n)
{
    eider__reader rd = { p + 1, p + n, 0 };
    if (n && *p == RECORD_ERROR) {
        w->error_code = (int)eider__get_u32(&rd);
        const char *msg = eider__get_str(&rd);
        w->error = eider__xstrdup(msg ? msg : "the run worker could not open the databases");
        return;
    }
    eider_event ev;
    long asset = -1;
    if (n && *p == RECORD_EVENT && decode_event(&rd, &ev, &asset, &w->dec) == 0) {
        w->started |= ev.type == EIDER_EVENT_RUN_START;
        w->ended |= ev.type == EIDER_EVENT_RUN_END;
        apply_to_step(w, &ev, asset);
        pass_on(w, &ev);
    }
}

/* Go on with a record longer than half the ring, which comes in parts: copy what has
 * come of it, and take it once whole. Returns the new tail. */
static uint64_t take_long(worker *w, uint64_t tail, uint64_t head)
{
    size_t n = (size_t)(head - tail) < w->need ? (size_t)(head - tail) : w->need;
    EIDER__GROW(w->in.data, w->in.cap, w->in.len + n + 1);
    ring_copy(w->r, tail, w->in.data + w->in.len, n);
    w->in.len += n;
    if (!(w->need -= n)) {
        take_record(w, w->in.data, w->in.len);
        w->in.len = 0;
    }
    return tail + n;
}

/* Take every whole record the worker has written: in place in the ring when it lies
 * in one piece, else copied out; the ring's room is given back after them all.
 * Returns whether anything was read. */
static int take_records(worker *w)
{
    ring *r = w->r;
    uint64_t start = atomic_load_explicit(&r->tail, memory_order_relaxed), tail = start;
    uint64_t head = atomic_load(&r->head);
    uint32_t len;
    while (head > tail) {
        if (w->need) {
            tail = take_long(w, tail, head);
            continue;
        }
        if (head - tail < sizeof(len))
            break;
        ring_copy(r, tail, (char *)&len, sizeof(len));
        if (len > RING_BYTES / 2) {  /* it cannot lie whole in the ring */
            w->need = len;
            w->in.len = 0;
            tail += sizeof(len);
            continue;
        }
        if (head - tail < sizeof(len) + len)
            break;                   /* the rest is on its way (it fits: see ring_write) */
        size_t at = (size_t)((tail + sizeof(len)) % RING_BYTES);
        if (at + len <= RING_BYTES) {
            take_record(w, r->data + at, len);
        } else {
            EIDER__GROW(w->in.data, w->in.cap, (size_t)len + 1);
            ring_copy(r, tail + sizeof(len), w->in.data, len);
            take_record(w, w->in.data, len);
        }
        tail += sizeof(len) + len;
    }
    if (tail != start)
        ring_release(r, tail);
    return tail != start;
}

static void kill_worker(const worker *w, int sig)
{
    if (w->source != EIDER__LAUNCH_NONE)
        eider__launched_kill(&w->launched, sig);
    else
        kill(w->pid, sig);
}

/* A step that outran its timeout and the grace gets the worker killed. */
static void check_deadlines(worker *w)
{
    double now = eider__mono_s();
    for (size_t i = 0; w->has_timeouts && w->killed < 0 && i < w->result->n_steps; i++) {
        eider__step *s = &w->result->steps[i];
        double t = w->defs->assets[s->asset].timeout_s;
        if (s->running && !s->done && t > 0 && w->attempt_start[i] >= 0 &&
            now >= w->attempt_start[i] + t + w->grace) {
            w->killed = (long)i;
            kill_worker(w, SIGKILL);
        }
    }
}

/* Workers that sent their end and were still exiting (freeing their memory takes a
 * millisecond or two): reaped later, so that the caller need not wait for it. Their
 * databases are closed before the run's end is sent. */
#define MAX_EXITING 64
static pthread_mutex_t exiting_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t exiting[MAX_EXITING];
static size_t n_exiting;

static void reap_exiting(void)
{
    pthread_mutex_lock(&exiting_lock);
    for (size_t i = 0; i < n_exiting;)
        if (waitpid(exiting[i], NULL, WNOHANG) != 0)   /* reaped, or not ours any more */
            exiting[i] = exiting[--n_exiting];
        else
            i++;
    pthread_mutex_unlock(&exiting_lock);
}

static void reap_later(pid_t pid)
{
    pthread_mutex_lock(&exiting_lock);
    if (n_exiting < MAX_EXITING)
        exiting[n_exiting++] = pid;
    else
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    pthread_mutex_unlock(&exiting_lock);
}

/* Whether the worker has ended (*status set): waited for when it hung up its pipe,
 * else only looked at. A worker that another part of the program reaped (a SIGCHLD
 * handler that waits for every child) has ended too, how is lost (w->lost). */
static int wait_worker(worker *w, int hung_up, int *status)
{
    pid_t got;
    if (w->source != EIDER__LAUNCH_NONE) {
        int ended = eider__launched_status(&w->launched, hung_up, status);
        if (ended && *status == -1) {
            w->lost = 2;
            *status = 0;
        }
        return ended;
    }
    while ((got = waitpid(w->pid, status, hung_up ? 0 : WNOHANG)) < 0 && errno == EINTR)
        ;
    if (got < 0 && errno == ECHILD) {
        w->lost = 1;
        *status = 0;
        return 1;
    }
    return got == w->pid;
}

/* Read the worker's events until it has ended; returns its wait status. While events
 * come often, the parent naps instead of sleeping until woken: the worker then writes
 * without a system call, and the parent takes them in batches. Once the run's end (or
 * the worker's error) is in, the worker is left to exit on its own (reap_later()). */
static int pump(worker *w)
{
    int status = 0, exited = 0;
    double last = eider__mono_s();
    for (;;) {
        int got = take_records(w);
        if (exited)
            break;                   /* what it wrote before it died is taken above */
        if (w->ended || w->error) {
            if (!wait_worker(w, 0, &status) && w->source == EIDER__LAUNCH_NONE)
                reap_later(w->pid);     /* the launcher reaps its own */
            break;
        }
        if (w->o && w->o->cancel && atomic_load(w->o->cancel))
            atomic_store(&w->r->cancel, 1);
        check_deadlines(w);
        double now = eider__mono_s();
        if (got)
            last = now;
        else if (now - last < BUSY_S) {
            eider__sleep_ms(NAP_MS);
            exited = wait_worker(w, 0, &status);
        } else {
            exited = wait_worker(w, ring_wait(w->r, w->bell, WAIT_MS), &status);
        }
    }
    return status;
}

/* ---- the end of a run whose worker died ---- */

/* How the worker died: "SIGSEGV (signal 11)", "exit(3)" (exit() called), or "status 3". */
static void cause(const worker *w, int status, eider__buf *out)
{
    if (WIFSIGNALED(status)) {
        const char *abbrev = sigabbrev_np(WTERMSIG(status));
        eider__buf_printf(out, "SIG%s (signal %d)", abbrev ? abbrev : "?", WTERMSIG(status));
    } else if (atomic_load(&w->r->exit_status)) {
        eider__buf_printf(out, "exit(%d)", atomic_load(&w->r->exit_status) - 1);
    } else {
        eider__buf_printf(out, "status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
}

/* The step that brought the worker down, when it is known: the one timed out, the one
 * whose thread crashed or called exit(), or the only one running; else -1. */
static long culprit(const worker *w)
{
    long a = atomic_load(&w->r->crash_asset) - 1, only = -1, n = 0;
    if (w->killed >= 0)
        return w->killed;
    if (a >= 0 && (size_t)a < w->defs->n_assets && w->result->step_of[a] >= 0)
        return w->result->step_of[a];
    for (size_t i = 0; i < w->result->n_steps; i++)
        if (w->result->steps[i].running && !w->result->steps[i].done && ++n)
            only = (long)i;
    return n == 1 ? only : -1;
}

/* What brought the worker down, naming the asset when it is known. */
static void obituary(const worker *w, long who, int status, eider__buf *out)
{
    eider__buf how = { 0 };
    const char *key = who >= 0 ? eider_result_key(w->result, (size_t)who) : NULL;
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    cause(w, status, &how);
    if (w->killed >= 0)
        eider__buf_printf(out, "asset '%s' timed out after %g s and did not return within the "
            "%g s grace: the run worker was killed with %s", key,
            w->defs->assets[w->result->steps[who].asset].timeout_s, w->grace, eider__buf_str(&how));
    else if (w->lost == 2)
        eider__buf_printf(out, "the run launcher ended while %s%s%s ran, killed perhaps: the run "
            "worker died with it, how is lost", key ? "asset '" : "no asset", key ? key : "",
            key ? "'" : "");
    else if (w->lost)
        eider__buf_printf(out, "the run worker ended before the run's end while %s%s%s ran, and "
            "another part of this program reaped it (a SIGCHLD handler?): how it ended is lost",
            key ? "asset '" : "no asset", key ? key : "", key ? "'" : "");
    else if (sig == SIGKILL)
        eider__buf_printf(out, "the run worker was killed with %s while %s%s%s ran: by kill -9, or "
            "by the out-of-memory killer", eider__buf_str(&how), key ? "asset '" : "no asset",
            key ? key : "", key ? "'" : "");
    else if (key && sig)
        eider__buf_printf(out, "asset '%s' crashed the run worker with %s", key, eider__buf_str(&how));
    else if (key)
        eider__buf_printf(out, "asset '%s' ended the run worker: %s %s", key,
                          atomic_load(&w->r->exit_status) ? "it called" : "it exited with",
                          eider__buf_str(&how));
    else
        eider__buf_printf(out, "the run worker %s %s before the run's end, while no single asset "
            "could be blamed", sig ? "died of" : "ended with", eider__buf_str(&how));
    eider__buf_release(&how);
}

/* End step i as the worker's death left it, and tell the sink. */
static void fail_running(worker *w, size_t i, long who, const char *death)
{
    eider__step *s = &w->result->steps[i];
    eider__buf why = { 0 };
    if ((long)i == who || who < 0)
        eider__buf_puts(&why, death);
    else
        eider__buf_printf(&why, "the run worker died while asset '%s' ran: %s",
                          eider_result_key(w->result, i), death);
    eider_event ev = { .type = EIDER_EVENT_STEP_FAILURE, .asset_key = eider_result_key(w->result, i),
                       .time_us = eider__now_us(), .attempt = s->attempts,
                       .duration_s = eider__mono_s() - w->first_start[i],
                       .message = eider__buf_str(&why) };
    apply_to_step(w, &ev, -1);
    pass_on(w, &ev);
    eider__buf_release(&why);
}

static void skip_unrun(worker *w, size_t i, const char *death)
{
    eider__buf why = { 0 };
    eider__buf_printf(&why, "skipped: the run worker died before it started (%s)", death);
    eider_event ev = { .type = EIDER_EVENT_STEP_SKIPPED, .asset_key = eider_result_key(w->result, i),
                       .time_us = eider__now_us(), .message = eider__buf_str(&why) };
    apply_to_step(w, &ev, -1);
    pass_on(w, &ev);
    eider__buf_release(&why);
}

/* The worker died before the run's end: fail what ran, skip what did not, end the run
 * crashed. Returns EIDER_ECRASHED, with the message on the definitions. */
static int end_crashed(worker *w, int status)
{
    eider__buf death = { 0 };
    long who = culprit(w);
    obituary(w, who, status, &death);
    if (!w->started) {               /* it died opening the databases */
        eider_event start = { .type = EIDER_EVENT_RUN_START, .time_us = eider__now_us(),
                              .selection = w->o ? w->o->selection : NULL,
                              .partition = w->result->partition, .n_steps = w->result->n_steps };
        pass_on(w, &start);
    }
    for (size_t i = 0; i < w->result->n_steps; i++)
        if (w->result->steps[i].running && !w->result->steps[i].done)
            fail_running(w, i, who, eider__buf_str(&death));
    for (size_t i = 0; i < w->result->n_steps; i++)
        if (!w->result->steps[i].done)
            skip_unrun(w, i, eider__buf_str(&death));
    int n[4] = { 0 };
    for (size_t i = 0; i < w->result->n_steps; i++)
        n[w->result->steps[i].status]++;
    eider_event end = { .type = EIDER_EVENT_RUN_END, .time_us = eider__now_us(),
                        .duration_s = eider__mono_s() - w->t0, .n_succeeded = n[EIDER_STEP_SUCCESS],
                        .n_failed = n[EIDER_STEP_FAILED], .n_skipped = n[EIDER_STEP_SKIPPED],
                        .n_canceled = n[EIDER_STEP_CANCELED], .crashed = 1,
                        .level = EIDER_LOG_ERROR,
                        .message = eider__buf_str(&death) };
    pass_on(w, &end);
    eider__defs_error(w->defs, EIDER_ECRASHED, "%s", eider__buf_str(&death));
    eider__buf_release(&death);
    return EIDER_ECRASHED;
}

/* The run's code from its steps, as eider__run_code() gives it in the worker. */
static int result_code(const eider_result *r)
{
    int failed = 0, canceled = 0;
    for (size_t i = 0; i < r->n_steps; i++) {
        canceled |= r->steps[i].status == EIDER_STEP_CANCELED;
        failed |= r->steps[i].status == EIDER_STEP_FAILED || r->steps[i].status == EIDER_STEP_SKIPPED;
    }
    return canceled ? EIDER_ECANCELED : failed ? EIDER_ERUNFAILED : EIDER_OK;
}

/* The shared memory (the ring, then the plan when the launcher forks the worker) and
 * the pipe; an error code with the message set, or EIDER_OK. */
static int make_ring(worker *w, const eider__buf *plan)
{
    int fds[2];
    w->shm_bytes = sizeof(ring) + plan->len;
    w->shm = memfd_create("eider-run", MFD_CLOEXEC);
    if (w->shm < 0 || ftruncate(w->shm, (off_t)w->shm_bytes))
        return eider__defs_error(w->defs, EIDER_ENOMEM, "cannot start a run worker: shared "
                                 "memory: %s", strerror(errno));
    w->r = mmap(NULL, w->shm_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, w->shm, 0);
    if (w->r == MAP_FAILED) {
        w->r = NULL;
        return eider__defs_error(w->defs, EIDER_ENOMEM, "cannot start a run worker: shared "
                                 "memory: %s", strerror(errno));
    }
    if (plan->len)
        memcpy((char *)w->r + sizeof(ring), plan->data, plan->len);
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK))
        return eider__defs_error(w->defs, EIDER_EERROR, "cannot start a run worker: pipe: %s",
                                 strerror(errno));
    w->bell = fds[0];
    w->bell_w = w->r->bell_fd = fds[1];
    return EIDER_OK;
}

/* Start the worker: forked by the launcher, or here. */
static int start_worker(worker *w, pid_t parent)
{
    eider__buf err = { 0 };
    int rc = EIDER_OK;
    if (w->source != EIDER__LAUNCH_NONE) {
        if (eider__launch(w->shm, w->bell_w, &w->launched, &err))
            rc = eider__defs_error(w->defs, EIDER_EERROR, "cannot start a run worker: %s",
                                   eider__buf_str(&err));
        w->pid = w->launched.pid;
        eider__buf_release(&err);
        return rc;
    }
    w->pid = fork();
    if (w->pid < 0)
        return eider__defs_error(w->defs, EIDER_EERROR, "cannot start a run worker: fork: %s",
                                 strerror(errno));
    if (w->pid == 0) {
        close(w->bell);
        worker_main(w->r, parent, w->defs, w->o, w->result);
    }
    return EIDER_OK;
}

/* Start the worker and follow it to its end. */
static int run_in_worker(worker *w)
{
    eider__buf plan = { 0 };
    reap_exiting();
    w->no_run = 1;                   /* until the worker runs */
    w->bell = w->bell_w = w->shm = -1;
    w->launched = (eider__launched){ .pid = -1, .pidfd = -1, .answer = -1 };
    w->source = eider__launcher_source(w->defs);
    if (w->source != EIDER__LAUNCH_NONE) {
        plan.max = (size_t)1 << 40;
        eider__plan_encode(&plan, w->source, w->defs, w->o, w->result);
    }
    int rc = make_ring(w, &plan);
    eider__buf_release(&plan);
    if (rc)
        goto out;
    fflush(stdout);
    fflush(stderr);
    w->t0 = eider__mono_s();
    rc = start_worker(w, getpid());
    close(w->bell_w);               /* the worker's end: its own now */
    w->bell_w = -1;
    if (rc)
        goto out;
    close(w->shm);
    w->shm = -1;
    int status = pump(w);
    w->no_run = w->error != NULL;
    rc = w->error ? eider__defs_error(w->defs, w->error_code, "%s", w->error)
       : w->ended ? result_code(w->result) : end_crashed(w, status);
out:
    if (w->bell >= 0)
        close(w->bell);
    if (w->shm >= 0)
        close(w->shm);
    if (w->r)
        munmap(w->r, w->shm_bytes);
    eider__launched_release(&w->launched);
    return rc;
}

/* A worker the launcher forked: the shared memory holds its ring and its plan. */
void eider__worker_launched(int shm, int bell, const eider_defs *own, pid_t launcher)
{
    struct stat st;
    eider__plan plan;
    eider__buf err = { 0 };
    if (fstat(shm, &st) || (size_t)st.st_size < sizeof(ring))
        _exit(1);
    ring *r = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
    if (r == MAP_FAILED)
        _exit(1);
    close(shm);
    r->bell_fd = bell;
    int rc = eider__plan_decode((const char *)r + sizeof(ring), (size_t)st.st_size - sizeof(ring),
                                own, &plan, &err);
    if (rc) {
        ring_sink rs = { .r = r };
        send_error(&rs, rc, eider__buf_str(&err));
        _exit(0);
    }
    worker_main(r, launcher, plan.defs, &plan.options, plan.result);
}

int eider_materialize_worker(eider_defs *defs, const eider_run_options *options,
                             eider_result **out)
{
    eider__recorder recorder;
    eider_event_sink recording;
    eider_result *result = NULL;
    int rc = eider__run_plan(defs, options, &result, out);
    if (rc || !result)
        return rc;
    worker w = { .defs = defs, .o = options, .result = result, .killed = -1,
                 .sink = eider__run_recorder(&recorder, &recording, options),
                 .attempt_start = eider__xcalloc(result->n_steps, sizeof(double)),
                 .first_start = eider__xcalloc(result->n_steps, sizeof(double)),
                 .grace = options && options->timeout_grace_s > 0 ? options->timeout_grace_s
                                                                  : GRACE_DEFAULT_S };
    for (size_t i = 0; i < result->n_steps; i++)
        w.has_timeouts |= defs->assets[result->steps[i].asset].timeout_s > 0;
    rc = run_in_worker(&w);
    eider__run_recorded(&recorder, result);
    free(w.attempt_start);
    free(w.first_start);
    free(w.error);
    free(w.in.data);
    free(w.dec.meta);
    free(w.dec.parts);
    if (w.no_run || !out)           /* as eider_materialize() when the run cannot start */
        eider_result_free(result);
    else
        *out = result;
    return rc;
}
