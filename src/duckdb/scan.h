/*
 * scan.h — frames inside DuckDB: the table function that scans a frame in place, the
 * names SQL may use for frames (scopes), and results read into frames.
 */
#ifndef EIDER_SCAN_H
#define EIDER_SCAN_H

#include "frame.h"

#define EIDER__SCAN_FUNCTION "eider_frame_scan"

/* Names for frames, visible to SQL issued on this thread while the scope is pushed.
 * Inner scopes hide outer ones. A zeroed scope is empty and ready. */
typedef struct eider__frame_scope {
    eider_frame_ref *refs;           /* names are copied */
    size_t n, cap;
    struct eider__frame_scope *outer;
} eider__frame_scope;

void eider__scope_add(eider__frame_scope *s, const char *name, const eider_frame *f);
void eider__scope_push(eider__frame_scope *s);
void eider__scope_pop(eider__frame_scope *s);
/* Pop (if pushed) and free the scope's names; its frames are not freed. */
void eider__scope_release(eider__frame_scope *s);

/* Register the scan function and the replacement scan on a database, once after it
 * is opened. */
int eider__frame_scan_install(duckdb_database db);
/* Append "SELECT * FROM eider_frame_scan(<f>)" for f, which a scope must hold while
 * the query runs. */
void eider__frame_scan_sql(const eider_frame *f, eider__buf *sql);

/* Run each of the n queries (slices of one relation, with the same columns) on con,
 * one at a time, into one new frame: DuckDB holds one slice's result at a time, not the
 * whole table beside the frame. */
eider_frame *eider__frame_query_slices(duckdb_connection con, const char *const *sqls, size_t n);
/* Run sql on con and read its result into a new frame. */
eider_frame *eider__frame_query(duckdb_connection con, const char *sql);

/* A connection to the process's private in-memory database for frame SQL. */
duckdb_connection eider__scratch_connect(void);

#endif
