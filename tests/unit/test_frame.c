/*
 * test_frame.c — eider_frame, the in-memory columnar table: building by rows and by
 * columns with every type and NULLs, the errors that name their column, typed reads,
 * printing, round trips through DuckDB (validity bitmaps across words and vectors,
 * 100,000 rows), frame SQL and the scan's guard, the DuckDB types a result converts,
 * CSV reading, filters and selection, and unusual strings.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "eider.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define IRIS_CSV EIDER_TEST_DATA "/../examples/duckdb_resource/iris.csv"

/* ---- helpers ---- */

/* Assert a call that returns an index or a code succeeded. */
#define OK(call) cr_assert_geq((call), 0, "%s: %s", #call, eider_frame_error())

static eider_frame *must(eider_frame *f)
{
    cr_assert_not_null(f, "%s", eider_frame_error());
    return f;
}

static void expect_error_has(const char *part)
{
    cr_expect_not_null(strstr(eider_frame_error(), part), "error \"%s\" does not mention \"%s\"",
                       eider_frame_error(), part);
}

/* A frame with one column of type (DECIMAL: DECIMAL(width, scale)). */
static eider_frame *one_column(const char *name, eider_type type, int width, int scale)
{
    eider_frame *f = eider_frame_new();
    if (type == EIDER_TYPE_DECIMAL)
        OK(eider_frame_add_decimal_column(f, name, width, scale));
    else
        OK(eider_frame_add_column(f, name, type));
    return f;
}

/* eider_frame_sql over one frame. */
static eider_frame *sql_over(const char *name, const eider_frame *f, const char *sql)
{
    return eider_frame_sql(EIDER_FRAMES({ name, f }), sql);
}

/* What eider_frame_print writes, as a string to free. */
static char *printed(const eider_frame *f, size_t n)
{
    char *s = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&s, &len);
    cr_assert_not_null(out);
    eider_frame_print(f, n, out);
    fclose(out);
    return s;
}

/* Every column's name and type and every cell of a equals b's (checked without an
 * assertion per cell, so 100,000 rows stay fast). */
static void expect_same_cells(const eider_frame *a, const eider_frame *b)
{
    cr_assert_eq(eider_frame_columns(a), eider_frame_columns(b));
    cr_assert_eq(eider_frame_rows(a), eider_frame_rows(b));
    for (size_t c = 0; c < eider_frame_columns(a); c++) {
        int wa = 0, sa = 0, wb = 0, sb = 0;
        int type = eider_frame_column_type(a, c, &wa, &sa);
        cr_assert_str_eq(eider_frame_column_name(a, c), eider_frame_column_name(b, c));
        cr_assert_eq(type, eider_frame_column_type(b, c, &wb, &sb), "column %zu", c);
        if (type == EIDER_TYPE_DECIMAL)
            cr_assert(wa == wb && sa == sb, "DECIMAL(%d,%d) vs DECIMAL(%d,%d)", wa, sa, wb, sb);
        for (size_t r = 0; r < eider_frame_rows(a); r++) {
            int null = eider_frame_is_null(a, c, r);
            if (null != eider_frame_is_null(b, c, r))
                cr_assert_fail("column %zu row %zu: NULL %d vs %d", c, r, null, !null);
            if (null)
                continue;
            if (type == EIDER_TYPE_VARCHAR) {
                if (strcmp(eider_frame_get_text(a, c, r), eider_frame_get_text(b, c, r)))
                    cr_assert_fail("column %zu row %zu: '%s' vs '%s'", c, r,
                                   eider_frame_get_text(a, c, r), eider_frame_get_text(b, c, r));
            } else if (type == EIDER_TYPE_DOUBLE) {
                if (eider_frame_get_double(a, c, r) != eider_frame_get_double(b, c, r))
                    cr_assert_fail("column %zu row %zu: %.17g vs %.17g", c, r,
                                   eider_frame_get_double(a, c, r), eider_frame_get_double(b, c, r));
            } else if (eider_frame_get_int64(a, c, r) != eider_frame_get_int64(b, c, r)) {
                cr_assert_fail("column %zu row %zu: %" PRId64 " vs %" PRId64, c, r,
                               eider_frame_get_int64(a, c, r), eider_frame_get_int64(b, c, r));
            }
        }
    }
}

/* The frame round-tripped through DuckDB equals the original, cell for cell. */
static void expect_round_trip(const eider_frame *f)
{
    eider_frame *back = must(sql_over("t", f, "SELECT * FROM t"));
    expect_same_cells(f, back);
    eider_frame_free(back);
}

/* One frame with a column of every type: b i g d m s dt ts tz. */
static const char *const every_name[] = { "b", "i", "g", "d", "m", "s", "dt", "ts", "tz" };
static const eider_type every_type[] = {
    EIDER_TYPE_BOOLEAN, EIDER_TYPE_INTEGER, EIDER_TYPE_BIGINT, EIDER_TYPE_DOUBLE, EIDER_TYPE_DECIMAL,
    EIDER_TYPE_VARCHAR, EIDER_TYPE_DATE, EIDER_TYPE_TIMESTAMP, EIDER_TYPE_TIMESTAMP_TZ,
};
#define N_EVERY 9

static eider_frame *every_type_frame(void)
{
    eider_frame *f = eider_frame_new();
    for (size_t i = 0; i < N_EVERY; i++)
        OK(every_type[i] == EIDER_TYPE_DECIMAL ? eider_frame_add_decimal_column(f, every_name[i], 10, 2)
                                               : eider_frame_add_column(f, every_name[i], every_type[i]));
    return f;
}

/* 2024-02-29 in days, and 2024-02-29 13:45:30.25 in microseconds, since 1970-01-01. */
#define LEAP_DAY 19782
#define LEAP_DAY_TS (INT64_C(1709214330) * 1000000 + 250000)

/* Row 0 with the typed appends, row 1 all NULL. */
static eider_frame *every_type_rows(void)
{
    eider_frame *f = every_type_frame();
    OK(eider_frame_append_bool(f, 1));
    OK(eider_frame_append_int64(f, -7));
    OK(eider_frame_append_int64(f, INT64_C(9000000000)));
    OK(eider_frame_append_double(f, 2.5));
    OK(eider_frame_append_double(f, 12.34));
    OK(eider_frame_append_text(f, "hello"));
    OK(eider_frame_append_int64(f, LEAP_DAY));
    OK(eider_frame_append_int64(f, LEAP_DAY_TS));
    OK(eider_frame_append_text(f, "2024-02-29 13:45:30.25+02"));
    OK(eider_frame_end_row(f));
    for (size_t i = 0; i < N_EVERY; i++)
        OK(eider_frame_append_null(f));
    OK(eider_frame_end_row(f));
    return f;
}

/* ---- building by rows ---- */

Test(rows, every_type_reads_back_through_the_typed_getters)
{
    eider_frame *f = every_type_rows();
    cr_expect_eq(eider_frame_rows(f), 2);
    cr_expect_eq(eider_frame_columns(f), N_EVERY);
    cr_expect_eq(eider_frame_get_bool(f, 0, 0), 1);
    cr_expect_eq(eider_frame_get_int64(f, 1, 0), -7);
    cr_expect_eq(eider_frame_get_int64(f, 2, 0), INT64_C(9000000000));
    cr_expect_eq(eider_frame_get_double(f, 3, 0), 2.5);
    cr_expect_eq(eider_frame_get_int64(f, 4, 0), 1234);
    cr_expect_float_eq(eider_frame_get_double(f, 4, 0), 12.34, 1e-12);
    cr_expect_str_eq(eider_frame_get_text(f, 5, 0), "hello");
    cr_expect_eq(eider_frame_get_int64(f, 6, 0), LEAP_DAY);
    cr_expect_eq(eider_frame_get_int64(f, 7, 0), LEAP_DAY_TS);
    cr_expect_eq(eider_frame_get_int64(f, 8, 0), LEAP_DAY_TS - INT64_C(7200) * 1000000);
    for (size_t c = 0; c < N_EVERY; c++)
        cr_expect_not(eider_frame_is_null(f, c, 0), "column %s", every_name[c]);
    eider_frame_free(f);
}

Test(rows, every_type_holds_what_duckdb_means_by_it)
{
    eider_frame *f = every_type_rows();
    eider_frame *r = must(sql_over("t", f,
        "SELECT b = true AND i = -7 AND g = 9000000000 AND d = 2.5 AND m = 12.34::DECIMAL(10,2) "
        "AND s = 'hello' AND dt = DATE '2024-02-29' AND ts = TIMESTAMP '2024-02-29 13:45:30.25' "
        "AND tz = TIMESTAMPTZ '2024-02-29 11:45:30.25+00' AS same FROM t LIMIT 1"));
    cr_expect_eq(eider_frame_get_bool(r, 0, 0), 1);
    eider_frame_free(r);
    eider_frame_free(f);
}

Test(rows, null_in_every_type_reads_as_null_and_zero)
{
    eider_frame *f = every_type_rows();
    for (size_t c = 0; c < N_EVERY; c++) {
        cr_expect(eider_frame_is_null(f, c, 1), "column %s", every_name[c]);
        cr_expect_eq(eider_frame_get_int64(f, c, 1), 0, "column %s", every_name[c]);
        cr_expect_eq(eider_frame_get_double(f, c, 1), 0.0, "column %s", every_name[c]);
        cr_expect_null(eider_frame_get_text(f, c, 1), "column %s", every_name[c]);
    }
    eider_frame_free(f);
}

Test(rows, nulls_in_every_type_survive_duckdb)
{
    eider_frame *f = every_type_rows();
    eider_frame *r = must(sql_over("t", f, "SELECT count(*) AS n FROM t WHERE b IS NULL AND "
        "i IS NULL AND g IS NULL AND d IS NULL AND m IS NULL AND s IS NULL AND dt IS NULL AND "
        "ts IS NULL AND tz IS NULL"));
    cr_expect_eq(eider_frame_get_int64(r, 0, 0), 1);
    eider_frame_free(r);
    expect_round_trip(f);
    eider_frame_free(f);
}

Test(rows, append_text_of_null_appends_a_null)
{
    eider_frame *f = one_column("s", EIDER_TYPE_VARCHAR, 0, 0);
    OK(eider_frame_append_text(f, NULL));
    OK(eider_frame_end_row(f));
    cr_expect(eider_frame_is_null(f, 0, 0));
    cr_expect_null(eider_frame_get_text(f, 0, 0));
    eider_frame_free(f);
}

/* Text into a column is cast as DuckDB casts it: each case is checked against
 * CAST('<text>' AS <sqltype>) in DuckDB. */
typedef struct cast_case {
    eider_type type;
    int width, scale;
    const char *sqltype, *text;
} cast_case;

