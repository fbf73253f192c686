/*
 * The dagster-duckdb reference guide's cases in C: selected input columns, static and
 * daily partitions, a cleaning step in SQL, tables in several schemas, and a DuckDB
 * and a Parquet I/O manager side by side.
 *
 *   eider materialize -f examples/duckdb_reference/definitions.c --select 'not tag:partitioned=yes'
 *   eider materialize -f examples/duckdb_reference/definitions.c --select iris_by_species --partition Iris-setosa
 *   eider materialize -f examples/duckdb_reference/definitions.c --select iris_daily \
 *       --partition-range 2024-01-01...2024-01-07
 *
 * Tables go to reference.duckdb and Parquet files to parquet/, beside this file.
 */
#include <stdio.h>

#include <eider.h>

static eider_frame *read_iris(void)
{
    return eider_frame_read_csv("iris.csv", &(eider_csv_options){
        .columns = EIDER_KEYS("sepal_length_cm", "sepal_width_cm", "petal_length_cm",
                              "petal_width_cm", "species"),
        .header = -1,
    });
}

static int iris_dataset(eider_context *ctx)
{
    return eider_output_frame(ctx, read_iris());
}

/* Loads two columns of iris_dataset (see .ins) and adds the sepal's area. */
static int sepal_data(eider_context *ctx)
{
    const eider_frame *sepals = eider_input_frame(ctx, "iris_dataset");
    return eider_output_frame(ctx, eider_frame_sql(EIDER_FRAMES({ "sepals", sepals }),
        "SELECT *, sepal_length_cm * sepal_width_cm AS sepal_area_cm2 FROM sepals"));
}

/* Rows with no NULL and no duplicate, in SQL over the stored table: no row passes
 * through C. */
static int iris_cleaned(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT DISTINCT * FROM {iris_dataset} WHERE COLUMNS(*) IS NOT NULL");
}

/* One species per partition: the run's keys (one, or a range) pick the rows. */
static int iris_by_species(eider_context *ctx)
{
    size_t n = 0;
    const char *const *keys = eider_partition_keys(ctx, &n);
    char where[256];
    snprintf(where, sizeof(where), "species BETWEEN '%s' AND '%s'", keys[0], keys[n - 1]);
    eider_frame *iris = read_iris();
    eider_frame *out = eider_frame_filter(iris, where);
    eider_frame_free(iris);
    return eider_output_frame(ctx, out);
}

/* One day per partition: the day's measurements (iris rows stamped with the day). */
static int iris_daily(eider_context *ctx)
{
    size_t n = 0;
    const char *const *days = eider_partition_keys(ctx, &n);
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT DATE '%s' + (row_number() OVER () %% %zu)::INTEGER AS day, * "
             "FROM iris", days[0], n);
    eider_frame *iris = read_iris();
    eider_frame *out = eider_frame_sql(EIDER_FRAMES({ "iris", iris }), sql);
    eider_frame_free(iris);
    return eider_output_frame(ctx, out);
}

/* Per-species statistics in schema "analytics" (the key's prefix). */
static int species_stats(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT species, count(*) AS flowers, "
        "round(avg(petal_length_cm), 3) AS mean_petal_length_cm FROM {iris_cleaned} GROUP BY species "
        "ORDER BY species");
}

/* Stored as Parquet by the second I/O manager. */
static int iris_parquet(eider_context *ctx)
{
    return eider_output_frame(ctx, read_iris());
}

/* Loads the Parquet asset and the DuckDB one, and joins them in a frame. */
static int parquet_check(eider_context *ctx)
{
    const eider_frame *pq = eider_input_frame(ctx, "iris_parquet");
    const eider_frame *stats = eider_input_frame(ctx, "analytics/species_stats");
    return eider_output_frame(ctx, eider_frame_sql(EIDER_FRAMES({ "pq", pq }, { "stats", stats }),
        "SELECT species, count(*) AS parquet_rows, any_value(flowers) AS duckdb_flowers "
        "FROM pq JOIN stats USING (species) GROUP BY species ORDER BY species"));
}

void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "reference.duckdb" });
    eider_parquet_io_manager(defs, "parquet_io", &(eider_parquet_io_config){ .base_path = "parquet" });

    const eider_partitions *species = eider_static_partitions(defs,
        EIDER_KEYS("Iris-setosa", "Iris-versicolor", "Iris-virginica"));
    const eider_partitions *days = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .end = "2024-01-08", .timezone = "Europe/Paris" });

    eider_asset(defs, &(eider_asset_def){ .key = "iris/iris_dataset", .compute = iris_dataset,
        .output = EIDER_OUTPUT_REQUIRED });
    eider_asset(defs, &(eider_asset_def){ .key = "iris/sepal_data", .compute = sepal_data,
        .ins = EIDER_INPUTS({ .key = "iris/iris_dataset",
                              .columns = EIDER_KEYS("sepal_length_cm", "sepal_width_cm") }) });
    eider_asset(defs, &(eider_asset_def){ .key = "iris/iris_cleaned", .compute = iris_cleaned,
        .deps = EIDER_KEYS("iris/iris_dataset") });
    eider_asset(defs, &(eider_asset_def){ .key = "analytics/species_stats", .compute = species_stats,
        .deps = EIDER_KEYS("iris/iris_cleaned") });
    eider_asset(defs, &(eider_asset_def){ .key = "iris_by_species", .compute = iris_by_species,
        .partitions = species, .tags = EIDER_TAGS("partitioned", "yes"),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("schema", "partitioned"),
                                   EIDER_META_TEXT("partition_expr", "species")) });
    eider_asset(defs, &(eider_asset_def){ .key = "iris_daily", .compute = iris_daily,
        .partitions = days, .tags = EIDER_TAGS("partitioned", "yes"),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("schema", "partitioned"),
                                   EIDER_META_TEXT("partition_expr", "day")) });
    eider_asset(defs, &(eider_asset_def){ .key = "iris_parquet", .compute = iris_parquet,
        .io_manager_key = "parquet_io" });
    eider_asset(defs, &(eider_asset_def){ .key = "parquet_check", .compute = parquet_check,
        .deps = EIDER_KEYS("iris_parquet", "analytics/species_stats") });
}
