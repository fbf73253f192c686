/*
 * database.c — opening each DuckDB database of a run exactly once, applying the
 * resource's connection_config, and waiting out another process's lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "database.h"
#include "redact.h"
#include "io.h"
#include "scan.h"
#include "value.h"

/* A stable name for the file: realpath of its folder plus its base name, so that
 * "a.duckdb" and "./x/../a.duckdb" are one database. */
static char *canonical_id(const eider__resource *r)
{
    char dir[PATH_MAX], real[PATH_MAX];
    eider__buf id = { 0 };
    if (strncmp(r->database, ":memory:", 8) == 0) {
        eider__buf_printf(&id, ":memory:%s", r->name);
        return eider__buf_detach(&id);
    }
    const char *slash = strrchr(r->database, '/');
    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - r->database) : 1,
             slash ? r->database : ".");
    if (slash == r->database)
        snprintf(dir, sizeof(dir), "/");
    if (realpath(dir, real))
        eider__buf_printf(&id, "%s/%s", strcmp(real, "/") ? real : "", slash ? slash + 1 : r->database);
    else if (r->database[0] != '/' && getcwd(real, sizeof(real)))
        eider__buf_printf(&id, "%s/%s", real, r->database);    /* its folder is missing */
    else
        eider__buf_puts(&id, r->database);
    return eider__buf_detach(&id);
}

static int same_config(const eider__resource *a, const eider__resource *b)
{
    size_t i = 0;
    if (a->read_only != b->read_only)
        return 0;
    for (; a->config[i] && b->config[i]; i++)
        if (strcmp(a->config[i], b->config[i]) != 0)
            return 0;
    return !a->config[i] && !b->config[i];
}

int eider__dbs_init(eider__dbs *dbs, const eider_defs *defs, double lock_timeout_s,
                    eider__db_wait_fn on_wait, void *wait_data, eider__buf *err)
{
    memset(dbs, 0, sizeof(*dbs));
    dbs->defs = defs;
    dbs->lock_timeout_s = lock_timeout_s;
    dbs->on_wait = on_wait;
    dbs->wait_data = wait_data;
    dbs->dbs = eider__xcalloc(defs->n_resources, sizeof(*dbs->dbs));
    dbs->db_of = eider__xcalloc(defs->n_resources, sizeof(*dbs->db_of));
    for (size_t i = 0; i < defs->n_resources; i++) {
        const eider__resource *r = &defs->resources[i];
        char *id = canonical_id(r);
        size_t j = 0;
        while (j < dbs->n && strcmp(dbs->dbs[j].id, id) != 0)
            j++;
        dbs->db_of[i] = j;
        if (j < dbs->n) {
            free(id);
            if (same_config(dbs->dbs[j].resource, r))
                continue;
            eider__buf_printf(err, "resources '%s' and '%s' both name the database '%s' but "
                "differ in read_only or connection_config: a file is opened once per process, "
                "so give them the same settings, or use one resource", dbs->dbs[j].resource->name,
                r->name, dbs->dbs[j].id);
            eider__dbs_release(dbs);
            return EIDER_EINVAL;
        }
        eider__db *db = &dbs->dbs[dbs->n++];
        db->id = id;
        db->resource = r;
        db->read_only = r->read_only;
        db->open_rc = 1;            /* not tried yet */
        pthread_mutex_init(&db->lock, NULL);
    }
    return EIDER_OK;
}

/* The database as a person should see it: the absolute path, or ":memory:". */
static const char *shown_name(const eider__db *db)
{
    return strncmp(db->id, ":memory:", 8) == 0 ? ":memory:" : db->id;
}

static eider__db *find_db(eider__dbs *dbs, const eider__resource *r)
{
    return &dbs->dbs[dbs->db_of[r - dbs->defs->resources]];
}

int eider__resource_secret(const eider__resource *r, size_t i)
{
    return i >= r->config_shown || eider__setting_is_secret(r->config[i]);
}

void eider__defs_secrets(const eider_defs *defs, eider__secrets *out)
{
    for (size_t k = 0; k < defs->n_resources; k++) {
        const eider__resource *r = &defs->resources[k];
        for (size_t i = 0; r->config[i] && r->config[i + 1]; i += 2)
            if (eider__resource_secret(r, i))
                eider__secrets_add(out, r->config[i + 1], strlen(r->config[i + 1]));
    }
}

