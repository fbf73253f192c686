/*
 * frame.c — eider_frame, the in-memory columnar table: building it by rows or by
 * columns, typed reads, printing, and the thread's last frame error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
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
    if (eider_frame_column_index(f, name) >= 0)
        return fail_code(EIDER_EDUPLICATE, "the frame already has a column '%s'", name);
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
        for (int i = 0; i < c->scale; i++)
            if (__builtin_mul_overflow(scaled, 10, &scaled))
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
        if (!(fabs(scaled) < 1e18))
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

/* "YYYY-MM-DD[ HH:MM[:SS[.ffffff]]][+HH[:MM]|Z]" into microseconds; date_only when
 * no time was given. */
static int parse_time(const char *s, int64_t *us, int *date_only)
{
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, n = 0;
    double sec = 0;
    if (sscanf(s, "%d-%d-%d%n", &y, &mo, &d, &n) != 3 || mo < 1 || mo > 12 || d < 1 || d > 31)
        return -1;
    const char *p = s + n;
    *date_only = *p == '\0';
    if (*p == ' ' || *p == 'T') {
        int m = 0;
        if (sscanf(p + 1, "%d:%d%n", &h, &mi, &m) != 2)
            return -1;
        p += 1 + m;
        if (*p == ':' && sscanf(p + 1, "%lf%n", &sec, &m) == 1)
            p += 1 + m;
    }
    int64_t offset_min = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh = 0, om = 0;
        if (sscanf(p + 1, "%d:%d", &oh, &om) < 1)
            return -1;
        offset_min = (*p == '-' ? -1 : 1) * (oh * 60 + om);
        p += strlen(p);
    }
    if (*p)
        return -1;
    int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60;
    *us = (secs - offset_min * 60) * 1000000 + (int64_t)llround(sec * 1e6);
    return 0;
}

static int put_text(eider__column *c, size_t r, const char *s)
{
    char *end = NULL;
    int64_t us = 0;
    int date_only = 0;
    errno = 0;
    switch (c->type) {
    case EIDER_TYPE_VARCHAR:
        eider__column_push_text(c, r, s, strlen(s));
        return EIDER_OK;
    case EIDER_TYPE_BOOLEAN:
        if (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "t"))
            return put_int(c, r, 1);
        if (!strcasecmp(s, "false") || !strcmp(s, "0") || !strcasecmp(s, "f"))
            return put_int(c, r, 0);
        break;
    case EIDER_TYPE_INTEGER: case EIDER_TYPE_BIGINT: {
        long long v = strtoll(s, &end, 10);
        if (*s && !*end && !errno)
            return put_int(c, r, v);
        break;
    }
    case EIDER_TYPE_DOUBLE: case EIDER_TYPE_DECIMAL: {
        double v = strtod(s, &end);
        if (*s && !*end)
            return put_double(c, r, v);
        break;
    }
    case EIDER_TYPE_DATE:
        if (parse_time(s, &us, &date_only) == 0 && date_only)
            return put_int(c, r, us / 86400000000LL);
        break;
    case EIDER_TYPE_TIMESTAMP: case EIDER_TYPE_TIMESTAMP_TZ:
        if (parse_time(s, &us, &date_only) == 0)
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
    if (!f || (!values && n))
        return EIDER_EINVAL;
    if (f->n_cols && n != f->n_rows)
        return fail_code(EIDER_EINVAL, "column '%s' has %zu values but the frame has %zu rows",
                         name ? name : "", n, f->n_rows);
    int col = eider_frame_add_column(f, name, type);
    if (col < 0)
        return col;
    eider__column *c = &f->cols[col];
    column_reserve(c, n);
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
    case EIDER_TYPE_DOUBLE: eider__buf_printf(out, "%g", eider_frame_get_double(f, col, row)); return;
    case EIDER_TYPE_VARCHAR: eider__buf_puts(out, eider_frame_get_text(f, col, row)); return;
    case EIDER_TYPE_DECIMAL: eider__buf_printf(out, "%.*f", c->scale, eider_frame_get_double(f, col, row)); return;
    case EIDER_TYPE_DATE: case EIDER_TYPE_TIMESTAMP: case EIDER_TYPE_TIMESTAMP_TZ: {
        int64_t secs = c->type == EIDER_TYPE_DATE ? v * 86400 : (v - (((v % 1000000) + 1000000) % 1000000)) / 1000000;
        time_t t = (time_t)secs;
        struct tm tm;
        char s[64];
        gmtime_r(&t, &tm);
        strftime(s, sizeof(s), c->type == EIDER_TYPE_DATE ? "%Y-%m-%d" : "%Y-%m-%d %H:%M:%S", &tm);
        eider__buf_puts(out, s);
        if (c->type != EIDER_TYPE_DATE && v % 1000000)
            eider__buf_printf(out, ".%06d", (int)(((v % 1000000) + 1000000) % 1000000));
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
