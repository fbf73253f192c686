/*
 * duckdb.c — the DuckDB I/O manager: each asset's output a table of a DuckDB file,
 * written in one transaction as its metadata says (write_mode replace, append, merge or
 * snapshot; on_schema_change; a view; an unordered parallel write), partitions
 * replaced together, and the write's metadata (row counts per partition too).
 */
#define _GNU_SOURCE
#include <jansson.h>

#include "io.h"
#include "../defs/partitions.h"
#include "../duckdb/value.h"

static eider__write_mode mode_of(const eider__asset *a)
{
    const char *v = eider__asset_meta(a, "write_mode");
    return !v || strcmp(v, "replace") == 0 ? EIDER__WRITE_REPLACE
         : strcmp(v, "append") == 0 ? EIDER__WRITE_APPEND
         : strcmp(v, "merge") == 0 ? EIDER__WRITE_MERGE : EIDER__WRITE_SNAPSHOT;
}

/* The schema policy: metadata "on_schema_change"; by default a replaced table takes the
 * output's columns, and a table written incrementally (whose rows stay) evolves. */
static eider__schema_policy policy_of(const eider__asset *a)
{
    const char *v = eider__asset_meta(a, "on_schema_change");
    if (!v)
        return mode_of(a) == EIDER__WRITE_REPLACE ? EIDER__REPLACE : EIDER__EVOLVE;
    return strcmp(v, "replace") == 0 ? EIDER__REPLACE
         : strcmp(v, "evolve") == 0 ? EIDER__EVOLVE : EIDER__FAIL;
}

/* Column names of a's metadata key (separated by commas: "unique_key", "check_columns"),
 * as a NULL-terminated list to free with eider__strv_free(); NULL when it has none. */
static char **columns_of(const eider__asset *a, const char *key, size_t *n)
{
    const char *v = eider__asset_meta(a, key);
    char **keys = NULL;
    *n = 0;
    for (const char *p = v; p && *p;) {
        p += strspn(p, " \t");
        size_t len = strcspn(p, ",");
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        keys = eider__xrealloc(keys, (*n + 2) * sizeof(*keys));
        keys[*n] = eider__xmalloc(len + 1);
        memcpy(keys[*n], p, len);
        keys[(*n)++][len] = '\0';
        keys[*n] = NULL;
        p += strcspn(p, ",");
        p += *p == ',';
    }
    return keys;
}

/* After an append or a merge: row_count is the rows the table (its partitions written)
 * holds, and rows_written those the write inserted, updated or deleted. */
static int64_t rows_held(eider_io *io, int64_t written)
{
    eider__buf sql = { 0 }, err = { 0 };
    int64_t held = written;
    eider__buf_printf(&sql, "SELECT count(*) FROM %s%s%s", io->table.quoted,
                      io->where ? " WHERE " : "", io->where ? io->where : "");
    eider__query_int64(io->con, eider__buf_str(&sql), &held, &err);
    eider_add_meta(io->ctx, &(eider_meta)EIDER_META_INT("rows_written", written));
    eider__buf_release(&sql);
    eider__buf_release(&err);
    return held;
}

static int is_meta(const eider__asset *a, const char *key, const char *value)
{
    const char *v = eider__asset_meta(a, key);
    return v && strcmp(v, value) == 0;
}

/* Read the integer columns of the first row of sql into a JSON object keyed by keys. */
static char *counts_json(duckdb_connection con, const char *sql, char *const *keys, size_t n)
{
    duckdb_result res;
    char *out = NULL;
    if (duckdb_query(con, sql, &res) == DuckDBSuccess) {
        duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
        json_t *obj = json_object();
        int64_t count = 0;
        for (size_t i = 0; chunk && i < n; i++)
            if (eider__chunk_int64(chunk, i, 0, &count) == EIDER_OK)
                json_object_set_new(obj, keys[i], json_integer(count));
        if (chunk)
            duckdb_destroy_data_chunk(&chunk);
        out = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(obj);
    }
    duckdb_destroy_result(&res);
    return out;
}

