/*
 * bench_checks.c — asset checks against raw DuckDB running the same SQL. A database
 * file, made once outside the clock, holds s.t and s.src, each N rows of (id BIGINT,
 * x DOUBLE, a VARCHAR, status VARCHAR, one of 3 values).
 *
 *   checks    each side starts from a copy of that file (made outside the clock) and
 *             is timed from opening it to closing it:
 *               raw    duckdb_open, then the queries the built-in checks run, one
 *                      after the other, as src/exec/check.c writes them: the count of
 *                      the failing rows of not_null(id, a), unique(id) and
 *                      accepted_values(status in the 3 values), and row_count's
 *                      count(*); then close;
 *               eider  eider_materialize() of one asset "s/t" that declares a DuckDB
 *                      resource on the file and whose compute does nothing (the table
 *                      is there), with those 4 checks declared on it by
 *                      eider_asset_check(): Eider opens the file, runs the checks on
 *                      "s"."t" after the compute, records their outcomes, closes it.
 *             Both must find no failing row and N rows. Medians of --repeat.
 *   blocking  peak memory of an asset "s/t" stored by the DuckDB I/O manager (it
 *             replaces s.t) whose output is
 *             eider_output_sql(ctx, "SELECT * FROM s.src"), with a blocking
 *             not_null(id, a) check (run inside the write's transaction, on the table
 *             about to be published) and without checks. Each run is one
 *             eider_materialize() in a forked child from a fresh copy of the file; the
 *             growth of the child's peak RSS (VmHWM) over its RSS at the start, and
 *             its wall time, are reported (medians of --repeat, interleaved). The
 *             check must add no second copy of the rows: the growth with it is at
 *             most the growth without it plus a tenth of the rows' size (as a frame
 *             would hold them). It runs first, and the file is made in a child too,
 *             so that the children fork from a process that has not run DuckDB.
 *
 *   bench_checks [--rows N] [--repeat R] [--only checks|blocking]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <eider.h>

#include "bench_util.h"

#define MB (1024.0 * 1024.0)
#define N_CHECKS 4

/* ---- the data ------------------------------------------------------------------- */

/* The first value of sql, a BIGINT. */
static int64_t int64_of(duckdb_connection con, const char *sql)
{
    duckdb_result res;
    int64_t v = 0;
    if (duckdb_query(con, sql, &res) == DuckDBError)
        bench_die("raw DuckDB: %s: %s", duckdb_result_error(&res), sql);
    duckdb_data_chunk c = duckdb_fetch_chunk(res);
    if (!c || duckdb_data_chunk_get_size(c) < 1 ||
        duckdb_column_type(&res, 0) != DUCKDB_TYPE_BIGINT)
        bench_die("raw DuckDB: no BIGINT for %s", sql);
    v = ((int64_t *)duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 0)))[0];
    duckdb_destroy_data_chunk(&c);
    duckdb_destroy_result(&res);
    return v;
}

/* Make the file with s.t and s.src; returns the rows' size as a frame would hold
 * them: 8 bytes a row for BIGINT and DOUBLE, 8 bytes of offset a row plus the text
 * and its NUL for each VARCHAR. */
static double make_base(const char *path, size_t n)
{
    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(path, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError)
        bench_die("cannot open %s", path);
    char *t = bench_strf("CREATE TABLE s.t AS SELECT i AS id, CAST(i * 0.5 AS DOUBLE) AS x, "
                         "'a-' || i AS a, ['new', 'paid', 'shipped'][i %% 3 + 1] AS status "
                         "FROM range(%zu) r(i)", n);
    bench_exec(con, "CREATE SCHEMA s");
    bench_exec(con, t);
    bench_exec(con, "CREATE TABLE s.src AS SELECT * FROM s.t");
    bench_exec(con, "CHECKPOINT");
    int64_t text = int64_of(con, "SELECT CAST(sum(length(a) + length(status) + 2) AS BIGINT) "
                                 "FROM s.src");
    free(t);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return (double)n * 32 + (double)text;
}

/* make_base() in a forked child, so that this process has run no DuckDB before the
 * memory measurements (memory an allocator kept would hide a child's growth). */
