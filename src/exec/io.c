/*
 * io.c — the I/O manager as a step sees it: inputs loaded from the upstream assets'
 * tables (as frames, Arrow streams, table names or a handler's type), the output the
 * compute function gives, stored when it returns, and frames named for SQL. What is
 * particular to an I/O manager is its methods, the public eider_io_manager_def (built
 * in: ../io/; or the user's own), and what Eider does where a method is left out; this
 * file only drives them.
 */
#define _GNU_SOURCE

#include "exec.h"
#include "../defs/partitions.h"
#include "../duckdb/value.h"
#include "../io/io.h"

/* ---- helpers ------------------------------------------------------------------- */

static const eider_input_def *input_options(const eider__asset *a, const char *key)
{
    for (size_t i = 0; i < a->n_ins; i++)
        if (strcmp(a->ins[i].key, key) == 0)
            return &a->ins[i];
    return NULL;
}

/* The upstream asset called name (n bytes): its whole key, or its key's last part
 * when no other input has the same (Dagster names inputs so). NULL when none. */
static const eider__asset *find_upstream(const eider_context *ctx, const char *name, size_t n)
{
    const eider_defs *defs = ctx->run->defs;
    const eider__asset *by_last = NULL;
    size_t n_last = 0;
    for (size_t i = 0; i <= ctx->asset->n_up; i++) {
        const eider__asset *up = i < ctx->asset->n_up ? &defs->assets[ctx->asset->up[i]]
                               : ctx->asset->reads_own_past ? ctx->asset : NULL;
        if (!up)
            break;
        const char *slash = strrchr(up->key, '/'), *last = slash ? slash + 1 : up->key;
        if (strlen(up->key) == n && strncmp(up->key, name, n) == 0)
            return up;
        if (strlen(last) == n && strncmp(last, name, n) == 0) {
            by_last = up;
            n_last++;
        }
    }
    return n_last == 1 ? by_last : NULL;
}

/* The upstream asset `key` of the step's asset, or NULL with the failure set. */
static const eider__asset *upstream(eider_context *ctx, const char *key)
{
    const eider__asset *up = key ? find_upstream(ctx, key, strlen(key)) : NULL;
    if (!up)
        eider__ctx_fail(ctx, NULL, "asset '%s' has no input '%s': name it in .deps (or .ins) "
                        "to load it", ctx->asset->key, key ? key : "(null)");
    return up;
}

/* The I/O manager of asset a, or NULL with the failure set. */
static const eider__resource *manager_of(eider_context *ctx, const eider__asset *a)
{
    const eider__resource *r = eider__defs_resource(ctx->run->defs, a->io_manager);
    if (r && r->kind != EIDER__DUCKDB)
        return r;
    eider__ctx_fail(ctx, NULL, "asset '%s' is stored by I/O manager '%s', which is not defined: "
        "add it with eider_duckdb_io_manager(defs, %s, ...)", a->key, a->io_manager,
        strcmp(a->io_manager, EIDER__DEFAULT_IO_MANAGER) ? a->io_manager : "NULL");
    return NULL;
}

/* How the time expression of a's partitions, over relation, meets a window's bounds
 * (its type decides): a TIMESTAMPTZ as instants, so that every reader selects the same
 * rows whatever its session's TimeZone (which comes from TZ); text cast to a TIMESTAMP;
 * anything else, or when it cannot say (no time dimension, no table yet), as wall-clock
 * time. */
