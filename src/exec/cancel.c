/*
 * cancel.c — canceling a run, and timing out a step: a thread watches the caller's
 * flag (a signal handler may set it, so nothing else can be done from there), and when
 * it turns nonzero, marks the run canceled, interrupts every live DuckDB connection,
 * and wakes the workers so that no further step starts. It also watches the deadline
 * of each running attempt whose asset has a timeout, and once it has passed, marks the
 * step timed out and interrupts that step's connections.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>

#include "exec.h"

#define WATCH_INTERVAL_MS 20

int eider__run_canceled(eider__run *run)
{
    if (atomic_load(&run->canceled))
        return 1;
    if (run->cancel && atomic_load(run->cancel)) {
        atomic_store(&run->canceled, 1);
        return 1;
    }
    return 0;
}

static void interrupt_live(eider__run *run)
{
    pthread_mutex_lock(&run->live_lock);
    for (size_t i = 0; i < run->n_live; i++)
        duckdb_interrupt(run->live[i].con);
    pthread_mutex_unlock(&run->live_lock);
}

/* Mark the running steps whose deadline has passed timed out, and interrupt their
 * connections (at every tick, as for a cancel: an interrupt between two queries is
 * forgotten). */
static void interrupt_late(eider__run *run)
{
    double now = eider__mono_s();
    pthread_mutex_lock(&run->live_lock);
    for (size_t i = 0; i < run->n_timed; i++)
        if (now >= run->timed[i]->deadline)
            atomic_store(&run->timed[i]->timed_out, 1);
    for (size_t i = 0; i < run->n_live; i++)
        if (atomic_load(&run->live[i].step->timed_out))
            duckdb_interrupt(run->live[i].con);
    pthread_mutex_unlock(&run->live_lock);
}

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_nsec += (long)ms * 1000000;
    ts->tv_sec += ts->tv_nsec / 1000000000;
    ts->tv_nsec %= 1000000000;
}

/* DuckDB forgets an interrupt that arrives between queries (the next query clears
 * it), so once canceled, the watcher interrupts every live connection again at each
 * tick until the run ends: a query that a step starts late is still stopped. */
static void *watch(void *arg)
{
    eider__run *run = arg;
    struct timespec until;
    int told = 0;
    pthread_mutex_lock(&run->lock);
    while (!run->finished) {
        if (eider__run_canceled(run)) {
            interrupt_live(run);
            if (!told)
                pthread_cond_broadcast(&run->changed);
            told = 1;
        }
        if (run->has_timeouts)
            interrupt_late(run);
        deadline_in(&until, WATCH_INTERVAL_MS);
        pthread_cond_timedwait(&run->changed, &run->lock, &until);
    }
    pthread_mutex_unlock(&run->lock);
    return NULL;
}

void eider__watch_start(eider__run *run)
{
    pthread_mutex_init(&run->live_lock, NULL);
    if (run->cancel || run->has_timeouts)
        run->watching = pthread_create(&run->watcher, NULL, watch, run) == 0;
}

void eider__watch_stop(eider__run *run)
{
    pthread_mutex_lock(&run->lock);
    run->finished = 1;
    pthread_cond_broadcast(&run->changed);
    pthread_mutex_unlock(&run->lock);
    if (run->watching)
        pthread_join(run->watcher, NULL);
    run->watching = 0;
    pthread_mutex_destroy(&run->live_lock);
    free(run->live);
    run->live = NULL;
    run->n_live = run->cap_live = 0;
    free(run->timed);
    run->timed = NULL;
    run->n_timed = run->cap_timed = 0;
}

void eider__live_add(eider__run *run, eider__step *step, duckdb_connection con)
{
    pthread_mutex_lock(&run->live_lock);
    EIDER__GROW(run->live, run->cap_live, run->n_live + 1);
    run->live[run->n_live++] = (eider__live){ con, step };
    pthread_mutex_unlock(&run->live_lock);
}

void eider__deadline_start(eider__run *run, eider__step *step, double timeout_s)
{
    pthread_mutex_lock(&run->live_lock);
    atomic_store(&step->timed_out, 0);
    step->deadline = eider__mono_s() + timeout_s;
    EIDER__GROW(run->timed, run->cap_timed, run->n_timed + 1);
    run->timed[run->n_timed++] = step;
    pthread_mutex_unlock(&run->live_lock);
}

void eider__deadline_stop(eider__run *run, eider__step *step)
{
    pthread_mutex_lock(&run->live_lock);
    for (size_t i = 0; i < run->n_timed; i++)
        if (run->timed[i] == step) {
            run->timed[i] = run->timed[--run->n_timed];
            break;
        }
    step->deadline = 0;
    pthread_mutex_unlock(&run->live_lock);
}

void eider__live_remove(eider__run *run, duckdb_connection con)
{
    pthread_mutex_lock(&run->live_lock);
    for (size_t i = 0; i < run->n_live; i++)
        if (run->live[i].con == con) {
            run->live[i] = run->live[--run->n_live];
            break;
        }
    pthread_mutex_unlock(&run->live_lock);
}
