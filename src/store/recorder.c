/*
 * recorder.c — recording a run: the run's row when it starts and ends, and its events
 * in batches (every 4096 events or 100 ms, and at the run's end). The step that queues
 * an event writes it as JSON into its run's block; the writer thread stores each batch
 * in one transaction: a row of event_blocks per block, a row of materializations per
 * materialized asset and partition, and the state of each asset it touched. One row
 * per asset is the least that keeps each asset's history and state queryable; events
 * cost a few bytes of a shared row.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <time.h>
#include <jansson.h>
#include <unistd.h>

#include "store.h"

#define BATCH_EVENTS 4096
#define BATCH_SECONDS 0.1
#define BLOCK_BYTES (4u << 20)      /* a longer block is cut: one row stays modest */
#define ROWS_PER_INSERT 100         /* rows of one multi-row INSERT */

/* v in decimal, written backwards from the end of buf[24]; returns its start. printf's
 * machinery costs more than the rest of queueing an event. */
static const char *decimal(char buf[24], int64_t v)
{
    char *p = buf + 23;
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    *p = '\0';
    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10));
    if (v < 0)
        *--p = '-';
    return p;
}

static void put_int(eider__buf *b, int64_t v)
{
    char buf[24];
    eider__buf_puts(b, decimal(buf, v));
}

static char *int_text(eider__arena *a, int64_t v)
{
    char buf[24];
    return eider__arena_strdup(a, decimal(buf, v));
}

#define FIELD_BYTES (1u << 20)      /* a longer message or SQL is kept cut, and says so */

static void put_field(eider__buf *b, const char *name, const char *text)
{
    if (!text)
        return;
    eider__buf_puts(b, ",\"");
    eider__buf_puts(b, name);
    eider__buf_puts(b, "\":");
    eider__buf_json_string(b, text, FIELD_BYTES);
    if (strnlen(text, FIELD_BYTES + 1) > FIELD_BYTES) {
        b->len--;                    /* reopen the string */
        eider__buf_puts(b, " ... (cut at 1 MiB)\"");
    }
}

/* The open block of this run in the batch, or a new one starting at event number first. */
static eider__block *block_for(eider__batch *b, const char *run_id, int64_t first)
{
    for (size_t i = b->n_blocks; i-- > 0;)
        if (strcmp(b->blocks[i].run_id, run_id) == 0) {
            if (b->blocks[i].json.len < BLOCK_BYTES)
                return &b->blocks[i];
            break;                   /* the run's newest block is full */
        }
    EIDER__GROW(b->blocks, b->cap_blocks, b->n_blocks + 1);
    eider__block *k = &b->blocks[b->n_blocks++];
    memset(k, 0, sizeof(*k));
    k->run_id = eider__arena_strdup(&b->arena, run_id);
    k->first = first;
    eider__buf_putc(&k->json, '[');
    return k;
}

static void add_row(eider__batch *b, size_t block, const eider_event *ev, const char *partition,
                    const char *metadata, int failed)
{
    EIDER__GROW(b->rows, b->cap_rows, b->n_rows + 1);
    b->rows[b->n_rows++] = (eider__asset_row){
        .block = block, .asset_key = eider__arena_strdup(&b->arena, ev->asset_key),
        .partition = eider__arena_strdup(&b->arena, partition ? partition : ""),
        .code_version = failed ? NULL : eider__arena_strdup(&b->arena, ev->code_version),
        .metadata = metadata, .time_us = ev->time_us, .failed = failed,
    };
}

/* The metadata of partition `key` of a materialization of several partitions: ev's,
 * with row_count that partition's own (from partition_row_counts), or without one when
 * it is not known, never the whole run's. Kept in the batch's arena. */
