/*
 * test_checks.c — asset checks (eider_asset_check): each built-in check passing and
 * failing on a real DuckDB table (NULLs and an awkward column name included), a
 * blocking check's failure rolling the write back (the old table read back with
 * DuckDB alone), a partition's leaving the other partitions alone, a check whose SQL
 * is bad reported as erred (never passed), checks in C, an asset that writes its own
 * table, another I/O manager (checked before it stores), --no-checks, the outcomes as
 * a run worker sends them, and what validation refuses.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "defs/defs.h"
#include "duckq.h"
#include "tmpdir.h"

/* The output of asset "t": SQL, changed between runs. */
static const char *source_sql;

static int out_sql(eider_context *ctx)
{
    return eider_output_sql(ctx, source_sql);
}

static eider_defs *defs_with(const eider_meta *meta)
{
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){
                     .database = "chk.duckdb", .schema = "s" }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "t", .compute = out_sql,
                                                        .metadata = meta }), EIDER_OK);
    return defs;
}

static void add_check(eider_defs *defs, eider_check_def def)
{
    cr_assert_eq(eider_asset_check(defs, &def), EIDER_OK, "%s", eider_defs_errmsg(defs));
}

/* A run of everything with source sql; its result (free it). */
static eider_result *run(eider_defs *defs, const char *sql, int expect)
{
    eider_result *r = NULL;
    source_sql = sql;
    int rc = eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r);
    cr_assert_eq(rc, expect, "run gave %d: %s", rc,
                 r && eider_result_count(r) && eider_result_error(r, 0) ? eider_result_error(r, 0)
                                                                        : eider_defs_errmsg(defs));
    return r;
}

/* The outcome of check name of asset key in r (fails the test when none). */
static const eider_check_outcome *outcome(const eider_result *r, const char *key, const char *name)
{
    long i = eider_result_find(r, key);
    cr_assert_geq(i, 0, "no step '%s'", key);
    for (size_t j = 0; j < eider_result_check_count(r, (size_t)i); j++)
        if (strcmp(eider_result_check(r, (size_t)i, j)->name, name) == 0)
            return eider_result_check(r, (size_t)i, j);
    cr_assert_fail("no outcome of check '%s' of '%s'", name, key);
    return NULL;
}

static const eider_meta *meta(const eider_check_outcome *o, const char *key)
{
    for (size_t i = 0; i < o->n_metadata; i++)
        if (strcmp(o->metadata[i].key, key) == 0)
            return &o->metadata[i];
    return NULL;
}

/* One check on t, run on pass_sql (it passes) then on fail_sql (it fails, with
 * failing rows when > 0, and a message holding want). */
