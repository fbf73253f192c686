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
/* One Parquet file per partition of the run (or one for the asset). */
static int store_parquet(eider_io *io, const char *source, int is_sql)
{
    (void)is_sql;
    eider_context *ctx = io->ctx;
    eider__step *s = ctx->step;
    eider__buf err = { 0 }, sql = { 0 }, path = { 0 }, part = { 0 }, rel = { 0 };
    int64_t rows = 0, total = 0;
    int rc = EIDER_OK;
    size_t n = ctx->asset->partitions ? s->n_partitions : 1;
    const char *expr = eider__asset_meta(ctx->asset, "partition_expr");
    if (n > 1 && !expr)
        return eider__ctx_fail(ctx, NULL, "asset '%s': a run of %zu partitions writes one file "
            "each, so the Parquet I/O manager needs metadata \"partition_expr\" to split the "
            "output", ctx->asset->key, n);
    eider__buf_printf(&rel, "(%s)", source);
    eider__bounds bounds = n > 1 ? eider__io_time_bounds(io->con, ctx->asset, eider__buf_str(&rel))
                                 : EIDER__BOUNDS_WALL;
    eider__buf_reset(&rel);
    for (size_t i = 0; i < n && !rc; i++) {
        eider__buf_reset(&path);
        eider__buf_reset(&part);
        eider__buf_puts(&path, io->table.path);
        if (ctx->asset->partitions) {
            eider__buf_putc(&path, '/');
            eider__partition_file_name(s->partitions[i], &path);
        }
        eider__buf_puts(&path, ".parquet");
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
        total += rows;
    }
    if (rc) {
        eider__ctx_fail(ctx, sql.len ? eider__buf_str(&sql) : NULL, "asset '%s': writing '%s' "
                        "failed: %s", ctx->asset->key, eider__buf_str(&path), eider__buf_str(&err));
    } else {
        eider__table written = io->table;      /* "path": the file written, or the folder of several */
        if (n == 1)
            written.path = (char *)eider__buf_str(&path);
        parquet_relation(io, s->partitions, ctx->asset->partitions ? s->n_partitions : 0, &rel);
        eider__io_metadata(io->con, &written, eider__buf_str(&rel), NULL, total, eider__io_add_meta, ctx);
    }
    eider__buf_release(&err);
    eider__buf_release(&sql);
    eider__buf_release(&path);
    eider__buf_release(&part);
    eider__buf_release(&rel);
    return rc ? EIDER_ESTEP : EIDER_OK;
}

/* Whether the file exists, or for a partitioned asset its folder. */
static int parquet_exists(eider_io *io)
{
    eider__buf path = { 0 };
    eider__buf_printf(&path, "%s%s", io->table.path, io->asset->partitions ? "" : ".parquet");
    int exists = access(eider__buf_str(&path), F_OK) == 0;
    eider__buf_release(&path);
    return exists;
}

/* An input reads read_parquet() of its file, or of the files of the partitions the
 * step reads (the day before the first: none, so no rows, but the files' columns). */
static void parquet_input(eider_io *io)
{
    eider__buf rel = { 0 };
    if (!io->all_keys && !io->n_keys)
        io->where = eider__xstrdup("FALSE");
    parquet_relation(io, io->keys, io->all_keys ? 0 : io->n_keys, &rel);
    free(io->table.quoted);
    io->table.quoted = eider__buf_detach(&rel);
}

static const char *parquet_name(const eider_io *io)
{
    return io->table.path;
}

static const char *parquet_place(const eider_io *io)
{
    (void)io;
    return "the file system";
}

const eider__io_ops eider__parquet_io_ops = {
    .noun = "Parquet file", .container = "folder", .exists = parquet_exists,
    .relation = parquet_input, .store = store_parquet, .name = parquet_name,
    .place = parquet_place,
};
