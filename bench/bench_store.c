/*
 * bench_store.c — what the instance store costs, beside the same work without it:
 *
 *   record  a run of 10,000 no-op assets (bench_noop's graph) recorded into a fresh
 *           SQLite store, eider_store_open() to eider_store_close() (which flushes),
 *           against the same run with .store = NULL; jobs=1 and jobs=2. Target: the
 *           recording adds <= 20 % (ratio <= 1.20). Beside it, the floor: sqlite3 alone
 *           writing the one materialization row and asset_state upsert per asset that
 *           any store keeping each asset's history and state must write.
 *   work    the same comparison on a run that does work: 1,000 assets, each one DDL
 *           statement on a DuckDB file (bench_overhead's workload), jobs=1. Target:
 *           ratio <= 1.20.
 *   cli     what a user waits for: `eider materialize -l defs.so` of 10,000 no-op assets
 *           (generated, compiled), recorded into a fresh EIDER_HOME against
 *           EIDER_STORAGE=none. Target: ratio <= 1.20.
 *   runs    `eider runs` (default limit, --status failure, --json --limit 100) over a
 *           store of 100,000 runs, filled with sqlite3 directly once eider_store_open()
 *           made the schema; against the same SELECT through sqlite3 (open, prepare,
 *           step, close). Target: <= 100 ms.
 *   bytes   bytes of eider.sqlite3 (+ its -wal) per asset materialization after one and
 *           two recorded runs, without metadata and with what the I/O manager reports
 *           (row_count, table, columns, a 10-row preview, load_query). Target: <= 2 KB.
 *
 *   bench_store [--assets N] [--runs N] [--repeat R] [--only record|plain|work|cli|runs|bytes]
 *
 * --only runs one case alone (record and plain: jobs=1, R times) for profiling. The
 * definitions library of the cli case comes from bench_defs.c, the path of `eider`
 * from CMake (BENCH_EIDER).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <eider.h>
#include <sqlite3.h>

#include "bench_sql.h"
#include "bench_defs.h"
#include "bench_util.h"

/* The targets as issue 10 restated them: recording adds <= 20 % to a run whose assets do
 * work, and a recorded no-op asset costs <= 1.5x what sqlite3 alone pays to write its
 * rows (the floor). A no-op run's own ratio has no target: a no-op costs 0.4 us, so any
 * record at all is many times that. */
#define TARGET_RATIO 1.20
#define TARGET_FLOOR_RATIO 1.50

static void sql_exec(sqlite3 *db, const char *sql);
#define TARGET_RUNS_S 0.100
#define TARGET_BYTES 2048.0

/* ---- the assets: no-ops, and no-ops that report I/O-manager-like metadata ---- */

static int noop(eider_context *ctx)
{
    (void)ctx;
    return 0;
}

/* What the I/O manager reports for a table of 5 columns (src/duckdb/io.c). */
typedef struct io_meta {
    const char *columns;             /* [{"name": ..., "type": ...}, ...] */
    char *preview;                   /* 10 rows of 5 columns */
} io_meta;

static int with_metadata(eider_context *ctx)
{
    const io_meta *m = eider_user_data(ctx);
    const char *key = eider_asset_key(ctx);
    char table[128], load[160];
    snprintf(table, sizeof(table), "bench.main.%s", key);
    snprintf(load, sizeof(load), "SELECT * FROM main.%s", key);
    eider_add_meta_int(ctx, "row_count", 1000 + (int64_t)strlen(key) * 7919);
    eider_add_meta_text(ctx, "table", table);
    eider_add_meta(ctx, &(eider_meta)EIDER_META_JSON("columns", m->columns));
    eider_add_meta(ctx, &(eider_meta)EIDER_META_JSON("preview", m->preview));
    eider_add_meta_text(ctx, "load_query", load);
    return 0;
}

static char *make_preview(void)
{
    size_t cap = 4096, len = 0;
    char *s = bench_xmalloc(cap);
    len += (size_t)snprintf(s + len, cap - len, "[");
    for (int r = 0; r < 10; r++)
        len += (size_t)snprintf(s + len, cap - len, "%s{\"id\":%d,\"x\":%d.25,\"a\":\"k%d\","
                                "\"b\":\"b-%08d\",\"d\":\"2024-01-%02d\"}", r ? "," : "",
                                1000 + r, 17 * r, r * 37 % 1000, 7919 * (r + 1), r + 1);
    snprintf(s + len, cap - len, "]");
    return s;
}

typedef struct workload {
    bench_graph graph;
    eider_defs *plain;               /* no-op assets */
    eider_defs *meta;                /* the same graph, each asset reporting io_meta */
    io_meta io;
} workload;

