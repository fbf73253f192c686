/*
 * test_run.c — eider_materialize() on real DuckDB databases (":memory:" and temporary
 * files): dependency order, parallel branches, failures and skips, SQL errors, retries,
 * the event stream, connection lifetime, one database per file, connection_config,
 * metadata and selection.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "defs/defs.h"
#include "tmpdir.h"

/* ---- helpers ---- */

static const char *enter_tmpdir(void)
{
    return enter_tmpdir_tagged("run");
}

static void add(eider_defs *defs, const eider_asset_def *def)
{
    cr_assert_eq(eider_asset(defs, def), EIDER_OK, "%s", eider_defs_errmsg(defs));
}

static void resource(eider_defs *defs, const char *name, const char *database)
{
    cr_assert_eq(eider_duckdb_resource(defs, name, &(eider_duckdb_config){ .database = database }),
                 EIDER_OK, "%s", eider_defs_errmsg(defs));
}

/* Run the SQL in the asset's user_data on resource "db". */
static int run_sql(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "db");
    return eider_sql(ctx, con, eider_user_data(ctx));
}

static eider_step_status status_of(const eider_result *r, const char *key)
{
    long i = eider_result_find(r, key);
    cr_assert_geq(i, 0, "no step '%s'", key);
    return eider_result_status(r, (size_t)i);
}

static const char *error_of(const eider_result *r, const char *key)
{
    long i = eider_result_find(r, key);
    cr_assert_geq(i, 0, "no step '%s'", key);
    const char *e = eider_result_error(r, (size_t)i);
    return e ? e : "(null)";
}

static void expect_success(const eider_result *r, const char *key)
{
    cr_expect_eq(status_of(r, key), EIDER_STEP_SUCCESS, "'%s' did not succeed: %s", key,
                 error_of(r, key));
}

/* ---- order and branches ---- */

Test(run, downstream_step_sees_the_upstream_table)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    resource(defs, "db", ":memory:");
    /* defined before its upstream, so definition order alone would fail */
    add(defs, &(eider_asset_def){ .key = "totals", .compute = run_sql,
        .deps = EIDER_KEYS("numbers"), .resources = EIDER_KEYS("db"),
        .user_data = "CREATE TABLE totals AS SELECT sum(n) AS s FROM numbers" });
    add(defs, &(eider_asset_def){ .key = "numbers", .compute = run_sql,
        .resources = EIDER_KEYS("db"),
        .user_data = "CREATE TABLE numbers AS SELECT range AS n FROM range(10)" });
    int rc = eider_materialize(defs, &(eider_run_options){ .jobs = 4 }, &r);
    cr_assert_eq(rc, EIDER_OK, "%s / %s", error_of(r, "numbers"), error_of(r, "totals"));
    cr_expect_lt(eider_result_find(r, "numbers"), eider_result_find(r, "totals"));
    expect_success(r, "numbers");
    expect_success(r, "totals");
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(run, independent_branches_both_run)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    resource(defs, "db", ":memory:");
    add(defs, &(eider_asset_def){ .key = "left", .compute = run_sql,
        .user_data = "CREATE TABLE l AS SELECT 1 AS x" });
    add(defs, &(eider_asset_def){ .key = "right", .compute = run_sql,
        .user_data = "CREATE TABLE r AS SELECT 2 AS x" });
    add(defs, &(eider_asset_def){ .key = "both", .compute = run_sql,
        .deps = EIDER_KEYS("left", "right"),
        .user_data = "CREATE TABLE b AS SELECT * FROM l UNION ALL SELECT * FROM r" });
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 2 }, &r), EIDER_OK);
    cr_expect_eq(eider_result_count(r), 3);
    expect_success(r, "left");
    expect_success(r, "right");
    expect_success(r, "both");
    eider_result_free(r);
    eider_defs_free(defs);
}

static atomic_int other_branch_ran;

static int mark_ran(eider_context *ctx)
{
    atomic_store(&other_branch_ran, 1);
    return run_sql(ctx);
}

static int boom(eider_context *ctx)
{
    return eider_fail(ctx, "boom in %s", eider_asset_key(ctx));
}

Test(run, failure_skips_downstream_while_another_branch_succeeds)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    resource(defs, "db", ":memory:");
    add(defs, &(eider_asset_def){ .key = "root", .compute = run_sql,
        .user_data = "CREATE TABLE root AS SELECT 1 AS x" });
    add(defs, &(eider_asset_def){ .key = "bad", .compute = boom, .deps = EIDER_KEYS("root") });
    add(defs, &(eider_asset_def){ .key = "child", .compute = run_sql, .deps = EIDER_KEYS("bad"),
        .user_data = "SELECT 1" });
    add(defs, &(eider_asset_def){ .key = "grandchild", .compute = run_sql,
        .deps = EIDER_KEYS("child", "good"), .user_data = "SELECT 1" });
    add(defs, &(eider_asset_def){ .key = "good", .compute = mark_ran, .deps = EIDER_KEYS("root"),
        .user_data = "CREATE TABLE good AS SELECT * FROM root" });
    int rc = eider_materialize(defs, &(eider_run_options){ .jobs = 2 }, &r);
    cr_expect_eq(rc, EIDER_ERUNFAILED);
    cr_assert_not_null(r);
    expect_success(r, "root");
    expect_success(r, "good");
    cr_expect(other_branch_ran);
    cr_expect_eq(status_of(r, "bad"), EIDER_STEP_FAILED);
    cr_expect_str_eq(error_of(r, "bad"), "boom in bad");
    cr_expect_eq(status_of(r, "child"), EIDER_STEP_SKIPPED);
    cr_expect_eq(status_of(r, "grandchild"), EIDER_STEP_SKIPPED);
    cr_expect(strstr(error_of(r, "child"), "'bad'"), "%s", error_of(r, "child"));
    cr_expect_eq(eider_result_attempts(r, (size_t)eider_result_find(r, "child")), 0);
    eider_result_free(r);
    eider_defs_free(defs);
}

static int returns_seven(eider_context *ctx)
{
    return 7;
}

Test(run, compute_returning_nonzero_without_a_message_fails_the_step)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "a", .compute = returns_seven });
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_ERUNFAILED);
    cr_expect_eq(status_of(r, "a"), EIDER_STEP_FAILED);
    cr_expect(strstr(error_of(r, "a"), "returned 7"), "%s", error_of(r, "a"));
    eider_result_free(r);
    eider_defs_free(defs);
}

static int ignore_sql_error(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "db");
    eider_sql(ctx, con, "SELECT * FROM nowhere");
    return 0;    /* the author forgot to check */
}

Test(run, sql_error_fails_the_step_even_when_the_return_value_is_ignored)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    resource(defs, "db", ":memory:");
    add(defs, &(eider_asset_def){ .key = "a", .compute = ignore_sql_error });
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_ERUNFAILED);
    cr_expect_eq(status_of(r, "a"), EIDER_STEP_FAILED);
    eider_result_free(r);
    eider_defs_free(defs);
}

/* ---- SQL errors ---- */

static int sql_rc;

static int bad_sql(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "db");
    sql_rc = eider_sql(ctx, con, "SELECT * FROM iris.no_such_table");
    return sql_rc;
}

