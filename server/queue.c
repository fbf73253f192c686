/*
 * queue.c — the run queue of `eider dev`: launched runs wait here, and max_concurrent
 * threads run them, each in a run worker, recording them in the instance store. Two
 * runs that may open one DuckDB file never run at once (DESIGN §3): the second waits,
 * queued, and never meets DuckDB's lock.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "../cli/cli.h"
#include "server.h"

static const char *state_name(srv_run_state state)
{
    switch (state) {
    case SRV_QUEUED: return "queued";
    case SRV_RUNNING: return "started";
    case SRV_ENDED: return "ended";
    case SRV_CANCELED: return "canceled";
    default: return "refused";
    }
}

static int64_t now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* The row of r as GET /api/runs gives a recorded run's; call under q->lock. */
static json_t *run_row(const srv_run *r)
{
    return json_pack("{s:s, s:s, s:o, s:o, s:s, s:{}, s:I, s:n, s:n, s:i, s:i, s:i, s:i, s:o}",
                     "run_id", r->id, "status", state_name(r->state),
                     "selection", cli_json_string(r->selection),
                     "partition", cli_json_string(r->partition), "launched_by", "api", "tags",
                     "start_us", (json_int_t)r->queued_us, "end_us", "duration_s",
                     "n_succeeded", 0, "n_failed", 0, "n_skipped", 0, "n_canceled", 0,
                     "error", cli_json_string(r->error));
}

/* Tell the live streams r changed; call under q->lock. */
static void announce(srv_queue *q, const srv_run *r)
{
    if (q->srv)
        srv_live_publish(&q->srv->live, "run", run_row(r));
}

static int shares_file(const srv_run *a, const srv_run *b)
{
    for (size_t i = 0; i < a->n_files; i++)
        for (size_t j = 0; j < b->n_files; j++)
            if (strcmp(a->files[i], b->files[j]) == 0)
                return 1;
    return 0;
}

/* Whether r may start now: it shares no file with a running run, nor with a run
 * queued before it (which goes first). */
static int may_start(srv_queue *q, const srv_run *r)
{
    int before = 1;
    for (srv_run *o = q->runs; o; o = o->next) {
        if (o == r) {
            before = 0;
            continue;
        }
        int holds = o->state == SRV_RUNNING || (before && o->state == SRV_QUEUED);
        if (holds && shares_file(o, r))
            return 0;
    }
    return 1;
}

static srv_run *next_startable(srv_queue *q)
{
    for (srv_run *r = q->runs; r; r = r->next)
        if (r->state == SRV_QUEUED && may_start(q, r))
            return r;
    return NULL;
}

/* A free load of the newest definitions, or NULL. */
static srv_defs_slot *free_slot(srv_queue *q)
{
    for (size_t i = 0; i < q->n_slots; i++)
        if (!q->slots[i].busy && q->slots[i].version == q->version)
            return &q->slots[i];
    return NULL;
}

/* Free the loads of older definitions that no run uses; call under q->lock. */
static void drop_old_slots(srv_queue *q)
{
    size_t kept = 0;
    for (size_t i = 0; i < q->n_slots; i++) {
        srv_defs_slot *d = &q->slots[i];
        if (d->version != q->version && !d->busy) {
            if (d->owned)
                eider_defs_free(d->defs);
            continue;
        }
        q->slots[kept++] = *d;
    }
    q->n_slots = kept;
}

/* Run r in a run worker on defs; the store records it. A run with nothing to run, or
 * refused before it starts (a bad partition), is not recorded: the queue keeps its
 * message. defs read the thread's store for the run (stale(), the keys of dynamic
 * partitions): a load made by a reload or for a concurrent run has none of its own. */
static void run_one(srv_queue *q, srv_run *r, eider_defs *defs, eider_store *store)
{
    eider_result *result = NULL;
    eider_run_options o = {
        .selection = r->selection, .partition = r->partition, .run_id = r->id,
        .lock_timeout_s = EIDER_LOCK_TIMEOUT_DEFAULT, .store = store,
        .launched_by = "api", .cancel = &r->cancel, .all_partitions = r->all_partitions,
    };
    eider_defs_use_store(defs, store);
    int rc = eider_materialize_worker(defs, &o, &result);
    int recorded = rc == EIDER_ECRASHED || (result && eider_result_count(result) > 0);
    pthread_mutex_lock(&q->lock);
    r->state = recorded ? SRV_ENDED : SRV_REFUSED;
    if (!recorded) {
        r->error = strdup(rc == EIDER_OK ? "nothing to run: the selection has no step to run"
                          : rc == EIDER_ECANCELED ? "canceled before it started"
                                                  : eider_defs_errmsg(defs));
        announce(q, r);
    }
    pthread_mutex_unlock(&q->lock);
    eider_defs_use_store(defs, NULL);
    eider_result_free(result);
}

