/*
 * run.c — eider_materialize(): plans the selected steps, runs them in dependency
 * order on a pool of threads (or on the caller's thread for one job), skips what is
 * downstream of a failure while other branches go on, and reports the events.
 */
#define _GNU_SOURCE
#include <unistd.h>

#include "exec.h"
#include "../defs/partitions.h"
#include "../store/store.h"

void eider__emit(eider__run *run, eider_event *ev)
{
    if (!run->sink || !run->sink->on_event)
        return;
    ev->run_id = run->result->run_id;
    if (!ev->time_us)
        ev->time_us = eider__now_us();
    pthread_mutex_lock(&run->sink_lock);
    run->sink->on_event(ev, run->sink->user_data);
    pthread_mutex_unlock(&run->sink_lock);
}

#define LOCK_TIMEOUT_DEFAULT_S 60    /* EIDER_LOCK_TIMEOUT_DEFAULT */

static void on_lock_wait(const char *message, void *user_data)
{
    eider_event ev = { .type = EIDER_EVENT_LOG, .level = EIDER_LOG_WARN, .message = message };
    eider__emit(user_data, &ev);
}

/* The step bookkeeping below (end_unrun, skip_downstream, cancel_rest, finish_step,
 * take_ready) changes the steps' states and the run's counts. The pool's workers call
 * it with run->lock held; run_inline calls it without the lock, being the only thread
 * that runs steps (the cancel watcher touches no step: it reads the flag and interrupts
 * connections under live_lock). */

static const char *asset_key(eider__run *run, const eider__step *s)
{
    return run->defs->assets[s->asset].key;
}

/* End a step that never ran (skipped or canceled) with why, and tell the sink. Step
 * bookkeeping (see above); takes why. */
static void end_unrun(eider__run *run, eider__step *s, eider_step_status status, char *why)
{
    s->status = status;
    s->error = why;
    s->done = 1;
    run->n_done++;
    if (status == EIDER_STEP_SKIPPED)
        run->n_skipped++;
    else
        run->n_canceled++;
    eider_event ev = { .type = status == EIDER_STEP_SKIPPED ? EIDER_EVENT_STEP_SKIPPED
                                                            : EIDER_EVENT_STEP_CANCELED,
                       .asset_key = asset_key(run, s), .message = why };
    eider__emit(run, &ev);
}

/* Mark everything downstream of a failed step skipped. Step bookkeeping. */
static void skip_downstream(eider__run *run, eider__step *failed)
{
    eider_result *r = run->result;
    size_t *queue = eider__xmalloc(r->n_steps * sizeof(*queue)), head = 0, tail = 0;
    queue[tail++] = (size_t)(failed - r->steps);
    while (head < tail) {
        const eider__asset *a = &run->defs->assets[r->steps[queue[head++]].asset];
        for (size_t d = 0; d < a->n_down; d++) {
            long si = r->step_of[a->down[d]];
            if (si < 0 || r->steps[si].done)
                continue;
            eider__buf why = { 0 };
            eider__buf_printf(&why, "skipped: upstream asset '%s' failed", asset_key(run, failed));
            end_unrun(run, &r->steps[si], EIDER_STEP_SKIPPED, eider__buf_detach(&why));
            queue[tail++] = (size_t)si;
        }
    }
    free(queue);
}

/* Mark every step that is neither done nor running canceled. Step bookkeeping;
 * running steps end by themselves, their queries interrupted. */
static void cancel_rest(eider__run *run)
{
    eider_result *r = run->result;
    for (size_t i = 0; i < r->n_steps; i++) {
        eider__step *s = &r->steps[i];
        if (!s->done && !s->running)
            end_unrun(run, s, EIDER_STEP_CANCELED, eider__xstrdup("canceled before it started"));
    }
}

