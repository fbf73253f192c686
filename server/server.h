/*
 * server.h — the HTTP server of `eider dev`: a JSON API over the public library API
 * (libmicrohttpd for HTTP, jansson for JSON). http.c holds the daemon (a thread per
 * connection), the routing table and the security checks; api.c the handlers (asset.c
 * the asset detail, graph.c the graph; layout.c lays it out); queue.c the run queue
 * whose threads launch runs in run workers; live.c the live events (Server-Sent Events)
 * and their poller; control.c canceling, re-executing and reloading; static.c the web
 * UI's files.
 */
#ifndef EIDER_SERVER_H
#define EIDER_SERVER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "eider.h"

#define SRV_BODY_MAX (64 * 1024)   /* a request body above it is refused (413) */
#define SRV_TOKEN_MAX 128

/* A run launched through the API, as the server knows it before and while the store
 * records it: queued, running, ended (the store has it all), refused (it never
 * started: the message says why), or canceled while it was queued (never recorded). */
typedef enum srv_run_state {
    SRV_QUEUED, SRV_RUNNING, SRV_ENDED, SRV_REFUSED, SRV_CANCELED
} srv_run_state;

typedef struct srv_run {
    char id[EIDER_RUN_ID_MAX + 1];
    char *selection, *partition;    /* NULL: none */
    int all_partitions;
    char **files;                   /* the DuckDB files it may open (eider_defs_databases) */
    size_t n_files;
    srv_run_state state;
    char *error;                    /* SRV_REFUSED: why */
    int64_t queued_us;
    eider_atomic_int cancel;        /* set: the run is canceled */
    struct srv_run *next;
} srv_run;

/* Definitions a run may use: a load of its own per run at once, since a run changes
 * the definitions it runs (the keys of dynamic partitions). More loads are made from
 * the file as concurrent runs need them; a reload adds one of the new version; an old
 * one is freed once no run uses it. */
typedef struct srv_defs_slot {
    eider_defs *defs;
    unsigned version;
    int busy, owned;                /* owned: freed with the queue */
} srv_defs_slot;

/* The run queue: launched runs wait here; max_concurrent threads take them in order,
 * each run in a run worker (eider_materialize_worker()), never two at once that may
 * open the same DuckDB file (a later run that shares no file with those running or
 * waiting before it may start first). The threads live as long as the server: a run
 * worker is killed when the thread that forked it ends (PR_SET_PDEATHSIG). */
typedef struct srv_queue {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t *threads;
    int n_threads, stopping;
    srv_run *runs;                  /* every launched run, oldest first */
    srv_defs_slot *slots;
    size_t n_slots;
    unsigned version;               /* the newest definitions' */
    char *path;                     /* where more loads come from; NULL: none */
    int loading;                    /* a thread loads one now */
    unsigned load_failed;           /* the version a load from path failed for */
    int record;                     /* each thread records the runs through a store of
                                       its own (0: EIDER_STORAGE=none) */
    struct srv *srv;                /* its live events go to srv->live */
} srv_queue;

/* Start max_concurrent threads; defs (version 1, which the caller keeps) are the first
 * definitions runs use, with more loads of them from path as concurrent runs need
 * them (path NULL: runs take turns on defs). */
int srv_queue_start(srv_queue *q, struct srv *s, eider_defs *defs, const char *path,
                    int max_concurrent);
/* Give the queue n loads of the definitions of version (it owns them now): runs that
 * start from now on use them (and more loads of it from the file as needed). */
void srv_queue_add_defs(srv_queue *q, eider_defs **defs, size_t n, unsigned version);
/* Queue a run (selection and partition may be NULL; files as eider_defs_databases()
 * gave them, owned by the queue from now on, even on error); its new id goes into id. */
int srv_queue_push(srv_queue *q, const char *selection, const char *partition,
                   int all_partitions, char **files, size_t n_files,
                   char id[EIDER_RUN_ID_MAX + 1]);
/* The run's state as JSON (a run row: {"run_id", "status", "selection", ...,
 * "error"}); NULL when the server launched no such run or the store has it. */
json_t *srv_queue_lookup(srv_queue *q, const char *id);
/* The rows of the runs queued now, oldest first. */
json_t *srv_queue_rows(srv_queue *q);
/* Cancel run id: 0 when it was queued (now canceled), 1 when it runs here (now
 * canceling), -1 when the queue does not run or hold it. */
int srv_queue_cancel(srv_queue *q, const char *id);
/* Cancel the running runs, let the threads end, and free the queue. */
void srv_queue_stop(srv_queue *q);

#define SRV_RING 4096               /* global live messages kept for slow clients */

/* The live events (live.c): one poller thread reads the instance store (read-only) a
 * few times a second — runs of this server and of `eider materialize` elsewhere alike —
 * and the definitions' file for changes, and fans messages out to every Server-Sent
 * Events client; a client's thread waits on `changed`. */
typedef struct srv_live {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_t poller;
    int started, stopping;
    uint64_t seq;                   /* global messages published so far */
    char *ring[SRV_RING];           /* message seq s in ring[s % SRV_RING] */
    struct srv_followed *runs;      /* runs whose events are kept for their streams */
    /* the poller's own */
    eider_store *store;
    json_t *rows;                   /* run id -> its row, as last seen */
    char **status;                  /* each asset's status name, as last seen */
    size_t n_status;
    unsigned status_version;        /* the definitions version status is of */
    double reopened;                /* when store was last opened */
} srv_live;