eider__bounds eider__io_time_bounds(duckdb_connection con, const eider__asset *a,
                                    const char *relation)
{
    eider__buf expr = { 0 }, sql = { 0 };
    duckdb_prepared_statement stmt = NULL;
    eider__bounds bounds = EIDER__BOUNDS_WALL;
    if (con && eider__partitions_time_expr(a->partitions, eider__asset_meta(a, "partition_expr"),
                                           &expr)) {
        eider__buf_printf(&sql, "SELECT (%s) FROM %s", eider__buf_str(&expr), relation);
        if (duckdb_prepare(con, eider__buf_str(&sql), &stmt) == DuckDBSuccess) {
            duckdb_type type = duckdb_prepared_statement_column_type(stmt, 0);
            bounds = type == DUCKDB_TYPE_TIMESTAMP_TZ ? EIDER__BOUNDS_INSTANTS
                   : type == DUCKDB_TYPE_VARCHAR ? EIDER__BOUNDS_TEXT : EIDER__BOUNDS_WALL;
        }
        duckdb_destroy_prepare(&stmt);
    }
    eider__buf_release(&expr);
    eider__buf_release(&sql);
    return bounds;
}

/* The mapping through which the step's asset reads its input up (validation chose
 * it), or NULL when either is unpartitioned: then every row is read. */
static const eider_partition_mapping *mapping_of(const eider_context *ctx, const eider__asset *up)
{
    const eider__asset *a = ctx->asset;
    const eider_partition_mapping *m = NULL;
    if (up == a && a->reads_own_past)
        m = &a->own_map;
    for (size_t d = 0; !m && a->up_maps && d < a->n_up; d++)
        if (&ctx->run->defs->assets[a->up[d]] == up)
            m = &a->up_maps[d];
    return m && m->kind != EIDER_MAP_INFER ? m : NULL;
}

/* The partitions of input up that the step reads, into io->keys, or io->all_keys. */
static int map_input(eider_context *ctx, const eider__asset *up, eider_io *io)
{
    const eider_partition_mapping *m = mapping_of(ctx, up);
    eider__buf err = { 0 };
    int rc = EIDER_OK;
    io->all_keys = !m || !ctx->step->n_partitions;
    if (!io->all_keys && (rc = eider__mapping_keys(ctx->asset->partitions, up->partitions, m,
            ctx->step->partitions, ctx->step->n_partitions, &io->keys, &io->n_keys,
            &io->all_keys, &err)))
        eider__ctx_fail(ctx, NULL, "input '%s' of asset '%s': %s", up->key, ctx->asset->key,
                        eider__buf_str(&err));
    eider__buf_release(&err);
    return rc;
}

/* The partitions of a that this step reads or writes, over relation (a's table, or the
 * output to store): its own keys, or for an input the keys mapped (map_input); in
 * io->where, NULL when it takes every row. */
int eider__io_partition_where(eider_io *io, const eider__asset *a, const char *relation)
{
    eider_context *ctx = io->ctx;
    eider__buf sql = { 0 }, err = { 0 };
    char *const *keys = io->input ? io->keys : ctx->step->partitions;
    size_t n = io->input ? io->n_keys : ctx->step->n_partitions;
    int rc = EIDER_OK;
    free(io->where);
    io->where = NULL;
    if (!a->partitions || (io->input ? io->all_keys : !n))
        return EIDER_OK;
    io->bounds = eider__io_time_bounds(io->con, a, relation);
    rc = eider__partitions_where_at(a->partitions, eider__asset_meta(a, "partition_expr"),
                                    keys, n, io->bounds, &sql, &err);
    if (rc)
        eider__ctx_fail(ctx, NULL, "asset '%s': %s", a->key, eider__buf_str(&err));
    else
        io->where = eider__buf_detach(&sql);
    eider__buf_release(&sql);
    eider__buf_release(&err);
    return rc;
}

static void io_release(eider_io *io)
{
    eider__table_release(&io->table);
    eider__strv_free(io->keys, io->n_keys);
    free(io->where);
    eider__buf_release(&io->load_sql);
}

