/*
 * cmd_runs.c — the recorded runs, read back from the instance store: `eider runs` (the
 * list), `eider run show ID` (one run, step by step) and `eider logs ID` (every event,
 * optionally following a live run).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"

static const char runs_help[] =
    "usage: eider runs [-f FILE.c | -l FILE.so] [--status S] [--limit N] [--json]\n"
    "\n"
    "List the runs recorded in the instance store, newest first: id, status, start\n"
    "(local time), duration, the assets' outcomes, the selection and the partition.\n"
    "The store is $EIDER_STORAGE, else the folder $EIDER_HOME, else .eider beside the\n"
    "definitions (-f/-l, which are only read for their folder), else in this folder.\n"
    "It is only read (so is it by run show and logs): never made where there is none,\n"
    "and read even where you may not write it (another user's store is read without\n"
    "making any file beside it, which would stop its owner's next run).\n"
    "\n"
    CLI_DEFS_HELP
    "      --status S        only runs with status S: queued, started, success, failure,\n"
    "                        canceled or crashed (its lease ran out: its process died,\n"
    "                        or was stopped or cut off from the store for longer than\n"
    "                        its lease); running, succeeded, failed and cancelled are\n"
    "                        taken too\n"
    "  -n, --limit N         at most N runs (default 20)\n"
    "      --json            one JSON array with every field of every run\n";

static const char run_help[] =
    "usage: eider run show ID [-f FILE.c | -l FILE.so] [--json]\n"
    "\n"
    "Show one recorded run: its status and times, then a line per asset with its outcome\n"
    "(ok, FAIL, skip, canceled), duration and attempts, its metadata such as row_count,\n"
    "and for a failure the message and the failing SQL. ID may be the start of a run id,\n"
    "as long as it names one run (see 'eider runs').\n"
    "\n"
    CLI_DEFS_HELP
    "      --json            the run and its steps as one JSON object\n";

static const char logs_help[] =
    "usage: eider logs ID [-f FILE.c | -l FILE.so] [--follow] [--json]\n"
    "\n"
    "Print every event of a recorded run in order, one line each: time, asset (or '-'),\n"
    "event type, and its message or level. ID may be the start of a run id.\n"
    "\n"
    CLI_DEFS_HELP
    "  -F, --follow          keep printing new events while the run is going on; stop\n"
    "                        when it has ended (at once for a finished run). A run marked\n"
    "                        crashed because its lease ran out may come back (it was\n"
    "                        stopped, or cut off from the store): it is followed 5 s\n"
    "                        more, then to its true end if it came back, else that\n"
    "                        lease's end is printed\n"
    "      --json            one JSON object per event and line (JSON Lines)\n";

#define RUNS_DEFAULT_LIMIT 20
#define FOLLOW_INTERVAL_NS 200000000L
#define FOLLOW_CHECK_POLLS 10     /* idle polls between checks for a dead process */
#define FOLLOW_LAPSED_S 5.0       /* a run marked crashed for its lease: followed this long more */
#define MATCHES_SHOWN 5

/* ---- formatting ---- */

/* Local time "2026-11-25 14:03:07", or "-" for 0. */
static const char *local_time(int64_t us, char *buf, size_t size)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    if (!us || !localtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(buf, size, "-");
    return buf;
}


/* "3 ok, 1 failed, 2 skipped" without the zero parts; "-" when all are zero. */
static const char *outcome_counts(int ok, int failed, int skipped, int canceled, char *buf, size_t size)
{
    const int n[] = { ok, failed, skipped, canceled };
    static const char *const label[] = { "ok", "failed", "skipped", "canceled" };
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < 4 && len < size; i++)
        if (n[i])
            len += (size_t)snprintf(buf + len, size - len, "%s%d %s", len ? ", " : "", n[i], label[i]);
    if (!buf[0])
        snprintf(buf, size, "-");
    return buf;
}

/* The metadata worth a glance on a step's line: numbers and booleans (row_count=150). */
static void print_scalar_meta(FILE *out, const json_t *meta)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)meta, key, v) {
        if (json_is_integer(v))
            fprintf(out, "  %s=%" JSON_INTEGER_FORMAT, cli_safe(key), json_integer_value(v));
        else if (json_is_real(v))
            fprintf(out, "  %s=%g", cli_safe(key), json_real_value(v));
        else if (json_is_boolean(v))
            fprintf(out, "  %s=%s", cli_safe(key), json_is_true(v) ? "true" : "false");
    }
}


