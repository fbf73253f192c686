/*
 * test_arrow.c — frames across the Arrow C Data Interface: export (formats, validity
 * and null counts, bit-packed booleans, decimal128, large_utf8, buffers that outlive
 * the frame), import (offsets, the formats frames widen, refused formats), streams both
 * ways, and DuckDB reading what Eider exports and Eider reading what DuckDB exports.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "eider.h"

/* ---- helpers ---- */

static eider_frame *frame_of(const char *const *names, const eider_type *types, size_t n)
{
    eider_frame *f = eider_frame_new();
    for (size_t i = 0; i < n; i++) {
        int rc = types[i] == EIDER_TYPE_DECIMAL ? eider_frame_add_decimal_column(f, names[i], 10, 2)
                                                : eider_frame_add_column(f, names[i], types[i]);
        cr_assert_geq(rc, 0, "%s", eider_frame_error());
    }
    return f;
}

/* Append one row of text values (NULL for NULL). */
static void row(eider_frame *f, const char *const *values)
{
    for (size_t i = 0; i < eider_frame_columns(f); i++)
        cr_assert_eq(eider_frame_append_text(f, values[i]), EIDER_OK, "%s", eider_frame_error());
    cr_assert_eq(eider_frame_end_row(f), EIDER_OK, "%s", eider_frame_error());
}

static const char *const every_name[] = { "b", "i", "l", "g", "d", "v", "dt", "ts", "tz" };
static const eider_type every_type[] = {
    EIDER_TYPE_BOOLEAN, EIDER_TYPE_INTEGER, EIDER_TYPE_BIGINT, EIDER_TYPE_DOUBLE, EIDER_TYPE_DECIMAL,
    EIDER_TYPE_VARCHAR, EIDER_TYPE_DATE, EIDER_TYPE_TIMESTAMP, EIDER_TYPE_TIMESTAMP_TZ,
};
#define N_EVERY 9

/* Every type, a NULL in every column (row 3 all NULL, and one more per column). */
static eider_frame *every_type_frame(void)
{
    eider_frame *f = frame_of(every_name, every_type, N_EVERY);
    row(f, (const char *[]){ "true", "-7", "9000000000", "1.5", "-12.34", "hello", "2024-02-29",
                              "2024-02-29 12:34:56.789", "2024-02-29 12:00:00+02" });
    row(f, (const char *[]){ NULL, "2147483647", NULL, "-0.25", NULL, "", NULL,
                              "1969-12-31 23:59:59.5", NULL });
    row(f, (const char *[]){ "false", NULL, "-1", NULL, "0.01", NULL, "1900-01-01", NULL,
                              "1970-01-01 00:00:00Z" });
    row(f, (const char *[]){ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL });
    row(f, (const char *[]){ "true", "0", "0", "1e300", "99999999.99", "héllo wörld", "1969-12-31",
                              "2000-01-01 00:00:00", "2000-01-01 00:00:00" });
    return f;
}

static void expect_same_cell(const eider_frame *a, const eider_frame *b, size_t c, size_t r)
{
    int type = eider_frame_column_type(a, c, NULL, NULL);
    cr_expect_eq(eider_frame_is_null(a, c, r), eider_frame_is_null(b, c, r), "col %zu row %zu", c, r);
    if (type == EIDER_TYPE_VARCHAR && !eider_frame_is_null(a, c, r))
        cr_expect_str_eq(eider_frame_get_text(a, c, r), eider_frame_get_text(b, c, r));
    else if (type == EIDER_TYPE_DOUBLE)
        cr_expect_eq(eider_frame_get_double(a, c, r), eider_frame_get_double(b, c, r), "col %zu row %zu", c, r);
    else
        cr_expect_eq(eider_frame_get_int64(a, c, r), eider_frame_get_int64(b, c, r), "col %zu row %zu", c, r);
}

static void expect_same_frames(const eider_frame *a, const eider_frame *b)
{
    cr_assert_eq(eider_frame_columns(a), eider_frame_columns(b));
    cr_assert_eq(eider_frame_rows(a), eider_frame_rows(b));
    for (size_t c = 0; c < eider_frame_columns(a); c++) {
        int wa = 0, sa = 0, wb = 0, sb = 0;
        cr_expect_str_eq(eider_frame_column_name(a, c), eider_frame_column_name(b, c));
        cr_expect_eq(eider_frame_column_type(a, c, &wa, &sa), eider_frame_column_type(b, c, &wb, &sb),
                     "column %zu", c);
        cr_expect_eq(wa, wb);
        cr_expect_eq(sa, sb);
        for (size_t r = 0; r < eider_frame_rows(a); r++)
            expect_same_cell(a, b, c, r);
    }
}

/* A frame of one column of type and n rows from text values (NULL for NULL). */
static eider_frame *column_frame(const char *name, eider_type type, const char *const *values, size_t n)
{
    eider_frame *f = frame_of((const char *[]){ name }, (eider_type[]){ type }, 1);
    for (size_t r = 0; r < n; r++)
        row(f, &values[r]);
    return f;
}