typedef struct failure_seen {
    pthread_mutex_t lock;
    char sql[256], message[512];
} failure_seen;

static void on_failure(const eider_event *ev, void *user_data)
{
    failure_seen *f = user_data;
    if (ev->type != EIDER_EVENT_STEP_FAILURE)
        return;
    snprintf(f->sql, sizeof(f->sql), "%s", ev->sql ? ev->sql : "(null)");
    snprintf(f->message, sizeof(f->message), "%s", ev->message ? ev->message : "(null)");
}

Test(run, eider_sql_records_duckdbs_message_and_the_failing_sql)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    failure_seen seen = { .lock = PTHREAD_MUTEX_INITIALIZER };
    eider_event_sink sink = { on_failure, &seen };
    resource(defs, "db", ":memory:");
    add(defs, &(eider_asset_def){ .key = "a", .compute = bad_sql });
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1, .sink = &sink }, &r),
                 EIDER_ERUNFAILED);
    cr_expect_eq(sql_rc, EIDER_ESQL);
    const char *err = eider_result_error(r, 0), *sql = eider_result_sql(r, 0);
    cr_assert_not_null(err);
    cr_expect(strstr(err, "Catalog Error"), "%s", err);
    cr_expect(strstr(err, "no_such_table"), "%s", err);
    cr_assert_not_null(sql);
    cr_expect_str_eq(sql, "SELECT * FROM iris.no_such_table");
    cr_expect_str_eq(seen.sql, "SELECT * FROM iris.no_such_table");
    cr_expect(strstr(seen.message, "no_such_table"), "%s", seen.message);
    eider_result_free(r);
    eider_defs_free(defs);
}

static int first_of_two_errors(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "db");
    eider_sql(ctx, con, "SELECT * FROM first_missing");
    eider_sql(ctx, con, "SELECT * FROM second_missing");
    return EIDER_ESQL;
}

Test(run, first_sql_error_is_the_one_reported)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    resource(defs, "db", ":memory:");
    add(defs, &(eider_asset_def){ .key = "a", .compute = first_of_two_errors });
    eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r);
    cr_expect(strstr(eider_result_error(r, 0), "first_missing"), "%s", eider_result_error(r, 0));
    cr_expect_str_eq(eider_result_sql(r, 0), "SELECT * FROM first_missing");
    eider_result_free(r);
    eider_defs_free(defs);
}

static int user_sql(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "db"), eider_user_data(ctx));
}

/* Run the script sql through eider_sql; expect the step's message to start with
 * message and its recorded SQL to be failed_sql. */
static void expect_script_failure(const char *sql, const char *message, const char *failed_sql)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    resource(defs, "db", ":memory:");
    add(defs, &(eider_asset_def){ .key = "a", .compute = user_sql, .user_data = (void *)sql });
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_ERUNFAILED);
    cr_expect(strncmp(eider_result_error(r, 0), message, strlen(message)) == 0, "%s",
              eider_result_error(r, 0));
    cr_expect_str_eq(eider_result_sql(r, 0), failed_sql);
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(run, eider_sql_of_a_script_shows_the_statement_that_failed)
{
    expect_script_failure("CREATE TABLE t (x VARCHAR); -- a comment; with a semicolon\n"
                          "INSERT INTO t VALUES ('a;b'), ('it''s;');\n"
                          "  /* ; */ INSERT INTO t SELECT * FROM \"no;such\";\n"
                          "SELECT 1",
                          "statement 3 of 4: Catalog Error",
                          "/* ; */ INSERT INTO t SELECT * FROM \"no;such\"");
    expect_script_failure("SELECT 1; SELECT 2; SELECT nope", "statement 3 of 3: Binder Error",
                          "SELECT nope");
}

Test(run, eider_sql_of_a_script_it_cannot_split_names_the_statement_and_shows_it_all)
{
    const char *sql = "SELECT $x$a;b$x$; SELECT * FROM missing";
    expect_script_failure(sql, "statement 2 of 2: Catalog Error", sql);
}

static int fail_without_sql(eider_context *ctx)
{
    return eider_fail(ctx, "no rows for %d", 42);
}

Test(run, eider_fail_sets_the_message_and_no_sql)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "a", .compute = fail_without_sql });
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_ERUNFAILED);
    cr_expect_str_eq(eider_result_error(r, 0), "no rows for 42");
    cr_expect_null(eider_result_sql(r, 0));
    eider_result_free(r);
    eider_defs_free(defs);
}

static int64_t int_out;

static int read_int(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "db");
    return eider_sql_int64(ctx, con, eider_user_data(ctx), &int_out);
}

Test(run, eider_sql_int64_reads_the_first_value)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    resource(defs, "db", ":memory:");
    add(defs, &(eider_asset_def){ .key = "a", .compute = read_int,
        .user_data = "SELECT 40 + 2 AS answer, 'x' AS other" });
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_OK);
    cr_expect_eq(int_out, 42);
    eider_result_free(r);
    eider_defs_free(defs);
}

/* The value eider_sql_int64 reads from the SQL in user_data, through the public API. */
static int64_t int_of(const char *sql, int *rc_out)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    int_out = -999;
    resource(defs, "db", ":memory:");
    add(defs, &(eider_asset_def){ .key = "a", .compute = read_int, .user_data = (void *)sql });
    *rc_out = eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r);
    eider_result_free(r);
    eider_defs_free(defs);
    return int_out;
}

Test(run, eider_sql_int64_reads_a_query_ending_in_a_comment_or_semicolon)
{
    int rc;
    cr_expect_eq(int_of("SELECT 7 -- seven", &rc), 7);
    cr_expect_eq(rc, EIDER_OK);
    cr_expect_eq(int_of("SELECT 8;  \n", &rc), 8);
    cr_expect_eq(rc, EIDER_OK);
}

Test(run, eider_sql_int64_runs_every_statement_and_reads_the_last)
{
    int rc;
    cr_expect_eq(int_of("CREATE TABLE t AS SELECT range AS x FROM range(5); SELECT sum(x) FROM t", &rc), 10);
    cr_expect_eq(rc, EIDER_OK);
    cr_expect_eq(int_of("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (3) RETURNING x * 2", &rc), 6);
    cr_expect_eq(rc, EIDER_OK);
}

Test(run, eider_sql_int64_reads_every_integer_type_and_refuses_text)
{
    int rc;
    cr_expect_eq(int_of("SELECT 5::TINYINT", &rc), 5);
    cr_expect_eq(int_of("SELECT 70000::UINTEGER", &rc), 70000);
    cr_expect_eq(int_of("SELECT (-12)::HUGEINT", &rc), -12);
    cr_expect_eq(int_of("SELECT count(*) FROM range(3)", &rc), 3);
    cr_expect_eq(rc, EIDER_OK);
    int_of("SELECT 'seven'", &rc);
    cr_expect_eq(rc, EIDER_ERUNFAILED);
    int_of("SELECT 18446744073709551615::UBIGINT", &rc);
    cr_expect_eq(rc, EIDER_ERUNFAILED);
}

static int null_sql(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "db"), NULL);
}

