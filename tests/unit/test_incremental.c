/*
 * test_incremental.c — incremental writes of the DuckDB I/O manager (metadata
 * "write_mode"): an append adds the output's rows; a merge inserts new keys and
 * updates changed rows, run twice changes nothing, deletes missing keys when asked,
 * and refuses a key column the output lacks, NULL keys and duplicate keys, keeping
 * the table; an SQL output merges inside DuckDB; new columns evolve the table; and
 * validation refuses what cannot go together. Every check reads the file back with
 * DuckDB alone.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "defs/defs.h"
#include "duckq.h"
#include "tmpdir.h"

/* The output of the asset "t": a frame made by this SQL, changed between runs. */
static const char *source_sql;

static int out_frame(eider_context *ctx)
{
    return eider_output_frame(ctx, eider_frame_sql(NULL, source_sql));
}

static int out_sql(eider_context *ctx)
{
    return eider_output_sql(ctx, source_sql);
}

static eider_defs *defs_with(const eider_meta *meta, eider_compute_fn fn)
{
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){
                     .database = "inc.duckdb", .schema = "s" }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "t", .compute = fn,
                                                        .metadata = meta }), EIDER_OK);
    return defs;
}

/* Run once with the output of sql; the run's code, the failure in err (or ""). */
static int run_with(eider_defs *defs, const char *sql, char *err, size_t size)
{
    eider_result *r = NULL;
    source_sql = sql;
    int rc = eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r);
    const char *e = r && eider_result_count(r) ? eider_result_error(r, 0) : NULL;
    snprintf(err, size, "%s", e ? e : rc ? eider_defs_errmsg(defs) : "");
    eider_result_free(r);
    return rc;
}

static void run_ok(eider_defs *defs, const char *sql)
{
    char err[2048];
    cr_assert_eq(run_with(defs, sql, err, sizeof(err)), EIDER_OK, "%s", err);
}

/* The metadata entry key of the last run's step, as an integer (-1: none). */
static int64_t last_meta;
static int64_t run_meta(eider_defs *defs, const char *sql, const char *key)
{
    eider_result *r = NULL;
    size_t n = 0;
    source_sql = sql;
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_OK, "%s",
                 r && eider_result_error(r, 0) ? eider_result_error(r, 0) : eider_defs_errmsg(defs));
    const eider_meta *m = eider_result_metadata(r, 0, &n);
    last_meta = -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].key, key) == 0)
            last_meta = m[i].i;
    eider_result_free(r);
    return last_meta;
}

/* One value of a query on the run's DuckDB file, read by DuckDB alone (duckq.h). */
static char *query(const char *sql)
{
    return duckq("inc.duckdb", sql);
}

/* The table's rows, ordered, as "id:name:x|..." */
#define ROWS "SELECT string_agg(concat_ws(':', id, name, x), '|' ORDER BY id) FROM s.t"
#define expect_rows(expected) cr_expect_str_eq(query(ROWS), (expected))

#define FIRST "SELECT * FROM (VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30)) v(id, name, x)"
#define CHANGED "SELECT * FROM (VALUES (2, 'B', 20), (4, 'd', 40)) v(id, name, x)"

#define MERGE_ON_ID EIDER_METADATA(EIDER_META_TEXT("write_mode", "merge"), \
                                   EIDER_META_TEXT("unique_key", "id"))

/* ---- append ---- */

Test(incremental, an_append_adds_the_output_to_the_rows_there)
{
    enter_tmpdir_tagged("inc");
    eider_defs *defs = defs_with(EIDER_METADATA(EIDER_META_TEXT("write_mode", "append")), out_frame);
    run_ok(defs, FIRST);
    cr_expect_eq(run_meta(defs, CHANGED, "row_count"), 5, "row_count is what the table holds");
    expect_rows("1:a:10|2:b:20|2:B:20|3:c:30|4:d:40");
    cr_expect_eq(run_meta(defs, CHANGED, "rows_written"), 2);
    cr_expect_str_eq(query("SELECT CAST(count(*) AS VARCHAR) FROM s.t"), "7");
    eider_defs_free(defs);
}