/* Set up io for asset a (the step's own output, or an input) on its I/O manager. */
static int io_open(eider_context *ctx, eider_io *io, const eider__asset *a, int input)
{
    memset(io, 0, sizeof(*io));
    io->ctx = ctx;
    io->asset = a;
    io->input = input;
    io->all_keys = 1;
    if (!(io->manager = manager_of(ctx, a)))
        return EIDER_ENORESOURCE;
    io->methods = &io->manager->methods;
    if (input && a->partitions && map_input(ctx, a, io))
        return EIDER_EINVAL;
    if (!(io->con = eider__ctx_connect(ctx, io->manager->name)))
        return EIDER_EDUCKDB;
    eider__table_of(a, io->manager, eider__dbs_catalog(&ctx->run->dbs, io->manager->name),
                    &io->table);
    if (io->methods->open && io->methods->open(io, io->methods->user_data) != EIDER_OK) {
        if (!ctx->failed)
            eider__ctx_fail(ctx, NULL, "asset '%s': I/O manager '%s' could not open '%s'",
                            ctx->asset->key, io->manager->name, a->key);
        return EIDER_EINVAL;
    }
    return EIDER_OK;
}

/* The manager's methods that a step calls, each with its user_data. */
static int io_exists(eider_io *io)
{
    return io->methods->exists(io, io->methods->user_data) > 0;
}

/* What io's stored output is and where, for messages; malloc'd. */
static char *io_describe(eider_io *io)
{
    char *what = io->methods->describe ? io->methods->describe(io, io->methods->user_data) : NULL;
    if (!what) {
        eider__buf b = { 0 };
        eider__buf_printf(&b, "the stored output of %s in '%s'", io->asset->key, io->manager->name);
        what = eider__buf_detach(&b);
    }
    return what;
}

/* The SQL that reads io's stored output; NULL (the step's failure set) when the
 * manager gives none. */
static char *io_relation(eider_io *io)
{
    char *rel = io->methods->relation(io, io->methods->user_data);
    if (!rel && !io->ctx->failed)
        eider__ctx_fail(io->ctx, NULL, "asset '%s': I/O manager '%s' gave no relation to read "
                        "'%s' through", io->ctx->asset->key, io->manager->name, io->asset->key);
    return rel;
}

/* ---- inputs -------------------------------------------------------------------- */

static int missing_input(eider_io *io)
{
    eider_context *ctx = io->ctx;
    char *what = io_describe(io);
    eider__buf word = { 0 };         /* the key as one shell word, for the command */
    eider__buf_shell_quote(&word, io->asset->key);
    if (io->asset->external)
        eider__ctx_fail(ctx, NULL, "input '%s' of asset '%s': %s does not exist, and '%s' is an "
            "external asset: whatever produces it outside Eider must create it first",
            io->asset->key, ctx->asset->key, what, io->asset->key);
    else
        eider__ctx_fail(ctx, NULL, "input '%s' of asset '%s': %s does not exist: materialize "
            "'%s' first (eider materialize --select %s%s)", io->asset->key, ctx->asset->key, what,
            io->asset->key, eider__buf_str(&word),
            io->asset->partitions ? " --partition KEY, or --all-partitions" : "");
    eider__buf_release(&word);
    free(what);
    return EIDER_ESTEP;
}

/* Open io on input key and build its load query. A missing table fails the step,
 * but the asset's own (it reads its earlier partitions, and this is its first run):
 * that input is empty (io->empty). */
static int input_open(eider_context *ctx, eider_io *io, const char *key)
{
    memset(io, 0, sizeof(*io));
    const eider__asset *up = upstream(ctx, key);
    const eider_input_def *opt = up ? input_options(ctx->asset, up->key) : NULL;
    if (!up || io_open(ctx, io, up, 1))
        return EIDER_EINVAL;
    io->columns = opt ? opt->columns : NULL;
    if (!io_exists(io)) {
        if (up != ctx->asset)
            return missing_input(io);
        io->empty = 1;               /* its first partition: nothing earlier yet */
    }
    char *rel = io_relation(io);
    if (!rel)
        return EIDER_ESTEP;
    free(io->table.quoted);
    io->table.quoted = rel;
    eider__io_load_sql(&io->table, io->columns, io->where, &io->load_sql);
    return EIDER_OK;
}