Test(run, eider_sql_of_a_null_string_fails_the_step_without_crashing)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    resource(defs, "db", ":memory:");
    add(defs, &(eider_asset_def){ .key = "a", .compute = null_sql });
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_ERUNFAILED);
    cr_expect(strstr(error_of(r, "a"), "no SQL") != NULL, "error: %s", error_of(r, "a"));
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(run, eider_sql_int64_of_no_row_fails_the_step)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    resource(defs, "db", ":memory:");
    add(defs, &(eider_asset_def){ .key = "a", .compute = read_int,
        .user_data = "SELECT 1 AS x WHERE false" });
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_ERUNFAILED);
    cr_expect_str_eq(eider_result_sql(r, 0), "SELECT 1 AS x WHERE false");
    eider_result_free(r);
    eider_defs_free(defs);
}

/* ---- retries ---- */

static int fail_twice(eider_context *ctx)
{
    if (eider_attempt(ctx) <= 2)
        return eider_fail(ctx, "attempt %d failed", eider_attempt(ctx));
    return 0;
}

Test(run, retry_succeeds_on_the_third_attempt_with_two_retries)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "flaky", .compute = fail_twice,
                                  .retry = { .max_retries = 2, .delay_ms = 1 } });
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_OK);
    cr_expect_eq(eider_result_status(r, 0), EIDER_STEP_SUCCESS);
    cr_expect_eq(eider_result_attempts(r, 0), 3);
    cr_expect_null(eider_result_error(r, 0), "a success keeps no error");
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(run, retry_gives_up_after_max_retries)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "flaky", .compute = fail_twice,
                                  .retry = { .max_retries = 1, .delay_ms = 1 } });
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r),
                 EIDER_ERUNFAILED);
    cr_expect_eq(eider_result_status(r, 0), EIDER_STEP_FAILED);
    cr_expect_eq(eider_result_attempts(r, 0), 2);
    cr_expect_str_eq(eider_result_error(r, 0), "attempt 2 failed");
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(run, no_retry_policy_means_one_attempt)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "flaky", .compute = fail_twice });
    eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r);
    cr_expect_eq(eider_result_attempts(r, 0), 1);
    eider_result_free(r);
    eider_defs_free(defs);
}

static int meta_then_fail_once(eider_context *ctx)
{
    if (eider_attempt(ctx) == 1) {
        eider_add_meta_text(ctx, "partial", "from the failed attempt");
        return eider_fail(ctx, "first attempt fails");
    }
    return eider_add_meta_int(ctx, "row_count", 3);
}

/* A materialization's metadata is what its successful attempt reported. */
Test(run, metadata_of_a_failed_attempt_is_not_in_the_materialization)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    size_t n = 0;
    add(defs, &(eider_asset_def){ .key = "a", .compute = meta_then_fail_once,
                                  .retry = { .max_retries = 1 } });
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_OK);
    const eider_meta *m = eider_result_metadata(r, 0, &n);
    for (size_t i = 0; i < n; i++)
        cr_expect_str_neq(m[i].key, "partial", "metadata of attempt 1 leaked into attempt 2");
    cr_expect_eq(n, 1);
    eider_result_free(r);
    eider_defs_free(defs);
}

/* ---- events ---- */

#define MAX_EVENTS 128

typedef struct recorded {
    eider_event_type type;
    char key[64];
    char run_id[40];
    int attempt;
} recorded;

typedef struct recorder {
    recorded ev[MAX_EVENTS];
    int n;
    atomic_int busy;                 /* > 1 means two on_event calls overlapped */
    int overlapped;
} recorder;

static void record(const eider_event *ev, void *user_data)
{
    recorder *rec = user_data;
    if (atomic_fetch_add(&rec->busy, 1) > 0)
        rec->overlapped = 1;
    if (rec->n < MAX_EVENTS) {
        recorded *r = &rec->ev[rec->n++];
        r->type = ev->type;
        snprintf(r->key, sizeof(r->key), "%s", ev->asset_key ? ev->asset_key : "");
        snprintf(r->run_id, sizeof(r->run_id), "%s", ev->run_id ? ev->run_id : "");
        r->attempt = ev->attempt;
    }
    usleep(200);                     /* widen the window for overlapping calls */
    atomic_fetch_sub(&rec->busy, 1);
}

static int find_event(const recorder *rec, eider_event_type type, const char *key)
{
    for (int i = 0; i < rec->n; i++)
        if (rec->ev[i].type == type && strcmp(rec->ev[i].key, key) == 0)
            return i;
    return -1;
}

Test(run, events_arrive_in_order_through_the_sink)
{
    static recorder rec;
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    eider_event_sink sink = { record, &rec };
    const char *keys[] = { "a", "b", "c", "d" };
    resource(defs, "db", ":memory:");
    add(defs, &(eider_asset_def){ .key = "a", .compute = run_sql, .user_data = "SELECT 1" });
    add(defs, &(eider_asset_def){ .key = "b", .compute = run_sql, .user_data = "SELECT 1",
                                  .deps = EIDER_KEYS("a") });
    add(defs, &(eider_asset_def){ .key = "c", .compute = run_sql, .user_data = "SELECT 1",
                                  .deps = EIDER_KEYS("a") });
    add(defs, &(eider_asset_def){ .key = "d", .compute = run_sql, .user_data = "SELECT 1",
                                  .deps = EIDER_KEYS("b", "c") });
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 3, .sink = &sink,
                                   .run_id = "run-123" }, &r), EIDER_OK);
    cr_assert_geq(rec.n, 2 + 4 * 3);
    cr_expect_eq(rec.ev[0].type, EIDER_EVENT_RUN_START);
    cr_expect_eq(rec.ev[rec.n - 1].type, EIDER_EVENT_RUN_END);
    for (size_t k = 0; k < 4; k++) {
        int start = find_event(&rec, EIDER_EVENT_STEP_START, keys[k]);
        int mat = find_event(&rec, EIDER_EVENT_MATERIALIZATION, keys[k]);
        int ok = find_event(&rec, EIDER_EVENT_STEP_SUCCESS, keys[k]);
        cr_expect(start > 0 && mat > start && ok > mat, "%s: start %d, materialization %d, "
                  "success %d", keys[k], start, mat, ok);
        cr_expect_eq(rec.ev[start].attempt, 1);
    }
    /* a step starts only after its upstream succeeded */
    cr_expect_gt(find_event(&rec, EIDER_EVENT_STEP_START, "b"),
                 find_event(&rec, EIDER_EVENT_STEP_SUCCESS, "a"));
    cr_expect_gt(find_event(&rec, EIDER_EVENT_STEP_START, "d"),
                 find_event(&rec, EIDER_EVENT_STEP_SUCCESS, "b"));
    cr_expect_gt(find_event(&rec, EIDER_EVENT_STEP_START, "d"),
                 find_event(&rec, EIDER_EVENT_STEP_SUCCESS, "c"));
    for (int i = 0; i < rec.n; i++)
        cr_expect_str_eq(rec.ev[i].run_id, "run-123", "event %d", i);
    cr_expect_str_eq(eider_result_run_id(r), "run-123");
    cr_expect_not(rec.overlapped, "the sink was called from two threads at once");
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(run, failure_retry_and_skip_events_are_sent)
{
    static recorder rec;
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    eider_event_sink sink = { record, &rec };
    add(defs, &(eider_asset_def){ .key = "flaky", .compute = fail_twice,
                                  .retry = { .max_retries = 1 } });
    add(defs, &(eider_asset_def){ .key = "after", .compute = boom, .deps = EIDER_KEYS("flaky") });
    eider_materialize(defs, &(eider_run_options){ .jobs = 1, .sink = &sink }, &r);
    int retry = find_event(&rec, EIDER_EVENT_STEP_RETRY, "flaky");
    int fail = find_event(&rec, EIDER_EVENT_STEP_FAILURE, "flaky");
    int skip = find_event(&rec, EIDER_EVENT_STEP_SKIPPED, "after");
    cr_expect(retry > 0 && fail > retry && skip > 0, "retry %d, failure %d, skip %d", retry,
              fail, skip);
    cr_expect_eq(find_event(&rec, EIDER_EVENT_STEP_START, "after"), -1);
    cr_expect_eq(find_event(&rec, EIDER_EVENT_MATERIALIZATION, "flaky"), -1);
    cr_expect_eq(rec.ev[rec.n - 1].type, EIDER_EVENT_RUN_END);
    eider_result_free(r);
    eider_defs_free(defs);
}

