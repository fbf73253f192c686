/*
 * check.c — asset checks in a step: each check of the step's asset evaluated on the
 * rows the step produced (the built-in ones as SQL that DuckDB runs where the rows
 * are; those in C through a context of their own), its outcome kept in the step and
 * sent as an event, and whether a blocking one stops the step. Where the rows are
 * read (inside a write's transaction, or on an output before it is stored) is the
 * caller's: exec/io.c, io/duckdb.c, and step.c for assets that write their own tables.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <strings.h>

#include "exec.h"
#include "../duckdb/io.h"
#include "../duckdb/value.h"

#define SAMPLE_ROWS 5

/* What one evaluation found. */
typedef struct finding {
    eider_check_status status;
    eider__buf message;              /* why it failed or erred */
    eider__buf sql;                  /* the query that decided it */
    int64_t failing;                 /* failing rows; -1 when not counted */
    char *sample;                    /* JSON rows, or NULL */
    eider_meta extra[2];             /* what a kind adds (row_count, newest) */
    size_t n_extra;
    char *extra_text;
} finding;

static void finding_release(finding *f)
{
    eider__buf_release(&f->message);
    eider__buf_release(&f->sql);
    free(f->sample);
    free(f->extra_text);
}

static void errored(finding *f, const char *what, const char *why)
{
    f->status = EIDER_CHECK_ERRORED;
    eider__buf_reset(&f->message);
    eider__buf_printf(&f->message, "%s: %s", what, why);
}

/* ---- the built-in checks: SQL whose rows are the failures ---- */

static void ident(eider__buf *b, const char *name)
{
    eider__buf_sql_ident(b, name);
}

/* "a IS NULL OR b IS NULL" (op " IS NULL", joined by " OR "), over alias t. */
static void each_column(eider__buf *b, char *const *cols, size_t n, const char *op, const char *join)
{
    for (size_t i = 0; i < n; i++) {
        eider__buf_puts(b, i ? join : "");
        eider__buf_puts(b, "t.");
        ident(b, cols[i]);
        eider__buf_puts(b, op);
    }
}

/* The table another asset's rows are in, for references: as its DuckDB I/O manager
 * names it, or as one would (an asset that writes its own table), in the catalog of
 * the database the checked rows are in. */
static void table_of(eider_context *ctx, const eider__asset *a, eider__buf *out)
{
    const eider__resource *r = eider__defs_resource(ctx->run->defs, a->io_manager);
    eider__table t;
    if (r && r->kind != EIDER__IO_DUCKDB)
        r = NULL;
    eider__table_of(a, r, r ? eider__dbs_catalog(&ctx->run->dbs, r->name) : NULL, &t);
    if (r)
        eider__buf_puts(out, t.quoted);
    else {                           /* the current catalog: where the checked rows are */
        ident(out, t.schema);
        eider__buf_putc(out, '.');
        ident(out, t.table);
    }
    eider__table_release(&t);
}

/* {asset} and {<its key>} in a check's SQL become rel; the rest is the user's SQL. */
static void custom_sql(const eider__check *c, const char *key, const char *rel, eider__buf *out)
{
    size_t klen = strlen(key);
    for (const char *p = c->sql; *p; p++) {
        if (strncmp(p, "{asset}", 7) == 0) {
            eider__buf_puts(out, rel);
            p += 6;
        } else if (*p == '{' && strncmp(p + 1, key, klen) == 0 && p[klen + 1] == '}') {
            eider__buf_puts(out, rel);
            p += klen + 1;
        } else {
            eider__buf_putc(out, *p);
        }
    }
}