static const cast_case casts[] = {
    { EIDER_TYPE_BOOLEAN, 0, 0, "BOOLEAN", "true" },
    { EIDER_TYPE_BOOLEAN, 0, 0, "BOOLEAN", "FALSE" },
    { EIDER_TYPE_BOOLEAN, 0, 0, "BOOLEAN", "t" },
    { EIDER_TYPE_BOOLEAN, 0, 0, "BOOLEAN", "0" },
    { EIDER_TYPE_BOOLEAN, 0, 0, "BOOLEAN", "yes" },
    { EIDER_TYPE_BOOLEAN, 0, 0, "BOOLEAN", "n" },
    { EIDER_TYPE_INTEGER, 0, 0, "INTEGER", "42" },
    { EIDER_TYPE_INTEGER, 0, 0, "INTEGER", "-17" },
    { EIDER_TYPE_INTEGER, 0, 0, "INTEGER", "+5" },
    { EIDER_TYPE_INTEGER, 0, 0, "INTEGER", "2147483647" },
    { EIDER_TYPE_INTEGER, 0, 0, "INTEGER", "-2147483648" },
    { EIDER_TYPE_INTEGER, 0, 0, "INTEGER", " 42 " },
    { EIDER_TYPE_INTEGER, 0, 0, "INTEGER", "2.5" },
    { EIDER_TYPE_INTEGER, 0, 0, "INTEGER", "-2.5" },
    { EIDER_TYPE_INTEGER, 0, 0, "INTEGER", "1e2" },
    { EIDER_TYPE_BIGINT, 0, 0, "BIGINT", "1.4999" },
    { EIDER_TYPE_BIGINT, 0, 0, "BIGINT", "9223372036854775807" },
    { EIDER_TYPE_BIGINT, 0, 0, "BIGINT", "-9223372036854775808" },
    { EIDER_TYPE_DOUBLE, 0, 0, "DOUBLE", "1e3" },
    { EIDER_TYPE_DOUBLE, 0, 0, "DOUBLE", "-0.125" },
    { EIDER_TYPE_DOUBLE, 0, 0, "DOUBLE", "3.141592653589793" },
    { EIDER_TYPE_DOUBLE, 0, 0, "DOUBLE", "0.1" },
    { EIDER_TYPE_DOUBLE, 0, 0, "DOUBLE", "1." },
    { EIDER_TYPE_DECIMAL, 10, 2, "DECIMAL(10,2)", "12.34" },
    { EIDER_TYPE_DECIMAL, 10, 2, "DECIMAL(10,2)", "12.345" },
    { EIDER_TYPE_DECIMAL, 10, 2, "DECIMAL(10,2)", "-12.345" },
    { EIDER_TYPE_DECIMAL, 10, 2, "DECIMAL(10,2)", "0.005" },
    { EIDER_TYPE_DECIMAL, 10, 2, "DECIMAL(10,2)", "-0.05" },
    { EIDER_TYPE_DECIMAL, 10, 2, "DECIMAL(10,2)", "7" },
    { EIDER_TYPE_DECIMAL, 10, 2, "DECIMAL(10,2)", "99999999.99" },
    { EIDER_TYPE_DECIMAL, 4, 0, "DECIMAL(4,0)", "-9999" },
    { EIDER_TYPE_DECIMAL, 18, 4, "DECIMAL(18,4)", "12345678901234.5678" },
    { EIDER_TYPE_DECIMAL, 18, 0, "DECIMAL(18,0)", "12345678901234567.5" },
    { EIDER_TYPE_DECIMAL, 10, 2, "DECIMAL(10,2)", "1e2" },
    { EIDER_TYPE_DECIMAL, 10, 2, "DECIMAL(10,2)", "+1.5" },
    { EIDER_TYPE_DECIMAL, 10, 2, "DECIMAL(10,2)", ".5" },
    { EIDER_TYPE_DECIMAL, 10, 2, "DECIMAL(10,2)", " 12.30 " },
    { EIDER_TYPE_DATE, 0, 0, "DATE", "2024-02-29" },
    { EIDER_TYPE_DATE, 0, 0, "DATE", "1969-12-31" },
    { EIDER_TYPE_DATE, 0, 0, "DATE", "1900-03-01" },
    { EIDER_TYPE_DATE, 0, 0, "DATE", "0001-01-01" },
    { EIDER_TYPE_DATE, 0, 0, "DATE", "2024-2-9" },
    { EIDER_TYPE_DATE, 0, 0, "DATE", " 2024-02-29 " },
    { EIDER_TYPE_DATE, 0, 0, "DATE", "2024-02-29 23:00:00-05" },
    { EIDER_TYPE_TIMESTAMP, 0, 0, "TIMESTAMP", "2024-02-29 13:45:30.25" },
    { EIDER_TYPE_TIMESTAMP, 0, 0, "TIMESTAMP", "2024-02-29T13:45:30" },
    { EIDER_TYPE_TIMESTAMP, 0, 0, "TIMESTAMP", "2024-02-29" },
    { EIDER_TYPE_TIMESTAMP, 0, 0, "TIMESTAMP", "1969-12-31 23:59:59.5" },
    { EIDER_TYPE_TIMESTAMP, 0, 0, "TIMESTAMP", "2000-01-01 00:00:00.000001" },
    { EIDER_TYPE_TIMESTAMP, 0, 0, "TIMESTAMP", "2024-02-29 13:45" },
    { EIDER_TYPE_TIMESTAMP, 0, 0, "TIMESTAMP", "2024-02-29 1:2:3" },
    { EIDER_TYPE_TIMESTAMP, 0, 0, "TIMESTAMP", "2024-02-29 13:45:59.9999999" },
    { EIDER_TYPE_TIMESTAMP, 0, 0, "TIMESTAMP", "2024-02-29 13:45:30." },
    { EIDER_TYPE_TIMESTAMP, 0, 0, "TIMESTAMP", "2024-12-31 24:00:00" },
    { EIDER_TYPE_TIMESTAMP, 0, 0, "TIMESTAMP", "2024-02-29 13:45:30+02" },
    { EIDER_TYPE_TIMESTAMP, 0, 0, "TIMESTAMP", "2024-02-29 13:45:30-05:30" },
    { EIDER_TYPE_TIMESTAMP_TZ, 0, 0, "TIMESTAMPTZ", "2024-02-29 13:45:30+02" },
    { EIDER_TYPE_TIMESTAMP_TZ, 0, 0, "TIMESTAMPTZ", "2024-02-29 13:45:30+02:00" },
    { EIDER_TYPE_TIMESTAMP_TZ, 0, 0, "TIMESTAMPTZ", "2024-02-29 13:45:30-05:30" },
    { EIDER_TYPE_TIMESTAMP_TZ, 0, 0, "TIMESTAMPTZ", "2024-02-29 13:45:30.123456Z" },
    { EIDER_TYPE_TIMESTAMP_TZ, 0, 0, "TIMESTAMPTZ", "2024-02-29 13:45:30+0530" },
    { EIDER_TYPE_TIMESTAMP_TZ, 0, 0, "TIMESTAMPTZ", "2024-02-29 13:45:30.5-11" },
    { EIDER_TYPE_TIMESTAMP_TZ, 0, 0, "TIMESTAMPTZ", "2024-02-29 13:45:30 UTC" },
    { EIDER_TYPE_TIMESTAMP_TZ, 0, 0, "TIMESTAMPTZ", "1969-12-31 23:59:59.999999+00" },
};

Test(rows, text_is_cast_as_duckdb_casts_it)
{
    for (size_t i = 0; i < LEN(casts); i++) {
        const cast_case *k = &casts[i];
        eider_frame *f = one_column("x", k->type, k->width, k->scale);
        char sql[512];
        cr_assert_eq(eider_frame_append_text(f, k->text), EIDER_OK, "%s '%s': %s", k->sqltype,
                     k->text, eider_frame_error());
        OK(eider_frame_end_row(f));
        snprintf(sql, sizeof(sql), "SELECT x = CAST('%s' AS %s) AS same, x::VARCHAR AS ours, "
                 "CAST('%s' AS %s)::VARCHAR AS duckdb FROM t", k->text, k->sqltype, k->text, k->sqltype);
        eider_frame *r = must(sql_over("t", f, sql));
        cr_expect_eq(eider_frame_get_bool(r, 0, 0), 1, "%s '%s': frame has %s, DuckDB %s", k->sqltype,
                     k->text, eider_frame_get_text(r, 1, 0), eider_frame_get_text(r, 2, 0));
        eider_frame_free(r);
        eider_frame_free(f);
    }
}

/* Text DuckDB cannot cast either: TRY_CAST gives NULL. */
static const cast_case bad_casts[] = {
    { EIDER_TYPE_BOOLEAN, 0, 0, "BOOLEAN", "maybe" },
    { EIDER_TYPE_BOOLEAN, 0, 0, "BOOLEAN", "on" },
    { EIDER_TYPE_BOOLEAN, 0, 0, "BOOLEAN", "2" },
    { EIDER_TYPE_INTEGER, 0, 0, "INTEGER", "12abc" },
    { EIDER_TYPE_INTEGER, 0, 0, "INTEGER", "" },
    { EIDER_TYPE_BIGINT, 0, 0, "BIGINT", "abc" },
    { EIDER_TYPE_BIGINT, 0, 0, "BIGINT", "99999999999999999999" },
    { EIDER_TYPE_INTEGER, 0, 0, "INTEGER", "1.5e10" },
    { EIDER_TYPE_DOUBLE, 0, 0, "DOUBLE", "1.2.3" },
    { EIDER_TYPE_DECIMAL, 10, 2, "DECIMAL(10,2)", "1,5" },
    { EIDER_TYPE_DECIMAL, 4, 2, "DECIMAL(4,2)", "99.995" },
    { EIDER_TYPE_DATE, 0, 0, "DATE", "2024-02-30" },
    { EIDER_TYPE_DATE, 0, 0, "DATE", "2023-02-29" },
    { EIDER_TYPE_DATE, 0, 0, "DATE", "2024-13-01" },
    { EIDER_TYPE_DATE, 0, 0, "DATE", "yesterday" },
    { EIDER_TYPE_DATE, 0, 0, "DATE", "20240229" },
    { EIDER_TYPE_TIMESTAMP, 0, 0, "TIMESTAMP", "2024-01-01 25:00:00" },
    { EIDER_TYPE_TIMESTAMP, 0, 0, "TIMESTAMP", "2024-01-01 10:61:00" },
    { EIDER_TYPE_TIMESTAMP, 0, 0, "TIMESTAMP", "2024-01-01 10:00:60" },
    { EIDER_TYPE_TIMESTAMP, 0, 0, "TIMESTAMP", "2024-01-01 24:00:01" },
    { EIDER_TYPE_TIMESTAMP, 0, 0, "TIMESTAMP", "2024-01-01 10:00:00 and more" },
    { EIDER_TYPE_TIMESTAMP_TZ, 0, 0, "TIMESTAMPTZ", "2024-01-01 10:00:00+02:00junk" },
    { EIDER_TYPE_TIMESTAMP_TZ, 0, 0, "TIMESTAMPTZ", "2024-01-01 10:00:00 +02:00" },
    { EIDER_TYPE_TIMESTAMP_TZ, 0, 0, "TIMESTAMPTZ", "2024-01-01 10:00:00z" },
};