typedef struct run_end_counts {
    int succeeded, failed, skipped, seen;
} run_end_counts;

static void count_run_end(const eider_event *ev, void *user_data)
{
    run_end_counts *c = user_data;
    if (ev->type != EIDER_EVENT_RUN_END)
        return;
    c->seen++;
    c->succeeded = ev->n_succeeded;
    c->failed = ev->n_failed;
    c->skipped = ev->n_skipped;
}

Test(run, run_end_event_counts_the_outcomes)
{
    run_end_counts c = { 0 };
    eider_event_sink sink = { count_run_end, &c };
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "ok", .compute = fail_twice,
                                  .retry = { .max_retries = 2 } });
    add(defs, &(eider_asset_def){ .key = "bad", .compute = boom });
    add(defs, &(eider_asset_def){ .key = "skipped", .compute = boom, .deps = EIDER_KEYS("bad") });
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 2, .sink = &sink }, NULL),
                 EIDER_ERUNFAILED);
    cr_expect_eq(c.seen, 1);
    cr_expect_eq(c.succeeded, 1);
    cr_expect_eq(c.failed, 1);
    cr_expect_eq(c.skipped, 1);
    eider_defs_free(defs);
}

/* ---- connections ---- */

static pthread_mutex_t writer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t writer_done = PTHREAD_COND_INITIALIZER;
static int writer_finished;

static void watch_writer(const eider_event *ev, void *user_data)
{
    if ((ev->type == EIDER_EVENT_STEP_FAILURE || ev->type == EIDER_EVENT_STEP_SUCCESS) &&
        strcmp(ev->asset_key, "writer") == 0) {
        pthread_mutex_lock(&writer_lock);
        writer_finished = 1;
        pthread_cond_broadcast(&writer_done);
        pthread_mutex_unlock(&writer_lock);
    }
}

/* Leaves an uncommitted write behind, then fails (or, with user_data, succeeds). */
static int uncommitted_write(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "db");
    int rc = eider_sql(ctx, con, "BEGIN; INSERT INTO t VALUES (1), (2), (3)");
    if (rc)
        return rc;
    return eider_user_data(ctx) ? 0 : eider_fail(ctx, "failing with a transaction open");
}

static int64_t rows_seen = -1;

/* Waits until the writer step has ended, then checks that no transaction of it is
 * left: CHECKPOINT fails while another write transaction is open. */
static int check_no_open_transaction(eider_context *ctx)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 20;
    pthread_mutex_lock(&writer_lock);
    while (!writer_finished)
        if (pthread_cond_timedwait(&writer_done, &writer_lock, &deadline)) {
            pthread_mutex_unlock(&writer_lock);
            return eider_fail(ctx, "the writer step never ended");
        }
    pthread_mutex_unlock(&writer_lock);
    duckdb_connection con = eider_duckdb_connection(ctx, "db");
    int rc = eider_sql(ctx, con, "CHECKPOINT");
    if (!rc)
        rc = eider_sql_int64(ctx, con, "SELECT count(*) FROM t", &rows_seen);
    return rc;
}

static void connection_closed_case(int writer_succeeds)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    eider_event_sink sink = { watch_writer, NULL };
    enter_tmpdir();
    resource(defs, "db", "closing.duckdb");
    add(defs, &(eider_asset_def){ .key = "base", .compute = run_sql,
        .user_data = "CREATE TABLE t (x INTEGER)" });
    add(defs, &(eider_asset_def){ .key = "writer", .compute = uncommitted_write,
        .deps = EIDER_KEYS("base"), .user_data = writer_succeeds ? "ok" : NULL });
    add(defs, &(eider_asset_def){ .key = "checker", .compute = check_no_open_transaction,
        .deps = EIDER_KEYS("base") });
    eider_materialize(defs, &(eider_run_options){ .jobs = 2, .sink = &sink }, &r);
    cr_expect_eq(status_of(r, "writer"), writer_succeeds ? EIDER_STEP_SUCCESS : EIDER_STEP_FAILED,
                 "%s", error_of(r, "writer"));
    cr_expect_eq(status_of(r, "checker"), EIDER_STEP_SUCCESS,
                 "the writer's transaction outlived its step: %s", error_of(r, "checker"));
    cr_expect_eq(rows_seen, 0, "the uncommitted insert was not rolled back");
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(run, connection_of_a_failed_step_is_closed_and_its_transaction_rolled_back)
{
    connection_closed_case(0);
}

Test(run, connection_of_a_successful_step_is_closed_when_it_ends)
{
    connection_closed_case(1);
}

static int write_on_first_attempt_only(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "db");
    if (eider_attempt(ctx) == 1) {
        eider_sql(ctx, con, "BEGIN; INSERT INTO t VALUES (1)");
        return eider_fail(ctx, "first attempt fails");
    }
    int rc = eider_sql(ctx, con, "CHECKPOINT");
    if (!rc)
        rc = eider_sql_int64(ctx, con, "SELECT count(*) FROM t", &rows_seen);
    return rc;
}

Test(run, connection_of_a_failed_attempt_is_closed_before_the_retry)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    enter_tmpdir();
    resource(defs, "db", "retry.duckdb");
    add(defs, &(eider_asset_def){ .key = "base", .compute = run_sql,
        .user_data = "CREATE TABLE t (x INTEGER)" });
    add(defs, &(eider_asset_def){ .key = "writer", .compute = write_on_first_attempt_only,
        .deps = EIDER_KEYS("base"), .retry = { .max_retries = 1 } });
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_OK,
                 "%s", error_of(r, "writer"));
    cr_expect_eq(rows_seen, 0);
    eider_result_free(r);
    eider_defs_free(defs);
}

static int unknown_resource(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "nosuch");
    return con ? 0 : EIDER_ENORESOURCE;
}

Test(run, borrowing_an_unknown_resource_fails_the_step_naming_it)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "a", .compute = unknown_resource });
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_ERUNFAILED);
    cr_expect(strstr(error_of(r, "a"), "'nosuch'"), "%s", error_of(r, "a"));
    eider_result_free(r);
    eider_defs_free(defs);
}