static void pass_then_fail(eider_check_def def, const char *pass_sql, const char *fail_sql,
                           int64_t failing, const char *want)
{
    enter_tmpdir_tagged("chk");
    eider_defs *defs = defs_with(NULL);
    def.asset = "t";
    add_check(defs, def);
    const char *name = defs->checks[0].name;
    eider_result *r = run(defs, pass_sql, EIDER_OK);
    const eider_check_outcome *o = outcome(r, "t", name);
    cr_expect_eq(o->status, EIDER_CHECK_PASSED, "%s: %s", name, o->message ? o->message : "");
    cr_expect_null(o->message);
    eider_result_free(r);
    r = run(defs, fail_sql, EIDER_OK);       /* not blocking: the run goes on */
    o = outcome(r, "t", name);
    cr_expect_eq(o->status, EIDER_CHECK_FAILED, "%s did not fail", name);
    cr_expect(o->message && strstr(o->message, want), "%s: %s", name, o->message ? o->message : "");
    if (failing > 0) {
        cr_assert(meta(o, "failing_rows"), "failing_rows");
        cr_expect_eq(meta(o, "failing_rows")->i, failing);
        cr_expect(meta(o, "sample"), "a failing check keeps a sample of its rows");
    }
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(checks, not_null_passes_and_fails_on_an_awkward_column)
{
    pass_then_fail((eider_check_def){ .not_null = EIDER_KEYS("Order Id", "b") },
                   "SELECT 1 AS \"Order Id\", 'x' AS b",
                   "SELECT * FROM (VALUES (1, 'x'), (NULL, 'y'), (3, NULL)) v(\"Order Id\", b)",
                   2, "2 rows have a NULL");
}

Test(checks, unique_passes_and_fails_ignoring_nulls)
{
    pass_then_fail((eider_check_def){ .unique = EIDER_KEYS("id") },
                   "SELECT * FROM (VALUES (1), (2), (NULL), (NULL)) v(id)",
                   "SELECT * FROM (VALUES (1), (1), (2), (2), (3)) v(id)", 2, "2 values are not unique");
}

Test(checks, accepted_values_passes_and_fails)
{
    pass_then_fail((eider_check_def){ .column = "species",
                                      .accepted_values = EIDER_KEYS("setosa", "it's") },
                   "SELECT * FROM (VALUES ('setosa'), ('it''s'), (NULL)) v(species)",
                   "SELECT * FROM (VALUES ('setosa'), ('rose')) v(species)", 1,
                   "1 row has a value not accepted");
}

Test(checks, row_count_passes_and_fails)
{
    pass_then_fail((eider_check_def){ .row_count = &(eider_check_range){ 2, 3 } },
                   "SELECT * FROM range(3)", "SELECT * FROM range(4)", 0, "4 rows, expected 2 to 3");
}

Test(checks, freshness_passes_and_fails)
{
    pass_then_fail((eider_check_def){ .column = "at", .fresh_within_s = 3600 },
                   "SELECT now() - INTERVAL 5 MINUTE AS at",
                   "SELECT TIMESTAMPTZ '2020-01-01 00:00:00+00' AS at", 0, "s old; expected at most 3600 s");
}

Test(checks, columns_pass_and_fail_naming_each_difference)
{
    pass_then_fail((eider_check_def){ .columns = EIDER_TAGS("id", "BIGINT", "name", "VARCHAR") },
                   "SELECT 1::BIGINT AS id, 'a' AS name, 2 AS other",
                   "SELECT 1::INTEGER AS id", 0,
                   "column 'id' is INTEGER, expected BIGINT; column 'name' (VARCHAR) is missing");
}

Test(checks, custom_sql_passes_and_fails)
{
    pass_then_fail((eider_check_def){ .name = "positive", .sql = "SELECT * FROM {t} WHERE x <= 0" },
                   "SELECT 1 AS x", "SELECT * FROM (VALUES (1), (-1), (0)) v(x)", 2, "2 failing rows");
}

static int out_parents(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT * FROM (VALUES (1), (2)) v(pid)");
}

Test(checks, references_pass_and_fail_against_another_assets_table)
{
    enter_tmpdir_tagged("chk");
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){
                     .database = "chk.duckdb", .schema = "s" }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "t", .compute = out_sql,
                     .deps = EIDER_KEYS("parents") }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "parents", .compute = out_parents }),
                 EIDER_OK);
    add_check(defs, (eider_check_def){ .asset = "t", .column = "parent",
                                       .references = "parents.pid" });
    eider_result *r = run(defs, "SELECT * FROM (VALUES (1), (2), (NULL)) v(parent)", EIDER_OK);
    cr_expect_eq(outcome(r, "t", "references_parent")->status, EIDER_CHECK_PASSED, "%s",
                 outcome(r, "t", "references_parent")->message);
    eider_result_free(r);
    r = run(defs, "SELECT * FROM (VALUES (1), (7)) v(parent)", EIDER_OK);
    const eider_check_outcome *o = outcome(r, "t", "references_parent");
    cr_expect_eq(o->status, EIDER_CHECK_FAILED);
    cr_expect(strstr(o->message, "1 row references nothing"), "%s", o->message);
    cr_expect(strstr(meta(o, "sample")->text, "7"), "%s", meta(o, "sample")->text);
    eider_result_free(r);
    eider_defs_free(defs);
}

/* A blocking check that fails on a rewrite of a table of a million rows: the step
 * fails saying which check, and the table keeps its old rows, every value (a count and
 * a sum of each row's hash, read back with DuckDB alone). */
