/*
 * fuzz_partitions.c — fuzz target for the partition parsers: the bytes, split at the
 * first NUL, are a partition request ("KEY" or "A...B") resolved against static, time
 * and multi definitions, and a partition_expr given to the condition builder; the rest
 * is text appended into a frame column of each type. Each must succeed or fail with a
 * message; never crash, hang or read out of bounds.
 */
#include <stdint.h>

#include "defs/partitions.h"
#include "duckdb/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const eider_partitions *defs_partitions[3];

static void fixture(void)
{
    static eider_defs *defs;
    if (defs)
        return;
    defs = eider_defs_new();
    const eider_partitions *s = eider_static_partitions(defs, EIDER_KEYS("setosa", "it's", "virginica"));
    const eider_partitions *d = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_HOURLY, .start = "2024-03-09-00:00", .end = "2024-03-11", .timezone = "UTC" });
    defs_partitions[0] = s;
    defs_partitions[1] = d;
    defs_partitions[2] = eider_multi_partitions(defs, EIDER_KEYS("species", "hour"), EIDER_PARTITIONS(s, d));
    if (!s || !d || !defs_partitions[2])
        abort();
}

static void check_partitions(const char *request, const char *expr)
{
    for (size_t p = 0; p < 3; p++) {
        char **keys = NULL;
        size_t n = 0;
        eider__buf err = { 0 }, sql = { 0 };
        int rc = eider__partitions_resolve(defs_partitions[p], "asset", request, &keys, &n, &err);
        if (rc == EIDER_OK && n == 0)
            abort();
        if (rc != EIDER_OK && err.len == 0)
            abort();
        if (rc == EIDER_OK) {
            rc = eider__partitions_where(defs_partitions[p], expr, keys, n < 50 ? n : 50, &sql, &err);
            if (rc != EIDER_OK && err.len == 0)
                abort();
        }
        eider__strv_free(keys, n);
        eider__buf_release(&err);
        eider__buf_release(&sql);
    }
}

static void check_frame_text(const char *text)
{
    eider_frame *f = eider_frame_new();
    for (int t = EIDER_TYPE_BOOLEAN; t <= EIDER_TYPE_TIMESTAMP_TZ; t++) {
        char name[8];
        snprintf(name, sizeof(name), "c%d", t);
        eider_frame_add_column(f, name, (eider_type)t);
    }
    for (int t = EIDER_TYPE_BOOLEAN; t <= EIDER_TYPE_TIMESTAMP_TZ; t++)
        if (eider_frame_append_text(f, text) != EIDER_OK && eider_frame_append_null(f) != EIDER_OK)
            abort();
    if (eider_frame_end_row(f) != EIDER_OK || eider_frame_rows(f) != 1)
        abort();
    eider_frame_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = eider__xmalloc(size + 2);
    if (size)
        memcpy(text, data, size);
    text[size] = text[size + 1] = '\0';
    const char *expr = text + strlen(text) + 1;     /* after the first NUL, or "" */
    fixture();
    check_partitions(text, *expr ? expr : "species");
    check_frame_text(text);
    free(text);
    return 0;
}
