/*
 * redact.c — DuckDB secrets kept out of what Eider prints and stores. A failing
 * statement's text and DuckDB's message go to the terminal, the JSON output and the
 * instance store; before they do, the values of CREATE SECRET's options and of SET
 * and PRAGMA statements of secret settings, and an ATTACH's connection string that holds
 * credentials, are replaced by ***, and so are those values (and the
 * values of connection_config settings that are secret) where a message quotes them.
 * SQL is read token by token as DuckDB reads it: strings (E'...' escapes too), quoted
 * names, comments, dollar quotes, several statements.
 */
#include <ctype.h>
#include <strings.h>

#include "redact.h"

#define MASK "***"
#define MIN_MASKED 3                 /* shorter values would mask ordinary words */

void eider__secrets_add(eider__secrets *s, const char *value, size_t n)
{
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->v[i]) == n && memcmp(s->v[i], value, n) == 0)
            return;                  /* known already */
    char *copy = eider__xmalloc(n + 1);
    memcpy(copy, value, n);
    copy[n] = '\0';
    EIDER__GROW(s->v, s->cap, s->n + 1);
    s->v[s->n++] = copy;
}

void eider__secrets_release(eider__secrets *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

int eider__setting_is_secret(const char *name)
{
    static const char *const marks[] = { "secret", "password", "passwd", "token", "key_id",
                                         "access_key", "api_key", "connection_string",
                                         "credential" };
    char lower[128];
    size_t n = 0;
    for (; name && name[n] && n + 1 < sizeof(lower); n++)
        lower[n] = (char)tolower((unsigned char)name[n]);
    lower[n] = '\0';
    for (size_t i = 0; i < EIDER__ARRAY_LEN(marks); i++)
        if (strstr(lower, marks[i]))
            return 1;
    return 0;
}

/* ---- tokens ---- */

typedef enum tok_kind { T_END, T_SPACE, T_WORD, T_STRING, T_NAME, T_DOLLAR, T_PUNCT } tok_kind;

typedef struct tok {
    const char *p;
    size_t n;
    tok_kind kind;
} tok;

/* The length of the text quoted by q that starts at p (a doubled q stays inside). */
static size_t quoted_len(const char *p, char q)
{
    const char *e = p + 1;
    while (*e && !(*e == q && e[1] != q))
        e += *e == q ? 2 : 1;
    return (size_t)(e - p) + (*e == q);
}

/* The length of the escape string E'...' that starts at p (at its E): a backslash
 * escapes the character after it, and a doubled quote stays inside. */
static size_t escaped_len(const char *p)
{
    const char *e = p + 2;
    while (*e && !(*e == '\'' && e[1] != '\''))
        e += (*e == '\\' || *e == '\'') && e[1] ? 2 : 1;
    return (size_t)(e - p) + (*e == '\'');
}

/* "$tag$...$tag$" (tag may be empty) at p: its length, or 0 when none starts there. */
static size_t dollar_len(const char *p)
{
    size_t tag = 1 + strspn(p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789");
    const char *end = NULL;
    if (p[tag] != '$' || isdigit((unsigned char)p[1]))
        return 0;
    for (end = strchr(p + tag + 1, '$'); end && strncmp(end, p, tag + 1); end = strchr(end + 1, '$'))
        ;
    return end ? (size_t)(end - p) + tag + 1 : strlen(p);
}

static tok next_token(const char *p)
{
    tok t = { p, 1, T_PUNCT };
    if (!*p)
        t = (tok){ p, 0, T_END };
    else if (isspace((unsigned char)*p))
        t = (tok){ p, strspn(p, " \t\r\n\f\v"), T_SPACE };
    else if (p[0] == '-' && p[1] == '-')
        t = (tok){ p, strcspn(p, "\n"), T_SPACE };
    else if (p[0] == '/' && p[1] == '*')
        t = (tok){ p, strstr(p + 2, "*/") ? (size_t)(strstr(p + 2, "*/") - p) + 2 : strlen(p), T_SPACE };
    else if (*p == '\'')
        t = (tok){ p, quoted_len(p, '\''), T_STRING };
    else if ((*p == 'E' || *p == 'e') && p[1] == '\'')
        t = (tok){ p, escaped_len(p), T_STRING };
    else if (*p == '"')
        t = (tok){ p, quoted_len(p, '"'), T_NAME };
    else if (*p == '$' && dollar_len(p))
        t = (tok){ p, dollar_len(p), T_DOLLAR };
    else if (isalnum((unsigned char)*p) || *p == '_' || *p == '$' || (unsigned char)*p >= 0x80) {
        size_t n = 1;
        while (p[n] && (isalnum((unsigned char)p[n]) || strchr("_$.", p[n]) ||
                        (unsigned char)p[n] >= 0x80))
            n++;
        t = (tok){ p, n, T_WORD };
    }
    return t;
}

static int is_word(tok t, const char *word)
{
    return t.kind == T_WORD && t.n == strlen(word) && strncasecmp(t.p, word, t.n) == 0;
}

static int is_punct(tok t, char c)
{
    return t.kind == T_PUNCT && *t.p == c;
}

/* ---- statements ---- */

typedef enum stmt_kind { S_START, S_CREATE, S_SECRET, S_SET, S_SET_NAMED, S_SET_SECRET,
                         S_ATTACH, S_OTHER } stmt_kind;

typedef struct redactor {
    eider__buf *out;
    eider__secrets *found;
    size_t replaced;
    stmt_kind kind;
    int depth;                       /* CREATE SECRET: 1 inside its options */
    int nest;                        /* brackets open inside the value being masked */
    int expect;                      /* options: 0 a name, 1 a value, 2 inside a value */
    int keep;                        /* the option (TYPE, PROVIDER) keeps a bare name */
} redactor;

/* The text between the quotes q of a quoted token, as typed and as DuckDB reads it
 * (a doubled q single; in an E'...' string, a backslash escape as the character it
 * stands for), which is how its messages quote it. */
static void remember_quoted(eider__secrets *found, tok t, char q)
{
    int escapes = *t.p == 'E' || *t.p == 'e';
    const char *text = t.p + 1 + escapes;
    size_t n = t.n - 1 - (size_t)escapes;
    n -= n >= 1 && t.n >= 2 + (size_t)escapes && t.p[t.n - 1] == q;
    char *read = eider__xmalloc(n + 1);
    size_t m = 0;
    eider__secrets_add(found, text, n);
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (i + 1 < n && (c == q || (escapes && c == '\\'))) {
            char e = text[++i];
            c = c == q || !escapes ? e : e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r'
                : e == 'b' ? '\b' : e == 'f' ? '\f' : e;
        }
        read[m++] = c;
    }
    if (m != n)
        eider__secrets_add(found, read, m);
    free(read);
}

/* A value's text, as typed and, for a quoted one, between its quotes. */
static void remember(redactor *r, tok t)
{
    if (!r->found || t.kind == T_SPACE || t.kind == T_PUNCT)
        return;
    if (t.kind == T_STRING || t.kind == T_NAME)
        remember_quoted(r->found, t, t.kind == T_STRING ? '\'' : '"');
    else if (t.kind == T_DOLLAR) {
        size_t tag = (size_t)(strchr(t.p + 1, '$') - t.p) + 1;
        eider__secrets_add(r->found, t.p + tag, t.n >= 2 * tag ? t.n - 2 * tag : 0);
    } else
        eider__secrets_add(r->found, t.p, t.n);
}

/* The first words of a statement tell what it is. */
static void classify(redactor *r, tok t)
{
    if (r->kind == S_START)
        r->kind = is_word(t, "CREATE") ? S_CREATE
                : is_word(t, "SET") || is_word(t, "PRAGMA") ? S_SET
                : is_word(t, "ATTACH") ? S_ATTACH : S_OTHER;
    else if (r->kind == S_CREATE && is_word(t, "SECRET"))
        r->kind = S_SECRET;
    else if (r->kind == S_CREATE && !is_word(t, "OR") && !is_word(t, "REPLACE") &&
             !is_word(t, "PERSISTENT") && !is_word(t, "TEMPORARY") && !is_word(t, "TEMP"))
        r->kind = S_OTHER;
    else if (r->kind == S_SET && !is_word(t, "GLOBAL") && !is_word(t, "SESSION") &&
             !is_word(t, "LOCAL") && !is_word(t, "VARIABLE")) {
        char name[128];
        size_t skip = t.kind == T_NAME, n = t.n - 2 * skip;
        snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1),
                 t.p + skip);
        r->kind = eider__setting_is_secret(name) ? S_SET_NAMED : S_OTHER;
    }
}

