/*
 * postgres.c — the instance store's PostgreSQL backend, through libpq, for a store that
 * several machines share. The shared SQL's '?' parameters are numbered $1, $2, ... (the
 * translation is cached per SQL text); values travel as text and the server infers their
 * types from context. A connection lost between transactions is re-established once and
 * the statement run again; one lost inside a transaction fails it until rollback().
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <libpq-fe.h>

#include "store.h"

#define CACHED 16                    /* translated statements kept per connection */
#define CONNECT_TIMEOUT "10"         /* seconds, unless the URL sets connect_timeout */

typedef struct pg_conn {
    PGconn *db;
    struct { char *sql, *text; size_t n_params; } cache[CACHED];
    size_t next;                     /* the slot to replace next */
    int lost_tx;                     /* the connection dropped inside a transaction */
} pg_conn;

static const char *const migrations[] = {
    /* 1: runs, events, materializations and each asset's state (as sqlite.c's) */
    "CREATE TABLE runs (run_id TEXT PRIMARY KEY, status TEXT NOT NULL, selection TEXT,"
    " partition TEXT, launched_by TEXT, tags TEXT, host TEXT, pid BIGINT, pid_start TEXT,"
    " start_us BIGINT NOT NULL, end_us BIGINT, n_succeeded INTEGER NOT NULL DEFAULT 0,"
    " n_failed INTEGER NOT NULL DEFAULT 0, n_skipped INTEGER NOT NULL DEFAULT 0,"
    " n_canceled INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX runs_by_start ON runs (start_us DESC);"
    "CREATE INDEX runs_by_status ON runs (status, start_us DESC);"
    "CREATE TABLE events (id BIGSERIAL PRIMARY KEY, run_id TEXT NOT NULL,"
    " type TEXT NOT NULL, time_us BIGINT NOT NULL, asset_key TEXT, attempt INTEGER,"
    " duration_s DOUBLE PRECISION, level TEXT, message TEXT, sql TEXT, metadata TEXT);"
    "CREATE INDEX events_by_run ON events (run_id, id);"
    "CREATE TABLE materializations (id BIGSERIAL PRIMARY KEY,"
    " asset_key TEXT NOT NULL, partition TEXT NOT NULL, run_id TEXT NOT NULL,"
    " time_us BIGINT NOT NULL, code_version TEXT, metadata TEXT);"
    "CREATE INDEX materializations_by_asset ON materializations (asset_key, partition, id);"
    "CREATE INDEX materializations_by_run ON materializations (run_id, asset_key);"
    "CREATE TABLE asset_state (asset_key TEXT NOT NULL, partition TEXT NOT NULL,"
    " materialization_id BIGINT, last_run_id TEXT, last_failed INTEGER NOT NULL DEFAULT 0,"
    " last_us BIGINT, PRIMARY KEY (asset_key, partition));",
    /* 2: a run's events as JSON arrays, a row per batch, and a counter of ids (as
     * sqlite.c's) */
    "CREATE TABLE event_blocks (run_id TEXT NOT NULL, first BIGINT NOT NULL, n INTEGER NOT NULL,"
    " mat_base BIGINT NOT NULL DEFAULT 0, events TEXT NOT NULL, PRIMARY KEY (run_id, first));"
    "INSERT INTO event_blocks (run_id, first, n, mat_base, events)"
    " SELECT e.run_id, row_number() OVER (PARTITION BY e.run_id ORDER BY e.id), 1,"
    " COALESCE((SELECT m.id - 1 FROM materializations m WHERE e.type = 'materialization'"
    " AND m.run_id = e.run_id AND m.asset_key = e.asset_key ORDER BY m.id LIMIT 1), 0),"
    " json_build_array(json_strip_nulls(json_build_object('type', e.type, 'time_us', e.time_us,"
    " 'asset_key', e.asset_key, 'attempt', e.attempt, 'duration_us', round(e.duration_s * 1e6)::bigint,"
    " 'level', e.level, 'message', e.message, 'sql', e.sql, 'metadata', e.metadata::json,"
    " 'materialization', CASE WHEN e.type = 'materialization' AND EXISTS (SELECT 1 FROM"
    " materializations m WHERE m.run_id = e.run_id AND m.asset_key = e.asset_key) THEN 1 END)))::text"
    " FROM events e;"
    "DROP TABLE events;"
    "DROP INDEX materializations_by_run;"
    "CREATE TABLE id_counters (name TEXT PRIMARY KEY, last BIGINT NOT NULL);"
    "INSERT INTO id_counters SELECT 'materializations', GREATEST(COALESCE(max(id), 0),"
    " (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM materializations_id_seq))"
    " FROM materializations;",
    /* 3: the keys of dynamic partitions, in the order they were added */
    "CREATE TABLE dynamic_partitions (name TEXT NOT NULL, key TEXT NOT NULL,"
    " position BIGINT NOT NULL, added_us BIGINT NOT NULL, PRIMARY KEY (name, key));",
    /* 4: a run's lease and a note on its row (as sqlite.c's) */
    "ALTER TABLE runs ADD COLUMN lease_until_us BIGINT, ADD COLUMN note TEXT;"
    "UPDATE runs SET lease_until_us = (extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
    " + 600000000 WHERE status = 'started';",
    /* 5: the step's duration of a materialization (as sqlite.c's) */
    "ALTER TABLE materializations ADD COLUMN duration_us BIGINT;",
    /* 6: asset checks' outcomes (as sqlite.c's) */
    "CREATE TABLE check_results (id BIGSERIAL PRIMARY KEY,"
    " asset_key TEXT NOT NULL, check_name TEXT NOT NULL, partition TEXT NOT NULL,"
    " run_id TEXT NOT NULL, time_us BIGINT NOT NULL, status TEXT NOT NULL,"
    " severity TEXT NOT NULL, blocking INTEGER NOT NULL, message TEXT, sql TEXT, metadata TEXT);"
    "CREATE INDEX check_results_by_asset ON check_results (asset_key, check_name, id);"
    "CREATE INDEX check_results_by_run ON check_results (run_id);",
    NULL,
};

