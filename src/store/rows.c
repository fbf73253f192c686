/*
 * rows.c — the instance store's rows checked as they are read (see rows.h): numbers
 * are whole and in range, statuses and event types are known, JSON is what it should
 * be. Nothing here trusts the store, and nothing touches it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>

#include "rows.h"

const char *const eider__meta_type_names[7] = { "text", "int", "float", "bool", "json", "url",
                                                "markdown" };

int eider__row_int(const char *text, int64_t min, int64_t max, int null_ok, int64_t *out)
{
    char *end = NULL;
    *out = 0;
    if (!text)
        return null_ok ? 0 : -1;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end || errno || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Text quoted for a message, cut after 40 bytes, bytes other than printable ASCII as
 * \xNN (it may be anything): '…', or NULL. */
static void add_quoted(eider__buf *b, const char *text)
{
    size_t i;
    if (!text) {
        eider__buf_puts(b, "NULL");
        return;
    }
    eider__buf_puts(b, "'");
    for (i = 0; text[i] && i < 40; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch >= 0x20 && ch < 0x7f)
            eider__buf_add(b, (const char *)&ch, 1);
        else
            eider__buf_printf(b, "\\x%02x", ch);
    }
    eider__buf_puts(b, text[i] ? "...'" : "'");
}

int eider__row_version(const char *text, int64_t *out, eider__buf *why)
{
    if (eider__row_int(text, 0, INT32_MAX, 1, out) == 0)
        return 0;
    eider__buf_puts(why, "its schema version (table eider_schema) is ");
    add_quoted(why, text);
    eider__buf_puts(why, ", which is not a version any Eider writes");
    return -1;
}

/* ---- runs ---- */

static int bad_field(eider__buf *why, const char *what, const char *name, const char *text)
{
    eider__buf_printf(why, "%s %s is ", what, name);
    add_quoted(why, text);
    return -1;
}

static int run_numbers(const char *const *c, eider_run_record *r, eider__buf *why)
{
    static const char *const names[] = { "start_us", "end_us", "n_succeeded", "n_failed",
                                         "n_skipped", "n_canceled" };
    int64_t v[6] = { 0 };
    for (int i = 0; i < 6; i++) {
        int64_t max = i < 2 ? EIDER__ROW_MAX_US : INT_MAX;
        if (eider__row_int(c[6 + i], 0, max, i == 1, &v[i]))
            return bad_field(why, "its", names[i], c[6 + i]);
    }
    r->start_us = v[0];
    r->end_us = v[1];
    r->n_succeeded = (int)v[2];
    r->n_failed = (int)v[3];
    r->n_skipped = (int)v[4];
    r->n_canceled = (int)v[5];
    return 0;
}

int eider__row_run(const char *const *c, size_t n, eider_run_record *out, eider__buf *why)
{
    memset(out, 0, sizeof(*out));
    if (n < 12)
        return eider__buf_printf(why, "it has %zu columns, not 12", n), -1;
    if (!c[0] || !*c[0])
        return bad_field(why, "its", "run_id", c[0]);
    int status = eider_run_status_parse(c[1]);
    if (status < 0 || strcmp(c[1], eider_run_status_name((eider_run_status)status)) != 0)
        return bad_field(why, "its", "status", c[1]);
    json_t *tags = c[5] ? json_loads(c[5], 0, NULL) : NULL;
    int tags_ok = !c[5] || json_is_object(tags);
    json_decref(tags);
    if (!tags_ok) {
        bad_field(why, "its", "tags", c[5]);
        eider__buf_puts(why, ", not a JSON object");
        return -1;
    }
    *out = (eider_run_record){ .run_id = c[0], .status = (eider_run_status)status,
        .selection = c[2], .partition = c[3], .launched_by = c[4], .tags = c[5] ? c[5] : "{}" };
    return run_numbers(c, out, why);
}

/* ---- event blocks ---- */

