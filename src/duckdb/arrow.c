/*
 * arrow.c — frames across the Arrow C Data Interface and the Arrow C stream interface.
 *
 * Export copies a frame's columns into buffers that the exported structs own, so a
 * schema, array or stream outlives the frame; the release callbacks free everything.
 * Import reads a struct array (a record batch) of the formats a frame can hold and
 * copies its values into a new frame; the caller's Arrow structs are left as they were.
 * Both assume a little-endian host, as the frame's layout does.
 */
#include <errno.h>
#include <inttypes.h>

#include "frame.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "arrow.c assumes a little-endian host (Arrow's and the frame's byte order)"
#endif

/* ---- export: schemas ---- */

/* What an exported schema owns: its format, its name and its children. */
typedef struct schema_private {
    char format[32];
    char *name;
    struct ArrowSchema **children;
} schema_private;

static void schema_release(struct ArrowSchema *s)
{
    schema_private *p = s->private_data;
    for (int64_t i = 0; i < s->n_children; i++) {
        if (p->children[i]->release)
            p->children[i]->release(p->children[i]);
        free(p->children[i]);
    }
    free(p->children);
    free(p->name);
    free(p);
    s->release = NULL;
}

static void schema_init(struct ArrowSchema *s, const char *format, const char *name,
                        int64_t flags, size_t n_children)
{
    schema_private *p = eider__xcalloc(1, sizeof(*p));
    snprintf(p->format, sizeof(p->format), "%s", format);
    p->name = eider__xstrdup(name);
    p->children = eider__xcalloc(n_children, sizeof(*p->children));
    *s = (struct ArrowSchema){ .format = p->format, .name = p->name, .flags = flags,
                               .n_children = (int64_t)n_children, .children = p->children,
                               .release = schema_release, .private_data = p };
}

/* The Arrow format string of column c, into buf. */
static void column_format(const eider__column *c, char *buf, size_t size)
{
    static const char *const formats[] = { "b", "i", "l", "g", "d", "U", "tdD", "tsu:", "tsu:UTC" };
    if (c->type == EIDER_TYPE_DECIMAL)
        snprintf(buf, size, "d:%d,%d", c->width, c->scale);
    else
        snprintf(buf, size, "%s", formats[c->type]);
}

static void export_schema(const eider_frame *f, struct ArrowSchema *out)
{
    schema_init(out, "+s", "", 0, f->n_cols);
    for (size_t i = 0; i < f->n_cols; i++) {
        char format[32] = "";
        column_format(&f->cols[i], format, sizeof(format));
        out->children[i] = eider__xmalloc(sizeof(struct ArrowSchema));
        schema_init(out->children[i], format, f->cols[i].name, ARROW_FLAG_NULLABLE, 0);
    }
}

/* ---- export: arrays ---- */

/* What an exported array owns: its buffers (validity, then values or offsets, then
 * string bytes) and its children. */
typedef struct array_private {
    void *mem[3];
    const void *buffers[3];
    struct ArrowArray **children;
} array_private;

static void array_release(struct ArrowArray *a)
{
    array_private *p = a->private_data;
    for (int64_t i = 0; i < a->n_children; i++) {
        if (p->children[i]->release)
            p->children[i]->release(p->children[i]);
        free(p->children[i]);
    }
    for (size_t i = 0; i < EIDER__ARRAY_LEN(p->mem); i++)
        free(p->mem[i]);
    free(p->children);
    free(p);
    a->release = NULL;
}

static array_private *array_init(struct ArrowArray *a, size_t length, int64_t n_buffers,
                                 size_t n_children)
{
    array_private *p = eider__xcalloc(1, sizeof(*p));
    p->children = eider__xcalloc(n_children, sizeof(*p->children));
    *a = (struct ArrowArray){ .length = (int64_t)length, .n_buffers = n_buffers,
                              .n_children = (int64_t)n_children, .buffers = p->buffers,
                              .children = p->children, .release = array_release,
                              .private_data = p };
    return p;
}

/* A zeroed buffer of at least bytes bytes, padded to 8 (never NULL, even for 0). */
static void *buffer_new(size_t bytes)
{
    return eider__xcalloc((bytes + 7) / 8, 8);
}

