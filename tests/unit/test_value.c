/*
 * test_value.c — reading one value out of a DuckDB result (src/duckdb/value.c): every
 * integer type narrowed to int64 when it fits, NULL and no row told apart from a wrong
 * type, text copied out of the chunk, and the query helpers' codes and messages.
 */
#include <criterion/criterion.h>

#include "duckdb/value.h"

static duckdb_database db;
static duckdb_connection con;

static void open_db(void)
{
    cr_assert_eq(duckdb_open(NULL, &db), DuckDBSuccess);
    cr_assert_eq(duckdb_connect(db, &con), DuckDBSuccess);
}

static void close_db(void)
{
    duckdb_disconnect(&con);
    duckdb_close(&db);
}

TestSuite(value, .init = open_db, .fini = close_db);

/* The first value of sql through eider__result_int64. */
static int result_int64(const char *sql, int64_t *out)
{
    duckdb_result res;
    cr_assert_eq(duckdb_query(con, sql, &res), DuckDBSuccess, "%s", duckdb_result_error(&res));
    int rc = eider__result_int64(&res, out);
    duckdb_destroy_result(&res);
    return rc;
}

typedef struct int_case {
    const char *sql;
    int rc;
    int64_t value;
} int_case;

static const int_case int_cases[] = {
    { "SELECT 42::TINYINT", EIDER_OK, 42 },
    { "SELECT (-7)::SMALLINT", EIDER_OK, -7 },
    { "SELECT 2147483647::INTEGER", EIDER_OK, 2147483647 },
    { "SELECT (-9223372036854775807 - 1)::BIGINT", EIDER_OK, INT64_MIN },
    { "SELECT 255::UTINYINT", EIDER_OK, 255 },
    { "SELECT 65535::USMALLINT", EIDER_OK, 65535 },
    { "SELECT 4294967295::UINTEGER", EIDER_OK, 4294967295 },
    { "SELECT 9223372036854775807::UBIGINT", EIDER_OK, INT64_MAX },
    { "SELECT 9223372036854775808::UBIGINT", EIDER_EINVAL, 0 },
    { "SELECT (-5)::HUGEINT", EIDER_OK, -5 },
    { "SELECT 9223372036854775808::HUGEINT", EIDER_EINVAL, 0 },
    { "SELECT 12::UHUGEINT", EIDER_OK, 12 },
    { "SELECT count(*) FROM range(3)", EIDER_OK, 3 },
    { "SELECT 1.5::DOUBLE", EIDER_EINVAL, 0 },
    { "SELECT 'seven'", EIDER_EINVAL, 0 },
    { "SELECT NULL::BIGINT", EIDER_ENOTFOUND, 0 },
    { "SELECT 1 WHERE false", EIDER_ENOTFOUND, 0 },
};

Test(value, every_integer_type_that_fits_reads_as_int64_and_nothing_else_does)
{
    for (size_t i = 0; i < sizeof(int_cases) / sizeof(int_cases[0]); i++) {
        const int_case *c = &int_cases[i];
        int64_t v = 0;
        int rc = result_int64(c->sql, &v);
        cr_expect_eq(rc, c->rc, "%s: rc %d, expected %d", c->sql, rc, c->rc);
        if (c->rc == EIDER_OK)
            cr_expect_eq(v, c->value, "%s: %lld", c->sql, (long long)v);
    }
}

Test(value, chunk_int64_reads_any_row_and_column)
{
    duckdb_result res;
    cr_assert_eq(duckdb_query(con, "SELECT range AS a, range * 10 AS b FROM range(5)", &res),
                 DuckDBSuccess);
    duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
    int64_t v = 0;
    cr_expect_eq(eider__chunk_int64(chunk, 1, 3, &v), EIDER_OK);
    cr_expect_eq(v, 30);
    cr_expect_eq(eider__chunk_int64(chunk, 2, 0, &v), EIDER_ENOTFOUND, "no such column");
    cr_expect_eq(eider__chunk_int64(chunk, 0, 5, &v), EIDER_ENOTFOUND, "no such row");
    cr_expect_eq(eider__chunk_int64(NULL, 0, 0, &v), EIDER_ENOTFOUND, "no chunk");
    duckdb_destroy_data_chunk(&chunk);
    duckdb_destroy_result(&res);
}

Test(value, text_is_copied_and_null_or_another_type_is_null)
{
    char *s = eider__query_text(con, "SELECT 'a longer string than twelve bytes'");
    cr_expect_str_eq(s, "a longer string than twelve bytes");
    free(s);
    s = eider__query_text(con, "SELECT 'short'");
    cr_expect_str_eq(s, "short");
    free(s);
    cr_expect_null(eider__query_text(con, "SELECT NULL::VARCHAR"));
    cr_expect_null(eider__query_text(con, "SELECT 1"));
    cr_expect_null(eider__query_text(con, "SELECT 'x' WHERE false"));
    cr_expect_null(eider__query_text(con, "SELECT FROM nowhere"));
}

Test(value, chunk_text_reads_row_r)
{
    duckdb_result res;
    cr_assert_eq(duckdb_query(con, "SELECT 'name_' || range FROM range(4)", &res), DuckDBSuccess);
    duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
    char *s = eider__chunk_text(chunk, 0, 2);
    cr_expect_str_eq(s, "name_2");
    free(s);
    duckdb_destroy_data_chunk(&chunk);
    duckdb_destroy_result(&res);
}

Test(value, query_int64_counts_and_reads_no_row_as_zero)
{
    eider__buf err = { 0 };
    int64_t v = -1;
    cr_expect_eq(eider__query_int64(con, "CREATE TABLE t AS SELECT * FROM range(7)", &v, &err), EIDER_OK);
    cr_expect_eq(v, 7, "rows written");
    cr_expect_eq(eider__query_int64(con, "INSERT INTO t SELECT * FROM range(2)", &v, &err), EIDER_OK);
    cr_expect_eq(v, 2, "rows inserted");
    v = -1;
    cr_expect_eq(eider__query_int64(con, "SELECT max(range) FROM t WHERE false", &v, &err), EIDER_OK);
    cr_expect_eq(v, 0, "a NULL reads as 0");
    cr_expect_str_eq(eider__buf_str(&err), "");
    eider__buf_release(&err);
}

Test(value, query_int64_fails_with_the_reason)
{
    eider__buf err = { 0 };
    int64_t v = 0;
    cr_expect_eq(eider__query_int64(con, "SELECT * FROM no_such_table", &v, &err), EIDER_ESQL);
    cr_expect(strstr(eider__buf_str(&err), "no_such_table"), "%s", eider__buf_str(&err));
    eider__buf_reset(&err);
    cr_expect_eq(eider__query_int64(con, "SELECT 'text'", &v, &err), EIDER_ESQL);
    cr_expect(strstr(eider__buf_str(&err), "not an integer"), "%s", eider__buf_str(&err));
    eider__buf_release(&err);
}
