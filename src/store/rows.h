/*
 * rows.h — reading what the instance store holds without trusting it: anyone who may
 * write the store (a shared PostgreSQL database, a copied SQLite file) may have put
 * anything in it. Each function checks one kind of row and says what is wrong with it,
 * so that a damaged row gives a message instead of a crash; they touch no store, so
 * that a fuzz target (tests/fuzz/fuzz_store_rows.c) can call them on any bytes.
 */
#ifndef EIDER_STORE_ROWS_H
#define EIDER_STORE_ROWS_H

#include <jansson.h>

#include "../defs/defs.h"

/* The latest time a row may hold: 9999-12-31, in microseconds since 1970. */
#define EIDER__ROW_MAX_US INT64_C(253402300799999999)

/* Text as a whole decimal integer in [min, max] into *out. NULL reads as 0 when
 * null_ok. Returns 0, or -1 (and *out 0) for anything else. */
int eider__row_int(const char *text, int64_t min, int64_t max, int null_ok, int64_t *out);

/* The schema version the store holds (max(version) of eider_schema: NULL when it holds
 * none, which is version 0). Returns 0, or -1 with why's message when it is not a
 * version: not a number, negative, or too large for any Eider. */
int eider__row_version(const char *text, int64_t *out, eider__buf *why);

/* A row of runs (run_id, status, selection, partition, launched_by, tags, start_us,
 * end_us, n_succeeded, n_failed, n_skipped, n_canceled) into *out, whose strings point
 * into c. Returns 0, or -1 with why's message. */
int eider__row_run(const char *const *c, size_t n, eider_run_record *out, eider__buf *why);

/* A row of event_blocks (first, n, mat_base, events), its events left as text. */
typedef struct eider__stored_block {
    int64_t first, n, mat_base;
    char *events;                    /* malloc'd */
} eider__stored_block;

/* Check a block's numbers: events first..first+n-1 (from 1, not overlapping the ones
 * before, which end below next), and a materialization base >= 0. Returns 0, or -1
 * with why's message. */
int eider__row_block(const eider__stored_block *b, int64_t next, eider__buf *why);

/* Where a block's events go in the run's numbering, given next (the number after the
 * block before it): its own numbers *id and *n when they are sound, else the one number
 * next, for the one error line in its place. Returns the next block's next, which
 * never overflows. */
int64_t eider__row_block_place(const eider__stored_block *b, int64_t next, int64_t *id, int64_t *n);

/* A block's events: its text as a JSON array of n objects. Returns the array (free
 * with json_decref), or NULL with why's message. Repairs stray bytes in place first. */
json_t *eider__row_events(char *text, int64_t n, eider__buf *why);

/* The names of eider_meta_type's values, as metadata JSON stores them. */
extern const char *const eider__meta_type_names[7];

/* One stored event into *ev (its strings point into e, type and time_us checked).
 * Returns 0, or -1 with why's message. Metadata is not read here. */
int eider__row_event(json_t *e, eider_event *ev, eider__buf *why);

/* Metadata stored as JSON, {"key": {"type": "int", "value": 3}}, back into entries.
 * An entry that is damaged (no known type, a value of the wrong kind) is kept as TEXT
 * saying so; text that is not a JSON object gives one such entry. */
typedef struct eider__meta_list {
    eider_meta *v;
    size_t n;
    json_t *root;
} eider__meta_list;
void eider__row_meta(const char *text, eider__meta_list *out);
void eider__meta_list_release(eider__meta_list *m);

/* A row of check_results (asset_key, check_name, partition, run_id, time_us, status,
 * severity, blocking, message, sql, metadata) into *out, its metadata into meta
 * (release it even on error). Returns 0, or -1 with why's message. */
int eider__row_check(const char *const *c, size_t n, eider_check_record *out,
                     eider__meta_list *meta, eider__buf *why);
/* A check status or severity by name; -1 when unknown. */
int eider__check_status_parse(const char *name);
int eider__check_severity_parse(const char *name);

/* A row of asset_state joined with its materialization (asset_key, partition, run_id,
 * time_us, code_version, metadata, last_run_id, last_failed, last_us) into *out, its
 * metadata into meta (release it even on error). Returns 0, or -1 with why's message. */
int eider__row_asset(const char *const *c, size_t n, eider_asset_record *out,
                     eider__meta_list *meta, eider__buf *why);

/* Set the store's message for a damaged row of table (row names it, or NULL; why says
 * what is wrong) and return EIDER_EIO (store.c). */
int eider__store_damaged(eider_store *s, const char *table, const char *row, const char *why);

/* What to do about a backend's message, when Eider knows (a SQLite file that is not a
 * database, a disk I/O error, a store this user may not write), else NULL. */
const char *eider__store_advice(const char *msg);

#endif
