/*
 * cmd_asset.c — one asset as the instance store knows it: `eider asset show KEY` (its
 * state per partition, the I/O manager's columns and preview, the row-count history)
 * and `eider asset wipe KEY` (forget its records; its tables stay).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"

static const char help[] =
    "usage: eider asset show KEY [-f FILE.c | -l FILE.so] [--limit N] [--json]\n"
    "       eider asset wipe KEY [-f FILE.c | -l FILE.so] [--partition P] [--json]\n"
    "\n"
    "show  the asset's state in the instance store, per partition: its latest\n"
    "      materialization (time, run, code version), whether its latest run failed,\n"
    "      its metadata, the columns and first rows the I/O manager recorded, and the\n"
    "      row-count history, newest first; its checks' latest outcomes (per check and\n"
    "      partition) and their history. The store is only read. Without a record\n"
    "      of KEY, the definitions (if any) tell a key that is not defined (exit 4)\n"
    "      from an external asset and one never materialized (exit 2); definitions\n"
    "      that fail to load are named with their error (exit 3).\n"
    "wipe  forget the asset's state and materializations (of one partition with\n"
    "      --partition; for an asset not partitioned, a key not among its partitions\n"
    "      (with the nearest one), or a partition with no record: exit 4), so that it\n"
    "      counts as never materialized. Its tables are\n"
    "      untouched; the runs stay.\n"
    "\n"
    "The store is $EIDER_STORAGE, else the folder $EIDER_HOME, else .eider beside the\n"
    "definitions (-f/-l, which are only read for their folder), else in this folder.\n"
    "\n"
    CLI_DEFS_HELP
    "  -n, --limit N         show: at most N entries of history (default 10)\n"
    "  -p, --partition P     wipe: only partition P (default: every partition)\n"
    "      --json            print the outcome as one JSON object\n";

#define HISTORY_DEFAULT_LIMIT 10
#define PREVIEW_ROWS 5
#define CELL_WIDTH 30

/* ---- small helpers ---- */

/* Local time "2026-11-25 14:03:07", or "-" for 0. */
static const char *local_time(int64_t us, char *buf, size_t size)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    if (!us || !localtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(buf, size, "-");
    return buf;
}

/* A JSON value as a table cell: text as it is, NULL as "NULL", the rest as JSON;
 * cut to CELL_WIDTH characters. free() it. */
