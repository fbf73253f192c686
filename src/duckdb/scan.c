/*
 * scan.c — frames inside DuckDB: a table function that scans a frame in place (in
 * parallel when the query allows it), a replacement scan that lets SQL name a frame,
 * reading a query's result into a frame, and the frame functions built on SQL
 * (eider_frame_sql, read_csv, filters) over a private in-memory database.
 */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>

#include "scan.h"

/* ---- frames SQL may name ------------------------------------------------------ */

/* The scopes of the calling thread, innermost first: eider_frame_sql()'s, then the
 * step's. A replacement scan runs while DuckDB binds a query, on the thread that
 * issued it. */
static _Thread_local eider__frame_scope *scopes;

/* Every frame some scope holds, so that a scan's argument can be checked: SQL could
 * otherwise hand eider_frame_scan() any number. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static const eider_frame **live;
static size_t n_live, cap_live;

static void live_add(const eider_frame *f)
{
    pthread_mutex_lock(&live_lock);
    EIDER__GROW(live, cap_live, n_live + 1);
    live[n_live++] = f;
    pthread_mutex_unlock(&live_lock);
}

static void live_remove(const eider_frame *f)
{
    pthread_mutex_lock(&live_lock);
    for (size_t i = n_live; i-- > 0;)
        if (live[i] == f) {
            live[i] = live[--n_live];
            break;
        }
    pthread_mutex_unlock(&live_lock);
}

static int live_has(const eider_frame *f)
{
    int found = 0;
    pthread_mutex_lock(&live_lock);
    for (size_t i = 0; i < n_live && !found; i++)
        found = live[i] == f;
    pthread_mutex_unlock(&live_lock);
    return found;
}

void eider__scope_add(eider__frame_scope *s, const char *name, const eider_frame *f)
{
    EIDER__GROW(s->refs, s->cap, s->n + 1);
    s->refs[s->n].name = eider__xstrdup(name);
    s->refs[s->n].frame = f;
    s->n++;
    live_add(f);
}

void eider__scope_push(eider__frame_scope *s)
{
    s->outer = scopes;
    scopes = s;
}

void eider__scope_pop(eider__frame_scope *s)
{
    if (scopes == s)
        scopes = s->outer;
}

void eider__scope_release(eider__frame_scope *s)
{
    eider__scope_pop(s);
    for (size_t i = 0; i < s->n; i++) {
        live_remove(s->refs[i].frame);
        free((char *)s->refs[i].name);
    }
    free(s->refs);
    memset(s, 0, sizeof(*s));
}

static const eider_frame *scope_find(const char *name)
{
    for (eider__frame_scope *s = scopes; s; s = s->outer)
        for (size_t i = s->n; i-- > 0;)
            if (strcmp(s->refs[i].name, name) == 0)
                return s->refs[i].frame;
    for (eider__frame_scope *s = scopes; s; s = s->outer)
        for (size_t i = s->n; i-- > 0;)
            if (strcasecmp(s->refs[i].name, name) == 0)    /* SQL names ignore case */
                return s->refs[i].frame;
    return NULL;
}

/* ---- the table function -------------------------------------------------------- */

typedef struct scan_bind {
    const eider_frame *frame;
} scan_bind;

typedef struct scan_state {
    atomic_size_t next;              /* the first row not yet claimed */
    idx_t *cols;                     /* projected frame columns */
    idx_t n_cols;
} scan_state;

static duckdb_logical_type logical_type(const eider__column *c)
{
    static const duckdb_type ids[] = {
        [EIDER_TYPE_BOOLEAN] = DUCKDB_TYPE_BOOLEAN, [EIDER_TYPE_INTEGER] = DUCKDB_TYPE_INTEGER,
        [EIDER_TYPE_BIGINT] = DUCKDB_TYPE_BIGINT, [EIDER_TYPE_DOUBLE] = DUCKDB_TYPE_DOUBLE,
        [EIDER_TYPE_VARCHAR] = DUCKDB_TYPE_VARCHAR, [EIDER_TYPE_DATE] = DUCKDB_TYPE_DATE,
        [EIDER_TYPE_TIMESTAMP] = DUCKDB_TYPE_TIMESTAMP,
        [EIDER_TYPE_TIMESTAMP_TZ] = DUCKDB_TYPE_TIMESTAMP_TZ,
    };
    if (c->type == EIDER_TYPE_DECIMAL)
        return duckdb_create_decimal_type((uint8_t)c->width, (uint8_t)c->scale);
    return duckdb_create_logical_type(ids[c->type]);
}