Test(rows, text_that_cannot_be_cast_is_an_error_naming_the_column)
{
    for (size_t i = 0; i < LEN(bad_casts); i++) {
        const cast_case *k = &bad_casts[i];
        char sql[512];
        snprintf(sql, sizeof(sql), "SELECT TRY_CAST('%s' AS %s) IS NULL AS refused", k->text, k->sqltype);
        eider_frame *duck = must(eider_frame_sql(NULL, sql));
        cr_expect_eq(eider_frame_get_bool(duck, 0, 0), 1, "DuckDB casts %s '%s'", k->sqltype, k->text);
        eider_frame_free(duck);

        eider_frame *f = one_column("the_col", k->type, k->width, k->scale);
        cr_expect_eq(eider_frame_append_text(f, k->text), EIDER_EINVAL, "%s '%s' was accepted",
                     k->sqltype, k->text);
        expect_error_has("'the_col'");
        eider_frame_free(f);
    }
}

Test(rows, a_failed_value_leaves_the_row_open_for_a_good_one)
{
    eider_frame *f = one_column("n", EIDER_TYPE_INTEGER, 0, 0);
    cr_expect_lt(eider_frame_append_text(f, "nope"), 0);
    OK(eider_frame_append_int64(f, 5));
    OK(eider_frame_end_row(f));
    cr_expect_eq(eider_frame_rows(f), 1);
    cr_expect_eq(eider_frame_get_int64(f, 0, 0), 5);
    eider_frame_free(f);
}

Test(rows, too_many_values_in_a_row_is_an_error)
{
    eider_frame *f = one_column("only", EIDER_TYPE_BIGINT, 0, 0);
    OK(eider_frame_append_int64(f, 1));
    cr_expect_eq(eider_frame_append_int64(f, 2), EIDER_EINVAL);
    expect_error_has("more values");
    OK(eider_frame_end_row(f));
    cr_expect_eq(eider_frame_rows(f), 1);
    cr_expect_eq(eider_frame_get_int64(f, 0, 0), 1);
    eider_frame_free(f);
}

Test(rows, end_row_with_too_few_values_is_an_error_until_the_row_is_complete)
{
    eider_frame *f = every_type_frame();
    OK(eider_frame_append_bool(f, 0));
    cr_expect_eq(eider_frame_end_row(f), EIDER_EINVAL);
    expect_error_has("1 values");
    cr_expect_eq(eider_frame_rows(f), 0);
    for (size_t i = 1; i < N_EVERY; i++)
        OK(eider_frame_append_null(f));
    OK(eider_frame_end_row(f));
    cr_expect_eq(eider_frame_rows(f), 1);
    eider_frame_free(f);
}

Test(rows, integer_overflow_is_an_error_naming_the_column)
{
    eider_frame *f = one_column("small", EIDER_TYPE_INTEGER, 0, 0);
    cr_expect_eq(eider_frame_append_int64(f, INT64_C(2147483648)), EIDER_EINVAL);
    expect_error_has("'small'");
    cr_expect_eq(eider_frame_append_int64(f, INT64_C(-2147483649)), EIDER_EINVAL);
    cr_expect_eq(eider_frame_append_text(f, "3000000000"), EIDER_EINVAL);
    expect_error_has("'small'");
    cr_expect_eq(eider_frame_append_double(f, 1e10), EIDER_EINVAL);
    OK(eider_frame_append_int64(f, INT32_MIN));
    OK(eider_frame_end_row(f));
    cr_expect_eq(eider_frame_get_int64(f, 0, 0), INT32_MIN);
    eider_frame_free(f);
}

Test(rows, decimal_overflowing_its_width_is_an_error_naming_the_column)
{
    eider_frame *f = one_column("price", EIDER_TYPE_DECIMAL, 4, 2);
    cr_expect_eq(eider_frame_append_double(f, 100.0), EIDER_EINVAL);
    expect_error_has("'price'");
    cr_expect_eq(eider_frame_append_int64(f, 100), EIDER_EINVAL);
    expect_error_has("'price'");
    cr_expect_eq(eider_frame_append_text(f, "-100"), EIDER_EINVAL);
    expect_error_has("'price'");
    cr_expect_eq(eider_frame_append_double(f, 1e300), EIDER_EINVAL);
    cr_expect_eq(eider_frame_append_double(f, NAN), EIDER_EINVAL);
    OK(eider_frame_append_double(f, -99.99));
    OK(eider_frame_end_row(f));
    cr_expect_eq(eider_frame_get_int64(f, 0, 0), -9999);
    expect_round_trip(f);
    eider_frame_free(f);
}

Test(rows, decimal_overflowing_int64_is_an_error)
{
    eider_frame *f = one_column("big", EIDER_TYPE_DECIMAL, 18, 6);
    cr_expect_eq(eider_frame_append_int64(f, INT64_C(1000000000000000)), EIDER_EINVAL);
    cr_expect_eq(eider_frame_append_int64(f, INT64_MAX), EIDER_EINVAL);
    expect_error_has("'big'");
    OK(eider_frame_append_int64(f, INT64_C(999999999999)));
    OK(eider_frame_end_row(f));
    cr_expect_eq(eider_frame_get_int64(f, 0, 0), INT64_C(999999999999000000));
    eider_frame_free(f);
}

Test(rows, a_whole_double_fits_an_integer_column_and_a_fraction_does_not)
{
    eider_frame *f = one_column("n", EIDER_TYPE_BIGINT, 0, 0);
    cr_expect_eq(eider_frame_append_double(f, 3.5), EIDER_EINVAL);
    expect_error_has("'n'");
    OK(eider_frame_append_double(f, -3.0));
    OK(eider_frame_end_row(f));
    cr_expect_eq(eider_frame_get_int64(f, 0, 0), -3);
    eider_frame_free(f);
}

Test(rows, an_int_into_a_double_column_is_converted)
{
    eider_frame *f = one_column("d", EIDER_TYPE_DOUBLE, 0, 0);
    OK(eider_frame_append_int64(f, 7));
    OK(eider_frame_end_row(f));
    cr_expect_eq(eider_frame_get_double(f, 0, 0), 7.0);
    eider_frame_free(f);
}

Test(rows, a_bool_into_another_type_is_an_error)
{
    eider_frame *f = one_column("n", EIDER_TYPE_INTEGER, 0, 0);
    cr_expect_eq(eider_frame_append_bool(f, 1), EIDER_EINVAL);
    expect_error_has("'n'");
    eider_frame_free(f);
}

Test(rows, append_to_a_frame_without_columns_is_an_error)
{
    eider_frame *f = eider_frame_new();
    cr_expect_eq(eider_frame_append_int64(f, 1), EIDER_EINVAL);
    expect_error_has("no columns");
    cr_expect_eq(eider_frame_append_int64(NULL, 1), EIDER_EINVAL);
    eider_frame_free(f);
}

Test(rows, end_row_on_a_frame_without_columns_is_an_error)
{
    eider_frame *f = eider_frame_new();
    cr_expect_eq(eider_frame_end_row(f), EIDER_EINVAL);
    expect_error_has("no columns");
    cr_expect_eq(eider_frame_rows(f), 0);
    eider_frame_free(f);
}

Test(rows, a_column_added_to_a_frame_with_rows_is_null_there)
{
    eider_frame *f = one_column("n", EIDER_TYPE_BIGINT, 0, 0);
    for (int r = 0; r < 70; r++) {
        OK(eider_frame_append_int64(f, r));
        OK(eider_frame_end_row(f));
    }
    OK(eider_frame_add_column(f, "s", EIDER_TYPE_VARCHAR));
    OK(eider_frame_add_column(f, "i", EIDER_TYPE_INTEGER));
    OK(eider_frame_add_decimal_column(f, "m", 6, 3));
    for (size_t r = 0; r < 70; r++)
        for (size_t c = 1; c < 4; c++)
            cr_expect(eider_frame_is_null(f, c, r), "column %zu row %zu", c, r);
    OK(eider_frame_append_int64(f, 70));
    OK(eider_frame_append_text(f, "new"));
    OK(eider_frame_append_int64(f, 9));
    OK(eider_frame_append_double(f, 1.5));
    OK(eider_frame_end_row(f));
    cr_expect_str_eq(eider_frame_get_text(f, 1, 70), "new");
    cr_expect_eq(eider_frame_get_int64(f, 2, 70), 9);
    cr_expect_eq(eider_frame_get_int64(f, 3, 70), 1500);
    cr_expect_eq(eider_frame_get_int64(f, 0, 69), 69);
    expect_round_trip(f);
    eider_frame_free(f);
}

Test(rows, a_column_cannot_be_added_in_the_middle_of_a_row)
{
    eider_frame *f = one_column("a", EIDER_TYPE_INTEGER, 0, 0);
    OK(eider_frame_add_column(f, "b", EIDER_TYPE_INTEGER));
    OK(eider_frame_append_int64(f, 1));
    cr_expect_eq(eider_frame_add_column(f, "c", EIDER_TYPE_INTEGER), EIDER_EINVAL);
    expect_error_has("'c'");
    cr_expect_eq(eider_frame_columns(f), 2);
    eider_frame_free(f);
}

Test(columns, duplicate_and_empty_names_are_refused)
{
    eider_frame *f = one_column("a", EIDER_TYPE_INTEGER, 0, 0);
    cr_expect_eq(eider_frame_add_column(f, "a", EIDER_TYPE_DOUBLE), EIDER_EDUPLICATE);
    expect_error_has("'a'");
    cr_expect_eq(eider_frame_add_column(f, "", EIDER_TYPE_DOUBLE), EIDER_EINVAL);
    cr_expect_eq(eider_frame_add_column(f, NULL, EIDER_TYPE_DOUBLE), EIDER_EINVAL);
    cr_expect_eq(eider_frame_add_column(f, "x", (eider_type)99), EIDER_EINVAL);
    cr_expect_eq(eider_frame_add_column(NULL, "x", EIDER_TYPE_DOUBLE), EIDER_EINVAL);
    cr_expect_eq(eider_frame_columns(f), 1);
    eider_frame_free(f);
}

Test(columns, add_column_returns_the_new_index)
{
    eider_frame *f = eider_frame_new();
    cr_expect_eq(eider_frame_add_column(f, "a", EIDER_TYPE_INTEGER), 0);
    cr_expect_eq(eider_frame_add_decimal_column(f, "b", 5, 1), 1);
    cr_expect_eq(eider_frame_add_column(f, "c", EIDER_TYPE_VARCHAR), 2);
    eider_frame_free(f);
}

Test(columns, decimal_width_and_scale_out_of_range_are_refused)
{
    eider_frame *f = eider_frame_new();
    cr_expect_eq(eider_frame_add_decimal_column(f, "w", 19, 2), EIDER_EINVAL);
    expect_error_has("DECIMAL(19,2)");
    cr_expect_eq(eider_frame_add_decimal_column(f, "w", 0, 0), EIDER_EINVAL);
    cr_expect_eq(eider_frame_add_decimal_column(f, "w", 4, 5), EIDER_EINVAL);
    cr_expect_eq(eider_frame_add_decimal_column(f, "w", 4, -1), EIDER_EINVAL);
    cr_expect_eq(eider_frame_columns(f), 0);
    eider_frame_free(f);
}

Test(columns, a_plain_decimal_column_is_decimal_18_3)
{
    eider_frame *g = eider_frame_new();
    int width = 0, scale = 0;
    OK(eider_frame_add_column(g, "m", EIDER_TYPE_DECIMAL));
    cr_expect_eq(eider_frame_column_type(g, 0, &width, &scale), EIDER_TYPE_DECIMAL);
    cr_expect_eq(width, 18);
    cr_expect_eq(scale, 3);
    eider_frame_free(g);
}

