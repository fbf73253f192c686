/*
 * http.c — the daemon of `eider dev`: binding, the routing table (handlers registered
 * by method and path), request bodies, the security checks and JSON replies; paths
 * outside /api are the web UI's files (static.c).
 * Each connection has a thread of its own (libmicrohttpd's thread per connection), so
 * that a Server-Sent Events stream may wait for what comes next without holding up
 * anyone; the JSON handlers run one at a time all the same, under srv.lock. (Suspend
 * and resume would keep one thread, but a stream's callback could then never block: it
 * would be resumed from the poller for each message and return what it has, which is
 * more code for little gain, as a waiting thread costs only its stack: 100 streams
 * cost the server a few percent of a core, bench/dev_live_clients.sh.)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "../cli/cli.h"
#include "server.h"

typedef struct route {
    const char *method;
    const char *pattern;            /* '*' matches one path segment, '**' the rest of the
                                     * path (one segment or more: an asset key's '/') */
    srv_handler fn;
    int changes_state;              /* needs the token and the same-origin check (off
                                     * loopback, every route needs the token) */
} route;

static const route routes[] = {
    { "GET", "/api/assets", api_assets, 0 },
    { "GET", "/api/assets/**", api_asset, 0 },
    { "GET", "/api/graph", api_graph, 0 },
    { "GET", "/api/select", api_select, 0 },
    { "GET", "/api/runs", api_runs, 0 },
    { "POST", "/api/runs", api_launch, 1 },
    { "GET", "/api/runs/*", api_run, 0 },
    { "GET", "/api/runs/*/events", api_run_events, 0 },
    { "POST", "/api/runs/*/cancel", api_cancel, 1 },
    { "POST", "/api/runs/*/reexecute", api_reexecute, 1 },
    { "GET", "/api/events", api_events, 0 },
    { "GET", "/api/defs", api_defs, 0 },
    { "POST", "/api/reload", api_reload, 1 },
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

/* Whether a handler runs without srv.lock, taking it itself when it must: a reload
 * compiles for a while, and the other handlers go on meanwhile. */
static int unlocked(srv_handler fn)
{
    return fn == api_reload;
}

/* A request's body as it arrives. */
typedef struct pending {
    char *body;
    size_t len;
    int too_big;
} pending;

void srv_error(srv_reply *reply, unsigned status, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    json_decref(reply->doc);
    reply->status = status;
    reply->doc = json_pack("{s:o}", "error", cli_json_string(msg ? msg : "out of memory"));
    free(msg);
}

const char *srv_query(const srv_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* Whether path matches pattern; the '*' segment (or the '**' rest) goes into param (at
 * most size bytes). A '**' matches only non-empty segments: no "//", no trailing '/'. */
static int route_match(const char *pattern, const char *path, char *param, size_t size)
{
    while (*pattern && *path) {
        if (pattern[0] == '*' && pattern[1] == '*') {
            size_t n = strlen(path);
            if (n >= size || path[n - 1] == '/' || strstr(path, "//"))
                return 0;
            memcpy(param, path, n + 1);
            return !pattern[2];
        } else if (*pattern == '*') {
            size_t n = strcspn(path, "/");
            if (n == 0 || n >= size)
                return 0;
            memcpy(param, path, n);
            param[n] = '\0';
            path += n;
            pattern++;
        } else if (*pattern++ != *path++) {
            return 0;
        }
    }
    return !*pattern && !*path;
}

/* The token as the request gives it: X-Eider-Token, or Authorization: Bearer. */
static const char *request_token(struct MHD_Connection *conn)
{
    const char *t = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Eider-Token");
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (t)
        return t;
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
        return auth + 7;
    return NULL;
}

/* Compare in time that does not depend on where they differ. */
static int same_secret(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

/* Whether host (a Host header's "name:port") names this server. */
static int host_is_ours(const srv *s, const char *host)
{
    static const char *const loopback[] = { "127.0.0.1", "localhost", "[::1]" };
    char want[300];
    if (!host)
        return 0;
    if (s->wildcard)
        return 1;
    snprintf(want, sizeof(want), "%s%s%s:%d", strchr(s->host, ':') ? "[" : "", s->host,
             strchr(s->host, ':') ? "]" : "", s->port);
    if (strcasecmp(host, want) == 0)
        return 1;
    for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
        snprintf(want, sizeof(want), "%s:%d", loopback[i], s->port);
        if (strcasecmp(host, want) == 0 && strncmp(s->host, "127.", 4) == 0)
            return 1;
        if (strcasecmp(host, want) == 0 && strcmp(s->host, "::1") == 0)
            return 1;
    }
    return 0;
}

/* Whether origin (an Origin header) is a page of this server: "http://" and a name of
 * it; listening on every address, where any name may be ours, the name the request
 * was sent to (its Host). */
static int origin_is_ours(const srv *s, const char *origin, const char *host)
{
    if (strncmp(origin, "http://", 7) != 0)
        return 0;
    return s->wildcard ? strcasecmp(origin + 7, host) == 0 : host_is_ours(s, origin + 7);
}

/* What a request must pass beyond the Host check (DNS rebinding) that every request
 * passes. */
enum {
    CHECK_HOST = 0,
    CHECK_ORIGIN = 1,               /* a state-changing request: an Origin, if any, of ours */
    CHECK_TOKEN = 2,                /* the token */
};

/* The checks of an /api request: the Origin and the token for a state-changing one;
 * the token for every one when the server listens off loopback (its page does not
 * hand the token out there: whoever uses the API proves they know it). */
static int api_checks(const srv *s, int changes_state)
{
    if (changes_state)
        return CHECK_ORIGIN | CHECK_TOKEN;
    return s->loopback ? CHECK_HOST : CHECK_TOKEN;
}

/* The checks of checks (CHECK_*) and the Host check. 0 when the request may go on,
 * else reply is set (403). */
static int check_request(srv *s, struct MHD_Connection *conn, int checks, srv_reply *reply)
{
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    const char *token = request_token(conn);
    if (!host_is_ours(s, host)) {
        srv_error(reply, 403, "the Host header '%s' does not name this server: open it as "
                  "http://%s:%d", host ? host : "", s->host, s->port);
        return 1;
    }
    if ((checks & CHECK_ORIGIN) && origin && !origin_is_ours(s, origin, host)) {
        srv_error(reply, 403, "requests from the origin '%s' are refused: only pages this "
                  "server serves may change anything", origin);
        return 1;
    }
    if (!(checks & CHECK_TOKEN) || (token && same_secret(token, s->token)))
        return 0;
    if (!s->loopback)
        srv_error(reply, 403, "this server needs its token: %s; send the token given to eider "
                  "dev with --auth-token in the X-Eider-Token header (or Authorization: Bearer)",
                  token ? "the token sent is wrong" : "none was sent");
    else
        srv_error(reply, 403, "%s: send the token eider dev printed at start in the "
                  "X-Eider-Token header", token ? "the token is wrong" : "a token is needed");
    return 1;
}

static void dispatch(srv *s, const srv_request *in, srv_reply *reply)
{
    char param[1024];
    int path_known = 0;
    srv_request req = *in;
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (!route_match(routes[i].pattern, in->path, param, sizeof(param)))
            continue;
        path_known = 1;
        if (strcmp(routes[i].method, in->method) != 0)
            continue;
        if (check_request(s, in->conn, api_checks(s, routes[i].changes_state), reply))
            return;
        req.param = strchr(routes[i].pattern, '*') ? param : NULL;
        if (!unlocked(routes[i].fn))
            pthread_mutex_lock(&s->lock);
        routes[i].fn(s, &req, reply);
        if (!unlocked(routes[i].fn))
            pthread_mutex_unlock(&s->lock);
        return;
    }
    if (check_request(s, in->conn, api_checks(s, 0), reply))
        return;
    if (path_known)
        srv_error(reply, 405, "method '%s' is not allowed on '%s': see docs/api.md", in->method,
                  in->path);
    else
        srv_error(reply, 404, "no such path '%s': see docs/api.md for the API", in->path);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, srv_reply *reply)
{
    if (reply->stream) {
        enum MHD_Result queued = MHD_queue_response(conn, reply->status, reply->stream);
        MHD_destroy_response(reply->stream);
        return queued;
    }
    char *text = reply->raw ? reply->raw
               : reply->doc ? json_dumps(reply->doc, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    size_t len = text ? strlen(text) : 0;
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    enum MHD_Result ok = MHD_NO;
    reply->raw = NULL;                 /* the response owns it now */
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    ok = MHD_queue_response(conn, reply->status, r);
    MHD_destroy_response(r);
    return ok;
}

/* Keep what arrives of the body, up to SRV_BODY_MAX. */
static void take_body(pending *p, const char *data, size_t size)
{
    if (p->too_big || p->len + size > SRV_BODY_MAX) {
        p->too_big = 1;
        return;
    }
    char *grown = realloc(p->body, p->len + size + 1);
    if (!grown) {
        p->too_big = 1;
        return;
    }
    memcpy(grown + p->len, data, size);
    p->body = grown;
    p->len += size;
    p->body[p->len] = '\0';
}

/* Decode %HH as libmicrohttpd does, but never into a NUL: "%00" becomes a byte that no
 * path, file or selection accepts (0x7f), so that "/app.js%00.css" is not cut short
 * into "/app.js" where the handlers read NUL-terminated strings. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    size_t n = MHD_http_unescape(s);
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0')
            s[i] = 0x7f;
    return n;
}

/* Whether path is the JSON API's (the rest is the web UI's files). */
static int is_api_path(const char *path)
{
    return strncmp(path, "/api", 4) == 0 && (path[4] == '/' || path[4] == '\0');
}

/* A UI file (static.c), after the Host check every request passes. */
static enum MHD_Result send_static(srv *s, struct MHD_Connection *conn, const char *method,
                                   const char *path)
{
    srv_reply reply = { .status = 200 };
    unsigned status = 200;
    if (check_request(s, conn, CHECK_HOST, &reply)) {
        enum MHD_Result ok = send_reply(conn, &reply);
        json_decref(reply.doc);
        return ok;
    }
    struct MHD_Response *r = srv_static(s, method, path, &status);
    if (!r)
        return MHD_NO;
    enum MHD_Result ok = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **state)
{
    pending *p = *state;
    srv_reply reply = { .status = 200 };
    if (!p) {
        *state = calloc(1, sizeof(pending));
        return *state ? MHD_YES : MHD_NO;
    }
    if (*size) {
        take_body(p, data, *size);
        *size = 0;
        return MHD_YES;
    }
    srv_request req = { .conn = conn, .method = method, .path = url,
                        .body = p->body ? p->body : "", .body_len = p->len };
    if (!p->too_big && !is_api_path(url))
        return send_static(cls, conn, method, url);
    if (p->too_big)
        srv_error(&reply, 413, "the request body is larger than %d bytes", SRV_BODY_MAX);
    else
        dispatch(cls, &req, &reply);
    enum MHD_Result ok = send_reply(conn, &reply);
    json_decref(reply.doc);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode why)
{
    pending *p = *state;
    if (p)
        free(p->body);
    free(p);
    *state = NULL;
}

static int is_loopback(const struct sockaddr *a)
{
    if (a->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127;
    if (a->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)a)->sin6_addr);
    return 0;
}

static int is_wildcard(const struct sockaddr *a)
{
    if (a->sa_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr == htonl(INADDR_ANY);
    return a->sa_family == AF_INET6
        && IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)a)->sin6_addr);
}