/* Start masking a value with t, its first token. */
static void mask_from(redactor *r, tok t)
{
    eider__buf_puts(r->out, MASK);
    r->replaced++;
    r->expect = 2;
    r->nest = 0;
    remember(r, t);
    r->nest += is_punct(t, '(') || is_punct(t, '[') || is_punct(t, '{');
}

/* A token inside CREATE SECRET's options: names are kept, values masked. */
static void option_token(redactor *r, tok t)
{
    int opens = is_punct(t, '(') || is_punct(t, '[') || is_punct(t, '{');
    int closes = is_punct(t, ')') || is_punct(t, ']') || is_punct(t, '}');
    if (t.kind == T_SPACE && r->expect != 2) {
        eider__buf_add(r->out, t.p, t.n);
    } else if (r->expect == 2 && r->nest > 0) {
        remember(r, t);
        r->nest += opens - closes;
    } else if (is_punct(t, ',') || is_punct(t, ')')) {
        eider__buf_add(r->out, t.p, t.n);
        r->expect = 0;
        r->depth -= is_punct(t, ')');
    } else if (r->expect == 2) {
        remember(r, t);
        r->nest += opens;
    } else if (r->expect == 0) {
        eider__buf_add(r->out, t.p, t.n);
        r->keep = is_word(t, "TYPE") || is_word(t, "PROVIDER");
        r->expect = 1;
    } else if (r->keep && t.kind == T_WORD) {
        eider__buf_add(r->out, t.p, t.n);
        r->keep = 0;                 /* one bare name: what follows it is masked */
    } else {
        mask_from(r, t);
    }
}

