/*
 * cli.c — eider_main(): the command table, global options, help, and loading the
 * definitions for the commands that need them.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <signal.h>
#include <unistd.h>

#include "cli.h"

static const cli_command *const commands[] = {
    &cli_cmd_list,
    &cli_cmd_materialize,
    &cli_cmd_check,
    &cli_cmd_new,
    &cli_cmd_runs,
    &cli_cmd_run,
    &cli_cmd_logs,
    &cli_cmd_asset,
    &cli_cmd_gc,
    &cli_cmd_partitions,
    &cli_cmd_dev,
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Under --json a command's error is also printed on stdout, as JSON, when it ends:
 * its first message is kept for that. */
static int json_errors;
static char *first_error;

void cli_error(const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    fprintf(stderr, "error: %s\n", msg ? cli_safe(msg) : fmt);
    if (!first_error)
        first_error = msg;
    else
        free(msg);
}

static const char *exit_name(int code)
{
    switch (code) {
    case EXIT_RUN_FAILED: return "run_failed";
    case EXIT_USAGE: return "usage";
    case EXIT_DEFS: return "definitions";
    case EXIT_SELECT: return "selection";
    case EXIT_CANCELED: return "canceled";
    case EXIT_CRASHED: return "crashed";
    default: return "internal";
    }
}

