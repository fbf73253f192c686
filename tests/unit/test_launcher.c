/*
 * test_launcher.c — the run launcher (eider_launcher_start()): a worker it forks
 * does not inherit a lock that another thread of the caller holds (one forked from
 * the caller does, and hangs); a launched worker's run is the in-process run; crashes,
 * cancel and timeouts reach it; definitions changed after the launcher started, or a
 * launcher that died, give a clear error.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "defs/defs.h"
#include "util/util.h"

static void add(eider_defs *defs, const eider_asset_def *def)
{
    cr_assert_eq(eider_asset(defs, def), EIDER_OK, "%s", eider_defs_errmsg(defs));
}

static void start(const eider_defs *defs)
{
    cr_assert_eq(eider_launcher_start(defs), EIDER_OK, "%s", strerror(errno));
}

/* ---- a lock another thread holds when the worker is forked ---- */

static pthread_mutex_t program_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t held = PTHREAD_COND_INITIALIZER, release = PTHREAD_COND_INITIALIZER;
static int holding, done_holding;

/* Hold program_lock until told to let it go. */
static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&program_lock);
    pthread_mutex_lock(&hold_lock);
    holding = 1;
    pthread_cond_signal(&held);
    while (!done_holding)
        pthread_cond_wait(&release, &hold_lock);
    pthread_mutex_unlock(&hold_lock);
    pthread_mutex_unlock(&program_lock);
    return NULL;
}

static pthread_t hold_program_lock(void)
{
    pthread_t t;
    pthread_create(&t, NULL, holder, NULL);
    pthread_mutex_lock(&hold_lock);
    while (!holding)
        pthread_cond_wait(&held, &hold_lock);
    pthread_mutex_unlock(&hold_lock);
    return t;
}

static void let_go(pthread_t t)
{
    pthread_mutex_lock(&hold_lock);
    done_holding = 1;
    pthread_cond_signal(&release);
    pthread_mutex_unlock(&hold_lock);
    pthread_join(t, NULL);
}

/* An asset that takes the program's lock, as code that logs or allocates takes its
 * library's. */
static int takes_the_lock(eider_context *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&program_lock);
    pthread_mutex_unlock(&program_lock);
    return 0;
}

static eider_defs *lock_defs(void)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "locks", .compute = takes_the_lock, .timeout_s = 1 });
    return defs;
}

Test(launcher, a_launched_worker_does_not_inherit_a_lock_another_thread_holds, .timeout = 60)
{
    eider_defs *defs = lock_defs();
    start(defs);
    pthread_t t = hold_program_lock();
    int rc = eider_materialize_worker(defs, &(eider_run_options){ .timeout_grace_s = 1 }, NULL);
    let_go(t);
    cr_expect_eq(rc, EIDER_OK, "%s: %s", eider_errname(rc), eider_defs_errmsg(defs));
    eider_launcher_stop();
    eider_defs_free(defs);
}

/* What the launcher is for: the same run, its worker forked from this thread, finds
 * the lock taken for ever, and only the timeout's kill ends it. */
Test(launcher, a_worker_forked_here_inherits_the_held_lock_and_hangs, .timeout = 60)
{
    eider_defs *defs = lock_defs();
    pthread_t t = hold_program_lock();
    int rc = eider_materialize_worker(defs, &(eider_run_options){ .timeout_grace_s = 1 }, NULL);
    let_go(t);
    cr_expect_eq(rc, EIDER_ECRASHED, "%s", eider_errname(rc));
    cr_expect(strstr(eider_defs_errmsg(defs), "timed out"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

/* ---- a launched run is the run ---- */

static int logs_and_reports(eider_context *ctx)
{
    eider_log(ctx, EIDER_LOG_INFO, "one");
    eider_add_meta_int(ctx, "rows", 7);
    eider_add_meta_text(ctx, "note", "seven");
    return eider_sql(ctx, eider_duckdb_connection(ctx, "db"), "CREATE TABLE a AS SELECT 1 AS x");
}

static int bad_sql(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "db"), "SELECT * FROM no_such_table");
}

static int ok(eider_context *ctx)
{
    (void)ctx;
    return 0;
}

static int segfaults(eider_context *ctx)
{
    eider_log(ctx, EIDER_LOG_INFO, "before the crash");
    raise(SIGSEGV);
    return 0;
}

static int sleeps(eider_context *ctx)
{
    (void)ctx;
    for (;;)
        pause();
    return 0;
}

static int long_query(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "db"),
                     "SELECT count(*) FROM range(1000000000000)");
}