/* ---- messages ---- */

/* Append msg on one line: each run of whitespace becomes one space, none at the ends. */
static void put_line(eider__buf *b, const char *msg)
{
    int space = 0, started = 0;
    for (; *msg; msg++) {
        if (isspace((unsigned char)*msg)) {
            space = started;
            continue;
        }
        if (space)
            eider__buf_putc(b, ' ');
        eider__buf_putc(b, *msg);
        space = 0;
        started = 1;
    }
}

/* The server's message for a failed result (with its detail), else libpq's. */
static void put_error(eider__buf *err, PGconn *db, const PGresult *res)
{
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    if (!primary) {
        const char *msg = res ? PQresultErrorMessage(res) : "";
        put_line(err, *msg ? msg : PQerrorMessage(db));
        return;
    }
    put_line(err, primary);
    if (detail) {
        eider__buf_puts(err, " (");
        put_line(err, detail);
        eider__buf_putc(err, ')');
    }
}

/* ---- connection strings, as libpq reads them ---- */

static int is_url(const char *s)
{
    return !strncmp(s, "postgresql://", 13) || !strncmp(s, "postgres://", 11);
}

/* libpq's reason for refusing a connection string, with what it quotes (a value, which
 * may be a password) masked; only an unknown option's name is shown. */
static void put_parse_error(eider__buf *err, const char *msg)
{
    int show = !strncmp(msg, "invalid connection option", 25) ||
               !strncmp(msg, "invalid URI query parameter", 27);
    for (int quoted = 0; *msg && *msg != '\n'; msg++) {
        if (!quoted && !strncmp(msg, "\"=\"", 3)) {   /* missing "=" after ... */
            eider__buf_puts(err, "\"=\"");
            msg += 2;
            continue;
        }
        if (*msg == '"' && (quoted = !quoted) && !show) {
            eider__buf_puts(err, "\"***");
            continue;
        }
        if (!quoted || show || *msg == '"')
            eider__buf_putc(err, *msg);
    }
}

/* The options of conninfo (a URL or a key=value string) as libpq parses them, or NULL
 * with the reason in why (if not NULL). Free with PQconninfoFree(). */
static PQconninfoOption *parse(const char *conninfo, eider__buf *why)
{
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);
    if (!opts && why && msg)
        put_parse_error(why, msg);
    else if (!opts && why)
        eider__buf_puts(why, "out of memory");
    PQfreemem(msg);
    return opts;
}

