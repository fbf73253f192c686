/*
 * exec.h — a run inside libeider: the plan of steps, the scheduler's shared state,
 * the step context, and the result handed back to the caller.
 */
#ifndef EIDER_EXEC_H
#define EIDER_EXEC_H

#include <pthread.h>
#include <stdatomic.h>

#include "../defs/defs.h"
#include "../duckdb/database.h"
#include "../duckdb/redact.h"
#include "../duckdb/scan.h"

/* One step: one asset to materialize, and then its outcome. */
typedef struct eider__step {
    uint32_t asset;                  /* index into defs->assets */
    size_t pending;                  /* upstream steps not yet done */
    int running;                     /* taken by a worker, not finished */
    int done;
    eider_step_status status;
    int attempts;
    double duration_s;
    char *error;                     /* failure message or skip reason */
    char *sql;                       /* the failing SQL */
    eider__buf log;                  /* the step's log lines */
    eider_meta *meta;                /* reported metadata; strings malloc'd */
    size_t n_meta, cap_meta;
    char **partitions;               /* the partition keys it materializes */
    size_t n_partitions;
    /* A timeout (cancel.c): the running attempt's deadline (monotonic seconds; 0:
     * none), under the run's live_lock, and whether the watcher found it passed. */
    double deadline;
    atomic_int timed_out;
    eider_check_outcome *checks;     /* the checks its last attempt evaluated; strings */
    size_t n_checks, cap_checks;     /* and metadata malloc'd (eider__step_add_check) */
} eider__step;

struct eider_result {
    char run_id[EIDER_RUN_ID_MAX + 1];
    const eider_defs *defs;
    eider__step *steps;
    size_t n_steps;
    long *step_of;                   /* asset index -> step index, or -1 */
    /* The selected assets the run left out (eider_result_left_out), in a topological
     * order, and why: EIDER__LEFT_OUT_*, else the upstream left out and never
     * materialized. */
    uint32_t *left_out;
    long *left_out_because;
    size_t n_left_out;
    char *partition;                 /* eider_result_partition(): as recorded, or NULL */
    char *unrecorded;                /* eider_result_unrecorded(): malloc'd, or NULL */
};

/* Why an asset is left out of a run (eider_result.left_out_because); a value >= 0 is
 * the upstream left out and never materialized that it reads. */
#define EIDER__LEFT_IN (-1L)
#define EIDER__LEFT_OUT_NO_PARTITION (-2L)
#define EIDER__LEFT_OUT_NOT_ITS_PARTITION (-3L)

/* A connection a step is using (cancel.c): interrupted when the run is canceled, or
 * when the step's attempt times out. */
typedef struct eider__live {
    duckdb_connection con;
    eider__step *step;
} eider__live;

typedef struct eider__run {
    eider_defs *defs;
    eider_result *result;
    const eider_event_sink *sink;
    eider__dbs dbs;
    int jobs;
    int no_checks;                   /* eider_run_options.no_checks */
    int checks_only;                 /* eider_run_options.checks_only */

    pthread_mutex_t lock;            /* guards everything below and the steps' state */
    pthread_cond_t changed;
    uint32_t *ready;                 /* a FIFO of step indices */
    size_t ready_head, ready_tail;
    size_t n_done;
    int n_succeeded, n_failed, n_skipped, n_canceled;
    int finished;                    /* the watcher may stop */

    pthread_mutex_t sink_lock;       /* one event at a time */

    /* Cancellation (cancel.c): the caller's flag, what the run saw of it, the thread
     * that watches it, and the live connections it interrupts. */
    const eider_atomic_int *cancel;
    atomic_int canceled;
    pthread_t watcher;
    int watching;
    pthread_mutex_t live_lock;       /* guards live[], timed[] and steps' deadlines */
    eider__live *live;
    size_t n_live, cap_live;
    eider__step **timed;             /* the running steps with a deadline */
    size_t n_timed, cap_timed;
    int has_timeouts;                /* a step's asset has timeout_s: watch them */
} eider__run;

/* An input the step loaded, kept until the step ends (io.c). */
typedef struct eider__loaded {
    const char *key;                 /* the upstream asset's, owned by defs */
    char *type;                      /* "frame", "arrow", "table" or a handler's */
    void *value;
    const eider_type_handler_def *handler;   /* frees a handler's value */
} eider__loaded;

typedef enum eider__output_kind {
    EIDER__NO_OUTPUT,
    EIDER__OUT_FRAME,
    EIDER__OUT_SQL,
    EIDER__OUT_VALUE,                /* a handler's type */
} eider__output_kind;

