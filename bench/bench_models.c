/*
 * bench_models.c — SQL models (a project of .sql files and an eider.yaml) against raw
 * DuckDB doing the same work.
 *
 *   list   a generated project of N models (default 10,000; each reads up to 2 of the
 *          20 before it, by schema and table, through a JOIN, so that their
 *          dependencies come from their SQL):
 *            eider  `eider list --json` of the project, wall time from fork to exit
 *                   (the program's start, the definitions read, rendered, parsed by
 *                   DuckDB and matched, the instance store read, the JSON printed);
 *            parse  beside it, in this process: eider_project() + eider_defs_validate(),
 *                   the share of the above that is the models;
 *            raw    DuckDB alone, open to close, parsing the same N texts with
 *                   json_serialize_sql one by one (what any tool that reads the
 *                   tables of N queries from DuckDB's parser does at the least).
 *          Target: eider list <= 1 s.
 *   ctas   one model, SELECT * FROM s.src WHERE x >= 0 over a table of --rows rows
 *          (default 10,000,000), materialized by eider_materialize() of the project,
 *          from a fresh copy of the file, open to close; raw: CREATE TABLE AS of the
 *          same SELECT on its own copy. Target: <= 1.05.
 * Medians of --repeat (default 3), the cases interleaved.
 *
 *   bench_models [--models N] [--rows N] [--repeat R] [--only list|ctas]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <eider.h>

#include "bench_util.h"

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        bench_die("cannot write %s", path);
}

/* Model i's SQL: a constant for the first, else a join of up to 2 of the 20 before. */
static char *model_sql(size_t i)
{
    if (i == 0)
        return bench_strf("SELECT 0 AS x");
    size_t a = i - 1 - (i * 7) % (i < 20 ? i : 20), b = i - 1;
    if (a == b)
        return bench_strf("SELECT t0.x + %zu AS x FROM g.m%zu AS t0", i, a);
    return bench_strf("SELECT t0.x + %zu AS x FROM g.m%zu AS t0 JOIN g.m%zu AS t1 USING (x)",
                      i, a, b);
}

static void make_project(const char *dir, size_t n)
{
    char *path = bench_strf("%s/models", dir);
    mkdir(path, 0755);
    free(path);
    path = bench_strf("%s/models/g", dir);
    mkdir(path, 0755);
    free(path);
    path = bench_strf("%s/eider.yaml", dir);
    write_text(path, "database: w.duckdb\n");
    free(path);
    for (size_t i = 0; i < n; i++) {
        char *sql = model_sql(i);
        path = bench_strf("%s/models/g/m%zu.sql", dir, i);
        write_text(path, sql);
        free(path);
        free(sql);
    }
}

static double time_list(const char *dir)
{
    const char *argv[] = { BENCH_EIDER, "list", "--json", NULL };
    const char *env[] = { "EIDER_STORAGE", "none", NULL };
    return bench_run(argv, dir, NULL, env);
}

/* eider_project() and validation in this process: the models' share. */
static double time_parse(const char *dir, size_t n)
{
    char *yaml = bench_strf("%s/eider.yaml", dir);
    double t0 = bench_now();
    eider_defs *defs = eider_defs_new();
    if (eider_project(defs, yaml) || eider_defs_validate(defs))
        bench_die("the project does not load: %s", eider_defs_errmsg(defs));
    double s = bench_now() - t0;
    if (eider_defs_count(defs) != n)
        bench_die("%zu assets, not %zu", eider_defs_count(defs), n);
    eider_defs_free(defs);
    free(yaml);
    return s;
}

/* DuckDB alone: json_serialize_sql of each model's text. */
static double time_raw_parse(size_t n)
{
    duckdb_database db;
    duckdb_connection con;
    duckdb_prepared_statement p;
    double t0 = bench_now();
    if (duckdb_open(NULL, &db) || duckdb_connect(db, &con) ||
        duckdb_prepare(con, "SELECT json_serialize_sql(?::VARCHAR)", &p))
        bench_die("raw DuckDB cannot prepare the parse");
    for (size_t i = 0; i < n; i++) {
        char *sql = model_sql(i);
        duckdb_result res;
        if (duckdb_bind_varchar(p, 1, sql) || duckdb_execute_prepared(p, &res))
            bench_die("raw DuckDB cannot parse model %zu", i);
        duckdb_data_chunk c = duckdb_fetch_chunk(res);
        if (c)
            duckdb_destroy_data_chunk(&c);
        duckdb_destroy_result(&res);
        free(sql);
    }
    duckdb_destroy_prepare(&p);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return bench_now() - t0;
}

