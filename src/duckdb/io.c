/*
 * io.c — the I/O managers' storage in DuckDB: naming an asset's table, writing rows
 * in one transaction (replace, evolve or fail on a schema change; columns matched by
 * name; partitions deleted and inserted together), Parquet files written atomically,
 * loading, and the metadata of a write. Identifiers are quoted and values bound or
 * quoted as literals, always.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "value.h"

void eider__table_of(const eider__asset *a, const eider__resource *io, const char *catalog,
                     eider__table *t)
{
    eider__buf q = { 0 };
    const char *last = strrchr(a->key, '/');
    const char *table = eider__asset_meta(a, "table");
    const char *schema = eider__asset_meta(a, "schema");
    memset(t, 0, sizeof(*t));
    t->table = eider__xstrdup(table && *table ? table : last ? last + 1 : a->key);
    if (schema && *schema)
        t->schema = eider__xstrdup(schema);
    else if (io && io->schema)
        t->schema = eider__xstrdup(io->schema);
    else if (last) {
        /* the prefix's parts, joined by '_' (a schema has one part) */
        t->schema = eider__xstrdup(a->key);
        t->schema[last - a->key] = '\0';
        for (char *p = t->schema; *p; p++)
            if (*p == '/')
                *p = '_';
    } else
        t->schema = eider__xstrdup("public");
    t->catalog = eider__xstrdup(catalog && *catalog ? catalog : "memory");
    eider__buf_sql_ident(&q, t->catalog);
    eider__buf_putc(&q, '.');
    eider__buf_sql_ident(&q, t->schema);
    eider__buf_putc(&q, '.');
    eider__buf_sql_ident(&q, t->table);
    t->quoted = eider__buf_detach(&q);
    if (io && io->base_path) {
        eider__buf_printf(&q, "%s/%s", io->base_path, a->key);
        t->path = eider__buf_detach(&q);
    }
}

void eider__table_release(eider__table *t)
{
    free(t->catalog);
    free(t->schema);
    free(t->table);
    free(t->quoted);
    free(t->path);
    memset(t, 0, sizeof(*t));
}

int eider__exec(duckdb_connection con, const char *sql, eider__buf *err)
{
    duckdb_result res;
    int rc = EIDER_OK;
    if (duckdb_query(con, sql, &res) == DuckDBError) {
        eider__buf_puts(err, duckdb_result_error(&res));
        rc = EIDER_ESQL;
    }
    duckdb_destroy_result(&res);
    return rc;
}

int eider__lost_catalog_race(duckdb_result *res)
{
    const char *msg = duckdb_result_error(res);
    return duckdb_result_error_type(res) == DUCKDB_ERROR_TRANSACTION && msg &&
           strstr(msg, "write-write conflict on create");
}

/* A race is lost to a transaction that commits within milliseconds: a few short,
 * jittered waits are plenty, and a statement that keeps losing fails with its error. */
#define CATALOG_RACE_ATTEMPTS 10

int eider__catalog_race_backoff(int attempt)
{
    if (attempt >= CATALOG_RACE_ATTEMPTS)
        return 0;
    eider__sleep_ms((1 << attempt) * (0.5 + eider__random()));
    return 1;
}

int eider__ensure_schema(duckdb_connection con, const eider__table *t, eider__buf *err)
{
    eider__buf sql = { 0 };
    int rc = EIDER_OK;
    eider__buf_puts(&sql, "CREATE SCHEMA IF NOT EXISTS ");
    eider__buf_sql_ident(&sql, t->catalog);
    eider__buf_putc(&sql, '.');
    eider__buf_sql_ident(&sql, t->schema);
    for (int attempt = 1;; attempt++) {
        duckdb_result res;
        if (duckdb_query(con, eider__buf_str(&sql), &res) == DuckDBSuccess) {
            duckdb_destroy_result(&res);
            break;
        }
        int again = eider__lost_catalog_race(&res) && eider__catalog_race_backoff(attempt);
        if (!again) {
            eider__buf_printf(err, "cannot create schema %s.%s: %s", t->catalog, t->schema,
                              duckdb_result_error(&res));
            rc = EIDER_ESQL;
        }
        duckdb_destroy_result(&res);
        if (!again)
            break;
    }
    eider__buf_release(&sql);
    return rc;
}

typedef eider__coldesc column;
typedef eider__coldescs column_list;

void eider__columns_release(column_list *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].name);
        free(c->v[i].type);
    }
    free(c->v);
    memset(c, 0, sizeof(*c));
}

#define columns_release eider__columns_release