/* Metadata partition_row_counts, {"key": rows, ...}, for a run of several partitions:
 * one scan with a filtered count per key. */
static void partition_counts(eider_io *io)
{
    eider_context *ctx = io->ctx;
    const eider__step *s = ctx->step;
    const char *expr = eider__asset_meta(ctx->asset, "partition_expr");
    const char *tz = eider__partitions_timezone(ctx->asset->partitions);
    eider__buf sql = { 0 }, err = { 0 };
    if (!io->where || s->n_partitions < 2 || s->n_partitions > 1000)
        return;
    eider__buf_puts(&sql, "SELECT ");
    for (size_t i = 0; i < s->n_partitions; i++) {
        eider__buf_puts(&sql, i ? ", count(*) FILTER (WHERE " : "count(*) FILTER (WHERE ");
        eider__partitions_where_at(ctx->asset->partitions, expr, &s->partitions[i], 1,
                                   io->bounds, &sql, &err);
        eider__buf_puts(&sql, ")");
    }
    eider__buf_printf(&sql, " FROM %s WHERE %s", io->table.quoted, io->where);
    if (tz) {
        eider__buf set = { 0 };
        eider__buf_puts(&set, "SET TimeZone = ");
        eider__buf_sql_literal(&set, tz);
        eider__exec(io->con, eider__buf_str(&set), &err);
        eider__buf_release(&set);
    }
    char *json = counts_json(io->con, eider__buf_str(&sql), s->partitions, s->n_partitions);
    if (tz)
        eider__exec(io->con, "RESET TimeZone", &err);
    if (json)
        eider_add_meta(ctx, &(eider_meta)EIDER_META_JSON("partition_row_counts", json));
    free(json);
    eider__buf_release(&sql);
    eider__buf_release(&err);
}

/* The where of the output's partitions, by the type of its partition column (the
 * table may not exist yet, or be about to change). */
static int output_where(eider_io *io, const char *source)
{
    eider__buf relation = { 0 };
    int rc = EIDER_OK;
    if (io->where) {
        eider__buf_printf(&relation, "(%s)", source);
        rc = eider__io_partition_where(io, io->ctx->asset, eider__buf_str(&relation));
    }
    eider__buf_release(&relation);
    return rc;
}

/* The asset's blocking checks, on what the write wrote, before it commits. */
static int checks_before_commit(duckdb_connection con, const char *relation, void *ctx)
{
    return eider__checks_run_set(ctx, con, relation, EIDER__CHECKS_BLOCKING);
}

/* The asset's other checks, on what was committed (the partitions written, read in
 * their time zone as the write's condition was). */
static void checks_after_commit(eider_io *io)
{
    eider__buf rel = { 0 }, set = { 0 }, err = { 0 };
    const char *tz = io->where ? eider__partitions_timezone(io->ctx->asset->partitions) : NULL;
    if (io->where)
        eider__buf_printf(&rel, "(SELECT * FROM %s WHERE %s)", io->table.quoted, io->where);
    else
        eider__buf_puts(&rel, io->table.quoted);
    if (tz) {
        eider__buf_puts(&set, "SET TimeZone = ");
        eider__buf_sql_literal(&set, tz);
        eider__exec(io->con, eider__buf_str(&set), &err);
    }
    eider__checks_run_set(io->ctx, io->con, eider__buf_str(&rel), EIDER__CHECKS_OTHERS);
    if (tz)
        eider__exec(io->con, "RESET TimeZone", &err);
    eider__buf_release(&rel);
    eider__buf_release(&set);
    eider__buf_release(&err);
}