Test(checks, a_failing_blocking_check_rolls_the_write_back)
{
    enter_tmpdir_tagged("chk");
    eider_defs *defs = defs_with(NULL);
    add_check(defs, (eider_check_def){ .asset = "t", .not_null = EIDER_KEYS("id"), .blocking = 1 });
    eider_result_free(run(defs, "SELECT range AS id, 'v' || range AS v FROM range(1000000)", EIDER_OK));
    char before[4096];
    snprintf(before, sizeof(before), "%s", duckq("chk.duckdb", "SELECT CAST(count(*) AS VARCHAR) "
             "|| ':' || CAST(sum(hash(id, v)) AS VARCHAR) FROM s.t"));
    eider_result *r = run(defs, "SELECT CASE WHEN range = 5 THEN NULL ELSE range END AS id, "
                                "'new' AS v FROM range(1000000)", EIDER_ERUNFAILED);
    cr_expect_eq(eider_result_status(r, 0), EIDER_STEP_FAILED);
    cr_expect(strstr(eider_result_error(r, 0), "asset 't': blocking check 'not_null_id' failed: "
                     "1 row has a NULL"), "%s", eider_result_error(r, 0));
    cr_expect_eq(outcome(r, "t", "not_null_id")->status, EIDER_CHECK_FAILED);
    cr_expect_str_eq(duckq("chk.duckdb", "SELECT CAST(count(*) AS VARCHAR) || ':' || "
                           "CAST(sum(hash(id, v)) AS VARCHAR) FROM s.t"), before);
    eider_result_free(r);
    eider_defs_free(defs);
}

/* The same check of severity warn, or not blocking: the write is published, and the
 * failure recorded. */
Test(checks, a_warning_or_non_blocking_check_lets_the_write_through)
{
    enter_tmpdir_tagged("chk");
    eider_defs *defs = defs_with(NULL);
    add_check(defs, (eider_check_def){ .asset = "t", .not_null = EIDER_KEYS("id"), .blocking = 1,
                                       .severity = EIDER_CHECK_WARN });
    add_check(defs, (eider_check_def){ .asset = "t", .name = "few", .row_count = &(eider_check_range){ 0, 1 } });
    eider_result *r = run(defs, "SELECT * FROM (VALUES (1), (NULL)) v(id)", EIDER_OK);
    cr_expect_eq(outcome(r, "t", "not_null_id")->status, EIDER_CHECK_FAILED);
    cr_expect_eq(outcome(r, "t", "not_null_id")->severity, EIDER_CHECK_WARN);
    cr_expect_eq(outcome(r, "t", "few")->status, EIDER_CHECK_FAILED);
    cr_expect_str_eq(duckq("chk.duckdb", "SELECT CAST(count(*) AS VARCHAR) FROM s.t"), "2");
    cr_expect(strstr(eider_result_log(r, 0), "check 'few' failed: 2 rows, expected 0 to 1"),
              "a failing check is in the step's log: %s", eider_result_log(r, 0));
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(checks, a_check_whose_sql_is_bad_errs_and_a_blocking_one_stops_the_step)
{
    enter_tmpdir_tagged("chk");
    eider_defs *defs = defs_with(NULL);
    add_check(defs, (eider_check_def){ .asset = "t", .name = "bad", .sql = "SELEC nothing" });
    eider_result *r = run(defs, "SELECT 1 AS x", EIDER_OK);
    const eider_check_outcome *o = outcome(r, "t", "bad");
    cr_expect_eq(o->status, EIDER_CHECK_ERRORED, "bad SQL is an error, not a pass");
    cr_expect(strstr(o->message, "its query failed") && strstr(o->message, "syntax error"), "%s",
              o->message);
    eider_result_free(r);
    eider_defs_free(defs);

    defs = defs_with(NULL);
    add_check(defs, (eider_check_def){ .asset = "t", .name = "bad", .sql = "SELECT * FROM {t} "
                                       "WHERE no_such_column", .blocking = 1 });
    r = run(defs, "SELECT 2 AS x", EIDER_ERUNFAILED);
    cr_expect(strstr(eider_result_error(r, 0), "blocking check 'bad' erred"), "%s",
              eider_result_error(r, 0));
    cr_expect_str_eq(duckq("chk.duckdb", "SELECT CAST(x AS VARCHAR) FROM s.t"), "1",
                     "the table keeps the first run's row");
    eider_result_free(r);
    eider_defs_free(defs);
}

static int day_rows(eider_context *ctx)
{
    char sql[256];
    const char *day = eider_partition_keys(ctx, NULL)[0];
    snprintf(sql, sizeof(sql), "SELECT DATE '%s' AS day, %s AS v", day,
             strcmp(day, "2024-01-02") == 0 && source_sql ? "NULL" : "1");
    return eider_output_sql(ctx, sql);
}

/* A partition whose blocking check fails keeps its old rows, and the other
 * partitions theirs; the check sees the partition written only. */
Test(checks, a_partitions_blocking_check_leaves_the_other_partitions_alone)
{
    enter_tmpdir_tagged("chk");
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){
                     .database = "chk.duckdb", .schema = "s" }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "d", .compute = day_rows,
                     .partitions = eider_time_partitions(defs, &(eider_time_partitions_def){
                         .unit = EIDER_DAILY, .start = "2024-01-01", .end = "2024-01-04" }),
                     .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "day")) }), EIDER_OK);
    add_check(defs, (eider_check_def){ .asset = "d", .not_null = EIDER_KEYS("v"), .blocking = 1 });
    add_check(defs, (eider_check_def){ .asset = "d", .row_count = &(eider_check_range){ 1, 1 } });
    eider_result *r = NULL;
    source_sql = NULL;
    for (int day = 1; day <= 3; day++) {
        char key[16];
        snprintf(key, sizeof(key), "2024-01-0%d", day);
        cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1, .partition = key },
                                       &r), EIDER_OK);
        cr_expect_eq(outcome(r, "d", "row_count")->status, EIDER_CHECK_PASSED,
                     "each partition's check counts its own rows: %s",
                     outcome(r, "d", "row_count")->message);
        eider_result_free(r);
    }
    source_sql = "the second day's v is NULL now";
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1, .partition = "2024-01-02" },
                                   &r), EIDER_ERUNFAILED);
    eider_result_free(r);
    cr_expect_str_eq(duckq("chk.duckdb", "SELECT string_agg(CAST(day AS VARCHAR) || '=' || "
                           "CAST(v AS VARCHAR), ',' ORDER BY day) FROM s.d"),
                     "2024-01-01=1,2024-01-02=1,2024-01-03=1");
    eider_defs_free(defs);
}

