/*
 * test_io_postgres.c — the PostgreSQL I/O manager against a real server: an output
 * becomes schema.table with PostgreSQL's types, NULLs and awkward text kept; a rerun
 * replaces it whole; a partition run deletes and inserts its partition only; a row
 * outside the partitions fails and keeps the table; a downstream asset loads it (a
 * partition of it too) as a frame and through SQL; a missing table names the asset to
 * materialize; a nested column is refused naming it; a bad connection string fails
 * without showing the password; and validation refuses a write_mode.
 *
 * The server is the one at $EIDER_TEST_PG_URL (tests/tools/pg_server.sh starts one);
 * without it the tests are skipped. Each test writes into a schema of its own.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "defs/defs.h"

static const char *url;
static char schema[64];

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* One value of a query on the server, as text ("NULL" for a NULL, "" for no row). */
static char *pg(const char *sql)
{
    static char out[4096];
    PGconn *db = PQconnectdb(url);
    cr_assert_eq(PQstatus(db), CONNECTION_OK, "%s", PQerrorMessage(db));
    PQsetNoticeProcessor(db, quiet, NULL);
    PGresult *res = PQexec(db, sql);
    out[0] = '\0';
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
        snprintf(out, sizeof(out), "%s", PQgetisnull(res, 0, 0) ? "NULL" : PQgetvalue(res, 0, 0));
    else if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
        snprintf(out, sizeof(out), "error: %s", PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(db);
    return out;
}

static void setup(void)
{
    url = getenv("EIDER_TEST_PG_URL");
    if (!url || !*url)
        cr_skip_test("EIDER_TEST_PG_URL is not set (start a server with tests/tools/pg_server.sh)");
    snprintf(schema, sizeof(schema), "io_%d", (int)getpid());
}

static void teardown(void)
{
    char sql[128];
    if (!url || !*url)
        return;
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", schema);
    pg(sql);
}

TestSuite(io_postgres, .init = setup, .fini = teardown);

static const char *source_sql;
static int out_sql(eider_context *ctx) { return eider_output_sql(ctx, source_sql); }
static int out_frame(eider_context *ctx) { return eider_output_frame(ctx, eider_frame_sql(NULL, source_sql)); }

/* A partition's rows: part = the run's partition, ids from source_sql's list. */
static int part_rows(eider_context *ctx)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT '%s' AS part, unnest(%s) AS id",
             eider_partition_keys(ctx, NULL)[0], source_sql);
    return eider_output_frame(ctx, eider_frame_sql(NULL, sql));
}

static long long loaded;
static int loads_frame(eider_context *ctx)
{
    const eider_frame *f = eider_input_frame(ctx, "t");
    if (!f)
        return EIDER_ESTEP;
    eider_frame *sum = eider_frame_sql(EIDER_FRAMES({ "f", f }),
                                       "SELECT CAST(count(*) * 1000 + sum(id) AS BIGINT) FROM f");
    loaded = sum ? eider_frame_get_int64(sum, 0, 0) : -1;
    eider_frame_free(sum);
    return EIDER_OK;
}

static eider_defs *pg_defs(void)
{
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_postgres_io_manager(defs, "pg", &(eider_postgres_io_config){
                     .conninfo = url, .schema = schema }), EIDER_OK, "%s", eider_defs_errmsg(defs));
    return defs;
}

/* Run (a partition when given); the first step error into err. */
static int run(eider_defs *defs, const char *selection, const char *partition, char *err, size_t n)
{
    eider_result *r = NULL;
    int rc = eider_materialize(defs, &(eider_run_options){ .jobs = 1, .selection = selection,
                                                            .partition = partition }, &r);
    err[0] = '\0';
    for (size_t i = 0; r && !err[0] && i < eider_result_count(r); i++)
        if (eider_result_error(r, i))
            snprintf(err, n, "%s", eider_result_error(r, i));
    if (!err[0] && rc)
        snprintf(err, n, "%s", eider_defs_errmsg(defs));
    eider_result_free(r);
    return rc;
}

#define Q(fmt) (snprintf(q, sizeof(q), fmt, schema), pg(q))

