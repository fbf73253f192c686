/*
 * sqlite.c — the instance store's SQLite backend: one database file in WAL mode, so
 * readers never block the writer; writers queue on BEGIN IMMEDIATE under a generous
 * busy timeout, so two Eider processes never fail with "database is locked". A thread
 * of the connection's own copies the WAL back into the database (a checkpoint) when it
 * grows, so that the writer never stops for it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#define BUSY_TIMEOUT_MS 60000
#define CACHED 16                    /* prepared statements kept per connection */
#define CHECKPOINT_PAGES 256         /* 1 MB of WAL: early enough to overlap the writes */

/* The checkpointer: started by the first commit that leaves CHECKPOINT_PAGES in the
 * WAL, it runs PASSIVE checkpoints on a connection of its own, which never block the
 * writer, and stops when the connection closes (whose close checkpoints the rest). */
typedef struct checkpointer {
    char *path;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int started, wanted, stop;
} checkpointer;

typedef struct sqlite_conn {
    sqlite3 *db;
    struct { char *sql; sqlite3_stmt *stmt; } cache[CACHED];
    size_t next;                     /* the slot to replace next */
    checkpointer ckpt;
} sqlite_conn;

static const char *const migrations[] = {
    /* 1: runs, events, materializations and each asset's state */
    "CREATE TABLE runs (run_id TEXT PRIMARY KEY, status TEXT NOT NULL, selection TEXT,"
    " partition TEXT, launched_by TEXT, tags TEXT, host TEXT, pid INTEGER, pid_start TEXT,"
    " start_us INTEGER NOT NULL, end_us INTEGER, n_succeeded INTEGER NOT NULL DEFAULT 0,"
    " n_failed INTEGER NOT NULL DEFAULT 0, n_skipped INTEGER NOT NULL DEFAULT 0,"
    " n_canceled INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX runs_by_start ON runs (start_us DESC);"
    "CREATE INDEX runs_by_status ON runs (status, start_us DESC);"
    "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL,"
    " type TEXT NOT NULL, time_us INTEGER NOT NULL, asset_key TEXT, attempt INTEGER,"
    " duration_s REAL, level TEXT, message TEXT, sql TEXT, metadata TEXT);"
    "CREATE INDEX events_by_run ON events (run_id, id);"
    "CREATE TABLE materializations (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " asset_key TEXT NOT NULL, partition TEXT NOT NULL, run_id TEXT NOT NULL,"
    " time_us INTEGER NOT NULL, code_version TEXT, metadata TEXT);"
    "CREATE INDEX materializations_by_asset ON materializations (asset_key, partition, id);"
    "CREATE INDEX materializations_by_run ON materializations (run_id, asset_key);"
    "CREATE TABLE asset_state (asset_key TEXT NOT NULL, partition TEXT NOT NULL,"
    " materialization_id INTEGER, last_run_id TEXT, last_failed INTEGER NOT NULL DEFAULT 0,"
    " last_us INTEGER, PRIMARY KEY (asset_key, partition));",
    /* 2: a run's events as JSON arrays, a row per batch instead of a row per event
     * (one row per asset is what a run must cost); a materialization's event points at
     * it by id, so materializations need no index by run; ids come from a counter, so
     * that the writer knows them before it inserts and none is given twice */
    "CREATE TABLE event_blocks (run_id TEXT NOT NULL, first INTEGER NOT NULL, n INTEGER NOT NULL,"
    " mat_base INTEGER NOT NULL DEFAULT 0, events TEXT NOT NULL, PRIMARY KEY (run_id, first));"
    "INSERT INTO event_blocks (run_id, first, n, mat_base, events)"
    " SELECT e.run_id, row_number() OVER (PARTITION BY e.run_id ORDER BY e.id), 1,"
    " COALESCE((SELECT m.id - 1 FROM materializations m WHERE e.type = 'materialization'"
    " AND m.run_id = e.run_id AND m.asset_key = e.asset_key ORDER BY m.id LIMIT 1), 0),"
    " json_array(json_patch(json_object('type', e.type, 'time_us', e.time_us), json_object("   /* a merge patch drops the NULLs */
    " 'asset_key', e.asset_key, 'attempt', e.attempt, 'duration_us', CAST(round(e.duration_s * 1e6) AS INTEGER),"
    " 'level', e.level, 'message', e.message, 'sql', e.sql, 'metadata', json(e.metadata),"
    " 'materialization', CASE WHEN e.type = 'materialization' AND EXISTS (SELECT 1 FROM"
    " materializations m WHERE m.run_id = e.run_id AND m.asset_key = e.asset_key) THEN 1 END)))"
    " FROM events e;"
    "DROP TABLE events;"
    "DROP INDEX materializations_by_run;"
    "CREATE TABLE id_counters (name TEXT PRIMARY KEY, last INTEGER NOT NULL);"
    "INSERT INTO id_counters SELECT 'materializations', max(COALESCE(max(id), 0),"
    " COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'materializations'), 0))"
    " FROM materializations;",
    /* 3: the keys of dynamic partitions, in the order they were added */
    "CREATE TABLE dynamic_partitions (name TEXT NOT NULL, key TEXT NOT NULL,"
    " position INTEGER NOT NULL, added_us INTEGER NOT NULL, PRIMARY KEY (name, key));",
    /* 4: a run's lease (until when its process is known alive: the recorder renews it)
     * and a note on its row (why it was marked crashed). A run started before has none:
     * it gets ten minutes from now to end or be marked crashed, as store.c says. */
    "ALTER TABLE runs ADD COLUMN lease_until_us INTEGER;"
    "ALTER TABLE runs ADD COLUMN note TEXT;"
    "UPDATE runs SET lease_until_us = CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)"
    " + 600000000 WHERE status = 'started';",
    /* 5: how long the step that made a materialization took (for the asset's history,
     * without reading its run's events); NULL for those recorded before */
    "ALTER TABLE materializations ADD COLUMN duration_us INTEGER;",
    /* 6: asset checks' outcomes, a row per check, run and partition ("" when
     * unpartitioned), for an asset's latest check status and each check's history */
    "CREATE TABLE check_results (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " asset_key TEXT NOT NULL, check_name TEXT NOT NULL, partition TEXT NOT NULL,"
    " run_id TEXT NOT NULL, time_us INTEGER NOT NULL, status TEXT NOT NULL,"
    " severity TEXT NOT NULL, blocking INTEGER NOT NULL, message TEXT, sql TEXT, metadata TEXT);"
    "CREATE INDEX check_results_by_asset ON check_results (asset_key, check_name, id);"
    "CREATE INDEX check_results_by_run ON check_results (run_id);",
    NULL,
};