int eider__row_block(const eider__stored_block *b, int64_t next, eider__buf *why)
{
    if (b->first < 1 || b->n < 1 || b->first > INT64_MAX - b->n)
        eider__buf_printf(why, "a block numbers its events from %" PRId64 " and holds %" PRId64
                          " of them", b->first, b->n);
    else if (b->first < next)
        eider__buf_printf(why, "a block numbers its events from %" PRId64 ", which the block "
                          "before it numbered already", b->first);
    else if (b->mat_base < 0)
        eider__buf_printf(why, "a block's mat_base is %" PRId64, b->mat_base);
    else
        return 0;
    return -1;
}

int64_t eider__row_block_place(const eider__stored_block *b, int64_t next, int64_t *id, int64_t *n)
{
    int sound = b->n > 0 && b->first >= next && b->first >= 1 && b->first <= INT64_MAX - b->n;
    *id = sound ? b->first : next;
    *n = sound ? b->n : 1;
    return *id > INT64_MAX - *n ? INT64_MAX : *id + *n;
}

json_t *eider__row_events(char *text, int64_t n, eider__buf *why)
{
    json_t *events = NULL, *e;
    size_t i;
    if (!text) {
        eider__buf_puts(why, "a block holds no events");
        return NULL;
    }
    eider__utf8_repair(text);   /* a version-1 row migrated by SQL may hold stray bytes */
    events = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_array(events)) {
        eider__buf_puts(why, "a block's events are not a JSON array");
        json_decref(events);
        return NULL;
    }
    if ((int64_t)json_array_size(events) != n) {
        eider__buf_printf(why, "a block holds %zu events but says %" PRId64, json_array_size(events), n);
        json_decref(events);
        return NULL;
    }
    json_array_foreach(events, i, e)
        if (!json_is_object(e)) {
            eider__buf_printf(why, "event %zu of a block is not a JSON object", i + 1);
            json_decref(events);
            return NULL;
        }
    return events;
}

static const char *const event_names[] = {
    [EIDER_EVENT_RUN_START] = "run_start", [EIDER_EVENT_RUN_END] = "run_end",
    [EIDER_EVENT_STEP_START] = "step_start", [EIDER_EVENT_STEP_SUCCESS] = "step_success",
    [EIDER_EVENT_STEP_FAILURE] = "step_failure", [EIDER_EVENT_STEP_SKIPPED] = "step_skipped",
    [EIDER_EVENT_STEP_RETRY] = "step_retry", [EIDER_EVENT_LOG] = "log",
    [EIDER_EVENT_MATERIALIZATION] = "materialization", [EIDER_EVENT_STEP_CANCELED] = "step_canceled",
    [EIDER_EVENT_OBSERVATION] = "observation", [EIDER_EVENT_CHECK] = "check",
};

static const char *const check_status_names[] = {
    [EIDER_CHECK_PASSED] = "passed", [EIDER_CHECK_FAILED] = "failed",
    [EIDER_CHECK_ERRORED] = "errored",
};

const char *eider_check_status_name(eider_check_status status)
{
    return (unsigned)status < EIDER__ARRAY_LEN(check_status_names) ? check_status_names[status]
                                                                    : "unknown";
}

const char *eider_check_severity_name(eider_check_severity severity)
{
    return severity == EIDER_CHECK_WARN ? "warn" : "error";
}

/* The status or severity called name; -1 when none is. */
int eider__check_status_parse(const char *name)
{
    for (size_t i = 0; name && i < EIDER__ARRAY_LEN(check_status_names); i++)
        if (strcmp(check_status_names[i], name) == 0)
            return (int)i;
    return -1;
}

int eider__check_severity_parse(const char *name)
{
    return !name ? -1 : strcmp(name, "warn") == 0 ? EIDER_CHECK_WARN
         : strcmp(name, "error") == 0 ? EIDER_CHECK_ERROR : -1;
}

const char *eider_event_name(eider_event_type type)
{
    return (unsigned)type < EIDER__ARRAY_LEN(event_names) ? event_names[type] : "unknown";
}

static int event_type(const char *name)
{
    for (size_t i = 0; name && i < EIDER__ARRAY_LEN(event_names); i++)
        if (event_names[i] && strcmp(event_names[i], name) == 0)
            return (int)i;
    return -1;
}

