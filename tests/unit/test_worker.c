/*
 * test_worker.c — eider_materialize_worker() against eider_materialize(): the same
 * result and the same events from a run worker; a crash in the worker returns
 * EIDER_ECRASHED naming the asset; cancel reaches the worker. And per-asset timeouts,
 * in process: the query is interrupted at the deadline, later SQL is refused, the step
 * fails "timed out".
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "defs/defs.h"
#include "util/util.h"

static void add(eider_defs *defs, const eider_asset_def *def)
{
    cr_assert_eq(eider_asset(defs, def), EIDER_OK, "%s", eider_defs_errmsg(defs));
}

static int logs_and_reports(eider_context *ctx)
{
    eider_log(ctx, EIDER_LOG_INFO, "one");
    eider_log(ctx, EIDER_LOG_WARN, "two: %d", 2);
    eider_add_meta_int(ctx, "rows", 7);
    eider_add_meta_text(ctx, "note", "seven");
    eider_add_meta_float(ctx, "ratio", 0.5);
    eider_add_meta_int(ctx, "rows", 8);     /* replaces */
    return eider_sql(ctx, eider_duckdb_connection(ctx, "db"), "CREATE TABLE a AS SELECT 1 AS x");
}

static int bad_sql(eider_context *ctx)
{
    eider_log(ctx, EIDER_LOG_ERROR, "about to fail");
    return eider_sql(ctx, eider_duckdb_connection(ctx, "db"), "SELECT * FROM no_such_table");
}

static int ok(eider_context *ctx)
{
    (void)ctx;
    return 0;
}

static int second_time_lucky(eider_context *ctx)
{
    eider_add_meta_int(ctx, "attempt", eider_attempt(ctx));
    return eider_attempt(ctx) < 2 ? eider_fail(ctx, "attempt %d fails", eider_attempt(ctx)) : 0;
}

static int segfaults(eider_context *ctx)
{
    eider_log(ctx, EIDER_LOG_INFO, "before the crash");
    raise(SIGSEGV);
    return 0;
}

static int long_query(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "db"),
                     "SELECT count(*) FROM range(1000000000000)");
}

static int sleeps_then_sql(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "db");
    eider__sleep_ms(800);
    return eider_sql(ctx, con, "SELECT 1");
}

static eider_defs *mixed_defs(void)
{
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_duckdb_resource(defs, "db", &(eider_duckdb_config){ .database = ":memory:" }),
                 EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "a", .compute = logs_and_reports });
    add(defs, &(eider_asset_def){ .key = "b", .compute = bad_sql, .deps = EIDER_KEYS("a") });
    add(defs, &(eider_asset_def){ .key = "c", .compute = ok, .deps = EIDER_KEYS("b") });
    add(defs, &(eider_asset_def){ .key = "d", .compute = second_time_lucky,
                                  .retry = { .max_retries = 2 } });
    return defs;
}

/* A log without its timestamps (they differ from run to run). */
static char *untimed(const char *log)
{
    eider__buf out = { 0 };
    for (const char *line = log; *line;) {
        size_t len = strcspn(line, "\n");
        const char *text = memchr(line, ' ', len);
        eider__buf_add(&out, text ? text : line, text ? len - (size_t)(text - line) : len);
        eider__buf_putc(&out, '\n');
        line += len + (line[len] == '\n');
    }
    return eider__buf_detach(&out);
}