static int exec_simple(sqlite3 *db, const char *sql, eider__buf *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return EIDER_OK;
    eider__buf_printf(err, "%s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return EIDER_EIO;
}

static void *checkpoint_main(void *arg)
{
    checkpointer *k = arg;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(k->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
        /* Read the header: until then the connection does not know the WAL is there. */
        sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
    }
    pthread_mutex_lock(&k->lock);
    while (!k->stop) {
        if (!k->wanted) {
            pthread_cond_wait(&k->wake, &k->lock);
            continue;
        }
        k->wanted = 0;
        pthread_mutex_unlock(&k->lock);
        /* A failure (another process's checkpoint, a reader's old snapshot) only
         * leaves the WAL longer; the next commit asks again. */
        sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&k->lock);
    }
    pthread_mutex_unlock(&k->lock);
    sqlite3_close(db);
    return NULL;
}

/* After each commit: wake the checkpointer when the WAL has grown long. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    checkpointer *k = arg;
    (void)db;
    (void)name;
    if (pages < CHECKPOINT_PAGES)
        return SQLITE_OK;
    pthread_mutex_lock(&k->lock);
    if (!k->started && !k->stop)
        k->started = pthread_create(&k->thread, NULL, checkpoint_main, k) == 0;
    k->wanted = 1;
    pthread_cond_signal(&k->wake);
    pthread_mutex_unlock(&k->lock);
    return SQLITE_OK;
}

static void checkpointer_stop(checkpointer *k)
{
    pthread_mutex_lock(&k->lock);
    k->stop = 1;
    pthread_cond_signal(&k->wake);
    pthread_mutex_unlock(&k->lock);
    if (k->started)
        pthread_join(k->thread, NULL);
    pthread_mutex_destroy(&k->lock);
    pthread_cond_destroy(&k->wake);
    free(k->path);
}

/* Make the store at path if it is missing, private to its owner (it holds previews
 * of every table): its folders 0700 and the file 0600, less what the umask takes
 * away. SQLite gives the -wal and -shm it makes beside it the file's mode. */