int eider__postgres_accepts(const char *s, eider__buf *why)
{
    PQconninfoOption *opts = NULL;
    int n = 0;
    if (!is_url(s) && !strchr(s, '='))
        return 0;
    opts = parse(s, why);            /* a URL libpq refuses is refused here, not at connect */
    if (opts && is_url(s))
        n = 1;
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        n += o->val != NULL;
    PQconninfoFree(opts);
    return n > 0;
}

/* A value libpq hides (a password) — its own mark for options not to show. */
static int is_secret(const PQconninfoOption *o)
{
    return o->dispchar && o->dispchar[0] == '*';
}

static const PQconninfoOption *option(const PQconninfoOption *opts, const char *key)
{
    for (; opts->keyword; opts++)
        if (!strcmp(opts->keyword, key))
            return opts->val && *opts->val ? opts : NULL;
    return NULL;
}

/* o's value as it may be shown, malloc'd: a dbname may itself be a connection string
 * (libpq expands the first one), so it is redacted in turn. */
static char *shown_value(const PQconninfoOption *o)
{
    if (!strcmp(o->keyword, "dbname") && (is_url(o->val) || strchr(o->val, '=')))
        return eider__postgres_redact(o->val);
    return eider__xstrdup(o->val);
}

/* Percent-encode what a URL part may not hold as it is. */
static void put_pct(eider__buf *b, const char *s, const char *keep)
{
    for (; *s; s++) {
        if (isalnum((unsigned char)*s) || strchr("-._~", *s) || strchr(keep, *s))
            eider__buf_putc(b, *s);
        else
            eider__buf_printf(b, "%%%02X", (unsigned char)*s);
    }
}

/* "user@host:port/dbname": host and port there when there is one host by name or
 * address (an IPv6 one in brackets); *in_query set when they must go in the query. */
static void put_authority(eider__buf *b, const PQconninfoOption *opts, int *in_query)
{
    const PQconninfoOption *user = option(opts, "user"), *host = option(opts, "host");
    const PQconninfoOption *port = option(opts, "port"), *db = option(opts, "dbname");
    *in_query = host && strpbrk(host->val, "/,");
    if (user) {
        put_pct(b, user->val, "");
        eider__buf_putc(b, '@');
    }
    if (host && !*in_query)
        eider__buf_printf(b, strchr(host->val, ':') ? "[%s]" : "%s", host->val);
    if (port && !*in_query && !strchr(port->val, ','))
        eider__buf_printf(b, ":%s", port->val);
    *in_query = *in_query || (port && strchr(port->val, ','));
    eider__buf_putc(b, '/');
    if (db) {
        char *v = shown_value(db);
        put_pct(b, v, "");
        free(v);
    }
}

/* conninfo's options as a URL without its secrets, in the scheme it was given in. */
static void put_url(eider__buf *b, const char *conninfo, const PQconninfoOption *opts)
{
    int in_query = 0;
    char sep = '?';
    eider__buf_add(b, conninfo, strstr(conninfo, "://") + 3 - conninfo);
    put_authority(b, opts, &in_query);
    for (const PQconninfoOption *o = opts; o->keyword; o++) {
        int in_authority = !strcmp(o->keyword, "user") || !strcmp(o->keyword, "dbname") ||
            (!in_query && (!strcmp(o->keyword, "host") || !strcmp(o->keyword, "port")));
        if (!o->val || is_secret(o) || in_authority)
            continue;
        eider__buf_printf(b, "%c%s=", sep, o->keyword);
        put_pct(b, o->val, "/:,");
        sep = '&';
    }
}

/* A key=value string's value, quoted when it must be. */
static void put_value(eider__buf *b, const char *v)
{
    if (*v && !strpbrk(v, " \t\n'\\")) {
        eider__buf_puts(b, v);
        return;
    }
    eider__buf_putc(b, '\'');
    for (; *v; v++) {
        if (*v == '\'' || *v == '\\')
            eider__buf_putc(b, '\\');
        eider__buf_putc(b, *v);
    }
    eider__buf_putc(b, '\'');
}

/* conninfo's options as key=value pairs without its secrets: host, port, dbname and
 * user first, then the others in libpq's order. */
