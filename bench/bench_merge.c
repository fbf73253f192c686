/*
 * bench_merge.c — an incremental write of the DuckDB I/O manager against raw DuckDB:
 * merging a change set into a big table. A database file holds s.t, N rows of
 * (id BIGINT, x DOUBLE, a VARCHAR), and s.changes, M rows: nine in ten change an
 * existing id's x and a, one in ten is a new id. Both sides start from a copy of that
 * file (made outside the clock) and are timed from opening it to closing it:
 *   raw    duckdb_open, then MERGE INTO s.t USING s.changes ON id, updating x and a
 *          when matched and inserting when not, then close;
 *   eider  eider_materialize() of one asset "s/t" with metadata write_mode "merge",
 *          unique_key "id", whose output is the SQL "SELECT * FROM s.changes": the
 *          key check, the MERGE (changed rows only), and the write's metadata.
 * Both leave the same table (checked by a count and a sum). Medians of --repeat.
 *
 *   bench_merge [--rows N] [--changes M] [--repeat R]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <eider.h>

#include "bench_util.h"

/* The first value of sql as a double. */
static double value_of(duckdb_connection con, const char *sql)
{
    duckdb_result res;
    double v = 0;
    if (duckdb_query(con, sql, &res) == DuckDBError)
        bench_die("raw DuckDB: %s", duckdb_result_error(&res));
    duckdb_data_chunk c = duckdb_fetch_chunk(res);
    if (!c || duckdb_data_chunk_get_size(c) < 1)
        bench_die("raw DuckDB: no value for %s", sql);
    v = ((double *)duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 0)))[0];
    duckdb_destroy_data_chunk(&c);
    duckdb_destroy_result(&res);
    return v;
}

static void make_base(const char *path, size_t n, size_t m)
{
    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(path, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError)
        bench_die("cannot open %s", path);
    char *t = bench_strf("CREATE TABLE s.t AS SELECT i AS id, CAST(i * 0.5 AS DOUBLE) AS x, 'a-' || i AS a "
                         "FROM range(%zu) r(i)", n);
    char *c = bench_strf("CREATE TABLE s.changes AS SELECT CASE WHEN i %% 10 = 0 THEN %zu + i "
                         "ELSE (i * 7919) %% %zu END AS id, CAST(i * 0.25 AS DOUBLE) AS x, 'c-' || i AS a "
                         "FROM range(%zu) r(i)", n, n, m);
    bench_exec(con, "CREATE SCHEMA s");
    bench_exec(con, t);
    bench_exec(con, c);
    bench_exec(con, "CHECKPOINT");
    free(t);
    free(c);
    duckdb_disconnect(&con);
    duckdb_close(&db);
}

/* count + sum(x) of s.t, to check that both sides made the same table. */
static double checksum(const char *path)
{
    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(path, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError)
        bench_die("cannot open %s", path);
    double v = value_of(con, "SELECT CAST(count(*) + sum(x) + sum(length(a)) AS DOUBLE) FROM s.t");
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return v;
}

static double raw_merge(const char *path)
{
    duckdb_database db;
    duckdb_connection con;
    double t0 = bench_now();
    if (duckdb_open(path, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError)
        bench_die("cannot open %s", path);
    bench_exec(con, "MERGE INTO s.t USING s.changes ON (t.id = changes.id) "
                     "WHEN MATCHED THEN UPDATE SET x = changes.x, a = changes.a "
                     "WHEN NOT MATCHED THEN INSERT (id, x, a) VALUES (changes.id, changes.x, changes.a)");
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return bench_now() - t0;
}

static int changes_sql(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT * FROM s.changes");
}

static double eider_merge(const char *path)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    if (eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = path }) ||
        eider_asset(defs, &(eider_asset_def){ .key = "s/t", .compute = changes_sql,
            .metadata = EIDER_METADATA(EIDER_META_TEXT("write_mode", "merge"),
                                       EIDER_META_TEXT("unique_key", "id")) }))
        bench_die("definitions: %s", eider_defs_errmsg(defs));
    double t0 = bench_now();
    int rc = eider_materialize(defs, NULL, &r);
    double t = bench_now() - t0;
    if (rc)
        bench_die("the merge failed: %s", r && eider_result_count(r) && eider_result_error(r, 0)
                  ? eider_result_error(r, 0) : eider_defs_errmsg(defs));
    eider_result_free(r);
    eider_defs_free(defs);
    return t;
}

int main(int argc, char **argv)
{
    size_t n = 10000000, m = 1000000;
    int repeat = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            n = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--changes") && i + 1 < argc)
            m = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else
            bench_die("usage: bench_merge [--rows N] [--changes M] [--repeat R]");
    }
    if (repeat < 1 || m < 10 || n < m)
        bench_die("--repeat must be at least 1, --changes at least 10 and at most --rows");
    char *dir = bench_tmpdir("merge");
    char *base = bench_strf("%s/base.duckdb", dir), *raw = bench_strf("%s/raw.duckdb", dir);
    char *ours = bench_strf("%s/eider.duckdb", dir);
    double *t_raw = bench_xmalloc(sizeof(double) * (size_t)repeat);
    double *t_eider = bench_xmalloc(sizeof(double) * (size_t)repeat);
    make_base(base, n, m);
    for (int r = 0; r < repeat; r++) {        /* interleaved, each from a fresh copy */
        bench_copy_db(base, raw);
        t_raw[r] = raw_merge(raw);
        bench_copy_db(base, ours);
        t_eider[r] = eider_merge(ours);
    }
    if (checksum(raw) != checksum(ours))
        bench_die("the raw merge and eider's left different tables");
    char *title = bench_strf("bench_merge: %zu changed rows (9 in 10 updates, 1 in 10 new) merged "
                             "into a table of %zu rows; median of %d", m, n, repeat);
    bench_table_header(title, "DuckDB's MERGE INTO of the same rows, open to close");
    bench_table_row("merge by key (SQL output)", bench_median(t_raw, (size_t)repeat),
                    bench_median(t_eider, (size_t)repeat),
                    "eider: key check + MERGE of changed rows + metadata; target <= 1.10x");
    free(title);
    bench_rmdir(dir);
    free(base);
    free(raw);
    free(ours);
    free(dir);
    free(t_raw);
    free(t_eider);
    return 0;
}