static int make_private(const char *path, eider__buf *err)
{
    int fd = -1;
    if (eider__mkdir_parents_mode(path, 0700, err))
        return EIDER_EIO;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) {
        eider__buf_printf(err, "cannot create the instance store '%s': %s", path, strerror(errno));
        return EIDER_EIO;
    }
    if (fd >= 0)
        close(fd);
    return EIDER_OK;
}

/* Every page's cells checked as SQLite reads it: without, a damaged page reads as no
 * rows or odd ones (an asset "never materialized", a run that starts and then cannot
 * be recorded); with, the read fails with "database disk image is malformed". Costs
 * little, and only pages read are checked. */
#define CHECK_PAGES "PRAGMA cell_size_check = ON;"

/* Open path to write (made with its folder if missing), or to read only. */
static int open_db(const char *path, int read_only, void **out, eider__buf *err)
{
    sqlite_conn *c = eider__xcalloc(1, sizeof(*c));
    int rc = read_only ? EIDER_OK : make_private(path, err);
    int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    c->ckpt.path = eider__xstrdup(path);
    pthread_mutex_init(&c->ckpt.lock, NULL);
    pthread_cond_init(&c->ckpt.wake, NULL);
    *out = NULL;
    if (!rc && sqlite3_open_v2(path, &c->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        eider__buf_printf(err, "cannot open the instance store '%s': %s", path,
                          c->db ? sqlite3_errmsg(c->db) : "out of memory");
        rc = EIDER_EIO;
    }
    if (!rc && read_only) {
        sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);   /* the WAL mode is the file's already */
        rc = exec_simple(c->db, CHECK_PAGES, err);
    } else if (!rc) {
        sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
        rc = exec_simple(c->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                                "PRAGMA cache_size = -32768; " CHECK_PAGES, err);
    }
    if (rc) {
        sqlite3_close(c->db);
        checkpointer_stop(&c->ckpt);
        free(c);
        return rc;
    }
    sqlite3_wal_hook(c->db, on_wal_commit, &c->ckpt);     /* in place of auto-checkpoints */
    *out = c;
    return EIDER_OK;
}

int eider__sqlite_open(const char *path, void **out, eider__buf *err)
{
    struct stat st;
    /* SQLite would open it read-only all the same, and make its -wal and -shm as this
     * user before the first write fails: files that stop its owner's next write. */
    if (stat(path, &st) == 0 && eaccess(path, W_OK) != 0) {
        *out = NULL;
        eider__buf_printf(err, "cannot write the instance store '%s': this user (uid %u) may not "
                          "write it (%s; its owner is uid %u); run as its owner, or point "
                          "EIDER_HOME (or EIDER_STORAGE) at a store of your own", path,
                          (unsigned)geteuid(), strerror(errno), (unsigned)st.st_uid);
        return EIDER_EIO;
    }
    return open_db(path, 0, out, err);
}

/* ---- reading another user's store ----
 * SQLite reads a database in WAL mode through its -wal and -shm files, and makes them
 * when they are missing, even on a read-only connection (a store closed cleanly has
 * neither). A file made by another user is that user's, with the database's mode: its
 * owner could no longer write the store ("attempt to write a readonly database"), and
 * in a folder the reader may not write, the read fails instead. So a process that is
 * neither the store's owner nor root (whose files SQLite gives to the database's
 * owner) never makes a file beside it: it reads through a VFS that opens the
 * database and its -wal read-only and never creates them, with readonly_shm=1 (the
 * -shm is never made either), and with immutable=1 when there is no -wal, since then
 * the database file holds every commit (as documented for read-only WAL databases).
 * Such a reader takes no lock: one that overlaps the owner's next checkpoint may read a
 * page half copied (an error, or an odd answer once), and never harms the store. */