/* Read (name, type) rows of a query into c. */
static int read_columns(duckdb_connection con, const char *sql, column_list *c, eider__buf *err)
{
    duckdb_result res;
    duckdb_data_chunk chunk;
    if (duckdb_query(con, sql, &res) == DuckDBError) {
        eider__buf_puts(err, duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return EIDER_ESQL;
    }
    while ((chunk = duckdb_fetch_chunk(res))) {
        for (idx_t r = 0; r < duckdb_data_chunk_get_size(chunk); r++) {
            EIDER__GROW(c->v, c->cap, c->n + 1);
            c->v[c->n].name = eider__chunk_text(chunk, 0, r);
            c->v[c->n].type = eider__chunk_text(chunk, 1, r);
            c->n++;
        }
        duckdb_destroy_data_chunk(&chunk);
    }
    duckdb_destroy_result(&res);
    return EIDER_OK;
}

/* What is called t now: 0 nothing, 'T' a table, 'V' a view (or another relation).
 * DuckDB's table description answers for tables in microseconds, where the catalog
 * views (information_schema, duckdb_tables()) cost milliseconds to bind. */
static int existing_kind(duckdb_connection con, const eider__table *t)
{
    duckdb_table_description desc = NULL;
    duckdb_prepared_statement stmt = NULL;
    eider__buf sql = { 0 };
    int kind = 0;
    if (duckdb_table_description_create_ext(con, t->catalog, t->schema, t->table, &desc) == DuckDBSuccess)
        kind = 'T';
    duckdb_table_description_destroy(&desc);
    if (!kind) {
        eider__buf_printf(&sql, "SELECT * FROM %s LIMIT 0", t->quoted);
        if (duckdb_prepare(con, eider__buf_str(&sql), &stmt) == DuckDBSuccess)
            kind = 'V';
        duckdb_destroy_prepare(&stmt);
    }
    eider__buf_release(&sql);
    return kind;
}

int eider__io_table_kind(duckdb_connection con, const eider__table *t)
{
    return existing_kind(con, t);
}

static int table_columns(duckdb_connection con, const eider__table *t, column_list *c, eider__buf *err)
{
    eider__buf sql = { 0 };
    eider__buf_printf(&sql, "SELECT column_name, column_type FROM (DESCRIBE %s)", t->quoted);
    int rc = read_columns(con, eider__buf_str(&sql), c, err);
    eider__buf_release(&sql);
    return rc;
}

int eider__source_columns(duckdb_connection con, const char *source, column_list *c, eider__buf *err)
{
    eider__buf sql = { 0 };
    eider__buf_printf(&sql, "SELECT column_name, column_type FROM (DESCRIBE %s)", source);
    int rc = read_columns(con, eider__buf_str(&sql), c, err);
    eider__buf_release(&sql);
    return rc;
}

static const column *find_column(const column_list *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcasecmp(c->v[i].name, name) == 0)    /* DuckDB's names ignore case */
            return &c->v[i];
    return NULL;
}

/* Describe how have (the table) and want (the output) differ, into why; 0 if not. */
static int schema_diff(const column_list *have, const column_list *want, eider__buf *why)
{
    for (size_t i = 0; i < want->n; i++) {
        const column *h = find_column(have, want->v[i].name);
        if (!h)
            eider__buf_printf(why, "%snew column '%s' %s", why->len ? "; " : "",
                              want->v[i].name, want->v[i].type);
        else if (strcmp(h->type, want->v[i].type) != 0)
            eider__buf_printf(why, "%scolumn '%s' changes type from %s to %s",
                              why->len ? "; " : "", h->name, h->type, want->v[i].type);
    }
    for (size_t i = 0; i < have->n; i++)
        if (!find_column(want, have->v[i].name))
            eider__buf_printf(why, "%scolumn '%s' is gone", why->len ? "; " : "", have->v[i].name);
    return why->len > 0;
}

/* Make the table take the output's new columns; a type change cannot be evolved. */
static int evolve(duckdb_connection con, const eider__write *w, const column_list *have,
                  const column_list *want, eider__buf *err, eider__buf *sql)
{
    for (size_t i = 0; i < want->n; i++) {
        const column *h = find_column(have, want->v[i].name);
        if (h && strcmp(h->type, want->v[i].type) != 0) {
            eider__buf_printf(err, "asset '%s': column '%s' of %s is %s, but the output's is %s: "
                "a column's type cannot change while the table keeps its rows; cast it in the "
                "output%s%s", w->asset_key, h->name, w->table->quoted, h->type, want->v[i].type,
                w->mode != EIDER__WRITE_REPLACE ? " (its write_mode keeps the rows there)"
                : ", or set metadata \"on_schema_change\" to \"replace\"",
                w->where && w->mode == EIDER__WRITE_REPLACE
                ? " (a partitioned table is never replaced whole: drop it to start over)" : "");
            return EIDER_ESQL;
        }
        if (h)
            continue;
        eider__buf_reset(sql);
        eider__buf_printf(sql, "ALTER TABLE %s ADD COLUMN ", w->table->quoted);
        eider__buf_sql_ident(sql, want->v[i].name);
        eider__buf_printf(sql, " %s", want->v[i].type);
        int rc = eider__exec(con, eider__buf_str(sql), err);
        if (rc)
            return rc;
    }
    return EIDER_OK;
}

/* The table exists and keeps its identity: make its columns take the output's (want),
 * as the write's schema policy says. */
