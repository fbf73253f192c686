/*
 * cli.h — the `eider` command line, built on the public API alone. Each command
 * lives in its own file (cmd_*.c) with its help text beside it, and is dispatched
 * from the table in cli.c.
 */
#ifndef EIDER_CLI_H
#define EIDER_CLI_H

#include <stdio.h>

#include "eider.h"

/* Exit codes, listed in `eider --help`. */
enum eider_exit {
    EXIT_OK = 0,
    EXIT_RUN_FAILED = 1,    /* an asset failed or was skipped */
    EXIT_USAGE = 2,         /* a bad option or argument */
    EXIT_DEFS = 3,          /* definitions failed to load, compile or validate */
    EXIT_SELECT = 4,        /* a bad selection */
    EXIT_INTERNAL = 5,      /* anything else: out of memory, I/O */
};

/* What every command gets: the definitions (loaded for commands that need them) and
 * its arguments, argv[0] being the command's name. */
typedef struct cli_env {
    eider_defs *defs;
    int argc;
    char **argv;
} cli_env;

typedef struct cli_command {
    const char *name;
    int (*run)(cli_env *env);
    int needs_defs;
    const char *summary;
    const char *help;       /* the command's --help text */
} cli_command;

extern const cli_command cli_cmd_list;
extern const cli_command cli_cmd_materialize;

/* Print "error: ..." to stderr. */
void cli_error(const char *fmt, ...) EIDER_PRINTF(1, 2);
/* The exit code for a library error code. */
int cli_exit_for(int rc);
/* Options every defs-needing command accepts, for getopt_long tables. */
#define CLI_DEFS_OPTIONS \
    { "file", required_argument, NULL, 'f' }, { "library", required_argument, NULL, 'l' }
#define CLI_DEFS_HELP                                                                     \
    "  -f, --file FILE.c     definitions in C, compiled and cached (default: definitions.c)\n" \
    "  -l, --library FILE.so definitions already built as a shared library\n"

#endif
