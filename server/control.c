/*
 * control.c — changing what runs: canceling a run, running one again (all of it, or
 * from its failure), and reloading the definitions (on request, or when the poller
 * sees their file change), keeping the last good ones when the new ones fail.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "../cli/cli.h"
#include "server.h"

static int64_t now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* The run as the store has it ({"status", "selection", "steps", ...}), or NULL. */
static json_t *stored_run(srv *s, const char *id, srv_reply *reply)
{
    eider_store *store = NULL;
    json_t *run = NULL;
    if (!s->has_store)
        return NULL;
    int rc = eider_store_open_readonly(NULL, &store);
    if (rc && rc != EIDER_ENOTFOUND)
        srv_error(reply, 500, "the instance store cannot be read: %s", eider_store_errmsg(store));
    else if (!rc && cli_run_json(store, id, &run))
        srv_error(reply, 500, "the instance store failed: %s", eider_store_errmsg(store));
    eider_store_close(store);
    return run;
}

void api_cancel(srv *s, const srv_request *req, srv_reply *reply)
{
    int rc = srv_queue_cancel(&s->queue, req->param);
    json_t *run = NULL;
    if (rc >= 0) {
        reply->status = 202;
        reply->doc = json_pack("{s:s, s:s}", "run_id", req->param, "status",
                               rc == 0 ? "canceled" : "canceling");
        return;
    }
    json_t *queued = NULL;
    run = stored_run(s, req->param, reply);
    if (reply->doc)
        goto out;                       /* the store cannot be read */
    const char *status = json_string_value(json_object_get(run, "status"));
    if (!run && (queued = srv_queue_lookup(&s->queue, req->param)))
        srv_error(reply, 409, "run '%s' is %s already: there is nothing to cancel", req->param,
                  json_string_value(json_object_get(queued, "status")));
    else if (!run)
        srv_error(reply, 404, "no run '%s': see GET /api/runs for the run ids", req->param);
    else if (strcmp(status, "started") == 0 || strcmp(status, "queued") == 0)
        srv_error(reply, 409, "run '%s' was launched by another process (launched by '%s'): "
                  "cancel it there (Ctrl-C in its terminal)", req->param,
                  json_string_value(json_object_get(run, "launched_by")));
    else
        srv_error(reply, 409, "run '%s' has ended (%s): there is nothing to cancel", req->param,
                  status);
out:
    json_decref(run);
    json_decref(queued);
}

/* "a, b/c": the steps of run that failed or did not run; NULL when none. */
static char *failed_steps(json_t *run)
{
    json_t *step;
    size_t i;
    char *list = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&list, &len);
    int n = 0;
    if (!f)
        return NULL;
    json_array_foreach(json_object_get(run, "steps"), i, step) {
        const char *status = json_string_value(json_object_get(step, "status"));
        if (status && strcmp(status, "success") != 0)
            fprintf(f, "%s%s", n++ ? ", " : "", json_string_value(json_object_get(step, "key")));
    }
    fclose(f);
    if (!n) {
        free(list);
        return NULL;
    }
    return list;
}

/* The body's "from_failure": 0, 1, or -1 with a 400 reply. */
static int from_failure(const srv_request *req, srv_reply *reply)
{
    json_error_t err;
    json_t *body = req->body_len ? json_loads(req->body, 0, &err) : json_object();
    json_t *v = json_object_get(body, "from_failure");
    int rc = 0;
    if (!body || !json_is_object(body) || (v && !json_is_boolean(v) && !json_is_null(v))) {
        srv_error(reply, 400, "the body must be a JSON object {\"from_failure\": true or false}");
        rc = -1;
    } else {
        rc = json_is_true(v);
    }
    json_decref(body);
    return rc;
}

/* Queue a run of selection and the partition of run (as recorded: "all (N)" is every
 * partition); the reply says so. */