static void add_slot(srv_queue *q, eider_defs *defs, unsigned version, int owned);
static eider_defs *load(const char *path);

/* Whether a load of the newest definitions may be added for a run that waits for one
 * (the loads are made as runs need them, so that an idle server holds one). */
static int may_load(srv_queue *q)
{
    size_t n = 0;
    for (size_t i = 0; i < q->n_slots; i++)
        n += q->slots[i].version == q->version;
    return q->path && !q->loading && q->load_failed != q->version && n < (size_t)q->n_threads;
}

/* Load the definitions once more for the runs; called under q->lock, which it leaves
 * while it loads. */
static void load_more(srv_queue *q)
{
    unsigned version = q->version;
    q->loading = 1;
    pthread_mutex_unlock(&q->lock);
    eider_defs *defs = load(q->path);
    pthread_mutex_lock(&q->lock);
    q->loading = 0;
    if (defs)
        add_slot(q, defs, version, 1);
    else
        q->load_failed = version;       /* the runs take turns on the loads there are */
    drop_old_slots(q);
    pthread_cond_broadcast(&q->wake);
}

/* A run thread: take the first run that may start, run it, again. */
static void *queue_main(void *arg)
{
    srv_queue *q = arg;
    eider_store *store = NULL;
    if (q->record && eider_store_open(NULL, &store)) {
        fprintf(stderr, "eider dev: a run thread cannot open the instance store: %s\n",
                eider_store_errmsg(store));
        eider_store_close(store);
        store = NULL;
    }
    pthread_mutex_lock(&q->lock);
    for (;;) {
        srv_run *r = q->stopping ? NULL : next_startable(q);
        srv_defs_slot *slot = r ? free_slot(q) : NULL;
        if (q->stopping)
            break;
        if (r && !slot && may_load(q)) {
            load_more(q);
            continue;
        }
        if (!slot) {
            pthread_cond_wait(&q->wake, &q->lock);
            continue;
        }
        r->state = SRV_RUNNING;
        slot->busy = 1;
        eider_defs *defs = slot->defs;
        unsigned version = slot->version;
        pthread_mutex_unlock(&q->lock);
        run_one(q, r, defs, store);
        pthread_mutex_lock(&q->lock);
        for (size_t i = 0; i < q->n_slots; i++)
            if (q->slots[i].defs == defs && q->slots[i].version == version)
                q->slots[i].busy = 0;
        drop_old_slots(q);
        pthread_cond_broadcast(&q->wake);
    }
    pthread_mutex_unlock(&q->lock);
    eider_store_close(store);
    return NULL;
}

static void add_slot(srv_queue *q, eider_defs *defs, unsigned version, int owned)
{
    srv_defs_slot *grown = realloc(q->slots, (q->n_slots + 1) * sizeof(*grown));
    if (!grown) {
        if (owned)
            eider_defs_free(defs);
        return;
    }
    q->slots = grown;
    q->slots[q->n_slots++] = (srv_defs_slot){ defs, version, 0, owned };
}

/* Another load of the definitions at path, or NULL (the message on stderr). */
static eider_defs *load(const char *path)
{
    eider_defs *defs = eider_defs_new();
    if (!eider_defs_load(defs, path, NULL))
        return defs;
    fprintf(stderr, "eider dev: cannot load the definitions '%s' again: %s\n", path,
            eider_defs_errmsg(defs));
    eider_defs_free(defs);
    return NULL;
}

int srv_queue_start(srv_queue *q, srv *s, eider_defs *defs, const char *path,
                    int max_concurrent)
{
    memset(q, 0, sizeof(*q));
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->wake, NULL);
    q->srv = s;
    q->version = 1;
    q->record = s->has_store;
    if (s->defs_none)
        q->load_failed = 1;         /* version 1 is an empty set, no load of the file */
    add_slot(q, defs, 1, 0);
    if (path && !(q->path = strdup(path)))
        return -1;
    q->threads = calloc((size_t)max_concurrent, sizeof(*q->threads));
    if (!q->threads)
        return -1;
    for (; q->n_threads < max_concurrent; q->n_threads++)
        if (pthread_create(&q->threads[q->n_threads], NULL, queue_main, q))
            return q->n_threads ? 0 : -1;
    return 0;
}

