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
#include <stdio.h>
#include <duckdb.h>
#ifdef __cplusplus
#include <atomic>
#else
#include <stdatomic.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define EIDER_VERSION "0.1.0"

/* The API version a definitions library is built against (including this header
 * stamps it into the library). A library built against this version or an older one
 * (down to 1) loads; one built against a newer header is refused with EIDER_EAPIVERSION.
 * Definition structs only grow at the end, each growth with a new version: Eider reads
 * from an older library's structs only the fields its version had, and the newer
 * fields take their defaults. */
#define EIDER_API_VERSION 5

/* An int that threads (and a signal handler) may share: C11's atomic_int, or
 * std::atomic<int> in C++, which has its layout. */
#ifdef __cplusplus
typedef std::atomic<int> eider_atomic_int;
#else
typedef atomic_int eider_atomic_int;
#endif

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
    X(CANCELED, -19, "run canceled")                                                 \
    X(CRASHED, -20, "run worker crashed")

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
typedef struct eider_store eider_store;

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
 * key: "name" or "prefix/name" (parts separated by '/'); key_prefix is prepended. A
 * part may not be empty, "." or "..", nor hold '*', '?' or '[' (validation refuses them). */
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
    /* The I/O manager (since API 2). */
    const struct eider_input_def *ins;   /* inputs needing options, EIDER_INPUTS(...) */
    const char *io_manager_key;      /* stores the output; default "io_manager" */
    int output;                      /* an eider_output_kind; default EIDER_OUTPUT_DEFAULT */
    const struct eider_partitions *partitions;   /* NULL: not partitioned */
    /* The longest an attempt may run, in seconds (since API 4); 0: no limit. At the
     * deadline the attempt's DuckDB queries (the I/O manager's write of its output
     * included) are interrupted, any further eider_sql() fails, and the attempt fails
     * "timed out after N s" (a retry, if any, gets the same time again). Code that
     * runs on without returning is not stopped in process; under
     * eider_materialize_worker() the run worker is killed once the grace period
     * (eider_run_options.timeout_grace_s) has passed too. */
    double timeout_s;
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
    const char *io_manager_key;      /* loads it for downstream assets; default "io_manager" */
    const struct eider_partitions *partitions;
} eider_asset_spec_def;

/* The DuckDB resource. database: a file path (relative paths are relative to the
 * working directory) or ":memory:". connection_config: DuckDB settings as
 * EIDER_TAGS("threads", "2", "memory_limit", "1GB"); an unknown setting or value is
 * an error that names it when the database is opened. secret_config: settings whose
 * values are secret, EIDER_TAGS("s3_secret_access_key", key): set as connection_config's
 * are, but a value is never shown — a message that would quote it (a refused setting,
 * DuckDB's error, a failing step's) says *** instead; a connection_config setting whose
 * name says it holds a secret (eider's rule: it contains "secret", "password",
 * "passwd", "token", "key_id", "access_key", "api_key", "connection_string" or
 * "credential") is kept so too.
 * Since API 4. */
typedef struct eider_duckdb_config {
    const char *database;
    const char *const *connection_config;
    int read_only;
    const char *const *secret_config;
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

/* ---------------------------------------------------------------------------------
 * Asset checks: data quality tests that belong to an asset (Dagster's @asset_check,
 * dbt's tests, SQLMesh's audits). They run in the asset's step, right after its
 * compute function, on the rows it produced:
 *   - an asset stored by a DuckDB I/O manager: its blocking checks of severity error
 *     inside the write's transaction, on its table (the partitions the run wrote) as it
 *     is about to be published, so that one that fails rolls the write back: the
 *     table (or partition) keeps what it held before; the others once it committed;
 *   - an asset stored by another I/O manager: on its output, before it is stored;
 *   - an asset that writes its own tables (a DuckDB resource): after it returns, on
 *     its table as the DuckDB I/O manager would name it (schema.table from metadata
 *     "schema" and the key, or metadata "table"), in the database of the DuckDB
 *     resource it declares (its first; the only one when it declares none); a failing
 *     blocking check cannot undo its SQL, so it fails the step and blocks the assets
 *     downstream, as in Dagster.
 * A failing blocking check of severity error fails the asset's step (downstream assets
 * are skipped); any other failing check is recorded with the materialization and
 * warned about. A check whose own SQL or code errs is an error, never a pass.
 */
typedef enum eider_check_severity {
    EIDER_CHECK_ERROR,               /* the default */
    EIDER_CHECK_WARN,
} eider_check_severity;

typedef enum eider_check_status {
    EIDER_CHECK_PASSED,
    EIDER_CHECK_FAILED,
    EIDER_CHECK_ERRORED,             /* the check itself failed (bad SQL, an error) */
} eider_check_status;
/* "passed", "failed", "errored"; "error", "warn". */
const char *eider_check_status_name(eider_check_status status);
const char *eider_check_severity_name(eider_check_severity severity);

/* A row-count range: the checked rows number at least min and at most max (max < 0:
 * no upper bound). */
typedef struct eider_check_range {
    int64_t min, max;
} eider_check_range;

/* One check of one asset. Give exactly one of what it checks (compute, not_null,
 * unique, accepted_values, row_count, references, fresh_within_s, columns, sql):
 * the built-in checks are SQL that DuckDB runs where the rows are (no row comes into
 * C); each reports failing_rows and, when it fails, a sample of up to 5 of them.
 * Strings and arrays are copied. */
typedef struct eider_check_def {
    const char *asset;               /* the key of the asset it checks */
    const char *name;                /* unique among the asset's checks; default: from
                                        what it checks ("not_null_id", "unique_a_b", ...) */
    const char *description;
    int blocking;                    /* 1: a failure (of severity error) fails the step */
    eider_check_severity severity;
    /* A check in C: it reads the rows through eider_check_connection() and
     * eider_check_relation(); returns EIDER_OK (passed, unless it called
     * eider_check_failed()), or an error code (or eider_fail()): the check errored.
     * eider_add_meta() adds to the check's metadata. */
    int (*compute)(eider_context *ctx);
    void *user_data;                 /* eider_user_data() in compute */
    const char *const *not_null;     /* these columns hold no NULL */
    const char *const *unique;       /* no two rows share these columns' values (rows
                                        with a NULL among them are not compared, as dbt) */
    const char *column;              /* the column of accepted_values, references and
                                        fresh_within_s */
    const char *const *accepted_values;  /* .column's values (as text) are among these;
                                            NULL is accepted (add not_null for it) */
    const eider_check_range *row_count;
    const char *references;          /* "asset.column": each non-NULL .column value is
                                        a value of that column of that asset's table
                                        (a foreign key; both in one DuckDB database;
                                        that asset upstream, so written first) */
    double fresh_within_s;           /* the newest .column value (a TIMESTAMP, TIMESTAMPTZ
                                        or DATE) is at most this many seconds old */
    const char *const *columns;      /* EIDER_TAGS("id", "BIGINT", "name", "VARCHAR"):
                                        these columns exist with these types (others may
                                        too) */
    const char *sql;                 /* a query whose rows are the failures; {asset}
                                        (the checked asset's key in braces) names its
                                        rows */
} eider_check_def;

/* Add a check of asset def->asset. Errors (no asset key, not exactly one thing to
 * check) return a code and are remembered, as eider_asset()'s; an unknown asset, a
 * duplicate name, or a references asset unknown or not upstream are found by
 * eider_defs_validate(). */
int eider_asset_check(eider_defs *defs, const eider_check_def *def);

/* SQL models: each .sql file under folder (its subfolders too) is an asset whose output
 * is the file's query, one SELECT, stored by I/O manager io_manager_key (NULL: the
 * default): the key is the file's path below folder without ".sql"
 * (analytics/orders.sql: analytics/orders, so the table analytics.orders), its kind
 * "sql", its metadata "sql_file". Its dependencies are the tables the query reads,
 * found by DuckDB's parser (CTEs aside) and matched, when the definitions are
 * validated, to the assets that store them (by schema and table as the DuckDB I/O
 * manager names them, or by table alone when one asset has it): models, assets in C,
 * external assets. A table no asset stores is an error naming the file and line, with
 * the nearest table. The query runs as eider_output_sql() runs SQL, so a table it
 * reads must be in the I/O manager's database. Errors (no folder, a file DuckDB cannot
 * parse, several statements) return a code and are remembered, as eider_asset()'s. */
int eider_sql_models(eider_defs *defs, const char *folder, const char *io_manager_key);

/* Column-level lineage of an SQL model (asset i of validated definitions), as DuckDB's
 * parser reads its query: how many output columns it has (0 for an asset that is no
 * SQL model), and the j-th's name — its alias, the column it is, or "#N" (its place)
 * for another unnamed expression; "*" for SELECT * — with *sources, NULL-terminated,
 * the columns it reads: "asset/key.column" when an asset stores the table, else
 * "table.column" as the query names it ("?.column" when the query does not say which
 * of its tables; a CTE or subquery by its name, not traced through). Valid until defs
 * is freed. */
size_t eider_defs_column_count(const eider_defs *defs, size_t i);
const char *eider_defs_column(const eider_defs *defs, size_t i, size_t j,
                              const char *const **sources);

/* Give SQL models' template variable name ("{{ name }}" in their SQL) the text value,
 * over what the project file and the model's configuration give (the command line's
 * --var NAME=VALUE). Set before the models are added. A name is letters, digits and
 * '_', not starting with a digit. */
int eider_defs_var(eider_defs *defs, const char *name, const char *value);

/* A project without C (eider.yaml, read by libyaml), its paths relative to its folder:
 *   database: shop.duckdb        the default I/O manager: DuckDB, this file
 *   schema: analytics            its default schema
 *   models: [models]             folders of SQL models (eider_sql_models); default:
 *                                "models" when that folder exists
 *   sources:                     external assets (eider_asset_spec), by key
 *     raw/events: {description: ..., schema: raw, table: events, group: ...}
 * eider_defs_load() loads a .yaml path as a project; definitions in C may call this to
 * add one. Errors name the file and line, and are remembered, as eider_asset()'s. */
int eider_project(eider_defs *defs, const char *path);

/* In a check's compute function: the connection on which the checked rows are read
 * (inside the write's transaction, when there is one: use no BEGIN or COMMIT), and the
 * relation that reads them, to use in a FROM clause. Owned by Eider, valid during the
 * call; NULL outside a check. */
duckdb_connection eider_check_connection(eider_context *ctx);
const char *eider_check_relation(eider_context *ctx);
/* Mark the check failed, saying why (printf-style). Returns EIDER_OK. */
int eider_check_failed(eider_context *ctx, const char *fmt, ...) EIDER_PRINTF(2, 3);

/* Check the definitions as a whole: duplicate keys, unknown dependencies (with a
 * suggestion), cycles (the cycle printed), unknown resources. Builds the asset graph.
 * Returns EIDER_OK or the first error; the message is in eider_defs_errmsg(). */
int eider_defs_validate(eider_defs *defs);

/* A number that changes when a file or folder the definitions were read from besides
 * their libraries changes (SQL models, their configuration, their folders, a project
 * file): eider dev reloads when it does. 0 when there is none. */
uint64_t eider_defs_sources_signature(const eider_defs *defs);

/* The message of the last error on defs, "" when none. Valid until defs changes. */
const char *eider_defs_errmsg(const eider_defs *defs);

/* Where the last error points in a selection: when eider_defs_select() or
 * eider_defs_select_partitions() failed on the selection's text (a syntax error, or a
 * key, group, tag, kind or owner that no asset has), the column of the message's
 * "at column N" (from 1, counted in characters: UTF-8 code points); else 0. Lets a
 * caller that shows the selection point at the place itself (the message also draws
 * a caret under it, on its last two lines). */
size_t eider_defs_errcolumn(const eider_defs *defs);

/* Load definitions from a file into defs and validate them:
 *   "x.c"  compiled with the system C compiler into a cache folder (again only when
 *          the source changes), then loaded;
 *   "x.so" loaded as built;
 *   "x.yaml" (or .yml) a project without C, read by eider_project().
 * The library must define `void eider_definitions(eider_defs *defs)` and be built
 * against this header's EIDER_API_VERSION or an older one. cache_dir may be NULL (".eider/cache"
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
    int partitioned;                 /* 1 when it has .partitions */
    const char *dynamic_partitions;  /* the name of its dynamic partitions (or of its
                                        dynamic dimension), or NULL */
} eider_asset_info;