static void queue_again(srv *s, const char *selection, json_t *run, srv_reply *reply)
{
    const char *partition = json_string_value(json_object_get(run, "partition"));
    int all = partition && strncmp(partition, "all", 3) == 0
              && (!partition[3] || partition[3] == ' ');
    char **files = NULL;
    size_t n = 0;
    char id[EIDER_RUN_ID_MAX + 1];
    srv_run_files(s, selection, &files, &n);
    if (srv_queue_push(&s->queue, selection, all ? NULL : partition, all, files, n, id)) {
        srv_error(reply, 500, "out of memory");
        return;
    }
    reply->status = 202;
    reply->doc = json_pack("{s:s, s:s, s:s}", "run_id", id, "status", "queued", "from_run",
                           json_string_value(json_object_get(run, "run_id")));
}

void api_reexecute(srv *s, const srv_request *req, srv_reply *reply)
{
    int failure = from_failure(req, reply);
    json_t *run = failure < 0 ? NULL : stored_run(s, req->param, reply);
    char *steps = NULL;
    if (failure < 0 || reply->doc)
        goto out;
    if (!run && !(run = srv_queue_lookup(&s->queue, req->param))) {
        srv_error(reply, 404, "no run '%s': see GET /api/runs for the run ids", req->param);
        goto out;
    }
    if (failure && !(steps = failed_steps(run))) {
        srv_error(reply, 409, "run '%s' has no failed step to run again (status %s): "
                  "re-execute all of it with {\"from_failure\": false}", req->param,
                  json_string_value(json_object_get(run, "status")));
        goto out;
    }
    queue_again(s, failure ? steps : json_string_value(json_object_get(run, "selection")), run,
                reply);
out:
    free(steps);
    json_decref(run);
}

int srv_run_files(srv *s, const char *selection, char ***files, size_t *n)
{
    unsigned char *sel = malloc(eider_defs_count(s->defs) + 1);
    srv_reply scratch = { 0 };
    /* a selection that cannot be resolved here may open any file */
    int rc = eider_defs_databases(s->defs, sel && !srv_select(s, selection, sel, &scratch)
                                  ? sel : NULL, files, n);
    json_decref(scratch.doc);
    free(sel);
    return rc;
}

/* ---- the definitions ---- */

/* Where a compiler's message points: the first "FILE.c:LINE:" (or .h) in msg. */
static void error_place(const char *msg, char **file, int *line)
{
    *file = NULL;
    *line = 0;
    for (const char *p = msg; (p = strchr(p, ':')); p++) {
        const char *start = p, *d = p + 1;
        if (!isdigit((unsigned char)*d))
            continue;
        while (isdigit((unsigned char)*d))
            d++;
        while (start > msg && !isspace((unsigned char)start[-1]) && start[-1] != '\''
               && start[-1] != '"')
            start--;
        if (*d != ':' || p - start < 3 || p[-2] != '.' || (p[-1] != 'c' && p[-1] != 'h'))
            continue;
        *file = strndup(start, (size_t)(p - start));
        *line = atoi(p + 1);
        return;
    }
}

json_t *srv_defs_json(srv *s)
{
    json_t *error = json_null();
    if (s->defs_error)
        error = json_pack("{s:s, s:o, s:o}", "message", s->defs_error, "file",
                          cli_json_string(s->defs_error_file), "line",
                          s->defs_error_file ? json_integer(s->defs_error_line) : json_null());
    return json_pack("{s:I, s:o, s:I, s:o}", "version", (json_int_t)s->defs_version, "source",
                     cli_json_string(s->defs_path), "loaded_us", (json_int_t)s->loaded_us,
                     "error", error);
}

void api_defs(srv *s, const srv_request *req, srv_reply *reply)
{
    (void)req;
    reply->doc = srv_defs_json(s);
}

/* Loads of the definitions: one for the handlers, one for the runs; 0 when all
 * loaded, else the first error's message (into *error, malloc'd). */
static int load_all(srv *s, eider_defs **out, size_t n, char **error)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = eider_defs_new();
        if (eider_defs_load(out[i], s->defs_path, NULL)) {
            *error = strdup(eider_defs_errmsg(out[i]));
            for (size_t j = 0; j <= i; j++)
                eider_defs_free(out[j]);
            return -1;
        }
    }
    return 0;
}

