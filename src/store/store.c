/*
 * store.c — the instance store: opening a backend, migrating its schema, marking runs
 * whose lease ran out as crashed, the queries behind `eider runs`, `run show`,
 * `logs`, `asset show`, `asset wipe` and `gc`, and the keys of dynamic partitions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rows.h"
#include "store.h"
#include "../defs/partitions.h"

int eider__store_error(eider_store *s, int code, const char *fmt, ...)
{
    va_list ap;
    eider__buf_reset(&s->errmsg);
    va_start(ap, fmt);
    eider__buf_vprintf(&s->errmsg, fmt, ap);
    va_end(ap);
    return code;
}

const char *eider_store_errmsg(const eider_store *s)
{
    return s ? eider__buf_str(&s->errmsg) : "out of memory";
}

const char *eider_store_location(const eider_store *s)
{
    return s && s->location ? s->location : "";
}

static const char *const run_status_names[] = {
    "queued", "started", "success", "failure", "canceled", "crashed",
};

const char *eider_run_status_name(eider_run_status status)
{
    return (unsigned)status < EIDER__ARRAY_LEN(run_status_names) ? run_status_names[status] : "unknown";
}

/* The other spellings people write, as `eider list` says "failed" of an asset. */
static const char *const run_status_aliases[][2] = {
    { "running", "started" }, { "succeeded", "success" }, { "failed", "failure" },
    { "cancelled", "canceled" },
};

int eider_run_status_parse(const char *name)
{
    for (size_t i = 0; name && i < EIDER__ARRAY_LEN(run_status_aliases); i++)
        if (strcasecmp(run_status_aliases[i][0], name) == 0)
            name = run_status_aliases[i][1];
    for (size_t i = 0; name && i < EIDER__ARRAY_LEN(run_status_names); i++)
        if (strcasecmp(run_status_names[i], name) == 0)
            return (int)i;
    return -1;
}

const char *eider_asset_status_name(eider_asset_status status)
{
    static const char *const names[] = { "never", "fresh", "stale", "failed", "external" };
    return (unsigned)status < EIDER__ARRAY_LEN(names) ? names[status] : "unknown";
}

/* ---- messages ---- */

/* What to do, for the backends' messages that name no cause a user can act on. */
static const char *const advice[][2] = {
    { "file is not a database", "it is not a SQLite database (another file took its place, or "
      "it was damaged): move it away to start a new store, or restore it from a backup" },
    { "database disk image is malformed", "its file is damaged: restore it from a backup, or "
      "move it away to start a new store" },
    { "disk I/O error", "the system could not read or write its files: check that the disk is "
      "neither full nor failing and that the folder is still there, then try again" },
    { "attempt to write a readonly database", "this user may not write it, its folder, or its "
      "-wal and -shm files beside it: fix their owner or mode, or point EIDER_HOME (or "
      "EIDER_STORAGE) at a store of your own" },
    { "unable to open database file", "check that its folder exists and that this user may "
      "read and write the folder and the files in it" },
    { "database or disk is full", "free some space on its disk, then try again" },
};

const char *eider__store_advice(const char *msg)
{
    for (size_t i = 0; msg && i < EIDER__ARRAY_LEN(advice); i++)
        if (strstr(msg, advice[i][0]))
            return advice[i][1];
    return NULL;
}

/* The store's message for a backend's error msg while doing what ("open", "read"):
 * named after the store unless msg names it, with what to do when that is known, else
 * otherwise (which may be NULL). Returns code. */
static int store_failed(eider_store *s, int code, const char *what, const char *msg,
                        const char *otherwise)
{
    const char *todo = eider__store_advice(msg) ? eider__store_advice(msg) : otherwise;
    if (strstr(msg, "instance store"))
        return eider__store_error(s, code, "%s%s%s", msg, todo ? "; " : "", todo ? todo : "");
    return eider__store_error(s, code, "cannot %s the instance store %s: %s%s%s", what, s->location,
                              msg, todo ? "; " : "", todo ? todo : "");
}

/* ---- opening ---- */

int eider__read_i64(void *ud, const char *const *cols, size_t n)
{
    *(int64_t *)ud = n && cols[0] ? strtoll(cols[0], NULL, 10) : 0;
    return 0;
}

/* The schema version, read as rows.h checks it. */
typedef struct version_read {
    int64_t version;
    int bad;
    eider__buf why;
} version_read;

static int read_version_row(void *ud, const char *const *cols, size_t n)
{
    version_read *v = ud;
    v->bad = eider__row_version(n ? cols[0] : NULL, &v->version, &v->why) != 0;
    return 0;
}

/* The store's message for a version that is no version. */
static int bad_version(eider_store *s, version_read *v)
{
    int rc = eider__store_error(s, EIDER_EIO, "the instance store %s is damaged: %s; restore it "
        "from a backup, or point EIDER_HOME (or EIDER_STORAGE) at another store", s->location,
        eider__buf_str(&v->why));
    eider__buf_release(&v->why);
    return rc;
}

/* Whether the store's tables are there while table eider_schema holds no version (its
 * rows deleted, or the table dropped): a damaged store, never an empty one. Read in
 * this order, and the version again: the first migration makes the tables and the
 * version in one transaction, so a store another process is making never reads so. */
static int schema_lost(eider_store *s)
{
    eider__buf err = { 0 };
    version_read v = { 0 };
    int64_t n = 0;
    int lost = s->m->query(s->conn, "SELECT count(*) FROM runs WHERE 1 = 0", NULL, 0,
                           eider__read_i64, &n, &err) == 0;
    if (lost)
        lost = s->m->query(s->conn, "SELECT max(version) FROM eider_schema", NULL, 0,
                           read_version_row, &v, &err) != 0 || (!v.bad && v.version == 0);
    eider__buf_release(&v.why);
    eider__buf_release(&err);
    return lost;
}

