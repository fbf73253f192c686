/*
 * The DuckDB tutorial's Option 1 in C: assets that run their own SQL through the
 * DuckDB resource.
 *
 *   eider materialize -f examples/duckdb_resource/definitions.c
 *
 * Paths are relative to this file's folder: the database is my_duckdb_database.duckdb beside it.
 */
#include <stdio.h>

#include <eider.h>

/* Run the SQL that makes `table`, then report the table's row count as metadata. */
static int make_table(eider_context *ctx, const char *sql, const char *table)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "duckdb");
    char count_sql[256];
    int64_t rows = 0;
    snprintf(count_sql, sizeof(count_sql), "SELECT count(*) FROM %s", table);
    int rc = eider_sql(ctx, con, sql);
    if (!rc)
        rc = eider_sql_int64(ctx, con, count_sql, &rows);
    if (!rc)
        eider_add_meta_int(ctx, "row_count", rows);
    return rc;
}

/* Reads the iris CSV (no header) with the tutorial's column names. */
static int iris_dataset(eider_context *ctx)
{
    return make_table(ctx,
        "CREATE SCHEMA IF NOT EXISTS iris;"
        "CREATE OR REPLACE TABLE iris.iris_dataset AS "
        "SELECT * FROM read_csv('iris.csv', header = false, columns = {"
        "  'sepal_length_cm': 'DOUBLE', 'sepal_width_cm': 'DOUBLE',"
        "  'petal_length_cm': 'DOUBLE', 'petal_width_cm': 'DOUBLE',"
        "  'species': 'VARCHAR'})",
        "iris.iris_dataset");
}

/* The tutorial's SQL: the setosa rows of iris_dataset. */
static int iris_setosa(eider_context *ctx)
{
    return make_table(ctx,
        "CREATE OR REPLACE TABLE iris.iris_setosa AS "
        "SELECT * FROM iris.iris_dataset WHERE species = 'Iris-setosa'",
        "iris.iris_setosa");
}

void eider_definitions(eider_defs *defs)
{
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "my_duckdb_database.duckdb" });

    eider_asset(defs, &(eider_asset_def){
        .key = "iris_dataset",
        .compute = iris_dataset,
        .description = "The iris data set: 150 flowers of three species",
        .group = "iris",
        .kinds = EIDER_KEYS("duckdb", "csv"),
        .resources = EIDER_KEYS("duckdb"),
        .metadata = EIDER_METADATA(
            EIDER_META_URL("source", "https://archive.ics.uci.edu/dataset/53/iris"),
            EIDER_META_TEXT("table", "iris.iris_dataset")),
    });
    eider_asset(defs, &(eider_asset_def){
        .key = "iris_setosa",
        .compute = iris_setosa,
        .deps = EIDER_KEYS("iris_dataset"),
        .description = "The Iris setosa rows of iris_dataset",
        .group = "iris",
        .kinds = EIDER_KEYS("duckdb", "sql"),
        .resources = EIDER_KEYS("duckdb"),
    });
    eider_asset_spec(defs, &(eider_asset_spec_def){
        .key = "iris_harvest_data",
        .description = "Harvest records, loaded by another team's pipeline",
        .group = "iris",
    });
}
