/*
 * bench_io.c — the I/O manager against raw DuckDB on the same data in the same run:
 * storing a frame (in order, and unordered in parallel), loading a table into a frame,
 * an SQL asset (a table copied inside DuckDB, and a view), the peak memory of a store
 * and of a load, and one database handle for a file named two ways.
 *
 * The data, N rows of (id BIGINT, x DOUBLE, a VARCHAR, b VARCHAR), is made once as C
 * arrays. The raw programs read those arrays through DuckDB's C API; Eider gets a
 * frame built from them outside the clock (one per store, since the I/O manager takes
 * it). Every store writes a fresh database file; loads read one stored beforehand.
 * Each case is repeated (3 times by default, the cases that write every row twice; the
 * cases interleaved) and the median printed. Peak memory is measured once per case,
 * each in a forked child.
 *
 *   bench_io [--rows N] [--repeat R] [--slow-repeat S] [--only CASE]
 *
 * --slow-repeat sets the repetitions of the six cases that write every row (the stores
 * and the CTAS, seconds each at 10 million rows; default 2). --only runs one case R
 * times and prints its times (for profiling it alone); CASE is a name from the list
 * `bench_io --only help` prints, or "memory".
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <eider.h>

#include "bench_util.h"

#define MB (1024.0 * 1024.0)

/* ---- the data ------------------------------------------------------------------- */

typedef struct dataset {
    size_t n;
    int64_t *id;
    double *x;
    const char **a, **b;             /* NUL-terminated, into text */
    uint32_t *a_len, *b_len;
    char *text;
    size_t frame_bytes;              /* a frame of these rows: its column buffers */
} dataset;

/* splitmix64's finalizer: well-mixed bits from a row number. */
static uint64_t mix(uint64_t v)
{
    v ^= v >> 30;
    v *= UINT64_C(0xbf58476d1ce4e5b9);
    v ^= v >> 27;
    v *= UINT64_C(0x94d049bb133111eb);
    return v ^ (v >> 31);
}

/* Row i's b: "b-" and i's digits, zero-padded to 8 to 20 characters, at p; returns
 * its length. */
static uint32_t make_b(size_t i, char *p)
{
    int len = 8 + (int)(mix(i) % 13);
    int n = snprintf(p, 21, "b-%0*zu", len - 2, i);
    return (uint32_t)(n < 20 ? n : 20);
}

/* id = i, x a pseudo-random price (0.00 to 999.99), a = 'k' || (i % 1000), b = 'b-' and
 * i's digits, 8 to 20 characters. */
static void dataset_init(dataset *d, size_t n)
{
    memset(d, 0, sizeof(*d));
    d->n = n;
    d->id = bench_xmalloc(n * sizeof(*d->id));
    d->x = bench_xmalloc(n * sizeof(*d->x));
    d->a = bench_xmalloc(n * sizeof(*d->a));
    d->b = bench_xmalloc(n * sizeof(*d->b));
    d->a_len = bench_xmalloc(n * sizeof(*d->a_len));
    d->b_len = bench_xmalloc(n * sizeof(*d->b_len));
    d->text = bench_xmalloc(n * (5 + 21) + 1);   /* "k999" and 20 characters, NULs */
    char *p = d->text;
    for (size_t i = 0; i < n; i++) {
        d->id[i] = (int64_t)i;
        d->x[i] = (double)(mix(i) % 100000) / 100.0;
        d->a[i] = p;
        d->a_len[i] = (uint32_t)snprintf(p, 5, "k%zu", i % 1000);
        p += d->a_len[i] + 1;
        d->b[i] = p;
        d->b_len[i] = make_b(i, p);
        p += d->b_len[i] + 1;
    }
    /* id and x 8 bytes a row; a and b 8 bytes of offset a row (and one more), their
     * text and its NULs */
    d->frame_bytes = 4 * 8 * n + 2 * 8 + (size_t)(p - d->text);
}

static void dataset_release(dataset *d)
{
    free(d->id);
    free(d->x);
    free(d->a);
    free(d->b);
    free(d->a_len);
    free(d->b_len);
    free(d->text);
    memset(d, 0, sizeof(*d));
}

/* A frame of the data, built by whole columns (copied). */
static eider_frame *dataset_frame(const dataset *d)
{
    eider_frame *f = eider_frame_new();
    if (eider_frame_add_column_data(f, "id", EIDER_TYPE_BIGINT, d->id, NULL, d->n) < 0 ||
        eider_frame_add_column_data(f, "x", EIDER_TYPE_DOUBLE, d->x, NULL, d->n) < 0 ||
        eider_frame_add_column_data(f, "a", EIDER_TYPE_VARCHAR, d->a, NULL, d->n) < 0 ||
        eider_frame_add_column_data(f, "b", EIDER_TYPE_VARCHAR, d->b, NULL, d->n) < 0)
        bench_die("building the frame: %s", eider_frame_error());
    return f;
}

