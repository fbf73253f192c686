/*
 * alloc.c — the allocation wrapper and the arena.
 */
#include "util.h"

static void die_oom(size_t n)
{
    fprintf(stderr, "eider: fatal: out of memory allocating %zu bytes\n", n);
    abort();
}

void *eider__xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die_oom(n);
    return p;
}

void *eider__xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        die_oom(count * size);
    return p;
}

void *eider__xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        die_oom(n);
    return q;
}

char *eider__xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(eider__xmalloc(n), s, n);
}

void eider__grow(void **p, size_t *cap, size_t need, size_t size)
{
    size_t c = *cap ? *cap : 8;
    if (need <= *cap)
        return;
    while (c < need)
        c *= 2;
    *p = eider__xrealloc(*p, c * size);
    *cap = c;
}

/* ---- arena ---- */

struct eider__arena_block {
    eider__arena_block *next;
    size_t used, size;
    max_align_t data[];
};

#define ARENA_BLOCK 65536

void *eider__arena_alloc(eider__arena *a, size_t n)
{
    eider__arena_block *b = a->head;
    size_t align = sizeof(max_align_t);
    n = (n + align - 1) / align * align;
    if (!b || b->size - b->used < n) {
        size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        b = eider__xmalloc(sizeof(*b) + size);
        b->size = size;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

char *eider__arena_strndup(eider__arena *a, const char *s, size_t n)
{
    char *p = eider__arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *eider__arena_strdup(eider__arena *a, const char *s)
{
    return s ? eider__arena_strndup(a, s, strlen(s)) : NULL;
}

char **eider__arena_strv(eider__arena *a, const char *const *v, size_t *n)
{
    size_t count = 0;
    while (v && v[count])
        count++;
    char **out = eider__arena_alloc(a, (count + 1) * sizeof(*out));
    for (size_t i = 0; i < count; i++)
        out[i] = eider__arena_strdup(a, v[i]);
    out[count] = NULL;
    if (n)
        *n = count;
    return out;
}

void eider__arena_release(eider__arena *a)
{
    eider__arena_block *b = a->head;
    while (b) {
        eider__arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}