static void scan_bind_fn(duckdb_bind_info info)
{
    duckdb_value arg = duckdb_bind_get_parameter(info, 0);
    /* duckdb_get_uint64() of a NULL throws a C++ exception through this C frame (an
     * INTERNAL error, and the value leaks): a NULL is no frame. */
    const eider_frame *f = duckdb_is_null_value(arg) ? NULL
                         : (const eider_frame *)(uintptr_t)duckdb_get_uint64(arg);
    duckdb_destroy_value(&arg);
    if (!live_has(f)) {
        duckdb_bind_set_error(info, "eider_frame_scan: no such frame (frames are named in SQL "
                                    "through eider_register_frame() or eider_frame_sql())");
        return;
    }
    if (f->n_cols == 0) {           /* DuckDB would raise an INTERNAL error with a trace */
        duckdb_bind_set_error(info, "eider_frame_scan: the frame has no columns: add columns "
                                    "before querying it");
        return;
    }
    for (size_t i = 0; i < f->n_cols; i++) {
        duckdb_logical_type t = logical_type(&f->cols[i]);
        duckdb_bind_add_result_column(info, f->cols[i].name, t);
        duckdb_destroy_logical_type(&t);
    }
    scan_bind *b = eider__xmalloc(sizeof(*b));
    b->frame = f;
    duckdb_bind_set_bind_data(info, b, free);
    duckdb_bind_set_cardinality(info, f->n_rows, true);
}

static void state_free(void *p)
{
    scan_state *s = p;
    free(s->cols);
    free(s);
}

static void scan_init_fn(duckdb_init_info info)
{
    const scan_bind *b = duckdb_init_get_bind_data(info);
    scan_state *s = eider__xcalloc(1, sizeof(*s));
    s->n_cols = duckdb_init_get_column_count(info);
    s->cols = eider__xmalloc((s->n_cols + 1) * sizeof(*s->cols));
    for (idx_t i = 0; i < s->n_cols; i++)
        s->cols[i] = duckdb_init_get_column_index(info, i);
    atomic_init(&s->next, 0);
    size_t chunks = (b->frame->n_rows + duckdb_vector_size() - 1) / duckdb_vector_size();
    duckdb_init_set_max_threads(info, chunks / 16 + 1);
    duckdb_init_set_init_data(info, s, state_free);
}

/* Copy rows [start, start + n) of c into vec. */
static void copy_column(const eider__column *c, size_t start, size_t n, duckdb_vector vec)
{
    void *out = duckdb_vector_get_data(vec);
    if (c->valid) {
        duckdb_vector_ensure_validity_writable(vec);
        uint64_t *v = duckdb_vector_get_validity(vec);
        memcpy(v, c->valid + start / 64, (n + 63) / 64 * 8);  /* start is a multiple of 64 */
    }
    if (c->type == EIDER_TYPE_VARCHAR) {
        const int64_t *off = c->data;
        for (size_t r = 0; r < n; r++)
            if (eider__column_valid(c, start + r))
                duckdb_vector_assign_string_element_len(vec, r, c->text + off[start + r],
                    (idx_t)(off[start + r + 1] - off[start + r] - 1));
        return;
    }
    if (c->type == EIDER_TYPE_DECIMAL && c->width <= 9) {
        const int64_t *in = (const int64_t *)c->data + start;
        for (size_t r = 0; r < n; r++) {
            if (c->width <= 4)
                ((int16_t *)out)[r] = (int16_t)in[r];
            else
                ((int32_t *)out)[r] = (int32_t)in[r];
        }
        return;
    }
    size_t size = eider__type_size(c->type);
    memcpy(out, (const char *)c->data + start * size, n * size);
}