/* Use the definitions just loaded: the handlers' now, the run threads' for the runs
 * that start from now on. */
static void take(srv *s, eider_defs **fresh, size_t n)
{
    pthread_mutex_lock(&s->lock);
    eider_defs *old = s->defs;
    s->defs = fresh[0];
    unsigned version = ++s->defs_version;
    free(s->defs_error);
    free(s->defs_error_file);
    s->defs_error = s->defs_error_file = NULL;
    s->defs_none = 0;
    s->loaded_us = now_us();
    srv_live_publish(&s->live, "defs", json_pack("{s:I, s:n}", "version", (json_int_t)version,
                                                 "error"));
    pthread_mutex_unlock(&s->lock);
    srv_queue_add_defs(&s->queue, fresh + 1, n - 1, version);
    eider_defs_free(old);
}

/* Remember error (taken) as the definitions' and where it points; call under lock. */
static void set_error(srv *s, char *error)
{
    free(s->defs_error);
    free(s->defs_error_file);
    s->defs_error = error;
    error_place(error, &s->defs_error_file, &s->defs_error_line);
}

void srv_defs_failed_at_start(srv *s, char *error)
{
    pthread_mutex_lock(&s->lock);
    set_error(s, error);
    s->defs_none = 1;
    pthread_mutex_unlock(&s->lock);
}

static void keep_last_good(srv *s, char *error)
{
    pthread_mutex_lock(&s->lock);
    set_error(s, error);
    srv_live_publish(&s->live, "defs", json_pack("{s:I, s:s}", "version",
                                                 (json_int_t)s->defs_version, "error", error));
    int none = s->defs_none;
    unsigned version = s->defs_version;
    pthread_mutex_unlock(&s->lock);
    if (none)
        fprintf(stderr, "eider dev: the definitions '%s' did not load; serving none until "
                "they do: %s\n", s->defs_path, error);
    else
        fprintf(stderr, "eider dev: the definitions '%s' did not load; serving the last good "
                "ones (version %u): %s\n", s->defs_path, version, error);
}

int srv_reload(srv *s)
{
    struct stat st;
    char *error = NULL;
    size_t n = 2;
    eider_defs **fresh = calloc(n, sizeof(*fresh));
    int rc = 0;
    if (!s->defs_path) {
        free(fresh);
        return -2;
    }
    pthread_mutex_lock(&s->reload_lock);
    if (stat(s->defs_path, &st) == 0)
        s->defs_mtime = st.st_mtim;
    if (!fresh) {
        rc = -1;
        keep_last_good(s, strdup("out of memory"));
    } else if (load_all(s, fresh, n, &error)) {
        rc = -1;
        keep_last_good(s, error);
    } else {
        take(s, fresh, n);
    }
    pthread_mutex_lock(&s->lock);    /* what was read: not again until it changes */
    s->sources_sig = eider_defs_sources_signature(s->defs);
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_unlock(&s->reload_lock);
    free(fresh);
    return rc;
}

/* Unlocked (the load takes its time): srv_reload() takes the lock to swap. */
void api_reload(srv *s, const srv_request *req, srv_reply *reply)
{
    (void)req;
    int rc = srv_reload(s);
    if (rc == -2) {
        srv_error(reply, 409, "the definitions were given by the program that runs eider dev: "
                  "there is no file to reload them from");
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (rc == 0) {
        reply->doc = json_pack("{s:I, s:n}", "version", (json_int_t)s->defs_version, "error");
    } else {
        reply->status = 422;
        reply->doc = json_pack("{s:s, s:o, s:o, s:I}", "error", s->defs_error ? s->defs_error : "",
                               "file", cli_json_string(s->defs_error_file), "line",
                               s->defs_error_file ? json_integer(s->defs_error_line) : json_null(),
                               "version", (json_int_t)s->defs_version);
    }
    pthread_mutex_unlock(&s->lock);
}