/* Record a finished step and release what it unblocks. Step bookkeeping. */
static void finish_step(eider__run *run, eider__step *step)
{
    eider_result *r = run->result;
    step->done = 1;
    step->running = 0;
    run->n_done++;
    if (step->status == EIDER_STEP_CANCELED) {
        run->n_canceled++;
        return;
    }
    if (step->status != EIDER_STEP_SUCCESS) {
        run->n_failed++;
        skip_downstream(run, step);
        return;
    }
    run->n_succeeded++;
    const eider__asset *a = &run->defs->assets[step->asset];
    for (size_t d = 0; d < a->n_down; d++) {
        long si = r->step_of[a->down[d]];
        if (si >= 0 && --r->steps[si].pending == 0 && !r->steps[si].done)
            run->ready[run->ready_tail++] = (uint32_t)si;
    }
}

/* The next step to run, marked running, or NULL when none is ready. Step
 * bookkeeping. */
static eider__step *take_ready(eider__run *run)
{
    while (run->ready_head < run->ready_tail) {
        eider__step *s = &run->result->steps[run->ready[run->ready_head++]];
        if (!s->done) {
            s->running = 1;
            return s;
        }
    }
    return NULL;
}

static void run_inline(eider__run *run)
{
    eider__step *s;
    for (;;) {
        if (eider__run_canceled(run))
            cancel_rest(run);
        if (!(s = take_ready(run)))
            break;
        eider__step_execute(run, s);
        finish_step(run, s);
    }
}

static void *worker(void *arg)
{
    eider__run *run = arg;
    size_t total = run->result->n_steps;
    eider__step *s;
    pthread_mutex_lock(&run->lock);
    for (;;) {
        if (eider__run_canceled(run))
            cancel_rest(run);
        if (run->n_done >= total)
            break;
        if (!(s = take_ready(run))) {
            pthread_cond_wait(&run->changed, &run->lock);
            continue;
        }
        pthread_mutex_unlock(&run->lock);
        eider__step_execute(run, s);
        pthread_mutex_lock(&run->lock);
        finish_step(run, s);
        pthread_cond_broadcast(&run->changed);
    }
    pthread_mutex_unlock(&run->lock);
    return NULL;
}

static void run_pool(eider__run *run)
{
    size_t n = (size_t)run->jobs < run->result->n_steps ? (size_t)run->jobs : run->result->n_steps;
    pthread_t *threads = eider__xmalloc(n * sizeof(*threads));
    size_t started = 0;
    for (; started < n; started++)
        if (pthread_create(&threads[started], NULL, worker, run))
            break;
    if (started == 0)
        run_inline(run);        /* no thread could start: do the work here */
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    free(threads);
}

/* Count each step's upstream steps and queue the ones with none. */
static void plan(eider__run *run)
{
    eider_result *r = run->result;
    run->ready = eider__xmalloc((r->n_steps + 1) * sizeof(*run->ready));
    for (size_t i = 0; i < r->n_steps; i++) {
        const eider__asset *a = &run->defs->assets[r->steps[i].asset];
        for (size_t u = 0; u < a->n_up; u++)
            if (r->step_of[a->up[u]] >= 0)
                r->steps[i].pending++;
        if (r->steps[i].pending == 0)
            run->ready[run->ready_tail++] = (uint32_t)i;
    }
}

static int default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* A partition asked for when no step is partitioned is a mistake (a wrong selection,
 * most likely): say which assets were selected instead of recording it. */
static int unpartitioned_run(eider_defs *defs, const char *request, const eider_result *r)
{
    eider__buf names = { 0 };
    for (size_t i = 0; i < r->n_steps && i < 3; i++)
        eider__buf_printf(&names, "%s'%s'", i ? ", " : "", defs->assets[r->steps[i].asset].key);
    if (r->n_steps > 3)
        eider__buf_printf(&names, " and %zu more", r->n_steps - 3);
    int rc = eider__defs_error(defs, EIDER_ESELECT, "partition '%s' was given, but %s %s not "
        "partitioned: leave out --partition (eider_run_options.partition), or select the "
        "partitioned assets to materialize", request, r->n_steps ? eider__buf_str(&names)
        : "no asset is selected, so none is", r->n_steps == 1 ? "is" : r->n_steps ? "are" : "");
    eider__buf_release(&names);
    return rc;
}

