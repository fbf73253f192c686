/*
 * bench_dev.c — `eider dev` with a large project: starts `eider dev -l defs.so --port 0`
 * on a generated definitions library of 10,000 assets (bench_defs.c; 10 groups,
 * chains, a fan-in and a fan-out) with a fresh EIDER_HOME, and times, over HTTP on
 * loopback:
 *   ready     start to the first 200 on GET /api/assets (the process started, the
 *             library loaded twice, the socket bound)
 *   graph     GET /api/graph: the first (the layout computed) and the next (kept)
 *   assets    GET /api/assets
 *   RSS       the server's VmRSS (/proc/PID/status) once idle after those requests
 *   launch    POST /api/runs of one asset to its step_start event (the event's time_us
 *             minus the time the POST was sent), read from GET /api/runs/ID/events; and
 *             the same after POST /api/reload, when the run's definitions are loaded
 *             anew by the queue and by the worker (from the library: launcher.c)
 * Each beside raw DuckDB doing comparable work in this process, as a ratio: ready
 * against duckdb_open of a fresh file + connect + SELECT 1 + close; the graph and the
 * asset list against DuckDB building a JSON array of 10,000 objects of as many fields
 * (json_group_array over range(10000)) and fetching it; RSS against a forked process
 * that opened a DuckDB file and ran that query; launch against fork + duckdb_open +
 * connect in the child, until it says so through a pipe. Targets: ready <= 300 ms,
 * graph <= 100 ms, RSS <= 50 MB, launch <= 50 ms. Medians of --repeat (default 5).
 * Then the layout alone (server/layout.c, in this process) of a random DAG of as many
 * nodes, where a tenth of the edges come from anywhere before (many long edges).
 *
 *   bench_dev [--assets N] [--repeat R]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <duckdb.h>
#include <jansson.h>

#include "../server/layout.h"
#include "bench_defs.h"
#include "bench_util.h"

#define READY_TIMEOUT_S 60.0

/* The server as started. */
typedef struct server {
    pid_t pid;
    int port;
    char token[129];
    char *out;                       /* its stdout's file */
} server;

static double wall_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec * 1e6 + (double)tv.tv_usec;
}

/* One HTTP/1.1 request on a new connection; the status, the body into *body (malloc'd,
 * may be NULL). -1 when the server cannot be reached. */
static int http(int port, const char *method, const char *path, const char *token,
                const char *body, char **reply)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;
    size_t len = 0, cap = 1 << 16;
    char *buf = bench_xmalloc(cap);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        goto out;
    char *req = bench_strf("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
                           "%s%s%sContent-Length: %zu\r\n\r\n%s", method, path, port,
                           token ? "X-Eider-Token: " : "", token ? token : "", token ? "\r\n" : "",
                           body ? strlen(body) : 0, body ? body : "");
    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
        bench_die("cannot send %s %s", method, path);
    free(req);
    for (ssize_t got; (got = read(fd, buf + len, cap - len - 1)) > 0;) {
        len += (size_t)got;
        if (cap - len < 4096)
            buf = realloc(buf, cap *= 2);
        if (!buf)
            bench_die("out of memory");
    }
    buf[len] = '\0';
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
        status = -1;
out:
    if (fd >= 0)
        close(fd);
    char *start = strstr(buf, "\r\n\r\n");
    if (reply)
        *reply = strdup(start ? start + 4 : "");
    free(buf);
    return status;
}

/* The seconds a GET takes; exits unless it answers 200. */
static double timed_get(const server *s, const char *path)
{
    double t0 = bench_now();
    char *body = NULL;
    int status = http(s->port, "GET", path, NULL, NULL, &body);
    double t = bench_now() - t0;
    if (status != 200)
        bench_die("GET %s answered %d: %.200s", path, status, body ? body : "");
    free(body);
    return t;
}

/* The port and token from the server's output, once it printed them. */
static int read_banner(server *s)
{
    FILE *f = fopen(s->out, "r");
    char line[512];
    int found = 0;
    while (f && fgets(line, sizeof(line), f)) {
        char *p = strstr(line, "serving http://127.0.0.1:");
        if (p)
            s->port = atoi(p + strlen("serving http://127.0.0.1:"));
        if (!strncmp(line, "token for ", 10) && (p = strstr(line, ": "))) {
            snprintf(s->token, sizeof(s->token), "%s", p + 2);
            s->token[strcspn(s->token, "\n")] = '\0';
            found = s->port > 0;
        }
    }
    if (f)
        fclose(f);
    return found;
}