int eider_input_exists(eider_context *ctx, const char *key)
{
    eider_io io;
    memset(&io, 0, sizeof(io));
    const eider__asset *up = upstream(ctx, key);
    int exists = up && io_open(ctx, &io, up, 1) == EIDER_OK && io_exists(&io);
    io_release(&io);
    return exists;
}

static void *find_loaded(eider_context *ctx, const char *key, const char *type)
{
    const eider__asset *up = find_upstream(ctx, key, strlen(key));
    for (size_t i = 0; up && i < ctx->n_loaded; i++)
        if (strcmp(ctx->loaded[i].key, up->key) == 0 && strcmp(ctx->loaded[i].type, type) == 0)
            return ctx->loaded[i].value;
    return NULL;
}

static void *keep_loaded(eider_context *ctx, const char *key, const char *type, void *value,
                         const eider_type_handler_def *handler)
{
    EIDER__GROW(ctx->loaded, ctx->cap_loaded, ctx->n_loaded + 1);
    ctx->loaded[ctx->n_loaded++] = (eider__loaded){ .key = key, .type = eider__xstrdup(type),
                                                    .value = value, .handler = handler };
    return value;
}

static eider_frame *load_frame(eider_io *io)
{
    char **slices = NULL;
    size_t n = 0;
    eider_frame *f = NULL;
    const char *whole = eider__buf_str(&io->load_sql);
    if (io->empty)
        return eider_frame_new();
    if (io->kind == 'T')
        eider__io_load_slices(io->con, &io->table, io->columns, io->where, &slices, &n);
    f = eider__frame_query_slices(io->con, n ? (const char *const *)slices : &whole, n ? n : 1);
    eider__strv_free(slices, n);
    if (!f)
        eider__ctx_fail(io->ctx, eider__buf_str(&io->load_sql), "input '%s' of asset '%s': %s",
                        io->asset->key, io->ctx->asset->key, eider_frame_error());
    return f;
}

const eider_frame *eider_input_frame(eider_context *ctx, const char *key)
{
    eider_io io;
    eider_frame *f = key ? find_loaded(ctx, key, "frame") : NULL;
    if (f)
        return f;
    if (input_open(ctx, &io, key) == EIDER_OK && (f = load_frame(&io)))
        keep_loaded(ctx, upstream(ctx, key)->key, "frame", f, NULL);
    io_release(&io);
    return f;
}

struct ArrowArrayStream *eider_input_arrow(eider_context *ctx, const char *key)
{
    struct ArrowArrayStream *s = key ? find_loaded(ctx, key, "arrow") : NULL;
    const eider_frame *f = s ? NULL : eider_input_frame(ctx, key);
    if (s || !f)
        return s;
    s = eider__xcalloc(1, sizeof(*s));
    if (eider_frame_to_arrow_stream(f, 0, s)) {
        free(s);
        eider__ctx_fail(ctx, NULL, "input '%s': %s", key, eider_frame_error());
        return NULL;
    }
    return keep_loaded(ctx, upstream(ctx, key)->key, "arrow", s, NULL);
}

const char *eider_input_table(eider_context *ctx, const char *key)
{
    eider_io io;
    char *name = key ? find_loaded(ctx, key, "table") : NULL;
    if (name)
        return name;
    if (input_open(ctx, &io, key) == EIDER_OK) {
        name = eider__xstrdup(io.table.quoted);
        keep_loaded(ctx, io.asset->key, "table", name, NULL);
    }
    io_release(&io);
    return name;
}

static const eider_type_handler_def *find_handler(const eider__resource *r, const char *type)
{
    for (size_t i = 0; r && i < r->n_handlers; i++)
        if (strcmp(r->handlers[i].type, type) == 0)
            return &r->handlers[i];
    return NULL;
}