/* An asset that reads its own earlier partitions builds each on the one before: one
 * run of several would read them before they are written. */
static int own_past_one_at_a_time(eider_defs *defs, const eider_result *r)
{
    for (size_t i = 0; i < r->n_steps; i++) {
        const eider__asset *a = &defs->assets[r->steps[i].asset];
        if (a->reads_own_past && r->steps[i].n_partitions > 1)
            return eider__defs_error(defs, EIDER_ESELECT, "asset '%s' reads its own earlier "
                "partitions, so a run materializes one of its partitions, not %zu: backfill them "
                "in order with --per-partition", a->key, r->steps[i].n_partitions);
    }
    return EIDER_OK;
}

/* Give each partitioned step the keys the run asked for; a partitioned asset with no
 * partition asked for, an unknown key, or a partition asked for when no step is
 * partitioned stops the run before it starts. */
static int plan_partitions(eider_defs *defs, const eider_run_options *o, eider_result *r)
{
    const char *request = o ? o->partition : NULL;
    int all = o && o->all_partitions;
    size_t partitioned = 0;
    for (size_t i = 0; i < r->n_steps; i++)
        partitioned += defs->assets[r->steps[i].asset].partitions != NULL;
    if (all && request)
        return eider__defs_error(defs, EIDER_ESELECT, "a run of every partition names no "
            "partition: give --all-partitions or --partition, not both");
    if (((request && *request) || all) && !partitioned)
        return unpartitioned_run(defs, all ? "(all)" : request, r);
    for (size_t i = 0; i < r->n_steps; i++) {
        eider__step *s = &r->steps[i];
        const eider__asset *a = &defs->assets[s->asset];
        eider__buf err = { 0 };
        if (!a->partitions)
            continue;
        if (all) {
            int rc = eider_defs_partition_keys(defs, s->asset, NULL, &s->partitions,
                                               &s->n_partitions);
            if (rc)
                return rc;
            continue;
        }
        if (!request || !*request)
            return eider__defs_error(defs, EIDER_ESELECT, "asset '%s' is partitioned: choose "
                "the partitions to materialize with --partition KEY or --partition-range "
                "FIRST...LAST (eider_run_options.partition), or leave it out of the selection",
                a->key);
        int rc = eider__partitions_resolve(a->partitions, a->key, request, &s->partitions,
                                           &s->n_partitions, &err);
        if (rc)
            rc = eider__defs_error(defs, EIDER_ESELECT, "%s", eider__buf_str(&err));
        eider__buf_release(&err);
        if (rc)
            return rc;   /* what to run was wrong: a selection error, as for --select */
    }
    return own_past_one_at_a_time(defs, r);
}

/* A run of every asset without a partition leaves the partitioned assets out (they
 * need one) and runs the others; when every asset is partitioned, none is left out,
 * and planning says to choose a partition. */
static void leave_out_partitioned(const eider_defs *defs, const eider_run_options *o,
                                  unsigned char *selected)
{
    size_t others = 0;
    if ((o && o->selection) || (o && o->partition && *o->partition) || (o && o->all_partitions))
        return;
    for (size_t i = 0; i < defs->n_assets; i++)
        others += selected[i] && !defs->assets[i].partitions && !defs->assets[i].external;
    for (size_t i = 0; others && i < defs->n_assets; i++)
        if (defs->assets[i].partitions)
            selected[i] = 0;
}