/* Start eider dev and wait for its first 200 on GET /api/assets: the seconds. */
static double start_server(server *s, const char *dir, const char *lib)
{
    char *home = bench_strf("%s/home", dir);
    memset(s, 0, sizeof(*s));
    s->out = bench_strf("%s/dev.out", dir);
    unlink(s->out);
    double t0 = bench_now();
    s->pid = fork();
    if (s->pid == 0) {
        FILE *o = freopen(s->out, "w", stdout);
        if (!o || chdir(dir) != 0 || setenv("EIDER_HOME", home, 1) != 0)
            _exit(126);
        execl(BENCH_EIDER, BENCH_EIDER, "dev", "-l", lib, "--port", "0", (char *)NULL);
        _exit(127);
    }
    while (!read_banner(s) || http(s->port, "GET", "/api/assets", NULL, NULL, NULL) != 200) {
        if (bench_now() - t0 > READY_TIMEOUT_S || waitpid(s->pid, NULL, WNOHANG) == s->pid)
            bench_die("eider dev was not ready in %.0f s (see %s)", READY_TIMEOUT_S, s->out);
        usleep(500);
    }
    free(home);
    return bench_now() - t0;
}

static void stop_server(server *s)
{
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    free(s->out);
}

static double rss_mb(pid_t pid)
{
    char *path = bench_strf("/proc/%d/status", (int)pid), line[256];
    FILE *f = fopen(path, "r");
    double kb = 0;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = atof(line + 6);
    if (f)
        fclose(f);
    free(path);
    return kb / 1024;
}

/* The step_start event's time_us of run id, once it is there (0 while it is not). */
static double step_start_us(const server *s, const char *id)
{
    char *path = bench_strf("/api/runs/%s/events", id), *body = NULL;
    double when = 0;
    if (http(s->port, "GET", path, NULL, NULL, &body) == 200) {
        json_t *events = json_loads(body, 0, NULL), *e;
        size_t i;
        json_array_foreach(events, i, e) {
            const char *type = json_string_value(json_object_get(e, "type"));
            if (!when && type && !strcmp(type, "step_start"))
                when = (double)json_integer_value(json_object_get(e, "time_us"));
        }
        json_decref(events);
    }
    free(path);
    free(body);
    return when;
}

static int run_ended(const server *s, const char *id)
{
    char *path = bench_strf("/api/runs/%s", id), *body = NULL;
    int ended = 0;
    if (http(s->port, "GET", path, NULL, NULL, &body) == 200)
        ended = strstr(body, "\"status\":\"success\"") || strstr(body, "\"status\":\"failure\"");
    free(path);
    free(body);
    return ended;
}

/* POST /api/runs of one asset: seconds from the POST to its step_start event. */
static double launch(const server *s, const char *key)
{
    char *req = bench_strf("{\"selection\": \"%s\"}", key), *body = NULL, id[64] = "";
    double sent = wall_us(), started = 0;
    int status = http(s->port, "POST", "/api/runs", s->token, req, &body);
    char *p = body ? strstr(body, "\"run_id\":\"") : NULL;
    if (status != 202 || !p)
        bench_die("POST /api/runs answered %d: %.200s", status, body ? body : "");
    snprintf(id, sizeof(id), "%.*s", (int)strcspn(p + 10, "\""), p + 10);
    for (double t0 = bench_now(); !(started = step_start_us(s, id)); usleep(1000))
        if (bench_now() - t0 > READY_TIMEOUT_S)
            bench_die("run %s never started a step", id);
    while (!run_ended(s, id))
        usleep(2000);
    free(req);
    free(body);
    return (started - sent) / 1e6;
}

/* ---- raw DuckDB ---- */

static void raw_query(duckdb_connection con, const char *sql)
{
    duckdb_result r;
    if (duckdb_query(con, sql, &r) == DuckDBError)
        bench_die("raw DuckDB: %s", duckdb_result_error(&r));
    duckdb_data_chunk chunk;
    while ((chunk = duckdb_fetch_chunk(r)))
        duckdb_destroy_data_chunk(&chunk);
    duckdb_destroy_result(&r);
}