/* ---- building by whole columns ---- */

Test(columns, add_column_data_copies_values_and_marks_nulls_from_valid)
{
    const bool b[] = { true, false, true };
    const int32_t i32[] = { 1, -2, 3 };
    const int64_t i64[] = { INT64_MIN, 0, INT64_MAX };
    const double d[] = { 0.5, -1e300, 3.25 };
    const char *s[] = { "x", "y", "z" };
    const uint8_t valid[] = { 1, 0, 1 };
    eider_frame *f = eider_frame_new();
    OK(eider_frame_add_column_data(f, "b", EIDER_TYPE_BOOLEAN, b, valid, 3));
    OK(eider_frame_add_column_data(f, "i", EIDER_TYPE_INTEGER, i32, valid, 3));
    OK(eider_frame_add_column_data(f, "g", EIDER_TYPE_BIGINT, i64, valid, 3));
    OK(eider_frame_add_column_data(f, "d", EIDER_TYPE_DOUBLE, d, valid, 3));
    OK(eider_frame_add_column_data(f, "s", EIDER_TYPE_VARCHAR, s, valid, 3));
    OK(eider_frame_add_column_data(f, "dt", EIDER_TYPE_DATE, i32, NULL, 3));
    OK(eider_frame_add_column_data(f, "ts", EIDER_TYPE_TIMESTAMP, i64, NULL, 3));
    cr_assert_eq(eider_frame_rows(f), 3);
    for (size_t c = 0; c < 5; c++) {
        cr_expect_not(eider_frame_is_null(f, c, 0), "column %zu", c);
        cr_expect(eider_frame_is_null(f, c, 1), "column %zu", c);
        cr_expect_not(eider_frame_is_null(f, c, 2), "column %zu", c);
    }
    cr_expect_not(eider_frame_is_null(f, 5, 1));
    cr_expect_eq(eider_frame_get_bool(f, 0, 2), 1);
    cr_expect_eq(eider_frame_get_int64(f, 1, 2), 3);
    cr_expect_eq(eider_frame_get_int64(f, 2, 0), INT64_MIN);
    cr_expect_eq(eider_frame_get_double(f, 3, 2), 3.25);
    cr_expect_str_eq(eider_frame_get_text(f, 4, 2), "z");
    cr_expect_eq(eider_frame_get_int64(f, 5, 1), -2);
    cr_expect_eq(eider_frame_get_int64(f, 6, 2), INT64_MAX);
    expect_round_trip(f);
    eider_frame_free(f);
}

Test(columns, add_column_data_takes_a_null_string_as_null)
{
    const char *s[] = { "a", NULL, "" };
    eider_frame *f = eider_frame_new();
    OK(eider_frame_add_column_data(f, "s", EIDER_TYPE_VARCHAR, s, NULL, 3));
    cr_expect_not(eider_frame_is_null(f, 0, 0));
    cr_expect(eider_frame_is_null(f, 0, 1));
    cr_expect_not(eider_frame_is_null(f, 0, 2));
    cr_expect_str_eq(eider_frame_get_text(f, 0, 2), "");
    eider_frame_free(f);
}

Test(columns, add_column_data_to_a_frame_with_rows_keeps_its_values)
{
    const int64_t a[] = { 1, 2, 3 };
    const double d[] = { 0.5, 1.5, 2.5 };
    const char *s[] = { "x", "y", "z" };
    const uint8_t valid[] = { 1, 1, 0 };
    eider_frame *f = eider_frame_new();
    OK(eider_frame_add_column_data(f, "a", EIDER_TYPE_BIGINT, a, NULL, 3));
    OK(eider_frame_add_column_data(f, "d", EIDER_TYPE_DOUBLE, d, NULL, 3));
    OK(eider_frame_add_column_data(f, "s", EIDER_TYPE_VARCHAR, s, valid, 3));
    for (size_t r = 0; r < 3; r++) {
        cr_expect_not(eider_frame_is_null(f, 1, r), "row %zu", r);
        cr_expect_eq(eider_frame_get_double(f, 1, r), d[r]);
    }
    cr_expect_str_eq(eider_frame_get_text(f, 2, 1), "y");
    cr_expect(eider_frame_is_null(f, 2, 2));
    expect_round_trip(f);
    eider_frame_free(f);
}

Test(columns, add_column_data_with_another_row_count_is_an_error)
{
    const int64_t a[] = { 1, 2, 3 };
    eider_frame *f = eider_frame_new();
    OK(eider_frame_add_column_data(f, "a", EIDER_TYPE_BIGINT, a, NULL, 3));
    cr_expect_eq(eider_frame_add_column_data(f, "b", EIDER_TYPE_BIGINT, a, NULL, 2), EIDER_EINVAL);
    expect_error_has("'b'");
    cr_expect_eq(eider_frame_columns(f), 1);
    cr_expect_eq(eider_frame_rows(f), 3);
    eider_frame_free(f);
}

Test(columns, add_column_data_of_decimal_is_unscaled_decimal_18_3)
{
    const int64_t m[] = { 1500, -999999999999999999, INT64_C(1000000000000000000) };
    const uint8_t valid[] = { 1, 1, 0 };
    eider_frame *f = eider_frame_new();
    OK(eider_frame_add_column_data(f, "m", EIDER_TYPE_DECIMAL, m, valid, 3));
    cr_expect_eq(eider_frame_get_double(f, 0, 0), 1.5);
    cr_expect(eider_frame_is_null(f, 0, 2));
    expect_round_trip(f);
    eider_frame_free(f);
}

Test(columns, add_column_data_refuses_a_decimal_past_18_digits_and_adds_nothing)
{
    const int64_t m[] = { 1, INT64_C(1000000000000000000) };
    eider_frame *f = eider_frame_new();
    cr_expect_eq(eider_frame_add_column_data(f, "m", EIDER_TYPE_DECIMAL, m, NULL, 2), EIDER_EINVAL);
    expect_error_has("'m'");
    expect_error_has("row 1");
    cr_expect_eq(eider_frame_columns(f), 0);
    cr_expect_eq(eider_frame_add_column_data(f, "none", EIDER_TYPE_BIGINT, NULL, NULL, 2), EIDER_EINVAL);
    expect_error_has("'none'");
    eider_frame_free(f);
}

Test(columns, add_column_data_over_many_words_marks_exactly_the_nulls)
{
    enum { N = 3000 };
    int64_t *v = malloc(N * sizeof(*v));
    uint8_t *valid = malloc(N);
    for (size_t r = 0; r < N; r++) {
        v[r] = (int64_t)r * 3;
        valid[r] = r % 13 != 5 && r != 2047 && r != 2048;
    }
    eider_frame *f = eider_frame_new();
    OK(eider_frame_add_column_data(f, "v", EIDER_TYPE_BIGINT, v, valid, N));
    for (size_t r = 0; r < N; r++)
        if (eider_frame_is_null(f, 0, r) != !valid[r])
            cr_assert_fail("row %zu", r);
    expect_round_trip(f);
    eider_frame_free(f);
    free(valid);
    free(v);
}

/* ---- reads ---- */

Test(reads, get_double_scales_a_decimal_and_get_int64_does_not)
{
    eider_frame *f = one_column("m", EIDER_TYPE_DECIMAL, 9, 3);
    OK(eider_frame_append_text(f, "-12.5"));
    OK(eider_frame_end_row(f));
    cr_expect_eq(eider_frame_get_int64(f, 0, 0), -12500);
    cr_expect_eq(eider_frame_get_double(f, 0, 0), -12.5);
    eider_frame_free(f);
}

Test(reads, column_type_reports_decimal_width_and_scale)
{
    eider_frame *f = one_column("m", EIDER_TYPE_DECIMAL, 7, 4);
    int width = 0, scale = 0;
    cr_expect_eq(eider_frame_column_type(f, 0, &width, &scale), EIDER_TYPE_DECIMAL);
    cr_expect_eq(width, 7);
    cr_expect_eq(scale, 4);
    cr_expect_eq(eider_frame_column_type(f, 0, NULL, NULL), EIDER_TYPE_DECIMAL);
    eider_frame_free(f);
}

Test(reads, out_of_range_reads_are_null)
{
    eider_frame *f = every_type_rows();
    cr_expect(eider_frame_is_null(f, 0, 2));
    cr_expect(eider_frame_is_null(f, N_EVERY, 0));
    cr_expect_eq(eider_frame_get_int64(f, 1, 2), 0);
    cr_expect_eq(eider_frame_get_int64(f, N_EVERY, 0), 0);
    cr_expect_eq(eider_frame_get_double(f, 3, 99), 0.0);
    cr_expect_eq(eider_frame_get_bool(f, 0, 99), 0);
    cr_expect_null(eider_frame_get_text(f, 5, 2));
    cr_expect_null(eider_frame_get_text(f, 99, 0));
    cr_expect_null(eider_frame_column_data(f, N_EVERY));
    cr_expect_null(eider_frame_column_name(f, N_EVERY));
    cr_expect_eq(eider_frame_column_type(f, N_EVERY, NULL, NULL), -1);
    cr_expect(eider_frame_is_null(NULL, 0, 0));
    cr_expect_eq(eider_frame_rows(NULL), 0);
    cr_expect_eq(eider_frame_columns(NULL), 0);
    eider_frame_free(f);
}

Test(reads, get_text_of_a_non_varchar_column_is_null)
{
    eider_frame *f = every_type_rows();
    cr_expect_null(eider_frame_get_text(f, 1, 0));
    eider_frame_free(f);
}

Test(reads, get_bool_reads_a_boolean_column)
{
    const bool b[] = { false, true };
    eider_frame *f = eider_frame_new();
    OK(eider_frame_add_column_data(f, "b", EIDER_TYPE_BOOLEAN, b, NULL, 2));
    cr_expect_eq(eider_frame_get_bool(f, 0, 0), 0);
    cr_expect_eq(eider_frame_get_bool(f, 0, 1), 1);
    cr_expect_eq(eider_frame_get_int64(f, 0, 1), 1);
    eider_frame_free(f);
}

Test(reads, column_data_is_the_c_array_of_a_fixed_width_column)
{
    eider_frame *f = every_type_rows();
    const int32_t *i32 = eider_frame_column_data(f, 1);
    const int64_t *i64 = eider_frame_column_data(f, 2);
    const double *d = eider_frame_column_data(f, 3);
    const int64_t *m = eider_frame_column_data(f, 4);
    const int32_t *dt = eider_frame_column_data(f, 6);
    cr_assert(i32 && i64 && d && m && dt);
    cr_expect_eq(i32[0], -7);
    cr_expect_eq(i64[0], INT64_C(9000000000));
    cr_expect_eq(d[0], 2.5);
    cr_expect_eq(m[0], 1234);
    cr_expect_eq(dt[0], LEAP_DAY);
    cr_expect_null(eider_frame_column_data(f, 0), "BOOLEAN has no C array");
    cr_expect_null(eider_frame_column_data(f, 5), "VARCHAR has no C array");
    eider_frame_free(f);
}

