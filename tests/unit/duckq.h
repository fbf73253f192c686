/*
 * duckq.h — for unit tests that check what a run left in a DuckDB file: one value of a
 * query, read with DuckDB alone (the run has closed the file), as text.
 */
#ifndef EIDER_TEST_DUCKQ_H
#define EIDER_TEST_DUCKQ_H

#include <criterion/criterion.h>
#include <duckdb.h>
#include <stdio.h>

/* The first value of sql on the file at path: "NULL" for a NULL, "" for no row,
 * "error: ..." when the query fails. The query must answer text. Static storage. */
static inline char *duckq(const char *path, const char *sql)
{
    duckdb_database db;
    duckdb_connection con;
    duckdb_result res;
    static char out[4096];
    cr_assert_eq(duckdb_open(path, &db), DuckDBSuccess);
    cr_assert_eq(duckdb_connect(db, &con), DuckDBSuccess);
    out[0] = '\0';
    if (duckdb_query(con, sql, &res) == DuckDBError) {
        snprintf(out, sizeof(out), "error: %s", duckdb_result_error(&res));
    } else {
        duckdb_data_chunk c = duckdb_fetch_chunk(res);
        if (c && duckdb_data_chunk_get_size(c) > 0) {
            duckdb_vector v = duckdb_data_chunk_get_vector(c, 0);
            uint64_t *valid = duckdb_vector_get_validity(v);
            duckdb_string_t *s = duckdb_vector_get_data(v);
            cr_assert_eq(duckdb_column_type(&res, 0), DUCKDB_TYPE_VARCHAR, "query must return text: %s", sql);
            if (valid && !duckdb_validity_row_is_valid(valid, 0))
                snprintf(out, sizeof(out), "NULL");
            else
                snprintf(out, sizeof(out), "%.*s", (int)duckdb_string_t_length(s[0]),
                         duckdb_string_t_data(&s[0]));
        }
        if (c)
            duckdb_destroy_data_chunk(&c);
    }
    duckdb_destroy_result(&res);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return out;
}

#endif