/* ---- checks in C ---- */

static int c_check(eider_context *ctx)
{
    const char *mode = eider_user_data(ctx);
    char sql[512];
    duckdb_result res;
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE x > 10", eider_check_relation(ctx));
    if (duckdb_query(eider_check_connection(ctx), sql, &res) == DuckDBError) {
        duckdb_destroy_result(&res);
        return eider_fail(ctx, "cannot count");
    }
    duckdb_data_chunk c = duckdb_fetch_chunk(res);
    int64_t big = ((int64_t *)duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 0)))[0];
    duckdb_destroy_data_chunk(&c);
    duckdb_destroy_result(&res);
    eider_add_meta_int(ctx, "big", big);
    if (strcmp(mode, "error") == 0)
        return EIDER_EIO;
    return big ? eider_check_failed(ctx, "%lld values over 10", (long long)big) : EIDER_OK;
}

Test(checks, a_check_in_c_reads_the_rows_and_passes_fails_or_errs)
{
    enter_tmpdir_tagged("chk");
    eider_defs *defs = defs_with(NULL);
    add_check(defs, (eider_check_def){ .asset = "t", .name = "small", .compute = c_check,
                                       .user_data = "check" });
    add_check(defs, (eider_check_def){ .asset = "t", .name = "broken", .compute = c_check,
                                       .user_data = "error" });
    eider_result *r = run(defs, "SELECT * FROM (VALUES (1), (5)) v(x)", EIDER_OK);
    cr_expect_eq(outcome(r, "t", "small")->status, EIDER_CHECK_PASSED);
    cr_expect_eq(meta(outcome(r, "t", "small"), "big")->i, 0, "its own metadata is kept");
    cr_expect_eq(outcome(r, "t", "broken")->status, EIDER_CHECK_ERRORED);
    cr_expect(strstr(outcome(r, "t", "broken")->message, "I/O error"), "%s",
              outcome(r, "t", "broken")->message);
    size_t n = 0;
    const eider_meta *step_meta = eider_result_metadata(r, 0, &n);
    for (size_t i = 0; i < n; i++)
        cr_expect_str_neq(step_meta[i].key, "big", "a check's metadata is not the asset's");
    eider_result_free(r);
    r = run(defs, "SELECT * FROM (VALUES (11), (12), (1)) v(x)", EIDER_OK);
    cr_expect_eq(outcome(r, "t", "small")->status, EIDER_CHECK_FAILED);
    cr_expect_str_eq(outcome(r, "t", "small")->message, "2 values over 10");
    eider_result_free(r);
    eider_defs_free(defs);
}

