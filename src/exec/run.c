/*
 * run.c — eider_materialize(): plans the selected steps, runs them in dependency
 * order on a pool of threads (or on the caller's thread for one job), skips what is
 * downstream of a failure while other branches go on, and reports the events.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
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

#define ALT_STACK_BYTES (64u << 10)

/* A signal stack for this pool thread, so that a crash handler with SA_ONSTACK (the
 * run worker's) runs even when an asset overflowed this thread's stack, and names it. */
static void *alt_stack_on(void)
{
    stack_t ss = { .ss_sp = malloc(ALT_STACK_BYTES), .ss_size = ALT_STACK_BYTES };
    if (ss.ss_sp && sigaltstack(&ss, NULL) != 0) {
        free(ss.ss_sp);
        return NULL;
    }
    return ss.ss_sp;
}

static void alt_stack_off(void *stack)
{
    stack_t ss = { .ss_flags = SS_DISABLE };
    if (!stack)
        return;
    sigaltstack(&ss, NULL);
    free(stack);
}

static void *worker(void *arg)
{
    eider__run *run = arg;
    size_t total = run->result->n_steps;
    eider__step *s;
    void *alt = alt_stack_on();
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
    alt_stack_off(alt);
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

/* "'a'", "'a' and 'b'", "'a', 'b' and 3 more": the assets listed, for a message. */
static void name_assets(eider__buf *out, const eider_defs *defs, const uint32_t *assets, size_t n)
{
    for (size_t i = 0; i < n && i < 3; i++)
        eider__buf_printf(out, "%s'%s'", !i ? "" : i + 1 == n ? " and " : ", ",
                          defs->assets[assets[i]].key);
    if (n > 3)
        eider__buf_printf(out, " and %zu more", n - 3);
}

/* A partition asked for when no step is partitioned is a mistake (a wrong selection,
 * most likely): say which assets were selected instead of recording it. */
static int unpartitioned_run(eider_defs *defs, const eider_run_options *o, const eider_result *r)
{
    eider__buf names = { 0 }, given = { 0 };
    uint32_t *assets = eider__xmalloc((r->n_steps + 1) * sizeof(*assets));
    for (size_t i = 0; i < r->n_steps; i++)
        assets[i] = r->steps[i].asset;
    name_assets(&names, defs, assets, r->n_steps);
    int range = !o->all_partitions && strstr(o->partition, "...") != NULL;
    if (o->all_partitions)
        eider__buf_puts(&given, "--all-partitions was given");
    else
        eider__buf_printf(&given, "%s '%s' %s given", range ? "partitions" : "partition",
                          o->partition, range ? "were" : "was");
    int rc = eider__defs_error(defs, EIDER_ESELECT, "%s, but %s %s not partitioned: leave out "
        "%s, or select the partitioned assets to materialize", eider__buf_str(&given),
        eider__buf_str(&names), r->n_steps == 1 ? "is" : "are",
        o->all_partitions ? "--all-partitions" : range ? "--partition-range" : "--partition");
    free(assets);
    eider__buf_release(&names);
    eider__buf_release(&given);
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

static int partition_given(const eider_run_options *o)
{
    return o && ((o->partition && *o->partition) || o->all_partitions);
}

/* Give each partitioned step the keys the run asked for (a run with a partition: see
 * plan_steps). An unknown key stops the run before it starts; so does a partition when no
 * step is partitioned, unless the selection depends on the assets' state (stale()),
 * which a partitioned asset may or may not be in today. */
static int plan_partitions(eider_defs *defs, const eider_run_options *o, int by_state,
                           eider_result *r)
{
    size_t partitioned = 0;
    if (o->all_partitions && o->partition)
        return eider__defs_error(defs, EIDER_ESELECT, "a run of every partition names no "
            "partition: give --all-partitions or --partition, not both");
    for (size_t i = 0; i < r->n_steps; i++)
        partitioned += defs->assets[r->steps[i].asset].partitions != NULL;
    if (!partitioned)
        return r->n_steps && !by_state ? unpartitioned_run(defs, o, r) : EIDER_OK;
    for (size_t i = 0; i < r->n_steps; i++) {
        eider__step *s = &r->steps[i];
        const eider__asset *a = &defs->assets[s->asset];
        eider__buf err = { 0 };
        int rc = EIDER_OK;
        if (!a->partitions)
            continue;
        if (o->all_partitions) {
            rc = eider_defs_partition_keys(defs, s->asset, NULL, &s->partitions, &s->n_partitions);
            if (!rc && !s->n_partitions) {       /* never a step of no partition */
                eider__partitions_span(a->partitions, &err);
                rc = eider__defs_error(defs, EIDER_ESELECT, "asset '%s' has no partition to "
                    "materialize: %s", a->key, eider__buf_str(&err));
            }
        } else if (eider__partitions_resolve(a->partitions, a->key, o->partition, &s->partitions,
                                           &s->n_partitions, &err))
            rc = eider__defs_error(defs, EIDER_ESELECT, "%s", eider__buf_str(&err));
        eider__buf_release(&err);
        if (rc)
            return rc;   /* what to run was wrong: a selection error, as for --select */
    }
    return own_past_one_at_a_time(defs, r);
}

/* A partitioned asset the selection names by key, in a run without a partition: the
 * user asked for it, so say how to choose its partitions rather than leave it out. */
static int named_partitioned(eider_defs *defs, const unsigned char *named,
                             const unsigned char *selected)
{
    uint32_t *assets = eider__xmalloc((defs->n_assets + 1) * sizeof(*assets));
    size_t n = 0;
    int rc = EIDER_OK;
    for (size_t i = 0; i < defs->n_assets; i++)
        if (named[i] && selected[i] && defs->assets[i].partitions && !defs->assets[i].external)
            assets[n++] = (uint32_t)i;
    if (n) {
        eider__buf names = { 0 };
        name_assets(&names, defs, assets, n);
        rc = eider__defs_error(defs, EIDER_ESELECT, "%s %s %s partitioned: choose %s partitions "
            "with --partition KEY, --partition-range FIRST...LAST or --all-partitions, or "
            "leave %s out of the selection",
            n == 1 ? "asset" : "assets", eider__buf_str(&names), n == 1 ? "is" : "are",
            n == 1 ? "its" : "their", n == 1 ? "it" : "them");
        eider__buf_release(&names);
    }
    free(assets);
    return rc;
}

/* Whether asset i has been materialized successfully (one partition is enough: its
 * table exists), as store says; *done caches what it says. Without a store, nothing is
 * known to be. */
static int materialized(const eider_defs *defs, eider_store *store, unsigned char **done,
                        size_t i)
{
    if (!store)
        return 0;
    if (!*done) {
        *done = eider__xcalloc(defs->n_assets + 1, 1);
        eider__store_materialized(store, defs, *done);   /* unread: none is */
    }
    return (*done)[i];
}

/* Leave out the selected partitioned assets why marks, and each asset that reads one
 * left out which has never been materialized successfully (its table would not exist),
 * as store says (the run's, else the one eider_defs_use_store() gave); an asset reading
 * one left out that has been materialized runs on what is there. why[i] gets that upstream for
 * those, EIDER__LEFT_IN for the assets that stay. */
static void leave_out(const eider_defs *defs, eider_store *store, unsigned char *selected,
                      long *why)
{
    unsigned char *st = NULL;
    for (size_t t = 0; t < defs->n_assets; t++) {
        size_t i = defs->topo[t];
        const eider__asset *a = &defs->assets[i];
        if (!selected[i] || a->external) {
            why[i] = EIDER__LEFT_IN;
            continue;
        }
        for (size_t u = 0; why[i] == EIDER__LEFT_IN && u < a->n_up; u++)
            if (why[a->up[u]] != EIDER__LEFT_IN && !materialized(defs, store, &st, a->up[u]))
                why[i] = (long)a->up[u];
        if (why[i] != EIDER__LEFT_IN)
            selected[i] = 0;
    }
    free(st);
}

/* A run without a partition: each selected partitioned asset is left out, but one the
 * selection names by key is refused. */
static int mark_unpartitioned_run(eider_defs *defs, const eider__select_info *info,
                                  const unsigned char *selected, long *why)
{
    int rc = named_partitioned(defs, info->named, selected);
    for (size_t i = 0; !rc && i < defs->n_assets; i++)
        why[i] = selected[i] && defs->assets[i].partitions ? EIDER__LEFT_OUT_NO_PARTITION : EIDER__LEFT_IN;
    return rc;
}

/* A run of partition request: each selected partitioned asset without that partition
 * is left out (one named by key is not: planning refuses it), when another has it or the
 * selection depends on state; when none has it, none is, and planning says why the
 * first does not. */
static void mark_partition_run(const eider_defs *defs, const char *request,
                               const eider__select_info *info, const unsigned char *selected,
                               long *why)
{
    size_t having = 0;
    for (size_t i = 0; i < defs->n_assets; i++) {
        const eider__asset *a = &defs->assets[i];
        char **keys = NULL;
        size_t n = 0;
        eider__buf err = { 0 };
        why[i] = EIDER__LEFT_IN;
        if (!selected[i] || !a->partitions || a->external)
            continue;
        if (eider__partitions_resolve(a->partitions, a->key, request, &keys, &n, &err))
            why[i] = info->named[i] ? EIDER__LEFT_IN : EIDER__LEFT_OUT_NOT_ITS_PARTITION;
        else
            having++;
        eider_keys_free(keys, n);
        eider__buf_release(&err);
    }
    for (size_t i = 0; !having && !info->by_state && i < defs->n_assets; i++)
        why[i] = EIDER__LEFT_IN;
}

/* Keep in r what leave_out() left out, in a topological order. */
static void note_left_out(const eider_defs *defs, const long *why, eider_result *r)
{
    r->left_out = eider__xmalloc((defs->n_assets + 1) * sizeof(*r->left_out));
    r->left_out_because = eider__xmalloc((defs->n_assets + 1) * sizeof(*r->left_out_because));
    for (size_t t = 0; t < defs->n_assets; t++) {
        uint32_t i = defs->topo[t];
        if (why[i] == EIDER__LEFT_IN)
            continue;
        r->left_out[r->n_left_out] = i;
        r->left_out_because[r->n_left_out++] = why[i];
    }
}

/* Which steps the run has: the selection, less what it cannot run (see mark_*() and
 * leave_out()), each partitioned step with its keys. */
static int plan_steps(eider_defs *defs, const eider_run_options *o, eider_store *store,
                      eider_result **out)
{
    unsigned char *selected = eider__xmalloc(defs->n_assets + 1);
    eider__select_info info = { .named = eider__xmalloc(defs->n_assets + 1),
                                .partition = o ? o->partition : NULL,
                                .all_partitions = o && o->all_partitions };
    long *why = eider__xmalloc((defs->n_assets + 1) * sizeof(*why));
    eider__buf err = { 0 };
    int rc = eider__select_with(defs, o ? o->selection : NULL, selected, &info, &err);
    int checks_only = o && o->checks_only;
    for (size_t i = 0; !rc && i < defs->n_assets; i++)   /* external: nothing to run, */
        selected[i] &= checks_only ? defs->assets[i].n_checks > 0   /* but checks */
                                   : !defs->assets[i].external;
    if (rc)
        eider__defs_error(defs, rc, "%s", eider__buf_str(&err));
    else if (checks_only && !partition_given(o))     /* the whole tables, partitioned too */
        for (size_t i = 0; i < defs->n_assets; i++)
            why[i] = EIDER__LEFT_IN;
    else if (!partition_given(o))
        rc = mark_unpartitioned_run(defs, &info, selected, why);
    else if (!o->all_partitions)
        mark_partition_run(defs, o->partition, &info, selected, why);
    else
        for (size_t i = 0; i < defs->n_assets; i++)
            why[i] = EIDER__LEFT_IN;
    if (!rc) {
        if (!checks_only)            /* what is stored is checked as it is */
            leave_out(defs, store, selected, why);
        *out = eider__result_new(defs, selected);
        note_left_out(defs, why, *out);
        if (partition_given(o))
            rc = plan_partitions(defs, o, info.by_state, *out);
    }
    if (rc && *out) {
        eider_result_free(*out);
        *out = NULL;
    }
    eider__buf_release(&err);
    free(why);
    free(info.named);
    free(selected);
    return rc;
}

static void run_partition(const eider_result *r, const eider_run_options *o, eider__buf *out);

static int prepare(eider_defs *defs, const eider_run_options *o, eider_result **out)
{
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
    *out = NULL;
    if ((rc = plan_steps(defs, o, store, out)))
        return rc;
    if (o && o->run_id)
        snprintf((*out)->run_id, sizeof((*out)->run_id), "%s", o->run_id);
    eider__buf partition = { 0 };
    run_partition(*out, o, &partition);
    if (partition.len)
        (*out)->partition = eider__xstrdup(eider__buf_str(&partition));
    eider__buf_release(&partition);
    return EIDER_OK;
}

int eider__run_plan(eider_defs *defs, const eider_run_options *o, eider_result **result,
                    eider_result **out)
{
    *result = NULL;
    if (out)
        *out = NULL;
    if (!defs)
        return EIDER_EINVAL;
    int rc = prepare(defs, o, result);
    if (rc || (*result)->n_steps)
        return rc;
    if (out)                        /* nothing to run is no run: nothing emitted or recorded */
        *out = *result;
    else
        eider_result_free(*result);
    *result = NULL;
    return EIDER_OK;
}

const eider_event_sink *eider__run_recorder(eider__recorder *r, eider_event_sink *recording,
                                            const eider_run_options *o)
{
    *r = (eider__recorder){ .store = o ? o->store : NULL, .next = o ? o->sink : NULL,
                            .launched_by = o ? o->launched_by : NULL, .tags = o ? o->tags : NULL,
                            .cancel = o ? o->cancel : NULL };
    eider__recorder_sink(r, recording);
    return r->store ? recording : r->next;
}

void eider__run_recorded(eider__recorder *r, eider_result *result)
{
    result->unrecorded = r->missing;        /* what the store lacks of it, or NULL */
    r->missing = NULL;
    eider__recorder_release(r);
}

/* The run's partitions as recorded: its --partition, or for every partition "all (N)"
 * (N keys, when its partitioned steps agree on how many; "all" when they do not); none
 * when no step is partitioned. */
static void run_partition(const eider_result *r, const eider_run_options *o, eider__buf *out)
{
    size_t n = 0;
    int agree = 1, partitioned = 0;
    for (size_t i = 0; i < r->n_steps; i++) {
        if (!r->steps[i].partitions)
            continue;
        agree &= !partitioned++ || r->steps[i].n_partitions == n;
        n = r->steps[i].n_partitions;
    }
    if (!partitioned)               /* a stale() run that found no partitioned asset */
        return;
    if (o->partition)
        eider__buf_puts(out, o->partition);
    else if (agree)
        eider__buf_printf(out, "all (%zu)", n);
    else
        eider__buf_puts(out, "all");
}

/* What a run left out of its selection, as a line of the run's log: the recorded
 * selection says what was asked, this what was not run of it. */
static void log_left_out(eider__run *run)
{
    const eider_result *r = run->result;
    eider__buf msg = { 0 };
    if (!r->n_left_out)
        return;
    eider__buf_puts(&msg, "left out:");
    for (size_t i = 0; i < r->n_left_out; i++) {
        long because = r->left_out_because[i];
        eider__buf_printf(&msg, "%s '%s'", i ? "," : "", run->defs->assets[r->left_out[i]].key);
        if (because == EIDER__LEFT_OUT_NO_PARTITION)
            eider__buf_puts(&msg, " (partitioned, and no partition was given)");
        else if (because == EIDER__LEFT_OUT_NOT_ITS_PARTITION)
            eider__buf_puts(&msg, " (without the run's partition)");
        else
            eider__buf_printf(&msg, " (reads '%s', left out and never materialized)",
                              run->defs->assets[because].key);
    }
    eider_event ev = { .type = EIDER_EVENT_LOG, .level = EIDER_LOG_INFO, .message = eider__buf_str(&msg) };
    eider__emit(run, &ev);
    eider__buf_release(&msg);
}

void eider__run_steps(eider__run *run, const eider_run_options *o)
{
    double t0 = eider__mono_s();
    pthread_mutex_init(&run->lock, NULL);
    pthread_cond_init(&run->changed, NULL);
    pthread_mutex_init(&run->sink_lock, NULL);
    eider_event start = { .type = EIDER_EVENT_RUN_START, .selection = o ? o->selection : NULL,
                          .partition = run->result->partition, .n_steps = run->result->n_steps };
    eider__emit(run, &start);
    log_left_out(run);
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

void eider__run_init(eider__run *run, eider_defs *defs, const eider_run_options *o,
                     eider_result *result, const eider_event_sink *sink,
                     const eider_atomic_int *cancel)
{
    memset(run, 0, sizeof(*run));
    run->defs = defs;
    run->result = result;
    run->sink = sink;
    run->jobs = o && o->jobs > 0 ? o->jobs : default_jobs();
    run->no_checks = o && o->no_checks;
    run->checks_only = o && o->checks_only && !run->no_checks;
    run->cancel = cancel;
    for (size_t i = 0; i < result->n_steps; i++)
        run->has_timeouts |= defs->assets[result->steps[i].asset].timeout_s > 0;
}

int eider__run_open(eider__run *run, const eider_run_options *o, eider__buf *err)
{
    double timeout = o && o->lock_timeout_s >= 0 ? o->lock_timeout_s : LOCK_TIMEOUT_DEFAULT_S;
    int rc = eider__dbs_init(&run->dbs, run->defs, timeout, on_lock_wait, run, err);
    run->dbs.cancel = run->cancel;
    return rc;
}

int eider__run_code(const eider__run *run)
{
    return run->n_canceled ? EIDER_ECANCELED
         : run->n_failed || run->n_skipped ? EIDER_ERUNFAILED : EIDER_OK;
}

int eider_materialize(eider_defs *defs, const eider_run_options *options, eider_result **out)
{
    eider__run run;
    eider__recorder recorder;
    eider_event_sink recording;
    eider_result *result = NULL;
    int rc = eider__run_plan(defs, options, &result, out);
    if (rc || !result)
        return rc;
    eider__run_init(&run, defs, options, result, eider__run_recorder(&recorder, &recording, options),
                    options ? options->cancel : NULL);
    eider__buf err = { 0 };
    if ((rc = eider__run_open(&run, options, &err))) {
        eider__defs_error(defs, rc, "%s", eider__buf_str(&err));
        eider__buf_release(&err);
        eider_result_free(result);
        return rc;
    }
    eider__run_steps(&run, options);
    eider__run_recorded(&recorder, result);
    rc = eider__run_code(&run);
    if (out)
        *out = result;
    else
        eider_result_free(result);
    return rc;
}
