/*
 * test_io.c — the DuckDB I/O manager on real database files: where tables go, one
 * transaction per write, columns by name, schema-change policies, empty frames,
 * quoting, NULLs, inputs and their errors, the zero-copy SQL output, views, frames
 * named for SQL, and the metadata of a write. Every check reads the file back with
 * DuckDB alone, after the run has closed it.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "defs/defs.h"
#include "duckq.h"
#include "tmpdir.h"
#include "util/util.h"

/* ---- helpers ---- */

static void enter_tmpdir(void)
{
    enter_tmpdir_tagged("io");
}

static eider_defs *new_defs(const char *schema)
{
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){
                     .database = "io.duckdb", .schema = schema }), EIDER_OK);
    return defs;
}

static void add(eider_defs *defs, const eider_asset_def *def)
{
    cr_assert_eq(eider_asset(defs, def), EIDER_OK, "%s", eider_defs_errmsg(defs));
}

/* Materialize everything; returns the run's code and keeps the result in *out. */
static int run(eider_defs *defs, eider_result **out)
{
    eider_run_options o = { .jobs = 1 };
    return eider_materialize(defs, &o, out);
}

static const char *error_of(const eider_result *r, const char *key)
{
    long i = eider_result_find(r, key);
    cr_assert_geq(i, 0, "no step '%s'", key);
    const char *e = eider_result_error(r, (size_t)i);
    return e ? e : "(null)";
}

static void run_ok(eider_defs *defs)
{
    eider_result *r = NULL;
    int rc = run(defs, &r);
    for (size_t i = 0; rc && r && i < eider_result_count(r); i++)
        cr_log_error("%s: %s", eider_result_key(r, i), error_of(r, eider_result_key(r, i)));
    cr_assert_eq(rc, EIDER_OK, "run failed: %s", eider_defs_errmsg(defs));
    eider_result_free(r);
}

/* One value of a query on the run's DuckDB file, read by DuckDB alone (duckq.h). */
static char *query(const char *sql)
{
    return duckq("io.duckdb", sql);
}

#define expect_query(sql, expected) \
    cr_expect_str_eq(query(sql), (expected), "%s", (sql))

/* An output given as SQL, from the asset's user_data. */
static int out_sql(eider_context *ctx)
{
    return eider_output_sql(ctx, eider_user_data(ctx));
}

/* An output frame made by SQL (with no inputs) from user_data. */
static int out_frame_of_sql(eider_context *ctx)
{
    return eider_output_frame(ctx, eider_frame_sql(NULL, eider_user_data(ctx)));
}

/* ---- where tables go ---- */

static int iris_dataset(eider_context *ctx)
{
    return eider_output_frame(ctx, eider_frame_read_csv(EIDER_TEST_DATA "/../examples/duckdb_resource/iris.csv",
        &(eider_csv_options){ .columns = EIDER_KEYS("sepal_length_cm", "sepal_width_cm",
            "petal_length_cm", "petal_width_cm", "species"), .header = -1 }));
}

static int iris_setosa(eider_context *ctx)
{
    const eider_frame *iris = eider_input_frame(ctx, "iris_dataset");
    return eider_output_frame(ctx, eider_frame_filter_eq(iris, "species", "Iris-setosa"));
}

Test(io, tutorial_option_2_stores_iris_and_its_setosa_rows)
{
    enter_tmpdir();
    eider_defs *defs = new_defs("IRIS");
    add(defs, &(eider_asset_def){ .key = "iris_dataset", .compute = iris_dataset });
    add(defs, &(eider_asset_def){ .key = "iris_setosa", .compute = iris_setosa,
                                  .deps = EIDER_KEYS("iris_dataset") });
    run_ok(defs);
    expect_query("SELECT count(*)::VARCHAR FROM \"IRIS\".iris_dataset", "150");
    expect_query("SELECT count(*)::VARCHAR FROM \"IRIS\".iris_setosa", "50");
    expect_query("SELECT string_agg(DISTINCT species, ',')::VARCHAR FROM \"IRIS\".iris_setosa", "Iris-setosa");
    expect_query("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM "
                 "information_schema.columns WHERE table_name = 'iris_dataset'",
                 "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,species");
    eider_defs_free(defs);
}

Test(io, schema_comes_from_metadata_then_manager_then_prefix_then_public)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    add(defs, &(eider_asset_def){ .key = "a", .compute = out_sql, .user_data = "SELECT 1 AS x" });
    add(defs, &(eider_asset_def){ .key = "sales/b", .compute = out_sql, .user_data = "SELECT 2 AS x" });
    add(defs, &(eider_asset_def){ .key = "sales/c", .compute = out_sql, .user_data = "SELECT 3 AS x",
        .metadata = EIDER_METADATA(EIDER_META_TEXT("schema", "gold"), EIDER_META_TEXT("table", "see")) });
    run_ok(defs);
    expect_query("SELECT x::VARCHAR FROM public.a", "1");
    expect_query("SELECT x::VARCHAR FROM sales.b", "2");
    expect_query("SELECT x::VARCHAR FROM gold.see", "3");
    eider_defs_free(defs);

    defs = new_defs("mgr");
    add(defs, &(eider_asset_def){ .key = "sales/b", .compute = out_sql, .user_data = "SELECT 4 AS x" });
    run_ok(defs);
    expect_query("SELECT x::VARCHAR FROM mgr.b", "4");
    eider_defs_free(defs);
}

/* ---- schema changes and columns by name ---- */

static void write_once(const char *sql, const char *policy, int expect_ok, char *error, size_t size)
{
    eider_defs *defs = new_defs(NULL);
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "t", .compute = out_frame_of_sql, .user_data = (void *)sql,
        .metadata = policy ? EIDER_METADATA(EIDER_META_TEXT("on_schema_change", policy)) : NULL });
    int rc = run(defs, &r);
    cr_assert_eq(rc == EIDER_OK, expect_ok, "%s", r ? error_of(r, "t") : eider_defs_errmsg(defs));
    if (error)
        snprintf(error, size, "%s", r ? error_of(r, "t") : "");
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(io, a_column_added_between_runs_is_stored_by_default)
{
    enter_tmpdir();
    write_once("SELECT 1 AS a, 'x' AS b", NULL, 1, NULL, 0);
    write_once("SELECT 2 AS a, 'y' AS b, 3.5 AS c", NULL, 1, NULL, 0);
    expect_query("SELECT a || b || c FROM public.t", "2y3.5");
}

Test(io, evolve_adds_the_new_column_and_keeps_the_table)
{
    enter_tmpdir();
    write_once("SELECT 1 AS a, 'x' AS b", "evolve", 1, NULL, 0);
    write_once("SELECT 2 AS a, 'y' AS b, 3 AS c", "evolve", 1, NULL, 0);
    expect_query("SELECT count(*)::VARCHAR || ':' || max(a) || max(b) || max(c) FROM public.t", "1:2y3");
}

Test(io, fail_policy_refuses_a_new_column_and_keeps_the_rows)
{
    char error[1024];
    enter_tmpdir();
    write_once("SELECT 1 AS a", "fail", 1, NULL, 0);
    write_once("SELECT 2 AS a, 3 AS c", "fail", 0, error, sizeof(error));
    cr_expect(strstr(error, "new column 'c'"), "%s", error);
    cr_expect(strstr(error, "on_schema_change"), "%s", error);
    expect_query("SELECT a::VARCHAR FROM public.t", "1");
}

Test(io, reordered_columns_land_by_name_not_position)
{
    enter_tmpdir();
    write_once("SELECT 1 AS a, 2 AS b", "evolve", 1, NULL, 0);
    write_once("SELECT 20 AS b, 10 AS a", "evolve", 1, NULL, 0);
    expect_query("SELECT a || ',' || b FROM public.t", "10,20");
    write_once("SELECT 200 AS b, 100 AS a", NULL, 1, NULL, 0);
    expect_query("SELECT a || ',' || b FROM public.t", "100,200");
}

Test(io, evolve_refuses_a_type_change_with_a_clear_message)
{
    char error[1024];
    enter_tmpdir();
    write_once("SELECT 1 AS a", "evolve", 1, NULL, 0);
    write_once("SELECT 'text' AS a", "evolve", 0, error, sizeof(error));
    cr_expect(strstr(error, "column 'a'") && strstr(error, "INTEGER") && strstr(error, "VARCHAR"),
              "%s", error);
    expect_query("SELECT a::VARCHAR FROM public.t", "1");
}

Test(io, an_empty_frame_gives_an_empty_table_with_its_columns)
{
    enter_tmpdir();
    write_once("SELECT 1::INTEGER AS a, 'x' AS b WHERE false", NULL, 1, NULL, 0);
    expect_query("SELECT count(*)::VARCHAR FROM public.t", "0");
    expect_query("SELECT string_agg(column_name || ' ' || data_type, ',' ORDER BY ordinal_position) "
                 "FROM information_schema.columns WHERE table_name = 't'", "a INTEGER,b VARCHAR");
}

/* The output fails halfway through its rows (DuckDB's error() on row 150,000). */
#define FAILS_HALFWAY "SELECT CASE WHEN i = 150000 THEN error('boom') ELSE i END AS a FROM range(300000) r(i)"

Test(io, a_write_that_fails_halfway_leaves_the_old_table_whole)
{
    char error[1024];
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    add(defs, &(eider_asset_def){ .key = "t", .compute = out_sql, .user_data = "SELECT range AS a FROM range(1000)" });
    run_ok(defs);
    eider_defs_free(defs);
    const char *policies[] = { "replace", "evolve" };
    for (size_t i = 0; i < 2; i++) {
        eider_result *r = NULL;
        defs = new_defs(NULL);
        add(defs, &(eider_asset_def){ .key = "t", .compute = out_sql, .user_data = FAILS_HALFWAY,
            .metadata = EIDER_METADATA(EIDER_META_TEXT("on_schema_change", policies[i])) });
        cr_assert_eq(run(defs, &r), EIDER_ERUNFAILED);
        snprintf(error, sizeof(error), "%s", error_of(r, "t"));
        cr_expect(strstr(error, "boom"), "%s", error);
        eider_result_free(r);
        eider_defs_free(defs);
        expect_query("SELECT count(*)::VARCHAR || ',' || max(a) FROM public.t", "1000,999");
    }
}

/* ---- names and values that need quoting ---- */