/* {"error": {"code": "definitions", "exit_code": 3, "message": "..."}} on stdout. */
static void print_json_error(int code)
{
    json_t *doc = json_pack("{s:{s:s, s:i, s:o}}", "error", "code", exit_name(code), "exit_code",
                            code, "message", cli_json_string(first_error));
    json_dumpf(doc, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(doc);
}

int cli_exit_for(int rc)
{
    switch (rc) {
    case EIDER_OK: return EXIT_OK;
    case EIDER_ERUNFAILED: return EXIT_RUN_FAILED;
    case EIDER_ECANCELED: return EXIT_CANCELED;
    case EIDER_ECRASHED: return EXIT_CRASHED;
    case EIDER_ESELECT: return EXIT_SELECT;
    case EIDER_EDUPLICATE: case EIDER_EUNKNOWNDEP: case EIDER_ECYCLE: case EIDER_ENORESOURCE:
    case EIDER_ECOMPILE: case EIDER_ELOAD: case EIDER_EAPIVERSION: case EIDER_EINVAL:
        return EXIT_DEFS;
    default: return EXIT_INTERNAL;
    }
}

static void usage(FILE *out)
{
    fprintf(out,
        "usage: eider [--version] [--help] COMMAND [ARGS]\n"
        "\n"
        "Eider materializes software-defined assets into DuckDB.\n"
        "\n"
        "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-13s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out,
        "\n"
        "Definitions come from -f FILE.c (compiled with the system C compiler and cached\n"
        "under .eider/cache beside it), -l FILE.so, or -f eider.yaml (a project of SQL\n"
        "models); without either, from definitions.c, definitions.so or eider.yaml in the\n"
        "current folder. Relative paths inside them are relative to their folder.\n"
        "\n"
        "Runs are recorded in the instance store: $EIDER_STORAGE, which is a folder for\n"
        "SQLite (a path, or sqlite:PATH), a PostgreSQL URL (postgresql://... or\n"
        "postgres://...), libpq key=value settings (host=... dbname=... user=...), or none\n"
        "to record nothing; anything else is refused (exit code 2). Unset, the folder\n"
        "$EIDER_HOME, else .eider beside the definitions. A password is never shown.\n"
        "\n"
        "exit codes:\n"
        "    0  success\n"
        "    1  a run failed: an asset failed, or was skipped because its upstream failed\n"
        "    2  usage: an unknown command or option, a bad argument, or an EIDER_STORAGE\n"
        "       that is none of the forms above\n"
        "    3  definitions: they failed to load, compile or validate\n"
        "    4  selection: the --select expression is malformed or names an unknown asset,\n"
        "       group, tag, kind or owner; 'asset show/wipe' names an unknown asset;\n"
        "       'partitions add/list' names dynamic partitions no definition declares; or\n"
        "       --partition names no partition (or is missing for a partitioned asset)\n"
        "    5  internal: out of memory, or an I/O error outside a run\n"
        "    6  crashed: an asset's code brought the run worker down (a signal such as\n"
        "       SIGSEGV, exit(), kill -9 or the out-of-memory killer, or the kill after its\n"
        "       timeout); the run is recorded crashed. Or the definitions crashed while loading\n"
        "  130  canceled: Ctrl-C or SIGTERM stopped the run (press Ctrl-C twice to quit at once)\n"
        "\n"
        "Run 'eider COMMAND --help' for a command's options.\n");
}

static const cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

int cli_getopt(cli_env *env, const char *shortopts, const struct option *longopts)
{
    char spec[64];
    int c;
    snprintf(spec, sizeof(spec), ":f:l:%s", shortopts);   /* ':' reports a missing value */
    opterr = 0;
    while ((c = getopt_long(env->argc, env->argv, spec, longopts, NULL)) == 'f' || c == 'l' ||
           c == 'V') {
        if (c != 'V') {
            env->defs_path = optarg;
        } else if (!strchr(optarg, '=') || optarg[0] == '=') {
            cli_error("--var '%s': write --var NAME=VALUE", optarg);
            return CLI_GETOPT_ERROR;
        } else if (env->n_vars < sizeof(env->vars) / sizeof(env->vars[0])) {
            env->vars[env->n_vars++] = optarg;
        } else {
            cli_error("more than %zu --var: put them in eider.yaml's vars",
                      sizeof(env->vars) / sizeof(env->vars[0]));
            return CLI_GETOPT_ERROR;
        }
    }
    if (c == '?' || c == ':') {
        const char *arg = env->argv[optind - 1];
        if (c == ':')
            cli_error("option '%s' needs a value: see 'eider %s --help'", arg, env->argv[0]);
        else if (optopt && strncmp(arg, "--", 2) != 0)
            cli_error("unknown option '-%c' for 'eider %s': see 'eider %s --help'", optopt,
                      env->argv[0], env->argv[0]);
        else
            cli_error("unknown option '%s' for 'eider %s': see 'eider %s --help'", arg,
                      env->argv[0], env->argv[0]);
        return CLI_GETOPT_ERROR;
    }
    return c;
}

int cli_check_selection(const char *selection)
{
    if (!selection || selection[strspn(selection, " \t\n\r\f\v")])
        return EXIT_OK;
    cli_error("--select is empty: give a selection, or leave --select out to select every asset");
    return EXIT_SELECT;
}

/* Whether value starts as a number written plainly does: a digit, or '-' or '.' and one
 * (strtol() and strtod() would skip leading white space and take a '+'). */
static int starts_as_number(const char *value)
{
    const char *v = value + (*value == '-');
    return isdigit((unsigned char)*v) || (*v == '.' && isdigit((unsigned char)v[1]));
}

int cli_parse_int(const char *option, const char *value, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || !starts_as_number(value) || end == value || *end || v < min || v > max) {
        cli_error("%s wants a whole number from %ld to %ld, not '%s'", option, min, max, value);
        return EXIT_USAGE;
    }
    *out = v;
    return EXIT_OK;
}

int cli_parse_seconds(const char *option, const char *value, double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(value, &end);
    if (errno || !starts_as_number(value) || end == value || *end || !isfinite(v) || v < 0
        || v > max) {
        cli_error("%s wants seconds from 0 to %g, not '%s'", option, max, value);
        return EXIT_USAGE;
    }
    *out = v;
    return EXIT_OK;
}

/* A JSON string for s; bytes that are not UTF-8 become '?', so that no step is ever
 * dropped from the output for a message with stray bytes in it. */