/* ---- raw DuckDB ------------------------------------------------------------------ */

#define COLUMNS "(id BIGINT, x DOUBLE, a VARCHAR, b VARCHAR)"

static void raw_exec(duckdb_connection con, const char *sql)
{
    duckdb_result res;
    if (duckdb_query(con, sql, &res) == DuckDBError)
        bench_die("raw: %s: %s", sql, duckdb_result_error(&res));
    duckdb_destroy_result(&res);
}

static void raw_open(const char *path, duckdb_database *db, duckdb_connection *con)
{
    if (duckdb_open(path, db) == DuckDBError)
        bench_die("raw: cannot open '%s'", path);
    if (duckdb_connect(*db, con) == DuckDBError)
        bench_die("raw: cannot connect to '%s'", path);
}

static void raw_close(duckdb_database *db, duckdb_connection *con)
{
    duckdb_disconnect(con);
    duckdb_close(db);
}

/* Rows [start, start + n) of d into the four vectors of chunk. */
static void fill_chunk(const dataset *d, size_t start, size_t n, duckdb_data_chunk chunk)
{
    duckdb_vector va = duckdb_data_chunk_get_vector(chunk, 2);
    duckdb_vector vb = duckdb_data_chunk_get_vector(chunk, 3);
    memcpy(duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 0)), d->id + start,
           n * sizeof(*d->id));
    memcpy(duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 1)), d->x + start,
           n * sizeof(*d->x));
    for (size_t r = 0; r < n; r++) {
        duckdb_vector_assign_string_element_len(va, r, d->a[start + r], d->a_len[start + r]);
        duckdb_vector_assign_string_element_len(vb, r, d->b[start + r], d->b_len[start + r]);
    }
    duckdb_data_chunk_set_size(chunk, n);
}

static void appender_die(duckdb_appender app)
{
    duckdb_error_data e = duckdb_appender_error_data(app);
    bench_die("raw appender: %s", duckdb_error_data_message(e));
}

/* The appender fed with data chunks of duckdb_vector_size() rows: open a fresh file,
 * create public.<table>, append every row, close. */
static void raw_append(const dataset *d, const char *path, const char *table)
{
    duckdb_database db = NULL;
    duckdb_connection con = NULL;
    duckdb_appender app = NULL;
    duckdb_logical_type types[4] = {
        duckdb_create_logical_type(DUCKDB_TYPE_BIGINT), duckdb_create_logical_type(DUCKDB_TYPE_DOUBLE),
        duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR), duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR),
    };
    duckdb_data_chunk chunk = duckdb_create_data_chunk(types, 4);
    char *create = bench_strf("CREATE SCHEMA IF NOT EXISTS public; CREATE TABLE public.%s " COLUMNS,
                              table);
    size_t vs = duckdb_vector_size();
    raw_open(path, &db, &con);
    raw_exec(con, create);
    if (duckdb_appender_create(con, "public", table, &app) == DuckDBError)
        appender_die(app);
    for (size_t start = 0; start < d->n; start += vs) {
        fill_chunk(d, start, d->n - start < vs ? d->n - start : vs, chunk);
        if (duckdb_append_data_chunk(app, chunk) == DuckDBError)
            appender_die(app);
        duckdb_data_chunk_reset(chunk);
    }
    if (duckdb_appender_close(app) == DuckDBError)
        appender_die(app);
    duckdb_appender_destroy(&app);
    duckdb_destroy_data_chunk(&chunk);
    for (int i = 0; i < 4; i++)
        duckdb_destroy_logical_type(&types[i]);
    raw_close(&db, &con);
    free(create);
}

/* A C table function over the arrays, bench_arrays(): every thread claims the next
 * vector of rows from an atomic cursor in the global state. */
typedef struct arrays_scan {
    atomic_size_t next;
} arrays_scan;

static void arrays_bind(duckdb_bind_info info)
{
    static const char *const names[] = { "id", "x", "a", "b" };
    static const duckdb_type ids[] = { DUCKDB_TYPE_BIGINT, DUCKDB_TYPE_DOUBLE,
                                       DUCKDB_TYPE_VARCHAR, DUCKDB_TYPE_VARCHAR };
    const dataset *d = duckdb_bind_get_extra_info(info);
    for (int i = 0; i < 4; i++) {
        duckdb_logical_type t = duckdb_create_logical_type(ids[i]);
        duckdb_bind_add_result_column(info, names[i], t);
        duckdb_destroy_logical_type(&t);
    }
    duckdb_bind_set_cardinality(info, d->n, true);
}

