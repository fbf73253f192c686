/*
 * recorder.c — recording a run: the run's row when it starts and ends, and its events
 * in batches (every 4096 events or 100 ms, and at the run's end), each batch one
 * transaction that also keeps materializations and each asset's state current.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <time.h>
#include <jansson.h>
#include <unistd.h>

#include "store.h"

#define BATCH_EVENTS 4096
#define BATCH_SECONDS 0.1

static char *dup_or_null(const char *s)
{
    return s ? eider__xstrdup(s) : NULL;
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...)
{
    eider__buf b = { 0 };
    va_list ap;
    va_start(ap, fmt);
    eider__buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return eider__buf_detach(&b);
}

/* v in decimal, malloc'd: printf's machinery costs more than the rest of queueing an
 * event. */
static char *int_text(int64_t v)
{
    char buf[24], *p = buf + sizeof(buf);
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    *--p = '\0';
    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10));
    if (v < 0)
        *--p = '-';
    return eider__xstrdup(p);
}

static void pending_release(eider__pending *p)
{
    char *fields[] = { p->run_id, p->time_us, p->asset_key, p->attempt, p->duration_s, p->level,
                       p->message, p->sql, p->metadata, p->code_version };
    for (size_t i = 0; i < EIDER__ARRAY_LEN(fields); i++)
        free(fields[i]);
    for (size_t i = 0; i < p->n_partitions; i++)
        free(p->partitions[i]);
    free(p->partitions);
}

static void buffer_event(eider_store *s, const eider_event *ev)
{
    static const char *const levels[] = { "debug", "info", "warn", "error" };
    EIDER__GROW(s->pending, s->cap_pending, s->n_pending + 1);
    eider__pending *p = &s->pending[s->n_pending++];
    memset(p, 0, sizeof(*p));
    p->type = ev->type;
    p->run_id = dup_or_null(ev->run_id);
    p->time_us = int_text(ev->time_us);
    p->asset_key = dup_or_null(ev->asset_key);
    p->attempt = ev->asset_key ? int_text(ev->attempt) : NULL;
    p->duration_s = ev->duration_s ? format("%.6f", ev->duration_s) : NULL;
    p->level = ev->type == EIDER_EVENT_LOG ? eider__xstrdup(levels[(unsigned)ev->level < 4 ? ev->level : 1]) : NULL;
    p->message = dup_or_null(ev->message);
    p->sql = dup_or_null(ev->sql);
    if ((ev->type == EIDER_EVENT_MATERIALIZATION || ev->type == EIDER_EVENT_OBSERVATION) &&
        ev->n_metadata)
        p->metadata = eider__meta_to_json(ev->metadata, ev->n_metadata);
    if (ev->type == EIDER_EVENT_MATERIALIZATION)
        p->code_version = dup_or_null(ev->code_version);
    if (ev->n_partitions) {
        p->partitions = eider__xmalloc(ev->n_partitions * sizeof(char *));
        for (size_t i = 0; i < ev->n_partitions; i++)
            p->partitions[i] = eider__xstrdup(ev->partitions[i]);
        p->n_partitions = ev->n_partitions;
    }
}

#define ROWS_PER_INSERT 50          /* rows of one multi-row INSERT */

/* Insert rows of n_cols parameters each (NULL-able text), ROWS_PER_INSERT at a time:
 * one statement per chunk instead of one per row. head is "INSERT INTO t (a, b)". */
static int insert_rows(eider_store *s, const char *head, const char *const *values, size_t n_rows,
                       size_t n_cols, eider__buf *err)
{
    eider__buf sql = { 0 };
    int rc = EIDER_OK;
    for (size_t at = 0; !rc && at < n_rows; at += ROWS_PER_INSERT) {
        size_t rows = n_rows - at < ROWS_PER_INSERT ? n_rows - at : ROWS_PER_INSERT;
        eider__buf_reset(&sql);
        eider__buf_printf(&sql, "%s VALUES ", head);
        for (size_t r = 0; r < rows; r++) {
            eider__buf_puts(&sql, r ? ", (" : "(");
            for (size_t c = 0; c < n_cols; c++)
                eider__buf_puts(&sql, c ? ", ?" : "?");
            eider__buf_putc(&sql, ')');
        }
        rc = s->m->query(s->conn, eider__buf_str(&sql), values + at * n_cols, rows * n_cols,
                         NULL, NULL, err);
    }
    eider__buf_release(&sql);
    return rc;
}

