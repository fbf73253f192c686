/*
 * frame.c — eider_frame, the in-memory columnar table: building it by rows or by
 * columns, typed reads, printing, and the thread's last frame error.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <strings.h>
#include <time.h>

#include "frame.h"

static _Thread_local char last_error[1024];

const char *eider_frame_error(void)
{
    return last_error;
}

void *eider__frame_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
    return NULL;
}

/* Fail with a code: the message for eider_frame_error(), the code for the caller. */
static int fail_code(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_code(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
    return code;
}

const char *eider_type_name(eider_type type)
{
    static const char *names[] = { "BOOLEAN", "INTEGER", "BIGINT", "DOUBLE", "DECIMAL",
                                   "VARCHAR", "DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE" };
    return (unsigned)type < EIDER__ARRAY_LEN(names) ? names[type] : "UNKNOWN";
}

size_t eider__type_size(eider_type type)
{
    switch (type) {
    case EIDER_TYPE_BOOLEAN: return 1;
    case EIDER_TYPE_INTEGER: case EIDER_TYPE_DATE: return 4;
    default: return 8;
    }
}

eider_frame *eider_frame_new(void)
{
    return eider__xcalloc(1, sizeof(eider_frame));
}

void eider_frame_free(eider_frame *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_cols; i++) {
        free(f->cols[i].name);
        free(f->cols[i].data);
        free(f->cols[i].text);
        free(f->cols[i].valid);
    }
    free(f->cols);
    free(f);
}

static void column_reserve(eider__column *c, size_t rows)
{
    if (rows <= c->cap)
        return;
    size_t cap = c->cap ? c->cap : 64;
    while (cap < rows)
        cap = cap < 1024 * 1024 ? cap * 2 : cap + cap / 2;
    size_t extra = c->type == EIDER_TYPE_VARCHAR;      /* the end offset */
    c->data = eider__xrealloc(c->data, (cap + extra) * eider__type_size(c->type));
    if (c->valid) {
        size_t old_words = (c->cap + 63) / 64, words = (cap + 63) / 64;
        c->valid = eider__xrealloc(c->valid, words * 8);
        memset(c->valid + old_words, 0xff, (words - old_words) * 8);
    }
    c->cap = cap;
}

void eider__frame_reserve(eider_frame *f, size_t rows)
{
    for (size_t i = 0; i < f->n_cols; i++)
        column_reserve(&f->cols[i], f->n_rows + rows);
}

void eider__column_set_null(eider__column *c, size_t r)
{
    if (!c->valid) {
        size_t words = (c->cap + 63) / 64;
        c->valid = eider__xmalloc((words ? words : 1) * 8);
        memset(c->valid, 0xff, (words ? words : 1) * 8);
    }
    c->valid[r / 64] &= ~(UINT64_C(1) << (r % 64));
}

void eider__column_push_text(eider__column *c, size_t row, const char *s, size_t n)
{
    int64_t *off = c->data;
    if (c->text_len + n + 1 > c->text_cap) {
        size_t cap = c->text_cap ? c->text_cap : 256;
        while (cap < c->text_len + n + 1)
            cap *= 2;
        c->text = eider__xrealloc(c->text, cap);
        c->text_cap = cap;
    }
    off[row] = (int64_t)c->text_len;
    if (n)
        memcpy(c->text + c->text_len, s, n);
    c->text[c->text_len + n] = '\0';
    c->text_len += n + 1;
    off[row + 1] = (int64_t)c->text_len;
}

/* A NULL (or zero) value in row r of c: zeroed data, the bit cleared. */
static void column_put_null(eider__column *c, size_t r)
{
    if (c->type == EIDER_TYPE_VARCHAR)
        eider__column_push_text(c, r, "", 0);
    else
        memset((char *)c->data + r * eider__type_size(c->type), 0, eider__type_size(c->type));
    eider__column_set_null(c, r);
}

static int add_column(eider_frame *f, const char *name, eider_type type, int width, int scale)
{
    if (!name || !*name)
        return fail_code(EIDER_EINVAL, "a frame column needs a name");
    if ((unsigned)type > EIDER_TYPE_TIMESTAMP_TZ)
        return fail_code(EIDER_EINVAL, "column '%s': unknown type %d", name, (int)type);
    for (size_t i = 0; i < f->n_cols; i++)    /* SQL names ignore case: "A" is "a" */
        if (strcasecmp(f->cols[i].name, name) == 0)
            return fail_code(EIDER_EDUPLICATE, "the frame already has a column '%s'%s", f->cols[i].name,
                             strcmp(f->cols[i].name, name) ? " (SQL names ignore case)" : "");
    if (f->next_col)
        return fail_code(EIDER_EINVAL, "column '%s' cannot be added in the middle of a row", name);
    EIDER__GROW(f->cols, f->cap_cols, f->n_cols + 1);
    eider__column *c = &f->cols[f->n_cols];
    memset(c, 0, sizeof(*c));
    c->name = eider__xstrdup(name);
    c->type = type;
    c->width = width;
    c->scale = scale;
    column_reserve(c, f->n_rows ? f->n_rows : 1);
    if (type == EIDER_TYPE_VARCHAR)
        ((int64_t *)c->data)[0] = 0;
    for (size_t r = 0; r < f->n_rows; r++)
        column_put_null(c, r);
    return (int)f->n_cols++;
}