static int odd_frame(eider_context *ctx)
{
    eider_frame *f = eider_frame_new();
    eider_frame_add_column(f, "col \"q\" é", EIDER_TYPE_VARCHAR);
    eider_frame_add_column(f, "n", EIDER_TYPE_BIGINT);
    eider_frame_append_text(f, "it's \"quoted\"; DROP TABLE x; --");
    eider_frame_append_int64(f, 1);
    eider_frame_end_row(f);
    return eider_output_frame(ctx, f);
}

static int odd_reader(eider_context *ctx)
{
    const eider_frame *f = eider_input_frame(ctx, "odd");
    if (!f)
        return EIDER_ESTEP;
    if (eider_frame_rows(f) != 1 || strcmp(eider_frame_get_text(f, 0, 0), "it's \"quoted\"; DROP TABLE x; --"))
        return eider_fail(ctx, "the odd value did not round-trip");
    return eider_output_sql(ctx, "SELECT * FROM {odd}");
}

Test(io, quotes_spaces_and_unicode_in_names_and_values_round_trip)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    add(defs, &(eider_asset_def){ .key = "odd", .compute = odd_frame, .metadata = EIDER_METADATA(
        EIDER_META_TEXT("schema", "my \"odd\" schema"), EIDER_META_TEXT("table", "my \"odd\" table")) });
    add(defs, &(eider_asset_def){ .key = "copy", .compute = odd_reader, .deps = EIDER_KEYS("odd"),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("schema", "ünï cödé")) });
    run_ok(defs);
    expect_query("SELECT \"col \"\"q\"\" é\" FROM \"my \"\"odd\"\" schema\".\"my \"\"odd\"\" table\"",
                 "it's \"quoted\"; DROP TABLE x; --");
    expect_query("SELECT \"col \"\"q\"\" é\" FROM \"ünï cödé\".copy", "it's \"quoted\"; DROP TABLE x; --");
    eider_defs_free(defs);
}

static int every_type_with_nulls(eider_context *ctx)
{
    eider_frame *f = eider_frame_new();
    eider_type types[] = { EIDER_TYPE_BOOLEAN, EIDER_TYPE_INTEGER, EIDER_TYPE_BIGINT, EIDER_TYPE_DOUBLE,
                           EIDER_TYPE_DECIMAL, EIDER_TYPE_VARCHAR, EIDER_TYPE_DATE,
                           EIDER_TYPE_TIMESTAMP, EIDER_TYPE_TIMESTAMP_TZ };
    const char *values[] = { "true", "7", "8000000000", "2.5", "3.125", "text", "2024-02-29",
                             "2024-02-29 13:14:15", "2024-02-29 13:14:15Z" };
    for (size_t i = 0; i < 9; i++) {
        char name[8];
        snprintf(name, sizeof(name), "c%zu", i);
        eider_frame_add_column(f, name, types[i]);
    }
    for (int row = 0; row < 2; row++) {
        for (size_t i = 0; i < 9; i++)
            cr_assert_eq(row ? eider_frame_append_null(f) : eider_frame_append_text(f, values[i]),
                         EIDER_OK, "%s", eider_frame_error());
        eider_frame_end_row(f);
    }
    return eider_output_frame(ctx, f);
}

static int check_every_type(eider_context *ctx)
{
    const eider_frame *f = eider_input_frame(ctx, "typed");
    if (!f)
        return EIDER_ESTEP;
    for (size_t c = 0; c < 9; c++)
        if (eider_frame_is_null(f, c, 0) || !eider_frame_is_null(f, c, 1))
            return eider_fail(ctx, "column %zu lost its value or its NULL", c);
    if (eider_frame_get_int64(f, 2, 0) != 8000000000LL || eider_frame_get_double(f, 4, 0) != 3.125 ||
        strcmp(eider_frame_get_text(f, 5, 0), "text"))
        return eider_fail(ctx, "values changed on the way back");
    return EIDER_OK;
}

Test(io, nulls_of_every_type_round_trip)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    add(defs, &(eider_asset_def){ .key = "typed", .compute = every_type_with_nulls });
    add(defs, &(eider_asset_def){ .key = "check", .compute = check_every_type, .deps = EIDER_KEYS("typed"),
                                  .output = EIDER_OUTPUT_NONE });
    run_ok(defs);
    expect_query("SELECT count(*)::VARCHAR FROM public.typed WHERE COLUMNS(*) IS NULL", "1");
    expect_query("SELECT concat_ws('|', c0, c1, c2, c3, c4, c5, c6, c7) FROM public.typed WHERE c0",
                 "true|7|8000000000|2.5|3.125|text|2024-02-29|2024-02-29 13:14:15");
    expect_query("SELECT data_type FROM information_schema.columns WHERE column_name = 'c8'",
                 "TIMESTAMP WITH TIME ZONE");
    eider_defs_free(defs);
}

static int megabyte_string(eider_context *ctx)
{
    size_t n = 1024 * 1024;
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)('a' + i % 26);
    s[n] = '\0';
    eider_frame *f = eider_frame_new();
    eider_frame_add_column(f, "s", EIDER_TYPE_VARCHAR);
    eider_frame_append_text(f, s);
    eider_frame_end_row(f);
    free(s);
    return eider_output_frame(ctx, f);
}

Test(io, a_megabyte_string_round_trips)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    add(defs, &(eider_asset_def){ .key = "big", .compute = megabyte_string });
    run_ok(defs);
    expect_query("SELECT length(s)::VARCHAR || right(s, 3) FROM public.big", "1048576tuv");
    eider_defs_free(defs);
}

/* ---- inputs ---- */

static int sepal_data(eider_context *ctx)
{
    const eider_frame *f = eider_input_frame(ctx, "iris_dataset");
    if (!f)
        return EIDER_ESTEP;
    if (eider_frame_columns(f) != 2)
        return eider_fail(ctx, "expected the 2 selected columns, got %zu", eider_frame_columns(f));
    return eider_output_frame(ctx, eider_frame_sql(EIDER_FRAMES({ "iris", f }),
        "SELECT *, sepal_length_cm * sepal_width_cm AS sepal_area_cm2 FROM iris"));
}

Test(io, an_input_loads_only_its_selected_columns)
{
    enter_tmpdir();
    eider_defs *defs = new_defs("iris");
    add(defs, &(eider_asset_def){ .key = "iris_dataset", .compute = iris_dataset });
    add(defs, &(eider_asset_def){ .key = "sepal_data", .compute = sepal_data,
        .ins = EIDER_INPUTS({ .key = "iris_dataset",
                              .columns = EIDER_KEYS("sepal_length_cm", "sepal_width_cm") }) });
    run_ok(defs);
    expect_query("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM "
                 "information_schema.columns WHERE table_name = 'sepal_data'",
                 "sepal_length_cm,sepal_width_cm,sepal_area_cm2");
    expect_query("SELECT round(sepal_area_cm2, 2)::VARCHAR FROM iris.sepal_data LIMIT 1", "17.85");
    eider_defs_free(defs);
}

static int read_input(eider_context *ctx)
{
    return eider_input_frame(ctx, "upstream") ? EIDER_OK : EIDER_ESTEP;
}

Test(io, a_missing_input_table_names_the_table_and_the_asset_to_materialize)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "upstream", .compute = out_sql, .user_data = "SELECT 1 AS x" });
    add(defs, &(eider_asset_def){ .key = "down", .compute = read_input, .deps = EIDER_KEYS("upstream") });
    eider_run_options o = { .selection = "down" };
    cr_assert_eq(eider_materialize(defs, &o, &r), EIDER_ERUNFAILED);
    const char *e = error_of(r, "down");
    cr_expect(strstr(e, "table \"io\".\"public\".\"upstream\" in '") &&
              strstr(e, "io.duckdb' does not exist"), "%s", e);
    cr_expect(strstr(e, "materialize 'upstream' first"), "%s", e);
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(io, an_external_assets_input_loads_like_any_other)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    eider_result *r = NULL;
    cr_assert_eq(eider_asset_spec(defs, &(eider_asset_spec_def){ .key = "upstream" }), EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "down", .compute = read_input, .deps = EIDER_KEYS("upstream") });
    cr_assert_eq(run(defs, &r), EIDER_ERUNFAILED);
    cr_expect(strstr(error_of(r, "down"), "is an external asset"), "%s", error_of(r, "down"));
    eider_result_free(r);
    eider_defs_free(defs);

    duckdb_database db;
    duckdb_connection con;
    cr_assert_eq(duckdb_open("io.duckdb", &db), DuckDBSuccess);
    duckdb_connect(db, &con);
    cr_assert_eq(duckdb_query(con, "CREATE SCHEMA public; CREATE TABLE public.upstream AS SELECT 42 AS x",
                              NULL), DuckDBSuccess);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    defs = new_defs(NULL);
    eider_asset_spec(defs, &(eider_asset_spec_def){ .key = "upstream" });
    add(defs, &(eider_asset_def){ .key = "down", .compute = read_input, .deps = EIDER_KEYS("upstream"),
                                  .output = EIDER_OUTPUT_NONE });
    run_ok(defs);
    eider_defs_free(defs);
}

Test(io, an_input_that_is_not_a_dependency_is_an_error)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "down", .compute = read_input });
    cr_assert_eq(run(defs, &r), EIDER_ERUNFAILED);
    cr_expect(strstr(error_of(r, "down"), "has no input 'upstream'"), "%s", error_of(r, "down"));
    eider_result_free(r);
    eider_defs_free(defs);
}

/* ---- outputs ---- */

static int no_output(eider_context *ctx)
{
    return EIDER_OK;
}

Test(io, a_required_output_that_is_not_given_fails_the_step)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "t", .compute = no_output, .output = EIDER_OUTPUT_REQUIRED });
    add(defs, &(eider_asset_def){ .key = "fine", .compute = no_output, .output = EIDER_OUTPUT_OPTIONAL });
    cr_assert_eq(run(defs, &r), EIDER_ERUNFAILED);
    cr_expect(strstr(error_of(r, "t"), "returned without giving one"), "%s", error_of(r, "t"));
    cr_expect_eq(eider_result_status(r, (size_t)eider_result_find(r, "fine")), EIDER_STEP_SUCCESS);
    expect_query("SELECT count(*)::VARCHAR FROM information_schema.tables", "0");
    eider_result_free(r);
    eider_defs_free(defs);
}

/* As Dagster's "Unexpected 'None' output": an asset stored by the I/O manager that stored
 * nothing did not materialize, and what depends on it is skipped, not failed later with
 * "materialize it first". */
