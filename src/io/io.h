/*
 * io.h — an I/O manager as a step drives it (exec/io.c): the state of one input or
 * output (struct eider_io), which every manager's methods get, and what exec/io.c
 * lends the built-in ones. An I/O manager is the public eider_io_manager_def; the
 * built-in ones are in duckdb.c, parquet.c and postgres.c (managers.h), and they read
 * the struct below where a user's manager has the public accessors.
 */
#ifndef EIDER_IO_IO_H
#define EIDER_IO_IO_H

#include "managers.h"
#include "../defs/partitions.h"
#include "../duckdb/io.h"
#include "../exec/exec.h"

struct eider_io {
    eider_context *ctx;
    const eider__asset *asset;       /* the asset whose table it is */
    const eider__resource *manager;
    const eider_io_manager_def *methods;   /* its I/O manager's (manager->methods) */
    duckdb_connection con;
    eider__table table;
    int kind;                        /* an input's: 'T' a table, 'V' a view, 0 a file */
    char *where;                     /* the partitions' condition, or NULL */
    eider__bounds bounds;            /* how its time windows meet the time column */
    int input;                       /* it is an input of the step, not its output */
    int is_sql;                      /* an output: the rows stored come from SQL, not a frame */
    char **keys;                     /* an input's partitions the step reads (mapped), */
    size_t n_keys;
    int all_keys;                    /* or all of them */
    int empty;                       /* its own earlier partitions, before its table exists */
    eider__buf load_sql;
    const char *const *columns;      /* an input's selected columns */
};

/* What exec/io.c lends the managers. How the time expression of a's partitions, over
 * relation, meets a window's bounds; set io->where to the condition of the partitions
 * the step writes (its own) or reads (an input's), over relation (NULL when it takes
 * every row); pass a write's metadata on to the step. */
eider__bounds eider__io_time_bounds(duckdb_connection con, const eider__asset *a,
                                    const char *relation);
int eider__io_partition_where(eider_io *io, const eider__asset *a, const char *relation);
void eider__io_add_meta(void *ctx, const eider_meta *m);

#endif
