/*
 * io.h — the DuckDB and Parquet I/O managers' storage: where an asset's table lives,
 * writing rows into it in one transaction with a schema-change policy, loading it,
 * and the metadata a write reports.
 */
#ifndef EIDER_IO_H
#define EIDER_IO_H

#include "../defs/defs.h"
#include "frame.h"

/* Where an asset's output lives: catalog, schema and table, and the three quoted. The
 * catalog is always named, since a schema called like the database file ("iris" in
 * iris.duckdb) makes "schema"."table" ambiguous to DuckDB. */
typedef struct eider__table {
    char *catalog, *schema, *table;
    char *quoted;                    /* "catalog"."schema"."table" */
    char *path;                      /* Parquet: the file, or the folder of partitions */
} eider__table;

/* The table of asset a stored by I/O manager io in the database whose catalog is
 * `catalog` (follows dagster-duckdb: metadata "table" or the key's last part; metadata
 * "schema" > the I/O manager's > the key's prefix > "public"). */
void eider__table_of(const eider__asset *a, const eider__resource *io, const char *catalog,
                     eider__table *t);
void eider__table_release(eider__table *t);

typedef enum eider__schema_policy {
    EIDER__REPLACE,
    EIDER__EVOLVE,
    EIDER__FAIL,
} eider__schema_policy;

/* How a write treats the rows the table has (asset metadata "write_mode"): replaces
 * them (those of its partitions, when partitioned), appends to them, or merges into
 * them by a unique key (new keys inserted, changed rows updated; with delete_missing,
 * the rows whose key the output lacks deleted), or keeps every version of each key
 * (dbt's snapshots, slowly changing dimensions of type 2): a key's changed row closes
 * its current version (valid_to set) and adds a new one (valid_from, valid_to NULL);
 * with delete_missing, a key the output lacks has its current version closed. */
typedef enum eider__write_mode {
    EIDER__WRITE_REPLACE,
    EIDER__WRITE_APPEND,
    EIDER__WRITE_MERGE,
    EIDER__WRITE_SNAPSHOT,
} eider__write_mode;

/* One write: the rows of `source` (a SELECT) into a table. */
typedef struct eider__write {
    const char *asset_key;
    const eider__table *table;
    const char *source;
    const char *where;               /* the run's partitions, or NULL for the whole table */
    const char *timezone;            /* the session's TimeZone while writing, or NULL */
    eider__schema_policy policy;
    int view;                        /* CREATE VIEW instead of a table */
    int unordered;                   /* a parallel write; row order is lost */
    eider__write_mode mode;
    const char *const *keys;         /* a merge's unique key: column names, NULL-terminated */
    int delete_missing;              /* a merge deletes the rows whose key the output lacks;
                                        a snapshot closes their current versions */
    const char *const *check;        /* a snapshot's columns compared (NULL: all but the key) */
    int by_hash;                     /* a snapshot compares one hash of them, not each */
    /* Called inside the transaction after the write, before its commit, with the
     * relation that reads what the write wrote (the table, or its partitions written);
     * nonzero rolls the write back (the asset's checks; NULL: none). */
    int (*before_commit)(duckdb_connection con, const char *relation, void *user_data);
    void *user_data;
} eider__write;

/* Write, in one transaction on con; *rows gets the rows written (-1 for a view; for a
 * merge, the rows inserted, updated and deleted). A merge first checks the output's
 * keys: a key column missing, a NULL key or two rows of one key fail the write. On
 * error everything rolls back; the message goes to err and the failing SQL to sql. */
int eider__io_write(duckdb_connection con, const eider__write *w, int64_t *rows,
                    eider__buf *err, eider__buf *sql);

/* The columns of a relation: each name and DuckDB type, as the catalog spells them. */
typedef struct eider__coldesc {
    char *name, *type;
} eider__coldesc;

typedef struct eider__coldescs {
    eider__coldesc *v;
    size_t n, cap;
} eider__coldescs;

void eider__columns_release(eider__coldescs *c);
/* The columns of source (a relation: a table, or "(SELECT ...)"), as DuckDB describes
 * them; EIDER_ESQL with DuckDB's message in err. */
int eider__source_columns(duckdb_connection con, const char *source, eider__coldescs *c,
                          eider__buf *err);

/* Append to out the SELECT of source's rows that fails (DuckDB's error(), naming
 * asset_key) at the first row outside where, the partitions a write writes: such a row
 * would lie beside another partition's rows and never be deleted with them. */
void eider__io_checked_source(const char *asset_key, const char *source, const char *where,
                              eider__buf *out);

/* Write a Parquet file: the rows of source into path (folders made), through a
 * temporary file renamed into place, so readers never see half a file. */
int eider__parquet_write(duckdb_connection con, const char *source, const char *path,
                         int64_t *rows, eider__buf *err, eider__buf *sql);

/* What t is on con: 'T' a table, 'V' a view (or another relation), 0 nothing. */
int eider__io_table_kind(duckdb_connection con, const eider__table *t);

/* The load of a big table (t, of kind 'T') in slices of rowids, so that DuckDB never
 * holds the whole result beside the frame being filled: the queries into *sqls
 * (malloc'd, each too), their count into *n; 0 slices when it is small enough for one
 * query. */
void eider__io_load_slices(duckdb_connection con, const eider__table *t, const char *const *columns,
                           const char *where, char ***sqls, size_t *n);

/* Append SELECT <columns or *> FROM t [WHERE where]. */
void eider__io_load_sql(const eider__table *t, const char *const *columns, const char *where,
                        eider__buf *sql);

/* Report what a write made through add(user_data, meta): row_count, columns (JSON),
 * preview (JSON, the first 10 rows), load_query, and "table" (database.schema.table)
 * or "path" (neither when t is NULL). relation is the quoted table, a read_parquet(...)
 * call, or what an I/O manager of the user's own reads through. */
typedef void (*eider__meta_fn)(void *user_data, const eider_meta *meta);
void eider__io_metadata(duckdb_connection con, const eider__table *t, const char *relation,
                        const char *where, int64_t rows, eider__meta_fn add, void *user_data);

/* Run one statement; on error the message into err. */
int eider__exec(duckdb_connection con, const char *sql, eider__buf *err);

/* Whether a failed result lost a race on the catalog: another connection created (or
 * was creating) the same entry after this statement's transaction began. */
int eider__lost_catalog_race(duckdb_result *res);

/* Sleep a little before retrying a statement that lost a catalog race (the attempt-th
 * time, from 1); 0 once attempts are used up, and the statement should fail. */
int eider__catalog_race_backoff(int attempt);

/* CREATE SCHEMA IF NOT EXISTS "catalog"."schema", in a transaction of its own and retried
 * when it loses a race with another step creating the same schema. */
int eider__ensure_schema(duckdb_connection con, const eider__table *t, eider__buf *err);

#endif