static char *cell_text(const json_t *v)
{
    char *s = json_is_string(v) ? strdup(json_string_value(v))
            : !v || json_is_null(v) ? strdup("NULL")
            : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
    for (char *p = s; p && *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    char *safe = s ? strdup(cli_safe(s)) : NULL;
    free(s);
    if (safe && strlen(safe) > CELL_WIDTH)
        memcpy(safe + CELL_WIDTH - 3, "...", 4);
    return safe;
}

/* Print a table: cells holds (n_rows + 1) * n_cols strings, the header first. */
static void print_table(const char *indent, char **cells, size_t n_cols, size_t n_rows)
{
    int *w = calloc(n_cols ? n_cols : 1, sizeof(*w));
    if (!w)
        return;
    for (size_t r = 0; r <= n_rows; r++)
        for (size_t c = 0; c < n_cols; c++) {
            int len = cells[r * n_cols + c] ? (int)strlen(cells[r * n_cols + c]) : 0;
            w[c] = len > w[c] ? len : w[c];
        }
    for (size_t r = 0; r <= n_rows; r++) {
        fputs(indent, stdout);
        for (size_t c = 0; c < n_cols; c++) {
            const char *s = cells[r * n_cols + c] ? cells[r * n_cols + c] : "";
            if (c + 1 < n_cols)
                printf("%-*s  ", w[c], s);
            else
                printf("%s\n", s);
        }
    }
    free(w);
}

static void free_cells(char **cells, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(cells[i]);
    free(cells);
}

static int store_failed(cli_env *env, int rc)
{
    cli_error("%s", eider_store_errmsg(env->store));
    return cli_exit_for(rc);
}

/* (cli.h) The selection's own did-you-mean, from selecting key:"KEY". */
const char *cli_nearest_key(eider_defs *defs, const char *key, char *buf, size_t size)
{
    char *expr = malloc(strlen(key) * 2 + 8), *e = expr;
    unsigned char *sel = malloc(eider_defs_count(defs) + 1);
    const char *hint = NULL;
    if (expr && sel) {
        memcpy(e, "key:\"", 5);
        e += 5;
        for (const char *k = key; *k; k++) {
            if (*k == '"' || *k == '\\')
                *e++ = '\\';
            *e++ = *k;
        }
        memcpy(e, "\"", 2);
        if (eider_defs_select(defs, expr, sel) != EIDER_OK &&
            (hint = strstr(eider_defs_errmsg(defs), "(did you mean '")))
            snprintf(buf, size, "%.*s", (int)strcspn(hint + 15, "'"), hint + 15);
    }
    free(expr);
    free(sel);
    return hint ? buf : NULL;
}

/* An asset key the definitions lack, with the nearest one. */
static int unknown_asset(eider_defs *defs, const char *key)
{
    char near[512];
    if (cli_nearest_key(defs, key, near, sizeof(near)))
        cli_error("asset '%s' is not defined (did you mean '%s'?): see 'eider list' for the keys",
                  key, near);
    else
        cli_error("asset '%s' is not defined: see 'eider list' for the keys", key);
    return EXIT_SELECT;
}

/* The command that materializes asset i of defs: with a partition of it (its first key
 * when it has one), or all of them, when it is partitioned. */
static void materialize_hint(eider_defs *defs, size_t i, const eider_asset_info *a, char *out,
                             size_t size)
{
    char **keys = NULL;
    size_t n = 0;
    int len = snprintf(out, size, "eider materialize --select '%s'", a->key);
    if (!a->partitioned || len < 0 || (size_t)len >= size)
        return;
    if (eider_defs_partition_keys(defs, i, NULL, &keys, &n) == EIDER_OK && n > 0)
        snprintf(out + len, size - (size_t)len, " --partition %s, or --all-partitions",
                 cli_shell_word(keys[0]));
    else if (a->dynamic_partitions)
        snprintf(out + len, size - (size_t)len, " --partition KEY, once added by eider partitions "
                 "add %s KEY", cli_shell_word(a->dynamic_partitions));
    else
        snprintf(out + len, size - (size_t)len, " --partition KEY, or --all-partitions");
    eider_keys_free(keys, n);
}

/* The store has no record of key: say why. With the definitions at hand, an unknown
 * key (and the nearest one), an external asset, and one never materialized differ. */
static int never_materialized(cli_env *env, const char *key)
{
    eider_defs *defs = cli_quiet_defs(env);
    long i = defs ? eider_defs_find(defs, key) : -1;
    eider_asset_info a;
    if (defs && i < 0)
        return unknown_asset(defs, key);
    if (defs && env->store)
        eider_defs_use_store(defs, env->store);     /* the keys of its dynamic partitions */
    if (defs && eider_defs_info(defs, (size_t)i, &a) == EIDER_OK && a.external)
        cli_error("asset '%s' is external: something outside Eider produces it, so Eider never "
                  "materializes it, and the instance store %s holds no observation of it", key,
                  eider_store_location(env->store));
    else if (defs) {
        char hint[512];
        materialize_hint(defs, (size_t)i, &a, hint, sizeof(hint));
        cli_error("asset '%s' was never materialized: the instance store %s has no record of it "
                  "(%s)", key, eider_store_location(env->store), hint);
    }
    else if (env->defs_error) {
        cli_error("the instance store %s has no record of asset '%s', and the definitions, "
                  "which would tell whether it is an asset, failed to load: %s",
                  eider_store_location(env->store), key, env->defs_error);
        return EXIT_DEFS;
    } else
        cli_error("asset '%s' was never materialized, or is not an asset: the instance store %s has "
                  "no record of it, and there are no definitions here to tell (pass -f FILE.c)", key,
                  eider_store_location(env->store));
    return EXIT_USAGE;
}

/* ---- options ---- */

typedef struct asset_args {
    const char *sub, *key, *partition;
    long limit;
    int json;
} asset_args;

static int parse_options(cli_env *env, asset_args *a)
{
    static const struct option options[] = {
        CLI_DEFS_OPTIONS, { "limit", required_argument, NULL, 'n' },
        { "partition", required_argument, NULL, 'p' }, { "json", no_argument, NULL, 'J' }, { 0 },
    };
    int c, code = EXIT_OK;
    while (!code && (c = cli_getopt(env, "n:p:", options)) != -1) {
        if (c == 'n')
            code = cli_parse_int("--limit", optarg, 1, 1000000, &a->limit);
        else if (c == 'p')
            a->partition = optarg;
        else if (c == 'J')
            a->json = 1;
        else
            return EXIT_USAGE;
    }
    return code;
}

static int parse_args(cli_env *env, asset_args *a)
{
    int code = parse_options(env, a);
    if (code)
        return code;
    a->sub = optind < env->argc ? env->argv[optind] : NULL;
    if (!a->sub || (strcmp(a->sub, "show") != 0 && strcmp(a->sub, "wipe") != 0)) {
        if (a->sub)
            cli_error("unknown subcommand 'eider asset %s': use eider asset show KEY or eider asset "
                      "wipe KEY", a->sub);
        else
            cli_error("eider asset needs a subcommand: eider asset show KEY or eider asset wipe KEY");
        return EXIT_USAGE;
    }
    if (optind + 1 >= env->argc || !env->argv[optind + 1][0]) {
        cli_error("which asset? eider asset %s KEY (see 'eider list' for the keys)", a->sub);
        return EXIT_USAGE;
    }
    a->key = env->argv[optind + 1];
    if (optind + 2 < env->argc) {
        cli_error("unexpected argument '%s': eider asset %s takes one KEY", env->argv[optind + 2], a->sub);
        return EXIT_USAGE;
    }
    if (a->partition && !strcmp(a->sub, "show")) {
        cli_error("--partition is for eider asset wipe: asset show shows every partition");
        return EXIT_USAGE;
    }
    if (a->limit && !strcmp(a->sub, "wipe")) {
        cli_error("--limit is for eider asset show: asset wipe takes --partition only");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* ---- eider asset show ---- */

static void print_columns(const json_t *columns)
{
    size_t n = json_array_size(columns);
    char **cells = calloc((n + 1) * 2, sizeof(*cells));
    if (!cells)
        return;
    cells[0] = strdup("NAME");
    cells[1] = strdup("TYPE");
    for (size_t i = 0; i < n; i++) {
        json_t *col = json_array_get(columns, i);
        cells[(i + 1) * 2] = cell_text(json_object_get(col, "name"));
        cells[(i + 1) * 2 + 1] = cell_text(json_object_get(col, "type"));
    }
    printf("  columns:\n");
    print_table("    ", cells, 2, n);
    free_cells(cells, (n + 1) * 2);
}

/* The first rows of the preview, under the columns of its first row. */
static void print_preview(const json_t *preview)
{
    json_t *first = json_array_get(preview, 0), *v;
    size_t n_cols = json_object_size(first), shown = json_array_size(preview), c = 0;
    const char *name;
    if (!json_is_object(first) || n_cols == 0) {
        printf("  preview: no rows\n");
        return;
    }
    shown = shown > PREVIEW_ROWS ? PREVIEW_ROWS : shown;
    char **cells = calloc((shown + 1) * n_cols, sizeof(*cells));
    if (!cells)
        return;
    json_object_foreach(first, name, v) {
        json_t *header = json_string(name);
        cells[c] = cell_text(header);        /* escaped and cut as the values are */
        json_decref(header);
        for (size_t r = 0; r < shown; r++)
            cells[(r + 1) * n_cols + c] = cell_text(json_object_get(json_array_get(preview, r), name));
        c++;
    }
    printf("  preview (first %zu of the %zu rows recorded; --json has them all):\n", shown,
           json_array_size(preview));
    print_table("    ", cells, n_cols, shown);
    free_cells(cells, (shown + 1) * n_cols);
}

static int is_special(const char *key)
{
    return !strcmp(key, "columns") || !strcmp(key, "preview") || !strcmp(key, "row_count");
}

/* The metadata other than columns, preview and row_count, one "key: value" line each. */
static void print_other_meta(const json_t *meta)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)meta, key, v) {
        char *text = NULL;
        if (is_special(key))
            continue;
        text = json_is_string(v) ? strdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
        const char *safe = text ? cli_safe(text) : NULL;
        if (safe)
            printf("  %-12s %.*s%s\n", cli_safe(key), (int)strcspn(safe, "\n"), safe,
                   strchr(safe, '\n') ? " ..." : "");
        free(text);
    }
}