void *eider_input(eider_context *ctx, const char *key, const char *type)
{
    eider_io io;
    void *value = NULL;
    if (!type || strcmp(type, "frame") == 0)
        return (void *)eider_input_frame(ctx, key);
    if (key && (value = find_loaded(ctx, key, type)))
        return value;
    if (input_open(ctx, &io, key) == EIDER_OK) {
        const eider_type_handler_def *h = find_handler(io.manager, type);
        if (!h || !h->load)
            eider__ctx_fail(ctx, NULL, "input '%s' of asset '%s': I/O manager '%s' has no handler "
                "that loads type '%s': register one with eider_type_handler()", io.asset->key,
                ctx->asset->key, io.manager->name, type);
        else if ((value = h->load(&io, h->user_data)))
            keep_loaded(ctx, io.asset->key, type, value, h);
        else
            eider__ctx_fail(ctx, NULL, "input '%s' of asset '%s': the '%s' handler's load "
                            "returned NULL", io.asset->key, ctx->asset->key, type);
    }
    io_release(&io);
    return value;
}

/* ---- outputs ------------------------------------------------------------------- */

static int can_output(eider_context *ctx)
{
    if (ctx->asset->output == EIDER_OUTPUT_NONE)
        return eider__ctx_fail(ctx, NULL, "asset '%s' gave an output, but it is declared with "
            ".output = EIDER_OUTPUT_NONE: remove that, or do not give one", ctx->asset->key);
    if (ctx->out_kind != EIDER__NO_OUTPUT)
        return eider__ctx_fail(ctx, NULL, "asset '%s' gave a second output: an asset has one",
                               ctx->asset->key);
    return EIDER_OK;
}

int eider_output_frame(eider_context *ctx, eider_frame *frame)
{
    if (!frame)
        return eider__ctx_fail(ctx, NULL, "asset '%s': the output frame is NULL: %s",
            ctx->asset->key, *eider_frame_error() ? eider_frame_error() : "no frame was given");
    if (can_output(ctx)) {
        eider_frame_free(frame);
        return EIDER_ESTEP;
    }
    ctx->out_kind = EIDER__OUT_FRAME;
    ctx->out_frame = frame;
    return EIDER_OK;
}

int eider_output_arrow(eider_context *ctx, struct ArrowArrayStream *stream)
{
    if (!stream)
        return eider__ctx_fail(ctx, NULL, "asset '%s': the output Arrow stream is NULL",
                               ctx->asset->key);
    return eider_output_frame(ctx, eider_frame_from_arrow_stream(stream));
}

int eider_output_sql(eider_context *ctx, const char *sql)
{
    if (!sql)
        return eider__ctx_fail(ctx, NULL, "asset '%s': eider_output_sql() was given no SQL",
                               ctx->asset->key);
    if (can_output(ctx))
        return EIDER_ESTEP;
    ctx->out_kind = EIDER__OUT_SQL;
    ctx->out_sql = eider__xstrdup(sql);
    return EIDER_OK;
}

int eider_output(eider_context *ctx, const char *type, const void *value)
{
    if (!type || strcmp(type, "frame") == 0)
        return eider_output_frame(ctx, (eider_frame *)value);
    if (can_output(ctx))
        return EIDER_ESTEP;
    ctx->out_kind = EIDER__OUT_VALUE;
    ctx->out_type = eider__xstrdup(type);
    ctx->out_value = value;
    return EIDER_OK;
}

int eider_register_frame(eider_context *ctx, const char *name, const eider_frame *frame)
{
    if (!name || !*name || !frame)
        return eider__ctx_fail(ctx, NULL, "eider_register_frame() needs a name and a frame%s%s",
                               frame ? "" : ": ", frame ? "" : eider_frame_error());
    eider__scope_add(&ctx->scope, name, frame);
    if (!ctx->scope_pushed)
        eider__scope_push(&ctx->scope);
    ctx->scope_pushed = 1;
    return EIDER_OK;
}