json_t *cli_json_string(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    char *copy = strdup(s);
    for (char *p = copy; p && *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy ? copy : "");
    free(copy);
    return j;
}

static json_t *meta_value(const eider_meta *m)
{
    switch (m->type) {
    case EIDER_META_INT: return json_integer(m->i);
    case EIDER_META_FLOAT: return json_real(m->f);
    case EIDER_META_BOOL: return json_boolean(m->i);
    case EIDER_META_JSON: {
        json_t *v = json_loads(m->text ? m->text : "null", JSON_DECODE_ANY, NULL);
        return v ? v : cli_json_string(m->text);
    }
    default: return cli_json_string(m->text ? m->text : "");
    }
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int cli_collect_state(const eider_asset_record *rec, void *user_data)
{
    cli_state_list *l = user_data;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        cli_asset_state *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return 1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (cli_asset_state){
        .partition = strdup(rec->partition ? rec->partition : ""),
        .run_id = dup_or_null(rec->run_id), .code_version = dup_or_null(rec->code_version),
        .last_run_id = dup_or_null(rec->last_run_id), .materialized_us = rec->materialized_us,
        .last_us = rec->last_us, .last_failed = rec->last_failed, .duration_s = rec->duration_s,
        .metadata = cli_meta_json(rec->metadata, rec->n_metadata),
    };
    return 0;
}

void cli_state_list_release(cli_state_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].partition);
        free(l->v[i].run_id);
        free(l->v[i].code_version);
        free(l->v[i].last_run_id);
        json_decref(l->v[i].metadata);
    }
    free(l->v);
}

json_t *cli_meta_json(const eider_meta *m, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n && m[i].key; i++)
        json_object_set_new(o, m[i].key, meta_value(&m[i]));
    return o;
}

const char *cli_default_defs(void)
{
    if (access("definitions.c", R_OK) == 0)
        return "definitions.c";
    if (access("definitions.so", R_OK) == 0)
        return "definitions.so";
    if (access("eider.yaml", R_OK) == 0)
        return "eider.yaml";
    return NULL;
}

/* A crash inside the definitions' own code while they load (eider_definitions(), or a
 * constructor): say which file, and with what, instead of dying without a word. The
 * handler runs on a stack of its own, so that a stack overflow is reported too. */
static char loading_path[PATH_MAX];

static void say(const char *s)
{
    if (write(STDERR_FILENO, s, strlen(s)) < 0)
        return;
}

static void on_load_crash(int sig)
{
    char num[16], *p = num + sizeof(num) - 1;
    const char *abbrev = sigabbrev_np(sig);
    *p = '\0';
    for (int n = sig; p > num && (p == num + sizeof(num) - 1 || n); n /= 10)
        *--p = (char)('0' + n % 10);
    /* only write(2) and _exit() here: they are async-signal-safe */
    say("error: the definitions '");
    say(loading_path);
    say("' crashed with SIG");
    say(abbrev ? abbrev : "?");
    say(" (signal ");
    say(p);
    say(") while they were loaded, in eider_definitions() or code it calls: fix them and run "
        "again\n");
    _exit(EXIT_CRASHED);
}

static void guard_loading(const char *path, int on)
{
    static const int signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
    static char alt[64 << 10];
    stack_t ss = { .ss_sp = alt, .ss_size = sizeof(alt) };
    struct sigaction sa = { .sa_handler = on ? on_load_crash : SIG_DFL, .sa_flags = SA_ONSTACK };
    snprintf(loading_path, sizeof(loading_path), "%s", path);
    if (on)
        sigaltstack(&ss, NULL);
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
        sigaction(signals[i], &sa, NULL);
}