/* ---- an asset that writes its own table; another I/O manager ---- */

static int own_table(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "duckdb");
    eider_sql(ctx, con, "CREATE SCHEMA IF NOT EXISTS iris");
    return eider_sql(ctx, con, source_sql);
}

static int downstream(eider_context *ctx)
{
    (void)ctx;
    return EIDER_OK;
}

Test(checks, an_asset_writing_its_own_table_is_checked_there_and_blocks_downstream)
{
    enter_tmpdir_tagged("chk");
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){
                     .database = "own.duckdb" }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "iris/setosa", .compute = own_table,
                     .resources = EIDER_KEYS("duckdb") }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "after", .compute = downstream,
                     .deps = EIDER_KEYS("iris/setosa"), .resources = EIDER_KEYS("duckdb") }), EIDER_OK);
    add_check(defs, (eider_check_def){ .asset = "iris/setosa", .not_null = EIDER_KEYS("n"),
                                       .blocking = 1 });
    eider_result *r = run(defs, "CREATE OR REPLACE TABLE iris.setosa AS SELECT 1 AS n", EIDER_OK);
    cr_expect_eq(outcome(r, "iris/setosa", "not_null_n")->status, EIDER_CHECK_PASSED, "%s",
                 outcome(r, "iris/setosa", "not_null_n")->message);
    eider_result_free(r);
    r = run(defs, "CREATE OR REPLACE TABLE iris.setosa AS SELECT NULL::INT AS n", EIDER_ERUNFAILED);
    cr_expect_eq(eider_result_status(r, (size_t)eider_result_find(r, "iris/setosa")), EIDER_STEP_FAILED);
    cr_expect_eq(eider_result_status(r, (size_t)eider_result_find(r, "after")), EIDER_STEP_SKIPPED,
                 "a blocking check blocks the assets downstream");
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(checks, another_io_managers_output_is_checked_before_it_is_stored)
{
    enter_tmpdir_tagged("chk");
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_parquet_io_manager(defs, NULL, &(eider_parquet_io_config){
                     .base_path = "pq" }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "t", .compute = out_sql }), EIDER_OK);
    add_check(defs, (eider_check_def){ .asset = "t", .unique = EIDER_KEYS("k"), .blocking = 1 });
    eider_result *r = run(defs, "SELECT * FROM (VALUES (1), (1)) v(k)", EIDER_ERUNFAILED);
    cr_expect(strstr(eider_result_error(r, 0), "blocking check 'unique_k' failed"), "%s",
              eider_result_error(r, 0));
    cr_expect_neq(access("pq/t.parquet", F_OK), 0, "nothing was stored");
    eider_result_free(r);
    r = run(defs, "SELECT * FROM (VALUES (1), (2)) v(k)", EIDER_OK);
    cr_expect_eq(access("pq/t.parquet", F_OK), 0);
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(checks, no_checks_evaluates_none)
{
    enter_tmpdir_tagged("chk");
    eider_defs *defs = defs_with(NULL);
    add_check(defs, (eider_check_def){ .asset = "t", .not_null = EIDER_KEYS("id"), .blocking = 1 });
    eider_result *r = NULL;
    source_sql = "SELECT NULL::INT AS id";
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1, .no_checks = 1 }, &r),
                 EIDER_OK);
    cr_expect_eq(eider_result_check_count(r, 0), 0);
    eider_result_free(r);
    eider_defs_free(defs);
}

