/*
 * partitions.c — partitions definitions: a static list of keys, time windows (hourly,
 * daily, weekly from Sunday, monthly) in an IANA time zone, and several named
 * dimensions; their keys as of now, resolving a request into keys, and the SQL
 * condition that selects a partition's rows.
 *
 * Keys are numbered in order. A multi key's number mixes its dimensions' numbers, the
 * first dimension varying slowest, so a range "A...B" is a range of numbers. A static
 * or time definition is handled as a single dimension.
 *
 * Time windows are wall-clock, as Dagster lists them: windows are numbered from the
 * epoch in their unit, and keys and SQL bounds are local times of the zone. An hour a
 * DST change skips still has a key (its window selects no rows); an hour lived twice
 * has one key whose window holds both. Only "now" depends on the zone: it comes, like
 * the check of a zone's name, from DuckDB's ICU through a private in-memory database
 * opened once (the process is multithreaded, so TZ and tzset() are never touched).
 */
#include <jansson.h>
#include <pthread.h>

#include "partitions.h"

#define MAX_DIMS 8
#define MAX_KEYS 10000000                 /* keys one list or range may hold */
#define MAX_NUMBER ((int64_t)1 << 53)     /* beyond, numbering a multi key could overflow */
#define DAY_MINUTES 1440
#define WALL_LEN 128                      /* room for any formatted wall-clock time, even of
                                             absurd years: gcc proves no truncation */

enum kind { KIND_STATIC, KIND_TIME, KIND_MULTI };

typedef struct sorted_key {
    const char *key;
    size_t pos;
} sorted_key;

struct eider_partitions {
    enum kind kind;
    char **keys;                     /* static: the keys in order... */
    sorted_key *sorted;              /* ...and sorted, for lookups */
    size_t n_keys;
    eider_time_unit unit;            /* time: the unit, */
    int64_t first;                   /* the first window's number (from the epoch), */
    int64_t end;                     /* the end in wall-clock minutes, when has_end, */
    int has_end;
    const char *timezone;            /* and the zone, never NULL */
    const char *dynamic;             /* dynamic (a static kind): the store's name for it */
    char **names;                    /* multi: the dimensions' names and definitions */
    const eider_partitions **dims;
    size_t n_dims;
};

/* How p's keys are numbered as of now: each dimension's count and stride. */
typedef struct shape {
    int64_t count[MAX_DIMS], stride[MAX_DIMS], total;
    size_t n;
} shape;

/* A key split into one part per dimension (not NUL-terminated). */
typedef struct parts {
    const char *at[MAX_DIMS];
    size_t len[MAX_DIMS], n;
} parts;

static const char *const unit_names[] = { "hourly", "daily", "weekly", "monthly" };
static const char *const unit_keys[] = { "an hourly key", "a daily key", "a weekly key",
                                         "a monthly key" };
static const char *const unit_examples[] = { "2024-01-01-00:00", "2024-01-01", "2023-12-31",
                                             "2024-01-01" };
static const char *const weekdays[] = { "Sunday", "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday" };

/* ---- the calendar: civil dates and wall-clock minutes since 1970-01-01 00:00 ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400), yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

typedef struct civil {
    int64_t y, m, d;
} civil;

static civil civil_from_days(int64_t days)
{
    int64_t z = days + 719468, era = floor_div(z, 146097), doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    civil c = { .d = doy - (153 * mp + 2) / 5 + 1, .m = mp < 10 ? mp + 3 : mp - 9 };
    c.y = yoe + era * 400 + (c.m <= 2);
    return c;
}

/* 0 for Sunday to 6 for Saturday (1970-01-01 was a Thursday). */
static int weekday(int64_t days)
{
    return (int)(days + 4 - floor_div(days + 4, 7) * 7);
}

/* The value of n digits at s, or -1 when one is not a digit (reading stops there,
 * so a short string is safe). */
static int64_t digits(const char *s, int n)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Parse "YYYY-MM-DD" at s into days; 0, or -1 when it is not a real date. */
static int parse_date(const char *s, int64_t *days)
{
    int64_t y = digits(s, 4), m = -1, d = -1;
    if (y < 1 || s[4] != '-' || (m = digits(s + 5, 2)) < 1 || m > 12 || s[7] != '-' ||
        (d = digits(s + 8, 2)) < 1)
        return -1;
    *days = days_from_civil(y, m, d);
    civil c = civil_from_days(*days);
    return c.y == y && c.m == m && c.d == d ? 0 : -1;
}

/* Parse all of s, "HH:MM" or "HH:MM:SS" (seconds ignored), into minutes. */
static int parse_clock(const char *s, int64_t *minutes)
{
    int64_t h = digits(s, 2), m = -1, sec = 0;
    if (h < 0 || h > 23 || s[2] != ':' || (m = digits(s + 3, 2)) < 0 || m > 59)
        return -1;
    if (s[5] == ':' && ((sec = digits(s + 6, 2)) < 0 || sec > 59 || s[8] != '\0'))
        return -1;
    if (s[5] != ':' && s[5] != '\0')
        return -1;
    *minutes = h * 60 + m;
    return 0;
}

/* Parse a wall-clock time, "YYYY-MM-DD" optionally followed by ' ', 'T' or '-' and
 * "HH:MM[:SS]", into minutes since 1970-01-01 00:00. Returns 0, or -1. */
static int parse_wall(const char *s, int64_t *t)
{
    int64_t days = 0, mins = 0;
    if (parse_date(s, &days))
        return -1;
    if (s[10] != '\0' &&
        ((s[10] != ' ' && s[10] != 'T' && s[10] != '-') || parse_clock(s + 11, &mins)))
        return -1;
    *t = days * DAY_MINUTES + mins;
    return 0;
}

enum wall_style { WALL_DATE, WALL_HOUR, WALL_SQL };

/* Format minute t as "2024-01-31", "2024-01-31-13:00" or "2024-01-31 13:00:00". */
static void format_wall(int64_t t, enum wall_style style, char *out)
{
    int64_t days = floor_div(t, DAY_MINUTES), mins = t - days * DAY_MINUTES;
    civil c = civil_from_days(days);
    long long y = (long long)c.y, m = (long long)c.m, d = (long long)c.d;
    long long hh = (long long)(mins / 60), mm = (long long)(mins % 60);
    if (style == WALL_DATE)
        snprintf(out, WALL_LEN, "%04lld-%02lld-%02lld", y, m, d);
    else if (style == WALL_HOUR)
        snprintf(out, WALL_LEN, "%04lld-%02lld-%02lld-%02lld:%02lld", y, m, d, hh, mm);
    else
        snprintf(out, WALL_LEN, "%04lld-%02lld-%02lld %02lld:%02lld:00", y, m, d, hh, mm);
}

/* The number of the window of unit that holds minute t. */
static int64_t window_of(eider_time_unit unit, int64_t t)
{
    int64_t days = floor_div(t, DAY_MINUTES);
    civil c = civil_from_days(days);
    switch (unit) {
    case EIDER_HOURLY: return floor_div(t, 60);
    case EIDER_DAILY: return days;
    case EIDER_WEEKLY: return floor_div(days + 4, 7);      /* window 1 starts 1970-01-04 */
    default: return c.y * 12 + c.m - 1;
    }
}

/* The minute window w of unit starts at. */
static int64_t window_start(eider_time_unit unit, int64_t w)
{
    int64_t y = floor_div(w, 12);
    switch (unit) {
    case EIDER_HOURLY: return w * 60;
    case EIDER_DAILY: return w * DAY_MINUTES;
    case EIDER_WEEKLY: return (w * 7 - 4) * DAY_MINUTES;
    default: return days_from_civil(y, w - y * 12 + 1, 1) * DAY_MINUTES;
    }
}

static void format_key(eider_time_unit unit, int64_t w, char *out)
{
    format_wall(window_start(unit, w), unit == EIDER_HOURLY ? WALL_HOUR : WALL_DATE, out);
}

/* The window number of key (n bytes), when it is exactly a key of unit: 0, or -1. */
static int time_key_window(eider_time_unit unit, const char *key, size_t n, int64_t *w)
{
    char tmp[WALL_LEN], canon[WALL_LEN];
    int64_t t = 0;
    if (n >= sizeof(tmp))
        return -1;
    memcpy(tmp, key, n);
    tmp[n] = '\0';
    if (parse_wall(tmp, &t))
        return -1;
    format_key(unit, window_of(unit, t), canon);
    if (strcmp(tmp, canon) != 0)
        return -1;
    *w = window_of(unit, t);
    return 0;
}

/* ---- time zones, through a private DuckDB database with ICU ---- */

static pthread_once_t zone_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t zone_lock = PTHREAD_MUTEX_INITIALIZER;
static duckdb_database zone_db;
static duckdb_connection zone_conn;
static int zone_ready;

/* Open the private database, once, with one thread: it only answers small queries. */
static void zone_open(void)
{
    duckdb_config config = NULL;
    char *error = NULL;
    if (duckdb_create_config(&config) == DuckDBError)
        return;
    duckdb_set_config(config, "threads", "1");
    if (duckdb_open_ext(NULL, &zone_db, config, &error) == DuckDBSuccess &&
        duckdb_connect(zone_db, &zone_conn) == DuckDBSuccess)
        zone_ready = 1;
    duckdb_free(error);
    duckdb_destroy_config(&config);
}

