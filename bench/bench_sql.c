/*
 * bench_sql.c — the workload of one small DDL statement per asset (bench_sql.h).
 */
#include <stdlib.h>

#include "bench_sql.h"

char **bench_sql_statements(const bench_graph *g)
{
    char **sql = bench_xmalloc(g->n * sizeof(*sql));
    for (size_t i = 0; i < g->n; i++)
        sql[i] = bench_strf("CREATE OR REPLACE TABLE t_%zu AS SELECT %zu AS x", i, i);
    return sql;
}

void bench_sql_free(char **sql, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(sql[i]);
    free(sql);
}

/* The compute function of every asset: its statement on the resource's connection. */
static int run_statement(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "duckdb");
    return eider_sql(ctx, con, eider_user_data(ctx));
}

eider_defs *bench_sql_defs(const bench_graph *g, char *const *sql, const char *path)
{
    eider_defs *defs = eider_defs_new();
    if (!defs)
        bench_die("eider_defs_new: out of memory");
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = path });
    for (size_t i = 0; i < g->n; i++)
        eider_asset(defs, &(eider_asset_def){ .key = g->keys[i], .compute = run_statement,
                                              .deps = g->deps[i], .resources = EIDER_KEYS("duckdb"),
                                              .user_data = sql[i] });
    return defs;
}
