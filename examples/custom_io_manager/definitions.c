/*
 * An I/O manager of your own, written on Eider's public API alone: each asset's output
 * is a CSV file under csv/ beside this file (csv/<key>.csv; a partitioned asset's, one
 * file per partition: csv/<key>/<partition>.csv), written by DuckDB's COPY through a
 * temporary file renamed into place, and read back with read_csv(). iris_dataset and
 * iris_by_species are stored there; setosa, downstream, loads iris_by_species's files
 * as a frame and is stored in DuckDB by the DuckDB I/O manager:
 *
 *   eider materialize -f definitions.c --select iris_dataset
 *   eider materialize -f definitions.c --select iris_by_species --partition setosa
 *   eider materialize -f definitions.c --all-partitions --per-partition   (all of it)
 *   eider materialize -f definitions.c --select setosa
 */
#include <eider.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The manager's folder (its user_data). */
typedef struct csv_manager {
    const char *folder;
} csv_manager;

/* folder/<key>, the key's '/' made '.': the file is that plus ".csv", or the folder of
 * a partitioned asset's files. */
static void base_of(const csv_manager *m, eider_io *io, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", m->folder, eider_io_asset_key(io));
    for (char *p = out + strlen(m->folder) + 1; *p; p++)
        if (*p == '/')
            *p = '.';
}

/* text as an SQL string literal, appended to out. */
static void add_literal(char *out, size_t size, const char *text)
{
    size_t n = strlen(out);
    for (const char *p = text; n + 3 < size; p++) {
        if (p == text)
            out[n++] = '\'';
        if (!*p) {
            out[n++] = '\'';
            break;
        }
        if (*p == '\'')
            out[n++] = '\'';
        out[n++] = *p;
    }
    out[n] = '\0';
}

/* Whether the file is there: the asset's, or each partition's concerned (all of them:
 * the folder). */
static int csv_exists(eider_io *io, void *user_data)
{
    char base[1024], path[1100];
    struct stat st;
    size_t n = 0;
    const char *const *keys = eider_io_partition_keys(io, &n);
    base_of(user_data, io, base, sizeof(base));
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s.csv", base, keys[i]);
        if (stat(path, &st) != 0)
            return 0;
    }
    snprintf(path, sizeof(path), "%s.csv", base);
    return n || stat(path, &st) == 0 || stat(base, &st) == 0;
}

/* read_csv() of the file, or of the files of the partitions concerned (all: *.csv). */
static char *csv_relation(eider_io *io, void *user_data)
{
    const csv_manager *m = user_data;
    char base[1024], file[1100], *sql = malloc(8192);
    size_t n = 0;
    const char *const *keys = eider_io_partition_keys(io, &n);
    struct stat st;
    if (!sql)
        return NULL;
    base_of(m, io, base, sizeof(base));
    snprintf(sql, 8192, "read_csv(%s", n > 1 ? "[" : "");
    for (size_t i = 0; i < (n ? n : 1); i++) {
        int folder = stat(base, &st) == 0 && S_ISDIR(st.st_mode);
        if (n)
            snprintf(file, sizeof(file), "%s/%s.csv", base, keys[i]);
        else
            snprintf(file, sizeof(file), folder ? "%s/*.csv" : "%s.csv", base);
        if (i)
            strncat(sql, ", ", 8192 - strlen(sql) - 1);
        add_literal(sql, 8192, file);
    }
    strncat(sql, n > 1 ? "], header = true, union_by_name = true)" : ", header = true)",
            8192 - strlen(sql) - 1);
    return sql;
}

/* COPY the rows to a temporary file, then rename it into place: a reader sees the old
 * file or the new one. A partitioned asset's run writes one partition at a time here. */
