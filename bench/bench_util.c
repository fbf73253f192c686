/*
 * bench_util.c — the helpers every benchmark shares: clock, median, scratch folders,
 * the synthetic asset graph and the printed table.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"


void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void *bench_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        bench_die("out of memory");
    return p;
}

char *bench_strf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        bench_die("bad format '%s'", fmt);
    char *s = bench_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The dependency list of asset i: its predecessor in a chain, every chain's tail for
 * the hub, the hub for a fan-out asset. */
static const char **graph_deps(const bench_graph *g, size_t i)
{
    size_t hub = g->chains * g->chain_len;
    const char **d = NULL;
    if (i < hub && i % g->chain_len == 0) {
        d = bench_xmalloc(sizeof(*d));
        d[0] = NULL;
    } else if (i < hub) {
        d = bench_xmalloc(2 * sizeof(*d));
        d[0] = g->keys[i - 1];
        d[1] = NULL;
    } else if (i == hub) {
        d = bench_xmalloc((g->chains + 1) * sizeof(*d));
        for (size_t c = 0; c < g->chains; c++)
            d[c] = g->keys[(c + 1) * g->chain_len - 1];
        d[g->chains] = NULL;
    } else {
        d = bench_xmalloc(2 * sizeof(*d));
        d[0] = g->keys[hub];
        d[1] = NULL;
    }
    return d;
}

void bench_graph_init(bench_graph *g, size_t n, size_t chain_len)
{
    memset(g, 0, sizeof(*g));
    if (chain_len == 0 || n < chain_len + 2)
        bench_die("a graph of %zu assets cannot hold a chain of %zu", n, chain_len);
    g->chain_len = chain_len;
    g->chains = (n - 2) / chain_len;
    while (g->chains > 1 && n - g->chains * chain_len - 1 < n / 50)
        g->chains--;                /* leave about 2% for the fan-out */
    g->fanout = n - g->chains * chain_len - 1;
    g->n = n;
    g->keys = bench_xmalloc(n * sizeof(*g->keys));
    g->deps = bench_xmalloc(n * sizeof(*g->deps));
    for (size_t i = 0; i < n; i++)
        g->keys[i] = bench_strf("t_%zu", i);
    for (size_t i = 0; i < n; i++)
        g->deps[i] = graph_deps(g, i);
}

void bench_graph_release(bench_graph *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->keys[i]);
        free(g->deps[i]);
    }
    free(g->keys);
    free(g->deps);
    memset(g, 0, sizeof(*g));
}

char *bench_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char *dir = bench_strf("%s/eider-bench-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    if (!mkdtemp(dir))
        bench_die("cannot create a scratch folder '%s'", dir);
    return dir;
}

void bench_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *path = bench_strf("%s/%s", dir, e->d_name);
        unlink(path);
        free(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

void bench_remove_db(const char *path)
{
    char *wal = bench_strf("%s.wal", path);
    unlink(path);
    unlink(wal);
    free(wal);
}

void bench_table_header(const char *title, const char *raw_what)
{
    printf("\n%s\n  raw: %s\n", title, raw_what);
    printf("  %-28s %12s %12s %8s  %s\n", "case", "raw s", "eider s", "ratio", "note");
}

void bench_table_row(const char *name, double raw_s, double eider_s, const char *note)
{
    printf("  %-28s %12.6f %12.6f %8.3f  %s\n", name, raw_s, eider_s,
           raw_s > 0 ? eider_s / raw_s : 0.0, note ? note : "");
    fflush(stdout);
}

double bench_run(const char *const *argv, const char *cwd, const char *out_path,
                 const char *const *env)
{
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork failed");
    if (pid == 0) {
        int fd = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || chdir(cwd) != 0)
            _exit(126);
        for (size_t i = 0; env && env[i]; i += 2)
            if ((env[i + 1] ? setenv(env[i], env[i + 1], 1) : unsetenv(env[i])) != 0)
                _exit(126);
        execv(argv[0], (char *const *)argv);
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

size_t bench_count_lines(const char *path)
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

int bench_apart(void (*fn)(void *arg, void *out), void *arg, void *out, size_t size)
{
    int fd[2], status = 0, ok;
    fflush(stdout);
    fflush(stderr);
    if (pipe(fd))
        bench_die("pipe failed");
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork failed");
    if (pid == 0) {
        close(fd[0]);
        fn(arg, out);
        _exit(write(fd[1], out, size) == (ssize_t)size ? 0 : 1);
    }
    close(fd[1]);
    ok = read(fd[0], out, size) == (ssize_t)size;
    close(fd[0]);
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status) && ok ? 0 : -1;
}

void bench_copy_db(const char *from, const char *to)
{
    bench_remove_db(to);
    const char *argv[] = { "/bin/cp", from, to, NULL };
    bench_run(argv, ".", NULL, NULL);
}

void bench_exec(duckdb_connection con, const char *sql)
{
    duckdb_result res;
    if (duckdb_query(con, sql, &res) == DuckDBError)
        bench_die("raw DuckDB: %s: %s", duckdb_result_error(&res), sql);
    duckdb_destroy_result(&res);
}

long bench_status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, field, strlen(field)) == 0)
            kb = strtol(line + strlen(field), NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

/* What bench_peak_apart() runs in its child, and what the child sends back. */
typedef struct peak_call {
    void (*fn)(void *arg, void *out);
    void *arg;
} peak_call;

typedef struct peak_out {
    double growth;
    unsigned char out[256];
} peak_out;

static void peak_child(void *arg, void *out)
{
    const peak_call *c = arg;
    peak_out *o = out;
    FILE *clear = fopen("/proc/self/clear_refs", "w");
    if (clear) {
        fputs("5", clear);
        fclose(clear);
    }
    long base = bench_status_kb("VmRSS:");
    c->fn(c->arg, o->out);
    long top = bench_status_kb("VmHWM:");
    o->growth = base < 0 || top < 0 ? -1 : (double)(top - base) * 1024.0;
}

int bench_peak_apart(void (*fn)(void *arg, void *out), void *arg, void *out, size_t size,
                     double *growth)
{
    peak_call c = { fn, arg };
    peak_out o = { .growth = -1 };
    if (size > sizeof(o.out))
        bench_die("bench_peak_apart: %zu bytes to send back, at most %zu", size, sizeof(o.out));
    int rc = bench_apart(peak_child, &c, &o, sizeof(o));
    if (!rc && out)
        memcpy(out, o.out, size);
    *growth = o.growth;
    return rc || o.growth < 0 ? -1 : 0;
}
