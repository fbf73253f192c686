/*
 * postgres.c — the PostgreSQL I/O manager: each asset's output the table schema.table
 * of a PostgreSQL database (named by the DuckDB I/O manager's rules), for publishing
 * results where an application reads them. A write runs in one PostgreSQL transaction:
 * the table replaced whole (DROP and CREATE: readers see the old one or the new one),
 * or a partitioned asset's partitions deleted, then the rows sent with COPY FROM STDIN
 * as CSV, which DuckDB makes from the output in the manager's in-memory database and
 * writes into a FIFO that a thread sends on as it comes (the two work at once). An
 * input is copied out (COPY TO STDOUT) into a table of that database, which frames and
 * SQL then read. Every identifier is quoted; the connection string's password never
 * reaches a message.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "../duckdb/value.h"
#include "../store/store.h"

#define COPY_CHUNK (1 << 16)

/* ---- PostgreSQL ---- */

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;                   /* NOTICE: schema "s" already exists, skipping */
}

/* io's table in PostgreSQL: "schema"."table". */
static void pg_table(const eider_io *io, eider__buf *out)
{
    eider__buf_sql_ident(out, io->table.schema);
    eider__buf_putc(out, '.');
    eider__buf_sql_ident(out, io->table.table);
}

/* libpq's message without its last newline. */
static const char *pg_message(const char *msg, eider__buf *out)
{
    eider__buf_reset(out);
    eider__buf_puts(out, msg ? msg : "");
    while (out->len && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == ' '))
        out->data[--out->len] = '\0';
    return eider__buf_str(out);
}

static int pg_fail(eider_io *io, const char *sql, const char *what, const char *msg)
{
    eider__buf text = { 0 };
    eider__ctx_fail(io->ctx, sql, "asset '%s': %s in PostgreSQL (I/O manager '%s'): %s",
                    io->asset->key, what, io->manager->name, pg_message(msg, &text));
    eider__buf_release(&text);
    return EIDER_ESTEP;
}

/* A connection to the manager's database; NULL with the step's failure set. */
static PGconn *pg_connect(eider_io *io)
{
    PGconn *db = PQconnectdb(io->manager->conninfo);
    if (PQstatus(db) == CONNECTION_OK) {
        PQsetNoticeProcessor(db, quiet, NULL);
        return db;
    }
    char *shown = eider__postgres_redact(io->manager->conninfo);
    eider__buf text = { 0 };
    eider__ctx_fail(io->ctx, NULL, "asset '%s': I/O manager '%s' cannot connect to PostgreSQL "
                    "at %s: %s", io->asset->key, io->manager->name, shown ? shown : "?",
                    pg_message(PQerrorMessage(db), &text));
    eider__buf_release(&text);
    free(shown);
    PQfinish(db);
    return NULL;
}

