/*
 * test_partitions.c — partitions definitions: static keys, time windows (each unit,
 * month lengths and leap years, starts that are not keys, time zones and "now"),
 * several dimensions; resolving a request into keys (ranges, unknown keys with a
 * suggestion); the SQL condition of a set of keys, golden and run in DuckDB; file names.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <time.h>

#include "defs/partitions.h"

static eider_defs *defs;

static void setup(void)
{
    defs = eider_defs_new();
}

static void teardown(void)
{
    eider_defs_free(defs);
}

TestSuite(partitions, .init = setup, .fini = teardown);

static const eider_partitions *daily(const char *start, const char *end)
{
    const eider_partitions *p = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = start, .end = end });
    cr_assert_not_null(p, "%s", eider_defs_errmsg(defs));
    return p;
}

static const eider_partitions *species(void)
{
    const eider_partitions *p =
        eider_static_partitions(defs, EIDER_KEYS("setosa", "versicolor", "virginica"));
    cr_assert_not_null(p, "%s", eider_defs_errmsg(defs));
    return p;
}

/* species x daily 2024-01-01..2024-01-03 */
static const eider_partitions *species_by_day(void)
{
    const eider_partitions *p = eider_multi_partitions(defs, EIDER_KEYS("species", "day"),
        EIDER_PARTITIONS(species(), daily("2024-01-01", "2024-01-04")));
    cr_assert_not_null(p, "%s", eider_defs_errmsg(defs));
    return p;
}

/* Assert that p's keys are exactly want (NULL-terminated). */
static void expect_keys(const eider_partitions *p, const char *const *want)
{
    eider__buf err = { 0 };
    char **keys = NULL;
    size_t n = 0, n_want = 0;
    cr_assert_eq(eider__partitions_keys(p, &keys, &n, &err), EIDER_OK, "%s", eider__buf_str(&err));
    while (want[n_want])
        n_want++;
    cr_expect_eq(n, n_want, "got %zu keys, want %zu", n, n_want);
    for (size_t i = 0; i < n && i < n_want; i++)
        cr_expect_str_eq(keys[i], want[i], "key %zu", i);
    eider__strv_free(keys, n);
    eider__buf_release(&err);
}

static size_t count_keys(const eider_partitions *p)
{
    eider__buf err = { 0 };
    char **keys = NULL;
    size_t n = 0;
    cr_assert_eq(eider__partitions_keys(p, &keys, &n, &err), EIDER_OK, "%s", eider__buf_str(&err));
    eider__strv_free(keys, n);
    eider__buf_release(&err);
    return n;
}

static void expect_time_error(const eider_time_partitions_def *def, const char *needle)
{
    cr_expect_null(eider_time_partitions(defs, def));
    cr_expect(strstr(eider_defs_errmsg(defs), needle), "message '%s' lacks '%s'",
              eider_defs_errmsg(defs), needle);
}

/* Resolve request; expect rc, and keys (NULL-terminated) or a message containing needle. */
static void expect_resolve(const eider_partitions *p, const char *request, int rc,
                           const char *const *want, const char *needle)
{
    eider__buf err = { 0 };
    char **keys = NULL;
    size_t n = 0, n_want = 0;
    cr_assert_eq(eider__partitions_resolve(p, "iris", request, &keys, &n, &err), rc,
                 "request '%s': %s", request, eider__buf_str(&err));
    while (want && want[n_want])
        n_want++;
    cr_expect_eq(n, n_want, "request '%s': %zu keys", request, n);
    for (size_t i = 0; i < n && i < n_want; i++)
        cr_expect_str_eq(keys[i], want[i]);
    if (needle)
        cr_expect_str_eq(eider__buf_str(&err), needle);
    eider__strv_free(keys, n);
    eider__buf_release(&err);
}

/* The condition of keys (NULL-terminated) under expr, or the error; returns the code. */
static int where(const eider_partitions *p, const char *expr, const char *const *keys,
                 eider__buf *out)
{
    eider__buf err = { 0 };
    size_t n = 0;
    while (keys[n])
        n++;
    int rc = eider__partitions_where(p, expr, (char *const *)keys, n, out, &err);
    if (rc) {
        eider__buf_reset(out);
        eider__buf_puts(out, eider__buf_str(&err));
    }
    eider__buf_release(&err);
    return rc;
}

static void expect_where(const eider_partitions *p, const char *expr, const char *const *keys,
                         const char *want)
{
    eider__buf sql = { 0 };
    cr_expect_eq(where(p, expr, keys, &sql), EIDER_OK, "%s", eider__buf_str(&sql));
    cr_expect_str_eq(eider__buf_str(&sql), want);
    eider__buf_release(&sql);
}

static void expect_where_error(const eider_partitions *p, const char *expr,
                               const char *const *keys, const char *needle)
{
    eider__buf msg = { 0 };
    cr_expect_neq(where(p, expr, keys, &msg), EIDER_OK);
    cr_expect(strstr(eider__buf_str(&msg), needle), "message '%s' lacks '%s'",
              eider__buf_str(&msg), needle);
    eider__buf_release(&msg);
}

/* ---- DuckDB, to run what is generated ---- */

typedef struct db {
    duckdb_database db;
    duckdb_connection conn;
} db;

static void db_open(db *d)
{
    cr_assert_eq(duckdb_open(NULL, &d->db), DuckDBSuccess);
    cr_assert_eq(duckdb_connect(d->db, &d->conn), DuckDBSuccess);
}

static void db_close(db *d)
{
    duckdb_disconnect(&d->conn);
    duckdb_close(&d->db);
}

static void db_exec(db *d, const char *sql)
{
    duckdb_result res;
    duckdb_state st = duckdb_query(d->conn, sql, &res);
    cr_assert_eq(st, DuckDBSuccess, "%s: %s", sql, duckdb_result_error(&res));
    duckdb_destroy_result(&res);
}