/* ---- runs as copied out of the store ---- */

typedef struct run_info {
    char *run_id, *selection, *partition, *launched_by, *tags;
    eider_run_status status;
    int64_t start_us, end_us;
    int n_succeeded, n_failed, n_skipped, n_canceled;
} run_info;

typedef struct run_list {
    run_info *v;
    size_t n, cap;
    const char *prefix;     /* when set, only runs whose id starts with it */
} run_list;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void run_info_release(run_info *r)
{
    free(r->run_id);
    free(r->selection);
    free(r->partition);
    free(r->launched_by);
    free(r->tags);
}

static void run_list_release(run_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        run_info_release(&l->v[i]);
    free(l->v);
}

static int collect_run(const eider_run_record *rec, void *user_data)
{
    run_list *l = user_data;
    /* the store matches with LIKE, whose '_' and '%' are wildcards: check the prefix */
    if (l->prefix && strncasecmp(rec->run_id, l->prefix, strlen(l->prefix)) != 0)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        run_info *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return 1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (run_info){
        .run_id = strdup(rec->run_id), .selection = dup_or_null(rec->selection),
        .partition = dup_or_null(rec->partition), .launched_by = dup_or_null(rec->launched_by),
        .tags = dup_or_null(rec->tags), .status = rec->status, .start_us = rec->start_us,
        .end_us = rec->end_us, .n_succeeded = rec->n_succeeded, .n_failed = rec->n_failed,
        .n_skipped = rec->n_skipped, .n_canceled = rec->n_canceled,
    };
    return 0;
}

static int store_failed(cli_env *env, int rc)
{
    cli_error("%s", eider_store_errmsg(env->store));
    return cli_exit_for(rc);
}

static int live(eider_run_status s)
{
    return s == EIDER_RUN_STARTED || s == EIDER_RUN_QUEUED;
}

static const char *run_duration(const run_info *r, char *buf, size_t size)
{
    if (r->status == EIDER_RUN_STARTED)
        return "running";
    if (!r->end_us)
        return "-";
    return cli_human_duration((double)(r->end_us - r->start_us) / 1e6, buf, size);
}

static json_t *run_json(const run_info *r)
{
    json_t *tags = json_loads(r->tags ? r->tags : "{}", 0, NULL);
    json_t *o = json_object();
    json_object_set_new(o, "run_id", cli_json_string(r->run_id));
    json_object_set_new(o, "status", json_string(eider_run_status_name(r->status)));
    json_object_set_new(o, "selection", cli_json_string(r->selection));
    json_object_set_new(o, "partition", cli_json_string(r->partition));
    json_object_set_new(o, "launched_by", cli_json_string(r->launched_by));
    json_object_set_new(o, "tags", tags ? tags : json_object());
    json_object_set_new(o, "start_us", json_integer(r->start_us));
    json_object_set_new(o, "end_us", r->end_us ? json_integer(r->end_us) : json_null());
    json_object_set_new(o, "duration_s", r->end_us ? json_real((double)(r->end_us - r->start_us) / 1e6)
                                                   : json_null());
    json_object_set_new(o, "n_succeeded", json_integer(r->n_succeeded));
    json_object_set_new(o, "n_failed", json_integer(r->n_failed));
    json_object_set_new(o, "n_skipped", json_integer(r->n_skipped));
    json_object_set_new(o, "n_canceled", json_integer(r->n_canceled));
    return o;
}

static void print_json(json_t *doc)
{
    json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    putchar('\n');
    json_decref(doc);
}

