/*
 * bench_startup.c — start-up with a large project: generates a C definitions file of
 * 10,000 assets (bench_gen_defs), builds it into a shared library with the system
 * compiler, then times `eider list -l defs.so` (stdout to /dev/null), median of 5.
 * Beside it, the floor: bench_dlopen, a program linked like `eider` (libeider and
 * libduckdb) that only dlopens the same library and exits. Target: <= 200 ms.
 *
 *   bench_startup [--assets N] [--repeat R]
 *
 * The paths of the compiler, the include folders and the programs come from CMake as
 * compile definitions (BENCH_CC, BENCH_INCLUDE, BENCH_DUCKDB_INCLUDE, BENCH_EIDER,
 * BENCH_GEN, BENCH_DLOPEN).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

/* Run argv in dir with stdout to out_path (NULL: /dev/null); returns the wall time.
 * Exits when the program cannot start or fails. */
static double run_program(const char *dir, const char *out_path, char *const argv[])
{
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork failed");
    if (pid == 0) {
        int fd = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || chdir(dir) != 0)
            _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        bench_die("waitpid failed for '%s'", argv[0]);
    double s = bench_now() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        bench_die("'%s %s' failed (status %d)", argv[0], argv[1] ? argv[1] : "", status);
    return s;
}

/* Lines in a file. */
static size_t count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    int c;
    if (!f)
        bench_die("cannot read '%s'", path);
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* Generate and compile the definitions; returns the compile time. */
static double build_library(const char *dir, size_t n, const char *src, const char *lib)
{
    char *count = bench_strf("%zu", n);
    run_program(dir, NULL, (char *const[]){ BENCH_GEN, count, (char *)src, NULL });
    free(count);
    return run_program(dir, NULL, (char *const[]){ BENCH_CC, "-shared", "-fPIC", "-O0",
        "-std=gnu11", "-I" BENCH_INCLUDE, "-I" BENCH_DUCKDB_INCLUDE, "-o", (char *)lib,
        (char *)src, NULL });
}

/* `eider list` must really list every asset: one line each, at least. */
static void check_listing(const char *dir, const char *lib, size_t n)
{
    char *out = bench_strf("%s/list.txt", dir);
    run_program(dir, out, (char *const[]){ BENCH_EIDER, "list", "-l", (char *)lib, NULL });
    size_t lines = count_lines(out);
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
    char *src = bench_strf("%s/defs.c", dir), *lib = bench_strf("%s/defs.so", dir);
    double cc_s = build_library(dir, n, src, lib);
    check_listing(dir, lib, n);     /* also the warm-up */
    double *raw = bench_xmalloc((size_t)repeat * sizeof(double));
    double *list = bench_xmalloc((size_t)repeat * sizeof(double));
    for (int r = 0; r < repeat; r++) {
        raw[r] = run_program(dir, NULL, (char *const[]){ BENCH_DLOPEN, lib, NULL });
        list[r] = run_program(dir, NULL,
                              (char *const[]){ BENCH_EIDER, "list", "-l", lib, NULL });
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
    free(src);
    free(lib);
    bench_rmdir(dir);
    free(dir);
    return 0;
}