typedef struct base_args {
    const char *path;
    size_t n;
} base_args;

static void make_base_in_child(void *arg, void *out)
{
    const base_args *b = arg;
    *(double *)out = make_base(b->path, b->n);
}

static double make_base_apart(const char *path, size_t n)
{
    double size = -1;
    base_args b = { path, n };
    if (bench_apart(make_base_in_child, &b, &size, sizeof(size)) || size < 0)
        bench_die("cannot make %s", path);
    return size;
}

/* ---- checks: the built-in checks' SQL, raw and through Eider -------------------- */

/* The queries Eider runs for the 4 checks, in their order, over the table s.t of the
 * database whose catalog is catalog (DuckDB names a file's catalog after its base
 * name): the count of each kind's failing rows, and row_count's count. malloc'd. */
static void check_queries(const char *catalog, char *sql[N_CHECKS])
{
    char *rel = bench_strf("\"%s\".\"s\".\"t\"", catalog);
    sql[0] = bench_strf("SELECT count(*) FROM (SELECT * FROM %s AS t WHERE t.\"id\" IS NULL "
                        "OR t.\"a\" IS NULL) AS \"eider failures\"", rel);
    sql[1] = bench_strf("SELECT count(*) FROM (SELECT t.\"id\", count(*) AS \"eider rows\" "
                        "FROM %s AS t WHERE t.\"id\" IS NOT NULL GROUP BY ALL "
                        "HAVING count(*) > 1) AS \"eider failures\"", rel);
    sql[2] = bench_strf("SELECT count(*) FROM (SELECT * FROM %s AS t WHERE t.\"status\" IS NOT "
                        "NULL AND CAST(t.\"status\" AS VARCHAR) NOT IN ('new', 'paid', "
                        "'shipped')) AS \"eider failures\"", rel);
    sql[3] = bench_strf("SELECT count(*) FROM %s AS t", rel);
    free(rel);
}

/* Wall and CPU seconds of one side's run. */
typedef struct timing {
    double wall, cpu;
} timing;

/* Raw: open, the 4 queries, close. Each count must be what a passing check sees. */
static timing raw_checks(const char *path, char *const sql[N_CHECKS], size_t n)
{
    duckdb_database db;
    duckdb_connection con;
    int64_t got[N_CHECKS] = { 0 };
    double c0 = bench_cpu_now(), t0 = bench_now();
    if (duckdb_open(path, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError)
        bench_die("cannot open %s", path);
    for (int i = 0; i < N_CHECKS; i++)
        got[i] = int64_of(con, sql[i]);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    timing t = { bench_now() - t0, bench_cpu_now() - c0 };
    if (got[0] || got[1] || got[2] || got[3] != (int64_t)n)
        bench_die("raw DuckDB: the checks' queries found %" PRId64 ", %" PRId64 ", %" PRId64
                  " failing rows and %" PRId64 " rows", got[0], got[1], got[2], got[3]);
    return t;
}

/* The asset's compute: its table is already there. */
static int nothing(eider_context *ctx)
{
    (void)ctx;
    return EIDER_OK;
}

/* One asset "s/t" on a DuckDB resource over path, with the 4 checks. */
static eider_defs *checks_defs(const char *path, size_t n)
{
    eider_defs *defs = eider_defs_new();
    const eider_check_range rows = { 1, (int64_t)n };
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = path });
    eider_asset(defs, &(eider_asset_def){ .key = "s/t", .compute = nothing,
                                          .resources = EIDER_KEYS("duckdb") });
    eider_asset_check(defs, &(eider_check_def){ .asset = "s/t",
                                                .not_null = EIDER_KEYS("id", "a") });
    eider_asset_check(defs, &(eider_check_def){ .asset = "s/t", .unique = EIDER_KEYS("id") });
    eider_asset_check(defs, &(eider_check_def){ .asset = "s/t", .column = "status",
        .accepted_values = EIDER_KEYS("new", "paid", "shipped") });
    eider_asset_check(defs, &(eider_check_def){ .asset = "s/t", .row_count = &rows });
    if (eider_defs_validate(defs))
        bench_die("definitions: %s", eider_defs_errmsg(defs));
    return defs;
}