Test(io, a_missing_output_through_the_io_manager_fails_by_default)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "t", .compute = no_output });
    add(defs, &(eider_asset_def){ .key = "down", .compute = out_sql, .deps = EIDER_KEYS("t"),
                                  .user_data = "SELECT * FROM {t}" });
    cr_assert_eq(run(defs, &r), EIDER_ERUNFAILED);
    cr_expect_eq(eider_result_status(r, (size_t)eider_result_find(r, "t")), EIDER_STEP_FAILED);
    cr_expect(strstr(error_of(r, "t"), "returned without an output, so I/O manager 'io_manager' "
                                       "stored nothing"), "%s", error_of(r, "t"));
    cr_expect(strstr(error_of(r, "t"), "EIDER_OUTPUT_OPTIONAL"), "%s", error_of(r, "t"));
    cr_expect_eq(eider_result_status(r, (size_t)eider_result_find(r, "down")), EIDER_STEP_SKIPPED);
    eider_result_free(r);
    eider_defs_free(defs);
}

/* The tutorial's Option 1 beside an I/O manager: an asset that declares the resources it
 * runs its own SQL on writes its own tables, and needs no output. */
Test(io, an_asset_that_declares_resources_needs_no_output)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    cr_assert_eq(eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "io.duckdb" }),
                 EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "own", .compute = no_output, .resources = EIDER_KEYS("duckdb") });
    add(defs, &(eider_asset_def){ .key = "spare", .compute = no_output, .output = EIDER_OUTPUT_OPTIONAL });
    run_ok(defs);
    eider_defs_free(defs);
}

/* A named I/O manager is a declared intent to store: no output fails even with resources. */
Test(io, an_asset_naming_its_io_manager_must_give_an_output)
{
    enter_tmpdir();
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    cr_assert_eq(eider_duckdb_io_manager(defs, "warehouse", &(eider_duckdb_io_config){
                     .database = "io.duckdb" }), EIDER_OK);
    cr_assert_eq(eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "io.duckdb" }),
                 EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "t", .compute = no_output, .io_manager_key = "warehouse",
                                  .resources = EIDER_KEYS("duckdb") });
    cr_assert_eq(run(defs, &r), EIDER_ERUNFAILED);
    cr_expect(strstr(error_of(r, "t"), "I/O manager 'warehouse' stored nothing"), "%s", error_of(r, "t"));
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(io, an_output_from_an_asset_declared_without_one_fails)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "t", .compute = out_sql, .user_data = "SELECT 1 AS x",
                                  .output = EIDER_OUTPUT_NONE });
    cr_assert_eq(run(defs, &r), EIDER_ERUNFAILED);
    cr_expect(strstr(error_of(r, "t"), "EIDER_OUTPUT_NONE"), "%s", error_of(r, "t"));
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(io, sql_output_names_its_inputs_and_runs_inside_duckdb)
{
    enter_tmpdir();
    eider_defs *defs = new_defs("IRIS");
    add(defs, &(eider_asset_def){ .key = "iris_dataset", .compute = iris_dataset });
    add(defs, &(eider_asset_def){ .key = "iris_setosa", .compute = out_sql, .deps = EIDER_KEYS("iris_dataset"),
        .user_data = "SELECT * FROM {iris_dataset} WHERE species = 'Iris-setosa' AND '{x}' = '{x}'" });
    run_ok(defs);
    expect_query("SELECT count(*)::VARCHAR FROM \"IRIS\".iris_setosa", "50");
    eider_defs_free(defs);
}

Test(io, a_view_materialization_makes_a_view)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    add(defs, &(eider_asset_def){ .key = "base", .compute = out_sql, .user_data = "SELECT range AS a FROM range(5)" });
    add(defs, &(eider_asset_def){ .key = "v", .compute = out_sql, .deps = EIDER_KEYS("base"),
        .user_data = "SELECT sum(a) AS s FROM {base}",
        .metadata = EIDER_METADATA(EIDER_META_TEXT("materialized", "view")) });
    run_ok(defs);
    expect_query("SELECT table_type FROM information_schema.tables WHERE table_name = 'v'", "VIEW");
    expect_query("SELECT s::VARCHAR FROM public.v", "10");
    eider_defs_free(defs);
}

static int resource_style(eider_context *ctx)
{
    eider_frame *f = eider_frame_sql(NULL, "SELECT 'setosa' AS species, 5.1 AS len");
    duckdb_connection con = eider_duckdb_connection(ctx, "duckdb");
    int rc = eider_register_frame(ctx, "iris_df", f);
    if (!rc)
        rc = eider_sql(ctx, con, "CREATE SCHEMA IF NOT EXISTS iris; "
                                 "CREATE TABLE iris.iris_dataset AS SELECT * FROM iris_df");
    eider_frame_free(f);
    return rc;
}

Test(io, a_registered_frame_is_a_table_name_in_the_steps_sql)
{
    enter_tmpdir();
    eider_defs *defs = eider_defs_new();
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "io.duckdb" });
    add(defs, &(eider_asset_def){ .key = "iris_dataset", .compute = resource_style,
                                  .resources = EIDER_KEYS("duckdb") });
    run_ok(defs);
    expect_query("SELECT species || len FROM iris.iris_dataset", "setosa5.1");
    eider_defs_free(defs);
}

static const eider_meta *meta_of(const eider_result *r, const char *key, const char *name)
{
    size_t n = 0;
    const eider_meta *m = eider_result_metadata(r, (size_t)eider_result_find(r, key), &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].key, name) == 0)
            return &m[i];
    cr_assert_fail("no metadata '%s' on '%s'", name, key);
    return NULL;
}

Test(io, a_write_reports_row_count_table_columns_preview_and_load_query)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "s/t", .compute = out_sql,
        .user_data = "SELECT range AS n, 'v' || range AS s FROM range(25)" });
    cr_assert_eq(run(defs, &r), EIDER_OK);
    cr_expect_eq(meta_of(r, "s/t", "row_count")->i, 25);
    cr_expect_str_eq(meta_of(r, "s/t", "table")->text, "io.s.t");
    const char *columns = meta_of(r, "s/t", "columns")->text;
    cr_expect_str_eq(columns, "[{\"name\":\"n\",\"type\":\"BIGINT\"},{\"name\":\"s\",\"type\":\"VARCHAR\"}]",
                     "%s", columns);
    cr_expect_str_eq(meta_of(r, "s/t", "load_query")->text, "SELECT * FROM \"io\".\"s\".\"t\"");
    const char *preview = meta_of(r, "s/t", "preview")->text;
    cr_expect(strncmp(preview, "[{\"n\":0,\"s\":\"v0\"},", 18) == 0, "%s", preview);
    cr_expect(strstr(preview, "\"v9\"") && !strstr(preview, "\"v10\""), "%s", preview);
    eider_result_free(r);
    eider_defs_free(defs);
}

/* ---- partitions ---- */

static int species_rows(eider_context *ctx)
{
    size_t n = 0;
    const char *const *keys = eider_partition_keys(ctx, &n);
    eider_frame *f = eider_frame_new();
    eider_frame_add_column(f, "species", EIDER_TYPE_VARCHAR);
    eider_frame_add_column(f, "n", EIDER_TYPE_BIGINT);
    for (size_t k = 0; k < n; k++)
        for (int i = 0; i < 3; i++) {
            eider_frame_append_text(f, keys[k]);
            eider_frame_append_int64(f, eider_attempt(ctx) * 100 + i);
            eider_frame_end_row(f);
        }
    return eider_output_frame(ctx, f);
}

static eider_defs *species_defs(const char *const *keys, int with_expr)
{
    eider_defs *defs = new_defs(NULL);
    const eider_partitions *p = eider_static_partitions(defs, keys);
    cr_assert_not_null(p, "%s", eider_defs_errmsg(defs));
    eider_asset(defs, &(eider_asset_def){ .key = "by_species", .compute = species_rows, .partitions = p,
        .metadata = with_expr ? EIDER_METADATA(EIDER_META_TEXT("partition_expr", "species")) : NULL });
    return defs;
}

static int run_partition(eider_defs *defs, const char *selection, const char *partition, eider_result **r)
{
    eider_run_options o = { .selection = selection, .partition = partition, .jobs = 1 };
    return eider_materialize(defs, &o, r);
}