/* The partition keys of asset i (see eider_defs_find) that request names, in order:
 * "KEY", a range "A...B", or NULL for every key as of now. *keys is malloc'd, each key
 * too: free with eider_keys_free(). Returns EIDER_OK; EIDER_EINVAL when the asset is not
 * partitioned, EIDER_ESELECT for an unknown key or a bad range (the message in
 * eider_defs_errmsg()). */
int eider_defs_partition_keys(eider_defs *defs, size_t i, const char *request, char ***keys,
                              size_t *n);
void eider_keys_free(char **keys, size_t n);

/* The checks of asset i (validated definitions): how many, and the name of the j-th,
 * in the order they were added; 0 and NULL when out of range. */
size_t eider_defs_check_count(const eider_defs *defs, size_t i);
const char *eider_defs_check_name(const eider_defs *defs, size_t i, size_t j);

/* Fill *info for asset i. Returns EIDER_OK or EIDER_EINVAL. */
int eider_defs_info(const eider_defs *defs, size_t i, eider_asset_info *info);
/* The key of the I/O manager that stores asset i's output and loads it for the assets
 * downstream ("io_manager" for the default one), or NULL when none does: the asset
 * writes its own tables (its .output is EIDER_OUTPUT_NONE, or it declares .resources
 * with the default .output and names no .io_manager_key), the I/O manager is not
 * defined (or is a DuckDB resource), or i is out of range.
 * Valid until defs is freed. */
const char *eider_defs_io_manager(const eider_defs *defs, size_t i);

/* Resolve a selection (Dagster's syntax: "key", "a/b", "*key", "key+", "group:g",
 * "tag:k=v", "kind:k", "owner:o", "check:glob" (the assets with such a check),
 * and/or/not, parentheses, "roots()", "sinks()", comma lists; NULL or "*" selects
 * everything). selected must hold eider_defs_count()
 * bytes; each is set to 1 or 0. On a syntax error, the message points at the column.
 * A key, group, tag (or tag value), kind or owner that no asset has is an error too
 * (EIDER_ESELECT, with the nearest known one), never an empty selection. */
int eider_defs_select(eider_defs *defs, const char *selection, unsigned char *selected);
/* The same for a run of partition (a key or a range "A...B"; NULL: none) or, with
 * all_partitions, of every partition: "stale()" looks at those partitions, as in
 * eider_materialize() (see eider_defs_use_store()). */
int eider_defs_select_partitions(eider_defs *defs, const char *selection, const char *partition,
                                 int all_partitions, unsigned char *selected);

/* The DuckDB database files a run of the selected assets (selected: one byte per asset
 * as eider_defs_select() sets them; NULL: every asset) may open, so that a launcher can
 * keep two runs on one file apart (DuckDB lets one process hold a file): for each
 * selected asset that is not external, the files of the resources it declares (of
 * every DuckDB resource when it declares none, since its code may connect to any by
 * name), of its I/O manager, and of the I/O managers of the assets it reads.
 * Read-only resources count (a reader's lock keeps a writer out too); in-memory
 * databases and Parquet I/O managers do not. Each file is named as a run names it:
 * the real path of its folder plus its base name. *files gets a malloc'd,
 * NULL-terminated array of *n malloc'd strings, each file once, in the order found:
 * free with eider_keys_free(*files, *n). Returns EIDER_OK, or EIDER_EINVAL when defs
 * is not validated (*files NULL, *n 0). */
int eider_defs_databases(const eider_defs *defs, const unsigned char *selected, char ***files,
                         size_t *n);

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
    EIDER_EVENT_OBSERVATION,         /* metadata about an asset, not a new version of it */
    EIDER_EVENT_CHECK,               /* an asset check's outcome (since API 5) */
} eider_event_type;

typedef enum eider_log_level {
    EIDER_LOG_DEBUG,
    EIDER_LOG_INFO,
    EIDER_LOG_WARN,
    EIDER_LOG_ERROR,
} eider_log_level;

/* The event type's name as stored and printed: "run_start", "step_failure",
 * "materialization", ...; static storage ("unknown" for another value). */
const char *eider_event_name(eider_event_type type);

/* The level's name as stored and printed: "debug", "info", "warning", "error"; static
 * storage ("info" for another value). eider_log_level_parse() returns the level for a
 * name, "warn" accepted for EIDER_LOG_WARN too (as stores before 0.1.0 hold it), or -1. */
const char *eider_log_level_name(eider_log_level level);
int eider_log_level_parse(const char *name);

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
    const char *code_version;        /* MATERIALIZATION: the asset's */
    const char *const *partitions;   /* MATERIALIZATION: the keys written, or NULL */
    size_t n_partitions;
    const char *selection;           /* RUN_START */
    const char *partition;           /* RUN_START: the run's --partition; "all (N)" for
                                        every partition (N keys), "all" when its assets
                                        have different counts */
    size_t n_steps;                  /* RUN_START: the steps the run plans */
    /* RUN_END: 1 when the run worker died before the run's end (see
     * eider_materialize_worker()); message then says how, and the run is recorded
     * 'crashed'. */
    int crashed;
    /* CHECK (since API 5): which check of asset_key, its outcome, its severity and
     * whether it blocks; message says why it failed or errored, sql is its query, and
     * metadata holds failing_rows and a sample of them (JSON rows). partitions: those
     * it checked. */
    const char *check_name;
    eider_check_status check_status;
    eider_check_severity check_severity;
    int check_blocking;
} eider_event;