/* Run one statement; EIDER_ESTEP with the failure set. */
static int pg_exec(eider_io *io, PGconn *db, const char *sql, const char *what)
{
    PGresult *res = PQexec(db, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? EIDER_OK
           : pg_fail(io, sql, what, PQresultErrorMessage(res));
    PQclear(res);
    return rc;
}

/* ---- types ---- */

/* The PostgreSQL type of a DuckDB column type, into out; 0 when it has none. */
static int pg_type_of(const char *t, eider__buf *out)
{
    static const char *const map[][2] = {
        { "BOOLEAN", "boolean" }, { "TINYINT", "smallint" }, { "UTINYINT", "smallint" },
        { "SMALLINT", "smallint" }, { "USMALLINT", "integer" }, { "INTEGER", "integer" },
        { "UINTEGER", "bigint" }, { "BIGINT", "bigint" }, { "UBIGINT", "numeric" },
        { "HUGEINT", "numeric" }, { "UHUGEINT", "numeric" }, { "FLOAT", "real" },
        { "DOUBLE", "double precision" }, { "VARCHAR", "text" }, { "DATE", "date" },
        { "TIME", "time" }, { "TIMESTAMP", "timestamp" }, { "TIMESTAMP_S", "timestamp" },
        { "TIMESTAMP_MS", "timestamp" }, { "TIMESTAMP_NS", "timestamp" },
        { "TIMESTAMP WITH TIME ZONE", "timestamptz" }, { "INTERVAL", "interval" },
        { "UUID", "uuid" }, { "BLOB", "bytea" }, { "JSON", "jsonb" },
    };
    for (size_t i = 0; i < EIDER__ARRAY_LEN(map); i++)
        if (strcmp(t, map[i][0]) == 0) {
            eider__buf_puts(out, map[i][1]);
            return 1;
        }
    if (strncmp(t, "DECIMAL(", 8) == 0 && strspn(t + 8, "0123456789,)") == strlen(t + 8)) {
        eider__buf_printf(out, "numeric%s", t + 7);
        return 1;
    }
    return 0;
}

/* The DuckDB type that reads a PostgreSQL column of type oid, as PostgreSQL's CSV
 * writes it (anything not listed is read as text). */
static const char *duck_type_of(Oid oid)
{
    switch (oid) {
    case 16: return "BOOLEAN";
    case 20: return "BIGINT";
    case 21: return "SMALLINT";
    case 23: return "INTEGER";
    case 700: return "FLOAT";
    case 701: return "DOUBLE";
    case 1700: return "DOUBLE";
    case 1082: return "DATE";
    case 1083: return "TIME";
    case 1114: return "TIMESTAMP";
    case 1184: return "TIMESTAMP WITH TIME ZONE";
    case 1186: return "INTERVAL";
    case 2950: return "UUID";
    default: return "VARCHAR";
    }
}

/* ---- the output's columns, in DuckDB ---- */

/* The columns of source, as DuckDB describes them; the step's failure set if not. */
static int source_columns(eider_io *io, const char *source, eider__coldescs *c)
{
    eider__buf err = { 0 };
    int rc = eider__source_columns(io->con, source, c, &err);
    if (rc)
        eider__ctx_fail(io->ctx, source, "asset '%s': %s", io->asset->key, eider__buf_str(&err));
    eider__buf_release(&err);
    return rc;
}

/* CREATE TABLE's column list, and the SELECT list that gives DuckDB's CSV of those
 * columns as PostgreSQL reads them (a BLOB as \x and its hex digits). */
static int column_lists(eider_io *io, const eider__coldescs *c, eider__buf *create,
                        eider__buf *select)
{
    for (size_t i = 0; i < c->n; i++) {
        const eider__coldesc *col = &c->v[i];
        eider__buf_puts(create, i ? ", " : "(");
        eider__buf_sql_ident(create, col->name);
        eider__buf_putc(create, ' ');
        if (!pg_type_of(col->type, create))
            return eider__ctx_fail(io->ctx, NULL, "asset '%s': column '%s' is %s, which the "
                "PostgreSQL I/O manager cannot store: cast it in the output (to VARCHAR, or to "
                "JSON for a nested value)", io->asset->key, col->name, col->type);
        eider__buf_puts(select, i ? ", " : "SELECT ");
        if (strcmp(col->type, "BLOB") == 0) {
            eider__buf_puts(select, "'\\x' || hex(");
            eider__buf_sql_ident(select, col->name);
            eider__buf_puts(select, ") AS ");
        }
        eider__buf_sql_ident(select, col->name);
    }
    eider__buf_puts(create, ")");
    return EIDER_OK;
}

/* ---- scratch files ---- */

/* A private folder for a COPY's data, and path "<folder>/rows.csv" in it (a FIFO when
 * fifo is set). */
static int scratch(eider_io *io, char *dir, size_t dir_size, char *path, size_t size, int fifo)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, dir_size, "%s/eider-pg-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        *dir = '\0';
        return eider__ctx_fail(io->ctx, NULL, "asset '%s': cannot make a scratch folder for "
                               "PostgreSQL's COPY: %s", io->asset->key, strerror(errno));
    }
    snprintf(path, size, "%s/rows.csv", dir);
    if (fifo && mkfifo(path, 0600))
        return eider__ctx_fail(io->ctx, NULL, "asset '%s': cannot make a FIFO for PostgreSQL's "
                               "COPY: %s", io->asset->key, strerror(errno));
    return EIDER_OK;
}

static void scratch_remove(const char *dir, const char *path)
{
    if (!*dir)
        return;
    unlink(path);
    rmdir(dir);
}

/* ---- storing ---- */

/* The statements of a write that come before its rows, in its transaction. */
static int pg_prepare(eider_io *io, PGconn *db, const char *table, const char *create)
{
    eider__buf sql = { 0 };
    int rc = pg_exec(io, db, "BEGIN", "beginning a write");
    eider__buf_puts(&sql, "CREATE SCHEMA IF NOT EXISTS ");
    eider__buf_sql_ident(&sql, io->table.schema);
    if (!rc)
        rc = pg_exec(io, db, eider__buf_str(&sql), "creating the schema");
    eider__buf_reset(&sql);
    if (io->where)
        eider__buf_printf(&sql, "CREATE TABLE IF NOT EXISTS %s %s", table, create);
    else
        eider__buf_printf(&sql, "DROP TABLE IF EXISTS %s; CREATE TABLE %s %s", table, table, create);
    if (!rc)
        rc = pg_exec(io, db, eider__buf_str(&sql), "creating the table");
    eider__buf_reset(&sql);
    eider__buf_printf(&sql, "DELETE FROM %s WHERE %s", table, io->where);
    if (!rc && io->where)
        rc = pg_exec(io, db, eider__buf_str(&sql), "deleting the partitions' rows");
    eider__buf_release(&sql);
    return rc;
}