const char *const *eider_partition_keys(const eider_context *ctx, size_t *n)
{
    if (n)
        *n = ctx->step->n_partitions;
    return ctx->step->n_partitions ? (const char *const *)ctx->step->partitions : NULL;
}

/* ---- storing ------------------------------------------------------------------- */

void eider__io_add_meta(void *ctx, const eider_meta *m)
{
    eider_add_meta(ctx, m);
}

int eider_io_add_meta(eider_io *io, const eider_meta *m)
{
    return io ? eider_add_meta(io->ctx, m) : EIDER_EINVAL;
}

/* What a {placeholder} may hold: an asset key's characters. Anything else between
 * braces (a struct literal {'a': 1}), and braces inside quotes, are SQL. */
#define KEY_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./"

/* "{key}" in sql, for an upstream key, becomes its relation. */
static int resolve_placeholders(eider_io *io, const char *sql, eider__buf *out)
{
    eider_context *ctx = io->ctx;
    char quote = 0;                  /* inside '...' or "...": no placeholders */
    for (const char *p = sql; *p; p++) {
        if ((*p == '\'' || *p == '"') && (!quote || quote == *p))
            quote = quote ? 0 : *p;
        size_t n = *p == '{' && !quote ? strspn(p + 1, KEY_CHARS) : 0;
        const eider__asset *up = n && p[n + 1] == '}' ? find_upstream(ctx, p + 1, n) : NULL;
        if (n && p[n + 1] == '}' && !up)
            return eider__ctx_fail(ctx, sql, "asset '%s': {%.*s} in its SQL names no input of it: "
                "name an asset of its .deps, by key or by its key's last part", ctx->asset->key,
                (int)n, p + 1);
        if (!up) {
            eider__buf_putc(out, *p);
            continue;
        }
        const char *close = p + n + 1;
        eider_io in;
        int rc = input_open(ctx, &in, up->key);
        char *what = !rc && in.empty ? io_describe(&in) : NULL;
        if (what)
            rc = eider__ctx_fail(ctx, sql, "asset '%s': {%s} reads its own earlier partitions, "
                "but %s does not exist yet (this is its first run): give SQL without {%s} when "
                "eider_input_exists(ctx, \"%s\") is 0, as dbt's is_incremental()",
                ctx->asset->key, up->key, what, up->key, up->key);
        free(what);
        if (!rc && (in.methods->flags & EIDER_IO_LOCAL_RELATION) &&
            !eider__dbs_same(&ctx->run->dbs, in.manager->name, io->manager->name))
            rc = eider__ctx_fail(ctx, sql, "asset '%s': {%s} is stored in another database ('%s'): "
                "an SQL output reads tables of its own database only; load it with "
                "eider_input_frame() instead", ctx->asset->key, up->key,
                eider__dbs_name(&ctx->run->dbs, in.manager->name));
        if (!rc)
            eider__buf_printf(out, in.where || in.columns ? "(%s)" : "%s",
                              in.where || in.columns ? eider__buf_str(&in.load_sql) : in.table.quoted);
        io_release(&in);
        if (rc)
            return EIDER_ESTEP;
        p = close;
    }
    return EIDER_OK;
}

/* Without a metadata method: the relation the manager reads the output through, and
 * its columns, row count and first rows. */
static int default_metadata(eider_io *io, int64_t rows)
{
    char *rel = io_relation(io);
    if (!rel)
        return EIDER_ESTEP;
    eider_meta m = EIDER_META_TEXT("relation", rel);
    eider_add_meta(io->ctx, &m);
    eider__io_metadata(io->con, NULL, rel, NULL, rows, eider__io_add_meta, io->ctx);
    free(rel);
    return EIDER_OK;
}