/* Where a run's events go. Eider calls on_event from worker threads but never two
 * calls at once, in the order the events happened. */
typedef struct eider_event_sink {
    void (*on_event)(const eider_event *event, void *user_data);
    void *user_data;
} eider_event_sink;

/* eider_run_options.lock_timeout_s: wait the default time (60 s) for a locked database. */
#define EIDER_LOCK_TIMEOUT_DEFAULT (-1.0)
/* The longest run id a caller may choose (eider_run_options.run_id). */
#define EIDER_RUN_ID_MAX 39

typedef struct eider_run_options {
    const char *selection;           /* NULL selects every asset */
    int jobs;                        /* worker threads; 0 = number of cores */
    /* How long to wait for a database that another process holds, in seconds: 0 does
     * not wait; EIDER_LOCK_TIMEOUT_DEFAULT (any negative value) waits 60 s. */
    double lock_timeout_s;
    const eider_event_sink *sink;    /* may be NULL */
    /* NULL: a new random id. At most EIDER_RUN_ID_MAX characters, else the run is
     * refused (EIDER_EINVAL). */
    const char *run_id;
    /* When *cancel becomes nonzero (a signal handler may set it: atomic_store(&flag, 1)),
     * no further step starts, running queries are interrupted, and eider_materialize()
     * returns EIDER_ECANCELED with the steps not done marked EIDER_STEP_CANCELED. Set
     * while the run's end waits for a failing instance store, it stops that wait (see
     * eider_result_unrecorded()). It is read from several threads while the run lasts.
     * May be NULL. */
    const eider_atomic_int *cancel;
    /* Partitioned assets: the partition key to materialize, or a range "A...B" of
     * keys (both included); each selected unpartitioned asset runs whole beside them.
     * A selected partitioned asset without that partition is left out
     * (EIDER_LEFT_OUT_NOT_ITS_PARTITION) unless the selection names it by key; when no
     * selected asset has it, the run fails with EIDER_ESELECT (a typo, most likely),
     * unless the selection depends on the assets' state (stale()). A partition given
     * when no selected asset is partitioned fails too, with the same exception; with
     * nothing selected, nothing runs (EIDER_OK).
     * NULL (and all_partitions 0), a run without a partition: it runs what it can of
     * the selection. A partitioned asset the selection names by key ("daily",
     * "daily+", "key:daily") fails with EIDER_ESELECT. The other partitioned assets
     * (selected by "*", a group, a tag, stale(), a traversal, or no selection) are left
     * out (EIDER_LEFT_OUT_NO_PARTITION).
     * In both, each asset that reads one left out that was never materialized
     * successfully (one partition is enough; a try that failed is none), as .store
     * says, else the store eider_defs_use_store() gave; without one, nothing is known
     * to be) is left out too (EIDER_LEFT_OUT_UPSTREAM):
     * its input would not exist. An asset reading one left out that was materialized
     * runs on what is there. eider_result_left_out() lists them; the run succeeds when
     * what ran did, also when everything was left out (a result of 0 steps). */
    const char *partition;
    /* The instance store that records the run (NULL: not recorded), how it was
     * launched ("cli", "api", ...; NULL: "api") and its tags, EIDER_TAGS(k, v, ...). */
    eider_store *store;
    const char *launched_by;
    const char *const *tags;
    /* 1: every partition of each partitioned asset (a backfill in one run); partition
     * must then be NULL. */
    int all_partitions;
    /* eider_materialize_worker(): how long, in seconds, an asset's attempt may run past
     * its timeout_s before the run worker is killed (SIGKILL) and the run recorded
     * crashed; 0 (or less): the default, 5 s. eider_materialize() ignores it. */
    double timeout_grace_s;
    /* 1: evaluate no asset check (eider materialize --no-checks). */
    int no_checks;
    /* 1: compute nothing; evaluate the selected assets' checks against what is stored
     * now (eider check): the selected assets that have checks, external ones too, each
     * a step whose checks' outcomes are its result, without a materialization. A
     * partitioned asset is checked on the run's partitions, or whole without one. A
     * failing check never fails the step: read the outcomes. */
    int checks_only;
} eider_run_options;

typedef enum eider_step_status {
    EIDER_STEP_SUCCESS,
    EIDER_STEP_FAILED,
    EIDER_STEP_SKIPPED,
    EIDER_STEP_CANCELED,
} eider_step_status;

/* The step status's name as printed in JSON: "success", "failure", "skipped",
 * "canceled"; static storage ("unknown" for another value). */
const char *eider_step_status_name(eider_step_status status);

/* The outcome of a run. It refers to the definitions it ran: free it before them.
 * Strings it returns are valid until eider_result_free(). */
typedef struct eider_result eider_result;

/* Materialize the selected assets of defs in this process. External assets are never
 * executed. Returns EIDER_OK when every step succeeded, EIDER_ERUNFAILED when one
 * failed or was skipped, EIDER_ECANCELED when options->cancel stopped it, or another
 * code when the run could not start (EIDER_ESELECT for a bad selection or partition,
 * or invalid definitions; the message
 * in eider_defs_errmsg()). *result (may be NULL) gets
 * the per-asset outcome whenever steps ran; free it with eider_result_free(). A valid
 * selection with no step to run (it selects nothing, external assets only, or only what a
 * run without a partition leaves out) runs
 * nothing: EIDER_OK, a result of 0 steps, no event sent and no run recorded. */
int eider_materialize(eider_defs *defs, const eider_run_options *options,
                      eider_result **result);

/* eider_materialize() with the assets' code in a run worker: the run is planned here,
 * then a child process (fork()) opens the DuckDB databases and runs the steps, and
 * streams each event to this process as it happens (through shared memory: an event
 * is here before the step can go on), which records it in options->store and passes
 * it to options->sink, from this thread. When the worker dies before the run's end —
 * a crash (SIGSEGV, SIGABRT, a stack overflow), exit() in an asset's code, SIGKILL
 * from outside or from the out-of-memory killer, or the kill after an asset's timeout
 * and grace — every event it sent is kept; the steps that were running fail with the
 * signal or exit status, naming their asset; the steps not started are skipped
 * ("skipped: the run worker crashed ..."); a RUN_END event with .crashed set ends the
 * run, recorded 'crashed'; and it returns EIDER_ECRASHED, with the message (which
 * assets, which signal) in eider_defs_errmsg(). Otherwise it returns what
 * eider_materialize() would, with an equal *result (durations aside).
 * options->cancel is watched here and passed on to the worker. The worker ignores
 * SIGINT (a terminal's Ctrl-C reaches it through the cancel flag), takes the default
 * action for crash signals, and is killed when this process dies. The caller's stdout
 * and stderr are flushed before the fork. The store is never touched in the worker.
 * fork() copies only the calling thread: a worker forked from a process whose other
 * threads hold locks (the allocator's, the time zone's, the dynamic loader's, the
 * program's own) starts with them taken, and may wait for them for ever. A program
 * that calls it while other threads run starts the run launcher first
 * (eider_launcher_start()); without one, the worker is forked from the calling thread. */
int eider_materialize_worker(eider_defs *defs, const eider_run_options *options,
                             eider_result **result);

/* Start the run launcher: a process forked now, of one thread, which from now on forks
 * the run workers of eider_materialize_worker() in this process, so that no worker
 * inherits a lock that another thread of this process holds. Call it before the
 * program starts any thread (it is what `eider dev` does). The launcher runs no
 * definitions' code; each worker makes its own definitions: a copy of defs as they are
 * now, when a run is given defs (this very object; may be NULL), or else the
 * definitions libraries that eider_defs_load() loaded, loaded again (the run fails
 * with EIDER_ELOAD if one changed on disk since). Definitions that are neither (the
 * program added to them itself) have their worker forked from the calling thread, as
 * without a launcher. The launcher ignores SIGINT, SIGTERM and SIGHUP; it ends, its
 * workers with it, at eider_launcher_stop(), or when the thread that started it ends.
 * Returns EIDER_OK; EIDER_EINVAL when one runs already; EIDER_EERROR when it cannot
 * be started (errno says why). */
int eider_launcher_start(const eider_defs *defs);
/* Stop the run launcher, and wait for it to end; a worker still running is killed
 * (SIGKILL), so end the runs first. Nothing when none runs. */
void eider_launcher_stop(void);

void eider_result_free(eider_result *result);
/* The run's id: eider_run_options.run_id, else a random UUID ("5600c0de-..."). */
const char *eider_result_run_id(const eider_result *result);
/* The run's partitions as the run records them (eider_run_record.partition): the key,
 * the range "A...B", or "all (N)" for all_partitions; NULL when no step of the run is
 * partitioned. Valid until the result is freed. */