/* ---- hand-made Arrow batches (the test owns the memory; release only marks) ---- */

static void mark_schema_released(struct ArrowSchema *s)
{
    s->release = NULL;
}

static void mark_array_released(struct ArrowArray *a)
{
    a->release = NULL;
}

#define HAND_MAX 4
typedef struct hand_batch {
    struct ArrowSchema schema, col_schema[HAND_MAX];
    struct ArrowSchema *schema_children[HAND_MAX];
    struct ArrowArray array, col[HAND_MAX];
    struct ArrowArray *array_children[HAND_MAX];
    const void *buffers[HAND_MAX][3];
    const void *struct_buffers[1];
} hand_batch;

static void hand_init(hand_batch *h, int64_t length, int64_t offset)
{
    memset(h, 0, sizeof(*h));
    h->schema = (struct ArrowSchema){ .format = "+s", .name = "", .children = h->schema_children,
                                      .release = mark_schema_released };
    h->array = (struct ArrowArray){ .length = length, .offset = offset, .n_buffers = 1,
                                    .buffers = h->struct_buffers, .children = h->array_children,
                                    .release = mark_array_released };
}

static void hand_add(hand_batch *h, const char *name, const char *format, int64_t length,
                     int64_t offset, const void *validity, const void *values, const void *bytes)
{
    int64_t i = h->schema.n_children++;
    int text = strcmp(format, "u") == 0 || strcmp(format, "U") == 0;
    h->array.n_children++;
    h->col_schema[i] = (struct ArrowSchema){ .format = format, .name = name,
                                             .flags = ARROW_FLAG_NULLABLE, .release = mark_schema_released };
    h->schema_children[i] = &h->col_schema[i];
    h->buffers[i][0] = validity;
    h->buffers[i][1] = values;
    h->buffers[i][2] = bytes;
    h->col[i] = (struct ArrowArray){ .length = length, .offset = offset, .null_count = -1,
                                     .n_buffers = text ? 3 : 2, .buffers = h->buffers[i],
                                     .release = mark_array_released };
    h->array_children[i] = &h->col[i];
}

/* Import a one-column hand-made batch of format over values (n rows, no NULLs). */
static eider_frame *import_one(const char *format, const void *values, int64_t n)
{
    hand_batch h;
    hand_init(&h, n, 0);
    hand_add(&h, "x", format, n, 0, NULL, values, NULL);
    return eider_frame_from_arrow(&h.schema, &h.array);
}

/* ---- export ---- */

Test(export, round_trip_keeps_every_type_and_every_null)
{
    eider_frame *f = every_type_frame();
    struct ArrowSchema schema = { 0 };
    struct ArrowArray array = { 0 };
    cr_assert_eq(eider_frame_to_arrow(f, &schema, &array), EIDER_OK);
    eider_frame *back = eider_frame_from_arrow(&schema, &array);
    cr_assert_not_null(back, "%s", eider_frame_error());
    expect_same_frames(f, back);
    for (size_t c = 0; c < N_EVERY; c++)
        cr_expect(eider_frame_is_null(back, c, 3), "column %zu row 3 is NULL", c);
    schema.release(&schema);
    array.release(&array);
    eider_frame_free(back);
    eider_frame_free(f);
}

Test(export, formats_name_each_type)
{
    static const char *const want[N_EVERY] = { "b", "i", "l", "g", "d:10,2", "U", "tdD", "tsu:", "tsu:UTC" };
    eider_frame *f = every_type_frame();
    struct ArrowSchema schema = { 0 };
    struct ArrowArray array = { 0 };
    cr_assert_eq(eider_frame_to_arrow(f, &schema, &array), EIDER_OK);
    cr_expect_str_eq(schema.format, "+s");
    cr_assert_eq(schema.n_children, N_EVERY);
    cr_expect_eq(array.n_buffers, 1);
    cr_expect_null(array.buffers[0]);
    for (size_t c = 0; c < N_EVERY; c++) {
        cr_expect_str_eq(schema.children[c]->format, want[c]);
        cr_expect_str_eq(schema.children[c]->name, every_name[c]);
        cr_expect_eq(schema.children[c]->flags, ARROW_FLAG_NULLABLE);
        cr_expect_eq(array.children[c]->length, 5);
    }
    schema.release(&schema);
    array.release(&array);
    eider_frame_free(f);
}

Test(export, buffers_survive_freeing_the_frame)
{
    eider_frame *f = every_type_frame();
    struct ArrowSchema schema = { 0 };
    struct ArrowArray array = { 0 };
    cr_assert_eq(eider_frame_to_arrow(f, &schema, &array), EIDER_OK);
    eider_frame_free(f);
    const int64_t *big = array.children[2]->buffers[1];
    const int64_t *off = array.children[5]->buffers[1];
    const char *bytes = array.children[5]->buffers[2];
    cr_expect_eq(big[0], INT64_C(9000000000));
    cr_expect_str_eq(schema.children[5]->name, "v");
    cr_expect_eq(off[1] - off[0], 5);
    cr_expect_eq(memcmp(bytes + off[0], "hello", 5), 0);
    f = every_type_frame();
    eider_frame *back = eider_frame_from_arrow(&schema, &array);
    cr_assert_not_null(back, "%s", eider_frame_error());
    expect_same_frames(f, back);
    schema.release(&schema);
    array.release(&array);
    eider_frame_free(back);
    eider_frame_free(f);
}

