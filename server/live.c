/*
 * live.c — the live events of `eider dev` (Server-Sent Events): one poller thread
 * reads the instance store read-only a few times a second, so that runs launched here
 * and by `eider materialize` elsewhere are seen alike, keeps the events of the runs
 * going on, works out which assets changed status, watches the definitions' file, and
 * fans it all out to the streams; each stream's connection thread waits on
 * live.changed and copies what is new.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <microhttpd.h>

#include "../cli/cli.h"
#include "server.h"

#define POLL_NS (250 * 1000 * 1000)     /* the store is read 4 times a second */
#define WATCH_S 1.0                     /* the definitions' file is looked at each second */
#define REOPEN_S 5.0                    /* the poller's store handle is renewed so often */
#define HEARTBEAT_S 15.0                /* a comment line when nothing else was sent */
#define RECENT_RUNS 50                  /* the newest runs compared at each poll */
#define KEEP_ENDED_S 120.0              /* an ended run's events stay kept so long */
#define STREAM_BLOCK (32 * 1024)

/* A run whose events the poller keeps for the streams of it. */
typedef struct srv_followed {
    char id[EIDER_RUN_ID_MAX + 1];
    char **texts;                       /* "id: N\nevent: event\ndata: {...}\n\n" */
    int64_t *ids;
    size_t n, cap;
    int ended;
    char status[16];                    /* when ended */
    double ended_at;
    json_t *running;                    /* poller's: asset key -> true while its step runs */
    struct srv_followed *next;
} srv_followed;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "event: NAME\ndata: JSON\n\n" (with "id: N\n" first when id >= 0); data is stolen. */
static char *sse_text(int64_t id, const char *event, json_t *data)
{
    char *json = json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(15));
    char *text = NULL;
    int n = -1;
    json_decref(data);
    if (!json)
        return NULL;
    if (id >= 0)
        n = asprintf(&text, "id: %lld\nevent: %s\ndata: %s\n\n", (long long)id, event, json);
    else
        n = asprintf(&text, "event: %s\ndata: %s\n\n", event, json);
    if (n < 0)
        text = NULL;
    free(json);
    return text;
}

void srv_live_publish(srv_live *l, const char *event, json_t *data)
{
    char *text = sse_text(-1, event, data);
    if (!text)
        return;
    pthread_mutex_lock(&l->lock);
    if (l->stopping) {
        free(text);
    } else {
        free(l->ring[l->seq % SRV_RING]);
        l->ring[l->seq % SRV_RING] = text;
        l->seq++;
        pthread_cond_broadcast(&l->changed);
    }
    pthread_mutex_unlock(&l->lock);
}

/* ---- the runs followed ---- */

static srv_followed *find_followed(srv_live *l, const char *id)
{
    for (srv_followed *f = l->runs; f; f = f->next)
        if (strcmp(f->id, id) == 0)
            return f;
    return NULL;
}

static void followed_free(srv_followed *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->texts[i]);
    free(f->texts);
    free(f->ids);
    json_decref(f->running);
    free(f);
}

/* Follow run id from its first event on (the poller's thread). */
static srv_followed *follow(srv_live *l, const char *id)
{
    srv_followed *f = find_followed(l, id);
    if (f || !(f = calloc(1, sizeof(*f))))
        return f;
    snprintf(f->id, sizeof(f->id), "%s", id);
    f->running = json_object();
    pthread_mutex_lock(&l->lock);
    f->next = l->runs;
    l->runs = f;
    pthread_mutex_unlock(&l->lock);
    return f;
}

/* Forget the runs that ended long ago. */
static void forget_ended(srv_live *l)
{
    double now = mono_s();
    pthread_mutex_lock(&l->lock);
    for (srv_followed **p = &l->runs; *p;) {
        srv_followed *f = *p;
        if (f->ended && now - f->ended_at > KEEP_ENDED_S) {
            *p = f->next;
            followed_free(f);
        } else {
            p = &f->next;
        }
    }
    pthread_mutex_unlock(&l->lock);
}

