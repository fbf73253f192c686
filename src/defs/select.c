/*
 * select.c — Dagster's asset selection syntax, evaluated over the validated asset
 * graph: keys ("a/b", "\"any key\""), traversals ("*a", "a*", "+a", "a++", "2+a",
 * "a+3", also around parentheses), filters ("key:glob*", "group:", "tag:k=v",
 * "tag:k", "kind:", "owner:", "check:glob*": the assets with such a check), "roots()",
 * "sinks()" and "stale()" (from the instance store) with or without an argument,
 * "not" > "and" > "or" > ",", and "*" for everything.
 *
 * A tokenizer cuts the text into tokens; a recursive-descent parser evaluates as it
 * parses, each rule writing the set it denotes into a byte array of n_assets (0/1).
 * Nesting is bounded so that no input can exhaust the stack, and traversals are
 * breadth-first searches with a depth limit, linear in the size of the graph.
 *
 *   list    := or (',' or)*
 *   or      := and ('or' and)*
 *   and     := not ('and' not)*
 *   not     := 'not' not | trav
 *   trav    := ['*' | '+'... | DIGITS '+'] primary ['*' | '+'... | '+' DIGITS]
 *   primary := KEY | STRING | FILTER | ('roots'|'sinks'|'stale') '(' [list] ')' | '(' list ')' | '*'
 *
 * In "key:" and "check:" values '*' is a glob; after any other filter it is a traversal, so
 * "group:x*" is everything downstream of group x. A group, tag, kind or owner that no
 * asset has is an error with a did-you-mean, as an unknown key is: a typo must not
 * pass for an empty selection.
 */
#include "defs.h"

#define MAX_NESTING 200
#define DEPTH_ALL SIZE_MAX
#define SHOWN_TOKEN 40          /* bytes of a token quoted in a message */

enum tok_type {
    T_END, T_WORD, T_STRING, T_FILTER, T_LPAREN, T_RPAREN, T_COMMA, T_STAR, T_PLUS, T_BAD
};

enum bad_kind { BAD_CHAR, BAD_UNTERMINATED, BAD_NO_VALUE, BAD_NO_TAG_VALUE };

/* A piece of the expression: bytes [at, at + len), quotes included when quoted. */
typedef struct span {
    size_t at, len;
    int quoted;
} span;

typedef struct token {
    enum tok_type type;
    size_t at, end;             /* the token's bytes */
    span name;                  /* WORD, STRING; FILTER: the filter's name */
    span value, value2;         /* FILTER: its value; tag's value after '=' */
    int has_value2;
    enum bad_kind bad;          /* BAD: what is wrong, at `at` */
} token;

typedef struct parser {
    const eider_defs *defs;
    const char *s;
    size_t len, n;              /* expression bytes, assets */
    token tok;                  /* the current token */
    int nesting;
    int failed;
    size_t err_column;          /* the first error's, from 1 */
    eider__buf *err;
    eider__buf text[2];         /* decoded strings */
    uint32_t *queue;            /* for traversals, n entries */
    eider__select_info *info;   /* what the expression names, or NULL */
} parser;

/* ---- characters and the tokenizer ---- */

static int is_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_key_char(int c)
{
    return is_alnum(c) || c == '_' || c == '-' || c == '.' || c == '/';
}