static void put_pairs(eider__buf *b, const PQconninfoOption *opts)
{
    static const char *const first[] = { "host", "port", "dbname", "user" };
    for (size_t i = 0; i < EIDER__ARRAY_LEN(first); i++) {
        const PQconninfoOption *o = option(opts, first[i]);
        if (o) {
            char *v = shown_value(o);
            eider__buf_printf(b, "%s%s=", b->len ? " " : "", o->keyword);
            put_value(b, v);
            free(v);
        }
    }
    for (const PQconninfoOption *o = opts; o->keyword; o++) {
        int shown = 0;
        for (size_t i = 0; i < EIDER__ARRAY_LEN(first); i++)
            shown |= !strcmp(o->keyword, first[i]);
        if (!o->val || is_secret(o) || shown)
            continue;
        eider__buf_printf(b, "%s%s=", b->len ? " " : "", o->keyword);
        put_value(b, o->val);
    }
}

/* A URL libpq cannot parse (or another scheme's), shown as far as it is safe: the
 * scheme, the user, the host and the path; the password and the query are left out. */
static void put_unparsed_url(eider__buf *b, const char *url)
{
    const char *rest = strstr(url, "://") + 3;
    size_t authority = strcspn(rest, "/?");
    const char *at = memrchr(rest, '@', authority);
    eider__buf_add(b, url, (size_t)(rest - url));
    if (at) {
        eider__buf_add(b, rest, strcspn(rest, ":@"));
        eider__buf_putc(b, '@');
        rest = at + 1;
    }
    eider__buf_add(b, rest, strcspn(rest, "?"));
    if (strchr(rest, '?'))
        eider__buf_puts(b, "?***");
}

/* Key=value text libpq cannot parse, with each value masked (quoted ones whole). */
static void put_unparsed_pairs(eider__buf *b, const char *s)
{
    while (*s) {
        eider__buf_putc(b, *s);
        if (*s++ != '=')
            continue;
        eider__buf_puts(b, "***");
        s += strspn(s, " \t\n");
        if (*s == '\'') {
            for (s++; *s && *s != '\''; s++)
                s += *s == '\\' && s[1];
            s += *s == '\'';
        } else {
            s += strcspn(s, " \t\n");
        }
    }
}

char *eider__postgres_redact(const char *conninfo)
{
    eider__buf b = { 0 };
    PQconninfoOption *opts = strchr(conninfo, '=') || is_url(conninfo) ? parse(conninfo, NULL) : NULL;
    const char *at = strrchr(conninfo, '@');
    if (opts && is_url(conninfo))
        put_url(&b, conninfo, opts);
    else if (opts)
        put_pairs(&b, opts);
    else if (strstr(conninfo, "://"))
        put_unparsed_url(&b, conninfo);
    else if (strchr(conninfo, '='))
        put_unparsed_pairs(&b, conninfo);
    else if (at)                     /* user:password@host of an unknown form */
        eider__buf_printf(&b, "***@%s", at + 1);
    else
        eider__buf_puts(&b, conninfo);
    PQconninfoFree(opts);
    return eider__buf_detach(&b);
}

/* Append libpq's message msg on one line, with each secret value of opts in it
 * masked (as "invalid percent-encoded token" would quote one). */
static void put_masked(eider__buf *err, const char *msg, const PQconninfoOption *opts)
{
    eider__buf line = { 0 };
    put_line(&line, msg);
    for (const PQconninfoOption *o = opts; o && o->keyword; o++) {
        const char *p = NULL;
        size_t n = o->val && is_secret(o) ? strlen(o->val) : 0;
        while (n && (p = strstr(eider__buf_str(&line), o->val)) != NULL) {
            eider__buf masked = { 0 };
            eider__buf_add(&masked, line.data, (size_t)(p - line.data));
            eider__buf_puts(&masked, "***");
            eider__buf_puts(&masked, p + n);
            eider__buf_release(&line);
            line = masked;
        }
    }
    eider__buf_puts(err, eider__buf_str(&line));
    eider__buf_release(&line);
}

static void connect_error(eider__buf *err, const char *conninfo, const char *msg,
                          const PQconninfoOption *opts)
{
    char *shown = eider__postgres_redact(conninfo);
    eider__buf_printf(err, "cannot connect to the instance store '%s': ", shown);
    if (opts)
        put_masked(err, msg, opts);
    else
        eider__buf_puts(err, msg);
    eider__buf_puts(err, " (check that the server is running, that the connection string is "
                    "right, and that the server's pg_hba.conf lets this user in)");
    free(shown);
}

