/*
 * The DuckDB tutorial's Option 2 in C: assets return tables, and the DuckDB I/O
 * manager stores them in DuckDB and loads them for the assets downstream.
 *
 *   eider materialize -f examples/duckdb_io_manager/definitions.c
 *
 * The tables land in schema IRIS of my_duckdb_database.duckdb, beside this file.
 */
#include <eider.h>

/* The iris CSV (no header), read with the tutorial's column names. */
static int iris_dataset(eider_context *ctx)
{
    return eider_output_frame(ctx, eider_frame_read_csv("iris.csv", &(eider_csv_options){
        .columns = EIDER_KEYS("sepal_length_cm", "sepal_width_cm", "petal_length_cm",
                              "petal_width_cm", "species"),
        .header = -1,
    }));
}

/* Loaded from IRIS.iris_dataset as a frame; the setosa rows are stored as IRIS.iris_setosa. */
static int iris_setosa(eider_context *ctx)
{
    const eider_frame *iris = eider_input_frame(ctx, "iris_dataset");
    return eider_output_frame(ctx, eider_frame_filter_eq(iris, "species", "Iris-setosa"));
}

void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){
        .database = "my_duckdb_database.duckdb",
        .schema = "IRIS",
    });

    eider_asset(defs, &(eider_asset_def){
        .key = "iris_dataset",
        .compute = iris_dataset,
        .description = "The iris data set: 150 flowers of three species",
        .group = "iris",
        .kinds = EIDER_KEYS("duckdb", "csv"),
        .output = EIDER_OUTPUT_REQUIRED,
    });
    eider_asset(defs, &(eider_asset_def){
        .key = "iris_setosa",
        .compute = iris_setosa,
        .deps = EIDER_KEYS("iris_dataset"),
        .description = "The Iris setosa rows of iris_dataset",
        .group = "iris",
        .kinds = EIDER_KEYS("duckdb"),
        .output = EIDER_OUTPUT_REQUIRED,
    });
    eider_asset_spec(defs, &(eider_asset_spec_def){
        .key = "iris_harvest_data",
        .description = "Harvest records, loaded by another team's pipeline",
        .group = "iris",
    });
}