const char *eider_result_partition(const eider_result *result);
/* What the instance store lacks of the run, when it is recorded only in part (the store
 * failed and its end's retries ran out or were canceled): "events 3-9 (7 events, with
 * the materialization of 'a') and the run's end (...)"; NULL when the store holds all
 * of it, or nothing was to be recorded (no store, or its row could not be written).
 * Valid until the result is freed. */
const char *eider_result_unrecorded(const eider_result *result);
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
/* The step's wall time in seconds (a monotonic clock), from its first attempt's start
 * to its end: every attempt and the pauses between retries included, the time spent
 * waiting for a worker thread not. 0 for a step that never ran (skipped, or canceled
 * before it started). */
double eider_result_duration(const eider_result *result, size_t i);
/* The attempts the step made: 1 without a retry, 0 when it never ran. */
int eider_result_attempts(const eider_result *result, size_t i);
/* The step's log lines, one per line, timestamped; "" when none. */
const char *eider_result_log(const eider_result *result, size_t i);
/* Metadata reported by the step; *n gets the count. Valid until the result is freed. */
const eider_meta *eider_result_metadata(const eider_result *result, size_t i, size_t *n);

/* The outcome of one asset check in a run. */
typedef struct eider_check_outcome {
    const char *name;
    eider_check_status status;
    eider_check_severity severity;
    int blocking;
    const char *message;             /* why it failed or errored; NULL when it passed */
    const char *sql;                 /* the query it ran, or NULL (a check in C) */
    const eider_meta *metadata;      /* failing_rows, sample, and a C check's own */
    size_t n_metadata;
} eider_check_outcome;
/* The number of checks step i evaluated (its last attempt's), and the j-th of them.
 * Valid until eider_result_free(). */
size_t eider_result_check_count(const eider_result *result, size_t i);
const eider_check_outcome *eider_result_check(const eider_result *result, size_t i, size_t j);
/* Why a run left a selected asset out (see eider_run_options.partition). */
typedef enum eider_left_out_why {
    EIDER_LEFT_OUT_NO_PARTITION,     /* partitioned, and the run gave no partition */
    EIDER_LEFT_OUT_NOT_ITS_PARTITION,/* partitioned, without the run's partition */
    EIDER_LEFT_OUT_UPSTREAM,         /* it reads an asset left out, never materialized */
} eider_left_out_why;

/* The selected assets the run left out, in a topological order: their count, and the
 * key of the i-th (NULL when i is out of range). *why (may be NULL) gets why;
 * *upstream (may be NULL) the key of the asset left out that it reads, for
 * EIDER_LEFT_OUT_UPSTREAM, else NULL. The result has them also when it has 0 steps. */
size_t eider_result_left_out_count(const eider_result *result);
const char *eider_result_left_out(const eider_result *result, size_t i, eider_left_out_why *why,
                                  const char **upstream);

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
/* The id of the run the step belongs to, as eider_result_run_id() will give it (and as
 * the instance store records it): useful to tag what the step writes. */
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

/* Run one or more SQL statements on con, one by one. On error, records DuckDB's message
 * and the failing SQL as the step's failure and returns EIDER_ESQL; else EIDER_OK. In
 * a script of several statements, the message starts "statement 2 of 3: " and the SQL
 * recorded is that statement's text (the whole script when Eider cannot split it as
 * DuckDB did, e.g. around a $tag$ string). DuckDB secrets are masked (***) in both the
 * SQL and the message before they are printed or stored: the option values of CREATE
 * SECRET statements (but a bare TYPE or PROVIDER name), the value of a SET or PRAGMA of
 * a secret setting, an ATTACH's connection string that holds credentials (password,
 * passwd, pwd, a token, secret or key), and the values of the resources' secret settings
 * (secret_config), as typed and as DuckDB reads them ('' as '); the values found in
 * any SQL given to the step earlier are masked in its later messages too; a
 * message's quoted statement line ("LINE 1: ...") is then left out. A
 * CREATE statement that loses a race on DuckDB's catalog to another step ("write-write
 * conflict on create", e.g. two steps running CREATE SCHEMA IF NOT EXISTS at once) is
 * run again alone, a few times: the retry sees the other step's commit. No other
 * statement is retried. */
int eider_sql(eider_context *ctx, duckdb_connection con, const char *sql);
/* Run the statements of sql; read the first column of the last one's first row, an
 * integer of any width that fits int64_t, into *out. No row, a NULL or another type
 * fails the step (EIDER_ESQL). */
int eider_sql_int64(eider_context *ctx, duckdb_connection con, const char *sql, int64_t *out);

/* Fail the step with a message; returns EIDER_ESTEP, so `return eider_fail(...)`. */
int eider_fail(eider_context *ctx, const char *fmt, ...) EIDER_PRINTF(2, 3);

/* The step's logger: timestamped, kept per step, sent as LOG events. The DuckDB secrets
 * the step's SQL held so far and the resources' secret settings show as *** in it. */
void eider_log(eider_context *ctx, eider_log_level level, const char *fmt, ...) EIDER_PRINTF(3, 4);
#define eider_log_debug(ctx, ...) eider_log((ctx), EIDER_LOG_DEBUG, __VA_ARGS__)
#define eider_log_info(ctx, ...) eider_log((ctx), EIDER_LOG_INFO, __VA_ARGS__)
#define eider_log_warn(ctx, ...) eider_log((ctx), EIDER_LOG_WARN, __VA_ARGS__)
#define eider_log_error(ctx, ...) eider_log((ctx), EIDER_LOG_ERROR, __VA_ARGS__)

/* Record an observation of asset key (any asset, usually an external one: "the
 * source file has 150 rows"): metadata about it that is not a materialization. Sent
 * as an OBSERVATION event (and recorded by the instance store) at once. Copied. */
int eider_observe(eider_context *ctx, const char *key, const eider_meta *metadata, size_t n);

/* Metadata for this step's materialization. Copied. */
int eider_add_meta(eider_context *ctx, const eider_meta *meta);
int eider_add_meta_text(eider_context *ctx, const char *key, const char *value);
int eider_add_meta_int(eider_context *ctx, const char *key, int64_t value);
int eider_add_meta_float(eider_context *ctx, const char *key, double value);

/* ---------------------------------------------------------------------------------
 * Frames: Eider's in-memory columnar table (its DataFrame). Columns are typed, every
 * value may be NULL. A frame is built by rows (like DuckDB's appender) or by whole
 * columns, read by column with typed accessors, queried with DuckDB SQL in place, and
 * crosses the Arrow C Data Interface both ways.
 *
 * Functions that can fail return NULL or an error code and leave a message for the
 * calling thread in eider_frame_error() (as dlerror() does). Inside a step, pass the
 * frame to eider_output_frame() or free it; eider_output_frame(ctx, NULL) fails the
 * step with that message, so `return eider_output_frame(ctx, eider_frame_sql(...))`
 * is safe.
 */
typedef struct eider_frame eider_frame;

typedef enum eider_type {
    EIDER_TYPE_BOOLEAN,              /* bool */
    EIDER_TYPE_INTEGER,              /* int32_t */
    EIDER_TYPE_BIGINT,               /* int64_t */
    EIDER_TYPE_DOUBLE,               /* double */
    EIDER_TYPE_DECIMAL,              /* int64_t unscaled, width 1..18 and scale */
    EIDER_TYPE_VARCHAR,              /* UTF-8 text */
    EIDER_TYPE_DATE,                 /* int32_t days since 1970-01-01 */
    EIDER_TYPE_TIMESTAMP,            /* int64_t microseconds since 1970-01-01, no zone */
    EIDER_TYPE_TIMESTAMP_TZ,         /* int64_t microseconds since 1970-01-01 UTC */
} eider_type;

/* The type's SQL name ("BIGINT", "TIMESTAMP WITH TIME ZONE"). Static storage. */
const char *eider_type_name(eider_type type);

/* A new frame with no columns. Never NULL. */
eider_frame *eider_frame_new(void);
/* Frees the frame. NULL is a no-op. */
void eider_frame_free(eider_frame *frame);
/* The message of the calling thread's last failed frame call, "" when none. Valid
 * until the thread's next frame call. */
const char *eider_frame_error(void);

/* Add a column (before any row is appended, or with the other columns all the same
 * length: new rows of it are NULL). Returns its index, or a negative code: an empty
 * name, or a duplicate (names differ by more than case, as in SQL). DECIMAL columns take
 * width 1..18 and scale 0..width; eider_frame_add_column() makes DECIMAL(18,3). */
int eider_frame_add_column(eider_frame *frame, const char *name, eider_type type);
int eider_frame_add_decimal_column(eider_frame *frame, const char *name, int width, int scale);

/* Building by rows: append one value per column, left to right, then end the row.
 * A value of another type than the column's is converted when exact (an int into a
 * DOUBLE or BIGINT column, text into any column as DuckDB's CAST reads it) and is an
 * error otherwise; so is text that DuckDB would read in a way Eider does not follow
 * (a hex number, a zone after a time without seconds, an exponent in DECIMAL text
 * that needs rounding), and a date or timestamp past DuckDB's range. */