int srv_live_start(struct srv *s);
/* Publish a message on the global stream; data is stolen. Any thread. */
void srv_live_publish(srv_live *l, const char *event, json_t *data);
/* Whether a step of asset key runs now, in a run the poller follows (any process's,
 * as the store said at its last look, 4 times a second): the one place the server
 * knows it, for GET /api/assets, the asset detail and the `asset` events alike. Any
 * thread. */
int srv_live_running(srv_live *l, const char *key);
/* The same for every asset at once: a new object, key -> true for each asset a step
 * of which runs now (the caller decrefs it); NULL when memory ran out. */
json_t *srv_live_running_keys(srv_live *l);
/* End every stream (before the daemon stops), then stop the poller. */
void srv_live_close(srv_live *l);
void srv_live_stop(srv_live *l);

/* The server as it runs. */
typedef struct srv {
    const char *host;               /* as given */
    int port;                       /* the one bound (--port 0: the kernel's choice) */
    int wildcard;                   /* bound to every address: the Host check is off */
    int loopback;                   /* bound to a loopback address: the page carries the
                                       token, and only state-changing requests need it;
                                       else every /api request needs it */
    char token[SRV_TOKEN_MAX + 1];
    /* The definitions the handlers read, under lock only: a load of their own, so that
     * no run changes what they read (a run reloads the keys of dynamic partitions; a
     * handler points them at its store). */
    eider_defs *defs;
    unsigned defs_version;          /* bumped by each good reload */
    const char *defs_path;          /* the file reloads read; NULL: given by the program */
    int has_store;                  /* 0 when EIDER_STORAGE=none */
    int max_concurrent;
    /* Held by every JSON handler, so that they stay single-threaded code, and by the
     * poller when it reads defs. */
    pthread_mutex_t lock;
    /* The last reload (under lock): its error (NULL: none), where, and when the
     * definitions in use were loaded. */
    char *defs_error, *defs_error_file;
    int defs_error_line;
    int defs_none;                  /* they failed at start, and none has loaded since: the
                                       handlers and the runs have an empty set (version 1) */
    int64_t loaded_us;
    pthread_mutex_t reload_lock;    /* one reload at a time */
    struct timespec defs_mtime;     /* the source's, at the last reload tried */
    uint64_t sources_sig;           /* eider_defs_sources_signature() of the definitions
                                       in use, at the last reload tried (under lock) */
    srv_queue queue;
    srv_live live;
    char *graph;                    /* GET /api/graph's answer for graph_version, or NULL */
    size_t graph_len;
    unsigned graph_version;
} srv;

/* Load the definitions again from defs_path, and on success use them for the
 * handlers and for the runs launched from now on (defs_version + 1); else keep the
 * last good ones and remember the error. Publishes a `defs` event. Call it without
 * holding lock. Returns 0 on success, -1 on a definitions error, -2 when there is no
 * file to reload. */
int srv_reload(srv *s);
/* The definitions failed to load at start (error, malloc'd, taken): s->defs is an
 * empty set, and the error is reported as a failed reload's until the file loads.
 * Call before the server's threads start. */
void srv_defs_failed_at_start(srv *s, char *error);
/* The JSON of GET /api/defs; call under lock. */
json_t *srv_defs_json(srv *s);
/* The DuckDB files a run of selection may open, with s->defs (under lock): for the
 * queue. NULL selection: every asset. */
int srv_run_files(srv *s, const char *selection, char ***files, size_t *n);

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
    struct MHD_Response *stream;    /* instead of doc: a response to send as it is */
    char *raw;                      /* instead of doc: JSON text made already (freed) */
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
void api_select(srv *s, const srv_request *req, srv_reply *reply);
/* live.c and control.c */
void api_events(srv *s, const srv_request *req, srv_reply *reply);
void api_cancel(srv *s, const srv_request *req, srv_reply *reply);
void api_reexecute(srv *s, const srv_request *req, srv_reply *reply);
void api_defs(srv *s, const srv_request *req, srv_reply *reply);
void api_reload(srv *s, const srv_request *req, srv_reply *reply);
/* The Server-Sent Events stream of run id's events after after_id (live.c), or NULL
 * with reply set. */
void srv_run_stream(srv *s, const char *id, int64_t after_id, srv_reply *reply);
/* Whether the request asks for Server-Sent Events (Accept: text/event-stream, or
 * ?stream=1). */
int srv_wants_stream(const srv_request *req);

/* The web UI's file at path (static.c), for any path outside /api: a response to
 * queue (the caller destroys it) with its status in *status, or NULL when memory ran
 * out. method is GET or HEAD, else the answer is 405. */
struct MHD_Response;
struct MHD_Response *srv_static(const srv *s, const char *method, const char *path,
                                unsigned *status);

/* A read-only handle on the store for one request (close it): NULL with *missing set
 * when there is none yet (or EIDER_STORAGE=none), NULL with a 500 reply when it cannot
 * be read. */
eider_store *api_open_store(srv *s, srv_reply *reply, int *missing);

/* Resolve selection with s->defs (under lock), stale() reading the store as a run
 * would: sel gets eider_defs_count() bytes of 0/1 (NULL or blank: every asset). 0, or
 * -1 with reply set: 400 {"error": message, "column": N or null} when the selection
 * does not parse or names nothing known, 500 when the store cannot be read. One
 * function for GET /api/select, POST /api/runs and srv_run_files(). */
int srv_select(srv *s, const char *selection, unsigned char *sel, srv_reply *reply);

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
