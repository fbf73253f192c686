/*
 * bench_overhead.c — orchestration overhead on real DuckDB work. A graph of 1,000
 * assets (chains, a fan-in, a fan-out), each running one small DDL statement on a
 * DuckDB file through the DuckDB resource, materialized by Eider with jobs=1 and
 * jobs=2; beside it, plain C on DuckDB alone: one fresh file, one connection, the same
 * statements in the same topological order. Every measurement gets a fresh file; each
 * is repeated (7 times by default; the cases interleaved) and the median printed.
 *
 *   bench_overhead [--assets N] [--repeat R] [--only raw|1|2]
 *
 * --only runs one case R times and prints its times (for profiling it alone).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <eider.h>

#include "bench_sql.h"
#include "bench_util.h"

typedef struct workload {
    bench_graph graph;
    char **sql;                      /* the statement of each asset */
    char *dir;                       /* scratch folder for the database files */
} workload;

static void workload_init(workload *w, size_t n)
{
    bench_graph_init(&w->graph, n, 20);
    w->sql = bench_sql_statements(&w->graph);
    w->dir = bench_tmpdir("overhead");
}

static void workload_release(workload *w)
{
    bench_sql_free(w->sql, w->graph.n);
    bench_rmdir(w->dir);
    free(w->dir);
    bench_graph_release(&w->graph);
}

/* Raw DuckDB: open, connect once (or, with per_statement, once per statement, as
 * Eider does per step), run every statement in index (topological) order, close. */
static void run_raw(const workload *w, const char *path, int per_statement)
{
    duckdb_database db = NULL;
    duckdb_connection con = NULL;
    duckdb_result res;
    if (duckdb_open(path, &db) == DuckDBError)
        bench_die("raw: cannot open '%s'", path);
    for (size_t i = 0; i < w->graph.n; i++) {
        if (!con && duckdb_connect(db, &con) == DuckDBError)
            bench_die("raw: cannot connect to '%s'", path);
        if (duckdb_query(con, w->sql[i], &res) == DuckDBError)
            bench_die("raw: %s: %s", w->sql[i], duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        if (per_statement)
            duckdb_disconnect(&con);
    }
    duckdb_disconnect(&con);
    duckdb_close(&db);
}

/* Eider: definitions built, validated and materialized. */
static void run_eider(const workload *w, const char *path, int jobs)
{
    eider_result *result = NULL;
    eider_defs *defs = bench_sql_defs(&w->graph, w->sql, path);
    int rc = eider_materialize(defs, &(eider_run_options){ .jobs = jobs }, &result);
    if (rc) {
        long bad = 0;
        while (result && (size_t)bad < eider_result_count(result) &&
               eider_result_status(result, (size_t)bad) == EIDER_STEP_SUCCESS)
            bad++;
        bench_die("eider (jobs=%d): %s: %s", jobs, eider_strerror(rc),
                  result && (size_t)bad < eider_result_count(result)
                      ? eider_result_error(result, (size_t)bad) : eider_defs_errmsg(defs));
    }
    eider_result_free(result);
    eider_defs_free(defs);
}

/* The cases, in the order they run within one repetition. */
enum { RAW, EIDER_J1, EIDER_J2, RAW_PER_STATEMENT, N_CASES };

/* One measurement of one case on a fresh database file: wall seconds, and CPU
 * seconds of every thread into *cpu. */
static double measure(const workload *w, int c, int rep, double *cpu)
{
    char *path = bench_strf("%s/c%d_r%d.duckdb", w->dir, c, rep);
    bench_remove_db(path);
    double t0 = bench_now(), c0 = bench_cpu_now();
    if (c == EIDER_J1 || c == EIDER_J2)
        run_eider(w, path, c == EIDER_J1 ? 1 : 2);
    else
        run_raw(w, path, c == RAW_PER_STATEMENT);
    double s = bench_now() - t0;
    *cpu = bench_cpu_now() - c0;
    bench_remove_db(path);
    free(path);
    return s;
}

typedef struct options {
    size_t n;
    int repeat;
    int only;                        /* -1: every case; else RAW, EIDER_J1 or EIDER_J2 */
} options;

static void parse_args(int argc, char **argv, options *o)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--assets") && i + 1 < argc)
            o->n = (size_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            o->repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            o->only = strcmp(argv[++i], "raw") ? atoi(argv[i]) : RAW;
        else
            bench_die("usage: bench_overhead [--assets N] [--repeat R] [--only raw|1|2]");
    }
    if (o->repeat < 1 || o->repeat > 100)
        bench_die("--repeat must be 1 to 100");
}