/* The parameters of the batch's rows, as borrowed strings. */
typedef struct rows {
    const char **v;
    size_t n, cap;                   /* values, not rows */
} rows;

static void rows_add(rows *r, const char *const *values, size_t n)
{
    EIDER__GROW(r->v, r->cap, r->n + n);
    memcpy(r->v + r->n, values, n * sizeof(*values));
    r->n += n;
}

#define EVENT_COLS 10
#define MAT_COLS 6

static void batch_rows(const eider__pending *p, rows *events, rows *mats)
{
    const char *e[EVENT_COLS] = { p->run_id, eider_event_name(p->type), p->time_us, p->asset_key,
                                  p->attempt, p->duration_s, p->level, p->message, p->sql,
                                  p->type == EIDER_EVENT_OBSERVATION ? p->metadata : NULL };
    rows_add(events, e, EVENT_COLS);
    for (size_t i = 0; p->type == EIDER_EVENT_MATERIALIZATION && i < (p->n_partitions ? p->n_partitions : 1); i++) {
        const char *m[MAT_COLS] = { p->asset_key, p->n_partitions ? p->partitions[i] : "", p->run_id,
                                    p->time_us, p->code_version, p->metadata };
        rows_add(mats, m, MAT_COLS);
    }
}

/* A failed step: its partitions' state says so, their materialization stays. */
static int write_failure(eider_store *s, const eider__pending *p, eider__buf *err)
{
    size_t n = p->n_partitions ? p->n_partitions : 1;
    int rc = EIDER_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        const char *a[] = { p->asset_key, p->n_partitions ? p->partitions[i] : "", p->run_id, p->time_us };
        rc = s->m->query(s->conn, "INSERT INTO asset_state (asset_key, partition, last_run_id, "
            "last_failed, last_us) VALUES (?, ?, ?, 1, ?) ON CONFLICT (asset_key, partition) DO UPDATE "
            "SET last_run_id = excluded.last_run_id, last_failed = 1, last_us = excluded.last_us",
            a, 4, NULL, NULL, err);
    }
    return rc;
}

static int read_text(void *ud, const char *const *cols, size_t n)
{
    snprintf(ud, 24, "%s", n && cols[0] ? cols[0] : "0");
    return 0;
}

/* Each asset (and partition) the batch materialized now points at its newest row: one
 * statement for the batch, over the rows with an id above `after`. */
static int update_state(eider_store *s, const char *after, eider__buf *err)
{
    const char *p[] = { after };
    return s->m->query(s->conn, "INSERT INTO asset_state (asset_key, partition, materialization_id, "
        "last_run_id, last_failed, last_us) SELECT m.asset_key, m.partition, m.id, m.run_id, 0, "
        "m.time_us FROM materializations m WHERE m.id > ? AND m.id = (SELECT max(n.id) FROM "
        "materializations n WHERE n.asset_key = m.asset_key AND n.partition = m.partition) "
        "ON CONFLICT (asset_key, partition) DO UPDATE SET materialization_id = excluded.materialization_id, "
        "last_run_id = excluded.last_run_id, last_failed = 0, last_us = excluded.last_us",
        p, 1, NULL, NULL, err);
}

/* Write a batch in one transaction: events and materializations in multi-row INSERTs,
 * failures, then the assets' state. Called with s->lock held. */