static eider_defs *run_defs(void)
{
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_duckdb_resource(defs, "db", &(eider_duckdb_config){ .database = ":memory:" }),
                 EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "a", .compute = logs_and_reports });
    add(defs, &(eider_asset_def){ .key = "b", .compute = bad_sql, .deps = EIDER_KEYS("a") });
    add(defs, &(eider_asset_def){ .key = "c", .compute = ok, .deps = EIDER_KEYS("b") });
    add(defs, &(eider_asset_def){ .key = "d", .compute = ok });
    return defs;
}

Test(launcher, a_launched_run_has_the_in_process_result)
{
    eider_defs *defs = run_defs();
    eider_result *in = NULL, *out = NULL;
    start(defs);
    int rc_in = eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &in);
    int rc_out = eider_materialize_worker(defs, &(eider_run_options){ .jobs = 1, .run_id = "L1",
                                          .selection = "a*" }, &out);
    cr_assert_eq(rc_in, EIDER_ERUNFAILED);
    cr_assert_eq(rc_out, rc_in, "%s", eider_defs_errmsg(defs));
    cr_expect_str_eq(eider_result_run_id(out), "L1");
    cr_assert_eq(eider_result_count(out), 3);
    for (size_t i = 0; i < 3; i++) {
        long j = eider_result_find(in, eider_result_key(out, i));
        cr_assert_geq(j, 0);
        cr_expect_eq(eider_result_status(out, i), eider_result_status(in, (size_t)j));
    }
    size_t a = (size_t)eider_result_find(out, "a"), n = 0;
    const eider_meta *m = eider_result_metadata(out, a, &n);
    cr_expect_geq(n, 2);
    cr_expect(n >= 1 && strcmp(m[0].key, "rows") == 0 && m[0].i == 7);
    cr_expect(strstr(eider_result_log(out, a), "one"));
    cr_expect(strstr(eider_result_error(out, (size_t)eider_result_find(out, "b")), "no_such_table"));
    eider_result_free(in);
    eider_result_free(out);
    eider_launcher_stop();
    eider_defs_free(defs);
}

Test(launcher, a_crash_in_a_launched_worker_names_the_asset_and_signal)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "good", .compute = ok });
    add(defs, &(eider_asset_def){ .key = "bad", .compute = segfaults, .deps = EIDER_KEYS("good") });
    start(defs);
    int rc = eider_materialize_worker(defs, &(eider_run_options){ .jobs = 2 }, &r);
    cr_assert_eq(rc, EIDER_ECRASHED, "%s", eider_errname(rc));
    cr_expect_str_eq(eider_defs_errmsg(defs), "asset 'bad' crashed the run worker with SIGSEGV (signal 11)");
    size_t bad = (size_t)eider_result_find(r, "bad");
    cr_expect(strstr(eider_result_log(r, bad), "before the crash"));
    eider_result_free(r);
    eider_launcher_stop();
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

Test(launcher, cancel_reaches_a_launched_worker, .timeout = 60)
{
    eider_defs *defs = eider_defs_new();
    pthread_t t;
    cr_assert_eq(eider_duckdb_resource(defs, "db", &(eider_duckdb_config){ .database = ":memory:" }),
                 EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "slow", .compute = long_query });
    start(defs);
    pthread_create(&t, NULL, cancel_soon, NULL);
    int rc = eider_materialize_worker(defs, &(eider_run_options){ .cancel = &cancel_flag }, NULL);
    pthread_join(t, NULL);
    cr_expect_eq(rc, EIDER_ECANCELED, "%s", eider_errname(rc));
    eider_launcher_stop();
    eider_defs_free(defs);
}