/* The store's message for a store whose version is lost. */
static int lost_version(eider_store *s)
{
    return eider__store_error(s, EIDER_EIO, "the instance store %s is damaged: it holds Eider's "
        "tables, but table eider_schema holds no schema version (its row was deleted, or the "
        "table dropped), so Eider cannot tell how to read it; restore it from a backup, or "
        "point EIDER_HOME (or EIDER_STORAGE) at another store", s->location);
}

/* Apply one migration if the store still lacks it: in a transaction that holds the
 * writer's lock, the version read again under it, so that two processes opening a new
 * store migrate one after the other. *done is set when nothing was left to apply. */
static int migrate_step(eider_store *s, size_t known, int *done, eider__buf *err)
{
    version_read v = { 0 };
    int64_t version = 0;
    char next[24];
    const char *params[] = { next };
    int rc = s->m->begin(s->conn, err);
    if (!rc && s->m->migration_lock)
        rc = s->m->query(s->conn, s->m->migration_lock, NULL, 0, NULL, NULL, err);
    if (!rc)
        rc = s->m->query(s->conn, "SELECT max(version) FROM eider_schema", NULL, 0, read_version_row,
                         &v, err);
    version = v.version;
    if (!rc && v.bad) {
        s->m->rollback(s->conn);
        return bad_version(s, &v);
    }
    eider__buf_release(&v.why);
    if (!rc && version > (int64_t)known) {
        s->m->rollback(s->conn);
        return eider__store_error(s, EIDER_EAPIVERSION, "the instance store %s was written by a newer "
            "Eider (schema version %" PRId64 "; this one knows up to %zu): upgrade Eider, or point "
            "EIDER_HOME (or EIDER_STORAGE) at another store", s->location, version, known);
    }
    *done = !rc && version == (int64_t)known;
    snprintf(next, sizeof(next), "%" PRId64, version + 1);
    if (!rc && !*done)
        rc = s->m->query(s->conn, s->m->migrations[version], NULL, 0, NULL, NULL, err);
    if (!rc && !*done)
        rc = s->m->query(s->conn, "INSERT INTO eider_schema (version) VALUES (?)", params, 1, NULL, NULL, err);
    if (!rc)
        rc = s->m->commit(s->conn, err);
    if (rc)
        s->m->rollback(s->conn);
    return rc;
}

/* Bring the schema to this Eider's version. */
static int migrate(eider_store *s)
{
    eider__buf err = { 0 };
    size_t known = 0;
    int done = 0, rc = EIDER_OK;
    while (s->m->migrations[known])
        known++;
    /* Two processes creating it at once: PostgreSQL may fail one; it finds it then. */
    for (int attempt = 0; attempt < 2; attempt++) {
        eider__buf_reset(&err);
        rc = s->m->query(s->conn, "CREATE TABLE IF NOT EXISTS eider_schema (version INTEGER NOT NULL)",
                         NULL, 0, NULL, NULL, &err);
        if (!rc)
            break;
    }
    if (!rc && schema_lost(s))
        rc = lost_version(s);
    while (!rc && !done)
        rc = migrate_step(s, known, &done, &err);
    if (rc && rc != EIDER_EAPIVERSION && !eider__buf_str(&s->errmsg)[0])
        store_failed(s, rc, "migrate", eider__buf_str(&err), NULL);
    eider__buf_release(&err);
    return rc;
}

/* Whether s reads as a plain path: no scheme ("name:" first), no "://", and not a
 * key=value string ("name=" first). */