/* The first column of the first row, as text. */
static void db_text(db *d, const char *sql, eider__buf *out)
{
    duckdb_result res;
    cr_assert_eq(duckdb_query(d->conn, sql, &res), DuckDBSuccess, "%s: %s", sql,
                 duckdb_result_error(&res));
    duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
    cr_assert(chunk && duckdb_data_chunk_get_size(chunk) == 1, "%s: no row", sql);
    duckdb_string_t *s = duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 0));
    eider__buf_add(out, duckdb_string_t_data(s), duckdb_string_t_length(*s));
    duckdb_destroy_data_chunk(&chunk);
    duckdb_destroy_result(&res);
}

/* How many rows of t the condition of keys under expr selects. */
static long long db_count(db *d, const eider_partitions *p, const char *expr,
                          const char *const *keys)
{
    eider__buf sql = { 0 }, cond = { 0 }, text = { 0 };
    cr_assert_eq(where(p, expr, keys, &cond), EIDER_OK, "%s", eider__buf_str(&cond));
    eider__buf_printf(&sql, "SELECT count(*)::VARCHAR FROM t WHERE %s", eider__buf_str(&cond));
    db_text(d, eider__buf_str(&sql), &text);
    long long n = atoll(eider__buf_str(&text));
    eider__buf_release(&sql);
    eider__buf_release(&cond);
    eider__buf_release(&text);
    return n;
}

/* ---- static ---- */

Test(partitions, static_keys_keep_their_order)
{
    const eider_partitions *p = eider_static_partitions(defs, EIDER_KEYS("b", "a", "it's x"));
    cr_assert_not_null(p, "%s", eider_defs_errmsg(defs));
    expect_keys(p, EIDER_KEYS("b", "a", "it's x"));
    cr_expect_null(eider__partitions_timezone(p));
}

Test(partitions, static_duplicate_key_is_refused)
{
    cr_expect_null(eider_static_partitions(defs, EIDER_KEYS("a", "b", "a")));
    cr_expect_str_eq(eider_defs_errmsg(defs),
                     "static partitions list key 'a' twice: each key must be unique");
}

Test(partitions, static_empty_key_is_refused)
{
    cr_expect_null(eider_static_partitions(defs, EIDER_KEYS("a", "")));
    cr_expect_str_eq(eider_defs_errmsg(defs),
                     "static partitions key 2 is empty: give every partition a name");
}

Test(partitions, static_empty_list_is_refused)
{
    cr_expect_null(eider_static_partitions(defs, NULL));
    cr_expect(strstr(eider_defs_errmsg(defs), "need at least one key"));
}

Test(partitions, static_key_holding_a_range_marker_is_refused)
{
    cr_expect_null(eider_static_partitions(defs, EIDER_KEYS("a...b")));
    cr_expect(strstr(eider_defs_errmsg(defs), "'a...b' contains '...'"));
}

Test(partitions, definition_errors_are_reported_by_validate)
{
    cr_expect_null(eider_static_partitions(defs, EIDER_KEYS("a", "a")));
    cr_expect_eq(eider_defs_validate(defs), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "key 'a' twice"), "%s", eider_defs_errmsg(defs));
}

/* ---- time windows ---- */

Test(partitions, daily_keys_end_with_the_last_day_before_end)
{
    expect_keys(daily("2024-01-30", "2024-02-02"),
                EIDER_KEYS("2024-01-30", "2024-01-31", "2024-02-01"));
}

Test(partitions, a_window_that_has_not_ended_by_end_is_left_out)
{
    expect_keys(daily("2024-01-30", "2024-02-01 23:59"), EIDER_KEYS("2024-01-30", "2024-01-31"));
}

Test(partitions, hourly_keys_use_dagsters_format_across_midnight)
{
    const eider_partitions *p = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_HOURLY, .start = "2024-01-31-22:00", .end = "2024-02-01 01:00" });
    cr_assert_not_null(p, "%s", eider_defs_errmsg(defs));
    expect_keys(p, EIDER_KEYS("2024-01-31-22:00", "2024-01-31-23:00", "2024-02-01-00:00"));
}

Test(partitions, weekly_keys_are_the_sundays_that_start_each_week)
{
    const eider_partitions *p = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_WEEKLY, .start = "2023-12-24", .end = "2024-01-20" });
    cr_assert_not_null(p, "%s", eider_defs_errmsg(defs));
    expect_keys(p, EIDER_KEYS("2023-12-24", "2023-12-31", "2024-01-07"));
}

Test(partitions, monthly_keys_are_first_days_across_a_year_end)
{
    const eider_partitions *p = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_MONTHLY, .start = "2023-11-01", .end = "2024-03-01" });
    cr_assert_not_null(p, "%s", eider_defs_errmsg(defs));
    expect_keys(p, EIDER_KEYS("2023-11-01", "2023-12-01", "2024-01-01", "2024-02-01"));
}

Test(partitions, leap_years_have_february_29_and_centuries_follow_the_400_rule)
{
    expect_keys(daily("2024-02-28", "2024-03-02"),
                EIDER_KEYS("2024-02-28", "2024-02-29", "2024-03-01"));
    expect_keys(daily("2023-02-28", "2023-03-02"), EIDER_KEYS("2023-02-28", "2023-03-01"));
    expect_keys(daily("1900-02-28", "1900-03-02"), EIDER_KEYS("1900-02-28", "1900-03-01"));
    expect_keys(daily("2000-02-28", "2000-03-01"), EIDER_KEYS("2000-02-28", "2000-02-29"));
}

Test(partitions, years_have_365_or_366_days_and_12_months)
{
    cr_expect_eq(count_keys(daily("2023-01-01", "2024-01-01")), 365);
    cr_expect_eq(count_keys(daily("2024-01-01", "2025-01-01")), 366);
    cr_expect_eq(count_keys(daily("2024-01-01", "2024-02-01")), 31);
    cr_expect_eq(count_keys(daily("2024-04-01", "2024-05-01")), 30);
    cr_expect_eq(count_keys(daily("1969-12-30", "1970-01-03")), 4);
    const eider_partitions *m = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_MONTHLY, .start = "2024-01-01", .end = "2025-01-01" });
    cr_assert_not_null(m, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(count_keys(m), 12);
}