static void keep_event(srv_live *l, srv_followed *f, json_t *ev)
{
    int64_t id = json_integer_value(json_object_get(ev, "id"));
    char *text = sse_text(id, "event", json_incref(ev));
    if (!text)
        return;
    pthread_mutex_lock(&l->lock);
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        char **t = realloc(f->texts, cap * sizeof(*t));
        int64_t *ids = t ? realloc(f->ids, cap * sizeof(*ids)) : NULL;
        if (t)
            f->texts = t;
        if (ids) {
            f->ids = ids;
            f->cap = cap;
        }
    }
    if (f->n < f->cap) {
        f->texts[f->n] = text;
        f->ids[f->n++] = id;
        text = NULL;
    }
    pthread_mutex_unlock(&l->lock);
    free(text);
}

/* Note which of f's assets run now; 1 when ev may change an asset's status. */
static int track_running(srv_followed *f, json_t *ev)
{
    const char *type = json_string_value(json_object_get(ev, "type"));
    const char *key = json_string_value(json_object_get(ev, "asset_key"));
    if (!type)
        return 0;
    if (key && strcmp(type, "step_start") == 0)
        json_object_set_new(f->running, key, json_true());
    else if (key && (strcmp(type, "step_success") == 0 || strcmp(type, "step_failure") == 0
                     || strcmp(type, "step_skipped") == 0 || strcmp(type, "step_canceled") == 0))
        json_object_del(f->running, key);
    else if (strcmp(type, "run_end") == 0)
        json_object_clear(f->running);
    else if (strcmp(type, "materialization") != 0)
        return 0;
    return 1;
}

/* Read f's new events; 1 when an asset's status may have changed. */
static int poll_events(srv_live *l, srv_followed *f)
{
    json_t *events = NULL, *ev;
    size_t i;
    int changed = 0;
    int64_t after = f->n ? f->ids[f->n - 1] : 0;
    if (cli_events_json(l->store, f->id, after, &events))
        return 0;
    json_array_foreach(events, i, ev) {
        keep_event(l, f, ev);
        pthread_mutex_lock(&l->lock);   /* srv_live_running() reads it */
        changed |= track_running(f, ev);
        pthread_mutex_unlock(&l->lock);
    }
    json_decref(events);
    if (json_array_size(events)) {
        pthread_mutex_lock(&l->lock);
        pthread_cond_broadcast(&l->changed);
        pthread_mutex_unlock(&l->lock);
    }
    return changed;
}

static int is_live_status(const char *status)
{
    return status && (strcmp(status, "started") == 0 || strcmp(status, "queued") == 0);
}

/* A run that ended: its last events are read, then its streams end. */
static void end_followed(srv_live *l, srv_followed *f, const char *status)
{
    pthread_mutex_lock(&l->lock);
    f->ended = 1;
    f->ended_at = mono_s();
    snprintf(f->status, sizeof(f->status), "%s", status);
    pthread_cond_broadcast(&l->changed);
    pthread_mutex_unlock(&l->lock);
}

typedef struct status_probe {
    char status[16];
} status_probe;

static int probe_status(const eider_run_record *rec, void *user_data)
{
    status_probe *p = user_data;
    snprintf(p->status, sizeof(p->status), "%s", eider_run_status_name(rec->status));
    return 1;
}

/* The status of a followed run not among the newest rows. */
static void status_of(srv_live *l, const char *id, status_probe *p)
{
    p->status[0] = '\0';
    eider_store_runs(l->store, -1, id, 1, probe_status, p);
}

/* The row of run id among rows, or NULL. */
static json_t *row_of(json_t *rows, const char *id)
{
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *row = json_array_get(rows, i);
        if (strcmp(json_string_value(json_object_get(row, "run_id")), id) == 0)
            return row;
    }
    return NULL;
}

/* Read the new events of the runs followed, and end those that ended; 1 when an
 * asset's status may have changed. */
static int poll_followed(srv_live *l, json_t *rows)
{
    int changed = 0;
    for (srv_followed *f = l->runs; f; f = f->next) {
        if (f->ended)
            continue;
        json_t *row = row_of(rows, f->id);
        status_probe p;
        const char *status = NULL;
        if (row) {
            status = json_string_value(json_object_get(row, "status"));
        } else {
            status_of(l, f->id, &p);
            status = p.status;
        }
        changed |= poll_events(l, f);
        if (status && *status && !is_live_status(status)) {
            poll_events(l, f);
            end_followed(l, f, status);
            changed = 1;
        }
    }
    return changed;
}

/* Compare the newest runs with what was seen: follow those that run, read the events
 * of those followed, then publish the rows that changed (so that when a run's end is
 * published, its assets run no more: srv_live_running() and GET /api/assets agree).
 * 1 when assets may have changed. */