int eider_frame_add_column(eider_frame *f, const char *name, eider_type type)
{
    if (!f)
        return EIDER_EINVAL;
    if (type == EIDER_TYPE_DECIMAL)
        return eider_frame_add_decimal_column(f, name, 18, 3);
    return add_column(f, name, type, 0, 0);
}

int eider_frame_add_decimal_column(eider_frame *f, const char *name, int width, int scale)
{
    if (!f)
        return EIDER_EINVAL;
    if (width < 1 || width > 18 || scale < 0 || scale > width)
        return fail_code(EIDER_EINVAL, "column '%s': DECIMAL(%d,%d) is out of range: width "
                         "must be 1 to 18 and scale 0 to width", name ? name : "", width, scale);
    return add_column(f, name, EIDER_TYPE_DECIMAL, width, scale);
}

/* The column the next appended value goes to, with room for it. */
static eider__column *next_cell(eider_frame *f)
{
    if (!f || f->n_cols == 0) {
        fail_code(EIDER_EINVAL, "append to a frame with no columns: add columns first");
        return NULL;
    }
    if (f->next_col >= f->n_cols) {
        fail_code(EIDER_EINVAL, "row %zu has more values than the frame's %zu columns: "
                  "call eider_frame_end_row()", f->n_rows, f->n_cols);
        return NULL;
    }
    eider__column *c = &f->cols[f->next_col];
    column_reserve(c, f->n_rows + 1);
    return c;
}

/* 10^n for n in 0..18. */
static int64_t pow10_i64(int n)
{
    int64_t p = 1;
    while (n-- > 0)
        p *= 10;
    return p;
}

/* Whether an unscaled value fits c's DECIMAL(width, scale): |v| < 10^width. */
static int decimal_fits(const eider__column *c, int64_t v)
{
    int64_t limit = pow10_i64(c->width);
    return v > -limit && v < limit;
}

static int put_int(eider__column *c, size_t r, int64_t v)
{
    void *d = c->data;
    switch (c->type) {
    case EIDER_TYPE_BOOLEAN: ((uint8_t *)d)[r] = v != 0; return EIDER_OK;
    case EIDER_TYPE_INTEGER: case EIDER_TYPE_DATE:
        if (v < INT32_MIN || v > INT32_MAX)
            return fail_code(EIDER_EINVAL, "column '%s': %" PRId64 " does not fit in %s",
                             c->name, v, eider_type_name(c->type));
        ((int32_t *)d)[r] = (int32_t)v;
        return EIDER_OK;
    case EIDER_TYPE_DOUBLE: ((double *)d)[r] = (double)v; return EIDER_OK;
    case EIDER_TYPE_DECIMAL: {
        int64_t scaled = v;
        int over = 0;
        for (int i = 0; i < c->scale; i++)
            over |= __builtin_mul_overflow(scaled, 10, &scaled);
        /* The width bounds the value too, not only int64 (DuckDB keeps DECIMAL(4,2)
         * in 16 bits: 100.00 would wrap). */
        if (over || !decimal_fits(c, scaled))
            return fail_code(EIDER_EINVAL, "column '%s': %" PRId64 " overflows DECIMAL(%d,%d)",
                             c->name, v, c->width, c->scale);
        ((int64_t *)d)[r] = scaled;
        return EIDER_OK;
    }
    case EIDER_TYPE_VARCHAR: {
        char s[32];
        snprintf(s, sizeof(s), "%" PRId64, v);
        eider__column_push_text(c, r, s, strlen(s));
        return EIDER_OK;
    }
    default: ((int64_t *)d)[r] = v; return EIDER_OK;
    }
}