Test(reads, column_index_finds_a_name_exactly)
{
    eider_frame *f = every_type_frame();
    cr_expect_eq(eider_frame_column_index(f, "dt"), 6);
    cr_expect_eq(eider_frame_column_index(f, "DT"), -1);
    cr_expect_eq(eider_frame_column_index(f, "nope"), -1);
    cr_expect_eq(eider_frame_column_index(f, NULL), -1);
    cr_expect_str_eq(eider_frame_column_name(f, 6), "dt");
    eider_frame_free(f);
}

Test(reads, type_names_are_duckdbs)
{
    cr_expect_str_eq(eider_type_name(EIDER_TYPE_BIGINT), "BIGINT");
    cr_expect_str_eq(eider_type_name(EIDER_TYPE_TIMESTAMP_TZ), "TIMESTAMP WITH TIME ZONE");
    cr_expect_str_eq(eider_type_name((eider_type)42), "UNKNOWN");
}

/* ---- errors ---- */

Test(errors, no_error_reads_as_empty)
{
    cr_expect_str_eq(eider_frame_error(), "");
}

/* Fail a frame call on another thread; its message is there, not here. */
static void *fail_in_thread(void *arg)
{
    eider_frame *f = arg;
    int failed = eider_frame_add_column(f, "a", EIDER_TYPE_INTEGER) < 0 && *eider_frame_error();
    return failed ? arg : NULL;
}

Test(errors, the_message_belongs_to_the_calling_thread)
{
    eider_frame *f = one_column("a", EIDER_TYPE_INTEGER, 0, 0);
    pthread_t t;
    void *failed = NULL;
    cr_assert_eq(pthread_create(&t, NULL, fail_in_thread, f), 0);
    pthread_join(t, &failed);
    cr_expect_not_null(failed);
    cr_expect_str_eq(eider_frame_error(), "");
    eider_frame_free(f);
}

Test(errors, free_of_null_is_a_no_op)
{
    eider_frame_free(NULL);
    cr_expect_eq(eider_frame_end_row(NULL), EIDER_EINVAL);
}

/* ---- printing ---- */

static eider_frame *fruit_frame(void)
{
    eider_frame *f = eider_frame_new();
    OK(eider_frame_add_column(f, "name", EIDER_TYPE_VARCHAR));
    OK(eider_frame_add_column(f, "n", EIDER_TYPE_INTEGER));
    OK(eider_frame_add_decimal_column(f, "price", 6, 2));
    const char *rows[][3] = { { "apple", "3", "1.25" }, { "kiwi", NULL, "0.5" }, { NULL, "-12", "-0.05" } };
    for (size_t r = 0; r < 3; r++) {
        for (size_t c = 0; c < 3; c++)
            OK(eider_frame_append_text(f, rows[r][c]));
        OK(eider_frame_end_row(f));
    }
    return f;
}

Test(print, shows_names_types_and_every_row_aligned)
{
    eider_frame *f = fruit_frame();
    char *s = printed(f, 10);
    cr_expect_str_eq(s,
        "name     n        price  \n"
        "VARCHAR  INTEGER  DECIMAL\n"
        "apple    3        1.25   \n"
        "kiwi     NULL     0.50   \n"
        "NULL     -12      -0.05  \n"
        "(3 rows, 3 columns)\n");
    free(s);
    eider_frame_free(f);
}

Test(print, fewer_rows_than_the_frame_says_head_shown)
{
    eider_frame *f = fruit_frame();
    char *s = printed(f, 1);
    cr_expect_not_null(strstr(s, "apple"));
    cr_expect_null(strstr(s, "kiwi"));
    cr_expect_not_null(strstr(s, "(3 rows, 3 columns, head shown)"));
    free(s);
    eider_frame_free(f);
}

Test(print, dates_timestamps_and_booleans_print_as_duckdb_prints_them)
{
    eider_frame *f = every_type_rows();
    eider_frame *casted = must(sql_over("t", f, "SELECT b::VARCHAR, dt::VARCHAR, ts::VARCHAR FROM t LIMIT 1"));
    char *s = printed(f, 1);
    for (size_t c = 0; c < 3; c++)
        cr_expect_not_null(strstr(s, eider_frame_get_text(casted, c, 0)), "'%s' not in:\n%s",
                           eider_frame_get_text(casted, c, 0), s);
    cr_expect_not_null(strstr(s, "2024-02-29 11:45:30.25+00"), "%s", s);
    free(s);
    eider_frame_free(casted);
    eider_frame_free(f);
}

Test(print, doubles_print_with_the_digits_that_read_back)
{
    const double d[] = { 3.141592653589793, 0.1, 1e21 };
    eider_frame *f = eider_frame_new();
    OK(eider_frame_add_column_data(f, "d", EIDER_TYPE_DOUBLE, d, NULL, 3));
    char *s = printed(f, 3);
    cr_expect_not_null(strstr(s, "3.141592653589793"), "%s", s);
    cr_expect_not_null(strstr(s, "0.1 "), "%s", s);
    cr_expect_not_null(strstr(s, "1e+21"), "%s", s);
    free(s);
    eider_frame_free(f);
}

Test(print, a_large_decimal_prints_exactly)
{
    eider_frame *f = one_column("m", EIDER_TYPE_DECIMAL, 18, 3);
    OK(eider_frame_append_text(f, "123456789012345.678"));
    OK(eider_frame_end_row(f));
    OK(eider_frame_append_text(f, "-0.001"));
    OK(eider_frame_end_row(f));
    char *s = printed(f, 2);
    cr_expect_not_null(strstr(s, "123456789012345.678"), "%s", s);
    cr_expect_not_null(strstr(s, "-0.001"), "%s", s);
    free(s);
    eider_frame_free(f);
}

Test(print, a_long_string_is_cut_to_forty_bytes)
{
    char big[100];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    eider_frame *f = one_column("s", EIDER_TYPE_VARCHAR, 0, 0);
    OK(eider_frame_append_text(f, big));
    OK(eider_frame_end_row(f));
    char *s = printed(f, 1);
    cr_expect_not_null(strstr(s, "\n" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "\n"), "%s", s);
    free(s);
    eider_frame_free(f);
}

Test(print, infinite_dates_and_timestamps_print_as_infinity)
{
    eider_frame *r = must(eider_frame_sql(NULL, "SELECT 'infinity'::DATE AS d, "
                                                "'-infinity'::TIMESTAMP AS ts"));
    char *s = printed(r, 1);
    cr_expect_not_null(strstr(s, "\ninfinity  "), "%s", s);
    cr_expect_not_null(strstr(s, "-infinity\n"), "%s", s);
    free(s);
    eider_frame_free(r);
}

/* ---- round trips through DuckDB ---- */

/* A frame of every type, n rows, NULL where (r + 3 * c) % 7 == 0 and at 63, 64, 2047
 * and 2048 in every column. */
static eider_frame *checkered_frame(size_t n)
{
    eider_frame *f = every_type_frame();
    char s[64];
    for (size_t r = 0; r < n; r++) {
        for (size_t c = 0; c < N_EVERY; c++) {
            int64_t v = (int64_t)(r * 7919 % 100003) - 50000;
            if ((r + 3 * c) % 7 == 0 || r == 63 || r == 64 || r == 2047 || r == 2048) {
                OK(eider_frame_append_null(f));
                continue;
            }
            switch (every_type[c]) {
            case EIDER_TYPE_BOOLEAN: OK(eider_frame_append_bool(f, v & 1)); break;
            case EIDER_TYPE_DOUBLE: OK(eider_frame_append_double(f, (double)v / 8)); break;
            case EIDER_TYPE_DECIMAL: OK(eider_frame_append_double(f, (double)v / 100)); break;
            case EIDER_TYPE_VARCHAR:
                snprintf(s, sizeof(s), "row %zu %s", r, r % 2 ? "a somewhat longer string" : "");
                OK(eider_frame_append_text(f, s));
                break;
            case EIDER_TYPE_TIMESTAMP: case EIDER_TYPE_TIMESTAMP_TZ:
                OK(eider_frame_append_int64(f, v * INT64_C(1000003)));
                break;
            default: OK(eider_frame_append_int64(f, v)); break;
            }
        }
        OK(eider_frame_end_row(f));
    }
    return f;
}

Test(round_trip, a_few_rows_with_nulls_across_bitmap_words_keep_every_cell)
{
    eider_frame *f = checkered_frame(130);
    cr_expect(eider_frame_is_null(f, 0, 63));
    cr_expect(eider_frame_is_null(f, 0, 64));
    cr_expect_not(eider_frame_is_null(f, 0, 65));
    expect_round_trip(f);
    eider_frame_free(f);
}

Test(round_trip, rows_across_duckdb_vectors_with_nulls_keep_every_cell)
{
    eider_frame *f = checkered_frame(5000);
    expect_round_trip(f);
    eider_frame_free(f);
}

Test(round_trip, a_filtered_result_with_nulls_keeps_every_cell)
{
    eider_frame *f = checkered_frame(5000);
    eider_frame *r = must(sql_over("t", f, "SELECT i, s FROM t WHERE g IS NULL OR g % 3 <> 0"));
    size_t k = 0;
    for (size_t row = 0; row < eider_frame_rows(f); row++) {
        if (!eider_frame_is_null(f, 2, row) && eider_frame_get_int64(f, 2, row) % 3 == 0)
            continue;
        if (eider_frame_is_null(f, 1, row) != eider_frame_is_null(r, 0, k) ||
            eider_frame_get_int64(f, 1, row) != eider_frame_get_int64(r, 0, k) ||
            eider_frame_is_null(f, 5, row) != eider_frame_is_null(r, 1, k))
            cr_assert_fail("source row %zu, result row %zu", row, k);
        k++;
    }
    cr_expect_eq(k, eider_frame_rows(r));
    eider_frame_free(r);
    eider_frame_free(f);
}

Test(round_trip, result_chunks_of_odd_sizes_keep_their_nulls)
{
    /* Two pipelines give chunks of 100 rows: the second starts inside a bitmap word. */
    eider_frame *r = must(eider_frame_sql(NULL,
        "SELECT x FROM (SELECT NULL::INTEGER AS x FROM range(100) UNION ALL "
        "SELECT 1 FROM range(100) UNION ALL SELECT NULL FROM range(30) UNION ALL "
        "SELECT 2 FROM range(3000))"));
    size_t nulls = 0;
    for (size_t row = 0; row < eider_frame_rows(r); row++)
        nulls += eider_frame_is_null(r, 0, row);
    cr_expect_eq(eider_frame_rows(r), 3230);
    cr_expect_eq(nulls, 130);
    eider_frame_free(r);
}