/* open, connect, sql, close; the seconds. */
static double raw_open_query(const char *path, const char *sql)
{
    duckdb_database db;
    duckdb_connection con;
    double t0 = bench_now();
    if (duckdb_open(path, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError)
        bench_die("raw DuckDB cannot open '%s'", path);
    raw_query(con, sql);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    double t = bench_now() - t0;
    bench_remove_db(path);
    return t;
}

/* A JSON array of n objects of fields fields, built by DuckDB and fetched. */
static char *json_sql(size_t n, int fields)
{
    return bench_strf("SELECT json_group_array(json_object('key', 't_' || i, 'group', 'g' || (i // "
                      "1000), 'x', i * 320, 'y', (i %% 100) * 84%s)) FROM range(%zu) t(i)",
                      fields > 4 ? ", 'status', 'never', 'deps', ['t_' || (i - 1)], 'kinds', "
                      "['duckdb'], 'owners', [], 'tags', json_object(), 'description', NULL"
                      : "", n);
}

static double raw_json(duckdb_connection con, const char *sql)
{
    double t0 = bench_now();
    raw_query(con, sql);
    return bench_now() - t0;
}

/* A forked process that opened a DuckDB file and ran sql: its VmRSS. */
static double raw_rss(const char *path, const char *sql)
{
    int fds[2];
    double mb = 0;
    if (pipe(fds) != 0)
        bench_die("pipe failed");
    pid_t pid = fork();
    if (pid == 0) {
        duckdb_database db;
        duckdb_connection con;
        if (duckdb_open(path, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError)
            _exit(1);
        raw_query(con, sql);
        mb = rss_mb(getpid());
        if (write(fds[1], &mb, sizeof(mb)) != sizeof(mb))
            _exit(1);
        _exit(0);
    }
    if (read(fds[0], &mb, sizeof(mb)) != sizeof(mb))
        bench_die("the raw RSS child said nothing");
    waitpid(pid, NULL, 0);
    close(fds[0]);
    close(fds[1]);
    bench_remove_db(path);
    return mb;
}

/* fork, then duckdb_open + connect in the child until it says so: the seconds. */
static double raw_launch(const char *path)
{
    int fds[2];
    char c = 0;
    if (pipe(fds) != 0)
        bench_die("pipe failed");
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid == 0) {
        duckdb_database db;
        duckdb_connection con;
        if (duckdb_open(path, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError)
            _exit(1);
        if (write(fds[1], "x", 1) != 1)
            _exit(1);
        duckdb_disconnect(&con);
        duckdb_close(&db);
        _exit(0);
    }
    if (read(fds[0], &c, 1) != 1)
        bench_die("the raw launch child said nothing");
    double t = bench_now() - t0;
    waitpid(pid, NULL, 0);
    close(fds[0]);
    close(fds[1]);
    bench_remove_db(path);
    return t;
}

/* ---- the benchmark ---- */

static double *samples(int repeat)
{
    return bench_xmalloc((size_t)repeat * sizeof(double));
}

typedef struct figures {
    double *ready, *graph_cold, *graph, *assets, *rss, *launch, *launch_reloaded;
    double *raw_ready, *raw_graph, *raw_assets, *raw_rss, *raw_launch;
} figures;

static void measure_server(const char *dir, const char *lib, figures *f, int r)
{
    server s;
    f->ready[r] = start_server(&s, dir, lib);
    f->graph_cold[r] = timed_get(&s, "/api/graph");
    double g[5], a[5];
    for (int k = 0; k < 5; k++) {
        g[k] = timed_get(&s, "/api/graph");
        a[k] = timed_get(&s, "/api/assets");
    }
    f->graph[r] = bench_median(g, 5);
    f->assets[r] = bench_median(a, 5);
    usleep(200000);
    f->rss[r] = rss_mb(s.pid);
    f->launch[r] = launch(&s, "t_0");
    char *body = NULL;
    int status = http(s.port, "POST", "/api/reload", s.token, "", &body);
    if (status != 200)
        bench_die("POST /api/reload answered %d: %.200s", status, body ? body : "");
    free(body);
    f->launch_reloaded[r] = launch(&s, "t_0");
    stop_server(&s);
}

static void measure_raw(const char *dir, size_t n, figures *f, int r)
{
    char *db = bench_strf("%s/raw.duckdb", dir), *graph_sql = json_sql(n, 4);
    char *assets_sql = json_sql(n, 10);
    duckdb_database mem;
    duckdb_connection con;
    f->raw_ready[r] = raw_open_query(db, "SELECT 1");
    if (duckdb_open(NULL, &mem) == DuckDBError || duckdb_connect(mem, &con) == DuckDBError)
        bench_die("raw DuckDB cannot open an in-memory database");
    raw_json(con, graph_sql);                  /* warm */
    f->raw_graph[r] = raw_json(con, graph_sql);
    f->raw_assets[r] = raw_json(con, assets_sql);
    duckdb_disconnect(&con);
    duckdb_close(&mem);
    f->raw_rss[r] = raw_rss(db, assets_sql);
    f->raw_launch[r] = raw_launch(db);
    free(db);
    free(graph_sql);
    free(assets_sql);
}

/* The layout of a random DAG of n nodes: each takes up to three deps, most from the 20
 * nodes before it, a tenth from anywhere before; 10 groups. Prints the median time. */
static void layout_alone(size_t n, int repeat)
{
    size_t *start = bench_xmalloc((n + 1) * sizeof(size_t));
    size_t *deps = bench_xmalloc(3 * n * sizeof(size_t));
    size_t *group = bench_xmalloc(n * sizeof(size_t)), e = 0;
    double *t = samples(repeat);
    srand(1);
    start[0] = 0;
    for (size_t i = 0; i < n; i++) {
        for (int d = 0, k = i ? rand() % 4 : 0; d < k; d++) {
            size_t span = i < 20 ? i : 20;
            size_t back = 1 + (size_t)rand() % (rand() % 10 == 0 ? i : span);
            if (back > i || (d && deps[e - 1] == i - back))
                break;
            deps[e++] = i - back;
        }
        start[i + 1] = e;
        group[i] = i / 1000 % 10;
    }
    srv_graph_in in = { n, start, deps, group, 10 };
    srv_layout l;
    for (int r = 0; r < repeat; r++) {
        double t0 = bench_now();
        if (srv_layout_compute(&in, &l))
            bench_die("the layout failed");
        t[r] = bench_now() - t0;
        srv_layout_release(&l);
    }
    printf("  layout alone (server/layout.c) of a random DAG of %zu nodes, %zu edges: %.1f ms "
           "(median of %d; no raw counterpart)\n", n, e, bench_median(t, (size_t)repeat) * 1e3,
           repeat);
    free(start);
    free(deps);
    free(group);
    free(t);
}

static void parse_args(int argc, char **argv, size_t *n, int *repeat)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--assets") && i + 1 < argc)
            *n = (size_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            *repeat = atoi(argv[++i]);
        else
            bench_die("usage: bench_dev [--assets N] [--repeat R]");
    }
    if (*repeat < 1 || *repeat > 100 || *n < 100)
        bench_die("--repeat must be 1 to 100, --assets at least 100");
}

static void report(const figures *f, size_t n, int repeat, double cc_s)
{
    size_t k = (size_t)repeat;
    char *title = bench_strf("bench_dev: 'eider dev -l defs.so' with %zu assets (library built "
                             "with -O0 in %.1f s, not timed); median of %d", n, cc_s, repeat);
    bench_table_header(title, "DuckDB in this process doing comparable work, named per row");
    bench_table_row("ready (first 200 /assets)", bench_median(f->raw_ready, k),
                    bench_median(f->ready, k), "raw: duckdb_open file + SELECT 1 + close; "
                    "target eider <= 0.300 s");
    bench_table_row("GET /api/graph (cold)", bench_median(f->raw_graph, k),
                    bench_median(f->graph_cold, k), "raw: JSON array of N objects of 4 "
                    "fields; target eider <= 0.100 s");
    bench_table_row("GET /api/graph (kept)", bench_median(f->raw_graph, k),
                    bench_median(f->graph, k), "raw: the same");
    bench_table_row("GET /api/assets", bench_median(f->raw_assets, k),
                    bench_median(f->assets, k), "raw: JSON array of N objects of 10 fields");
    bench_table_row("launch -> step_start", bench_median(f->raw_launch, k),
                    bench_median(f->launch, k), "raw: fork + duckdb_open + connect in the "
                    "child; target eider <= 0.050 s");
    bench_table_row("launch after a reload", bench_median(f->raw_launch, k),
                    bench_median(f->launch_reloaded, k), "raw: the same; the run's "
                    "definitions loaded by the server's queue, then by the worker");
    printf("  %-28s %10.1f MB %10.1f MB %8.3f  %s\n", "idle RSS (VmRSS)",
           bench_median(f->raw_rss, k), bench_median(f->rss, k),
           bench_median(f->rss, k) / bench_median(f->raw_rss, k),
           "raw: a process that opened a DuckDB file and built the assets' JSON; "
           "target eider <= 50 MB");
    free(title);
}

int main(int argc, char **argv)
{
    size_t n = 10000;
    int repeat = 5;
    parse_args(argc, argv, &n, &repeat);
    char *dir = bench_tmpdir("dev"), *lib = NULL;
    double cc_s = bench_defs_library(dir, n, 0, &lib);
    figures f = { samples(repeat), samples(repeat), samples(repeat), samples(repeat),
                  samples(repeat), samples(repeat), samples(repeat), samples(repeat),
                  samples(repeat), samples(repeat), samples(repeat), samples(repeat) };
    measure_server(dir, lib, &f, 0);           /* warm-up: page cache, compile cache */
    for (int r = 0; r < repeat; r++) {
        measure_raw(dir, n, &f, r);
        measure_server(dir, lib, &f, r);
        char *home = bench_strf("%s/home", dir), *db = bench_strf("%s/bench_startup.duckdb", dir);
        bench_rmdir(home);                     /* a fresh store for the next start */
        bench_remove_db(db);
        free(home);
        free(db);
    }
    report(&f, n, repeat, cc_s);
    layout_alone(n, repeat);
    free(lib);
    bench_rmdir(dir);
    free(dir);
    return 0;
}
