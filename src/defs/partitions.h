/*
 * partitions.h — partitions definitions (static lists, time windows in a time zone,
 * several dimensions), resolving a run's partition or range into keys, and the SQL
 * condition that selects a partition's rows.
 */
#ifndef EIDER_PARTITIONS_H
#define EIDER_PARTITIONS_H

#include "defs.h"

/* The keys of p, in order, as of now (time windows up to the last complete one
 * before `end`, or before now when `end` is NULL). *keys is malloc'd, each string too;
 * free with eider__strv_free(). Returns EIDER_OK or a code with a message in err. */
int eider__partitions_keys(const eider_partitions *p, char ***keys, size_t *n, eider__buf *err);
void eider__strv_free(char **v, size_t n);

/* Resolve what the user asked for, "KEY" or "A...B" (both ends included), into keys
 * of p. An unknown key is an error that names it and the asset (with a suggestion
 * when one is close); so is a range whose start comes after its end. */
int eider__partitions_resolve(const eider_partitions *p, const char *asset_key,
                              const char *request, char ***keys, size_t *n, eider__buf *err);

/* Whether key is a key of p (a multi key "a|b" has each part checked). */
int eider__partitions_has(const eider_partitions *p, const char *key);

/* Append to sql the condition that selects the rows of the given keys:
 *   static:        (expr) IN ('a', 'b')
 *   time windows:  ((expr) >= '2024-01-01 00:00:00' AND (expr) < '2024-01-02 00:00:00') OR ...
 *                  (wall-clock times of the definition's zone: run it with the
 *                  connection's TimeZone set to eider__partitions_timezone())
 *   multi:         the dimensions' conditions joined by AND, for each key, joined by OR
 * Literals are quoted; expr is the asset author's SQL and is pasted as written.
 * partition_expr is the asset's metadata: an expression, or for a multi definition a
 * JSON object {"dimension": "expression"} naming every dimension. A missing or
 * malformed one is an error that explains what to write. */
int eider__partitions_where(const eider_partitions *p, const char *partition_expr,
                            char *const *keys, size_t n, eider__buf *sql, eider__buf *err);

/* How a time window's bounds meet the time expression, by the expression's type. */
typedef enum eider__bounds {
    EIDER__BOUNDS_WALL,              /* a TIMESTAMP or DATE: wall-clock literals */
    /* a TIMESTAMPTZ: TIMESTAMPTZ literals in UTC ((expr) >= TIMESTAMPTZ '2023-12-31
     * 23:00:00+00' AND ...), the instants the wall-clock bounds are in the definition's
     * zone, so that the condition selects the same rows whatever the session TimeZone */
    EIDER__BOUNDS_INSTANTS,
    /* text: the expression cast to TIMESTAMP, so that '2024-01-01' is in its day (and a
     * value that is no time fails the query rather than falling out of every window) */
    EIDER__BOUNDS_TEXT,
} eider__bounds;

/* The same, with the bounds chosen for the time expression's type. */
int eider__partitions_where_at(const eider_partitions *p, const char *partition_expr,
                               char *const *keys, size_t n, eider__bounds bounds,
                               eider__buf *sql, eider__buf *err);

/* Append to out the SQL expression of p's time dimension, from the asset's metadata
 * partition_expr; returns 1, or 0 (nothing appended) when p has no time dimension or
 * the metadata names none. */
int eider__partitions_time_expr(const eider_partitions *p, const char *partition_expr,
                                eider__buf *out);

/* The IANA zone of p's time dimension ("UTC" by default), or NULL when it has none. */
const char *eider__partitions_timezone(const eider_partitions *p);

/* The mapping an asset partitioned by down uses to read an upstream partitioned by
 * up: the declared one when its kind is set (checked: it must fit both definitions),
 * else the one inferred (see eider_partition_mapping in eider.h). Returns EIDER_OK with
 * *out set, or a code with a message in err that says what to declare. */
int eider__mapping_check(const eider_partitions *down, const eider_partitions *up,
                         const eider_partition_mapping *declared, eider_partition_mapping *out,
                         eider__buf *err);

/* The keys of up that keys (of down) read through m, sorted and distinct, in *up_keys
 * (malloc'd, free with eider__strv_free(); possibly none), or *all set when every
 * partition is read. Returns EIDER_OK, or a code with a message in err. */
int eider__mapping_keys(const eider_partitions *down, const eider_partitions *up,
                        const eider_partition_mapping *m, char *const *keys, size_t n,
                        char ***up_keys, size_t *n_up, int *all, eider__buf *err);

/* Whether key may be a dynamic partition key: not empty, no "...", no '|', no control
 * character. EIDER_OK, or EIDER_EINVAL with the reason in err. */
int eider__partition_key_check(const char *key, eider__buf *err);

/* What keys p has, for a message: "its partitions run from 'A' to 'B'", or why it
 * has none yet (dynamic partitions without keys say how to add them). */
void eider__partitions_span(const eider_partitions *p, eider__buf *out);

/* The store's name of dynamic partitions p (or of p's dynamic dimension), or NULL. */
const char *eider__partitions_dynamic_name(const eider_partitions *p);

/* Set the keys of dynamic partitions p (defs's, which keeps the copies), in order. */
void eider__partitions_set_keys(eider_defs *defs, const eider_partitions *p,
                                char *const *keys, size_t n);

/* A file name for key, safe on any file system: letters, digits, '-', '_' and '.'
 * kept, anything else %XX-escaped ("a|b" -> "a%7Cb"). Appended to out. */
void eider__partition_file_name(const char *key, eider__buf *out);

#endif
