/*
 * bench_startup.c — start-up with a large project: generates a C definitions file of
 * 10,000 assets (bench_gen_defs), builds it into a shared library with the system
 * compiler, then times `eider list -l defs.so` (stdout to /dev/null), median of 5.
 * Beside it, the floor: bench_dlopen, a program linked like `eider` (libeider and
 * libduckdb) that only dlopens the same library and exits. Target: <= 200 ms.
 *
 *   bench_startup [--assets N] [--repeat R]
 *
 * The definitions library comes from bench_defs.c; the paths of `eider` and bench_dlopen
 * from CMake (BENCH_EIDER, BENCH_DLOPEN).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_defs.h"
#include "bench_util.h"

/* `eider list` must really list every asset: one line each, at least. */
static void check_listing(const char *dir, const char *lib, size_t n)
{
    char *out = bench_strf("%s/list.txt", dir);
    bench_run((const char *const[]){ BENCH_EIDER, "list", "-l", lib, NULL }, dir, out, NULL);
    size_t lines = bench_count_lines(out);
    if (lines < n)
        bench_die("'eider list' printed %zu lines for %zu assets", lines, n);
    free(out);
}

static void parse_args(int argc, char **argv, size_t *n, int *repeat)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--assets") && i + 1 < argc)
            *n = (size_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            *repeat = atoi(argv[++i]);
        else
            bench_die("usage: bench_startup [--assets N] [--repeat R]");
    }
    if (*repeat < 1 || *repeat > 100)
        bench_die("--repeat must be 1 to 100");
}

int main(int argc, char **argv)
{
    size_t n = 10000;
    int repeat = 5;
    parse_args(argc, argv, &n, &repeat);
    char *dir = bench_tmpdir("startup");
    char *lib = NULL;
    double cc_s = bench_defs_library(dir, n, 0, &lib);
    check_listing(dir, lib, n);     /* also the warm-up */
    double *raw = bench_xmalloc((size_t)repeat * sizeof(double));
    double *list = bench_xmalloc((size_t)repeat * sizeof(double));
    for (int r = 0; r < repeat; r++) {
        raw[r] = bench_run((const char *const[]){ BENCH_DLOPEN, lib, NULL }, dir, NULL, NULL);
        list[r] = bench_run((const char *const[]){ BENCH_EIDER, "list", "-l", lib, NULL }, dir, NULL,
                            NULL);
    }
    char *title = bench_strf("bench_startup: 'eider list -l defs.so' with %zu assets "
                             "(library built with -O0 in %.1f s, not timed); median of %d", n,
                             cc_s, repeat);
    bench_table_header(title, "start a program linked to libeider + libduckdb, dlopen "
                              "defs.so (RTLD_NOW), exit");
    bench_table_row("eider list -l", bench_median(raw, (size_t)repeat),
                    bench_median(list, (size_t)repeat), "target eider <= 0.200 s");
    free(raw);
    free(list);
    free(title);
    free(lib);
    bench_rmdir(dir);
    free(dir);
    return 0;
}