static void expect_same_step(const eider_result *x, const eider_result *y, size_t i)
{
    const char *key = eider_result_key(x, i);
    size_t nx = 0, ny = 0;
    cr_expect_str_eq(key, eider_result_key(y, i));
    cr_expect_eq(eider_result_status(x, i), eider_result_status(y, i), "status of '%s'", key);
    cr_expect_eq(eider_result_attempts(x, i), eider_result_attempts(y, i), "attempts of '%s'", key);
    cr_expect_eq(!eider_result_error(x, i), !eider_result_error(y, i), "error of '%s'", key);
    if (eider_result_error(x, i) && eider_result_error(y, i))
        cr_expect_str_eq(eider_result_error(x, i), eider_result_error(y, i));
    cr_expect_eq(!eider_result_sql(x, i), !eider_result_sql(y, i), "sql of '%s'", key);
    if (eider_result_sql(x, i) && eider_result_sql(y, i))
        cr_expect_str_eq(eider_result_sql(x, i), eider_result_sql(y, i));
    char *lx = untimed(eider_result_log(x, i)), *ly = untimed(eider_result_log(y, i));
    cr_expect_str_eq(lx, ly, "log of '%s'", key);
    free(lx);
    free(ly);
    const eider_meta *mx = eider_result_metadata(x, i, &nx), *my = eider_result_metadata(y, i, &ny);
    cr_assert_eq(nx, ny, "metadata of '%s': %zu and %zu entries", key, nx, ny);
    for (size_t m = 0; m < nx; m++) {
        cr_expect_str_eq(mx[m].key, my[m].key);
        cr_expect_eq(mx[m].type, my[m].type);
        cr_expect_eq(mx[m].i, my[m].i);
        cr_expect_eq(mx[m].f, my[m].f);
        cr_expect_eq(!mx[m].text, !my[m].text);
        if (mx[m].text && my[m].text)
            cr_expect_str_eq(mx[m].text, my[m].text);
    }
    cr_expect_eq(eider_result_duration(x, i) > 0, eider_result_duration(y, i) > 0);
}

Test(worker, result_equals_the_in_process_result)
{
    eider_defs *defs = mixed_defs();
    eider_result *in = NULL, *out = NULL;
    eider_run_options o = { .jobs = 1 };
    int rc_in = eider_materialize(defs, &o, &in);
    int rc_out = eider_materialize_worker(defs, &o, &out);
    cr_assert_eq(rc_in, EIDER_ERUNFAILED);
    cr_assert_eq(rc_out, rc_in, "%s", eider_defs_errmsg(defs));
    cr_assert_eq(eider_result_count(out), eider_result_count(in));
    for (size_t i = 0; i < eider_result_count(in); i++)
        expect_same_step(in, out, i);
    cr_expect_str_neq((char *)eider_result_run_id(in), (char *)eider_result_run_id(out));
    eider_result_free(in);
    eider_result_free(out);
    eider_defs_free(defs);
}

/* The event types a sink saw, as a string of letters ('a' + type). */
typedef struct seen {
    char types[256];
    size_t n;
    char run_id[64];
} seen;

static void note(const eider_event *ev, void *user_data)
{
    seen *s = user_data;
    if (s->n + 1 < sizeof(s->types))
        s->types[s->n++] = (char)('a' + ev->type);
    snprintf(s->run_id, sizeof(s->run_id), "%s", ev->run_id);
}

Test(worker, events_reach_the_sink_in_order_with_the_run_id)
{
    eider_defs *defs = mixed_defs();
    seen in = { 0 }, out = { 0 };
    eider_result *r = NULL;
    eider_materialize(defs, &(eider_run_options){ .jobs = 1, .sink = &(eider_event_sink){ note, &in } },
                      NULL);
    eider_materialize_worker(defs, &(eider_run_options){ .jobs = 1, .run_id = "w1",
                             .sink = &(eider_event_sink){ note, &out } }, &r);
    cr_expect_str_eq(out.types, in.types);
    cr_expect_str_eq(out.run_id, "w1");
    cr_expect_str_eq(eider_result_run_id(r), "w1");
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(worker, crash_returns_ecrashed_naming_the_asset_and_signal)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "good", .compute = ok });
    add(defs, &(eider_asset_def){ .key = "bad", .compute = segfaults, .deps = EIDER_KEYS("good") });
    add(defs, &(eider_asset_def){ .key = "after", .compute = ok, .deps = EIDER_KEYS("bad") });
    int rc = eider_materialize_worker(defs, &(eider_run_options){ .jobs = 2 }, &r);
    cr_assert_eq(rc, EIDER_ECRASHED, "%s", eider_errname(rc));
    cr_expect_str_eq(eider_defs_errmsg(defs), "asset 'bad' crashed the run worker with SIGSEGV (signal 11)");
    cr_expect_eq(eider_result_status(r, (size_t)eider_result_find(r, "good")), EIDER_STEP_SUCCESS);
    size_t bad = (size_t)eider_result_find(r, "bad");
    cr_expect_eq(eider_result_status(r, bad), EIDER_STEP_FAILED);
    cr_expect(strstr(eider_result_log(r, bad), "before the crash"));
    cr_expect_eq(eider_result_status(r, (size_t)eider_result_find(r, "after")), EIDER_STEP_SKIPPED);
    eider_result_free(r);
    eider_defs_free(defs);
}

