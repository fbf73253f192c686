/*
 * asset.c — GET /api/assets/{key}: one asset's definition (as GET /api/assets gives it),
 * its I/O manager, its neighbours, its partitions with each key's state, its latest
 * materialization (columns, preview, row count and the rest of its metadata) and its
 * history with the duration of each materialization's step, and its checks with their
 * latest outcomes and history, as the store keeps them (docs/api.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../cli/cli.h"
#include "server.h"

#define HISTORY_DEFAULT 100
#define HISTORY_MAX 1000
#define PARTITION_KEYS_MAX 5000

/* A record of the store, copied. */
static json_t *or_null(const char *s)
{
    return s && *s ? cli_json_string(s) : json_null();
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* A partition's state: failed (its latest try), stale (materialized with another
 * code_version than the definition's), materialized, or missing. */
static const char *partition_state(const cli_asset_state *r, const char *code_version)
{
    if (!r)
        return "missing";
    if (r->last_failed)
        return "failed";
    if (!r->materialized_us)
        return "missing";
    return same(r->code_version, code_version) ? "materialized" : "stale";
}

/* {"keys": [first 5000], "count", "materialized", "failed", "status": {KEY: state}}. */
static json_t *partitions_json(srv *s, size_t i, const eider_asset_info *a, const cli_state_list *st)
{
    char **keys = NULL;
    size_t n = 0, counts[2] = { 0, 0 };
    if (!a->partitioned || eider_defs_partition_keys(s->defs, i, NULL, &keys, &n))
        return json_null();
    json_t *by_key = json_object(), *list = json_array(), *status = json_object();
    for (size_t k = 0; k < st->n; k++)
        json_object_set_new(by_key, st->v[k].partition, json_integer((json_int_t)k));
    for (size_t k = 0; k < n; k++) {
        json_t *at = json_object_get(by_key, keys[k]);
        const char *state = partition_state(at ? &st->v[json_integer_value(at)] : NULL,
                                            a->code_version);
        counts[0] += strcmp(state, "materialized") == 0 || strcmp(state, "stale") == 0;
        counts[1] += strcmp(state, "failed") == 0;
        if (k < PARTITION_KEYS_MAX) {
            json_array_append_new(list, cli_json_string(keys[k]));
            json_object_set_new(status, keys[k], json_string(state));
        }
    }
    eider_keys_free(keys, n);
    json_decref(by_key);
    return json_pack("{s:o, s:I, s:I, s:I, s:o}", "keys", list, "count", (json_int_t)n,
                     "materialized", (json_int_t)counts[0], "failed", (json_int_t)counts[1],
                     "status", status);
}

static json_t *row_count(const json_t *meta)
{
    json_t *v = json_object_get(meta, "row_count");
    return v ? json_incref(v) : json_null();
}

/* The recorded metadata other than columns, preview and row_count. */
static json_t *other_meta(const json_t *meta)
{
    json_t *o = json_deep_copy(meta);
    json_object_del(o, "columns");
    json_object_del(o, "preview");
    json_object_del(o, "row_count");
    return o;
}

static json_t *member_or(const json_t *meta, const char *name, json_t *fallback)
{
    json_t *v = json_object_get(meta, name);
    if (!v)
        return fallback;
    json_decref(fallback);
    return json_incref(v);
}

/* The newest materialization of any partition, or null. */
static json_t *latest_json(const cli_state_list *st)
{
    const cli_asset_state *r = NULL;
    for (size_t k = 0; k < st->n; k++)
        if (st->v[k].materialized_us && (!r || st->v[k].materialized_us > r->materialized_us))
            r = &st->v[k];
    if (!r)
        return json_null();
    return json_pack("{s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "run_id", or_null(r->run_id),
                     "time_us", (json_int_t)r->materialized_us, "partition", or_null(r->partition),
                     "code_version", or_null(r->code_version), "row_count", row_count(r->metadata),
                     "columns", member_or(r->metadata, "columns", json_array()),
                     "preview", member_or(r->metadata, "preview", json_array()),
                     "metadata", other_meta(r->metadata));
}

/* Each materialization, newest first, with its step's duration (null when unknown). */
static json_t *history_json(const cli_state_list *h)
{
    json_t *list = json_array();
    for (size_t k = 0; k < h->n; k++) {
        const cli_asset_state *r = &h->v[k];
        json_array_append_new(list, json_pack("{s:o, s:I, s:o, s:o, s:o}", "run_id",
            or_null(r->run_id), "time_us", (json_int_t)r->materialized_us, "partition",
            or_null(r->partition), "row_count", row_count(r->metadata), "duration_s",
            r->duration_s >= 0 ? json_real(r->duration_s) : json_null()));
    }
    return list;
}

/* The keys of the assets that depend on key. */
static json_t *downstream_json(eider_defs *defs, const char *key)
{
    json_t *list = json_array();
    for (size_t i = 0; i < eider_defs_count(defs); i++) {
        eider_asset_info a;
        for (size_t d = 0; eider_defs_info(defs, i, &a) == EIDER_OK && a.deps[d]; d++)
            if (strcmp(a.deps[d], key) == 0) {
                json_array_append_new(list, cli_json_string(a.key));
                break;
            }
    }
    return list;
}

static void unknown_asset(srv *s, const char *key, srv_reply *reply)
{
    char near[512];
    if (cli_nearest_key(s->defs, key, near, sizeof(near)))
        srv_error(reply, 404, "asset '%s' is not defined (did you mean '%s'?): see GET "
                  "/api/assets for the keys", key, near);
    else
        srv_error(reply, 404, "asset '%s' is not defined: see GET /api/assets for the keys", key);
}

static int history_limit(const srv_request *req, long *limit, srv_reply *reply)
{
    const char *v = srv_query(req, "limit");
    char *end = NULL;
    if (!v)
        return 0;
    errno = 0;
    *limit = strtol(v, &end, 10);
    if (!errno && end != v && !*end && *limit >= 1 && *limit <= HISTORY_MAX)
        return 0;
    srv_error(reply, 400, "'limit' wants a whole number from 1 to %d, not '%s'", HISTORY_MAX, v);
    return -1;
}

/* The definition's part, as GET /api/assets has it (with its status), its neighbours
 * and its I/O manager. */
static json_t *definition_json(srv *s, size_t i, eider_store *store, const eider_asset_status *st)
{
    size_t n = eider_defs_count(s->defs);
    unsigned char *sel = calloc(n + 1, 1);
    json_t *all = NULL, *doc = NULL;
    if (!sel)
        return NULL;
    sel[i] = 1;
    all = cli_assets_json(s->defs, sel, st, store);
    doc = json_incref(json_array_get(all, 0));
    json_decref(all);
    free(sel);
    if (doc) {
        json_object_set(doc, "upstream", json_object_get(doc, "deps"));
        json_object_set_new(doc, "downstream", downstream_json(s->defs, eider_defs_key(s->defs, i)));
        json_object_set_new(doc, "io_manager", or_null(eider_defs_io_manager(s->defs, i)));
        json_object_set_new(doc, "column_lineage", cli_lineage_json(s->defs, eider_defs_key(s->defs, i)));
    }
    return doc;
}

/* Each check of asset i, in definition order, with its latest outcomes (one per
 * partition; none when it never ran): {"name", "results": [...]}. */
static json_t *check_results_json(srv *s, size_t i, const cli_check_list *latest)
{
    json_t *list = json_array();
    for (size_t j = 0; j < eider_defs_check_count(s->defs, i); j++) {
        const char *name = eider_defs_check_name(s->defs, i, j);
        cli_check_list mine = { 0 };
        for (size_t k = 0; k < latest->n; k++)
            if (strcmp(latest->v[k].name, name) == 0) {
                if (mine.n == mine.cap) {
                    mine.cap = mine.cap ? 2 * mine.cap : 4;
                    cli_check_row *v = realloc(mine.v, mine.cap * sizeof(*v));
                    if (!v)
                        break;
                    mine.v = v;
                }
                mine.v[mine.n++] = latest->v[k];     /* borrowed: not released below */
            }
        json_array_append_new(list, json_pack("{s:o, s:o}", "name", cli_json_string(name),
                                              "results", cli_checks_json(&mine)));
        free(mine.v);
    }
    return list;
}

/* Fill the parts the store knows; -1 when it failed (reply set). */
static int add_records(srv *s, size_t i, eider_store *store, long limit, json_t *doc,
                       srv_reply *reply)
{
    cli_state_list st = { 0 }, h = { 0 };
    cli_check_list latest = { 0 }, checks = { 0 };
    eider_asset_info a;
    const char *key = eider_defs_key(s->defs, i);
    int rc = store ? eider_store_assets(store, key, cli_collect_state, &st) : EIDER_OK;
    if (!rc && store)
        rc = eider_store_history(store, key, (size_t)limit, cli_collect_state, &h);
    if (!rc && store && eider_defs_check_count(s->defs, i))
        rc = eider_store_checks(store, key, NULL, 1, 0, cli_collect_check, &latest);
    if (!rc && store && eider_defs_check_count(s->defs, i))
        rc = eider_store_checks(store, key, NULL, 0, (size_t)limit, cli_collect_check, &checks);
    if (rc) {
        srv_error(reply, 500, "the instance store failed: %s", eider_store_errmsg(store));
    } else {
        eider_defs_info(s->defs, i, &a);
        json_object_set_new(doc, "partitions", partitions_json(s, i, &a, &st));
        json_object_set_new(doc, "latest", latest_json(&st));
        json_object_set_new(doc, "history", history_json(&h));
        json_object_set_new(doc, "check_results", check_results_json(s, i, &latest));
        json_object_set_new(doc, "check_history", cli_checks_json(&checks));
    }
    cli_state_list_release(&st);
    cli_state_list_release(&h);
    cli_check_list_release(&latest);
    cli_check_list_release(&checks);
    return rc ? -1 : 0;
}

void api_asset(srv *s, const srv_request *req, srv_reply *reply)
{
    long i = eider_defs_find(s->defs, req->param), limit = HISTORY_DEFAULT;
    int missing = 0;
    eider_store *store = NULL;
    eider_asset_status *st = NULL;
    json_t *doc = NULL;
    if (i < 0) {
        unknown_asset(s, req->param, reply);
        return;
    }
    if (history_limit(req, &limit, reply))
        return;
    store = api_open_store(s, reply, &missing);
    if (!store && !missing)
        return;
    eider_defs_use_store(s->defs, store);      /* the keys of dynamic partitions */
    st = calloc(eider_defs_count(s->defs) + 1, sizeof(*st));
    if (!st || (store && eider_store_status(store, s->defs, st))) {
        srv_error(reply, 500, "the instance store failed: %s", st ? eider_store_errmsg(store)
                                                                  : "out of memory");
        goto out;
    }
    doc = definition_json(s, (size_t)i, store, store ? st : NULL);
    if (!doc) {
        srv_error(reply, 500, "out of memory");
        goto out;
    }
    if (srv_live_running(&s->live, eider_defs_key(s->defs, (size_t)i)))
        json_object_set_new(doc, "status", json_string("running"));
    if (!add_records(s, (size_t)i, store, limit, doc, reply))
        reply->doc = json_incref(doc);
out:
    json_decref(doc);
    eider_defs_use_store(s->defs, NULL);
    eider_store_close(store);
    free(st);
}
