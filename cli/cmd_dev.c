/*
 * cmd_dev.c — `eider dev`: load the definitions and serve the JSON API (server/) until
 * Ctrl-C or SIGTERM; runs launched through it execute in run workers, one at a time.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../server/server.h"

static const char help[] =
    "usage: eider dev [-f FILE.c | -l FILE.so] [--port N] [--host ADDRESS] [--auth-token T]\n"
    "\n"
    "Serve a JSON API (docs/api.md) over the definitions and the instance store: the\n"
    "assets with their status, each asset's detail and history, the asset graph laid\n"
    "out, the recorded runs and their events, and launching a run (POST /api/runs:\n"
    "a selection, stale(), a partition or a range A...B), which executes in a run\n"
    "worker so that a crash in an asset fails that run only. Launched runs wait their\n"
    "turn and run one at a time. The web pages are not there yet. It prints the URL it\n"
    "serves and the token that state-changing requests must send (header\n"
    "X-Eider-Token); Ctrl-C or SIGTERM stops it.\n"
    "\n"
    CLI_DEFS_HELP
    "      --port N          the TCP port (default 3000; 0: any free port, printed)\n"
    "      --host ADDRESS    the address to listen on (default 127.0.0.1). Another than\n"
    "                        loopback needs --auth-token, or it refuses to start\n"
    "      --auth-token T    the token state-changing requests must send (default: a new\n"
    "                        random one at each start)\n";

typedef struct dev_args {
    const char *host, *token;
    long port;
} dev_args;

static int parse_args(cli_env *env, dev_args *a)
{
    static const struct option options[] = {
        CLI_DEFS_OPTIONS, { "port", required_argument, NULL, 'p' },
        { "host", required_argument, NULL, 'H' }, { "auth-token", required_argument, NULL, 'T' },
        { 0 },
    };
    int c, code = EXIT_OK;
    while (!code && (c = cli_getopt(env, "", options)) != -1) {
        if (c == 'p')
            code = cli_parse_int("--port", optarg, 0, 65535, &a->port);
        else if (c == 'H')
            a->host = optarg;
        else if (c == 'T')
            a->token = optarg;
        else
            return EXIT_USAGE;
    }
    if (!code && optind < env->argc) {
        cli_error("unexpected argument '%s': eider dev takes options only (see --help)",
                  env->argv[optind]);
        return EXIT_USAGE;
    }
    if (!code && a->token && (!*a->token || strlen(a->token) > SRV_TOKEN_MAX)) {
        cli_error("--auth-token must have 1 to %d characters", SRV_TOKEN_MAX);
        return EXIT_USAGE;
    }
    return code;
}

/* SIGINT and SIGTERM are blocked in every thread (the server's threads inherit it) and
 * taken by sigwait() in srv_serve(). */
static void block_stop_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* The definitions again, for the server's thread (srv.defs): path is where the first
 * load found them. A program that gave its own definitions has them once: the server
 * then shares them with the run queue. */
static int load_again(cli_env *env, const char *path, eider_defs **out)
{
    *out = NULL;
    if (!env->owned || !path)
        return EXIT_OK;
    *out = eider_defs_new();
    int rc = eider_defs_load(*out, path, NULL);
    if (!rc)
        rc = eider_defs_validate(*out);
    if (rc) {
        cli_error("cannot load the definitions '%s' a second time: %s", path,
                  eider_defs_errmsg(*out));
        eider_defs_free(*out);
        *out = NULL;
    }
    return rc ? cli_exit_for(rc) : EXIT_OK;
}

static int run(cli_env *env)
{
    dev_args a = { .host = "127.0.0.1", .port = 3000 };
    srv s = { 0 };
    eider_defs *reads = NULL;
    char real[PATH_MAX];
    int code = parse_args(env, &a);
    if (!code && cli_parse_only())
        return CLI_PARSED;
    int have_path = !code && !env->defs
                  && realpath(env->defs_path ? env->defs_path : "definitions.c", real);
    if (!code)
        code = cli_load_defs(env);
    if (!code)
        code = cli_open_store(env, CLI_STORE_OPTIONAL);
    if (!code)
        code = load_again(env, have_path ? real : NULL, &reads);
    if (code)
        return code;
    s.host = a.host;
    s.port = (int)a.port;
    s.defs = reads ? reads : env->defs;
    s.has_store = env->store != NULL;
    if (a.token)
        snprintf(s.token, sizeof(s.token), "%s", a.token);
    block_stop_signals();
#ifdef __GLIBC__
    /* Large blocks (a reply's text) always from mmap, so that freeing one gives it back:
     * glibc's moving threshold would keep them in the heap, and an idle server big. No
     * fast bins: the JSON trees' many small blocks, freed, made every large request
     * consolidate them (a third of GET /api/assets's CPU with 10,000 assets). */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    mallopt(M_MXFAST, 0);
#endif
    if (srv_queue_start(&s.queue, env->defs, env->store)) {
        cli_error("cannot start the run queue's thread");
        eider_defs_free(reads);
        return EXIT_INTERNAL;
    }
    code = srv_serve(&s);
    srv_queue_stop(&s.queue);
    api_release(&s);
    eider_defs_free(reads);
    return code;
}

const cli_command cli_cmd_dev = { "dev", run, "serve the JSON API and launch runs (no web pages yet)",
                                  help };