/* The --var NAME=VALUE given, on defs before they load. */
static int apply_vars(const cli_env *env, eider_defs *defs)
{
    for (size_t i = 0; i < env->n_vars; i++) {
        char name[256];
        const char *eq = strchr(env->vars[i], '=');
        snprintf(name, sizeof(name), "%.*s", (int)(eq - env->vars[i]), env->vars[i]);
        int rc = eider_defs_var(defs, name, eq + 1);
        if (rc)
            return rc;
    }
    return EIDER_OK;
}

/* eider_defs_load() with a crash in the definitions reported (see guard_loading()). */
static int load_guarded(eider_defs *defs, const char *path)
{
    guard_loading(path, 1);
    int rc = eider_defs_load(defs, path, NULL);
    guard_loading(path, 0);
    return rc;
}

/* Load the definitions, then work from their folder so that their relative paths
 * mean what their author meant. */
static int load_defs(eider_defs *defs, const char *path)
{
    char real[PATH_MAX];
    if (!path && !(path = cli_default_defs())) {
        cli_error("no definitions: pass -f FILE.c, -l FILE.so or -f eider.yaml, or run where "
                  "definitions.c or eider.yaml is");
        return EXIT_USAGE;
    }
    if (!realpath(path, real)) {
        cli_error("cannot read definitions '%s': %s", path, strerror(errno));
        return EXIT_DEFS;
    }
    char *slash = strrchr(real, '/');
    *slash = '\0';
    if (chdir(*real ? real : "/")) {
        cli_error("cannot enter '%s': %s", real, strerror(errno));
        return EXIT_INTERNAL;
    }
    *slash = '/';
    int rc = load_guarded(defs, real);
    fputs(eider_defs_warnings(defs), stderr);    /* the compiler's warnings, once */
    if (rc) {
        cli_error("%s", eider_defs_errmsg(defs));
        return cli_exit_for(rc) == EXIT_INTERNAL ? EXIT_DEFS : cli_exit_for(rc);
    }
    return EXIT_OK;
}

/* Whether argv holds one of the options a or b before "--". */
static int has_option(int argc, char **argv, const char *a, const char *b)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            return 0;
        if (!strcmp(argv[i], a) || (b && !strcmp(argv[i], b)))
            return 1;
    }
    return 0;
}

static int parse_only;

void cli_set_parse_only(int on)
{
    parse_only = on;
}

int cli_parse_only(void)
{
    return parse_only;
}

int cli_load_defs(cli_env *env)
{
    if (parse_only)
        return CLI_PARSED;
    if (env->defs && env->defs_path) {
        cli_error("'%s': this program builds its own definitions, so it takes no -f or -l",
                  env->defs_path);
        return EXIT_USAGE;
    }
    if (env->defs) {
        int rc = eider_defs_validate(env->defs);
        if (rc)
            cli_error("%s", eider_defs_errmsg(env->defs));
        return rc ? cli_exit_for(rc) : EXIT_OK;
    }
    env->owned = env->defs = eider_defs_new();
    if (apply_vars(env, env->defs)) {
        cli_error("%s", eider_defs_errmsg(env->defs));
        return EXIT_USAGE;
    }
    return load_defs(env->defs, env->defs_path);
}

/* A store only read is never written, with one exception worth making when it can be
 * written: the runs whose lease ran out are marked crashed (by a second,
 * writing handle, that also brings an older schema up to date). That handle is opened
 * only when eider_store_writable() says so: by the store's owner (or root), who may
 * write it and its folder. It is safe then: opening to write makes no file but the
 * store's -wal and -shm, and those are the owner's (SQLite gives root's to the owner),
 * so the owner can always write the store afterwards; another user's handle would
 * make them as that user and break the owner's next run. Errors are ignored: a store
 * this process may not write is read as it is. */
static int open_for_reading(cli_env *env)
{
    eider_store *writer = NULL;
    int rc = eider_store_open_readonly(NULL, &env->store);
    if (rc == EIDER_ENOTFOUND) {
        env->store_missing = 1;
        return EIDER_OK;
    }
    if ((rc && rc != EIDER_EAPIVERSION) || !eider_store_writable(NULL))
        return rc;
    if (eider_store_open(NULL, &writer) == EIDER_OK && rc) {
        eider_store_close(env->store);
        rc = eider_store_open_readonly(NULL, &env->store);
    }
    eider_store_close(writer);
    return rc;
}