/* The thread that sends what DuckDB writes into the FIFO on to COPY, as it comes; once
 * COPY refuses, it still reads to the end, so that DuckDB never waits on a full pipe. */
typedef struct feeder {
    PGconn *db;
    const char *fifo;
    int sent_all;
    atomic_int done;
} feeder;

static void *feed(void *arg)
{
    feeder *f = arg;
    char buf[COPY_CHUNK];
    ssize_t n;
    int fd = open(f->fifo, O_RDONLY | O_CLOEXEC);
    f->sent_all = fd >= 0;
    while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            f->sent_all = 0;
            break;
        }
        if (f->sent_all && PQputCopyData(f->db, buf, (int)n) != 1)
            f->sent_all = 0;
    }
    if (fd >= 0)
        close(fd);
    atomic_store(&f->done, 1);
    return NULL;
}

/* Wake the feeder once DuckDB is done, whatever it did: a writer that opens and closes
 * the FIFO ends a read, or an open that still waits for a writer. */
static void finish_feed(feeder *f, pthread_t thread)
{
    while (!atomic_load(&f->done)) {
        int w = open(f->fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (w >= 0)
            close(w);
        usleep(1000);
    }
    pthread_join(thread, NULL);
}

static int write_csv(eider_io *io, const char *source, const char *select_list, const char *path);

/* COPY the output's rows in: DuckDB writes their CSV into the FIFO while a thread sends
 * it on. COPY ends with an error when DuckDB or the sending failed, so nothing of a
 * failed write is kept. */
static int pg_copy(eider_io *io, PGconn *db, const char *copy, const char *fifo,
                   const char *source, const char *select, int64_t *rows)
{
    feeder f = { .db = db, .fifo = fifo };
    pthread_t thread;
    PGresult *res = PQexec(db, copy);
    int rc = PQresultStatus(res) == PGRES_COPY_IN ? EIDER_OK
           : pg_fail(io, copy, "writing", PQresultErrorMessage(res));
    PQclear(res);
    if (rc)
        return rc;
    if (pthread_create(&thread, NULL, feed, &f)) {
        PQputCopyEnd(db, "no thread to send the rows");
        return eider__ctx_fail(io->ctx, NULL, "asset '%s': cannot start a thread to send its "
                               "rows to PostgreSQL", io->asset->key);
    }
    int written = write_csv(io, source, select, fifo);
    finish_feed(&f, thread);
    PQputCopyEnd(db, !written && f.sent_all ? NULL : "the output's rows could not be made");
    res = PQgetResult(db);
    if (!written && PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = pg_fail(io, copy, "writing", PQresultErrorMessage(res));
    *rows = written || rc ? 0 : strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    while ((res = PQgetResult(db)))
        PQclear(res);
    return written ? written : rc;
}

/* The output as CSV at path (the FIFO): DuckDB's COPY of the SELECT of its columns. */
static int write_csv(eider_io *io, const char *source, const char *select_list, const char *path)
{
    eider__buf select = { 0 }, sql = { 0 }, err = { 0 };
    eider__buf_printf(&select, "%s FROM %s", select_list, source);
    eider__buf_puts(&sql, "COPY (");
    if (io->where)
        eider__io_checked_source(io->asset->key, eider__buf_str(&select), io->where, &sql);
    else
        eider__buf_puts(&sql, eider__buf_str(&select));
    eider__buf_puts(&sql, ") TO ");
    eider__buf_sql_literal(&sql, path);
    eider__buf_puts(&sql, " (FORMAT csv, HEADER false, USE_TMP_FILE false)");
    int rc = eider__exec(io->con, eider__buf_str(&sql), &err);
    if (rc)
        eider__ctx_fail(io->ctx, eider__buf_str(&sql), "asset '%s': %s", io->asset->key,
                        eider__buf_str(&err));
    eider__buf_release(&select);
    eider__buf_release(&sql);
    eider__buf_release(&err);
    return rc ? EIDER_ESTEP : EIDER_OK;
}

/* The write's metadata: the DuckDB side's columns and preview of the output, and where
 * it went. */
static int pg_metadata(eider_io *io, const char *source, int64_t rows, void *user_data)
{
    eider__buf table = { 0 }, load = { 0 }, relation = { 0 };
    char *shown = eider__postgres_redact(io->manager->conninfo);
    (void)user_data;
    eider__buf_printf(&relation, "(%s)", source);
    eider__io_metadata(io->con, NULL, eider__buf_str(&relation), NULL, rows, eider__io_add_meta,
                       io->ctx);
    eider__buf_printf(&table, "%s.%s", io->table.schema, io->table.table);
    eider__buf_puts(&load, "SELECT * FROM ");
    pg_table(io, &load);
    if (io->where)
        eider__buf_printf(&load, " WHERE %s", io->where);
    eider_meta m[] = { EIDER_META_TEXT("table", eider__buf_str(&table)),
                       EIDER_META_TEXT("database", shown ? shown : "?"),
                       EIDER_META_TEXT("load_query", eider__buf_str(&load)) };
    for (size_t i = 0; i < EIDER__ARRAY_LEN(m); i++)
        eider__io_add_meta(io->ctx, &m[i]);
    free(shown);
    eider__buf_release(&table);
    eider__buf_release(&load);
    eider__buf_release(&relation);
    return EIDER_OK;
}

static int pg_store(eider_io *io, const char *source, int64_t *rows, void *user_data)
{
    eider__coldescs c = { 0 };
    eider__buf create = { 0 }, select = { 0 }, relation = { 0 }, columns = { 0 }, table = { 0 };
    eider__buf copy = { 0 };
    char dir[4096] = "", path[4200] = "";
    PGconn *db = NULL;
    (void)user_data;
    *rows = 0;
    eider__buf_printf(&relation, "(%s)", source);
    pg_table(io, &table);
    int rc = io->where ? eider__io_partition_where(io, io->asset, eider__buf_str(&relation)) : 0;
    if (!rc)
        rc = source_columns(io, eider__buf_str(&relation), &c);
    if (!rc)
        rc = column_lists(io, &c, &create, &select);
    if (!rc)
        rc = scratch(io, dir, sizeof(dir), path, sizeof(path), 1);
    if (!rc && !(db = pg_connect(io)))
        rc = EIDER_ESTEP;
    for (size_t i = 0; i < c.n; i++) {
        eider__buf_puts(&columns, i ? ", " : "(");
        eider__buf_sql_ident(&columns, c.v[i].name);
    }
    eider__buf_printf(&copy, "COPY %s %s) FROM STDIN WITH (FORMAT csv)", eider__buf_str(&table),
                      eider__buf_str(&columns));
    if (!rc)
        rc = pg_prepare(io, db, eider__buf_str(&table), eider__buf_str(&create));
    if (!rc)
        rc = pg_copy(io, db, eider__buf_str(&copy), path, eider__buf_str(&relation),
                     eider__buf_str(&select), rows);
    if (!rc)
        rc = pg_exec(io, db, "COMMIT", "committing the write");
    else if (db)
        PQclear(PQexec(db, "ROLLBACK"));
    scratch_remove(dir, path);
    PQfinish(db);
    eider__columns_release(&c);
    eider__buf_release(&create);
    eider__buf_release(&select);
    eider__buf_release(&relation);
    eider__buf_release(&columns);
    eider__buf_release(&table);
    eider__buf_release(&copy);
    return rc ? EIDER_ESTEP : EIDER_OK;
}

/* ---- loading ---- */

/* io's table as PostgreSQL names it ("schema"."table", for messages), and for a
 * partitioned asset the condition of the partitions concerned. */
static int pg_open(eider_io *io, void *user_data)
{
    eider__buf name = { 0 };
    (void)user_data;
    pg_table(io, &name);
    free(io->table.quoted);
    io->table.quoted = eider__buf_detach(&name);
    return eider__io_partition_where(io, io->asset, io->table.quoted);
}

static int pg_exists(eider_io *io, void *user_data)
{
    eider__buf table = { 0 };
    PGconn *db = pg_connect(io);
    int exists = 0;
    (void)user_data;
    pg_table(io, &table);
    if (db) {
        const char *params[] = { eider__buf_str(&table) };
        PGresult *res = PQexecParams(db, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, params,
                                     NULL, NULL, 0);
        exists = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
                 strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
    }
    PQfinish(db);
    eider__buf_release(&table);
    return exists;
}

/* COPY the input's rows (its partitions read) out of PostgreSQL into the file at path;
 * its columns, as read_csv()'s columns argument, into spec. */
static int copy_out(eider_io *io, PGconn *db, const char *path, eider__buf *spec)
{
    eider__buf sql = { 0 };
    eider__buf_puts(&sql, "SELECT * FROM ");
    pg_table(io, &sql);
    eider__buf_printf(&sql, " WHERE %s", io->where ? io->where : "true");
    PGresult *res = PQexec(db, eider__buf_str(&sql));      /* its columns, no rows */
    int rc = PQresultStatus(res) == PGRES_TUPLES_OK ? EIDER_OK
           : pg_fail(io, eider__buf_str(&sql), "reading", PQresultErrorMessage(res));
    eider__buf_puts(spec, "{");
    for (int i = 0; !rc && i < PQnfields(res); i++) {
        eider__buf_puts(spec, i ? ", " : "");
        eider__buf_sql_literal(spec, PQfname(res, i));
        eider__buf_printf(spec, ": '%s'", duck_type_of(PQftype(res, i)));
    }
    eider__buf_puts(spec, "}");
    PQclear(res);
    if (rc) {
        eider__buf_release(&sql);
        return rc;
    }
    eider__buf copy = { 0 };
    eider__buf_printf(&copy, "COPY (%s) TO STDOUT WITH (FORMAT csv)", eider__buf_str(&sql));
    res = PQexec(db, eider__buf_str(&copy));
    rc = PQresultStatus(res) == PGRES_COPY_OUT ? EIDER_OK
       : pg_fail(io, eider__buf_str(&copy), "reading", PQresultErrorMessage(res));
    PQclear(res);
    FILE *f = rc ? NULL : fopen(path, "wb");
    char *data = NULL;
    int n;
    while (!rc && (n = PQgetCopyData(db, &data, 0)) > 0) {
        if (f && fwrite(data, 1, (size_t)n, f) != (size_t)n) {
            fclose(f);
            f = NULL;
        }
        PQfreemem(data);
    }
    if (!rc && (!f || fclose(f) != 0))
        rc = eider__ctx_fail(io->ctx, NULL, "asset '%s': cannot write the scratch file %s",
                             io->asset->key, path);
    while ((res = PQgetResult(db))) {
        if (!rc && PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = pg_fail(io, eider__buf_str(&copy), "reading", PQresultErrorMessage(res));
        PQclear(res);
    }
    eider__buf_release(&sql);
    eider__buf_release(&copy);
    return rc;
}

/* The input copied out of PostgreSQL into a table of the manager's in-memory DuckDB
 * database (visible to every connection of the step), which it is read through. */
static char *pg_input(eider_io *io, void *user_data)
{
    static atomic_uint copies;
    eider__buf spec = { 0 }, sql = { 0 }, name = { 0 }, err = { 0 };
    char dir[4096] = "", path[4200] = "";
    PGconn *db = pg_connect(io);
    int rc = db ? scratch(io, dir, sizeof(dir), path, sizeof(path), 0) : EIDER_ESTEP;
    (void)user_data;
    if (!rc)
        rc = copy_out(io, db, path, &spec);
    eider__buf_printf(&name, "\"eider postgres\".\"%u\"", atomic_fetch_add(&copies, 1));
    eider__buf_printf(&sql, "CREATE SCHEMA IF NOT EXISTS \"eider postgres\"; CREATE TABLE %s AS "
                      "SELECT * FROM read_csv(", eider__buf_str(&name));
    eider__buf_sql_literal(&sql, path);
    eider__buf_printf(&sql, ", header = false, auto_detect = false, allow_quoted_nulls = false, "
                      "columns = %s)", eider__buf_str(&spec));
    if (!rc && eider__exec(io->con, eider__buf_str(&sql), &err))
        rc = eider__ctx_fail(io->ctx, eider__buf_str(&sql), "asset '%s': reading input '%s' "
                             "copied from PostgreSQL: %s", io->ctx->asset->key, io->asset->key,
                             eider__buf_str(&err));
    free(io->where);                 /* its partitions were read in PostgreSQL */
    io->where = NULL;
    scratch_remove(dir, path);
    PQfinish(db);
    eider__buf_release(&spec);
    eider__buf_release(&sql);
    eider__buf_release(&err);
    if (rc)
        eider__buf_release(&name);
    return rc ? NULL : eider__buf_detach(&name);
}

static char *pg_describe(eider_io *io, void *user_data)
{
    eider__buf b = { 0 };
    (void)user_data;
    eider__buf_printf(&b, "PostgreSQL table %s in '%s'", io->table.quoted, io->manager->name);
    return eider__buf_detach(&b);
}

const eider_io_manager_def eider__postgres_io_methods = {
    .exists = pg_exists, .relation = pg_input, .store = pg_store, .open = pg_open,
    .metadata = pg_metadata, .describe = pg_describe, .flags = EIDER_IO_LOCAL_RELATION,
};