Test(partitions, a_date_that_does_not_exist_is_not_a_start)
{
    expect_time_error(&(eider_time_partitions_def){ .unit = EIDER_DAILY, .start = "2023-02-29" },
                      "daily partitions start '2023-02-29' is not a date");
}

Test(partitions, weekly_start_that_is_not_a_sunday_names_the_sunday)
{
    expect_time_error(&(eider_time_partitions_def){ .unit = EIDER_WEEKLY, .start = "2024-01-31" },
                      "weekly partitions start '2024-01-31' is a Wednesday, but weeks start on "
                      "Sunday: start at '2024-01-28'");
}

Test(partitions, monthly_start_that_is_not_a_first_names_the_first)
{
    expect_time_error(&(eider_time_partitions_def){ .unit = EIDER_MONTHLY, .start = "2024-02-15" },
                      "start at '2024-02-01'");
}

Test(partitions, hourly_start_written_as_a_date_names_the_hourly_key)
{
    expect_time_error(&(eider_time_partitions_def){ .unit = EIDER_HOURLY, .start = "2024-01-31" },
                      "hourly partitions start '2024-01-31' is not an hourly key: start at "
                      "'2024-01-31-00:00'");
}

Test(partitions, missing_start_is_refused)
{
    expect_time_error(&(eider_time_partitions_def){ .unit = EIDER_DAILY }, "need a start");
}

Test(partitions, end_not_after_start_is_refused)
{
    expect_time_error(&(eider_time_partitions_def){ .unit = EIDER_DAILY, .start = "2024-01-02",
                                                    .end = "2024-01-02" },
                      "is not after their start");
}

Test(partitions, unknown_zone_is_refused_with_a_suggestion)
{
    expect_time_error(&(eider_time_partitions_def){ .unit = EIDER_DAILY, .start = "2024-01-01",
                                                    .timezone = "Europe/Pari" },
                      "unknown time zone 'Europe/Pari' (did you mean 'Europe/Paris'?)");
}

Test(partitions, nonsense_zone_is_refused)
{
    expect_time_error(&(eider_time_partitions_def){ .unit = EIDER_DAILY, .start = "2024-01-01",
                                                    .timezone = "Not/AZoneAtAllReally" },
                      "unknown time zone 'Not/AZoneAtAllReally'");
}

Test(partitions, zone_defaults_to_utc_and_is_kept)
{
    cr_expect_str_eq(eider__partitions_timezone(daily("2024-01-01", NULL)), "UTC");
    const eider_partitions *p = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .timezone = "America/New_York" });
    cr_assert_not_null(p, "%s", eider_defs_errmsg(defs));
    cr_expect_str_eq(eider__partitions_timezone(p), "America/New_York");
}

static void last_key(const eider_partitions *p, eider__buf *out)
{
    eider__buf err = { 0 };
    char **keys = NULL;
    size_t n = 0;
    cr_assert_eq(eider__partitions_keys(p, &keys, &n, &err), EIDER_OK, "%s", eider__buf_str(&err));
    cr_assert_gt(n, 0);
    eider__buf_puts(out, keys[n - 1]);
    eider__strv_free(keys, n);
    eider__buf_release(&err);
}

Test(partitions, without_end_hourly_keys_end_with_the_last_hour_ended_in_the_zone)
{
    const char *q = "SELECT strftime(date_trunc('hour', timezone('Pacific/Kiritimati', now())) "
                    "- INTERVAL 1 HOUR, '%Y-%m-%d-%H:%M')";
    eider__buf before = { 0 }, after = { 0 }, got = { 0 }, utc = { 0 };
    db d;
    db_open(&d);
    const eider_partitions *p = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_HOURLY, .start = "2024-01-01-00:00", .timezone = "Pacific/Kiritimati" });
    cr_assert_not_null(p, "%s", eider_defs_errmsg(defs));
    db_text(&d, q, &before);
    last_key(p, &got);
    db_text(&d, q, &after);
    db_text(&d, "SELECT strftime(date_trunc('hour', timezone('UTC', now())) - INTERVAL 1 HOUR, "
                "'%Y-%m-%d-%H:%M')", &utc);
    cr_expect(strcmp(got.data, before.data) == 0 || strcmp(got.data, after.data) == 0,
              "last key '%s', expected '%s'", got.data, before.data);
    cr_expect_str_neq(got.data, utc.data, "UTC+14 must not end with UTC's hour");
    eider__buf_release(&before);
    eider__buf_release(&after);
    eider__buf_release(&got);
    eider__buf_release(&utc);
    db_close(&d);
}

static void utc_yesterday(char *out, size_t size)
{
    time_t yesterday = time(NULL) - 86400;
    struct tm tm;
    gmtime_r(&yesterday, &tm);
    strftime(out, size, "%Y-%m-%d", &tm);
}

Test(partitions, without_end_daily_utc_keys_end_yesterday)
{
    char before[16], after[16];
    eider__buf got = { 0 };
    utc_yesterday(before, sizeof(before));
    last_key(daily("2024-01-01", NULL), &got);
    utc_yesterday(after, sizeof(after));
    cr_expect(strcmp(got.data, before) == 0 || strcmp(got.data, after) == 0,
              "last key '%s', expected '%s'", got.data, before);
    eider__buf_release(&got);
}

static void *count_in_thread(void *p)
{
    eider__buf err = { 0 };
    char **keys = NULL;
    size_t n = 0;
    int rc = eider__partitions_keys(p, &keys, &n, &err);
    eider__strv_free(keys, n);
    eider__buf_release(&err);
    return (void *)(intptr_t)(rc == EIDER_OK && n > 0);
}