static void arrays_init(duckdb_init_info info)
{
    const dataset *d = duckdb_init_get_extra_info(info);
    arrays_scan *s = bench_xmalloc(sizeof(*s));
    atomic_init(&s->next, 0);
    duckdb_init_set_max_threads(info, d->n / duckdb_vector_size() + 1);
    duckdb_init_set_init_data(info, s, free);
}

static void arrays_fn(duckdb_function_info info, duckdb_data_chunk out)
{
    const dataset *d = duckdb_function_get_extra_info(info);
    arrays_scan *s = duckdb_function_get_init_data(info);
    size_t vs = duckdb_vector_size();
    size_t start = atomic_fetch_add(&s->next, vs);
    if (start >= d->n)
        duckdb_data_chunk_set_size(out, 0);
    else
        fill_chunk(d, start, d->n - start < vs ? d->n - start : vs, out);
}

static void register_arrays(duckdb_connection con, const dataset *d)
{
    duckdb_table_function tf = duckdb_create_table_function();
    duckdb_table_function_set_name(tf, "bench_arrays");
    duckdb_table_function_set_extra_info(tf, (void *)d, NULL);
    duckdb_table_function_set_bind(tf, arrays_bind);
    duckdb_table_function_set_init(tf, arrays_init);
    duckdb_table_function_set_function(tf, arrays_fn);
    if (duckdb_register_table_function(con, tf) == DuckDBError)
        bench_die("raw: cannot register bench_arrays()");
    duckdb_destroy_table_function(&tf);
}

/* The fastest raw store: a parallel INSERT ... SELECT from the table function, order
 * not kept. */
static void raw_parallel_insert(const dataset *d, const char *path)
{
    duckdb_database db = NULL;
    duckdb_connection con = NULL;
    raw_open(path, &db, &con);
    register_arrays(con, d);
    raw_exec(con, "SET preserve_insertion_order = false; CREATE SCHEMA IF NOT EXISTS public; "
                  "CREATE TABLE public.t " COLUMNS "; "
                  "INSERT INTO public.t SELECT * FROM bench_arrays()");
    raw_close(&db, &con);
}

/* A loaded table in C arrays, as a frame holds it: fixed-width values back to back,
 * text back to back with NULs behind offsets. */
typedef struct text_column {
    int64_t *off;
    char *text;
    size_t len, cap;
} text_column;

typedef struct loaded {
    size_t n, cap;
    int64_t *id;
    double *x;
    text_column a, b;
} loaded;

static void loaded_reserve(loaded *l, size_t rows)
{
    if (l->n + rows <= l->cap)
        return;
    size_t cap = l->cap ? l->cap : 64;
    while (cap < l->n + rows)
        cap *= 2;
    l->id = realloc(l->id, cap * sizeof(*l->id));
    l->x = realloc(l->x, cap * sizeof(*l->x));
    l->a.off = realloc(l->a.off, (cap + 1) * sizeof(*l->a.off));
    l->b.off = realloc(l->b.off, (cap + 1) * sizeof(*l->b.off));
    if (!l->id || !l->x || !l->a.off || !l->b.off)
        bench_die("out of memory");
    l->cap = cap;
}

static void loaded_release(loaded *l)
{
    free(l->id);
    free(l->x);
    free(l->a.off);
    free(l->a.text);
    free(l->b.off);
    free(l->b.text);
    memset(l, 0, sizeof(*l));
}

/* The data has no NULLs; a frame looks at the validity too, so this does. */
static void check_valid(duckdb_vector v, size_t n)
{
    uint64_t *valid = duckdb_vector_get_validity(v);
    for (size_t r = 0; valid && r < n; r++)
        if (!duckdb_validity_row_is_valid(valid, r))
            bench_die("raw load: an unexpected NULL");
}

static void copy_fixed(void *to, duckdb_vector v, size_t n, size_t size)
{
    check_valid(v, n);
    memcpy(to, duckdb_vector_get_data(v), n * size);
}

/* Append n strings of v to c, from row `at`. */
static void copy_text(text_column *c, size_t at, duckdb_vector v, size_t n)
{
    duckdb_string_t *s = duckdb_vector_get_data(v);
    check_valid(v, n);
    for (size_t r = 0; r < n; r++) {
        uint32_t len = duckdb_string_t_length(s[r]);
        if (c->len + len + 1 > c->cap) {
            size_t cap = c->cap ? c->cap : 256;
            while (cap < c->len + len + 1)
                cap *= 2;
            if (!(c->text = realloc(c->text, cap)))
                bench_die("out of memory");
            c->cap = cap;
        }
        c->off[at + r] = (int64_t)c->len;
        memcpy(c->text + c->len, duckdb_string_t_data(&s[r]), len);
        c->text[c->len + len] = '\0';
        c->len += len + 1;
    }
    c->off[at + n] = (int64_t)c->len;
}

