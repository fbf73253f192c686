/*
 * step.c — one step of a run: the context its compute function gets (connections,
 * SQL, logging, metadata, failure), its retries, and its events.
 */
#define _GNU_SOURCE
#include <math.h>
#include <time.h>

#include "exec.h"
#include "../duckdb/database.h"
#include "../duckdb/io.h"
#include "../duckdb/redact.h"
#include "../duckdb/value.h"

/* The step running on this thread, for crash reports: its key, and its asset's index. */
static _Thread_local const char *current_key;
static _Thread_local long current_index = -1;

const char *eider_current_asset(void)
{
    return current_key;
}

long eider__current_asset_index(void)
{
    return current_index;
}

/* Why the step may not go on: the run was canceled, or its attempt timed out; NULL
 * when it may. */
static const char *stopped(eider_context *ctx)
{
    if (eider__run_canceled(ctx->run))
        return "the run was canceled";
    return atomic_load(&ctx->step->timed_out) ? "the step timed out" : NULL;
}

const char *eider_asset_key(const eider_context *ctx)
{
    return ctx->asset->key;
}

void *eider_user_data(const eider_context *ctx)
{
    return ctx->check ? ctx->check->user_data : ctx->asset->user_data;
}

int eider_attempt(const eider_context *ctx)
{
    return ctx->attempt;
}

const char *eider_run_id(const eider_context *ctx)
{
    return ctx->run->result->run_id;
}

/* Add the DuckDB secrets in sql (CREATE SECRET's values, SET or PRAGMA of a secret
 * setting, an ATTACH string with credentials) to those of the step, which every later
 * message of the step masks: a script's failing statement may quote a value set by an
 * earlier one, or by an earlier eider_sql() of the step. */
static void find_secrets(eider_context *ctx, const char *sql, eider__buf *redacted)
{
    eider__buf scratch = { 0 };
    eider__sql_redact(sql, redacted ? redacted : &scratch, &ctx->secrets);
    eider__buf_release(&scratch);
}

/* Append msg to out with the secrets the step's SQL held so far and the values of the
 * resources' secret settings masked. */
static void mask_secrets(eider_context *ctx, const char *msg, eider__buf *out)
{
    eider__secrets secrets = { 0 };
    for (size_t i = 0; i < ctx->secrets.n; i++)
        eider__secrets_add(&secrets, ctx->secrets.v[i], strlen(ctx->secrets.v[i]));
    eider__defs_secrets(ctx->run->defs, &secrets);
    eider__secrets_mask(&secrets, msg, out);
    eider__secrets_release(&secrets);
}

/* Set the step's failure; the first one wins, as it is usually the cause. Both the
 * SQL and the message are printed and stored: DuckDB secrets in the SQL are masked in
 * both, and so are those the step's SQL held before and the values of the resources'
 * secret settings. */
static void vset_failure(eider_context *ctx, const char *sql, const char *fmt, va_list ap)
{
    eider__buf msg = { 0 };
    if (ctx->failed)
        return;
    ctx->failed = 1;
    eider__buf_vprintf(&msg, fmt, ap);
    if (sql)
        find_secrets(ctx, sql, &ctx->failed_sql);
    mask_secrets(ctx, eider__buf_str(&msg), &ctx->failure);
    eider__buf_release(&msg);
}

