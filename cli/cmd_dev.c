/*
 * cmd_dev.c — `eider dev`: load the definitions and serve the web UI and its JSON API
 * (server/) until Ctrl-C or SIGTERM; runs launched through it execute in run workers,
 * several at once when they share no DuckDB file.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "cli.h"
#include "../server/server.h"

#define MAX_CONCURRENT_DEFAULT 4

static const char help[] =
    "usage: eider dev [-f FILE.c | -l FILE.so] [--port N] [--host ADDRESS] [--auth-token T]\n"
    "                 [--max-concurrent-runs N]\n"
    "\n"
    "Serve the web UI at / (the lineage graph, the catalog, asset and run pages;\n"
    "EIDER_UI_DIR=DIR serves its files from DIR instead of the binary) and its JSON API\n"
    "under /api (docs/api.md) over the definitions and the instance store: the assets\n"
    "with their status, each asset's detail and history, the asset graph laid out, the\n"
    "recorded runs and their events, live events (Server-Sent Events on GET /api/events\n"
    "and GET /api/runs/ID/events), and launching, canceling and re-executing runs. A run\n"
    "executes in a run worker, so that a crash in an asset fails that run only; the run\n"
    "launcher, a process of one thread started with the server, forks them. Launched\n"
    "runs are queued: several run at once, up to --max-concurrent-runs, but two that may\n"
    "open the same DuckDB file never do (the later one waits its turn, queued); `eider\n"
    "materialize` in a terminal meanwhile works and shows up live. When the definitions'\n"
    "file changes (looked at each second) — or a file they read: an SQL model, its\n"
    "folder, its YAML — or on POST /api/reload, they are loaded\n"
    "again; if they fail (a compile error, a cycle) the error is reported (GET /api/defs,\n"
    "the UI) and the last good ones stay in use. Definitions that fail at start are\n"
    "served the same way, with no assets until the file is fixed (a missing file is\n"
    "still an error). It prints the URL it serves and its token. Listening on loopback\n"
    "(the default), the page it serves carries the token, and state-changing requests\n"
    "must send it (header X-Eider-Token); on any other address the page does not carry\n"
    "it (the UI asks for it) and every API request, reads too, must send it. Ctrl-C or\n"
    "SIGTERM stops it, ending the live streams and canceling the runs it launched.\n"
    "\n"
    CLI_DEFS_HELP
    "      --port N          the TCP port (default 3000; 0: any free port, printed)\n"
    "      --host ADDRESS    the address to listen on (default 127.0.0.1). Another than\n"
    "                        loopback needs --auth-token, or it refuses to start\n"
    "      --auth-token T    the token requests must send (default: a new random one at\n"
    "                        each start)\n"
    "      --max-concurrent-runs N\n"
    "                        how many launched runs may go at once (1 to 64, default 4);\n"
    "                        runs that may open one DuckDB file wait for each other\n";

typedef struct dev_args {
    const char *host, *token;
    long port, max_concurrent;
} dev_args;

static int parse_args(cli_env *env, dev_args *a)
{
    static const struct option options[] = {
        CLI_DEFS_OPTIONS, { "port", required_argument, NULL, 'p' },
        { "host", required_argument, NULL, 'H' }, { "auth-token", required_argument, NULL, 'T' },
        { "max-concurrent-runs", required_argument, NULL, 'M' }, { 0 },
    };
    int c, code = EXIT_OK;
    while (!code && (c = cli_getopt(env, "", options)) != -1) {
        if (c == 'p')
            code = cli_parse_int("--port", optarg, 0, 65535, &a->port);
        else if (c == 'H')
            a->host = optarg;
        else if (c == 'T')
            a->token = optarg;
        else if (c == 'M')
            code = cli_parse_int("--max-concurrent-runs", optarg, 1, 64, &a->max_concurrent);
        else
            return EXIT_USAGE;
    }
    if (!code && optind < env->argc) {
        cli_error("unexpected argument '%s': eider dev takes options only (see --help)",
                  env->argv[optind]);
        return EXIT_USAGE;
    }
    if (!code && env->n_vars) {      /* a reload loads the definitions again, without them */
        cli_error("eider dev takes no --var: put the SQL models' variables in eider.yaml's vars");
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