static int reconcile(duckdb_connection con, const eider__write *w, const column_list *want,
                     eider__buf *err, eider__buf *sql)
{
    column_list have = { 0 };
    eider__buf why = { 0 };
    int rc = table_columns(con, w->table, &have, err);
    if (!rc && schema_diff(&have, want, &why)) {
        if (w->policy == EIDER__FAIL) {
            eider__buf_printf(err, "asset '%s': the output's columns differ from %s (%s), and "
                "metadata \"on_schema_change\" is \"fail\": change the output, or set it to "
                "\"evolve\"%s", w->asset_key, w->table->quoted, eider__buf_str(&why),
                w->mode == EIDER__WRITE_REPLACE ? " or \"replace\"" : "");
            rc = EIDER_ESQL;
        } else {
            rc = evolve(con, w, &have, want, err, sql);
        }
    }
    columns_release(&have);
    eider__buf_release(&why);
    return rc;
}

/* The table exists and keeps its identity: reconcile the columns, then delete the
 * rows being replaced and insert the new ones by name. */
static int write_into(duckdb_connection con, const eider__write *w, int64_t *rows,
                      eider__buf *err, eider__buf *sql)
{
    column_list want = { 0 };
    int rc = eider__source_columns(con, w->source, &want, err);
    if (!rc)
        rc = reconcile(con, w, &want, err, sql);
    if (rc)
        goto out;
    eider__buf_reset(sql);
    eider__buf_printf(sql, "DELETE FROM %s", w->table->quoted);
    if (w->where)
        eider__buf_printf(sql, " WHERE %s", w->where);
    if ((rc = eider__exec(con, eider__buf_str(sql), err)))
        goto out;
    eider__buf_reset(sql);
    eider__buf_printf(sql, "INSERT INTO %s BY NAME %s", w->table->quoted, w->source);
    rc = eider__query_int64(con, eider__buf_str(sql), rows, err);
out:
    columns_release(&want);
    return rc;
}

/* ---- merges ---- */

static int is_key(const eider__write *w, const char *name)
{
    for (size_t i = 0; w->keys[i]; i++)
        if (strcasecmp(w->keys[i], name) == 0)
            return 1;
    return 0;
}

/* key1, key2, ... quoted, each after prefix (an alias and a dot, or ""). */
static void key_list(eider__buf *out, const eider__write *w, const char *prefix)
{
    for (size_t i = 0; w->keys[i]; i++) {
        eider__buf_printf(out, "%s%s", i ? ", " : "", prefix);
        eider__buf_sql_ident(out, w->keys[i]);
    }
}

/* a.k1 = b.k1 AND ... */
static void key_match(eider__buf *sql, const eider__write *w, const char *a, const char *b)
{
    for (size_t i = 0; w->keys[i]; i++) {
        eider__buf_printf(sql, "%s%s.", i ? " AND " : "", a);
        eider__buf_sql_ident(sql, w->keys[i]);
        eider__buf_printf(sql, " = %s.", b);
        eider__buf_sql_ident(sql, w->keys[i]);
    }
}

/* k1 IS NULL OR k2 IS NULL ... */
static void any_key_null(eider__buf *sql, const eider__write *w)
{
    for (size_t i = 0; w->keys[i]; i++) {
        eider__buf_puts(sql, i ? " OR " : "");
        eider__buf_sql_ident(sql, w->keys[i]);
        eider__buf_puts(sql, " IS NULL");
    }
}

/* Why the output's keys cannot be merged by (the message in err): a key column it
 * lacks, a row whose key is NULL, two rows of one key. */