static int is_value_char(int c, int glob)
{
    return is_key_char(c) || c == '@' || c == ':' || (glob && c == '*');
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int at_char(const parser *p, size_t i)
{
    return i < p->len ? (unsigned char)p->s[i] : -1;
}

/* End of the quoted string starting at `at` (just past its closing quote), or 0. */
static size_t scan_string(const parser *p, size_t at)
{
    for (size_t i = at + 1; i < p->len; i++) {
        if (p->s[i] == '\\' && i + 1 < p->len)
            i++;
        else if (p->s[i] == '"')
            return i + 1;
    }
    return 0;
}

/* One filter value at *pos, quoted or bare. Returns 0, or -1 with t->bad set. */
static int scan_value(const parser *p, size_t *pos, int glob, span *out, token *t,
                      enum bad_kind empty)
{
    size_t i = *pos;
    if (at_char(p, i) == '"') {
        size_t end = scan_string(p, i);
        if (!end) {
            t->at = i;
            t->bad = BAD_UNTERMINATED;
            return -1;
        }
        *out = (span){ i, end - i, 1 };
        *pos = end;
        return 0;
    }
    while (is_value_char(at_char(p, i), glob))
        i++;
    if (i == *pos) {
        t->at = i;
        t->bad = empty;
        return -1;
    }
    *out = (span){ *pos, i - *pos, 0 };
    *pos = i;
    return 0;
}

static int span_is(const parser *p, span sp, const char *word)
{
    size_t n = strlen(word);
    return !sp.quoted && sp.len == n && memcmp(p->s + sp.at, word, n) == 0;
}

/* A filter "name:value" (or tag's "name:k=v"); the name is already in t->name. */
static void lex_filter(const parser *p, token *t, size_t pos)
{
    int is_tag = span_is(p, t->name, "tag");
    t->type = T_FILTER;
    int glob = span_is(p, t->name, "key") || span_is(p, t->name, "check");
    if (scan_value(p, &pos, glob, &t->value, t, BAD_NO_VALUE)) {
        t->type = T_BAD;
        return;
    }
    if (is_tag && at_char(p, pos) == '=') {
        pos++;
        t->has_value2 = 1;
        if (scan_value(p, &pos, 0, &t->value2, t, BAD_NO_TAG_VALUE)) {
            t->type = T_BAD;
            return;
        }
    }
    t->end = pos;
}

static void lex_word(const parser *p, token *t, size_t i)
{
    size_t start = i;
    while (is_key_char(at_char(p, i)))
        i++;
    t->type = T_WORD;
    t->name = (span){ start, i - start, 0 };
    t->end = i;
    if (at_char(p, i) == ':')
        lex_filter(p, t, i + 1);
}

static void lex_quoted(const parser *p, token *t, size_t i)
{
    size_t end = scan_string(p, i);
    if (!end) {
        t->type = T_BAD;
        t->bad = BAD_UNTERMINATED;
        return;
    }
    t->type = T_STRING;
    t->name = (span){ i, end - i, 1 };
    t->end = end;
}

/* The token starting at or after pos. Pure: lexing never changes the parser. */
static token lex_at(const parser *p, size_t pos)
{
    token t = { 0 };
    while (is_space(at_char(p, pos)))
        pos++;
    t.at = t.end = pos;
    int c = at_char(p, pos);
    static const char singles[] = "(),*+";
    static const enum tok_type single_types[] = { T_LPAREN, T_RPAREN, T_COMMA, T_STAR, T_PLUS };
    if (c < 0)
        return t;
    const char *one = c ? strchr(singles, c) : NULL;
    if (one) {
        t.type = single_types[one - singles];
        t.end = pos + 1;
    } else if (c == '"') {
        lex_quoted(p, &t, pos);
    } else if (is_key_char(c)) {
        lex_word(p, &t, pos);
    } else {
        t.type = T_BAD;
        t.bad = BAD_CHAR;
    }
    return t;
}

static void advance(parser *p)
{
    p->tok = lex_at(p, p->tok.end);
}

static int word_is(const parser *p, const token *t, const char *word)
{
    size_t n = strlen(word);
    if (t->type != T_WORD || t->name.len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)p->s[t->name.at + i];
        if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != word[i])
            return 0;
    }
    return 1;
}

static int is_keyword(const parser *p, const token *t)
{
    return word_is(p, t, "and") || word_is(p, t, "or") || word_is(p, t, "not");
}

static int starts_primary(const parser *p, const token *t)
{
    return (t->type == T_WORD && !is_keyword(p, t)) || t->type == T_STRING ||
           t->type == T_FILTER || t->type == T_LPAREN || t->type == T_STAR;
}

/* The word of t as a number if it is all digits (saturating), else -1. */
static int word_number(const parser *p, const token *t, size_t *out)
{
    if (t->type != T_WORD || !t->name.len)
        return -1;
    size_t v = 0;
    for (size_t i = 0; i < t->name.len; i++) {
        int c = (unsigned char)p->s[t->name.at + i];
        if (c < '0' || c > '9')
            return -1;
        v = v > (SIZE_MAX - 9) / 10 ? SIZE_MAX : v * 10 + (size_t)(c - '0');
    }
    *out = v;
    return 0;
}