/* ---- parallelism ---- */

static int sleepy(eider_context *ctx)
{
    usleep(400 * 1000);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Two steps that each wait, up to 30 s, until both have started: with two jobs they
 * meet, which proves they ran at the same time without timing anything (a wall-time
 * bound fails on a loaded machine or under ASan; the speed is bench/'s business). */
static atomic_int met_started;

static int meet_the_other(eider_context *ctx)
{
    atomic_fetch_add(&met_started, 1);
    for (int i = 0; i < 30000 && atomic_load(&met_started) < 2; i++)
        usleep(1000);
    return atomic_load(&met_started) >= 2 ? 0 : eider_fail(ctx, "the other step never started");
}

Test(run, two_jobs_run_independent_steps_concurrently)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    atomic_store(&met_started, 0);
    add(defs, &(eider_asset_def){ .key = "s1", .compute = meet_the_other });
    add(defs, &(eider_asset_def){ .key = "s2", .compute = meet_the_other });
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 2 }, &r), EIDER_OK,
                 "%s", r ? eider_result_error(r, 0) : "");
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(run, result_duration_is_the_steps_wall_time_in_seconds)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "s1", .compute = sleepy });
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_OK);
    cr_expect_geq(eider_result_duration(r, 0), 0.39);
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(run, one_job_runs_steps_one_after_another)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "s1", .compute = sleepy });
    add(defs, &(eider_asset_def){ .key = "s2", .compute = sleepy });
    double t0 = now_s();
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, NULL), EIDER_OK);
    cr_expect_geq(now_s() - t0, 0.79);
    eider_defs_free(defs);
}

/* ---- one database per file ---- */

static int on_resource(eider_context *ctx)
{
    const char *const *job = eider_user_data(ctx);    /* { resource, sql } */
    duckdb_connection con = eider_duckdb_connection(ctx, job[0]);
    return eider_sql(ctx, con, job[1]);
}

static int64_t shared_count = -1;

static int count_on_first(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "first");
    return eider_sql_int64(ctx, con, "SELECT count(*) FROM t", &shared_count);
}

Test(run, resources_naming_one_file_share_one_database)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    enter_tmpdir();
    cr_assert_eq(mkdir("x", 0755), 0);
    resource(defs, "first", "db.duckdb");
    resource(defs, "second", "./x/../db.duckdb");
    static const char *const create[] = { "first", "CREATE TABLE t AS SELECT 1 AS v" };
    static const char *const insert[] = { "second", "INSERT INTO t VALUES (2)" };
    add(defs, &(eider_asset_def){ .key = "create", .compute = on_resource,
                                  .user_data = (void *)create });
    add(defs, &(eider_asset_def){ .key = "insert", .compute = on_resource,
                                  .user_data = (void *)insert, .deps = EIDER_KEYS("create") });
    add(defs, &(eider_asset_def){ .key = "count", .compute = count_on_first,
                                  .deps = EIDER_KEYS("insert") });
    int rc = eider_materialize(defs, &(eider_run_options){ .jobs = 2 }, &r);
    cr_expect_eq(rc, EIDER_OK, "create: %s; insert: %s; count: %s", error_of(r, "create"),
                 error_of(r, "insert"), error_of(r, "count"));
    cr_expect_eq(shared_count, 2, "the 'first' database did not see the 'second' insert");
    eider_result_free(r);
    eider_defs_free(defs);
}

static int64_t mem_count = -1;

static int count_mem(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "db");
    return eider_sql_int64(ctx, con, "SELECT count(*) FROM t", &mem_count);
}

Test(run, memory_database_is_shared_by_the_steps_of_one_run)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    resource(defs, "db", ":memory:");
    add(defs, &(eider_asset_def){ .key = "a", .compute = run_sql,
                                  .user_data = "CREATE TABLE t AS SELECT * FROM range(5)" });
    add(defs, &(eider_asset_def){ .key = "b", .compute = count_mem, .deps = EIDER_KEYS("a") });
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 2 }, &r), EIDER_OK);
    cr_expect_eq(mem_count, 5);
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(run, tables_written_to_a_file_persist_after_the_run)
{
    eider_defs *defs = eider_defs_new();
    duckdb_database db = NULL;
    duckdb_connection con = NULL;
    duckdb_result res;
    enter_tmpdir();
    resource(defs, "db", "persist.duckdb");
    add(defs, &(eider_asset_def){ .key = "a", .compute = run_sql,
                                  .user_data = "CREATE TABLE t AS SELECT * FROM range(7)" });
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, NULL), EIDER_OK);
    eider_defs_free(defs);
    /* the run closed the file: DuckDB alone can open it and read the table */
    cr_assert_eq(duckdb_open("persist.duckdb", &db), DuckDBSuccess);
    cr_assert_eq(duckdb_connect(db, &con), DuckDBSuccess);
    cr_assert_eq(duckdb_query(con, "SELECT count(*) FROM t", &res), DuckDBSuccess);
    duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
    cr_assert_not_null(chunk);
    int64_t n = ((int64_t *)duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 0)))[0];
    cr_expect_eq(n, 7);
    duckdb_destroy_data_chunk(&chunk);
    duckdb_destroy_result(&res);
    duckdb_disconnect(&con);
    duckdb_close(&db);
}

/* ---- connection_config ---- */

static void config_case(const char *const *config, const char *const *needles)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    cr_assert_eq(eider_duckdb_resource(defs, "db", &(eider_duckdb_config){
        .database = ":memory:", .connection_config = config }), EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "a", .compute = run_sql, .user_data = "SELECT 1" });
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_ERUNFAILED);
    cr_expect_eq(status_of(r, "a"), EIDER_STEP_FAILED);
    for (size_t i = 0; needles[i]; i++)
        cr_expect(strstr(error_of(r, "a"), needles[i]), "'%s' missing from: %s", needles[i],
                  error_of(r, "a"));
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(run, unknown_connection_config_setting_fails_the_step_naming_it)
{
    config_case(EIDER_TAGS("threads", "1", "no_such_setting", "1"),
                EIDER_KEYS("no_such_setting", "'db'"));
}

/* memory_limit is a real setting: the message must not say it does not exist, and
 * must name the value that DuckDB refused. */
Test(run, bad_connection_config_value_fails_the_step_naming_setting_and_value)
{
    config_case(EIDER_TAGS("memory_limit", "banana"), EIDER_KEYS("memory_limit", "banana"));
}

Test(run, bad_connection_config_value_is_not_reported_as_an_unknown_setting)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    cr_assert_eq(eider_duckdb_resource(defs, "db", &(eider_duckdb_config){
        .database = ":memory:", .connection_config = EIDER_TAGS("memory_limit", "banana") }),
        EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "a", .compute = run_sql, .user_data = "SELECT 1" });
    eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r);
    cr_expect(!strstr(error_of(r, "a"), "has no setting"), "%s", error_of(r, "a"));
    eider_result_free(r);
    eider_defs_free(defs);
}

static char setting_value[64];

