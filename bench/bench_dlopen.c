/*
 * bench_dlopen.c — the floor under `eider list -l defs.so` for bench_startup: a
 * program linked like the `eider` binary (libeider, so libduckdb too) that starts,
 * dlopens the definitions library the way Eider does (RTLD_NOW | RTLD_LOCAL), calls
 * nothing in it, and exits. What it costs, no CLI can avoid.
 *
 *   bench_dlopen DEFS.so
 */
#include <dlfcn.h>
#include <stdio.h>

#include <eider.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_dlopen DEFS.so (%s)\n", eider_version());
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "bench_dlopen: %s\n", dlerror());
        return 1;
    }
    dlclose(h);
    return 0;
}
