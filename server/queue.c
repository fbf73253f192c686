/*
 * queue.c — the run queue of `eider dev`: launched runs wait here and one thread runs
 * them in turn, each in a run worker, recording them in the instance store.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

static const char *state_name(srv_run_state state)
{
    switch (state) {
    case SRV_QUEUED: return "queued";
    case SRV_RUNNING: return "started";
    case SRV_ENDED: return "ended";
    default: return "refused";
    }
}

static srv_run *next_queued(srv_queue *q)
{
    for (srv_run *r = q->runs; r; r = r->next)
        if (r->state == SRV_QUEUED)
            return r;
    return NULL;
}

/* Run r in a run worker; the store records it. A run with nothing to run, or refused
 * before it starts (a bad partition), is not recorded: the queue keeps its message. */
static void run_one(srv_queue *q, srv_run *r)
{
    eider_result *result = NULL;
    eider_run_options o = {
        .selection = r->selection, .partition = r->partition, .run_id = r->id,
        .lock_timeout_s = EIDER_LOCK_TIMEOUT_DEFAULT, .store = q->store,
        .launched_by = "api", .cancel = &q->cancel,
    };
    int rc = eider_materialize_worker(q->defs, &o, &result);
    int recorded = rc == EIDER_ECRASHED || (result && eider_result_count(result) > 0);
    pthread_mutex_lock(&q->lock);
    r->state = recorded ? SRV_ENDED : SRV_REFUSED;
    if (!recorded)
        r->error = strdup(rc == EIDER_OK ? "nothing to run: the selection has no step to run"
                                         : eider_defs_errmsg(q->defs));
    pthread_mutex_unlock(&q->lock);
    eider_result_free(result);
}

static void *queue_main(void *arg)
{
    srv_queue *q = arg;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        srv_run *r = next_queued(q);
        if (q->stopping)
            break;
        if (!r) {
            pthread_cond_wait(&q->wake, &q->lock);
            continue;
        }
        r->state = SRV_RUNNING;
        pthread_mutex_unlock(&q->lock);
        run_one(q, r);
        pthread_mutex_lock(&q->lock);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

int srv_queue_start(srv_queue *q, eider_defs *defs, eider_store *store)
{
    memset(q, 0, sizeof(*q));
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->wake, NULL);
    q->defs = defs;
    q->store = store;
    atomic_store(&q->cancel, 0);
    if (pthread_create(&q->thread, NULL, queue_main, q))
        return -1;
    q->started = 1;
    return 0;
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

int srv_queue_push(srv_queue *q, const char *selection, const char *partition,
                   char id[EIDER_RUN_ID_MAX + 1])
{
    srv_run *r = calloc(1, sizeof(*r)), **tail = &q->runs;
    if (!r || new_run_id(r->id))
        goto fail;
    r->selection = selection ? strdup(selection) : NULL;
    r->partition = partition ? strdup(partition) : NULL;
    if ((selection && !r->selection) || (partition && !r->partition))
        goto fail;
    memcpy(id, r->id, sizeof(r->id));
    pthread_mutex_lock(&q->lock);
    while (*tail)
        tail = &(*tail)->next;
    *tail = r;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
    return 0;
fail:
    if (r) {
        free(r->selection);
        free(r->partition);
    }
    free(r);
    return -1;
}

json_t *srv_queue_lookup(srv_queue *q, const char *id)
{
    json_t *doc = NULL;
    pthread_mutex_lock(&q->lock);
    for (srv_run *r = q->runs; r && !doc; r = r->next) {
        if (strcmp(r->id, id) != 0 || r->state == SRV_ENDED)
            continue;
        doc = json_pack("{s:s, s:s, s:s?, s:s?, s:s?}", "run_id", r->id, "status",
                        state_name(r->state), "selection", r->selection, "partition",
                        r->partition, "error", r->error);
    }
    pthread_mutex_unlock(&q->lock);
    return doc;
}

void srv_queue_stop(srv_queue *q)
{
    if (q->started) {
        pthread_mutex_lock(&q->lock);
        q->stopping = 1;
        atomic_store(&q->cancel, 1);
        pthread_cond_signal(&q->wake);
        pthread_mutex_unlock(&q->lock);
        pthread_join(q->thread, NULL);
    }
    for (srv_run *r = q->runs, *next; r; r = next) {
        next = r->next;
        free(r->selection);
        free(r->partition);
        free(r->error);
        free(r);
    }
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->wake);
}