static int write_batch(eider_store *s, const eider__pending *batch, size_t n, eider__buf *err)
{
    rows events = { 0 }, mats = { 0 };
    char after[24] = "0";
    int rc = EIDER_OK;
    for (size_t i = 0; i < n; i++)
        batch_rows(&batch[i], &events, &mats);
    rc = s->m->begin(s->conn, err);
    if (!rc && mats.n)
        rc = s->m->query(s->conn, "SELECT max(id) FROM materializations", NULL, 0, read_text, after, err);
    if (!rc)
        rc = insert_rows(s, "INSERT INTO events (run_id, type, time_us, asset_key, attempt, duration_s, "
                            "level, message, sql, metadata)", events.v, events.n / EVENT_COLS,
                         EVENT_COLS, err);
    for (size_t i = 0; !rc && i < n; i++)
        if (batch[i].type == EIDER_EVENT_STEP_FAILURE)
            rc = write_failure(s, &batch[i], err);
    if (!rc && mats.n)
        rc = insert_rows(s, "INSERT INTO materializations (asset_key, partition, run_id, time_us, "
                            "code_version, metadata)", mats.v, mats.n / MAT_COLS, MAT_COLS, err);
    if (!rc && mats.n)
        rc = update_state(s, after, err);
    if (!rc)
        rc = s->m->commit(s->conn, err);
    if (rc)
        s->m->rollback(s->conn);
    free(events.v);
    free(mats.v);
    return rc;
}

/* Take what is buffered and write it; batches are written one at a time, in the order
 * they were taken. */
static int write_pending(eider_store *s, eider__buf *err)
{
    eider__pending *batch = NULL;
    size_t n = 0;
    int rc = EIDER_OK;
    pthread_mutex_lock(&s->write_lock);
    pthread_mutex_lock(&s->queue_lock);
    batch = s->pending;
    n = s->n_pending;
    s->pending = NULL;
    s->n_pending = s->cap_pending = 0;
    s->last_flush = eider__mono_s();
    pthread_mutex_unlock(&s->queue_lock);
    if (n && s->conn) {
        pthread_mutex_lock(&s->lock);
        rc = write_batch(s, batch, n, err);
        pthread_mutex_unlock(&s->lock);
    }
    if (rc && !s->write_rc) {
        s->write_rc = rc;
        eider__buf_printf(&s->write_err, "instance store %s: recording events failed: %s",
                          s->location, eider__buf_str(err));
    }
    pthread_mutex_unlock(&s->write_lock);
    for (size_t i = 0; i < n; i++)
        pending_release(&batch[i]);
    free(batch);
    return rc;
}

int eider__store_flush(eider_store *s)
{
    eider__buf err = { 0 };
    if (!s)
        return EIDER_EINVAL;
    int rc = write_pending(s, &err);
    if (rc)
        eider__store_error(s, rc, "instance store %s: recording events failed: %s", s->location,
                           eider__buf_str(&err));
    eider__buf_release(&err);
    return rc;
}

/* The writer thread: writes a batch when BATCH_EVENTS are waiting or BATCH_SECONDS
 * have passed, until the store closes. */
static void *writer_main(void *arg)
{
    eider_store *s = arg;
    pthread_mutex_lock(&s->queue_lock);
    while (!s->stopping) {
        double waited = eider__mono_s() - s->last_flush;
        if (s->n_pending && (s->n_pending >= BATCH_EVENTS || waited >= BATCH_SECONDS)) {
            eider__buf err = { 0 };
            pthread_mutex_unlock(&s->queue_lock);
            write_pending(s, &err);
            eider__buf_release(&err);
            pthread_mutex_lock(&s->queue_lock);
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)(BATCH_SECONDS * 1e9);
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->wake, &s->queue_lock, &until);
    }
    pthread_mutex_unlock(&s->queue_lock);
    return NULL;
}

void eider__store_stop_writer(eider_store *s)
{
    pthread_mutex_lock(&s->queue_lock);
    int started = s->writer_started;
    s->stopping = 1;
    s->writer_started = 0;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->queue_lock);
    if (started)
        pthread_join(s->writer, NULL);
    pthread_mutex_lock(&s->queue_lock);
    s->stopping = 0;
    pthread_mutex_unlock(&s->queue_lock);
}

/* Queue an event for the writer (started on the first one). */
static void enqueue(eider_store *s, const eider_event *ev)
{
    pthread_mutex_lock(&s->queue_lock);
    buffer_event(s, ev);
    if (!s->writer_started && !s->stopping)
        s->writer_started = pthread_create(&s->writer, NULL, writer_main, s) == 0;
    if (s->n_pending >= BATCH_EVENTS)
        pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->queue_lock);
}