Test(io_postgres, an_output_is_a_table_with_postgresqls_types_and_its_values)
{
    char err[2048], q[512];
    eider_defs *defs = pg_defs();
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "t", .compute = out_sql,
                     .io_manager_key = "pg" }), EIDER_OK);
    source_sql = "SELECT * FROM (VALUES (1::BIGINT, 'a,b \"q\"', 1.5::DOUBLE, TRUE, "
                 "DATE '2024-02-03', TIMESTAMPTZ '2024-01-01 10:00:00+02', 2.25::DECIMAL(6,2), "
                 "'\\x41'::BLOB), (2, '', NULL, NULL, NULL, NULL, NULL, NULL)) "
                 "v(id, s, x, b, d, ts, dec, bl)";
    cr_assert_eq(run(defs, NULL, NULL, err, sizeof(err)), EIDER_OK, "%s", err);
    cr_expect_str_eq(Q("SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY "
                       "ordinal_position) FROM information_schema.columns WHERE table_schema = "
                       "'%s' AND table_name = 't'"),
                     "id bigint, s text, x double precision, b boolean, d date, ts timestamp "
                     "with time zone, dec numeric, bl bytea");
    cr_expect_str_eq(Q("SELECT concat_ws('|', id, s, x, b, d, extract(epoch FROM ts), dec, "
                       "encode(bl, 'hex')) FROM %s.t WHERE id = 1"),
                     "1|a,b \"q\"|1.5|t|2024-02-03|1704096000.000000|2.25|41");
    cr_expect_str_eq(Q("SELECT (s = '')::text || (x IS NULL)::text FROM %s.t WHERE id = 2"),
                     "truetrue", "an empty string stays one, a NULL stays NULL");
    source_sql = "SELECT 3 AS id";
    cr_assert_eq(run(defs, NULL, NULL, err, sizeof(err)), EIDER_OK, "%s", err);
    cr_expect_str_eq(Q("SELECT string_agg(column_name, ',') FROM information_schema.columns "
                       "WHERE table_schema = '%s' AND table_name = 't'"), "id",
                     "a rerun replaces the table whole");
    eider_defs_free(defs);
}

Test(io_postgres, a_downstream_asset_loads_it_as_a_frame_and_through_sql)
{
    char err[2048];
    eider_defs *defs = pg_defs();
    cr_assert_eq(eider_duckdb_io_manager(defs, "duck", &(eider_duckdb_io_config){
                     .database = ":memory:" }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "t", .compute = out_frame,
                     .io_manager_key = "pg" }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "down", .compute = loads_frame,
                     .deps = EIDER_KEYS("t"), .output = EIDER_OUTPUT_NONE }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "again", .compute = out_sql,
                     .deps = EIDER_KEYS("t"), .io_manager_key = "pg",
                     .user_data = NULL }), EIDER_OK);
    source_sql = "SELECT unnest([1, 2, 3, 4]) AS id";
    cr_assert_eq(run(defs, "t, down", NULL, err, sizeof(err)), EIDER_OK, "%s", err);
    cr_expect_eq(loaded, 4010);
    source_sql = "SELECT id * 10 AS id FROM {t} WHERE id > 2";
    cr_assert_eq(run(defs, "again", NULL, err, sizeof(err)), EIDER_OK, "%s", err);
    char q[512];
    cr_expect_str_eq(Q("SELECT string_agg(id::text, ',' ORDER BY id) FROM %s.again"), "30,40");
    eider_defs_free(defs);
}

static eider_defs *partitioned_defs(void)
{
    eider_defs *defs = pg_defs();
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "t", .compute = part_rows,
        .io_manager_key = "pg", .partitions = eider_static_partitions(defs, EIDER_KEYS("a", "b")),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "part")) }), EIDER_OK);
    return defs;
}

Test(io_postgres, a_partition_run_replaces_its_partition_only)
{
    char err[2048], q[512];
    eider_defs *defs = partitioned_defs();
    source_sql = "[1, 2]";
    cr_assert_eq(run(defs, NULL, "a", err, sizeof(err)), EIDER_OK, "%s", err);
    source_sql = "[3]";
    cr_assert_eq(run(defs, NULL, "b", err, sizeof(err)), EIDER_OK, "%s", err);
    source_sql = "[5]";
    cr_assert_eq(run(defs, NULL, "a", err, sizeof(err)), EIDER_OK, "%s", err);
    cr_expect_str_eq(Q("SELECT string_agg(part || id, ',' ORDER BY part, id) FROM %s.t"), "a5,b3");
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "down", .compute = loads_frame,
        .deps = EIDER_KEYS("t"), .output = EIDER_OUTPUT_NONE,
        .partitions = eider_static_partitions(defs, EIDER_KEYS("a", "b")) }), EIDER_OK);
    cr_assert_eq(run(defs, "down", "b", err, sizeof(err)), EIDER_OK, "%s", err);
    cr_expect_eq(loaded, 1003, "partition b of t alone: one row, id 3");
    eider_defs_free(defs);
}