static int prepare(eider_defs *defs, const eider_run_options *o, eider_result **out)
{
    unsigned char *selected = NULL;
    int rc = defs->validated ? EIDER_OK : eider_defs_validate(defs);
    if (rc)
        return rc;
    if (o && o->run_id && (!*o->run_id || strlen(o->run_id) > EIDER_RUN_ID_MAX))
        return eider__defs_error(defs, EIDER_EINVAL, "run id '%s' is %s: choose one of 1 to "
            "%d characters, or leave eider_run_options.run_id NULL for a new random id",
            o->run_id, *o->run_id ? "too long" : "empty", EIDER_RUN_ID_MAX);
    eider_store *store = o && o->store ? o->store : defs->status_store;
    if (defs->n_dynamic && store && (rc = eider__store_load_dynamic(store, defs)))
        return eider__defs_error(defs, rc, "cannot read the keys of dynamic partitions: %s",
                                 eider_store_errmsg(store));
    selected = eider__xmalloc(defs->n_assets ? defs->n_assets : 1);
    rc = eider_defs_select(defs, o ? o->selection : NULL, selected);
    if (!rc)
        leave_out_partitioned(defs, o, selected);
    if (!rc) {
        *out = eider__result_new(defs, selected);
        if (o && o->run_id)
            snprintf((*out)->run_id, sizeof((*out)->run_id), "%s", o->run_id);
        if ((rc = plan_partitions(defs, o, *out))) {
            eider_result_free(*out);
            *out = NULL;
        }
    }
    free(selected);
    return rc;
}

static void run_steps(eider__run *run, const eider_run_options *o)
{
    double t0 = eider__mono_s();
    pthread_mutex_init(&run->lock, NULL);
    pthread_cond_init(&run->changed, NULL);
    pthread_mutex_init(&run->sink_lock, NULL);
    eider_event start = { .type = EIDER_EVENT_RUN_START, .selection = o ? o->selection : NULL,
                          .partition = o ? o->partition : NULL };
    eider__emit(run, &start);
    plan(run);
    eider__watch_start(run);
    if (run->jobs <= 1)
        run_inline(run);
    else
        run_pool(run);
    eider__watch_stop(run);
    eider__dbs_release(&run->dbs);
    eider_event end = { .type = EIDER_EVENT_RUN_END, .duration_s = eider__mono_s() - t0,
                        .n_succeeded = run->n_succeeded, .n_failed = run->n_failed,
                        .n_skipped = run->n_skipped, .n_canceled = run->n_canceled };
    eider__emit(run, &end);
    free(run->ready);
    pthread_mutex_destroy(&run->lock);
    pthread_cond_destroy(&run->changed);
    pthread_mutex_destroy(&run->sink_lock);
}

int eider_materialize(eider_defs *defs, const eider_run_options *options, eider_result **out)
{
    eider__run run = { 0 };
    eider_result *result = NULL;
    if (out)
        *out = NULL;
    if (!defs)
        return EIDER_EINVAL;
    int rc = prepare(defs, options, &result);
    if (rc)
        return rc;
    if (result->n_steps == 0) {     /* nothing to run is no run: nothing emitted or recorded */
        if (out)
            *out = result;
        else
            eider_result_free(result);
        return EIDER_OK;
    }
    eider__recorder recorder = { .store = options ? options->store : NULL,
                                 .next = options ? options->sink : NULL,
                                 .launched_by = options ? options->launched_by : NULL,
                                 .tags = options ? options->tags : NULL };
    eider_event_sink recording;
    eider__recorder_sink(&recorder, &recording);
    run.defs = defs;
    run.result = result;
    run.sink = recorder.store ? &recording : recorder.next;
    run.jobs = options && options->jobs > 0 ? options->jobs : default_jobs();
    run.cancel = options ? options->cancel : NULL;
    double timeout = options && options->lock_timeout_s >= 0 ? options->lock_timeout_s
                                                             : LOCK_TIMEOUT_DEFAULT_S;
    eider__buf err = { 0 };
    rc = eider__dbs_init(&run.dbs, defs, timeout, on_lock_wait, &run, &err);
    run.dbs.cancel = run.cancel;
    if (rc) {
        eider__defs_error(defs, rc, "%s", eider__buf_str(&err));
        eider__buf_release(&err);
        eider_result_free(result);
        return rc;
    }
    run_steps(&run, options);
    rc = run.n_canceled ? EIDER_ECANCELED
       : run.n_failed || run.n_skipped ? EIDER_ERUNFAILED : EIDER_OK;
    if (out)
        *out = result;
    else
        eider_result_free(result);
    return rc;
}