static int put_double(eider__column *c, size_t r, double v)
{
    if (c->type == EIDER_TYPE_DOUBLE) {
        ((double *)c->data)[r] = v;
        return EIDER_OK;
    }
    if (c->type == EIDER_TYPE_DECIMAL) {
        double scaled = round(v * pow(10, c->scale));
        if (!(fabs(scaled) < pow(10, c->width)))     /* the width, not only int64's range */
            return fail_code(EIDER_EINVAL, "column '%s': %g does not fit DECIMAL(%d,%d)",
                             c->name, v, c->width, c->scale);
        ((int64_t *)c->data)[r] = (int64_t)scaled;
        return EIDER_OK;
    }
    if (c->type == EIDER_TYPE_VARCHAR) {
        char s[40];
        snprintf(s, sizeof(s), "%.17g", v);
        eider__column_push_text(c, r, s, strlen(s));
        return EIDER_OK;
    }
    if (v == trunc(v) && fabs(v) < 9.2e18)
        return put_int(c, r, (int64_t)v);
    return fail_code(EIDER_EINVAL, "column '%s' is %s: the value %g is not a whole number",
                     c->name, eider_type_name(c->type), v);
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Up to max digits at *p as a number (at least one digit); advances *p. -1 if none. */
static int parse_digits(const char **p, int max)
{
    int v = -1;
    for (int k = 0; k < max && isdigit((unsigned char)**p); k++, ++*p)
        v = (v < 0 ? 0 : v * 10) + (**p - '0');
    return v;
}

/* Exactly two digits at *p; advances *p. -1 when there are not two. */
static int parse_two_digits(const char **p)
{
    if (!isdigit((unsigned char)(*p)[0]) || !isdigit((unsigned char)(*p)[1]))
        return -1;
    *p += 2;
    return ((*p)[-2] - '0') * 10 + (*p)[-1] - '0';
}

/* Whether *p is at c; if so, past it. */
static int skip_char(const char **p, char c)
{
    if (**p != c)
        return 0;
    ++*p;
    return 1;
}

/* "HH[[:]MM]" at *p (past the sign), two digits each, in minutes; advances *p. -1 when
 * malformed. */
static int parse_offset(const char **p, int *minutes)
{
    int oh = parse_two_digits(p), om = 0;
    if (oh < 0)
        return -1;
    if (skip_char(p, ':') || isdigit((unsigned char)**p))
        if ((om = parse_two_digits(p)) < 0 || om > 59)
            return -1;
    *minutes = oh * 60 + om;
    return 0;
}

/* "[-]Y-M-D" at *p (up to 7 digits of year, 1 or 2 of month and day), a year before 1
 * counted as DuckDB does (0 is 1 BC); advances *p. -1 when malformed or no such day. */
static int parse_date(const char **p, int *y, int *mo, int *d)
{
    int neg = skip_char(p, '-');
    if ((*y = parse_digits(p, 7)) < 0 || !skip_char(p, '-') || (*mo = parse_digits(p, 2)) < 0 ||
        !skip_char(p, '-') || (*d = parse_digits(p, 2)) < 0)
        return -1;
    *y = neg ? -*y : *y;
    return *mo < 1 || *mo > 12 || *d < 1 || *d > days_in_month(*y, *mo) ? -1 : 0;
}

/* "(T| )H:M[:S[.ffffff]]" at *p into *h, *mi, *sec, *micros (digits past the sixth are
 * cut, as DuckDB cuts them); *has_sec says whether seconds were there. Advances *p. 0
 * when there is no time, -1 when malformed. */
static int parse_clock(const char **p, int *h, int *mi, int *sec, int64_t *micros, int *has_sec)
{
    if (!((**p == ' ' || **p == 'T') && isdigit((unsigned char)(*p)[1])))
        return 0;
    ++*p;
    *h = parse_digits(p, 2);
    if (!skip_char(p, ':') || (*mi = parse_digits(p, 2)) < 0)
        return -1;
    if ((*has_sec = skip_char(p, ':')) && (*sec = parse_digits(p, 2)) < 0)
        return -1;
    if (*has_sec && skip_char(p, '.')) {
        for (int k = 0; k < 6; k++)
            *micros = *micros * 10 + (isdigit((unsigned char)**p) ? *(*p)++ - '0' : 0);
        while (isdigit((unsigned char)**p))
            ++*p;
    }
    if (*h > 24 || (*h == 24 && (*mi || *sec || *micros)) || *mi > 59 || *sec > 59)
        return -1;
    return 0;
}

/* A zone after a time with seconds, as DuckDB reads it: "Z", " UTC", or "+HH[[:]MM]"
 * (or "-"), into *minutes east; advances *p. -1 when malformed. */
static int parse_zone(const char **p, int *minutes)
{
    *minutes = 0;
    if (skip_char(p, 'Z'))
        return 0;
    if (strncasecmp(*p, " UTC", 4) == 0) {
        *p += 4;
        return 0;
    }
    if (**p != '+' && **p != '-')
        return 0;
    int sign = *(*p)++ == '-' ? -1 : 1;
    if (parse_offset(p, minutes))
        return -1;
    *minutes *= sign;
    return 0;
}

/* The range DuckDB keeps: dates and timestamps past it do not cast. */
static int date_in_range(int64_t days)
{
    return days >= days_from_civil(-5877641, 6, 25) && days <= days_from_civil(5881580, 7, 10);
}

static int timestamp_in_range(int64_t us)
{
    return us >= days_from_civil(-290308, 12, 22) * INT64_C(86400000000) && us < INT64_MAX;
}

/* "[-]Y-M-D[(T| )H:M[:S[.ffffff][Z| UTC|+HH[[:]MM]]]]" after blanks, as DuckDB casts it
 * to type (DATE, TIMESTAMP or TIMESTAMP_TZ): *days is the date's, *us the whole text's
 * microseconds since 1970-01-01 (*us_ok 0 when it is past int64). An offset moves *us
 * to UTC only for TIMESTAMP_TZ (a TIMESTAMP drops it, as DuckDB does). Refused: fields
 * out of range (February 30, 25:00), a zone without seconds, and blanks after a
 * timestamp (DuckDB takes some and not others), all of which DuckDB refuses at times. */
static int parse_time(const char *s, eider_type type, int64_t *days, int64_t *us, int *us_ok)
{
    int apply_offset = type == EIDER_TYPE_TIMESTAMP_TZ;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, has_sec = 0, offset_min = 0;
    int64_t micros = 0, secs = 0;
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    if (parse_date(&p, &y, &mo, &d) || parse_clock(&p, &h, &mi, &sec, &micros, &has_sec) ||
        (has_sec && parse_zone(&p, &offset_min)))
        return -1;
    while (type == EIDER_TYPE_DATE && isspace((unsigned char)*p))
        p++;
    if (*p)
        return -1;
    *days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    secs = *days * 86400 + h * 3600 + mi * 60 + sec - (apply_offset ? offset_min * 60 : 0);
    *us_ok = !__builtin_mul_overflow(secs, 1000000, us) && !__builtin_add_overflow(*us, micros, us);
    return 0;
}

/* Plain decimal text ("-12.345") as an unscaled value of the given scale, rounded half
 * away from zero as DuckDB casts it. Exact, where going through a double is not for
 * 18 digits. -1 for other text (an exponent) or a value past int64. */
static int parse_decimal(const char *s, int scale, int64_t *out)
{
    int64_t v = 0;
    int digits = 0, frac = -1, round_up = 0, over = 0;
    while (isspace((unsigned char)*s))
        s++;
    int neg = *s == '-';
    s += *s == '-' || *s == '+';
    for (; isdigit((unsigned char)*s) || (*s == '.' && frac < 0); s++) {
        if (*s == '.') {
            frac = 0;
            continue;
        }
        digits++;
        if (frac >= scale) {                /* past the scale: only the first digit rounds */
            round_up |= frac++ == scale && *s >= '5';
            continue;
        }
        over |= __builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *s - '0', &v);
        frac += frac >= 0;
    }
    while (isspace((unsigned char)*s))
        s++;
    if (*s || !digits)
        return -1;
    for (int i = frac < 0 ? 0 : frac; i < scale; i++)
        over |= __builtin_mul_overflow(v, 10, &v);
    over |= __builtin_add_overflow(v, round_up, &v);
    if (over)
        return -1;
    *out = neg ? -v : v;
    return 0;
}