Test(round_trip, one_hundred_thousand_rows_keep_every_cell)
{
    enum { N = 100000 };
    eider_frame *f = eider_frame_new();
    char s[32];
    OK(eider_frame_add_column(f, "id", EIDER_TYPE_BIGINT));
    OK(eider_frame_add_column(f, "s", EIDER_TYPE_VARCHAR));
    OK(eider_frame_add_column(f, "x", EIDER_TYPE_DOUBLE));
    for (int64_t r = 0; r < N; r++) {
        snprintf(s, sizeof(s), "s%" PRId64, r);
        OK(eider_frame_append_int64(f, r));
        OK(r % 1000 == 999 ? eider_frame_append_null(f) : eider_frame_append_text(f, s));
        OK(eider_frame_append_double(f, (double)r / 4));
        OK(eider_frame_end_row(f));
    }
    expect_round_trip(f);
    eider_frame *agg = must(sql_over("big", f, "SELECT sum(id) AS total, count(s) AS texts, "
                                               "count(*) AS n FROM big"));
    cr_expect_eq(eider_frame_get_double(agg, 0, 0), (double)N * (N - 1) / 2);
    cr_expect_eq(eider_frame_get_int64(agg, 1, 0), N - N / 1000);
    cr_expect_eq(eider_frame_get_int64(agg, 2, 0), N);
    eider_frame_free(agg);
    eider_frame_free(f);
}

Test(round_trip, an_empty_frame_keeps_its_columns)
{
    eider_frame *f = every_type_frame();
    eider_frame *r = must(sql_over("t", f, "SELECT * FROM t"));
    cr_expect_eq(eider_frame_rows(r), 0);
    expect_same_cells(f, r);
    eider_frame_free(r);
    eider_frame_free(f);
}

/* ---- eider_frame_sql ---- */

/* n rows of one BIGINT column, without assertions (for threads). */
static eider_frame *counting_frame_for_thread(size_t n)
{
    eider_frame *f = eider_frame_new();
    eider_frame_add_column(f, "i", EIDER_TYPE_BIGINT);
    for (size_t r = 0; r < n; r++) {
        eider_frame_append_int64(f, (int64_t)r);
        eider_frame_end_row(f);
    }
    return f;
}

Test(sql, two_frames_join_by_name)
{
    eider_frame *people = eider_frame_new(), *pets = eider_frame_new();
    const int64_t ids[] = { 1, 2, 3 }, owners[] = { 3, 1, 3, 9 };
    const char *names[] = { "ann", "bob", "cy" }, *pet[] = { "cat", "dog", "eel", "fox" };
    OK(eider_frame_add_column_data(people, "id", EIDER_TYPE_BIGINT, ids, NULL, 3));
    OK(eider_frame_add_column_data(people, "name", EIDER_TYPE_VARCHAR, names, NULL, 3));
    OK(eider_frame_add_column_data(pets, "owner", EIDER_TYPE_BIGINT, owners, NULL, 4));
    OK(eider_frame_add_column_data(pets, "pet", EIDER_TYPE_VARCHAR, pet, NULL, 4));
    eider_frame *r = must(eider_frame_sql(EIDER_FRAMES({ "people", people }, { "pets", pets }),
        "SELECT name, pet FROM people JOIN pets ON id = owner ORDER BY pet"));
    cr_assert_eq(eider_frame_rows(r), 3);
    cr_expect_str_eq(eider_frame_get_text(r, 0, 0), "cy");
    cr_expect_str_eq(eider_frame_get_text(r, 1, 0), "cat");
    cr_expect_str_eq(eider_frame_get_text(r, 0, 1), "ann");
    cr_expect_str_eq(eider_frame_get_text(r, 0, 2), "cy");
    cr_expect_str_eq(eider_frame_get_text(r, 1, 2), "eel");
    eider_frame_free(r);
    eider_frame_free(pets);
    eider_frame_free(people);
}

Test(sql, frame_names_ignore_case)
{
    eider_frame *f = every_type_rows();
    eider_frame *r = must(sql_over("MyFrame", f, "SELECT count(*) AS n FROM myframe"));
    cr_expect_eq(eider_frame_get_int64(r, 0, 0), 2);
    eider_frame_free(r);
    r = must(sql_over("lower", f, "SELECT count(*) AS n FROM LOWER"));
    cr_expect_eq(eider_frame_get_int64(r, 0, 0), 2);
    eider_frame_free(r);
    eider_frame_free(f);
}

Test(sql, an_exact_name_wins_over_one_that_differs_in_case)
{
    const int64_t one[] = { 1 }, two[] = { 2 };
    eider_frame *a = eider_frame_new(), *b = eider_frame_new();
    OK(eider_frame_add_column_data(a, "v", EIDER_TYPE_BIGINT, one, NULL, 1));
    OK(eider_frame_add_column_data(b, "v", EIDER_TYPE_BIGINT, two, NULL, 1));
    eider_frame *r = must(eider_frame_sql(EIDER_FRAMES({ "T", a }, { "t", b }), "SELECT v FROM \"T\""));
    cr_expect_eq(eider_frame_get_int64(r, 0, 0), 1);
    eider_frame_free(r);
    eider_frame_free(b);
    eider_frame_free(a);
}

Test(sql, an_sql_error_gives_null_and_duckdbs_message)
{
    eider_frame *f = every_type_rows();
    cr_expect_null(sql_over("t", f, "SELECT no_such_column FROM t"));
    expect_error_has("no_such_column");
    expect_error_has("Binder Error");
    cr_expect_null(sql_over("t", f, "SELEC 1"));
    expect_error_has("syntax error");
    cr_expect_null(eider_frame_sql(NULL, "SELECT * FROM no_such_table"));
    expect_error_has("no_such_table");
    eider_frame_free(f);
}

Test(sql, a_null_frame_is_named_in_the_error)
{
    eider_frame *f = every_type_rows();
    cr_expect_null(eider_frame_sql(EIDER_FRAMES({ "fine", f }, { "broken", NULL }), "SELECT 1"));
    expect_error_has("'broken'");
    expect_error_has("NULL");
    eider_frame_free(f);
}

Test(sql, runs_without_frames)
{
    eider_frame *r = must(eider_frame_sql(NULL, "SELECT 42 AS answer, 'x' AS s"));
    cr_expect_eq(eider_frame_get_int64(r, 0, 0), 42);
    cr_expect_str_eq(eider_frame_column_name(r, 1), "s");
    eider_frame_free(r);
}

Test(sql, no_sql_is_an_error)
{
    cr_expect_null(eider_frame_sql(NULL, NULL));
    expect_error_has("no SQL");
}

Test(sql, a_frame_is_not_visible_after_its_call)
{
    eider_frame *f = every_type_rows();
    eider_frame *r = must(sql_over("gone", f, "SELECT 1 AS x FROM gone"));
    eider_frame_free(r);
    cr_expect_null(eider_frame_sql(NULL, "SELECT * FROM gone"));
    expect_error_has("gone");
    eider_frame_free(f);
}

Test(sql, a_table_created_by_one_call_does_not_hide_a_frame_in_the_next)
{
    const int32_t v[] = { 42 };
    eider_frame *f = eider_frame_new();
    OK(eider_frame_add_column_data(f, "v", EIDER_TYPE_INTEGER, v, NULL, 1));
    eider_frame_free(must(eider_frame_sql(NULL, "CREATE TABLE shadow AS SELECT 'table' AS v")));
    eider_frame *r = must(sql_over("shadow", f, "SELECT v FROM shadow"));
    cr_expect_eq(eider_frame_column_type(r, 0, NULL, NULL), EIDER_TYPE_INTEGER);
    cr_expect_eq(eider_frame_get_int64(r, 0, 0), 42);
    eider_frame_free(r);
    eider_frame_free(f);
}

Test(sql, the_scan_refuses_a_frame_id_no_scope_holds)
{
    eider_frame *f = every_type_rows();
    char sql[128];
    cr_expect_null(eider_frame_sql(NULL, "SELECT * FROM eider_frame_scan(12345::UBIGINT)"));
    expect_error_has("no such frame");
    /* A real frame, but not one SQL was given. */
    snprintf(sql, sizeof(sql), "SELECT * FROM eider_frame_scan(%" PRIuPTR "::UBIGINT)", (uintptr_t)f);
    cr_expect_null(eider_frame_sql(NULL, sql));
    expect_error_has("no such frame");
    eider_frame_free(f);
}

Test(sql, the_scan_refuses_a_null_frame_id_and_the_database_stays_usable)
{
    cr_expect_null(eider_frame_sql(NULL, "SELECT * FROM eider_frame_scan(NULL)"));
    expect_error_has("no such frame");
    cr_expect_null(strstr(eider_frame_error(), "INTERNAL"), "%s", eider_frame_error());
    eider_frame *r = must(eider_frame_sql(NULL, "SELECT 1 AS one"));
    cr_expect_eq(eider_frame_get_int64(r, 0, 0), 1);
    eider_frame_free(r);
}

Test(sql, a_frame_without_columns_is_a_clear_error)
{
    eider_frame *f = eider_frame_new();
    cr_expect_null(sql_over("t", f, "SELECT * FROM t"));
    expect_error_has("no columns");
    cr_expect_null(strstr(eider_frame_error(), "INTERNAL"), "%s", eider_frame_error());
    eider_frame_free(f);
}

Test(sql, columns_that_differ_only_in_case_are_one_name_as_in_sql)
{
    eider_frame *f = eider_frame_new();
    OK(eider_frame_add_column(f, "A", EIDER_TYPE_INTEGER));
    cr_expect_eq(eider_frame_add_column(f, "a", EIDER_TYPE_INTEGER), EIDER_EDUPLICATE);
    expect_error_has("ignore case");
    cr_expect_eq(eider_frame_columns(f), 1);
    eider_frame_free(f);
}

/* Each thread names its own frame "t" and must see only it. */
static void *count_own_frame(void *arg)
{
    size_t n = (size_t)(uintptr_t)arg, bad = 0;
    eider_frame *f = counting_frame_for_thread(n);
    for (int k = 0; k < 20; k++) {
        eider_frame *r = sql_over("t", f, "SELECT count(*) AS n FROM t");
        bad += !r || eider_frame_get_int64(r, 0, 0) != (int64_t)n;
        eider_frame_free(r);
    }
    eider_frame_free(f);
    return (void *)(uintptr_t)bad;
}

Test(sql, threads_see_their_own_frames_under_the_same_name)
{
    pthread_t t[4];
    for (size_t i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, count_own_frame, (void *)(uintptr_t)(1000 + i)), 0);
    for (size_t i = 0; i < 4; i++) {
        void *bad = NULL;
        pthread_join(t[i], &bad);
        cr_expect_eq((uintptr_t)bad, 0, "thread %zu saw another frame", i);
    }
}

Test(sql, count_star_reads_no_column)
{
    eider_frame *f = checkered_frame(3000);
    eider_frame *r = must(sql_over("t", f, "SELECT count(*) AS n FROM t"));
    cr_expect_eq(eider_frame_get_int64(r, 0, 0), 3000);
    eider_frame_free(r);
    eider_frame_free(f);
}

Test(sql, projected_columns_come_in_the_queried_order)
{
    eider_frame *f = every_type_rows();
    eider_frame *r = must(sql_over("t", f, "SELECT s, i FROM t"));
    cr_assert_eq(eider_frame_columns(r), 2);
    cr_expect_str_eq(eider_frame_get_text(r, 0, 0), "hello");
    cr_expect_eq(eider_frame_get_int64(r, 1, 0), -7);
    eider_frame_free(r);
    eider_frame_free(f);
}

Test(sql, a_frame_can_be_scanned_twice_in_one_query)
{
    eider_frame *f = checkered_frame(100);
    eider_frame *r = must(sql_over("t", f, "SELECT count(*) AS n FROM t a JOIN t b ON a.g = b.g"));
    cr_expect_gt(eider_frame_get_int64(r, 0, 0), 0);
    eider_frame_free(r);
    eider_frame_free(f);
}