static int check_keys(duckdb_connection con, const eider__write *w, const column_list *want,
                      eider__buf *err, eider__buf *sql)
{
    duckdb_result res;
    eider__buf keys = { 0 };
    int rc = EIDER_OK;
    const char *what = w->mode == EIDER__WRITE_SNAPSHOT ? "snapshot" : "merge";
    for (size_t i = 0; w->keys[i]; i++)
        if (!find_column(want, w->keys[i])) {
            eider__buf_printf(err, "asset '%s': its %s key column '%s' (metadata "
                "\"unique_key\") is not a column of the output: name the output's columns "
                "that identify a row", w->asset_key, what, w->keys[i]);
            return EIDER_ESQL;
        }
    key_list(&keys, w, "");
    eider__buf_reset(sql);
    eider__buf_printf(sql, "SELECT CAST(to_json(struct_pack(%s)) AS VARCHAR), count(*), "
                      "CAST(bool_or(", eider__buf_str(&keys));
    any_key_null(sql, w);
    eider__buf_printf(sql, ") AS INTEGER) AS n FROM (%s) GROUP BY %s HAVING count(*) > 1 OR "
                      "bool_or(", w->source, eider__buf_str(&keys));
    any_key_null(sql, w);
    eider__buf_puts(sql, ") ORDER BY 3 DESC LIMIT 1");
    if (duckdb_query(con, eider__buf_str(sql), &res) == DuckDBError) {
        eider__buf_puts(err, duckdb_result_error(&res));
        rc = EIDER_ESQL;
    } else {
        duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
        if (chunk && duckdb_data_chunk_get_size(chunk) > 0) {
            char *key = eider__chunk_text(chunk, 0, 0);
            int64_t n = 0, null = 0;
            eider__chunk_int64(chunk, 1, 0, &n);
            eider__chunk_int64(chunk, 2, 0, &null);
            if (null)
                eider__buf_printf(err, "asset '%s': the output has %lld row%s whose %s key "
                    "(%s) is NULL (%s): a %s matches rows by their key, and a NULL key "
                    "matches nothing: leave those rows out, or give them a key", w->asset_key,
                    (long long)n, n == 1 ? "" : "s", what, eider__buf_str(&keys),
                    key ? key : "", what);
            else
                eider__buf_printf(err, "asset '%s': the output has %lld rows of the %s key "
                    "%s: a %s takes one row per key: keep one (for instance QUALIFY "
                    "row_number() OVER (PARTITION BY %s ORDER BY ...) = 1)", w->asset_key,
                    (long long)n, what, key ? key : "", what, eider__buf_str(&keys));
            free(key);
            rc = EIDER_ESQL;
        }
        if (chunk)
            duckdb_destroy_data_chunk(&chunk);
    }
    duckdb_destroy_result(&res);
    eider__buf_release(&keys);
    return rc;
}

#define TARGET "\"eider merge target\""
#define SOURCE "\"eider merge source\""

/* MERGE INTO the table: rows matched by key and changed are updated, new keys
 * inserted by name; with delete_missing and no partitions, the rows whose key the
 * output lacks are deleted in the same statement. */
static void merge_sql(const eider__write *w, const column_list *want, eider__buf *sql)
{
    size_t n_set = 0;
    eider__buf_reset(sql);
    eider__buf_printf(sql, "MERGE INTO %s AS " TARGET " USING (%s) AS " SOURCE " ON (",
                      w->table->quoted, w->source);
    key_match(sql, w, TARGET, SOURCE);
    eider__buf_puts(sql, ")");
    for (size_t i = 0; i < want->n; i++) {
        if (is_key(w, want->v[i].name))
            continue;
        eider__buf_puts(sql, n_set++ ? " OR " TARGET "." : " WHEN MATCHED AND (" TARGET ".");
        eider__buf_sql_ident(sql, want->v[i].name);
        eider__buf_puts(sql, " IS DISTINCT FROM " SOURCE ".");
        eider__buf_sql_ident(sql, want->v[i].name);
    }
    for (size_t i = 0, k = 0; n_set && i < want->n; i++) {
        if (is_key(w, want->v[i].name))
            continue;
        eider__buf_puts(sql, k++ ? ", " : ") THEN UPDATE SET ");
        eider__buf_sql_ident(sql, want->v[i].name);
        eider__buf_puts(sql, " = " SOURCE ".");
        eider__buf_sql_ident(sql, want->v[i].name);
    }
    eider__buf_puts(sql, " WHEN NOT MATCHED THEN INSERT BY NAME");
    if (w->delete_missing && !w->where)
        eider__buf_puts(sql, " WHEN NOT MATCHED BY SOURCE THEN DELETE");
}

/* A partitioned merge's delete of the rows, in the partitions written, whose key the
 * output lacks (a MERGE cannot say "in these partitions" of the target alone). */
static void delete_missing_sql(const eider__write *w, eider__buf *sql)
{
    eider__buf_reset(sql);
    eider__buf_printf(sql, "DELETE FROM %s AS " TARGET " WHERE (%s) AND NOT EXISTS (SELECT 1 "
                      "FROM (%s) AS " SOURCE " WHERE ", w->table->quoted, w->where, w->source);
    key_match(sql, w, SOURCE, TARGET);
    eider__buf_puts(sql, ")");
}

/* ---- snapshots ---- */

#define VALID_FROM "valid_from"
#define VALID_TO "valid_to"
#define VALID_TYPE "TIMESTAMP WITH TIME ZONE"

/* Whether a snapshot compares column name: one of its check columns, else any but
 * the key. */
static int is_checked(const eider__write *w, const char *name)
{
    if (is_key(w, name))
        return 0;
    for (size_t i = 0; w->check && w->check[i]; i++)
        if (strcasecmp(w->check[i], name) == 0)
            return 1;
    return !w->check;
}

/* The output's columns a snapshot can keep versions of: none called like the validity
 * columns, and its check columns among them. */
static int check_snapshot_columns(const eider__write *w, const column_list *want, eider__buf *err)
{
    if (find_column(want, VALID_FROM) || find_column(want, VALID_TO)) {
        eider__buf_printf(err, "asset '%s': the output has a column '%s', which a snapshot "
            "adds itself (" VALID_FROM ", " VALID_TO "): rename it", w->asset_key,
            find_column(want, VALID_FROM) ? VALID_FROM : VALID_TO);
        return EIDER_ESQL;
    }
    for (size_t i = 0; w->check && w->check[i]; i++)
        if (!find_column(want, w->check[i])) {
            eider__buf_printf(err, "asset '%s': its check column '%s' (metadata "
                "\"check_columns\") is not a column of the output", w->asset_key, w->check[i]);
            return EIDER_ESQL;
        }
    return EIDER_OK;
}

