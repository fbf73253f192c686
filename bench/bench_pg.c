/*
 * bench_pg.c — the PostgreSQL I/O manager against raw libpq on the same rows: N rows of
 * (id BIGINT, x DOUBLE, a TEXT), id = i, x = i / 2, a = 'a-' || i, stored into a fresh
 * table of the server at $EIDER_BENCH_PG_URL (scripts/bench pg starts one), each timed
 * from connecting to committing:
 *   raw    PQconnectdb; BEGIN; CREATE TABLE; COPY FROM STDIN of the rows formatted in C
 *          as COPY's text, in chunks of 64 KiB; COMMIT;
 *   eider  eider_materialize() of one asset whose output is the SQL that makes the rows,
 *          stored by eider_postgres_io_manager(): DuckDB makes them and writes CSV, and
 *          the manager sends it with COPY in one transaction (and reads the metadata).
 * Both tables are checked equal (count and sums). Medians of --repeat, interleaved.
 *
 *   bench_pg [--rows N] [--repeat R]
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <eider.h>

#include "bench_util.h"

static const char *url;

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static PGconn *connect_or_die(void)
{
    PGconn *db = PQconnectdb(url);
    if (PQstatus(db) != CONNECTION_OK)
        bench_die("cannot connect to %s: %s", url, PQerrorMessage(db));
    PQsetNoticeProcessor(db, quiet, NULL);
    return db;
}

static void exec_or_die(PGconn *db, const char *sql)
{
    PGresult *res = PQexec(db, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        bench_die("%s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
}

static void drop_schemas(void)
{
    PGconn *db = connect_or_die();
    exec_or_die(db, "DROP SCHEMA IF EXISTS bench_raw CASCADE; DROP SCHEMA IF EXISTS bench_eider CASCADE;"
                    "CREATE SCHEMA bench_raw");
    PQfinish(db);
}

static double raw_copy(size_t n)
{
    char buf[1 << 16];
    size_t len = 0;
    double t0 = bench_now();
    PGconn *db = connect_or_die();
    exec_or_die(db, "BEGIN; DROP TABLE IF EXISTS bench_raw.t; "
                    "CREATE TABLE bench_raw.t (id bigint, x double precision, a text)");
    PGresult *res = PQexec(db, "COPY bench_raw.t (id, x, a) FROM STDIN");
    if (PQresultStatus(res) != PGRES_COPY_IN)
        bench_die("COPY: %s", PQresultErrorMessage(res));
    PQclear(res);
    for (size_t i = 0; i < n; i++) {
        if (len + 80 > sizeof(buf)) {
            if (PQputCopyData(db, buf, (int)len) != 1)
                bench_die("COPY: %s", PQerrorMessage(db));
            len = 0;
        }
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%zu\t%.17g\ta-%zu\n", i, i / 2.0, i);
    }
    if ((len && PQputCopyData(db, buf, (int)len) != 1) || PQputCopyEnd(db, NULL) != 1)
        bench_die("COPY: %s", PQerrorMessage(db));
    res = PQgetResult(db);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        bench_die("COPY: %s", PQresultErrorMessage(res));
    PQclear(res);
    while ((res = PQgetResult(db)))
        PQclear(res);
    exec_or_die(db, "COMMIT");
    PQfinish(db);
    return bench_now() - t0;
}

static size_t n_rows;

static int rows_sql(eider_context *ctx)
{
    char sql[200];
    snprintf(sql, sizeof(sql), "SELECT i AS id, i / 2 AS x, 'a-' || i AS a FROM range(%zu) r(i)",
             n_rows);
    return eider_output_sql(ctx, sql);
}

static double eider_copy(size_t n)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    n_rows = n;
    if (eider_postgres_io_manager(defs, NULL, &(eider_postgres_io_config){ .conninfo = url,
                                                                           .schema = "bench_eider" }) ||
        eider_asset(defs, &(eider_asset_def){ .key = "t", .compute = rows_sql }))
        bench_die("definitions: %s", eider_defs_errmsg(defs));
    double t0 = bench_now();
    int rc = eider_materialize(defs, NULL, &r);
    double t = bench_now() - t0;
    if (rc)
        bench_die("the store failed: %s", r && eider_result_count(r) && eider_result_error(r, 0)
                  ? eider_result_error(r, 0) : eider_defs_errmsg(defs));
    eider_result_free(r);
    eider_defs_free(defs);
    return t;
}

static char *summary(const char *table)
{
    static char out[2][200];
    static int k;
    char sql[200];
    PGconn *db = connect_or_die();
    snprintf(sql, sizeof(sql), "SELECT count(*) || ' ' || sum(id) || ' ' || sum(x) || ' ' || "
             "sum(length(a)) FROM %s", table);
    PGresult *res = PQexec(db, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        bench_die("%s: %s", sql, PQresultErrorMessage(res));
    k ^= 1;
    snprintf(out[k], sizeof(out[k]), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(db);
    return out[k];
}

int main(int argc, char **argv)
{
    size_t n = 1000000;
    int repeat = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            n = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else
            bench_die("usage: bench_pg [--rows N] [--repeat R]");
    }
    url = getenv("EIDER_BENCH_PG_URL");
    if (!url || !*url) {
        printf("\nbench_pg: skipped: EIDER_BENCH_PG_URL is not set (scripts/bench pg starts a server)\n");
        return 0;
    }
    if (repeat < 1 || n < 1)
        bench_die("--repeat and --rows must be at least 1");
    double *t_raw = bench_xmalloc(sizeof(double) * (size_t)repeat);
    double *t_eider = bench_xmalloc(sizeof(double) * (size_t)repeat);
    drop_schemas();
    for (int r = 0; r < repeat; r++) {
        t_raw[r] = raw_copy(n);
        t_eider[r] = eider_copy(n);
    }
    if (strcmp(summary("bench_raw.t"), summary("bench_eider.t")) != 0)
        bench_die("the tables differ: %s against %s", summary("bench_raw.t"), summary("bench_eider.t"));
    char *title = bench_strf("bench_pg: %zu rows (id bigint, x double precision, a text) stored "
                             "in PostgreSQL; median of %d", n, repeat);
    bench_table_header(title, "libpq alone: BEGIN, CREATE TABLE, COPY of the rows formatted in C, COMMIT");
    bench_table_row("store through COPY", bench_median(t_raw, (size_t)repeat),
                    bench_median(t_eider, (size_t)repeat),
                    "eider: DuckDB makes the rows and their CSV, then COPY; target <= 1.20x");
    free(title);
    free(t_raw);
    free(t_eider);
    drop_schemas();
    return 0;
}
