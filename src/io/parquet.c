/*
 * parquet.c — the Parquet I/O manager: each asset's output a Parquet file under the
 * manager's folder (a file per partition), written by DuckDB's COPY in the manager's own
 * in-memory database, and read back with read_parquet().
 */
#define _GNU_SOURCE
#include <unistd.h>

#include "io.h"
#include "../defs/partitions.h"

/* The Parquet relation of an asset: one file, or its partitions' files. */
static void parquet_relation(const eider_io *io, char *const *keys, size_t n, eider__buf *out)
{
    eider__buf_puts(out, "read_parquet(");
    if (!io->asset->partitions || !n) {
        eider__buf path = { 0 };
        eider__buf_printf(&path, "%s%s", io->table.path, io->asset->partitions ? "/*.parquet" : ".parquet");
        eider__buf_sql_literal(out, eider__buf_str(&path));
        eider__buf_release(&path);
    } else {
        eider__buf_puts(out, "[");
        for (size_t i = 0; i < n; i++) {
            eider__buf path = { 0 };
            eider__buf_printf(&path, "%s/", io->table.path);
            eider__partition_file_name(keys[i], &path);
            eider__buf_puts(&path, ".parquet");
            if (i)
                eider__buf_puts(out, ", ");
            eider__buf_sql_literal(out, eider__buf_str(&path));
            eider__buf_release(&path);
        }
        eider__buf_puts(out, "]");
    }
    eider__buf_puts(out, ", union_by_name = true)");
}
/* The file of partition key of io's asset (NULL: of the asset, not partitioned). */
static void file_path(const eider_io *io, const char *key, eider__buf *out)
{
    eider__buf_puts(out, io->table.path);
    if (key) {
        eider__buf_putc(out, '/');
        eider__partition_file_name(key, out);
    }
    eider__buf_puts(out, ".parquet");
}

/* One Parquet file per partition of the run (or one for the asset). */
static int parquet_store(eider_io *io, const char *source, int64_t *total, void *user_data)
{
    eider_context *ctx = io->ctx;
    eider__step *s = ctx->step;
    eider__buf err = { 0 }, sql = { 0 }, path = { 0 }, part = { 0 }, rel = { 0 };
    int64_t rows = 0;
    int rc = EIDER_OK;
    size_t n = ctx->asset->partitions ? s->n_partitions : 1;
    const char *expr = eider__asset_meta(ctx->asset, "partition_expr");
    (void)user_data;
    *total = 0;
    if (n > 1 && !expr)
        return eider__ctx_fail(ctx, NULL, "asset '%s': a run of %zu partitions writes one file "
            "each, so the Parquet I/O manager needs metadata \"partition_expr\" to split the "
            "output", ctx->asset->key, n);
    eider__buf_printf(&rel, "(%s)", source);
    eider__bounds bounds = n > 1 ? eider__io_time_bounds(io->con, ctx->asset, eider__buf_str(&rel))
                                 : EIDER__BOUNDS_WALL;
    for (size_t i = 0; i < n && !rc; i++) {
        eider__buf_reset(&path);
        eider__buf_reset(&part);
        file_path(io, ctx->asset->partitions ? s->partitions[i] : NULL, &path);
        if (n > 1) {
            eider__buf cond = { 0 };
            rc = eider__partitions_where_at(ctx->asset->partitions, expr, &s->partitions[i], 1,
                                            bounds, &cond, &err);
            eider__buf_printf(&part, "SELECT * FROM (%s) WHERE %s", source, eider__buf_str(&cond));
            eider__buf_release(&cond);
        } else {
            eider__buf_puts(&part, source);
        }
        if (!rc)
            rc = eider__parquet_write(io->con, eider__buf_str(&part), eider__buf_str(&path), &rows, &err, &sql);
        *total += rows;
    }
    if (rc)
        eider__ctx_fail(ctx, sql.len ? eider__buf_str(&sql) : NULL, "asset '%s': writing '%s' "
                        "failed: %s", ctx->asset->key, eider__buf_str(&path), eider__buf_str(&err));
    eider__buf_release(&err);
    eider__buf_release(&sql);
    eider__buf_release(&path);
    eider__buf_release(&part);
    eider__buf_release(&rel);
    return rc ? EIDER_ESTEP : EIDER_OK;
}

/* The write's metadata, read back from the files written; "path" the file, or the
 * folder of a partitioned asset's files. */
static int parquet_metadata(eider_io *io, const char *source, int64_t rows, void *user_data)
{
    const eider__step *s = io->ctx->step;
    const eider__asset *a = io->ctx->asset;
    eider__buf path = { 0 }, rel = { 0 };
    eider__table written = io->table;
    (void)source;
    (void)user_data;
    if (!a->partitions || s->n_partitions == 1) {
        file_path(io, a->partitions ? s->partitions[0] : NULL, &path);
        written.path = (char *)eider__buf_str(&path);
    }
    parquet_relation(io, s->partitions, a->partitions ? s->n_partitions : 0, &rel);
    eider__io_metadata(io->con, &written, eider__buf_str(&rel), NULL, rows, eider__io_add_meta,
                       io->ctx);
    eider__buf_release(&path);
    eider__buf_release(&rel);
    return EIDER_OK;
}

/* Whether the file exists, or for a partitioned asset its folder. */
static int parquet_exists(eider_io *io, void *user_data)
{
    eider__buf path = { 0 };
    (void)user_data;
    eider__buf_printf(&path, "%s%s", io->table.path, io->asset->partitions ? "" : ".parquet");
    int exists = access(eider__buf_str(&path), F_OK) == 0;
    eider__buf_release(&path);
    return exists;
}

/* An input reads read_parquet() of its file, or of the files of the partitions the
 * step reads (the day before the first: none, so no rows, but the files' columns). */
static char *parquet_input(eider_io *io, void *user_data)
{
    eider__buf rel = { 0 };
    (void)user_data;
    if (!io->all_keys && !io->n_keys)
        io->where = eider__xstrdup("FALSE");
    parquet_relation(io, io->keys, io->all_keys ? 0 : io->n_keys, &rel);
    return eider__buf_detach(&rel);
}

static char *parquet_describe(eider_io *io, void *user_data)
{
    eider__buf b = { 0 };
    (void)user_data;
    if (io->asset->partitions)
        eider__buf_printf(&b, "the folder of Parquet files '%s'", io->table.path);
    else
        eider__buf_printf(&b, "Parquet file '%s.parquet'", io->table.path);
    return eider__buf_detach(&b);
}

const eider_io_manager_def eider__parquet_io_methods = {
    .exists = parquet_exists, .relation = parquet_input, .store = parquet_store,
    .metadata = parquet_metadata, .describe = parquet_describe,
};
