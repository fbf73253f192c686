/*
 * value.h — reading single values out of DuckDB results: one integer or one text at a
 * row and column of a chunk, the first value of a result, the first value of a query.
 * Every place that reads "the count" or "the name" a query answers goes through here,
 * so that all of them accept the same types.
 */
#ifndef EIDER_VALUE_H
#define EIDER_VALUE_H

#include "eider.h"
#include "../util/util.h"

/* The value at (col, row) of chunk as an int64: EIDER_OK; EIDER_ENOTFOUND when it is
 * NULL or out of range; EIDER_EINVAL when it is not an integer (of any width, signed
 * or not) or does not fit in int64. */
int eider__chunk_int64(duckdb_data_chunk chunk, idx_t col, idx_t row, int64_t *out);
/* The VARCHAR at (col, row) of chunk, malloc'd; NULL when it is NULL, out of range or
 * of another type. */
char *eider__chunk_text(duckdb_data_chunk chunk, idx_t col, idx_t row);

/* The first column of res's first row (its first chunk is fetched), with
 * eider__chunk_int64's codes; no row or no column is EIDER_ENOTFOUND. */
int eider__result_int64(duckdb_result *res, int64_t *out);
/* The first column of res's first row as text, malloc'd, or NULL (see
 * eider__chunk_text). */
char *eider__result_text(duckdb_result *res);

/* Run sql on con and read its first value into *out: 0 when it answers no row or a
 * NULL. Returns EIDER_OK, or EIDER_ESQL with the reason in err (DuckDB's message, or
 * that the value is not an integer that fits in int64). For counts: "INSERT ...",
 * "COPY ...", "SELECT count(*) ...". */
int eider__query_int64(duckdb_connection con, const char *sql, int64_t *out, eider__buf *err);
/* Run sql on con; its first value as text, malloc'd, or NULL when the query fails or
 * answers no row, a NULL or another type. */
char *eider__query_text(duckdb_connection con, const char *sql);

#endif