static int make_config(const eider__db *db, duckdb_config *config, eider__buf *err)
{
    const eider__resource *r = db->resource;
    if (duckdb_create_config(config) == DuckDBError)
        return EIDER_ENOMEM;
    if (db->read_only)
        duckdb_set_config(*config, "access_mode", "READ_ONLY");
    for (size_t i = 0; r->config[i] && r->config[i + 1]; i += 2)
        if (duckdb_set_config(*config, r->config[i], r->config[i + 1]) == DuckDBError) {
            int secret = eider__resource_secret(r, i);
            eider__buf_printf(err, "resource '%s': DuckDB refused the setting '%s' = '%s' "
                "(in %s): check its name and value against DuckDB's configuration reference",
                r->name, r->config[i], secret ? "***" : r->config[i + 1],
                i >= r->config_shown ? "secret_config" : "connection_config");
            return EIDER_EDUCKDB;
        }
    return EIDER_OK;
}

/* DuckDB's message about db, with the values of its resource's secret settings
 * masked. */
static void put_masked(eider__buf *err, const eider__db *db, const char *msg)
{
    eider__secrets secrets = { 0 };
    const eider__resource *r = db->resource;
    for (size_t i = 0; r->config[i] && r->config[i + 1]; i += 2)
        if (eider__resource_secret(r, i))
            eider__secrets_add(&secrets, r->config[i + 1], strlen(r->config[i + 1]));
    eider__secrets_mask(&secrets, msg, err);
    eider__secrets_release(&secrets);
}

/* "IO Error: Could not set lock on file ...: Conflicting lock is held in X (PID n)..." */
static int is_lock_error(const char *msg)
{
    return msg && strstr(msg, "Could not set lock on file");
}

static void lock_holder(const char *msg, char *out, size_t size)
{
    const char *p = strstr(msg, "is held in ");
    if (!p) {
        snprintf(out, size, "another process");
        return;
    }
    p += strlen("is held in ");
    const char *pid = strstr(p, "(PID");
    const char *close = pid ? strchr(pid, ')') : NULL;
    size_t n = close ? (size_t)(close - p + 1) : strcspn(p, "\n");
    snprintf(out, size, "%.*s", (int)n, p);
}

/* One attempt; sets *locked when another process holds the file. */
static int try_open(eider__db *db, duckdb_config config, int *locked, eider__buf *err)
{
    char *msg = NULL;
    const char *path = strncmp(db->id, ":memory:", 8) == 0 ? NULL : db->resource->database;
    if (duckdb_open_ext(path, &db->handle, config, &msg) == DuckDBSuccess)
        return EIDER_OK;
    *locked = is_lock_error(msg);
    if (!*locked) {
        eider__buf_printf(err, "resource '%s': cannot open DuckDB database '%s': ",
                          db->resource->name, shown_name(db));
        put_masked(err, db, msg ? msg : "unknown error");
    } else
        eider__buf_puts(err, msg);
    duckdb_free(msg);
    db->handle = NULL;
    return EIDER_EDUCKDB;
}

static int open_waiting(eider__dbs *dbs, eider__db *db, duckdb_config config, eider__buf *err)
{
    double start = eider__mono_s(), delay_ms = 20, next_notice = 0;
    char holder[256] = "another process";
    for (;;) {
        int locked = 0;
        eider__buf_reset(err);
        int rc = try_open(db, config, &locked, err);
        if (rc == EIDER_OK || !locked)
            return rc;
        lock_holder(eider__buf_str(err), holder, sizeof(holder));
        double waited = eider__mono_s() - start;
        if (dbs->cancel && atomic_load(dbs->cancel)) {
            eider__buf_reset(err);
            eider__buf_printf(err, "canceled while waiting for database '%s', locked by %s",
                              shown_name(db), holder);
            return EIDER_ECANCELED;
        }
        if (waited >= dbs->lock_timeout_s)
            break;
        if (waited >= next_notice && dbs->on_wait) {
            eider__buf note = { 0 };
            eider__buf_printf(&note, "database '%s' is locked by %s; waiting (%.0f s of %g s)",
                              shown_name(db), holder, waited, dbs->lock_timeout_s);
            dbs->on_wait(eider__buf_str(&note), dbs->wait_data);
            eider__buf_release(&note);
            next_notice = waited + 5;
        }
        double left_ms = (dbs->lock_timeout_s - waited) * 1000;
        double sleep_ms = delay_ms * (0.5 + eider__random());
        eider__sleep_ms(sleep_ms < left_ms ? sleep_ms : left_ms);
        delay_ms = delay_ms * 2 > 1000 ? 1000 : delay_ms * 2;
    }
    eider__buf_reset(err);
    eider__buf_printf(err, "database '%s' is locked by %s, and it did not let go within %g s: "
        "wait for that process to finish or stop it, or raise --lock-timeout",
        shown_name(db), holder, dbs->lock_timeout_s);
    return EIDER_ELOCKED;
}

