/*
 * value.c — reading single values out of DuckDB results (see value.h): the integer
 * types DuckDB has, narrowed to int64 when they fit, and VARCHAR copied out of the
 * chunk (its strings live only as long as the chunk).
 */
#include <string.h>

#include "value.h"

static duckdb_type column_type(duckdb_vector v)
{
    duckdb_logical_type t = duckdb_vector_get_column_type(v);
    duckdb_type id = duckdb_get_type_id(t);
    duckdb_destroy_logical_type(&t);
    return id;
}

/* The vector of column col if row is a non-NULL value of it, else NULL. */
static duckdb_vector valid_vector(duckdb_data_chunk chunk, idx_t col, idx_t row)
{
    if (!chunk || col >= duckdb_data_chunk_get_column_count(chunk) ||
        row >= duckdb_data_chunk_get_size(chunk))
        return NULL;
    duckdb_vector v = duckdb_data_chunk_get_vector(chunk, col);
    uint64_t *valid = duckdb_vector_get_validity(v);
    return valid && !duckdb_validity_row_is_valid(valid, row) ? NULL : v;
}

static int hugeint_int64(duckdb_hugeint h, int64_t *out)
{
    if (!((h.upper == 0 && h.lower <= INT64_MAX) || (h.upper == -1 && h.lower > INT64_MAX)))
        return EIDER_EINVAL;
    *out = (int64_t)h.lower;
    return EIDER_OK;
}

int eider__chunk_int64(duckdb_data_chunk chunk, idx_t col, idx_t row, int64_t *out)
{
    duckdb_vector v = valid_vector(chunk, col, row);
    if (!v)
        return EIDER_ENOTFOUND;
    void *data = duckdb_vector_get_data(v);
    switch (column_type(v)) {
    case DUCKDB_TYPE_BIGINT: *out = ((int64_t *)data)[row]; return EIDER_OK;
    case DUCKDB_TYPE_INTEGER: *out = ((int32_t *)data)[row]; return EIDER_OK;
    case DUCKDB_TYPE_SMALLINT: *out = ((int16_t *)data)[row]; return EIDER_OK;
    case DUCKDB_TYPE_TINYINT: *out = ((int8_t *)data)[row]; return EIDER_OK;
    case DUCKDB_TYPE_UINTEGER: *out = ((uint32_t *)data)[row]; return EIDER_OK;
    case DUCKDB_TYPE_USMALLINT: *out = ((uint16_t *)data)[row]; return EIDER_OK;
    case DUCKDB_TYPE_UTINYINT: *out = ((uint8_t *)data)[row]; return EIDER_OK;
    case DUCKDB_TYPE_UBIGINT:
        if (((uint64_t *)data)[row] > INT64_MAX)
            return EIDER_EINVAL;
        *out = (int64_t)((uint64_t *)data)[row];
        return EIDER_OK;
    case DUCKDB_TYPE_HUGEINT: return hugeint_int64(((duckdb_hugeint *)data)[row], out);
    case DUCKDB_TYPE_UHUGEINT: {
        duckdb_uhugeint u = ((duckdb_uhugeint *)data)[row];
        if (u.upper || u.lower > INT64_MAX)
            return EIDER_EINVAL;
        *out = (int64_t)u.lower;
        return EIDER_OK;
    }
    default: return EIDER_EINVAL;
    }
}

char *eider__chunk_text(duckdb_data_chunk chunk, idx_t col, idx_t row)
{
    duckdb_vector v = valid_vector(chunk, col, row);
    if (!v || column_type(v) != DUCKDB_TYPE_VARCHAR)
        return NULL;
    duckdb_string_t *s = &((duckdb_string_t *)duckdb_vector_get_data(v))[row];
    uint32_t n = duckdb_string_t_length(*s);
    char *out = eider__xmalloc(n + 1);
    memcpy(out, duckdb_string_t_data(s), n);
    out[n] = '\0';
    return out;
}

int eider__result_int64(duckdb_result *res, int64_t *out)
{
    duckdb_data_chunk chunk = duckdb_fetch_chunk(*res);
    int rc = eider__chunk_int64(chunk, 0, 0, out);
    if (chunk)
        duckdb_destroy_data_chunk(&chunk);
    return rc;
}

char *eider__result_text(duckdb_result *res)
{
    duckdb_data_chunk chunk = duckdb_fetch_chunk(*res);
    char *out = eider__chunk_text(chunk, 0, 0);
    if (chunk)
        duckdb_destroy_data_chunk(&chunk);
    return out;
}

int eider__query_int64(duckdb_connection con, const char *sql, int64_t *out, eider__buf *err)
{
    duckdb_result res;
    int rc = EIDER_OK;
    *out = 0;
    if (duckdb_query(con, sql, &res) == DuckDBError) {
        eider__buf_puts(err, duckdb_result_error(&res));
        rc = EIDER_ESQL;
    } else if ((rc = eider__result_int64(&res, out)) == EIDER_ENOTFOUND) {
        *out = 0;
        rc = EIDER_OK;
    } else if (rc) {
        eider__buf_puts(err, "the query's first column is not an integer that fits in 64 bits");
        rc = EIDER_ESQL;
    }
    duckdb_destroy_result(&res);
    return rc;
}

char *eider__query_text(duckdb_connection con, const char *sql)
{
    duckdb_result res;
    char *out = NULL;
    if (duckdb_query(con, sql, &res) == DuckDBSuccess)
        out = eider__result_text(&res);
    duckdb_destroy_result(&res);
    return out;
}