/* Run defs' one asset "s/t"; stop unless it succeeded with n_checks checks, every
 * one passed. Returns the wall time of eider_materialize(). */
static double materialize(eider_defs *defs, size_t n_checks)
{
    eider_result *r = NULL;
    double t0 = bench_now();
    int rc = eider_materialize(defs, NULL, &r);
    double t = bench_now() - t0;
    long i = r ? eider_result_find(r, "s/t") : -1;
    if (rc || i < 0)
        bench_die("the run failed: %s", r && i >= 0 && eider_result_error(r, (size_t)i)
                  ? eider_result_error(r, (size_t)i) : eider_defs_errmsg(defs));
    if (eider_result_check_count(r, (size_t)i) != n_checks)
        bench_die("eider evaluated %zu checks, not %zu", eider_result_check_count(r, (size_t)i),
                  n_checks);
    for (size_t j = 0; j < n_checks; j++) {
        const eider_check_outcome *o = eider_result_check(r, (size_t)i, j);
        if (o->status != EIDER_CHECK_PASSED)
            bench_die("check '%s' %s: %s", o->name, eider_check_status_name(o->status),
                      o->message ? o->message : "");
    }
    eider_result_free(r);
    return t;
}

static timing eider_checks(const char *path, size_t n)
{
    eider_defs *defs = checks_defs(path, n);
    double c0 = bench_cpu_now();
    timing t = { materialize(defs, N_CHECKS), 0 };
    t.cpu = bench_cpu_now() - c0;
    eider_defs_free(defs);
    return t;
}

static void run_checks(const char *dir, const char *base, size_t n, int repeat)
{
    char *raw = bench_strf("%s/raw.duckdb", dir), *ours = bench_strf("%s/eider.duckdb", dir);
    char *sql[N_CHECKS] = { NULL };
    double *v[4];                             /* wall raw, wall eider, CPU raw, CPU eider */
    for (int i = 0; i < 4; i++)
        v[i] = bench_xmalloc(sizeof(double) * (size_t)repeat);
    check_queries("raw", sql);
    for (int r = 0; r < repeat; r++) {        /* interleaved, each from a fresh copy */
        bench_copy_db(base, raw);
        timing a = raw_checks(raw, sql, n);
        bench_copy_db(base, ours);
        timing b = eider_checks(ours, n);
        v[0][r] = a.wall;
        v[1][r] = b.wall;
        v[2][r] = a.cpu;
        v[3][r] = b.cpu;
    }
    char *title = bench_strf("bench_checks: not_null(id, a), unique(id), accepted_values(status), "
                             "row_count on a table of %zu rows; median of %d", n, repeat);
    bench_table_header(title, "the checks' 4 queries in DuckDB alone, open to close");
    bench_table_row("4 built-in checks", bench_median(v[0], (size_t)repeat),
                    bench_median(v[1], (size_t)repeat),
                    "eider: empty compute + the checks' SQL + outcomes; target <= 1.10x");
    bench_table_row("  CPU (all threads)", bench_median(v[2], (size_t)repeat),
                    bench_median(v[3], (size_t)repeat), "the steadier sign on a busy machine");
    bench_remove_db(raw);
    bench_remove_db(ours);
    for (int i = 0; i < N_CHECKS; i++)
        free(sql[i]);
    free(title);
    free(raw);
    free(ours);
    for (int i = 0; i < 4; i++)
        free(v[i]);
}

/* ---- blocking: the peak memory of a blocking check in a write ------------------- */

/* What one run in a child measured. */
typedef struct peak {
    double growth;                   /* bytes of peak RSS over the RSS at the start */
    double wall;                     /* seconds of eider_materialize() */
} peak;

static int copy_src(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT * FROM s.src");
}

/* The asset "s/t" stored by the DuckDB I/O manager on path as a copy of s.src; with
 * check, a blocking not_null(id, a) on it. Returns the run's wall time. */
