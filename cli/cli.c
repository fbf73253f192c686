/*
 * cli.c — eider_main(): the command table, global options, help, and loading the
 * definitions for the commands that need them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const cli_command *const commands[] = {
    &cli_cmd_list,
    &cli_cmd_materialize,
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_exit_for(int rc)
{
    switch (rc) {
    case EIDER_OK: return EXIT_OK;
    case EIDER_ERUNFAILED: return EXIT_RUN_FAILED;
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
        "under .eider/cache beside it) or -l FILE.so; without either, from definitions.c\n"
        "in the current folder. Relative paths inside them are relative to their folder.\n"
        "\n"
        "exit codes:\n"
        "  0  success\n"
        "  1  a run failed: an asset failed, or was skipped because its upstream failed\n"
        "  2  usage: an unknown command or option, or a bad argument\n"
        "  3  definitions: they failed to load, compile or validate\n"
        "  4  selection: the --select expression is malformed or names an unknown asset\n"
        "  5  internal: out of memory, or an I/O error outside a run\n"
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

/* Pull -f/-l out of argv (they may appear anywhere after the command), leaving the
 * rest for the command's own parser. */
static int take_defs_option(int *argc, char **argv, const char **path)
{
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i], *val = NULL;
        int used = 0;
        if (!strcmp(a, "--"))
            break;
        if (!strcmp(a, "-f") || !strcmp(a, "-l") || !strcmp(a, "--file") || !strcmp(a, "--library")) {
            if (i + 1 >= *argc) {
                cli_error("option '%s' needs a file: %s FILE", a, a);
                return EXIT_USAGE;
            }
            val = argv[i + 1];
            used = 2;
        } else if (!strncmp(a, "--file=", 7) || !strncmp(a, "--library=", 10)) {
            val = strchr(a, '=') + 1;
            used = 1;
        } else if ((!strncmp(a, "-f", 2) || !strncmp(a, "-l", 2)) && a[2]) {
            val = a + 2;
            used = 1;
        }
        if (!used)
            continue;
        *path = val;
        memmove(&argv[i], &argv[i + used], (size_t)(*argc - i - used + 1) * sizeof(*argv));
        *argc -= used;
        i--;
    }
    return EXIT_OK;
}

static const char *default_defs(void)
{
    if (access("definitions.c", R_OK) == 0)
        return "definitions.c";
    if (access("definitions.so", R_OK) == 0)
        return "definitions.so";
    return NULL;
}

/* Load the definitions, then work from their folder so that their relative paths
 * mean what their author meant. */
static int load_defs(eider_defs *defs, const char *path)
{
    char real[PATH_MAX];
    if (!path && !(path = default_defs())) {
        cli_error("no definitions: pass -f FILE.c or -l FILE.so, or run where definitions.c is");
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
    int rc = eider_defs_load(defs, real, NULL);
    if (rc) {
        fprintf(stderr, "error: %s\n", eider_defs_errmsg(defs));
        return cli_exit_for(rc) == EXIT_INTERNAL ? EXIT_DEFS : cli_exit_for(rc);
    }
    return EXIT_OK;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            return 0;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return 1;
    }
    return 0;
}

static int run_command(eider_defs *given, const cli_command *cmd, int argc, char **argv)
{
    const char *path = NULL;
    eider_defs *owned = NULL;
    int code = EXIT_OK;
    if (wants_help(argc, argv)) {
        fputs(cmd->help, stdout);
        return EXIT_OK;
    }
    if (cmd->needs_defs && !given) {
        if ((code = take_defs_option(&argc, argv, &path)))
            return code;
        owned = eider_defs_new();
        if ((code = load_defs(owned, path)))
            goto out;
    } else if (cmd->needs_defs) {
        int rc = eider_defs_validate(given);
        if (rc) {
            fprintf(stderr, "error: %s\n", eider_defs_errmsg(given));
            return cli_exit_for(rc);
        }
    }
    cli_env env = { .defs = given ? given : owned, .argc = argc, .argv = argv };
    optind = 0;    /* getopt starts over for the command */
    code = cmd->run(&env);
out:
    eider_defs_free(owned);
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