/* The 64 bits of words from bit pos on, reading no word at or past bit end. */
static uint64_t bits_at(const uint64_t *words, size_t pos, size_t end)
{
    size_t i = pos / 64, shift = pos % 64;
    uint64_t v = words[i] >> shift;
    if (shift && (i + 1) * 64 < end)
        v |= words[i + 1] << (64 - shift);
    return v;
}

/* Rows start..start+n of c's validity as an Arrow bitmap into *out (left NULL when
 * every row is valid). Returns the number of NULLs. */
static int64_t export_validity(const eider__column *c, size_t start, size_t n, void **out)
{
    size_t words = (n + 63) / 64, valid = 0;
    uint64_t *bits = NULL;
    if (!c->valid)
        return 0;
    bits = buffer_new(words * 8);
    for (size_t w = 0; w < words; w++) {
        bits[w] = bits_at(c->valid, start + 64 * w, start + n);
        if (n - 64 * w < 64)
            bits[w] &= (UINT64_C(1) << (n - 64 * w)) - 1;
        valid += (size_t)__builtin_popcountll(bits[w]);
    }
    if (valid == n) {
        free(bits);
        return 0;
    }
    *out = bits;
    return (int64_t)(n - valid);
}

/* Byte-per-value booleans packed into an Arrow bitmap. */
static void *pack_bools(const uint8_t *v, size_t n)
{
    uint8_t *bits = buffer_new((n + 7) / 8);
    for (size_t r = 0; r < n; r++)
        if (v[r])
            bits[r / 8] |= (uint8_t)(1u << (r % 8));
    return bits;
}

/* int64 unscaled decimals as decimal128: little-endian two's complement, sign-extended. */
static void *widen_decimals(const int64_t *v, size_t n)
{
    uint64_t *out = buffer_new(n * 16);
    for (size_t r = 0; r < n; r++) {
        out[2 * r] = (uint64_t)v[r];
        out[2 * r + 1] = v[r] < 0 ? UINT64_MAX : 0;
    }
    return out;
}

/* Rows start..start+n of a VARCHAR column as large_utf8: fresh int64 offsets from 0
 * into *offsets, the bytes without the frame's NULs into *data. */
static void export_text(const eider__column *c, size_t start, size_t n, void **offsets, void **data)
{
    const int64_t *from = (const int64_t *)c->data + start;
    int64_t *off = buffer_new((n + 1) * sizeof(int64_t));
    char *bytes = NULL;
    for (size_t r = 0; r < n; r++)
        off[r + 1] = off[r] + (from[r + 1] - from[r] - 1);
    bytes = buffer_new((size_t)off[n]);
    for (size_t r = 0; r < n; r++)
        if (off[r + 1] > off[r])
            memcpy(bytes + off[r], c->text + from[r], (size_t)(off[r + 1] - off[r]));
    *offsets = off;
    *data = bytes;
}

static void export_column(const eider__column *c, size_t start, size_t n, struct ArrowArray *out)
{
    size_t size = eider__type_size(c->type);
    array_private *p = array_init(out, n, c->type == EIDER_TYPE_VARCHAR ? 3 : 2, 0);
    out->null_count = export_validity(c, start, n, &p->mem[0]);
    if (c->type == EIDER_TYPE_BOOLEAN)
        p->mem[1] = pack_bools((const uint8_t *)c->data + start, n);
    else if (c->type == EIDER_TYPE_DECIMAL)
        p->mem[1] = widen_decimals((const int64_t *)c->data + start, n);
    else if (c->type == EIDER_TYPE_VARCHAR)
        export_text(c, start, n, &p->mem[1], &p->mem[2]);
    else
        p->mem[1] = memcpy(buffer_new(n * size), (const char *)c->data + start * size, n * size);
    for (size_t i = 0; i < EIDER__ARRAY_LEN(p->mem); i++)
        p->buffers[i] = p->mem[i];
}

/* Rows start..start+n of f as a struct array, one child per column. */
static void export_batch(const eider_frame *f, size_t start, size_t n, struct ArrowArray *out)
{
    array_private *p = array_init(out, n, 1, f->n_cols);
    for (size_t i = 0; i < f->n_cols; i++) {
        p->children[i] = eider__xmalloc(sizeof(struct ArrowArray));
        export_column(&f->cols[i], start, n, p->children[i]);
    }
}