/* The integer member name of e, 0 when absent; -1 when it is not one in [min, max]. */
static int member_int(json_t *e, const char *name, int64_t min, int64_t max, int64_t *out)
{
    json_t *v = json_object_get(e, name);
    *out = json_integer_value(v);
    return (v && !json_is_integer(v)) || *out < min || *out > max ? -1 : 0;
}

int eider__row_event(json_t *e, eider_event *ev, eider__buf *why)
{
    const char *type_name = json_string_value(json_object_get(e, "type"));
    int type = event_type(type_name);
    int level = eider_log_level_parse(json_string_value(json_object_get(e, "level")));
    int64_t time_us = 0, attempt = 0, duration_us = 0;
    memset(ev, 0, sizeof(*ev));
    if (type < 0)
        return bad_field(why, "an event's", "type", type_name);
    if (member_int(e, "time_us", 0, EIDER__ROW_MAX_US, &time_us) ||
        member_int(e, "attempt", 0, INT_MAX, &attempt) ||
        member_int(e, "duration_us", 0, EIDER__ROW_MAX_US, &duration_us)) {
        eider__buf_printf(why, "a %s event's time_us, attempt or duration_us is not a number in "
                          "range", type_name);
        return -1;
    }
    *ev = (eider_event){
        .type = (eider_event_type)type, .time_us = time_us, .attempt = (int)attempt,
        .duration_s = (double)duration_us / 1e6,
        .level = level >= 0 ? (eider_log_level)level : EIDER_LOG_DEBUG,
        .asset_key = json_string_value(json_object_get(e, "asset_key")),
        .message = json_string_value(json_object_get(e, "message")),
        .sql = json_string_value(json_object_get(e, "sql")),
    };
    if (type == EIDER_EVENT_CHECK) {
        int status = eider__check_status_parse(json_string_value(json_object_get(e, "status")));
        int severity = eider__check_severity_parse(json_string_value(json_object_get(e, "severity")));
        ev->check_name = json_string_value(json_object_get(e, "check_name"));
        ev->check_status = status >= 0 ? (eider_check_status)status : EIDER_CHECK_ERRORED;
        ev->check_severity = severity >= 0 ? (eider_check_severity)severity : EIDER_CHECK_ERROR;
        ev->check_blocking = json_integer_value(json_object_get(e, "blocking")) != 0;
    }
    return 0;
}

/* ---- metadata ---- */

/* Whether v is a value of metadata type t; fills m's value from it. */
static int meta_value(json_t *v, int t, eider_meta *m)
{
    switch ((eider_meta_type)t) {
    case EIDER_META_INT:
        m->i = json_integer_value(v);
        m->f = (double)m->i;
        return json_is_integer(v);
    case EIDER_META_BOOL:
        m->i = json_integer_value(v);
        return json_is_integer(v) && (m->i == 0 || m->i == 1);
    case EIDER_META_FLOAT:
        m->f = json_number_value(v);
        return json_is_number(v);
    default:
        m->text = json_string_value(v);
        return m->text != NULL;
    }
}

/* Entry m as a TEXT entry that says why it is damaged (a string literal). */
static void meta_damaged(eider_meta *m, const char *why)
{
    m->type = EIDER_META_TEXT;
    m->i = 0;
    m->f = 0;
    m->text = why;
}

static void meta_entry(eider__meta_list *out, const char *key, json_t *val)
{
    const char *type = json_string_value(json_object_get(val, "type"));
    eider_meta *m = &out->v[out->n++];
    int t = -1;
    m->key = key;
    for (int i = 0; type && i < 7; i++)
        if (strcmp(type, eider__meta_type_names[i]) == 0)
            t = i;
    if (t < 0)
        return meta_damaged(m, "(damaged in the instance store: no known type)");
    m->type = (eider_meta_type)t;
    if (!meta_value(json_object_get(val, "value"), t, m))
        meta_damaged(m, "(damaged in the instance store: a value of the wrong kind)");
}