Test(partitions, now_in_a_zone_can_be_read_from_several_threads)
{
    pthread_t threads[4];
    const eider_partitions *p = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .timezone = "Asia/Tokyo" });
    cr_assert_not_null(p, "%s", eider_defs_errmsg(defs));
    for (size_t i = 0; i < EIDER__ARRAY_LEN(threads); i++)
        cr_assert_eq(pthread_create(&threads[i], NULL, count_in_thread, (void *)p), 0);
    for (size_t i = 0; i < EIDER__ARRAY_LEN(threads); i++) {
        void *ok = NULL;
        pthread_join(threads[i], &ok);
        cr_expect(ok, "thread %zu", i);
    }
}

/* ---- multi ---- */

Test(partitions, multi_keys_vary_the_first_dimension_slowest)
{
    const eider_partitions *s = eider_static_partitions(defs, EIDER_KEYS("a", "b"));
    const eider_partitions *p = eider_multi_partitions(defs, EIDER_KEYS("letter", "day"),
        EIDER_PARTITIONS(s, daily("2024-01-01", "2024-01-03")));
    cr_assert_not_null(p, "%s", eider_defs_errmsg(defs));
    expect_keys(p, EIDER_KEYS("a|2024-01-01", "a|2024-01-02", "b|2024-01-01", "b|2024-01-02"));
    cr_expect_str_eq(eider__partitions_timezone(p), "UTC");
}

Test(partitions, multi_allows_three_static_dimensions)
{
    const eider_partitions *a = eider_static_partitions(defs, EIDER_KEYS("a1", "a2"));
    const eider_partitions *b = eider_static_partitions(defs, EIDER_KEYS("b1"));
    const eider_partitions *c = eider_static_partitions(defs, EIDER_KEYS("c1", "c2"));
    const eider_partitions *p = eider_multi_partitions(defs, EIDER_KEYS("a", "b", "c"),
                                                       EIDER_PARTITIONS(a, b, c));
    cr_assert_not_null(p, "%s", eider_defs_errmsg(defs));
    expect_keys(p, EIDER_KEYS("a1|b1|c1", "a1|b1|c2", "a2|b1|c1", "a2|b1|c2"));
    cr_expect_null(eider__partitions_timezone(p));
}

Test(partitions, multi_needs_two_dimensions)
{
    cr_expect_null(eider_multi_partitions(defs, EIDER_KEYS("species"),
                                          EIDER_PARTITIONS(species())));
    cr_expect(strstr(eider_defs_errmsg(defs), "have 1 dimensions: give 2 to"));
}

Test(partitions, multi_names_must_match_dimensions)
{
    cr_expect_null(eider_multi_partitions(defs, EIDER_KEYS("a", "b", "c"),
                                          EIDER_PARTITIONS(species(), daily("2024-01-01", NULL))));
    cr_expect(strstr(eider_defs_errmsg(defs), "3 names for 2 dimensions"));
}

Test(partitions, multi_dimension_names_are_unique_and_without_bars)
{
    const eider_partitions *s = species(), *d = daily("2024-01-01", NULL);
    cr_expect_null(eider_multi_partitions(defs, EIDER_KEYS("x", "x"), EIDER_PARTITIONS(s, d)));
    cr_expect(strstr(eider_defs_errmsg(defs), "name two dimensions 'x'"));
    cr_expect_null(eider_multi_partitions(defs, EIDER_KEYS("a|b", "x"), EIDER_PARTITIONS(s, d)));
    cr_expect(strstr(eider_defs_errmsg(defs), "is named 'a|b'"));
    cr_expect_null(eider_multi_partitions(defs, EIDER_KEYS("", "x"), EIDER_PARTITIONS(s, d)));
    cr_expect(strstr(eider_defs_errmsg(defs), "non-empty name"));
}

Test(partitions, multi_refuses_two_time_dimensions)
{
    cr_expect_null(eider_multi_partitions(defs, EIDER_KEYS("d1", "d2"),
        EIDER_PARTITIONS(daily("2024-01-01", NULL), daily("2024-01-01", NULL))));
    cr_expect(strstr(eider_defs_errmsg(defs), "'d1' and 'd2' are both time windows"));
}

Test(partitions, multi_refuses_a_multi_dimension)
{
    const eider_partitions *m = species_by_day();
    cr_expect_null(eider_multi_partitions(defs, EIDER_KEYS("m", "s"),
                                          EIDER_PARTITIONS(m, species())));
    cr_expect(strstr(eider_defs_errmsg(defs), "dimension 'm' is itself multi partitions"));
}

Test(partitions, multi_refuses_static_keys_holding_a_bar)
{
    const eider_partitions *s = eider_static_partitions(defs, EIDER_KEYS("a|b"));
    cr_assert_not_null(s, "a static key may hold '|' on its own");
    cr_expect_null(eider_multi_partitions(defs, EIDER_KEYS("s", "t"),
                                          EIDER_PARTITIONS(s, species())));
    cr_expect(strstr(eider_defs_errmsg(defs), "has key 'a|b'"));
}

Test(partitions, has_checks_each_part_of_a_multi_key)
{
    const eider_partitions *p = species_by_day();
    cr_expect(eider__partitions_has(p, "setosa|2024-01-03"));
    cr_expect_not(eider__partitions_has(p, "setosa|2024-01-04"));
    cr_expect_not(eider__partitions_has(p, "rose|2024-01-01"));
    cr_expect_not(eider__partitions_has(p, "setosa"));
    cr_expect_not(eider__partitions_has(p, "setosa|2024-01-01|x"));
    cr_expect(eider__partitions_has(species(), "virginica"));
    cr_expect_not(eider__partitions_has(species(), "virginic"));
}

/* ---- resolving a request ---- */

Test(partitions, resolve_one_key)
{
    expect_resolve(species(), "versicolor", EIDER_OK, EIDER_KEYS("versicolor"), NULL);
}

Test(partitions, resolve_range_includes_both_ends_in_definition_order)
{
    const eider_partitions *p = eider_static_partitions(defs, EIDER_KEYS("z", "y", "x", "w"));
    cr_assert_not_null(p);
    expect_resolve(p, "y...w", EIDER_OK, EIDER_KEYS("y", "x", "w"), NULL);
    expect_resolve(daily("2024-01-01", "2024-02-01"), "2024-01-30...2024-01-31", EIDER_OK,
                   EIDER_KEYS("2024-01-30", "2024-01-31"), NULL);
}