static void close_conn(void *conn);

int eider__sqlite_may_make_files(const char *path)
{
    struct stat st;
    char *dir = eider__xstrdup(path), *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    int ok = stat(path, &st) == 0 && (geteuid() == 0 || geteuid() == st.st_uid)
          && eaccess(path, W_OK) == 0 && eaccess(slash ? dir : ".", W_OK) == 0;
    free(dir);
    return ok;
}

static sqlite3_vfs *base_vfs;
static sqlite3_vfs readonly_vfs;
static pthread_once_t readonly_vfs_once = PTHREAD_ONCE_INIT;

/* Open the database, its journal or its -wal read-only, never made; temporary files
 * (a large sort's) as asked. */
static int readonly_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
                         int *out_flags)
{
    (void)vfs;
    if (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_WAL))
        flags = (flags & ~(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_READONLY;
    return base_vfs->xOpen(base_vfs, name, f, flags, out_flags);
}

static void readonly_vfs_register(void)
{
    base_vfs = sqlite3_vfs_find(NULL);
    if (!base_vfs)
        return;
    readonly_vfs = *base_vfs;        /* its methods, and its pAppData, which they read */
    readonly_vfs.zName = "eider-readonly";
    readonly_vfs.pNext = NULL;
    readonly_vfs.xOpen = readonly_open;
    sqlite3_vfs_register(&readonly_vfs, 0);
}

/* "file:PATH?mode=ro&readonly_shm=1[&immutable=1]", the path %-encoded. */
static char *readonly_uri(const char *path, int immutable)
{
    eider__buf uri = { 0 };
    eider__buf_printf(&uri, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
            || strchr("/._~-", *p))
            eider__buf_printf(&uri, "%c", *p);
        else
            eider__buf_printf(&uri, "%%%02X", *p);
    }
    eider__buf_printf(&uri, "?mode=ro&readonly_shm=1%s", immutable ? "&immutable=1" : "");
    return eider__buf_detach(&uri);
}

static int exists_beside(const char *path, const char *suffix)
{
    eider__buf name = { 0 };
    eider__buf_printf(&name, "%s%s", path, suffix);
    int found = access(eider__buf_str(&name), F_OK) == 0;
    eider__buf_release(&name);
    return found;
}

/* Open path as a process that must make no file beside it. */
static int open_without_making(const char *path, void **out, eider__buf *err)
{
    int wal = exists_beside(path, "-wal");
    if (wal && !exists_beside(path, "-shm")) {
        eider__buf_printf(err, "cannot read the instance store '%s' here: it was not closed "
                          "cleanly (its -wal file is there without its -shm file), and reading it "
                          "would make a -shm file that this user may not make, or that its owner "
                          "could not write; run any eider command as its owner, which tidies it, "
                          "then try again", path);
        return EIDER_EIO;
    }
    pthread_once(&readonly_vfs_once, readonly_vfs_register);
    sqlite_conn *c = eider__xcalloc(1, sizeof(*c));
    char *uri = readonly_uri(path, !wal);
    int rc = EIDER_OK;
    c->ckpt.path = eider__xstrdup(path);
    pthread_mutex_init(&c->ckpt.lock, NULL);
    pthread_cond_init(&c->ckpt.wake, NULL);
    if (sqlite3_open_v2(uri, &c->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                        base_vfs ? readonly_vfs.zName : NULL) != SQLITE_OK) {
        eider__buf_printf(err, "cannot open the instance store '%s': %s", path,
                          c->db ? sqlite3_errmsg(c->db) : "out of memory");
        rc = EIDER_EIO;
    }
    free(uri);
    if (!rc)
        rc = exec_simple(c->db, CHECK_PAGES, err);
    if (rc) {
        close_conn(c);
        return rc;
    }
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    *out = c;
    return EIDER_OK;
}