Test(io, a_partition_write_replaces_only_its_own_rows)
{
    enter_tmpdir();
    const char *const *keys = EIDER_KEYS("setosa", "it's \"odd\"", "virginica");
    eider_defs *defs = species_defs(keys, 1);
    cr_assert_eq(run_partition(defs, NULL, "setosa", NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_assert_eq(run_partition(defs, NULL, "it's \"odd\"...virginica", NULL), EIDER_OK);
    cr_assert_eq(run_partition(defs, NULL, "setosa", NULL), EIDER_OK);
    expect_query("SELECT string_agg(species || ':' || c, ',' ORDER BY species) FROM "
                 "(SELECT species, count(*)::VARCHAR AS c FROM public.by_species GROUP BY 1)",
                 "it's \"odd\":3,setosa:3,virginica:3");
    eider_defs_free(defs);
}

Test(io, a_partitioned_asset_without_partition_expr_is_refused_with_an_explanation)
{
    enter_tmpdir();
    eider_defs *defs = species_defs(EIDER_KEYS("a", "b"), 0);
    cr_assert_eq(eider_defs_validate(defs), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "partition_expr"), "%s", eider_defs_errmsg(defs));
    cr_expect(strstr(eider_defs_errmsg(defs), "'by_species' is partitioned"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

Test(io, a_run_naming_a_partitioned_asset_without_a_partition_or_with_an_unknown_one_does_not_start)
{
    enter_tmpdir();
    eider_defs *defs = species_defs(EIDER_KEYS("setosa", "virginica"), 1);
    cr_assert_eq(run_partition(defs, "by_species", NULL, NULL), EIDER_ESELECT);
    cr_expect_str_eq(eider_defs_errmsg(defs), "asset 'by_species' is partitioned: choose its "
        "partitions with --partition KEY, --partition-range FIRST...LAST or --all-partitions, "
        "or leave it out of the selection");
    cr_assert_eq(run_partition(defs, NULL, "setsoa", NULL), EIDER_ESELECT);
    cr_expect(strstr(eider_defs_errmsg(defs), "did you mean 'setosa'"), "%s", eider_defs_errmsg(defs));
    expect_query("SELECT count(*)::VARCHAR FROM information_schema.tables", "0");
    eider_defs_free(defs);
}

Test(io, a_partition_given_when_no_selected_asset_is_partitioned_is_refused)
{
    enter_tmpdir();
    eider_defs *defs = species_defs(EIDER_KEYS("setosa"), 1);
    add(defs, &(eider_asset_def){ .key = "plain", .compute = iris_dataset });
    cr_assert_eq(run_partition(defs, "plain", "setosa", NULL), EIDER_ESELECT);
    cr_expect_str_eq(eider_defs_errmsg(defs), "partition 'setosa' was given, but 'plain' is not "
        "partitioned: leave out --partition, or select the partitioned assets to materialize");
    cr_assert_eq(run_partition(defs, "plain", "setosa...setosa", NULL), EIDER_ESELECT);
    cr_expect_str_eq(eider_defs_errmsg(defs), "partitions 'setosa...setosa' were given, but "
        "'plain' is not partitioned: leave out --partition-range, or select the partitioned "
        "assets to materialize");
    expect_query("SELECT count(*)::VARCHAR FROM information_schema.tables", "0");
    eider_defs_free(defs);
}

Test(io, assets_named_without_a_partition_are_refused_in_the_plural)
{
    enter_tmpdir();
    eider_defs *defs = species_defs(EIDER_KEYS("setosa"), 1);
    add(defs, &(eider_asset_def){ .key = "again", .compute = species_rows,
        .partitions = eider_static_partitions(defs, EIDER_KEYS("a")),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "species")) });
    cr_assert_eq(run_partition(defs, "by_species, again+", NULL, NULL), EIDER_ESELECT);
    cr_expect(strstr(eider_defs_errmsg(defs), "assets 'by_species' and 'again' are partitioned: "
        "choose their partitions"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

Test(io, a_run_without_a_partition_of_only_partitioned_assets_runs_nothing_and_succeeds)
{
    enter_tmpdir();
    eider_defs *defs = species_defs(EIDER_KEYS("setosa"), 1);
    eider_result *r = NULL;
    const char *up = "x";
    eider_left_out_why why = EIDER_LEFT_OUT_UPSTREAM;
    cr_assert_eq(run_partition(defs, NULL, NULL, &r), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_result_count(r), 0);
    cr_assert_eq(eider_result_left_out_count(r), 1);
    cr_expect_str_eq(eider_result_left_out(r, 0, &why, &up), "by_species");
    cr_expect_eq(why, EIDER_LEFT_OUT_NO_PARTITION);
    cr_expect_null(up);
    cr_expect_null(eider_result_left_out(r, 1, NULL, NULL));
    eider_result_free(r);
    /* a selection that does not name it by key leaves it out as well */
    cr_assert_eq(run_partition(defs, "key:by_*", NULL, &r), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_result_left_out_count(r), 1);
    eider_result_free(r);
    eider_defs_free(defs);
}

static int count_by_species(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT count(*) AS n FROM {by_species}");
}

/* What reads a partitioned asset left out runs only once that asset has a table: before,
 * it is left out too (named, with why), after, it runs on what is there. */
Test(io, a_run_without_a_partition_leaves_out_what_reads_an_asset_never_materialized)
{
    enter_tmpdir();
    eider_store *store = NULL;
    cr_assert_eq(eider_store_open("store", &store), EIDER_OK, "%s", eider_store_errmsg(store));
    eider_defs *defs = species_defs(EIDER_KEYS("setosa", "virginica"), 1);
    add(defs, &(eider_asset_def){ .key = "summary", .compute = count_by_species,
                                  .deps = EIDER_KEYS("by_species") });
    add(defs, &(eider_asset_def){ .key = "report", .compute = iris_dataset, .deps = EIDER_KEYS("summary") });
    add(defs, &(eider_asset_def){ .key = "plain", .compute = iris_dataset });
    eider_run_options o = { .store = store, .jobs = 1 };
    eider_result *r = NULL;
    const char *up = NULL;
    eider_left_out_why why = EIDER_LEFT_OUT_NO_PARTITION;
    cr_assert_eq(eider_materialize(defs, &o, &r), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_result_count(r), 1);
    cr_expect_str_eq(eider_result_key(r, 0), "plain");
    cr_assert_eq(eider_result_left_out_count(r), 3);
    cr_expect_str_eq(eider_result_left_out(r, 1, &why, &up), "summary");
    cr_expect_eq(why, EIDER_LEFT_OUT_UPSTREAM);
    cr_expect_str_eq(up, "by_species");
    cr_expect_str_eq(eider_result_left_out(r, 2, NULL, &up), "report");
    cr_expect_str_eq(up, "summary");
    eider_result_free(r);
    o.partition = "setosa";
    o.selection = "by_species";
    cr_assert_eq(eider_materialize(defs, &o, NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    o.partition = NULL;
    o.selection = NULL;
    cr_assert_eq(eider_materialize(defs, &o, &r), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_result_count(r), 3);
    cr_expect_eq(eider_result_left_out_count(r), 1);
    eider_result_free(r);
    expect_query("SELECT n::VARCHAR FROM public.summary", "3");
    eider_defs_free(defs);
    eider_store_close(store);
}

/* Without a store, nothing is known to have been materialized: what reads an asset left
 * out is left out too, rather than fail on a table that may not exist. */
Test(io, without_a_store_what_reads_an_asset_left_out_is_left_out)
{
    enter_tmpdir();
    eider_defs *defs = species_defs(EIDER_KEYS("setosa"), 1);
    add(defs, &(eider_asset_def){ .key = "summary", .compute = count_by_species,
                                  .deps = EIDER_KEYS("by_species") });
    eider_result *r = NULL;
    cr_assert_eq(run_partition(defs, NULL, NULL, &r), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_result_count(r), 0);
    cr_expect_eq(eider_result_left_out_count(r), 2);
    eider_result_free(r);
    eider_defs_free(defs);
}

/* A run of one partition runs it for the selected assets that have it; the others are
 * left out, unless named by key; when none has it, the run is refused (a typo). */
Test(io, a_run_of_a_partition_leaves_out_the_assets_without_it)
{
    enter_tmpdir();
    eider_defs *defs = species_defs(EIDER_KEYS("setosa", "virginica"), 1);
    add(defs, &(eider_asset_def){ .key = "colours", .compute = species_rows,
        .partitions = eider_static_partitions(defs, EIDER_KEYS("red", "blue")),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "species")) });
    eider_result *r = NULL;
    eider_left_out_why why = EIDER_LEFT_OUT_NO_PARTITION;
    cr_assert_eq(run_partition(defs, NULL, "red", &r), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_result_count(r), 1);
    cr_expect_str_eq(eider_result_key(r, 0), "colours");
    cr_assert_eq(eider_result_left_out_count(r), 1);
    cr_expect_str_eq(eider_result_left_out(r, 0, &why, NULL), "by_species");
    cr_expect_eq(why, EIDER_LEFT_OUT_NOT_ITS_PARTITION);
    eider_result_free(r);
    cr_assert_eq(run_partition(defs, "by_species, colours", "red", NULL), EIDER_ESELECT);
    cr_expect(strstr(eider_defs_errmsg(defs), "asset 'by_species' has no partition 'red'"), "%s",
              eider_defs_errmsg(defs));
    cr_assert_eq(run_partition(defs, NULL, "rde", NULL), EIDER_ESELECT);
    cr_expect(strstr(eider_defs_errmsg(defs), "no partition 'rde'"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

/* stale() holds a partitioned asset one day and not the next: a daily job's partition
 * that no stale asset has is no error, the unpartitioned stale ones run. */
Test(io, a_stale_run_of_a_partition_no_stale_asset_has_runs_the_others)
{
    enter_tmpdir();
    eider_store *store = NULL;
    cr_assert_eq(eider_store_open("store", &store), EIDER_OK, "%s", eider_store_errmsg(store));
    eider_defs *defs = species_defs(EIDER_KEYS("setosa", "virginica"), 1);
    add(defs, &(eider_asset_def){ .key = "plain", .compute = iris_dataset });
    eider_defs_use_store(defs, store);
    eider_run_options o = { .selection = "stale()", .partition = "2024-01-01", .store = store,
                            .jobs = 1 };
    eider_result *r = NULL;
    eider_left_out_why why = EIDER_LEFT_OUT_NO_PARTITION;
    cr_assert_eq(eider_materialize(defs, &o, &r), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_result_count(r), 1);
    cr_expect_str_eq(eider_result_key(r, 0), "plain");
    cr_expect_str_eq(eider_result_left_out(r, 0, &why, NULL), "by_species");
    cr_expect_eq(why, EIDER_LEFT_OUT_NOT_ITS_PARTITION);
    eider_result_free(r);
    o.selection = "*";   /* not by state: a partition no asset has is a typo */
    cr_assert_eq(eider_materialize(defs, &o, NULL), EIDER_ESELECT);
    eider_defs_free(defs);
    eider_store_close(store);
}

Test(io, a_partition_for_an_empty_selection_runs_nothing)
{
    enter_tmpdir();
    eider_defs *defs = species_defs(EIDER_KEYS("setosa"), 1);
    add(defs, &(eider_asset_def){ .key = "plain", .compute = iris_dataset });
    eider_run_options o = { .selection = "plain and by_species", .all_partitions = 1, .jobs = 1 };
    eider_result *r = NULL;
    cr_assert_eq(eider_materialize(defs, &o, &r), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_result_count(r), 0);
    eider_result_free(r);
    o.selection = "plain";
    cr_assert_eq(eider_materialize(defs, &o, NULL), EIDER_ESELECT);
    cr_expect_str_eq(eider_defs_errmsg(defs), "--all-partitions was given, but 'plain' is not "
        "partitioned: leave out --all-partitions, or select the partitioned assets to "
        "materialize");
    eider_defs_free(defs);
}

Test(io, a_run_of_every_asset_without_a_partition_leaves_the_partitioned_ones_out)
{
    enter_tmpdir();
    eider_defs *defs = species_defs(EIDER_KEYS("setosa"), 1);
    add(defs, &(eider_asset_def){ .key = "plain", .compute = iris_dataset });
    eider_result *r = NULL;
    cr_assert_eq(run_partition(defs, NULL, NULL, &r), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_result_count(r), 1);
    cr_expect_eq(eider_result_find(r, "by_species"), -1);
    eider_result_free(r);
    expect_query("SELECT string_agg(table_name, ',') FROM information_schema.tables", "plain");
    eider_defs_free(defs);
}

/* The rows of input by_species counted, with the step's partition (if any) as column
 * "part", so that a partitioned write finds its rows in its partition. */
static int count_input(eider_context *ctx)
{
    size_t n = 0;
    const char *const *keys = eider_partition_keys(ctx, &n);
    char sql[128];
    const eider_frame *f = eider_input_frame(ctx, "by_species");
    snprintf(sql, sizeof(sql), "SELECT count(*) AS n, '%s' AS part FROM f", n ? keys[0] : "");
    return f ? eider_output_frame(ctx, eider_frame_sql(EIDER_FRAMES({ "f", f }), sql)) : EIDER_ESTEP;
}

Test(io, downstream_loads_the_mapped_partitions_or_all_when_unpartitioned)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    const eider_partitions *p = eider_static_partitions(defs, EIDER_KEYS("a", "b", "c"));
    eider_asset(defs, &(eider_asset_def){ .key = "by_species", .compute = species_rows, .partitions = p,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "species")) });
    eider_asset(defs, &(eider_asset_def){ .key = "same", .compute = count_input, .partitions = p,
        .deps = EIDER_KEYS("by_species"), .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "part")) });
    eider_asset(defs, &(eider_asset_def){ .key = "whole", .compute = count_input, .deps = EIDER_KEYS("by_species") });
    cr_assert_eq(run_partition(defs, "by_species", "a...c", NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    eider_result *r = NULL;
    cr_assert_eq(run_partition(defs, "same", "b", &r), EIDER_OK, "%s", r ? error_of(r, "same") : "");
    eider_result_free(r);
    expect_query("SELECT n::VARCHAR FROM public.same", "3");
    cr_assert_eq(run_partition(defs, "whole", NULL, NULL), EIDER_OK);
    expect_query("SELECT n::VARCHAR FROM public.whole", "9");
    eider_defs_free(defs);
}

Test(io, a_missing_partitioned_input_says_to_give_a_partition)
{
    enter_tmpdir();
    eider_defs *defs = species_defs(EIDER_KEYS("setosa"), 1);
    add(defs, &(eider_asset_def){ .key = "whole", .compute = count_input, .deps = EIDER_KEYS("by_species") });
    eider_result *r = NULL;
    cr_assert_eq(run_partition(defs, "whole", NULL, &r), EIDER_ERUNFAILED);
    cr_expect(strstr(error_of(r, "whole"), "materialize 'by_species' first (eider materialize "
                     "--select 'by_species' --partition KEY, or --all-partitions)"),
              "%s", error_of(r, "whole"));
    eider_result_free(r);
    eider_defs_free(defs);
}

static int read_quoted(eider_context *ctx)
{
    return eider_input_frame(ctx, "o'brien") ? eider_output_sql(ctx, "SELECT 1 AS x") : EIDER_ESTEP;
}

Test(io, a_missing_input_names_a_command_the_shell_takes_whole)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    add(defs, &(eider_asset_def){ .key = "o'brien", .compute = iris_dataset });
    add(defs, &(eider_asset_def){ .key = "reader", .compute = read_quoted, .deps = EIDER_KEYS("o'brien") });
    eider_result *r = NULL;
    eider_run_options o = { .selection = "reader", .jobs = 1 };
    cr_assert_eq(eider_materialize(defs, &o, &r), EIDER_ERUNFAILED);
    cr_expect(strstr(error_of(r, "reader"), "(eider materialize --select 'o'\\''brien')"), "%s",
              error_of(r, "reader"));
    eider_result_free(r);
    eider_defs_free(defs);
}

static int day_rows(eider_context *ctx)
{
    size_t n = 0;
    const char *const *keys = eider_partition_keys(ctx, &n);
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT DATE '%s' + (i %% %zu)::INTEGER AS day, i FROM range(10) t(i)", keys[0], n);
    return eider_output_frame(ctx, eider_frame_sql(NULL, sql));
}

Test(io, daily_partitions_write_their_days_only)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    const eider_partitions *days = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-02-27", .end = "2024-03-03", .timezone = "America/New_York" });
    cr_assert_not_null(days, "%s", eider_defs_errmsg(defs));
    eider_asset(defs, &(eider_asset_def){ .key = "daily", .compute = day_rows, .partitions = days,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "day")) });
    eider_result *range = NULL;
    cr_assert_eq(run_partition(defs, NULL, "2024-02-27...2024-03-01", &range), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_str_eq(meta_of(range, "daily", "partition_row_counts")->text,
                     "{\"2024-02-27\":3,\"2024-02-28\":3,\"2024-02-29\":2,\"2024-03-01\":2}");
    eider_result_free(range);
    expect_query("SELECT count(DISTINCT day)::VARCHAR || ',' || count(*) FROM public.daily", "4,10");
    eider_result *r = NULL;
    cr_assert_eq(run_partition(defs, NULL, "2024-02-29", &r), EIDER_OK);
    size_t n = 0;
    const eider_meta *m = eider_result_metadata(r, 0, &n);
    for (size_t i = 0; i < n; i++)
        cr_expect(strcmp(m[i].key, "partition_row_counts"), "one partition: its row_count is enough");
    eider_result_free(r);
    expect_query("SELECT string_agg(day || '=' || c, ',' ORDER BY day) FROM (SELECT day, count(*) AS c "
                 "FROM public.daily GROUP BY day)", "2024-02-27=3,2024-02-28=3,2024-02-29=10,2024-03-01=2");
    eider_defs_free(defs);
}

/* The run's day and, when user_data is set, a row of the day after too; or, with
 * metadata "text", the day as text ('2024-01-02'). */
static int day_rows_maybe_spilling(eider_context *ctx)
{
    size_t n = 0;
    const char *const *keys = eider_partition_keys(ctx, &n);
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT DATE '%s' + (i %% %d)::INTEGER AS day, i FROM range(4) t(i)",
             keys[0], eider_user_data(ctx) ? 2 : 1);
    return eider_output_frame(ctx, eider_frame_sql(NULL, sql));
}

static eider_defs *spill_defs(int spill)
{
    eider_defs *defs = new_defs(NULL);
    const eider_partitions *days = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .end = "2024-01-05" });
    cr_assert_not_null(days, "%s", eider_defs_errmsg(defs));
    add(defs, &(eider_asset_def){ .key = "daily", .compute = day_rows_maybe_spilling,
        .user_data = spill ? "spill" : NULL, .partitions = days,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "day")) });
    return defs;
}