/* The query of c's failing rows over rel (alias t). */
static void failures_sql(eider_context *ctx, const eider__check *c, const char *rel, eider__buf *q)
{
    switch (c->kind) {
    case EIDER__CHECK_NOT_NULL:
        eider__buf_printf(q, "SELECT * FROM %s AS t WHERE ", rel);
        each_column(q, c->columns, c->n_columns, " IS NULL", " OR ");
        break;
    case EIDER__CHECK_UNIQUE:
        eider__buf_puts(q, "SELECT ");
        each_column(q, c->columns, c->n_columns, "", ", ");
        eider__buf_printf(q, ", count(*) AS \"eider rows\" FROM %s AS t WHERE ", rel);
        each_column(q, c->columns, c->n_columns, " IS NOT NULL", " AND ");
        eider__buf_puts(q, " GROUP BY ALL HAVING count(*) > 1");
        break;
    case EIDER__CHECK_ACCEPTED:
        eider__buf_printf(q, "SELECT * FROM %s AS t WHERE t.", rel);
        ident(q, c->column);
        eider__buf_puts(q, " IS NOT NULL AND CAST(t.");
        ident(q, c->column);
        eider__buf_puts(q, " AS VARCHAR) NOT IN (");
        for (size_t i = 0; i < c->n_values; i++) {
            eider__buf_puts(q, i ? ", " : "");
            eider__buf_sql_literal(q, c->values[i]);
        }
        eider__buf_puts(q, c->n_values ? ")" : "NULL)");
        break;
    case EIDER__CHECK_REFERENCES:
        eider__buf_printf(q, "SELECT * FROM %s AS t WHERE t.", rel);
        ident(q, c->column);
        eider__buf_puts(q, " IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ");
        table_of(ctx, &ctx->run->defs->assets[c->ref], q);
        eider__buf_puts(q, " AS p WHERE p.");
        ident(q, c->ref_column);
        eider__buf_puts(q, " = t.");
        ident(q, c->column);
        eider__buf_putc(q, ')');
        break;
    default:
        custom_sql(c, ctx->asset->key, rel, q);
        break;
    }
}

/* A kind's failures, counted and (when some) sampled. */
static void eval_failures(eider_context *ctx, duckdb_connection con, const eider__check *c,
                          const char *rel, finding *f)
{
    eider__buf count = { 0 }, err = { 0 };
    failures_sql(ctx, c, rel, &f->sql);
    eider__buf_printf(&count, "SELECT count(*) FROM (%s) AS \"eider failures\"", eider__buf_str(&f->sql));
    if (eider__query_int64(con, eider__buf_str(&count), &f->failing, &err)) {
        errored(f, "its query failed", eider__buf_str(&err));
    } else if (f->failing > 0) {
        eider__buf sample = { 0 };
        eider__buf_printf(&sample, "SELECT CAST(to_json(list(\"eider sample row\")) AS VARCHAR) "
                          "FROM (SELECT * FROM (%s) LIMIT %d) \"eider sample row\"",
                          eider__buf_str(&f->sql), SAMPLE_ROWS);
        f->sample = eider__query_text(con, eider__buf_str(&sample));
        eider__buf_release(&sample);
        f->status = EIDER_CHECK_FAILED;
        eider__buf_printf(&f->message, "%" PRId64 " %s", f->failing,
            c->kind == EIDER__CHECK_NOT_NULL ? (f->failing == 1 ? "row has a NULL" : "rows have a NULL")
            : c->kind == EIDER__CHECK_UNIQUE ? (f->failing == 1 ? "value is not unique"
                                                               : "values are not unique")
            : c->kind == EIDER__CHECK_ACCEPTED ? (f->failing == 1 ? "row has a value not accepted"
                                                                 : "rows have a value not accepted")
            : c->kind == EIDER__CHECK_REFERENCES ? (f->failing == 1 ? "row references nothing"
                                                                   : "rows reference nothing")
            : (f->failing == 1 ? "failing row" : "failing rows"));
    }
    eider__buf_release(&count);
    eider__buf_release(&err);
}

static void eval_row_count(duckdb_connection con, const eider__check *c, const char *rel, finding *f)
{
    eider__buf err = { 0 };
    int64_t n = 0;
    eider__buf_printf(&f->sql, "SELECT count(*) FROM %s AS t", rel);
    if (eider__query_int64(con, eider__buf_str(&f->sql), &n, &err)) {
        errored(f, "its query failed", eider__buf_str(&err));
    } else {
        f->extra[f->n_extra++] = (eider_meta)EIDER_META_INT("row_count", n);
        if (n < c->min_rows || (c->max_rows >= 0 && n > c->max_rows)) {
            f->status = EIDER_CHECK_FAILED;
            if (c->max_rows >= 0)
                eider__buf_printf(&f->message, "%" PRId64 " rows, expected %" PRId64 " to %" PRId64,
                                  n, c->min_rows, c->max_rows);
            else
                eider__buf_printf(&f->message, "%" PRId64 " rows, expected at least %" PRId64, n,
                                  c->min_rows);
        }
    }
    eider__buf_release(&err);
}