static eider_defs *build_defs(const bench_graph *g, eider_compute_fn fn, void *user_data)
{
    eider_defs *defs = eider_defs_new();
    if (!defs)
        bench_die("eider_defs_new: out of memory");
    for (size_t i = 0; i < g->n; i++)
        eider_asset(defs, &(eider_asset_def){ .key = g->keys[i], .compute = fn,
                                              .deps = g->deps[i], .user_data = user_data });
    if (eider_defs_validate(defs))
        bench_die("eider_defs_validate: %s", eider_defs_errmsg(defs));
    return defs;
}

static void workload_init(workload *w, size_t n)
{
    bench_graph_init(&w->graph, n, 20);
    w->io.columns = "[{\"name\":\"id\",\"type\":\"BIGINT\"},{\"name\":\"x\",\"type\":\"DOUBLE\"},"
                    "{\"name\":\"a\",\"type\":\"VARCHAR\"},{\"name\":\"b\",\"type\":\"VARCHAR\"},"
                    "{\"name\":\"d\",\"type\":\"DATE\"}]";
    w->io.preview = make_preview();
    w->plain = build_defs(&w->graph, noop, NULL);
    w->meta = build_defs(&w->graph, with_metadata, &w->io);
}

static void workload_release(workload *w)
{
    eider_defs_free(w->plain);
    eider_defs_free(w->meta);
    free(w->io.preview);
    bench_graph_release(&w->graph);
}

/* ---- 1. recording a run ---- */

static void materialize(eider_defs *defs, int jobs, eider_store *store)
{
    int rc = eider_materialize(defs, &(eider_run_options){ .jobs = jobs, .store = store }, NULL);
    if (rc)
        bench_die("eider_materialize (jobs=%d): %s", jobs, eider_strerror(rc));
}

static double run_plain(eider_defs *defs, int jobs)
{
    double t0 = bench_now();
    materialize(defs, jobs, NULL);
    return bench_now() - t0;
}

/* The parts of a recorded run: opening the store, the run, closing (flushing) it. */
typedef struct recorded {
    double open, run, close;
} recorded;

static recorded run_recorded(eider_defs *defs, int jobs, const char *dir)
{
    eider_store *store = NULL;
    double t0 = bench_now();
    if (eider_store_open(dir, &store))
        bench_die("eider_store_open: %s", eider_store_errmsg(store));
    double t1 = bench_now();
    materialize(defs, jobs, store);
    double t2 = bench_now();
    eider_store_close(store);
    return (recorded){ t1 - t0, t2 - t1, bench_now() - t2 };
}

/* The floor of recording: what SQLite itself needs to keep each asset's history and
 * state. Into a store that eider_store_open() made (and closed), sqlite3 writes one
 * materializations row and one asset_state upsert per asset, with prepared statements
 * and bound integers, in transactions of 1,365 assets (Eider's batches of 4,096 events,
 * three per asset), and the run's row: sqlite3_open to sqlite3_close. Eider writes
 * these rows and the run's events besides. */