Test(incremental, an_append_takes_new_columns_and_fills_missing_ones_with_null)
{
    enter_tmpdir_tagged("inc");
    eider_defs *defs = defs_with(EIDER_METADATA(EIDER_META_TEXT("write_mode", "append")), out_frame);
    run_ok(defs, "SELECT 1 AS id, 'a' AS name");
    run_ok(defs, "SELECT 2 AS id, 20 AS x");
    expect_rows("1:a|2:20");
    cr_expect_str_eq(query("SELECT string_agg(column_name, ',') FROM (DESCRIBE s.t)"), "id,name,x");
    eider_defs_free(defs);
}

Test(incremental, an_append_with_on_schema_change_fail_refuses_new_columns)
{
    char err[2048];
    enter_tmpdir_tagged("inc");
    eider_defs *defs = defs_with(EIDER_METADATA(EIDER_META_TEXT("write_mode", "append"),
                                                EIDER_META_TEXT("on_schema_change", "fail")), out_frame);
    run_ok(defs, "SELECT 1 AS id");
    cr_assert_eq(run_with(defs, "SELECT 2 AS id, 3 AS extra", err, sizeof(err)), EIDER_ERUNFAILED);
    cr_expect(strstr(err, "new column 'extra'") && !strstr(err, "\"replace\""), "%s", err);
    cr_expect_str_eq(query("SELECT CAST(count(*) AS VARCHAR) FROM s.t"), "1");
    eider_defs_free(defs);
}

/* ---- merge ---- */

Test(incremental, a_merge_updates_changed_rows_and_inserts_new_keys)
{
    enter_tmpdir_tagged("inc");
    eider_defs *defs = defs_with(MERGE_ON_ID, out_frame);
    cr_expect_eq(run_meta(defs, FIRST, "row_count"), 3);
    cr_expect_eq(run_meta(defs, CHANGED, "rows_written"), 2, "one update, one insert");
    expect_rows("1:a:10|2:B:20|3:c:30|4:d:40");
    cr_expect_eq(last_meta, 2);
    eider_defs_free(defs);
}

Test(incremental, a_merge_run_twice_changes_nothing)
{
    enter_tmpdir_tagged("inc");
    eider_defs *defs = defs_with(MERGE_ON_ID, out_frame);
    run_ok(defs, FIRST);
    run_ok(defs, CHANGED);
    cr_expect_eq(run_meta(defs, CHANGED, "rows_written"), 0);
    cr_expect_eq(run_meta(defs, CHANGED, "row_count"), 4);
    expect_rows("1:a:10|2:B:20|3:c:30|4:d:40");
    eider_defs_free(defs);
}

Test(incremental, a_merge_deleting_missing_keys_leaves_the_outputs_rows)
{
    enter_tmpdir_tagged("inc");
    eider_defs *defs = defs_with(EIDER_METADATA(EIDER_META_TEXT("write_mode", "merge"),
                                                EIDER_META_TEXT("unique_key", "id"),
                                                EIDER_META_TEXT("merge_delete_missing", "true")),
                                 out_frame);
    run_ok(defs, FIRST);
    cr_expect_eq(run_meta(defs, CHANGED, "rows_written"), 4, "1 and 3 deleted, 2 updated, 4 inserted");
    expect_rows("2:B:20|4:d:40");
    eider_defs_free(defs);
}