static void scan_fn(duckdb_function_info info, duckdb_data_chunk out)
{
    const scan_bind *b = duckdb_function_get_bind_data(info);
    scan_state *s = duckdb_function_get_init_data(info);
    size_t vs = duckdb_vector_size();
    size_t start = atomic_fetch_add(&s->next, vs);
    size_t rows = b->frame->n_rows;
    size_t n = start < rows ? (rows - start < vs ? rows - start : vs) : 0;
    for (idx_t i = 0; i < s->n_cols && n; i++)
        copy_column(&b->frame->cols[s->cols[i]], start, n, duckdb_data_chunk_get_vector(out, i));
    duckdb_data_chunk_set_size(out, n);
}

static void replace_fn(duckdb_replacement_scan_info info, const char *name, void *data)
{
    const eider_frame *f = scope_find(name);
    if (!f)
        return;
    duckdb_replacement_scan_set_function_name(info, EIDER__SCAN_FUNCTION);
    duckdb_value arg = duckdb_create_uint64((uint64_t)(uintptr_t)f);
    duckdb_replacement_scan_add_parameter(info, arg);
    duckdb_destroy_value(&arg);
}

int eider__frame_scan_install(duckdb_database db)
{
    duckdb_connection con = NULL;
    if (duckdb_connect(db, &con) == DuckDBError)
        return EIDER_EDUCKDB;
    duckdb_table_function tf = duckdb_create_table_function();
    duckdb_logical_type u64 = duckdb_create_logical_type(DUCKDB_TYPE_UBIGINT);
    duckdb_table_function_set_name(tf, EIDER__SCAN_FUNCTION);
    duckdb_table_function_add_parameter(tf, u64);
    duckdb_table_function_set_bind(tf, scan_bind_fn);
    duckdb_table_function_set_init(tf, scan_init_fn);
    duckdb_table_function_set_function(tf, scan_fn);
    duckdb_table_function_supports_projection_pushdown(tf, true);
    int rc = duckdb_register_table_function(con, tf) == DuckDBSuccess ? EIDER_OK : EIDER_EDUCKDB;
    duckdb_destroy_table_function(&tf);
    duckdb_destroy_logical_type(&u64);
    duckdb_disconnect(&con);
    if (!rc)
        duckdb_add_replacement_scan(db, replace_fn, NULL, NULL);
    return rc;
}

void eider__frame_scan_sql(const eider_frame *f, eider__buf *sql)
{
    eider__buf_printf(sql, "SELECT * FROM " EIDER__SCAN_FUNCTION "(%llu::UBIGINT)",
                      (unsigned long long)(uintptr_t)f);
}

/* ---- results into frames ------------------------------------------------------- */

/* The frame type a DuckDB column becomes, or -1 when frames cannot hold it. */
static int frame_type(duckdb_logical_type t, int *width, int *scale)
{
    switch (duckdb_get_type_id(t)) {
    case DUCKDB_TYPE_BOOLEAN: return EIDER_TYPE_BOOLEAN;
    case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT: return EIDER_TYPE_INTEGER;
    case DUCKDB_TYPE_BIGINT: case DUCKDB_TYPE_UINTEGER: case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT: return EIDER_TYPE_BIGINT;
    case DUCKDB_TYPE_FLOAT: case DUCKDB_TYPE_DOUBLE: return EIDER_TYPE_DOUBLE;
    case DUCKDB_TYPE_DECIMAL:
        *width = duckdb_decimal_width(t);
        *scale = duckdb_decimal_scale(t);
        return *width <= 18 ? EIDER_TYPE_DECIMAL : EIDER_TYPE_DOUBLE;
    case DUCKDB_TYPE_VARCHAR: return EIDER_TYPE_VARCHAR;
    case DUCKDB_TYPE_DATE: return EIDER_TYPE_DATE;
    case DUCKDB_TYPE_TIMESTAMP: case DUCKDB_TYPE_TIMESTAMP_S: case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS: return EIDER_TYPE_TIMESTAMP;
    case DUCKDB_TYPE_TIMESTAMP_TZ: return EIDER_TYPE_TIMESTAMP_TZ;
    default: return -1;
    }
}