static const char *partition_metadata(eider__batch *b, const eider_event *ev, const char *key)
{
    json_t *counts = NULL, *count = NULL;
    eider_meta *m = eider__xmalloc(ev->n_metadata * sizeof(*m));
    size_t n = 0;
    for (size_t i = 0; i < ev->n_metadata; i++)
        if (!strcmp(ev->metadata[i].key, "partition_row_counts") && ev->metadata[i].text)
            counts = json_loads(ev->metadata[i].text, 0, NULL);
    count = json_object_get(counts, key);
    for (size_t i = 0; i < ev->n_metadata; i++) {
        m[n] = ev->metadata[i];
        if (strcmp(m[n].key, "row_count") != 0)
            n++;
        else if (json_is_integer(count))
            m[n++].i = json_integer_value(count);
    }
    char *json = eider__meta_to_json(m, n);
    const char *out = eider__arena_strdup(&b->arena, json);
    free(json);
    free(m);
    json_decref(counts);
    return out;
}

/* Append ev, the run's event number `number`, to the batch: its JSON to the run's block,
 * and a row per partition of a materialization or a failure for the asset's state. A
 * materialization's event names its first row as "materialization", counted within
 * the block. */
static void batch_event(eider__batch *b, const eider_event *ev, int64_t number)
{
    eider__block *k = block_for(b, ev->run_id, number);
    size_t block = (size_t)(k - b->blocks), n_rows = ev->n_partitions ? ev->n_partitions : 1;
    int adds_rows = ev->asset_key && (ev->type == EIDER_EVENT_MATERIALIZATION ||
                                      ev->type == EIDER_EVENT_STEP_FAILURE);
    eider__buf *j = &k->json;
    if (k->n++)
        eider__buf_putc(j, ',');
    eider__buf_puts(j, "{\"type\":\"");
    eider__buf_puts(j, eider_event_name(ev->type));
    eider__buf_puts(j, "\",\"time_us\":");
    put_int(j, ev->time_us);
    put_field(j, "asset_key", ev->asset_key);
    if (ev->asset_key) {
        eider__buf_puts(j, ",\"attempt\":");
        put_int(j, ev->attempt);
    }
    if (ev->duration_s) {
        eider__buf_puts(j, ",\"duration_us\":");
        put_int(j, (int64_t)(ev->duration_s * 1e6 + 0.5));
    }
    if (ev->type == EIDER_EVENT_LOG || ev->crashed)
        put_field(j, "level", eider_log_level_name(ev->level));
    put_field(j, "message", ev->message);
    put_field(j, "sql", ev->sql);
    char *metadata = NULL;
    if ((ev->type == EIDER_EVENT_MATERIALIZATION || ev->type == EIDER_EVENT_OBSERVATION) && ev->n_metadata) {
        char *json = eider__meta_to_json(ev->metadata, ev->n_metadata);
        metadata = eider__arena_strdup(&b->arena, json);
        free(json);
    }
    /* an observation's metadata, and a materialization's of several partitions (each
     * partition's row holds its own row_count), are kept in the event itself */
    if (metadata && (ev->type == EIDER_EVENT_OBSERVATION || (adds_rows && n_rows > 1 &&
                                                              ev->type == EIDER_EVENT_MATERIALIZATION))) {
        eider__buf_puts(j, ",\"metadata\":");
        eider__buf_puts(j, strlen(metadata) <= FIELD_BYTES ? metadata
                           : "{\"metadata\":{\"type\":\"text\",\"value\":\"over 1 MiB: not kept\"}}");
    }
    if (ev->type == EIDER_EVENT_MATERIALIZATION && adds_rows) {
        eider__buf_puts(j, ",\"materialization\":");
        put_int(j, (int64_t)k->n_mats + 1);
        k->n_mats += n_rows;
    }
    eider__buf_putc(j, '}');
    for (size_t i = 0; adds_rows && i < n_rows; i++)
        add_row(b, block, ev, ev->n_partitions ? ev->partitions[i] : NULL,
                n_rows > 1 && metadata ? partition_metadata(b, ev, ev->partitions[i]) : metadata,
                ev->type == EIDER_EVENT_STEP_FAILURE);
    b->n_events++;
}

