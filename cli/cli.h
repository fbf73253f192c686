/*
 * cli.h — the `eider` command line, built on the public API alone. Each command
 * lives in its own file (cmd_*.c) with its help text beside it, and is dispatched
 * from the table in cli.c.
 */
#ifndef EIDER_CLI_H
#define EIDER_CLI_H

#include <getopt.h>
#include <stdio.h>

#include <jansson.h>

#include "eider.h"

/* Exit codes, listed in `eider --help`. CLI_PARSED is never one: see cli_set_parse_only(). */
enum eider_exit {
    EXIT_OK = 0,
    EXIT_RUN_FAILED = 1,    /* an asset failed or was skipped */
    EXIT_USAGE = 2,         /* a bad option or argument */
    EXIT_DEFS = 3,          /* definitions failed to load, compile or validate */
    EXIT_SELECT = 4,        /* a bad selection or partition */
    EXIT_INTERNAL = 5,      /* anything else: out of memory, I/O */
    EXIT_CRASHED = 6,       /* user code crashed: the run worker died (a signal, exit(),
                             * a kill, a timeout's kill), or the definitions did while
                             * loading */
    EXIT_CANCELED = 130,    /* canceled by Ctrl-C (SIGINT) or SIGTERM, as shells report SIGINT */
    CLI_PARSED = 200,       /* parse-only mode: the arguments were read, nothing was done */
};

/* Parse-only mode, for the fuzz target of the command line (tests/fuzz/fuzz_cli.c):
 * eider_main() reads a command's arguments as always, then stops where the command
 * would first load definitions, open the store or write a file, and returns
 * CLI_PARSED. Not for two threads at once. */
void cli_set_parse_only(int on);
int cli_parse_only(void);

/* What every command gets: its arguments (argv[0] is the command's name) and the
 * definitions — given by a program that called eider_main(), or loaded by
 * cli_load_defs() from the -f/-l option that cli_getopt() found. */
typedef struct cli_env {
    eider_defs *defs;
    const char *defs_path;  /* -f or -l, or NULL */
    eider_defs *owned;      /* what cli_load_defs() loaded, freed after the command */
    eider_store *store;     /* what cli_open_store() opened, closed after the command */
    char *defs_real;        /* -f/-l made absolute by cli_open_store(), freed after it */
    int store_missing;      /* CLI_STORE_READ found no store: nothing is recorded yet */
    char *defs_error;       /* why cli_quiet_defs() found none though there are some */
    int argc;
    char **argv;
    const char *vars[64];   /* --var NAME=VALUE, as given */
    size_t n_vars;
} cli_env;

typedef struct cli_command {
    const char *name;
    int (*run)(cli_env *env);
    const char *summary;
    const char *help;       /* the command's --help text */
} cli_command;

extern const cli_command cli_cmd_list;
extern const cli_command cli_cmd_materialize;
extern const cli_command cli_cmd_check;
/* eider materialize, or with checks_only eider check (cmd_materialize.c). */
int cli_materialize_run(cli_env *env, int checks_only);
extern const cli_command cli_cmd_new;
extern const cli_command cli_cmd_runs;
extern const cli_command cli_cmd_run;
extern const cli_command cli_cmd_logs;
extern const cli_command cli_cmd_asset;
extern const cli_command cli_cmd_gc;
extern const cli_command cli_cmd_partitions;
extern const cli_command cli_cmd_dev;

/* How a command uses the instance store. */
enum cli_store_use {
    CLI_STORE_OPTIONAL,     /* records into it if there is one (made if missing) */
    CLI_STORE_WRITE,        /* changes it (wipe, gc): made if missing, refused when none */
    CLI_STORE_READ,         /* only reads it: opened read-only, never made; when there is
                             * none yet, env->store_missing is set and env->store reads
                             * as an empty store (nothing recorded) */
    CLI_STORE_SHOW,         /* only reads it (list): as READ, but EIDER_STORAGE=none is no
                             * error (env->store stays NULL: no status to show) */
};

/* Open the instance store into env->store: $EIDER_STORAGE, else the folder
 * $EIDER_HOME, else .eider in the definitions' folder (where cli_load_defs() works; a
 * command that loads no definitions uses the folder of -f/-l, or the current one).
 * Loaded definitions are told to use it, so that --select takes stale(). With
 * EIDER_STORAGE=none nothing is opened: env->store stays NULL, which a command that
 * uses the store as WRITE or READ refuses. On error prints it and returns the exit
 * code. */
int cli_open_store(cli_env *env, enum cli_store_use use);

/* ---- terminal habits (term.c) ---- */

