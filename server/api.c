/*
 * api.c — the JSON API's handlers (docs/api.md): assets (with their partitions, latest
 * materialization and whether a step of them runs now, as live.c's poller saw), runs,
 * a run, its events, resolving a selection (GET /api/select; launching a run checks
 * its selection with the same function) and launching a run (asset.c and graph.c have
 * the rest). They run one at a time (under srv.lock), with definitions of their own
 * (srv.defs; the run queue's threads have others), and read the instance store
 * through a read-only handle opened per request, so that what the queue's threads
 * record is seen at once; they never open a DuckDB file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "../cli/cli.h"
#include "server.h"

#define RUNS_LIMIT_DEFAULT 100
#define RUNS_LIMIT_MAX 1000

/* A read-only handle on the store; NULL with *missing set when there is none yet (or
 * EIDER_STORAGE=none), NULL with a 500 reply when it cannot be read. */
static eider_store *open_store(srv *s, srv_reply *reply, int *missing)
{
    eider_store *store = NULL;
    *missing = !s->has_store;
    if (*missing)
        return NULL;
    int rc = eider_store_open_readonly(NULL, &store);
    if (rc == EIDER_ENOTFOUND) {
        *missing = 1;
    } else if (rc) {
        srv_error(reply, 500, "the instance store cannot be read: %s", eider_store_errmsg(store));
    } else {
        return store;
    }
    eider_store_close(store);
    return NULL;
}

eider_store *api_open_store(srv *s, srv_reply *reply, int *missing)
{
    return open_store(s, reply, missing);
}

int api_reply_text(srv_reply *reply, json_t *doc)
{
    reply->raw = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(doc);
#ifdef __GLIBC__
    malloc_trim(0);                    /* the tree's many small blocks, freed in the middle */
#endif
    if (!reply->raw)
        srv_error(reply, 500, "out of memory");
    return reply->raw ? 0 : -1;
}

static void store_failed(srv_reply *reply, eider_store *store)
{
    srv_error(reply, 500, "the instance store failed: %s", eider_store_errmsg(store));
}

/* "status": "running" for the assets a step of which runs now, as the poller saw. */
static int mark_running(srv *s, json_t *list)
{
    json_t *keys = srv_live_running_keys(&s->live), *v;
    const char *key;
    if (!keys)
        return EIDER_ENOMEM;
    json_object_foreach(keys, key, v) {
        long i = eider_defs_find(s->defs, key);
        if (i >= 0 && (size_t)i < json_array_size(list))
            json_object_set_new(json_array_get(list, (size_t)i), "status", json_string("running"));
    }
    json_decref(keys);
    return EIDER_OK;
}

/* What one pass over the store's asset states adds to GET /api/assets. */
typedef struct summary {
    eider_defs *defs;
    json_t *list;                    /* the assets, one per definition, in order */
    size_t *materialized, *failed;   /* per asset: its partitions so */
} summary;

static json_t *or_null(const char *s)
{
    return s && *s ? cli_json_string(s) : json_null();
}

/* A record: counted, and the asset's latest when it is newer than the one so far. */
static int summarize(const eider_asset_record *r, void *user_data)
{
    summary *sum = user_data;
    long i = eider_defs_find(sum->defs, r->asset_key);
    if (i < 0)
        return 0;
    sum->materialized[i] += r->materialized_us && !r->last_failed;
    sum->failed[i] += r->last_failed != 0;
    json_t *o = json_array_get(sum->list, (size_t)i);
    json_t *latest = json_object_get(o, "latest");
    json_t *when = json_object_get(latest, "time_us");
    if (!r->materialized_us || (when && json_integer_value(when) >= r->materialized_us))
        return 0;
    json_t *rows = NULL;
    for (size_t m = 0; m < r->n_metadata; m++)
        if (!rows && !strcmp(r->metadata[m].key, "row_count")
            && r->metadata[m].type == EIDER_META_INT)
            rows = json_integer(r->metadata[m].i);
    json_object_set_new(o, "latest", json_pack("{s:o, s:I, s:o, s:o}", "run_id",
        or_null(r->run_id), "time_us", (json_int_t)r->materialized_us, "partition",
        or_null(r->partition), "row_count", rows ? rows : json_null()));
    return 0;
}

/* Each asset's "partitions" ({"count", "materialized", "failed"} or null). */
static void partition_counts(const summary *sum)
{
    for (size_t i = 0; i < json_array_size(sum->list); i++) {
        eider_asset_info a;
        char **keys = NULL;
        size_t n = 0;
        json_t *o = json_array_get(sum->list, i);
        if (eider_defs_info(sum->defs, i, &a) || !a.partitioned
            || eider_defs_partition_keys(sum->defs, i, NULL, &keys, &n))
            continue;
        eider_keys_free(keys, n);
        json_object_set_new(o, "partitions", json_pack("{s:I, s:I, s:I}", "count", (json_int_t)n,
            "materialized", (json_int_t)sum->materialized[i], "failed", (json_int_t)sum->failed[i]));
    }
}