/* The one run whose id is id, or starts with it; prints why not and returns the exit code. */
static int find_run(cli_env *env, const char *id, run_info *out)
{
    run_list l = { .prefix = id };
    size_t pick = 0;
    if (!*id) {
        cli_error("the run id is empty: give one (or its start) from 'eider runs'");
        return EXIT_USAGE;
    }
    if (env->store_missing) {
        cli_error("no run '%s': nothing is recorded yet (there is no instance store %s)", id,
                  eider_store_location(env->store));
        return EXIT_USAGE;
    }
    int rc = eider_store_runs(env->store, -1, id, 0, collect_run, &l);
    if (rc) {
        run_list_release(&l);
        return store_failed(env, rc);
    }
    while (pick < l.n && strcasecmp(l.v[pick].run_id, id) != 0)
        pick++;
    if (pick == l.n && l.n == 1)
        pick = 0;
    if (pick < l.n) {
        *out = l.v[pick];
        l.v[pick] = l.v[--l.n];
        run_list_release(&l);
        return EXIT_OK;
    }
    if (l.n == 0) {
        cli_error("no run '%s' in the instance store %s: see 'eider runs' for the run ids", id,
                  eider_store_location(env->store));
    } else {
        char *ids = NULL;
        size_t len = 0;
        FILE *list = open_memstream(&ids, &len);
        for (size_t i = 0; list && i < l.n && i < MATCHES_SHOWN; i++)
            fprintf(list, "\n  %s", l.v[i].run_id);
        if (list && l.n > MATCHES_SHOWN)
            fprintf(list, "\n  ...");
        if (list)
            fclose(list);
        cli_error("run id '%s' is ambiguous: %zu%s runs start with it; give more of it:%s", id, l.n,
                  l.n >= 100 ? " or more" : "", ids ? ids : "");
        free(ids);
    }
    run_list_release(&l);
    return EXIT_USAGE;
}

/* ---- eider runs ---- */

typedef struct runs_args {
    int status;             /* -1: any */
    long limit;
    int json;
} runs_args;

static int parse_status(const char *value, int *out)
{
    *out = eider_run_status_parse(value);
    if (*out >= 0)
        return EXIT_OK;
    cli_error("--status '%s' is not a run status: use queued, started (or running), success "
              "(or succeeded), failure (or failed), canceled or crashed", value);
    return EXIT_USAGE;
}

static int parse_runs_args(cli_env *env, runs_args *a)
{
    static const struct option options[] = {
        CLI_DEFS_OPTIONS, { "status", required_argument, NULL, 'S' },
        { "limit", required_argument, NULL, 'n' }, { "json", no_argument, NULL, 'J' }, { 0 },
    };
    int c, code = EXIT_OK;
    while (!code && (c = cli_getopt(env, "n:", options)) != -1) {
        if (c == 'S')
            code = parse_status(optarg, &a->status);
        else if (c == 'n')
            code = cli_parse_int("--limit", optarg, 1, 1000000, &a->limit);
        else if (c == 'J')
            a->json = 1;
        else
            return EXIT_USAGE;
    }
    if (!code && optind < env->argc) {
        cli_error("unexpected argument '%s': eider runs takes options only (to see one run: "
                  "eider run show '%s')", env->argv[optind], env->argv[optind]);
        return EXIT_USAGE;
    }
    return code;
}

typedef struct runs_widths {
    int id, status, duration, assets, selection;
} runs_widths;

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

static void runs_row(const run_info *r, runs_widths *w, int print)
{
    char started[32], dur[32], assets[96];
    const char *d = run_duration(r, dur, sizeof(dur));
    const char *status = eider_run_status_name(r->status);
    const char *sel = r->selection ? cli_safe(r->selection) : "*";
    outcome_counts(r->n_succeeded, r->n_failed, r->n_skipped, r->n_canceled, assets, sizeof(assets));
    if (!print) {
        w->id = max_int(w->id, (int)strlen(r->run_id));
        w->status = max_int(w->status, (int)strlen(status));
        w->duration = max_int(w->duration, (int)strlen(d));
        w->assets = max_int(w->assets, (int)strlen(assets));
        w->selection = max_int(w->selection, (int)strlen(sel) > 40 ? 40 : (int)strlen(sel));
        return;
    }
    printf("%-*s  %-*s  %-19s  %*s  %-*s  %-*s  %s\n", w->id, r->run_id, w->status, status,
           local_time(r->start_us, started, sizeof(started)), w->duration, d, w->assets, assets,
           w->selection, sel, r->partition ? cli_safe(r->partition) : "-");
}

static void print_runs(const run_list *l)
{
    runs_widths w = { 6, 6, 8, 6, 9 };
    for (size_t i = 0; i < l->n; i++)
        runs_row(&l->v[i], &w, 0);
    printf("%-*s  %-*s  %-19s  %*s  %-*s  %-*s  %s\n", w.id, "RUN ID", w.status, "STATUS", "STARTED",
           w.duration, "DURATION", w.assets, "ASSETS", w.selection, "SELECTION", "PARTITION");
    for (size_t i = 0; i < l->n; i++)
        runs_row(&l->v[i], &w, 1);
}