/* The newest value of the column, and its age in seconds by the database's clock
 * (a TIMESTAMP is taken as UTC; a DATE as its midnight UTC). */
static void eval_freshness(duckdb_connection con, const eider__check *c, const char *rel, finding *f)
{
    eider__buf err = { 0 }, newest = { 0 };
    int64_t age_ms = 0;
    eider__buf_puts(&f->sql, "SELECT CAST((epoch(get_current_timestamp()) - epoch(max(t.");
    ident(&f->sql, c->column);
    eider__buf_printf(&f->sql, "))) * 1000 AS BIGINT) FROM %s AS t", rel);
    eider__buf_puts(&newest, "SELECT CAST(max(t.");
    ident(&newest, c->column);
    eider__buf_printf(&newest, ") AS VARCHAR) FROM %s AS t", rel);
    f->extra_text = eider__query_text(con, eider__buf_str(&newest));
    if (eider__query_int64(con, eider__buf_str(&f->sql), &age_ms, &err)) {
        errored(f, "its query failed", eider__buf_str(&err));
    } else if (!f->extra_text) {
        f->status = EIDER_CHECK_FAILED;
        eider__buf_printf(&f->message, "column '%s' has no value: no rows, or only NULLs", c->column);
    } else {
        f->extra[f->n_extra++] = (eider_meta)EIDER_META_TEXT("newest", f->extra_text);
        f->extra[f->n_extra++] = (eider_meta)EIDER_META_FLOAT("age_s", (double)age_ms / 1000);
        if ((double)age_ms / 1000 > c->fresh_s) {
            f->status = EIDER_CHECK_FAILED;
            eider__buf_printf(&f->message, "the newest '%s' is %s, %.0f s old; expected at most %g s",
                              c->column, f->extra_text, (double)age_ms / 1000, c->fresh_s);
        }
    }
    eider__buf_release(&err);
    eider__buf_release(&newest);
}

/* Each expected column present with its type (case aside, as DuckDB's names are). */
static void eval_schema(duckdb_connection con, const eider__check *c, const char *rel, finding *f)
{
    eider__coldescs have = { 0 };
    eider__buf err = { 0 };
    eider__buf_printf(&f->sql, "DESCRIBE SELECT * FROM %s", rel);
    if (eider__source_columns(con, rel, &have, &err)) {
        errored(f, "its query failed", eider__buf_str(&err));
        goto out;
    }
    f->failing = 0;
    for (size_t i = 0; i + 1 < c->n_columns; i += 2) {
        const eider__coldesc *found = NULL;
        for (size_t j = 0; j < have.n && !found; j++)
            if (strcasecmp(have.v[j].name, c->columns[i]) == 0)
                found = &have.v[j];
        if (found && strcasecmp(found->type, c->columns[i + 1]) == 0)
            continue;
        eider__buf_puts(&f->message, f->failing++ ? "; " : "");
        if (found)
            eider__buf_printf(&f->message, "column '%s' is %s, expected %s", c->columns[i],
                              found->type, c->columns[i + 1]);
        else
            eider__buf_printf(&f->message, "column '%s' (%s) is missing", c->columns[i],
                              c->columns[i + 1]);
    }
    if (f->failing)
        f->status = EIDER_CHECK_FAILED;
out:
    eider__columns_release(&have);
    eider__buf_release(&err);
}

/* ---- checks in C ---- */

static void eval_c(eider_context *ctx, duckdb_connection con, const eider__check *c,
                   const char *rel, finding *f, eider_meta **meta, size_t *n_meta)
{
    eider_context cc = { .run = ctx->run, .step = ctx->step, .asset = ctx->asset,
                         .attempt = ctx->attempt, .check = c, .check_con = con,
                         .check_relation = rel };
    int rc = c->compute(&cc);
    if (cc.failed || rc != EIDER_OK) {
        errored(f, "it failed", cc.failed ? eider__buf_str(&cc.failure) : eider_strerror(rc));
    } else if (cc.check_failed) {
        f->status = EIDER_CHECK_FAILED;
        eider__buf_puts(&f->message, cc.check_message.len ? eider__buf_str(&cc.check_message)
                                                           : "it said so");
    }
    *meta = cc.check_meta;
    *n_meta = cc.n_check_meta;
    cc.check_meta = NULL;
    eider__buf_release(&cc.check_message);
    eider__ctx_release(&cc);
}