static char *tags_json(const char *const *tags)
{
    json_t *obj = json_object();
    for (size_t i = 0; tags && tags[i] && tags[i + 1]; i += 2)
        json_object_set_new(obj, tags[i], json_string(tags[i + 1]));
    char *out = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    return out;
}

/* The run's row, written at once so that `eider runs` shows it while it runs. */
static int start_run(eider__recorder *r, const eider_event *ev)
{
    char pid[24], start[32], host[256] = "", time_us[32];
    char *tags = tags_json(r->tags);
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    eider__process_start((long)getpid(), start, sizeof(start));
    gethostname(host, sizeof(host) - 1);
    snprintf(time_us, sizeof(time_us), "%" PRId64, ev->time_us);
    const char *p[] = { ev->run_id, ev->selection, ev->partition, r->launched_by ? r->launched_by : "api",
                        tags, host, pid, start, time_us };
    int rc = eider__store_query(r->store, "INSERT INTO runs (run_id, status, selection, partition, "
        "launched_by, tags, host, pid, pid_start, start_us) VALUES (?, 'started', ?, ?, ?, ?, ?, ?, ?, ?)",
        p, 9, NULL, NULL);
    free(tags);
    return rc;
}

static int end_run(eider__recorder *r, const eider_event *ev)
{
    char counts[4][16], end[32];
    const char *status = ev->n_canceled ? "canceled" : ev->n_failed || ev->n_skipped ? "failure" : "success";
    int values[4] = { ev->n_succeeded, ev->n_failed, ev->n_skipped, ev->n_canceled };
    for (int i = 0; i < 4; i++)
        snprintf(counts[i], sizeof(counts[i]), "%d", values[i]);
    snprintf(end, sizeof(end), "%" PRId64, ev->time_us);
    const char *p[] = { status, end, counts[0], counts[1], counts[2], counts[3], ev->run_id };
    int rc = eider__store_flush(r->store);
    if (!rc)
        rc = eider__store_query(r->store, "UPDATE runs SET status = ?, end_us = ?, n_succeeded = ?, "
            "n_failed = ?, n_skipped = ?, n_canceled = ? WHERE run_id = ?", p, 7, NULL, NULL);
    return rc;
}

static void warn(eider__recorder *r, const eider_event *ev, const char *why)
{
    eider__buf msg = { 0 };
    eider__buf_printf(&msg, "%s; the rest of this run is not recorded", why);
    eider_event w = { .type = EIDER_EVENT_LOG, .run_id = ev->run_id, .time_us = ev->time_us,
                      .level = EIDER_LOG_WARN, .message = eider__buf_str(&msg) };
    if (r->next && r->next->on_event)
        r->next->on_event(&w, r->next->user_data);
    eider__buf_release(&msg);
}

static void record(eider__recorder *r, const eider_event *ev)
{
    eider_store *s = r->store;
    int rc = ev->type == EIDER_EVENT_RUN_START ? start_run(r, ev) : EIDER_OK;
    if (!rc)
        enqueue(s, ev);
    if (!rc && ev->type == EIDER_EVENT_RUN_END)
        rc = end_run(r, ev);
    if (rc) {
        warn(r, ev, eider_store_errmsg(s));
        r->failed = 1;
        return;
    }
    pthread_mutex_lock(&s->write_lock);
    if (s->write_rc)
        warn(r, ev, eider__buf_str(&s->write_err));
    r->failed = s->write_rc != 0;
    pthread_mutex_unlock(&s->write_lock);
}

static void on_event(const eider_event *ev, void *user_data)
{
    eider__recorder *r = user_data;
    if (!r->failed)
        record(r, ev);
    if (r->next && r->next->on_event)
        r->next->on_event(ev, r->next->user_data);
}

void eider__recorder_sink(eider__recorder *r, eider_event_sink *out)
{
    out->on_event = on_event;
    out->user_data = r;
}
