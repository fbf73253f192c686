/*
 * bench_sql.h — the workload of real DuckDB work that more than one benchmark runs:
 * every asset of a bench_graph runs its own small DDL statement on a DuckDB file
 * through the DuckDB resource ("CREATE OR REPLACE TABLE t_<i> AS SELECT <i> AS x").
 */
#ifndef EIDER_BENCH_SQL_H
#define EIDER_BENCH_SQL_H

#include <eider.h>

#include "bench_util.h"

/* The statement of each asset of g, malloc'd; bench_sql_free() frees them. */
char **bench_sql_statements(const bench_graph *g);
void bench_sql_free(char **sql, size_t n);

/* Definitions of g's assets, each running sql[i] through the resource "duckdb" on the
 * database at path. Exits when they cannot be built. */
eider_defs *bench_sql_defs(const bench_graph *g, char *const *sql, const char *path);

#endif