Test(io, a_partitioned_write_with_a_row_outside_its_partition_fails_and_keeps_the_table)
{
    enter_tmpdir();
    eider_defs *defs = spill_defs(0);
    cr_assert_eq(run_partition(defs, NULL, "2024-01-02", NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
    defs = spill_defs(1);
    eider_result *r = NULL;
    cr_assert_eq(run_partition(defs, NULL, "2024-01-01", &r), EIDER_ERUNFAILED);
    cr_expect(strstr(error_of(r, "daily"), "lies outside the partitions this run writes"), "%s",
              error_of(r, "daily"));
    eider_result_free(r);
    expect_query("SELECT string_agg(day || '=' || c, ',' ORDER BY day) FROM (SELECT day, count(*) AS c "
                 "FROM public.daily GROUP BY day)", "2024-01-02=4");
    eider_defs_free(defs);
}

static int text_day_rows(eider_context *ctx)
{
    size_t n = 0;
    const char *const *keys = eider_partition_keys(ctx, &n);
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT '%s' AS day, i FROM range(3) t(i)", keys[0]);
    return eider_output_sql(ctx, sql);
}

static int count_daily(eider_context *ctx)
{
    const eider_frame *f = eider_input_frame(ctx, "daily");
    size_t n = 0;
    const char *const *keys = eider_partition_keys(ctx, &n);
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT '%s' AS day, count(*) AS n FROM f", keys[0]);
    return f ? eider_output_frame(ctx, eider_frame_sql(EIDER_FRAMES({ "f", f }), sql)) : EIDER_ESTEP;
}

Test(io, a_day_written_as_text_is_in_its_own_partition)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    const eider_partitions *days = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .end = "2024-01-05" });
    const eider_meta *by_day = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "day"));
    add(defs, &(eider_asset_def){ .key = "daily", .compute = text_day_rows, .partitions = days,
                                  .metadata = by_day });
    add(defs, &(eider_asset_def){ .key = "counted", .compute = count_daily, .partitions = days,
                                  .deps = EIDER_KEYS("daily"), .metadata = by_day });
    cr_assert_eq(run_partition(defs, NULL, "2024-01-02", NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_assert_eq(run_partition(defs, NULL, "2024-01-02", NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    expect_query("SELECT count(*)::VARCHAR FROM public.daily", "3");
    expect_query("SELECT n::VARCHAR FROM public.counted", "3");
    eider_defs_free(defs);
}

/* Two events of each of the run's days in Paris, at 00:30 and 23:30 there, in a
 * TIMESTAMPTZ column "ts", with the wall-clock time as text in "what". */
static int paris_events(eider_context *ctx)
{
    size_t n = 0;
    const char *const *keys = eider_partition_keys(ctx, &n);
    eider__buf sql = { 0 };
    eider__buf_puts(&sql, "SELECT timezone('Europe/Paris', w) AS ts, strftime(w, '%Y-%m-%d %H:%M') "
                    "AS what FROM (SELECT d::TIMESTAMP + m * INTERVAL 1 MINUTE AS w FROM unnest([");
    for (size_t i = 0; i < n; i++)
        eider__buf_printf(&sql, "%sDATE '%s'", i ? ", " : "", keys[i]);
    eider__buf_puts(&sql, "]) t(d), (VALUES (30), (1410)) u(m))");
    int rc = eider_output_sql(ctx, eider__buf_str(&sql));
    eider__buf_release(&sql);
    return rc;
}

/* The day's events as loaded: by frame (user_data NULL) or by {events} in SQL. */
static int paris_day_reader(eider_context *ctx)
{
    size_t n = 0;
    const char *const *keys = eider_partition_keys(ctx, &n);
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT DATE '%s' AS day, count(*) AS n, string_agg(what, ',' ORDER "
             "BY what) AS whats FROM %s", keys[0],
             eider_user_data(ctx) ? (const char *)eider_user_data(ctx) : "f");
    if (eider_user_data(ctx))
        return eider_output_sql(ctx, sql);
    const eider_frame *f = eider_input_frame(ctx, "events");
    return f ? eider_output_frame(ctx, eider_frame_sql(EIDER_FRAMES({ "f", f }), sql)) : EIDER_ESTEP;
}

/* Write three days of Paris partitions with TZ set to zone, then load one of them. */
static void paris_day_loads_its_rows(const char *zone)
{
    setenv("TZ", zone, 1);
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    const eider_partitions *days = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .end = "2024-01-05", .timezone = "Europe/Paris" });
    add(defs, &(eider_asset_def){ .key = "events", .compute = paris_events, .partitions = days,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "ts")) });
    add(defs, &(eider_asset_def){ .key = "by_frame", .compute = paris_day_reader, .partitions = days,
        .deps = EIDER_KEYS("events"), .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "day")) });
    add(defs, &(eider_asset_def){ .key = "by_sql", .compute = paris_day_reader, .partitions = days,
        .user_data = "{events}", .deps = EIDER_KEYS("events"),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "day")) });
    cr_assert_eq(run_partition(defs, "events", "2024-01-01...2024-01-03", NULL), EIDER_OK,
                 "%s", eider_defs_errmsg(defs));
    eider_result *r = NULL;
    cr_assert_eq(run_partition(defs, "by_frame, by_sql", "2024-01-02", &r), EIDER_OK, "%s",
                 r ? error_of(r, "by_sql") : eider_defs_errmsg(defs));
    eider_result_free(r);
    expect_query("SELECT current_setting('TimeZone')", zone);
    const char *day = "1/2/2024-01-02 00:30,2024-01-02 23:30";
    expect_query("SELECT count(*) || '/' || max(n) || '/' || max(whats) FROM public.by_frame", day);
    expect_query("SELECT count(*) || '/' || max(n) || '/' || max(whats) FROM public.by_sql", day);
    eider_defs_free(defs);
}