static int read_setting(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "db");
    duckdb_result res;
    if (duckdb_query(con, "SELECT current_setting('threads')::VARCHAR", &res) == DuckDBError) {
        duckdb_destroy_result(&res);
        return eider_fail(ctx, "cannot read the setting");
    }
    duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
    duckdb_string_t *s = duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 0));
    snprintf(setting_value, sizeof(setting_value), "%.*s", (int)duckdb_string_t_length(s[0]),
             duckdb_string_t_data(&s[0]));
    duckdb_destroy_data_chunk(&chunk);
    duckdb_destroy_result(&res);
    return 0;
}

Test(run, connection_config_is_applied_to_the_database)
{
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_duckdb_resource(defs, "db", &(eider_duckdb_config){
        .database = ":memory:", .connection_config = EIDER_TAGS("threads", "3") }), EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "a", .compute = read_setting });
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, NULL), EIDER_OK);
    cr_expect_str_eq(setting_value, "3");
    eider_defs_free(defs);
}

static int write_read_only(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "ro");
    return eider_sql(ctx, con, "CREATE TABLE u AS SELECT 1");
}

Test(run, read_only_resource_refuses_writes)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    enter_tmpdir();
    resource(defs, "db", "ro.duckdb");
    add(defs, &(eider_asset_def){ .key = "make", .compute = run_sql,
                                  .user_data = "CREATE TABLE t AS SELECT 1" });
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, NULL), EIDER_OK);
    eider_defs_free(defs);
    defs = eider_defs_new();
    cr_assert_eq(eider_duckdb_resource(defs, "ro", &(eider_duckdb_config){
        .database = "ro.duckdb", .read_only = 1 }), EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "w", .compute = write_read_only });
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_ERUNFAILED);
    cr_expect(strstr(error_of(r, "w"), "read-only"), "%s", error_of(r, "w"));
    eider_result_free(r);
    eider_defs_free(defs);
}

/* ---- the user's own test, as the tutorial would write it ---- */

static int iris_dataset(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "duckdb");
    return eider_sql(ctx, con,
        "CREATE SCHEMA IF NOT EXISTS iris;"
        "CREATE OR REPLACE TABLE iris.iris_dataset AS "
        "SELECT * FROM (VALUES (5.1, 'Iris-setosa'), (7.0, 'Iris-versicolor'), "
        "(4.9, 'Iris-setosa')) t(sepal_length_cm, species)");
}

static int iris_setosa(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "duckdb");
    int64_t rows = 0;
    int rc = eider_sql(ctx, con, "CREATE OR REPLACE TABLE iris.iris_setosa AS "
                       "SELECT * FROM iris.iris_dataset WHERE species = 'Iris-setosa'");
    if (!rc)
        rc = eider_sql_int64(ctx, con, "SELECT count(*) FROM iris.iris_setosa", &rows);
    if (!rc)
        rc = eider_add_meta_int(ctx, "row_count", rows);
    if (!rc)
        rc = eider_add_meta_text(ctx, "table", "iris.iris_setosa");
    eider_log_info(ctx, "stored %lld rows", (long long)rows);
    return rc;
}

static eider_defs *iris_defs(void)
{
    eider_defs *defs = eider_defs_new();
    resource(defs, "duckdb", ":memory:");
    add(defs, &(eider_asset_def){ .key = "iris_dataset", .compute = iris_dataset,
                                  .resources = EIDER_KEYS("duckdb") });
    add(defs, &(eider_asset_def){ .key = "iris_setosa", .compute = iris_setosa,
                                  .deps = EIDER_KEYS("iris_dataset"),
                                  .resources = EIDER_KEYS("duckdb") });
    cr_assert_eq(eider_asset_spec(defs, &(eider_asset_spec_def){ .key = "iris_harvest_data" }),
                 EIDER_OK);
    return defs;
}

Test(run, users_test_materializes_in_memory_and_reads_each_outcome)
{
    eider_defs *defs = iris_defs();
    eider_result *r = NULL;
    cr_assert_eq(eider_materialize(defs, NULL, &r), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_assert_eq(eider_result_count(r), 2);
    cr_expect_str_eq(eider_result_key(r, 0), "iris_dataset");
    cr_expect_str_eq(eider_result_key(r, 1), "iris_setosa");
    expect_success(r, "iris_dataset");
    expect_success(r, "iris_setosa");
    cr_expect_eq(eider_result_find(r, "iris_harvest_data"), -1);
    cr_expect_eq(eider_result_find(r, "no_such_asset"), -1);
    cr_expect_eq(eider_result_attempts(r, 1), 1);
    cr_expect_geq(eider_result_duration(r, 1), 0.0);
    cr_expect_null(eider_result_error(r, 1));
    cr_expect_null(eider_result_sql(r, 1));
    cr_expect(strstr(eider_result_log(r, 1), "info stored 2 rows"), "%s", eider_result_log(r, 1));
    cr_expect_str_eq(eider_result_log(r, 0), "");
    cr_expect_eq(strlen(eider_result_run_id(r)), 36);
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(run, reported_metadata_appears_in_the_result)
{
    eider_defs *defs = iris_defs();
    eider_result *r = NULL;
    size_t n = 0;
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_OK);
    const eider_meta *m = eider_result_metadata(r, (size_t)eider_result_find(r, "iris_setosa"), &n);
    cr_assert_eq(n, 2);
    cr_expect_str_eq(m[0].key, "row_count");
    cr_expect_eq(m[0].type, EIDER_META_INT);
    cr_expect_eq(m[0].i, 2);
    cr_expect_str_eq(m[1].key, "table");
    cr_expect_eq(m[1].type, EIDER_META_TEXT);
    cr_expect_str_eq(m[1].text, "iris.iris_setosa");
    eider_result_metadata(r, (size_t)eider_result_find(r, "iris_dataset"), &n);
    cr_expect_eq(n, 0);
    eider_result_free(r);
    eider_defs_free(defs);
}

static int meta_twice(eider_context *ctx)
{
    eider_add_meta_int(ctx, "n", 1);
    eider_add_meta_float(ctx, "ratio", 0.5);
    return eider_add_meta_int(ctx, "n", 2);
}

Test(run, metadata_reported_twice_keeps_the_last_value)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    size_t n = 0;
    add(defs, &(eider_asset_def){ .key = "a", .compute = meta_twice });
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_OK);
    const eider_meta *m = eider_result_metadata(r, 0, &n);
    cr_assert_eq(n, 2);
    cr_expect_eq(m[0].i, 2);
    cr_expect_eq(m[1].type, EIDER_META_FLOAT);
    cr_expect_float_eq(m[1].f, 0.5, 1e-12);
    eider_result_free(r);
    eider_defs_free(defs);
}

/* ---- selection ---- */

static atomic_int ran[3];

static int mark_index(eider_context *ctx)
{
    atomic_store(&ran[(intptr_t)eider_user_data(ctx)], 1);
    return 0;
}

static eider_defs *abc_chain(void)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "a", .compute = mark_index, .user_data = (void *)0 });
    add(defs, &(eider_asset_def){ .key = "b", .compute = mark_index, .user_data = (void *)1,
                                  .deps = EIDER_KEYS("a") });
    add(defs, &(eider_asset_def){ .key = "c", .compute = mark_index, .user_data = (void *)2,
                                  .deps = EIDER_KEYS("b") });
    return defs;
}

