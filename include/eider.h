/*
 * eider.h — the one public header of Eider, a data orchestrator for software-defined
 * assets with DuckDB as its warehouse.
 *
 * A definitions object (eider_defs) holds assets, external assets and resources. A run
 * materializes a selection of its assets: each asset's compute function gets a step
 * context (eider_context) through which it borrows DuckDB connections, runs SQL, logs
 * and reports metadata.
 *
 * Ownership: every string and array passed *into* Eider is copied; the caller keeps
 * its own. Two things are borrowed, not copied: function pointers and user_data, which
 * must stay valid while the definitions are used. Every pointer Eider hands *out*
 * states how long it lives.
 * Memory: when an allocation fails, Eider prints a message and aborts the process (as
 * git and Redis do); no function returns a half-built object.
 * Thread safety: an eider_defs may not be changed while a run uses it; a context
 * belongs to one step on one thread.
 */
#ifndef EIDER_H
#define EIDER_H

#include <stddef.h>
#include <stdint.h>
#include <duckdb.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EIDER_VERSION "0.1.0"

/* The API version a definitions library is built against. A library built against a
 * different version is refused when it is loaded. */
#define EIDER_API_VERSION 1

#if defined(__GNUC__)
#define EIDER_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define EIDER_PRINTF(f, a)
#endif

/* ---------------------------------------------------------------------------------
 * Errors. Every function that can fail returns one of these (EIDER_OK is 0, errors
 * are negative). The detailed message is on the handle: eider_defs_errmsg(),
 * eider_result_error(), or the step's failure.
 */
#define EIDER_ERRNO_MAP(X)                                                          \
    X(ERROR, -1, "error")                                                            \
    X(NOMEM, -2, "out of memory")                                                    \
    X(INVAL, -3, "invalid argument")                                                 \
    X(DUPLICATE, -4, "duplicate asset key")                                          \
    X(UNKNOWNDEP, -5, "unknown dependency")                                          \
    X(CYCLE, -6, "dependency cycle")                                                 \
    X(NORESOURCE, -7, "unknown resource")                                            \
    X(SELECT, -8, "bad selection")                                                   \
    X(NOTFOUND, -9, "not found")                                                     \
    X(SQL, -10, "SQL error")                                                         \
    X(DUCKDB, -11, "DuckDB error")                                                   \
    X(LOCKED, -12, "database locked by another process")                             \
    X(COMPILE, -13, "definitions failed to compile")                                 \
    X(LOAD, -14, "definitions failed to load")                                       \
    X(APIVERSION, -15, "incompatible API version")                                   \
    X(STEP, -16, "asset failed")                                                     \
    X(IO, -17, "I/O error")                                                          \
    X(RUNFAILED, -18, "run failed")                                                  \
    X(CANCELED, -19, "run canceled")

typedef enum eider_errno {
    EIDER_OK = 0,
#define EIDER__ERR_ENUM(name, code, msg) EIDER_E##name = code,
    EIDER_ERRNO_MAP(EIDER__ERR_ENUM)
#undef EIDER__ERR_ENUM
} eider_errno;

/* A short description of an error code ("dependency cycle"). Static storage. */
const char *eider_strerror(int err);
/* The code's name ("EIDER_ECYCLE"). Static storage. */
const char *eider_errname(int err);

/* The library's version string, EIDER_VERSION of the build. Static storage. */
const char *eider_version(void);

/* ---------------------------------------------------------------------------------
 * Definitions.
 */
typedef struct eider_defs eider_defs;
typedef struct eider_context eider_context;

/* A NULL-terminated list of strings, as a compound literal: EIDER_KEYS("a", "b/c"). */
#define EIDER_KEYS(...) ((const char *const[]){ __VA_ARGS__, NULL })
/* Key/value pairs, NULL-terminated: EIDER_TAGS("domain", "botany", "tier", "gold"). */
#define EIDER_TAGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