Test(launcher, a_timeout_kills_a_launched_worker, .timeout = 60)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "stuck", .compute = sleeps, .timeout_s = 0.3 });
    start(defs);
    double t0 = eider__mono_s();
    int rc = eider_materialize_worker(defs, &(eider_run_options){ .timeout_grace_s = 0.3 }, NULL);
    cr_expect_eq(rc, EIDER_ECRASHED, "%s", eider_errname(rc));
    cr_expect(strstr(eider_defs_errmsg(defs), "asset 'stuck' timed out after 0.3 s"), "%s",
              eider_defs_errmsg(defs));
    cr_expect_lt(eider__mono_s() - t0, 10);
    eider_launcher_stop();
    eider_defs_free(defs);
}

/* ---- what the launcher cannot run ---- */

Test(launcher, definitions_changed_after_the_start_are_refused_clearly)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "first", .compute = ok });
    start(defs);
    add(defs, &(eider_asset_def){ .key = "second", .compute = ok });
    int rc = eider_materialize_worker(defs, NULL, NULL);
    cr_expect_eq(rc, EIDER_ELOAD, "%s", eider_errname(rc));
    cr_expect(strstr(eider_defs_errmsg(defs), "the definitions changed"), "%s", eider_defs_errmsg(defs));
    eider_launcher_stop();
    eider_defs_free(defs);
}

Test(launcher, other_definitions_of_the_program_are_forked_here)
{
    eider_defs *own = eider_defs_new(), *other = eider_defs_new();
    add(own, &(eider_asset_def){ .key = "own", .compute = ok });
    add(other, &(eider_asset_def){ .key = "other", .compute = ok });
    start(own);
    eider_result *r = NULL;
    int rc = eider_materialize_worker(other, NULL, &r);
    cr_expect_eq(rc, EIDER_OK, "%s", eider_defs_errmsg(other));
    cr_expect_eq(eider_result_count(r), 1);
    eider_result_free(r);
    eider_launcher_stop();
    eider_defs_free(own);
    eider_defs_free(other);
}

Test(launcher, a_second_start_is_refused_and_a_stop_allows_another)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "x", .compute = ok });
    start(defs);
    cr_expect_eq(eider_launcher_start(defs), EIDER_EINVAL);
    eider_launcher_stop();
    eider_launcher_stop();                 /* none runs: nothing */
    start(defs);
    cr_expect_eq(eider_materialize_worker(defs, NULL, NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    eider_launcher_stop();
    eider_defs_free(defs);
}

/* The pid of this process's child called name, or -1. */
static pid_t child_named(const char *name)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = -1;
    while (d && found < 0 && (e = readdir(d))) {
        char path[300], comm[64] = "";
        int ppid = 0;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fscanf(f, "%*d (%63[^)]) %*c %d", comm, &ppid) == 2 && ppid == getpid() &&
            strcmp(comm, name) == 0)
            found = (pid_t)atoi(e->d_name);
        fclose(f);
    }
    if (d)
        closedir(d);
    return found;
}

Test(launcher, a_dead_launcher_fails_the_run_saying_so)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "x", .compute = ok });
    start(defs);
    pid_t pid = -1;
    for (int i = 0; i < 100 && pid < 0; i++, eider__sleep_ms(10))
        pid = child_named("eider-launcher");
    cr_assert_gt(pid, 0, "no child process called eider-launcher");
    kill(pid, SIGKILL);
    eider__sleep_ms(100);
    int rc = eider_materialize_worker(defs, NULL, NULL);
    cr_expect_eq(rc, EIDER_EERROR, "%s", eider_errname(rc));
    cr_expect(strstr(eider_defs_errmsg(defs), "the run launcher (process"), "%s", eider_defs_errmsg(defs));
    eider_launcher_stop();
    eider_defs_free(defs);
}