Test(incremental, a_merge_on_a_composite_key_matches_both_columns)
{
    enter_tmpdir_tagged("inc");
    eider_defs *defs = defs_with(EIDER_METADATA(EIDER_META_TEXT("write_mode", "merge"),
                                                EIDER_META_TEXT("unique_key", " id , name ")),
                                 out_frame);
    run_ok(defs, FIRST);
    run_ok(defs, "SELECT * FROM (VALUES (1, 'a', 11), (1, 'z', 5)) v(id, name, x)");
    cr_expect_str_eq(query("SELECT string_agg(concat_ws(':', id, name, x), '|' ORDER BY id, name) "
                           "FROM s.t"), "1:a:11|1:z:5|2:b:20|3:c:30");
    eider_defs_free(defs);
}

Test(incremental, an_sql_output_merges_inside_duckdb)
{
    enter_tmpdir_tagged("inc");
    eider_defs *defs = defs_with(MERGE_ON_ID, out_sql);
    run_ok(defs, FIRST);
    cr_expect_eq(run_meta(defs, CHANGED, "rows_written"), 2);
    expect_rows("1:a:10|2:B:20|3:c:30|4:d:40");
    eider_defs_free(defs);
}

Test(incremental, a_null_key_is_refused_and_the_table_kept)
{
    char err[2048];
    enter_tmpdir_tagged("inc");
    eider_defs *defs = defs_with(MERGE_ON_ID, out_frame);
    run_ok(defs, FIRST);
    cr_assert_eq(run_with(defs, "SELECT * FROM (VALUES (5, 'e', 50), (NULL, 'n', 0)) v(id, name, x)",
                          err, sizeof(err)), EIDER_ERUNFAILED);
    cr_expect(strstr(err, "asset 't': the output has 1 row whose merge key (\"id\") is NULL"),
              "%s", err);
    expect_rows("1:a:10|2:b:20|3:c:30");
    eider_defs_free(defs);
}

Test(incremental, duplicate_keys_are_refused_naming_the_key)
{
    char err[2048];
    enter_tmpdir_tagged("inc");
    eider_defs *defs = defs_with(MERGE_ON_ID, out_frame);
    run_ok(defs, FIRST);
    cr_assert_eq(run_with(defs, "SELECT * FROM (VALUES (7, 'x', 1), (7, 'y', 2), (8, 'z', 3)) "
                          "v(id, name, x)", err, sizeof(err)), EIDER_ERUNFAILED);
    cr_expect(strstr(err, "the output has 2 rows of the merge key {\"id\":7}"), "%s", err);
    expect_rows("1:a:10|2:b:20|3:c:30");
    eider_defs_free(defs);
}

Test(incremental, duplicate_keys_are_refused_on_the_first_run_too)
{
    char err[2048];
    enter_tmpdir_tagged("inc");
    eider_defs *defs = defs_with(MERGE_ON_ID, out_frame);
    cr_assert_eq(run_with(defs, "SELECT 1 AS id FROM range(2)", err, sizeof(err)), EIDER_ERUNFAILED);
    cr_expect(strstr(err, "2 rows of the merge key"), "%s", err);
    cr_expect(strstr(query("SELECT * FROM s.t"), "error: "), "no table was made");
    eider_defs_free(defs);
}

Test(incremental, a_key_column_the_output_lacks_is_refused)
{
    char err[2048];
    enter_tmpdir_tagged("inc");
    eider_defs *defs = defs_with(EIDER_METADATA(EIDER_META_TEXT("write_mode", "merge"),
                                                EIDER_META_TEXT("unique_key", "id, nope")),
                                 out_frame);
    cr_assert_eq(run_with(defs, FIRST, err, sizeof(err)), EIDER_ERUNFAILED);
    cr_expect(strstr(err, "its merge key column 'nope' (metadata \"unique_key\") is not a column "
                          "of the output"), "%s", err);
    eider_defs_free(defs);
}

/* A partition's rows: "<part>" is the run's partition; ids from source_sql's list. */
static int part_rows(eider_context *ctx)
{
    size_t n = 0;
    const char *const *keys = eider_partition_keys(ctx, &n);
    char sql[512];
    cr_assert_eq(n, 1);
    snprintf(sql, sizeof(sql), "SELECT '%s' AS part, unnest(%s) AS id, 'v' AS name", keys[0],
             source_sql);
    return eider_output_frame(ctx, eider_frame_sql(NULL, sql));
}