int eider_frame_to_arrow(const eider_frame *frame, struct ArrowSchema *schema,
                         struct ArrowArray *array)
{
    if (!frame || !schema || !array) {
        eider__frame_fail("eider_frame_to_arrow() needs a frame, a schema and an array");
        return EIDER_EINVAL;
    }
    export_schema(frame, schema);
    export_batch(frame, 0, frame->n_rows, array);
    return EIDER_OK;
}

/* ---- export: streams ---- */

/* What an exported stream owns: the frame's columns without rows (for get_schema) and
 * the batches, exported up front; those before next have been handed out. */
typedef struct stream_private {
    eider_frame *shape;
    struct ArrowArray *batches;
    size_t n_batches, next;
} stream_private;

static int stream_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
    stream_private *p = s->private_data;
    if (!out)
        return EINVAL;
    export_schema(p->shape, out);
    return 0;
}

/* The next batch, moved out; a released array at the end. */
static int stream_get_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
    stream_private *p = s->private_data;
    if (!out)
        return EINVAL;
    if (p->next == p->n_batches) {
        memset(out, 0, sizeof(*out));
        return 0;
    }
    *out = p->batches[p->next];
    p->batches[p->next++].release = NULL;
    return 0;
}

/* The stream's batches are made before it is handed out, so no call fails but for a
 * NULL out, which has no message. */
static const char *stream_get_last_error(struct ArrowArrayStream *s)
{
    return NULL;
}

static void stream_release(struct ArrowArrayStream *s)
{
    stream_private *p = s->private_data;
    for (size_t i = p->next; i < p->n_batches; i++)
        p->batches[i].release(&p->batches[i]);
    free(p->batches);
    eider_frame_free(p->shape);
    free(p);
    s->release = NULL;
}

/* A frame with f's columns and no rows. */
static eider_frame *frame_shape(const eider_frame *f)
{
    eider_frame *shape = eider_frame_new();
    for (size_t i = 0; i < f->n_cols; i++) {
        const eider__column *c = &f->cols[i];
        if (c->type == EIDER_TYPE_DECIMAL)
            eider_frame_add_decimal_column(shape, c->name, c->width, c->scale);
        else
            eider_frame_add_column(shape, c->name, c->type);
    }
    return shape;
}

int eider_frame_to_arrow_stream(const eider_frame *frame, size_t batch_rows,
                                struct ArrowArrayStream *out)
{
    stream_private *p = NULL;
    size_t per = 0;
    if (!frame || !out) {
        eider__frame_fail("eider_frame_to_arrow_stream() needs a frame and a stream");
        return EIDER_EINVAL;
    }
    per = batch_rows ? batch_rows : frame->n_rows;
    p = eider__xcalloc(1, sizeof(*p));
    p->shape = frame_shape(frame);
    p->n_batches = per ? (frame->n_rows + per - 1) / per : 0;
    p->batches = eider__xcalloc(p->n_batches, sizeof(*p->batches));
    for (size_t b = 0; b < p->n_batches; b++) {
        size_t start = b * per, left = frame->n_rows - start;
        export_batch(frame, start, left < per ? left : per, &p->batches[b]);
    }
    *out = (struct ArrowArrayStream){ .get_schema = stream_get_schema,
                                      .get_next = stream_get_next,
                                      .get_last_error = stream_get_last_error,
                                      .release = stream_release, .private_data = p };
    return EIDER_OK;
}

/* ---- import: formats ---- */

typedef enum arrow_kind {
    KIND_BOOL, KIND_INT8, KIND_INT16, KIND_INT32, KIND_INT64, KIND_UINT8, KIND_UINT16,
    KIND_UINT32, KIND_FLOAT, KIND_DOUBLE, KIND_DECIMAL, KIND_UTF8, KIND_LARGE_UTF8,
    KIND_DATE32, KIND_DATE64, KIND_TIMESTAMP
} arrow_kind;