/* The outcomes come back from a run worker as the events carry them. */
Test(checks, a_run_workers_result_holds_the_same_outcomes)
{
    enter_tmpdir_tagged("chk");
    eider_defs *defs = defs_with(NULL);
    add_check(defs, (eider_check_def){ .asset = "t", .not_null = EIDER_KEYS("id") });
    add_check(defs, (eider_check_def){ .asset = "t", .name = "bad", .sql = "SELEC", .blocking = 1,
                                       .severity = EIDER_CHECK_WARN });
    cr_assert_eq(eider_defs_validate(defs), EIDER_OK);
    eider_result *r = NULL;
    source_sql = "SELECT * FROM (VALUES (1), (NULL)) v(id)";
    cr_assert_eq(eider_materialize_worker(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_OK);
    const eider_check_outcome *o = outcome(r, "t", "not_null_id");
    cr_expect_eq(o->status, EIDER_CHECK_FAILED);
    cr_expect_str_eq(o->message, "1 row has a NULL");
    cr_expect(o->sql && strstr(o->sql, "IS NULL"), "%s", o->sql ? o->sql : "(none)");
    cr_expect_eq(meta(o, "failing_rows")->i, 1);
    o = outcome(r, "t", "bad");
    cr_expect_eq(o->status, EIDER_CHECK_ERRORED);
    cr_expect_eq(o->severity, EIDER_CHECK_WARN);
    cr_expect_eq(o->blocking, 1);
    eider_result_free(r);
    eider_defs_free(defs);
}

/* ---- validation ---- */

Test(checks, validation_refuses_what_cannot_be_checked)
{
    eider_defs *defs = defs_with(NULL);
    cr_expect_eq(eider_asset_check(defs, &(eider_check_def){ .asset = "t" }), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "names nothing to check"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);

    defs = defs_with(NULL);
    cr_expect_eq(eider_asset_check(defs, &(eider_check_def){ .asset = "t", .name = "two",
                     .not_null = EIDER_KEYS("a"), .sql = "SELECT 1" }), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "check 'two' of asset 't' names several things"),
              "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);

    defs = defs_with(NULL);
    cr_expect_eq(eider_asset_check(defs, &(eider_check_def){ .asset = "t",
                     .accepted_values = EIDER_KEYS("a") }), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "needs .column"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);

    defs = defs_with(NULL);
    add_check(defs, (eider_check_def){ .asset = "tt", .not_null = EIDER_KEYS("a") });
    cr_expect_eq(eider_defs_validate(defs), EIDER_EUNKNOWNDEP);
    cr_expect(strstr(eider_defs_errmsg(defs), "check 'not_null_a' is of unknown asset 'tt' (did "
                     "you mean 't'?)"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);

    defs = defs_with(NULL);
    add_check(defs, (eider_check_def){ .asset = "t", .not_null = EIDER_KEYS("a") });
    add_check(defs, (eider_check_def){ .asset = "t", .not_null = EIDER_KEYS("a") });
    cr_expect_eq(eider_defs_validate(defs), EIDER_EDUPLICATE);
    cr_expect(strstr(eider_defs_errmsg(defs), "asset 't' has two checks named 'not_null_a'"), "%s",
              eider_defs_errmsg(defs));
    eider_defs_free(defs);

    defs = defs_with(NULL);
    add_check(defs, (eider_check_def){ .asset = "t", .column = "p", .references = "nowhere.id" });
    cr_expect_eq(eider_defs_validate(defs), EIDER_EUNKNOWNDEP);
    cr_expect(strstr(eider_defs_errmsg(defs), "references unknown asset 'nowhere'"), "%s",
              eider_defs_errmsg(defs));
    eider_defs_free(defs);

    defs = defs_with(NULL);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "other", .compute = out_sql }), EIDER_OK);
    add_check(defs, (eider_check_def){ .asset = "t", .column = "p", .references = "other.id" });
    cr_expect_eq(eider_defs_validate(defs), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "references 'other', which is not upstream of 't': "
                     "add 'other' to its .deps"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

/* ---- a run of checks only (eider check) ---- */

/* It computes nothing, checks what is stored (an external asset's table too), records
 * no materialization, and a failing blocking check fails no step. */
Test(checks, a_run_of_checks_only_reads_what_is_stored_and_writes_nothing)
{
    enter_tmpdir_tagged("chk");
    eider_defs *defs = defs_with(NULL);
    cr_assert_eq(eider_asset_spec(defs, &(eider_asset_spec_def){ .key = "ext",
                     .metadata = EIDER_METADATA(EIDER_META_TEXT("table", "t")) }), EIDER_OK);
    add_check(defs, (eider_check_def){ .asset = "t", .not_null = EIDER_KEYS("id"), .blocking = 1 });
    add_check(defs, (eider_check_def){ .asset = "ext", .row_count = &(eider_check_range){ 1, 1 } });
    eider_result_free(run(defs, "SELECT * FROM (VALUES (1), (2)) v(id)", EIDER_OK));
    source_sql = "SELECT NULL AS id";          /* would fail the check, if it ran */
    eider_result *r = NULL;
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1, .checks_only = 1 }, &r),
                 EIDER_OK, "a failing check fails no step");
    cr_expect_eq(eider_result_count(r), 2, "t and the external asset");
    cr_expect_eq(outcome(r, "t", "not_null_id")->status, EIDER_CHECK_PASSED, "it read the stored rows");
    cr_expect_eq(outcome(r, "ext", "row_count")->status, EIDER_CHECK_FAILED);
    cr_expect_str_eq(outcome(r, "ext", "row_count")->message, "2 rows, expected 1 to 1");
    size_t n = 0;
    eider_result_metadata(r, (size_t)eider_result_find(r, "t"), &n);
    cr_expect_eq(n, 0, "no materialization, so no write's metadata");
    cr_expect_str_eq(duckq("chk.duckdb", "SELECT CAST(count(*) AS VARCHAR) FROM s.t"), "2");
    eider_result_free(r);
    eider_defs_free(defs);
}