static double run_floor(const bench_graph *g, const char *dir)
{
    eider_store *store = NULL;
    if (eider_store_open(dir, &store))
        bench_die("eider_store_open: %s", eider_store_errmsg(store));
    eider_store_close(store);
    char *path = bench_strf("%s/eider.sqlite3", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *mat = NULL, *state = NULL;
    double t0 = bench_now();
    if (sqlite3_open(path, &db) != SQLITE_OK)
        bench_die("sqlite3_open %s: %s", path, sqlite3_errmsg(db));
    sql_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    /* A run id as long as Eider's (a UUID), in every row that names the run. */
    sql_exec(db, "INSERT INTO runs (run_id, status, start_us) VALUES "
                 "('f100f100-0000-4000-8000-000000000001', 'started', 1)");
    if (sqlite3_prepare_v2(db, "INSERT INTO materializations (asset_key, partition, run_id, time_us) "
                               "VALUES (?, '', 'f100f100-0000-4000-8000-000000000001', ?)", -1, &mat,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO asset_state (asset_key, partition, materialization_id, "
                               "last_run_id, last_failed, last_us) VALUES (?, '', ?, "
                               "'f100f100-0000-4000-8000-000000000001', 0, ?) "
                               "ON CONFLICT (asset_key, partition) DO UPDATE SET materialization_id = "
                               "excluded.materialization_id, last_run_id = excluded.last_run_id, "
                               "last_failed = 0, last_us = excluded.last_us", -1, &state, NULL) != SQLITE_OK)
        bench_die("sqlite3_prepare_v2: %s", sqlite3_errmsg(db));
    for (size_t at = 0; at < g->n; at += 1365) {
        sql_exec(db, "BEGIN IMMEDIATE");
        for (size_t i = at; i < g->n && i < at + 1365; i++) {
            int64_t now = 1767225600000000 + (int64_t)i;
            sqlite3_bind_text(mat, 1, g->keys[i], -1, SQLITE_STATIC);
            sqlite3_bind_int64(mat, 2, now);
            if (sqlite3_step(mat) != SQLITE_DONE)
                bench_die("insert: %s", sqlite3_errmsg(db));
            sqlite3_reset(mat);
            sqlite3_bind_text(state, 1, g->keys[i], -1, SQLITE_STATIC);
            sqlite3_bind_int64(state, 2, sqlite3_last_insert_rowid(db));
            sqlite3_bind_int64(state, 3, now);
            if (sqlite3_step(state) != SQLITE_DONE)
                bench_die("upsert: %s", sqlite3_errmsg(db));
            sqlite3_reset(state);
        }
        sql_exec(db, "COMMIT");
    }
    sql_exec(db, "UPDATE runs SET status = 'success', end_us = 2 WHERE run_id = "
                 "'f100f100-0000-4000-8000-000000000001'");
    sqlite3_finalize(mat);
    sqlite3_finalize(state);
    sqlite3_close(db);
    double s = bench_now() - t0;
    free(path);
    return s;
}

/* The first column of the first row of sql on the store in dir, read with sqlite3
 * (-1 when it cannot be read). */
static double store_scalar(const char *dir, const char *sql)
{
    char *path = bench_strf("%s/eider.sqlite3", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    double v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
        v = sqlite3_column_double(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    free(path);
    return v;
}

static int64_t count_materializations(const char *dir)
{
    return (int64_t)store_scalar(dir, "SELECT count(*) FROM materializations");
}

/* A recorded run must really be recorded: one materialization per asset. */
static void check_recorded(const workload *w, int jobs)
{
    char *dir = bench_tmpdir("store");
    run_recorded(w->plain, jobs, dir);
    int64_t n = count_materializations(dir);
    if (n != (int64_t)w->graph.n)
        bench_die("the store holds %" PRId64 " materializations after a run of %zu assets", n,
                  w->graph.n);
    bench_rmdir(dir);
    free(dir);
}

typedef struct record_figures {
    double plain, total, open, run, close, floor;
} record_figures;

static record_figures measure_record(const workload *w, int jobs, int repeat)
{
    double *v[6];
    for (int k = 0; k < 6; k++)
        v[k] = bench_xmalloc((size_t)repeat * sizeof(double));
    for (int r = 0; r < repeat; r++) {
        char *dir = bench_tmpdir("store");
        v[0][r] = run_plain(w->plain, jobs);
        recorded t = run_recorded(w->plain, jobs, dir);
        v[1][r] = t.open + t.run + t.close;
        v[2][r] = t.open;
        v[3][r] = t.run;
        v[4][r] = t.close;
        bench_rmdir(dir);
        v[5][r] = run_floor(&w->graph, dir);
        bench_rmdir(dir);
        free(dir);
    }
    record_figures f;
    double *out[] = { &f.plain, &f.total, &f.open, &f.run, &f.close, &f.floor };
    for (int k = 0; k < 6; k++) {
        *out[k] = bench_median(v[k], (size_t)repeat);
        free(v[k]);
    }
    return f;
}

static void print_record(const workload *w, int jobs, const record_figures *f)
{
    char *name = bench_strf("recorded jobs=%d", jobs);
    char *note = bench_strf("open %.1f + run %.1f + close %.1f ms; +%.1f us/asset (the target "
                            "is the floor's, below)", f->open * 1e3, f->run * 1e3, f->close * 1e3,
                            (f->total - f->plain) * 1e6 / (double)w->graph.n);
    bench_table_row(name, f->plain, f->total, note);
    free(name);
    free(note);
}

static void bench_record(const workload *w, int repeat)
{
    check_recorded(w, 1);
    record_figures j1 = measure_record(w, 1, repeat), j2 = measure_record(w, 2, repeat);
    char *title = bench_strf("bench_store record: %zu no-op assets, materialized and recorded "
                             "into a fresh SQLite store (open + run + close); median of %d",
                             w->graph.n, repeat);
    bench_table_header(title, "the same eider_materialize() with .store = NULL");
    print_record(w, 1, &j1);
    print_record(w, 2, &j2);
    free(title);
    title = bench_strf("bench_store record, against its floor: what recording adds to the run "
                       "(recorded - unrecorded, jobs=1), and sqlite3 writing only a materialization "
                       "row and an asset_state upsert per asset; median of %d", repeat);
    bench_table_header(title, "the floor: sqlite3 alone, prepared statements, batches of 1,365 assets");
    double added = j1.total - j1.plain;
    char *note = bench_strf("%.1f us/asset beside %.1f us/asset; an unrecorded run costs %.2f "
                            "us/asset; target <= %.2f: %s", added * 1e6 / (double)w->graph.n,
                            j1.floor * 1e6 / (double)w->graph.n, j1.plain * 1e6 / (double)w->graph.n,
                            TARGET_FLOOR_RATIO, added <= TARGET_FLOOR_RATIO * j1.floor ? "met" : "MISSED");
    bench_table_row("recording alone", j1.floor, j1.total - j1.plain, note);
    free(note);
    free(title);
}

/* ---- 1b. recording a run that does work ---- */

/* A table of one row: the medians of repeat unrecorded (plain) and recorded runs of n
 * assets, what recording adds per asset, and the target. Frees both arrays. */
static void print_recorded(const char *title, const char *raw_what, const char *name, double *plain,
                           double *rec, int repeat, size_t n, int has_target)
{
    double p = bench_median(plain, (size_t)repeat), e = bench_median(rec, (size_t)repeat);
    char *note = has_target ? bench_strf("+%.1f us/asset; target <= %.2f: %s", (e - p) * 1e6 / (double)n,
                                         TARGET_RATIO, e <= TARGET_RATIO * p ? "met" : "MISSED")
                            : bench_strf("+%.1f us/asset (no-op assets: the target is the floor's)",
                                         (e - p) * 1e6 / (double)n);
    bench_table_header(title, raw_what);
    bench_table_row(name, p, e, note);
    free(note);
    free(plain);
    free(rec);
}



/* One run of the DDL workload on a fresh DuckDB file in dir, recorded into a fresh store
 * there (store_open to store_close) or not. */
static double run_work(const bench_graph *g, char *const *sql, const char *dir, int record)
{
    char *path = bench_strf("%s/work.duckdb", dir);
    eider_defs *defs = bench_sql_defs(g, sql, path);
    eider_store *store = NULL;
    double t0 = bench_now();
    if (record && eider_store_open(dir, &store))
        bench_die("eider_store_open: %s", eider_store_errmsg(store));
    materialize(defs, 1, store);
    eider_store_close(store);
    double s = bench_now() - t0;
    eider_defs_free(defs);
    free(path);
    return s;
}

static void bench_work(size_t n, int repeat)
{
    bench_graph g;
    bench_graph_init(&g, n, 20);
    char **sql = bench_sql_statements(&g);
    double *plain = bench_xmalloc((size_t)repeat * sizeof(double));
    double *rec = bench_xmalloc((size_t)repeat * sizeof(double));
    for (int r = 0; r < repeat; r++) {
        for (int record = 0; record < 2; record++) {
            char *dir = bench_tmpdir("store-work");
            (record ? rec : plain)[r] = run_work(&g, sql, dir, record);
            bench_rmdir(dir);
            free(dir);
        }
    }
    char *title = bench_strf("bench_store record, a run that does work: %zu assets, each one DDL "
                             "statement on a DuckDB file (bench_overhead's workload), jobs=1; median "
                             "of %d", n, repeat);
    print_recorded(title, "the same eider_materialize() with .store = NULL", "recorded jobs=1",
                   plain, rec, repeat, n, 1);
    free(title);
    bench_sql_free(sql, n);
    bench_graph_release(&g);
}

/* ---- 2. eider runs over 100,000 stored runs ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void sql_exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        bench_die("sqlite3: %s: %s", sql, sqlite3_errmsg(db));
}

static sqlite3_stmt *sql_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
        bench_die("sqlite3: %s: %s", sql, sqlite3_errmsg(db));
    return stmt;
}

static void sql_done(sqlite3 *db, sqlite3_stmt *stmt)
{
    if (sqlite3_step(stmt) != SQLITE_DONE)
        bench_die("sqlite3: %s", sqlite3_errmsg(db));
    sqlite3_reset(stmt);
}

/* Status of run i: mostly success, some failures, a few canceled or crashed. */
static const char *fill_status(uint64_t x)
{
    unsigned p = (unsigned)(x % 100);
    return p < 88 ? "success" : p < 97 ? "failure" : p < 99 ? "canceled" : "crashed";
}

/* One run's row, and its block of run_start and run_end events; a run a minute, newest
 * last. */
static void fill_one(sqlite3 *db, sqlite3_stmt *run, sqlite3_stmt *event, size_t i, int64_t t0)
{
    static const char *const selections[] = { NULL, NULL, NULL, "tag:daily", "+orders", "group:marts" };
    static const char *const launchers[] = { "cli", "cli", "schedule", "api" };
    uint64_t x = rng(), y = rng();
    char id[40], pid_start[24];
    const char *status = fill_status(x);
    int64_t start = t0 + (int64_t)i * 60000000, end = start + (int64_t)(y % 600000000) + 1000;
    int failed = !strcmp(status, "failure"), steps = 1 + 3 * failed + (int)((x >> 32) % 200);
    snprintf(id, sizeof(id), "%08x-%04x-4%03x-%04x-%012" PRIx64, (unsigned)(x >> 32),
             (unsigned)(x >> 16) & 0xffff, (unsigned)x & 0xfff, 0x8000 | ((unsigned)y & 0x3fff),
             y >> 16 & 0xffffffffffffu);
    snprintf(pid_start, sizeof(pid_start), "%" PRIu64, y % 100000000);
    const char *text[] = { id, status, selections[x % 6], x % 5 == 0 ? "2024-03-01" : NULL,
                           launchers[y % 4], y % 3 ? "{}" : "{\"team\":\"data\",\"env\":\"prod\"}",
                           "bench-host", NULL, pid_start };
    for (int k = 0; k < 9; k++)
        sqlite3_bind_text(run, k + 1, text[k], -1, SQLITE_STATIC);
    sqlite3_bind_int64(run, 8, (int64_t)(y % 4000000));
    int64_t nums[] = { start, end, steps - failed * 3, failed, failed * 2, !strcmp(status, "canceled") };
    for (int k = 0; k < 6; k++)
        sqlite3_bind_int64(run, 10 + k, nums[k]);
    sql_done(db, run);
    char events[160];
    snprintf(events, sizeof(events), "[{\"type\":\"run_start\",\"time_us\":%" PRId64 "},"
             "{\"type\":\"run_end\",\"time_us\":%" PRId64 "}]", start, end);
    sqlite3_bind_text(event, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(event, 2, events, -1, SQLITE_STATIC);
    sql_done(db, event);
}

/* A store of n runs in dir: the schema from eider_store_open(), the rows from sqlite3
 * in one transaction. Returns the fill time. */
static double fill_runs(const char *dir, size_t n)
{
    eider_store *store = NULL;
    sqlite3 *db = NULL;
    double t0 = bench_now();
    if (eider_store_open(dir, &store))
        bench_die("eider_store_open: %s", eider_store_errmsg(store));
    eider_store_close(store);
    char *path = bench_strf("%s/eider.sqlite3", dir);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        bench_die("cannot open '%s': %s", path, sqlite3_errmsg(db));
    sql_exec(db, "PRAGMA cache_size = -262144; BEGIN");    /* 256 MB: random run ids */
    sqlite3_stmt *run = sql_prepare(db, "INSERT INTO runs (run_id, status, selection, partition, "
        "launched_by, tags, host, pid, pid_start, start_us, end_us, n_succeeded, n_failed, "
        "n_skipped, n_canceled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    sqlite3_stmt *event = sql_prepare(db, "INSERT INTO event_blocks (run_id, first, n, events) "
                                          "VALUES (?, 1, 2, ?)");
    int64_t now = (int64_t)time(NULL) * 1000000;
    for (size_t i = 0; i < n; i++)
        fill_one(db, run, event, i, now - (int64_t)n * 60000000);
    sqlite3_finalize(run);
    sqlite3_finalize(event);
    sql_exec(db, "COMMIT");
    sqlite3_close(db);
    free(path);
    return bench_now() - t0;
}

/* The query of eider_store_runs() (src/store/store.c), run through sqlite3 alone:
 * open, prepare, bind, step every row reading every column, close. */
static double raw_runs(const char *dir, const char *status, int limit)
{
    char *path = bench_strf("%s/eider.sqlite3", dir);
    sqlite3 *db = NULL;
    size_t bytes = 0;
    double t0 = bench_now();
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        bench_die("cannot open '%s'", path);
    sqlite3_stmt *stmt = sql_prepare(db, status
        ? "SELECT run_id, status, selection, partition, launched_by, tags, start_us, end_us, "
          "n_succeeded, n_failed, n_skipped, n_canceled FROM runs WHERE 1 = 1 AND status = ? "
          "ORDER BY start_us DESC LIMIT ?"
        : "SELECT run_id, status, selection, partition, launched_by, tags, start_us, end_us, "
          "n_succeeded, n_failed, n_skipped, n_canceled FROM runs WHERE 1 = 1 "
          "ORDER BY start_us DESC LIMIT ?");
    int k = 1;
    if (status)
        sqlite3_bind_text(stmt, k++, status, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, k, limit);
    while (sqlite3_step(stmt) == SQLITE_ROW)
        for (int c = 0; c < 12; c++)
            bytes += (size_t)sqlite3_column_bytes(stmt, c) + (sqlite3_column_text(stmt, c) != NULL);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    double s = bench_now() - t0;
    if (!bytes)
        bench_die("the raw query found no runs");
    free(path);
    return s;
}

static int count_run(const eider_run_record *run, void *user_data)
{
    (void)run;
    (*(size_t *)user_data)++;
    return 0;
}

/* The same through the library: eider_store_open(), eider_store_runs(), close. */
static double api_runs(const char *dir, int status, size_t limit)
{
    eider_store *store = NULL;
    size_t n = 0;
    double t0 = bench_now();
    if (eider_store_open(dir, &store))
        bench_die("eider_store_open: %s", eider_store_errmsg(store));
    if (eider_store_runs(store, status, NULL, limit, count_run, &n))
        bench_die("eider_store_runs: %s", eider_store_errmsg(store));
    eider_store_close(store);
    double s = bench_now() - t0;
    if (n != limit)
        bench_die("eider_store_runs gave %zu runs, not %zu", n, limit);
    return s;
}

/* Run `eider ARGS` with EIDER_HOME=home (and EIDER_STORAGE=storage, or unset when
 * NULL) from the folder cwd, stdout to out_path (NULL: /dev/null); returns the wall
 * time. Exits when it cannot start or fails. */
static double run_eider_with(const char *home, const char *storage, const char *cwd,
                             const char *out_path, const char *const *args)
{
    const char *argv[8] = { BENCH_EIDER };
    for (int i = 0; i < 6 && args[i]; i++)
        argv[i + 1] = args[i];
    const char *const env[] = { "EIDER_HOME", home, "EIDER_STORAGE", storage, NULL };
    return bench_run(argv, cwd, out_path, env);
}

static double run_eider(const char *home, const char *cwd, const char *out_path,
                        const char *const *args)
{
    return run_eider_with(home, NULL, cwd, out_path, args);
}

typedef struct runs_case {
    const char *name;
    const char *args[6];
    const char *status;              /* NULL: any */
    int limit;
} runs_case;

static const runs_case runs_cases[] = {
    { "eider runs", { "runs" }, NULL, 20 },
    { "eider runs --status failure", { "runs", "--status", "failure" }, "failure", 20 },
    { "eider runs --json --limit 100", { "runs", "--json", "--limit", "100" }, NULL, 100 },
};
#define N_RUNS_CASES (sizeof(runs_cases) / sizeof(runs_cases[0]))

/* Each case must print at least one line per run it lists. */
static void check_runs_output(const char *home, const char *cwd)
{
    char *out = bench_strf("%s/runs.txt", cwd);
    for (size_t c = 0; c < N_RUNS_CASES; c++) {
        run_eider(home, cwd, out, runs_cases[c].args);
        size_t lines = bench_count_lines(out);
        if (lines < (size_t)runs_cases[c].limit)
            bench_die("'%s' printed %zu lines, expected %d runs", runs_cases[c].name, lines,
                      runs_cases[c].limit);
    }
    unlink(out);
    free(out);
}

static void print_runs_case(const runs_case *rc, double raw, double cli, double api)
{
    char *note = bench_strf("API open+query+close %.2f ms; target <= %.0f ms: %s", api * 1e3,
                            TARGET_RUNS_S * 1e3, cli <= TARGET_RUNS_S ? "met" : "MISSED");
    bench_table_row(rc->name, raw, cli, note);
    free(note);
}

/* Median wall times of the raw query, the CLI and the API for case c. */
static void measure_runs_case(const char *home, const char *cwd, size_t c, int repeat)
{
    const runs_case *rc = &runs_cases[c];
    double *v[3];
    for (int k = 0; k < 3; k++)
        v[k] = bench_xmalloc((size_t)repeat * sizeof(double));
    for (int r = 0; r < repeat; r++) {
        v[0][r] = raw_runs(home, rc->status, rc->limit);
        v[1][r] = run_eider(home, cwd, NULL, rc->args);
        v[2][r] = api_runs(home, rc->status ? eider_run_status_parse(rc->status) : -1,
                           (size_t)rc->limit);
    }
    double m[3];
    for (int k = 0; k < 3; k++) {
        m[k] = bench_median(v[k], (size_t)repeat);
        free(v[k]);
    }
    print_runs_case(rc, m[0], m[1], m[2]);
}

static double measure_floor(const char *home, const char *cwd, int repeat)
{
    double *v = bench_xmalloc((size_t)repeat * sizeof(double));
    for (int r = 0; r < repeat; r++)
        v[r] = run_eider(home, cwd, NULL, (const char *const[]){ "--version", NULL });
    double m = bench_median(v, (size_t)repeat);
    free(v);
    return m;
}

static void bench_runs(size_t n_runs, int repeat)
{
    char *home = bench_tmpdir("store-runs"), *cwd = bench_tmpdir("store-cwd");
    double fill = fill_runs(home, n_runs);
    check_runs_output(home, cwd);
    char *title = bench_strf("bench_store runs: `eider runs` (EIDER_HOME set, stdout to /dev/null) "
                             "over %zu stored runs (filled in %.2f s); median of %d", n_runs,
                             fill, repeat);
    bench_table_header(title, "the same SELECT through sqlite3: open, prepare, step, close");
    for (size_t c = 0; c < N_RUNS_CASES; c++)
        measure_runs_case(home, cwd, c, repeat);
    printf("  %-28s %12s %12.6f %8s  %s\n", "eider --version", "", measure_floor(home, cwd, repeat),
           "", "the floor: starting the program (libeider, libduckdb)");
    free(title);
    bench_rmdir(cwd);
    bench_rmdir(home);
    free(cwd);
    free(home);
}

/* ---- 3. bytes per asset materialization ---- */

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* Checkpoint a WAL that eider_store_close() left behind (the last connection's close
 * normally checkpoints and removes it). */
static void checkpoint(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK)
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(db);
}

/* Size of the store in dir: the file and its WAL, the WAL checkpointed first when it
 * holds more than 1 MB; *wal gets the WAL's size as it was left. */
static off_t store_size(const char *dir, off_t *wal)
{
    char *path = bench_strf("%s/eider.sqlite3", dir), *wal_path = bench_strf("%s-wal", path);
    *wal = file_size(wal_path);
    if (*wal > (1 << 20))
        checkpoint(path);
    off_t n = file_size(path) + file_size(wal_path);
    free(path);
    free(wal_path);
    return n;
}

static void print_bytes(const char *name, int64_t mats, off_t bytes, off_t wal, double meta,
                        double given)
{
    double per = (double)bytes / (double)mats;
    char *note = bench_strf("metadata column %.0f B (the entries' text: %.0f B); target <= %.0f: %s",
                            meta, given, TARGET_BYTES, per <= TARGET_BYTES ? "met" : "MISSED");
    printf("  %-28s %12" PRId64 " %12lld %8.0f  %s%s\n", name, mats, (long long)bytes, per, note,
           wal ? " (WAL left open, checkpointed)" : "");
    free(note);
    fflush(stdout);
}

/* Two recorded runs of defs into one fresh store; prints the size after each. */
static void bytes_case(const workload *w, eider_defs *defs, const char *label, double given)
{
    char *dir = bench_tmpdir("store-bytes");
    for (int run = 1; run <= 2; run++) {
        off_t wal = 0;
        run_recorded(defs, 1, dir);
        off_t bytes = store_size(dir, &wal);
        int64_t mats = count_materializations(dir);
        if (mats != (int64_t)w->graph.n * run)
            bench_die("the store holds %" PRId64 " materializations after %d runs", mats, run);
        char *name = bench_strf("%s, %d run%s", label, run, run > 1 ? "s" : "");
        print_bytes(name, mats, bytes, wal,
                    store_scalar(dir, "SELECT avg(length(metadata)) FROM materializations"), given);
        free(name);
    }
    bench_rmdir(dir);
    free(dir);
}

/* Bytes of text in the five entries an asset reports: keys and values. */
static double meta_text_bytes(const workload *w)
{
    return (double)(strlen(w->io.columns) + strlen(w->io.preview) + strlen("bench.main.t_1234") +
                    strlen("SELECT * FROM main.t_1234") + strlen("12345") +
                    strlen("row_count" "table" "columns" "preview" "load_query"));
}

static void bench_bytes(const workload *w)
{
    printf("\nbench_store bytes: eider.sqlite3 + -wal after eider_store_close(), per asset "
           "materialization recorded (%zu assets a run, jobs=1)\n"
           "  raw: Dagster keeps about 35 KB per asset-run\n"
           "  %-28s %12s %12s %8s  %s\n", w->graph.n, "case", "materialized", "bytes", "B/mat",
           "note");
    bytes_case(w, w->plain, "no metadata", 0);
    bytes_case(w, w->meta, "I/O-manager metadata", meta_text_bytes(w));
}

/* ---- 4. recording through the command line ---- */

/* `eider materialize -l defs.so` of n no-op assets (bench_gen_defs --noop, compiled with
 * -O0), recorded into a fresh EIDER_HOME each time, against EIDER_STORAGE=none: what
 * a user waits for, start-up and printing included. */
static void bench_cli(size_t n, int repeat)
{
    char *dir = bench_tmpdir("store-cli"), *lib = NULL, *out = bench_strf("%s/out.txt", dir);
    bench_defs_library(dir, n, 1, &lib);
    const char *const args[] = { "materialize", "-l", lib, NULL };
    run_eider_with(dir, "none", dir, out, args);          /* warm-up, and a check */
    size_t lines = bench_count_lines(out);
    if (lines < n)
        bench_die("'eider materialize' printed %zu lines for %zu assets", lines, n);
    double *plain = bench_xmalloc((size_t)repeat * sizeof(double));
    double *rec = bench_xmalloc((size_t)repeat * sizeof(double));
    for (int r = 0; r < repeat; r++) {
        char *home = bench_strf("%s/home%d", dir, r);
        plain[r] = run_eider_with(dir, "none", dir, NULL, args);
        rec[r] = run_eider_with(home, NULL, dir, NULL, args);
        bench_rmdir(home);
        free(home);
    }
    char *title = bench_strf("bench_store record, through the command line: `eider materialize -l "
                             "defs.so` of %zu no-op assets (stdout to /dev/null), recorded into a "
                             "fresh EIDER_HOME; median of %d", n, repeat);
    print_recorded(title, "the same command with EIDER_STORAGE=none (nothing recorded)",
                   "eider materialize", plain, rec, repeat, n, 0);
    free(title);
    free(out);
    free(lib);
    bench_rmdir(dir);
    free(dir);
}

/* ---- main ---- */

typedef struct options {
    size_t n, runs;
    int repeat;
    const char *only;                /* NULL: every case */
} options;

static void parse_args(int argc, char **argv, options *o)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--assets") && i + 1 < argc)
            o->n = (size_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            o->runs = (size_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            o->repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            o->only = argv[++i];
        else
            bench_die("usage: bench_store [--assets N] [--runs N] [--repeat R] "
                      "[--only record|plain|work|cli|runs|bytes]");
    }
    if (o->repeat < 1 || o->repeat > 100)
        bench_die("--repeat must be 1 to 100");
    if (o->runs < 100)
        bench_die("--runs must be at least 100");
}

/* --only record|plain: one case, jobs=1, R times, each time printed (for a profiler). */
static void run_only(const workload *w, const options *o)
{
    int record = !strcmp(o->only, "record");
    if (!record && strcmp(o->only, "plain"))
        bench_die("--only takes record, plain, work, cli, runs or bytes");
    for (int r = 0; r < o->repeat; r++) {
        char *dir = bench_tmpdir("store");
        recorded t = { 0 };
        if (record)
            t = run_recorded(w->plain, 1, dir);
        else
            t.run = run_plain(w->plain, 1);
        printf("%s: open %.6f s, run %.6f s, close %.6f s\n", o->only, t.open, t.run, t.close);
        bench_rmdir(dir);
        free(dir);
    }
}

int main(int argc, char **argv)
{
    options o = { .n = 10000, .runs = 100000, .repeat = 5 };
    parse_args(argc, argv, &o);
    workload w = { 0 };
    workload_init(&w, o.n);
    if (o.only && !strcmp(o.only, "runs"))
        bench_runs(o.runs, o.repeat);
    else if (o.only && !strcmp(o.only, "bytes"))
        bench_bytes(&w);
    else if (o.only && !strcmp(o.only, "work"))
        bench_work(1000, o.repeat);
    else if (o.only && !strcmp(o.only, "cli"))
        bench_cli(o.n, o.repeat);
    else if (o.only)
        run_only(&w, &o);
    else {
        bench_record(&w, o.repeat);
        bench_work(1000, o.repeat);
        bench_cli(o.n, o.repeat);
        bench_runs(o.runs, o.repeat);
        bench_bytes(&w);
    }
    workload_release(&w);
    return 0;
}