static int poll_runs(srv *s, int primed)
{
    srv_live *l = &s->live;
    json_t *rows = NULL, *seen_now = json_object();
    int changed = 0;
    if (cli_runs_json(l->store, -1, 0, RECENT_RUNS, &rows)) {
        json_decref(seen_now);
        return 0;
    }
    for (size_t i = json_array_size(rows); i-- > 0;) {
        json_t *row = json_array_get(rows, i);
        if (is_live_status(json_string_value(json_object_get(row, "status"))))
            follow(l, json_string_value(json_object_get(row, "run_id")));
    }
    changed = poll_followed(l, rows);
    for (size_t i = json_array_size(rows); i-- > 0;) {
        json_t *row = json_array_get(rows, i);
        const char *id = json_string_value(json_object_get(row, "run_id"));
        json_t *seen = json_object_get(l->rows, id);
        if (primed && (!seen || !json_equal(seen, row))) {
            srv_live_publish(l, "run", json_deep_copy(row));
            changed = 1;                /* also a run that began and ended between polls */
        }
        json_object_set(seen_now, id, row);
    }
    json_decref(rows);
    json_decref(l->rows);
    l->rows = seen_now;                 /* the rows of the newest runs only */
    return changed;
}

/* ---- assets ---- */

static int is_running(srv_live *l, const char *key)
{
    for (srv_followed *f = l->runs; f; f = f->next)
        if (!f->ended && json_object_get(f->running, key))
            return 1;
    return 0;
}

int srv_live_running(srv_live *l, const char *key)
{
    pthread_mutex_lock(&l->lock);
    int running = is_running(l, key);
    pthread_mutex_unlock(&l->lock);
    return running;
}

json_t *srv_live_running_keys(srv_live *l)
{
    json_t *keys = json_object();
    pthread_mutex_lock(&l->lock);
    for (srv_followed *f = l->runs; f && keys; f = f->next)
        if (!f->ended)
            json_object_update(keys, f->running);
    pthread_mutex_unlock(&l->lock);
    return keys;
}

static void free_status(srv_live *l)
{
    for (size_t i = 0; i < l->n_status; i++)
        free(l->status[i]);
    free(l->status);
    l->status = NULL;
    l->n_status = 0;
}

/* Work out each asset's status and publish those that changed; after a reload, the
 * new definitions' statuses are only noted (the `defs` event tells clients to reload). */
static void poll_assets(srv *s)
{
    srv_live *l = &s->live;
    pthread_mutex_lock(&s->lock);
    size_t n = eider_defs_count(s->defs);
    eider_asset_status *st = calloc(n + 1, sizeof(*st));
    char **names = calloc(n + 1, sizeof(*names));
    int fresh_defs = s->defs_version != l->status_version || n != l->n_status;
    if (!st || !names || eider_store_status(l->store, s->defs, st)) {
        pthread_mutex_unlock(&s->lock);
        free(st);
        free(names);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *key = eider_defs_key(s->defs, i);
        names[i] = strdup(is_running(l, key) ? "running" : eider_asset_status_name(st[i]));
        if (!fresh_defs && names[i] && l->status[i] && strcmp(names[i], l->status[i]) != 0)
            srv_live_publish(l, "asset", json_pack("{s:s, s:s}", "key", key, "status", names[i]));
    }
    l->status_version = s->defs_version;
    pthread_mutex_unlock(&s->lock);
    free_status(l);
    l->status = names;
    l->n_status = n;
    free(st);
}

/* ---- the poller ---- */

/* The store to read, opened again now and then (a read-only handle may pin an old
 * snapshot of a store closed cleanly); NULL while there is none. */
static eider_store *poller_store(srv *s)
{
    srv_live *l = &s->live;
    double now = mono_s();
    if (l->store && now - l->reopened < REOPEN_S)
        return l->store;
    eider_store_close(l->store);
    l->store = NULL;
    if (eider_store_open_readonly(NULL, &l->store)) {
        eider_store_close(l->store);
        l->store = NULL;
    }
    l->reopened = now;
    return l->store;
}

/* Reload when the definitions' file changed since the last reload tried, or a file
 * they were read from besides it (an SQL model, its folder, its configuration). */