/* The manager stores the rows of source, then reports the write's metadata. */
static int store_source(eider_io *io, const char *source, int is_sql)
{
    const eider_io_manager_def *m = io->methods;
    int64_t rows = -1;
    int rc = EIDER_OK;
    io->is_sql = is_sql;
    if (io->manager->kind != EIDER__IO_DUCKDB && io->asset->n_checks) {
        eider__buf rel = { 0 };      /* (the DuckDB one checks inside its transaction) */
        eider__buf_printf(&rel, "(%s)", source);
        rc = eider__checks_run(io->ctx, io->con, eider__buf_str(&rel));
        eider__buf_release(&rel);
        if (rc)
            return rc;
    }
    rc = m->store(io, source, &rows, m->user_data);
    if (rc) {
        if (!io->ctx->failed)
            eider__ctx_fail(io->ctx, NULL, "asset '%s': I/O manager '%s' failed to store it "
                            "(%s)", io->asset->key, io->manager->name, eider_strerror(rc));
        return EIDER_ESTEP;
    }
    rc = m->metadata ? m->metadata(io, source, rows, m->user_data) : default_metadata(io, rows);
    if (rc && !io->ctx->failed)
        eider__ctx_fail(io->ctx, NULL, "asset '%s': I/O manager '%s' stored it but could not "
                        "describe the write (%s)", io->asset->key, io->manager->name,
                        eider_strerror(rc));
    return rc ? EIDER_ESTEP : EIDER_OK;
}

int eider_io_store_frame(eider_io *io, const eider_frame *frame)
{
    eider__frame_scope scope = { 0 };
    eider__buf source = { 0 };
    if (!frame)
        return eider_io_fail(io, "the frame to store is NULL: %s", eider_frame_error());
    eider__scope_add(&scope, "__eider_output", frame);
    eider__frame_scan_sql(frame, &source);
    int rc = store_source(io, eider__buf_str(&source), 0);
    eider__scope_release(&scope);
    eider__buf_release(&source);
    return rc;
}

int eider_io_store_sql(eider_io *io, const char *sql)
{
    eider__buf source = { 0 };
    if (!sql)
        return eider_io_fail(io, "eider_io_store_sql() was given no SQL");
    int rc = resolve_placeholders(io, sql, &source);
    if (!rc)
        rc = store_source(io, eider__buf_str(&source), 1);
    eider__buf_release(&source);
    return rc;
}

int eider__ctx_store(eider_context *ctx)
{
    eider_io io;
    int rc = EIDER_OK;
    if (ctx->out_kind == EIDER__NO_OUTPUT) {
        if (!eider__asset_output_required(ctx->run->defs, ctx->asset))
            return EIDER_OK;
        if (ctx->asset->output == EIDER_OUTPUT_REQUIRED)
            return eider__ctx_fail(ctx, NULL, "asset '%s' declares an output (.output = "
                "EIDER_OUTPUT_REQUIRED) but its compute function returned without giving one: "
                "call eider_output_frame(), eider_output_sql() or eider_output()", ctx->asset->key);
        return eider__ctx_fail(ctx, NULL, "asset '%s' returned without an output, so I/O manager "
            "'%s' stored nothing: give one with eider_output_frame(), eider_output_sql() or "
            "eider_output(); or, if the asset writes its own tables, declare .resources (or "
            ".output = EIDER_OUTPUT_NONE), or .output = EIDER_OUTPUT_OPTIONAL when giving none "
            "is fine", ctx->asset->key, ctx->asset->io_manager);
    }
    if (io_open(ctx, &io, ctx->asset, 0) == EIDER_OK) {
        if (ctx->out_kind == EIDER__OUT_FRAME)
            rc = eider_io_store_frame(&io, ctx->out_frame);
        else if (ctx->out_kind == EIDER__OUT_SQL)
            rc = eider_io_store_sql(&io, ctx->out_sql);
        else {
            const eider_type_handler_def *h = find_handler(io.manager, ctx->out_type);
            rc = h && h->store ? h->store(&io, ctx->out_value, h->user_data)
                : eider__ctx_fail(ctx, NULL, "asset '%s' gave an output of type '%s', which no "
                    "handler of I/O manager '%s' stores: register one with eider_type_handler()",
                    ctx->asset->key, ctx->out_type, io.manager->name);
        }
    } else {
        rc = EIDER_ESTEP;
    }
    io_release(&io);
    return rc;
}

