/*
 * util.h — the small things every layer uses: one allocation wrapper, a growable
 * string buffer with a size cap, an arena for strings that live as long as their
 * owner, a string-keyed hash index, clocks and random numbers.
 */
#ifndef EIDER_UTIL_H
#define EIDER_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

#define EIDER__ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation: abort with a message on out-of-memory (as git's xmalloc does); the
 * library has no meaningful way to go on without memory. */
void *eider__xmalloc(size_t n);
void *eider__xcalloc(size_t count, size_t size);
void *eider__xrealloc(void *p, size_t n);
char *eider__xstrdup(const char *s);
/* Grow *p (holding *cap elements of size) to hold at least need elements. */
void eider__grow(void **p, size_t *cap, size_t need, size_t size);
#define EIDER__GROW(p, cap, need) eider__grow((void **)&(p), &(cap), (need), sizeof(*(p)))

/* A growable, NUL-terminated string buffer. Appends past `max` (0: 64 MiB) are cut
 * and set `truncated`. A zeroed buffer is empty and ready. */
typedef struct eider__buf {
    char *data;
    size_t len, cap, max;
    int truncated;
} eider__buf;

void eider__buf_release(eider__buf *b);
void eider__buf_reset(eider__buf *b);
void eider__buf_add(eider__buf *b, const char *s, size_t n);
void eider__buf_puts(eider__buf *b, const char *s);
void eider__buf_putc(eider__buf *b, char c);
void eider__buf_printf(eider__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void eider__buf_vprintf(eider__buf *b, const char *fmt, va_list ap);
/* The contents as a C string ("" for an empty buffer); valid until the next change. */
const char *eider__buf_str(const eider__buf *b);
/* Take the contents (caller frees) and leave the buffer empty. */
char *eider__buf_detach(eider__buf *b);
/* Append s as an SQL identifier "s" / literal 's', quotes doubled. */
void eider__buf_sql_ident(eider__buf *b, const char *s);
void eider__buf_sql_literal(eider__buf *b, const char *s);
/* Append s as one word for a POSIX shell, in a hint to type: quoted always, in single
 * quotes ('it'\''s'), or (_word) as it is when that is safe. */
void eider__buf_shell_quote(eider__buf *b, const char *s);
void eider__buf_shell_word(eider__buf *b, const char *s);
/* Append s (at most its first max bytes) as a JSON string, quoted and escaped; a byte
 * that is not valid UTF-8 becomes U+FFFD, so that what is written always parses. */
void eider__buf_json_string(eider__buf *b, const char *s, size_t max);
/* Replace, in place, each byte of s that is not part of valid UTF-8 with '?'. */
void eider__utf8_repair(char *s);

/* An arena: many small allocations freed at once. */
typedef struct eider__arena_block eider__arena_block;
typedef struct eider__arena {
    eider__arena_block *head;
} eider__arena;

void *eider__arena_alloc(eider__arena *a, size_t n);
char *eider__arena_strdup(eider__arena *a, const char *s);      /* NULL -> NULL */
char *eider__arena_strndup(eider__arena *a, const char *s, size_t n);
/* Copy a NULL-terminated string list; NULL -> an empty list, never NULL. */
char **eider__arena_strv(eider__arena *a, const char *const *v, size_t *n);
void eider__arena_release(eider__arena *a);

/* An open-addressing index from string to uint32_t. Keys are borrowed: they must
 * outlive the index. */
typedef struct eider__index {
    const char **keys;
    uint32_t *vals;
    size_t cap, len;
} eider__index;

/* Insert key -> val. Returns 0, or 1 (and leaves the old value) if key was there. */
int eider__index_put(eider__index *ix, const char *key, uint32_t val);
/* The value of key, or -1. */
long eider__index_get(const eider__index *ix, const char *key);
void eider__index_release(eider__index *ix);

/* FNV-1a, 64 bit: the hash of n bytes at data continuing from h. Start with
 * EIDER__HASH_START; pass one call's result as the next one's h to hash several
 * pieces as if they were one. */
#define EIDER__HASH_START 14695981039346656037ULL
uint64_t eider__hash(uint64_t h, const void *data, size_t n);

int64_t eider__now_us(void);        /* wall clock, microseconds since the epoch */
double eider__mono_s(void);          /* monotonic clock, seconds */
void eider__sleep_ms(double ms);
/* A random double in [0, 1), thread-safe. */
double eider__random(void);
/* Make the folders leading to path (not path itself), as mkdir -p. Returns 0, or -1
 * with "cannot create folder 'X': reason" in err. */
int eider__mkdir_parents(const char *path, eider__buf *err);
/* The same with the folders it makes given mode (less the umask's bits): 0700 for
 * what only their owner may read. */
int eider__mkdir_parents_mode(const char *path, unsigned mode, eider__buf *err);

/* Edit distance between a and b, stopping early above limit (returns limit + 1). */
size_t eider__edit_distance(const char *a, const char *b, size_t limit);

#endif