/* How one Arrow column becomes a frame column. */
typedef struct arrow_column {
    const char *name;                /* the schema's, borrowed */
    arrow_kind kind;
    eider_type type;
    int width, scale;                /* DECIMAL */
    int64_t mul, div;                /* TIMESTAMP: microseconds = value * mul / div */
} arrow_column;

static const struct {
    const char *format;
    arrow_kind kind;
    eider_type type;
} simple_formats[] = {
    { "b", KIND_BOOL, EIDER_TYPE_BOOLEAN },      { "c", KIND_INT8, EIDER_TYPE_INTEGER },
    { "s", KIND_INT16, EIDER_TYPE_INTEGER },     { "i", KIND_INT32, EIDER_TYPE_INTEGER },
    { "l", KIND_INT64, EIDER_TYPE_BIGINT },      { "C", KIND_UINT8, EIDER_TYPE_INTEGER },
    { "S", KIND_UINT16, EIDER_TYPE_INTEGER },    { "I", KIND_UINT32, EIDER_TYPE_BIGINT },
    { "f", KIND_FLOAT, EIDER_TYPE_DOUBLE },      { "g", KIND_DOUBLE, EIDER_TYPE_DOUBLE },
    { "u", KIND_UTF8, EIDER_TYPE_VARCHAR },      { "U", KIND_LARGE_UTF8, EIDER_TYPE_VARCHAR },
    { "tdD", KIND_DATE32, EIDER_TYPE_DATE },     { "tdm", KIND_DATE64, EIDER_TYPE_DATE },
};

static int unsupported(const char *name, const char *format)
{
    eider__frame_fail("column '%s' has Arrow format '%s', which frames do not hold; cast it to "
                      "bool, an integer up to int64 or uint32, float, double, decimal128 of "
                      "width up to 18, utf8, date or timestamp first", name, format);
    return -1;
}

/* "d:W,S" or "d:W,S,128", width up to 18. */
static int parse_decimal(const char *format, arrow_column *ac)
{
    char *end = NULL;
    long width = strtol(format + 2, &end, 10), scale = 0, bits = 128;
    if (*end != ',')
        return unsupported(ac->name, format);
    scale = strtol(end + 1, &end, 10);
    if (*end == ',')
        bits = strtol(end + 1, &end, 10);
    if (*end || width < 1 || scale < 0 || scale > width)
        return unsupported(ac->name, format);
    if (bits != 128) {
        eider__frame_fail("column '%s' is a %ld-bit Arrow decimal (format '%s'); frames hold "
                          "128-bit decimals of width up to 18: cast it first", ac->name, bits, format);
        return -1;
    }
    if (width > 18) {
        eider__frame_fail("column '%s' is DECIMAL(%ld,%ld) in Arrow (format '%s'); frames hold "
                          "DECIMAL of width up to 18: cast it to a narrower DECIMAL or to DOUBLE "
                          "first", ac->name, width, scale, format);
        return -1;
    }
    *ac = (arrow_column){ .name = ac->name, .kind = KIND_DECIMAL, .type = EIDER_TYPE_DECIMAL,
                         .width = (int)width, .scale = (int)scale };
    return 0;
}

/* "ts" unit ":" zone: seconds, milli-, micro- or nanoseconds; a zone makes it TIMESTAMP_TZ. */
static int parse_timestamp(const char *format, arrow_column *ac)
{
    static const char units[] = "smun";
    static const int64_t mul[] = { 1000000, 1000, 1, 1 }, div[] = { 1, 1, 1, 1000 };
    const char *unit = format[2] ? strchr(units, format[2]) : NULL;
    if (!unit || format[3] != ':')
        return unsupported(ac->name, format);
    ac->kind = KIND_TIMESTAMP;
    ac->type = format[4] ? EIDER_TYPE_TIMESTAMP_TZ : EIDER_TYPE_TIMESTAMP;
    ac->mul = mul[unit - units];
    ac->div = div[unit - units];
    return 0;
}

/* How the column named ac->name with Arrow format format becomes a frame column. */
static int parse_format(const char *format, arrow_column *ac)
{
    for (size_t i = 0; i < EIDER__ARRAY_LEN(simple_formats); i++)
        if (strcmp(format, simple_formats[i].format) == 0) {
            ac->kind = simple_formats[i].kind;
            ac->type = simple_formats[i].type;
            return 0;
        }
    if (strncmp(format, "d:", 2) == 0)
        return parse_decimal(format, ac);
    if (strncmp(format, "ts", 2) == 0)
        return parse_timestamp(format, ac);
    return unsupported(ac->name, format);
}

