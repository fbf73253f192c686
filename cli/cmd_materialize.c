/*
 * cmd_materialize.c — `eider materialize`: run the selected assets now, with a live
 * line per step on a terminal (plain lines otherwise), a summary, and --json.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

static const char help[] =
    "usage: eider materialize [-f FILE.c | -l FILE.so] [--select SEL] [--jobs N]\n"
    "                         [--partition KEY | --partition-range FIRST...LAST |\n"
    "                          --all-partitions] [--per-partition] [--resume]\n"
    "                         [--lock-timeout SECONDS] [--no-checks] [--in-process]\n"
    "                         [--verbose] [--json]\n"
    "\n"
    "Materialize the selected assets now, in dependency order; independent assets run in\n"
    "parallel. A failed asset skips what depends on it; other branches go on.\n"
    "\n"
    CLI_DEFS_HELP
    "  -s, --select SEL      which assets (default: all). Dagster's syntax:\n"
    "                          key, a/b            one asset\n"
    "                          *key, key*          it and everything upstream / downstream\n"
    "                          +key, key++, 2+key  it and 1 / 2 / n levels up or down\n"
    "                          group:G  tag:K=V  tag:K  kind:K  owner:O  key:GLOB\n"
    "                          check:GLOB          the assets with a check so named\n"
    "                          roots(), sinks(), roots(SEL), sinks(SEL)\n"
    "                          stale(), stale(SEL)  what needs materializing: stale,\n"
    "                                   failed or never materialized (in SEL); with a\n"
    "                                   partition, also what lacks it or failed it\n"
    "                          and, or, not, ( ), and comma lists (a, b = a or b)\n"
    "  -p, --partition KEY   the partition of the partitioned assets to materialize\n"
    "                        (\"2024-01-31\", \"setosa\", \"setosa|2024-01-31\" for two dimensions).\n"
    "                        Without a partition, a run leaves out the partitioned assets;\n"
    "                        with one, the partitioned assets that lack it (either is an\n"
    "                        error for those --select names by key); and what reads one\n"
    "                        of them never materialized. It names them (--json: \"left_out\")\n"
    "      --partition-range FIRST...LAST\n"
    "                        every partition from FIRST to LAST, both included\n"
    "      --all-partitions  every partition of each partitioned asset (a backfill)\n"
    "      --per-partition   a backfill as one run per partition instead of one run; a\n"
    "                        failed partition does not stop the others. Assets with\n"
    "                        different partitions are backfilled one partitioning after\n"
    "                        the other\n"
    "      --resume          a backfill of only the partitions that failed or never ran\n"
    "                        (as the instance store says), in one run per span of them\n"
    "                        (per partition with --per-partition); with --json, one\n"
    "                        document per run\n"
    "  -j, --jobs N          worker threads (default: the number of cores)\n"
    "      --no-checks       evaluate no asset check (eider_asset_check); by default each\n"
    "                        asset's checks run in its step, and a failing blocking one\n"
    "                        rolls its write back and fails it\n"
    "      --lock-timeout S  wait up to S seconds for a database another process holds\n"
    "                        (default 60; 0 fails at once)\n"
    "      --in-process      run the assets' code in this process, not in a run worker:\n"
    "                        for a debugger (gdb --args eider materialize --in-process);\n"
    "                        a crash then ends eider too, timeout_s only interrupts\n"
    "                        queries, and the run shows crashed once its lease runs out\n"
    "  -v, --verbose         print every log line of every asset\n"
    "      --json            print the outcome as JSON instead of text\n"
    "\n"
    "The run is recorded in the instance store ($EIDER_STORAGE, else the folder\n"
    "$EIDER_HOME, else .eider beside the definitions); EIDER_STORAGE=none records nothing.\n"
    "The run proves it is alive by renewing its lease there every EIDER_RUN_LEASE_S / 12\n"
    "seconds (default 60 / 12); a run whose lease runs out shows as crashed. When the store\n"
    "fails mid-run (a full disk, PostgreSQL down), the run goes on: its events wait in\n"
    "memory (up to 64 MiB) and are written when it is back, retried at the run's end for\n"
    "up to EIDER_STORE_RETRY_S seconds (default 60; 0: no retry); then eider prints an\n"
    "error that names the events, materializations and end the store lacks (--json:\n"
    "\"recorded\": false and \"missing\"; the exit code stays the run's own). Either\n"
    "setting that is no number of seconds is refused (exit 2) before anything runs.\n"
    "\n"
    "Ctrl-C (or SIGTERM) cancels the run: running queries are interrupted, nothing new\n"
    "starts, and eider exits 130. Once no asset runs and the run's end waits for the\n"
    "instance store, Ctrl-C stops the wait, and eider says what the store lacks (the\n"
    "exit code stays the run's own). A second Ctrl-C quits at once.\n"
    "\n"
    "The assets' code runs in a run worker, a child process, while eider records: if an\n"
    "asset crashes it (SIGSEGV, abort(), a stack overflow), calls exit(), or the worker is\n"
    "killed (kill -9, the out-of-memory killer, or 5 s after an asset's timeout_s if its\n"
    "code does not return), every event before it is recorded, the running assets fail\n"
    "with the signal or exit status, the assets not started are skipped, the run is\n"
    "recorded crashed, and eider exits 6 naming the asset.\n";

/* A step now running, for the live status line. */
typedef struct running_step {
    char *key;
    double started;                  /* monotonic seconds */
} running_step;