/* ---- one check, then all of them ---- */

/* Keep the outcome in the step, send it as an event, and warn when it did not pass. */
static void report(eider_context *ctx, const eider__check *c, const finding *f,
                   const eider_meta *own, size_t n_own)
{
    eider_meta *meta = eider__xcalloc(n_own + f->n_extra + 2, sizeof(*meta));
    size_t n = 0;
    if (f->failing >= 0 && f->status != EIDER_CHECK_ERRORED)
        meta[n++] = (eider_meta)EIDER_META_INT("failing_rows", f->failing);
    if (f->sample)
        meta[n++] = (eider_meta)EIDER_META_JSON("sample", f->sample);
    for (size_t i = 0; i < f->n_extra; i++)
        meta[n++] = f->extra[i];
    for (size_t i = 0; i < n_own; i++)
        meta[n++] = own[i];
    eider_check_outcome o = {
        .name = c->name, .status = f->status, .severity = c->severity, .blocking = c->blocking,
        .message = f->status == EIDER_CHECK_PASSED ? NULL : eider__buf_str(&f->message),
        .sql = f->sql.len ? eider__buf_str(&f->sql) : NULL, .metadata = meta, .n_metadata = n,
    };
    eider__step_add_check(ctx->step, &o);
    eider_event ev = { .type = EIDER_EVENT_CHECK, .asset_key = ctx->asset->key,
                       .attempt = ctx->attempt, .message = o.message, .sql = o.sql,
                       .metadata = meta, .n_metadata = n, .check_name = c->name,
                       .check_status = o.status, .check_severity = o.severity,
                       .check_blocking = o.blocking,
                       .partitions = (const char *const *)ctx->step->partitions,
                       .n_partitions = ctx->step->n_partitions };
    eider__emit(ctx->run, &ev);
    if (o.status != EIDER_CHECK_PASSED)      /* (the event is the warning people see) */
        eider_log(ctx, EIDER_LOG_INFO, "check '%s' %s: %s", c->name,
                  o.status == EIDER_CHECK_FAILED ? "failed" : "erred", o.message);
    free(meta);
}

/* Whether c stops the step when it does not pass: blocking, of severity error. */
static int blocks(const eider__check *c)
{
    return c->blocking && c->severity == EIDER_CHECK_ERROR;
}

/* Evaluate c; 1 when it stops the step (blocking, of severity error, and not passed). */
static int run_check(eider_context *ctx, duckdb_connection con, const char *rel,
                     const eider__check *c, eider__buf *why)
{
    finding f = { .status = EIDER_CHECK_PASSED, .failing = -1 };
    eider_meta *own = NULL;
    size_t n_own = 0;
    if (ctx->no_rows_why)
        errored(&f, "there are no rows to read", ctx->no_rows_why);
    else if (c->kind == EIDER__CHECK_C)
        eval_c(ctx, con, c, rel, &f, &own, &n_own);
    else if (!con || !rel)
        errored(&f, "there are no rows to read", "the asset has no DuckDB table where Eider "
                "knows to look (it writes its own tables without a DuckDB resource): check it "
                "with .compute");
    else if (c->kind == EIDER__CHECK_ROW_COUNT)
        eval_row_count(con, c, rel, &f);
    else if (c->kind == EIDER__CHECK_FRESHNESS)
        eval_freshness(con, c, rel, &f);
    else if (c->kind == EIDER__CHECK_SCHEMA)
        eval_schema(con, c, rel, &f);
    else
        eval_failures(ctx, con, c, rel, &f);
    report(ctx, c, &f, own, n_own);
    int stops = blocks(c) && f.status != EIDER_CHECK_PASSED;
    if (stops && !why->len)
        eider__buf_printf(why, "blocking check '%s' %s: %s", c->name,
                          f.status == EIDER_CHECK_FAILED ? "failed" : "erred",
                          eider__buf_str(&f.message));
    for (size_t i = 0; i < n_own; i++) {
        free((char *)own[i].key);
        free((char *)own[i].text);
    }
    free(own);
    finding_release(&f);
    return stops;
}