/* What a stream may use: color, and a live status line redrawn in place. */
typedef struct cli_term {
    int color;
    int live;
} cli_term;
/* The decision, given whether the stream is a terminal and $NO_COLOR and $TERM: a
 * terminal gets a live line unless TERM=dumb, and color unless NO_COLOR is set (and
 * not empty) or TERM=dumb. */
cli_term cli_term_decide(int is_tty, const char *no_color, const char *term);
/* The decision for f in this process's environment. */
cli_term cli_term_of(FILE *f);

/* Text from user code or DuckDB, safe to print: control characters other than newline
 * and tab (ESC, CR, DEL, C1) written as \xNN. Valid until 8 more calls; "" for NULL.
 * Not for two threads at once. */
const char *cli_safe(const char *s);
/* s as one word for a POSIX shell: as it is when that is safe, else in single quotes
 * ('it'\''s'). Valid until the next call. */
const char *cli_shell_word(const char *s);
/* A failure message as cli_safe() makes it, and a paragraph that repeats the one
 * before it (DuckDB's "LINE 1:" caret block) dropped. Valid as cli_safe()'s. */
const char *cli_message(const char *s);

/* Print text indented under a step's line, label ("sql: ") before its first line, at
 * most max_lines lines, then a note that --json has it whole. */
void cli_print_block(const char *label, const char *text, int max_lines);

/* A duration as people read it ("12.3 ms", "2.10 s", "3 min 12 s") into buf; returns buf. */
const char *cli_human_duration(double seconds, char *buf, size_t size);

/* Print "error: ..." to stderr. */
void cli_error(const char *fmt, ...) EIDER_PRINTF(1, 2);
/* The exit code for a library error code. */
int cli_exit_for(int rc);
/* getopt_long over env's arguments that also takes -f/--file and -l/--library (list
 * CLI_DEFS_OPTIONS in longopts) into env->defs_path, and reports a bad option itself.
 * Returns the next option, -1 at the end, or CLI_GETOPT_ERROR. */
#define CLI_GETOPT_ERROR (-2)
int cli_getopt(cli_env *env, const char *shortopts, const struct option *longopts);
#define CLI_DEFS_OPTIONS \
    { "file", required_argument, NULL, 'f' }, { "library", required_argument, NULL, 'l' }, \
    { "var", required_argument, NULL, 'V' }

/* Load the definitions of -f/-l (or definitions.c here) unless a program gave them,
 * and validate them; prints the error. Returns an exit code. */
int cli_load_defs(cli_env *env);
/* The definitions of the current folder, as cli_load_defs() finds them without -f or
 * -l: definitions.c, definitions.so or eider.yaml; NULL when there are none. */
const char *cli_default_defs(void);

/* A --select given blank is refused (EXIT_SELECT), by every command alike: leaving
 * --select out selects everything, an empty one is a mistake. NULL is fine. */
int cli_check_selection(const char *selection);

/* For the commands that only read the store: the definitions if they can be had
 * without a word (given by the program, or -f/-l or definitions.c loaded with nothing
 * printed), to tell an unknown asset from one never materialized. NULL when there
 * are none, or they fail to load or validate: then env->defs_error says why. */
eider_defs *cli_quiet_defs(cli_env *env);

/* Parse an option's value strictly (as written plainly: no white space around it, no
 * '+'), or print why not and return EXIT_USAGE. */
int cli_parse_int(const char *option, const char *value, long min, long max, long *out);
int cli_parse_seconds(const char *option, const char *value, double max, double *out);

/* ---- backfills (backfill.c): --per-partition and --resume, as several runs ---- */

/* One partitioning of a backfill: the selected partitioned assets whose partitions
 * (as the backfill names them) are the same keys, which its runs take in turn. */
typedef struct partitioning {
    char **keys;
    size_t n;
    unsigned char *assets;           /* its assets: one byte per asset */
    char *selection;                 /* its runs' selection; NULL: the user's own */
    unsigned char *done;             /* --resume: keys all its assets succeeded for */
} partitioning;

/* A backfill run as several runs, one partitioning after another. */
typedef struct backfill {
    int per_partition, resume;
    partitioning *sets;
    size_t n_sets;
    unsigned char *selected;         /* the user's selection, one byte per asset */
    unsigned char *lacking;          /* its partitioned assets without the range's keys */
} backfill;

/* The note that a run left assets out of its selection, on stderr, in two halves around
 * the assets' names (cmd_materialize.c): n of them, left out for why. */
void left_out_note_start(eider_left_out_why why, size_t n);
void left_out_note_end(eider_left_out_why why, size_t n, const char *partition);