Test(run, selection_limits_the_steps)
{
    eider_defs *defs = abc_chain();
    eider_result *r = NULL;
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .selection = "b", .jobs = 2 }, &r),
                 EIDER_OK);
    cr_expect_eq(eider_result_count(r), 1);
    cr_expect_str_eq(eider_result_key(r, 0), "b");
    cr_expect(!ran[0] && ran[1] && !ran[2], "ran a=%d b=%d c=%d", ran[0], ran[1], ran[2]);
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(run, downstream_selection_runs_the_asset_and_below)
{
    eider_defs *defs = abc_chain();
    eider_result *r = NULL;
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .selection = "b*", .jobs = 2 }, &r),
                 EIDER_OK);
    cr_expect_eq(eider_result_count(r), 2);
    cr_expect(!ran[0] && ran[1] && ran[2], "ran a=%d b=%d c=%d", ran[0], ran[1], ran[2]);
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(run, bad_selection_returns_eselect_and_no_result)
{
    eider_defs *defs = abc_chain();
    eider_result *r = (eider_result *)1;
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .selection = "b and (" }, &r),
                 EIDER_ESELECT);
    cr_expect_null(r);
    cr_expect(strstr(eider_defs_errmsg(defs), "column"), "%s", eider_defs_errmsg(defs));
    cr_expect(!ran[0] && !ran[1] && !ran[2]);
    eider_defs_free(defs);
}

Test(run, result_accessors_accept_null_and_out_of_range)
{
    eider_result_free(NULL);
    cr_expect_eq(eider_result_count(NULL), 0);
    cr_expect_null(eider_result_key(NULL, 0));
    cr_expect_null(eider_result_run_id(NULL));
    cr_expect_eq(eider_result_find(NULL, "a"), -1);
    cr_expect_eq(eider_materialize(NULL, NULL, NULL), EIDER_EINVAL);
}

/* ---- cancellation ---- */

static eider_atomic_int cancel_flag;

static int long_query(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "db"),
                     "SELECT count(*) FROM range(1000000000000)");
}

static void *cancel_soon(void *arg)
{
    usleep(300000);
    cancel_flag = 1;
    return NULL;
}

static void expect_cancel_interrupts_and_stops(int jobs)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    pthread_t t;
    cancel_flag = 0;
    resource(defs, "db", ":memory:");
    add(defs, &(eider_asset_def){ .key = "long", .compute = long_query });
    add(defs, &(eider_asset_def){ .key = "next", .compute = long_query, .deps = EIDER_KEYS("long") });
    pthread_create(&t, NULL, cancel_soon, NULL);
    double t0 = eider__mono_s();
    int rc = eider_materialize(defs, &(eider_run_options){ .jobs = jobs, .cancel = &cancel_flag }, &r);
    double took = eider__mono_s() - t0;
    pthread_join(t, NULL);
    cr_expect_eq(rc, EIDER_ECANCELED, "rc %s", eider_errname(rc));
    cr_expect_lt(took, 5.0, "the run took %.1f s to stop", took);
    cr_expect_eq(status_of(r, "long"), EIDER_STEP_CANCELED);
    cr_expect_eq(status_of(r, "next"), EIDER_STEP_CANCELED);
    cr_expect(strstr(error_of(r, "long"), "canceled while running") != NULL, "%s", error_of(r, "long"));
    cr_expect(strstr(error_of(r, "next"), "canceled before it started") != NULL, "%s", error_of(r, "next"));
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(run, cancel_flag_interrupts_the_running_query_on_one_thread)
{
    expect_cancel_interrupts_and_stops(1);
}

Test(run, cancel_flag_interrupts_the_running_query_on_a_pool)
{
    expect_cancel_interrupts_and_stops(2);
}

Test(run, cancel_flag_set_before_the_run_starts_nothing)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    cancel_flag = 1;
    resource(defs, "db", ":memory:");
    add(defs, &(eider_asset_def){ .key = "a", .compute = long_query });
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1, .cancel = &cancel_flag }, &r),
                 EIDER_ECANCELED);
    cr_expect_eq(status_of(r, "a"), EIDER_STEP_CANCELED);
    cr_expect_eq(eider_result_attempts(r, 0), 0);
    eider_result_free(r);
    eider_defs_free(defs);
}

static int calls;

static int fail_transiently(eider_context *ctx)
{
    calls++;
    return eider_fail(ctx, "transient");
}

static void *cancel_after_100ms(void *arg)
{
    usleep(100000);
    cancel_flag = 1;
    return NULL;
}

Test(run, cancel_during_a_retry_delay_starts_no_further_attempt)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    pthread_t t;
    cancel_flag = 0;
    calls = 0;
    add(defs, &(eider_asset_def){ .key = "x", .compute = fail_transiently,
                                  .retry = { .max_retries = 3, .delay_ms = 400 } });
    pthread_create(&t, NULL, cancel_after_100ms, NULL);
    int rc = eider_materialize(defs, &(eider_run_options){ .jobs = 1, .cancel = &cancel_flag }, &r);
    pthread_join(t, NULL);
    cr_expect_eq(rc, EIDER_ECANCELED);
    cr_expect_eq(calls, 1, "the compute function ran %d times", calls);
    cr_expect_eq(status_of(r, "x"), EIDER_STEP_CANCELED);
    eider_result_free(r);
    eider_defs_free(defs);
}

/* Borrows a connection, does C work through the cancel, then starts a long query. */
static int late_query(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "db");
    duckdb_result res;
    usleep(300000);
    int failed = duckdb_query(con, "SELECT count(*) FROM range(1000000000000)", &res) == DuckDBError;
    duckdb_destroy_result(&res);
    return failed ? eider_fail(ctx, "interrupted") : 0;
}

Test(run, query_started_after_the_cancel_on_a_borrowed_connection_is_interrupted)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    pthread_t t;
    cancel_flag = 0;
    resource(defs, "db", ":memory:");
    add(defs, &(eider_asset_def){ .key = "x", .compute = late_query });
    pthread_create(&t, NULL, cancel_after_100ms, NULL);
    double t0 = eider__mono_s();
    int rc = eider_materialize(defs, &(eider_run_options){ .jobs = 1, .cancel = &cancel_flag }, &r);
    double took = eider__mono_s() - t0;
    pthread_join(t, NULL);
    cr_expect_eq(rc, EIDER_ECANCELED);
    cr_expect_lt(took, 3.0, "the query ran on for %.1f s after the cancel", took);
    cr_expect_eq(status_of(r, "x"), EIDER_STEP_CANCELED);
    eider_result_free(r);
    eider_defs_free(defs);
}

/* ---- options: lock timeout and run id ---- */

/* A child process that holds path open read-write for hold_ms, then exits. Returns
 * once the file is held. */
static pid_t hold_database(const char *path, int hold_ms)
{
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        duckdb_database db = NULL;
        close(ready[0]);
        if (duckdb_open(path, &db) != DuckDBSuccess)
            _exit(1);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        usleep((useconds_t)hold_ms * 1000);
        duckdb_close(&db);
        _exit(0);    /* not exit(): the parent's atexit would remove its folder */
    }
    close(ready[1]);
    char c;
    cr_assert_eq(read(ready[0], &c, 1), 1, "the holder could not open '%s'", path);
    close(ready[0]);
    return pid;
}