static eider_atomic_int cancel_flag;

static void *cancel_soon(void *arg)
{
    (void)arg;
    eider__sleep_ms(300);
    atomic_store(&cancel_flag, 1);
    return NULL;
}

Test(worker, cancel_flag_reaches_the_worker)
{
    eider_defs *defs = eider_defs_new();
    pthread_t t;
    cr_assert_eq(eider_duckdb_resource(defs, "db", &(eider_duckdb_config){ .database = ":memory:" }),
                 EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "slow", .compute = long_query });
    pthread_create(&t, NULL, cancel_soon, NULL);
    double t0 = eider__mono_s();
    int rc = eider_materialize_worker(defs, &(eider_run_options){ .cancel = &cancel_flag }, NULL);
    pthread_join(t, NULL);
    cr_expect_eq(rc, EIDER_ECANCELED, "%s", eider_errname(rc));
    cr_expect_lt(eider__mono_s() - t0, 10);
    eider_defs_free(defs);
}

/* SIGTERM to the worker's own process, then a long query: the worker's SIGTERM
 * handler cancels the run, and the query is interrupted. */
static int terminates_itself(eider_context *ctx)
{
    kill(getpid(), SIGTERM);
    return long_query(ctx);
}

/* eider dev takes SIGINT and SIGTERM with sigwait(), blocked in every thread: a worker
 * forked from such a thread must not inherit the mask, or SIGTERM never reaches it. */
Test(worker, a_worker_forked_where_sigterm_is_blocked_still_takes_it, .timeout = 30)
{
    eider_defs *defs = eider_defs_new();
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, &old);
    cr_assert_eq(eider_duckdb_resource(defs, "db", &(eider_duckdb_config){ .database = ":memory:" }),
                 EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "slow", .compute = terminates_itself });
    double t0 = eider__mono_s();
    int rc = eider_materialize_worker(defs, NULL, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    cr_expect_eq(rc, EIDER_ECANCELED, "%s", eider_errname(rc));
    cr_expect_lt(eider__mono_s() - t0, 10);
    eider_defs_free(defs);
}

/* ---- timeouts, in process ---- */

static eider_defs *timed_defs(eider_compute_fn fn, double timeout_s)
{
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_duckdb_resource(defs, "db", &(eider_duckdb_config){ .database = ":memory:" }),
                 EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "slow", .compute = fn, .timeout_s = timeout_s });
    add(defs, &(eider_asset_def){ .key = "quick", .compute = ok, .timeout_s = timeout_s });
    return defs;
}

Test(timeout, query_past_the_deadline_is_interrupted_and_the_step_fails)
{
    eider_defs *defs = timed_defs(long_query, 0.5);
    eider_result *r = NULL;
    double t0 = eider__mono_s();
    int rc = eider_materialize(defs, &(eider_run_options){ .jobs = 2 }, &r);
    cr_expect_lt(eider__mono_s() - t0, 10);
    cr_assert_eq(rc, EIDER_ERUNFAILED);
    size_t i = (size_t)eider_result_find(r, "slow");
    cr_expect_eq(eider_result_status(r, i), EIDER_STEP_FAILED);
    cr_expect(strncmp(eider_result_error(r, i), "timed out after 0.5 s", 21) == 0, "%s",
              eider_result_error(r, i));
    cr_expect_eq(eider_result_status(r, (size_t)eider_result_find(r, "quick")), EIDER_STEP_SUCCESS);
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(timeout, sql_after_the_deadline_is_refused_and_the_step_fails)
{
    eider_defs *defs = timed_defs(sleeps_then_sql, 0.2);
    eider_result *r = NULL;
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_ERUNFAILED);
    size_t i = (size_t)eider_result_find(r, "slow");
    cr_expect_str_eq(eider_result_error(r, i), "timed out after 0.2 s (the step timed out)");
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(timeout, negative_timeout_is_refused)
{
    eider_defs *defs = eider_defs_new();
    cr_expect_eq(eider_asset(defs, &(eider_asset_def){ .key = "x", .compute = ok, .timeout_s = -1 }),
                 EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "timeout_s"));
    eider_defs_free(defs);
}