static void print_state(const cli_asset_state *s)
{
    char when[32];
    json_t *rows = json_object_get(s->metadata, "row_count");
    json_t *columns = json_object_get(s->metadata, "columns");
    json_t *preview = json_object_get(s->metadata, "preview");
    if (s->partition[0])
        printf("partition '%s'\n", cli_safe(s->partition));
    if (s->materialized_us)
        printf("  materialized %s by run %s\n", local_time(s->materialized_us, when, sizeof(when)),
               s->run_id ? s->run_id : "-");
    else
        printf("  materialized never\n");
    printf("  code_version %s\n", s->code_version ? cli_safe(s->code_version) : "-");
    if (s->last_run_id)
        printf("  latest run   %s %s (%s)\n", s->last_run_id, s->last_failed ? "FAILED" : "succeeded",
               local_time(s->last_us, when, sizeof(when)));
    if (json_is_integer(rows))
        printf("  row_count    %" JSON_INTEGER_FORMAT "\n", json_integer_value(rows));
    print_other_meta(s->metadata);
    if (json_is_array(columns))
        print_columns(columns);
    if (json_is_array(preview))
        print_preview(preview);
}

/* Several partitions: one line each; the details of the latest materialized one. */
static void print_partitions(const cli_state_list *l)
{
    char **cells = calloc((l->n + 1) * 5, sizeof(*cells));
    size_t latest = 0;
    if (!cells)
        return;
    const char *head[] = { "PARTITION", "MATERIALIZED", "RUN ID", "ROWS", "LATEST RUN" };
    for (size_t c = 0; c < 5; c++)
        cells[c] = strdup(head[c]);
    for (size_t i = 0; i < l->n; i++) {
        const cli_asset_state *s = &l->v[i];
        char when[32], **row = cells + (i + 1) * 5;
        json_t *rows = json_object_get(s->metadata, "row_count");
        row[0] = strdup(s->partition);
        row[1] = strdup(local_time(s->materialized_us, when, sizeof(when)));
        row[2] = strdup(s->run_id ? s->run_id : "-");
        row[3] = json_is_integer(rows) ? cell_text(rows) : strdup("-");
        row[4] = strdup(!s->last_run_id ? "-" : s->last_failed ? "failed" : "ok");
        if (s->materialized_us > l->v[latest].materialized_us)
            latest = i;
    }
    printf("partitions (%zu):\n", l->n);
    print_table("  ", cells, 5, l->n);
    free_cells(cells, (l->n + 1) * 5);
    printf("\nlatest materialized ");
    print_state(&l->v[latest]);
}