/* A check that errs inside the write's transaction (a binder error, a failing cast)
 * does not spoil the write when it does not block: the table is written. */
Test(checks, a_check_erring_inside_the_transaction_lets_a_write_through)
{
    enter_tmpdir_tagged("chk");
    eider_defs *defs = defs_with(NULL);
    add_check(defs, (eider_check_def){ .asset = "t", .name = "binder",
                                       .sql = "SELECT * FROM {t} WHERE no_such_column" });
    add_check(defs, (eider_check_def){ .asset = "t", .name = "cast",
                                       .sql = "SELECT * FROM {t} WHERE CAST('x' || v AS INTEGER) > 0" });
    eider_result *r = run(defs, "SELECT 1 AS v", EIDER_OK);
    cr_expect_eq(outcome(r, "t", "binder")->status, EIDER_CHECK_ERRORED);
    cr_expect_eq(outcome(r, "t", "cast")->status, EIDER_CHECK_ERRORED);
    cr_expect_str_eq(duckq("chk.duckdb", "SELECT CAST(v AS VARCHAR) FROM s.t"), "1");
    eider_result_free(r);
    eider_defs_free(defs);
}

/* A blocking check in C whose own statement fails, and which says nothing of it: the
 * transaction DuckDB aborted is noticed, and the write fails, rolled back, instead of
 * a COMMIT that would commit nothing without a word. */
static int careless(eider_context *ctx)
{
    char sql[256];
    duckdb_result res;                 /* a cast that fails as it runs */
    snprintf(sql, sizeof(sql), "SELECT CAST('x' || v AS INTEGER) FROM %s", eider_check_relation(ctx));
    duckdb_query(eider_check_connection(ctx), sql, &res);
    duckdb_destroy_result(&res);
    return EIDER_OK;
}

Test(checks, a_blocking_check_that_aborts_the_transaction_fails_the_write)
{
    enter_tmpdir_tagged("chk");
    eider_defs *defs = defs_with(NULL);
    eider_result_free(run(defs, "SELECT 1 AS v", EIDER_OK));
    add_check(defs, (eider_check_def){ .asset = "t", .name = "careless", .compute = careless,
                                       .blocking = 1 });
    eider_result *r = run(defs, "SELECT 2 AS v", EIDER_ERUNFAILED);
    cr_expect(strstr(eider_result_error(r, 0), "failed inside the write's transaction"), "%s",
              eider_result_error(r, 0));
    cr_expect_str_eq(duckq("chk.duckdb", "SELECT CAST(v AS VARCHAR) FROM s.t"), "1");
    eider_result_free(r);
    eider_defs_free(defs);
}