/* The text of sp (quotes removed, backslash escapes resolved) in p->text[slot]. */
static const char *span_text(parser *p, span sp, int slot)
{
    eider__buf *b = &p->text[slot];
    eider__buf_reset(b);
    if (!sp.quoted) {
        eider__buf_add(b, p->s + sp.at, sp.len);
        return eider__buf_str(b);
    }
    for (size_t i = sp.at + 1; i + 1 < sp.at + sp.len; i++) {
        if (p->s[i] == '\\' && i + 2 < sp.at + sp.len)
            i++;
        eider__buf_putc(b, p->s[i]);
    }
    return eider__buf_str(b);
}

/* ---- error messages ---- */

/* Append s[0..n) with control characters made visible and harmless. */
static void put_clean(eider__buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        eider__buf_putc(b, is_space(c) ? ' ' : (c < 0x20 || c == 0x7f) ? '?' : (char)c);
    }
}

/* The 1-based column of byte offset at, counting UTF-8 characters. */
static size_t column_of(const parser *p, size_t at)
{
    size_t col = 1;
    for (size_t i = 0; i < at && i < p->len; i++)
        col += ((unsigned char)p->s[i] & 0xC0) != 0x80;
    return col;
}

static void fail(parser *p, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Record the first error: the message, the expression and a caret under column. */
static void fail(parser *p, size_t at, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = 1;
    p->err_column = column_of(p, at);
    if (!p->err)
        return;
    size_t col = p->err_column;
    va_list ap;
    eider__buf_reset(p->err);
    eider__buf_puts(p->err, "bad selection '");
    put_clean(p->err, p->s, p->len);
    eider__buf_printf(p->err, "' at column %zu: ", col);
    va_start(ap, fmt);
    eider__buf_vprintf(p->err, fmt, ap);
    va_end(ap);
    eider__buf_puts(p->err, "\n  ");
    put_clean(p->err, p->s, p->len);
    eider__buf_puts(p->err, "\n  ");
    for (size_t i = 1; i < col; i++)
        eider__buf_putc(p->err, ' ');
    eider__buf_putc(p->err, '^');
}

/* The token's text, cut and cleaned, for quoting in a message (p->text[1]). */
static const char *token_shown(parser *p, const token *t)
{
    size_t n = t->end > t->at ? t->end - t->at : 1;
    if (t->at >= p->len)
        return "";
    if (n > SHOWN_TOKEN)
        n = SHOWN_TOKEN;
    if (t->at + n > p->len)
        n = p->len - t->at;
    eider__buf_reset(&p->text[1]);
    put_clean(&p->text[1], p->s + t->at, n);
    return eider__buf_str(&p->text[1]);
}

static void fail_bad_token(parser *p, const token *t)
{
    switch (t->bad) {
    case BAD_UNTERMINATED:
        fail(p, t->at, "unterminated string: end it with '\"'");
        break;
    case BAD_NO_VALUE: {
        const char *name = span_text(p, t->name, 0);
        fail(p, t->at, "expected a value after '%s:', such as %s:NAME or %s:\"any text\"",
             name, name, name);
        break;
    }
    case BAD_NO_TAG_VALUE:
        fail(p, t->at, "expected a tag value after '=': write tag:KEY=VALUE, or tag:KEY for any value");
        break;
    case BAD_CHAR:
        if ((unsigned char)p->s[t->at] >= 0x20 && (unsigned char)p->s[t->at] < 0x7f)
            fail(p, t->at, "unexpected character '%c': put keys with other characters in "
                 "double quotes", p->s[t->at]);
        else
            fail(p, t->at, "unexpected byte 0x%02X: put keys with other characters in "
                 "double quotes", (unsigned char)p->s[t->at]);
        break;
    }
}

/* An operand was expected at the current token. */
static void fail_expected_operand(parser *p)
{
    static const char what[] =
        "an asset key, a filter (key:, group:, tag:, kind:, owner:, check:), '(' or '*'";
    if (p->tok.type == T_BAD)
        fail_bad_token(p, &p->tok);
    else if (p->tok.type == T_END)
        fail(p, p->tok.at, "expected %s at the end", what);
    else
        fail(p, p->tok.at, "unexpected '%s': expected %s", token_shown(p, &p->tok), what);
}

/* The key closest to name, or NULL: first one whose last part is name, else the
 * nearest by edit distance. */
static const char *suggest_key(const parser *p, const char *name)
{
    size_t len = strlen(name), limit = len / 3 > 1 ? len / 3 : 1, best = limit + 1;
    const char *found = NULL;
    for (size_t i = 0; i < p->n; i++) {
        const char *key = p->defs->assets[i].key, *slash = strrchr(key, '/');
        if (slash && strcmp(slash + 1, name) == 0)
            return key;
        size_t d = eider__edit_distance(name, key, limit);
        if (d < best) {
            best = d;
            found = key;
        }
    }
    return found;
}

static void fail_unknown_key(parser *p, size_t at, const char *name)
{
    eider__buf shown = { 0 };
    put_clean(&shown, name, strlen(name));
    const char *hint = suggest_key(p, name);
    if (hint)
        fail(p, at, "unknown asset '%s' (did you mean '%s'?)", eider__buf_str(&shown), hint);
    else
        fail(p, at, "unknown asset '%s': run 'eider list' to see the asset keys",
             eider__buf_str(&shown));
    eider__buf_release(&shown);
}

/* ---- sets ---- */

static unsigned char *set_new(const parser *p)
{
    return eider__xcalloc(p->n ? p->n : 1, 1);
}

static void set_fill(const parser *p, unsigned char *s, unsigned char v)
{
    if (p->n)
        memset(s, v, p->n);
}

static int list_has(char *const *list, const char *value)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], value) == 0)
            return 1;
    return 0;
}

