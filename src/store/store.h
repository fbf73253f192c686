/*
 * store.h — the instance store inside libeider: one methods struct that each backend
 * (SQLite, PostgreSQL) fills, and the store that runs the same SQL through it —
 * migrations, recording runs and events in batches, and the queries behind the CLI.
 *
 * The SQL is written once, with '?' for parameters (the PostgreSQL backend numbers
 * them); parameters and results travel as text, NULL for NULL.
 */
#ifndef EIDER_STORE_H
#define EIDER_STORE_H

#include <pthread.h>

#include "../defs/defs.h"

/* A result row: n columns as text, NULL for NULL. Return nonzero to stop. */
typedef int (*eider__row_fn)(void *user_data, const char *const *cols, size_t n);

typedef struct eider__store_methods {
    const char *name;                /* "sqlite", "postgresql" */
    /* Run one statement with params; rows go to row (may be NULL). On error, the
     * message into err and EIDER_EIO. */
    int (*query)(void *conn, const char *sql, const char *const *params, size_t n_params,
                 eider__row_fn row, void *user_data, eider__buf *err);
    /* Start a transaction that will write (SQLite: BEGIN IMMEDIATE, so two writers
     * queue instead of failing), commit it, or roll it back. */
    int (*begin)(void *conn, eider__buf *err);
    int (*commit)(void *conn, eider__buf *err);
    void (*rollback)(void *conn);
    void (*close)(void *conn);
    /* The schema, one entry per version: migrations[v - 1] takes version v - 1 to v.
     * NULL-terminated. */
    const char *const *migrations;
    /* Run first in a migration's transaction so that two processes migrate one after
     * the other (PostgreSQL: a table lock), or NULL when begin() already serializes
     * writers (SQLite's BEGIN IMMEDIATE). */
    const char *migration_lock;
} eider__store_methods;

/* Open a backend; on error the message in err. */
int eider__sqlite_open(const char *path, void **conn, eider__buf *err);
/* Open an existing SQLite store to read it only (EIDER_ENOTFOUND when there is none).
 * A process that may not make files beside it (below) makes none, and still reads it. */
int eider__sqlite_open_readonly(const char *path, void **conn, eider__buf *err);
/* Whether this process may make files beside the SQLite store at path (its -wal and
 * -shm) without harm: it exists, this process may write it and its folder, and is its
 * owner or root (SQLite gives root's files to the database's owner), so that what it
 * makes stays writable by the owner. */
int eider__sqlite_may_make_files(const char *path);
/* Connect to conninfo: a postgresql:// (or postgres://) URL or a key=value string. */
int eider__postgres_open(const char *conninfo, void **conn, eider__buf *err);
/* Whether s is a PostgreSQL connection string that libpq parses: a postgresql:// or
 * postgres:// URL, or a key=value string. When a URL or a string with '=' is not one,
 * libpq's reason goes to why (if not NULL), with the values it quotes masked (an
 * unknown option's or URL parameter's name is shown). */
int eider__postgres_accepts(const char *s, eider__buf *why);
/* conninfo as it may be shown, rebuilt from what libpq parses in it (so that every
 * spelling of a key counts): a URL stays a URL and key=value pairs stay pairs, with
 * host, port, dbname, user and the other settings, but no password (nor any option
 * libpq marks secret). Any other text is masked as well as can be: a URL libpq cannot
 * parse (or of another scheme) keeps its user, host and path only; unparsed key=value
 * text its keys; a "...@host" its host. malloc'd. */
char *eider__postgres_redact(const char *conninfo);
extern const eider__store_methods eider__sqlite_methods;
extern const eider__store_methods eider__postgres_methods;

/* One run's events waiting to be written, as the JSON array that event_blocks stores
 * (the closing bracket is added when it is written). */
typedef struct eider__block {
    char *run_id;
    int64_t first;                   /* the run's number of its first event, from 1 */
    size_t n;                        /* events */
    size_t n_mats;                   /* materialization rows its events made */
    int64_t mat_base;                /* their ids are mat_base + 1.. (set when written) */
    eider__buf json;                 /* without its closing bracket */
} eider__block;

/* A row the batch adds to materializations, or a failure: both update asset_state. */
typedef struct eider__asset_row {
    size_t block;                    /* the block of its event */
    const char *asset_key, *partition, *code_version, *metadata;
    int64_t time_us, id;             /* id: the materialization's, set when written */
    int64_t duration_us;             /* its step's */
    int failed;
} eider__asset_row;

/* A row the batch adds to check_results. */
typedef struct eider__check_row {
    size_t block;                    /* the block of its event */
    const char *asset_key, *check_name, *partition, *status, *severity, *message, *sql;
    const char *metadata;
    int64_t time_us;
    int blocking;
} eider__check_row;

/* What waits for the writer; strings live in the arena. */
typedef struct eider__batch {
    eider__block *blocks;
    size_t n_blocks, cap_blocks;
    eider__asset_row *rows;
    size_t n_rows, cap_rows;
    eider__check_row *checks;
    size_t n_checks, cap_checks;
    size_t n_events;
    size_t bytes;                    /* about what it holds in memory */
    unsigned tries;                  /* writes that failed */
    eider__arena arena;
} eider__batch;

/* What of a run could not be recorded: its events' numbers (sorted ranges once
 * eider__missing_sort() ran) and its materializations, the first few named. */
typedef struct eider__missing {
    int64_t (*ranges)[2];
    size_t n_ranges, cap_ranges;
    size_t n_events, n_mats;
    eider__buf names;                /* "'a', 'b' [2024-01-01]" */
    size_t n_named;
} eider__missing;

