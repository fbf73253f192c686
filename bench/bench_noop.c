/*
 * bench_noop.c — per-asset overhead of the engine alone: 10,000 no-op assets (the
 * compute function returns 0 and touches no DuckDB) in chains, a fan-in and a
 * fan-out, materialized with jobs=1 and jobs=2. Beside it, plain C calling the same
 * no-op functions in topological order. Prints seconds, the ratio, and microseconds
 * of overhead per asset (target <= 100 us).
 *
 *   bench_noop [--assets N] [--repeat R]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <eider.h>

#include "bench_util.h"

/* Two no-op functions, so the plain loop makes real indirect calls. */
__attribute__((noinline)) static int noop_a(eider_context *ctx)
{
    (void)ctx;
    return 0;
}

__attribute__((noinline)) static int noop_b(eider_context *ctx)
{
    (void)ctx;
    return 0;
}

typedef struct workload {
    bench_graph graph;
    eider_compute_fn *fns;           /* the function of each asset */
} workload;

static void workload_init(workload *w, size_t n)
{
    bench_graph_init(&w->graph, n, 20);
    w->fns = bench_xmalloc(n * sizeof(*w->fns));
    for (size_t i = 0; i < n; i++)
        w->fns[i] = i % 2 ? noop_b : noop_a;
}

static void workload_release(workload *w)
{
    free(w->fns);
    bench_graph_release(&w->graph);
}

/* Plain C: every function once, in index (topological) order. */
static double run_raw(const workload *w)
{
    eider_compute_fn *volatile fns = w->fns;
    volatile int sink = 0;
    double t0 = bench_now();
    for (size_t i = 0; i < w->graph.n; i++)
        sink += fns[i](NULL);
    (void)sink;
    return bench_now() - t0;
}

static eider_defs *build_defs(const workload *w)
{
    eider_defs *defs = eider_defs_new();
    if (!defs)
        bench_die("eider_defs_new: out of memory");
    for (size_t i = 0; i < w->graph.n; i++)
        eider_asset(defs, &(eider_asset_def){ .key = w->graph.keys[i], .compute = w->fns[i],
                                              .deps = w->graph.deps[i] });
    if (eider_defs_validate(defs))
        bench_die("eider_defs_validate: %s", eider_defs_errmsg(defs));
    return defs;
}

/* Eider: build + validate the definitions (*defs_s) and materialize them (*run_s). */
static void run_eider(const workload *w, int jobs, double *defs_s, double *run_s)
{
    eider_result *result = NULL;
    double t0 = bench_now();
    eider_defs *defs = build_defs(w);
    double t1 = bench_now();
    int rc = eider_materialize(defs, &(eider_run_options){ .jobs = jobs }, &result);
    if (rc)
        bench_die("eider (jobs=%d): %s", jobs, eider_strerror(rc));
    eider_result_free(result);
    eider_defs_free(defs);
    *defs_s = t1 - t0;
    *run_s = bench_now() - t1;
}

static void parse_args(int argc, char **argv, size_t *n, int *repeat)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--assets") && i + 1 < argc)
            *n = (size_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            *repeat = atoi(argv[++i]);
        else
            bench_die("usage: bench_noop [--assets N] [--repeat R]");
    }
    if (*repeat < 1 || *repeat > 100)
        bench_die("--repeat must be 1 to 100");
}

/* Medians of one case: plain C, definitions, materialization. */
typedef struct figures {
    double raw, defs, run;
} figures;

static figures measure(const workload *w, int jobs, int repeat)
{
    double *raw = bench_xmalloc((size_t)repeat * sizeof(double));
    double *defs = bench_xmalloc((size_t)repeat * sizeof(double));
    double *run = bench_xmalloc((size_t)repeat * sizeof(double));
    for (int r = 0; r < repeat; r++) {
        raw[r] = run_raw(w);
        run_eider(w, jobs, &defs[r], &run[r]);
    }
    figures f = { bench_median(raw, (size_t)repeat), bench_median(defs, (size_t)repeat),
                  bench_median(run, (size_t)repeat) };
    free(raw);
    free(defs);
    free(run);
    return f;
}

static void print_case(const workload *w, int jobs, const figures *f)
{
    double n = (double)w->graph.n, total = f->defs + f->run;
    char *name = bench_strf("eider jobs=%d", jobs);
    char *note = bench_strf("%.2f us/asset overhead (defs %.2f + run %.2f); target <= 100",
                            (total - f->raw) * 1e6 / n, f->defs * 1e6 / n,
                            (f->run - f->raw) * 1e6 / n);
    bench_table_row(name, f->raw, total, note);
    free(name);
    free(note);
}

int main(int argc, char **argv)
{
    size_t n = 10000;
    int repeat = 5;
    parse_args(argc, argv, &n, &repeat);
    workload w = { 0 };
    workload_init(&w, n);
    figures warm = measure(&w, 1, 1);
    (void)warm;
    figures j1 = measure(&w, 1, repeat), j2 = measure(&w, 2, repeat);
    char *title = bench_strf("bench_noop: %zu no-op assets (%zu chains of %zu, fan-in of %zu, "
                             "fan-out of %zu), no DuckDB; median of %d", w.graph.n,
                             w.graph.chains, w.graph.chain_len, w.graph.chains,
                             w.graph.fanout, repeat);
    bench_table_header(title, "a plain loop calling the same no-op functions in "
                              "topological order");
    print_case(&w, 1, &j1);
    print_case(&w, 2, &j2);
    free(title);
    workload_release(&w);
    return 0;
}