typedef enum eider_meta_type {
    EIDER_META_TEXT,
    EIDER_META_INT,
    EIDER_META_FLOAT,
    EIDER_META_BOOL,
    EIDER_META_JSON,     /* text holds a JSON document */
    EIDER_META_URL,
    EIDER_META_MARKDOWN,
} eider_meta_type;

/* One metadata entry. Set the field that matches the type. */
typedef struct eider_meta {
    const char *key;
    eider_meta_type type;
    const char *text;    /* TEXT, JSON, URL, MARKDOWN */
    int64_t i;           /* INT, BOOL (0 or 1) */
    double f;            /* FLOAT */
} eider_meta;

#define EIDER_META_TEXT(k, v) { .key = (k), .type = EIDER_META_TEXT, .text = (v) }
#define EIDER_META_INT(k, v) { .key = (k), .type = EIDER_META_INT, .i = (v) }
#define EIDER_META_FLOAT(k, v) { .key = (k), .type = EIDER_META_FLOAT, .f = (v) }
#define EIDER_META_BOOL(k, v) { .key = (k), .type = EIDER_META_BOOL, .i = !!(v) }
#define EIDER_META_JSON(k, v) { .key = (k), .type = EIDER_META_JSON, .text = (v) }
#define EIDER_META_URL(k, v) { .key = (k), .type = EIDER_META_URL, .text = (v) }
#define EIDER_META_MARKDOWN(k, v) { .key = (k), .type = EIDER_META_MARKDOWN, .text = (v) }
/* A metadata list: EIDER_METADATA(EIDER_META_TEXT("source", "UCI"), ...). */
#define EIDER_METADATA(...) ((const eider_meta[]){ __VA_ARGS__, { 0 } })

/* How a failed asset is retried: up to max_retries (0 to 1000) more attempts, delay_ms
 * before the first retry, multiplied by backoff (if > 1, at most 100) for each further
 * one; jitter (0 to 10) adds up to that fraction at random. A delay is capped at an
 * hour. Each attempt gets new connections. */
typedef struct eider_retry_policy {
    int max_retries;
    int delay_ms;
    double backoff;
    double jitter;
} eider_retry_policy;

/* An asset's compute function. Return EIDER_OK (0) on success; any other value fails
 * the step (eider_sql() and eider_fail() return a suitable code and record why). */
typedef int (*eider_compute_fn)(eider_context *ctx);

/* An asset. Designated initializers; fields only ever grow at the end.
 * key: "name" or "prefix/name" (parts separated by '/'); key_prefix is prepended. */
typedef struct eider_asset_def {
    const char *key;
    eider_compute_fn compute;
    const char *const *deps;         /* keys this asset depends on, EIDER_KEYS(...) */
    const char *key_prefix;          /* optional, "a" or "a/b" */
    const char *description;
    const char *group;               /* default "default" */
    const char *const *tags;         /* EIDER_TAGS(k, v, ...) */
    const char *const *kinds;        /* EIDER_KEYS("duckdb", "sql") */
    const char *const *owners;       /* EIDER_KEYS("team:data", "ada@example.com") */
    const eider_meta *metadata;      /* EIDER_METADATA(...) */
    const char *code_version;
    const char *const *resources;    /* resource names the asset uses */
    eider_retry_policy retry;
    void *user_data;                 /* eider_user_data(ctx) during the step */
} eider_asset_def;

/* An external asset: in the graph and the lineage, never executed. */
typedef struct eider_asset_spec_def {
    const char *key;
    const char *const *deps;
    const char *key_prefix;
    const char *description;
    const char *group;
    const char *const *tags;
    const char *const *kinds;
    const char *const *owners;
    const eider_meta *metadata;
    const char *code_version;
} eider_asset_spec_def;

/* The DuckDB resource. database: a file path (relative paths are relative to the
 * working directory) or ":memory:". connection_config: DuckDB settings as
 * EIDER_TAGS("threads", "2", "memory_limit", "1GB"); an unknown setting or value is
 * an error that names it when the database is opened. */
typedef struct eider_duckdb_config {
    const char *database;
    const char *const *connection_config;
    int read_only;
} eider_duckdb_config;

