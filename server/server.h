/*
 * server.h — the HTTP server of `eider dev`: a JSON API over the public library API
 * (libmicrohttpd for HTTP, jansson for JSON). http.c holds the daemon, the routing
 * table and the security checks; api.c the handlers (asset.c the asset detail, graph.c the
 * graph); layout.c lays the graph out; queue.c the run queue whose thread launches runs
 * in run workers.
 */
#ifndef EIDER_SERVER_H
#define EIDER_SERVER_H

#include <pthread.h>
#include <stddef.h>

#include <jansson.h>

#include "eider.h"

#define SRV_BODY_MAX (64 * 1024)   /* a request body above it is refused (413) */
#define SRV_TOKEN_MAX 128

/* A run launched through the API, as the server knows it before and while the store
 * records it: queued, running, ended (the store has it all), or refused (it never
 * started: the message says why). */
typedef enum srv_run_state { SRV_QUEUED, SRV_RUNNING, SRV_ENDED, SRV_REFUSED } srv_run_state;

typedef struct srv_run {
    char id[EIDER_RUN_ID_MAX + 1];
    char *selection, *partition;    /* NULL: none */
    srv_run_state state;
    char *error;                    /* SRV_REFUSED: why */
    struct srv_run *next;
} srv_run;

/* The run queue: one thread that runs the launched runs one after the other, each in a
 * run worker (eider_materialize_worker()), so that no two runs write the same DuckDB
 * file at once. The thread lives as long as the server: a run worker is killed when
 * the thread that forked it ends (PR_SET_PDEATHSIG). */
typedef struct srv_queue {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int started, stopping;
    srv_run *runs;                  /* every launched run, oldest first */
    eider_defs *defs;
    eider_store *store;             /* records the runs; used by the queue's thread only */
    eider_atomic_int cancel;        /* set at stop: the running run is canceled */
} srv_queue;

int srv_queue_start(srv_queue *q, eider_defs *defs, eider_store *store);
/* Queue a run (selection and partition may be NULL); its new id goes into id. */
int srv_queue_push(srv_queue *q, const char *selection, const char *partition,
                   char id[EIDER_RUN_ID_MAX + 1]);
/* The run's state and, for a refused one, its message as JSON {"run_id", "status",
 * "error"}; NULL when the server launched no such run or it has ended. */
json_t *srv_queue_lookup(srv_queue *q, const char *id);
/* Cancel the running run, let the thread end, and free the queue. */
void srv_queue_stop(srv_queue *q);

/* The server as it runs. */
typedef struct srv {
    const char *host;               /* as given */
    int port;                       /* the one bound (--port 0: the kernel's choice) */
    int wildcard;                   /* bound to every address: the Host check is off */
    char token[SRV_TOKEN_MAX + 1];
    /* The definitions the handlers read, on the server's thread only: a second load of
     * the run queue's, so that neither thread changes what the other reads (a run
     * reloads the keys of dynamic partitions; a handler points them at its store). */
    eider_defs *defs;
    unsigned defs_version;          /* bumped each time defs is replaced (a reload) */
    int has_store;                  /* 0 when EIDER_STORAGE=none */
    srv_queue queue;
    char *graph;                    /* GET /api/graph's answer for graph_version, or NULL */
    size_t graph_len;
    unsigned graph_version;
} srv;

/* A request as a handler sees it. */
typedef struct srv_request {
    struct MHD_Connection *conn;
    const char *method, *path;
    const char *param;              /* the '*' segment of the route, or NULL */
    const char *body;               /* NUL-terminated; "" when none */
    size_t body_len;
} srv_request;

/* What a handler answers: a status and a JSON document (owned by the reply), or the
 * document's text already made (raw, malloc'd, owned by the reply; doc is then not
 * sent): see api_reply_text(). */
typedef struct srv_reply {
    unsigned status;
    json_t *doc;
    char *raw;
} srv_reply;

typedef void (*srv_handler)(srv *s, const srv_request *req, srv_reply *reply);

/* Set reply to {"error": message} with status. */
void srv_error(srv_reply *reply, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A query parameter, or NULL. */
const char *srv_query(const srv_request *req, const char *name);

/* The handlers (api.c). */
void api_assets(srv *s, const srv_request *req, srv_reply *reply);
void api_asset(srv *s, const srv_request *req, srv_reply *reply);
void api_graph(srv *s, const srv_request *req, srv_reply *reply);
void api_runs(srv *s, const srv_request *req, srv_reply *reply);
void api_run(srv *s, const srv_request *req, srv_reply *reply);
void api_run_events(srv *s, const srv_request *req, srv_reply *reply);
void api_launch(srv *s, const srv_request *req, srv_reply *reply);

/* A read-only handle on the store for one request (close it): NULL with *missing set
 * when there is none yet (or EIDER_STORAGE=none), NULL with a 500 reply when it cannot
 * be read. */
eider_store *api_open_store(srv *s, srv_reply *reply, int *missing);

/* on[i] = 1 for each asset i a step of which runs now (a step_start without its end
 * in a started run of the store), else 0. Returns the store's code. */
int api_running_assets(srv *s, eider_store *store, unsigned char *on);

/* Answer doc (taken) as text made now, and give the memory its tree held back to the
 * system: for the large answers (the assets, the graph), so that an idle server stays
 * small. -1 when memory ran out (reply then says so). */
int api_reply_text(srv_reply *reply, json_t *doc);

/* Free what the handlers keep between requests (the graph's layout). */
void api_release(srv *s);

/* Serve until SIGINT or SIGTERM (which the caller has blocked in every thread).
 * Prints the URL and the token; returns an exit code (cli.h). */
int srv_serve(srv *s);

#endif