static void run_partition(eider_defs *defs, const char *part, const char *ids)
{
    eider_result *r = NULL;
    source_sql = ids;
    int rc = eider_materialize(defs, &(eider_run_options){ .jobs = 1, .partition = part }, &r);
    cr_assert_eq(rc, EIDER_OK, "%s", r && eider_result_count(r) && eider_result_error(r, 0)
                 ? eider_result_error(r, 0) : eider_defs_errmsg(defs));
    eider_result_free(r);
}

/* An asset t of partitions a and b (column part), written with write_mode mode on the
 * key (part, id), deleting missing keys; in a fresh folder. */
static eider_defs *partitioned(const char *mode)
{
    enter_tmpdir_tagged("inc");
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){
                     .database = "inc.duckdb", .schema = "s" }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "t", .compute = part_rows,
        .partitions = eider_static_partitions(defs, EIDER_KEYS("a", "b")),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "part"),
                                   EIDER_META_TEXT("write_mode", mode),
                                   EIDER_META_TEXT("unique_key", "part, id"),
                                   EIDER_META_TEXT("merge_delete_missing", "true")) }), EIDER_OK);
    return defs;
}

Test(incremental, a_partitioned_merge_deletes_missing_keys_in_its_partitions_only)
{
    eider_defs *defs = partitioned("merge");
    run_partition(defs, "a", "[1, 2]");
    run_partition(defs, "b", "[3, 4]");
    run_partition(defs, "a", "[1]");
    cr_expect_str_eq(query("SELECT string_agg(part || id, ',' ORDER BY part, id) FROM s.t"),
                     "a1,b3,b4");
    eider_defs_free(defs);
}

/* ---- snapshots ---- */

#define SNAPSHOT_ON_ID EIDER_METADATA(EIDER_META_TEXT("write_mode", "snapshot"), \
                                      EIDER_META_TEXT("unique_key", "id"))
/* The versions, ordered, as "id:name:x:current|..." */
#define VERSIONS "SELECT string_agg(concat_ws(':', id, name, x, valid_to IS NULL), '|' " \
                 "ORDER BY id, valid_from) FROM s.t"

Test(incremental, a_snapshot_keeps_every_version_of_a_changed_row)
{
    enter_tmpdir_tagged("inc");
    eider_defs *defs = defs_with(SNAPSHOT_ON_ID, out_frame);
    run_ok(defs, FIRST);
    cr_expect_eq(run_meta(defs, CHANGED, "rows_written"), 3, "2 closed, 2 and 4 opened");
    cr_expect_str_eq(query(VERSIONS), "1:a:10:true|2:b:20:false|2:B:20:true|3:c:30:true|4:d:40:true");
    cr_expect_str_eq(query("SELECT CAST(count(DISTINCT valid_from) AS VARCHAR) FROM s.t "
                           "WHERE id IN (2, 4) AND valid_to IS NULL"), "1", "one time per write");
    cr_expect_str_eq(query("SELECT CAST(bool_and(o.valid_to = n.valid_from) AS VARCHAR) FROM s.t o "
                           "JOIN s.t n ON o.id = n.id AND n.valid_to IS NULL AND o.valid_to IS NOT NULL"),
                     "true", "a version closes when the next opens");
    cr_expect_eq(run_meta(defs, CHANGED, "rows_written"), 0, "run twice: nothing changes");
    cr_expect_eq(last_meta, 0);
    cr_expect_str_eq(query("SELECT CAST(count(*) AS VARCHAR) FROM s.t"), "5");
    eider_defs_free(defs);
}