/* A new, empty definitions object. Never NULL. */
eider_defs *eider_defs_new(void);
/* Frees defs and everything it owns. NULL is a no-op. */
void eider_defs_free(eider_defs *defs);

/* Add an asset / an external asset / a DuckDB resource. Everything but compute and
 * user_data is copied.
 * Errors found now (a malformed key, a duplicate) return a code and are also
 * remembered: eider_defs_validate() reports the first one, so a definitions function
 * may ignore the return values. */
int eider_asset(eider_defs *defs, const eider_asset_def *def);
int eider_asset_spec(eider_defs *defs, const eider_asset_spec_def *spec);
int eider_duckdb_resource(eider_defs *defs, const char *name, const eider_duckdb_config *config);

/* Check the definitions as a whole: duplicate keys, unknown dependencies (with a
 * suggestion), cycles (the cycle printed), unknown resources. Builds the asset graph.
 * Returns EIDER_OK or the first error; the message is in eider_defs_errmsg(). */
int eider_defs_validate(eider_defs *defs);

/* The message of the last error on defs, "" when none. Valid until defs changes. */
const char *eider_defs_errmsg(const eider_defs *defs);

/* Load definitions from a file into defs and validate them:
 *   "x.c"  compiled with the system C compiler into a cache folder (again only when
 *          the source changes), then loaded;
 *   "x.so" loaded as built.
 * The library must define `void eider_definitions(eider_defs *defs)` and be built
 * against this header's EIDER_API_VERSION. cache_dir may be NULL (".eider/cache"
 * beside the file). On error the message (compiler output included) is in
 * eider_defs_errmsg(). The library stays loaded until eider_defs_free(). */
int eider_defs_load(eider_defs *defs, const char *path, const char *cache_dir);

/* What the last eider_defs_load() had to say that was not an error: the compiler's
 * warnings when it compiled the file; "" when none (and when the cache was used).
 * Valid until defs changes. */
const char *eider_defs_warnings(const eider_defs *defs);

/* Read-only view of the validated definitions, in definition order. Strings are valid
 * until defs is freed. */
size_t eider_defs_count(const eider_defs *defs);
const char *eider_defs_key(const eider_defs *defs, size_t i);
/* Index of key, or -1. */
long eider_defs_find(const eider_defs *defs, const char *key);

typedef struct eider_asset_info {
    const char *key;
    const char *description;         /* NULL when none */
    const char *group;
    const char *code_version;        /* NULL when none */
    int external;                    /* 1 for an asset spec */
    const char *const *deps;         /* NULL-terminated */
    const char *const *tags;         /* NULL-terminated pairs */
    const char *const *kinds;
    const char *const *owners;
    const char *const *resources;
    const eider_meta *metadata;      /* terminated by a NULL key */
} eider_asset_info;

/* Fill *info for asset i. Returns EIDER_OK or EIDER_EINVAL. */
int eider_defs_info(const eider_defs *defs, size_t i, eider_asset_info *info);

/* Resolve a selection (Dagster's syntax: "key", "a/b", "*key", "key+", "group:g",
 * "tag:k=v", "kind:k", "owner:o", and/or/not, parentheses, "roots()", "sinks()", comma
 * lists; NULL or "*" selects everything). selected must hold eider_defs_count()
 * bytes; each is set to 1 or 0. On a syntax error, the message points at the column. */
int eider_defs_select(eider_defs *defs, const char *selection, unsigned char *selected);

/* ---------------------------------------------------------------------------------
 * Runs.
 */
typedef enum eider_event_type {
    EIDER_EVENT_RUN_START,
    EIDER_EVENT_RUN_END,
    EIDER_EVENT_STEP_START,
    EIDER_EVENT_STEP_SUCCESS,
    EIDER_EVENT_STEP_FAILURE,
    EIDER_EVENT_STEP_SKIPPED,
    EIDER_EVENT_STEP_RETRY,
    EIDER_EVENT_LOG,
    EIDER_EVENT_MATERIALIZATION,
    EIDER_EVENT_STEP_CANCELED,       /* not started, or interrupted, because the run was canceled */
} eider_event_type;