/* The output's rows as new current versions: SELECT source, valid_from now, valid_to NULL. */
static void new_versions(eider__buf *sql, const eider__write *w)
{
    eider__buf_printf(sql, "SELECT " SOURCE ".*, now() AS " VALID_FROM ", CAST(NULL AS "
                      VALID_TYPE ") AS " VALID_TO " FROM (%s) AS " SOURCE, w->source);
}

/* Run sql, adding the rows it changed to *rows. */
static int counted(duckdb_connection con, const eider__buf *sql, int64_t *rows, eider__buf *err)
{
    int64_t n = 0;
    int rc = eider__query_int64(con, eider__buf_str(sql), &n, err);
    *rows += n;
    return rc;
}

/* hash(the compared columns) of alias, a ", "-separated list of them; their count. */
static size_t hashed(eider__buf *sql, const eider__write *w, const column_list *want,
                     const char *alias)
{
    size_t n = 0;
    eider__buf_puts(sql, "hash(");
    for (size_t i = 0; i < want->n; i++) {
        if (!is_checked(w, want->v[i].name))
            continue;
        eider__buf_printf(sql, "%s%s.", n++ ? ", " : "", alias);
        eider__buf_sql_ident(sql, want->v[i].name);
    }
    eider__buf_puts(sql, ")");
    return n;
}

/* " AND hash(target's columns) <> hash(source's)": one comparison for a wide row (a
 * change that collides, one in 2^64, goes unseen). The count of columns compared. */
static size_t changed_by_hash(eider__buf *sql, const eider__write *w, const column_list *want)
{
    size_t mark = sql->len;
    eider__buf_puts(sql, " AND ");
    size_t n = hashed(sql, w, want, TARGET);
    eider__buf_puts(sql, " <> ");
    hashed(sql, w, want, SOURCE);
    if (!n) {                        /* nothing to compare: no version closes */
        sql->len = mark;
        sql->data[mark] = '\0';
    }
    return n;
}

/* Close the current versions whose compared columns changed (and, with delete_missing,
 * those of keys the output lacks, in the partitions written when partitioned), then add a current version for every key that has
 * none: the changed ones and the new ones. now() is the transaction's start: one time
 * for every version a write closes and opens. */
static int snapshot_into(duckdb_connection con, const eider__write *w, const column_list *want,
                         int64_t *rows, eider__buf *err, eider__buf *sql)
{
    size_t n_checked = 0;
    int rc = EIDER_OK;
    eider__buf_reset(sql);
    eider__buf_printf(sql, "UPDATE %s AS " TARGET " SET " VALID_TO " = now() FROM (%s) AS "
                      SOURCE " WHERE " TARGET "." VALID_TO " IS NULL AND ", w->table->quoted, w->source);
    key_match(sql, w, TARGET, SOURCE);
    if (w->by_hash)
        n_checked = changed_by_hash(sql, w, want);
    for (size_t i = 0; !w->by_hash && i < want->n; i++) {
        if (!is_checked(w, want->v[i].name))
            continue;
        eider__buf_puts(sql, n_checked++ ? " OR " TARGET "." : " AND (" TARGET ".");
        eider__buf_sql_ident(sql, want->v[i].name);
        eider__buf_puts(sql, " IS DISTINCT FROM " SOURCE ".");
        eider__buf_sql_ident(sql, want->v[i].name);
    }
    eider__buf_puts(sql, n_checked && !w->by_hash ? ")" : "");
    if (n_checked && (rc = counted(con, sql, rows, err)))
        return rc;
    if (w->delete_missing) {
        eider__buf_reset(sql);
        eider__buf_printf(sql, "UPDATE %s AS " TARGET " SET " VALID_TO " = now() WHERE " TARGET "."
                          VALID_TO " IS NULL AND NOT EXISTS (SELECT 1 FROM (%s) AS " SOURCE
                          " WHERE ", w->table->quoted, w->source);
        key_match(sql, w, SOURCE, TARGET);
        eider__buf_puts(sql, ")");
        if (w->where)                /* of a partitioned asset, in the partitions written */
            eider__buf_printf(sql, " AND (%s)", w->where);
        if ((rc = counted(con, sql, rows, err)))
            return rc;
    }
    eider__buf_reset(sql);
    eider__buf_printf(sql, "INSERT INTO %s BY NAME ", w->table->quoted);
    new_versions(sql, w);
    eider__buf_printf(sql, " WHERE NOT EXISTS (SELECT 1 FROM %s AS " TARGET " WHERE " TARGET "."
                      VALID_TO " IS NULL AND ", w->table->quoted);
    key_match(sql, w, TARGET, SOURCE);
    eider__buf_puts(sql, ")");
    return counted(con, sql, rows, err);
}