void eider__batch_release(eider__batch *b)
{
    for (size_t i = 0; i < b->n_blocks; i++)
        eider__buf_release(&b->blocks[i].json);
    free(b->blocks);
    free(b->rows);
    eider__arena_release(&b->arena);
    memset(b, 0, sizeof(*b));
}

/* Insert rows of n_cols parameters each (NULL-able text), at most ROWS_PER_INSERT at a
 * time and never two with the same key (given by same(i, j), or NULL) in one statement,
 * as PostgreSQL's ON CONFLICT requires: one statement per chunk instead of one per row.
 * head is "INSERT INTO t (a, b)", tail what follows the VALUES. */
typedef int (*same_fn)(const void *ud, size_t i, size_t j);

static int insert_rows(eider_store *s, const char *head, const char *tail, const char *const *values,
                       size_t n_rows, size_t n_cols, same_fn same, const void *ud, eider__buf *err)
{
    eider__buf sql = { 0 };
    int rc = EIDER_OK;
    for (size_t at = 0, rows; !rc && at < n_rows; at += rows) {
        for (rows = 1; rows < ROWS_PER_INSERT && at + rows < n_rows; rows++) {
            size_t j = 0;
            while (same && j < rows && !same(ud, at + j, at + rows))
                j++;
            if (same && j < rows)
                break;
        }
        eider__buf_reset(&sql);
        eider__buf_printf(&sql, "%s VALUES ", head);
        for (size_t r = 0; r < rows; r++) {
            eider__buf_puts(&sql, r ? ", (" : "(");
            for (size_t c = 0; c < n_cols; c++)
                eider__buf_puts(&sql, c ? ", ?" : "?");
            eider__buf_putc(&sql, ')');
        }
        eider__buf_puts(&sql, tail);
        rc = s->m->query(s->conn, eider__buf_str(&sql), values + at * n_cols, rows * n_cols,
                         NULL, NULL, err);
    }
    eider__buf_release(&sql);
    return rc;
}

/* Number the batch's materializations: each block's rows in turn, from the store's
 * counter, which never gives an id twice (not even one whose row was wiped). Every
 * batch takes the counter's row first, materializations or not: on PostgreSQL its lock
 * queues the writers, so that two never lock asset_state's rows in opposite orders. */
static int number_materializations(eider_store *s, eider__batch *b, eider__buf *err)
{
    int64_t last = -1;
    size_t n_mats = 0;
    char n[24];
    for (size_t i = 0; i < b->n_blocks; i++)
        n_mats += b->blocks[i].n_mats;
    snprintf(n, sizeof(n), "%zu", n_mats);
    const char *p[] = { n };
    int rc = s->m->query(s->conn, "UPDATE id_counters SET last = last + CAST(? AS BIGINT) WHERE name = "
                                  "'materializations' RETURNING last", p, 1, eider__read_i64, &last,
                         err);
    if (!rc && last < 0) {
        eider__buf_puts(err, "the counter of materialization ids (table id_counters) is missing");
        rc = EIDER_EIO;
    }
    int64_t id = last - (int64_t)n_mats;
    for (size_t i = 0; !rc && i < b->n_blocks; i++) {
        b->blocks[i].mat_base = id;
        for (size_t r = 0; r < b->n_rows; r++)
            if (b->rows[r].block == i && !b->rows[r].failed)
                b->rows[r].id = ++id;
    }
    return rc;
}

#define BLOCK_COLS 5
#define MAT_COLS 7
#define STATE_COLS 6

/* The rows of asset_state a batch writes, with a hash of each key: rows of different
 * hashes are told apart without comparing strings. */
typedef struct state_keys {
    const eider__asset_row **rows;
    uint64_t *hash;
} state_keys;