int eider_frame_append_null(eider_frame *frame);
int eider_frame_append_bool(eider_frame *frame, int value);
int eider_frame_append_int64(eider_frame *frame, int64_t value);
int eider_frame_append_double(eider_frame *frame, double value);
int eider_frame_append_text(eider_frame *frame, const char *value);   /* NULL appends NULL */
/* End the row: every column must have had its value. */
int eider_frame_end_row(eider_frame *frame);

/* Building by whole columns: add a column of n values, copied. values holds n items of
 * the type's C type (see eider_type; VARCHAR: const char *, NULL for NULL; DECIMAL:
 * unscaled int64 of DECIMAL(18,3), below 10^18 in absolute value); valid is NULL (none
 * NULL) or n bytes, 0 marking a NULL. The frame must be empty or have n rows. Returns
 * the column's index or a negative code. */
int eider_frame_add_column_data(eider_frame *frame, const char *name, eider_type type,
                                const void *values, const uint8_t *valid, size_t n);

size_t eider_frame_rows(const eider_frame *frame);
size_t eider_frame_columns(const eider_frame *frame);
/* Column i's name / type (DECIMAL's width and scale in *width, *scale, may be NULL);
 * NULL or -1 when i is out of range. */
const char *eider_frame_column_name(const eider_frame *frame, size_t i);
int eider_frame_column_type(const eider_frame *frame, size_t i, int *width, int *scale);
/* Index of the column called name, or -1. */
long eider_frame_column_index(const eider_frame *frame, const char *name);

/* Typed reads of column col, row row. Out of range reads are NULL.
 *   is_null   1 for a NULL (or out of range)
 *   get_int64 BOOLEAN, INTEGER, BIGINT, DATE, TIMESTAMP(_TZ) and DECIMAL (unscaled)
 *   get_double any numeric column (DECIMAL scaled)
 *   get_bool  BOOLEAN
 *   get_text  VARCHAR: the NUL-terminated text, valid while the frame lives; NULL for NULL
 * A NULL reads as 0 (or NULL for text). */
int eider_frame_is_null(const eider_frame *frame, size_t col, size_t row);
int64_t eider_frame_get_int64(const eider_frame *frame, size_t col, size_t row);
double eider_frame_get_double(const eider_frame *frame, size_t col, size_t row);
int eider_frame_get_bool(const eider_frame *frame, size_t col, size_t row);
const char *eider_frame_get_text(const eider_frame *frame, size_t col, size_t row);
/* The column's values as an array of its C type (see eider_type; not for VARCHAR or
 * BOOLEAN), valid until the frame changes; NULL for another type. */
const void *eider_frame_column_data(const eider_frame *frame, size_t col);

/* Print the column names, types and the first n rows as an aligned table. */
void eider_frame_print(const eider_frame *frame, size_t n, FILE *out);

/* Read a CSV file with DuckDB's CSV reader. options may be NULL (detect everything). */
typedef struct eider_csv_options {
    const char *const *columns;      /* column names, EIDER_KEYS(...); else the header's */
    const char *const *types;        /* DuckDB type per column, EIDER_KEYS("DOUBLE", ...) */
    int header;                      /* 1: the first line is a header; 0: detect; -1: none */
    const char *delimiter;           /* default: detect */
} eider_csv_options;
eider_frame *eider_frame_read_csv(const char *path, const eider_csv_options *options);

/* A frame and the name SQL knows it by. */
typedef struct eider_frame_ref {
    const char *name;
    const eider_frame *frame;
} eider_frame_ref;
#define EIDER_FRAMES(...) ((const eider_frame_ref[]){ __VA_ARGS__, { 0 } })

/* Run DuckDB SQL over frames, each visible by its name and scanned in place (not
 * copied); the result is a new frame. frames may be NULL. The SQL runs on a private
 * in-memory database inside a transaction that is rolled back: tables it creates do not
 * outlive the call.
 *   eider_frame_sql(EIDER_FRAMES({ "iris", iris }), "SELECT species, count(*) FROM iris GROUP BY 1") */
eider_frame *eider_frame_sql(const eider_frame_ref *frames, const char *sql);
/* The rows whose column equals value (compared as that column's type), in order. */
eider_frame *eider_frame_filter_eq(const eider_frame *frame, const char *column, const char *value);
/* The rows for which the SQL condition holds, in order: eider_frame_filter(f, "x > 3"). */
eider_frame *eider_frame_filter(const eider_frame *frame, const char *condition);
/* The given columns, in the given order. */
eider_frame *eider_frame_select(const eider_frame *frame, const char *const *columns);

/* The Arrow C Data Interface (https://arrow.apache.org/docs/format/CDataInterface.html).
 * duckdb.h only declares these structs; Eider defines them with the specification's
 * layout unless ARROW_C_DATA_INTERFACE is defined already. */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE
#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4
struct ArrowSchema {
    const char *format;
    const char *name;
    const char *metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema **children;
    struct ArrowSchema *dictionary;
    void (*release)(struct ArrowSchema *);
    void *private_data;
};
struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;
    void (*release)(struct ArrowArray *);
    void *private_data;
};
#endif
#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE
struct ArrowArrayStream {
    int (*get_schema)(struct ArrowArrayStream *, struct ArrowSchema *out);
    int (*get_next)(struct ArrowArrayStream *, struct ArrowArray *out);
    const char *(*get_last_error)(struct ArrowArrayStream *);
    void (*release)(struct ArrowArrayStream *);
    void *private_data;
};
#endif

/* Export the frame as one struct array (a record batch) with its schema; both are
 * the caller's, freed by their release callbacks, and stay valid after the frame is
 * freed. Returns EIDER_OK or a code. */
int eider_frame_to_arrow(const eider_frame *frame, struct ArrowSchema *schema,
                         struct ArrowArray *array);
/* Export the frame as a stream of record batches of at most batch_rows rows (0: all). */
int eider_frame_to_arrow_stream(const eider_frame *frame, size_t batch_rows,
                                struct ArrowArrayStream *out);
/* A new frame from a struct array and its schema (the struct's columns). The values
 * are copied; the caller keeps both and releases them.
 * Types: bool, int8-64, uint8-32, float, double, decimal128 (width <= 18), utf8,
 * large_utf8, date32, date64, timestamp (any unit; with a zone, TIMESTAMP_TZ). */
eider_frame *eider_frame_from_arrow(const struct ArrowSchema *schema,
                                    const struct ArrowArray *array);
/* A new frame from a whole stream. Eider reads it to its end and releases it, also on
 * error (the stream's get_last_error() message is then in eider_frame_error()). */
eider_frame *eider_frame_from_arrow_stream(struct ArrowArrayStream *stream);

/* ---------------------------------------------------------------------------------
 * Partitions. A partitions definition belongs to defs (freed with it); pass it to
 * assets through .partitions. Each returns NULL on error, with the message in
 * eider_defs_errmsg() (also reported by eider_defs_validate()).
 */
typedef struct eider_partitions eider_partitions;

/* A fixed list of keys, EIDER_KEYS("setosa", "versicolor"). */
const eider_partitions *eider_static_partitions(eider_defs *defs, const char *const *keys);

typedef enum eider_time_unit {
    EIDER_HOURLY,                    /* keys "2024-01-31-13:00" */
    EIDER_DAILY,                     /* keys "2024-01-31" */
    EIDER_WEEKLY,                    /* keys "2024-01-28", the Sunday that starts the week */
    EIDER_MONTHLY,                   /* keys "2024-01-01" */
} eider_time_unit;

/* Time windows from start (a key of the unit, "2024-01-01") up to the last complete
 * window before end ("2024-03-01"; NULL: now), in an IANA time zone (NULL: "UTC"). */
typedef struct eider_time_partitions_def {
    eider_time_unit unit;
    const char *start;
    const char *end;
    const char *timezone;
} eider_time_partitions_def;
const eider_partitions *eider_time_partitions(eider_defs *defs,
                                              const eider_time_partitions_def *def);

/* Dimensions by name: each key is the dimensions' keys joined by '|' in the order
 * of names, "setosa|2024-01-01". Two dimensions or more (Dagster allows two).
 *   eider_multi_partitions(defs, EIDER_KEYS("species", "day"), EIDER_PARTITIONS(s, d)) */
#define EIDER_PARTITIONS(...) ((const eider_partitions *const[]){ __VA_ARGS__, NULL })
const eider_partitions *eider_multi_partitions(eider_defs *defs, const char *const *names,
                                               const eider_partitions *const *dimensions);

/* Partitions whose keys are added at run time (Dagster's DynamicPartitionsDefinition),
 * kept in the instance store under name: `eider partitions add NAME KEY...` or
 * eider_store_add_partitions(). Keys are strings in the order they were added (no
 * "...", no '|'). A run reads them from its store (eider_run_options.store, else the one
 * given to eider_defs_use_store()) when it starts; without a store there are none. */