struct eider_context {
    eider__run *run;
    eider__step *step;
    const eider__asset *asset;
    int attempt;
    duckdb_connection *cons;         /* borrowed connections, closed at step end */
    size_t n_cons, cap_cons;
    int failed;
    eider__buf failure;
    eider__buf failed_sql;
    eider__secrets secrets;          /* found in the step's SQL so far: masked in its messages */

    /* The I/O manager (io.c). */
    eider__frame_scope scope;        /* frames named by eider_register_frame() */
    int scope_pushed;
    eider__loaded *loaded;
    size_t n_loaded, cap_loaded;
    eider__output_kind out_kind;
    eider_frame *out_frame;
    char *out_sql;
    char *out_type;
    const void *out_value;

    /* A check's own context (check.c): the check, where it reads, and what it found. */
    const eider__check *check;
    duckdb_connection check_con;
    const char *check_relation;
    int check_failed;
    eider__buf check_message;
    eider_meta *check_meta;
    size_t n_check_meta, cap_check_meta;
    const char *no_rows_why;         /* why checks have no rows to read, or NULL */
};

/* Send an event to the run's sink, if any, stamping run id and time. */
void eider__emit(eider__run *run, eider_event *ev);

/* Whether the run was canceled; notices the caller's flag itself (cancel.c). */
int eider__run_canceled(eider__run *run);
/* Watch the caller's flag and the steps' deadlines on a thread of its own, to
 * interrupt running queries; nothing when the run has no flag and no timeout. Stop
 * before the run's state goes away. */
void eider__watch_start(eider__run *run);
void eider__watch_stop(eider__run *run);
/* Register a step's connection as live (interrupted if the run is canceled or the
 * step times out), and unregister it before it is closed. */
void eider__live_add(eider__run *run, eider__step *step, duckdb_connection con);
void eider__live_remove(eider__run *run, duckdb_connection con);
/* An attempt of step begins with timeout_s (> 0) to run, or has ended. */
void eider__deadline_start(eider__run *run, eider__step *step, double timeout_s);
void eider__deadline_stop(eider__run *run, eider__step *step);

/* The run's life, shared by eider_materialize() and the run worker (run.c): plan it
 * (the only part that reads the store) into *result — NULL, with EIDER_OK, when there
 * is nothing to run, the empty result then given to *out (NULL: freed) as the call's;
 * record it (the sink to give the run, through recording, which r fills; after the
 * run, what the store lacks of it goes to result and r is released); set up a run of
 * it whose events go to sink and which cancel stops; open its databases (the message
 * in err); run its steps, from the RUN_START event to the RUN_END; its return code. */
int eider__run_plan(eider_defs *defs, const eider_run_options *o, eider_result **result,
                    eider_result **out);
struct eider__recorder;             /* ../store/store.h */
const eider_event_sink *eider__run_recorder(struct eider__recorder *r,
                                            eider_event_sink *recording,
                                            const eider_run_options *o);
void eider__run_recorded(struct eider__recorder *r, eider_result *result);
void eider__run_init(eider__run *run, eider_defs *defs, const eider_run_options *o,
                     eider_result *result, const eider_event_sink *sink,
                     const eider_atomic_int *cancel);
int eider__run_open(eider__run *run, const eider_run_options *o, eider__buf *err);
void eider__run_steps(eider__run *run, const eider_run_options *o);
int eider__run_code(const eider__run *run);

/* The run launcher (launcher.c): where a worker's definitions come from when the
 * launcher forks it — none runs, or it cannot make them (the worker is forked here
 * then), its copy of the program's own, or their libraries loaded again. */
typedef enum eider__launch_source {
    EIDER__LAUNCH_NONE,
    EIDER__LAUNCH_OWN,
    EIDER__LAUNCH_LIBRARIES,
} eider__launch_source;

/* A worker the launcher forked: its pid, a pidfd to signal it by (-1: none, kill()
 * then), and the socket its wait status comes on. */
typedef struct eider__launched {
    pid_t pid;
    int pidfd, answer;
} eider__launched;

/* A plan as a launched worker decodes it: its definitions, its result, its options
 * (strings in the plan's bytes). */
typedef struct eider__plan {
    eider_defs *defs;
    eider_result *result;
    eider_run_options options;
} eider__plan;

eider__launch_source eider__launcher_source(const eider_defs *defs);
/* Have the launcher fork a worker on the shared memory shm and the pipe's write end
 * bell; -1 with the reason in err. */
int eider__launch(int shm, int bell, eider__launched *out, eider__buf *err);
/* Whether the worker has ended (*status: its wait status, -1 when the launcher went
 * and it is lost), waiting for it when wait is set. */