/* tags holds key, value, key, value, ...; value NULL matches any value. */
static int tags_match(char *const *tags, const char *key, const char *value)
{
    for (size_t i = 0; tags && tags[i] && tags[i + 1]; i += 2)
        if (strcmp(tags[i], key) == 0 && (!value || strcmp(tags[i + 1], value) == 0))
            return 1;
    return 0;
}

/* Does s match pattern, where '*' matches any run of characters? */
static int glob_match(const char *pat, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (*pat == *s) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++resume;
        } else {
            return 0;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/* Extend out (already holding the start set) by up to depth levels of up or down
 * edges, breadth first. */
static void traverse(parser *p, unsigned char *out, int upward, size_t depth)
{
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < p->n; i++)
        if (out[i])
            p->queue[tail++] = (uint32_t)i;
    for (size_t level = 0; head < tail && level < depth; level++) {
        size_t end = tail;
        for (; head < end; head++) {
            const eider__asset *a = &p->defs->assets[p->queue[head]];
            const uint32_t *edges = upward ? a->up : a->down;
            size_t n_edges = upward ? a->n_up : a->n_down;
            for (size_t e = 0; edges && e < n_edges; e++) {
                if (edges[e] < p->n && !out[edges[e]]) {
                    out[edges[e]] = 1;
                    p->queue[tail++] = edges[e];
                }
            }
        }
    }
}

/* roots (upward) or sinks of the set in: its members with no up (down) edge into it. */
static void ends_of(const parser *p, const unsigned char *in, unsigned char *out, int upward)
{
    for (size_t i = 0; i < p->n; i++) {
        const eider__asset *a = &p->defs->assets[i];
        const uint32_t *edges = upward ? a->up : a->down;
        size_t n_edges = upward ? a->n_up : a->n_down;
        int end = in[i];
        for (size_t e = 0; end && edges && e < n_edges; e++)
            if (edges[e] < p->n && in[edges[e]])
                end = 0;
        out[i] = (unsigned char)end;
    }
}

/* ---- the parser ---- */

static int parse_list(parser *p, unsigned char *out);

static int expect_rparen(parser *p, size_t open_at)
{
    if (p->tok.type == T_RPAREN) {
        advance(p);
        return 0;
    }
    if (p->tok.type == T_BAD)
        fail_bad_token(p, &p->tok);
    else
        fail(p, p->tok.at, "expected ')' to close the '(' at column %zu",
             column_of(p, open_at));
    return -1;
}