/* Add "partitions" and "latest" to every asset of list, from one pass over the store. */
static int add_summaries(srv *s, eider_store *store, json_t *list)
{
    size_t n = eider_defs_count(s->defs);
    summary sum = { s->defs, list, calloc(n + 1, sizeof(size_t)), calloc(n + 1, sizeof(size_t)) };
    int rc = sum.materialized && sum.failed ? EIDER_OK : EIDER_ENOMEM;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_object_set_new(json_array_get(list, i), "partitions", json_null());
        json_object_set_new(json_array_get(list, i), "latest", json_null());
    }
    if (!rc && store)
        rc = eider_store_assets(store, NULL, summarize, &sum);
    if (!rc)
        partition_counts(&sum);
    free(sum.materialized);
    free(sum.failed);
    return rc;
}

void api_assets(srv *s, const srv_request *req, srv_reply *reply)
{
    int missing = 0;
    size_t n = eider_defs_count(s->defs);
    unsigned char *sel = malloc(n + 1);
    eider_asset_status *st = calloc(n + 1, sizeof(*st));
    eider_store *store = open_store(s, reply, &missing);
    if (!sel || !st) {
        srv_error(reply, 500, "out of memory");
        goto out;
    }
    if (!store && !missing)
        goto out;
    memset(sel, 1, n + 1);
    eider_defs_use_store(s->defs, store);      /* the keys of dynamic partitions */
    if (store && eider_store_status(store, s->defs, st)) {
        store_failed(reply, store);
        goto out;
    }
    json_t *doc = cli_assets_json(s->defs, sel, store ? st : NULL, store);
    if (add_summaries(s, store, doc)) {
        json_decref(doc);
        if (store)
            store_failed(reply, store);
        else
            srv_error(reply, 500, "out of memory");
    } else if (mark_running(s, doc)) {
        json_decref(doc);
        srv_error(reply, 500, "out of memory");
    } else {
        api_reply_text(reply, doc);
    }
out:
    eider_defs_use_store(s->defs, NULL);
    eider_store_close(store);
    free(sel);
    free(st);
}

/* A whole-number query parameter from min to max, else a 400 reply. */
static int query_size(const srv_request *req, const char *name, long min, long max, long *out,
                      srv_reply *reply)
{
    const char *v = srv_query(req, name);
    char *end = NULL;
    if (!v)
        return 0;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max) {
        srv_error(reply, 400, "'%s' wants a whole number from %ld to %ld, not '%s'", name, min,
                  max, v);
        return -1;
    }
    *out = n;
    return 0;
}

void api_runs(srv *s, const srv_request *req, srv_reply *reply)
{
    long limit = RUNS_LIMIT_DEFAULT, offset = 0;
    int missing = 0, status = -1;
    const char *st = srv_query(req, "status");
    if (query_size(req, "limit", 1, RUNS_LIMIT_MAX, &limit, reply)
        || query_size(req, "offset", 0, 1000000, &offset, reply))
        return;
    if (st && (status = eider_run_status_parse(st)) < 0) {
        srv_error(reply, 400, "status '%s' is not a run status: use queued, started, success, "
                  "failure, canceled or crashed", st);
        return;
    }
    eider_store *store = open_store(s, reply, &missing);
    json_t *recorded = NULL;
    if (!store && !missing)
        return;
    if (store && cli_runs_json(store, status, (size_t)offset, (size_t)limit, &recorded)) {
        store_failed(reply, store);
    } else {
        /* the runs queued in this server first (they are in no store yet) */
        reply->doc = offset == 0 && (status < 0 || status == EIDER_RUN_QUEUED)
                   ? srv_queue_rows(&s->queue) : json_array();
        json_array_extend(reply->doc, recorded ? recorded : json_array());
    }
    json_decref(recorded);
    eider_store_close(store);
}

/* The run's JSON from the store, or the queue's; 404 when neither knows it. */
void api_run(srv *s, const srv_request *req, srv_reply *reply)
{
    int missing = 0;
    eider_store *store = open_store(s, reply, &missing);
    if (!store && !missing)
        return;
    if (store && cli_run_json(store, req->param, &reply->doc)) {
        store_failed(reply, store);
    } else if (!reply->doc) {
        reply->doc = srv_queue_lookup(&s->queue, req->param);
        if (!reply->doc)
            srv_error(reply, 404, "no run '%s': see GET /api/runs for the run ids", req->param);
    }
    eider_store_close(store);
}