int eider__launched_status(eider__launched *l, int wait, int *status);
void eider__launched_kill(const eider__launched *l, int sig);
void eider__launched_release(eider__launched *l);
/* The plan of r, for a worker whose definitions come from source. */
void eider__plan_encode(eider__buf *b, eider__launch_source source, const eider_defs *defs,
                        const eider_run_options *o, const eider_result *r);
/* Make the plan that p (n bytes) encodes, in a launched worker whose launcher has a
 * copy of own; an error code with the message in err. */
int eider__plan_decode(const char *p, size_t n, const eider_defs *own, eider__plan *out,
                       eider__buf *err);
/* A worker forked by the launcher (pid launcher): decode its plan from the shared
 * memory shm, run it, end (worker.c). */
void eider__worker_launched(int shm, int bell, const eider_defs *own, pid_t launcher)
    __attribute__((noreturn));

/* A step's log line as eider_log() keeps it: "2024-01-31T12:00:00.123Z info text\n". */
void eider__log_line(eider__buf *log, int64_t time_us, eider_log_level level, const char *text);
/* The index of the asset whose step runs on the calling thread, or -1 (step.c);
 * async-signal-safe. */
long eider__current_asset_index(void);

/* Run one step to its end, retries included (step.c). Returns 1 on success. */
int eider__step_execute(eider__run *run, eider__step *step);

/* A new connection to resource name, closed when the step ends; NULL with the
 * step's failure set (step.c). */
duckdb_connection eider__ctx_connect(eider_context *ctx, const char *name);
/* Set the step's failure (the first one wins); returns EIDER_ESTEP. */
int eider__ctx_fail(eider_context *ctx, const char *sql, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* After a successful compute: store the output through the asset's I/O manager, or
 * fail when one was required (io.c). */
int eider__ctx_store(eider_context *ctx);
/* Free the inputs, the output and the frame names of a step (io.c). */
void eider__ctx_io_release(eider_context *ctx);

/* The result's storage (result.c). */
eider_result *eider__result_new(const eider_defs *defs, const unsigned char *selected);
void eider__step_release(eider__step *step);
/* Add a metadata entry to the step (copied); a key reported again replaces. */
void eider__step_add_meta(eider__step *step, const eider_meta *m);
/* Free the metadata a step reported, keeping the array for the next attempt. */
void eider__step_drop_metadata(eider__step *step);
/* Keep a check's outcome in the step (copied), or drop those of an earlier attempt. */
void eider__step_add_check(eider__step *step, const eider_check_outcome *o);
void eider__step_drop_checks(eider__step *step);
/* Evaluate the checks of ctx's asset on the rows relation reads on con (either may be
 * NULL when there is none: the built-in checks then err): each outcome kept in the
 * step and sent as an event. EIDER_ESTEP, with the step's failure set, when a blocking
 * check of severity error failed or erred; else EIDER_OK (check.c). */
int eider__checks_run(eider_context *ctx, duckdb_connection con, const char *relation);
/* The same for some of them: the blocking ones (blocking, of severity error), which
 * run inside a write's transaction, or the others, which run after it commits (an
 * error inside DuckDB's transaction aborts it: only a check that would roll the write
 * back anyway may run there). */
typedef enum eider__check_set { EIDER__CHECKS_ALL, EIDER__CHECKS_BLOCKING, EIDER__CHECKS_OTHERS } eider__check_set;
int eider__checks_run_set(eider_context *ctx, duckdb_connection con, const char *relation,
                          eider__check_set set);
/* Whether one of a's checks blocks (blocking, of severity error): its DuckDB write then
 * runs them before it commits. */
int eider__checks_any_blocking(const eider_defs *defs, const eider__asset *a);
/* After the compute function of an asset that stored no output (it writes its own
 * tables): its checks on its table, as the DuckDB I/O manager would name it, in its
 * DuckDB resource's database (check.c). */
int eider__checks_after_compute(eider_context *ctx);
/* In a run of checks only: the checks of ctx's asset on what is stored now, found as
 * its I/O manager finds an input (the step's partitions; all without), or as
 * eider__checks_after_compute() finds its table (io.c). */
int eider__checks_stored(eider_context *ctx);
/* eider_add_meta() in a check's compute: the check's metadata (check.c). */
void eider__check_add_meta(eider_context *ctx, const eider_meta *m);
/* Close the connections a context borrowed (whatever they left open rolls back) and
 * free what it holds (step.c). */
void eider__ctx_release(eider_context *ctx);

#endif
