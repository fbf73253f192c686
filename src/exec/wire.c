/*
 * wire.c — the encoding of wire.h.
 */
#include <string.h>

#include "wire.h"

static void put(eider__buf *b, const void *v, size_t n)
{
    eider__buf_add(b, (const char *)v, n);
}

void eider__put_u32(eider__buf *b, uint32_t v) { put(b, &v, sizeof(v)); }
void eider__put_i64(eider__buf *b, int64_t v) { put(b, &v, sizeof(v)); }
void eider__put_f64(eider__buf *b, double v) { put(b, &v, sizeof(v)); }

void eider__put_str(eider__buf *b, const char *s)
{
    size_t n = s ? strnlen(s, EIDER__WIRE_FIELD_MAX) : 0;
    eider__put_u32(b, s ? (uint32_t)n + 1 : 0);
    if (s) {
        put(b, s, n);
        eider__buf_putc(b, '\0');
    }
}

void eider__get(eider__reader *rd, void *v, size_t n)
{
    if (rd->bad || (size_t)(rd->end - rd->p) < n) {
        rd->bad = 1;
        memset(v, 0, n);
        return;
    }
    memcpy(v, rd->p, n);
    rd->p += n;
}

uint32_t eider__get_u32(eider__reader *rd) { uint32_t v; eider__get(rd, &v, sizeof(v)); return v; }
int64_t eider__get_i64(eider__reader *rd) { int64_t v; eider__get(rd, &v, sizeof(v)); return v; }
double eider__get_f64(eider__reader *rd) { double v; eider__get(rd, &v, sizeof(v)); return v; }

const char *eider__get_str(eider__reader *rd)
{
    uint32_t n = eider__get_u32(rd);
    const char *s = rd->p;
    if (!n || rd->bad)
        return NULL;
    if ((size_t)(rd->end - rd->p) < n || s[n - 1] != '\0') {
        rd->bad = 1;
        return NULL;
    }
    rd->p += n;
    return s;
}