/* ---- statements ---- */

/* The end of the quoted string, quoted identifier or comment that starts at p, or NULL
 * when none does. A doubled quote ('it''s') reads as two strings side by side. */
static const char *skip_quoted(const char *p)
{
    const char *end;
    if (*p == '\'' || *p == '"')
        end = strchr(p + 1, *p);
    else if (p[0] == '-' && p[1] == '-')
        end = strchr(p, '\n');
    else if (p[0] == '/' && p[1] == '*' && (end = strstr(p + 2, "*/")) != NULL)
        end++;
    else if (p[0] == '/' && p[1] == '*')
        end = NULL;
    else
        return NULL;
    return end ? end + 1 : p + strlen(p);
}

/* sql with each '?' outside quotes and comments numbered $1, $2, ...; *n gets how many.
 * Caller frees. */
static char *translate(const char *sql, size_t *n)
{
    eider__buf b = { 0 };
    const char *end;
    *n = 0;
    while (*sql) {
        if ((end = skip_quoted(sql)) != NULL) {
            eider__buf_add(&b, sql, (size_t)(end - sql));
            sql = end;
        } else if (*sql == '?') {
            eider__buf_printf(&b, "$%zu", ++*n);
            sql++;
        } else {
            eider__buf_putc(&b, *sql++);
        }
    }
    return eider__buf_detach(&b);
}

/* The translation of sql, from the cache (keyed by the text) or new. Valid until the
 * next call. */
static const char *translated(pg_conn *c, const char *sql, size_t *n_params)
{
    size_t i;
    for (i = 0; i < CACHED; i++)
        if (c->cache[i].sql && strcmp(c->cache[i].sql, sql) == 0)
            goto out;
    i = c->next++ % CACHED;
    free(c->cache[i].sql);
    free(c->cache[i].text);
    c->cache[i].sql = eider__xstrdup(sql);
    c->cache[i].text = translate(sql, &c->cache[i].n_params);
out:
    *n_params = c->cache[i].n_params;
    return c->cache[i].text;
}

static void ignore_notice(void *user_data, const char *message)
{
    (void)user_data;
    (void)message;
}

/* Settings for each session, after connecting and after a reset. */
static int setup_session(PGconn *db, eider__buf *err)
{
    PGresult *res = PQexec(db, "SET client_min_messages = warning");
    int rc = EIDER_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        put_error(err, db, res);
        rc = EIDER_EIO;
    }
    PQclear(res);
    return rc;
}

/* Connect again after the connection dropped; 0 when it is back. */
static int reconnect(pg_conn *c)
{
    eider__buf ignored = { 0 };
    int rc = -1;
    PQreset(c->db);
    if (PQstatus(c->db) == CONNECTION_OK)
        rc = setup_session(c->db, &ignored);
    eider__buf_release(&ignored);
    return rc;
}

/* Without params, a simple query, which may hold several statements; with them, one
 * statement with text parameters and the types left to the server. */
static PGresult *run_once(PGconn *db, const char *sql, const char *const *params, size_t n)
{
    if (n == 0)
        return PQexec(db, sql);
    return PQexecParams(db, sql, (int)n, NULL, params, NULL, NULL, 0);
}

/* Run sql, re-running it once on a fresh connection when the connection drops outside
 * a transaction. NULL on error, with the message in err. */
static PGresult *execute(pg_conn *c, const char *sql, const char *const *params, size_t n,
                         eider__buf *err)
{
    PGresult *res = NULL;
    PGTransactionStatusType state;
    if (c->lost_tx) {
        eider__buf_puts(err, "the connection to the server was lost during the transaction,"
                        " which was rolled back");
        return NULL;
    }
    if (PQstatus(c->db) != CONNECTION_OK)
        reconnect(c);
    state = PQtransactionStatus(c->db);
    res = run_once(c->db, sql, params, n);
    if (PQstatus(c->db) != CONNECTION_OK) {
        if (state == PQTRANS_IDLE && reconnect(c) == 0) {
            PQclear(res);
            res = run_once(c->db, sql, params, n);
        } else if (state == PQTRANS_INTRANS || state == PQTRANS_INERROR) {
            c->lost_tx = 1;
        }
    }
    if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK)
        return res;
    put_error(err, c->db, res);
    PQclear(res);
    return NULL;
}