static void print_history(const cli_state_list *h)
{
    char **cells = calloc((h->n + 1) * 4, sizeof(*cells));
    if (!cells)
        return;
    const char *head[] = { "TIME", "RUN ID", "PARTITION", "ROWS" };
    for (size_t c = 0; c < 4; c++)
        cells[c] = strdup(head[c]);
    for (size_t i = 0; i < h->n; i++) {
        char when[32], **row = cells + (i + 1) * 4;
        json_t *rows = json_object_get(h->v[i].metadata, "row_count");
        row[0] = strdup(local_time(h->v[i].materialized_us, when, sizeof(when)));
        row[1] = strdup(h->v[i].run_id ? h->v[i].run_id : "-");
        row[2] = strdup(h->v[i].partition[0] ? h->v[i].partition : "-");
        row[3] = json_is_integer(rows) ? cell_text(rows) : strdup("-");
    }
    printf("\nrow-count history (newest first, %zu shown):\n", h->n);
    print_table("  ", cells, 4, h->n);
    free_cells(cells, (h->n + 1) * 4);
}

/* ---- checks ---- */

/* A table of checks: the latest of each (with severity), or the history (with the run). */
static void print_checks(const cli_check_list *l, int latest)
{
    enum { COLS = 6 };
    char **cells = calloc((l->n + 1) * COLS, sizeof(*cells));
    if (!cells)
        return;
    const char *head[COLS] = { "CHECK", "PARTITION", "STATUS", latest ? "SEVERITY" : "RUN ID",
                               "TIME", "MESSAGE" };
    for (size_t c = 0; c < COLS; c++)
        cells[c] = strdup(head[c]);
    for (size_t i = 0; i < l->n; i++) {
        const cli_check_row *r = &l->v[i];
        char when[32], how[32], **row = cells + (i + 1) * COLS;
        snprintf(how, sizeof(how), "%s%s", eider_check_severity_name(r->severity),
                 r->blocking ? ", blocking" : "");
        row[0] = strdup(cli_safe(r->name));
        row[1] = strdup(r->partition[0] ? cli_safe(r->partition) : "-");
        row[2] = strdup(eider_check_status_name(r->status));
        row[3] = strdup(latest ? how : r->run_id ? r->run_id : "-");
        row[4] = strdup(local_time(r->time_us, when, sizeof(when)));
        row[5] = strdup(r->message ? cli_safe(r->message) : "");
    }
    if (latest)
        printf("\nchecks (latest outcome of each):\n");
    else
        printf("\ncheck history (newest first, %zu shown):\n", l->n);
    print_table("  ", cells, COLS, l->n);
    free_cells(cells, (l->n + 1) * COLS);
}