/* Add the frame column for Arrow child schema s (column i). */
static int add_arrow_column(eider_frame *f, const struct ArrowSchema *s, size_t i, arrow_column *ac)
{
    int rc = 0;
    if (!s || !s->format) {
        eider__frame_fail("column %zu of the Arrow schema has no format", i + 1);
        return -1;
    }
    if (!s->name || !*s->name) {
        eider__frame_fail("column %zu of the Arrow schema has no name: frames need named columns", i + 1);
        return -1;
    }
    ac->name = s->name;
    if (s->dictionary) {
        eider__frame_fail("column '%s' is dictionary-encoded in Arrow, which frames do not hold; "
                          "decode it first", s->name);
        return -1;
    }
    if (parse_format(s->format, ac))
        return -1;
    if (ac->type == EIDER_TYPE_DECIMAL)
        rc = eider_frame_add_decimal_column(f, s->name, ac->width, ac->scale);
    else
        rc = eider_frame_add_column(f, s->name, ac->type);
    return rc < 0 ? -1 : 0;
}

/* A frame with the columns of a struct schema, no rows; how to read each in *cols. */
static eider_frame *frame_for_schema(const struct ArrowSchema *schema, arrow_column **cols)
{
    eider_frame *f = NULL, *ret = NULL;
    arrow_column *ac = NULL;
    if (!schema || !schema->release || !schema->format) {
        eider__frame_fail("no Arrow schema (NULL or released)");
        goto out;
    }
    if (strcmp(schema->format, "+s") != 0 || schema->n_children < 0
        || (schema->n_children && !schema->children)) {
        eider__frame_fail("an Arrow record batch is a struct array (format '+s'), not '%s'",
                          schema->format);
        goto out;
    }
    ac = eider__xcalloc((size_t)schema->n_children, sizeof(*ac));
    f = eider_frame_new();
    for (int64_t i = 0; i < schema->n_children; i++)
        if (add_arrow_column(f, schema->children[i], (size_t)i, &ac[i]))
            goto out;
    ret = f;
    f = NULL;
    *cols = ac;
    ac = NULL;
out:
    free(ac);
    eider_frame_free(f);
    return ret;
}

/* ---- import: values ---- */

/* Bit j of an Arrow array's validity bitmap (none: valid). */
static int arrow_valid(const struct ArrowArray *a, int64_t j)
{
    const uint8_t *bits = a->n_buffers > 0 && a->buffers ? a->buffers[0] : NULL;
    return !bits || (bits[j / 8] >> (j % 8)) & 1;
}

/* Row r of c NULL: a zero value (empty text) and its bit cleared. */
static void column_null(eider__column *c, size_t r)
{
    if (c->type == EIDER_TYPE_VARCHAR)
        eider__column_push_text(c, r, "", 0);
    else
        memset((char *)c->data + r * eider__type_size(c->type), 0, eider__type_size(c->type));
    eider__column_set_null(c, r);
}

/* Value j of a fixed-width integer buffer of kind (DATE32 and DATE64 too). */
static int64_t fixed_int(arrow_kind kind, const void *buf, int64_t j)
{
    switch (kind) {
    case KIND_INT8: return ((const int8_t *)buf)[j];
    case KIND_INT16: return ((const int16_t *)buf)[j];
    case KIND_INT32: case KIND_DATE32: return ((const int32_t *)buf)[j];
    case KIND_UINT8: return ((const uint8_t *)buf)[j];
    case KIND_UINT16: return ((const uint16_t *)buf)[j];
    case KIND_UINT32: return ((const uint32_t *)buf)[j];
    default: return ((const int64_t *)buf)[j];
    }
}

/* a / b rounded toward negative infinity (b > 0). */
static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