Test(io, a_paris_partition_loads_its_own_rows_in_new_york)
{
    paris_day_loads_its_rows("America/New_York");
}

Test(io, a_paris_partition_loads_its_own_rows_in_tokyo)
{
    paris_day_loads_its_rows("Asia/Tokyo");
}

Test(io, a_paris_partition_loads_its_own_rows_in_utc)
{
    paris_day_loads_its_rows("UTC");
}

/* ---- partition mappings ---- */

/* Rows of each run key of a day x colour asset: "day" and "colour" columns. */
static int day_colour_rows(eider_context *ctx)
{
    size_t n = 0;
    const char *const *keys = eider_partition_keys(ctx, &n);
    eider_frame *f = eider_frame_new();
    eider_frame_add_column(f, "day", EIDER_TYPE_DATE);
    eider_frame_add_column(f, "colour", EIDER_TYPE_VARCHAR);
    for (size_t k = 0; k < n; k++) {
        char day[16] = "", colour[32] = "";
        cr_assert_eq(sscanf(keys[k], "%15[^|]|%31s", day, colour), 2, "key '%s'", keys[k]);
        eider_frame_append_text(f, day);
        eider_frame_append_text(f, colour);
        eider_frame_end_row(f);
    }
    return eider_output_frame(ctx, f);
}

/* One row: the run's first key as "key" and what input user_data loads, counted. */
static int count_mapped(eider_context *ctx)
{
    size_t n = 0;
    const char *const *keys = eider_partition_keys(ctx, &n);
    const eider_frame *f = eider_input_frame(ctx, (const char *)eider_user_data(ctx));
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT '%s' AS key, count(*) AS n FROM f", keys[0]);
    return f ? eider_output_frame(ctx, eider_frame_sql(EIDER_FRAMES({ "f", f }), sql)) : EIDER_ESTEP;
}

Test(io, a_daily_asset_reads_only_its_day_of_a_day_by_colour_upstream)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    const eider_partitions *days = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .end = "2024-01-04" });
    const eider_partitions *colours = eider_static_partitions(defs, EIDER_KEYS("blue", "red"));
    const eider_partitions *cells = eider_multi_partitions(defs, EIDER_KEYS("day", "colour"),
                                                           EIDER_PARTITIONS(days, colours));
    add(defs, &(eider_asset_def){ .key = "cells", .compute = day_colour_rows, .partitions = cells,
        .metadata = EIDER_METADATA(EIDER_META_JSON("partition_expr", "{\"day\": \"day\", \"colour\": \"colour\"}")) });
    add(defs, &(eider_asset_def){ .key = "per_day", .compute = count_mapped, .partitions = days,
        .user_data = "cells", .deps = EIDER_KEYS("cells"),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "key::DATE")) });
    cr_assert_eq(run_partition(defs, "cells", "2024-01-01|blue...2024-01-03|red", NULL), EIDER_OK,
                 "%s", eider_defs_errmsg(defs));
    eider_result *r = NULL;
    cr_assert_eq(run_partition(defs, "per_day", "2024-01-02", &r), EIDER_OK, "%s",
                 r ? error_of(r, "per_day") : eider_defs_errmsg(defs));
    eider_result_free(r);
    expect_query("SELECT key || '=' || n FROM public.per_day", "2024-01-02=2");
    eider_defs_free(defs);
}

static int running_total(eider_context *ctx)
{
    size_t n = 0;
    const char *const *keys = eider_partition_keys(ctx, &n);
    int exists = eider_input_exists(ctx, "running");
    const eider_frame *prev = eider_input_frame(ctx, "running");
    char sql[256];
    if (!prev)
        return EIDER_ESTEP;
    if (!exists != !eider_frame_columns(prev))      /* its first run: a frame of no columns */
        return eider_fail(ctx, "eider_input_exists() is %d, but the frame has %zu columns",
                          exists, eider_frame_columns(prev));
    snprintf(sql, sizeof(sql), "SELECT DATE '%s' AS day, %s AS total", keys[0],
             exists ? "(SELECT coalesce(max(total), 0) + 1 FROM prev)" : "1");
    return eider_output_frame(ctx, eider_frame_sql(exists ? EIDER_FRAMES({ "prev", prev }) : NULL, sql));
}

/* The same in SQL, dbt's is_incremental() way: {running} only once its table exists. */
static int running_total_sql(eider_context *ctx)
{
    size_t n = 0;
    const char *const *keys = eider_partition_keys(ctx, &n);
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT DATE '%s' AS day, %s AS total", keys[0],
             eider_input_exists(ctx, "running") || eider_user_data(ctx)
             ? "(SELECT coalesce(max(total), 0) + 1 FROM {running})" : "1::BIGINT");
    return eider_output_sql(ctx, sql);
}

static int exists_of_unknown_input(eider_context *ctx)
{
    return eider_input_exists(ctx, "nope") ? eider_fail(ctx, "1 for an unknown input") : EIDER_OK;
}

static eider_defs *running_defs(int (*compute)(eider_context *), void *user_data)
{
    eider_defs *defs = new_defs(NULL);
    const eider_partitions *days = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .end = "2024-01-05" });
    add(defs, &(eider_asset_def){ .key = "running", .compute = compute, .partitions = days,
        .user_data = user_data, .ins = EIDER_INPUTS({ .key = "running", .partition_mapping = {
            .kind = EIDER_MAP_TIME_WINDOW, .start_offset = -1, .end_offset = -1 } }),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "day")) });
    return defs;
}

Test(io, an_sql_asset_reads_its_own_previous_partition_once_its_table_exists)
{
    enter_tmpdir();
    eider_defs *defs = running_defs(running_total_sql, NULL);
    const char *order[] = { "2024-01-02", "2024-01-03", "2024-01-01", "2024-01-02" };
    for (size_t i = 0; i < 4; i++) {
        eider_result *r = NULL;
        cr_assert_eq(run_partition(defs, NULL, order[i], &r), EIDER_OK, "%s: %s", order[i],
                     r ? error_of(r, "running") : eider_defs_errmsg(defs));
        eider_result_free(r);
    }
    expect_query("SELECT string_agg(day || '=' || total, ',' ORDER BY day) FROM public.running",
                 "2024-01-01=1,2024-01-02=2,2024-01-03=2");
    eider_defs_free(defs);
}

Test(io, an_sql_asset_naming_itself_before_its_table_exists_fails_saying_so)
{
    enter_tmpdir();
    eider_defs *defs = running_defs(running_total_sql, "naive");
    eider_result *r = NULL;
    cr_assert_eq(run_partition(defs, NULL, "2024-01-01", &r), EIDER_ERUNFAILED);
    cr_expect(strstr(error_of(r, "running"), "asset 'running': {running} reads its own earlier "
        "partitions, but table \"io\".\"public\".\"running\" in '"), "%s", error_of(r, "running"));
    cr_expect(strstr(error_of(r, "running"), "io.duckdb' does not exist yet (this is its first "
        "run): give SQL without {running} when eider_input_exists(ctx, \"running\") is 0"),
        "%s", error_of(r, "running"));
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(io, a_parquet_stored_asset_reads_its_own_previous_partition_from_its_first_run)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    cr_assert_eq(eider_parquet_io_manager(defs, "pq", &(eider_parquet_io_config){ .base_path = "files" }), EIDER_OK);
    const eider_partitions *days = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .end = "2024-01-05" });
    add(defs, &(eider_asset_def){ .key = "running", .compute = running_total, .partitions = days,
        .io_manager_key = "pq", .ins = EIDER_INPUTS({ .key = "running", .partition_mapping = {
            .kind = EIDER_MAP_TIME_WINDOW, .start_offset = -1, .end_offset = -1 } }),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "day")) });
    const char *order[] = { "2024-01-01", "2024-01-02", "2024-01-01" };
    for (size_t i = 0; i < 3; i++) {
        eider_result *r = NULL;
        cr_assert_eq(run_partition(defs, NULL, order[i], &r), EIDER_OK, "%s: %s", order[i],
                     r ? error_of(r, "running") : eider_defs_errmsg(defs));
        eider_result_free(r);
    }
    expect_query("SELECT string_agg(day || '=' || total, ',' ORDER BY day) FROM "
                 "read_parquet('files/running/*.parquet')", "2024-01-01=1,2024-01-02=2");
    eider_defs_free(defs);
}