/* The first row of chunk: column 0 (VARCHAR) to text, column 1 (BIGINT) to num. */
static int zone_read_row(duckdb_data_chunk chunk, eider__buf *text, int64_t *num,
                         eider__buf *err)
{
    duckdb_vector v = duckdb_data_chunk_get_vector(chunk, 0);
    uint64_t *validity = duckdb_vector_get_validity(v);
    if (validity && !duckdb_validity_row_is_valid(validity, 0)) {
        eider__buf_puts(err, "DuckDB answered NULL");
        return -1;
    }
    duckdb_string_t *s = (duckdb_string_t *)duckdb_vector_get_data(v);
    eider__buf_add(text, duckdb_string_t_data(s), duckdb_string_t_length(*s));
    if (num)
        *num = ((int64_t *)duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 1)))[0];
    return 0;
}

/* Run sql, with one VARCHAR parameter, on the private database and read its first
 * row (see zone_read_row). Returns 0, or -1 with DuckDB's message in err. */
static int zone_query(const char *sql, const char *param, eider__buf *text, int64_t *num,
                      eider__buf *err)
{
    duckdb_prepared_statement stmt = NULL;
    duckdb_result res;
    duckdb_data_chunk chunk = NULL;
    int have_res = 0, rc = -1;
    pthread_once(&zone_once, zone_open);
    if (!zone_ready) {
        eider__buf_puts(err, "DuckDB could not open an in-memory database");
        return -1;
    }
    pthread_mutex_lock(&zone_lock);
    if (duckdb_prepare(zone_conn, sql, &stmt) == DuckDBError) {
        eider__buf_puts(err, duckdb_prepare_error(stmt));
        goto out;
    }
    duckdb_bind_varchar(stmt, 1, param);
    have_res = 1;
    if (duckdb_execute_prepared(stmt, &res) == DuckDBError) {
        eider__buf_puts(err, duckdb_result_error(&res));
        goto out;
    }
    chunk = duckdb_fetch_chunk(res);
    if (chunk && duckdb_data_chunk_get_size(chunk) > 0)
        rc = zone_read_row(chunk, text, num, err);
    else
        eider__buf_puts(err, "DuckDB answered no row");
out:
    if (chunk)
        duckdb_destroy_data_chunk(&chunk);
    if (have_res)
        duckdb_destroy_result(&res);
    duckdb_destroy_prepare(&stmt);
    pthread_mutex_unlock(&zone_lock);
    return rc;
}

/* Whether tz is a zone DuckDB knows (1, 0) or -1 on a DuckDB error (in err). When it
 * is not, near gets the closest name when one is close. */
static int zone_known(const char *tz, eider__buf *near, eider__buf *err)
{
    eider__buf name = { 0 };
    int64_t distance = 0;
    int known = -1;
    if (zone_query("SELECT name, levenshtein(lower(name), lower(?)) FROM pg_timezone_names() "
                   "ORDER BY 2, 1 LIMIT 1", tz, &name, &distance, err) == 0) {
        known = strcmp(eider__buf_str(&name), tz) == 0;
        if (!known && distance <= (int64_t)(strlen(tz) / 3 + 1))
            eider__buf_puts(near, eider__buf_str(&name));
    }
    eider__buf_release(&name);
    return known;
}

/* The instant at which wall-clock minute t of zone tz is, as "YYYY-MM-DD HH:MM:SS+00"
 * (UTC; ICU resolves a skipped or repeated time as DuckDB's TimeZone setting does). */
static int zone_instant(const char *tz, int64_t t, char *out, eider__buf *err)
{
    eider__buf sql = { 0 }, text = { 0 };
    char wall[WALL_LEN];
    int64_t us = t * 60000000;
    int rc = 0;
    if (strcmp(tz, "UTC") != 0) {
        format_wall(t, WALL_SQL, wall);
        eider__buf_puts(&sql, "SELECT 'instant', epoch_us(timezone(?, TIMESTAMP ");
        eider__buf_sql_literal(&sql, wall);
        eider__buf_puts(&sql, "))");
        rc = zone_query(eider__buf_str(&sql), tz, &text, &us, err);
    }
    int64_t secs = floor_div(us, 1000000), days = floor_div(secs, 86400), sod = secs - days * 86400;
    civil c = civil_from_days(days);
    snprintf(out, WALL_LEN, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld+00", (long long)c.y,
             (long long)c.m, (long long)c.d, (long long)(sod / 3600), (long long)(sod / 60 % 60),
             (long long)(sod % 60));
    eider__buf_release(&sql);
    eider__buf_release(&text);
    return rc ? EIDER_EINVAL : EIDER_OK;
}

/* The wall-clock minute it is now in zone tz. */
static int zone_now(const char *tz, int64_t *t, eider__buf *err)
{
    eider__buf text = { 0 }, why = { 0 };
    int rc = EIDER_OK;
    if (strcmp(tz, "UTC") == 0) {
        *t = floor_div(eider__now_us(), 60000000);
        return EIDER_OK;
    }
    if (zone_query("SELECT strftime(timezone(?::VARCHAR, now()), '%Y-%m-%d %H:%M:%S')", tz,
                   &text, NULL, &why) != 0 || parse_wall(eider__buf_str(&text), t) != 0) {
        eider__buf_printf(err, "could not read the time in zone '%s' from DuckDB: %s", tz,
                          why.len ? eider__buf_str(&why) : eider__buf_str(&text));
        rc = EIDER_EDUCKDB;
    }
    eider__buf_release(&text);
    eider__buf_release(&why);
    return rc;
}

/* ---- definitions ---- */