int cli_open_store(cli_env *env, enum cli_store_use use)
{
    char real[PATH_MAX];
    const char *storage = getenv("EIDER_STORAGE");
    if (parse_only)
        return CLI_PARSED;
    if (storage && strcmp(storage, "none") == 0) {
        if (use == CLI_STORE_OPTIONAL || use == CLI_STORE_SHOW)
            return EXIT_OK;
        cli_error("EIDER_STORAGE is 'none', so nothing is recorded and there is %s: unset it "
                  "to use the store in .eider beside the definitions",
                  use == CLI_STORE_WRITE ? "no store to change" : "nothing to show");
        return EXIT_USAGE;
    }
    if (!env->owned && !env->defs && env->defs_path && !realpath(env->defs_path, real)) {
        cli_error("cannot read definitions '%s': %s", env->defs_path, strerror(errno));
        return EXIT_USAGE;
    }
    if (!env->owned && !env->defs && env->defs_path) {
        env->defs_real = strdup(real);
        char *slash = strrchr(real, '/');
        *slash = '\0';
        if (chdir(*real ? real : "/")) {
            cli_error("cannot enter '%s': %s", real, strerror(errno));
            return EXIT_INTERNAL;
        }
    }
    int rc = use == CLI_STORE_READ || use == CLI_STORE_SHOW ? open_for_reading(env)
           : eider_store_open(NULL, &env->store);
    if (rc) {
        cli_error("%s", eider_store_errmsg(env->store));
        eider_store_close(env->store);
        env->store = NULL;
    }
    if (!rc && env->defs)
        eider_defs_use_store(env->defs, env->store);    /* for stale() in --select */
    if (rc == EIDER_EINVAL)
        return EXIT_USAGE;           /* EIDER_STORAGE is no store Eider can use */
    return rc ? EXIT_INTERNAL : EXIT_OK;
}

eider_defs *cli_quiet_defs(cli_env *env)
{
    const char *path = env->defs_real ? env->defs_real : env->defs_path ? env->defs_path
                     : cli_default_defs();
    if (env->defs) {
        if (eider_defs_validate(env->defs) == EIDER_OK)
            return env->defs;
        free(env->defs_error);
        env->defs_error = strdup(eider_defs_errmsg(env->defs));
        return NULL;
    }
    if (!path)
        return NULL;
    env->owned = env->defs = eider_defs_new();
    if (apply_vars(env, env->defs) == EIDER_OK && load_guarded(env->defs, path) == EIDER_OK)
        return env->defs;
    free(env->defs_error);
    env->defs_error = strdup(eider_defs_errmsg(env->defs));
    eider_defs_free(env->owned);
    env->owned = env->defs = NULL;
    return NULL;
}

static int run_command(eider_defs *given, const cli_command *cmd, int argc, char **argv)
{
    if (has_option(argc, argv, "-h", "--help")) {
        fputs(cmd->help, stdout);
        return EXIT_OK;
    }
    cli_env env = { .defs = given, .argc = argc, .argv = argv };
    optind = 0;    /* getopt starts over for the command */
    json_errors = has_option(argc, argv, "--json", NULL);
    int code = cmd->run(&env);
    if (json_errors && first_error && code != EXIT_OK)
        print_json_error(code);
    free(first_error);
    first_error = NULL;
    eider_store_close(env.store);
    eider_defs_free(env.owned);
    free(env.defs_real);
    free(env.defs_error);
    return code;
}

