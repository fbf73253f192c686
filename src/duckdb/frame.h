/*
 * frame.h — the inside of eider_frame: typed columns of fixed-width values with a
 * validity bitmap, and text stored back to back, NUL-terminated, behind offsets. The
 * layout is DuckDB's for fixed-width values and validity (so a chunk copies in one
 * memcpy) and near Arrow's, so exports share buffers where they can.
 */
#ifndef EIDER_FRAME_H
#define EIDER_FRAME_H

#define EIDER_BUILDING_LIBRARY 1
#include "eider.h"
#include "../util/util.h"

typedef struct eider__column {
    char *name;
    eider_type type;
    int width, scale;                /* DECIMAL */
    /* Values: BOOLEAN uint8_t (0/1), INTEGER and DATE int32_t, BIGINT, DECIMAL and
     * TIMESTAMP(_TZ) int64_t, DOUBLE double; VARCHAR int64_t offsets into text, one per
     * row plus one: row r is text + offsets[r], offsets[r + 1] - offsets[r] - 1 bytes
     * long, NUL-terminated. */
    void *data;
    char *text;                      /* VARCHAR */
    size_t text_len, text_cap;
    /* Bit r of valid[r / 64] is set when row r is not NULL. NULL: no NULLs. */
    uint64_t *valid;
    size_t cap;                      /* rows data (and valid) can hold */
} eider__column;

struct eider_frame {
    eider__column *cols;
    size_t n_cols, cap_cols;
    size_t n_rows;
    size_t next_col;                 /* building by rows: the column of the next value */
};

/* Bytes per value of a column of type (VARCHAR: its offsets, 8). */
size_t eider__type_size(eider_type type);

/* Make room for rows more rows in every column. */
void eider__frame_reserve(eider_frame *f, size_t rows);
/* Mark row r of c NULL (allocating the bitmap, all valid, when needed). */
void eider__column_set_null(eider__column *c, size_t r);
/* Append text (n bytes) as the next value of c; the caller counts the row. */
void eider__column_push_text(eider__column *c, size_t row, const char *s, size_t n);

static inline int eider__column_valid(const eider__column *c, size_t r)
{
    return !c->valid || (c->valid[r / 64] >> (r % 64)) & 1;
}

/* Set the calling thread's eider_frame_error() message. Returns NULL, for `return`. */
void *eider__frame_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