/* The hash of the key, its NUL and the partition. */
static uint64_t key_hash(const eider__asset_row *w)
{
    uint64_t h = eider__hash(EIDER__HASH_START, w->asset_key, strlen(w->asset_key) + 1);
    return eider__hash(h, w->partition, strlen(w->partition));
}

static int same_state(const void *ud, size_t i, size_t j)
{
    const state_keys *k = ud;
    return k->hash[i] == k->hash[j] && strcmp(k->rows[i]->asset_key, k->rows[j]->asset_key) == 0 &&
           strcmp(k->rows[i]->partition, k->rows[j]->partition) == 0;
}

/* Write a batch in one transaction: its event blocks, its materializations, then the
 * state of each asset (and partition) it touched, the latest row winning. Called with
 * s->lock held. */
static int write_batch(eider_store *s, eider__batch *b, eider__buf *err)
{
    eider__arena *a = &b->arena;
    size_t n_mats = 0;
    const char **blocks = eider__xmalloc((b->n_blocks * BLOCK_COLS + 1) * sizeof(char *));
    const char **mats = eider__xmalloc((b->n_rows * MAT_COLS + 1) * sizeof(char *));
    const char **state = eider__xmalloc((b->n_rows * STATE_COLS + 1) * sizeof(char *));
    state_keys keys = { eider__xmalloc((b->n_rows + 1) * sizeof(*keys.rows)),
                        eider__xmalloc((b->n_rows + 1) * sizeof(*keys.hash)) };
    int rc = s->m->begin(s->conn, err);
    if (!rc)
        rc = number_materializations(s, b, err);
    for (size_t i = 0; !rc && i < b->n_blocks; i++) {
        eider__block *k = &b->blocks[i];
        eider__buf_putc(&k->json, ']');
        if (k->json.truncated) {     /* cannot happen within the limits above; never store it cut */
            eider__buf_reset(&k->json);
            eider__buf_puts(&k->json, "[{\"type\":\"log\",\"time_us\":0,\"level\":\"error\","
                                      "\"message\":\"these events outgrew their buffer and were lost\"}]");
        }
        const char *v[BLOCK_COLS] = { k->run_id, int_text(a, k->first), int_text(a, (int64_t)k->n),
                                      int_text(a, k->mat_base), eider__buf_str(&k->json) };
        memcpy(blocks + i * BLOCK_COLS, v, sizeof(v));
    }
    for (size_t i = 0; !rc && i < b->n_blocks; i++)      /* in the order of their ids */
        for (size_t r = 0; r < b->n_rows; r++) {
            const eider__asset_row *w = &b->rows[r];
            if (w->block != i || w->failed)
                continue;
            const char *v[MAT_COLS] = { int_text(a, w->id), w->asset_key, w->partition,
                                        b->blocks[i].run_id, int_text(a, w->time_us),
                                        w->code_version, w->metadata };
            memcpy(mats + n_mats++ * MAT_COLS, v, sizeof(v));
        }
    for (size_t r = 0; !rc && r < b->n_rows; r++) {
        const eider__asset_row *w = &b->rows[r];
        const char *v[STATE_COLS] = { w->asset_key, w->partition, w->failed ? NULL : int_text(a, w->id),
                                      b->blocks[w->block].run_id, w->failed ? "1" : "0",
                                      int_text(a, w->time_us) };
        memcpy(state + r * STATE_COLS, v, sizeof(v));
        keys.rows[r] = w;
        keys.hash[r] = key_hash(w);
    }
    if (!rc)
        rc = insert_rows(s, "INSERT INTO event_blocks (run_id, first, n, mat_base, events)", "",
                         blocks, b->n_blocks, BLOCK_COLS, NULL, NULL, err);
    if (!rc)
        rc = insert_rows(s, "INSERT INTO materializations (id, asset_key, partition, run_id, time_us, "
                            "code_version, metadata)", "", mats, n_mats, MAT_COLS, NULL, NULL, err);
    if (!rc)
        rc = insert_rows(s, "INSERT INTO asset_state (asset_key, partition, materialization_id, "
            "last_run_id, last_failed, last_us)", " ON CONFLICT (asset_key, partition) DO UPDATE SET "
            "materialization_id = COALESCE(excluded.materialization_id, asset_state.materialization_id), "
            "last_run_id = excluded.last_run_id, last_failed = excluded.last_failed, "
            "last_us = excluded.last_us", state, b->n_rows, STATE_COLS, same_state, &keys, err);
    if (!rc)
        rc = s->m->commit(s->conn, err);
    if (rc)
        s->m->rollback(s->conn);
    free(blocks);
    free(mats);
    free(state);
    free(keys.rows);
    free(keys.hash);
    return rc;
}