static int def_error(eider_defs *defs, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set and remember defs's error; returns code. */
static int def_error(eider_defs *defs, int code, const char *fmt, ...)
{
    eider__buf msg = { 0 };
    va_list ap;
    va_start(ap, fmt);
    eider__buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    eider__defs_remember(defs, eider__defs_error(defs, code, "%s", eider__buf_str(&msg)));
    eider__buf_release(&msg);
    return code;
}

static size_t strv_count(const char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

static eider_partitions *partitions_new(eider_defs *defs, enum kind kind)
{
    eider_partitions *p = eider__arena_alloc(&defs->arena, sizeof(*p));
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    return p;
}

/* A static key: not empty, no control character, no "..." (which marks a range). */
static int check_static_key(eider_defs *defs, const char *key, size_t i)
{
    if (!*key)
        return def_error(defs, EIDER_EINVAL, "static partitions key %zu is empty: give every "
                         "partition a name", i + 1);
    if (strstr(key, "..."))
        return def_error(defs, EIDER_EINVAL, "static partitions key '%s' contains '...', which "
                         "marks a range ('A...B'): rename it", key);
    for (const char *c = key; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return def_error(defs, EIDER_EINVAL, "static partitions key %zu contains a control "
                             "character: use printable characters", i + 1);
    return EIDER_OK;
}

static int compare_sorted(const void *a, const void *b)
{
    return strcmp(((const sorted_key *)a)->key, ((const sorted_key *)b)->key);
}

const eider_partitions *eider_static_partitions(eider_defs *defs, const char *const *keys)
{
    size_t n = strv_count(keys);
    if (!defs)
        return NULL;
    if (n == 0) {
        def_error(defs, EIDER_EINVAL, "static partitions need at least one key, e.g. "
                  "EIDER_KEYS(\"setosa\", \"versicolor\")");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (check_static_key(defs, keys[i], i))
            return NULL;
    eider_partitions *p = partitions_new(defs, KIND_STATIC);
    p->keys = eider__arena_strv(&defs->arena, keys, &p->n_keys);
    p->sorted = eider__arena_alloc(&defs->arena, n * sizeof(*p->sorted));
    for (size_t i = 0; i < n; i++)
        p->sorted[i] = (sorted_key){ p->keys[i], i };
    qsort(p->sorted, n, sizeof(*p->sorted), compare_sorted);
    for (size_t i = 1; i < n; i++)
        if (strcmp(p->sorted[i - 1].key, p->sorted[i].key) == 0) {
            def_error(defs, EIDER_EINVAL, "static partitions list key '%s' twice: each key "
                      "must be unique", p->sorted[i].key);
            return NULL;
        }
    return p;
}

/* ---- dynamic partitions: static keys kept in the instance store ---- */

int eider__partition_key_check(const char *key, eider__buf *err)
{
    if (!key || !*key) {
        eider__buf_puts(err, "a partition key is empty: give every partition a name");
        return EIDER_EINVAL;
    }
    if (strstr(key, "...") || strchr(key, '|')) {
        eider__buf_printf(err, "partition key '%s' contains '%s', which %s: rename it", key,
                          strchr(key, '|') ? "|" : "...", strchr(key, '|')
                          ? "joins the keys of several dimensions" : "marks a range ('A...B')");
        return EIDER_EINVAL;
    }
    for (const char *c = key; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            eider__buf_puts(err, "a partition key contains a control character: use printable "
                            "characters");
            return EIDER_EINVAL;
        }
    return EIDER_OK;
}

const eider_partitions *eider_dynamic_partitions(eider_defs *defs, const char *name)
{
    eider__buf err = { 0 };
    if (!defs)
        return NULL;
    if (eider__partition_key_check(name, &err)) {
        def_error(defs, EIDER_EINVAL, "dynamic partitions need a name (%s)", eider__buf_str(&err));
        eider__buf_release(&err);
        return NULL;
    }
    eider_partitions *p = partitions_new(defs, KIND_STATIC);
    p->dynamic = eider__arena_strdup(&defs->arena, name);
    EIDER__GROW(defs->dynamic, defs->cap_dynamic, defs->n_dynamic + 1);
    defs->dynamic[defs->n_dynamic++] = p;
    return p;
}

int eider_defs_find_dynamic(eider_defs *defs, const char *name)
{
    size_t limit = (name ? strlen(name) : 0) / 3 + 1, best = limit + 1;
    const char *near = NULL;
    eider__buf names = { 0 };
    if (!defs || !name)
        return EIDER_EINVAL;
    for (size_t i = 0; i < defs->n_dynamic; i++) {
        const char *have = defs->dynamic[i]->dynamic;
        size_t d = eider__edit_distance(name, have, limit);
        if (strcmp(have, name) == 0)
            return EIDER_OK;
        if (d < best) {
            best = d;
            near = have;
        }
        eider__buf_printf(&names, "%s'%s'", names.len ? ", " : "", have);
    }
    if (near)
        eider__defs_error(defs, EIDER_ESELECT, "no definition declares dynamic partitions '%s' "
                          "(did you mean '%s'?)", name, near);
    else if (names.len)
        eider__defs_error(defs, EIDER_ESELECT, "no definition declares dynamic partitions '%s': "
                          "they declare %s", name, eider__buf_str(&names));
    else
        eider__defs_error(defs, EIDER_ESELECT, "no definition declares dynamic partitions '%s': "
                          "they declare none: declare them with eider_dynamic_partitions(defs, \"%s\")",
                          name, name);
    eider__buf_release(&names);
    return EIDER_ESELECT;
}

const char *eider__partitions_dynamic_name(const eider_partitions *p)
{
    for (size_t d = 0; p && p->kind == KIND_MULTI && d < p->n_dims; d++)
        if (p->dims[d]->dynamic)
            return p->dims[d]->dynamic;
    return p ? p->dynamic : NULL;
}

void eider__partitions_set_keys(eider_defs *defs, const eider_partitions *dynamic,
                                char *const *keys, size_t n)
{
    eider_partitions *p = (eider_partitions *)dynamic;    /* defs owns it */
    p->keys = eider__arena_alloc(&defs->arena, (n + 1) * sizeof(*p->keys));
    p->sorted = eider__arena_alloc(&defs->arena, (n + 1) * sizeof(*p->sorted));
    for (size_t i = 0; i < n; i++) {
        p->keys[i] = eider__arena_strdup(&defs->arena, keys[i]);
        p->sorted[i] = (sorted_key){ p->keys[i], i };
    }
    p->keys[n] = NULL;
    qsort(p->sorted, n, sizeof(*p->sorted), compare_sorted);
    p->n_keys = n;
}

/* The message for a start that parses but is not a key of the unit. */
static int start_error(eider_defs *defs, const eider_time_partitions_def *def, int64_t t)
{
    char canon[WALL_LEN];
    const char *start = def->start;
    int date_only = strlen(start) == 10;
    format_key(def->unit, window_of(def->unit, t), canon);
    if (def->unit == EIDER_WEEKLY && date_only)
        return def_error(defs, EIDER_EINVAL, "weekly partitions start '%s' is a %s, but weeks "
                         "start on Sunday: start at '%s'", start,
                         weekdays[weekday(floor_div(t, DAY_MINUTES))], canon);
    if (def->unit == EIDER_MONTHLY && date_only)
        return def_error(defs, EIDER_EINVAL, "monthly partitions start '%s' is not the first "
                         "of a month: start at '%s'", start, canon);
    return def_error(defs, EIDER_EINVAL, "%s partitions start '%s' is not %s: start at '%s'",
                     unit_names[def->unit], start, unit_keys[def->unit], canon);
}

static int check_start(eider_defs *defs, const eider_time_partitions_def *def, int64_t *first)
{
    char canon[WALL_LEN];
    const char *unit = unit_names[def->unit];
    int64_t t = 0;
    if (!def->start || !*def->start)
        return def_error(defs, EIDER_EINVAL, "%s partitions need a start: set .start to the "
                         "first key, e.g. '%s'", unit, unit_examples[def->unit]);
    if (parse_wall(def->start, &t))
        return def_error(defs, EIDER_EINVAL, "%s partitions start '%s' is not a date: write "
                         "the first key like '%s'", unit, def->start, unit_examples[def->unit]);
    *first = window_of(def->unit, t);
    format_key(def->unit, *first, canon);
    return strcmp(canon, def->start) != 0 ? start_error(defs, def, t) : EIDER_OK;
}

static int check_end(eider_defs *defs, const eider_time_partitions_def *def, int64_t first,
                     int64_t *end)
{
    const char *unit = unit_names[def->unit];
    if (parse_wall(def->end, end))
        return def_error(defs, EIDER_EINVAL, "%s partitions end '%s' is not a date: write "
                         "'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM' (the end is excluded)", unit,
                         def->end);
    if (*end <= window_start(def->unit, first))
        return def_error(defs, EIDER_EINVAL, "%s partitions end '%s' is not after their start "
                         "'%s': the end is excluded, so give a later one", unit, def->end,
                         def->start);
    return EIDER_OK;
}

static int check_zone(eider_defs *defs, const char *tz)
{
    eider__buf near = { 0 }, err = { 0 };
    int rc = EIDER_OK, known = strcmp(tz, "UTC") == 0 ? 1 : zone_known(tz, &near, &err);
    if (known < 0)
        rc = def_error(defs, EIDER_EDUCKDB, "time zone '%s' could not be checked: %s", tz,
                       eider__buf_str(&err));
    else if (!known && near.len)
        rc = def_error(defs, EIDER_EINVAL, "unknown time zone '%s' (did you mean '%s'?)", tz,
                       eider__buf_str(&near));
    else if (!known)
        rc = def_error(defs, EIDER_EINVAL, "unknown time zone '%s': use an IANA name such as "
                       "'Europe/Paris' or 'UTC'", tz);
    eider__buf_release(&near);
    eider__buf_release(&err);
    return rc;
}

const eider_partitions *eider_time_partitions(eider_defs *defs,
                                              const eider_time_partitions_def *def)
{
    int64_t first = 0, end = 0;
    if (!defs)
        return NULL;
    if (!def || (int)def->unit < EIDER_HOURLY || (int)def->unit > EIDER_MONTHLY) {
        def_error(defs, EIDER_EINVAL, "time partitions need a unit: EIDER_HOURLY, EIDER_DAILY, "
                  "EIDER_WEEKLY or EIDER_MONTHLY");
        return NULL;
    }
    const char *tz = def->timezone && *def->timezone ? def->timezone : "UTC";
    int has_end = def->end && *def->end;
    if (check_start(defs, def, &first) || (has_end && check_end(defs, def, first, &end)) ||
        check_zone(defs, tz))
        return NULL;
    eider_partitions *p = partitions_new(defs, KIND_TIME);
    p->unit = def->unit;
    p->first = first;
    p->end = end;
    p->has_end = has_end;
    p->timezone = eider__arena_strdup(&defs->arena, tz);
    return p;
}

static int check_name(eider_defs *defs, const char *const *names, size_t i)
{
    if (!*names[i] || strchr(names[i], '|'))
        return def_error(defs, EIDER_EINVAL, "multi partitions dimension %zu is named '%s': give "
                         "each dimension a non-empty name without '|'", i + 1, names[i]);
    for (size_t j = 0; j < i; j++)
        if (strcmp(names[j], names[i]) == 0)
            return def_error(defs, EIDER_EINVAL, "multi partitions name two dimensions '%s': "
                             "give each dimension a unique name", names[i]);
    return EIDER_OK;
}

static int check_dimension(eider_defs *defs, const char *name, const eider_partitions *dim)
{
    if (dim->kind == KIND_MULTI)
        return def_error(defs, EIDER_EINVAL, "multi partitions dimension '%s' is itself multi "
                         "partitions: make each dimension static or time partitions", name);
    for (size_t i = 0; dim->kind == KIND_STATIC && i < dim->n_keys; i++)
        if (strchr(dim->keys[i], '|'))
            return def_error(defs, EIDER_EINVAL, "multi partitions dimension '%s' has key '%s': "
                             "a dimension's keys cannot hold '|', which joins the parts of a "
                             "multi key", name, dim->keys[i]);
    return EIDER_OK;
}

static int check_multi(eider_defs *defs, const char *const *names,
                       const eider_partitions *const *dims)
{
    size_t nn = strv_count(names), nd = 0, time_dim = SIZE_MAX;
    while (dims && dims[nd])
        nd++;
    if (nn != nd)
        return def_error(defs, EIDER_EINVAL, "multi partitions have %zu names for %zu "
                         "dimensions: give each dimension one name (a dimension whose "
                         "definition failed is NULL, which ends the list early)", nn, nd);
    if (nd < 2 || nd > MAX_DIMS)
        return def_error(defs, EIDER_EINVAL, "multi partitions have %zu dimensions: give 2 to "
                         "%d (for one, use its definition directly)", nd, MAX_DIMS);
    for (size_t i = 0; i < nd; i++) {
        if (check_name(defs, names, i) || check_dimension(defs, names[i], dims[i]))
            return EIDER_EINVAL;
        if (dims[i]->kind == KIND_TIME && time_dim != SIZE_MAX)
            return def_error(defs, EIDER_EINVAL, "multi partitions dimensions '%s' and '%s' are "
                             "both time windows: at most one dimension may be", names[time_dim],
                             names[i]);
        if (dims[i]->kind == KIND_TIME)
            time_dim = i;
    }
    return EIDER_OK;
}

const eider_partitions *eider_multi_partitions(eider_defs *defs, const char *const *names,
                                               const eider_partitions *const *dimensions)
{
    if (!defs || check_multi(defs, names, dimensions))
        return NULL;
    eider_partitions *p = partitions_new(defs, KIND_MULTI);
    p->names = eider__arena_strv(&defs->arena, names, &p->n_dims);
    p->dims = eider__arena_alloc(&defs->arena, p->n_dims * sizeof(*p->dims));
    memcpy(p->dims, dimensions, p->n_dims * sizeof(*p->dims));
    return p;
}

/* ---- keys: each dimension ("leaf", static or time) and their numbering ---- */

static size_t dims_of(const eider_partitions *p)
{
    return p->kind == KIND_MULTI ? p->n_dims : 1;
}

static const eider_partitions *dim_of(const eider_partitions *p, size_t d)
{
    return p->kind == KIND_MULTI ? p->dims[d] : p;
}

/* Compare a key of n bytes with the string b, as strcmp() would. */
static int key_cmp(const char *a, size_t n, const char *b)
{
    size_t nb = strlen(b);
    int c = memcmp(a, b, n < nb ? n : nb);
    return c ? c : (n > nb) - (n < nb);
}

static int64_t static_find(const eider_partitions *p, const char *key, size_t n)
{
    size_t lo = 0, hi = p->n_keys;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = key_cmp(key, n, p->sorted[mid].key);
        if (c == 0)
            return (int64_t)p->sorted[mid].pos;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

/* How many keys leaf p has now: time windows that end at or before the end (or now). */
static int leaf_count(const eider_partitions *p, int64_t *count, eider__buf *err)
{
    int64_t end = p->end, c = 0;
    if (p->kind == KIND_STATIC) {
        *count = (int64_t)p->n_keys;
        return EIDER_OK;
    }
    if (!p->has_end) {
        int rc = zone_now(p->timezone, &end, err);
        if (rc)
            return rc;
    }
    c = window_of(p->unit, end) - p->first;
    *count = c > 0 ? c : 0;
    return EIDER_OK;
}

static void leaf_key(const eider_partitions *p, int64_t pos, eider__buf *out)
{
    char key[WALL_LEN];
    if (p->kind == KIND_STATIC) {
        eider__buf_puts(out, p->keys[pos]);
        return;
    }
    format_key(p->unit, p->first + pos, key);
    eider__buf_puts(out, key);
}

/* The position of key (n bytes) among leaf p's keys, counting time windows from the
 * start with no end; -1 when it is not one. */
static int64_t leaf_pos(const eider_partitions *p, const char *key, size_t n)
{
    int64_t w = 0;
    if (p->kind == KIND_STATIC)
        return static_find(p, key, n);
    if (time_key_window(p->unit, key, n, &w) || w < p->first)
        return -1;
    return w - p->first;
}

static int shape_init(const eider_partitions *p, shape *s, eider__buf *err)
{
    memset(s, 0, sizeof(*s));
    s->n = dims_of(p);
    s->total = 1;
    for (size_t d = s->n; d-- > 0;) {
        int rc = leaf_count(dim_of(p, d), &s->count[d], err);
        if (rc)
            return rc;
        s->stride[d] = s->total;
        if (s->count[d] > 0 && s->total > MAX_NUMBER / s->count[d]) {
            eider__buf_puts(err, "these partitions have too many keys to number: use fewer keys "
                            "or a later start");
            return EIDER_EINVAL;
        }
        s->total *= s->count[d];
    }
    return EIDER_OK;
}

static void key_at(const eider_partitions *p, const shape *s, int64_t number, eider__buf *out)
{
    for (size_t d = 0; d < s->n; d++) {
        if (d)
            eider__buf_putc(out, '|');
        leaf_key(dim_of(p, d), number / s->stride[d] % s->count[d], out);
    }
}

/* Split key into one part per dimension of p ('|' between them; a leaf's key is one
 * part). Returns 0, or -1 when it does not have that many parts. */
static int split_key(const eider_partitions *p, const char *key, parts *out)
{
    const char *s = key;
    out->n = 0;
    if (p->kind != KIND_MULTI) {
        out->at[0] = key;
        out->len[0] = strlen(key);
        out->n = 1;
        return 0;
    }
    for (;;) {
        const char *bar = strchr(s, '|');
        if (out->n == p->n_dims)
            return -1;
        out->at[out->n] = s;
        out->len[out->n++] = bar ? (size_t)(bar - s) : strlen(s);
        if (!bar)
            break;
        s = bar + 1;
    }
    return out->n == p->n_dims ? 0 : -1;
}

/* The number of key in p's order as of s, or -1 when it is not one of p's keys. */
static int64_t key_number(const eider_partitions *p, const shape *s, const char *key)
{
    parts k;
    int64_t number = 0;
    if (split_key(p, key, &k))
        return -1;
    for (size_t d = 0; d < s->n; d++) {
        int64_t pos = leaf_pos(dim_of(p, d), k.at[d], k.len[d]);
        if (pos < 0 || pos >= s->count[d])
            return -1;
        number += pos * s->stride[d];
    }
    return number;
}

/* Keys lo to hi (included) of p, as eider__partitions_keys() gives them. */
static void list_keys(const eider_partitions *p, const shape *s, int64_t lo, int64_t hi,
                      char ***keys, size_t *n)
{
    size_t count = hi >= lo ? (size_t)(hi - lo + 1) : 0;
    char **v = eider__xmalloc((count ? count : 1) * sizeof(*v));
    eider__buf b = { 0 };
    for (size_t i = 0; i < count; i++) {
        key_at(p, s, lo + (int64_t)i, &b);
        v[i] = eider__buf_detach(&b);
    }
    *keys = v;
    *n = count;
}

int eider__partitions_keys(const eider_partitions *p, char ***keys, size_t *n, eider__buf *err)
{
    shape s;
    *keys = NULL;
    *n = 0;
    if (!p)
        return EIDER_EINVAL;
    int rc = shape_init(p, &s, err);
    if (rc)
        return rc;
    if (s.total > MAX_KEYS) {
        eider__buf_printf(err, "these partitions have %lld keys, more than the %d Eider lists: "
                          "use fewer keys or a later start", (long long)s.total, MAX_KEYS);
        return EIDER_EINVAL;
    }
    list_keys(p, &s, 0, s.total - 1, keys, n);
    return EIDER_OK;
}

void eider__strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

int eider__partitions_has(const eider_partitions *p, const char *key)
{
    eider__buf err = { 0 };
    shape s;
    int has = p && key && shape_init(p, &s, &err) == EIDER_OK && key_number(p, &s, key) >= 0;
    eider__buf_release(&err);
    return has;
}

const char *eider__partitions_timezone(const eider_partitions *p)
{
    for (size_t d = 0; p && d < dims_of(p); d++)
        if (dim_of(p, d)->kind == KIND_TIME)
            return dim_of(p, d)->timezone;
    return NULL;
}

/* ---- resolving a request ---- */

/* The position of the key of leaf p closest to part (n bytes), or -1 when none is
 * close. A time part that reads as a date suggests the window that holds it. */
static int64_t leaf_closest(const eider_partitions *p, int64_t count, const char *part, size_t n)
{
    eider__buf want = { 0 }, key = { 0 };
    size_t limit = n / 3 + 1, best_d = limit + 1;
    int64_t best = -1, t = 0;
    eider__buf_add(&want, part, n);
    if (p->kind == KIND_TIME && parse_wall(eider__buf_str(&want), &t) == 0) {
        int64_t pos = window_of(p->unit, t) - p->first;
        best = pos >= 0 && pos < count ? pos : -1;
        goto out;
    }
    for (int64_t i = 0; i < count && i < MAX_KEYS; i++) {
        eider__buf_reset(&key);
        leaf_key(p, i, &key);
        size_t d = eider__edit_distance(eider__buf_str(&want), eider__buf_str(&key), limit);
        if (d < best_d) {
            best_d = d;
            best = i;
        }
    }
out:
    eider__buf_release(&want);
    eider__buf_release(&key);
    return best;
}

/* The parts of k in the dimensions' order, appended to out, when they were given in
 * another (dimensions swapped): in the order found, each is a key of its dimension.
 * Returns 1, or 0 when they are in order already or no order fits. */
static int reorder_parts(const eider_partitions *p, const shape *s, const parts *k, eider__buf *out)
{
    int used[MAX_DIMS] = { 0 }, moved = 0;
    size_t pick[MAX_DIMS];
    for (size_t d = 0; d < s->n; d++) {
        size_t i = 0;
        for (; i < k->n; i++) {
            int64_t pos = used[i] ? -1 : leaf_pos(dim_of(p, d), k->at[i], k->len[i]);
            if (pos >= 0 && pos < s->count[d])
                break;
        }
        if (i == k->n)
            return 0;
        used[i] = 1;
        pick[d] = i;
        moved |= i != d;
    }
    for (size_t d = 0; moved && d < s->n; d++) {
        if (d)
            eider__buf_putc(out, '|');
        eider__buf_add(out, k->at[pick[d]], k->len[pick[d]]);
    }
    return moved;
}

/* A key of p close to key, appended to near: its parts in the dimensions' order when
 * they were given in another (returns 2), else each part that is not a key of its
 * dimension replaced by the closest one (returns 1). Returns 0 when there is none. */
static int suggest(const eider_partitions *p, const shape *s, const char *key, eider__buf *near)
{
    eider__buf out = { 0 };
    parts k;
    int found = split_key(p, key, &k) == 0;
    if (found && p->kind == KIND_MULTI && reorder_parts(p, s, &k, near))
        return 2;
    for (size_t d = 0; found && d < s->n; d++) {
        const eider_partitions *dim = dim_of(p, d);
        int64_t pos = leaf_pos(dim, k.at[d], k.len[d]);
        if (pos < 0 || pos >= s->count[d])
            pos = leaf_closest(dim, s->count[d], k.at[d], k.len[d]);
        if (d)
            eider__buf_putc(&out, '|');
        if (pos >= 0)
            leaf_key(dim, pos, &out);
        found = pos >= 0;
    }
    if (found)
        eider__buf_puts(near, eider__buf_str(&out));
    eider__buf_release(&out);
    return found;
}

/* "its partitions run from 'a' to 'z'", or that there are none yet. */
static void put_span(const eider_partitions *p, const shape *s, eider__buf *out)
{
    const char *storage = getenv("EIDER_STORAGE");
    if (s->total == 0 && p->dynamic && !p->keys) {     /* no store was read: none in use */
        eider__buf_printf(out, "dynamic partitions '%s' have no keys: they are kept in the "
                          "instance store, and this run has none", p->dynamic);
        if (storage && !strcmp(storage, "none")) {
            eider__buf_puts(out, " (EIDER_STORAGE is 'none'): unset EIDER_STORAGE to use the "
                            "store in .eider, add keys with eider partitions add ");
            eider__buf_shell_word(out, p->dynamic);
            eider__buf_puts(out, " KEY..., then run again");
        } else {
            eider__buf_puts(out, ": run with a store that has them (eider_run_options.store)");
        }
        return;
    }
    if (s->total == 0 && p->dynamic) {
        eider__buf_printf(out, "dynamic partitions '%s' have no keys yet: add them with "
                          "eider partitions add ", p->dynamic);
        eider__buf_shell_word(out, p->dynamic);
        eider__buf_puts(out, " KEY... (or eider_store_add_partitions())");
        return;
    }
    if (s->total == 0) {
        eider__buf_puts(out, "it has no partitions yet (time windows count once they end)");
        return;
    }
    eider__buf_puts(out, "its partitions run from '");
    key_at(p, s, 0, out);
    eider__buf_puts(out, "' to '");
    key_at(p, s, s->total - 1, out);
    eider__buf_putc(out, '\'');
}

void eider__partitions_span(const eider_partitions *p, eider__buf *out)
{
    shape s;
    eider__buf ignored = { 0 };
    if (shape_init(p, &s, &ignored) == EIDER_OK)
        put_span(p, &s, out);
    else
        eider__buf_puts(out, eider__buf_str(&ignored));
    eider__buf_release(&ignored);
}

/* The dimensions' names joined by '|', the shape of a multi key. */
static void put_key_shape(const eider_partitions *p, eider__buf *out)
{
    for (size_t d = 0; d < p->n_dims; d++) {
        if (d)
            eider__buf_putc(out, '|');
        eider__buf_puts(out, p->names[d]);
    }
}

static int find_key(const eider_partitions *p, const shape *s, const char *asset,
                    const char *key, int64_t *number, eider__buf *err)
{
    eider__buf near = { 0 };
    parts k;
    *number = key_number(p, s, key);
    if (*number >= 0)
        return EIDER_OK;
    eider__buf_printf(err, "asset '%s' has no partition '%s'", asset, key);
    int near_kind = suggest(p, s, key, &near);
    if (near_kind)
        eider__buf_printf(err, " (did you mean '%s'?)", eider__buf_str(&near));
    eider__buf_puts(err, "; ");
    put_span(p, s, err);
    if (p->dynamic && s->total) {
        eider__buf_puts(err, "; add it with eider partitions add ");
        eider__buf_shell_word(err, p->dynamic);
        eider__buf_putc(err, ' ');
        eider__buf_shell_quote(err, key);
    }
    if (p->kind == KIND_MULTI && (near_kind == 2 || split_key(p, key, &k) != 0)) {
        eider__buf_puts(err, " (a key joins one key per dimension with '|', in order: ");
        put_key_shape(p, err);
        eider__buf_putc(err, ')');
    }
    eider__buf_release(&near);
    return EIDER_ENOTFOUND;
}

/* The numbers of the first and last keys of request, "KEY" or "A...B". */
static int request_range(const eider_partitions *p, const shape *s, const char *asset,
                         const char *request, int64_t *lo, int64_t *hi, eider__buf *err)
{
    eider__buf first = { 0 };
    const char *dots = strstr(request, "...");
    int rc = EIDER_EINVAL;
    eider__buf_add(&first, request, dots ? (size_t)(dots - request) : strlen(request));
    if (!*request) {
        eider__buf_printf(err, "asset '%s' is partitioned: name a partition 'KEY' or a range "
                          "'A...B'; ", asset);
        put_span(p, s, err);
    } else if (dots && (!first.len || !dots[3])) {
        eider__buf_printf(err, "partition range '%s' of asset '%s' needs both ends: write "
                          "'A...B'; ", request, asset);
        put_span(p, s, err);
    } else if (!(rc = find_key(p, s, asset, eider__buf_str(&first), lo, err))) {
        rc = dots ? find_key(p, s, asset, dots + 3, hi, err) : EIDER_OK;
        if (!dots)
            *hi = *lo;
    }
    if (!rc && *lo > *hi) {
        eider__buf_printf(err, "partition range '%s' of asset '%s' is reversed: '%s' comes "
                          "after '%s'; write '%s...%s'", request, asset, eider__buf_str(&first),
                          dots + 3, dots + 3, eider__buf_str(&first));
        rc = EIDER_EINVAL;
    }
    eider__buf_release(&first);
    return rc;
}

int eider__partitions_resolve(const eider_partitions *p, const char *asset_key,
                              const char *request, char ***keys, size_t *n, eider__buf *err)
{
    const char *asset = asset_key ? asset_key : "?";
    int64_t lo = 0, hi = -1;
    shape s;
    *keys = NULL;
    *n = 0;
    if (!p || !request)
        return EIDER_EINVAL;
    int rc = shape_init(p, &s, err);
    if (!rc)
        rc = request_range(p, &s, asset, request, &lo, &hi, err);
    if (!rc && hi - lo >= MAX_KEYS) {
        eider__buf_printf(err, "partition range '%s' of asset '%s' holds %lld partitions, more "
                          "than the %d one run may: split it", request, asset,
                          (long long)(hi - lo + 1), MAX_KEYS);
        rc = EIDER_EINVAL;
    }
    if (!rc)
        list_keys(p, &s, lo, hi, keys, n);
    return rc;
}

int eider_defs_partition_keys(eider_defs *defs, size_t i, const char *request, char ***keys,
                              size_t *n)
{
    eider__buf err = { 0 };
    int rc = EIDER_OK;
    *keys = NULL;
    *n = 0;
    if (!defs || i >= defs->n_assets)
        return EIDER_EINVAL;
    const eider__asset *a = &defs->assets[i];
    if (!a->partitions)
        return eider__defs_error(defs, EIDER_EINVAL, "asset '%s' is not partitioned", a->key);
    rc = request ? eider__partitions_resolve(a->partitions, a->key, request, keys, n, &err)
                 : eider__partitions_keys(a->partitions, keys, n, &err);
    if (rc)
        rc = eider__defs_error(defs, EIDER_ESELECT, "%s", eider__buf_str(&err));
    eider__buf_release(&err);
    return rc;
}

void eider_keys_free(char **keys, size_t n)
{
    eider__strv_free(keys, n);
}

/* ---- the SQL condition of a set of keys ---- */

/* "e.g. EIDER_META_TEXT(...)", the metadata an asset with p would write. */
static void put_example(const eider_partitions *p, eider__buf *out)
{
    eider__buf_puts(out, "e.g. EIDER_META_TEXT(\"partition_expr\", \"");
    if (p->kind == KIND_STATIC)
        eider__buf_puts(out, "species");
    else if (p->kind == KIND_TIME)
        eider__buf_puts(out, "event_time");
    for (size_t d = 0; p->kind == KIND_MULTI && d < p->n_dims; d++)
        eider__buf_printf(out, "%s\\\"%s\\\": \\\"%s\\\"%s", d ? ", " : "{", p->names[d],
                          p->names[d], d + 1 == p->n_dims ? "}" : "");
    eider__buf_puts(out, "\")");
}

static int expr_error(const eider_partitions *p, eider__buf *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Append the message, then an example of the metadata to write. */
static int expr_error(const eider_partitions *p, eider__buf *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    eider__buf_vprintf(err, fmt, ap);
    va_end(ap);
    eider__buf_puts(err, ", ");
    put_example(p, err);
    return EIDER_EINVAL;
}

static int missing_expr(const eider_partitions *p, eider__buf *err)
{
    return expr_error(p, err, "the DuckDB I/O manager needs metadata \"partition_expr\" for a "
                      "partitioned asset: %s", p->kind == KIND_MULTI ?
                      "a JSON object naming the SQL expression (a column) of each dimension" :
                      "the SQL expression (a column) that holds the partition key");
}

static int static_where(const eider_partitions *p, const char *expr, char *const *keys,
                        size_t n, eider__buf *sql, eider__buf *err)
{
    for (size_t i = 0; i < n; i++)
        if (static_find(p, keys[i], strlen(keys[i])) < 0) {
            eider__buf_printf(err, "partition '%s' is not one of its keys", keys[i]);
            return EIDER_ENOTFOUND;
        }
    eider__buf_printf(sql, "(%s) IN (", expr);
    for (size_t i = 0; i < n; i++) {
        if (i)
            eider__buf_puts(sql, ", ");
        eider__buf_sql_literal(sql, keys[i]);
    }
    eider__buf_putc(sql, ')');
    return EIDER_OK;
}

static int compare_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The SQL literal of the start of wall-clock minute t of p's zone: the wall-clock time,
 * or for EIDER__BOUNDS_INSTANTS the TIMESTAMPTZ in UTC, which no session TimeZone
 * changes. */
static int put_bound(const eider_partitions *p, int64_t t, eider__bounds bounds, eider__buf *sql,
                     eider__buf *err)
{
    char text[WALL_LEN];
    if (bounds != EIDER__BOUNDS_INSTANTS) {
        format_wall(t, WALL_SQL, text);
        eider__buf_printf(sql, "'%s'", text);
        return EIDER_OK;
    }
    if (zone_instant(p->timezone, t, text, err)) {
        eider__buf_printf(err, " (the start of a window in zone '%s')", p->timezone);
        return EIDER_EINVAL;
    }
    eider__buf_printf(sql, "TIMESTAMPTZ '%s'", text);
    return EIDER_OK;
}

/* ((expr) >= start of lo AND (expr) < end of hi); text is compared as the TIMESTAMP it
 * spells, so that '2024-01-01' is in its day (as text it sorts before the day's start). */
static int put_windows(const eider_partitions *p, eider__buf *sql, const char *expr, int64_t lo,
                       int64_t hi, eider__bounds bounds, eider__buf *err)
{
    const char *as = bounds == EIDER__BOUNDS_TEXT ? "CAST((%s) AS TIMESTAMP)" : "(%s)";
    eider__buf_putc(sql, '(');
    eider__buf_printf(sql, as, expr);
    eider__buf_puts(sql, " >= ");
    if (put_bound(p, window_start(p->unit, lo), bounds, sql, err))
        return EIDER_EINVAL;
    eider__buf_puts(sql, " AND ");
    eider__buf_printf(sql, as, expr);
    eider__buf_puts(sql, " < ");
    if (put_bound(p, window_start(p->unit, hi + 1), bounds, sql, err))
        return EIDER_EINVAL;
    eider__buf_putc(sql, ')');
    return EIDER_OK;
}

/* The sorted, distinct windows w[0..n) as ranges of consecutive windows, OR-ed. */
static int put_window_runs(const eider_partitions *p, eider__buf *sql, const char *expr,
                           const int64_t *w, size_t n, eider__bounds bounds, eider__buf *err)
{
    size_t runs = 0;
    int rc = EIDER_OK;
    for (size_t i = 0; i < n; i++)
        runs += i == 0 || w[i] != w[i - 1] + 1;
    if (runs > 1)
        eider__buf_putc(sql, '(');
    for (size_t i = 0, j = 0; i < n && !rc; i = j + 1) {
        for (j = i; j + 1 < n && w[j + 1] == w[j] + 1; j++)
            ;
        if (i)
            eider__buf_puts(sql, " OR ");
        rc = put_windows(p, sql, expr, w[i], w[j], bounds, err);
    }
    if (runs > 1)
        eider__buf_putc(sql, ')');
    return rc;
}

static int time_where(const eider_partitions *p, const char *expr, char *const *keys, size_t n,
                      eider__bounds bounds, eider__buf *sql, eider__buf *err)
{
    int64_t *w = eider__xmalloc(n * sizeof(*w));
    size_t m = 0;
    int rc = EIDER_OK;
    for (size_t i = 0; i < n; i++)
        if (time_key_window(p->unit, keys[i], strlen(keys[i]), &w[i]) || w[i] < p->first ||
            (p->has_end && window_start(p->unit, w[i] + 1) > p->end)) {
            eider__buf_printf(err, "partition '%s' is not one of its keys (%s, like '%s', from "
                              "the start)", keys[i], unit_names[p->unit],
                              unit_examples[p->unit]);
            rc = EIDER_ENOTFOUND;
            goto out;
        }
    qsort(w, n, sizeof(*w), compare_int64);
    for (size_t i = 0; i < n; i++)
        if (m == 0 || w[i] != w[m - 1])
            w[m++] = w[i];
    rc = put_window_runs(p, sql, expr, w, m, bounds, err);
out:
    free(w);
    return rc;
}

static int leaf_where(const eider_partitions *p, const char *expr, char *const *keys, size_t n,
                      eider__bounds bounds, eider__buf *sql, eider__buf *err)
{
    if (p->kind == KIND_STATIC)
        return static_where(p, expr, keys, n, sql, err);
    return time_where(p, expr, keys, n, bounds, sql, err);
}

/* A name in the metadata that is not a dimension is an error (a typo, most likely). */
static int check_expr_names(const eider_partitions *p, json_t *root, eider__buf *err)
{
    for (void *it = json_object_iter(root); it; it = json_object_iter_next(root, it)) {
        const char *name = json_object_iter_key(it);
        size_t d = 0, best = SIZE_MAX, best_d = strlen(name) / 3 + 2;
        for (; d < p->n_dims && strcmp(p->names[d], name) != 0; d++) {
            size_t dist = eider__edit_distance(name, p->names[d], best_d - 1);
            if (dist < best_d) {
                best_d = dist;
                best = d;
            }
        }
        if (d == p->n_dims && best != SIZE_MAX)
            return expr_error(p, err, "metadata \"partition_expr\" names '%s', which is not a "
                              "dimension (did you mean '%s'?)", name, p->names[best]);
        if (d == p->n_dims)
            return expr_error(p, err, "metadata \"partition_expr\" names '%s', which is not a "
                              "dimension: name each dimension once", name);
    }
    return EIDER_OK;
}

/* Each dimension's expression, from the JSON object in text (kept alive by *root). */
static int multi_exprs(const eider_partitions *p, const char *text, json_t **root,
                       const char **exprs, eider__buf *err)
{
    json_error_t jerr;
    if (!text || !*text)
        return missing_expr(p, err);
    *root = json_loads(text, 0, &jerr);
    if (!*root || !json_is_object(*root))
        return expr_error(p, err, "metadata \"partition_expr\" must be a JSON object naming the "
                          "SQL expression of each dimension, not '%s'", text);
    for (size_t d = 0; d < p->n_dims; d++) {
        json_t *v = json_object_get(*root, p->names[d]);
        if (!v)
            return expr_error(p, err, "metadata \"partition_expr\" has no expression for "
                              "dimension '%s': name one for each dimension", p->names[d]);
        if (!json_is_string(v) || !*json_string_value(v))
            return expr_error(p, err, "metadata \"partition_expr\" gives dimension '%s' no SQL "
                              "expression: use a non-empty string", p->names[d]);
        exprs[d] = json_string_value(v);
    }
    return check_expr_names(p, *root, err);
}

/* Keys grouped by their parts in every dimension but the free one (the time one, else
 * the last), so a group's condition lists only the free dimension's keys. */
typedef struct grouping {
    eider__arena arena;      /* the parts, NUL-terminated, and the groups' names */
    char **part;             /* part[i * n_dims + d] */
    char **scratch;          /* a group's free parts */
    size_t *next;            /* the next key of the same group, or SIZE_MAX */
    size_t *first, *last;    /* each group's first and last key */
    size_t n_groups, free_dim;
    eider__index by_rest;    /* the other parts, joined -> group */
} grouping;

static void grouping_release(grouping *g)
{
    free(g->part);
    free(g->scratch);
    free(g->next);
    free(g->first);
    free(g->last);
    eider__index_release(&g->by_rest);
    eider__arena_release(&g->arena);
}

static void group_add(grouping *g, const char *rest, size_t i)
{
    long found = eider__index_get(&g->by_rest, rest);
    size_t gi = found >= 0 ? (size_t)found : g->n_groups;
    g->next[i] = SIZE_MAX;
    if (found < 0) {
        eider__index_put(&g->by_rest, rest, (uint32_t)g->n_groups++);
        g->first[gi] = i;
    } else {
        g->next[g->last[gi]] = i;
    }
    g->last[gi] = i;
}

/* Room for n keys of p; the free dimension is the time one, else the last. */
static void grouping_init(grouping *g, const eider_partitions *p, size_t n)
{
    g->free_dim = p->n_dims - 1;
    for (size_t d = p->n_dims; d-- > 0;)
        if (p->dims[d]->kind == KIND_TIME)
            g->free_dim = d;
    g->part = eider__xmalloc(n * p->n_dims * sizeof(*g->part));
    g->scratch = eider__xmalloc(n * sizeof(*g->scratch));
    g->next = eider__xmalloc(n * sizeof(*g->next));
    g->first = eider__xmalloc(n * sizeof(*g->first));
    g->last = eider__xmalloc(n * sizeof(*g->last));
}

static int grouping_build(const eider_partitions *p, char *const *keys, size_t n, grouping *g,
                          eider__buf *err)
{
    eider__buf rest = { 0 };
    size_t nd = p->n_dims;
    int rc = EIDER_OK;
    grouping_init(g, p, n);
    for (size_t i = 0; i < n; i++) {
        parts k;
        if (split_key(p, keys[i], &k)) {
            eider__buf_printf(err, "partition '%s' is not one of its keys: join one key per "
                              "dimension with '|' (", keys[i]);
            put_key_shape(p, err);
            eider__buf_putc(err, ')');
            rc = EIDER_ENOTFOUND;
            goto out;
        }
        eider__buf_reset(&rest);
        for (size_t d = 0; d < nd; d++) {
            g->part[i * nd + d] = eider__arena_strndup(&g->arena, k.at[d], k.len[d]);
            if (d != g->free_dim) {
                eider__buf_add(&rest, k.at[d], k.len[d]);
                eider__buf_putc(&rest, '|');
            }
        }
        group_add(g, eider__arena_strdup(&g->arena, eider__buf_str(&rest)), i);
    }
out:
    eider__buf_release(&rest);
    return rc;
}

/* (dimension 1's condition AND dimension 2's ...) for group gi. */
static int put_group(const eider_partitions *p, const char *const *exprs, grouping *g,
                     size_t gi, eider__bounds bounds, eider__buf *sql, eider__buf *err)
{
    size_t nd = p->n_dims, first = g->first[gi], m = 0;
    for (size_t i = first; i != SIZE_MAX; i = g->next[i])
        g->scratch[m++] = g->part[i * nd + g->free_dim];
    eider__buf_putc(sql, '(');
    for (size_t d = 0; d < nd; d++) {
        int is_free = d == g->free_dim;
        if (d)
            eider__buf_puts(sql, " AND ");
        int rc = leaf_where(p->dims[d], exprs[d], is_free ? g->scratch : &g->part[first * nd + d],
                            is_free ? m : 1, bounds, sql, err);
        if (rc)
            return rc;
    }
    eider__buf_putc(sql, ')');
    return EIDER_OK;
}

static int multi_where(const eider_partitions *p, const char *partition_expr, char *const *keys,
                       size_t n, eider__bounds bounds, eider__buf *sql, eider__buf *err)
{
    json_t *root = NULL;
    const char *exprs[MAX_DIMS] = { 0 };
    grouping g = { 0 };
    int rc = multi_exprs(p, partition_expr, &root, exprs, err);
    if (rc || n == 0)
        goto out;
    if ((rc = grouping_build(p, keys, n, &g, err)))
        goto out;
    if (g.n_groups > 1)
        eider__buf_putc(sql, '(');
    for (size_t gi = 0; gi < g.n_groups && !rc; gi++) {
        if (gi)
            eider__buf_puts(sql, " OR ");
        rc = put_group(p, exprs, &g, gi, bounds, sql, err);
    }
    if (g.n_groups > 1)
        eider__buf_putc(sql, ')');
out:
    grouping_release(&g);
    json_decref(root);
    return rc;
}

int eider__partitions_where_at(const eider_partitions *p, const char *partition_expr,
                               char *const *keys, size_t n, eider__bounds bounds, eider__buf *sql,
                               eider__buf *err)
{
    eider__buf out = { 0 };
    int rc = EIDER_OK;
    if (!p || (n && !keys))
        return EIDER_EINVAL;
    if (p->kind == KIND_MULTI)
        rc = multi_where(p, partition_expr, keys, n, bounds, &out, err);
    else if (!partition_expr || !*partition_expr)
        rc = missing_expr(p, err);
    else if (n)
        rc = leaf_where(p, partition_expr, keys, n, bounds, &out, err);
    if (!rc)
        eider__buf_puts(sql, n ? eider__buf_str(&out) : "FALSE");
    eider__buf_release(&out);
    return rc;
}

int eider__partitions_where(const eider_partitions *p, const char *partition_expr,
                            char *const *keys, size_t n, eider__buf *sql, eider__buf *err)
{
    return eider__partitions_where_at(p, partition_expr, keys, n, 0, sql, err);
}

int eider__partitions_time_expr(const eider_partitions *p, const char *partition_expr,
                                eider__buf *out)
{
    json_t *root = NULL;
    const char *exprs[MAX_DIMS] = { 0 };
    eider__buf ignored = { 0 };
    int found = 0;
    if (p && p->kind == KIND_TIME && partition_expr && *partition_expr) {
        eider__buf_puts(out, partition_expr);
        found = 1;
    }
    if (p && p->kind == KIND_MULTI && multi_exprs(p, partition_expr, &root, exprs, &ignored) == 0)
        for (size_t d = 0; d < p->n_dims && !found; d++)
            if (p->dims[d]->kind == KIND_TIME) {
                eider__buf_puts(out, exprs[d]);
                found = 1;
            }
    json_decref(root);
    eider__buf_release(&ignored);
    return found;
}

/* ---- file names ---- */

void eider__partition_file_name(const char *key, eider__buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)key; *c; c++) {
        int keep = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                   (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
                   (*c == '.' && c != (const unsigned char *)key);
        if (keep) {
            eider__buf_putc(out, (char)*c);
            continue;
        }
        eider__buf_putc(out, '%');
        eider__buf_putc(out, hex[*c >> 4]);
        eider__buf_putc(out, hex[*c & 15]);
    }
}

/* ---- mappings: which partitions of an upstream a partition reads ---- */

/* Whether leaves a and b have the same keys: one definition, the same time unit and
 * zone (starts may differ), or the same static keys in the same order. */
static int same_leaf(const eider_partitions *a, const eider_partitions *b)
{
    if (a == b)
        return 1;
    if (a->kind != b->kind || a->kind == KIND_MULTI)
        return 0;
    if (a->kind == KIND_TIME)
        return a->unit == b->unit && strcmp(a->timezone, b->timezone) == 0;
    if (a->dynamic || b->dynamic)
        return a->dynamic && b->dynamic && strcmp(a->dynamic, b->dynamic) == 0;
    for (size_t i = 0; a->n_keys == b->n_keys && i < a->n_keys; i++)
        if (strcmp(a->keys[i], b->keys[i]) != 0)
            return 0;
    return a->n_keys == b->n_keys;
}

/* "daily", "static", "day × colour". */
static void describe(const eider_partitions *p, eider__buf *out)
{
    if (p->kind == KIND_STATIC)
        eider__buf_puts(out, "static");
    else if (p->kind == KIND_TIME)
        eider__buf_puts(out, unit_names[p->unit]);
    for (size_t d = 0; p->kind == KIND_MULTI && d < p->n_dims; d++)
        eider__buf_printf(out, "%s%s", d ? " x " : "", p->names[d]);
}

/* The dimension of multi m like leaf (its index), or -1 when none or several are. */
static long dim_like(const eider_partitions *m, const eider_partitions *leaf)
{
    long found = -1;
    for (size_t d = 0; d < m->n_dims; d++)
        if (same_leaf(m->dims[d], leaf)) {
            if (found >= 0)
                return -1;
            found = (long)d;
        }
    return found;
}

static long dim_named(const eider_partitions *p, const char *name)
{
    for (size_t d = 0; p->kind == KIND_MULTI && name && d < p->n_dims; d++)
        if (strcmp(p->names[d], name) == 0)
            return (long)d;
    return -1;
}

static int all_static_keys_in(const eider_partitions *down, const eider_partitions *up)
{
    for (size_t i = 0; i < down->n_keys; i++)
        if (static_find(up, down->keys[i], strlen(down->keys[i])) < 0)
            return 0;
    return 1;
}

/* The mapping Eider infers from down to up, or EIDER_MAP_INFER when none is clear. */
static eider_partition_mapping infer(const eider_partitions *down, const eider_partitions *up)
{
    eider_partition_mapping m = { .kind = EIDER_MAP_INFER };
    const eider_partitions *multi = down->kind == KIND_MULTI ? down : up;
    const eider_partitions *leaf = down->kind == KIND_MULTI ? up : down;
    int identical = down == up || (down->kind != KIND_MULTI && same_leaf(down, up));
    for (size_t d = 0; !identical && down->kind == KIND_MULTI && up->kind == KIND_MULTI &&
                       down->n_dims == up->n_dims; d++) {
        if (strcmp(down->names[d], up->names[d]) != 0 || !same_leaf(down->dims[d], up->dims[d]))
            break;
        identical = d + 1 == down->n_dims;
    }
    if (identical || (down->kind == KIND_STATIC && up->kind == KIND_STATIC &&
                      all_static_keys_in(down, up)))
        m.kind = EIDER_MAP_IDENTITY;
    else if (down->kind == KIND_TIME && up->kind == KIND_TIME)
        m.kind = EIDER_MAP_TIME_WINDOW;
    else if ((down->kind == KIND_MULTI) != (up->kind == KIND_MULTI) && dim_like(multi, leaf) >= 0) {
        m.kind = EIDER_MAP_DIMENSION;
        m.dimension = multi->names[dim_like(multi, leaf)];
    }
    return m;
}

/* What to declare when nothing is inferred. */
static void suggest_mapping(const eider_partitions *down, const eider_partitions *up, eider__buf *err)
{
    const eider_partitions *multi = down->kind == KIND_MULTI ? down : up;
    eider__buf_puts(err, "declare which partitions it reads on the input, e.g. "
                    ".partition_mapping = { .kind = ");
    if (multi->kind == KIND_MULTI && (down->kind != KIND_MULTI || up->kind != KIND_MULTI))
        eider__buf_printf(err, "EIDER_MAP_DIMENSION, .dimension = \"%s\" }", multi->names[0]);
    else if (down->kind == KIND_STATIC && up->kind == KIND_STATIC)
        eider__buf_puts(err, "EIDER_MAP_STATIC, .pairs = EIDER_KEYS(\"its key\", \"upstream key\", "
                        "...) }");
    else
        eider__buf_puts(err, "EIDER_MAP_ALL }");
    eider__buf_puts(err, " (EIDER_MAP_ALL reads every partition)");
}

static int check_declared(const eider_partitions *down, const eider_partitions *up,
                          const eider_partition_mapping *m, eider__buf *err)
{
    size_t n = 0;
    switch (m->kind) {
    case EIDER_MAP_TIME_WINDOW:
        if (down->kind != KIND_TIME || up->kind != KIND_TIME) {
            eider__buf_puts(err, "EIDER_MAP_TIME_WINDOW maps time partitions to time partitions, "
                            "and these are not both: use EIDER_MAP_DIMENSION for a time dimension");
            return EIDER_EINVAL;
        }
        if (m->start_offset > m->end_offset) {
            eider__buf_printf(err, "EIDER_MAP_TIME_WINDOW's start_offset (%d) is after its "
                              "end_offset (%d): swap them", m->start_offset, m->end_offset);
            return EIDER_EINVAL;
        }
        return EIDER_OK;
    case EIDER_MAP_DIMENSION:
        if ((down->kind == KIND_MULTI && dim_named(down, m->dimension) < 0) ||
            (up->kind == KIND_MULTI && dim_named(up, m->dimension) < 0) ||
            (down->kind != KIND_MULTI && up->kind != KIND_MULTI)) {
            eider__buf_printf(err, "EIDER_MAP_DIMENSION names dimension '%s', which is not a "
                              "dimension of each multi-partitioned side: name one that is",
                              m->dimension ? m->dimension : "(null)");
            return EIDER_EINVAL;
        }
        return EIDER_OK;
    case EIDER_MAP_STATIC:
        while (m->pairs && m->pairs[n])
            n++;
        if (n == 0 || n % 2) {
            eider__buf_puts(err, "EIDER_MAP_STATIC needs .pairs of keys, its key then the "
                            "upstream's: EIDER_KEYS(\"a\", \"x\", \"b\", \"y\")");
            return EIDER_EINVAL;
        }
        for (size_t i = 0; i < n; i++) {
            const eider_partitions *side = i % 2 ? up : down;
            if (side->kind == KIND_STATIC && static_find(side, m->pairs[i], strlen(m->pairs[i])) < 0) {
                eider__buf_printf(err, "EIDER_MAP_STATIC pairs name '%s', which is not a key of %s",
                                  m->pairs[i], i % 2 ? "the upstream" : "the asset");
                return EIDER_ENOTFOUND;
            }
        }
        return EIDER_OK;
    case EIDER_MAP_IDENTITY:
    case EIDER_MAP_ALL:
        return EIDER_OK;
    default:
        eider__buf_printf(err, "partition_mapping kind %d is not one of eider_mapping_kind",
                          (int)m->kind);
        return EIDER_EINVAL;
    }
}

int eider__mapping_check(const eider_partitions *down, const eider_partitions *up,
                         const eider_partition_mapping *declared, eider_partition_mapping *out,
                         eider__buf *err)
{
    if (declared && declared->kind != EIDER_MAP_INFER) {
        *out = *declared;
        return check_declared(down, up, declared, err);
    }
    *out = infer(down, up);
    if (out->kind != EIDER_MAP_INFER)
        return EIDER_OK;
    eider__buf_puts(err, "their partitions differ (");
    describe(down, err);
    eider__buf_puts(err, "; ");
    describe(up, err);
    eider__buf_puts(err, ") and no mapping is clear: ");
    suggest_mapping(down, up, err);
    return EIDER_EINVAL;
}

/* A growable list of keys. */
typedef struct key_list {
    char **v;
    size_t n, cap;
} key_list;

static char *dup_n(const char *s, size_t n)
{
    char *d = eider__xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void key_list_add(key_list *l, const char *key, size_t len)
{
    EIDER__GROW(l->v, l->cap, l->n + 1);
    l->v[l->n++] = dup_n(key, len);
}

static int compare_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort l and drop repeated keys. */
static void key_list_unique(key_list *l)
{
    size_t m = 0;
    if (!l->n)
        return;
    qsort(l->v, l->n, sizeof(*l->v), compare_str);
    for (size_t i = 0; i < l->n; i++) {
        if (m && strcmp(l->v[i], l->v[m - 1]) == 0)
            free(l->v[i]);
        else
            l->v[m++] = l->v[i];
    }
    l->n = m;
}

/* The upstream windows that overlap each downstream window, shifted by the offsets. */
static int map_windows(const eider_partitions *down, const eider_partitions *up,
                       const eider_partition_mapping *m, char *const *keys, size_t n,
                       key_list *out, eider__buf *err)
{
    int64_t count = 0;
    char key[WALL_LEN];
    int rc = leaf_count(up, &count, err);
    for (size_t i = 0; i < n && !rc; i++) {
        int64_t w = 0;
        if (time_key_window(down->unit, keys[i], strlen(keys[i]), &w)) {
            eider__buf_printf(err, "partition '%s' is not a %s key", keys[i], unit_names[down->unit]);
            return EIDER_ENOTFOUND;
        }
        int64_t from = window_start(down->unit, w + m->start_offset);
        int64_t to = window_start(down->unit, w + m->end_offset + 1);
        int64_t lo = window_of(up->unit, from), hi = to > from ? window_of(up->unit, to - 1) : lo - 1;
        if (lo < up->first)
            lo = up->first;
        if (hi > up->first + count - 1)
            hi = up->first + count - 1;
        for (int64_t u = lo; u <= hi && out->n < MAX_KEYS; u++) {
            format_key(up->unit, u, key);
            key_list_add(out, key, strlen(key));
        }
    }
    return rc;
}

/* The part of key (n bytes in *at) in dimension dim of p, or the whole key of a leaf. */
static int part_of(const eider_partitions *p, long dim, const char *key, const char **at, size_t *n)
{
    parts k;
    if (p->kind != KIND_MULTI) {
        *at = key;
        *n = strlen(key);
        return 0;
    }
    if (split_key(p, key, &k))
        return -1;
    *at = k.at[dim];
    *n = k.len[dim];
    return 0;
}

/* The upstream keys whose part in the dimension equals a downstream key's part. */
static int map_dimension(const eider_partitions *down, const eider_partitions *up,
                         const eider_partition_mapping *m, char *const *keys, size_t n,
                         key_list *out, eider__buf *err)
{
    key_list want = { 0 };
    char **all = NULL;
    size_t n_all = 0;
    int rc = EIDER_OK;
    for (size_t i = 0; i < n; i++) {
        const char *at = NULL;
        size_t len = 0;
        if (part_of(down, dim_named(down, m->dimension), keys[i], &at, &len)) {
            eider__buf_printf(err, "partition '%s' has no part for dimension '%s'", keys[i],
                              m->dimension);
            rc = EIDER_ENOTFOUND;
            goto out;
        }
        key_list_add(up->kind == KIND_MULTI ? &want : out, at, len);
    }
    if (up->kind != KIND_MULTI || (rc = eider__partitions_keys(up, &all, &n_all, err)))
        goto out;
    key_list_unique(&want);
    for (size_t i = 0; i < n_all; i++) {
        const char *at = NULL;
        size_t len = 0;
        part_of(up, dim_named(up, m->dimension), all[i], &at, &len);
        char *part = dup_n(at, len);
        if (want.n && bsearch(&part, want.v, want.n, sizeof(*want.v), compare_str))
            key_list_add(out, all[i], strlen(all[i]));
        free(part);
    }
out:
    eider__strv_free(all, n_all);
    eider__strv_free(want.v, want.n);
    return rc;
}

int eider__mapping_keys(const eider_partitions *down, const eider_partitions *up,
                        const eider_partition_mapping *m, char *const *keys, size_t n,
                        char ***up_keys, size_t *n_up, int *all, eider__buf *err)
{
    key_list out = { 0 };
    int rc = EIDER_OK;
    *up_keys = NULL;
    *n_up = 0;
    *all = m->kind == EIDER_MAP_ALL;
    if (*all)
        return EIDER_OK;
    if (m->kind == EIDER_MAP_TIME_WINDOW)
        rc = map_windows(down, up, m, keys, n, &out, err);
    else if (m->kind == EIDER_MAP_DIMENSION)
        rc = map_dimension(down, up, m, keys, n, &out, err);
    for (size_t i = 0; m->kind == EIDER_MAP_STATIC && i < n; i++)
        for (size_t j = 0; m->pairs[j] && m->pairs[j + 1]; j += 2)
            if (strcmp(m->pairs[j], keys[i]) == 0)
                key_list_add(&out, m->pairs[j + 1], strlen(m->pairs[j + 1]));
    for (size_t i = 0; m->kind == EIDER_MAP_IDENTITY && i < n; i++)
        key_list_add(&out, keys[i], strlen(keys[i]));
    int check = m->kind == EIDER_MAP_IDENTITY || m->kind == EIDER_MAP_STATIC ||
                (m->kind == EIDER_MAP_DIMENSION && up->kind != KIND_MULTI);
    for (size_t i = 0; check && !rc && i < out.n; i++)
        if (!eider__partitions_has(up, out.v[i])) {
            eider__buf_printf(err, "partition '%s' is not one of its partitions", out.v[i]);
            rc = EIDER_ENOTFOUND;
        }
    if (rc) {
        eider__strv_free(out.v, out.n);
        return rc;
    }
    key_list_unique(&out);
    *up_keys = out.v;
    *n_up = out.n;
    return EIDER_OK;
}