/* Bind and listen on --host and --port; prints why not and returns -1 (*code set). */
static int listen_on(srv *s, int token_given, int *code)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV | AI_PASSIVE };
    struct addrinfo *ai = NULL;
    char port[16];
    int fd = -1, one = 1;
    snprintf(port, sizeof(port), "%d", s->port);
    int rc = getaddrinfo(s->host, port, &hints, &ai);
    *code = EXIT_USAGE;
    if (rc) {
        cli_error("cannot use --host '%s': %s", s->host, gai_strerror(rc));
        goto out;
    }
    if (!is_loopback(ai->ai_addr) && !token_given) {
        cli_error("--host '%s' is not a loopback address: anyone who can reach it could run "
                  "your assets, so give --auth-token TOKEN too (or leave --host out)", s->host);
        goto out;
    }
    s->wildcard = is_wildcard(ai->ai_addr);
    s->loopback = is_loopback(ai->ai_addr);
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
        int e = errno;
        cli_error(e == EADDRINUSE ? "port %s on '%s' is in use: stop what uses it, or choose "
                  "another with --port" : "cannot listen on port %s of '%s': %s", port, s->host,
                  strerror(e));
        if (fd >= 0)
            close(fd);
        fd = -1;
        *code = e == EADDRINUSE ? EXIT_USAGE : EXIT_INTERNAL;
        goto out;
    }
    struct sockaddr_storage bound;
    socklen_t len = sizeof(bound);
    if (getsockname(fd, (struct sockaddr *)&bound, &len) == 0)
        s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                    : ((struct sockaddr_in *)&bound)->sin_port);
    *code = EXIT_OK;