/* A snapshot: the first makes the table of current versions, the next add to it. */
static int write_snapshot(duckdb_connection con, const eider__write *w, int kind,
                          const column_list *want, int64_t *rows, eider__buf *err, eider__buf *sql)
{
    column_list versioned = { 0 };
    int rc = check_snapshot_columns(w, want, err);
    *rows = 0;
    if (rc)
        return rc;
    if (!kind) {
        eider__buf_reset(sql);
        eider__buf_printf(sql, "CREATE TABLE %s AS ", w->table->quoted);
        new_versions(sql, w);
        return eider__query_int64(con, eider__buf_str(sql), rows, err);
    }
    /* the table's columns: the output's and the validity columns */
    versioned.v = eider__xcalloc(want->n + 2, sizeof(column));
    versioned.cap = want->n + 2;
    for (size_t i = 0; i < want->n; i++)
        versioned.v[versioned.n++] = (column){ eider__xstrdup(want->v[i].name),
                                               eider__xstrdup(want->v[i].type) };
    versioned.v[versioned.n++] = (column){ eider__xstrdup(VALID_FROM), eider__xstrdup(VALID_TYPE) };
    versioned.v[versioned.n++] = (column){ eider__xstrdup(VALID_TO), eider__xstrdup(VALID_TYPE) };
    rc = reconcile(con, w, &versioned, err, sql);
    if (!rc)
        rc = snapshot_into(con, w, want, rows, err, sql);
    columns_release(&versioned);
    return rc;
}

/* An append, a merge or a snapshot, into the table when it exists (kind), else into a
 * new one. */
static int write_incremental(duckdb_connection con, const eider__write *w, int kind,
                             int64_t *rows, eider__buf *err, eider__buf *sql)
{
    column_list want = { 0 };
    int64_t deleted = 0;
    int rc = eider__source_columns(con, w->source, &want, err);
    if (!rc && w->mode != EIDER__WRITE_APPEND)
        rc = check_keys(con, w, &want, err, sql);
    if (!rc && w->mode == EIDER__WRITE_SNAPSHOT) {
        rc = write_snapshot(con, w, kind, &want, rows, err, sql);
        goto out;
    }
    if (!rc && kind)
        rc = reconcile(con, w, &want, err, sql);
    if (rc)
        goto out;
    eider__buf_reset(sql);
    if (!kind)
        eider__buf_printf(sql, "CREATE TABLE %s AS %s", w->table->quoted, w->source);
    else if (w->mode == EIDER__WRITE_APPEND)
        eider__buf_printf(sql, "INSERT INTO %s BY NAME %s", w->table->quoted, w->source);
    else
        merge_sql(w, &want, sql);
    rc = eider__query_int64(con, eider__buf_str(sql), rows, err);
    if (!rc && kind && w->mode == EIDER__WRITE_MERGE && w->delete_missing && w->where) {
        delete_missing_sql(w, sql);
        rc = eider__query_int64(con, eider__buf_str(sql), &deleted, err);
        *rows += deleted;
    }
out:
    columns_release(&want);
    return rc;
}

/* The statements of a write, inside its transaction. */
static int write_body(duckdb_connection con, const eider__write *w, int64_t *rows,
                      eider__buf *err, eider__buf *sql)
{
    int kind = existing_kind(con, w->table), rc;
    const char *drop = kind == 'V' && !w->view ? "VIEW" : kind == 'T' && w->view ? "TABLE" : NULL;
    if (drop) {
        eider__buf_reset(sql);
        eider__buf_printf(sql, "DROP %s %s", drop, w->table->quoted);
        if ((rc = eider__exec(con, eider__buf_str(sql), err)))
            return rc;
        kind = 0;
    }
    eider__buf_reset(sql);
    if (w->view) {
        *rows = -1;
        eider__buf_printf(sql, "CREATE OR REPLACE VIEW %s AS %s", w->table->quoted, w->source);
        return eider__exec(con, eider__buf_str(sql), err);
    }
    if (w->mode != EIDER__WRITE_REPLACE)
        return write_incremental(con, w, kind, rows, err, sql);
    if (kind && (w->where || w->policy != EIDER__REPLACE))
        return write_into(con, w, rows, err, sql);
    eider__buf_printf(sql, "CREATE OR REPLACE TABLE %s AS %s", w->table->quoted, w->source);
    return eider__query_int64(con, eider__buf_str(sql), rows, err);
}

/* Session settings a write changes, set and put back. */
static int session_settings(duckdb_connection con, const eider__write *w, int set, eider__buf *err)
{
    eider__buf sql = { 0 };
    int rc = EIDER_OK;
    if (w->timezone) {
        if (set) {
            eider__buf_puts(&sql, "SET TimeZone = ");
            eider__buf_sql_literal(&sql, w->timezone);
            rc = eider__exec(con, eider__buf_str(&sql), err);
        } else {
            eider__exec(con, "RESET TimeZone", err);
        }
    }
    if (!rc && w->unordered)
        rc = eider__exec(con, set ? "SET preserve_insertion_order = false"
                                  : "RESET preserve_insertion_order", err);
    eider__buf_release(&sql);
    return rc;
}