static void watch_defs(srv *s)
{
    struct stat st;
    if (!s->defs_path || stat(s->defs_path, &st) != 0)
        return;
    pthread_mutex_lock(&s->lock);
    int sources = eider_defs_sources_signature(s->defs) != s->sources_sig;
    pthread_mutex_unlock(&s->lock);
    if (!sources && st.st_mtim.tv_sec == s->defs_mtime.tv_sec &&
        st.st_mtim.tv_nsec == s->defs_mtime.tv_nsec)
        return;
    srv_reload(s);
}

static int stopping(srv_live *l)
{
    pthread_mutex_lock(&l->lock);
    int stop = l->stopping;
    pthread_mutex_unlock(&l->lock);
    return stop;
}

static void *poller_main(void *arg)
{
    srv *s = arg;
    srv_live *l = &s->live;
    double watched = mono_s();
    int primed = 0;
    const struct timespec interval = { 0, POLL_NS };
    while (!stopping(l)) {
        if (s->has_store && poller_store(s)) {
            int changed = poll_runs(s, primed);
            if (changed || !primed || l->status_version != s->defs_version)
                poll_assets(s);
            primed = 1;
            forget_ended(l);
        }
        if (mono_s() - watched >= WATCH_S) {
            watch_defs(s);
            watched = mono_s();
        }
        nanosleep(&interval, NULL);
    }
    return NULL;
}

int srv_live_start(srv *s)
{
    srv_live *l = &s->live;
    memset(l, 0, sizeof(*l));
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->changed, NULL);
    l->rows = json_object();
    if (pthread_create(&l->poller, NULL, poller_main, s))
        return -1;
    l->started = 1;
    return 0;
}

void srv_live_close(srv_live *l)
{
    pthread_mutex_lock(&l->lock);
    l->stopping = 1;
    pthread_cond_broadcast(&l->changed);
    pthread_mutex_unlock(&l->lock);
    if (l->started)
        pthread_join(l->poller, NULL);
    l->started = 0;
}

void srv_live_stop(srv_live *l)
{
    srv_live_close(l);
    for (size_t i = 0; i < SRV_RING; i++) {
        free(l->ring[i]);
        l->ring[i] = NULL;
    }
    for (srv_followed *f = l->runs, *next; f; f = next) {
        next = f->next;
        followed_free(f);
    }
    l->runs = NULL;
    free_status(l);
    json_decref(l->rows);
    l->rows = NULL;
    eider_store_close(l->store);
    l->store = NULL;
}

/* ---- the streams ---- */

typedef struct stream {
    srv *s;
    int of_run;                         /* 1: one run's events; 0: the global stream */
    char id[EIDER_RUN_ID_MAX + 1];
    int64_t last_id;                    /* of_run: the last event sent */
    uint64_t seq;                       /* global: the next message to send */
    char *out;                          /* what is to be sent, from pos */
    size_t len, pos, cap;
    int done;                           /* the end is in out: close after it */
    double sent_at;
} stream;

static void put(stream *c, const char *text)
{
    size_t n = strlen(text);
    if (c->len + n + 1 > c->cap) {
        size_t cap = (c->len + n + 1) * 2;
        char *grown = realloc(c->out, cap);
        if (!grown)
            return;
        c->out = grown;
        c->cap = cap;
    }
    memcpy(c->out + c->len, text, n + 1);
    c->len += n;
}

static void put_end(stream *c, const char *status)
{
    char *text = sse_text(-1, "end", json_pack("{s:s}", "status", status));
    if (text)
        put(c, text);
    free(text);
    c->done = 1;
}

/* The global stream: the messages published since the last call; under l->lock. */
static void fill_global(srv_live *l, stream *c)
{
    if (l->seq - c->seq > SRV_RING)
        c->seq = l->seq - SRV_RING;     /* too slow: the oldest kept are next */
    for (; c->seq < l->seq && c->len < STREAM_BLOCK; c->seq++)
        put(c, l->ring[c->seq % SRV_RING]);
}

/* The events the poller keeps of a followed run; 1 when it follows it. Under l->lock. */
static int fill_followed(srv_live *l, stream *c)
{
    srv_followed *f = find_followed(l, c->id);
    size_t i = 0;
    if (!f)
        return 0;
    while (i < f->n && f->ids[i] <= c->last_id)
        i++;
    for (; i < f->n && c->len < STREAM_BLOCK; i++) {
        put(c, f->texts[i]);
        c->last_id = f->ids[i];
    }
    if (i == f->n && f->ended)
        put_end(c, f->status);
    return 1;
}