/* Copy the validity of n rows of vec into c at row `at`. */
static void copy_validity(eider__column *c, size_t at, size_t n, duckdb_vector vec)
{
    uint64_t *v = duckdb_vector_get_validity(vec);
    if (!v)
        return;
    if (at % 64 == 0 && c->valid) {
        memcpy(c->valid + at / 64, v, (n + 63) / 64 * 8);
        /* Bits past n in the last word are the vector's, not ours: mark those rows
         * valid again, as the next chunk only clears the bits of its NULLs. */
        if (n % 64)
            c->valid[(at + n) / 64] |= ~UINT64_C(0) << (n % 64);
        return;
    }
    for (size_t r = 0; r < n; r++)
        if (!duckdb_validity_row_is_valid(v, r))
            eider__column_set_null(c, at + r);
}

/* A value that does not fit the column: report it. */
static int overflow(const eider__column *c)
{
    eider__frame_fail("column '%s': a value does not fit in BIGINT: cast it in SQL (to DOUBLE "
                      "or VARCHAR) to load it into a frame", c->name);
    return EIDER_EINVAL;
}

/* Widen or narrow n values of DuckDB type id from src into c's data at row `at`. */
static int convert_values(eider__column *c, size_t at, size_t n, duckdb_type id,
                          const void *src, uint64_t *valid, duckdb_logical_type t)
{
    int64_t *o64 = (int64_t *)c->data + at;
    int32_t *o32 = (int32_t *)c->data + at;
    double *od = (double *)c->data + at;
    for (size_t r = 0; r < n; r++) {
        if (valid && !duckdb_validity_row_is_valid(valid, r))
            continue;
        switch (id) {
        case DUCKDB_TYPE_TINYINT: o32[r] = ((const int8_t *)src)[r]; break;
        case DUCKDB_TYPE_SMALLINT: o32[r] = ((const int16_t *)src)[r]; break;
        case DUCKDB_TYPE_UTINYINT: o32[r] = ((const uint8_t *)src)[r]; break;
        case DUCKDB_TYPE_USMALLINT: o32[r] = ((const uint16_t *)src)[r]; break;
        case DUCKDB_TYPE_UINTEGER: o64[r] = ((const uint32_t *)src)[r]; break;
        case DUCKDB_TYPE_FLOAT: od[r] = ((const float *)src)[r]; break;
        case DUCKDB_TYPE_TIMESTAMP_S: o64[r] = ((const int64_t *)src)[r] * 1000000; break;
        case DUCKDB_TYPE_TIMESTAMP_MS: o64[r] = ((const int64_t *)src)[r] * 1000; break;
        case DUCKDB_TYPE_TIMESTAMP_NS: o64[r] = ((const int64_t *)src)[r] / 1000; break;
        case DUCKDB_TYPE_UBIGINT: {
            uint64_t u = ((const uint64_t *)src)[r];
            if (u > INT64_MAX)
                return overflow(c);
            o64[r] = (int64_t)u;
            break;
        }
        case DUCKDB_TYPE_HUGEINT: {
            duckdb_hugeint h = ((const duckdb_hugeint *)src)[r];
            if (!((h.upper == 0 && h.lower <= INT64_MAX) || (h.upper == -1 && h.lower > INT64_MAX)))
                return overflow(c);
            o64[r] = (int64_t)h.lower;
            break;
        }
        case DUCKDB_TYPE_DECIMAL: {
            duckdb_type it = duckdb_decimal_internal_type(t);
            int scale = duckdb_decimal_scale(t);
            if (c->type == EIDER_TYPE_DOUBLE) {
                duckdb_hugeint h = ((const duckdb_hugeint *)src)[r];
                od[r] = duckdb_hugeint_to_double(h) / pow(10, scale);
            } else if (it == DUCKDB_TYPE_SMALLINT) {
                o64[r] = ((const int16_t *)src)[r];
            } else if (it == DUCKDB_TYPE_INTEGER) {
                o64[r] = ((const int32_t *)src)[r];
            } else {
                o64[r] = ((const int64_t *)src)[r];
            }
            break;
        }
        default: break;
        }
    }
    return EIDER_OK;
}