const eider_partitions *eider_dynamic_partitions(eider_defs *defs, const char *name);
/* Whether defs declares dynamic partitions called name (with eider_dynamic_partitions()):
 * EIDER_OK, else EIDER_ESELECT with a message in eider_defs_errmsg() that gives the
 * name it likely meant ("did you mean 'regions'?") or the names declared. Keys are
 * added by name, so `eider partitions` checks the name here first. */
int eider_defs_find_dynamic(eider_defs *defs, const char *name);

/* Which partitions of a partitioned upstream a partition of an asset reads (Dagster's
 * partition mappings), set on the input: .ins = EIDER_INPUTS({ .key = "events",
 * .partition_mapping = { .kind = EIDER_MAP_TIME_WINDOW, .start_offset = -1,
 * .end_offset = -1 } }). Left zero (EIDER_MAP_INFER), Eider infers it where only one
 * reading makes sense: the same definition (identity); two time definitions (the
 * upstream windows that overlap the asset's own); static keys that are all upstream
 * keys (identity); a multi-partitioned side with exactly one dimension like the other
 * side (that dimension). Anything else is refused by eider_defs_validate(), with a
 * message naming the mapping to declare. An unpartitioned asset reads every partition
 * of its upstream, and a partitioned one every row of an unpartitioned upstream. */
typedef enum eider_mapping_kind {
    EIDER_MAP_INFER,                 /* the default: inferred as above, or refused */
    EIDER_MAP_IDENTITY,              /* the same keys */
    EIDER_MAP_TIME_WINDOW,           /* both time partitioned: the upstream windows that
                                        overlap the asset's window shifted by start_offset
                                        (its start) and end_offset (its end) windows of
                                        the asset's unit; -1, -1 is the previous window,
                                        and may name the asset itself (its own previous
                                        partition: no cycle; its first run has none, see
                                        eider_input_exists) */
    EIDER_MAP_DIMENSION,             /* a multi-partitioned side: keys agree on the part
                                        of dimension `dimension`; the other parts are all
                                        read */
    EIDER_MAP_ALL,                   /* every partition of the upstream */
    EIDER_MAP_STATIC,                /* pairs: EIDER_KEYS("asset key", "upstream key",
                                        ...); a key may appear in several pairs */
} eider_mapping_kind;

typedef struct eider_partition_mapping {
    eider_mapping_kind kind;
    int start_offset, end_offset;    /* EIDER_MAP_TIME_WINDOW */
    const char *dimension;           /* EIDER_MAP_DIMENSION */
    const char *const *pairs;        /* EIDER_MAP_STATIC */
} eider_partition_mapping;

/* ---------------------------------------------------------------------------------
 * The I/O manager: an asset returns a table (a frame, an Arrow stream, SQL over its
 * inputs, or a type of your own) and Eider stores it; downstream assets receive it as
 * an input. Storage follows dagster-duckdb:
 *   table  = the asset's metadata "table", else the key's last part;
 *   schema = metadata "schema" > the I/O manager's schema > the key's prefix > "public".
 * Asset metadata that steers the I/O manager (all text):
 *   "partition_expr"    the SQL expression holding a partitioned asset's partition
 *                       (required then); for several dimensions a JSON object
 *                       {"dimension": "expression", ...}
 *   "on_schema_change"  "replace" (default: the table takes the new columns),
 *                       "evolve" (new columns are added, missing ones get NULL),
 *                       "fail"
 *   "materialized"      "table" (default) or "view" (an SQL output only, no copy)
 *   "write_order"       "keep" (default) or "any": a parallel, unordered write
 *   "write_mode"        "replace" (default): the output replaces the table (its
 *                       partitions written); "append": its rows are inserted beside
 *                       those there; "merge": matched by "unique_key", changed rows
 *                       are updated and new keys inserted (a key column the output
 *                       lacks, a NULL key or two rows of one key fail the step);
 *                       "snapshot": every version of each key is kept, with columns
 *                       valid_from and valid_to (TIMESTAMPTZ, NULL while current): a
 *                       changed row closes its key's version and opens a new one. An
 *                       appended, merged or snapshot table evolves by default
 *   "unique_key"        a merge's or a snapshot's key: "id" or "id, day"
 *   "check_columns"     the columns a snapshot compares ("name, price"); default:
 *                       every column but the key
 *   "snapshot_compare"  "columns" (default): each compared column IS DISTINCT FROM
 *                       its old value; "hash": one hash of them (a colliding change,
 *                       one in 2^64, goes unseen)
 *   "merge_delete_missing"  "true": a merge also deletes the rows whose key the
 *                       output lacks (in the partitions written), a snapshot closes
 *                       their current versions; default "false"
 * Every write runs in one transaction: readers see the old table or the new one,
 * never an empty or half-written one. Columns are matched by name.
 */
/* Whether a step must give an output. An asset *stores through an I/O manager* when
 * it names one (.io_manager_key), or when it declares no .resources and the default I/O
 * manager ("io_manager") is defined. By default such an asset that returns without an
 * output fails (as Dagster's "Unexpected 'None' output"): nothing was stored, so it
 * must not count as materialized. An asset that declares .resources runs its own SQL
 * (the tutorial's Option 1) and may give none. */
typedef enum eider_output_kind {
    EIDER_OUTPUT_DEFAULT,            /* REQUIRED if it stores through an I/O manager, else OPTIONAL */
    EIDER_OUTPUT_REQUIRED,           /* a step that gives none fails */
    EIDER_OUTPUT_NONE,               /* the asset writes its own tables; giving one fails */
    EIDER_OUTPUT_OPTIONAL,           /* stored if the compute function gives one; none is fine */
} eider_output_kind;

/* Options for one input of an asset. key names the upstream asset (it is added to the
 * asset's deps). columns: load only these (EIDER_KEYS(...)). partition_mapping: which
 * partitions of a partitioned upstream it reads. */
typedef struct eider_input_def {
    const char *key;
    const char *const *columns;
    /* Which partitions of a partitioned upstream each partition loads (see
     * eider_partition_mapping). Zero: inferred, or refused when ambiguous. Since API 3. */
    eider_partition_mapping partition_mapping;
} eider_input_def;
#define EIDER_INPUTS(...) ((const struct eider_input_def[]){ __VA_ARGS__, { 0 } })

typedef struct eider_duckdb_io_config {
    const char *database;            /* a file path or ":memory:" */
    const char *schema;              /* default: the key prefix, else "public" */
    const char *const *connection_config;
    const char *const *secret_config;   /* as eider_duckdb_config's; since API 4 */
} eider_duckdb_io_config;

/* Add a DuckDB I/O manager under key (NULL: "io_manager"). A DuckDB resource and an
 * I/O manager naming one file share one database. */
int eider_duckdb_io_manager(eider_defs *defs, const char *key, const eider_duckdb_io_config *config);

typedef struct eider_parquet_io_config {
    const char *base_path;           /* folder; a file per asset (and partition) under it */
} eider_parquet_io_config;
/* Add a Parquet I/O manager: each output is written by DuckDB's COPY to
 * base_path/<key parts>.parquet, or base_path/<key parts>/<partition>.parquet. A frame,
 * an Arrow stream or an SQL output may be stored; SQL runs in the manager's private
 * in-memory database, where its inputs are other Parquet-stored assets (see
 * eider_output_sql). */
int eider_parquet_io_manager(eider_defs *defs, const char *key, const eider_parquet_io_config *config);

typedef struct eider_postgres_io_config {
    const char *conninfo;            /* libpq's: "postgresql://user@host/db" or "host=... dbname=..." */
    const char *schema;              /* default: the key prefix, else "public" */
} eider_postgres_io_config;
/* Add a PostgreSQL I/O manager under key (NULL: "io_manager"), for publishing results
 * where an application reads them: each output becomes the table schema.table of that
 * database (named as the DuckDB I/O manager names them), written in one transaction
 * with libpq's COPY (the table replaced whole; a partitioned asset's partitions
 * deleted and inserted); an input is copied out into the manager's in-memory DuckDB
 * database, so frames and SQL read it as any other. Column types map to PostgreSQL's
 * (BIGINT bigint, DOUBLE double precision, VARCHAR text, TIMESTAMPTZ timestamptz, ...);
 * a nested type (LIST, STRUCT, MAP) fails the step naming the column: cast it. The
 * password never appears in a message. write_mode is not supported (yet). */
int eider_postgres_io_manager(eider_defs *defs, const char *key,
                              const eider_postgres_io_config *config);

/* What a type handler's callbacks, and an I/O manager of your own, get: where the value
 * goes or comes from. */
typedef struct eider_io eider_io;
/* The I/O step's DuckDB connection, owned by Eider. */
duckdb_connection eider_io_connection(eider_io *io);
/* The quoted table name ("catalog"."schema"."table") and the SQL that loads the input
 * (with its columns and partition filter). */