void eider__io_checked_source(const char *asset_key, const char *source, const char *where,
                              eider__buf *out)
{
    eider__buf msg = { 0 };
    eider__buf_printf(&msg, "asset '%s': a row of the output lies outside the partitions this "
        "run writes (its partition_expr is NULL or names another partition): give only the "
        "rows of eider_partition_keys()", asset_key);
    eider__buf_printf(out, "SELECT * FROM (%s) WHERE CASE WHEN %s THEN true ELSE error(",
                      source, where);
    eider__buf_sql_literal(out, eider__buf_str(&msg));
    eider__buf_puts(out, ") END");
    eider__buf_release(&msg);
}

/* The caller's look at what the write wrote, before it commits. A statement of it
 * that failed aborts DuckDB's transaction, whose COMMIT then commits nothing without a
 * word: the transaction must still answer, or the write fails (and rolls back). */
static int before_commit(duckdb_connection con, const eider__write *w, eider__buf *err)
{
    eider__buf rel = { 0 }, why = { 0 };
    if (w->where)
        eider__buf_printf(&rel, "(SELECT * FROM %s WHERE %s)", w->table->quoted, w->where);
    else
        eider__buf_puts(&rel, w->table->quoted);
    int rc = w->before_commit(con, eider__buf_str(&rel), w->user_data) ? EIDER_ESTEP : EIDER_OK;
    if (!rc && eider__exec(con, "SELECT 1", &why)) {
        eider__buf_printf(err, "a check's statement failed inside the write's transaction, "
                          "which DuckDB then aborted (%s): the write is rolled back", eider__buf_str(&why));
        rc = EIDER_ESQL;
    }
    eider__buf_release(&rel);
    eider__buf_release(&why);
    return rc;
}

int eider__io_write(duckdb_connection con, const eider__write *given, int64_t *rows,
                    eider__buf *err, eider__buf *sql)
{
    eider__buf ignored = { 0 }, source = { 0 };
    eider__write checked = *given;
    const eider__write *w = given;
    *rows = 0;
    if (given->where) {
        eider__io_checked_source(given->asset_key, given->source, given->where, &source);
        checked.source = eider__buf_str(&source);
        w = &checked;
    }
    /* The schema is made before the write's transaction, in one of its own: created
     * inside, it would conflict with every other step's write into the same new schema. */
    int rc = eider__ensure_schema(con, w->table, err);
    if (!rc)
        rc = session_settings(con, w, 1, err);
    if (!rc)
        rc = eider__exec(con, "BEGIN TRANSACTION", err);
    if (rc)
        goto out;
    eider__buf_reset(sql);
    rc = write_body(con, w, rows, err, sql);
    if (!rc && w->before_commit)
        rc = before_commit(con, w, err);
    if (!rc && (rc = eider__exec(con, "COMMIT", err)) == EIDER_OK)
        eider__buf_reset(sql);
    if (rc)
        eider__exec(con, "ROLLBACK", &ignored);
out:
    session_settings(con, w, 0, &ignored);
    eider__buf_release(&ignored);
    eider__buf_release(&source);
    return rc;
}

/* fsync the file (or folder) at path, so that what it holds survives a power loss;
 * -1 with the message in err. */
static int sync_path(const char *path, int folder, eider__buf *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | (folder ? O_DIRECTORY : 0));
    int rc = fd < 0 ? -1 : fsync(fd);
    if (rc)
        eider__buf_printf(err, "cannot sync %s '%s' to disk: %s", folder ? "folder" : "file",
                          path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return rc;
}

/* The folder of path, for sync_path(). Caller frees. */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    eider__buf dir = { 0 };
    if (!slash)
        eider__buf_putc(&dir, '.');
    else
        eider__buf_add(&dir, path, slash == path ? 1 : (size_t)(slash - path));
    return eider__buf_detach(&dir);
}

/* Written to a temporary file, synced, renamed into place, and the folder synced: a
 * power loss leaves the old file or the new one, never an empty or partial one. */