static int runs_run(cli_env *env)
{
    runs_args a = { .status = -1, .limit = RUNS_DEFAULT_LIMIT };
    run_list l = { 0 };
    int code = parse_runs_args(env, &a);
    if (!code)
        code = cli_open_store(env, CLI_STORE_READ);
    if (code)
        return code;
    int rc = env->store_missing ? EIDER_OK
           : eider_store_runs(env->store, a.status, NULL, (size_t)a.limit, collect_run, &l);
    if (rc) {
        code = store_failed(env, rc);
    } else if (a.json) {
        json_t *all = json_array();
        for (size_t i = 0; i < l.n; i++)
            json_array_append_new(all, run_json(&l.v[i]));
        print_json(all);
    } else if (env->store_missing) {
        printf("no runs yet: nothing is recorded (there is no instance store %s; eider "
               "materialize makes it)\n", eider_store_location(env->store));
    } else if (l.n == 0) {
        printf("no runs%s%s in the instance store %s\n", a.status >= 0 ? " with status " : "",
               a.status >= 0 ? eider_run_status_name((eider_run_status)a.status) : "",
               eider_store_location(env->store));
    } else {
        print_runs(&l);
    }
    run_list_release(&l);
    return code;
}

const cli_command cli_cmd_runs = { "runs", runs_run, "list the recorded runs, newest first", runs_help };

/* ---- eider run show ---- */

/* A step of a run, put together from its events. */
typedef struct step {
    char *key;
    eider_event_type outcome;     /* STEP_START while it has not ended */
    double duration_s;
    int attempts;
    char *message, *sql;
    json_t *metadata;             /* NULL until its materialization */
} step;

typedef struct run_steps {
    step *v;
    size_t n, cap;
    char **notes;                 /* the run's own warnings and errors */
    size_t n_notes, cap_notes;
} run_steps;

static step *find_step(run_steps *s, const char *key)
{
    for (size_t i = s->n; i-- > 0;)   /* the step of an event was most likely started lately */
        if (!strcmp(s->v[i].key, key))
            return &s->v[i];
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        step *v = realloc(s->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n] = (step){ .key = strdup(key), .outcome = EIDER_EVENT_STEP_START };
    return &s->v[s->n++];
}

static void add_note(run_steps *s, const char *level, const char *message)
{
    char *note = NULL;
    if (!message || asprintf(&note, "%s: %s", level, message) < 0)
        return;
    if (s->n_notes == s->cap_notes) {
        size_t cap = s->cap_notes ? s->cap_notes * 2 : 4;
        char **v = realloc(s->notes, cap * sizeof(*v));
        if (!v) {
            free(note);
            return;
        }
        s->notes = v;
        s->cap_notes = cap;
    }
    s->notes[s->n_notes++] = note;
}

static void set_text(char **field, const char *text)
{
    free(*field);
    *field = dup_or_null(text);
}

static int on_step_event(int64_t id, const eider_event *ev, void *user_data)
{
    run_steps *s = user_data;
    step *st = NULL;
    (void)id;
    if (!ev->asset_key) {
        if ((ev->type == EIDER_EVENT_LOG && ev->level >= EIDER_LOG_WARN) || ev->type == EIDER_EVENT_RUN_END)
            add_note(s, eider_log_level_name(ev->level), ev->message);
        return 0;
    }
    if (ev->type == EIDER_EVENT_LOG || !(st = find_step(s, ev->asset_key)))
        return 0;
    if (ev->attempt > st->attempts)
        st->attempts = ev->attempt;
    switch (ev->type) {
    case EIDER_EVENT_MATERIALIZATION:
        json_decref(st->metadata);
        st->metadata = cli_meta_json(ev->metadata, ev->n_metadata);
        break;
    case EIDER_EVENT_STEP_SUCCESS:
    case EIDER_EVENT_STEP_FAILURE:
    case EIDER_EVENT_STEP_SKIPPED:
    case EIDER_EVENT_STEP_CANCELED:
        st->outcome = ev->type;
        st->duration_s = ev->duration_s;
        set_text(&st->message, ev->message);
        set_text(&st->sql, ev->sql);
        break;
    default:
        break;
    }
    return 0;
}

static void run_steps_release(run_steps *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].key);
        free(s->v[i].message);
        free(s->v[i].sql);
        json_decref(s->v[i].metadata);
    }
    for (size_t i = 0; i < s->n_notes; i++)
        free(s->notes[i]);
    free(s->v);
    free(s->notes);
}