Test(io, input_exists_of_an_input_the_asset_lacks_fails_the_step)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    add(defs, &(eider_asset_def){ .key = "lonely", .compute = exists_of_unknown_input,
                                  .output = EIDER_OUTPUT_OPTIONAL });
    eider_result *r = NULL;
    cr_assert_eq(run(defs, &r), EIDER_ERUNFAILED);
    cr_expect(strstr(error_of(r, "lonely"), "asset 'lonely' has no input 'nope'"), "%s",
              error_of(r, "lonely"));
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(io, an_asset_reads_its_own_previous_partition_without_a_cycle)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    const eider_partitions *days = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .end = "2024-01-05" });
    add(defs, &(eider_asset_def){ .key = "running", .compute = running_total, .partitions = days,
        .ins = EIDER_INPUTS({ .key = "running", .partition_mapping = {
            .kind = EIDER_MAP_TIME_WINDOW, .start_offset = -1, .end_offset = -1 } }),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "day")) });
    cr_assert_eq(eider_defs_validate(defs), EIDER_OK, "%s", eider_defs_errmsg(defs));
    const char *order[] = { "2024-01-01", "2024-01-02", "2024-01-03", "2024-01-02" };
    for (size_t i = 0; i < 4; i++) {
        eider_result *r = NULL;
        cr_assert_eq(run_partition(defs, NULL, order[i], &r), EIDER_OK, "%s: %s", order[i],
                     r ? error_of(r, "running") : eider_defs_errmsg(defs));
        eider_result_free(r);
    }
    expect_query("SELECT string_agg(day || '=' || total, ',' ORDER BY day) FROM public.running",
                 "2024-01-01=1,2024-01-02=2,2024-01-03=3");
    cr_expect_eq(run_partition(defs, NULL, "2024-01-02...2024-01-04", NULL), EIDER_ESELECT);
    cr_expect(strstr(eider_defs_errmsg(defs), "asset 'running' reads its own earlier partitions, so "
                     "a run materializes one of its partitions, not 3"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

Test(io, static_and_all_mappings_read_the_partitions_they_name)
{
    enter_tmpdir();
    eider_defs *defs = species_defs(EIDER_KEYS("a", "b", "c"), 1);
    const eider_partitions *mine = eider_static_partitions(defs, EIDER_KEYS("x", "y"));
    add(defs, &(eider_asset_def){ .key = "paired", .compute = count_mapped, .partitions = mine,
        .user_data = "by_species", .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "key")),
        .ins = EIDER_INPUTS({ .key = "by_species", .partition_mapping = { .kind = EIDER_MAP_STATIC,
            .pairs = EIDER_KEYS("x", "a", "x", "c", "y", "b") } }) });
    add(defs, &(eider_asset_def){ .key = "every", .compute = count_mapped, .partitions = mine,
        .user_data = "by_species", .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "key")),
        .ins = EIDER_INPUTS({ .key = "by_species", .partition_mapping = { .kind = EIDER_MAP_ALL } }) });
    cr_assert_eq(run_partition(defs, "by_species", "a...c", NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    eider_result *r = NULL;
    cr_assert_eq(run_partition(defs, "paired, every", "x", &r), EIDER_OK, "%s",
                 r ? error_of(r, "paired") : eider_defs_errmsg(defs));
    eider_result_free(r);
    expect_query("SELECT n::VARCHAR FROM public.paired", "6");
    expect_query("SELECT n::VARCHAR FROM public.every", "9");
    eider_defs_free(defs);
}

Test(io, partitions_that_map_in_no_clear_way_are_refused_at_validation)
{
    enter_tmpdir();
    eider_defs *defs = species_defs(EIDER_KEYS("a", "b"), 1);
    const eider_partitions *days = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .end = "2024-01-04" });
    add(defs, &(eider_asset_def){ .key = "daily", .compute = count_mapped, .partitions = days,
        .user_data = "by_species", .deps = EIDER_KEYS("by_species"),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "key::DATE")) });
    cr_assert_eq(eider_defs_validate(defs), EIDER_EINVAL);
    cr_expect_str_eq(eider_defs_errmsg(defs), "asset 'daily' reads asset 'by_species', but their "
        "partitions differ (daily; static) and no mapping is clear: declare which partitions it "
        "reads on the input, e.g. .partition_mapping = { .kind = EIDER_MAP_ALL } (EIDER_MAP_ALL "
        "reads every partition)");
    eider_defs_free(defs);
}

/* ---- dynamic partitions ---- */

Test(io, dynamic_partitions_run_the_keys_added_to_the_store)
{
    enter_tmpdir();
    eider_store *store = NULL;
    cr_assert_eq(eider_store_open("store", &store), EIDER_OK, "%s", eider_store_errmsg(store));
    eider_defs *defs = new_defs(NULL);
    const eider_partitions *regions = eider_dynamic_partitions(defs, "regions");
    cr_assert_not_null(regions, "%s", eider_defs_errmsg(defs));
    add(defs, &(eider_asset_def){ .key = "by_region", .compute = species_rows, .partitions = regions,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "species")) });
    eider_run_options o = { .partition = "eu", .store = store, .jobs = 1 };
    cr_assert_eq(eider_materialize(defs, &o, NULL), EIDER_ESELECT);
    cr_expect(strstr(eider_defs_errmsg(defs), "dynamic partitions 'regions' have no keys yet: add "
                     "them with eider partitions add regions KEY..."), "%s", eider_defs_errmsg(defs));
    cr_assert_eq(eider_store_add_partitions(store, "regions", EIDER_KEYS("us", "eu"), NULL), EIDER_OK);
    cr_assert_eq(eider_materialize(defs, &o, NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    o.partition = "asia";
    cr_assert_eq(eider_materialize(defs, &o, NULL), EIDER_ESELECT);
    cr_expect(strstr(eider_defs_errmsg(defs), "add it with eider partitions add regions 'asia'"),
              "%s", eider_defs_errmsg(defs));
    o.partition = NULL;
    o.all_partitions = 1;
    cr_assert_eq(eider_materialize(defs, &o, NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    eider_store_close(store);
    expect_query("SELECT string_agg(DISTINCT species, ',' ORDER BY species) FROM public.by_region", "eu,us");
    eider_defs_free(defs);
}

/* ---- Parquet, handlers, Arrow ---- */

Test(io, parquet_and_duckdb_managers_side_by_side)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    cr_assert_eq(eider_parquet_io_manager(defs, "pq", &(eider_parquet_io_config){ .base_path = "files" }), EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "raw/iris_dataset", .compute = iris_dataset, .io_manager_key = "pq" });
    add(defs, &(eider_asset_def){ .key = "setosa", .compute = out_sql, .io_manager_key = "pq",
        .deps = EIDER_KEYS("raw/iris_dataset"),
        .user_data = "SELECT * FROM {iris_dataset} WHERE species = 'Iris-setosa'" });
    add(defs, &(eider_asset_def){ .key = "sepal_data", .compute = sepal_data,
        .ins = EIDER_INPUTS({ .key = "raw/iris_dataset", .columns = EIDER_KEYS("sepal_length_cm", "sepal_width_cm") }) });
    run_ok(defs);
    cr_expect_eq(access("files/raw/iris_dataset.parquet", F_OK), 0);
    cr_expect_eq(access("files/setosa.parquet", F_OK), 0);
    expect_query("SELECT count(*)::VARCHAR FROM read_parquet('files/setosa.parquet')", "50");
    expect_query("SELECT count(*)::VARCHAR FROM public.sepal_data", "150");
    eider_defs_free(defs);
}

/* The metadata "path" names the file written, which a reader can open as it is. */
Test(io, a_parquet_writes_path_is_the_file_with_its_extension)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    eider_result *r = NULL;
    cr_assert_eq(eider_parquet_io_manager(defs, "pq", &(eider_parquet_io_config){ .base_path = "files" }), EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "raw/t", .compute = out_sql, .io_manager_key = "pq",
                                  .user_data = "SELECT 1 AS x" });
    cr_assert_eq(run(defs, &r), EIDER_OK);
    const char *path = meta_of(r, "raw/t", "path")->text;
    size_t len = strlen(path), want = strlen("files/raw/t.parquet");
    cr_expect(len >= want && strcmp(path + len - want, "files/raw/t.parquet") == 0, "%s", path);
    cr_expect_eq(access(path, F_OK), 0, "%s", path);
    eider_result_free(r);
    eider_defs_free(defs);
}

/* A user type: an array of int64 with a length. */
typedef struct series {
    size_t n;
    int64_t v[8];
} series;

static int series_store(eider_io *io, const void *value, void *user_data)
{
    const series *s = value;
    eider_frame *f = eider_frame_new();
    eider_frame_add_column_data(f, (const char *)user_data, EIDER_TYPE_BIGINT, s->v, NULL, s->n);
    int rc = eider_io_store_frame(io, f);
    eider_frame_free(f);
    return rc;
}

static void *series_load(eider_io *io, void *user_data)
{
    eider_frame *f = eider_io_load_frame(io);
    if (!f)
        return NULL;
    series *s = calloc(1, sizeof(*s));
    for (size_t i = 0; i < eider_frame_rows(f) && i < 8; i++)
        s->v[s->n++] = eider_frame_get_int64(f, 0, i);
    eider_frame_free(f);
    return s;
}

static void series_free(void *value, void *user_data)
{
    free(value);
}

static series out_series = { 3, { 5, 6, 7 } };

static int give_series(eider_context *ctx)
{
    return eider_output(ctx, "series", &out_series);
}

static int double_series(eider_context *ctx)
{
    series *in = eider_input(ctx, "src", "series");
    static series doubled;
    if (!in)
        return EIDER_ESTEP;
    doubled.n = in->n;
    for (size_t i = 0; i < in->n; i++)
        doubled.v[i] = in->v[i] * 2;
    return eider_output(ctx, "series", &doubled);
}

static int give_unknown(eider_context *ctx)
{
    return eider_output(ctx, "matrix", &out_series);
}

Test(io, a_users_type_handler_stores_and_loads_its_type)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    eider_result *r = NULL;
    cr_assert_eq(eider_type_handler(defs, NULL, &(eider_type_handler_def){ .type = "series",
        .store = series_store, .load = series_load, .free = series_free, .user_data = "value" }), EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "src", .compute = give_series });
    add(defs, &(eider_asset_def){ .key = "doubled", .compute = double_series, .deps = EIDER_KEYS("src") });
    add(defs, &(eider_asset_def){ .key = "odd", .compute = give_unknown });
    cr_assert_eq(run(defs, &r), EIDER_ERUNFAILED);
    cr_expect(strstr(error_of(r, "odd"), "type 'matrix'"), "%s", error_of(r, "odd"));
    cr_expect_eq(eider_result_status(r, (size_t)eider_result_find(r, "doubled")), EIDER_STEP_SUCCESS,
                 "%s", error_of(r, "doubled"));
    expect_query("SELECT string_agg(value::VARCHAR, ',' ORDER BY value) FROM public.doubled", "10,12,14");
    eider_result_free(r);
    eider_defs_free(defs);
}

static int arrow_out(eider_context *ctx)
{
    eider_frame *f = eider_frame_sql(NULL, "SELECT range AS id, 'r' || range AS name FROM range(5000)");
    struct ArrowArrayStream s;
    cr_assert_eq(eider_frame_to_arrow_stream(f, 1000, &s), EIDER_OK);
    eider_frame_free(f);
    return eider_output_arrow(ctx, &s);
}