static int outside_row(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT 'b' AS part, 9 AS id");
}

Test(io_postgres, a_row_outside_the_partition_fails_and_keeps_the_table)
{
    char err[2048], q[512];
    eider_defs *defs = partitioned_defs();
    source_sql = "[1]";
    cr_assert_eq(run(defs, NULL, "a", err, sizeof(err)), EIDER_OK, "%s", err);
    eider_defs_free(defs);
    defs = pg_defs();
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "t", .compute = outside_row,
        .io_manager_key = "pg", .partitions = eider_static_partitions(defs, EIDER_KEYS("a", "b")),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "part")) }), EIDER_OK);
    cr_expect_eq(run(defs, NULL, "a", err, sizeof(err)), EIDER_ERUNFAILED);
    cr_expect(strstr(err, "a row of the output lies outside the partitions this run writes"),
              "%s", err);
    cr_expect_str_eq(Q("SELECT string_agg(part || id, ',') FROM %s.t"), "a1");
    eider_defs_free(defs);
}

Test(io_postgres, a_missing_table_names_the_asset_to_materialize)
{
    char err[2048];
    eider_defs *defs = pg_defs();
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "t", .compute = out_sql,
                     .io_manager_key = "pg" }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "down", .compute = loads_frame,
                     .deps = EIDER_KEYS("t"), .output = EIDER_OUTPUT_NONE }), EIDER_OK);
    cr_expect_eq(run(defs, "down", NULL, err, sizeof(err)), EIDER_ERUNFAILED);
    cr_expect(strstr(err, "PostgreSQL table \"io_") && strstr(err, "\".\"t\" in 'pg' does not exist: "
              "materialize 't' first"), "%s", err);
    eider_defs_free(defs);
}

Test(io_postgres, a_nested_column_is_refused_naming_it)
{
    char err[2048];
    eider_defs *defs = pg_defs();
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "t", .compute = out_sql,
                     .io_manager_key = "pg" }), EIDER_OK);
    source_sql = "SELECT 1 AS id, [1, 2] AS xs";
    cr_expect_eq(run(defs, NULL, NULL, err, sizeof(err)), EIDER_ERUNFAILED);
    cr_expect(strstr(err, "column 'xs' is INTEGER[], which the PostgreSQL I/O manager cannot store"),
              "%s", err);
    eider_defs_free(defs);
}

Test(io_postgres, a_bad_connection_fails_without_showing_the_password)
{
    char err[2048];
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_postgres_io_manager(defs, "pg", &(eider_postgres_io_config){
        .conninfo = "postgresql://eider:s3cret-pw@127.0.0.1:1/nowhere?connect_timeout=2" }),
        EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "t", .compute = out_sql,
                     .io_manager_key = "pg" }), EIDER_OK);
    source_sql = "SELECT 1 AS id";
    cr_expect_eq(run(defs, NULL, NULL, err, sizeof(err)), EIDER_ERUNFAILED);
    cr_expect(strstr(err, "I/O manager 'pg' cannot connect to PostgreSQL at"), "%s", err);
    cr_expect(!strstr(err, "s3cret-pw"), "the password shows: %s", err);
    eider_defs_free(defs);
}

Test(io_postgres, validation_refuses_a_write_mode_and_wants_a_partition_expr)
{
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_postgres_io_manager(defs, NULL, &(eider_postgres_io_config){
                     .conninfo = "postgresql://x@127.0.0.1/y" }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "t", .compute = out_sql,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("write_mode", "append")) }), EIDER_OK);
    cr_expect_eq(eider_defs_validate(defs), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "the PostgreSQL I/O manager replaces its tables"),
              "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
    defs = eider_defs_new();
    cr_assert_eq(eider_postgres_io_manager(defs, NULL, &(eider_postgres_io_config){
                     .conninfo = "postgresql://x@127.0.0.1/y" }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "t", .compute = part_rows,
        .partitions = eider_static_partitions(defs, EIDER_KEYS("a")) }), EIDER_OK);
    cr_expect_eq(eider_defs_validate(defs), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "so the PostgreSQL I/O manager needs to know which "
                     "column holds the partition"), "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_postgres_io_manager(defs, "p2", &(eider_postgres_io_config){ 0 }), EIDER_EINVAL);
    eider_defs_free(defs);
}
