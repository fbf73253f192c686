/*
 * recorder.c — recording a run: the run's row when it starts and ends, and its events
 * in batches (every 4096 events or 100 ms, and at the run's end). The step that queues
 * an event writes it as JSON into its run's block; the writer thread stores each batch
 * in one transaction: a row of event_blocks per block, a row of materializations per
 * materialized asset and partition, and the state of each asset it touched. One row
 * per asset is the least that keeps each asset's history and state queryable; events
 * cost a few bytes of a shared row.
 *
 * A batch that cannot be written (a full disk, PostgreSQL down) is held and tried
 * again, before anything newer, while the run goes on and at its end; what is still
 * missing then is told. The same thread renews the lease of each run being recorded,
 * by which the run proves that it is alive (store.c marks a run whose lease ran out
 * as crashed).
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
        .duration_us = ev->duration_s > 0 ? (int64_t)(ev->duration_s * 1e6 + 0.5) : 0,
    };
}

/* A check's outcome: a row per partition it checked ("" when unpartitioned). */
static void add_check_rows(eider__batch *b, size_t block, const eider_event *ev, const char *metadata)
{
    eider__arena *a = &b->arena;
    size_t n = ev->n_partitions ? ev->n_partitions : 1;
    for (size_t i = 0; i < n; i++) {
        EIDER__GROW(b->checks, b->cap_checks, b->n_checks + 1);
        b->checks[b->n_checks++] = (eider__check_row){
            .block = block, .asset_key = eider__arena_strdup(a, ev->asset_key),
            .check_name = eider__arena_strdup(a, ev->check_name ? ev->check_name : ""),
            .partition = eider__arena_strdup(a, ev->n_partitions ? ev->partitions[i] : ""),
            .status = eider_check_status_name(ev->check_status),
            .severity = eider_check_severity_name(ev->check_severity),
            .message = eider__arena_strdup(a, ev->message), .sql = eider__arena_strdup(a, ev->sql),
            .metadata = metadata, .time_us = ev->time_us, .blocking = ev->check_blocking != 0,
        };
    }
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
    size_t before = j->len;
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
    int check = ev->type == EIDER_EVENT_CHECK && ev->asset_key;
    if (check) {
        put_field(j, "check_name", ev->check_name);
        put_field(j, "status", eider_check_status_name(ev->check_status));
        put_field(j, "severity", eider_check_severity_name(ev->check_severity));
        eider__buf_puts(j, ev->check_blocking ? ",\"blocking\":1" : ",\"blocking\":0");
    }
    if ((ev->type == EIDER_EVENT_MATERIALIZATION || ev->type == EIDER_EVENT_OBSERVATION || check) &&
        ev->n_metadata) {
        char *json = eider__meta_to_json(ev->metadata, ev->n_metadata);
        metadata = eider__arena_strdup(&b->arena, json);
        free(json);
    }
    /* an observation's metadata, and a materialization's of several partitions (each
     * partition's row holds its own row_count), are kept in the event itself */
    if (metadata && (ev->type == EIDER_EVENT_OBSERVATION || check || (adds_rows && n_rows > 1 &&
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
    if (check)
        add_check_rows(b, block, ev, metadata);
    for (size_t i = 0; adds_rows && i < n_rows; i++)
        add_row(b, block, ev, ev->n_partitions ? ev->partitions[i] : NULL,
                n_rows > 1 && metadata ? partition_metadata(b, ev, ev->partitions[i]) : metadata,
                ev->type == EIDER_EVENT_STEP_FAILURE);
    b->bytes += j->len - before + (adds_rows || check ? n_rows * (64 + (metadata ? strlen(metadata) : 0)) : 0);
    b->n_events++;
}

void eider__batch_release(eider__batch *b)
{
    for (size_t i = 0; i < b->n_blocks; i++)
        eider__buf_release(&b->blocks[i].json);
    free(b->blocks);
    free(b->rows);
    free(b->checks);
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
#define MAT_COLS 8
#define STATE_COLS 6
#define CHECK_COLS 11

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
    eider__arena texts = { 0 }, *a = &texts;         /* this try's: a batch may be tried again */
    size_t n_mats = 0, closed = 0;
    const char **blocks = eider__xmalloc((b->n_blocks * BLOCK_COLS + 1) * sizeof(char *));
    const char **mats = eider__xmalloc((b->n_rows * MAT_COLS + 1) * sizeof(char *));
    const char **state = eider__xmalloc((b->n_rows * STATE_COLS + 1) * sizeof(char *));
    const char **checks = eider__xmalloc((b->n_checks * CHECK_COLS + 1) * sizeof(char *));
    state_keys keys = { eider__xmalloc((b->n_rows + 1) * sizeof(*keys.rows)),
                        eider__xmalloc((b->n_rows + 1) * sizeof(*keys.hash)) };
    int rc = s->m->begin(s->conn, err);
    if (!rc)
        rc = number_materializations(s, b, err);
    for (size_t i = 0; !rc && i < b->n_blocks; i++, closed++) {
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
                                        w->code_version, w->metadata,
                                        int_text(a, w->duration_us) };
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
    for (size_t r = 0; !rc && r < b->n_checks; r++) {
        const eider__check_row *w = &b->checks[r];
        const char *v[CHECK_COLS] = { w->asset_key, w->check_name, w->partition,
                                      b->blocks[w->block].run_id, int_text(a, w->time_us),
                                      w->status, w->severity, w->blocking ? "1" : "0",
                                      w->message, w->sql, w->metadata };
        memcpy(checks + r * CHECK_COLS, v, sizeof(v));
    }
    if (!rc)
        rc = insert_rows(s, "INSERT INTO check_results (asset_key, check_name, partition, run_id, "
                            "time_us, status, severity, blocking, message, sql, metadata)", "",
                         checks, b->n_checks, CHECK_COLS, NULL, NULL, err);
    if (!rc)
        rc = insert_rows(s, "INSERT INTO event_blocks (run_id, first, n, mat_base, events)", "",
                         blocks, b->n_blocks, BLOCK_COLS, NULL, NULL, err);
    if (!rc)
        rc = insert_rows(s, "INSERT INTO materializations (id, asset_key, partition, run_id, time_us, "
                            "code_version, metadata, duration_us)", "", mats, n_mats, MAT_COLS, NULL, NULL, err);
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
    for (size_t i = 0; i < closed; i++)      /* open again, for another try */
        b->blocks[i].json.data[--b->blocks[i].json.len] = '\0';
    eider__arena_release(&texts);
    free(blocks);
    free(mats);
    free(state);
    free(checks);
    free(keys.rows);
    free(keys.hash);
    return rc;
}

/* ---- writing, and holding what could not be written ---- */

#define HOLD_BYTES (64u << 20)      /* kept for a store that fails, with what waits */
#define RETRY_FIRST_S 0.1           /* the pause before a failed write is tried again */
#define RETRY_MAX_S 5.0             /* it doubles up to this */
#define END_RETRY_S 60.0            /* $EIDER_STORE_RETRY_S unset: retrying at a run's end */
#define LEASE_S 60.0                /* $EIDER_RUN_LEASE_S unset: a run's lease */
#define RENEWALS_PER_LEASE 12       /* renewed every 5 s of a 60 s lease */
#define MISSING_NAMES 10            /* materializations named in what is missing */
#define RECREATED_NOTE "this run's row was deleted from the instance store while the run was " \
    "alive (by eider gc, while it was marked crashed, stopped past its lease) and was made " \
    "again when the run came back: its events and materializations recorded before are gone"


/* The seconds in $name (a positive number; 0 too when zero_ok), else fallback. */
static double env_seconds(const char *name, double fallback, int zero_ok)
{
    const char *text = getenv(name);
    char *end = NULL;
    double v = text && *text ? strtod(text, &end) : -1;
    if (!end || *end || !(v > 0 || (zero_ok && v == 0)) || v > 1e6)
        return fallback;
    return v;
}

/* Whether a batch tried before was written after all (PostgreSQL: the connection
 * dropped after its COMMIT was sent): its first block is there. A block's key is its
 * run's, numbered by the run alone, so no other writer puts it there. */
static int already_written(eider_store *s, const eider__batch *b)
{
    eider__buf err = { 0 };
    int64_t found = 0;
    char first[24];
    if (!b->n_blocks)
        return 1;
    const char *p[] = { b->blocks[0].run_id, decimal(first, b->blocks[0].first) };
    int rc = s->m->query(s->conn, "SELECT count(*) FROM event_blocks WHERE run_id = ? AND first = "
                         "CAST(? AS BIGINT)", p, 2, eider__read_i64, &found, &err);
    eider__buf_release(&err);
    return !rc && found > 0;
}

/* Write the oldest held batch; written, it leaves the queue. Called with write_lock. */
static int write_held(eider_store *s, eider__buf *err)
{
    eider__batch *b = &s->held[0];
    int rc = EIDER_OK;
    if (s->conn && b->n_blocks) {
        pthread_mutex_lock(&s->lock);
        if (!(b->tries && already_written(s, b)))
            rc = write_batch(s, b, err);
        pthread_mutex_unlock(&s->lock);
    }
    if (rc) {
        b->tries++;
        return rc;
    }
    pthread_mutex_lock(&s->queue_lock);
    s->held_bytes -= b->bytes;
    eider__batch_release(b);
    memmove(s->held, s->held + 1, --s->n_held * sizeof(*s->held));
    pthread_mutex_unlock(&s->queue_lock);
    return EIDER_OK;
}

/* Called with queue_lock. */
static void remember_failed_run(eider_store *s, const char *run_id)
{
    for (size_t i = 0; i < s->n_failed_runs; i++)
        if (strcmp(s->failed_runs[i], run_id) == 0)
            return;
    EIDER__GROW(s->failed_runs, s->cap_failed_runs, s->n_failed_runs + 1);
    s->failed_runs[s->n_failed_runs++] = eider__xstrdup(run_id);
}

/* A write failed: the runs whose events wait learn it in take_failure(), and the next
 * try waits a pause twice the last one's (up to RETRY_MAX_S). Called with write_lock. */
static void note_failure(eider_store *s, const eider__buf *err)
{
    pthread_mutex_lock(&s->queue_lock);
    eider__buf_reset(&s->write_err);
    eider__buf_printf(&s->write_err, "instance store %s: recording events failed: %s",
                      s->location, eider__buf_str(err));
    for (size_t h = 0; h < s->n_held; h++)
        for (size_t i = 0; i < s->held[h].n_blocks; i++)
            remember_failed_run(s, s->held[h].blocks[i].run_id);
    s->backoff = s->backoff ? s->backoff * 2 : RETRY_FIRST_S;
    if (s->backoff > RETRY_MAX_S)
        s->backoff = RETRY_MAX_S;
    s->retry_at = eider__mono_s() + s->backoff;
    atomic_fetch_add_explicit(&s->write_failures, 1, memory_order_release);  /* after the rest */
    pthread_mutex_unlock(&s->queue_lock);
}

/* Take what is buffered, behind what is held, and write it all, oldest first, one
 * transaction a batch; what a failed write leaves stays held for the next try. */
static int write_pending(eider_store *s, eider__buf *err)
{
    int rc = EIDER_OK;
    pthread_mutex_lock(&s->write_lock);
    pthread_mutex_lock(&s->queue_lock);
    if (s->pending.n_events) {
        EIDER__GROW(s->held, s->cap_held, s->n_held + 1);
        s->held[s->n_held++] = s->pending;
        s->held_bytes += s->pending.bytes;
        memset(&s->pending, 0, sizeof(s->pending));
    }
    s->last_flush = eider__mono_s();
    pthread_mutex_unlock(&s->queue_lock);
    while (!rc && s->n_held)         /* changed only under write_lock, which this holds */
        rc = write_held(s, err);
    if (rc)
        note_failure(s, err);
    pthread_mutex_lock(&s->queue_lock);
    if (!rc)
        s->backoff = 0;
    pthread_mutex_unlock(&s->queue_lock);
    pthread_mutex_unlock(&s->write_lock);
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

/* ---- leases ---- */

/* One statement of a lease's, under the store's lock; its message is not kept (the
 * writer thread's errors must not replace the message a caller reads). */
static int lease_query(eider_store *s, const char *sql, const char *const *p, size_t n,
                       eider__row_fn row, void *ud)
{
    eider__buf err = { 0 };
    if (!s->conn)
        return EIDER_EINVAL;
    pthread_mutex_lock(&s->lock);
    int rc = s->m->query(s->conn, sql, p, n, row, ud, &err);
    pthread_mutex_unlock(&s->lock);
    eider__buf_release(&err);
    return rc;
}

static int read_text(void *ud, const char *const *cols, size_t n)
{
    char **out = ud;
    if (!*out)
        *out = eider__xstrdup(n && cols[0] ? cols[0] : "");
    return 0;
}

/* Queue a warning as run_id's next event, while this process records it. */
static void queue_note(eider_store *s, const char *run_id, const char *message)
{
    eider_event ev = { .type = EIDER_EVENT_LOG, .run_id = run_id, .time_us = eider__now_us(),
                       .level = EIDER_LOG_WARN, .message = message };
    pthread_mutex_lock(&s->queue_lock);
    for (size_t i = 0; i < s->n_leases; i++)
        if (strcmp(s->leases[i]->run_id, run_id) == 0) {
            batch_event(&s->pending, &ev, ++s->leases[i]->n_events);
            break;
        }
    pthread_mutex_unlock(&s->queue_lock);
}

/* The run was marked crashed (note: why) while it was alive: started again, its lease
 * renewed, and a note in its events and on its row. */
static void take_back(eider_store *s, const char *run_id, const char *until, double lease_s,
                      const char *note)
{
    eider__buf msg = { 0 };
    int64_t taken = 0;
    eider__buf_printf(&msg, "this run's lease lapsed: it was not renewed for longer than its %g s "
                      "(the process was stopped, or the instance store was out of reach), and the "
                      "run was marked crashed (\"%s\"); it was alive all along, and goes on as "
                      "'started'", lease_s, note);
    const char *p[] = { until, eider__buf_str(&msg), run_id };
    if (!lease_query(s, "UPDATE runs SET status = 'started', end_us = NULL, lease_until_us = "
                        "CAST(? AS BIGINT), note = ? WHERE run_id = ? AND status = 'crashed' "
                        "RETURNING 1", p, 3, eider__read_i64, &taken) && taken)
        queue_note(s, run_id, eider__buf_str(&msg));
    eider__buf_release(&msg);
}

/* What makes a run's row again (recreate()), copied from its recorder: the writer
 * thread renews a lease while the run may end and free its own. */
typedef struct run_row {
    char *run_id, *selection, *partition, *launched_by, *tags;
    int64_t start_us;
    double lease_s;
} run_row;

static char *tags_json(const char *const *tags);

/* Called with queue_lock, or by r's own thread. */
static void run_row_of(run_row *w, const eider__recorder *r)
{
    *w = (run_row){ .run_id = eider__xstrdup(r->run_id),
                    .selection = r->selection ? eider__xstrdup(r->selection) : NULL,
                    .partition = r->partition ? eider__xstrdup(r->partition) : NULL,
                    .launched_by = eider__xstrdup(r->launched_by ? r->launched_by : "api"),
                    .tags = tags_json(r->tags), .start_us = r->start_us, .lease_s = r->lease_s };
}

static void run_row_release(run_row *w)
{
    free(w->run_id);
    free(w->selection);
    free(w->partition);
    free(w->launched_by);
    free(w->tags);
}

/* The run's row is gone while the run is alive (`eider gc` deleted it while it was
 * marked crashed, stopped past its lease): made again, as 'started' with a note, so that
 * its next events and its end belong to a run that `eider runs` lists (and gc reaches).
 * Nonzero when it was made. */
static int recreate(eider_store *s, const run_row *w, const char *until)
{
    char pid[24], host[256] = "", start[24];
    int64_t made = 0;
    gethostname(host, sizeof(host) - 1);
    const char *p[] = { w->run_id, w->selection, w->partition, w->launched_by, w->tags, host,
                        decimal(pid, getpid()), decimal(start, w->start_us), until, RECREATED_NOTE };
    if (lease_query(s, "INSERT INTO runs (run_id, status, selection, partition, launched_by, tags, "
                       "host, pid, start_us, lease_until_us, note) VALUES (?, 'started', ?, ?, ?, ?, "
                       "?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING RETURNING 1", p, 10,
                    eider__read_i64, &made) || !made)
        return 0;
    queue_note(s, w->run_id, RECREATED_NOTE);
    return 1;
}

/* Renew w's lease for its length from now. A run marked crashed meanwhile (its lease
 * ran out while its process was stopped, or the store was out of reach) is taken back;
 * one whose row was deleted meanwhile is made again (*made set). Nonzero when the store
 * was written. */
static int renew_lease(eider_store *s, const run_row *w, int *made)
{
    char until[24], *note = NULL;
    int64_t renewed = 0, exists = 1;
    const char *p[] = { decimal(until, eider__now_us() + (int64_t)(w->lease_s * 1e6)), w->run_id };
    int rc = lease_query(s, "UPDATE runs SET lease_until_us = CAST(? AS BIGINT) WHERE run_id = ? "
                            "AND status = 'started' RETURNING 1", p, 2, eider__read_i64, &renewed);
    if (rc || renewed)
        return !rc;
    if (!lease_query(s, "SELECT note FROM runs WHERE run_id = ? AND status = 'crashed'", p + 1, 1,
                     read_text, &note) && note)
        take_back(s, w->run_id, p[0], w->lease_s, note);
    else if (!lease_query(s, "SELECT count(*) FROM runs WHERE run_id = ?", p + 1, 1,
                          eider__read_i64, &exists) && !exists)
        *made = recreate(s, w, p[0]);
    free(note);
    return 1;
}

/* A run whose lease is due for renewal, marked renewed now, or NULL. With queue_lock. */
static eider__recorder *lease_due(eider_store *s, double now)
{
    for (size_t i = 0; i < s->n_leases; i++) {
        eider__recorder *r = s->leases[i];
        if (now - r->renewed >= r->lease_s / RENEWALS_PER_LEASE) {
            r->renewed = now;
            return r;
        }
    }
    return NULL;
}

/* Renew a lease that is due; nonzero when one was. Called with queue_lock, which it
 * lets go of meanwhile. */
static int renew_due(eider_store *s, double now)
{
    eider__recorder *r = lease_due(s, now);
    if (!r)
        return 0;
    run_row w;
    int made = 0;
    run_row_of(&w, r);
    pthread_mutex_unlock(&s->queue_lock);
    int ok = renew_lease(s, &w, &made);
    pthread_mutex_lock(&s->queue_lock);
    for (size_t i = 0; ok && i < s->n_leases; i++)      /* r, unless its run ended meanwhile */
        if (s->leases[i] == r && strcmp(r->run_id, w.run_id) == 0) {
            r->renewed_ok = now;
            r->recreated |= made;
        }
    run_row_release(&w);
    return 1;
}

static void lease_add(eider__recorder *r)
{
    eider_store *s = r->store;
    pthread_mutex_lock(&s->queue_lock);
    r->renewed = r->renewed_ok = eider__mono_s();
    EIDER__GROW(s->leases, s->cap_leases, s->n_leases + 1);
    s->leases[s->n_leases++] = r;
    pthread_mutex_unlock(&s->queue_lock);
}

static void lease_remove(eider__recorder *r)
{
    eider_store *s = r->store;
    pthread_mutex_lock(&s->queue_lock);
    for (size_t i = 0; i < s->n_leases; i++)
        if (s->leases[i] == r) {
            s->leases[i] = s->leases[--s->n_leases];
            break;
        }
    pthread_mutex_unlock(&s->queue_lock);
}

/* ---- the writer thread ---- */

/* Whether a write is due: BATCH_EVENTS waiting or BATCH_SECONDS passed, or, while a
 * failed batch is held, its pause over. With queue_lock. */
static int write_due(const eider_store *s, double now)
{
    size_t n = s->pending.n_events;
    if (s->n_held)
        return now >= s->retry_at;
    return n && (n >= BATCH_EVENTS || now - s->last_flush >= BATCH_SECONDS);
}

/* The writer thread: renews the leases of the runs being recorded, and writes a batch
 * when one is due, until the store closes. */
static void *writer_main(void *arg)
{
    eider_store *s = arg;
    pthread_mutex_lock(&s->queue_lock);
    while (!s->stopping) {
        double now = eider__mono_s();
        if (renew_due(s, now))
            continue;
        if (write_due(s, now)) {
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

void eider__store_release_held(eider_store *s)
{
    for (size_t i = 0; i < s->n_held; i++)
        eider__batch_release(&s->held[i]);
    free(s->held);
    free(s->leases);
    s->held = NULL;
    s->leases = NULL;
    s->n_held = s->n_leases = s->held_bytes = 0;
}

/* ---- what is missing ---- */

static void missing_range(eider__missing *m, int64_t first, int64_t n)
{
    if (m->n_ranges && m->ranges[m->n_ranges - 1][1] + 1 == first) {
        m->ranges[m->n_ranges - 1][1] += n;
    } else {
        EIDER__GROW(m->ranges, m->cap_ranges, m->n_ranges + 1);
        m->ranges[m->n_ranges][0] = first;
        m->ranges[m->n_ranges++][1] = first + n - 1;
    }
    m->n_events += (size_t)n;
}

static void missing_mat(eider__missing *m, const char *key, const char *partition)
{
    if (m->n_mats++ >= MISSING_NAMES)
        return;
    eider__buf_printf(&m->names, "%s'%s'", m->n_named++ ? ", " : "", key);
    if (partition && *partition)
        eider__buf_printf(&m->names, " [%s]", partition);
}

static void missing_event(eider__missing *m, int64_t number, const eider_event *ev)
{
    size_t n = ev->n_partitions ? ev->n_partitions : 1;
    missing_range(m, number, 1);
    for (size_t i = 0; ev->type == EIDER_EVENT_MATERIALIZATION && ev->asset_key && i < n; i++)
        missing_mat(m, ev->asset_key, ev->n_partitions ? ev->partitions[i] : NULL);
}

static int cmp_range(const void *a, const void *b)
{
    int64_t x = ((const int64_t *)a)[0], y = ((const int64_t *)b)[0];
    return (x > y) - (x < y);
}

/* "events 3-9 and 12 (8 events, with the materializations of 'a', 'b' [p] and 3 more)":
 * the ranges sorted and joined where they touch. */
static void missing_describe(eider__missing *m, eider__buf *out)
{
    size_t n = 0;
    qsort(m->ranges, m->n_ranges, sizeof(*m->ranges), cmp_range);
    for (size_t i = 0; i < m->n_ranges; i++)
        if (n && m->ranges[n - 1][1] + 1 >= m->ranges[i][0])
            m->ranges[n - 1][1] = m->ranges[i][1];
        else
            memcpy(m->ranges[n++], m->ranges[i], sizeof(*m->ranges));
    m->n_ranges = n;
    eider__buf_puts(out, n == 1 && m->n_events == 1 ? "event " : "events ");
    for (size_t i = 0; i < n; i++) {
        eider__buf_puts(out, i == 0 ? "" : i + 1 == n ? " and " : ", ");
        put_int(out, m->ranges[i][0]);
        if (m->ranges[i][1] > m->ranges[i][0]) {
            eider__buf_putc(out, '-');
            put_int(out, m->ranges[i][1]);
        }
    }
    eider__buf_printf(out, " (%zu event%s", m->n_events, m->n_events == 1 ? "" : "s");
    if (m->n_mats)
        eider__buf_printf(out, ", with the materialization%s of %s", m->n_mats == 1 ? "" : "s",
                          eider__buf_str(&m->names));
    if (m->n_mats > m->n_named)
        eider__buf_printf(out, " and %zu more", m->n_mats - m->n_named);
    eider__buf_putc(out, ')');
}

static void missing_release(eider__missing *m)
{
    free(m->ranges);
    eider__buf_release(&m->names);
    memset(m, 0, sizeof(*m));
}

/* Take run_id's blocks out of batch b, adding what they held to m. */
static void batch_take_run(eider__batch *b, const char *run_id, eider__missing *m)
{
    size_t kept = 0, n_rows = 0, *at = eider__xmalloc((b->n_blocks + 1) * sizeof(*at));
    for (size_t i = 0; i < b->n_blocks; i++) {
        eider__block *k = &b->blocks[i];
        at[i] = kept;
        if (strcmp(k->run_id, run_id) != 0) {
            b->blocks[kept++] = *k;
            continue;
        }
        at[i] = SIZE_MAX;
        missing_range(m, k->first, (int64_t)k->n);
        b->n_events -= k->n;
        eider__buf_release(&k->json);
    }
    for (size_t r = 0; r < b->n_rows; r++) {
        eider__asset_row w = b->rows[r];
        if (at[w.block] == SIZE_MAX) {
            if (!w.failed)
                missing_mat(m, w.asset_key, w.partition);
            continue;
        }
        w.block = at[w.block];
        b->rows[n_rows++] = w;
    }
    size_t n_checks = 0;
    for (size_t r = 0; r < b->n_checks; r++)
        if (at[b->checks[r].block] != SIZE_MAX) {
            b->checks[n_checks] = b->checks[r];
            b->checks[n_checks++].block = at[b->checks[r].block];
        }
    b->n_blocks = kept;
    b->n_rows = n_rows;
    b->n_checks = n_checks;
    free(at);
}

/* Give up on run_id's events that wait: out of every batch, into m. */
static void take_run(eider_store *s, const char *run_id, eider__missing *m)
{
    pthread_mutex_lock(&s->write_lock);
    pthread_mutex_lock(&s->queue_lock);
    for (size_t h = 0; h < s->n_held; h++) {
        batch_take_run(&s->held[h], run_id, m);
        if (!s->held[h].n_blocks) {  /* nothing left in it: it no longer counts */
            s->held_bytes -= s->held[h].bytes;
            s->held[h].bytes = 0;
        }
    }
    batch_take_run(&s->pending, run_id, m);
    pthread_mutex_unlock(&s->queue_lock);
    pthread_mutex_unlock(&s->write_lock);
}

/* ---- recording a run ---- */

/* Queue the run's next event for the writer (started on the first one). While a
 * failed batch is held and HOLD_BYTES wait, the event is not kept, but counted. */
static void enqueue(eider__recorder *r, const eider_event *ev)
{
    eider_store *s = r->store;
    pthread_mutex_lock(&s->queue_lock);
    int64_t number = ++r->n_events;
    if (s->n_held && s->held_bytes + s->pending.bytes >= HOLD_BYTES)
        missing_event(&r->unkept, number, ev);
    else
        batch_event(&s->pending, ev, number);
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

/* The run's row, written at once so that `eider runs` shows it while it runs, with its
 * first lease. host and pid tell a person where it ran; nothing reads them. */
static int start_run(eider__recorder *r, const eider_event *ev)
{
    char pid[24], host[256] = "", time_us[24], until[24];
    char *tags = tags_json(r->tags);
    r->lease_s = env_seconds("EIDER_RUN_LEASE_S", LEASE_S, 0);
    gethostname(host, sizeof(host) - 1);
    const char *p[] = { ev->run_id, ev->selection, ev->partition, r->launched_by ? r->launched_by : "api",
                        tags, host, decimal(pid, getpid()), decimal(time_us, ev->time_us),
                        decimal(until, eider__now_us() + (int64_t)(r->lease_s * 1e6)) };
    int rc = eider__store_query(r->store, "INSERT INTO runs (run_id, status, selection, partition, "
        "launched_by, tags, host, pid, start_us, lease_until_us) VALUES (?, 'started', ?, ?, ?, ?, ?, "
        "?, ?, ?)", p, 9, NULL, NULL);
    free(tags);
    if (!rc) {
        r->run_id = eider__xstrdup(ev->run_id);
        r->selection = ev->selection ? eider__xstrdup(ev->selection) : NULL;
        r->partition = ev->partition ? eider__xstrdup(ev->partition) : NULL;
        r->start_us = ev->time_us;
        lease_add(r);
    }
    return rc;
}

/* The run's row: its status and counts. */
static const char *end_status(const eider_event *ev)
{
    return ev->crashed ? "crashed" : ev->n_canceled ? "canceled"
         : ev->n_failed || ev->n_skipped ? "failure" : "success";
}

static int end_run(eider__recorder *r, const eider_event *ev)
{
    char counts[4][16], end[32];
    int values[4] = { ev->n_succeeded, ev->n_failed, ev->n_skipped, ev->n_canceled };
    for (int i = 0; i < 4; i++)
        snprintf(counts[i], sizeof(counts[i]), "%d", values[i]);
    snprintf(end, sizeof(end), "%" PRId64, ev->time_us);
    const char *p[] = { end_status(ev), end, counts[0], counts[1], counts[2], counts[3], ev->run_id };
    const char *sql = "UPDATE runs SET status = ?, end_us = ?, n_succeeded = ?, n_failed = ?, "
                      "n_skipped = ?, n_canceled = ? WHERE run_id = ? RETURNING 1";
    int64_t ended = 0;
    int rc = eider__store_query(r->store, sql, p, 7, eider__read_i64, &ended);
    if (rc || ended)
        return rc;
    run_row w;                       /* its row is gone (see recreate()): made again, then ended */
    char until[24];
    run_row_of(&w, r);
    if (recreate(r->store, &w, decimal(until, eider__now_us() + (int64_t)(r->lease_s * 1e6)))) {
        pthread_mutex_lock(&r->store->queue_lock);
        r->recreated = 1;
        pthread_mutex_unlock(&r->store->queue_lock);
        rc = eider__store_query(r->store, sql, p, 7, NULL, NULL);
    }
    run_row_release(&w);
    return rc;
}

/* Tell the next sink. */
static void tell(eider__recorder *r, const eider_event *ev, eider_log_level level, const char *msg)
{
    eider_event w = { .type = EIDER_EVENT_LOG, .run_id = ev->run_id, .time_us = ev->time_us,
                      .level = level, .message = msg };
    if (r->next && r->next->on_event)
        r->next->on_event(&w, r->next->user_data);
}

/* Tell the next sink, once, that a write failed. */
static void warn(eider__recorder *r, const eider_event *ev, const char *why)
{
    eider__buf msg = { 0 };
    if (r->failed)
        return;
    r->failed = 1;
    eider__buf_printf(&msg, "%s; the run goes on, and its events are kept (up to %u MiB) and "
                      "written when the store is back", why, HOLD_BYTES >> 20);
    tell(r, ev, EIDER_LOG_WARN, eider__buf_str(&msg));
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

/* What could not be recorded of the run, told to the next sink, as an error: which
 * events and materializations, and its end when end_rc says it is not written. */
static void tell_missing(eider__recorder *r, const eider_event *ev, int events_rc, int end_rc,
                         double waited, int canceled)
{
    eider_store *s = r->store;
    eider__buf msg = { 0 };
    eider__missing *m = &r->unkept;
    size_t what;
    take_run(s, ev->run_id, m);
    eider__buf_printf(&msg, "run %s is recorded only in part", ev->run_id);
    if (events_rc || end_rc)
        eider__buf_printf(&msg, " (%s; retried for %.0f s%s)", eider_store_errmsg(s), waited,
                          canceled ? ", then the wait was canceled" : "");
    else
        eider__buf_printf(&msg, " in the instance store %s", s->location);
    eider__buf_puts(&msg, ": missing from the store are ");
    what = msg.len;
    if (m->n_events)
        missing_describe(m, &msg);
    if (m->n_events && end_rc)
        eider__buf_puts(&msg, " and ");
    if (end_rc)
        eider__buf_printf(&msg, "the run's end (%s: %d succeeded, %d failed, %d skipped, %d "
                          "canceled), so it shows as 'started' until its lease runs out, then as "
                          "'crashed'", end_status(ev), ev->n_succeeded, ev->n_failed, ev->n_skipped,
                          ev->n_canceled);
    if (m->n_events && !events_rc)
        eider__buf_printf(&msg, "; they were not kept while the store was out of reach (more than "
                          "%u MiB waited)", HOLD_BYTES >> 20);
    r->incomplete = 1;
    free(r->missing);
    r->missing = eider__xstrdup(eider__buf_str(&msg) + what);
    tell(r, ev, EIDER_LOG_ERROR, eider__buf_str(&msg));
    eider__buf_release(&msg);
}

/* Events dropped while HOLD_BYTES waited, told among the run's events once the store
 * took what was held (before the run's end, the last event). */
static void queue_unkept_note(eider__recorder *r, const eider_event *ev)
{
    eider__buf msg = { 0 };
    missing_describe(&r->unkept, &msg);      /* sorts its ranges: the same events still */
    eider__buf_printf(&msg, " of this run were not kept while the instance store was out of reach "
                      "(more than %u MiB waited): they are missing here", HOLD_BYTES >> 20);
    eider_event note = { .type = EIDER_EVENT_LOG, .run_id = ev->run_id, .time_us = ev->time_us,
                         .level = EIDER_LOG_ERROR, .message = eider__buf_str(&msg) };
    enqueue(r, &note);
    eider__buf_release(&msg);
}

/* Whether the run's lease may have lapsed: it was last renewed half a lease ago or more
 * (the other half covers clocks of hosts that differ). */
static int lease_in_doubt(eider__recorder *r)
{
    pthread_mutex_lock(&r->store->queue_lock);
    int doubt = eider__mono_s() - r->renewed_ok >= r->lease_s / 2;
    pthread_mutex_unlock(&r->store->queue_lock);
    return doubt;
}

/* Renew r's lease now, from r's own thread. */
static void renew_own_lease(eider__recorder *r)
{
    run_row w;
    int made = 0;
    run_row_of(&w, r);
    renew_lease(r->store, &w, &made);
    pthread_mutex_lock(&r->store->queue_lock);
    r->recreated |= made;
    pthread_mutex_unlock(&r->store->queue_lock);
    run_row_release(&w);
}

static int recreated(eider__recorder *r)
{
    pthread_mutex_lock(&r->store->queue_lock);
    int made = r->recreated;
    pthread_mutex_unlock(&r->store->queue_lock);
    return made;
}

/* Tell the next sink that the run's row was deleted while it ran, and made again. */
static void tell_recreated(eider__recorder *r, const eider_event *ev)
{
    eider__buf msg = { 0 };
    eider__buf_printf(&msg, "run %s: %s", ev->run_id, RECREATED_NOTE);
    tell(r, ev, EIDER_LOG_WARN, eider__buf_str(&msg));
    eider__buf_release(&msg);
}

/* The run's end: its events and its row written, retried with a growing pause for up to
 * $EIDER_STORE_RETRY_S while the store fails; then what is missing is told. A lease
 * that may have lapsed is renewed first, so that a note that it lapsed comes before the
 * end. */
static int canceled(const eider__recorder *r)
{
    return r->cancel && atomic_load(r->cancel);
}

/* Sleep up to seconds, or less when the run's cancel flag is set; nonzero then. */
static int pause_unless_canceled(const eider__recorder *r, double seconds)
{
    for (double left = seconds; left > 0 && !canceled(r); left -= 0.05)
        eider__sleep_ms((left < 0.05 ? left : 0.05) * 1e3);
    return canceled(r);
}

/* Tell the next sink, once, that the run's end waits for the store, and how to stop it. */
static void tell_waiting(eider__recorder *r, const eider_event *ev, double retry_s)
{
    eider__buf msg = { 0 };
    eider__buf_printf(&msg, "the run has ended, but the instance store %s cannot take its record "
                      "yet: retrying for up to %g s (EIDER_STORE_RETRY_S); cancel the run "
                      "(Ctrl-C) to stop waiting", r->store->location, retry_s);
    tell(r, ev, EIDER_LOG_WARN, eider__buf_str(&msg));
    eider__buf_release(&msg);
}

static void finish_run(eider__recorder *r, const eider_event *ev)
{
    eider_store *s = r->store;
    double start = eider__mono_s(), pause = RETRY_FIRST_S;
    double retry_s = env_seconds("EIDER_STORE_RETRY_S", END_RETRY_S, 1), deadline = start + retry_s;
    int events_rc, end_rc = -1, stopped = 0, told = 0;
    if (lease_in_doubt(r))
        renew_own_lease(r);
    if (r->unkept.n_events && eider__store_flush(s) == EIDER_OK)     /* the steps are done */
        queue_unkept_note(r, ev);
    enqueue(r, ev);
    for (;;) {
        events_rc = eider__store_flush(s);
        if (end_rc)
            end_rc = end_run(r, ev);
        if ((!events_rc && !end_rc) || eider__mono_s() + pause > deadline || canceled(r))
            break;
        if (!told++)
            tell_waiting(r, ev, retry_s);
        if ((stopped = pause_unless_canceled(r, pause)))
            break;
        pause = pause * 2 > RETRY_MAX_S ? RETRY_MAX_S : pause * 2;
    }
    if (recreated(r))
        tell_recreated(r, ev);
    lease_remove(r);
    check_writes(r, ev);
    if (events_rc || end_rc || r->unkept.n_events)
        tell_missing(r, ev, events_rc, end_rc, eider__mono_s() - start,
                     stopped || ((events_rc || end_rc) && canceled(r)));
    else if (r->failed)
        tell(r, ev, EIDER_LOG_INFO, "the instance store is back: every event of this run is recorded");
    missing_release(&r->unkept);
    free(r->run_id);
    r->run_id = NULL;
}

/* Record ev. A run whose row could not be written is not recorded. */
static void record(eider__recorder *r, const eider_event *ev)
{
    eider_store *s = r->store;
    if (ev->type == EIDER_EVENT_RUN_START) {
        pthread_mutex_lock(&s->queue_lock);
        r->failures_seen = atomic_load(&s->write_failures);
        pthread_mutex_unlock(&s->queue_lock);
        r->started = start_run(r, ev) == EIDER_OK;
        if (!r->started) {
            eider__buf msg = { 0 };
            eider__buf_printf(&msg, "%s; this run is not recorded", eider_store_errmsg(s));
            tell(r, ev, EIDER_LOG_WARN, eider__buf_str(&msg));
            eider__buf_release(&msg);
        }
    }
    if (!r->started)
        return;
    if (ev->type == EIDER_EVENT_RUN_END) {
        finish_run(r, ev);
        return;
    }
    check_writes(r, ev);
    enqueue(r, ev);
}

static void on_event(const eider_event *ev, void *user_data)
{
    eider__recorder *r = user_data;
    record(r, ev);
    if (r->next && r->next->on_event)
        r->next->on_event(ev, r->next->user_data);
}

void eider__recorder_release(eider__recorder *r)
{
    if (!r)
        return;
    if (r->run_id)
        lease_remove(r);
    missing_release(&r->unkept);
    free(r->run_id);
    free(r->missing);
    free(r->selection);
    free(r->partition);
    r->run_id = r->missing = r->selection = r->partition = NULL;
}

void eider__recorder_sink(eider__recorder *r, eider_event_sink *out)
{
    out->on_event = on_event;
    out->user_data = r;
}
