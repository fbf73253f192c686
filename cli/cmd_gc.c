/*
 * cmd_gc.c — `eider gc`: delete the runs that ended long ago, with their events, from
 * the instance store. Each asset's latest materialization stays, so staleness holds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char help[] =
    "usage: eider gc --keep-days N [-f FILE.c | -l FILE.so] [--json]\n"
    "\n"
    "Delete from the instance store the runs that ended more than N days ago, with their\n"
    "events and their materializations — except the latest materialization of each asset\n"
    "(and partition), which 'eider list' and stale() need. Runs still going on are kept.\n"
    "The store is $EIDER_STORAGE, else the folder $EIDER_HOME, else .eider beside the\n"
    "definitions (-f/-l, which are only read for their folder), else in this folder.\n"
    "\n"
    CLI_DEFS_HELP
    "      --keep-days N     keep the runs of the last N days (a number, 0.5 for 12 hours;\n"
    "                        0 deletes every finished run). Required.\n"
    "      --json            print the outcome as JSON\n";

#define MAX_KEEP_DAYS 36500.0

static int parse_days(const char *value, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(value, &end);
    if (errno || end == value || *end || !isfinite(v) || v < 0 || v > MAX_KEEP_DAYS) {
        cli_error("--keep-days wants a number of days from 0 to %g, not '%s'", MAX_KEEP_DAYS, value);
        return EXIT_USAGE;
    }
    *out = v;
    return EXIT_OK;
}

static int parse_args(cli_env *env, double *keep_days, int *json)
{
    static const struct option options[] = {
        CLI_DEFS_OPTIONS, { "keep-days", required_argument, NULL, 'k' },
        { "json", no_argument, NULL, 'J' }, { 0 },
    };
    int c, code = EXIT_OK;
    while (!code && (c = cli_getopt(env, "", options)) != -1) {
        if (c == 'k')
            code = parse_days(optarg, keep_days);
        else if (c == 'J')
            *json = 1;
        else
            return EXIT_USAGE;
    }
    if (code)
        return code;
    if (optind < env->argc) {
        cli_error("unexpected argument '%s': eider gc takes options only (see --help)",
                  env->argv[optind]);
        return EXIT_USAGE;
    }
    if (*keep_days < 0) {
        cli_error("eider gc needs --keep-days N: the runs that ended more than N days ago are "
                  "deleted (0 deletes every finished run)");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

static int run(cli_env *env)
{
    double keep_days = -1;
    int json = 0;
    size_t n = 0;
    int code = parse_args(env, &keep_days, &json);
    if (!code)
        code = cli_open_store(env, CLI_STORE_WRITE);
    if (code)
        return code;
    int rc = eider_store_gc(env->store, keep_days, &n);
    if (rc) {
        cli_error("%s", eider_store_errmsg(env->store));
        return cli_exit_for(rc);
    }
    if (json) {
        json_t *doc = json_pack("{s:f, s:I}", "keep_days", keep_days, "deleted_runs", (json_int_t)n);
        json_dumpf(doc, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(doc);
    } else {
        printf("deleted %zu run%s that ended more than %g day%s ago, with their events, from %s "
               "(each asset's latest materialization is kept)\n", n, n == 1 ? "" : "s", keep_days,
               keep_days == 1 ? "" : "s", eider_store_location(env->store));
    }
    return EXIT_OK;
}

const cli_command cli_cmd_gc = { "gc", run, "delete old runs from the instance store", help };