/* The digits of "[blanks][sign]D[.D][(e|E)[sign]D][blanks]": where they start in the
 * text (dots among them), their count, how many follow the point, the exponent
 * (|x| <= 32767, as DuckDB's casts to whole numbers take) and the sign. */
typedef struct number_text {
    const char *digits;
    int n, frac, exp, neg, has_exp;
} number_text;

/* s as number_text into *t. Returns 0, or -1 for other text. */
static int parse_number_text(const char *s, number_text *t)
{
    memset(t, 0, sizeof(*t));
    while (isspace((unsigned char)*s))
        s++;
    t->neg = *s == '-';
    s += *s == '-' || *s == '+';
    t->digits = s;
    for (int seen_dot = 0; isdigit((unsigned char)*s) || (*s == '.' && !seen_dot); s++) {
        seen_dot |= *s == '.';
        t->n += *s != '.';
        t->frac += seen_dot && *s != '.';
    }
    if (!t->n)
        return -1;
    if ((t->has_exp = *s == 'e' || *s == 'E')) {
        int eneg = s[1] == '-';
        s += 1 + (s[1] == '-' || s[1] == '+');
        while (*s == '0' && isdigit((unsigned char)s[1]))
            s++;
        if ((t->exp = parse_digits(&s, 5)) < 0 || t->exp > 32767)
            return -1;
        t->exp = eneg ? -t->exp : t->exp;
    }
    while (isspace((unsigned char)*s))
        s++;
    return *s ? -1 : 0;
}