void eider__ctx_io_release(eider_context *ctx)
{
    for (size_t i = 0; i < ctx->n_loaded; i++) {
        eider__loaded *l = &ctx->loaded[i];
        if (l->handler && l->handler->free)
            l->handler->free(l->value, l->handler->user_data);
        else if (strcmp(l->type, "frame") == 0)
            eider_frame_free(l->value);
        else if (strcmp(l->type, "arrow") == 0) {
            struct ArrowArrayStream *s = l->value;
            if (s->release)
                s->release(s);
            free(s);
        } else if (!l->handler)
            free(l->value);
        free(l->type);
    }
    free(ctx->loaded);
    eider_frame_free(ctx->out_frame);
    free(ctx->out_sql);
    free(ctx->out_type);
    eider__scope_release(&ctx->scope);
}

/* ---- the handle type handlers get ------------------------------------------------ */

duckdb_connection eider_io_connection(eider_io *io)
{
    return io->con;
}

const char *eider_io_table(eider_io *io)
{
    return io->table.quoted;
}

const char *eider_io_load_sql(eider_io *io)
{
    return eider__buf_str(&io->load_sql);
}

eider_frame *eider_io_load_frame(eider_io *io)
{
    return load_frame(io);
}

const char *eider_io_asset_key(eider_io *io)
{
    return io->asset->key;
}

const char *const *eider_io_partition_keys(eider_io *io, size_t *n)
{
    char *const *keys = io->input ? io->keys : io->ctx->step->partitions;
    size_t count = io->input ? (io->all_keys ? 0 : io->n_keys) : io->ctx->step->n_partitions;
    if (!io->asset->partitions)
        count = 0;
    if (n)
        *n = count;
    return count ? (const char *const *)keys : NULL;
}

int eider_io_fail(eider_io *io, const char *fmt, ...)
{
    eider__buf msg = { 0 };
    va_list ap;
    va_start(ap, fmt);
    eider__buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    eider__ctx_fail(io->ctx, NULL, "asset '%s': %s", io->ctx->asset->key, eider__buf_str(&msg));
    eider__buf_release(&msg);
    return EIDER_ESTEP;
}

/* ---- checks of what is stored (eider check) ---- */

int eider__checks_stored(eider_context *ctx)
{
    eider_io io;
    eider__buf rel = { 0 };
    const eider__resource *m = eider__defs_resource(ctx->run->defs, ctx->asset->io_manager);
    int loaded = ctx->asset->external ? m && m->kind != EIDER__DUCKDB   /* as inputs load it */
                                      : eider_defs_io_manager(ctx->run->defs, ctx->step->asset) != NULL;
    if (!loaded)
        return eider__checks_after_compute(ctx);     /* it writes its own table */
    if (io_open(ctx, &io, ctx->asset, 0) != EIDER_OK) {
        io_release(&io);
        return EIDER_ESTEP;
    }
    char *what = io_exists(&io) ? NULL : io_describe(&io);
    char *read = what ? NULL : io_relation(&io);
    if (what) {                      /* nothing to check: each check errs, saying so */
        eider__buf_printf(&rel, "%s does not exist: materialize '%s' first", what, ctx->asset->key);
        ctx->no_rows_why = eider__buf_str(&rel);
    } else if (read && io.where)
        eider__buf_printf(&rel, "(SELECT * FROM %s WHERE %s)", read, io.where);
    else if (read)
        eider__buf_puts(&rel, read);
    int rc = what ? eider__checks_run(ctx, NULL, NULL)
           : read ? eider__checks_run(ctx, io.con, eider__buf_str(&rel)) : EIDER_ESTEP;
    ctx->no_rows_why = NULL;
    free(what);
    free(read);
    eider__buf_release(&rel);
    io_release(&io);
    return rc;
}