/* Append the n rows of vec to c at row `at`. */
static int append_vector(eider__column *c, size_t at, size_t n, duckdb_vector vec,
                         duckdb_logical_type t)
{
    duckdb_type id = duckdb_get_type_id(t);
    void *src = duckdb_vector_get_data(vec);
    uint64_t *valid = duckdb_vector_get_validity(vec);
    copy_validity(c, at, n, vec);
    if (c->type == EIDER_TYPE_VARCHAR) {
        duckdb_string_t *s = src;
        for (size_t r = 0; r < n; r++) {
            int ok = !valid || duckdb_validity_row_is_valid(valid, r);
            eider__column_push_text(c, at + r, ok ? duckdb_string_t_data(&s[r]) : "",
                                    ok ? duckdb_string_t_length(s[r]) : 0);
        }
        return EIDER_OK;
    }
    int same = id == DUCKDB_TYPE_BOOLEAN || id == DUCKDB_TYPE_INTEGER || id == DUCKDB_TYPE_BIGINT ||
               id == DUCKDB_TYPE_DOUBLE || id == DUCKDB_TYPE_DATE || id == DUCKDB_TYPE_TIMESTAMP ||
               id == DUCKDB_TYPE_TIMESTAMP_TZ ||
               (id == DUCKDB_TYPE_DECIMAL && duckdb_decimal_internal_type(t) == DUCKDB_TYPE_BIGINT);
    if (same) {
        size_t size = eider__type_size(c->type);
        memcpy((char *)c->data + at * size, src, n * size);
        return EIDER_OK;
    }
    return convert_values(c, at, n, id, src, valid, t);
}

/* The SQL name of a DuckDB type frames do not hold, for the error that names it. */
static const char *unheld_type_name(duckdb_type id)
{
    switch (id) {
    case DUCKDB_TYPE_TIME: return "TIME";
    case DUCKDB_TYPE_TIME_TZ: return "TIME WITH TIME ZONE";
    case DUCKDB_TYPE_TIME_NS: return "TIME_NS";
    case DUCKDB_TYPE_INTERVAL: return "INTERVAL";
    case DUCKDB_TYPE_UHUGEINT: return "UHUGEINT";
    case DUCKDB_TYPE_BLOB: return "BLOB";
    case DUCKDB_TYPE_ENUM: return "ENUM";
    case DUCKDB_TYPE_LIST: return "LIST";
    case DUCKDB_TYPE_STRUCT: return "STRUCT";
    case DUCKDB_TYPE_MAP: return "MAP";
    case DUCKDB_TYPE_ARRAY: return "ARRAY";
    case DUCKDB_TYPE_UUID: return "UUID";
    case DUCKDB_TYPE_UNION: return "UNION";
    case DUCKDB_TYPE_BIT: return "BIT";
    case DUCKDB_TYPE_BIGNUM: return "BIGNUM";
    default: return "this";
    }
}

/* A frame with the result's columns and no rows; NULL when a type does not fit. */
static eider_frame *frame_for(duckdb_result *res, duckdb_logical_type *types, idx_t n)
{
    eider_frame *f = eider_frame_new();
    for (idx_t i = 0; i < n; i++) {
        int width = 0, scale = 0, type = frame_type(types[i], &width, &scale);
        const char *name = duckdb_column_name(res, i);
        int rc = type < 0 ? EIDER_EINVAL
               : type == EIDER_TYPE_DECIMAL ? eider_frame_add_decimal_column(f, name, width, scale)
               : eider_frame_add_column(f, name, (eider_type)type);
        if (type < 0)
            eider__frame_fail("column '%s' has type %s, which frames do not hold (DuckDB type id "
                              "%d): cast it in SQL to VARCHAR or a numeric type to load it into "
                              "a frame", name, unheld_type_name(duckdb_get_type_id(types[i])),
                              (int)duckdb_get_type_id(types[i]));
        if (rc < 0) {
            eider_frame_free(f);
            return NULL;
        }
    }
    return f;
}

/* Append the rest of res to f (made for res's columns); frees f and returns NULL when
 * a value does not fit. */