typedef enum eider_log_level {
    EIDER_LOG_DEBUG,
    EIDER_LOG_INFO,
    EIDER_LOG_WARN,
    EIDER_LOG_ERROR,
} eider_log_level;

/* An event of a run. Pointers are valid only during the on_event call. */
typedef struct eider_event {
    eider_event_type type;
    const char *run_id;
    const char *asset_key;           /* NULL for run events and run-level logs */
    int64_t time_us;                 /* microseconds since the epoch */
    int attempt;                     /* 1 for a first try */
    double duration_s;               /* STEP_SUCCESS / STEP_FAILURE / RUN_END */
    eider_log_level level;           /* LOG */
    const char *message;             /* LOG text, failure reason, skip reason */
    const char *sql;                 /* STEP_FAILURE: the failing SQL, or NULL */
    const eider_meta *metadata;      /* MATERIALIZATION */
    size_t n_metadata;
    int n_succeeded, n_failed, n_skipped;  /* RUN_END */
    int n_canceled;                  /* RUN_END */
} eider_event;

/* Where a run's events go. Eider calls on_event from worker threads but never two
 * calls at once, in the order the events happened. */
typedef struct eider_event_sink {
    void (*on_event)(const eider_event *event, void *user_data);
    void *user_data;
} eider_event_sink;

typedef struct eider_run_options {
    const char *selection;           /* NULL selects every asset */
    int jobs;                        /* worker threads; 0 = number of cores */
    double lock_timeout_s;           /* wait for a locked database; 0 = 60 s, < 0 none */
    const eider_event_sink *sink;    /* may be NULL */
    const char *run_id;              /* NULL: a new random id */
    /* When *cancel becomes nonzero (a signal handler may set it), no further step
     * starts, running queries are interrupted, and eider_materialize() returns
     * EIDER_ECANCELED with the steps not done marked EIDER_STEP_CANCELED. May be NULL. */
    const volatile int *cancel;
} eider_run_options;

typedef enum eider_step_status {
    EIDER_STEP_SUCCESS,
    EIDER_STEP_FAILED,
    EIDER_STEP_SKIPPED,
    EIDER_STEP_CANCELED,
} eider_step_status;

/* The outcome of a run. It refers to the definitions it ran: free it before them.
 * Strings it returns are valid until eider_result_free(). */
typedef struct eider_result eider_result;

/* Materialize the selected assets of defs in this process. External assets are never
 * executed. Returns EIDER_OK when every step succeeded, EIDER_ERUNFAILED when one
 * failed or was skipped, EIDER_ECANCELED when options->cancel stopped it, or another
 * code when the run could not start (bad selection, invalid definitions; the message
 * in eider_defs_errmsg()). *result (may be NULL) gets
 * the per-asset outcome whenever steps ran; free it with eider_result_free(). */
int eider_materialize(eider_defs *defs, const eider_run_options *options,
                      eider_result **result);

void eider_result_free(eider_result *result);
const char *eider_result_run_id(const eider_result *result);
/* Steps in the order they were planned (a topological order). */
size_t eider_result_count(const eider_result *result);
const char *eider_result_key(const eider_result *result, size_t i);
eider_step_status eider_result_status(const eider_result *result, size_t i);
/* Index of key among the steps, or -1. */
long eider_result_find(const eider_result *result, const char *key);
/* The failure message, or the reason for a skip; NULL on success. */
const char *eider_result_error(const eider_result *result, size_t i);
/* The failing SQL, or NULL. */
const char *eider_result_sql(const eider_result *result, size_t i);
double eider_result_duration(const eider_result *result, size_t i);
int eider_result_attempts(const eider_result *result, size_t i);
/* The step's log lines, one per line, timestamped; "" when none. */
const char *eider_result_log(const eider_result *result, size_t i);
/* Metadata reported by the step; *n gets the count. Valid until the result is freed. */
const eider_meta *eider_result_metadata(const eider_result *result, size_t i, size_t *n);