static void set_failure(eider_context *ctx, const char *sql, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_failure(eider_context *ctx, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_failure(ctx, sql, fmt, ap);
    va_end(ap);
}

int eider__ctx_fail(eider_context *ctx, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_failure(ctx, sql, fmt, ap);
    va_end(ap);
    return EIDER_ESTEP;
}

int eider_fail(eider_context *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_failure(ctx, NULL, fmt, ap);
    va_end(ap);
    return EIDER_ESTEP;
}

duckdb_connection eider_duckdb_connection(eider_context *ctx, const char *name)
{
    return eider__ctx_connect(ctx, name);
}

duckdb_connection eider__ctx_connect(eider_context *ctx, const char *name)
{
    duckdb_connection con = NULL;
    eider__buf err = { 0 };
    const char *why = stopped(ctx);
    if (why) {
        set_failure(ctx, NULL, "%s", why);
        return NULL;
    }
    if (eider__dbs_connect(&ctx->run->dbs, name ? name : "(null)", &con, &err)) {
        set_failure(ctx, NULL, "%s", eider__buf_str(&err));
        eider__buf_release(&err);
        return NULL;
    }
    EIDER__GROW(ctx->cons, ctx->cap_cons, ctx->n_cons + 1);
    ctx->cons[ctx->n_cons++] = con;
    eider__live_add(ctx->run, ctx->step, con);
    return con;
}

static int check_args(eider_context *ctx, duckdb_connection con, const char *sql)
{
    if (!sql) {
        set_failure(ctx, NULL, "eider_sql() was given no SQL (a NULL string)");
        return EIDER_EINVAL;
    }
    find_secrets(ctx, sql, NULL);
    if (!con) {
        set_failure(ctx, sql, "no DuckDB connection: eider_duckdb_connection() failed or was "
                              "not called");
        return EIDER_ESQL;
    }
    const char *why = stopped(ctx);
    if (why) {
        set_failure(ctx, sql, "%s", why);
        return EIDER_ESQL;
    }
    return EIDER_OK;
}

static int query_failed(eider_context *ctx, duckdb_result *res, const char *sql)
{
    const char *msg = duckdb_result_error(res);
    set_failure(ctx, sql, "%s", msg ? msg : "unknown DuckDB error");
    return EIDER_ESQL;
}


/* Read the first value of res into *out, or set the step's failure. */
static int first_int64(eider_context *ctx, duckdb_result *res, const char *sql, int64_t *out)
{
    int rc = eider__result_int64(res, out);
    if (rc == EIDER_ENOTFOUND)
        set_failure(ctx, sql, "the query returned no row or a NULL, where an integer was expected");
    else if (rc)
        set_failure(ctx, sql, "the query's first column is not an integer that fits in 64 bits");
    return rc ? EIDER_ESQL : EIDER_OK;
}

/* The end of the quoted text, comment or dollar-quoted string that starts at p (past
 * its closing mark), or p itself when none starts there. */
static const char *skip_quoted(const char *p)
{
    const char *end = NULL;
    if (*p == '\'' || *p == '"') {
        for (end = p + 1; *end && !(*end == *p && end[1] != *p); end += *end == *p ? 2 : 1)
            ;
    } else if (p[0] == '-' && p[1] == '-') {
        end = p + strcspn(p, "\n");
    } else if (p[0] == '/' && p[1] == '*') {
        end = strstr(p + 2, "*/");
        end = end ? end + 1 : p + strlen(p) - 1;
    } else if (p[0] == '$' && p[1] == '$') {
        end = strstr(p + 2, "$$");
        end = end ? end + 1 : p + strlen(p) - 1;
    }
    return end && *end ? end + 1 : end ? end : p;
}

/* The text of statement i of the n that sql holds, into out, to show which failed:
 * sql split at the semicolons outside quotes and comments. DuckDB does not give a
 * statement's text, so this is for display only, and only when the split finds the n
 * statements DuckDB found (else out stays empty). */
static void statement_text(const char *sql, idx_t i, idx_t n, eider__buf *out)
{
    const char *start = sql, *p = sql;
    idx_t found = 0;
    int code = 0;                    /* the piece holds more than blanks and comments */
    eider__buf piece = { 0 };
    for (;;) {
        const char *next = skip_quoted(p);
        if (next != p) {
            code |= *p == '\'' || *p == '"' || *p == '$';
            p = next;
            continue;
        }
        if (*p && *p != ';') {
            code |= !strchr(" \t\r\n", *p++);
            continue;
        }
        const char *a = start + strspn(start, " \t\r\n"), *b = p;
        while (b > a && strchr(" \t\r\n", b[-1]))
            b--;
        if (code && found++ == i)
            eider__buf_add(&piece, a, (size_t)(b - a));
        code = 0;
        if (!*p)
            break;
        start = ++p;
    }
    if (found == n)
        eider__buf_puts(out, eider__buf_str(&piece));
    eider__buf_release(&piece);
}

/* Statement i of the n of sql failed with msg: say which, and show its text. */
static int statement_failed(eider_context *ctx, const char *sql, idx_t i, idx_t n, const char *msg)
{
    eider__buf text = { 0 };
    statement_text(sql, i, n, &text);
    set_failure(ctx, text.len ? eider__buf_str(&text) : sql, "statement %llu of %llu: %s",
                (unsigned long long)i + 1, (unsigned long long)n, msg);
    eider__buf_release(&text);
    return EIDER_ESQL;
}

/* Prepare and run statement i of stmts into *res (which the caller destroys, also on
 * error). A CREATE that loses a race on the catalog to another step (two assets
 * running CREATE SCHEMA IF NOT EXISTS at once) is run again alone: it failed in its
 * own transaction, and the retry sees the winner's commit, so it does what it would
 * have done had the two run one after the other. Nothing else is retried. */
static int run_statement(eider_context *ctx, duckdb_connection con,
                         duckdb_extracted_statements stmts, idx_t i, idx_t n, const char *sql,
                         duckdb_result *res)
{
    duckdb_prepared_statement stmt = NULL;
    int rc = EIDER_OK;
    memset(res, 0, sizeof(*res));
    if (duckdb_prepare_extracted_statement(con, stmts, i, &stmt) == DuckDBError) {
        const char *msg = stmt ? duckdb_prepare_error(stmt) : NULL;
        statement_failed(ctx, sql, i, n, msg ? msg : "the statement could not be prepared");
        duckdb_destroy_prepare(&stmt);
        return EIDER_ESQL;
    }
    int create = duckdb_prepared_statement_type(stmt) == DUCKDB_STATEMENT_TYPE_CREATE;
    for (int attempt = 1; duckdb_execute_prepared(stmt, res) == DuckDBError; attempt++) {
        if (!create || !eider__lost_catalog_race(res) || !eider__catalog_race_backoff(attempt)) {
            const char *msg = duckdb_result_error(res);
            rc = statement_failed(ctx, sql, i, n, msg ? msg : "unknown DuckDB error");
            break;
        }
        duckdb_destroy_result(res);
    }
    duckdb_destroy_prepare(&stmt);
    return rc;
}

/* Whether sql is plainly one statement: no ';' but at its end. (A ';' in a string or a
 * comment sends it the way of several, which is as right, only slower.) */
static int plainly_one(const char *sql)
{
    const char *semi = strchr(sql, ';');
    return !semi || semi[strspn(semi, "; \t\r\n")] == '\0';
}

/* Whether the one statement of sql is a CREATE (it is parsed and prepared to tell). */
static int is_create(duckdb_connection con, const char *sql)
{
    duckdb_extracted_statements stmts = NULL;
    duckdb_prepared_statement stmt = NULL;
    int yes = duckdb_extract_statements(con, sql, &stmts) == 1 &&
              duckdb_prepare_extracted_statement(con, stmts, 0, &stmt) == DuckDBSuccess &&
              duckdb_prepared_statement_type(stmt) == DUCKDB_STATEMENT_TYPE_CREATE;
    duckdb_destroy_prepare(&stmt);
    duckdb_destroy_extracted(&stmts);
    return yes;
}

/* sql is one statement: it runs as duckdb_query() runs it, parsed, planned and executed
 * in one go. (A prepared statement is planned in one transaction and run in another,
 * and DuckDB plans it again whenever another step changed the catalog in between: a
 * sixth more CPU for a run of DDL at --jobs 2.) It is retried as run_statement says. */
static int run_single(eider_context *ctx, duckdb_connection con, const char *sql,
                      duckdb_result *res)
{
    int create = -1;                 /* unknown until a race asks */
    for (int attempt = 1; duckdb_query(con, sql, res) == DuckDBError; attempt++) {
        int race = eider__lost_catalog_race(res);
        if (race && create < 0)
            create = is_create(con, sql);
        if (!race || !create || !eider__catalog_race_backoff(attempt))
            return query_failed(ctx, res, sql);
        duckdb_destroy_result(res);
    }
    return EIDER_OK;
}

/* Run every statement of sql, one by one; the last one's result stays in *last (or
 * is destroyed when last is NULL). */
static int run_statements(eider_context *ctx, duckdb_connection con, const char *sql,
                          duckdb_result *last)
{
    duckdb_extracted_statements stmts = NULL;
    duckdb_result res;
    int rc = EIDER_OK;
    if (plainly_one(sql)) {
        rc = run_single(ctx, con, sql, &res);
        if (!rc && last)
            *last = res;
        else
            duckdb_destroy_result(&res);
        return rc;
    }
    idx_t n = duckdb_extract_statements(con, sql, &stmts);
    if (n == 0) {
        const char *msg = duckdb_extract_statements_error(stmts);
        set_failure(ctx, sql, "%s", msg ? msg : "the SQL holds no statement");
        rc = EIDER_ESQL;
    }
    for (idx_t i = 0; !rc && i < n; i++) {
        const char *why = stopped(ctx);
        if (why) {
            set_failure(ctx, sql, "%s", why);
            rc = EIDER_ESQL;
            break;
        }
        rc = run_statement(ctx, con, stmts, i, n, sql, &res);
        if (!rc && i + 1 == n && last)
            *last = res;
        else
            duckdb_destroy_result(&res);
    }
    duckdb_destroy_extracted(&stmts);
    return rc;
}

int eider_sql(eider_context *ctx, duckdb_connection con, const char *sql)
{
    int rc = check_args(ctx, con, sql);
    return rc ? rc : run_statements(ctx, con, sql, NULL);
}

int eider_sql_int64(eider_context *ctx, duckdb_connection con, const char *sql, int64_t *out)
{
    duckdb_result res;
    int rc = check_args(ctx, con, sql);
    if (rc)
        return rc;
    if ((rc = run_statements(ctx, con, sql, &res)))
        return rc;
    rc = first_int64(ctx, &res, sql, out);
    duckdb_destroy_result(&res);
    return rc;
}

void eider__log_line(eider__buf *log, int64_t time_us, eider_log_level level, const char *text)
{
    time_t secs = (time_t)(time_us / 1000000);
    struct tm tm;
    char stamp[32];
    gmtime_r(&secs, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    eider__buf_printf(log, "%s.%03dZ %s %s\n", stamp, (int)(time_us / 1000 % 1000),
                      eider_log_level_name(level), text);
}

void eider_log(eider_context *ctx, eider_log_level level, const char *fmt, ...)
{
    eider__buf text = { 0 }, line = { 0 };
    va_list ap;
    va_start(ap, fmt);
    eider__buf_vprintf(&text, fmt, ap);
    va_end(ap);
    mask_secrets(ctx, eider__buf_str(&text), &line);   /* a DuckDB message logged as is */
    eider__buf_release(&text);
    int64_t now = eider__now_us();
    eider__log_line(&ctx->step->log, now, level, eider__buf_str(&line));
    eider_event ev = { .type = EIDER_EVENT_LOG, .asset_key = ctx->asset->key, .time_us = now,
                       .level = level, .message = eider__buf_str(&line), .attempt = ctx->attempt };
    eider__emit(ctx->run, &ev);
    eider__buf_release(&line);
}

int eider_add_meta(eider_context *ctx, const eider_meta *m)
{
    if (!m || !m->key)
        return EIDER_EINVAL;
    if (ctx->check)
        eider__check_add_meta(ctx, m);
    else
        eider__step_add_meta(ctx->step, m);
    return EIDER_OK;
}

int eider_observe(eider_context *ctx, const char *key, const eider_meta *metadata, size_t n)
{
    if (!key || eider_defs_find(ctx->run->defs, key) < 0)
        return eider__ctx_fail(ctx, NULL, "eider_observe(): there is no asset '%s' to observe",
                               key ? key : "(null)");
    eider_event ev = { .type = EIDER_EVENT_OBSERVATION, .asset_key = key, .metadata = metadata,
                       .n_metadata = metadata ? n : 0, .attempt = ctx->attempt };
    eider__emit(ctx->run, &ev);
    return EIDER_OK;
}

int eider_add_meta_text(eider_context *ctx, const char *key, const char *value)
{
    return eider_add_meta(ctx, &(eider_meta)EIDER_META_TEXT(key, value ? value : ""));
}

int eider_add_meta_int(eider_context *ctx, const char *key, int64_t value)
{
    return eider_add_meta(ctx, &(eider_meta)EIDER_META_INT(key, value));
}

int eider_add_meta_float(eider_context *ctx, const char *key, double value)
{
    return eider_add_meta(ctx, &(eider_meta)EIDER_META_FLOAT(key, value));
}

void eider__ctx_release(eider_context *ctx)
{
    eider__ctx_io_release(ctx);
    for (size_t i = 0; i < ctx->n_cons; i++) {
        eider__live_remove(ctx->run, ctx->cons[i]);
        duckdb_disconnect(&ctx->cons[i]);
    }
    free(ctx->cons);
    eider__buf_release(&ctx->failure);
    eider__buf_release(&ctx->failed_sql);
    eider__secrets_release(&ctx->secrets);
}

/* An attempt that outran its asset's timeout_s fails for that, whatever else it did:
 * "timed out after N s", and what it failed with when the interrupt stopped a query. */
static void timed_out(eider_context *ctx)
{
    eider__buf why = { 0 };
    eider__buf_printf(&why, "timed out after %g s", ctx->asset->timeout_s);
    if (ctx->failed)
        eider__buf_printf(&why, " (%s)", eider__buf_str(&ctx->failure));
    eider__buf_release(&ctx->failure);
    ctx->failure = why;
    ctx->failed = 1;
}

/* Call the compute function once and store its output: the attempt, within the
 * asset's timeout if it has one (the I/O manager's write is part of it: an
 * eider_output_sql() returns at once and its query runs here). */
static int compute_and_store(eider_context *ctx)
{
    double timeout = ctx->asset->timeout_s;
    if (timeout > 0)
        eider__deadline_start(ctx->run, ctx->step, timeout);
    if (ctx->run->checks_only)
        return eider__checks_stored(ctx);
    int rc = ctx->asset->compute(ctx);
    if (rc == EIDER_OK && !ctx->failed)
        rc = eider__ctx_store(ctx);
    if (rc == EIDER_OK && !ctx->failed && ctx->out_kind == EIDER__NO_OUTPUT)
        rc = eider__checks_after_compute(ctx);
    if (timeout > 0)
        eider__deadline_stop(ctx->run, ctx->step);
    if (timeout > 0 && atomic_load(&ctx->step->timed_out))
        timed_out(ctx);
    return rc;
}

/* Call the compute function once. Returns 1 on success; on failure leaves the
 * message and SQL in the step. */
static int attempt_once(eider__run *run, eider__step *step, int attempt)
{
    const eider__asset *a = &run->defs->assets[step->asset];
    eider_context ctx = { .run = run, .step = step, .asset = a, .attempt = attempt };
    int rc = compute_and_store(&ctx);
    int ok = rc == EIDER_OK && !ctx.failed;
    free(step->error);
    free(step->sql);
    step->error = step->sql = NULL;
    if (!ok && ctx.failed) {
        step->error = eider__buf_detach(&ctx.failure);
        step->sql = ctx.failed_sql.len ? eider__buf_detach(&ctx.failed_sql) : NULL;
    } else if (!ok) {
        eider__buf why = { 0 };
        eider__buf_printf(&why, "the compute function returned %d (%s)", rc, eider_strerror(rc));
        step->error = eider__buf_detach(&why);
    }
    eider__ctx_release(&ctx);
    return ok;
}

static double retry_delay_ms(const eider_retry_policy *p, int retry)
{
    double ms = p->delay_ms;
    if (p->backoff > 1)
        ms *= pow(p->backoff, retry - 1);
    if (p->jitter > 0)
        ms *= 1 + p->jitter * eider__random();
    return ms > 3600e3 ? 3600e3 : ms;    /* an hour at most */
}

static void emit_step(eider__run *run, eider__step *s, eider_event_type type, double duration)
{
    const eider__asset *a = &run->defs->assets[s->asset];
    eider_event ev = { .type = type, .asset_key = a->key,
                       .attempt = s->attempts, .duration_s = duration,
                       .message = s->error, .sql = s->sql, .code_version = a->code_version,
                       .partitions = (const char *const *)s->partitions,
                       .n_partitions = s->n_partitions };
    if (type == EIDER_EVENT_STEP_START) {
        ev.message = NULL;      /* an earlier attempt's failure is not this one's */
        ev.sql = NULL;
    }
    if (type == EIDER_EVENT_MATERIALIZATION) {
        ev.metadata = s->meta;
        ev.n_metadata = s->n_meta;
        ev.message = NULL;
    }
    eider__emit(run, &ev);
}

/* Sleep before a retry, in slices, so that a cancel does not wait out the delay. */
static void retry_pause(eider__run *run, double ms)
{
    double end = eider__mono_s() + ms / 1000;
    while (!eider__run_canceled(run) && eider__mono_s() < end)
        eider__sleep_ms(ms < 50 ? ms : 50);
}

int eider__step_execute(eider__run *run, eider__step *step)
{
    const eider__asset *a = &run->defs->assets[step->asset];
    double t0 = eider__mono_s();
    int ok = 0;
    current_key = a->key;
    current_index = (long)step->asset;
    for (int attempt = 1; !ok; attempt++) {
        step->attempts = attempt;
        eider__step_drop_metadata(step);   /* a failed attempt's is not the result's */
        eider__step_drop_checks(step);
        emit_step(run, step, EIDER_EVENT_STEP_START, 0);
        ok = attempt_once(run, step, attempt);
        if (ok || attempt > a->retry.max_retries || eider__run_canceled(run))
            break;
        emit_step(run, step, EIDER_EVENT_STEP_RETRY, eider__mono_s() - t0);
        retry_pause(run, retry_delay_ms(&a->retry, attempt));
        if (eider__run_canceled(run))
            break;          /* the last attempt's failure stands; the step ends canceled */
    }
    step->duration_s = eider__mono_s() - t0;
    step->status = ok ? EIDER_STEP_SUCCESS
                 : eider__run_canceled(run) ? EIDER_STEP_CANCELED : EIDER_STEP_FAILED;
    if (step->status == EIDER_STEP_CANCELED) {
        eider__buf why = { 0 };
        eider__buf_printf(&why, "canceled while running (%s)", step->error ? step->error : "");
        free(step->error);
        step->error = eider__buf_detach(&why);
    }
    if (ok && !run->checks_only)     /* checking what is stored makes nothing new */
        emit_step(run, step, EIDER_EVENT_MATERIALIZATION, step->duration_s);
    emit_step(run, step, ok ? EIDER_EVENT_STEP_SUCCESS
                       : step->status == EIDER_STEP_CANCELED ? EIDER_EVENT_STEP_CANCELED
                       : EIDER_EVENT_STEP_FAILURE, step->duration_s);
    current_key = NULL;
    current_index = -1;
    return ok;
}
