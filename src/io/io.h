/*
 * io.h — an I/O manager as a step drives it (exec/io.c): the state of one input or
 * output (struct eider_io), the methods each I/O manager gives (eider__io_ops: does its
 * stored output exist, what SQL reads it, store a source), and what exec/io.c lends
 * them. One file per I/O manager: duckdb.c, parquet.c, and custom.c for those users
 * write (eider_io_manager()).
 */
#ifndef EIDER_IO_IO_H
#define EIDER_IO_IO_H

#include "../defs/partitions.h"
#include "../duckdb/io.h"
#include "../exec/exec.h"

typedef struct eider__io_ops eider__io_ops;

struct eider_io {
    eider_context *ctx;
    const eider__asset *asset;       /* the asset whose table it is */
    const eider__resource *manager;
    const eider__io_ops *ops;        /* its I/O manager's methods */
    duckdb_connection con;
    eider__table table;
    int kind;                        /* an input's: 'T' a table, 'V' a view, 0 a file */
    char *where;                     /* the partitions' condition, or NULL */
    eider__bounds bounds;            /* how its time windows meet the time column */
    int input;                       /* it is an input of the step, not its output */
    char **keys;                     /* an input's partitions the step reads (mapped), */
    size_t n_keys;
    int all_keys;                    /* or all of them */
    int empty;                       /* its own earlier partitions, before its table exists */
    eider__buf load_sql;
    const char *const *columns;      /* an input's selected columns */
};

/* An I/O manager's methods. Each gets an io opened on its asset: its connection (to the
 * manager's database: a DuckDB file, or an in-memory one of its own), its location
 * (io->table), and for an input the partitions the step reads. */
struct eider__io_ops {
    const char *noun;                /* what it stores, in messages: "table", "Parquet file" */
    const char *container;           /* what holds an asset's partitions: "table", "folder" */
    int same_database;               /* an SQL output reads inputs of its own database only */
    /* After io is located: what else it needs (a partitions' condition); may be NULL. */
    int (*open)(eider_io *io);
    /* Whether the asset's stored output exists (sets io->kind for a DuckDB table). */
    int (*exists)(eider_io *io);
    /* An input: make io->table.quoted the relation SQL reads it through; may be NULL
     * when that is the table itself. */
    void (*relation)(eider_io *io);
    /* Store the rows of source (a SELECT on io->con), and report the write's metadata;
     * EIDER_ESTEP with the step's failure set. is_sql: the output was SQL (not a frame). */
    int (*store)(eider_io *io, const char *source, int is_sql);
    /* The output's name and where it lives, for messages. */
    const char *(*name)(const eider_io *io);
    const char *(*place)(const eider_io *io);
};

extern const eider__io_ops eider__duckdb_io_ops;
extern const eider__io_ops eider__parquet_io_ops;
extern const eider__io_ops eider__custom_io_ops;
extern const eider__io_ops eider__postgres_io_ops;

/* What exec/io.c lends the managers. How the time expression of a's partitions, over
 * relation, meets a window's bounds; set io->where to the condition of the partitions
 * the step writes (its own) or reads (an input's), over relation (NULL when it takes
 * every row); pass a write's metadata on to the step. */
eider__bounds eider__io_time_bounds(duckdb_connection con, const eider__asset *a,
                                    const char *relation);
int eider__io_partition_where(eider_io *io, const eider__asset *a, const char *relation);
void eider__io_add_meta(void *ctx, const eider_meta *m);

#endif