Test(partitions, resolve_unknown_key_suggests_the_closest_and_gives_the_span)
{
    expect_resolve(species(), "setsoa", EIDER_ENOTFOUND, NULL,
                   "asset 'iris' has no partition 'setsoa' (did you mean 'setosa'?); its "
                   "partitions run from 'setosa' to 'virginica'");
}

Test(partitions, resolve_unknown_key_without_a_close_one_gives_the_span)
{
    expect_resolve(species(), "rose", EIDER_ENOTFOUND, NULL,
                   "asset 'iris' has no partition 'rose'; its partitions run from 'setosa' to "
                   "'virginica'");
}

Test(partitions, resolve_date_for_an_hourly_key_suggests_the_hour)
{
    const eider_partitions *p = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_HOURLY, .start = "2024-01-01-00:00", .end = "2024-01-03" });
    cr_assert_not_null(p);
    expect_resolve(p, "2024-01-02", EIDER_ENOTFOUND, NULL,
                   "asset 'iris' has no partition '2024-01-02' (did you mean '2024-01-02-00:00'?); "
                   "its partitions run from '2024-01-01-00:00' to '2024-01-02-23:00'");
}

Test(partitions, resolve_window_not_yet_ended_is_unknown)
{
    expect_resolve(daily("2024-01-01", "2024-01-03"), "2024-01-03", EIDER_ENOTFOUND, NULL,
                   "asset 'iris' has no partition '2024-01-03'; its partitions run from "
                   "'2024-01-01' to '2024-01-02'");
}

Test(partitions, resolve_reversed_range_is_refused)
{
    expect_resolve(species(), "virginica...setosa", EIDER_EINVAL, NULL,
                   "partition range 'virginica...setosa' of asset 'iris' is reversed: "
                   "'virginica' comes after 'setosa'; write 'setosa...virginica'");
}

Test(partitions, resolve_empty_request_is_refused)
{
    expect_resolve(species(), "", EIDER_EINVAL, NULL,
                   "asset 'iris' is partitioned: name a partition 'KEY' or a range 'A...B'; "
                   "its partitions run from 'setosa' to 'virginica'");
}

Test(partitions, resolve_range_with_a_missing_end_is_refused)
{
    expect_resolve(species(), "setosa...", EIDER_EINVAL, NULL,
                   "partition range 'setosa...' of asset 'iris' needs both ends: write 'A...B'; "
                   "its partitions run from 'setosa' to 'virginica'");
    expect_resolve(species(), "...setosa", EIDER_EINVAL, NULL, NULL);
}

Test(partitions, resolve_multi_range_runs_over_the_full_key_order)
{
    expect_resolve(species_by_day(), "setosa|2024-01-03...versicolor|2024-01-02", EIDER_OK,
                   EIDER_KEYS("setosa|2024-01-03", "versicolor|2024-01-01",
                              "versicolor|2024-01-02"), NULL);
}

Test(partitions, resolve_multi_unknown_part_suggests_a_whole_key)
{
    expect_resolve(species_by_day(), "setsoa|2024-01-02", EIDER_ENOTFOUND, NULL,
                   "asset 'iris' has no partition 'setsoa|2024-01-02' (did you mean "
                   "'setosa|2024-01-02'?); its partitions run from 'setosa|2024-01-01' to "
                   "'virginica|2024-01-03'");
}

Test(partitions, resolve_multi_key_with_too_few_parts_explains_the_shape)
{
    expect_resolve(species_by_day(), "setosa", EIDER_ENOTFOUND, NULL,
                   "asset 'iris' has no partition 'setosa'; its partitions run from "
                   "'setosa|2024-01-01' to 'virginica|2024-01-03' (a key joins one key per "
                   "dimension with '|', in order: species|day)");
}

Test(partitions, resolve_multi_key_with_its_dimensions_swapped_suggests_them_in_order)
{
    expect_resolve(species_by_day(), "2024-01-02|setosa", EIDER_ENOTFOUND, NULL,
                   "asset 'iris' has no partition '2024-01-02|setosa' (did you mean "
                   "'setosa|2024-01-02'?); its partitions run from 'setosa|2024-01-01' to "
                   "'virginica|2024-01-03' (a key joins one key per dimension with '|', in "
                   "order: species|day)");
}

/* ---- the SQL condition ---- */

Test(partitions, where_static_quotes_keys_as_literals)
{
    const eider_partitions *p = eider_static_partitions(defs, EIDER_KEYS("it's", "b c"));
    cr_assert_not_null(p);
    expect_where(p, "species", EIDER_KEYS("it's", "b c"), "(species) IN ('it''s', 'b c')");
}

Test(partitions, where_daily_merges_consecutive_days)
{
    expect_where(daily("2024-01-01", "2024-02-01"), "day",
                 EIDER_KEYS("2024-01-05", "2024-01-01", "2024-01-02", "2024-01-02"),
                 "(((day) >= '2024-01-01 00:00:00' AND (day) < '2024-01-03 00:00:00') OR "
                 "((day) >= '2024-01-05 00:00:00' AND (day) < '2024-01-06 00:00:00'))");
}

Test(partitions, where_hourly_bounds_one_hour)
{
    const eider_partitions *p = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_HOURLY, .start = "2024-01-01-00:00" });
    cr_assert_not_null(p);
    expect_where(p, "ts", EIDER_KEYS("2024-01-31-23:00"),
                 "((ts) >= '2024-01-31 23:00:00' AND (ts) < '2024-02-01 00:00:00')");
}

