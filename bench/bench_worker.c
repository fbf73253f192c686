/*
 * bench_worker.c — what the run worker costs (eider_materialize_worker(), the way
 * `eider materialize` runs): the same run through the worker and in this process
 * (eider_materialize()), interleaved, medians.
 *
 *   first run one run of 1 asset of one DDL statement on a DuckDB file in a new process
 *             (forked from this one before it ever ran DuckDB), as `eider materialize`
 *             runs it: through the worker against in that process, fork to exit both
 *   per run   small runs, unrecorded, many times: 1 no-op asset, 10 no-op assets, and
 *             1 asset of one DDL statement on a DuckDB file (opened and closed by the
 *             run, in the worker or here); the difference is the worker's overhead per
 *             run (fork, the shared ring, waiting for the worker's exit); target <= 2 ms.
 *             A worker starts cold every time, where this process is warm after its
 *             first run: DuckDB's code pages are faulted in and its symbols bound again
 *   10,000    bench_noop's graph of 10,000 no-op assets, recorded into a fresh SQLite
 *             store (eider_store_open to eider_store_close), jobs=1 and jobs=2: every
 *             event crosses the ring; target <= 1.2x the in-process run
 *   command   what a user waits for, the "10,000-asset no-op run within 1.2x of
 *             today": `eider materialize -l defs.so` of 10,000 generated no-op assets,
 *             recorded into a fresh EIDER_HOME, through the run worker against the same
 *             command with --in-process (what every run did before run workers),
 *             jobs=1 and the default; start-up, planning and printing included
 *
 * Beside the wall times, CPU time (this process's and the workers', each worker reaped
 * first): on a shared machine wall times jump with the neighbours' load, while the CPU
 * a run costs is steadier.
 *
 *   bench_worker [--runs N] [--assets N] [--repeat R]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <eider.h>

#include "bench_defs.h"
#include "bench_util.h"

static int noop(eider_context *ctx)
{
    (void)ctx;
    return 0;
}

static int ddl(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "db"),
                     "CREATE OR REPLACE TABLE t AS SELECT 42 AS x");
}

typedef int (*materialize_fn)(eider_defs *, const eider_run_options *, eider_result **);

/* CPU seconds of this process and of its reaped children. */
static double cpu_all(void)
{
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
                    kids.ru_stime.tv_sec) +
           (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec +
                    kids.ru_stime.tv_usec) / 1e6;
}

/* A run's wall and CPU seconds. A worker left exiting is reaped (outside the wall
 * time), so that its CPU counts. */
typedef struct cost {
    double wall, cpu;
} cost;

static cost timed_run(materialize_fn fn, eider_defs *defs, const eider_run_options *o)
{
    double c0 = cpu_all(), t0 = bench_now();
    int rc = fn(defs, o, NULL);
    double wall = bench_now() - t0;
    if (rc)
        bench_die("run failed: %s: %s", eider_strerror(rc), eider_defs_errmsg(defs));
    while (wait(NULL) > 0)
        ;
    return (cost){ wall, cpu_all() - c0 };
}

/* The medians of n costs, as "cpu A ms in process, B ms with the worker". */
static void medians(cost *here, cost *worker, size_t n, double *h, double *w, double *hc, double *wc)
{
    double *v = bench_xmalloc(4 * n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        v[i] = here[i].wall;
        v[n + i] = worker[i].wall;
        v[2 * n + i] = here[i].cpu;
        v[3 * n + i] = worker[i].cpu;
    }
    *h = bench_median(v, n);
    *w = bench_median(v + n, n);
    *hc = bench_median(v + 2 * n, n);
    *wc = bench_median(v + 3 * n, n);
    free(v);
}

static eider_defs *graph_defs(const bench_graph *g)
{
    eider_defs *defs = eider_defs_new();
    for (size_t i = 0; i < g->n; i++)
        eider_asset(defs, &(eider_asset_def){ .key = g->keys[i], .compute = noop,
                                              .deps = g->deps[i] });
    if (eider_defs_validate(defs))
        bench_die("eider_defs_validate: %s", eider_defs_errmsg(defs));
    return defs;
}

static eider_defs *small_defs(size_t n, const char *database)
{
    eider_defs *defs = eider_defs_new();
    char key[32];
    if (database)
        eider_duckdb_resource(defs, "db", &(eider_duckdb_config){ .database = database });
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "a_%zu", i);
        eider_asset(defs, &(eider_asset_def){ .key = key, .compute = database ? ddl : noop });
    }
    if (eider_defs_validate(defs))
        bench_die("eider_defs_validate: %s", eider_defs_errmsg(defs));
    return defs;
}

/* runs runs of defs each way, interleaved, or (apart) every worker run first; one table
 * row with the medians. */