/* Definitions with one asset that writes a table into held.duckdb. */
static eider_defs *defs_on_held(void)
{
    eider_defs *defs = eider_defs_new();
    resource(defs, "db", "held.duckdb");
    add(defs, &(eider_asset_def){ .key = "t", .compute = run_sql, .resources = EIDER_KEYS("db"),
                                  .user_data = "CREATE TABLE t AS SELECT 1 AS x" });
    return defs;
}

static int does_nothing(eider_context *ctx)
{
    return 0;
}

Test(run, lock_timeout_zero_fails_at_once_without_waiting)
{
    enter_tmpdir();
    eider_defs *defs = defs_on_held();
    eider_result *r = NULL;
    pid_t holder = hold_database("held.duckdb", 30 * 1000);
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1, .lock_timeout_s = 0 },
                                   &r), EIDER_ERUNFAILED);
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    cr_assert_not_null(r);
    cr_expect(strstr(error_of(r, "t"), "is locked by"), "%s", error_of(r, "t"));
    cr_expect(strstr(error_of(r, "t"), "within 0 s"), "%s", error_of(r, "t"));
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(run, lock_timeout_default_waits_for_the_holder_to_let_go)
{
    enter_tmpdir();
    eider_defs *defs = defs_on_held();
    eider_result *r = NULL;
    pid_t holder = hold_database("held.duckdb", 500);
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){
                     .jobs = 1, .lock_timeout_s = EIDER_LOCK_TIMEOUT_DEFAULT }, &r),
                 EIDER_OK, "%s", r ? error_of(r, "t") : "no result");
    waitpid(holder, NULL, 0);
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(run, run_id_longer_than_it_can_hold_is_refused_naming_it)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    const char *fits = "0123456789012345678901234567890123456789" + 1;   /* 39 characters */
    const char *too_long = "0123456789012345678901234567890123456789";  /* 40 */
    add(defs, &(eider_asset_def){ .key = "a", .compute = does_nothing });
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1, .run_id = too_long }, &r),
                 EIDER_EINVAL);
    cr_expect_null(r);
    cr_expect(strstr(eider_defs_errmsg(defs), too_long), "%s", eider_defs_errmsg(defs));
    cr_expect(strstr(eider_defs_errmsg(defs), "39"), "%s", eider_defs_errmsg(defs));
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1, .run_id = fits }, &r),
                 EIDER_OK);
    cr_expect_str_eq(eider_result_run_id(r), fits);
    eider_result_free(r);
    eider_defs_free(defs);
}

/* ---- vocabularies: one name for each log level and step status ---- */

Test(run, log_levels_have_one_name_each_and_warn_parses_as_warning)
{
    cr_expect_str_eq(eider_log_level_name(EIDER_LOG_DEBUG), "debug");
    cr_expect_str_eq(eider_log_level_name(EIDER_LOG_INFO), "info");
    cr_expect_str_eq(eider_log_level_name(EIDER_LOG_WARN), "warning");
    cr_expect_str_eq(eider_log_level_name(EIDER_LOG_ERROR), "error");
    cr_expect_str_eq(eider_log_level_name((eider_log_level)17), "info");
    for (int l = EIDER_LOG_DEBUG; l <= EIDER_LOG_ERROR; l++)
        cr_expect_eq(eider_log_level_parse(eider_log_level_name((eider_log_level)l)), l);
    cr_expect_eq(eider_log_level_parse("warn"), EIDER_LOG_WARN);
    cr_expect_eq(eider_log_level_parse("WARNING"), -1);
    cr_expect_eq(eider_log_level_parse(NULL), -1);
}

static int warns(eider_context *ctx)
{
    eider_log_warn(ctx, "careful");
    return 0;
}

Test(run, a_warning_is_written_warning_in_the_step_log)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    add(defs, &(eider_asset_def){ .key = "w", .compute = warns });
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_OK);
    cr_expect(strstr(eider_result_log(r, 0), " warning careful\n"), "%s", eider_result_log(r, 0));
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(run, step_statuses_have_their_json_names)
{
    cr_expect_str_eq(eider_step_status_name(EIDER_STEP_SUCCESS), "success");
    cr_expect_str_eq(eider_step_status_name(EIDER_STEP_FAILED), "failure");
    cr_expect_str_eq(eider_step_status_name(EIDER_STEP_SKIPPED), "skipped");
    cr_expect_str_eq(eider_step_status_name(EIDER_STEP_CANCELED), "canceled");
    cr_expect_str_eq(eider_step_status_name((eider_step_status)9), "unknown");
}

/* ---- what a run records of its partitions ---- */

typedef struct start_seen {
    size_t n_steps;
    char partition[64];
    char left_out[512];              /* the run's log line of what it left out */
} start_seen;

static void on_start(const eider_event *ev, void *user_data)
{
    start_seen *s = user_data;
    if (ev->type == EIDER_EVENT_RUN_START) {
        snprintf(s->partition, sizeof(s->partition), "%s", ev->partition ? ev->partition : "-");
        s->n_steps = ev->n_steps;
    }
    if (ev->type == EIDER_EVENT_LOG && !ev->asset_key && strstr(ev->message, "left out"))
        snprintf(s->left_out, sizeof(s->left_out), "%s", ev->message);
}

static eider_defs *partitioned_defs(void)
{
    eider_defs *defs = eider_defs_new();
    resource(defs, "db", ":memory:");
    const eider_partitions *p = eider_static_partitions(defs, EIDER_KEYS("a", "b", "c"));
    add(defs, &(eider_asset_def){ .key = "part", .compute = run_sql, .user_data = "SELECT 1",
                                  .partitions = p });
    add(defs, &(eider_asset_def){ .key = "reads_part", .compute = run_sql, .user_data = "SELECT 1",
                                  .deps = EIDER_KEYS("part") });
    add(defs, &(eider_asset_def){ .key = "plain", .compute = run_sql, .user_data = "SELECT 1" });
    return defs;
}

Test(run, a_run_of_every_partition_records_all_and_how_many)
{
    start_seen seen = { 0 };
    eider_event_sink sink = { on_start, &seen };
    eider_defs *defs = partitioned_defs();
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1, .sink = &sink,
                 .selection = "part", .all_partitions = 1 }, NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_str_eq(seen.partition, "all (3)");
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1, .sink = &sink,
                 .selection = "part", .partition = "a...b" }, NULL), EIDER_OK);
    cr_expect_str_eq(seen.partition, "a...b");
    eider_defs_free(defs);
}

Test(run, a_run_without_a_partition_logs_what_it_left_out)
{
    start_seen seen = { 0 };
    eider_event_sink sink = { on_start, &seen };
    eider_defs *defs = partitioned_defs();
    eider_result *r = NULL;
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1, .sink = &sink }, &r),
                 EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_result_count(r), 1);
    cr_expect_eq(seen.n_steps, 1, "the run start counts what runs, not what was left out");
    cr_expect_str_eq(seen.partition, "-");
    cr_expect_str_eq(seen.left_out, "left out: 'part' (partitioned, and no partition was given), "
                     "'reads_part' (reads 'part', left out and never materialized)");
    eider_result_free(r);
    eider_defs_free(defs);
}