/* A run the poller does not follow: ended long ago (its events from the store, then
 * the end), queued or refused here, or not seen by the poller yet (wait). */
static void fill_unfollowed(stream *c)
{
    json_t *queued = srv_queue_lookup(&c->s->queue, c->id), *run = NULL, *events = NULL;
    eider_store *store = NULL;
    const char *status = json_string_value(json_object_get(queued, "status"));
    if (status && (strcmp(status, "refused") == 0 || strcmp(status, "canceled") == 0))
        put_end(c, status);
    if (status || !c->s->has_store || eider_store_open_readonly(NULL, &store)
        || cli_run_json(store, c->id, &run) || !run)
        goto out;
    status = json_string_value(json_object_get(run, "status"));
    if (is_live_status(status) || cli_events_json(store, c->id, c->last_id, &events))
        goto out;                       /* the poller follows it at its next look */
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        char *text = sse_text(json_integer_value(json_object_get(ev, "id")), "event",
                              json_incref(ev));
        if (text)
            put(c, text);
        free(text);
        c->last_id = json_integer_value(json_object_get(ev, "id"));
    }
    put_end(c, status);
out:
    if (!c->done && queued == NULL && run == NULL && !c->s->has_store)
        put_end(c, "unknown");
    json_decref(queued);
    json_decref(run);
    json_decref(events);
    eider_store_close(store);
}

/* Fill c->out with what is new, waiting for it up to the next heartbeat; 0 when the
 * stream must end (the server stops). */
static int fill(stream *c)
{
    srv_live *l = &c->s->live;
    int ok = 1;
    c->len = c->pos = 0;
    pthread_mutex_lock(&l->lock);
    for (;;) {
        int followed = 0;
        if (l->stopping) {
            ok = 0;
            break;
        }
        if (!c->of_run) {
            fill_global(l, c);
        } else if (!(followed = fill_followed(l, c))) {
            pthread_mutex_unlock(&l->lock);
            fill_unfollowed(c);
            pthread_mutex_lock(&l->lock);
        }
        if (c->len)
            break;
        double wait = HEARTBEAT_S - (mono_s() - c->sent_at);
        if (wait <= 0) {
            put(c, ": keep-alive\n\n");
            break;
        }
        if (c->of_run && !followed && wait > 0.25)
            wait = 0.25;                /* look again when the poller may follow it */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)wait;
        until.tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&l->changed, &l->lock, &until);
    }
    pthread_mutex_unlock(&l->lock);
    c->sent_at = mono_s();
    return ok;
}

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream *c = cls;
    (void)pos;
    if (c->pos == c->len && (c->done || !fill(c)))
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = c->len - c->pos < max ? c->len - c->pos : max;
    memcpy(buf, c->out + c->pos, n);
    c->pos += n;
    return (ssize_t)n;
}

static void free_stream(void *cls)
{
    stream *c = cls;
    free(c->out);
    free(c);
}

/* A stream response for c (owned by it from now on), into reply. */
static void start_stream(stream *c, srv_reply *reply)
{
    struct MHD_Response *r = NULL;
    c->sent_at = mono_s();
    put(c, "retry: 1000\n: eider live events\n\n");
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, read_stream, c,
                                          free_stream);
    if (!r) {
        free_stream(c);
        srv_error(reply, 500, "out of memory");
        return;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    reply->status = 200;
    reply->stream = r;
}

void api_events(srv *s, const srv_request *req, srv_reply *reply)
{
    stream *c = calloc(1, sizeof(*c));
    (void)req;
    if (!c) {
        srv_error(reply, 500, "out of memory");
        return;
    }
    c->s = s;
    pthread_mutex_lock(&s->live.lock);
    c->seq = s->live.seq;
    pthread_mutex_unlock(&s->live.lock);
    start_stream(c, reply);
}

void srv_run_stream(srv *s, const char *id, int64_t after_id, srv_reply *reply)
{
    stream *c = calloc(1, sizeof(*c));
    if (!c) {
        srv_error(reply, 500, "out of memory");
        return;
    }
    c->s = s;
    c->of_run = 1;
    c->last_id = after_id;
    snprintf(c->id, sizeof(c->id), "%s", id);
    start_stream(c, reply);
}

int srv_wants_stream(const srv_request *req)
{
    const char *accept = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Accept");
    const char *q = srv_query(req, "stream");
    return (accept && strcasestr(accept, "text/event-stream")) || (q && strcmp(q, "1") == 0);
}