static void per_run(const char *name, eider_defs *defs, int runs, int apart)
{
    cost *here = bench_xmalloc((size_t)runs * sizeof(cost));
    cost *worker = bench_xmalloc((size_t)runs * sizeof(cost));
    eider_run_options o = { .jobs = 1 };
    double h, w, hc, wc;
    timed_run(eider_materialize_worker, defs, &o);       /* warm-up */
    for (int i = 0; apart && i < runs; i++)
        worker[i] = timed_run(eider_materialize_worker, defs, &o);
    timed_run(eider_materialize, defs, &o);
    for (int i = 0; i < runs; i++) {
        here[i] = timed_run(eider_materialize, defs, &o);
        if (!apart)
            worker[i] = timed_run(eider_materialize_worker, defs, &o);
    }
    medians(here, worker, (size_t)runs, &h, &w, &hc, &wc);
    char *note = bench_strf("%.3f ms per run for the worker (target <= 2 ms); cpu %.3f / %.3f ms",
                            (w - h) * 1e3, hc * 1e3, wc * 1e3);
    bench_table_row(name, h, w, note);
    free(note);
    free(here);
    free(worker);
}

/* A run in a new process, forked from this one, to its exit: wall seconds. */
static double first_run(materialize_fn fn, eider_defs *defs)
{
    int status = 0;
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork failed");
    if (pid == 0)
        _exit(fn(defs, &(eider_run_options){ .jobs = 1 }, NULL) ? 1 : 0);
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
        bench_die("a first run failed");
    return bench_now() - t0;
}

/* Before this process runs DuckDB itself: each first run starts as cold as a command. */
static void bench_first_run(int runs)
{
    char *dir = bench_tmpdir("worker-first");
    char *db = bench_strf("%s/w.duckdb", dir);
    eider_defs *sql = small_defs(1, db);
    double *here = bench_xmalloc((size_t)runs * sizeof(double));
    double *worker = bench_xmalloc((size_t)runs * sizeof(double));
    for (int i = 0; i < runs; i++) {
        here[i] = first_run(eider_materialize, sql);
        worker[i] = first_run(eider_materialize_worker, sql);
    }
    double h = bench_median(here, (size_t)runs), w = bench_median(worker, (size_t)runs);
    char *title = bench_strf("bench_worker first run: 1 DDL asset on a file in a new process, "
                             "fork to exit, %d times each way (medians)", runs);
    char *note = bench_strf("%.3f ms per run for the worker (target <= 2 ms)", (w - h) * 1e3);
    bench_table_header(title, "the same run in that process (eider_materialize)");
    bench_table_row("1 DDL asset, first run", h, w, note);
    eider_defs_free(sql);
    bench_remove_db(db);
    bench_rmdir(dir);
    free(here);
    free(worker);
    free(note);
    free(title);
    free(db);
    free(dir);
}

static void bench_per_run(int runs)
{
    char *dir = bench_tmpdir("worker");
    char *db = bench_strf("%s/w.duckdb", dir);
    char *title = bench_strf("bench_worker per run: small unrecorded runs, %d times each way, "
                             "jobs=1 (medians)", runs);
    eider_defs *one = small_defs(1, NULL), *ten = small_defs(10, NULL), *sql = small_defs(1, db);
    bench_table_header(title, "the same run in this process (eider_materialize)");
    per_run("1 no-op asset", one, runs, 0);
    per_run("10 no-op assets", ten, runs, 0);
    /* The workers run first, while this process has not run DuckDB in itself, as in
     * `eider dev`: a worker forked from a process that did inherits DuckDB's freed memory
     * and copies each page of it that it reuses. */
    per_run("1 DDL asset on a file", sql, runs, 1);
    eider_defs_free(one);
    eider_defs_free(ten);
    eider_defs_free(sql);
    bench_remove_db(db);
    bench_rmdir(dir);
    free(db);
    free(dir);
    free(title);
}

/* One recorded run of defs into a fresh store, store_open to store_close. */
static cost recorded_run(materialize_fn fn, eider_defs *defs, int jobs)
{
    char *dir = bench_tmpdir("worker-store");
    eider_store *store = NULL;
    double c0 = cpu_all(), t0 = bench_now();
    if (eider_store_open(dir, &store))
        bench_die("eider_store_open: %s", eider_store_errmsg(store));
    int rc = fn(defs, &(eider_run_options){ .jobs = jobs, .store = store }, NULL);
    eider_store_close(store);
    double t = bench_now() - t0;
    if (rc)
        bench_die("run failed: %s: %s", eider_strerror(rc), eider_defs_errmsg(defs));
    while (wait(NULL) > 0)
        ;
    double cpu = cpu_all() - c0;
    bench_rmdir(dir);
    free(dir);
    return (cost){ t, cpu };
}