static int read_text(const arrow_column *ac, const struct ArrowArray *a, int64_t j,
                     eider__column *c, size_t r)
{
    const char *bytes = a->buffers[2];
    int64_t from = 0, to = 0;
    if (ac->kind == KIND_UTF8) {
        from = ((const int32_t *)a->buffers[1])[j];
        to = ((const int32_t *)a->buffers[1])[j + 1];
    } else {
        from = ((const int64_t *)a->buffers[1])[j];
        to = ((const int64_t *)a->buffers[1])[j + 1];
    }
    if (from < 0 || to < from || (to > from && !bytes)) {
        eider__frame_fail("column '%s': Arrow string %" PRId64 " has bad offsets", ac->name, j);
        return -1;
    }
    eider__column_push_text(c, r, to > from ? bytes + from : "", (size_t)(to - from));
    return 0;
}

/* A decimal128 whose high word is not the low word's sign does not fit in int64. */
static int read_decimal(const arrow_column *ac, const void *buf, int64_t j, int64_t *v)
{
    const int64_t *words = buf;
    *v = words[2 * j];
    if (words[2 * j + 1] == (*v < 0 ? -1 : 0))
        return 0;
    eider__frame_fail("column '%s': an Arrow decimal value is out of DECIMAL(%d,%d)'s range",
                      ac->name, ac->width, ac->scale);
    return -1;
}

/* An integer-valued cell (not BOOLEAN, DOUBLE or VARCHAR) converted to the frame's unit. */
static int read_int(const arrow_column *ac, const void *buf, int64_t j, int64_t *v)
{
    if (ac->kind == KIND_DECIMAL)
        return read_decimal(ac, buf, j, v);
    *v = fixed_int(ac->kind, buf, j);
    if (ac->kind == KIND_DATE64) {
        *v = floor_div(*v, 86400000);
        if (*v >= INT32_MIN && *v <= INT32_MAX)
            return 0;
    } else if (ac->kind == KIND_TIMESTAMP) {
        if (!__builtin_mul_overflow(*v, ac->mul, v)) {
            *v = floor_div(*v, ac->div);
            return 0;
        }
    } else {
        return 0;
    }
    eider__frame_fail("column '%s': an Arrow value is out of %s's range", ac->name,
                      eider_type_name(ac->type));
    return -1;
}

/* Copy Arrow value j of a into row r of c. */
static int read_cell(const arrow_column *ac, const struct ArrowArray *a, int64_t j,
                     eider__column *c, size_t r)
{
    const void *buf = a->buffers[1];
    int64_t v = 0;
    switch (ac->kind) {
    case KIND_BOOL:
        ((uint8_t *)c->data)[r] = (((const uint8_t *)buf)[j / 8] >> (j % 8)) & 1;
        return 0;
    case KIND_FLOAT: ((double *)c->data)[r] = ((const float *)buf)[j]; return 0;
    case KIND_DOUBLE: ((double *)c->data)[r] = ((const double *)buf)[j]; return 0;
    case KIND_UTF8: case KIND_LARGE_UTF8: return read_text(ac, a, j, c, r);
    default:
        if (read_int(ac, buf, j, &v))
            return -1;
        if (eider__type_size(c->type) == 4)
            ((int32_t *)c->data)[r] = (int32_t)v;
        else
            ((int64_t *)c->data)[r] = v;
        return 0;
    }
}

/* The child array of a column must hold the batch's rows in the buffers its format has. */
static int check_child(const arrow_column *ac, const struct ArrowArray *batch,
                       const struct ArrowArray *a)
{
    int64_t buffers = ac->type == EIDER_TYPE_VARCHAR ? 3 : 2;
    if (!a || !a->release) {
        eider__frame_fail("column '%s': its Arrow array is missing or released", ac->name);
        return -1;
    }
    if (a->dictionary || a->n_buffers != buffers || !a->buffers || a->offset < 0) {
        eider__frame_fail("column '%s': its Arrow array does not have the %" PRId64
                          " buffers of its format", ac->name, buffers);
        return -1;
    }
    if (a->length < batch->offset + batch->length || (batch->length && !a->buffers[1])) {
        eider__frame_fail("column '%s': its Arrow array has %" PRId64 " values, the batch %"
                          PRId64, ac->name, a->length, batch->offset + batch->length);
        return -1;
    }
    return 0;
}