Test(export, release_marks_schema_and_array_released)
{
    eider_frame *f = every_type_frame();
    struct ArrowSchema schema = { 0 };
    struct ArrowArray array = { 0 };
    cr_assert_eq(eider_frame_to_arrow(f, &schema, &array), EIDER_OK);
    schema.release(&schema);
    array.release(&array);
    cr_expect_null(schema.release);
    cr_expect_null(array.release);
    eider_frame_free(f);
}

Test(export, null_count_counts_nulls_across_bitmap_words)
{
    eider_frame *f = frame_of((const char *[]){ "some", "none" },
                              (eider_type[]){ EIDER_TYPE_BIGINT, EIDER_TYPE_BIGINT }, 2);
    for (int64_t r = 0; r < 130; r++) {
        cr_assert_eq(r % 3 ? eider_frame_append_int64(f, r) : eider_frame_append_null(f), EIDER_OK);
        cr_assert_eq(eider_frame_append_int64(f, r), EIDER_OK);
        cr_assert_eq(eider_frame_end_row(f), EIDER_OK);
    }
    struct ArrowSchema schema = { 0 };
    struct ArrowArray array = { 0 };
    cr_assert_eq(eider_frame_to_arrow(f, &schema, &array), EIDER_OK);
    const uint8_t *bits = array.children[0]->buffers[0];
    cr_expect_eq(array.children[0]->null_count, 44);
    cr_assert_not_null(bits);
    cr_expect_eq(bits[0], 0xb6);                     /* rows 0, 3, 6 NULL: 0b10110110 */
    cr_expect_eq(bits[129 / 8] >> (129 % 8) & 1, 0); /* row 129 NULL */
    cr_expect_eq(bits[128 / 8] >> (128 % 8) & 1, 1);
    cr_expect_eq(array.children[1]->null_count, 0);
    cr_expect_null(array.children[1]->buffers[0]);
    schema.release(&schema);
    array.release(&array);
    eider_frame_free(f);
}

Test(export, booleans_are_bit_packed)
{
    const char *const v[] = { "true", "false", "true", "true", "false", "false", "false", "false",
                              "false", "true" };
    eider_frame *f = column_frame("flag", EIDER_TYPE_BOOLEAN, v, 10);
    struct ArrowSchema schema = { 0 };
    struct ArrowArray array = { 0 };
    cr_assert_eq(eider_frame_to_arrow(f, &schema, &array), EIDER_OK);
    const uint8_t *bits = array.children[0]->buffers[1];
    cr_expect_eq(bits[0], 0x0d);
    cr_expect_eq(bits[1] & 0x03, 0x02);
    schema.release(&schema);
    array.release(&array);
    eider_frame_free(f);
}

Test(export, decimal128_sign_extends_a_negative_value)
{
    eider_frame *f = column_frame("amount", EIDER_TYPE_DECIMAL, (const char *[]){ "-12.34", "5.00" }, 2);
    struct ArrowSchema schema = { 0 };
    struct ArrowArray array = { 0 };
    cr_assert_eq(eider_frame_to_arrow(f, &schema, &array), EIDER_OK);
    const uint64_t *words = array.children[0]->buffers[1];
    cr_expect_str_eq(schema.children[0]->format, "d:10,2");
    cr_expect_eq(words[0], (uint64_t)INT64_C(-1234));
    cr_expect_eq(words[1], UINT64_MAX);
    cr_expect_eq(words[2], 500);
    cr_expect_eq(words[3], 0);
    schema.release(&schema);
    array.release(&array);
    eider_frame_free(f);
}

Test(export, varchar_is_large_utf8_without_the_frames_nuls)
{
    eider_frame *f = column_frame("s", EIDER_TYPE_VARCHAR, (const char *[]){ "abc", NULL, "hello" }, 3);
    struct ArrowSchema schema = { 0 };
    struct ArrowArray array = { 0 };
    cr_assert_eq(eider_frame_to_arrow(f, &schema, &array), EIDER_OK);
    const struct ArrowArray *s = array.children[0];
    const int64_t *off = s->buffers[1];
    cr_expect_eq(s->n_buffers, 3);
    cr_expect_eq(off[0], 0);
    cr_expect_eq(off[1], 3);
    cr_expect_eq(off[2], 3);
    cr_expect_eq(off[3], 8);
    cr_expect_eq(memcmp(s->buffers[2], "abchello", 8), 0);
    cr_expect_eq(s->null_count, 1);
    schema.release(&schema);
    array.release(&array);
    eider_frame_free(f);
}