Test(partitions, where_weekly_and_monthly_bound_whole_windows)
{
    const eider_partitions *w = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_WEEKLY, .start = "2023-12-24" });
    const eider_partitions *m = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_MONTHLY, .start = "2023-01-01" });
    cr_assert(w && m, "%s", eider_defs_errmsg(defs));
    expect_where(w, "ts", EIDER_KEYS("2023-12-31"),
                 "((ts) >= '2023-12-31 00:00:00' AND (ts) < '2024-01-07 00:00:00')");
    expect_where(m, "ts", EIDER_KEYS("2023-12-01", "2024-02-01", "2024-01-01"),
                 "((ts) >= '2023-12-01 00:00:00' AND (ts) < '2024-03-01 00:00:00')");
}

Test(partitions, where_multi_groups_keys_by_the_static_dimension)
{
    expect_where(species_by_day(), "{\"species\": \"sp\", \"day\": \"ts\"}",
                 EIDER_KEYS("setosa|2024-01-01", "setosa|2024-01-02", "virginica|2024-01-03"),
                 "(((sp) IN ('setosa') AND ((ts) >= '2024-01-01 00:00:00' AND (ts) < "
                 "'2024-01-03 00:00:00')) OR ((sp) IN ('virginica') AND ((ts) >= "
                 "'2024-01-03 00:00:00' AND (ts) < '2024-01-04 00:00:00')))");
}

Test(partitions, where_multi_of_statics_lists_the_last_dimension)
{
    const eider_partitions *a = eider_static_partitions(defs, EIDER_KEYS("red", "blue"));
    const eider_partitions *b = eider_static_partitions(defs, EIDER_KEYS("s", "m"));
    const eider_partitions *p = eider_multi_partitions(defs, EIDER_KEYS("color", "size"),
                                                       EIDER_PARTITIONS(a, b));
    cr_assert_not_null(p);
    expect_where(p, "{\"color\": \"c\", \"size\": \"z\"}", EIDER_KEYS("red|s", "red|m"),
                 "((c) IN ('red') AND (z) IN ('s', 'm'))");
}

Test(partitions, where_with_no_keys_selects_nothing)
{
    expect_where(species(), "species", (const char *const[]){ NULL }, "FALSE");
}

Test(partitions, where_appends_to_the_sql_given)
{
    eider__buf sql = { 0 }, err = { 0 };
    char *keys[] = { "setosa" };
    eider__buf_puts(&sql, "DELETE FROM t WHERE ");
    cr_assert_eq(eider__partitions_where(species(), "sp", keys, 1, &sql, &err), EIDER_OK);
    cr_expect_str_eq(eider__buf_str(&sql), "DELETE FROM t WHERE (sp) IN ('setosa')");
    eider__buf_release(&sql);
    eider__buf_release(&err);
}

Test(partitions, where_missing_partition_expr_says_what_to_write)
{
    expect_where_error(species(), NULL, EIDER_KEYS("setosa"),
                       "the DuckDB I/O manager needs metadata \"partition_expr\" for a "
                       "partitioned asset: the SQL expression (a column) that holds the "
                       "partition key, e.g. EIDER_META_TEXT(\"partition_expr\", \"species\")");
}

Test(partitions, where_multi_missing_partition_expr_shows_the_json)
{
    expect_where_error(species_by_day(), "", EIDER_KEYS("setosa|2024-01-01"),
                       "a JSON object naming the SQL expression (a column) of each dimension, "
                       "e.g. EIDER_META_TEXT(\"partition_expr\", \"{\\\"species\\\": "
                       "\\\"species\\\", \\\"day\\\": \\\"day\\\"}\")");
}

Test(partitions, where_multi_partition_expr_must_be_a_json_object)
{
    expect_where_error(species_by_day(), "species", EIDER_KEYS("setosa|2024-01-01"),
                       "must be a JSON object naming the SQL expression of each dimension, not "
                       "'species'");
    expect_where_error(species_by_day(), "[1]", EIDER_KEYS("setosa|2024-01-01"),
                       "must be a JSON object");
}

Test(partitions, where_multi_partition_expr_must_name_every_dimension)
{
    expect_where_error(species_by_day(), "{\"species\": \"sp\"}", EIDER_KEYS("setosa|2024-01-01"),
                       "has no expression for dimension 'day'");
    expect_where_error(species_by_day(), "{\"species\": \"sp\", \"day\": 3}",
                       EIDER_KEYS("setosa|2024-01-01"), "gives dimension 'day' no SQL expression");
}

Test(partitions, where_multi_partition_expr_naming_no_dimension_suggests_one)
{
    expect_where_error(species_by_day(), "{\"species\": \"sp\", \"day\": \"d\", \"dya\": \"x\"}",
                       EIDER_KEYS("setosa|2024-01-01"),
                       "names 'dya', which is not a dimension (did you mean 'day'?)");
}

Test(partitions, where_unknown_keys_are_refused)
{
    expect_where_error(species(), "sp", EIDER_KEYS("rose"),
                       "partition 'rose' is not one of its keys");
    expect_where_error(daily("2024-01-01", NULL), "d", EIDER_KEYS("2023-12-31"),
                       "partition '2023-12-31' is not one of its keys");
    expect_where_error(daily("2024-01-01", NULL), "d", EIDER_KEYS("2024-1-5"), "'2024-1-5'");
    expect_where_error(species_by_day(), "{\"species\": \"sp\", \"day\": \"d\"}",
                       EIDER_KEYS("setosa"), "join one key per dimension with '|' (species|day)");
}

