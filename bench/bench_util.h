/*
 * bench_util.h — what the benchmarks share: a monotonic clock, medians, scratch
 * folders, the synthetic asset graph (chains, a fan-in and a fan-out), and the table
 * every benchmark prints (our figure beside raw DuckDB's or plain C's, as a ratio).
 */
#ifndef EIDER_BENCH_UTIL_H
#define EIDER_BENCH_UTIL_H

#include <duckdb.h>

#include <stddef.h>

#include "../src/util/banned.h"     /* no strcpy, sprintf, strtok, gets: as in src/ */

/* Seconds on a monotonic clock. */
double bench_now(void);

/* CPU seconds of this process, every thread counted (DuckDB's workers too). */
double bench_cpu_now(void);

/* The median of n samples (n > 0); sorts v in place. */
double bench_median(double *v, size_t n);

/* The synthetic graph. Assets 0 .. chains*chain_len-1 form `chains` independent
 * chains, each asset depending on the one before it; then a hub that depends on the
 * tail of every chain (fan-in); then `fanout` assets that each depend on the hub.
 * Every dependency points to a lower index, so index order is a topological order. */
typedef struct bench_graph {
    size_t chains, chain_len, fanout;
    size_t n;                        /* chains * chain_len + 1 + fanout */
    char **keys;                     /* "t_<i>" */
    const char ***deps;              /* NULL-terminated key lists, into keys */
} bench_graph;

/* A graph of about n assets: chains of chain_len, fanout so the total is exactly n.
 * Exits the process when n is too small for the shape or memory runs out. */
void bench_graph_init(bench_graph *g, size_t n, size_t chain_len);
void bench_graph_release(bench_graph *g);

/* A new scratch folder under $TMPDIR (or /tmp); the path is malloc'd. Exits on error. */
char *bench_tmpdir(const char *tag);
/* Remove a folder and the files directly in it. */
void bench_rmdir(const char *dir);
/* Remove a DuckDB database file and its WAL. */
void bench_remove_db(const char *path);
/* bench_apart() of fn, measuring memory: the child's high-water mark starts at its RSS
 * (the parent's pages included; writing 5 to clear_refs sets it there again, where the
 * kernel allows it), and *growth gets the growth of its peak RSS over that RSS, in
 * bytes, while fn runs; at most 256 bytes of out come back. 0, or -1 on failure. */
int bench_peak_apart(void (*fn)(void *arg, void *out), void *arg, void *out, size_t size,
                     double *growth);

/* Run one statement on raw DuckDB, or exit naming it and DuckDB's message. */
void bench_exec(duckdb_connection con, const char *sql);
/* A "Vm...:" line of /proc/self/status ("VmHWM:"), in kB; -1 when there is none. */
long bench_status_kb(const char *field);
/* Copy the DuckDB file from to to (to's old file and WAL removed first), outside any
 * clock: each side of a benchmark starts from its own copy. */
void bench_copy_db(const char *from, const char *to);

/* Run argv (argv[0] a path) in the folder cwd with stdout to out_path (NULL: /dev/null)
 * and env's NAME, VALUE pairs set first (VALUE NULL: unset; env NULL-terminated, or
 * NULL); returns the wall seconds. Exits when the program cannot start or fails. */
double bench_run(const char *const *argv, const char *cwd, const char *out_path,
                 const char *const *env);
/* Lines in a file. Exits when it cannot be read. */
size_t bench_count_lines(const char *path);

/* A malloc'd printf. Exits when memory runs out. */
char *bench_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* malloc that exits when memory runs out. */
void *bench_xmalloc(size_t size);

/* The table: a header line, then rows of case, raw s, eider s, ratio and a note. */
void bench_table_header(const char *title, const char *raw_what);
void bench_table_row(const char *name, double raw_s, double eider_s, const char *note);

/* Stop with a message on stderr (benchmarks only: libraries never exit). */
/* Run fn(arg, out) in a forked child (stdout and stderr flushed first), which sends
 * the size bytes at out back to this process's out; 0, or -1 when the child failed. */
int bench_apart(void (*fn)(void *arg, void *out), void *arg, void *out, size_t size);

void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
