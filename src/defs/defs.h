/*
 * defs.h — the definitions registry inside libeider: assets, external assets and
 * resources as they were copied in, and the asset graph built by validation.
 */
#ifndef EIDER_DEFS_H
#define EIDER_DEFS_H

#define EIDER_BUILDING_LIBRARY 1
#include <sys/types.h>
#include <time.h>

#include "eider.h"
#include "../util/util.h"

typedef struct eider__asset {
    char *key;
    char *description;               /* NULL when none */
    char *group;                     /* never NULL */
    char *code_version;              /* NULL when none */
    char **deps, **tags, **kinds, **owners, **resources;   /* NULL-terminated */
    size_t n_deps, n_tags, n_kinds, n_owners, n_resources;  /* n_tags counts strings */
    eider_meta *metadata;            /* terminated by a NULL key */
    size_t n_metadata;
    eider_compute_fn compute;        /* NULL for an external asset */
    void *user_data;
    eider_retry_policy retry;
    double timeout_s;                /* an attempt's limit; 0: none */
    int external;

    /* The I/O manager. */
    char *io_manager;                /* the resource that stores and loads it */
    eider_output_kind output;
    eider_input_def *ins;            /* options per input, n_ins of them */
    size_t n_ins;
    const eider_partitions *partitions;

    /* The graph, filled by validation: indices of upstream and downstream assets. */
    uint32_t *up, *down;
    size_t n_up, n_down;
    eider_partition_mapping *up_maps;   /* per up[]: which of its partitions a partition
                                           reads (when both are partitioned) */
    int reads_own_past;              /* an input of its own earlier partitions (not in up) */
    eider_partition_mapping own_map;
    uint32_t *checks;                /* its checks (indices into defs->checks), after */
    size_t n_checks;                 /* validation, in definition order */
} eider__asset;

typedef enum eider__resource_kind {
    EIDER__DUCKDB,                   /* eider_duckdb_resource() */
    EIDER__IO_DUCKDB,                /* eider_duckdb_io_manager() */
    EIDER__IO_PARQUET,               /* eider_parquet_io_manager(): an in-memory database */
    EIDER__IO_CUSTOM,                /* eider_io_manager(): an in-memory database */
    EIDER__IO_POSTGRES,              /* eider_postgres_io_manager(): an in-memory database */
} eider__resource_kind;

typedef struct eider__resource {
    char *name;
    eider__resource_kind kind;
    char *database;
    char **config;                   /* NULL-terminated name/value pairs */
    size_t config_shown;             /* config[i] for i >= this came from secret_config */
    int read_only;
    char *schema;                    /* I/O managers: the default schema, or NULL */
    char *base_path;                 /* the Parquet I/O manager's folder */
    char *conninfo;                  /* the PostgreSQL I/O manager's libpq connection string */
    eider_type_handler_def *handlers;   /* type names in the arena */
    size_t n_handlers, cap_handlers;
    eider_io_manager_def methods;    /* an I/O manager's (built in or the user's own) */
} eider__resource;

/* What an asset check checks (eider_check_def: exactly one of its kinds). */
typedef enum eider__check_kind {
    EIDER__CHECK_C,                  /* .compute */
    EIDER__CHECK_NOT_NULL,           /* columns */
    EIDER__CHECK_UNIQUE,             /* columns */
    EIDER__CHECK_ACCEPTED,           /* column, values */
    EIDER__CHECK_ROW_COUNT,          /* min_rows, max_rows */
    EIDER__CHECK_REFERENCES,         /* column, ref_asset, ref_column */
    EIDER__CHECK_FRESHNESS,          /* column, fresh_s */
    EIDER__CHECK_SCHEMA,             /* columns: name/type pairs */
    EIDER__CHECK_SQL,                /* sql */
} eider__check_kind;

typedef struct eider__check {
    char *asset_key;                 /* as given; asset is its index after validation */
    uint32_t asset;
    char *name, *description;
    int blocking;
    eider_check_severity severity;
    eider__check_kind kind;
    int (*compute)(eider_context *ctx);
    void *user_data;
    char **columns;                  /* NULL-terminated (n_columns strings) */
    size_t n_columns;
    char *column;
    char **values;                   /* accepted values, NULL-terminated */
    size_t n_values;
    int64_t min_rows, max_rows;      /* max_rows < 0: no upper bound */
    char *ref_asset, *ref_column;    /* references "asset.column" */
    uint32_t ref;                    /* ref_asset's index after validation */
    double fresh_s;
    char *sql;
} eider__check;

/* A table an SQL model's query reads (models.c), matched to an asset at validation. */
typedef struct eider__model_ref {
    char *model, *path;              /* the model's key and file */
    char *schema, *table;            /* schema NULL when the query does not name one */
    size_t line;                     /* where in the file, from 1 (0: not known) */
} eider__model_ref;

/* An output column of an SQL model and the columns it reads (lineage.c): sources are
 * "schema.table.column" as the query names them, made "asset/key.column" when the
 * definitions are validated; strings in the arena. */
typedef struct eider__column_lineage {
    char *model, *column;
    char **sources;                  /* NULL-terminated */
    size_t n_sources;
} eider__column_lineage;

/* A definitions library eider_defs_load() opened, or a project file it read: its handle (closed by
 * eider_defs_free()), its real path, and the file as it was when it was opened. */
typedef struct eider__library {
    void *handle;                    /* NULL for a project file (eider.yaml) */
    char *path;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} eider__library;

