/*
 * fuzz_store_rows.c — fuzz target for reading the instance store's rows (src/store/
 * rows.c), which anyone who may write the store controls. The first byte picks the
 * kind of row; the rest, split at each NUL, are its columns as the backends give them
 * (a column that is exactly "\x01" is SQL NULL): a schema version, a runs row, an
 * event block (first, n, mat_base, events JSON) and its events, metadata JSON, an
 * asset_state row. Each must be read or refused with a reason, and what is read must
 * hold what the readers rely on; never crash, hang, leak or read out of bounds.
 */
#include <limits.h>
#include <stdint.h>

#include "store/rows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_COLS 16

/* Split text (len bytes, NUL-terminated) at NULs into cols; "\x01" is NULL. */
static size_t split(char *text, size_t len, const char **cols)
{
    size_t n = 0;
    for (size_t at = 0; at <= len && n < MAX_COLS; at += strlen(text + at) + 1)
        cols[n++] = strcmp(text + at, "\x01") == 0 ? NULL : text + at;
    for (size_t i = n; i < MAX_COLS; i++)
        cols[i] = "";
    return n;
}

static void check_refused(int rc, const eider__buf *why)
{
    if (rc && why->len == 0)
        abort();                     /* a refusal always says why */
}

static void check_meta(const eider__meta_list *m)
{
    for (size_t i = 0; i < m->n; i++) {
        const eider_meta *e = &m->v[i];
        int texty = e->type == EIDER_META_TEXT || e->type == EIDER_META_JSON ||
                    e->type == EIDER_META_URL || e->type == EIDER_META_MARKDOWN;
        if (!e->key || (unsigned)e->type > EIDER_META_MARKDOWN || (texty && !e->text) ||
            (e->type == EIDER_META_BOOL && e->i != 0 && e->i != 1))
            abort();
    }
}

static void fuzz_version(const char *const *c)
{
    eider__buf why = { 0 };
    int64_t v = -1;
    int rc = eider__row_version(c[0], &v, &why);
    check_refused(rc, &why);
    if (!rc && (v < 0 || v > INT32_MAX))
        abort();
    eider__buf_release(&why);
}

static void fuzz_run(const char *const *c, size_t n)
{
    eider__buf why = { 0 };
    eider_run_record r;
    int rc = eider__row_run(c, n, &r, &why);
    check_refused(rc, &why);
    if (!rc && (!r.run_id || !*r.run_id || !r.tags || r.start_us < 0 || r.end_us < 0 ||
                r.n_succeeded < 0 || r.n_failed < 0 || r.n_skipped < 0 || r.n_canceled < 0 ||
                strcmp(eider_run_status_name(r.status), "unknown") == 0))
        abort();
    eider__buf_release(&why);
}

static void fuzz_events(json_t *events)
{
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e) {
        eider__buf why = { 0 };
        eider_event ev;
        int rc = eider__row_event(e, &ev, &why);
        check_refused(rc, &why);
        if (!rc && (strcmp(eider_event_name(ev.type), "unknown") == 0 || ev.time_us < 0 ||
                    ev.attempt < 0 || ev.duration_s < 0))
            abort();
        eider__meta_list meta;
        char *text = json_dumps(json_object_get(e, "metadata"), JSON_COMPACT | JSON_ENCODE_ANY);
        eider__row_meta(text, &meta);
        check_meta(&meta);
        eider__meta_list_release(&meta);
        free(text);
        eider__buf_release(&why);
    }
}

static void fuzz_block(const char *const *c, size_t n)
{
    eider__buf why = { 0 };
    eider__stored_block b = { 0 };
    int64_t next = 0, id = 0, count = 0;
    if (n < 5 || eider__row_int(c[0], INT64_MIN, INT64_MAX, 0, &b.first) ||
        eider__row_int(c[1], INT64_MIN, INT64_MAX, 0, &b.n) ||
        eider__row_int(c[2], INT64_MIN, INT64_MAX, 0, &b.mat_base) ||
        eider__row_int(c[3], 1, INT64_MAX, 0, &next))
        return;
    b.events = c[4] ? eider__xstrdup(c[4]) : NULL;
    int64_t after = eider__row_block_place(&b, next, &id, &count);
    if (after < next || count < 1 || id < next || (after != INT64_MAX && after != id + count))
        abort();
    int rc = eider__row_block(&b, id, &why);
    json_t *events = rc ? NULL : eider__row_events(b.events, b.n, &why);
    check_refused(rc || !events, &why);
    if (events && (int64_t)json_array_size(events) != b.n)
        abort();
    fuzz_events(events);
    json_decref(events);
    free(b.events);
    eider__buf_release(&why);
}

static void fuzz_asset(const char *const *c, size_t n)
{
    eider__buf why = { 0 };
    eider__meta_list meta;
    eider_asset_record r;
    int rc = eider__row_asset(c, n, &r, &meta, &why);
    check_refused(rc, &why);
    if (!rc && (!r.asset_key || !r.partition || r.materialized_us < 0 || r.last_us < 0 ||
                (r.last_failed != 0 && r.last_failed != 1)))
        abort();
    if (!rc)
        check_meta(&meta);
    eider__meta_list_release(&meta);
    eider__buf_release(&why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *text = eider__xmalloc(size);
    const char *cols[MAX_COLS];
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    size_t n = split(text, size - 1, cols);
    switch (data[0] % 5) {
    case 0: fuzz_version(cols); break;
    case 1: fuzz_run(cols, n); break;
    case 2: fuzz_block(cols, n); break;
    case 3: {
        eider__meta_list meta;
        eider__row_meta(cols[0], &meta);
        check_meta(&meta);
        eider__meta_list_release(&meta);
        break;
    }
    default: fuzz_asset(cols, n); break;
    }
    free(text);
    return 0;
}