static const char *outcome_word(eider_event_type t)
{
    switch (t) {
    case EIDER_EVENT_STEP_SUCCESS: return "ok";
    case EIDER_EVENT_STEP_FAILURE: return "FAIL";
    case EIDER_EVENT_STEP_SKIPPED: return "skip";
    case EIDER_EVENT_STEP_CANCELED: return "canceled";
    default: return "running";
    }
}

static const char *outcome_status(eider_event_type t)
{
    switch (t) {
    case EIDER_EVENT_STEP_SUCCESS: return eider_step_status_name(EIDER_STEP_SUCCESS);
    case EIDER_EVENT_STEP_FAILURE: return eider_step_status_name(EIDER_STEP_FAILED);
    case EIDER_EVENT_STEP_SKIPPED: return eider_step_status_name(EIDER_STEP_SKIPPED);
    case EIDER_EVENT_STEP_CANCELED: return eider_step_status_name(EIDER_STEP_CANCELED);
    default: return "running";
    }
}

static void print_step(const step *st, int key_width)
{
    char dur[32];
    int ended = st->outcome == EIDER_EVENT_STEP_SUCCESS || st->outcome == EIDER_EVENT_STEP_FAILURE;
    printf("  %-8s %-*s  %9s", outcome_word(st->outcome), key_width, st->key,
           ended ? cli_human_duration(st->duration_s, dur, sizeof(dur)) : "");
    if (st->attempts > 1)
        printf("  %d attempts", st->attempts);
    if (st->metadata)
        print_scalar_meta(stdout, st->metadata);
    if (st->outcome == EIDER_EVENT_STEP_FAILURE) {
        putchar('\n');
        cli_print_block("", st->message ? cli_message(st->message) : "failed", 40);
        if (st->sql)
            cli_print_block("sql: ", st->sql, 12);
        return;
    }
    if ((st->outcome == EIDER_EVENT_STEP_SKIPPED || st->outcome == EIDER_EVENT_STEP_CANCELED) && st->message)
        printf("  %s", cli_safe(st->message));
    putchar('\n');
}

static void print_run_header(const run_info *r)
{
    char when[32], dur[32], assets[96];
    printf("run %s  %s\n", r->run_id, eider_run_status_name(r->status));
    printf("  %-12s %s\n", "started", local_time(r->start_us, when, sizeof(when)));
    printf("  %-12s %s\n", "duration", run_duration(r, dur, sizeof(dur)));
    printf("  %-12s %s\n", "assets", outcome_counts(r->n_succeeded, r->n_failed, r->n_skipped,
                                                      r->n_canceled, assets, sizeof(assets)));
    printf("  %-12s %s\n", "selection", r->selection ? cli_safe(r->selection) : "*");
    if (r->partition)
        printf("  %-12s %s\n", "partition", cli_safe(r->partition));
    printf("  %-12s %s\n", "launched by", r->launched_by ? cli_safe(r->launched_by) : "-");
}

static void print_run_show(const run_info *r, const run_steps *s)
{
    int w = 3;
    print_run_header(r);
    for (size_t i = 0; i < s->n_notes; i++)
        printf("  %s\n", cli_message(s->notes[i]));
    if (s->n == 0) {
        printf("\nno steps recorded\n");
        return;
    }
    for (size_t i = 0; i < s->n; i++)
        w = max_int(w, (int)strlen(s->v[i].key) > 40 ? 40 : (int)strlen(s->v[i].key));
    printf("\nsteps:\n");
    for (size_t i = 0; i < s->n; i++)
        print_step(&s->v[i], w);
}

static json_t *run_show_json(const run_info *r, const run_steps *s)
{
    json_t *doc = run_json(r), *steps = json_array(), *notes = json_array();
    for (size_t i = 0; i < s->n; i++) {
        const step *st = &s->v[i];
        json_array_append_new(steps, json_pack("{s:o, s:s, s:f, s:i, s:o, s:o, s:o}",
            "key", cli_json_string(st->key), "status", outcome_status(st->outcome),
            "duration_s", st->duration_s, "attempts", st->attempts,
            "error", cli_json_string(st->message), "sql", cli_json_string(st->sql),
            "metadata", st->metadata ? json_incref(st->metadata) : json_object()));
    }
    for (size_t i = 0; i < s->n_notes; i++)
        json_array_append_new(notes, cli_json_string(s->notes[i]));
    json_object_set_new(doc, "notes", notes);
    json_object_set_new(doc, "steps", steps);
    return doc;
}