typedef struct printer {
    int verbose, json;
    int in_process;                  /* --in-process: eider_materialize(), no run worker */
    int checks_only;                 /* eider check: the checks of what is stored */
    cli_term term;                   /* stdout's: color, and the live status line */
    int width;                       /* the terminal's columns: the status line fits */
    pthread_mutex_t lock;            /* events and the ticker print in turn */
    running_step *running;           /* the steps now running (live only) */
    size_t n_running, cap_running;
    int done, total;                 /* steps: ended, and planned */
    long long rows;                  /* rows written so far (row_count), when known */
    int has_rows;
    int n_external;                  /* external assets the selection holds */
    int key_width;                   /* the longest selected key, for aligned columns */
    double run_seconds;              /* from the RUN_END event */
    pthread_t ticker;                /* redraws the live line, for the elapsed times */
    pthread_cond_t tick;
    int ticking, stop;
} printer;

#define TICK_NS 250000000L           /* how often the live line is redrawn */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void clear_status(printer *p)
{
    if (p->term.live)
        fputs("\r\033[K", stdout);
}

/* Append to line (of size bytes, *n used) what fits of fmt. */
static void add_to_line(char *line, size_t size, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add_to_line(char *line, size_t size, size_t *n, const char *fmt, ...)
{
    va_list ap;
    if (*n + 1 >= size)
        return;
    va_start(ap, fmt);
    int len = vsnprintf(line + *n, size - *n, fmt, ap);
    va_end(ap);
    if (len > 0)
        *n = *n + (size_t)len < size ? *n + (size_t)len : size - 1;
}

/* "  [3/10] 1200 rows written, running: a 2.1 s, b 0.4 s", cut to the terminal's width. */
static void draw_status(printer *p)
{
    char line[1024], dur[32];
    size_t n = 0, room = (size_t)p->width < sizeof(line) ? (size_t)p->width : sizeof(line);
    double now = mono_s();
    if (!p->term.live || !p->n_running)
        return;
    add_to_line(line, sizeof(line), &n, "  [%d/%d]", p->done, p->total);
    if (p->has_rows)
        add_to_line(line, sizeof(line), &n, " %lld rows written,", p->rows);
    add_to_line(line, sizeof(line), &n, " running:");
    for (size_t i = 0; i < p->n_running; i++)
        add_to_line(line, sizeof(line), &n, "%s %s %s", i ? "," : "", cli_safe(p->running[i].key),
                    cli_human_duration(now - p->running[i].started, dur, sizeof(dur)));
    if (n >= room && room > 4)
        memcpy(line + room - 4, "...", 4);
    printf("%s%s%s", p->term.color ? "\033[2m" : "", line, p->term.color ? "\033[0m" : "");
    fflush(stdout);
}

/* Note that step key runs (on) or has ended; returns 1 when it ended now (so that it
 * is counted once, at its first end event). */
static int set_running(printer *p, const char *key, int on)
{
    for (size_t i = 0; on && i < p->n_running; i++)
        if (!strcmp(p->running[i].key, key)) {  /* its next attempt */
            p->running[i].started = mono_s();
            return 0;
        }
    if (on) {
        if (p->n_running == p->cap_running) {
            p->cap_running = p->cap_running ? p->cap_running * 2 : 8;
            p->running = realloc(p->running, p->cap_running * sizeof(*p->running));
        }
        p->running[p->n_running++] = (running_step){ strdup(key), mono_s() };
        return 0;
    }
    for (size_t i = 0; i < p->n_running; i++)
        if (!strcmp(p->running[i].key, key)) {
            free(p->running[i].key);
            p->running[i] = p->running[--p->n_running];
            return 1;
        }
    return 0;
}

/* The ticker: redraws the live line while steps run, so that their times go on. */
static void *tick(void *arg)
{
    printer *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += TICK_NS;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&p->tick, &p->lock, &until);
        if (!p->stop && p->n_running) {
            clear_status(p);
            draw_status(p);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static int terminal_width(void)
{
    struct winsize ws;
    return ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 ? ws.ws_col - 1 : 79;
}

/* A live line on a terminal that wants one (not with --json, never when piped). Its
 * ticker starts at the run's start (start_ticker()): after the run worker is forked, so
 * that the worker never inherits stdout's lock held by it. */
static void start_printer(printer *p)
{
    p->term = cli_term_of(stdout);
    if (p->json)
        p->term.live = 0;
    p->width = terminal_width();
    p->stop = 0;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->tick, NULL);
}

/* Called with p->lock held. */
static void start_ticker(printer *p)
{
    if (p->term.live && !p->ticking)
        p->ticking = pthread_create(&p->ticker, NULL, tick, p) == 0;
}

static void stop_printer(printer *p)
{
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_signal(&p->tick);
    pthread_mutex_unlock(&p->lock);
    if (p->ticking)
        pthread_join(p->ticker, NULL);
    p->ticking = 0;
    clear_status(p);
}

static void print_meta(const eider_event *ev)
{
    for (size_t i = 0; i < ev->n_metadata; i++) {
        const eider_meta *m = &ev->metadata[i];
        switch (m->type) {
        case EIDER_META_INT: printf("  %s=%lld", cli_safe(m->key), (long long)m->i); break;
        case EIDER_META_FLOAT: printf("  %s=%g", cli_safe(m->key), m->f); break;
        case EIDER_META_BOOL: printf("  %s=%s", cli_safe(m->key), m->i ? "true" : "false"); break;
        default: break;
        }
    }
}

static const char *mark(printer *p, const char *fancy, const char *plain)
{
    return p->term.color ? fancy : plain;
}

static void on_step_end(printer *p, const eider_event *ev)
{
    char dur[32];
    switch (ev->type) {
    case EIDER_EVENT_MATERIALIZATION:
        printf("  %s %-*s  %9s", mark(p, "\033[32m✓\033[0m", "ok  "), p->key_width,
               ev->asset_key, cli_human_duration(ev->duration_s, dur, sizeof(dur)));
        print_meta(ev);
        break;
    case EIDER_EVENT_STEP_FAILURE:
        printf("  %s %-*s  %9s\n", mark(p, "\033[31m✗\033[0m", "FAIL"), p->key_width,
               ev->asset_key, cli_human_duration(ev->duration_s, dur, sizeof(dur)));
        cli_print_block("", ev->message ? cli_message(ev->message) : "failed", 40);
        if (ev->sql)
            cli_print_block("sql: ", ev->sql, 12);
        return;
    case EIDER_EVENT_STEP_SKIPPED:
        printf("  %s %-*s  %9s  %s", mark(p, "\033[33m-\033[0m", "skip"), p->key_width,
               ev->asset_key, "", cli_safe(ev->message));
        break;
    case EIDER_EVENT_STEP_CANCELED:
        printf("  %s %-*s  %9s  %s", mark(p, "\033[33m■\033[0m", "stop"), p->key_width,
               ev->asset_key, "", cli_safe(ev->message));
        break;
    case EIDER_EVENT_STEP_RETRY:
        printf("  %s %-*s  %9s  attempt %d failed: %s; retrying", mark(p, "\033[33m↻\033[0m", "retry"),
               p->key_width, ev->asset_key, "", ev->attempt, cli_message(ev->message));
        break;
    default:
        return;
    }
    putchar('\n');
}

/* A check's outcome, under its asset: a line for each, why for those that did not pass. */
static void on_check(printer *p, const eider_event *ev)
{
    int passed = ev->check_status == EIDER_CHECK_PASSED;
    const char *word = passed ? "passed" : ev->check_status == EIDER_CHECK_FAILED ? "FAILED" : "ERRED";
    printf("    %s check %s:%s %s", passed ? mark(p, "\033[32m✓\033[0m", "ok") : mark(p,
           "\033[33m!\033[0m", "!!"), cli_safe(ev->asset_key), cli_safe(ev->check_name), word);
    if (!passed)
        printf(" (%s%s): %s", eider_check_severity_name(ev->check_severity),
               ev->check_blocking ? ", blocking" : "", cli_safe(ev->message));
    putchar('\n');
}

static void on_log(printer *p, const eider_event *ev)
{
    if (!p->verbose && ev->level < EIDER_LOG_WARN)
        return;
    if (ev->asset_key)          /* a step's log line, under the step */
        printf("    %s %s: %s\n", ev->asset_key, eider_log_level_name(ev->level), cli_safe(ev->message));
    else                        /* the run's own, such as waiting for a lock */
        printf("  %s: %s\n", eider_log_level_name(ev->level), cli_safe(ev->message));
}

/* Whether an asset runs now (on_cancel() reads it): set by track(). */
static eider_atomic_int assets_running;

/* Which steps run, and how many ended. A step ends at its first end event: its line is
 * printed at its materialization, so the live line drops it there; a skipped (or
 * canceled) step may never have run. Called with p->lock held. */
static void track(printer *p, const eider_event *ev)
{
    if (ev->type == EIDER_EVENT_STEP_START)
        set_running(p, ev->asset_key, 1);
    else if (ev->type == EIDER_EVENT_STEP_SUCCESS || ev->type == EIDER_EVENT_STEP_FAILURE ||
             ev->type == EIDER_EVENT_MATERIALIZATION)
        p->done += set_running(p, ev->asset_key, 0);
    else if (ev->type == EIDER_EVENT_STEP_SKIPPED || ev->type == EIDER_EVENT_STEP_CANCELED) {
        set_running(p, ev->asset_key, 0);
        p->done++;
    }
    atomic_store(&assets_running, p->n_running > 0);
}

static void on_event(const eider_event *ev, void *user_data)
{
    printer *p = user_data;
    if (ev->type == EIDER_EVENT_RUN_END)
        p->run_seconds = ev->duration_s;
    if (p->json) {              /* stdout is for the JSON; warnings still reach a person */
        pthread_mutex_lock(&p->lock);
        track(p, ev);
        pthread_mutex_unlock(&p->lock);
        if (ev->type == EIDER_EVENT_LOG && ev->level >= EIDER_LOG_WARN)
            fprintf(stderr, "%s: %s%s%s\n", ev->level >= EIDER_LOG_ERROR ? "error" : "warning",
                    ev->asset_key ? ev->asset_key : "", ev->asset_key ? ": " : "",
                    cli_safe(ev->message));
        return;
    }
    pthread_mutex_lock(&p->lock);
    clear_status(p);
    if (ev->type == EIDER_EVENT_RUN_START) {  /* what runs, without what was left out */
        p->total = (int)ev->n_steps;
        start_ticker(p);
    }
    if (ev->type == EIDER_EVENT_LOG)
        on_log(p, ev);
    else if (ev->type == EIDER_EVENT_CHECK)
        on_check(p, ev);
    else if (ev->type != EIDER_EVENT_STEP_START)
        on_step_end(p, ev);
    track(p, ev);
    for (size_t i = 0; ev->type == EIDER_EVENT_MATERIALIZATION && i < ev->n_metadata; i++)
        if (ev->metadata[i].type == EIDER_META_INT && !strcmp(ev->metadata[i].key, "row_count")) {
            p->rows += ev->metadata[i].i;
            p->has_rows = 1;
        }
    draw_status(p);
    if (!p->term.live)
        fflush(stdout);
    pthread_mutex_unlock(&p->lock);
}

/* The keys of the steps with status s, comma-separated, on one line. */
static void list_status(const eider_result *r, eider_step_status s, const char *label)
{
    int n = 0;
    for (size_t i = 0; i < eider_result_count(r); i++)
        if (eider_result_status(r, i) == s)
            printf("%s%s", n++ ? ", " : label, eider_result_key(r, i));
    if (n)
        putchar('\n');
}

/* Whether a check of severity error failed or erred: eider check then exits 1. */
static int any_check_failed(const eider_result *r)
{
    for (size_t i = 0; i < eider_result_count(r); i++)
        for (size_t j = 0; j < eider_result_check_count(r, i); j++) {
            const eider_check_outcome *c = eider_result_check(r, i, j);
            if (c->status != EIDER_CHECK_PASSED && c->severity == EIDER_CHECK_ERROR)
                return 1;
        }
    return 0;
}

static void print_summary(const eider_result *r, int rc, double seconds, int recorded,
                          int checking)
{
    char dur[32];
    int counts[4] = { 0 };
    for (size_t i = 0; i < eider_result_count(r); i++)
        counts[eider_result_status(r, i)]++;
    const char *how = rc == EIDER_ECRASHED ? "run crashed" : counts[3] ? "run canceled"
                    : counts[1] || counts[2] ? "run failed"
                    : checking && any_check_failed(r) ? "checks failed"
                    : checking ? "checks passed" : "run succeeded";
    printf("%s: %d %s, %d failed, %d skipped", how, counts[0], checking ? "checked" : "materialized",
           counts[1], counts[2]);
    if (counts[3])
        printf(", %d canceled", counts[3]);
    printf(" in %s (run %s%s)\n", cli_human_duration(seconds, dur, sizeof(dur)), eider_result_run_id(r),
           !recorded ? ", not recorded: EIDER_STORAGE=none"
           : eider_result_unrecorded(r) ? ", recorded only in part: see the error above" : "");
    int checks[3] = { 0 };
    for (size_t i = 0; i < eider_result_count(r); i++)
        for (size_t j = 0; j < eider_result_check_count(r, i); j++)
            checks[eider_result_check(r, i, j)->status]++;
    if (checks[0] + checks[1] + checks[2])
        printf("checks: %d passed, %d failed, %d erred\n", checks[0], checks[1], checks[2]);
    list_status(r, EIDER_STEP_FAILED, "failed:   ");
    list_status(r, EIDER_STEP_SKIPPED, "skipped:  ");
    list_status(r, EIDER_STEP_CANCELED, "canceled: ");
}

/* The start of a note on the assets left out for why, which are n (singular or plural). */
void left_out_note_start(eider_left_out_why why, size_t n)
{
    if (why == EIDER_LEFT_OUT_UPSTREAM)
        fprintf(stderr, "note: also left out, as %s never materialized: ", n == 1
                ? "it reads an asset left out and" : "they read assets left out and");
    else
        fprintf(stderr, "note: left out the partitioned %s ", n == 1 ? "asset" : "assets");
}

/* The end of that note: how to include them. */
void left_out_note_end(eider_left_out_why why, size_t n, const char *partition)
{
    const char *them = n == 1 ? "it" : "them";
    if (why == EIDER_LEFT_OUT_NO_PARTITION)
        fprintf(stderr, ": materialize %s with --select and --partition KEY, --partition-range "
                "FIRST...LAST or --all-partitions\n", them);
    else if (why == EIDER_LEFT_OUT_NOT_ITS_PARTITION)
        fprintf(stderr, ", which %s no partition '%s': materialize %s with --select and a "
                "partition of %s own\n", n == 1 ? "has" : "have", cli_safe(partition), them,
                n == 1 ? "its" : "their");
    else
        fprintf(stderr, "; a run includes %s once %s materialized\n", them,
                n == 1 ? "that asset is" : "those are");
}

/* What the run left out of its selection (see eider_run_options.partition), a note per
 * reason, each naming the assets (five at most) and saying how to include them. On
 * stderr, so that --json stays one document. */
static void note_left_out(const eider_result *r, const char *partition)
{
    static const eider_left_out_why order[] = { EIDER_LEFT_OUT_NO_PARTITION,
        EIDER_LEFT_OUT_NOT_ITS_PARTITION, EIDER_LEFT_OUT_UPSTREAM };
    size_t n = eider_result_left_out_count(r);
    for (size_t w = 0; w < sizeof(order) / sizeof(order[0]); w++) {
        size_t count = 0, shown = 0;
        eider_left_out_why why;
        const char *up = NULL;
        for (size_t i = 0; i < n; i++)
            count += eider_result_left_out(r, i, &why, NULL) && why == order[w];
        for (size_t i = 0; count && i < n; i++) {
            const char *key = eider_result_left_out(r, i, &why, &up);
            if (why != order[w] || shown >= 5)
                continue;
            if (!shown++)
                left_out_note_start(why, count);
            fprintf(stderr, "%s'%s'", shown == 1 ? "" : ", ", cli_safe(key));
            if (up)
                fprintf(stderr, " (reads '%s')", cli_safe(up));
        }
        if (count > shown)
            fprintf(stderr, " and %zu more", count - shown);
        if (count)
            left_out_note_end(order[w], count, partition);
    }
}

/* The left-out list of --json: [{"key": K, "why": W, "upstream": U or null}]. */
static json_t *left_out_json(const eider_result *r)
{
    static const char *const whys[] = { [EIDER_LEFT_OUT_NO_PARTITION] = "no_partition",
        [EIDER_LEFT_OUT_NOT_ITS_PARTITION] = "not_its_partition",
        [EIDER_LEFT_OUT_UPSTREAM] = "upstream_never_materialized" };
    json_t *list = json_array();
    for (size_t i = 0; i < eider_result_left_out_count(r); i++) {
        eider_left_out_why why = EIDER_LEFT_OUT_NO_PARTITION;
        const char *up = NULL, *key = eider_result_left_out(r, i, &why, &up);
        json_array_append_new(list, json_pack("{s:o, s:s, s:o}", "key", cli_json_string(key),
            "why", whys[why], "upstream", cli_json_string(up)));
    }
    return list;
}

/* A valid selection with no step to run: say why in words that fit, as text or JSON.
 * Nothing was run, so nothing was recorded. */
static void print_nothing(const printer *p, const char *selection, const eider_result *r)
{
    char why[512], what[256];
    const char *shown = selection && *selection ? cli_safe(selection) : NULL;
    if (shown)                       /* what was selected: the user's words, else all */
        snprintf(what, sizeof(what), "'%s' selects", shown);
    else
        snprintf(what, sizeof(what), "the definitions hold");
    if (eider_result_left_out_count(r) && !shown)
        snprintf(why, sizeof(why), "this run leaves out every asset (see the note)");
    else if (eider_result_left_out_count(r))
        snprintf(why, sizeof(why), "%s only what this run leaves out (see the note)", what);
    else if (p->n_external)
        snprintf(why, sizeof(why), "%s only external assets (%d), which Eider never "
                 "materializes", what, p->n_external);
    else if (shown && strcasestr(selection, "stale("))
        snprintf(why, sizeof(why), "everything '%s' looks at is up to date (none is stale, "
                 "failed or never materialized)", shown);
    else
        snprintf(why, sizeof(why), "%s no asset", what);
    if (p->checks_only)
        snprintf(why, sizeof(why), "%s no asset with a check (eider_asset_check)", what);
    if (!p->json) {
        printf("nothing to %s: %s; no run was started or recorded\n",
               p->checks_only ? "check" : "materialize", why);
        return;
    }
    json_t *doc = json_pack("{s:n, s:n, s:s, s:f, s:b, s:[], s:o, s:o}", "run_id", "partition",
                            "status", "nothing",
                            "duration_s", 0.0, "recorded", 0, "steps", "message", cli_json_string(why),
                            "left_out", left_out_json(r));
    json_dumpf(doc, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(doc);
}

/* Step i's checks: name, status, severity, blocking, message, sql, metadata. */
static json_t *checks_json(const eider_result *r, size_t i)
{
    json_t *list = json_array();
    for (size_t j = 0; j < eider_result_check_count(r, i); j++) {
        const eider_check_outcome *c = eider_result_check(r, i, j);
        json_array_append_new(list, json_pack("{s:o, s:s, s:s, s:b, s:o, s:o, s:o}",
            "name", cli_json_string(c->name), "status", eider_check_status_name(c->status),
            "severity", eider_check_severity_name(c->severity), "blocking", c->blocking,
            "message", cli_json_string(c->message), "sql", cli_json_string(c->sql),
            "metadata", cli_meta_json(c->metadata, c->n_metadata)));
    }
    return list;
}

static json_t *step_json(const eider_result *r, size_t i)
{
    size_t n_meta = 0;
    const eider_meta *meta = eider_result_metadata(r, i, &n_meta);
    const char *err = eider_result_error(r, i), *sql = eider_result_sql(r, i);
    return json_pack("{s:o, s:s, s:f, s:i, s:o, s:o, s:o, s:o, s:o}",
        "key", cli_json_string(eider_result_key(r, i)), "status", eider_step_status_name(eider_result_status(r, i)),
        "duration_s", eider_result_duration(r, i), "attempts", eider_result_attempts(r, i),
        "error", cli_json_string(err), "sql", cli_json_string(sql),
        "metadata", cli_meta_json(meta, n_meta), "log", cli_json_string(eider_result_log(r, i)),
        "checks", checks_json(r, i));
}

static void print_json(const eider_result *r, int rc, double seconds, int recorded)
{
    json_t *steps = json_array();
    for (size_t i = 0; i < eider_result_count(r); i++)
        json_array_append_new(steps, step_json(r, i));
    const char *missing = eider_result_unrecorded(r);
    json_t *doc = json_pack("{s:s, s:o, s:s, s:f, s:b, s:o, s:o, s:o}", "run_id", eider_result_run_id(r),
        "partition", cli_json_string(eider_result_partition(r)),
        "status", rc == EIDER_OK ? "success" : rc == EIDER_ECANCELED ? "canceled"
                : rc == EIDER_ECRASHED ? "crashed" : "failure",
        "duration_s", seconds, "recorded", recorded && !missing, "missing", cli_json_string(missing),
        "steps", steps, "left_out", left_out_json(r));
    json_dumpf(doc, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(doc);
}

static int parse_args(cli_env *env, eider_run_options *o, printer *p, backfill *b)
{
    static const struct option options[] = {
        CLI_DEFS_OPTIONS, { "select", required_argument, NULL, 's' },
        { "jobs", required_argument, NULL, 'j' }, { "lock-timeout", required_argument, NULL, 't' },
        { "verbose", no_argument, NULL, 'v' }, { "json", no_argument, NULL, 'J' },
        { "partition", required_argument, NULL, 'p' },
        { "partition-range", required_argument, NULL, 'R' },
        { "all-partitions", no_argument, NULL, 'A' }, { "per-partition", no_argument, NULL, 'P' },
        { "resume", no_argument, NULL, 'r' }, { "in-process", no_argument, NULL, 'I' },
        { "no-checks", no_argument, NULL, 'C' }, { 0 },
    };
    int c, code = EXIT_OK;
    long jobs = 0;
    while (!code && (c = cli_getopt(env, "s:j:vp:", options)) != -1) {
        switch (c) {
        case 's': o->selection = optarg; break;
        case 'p':
        case 'R':
            if (o->partition) {
                cli_error("--partition and --partition-range are given together (or twice): "
                          "give one");
                return EXIT_USAGE;
            }
            if (c == 'R' && !strstr(optarg, "...")) {
                cli_error("--partition-range '%s' is not a range: write FIRST...LAST", optarg);
                return EXIT_USAGE;
            }
            if (c == 'p' && strstr(optarg, "...")) {
                cli_error("--partition '%s' looks like a range: use --partition-range", optarg);
                return EXIT_USAGE;
            }
            o->partition = optarg;
            break;
        case 'A': o->all_partitions = 1; break;
        case 'P': b->per_partition = 1; break;
        case 'r': b->resume = 1; break;
        case 'v': p->verbose = 1; break;
        case 'J': p->json = 1; break;
        case 'I': p->in_process = 1; break;
        case 'C': o->no_checks = 1; break;
        case 'j':
            code = cli_parse_int("--jobs", optarg, 1, 1024, &jobs);
            o->jobs = (int)jobs;
            break;
        case 't':
            code = cli_parse_seconds("--lock-timeout", optarg, 86400, &o->lock_timeout_s);
            break;
        default: return EXIT_USAGE;
        }
    }
    if (code)
        return code;
    if (o->all_partitions && o->partition) {
        cli_error("--all-partitions and --partition%s are given together: give one",
                  strstr(o->partition, "...") ? "-range" : "");
        return EXIT_USAGE;
    }
    if (p->checks_only && (o->no_checks || b->per_partition || b->resume)) {
        cli_error("eider check evaluates checks in one run: --%s is materialize's",
                  o->no_checks ? "no-checks" : b->resume ? "resume" : "per-partition");
        return EXIT_USAGE;
    }
    if ((b->per_partition || b->resume) && !o->all_partitions && !o->partition) {
        cli_error("--%s backfills partitions: name them with --partition-range FIRST...LAST "
                  "or --all-partitions", b->resume ? "resume" : "per-partition");
        return EXIT_USAGE;
    }
    if (optind < env->argc) {
        cli_error("unexpected argument '%s': select assets with --select '%s'",
                  env->argv[optind], env->argv[optind]);
        return EXIT_USAGE;
    }
    return cli_check_selection(o->selection);
}

static void say(const char *s)
{
    if (write(STDERR_FILENO, s, strlen(s)) < 0)
        return;
}

/* Ctrl-C or SIGTERM cancels the run: the library sees this flag, interrupts running
 * queries and starts nothing new. A second Ctrl-C ends the process at once. */
static eider_atomic_int cancel_requested;

static void on_cancel(int sig)
{
    atomic_store(&cancel_requested, 1);
    if (atomic_load(&assets_running))
        say("\ncanceling: interrupting the running assets; press Ctrl-C again to quit at once\n");
    else
        say("\ncanceling: no asset is running; the run ends now (what the instance store "
            "lacks of it is told); press Ctrl-C again to quit at once\n");
    signal(sig, SIG_DFL);
}

/* $name, when set and not empty: a number of seconds (above 0, or 0 too when zero_ok)
 * up to a million, else refused, naming it, before anything runs. The recorder reads
 * it (and takes an empty one as unset, as this does). */
static int check_seconds(const char *name, int zero_ok)
{
    const char *text = getenv(name);
    char *end = NULL;
    if (!text || !*text)
        return 0;
    double v = strtod(text, &end);
    if (end && !*end && (v > 0 || (zero_ok && v == 0)) && v <= 1e6)
        return 0;
    cli_error("%s='%s' is not a number of seconds: give one %s 1000000, without a unit "
              "(such as %s=30 or 0.5), or unset it for the default (60)", name, cli_safe(text),
              zero_ok ? "from 0 to" : "above 0 up to", name);
    return EXIT_USAGE;
}

static void catch_cancel(eider_run_options *o)
{
    o->cancel = &cancel_requested;
    signal(SIGINT, on_cancel);
    signal(SIGTERM, on_cancel);
}

/* Count the selection's assets (the run start gives the steps it plans) and their
 * longest key, for the live display. A bad selection is left for eider_materialize()
 * to report. */
static void size_up(printer *p, eider_defs *defs, const char *selection)
{
    size_t n = eider_defs_count(defs);
    unsigned char *sel = malloc(n + 1);
    if (sel && eider_defs_select(defs, selection, sel) == EIDER_OK) {
        for (size_t i = 0; i < n; i++) {
            eider_asset_info a;
            if (!sel[i] || eider_defs_info(defs, i, &a))
                continue;
            if (a.external) {
                p->n_external++;
                continue;
            }
            p->total++;
            if ((int)strlen(a.key) > p->key_width)
                p->key_width = (int)strlen(a.key) > 40 ? 40 : (int)strlen(a.key);
        }
    }
    free(sel);
}

static void release_printer(printer *p)
{
    for (size_t i = 0; i < p->n_running; i++)
        free(p->running[i].key);
    free(p->running);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->tick);
}

/* The run worker died: which asset brought it down, with what, and what to do. Under
 * --json the run's document (status "crashed") is stdout's only one, so this goes to
 * stderr alone. */
static void say_crashed(cli_env *env, int json)
{
    const char *how = env->store ? "is recorded crashed" : "crashed";
    if (!json) {
        cli_error("%s; the run %s, and the tables committed before are intact: fix the "
                  "asset's code (or its timeout) and materialize again",
                  eider_defs_errmsg(env->defs), how);
        return;
    }
    fprintf(stderr, "error: %s; the run %s, and the tables committed before are intact: fix "
            "the asset's code (or its timeout) and materialize again\n",
            cli_safe(eider_defs_errmsg(env->defs)), how);
}

/* One run: materialize, then print its outcome. Returns the library's code. */
static int materialize_once(cli_env *env, eider_run_options *o, printer *p)
{
    eider_result *r = NULL;
    p->done = 0;
    p->run_seconds = 0;
    start_printer(p);
    int rc = p->in_process ? eider_materialize(env->defs, o, &r)
                           : eider_materialize_worker(env->defs, o, &r);
    stop_printer(p);
    if (!r) {
        cli_error("%s", eider_defs_errmsg(env->defs));
    } else if (eider_result_count(r) == 0) {
        print_nothing(p, o->selection, r);
    } else {
        if (p->json)
            print_json(r, rc, p->run_seconds, env->store != NULL);
        else
            print_summary(r, rc, p->run_seconds, env->store != NULL, p->checks_only);
    }
    if (r && rc == EIDER_ECRASHED)
        say_crashed(env, p->json);
    if (r)
        note_left_out(r, o->partition);
    if (!rc && p->checks_only && r && any_check_failed(r))
        rc = EIDER_ERUNFAILED;
    eider_result_free(r);
    return rc;
}

/* materialize_once() as a backfill runs it. */
typedef struct once_data {
    cli_env *env;
    printer *p;
} once_data;

static int run_once(eider_run_options *o, void *user_data)
{
    once_data *d = user_data;
    return materialize_once(d->env, o, d->p);
}

/* A backfill of several runs forks a worker for each, while the store's writer and
 * checkpointer threads, started by the first run, live on: its workers come from the
 * run launcher, started while this is the only thread (eider.h). One run forks its
 * worker before any thread starts, and needs none. */
static int start_launcher(cli_env *env, const backfill *b, const printer *p)
{
    if (!(b->per_partition || b->resume) || p->in_process ||
        eider_launcher_start(env->defs) == EIDER_OK)
        return EXIT_OK;
    cli_error("cannot start the run launcher: %s", strerror(errno));
    return EXIT_INTERNAL;
}

int cli_materialize_run(cli_env *env, int checks_only)
{
    printer p = { .checks_only = checks_only };
    eider_event_sink sink = { on_event, &p };
    eider_run_options o = { .sink = &sink, .launched_by = "cli", .checks_only = checks_only,
                            .lock_timeout_s = EIDER_LOCK_TIMEOUT_DEFAULT };
    backfill b = { 0 };
    int code = parse_args(env, &o, &p, &b);
    if (!code)
        code = check_seconds("EIDER_RUN_LEASE_S", 0);
    if (!code)
        code = check_seconds("EIDER_STORE_RETRY_S", 1);
    if (!code)
        code = cli_load_defs(env);
    if (!code)
        code = start_launcher(env, &b, &p);
    if (!code)
        code = cli_open_store(env, 0);
    if (code) {
        eider_launcher_stop();
        return code;
    }
    if (b.resume && !env->store) {
        eider_launcher_stop();
        cli_error("--resume reads which partitions succeeded from the instance store, and "
                  "EIDER_STORAGE=none keeps none: unset it");
        return EXIT_USAGE;
    }
    o.store = env->store;
    size_up(&p, env->defs, o.selection);
    catch_cancel(&o);
    if (b.per_partition || b.resume) {
        int one_run = 0, rc = backfill_keys(env->defs, &o, &b, &one_run);
        if (!rc && !one_run && b.resume)
            rc = backfill_done(env, &b);
        once_data d = { env, &p };
        backfill_runner runner = { run_once, &d, p.json };
        code = rc ? cli_exit_for(rc) : one_run ? cli_exit_for(materialize_once(env, &o, &p))
                                             : run_backfill(env->defs, &o, &b, &runner);
    } else {
        code = cli_exit_for(materialize_once(env, &o, &p));
    }
    eider_launcher_stop();
    backfill_release(&b);
    release_printer(&p);
    return code;
}

static int run(cli_env *env)
{
    return cli_materialize_run(env, 0);
}

const cli_command cli_cmd_materialize = {
    "materialize", run, "materialize the selected assets now", help,
};