Test(partitions, where_conditions_select_the_right_rows_in_duckdb)
{
    db d;
    db_open(&d);
    db_exec(&d, "CREATE TABLE t AS SELECT ts, ts::DATE AS day, "
                "['setosa', 'it''s', 'virginica'][(i % 3)::INT + 1] AS sp "
                "FROM (SELECT i, TIMESTAMP '2024-01-01' + i * INTERVAL 1 HOUR AS ts "
                "FROM range(24 * 40) r(i))");
    const eider_partitions *s = eider_static_partitions(defs, EIDER_KEYS("setosa", "it's",
                                                                         "virginica"));
    const eider_partitions *day = daily("2024-01-01", "2024-02-10");
    const eider_partitions *p = eider_multi_partitions(defs, EIDER_KEYS("species", "day"),
                                                       EIDER_PARTITIONS(s, day));
    cr_assert_not_null(p, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(db_count(&d, s, "sp", EIDER_KEYS("it's")), 320);
    cr_expect_eq(db_count(&d, day, "ts", EIDER_KEYS("2024-01-01", "2024-01-02", "2024-01-31")), 72);
    cr_expect_eq(db_count(&d, day, "day", EIDER_KEYS("2024-02-01")), 24);
    cr_expect_eq(db_count(&d, p, "{\"species\": \"sp\", \"day\": \"ts\"}",
                          EIDER_KEYS("setosa|2024-01-01", "it's|2024-01-01", "it's|2024-01-02")),
                 24);
    cr_expect_eq(db_count(&d, s, "sp", (const char *const[]){ NULL }), 0);
    db_close(&d);
}

Test(partitions, where_bounds_are_wall_clock_in_the_zone)
{
    db d;
    db_open(&d);
    const eider_partitions *p = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2023-12-01", .timezone = "America/New_York" });
    cr_assert_not_null(p, "%s", eider_defs_errmsg(defs));
    db_exec(&d, "SET TimeZone = 'America/New_York'");
    db_exec(&d, "CREATE TABLE t AS SELECT * FROM (VALUES (TIMESTAMPTZ '2024-01-01 02:00:00+00'), "
                "(TIMESTAMPTZ '2024-01-01 06:00:00+00')) v(ts)");
    cr_expect_eq(db_count(&d, p, "ts", EIDER_KEYS("2023-12-31")), 1);
    cr_expect_eq(db_count(&d, p, "ts", EIDER_KEYS("2024-01-01")), 1);
    db_close(&d);
}

/* ---- file names ---- */

Test(partitions, file_names_escape_all_but_letters_digits_dash_underscore_and_dot)
{
    const char *cases[][2] = {
        { "setosa", "setosa" },
        { "a|b", "a%7Cb" },
        { "2024-01-31-13:00", "2024-01-31-13%3A00" },
        { "it's a/b", "it%27s%20a%2Fb" },
        { "v1.2_x", "v1.2_x" },
        { "..", "%2E." },
        { ".hidden", "%2Ehidden" },
        { "\xc3\xa9t\xc3\xa9", "%C3%A9t%C3%A9" },
        { "50%", "50%25" },
    };
    for (size_t i = 0; i < EIDER__ARRAY_LEN(cases); i++) {
        eider__buf out = { 0 };
        eider__partition_file_name(cases[i][0], &out);
        cr_expect_str_eq(eider__buf_str(&out), cases[i][1], "key '%s'", cases[i][0]);
        eider__buf_release(&out);
    }
}

/* The instants condition of keys under expr; asserts it is built. */
static void expect_where_instants(const eider_partitions *p, const char *expr,
                                  const char *const *keys, const char *want)
{
    eider__buf sql = { 0 }, err = { 0 };
    size_t n = 0;
    while (keys[n])
        n++;
    cr_expect_eq(eider__partitions_where_at(p, expr, (char *const *)keys, n, 1, &sql, &err),
                 EIDER_OK, "%s", eider__buf_str(&err));
    cr_expect_str_eq(eider__buf_str(&sql), want);
    eider__buf_release(&sql);
    eider__buf_release(&err);
}

Test(partitions, where_instants_bound_paris_days_in_utc_across_a_dst_change)
{
    const eider_partitions *p = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .timezone = "Europe/Paris" });
    cr_assert_not_null(p, "%s", eider_defs_errmsg(defs));
    expect_where_instants(p, "ts", EIDER_KEYS("2024-01-02"),
                          "((ts) >= TIMESTAMPTZ '2024-01-01 23:00:00+00' AND "
                          "(ts) < TIMESTAMPTZ '2024-01-02 23:00:00+00')");
    expect_where_instants(p, "ts", EIDER_KEYS("2024-03-31"),   /* 23 hours: CET to CEST */
                          "((ts) >= TIMESTAMPTZ '2024-03-30 23:00:00+00' AND "
                          "(ts) < TIMESTAMPTZ '2024-03-31 22:00:00+00')");
}

Test(partitions, where_instants_in_utc_and_for_a_multi_time_dimension)
{
    expect_where_instants(species_by_day(), "{\"species\": \"sp\", \"day\": \"ts\"}",
                          EIDER_KEYS("setosa|2024-01-01"),
                          "((sp) IN ('setosa') AND ((ts) >= TIMESTAMPTZ '2024-01-01 00:00:00+00' "
                          "AND (ts) < TIMESTAMPTZ '2024-01-02 00:00:00+00'))");
    eider__buf expr = { 0 };
    cr_expect_eq(eider__partitions_time_expr(species_by_day(), "{\"species\": \"sp\", \"day\": "
                                             "\"ts\"}", &expr), 1);
    cr_expect_str_eq(eider__buf_str(&expr), "ts");
    cr_expect_eq(eider__partitions_time_expr(species(), "sp", &expr), 0);
    eider__buf_release(&expr);
}

/* ---- mappings ---- */

/* The upstream keys keys read through m (after checking m), joined by ','; "ALL". */
static void expect_mapped(const eider_partitions *down, const eider_partitions *up,
                          eider_partition_mapping m, const char *const *keys, const char *want)
{
    eider__buf err = { 0 }, got = { 0 };
    eider_partition_mapping used;
    char **up_keys = NULL;
    size_t n = 0, n_up = 0;
    int all = 0;
    while (keys[n])
        n++;
    cr_assert_eq(eider__mapping_check(down, up, &m, &used, &err), EIDER_OK, "%s", eider__buf_str(&err));
    cr_assert_eq(eider__mapping_keys(down, up, &used, (char *const *)keys, n, &up_keys, &n_up, &all,
                                     &err), EIDER_OK, "%s", eider__buf_str(&err));
    for (size_t i = 0; i < n_up; i++)
        eider__buf_printf(&got, "%s%s", i ? "," : "", up_keys[i]);
    cr_expect_str_eq(all ? "ALL" : eider__buf_str(&got), want);
    eider__strv_free(up_keys, n_up);
    eider__buf_release(&err);
    eider__buf_release(&got);
}