/* SELECT * FROM public.src into C arrays: open, query, copy every chunk, free, close. */
static void raw_load(const dataset *d, const char *path)
{
    duckdb_database db = NULL;
    duckdb_connection con = NULL;
    duckdb_result res;
    duckdb_data_chunk chunk;
    loaded l = { 0 };
    raw_open(path, &db, &con);
    if (duckdb_query(con, "SELECT * FROM public.src", &res) == DuckDBError)
        bench_die("raw load: %s", duckdb_result_error(&res));
    while ((chunk = duckdb_fetch_chunk(res))) {
        size_t n = duckdb_data_chunk_get_size(chunk);
        loaded_reserve(&l, n);
        copy_fixed(l.id + l.n, duckdb_data_chunk_get_vector(chunk, 0), n, sizeof(*l.id));
        copy_fixed(l.x + l.n, duckdb_data_chunk_get_vector(chunk, 1), n, sizeof(*l.x));
        copy_text(&l.a, l.n, duckdb_data_chunk_get_vector(chunk, 2), n);
        copy_text(&l.b, l.n, duckdb_data_chunk_get_vector(chunk, 3), n);
        l.n += n;
        duckdb_destroy_data_chunk(&chunk);
    }
    duckdb_destroy_result(&res);
    if (l.n != d->n)
        bench_die("raw load: %zu rows, expected %zu", l.n, d->n);
    loaded_release(&l);
    raw_close(&db, &con);
}

static void raw_statements(const char *path, const char *sql)
{
    duckdb_database db = NULL;
    duckdb_connection con = NULL;
    raw_open(path, &db, &con);
    raw_exec(con, sql);
    raw_close(&db, &con);
}

/* The rows of SELECT * FROM table, counted by fetching them. */
static size_t raw_count(duckdb_connection con, const char *table)
{
    char *sql = bench_strf("SELECT * FROM %s", table);
    duckdb_result res;
    duckdb_data_chunk chunk;
    size_t n = 0;
    if (duckdb_query(con, sql, &res) == DuckDBError)
        bench_die("raw: %s: %s", sql, duckdb_result_error(&res));
    while ((chunk = duckdb_fetch_chunk(res))) {
        n += duckdb_data_chunk_get_size(chunk);
        duckdb_destroy_data_chunk(&chunk);
    }
    duckdb_destroy_result(&res);
    free(sql);
    return n;
}

/* ---- Eider ---------------------------------------------------------------------- */

/* Materialize the selection and free defs. NULL on success, else a malloc'd message. */
static char *run_eider(eider_defs *defs, const char *selection)
{
    eider_result *result = NULL;
    char *err = NULL;
    int rc = eider_materialize(defs, &(eider_run_options){ .selection = selection }, &result);
    if (rc) {
        size_t i = 0, n = result ? eider_result_count(result) : 0;
        while (i < n && eider_result_status(result, i) == EIDER_STEP_SUCCESS)
            i++;
        err = bench_strf("%s: %s", eider_strerror(rc),
                         i < n && eider_result_error(result, i) ? eider_result_error(result, i)
                                                                : eider_defs_errmsg(defs));
    }
    eider_result_free(result);
    eider_defs_free(defs);
    return err;
}

static void run_eider_or_die(eider_defs *defs, const char *selection, const char *what)
{
    char *err = run_eider(defs, selection);
    if (err)
        bench_die("eider %s: %s", what, err);
}

static eider_defs *defs_with_io(const char *path)
{
    eider_defs *defs = eider_defs_new();
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = path });
    return defs;
}

/* Give the frame the benchmark built beforehand; the I/O manager takes it. */
static int output_prepared_frame(eider_context *ctx)
{
    eider_frame **slot = eider_user_data(ctx);
    eider_frame *f = *slot;
    *slot = NULL;
    return eider_output_frame(ctx, f);
}

static int never_runs(eider_context *ctx)
{
    return eider_fail(ctx, "the benchmark selects only the downstream asset");
}

/* Load "src" as a frame; give no output. */
static int load_src(eider_context *ctx)
{
    const size_t *want = eider_user_data(ctx);
    const eider_frame *f = eider_input_frame(ctx, "src");
    if (!f)
        return EIDER_ESTEP;
    if (eider_frame_rows(f) != *want)
        return eider_fail(ctx, "loaded %zu rows, expected %zu", eider_frame_rows(f), *want);
    return EIDER_OK;
}

static int output_sql(eider_context *ctx)
{
    return eider_output_sql(ctx, eider_user_data(ctx));
}

/* One-handle check: run user_data's SQL on the DuckDB resource. */
static int resource_sql(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"), eider_user_data(ctx));
}