static int arrow_in(eider_context *ctx)
{
    struct ArrowArrayStream *s = eider_input_arrow(ctx, "arrowed");
    return s ? eider_output_frame(ctx, eider_frame_from_arrow_stream(s)) : EIDER_ESTEP;
}

Test(io, arrow_streams_are_stored_and_loaded)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    add(defs, &(eider_asset_def){ .key = "arrowed", .compute = arrow_out });
    add(defs, &(eider_asset_def){ .key = "back", .compute = arrow_in, .deps = EIDER_KEYS("arrowed") });
    run_ok(defs);
    expect_query("SELECT count(*) || ',' || sum(id) || ',' || max(name) FROM public.back", "5000,12497500,r999");
    eider_defs_free(defs);
}

/* ---- readers never see a half-written table ---- */

static atomic_int writer_done;

static int big_writer(eider_context *ctx)
{
    int rc = eider_output_sql(ctx, "SELECT range AS a FROM range(3000000)");
    return rc;
}

static int watcher(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "same_db");
    int64_t n = 0;
    for (int i = 0; i < 400 && !writer_done; i++) {
        if (eider_sql_int64(ctx, con, "SELECT count(*) FROM public.t", &n))
            return EIDER_ESTEP;
        if (n != 1000 && n != 3000000)
            return eider_fail(ctx, "a reader saw %lld rows", (long long)n);
        eider__sleep_ms(1);
    }
    return EIDER_OK;
}

static void on_end(const eider_event *ev, void *user_data)
{
    if (ev->type == EIDER_EVENT_STEP_SUCCESS && ev->asset_key && strcmp(ev->asset_key, "t") == 0)
        writer_done = 1;
}

Test(io, a_reader_sees_the_old_table_or_the_new_one_never_an_empty_one)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    add(defs, &(eider_asset_def){ .key = "t", .compute = out_sql, .user_data = "SELECT range AS a FROM range(1000)" });
    run_ok(defs);
    eider_defs_free(defs);
    defs = new_defs(NULL);
    eider_duckdb_resource(defs, "same_db", &(eider_duckdb_config){ .database = "io.duckdb" });
    add(defs, &(eider_asset_def){ .key = "t", .compute = big_writer });
    add(defs, &(eider_asset_def){ .key = "w", .compute = watcher, .resources = EIDER_KEYS("same_db") });
    eider_event_sink sink = { on_end, NULL };
    eider_result *r = NULL;
    eider_run_options o = { .jobs = 2, .sink = &sink };
    cr_assert_eq(eider_materialize(defs, &o, &r), EIDER_OK, "%s", r ? error_of(r, "w") : "");
    eider_result_free(r);
    expect_query("SELECT count(*)::VARCHAR FROM public.t", "3000000");
    eider_defs_free(defs);
}

static int species_day_rows(eider_context *ctx)
{
    size_t n = 0;
    const char *const *keys = eider_partition_keys(ctx, &n);
    eider_frame *f = eider_frame_new();
    eider_frame_add_column(f, "species", EIDER_TYPE_VARCHAR);
    eider_frame_add_column(f, "day", EIDER_TYPE_DATE);
    eider_frame_add_column(f, "run", EIDER_TYPE_INTEGER);
    for (size_t k = 0; k < n; k++) {
        char species[64] = "", day[16] = "";
        cr_assert_eq(sscanf(keys[k], "%63[^|]|%15s", species, day), 2, "key '%s'", keys[k]);
        eider_frame_append_text(f, species);
        eider_frame_append_text(f, day);
        eider_frame_append_int64(f, (int64_t)n);
        eider_frame_end_row(f);
    }
    return eider_output_frame(ctx, f);
}

Test(io, multi_dimensional_partitions_write_their_cells_only)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    const eider_partitions *sp = eider_static_partitions(defs, EIDER_KEYS("setosa", "virginica", "x"));
    const eider_partitions *days = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .end = "2024-01-03" });
    const eider_partitions *colors = eider_static_partitions(defs, EIDER_KEYS("red"));
    const eider_partitions *multi = eider_multi_partitions(defs, EIDER_KEYS("species", "day"),
                                                           EIDER_PARTITIONS(sp, days));
    cr_assert_not_null(multi, "%s", eider_defs_errmsg(defs));
    cr_assert_not_null(eider_multi_partitions(defs, EIDER_KEYS("species", "day", "color"),
                                              EIDER_PARTITIONS(sp, days, colors)),
                       "three dimensions: %s", eider_defs_errmsg(defs));
    eider_asset(defs, &(eider_asset_def){ .key = "cells", .compute = species_day_rows, .partitions = multi,
        .metadata = EIDER_METADATA(EIDER_META_JSON("partition_expr", "{\"species\": \"species\", \"day\": \"day\"}")) });
    cr_assert_eq(run_partition(defs, NULL, "setosa|2024-01-01...x|2024-01-02", NULL), EIDER_OK,
                 "%s", eider_defs_errmsg(defs));
    expect_query("SELECT count(*)::VARCHAR || '/' || max(run) FROM public.cells", "6/6");
    cr_assert_eq(run_partition(defs, NULL, "virginica|2024-01-02", NULL), EIDER_OK);
    expect_query("SELECT string_agg(species || ' ' || day || ' ' || run, ',' ORDER BY species, day) "
                 "FROM public.cells WHERE species = 'virginica'",
                 "virginica 2024-01-01 6,virginica 2024-01-02 1");
    expect_query("SELECT count(*)::VARCHAR FROM public.cells", "6");
    eider_defs_free(defs);
}

Test(io, a_partitioned_parquet_asset_writes_a_file_per_partition)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    eider_parquet_io_manager(defs, "pq", &(eider_parquet_io_config){ .base_path = "files" });
    const eider_partitions *p = eider_static_partitions(defs, EIDER_KEYS("a", "b|c", "d"));
    eider_asset(defs, &(eider_asset_def){ .key = "by_species", .compute = species_rows, .partitions = p,
        .io_manager_key = "pq", .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "species")) });
    add(defs, &(eider_asset_def){ .key = "whole", .compute = count_input, .deps = EIDER_KEYS("by_species") });
    cr_assert_eq(run_partition(defs, "by_species", "a", NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_assert_eq(run_partition(defs, "by_species", "b|c...d", NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(access("files/by_species/a.parquet", F_OK), 0);
    cr_expect_eq(access("files/by_species/b%7Cc.parquet", F_OK), 0);
    expect_query("SELECT count(*)::VARCHAR FROM read_parquet('files/by_species/d.parquet') WHERE species = 'd'", "3");
    cr_assert_eq(run_partition(defs, "whole", NULL, NULL), EIDER_OK);
    expect_query("SELECT n::VARCHAR FROM public.whole", "9");
    eider_defs_free(defs);
}

/* ---- big loads come in slices ---- */

static int check_big_input(eider_context *ctx)
{
    const eider_frame *f = eider_input_frame(ctx, "big");
    if (!f)
        return EIDER_ESTEP;
    if (eider_frame_columns(f) != 1 || eider_frame_rows(f) != 1250000)
        return eider_fail(ctx, "%zu columns, %zu rows", eider_frame_columns(f), eider_frame_rows(f));
    for (size_t r = 0; r < eider_frame_rows(f); r++)
        if (eider_frame_get_int64(f, 0, r) != (int64_t)(2 * r + 1))
            return eider_fail(ctx, "row %zu holds %lld: order or rows lost between slices", r,
                              (long long)eider_frame_get_int64(f, 0, r));
    return EIDER_OK;
}

Test(io, a_table_bigger_than_a_slice_loads_whole_in_order_with_its_filters)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    const eider_partitions *p = eider_static_partitions(defs, EIDER_KEYS("even", "odd"));
    eider_asset(defs, &(eider_asset_def){ .key = "big", .compute = out_sql, .partitions = p,
        .user_data = "SELECT range AS n, 'x' AS pad, CASE WHEN range % 2 = 0 THEN 'even' ELSE 'odd' END AS kind "
                     "FROM range(2500000)",
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "kind")) });
    eider_asset(defs, &(eider_asset_def){ .key = "check", .compute = check_big_input, .partitions = p,
        .ins = EIDER_INPUTS({ .key = "big", .columns = EIDER_KEYS("n") }), .output = EIDER_OUTPUT_NONE,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "1")) });
    eider_result *r = NULL;
    cr_assert_eq(run_partition(defs, "big", "even...odd", NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_assert_eq(run_partition(defs, "check", "odd", &r), EIDER_OK, "%s", r ? error_of(r, "check") : "");
    eider_result_free(r);
    eider_defs_free(defs);
}

/* eider_output_sql() into a Parquet I/O manager: DuckDB runs the query in the Parquet
 * manager's own in-memory database, so its {inputs} may be Parquet-stored assets (read
 * with read_parquet) but not tables of a DuckDB I/O manager's database: that fails the
 * step, naming the database and what to do. */
Test(io, sql_output_to_parquet_reads_parquet_inputs_and_refuses_duckdb_tables)
{
    enter_tmpdir();
    eider_defs *defs = new_defs(NULL);
    eider_result *r = NULL;
    cr_assert_eq(eider_parquet_io_manager(defs, "pq", &(eider_parquet_io_config){ .base_path = "files" }), EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "in_duckdb", .compute = iris_dataset });
    add(defs, &(eider_asset_def){ .key = "in_parquet", .compute = iris_dataset, .io_manager_key = "pq" });
    add(defs, &(eider_asset_def){ .key = "from_parquet", .compute = out_sql, .io_manager_key = "pq",
        .deps = EIDER_KEYS("in_parquet"), .user_data = "SELECT count(*) AS n FROM {in_parquet}" });
    add(defs, &(eider_asset_def){ .key = "from_duckdb", .compute = out_sql, .io_manager_key = "pq",
        .deps = EIDER_KEYS("in_duckdb"), .user_data = "SELECT count(*) AS n FROM {in_duckdb}" });
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_ERUNFAILED);
    cr_expect_eq(eider_result_status(r, (size_t)eider_result_find(r, "from_parquet")), EIDER_STEP_SUCCESS);
    expect_query("SELECT n::VARCHAR FROM read_parquet('files/from_parquet.parquet')", "150");
    const char *err = eider_result_error(r, (size_t)eider_result_find(r, "from_duckdb"));
    cr_expect(err && strstr(err, "another database"), "%s", err ? err : "(none)");
    cr_expect(err && strstr(err, "eider_input_frame()"), "%s", err ? err : "(none)");
    eider_result_free(r);
    eider_defs_free(defs);
}