void eider__row_meta(const char *text, eider__meta_list *out)
{
    const char *key;
    json_t *val;
    memset(out, 0, sizeof(*out));
    if (!text)
        return;
    out->root = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    out->v = eider__xcalloc(json_object_size(out->root) + 1, sizeof(*out->v));
    if (!json_is_object(out->root)) {
        out->v[out->n].key = "metadata";
        meta_damaged(&out->v[out->n++], "(damaged in the instance store: not a JSON object)");
        return;
    }
    json_object_foreach(out->root, key, val)
        meta_entry(out, key, val);
}

void eider__meta_list_release(eider__meta_list *m)
{
    free(m->v);
    json_decref(m->root);
    memset(m, 0, sizeof(*m));
}

/* ---- assets ---- */

int eider__row_asset(const char *const *c, size_t n, eider_asset_record *out,
                     eider__meta_list *meta, eider__buf *why)
{
    int64_t mat_us = 0, last_failed = 0, last_us = 0, duration_us = 0;
    memset(out, 0, sizeof(*out));
    memset(meta, 0, sizeof(*meta));
    if (n < 10)
        return eider__buf_printf(why, "it has %zu columns, not 10", n), -1;
    if (!c[0] || !*c[0])
        return bad_field(why, "its", "asset_key", c[0]);
    if (eider__row_int(c[3], 0, EIDER__ROW_MAX_US, 1, &mat_us))
        return bad_field(why, "its materialization's", "time_us", c[3]);
    if (eider__row_int(c[7], 0, 1, 1, &last_failed))
        return bad_field(why, "its", "last_failed", c[7]);
    if (eider__row_int(c[8], 0, EIDER__ROW_MAX_US, 1, &last_us))
        return bad_field(why, "its", "last_us", c[8]);
    if (eider__row_int(c[9], 0, EIDER__ROW_MAX_US, 1, &duration_us))
        return bad_field(why, "its materialization's", "duration_us", c[9]);
    eider__row_meta(c[5], meta);
    *out = (eider_asset_record){
        .asset_key = c[0], .partition = c[1] ? c[1] : "", .run_id = c[2],
        .materialized_us = mat_us, .code_version = c[4], .metadata = meta->v,
        .n_metadata = meta->n, .last_run_id = c[6], .last_failed = (int)last_failed,
        .last_us = last_us, .duration_s = c[9] ? (double)duration_us / 1e6 : -1,
    };
    return 0;
}

int eider__row_check(const char *const *c, size_t n, eider_check_record *out,
                     eider__meta_list *meta, eider__buf *why)
{
    int64_t time_us = 0, blocking = 0;
    memset(out, 0, sizeof(*out));
    memset(meta, 0, sizeof(*meta));
    if (n < 11)
        return eider__buf_printf(why, "it has %zu columns, not 11", n), -1;
    if (!c[0] || !*c[0])
        return bad_field(why, "its", "asset_key", c[0]);
    if (!c[1])
        return bad_field(why, "its", "check_name", c[1]);
    if (eider__row_int(c[4], 0, EIDER__ROW_MAX_US, 0, &time_us))
        return bad_field(why, "its", "time_us", c[4]);
    int status = eider__check_status_parse(c[5]), severity = eider__check_severity_parse(c[6]);
    if (status < 0)
        return bad_field(why, "its", "status", c[5]);
    if (severity < 0)
        return bad_field(why, "its", "severity", c[6]);
    if (eider__row_int(c[7], 0, 1, 0, &blocking))
        return bad_field(why, "its", "blocking", c[7]);
    eider__row_meta(c[10], meta);
    *out = (eider_check_record){
        .asset_key = c[0], .check_name = c[1], .partition = c[2] ? c[2] : "", .run_id = c[3],
        .time_us = time_us, .status = (eider_check_status)status,
        .severity = (eider_check_severity)severity, .blocking = (int)blocking, .message = c[8],
        .sql = c[9], .metadata = meta->v, .n_metadata = meta->n,
    };
    return 0;
}