static int csv_store(eider_io *io, const char *source, int64_t *rows, void *user_data)
{
    char base[1024], path[1100], tmp[1200], sql[8192] = "";
    size_t n = 0;
    const char *const *keys = eider_io_partition_keys(io, &n);
    duckdb_result res;
    if (n > 1)
        return eider_io_fail(io, "the CSV I/O manager writes one partition per run: give one "
                            "with --partition, or backfill with --all-partitions --per-partition");
    base_of(user_data, io, base, sizeof(base));
    mkdir(((const csv_manager *)user_data)->folder, 0755);
    if (n)
        mkdir(base, 0755);
    snprintf(path, sizeof(path), n ? "%s/%s.csv" : "%s.csv", base, n ? keys[0] : "");
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    snprintf(sql, sizeof(sql), "COPY (%s) TO ", source);
    add_literal(sql, sizeof(sql), tmp);
    strncat(sql, " (HEADER, DELIMITER ',')", sizeof(sql) - strlen(sql) - 1);
    if (duckdb_query(eider_io_connection(io), sql, &res) == DuckDBError) {
        int rc = eider_io_fail(io, "writing %s: %s", path, duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return rc;
    }
    duckdb_data_chunk chunk = duckdb_fetch_chunk(res);      /* COPY answers its row count */
    *rows = chunk ? ((int64_t *)duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 0)))[0] : -1;
    if (chunk)
        duckdb_destroy_data_chunk(&chunk);
    duckdb_destroy_result(&res);
    if (rename(tmp, path) != 0)
        return eider_io_fail(io, "cannot move %s into place", tmp);
    return EIDER_OK;
}

/* What the output is and where, for Eider's messages ("... does not exist"): a
 * partition's file, or the asset's CSV output (a file, or a folder of partitions). */
static char *csv_describe(eider_io *io, void *user_data)
{
    char base[1024], *out = malloc(1200);
    size_t n = 0;
    const char *const *keys = eider_io_partition_keys(io, &n);
    base_of(user_data, io, base, sizeof(base));
    if (out && n == 1)
        snprintf(out, 1200, "CSV file '%s/%s.csv'", base, keys[0]);
    else if (out)
        snprintf(out, 1200, "CSV output '%s'", base);
    return out;
}

static csv_manager csv = { "csv" };

static int iris_dataset(eider_context *ctx)
{
    return eider_output_frame(ctx, eider_frame_read_csv("iris.csv", &(eider_csv_options){
        .columns = EIDER_KEYS("sepal_length_cm", "sepal_width_cm", "petal_length_cm",
                              "petal_width_cm", "species"),
        .header = -1,
    }));
}

/* The rows of this partition's species ("setosa": "Iris-setosa"). */
static int iris_by_species(eider_context *ctx)
{
    char species[64];
    snprintf(species, sizeof(species), "Iris-%s", eider_partition_keys(ctx, NULL)[0]);
    return eider_output_frame(ctx, eider_frame_filter_eq(eider_input_frame(ctx, "iris_dataset"),
                                                         "species", species));
}

/* Loads every partition's CSV file of iris_by_species; its setosa rows go to DuckDB. */
static int setosa(eider_context *ctx)
{
    const eider_frame *rows = eider_input_frame(ctx, "iris_by_species");
    return eider_output_frame(ctx, eider_frame_filter_eq(rows, "species", "Iris-setosa"));
}

void eider_definitions(eider_defs *defs)
{
    eider_io_manager(defs, "csv", &(eider_io_manager_def){
        .exists = csv_exists, .relation = csv_relation, .store = csv_store, .user_data = &csv,
        .describe = csv_describe,
    });
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){
        .database = "my_duckdb_database.duckdb", .schema = "IRIS",
    });
    eider_asset(defs, &(eider_asset_def){
        .key = "iris_dataset", .compute = iris_dataset, .io_manager_key = "csv",
        .description = "The iris data set, stored as csv/iris_dataset.csv",
        .group = "iris", .kinds = EIDER_KEYS("csv"),
    });
    eider_asset(defs, &(eider_asset_def){
        .key = "iris_by_species", .compute = iris_by_species, .io_manager_key = "csv",
        .deps = EIDER_KEYS("iris_dataset"),
        .partitions = eider_static_partitions(defs, EIDER_KEYS("setosa", "versicolor", "virginica")),
        .description = "One CSV file per species: csv/iris_by_species/<species>.csv",
        .group = "iris", .kinds = EIDER_KEYS("csv"),
    });
    eider_asset(defs, &(eider_asset_def){
        .key = "setosa", .compute = setosa, .deps = EIDER_KEYS("iris_by_species"),
        .description = "The setosa rows, read from the CSV files, stored in DuckDB",
        .group = "iris", .kinds = EIDER_KEYS("duckdb"),
    });
}