static eider_frame *append_result(eider_frame *f, duckdb_result *res, duckdb_logical_type *types,
                                  idx_t n)
{
    duckdb_data_chunk chunk = NULL;
    while (f && (chunk = duckdb_fetch_chunk(*res))) {
        size_t rows = duckdb_data_chunk_get_size(chunk);
        eider__frame_reserve(f, rows);
        for (idx_t i = 0; i < n && f; i++)
            if (append_vector(&f->cols[i], f->n_rows, rows, duckdb_data_chunk_get_vector(chunk, i),
                              types[i])) {
                eider_frame_free(f);
                f = NULL;
            }
        if (f)
            f->n_rows += rows;
        duckdb_destroy_data_chunk(&chunk);
    }
    return f;
}

/* Read the results of queries (the slices of one table: same columns) into f, or into
 * a new frame when f is NULL. */
static eider_frame *read_results(eider_frame *f, duckdb_result *res)
{
    idx_t n = duckdb_column_count(res);
    duckdb_logical_type *types = eider__xcalloc(n + 1, sizeof(*types));
    for (idx_t i = 0; i < n; i++)
        types[i] = duckdb_column_logical_type(res, i);
    if (!f)
        f = frame_for(res, types, n);
    f = append_result(f, res, types, n);
    for (idx_t i = 0; i < n; i++)
        duckdb_destroy_logical_type(&types[i]);
    free(types);
    return f;
}

eider_frame *eider__frame_query_slices(duckdb_connection con, const char *const *sqls, size_t n)
{
    eider_frame *f = NULL;
    for (size_t i = 0; i < n; i++) {
        duckdb_result res;
        if (duckdb_query(con, sqls[i], &res) == DuckDBError) {
            eider__frame_fail("%s", duckdb_result_error(&res));
            eider_frame_free(f);
            f = NULL;
        } else {
            f = read_results(f, &res);
        }
        duckdb_destroy_result(&res);
        if (!f)
            return NULL;
    }
    return f;
}

/* ---- frame functions over SQL -------------------------------------------------- */

static duckdb_database scratch;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_open(void)
{
    if (duckdb_open(NULL, &scratch) == DuckDBError || eider__frame_scan_install(scratch)) {
        if (scratch)
            duckdb_close(&scratch);
        scratch = NULL;
    }
}

duckdb_connection eider__scratch_connect(void)
{
    duckdb_connection con = NULL;
    pthread_once(&scratch_once, scratch_open);
    if (!scratch || duckdb_connect(scratch, &con) == DuckDBError)
        return eider__frame_fail("cannot open DuckDB's in-memory database for frame SQL");
    return con;
}

eider_frame *eider__frame_query(duckdb_connection con, const char *sql)
{
    return eider__frame_query_slices(con, &sql, 1);
}

eider_frame *eider_frame_sql(const eider_frame_ref *frames, const char *sql)
{
    eider__frame_scope scope = { 0 };
    duckdb_connection con = NULL;
    eider_frame *f = NULL;
    if (!sql)
        return eider__frame_fail("eider_frame_sql() was given no SQL");
    for (size_t i = 0; frames && frames[i].name; i++) {
        if (!frames[i].frame) {
            eider__frame_fail("eider_frame_sql(): frame '%s' is NULL (an earlier frame call "
                              "failed?)", frames[i].name);
            goto out;
        }
        eider__scope_add(&scope, frames[i].name, frames[i].frame);
    }
    if (!(con = eider__scratch_connect()))
        goto out;
    eider__scope_push(&scope);
    /* The scratch database is shared by every call: roll back what sql changes, or a
     * table it creates would hide a frame of that name from every later call. */
    duckdb_query(con, "BEGIN TRANSACTION", NULL);
    f = eider__frame_query(con, sql);
    duckdb_query(con, "ROLLBACK", NULL);
out:
    eider__scope_release(&scope);
    duckdb_disconnect(&con);
    return f;
}

/* Run `SELECT <what> FROM frame <tail>` over one frame. */
static eider_frame *query_one(const eider_frame *frame, const char *what, const char *tail)
{
    eider__buf sql = { 0 };
    if (!frame)
        return eider__frame_fail("no frame (a NULL): an earlier frame call failed?");
    eider__buf_printf(&sql, "SELECT %s FROM __eider_frame %s", what, tail);
    eider_frame *f = eider_frame_sql(EIDER_FRAMES({ "__eider_frame", frame }), eider__buf_str(&sql));
    eider__buf_release(&sql);
    return f;
}