Test(incremental, a_snapshot_closes_the_keys_the_output_lacks_when_asked)
{
    enter_tmpdir_tagged("inc");
    eider_defs *defs = defs_with(EIDER_METADATA(EIDER_META_TEXT("write_mode", "snapshot"),
                                                EIDER_META_TEXT("unique_key", "id"),
                                                EIDER_META_TEXT("merge_delete_missing", "true")),
                                 out_frame);
    run_ok(defs, FIRST);
    cr_expect_eq(run_meta(defs, CHANGED, "rows_written"), 5, "2 changed, 1 and 3 closed, 2 and 4 opened");
    cr_expect_str_eq(query(VERSIONS), "1:a:10:false|2:b:20:false|2:B:20:true|3:c:30:false|4:d:40:true");
    eider_defs_free(defs);
}

Test(incremental, a_snapshot_compares_its_check_columns_only)
{
    enter_tmpdir_tagged("inc");
    eider_defs *defs = defs_with(EIDER_METADATA(EIDER_META_TEXT("write_mode", "snapshot"),
                                                EIDER_META_TEXT("unique_key", "id"),
                                                EIDER_META_TEXT("check_columns", "name")),
                                 out_frame);
    run_ok(defs, FIRST);
    run_ok(defs, "SELECT * FROM (VALUES (1, 'a', 99), (2, 'B', 20), (3, 'c', 30)) v(id, name, x)");
    cr_expect_str_eq(query(VERSIONS), "1:a:10:true|2:b:20:false|2:B:20:true|3:c:30:true",
                     "x changed alone: no new version");
    eider_defs_free(defs);
}

Test(incremental, a_snapshot_by_hash_sees_the_changes_the_columns_see)
{
    enter_tmpdir_tagged("inc");
    eider_defs *defs = defs_with(EIDER_METADATA(EIDER_META_TEXT("write_mode", "snapshot"),
                                                EIDER_META_TEXT("unique_key", "id"),
                                                EIDER_META_TEXT("snapshot_compare", "hash")),
                                 out_frame);
    run_ok(defs, FIRST);
    cr_expect_eq(run_meta(defs, "SELECT * FROM (VALUES (1, 'a', 10), (2, 'b', NULL), (3, 'c', 30)) "
                          "v(id, name, x)", "rows_written"), 2, "2's x became NULL: closed and opened");
    cr_expect_eq(run_meta(defs, "SELECT * FROM (VALUES (1, 'a', 10), (2, 'b', NULL), (3, 'c', 30)) "
                          "v(id, name, x)", "rows_written"), 0, "the same again: nothing");
    cr_expect_str_eq(query(VERSIONS), "1:a:10:true|2:b:20:false|2:b:true|3:c:30:true");
    eider_defs_free(defs);
}

Test(incremental, a_partitioned_snapshot_closes_missing_keys_in_its_partitions_only)
{
    eider_defs *defs = partitioned("snapshot");
    run_partition(defs, "a", "[1, 2]");
    run_partition(defs, "b", "[3]");
    run_partition(defs, "a", "[1]");
    cr_expect_str_eq(query("SELECT string_agg(part || id || ':' || (valid_to IS NULL), ',' "
                           "ORDER BY part, id) FROM s.t"), "a1:true,a2:false,b3:true");
    eider_defs_free(defs);
}

Test(incremental, a_snapshot_refuses_an_output_with_its_validity_columns)
{
    char err[2048];
    enter_tmpdir_tagged("inc");
    eider_defs *defs = defs_with(SNAPSHOT_ON_ID, out_frame);
    cr_assert_eq(run_with(defs, "SELECT 1 AS id, now() AS valid_from", err, sizeof(err)),
                 EIDER_ERUNFAILED);
    cr_expect(strstr(err, "the output has a column 'valid_from', which a snapshot adds itself"),
              "%s", err);
    cr_assert_eq(run_with(defs, "SELECT 1 AS id, 1 AS id2 FROM range(2)", err, sizeof(err)),
                 EIDER_ERUNFAILED);
    cr_expect(strstr(err, "the output has 2 rows of the snapshot key {\"id\":1}"), "%s", err);
    eider_defs_free(defs);
}

