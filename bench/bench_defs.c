/*
 * bench_defs.c — a generated definitions library for the benchmarks that time the `eider`
 * command (bench_startup, bench_store, bench_worker): bench_gen_defs writes it, the
 * system compiler builds it. The paths come from CMake (bench/CMakeLists.txt).
 */
#include <stdlib.h>

#include "bench_defs.h"
#include "bench_util.h"

double bench_defs_library(const char *dir, size_t n, int noop, char **lib)
{
    char *src = bench_strf("%s/defs.c", dir), *count = bench_strf("%zu", n);
    *lib = bench_strf("%s/defs.so", dir);
    if (noop)
        bench_run((const char *const[]){ BENCH_GEN, "--noop", count, src, NULL }, dir, NULL, NULL);
    else
        bench_run((const char *const[]){ BENCH_GEN, count, src, NULL }, dir, NULL, NULL);
    double seconds = bench_run((const char *const[]){ BENCH_CC, "-shared", "-fPIC", "-O0",
        "-std=gnu11", "-I" BENCH_INCLUDE, "-I" BENCH_DUCKDB_INCLUDE, "-o", *lib, src, NULL },
        dir, NULL, NULL);
    free(count);
    free(src);
    return seconds;
}