Test(sql, duplicate_result_column_names_are_an_error_naming_them)
{
    cr_expect_null(eider_frame_sql(NULL, "SELECT 1 AS a, 2 AS a"));
    expect_error_has("'a'");
}

/* ---- DuckDB types a result converts ---- */

typedef struct convert_case {
    const char *sql;                 /* SELECT ... AS x */
    eider_type type;
    int64_t i;                       /* expected get_int64 (or for DOUBLE, get_double) */
    double d;
} convert_case;

static const convert_case converts[] = {
    { "SELECT (-128)::TINYINT AS x", EIDER_TYPE_INTEGER, -128, 0 },
    { "SELECT (-32768)::SMALLINT AS x", EIDER_TYPE_INTEGER, -32768, 0 },
    { "SELECT 255::UTINYINT AS x", EIDER_TYPE_INTEGER, 255, 0 },
    { "SELECT 65535::USMALLINT AS x", EIDER_TYPE_INTEGER, 65535, 0 },
    { "SELECT 4294967295::UINTEGER AS x", EIDER_TYPE_BIGINT, INT64_C(4294967295), 0 },
    { "SELECT 9223372036854775807::UBIGINT AS x", EIDER_TYPE_BIGINT, INT64_MAX, 0 },
    { "SELECT (-9223372036854775808)::HUGEINT AS x", EIDER_TYPE_BIGINT, INT64_MIN, 0 },
    { "SELECT 9223372036854775807::HUGEINT AS x", EIDER_TYPE_BIGINT, INT64_MAX, 0 },
    { "SELECT (-1)::HUGEINT AS x", EIDER_TYPE_BIGINT, -1, 0 },
    { "SELECT 1.5::FLOAT AS x", EIDER_TYPE_DOUBLE, 0, 1.5 },
    { "SELECT 12345678901234567890123456.25::DECIMAL(38,2) AS x", EIDER_TYPE_DOUBLE, 0,
      12345678901234567890123456.25 },
    { "SELECT (-0.75)::DECIMAL(38,2) AS x", EIDER_TYPE_DOUBLE, 0, -0.75 },
    { "SELECT 'a'::VARCHAR IS NOT NULL AS x", EIDER_TYPE_BOOLEAN, 1, 0 },
    { "SELECT TIMESTAMP_S '2024-02-29 13:45:30' AS x", EIDER_TYPE_TIMESTAMP, INT64_C(1709214330000000), 0 },
    { "SELECT TIMESTAMP_MS '2024-02-29 13:45:30.123' AS x", EIDER_TYPE_TIMESTAMP, INT64_C(1709214330123000), 0 },
    { "SELECT TIMESTAMP_NS '2024-02-29 13:45:30.123456789' AS x", EIDER_TYPE_TIMESTAMP,
      INT64_C(1709214330123456), 0 },
    { "SELECT DATE '2024-02-29' AS x", EIDER_TYPE_DATE, LEAP_DAY, 0 },
};

Test(types, duckdb_types_convert_to_frame_types)
{
    for (size_t k = 0; k < LEN(converts); k++) {
        const convert_case *c = &converts[k];
        eider_frame *r = eider_frame_sql(NULL, c->sql);
        cr_assert_not_null(r, "%s: %s", c->sql, eider_frame_error());
        cr_expect_eq(eider_frame_column_type(r, 0, NULL, NULL), c->type, "%s", c->sql);
        if (c->type == EIDER_TYPE_DOUBLE)
            cr_expect_eq(eider_frame_get_double(r, 0, 0), c->d, "%s: %.17g", c->sql,
                         eider_frame_get_double(r, 0, 0));
        else
            cr_expect_eq(eider_frame_get_int64(r, 0, 0), c->i, "%s: %" PRId64, c->sql,
                         eider_frame_get_int64(r, 0, 0));
        eider_frame_free(r);
    }
}

Test(types, converted_types_keep_their_nulls)
{
    eider_frame *r = must(eider_frame_sql(NULL,
        "SELECT CASE WHEN i % 3 = 0 THEN NULL ELSE i END::TINYINT AS a, "
        "CASE WHEN i % 5 = 0 THEN NULL ELSE i END::UBIGINT AS b, "
        "CASE WHEN i % 7 = 0 THEN NULL ELSE i END::HUGEINT AS c, "
        "CASE WHEN i % 11 = 0 THEN NULL ELSE i END::DECIMAL(38,1) AS d, "
        "CASE WHEN i % 2 = 0 THEN NULL ELSE make_timestamp(i * 1000000) END::TIMESTAMP_S AS e "
        "FROM range(100) t(i)"));
    cr_assert_eq(eider_frame_rows(r), 100);
    for (size_t i = 0; i < 100; i++) {
        int divisors[] = { 3, 5, 7, 11, 2 };
        for (size_t c = 0; c < 5; c++)
            if (eider_frame_is_null(r, c, i) != (i % divisors[c] == 0))
                cr_assert_fail("column %zu row %zu", c, i);
        if (i % 3 && eider_frame_get_int64(r, 0, i) != (int64_t)i)
            cr_assert_fail("row %zu", i);
    }
    eider_frame_free(r);
}

Test(types, small_decimals_stay_decimal_with_width_and_scale)
{
    eider_frame *r = must(eider_frame_sql(NULL, "SELECT (-12.3)::DECIMAL(4,1) AS a, "
        "1234567.89::DECIMAL(9,2) AS b, (-1234567890123.45678)::DECIMAL(18,5) AS c"));
    int width = 0, scale = 0;
    cr_expect_eq(eider_frame_column_type(r, 0, &width, &scale), EIDER_TYPE_DECIMAL);
    cr_expect(width == 4 && scale == 1);
    cr_expect_eq(eider_frame_get_int64(r, 0, 0), -123);
    cr_expect_eq(eider_frame_get_int64(r, 1, 0), 123456789);
    cr_expect_eq(eider_frame_column_type(r, 2, &width, &scale), EIDER_TYPE_DECIMAL);
    cr_expect(width == 18 && scale == 5);
    cr_expect_eq(eider_frame_get_int64(r, 2, 0), INT64_C(-123456789012345678));
    expect_round_trip(r);
    eider_frame_free(r);
}

Test(types, an_overflowing_ubigint_is_an_error_naming_the_column)
{
    cr_expect_null(eider_frame_sql(NULL, "SELECT 18446744073709551615::UBIGINT AS too_big"));
    expect_error_has("'too_big'");
}

Test(types, an_overflowing_hugeint_is_an_error_naming_the_column)
{
    cr_expect_null(eider_frame_sql(NULL, "SELECT 9223372036854775808::HUGEINT AS huge"));
    expect_error_has("'huge'");
    cr_expect_null(eider_frame_sql(NULL, "SELECT (-9223372036854775809)::HUGEINT AS tiny"));
    expect_error_has("'tiny'");
    cr_expect_null(eider_frame_sql(NULL, "SELECT i::HUGEINT * 100000000000000000 AS late "
                                         "FROM range(3000) t(i)"));
    expect_error_has("'late'");
}

Test(types, unsupported_types_are_errors_naming_the_column_and_type)
{
    static const char *const cases[][3] = {
        { "SELECT [1, 2] AS list_col", "'list_col'", "LIST" },
        { "SELECT INTERVAL 1 DAY AS span", "'span'", "INTERVAL" },
        { "SELECT {'a': 1} AS st", "'st'", "STRUCT" },
        { "SELECT TIME '10:00' AS t", "'t'", "TIME" },
        { "SELECT 'x'::BLOB AS bl", "'bl'", "BLOB" },
    };
    for (size_t i = 0; i < LEN(cases); i++) {
        cr_expect_null(eider_frame_sql(NULL, cases[i][0]), "%s", cases[i][0]);
        expect_error_has(cases[i][1]);
        expect_error_has(cases[i][2]);
    }
}

/* ---- CSV ---- */

Test(csv, iris_without_a_header_reads_150_rows_of_5_columns)
{
    eider_frame *f = must(eider_frame_read_csv(IRIS_CSV, NULL));
    cr_expect_eq(eider_frame_rows(f), 150);
    cr_expect_eq(eider_frame_columns(f), 5);
    cr_expect_eq(eider_frame_column_type(f, 0, NULL, NULL), EIDER_TYPE_DOUBLE);
    cr_expect_eq(eider_frame_column_type(f, 4, NULL, NULL), EIDER_TYPE_VARCHAR);
    cr_expect_eq(eider_frame_get_double(f, 0, 0), 5.1);
    cr_expect_str_eq(eider_frame_get_text(f, 4, 149), "Iris-virginica");
    eider_frame_free(f);
}

Test(csv, names_and_no_header_name_the_columns)
{
    eider_csv_options o = {
        .columns = EIDER_KEYS("sepal_length", "sepal_width", "petal_length", "petal_width", "species"),
        .header = -1,
    };
    eider_frame *f = must(eider_frame_read_csv(IRIS_CSV, &o));
    cr_expect_eq(eider_frame_rows(f), 150);
    cr_expect_str_eq(eider_frame_column_name(f, 0), "sepal_length");
    cr_expect_str_eq(eider_frame_column_name(f, 4), "species");
    cr_expect_str_eq(eider_frame_get_text(f, 4, 0), "Iris-setosa");
    eider_frame_free(f);
}

Test(csv, explicit_types_are_used)
{
    eider_csv_options o = {
        .columns = EIDER_KEYS("sl", "sw", "pl", "pw", "species"),
        .types = EIDER_KEYS("DECIMAL(4,1)", "DOUBLE", "FLOAT", "VARCHAR", "VARCHAR"),
        .header = -1,
        .delimiter = ",",
    };
    eider_frame *f = must(eider_frame_read_csv(IRIS_CSV, &o));
    int width = 0, scale = 0;
    cr_expect_eq(eider_frame_rows(f), 150);
    cr_expect_eq(eider_frame_column_type(f, 0, &width, &scale), EIDER_TYPE_DECIMAL);
    cr_expect(width == 4 && scale == 1);
    cr_expect_eq(eider_frame_get_int64(f, 0, 0), 51);
    cr_expect_eq(eider_frame_column_type(f, 2, NULL, NULL), EIDER_TYPE_DOUBLE);
    cr_expect_eq(eider_frame_column_type(f, 3, NULL, NULL), EIDER_TYPE_VARCHAR);
    cr_expect_str_eq(eider_frame_get_text(f, 3, 0), "0.2");
    eider_frame_free(f);
}

Test(csv, a_missing_file_says_no_such_file)
{
    cr_expect_null(eider_frame_read_csv("/nonexistent/nope.csv", NULL));
    expect_error_has("no such file");
    expect_error_has("/nonexistent/nope.csv");
}

Test(csv, a_type_count_that_differs_from_the_names_is_an_error)
{
    eider_csv_options o = { .columns = EIDER_KEYS("a", "b"), .types = EIDER_KEYS("DOUBLE") };
    cr_expect_null(eider_frame_read_csv(IRIS_CSV, &o));
    expect_error_has("1 types for 2 columns");
    eider_csv_options only_types = { .types = EIDER_KEYS("DOUBLE") };
    cr_expect_null(eider_frame_read_csv(IRIS_CSV, &only_types));
    expect_error_has("1 types for 0 columns");
}