/* ---- what validation refuses ---- */

static void expect_refused(const eider_meta *meta, const char *message)
{
    eider_defs *defs = defs_with(meta, out_frame);
    cr_expect_eq(eider_defs_validate(defs), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), message), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

Test(incremental, validation_refuses_what_does_not_go_together)
{
    expect_refused(EIDER_METADATA(EIDER_META_TEXT("write_mode", "upsert")),
                   "metadata \"write_mode\" is 'upsert', but it must be 'replace', 'append', "
                   "'merge' or 'snapshot'");
    expect_refused(EIDER_METADATA(EIDER_META_TEXT("write_mode", "merge")),
                   "which matches rows by a unique key: add EIDER_META_TEXT(\"unique_key\"");
    expect_refused(EIDER_METADATA(EIDER_META_TEXT("write_mode", "merge"),
                                  EIDER_META_TEXT("unique_key", " , ")),
                   "add EIDER_META_TEXT(\"unique_key\"");
    expect_refused(EIDER_METADATA(EIDER_META_TEXT("unique_key", "id")),
                   "metadata \"unique_key\" is for metadata \"write_mode\" \"merge\" or "
                   "\"snapshot\", but it is \"replace\"");
    expect_refused(EIDER_METADATA(EIDER_META_TEXT("write_mode", "append"),
                                  EIDER_META_TEXT("unique_key", "id")),
                   "\"snapshot\", but it is \"append\"");
    expect_refused(EIDER_METADATA(EIDER_META_TEXT("write_mode", "snapshot")),
                   "\"write_mode\" is \"snapshot\", which matches rows by a unique key");
    expect_refused(EIDER_METADATA(EIDER_META_TEXT("write_mode", "merge"),
                                  EIDER_META_TEXT("unique_key", "id"),
                                  EIDER_META_TEXT("check_columns", "x")),
                   "metadata \"check_columns\" is for metadata \"write_mode\" \"snapshot\"");
    expect_refused(EIDER_METADATA(EIDER_META_TEXT("write_mode", "merge"),
                                  EIDER_META_TEXT("unique_key", "id"),
                                  EIDER_META_TEXT("snapshot_compare", "hash")),
                   "metadata \"snapshot_compare\" is for metadata \"write_mode\" \"snapshot\"");
    expect_refused(EIDER_METADATA(EIDER_META_TEXT("write_mode", "snapshot"),
                                  EIDER_META_TEXT("unique_key", "id"),
                                  EIDER_META_TEXT("snapshot_compare", "md5")),
                   "\"snapshot_compare\" is 'md5', but it must be 'columns' or 'hash'");
    expect_refused(EIDER_METADATA(EIDER_META_TEXT("write_mode", "append"),
                                  EIDER_META_TEXT("on_schema_change", "replace")),
                   "would replace its table, rows and all");
    expect_refused(EIDER_METADATA(EIDER_META_TEXT("write_mode", "append"),
                                  EIDER_META_TEXT("materialized", "view")),
                   "keeps no rows to add to");
    expect_refused(EIDER_METADATA(EIDER_META_TEXT("write_mode", "merge"),
                                  EIDER_META_TEXT("unique_key", "id"),
                                  EIDER_META_TEXT("merge_delete_missing", "yes")),
                   "\"merge_delete_missing\" is 'yes', but it must be 'true' or 'false'");
}

Test(incremental, the_parquet_io_manager_refuses_an_incremental_write)
{
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_parquet_io_manager(defs, NULL, &(eider_parquet_io_config){
                     .base_path = "files" }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "t", .compute = out_frame,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("write_mode", "append")) }), EIDER_OK);
    cr_expect_eq(eider_defs_validate(defs), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "the Parquet I/O manager writes each file whole"),
              "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
}