struct eider_store {
    const eider__store_methods *m;
    void *conn;
    char *location;
    eider__buf errmsg;
    int missing;                     /* read-only, and none there yet: reads find nothing */
    pthread_mutex_t lock;            /* one caller at a time on conn */

    /* Recording (recorder.c): events wait in pending[] and a writer thread writes them
     * in batches, so that steps never wait for the disk. Locks are taken in the order
     * write_lock, queue_lock or lock. */
    pthread_mutex_t queue_lock;      /* guards pending[], last_flush, stopping */
    pthread_mutex_t write_lock;      /* one batch written at a time, in order */
    pthread_cond_t wake;             /* the writer's: a full batch, or stop */
    eider__batch pending;
    double last_flush;
    pthread_t writer;
    int writer_started, stopping;
    atomic_uint write_failures;      /* batches that failed (written under queue_lock) */
    eider__buf write_err;            /* the latest one's message (under queue_lock) */
    char **failed_runs;              /* the runs whose events they held (under queue_lock) */
    size_t n_failed_runs, cap_failed_runs;

    /* Batches whose write failed, oldest first: kept (up to HOLD_BYTES with pending)
     * and written before anything newer, again and again with a growing pause
     * (recorder.c). The array under write_lock; its count, bytes and the time of the
     * next try also under queue_lock, which changes them with it. */
    eider__batch *held;
    size_t n_held, cap_held, held_bytes;
    double retry_at, backoff;

    /* The runs being recorded, whose leases the writer thread renews (under queue_lock). */
    struct eider__recorder **leases;
    size_t n_leases, cap_leases;
};

/* Set the store's message; returns code. */
int eider__store_error(eider_store *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A row function that reads the first column as an integer into *(int64_t *)ud (0
 * when NULL). */
int eider__read_i64(void *ud, const char *const *cols, size_t n);

/* Run one statement under the store's lock; on error the message on the store. */
int eider__store_query(eider_store *s, const char *sql, const char *const *params, size_t n,
                       eider__row_fn row, void *user_data);
/* Read the keys of defs's dynamic partitions from s into them. */
int eider__store_load_dynamic(eider_store *s, eider_defs *defs);
/* Mark the started runs whose lease ran out as crashed, with a note on their row. */
int eider__store_mark_crashed(eider_store *s);
/* Metadata as JSON {"key": {"type": "int", "value": 3}}; free() it. */
char *eider__meta_to_json(const eider_meta *m, size_t n);

/* Records one run into a store, then passes each event on to next (recorder.c). Set
 * store, next, launched_by and tags; the rest starts zeroed. While the run goes on,
 * the store's writer thread renews its lease (runs.lease_until_us) every lease_s / 12
 * seconds; it lasts lease_s ($EIDER_RUN_LEASE_S, default 60). A write that fails is
 * retried while the run goes on and, at its end, for up to $EIDER_STORE_RETRY_S
 * (default 60); then what is missing is told to next (one error line). */
typedef struct eider__recorder {
    eider_store *store;
    int64_t n_events;                /* numbered so far: the next event's number - 1 */
    unsigned failures_seen;          /* the store's write_failures when last asked */
    int started;                     /* its runs row was written */
    const eider_event_sink *next;
    const char *launched_by;
    const char *const *tags;
    int failed;                      /* a write failed: told to next once */
    char *run_id;                    /* while it runs */
    double lease_s, renewed;         /* the lease's length, and when its renewal was last due */
    double renewed_ok;               /* when it was last renewed (eider__mono_s(), queue_lock) */
    eider__missing unkept;           /* events dropped with HOLD_BYTES held (under queue_lock) */
    int incomplete;                  /* after its end: its record lacks something */
    const eider_atomic_int *cancel;  /* set: the wait for the store at the end stops */
    char *missing;                   /* after its end: what the store lacks (malloc'd), or NULL */
    char *selection, *partition;     /* its run_start's, to make its row again (see below) */
    int64_t start_us;
    int recreated;                   /* its row was deleted while it ran, and made again */
} eider__recorder;

/* A sink that records through r (which must outlive the run). */
void eider__recorder_sink(eider__recorder *r, eider_event_sink *out);
/* After the run: what r still holds, when its run_end never came (its lease is no
 * longer renewed; the run shows as crashed once it runs out). */
void eider__recorder_release(eider__recorder *r);
/* Write buffered events now. */
int eider__store_flush(eider_store *s);
/* Stop the writer thread, writing what is buffered (eider_store_close). */
void eider__store_stop_writer(eider_store *s);
/* Free the batches still held (eider_store_close, after the last try) and the leases. */
void eider__store_release_held(eider_store *s);
/* Free what a batch holds and leave it empty. */
void eider__batch_release(eider__batch *b);

/* Status of every asset (status.c), for eider list and the selection's stale(). */
int eider__store_status(eider_store *s, const eider_defs *defs, eider_asset_status *out);

/* The same for a run's partitions: partition (a key or a range "A...B"), or every
 * partition with all. A partitioned asset that has them is never materialized when one
 * of them has no materialization, failed when one's latest try failed; an asset that
 * does not have them, and every unpartitioned one, as eider__store_status() says. */
int eider__store_status_at(eider_store *s, const eider_defs *defs, const char *partition,
                           int all, eider_asset_status *out);

/* out[i] (n_assets bytes) gets 1 when asset i has a successful materialization (of
 * one partition at least), 0 when it never had one or every try failed. */
int eider__store_materialized(eider_store *s, const eider_defs *defs, unsigned char *out);

#endif