static json_t *state_json(const cli_asset_state *s, int history)
{
    json_t *o = json_object();
    json_object_set_new(o, "partition", cli_json_string(s->partition));
    json_object_set_new(o, "run_id", cli_json_string(s->run_id));
    json_object_set_new(o, "materialized_us", s->materialized_us ? json_integer(s->materialized_us)
                                                                 : json_null());
    json_object_set_new(o, "code_version", cli_json_string(s->code_version));
    if (!history) {
        json_object_set_new(o, "last_run_id", cli_json_string(s->last_run_id));
        json_object_set_new(o, "last_failed", json_boolean(s->last_failed));
        json_object_set_new(o, "last_us", s->last_us ? json_integer(s->last_us) : json_null());
    }
    json_object_set_new(o, "metadata", json_incref(s->metadata));
    return o;
}

/* An SQL model's columns and what each reads, from the definitions (when they load). */
static void print_lineage(const json_t *lineage)
{
    size_t i;
    json_t *c;
    if (!json_array_size(lineage))
        return;
    printf("\ncolumn lineage (from its SQL):\n");
    json_array_foreach(lineage, i, c) {
        json_t *src = json_object_get(c, "sources"), *v;
        size_t k;
        printf("  %-20s <-", cli_safe(json_string_value(json_object_get(c, "column"))));
        json_array_foreach(src, k, v)
            printf("%s %s", k ? "," : "", cli_safe(json_string_value(v)));
        printf("%s\n", json_array_size(src) ? "" : " (no column: a constant or count(*))");
    }
}

static void print_show_json(const char *key, const cli_state_list *st, const cli_state_list *h,
                            const cli_check_list *latest, const cli_check_list *checks,
                            json_t *lineage)
{
    json_t *parts = json_array(), *hist = json_array();
    for (size_t i = 0; i < st->n; i++)
        json_array_append_new(parts, state_json(&st->v[i], 0));
    for (size_t i = 0; i < h->n; i++)
        json_array_append_new(hist, state_json(&h->v[i], 1));
    json_t *doc = json_pack("{s:o, s:o, s:o, s:o, s:o, s:O}", "key", cli_json_string(key),
                            "partitions", parts, "history", hist, "checks", cli_checks_json(latest),
                            "check_history", cli_checks_json(checks), "column_lineage", lineage);
    json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    putchar('\n');
    json_decref(doc);
}

static int asset_show(cli_env *env, const asset_args *a)
{
    cli_state_list st = { 0 }, h = { 0 };
    cli_check_list latest = { 0 }, checks = { 0 };
    size_t limit = (size_t)(a->limit ? a->limit : HISTORY_DEFAULT_LIMIT);
    json_t *lineage = NULL;
    int code = EXIT_OK;
    if (env->store_missing)
        return never_materialized(env, a->key);
    int rc = eider_store_assets(env->store, a->key, cli_collect_state, &st);
    if (!rc)
        rc = eider_store_history(env->store, a->key, limit, cli_collect_state, &h);
    if (!rc)
        rc = eider_store_checks(env->store, a->key, NULL, 1, 0, cli_collect_check, &latest);
    if (!rc)
        rc = eider_store_checks(env->store, a->key, NULL, 0, limit, cli_collect_check, &checks);
    if (rc) {
        code = store_failed(env, rc);
    } else if (st.n == 0 && h.n == 0 && latest.n == 0) {
        code = never_materialized(env, a->key);
    } else if ((lineage = cli_lineage_json(cli_quiet_defs(env), a->key)) && a->json) {
        print_show_json(a->key, &st, &h, &latest, &checks, lineage);
    } else {
        printf("asset %s\n", a->key);
        if (st.n == 1)
            print_state(&st.v[0]);
        else if (st.n > 1)
            print_partitions(&st);
        if (h.n)
            print_history(&h);
        if (latest.n)
            print_checks(&latest, 1);
        if (checks.n)
            print_checks(&checks, 0);
        print_lineage(lineage);
    }
    cli_state_list_release(&st);
    cli_state_list_release(&h);
    cli_check_list_release(&latest);
    cli_check_list_release(&checks);
    json_decref(lineage);
    return code;
}

/* ---- eider asset wipe ---- */