static int enter(parser *p)
{
    if (++p->nesting <= MAX_NESTING)
        return 0;
    fail(p, p->tok.at, "nested deeper than %d levels: simplify the selection", MAX_NESTING);
    return -1;
}

static int parse_group(parser *p, unsigned char *out)
{
    size_t open_at = p->tok.at;
    if (enter(p))
        return -1;
    advance(p);
    if (parse_list(p, out) || expect_rparen(p, open_at))
        return -1;
    p->nesting--;
    return 0;
}

/* The members of in that need materializing: stale, failed or never materialized. */
static int stale_of(parser *p, const unsigned char *in, unsigned char *out, size_t at)
{
    eider_asset_status *st = NULL;
    if (!p->defs->status) {
        fail(p, at, "stale() needs the instance store, and none is open here (EIDER_STORAGE=none "
                    "keeps none)");
        return -1;
    }
    if (p->info)
        p->info->by_state = 1;
    st = eider__xcalloc(p->n + 1, sizeof(*st));
    if (p->defs->status(p->defs->status_store, p->defs, p->info ? p->info->partition : NULL,
                        p->info && p->info->all_partitions, st)) {
        fail(p, at, "stale(): the instance store could not be read");
        free(st);
        return -1;
    }
    for (size_t i = 0; i < p->n; i++)
        out[i] = in[i] && (st[i] == EIDER_ASSET_STALE || st[i] == EIDER_ASSET_NEVER ||
                           st[i] == EIDER_ASSET_FAILED);
    free(st);
    return 0;
}

/* roots(...), sinks(...) or stale(...); the current token is the function's name. */
static int parse_function(parser *p, unsigned char *out)
{
    int upward = word_is(p, &p->tok, "roots"), stale = word_is(p, &p->tok, "stale"), rc = -1;
    size_t name_at = p->tok.at;
    unsigned char *arg = set_new(p);
    size_t open_at = 0;
    if (enter(p))
        goto out;
    advance(p);
    open_at = p->tok.at;
    advance(p);
    if (p->tok.type == T_RPAREN)
        set_fill(p, arg, 1);
    else if (parse_list(p, arg))
        goto out;
    if (expect_rparen(p, open_at))
        goto out;
    if (stale && stale_of(p, arg, out, name_at))
        goto out;
    if (!stale)
        ends_of(p, arg, out, upward);
    p->nesting--;
    rc = 0;
out:
    free(arg);
    return rc;
}

static int select_key(parser *p, const token *t, unsigned char *out)
{
    const char *name = span_text(p, t->name, 0);
    long i = eider__index_get(&p->defs->by_key, name);
    if (i < 0 || (size_t)i >= p->n) {
        fail_unknown_key(p, t->at, name);
        return -1;
    }
    set_fill(p, out, 0);
    out[i] = 1;
    if (p->info)
        p->info->named[i] = 1;
    return 0;
}