/* Digit i (from 0, dots skipped) of t, or 0 outside them. */
static int number_digit(const number_text *t, int i)
{
    const char *p = t->digits;
    if (i < 0 || i >= t->n)
        return 0;
    for (int k = 0;; p++)
        if (*p != '.' && k++ == i)
            return *p - '0';
}

/* Text as a whole number, exactly, rounded half away from zero on the first digit cut
 * (as DuckDB casts "2.5" and "25e-1" to 3). The digits before the point must fit int64
 * before the exponent applies, as DuckDB reads them ("10000000000000000000e-1" does not cast). 0, -1
 * for other text, -2 past int64. */
static int parse_whole(const char *s, int64_t *out)
{
    number_text t;
    int64_t v = 0;
    /* With an exponent, DuckDB misreads more than 18 digits after the point (it casts
     * ".9223372036854775807e0" to -1): refused. */
    if (parse_number_text(s, &t) || (t.has_exp && t.frac > 18))
        return -1;
    for (int i = 0; i < t.n - t.frac; i++)
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, number_digit(&t, i), &v))
            return -2;
    v = 0;
    int keep = t.n - t.frac + t.exp;        /* the digits before the point, after the exponent */
    for (int i = 0; i < keep; i++)
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, number_digit(&t, i), &v))
            return -2;
    if (keep >= 0 && number_digit(&t, keep) >= 5 && __builtin_add_overflow(v, 1, &v))
        return -2;
    *out = t.neg ? -v : v;
    return 0;
}

/* "M[eE][+]X" (M plain decimal text with at most scale digits after the point, X up
 * to 18) as an unscaled value, exactly. DuckDB reads an exponent in ways of its own
 * (rounding the digits before it first, and refusing them when they overflow the
 * width): other text with an exponent is refused, as Eider cannot cast it as DuckDB
 * does. -1 when refused. */
static int parse_decimal_exponent(const char *s, int scale, int64_t *out)
{
    char mantissa[64];
    const char *e = strpbrk(s, "eE"), *dot = strchr(s, '.');
    int64_t v = 0;
    if (!e || e == s || isspace((unsigned char)e[-1]) || (size_t)(e - s) >= sizeof(mantissa) ||
        (dot && dot < e && e - dot - 1 > scale))
        return -1;
    memcpy(mantissa, s, (size_t)(e - s));
    mantissa[e - s] = '\0';
    const char *x = e + 1 + (e[1] == '+');
    int exp = parse_digits(&x, 2);
    while (isspace((unsigned char)*x))
        x++;
    if (exp < 0 || exp > 18 || *x || parse_decimal(mantissa, scale, &v))
        return -1;
    for (int i = 0; i < exp; i++)
        if (__builtin_mul_overflow(v, 10, &v))
            return -1;
    *out = v;
    return 0;
}

/* Whether strtod() would read s as DuckDB's cast to DOUBLE does: not "0x1p3", which
 * strtod() reads as hex and DuckDB refuses. */
static int like_duckdb(const char *s)
{
    return !strpbrk(s, "xX");
}

static int put_text(eider__column *c, size_t r, const char *s)
{
    char *end = NULL;
    int64_t us = 0, days = 0;
    int us_ok = 0;
    errno = 0;
    switch (c->type) {
    case EIDER_TYPE_VARCHAR:
        eider__column_push_text(c, r, s, strlen(s));
        return EIDER_OK;
    case EIDER_TYPE_BOOLEAN:
        if (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "t") ||
            !strcasecmp(s, "yes") || !strcasecmp(s, "y"))
            return put_int(c, r, 1);
        if (!strcasecmp(s, "false") || !strcmp(s, "0") || !strcasecmp(s, "f") ||
            !strcasecmp(s, "no") || !strcasecmp(s, "n"))
            return put_int(c, r, 0);
        break;
    case EIDER_TYPE_INTEGER: case EIDER_TYPE_BIGINT: {
        long long v = strtoll(s, &end, 10);
        int64_t exact = 0;
        if (*s && !*end && !errno)
            return put_int(c, r, v);
        /* DuckDB rounds "2.5" to 3 and reads "1e2" as 100, exactly: so do we. */
        int got = parse_whole(s, &exact);
        if (got == 0)
            return put_int(c, r, exact);
        if (got == -2)
            return fail_code(EIDER_EINVAL, "column '%s': %s does not fit in %s", c->name, s,
                             eider_type_name(c->type));
        break;
    }
    case EIDER_TYPE_DECIMAL: {
        int64_t unscaled = 0;
        if (parse_decimal(s, c->scale, &unscaled) && parse_decimal_exponent(s, c->scale, &unscaled))
            break;
        if (!decimal_fits(c, unscaled))
            return fail_code(EIDER_EINVAL, "column '%s': %s does not fit DECIMAL(%d,%d)",
                             c->name, s, c->width, c->scale);
        ((int64_t *)c->data)[r] = unscaled;
        return EIDER_OK;
    }
    case EIDER_TYPE_DOUBLE: {
        double v = strtod(s, &end);
        end = like_duckdb(s) ? end : (char *)s;
        if (*s && !*end)
            return put_double(c, r, v);
        break;
    }
    case EIDER_TYPE_DATE:                      /* DuckDB keeps the date of a timestamp */
        if (parse_time(s, c->type, &days, &us, &us_ok) == 0 && date_in_range(days))
            return put_int(c, r, days);
        break;
    case EIDER_TYPE_TIMESTAMP: case EIDER_TYPE_TIMESTAMP_TZ:
        if (parse_time(s, c->type, &days, &us, &us_ok) == 0 && us_ok &&
            timestamp_in_range(us))
            return put_int(c, r, us);
        break;
    }
    return fail_code(EIDER_EINVAL, "column '%s' is %s: cannot read '%s' as one", c->name,
                     eider_type_name(c->type), s);
}