int eider__parquet_write(duckdb_connection con, const char *source, const char *path,
                         int64_t *rows, eider__buf *err, eider__buf *sql)
{
    char *dir = folder_of(path);
    eider__buf tmp = { 0 };
    int rc = eider__mkdir_parents(path, err) ? EIDER_EIO : EIDER_OK;
    if (rc)
        return rc;
    eider__buf_printf(&tmp, "%s.tmp-%ld", path, (long)getpid());
    eider__buf_reset(sql);
    eider__buf_printf(sql, "COPY (%s) TO ", source);
    eider__buf_sql_literal(sql, eider__buf_str(&tmp));
    eider__buf_puts(sql, " (FORMAT parquet)");
    rc = eider__query_int64(con, eider__buf_str(sql), rows, err);
    if (!rc && sync_path(eider__buf_str(&tmp), 0, err))
        rc = EIDER_EIO;
    if (!rc && rename(eider__buf_str(&tmp), path) != 0) {
        eider__buf_printf(err, "cannot move '%s' into place as '%s': %s", eider__buf_str(&tmp),
                          path, strerror(errno));
        rc = EIDER_EIO;
    }
    if (rc)
        unlink(eider__buf_str(&tmp));
    else
        eider__buf_reset(sql);
    if (!rc && sync_path(dir, 1, err))
        rc = EIDER_EIO;
    eider__buf_release(&tmp);
    free(dir);
    return rc;
}

void eider__io_load_sql(const eider__table *t, const char *const *columns, const char *where,
                        eider__buf *sql)
{
    eider__buf_puts(sql, "SELECT ");
    for (size_t i = 0; columns && columns[i]; i++) {
        if (i)
            eider__buf_puts(sql, ", ");
        eider__buf_sql_ident(sql, columns[i]);
    }
    if (!columns || !columns[0])
        eider__buf_puts(sql, "*");
    eider__buf_printf(sql, " FROM %s", t->quoted);
    if (where)
        eider__buf_printf(sql, " WHERE %s", where);
}

#define SLICE_ROWS ((int64_t)1 << 20)

void eider__io_load_slices(duckdb_connection con, const eider__table *t, const char *const *columns,
                           const char *where, char ***sqls, size_t *n)
{
    eider__buf sql = { 0 }, ignored = { 0 };
    int64_t last = 0;
    *sqls = NULL;
    *n = 0;
    eider__buf_printf(&sql, "SELECT max(rowid) FROM %s", t->quoted);
    if (eider__query_int64(con, eider__buf_str(&sql), &last, &ignored) || last < SLICE_ROWS)
        goto out;
    *n = (size_t)(last / SLICE_ROWS + 1);
    *sqls = eider__xcalloc(*n, sizeof(char *));
    for (size_t i = 0; i < *n; i++) {
        eider__buf_reset(&sql);
        eider__io_load_sql(t, columns, NULL, &sql);
        eider__buf_printf(&sql, " WHERE rowid >= %lld AND rowid < %lld", (long long)(i * SLICE_ROWS),
                          (long long)((i + 1) * SLICE_ROWS));
        if (where)
            eider__buf_printf(&sql, " AND (%s)", where);
        (*sqls)[i] = eider__buf_detach(&sql);
    }
out:
    eider__buf_release(&sql);
    eider__buf_release(&ignored);
}

static void add_text(eider__meta_fn add, void *ud, const char *key, eider_meta_type type,
                     const char *text)
{
    if (!text)
        return;
    eider_meta m = { .key = key, .type = type, .text = text };
    add(ud, &m);
}

void eider__io_metadata(duckdb_connection con, const eider__table *t, const char *relation,
                        const char *where, int64_t rows, eider__meta_fn add, void *ud)
{
    eider__buf sql = { 0 };
    if (rows >= 0) {
        eider_meta m = EIDER_META_INT("row_count", rows);
        add(ud, &m);
    }
    if (!t) {
        /* an I/O manager of the user's own: it says itself where it stored */
    } else if (t->path) {
        add_text(add, ud, "path", EIDER_META_TEXT, t->path);
    } else {
        eider__buf_printf(&sql, "%s.%s.%s", t->catalog, t->schema, t->table);
        add_text(add, ud, "table", EIDER_META_TEXT, eider__buf_str(&sql));
    }
    eider__buf_reset(&sql);
    eider__buf_printf(&sql, "SELECT CAST(to_json(list({'name': column_name, 'type': column_type})) "
                            "AS VARCHAR) FROM (DESCRIBE SELECT * FROM %s)", relation);
    char *text = eider__query_text(con, eider__buf_str(&sql));
    add_text(add, ud, "columns", EIDER_META_JSON, text);
    free(text);
    eider__buf_reset(&sql);
    /* The rows as structs, by the subquery's alias: a column of that name would win over
     * it (a column "p" once gave [3] for a preview), so the alias is one no table has. */
    eider__buf_printf(&sql, "SELECT CAST(to_json(list(\"eider preview row\")) AS VARCHAR) FROM "
                            "(SELECT * FROM %s%s%s LIMIT 10) \"eider preview row\"", relation,
                      where ? " WHERE " : "", where ? where : "");
    text = eider__query_text(con, eider__buf_str(&sql));
    add_text(add, ud, "preview", EIDER_META_JSON, text ? text : "[]");
    free(text);
    eider__buf_reset(&sql);
    eider__buf_printf(&sql, "SELECT * FROM %s%s%s", relation, where ? " WHERE " : "", where ? where : "");
    add_text(add, ud, "load_query", EIDER_META_TEXT, eider__buf_str(&sql));
    eider__buf_release(&sql);
}
