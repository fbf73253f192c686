/*
 * database.h — the DuckDB databases of a run: exactly one duckdb_database per file per
 * process, opened on first use and shared by every step's connection (DESIGN §3), with
 * a jittered wait while another process holds the file's lock.
 */
#ifndef EIDER_DATABASE_H
#define EIDER_DATABASE_H

#include <pthread.h>

#include "../defs/defs.h"

typedef struct eider__db {
    char *id;                        /* canonical path, or ":memory:<resource>" */
    const eider__resource *resource; /* the first resource naming it: its config wins */
    int read_only;                   /* only when every resource naming it is read-only */
    duckdb_database handle;          /* NULL until opened */
    char *catalog;                   /* DuckDB's name for it ("iris" for iris.duckdb) */
    int open_rc;                     /* the result of the one attempt to open it */
    char *open_error;
    pthread_mutex_t lock;
} eider__db;

/* Told when an open must wait for another process's lock (for a log line). */
typedef void (*eider__db_wait_fn)(const char *message, void *user_data);

typedef struct eider__dbs {
    eider__db *dbs;
    size_t n;
    size_t *db_of;                   /* resource index -> index into dbs */
    const eider_defs *defs;
    double lock_timeout_s;
    const eider_atomic_int *cancel;     /* a wait for a lock ends when it turns nonzero */
    eider__db_wait_fn on_wait;
    void *wait_data;
} eider__dbs;

/* Plan a database for every resource of defs; nothing is opened yet. Two resources
 * naming one file must agree on read_only and connection_config, since the file is
 * opened once: otherwise returns EIDER_EINVAL with a message in err (and nothing to
 * release). */
int eider__dbs_init(eider__dbs *dbs, const eider_defs *defs, double lock_timeout_s,
                    eider__db_wait_fn on_wait, void *wait_data, eider__buf *err);
/* A new connection to the database of resource `name`, opening it if needed. On
 * error returns a code and writes a message naming the resource into err. */
int eider__dbs_connect(eider__dbs *dbs, const char *name, duckdb_connection *out,
                       eider__buf *err);
/* The database of a resource as a person should see it (its absolute path, or
 * ":memory:"); "" for an unknown resource. */
const char *eider__dbs_name(const eider__dbs *dbs, const char *resource);
/* The catalog name DuckDB gives the database of resource `name` (what qualifies its
 * tables as "catalog"."schema"."table"); NULL until a connection has opened it. */
const char *eider__dbs_catalog(const eider__dbs *dbs, const char *resource);
/* Whether two resources share one database. */
int eider__dbs_same(const eider__dbs *dbs, const char *a, const char *b);
/* Close every database. */
void eider__dbs_release(eider__dbs *dbs);

struct eider__secrets;
/* Whether setting i (a name's index in r->config) holds a secret: it came from
 * secret_config, or its name says so (eider__setting_is_secret). */
int eider__resource_secret(const eider__resource *r, size_t i);
/* Add the values of every secret setting of defs's resources to out. */
void eider__defs_secrets(const eider_defs *defs, struct eider__secrets *out);

#endif