const char *eider_io_table(eider_io *io);
const char *eider_io_load_sql(eider_io *io);
/* Store through the built-in paths: a frame (borrowed), or the rows of a query. */
int eider_io_store_frame(eider_io *io, const eider_frame *frame);
int eider_io_store_sql(eider_io *io, const char *sql);
/* Load the input as a frame, freed by the caller. */
eider_frame *eider_io_load_frame(eider_io *io);
/* Add an entry to the metadata of the step's materialization (an I/O manager's
 * metadata method reports the write with it); as eider_add_meta(). */
int eider_io_add_meta(eider_io *io, const eider_meta *m);
/* Fail the I/O with a message; returns EIDER_ESTEP. */
int eider_io_fail(eider_io *io, const char *fmt, ...) EIDER_PRINTF(2, 3);
/* The key of the asset stored or loaded ("a/b"), owned by Eider. */
const char *eider_io_asset_key(eider_io *io);
/* The partition keys concerned: those the step writes (an output), or those of the
 * input the step reads; NULL with *n = 0 when every partition (or the asset is not
 * partitioned). Owned by Eider, valid during the call. */
const char *const *eider_io_partition_keys(eider_io *io, size_t *n);

/* An I/O manager: where outputs go and how inputs come back. The built-in ones (DuckDB,
 * Parquet, PostgreSQL) are made of these same methods. Eider runs the SQL side: each
 * method gets an eider_io whose connection (eider_io_connection) is to the manager's
 * database (for one of your own, an in-memory DuckDB database of its own), where a
 * frame output is a relation and an SQL output runs; it names the asset
 * (eider_io_asset_key) and its partitions (eider_io_partition_keys). Methods run on the
 * step's thread, and several steps may call one manager at once: keep user_data
 * read-only, or lock it. exists, relation and store are required; the rest may be NULL.
 *   exists    1 when the asset's stored output exists (for its partitions), 0 when
 *             not: an input that does not exist fails the step, naming the asset to
 *             materialize first
 *   relation  how an input loads: SQL that reads the stored output on the connection,
 *             in a FROM clause: a table function (read_csv('out/a.csv')), a subquery in
 *             parentheses, or a table the method filled; malloc'd, freed by Eider; NULL
 *             fails the step (after eider_io_fail()). Frames and Arrow streams of the
 *             input are read from it
 *   store     write the rows of the query source (run it on the connection: COPY
 *             (source) TO ...), *rows their number (-1: not known); EIDER_OK, or
 *             eider_io_fail()'s code
 *   free      called with user_data when the definitions are freed
 *   (since API 5:)
 *   open      called first on each eider_io, to prepare what the other methods share;
 *             EIDER_OK, or eider_io_fail()'s code
 *   metadata  after a store: report the write's metadata with eider_io_add_meta().
 *             source is still readable, rows is store's count. NULL: Eider reads
 *             relation's columns, row count and first rows
 *   describe  the stored output and where it is, for messages ("CSV file 'out/a.csv'");
 *             malloc'd, freed by Eider. NULL: "the stored output of KEY in 'MANAGER'"
 *   flags     EIDER_IO_LOCAL_RELATION: relation names a table of the manager's own
 *             database, which an SQL output stored by another manager cannot read
 * Fields only ever grow at the end. */
#define EIDER_IO_LOCAL_RELATION 1u
typedef struct eider_io_manager_def {
    int (*exists)(eider_io *io, void *user_data);
    char *(*relation)(eider_io *io, void *user_data);
    int (*store)(eider_io *io, const char *source, int64_t *rows, void *user_data);
    void (*free)(void *user_data);
    void *user_data;
    int (*open)(eider_io *io, void *user_data);
    int (*metadata)(eider_io *io, const char *source, int64_t rows, void *user_data);
    char *(*describe)(eider_io *io, void *user_data);
    unsigned flags;
} eider_io_manager_def;
/* Add an I/O manager of your own under key (NULL: "io_manager"); an asset chooses it
 * with .io_manager_key. EIDER_EINVAL without exists, relation and store. */
int eider_io_manager(eider_defs *defs, const char *key, const eider_io_manager_def *def);

/* A handler for values of your own type, named by type. store turns a value into a
 * table (usually with eider_io_store_frame), load turns a table into a value, free
 * frees a loaded value at the end of the step. */
typedef struct eider_type_handler_def {
    const char *type;
    int (*store)(eider_io *io, const void *value, void *user_data);
    void *(*load)(eider_io *io, void *user_data);
    void (*free)(void *value, void *user_data);
    void *user_data;
} eider_type_handler_def;
/* Register a handler with the DuckDB I/O manager under io_manager_key (NULL: "io_manager"). */
int eider_type_handler(eider_defs *defs, const char *io_manager_key, const eider_type_handler_def *def);

/* In a compute function: the input loaded from the upstream asset `key`, as a frame,
 * an Arrow stream, or the quoted table name for SQL. NULL on error, with the step's
 * failure set (a missing table names the asset that should produce it). Owned by the
 * step: valid until it ends. */
const eider_frame *eider_input_frame(eider_context *ctx, const char *key);
struct ArrowArrayStream *eider_input_arrow(eider_context *ctx, const char *key);
const char *eider_input_table(eider_context *ctx, const char *key);
/* An input of a registered handler's type (type NULL: a frame). */
void *eider_input(eider_context *ctx, const char *key, const char *type);
/* 1 when the table (or Parquet file) of input `key` exists, so that loading it reads
 * what an earlier run stored; 0 when it does not yet, or when the asset has no input
 * `key` (then the step's failure is set). Loads nothing. Made for an asset that reads
 * its own earlier partitions (an EIDER_MAP_TIME_WINDOW input naming itself), as dbt's
 * is_incremental(): on its first run its table does not exist, so
 *   eider_input_frame()  gives an empty frame with no columns, which
 *                        eider_frame_sql() refuses: test this first;
 *   "{key}" in SQL       fails the step, since no empty relation can have the columns
 *                        the table will have: give SQL without it.
 * Once the table exists, a partition with nothing earlier (the first of the range)
 * reads an empty relation with the table's columns. Since API 3. */
int eider_input_exists(eider_context *ctx, const char *key);

/* The step's output, stored by the asset's I/O manager when the compute function
 * returns successfully.
 *   eider_output_frame  takes the frame (also on error); NULL fails the step with
 *                       eider_frame_error()
 *   eider_output_arrow  reads and releases the stream
 *   eider_output_sql    a query over the inputs: "{iris_dataset}" becomes the upstream
 *                       table's quoted name; DuckDB runs it, no row passes through C.
 *                       It runs in the database of the asset's I/O manager, so its
 *                       inputs must live there: into a DuckDB I/O manager, tables of
 *                       that database file; into a Parquet I/O manager (whose database
 *                       is its own, in memory), assets stored as Parquet files (read
 *                       with read_parquet()). An input in another database fails the
 *                       step: load it with eider_input_frame() instead
 *   eider_output        a value of a registered handler's type, borrowed until the step ends */
int eider_output_frame(eider_context *ctx, eider_frame *frame);
int eider_output_arrow(eider_context *ctx, struct ArrowArrayStream *stream);
int eider_output_sql(eider_context *ctx, const char *sql);
int eider_output(eider_context *ctx, const char *type, const void *value);

/* Make a frame visible by name to SQL on every connection of this step (DuckDB's
 * replacement scans), so `CREATE TABLE iris.iris_dataset AS SELECT * FROM iris_df`
 * works as written. The frame is borrowed until the step ends. */
int eider_register_frame(eider_context *ctx, const char *name, const eider_frame *frame);

/* The partition keys this step materializes (one, or a range); n gets the count.
 * NULL and 0 when the asset is not partitioned. */
const char *const *eider_partition_keys(const eider_context *ctx, size_t *n);

/* ---------------------------------------------------------------------------------
 * The instance store: every run, its events and each asset's latest materialization,
 * kept so that the command line and the UI can show status, history and staleness.
 * SQLite (one file in WAL mode) by default; PostgreSQL when several machines share it.
 */
/* Open the store at location:
 *   "postgresql://..." (or "postgres://...")  a PostgreSQL database, through libpq;
 *   "host=... dbname=... user=..."              the same, as libpq key=value settings
 *                                               (any string libpq parses as such);
 *   a folder, or "sqlite:FOLDER"                its eider.sqlite3 (both made if missing);
 *   NULL                                        $EIDER_STORAGE if set, else the folder
 *                                               $EIDER_HOME, else ".eider";
 *   "none" (or EIDER_STORAGE=none)              refused with EIDER_EINVAL: nothing is to
 *                                               be recorded (the CLI runs unrecorded).
 * Anything else (another scheme such as "mysql://...", a "name:..." or "name=..." that
 * is none of these) is refused with EIDER_EINVAL before anything is made; a folder
 * whose name starts so is written "./name:..." or "sqlite:name:...". A password is
 * never shown: messages and eider_store_location() name the store as libpq parses it,
 * without it. A SQLite store is made private: the folders made for it 0700, the file
 * 0600 (its -wal and -shm take the file's mode), less what the umask takes away.
 * Migrates the schema to this Eider's version; a store written by a newer Eider is
 * refused. Marks as crashed the started runs whose lease ran out (a recording run renews
 * its lease every $EIDER_RUN_LEASE_S / 12 seconds; it lasts $EIDER_RUN_LEASE_S, default
 * 60), on any host. *out is always set (NULL
 * only when memory ran out): on error read eider_store_errmsg(), then close it. */