/* ---------------------------------------------------------------------------------
 * The step context: what a compute function may use. Everything returned is valid
 * until the step ends.
 */

/* The key of the asset being materialized. */
const char *eider_asset_key(const eider_context *ctx);
/* The user_data of the asset's definition. */
void *eider_user_data(const eider_context *ctx);
/* 1 for the first attempt, 2 for the first retry, ... */
int eider_attempt(const eider_context *ctx);
const char *eider_run_id(const eider_context *ctx);

/* The key of the asset whose step runs on the calling thread, or NULL. Safe to call
 * from a signal handler: a crash handler uses it to name the asset that crashed. */
const char *eider_current_asset(void);

/* A connection to the DuckDB resource `name`. Eider owns it and closes it when the
 * step ends, also when the step fails, so a transaction left open is rolled back; do
 * not disconnect it. Each call opens a new connection (about 3 µs): keep the one you
 * got for work that must share a session (temporary tables, SET). Returns NULL when
 * the resource is unknown or the database cannot be opened, with the step's failure
 * set. The database is opened once per run and shared by every step's connection. */
duckdb_connection eider_duckdb_connection(eider_context *ctx, const char *name);

/* Run one or more SQL statements on con. On error, records DuckDB's message and the
 * failing SQL as the step's failure and returns EIDER_ESQL; else EIDER_OK. */
int eider_sql(eider_context *ctx, duckdb_connection con, const char *sql);
/* Run the statements of sql; read the first column of the last one's first row, an
 * integer of any width that fits int64_t, into *out. No row, a NULL or another type
 * fails the step (EIDER_ESQL). */
int eider_sql_int64(eider_context *ctx, duckdb_connection con, const char *sql, int64_t *out);

/* Fail the step with a message; returns EIDER_ESTEP, so `return eider_fail(...)`. */
int eider_fail(eider_context *ctx, const char *fmt, ...) EIDER_PRINTF(2, 3);

/* The step's logger: timestamped, kept per step, sent as LOG events. */
void eider_log(eider_context *ctx, eider_log_level level, const char *fmt, ...) EIDER_PRINTF(3, 4);
#define eider_log_debug(ctx, ...) eider_log((ctx), EIDER_LOG_DEBUG, __VA_ARGS__)
#define eider_log_info(ctx, ...) eider_log((ctx), EIDER_LOG_INFO, __VA_ARGS__)
#define eider_log_warn(ctx, ...) eider_log((ctx), EIDER_LOG_WARN, __VA_ARGS__)
#define eider_log_error(ctx, ...) eider_log((ctx), EIDER_LOG_ERROR, __VA_ARGS__)

/* Metadata for this step's materialization. Copied. */
int eider_add_meta(eider_context *ctx, const eider_meta *meta);
int eider_add_meta_text(eider_context *ctx, const char *key, const char *value);
int eider_add_meta_int(eider_context *ctx, const char *key, int64_t value);
int eider_add_meta_float(eider_context *ctx, const char *key, double value);

/* ---------------------------------------------------------------------------------
 * Programs that link libeider: build defs, then let Eider be their command line
 * (`./my_pipeline materialize --select ...`). Returns the process exit code.
 */
int eider_main(eider_defs *defs, int argc, char **argv);

/* ---------------------------------------------------------------------------------
 * Definitions libraries. Define this function in the file you pass to `eider -f` (it
 * stays visible to Eider even when the library is built with -fvisibility=hidden): */
#if defined(__GNUC__)
__attribute__((visibility("default")))
#endif
void eider_definitions(eider_defs *defs);

/* Including this header stamps the API version into the definitions library, so that
 * Eider can refuse one built against an incompatible header. */
#if !defined(EIDER_BUILDING_LIBRARY) && defined(__GNUC__)
#ifdef __cplusplus
extern   /* a const at namespace scope would otherwise have internal linkage in C++ */
#endif
__attribute__((weak, visibility("default"))) const int eider_definitions_api_version =
    EIDER_API_VERSION;
#endif

#ifdef __cplusplus
}
#endif
#endif /* EIDER_H */