static void recorded_row(eider_defs *defs, size_t n, int jobs, int repeat)
{
    cost *here = bench_xmalloc((size_t)repeat * sizeof(cost));
    cost *worker = bench_xmalloc((size_t)repeat * sizeof(cost));
    double h, w, hc, wc;
    recorded_run(eider_materialize_worker, defs, jobs);   /* warm-up */
    for (int i = 0; i < repeat; i++) {
        here[i] = recorded_run(eider_materialize, defs, jobs);
        worker[i] = recorded_run(eider_materialize_worker, defs, jobs);
    }
    medians(here, worker, (size_t)repeat, &h, &w, &hc, &wc);
    char *name = bench_strf("recorded jobs=%d", jobs);
    char *note = bench_strf("%.2f us/asset more (target ratio <= 1.20); cpu %.1f / %.1f ms = %.3f",
                            (w - h) / (double)n * 1e6, hc * 1e3, wc * 1e3, wc / hc);
    bench_table_row(name, h, w, note);
    free(name);
    free(note);
    free(here);
    free(worker);
}

static void bench_recorded(size_t n, int repeat)
{
    bench_graph g;
    bench_graph_init(&g, n, 20);
    eider_defs *defs = graph_defs(&g);
    char *title = bench_strf("bench_worker recorded: %zu no-op assets recorded into a fresh store, "
                             "through the run worker (%d times, medians)", n, repeat);
    bench_table_header(title, "the same recorded run in this process (eider_materialize)");
    recorded_row(defs, n, 1, repeat);
    recorded_row(defs, n, 2, repeat);
    free(title);
    eider_defs_free(defs);
    bench_graph_release(&g);
}

/* ---- the command line ---- */

/* One `eider materialize -l lib` in dir, recorded into a fresh EIDER_HOME; seconds. */
static double command_run(const char *dir, const char *lib, const char *jobs, int in_process)
{
    char *home = bench_strf("%s/home", dir);
    const char *argv[8] = { BENCH_EIDER, "materialize", "-l", lib, "--jobs", jobs, NULL };
    if (in_process)
        argv[6] = "--in-process";
    const char *const env[] = { "EIDER_HOME", home, NULL };
    double t = bench_run(argv, dir, NULL, env);
    bench_rmdir(home);
    free(home);
    return t;
}

static void command_row(const char *dir, const char *lib, const char *jobs, int repeat)
{
    double *here = bench_xmalloc((size_t)repeat * sizeof(double));
    double *worker = bench_xmalloc((size_t)repeat * sizeof(double));
    command_run(dir, lib, jobs, 0);                          /* warm-up */
    for (int i = 0; i < repeat; i++) {
        here[i] = command_run(dir, lib, jobs, 1);
        worker[i] = command_run(dir, lib, jobs, 0);
    }
    double h = bench_median(here, (size_t)repeat), w = bench_median(worker, (size_t)repeat);
    char *name = bench_strf("--jobs %s", jobs);
    char *note = bench_strf("%+.1f ms per run (target ratio <= 1.20)", (w - h) * 1e3);
    bench_table_row(name, h, w, note);
    free(name);
    free(note);
    free(here);
    free(worker);
}

static void bench_command(size_t n, int repeat)
{
    char *dir = bench_tmpdir("worker-cli"), *lib = NULL, *out = bench_strf("%s/out.txt", dir);
    bench_defs_library(dir, n, 1, &lib);
    bench_run((const char *const[]){ BENCH_EIDER, "materialize", "-l", lib, NULL }, dir, out,
              (const char *const[]){ "EIDER_STORAGE", "none", NULL });
    if (bench_count_lines(out) < n)
        bench_die("'eider materialize' printed fewer lines than its %zu assets", n);
    char *title = bench_strf("bench_worker command: `eider materialize -l defs.so` of %zu no-op "
                             "assets, recorded into a fresh EIDER_HOME (stdout to /dev/null; "
                             "%d times, medians)", n, repeat);
    bench_table_header(title, "the same command with --in-process (no run worker)");
    command_row(dir, lib, "1", repeat);
    command_row(dir, lib, "2", repeat);
    free(title);
    free(out);
    free(lib);
    bench_rmdir(dir);
    free(dir);
}

int main(int argc, char **argv)
{
    int runs = 200, repeat = 5;
    size_t n = 10000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--assets") && i + 1 < argc)
            n = (size_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else
            bench_die("usage: bench_worker [--runs N] [--assets N] [--repeat R]");
    }
    if (runs < 1 || runs > 100000 || repeat < 1 || repeat > 100)
        bench_die("--runs must be 1 to 100000 and --repeat 1 to 100");
    bench_first_run(runs / 4 > 0 ? runs / 4 : 1);
    bench_per_run(runs);
    bench_recorded(n, repeat);
    bench_command(n, repeat * 2 + 1);
    return 0;
}
