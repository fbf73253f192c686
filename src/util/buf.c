/*
 * buf.c — the growable string buffer, with a size cap and SQL quoting.
 */
#include "util.h"

#define BUF_DEFAULT_MAX ((size_t)64 << 20)

static size_t room_for(eider__buf *b, size_t n)
{
    size_t max = b->max ? b->max : BUF_DEFAULT_MAX;
    if (b->len + n > max) {
        b->truncated = 1;
        n = max > b->len ? max - b->len : 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = eider__xrealloc(b->data, cap);
        b->cap = cap;
    }
    return n;
}

void eider__buf_release(eider__buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->truncated = 0;
}

void eider__buf_reset(eider__buf *b)
{
    b->len = 0;
    b->truncated = 0;
    if (b->data)
        b->data[0] = '\0';
}

void eider__buf_add(eider__buf *b, const char *s, size_t n)
{
    n = room_for(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void eider__buf_puts(eider__buf *b, const char *s)
{
    eider__buf_add(b, s, strlen(s));
}

void eider__buf_putc(eider__buf *b, char c)
{
    eider__buf_add(b, &c, 1);
}

void eider__buf_vprintf(eider__buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n <= 0)
        return;
    size_t want = (size_t)n, got = room_for(b, want);
    if (got == want) {
        vsnprintf(b->data + b->len, want + 1, fmt, ap);
        b->len += want;
        return;
    }
    char *tmp = eider__xmalloc(want + 1);
    vsnprintf(tmp, want + 1, fmt, ap);
    memcpy(b->data + b->len, tmp, got);
    b->len += got;
    b->data[b->len] = '\0';
    free(tmp);
}

void eider__buf_printf(eider__buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    eider__buf_vprintf(b, fmt, ap);
    va_end(ap);
}

const char *eider__buf_str(const eider__buf *b)
{
    return b->data ? b->data : "";
}

char *eider__buf_detach(eider__buf *b)
{
    char *s = b->data ? b->data : eider__xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    b->truncated = 0;
    return s;
}

static void buf_quoted(eider__buf *b, const char *s, char q)
{
    eider__buf_putc(b, q);
    for (const char *p = s; *p; p++) {
        if (*p == q)
            eider__buf_putc(b, q);
        eider__buf_putc(b, *p);
    }
    eider__buf_putc(b, q);
}

void eider__buf_sql_ident(eider__buf *b, const char *s)
{
    buf_quoted(b, s, '"');
}

void eider__buf_sql_literal(eider__buf *b, const char *s)
{
    buf_quoted(b, s, '\'');
}

void eider__buf_shell_quote(eider__buf *b, const char *s)
{
    eider__buf_putc(b, '\'');
    for (; s && *s; s++) {
        if (*s == '\'')             /* close, an escaped quote, open again */
            eider__buf_puts(b, "'\\''");
        else
            eider__buf_putc(b, *s);
    }
    eider__buf_putc(b, '\'');
}

void eider__buf_shell_word(eider__buf *b, const char *s)
{
    if (s && *s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                             "0123456789_-./+,:@%") == strlen(s))
        eider__buf_puts(b, s);
    else
        eider__buf_shell_quote(b, s);
}

/* The length of the valid UTF-8 sequence at s (1 to 4), or 0 when it is not one. */
static size_t utf8_length(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
             : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
        return 0;                    /* overlong, or a UTF-16 surrogate */
    if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
        return 0;                    /* overlong, or past U+10FFFF */
    return n;
}

void eider__buf_json_string(eider__buf *b, const char *s, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *run = p, *end = p + strnlen(s, max);
    eider__buf_putc(b, '"');
    while (p < end) {
        size_t n = *p >= 0x20 && *p != '"' && *p != '\\' ? utf8_length(p) : 0;
        if (n > (size_t)(end - p))
            n = 0;                   /* a sequence cut by max */
        if (n) {
            p += n;
            continue;
        }
        eider__buf_add(b, (const char *)run, (size_t)(p - run));
        if (*p == '"' || *p == '\\') {
            char esc[2] = { '\\', (char)*p };
            eider__buf_add(b, esc, 2);
        } else if (*p < 0x20) {
            char esc[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15] };
            eider__buf_add(b, esc, 6);
        } else {
            eider__buf_puts(b, "\\ufffd");    /* a byte that is not UTF-8 */
        }
        run = ++p;
    }
    eider__buf_add(b, (const char *)run, (size_t)(p - run));
    eider__buf_putc(b, '"');
}

void eider__utf8_repair(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = utf8_length(p);
        if (n) {
            p += n;
        } else {
            *p++ = '?';
        }
    }
}