static void run_list(size_t n, int repeat)
{
    char *dir = bench_tmpdir("models");
    make_project(dir, n);
    double *e = bench_xmalloc(sizeof(double) * (size_t)repeat);
    double *p = bench_xmalloc(sizeof(double) * (size_t)repeat);
    double *r = bench_xmalloc(sizeof(double) * (size_t)repeat);
    time_list(dir);                  /* warm-up: the files in the page cache */
    for (int i = 0; i < repeat; i++) {
        e[i] = time_list(dir);
        p[i] = time_parse(dir, n);
        r[i] = time_raw_parse(n);
    }
    double me = bench_median(e, (size_t)repeat), mp = bench_median(p, (size_t)repeat);
    double mr = bench_median(r, (size_t)repeat);
    char *title = bench_strf("bench_models: %zu SQL models, their dependencies read from their "
                             "SQL; median of %d", n, repeat);
    bench_table_header(title, "DuckDB alone parsing the same texts with json_serialize_sql, "
                              "one by one");
    char *note = bench_strf("target eider list <= 1 s: %s", me <= 1.0 ? "PASS" : "FAIL");
    bench_table_row("eider list --json", mr, me, note);
    char *share = bench_strf("the models' share of eider list: %.0f%%", 100 * mp / me);
    bench_table_row("  eider_project + validate", mr, mp, share);
    free(title);
    free(note);
    free(share);
    free(e);
    free(p);
    free(r);
    bench_rmdir(dir);
    free(dir);
}

/* ---- ctas ---- */

static void make_source(const char *path, size_t rows)
{
    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(path, &db) || duckdb_connect(db, &con))
        bench_die("cannot open %s", path);
    char *sql = bench_strf("CREATE TABLE s.src AS SELECT i AS id, CAST(i * 0.5 AS DOUBLE) AS x, "
                           "'a-' || i AS a FROM range(%zu) r(i)", rows);
    bench_exec(con, "CREATE SCHEMA s");
    bench_exec(con, sql);
    bench_exec(con, "CREATE SCHEMA g");
    bench_exec(con, "CHECKPOINT");
    free(sql);
    duckdb_disconnect(&con);
    duckdb_close(&db);
}

#define CTAS_SELECT "SELECT * FROM s.src WHERE x >= 0"

static double time_raw_ctas(const char *path)
{
    duckdb_database db;
    duckdb_connection con;
    double t0 = bench_now();
    if (duckdb_open(path, &db) || duckdb_connect(db, &con))
        bench_die("cannot open %s", path);
    bench_exec(con, "CREATE TABLE g.copy AS " CTAS_SELECT);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return bench_now() - t0;
}

static double time_model(const char *dir)
{
    char *yaml = bench_strf("%s/eider.yaml", dir);
    double t0 = bench_now();
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    if (eider_project(defs, yaml) ||
        eider_materialize(defs, &(eider_run_options){ .jobs = 2 }, &r) != EIDER_OK)
        bench_die("the model did not materialize: %s", r && eider_result_count(r) &&
                  eider_result_error(r, 0) ? eider_result_error(r, 0) : eider_defs_errmsg(defs));
    double s = bench_now() - t0;
    eider_result_free(r);
    eider_defs_free(defs);
    free(yaml);
    return s;
}

static void run_ctas(size_t rows, int repeat)
{
    char *dir = bench_tmpdir("models-ctas");
    char *base = bench_strf("%s/base.duckdb", dir), *raw = bench_strf("%s/raw.duckdb", dir);
    char *mine = bench_strf("%s/w.duckdb", dir), *yaml = bench_strf("%s/eider.yaml", dir);
    char *models = bench_strf("%s/models", dir), *g = bench_strf("%s/models/g", dir);
    char *model = bench_strf("%s/models/g/copy.sql", dir);
    make_source(base, rows);
    write_text(yaml, "database: w.duckdb\nsources:\n  s/src: {}\n");
    mkdir(models, 0755);
    mkdir(g, 0755);
    write_text(model, CTAS_SELECT "\n");
    double *e = bench_xmalloc(sizeof(double) * (size_t)repeat);
    double *r = bench_xmalloc(sizeof(double) * (size_t)repeat);
    for (int i = 0; i < repeat; i++) {
        bench_copy_db(base, raw);
        r[i] = time_raw_ctas(raw);
        bench_copy_db(base, mine);
        e[i] = time_model(dir);
    }
    char *title = bench_strf("bench_models: a model, %s, over %zu rows; median of %d",
                             CTAS_SELECT, rows, repeat);
    bench_table_header(title, "CREATE TABLE AS of the same SELECT, open to close");
    bench_table_row("SQL model (CTAS)", bench_median(r, (size_t)repeat),
                    bench_median(e, (size_t)repeat), "target <= 1.05");
    free(title);
    free(e);
    free(r);
    bench_rmdir(dir);
    free(dir);
    free(base);
    free(raw);
    free(mine);
    free(yaml);
    free(models);
    free(g);
    free(model);
}

int main(int argc, char **argv)
{
    size_t n = 10000, rows = 10000000;
    int repeat = 3;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--models") == 0)
            n = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--rows") == 0)
            rows = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--repeat") == 0)
            repeat = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--only") == 0)
            only = argv[++i];
        else
            bench_die("usage: bench_models [--models N] [--rows N] [--repeat R] [--only list|ctas]");
    }
    if (n < 1 || rows < 1 || repeat < 1)
        bench_die("--models, --rows and --repeat are at least 1");
    if (!only || strcmp(only, "list") == 0)
        run_list(n, repeat);
    if (!only || strcmp(only, "ctas") == 0)
        run_ctas(rows, repeat);
    return 0;
}