static int table_store(eider_io *io, const char *source, int64_t *rows, void *user_data)
{
    eider_context *ctx = io->ctx;
    eider__buf err = { 0 }, sql = { 0 };
    (void)user_data;
    *rows = 0;
    if (output_where(io, source))
        return EIDER_ESTEP;
    eider__write w = {
        .asset_key = ctx->asset->key, .table = &io->table, .source = source, .where = io->where,
        .timezone = io->where ? eider__partitions_timezone(ctx->asset->partitions) : NULL,
        .policy = policy_of(ctx->asset), .view = is_meta(ctx->asset, "materialized", "view"),
        .unordered = is_meta(ctx->asset, "write_order", "any"), .mode = mode_of(ctx->asset),
        .delete_missing = is_meta(ctx->asset, "merge_delete_missing", "true"),
        .before_commit = eider__checks_any_blocking(ctx->run->defs, ctx->asset) ? checks_before_commit : NULL,
        .user_data = ctx,
    };
    if (w.view && (!io->is_sql || io->where))
        return eider__ctx_fail(ctx, NULL, "asset '%s': metadata \"materialized\" is \"view\", which "
            "needs an SQL output (eider_output_sql) and no partitions", ctx->asset->key);
    size_t n_keys = 0, n_check = 0;
    char **keys = w.mode >= EIDER__WRITE_MERGE ? columns_of(ctx->asset, "unique_key", &n_keys) : NULL;
    char **check = w.mode == EIDER__WRITE_SNAPSHOT ? columns_of(ctx->asset, "check_columns", &n_check)
                 : NULL;
    w.keys = (const char *const *)keys;
    w.check = (const char *const *)check;
    w.by_hash = is_meta(ctx->asset, "snapshot_compare", "hash");
    int rc = eider__io_write(io->con, &w, rows, &err, &sql);
    eider__strv_free(keys, n_keys);
    eider__strv_free(check, n_check);
    if (rc && !ctx->failed)          /* (a blocking check's failure is set already) */
        eider__ctx_fail(ctx, sql.len ? eider__buf_str(&sql) : NULL, "asset '%s': storing %s "
                        "failed: %s", ctx->asset->key, io->table.quoted, eider__buf_str(&err));
    if (!rc && ctx->asset->n_checks)
        checks_after_commit(io);
    eider__buf_release(&err);
    eider__buf_release(&sql);
    return rc ? EIDER_ESTEP : EIDER_OK;
}

/* The write's metadata: row counts (of the table, of the write, of each partition of
 * the run), columns, a preview, where it is. */
static int table_metadata(eider_io *io, const char *source, int64_t rows, void *user_data)
{
    (void)source;
    (void)user_data;
    if (mode_of(io->ctx->asset) != EIDER__WRITE_REPLACE)
        rows = rows_held(io, rows);
    eider__io_metadata(io->con, &io->table, io->table.quoted, io->where, rows, eider__io_add_meta,
                       io->ctx);
    partition_counts(io);
    return EIDER_OK;
}

static int table_open(eider_io *io, void *user_data)
{
    (void)user_data;
    return eider__io_partition_where(io, io->asset, io->table.quoted);
}

static int table_exists(eider_io *io, void *user_data)
{
    (void)user_data;
    return (io->kind = eider__io_table_kind(io->con, &io->table)) != 0;
}

/* Inputs read the table itself. */
static char *table_relation(eider_io *io, void *user_data)
{
    (void)user_data;
    return eider__xstrdup(io->table.quoted);
}

static char *table_describe(eider_io *io, void *user_data)
{
    eider__buf b = { 0 };
    (void)user_data;
    eider__buf_printf(&b, "table %s in '%s'", io->table.quoted,
                      eider__dbs_name(&io->ctx->run->dbs, io->manager->name));
    return eider__buf_detach(&b);
}

const eider_io_manager_def eider__duckdb_io_methods = {
    .exists = table_exists, .relation = table_relation, .store = table_store,
    .open = table_open, .metadata = table_metadata, .describe = table_describe,
    .flags = EIDER_IO_LOCAL_RELATION,
};