/* Take what is buffered and write it; batches are written one at a time, in the order
 * they were taken. */
static int write_pending(eider_store *s, eider__buf *err)
{
    eider__batch batch;
    int rc = EIDER_OK;
    pthread_mutex_lock(&s->write_lock);
    pthread_mutex_lock(&s->queue_lock);
    batch = s->pending;
    memset(&s->pending, 0, sizeof(s->pending));
    s->last_flush = eider__mono_s();
    pthread_mutex_unlock(&s->queue_lock);
    if (batch.n_events && s->conn) {
        pthread_mutex_lock(&s->lock);
        rc = write_batch(s, &batch, err);
        pthread_mutex_unlock(&s->lock);
    }
    if (rc) {                        /* the runs whose events it held learn it in take_failure() */
        pthread_mutex_lock(&s->queue_lock);
        eider__buf_reset(&s->write_err);
        eider__buf_printf(&s->write_err, "instance store %s: recording events failed: %s",
                          s->location, eider__buf_str(err));
        for (size_t i = 0; i < batch.n_blocks; i++) {
            EIDER__GROW(s->failed_runs, s->cap_failed_runs, s->n_failed_runs + 1);
            s->failed_runs[s->n_failed_runs++] = eider__xstrdup(batch.blocks[i].run_id);
        }
        atomic_fetch_add_explicit(&s->write_failures, 1, memory_order_release);  /* after the rest */
        pthread_mutex_unlock(&s->queue_lock);
    }
    pthread_mutex_unlock(&s->write_lock);
    eider__batch_release(&batch);
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
        size_t n = s->pending.n_events;
        if (n && (n >= BATCH_EVENTS || waited >= BATCH_SECONDS)) {
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

/* Queue the run's next event for the writer (started on the first one). */
static void enqueue(eider__recorder *r, const eider_event *ev)
{
    eider_store *s = r->store;
    pthread_mutex_lock(&s->queue_lock);
    batch_event(&s->pending, ev, ++r->n_events);
    if (!s->writer_started && !s->stopping) {
        s->last_flush = eider__mono_s();     /* a first batch waits as long as the others */
        s->writer_started = pthread_create(&s->writer, NULL, writer_main, s) == 0;
    }
    if (s->pending.n_events >= BATCH_EVENTS)
        pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->queue_lock);
}

/* The message of a failed batch that held events of this run, when one failed since
 * the run last asked (malloc'd), or NULL. The count of failures is read without a lock
 * first: a step never waits for the writer. */
static char *take_failure(eider__recorder *r, const char *run_id)
{
    eider_store *s = r->store;
    char *failure = NULL;
    if (atomic_load_explicit(&s->write_failures, memory_order_acquire) == r->failures_seen)
        return NULL;
    pthread_mutex_lock(&s->queue_lock);
    r->failures_seen = atomic_load(&s->write_failures);
    for (size_t i = 0; i < s->n_failed_runs && !failure; i++)
        if (strcmp(s->failed_runs[i], run_id) == 0)
            failure = eider__xstrdup(eider__buf_str(&s->write_err));
    pthread_mutex_unlock(&s->queue_lock);
    return failure;
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

/* The run's row: its status and counts. */
static int end_run(eider__recorder *r, const eider_event *ev)
{
    char counts[4][16], end[32];
    const char *status = ev->crashed ? "crashed" : ev->n_canceled ? "canceled"
                       : ev->n_failed || ev->n_skipped ? "failure" : "success";
    int values[4] = { ev->n_succeeded, ev->n_failed, ev->n_skipped, ev->n_canceled };
    for (int i = 0; i < 4; i++)
        snprintf(counts[i], sizeof(counts[i]), "%d", values[i]);
    snprintf(end, sizeof(end), "%" PRId64, ev->time_us);
    const char *p[] = { status, end, counts[0], counts[1], counts[2], counts[3], ev->run_id };
    return eider__store_query(r->store, "UPDATE runs SET status = ?, end_us = ?, n_succeeded = ?, "
        "n_failed = ?, n_skipped = ?, n_canceled = ? WHERE run_id = ?", p, 7, NULL, NULL);
}

/* Tell the next sink, once, that recording failed. */
static void warn(eider__recorder *r, const eider_event *ev, const char *why)
{
    eider__buf msg = { 0 };
    if (r->failed)
        return;
    r->failed = 1;
    eider__buf_printf(&msg, "%s; the rest of this run's events are not recorded", why);
    eider_event w = { .type = EIDER_EVENT_LOG, .run_id = ev->run_id, .time_us = ev->time_us,
                      .level = EIDER_LOG_WARN, .message = eider__buf_str(&msg) };
    if (r->next && r->next->on_event)
        r->next->on_event(&w, r->next->user_data);
    eider__buf_release(&msg);
}

/* Warn when a batch that held this run's events failed since the last look. */
static void check_writes(eider__recorder *r, const eider_event *ev)
{
    char *failure = take_failure(r, ev->run_id);
    if (failure)
        warn(r, ev, failure);
    free(failure);
}

/* The run's end: what is queued written first (its failure is this run's to tell),
 * then the end event, after a note when events went missing, and once more if that
 * write fails; then the run's row, whatever became of its events. */
static void finish_run(eider__recorder *r, const eider_event *ev)
{
    eider_event note = { .type = EIDER_EVENT_LOG, .run_id = ev->run_id, .time_us = ev->time_us,
                         .level = EIDER_LOG_WARN, .message = "recording this run's events failed "
                         "part-way: some of them are missing here" };
    eider__store_flush(r->store);
    for (int attempt = 0; attempt < 2; attempt++) {
        check_writes(r, ev);
        if (r->failed)
            enqueue(r, &note);
        enqueue(r, ev);
        if (eider__store_flush(r->store) == EIDER_OK)
            break;
    }
    check_writes(r, ev);
    if (end_run(r, ev))
        warn(r, ev, eider_store_errmsg(r->store));
}

/* Record ev. After a failed write the run's events are no longer queued, but its end
 * still is (finish_run). */
static void record(eider__recorder *r, const eider_event *ev)
{
    eider_store *s = r->store;
    if (ev->type == EIDER_EVENT_RUN_START) {
        pthread_mutex_lock(&s->queue_lock);
        r->failures_seen = atomic_load(&s->write_failures);
        pthread_mutex_unlock(&s->queue_lock);
        r->started = start_run(r, ev) == EIDER_OK;
        if (!r->started)
            warn(r, ev, eider_store_errmsg(s));
    }
    if (!r->started)
        return;
    if (ev->type == EIDER_EVENT_RUN_END) {
        finish_run(r, ev);
        return;
    }
    check_writes(r, ev);
    if (!r->failed)
        enqueue(r, ev);
}

static void on_event(const eider_event *ev, void *user_data)
{
    eider__recorder *r = user_data;
    record(r, ev);
    if (r->next && r->next->on_event)
        r->next->on_event(ev, r->next->user_data);
}

void eider__recorder_sink(eider__recorder *r, eider_event_sink *out)
{
    out->on_event = on_event;
    out->user_data = r;
}