Test(csv, no_path_is_an_error)
{
    cr_expect_null(eider_frame_read_csv(NULL, NULL));
    expect_error_has("no path");
}

/* ---- filters and selection ---- */

static eider_frame *iris(void)
{
    eider_csv_options o = {
        .columns = EIDER_KEYS("sepal_length", "sepal_width", "petal_length", "petal_width", "species"),
        .header = -1,
    };
    return must(eider_frame_read_csv(IRIS_CSV, &o));
}

Test(filter, filter_eq_on_a_varchar_column_keeps_the_matching_rows)
{
    eider_frame *f = iris();
    eider_frame *r = must(eider_frame_filter_eq(f, "species", "Iris-versicolor"));
    cr_expect_eq(eider_frame_rows(r), 50);
    cr_expect_eq(eider_frame_columns(r), 5);
    for (size_t i = 0; i < eider_frame_rows(r); i++)
        cr_expect_str_eq(eider_frame_get_text(r, 4, i), "Iris-versicolor");
    eider_frame_free(r);
    eider_frame_free(f);
}

Test(filter, filter_eq_on_a_numeric_column_compares_as_numbers)
{
    eider_frame *f = iris();
    eider_frame *r = must(eider_frame_filter_eq(f, "sepal_length", "5.10"));
    cr_expect_eq(eider_frame_rows(r), 9);
    eider_frame_free(r);
    const int32_t n[] = { 1, 10, 1, 2 };
    eider_frame *g = eider_frame_new();
    OK(eider_frame_add_column_data(g, "n", EIDER_TYPE_INTEGER, n, NULL, 4));
    r = must(eider_frame_filter_eq(g, "n", "01"));
    cr_expect_eq(eider_frame_rows(r), 2);
    eider_frame_free(r);
    eider_frame_free(g);
    eider_frame_free(f);
}

Test(filter, filter_eq_with_a_null_value_keeps_the_null_rows)
{
    eider_frame *f = checkered_frame(100);
    eider_frame *r = must(eider_frame_filter_eq(f, "s", NULL));
    size_t nulls = 0;
    for (size_t i = 0; i < 100; i++)
        nulls += eider_frame_is_null(f, 5, i);
    cr_expect_gt(nulls, 0);
    cr_expect_eq(eider_frame_rows(r), nulls);
    for (size_t i = 0; i < eider_frame_rows(r); i++)
        cr_expect(eider_frame_is_null(r, 5, i));
    eider_frame_free(r);
    eider_frame_free(f);
}

Test(filter, filter_eq_on_an_unknown_column_is_an_error_naming_it)
{
    eider_frame *f = iris();
    cr_expect_null(eider_frame_filter_eq(f, "Species", "x"));
    expect_error_has("'Species'");
    cr_expect_null(eider_frame_filter_eq(f, NULL, "x"));
    eider_frame_free(f);
}

Test(filter, a_null_frame_is_an_error_everywhere)
{
    cr_expect_null(eider_frame_filter_eq(NULL, "a", "x"));
    cr_expect_null(eider_frame_filter_eq(NULL, NULL, NULL));
    expect_error_has("NULL");
    cr_expect_null(eider_frame_filter(NULL, "true"));
    expect_error_has("NULL");
    cr_expect_null(eider_frame_select(NULL, EIDER_KEYS("a")));
    expect_error_has("NULL");
}

Test(filter, filter_eq_quotes_the_value_and_the_column)
{
    const char *names[] = { "it's", "plain", "it's", "\"q\"" };
    eider_frame *f = eider_frame_new();
    OK(eider_frame_add_column_data(f, "we\"ird col", EIDER_TYPE_VARCHAR, names, NULL, 4));
    eider_frame *r = must(eider_frame_filter_eq(f, "we\"ird col", "it's"));
    cr_expect_eq(eider_frame_rows(r), 2);
    cr_expect_str_eq(eider_frame_column_name(r, 0), "we\"ird col");
    eider_frame_free(r);
    r = must(eider_frame_filter_eq(f, "we\"ird col", "\"q\""));
    cr_expect_eq(eider_frame_rows(r), 1);
    eider_frame_free(r);
    eider_frame_free(f);
}

Test(filter, filter_keeps_the_rows_where_the_condition_holds)
{
    eider_frame *f = iris();
    eider_frame *r = must(eider_frame_filter(f, "petal_length > 6 AND species = 'Iris-virginica'"));
    cr_expect_eq(eider_frame_rows(r), 9);
    eider_frame_free(r);
    cr_expect_null(eider_frame_filter(f, "no_such > 1"));
    expect_error_has("no_such");
    eider_frame_free(f);
}

/* A frame of n rows: i = 0..n-1, tag = "a" every fourth row, else "b". */
static eider_frame *counting_frame(size_t n)
{
    eider_frame *f = eider_frame_new();
    OK(eider_frame_add_column(f, "i", EIDER_TYPE_BIGINT));
    OK(eider_frame_add_column(f, "tag", EIDER_TYPE_VARCHAR));
    for (size_t r = 0; r < n; r++) {
        OK(eider_frame_append_int64(f, (int64_t)r));
        OK(eider_frame_append_text(f, r % 4 == 0 ? "a" : "b"));
        OK(eider_frame_end_row(f));
    }
    return f;
}

static void expect_every_kth(const eider_frame *r, size_t k, size_t n)
{
    cr_assert_eq(eider_frame_rows(r), (n + k - 1) / k);
    for (size_t i = 0; i < eider_frame_rows(r); i++)
        if (eider_frame_get_int64(r, 0, i) != (int64_t)(i * k))
            cr_assert_fail("row %zu is %" PRId64 ", not %zu", i, eider_frame_get_int64(r, 0, i), i * k);
}

Test(filter, filters_keep_row_order_on_10000_rows)
{
    eider_frame *f = counting_frame(10000);
    eider_frame *r = must(eider_frame_filter(f, "i % 3 = 0"));
    expect_every_kth(r, 3, 10000);
    eider_frame_free(r);
    r = must(eider_frame_filter_eq(f, "tag", "a"));
    expect_every_kth(r, 4, 10000);
    eider_frame_free(r);
    eider_frame_free(f);
}

Test(filter, filters_keep_row_order_on_100000_rows)
{
    eider_frame *f = counting_frame(100000);
    eider_frame *r = must(eider_frame_filter_eq(f, "tag", "a"));
    expect_every_kth(r, 4, 100000);
    eider_frame_free(r);
    r = must(eider_frame_select(f, EIDER_KEYS("i")));
    expect_every_kth(r, 1, 100000);
    eider_frame_free(r);
    eider_frame_free(f);
}

Test(select, columns_come_in_the_given_order)
{
    eider_frame *f = iris();
    eider_frame *r = must(eider_frame_select(f, EIDER_KEYS("species", "sepal_length")));
    cr_assert_eq(eider_frame_columns(r), 2);
    cr_expect_str_eq(eider_frame_column_name(r, 0), "species");
    cr_expect_str_eq(eider_frame_column_name(r, 1), "sepal_length");
    cr_expect_eq(eider_frame_rows(r), 150);
    cr_expect_str_eq(eider_frame_get_text(r, 0, 0), "Iris-setosa");
    cr_expect_eq(eider_frame_get_double(r, 1, 0), 5.1);
    eider_frame_free(r);
    eider_frame_free(f);
}

Test(select, an_unknown_column_is_an_error_naming_it)
{
    eider_frame *f = iris();
    cr_expect_null(eider_frame_select(f, EIDER_KEYS("species", "colour")));
    expect_error_has("'colour'");
    eider_frame_free(f);
}

Test(select, no_columns_selects_all)
{
    eider_frame *f = iris();
    eider_frame *r = must(eider_frame_select(f, NULL));
    cr_expect_eq(eider_frame_columns(r), 5);
    eider_frame_free(r);
    eider_frame_free(f);
}

/* ---- strings ---- */

Test(strings, a_one_megabyte_string_round_trips)
{
    size_t n = 1 << 20;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n] = '\0';
    eider_frame *f = one_column("s", EIDER_TYPE_VARCHAR, 0, 0);
    OK(eider_frame_append_text(f, "before"));
    OK(eider_frame_end_row(f));
    OK(eider_frame_append_text(f, big));
    OK(eider_frame_end_row(f));
    OK(eider_frame_append_text(f, "after"));
    OK(eider_frame_end_row(f));
    cr_expect_eq(strlen(eider_frame_get_text(f, 0, 1)), n);
    eider_frame *r = must(sql_over("t", f, "SELECT s, length(s) AS n FROM t"));
    cr_expect_eq(eider_frame_get_int64(r, 1, 1), (int64_t)n);
    cr_expect_str_eq(eider_frame_get_text(r, 0, 1), big);
    cr_expect_str_eq(eider_frame_get_text(r, 0, 2), "after");
    eider_frame_free(r);
    eider_frame_free(f);
    free(big);
}

Test(strings, quotes_and_unicode_round_trip)
{
    const char *s[] = { "it's", "say \"hi\"", "'';--", "naïve café", "日本語", "emoji 🦆", "tab\there" };
    eider_frame *f = eider_frame_new();
    OK(eider_frame_add_column_data(f, "s", EIDER_TYPE_VARCHAR, s, NULL, 7));
    expect_round_trip(f);
    eider_frame *r = must(sql_over("t", f, "SELECT length(s) AS n FROM t"));
    cr_expect_eq(eider_frame_get_int64(r, 0, 3), 10, "characters, not bytes");
    cr_expect_eq(eider_frame_get_int64(r, 0, 4), 3);
    eider_frame_free(r);
    for (size_t i = 0; i < 7; i++) {
        r = must(eider_frame_filter_eq(f, "s", s[i]));
        cr_expect_eq(eider_frame_rows(r), 1, "%s", s[i]);
        eider_frame_free(r);
    }
    eider_frame_free(f);
}

Test(strings, an_empty_string_is_not_null)
{
    eider_frame *f = one_column("s", EIDER_TYPE_VARCHAR, 0, 0);
    OK(eider_frame_append_text(f, ""));
    OK(eider_frame_end_row(f));
    OK(eider_frame_append_null(f));
    OK(eider_frame_end_row(f));
    cr_expect_not(eider_frame_is_null(f, 0, 0));
    cr_expect_str_eq(eider_frame_get_text(f, 0, 0), "");
    cr_expect(eider_frame_is_null(f, 0, 1));
    eider_frame *r = must(sql_over("t", f, "SELECT s IS NULL AS n, s = '' AS e FROM t"));
    cr_expect_eq(eider_frame_get_bool(r, 0, 0), 0);
    cr_expect_eq(eider_frame_get_bool(r, 1, 0), 1);
    cr_expect_eq(eider_frame_get_bool(r, 0, 1), 1);
    eider_frame_free(r);
    expect_round_trip(f);
    r = must(eider_frame_filter_eq(f, "s", ""));
    cr_expect_eq(eider_frame_rows(r), 1);
    eider_frame_free(r);
    eider_frame_free(f);
}