/* Last-Event-ID (a stream resumed), else ?after=. */
static int events_after(const srv_request *req, long *after, srv_reply *reply)
{
    const char *last = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Last-Event-ID");
    char *end = NULL;
    if (!last)
        return query_size(req, "after", 0, LONG_MAX, after, reply);
    errno = 0;
    *after = strtol(last, &end, 10);
    if (errno || end == last || *end || *after < 0) {
        srv_error(reply, 400, "Last-Event-ID wants an event id (a whole number), not '%s'", last);
        return -1;
    }
    return 0;
}

void api_run_events(srv *s, const srv_request *req, srv_reply *reply)
{
    int missing = 0;
    long after = 0;
    json_t *run = NULL;
    int stream = srv_wants_stream(req);
    if (events_after(req, &after, reply))
        return;
    eider_store *store = open_store(s, reply, &missing);
    if (!store && !missing)
        return;
    if (store && cli_run_json(store, req->param, &run)) {
        store_failed(reply, store);
    } else if (run && stream) {
        srv_run_stream(s, req->param, after, reply);
    } else if (run) {
        if (cli_events_json(store, req->param, after, &reply->doc))
            store_failed(reply, store);
    } else if ((run = srv_queue_lookup(&s->queue, req->param))) {
        if (stream)
            srv_run_stream(s, req->param, after, reply);
        else
            reply->doc = json_array();  /* launched, not recorded yet: no events so far */
    } else {
        srv_error(reply, 404, "no run '%s': see GET /api/runs for the run ids", req->param);
    }
    json_decref(run);
    eider_store_close(store);
}

/* A string member of the launch body, NULL when absent or null; -1 when not a string. */
static int body_string(json_t *body, const char *name, const char **out, srv_reply *reply)
{
    json_t *v = json_object_get(body, name);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || !*json_string_value(v)) {
        srv_error(reply, 400, "'%s' must be a non-empty string", name);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

int srv_select(srv *s, const char *selection, unsigned char *sel, srv_reply *reply)
{
    int missing = 0, rc = EIDER_OK;
    eider_store *store = open_store(s, reply, &missing);
    if (!store && !missing)
        return -1;
    eider_defs_use_store(s->defs, store);      /* for stale() */
    rc = eider_defs_select(s->defs, selection, sel);
    if (rc == EIDER_ENOMEM) {
        srv_error(reply, 500, "out of memory");
    } else if (rc) {
        size_t column = eider_defs_errcolumn(s->defs);
        json_decref(reply->doc);
        reply->status = 400;
        reply->doc = json_pack("{s:o, s:o}", "error", cli_json_string(eider_defs_errmsg(s->defs)),
                               "column", column ? json_integer((json_int_t)column) : json_null());
    }
    eider_defs_use_store(s->defs, NULL);
    eider_store_close(store);
    return rc ? -1 : 0;
}

/* GET /api/select?selection=SEL: the indices of the assets it selects. */
void api_select(srv *s, const srv_request *req, srv_reply *reply)
{
    size_t n = eider_defs_count(s->defs), count = 0;
    unsigned char *sel = malloc(n + 1);
    json_t *indices = json_array();
    if (!sel || !indices) {
        srv_error(reply, 500, "out of memory");
        goto out;
    }
    if (srv_select(s, srv_query(req, "selection"), sel, reply))
        goto out;
    for (size_t i = 0; i < n; i++)
        if (sel[i] && !json_array_append_new(indices, json_integer((json_int_t)i)))
            count++;
    reply->doc = json_pack("{s:O, s:I}", "indices", indices, "count", (json_int_t)count);
out:
    json_decref(indices);
    free(sel);
}

/* The selection is resolved here, so that a typo is a 400 and not a run that never
 * was, and so that the queue knows the files the run may open. */
void api_launch(srv *s, const srv_request *req, srv_reply *reply)
{
    json_error_t err;
    const char *selection = NULL, *partition = NULL;
    char id[EIDER_RUN_ID_MAX + 1];
    char **files = NULL;
    size_t n_files = 0;
    unsigned char *sel = malloc(eider_defs_count(s->defs) + 1);
    json_t *body = req->body_len ? json_loads(req->body, 0, &err) : json_object();
    if (!body || !json_is_object(body)) {
        srv_error(reply, 400, "the body must be a JSON object {\"selection\": ..., "
                  "\"partition\": ...}%s%s", body ? "" : ": ", body ? "" : err.text);
        goto out;
    }
    if (!sel) {
        srv_error(reply, 500, "out of memory");
        goto out;
    }
    if (body_string(body, "selection", &selection, reply)
        || body_string(body, "partition", &partition, reply)
        || srv_select(s, selection, sel, reply))
        goto out;
    eider_defs_databases(s->defs, sel, &files, &n_files);
    if (srv_queue_push(&s->queue, selection, partition, 0, files, n_files, id)) {
        srv_error(reply, 500, "out of memory");
        goto out;
    }
    reply->status = 202;
    reply->doc = json_pack("{s:s, s:s}", "run_id", id, "status", "queued");
out:
    json_decref(body);
    free(sel);
}