/* Append one value through put, and move to the next column. */
#define APPEND(f, put)                                   \
    do {                                                 \
        eider__column *c_ = next_cell(f);                \
        if (!c_)                                         \
            return EIDER_EINVAL;                         \
        int rc_ = (put);                                 \
        if (rc_)                                         \
            return rc_;                                  \
        f->next_col++;                                   \
        return EIDER_OK;                                 \
    } while (0)

int eider_frame_append_null(eider_frame *f)
{
    APPEND(f, (column_put_null(c_, f->n_rows), 0));
}

int eider_frame_append_bool(eider_frame *f, int value)
{
    APPEND(f, c_->type == EIDER_TYPE_BOOLEAN ? put_int(c_, f->n_rows, !!value)
              : fail_code(EIDER_EINVAL, "column '%s' is %s, not BOOLEAN", c_->name,
                          eider_type_name(c_->type)));
}

int eider_frame_append_int64(eider_frame *f, int64_t value)
{
    APPEND(f, put_int(c_, f->n_rows, value));
}

int eider_frame_append_double(eider_frame *f, double value)
{
    APPEND(f, put_double(c_, f->n_rows, value));
}

int eider_frame_append_text(eider_frame *f, const char *value)
{
    if (!value)
        return eider_frame_append_null(f);
    APPEND(f, put_text(c_, f->n_rows, value));
}

int eider_frame_end_row(eider_frame *f)
{
    if (!f)
        return EIDER_EINVAL;
    if (f->n_cols == 0)             /* else it would count rows that no column holds */
        return fail_code(EIDER_EINVAL, "end_row on a frame with no columns: add columns first");
    if (f->next_col != f->n_cols)
        return fail_code(EIDER_EINVAL, "row %zu has %zu values but the frame has %zu columns",
                         f->n_rows, f->next_col, f->n_cols);
    f->next_col = 0;
    f->n_rows++;
    return EIDER_OK;
}

int eider_frame_add_column_data(eider_frame *f, const char *name, eider_type type,
                                const void *values, const uint8_t *valid, size_t n)
{
    if (!f)
        return EIDER_EINVAL;
    if (!values && n)
        return fail_code(EIDER_EINVAL, "column '%s': %zu values but no array of them",
                         name ? name : "", n);
    if (f->n_cols && n != f->n_rows)
        return fail_code(EIDER_EINVAL, "column '%s' has %zu values but the frame has %zu rows",
                         name ? name : "", n, f->n_rows);
    /* Checked before the column is added, so that a refused column leaves no trace:
     * DECIMAL(18,3) holds |v| < 10^18, not every int64. */
    for (size_t r = 0; type == EIDER_TYPE_DECIMAL && r < n; r++) {
        int64_t v = ((const int64_t *)values)[r];
        if ((!valid || valid[r]) && (v >= pow10_i64(18) || v <= -pow10_i64(18)))
            return fail_code(EIDER_EINVAL, "column '%s': row %zu: %" PRId64 " does not fit "
                             "DECIMAL(18,3)", name ? name : "", r, v);
    }
    int col = eider_frame_add_column(f, name, type);
    if (col < 0)
        return col;
    eider__column *c = &f->cols[col];
    column_reserve(c, n);
    /* add_column made the frame's existing rows NULL: these values replace them. */
    free(c->valid);
    c->valid = NULL;
    if (type == EIDER_TYPE_VARCHAR) {
        const char *const *s = values;
        c->text_len = 0;
        for (size_t r = 0; r < n; r++)
            eider__column_push_text(c, r, s[r] ? s[r] : "", s[r] ? strlen(s[r]) : 0);
    } else if (type == EIDER_TYPE_BOOLEAN) {
        const _Bool *b = values;
        for (size_t r = 0; r < n; r++)
            ((uint8_t *)c->data)[r] = b[r];
    } else {
        memcpy(c->data, values, n * eider__type_size(type));
    }
    for (size_t r = 0; r < n; r++)
        if ((valid && !valid[r]) || (type == EIDER_TYPE_VARCHAR && !((const char *const *)values)[r]))
            eider__column_set_null(c, r);
    f->n_rows = n;
    return col;
}