/* One-handle check: load "made" through the I/O manager; user_data holds its rows. */
static int expect_made(eider_context *ctx)
{
    const size_t *want = eider_user_data(ctx);
    const eider_frame *f = eider_input_frame(ctx, "made");
    if (!f)
        return EIDER_ESTEP;
    if (eider_frame_rows(f) != *want)
        return eider_fail(ctx, "the I/O manager sees %zu rows of public.made, the resource wrote "
                          "%zu: two handles on one file", eider_frame_rows(f), *want);
    return EIDER_OK;
}

/* ---- the cases -------------------------------------------------------------------- */

typedef struct bench {
    dataset data;
    char *dir;                       /* scratch folder */
    char *src;                       /* a database holding public.src: the data, stored once */
    char *views;                     /* a copy of it, where the view cases replace a view */
    char *hdir;                      /* the one-handle case's folder (with sub/) */
    char *cwd;                       /* the working directory to come back to */
    eider_frame *frame;              /* the next Eider store's frame, built outside the clock */
} bench;

enum {
    STORE_RAW, STORE, PARALLEL_RAW, UNORDERED, LOAD_RAW, LOAD, CTAS_RAW, SQL, VIEW_RAW, VIEW,
    ONCE_RAW, ONCE, TWICE_RAW, N_CASES
};

static const char *const case_names[N_CASES] = {
    [STORE_RAW] = "store-raw", [STORE] = "store", [PARALLEL_RAW] = "parallel-raw",
    [UNORDERED] = "unordered", [LOAD_RAW] = "load-raw", [LOAD] = "load",
    [CTAS_RAW] = "ctas-raw", [SQL] = "sql", [VIEW_RAW] = "view-raw", [VIEW] = "view",
    [ONCE_RAW] = "once-raw", [ONCE] = "once", [TWICE_RAW] = "twice-raw",
};

static void run_store(bench *b, const char *path, int unordered)
{
    eider_defs *defs = defs_with_io(path);
    eider_asset(defs, &(eider_asset_def){
        .key = "t", .compute = output_prepared_frame, .user_data = &b->frame,
        .metadata = unordered ? EIDER_METADATA(EIDER_META_TEXT("write_order", "any")) : NULL });
    run_eider_or_die(defs, NULL, unordered ? "store (unordered)" : "store");
}

static void run_load(bench *b, const char *path)
{
    eider_defs *defs = defs_with_io(path);
    eider_asset(defs, &(eider_asset_def){ .key = "src", .compute = never_runs });
    eider_asset(defs, &(eider_asset_def){ .key = "load", .compute = load_src, .output = EIDER_OUTPUT_NONE,
                                          .deps = EIDER_KEYS("src"), .user_data = &b->data.n });
    run_eider_or_die(defs, "load", "load");
}

static void run_sql_asset(const char *path, int view)
{
    eider_defs *defs = defs_with_io(path);
    eider_asset(defs, &(eider_asset_def){ .key = "src", .compute = never_runs });
    eider_asset(defs, &(eider_asset_def){
        .key = view ? "v" : "copy", .compute = output_sql, .deps = EIDER_KEYS("src"),
        .user_data = "SELECT * FROM {src}",
        .metadata = view ? EIDER_METADATA(EIDER_META_TEXT("materialized", "view")) : NULL });
    run_eider_or_die(defs, view ? "v" : "copy", view ? "view" : "SQL asset");
}

#define MADE_SQL "CREATE SCHEMA IF NOT EXISTS public; " \
                 "CREATE TABLE public.made AS SELECT range AS i FROM range(1000)"
#define GROW_SQL "INSERT INTO public.made SELECT range FROM range(1000)"

/* A resource and an I/O manager on one file, spelled two ways: the resource writes
 * public.made, the I/O manager loads it, the resource adds rows, the I/O manager
 * must see them (a second handle would hold its own, older, copy). Runs in hdir. */
static char *run_one_handle(void)
{
    static const size_t first = 1000, second = 2000;
    eider_defs *defs = eider_defs_new();
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "x.duckdb" });
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "./sub/../x.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "made", .compute = resource_sql,
                                          .resources = EIDER_KEYS("duckdb"), .user_data = MADE_SQL });
    eider_asset(defs, &(eider_asset_def){ .key = "seen", .compute = expect_made, .output = EIDER_OUTPUT_NONE,
                                          .deps = EIDER_KEYS("made"), .user_data = (void *)&first });
    eider_asset(defs, &(eider_asset_def){ .key = "grown", .compute = resource_sql,
                                          .deps = EIDER_KEYS("seen"), .resources = EIDER_KEYS("duckdb"),
                                          .user_data = GROW_SQL });
    eider_asset(defs, &(eider_asset_def){ .key = "seen_again", .compute = expect_made,
                                          .output = EIDER_OUTPUT_NONE,
                                          .deps = EIDER_KEYS("made", "grown"),
                                          .user_data = (void *)&second });
    return run_eider(defs, NULL);
}