/* Parse the options of `run show` / `logs` (follow NULL: no --follow). */
static int parse_id_options(cli_env *env, int *json, int *follow)
{
    static const struct option plain[] = {
        CLI_DEFS_OPTIONS, { "json", no_argument, NULL, 'J' }, { 0 },
    };
    static const struct option with_follow[] = {
        CLI_DEFS_OPTIONS, { "json", no_argument, NULL, 'J' }, { "follow", no_argument, NULL, 'F' },
        { 0 },
    };
    int c;
    while ((c = cli_getopt(env, follow ? "F" : "", follow ? with_follow : plain)) != -1) {
        if (c == 'J')
            *json = 1;
        else if (c == 'F' && follow)
            *follow = 1;
        else
            return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* The one run id at argv[at], and nothing after it. */
static int take_id(cli_env *env, int at, const char *usage, const char **id)
{
    if (at >= env->argc) {
        cli_error("which run? give its id, or the start of it (see 'eider runs'): %s", usage);
        return EXIT_USAGE;
    }
    if (at + 1 < env->argc) {
        cli_error("unexpected argument '%s': %s", env->argv[at + 1], usage);
        return EXIT_USAGE;
    }
    *id = env->argv[at];
    return EXIT_OK;
}

static int run_show(cli_env *env, const char *id, int json)
{
    run_info r = { 0 };
    run_steps s = { 0 };
    int code = cli_open_store(env, CLI_STORE_READ);
    if (!code)
        code = find_run(env, id, &r);
    if (code)
        return code;
    int rc = eider_store_events(env->store, r.run_id, 0, on_step_event, &s);
    if (rc)
        code = store_failed(env, rc);
    else if (json)
        print_json(run_show_json(&r, &s));
    else
        print_run_show(&r, &s);
    run_steps_release(&s);
    run_info_release(&r);
    return code;
}

static int run_run(cli_env *env)
{
    const char *id = NULL;
    int json = 0;
    int code = parse_id_options(env, &json, NULL);
    const char *sub = optind < env->argc ? env->argv[optind] : NULL;
    if (code)
        return code;
    if (!sub) {
        cli_error("eider run needs a subcommand: eider run show ID (the list is 'eider runs')");
        return EXIT_USAGE;
    }
    if (strcmp(sub, "show") != 0) {
        cli_error("unknown subcommand 'eider run %s': use eider run show ID (the list is 'eider runs')",
                  sub);
        return EXIT_USAGE;
    }
    code = take_id(env, optind + 1, "eider run show ID", &id);
    return code ? code : run_show(env, id, json);
}

const cli_command cli_cmd_run = { "run", run_run, "show one recorded run, step by step", run_help };

/* ---- eider logs ---- */

typedef struct log_printer {
    int json;
    int64_t last_id;
    const run_info *run;    /* the run's record: its selection and partition */
    int hold_end;           /* following: a lease's end is held back (the run may come back) */
    int held;               /* one was */
} log_printer;

/* The store keeps a run's selection and partition on the run, not on its run_start
 * event: give them to that event. */
static eider_event with_run(const eider_event *ev, const run_info *r)
{
    eider_event e = *ev;
    if (e.type == EIDER_EVENT_RUN_START && r) {
        e.selection = r->selection;
        e.partition = r->partition;
    }
    return e;
}

static void print_event_detail(FILE *out, const eider_event *ev)
{
    char dur[32];
    switch (ev->type) {
    case EIDER_EVENT_LOG:
        fprintf(out, "  %s: %s", eider_log_level_name(ev->level), cli_safe(ev->message));
        break;
    case EIDER_EVENT_RUN_START:
        fprintf(out, "  selection %s", ev->selection ? cli_safe(ev->selection) : "*");
        if (ev->partition)
            fprintf(out, ", partition %s", cli_safe(ev->partition));
        break;
    case EIDER_EVENT_STEP_START:
        if (ev->attempt > 1)
            fprintf(out, "  attempt %d", ev->attempt);
        break;
    case EIDER_EVENT_STEP_RETRY:
        fprintf(out, "  attempt %d failed: %s", ev->attempt, cli_message(ev->message));
        break;
    case EIDER_EVENT_MATERIALIZATION: {
        json_t *meta = cli_meta_json(ev->metadata, ev->n_metadata);
        print_scalar_meta(out, meta);
        json_decref(meta);
        break;
    }
    case EIDER_EVENT_CHECK:
        fprintf(out, "  %s %s", cli_safe(ev->check_name ? ev->check_name : "?"),
                eider_check_status_name(ev->check_status));
        if (ev->check_status != EIDER_CHECK_PASSED)
            fprintf(out, " (%s%s): %s", eider_check_severity_name(ev->check_severity),
                    ev->check_blocking ? ", blocking" : "", cli_message(ev->message));
        break;
    default:
        if (ev->duration_s)
            fprintf(out, "  %s", cli_human_duration(ev->duration_s, dur, sizeof(dur)));
        if (ev->message)
            fprintf(out, "  %s", cli_message(ev->message));
        break;
    }
}

static void print_event_line(const eider_event *ev)
{
    char when[32], *detail = NULL;
    size_t len = 0;
    time_t t = (time_t)(ev->time_us / 1000000);
    struct tm tm;
    FILE *out = open_memstream(&detail, &len);
    if (out) {          /* the detail first, so that a line without one has no trailing blanks */
        print_event_detail(out, ev);
        fclose(out);
    }
    if (localtime_r(&t, &tm) && strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm))
        printf("%s.%03d", when, (int)(ev->time_us / 1000 % 1000));
    else
        printf("%-23s", "-");
    printf("  %-20s  ", ev->asset_key ? ev->asset_key : "-");
    if (detail && *detail)
        printf("%-15s%s\n", eider_event_name(ev->type), detail);
    else
        printf("%s\n", eider_event_name(ev->type));
    free(detail);
    if (ev->type == EIDER_EVENT_STEP_FAILURE && ev->sql)
        cli_print_block("sql: ", ev->sql, 12);
}

static json_t *event_json(int64_t id, const eider_event *ev)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(id));
    json_object_set_new(o, "run_id", cli_json_string(ev->run_id));
    json_object_set_new(o, "time_us", json_integer(ev->time_us));
    json_object_set_new(o, "asset_key", cli_json_string(ev->asset_key));
    json_object_set_new(o, "type", json_string(eider_event_name(ev->type)));
    json_object_set_new(o, "attempt", ev->asset_key ? json_integer(ev->attempt) : json_null());
    json_object_set_new(o, "duration_s", ev->duration_s ? json_real(ev->duration_s) : json_null());
    json_object_set_new(o, "level", ev->type == EIDER_EVENT_LOG ? json_string(eider_log_level_name(ev->level))
                                                                : json_null());
    json_object_set_new(o, "message", cli_json_string(ev->message));
    json_object_set_new(o, "sql", cli_json_string(ev->sql));
    json_object_set_new(o, "metadata", cli_meta_json(ev->metadata, ev->n_metadata));
    if (ev->type == EIDER_EVENT_RUN_START) {
        json_object_set_new(o, "selection", cli_json_string(ev->selection));
        json_object_set_new(o, "partition", cli_json_string(ev->partition));
    }
    if (ev->type == EIDER_EVENT_CHECK) {
        json_object_set_new(o, "check_name", cli_json_string(ev->check_name));
        json_object_set_new(o, "status", json_string(eider_check_status_name(ev->check_status)));
        json_object_set_new(o, "severity", json_string(eider_check_severity_name(ev->check_severity)));
        json_object_set_new(o, "blocking", json_boolean(ev->check_blocking));
    }
    return o;
}