int eider_main(eider_defs *defs, int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        const cli_command *cmd = argc > 2 ? find_command(argv[2]) : NULL;
        if (cmd)
            fputs(cmd->help, stdout);
        else
            usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("eider %s (API %d, DuckDB %s)\n", eider_version(), EIDER_API_VERSION,
               duckdb_library_version());
        return EXIT_OK;
    }
    const cli_command *cmd = find_command(name);
    if (!cmd) {
        cli_error("unknown command '%s': run 'eider --help' for the list", name);
        return EXIT_USAGE;
    }
    return run_command(defs, cmd, argc - 1, argv + 1);
}

/* Print text indented under a step's line, label before its first line, at most
 * max_lines lines (--json has it whole). */
void cli_print_block(const char *label, const char *text, int max_lines)
{
    const char *line = cli_safe(text);
    int n = 0;
    while (*line && n < max_lines) {
        size_t len = strcspn(line, "\n");
        if (len == 0)
            putchar('\n');
        else
            printf("       %s%.*s\n", n ? (*label ? "     " : "") : label, (int)len, line);
        line += len + (line[len] == '\n');
        n++;
    }
    if (*line)
        printf("       %s... (cut here; --json prints it whole)\n", *label ? "     " : "");
}

/* A duration as people read it: "12.3 ms", "2.10 s", "3 min 12 s". */
const char *cli_human_duration(double seconds, char *buf, size_t size)
{
    if (seconds < 1)
        snprintf(buf, size, "%.1f ms", seconds * 1e3);
    else if (seconds < 120)
        snprintf(buf, size, "%.2f s", seconds);
    else
        snprintf(buf, size, "%d min %d s", (int)(seconds / 60), (int)seconds % 60);
    return buf;
}

/* ---- check outcomes, as eider asset show and GET /api/assets/{key} give them ---- */


int cli_collect_check(const eider_check_record *r, void *user_data)
{
    cli_check_list *l = user_data;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        cli_check_row *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return 1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (cli_check_row){ .name = strdup(r->check_name), .partition = strdup(r->partition),
        .run_id = dup_or_null(r->run_id), .message = dup_or_null(r->message),
        .sql = dup_or_null(r->sql), .time_us = r->time_us, .status = r->status,
        .severity = r->severity, .blocking = r->blocking,
        .metadata = cli_meta_json(r->metadata, r->n_metadata) };
    return 0;
}

void cli_check_list_release(cli_check_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].partition);
        free(l->v[i].run_id);
        free(l->v[i].message);
        free(l->v[i].sql);
        json_decref(l->v[i].metadata);
    }
    free(l->v);
}

json_t *cli_checks_json(const cli_check_list *l)
{
    json_t *list = json_array();
    for (size_t i = 0; i < l->n; i++) {
        const cli_check_row *r = &l->v[i];
        json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:I, s:s, s:s, s:b, s:o, s:o, s:O}",
            "name", cli_json_string(r->name), "partition", cli_json_string(r->partition),
            "run_id", cli_json_string(r->run_id), "time_us", (json_int_t)r->time_us,
            "status", eider_check_status_name(r->status),
            "severity", eider_check_severity_name(r->severity), "blocking", r->blocking,
            "message", cli_json_string(r->message), "sql", cli_json_string(r->sql),
            "metadata", r->metadata));
    }
    return list;
}

json_t *cli_lineage_json(const eider_defs *defs, const char *key)
{
    json_t *list = json_array();
    long i = defs && key ? eider_defs_find(defs, key) : -1;
    for (size_t j = 0; i >= 0 && j < eider_defs_column_count(defs, (size_t)i); j++) {
        const char *const *src = NULL;
        const char *col = eider_defs_column(defs, (size_t)i, j, &src);
        json_t *sources = json_array();
        for (size_t s = 0; src && src[s]; s++)
            json_array_append_new(sources, cli_json_string(src[s]));
        json_array_append_new(list, json_pack("{s:o, s:o}", "column", cli_json_string(col),
                                              "sources", sources));
    }
    return list;
}