static int plain_path(const char *s)
{
    static const char word[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
    size_t scheme = isalpha((unsigned char)s[0]) ? strspn(s, "abcdefghijklmnopqrstuvwxyz"
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") : 0;
    const char *key = s + strspn(s, " \t\n");
    size_t n = strspn(key, word);
    if (strstr(s, "://") || (scheme && s[scheme] == ':'))
        return 0;
    return !(n && key[n + strspn(key + n, " \t\n")] == '=');
}

/* Refuse value (from EIDER_STORAGE, or the location given): named, masked, with what
 * is accepted. */
static int refuse(const char *value, int from_env, const eider__buf *why, eider__buf *err)
{
    char *shown = eider__postgres_redact(value);
    eider__buf_printf(err, "%s '%s' is not an instance store Eider can use", from_env ?
                      "EIDER_STORAGE" : "the instance store location", shown);
    if (why->len)
        eider__buf_printf(err, " (libpq: %s)", eider__buf_str(why));
    eider__buf_puts(err, ": give a folder for SQLite (a path, or sqlite:PATH), a PostgreSQL URL "
                    "(postgresql://... or postgres://...) or libpq key=value settings (host=... "
                    "dbname=... user=...), or none to record nothing");
    free(shown);
    return EIDER_EINVAL;
}

/* A SQLite store's folder that is a file (EIDER_STORAGE set to the store's own file, an
 * easy slip): EIDER_EINVAL, saying that a folder is named and, for the store's file,
 * which one. what names where folder came from. */
static int folder_is_a_file(const char *folder, const char *what, eider__buf *err)
{
    struct stat st;
    const char *slash = strrchr(folder, '/');
    const char *base = slash ? slash + 1 : folder;
    if (stat(folder, &st) != 0 || S_ISDIR(st.st_mode))
        return EIDER_OK;
    eider__buf_printf(err, "%s names the instance store's folder (which holds eider.sqlite3), "
                      "but '%s' is a file", what, folder);
    if (!strcmp(base, "eider.sqlite3") && slash)
        eider__buf_printf(err, ": give the store's folder, '%.*s'",
                          (int)(slash > folder ? slash - folder : 1), folder);
    else if (!strcmp(base, "eider.sqlite3"))
        eider__buf_puts(err, ": give the store's folder, '.'");
    else
        eider__buf_puts(err, ": give a folder (one that does not exist is made)");
    return EIDER_EINVAL;
}

/* Where the store is: a PostgreSQL connection string (*postgres set), or the SQLite
 * file in the folder, into *where (malloc'd). EIDER_EINVAL with the message in err
 * when the location (or EIDER_STORAGE) is none of the forms eider_store_open() takes. */
static int resolve(const char *location, char **where, int *postgres, eider__buf *err)
{
    eider__buf path = { 0 }, why = { 0 };
    const char *home = getenv("EIDER_HOME");
    int from_env = !location || !*location, rc = EIDER_OK;
    *where = NULL;
    if (from_env)
        location = getenv("EIDER_STORAGE");
    *postgres = location && *location && eider__postgres_accepts(location, &why);
    if (*postgres) {
        *where = eider__xstrdup(location);
        goto out;
    }
    if (location && !strncmp(location, "sqlite:", 7) && location[7])
        location += 7;
    else if (location && *location && !plain_path(location)) {
        rc = refuse(location, from_env, &why, err);
        goto out;
    }
    if (!location || !*location) {
        from_env = home && *home ? 2 : 3;
        location = home && *home ? home : ".eider";
    }
    rc = folder_is_a_file(location, from_env == 1 ? "EIDER_STORAGE" : from_env == 2 ? "EIDER_HOME"
                          : from_env == 3 ? "the default store folder" : "the instance store location",
                          err);
    if (rc)
        goto out;
    if (location[0] != '/') {
        char cwd[4096];
        if (getcwd(cwd, sizeof(cwd)))
            eider__buf_printf(&path, "%s/", cwd);
    }
    eider__buf_printf(&path, "%s/eider.sqlite3", location);
    *where = eider__buf_detach(&path);
out:
    eider__buf_release(&why);
    return rc;
}

/* For a read-only handle: the store must hold this Eider's schema, which it may not
 * migrate. A store without one has recorded nothing yet. */
static int check_schema(eider_store *s)
{
    eider__buf err = { 0 };
    version_read v = { 0 };
    size_t known = 0;
    while (s->m->migrations[known])
        known++;
    int rc = s->m->query(s->conn, "SELECT max(version) FROM eider_schema", NULL, 0, read_version_row,
                         &v, &err);
    int64_t version = v.version;
    /* Only a missing table means nothing is recorded: any other error is told. */
    if (rc && !strstr(eider__buf_str(&err), "eider_schema")) {
        rc = store_failed(s, EIDER_EIO, "read", eider__buf_str(&err), "check that this user may "
                          "read it and its folder");
        eider__buf_release(&err);
        eider__buf_release(&v.why);
        return rc;
    }
    eider__buf_release(&err);
    if (!rc && v.bad)
        return bad_version(s, &v);
    eider__buf_release(&v.why);
    if ((rc || version == 0) && schema_lost(s))
        return lost_version(s);
    if (rc || version == 0)
        return eider__store_error(s, EIDER_ENOTFOUND, "nothing is recorded in the instance store %s "
                                  "yet", s->location);
    if (version != (int64_t)known)
        return eider__store_error(s, EIDER_EAPIVERSION, "the instance store %s was written by %s "
            "Eider (schema version %" PRId64 "; this one reads %zu): %s", s->location,
            version > (int64_t)known ? "a newer" : "an older", version, known,
            version > (int64_t)known ? "upgrade Eider, or point EIDER_HOME (or EIDER_STORAGE) at "
            "another store" : "any command that records (eider materialize) brings it up to date");
    return EIDER_OK;
}

static int open_store(const char *location, int read_only, eider_store **out)
{
    eider_store *s = eider__xcalloc(1, sizeof(*s));
    eider__buf err = { 0 };
    int postgres = 0, rc;
    const char *storage = getenv("EIDER_STORAGE");
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->queue_lock, NULL);
    pthread_mutex_init(&s->write_lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    *out = s;
    if (!strcmp(location && *location ? location : storage ? storage : "", "none")) {
        s->location = eider__xstrdup("none");
        return eider__store_error(s, EIDER_EINVAL, "the instance store is 'none': nothing is to be "
                                  "recorded, so there is no store to open; run with no store "
                                  "(eider_run_options.store = NULL) instead");
    }
    char *where = NULL;
    rc = resolve(location, &where, &postgres, &err);
    if (rc) {
        s->location = eider__xstrdup("");
    } else if (postgres) {
        s->m = &eider__postgres_methods;
        s->location = eider__postgres_redact(where);
        rc = eider__postgres_open(where, &s->conn, &err);
        if (!rc && read_only)
            rc = s->m->query(s->conn, "SET default_transaction_read_only = on", NULL, 0, NULL, NULL, &err);
    } else {
        s->m = &eider__sqlite_methods;
        eider__buf_printf(&err, "sqlite:%s", where);
        s->location = eider__buf_detach(&err);
        rc = read_only ? eider__sqlite_open_readonly(where, &s->conn, &err)
                       : eider__sqlite_open(where, &s->conn, &err);
    }
    free(where);
    if (rc == EIDER_ENOTFOUND)
        eider__store_error(s, rc, "nothing is recorded yet: %s", eider__buf_str(&err));
    else if (rc)
        store_failed(s, rc, read_only ? "read" : "open", eider__buf_str(&err),
                     rc == EIDER_EIO && read_only && !postgres
                     ? "check that this user may read it and its folder" : NULL);
    eider__buf_release(&err);
    if (read_only && !rc)
        rc = check_schema(s);
    if (read_only && rc == EIDER_ENOTFOUND)
        s->missing = 1;
    if (read_only)
        return rc;
    if (!rc)
        rc = migrate(s);
    if (!rc)
        rc = eider__store_mark_crashed(s);
    return rc;
}

int eider_store_open(const char *location, eider_store **out)
{
    return open_store(location, 0, out);
}

int eider_store_open_readonly(const char *location, eider_store **out)
{
    return open_store(location, 1, out);
}

/* Opening to write may make the -wal and -shm files of a SQLite store: only its owner
 * (or root, whose files SQLite gives to the owner) makes them so that the owner can
 * still write the store. */
int eider_store_writable(const char *location)
{
    int postgres = 0;
    const char *storage = getenv("EIDER_STORAGE");
    if (!strcmp(location && *location ? location : storage ? storage : "", "none"))
        return 0;
    char *where = NULL;
    eider__buf err = { 0 };
    int ok = resolve(location, &where, &postgres, &err) == EIDER_OK &&
             (postgres || eider__sqlite_may_make_files(where));
    eider__buf_release(&err);
    free(where);
    return ok;
}

void eider_store_close(eider_store *s)
{
    if (!s)
        return;
    eider__store_stop_writer(s);
    eider__store_flush(s);
    if (s->conn)
        s->m->close(s->conn);
    eider__batch_release(&s->pending);
    eider__store_release_held(s);
    free(s->location);
    eider__buf_release(&s->errmsg);
    eider__buf_release(&s->write_err);
    for (size_t i = 0; i < s->n_failed_runs; i++)
        free(s->failed_runs[i]);
    free(s->failed_runs);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->queue_lock);
    pthread_mutex_destroy(&s->write_lock);
    pthread_cond_destroy(&s->wake);
    free(s);
}

/* Run one statement under the store's lock; on error the message on the store. */
int eider__store_query(eider_store *s, const char *sql, const char *const *params, size_t n,
                       eider__row_fn row, void *ud)
{
    eider__buf err = { 0 };
    if (s && s->missing)             /* nothing is recorded yet: no row to read */
        return EIDER_OK;
    if (!s || !s->conn)
        return EIDER_EINVAL;
    pthread_mutex_lock(&s->lock);
    int rc = s->m->query(s->conn, sql, params, n, row, ud, &err);
    pthread_mutex_unlock(&s->lock);
    if (rc)
        store_failed(s, rc, "use", eider__buf_str(&err), NULL);
    eider__buf_release(&err);
    return rc;
}

/* One statement of a transaction. */
typedef struct store_stmt {
    const char *sql;
    const char *const *params;
    size_t n_params;
    size_t *count;                   /* the rows it returns are counted here, or NULL */
    const size_t *only_if;           /* it runs only when this count is nonzero, or NULL */
} store_stmt;

static int count_rows(void *ud, const char *const *c, size_t n)
{
    (*(size_t *)ud)++;
    return 0;
}

/* Run the statements in one transaction under the store's lock: all of them or none. */
static int store_transaction(eider_store *s, const store_stmt *stmts, size_t n)
{
    eider__buf err = { 0 };
    if (!s || !s->conn)
        return EIDER_EINVAL;
    pthread_mutex_lock(&s->lock);
    int rc = s->m->begin(s->conn, &err);
    for (size_t i = 0; !rc && i < n; i++)
        if (!stmts[i].only_if || *stmts[i].only_if)
            rc = s->m->query(s->conn, stmts[i].sql, stmts[i].params, stmts[i].n_params,
                             stmts[i].count ? count_rows : NULL, stmts[i].count, &err);
    if (!rc)
        rc = s->m->commit(s->conn, &err);
    if (rc)
        s->m->rollback(s->conn);
    pthread_mutex_unlock(&s->lock);
    if (rc)
        store_failed(s, rc, "use", eider__buf_str(&err), NULL);
    eider__buf_release(&err);
    return rc;
}

/* Taken first by every transaction that writes asset_state (recorder.c's batches too),
 * so that on PostgreSQL they queue instead of locking its rows in different orders. */
#define LOCK_WRITERS "UPDATE id_counters SET last = last WHERE name = 'materializations'"

/* ---- crashed runs ---- */

/* A run proves that it is alive by renewing its lease (recorder.c); one whose lease
 * ran out is crashed, whatever host, container or PID namespace it ran in, and whoever
 * looks. A run left without a lease (started by an Eider before schema version 4,
 * still running as this one migrated) is given LEGACY_LEASE_US from its start. The
 * note goes on the run's row, never into its events: the run may be alive after all
 * (stopped, or cut off from the store), and its next events keep their numbers. */
#define LEGACY_LEASE_US "600000000"
#define LAPSED "status = 'started' AND COALESCE(lease_until_us, start_us + " LEGACY_LEASE_US ") < CAST(? AS BIGINT)"

int eider__store_mark_crashed(eider_store *s)
{
    char now_us[32], host[256] = "";
    eider__buf note = { 0 };
    int64_t lapsed = 0;
    snprintf(now_us, sizeof(now_us), "%" PRId64, eider__now_us());
    gethostname(host, sizeof(host) - 1);
    eider__buf_printf(&note, "the run's lease ran out: its process stopped proving that it is alive "
                      "(it was killed or crashed, or was stopped or cut off from the store for "
                      "longer than its lease); marked crashed by eider on host '%s' (pid %ld)",
                      host, (long)getpid());
    const char *when[] = { now_us };
    const char *mark[] = { now_us, eider__buf_str(&note), now_us };
    /* Read first, so that a store with nothing to mark is not written (or locked). */
    int rc = eider__store_query(s, "SELECT count(*) FROM runs WHERE " LAPSED, when, 1,
                                eider__read_i64, &lapsed);
    if (!rc && lapsed > 0)
        rc = eider__store_query(s, "UPDATE runs SET status = 'crashed', end_us = ?, note = ? WHERE "
                                LAPSED, mark, 3, NULL, NULL);
    eider__buf_release(&note);
    return rc;
}

/* ---- queries ---- */

int eider__store_damaged(eider_store *s, const char *table, const char *row, const char *why)
{
    return eider__store_error(s, EIDER_EIO, "the instance store %s holds a damaged row in table %s "
        "(%s%s%s), which Eider never writes: restore the store from a backup, or delete that row",
        s->location, table, row ? row : "", row ? ": " : "", why);
}

typedef struct run_query {
    eider_run_fn fn;
    void *ud;
    int bad;                         /* a row was damaged: why says how, row which */
    eider__buf why;
    char *row;
} run_query;

static int run_row(void *ud, const char *const *c, size_t n)
{
    run_query *q = ud;
    eider_run_record r;
    if (eider__row_run(c, n, &r, &q->why)) {
        q->bad = 1;
        q->row = eider__xstrdup(n && c[0] ? c[0] : "run_id NULL");
        return 1;
    }
    return q->fn(&r, q->ud);
}

int eider_store_runs(eider_store *s, int status, const char *run_id, size_t limit,
                     eider_run_fn fn, void *ud)
{
    char lim[24];
    run_query q = { fn, ud, 0, { 0 }, NULL };
    const char *params[4];
    size_t n = 0;
    eider__buf sql = { 0 };
    eider__buf_puts(&sql, "SELECT run_id, status, selection, partition, launched_by, tags, start_us, "
                          "end_us, n_succeeded, n_failed, n_skipped, n_canceled FROM runs WHERE 1 = 1");
    if (status >= 0) {
        eider__buf_puts(&sql, " AND status = ?");
        params[n++] = eider_run_status_name((eider_run_status)status);
    }
    if (run_id) {      /* a prefix, compared exactly: LIKE would take '_' and '%' as wildcards */
        eider__buf_puts(&sql, " AND substr(run_id, 1, length(CAST(? AS TEXT))) = CAST(? AS TEXT)");
        params[n++] = run_id;
        params[n++] = run_id;
    }
    snprintf(lim, sizeof(lim), "%zu", limit ? limit : 100);
    eider__buf_puts(&sql, " ORDER BY start_us DESC LIMIT ?");
    params[n++] = lim;
    int rc = eider__store_query(s, eider__buf_str(&sql), params, n, run_row, &q);
    if (!rc && q.bad)
        rc = eider__store_damaged(s, "runs", q.row, eider__buf_str(&q.why));
    eider__buf_release(&sql);
    eider__buf_release(&q.why);
    free(q.row);
    return rc;
}

static const char *const level_names[] = { "debug", "info", "warning", "error" };

const char *eider_log_level_name(eider_log_level level)
{
    return (unsigned)level < EIDER__ARRAY_LEN(level_names) ? level_names[level] : "info";
}

int eider_log_level_parse(const char *name)
{
    for (size_t i = 0; name && i < EIDER__ARRAY_LEN(level_names); i++)
        if (strcmp(level_names[i], name) == 0)
            return (int)i;
    return name && strcmp(name, "warn") == 0 ? EIDER_LOG_WARN : -1;
}

const char *eider_step_status_name(eider_step_status status)
{
    static const char *const names[] = { "success", "failure", "skipped", "canceled" };
    return (unsigned)status < EIDER__ARRAY_LEN(names) ? names[status] : "unknown";
}

char *eider__meta_to_json(const eider_meta *m, size_t n)
{
    json_t *obj = json_object();
    for (size_t i = 0; i < n; i++) {
        json_t *v = m[i].type == EIDER_META_INT || m[i].type == EIDER_META_BOOL ? json_integer(m[i].i)
                  : m[i].type == EIDER_META_FLOAT ? json_real(m[i].f)
                  : json_string(m[i].text ? m[i].text : "");
        json_object_set_new(obj, m[i].key, json_pack("{s:s, s:o}", "type",
            eider__meta_type_names[(unsigned)m[i].type < 7 ? m[i].type : 0], "value",
            v ? v : json_null()));
    }
    char *out = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    return out;
}

/* A run's stored blocks of events, copied out of the query (the metadata of their
 * materializations is read with another). A row whose numbers do not read as numbers
 * gets n = 0, which rows.c refuses. */
typedef struct block_list {
    eider__stored_block *v;
    size_t n, cap;
} block_list;

static int block_row(void *ud, const char *const *c, size_t n)
{
    block_list *l = ud;
    eider__stored_block b = { 0 };
    EIDER__GROW(l->v, l->cap, l->n + 1);
    if (n < 4 || eider__row_int(c[0], INT64_MIN, INT64_MAX, 0, &b.first) ||
        eider__row_int(c[1], INT64_MIN, INT64_MAX, 0, &b.n) ||
        eider__row_int(c[2], INT64_MIN, INT64_MAX, 0, &b.mat_base))
        b.n = 0;
    b.events = n >= 4 && c[3] ? eider__xstrdup(c[3]) : NULL;
    l->v[l->n++] = b;
    return 0;
}

/* The metadata of the materializations a block's events name: ref[i] (the events'
 * "materialization" numbers, sorted, distinct) has text[i]. */
typedef struct mat_meta {
    int64_t base;
    int64_t *ref;
    char **text;
    size_t n;
} mat_meta;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int mat_meta_row(void *ud, const char *const *c, size_t n)
{
    mat_meta *m = ud;
    int64_t id = 0;
    if (n < 2 || eider__row_int(c[0], m->base, INT64_MAX, 0, &id))
        return 0;                    /* the query asked for ids above base */
    int64_t want = id - m->base;
    int64_t *at = bsearch(&want, m->ref, m->n, sizeof(*m->ref), cmp_i64);
    if (at && c[1] && !m->text[at - m->ref])
        m->text[at - m->ref] = eider__xstrdup(c[1]);
    return 0;
}

/* Read the metadata of the materializations events names, each by its id. */
static int read_mat_meta(eider_store *s, json_t *events, mat_meta *mm)
{
    size_t i, n = 0;
    json_t *e;
    mm->ref = eider__xcalloc(json_array_size(events) + 1, sizeof(*mm->ref));
    json_array_foreach(events, i, e) {
        json_int_t m = json_integer_value(json_object_get(e, "materialization"));
        if (m > 0 && mm->base >= 0 && m <= INT64_MAX - mm->base)   /* a damaged one names nothing */
            mm->ref[n++] = m;
    }
    qsort(mm->ref, n, sizeof(*mm->ref), cmp_i64);
    for (i = 0; i < n; i++)
        if (!mm->n || mm->ref[mm->n - 1] != mm->ref[i])
            mm->ref[mm->n++] = mm->ref[i];
    mm->text = eider__xcalloc(mm->n + 1, sizeof(char *));
    if (!mm->n)
        return EIDER_OK;
    char lo[24], hi[24];
    snprintf(lo, sizeof(lo), "%" PRId64, mm->base + mm->ref[0]);
    snprintf(hi, sizeof(hi), "%" PRId64, mm->base + mm->ref[mm->n - 1]);
    const char *p[] = { lo, hi };
    return eider__store_query(s, "SELECT id, metadata FROM materializations WHERE id >= ? AND id <= ?",
                              p, 2, mat_meta_row, mm);
}

static const char *metadata_of(const mat_meta *mm, json_int_t m)
{
    int64_t want = m;
    int64_t *at = m > 0 ? bsearch(&want, mm->ref, mm->n, sizeof(*mm->ref), cmp_i64) : NULL;
    return at ? mm->text[at - mm->ref] : NULL;
}

/* In place of events the store holds damaged: one error line (number id) that says
 * which and why. Returns what fn returns. */
static int replay_damaged(eider_store *s, const char *run_id, int64_t id, int64_t n,
                          const eider__buf *why, eider_stored_event_fn fn, void *ud)
{
    eider__buf msg = { 0 };
    if (n > 1)
        eider__buf_printf(&msg, "events %" PRId64 " to %" PRId64 " of this run are", id, id + n - 1);
    else
        eider__buf_printf(&msg, "event %" PRId64 " of this run is", id);
    eider__buf_printf(&msg, " damaged in table event_blocks (%s) of the instance store %s, and "
                      "cannot be shown", eider__buf_str(why), s->location);
    eider_event ev = { .type = EIDER_EVENT_LOG, .run_id = run_id, .level = EIDER_LOG_ERROR,
                       .message = eider__buf_str(&msg) };
    int stop = fn(id, &ev, ud);
    eider__buf_release(&msg);
    return stop;
}

/* Give fn the event e, number id of run_id. */
static int replay_event(eider_store *s, const char *run_id, int64_t id, json_t *e,
                        const mat_meta *mm, eider_stored_event_fn fn, void *ud)
{
    eider_event ev;
    eider__buf why = { 0 };
    if (eider__row_event(e, &ev, &why)) {
        int stop = replay_damaged(s, run_id, id, 1, &why, fn, ud);
        eider__buf_release(&why);
        return stop;
    }
    ev.run_id = run_id;
    eider__meta_list meta;
    char *observed = json_is_object(json_object_get(e, "metadata"))
        ? json_dumps(json_object_get(e, "metadata"), JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    const char *stored = metadata_of(mm, json_integer_value(json_object_get(e, "materialization")));
    eider__row_meta(observed ? observed : stored, &meta);
    ev.metadata = meta.v;
    ev.n_metadata = meta.n;
    int stop = fn(id, &ev, ud);
    eider__meta_list_release(&meta);
    free(observed);
    return stop;
}

/* Call fn for the block's events numbered above after; nonzero when fn stopped. A block
 * that is damaged is told as one error line in its place (numbered next, the number
 * after the block before it), and the rest goes on; *next moves past the block. */
static int replay_block(eider_store *s, const char *run_id, eider__stored_block *b, int64_t *next,
                        int64_t after, eider_stored_event_fn fn, void *ud, int *rc)
{
    eider__buf why = { 0 };
    json_t *events = NULL, *e;
    mat_meta mm = { .base = b->mat_base };
    size_t i;
    int stop = 0;
    int64_t id = 0, n = 0;
    *next = eider__row_block_place(b, *next, &id, &n);
    if (eider__row_block(b, id, &why) || !(events = eider__row_events(b->events, b->n, &why))) {
        stop = id > after ? replay_damaged(s, run_id, id, n, &why, fn, ud) : 0;
        eider__buf_release(&why);
        return stop;
    }
    *rc = read_mat_meta(s, events, &mm);
    json_array_foreach(events, i, e) {
        if (!*rc && !stop && id + (int64_t)i > after)
            stop = replay_event(s, run_id, id + (int64_t)i, e, &mm, fn, ud);
    }
    for (size_t k = 0; k < mm.n; k++)
        free(mm.text[k]);
    free(mm.text);
    free(mm.ref);
    json_decref(events);
    return stop || *rc;
}

/* A run marked crashed: its row's note and when. */
typedef struct crash_note {
    char *note;
    int64_t end_us, last;            /* last: the number of its last stored event */
} crash_note;

static int crash_note_row(void *ud, const char *const *c, size_t n)
{
    crash_note *k = ud;
    if (c[0] && !strcmp(c[0], "crashed") && c[1])
        k->note = eider__xstrdup(c[1]);
    /* damaged numbers read as 0: the note is still told, after every stored event */
    eider__row_int(c[2], 0, EIDER__ROW_MAX_US, 1, &k->end_us);
    eider__row_int(c[3], 0, INT64_MAX - 1, 1, &k->last);
    return 0;
}

/* A run marked crashed ends with its row's note, told as its run_end event after its
 * stored events (numbered after the last; never stored, so the run, were it alive
 * after all, keeps its next numbers). Nonzero when fn stopped. */
static int replay_crash_note(eider_store *s, const char *run_id, int64_t after_id,
                             eider_stored_event_fn fn, void *ud, int *rc)
{
    crash_note k = { 0 };
    const char *p[] = { run_id, run_id };
    int stop = 0;
    *rc = eider__store_query(s, "SELECT status, note, end_us, (SELECT max(first + n) - 1 FROM "
                                "event_blocks WHERE run_id = ?) FROM runs WHERE run_id = ?", p, 2,
                             crash_note_row, &k);
    if (!*rc && k.note && k.last + 1 > after_id) {
        eider_event ev = { .type = EIDER_EVENT_RUN_END, .run_id = run_id, .time_us = k.end_us,
                           .level = EIDER_LOG_ERROR, .message = k.note };
        stop = fn(k.last + 1, &ev, ud);
    }
    free(k.note);
    return stop;
}

int eider_store_events(eider_store *s, const char *run_id, int64_t after_id,
                       eider_stored_event_fn fn, void *ud)
{
    char after[24];
    block_list blocks = { 0 };
    int64_t next = 1;
    snprintf(after, sizeof(after), "%" PRId64, after_id);
    const char *params[] = { run_id ? run_id : "", after };
    int rc = eider__store_flush(s);
    /* Damaged blocks too, wherever their numbers put them: each is told in its place. */
    if (!rc)
        rc = eider__store_query(s, "SELECT first, n, mat_base, events FROM event_blocks WHERE run_id = ? "
                                   "AND (first + n > CAST(? AS BIGINT) OR first < 1 OR n < 1) "
                                   "ORDER BY first", params, 2,
                                block_row, &blocks);
    int stop = 0;
    for (size_t i = 0; i < blocks.n; i++) {
        if (!rc && !stop)
            stop = replay_block(s, params[0], &blocks.v[i], &next, after_id, fn, ud, &rc);
        free(blocks.v[i].events);
    }
    free(blocks.v);
    if (!rc && !stop)
        replay_crash_note(s, params[0], after_id, fn, ud, &rc);
    return rc;
}

/* A query whose rows become the caller's records: an asset's state, or a check's
 * outcome (exactly one of the two callbacks). */
typedef struct record_query {
    eider_asset_fn asset_fn;
    eider_check_fn check_fn;
    void *ud;
    int bad;                         /* a row was damaged: why says how, row which */
    eider__buf why;
    char *row;
} record_query;

static int record_row(void *ud, const char *const *c, size_t n)
{
    record_query *q = ud;
    eider__meta_list meta;
    eider_asset_record asset;
    eider_check_record check;
    int stop = 0;
    int bad = q->asset_fn ? eider__row_asset(c, n, &asset, &meta, &q->why)
                          : eider__row_check(c, n, &check, &meta, &q->why);
    if (bad) {
        q->bad = stop = 1;
        q->row = eider__xstrdup(n && c[0] ? c[0] : "asset_key NULL");
    } else {
        stop = q->asset_fn ? q->asset_fn(&asset, q->ud) : q->check_fn(&check, q->ud);
    }
    eider__meta_list_release(&meta);
    return stop;
}

/* Run a record query on table: the store's message when a row is damaged. */
static int record_query_run(eider_store *s, const char *table, const char *sql,
                            const char *const *params, size_t n, record_query *q)
{
    int rc = eider__store_flush(s);
    if (!rc)
        rc = eider__store_query(s, sql, params, n, record_row, q);
    if (!rc && q->bad)
        rc = eider__store_damaged(s, table, q->row, eider__buf_str(&q->why));
    eider__buf_release(&q->why);
    free(q->row);
    return rc;
}

int eider_store_assets(eider_store *s, const char *key, eider_asset_fn fn, void *ud)
{
    record_query q = { .asset_fn = fn, .ud = ud };
    const char *params[] = { key };
    return record_query_run(s, "asset_state", key
        ? "SELECT a.asset_key, a.partition, m.run_id, m.time_us, m.code_version, m.metadata, "
          "a.last_run_id, a.last_failed, a.last_us, m.duration_us FROM asset_state a "
          "LEFT JOIN materializations m ON m.id = a.materialization_id WHERE a.asset_key = ? "
          "ORDER BY a.partition"
        : "SELECT a.asset_key, a.partition, m.run_id, m.time_us, m.code_version, m.metadata, "
          "a.last_run_id, a.last_failed, a.last_us, m.duration_us FROM asset_state a "
          "LEFT JOIN materializations m ON m.id = a.materialization_id "
          "ORDER BY a.asset_key, a.partition",
        params, key ? 1 : 0, &q);
}

int eider_store_history(eider_store *s, const char *key, size_t limit, eider_asset_fn fn, void *ud)
{
    char lim[24];
    record_query q = { .asset_fn = fn, .ud = ud };
    snprintf(lim, sizeof(lim), "%zu", limit ? limit : 100);
    const char *params[] = { key ? key : "", lim };
    return record_query_run(s, "materializations", "SELECT asset_key, partition, run_id, time_us, "
        "code_version, metadata, run_id, 0, time_us, duration_us FROM materializations "
        "WHERE asset_key = ? ORDER BY id DESC LIMIT ?", params, 2, &q);
}

int eider_store_checks(eider_store *s, const char *key, const char *check, int latest,
                       size_t limit, eider_check_fn fn, void *ud)
{
    char lim[24];
    record_query q = { .check_fn = fn, .ud = ud };
    eider__buf sql = { 0 };
    snprintf(lim, sizeof(lim), "%zu", limit ? limit : 100);
    const char *params[3];
    size_t n = 0;
    eider__buf_puts(&sql, "SELECT asset_key, check_name, partition, run_id, time_us, status, "
                    "severity, blocking, message, sql, metadata FROM check_results c WHERE true");
    if (key) {
        eider__buf_puts(&sql, " AND asset_key = ?");
        params[n++] = key;
    }
    if (check) {
        eider__buf_puts(&sql, " AND check_name = ?");
        params[n++] = check;
    }
    params[n++] = lim;
    if (latest)
        eider__buf_puts(&sql, " AND id = (SELECT max(id) FROM check_results l WHERE "
                        "l.asset_key = c.asset_key AND l.check_name = c.check_name AND "
                        "l.partition = c.partition)");
    eider__buf_puts(&sql, " ORDER BY id DESC LIMIT ?");
    int rc = record_query_run(s, "check_results", eider__buf_str(&sql), params, n, &q);
    eider__buf_release(&sql);
    return rc;
}

int eider_store_wipe(eider_store *s, const char *key, const char *partition, size_t *n)
{
    size_t count = 0;
    const char *params[] = { key ? key : "", partition ? partition : "" };
    size_t np = partition ? 2 : 1;
    const store_stmt wipe[] = {
        { LOCK_WRITERS, NULL, 0, NULL, NULL },
        { partition ? "DELETE FROM asset_state WHERE asset_key = ? AND partition = ? RETURNING 1"
                    : "DELETE FROM asset_state WHERE asset_key = ? RETURNING 1", params, np, &count, NULL },
        { partition ? "DELETE FROM materializations WHERE asset_key = ? AND partition = ?"
                    : "DELETE FROM materializations WHERE asset_key = ?", params, np, NULL, NULL },
        { partition ? "DELETE FROM check_results WHERE asset_key = ? AND partition = ?"
                    : "DELETE FROM check_results WHERE asset_key = ?", params, np, NULL, NULL },
    };
    int rc = eider__store_flush(s);
    if (!rc)
        rc = store_transaction(s, wipe, EIDER__ARRAY_LEN(wipe));
    if (n)
        *n = rc ? 0 : count;
    return rc;
}

int eider_store_gc(eider_store *s, double keep_days, size_t *n)
{
    char before[32];
    size_t count = 0;
    snprintf(before, sizeof(before), "%" PRId64, eider__now_us() - (int64_t)(keep_days * 86400e6));
    const char *params[] = { before };
    /* Materializations an asset's state still points at stay: the latest of each asset
     * outlives its run, as `eider list` needs it; so does each check's latest outcome. */
    const store_stmt gc[] = {
        { LOCK_WRITERS, NULL, 0, NULL, NULL },
        { "DELETE FROM event_blocks WHERE run_id IN (SELECT run_id FROM runs WHERE end_us IS NOT NULL "
          "AND end_us < ?)", params, 1, NULL, NULL },
        { "DELETE FROM materializations WHERE run_id IN (SELECT run_id FROM runs WHERE end_us IS NOT "
          "NULL AND end_us < ?) AND id NOT IN (SELECT materialization_id FROM asset_state WHERE "
          "materialization_id IS NOT NULL)", params, 1, NULL, NULL },
        { "DELETE FROM check_results WHERE run_id IN (SELECT run_id FROM runs WHERE end_us IS NOT "
          "NULL AND end_us < ?) AND id NOT IN (SELECT max(id) FROM check_results GROUP BY "
          "asset_key, check_name, partition)", params, 1, NULL, NULL },
        { "DELETE FROM runs WHERE end_us IS NOT NULL AND end_us < ? RETURNING 1", params, 1, &count, NULL },
    };
    int rc = eider__store_flush(s);
    if (!rc)
        rc = store_transaction(s, gc, EIDER__ARRAY_LEN(gc));
    if (n)
        *n = rc ? 0 : count;
    return rc;
}

/* ---- dynamic partitions ---- */

int eider_store_add_partitions(eider_store *s, const char *name, const char *const *keys,
                               size_t *n_added)
{
    eider__buf err = { 0 };
    size_t n = 0, count = 0;
    char now[24];
    while (keys && keys[n])
        n++;
    if (n_added)
        *n_added = 0;
    if (!s || !name)
        return EIDER_EINVAL;
    for (size_t i = 0; i <= n; i++)
        if (eider__partition_key_check(i < n ? keys[i] : name, &err)) {
            int rc = eider__store_error(s, EIDER_EINVAL, "dynamic partitions '%s': %s", name,
                                        eider__buf_str(&err));
            eider__buf_release(&err);
            return rc;
        }
    snprintf(now, sizeof(now), "%" PRId64, eider__now_us());
    const char **params = eider__xmalloc((n + 1) * 4 * sizeof(*params));
    store_stmt *add = eider__xmalloc((n + 1) * sizeof(*add));
    add[0] = (store_stmt){ LOCK_WRITERS, NULL, 0, NULL, NULL };
    for (size_t i = 0; i < n; i++) {
        const char **p = &params[i * 4];
        p[0] = name;
        p[1] = keys[i];
        p[2] = now;
        p[3] = name;
        add[i + 1] = (store_stmt){ "INSERT INTO dynamic_partitions (name, key, position, added_us) "
            "SELECT ?, ?, COALESCE(max(position), 0) + 1, ? FROM dynamic_partitions WHERE name = ? "
            "ON CONFLICT (name, key) DO NOTHING RETURNING 1", p, 4, &count, NULL };
    }
    int rc = eider__store_flush(s);
    if (!rc)
        rc = store_transaction(s, add, n + 1);
    if (n_added)
        *n_added = rc ? 0 : count;
    free(params);
    free(add);
    return rc;
}

typedef struct key_rows {
    char **v;
    size_t n, cap;
    eider__buf why;                  /* a damaged key: what is wrong with it */
} key_rows;

static int key_row(void *ud, const char *const *c, size_t n)
{
    key_rows *k = ud;
    if (n < 1 || eider__partition_key_check(c[0], &k->why))
        return 1;
    EIDER__GROW(k->v, k->cap, k->n + 1);
    k->v[k->n++] = eider__xstrdup(c[0]);
    return 0;
}

int eider_store_partition_keys(eider_store *s, const char *name, char ***keys, size_t *n)
{
    key_rows k = { 0 };
    const char *params[] = { name ? name : "" };
    *keys = NULL;
    *n = 0;
    if (!s)
        return EIDER_EINVAL;
    int rc = eider__store_query(s, "SELECT key FROM dynamic_partitions WHERE name = ? "
                                "ORDER BY position, key", params, 1, key_row, &k);
    if (!rc && k.why.len)
        rc = eider__store_damaged(s, "dynamic_partitions", name, eider__buf_str(&k.why));
    eider__buf_release(&k.why);
    if (rc) {
        eider__strv_free(k.v, k.n);
        return rc;
    }
    *keys = k.v;
    *n = k.n;
    return EIDER_OK;
}

int eider__store_load_dynamic(eider_store *s, eider_defs *defs)
{
    int rc = EIDER_OK;
    for (size_t i = 0; s && defs && i < defs->n_dynamic && !rc; i++) {
        char **keys = NULL;
        size_t n = 0;
        rc = eider_store_partition_keys(s, eider__partitions_dynamic_name(defs->dynamic[i]),
                                        &keys, &n);
        if (!rc)
            eider__partitions_set_keys(defs, defs->dynamic[i], keys, n);
        eider__strv_free(keys, n);
    }
    return rc;
}