static int on_log_event(int64_t id, const eider_event *ev, void *user_data)
{
    log_printer *p = user_data;
    /* the end the store tells of a run whose lease ran out is no stored event: it has
     * no duration, and its id is the next event's should the run come back */
    if (p->hold_end && ev->type == EIDER_EVENT_RUN_END && ev->duration_s == 0) {
        p->held = 1;
        return 0;
    }
    eider_event full = with_run(ev, p->run);
    ev = &full;
    p->last_id = id;
    if (p->json) {
        json_t *o = event_json(id, ev);
        json_dumpf(o, stdout, JSON_COMPACT | JSON_REAL_PRECISION(15));
        putchar('\n');
        json_decref(o);
    } else {
        print_event_line(ev);
    }
    return 0;
}

typedef struct status_probe {
    eider_run_status status;
    int found;
} status_probe;

static int probe_status(const eider_run_record *rec, void *user_data)
{
    status_probe *p = user_data;
    p->status = rec->status;
    p->found = 1;
    return 1;
}

/* Opening a store marks the runs whose lease ran out as crashed: a run killed while
 * followed would otherwise stay "started" for as long as nobody opens it. */
static void mark_dead_runs(void)
{
    eider_store *s = NULL;
    eider_store_open(NULL, &s);
    eider_store_close(s);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Print the new events until the run has ended. Its status is read before its events,
 * so that the events written before it ended are all printed. A run marked crashed
 * because its lease ran out is followed FOLLOW_LAPSED_S more, its lease's end held
 * back: a stopped run that comes back goes on, and is followed to its true end. */
static int follow_run(cli_env *env, const char *run_id, log_printer *p)
{
    const struct timespec interval = { 0, FOLLOW_INTERVAL_NS };
    status_probe probe = { EIDER_RUN_STARTED, 1 };
    int rc = EIDER_OK, idle = 0;
    double lapsed = 0;                   /* when its lease's end was first held back */
    int was_live = 0;                    /* a run dead before it was followed is not waited for */
    for (;;) {
        int64_t seen = p->last_id;
        probe.found = 0;
        rc = eider_store_runs(env->store, -1, run_id, 1, probe_status, &probe);
        if (rc)
            break;
        if (!probe.found || probe.status != EIDER_RUN_CRASHED)
            lapsed = 0;
        was_live |= probe.found && live(probe.status);
        p->hold_end = was_live && (!lapsed || mono_s() - lapsed < FOLLOW_LAPSED_S);
        p->held = 0;
        rc = eider_store_events(env->store, run_id, p->last_id, on_log_event, p);
        fflush(stdout);
        if (p->held && !lapsed) {
            lapsed = mono_s();
            fprintf(stderr, "note: run %s is marked crashed, as its lease ran out; following it "
                    "%g s more, in case it was only stopped and comes back\n", run_id,
                    FOLLOW_LAPSED_S);
        }
        if (rc || (!(probe.found && live(probe.status)) && !p->held))
            break;
        idle = p->last_id == seen ? idle + 1 : 0;
        if (idle % FOLLOW_CHECK_POLLS == FOLLOW_CHECK_POLLS - 1)
            mark_dead_runs();
        nanosleep(&interval, NULL);
    }
    return rc;
}

static int logs_run(cli_env *env)
{
    const char *id = NULL;
    int json = 0, follow = 0;
    run_info r = { 0 };
    int code = parse_id_options(env, &json, &follow);
    if (!code)
        code = take_id(env, optind, "eider logs ID", &id);
    if (!code)
        code = cli_open_store(env, CLI_STORE_READ);
    if (!code)
        code = find_run(env, id, &r);
    if (code)
        return code;
    log_printer p = { .json = json, .run = &r };
    int rc = follow ? follow_run(env, r.run_id, &p)
                    : eider_store_events(env->store, r.run_id, 0, on_log_event, &p);
    if (rc)
        code = store_failed(env, rc);
    run_info_release(&r);
    return code;
}

const cli_command cli_cmd_logs = { "logs", logs_run, "print the events of a recorded run", logs_help };

/* ---- the same JSON for other front ends (the server of eider dev) ---- */

int cli_runs_json(eider_store *store, int status, size_t offset, size_t limit, json_t **out)
{
    run_list l = { 0 };
    int rc = eider_store_runs(store, status, NULL, offset + limit, collect_run, &l);
    *out = NULL;
    if (!rc) {
        *out = json_array();
        for (size_t i = offset; i < l.n; i++)
            json_array_append_new(*out, run_json(&l.v[i]));
    }
    run_list_release(&l);
    return rc;
}

int cli_run_json(eider_store *store, const char *run_id, json_t **out)
{
    run_list l = { 0 };
    run_steps s = { 0 };
    size_t i = 0;
    int rc = eider_store_runs(store, -1, run_id, 0, collect_run, &l);
    *out = NULL;
    while (!rc && i < l.n && strcmp(l.v[i].run_id, run_id) != 0)
        i++;
    if (!rc && i < l.n)
        rc = eider_store_events(store, run_id, 0, on_step_event, &s);
    if (!rc && i < l.n)
        *out = run_show_json(&l.v[i], &s);
    run_steps_release(&s);
    run_list_release(&l);
    return rc;
}

static int collect_event(int64_t id, const eider_event *ev, void *user_data)
{
    json_array_append_new(user_data, event_json(id, ev));
    return 0;
}

int cli_events_json(eider_store *store, const char *run_id, int64_t after_id, json_t **out)
{
    *out = json_array();
    int rc = eider_store_events(store, run_id, after_id, collect_event, *out);
    if (rc) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}