int eider__checks_run_set(eider_context *ctx, duckdb_connection con, const char *relation,
                          eider__check_set set)
{
    const eider__asset *a = ctx->asset;
    eider__buf why = { 0 };
    int stops = 0;
    if (ctx->run->no_checks || ctx->check)
        return EIDER_OK;
    for (size_t i = 0; i < a->n_checks; i++) {
        const eider__check *c = &ctx->run->defs->checks[a->checks[i]];
        if (set == EIDER__CHECKS_ALL || (set == EIDER__CHECKS_BLOCKING) == blocks(c))
            stops |= run_check(ctx, con, relation, c, &why);
    }
    if (ctx->run->checks_only)       /* nothing is written: nothing to block */
        stops = 0;
    if (stops)
        eider__ctx_fail(ctx, NULL, "asset '%s': %s", a->key, eider__buf_str(&why));
    eider__buf_release(&why);
    return stops ? EIDER_ESTEP : EIDER_OK;
}

int eider__checks_any_blocking(const eider_defs *defs, const eider__asset *a)
{
    for (size_t i = 0; i < a->n_checks; i++)
        if (blocks(&defs->checks[a->checks[i]]))
            return 1;
    return 0;
}

int eider__checks_run(eider_context *ctx, duckdb_connection con, const char *relation)
{
    return eider__checks_run_set(ctx, con, relation, EIDER__CHECKS_ALL);
}

/* ---- what a check in C calls ---- */

duckdb_connection eider_check_connection(eider_context *ctx)
{
    return ctx && ctx->check ? ctx->check_con : NULL;
}

const char *eider_check_relation(eider_context *ctx)
{
    return ctx && ctx->check ? ctx->check_relation : NULL;
}

int eider_check_failed(eider_context *ctx, const char *fmt, ...)
{
    va_list ap;
    if (!ctx || !ctx->check)
        return EIDER_EINVAL;
    ctx->check_failed = 1;
    if (!ctx->check_message.len) {
        va_start(ap, fmt);
        eider__buf_vprintf(&ctx->check_message, fmt, ap);
        va_end(ap);
    }
    return EIDER_OK;
}

/* eider_add_meta() in a check: the check's metadata. */
void eider__check_add_meta(eider_context *ctx, const eider_meta *m)
{
    EIDER__GROW(ctx->check_meta, ctx->cap_check_meta, ctx->n_check_meta + 1);
    eider_meta *c = &ctx->check_meta[ctx->n_check_meta++];
    *c = *m;
    c->key = eider__xstrdup(m->key);
    c->text = m->text ? eider__xstrdup(m->text) : NULL;
}

/* ---- an asset that writes its own tables ---- */

/* The DuckDB resource whose database holds a's table: the first it declares, or the
 * only one there is when it declares none; NULL when there is no such resource. */
static const eider__resource *resource_of(const eider_defs *defs, const eider__asset *a)
{
    const eider__resource *found = NULL;
    for (size_t i = 0; i < a->n_resources && !found; i++) {
        const eider__resource *r = eider__defs_resource(defs, a->resources[i]);
        if (r && r->kind == EIDER__DUCKDB)
            found = r;
    }
    for (size_t i = 0; !a->n_resources && i < defs->n_resources; i++)
        if (defs->resources[i].kind == EIDER__DUCKDB) {
            if (found)
                return NULL;         /* several: which one is not known */
            found = &defs->resources[i];
        }
    return found;
}

int eider__checks_after_compute(eider_context *ctx)
{
    const eider__asset *a = ctx->asset;
    if (!a->n_checks || ctx->run->no_checks)
        return EIDER_OK;
    const eider__resource *r = resource_of(ctx->run->defs, a);
    duckdb_connection con = r ? eider__ctx_connect(ctx, r->name) : NULL;
    eider__table t = { 0 };
    if (r && !con)
        return EIDER_ESTEP;
    if (r)
        eider__table_of(a, NULL, eider__dbs_catalog(&ctx->run->dbs, r->name), &t);
    int rc = eider__checks_run(ctx, con, r ? t.quoted : NULL);
    eider__table_release(&t);
    return rc;
}