static const eider_partitions *unit_from(eider_time_unit unit, const char *start)
{
    const eider_partitions *p = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = unit, .start = start, .end = "2024-03-01" });
    cr_assert_not_null(p, "%s", eider_defs_errmsg(defs));
    return p;
}

Test(partitions, mapping_time_windows_overlap_across_units_and_shift_by_offsets)
{
    const eider_partitions *days = daily("2024-01-01", "2024-03-01");
    const eider_partitions *hours = unit_from(EIDER_HOURLY, "2024-01-01-00:00");
    const eider_partitions *months = unit_from(EIDER_MONTHLY, "2024-01-01");
    eider_partition_mapping inferred = { 0 }, previous = { .kind = EIDER_MAP_TIME_WINDOW,
                                                           .start_offset = -1, .end_offset = -1 };
    expect_mapped(days, days, inferred, EIDER_KEYS("2024-01-05", "2024-01-03"), "2024-01-03,2024-01-05");
    expect_mapped(days, days, previous, EIDER_KEYS("2024-01-05"), "2024-01-04");
    expect_mapped(days, days, previous, EIDER_KEYS("2024-01-01"), "");   /* before the start */
    expect_mapped(hours, days, inferred, EIDER_KEYS("2024-01-02-13:00"), "2024-01-02");
    char feb[29 * 11 + 1] = "";
    for (int d = 1; d <= 29; d++)
        snprintf(feb + strlen(feb), sizeof(feb) - strlen(feb), "%s2024-02-%02d", d > 1 ? "," : "", d);
    expect_mapped(months, days, inferred, EIDER_KEYS("2024-02-01"), feb);
}

Test(partitions, mapping_a_dimension_reads_every_cell_of_the_day)
{
    const eider_partitions *sp_day = species_by_day();
    const eider_partitions *day = eider_multi_partitions(defs, EIDER_KEYS("species", "day"),
        EIDER_PARTITIONS(species(), daily("2024-01-01", "2024-01-04")));
    cr_assert_not_null(day);
    expect_mapped(daily("2024-01-01", "2024-01-04"), sp_day, (eider_partition_mapping){ 0 },
                  EIDER_KEYS("2024-01-02"),
                  "setosa|2024-01-02,versicolor|2024-01-02,virginica|2024-01-02");
    expect_mapped(sp_day, species(), (eider_partition_mapping){ 0 }, EIDER_KEYS("virginica|2024-01-03"),
                  "virginica");
    expect_mapped(sp_day, day, (eider_partition_mapping){ 0 }, EIDER_KEYS("virginica|2024-01-03"),
                  "virginica|2024-01-03");
    expect_mapped(species(), sp_day, (eider_partition_mapping){ .kind = EIDER_MAP_ALL },
                  EIDER_KEYS("setosa"), "ALL");
}

Test(partitions, mapping_declared_wrong_is_refused_with_what_to_write)
{
    eider__buf err = { 0 };
    eider_partition_mapping used;
    eider_partition_mapping m = { .kind = EIDER_MAP_DIMENSION, .dimension = "dya" };
    cr_expect_eq(eider__mapping_check(daily("2024-01-01", NULL), species_by_day(), &m, &used, &err),
                 EIDER_EINVAL);
    cr_expect(strstr(eider__buf_str(&err), "dimension 'dya'"), "%s", eider__buf_str(&err));
    eider__buf_reset(&err);
    m = (eider_partition_mapping){ .kind = EIDER_MAP_TIME_WINDOW, .start_offset = 0, .end_offset = -1 };
    cr_expect_eq(eider__mapping_check(daily("2024-01-01", NULL), daily("2024-01-01", NULL), &m,
                                      &used, &err), EIDER_EINVAL);
    cr_expect(strstr(eider__buf_str(&err), "swap them"), "%s", eider__buf_str(&err));
    eider__buf_reset(&err);
    m = (eider_partition_mapping){ .kind = EIDER_MAP_STATIC, .pairs = EIDER_KEYS("setosa", "nope") };
    cr_expect_eq(eider__mapping_check(species(), species(), &m, &used, &err), EIDER_ENOTFOUND);
    cr_expect(strstr(eider__buf_str(&err), "'nope'"), "%s", eider__buf_str(&err));
    eider__buf_reset(&err);
    cr_expect_eq(eider__mapping_check(species(), species_by_day(), NULL, &used, &err), EIDER_OK,
                 "species is the one dimension like it: %s", eider__buf_str(&err));
    cr_expect_str_eq(used.dimension, "species");
    eider__buf_release(&err);
}

/* `eider partitions add` checks the name first: a typo gets the name it meant, and
 * definitions without dynamic partitions say how to declare them. */
Test(partitions, a_dynamic_partitions_name_is_found_or_refused_with_the_one_meant)
{
    cr_expect_eq(eider_defs_find_dynamic(defs, "regions"), EIDER_ESELECT);
    cr_expect(strstr(eider_defs_errmsg(defs), "they declare none"), "%s", eider_defs_errmsg(defs));
    cr_assert_not_null(eider_dynamic_partitions(defs, "regions"));
    cr_assert_not_null(eider_dynamic_partitions(defs, "shops"));
    cr_expect_eq(eider_defs_find_dynamic(defs, "regions"), EIDER_OK);
    cr_expect_eq(eider_defs_find_dynamic(defs, "shops"), EIDER_OK);
    cr_expect_eq(eider_defs_find_dynamic(defs, "region"), EIDER_ESELECT);
    cr_expect(strstr(eider_defs_errmsg(defs), "dynamic partitions 'region' (did you mean 'regions'?)"),
              "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_defs_find_dynamic(defs, "colours"), EIDER_ESELECT);
    cr_expect(strstr(eider_defs_errmsg(defs), "they declare 'regions', 'shops'"), "%s",
              eider_defs_errmsg(defs));
}