typedef struct record_count {
    const char *partition;   /* NULL: any */
    size_t n;                /* records of that partition */
    size_t all;              /* records of any partition */
    int partitioned;         /* a record names a partition */
} record_count;

static int count_record(const eider_asset_record *rec, void *user_data)
{
    record_count *c = user_data;
    if (!c->partition || !strcmp(rec->partition ? rec->partition : "", c->partition))
        c->n++;
    c->all++;
    c->partitioned |= rec->partition && *rec->partition;
    return 0;
}

/* How many records the store holds about the asset (or that partition of it). */
static int has_records(cli_env *env, const asset_args *a, record_count *c)
{
    *c = (record_count){ .partition = a->partition };
    int rc = eider_store_assets(env->store, a->key, count_record, c);
    if (!rc && !c->n)
        rc = eider_store_history(env->store, a->key, 0, count_record, c);
    return rc;
}

/* Whether key is a partition of asset i of defs (dynamic keys as the store holds them);
 * prints why not, with the nearest key. */
static int is_partition_of(cli_env *env, eider_defs *defs, size_t i, const char *key)
{
    char **keys = NULL;
    size_t n = 0;
    eider_defs_use_store(defs, env->store);
    int rc = eider_defs_partition_keys(defs, i, key, &keys, &n);
    eider_keys_free(keys, n);
    if (rc == EIDER_ESELECT)
        cli_error("%s", eider_defs_errmsg(defs));
    return rc != EIDER_ESELECT;
}

/* wipe --partition P found no record of P: say whether the asset is unknown, not
 * partitioned (by its definition, else by its records), without partition P (by its
 * definition), never materialized, or without a record of P. */
static int no_record_of_partition(cli_env *env, const asset_args *a, const record_count *c)
{
    eider_defs *defs = cli_quiet_defs(env);
    long i = defs ? eider_defs_find(defs, a->key) : -1;
    eider_asset_info info;
    if (defs && i < 0)
        return unknown_asset(defs, a->key);
    int defined = defs && eider_defs_info(defs, (size_t)i, &info) == EIDER_OK;
    if (defined ? !info.partitioned && !info.external : c->all && !c->partitioned) {
        cli_error("asset '%s' is not partitioned, so it has no partition '%s': leave out "
                  "--partition to wipe its records (eider asset wipe %s)", a->key, a->partition,
                  a->key);
        return EXIT_SELECT;
    }
    if (defined && info.partitioned && !is_partition_of(env, defs, (size_t)i, a->partition))
        return EXIT_SELECT;
    if (!c->all)
        return never_materialized(env, a->key);
    cli_error("asset '%s' has no record of partition '%s': see 'eider asset show %s' for its "
              "partitions", a->key, a->partition, a->key);
    return EXIT_SELECT;
}

static int asset_wipe(cli_env *env, const asset_args *a)
{
    size_t wiped = 0;
    record_count found;
    int rc = has_records(env, a, &found), partitioned = found.partitioned;
    if (!rc && !found.n)
        return a->partition ? no_record_of_partition(env, a, &found)
                            : never_materialized(env, a->key);
    if (!rc)
        rc = eider_store_wipe(env->store, a->key, a->partition, &wiped);
    if (rc)
        return store_failed(env, rc);
    if (a->json) {
        json_t *doc = json_pack("{s:o, s:o, s:I}", "key", cli_json_string(a->key), "partition",
                                cli_json_string(a->partition), "wiped_partitions", (json_int_t)wiped);
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
        putchar('\n');
        json_decref(doc);
        return EXIT_OK;
    }
    if (partitioned)
        printf("wiped the records of %zu partition%s of asset '%s'", wiped, wiped == 1 ? "" : "s", a->key);
    else
        printf("wiped the records of asset '%s'", a->key);
    if (a->partition)
        printf(" (partition '%s')", a->partition);
    printf(": it counts as never materialized. Its tables are untouched; materialize it to "
           "record it again.\n");
    return EXIT_OK;
}

static int run(cli_env *env)
{
    asset_args a = { 0 };
    int code = parse_args(env, &a);
    if (!code)
        code = cli_open_store(env, !strcmp(a.sub, "show") ? CLI_STORE_READ : CLI_STORE_WRITE);
    if (code)
        return code;
    return !strcmp(a.sub, "show") ? asset_show(env, &a) : asset_wipe(env, &a);
}

const cli_command cli_cmd_asset = {
    "asset", run, "show an asset's recorded state and history, or wipe it", help,
};
