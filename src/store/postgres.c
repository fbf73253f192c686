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

/* Does the parameter list of a URL or conninfo string start at the end of b? */
static int at_param(const eider__buf *b)
{
    return b->len == 0 || strchr("?& ", b->data[b->len - 1]);
}

/* The URL without its password: "user:secret@" becomes "user@" (split as libpq splits
 * it) and a password=... parameter is left out. Caller frees. */
char *eider__postgres_redact(const char *url)
{
    eider__buf b = { 0 };
    const char *scheme = strstr(url, "://");
    const char *host = scheme ? scheme + 3 + strcspn(scheme + 3, "@/") : NULL;
    if (host && *host == '@') {
        eider__buf_add(&b, url, (size_t)(scheme + 3 - url) + strcspn(scheme + 3, ":@"));
        url = host;
    }
    while (*url) {
        if (!at_param(&b) || strncmp(url, "password=", 9) != 0) {
            eider__buf_putc(&b, *url++);
            continue;
        }
        url += 9 + strcspn(url + 9, "& ");
        if (*url)
            url++;                   /* its separator */
        else if (b.len && strchr("?& ", b.data[b.len - 1]))
            b.data[--b.len] = '\0';  /* it was the last: drop the separator before it */
    }
    return eider__buf_detach(&b);
}

/* The password in a URL's "user:secret@", or NULL; *n gets its length. */
static const char *url_password(const char *url, size_t *n)
{
    const char *scheme = strstr(url, "://"), *colon, *at;
    if (!scheme)
        return NULL;
    at = scheme + 3 + strcspn(scheme + 3, "@/");
    colon = memchr(scheme + 3, ':', (size_t)(at - scheme - 3));
    if (*at != '@' || !colon || colon + 1 == at)
        return NULL;
    *n = (size_t)(at - colon - 1);
    return colon + 1;
}

/* Append libpq's message about url, with the URL's password masked if it quotes it
 * (as "invalid percent-encoded token" does). */
static void put_masked(eider__buf *err, const char *msg, const char *url)
{
    eider__buf line = { 0 };
    size_t n = 0;
    const char *secret = url_password(url, &n), *p = NULL, *s;
    put_line(&line, msg);
    s = eider__buf_str(&line);
    while (secret && (p = memmem(s, strlen(s), secret, n)) != NULL) {
        eider__buf_add(err, s, (size_t)(p - s));
        eider__buf_puts(err, "***");
        s = p + n;
    }
    eider__buf_puts(err, s);
    eider__buf_release(&line);
}

static void connect_error(eider__buf *err, const char *url, PGconn *db)
{
    char *shown = eider__postgres_redact(url);
    eider__buf_printf(err, "cannot connect to the instance store '%s': ", shown);
    put_masked(err, PQerrorMessage(db), url);
    eider__buf_puts(err, " (check that the server is running, that the URL is right, and"
                    " that the server's pg_hba.conf lets this user in)");
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

int eider__postgres_open(const char *url, void **out, eider__buf *err)
{
    static const char *const keys[] = { "connect_timeout", "fallback_application_name",
                                        "dbname", NULL };
    const char *const values[] = { CONNECT_TIMEOUT, "eider", url, NULL };
    pg_conn *c = eider__xcalloc(1, sizeof(*c));
    int rc = EIDER_OK;
    *out = NULL;
    c->db = PQconnectdbParams(keys, values, 1);   /* the URL's settings win */
    if (PQstatus(c->db) != CONNECTION_OK) {
        connect_error(err, url, c->db);
        rc = EIDER_EIO;
        goto out;
    }
    PQsetNoticeProcessor(c->db, ignore_notice, NULL);
    rc = setup_session(c->db, err);
out:
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