struct eider_defs {
    uint64_t serial;                 /* this object's number among those made: never reused */
    eider__arena arena;              /* every string and list above lives here */
    eider__asset *assets;
    size_t n_assets, cap_assets;
    eider__resource *resources;
    size_t n_resources, cap_resources;
    eider__check *checks;            /* asset checks, in definition order */
    size_t n_checks, cap_checks;
    eider__model_ref *model_refs;    /* the tables SQL models read */
    size_t n_model_refs, cap_model_refs;
    eider__column_lineage *lineage;  /* their columns, each model's together */
    size_t n_lineage, cap_lineage;
    char **sources;                  /* files and folders read besides the libraries (SQL */
    size_t n_sources, cap_sources;   /* models, their folders, project files): arena */
    char **vars;                     /* SQL models' variables, NULL-terminated name/value
                                        pairs (strings in the arena): */
    size_t n_vars, cap_vars;         /* eider_defs_var()'s (the command line's) */
    char **project_vars;             /* and the project file's, which those override */
    size_t n_project_vars, cap_project_vars;
    eider__index by_key;             /* key -> index into assets */
    uint32_t *topo;                  /* a topological order, after validation */
    int validated;
    int first_error;                 /* the first code found while adding, or 0 */
    eider__buf first_errmsg;         /* ...and its message */
    eider__buf errmsg;               /* the message of the last error */
    size_t errcolumn;                /* ...and the selection's column it points at, or 0 */
    eider__buf warnings;             /* the compiler's, from the last load */
    eider__library *libraries;       /* what eider_defs_load() opened, in order */
    size_t n_libraries, cap_libraries;
    /* The assets and resources there were after the last library's eider_definitions(),
     * and whether any were added between libraries or before the first: then the
     * libraries alone do not make these definitions (eider__defs_from_libraries()). */
    size_t lib_assets, lib_resources;
    int added_outside;
    /* The API version of the definitions library whose eider_definitions() is running
     * (load.c), so that its structs are read at that version's size; 0: this header's. */
    int caller_api;
    /* The status of every asset, for the selection's stale(), for a run's partitions
     * (partition, or all; neither: over every partition): set by
     * eider_defs_use_store() (the store layer), NULL when no store is in use. */
    int (*status)(void *store, const eider_defs *defs, const char *partition, int all,
                  eider_asset_status *out);
    void *status_store;
    const eider_partitions **dynamic;   /* dynamic partitions, their keys from the store */
    size_t n_dynamic, cap_dynamic;
};

/* Set the message of defs's last error; returns code. */
int eider__defs_error(eider_defs *defs, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Remember the first error found while adding (reported again by
 * eider_defs_validate()); returns code. */
int eider__defs_remember(eider_defs *defs, int code);

/* dlclose every library eider_defs_load() opened (load.c). */
void eider__defs_close_libraries(eider_defs *defs);

/* Whether defs are exactly what their libraries define (loaded from files, nothing
 * added by the program), so that another process can make them again by loading the
 * same libraries (load.c). */
int eider__defs_from_libraries(const eider_defs *defs);

/* Load the built library path into defs, as eider_defs_load() does (without
 * validating); when was is given, only if the file is still the one it describes,
 * else EIDER_ELOAD with a message that says it changed (load.c). */
int eider__defs_load_library(eider_defs *defs, const char *path, const eider__library *was);

/* Add to each SQL model's deps the assets whose tables its query reads; an error
 * naming the file and line when no asset stores one (models.c). */
int eider__models_link(eider_defs *defs);
/* A variable of the project file (eider.yaml's vars); EIDER_EINVAL for a bad name. */
int eider__defs_project_var(eider_defs *defs, const char *name, const char *value);
/* Remember path among the files (or folders) the definitions were read from. */
void eider__defs_add_source(eider_defs *defs, const char *path);

/* The resource called name, or NULL. */
const eider__resource *eider__defs_resource(const eider_defs *defs, const char *name);

/* Whether asset a's step must give an output: .output says so, or, by default, it
 * stores through an I/O manager (it names one, or declares no resources and the
 * default one is defined). */
int eider__asset_output_required(const eider_defs *defs, const eider__asset *a);

/* The text of metadata entry key on asset a, or NULL. */
const char *eider__asset_meta(const eider__asset *a, const char *key);

/* The default I/O manager's key. */
#define EIDER__DEFAULT_IO_MANAGER "io_manager"

/* The oldest API version whose definitions libraries still load (and whose structs
 * defs.c knows the sizes of). */
#define EIDER__OLDEST_API_VERSION 1

/* Evaluate a selection expression over the validated graph of defs. selected gets
 * n_assets bytes of 0/1. On a syntax or lookup error, returns EIDER_ESELECT with a
 * message in err that quotes the expression and points at the column:
 *   bad selection 'a and (b' at column 9: expected ')'
 * (select.c) */
int eider__select(const eider_defs *defs, const char *expr, unsigned char *selected,
                  eider__buf *err);

/* What a selection expression says beyond the set it selects: the assets it names by
 * key ("daily", "daily+", "key:daily"; not through a group, tag, glob, traversal or
 * function), and whether it depends on the assets' state (stale()). */
typedef struct eider__select_info {
    unsigned char *named;            /* n_assets bytes of 0/1, the caller's */
    int by_state;
    /* In: the run's partitions, which stale() looks at (see eider__store_status_at):
     * a key or range, or every partition with all_partitions; neither: all of them. */
    const char *partition;
    int all_partitions;
    /* Out: on an error, the column it points at (from 1, in characters); else 0. */
    size_t column;
} eider__select_info;

/* eider__select(), filling *info (may be NULL) as well. */
int eider__select_with(const eider_defs *defs, const char *expr, unsigned char *selected,
                       eider__select_info *info, eider__buf *err);

#endif