/* Append the batch's rows of one column (child a of batch) to c, from row row0 on. */
static int import_column(const arrow_column *ac, const struct ArrowArray *batch,
                         const struct ArrowArray *a, eider__column *c, size_t row0)
{
    for (int64_t i = 0; i < batch->length; i++) {
        int64_t j = a->offset + batch->offset + i;
        size_t r = row0 + (size_t)i;
        if (!arrow_valid(batch, batch->offset + i) || !arrow_valid(a, j))
            column_null(c, r);
        else if (read_cell(ac, a, j, c, r))
            return -1;
    }
    return 0;
}

/* Append a struct array of the frame's columns (read as cols) to f. */
static int append_batch(eider_frame *f, const arrow_column *cols, const struct ArrowArray *batch)
{
    if (!batch || !batch->release) {
        eider__frame_fail("no Arrow array (NULL or released)");
        return -1;
    }
    if (batch->n_children != (int64_t)f->n_cols || (f->n_cols && !batch->children)) {
        eider__frame_fail("the Arrow array has %" PRId64 " columns and its schema %zu",
                          batch->n_children, f->n_cols);
        return -1;
    }
    if (batch->length < 0 || batch->offset < 0) {
        eider__frame_fail("the Arrow array has a negative length or offset");
        return -1;
    }
    for (size_t i = 0; i < f->n_cols; i++)
        if (check_child(&cols[i], batch, batch->children[i]))
            return -1;
    eider__frame_reserve(f, (size_t)batch->length);
    for (size_t i = 0; i < f->n_cols; i++)
        if (import_column(&cols[i], batch, batch->children[i], &f->cols[i], f->n_rows))
            return -1;
    f->n_rows += (size_t)batch->length;
    return 0;
}

eider_frame *eider_frame_from_arrow(const struct ArrowSchema *schema,
                                    const struct ArrowArray *array)
{
    arrow_column *cols = NULL;
    eider_frame *f = NULL, *ret = NULL;
    f = frame_for_schema(schema, &cols);
    if (!f || append_batch(f, cols, array))
        goto out;
    ret = f;
    f = NULL;
out:
    free(cols);
    eider_frame_free(f);
    return ret;
}

/* Leave the stream's error (or the code) as the frame error. */
static void stream_fail(struct ArrowArrayStream *s, const char *what, int rc)
{
    const char *msg = s->get_last_error ? s->get_last_error(s) : NULL;
    if (msg)
        eider__frame_fail("reading the Arrow stream's %s failed: %s", what, msg);
    else
        eider__frame_fail("reading the Arrow stream's %s failed (error %d)", what, rc);
}

/* Append the stream's batches to f until its end. */
static int append_stream(eider_frame *f, const arrow_column *cols, struct ArrowArrayStream *s)
{
    struct ArrowArray batch = { 0 };
    int rc = 0, ret = -1;
    for (;;) {
        memset(&batch, 0, sizeof(batch));
        rc = s->get_next(s, &batch);
        if (rc) {
            stream_fail(s, "next batch", rc);
            memset(&batch, 0, sizeof(batch));
            goto out;
        }
        if (!batch.release)
            break;
        if (append_batch(f, cols, &batch))
            goto out;
        batch.release(&batch);
    }
    ret = 0;
out:
    if (batch.release)
        batch.release(&batch);
    return ret;
}

eider_frame *eider_frame_from_arrow_stream(struct ArrowArrayStream *stream)
{
    struct ArrowSchema schema = { 0 };
    arrow_column *cols = NULL;
    eider_frame *f = NULL, *ret = NULL;
    int rc = 0;
    if (!stream || !stream->release) {
        eider__frame_fail("no Arrow stream (NULL or released)");
        return NULL;
    }
    rc = stream->get_schema(stream, &schema);
    if (rc) {
        stream_fail(stream, "schema", rc);
        memset(&schema, 0, sizeof(schema));
        goto out;
    }
    f = frame_for_schema(&schema, &cols);
    if (!f || append_stream(f, cols, stream))
        goto out;
    ret = f;
    f = NULL;
out:
    if (schema.release)
        schema.release(&schema);
    free(cols);
    eider_frame_free(f);
    stream->release(stream);
    return ret;
}