static double store_copy(const char *path, int check)
{
    eider_defs *defs = eider_defs_new();
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = path });
    eider_asset(defs, &(eider_asset_def){ .key = "s/t", .compute = copy_src });
    if (check)
        eider_asset_check(defs, &(eider_check_def){ .asset = "s/t", .blocking = 1,
                                                    .not_null = EIDER_KEYS("id", "a") });
    if (eider_defs_validate(defs))
        bench_die("definitions: %s", eider_defs_errmsg(defs));
    double t = materialize(defs, check ? 1 : 0);
    eider_defs_free(defs);
    return t;
}

/* store_copy() once in a forked child (bench_peak_apart): its wall time, and the
 * growth of the child's peak RSS. */
typedef struct peak_args {
    const char *path;
    int check;
} peak_args;

static void store_in_child(void *arg, void *out)
{
    const peak_args *a = arg;
    *(double *)out = store_copy(a->path, a->check);
}

static peak peak_of(const char *path, int check)
{
    peak p = { -1, -1 };
    peak_args a = { path, check };
    if (bench_peak_apart(store_in_child, &a, &p.wall, sizeof(p.wall), &p.growth))
        bench_die("the memory measurement %s the check failed", check ? "with" : "without");
    return p;
}

static void run_blocking(const char *dir, const char *base, double size, size_t n, int repeat)
{
    char *path = bench_strf("%s/blocking.duckdb", dir);
    double *mem[2], *wall[2], m[2], w[2];
    for (int c = 0; c < 2; c++) {
        mem[c] = bench_xmalloc(sizeof(double) * (size_t)repeat);
        wall[c] = bench_xmalloc(sizeof(double) * (size_t)repeat);
    }
    for (int r = 0; r < repeat; r++)
        for (int c = 0; c < 2; c++) {          /* without, with: interleaved */
            bench_copy_db(base, path);
            peak p = peak_of(path, c);
            mem[c][r] = p.growth;
            wall[c][r] = p.wall;
        }
    for (int c = 0; c < 2; c++) {
        m[c] = bench_median(mem[c], (size_t)repeat);
        w[c] = bench_median(wall[c], (size_t)repeat);
    }
    int pass = m[1] <= m[0] + size / 10;
    printf("\nbench_checks: a blocking not_null(id, a) in the write of an SQL asset "
           "(SELECT * FROM s.src, %zu rows) by the DuckDB I/O manager; median of %d\n"
           "  peak memory: growth of peak RSS (VmHWM) in a forked child; the rows as a frame: "
           "%.0f MB\n", n, repeat, size / MB);
    printf("    without checks   %+7.0f MB  %8.3f s\n", m[0] / MB, w[0]);
    printf("    blocking check   %+7.0f MB  %8.3f s   memory %.3fx, time %.3fx\n", m[1] / MB,
           w[1], m[0] > 0 ? m[1] / m[0] : 0.0, w[0] > 0 ? w[1] / w[0] : 0.0);
    printf("    the check adds %+.0f MB; target: no second copy (at most +%.0f MB, a tenth "
           "of the rows): %s\n", (m[1] - m[0]) / MB, size / 10 / MB, pass ? "PASS" : "FAIL");
    fflush(stdout);
    bench_remove_db(path);
    for (int c = 0; c < 2; c++) {
        free(mem[c]);
        free(wall[c]);
    }
    free(path);
}

/* ---- main ----------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    size_t n = 10000000;
    int repeat = 3;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            n = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else
            bench_die("usage: bench_checks [--rows N] [--repeat R] [--only checks|blocking]");
    }
    if (repeat < 1 || n < 1)
        bench_die("--repeat and --rows must be at least 1");
    if (only && strcmp(only, "checks") && strcmp(only, "blocking"))
        bench_die("--only takes checks or blocking, not '%s'", only);
    char *dir = bench_tmpdir("checks");
    char *base = bench_strf("%s/base.duckdb", dir);
    double size = make_base_apart(base, n);
    if (!only || !strcmp(only, "blocking"))  /* first: before this process runs DuckDB */
        run_blocking(dir, base, size, n, repeat);
    if (!only || !strcmp(only, "checks"))
        run_checks(dir, base, n, repeat);
    bench_rmdir(dir);
    free(base);
    free(dir);
    return 0;
}