int eider_store_open(const char *location, eider_store **out);
/* Open the store at location (as eider_store_open() finds it) to read it only:
 * nothing is created, migrated or marked, and a store this process may not write is
 * read all the same (a SQLite store of another user's is read without making any file
 * beside it, also when it was closed cleanly). EIDER_ENOTFOUND when there is none yet
 * (nothing was recorded); EIDER_EAPIVERSION when its schema is another Eider's;
 * EIDER_EIO when it is there but cannot be read (the message says why). For eider_store_runs(),
 * _events(), _assets(), _history() and _status(); writing through it fails. *out is
 * set as by eider_store_open(); after EIDER_ENOTFOUND it reads as an empty store (no
 * run, every asset never materialized, no dynamic partition key). */
int eider_store_open_readonly(const char *location, eider_store **out);
/* Whether eider_store_open() may open the store at location (found as it finds it)
 * without harm to the store's owner: 1 for PostgreSQL (the server decides what this
 * user may do); for SQLite, 1 when the store exists, this process may write it and its
 * folder, and is its owner or root, since a file SQLite makes beside it (its -wal and
 * -shm) belongs to the user who made it (to the store's owner when root made it), and
 * one another user made leaves the store unwritable for its owner. 0 otherwise, and
 * for "none". A read-only open of a store this process may not write makes no file. */
int eider_store_writable(const char *location);
/* Close the store, writing what is buffered. NULL is a no-op. */
void eider_store_close(eider_store *store);
/* The message of the last error on store, "" when none. */
const char *eider_store_errmsg(const eider_store *store);
/* "sqlite:/abs/path/eider.sqlite3", or the PostgreSQL URL (or key=value settings)
 * rebuilt without its password. */
const char *eider_store_location(const eider_store *store);

typedef enum eider_run_status {
    EIDER_RUN_QUEUED,
    EIDER_RUN_STARTED,
    EIDER_RUN_SUCCESS,
    EIDER_RUN_FAILURE,
    EIDER_RUN_CANCELED,
    EIDER_RUN_CRASHED,               /* its lease ran out: its process died (killed, or a
                                      * crash in user code), or stopped renewing it */
} eider_run_status;

/* "queued", "started", "success", "failure", "canceled", "crashed"; static storage.
 * eider_run_status_parse() returns the status for a name, in any case, or -1; it also
 * takes "running", "succeeded", "failed" and "cancelled". */
const char *eider_run_status_name(eider_run_status status);
int eider_run_status_parse(const char *name);

/* A run as recorded. Strings are valid during the callback only. */
typedef struct eider_run_record {
    const char *run_id;
    eider_run_status status;
    const char *selection;           /* NULL: everything */
    const char *partition;           /* NULL: none */
    const char *launched_by;         /* "cli", "api", ... */
    const char *tags;                /* JSON object */
    int64_t start_us, end_us;        /* end_us 0 while it runs */
    int n_succeeded, n_failed, n_skipped, n_canceled;
} eider_run_record;

/* Runs, newest first: status < 0 for any, run_id NULL for any (else that run, or the
 * runs whose id starts with it), at most limit (0: 100). fn returns nonzero to stop. */
typedef int (*eider_run_fn)(const eider_run_record *run, void *user_data);
int eider_store_runs(eider_store *store, int status, const char *run_id, size_t limit,
                     eider_run_fn fn, void *user_data);

/* The events of run_id with an id above after_id, in order; fn gets each with its id
 * (pass the last one as after_id to follow a live run). A run marked crashed ends with
 * a run_end event (level error) whose message says why; that one is not stored (its
 * duration_s is 0, and its id the next event's should the run come back, as a run
 * stopped past its lease does). Their fields are valid during the call only. */
typedef int (*eider_stored_event_fn)(int64_t id, const eider_event *event, void *user_data);
int eider_store_events(eider_store *store, const char *run_id, int64_t after_id,
                       eider_stored_event_fn fn, void *user_data);

/* An asset's state: its latest materialization (per partition, "" when unpartitioned)
 * and the outcome of its latest run. */
typedef struct eider_asset_record {
    const char *asset_key;
    const char *partition;           /* "" when unpartitioned */
    const char *run_id;              /* the run that materialized it; NULL if none did */
    int64_t materialized_us;         /* 0 when never */
    const char *code_version;        /* at that materialization, or NULL */
    const eider_meta *metadata;
    size_t n_metadata;
    const char *last_run_id;         /* the latest run that tried it */
    int last_failed;                 /* 1 when that run's step failed */
    int64_t last_us;
    double duration_s;               /* how long the step that materialized it took; -1
                                        when not known (never materialized, or recorded
                                        by an Eider whose store did not keep it) */
} eider_asset_record;

typedef int (*eider_asset_fn)(const eider_asset_record *record, void *user_data);
/* The state of asset key, one record per partition (key NULL: every asset). */
int eider_store_assets(eider_store *store, const char *key, eider_asset_fn fn, void *user_data);
/* Its materializations, newest first (at most limit; 0: 100): the row-count history. */
int eider_store_history(eider_store *store, const char *key, size_t limit, eider_asset_fn fn,
                        void *user_data);

/* An asset check's outcome as the store keeps it: a row per check, run and partition. */
typedef struct eider_check_record {
    const char *asset_key;
    const char *check_name;
    const char *partition;           /* "" when unpartitioned */
    const char *run_id;
    int64_t time_us;
    eider_check_status status;
    eider_check_severity severity;
    int blocking;
    const char *message;             /* why it failed or erred, or NULL */
    const char *sql;                 /* the query it ran, or NULL */
    const eider_meta *metadata;      /* failing_rows, sample, ... */
    size_t n_metadata;
} eider_check_record;

typedef int (*eider_check_fn)(const eider_check_record *record, void *user_data);
/* The outcomes of asset key's checks (check NULL: of every one of them; key NULL: of
 * every asset), newest first, at most limit (0: 100). With latest 1, only the newest
 * of each check and partition (the asset's check status). */
int eider_store_checks(eider_store *store, const char *key, const char *check, int latest,
                       size_t limit, eider_check_fn fn, void *user_data);

/* Forget asset key's state and materializations (of one partition, or all: NULL).
 * Its tables are untouched. *n gets the partitions wiped. */
int eider_store_wipe(eider_store *store, const char *key, const char *partition, size_t *n);
/* Delete runs that ended more than keep_days ago, with their events; *n gets the count. */
int eider_store_gc(eider_store *store, double keep_days, size_t *n);

typedef enum eider_asset_status {
    EIDER_ASSET_NEVER,               /* never materialized */
    EIDER_ASSET_FRESH,
    EIDER_ASSET_STALE,               /* code changed, an upstream is newer, or stale */
    EIDER_ASSET_FAILED,              /* its latest run failed */
    EIDER_ASSET_EXTERNAL,            /* an external asset: not Eider's to materialize */
} eider_asset_status;

/* "never", "fresh", "stale", "failed", "external"; static storage ("unknown" for
 * another value). */
const char *eider_asset_status_name(eider_asset_status status);
/* The status of every asset of defs (validated), into out[eider_defs_count(defs)]. */
int eider_store_status(eider_store *store, eider_defs *defs, eider_asset_status *out);

/* Let selections on defs use the store: "stale()" selects stale, failed and never
 * materialized assets (in a run with a partition, a range or all_partitions, a
 * partitioned asset that has those partitions is also selected when one of them was
 * never materialized or its latest try failed); the keys of its dynamic partitions are read from it (now, and
 * again as each run starts). store is borrowed; NULL forgets it. */
void eider_defs_use_store(eider_defs *defs, eider_store *store);

/* Add keys (NULL-terminated) to the dynamic partitions called name, after those it
 * has; a key it has already is kept once. *n_added (may be NULL) gets how many were
 * new. All or none are added: a bad key (empty, with "...", '|' or a control
 * character) is EIDER_EINVAL, the message in eider_store_errmsg(). */
int eider_store_add_partitions(eider_store *store, const char *name, const char *const *keys,
                               size_t *n_added);
/* The keys of dynamic partitions name, in the order they were added: *keys is
 * malloc'd, each key too; free with eider_keys_free(). */
int eider_store_partition_keys(eider_store *store, const char *name, char ***keys, size_t *n);

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
 * Eider can refuse one built against a newer header and read an older one's structs at
 * their size. */
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