size_t eider_frame_rows(const eider_frame *f)
{
    return f ? f->n_rows : 0;
}

size_t eider_frame_columns(const eider_frame *f)
{
    return f ? f->n_cols : 0;
}

const char *eider_frame_column_name(const eider_frame *f, size_t i)
{
    return f && i < f->n_cols ? f->cols[i].name : NULL;
}

int eider_frame_column_type(const eider_frame *f, size_t i, int *width, int *scale)
{
    if (!f || i >= f->n_cols)
        return -1;
    if (width)
        *width = f->cols[i].width;
    if (scale)
        *scale = f->cols[i].scale;
    return (int)f->cols[i].type;
}

long eider_frame_column_index(const eider_frame *f, const char *name)
{
    for (size_t i = 0; f && name && i < f->n_cols; i++)
        if (strcmp(f->cols[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* The column of a read, or NULL when the cell is out of range or NULL. */
static const eider__column *cell(const eider_frame *f, size_t col, size_t row)
{
    if (!f || col >= f->n_cols || row >= f->n_rows)
        return NULL;
    const eider__column *c = &f->cols[col];
    return eider__column_valid(c, row) ? c : NULL;
}

int eider_frame_is_null(const eider_frame *f, size_t col, size_t row)
{
    return cell(f, col, row) == NULL;
}

int64_t eider_frame_get_int64(const eider_frame *f, size_t col, size_t row)
{
    const eider__column *c = cell(f, col, row);
    if (!c)
        return 0;
    switch (c->type) {
    case EIDER_TYPE_BOOLEAN: return ((const uint8_t *)c->data)[row];
    case EIDER_TYPE_INTEGER: case EIDER_TYPE_DATE: return ((const int32_t *)c->data)[row];
    case EIDER_TYPE_DOUBLE: return (int64_t)((const double *)c->data)[row];
    case EIDER_TYPE_VARCHAR: return strtoll(c->text + ((const int64_t *)c->data)[row], NULL, 10);
    default: return ((const int64_t *)c->data)[row];
    }
}

double eider_frame_get_double(const eider_frame *f, size_t col, size_t row)
{
    const eider__column *c = cell(f, col, row);
    if (!c)
        return 0;
    if (c->type == EIDER_TYPE_DOUBLE)
        return ((const double *)c->data)[row];
    if (c->type == EIDER_TYPE_DECIMAL)
        return (double)((const int64_t *)c->data)[row] / pow(10, c->scale);
    if (c->type == EIDER_TYPE_VARCHAR)
        return strtod(c->text + ((const int64_t *)c->data)[row], NULL);
    return (double)eider_frame_get_int64(f, col, row);
}

int eider_frame_get_bool(const eider_frame *f, size_t col, size_t row)
{
    return eider_frame_get_int64(f, col, row) != 0;
}

const char *eider_frame_get_text(const eider_frame *f, size_t col, size_t row)
{
    const eider__column *c = cell(f, col, row);
    if (!c || c->type != EIDER_TYPE_VARCHAR)
        return NULL;
    return c->text + ((const int64_t *)c->data)[row];
}

const void *eider_frame_column_data(const eider_frame *f, size_t col)
{
    if (!f || col >= f->n_cols)
        return NULL;
    eider_type t = f->cols[col].type;
    return t == EIDER_TYPE_VARCHAR || t == EIDER_TYPE_BOOLEAN ? NULL : f->cols[col].data;
}

/* The shortest "%g" that reads back as v (DuckDB prints doubles so; "%g" alone keeps
 * six digits, printing 3.14159265 as 3.14159). */
static void format_double(double v, eider__buf *out)
{
    char s[40];
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(s, sizeof(s), "%.*g", digits, v);
        if (strtod(s, NULL) == v)
            break;
    }
    eider__buf_puts(out, s);
}

/* An unscaled DECIMAL printed from its integer (through a double, 18 digits would not
 * print exactly). */
static void format_decimal(int64_t v, int scale, eider__buf *out)
{
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v, p = (uint64_t)pow10_i64(scale);
    eider__buf_printf(out, "%s%" PRIu64, v < 0 ? "-" : "", u / p);
    if (scale)
        eider__buf_printf(out, ".%0*" PRIu64, scale, u % p);
}

/* Format one cell as text, the way DuckDB prints it. */
static void format_cell(const eider_frame *f, size_t col, size_t row, eider__buf *out)
{
    const eider__column *c = cell(f, col, row);
    int64_t v = c ? eider_frame_get_int64(f, col, row) : 0;
    if (!c) {
        eider__buf_puts(out, "NULL");
        return;
    }
    switch (c->type) {
    case EIDER_TYPE_BOOLEAN: eider__buf_puts(out, v ? "true" : "false"); return;
    case EIDER_TYPE_DOUBLE: format_double(eider_frame_get_double(f, col, row), out); return;
    case EIDER_TYPE_VARCHAR: eider__buf_puts(out, eider_frame_get_text(f, col, row)); return;
    case EIDER_TYPE_DECIMAL: format_decimal(v, c->scale, out); return;
    case EIDER_TYPE_DATE: case EIDER_TYPE_TIMESTAMP: case EIDER_TYPE_TIMESTAMP_TZ: {
        /* DuckDB's infinities: the type's largest value and its negation. */
        int64_t inf = c->type == EIDER_TYPE_DATE ? INT32_MAX : INT64_MAX;
        if (v == inf || v == -inf) {
            eider__buf_puts(out, v < 0 ? "-infinity" : "infinity");
            return;
        }
        int64_t secs = c->type == EIDER_TYPE_DATE ? v * 86400 : (v - (((v % 1000000) + 1000000) % 1000000)) / 1000000;
        time_t t = (time_t)secs;
        struct tm tm;
        char s[64];
        gmtime_r(&t, &tm);
        strftime(s, sizeof(s), c->type == EIDER_TYPE_DATE ? "%Y-%m-%d" : "%Y-%m-%d %H:%M:%S", &tm);
        eider__buf_puts(out, s);
        if (c->type != EIDER_TYPE_DATE && v % 1000000) {
            /* Microseconds without trailing zeros, as DuckDB prints them: ".25". */
            char frac[8];
            snprintf(frac, sizeof(frac), "%06d", (int)(((v % 1000000) + 1000000) % 1000000));
            for (size_t k = strlen(frac); k > 1 && frac[k - 1] == '0'; k--)
                frac[k - 1] = '\0';
            eider__buf_printf(out, ".%s", frac);
        }
        if (c->type == EIDER_TYPE_TIMESTAMP_TZ)
            eider__buf_puts(out, "+00");
        return;
    }
    default: eider__buf_printf(out, "%" PRId64, v); return;
    }
}

void eider_frame_print(const eider_frame *f, size_t n, FILE *out)
{
    if (!f || !out)
        return;
    size_t rows = n < f->n_rows ? n : f->n_rows;
    size_t *width = eider__xcalloc(f->n_cols + 1, sizeof(*width));
    eider__buf cellbuf = { 0 };
    for (size_t c = 0; c < f->n_cols; c++) {
        width[c] = strlen(f->cols[c].name);
        if (strlen(eider_type_name(f->cols[c].type)) > width[c])
            width[c] = strlen(eider_type_name(f->cols[c].type));
        for (size_t r = 0; r < rows; r++) {
            eider__buf_reset(&cellbuf);
            format_cell(f, c, r, &cellbuf);
            if (cellbuf.len > width[c])
                width[c] = cellbuf.len > 40 ? 40 : cellbuf.len;
        }
    }
    for (size_t c = 0; c < f->n_cols; c++)
        fprintf(out, "%s%-*s", c ? "  " : "", (int)width[c], f->cols[c].name);
    fputc('\n', out);
    for (size_t c = 0; c < f->n_cols; c++)
        fprintf(out, "%s%-*s", c ? "  " : "", (int)width[c], eider_type_name(f->cols[c].type));
    fputc('\n', out);
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < f->n_cols; c++) {
            eider__buf_reset(&cellbuf);
            format_cell(f, c, r, &cellbuf);
            fprintf(out, "%s%-*.*s", c ? "  " : "", (int)width[c], (int)width[c], eider__buf_str(&cellbuf));
        }
        fputc('\n', out);
    }
    fprintf(out, "(%zu rows, %zu columns%s)\n", f->n_rows, f->n_cols, rows < f->n_rows ? ", head shown" : "");
    eider__buf_release(&cellbuf);
    free(width);
}
