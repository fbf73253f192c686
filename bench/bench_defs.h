/*
 * bench_defs.h — the definitions library the command-line benchmarks run (bench_defs.c).
 * Linking bench_defs also gives a program BENCH_EIDER, the path of the `eider` built.
 */
#ifndef BENCH_DEFS_H
#define BENCH_DEFS_H

#include <stddef.h>

/* Write the definitions of n assets (bench_gen_defs; no-ops when noop) to dir/defs.c
 * and build dir/defs.so with the system compiler at -O0; its path into *lib
 * (malloc'd). Returns the compile's seconds. Exits when either step fails. */
double bench_defs_library(const char *dir, size_t n, int noop, char **lib);

#endif