static int filter_known(parser *p, const token *t)
{
    static const char *const names[] = { "key", "group", "tag", "kind", "owner", "check" };
    const char *name = span_text(p, t->name, 0);
    for (size_t i = 0; i < EIDER__ARRAY_LEN(names); i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    for (size_t i = 0; i < EIDER__ARRAY_LEN(names); i++)
        if (eider__edit_distance(name, names[i], 2) <= 2) {
            fail(p, t->at, "unknown filter '%s:' (did you mean '%s:'?)", name, names[i]);
            return 0;
        }
    fail(p, t->at, "unknown filter '%s:': use key:, group:, tag:, kind:, owner: or check:", name);
    return 0;
}

/* Whether asset a has a check whose name matches the glob name. */
static int has_check(const eider_defs *defs, const eider__asset *a, const char *name)
{
    for (size_t i = 0; i < a->n_checks; i++)
        if (glob_match(name, defs->checks[a->checks[i]].name))
            return 1;
    return 0;
}

/* Does asset a pass the filter token t? Keys and values are in p->text[0] / [1]. */
static int filter_match(parser *p, const token *t, const eider__asset *a)
{
    const char *value = eider__buf_str(&p->text[0]);
    const char *tag_value = t->has_value2 ? eider__buf_str(&p->text[1]) : NULL;
    switch (p->s[t->name.at]) {
    case 'c':
        return has_check(p->defs, a, value);
    case 'k':
        return t->name.len == 3 ? glob_match(value, a->key) : list_has(a->kinds, value);
    case 'g':
        return strcmp(a->group, value) == 0;
    case 't':
        return tags_match(a->tags, value, tag_value);
    default:
        return list_has(a->owners, value);
    }
}

/* The values of the filter `kind` ('g'roup, 'k'ind, 'o'wner, 't'ag, 'c'heck) that asset
 * a has: its group, its kinds, its owners, its tag keys, or (tag_key set) the values of
 * that tag, its checks' names. */
static size_t filter_values(const eider_defs *defs, const eider__asset *a, int kind,
                            const char *tag_key, const char **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; kind == 'c' && i < a->n_checks && n < cap; i++)
        out[n++] = defs->checks[a->checks[i]].name;
    char *const *list = kind == 'k' ? a->kinds : kind == 'o' ? a->owners : NULL;
    if (kind == 'g')
        out[n++] = a->group;
    for (size_t i = 0; list && list[i] && n < cap; i++)
        out[n++] = list[i];
    for (size_t i = 0; kind == 't' && a->tags && a->tags[i] && a->tags[i + 1] && n < cap; i += 2)
        if (!tag_key || strcmp(a->tags[i], tag_key) == 0)
            out[n++] = a->tags[i + (tag_key != NULL)];
    return n;
}

/* Whether any asset has value for the filter (see filter_values); else the nearest one
 * by edit distance in *hint (NULL when none is near). */
static int value_known(const parser *p, int kind, const char *tag_key, const char *value,
                       const char **hint)
{
    size_t len = strlen(value), limit = len <= 2 ? 1 : len / 3 > 2 ? len / 3 : 2, best = limit + 1;
    const char *values[64];
    *hint = NULL;
    for (size_t i = 0; i < p->n; i++) {
        size_t n = filter_values(p->defs, &p->defs->assets[i], kind, tag_key, values,
                                 EIDER__ARRAY_LEN(values));
        for (size_t v = 0; v < n; v++) {
            if (strcmp(values[v], value) == 0)
                return 1;
            size_t d = eider__edit_distance(value, values[v], limit);
            if (d < best) {
                best = d;
                *hint = values[v];
            }
        }
    }
    return 0;
}

/* A group, kind, owner or tag that no asset has is a typo, not an empty selection:
 * name it, with the nearest known one. Returns 0 when the filter's values are known. */
static int check_filter_value(parser *p, const token *t)
{
    static const char *const what[] = { "group", "kind", "owner", "tag", "check" };
    int kind = p->s[t->name.at];
    const char *value = eider__buf_str(&p->text[0]), *hint = NULL, *noun = NULL;
    eider__buf shown = { 0 }, tag = { 0 };
    size_t at = t->value.at;
    for (size_t i = 0; i < EIDER__ARRAY_LEN(what); i++)
        if (what[i][0] == kind)
            noun = what[i];
    if (!value_known(p, kind, NULL, value, &hint)) {
        put_clean(&shown, value, strlen(value));
    } else if (t->has_value2 && !value_known(p, kind, value, eider__buf_str(&p->text[1]), &hint)) {
        put_clean(&tag, value, strlen(value));
        put_clean(&shown, eider__buf_str(&p->text[1]), p->text[1].len);
        at = t->value2.at;
    } else {
        return 0;
    }
    if (tag.len)
        fail(p, at, "no asset has tag '%s' = '%s'%s%s%s", eider__buf_str(&tag), eider__buf_str(&shown),
             hint ? " (did you mean '" : ": run 'eider list --json' to see the tags",
             hint ? hint : "", hint ? "'?)" : "");
    else
        fail(p, at, "unknown %s '%s'%s%s%s", noun, eider__buf_str(&shown),
             hint ? " (did you mean '" : ": run 'eider list' to see them",
             hint ? hint : "", hint ? "'?)" : "");
    eider__buf_release(&shown);
    eider__buf_release(&tag);
    return -1;
}

