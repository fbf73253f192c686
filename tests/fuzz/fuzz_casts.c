/*
 * fuzz_casts.c — fuzz target for the text-to-value casts of frames (put_text in
 * src/duckdb/frame.c), which re-implement DuckDB's: the bytes (up to the first NUL)
 * are appended as text to a frame column of each type, and whatever Eider accepts must
 * be exactly what DuckDB's own TRY_CAST gives on a real in-memory connection (in UTC).
 * Eider may refuse text that DuckDB would take (it then says so, and stores nothing);
 * it must never store a value DuckDB would refuse or read otherwise. A mismatch is
 * printed and aborts, which the fuzzer reports as a crash.
 */
#include <math.h>
#include <stdint.h>

#include <duckdb.h>

#include "duckdb/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct cast_case {
    const char *sql_type;
    eider_type type;
    int width, scale;                /* DECIMAL */
    duckdb_prepared_statement stmt;
} cast_case;

static cast_case cases[] = {
    { "BOOLEAN", EIDER_TYPE_BOOLEAN, 0, 0, NULL },
    { "INTEGER", EIDER_TYPE_INTEGER, 0, 0, NULL },
    { "BIGINT", EIDER_TYPE_BIGINT, 0, 0, NULL },
    { "DOUBLE", EIDER_TYPE_DOUBLE, 0, 0, NULL },
    { "DECIMAL(18,3)", EIDER_TYPE_DECIMAL, 18, 3, NULL },
    { "DECIMAL(4,2)", EIDER_TYPE_DECIMAL, 4, 2, NULL },
    { "DATE", EIDER_TYPE_DATE, 0, 0, NULL },
    { "TIMESTAMP", EIDER_TYPE_TIMESTAMP, 0, 0, NULL },
    { "TIMESTAMPTZ", EIDER_TYPE_TIMESTAMP_TZ, 0, 0, NULL },
};
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static duckdb_database db;
static duckdb_connection con;

static void fixture(void)
{
    duckdb_result res;
    char sql[128];
    if (con)
        return;
    if (duckdb_open(NULL, &db) || duckdb_connect(db, &con) ||
        duckdb_query(con, "SET TimeZone = 'UTC'", &res))
        abort();
    duckdb_destroy_result(&res);
    for (size_t i = 0; i < N_CASES; i++) {
        snprintf(sql, sizeof(sql), "SELECT TRY_CAST(CAST($1 AS VARCHAR) AS %s)", cases[i].sql_type);
        if (duckdb_prepare(con, sql, &cases[i].stmt))
            abort();
    }
}

/* DuckDB's value of text as c's type into *out (as int64, or the double's bits):
 * 1 when it casts, 0 when it does not, -1 when DuckDB takes no such text (not UTF-8). */
static int duckdb_cast(cast_case *c, const char *text, int64_t *i, double *d)
{
    duckdb_result res;
    int got = -1;
    if (duckdb_bind_varchar(c->stmt, 1, text) || duckdb_execute_prepared(c->stmt, &res))
        return -1;
    duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
    if (chunk && duckdb_data_chunk_get_size(chunk) == 1) {
        duckdb_vector v = duckdb_data_chunk_get_vector(chunk, 0);
        void *p = duckdb_vector_get_data(v);
        uint64_t *valid = duckdb_vector_get_validity(v);
        got = !valid || duckdb_validity_row_is_valid(valid, 0);
        if (c->type == EIDER_TYPE_BOOLEAN)
            *i = *(uint8_t *)p;
        else if (c->type == EIDER_TYPE_INTEGER || c->type == EIDER_TYPE_DATE)
            *i = *(int32_t *)p;
        else if (c->type == EIDER_TYPE_DOUBLE)
            *d = *(double *)p;
        else if (c->type == EIDER_TYPE_DECIMAL && c->width <= 4)
            *i = *(int16_t *)p;
        else
            *i = *(int64_t *)p;
    }
    duckdb_destroy_data_chunk(&chunk);
    duckdb_destroy_result(&res);
    return got;
}

/* Eider's value of text as c's type: 1 when it takes it, 0 when it refuses. */
static int eider_cast(const cast_case *c, const char *text, int64_t *i, double *d)
{
    eider_frame *f = eider_frame_new();
    int rc = c->type == EIDER_TYPE_DECIMAL ? eider_frame_add_decimal_column(f, "c", c->width, c->scale)
                                           : eider_frame_add_column(f, "c", c->type);
    if (rc)
        abort();
    int took = eider_frame_append_text(f, text) == EIDER_OK;
    if (took && eider_frame_end_row(f) != EIDER_OK)
        abort();
    if (!took && strlen(eider_frame_error()) == 0)
        abort();                     /* a refusal says why */
    const void *p = took ? f->cols[0].data : NULL;
    if (p && c->type == EIDER_TYPE_BOOLEAN)
        *i = *(const uint8_t *)p;
    else if (p && (c->type == EIDER_TYPE_INTEGER || c->type == EIDER_TYPE_DATE))
        *i = *(const int32_t *)p;
    else if (p && c->type == EIDER_TYPE_DOUBLE)
        *d = *(const double *)p;
    else if (p)
        *i = *(const int64_t *)p;
    eider_frame_free(f);
    return took;
}

static void check(cast_case *c, const char *text)
{
    int64_t ei = 0, di = 0;
    double ed = 0, dd = 0;
    if (!eider_cast(c, text, &ei, &ed))
        return;
    int duck = duckdb_cast(c, text, &di, &dd);
    if (duck < 0)
        return;
    int same = duck == 1 && (c->type == EIDER_TYPE_DOUBLE ? ed == dd || (isnan(ed) && isnan(dd))
                                                          : ei == di);
    if (same)
        return;
    if (c->type == EIDER_TYPE_DOUBLE)
        fprintf(stderr, "cast mismatch: '%s' AS %s: Eider %.17g, DuckDB %s%.17g\n", text,
                c->sql_type, ed, duck ? "" : "refuses it; ", dd);
    else
        fprintf(stderr, "cast mismatch: '%s' AS %s: Eider %lld, DuckDB %s%lld\n", text,
                c->sql_type, (long long)ei, duck ? "" : "refuses it; ", (long long)di);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = eider__xmalloc(size + 1);
    fixture();
    if (size)
        memcpy(text, data, size);
    text[size] = '\0';
    for (size_t i = 0; i < N_CASES; i++)
        check(&cases[i], text);
    free(text);
    return 0;
}