Test(export, empty_frame_round_trips_with_its_columns)
{
    eider_frame *f = frame_of(every_name, every_type, N_EVERY);
    struct ArrowSchema schema = { 0 };
    struct ArrowArray array = { 0 };
    cr_assert_eq(eider_frame_to_arrow(f, &schema, &array), EIDER_OK);
    eider_frame *back = eider_frame_from_arrow(&schema, &array);
    cr_assert_not_null(back, "%s", eider_frame_error());
    cr_expect_eq(array.length, 0);
    expect_same_frames(f, back);
    schema.release(&schema);
    array.release(&array);
    eider_frame_free(back);
    eider_frame_free(f);
}

Test(export, null_frame_is_refused)
{
    struct ArrowSchema schema = { 0 };
    struct ArrowArray array = { 0 };
    cr_expect_eq(eider_frame_to_arrow(NULL, &schema, &array), EIDER_EINVAL);
    cr_expect_null(schema.release);
    cr_expect_null(array.release);
}

/* ---- import ---- */

Test(import, honours_the_struct_and_child_offsets)
{
    static const int32_t ints[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    static const int32_t offs[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    static const uint8_t valid[] = { 0xbf };               /* row 6 NULL */
    hand_batch h;
    hand_init(&h, 2, 3);                                   /* rows 3 and 4 of the struct */
    hand_add(&h, "n", "i", 10, 1, NULL, ints, NULL);       /* child rows 4, 5 */
    hand_add(&h, "s", "u", 7, 2, valid, offs, "abcdefg"); /* child rows 5, 6 */
    eider_frame *f = eider_frame_from_arrow(&h.schema, &h.array);
    cr_assert_not_null(f, "%s", eider_frame_error());
    cr_assert_eq(eider_frame_rows(f), 2);
    cr_expect_eq(eider_frame_get_int64(f, 0, 0), 4);
    cr_expect_eq(eider_frame_get_int64(f, 0, 1), 5);
    cr_expect_str_eq(eider_frame_get_text(f, 1, 0), "f");
    cr_expect(eider_frame_is_null(f, 1, 1));
    eider_frame_free(f);
}

Test(import, copies_so_the_frame_outlives_the_released_arrow)
{
    eider_frame *f = every_type_frame();
    struct ArrowSchema schema = { 0 };
    struct ArrowArray array = { 0 };
    cr_assert_eq(eider_frame_to_arrow(f, &schema, &array), EIDER_OK);
    eider_frame *back = eider_frame_from_arrow(&schema, &array);
    cr_assert_not_null(back, "%s", eider_frame_error());
    cr_expect_not_null(array.release, "the caller's array is not released by the import");
    schema.release(&schema);
    array.release(&array);
    expect_same_frames(f, back);
    eider_frame_free(back);
    eider_frame_free(f);
}

Test(import, struct_level_nulls_make_every_cell_null)
{
    static const int64_t v[] = { 10, 20 };
    static const uint8_t struct_valid[] = { 0x02 };        /* row 0 NULL */
    hand_batch h;
    hand_init(&h, 2, 0);
    h.struct_buffers[0] = struct_valid;
    hand_add(&h, "x", "l", 2, 0, NULL, v, NULL);
    eider_frame *f = eider_frame_from_arrow(&h.schema, &h.array);
    cr_assert_not_null(f, "%s", eider_frame_error());
    cr_expect(eider_frame_is_null(f, 0, 0));
    cr_expect_eq(eider_frame_get_int64(f, 0, 1), 20);
    eider_frame_free(f);
}

Test(import, narrow_and_unsigned_integers_widen)
{
    static const int8_t i8[] = { -128 };
    static const int16_t i16[] = { -32768 };
    static const uint8_t u8[] = { 255 };
    static const uint16_t u16[] = { 65535 };
    static const uint32_t u32[] = { 4294967295u };
    static const struct { const char *format; const void *v; int type; int64_t want; } cases[] = {
        { "c", i8, EIDER_TYPE_INTEGER, -128 }, { "s", i16, EIDER_TYPE_INTEGER, -32768 },
        { "C", u8, EIDER_TYPE_INTEGER, 255 },  { "S", u16, EIDER_TYPE_INTEGER, 65535 },
        { "I", u32, EIDER_TYPE_BIGINT, INT64_C(4294967295) },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        eider_frame *f = import_one(cases[i].format, cases[i].v, 1);
        cr_assert_not_null(f, "%s: %s", cases[i].format, eider_frame_error());
        cr_expect_eq(eider_frame_column_type(f, 0, NULL, NULL), cases[i].type, "%s", cases[i].format);
        cr_expect_eq(eider_frame_get_int64(f, 0, 0), cases[i].want, "%s", cases[i].format);
        eider_frame_free(f);
    }
}

Test(import, float_widens_to_double)
{
    static const float v[] = { 0.5f, -2.25f };
    eider_frame *f = import_one("f", v, 2);
    cr_assert_not_null(f, "%s", eider_frame_error());
    cr_expect_eq(eider_frame_column_type(f, 0, NULL, NULL), EIDER_TYPE_DOUBLE);
    cr_expect_eq(eider_frame_get_double(f, 0, 1), -2.25);
    eider_frame_free(f);
}

Test(import, timestamp_units_become_microseconds_and_a_zone_makes_tz)
{
    static const int64_t v[] = { -1500 };
    static const struct { const char *format; int type; int64_t want; } cases[] = {
        { "tss:", EIDER_TYPE_TIMESTAMP, INT64_C(-1500000000) },
        { "tsm:", EIDER_TYPE_TIMESTAMP, -1500000 },
        { "tsu:", EIDER_TYPE_TIMESTAMP, -1500 },
        { "tsn:Europe/Paris", EIDER_TYPE_TIMESTAMP_TZ, -2 },      /* floor, not toward 0 */
        { "tsu:UTC", EIDER_TYPE_TIMESTAMP_TZ, -1500 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        eider_frame *f = import_one(cases[i].format, v, 1);
        cr_assert_not_null(f, "%s: %s", cases[i].format, eider_frame_error());
        cr_expect_eq(eider_frame_column_type(f, 0, NULL, NULL), cases[i].type, "%s", cases[i].format);
        cr_expect_eq(eider_frame_get_int64(f, 0, 0), cases[i].want, "%s", cases[i].format);
        eider_frame_free(f);
    }
}

Test(import, date64_milliseconds_floor_to_days)
{
    static const int64_t v[] = { 86400000 * INT64_C(3) + 5, -1 };
    eider_frame *f = import_one("tdm", v, 2);
    cr_assert_not_null(f, "%s", eider_frame_error());
    cr_expect_eq(eider_frame_column_type(f, 0, NULL, NULL), EIDER_TYPE_DATE);
    cr_expect_eq(eider_frame_get_int64(f, 0, 0), 3);
    cr_expect_eq(eider_frame_get_int64(f, 0, 1), -1);
    eider_frame_free(f);
}

Test(import, decimal_with_bit_width_128_keeps_width_and_scale)
{
    static const int64_t v[] = { -1234, -1 };
    eider_frame *f = import_one("d:12,3,128", v, 1);
    int width = 0, scale = 0;
    cr_assert_not_null(f, "%s", eider_frame_error());
    cr_expect_eq(eider_frame_column_type(f, 0, &width, &scale), EIDER_TYPE_DECIMAL);
    cr_expect_eq(width, 12);
    cr_expect_eq(scale, 3);
    cr_expect_eq(eider_frame_get_int64(f, 0, 0), -1234);
    eider_frame_free(f);
}

Test(import, unsupported_format_gives_null_and_names_the_column)
{
    static const int32_t off[] = { 0, 1 };
    hand_batch h;
    hand_init(&h, 1, 0);
    hand_add(&h, "blob", "z", 1, 0, NULL, off, NULL);
    h.col[0].n_buffers = 3;
    cr_expect_null(eider_frame_from_arrow(&h.schema, &h.array));
    cr_expect(strstr(eider_frame_error(), "column 'blob'") != NULL, "%s", eider_frame_error());
    cr_expect(strstr(eider_frame_error(), "'z'") != NULL, "%s", eider_frame_error());
}

Test(import, decimal_wider_than_18_is_refused_with_its_width)
{
    static const int64_t v[] = { 1, 0 };
    cr_expect_null(import_one("d:38,10", v, 1));
    cr_expect(strstr(eider_frame_error(), "DECIMAL(38,10)") != NULL, "%s", eider_frame_error());
}

Test(import, decimal256_is_refused)
{
    static const int64_t v[] = { 1, 0, 0, 0 };
    cr_expect_null(import_one("d:10,2,256", v, 1));
    cr_expect(strstr(eider_frame_error(), "256-bit") != NULL, "%s", eider_frame_error());
}

Test(import, non_struct_array_is_refused)
{
    static const int64_t v[] = { 1 };
    hand_batch h;
    hand_init(&h, 1, 0);
    hand_add(&h, "x", "l", 1, 0, NULL, v, NULL);
    cr_expect_null(eider_frame_from_arrow(&h.col_schema[0], &h.col[0]));
    cr_expect(strstr(eider_frame_error(), "'+s'") != NULL, "%s", eider_frame_error());
}

Test(import, child_shorter_than_the_batch_is_refused)
{
    static const int64_t v[] = { 1, 2 };
    hand_batch h;
    hand_init(&h, 3, 0);
    hand_add(&h, "x", "l", 2, 0, NULL, v, NULL);
    cr_expect_null(eider_frame_from_arrow(&h.schema, &h.array));
    cr_expect(strstr(eider_frame_error(), "'x'") != NULL, "%s", eider_frame_error());
}

/* ---- streams ---- */

static eider_frame *five_rows(void)
{
    const char *const v[] = { "1", "2", "3", NULL, "5" };
    return column_frame("n", EIDER_TYPE_BIGINT, v, 5);
}

Test(stream, five_rows_by_two_give_three_batches_then_end)
{
    eider_frame *f = five_rows();
    struct ArrowArrayStream s = { 0 };
    struct ArrowArray batch = { 0 };
    static const int64_t lengths[] = { 2, 2, 1 };
    cr_assert_eq(eider_frame_to_arrow_stream(f, 2, &s), EIDER_OK);
    eider_frame_free(f);
    for (size_t b = 0; b < 3; b++) {
        cr_assert_eq(s.get_next(&s, &batch), 0);
        cr_assert_not_null(batch.release, "batch %zu", b);
        cr_expect_eq(batch.length, lengths[b]);
        cr_expect_eq(batch.children[0]->null_count, b == 1, "batch %zu", b);
        cr_expect_eq(((const int64_t *)batch.children[0]->buffers[1])[0], (int64_t)(2 * b + 1));
        batch.release(&batch);
    }
    cr_expect_eq(s.get_next(&s, &batch), 0);
    cr_expect_null(batch.release);
    cr_expect_eq(s.get_next(&s, &batch), 0);
    cr_expect_null(batch.release, "the end stays the end");
    s.release(&s);
    cr_expect_null(s.release);
}

Test(stream, batches_slice_validity_across_bitmap_words)
{
    static const int64_t nulls[] = { 17, 17, 10 };
    eider_frame *f = frame_of((const char *[]){ "n" }, (eider_type[]){ EIDER_TYPE_BIGINT }, 1);
    struct ArrowArrayStream s = { 0 };
    struct ArrowArray batch = { 0 };
    for (int64_t r = 0; r < 130; r++) {
        cr_assert_eq(r % 3 ? eider_frame_append_int64(f, r) : eider_frame_append_null(f), EIDER_OK);
        cr_assert_eq(eider_frame_end_row(f), EIDER_OK);
    }
    cr_assert_eq(eider_frame_to_arrow_stream(f, 50, &s), EIDER_OK);
    for (size_t b = 0; b < 3; b++) {
        cr_assert_eq(s.get_next(&s, &batch), 0);
        cr_expect_eq(batch.children[0]->null_count, nulls[b], "batch %zu", b);
        batch.release(&batch);
    }
    s.release(&s);
    cr_assert_eq(eider_frame_to_arrow_stream(f, 50, &s), EIDER_OK);
    eider_frame *back = eider_frame_from_arrow_stream(&s);
    cr_assert_not_null(back, "%s", eider_frame_error());
    expect_same_frames(f, back);
    eider_frame_free(back);
    eider_frame_free(f);
}

Test(stream, get_schema_works_at_any_time)
{
    eider_frame *f = five_rows();
    struct ArrowArrayStream s = { 0 };
    struct ArrowSchema schema = { 0 };
    struct ArrowArray batch = { 0 };
    cr_assert_eq(eider_frame_to_arrow_stream(f, 0, &s), EIDER_OK);
    eider_frame_free(f);
    cr_assert_eq(s.get_next(&s, &batch), 0);
    cr_expect_eq(batch.length, 5, "batch_rows 0: one batch");
    batch.release(&batch);
    cr_assert_eq(s.get_next(&s, &batch), 0);
    cr_expect_null(batch.release);
    cr_assert_eq(s.get_schema(&s, &schema), 0);
    cr_expect_str_eq(schema.format, "+s");
    cr_expect_str_eq(schema.children[0]->name, "n");
    cr_expect_str_eq(schema.children[0]->format, "l");
    cr_expect_null(s.get_last_error(&s));
    schema.release(&schema);
    s.release(&s);
}

Test(stream, release_frees_batches_not_taken)
{
    eider_frame *f = every_type_frame();
    struct ArrowArrayStream s = { 0 };
    struct ArrowArray batch = { 0 };
    cr_assert_eq(eider_frame_to_arrow_stream(f, 2, &s), EIDER_OK);
    cr_assert_eq(s.get_next(&s, &batch), 0);
    s.release(&s);                                  /* ASan reports a leak if not */
    cr_expect_null(s.release);
    cr_expect_not_null(batch.release, "a batch taken outlives its stream");
    batch.release(&batch);
    eider_frame_free(f);
}

Test(stream, import_appends_every_batch_and_releases_the_stream)
{
    eider_frame *f = every_type_frame();
    struct ArrowArrayStream s = { 0 };
    cr_assert_eq(eider_frame_to_arrow_stream(f, 2, &s), EIDER_OK);
    eider_frame *back = eider_frame_from_arrow_stream(&s);
    cr_assert_not_null(back, "%s", eider_frame_error());
    cr_expect_null(s.release);
    expect_same_frames(f, back);
    eider_frame_free(back);
    eider_frame_free(f);
}

Test(stream, import_of_an_empty_stream_keeps_the_columns)
{
    eider_frame *f = frame_of(every_name, every_type, N_EVERY);
    struct ArrowArrayStream s = { 0 };
    cr_assert_eq(eider_frame_to_arrow_stream(f, 2, &s), EIDER_OK);
    eider_frame *back = eider_frame_from_arrow_stream(&s);
    cr_assert_not_null(back, "%s", eider_frame_error());
    expect_same_frames(f, back);
    eider_frame_free(back);
    eider_frame_free(f);
}

/* A stream whose schema is one BIGINT column and whose get_next fails. */
static int failing_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
    eider_frame *f = five_rows();
    struct ArrowArray array = { 0 };
    int rc = eider_frame_to_arrow(f, out, &array);
    array.release(&array);
    eider_frame_free(f);
    return rc;
}

static int failing_get_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
    return EIO;
}

static const char *failing_last_error(struct ArrowArrayStream *s)
{
    return "the disk is on fire";
}

static void failing_release(struct ArrowArrayStream *s)
{
    *(int *)s->private_data = 1;
    s->release = NULL;
}

Test(stream, import_reports_the_stream_error_and_releases_it)
{
    int released = 0;
    struct ArrowArrayStream s = { .get_schema = failing_get_schema, .get_next = failing_get_next,
                                  .get_last_error = failing_last_error, .release = failing_release,
                                  .private_data = &released };
    cr_expect_null(eider_frame_from_arrow_stream(&s));
    cr_expect(strstr(eider_frame_error(), "the disk is on fire") != NULL, "%s", eider_frame_error());
    cr_expect_eq(released, 1);
}

/* ---- DuckDB ---- */

typedef struct duck {
    duckdb_database db;
    duckdb_connection con;
} duck;

static void duck_open(duck *d)
{
    cr_assert_eq(duckdb_open(NULL, &d->db), DuckDBSuccess);
    cr_assert_eq(duckdb_connect(d->db, &d->con), DuckDBSuccess);
}

static void duck_close(duck *d)
{
    duckdb_disconnect(&d->con);
    duckdb_close(&d->db);
}

static void assert_no_error(duckdb_error_data e, const char *what)
{
    int bad = duckdb_error_data_has_error(e);
    char msg[512] = "";
    if (bad)
        snprintf(msg, sizeof(msg), "%s", duckdb_error_data_message(e));
    duckdb_destroy_error_data(&e);
    cr_assert_not(bad, "%s: %s", what, msg);
}

/* Cell r of a DuckDB vector, as its C type T; the vector's NULL check aside. */
#define DUCK_CELL(chunk, col, T, r) (((T *)duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, col)))[r])

static int duck_is_null(duckdb_data_chunk chunk, idx_t col, idx_t r)
{
    uint64_t *valid = duckdb_vector_get_validity(duckdb_data_chunk_get_vector(chunk, col));
    return valid && !duckdb_validity_row_is_valid(valid, r);
}

static duckdb_type duck_type(duckdb_data_chunk chunk, idx_t col)
{
    duckdb_logical_type t = duckdb_vector_get_column_type(duckdb_data_chunk_get_vector(chunk, col));
    duckdb_type id = duckdb_get_type_id(t);
    duckdb_destroy_logical_type(&t);
    return id;
}

Test(duckdb, reads_an_exported_frame)
{
    static const duckdb_type want[N_EVERY] = {
        DUCKDB_TYPE_BOOLEAN, DUCKDB_TYPE_INTEGER, DUCKDB_TYPE_BIGINT, DUCKDB_TYPE_DOUBLE,
        DUCKDB_TYPE_DECIMAL, DUCKDB_TYPE_VARCHAR, DUCKDB_TYPE_DATE, DUCKDB_TYPE_TIMESTAMP,
        DUCKDB_TYPE_TIMESTAMP_TZ,
    };
    duck d;
    duckdb_arrow_converted_schema converted = NULL;
    duckdb_data_chunk chunk = NULL;
    struct ArrowSchema schema = { 0 };
    struct ArrowArray array = { 0 };
    eider_frame *f = every_type_frame();
    duck_open(&d);
    cr_assert_eq(eider_frame_to_arrow(f, &schema, &array), EIDER_OK);
    assert_no_error(duckdb_schema_from_arrow(d.con, &schema, &converted), "schema_from_arrow");
    assert_no_error(duckdb_data_chunk_from_arrow(d.con, &array, converted, &chunk), "data_chunk_from_arrow");
    cr_assert_eq(duckdb_data_chunk_get_size(chunk), 5);
    for (idx_t c = 0; c < N_EVERY; c++) {
        cr_expect_eq(duck_type(chunk, c), want[c], "column %s", every_name[c]);
        for (idx_t r = 0; r < 5; r++)
            cr_expect_eq(duck_is_null(chunk, c, r), eider_frame_is_null(f, c, r), "%s row %d",
                         every_name[c], (int)r);
    }
    cr_expect(DUCK_CELL(chunk, 0, bool, 0));
    cr_expect_not(DUCK_CELL(chunk, 0, bool, 2));
    cr_expect_eq(DUCK_CELL(chunk, 1, int32_t, 1), 2147483647);
    cr_expect_eq(DUCK_CELL(chunk, 2, int64_t, 0), INT64_C(9000000000));
    cr_expect_eq(DUCK_CELL(chunk, 3, double, 1), -0.25);
    cr_expect_eq(DUCK_CELL(chunk, 4, int64_t, 0), -1234);       /* DECIMAL(10,2) is int64 inside */
    duckdb_string_t *v = &DUCK_CELL(chunk, 5, duckdb_string_t, 4);
    cr_expect_eq(duckdb_string_t_length(*v), strlen("héllo wörld"));
    cr_expect_eq(memcmp(duckdb_string_t_data(v), "héllo wörld", strlen("héllo wörld")), 0);
    cr_expect_eq(DUCK_CELL(chunk, 6, int32_t, 0), eider_frame_get_int64(f, 6, 0));
    cr_expect_eq(DUCK_CELL(chunk, 7, int64_t, 1), -500000);
    cr_expect_eq(DUCK_CELL(chunk, 8, int64_t, 0), eider_frame_get_int64(f, 8, 0));
    duckdb_destroy_data_chunk(&chunk);
    duckdb_destroy_arrow_converted_schema(&converted);
    if (array.release)                              /* DuckDB takes it (release NULL) */
        array.release(&array);
    schema.release(&schema);
    eider_frame_free(f);
    duck_close(&d);
}

/* Export the first chunk of a DuckDB query as Arrow and import it. */
static eider_frame *frame_from_duckdb(duck *d, const char *sql)
{
    duckdb_result res;
    duckdb_arrow_options options = NULL;
    duckdb_logical_type types[16] = { 0 };
    const char *names[16] = { 0 };
    struct ArrowSchema schema = { 0 };
    struct ArrowArray array = { 0 };
    cr_assert_eq(duckdb_query(d->con, sql, &res), DuckDBSuccess, "%s", duckdb_result_error(&res));
    idx_t n = duckdb_column_count(&res);
    cr_assert_leq(n, 16);
    for (idx_t i = 0; i < n; i++) {
        types[i] = duckdb_column_logical_type(&res, i);
        names[i] = duckdb_column_name(&res, i);
    }
    options = duckdb_result_get_arrow_options(&res);
    duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
    cr_assert_not_null(chunk);
    assert_no_error(duckdb_to_arrow_schema(options, types, names, n, &schema), "to_arrow_schema");
    assert_no_error(duckdb_data_chunk_to_arrow(options, chunk, &array), "data_chunk_to_arrow");
    eider_frame *f = eider_frame_from_arrow(&schema, &array);
    array.release(&array);
    schema.release(&schema);
    duckdb_destroy_data_chunk(&chunk);
    for (idx_t i = 0; i < n; i++)
        duckdb_destroy_logical_type(&types[i]);
    duckdb_destroy_arrow_options(&options);
    duckdb_destroy_result(&res);
    return f;
}

Test(duckdb, chunk_exported_to_arrow_imports_into_a_frame)
{
    duck d;
    duck_open(&d);
    eider_frame *f = frame_from_duckdb(&d,
        "SELECT * FROM (VALUES "
        "(true, -5::TINYINT, 300::SMALLINT, 7, 4000000000::UINTEGER, 1.5::REAL, -12.345::DECIMAL(12,3), "
        "'duck', DATE '2024-02-29', TIMESTAMP '2024-02-29 12:34:56.5', TIMESTAMPTZ '2024-02-29 12:00:00+00'), "
        "(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)) "
        "t(b, i8, i16, i32, u32, r, d, v, dt, ts, tz)");
    cr_assert_not_null(f, "%s", eider_frame_error());
    static const int types[] = { EIDER_TYPE_BOOLEAN, EIDER_TYPE_INTEGER, EIDER_TYPE_INTEGER,
                                 EIDER_TYPE_INTEGER, EIDER_TYPE_BIGINT, EIDER_TYPE_DOUBLE,
                                 EIDER_TYPE_DECIMAL, EIDER_TYPE_VARCHAR, EIDER_TYPE_DATE,
                                 EIDER_TYPE_TIMESTAMP, EIDER_TYPE_TIMESTAMP_TZ };
    cr_assert_eq(eider_frame_rows(f), 2);
    cr_assert_eq(eider_frame_columns(f), 11);
    for (size_t c = 0; c < 11; c++) {
        cr_expect_eq(eider_frame_column_type(f, c, NULL, NULL), types[c], "column %s",
                     eider_frame_column_name(f, c));
        cr_expect(eider_frame_is_null(f, c, 1), "column %zu row 1", c);
    }
    cr_expect_eq(eider_frame_get_bool(f, 0, 0), 1);
    cr_expect_eq(eider_frame_get_int64(f, 1, 0), -5);
    cr_expect_eq(eider_frame_get_int64(f, 2, 0), 300);
    cr_expect_eq(eider_frame_get_int64(f, 3, 0), 7);
    cr_expect_eq(eider_frame_get_int64(f, 4, 0), INT64_C(4000000000));
    cr_expect_eq(eider_frame_get_double(f, 5, 0), 1.5);
    cr_expect_eq(eider_frame_get_int64(f, 6, 0), -12345);
    cr_expect_str_eq(eider_frame_get_text(f, 7, 0), "duck");
    cr_expect_eq(eider_frame_get_int64(f, 8, 0), 19782);                   /* 2024-02-29 */
    cr_expect_eq(eider_frame_get_int64(f, 9, 0), INT64_C(1709210096500000));
    cr_expect_eq(eider_frame_get_int64(f, 10, 0), INT64_C(1709208000000000));
    eider_frame_free(f);
    duck_close(&d);
}