int eider__sqlite_open_readonly(const char *path, void **out, eider__buf *err)
{
    *out = NULL;
    if (access(path, F_OK) != 0 && errno != ENOENT) {
        eider__buf_printf(err, "cannot reach the instance store '%s': %s (a store is private to "
                          "the user who made it: its folder 0700, its files 0600)", path,
                          strerror(errno));
        return EIDER_EIO;
    }
    if (access(path, F_OK) != 0) {
        eider__buf_printf(err, "there is no instance store at '%s'", path);
        return EIDER_ENOTFOUND;
    }
    return eider__sqlite_may_make_files(path) ? open_db(path, 1, out, err)
                                              : open_without_making(path, out, err);
}

/* A prepared statement for sql, from the cache (keyed by the text) or new. */
static sqlite3_stmt *prepare(sqlite_conn *c, const char *sql, int *cached, eider__buf *err)
{
    sqlite3_stmt *stmt = NULL;
    for (size_t i = 0; i < CACHED; i++)
        if (c->cache[i].sql && strcmp(c->cache[i].sql, sql) == 0) {
            *cached = 1;
            return c->cache[i].stmt;
        }
    if (sqlite3_prepare_v2(c->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        eider__buf_printf(err, "%s", sqlite3_errmsg(c->db));
        return NULL;
    }
    *cached = 0;
    return stmt;
}

/* Keep stmt for next time, in place of the oldest. */
static void keep(sqlite_conn *c, const char *sql, sqlite3_stmt *stmt)
{
    size_t i = c->next++ % CACHED;
    sqlite3_finalize(c->cache[i].stmt);
    free(c->cache[i].sql);
    c->cache[i].sql = eider__xstrdup(sql);
    c->cache[i].stmt = stmt;
}

static int query(void *conn, const char *sql, const char *const *params, size_t n_params,
                 eider__row_fn row, void *ud, eider__buf *err)
{
    sqlite_conn *c = conn;
    const char *cols[64];
    int cached = 0, rc = EIDER_OK, step;
    if (!n_params && !row && strchr(sql, ';'))
        return exec_simple(c->db, sql, err);     /* several statements: a migration */
    sqlite3_stmt *stmt = prepare(c, sql, &cached, err);
    if (!stmt)
        return EIDER_EIO;
    for (size_t i = 0; i < n_params; i++)
        sqlite3_bind_text(stmt, (int)i + 1, params[i], -1, SQLITE_STATIC);
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        int n = sqlite3_column_count(stmt);
        for (int i = 0; i < n && i < 64; i++)
            cols[i] = (const char *)sqlite3_column_text(stmt, i);
        if (row && row(ud, cols, (size_t)(n < 64 ? n : 64)))
            break;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        eider__buf_printf(err, "%s", sqlite3_errmsg(c->db));
        rc = EIDER_EIO;
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (!cached)
        keep(c, sql, stmt);
    return rc;
}

static int begin(void *conn, eider__buf *err)
{
    return exec_simple(((sqlite_conn *)conn)->db, "BEGIN IMMEDIATE", err);
}

static int commit(void *conn, eider__buf *err)
{
    return exec_simple(((sqlite_conn *)conn)->db, "COMMIT", err);
}

static void rollback(void *conn)
{
    sqlite3_exec(((sqlite_conn *)conn)->db, "ROLLBACK", NULL, NULL, NULL);
}

static void close_conn(void *conn)
{
    sqlite_conn *c = conn;
    if (!c)
        return;
    for (size_t i = 0; i < CACHED; i++) {
        sqlite3_finalize(c->cache[i].stmt);
        free(c->cache[i].sql);
    }
    checkpointer_stop(&c->ckpt);
    sqlite3_close(c->db);
    free(c);
}

const eider__store_methods eider__sqlite_methods = {
    .name = "sqlite",
    .query = query,
    .begin = begin,
    .commit = commit,
    .rollback = rollback,
    .close = close_conn,
    .migrations = migrations,
};