/* Pass each row of res to row until it returns nonzero. */
static void send_rows(const PGresult *res, eider__row_fn row, void *ud)
{
    int n_rows = PQntuples(res), n_cols = PQnfields(res);
    const char **cols = NULL;
    if (!row || n_rows == 0)
        return;
    cols = eider__xcalloc((size_t)n_cols, sizeof(*cols));
    for (int r = 0; r < n_rows; r++) {
        for (int i = 0; i < n_cols; i++)
            cols[i] = PQgetisnull(res, r, i) ? NULL : PQgetvalue(res, r, i);
        if (row(ud, cols, (size_t)n_cols))
            break;
    }
    free(cols);
}

static int query(void *conn, const char *sql, const char *const *params, size_t n_params,
                 eider__row_fn row, void *ud, eider__buf *err)
{
    pg_conn *c = conn;
    size_t n_marks = 0;
    const char *text = n_params ? translated(c, sql, &n_marks) : sql;
    PGresult *res = NULL;
    if (n_marks != n_params) {
        eider__buf_printf(err, "the statement has %zu parameters but %zu were given",
                          n_marks, n_params);
        return EIDER_EIO;
    }
    if (!(res = execute(c, text, params, n_params, err)))
        return EIDER_EIO;
    send_rows(res, row, ud);
    PQclear(res);
    return EIDER_OK;
}

static int begin(void *conn, eider__buf *err)
{
    pg_conn *c = conn;
    PGresult *res = NULL;
    c->lost_tx = 0;                  /* a new transaction: the lost one is given up */
    res = execute(c, "BEGIN", NULL, 0, err);
    PQclear(res);
    return res ? EIDER_OK : EIDER_EIO;
}

/* COMMIT of a transaction in which a statement failed rolls it back: an error here. */
static int commit(void *conn, eider__buf *err)
{
    PGresult *res = execute(conn, "COMMIT", NULL, 0, err);
    int rc = res ? EIDER_OK : EIDER_EIO;
    if (res && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        eider__buf_puts(err, "the transaction was rolled back: a statement in it failed");
        rc = EIDER_EIO;
    }
    PQclear(res);
    return rc;
}

static void rollback(void *conn)
{
    pg_conn *c = conn;
    c->lost_tx = 0;
    if (PQstatus(c->db) == CONNECTION_OK)
        PQclear(PQexec(c->db, "ROLLBACK"));
}

static void close_conn(void *conn)
{
    pg_conn *c = conn;
    if (!c)
        return;
    for (size_t i = 0; i < CACHED; i++) {
        free(c->cache[i].sql);
        free(c->cache[i].text);
    }
    PQfinish(c->db);
    free(c);
}

int eider__postgres_open(const char *conninfo, void **out, eider__buf *err)
{
    static const char *const keys[] = { "connect_timeout", "fallback_application_name",
                                        "dbname", NULL };
    const char *const values[] = { CONNECT_TIMEOUT, "eider", conninfo, NULL };
    pg_conn *c = eider__xcalloc(1, sizeof(*c));
    eider__buf why = { 0 };
    PQconninfoOption *opts = parse(conninfo, &why);
    int rc = EIDER_OK;
    *out = NULL;
    if (!opts) {                     /* libpq's own message would quote the bad part */
        connect_error(err, conninfo, eider__buf_str(&why), NULL);
        rc = EIDER_EIO;
        goto out;
    }
    c->db = PQconnectdbParams(keys, values, 1);   /* the string's settings win */
    if (PQstatus(c->db) != CONNECTION_OK) {
        connect_error(err, conninfo, PQerrorMessage(c->db), opts);
        rc = EIDER_EIO;
        goto out;
    }
    PQsetNoticeProcessor(c->db, ignore_notice, NULL);
    rc = setup_session(c->db, err);
out:
    PQconninfoFree(opts);
    eider__buf_release(&why);
    if (rc)
        close_conn(c);
    else
        *out = c;
    return rc;
}

const eider__store_methods eider__postgres_methods = {
    .name = "postgresql",
    .query = query,
    .begin = begin,
    .commit = commit,
    .rollback = rollback,
    .close = close_conn,
    .migrations = migrations,
    .migration_lock = "LOCK TABLE eider_schema IN EXCLUSIVE MODE",
};