/* The name DuckDB gave the database's catalog, malloc'd; NULL on failure. */
static char *catalog_of(duckdb_database handle)
{
    duckdb_connection con = NULL;
    char *name = NULL;
    if (duckdb_connect(handle, &con) == DuckDBSuccess)
        name = eider__query_text(con, "SELECT current_database()");
    duckdb_disconnect(&con);
    return name;
}

static int open_db(eider__dbs *dbs, eider__db *db, eider__buf *err)
{
    duckdb_config config = NULL;
    int rc = make_config(db, &config, err);
    if (!rc)
        rc = open_waiting(dbs, db, config, err);
    if (!rc && eider__frame_scan_install(db->handle)) {
        eider__buf_printf(err, "resource '%s': cannot register the frame scan on '%s'",
                          db->resource->name, shown_name(db));
        duckdb_close(&db->handle);
        rc = EIDER_EDUCKDB;
    }
    if (!rc && !(db->catalog = catalog_of(db->handle))) {
        eider__buf_printf(err, "resource '%s': cannot read the catalog name of '%s'",
                          db->resource->name, shown_name(db));
        duckdb_close(&db->handle);
        rc = EIDER_EDUCKDB;
    }
    duckdb_destroy_config(&config);
    return rc;
}

int eider__dbs_connect(eider__dbs *dbs, const char *name, duckdb_connection *out,
                       eider__buf *err)
{
    const eider__resource *r = eider__defs_resource(dbs->defs, name);
    *out = NULL;
    if (!r) {
        eider__buf_printf(err, "unknown resource '%s': define it with "
                          "eider_duckdb_resource(defs, \"%s\", ...)", name, name);
        return EIDER_ENORESOURCE;
    }
    eider__db *db = find_db(dbs, r);
    pthread_mutex_lock(&db->lock);
    if (db->open_rc == 1) {
        eider__buf msg = { 0 };
        db->open_rc = open_db(dbs, db, &msg);
        if (db->open_rc)
            db->open_error = eider__buf_detach(&msg);
        eider__buf_release(&msg);
    }
    int rc = db->open_rc;
    pthread_mutex_unlock(&db->lock);
    if (rc) {
        eider__buf_puts(err, db->open_error);
        return rc;
    }
    if (duckdb_connect(db->handle, out) == DuckDBError) {
        eider__buf_printf(err, "resource '%s': cannot connect to '%s'", r->name, shown_name(db));
        return EIDER_EDUCKDB;
    }
    return EIDER_OK;
}

void eider__dbs_release(eider__dbs *dbs)
{
    for (size_t i = 0; i < dbs->n; i++) {
        eider__db *db = &dbs->dbs[i];
        if (db->handle)
            duckdb_close(&db->handle);
        pthread_mutex_destroy(&db->lock);
        free(db->id);
        free(db->catalog);
        free(db->open_error);
    }
    free(dbs->dbs);
    free(dbs->db_of);
    memset(dbs, 0, sizeof(*dbs));
}

const char *eider__dbs_name(const eider__dbs *dbs, const char *resource)
{
    const eider__resource *r = eider__defs_resource(dbs->defs, resource);
    return r ? shown_name(&dbs->dbs[dbs->db_of[r - dbs->defs->resources]]) : "";
}

const char *eider__dbs_catalog(const eider__dbs *dbs, const char *resource)
{
    const eider__resource *r = eider__defs_resource(dbs->defs, resource);
    return r ? dbs->dbs[dbs->db_of[r - dbs->defs->resources]].catalog : NULL;
}

int eider__dbs_same(const eider__dbs *dbs, const char *a, const char *b)
{
    const eider__resource *ra = eider__defs_resource(dbs->defs, a);
    const eider__resource *rb = eider__defs_resource(dbs->defs, b);
    return ra && rb && dbs->db_of[ra - dbs->defs->resources] == dbs->db_of[rb - dbs->defs->resources];
}