eider_frame *eider_frame_filter_eq(const eider_frame *frame, const char *column, const char *value)
{
    eider__buf tail = { 0 };
    if (!frame)     /* before quoting column, which may be NULL too */
        return eider__frame_fail("eider_frame_filter_eq(): no frame (a NULL): an earlier frame "
                                 "call failed?");
    if (eider_frame_column_index(frame, column) < 0)
        return eider__frame_fail("eider_frame_filter_eq(): the frame has no column '%s'",
                                 column ? column : "(null)");
    eider__buf_puts(&tail, "WHERE ");
    eider__buf_sql_ident(&tail, column);
    if (value) {
        eider__buf_puts(&tail, " = ");
        eider__buf_sql_literal(&tail, value);
    } else {
        eider__buf_puts(&tail, " IS NULL");
    }
    eider_frame *f = query_one(frame, "*", eider__buf_str(&tail));
    eider__buf_release(&tail);
    return f;
}

eider_frame *eider_frame_filter(const eider_frame *frame, const char *condition)
{
    eider__buf tail = { 0 };
    eider__buf_printf(&tail, "WHERE (%s)", condition ? condition : "true");
    eider_frame *f = query_one(frame, "*", eider__buf_str(&tail));
    eider__buf_release(&tail);
    return f;
}

eider_frame *eider_frame_select(const eider_frame *frame, const char *const *columns)
{
    eider__buf what = { 0 };
    for (size_t i = 0; columns && columns[i]; i++) {
        if (frame && eider_frame_column_index(frame, columns[i]) < 0) {
            eider__buf_release(&what);
            return eider__frame_fail("eider_frame_select(): the frame has no column '%s'", columns[i]);
        }
        if (i)
            eider__buf_puts(&what, ", ");
        eider__buf_sql_ident(&what, columns[i]);
    }
    eider_frame *f = query_one(frame, what.len ? eider__buf_str(&what) : "*", "");
    eider__buf_release(&what);
    return f;
}

/* read_csv's options, from ours. */
static int csv_options(const eider_csv_options *o, eider__buf *sql)
{
    size_t nc = 0, nt = 0;
    while (o->columns && o->columns[nc])
        nc++;
    while (o->types && o->types[nt])
        nt++;
    if (nt && nt != nc) {
        eider__frame_fail("eider_frame_read_csv(): %zu types for %zu columns: give a type for "
                          "each column name, or no types", nt, nc);
        return EIDER_EINVAL;
    }
    if (o->header)
        eider__buf_printf(sql, ", header = %s", o->header > 0 ? "true" : "false");
    if (o->delimiter) {
        eider__buf_puts(sql, ", delim = ");
        eider__buf_sql_literal(sql, o->delimiter);
    }
    if (nc)
        eider__buf_puts(sql, nt ? ", columns = {" : ", names = [");
    for (size_t i = 0; i < nc; i++) {
        eider__buf_puts(sql, i ? ", " : "");
        eider__buf_sql_literal(sql, o->columns[i]);
        if (nt) {
            eider__buf_puts(sql, ": ");
            eider__buf_sql_literal(sql, o->types[i]);
        }
    }
    if (nc)
        eider__buf_puts(sql, nt ? "}" : "]");
    return EIDER_OK;
}

eider_frame *eider_frame_read_csv(const char *path, const eider_csv_options *options)
{
    eider__buf sql = { 0 };
    eider_frame *f = NULL;
    if (!path)
        return eider__frame_fail("eider_frame_read_csv() was given no path");
    eider__buf_puts(&sql, "SELECT * FROM read_csv(");
    eider__buf_sql_literal(&sql, path);
    if (!options || csv_options(options, &sql) == EIDER_OK) {
        eider__buf_puts(&sql, ")");
        f = eider_frame_sql(NULL, eider__buf_str(&sql));
    }
    eider__buf_release(&sql);
    if (!f && strstr(eider_frame_error(), "No files found"))
        eider__frame_fail("cannot read CSV file '%s': no such file", path);
    return f;
}