/* The definitions failed at start (the message is printed already): serve none, the
 * error reported as a failed reload's (in *error, malloc'd), until the file loads. A
 * validated empty set in env->defs instead of the failed load. */
static int start_without_defs(cli_env *env, const char *path, char **error)
{
    *error = strdup(eider_defs_errmsg(env->owned));
    eider_defs_free(env->owned);
    env->owned = env->defs = eider_defs_new();
    if (!*error || eider_defs_validate(env->defs)) {
        cli_error("out of memory");
        return EXIT_INTERNAL;
    }
    fprintf(stderr, "eider dev: serving with no assets until the definitions '%s' load: fix "
            "them and save the file (it is looked at each second)\n", path);
    return EXIT_OK;
}

/* The definitions again, for the server's thread (srv.defs): path is where the first
 * load found them (an empty set when they failed: failed). A program that gave its
 * own definitions has them once: the server then shares them with the run queue. */
static int load_again(cli_env *env, const char *path, int failed, eider_defs **out)
{
    *out = NULL;
    if (!env->owned || !path)
        return EXIT_OK;
    *out = eider_defs_new();
    int rc = failed ? EIDER_OK : eider_defs_load(*out, path, NULL);
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

/* Where the definitions come from (as cli_load_defs() looks for them), made absolute
 * into real; 0 when they are the program's own, or there is no such file. */
static int defs_file(const cli_env *env, char real[PATH_MAX])
{
    const char *path = env->defs_path;
    if (env->defs)
        return 0;
    if (!path && !(path = cli_default_defs()))
        return 0;
    return realpath(path, real) != NULL;
}

/* The run launcher, started while this is the program's only thread (eider.h), so
 * that the run workers it forks inherit no lock the server's threads hold. */
static int start_launcher(const eider_defs *defs)
{
    if (eider_launcher_start(defs) == EIDER_OK)
        return EXIT_OK;
    cli_error("cannot start the run launcher: %s", strerror(errno));
    return EXIT_INTERNAL;
}

/* Fill in what the server knows of its definitions: where they come from, when. */
static void set_defs(srv *s, eider_defs *defs, const char *path)
{
    struct stat st;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    s->defs = defs;
    s->defs_version = 1;
    s->defs_path = path;
    s->loaded_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    if (path && stat(path, &st) == 0)
        s->defs_mtime = st.st_mtim;
    s->sources_sig = eider_defs_sources_signature(defs);
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->reload_lock, NULL);
}

static int run(cli_env *env)
{
    dev_args a = { .host = "127.0.0.1", .port = 3000, .max_concurrent = MAX_CONCURRENT_DEFAULT };
    srv s = { 0 };
    eider_defs *reads = NULL;
    char real[PATH_MAX], *defs_error = NULL;
    int code = parse_args(env, &a);
    if (!code && cli_parse_only())
        return CLI_PARSED;
    int have_path = !code && defs_file(env, real);
    if (!code)
        code = cli_load_defs(env);
    if (code == EXIT_DEFS && have_path && env->owned)
        code = start_without_defs(env, real, &defs_error);
    if (!code)
        code = start_launcher(env->defs);
    if (!code)
        code = cli_open_store(env, CLI_STORE_OPTIONAL);
    if (!code)
        code = load_again(env, have_path ? real : NULL, defs_error != NULL, &reads);
    if (code) {
        eider_launcher_stop();
        free(defs_error);
        return code;
    }
    s.host = a.host;
    s.port = (int)a.port;
    s.max_concurrent = (int)a.max_concurrent;
    set_defs(&s, reads ? reads : env->defs, reads ? real : NULL);
    if (defs_error)
        srv_defs_failed_at_start(&s, defs_error);
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
    if (srv_queue_start(&s.queue, &s, env->defs, reads ? real : NULL, s.max_concurrent)) {
        cli_error("cannot start the run queue's threads");
        eider_launcher_stop();
        eider_defs_free(reads);
        return EXIT_INTERNAL;
    }
    code = srv_serve(&s);
    srv_queue_stop(&s.queue);
    eider_launcher_stop();
    srv_live_stop(&s.live);
    if (s.defs != env->defs)
        eider_defs_free(s.defs);
    free(s.defs_error);
    free(s.defs_error_file);
    api_release(&s);
    return code;
}

const cli_command cli_cmd_dev = { "dev", run, "serve the web UI and the JSON API, and launch runs",
                                  help };