void srv_queue_add_defs(srv_queue *q, eider_defs **defs, size_t n, unsigned version)
{
    pthread_mutex_lock(&q->lock);
    q->version = version;
    for (size_t i = 0; i < n; i++)
        add_slot(q, defs[i], version, 1);
    drop_old_slots(q);
    pthread_cond_broadcast(&q->wake);
    pthread_mutex_unlock(&q->lock);
}

/* A new run id: 16 random bytes as a UUID (version 4). */
static int new_run_id(char id[EIDER_RUN_ID_MAX + 1])
{
    unsigned char b[16];
    FILE *f = fopen("/dev/urandom", "rb");
    int ok = f && fread(b, 1, sizeof(b), f) == sizeof(b);
    if (f)
        fclose(f);
    if (!ok)
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(id, EIDER_RUN_ID_MAX + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return 0;
}

static void run_free(srv_run *r)
{
    if (!r)
        return;
    free(r->selection);
    free(r->partition);
    free(r->error);
    eider_keys_free(r->files, r->n_files);
    free(r);
}

int srv_queue_push(srv_queue *q, const char *selection, const char *partition,
                   int all_partitions, char **files, size_t n_files,
                   char id[EIDER_RUN_ID_MAX + 1])
{
    srv_run *r = calloc(1, sizeof(*r)), **tail = &q->runs;
    if (!r) {
        eider_keys_free(files, n_files);
        return -1;
    }
    r->files = files;
    r->n_files = n_files;
    r->all_partitions = all_partitions;
    atomic_store(&r->cancel, 0);
    r->selection = selection ? strdup(selection) : NULL;
    r->partition = partition ? strdup(partition) : NULL;
    if (new_run_id(r->id) || (selection && !r->selection) || (partition && !r->partition)) {
        run_free(r);
        return -1;
    }
    memcpy(id, r->id, sizeof(r->id));
    pthread_mutex_lock(&q->lock);
    r->queued_us = now_us();
    while (*tail)
        tail = &(*tail)->next;
    *tail = r;
    announce(q, r);
    pthread_cond_broadcast(&q->wake);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

static srv_run *find(srv_queue *q, const char *id)
{
    for (srv_run *r = q->runs; r; r = r->next)
        if (strcmp(r->id, id) == 0)
            return r;
    return NULL;
}

json_t *srv_queue_lookup(srv_queue *q, const char *id)
{
    json_t *doc = NULL;
    pthread_mutex_lock(&q->lock);
    srv_run *r = find(q, id);
    if (r && r->state != SRV_ENDED)
        doc = run_row(r);
    pthread_mutex_unlock(&q->lock);
    return doc;
}

json_t *srv_queue_rows(srv_queue *q)
{
    json_t *rows = json_array();
    pthread_mutex_lock(&q->lock);
    for (srv_run *r = q->runs; r; r = r->next)
        if (r->state == SRV_QUEUED)
            json_array_append_new(rows, run_row(r));
    pthread_mutex_unlock(&q->lock);
    return rows;
}

int srv_queue_cancel(srv_queue *q, const char *id)
{
    int rc = -1;
    pthread_mutex_lock(&q->lock);
    srv_run *r = find(q, id);
    if (r && r->state == SRV_QUEUED) {
        r->state = SRV_CANCELED;
        announce(q, r);
        pthread_cond_broadcast(&q->wake);   /* a run behind it may start now */
        rc = 0;
    } else if (r && r->state == SRV_RUNNING) {
        atomic_store(&r->cancel, 1);
        rc = 1;
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

void srv_queue_stop(srv_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->stopping = 1;
    for (srv_run *r = q->runs; r; r = r->next)
        atomic_store(&r->cancel, 1);
    pthread_cond_broadcast(&q->wake);
    pthread_mutex_unlock(&q->lock);
    for (int i = 0; i < q->n_threads; i++)
        pthread_join(q->threads[i], NULL);
    free(q->threads);
    for (srv_run *r = q->runs, *next; r; r = next) {
        next = r->next;
        run_free(r);
    }
    for (size_t i = 0; i < q->n_slots; i++)
        if (q->slots[i].owned)
            eider_defs_free(q->slots[i].defs);
    free(q->slots);
    free(q->path);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->wake);
}