static int parse_filter(parser *p, unsigned char *out)
{
    token t = p->tok;
    if (!filter_known(p, &t))
        return -1;
    advance(p);
    /* "key:name" without a glob names one asset, and a typo in it is an error. */
    if (span_is(p, t.name, "key") && !strchr(span_text(p, t.value, 0), '*')) {
        token key = t;
        key.name = t.value;
        key.at = t.value.at;
        return select_key(p, &key, out);
    }
    span_text(p, t.value, 0);
    if (t.has_value2)
        span_text(p, t.value2, 1);
    int any = 0;
    for (size_t i = 0; i < p->n; i++)
        any |= out[i] = (unsigned char)filter_match(p, &t, &p->defs->assets[i]);
    int glob = strchr(eider__buf_str(&p->text[0]), '*') != NULL;
    if (!any && !span_is(p, t.name, "key") && !glob && p->tok.type != T_BAD &&
        check_filter_value(p, &t))
        return -1;
    return 0;
}

static int parse_word(parser *p, unsigned char *out)
{
    token next = lex_at(p, p->tok.end);
    int function = word_is(p, &p->tok, "roots") || word_is(p, &p->tok, "sinks") ||
                   word_is(p, &p->tok, "stale");
    if (next.type == T_LPAREN && function)
        return parse_function(p, out);
    if (next.type == T_LPAREN &&
        eider__index_get(&p->defs->by_key, span_text(p, p->tok.name, 0)) < 0) {
        fail(p, p->tok.at, "unknown function '%s': use roots(), sinks() or stale()",
             token_shown(p, &p->tok));
        return -1;
    }
    if (function && eider__index_get(&p->defs->by_key, span_text(p, p->tok.name, 0)) < 0) {
        const char *name = token_shown(p, &p->tok);
        fail(p, p->tok.end, "expected '(' after '%s': write %s() or %s(selection)",
             name, name, name);
        return -1;
    }
    token t = p->tok;
    advance(p);
    return select_key(p, &t, out);
}

static int parse_primary(parser *p, unsigned char *out)
{
    token t = p->tok;
    if (!starts_primary(p, &t)) {
        fail_expected_operand(p);
        return -1;
    }
    switch (t.type) {
    case T_LPAREN:
        return parse_group(p, out);
    case T_STAR:
        advance(p);
        set_fill(p, out, 1);
        return 0;
    case T_FILTER:
        return parse_filter(p, out);
    case T_STRING:
        advance(p);
        return select_key(p, &t, out);
    default:
        return parse_word(p, out);
    }
}

/* Count '+' tokens in a row. */
static size_t count_plus(parser *p)
{
    size_t n = 0;
    while (p->tok.type == T_PLUS) {
        n++;
        advance(p);
    }
    return n;
}

/* "*", "+", "++", ... or "N+" before an operand. Returns 1 with *depth set if found. */
static int parse_up_prefix(parser *p, size_t *depth)
{
    token next = lex_at(p, p->tok.end);
    if (p->tok.type == T_STAR && starts_primary(p, &next)) {
        *depth = DEPTH_ALL;
        advance(p);
        return 1;
    }
    if (p->tok.type == T_PLUS) {
        *depth = count_plus(p);
        return 1;
    }
    size_t n = 0;
    if (word_number(p, &p->tok, &n) == 0 && next.type == T_PLUS && next.at == p->tok.end) {
        token after = lex_at(p, next.end);
        if (starts_primary(p, &after)) {
            *depth = n;
            p->tok = after;
            return 1;
        }
    }
    return 0;
}

/* "*", "+", "++", ... or "+N" after an operand. Returns 1 with *depth set if found. */
static int parse_down_suffix(parser *p, size_t *depth)
{
    if (p->tok.type == T_STAR) {
        *depth = DEPTH_ALL;
        advance(p);
        return 1;
    }
    if (p->tok.type != T_PLUS)
        return 0;
    token next = lex_at(p, p->tok.end);
    size_t n = 0;
    if (next.at == p->tok.end && word_number(p, &next, &n) == 0) {
        *depth = n;
        p->tok = next;
        advance(p);
        return 1;
    }
    *depth = count_plus(p);
    return 1;
}

