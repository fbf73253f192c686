/*
 * term.c — the terminal habits of what the command line prints: color and a live
 * status line only on a terminal that wants them (NO_COLOR, TERM=dumb), and text from
 * user code and DuckDB made safe to print: control characters escaped, so that an ESC
 * in a failure message cannot drive the terminal, and a paragraph DuckDB repeats right
 * after itself (its "LINE 1:" caret block) printed once. What the store keeps is not
 * changed: only what is printed.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define SAFE_SLOTS 8            /* cli_safe() results usable in one printf */

cli_term cli_term_decide(int is_tty, const char *no_color, const char *term)
{
    cli_term t = { 0, 0 };
    int dumb = term && strcmp(term, "dumb") == 0;
    t.live = is_tty && !dumb;
    t.color = t.live && !(no_color && *no_color);    /* no-color.org: set and not empty */
    return t;
}

cli_term cli_term_of(FILE *f)
{
    return cli_term_decide(isatty(fileno(f)), getenv("NO_COLOR"), getenv("TERM"));
}

/* The length of a C1 control character (U+0080..U+009F, as UTF-8) at s, else 0. */
static size_t c1_at(const unsigned char *s)
{
    return s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f ? 2 : 0;
}

/* s with control characters (but newline and tab) written as \xNN, into *buf of
 * *cap bytes, grown as needed. */
static const char *escape_into(const char *s, char **buf, size_t *cap)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t need = strlen(s) * 4 + 1, n = 0;
    if (need > *cap) {
        char *grown = realloc(*buf, need);
        if (!grown)
            return s;
        *buf = grown;
        *cap = need;
    }
    for (; *p; p++) {
        size_t c1 = c1_at(p);
        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f || c1) {
            n += (size_t)snprintf(*buf + n, *cap - n, "\\x%02x", *p);
            if (c1)
                n += (size_t)snprintf(*buf + n, *cap - n, "\\x%02x", *++p);
        } else {
            (*buf)[n++] = (char)*p;
        }
    }
    (*buf)[n] = '\0';
    return *buf;
}

/* The results live in a ring of slots, so that several may be printed by one printf.
 * Printing is from one thread at a time (a run's sink is never called twice at once). */
static struct { char *buf; size_t cap; } slots[SAFE_SLOTS];
static unsigned next_slot;

const char *cli_safe(const char *s)
{
    unsigned i = next_slot++ % SAFE_SLOTS;
    return s ? escape_into(s, &slots[i].buf, &slots[i].cap) : "";
}

/* The end of the paragraph at p: the "\n\n" after it, or the end of the text. */
static const char *paragraph_end(const char *p)
{
    const char *end = strstr(p, "\n\n");
    return end ? end : p + strlen(p);
}

const char *cli_shell_word(const char *s)
{
    static char *kept;
    size_t n = 0;
    if (s && *s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                             "0123456789_-./+,:@%") == strlen(s))
        return s;
    free(kept);
    if (!s || !(kept = malloc(strlen(s) * 4 + 3)))
        return "''";
    kept[n++] = '\'';
    for (; *s; s++) {
        if (*s == '\'') {         /* close, an escaped quote, open again */
            memcpy(kept + n, "'\\''", 4);
            n += 4;
        } else {
            kept[n++] = *s;
        }
    }
    kept[n++] = '\'';
    kept[n] = '\0';
    return kept;
}

const char *cli_message(const char *s)
{
    static char *kept;
    char *out = NULL, *o;
    const char *prev = NULL, *p = s;
    size_t prev_len = 0;
    if (!s || !(out = malloc(strlen(s) + 1)))
        return cli_safe(s);
    o = out;
    while (*p) {        /* copy paragraph by paragraph, dropping a repeat of the last */
        const char *end = paragraph_end(p);
        size_t len = (size_t)(end - p);
        if (!prev || len != prev_len || memcmp(prev, p, len) != 0) {
            if (prev)
                o = (char *)memcpy(o, "\n\n", 2) + 2;
            o = (char *)memcpy(o, p, len) + len;
        }
        prev = p;
        prev_len = len;
        p = *end ? end + 2 : end;
    }
    *o = '\0';
    free(kept);
    kept = out;
    return cli_safe(kept);
}