/* How a backfill runs one of its runs: once() materializes with o (its partition and
 * selection set) and prints the outcome, returning the library's code; json says where
 * the backfill's own lines go (stderr under --json). */
typedef struct backfill_runner {
    int (*once)(eider_run_options *o, void *user_data);
    void *user_data;
    int json;
} backfill_runner;

/* Group the selected partitioned assets into partitionings; *one_run is set when the
 * backfill is better run as one run (nothing partitioned to split). Prints errors. */
int backfill_keys(eider_defs *defs, const eider_run_options *o, backfill *b, int *one_run);
/* --resume: mark done the keys every asset of a partitioning succeeded for. */
int backfill_done(cli_env *env, backfill *b);
/* Run the partitionings in turn and print the backfill's summary; an exit code. */
int run_backfill(eider_defs *defs, eider_run_options *o, backfill *b,
                 const backfill_runner *runner);
void backfill_release(backfill *b);

/* The JSON of `eider list --json` (the selected assets, sel one byte per asset, with
 * their status st when not NULL and their dynamic partitions from store, may be NULL),
 * for the server of eider dev too. The caller owns it. */
json_t *cli_assets_json(eider_defs *defs, const unsigned char *sel, const eider_asset_status *st,
                        eider_store *store);
/* The JSON of `eider runs --json` (status < 0: any; the newest limit runs after the
 * first offset), of `eider run show --json` for the run whose id is run_id exactly
 * (*out NULL when there is none), and of `eider logs --json` as one array (the events
 * after after_id). They return the store's code (message in eider_store_errmsg());
 * the caller owns *out. */
int cli_runs_json(eider_store *store, int status, size_t offset, size_t limit, json_t **out);
int cli_run_json(eider_store *store, const char *run_id, json_t **out);
int cli_events_json(eider_store *store, const char *run_id, int64_t after_id, json_t **out);

/* The defined key nearest to key, which the definitions lack (the selection's own
 * did-you-mean), into buf; returns buf, or NULL when none is near. */
const char *cli_nearest_key(eider_defs *defs, const char *key, char *buf, size_t size);

/* An asset's records in the store (eider_asset_record), copied so that they outlive
 * the callback: for `eider asset show` and the server's asset detail. */
typedef struct cli_asset_state {
    char *partition, *run_id, *code_version, *last_run_id;   /* partition "" when none */
    int64_t materialized_us, last_us;
    int last_failed;
    double duration_s;                                       /* -1: not known */
    json_t *metadata;                                        /* an object, owned */
} cli_asset_state;

typedef struct cli_state_list {
    cli_asset_state *v;
    size_t n, cap;
} cli_state_list;

/* An eider_asset_fn appending a copy of record to the cli_state_list user_data (start
 * it zeroed); 1 when memory ran out. Free the list with cli_state_list_release(). */
int cli_collect_state(const eider_asset_record *record, void *user_data);
void cli_state_list_release(cli_state_list *l);

/* A check's outcome as the store keeps it, its strings copied. */
typedef struct cli_check_row {
    char *name, *partition, *run_id, *message, *sql;
    int64_t time_us;
    eider_check_status status;
    eider_check_severity severity;
    int blocking;
    json_t *metadata;
} cli_check_row;

typedef struct cli_check_list {
    cli_check_row *v;
    size_t n, cap;
} cli_check_list;

/* An eider_check_fn appending a copy of record to the cli_check_list user_data (start
 * it zeroed); 1 when memory ran out. The list as JSON, and its release. */
int cli_collect_check(const eider_check_record *record, void *user_data);
json_t *cli_checks_json(const cli_check_list *l);
void cli_check_list_release(cli_check_list *l);

/* The column-level lineage of asset key of defs (an SQL model's), as JSON: [{"column",
 * "sources": [...]}], empty for an asset that is no SQL model or when defs is NULL. */
json_t *cli_lineage_json(const eider_defs *defs, const char *key);

/* JSON for the CLI's --json outputs. */
json_t *cli_json_string(const char *s);
json_t *cli_meta_json(const eider_meta *m, size_t n);
#define CLI_DEFS_HELP                                                                     \
    "  -f, --file FILE.c     definitions in C, compiled and cached (default: definitions.c,\n" \
    "                        else eider.yaml), or a project file eider.yaml of SQL models\n" \
    "  -l, --library FILE.so definitions already built as a shared library\n" \
    "      --var NAME=VALUE  a variable of the SQL models ({{ NAME }} in their SQL), over\n" \
    "                        eider.yaml's and the model's own vars\n"

#endif