/* Whether the n bytes at p hold word (lowercase), in any case. */
static int holds_word(const char *p, size_t n, const char *word)
{
    size_t w = strlen(word);
    for (size_t i = 0; i + w <= n; i++)
        if (strncasecmp(p + i, word, w) == 0)
            return 1;
    return 0;
}

/* Whether a string holds credentials: a word that the client libraries DuckDB's
 * extensions use name them with (libpq's password, libmysqlclient's passwd, ODBC's pwd,
 * tokens, secrets, keys, credentials), or a URL's "user:password@". */
static int holds_credentials(tok t)
{
    static const char *const marks[] = { "password", "passwd", "pwd", "pass=", "token",
                                         "secret", "credential", "key_id", "access_key",
                                         "api_key", "apikey", "auth", "sas=", "sig=" };
    const char *scheme = NULL, *at = NULL, *end = t.p + t.n;
    for (size_t i = 0; i < EIDER__ARRAY_LEN(marks); i++)
        if (holds_word(t.p, t.n, marks[i]))
            return 1;
    for (scheme = t.p; scheme + 3 <= end && strncmp(scheme, "://", 3); scheme++)
        ;
    if (scheme + 3 > end)
        return 0;
    for (at = scheme + 3; at < end && *at != '@'; at++)
        ;
    return at < end && memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) &&
           !memchr(scheme + 3, '/', (size_t)(at - scheme - 3));
}

/* One token of a statement of kind r->kind. */
static void statement_token(redactor *r, tok t)
{
    if (r->kind == S_ATTACH && t.kind == T_STRING && holds_credentials(t)) {
        mask_from(r, t);             /* ATTACH 'host=... password=...' AS pg */
        r->expect = 0;
        return;
    }
    if (r->kind == S_SECRET && r->depth > 0) {
        option_token(r, t);
        return;
    }
    if (r->kind == S_SET_SECRET && r->expect == 2) {
        remember(r, t);              /* the rest of the statement is the value */
        return;
    }
    if (r->kind == S_SET_SECRET && t.kind != T_SPACE) {
        mask_from(r, t);
        return;
    }
    eider__buf_add(r->out, t.p, t.n);
    if (t.kind == T_SPACE)
        return;
    if (r->kind == S_SECRET && is_punct(t, '(')) {
        r->depth = 1;
        r->expect = 0;
    } else if (r->kind == S_SET_NAMED &&
               (is_punct(t, '=') || is_word(t, "TO") || is_punct(t, '('))) {
        r->kind = S_SET_SECRET;
        r->expect = 0;
    } else if (r->kind == S_SET_NAMED) {
        r->kind = S_OTHER;           /* SET name without a value: nothing to mask */
    } else if (r->kind != S_SECRET && r->kind != S_OTHER) {
        classify(r, t);
    }
}

size_t eider__sql_redact(const char *sql, eider__buf *out, eider__secrets *found)
{
    redactor r = { .out = out, .found = found, .kind = S_START };
    for (tok t = next_token(sql); t.kind != T_END; t = next_token(t.p + t.n)) {
        if (is_punct(t, ';')) {
            eider__buf_add(out, t.p, t.n);
            r.kind = S_START;
            r.depth = r.expect = r.nest = 0;
            continue;
        }
        statement_token(&r, t);
    }
    return r.replaced;
}

/* ---- messages ---- */

/* The longest value of s that msg starts with, or 0. */
static size_t match_at(const eider__secrets *s, const char *msg)
{
    size_t best = 0;
    for (size_t i = 0; i < s->n; i++) {
        size_t n = strlen(s->v[i]);
        if (n >= MIN_MASKED && n > best && strncmp(msg, s->v[i], n) == 0)
            best = n;
    }
    return best;
}

void eider__secrets_mask(const eider__secrets *s, const char *msg, eider__buf *out)
{
    const char *line = s->n ? strstr(msg, "\nLINE ") : NULL;
    size_t n = line ? (size_t)(line - msg) : strlen(msg);
    while (line && n > 0 && strchr(" \n", msg[n - 1]))
        n--;
    for (size_t i = 0; i < n;) {
        size_t m = match_at(s, msg + i);
        if (m && i + m <= n) {
            eider__buf_puts(out, MASK);
            i += m;
        } else {
            eider__buf_putc(out, msg[i++]);
        }
    }
    if (line)
        eider__buf_puts(out, " (the statement text DuckDB quoted is left out: it holds a secret)");
}
