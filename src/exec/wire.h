/*
 * wire.h — the bytes two processes of a run pass each other (the run worker's events,
 * the plan a launched worker runs): fixed-size numbers in this machine's order, and
 * strings as a length, their bytes and a NUL, read in place. Both ends are one build
 * of libeider on one machine, so nothing here is portable across them, nor need be.
 */
#ifndef EIDER_WIRE_H
#define EIDER_WIRE_H

#include <stdint.h>

#include "../util/util.h"

/* A string longer than this is cut. */
#define EIDER__WIRE_FIELD_MAX (16u << 20)

void eider__put_u32(eider__buf *b, uint32_t v);
void eider__put_i64(eider__buf *b, int64_t v);
void eider__put_f64(eider__buf *b, double v);
/* 0 for NULL, else its length + 1, its bytes and a NUL. */
void eider__put_str(eider__buf *b, const char *s);

/* Fields read from p up to end; bad is set (and zeros read) once one runs past end. */
typedef struct eider__reader {
    const char *p, *end;
    int bad;
} eider__reader;

void eider__get(eider__reader *rd, void *v, size_t n);
uint32_t eider__get_u32(eider__reader *rd);
int64_t eider__get_i64(eider__reader *rd);
double eider__get_f64(eider__reader *rd);
/* A string in place (valid while the bytes are), or NULL for NULL or when bad. */
const char *eider__get_str(eider__reader *rd);

#endif
