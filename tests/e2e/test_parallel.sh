#!/usr/bin/env bash
# test_parallel.sh — a project's first run, as users run it: independent assets at the
# default --jobs (and more), on a fresh database, into schemas that do not exist yet.
# Two steps creating one schema race on DuckDB's catalog; Eider's own SQL must never
# lose that race, and a user's CREATE that loses it is retried alone. Every case
# repeats the first run on a fresh database, since a race shows in some runs only.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FRESH_RUNS=8

# fresh_runs RC DB ARGS...: materialize on a fresh DB FRESH_RUNS times; each must exit
# with RC and never show a conflict. The output of the last run stays in out.txt.
fresh_runs_exit() {
    local rc=$1 db=$2 i
    shift 2
    for ((i = 1; i <= FRESH_RUNS; i++)); do
        rm -f "$db" "$db.wal"
        run "$EIDER" materialize -f definitions.c "$@"
        expect_rc "$rc"
        expect_not_in out.txt "conflict"
    done
}

fresh_runs() {
    fresh_runs_exit 0 "$@"
}

io_manager_assets_create_their_schemas_on_the_first_parallel_run() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int rows(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT range AS x FROM range(1000)");
}
void eider_definitions(eider_defs *defs)
{
    static const char *keys[] = { "a", "b", "c", "d", "sales/e", "sales/f", "sales/g", "sales/h" };
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "w.duckdb" });
    for (int i = 0; i < 8; i++)
        eider_asset(defs, &(eider_asset_def){ .key = keys[i], .compute = rows });
}
EOF
    fresh_runs w.duckdb
    expect_in out.txt "8 materialized, 0 failed"
    fresh_runs w.duckdb --jobs 8
    expect_eq "$(dq w.duckdb "SELECT count(*) FROM duckdb_tables() WHERE schema_name IN ('public', 'sales')")" \
        8 "tables in schemas public and sales"
}

user_sql_creating_one_schema_in_parallel_assets_succeeds() {
    cat >definitions.c <<'EOF'
#include <stdio.h>
#include <eider.h>
/* The README's Option 1 pattern, in four independent assets. */
static int iris_part(eider_context *ctx)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "CREATE SCHEMA IF NOT EXISTS iris;"
             "CREATE OR REPLACE TABLE iris.%s AS SELECT 1 AS x", eider_asset_key(ctx));
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"), sql);
}
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "w.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "p1", .compute = iris_part, .resources = EIDER_KEYS("duckdb") });
    eider_asset(defs, &(eider_asset_def){ .key = "p2", .compute = iris_part, .resources = EIDER_KEYS("duckdb") });
    eider_asset(defs, &(eider_asset_def){ .key = "p3", .compute = iris_part, .resources = EIDER_KEYS("duckdb") });
    eider_asset(defs, &(eider_asset_def){ .key = "p4", .compute = iris_part, .resources = EIDER_KEYS("duckdb") });
}
EOF
    fresh_runs w.duckdb
    fresh_runs w.duckdb --jobs 4
    expect_eq "$(dq w.duckdb "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'iris'")" 4 "tables in iris"
}

a_plain_create_that_loses_the_race_fails_as_it_would_in_series() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int make_schema(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"), "CREATE SCHEMA only_once");
}
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "w.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "s1", .compute = make_schema, .resources = EIDER_KEYS("duckdb") });
    eider_asset(defs, &(eider_asset_def){ .key = "s2", .compute = make_schema, .resources = EIDER_KEYS("duckdb") });
}
EOF
    fresh_runs_exit 1 w.duckdb --jobs 2
    expect_in out.txt "1 materialized, 1 failed"
    expect_in out.txt 'already exists'
}

schema_named_like_the_database_file_is_not_ambiguous() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int iris_dataset(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT range AS id, range % 3 AS species FROM range(150)");
}
static int iris_setosa(eider_context *ctx)
{
    const eider_frame *iris = eider_input_frame(ctx, "iris_dataset");
    return iris ? eider_output_frame(ctx, eider_frame_filter_eq(iris, "species", "0")) : 1;
}
static int iris_counts(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT species, count(*) AS n FROM {iris_dataset} GROUP BY species");
}
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "iris.duckdb",
                                                                    .schema = "iris" });
    eider_asset(defs, &(eider_asset_def){ .key = "iris_dataset", .compute = iris_dataset,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("on_schema_change", "evolve")) });
    eider_asset(defs, &(eider_asset_def){ .key = "iris_setosa", .compute = iris_setosa,
                                          .deps = EIDER_KEYS("iris_dataset") });
    eider_asset(defs, &(eider_asset_def){ .key = "iris_counts", .compute = iris_counts,
                                          .deps = EIDER_KEYS("iris_dataset") });
}
EOF
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    expect_in out.txt "3 materialized, 0 failed"
    run "$EIDER" materialize -f definitions.c     # the tables exist now: written into
    expect_rc 0
    expect_in out.txt "3 materialized, 0 failed"
    run "$EIDER" materialize -f definitions.c --json --select iris_setosa
    expect_in out.txt '"table": "iris.iris.iris_setosa"'
    expect_eq "$(dq iris.duckdb 'SELECT count(*) FROM iris.iris.iris_setosa')" 50 "rows of iris.iris.iris_setosa"
    expect_eq "$(dq iris.duckdb 'SELECT sum(n) FROM iris.iris.iris_counts')" 150 "rows counted"
}

run_case io_manager_assets_create_their_schemas_on_the_first_parallel_run
run_case user_sql_creating_one_schema_in_parallel_assets_succeeds
run_case a_plain_create_that_loses_the_race_fails_as_it_would_in_series
run_case schema_named_like_the_database_file_is_not_ambiguous
finish