out:
    if (ai)
        freeaddrinfo(ai);
    return fd;
}

/* A new token from the kernel's random numbers, as 32 hex digits. */
static int make_token(srv *s)
{
    unsigned char raw[16];
    FILE *f = fopen("/dev/urandom", "rb");
    int ok = f && fread(raw, 1, sizeof(raw), f) == sizeof(raw);
    if (f)
        fclose(f);
    for (size_t i = 0; ok && i < sizeof(raw); i++)
        snprintf(s->token + 2 * i, 3, "%02x", raw[i]);
    return ok ? 0 : -1;
}

static int wait_for_stop(void)
{
    sigset_t set;
    int sig = 0;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigwait(&set, &sig);
    return sig;
}

int srv_serve(srv *s)
{
    int code = EXIT_OK;
    int fd = -1;
    struct MHD_Daemon *d = NULL;
    int token_given = s->token[0] != '\0';
    if (!token_given && make_token(s)) {
        cli_error("cannot make the server's token: /dev/urandom cannot be read");
        return EXIT_INTERNAL;
    }
    if ((fd = listen_on(s, token_given, &code)) < 0)
        return code;
    /* No Date header: making one calls gmtime_r(), which holds glibc's time zone lock,
     * and a run worker forked while a connection's thread holds it would wait for it
     * for ever at its first gmtime_r() (eider__log_line) or localtime_r(). */
    d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD
                         | MHD_USE_POLL | MHD_USE_SUPPRESS_DATE_NO_CLOCK, 0, NULL, NULL,
                         on_request, s, MHD_OPTION_LISTEN_SOCKET, fd,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                         MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                         MHD_OPTION_END);
    if (!d || srv_live_start(s)) {
        if (d)
            MHD_stop_daemon(d);
        else
            close(fd);
        cli_error("cannot start the HTTP server on port %d", s->port);
        return EXIT_INTERNAL;
    }
    printf("eider dev: serving http://%s%s%s:%d/ (the web UI; its JSON API under /api: "
           "docs/api.md)\n", strchr(s->host, ':') ? "[" : "", s->host,
           strchr(s->host, ':') ? "]" : "", s->port);
    if (s->loopback)
        printf("token for state-changing requests (header X-Eider-Token; the page has it): "
               "%s\n", s->token);
    else
        printf("token for every API request, reads too (header X-Eider-Token; the page asks "
               "for it): %s\n", s->token);
    printf("press Ctrl-C to stop\n");
    fflush(stdout);
    int sig = wait_for_stop();
    printf("eider dev: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    fflush(stdout);
    srv_live_close(&s->live);      /* the streams end, and their threads with them */
    MHD_stop_daemon(d);            /* closes the listening socket too */
    return EXIT_OK;
}