/* One case alone, each time printed: what to run under perf or callgrind. */
static void run_only(const workload *w, const options *o)
{
    double cpu = 0;
    if (o->only < RAW || o->only > EIDER_J2)
        bench_die("--only takes raw, 1 or 2");
    for (int r = 0; r < o->repeat; r++) {
        double s = measure(w, o->only, r, &cpu);
        printf("%s: %.6f s wall, %.6f s cpu\n", o->only ? "eider" : "raw", s, cpu);
    }
}

/* Medians of every case, and the fastest and slowest wall time of each. */
typedef struct figures {
    double wall[N_CASES], cpu[N_CASES], min[N_CASES], max[N_CASES];
} figures;

/* Every case `repeat` times, interleaved so that drift (other processes, the disk)
 * hits every case alike, and each repetition starting at the next case, so that no
 * case always runs right after another one's checkpoint; medians into wall[], cpu[]. */
static void measure_all(const workload *w, int repeat, figures *f)
{
    double *ws = bench_xmalloc((size_t)repeat * N_CASES * sizeof(double));
    double *cs = bench_xmalloc((size_t)repeat * N_CASES * sizeof(double));
    double ignored = 0;
    measure(w, RAW, -1, &ignored);  /* warm-up: page cache, DuckDB's first-open costs */
    for (int r = 0; r < repeat; r++)
        for (int k = 0; k < N_CASES; k++) {
            int c = (r + k) % N_CASES;
            ws[c * repeat + r] = measure(w, c, r, &cs[c * repeat + r]);
        }
    for (int c = 0; c < N_CASES; c++) {
        f->wall[c] = bench_median(ws + c * repeat, (size_t)repeat);   /* sorts */
        f->min[c] = ws[c * repeat];
        f->max[c] = ws[c * repeat + repeat - 1];
        f->cpu[c] = bench_median(cs + c * repeat, (size_t)repeat);
    }
    free(ws);
    free(cs);
}

static void print_row(const char *name, const figures *f, int c, const char *target)
{
    char *note = bench_strf("%s; cpu %.3f s vs %.3f s (%.3f)", target, f->cpu[c],
                            f->cpu[RAW], f->cpu[c] / f->cpu[RAW]);
    bench_table_row(name, f->wall[RAW], f->wall[c], note);
    free(note);
}

static void print_table(const workload *w, int repeat, const figures *f)
{
    char *title = bench_strf("bench_overhead: %zu assets (%zu chains of %zu, fan-in of %zu, "
                             "fan-out of %zu), one DDL statement each on a DuckDB file; "
                             "median of %d", w->graph.n, w->graph.chains, w->graph.chain_len,
                             w->graph.chains, w->graph.fanout, repeat);
    bench_table_header(title, "duckdb_open of a fresh file, one connection, the same "
                              "statements in topological order, duckdb_close");
    print_row("eider jobs=1", f, EIDER_J1, "target <= 1.10");
    print_row("eider jobs=2", f, EIDER_J2, "target < 1.00");
    printf("  reference: raw DuckDB with a new connection per statement (as Eider per step): "
           "%.6f s wall (%.3f), %.3f s cpu (%.3f)\n", f->wall[RAW_PER_STATEMENT],
           f->wall[RAW_PER_STATEMENT] / f->wall[RAW], f->cpu[RAW_PER_STATEMENT],
           f->cpu[RAW_PER_STATEMENT] / f->cpu[RAW]);
    printf("  spread (wall min..max): raw %.3f..%.3f, jobs=1 %.3f..%.3f, jobs=2 %.3f..%.3f, "
           "per-statement %.3f..%.3f\n", f->min[RAW], f->max[RAW], f->min[EIDER_J1],
           f->max[EIDER_J1], f->min[EIDER_J2], f->max[EIDER_J2], f->min[RAW_PER_STATEMENT],
           f->max[RAW_PER_STATEMENT]);
    free(title);
}

int main(int argc, char **argv)
{
    options o = { .n = 1000, .repeat = 7, .only = -1 };
    figures f = { 0 };
    parse_args(argc, argv, &o);
    workload w = { 0 };
    workload_init(&w, o.n);
    if (o.only >= 0) {
        run_only(&w, &o);
    } else {
        measure_all(&w, o.repeat, &f);
        print_table(&w, o.repeat, &f);
    }
    workload_release(&w);
    return 0;
}