/* ---- timeouts in the worker ---- */

static int sleeps(eider_context *ctx)
{
    (void)ctx;
    eider__sleep_ms(3000);
    return 0;
}

static int fails_first_quickly(eider_context *ctx)
{
    return eider_attempt(ctx) < 2 ? eider_fail(ctx, "not yet") : 0;
}

Test(worker, code_past_timeout_and_grace_gets_the_worker_killed)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "sleepy", .compute = sleeps, .timeout_s = 0.2 });
    double t0 = eider__mono_s();
    int rc = eider_materialize_worker(defs, &(eider_run_options){ .timeout_grace_s = 0.3 }, &r);
    cr_expect_lt(eider__mono_s() - t0, 2.5);
    cr_assert_eq(rc, EIDER_ECRASHED, "%s", eider_errname(rc));
    cr_expect_str_eq(eider_result_error(r, 0), "asset 'sleepy' timed out after 0.2 s and did not "
                     "return within the 0.3 s grace: the run worker was killed with SIGKILL (signal 9)");
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(worker, the_pause_before_a_retry_is_not_past_the_timeout)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "patient", .compute = fails_first_quickly,
                                  .timeout_s = 0.2, .retry = { .max_retries = 1, .delay_ms = 1200 } });
    int rc = eider_materialize_worker(defs, &(eider_run_options){ .timeout_grace_s = 0.3 }, NULL);
    cr_expect_eq(rc, EIDER_OK, "%s: %s", eider_errname(rc), eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

/* A program whose SIGCHLD handler reaps every child takes the worker's status away:
 * the run still ends, crashed, naming the asset, instead of waiting forever. */
static void reap_all(int sig)
{
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

Test(worker, a_worker_reaped_by_someone_else_still_ends_the_run, .timeout = 20)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "bad", .compute = segfaults });
    signal(SIGCHLD, reap_all);
    int rc = eider_materialize_worker(defs, NULL, &r);
    signal(SIGCHLD, SIG_DFL);
    cr_assert_eq(rc, EIDER_ECRASHED, "%s", eider_errname(rc));
    cr_expect(strstr(eider_defs_errmsg(defs), "asset 'bad'"), "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_result_status(r, 0), EIDER_STEP_FAILED);
    eider_result_free(r);
    eider_defs_free(defs);
}

/* Deep enough to overflow a thread's stack, in frames small enough that no signal
 * frame fits in what is left of it when it faults. */
static int recurse(volatile int n)
{
    volatile char pad[32];
    pad[n % 32] = (char)n;
    return n < 0 ? 0 : recurse(n + 1) + pad[n % 32];
}

static int overflows(eider_context *ctx)
{
    (void)ctx;
    eider__sleep_ms(200);            /* while "patient" runs beside it */
    return recurse(1);
}

static int waits(eider_context *ctx)
{
    (void)ctx;
    eider__sleep_ms(3000);
    return 0;
}

Test(worker, stack_overflow_on_a_pool_thread_names_its_asset_among_several, .timeout = 30)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "deep", .compute = overflows });
    add(defs, &(eider_asset_def){ .key = "patient", .compute = waits });
    int rc = eider_materialize_worker(defs, &(eider_run_options){ .jobs = 2 }, NULL);
    cr_assert_eq(rc, EIDER_ECRASHED, "%s", eider_errname(rc));
    cr_expect_str_eq(eider_defs_errmsg(defs), "asset 'deep' crashed the run worker with SIGSEGV (signal 11)");
    eider_defs_free(defs);
}