/* The same work on one raw handle; with `twice`, one more duckdb_open and
 * duckdb_close (of another file): what a second handle costs. */
static void raw_one_handle(int twice)
{
    duckdb_database db = NULL, other = NULL;
    duckdb_connection con = NULL;
    raw_open("x.duckdb", &db, &con);
    if (twice && duckdb_open("y.duckdb", &other) == DuckDBError)
        bench_die("raw: cannot open 'y.duckdb'");
    raw_exec(con, MADE_SQL);
    if (raw_count(con, "public.made") != 1000)
        bench_die("raw: public.made should have 1000 rows");
    raw_exec(con, GROW_SQL);
    if (raw_count(con, "public.made") != 2000)
        bench_die("raw: public.made should have 2000 rows");
    if (twice)
        duckdb_close(&other);
    raw_close(&db, &con);
}

/* The one-handle check's outcome, kept for the report. */
static char *one_handle_error;

static void run_case(bench *b, int c, const char *path)
{
    switch (c) {
    case STORE_RAW: raw_append(&b->data, path, "t"); break;
    case STORE: run_store(b, path, 0); break;
    case PARALLEL_RAW: raw_parallel_insert(&b->data, path); break;
    case UNORDERED: run_store(b, path, 1); break;
    case LOAD_RAW: raw_load(&b->data, path); break;
    case LOAD: run_load(b, path); break;
    case CTAS_RAW: raw_statements(path, "CREATE TABLE public.t2 AS SELECT * FROM public.src"); break;
    case SQL: run_sql_asset(path, 0); break;
    case VIEW_RAW: raw_statements(path, "CREATE OR REPLACE VIEW public.v AS SELECT * FROM public.src"); break;
    case VIEW: run_sql_asset(path, 1); break;
    case ONCE_RAW: raw_one_handle(0); break;
    case ONCE: {
        char *err = run_one_handle();
        if (err && !one_handle_error)
            one_handle_error = err;
        else
            free(err);
        break;
    }
    case TWICE_RAW: raw_one_handle(1); break;
    }
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char *buf = bench_xmalloc(1 << 20);
    size_t n = 0;
    if (!in || !out)
        bench_die("cannot copy '%s' to '%s'", from, to);
    while ((n = fread(buf, 1, 1 << 20, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            bench_die("cannot write '%s'", to);
    if (ferror(in) || fclose(out))
        bench_die("cannot copy '%s' to '%s'", from, to);
    fclose(in);
    free(buf);
}

static void remove_one_handle_files(const bench *b)
{
    char *x = bench_strf("%s/x.duckdb", b->hdir), *y = bench_strf("%s/y.duckdb", b->hdir);
    bench_remove_db(x);
    bench_remove_db(y);
    free(x);
    free(y);
}

/* Make case c's database ready, outside the clock; returns its path (malloc'd). */
static char *prepare(bench *b, int c, int rep)
{
    if (c == LOAD_RAW || c == LOAD)
        return bench_strf("%s", b->src);
    if (c == VIEW_RAW || c == VIEW)
        return bench_strf("%s", b->views);
    if (c == ONCE_RAW || c == ONCE || c == TWICE_RAW) {
        remove_one_handle_files(b);
        if (chdir(b->hdir))
            bench_die("cannot enter '%s'", b->hdir);
        return bench_strf("%s/x.duckdb", b->hdir);
    }
    char *path = bench_strf("%s/%s_r%d.duckdb", b->dir, case_names[c], rep);
    bench_remove_db(path);
    if (c == STORE || c == UNORDERED)
        b->frame = dataset_frame(&b->data);
    if (c == CTAS_RAW || c == SQL)
        copy_file(b->src, path);
    return path;
}

static void cleanup(bench *b, int c, char *path)
{
    eider_frame_free(b->frame);      /* the store took it, unless it failed first */
    b->frame = NULL;
    if (c == ONCE_RAW || c == ONCE || c == TWICE_RAW) {
        if (chdir(b->cwd))
            bench_die("cannot go back to '%s'", b->cwd);
        remove_one_handle_files(b);
    } else if (c != LOAD_RAW && c != LOAD && c != VIEW_RAW && c != VIEW) {
        bench_remove_db(path);
    }
    free(path);
}

/* One measurement of case c: wall seconds, and CPU seconds of every thread into *cpu. */
static double measure(bench *b, int c, int rep, double *cpu)
{
    char *path = prepare(b, c, rep);
    double t0 = bench_now(), c0 = bench_cpu_now();
    run_case(b, c, path);
    double s = bench_now() - t0;
    *cpu = bench_cpu_now() - c0;
    cleanup(b, c, path);
    return s;
}

/* ---- peak memory ------------------------------------------------------------------ */

/* Case c once in a forked child (bench_peak_apart): the growth of its peak RSS over
 * its RSS at the start, in bytes (the data and any frame prepared for it are there). */
typedef struct case_args {
    bench *b;
    int c;
    const char *path;
} case_args;

static void case_in_child(void *arg, void *out)
{
    const case_args *a = arg;
    (void)out;
    run_case(a->b, a->c, a->path);
}

static double peak_growth(bench *b, int c)
{
    char *path = prepare(b, c, 0);
    case_args a = { b, c, path };
    double growth = -1;
    if (bench_peak_apart(case_in_child, &a, NULL, 0, &growth))
        bench_die("the memory measurement of '%s' failed", case_names[c]);
    cleanup(b, c, path);
    return growth;
}

static void print_memory(bench *b)
{
    static const struct { int eider, raw; const char *what, *raw_what, *target; } rows[] = {
        { STORE, STORE_RAW, "store, ordered", "appender", "target <= 1.5x" },
        { LOAD, LOAD_RAW, "load into a frame", "query + fetch", "target <= 1.5x, the frame included" },
    };
    double size = (double)b->data.frame_bytes;
    printf("  peak memory: growth of peak RSS (VmHWM) in a forked child, / the frame's %.0f MB\n",
           size / MB);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        double e = peak_growth(b, rows[i].eider), r = peak_growth(b, rows[i].raw);
        printf("    %-18s eider %+6.0f MB %5.2fx   raw %+6.0f MB %5.2fx (%s)   %s\n", rows[i].what,
               e / MB, e / size, r / MB, r / size, rows[i].raw_what, rows[i].target);
        fflush(stdout);
    }
}

/* ---- set-up, the table ---------------------------------------------------------- */

static void bench_init(bench *b, size_t n)
{
    memset(b, 0, sizeof(*b));
    dataset_init(&b->data, n);
    b->dir = bench_tmpdir("io");
    b->src = bench_strf("%s/src.duckdb", b->dir);
    b->views = bench_strf("%s/views.duckdb", b->dir);
    b->hdir = bench_strf("%s/handle", b->dir);
    char *sub = bench_strf("%s/sub", b->hdir);
    char cwd[4096];
    if (mkdir(b->hdir, 0700) || mkdir(sub, 0700) || !getcwd(cwd, sizeof(cwd)))
        bench_die("cannot set up '%s'", b->hdir);
    b->cwd = bench_strf("%s", cwd);
    free(sub);
    raw_append(&b->data, b->src, "src");
    copy_file(b->src, b->views);
}

static void bench_release(bench *b)
{
    char *sub = bench_strf("%s/sub", b->hdir);
    rmdir(sub);
    bench_rmdir(b->hdir);
    bench_rmdir(b->dir);
    free(sub);
    free(b->dir);
    free(b->src);
    free(b->views);
    free(b->hdir);
    free(b->cwd);
    dataset_release(&b->data);
}

typedef struct options {
    size_t rows;
    int repeat;
    int slow_repeat;                 /* the cases that write every row */
    int only;                        /* -1: everything; N_CASES: memory; else a case */
} options;

typedef struct figures {
    double wall[N_CASES], cpu[N_CASES];
} figures;

/* The cases that write every row (seconds each at 10 million rows). */
static int is_slow(int c)
{
    return c == STORE_RAW || c == STORE || c == PARALLEL_RAW || c == UNORDERED ||
           c == CTAS_RAW || c == SQL;
}

/* Every case `repeat` times (a slow one `slow` times), interleaved, each repetition
 * starting at the next case (as bench_overhead does); medians into f. */
static void measure_all(bench *b, int repeat, int slow, figures *f)
{
    int most = repeat > slow ? repeat : slow;
    double *ws = bench_xmalloc((size_t)most * N_CASES * sizeof(double));
    double *cs = bench_xmalloc((size_t)most * N_CASES * sizeof(double));
    double ignored = 0;
    measure(b, LOAD_RAW, -1, &ignored);   /* warm-up: page cache, DuckDB's first-open costs */
    for (int r = 0; r < most; r++)
        for (int k = 0; k < N_CASES; k++) {
            int c = (r + k) % N_CASES;
            if (r < (is_slow(c) ? slow : repeat))
                ws[c * most + r] = measure(b, c, r, &cs[c * most + r]);
        }
    for (int c = 0; c < N_CASES; c++) {
        size_t n = (size_t)(is_slow(c) ? slow : repeat);
        f->wall[c] = bench_median(ws + c * most, n);
        f->cpu[c] = bench_median(cs + c * most, n);
    }
    free(ws);
    free(cs);
}

static void print_row(const bench *b, const figures *f, const char *name, int eider, int raw,
                      const char *target)
{
    double rows = (double)b->data.n;
    char *note = bench_strf("%s; %.2f vs %.2f M rows/s; cpu %.2f s vs %.2f s (%.3f)", target,
                            rows / f->wall[eider] / 1e6, rows / f->wall[raw] / 1e6, f->cpu[eider],
                            f->cpu[raw], f->cpu[eider] / f->cpu[raw]);
    bench_table_row(name, f->wall[raw], f->wall[eider], note);
    free(note);
}

static void print_table(const bench *b, const options *o, const figures *f)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    char *title = bench_strf("bench_io: %zu rows (id BIGINT, x DOUBLE, a VARCHAR, b VARCHAR), a "
                             "frame of %.0f MB; DuckDB files; %ld cores; median of %d (stores "
                             "and CTAS: %d)", b->data.n, (double)b->data.frame_bytes / MB, cores,
                             o->repeat, o->slow_repeat);
    bench_table_header(title, "DuckDB's C API alone on the same C arrays, duckdb_open to "
        "duckdb_close of the file:\n"
        "    store: CREATE TABLE, then the appender fed with data chunks\n"
        "    unordered: SET preserve_insertion_order = false; INSERT INTO t SELECT * FROM a C\n"
        "      table function over the arrays (parallel, an atomic cursor)\n"
        "    load: SELECT * FROM t, every chunk copied into C arrays as a frame holds them\n"
        "    SQL asset: CREATE TABLE t2 AS SELECT * FROM t; view: CREATE OR REPLACE VIEW\n"
        "    one handle: the same four statements on one handle");
    print_row(b, f, "store frame, ordered", STORE, STORE_RAW,
              "target <= 1.11 (>= 0.9x the appender's rows/s)");
    print_row(b, f, "store frame, unordered", UNORDERED, PARALLEL_RAW, "target <= 1.25");
    print_row(b, f, "  unordered vs appender", UNORDERED, STORE_RAW, "reference");
    print_row(b, f, "load table into a frame", LOAD, LOAD_RAW,
              "target <= 1.25 (>= 0.8x raw rows/s)");
    print_row(b, f, "SQL asset (CTAS)", SQL, CTAS_RAW, "target <= 1.05");
    char *note = bench_strf("milliseconds, both; cpu %.3f s vs %.3f s", f->cpu[VIEW], f->cpu[VIEW_RAW]);
    bench_table_row("SQL asset, view", f->wall[VIEW_RAW], f->wall[VIEW], note);
    free(note);
    note = one_handle_error ? bench_strf("FAIL: %s", one_handle_error)
         : bench_strf("PASS: one handle (the I/O manager saw the resource's writes); raw with "
                      "a second duckdb_open: %.6f s", f->wall[TWICE_RAW]);
    bench_table_row("one handle, 2 spellings", f->wall[ONCE_RAW], f->wall[ONCE], note);
    free(note);
    free(title);
}


static int case_named(const char *name)
{
    for (int c = 0; c < N_CASES; c++)
        if (strcmp(name, case_names[c]) == 0)
            return c;
    if (strcmp(name, "memory") == 0)
        return N_CASES;
    char list[256] = "";
    for (int c = 0; c < N_CASES; c++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s ", case_names[c]);
    bench_die("--only takes one of: %smemory", list);
}

static void parse_args(int argc, char **argv, options *o)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            o->rows = (size_t)strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            o->repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--slow-repeat") && i + 1 < argc)
            o->slow_repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            o->only = case_named(argv[++i]);
        else
            bench_die("usage: bench_io [--rows N] [--repeat R] [--slow-repeat S] [--only CASE]");
    }
    if (o->repeat < 1 || o->repeat > 100 || o->slow_repeat < 1 || o->slow_repeat > 100)
        bench_die("--repeat and --slow-repeat must be 1 to 100");
    if (o->rows < 1)
        bench_die("--rows must be at least 1");
}

/* One case alone, each time printed: what to run under perf. */
static void run_only(bench *b, const options *o)
{
    double cpu = 0;
    for (int r = 0; r < o->repeat; r++) {
        double s = measure(b, o->only, r, &cpu);
        printf("%s: %.6f s wall, %.6f s cpu\n", case_names[o->only], s, cpu);
    }
}

int main(int argc, char **argv)
{
    options o = { .rows = 10000000, .repeat = 3, .slow_repeat = 2, .only = -1 };
    figures f = { 0 };
    bench b;
    parse_args(argc, argv, &o);
    bench_init(&b, o.rows);
    if (o.only == N_CASES) {
        print_memory(&b);
    } else if (o.only >= 0) {
        run_only(&b, &o);
    } else {
        measure_all(&b, o.repeat, o.slow_repeat, &f);
        print_table(&b, &o, &f);
        print_memory(&b);
    }
    if (one_handle_error)
        fprintf(stderr, "bench: one handle per file: %s\n", one_handle_error);
    free(one_handle_error);
    bench_release(&b);
    return 0;
}