static int parse_trav(parser *p, unsigned char *out)
{
    size_t up = 0, down = 0;
    int has_up = parse_up_prefix(p, &up), rc = -1;
    unsigned char *ups = NULL;
    if (parse_primary(p, out))
        goto out;
    int has_down = parse_down_suffix(p, &down);
    if (has_up && has_down) {
        ups = eider__xmalloc(p->n ? p->n : 1);
        memcpy(ups, out, p->n);
        traverse(p, ups, 1, up);
        traverse(p, out, 0, down);
        for (size_t i = 0; i < p->n; i++)
            out[i] |= ups[i];
    } else if (has_up || has_down) {
        traverse(p, out, has_up, has_up ? up : down);
    }
    rc = 0;
out:
    free(ups);
    return rc;
}

static int parse_not(parser *p, unsigned char *out)
{
    if (!word_is(p, &p->tok, "not"))
        return parse_trav(p, out);
    if (enter(p))
        return -1;
    advance(p);
    if (parse_not(p, out))
        return -1;
    for (size_t i = 0; i < p->n; i++)
        out[i] = !out[i];
    p->nesting--;
    return 0;
}

/* A left-associative chain of operands joined by `op` (a word or ','), combined
 * with AND (is_and) or OR. */
static int parse_chain(parser *p, unsigned char *out, const char *op, int is_and,
                       int (*operand)(parser *, unsigned char *))
{
    unsigned char *rhs = NULL;
    int rc = -1;
    if (operand(p, out))
        goto out;
    while (op ? word_is(p, &p->tok, op) : p->tok.type == T_COMMA) {
        advance(p);
        if (!rhs)
            rhs = set_new(p);
        if (operand(p, rhs))
            goto out;
        for (size_t i = 0; i < p->n; i++)
            out[i] = is_and ? (out[i] & rhs[i]) : (out[i] | rhs[i]);
    }
    rc = 0;
out:
    free(rhs);
    return rc;
}

static int parse_and(parser *p, unsigned char *out)
{
    return parse_chain(p, out, "and", 1, parse_not);
}

static int parse_or(parser *p, unsigned char *out)
{
    return parse_chain(p, out, "or", 0, parse_and);
}

static int parse_list(parser *p, unsigned char *out)
{
    return parse_chain(p, out, NULL, 0, parse_or);
}

static int is_blank(const char *s)
{
    while (*s && is_space((unsigned char)*s))
        s++;
    return *s == '\0';
}

static int parse_all(parser *p, unsigned char *selected)
{
    advance(p);
    if (parse_list(p, selected))
        return -1;
    if (p->tok.type == T_END)
        return 0;
    if (p->tok.type == T_BAD)
        fail_bad_token(p, &p->tok);
    else if (p->tok.type == T_RPAREN)
        fail(p, p->tok.at, "unexpected ')': remove it or add a matching '('");
    else
        fail(p, p->tok.at, "unexpected '%s': join selections with 'and', 'or' or ','",
             token_shown(p, &p->tok));
    return -1;
}

int eider__select(const eider_defs *defs, const char *expr, unsigned char *selected,
                  eider__buf *err)
{
    return eider__select_with(defs, expr, selected, NULL, err);
}

int eider__select_with(const eider_defs *defs, const char *expr, unsigned char *selected,
                       eider__select_info *info, eider__buf *err)
{
    if (!defs || !selected)
        return EIDER_EINVAL;
    parser p = { .defs = defs, .s = expr ? expr : "", .n = defs->n_assets, .err = err,
                 .info = info };
    if (info) {
        memset(info->named, 0, defs->n_assets);
        info->by_state = 0;
        info->column = 0;
    }
    p.len = strlen(p.s);
    int rc = EIDER_OK;
    if (is_blank(p.s)) {
        set_fill(&p, selected, 1);
        return EIDER_OK;
    }
    p.queue = eider__xmalloc((p.n ? p.n : 1) * sizeof(*p.queue));
    if (parse_all(&p, selected)) {
        set_fill(&p, selected, 0);
        rc = EIDER_ESELECT;
        if (info)
            info->column = p.err_column;
    }
    free(p.queue);
    eider__buf_release(&p.text[0]);
    eider__buf_release(&p.text[1]);
    return rc;
}
