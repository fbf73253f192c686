/*
 * test_store.c — the instance store, one suite for both backends: SQLite in a
 * temporary folder, or PostgreSQL when EIDER_TEST_STORE_URL names one (ctest runs it
 * both ways). Migrations, a newer schema refused, runs and events recorded through
 * eider_materialize, asset state per partition, staleness and stale(), crashed runs,
 * wipe, gc, batches, and two processes recording at once.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <grp.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "store/rows.h"
#include "tmpdir.h"

/* ---- helpers ---- */

static const char *location(void)
{
    const char *url = getenv("EIDER_TEST_STORE_URL");
    return url && *url ? url : "store";
}

static int is_postgres(void)
{
    return strncmp(location(), "postgres", 8) == 0;
}

/* A store with nothing in it. PostgreSQL's tables are dropped first (its suite runs
 * one test at a time). */
static eider_store *fresh_store(void)
{
    eider_store *s = NULL;
    enter_tmpdir_tagged("store");
    if (is_postgres()) {     /* through the backend: the store may refuse to open */
        void *conn = NULL;
        eider__buf err = { 0 };
        cr_assert_eq(eider__postgres_open(location(), &conn, &err), EIDER_OK, "%s", eider__buf_str(&err));
        cr_assert_eq(eider__postgres_methods.query(conn, "DROP TABLE IF EXISTS events, event_blocks, "
                     "id_counters, materializations, asset_state, runs, dynamic_partitions, check_results, "
                     "eider_schema", NULL, 0, NULL, NULL, &err), EIDER_OK,
                     "%s", eider__buf_str(&err));
        eider__postgres_methods.close(conn);
        eider__buf_release(&err);
    }
    cr_assert_eq(eider_store_open(location(), &s), EIDER_OK, "%s", eider_store_errmsg(s));
    return s;
}

static int noop(eider_context *ctx)
{
    eider_add_meta_int(ctx, "row_count", 7);
    return EIDER_OK;
}

static int boom(eider_context *ctx)
{
    return eider_fail(ctx, "boom: %s", "it broke");
}

static void add(eider_defs *defs, const char *key, eider_compute_fn fn, const char *const *deps,
                const char *code_version)
{
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = key, .compute = fn, .deps = deps,
                                                       .code_version = code_version }), EIDER_OK);
}

static int materialize(eider_defs *defs, eider_store *s, const char *selection)
{
    eider_run_options o = { .store = s, .selection = selection, .jobs = 1, .launched_by = "test",
                            .tags = EIDER_TAGS("team", "data") };
    return eider_materialize(defs, &o, NULL);
}

typedef struct runs_seen {
    int n;
    eider_run_record first;          /* strings are not kept */
    char run_id[64], status[16], tags[64];
} runs_seen;

static int see_run(const eider_run_record *r, void *ud)
{
    runs_seen *seen = ud;
    if (seen->n++ == 0) {
        seen->first = *r;
        snprintf(seen->run_id, sizeof(seen->run_id), "%s", r->run_id);
        snprintf(seen->status, sizeof(seen->status), "%s", eider_run_status_name(r->status));
        snprintf(seen->tags, sizeof(seen->tags), "%s", r->tags);
    }
    return 0;
}

static runs_seen runs_of(eider_store *s, int status)
{
    runs_seen seen = { 0 };
    cr_assert_eq(eider_store_runs(s, status, NULL, 0, see_run, &seen), EIDER_OK, "%s", eider_store_errmsg(s));
    return seen;
}

typedef struct events_seen {
    char types[64][24];
    char messages[64][128];
    int64_t row_count[64];
    int n;
} events_seen;

static int see_event(int64_t id, const eider_event *ev, void *ud)
{
    events_seen *e = ud;
    if (e->n >= 64)
        return 1;
    snprintf(e->types[e->n], 24, "%s%s%s", eider_event_name(ev->type), ev->asset_key ? ":" : "",
             ev->asset_key ? ev->asset_key : "");
    snprintf(e->messages[e->n], 128, "%s", ev->message ? ev->message : "");
    for (size_t i = 0; i < ev->n_metadata; i++)
        if (strcmp(ev->metadata[i].key, "row_count") == 0)
            e->row_count[e->n] = ev->metadata[i].i;
    e->n++;
    return 0;
}

static int read_int64(void *ud, const char *const *cols, size_t n)
{
    *(int64_t *)ud = n && cols[0] ? strtoll(cols[0], NULL, 10) : -1;
    return 0;
}

static int read_text_col(void *ud, const char *const *cols, size_t n)
{
    snprintf(ud, 16, "%s", n && cols[0] ? cols[0] : "");
    return 0;
}

static int64_t query_int(eider_store *s, const char *sql)
{
    int64_t v = -1;
    cr_assert_eq(eider__store_query(s, sql, NULL, 0, read_int64, &v), EIDER_OK, "%s", eider_store_errmsg(s));
    return v;
}

/* ---- schema ---- */

Test(store, open_makes_the_store_and_reopening_keeps_it)
{
    eider_store *s = fresh_store();
    cr_expect_eq(query_int(s, "SELECT max(version) FROM eider_schema"), 6);
    eider_store_close(s);
    cr_assert_eq(eider_store_open(location(), &s), EIDER_OK, "%s", eider_store_errmsg(s));
    cr_expect_eq(query_int(s, "SELECT count(*) FROM eider_schema"), 6, "each version once");
    if (!is_postgres()) {
        cr_expect_eq(access("store/eider.sqlite3", F_OK), 0);
        cr_expect(strstr(eider_store_location(s), "/store/eider.sqlite3"), "%s", eider_store_location(s));
    }
    eider_store_close(s);
}

Test(store, a_store_from_a_newer_eider_is_refused_and_left_alone)
{
    eider_store *s = fresh_store();
    cr_assert_eq(eider__store_query(s, "INSERT INTO eider_schema (version) VALUES (99)", NULL, 0, NULL, NULL),
                 EIDER_OK);
    eider_store_close(s);
    cr_assert_eq(eider_store_open(location(), &s), EIDER_EAPIVERSION);
    cr_expect(strstr(eider_store_errmsg(s), "newer Eider"), "%s", eider_store_errmsg(s));
    cr_expect(strstr(eider_store_errmsg(s), "99"), "%s", eider_store_errmsg(s));
    eider_store_close(s);
}

/* A store of schema version 1, as the first Eider with a store left it: a run of a
 * step start, a log line with a quote and a newline, and a materialization with its
 * metadata, a row per event. */
static void make_version_1_store(void)
{
    const eider__store_methods *m = is_postgres() ? &eider__postgres_methods : &eider__sqlite_methods;
    void *conn = NULL;
    eider__buf err = { 0 };
    int rc = is_postgres() ? eider__postgres_open(location(), &conn, &err)
                           : eider__sqlite_open("store/eider.sqlite3", &conn, &err);
    cr_assert_eq(rc, EIDER_OK, "%s", eider__buf_str(&err));
    const char *const steps[] = {
        "CREATE TABLE eider_schema (version INTEGER NOT NULL)",
        m->migrations[0],
        "INSERT INTO eider_schema (version) VALUES (1)",
        "INSERT INTO runs (run_id, status, start_us, end_us, n_succeeded) VALUES ('old-run', 'success', 10, 20, 1)",
        /* a run that was going on as the store was migrated: it has no lease */
        "INSERT INTO runs (run_id, status, start_us) VALUES ('old-started', 'started', 30)",
        "INSERT INTO events (run_id, type, time_us, asset_key, attempt) VALUES ('old-run', 'step_start', 11, 'a', 1)",
        "INSERT INTO events (run_id, type, time_us, asset_key, attempt, level, message) VALUES "
        "('old-run', 'log', 12, 'a', 1, 'warn', 'it''s \"odd\"\nand long')",
        "INSERT INTO materializations (asset_key, partition, run_id, time_us, metadata) VALUES "
        "('a', '', 'old-run', 13, '{\"row_count\": {\"type\": \"int\", \"value\": 42}}')",
        "INSERT INTO events (run_id, type, time_us, asset_key, attempt) VALUES ('old-run', 'materialization', 13, 'a', 1)",
        "INSERT INTO events (run_id, type, time_us, asset_key, attempt, duration_s) VALUES "
        "('old-run', 'step_success', 14, 'a', 1, 0.25)",
        /* a materialization whose row was wiped: its event must not borrow a's metadata */
        "INSERT INTO events (run_id, type, time_us, asset_key, attempt) VALUES ('old-run', 'materialization', 15, 'gone', 1)",
        /* a byte that is not UTF-8, which only SQLite lets a TEXT column hold */
        is_postgres() ? "SELECT 1" : "INSERT INTO events (run_id, type, time_us, level, message) VALUES "
                                     "('old-run', 'log', 16, 'error', 'bad ' || CAST(x'ff' AS TEXT) || ' byte')",
    };
    for (size_t i = 0; i < EIDER__ARRAY_LEN(steps); i++)
        cr_assert_eq(m->query(conn, steps[i], NULL, 0, NULL, NULL, &err), EIDER_OK, "%s: %s", steps[i],
                     eider__buf_str(&err));
    m->close(conn);
    eider__buf_release(&err);
}

typedef struct migrated_events {
    int n;
    char line[6][96];
    double duration_s;
} migrated_events;

static int see_migrated(int64_t id, const eider_event *ev, void *ud)
{
    migrated_events *e = ud;
    if (e->n < 6)
        snprintf(e->line[e->n], sizeof(e->line[0]), "%" PRId64 " %s %s %s %" PRId64, id,
                 eider_event_name(ev->type), ev->asset_key ? ev->asset_key : "-",
                 ev->n_metadata ? ev->metadata[0].key : ev->message ? ev->message : "-",
                 ev->n_metadata ? ev->metadata[0].i : (int64_t)ev->level);
    if (ev->type == EIDER_EVENT_STEP_SUCCESS)
        e->duration_s = ev->duration_s;
    e->n++;
    return 0;
}

Test(store, a_version_1_store_is_migrated_with_its_events)
{
    eider_store *s = fresh_store();
    eider_store_close(s);
    if (is_postgres()) {
        void *conn = NULL;
        eider__buf err = { 0 };
        cr_assert_eq(eider__postgres_open(location(), &conn, &err), EIDER_OK);
        eider__postgres_methods.query(conn, "DROP TABLE event_blocks, id_counters, materializations, "
                                      "asset_state, runs, dynamic_partitions, check_results, "
                                      "eider_schema", NULL, 0, NULL, NULL, &err);
        eider__postgres_methods.close(conn);
        eider__buf_release(&err);
    } else {
        cr_assert_eq(system("rm -rf store"), 0);
    }
    make_version_1_store();
    cr_assert_eq(eider_store_open(location(), &s), EIDER_OK, "%s", eider_store_errmsg(s));
    cr_expect_eq(query_int(s, "SELECT max(version) FROM eider_schema"), 6);
    cr_expect_eq(runs_of(s, eider_run_status_parse("started")).n, 1,
                 "a run an older Eider started is not marked crashed as the store migrates");
    cr_expect_gt(query_int(s, "SELECT lease_until_us FROM runs WHERE run_id = 'old-started'"),
                 eider__now_us() + 500000000, "it has ten minutes to end");
    migrated_events e = { 0 };
    cr_assert_eq(eider_store_events(s, "old-run", 0, see_migrated, &e), EIDER_OK, "%s", eider_store_errmsg(s));
    cr_assert_eq(e.n, is_postgres() ? 5 : 6);
    cr_expect_str_eq(e.line[0], "1 step_start a - 0");
    cr_expect_str_eq(e.line[1], "2 log a it's \"odd\"\nand long 2");
    cr_expect_str_eq(e.line[2], "3 materialization a row_count 42");
    cr_expect_str_eq(e.line[3], "4 step_success a - 0");
    cr_expect_str_eq(e.line[4], "5 materialization gone - 0", "no metadata of another asset");
    if (!is_postgres())
        cr_expect_str_eq(e.line[5], "6 log - bad ? byte 3", "the stray byte mended, the event kept");
    cr_expect_float_eq(e.duration_s, 0.25, 1e-9);
    e.n = 0;
    cr_assert_eq(eider_store_events(s, "old-run", 2, see_migrated, &e), EIDER_OK);
    cr_expect_eq(e.n, is_postgres() ? 3 : 4, "after event 2, the rest");
    eider_store_close(s);
}

Test(store, a_read_only_open_makes_nothing_and_reads_what_is_there)
{
    eider_store *s = fresh_store(), *ro = NULL;
    if (!is_postgres()) {
        cr_expect_eq(eider_store_open_readonly("missing", &ro), EIDER_ENOTFOUND);
        cr_expect(strstr(eider_store_errmsg(ro), "nothing is recorded yet"), "%s", eider_store_errmsg(ro));
        eider_store_close(ro);
        cr_expect_neq(access("missing", F_OK), 0, "a read-only open made the store");
    }
    eider_defs *defs = eider_defs_new();
    add(defs, "a", noop, NULL, NULL);
    cr_assert_eq(materialize(defs, s, NULL), EIDER_OK);
    eider_store_close(s);
    cr_assert_eq(eider_store_open_readonly(location(), &ro), EIDER_OK, "%s", eider_store_errmsg(ro));
    cr_expect_eq(runs_of(ro, -1).n, 1);
    size_t n = 0;
    cr_expect_neq(eider_store_wipe(ro, "a", NULL, &n), EIDER_OK, "a read-only store was written");
    eider_store_close(ro);
    eider_defs_free(defs);
}

/* ---- another user's store (SQLite) ---- */

#define OWNER 1
#define OTHER 65534

/* Run fn as the user uid, in a child process (the test must run as root); its exit
 * status, 0 when fn succeeded. */
static int as_user(uid_t uid, int (*fn)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        if (setgroups(0, NULL) || setgid(uid) || setuid(uid))
            _exit(99);
        _exit(fn());
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 98;
}

static int owner_materializes(void)
{
    eider_store *s = NULL;
    eider_defs *defs = eider_defs_new();
    eider_asset(defs, &(eider_asset_def){ .key = "a", .compute = noop });
    int rc = eider_store_open("store", &s);
    if (rc)
        fprintf(stderr, "%s\n", eider_store_errmsg(s));
    if (!rc)
        rc = materialize(defs, s, NULL);
    eider_store_close(s);
    eider_defs_free(defs);
    return rc ? 1 : 0;
}

static int n_runs;

static int count_run(const eider_run_record *r, void *ud)
{
    n_runs++;
    return 0;
}

/* The other user reads every run, and is told it may not write the store. */
static int other_reads(void)
{
    eider_store *s = NULL;
    int rc = eider_store_open_readonly("store", &s);
    if (rc)
        fprintf(stderr, "%s\n", eider_store_errmsg(s));
    if (!rc)
        rc = eider_store_runs(s, -1, NULL, 0, count_run, NULL);
    eider_store_close(s);
    return rc ? 1 : eider_store_writable("store") ? 2 : n_runs;
}

/* The other user's open to write is refused before SQLite makes a file. */
static int other_opens_to_write(void)
{
    eider_store *s = NULL;
    int rc = eider_store_open("store", &s);
    int told = strstr(eider_store_errmsg(s), "cannot write the instance store") != NULL;
    eider_store_close(s);
    return rc == EIDER_EIO && told ? 0 : 1;
}

/* The store as it is after a run (closed cleanly: no -wal, no -shm), read by another
 * user: in a folder that user may not write, SQLite could not make the -shm it reads
 * through; in one everybody may write, it made them as that user, and the owner's
 * next run failed on them. Either way the runs are read, no file is made (nor by an
 * attempt to write, which is refused), and the owner still writes. */
Test(store, another_user_reads_a_cleanly_closed_store_and_makes_no_file)
{
    if (is_postgres() || geteuid() != 0)
        cr_skip_test("needs SQLite and root, to act as two users");
    enter_tmpdir_tagged("store");
    cr_assert_eq(chmod(test_tmpdir, 0755), 0);
    cr_assert_eq(chown(test_tmpdir, OWNER, OWNER), 0);
    cr_assert_eq(as_user(OWNER, owner_materializes), 0);
    cr_assert_neq(access("store/eider.sqlite3-wal", F_OK), 0, "closed cleanly");
    /* a store is made private (0600): its owner shares it */
    cr_assert_eq(chmod("store/eider.sqlite3", 0644), 0);
    for (int shared = 0; shared < 2; shared++) {
        cr_assert_eq(chmod("store", shared ? 0777 : 0755), 0);
        cr_expect_eq(as_user(OTHER, other_reads), 1 + shared, "folder %o: every run, read-only",
                     shared ? 0777 : 0755);
        cr_expect_eq(as_user(OTHER, other_opens_to_write), 0, "a write is refused, and said so");
        cr_expect_neq(access("store/eider.sqlite3-wal", F_OK), 0, "the reader made a -wal");
        cr_expect_neq(access("store/eider.sqlite3-shm", F_OK), 0, "the reader made a -shm");
        cr_expect_eq(as_user(OWNER, owner_materializes), 0, "the owner writes afterwards");
    }
}

/* The owner's process dies with the store open: its -wal and -shm stay. */
static int owner_dies_with_the_store_open(void)
{
    eider_store *s = NULL;
    eider_defs *defs = eider_defs_new();
    eider_asset(defs, &(eider_asset_def){ .key = "a", .compute = noop });
    if (eider_store_open("store", &s) || materialize(defs, s, NULL) || eider__store_flush(s))
        return 1;
    _exit(0);
}

static int other_cannot_read(void)
{
    eider_store *s = NULL;
    int rc = eider_store_open_readonly("store", &s);
    int told = strstr(eider_store_errmsg(s), "not closed cleanly") != NULL;
    eider_store_close(s);
    return rc == EIDER_EIO && told ? 0 : 1;
}

/* A -wal without its -shm (a process died, and the -shm was removed): another user
 * could read it only by making a -shm of theirs, so the read fails and says what to
 * do; the owner's next command tidies it, and the other user reads it then. */
Test(store, a_store_left_open_is_an_error_for_another_user_until_its_owner_tidies_it)
{
    if (is_postgres() || geteuid() != 0)
        cr_skip_test("needs SQLite and root, to act as two users");
    enter_tmpdir_tagged("store");
    cr_assert_eq(chmod(test_tmpdir, 0755), 0);
    cr_assert_eq(chown(test_tmpdir, OWNER, OWNER), 0);
    cr_assert_eq(as_user(OWNER, owner_dies_with_the_store_open), 0);
    cr_assert_eq(access("store/eider.sqlite3-wal", F_OK), 0, "the -wal stays");
    cr_assert_eq(unlink("store/eider.sqlite3-shm"), 0);
    cr_assert_eq(chmod("store", 0777), 0);
    /* a store is made private (0600): its owner shares it */
    cr_assert_eq(chmod("store/eider.sqlite3", 0644), 0);
    cr_assert_eq(chmod("store/eider.sqlite3-wal", 0644), 0);
    cr_expect_eq(as_user(OTHER, other_cannot_read), 0, "an error that says why");
    cr_expect_neq(access("store/eider.sqlite3-shm", F_OK), 0, "the reader made a -shm");
    cr_expect_eq(as_user(OWNER, owner_materializes), 0, "the owner writes, and tidies");
    cr_expect_eq(as_user(OTHER, other_reads), 2, "both runs read afterwards");
}

/* A file there that is no store (or one SQLite cannot read) is an error naming it,
 * never "nothing is recorded yet". */
Test(store, a_store_that_cannot_be_read_is_an_error_not_an_empty_store)
{
    eider_store *ro = NULL;
    if (is_postgres())
        cr_skip_test("a SQLite file");
    enter_tmpdir_tagged("store");
    cr_assert_eq(mkdir("store", 0755), 0);
    FILE *f = fopen("store/eider.sqlite3", "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 512; i++)
        fputs("not a database ", f);
    fclose(f);
    cr_expect_eq(eider_store_open_readonly("store", &ro), EIDER_EIO);
    cr_expect(strstr(eider_store_errmsg(ro), "cannot read the instance store sqlite:"),
              "%s", eider_store_errmsg(ro));
    cr_expect(strstr(eider_store_errmsg(ro), "store/eider.sqlite3"), "%s", eider_store_errmsg(ro));
    eider_store_close(ro);
}

Test(store, a_run_status_parses_in_either_spelling)
{
    cr_expect_eq(eider_run_status_parse("failure"), EIDER_RUN_FAILURE);
    cr_expect_eq(eider_run_status_parse("failed"), EIDER_RUN_FAILURE);
    cr_expect_eq(eider_run_status_parse("Failed"), EIDER_RUN_FAILURE);
    cr_expect_eq(eider_run_status_parse("succeeded"), EIDER_RUN_SUCCESS);
    cr_expect_eq(eider_run_status_parse("running"), EIDER_RUN_STARTED);
    cr_expect_eq(eider_run_status_parse("cancelled"), EIDER_RUN_CANCELED);
    cr_expect_eq(eider_run_status_parse("fresh"), -1);
    cr_expect_eq(eider_run_status_parse(NULL), -1);
}

Test(store, none_is_refused_as_a_store_and_makes_nothing)
{
    eider_store *s = NULL;
    enter_tmpdir_tagged("store");
    cr_expect_eq(eider_store_open("none", &s), EIDER_EINVAL);
    cr_expect(strstr(eider_store_errmsg(s), "store = NULL"), "%s", eider_store_errmsg(s));
    eider_store_close(s);
    setenv("EIDER_STORAGE", "none", 1);
    cr_expect_eq(eider_store_open(NULL, &s), EIDER_EINVAL);
    unsetenv("EIDER_STORAGE");
    eider_store_close(s);
    cr_expect_neq(access("none", F_OK), 0, "no folder named none");
    cr_expect_neq(access(".eider", F_OK), 0);
}

Test(store, a_postgresql_url_is_shown_without_its_password)
{
    eider_store *s = NULL;
    cr_assert_neq(eider_store_open("postgresql://ada:s3cret@127.0.0.1:1/nothing", &s), EIDER_OK);
    cr_expect_null(strstr(eider_store_errmsg(s), "s3cret"), "%s", eider_store_errmsg(s));
    cr_expect_null(strstr(eider_store_location(s), "s3cret"), "%s", eider_store_location(s));
    eider_store_close(s);
}

/* ---- recording ---- */

Test(store, a_run_and_its_events_are_recorded_in_order)
{
    eider_store *s = fresh_store();
    eider_defs *defs = eider_defs_new();
    add(defs, "a", noop, NULL, NULL);
    add(defs, "b", noop, EIDER_KEYS("a"), NULL);
    cr_assert_eq(materialize(defs, s, NULL), EIDER_OK);
    runs_seen runs = runs_of(s, -1);
    cr_assert_eq(runs.n, 1);
    cr_expect_str_eq(runs.status, "success");
    cr_expect_eq(runs.first.n_succeeded, 2);
    cr_expect_str_eq(runs.tags, "{\"team\":\"data\"}");
    cr_expect_gt(runs.first.end_us, 0);
    events_seen ev = { 0 };
    cr_assert_eq(eider_store_events(s, runs.run_id, 0, see_event, &ev), EIDER_OK);
    const char *want[] = { "run_start", "step_start:a", "materialization:a", "step_success:a",
                           "step_start:b", "materialization:b", "step_success:b", "run_end" };
    cr_assert_eq(ev.n, 8);
    for (int i = 0; i < 8; i++)
        cr_expect_str_eq(ev.types[i], want[i]);
    cr_expect_eq(ev.row_count[2], 7);
    eider_defs_free(defs);
    eider_store_close(s);
}

/* A valid selection that holds no step (external assets only, or nothing) is no run:
 * a successful run recorded for it would pass for work done. */
Test(store, a_selection_with_nothing_to_run_records_no_run)
{
    eider_store *s = fresh_store();
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_asset_spec(defs, &(eider_asset_spec_def){ .key = "ext" }), EIDER_OK);
    add(defs, "a", noop, EIDER_KEYS("ext"), NULL);
    cr_assert_eq(materialize(defs, s, "ext"), EIDER_OK);
    cr_assert_eq(materialize(defs, s, "a and not a"), EIDER_OK);
    cr_expect_eq(runs_of(s, -1).n, 0);
    cr_assert_eq(materialize(defs, s, "a"), EIDER_OK);
    cr_expect_eq(runs_of(s, -1).n, 1);
    eider_defs_free(defs);
    eider_store_close(s);
}

Test(store, a_failed_run_keeps_the_failure_and_the_assets_state_says_failed)
{
    eider_store *s = fresh_store();
    eider_defs *defs = eider_defs_new();
    add(defs, "a", boom, NULL, NULL);
    add(defs, "b", noop, EIDER_KEYS("a"), NULL);
    cr_assert_eq(materialize(defs, s, NULL), EIDER_ERUNFAILED);
    runs_seen runs = runs_of(s, eider_run_status_parse("failure"));
    cr_assert_eq(runs.n, 1);
    cr_expect_eq(runs.first.n_failed, 1);
    cr_expect_eq(runs.first.n_skipped, 1);
    events_seen ev = { 0 };
    eider_store_events(s, runs.run_id, 0, see_event, &ev);
    int found = 0;
    for (int i = 0; i < ev.n; i++)
        found |= strcmp(ev.types[i], "step_failure:a") == 0 && strstr(ev.messages[i], "boom: it broke");
    cr_expect(found, "no failure event with the message");
    eider_asset_status st[2];
    cr_assert_eq(eider_store_status(s, defs, st), EIDER_OK);
    cr_expect_eq(st[0], EIDER_ASSET_FAILED);
    cr_expect_eq(st[1], EIDER_ASSET_NEVER);
    eider_defs_free(defs);
    eider_store_close(s);
}

static int many_logs(eider_context *ctx)
{
    for (int i = 0; i < 1500; i++)
        eider_log_info(ctx, "line %d", i);
    return EIDER_OK;
}

static int count_event(int64_t id, const eider_event *ev, void *ud)
{
    (*(int *)ud)++;
    return 0;
}

/* Keeps the id of the last run it sees. */
static int see_last_run(const eider_run_record *r, void *ud)
{
    runs_seen *seen = ud;
    snprintf(seen->run_id, sizeof(seen->run_id), "%s", r->run_id);
    return 0;
}

/* Counts materialization events that carry their step's metadata. */
static int count_materializations(int64_t id, const eider_event *ev, void *ud)
{
    for (size_t i = 0; ev->type == EIDER_EVENT_MATERIALIZATION && i < ev->n_metadata; i++)
        if (strcmp(ev->metadata[i].key, "n") == 0 && ev->metadata[i].i == (int64_t)strlen(ev->asset_key))
            (*(int *)ud)++;
    return 0;
}

Test(store, events_beyond_one_batch_are_all_recorded)
{
    eider_store *s = fresh_store();
    eider_defs *defs = eider_defs_new();
    add(defs, "chatty", many_logs, NULL, NULL);
    cr_assert_eq(materialize(defs, s, NULL), EIDER_OK);
    runs_seen runs = runs_of(s, -1);
    int n = 0;
    eider_store_events(s, runs.run_id, 0, count_event, &n);
    cr_expect_eq(n, 1500 + 5, "events recorded: %d", n);
    eider_defs_free(defs);
    eider_store_close(s);
}

/* One batch that touches an asset's state twice: a failure, then two partitions
 * materialized, then one of them again. PostgreSQL refuses an upsert that meets one
 * key twice, so the writer splits its statements there; the latest row must win. */
Test(store, a_batch_touching_one_asset_twice_keeps_the_latest)
{
    eider_store *s = fresh_store();
    eider__recorder r = { .store = s };
    eider_event_sink sink;
    eider__recorder_sink(&r, &sink);
    const char *both[] = { "x", "y" }, *just_x[] = { "x" };
    eider_meta first = EIDER_META_INT("row_count", 1), second = EIDER_META_INT("row_count", 2);
    eider_event events[] = {
        { .type = EIDER_EVENT_RUN_START, .run_id = "twice", .time_us = 1 },
        { .type = EIDER_EVENT_STEP_FAILURE, .run_id = "twice", .time_us = 2, .asset_key = "p",
          .attempt = 1, .message = "boom", .partitions = both, .n_partitions = 2 },
        { .type = EIDER_EVENT_MATERIALIZATION, .run_id = "twice", .time_us = 3, .asset_key = "p",
          .attempt = 1, .partitions = both, .n_partitions = 2, .metadata = &first, .n_metadata = 1 },
        { .type = EIDER_EVENT_MATERIALIZATION, .run_id = "twice", .time_us = 4, .asset_key = "p",
          .attempt = 1, .partitions = just_x, .n_partitions = 1, .metadata = &second, .n_metadata = 1 },
        { .type = EIDER_EVENT_RUN_END, .run_id = "twice", .time_us = 5, .n_succeeded = 1 },
    };
    for (size_t i = 0; i < EIDER__ARRAY_LEN(events); i++)
        sink.on_event(&events[i], sink.user_data);
    cr_assert_eq(r.failed, 0, "%s", eider_store_errmsg(s));
    cr_expect_eq(query_int(s, "SELECT count(*) FROM asset_state WHERE last_failed = 0"), 2);
    cr_expect_eq(query_int(s, "SELECT last_us FROM asset_state WHERE partition = 'x'"), 4);
    cr_expect_eq(query_int(s, "SELECT last_us FROM asset_state WHERE partition = 'y'"), 3);
    cr_expect_eq(query_int(s, "SELECT count(*) FROM materializations"), 3);
    events_seen ev = { 0 };
    cr_assert_eq(eider_store_events(s, "twice", 0, see_event, &ev), EIDER_OK);
    cr_assert_eq(ev.n, 5);
    cr_expect_str_eq(ev.types[1], "step_failure:p");
    cr_expect_eq(ev.row_count[2], 1, "each materialization event finds its own metadata");
    cr_expect_eq(ev.row_count[3], 2);
    eider_store_close(s);
}

/* "partition=row_count" of each asset record, joined by ','. */
static int record_rows(const eider_asset_record *rec, void *user_data)
{
    char *out = user_data;
    int64_t rows = -1;
    for (size_t i = 0; i < rec->n_metadata; i++)
        if (strcmp(rec->metadata[i].key, "row_count") == 0)
            rows = rec->metadata[i].i;
    snprintf(out + strlen(out), 256 - strlen(out), "%s%s=%lld", *out ? "," : "", rec->partition,
             (long long)rows);
    return 0;
}

/* A materialization of several partitions: each partition's state has its own row
 * count (-1: none known), and the run's event keeps the run's. */
Test(store, each_partition_of_a_run_keeps_its_own_row_count)
{
    eider_store *s = fresh_store();
    eider__recorder r = { .store = s };
    eider_event_sink sink;
    eider__recorder_sink(&r, &sink);
    const char *parts[] = { "x", "y", "z" };
    eider_meta meta[] = { EIDER_META_INT("row_count", 3),
                          EIDER_META_JSON("partition_row_counts", "{\"x\":1,\"y\":2}") };
    eider_event events[] = {
        { .type = EIDER_EVENT_RUN_START, .run_id = "parts", .time_us = 1 },
        { .type = EIDER_EVENT_MATERIALIZATION, .run_id = "parts", .time_us = 2, .asset_key = "p",
          .attempt = 1, .partitions = parts, .n_partitions = 3, .metadata = meta, .n_metadata = 2 },
        { .type = EIDER_EVENT_RUN_END, .run_id = "parts", .time_us = 3, .n_succeeded = 1 },
    };
    for (size_t i = 0; i < EIDER__ARRAY_LEN(events); i++)
        sink.on_event(&events[i], sink.user_data);
    cr_assert_eq(r.failed, 0, "%s", eider_store_errmsg(s));
    char rows[256] = "";
    cr_assert_eq(eider_store_assets(s, "p", record_rows, rows), EIDER_OK);
    cr_expect_str_eq(rows, "x=1,y=2,z=-1");
    events_seen ev = { 0 };
    cr_assert_eq(eider_store_events(s, "parts", 0, see_event, &ev), EIDER_OK);
    cr_expect_eq(ev.row_count[1], 3, "the run's event keeps the run's row count");
    eider_store_close(s);
}

/* ---- dynamic partitions ---- */

static void expect_keys_of(eider_store *s, const char *name, const char *want)
{
    char **keys = NULL, got[256] = "";
    size_t n = 0;
    cr_assert_eq(eider_store_partition_keys(s, name, &keys, &n), EIDER_OK, "%s", eider_store_errmsg(s));
    for (size_t i = 0; i < n; i++)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? "," : "", keys[i]);
    eider_keys_free(keys, n);
    cr_expect_str_eq(got, want, "keys of '%s'", name);
}

Test(store, dynamic_partition_keys_are_kept_in_order_once_and_survive_reopening)
{
    eider_store *s = fresh_store();
    size_t added = 0;
    cr_assert_eq(eider_store_add_partitions(s, "regions", EIDER_KEYS("us", "eu"), &added), EIDER_OK,
                 "%s", eider_store_errmsg(s));
    cr_expect_eq(added, 2);
    cr_assert_eq(eider_store_add_partitions(s, "regions", EIDER_KEYS("eu", "asia", "asia"), &added),
                 EIDER_OK, "%s", eider_store_errmsg(s));
    cr_expect_eq(added, 1, "eu is there already, asia is given twice");
    cr_assert_eq(eider_store_add_partitions(s, "shops", EIDER_KEYS("a"), NULL), EIDER_OK);
    eider_store_close(s);
    cr_assert_eq(eider_store_open(location(), &s), EIDER_OK, "%s", eider_store_errmsg(s));
    expect_keys_of(s, "regions", "us,eu,asia");
    expect_keys_of(s, "shops", "a");
    expect_keys_of(s, "none", "");
    eider_store_close(s);
}

Test(store, a_bad_dynamic_partition_key_adds_none)
{
    eider_store *s = fresh_store();
    cr_expect_eq(eider_store_add_partitions(s, "regions", EIDER_KEYS("ok", "a...b"), NULL), EIDER_EINVAL);
    cr_expect(strstr(eider_store_errmsg(s), "'a...b' contains '...'"), "%s", eider_store_errmsg(s));
    cr_expect_eq(eider_store_add_partitions(s, "regions", EIDER_KEYS("x|y"), NULL), EIDER_EINVAL);
    cr_expect_eq(eider_store_add_partitions(s, "regions", EIDER_KEYS(""), NULL), EIDER_EINVAL);
    expect_keys_of(s, "regions", "");
    eider_store_close(s);
}

/* Reports row_count 7 for a, 8 for anything else. */
static int counted(eider_context *ctx)
{
    eider_add_meta_int(ctx, "row_count", strcmp(eider_asset_key(ctx), "a") ? 8 : 7);
    return EIDER_OK;
}

Test(store, a_wiped_materializations_id_is_never_given_again)
{
    eider_store *s = fresh_store();
    eider_defs *defs = eider_defs_new();
    add(defs, "a", counted, NULL, NULL);
    add(defs, "b", counted, NULL, NULL);
    cr_assert_eq(materialize(defs, s, "a"), EIDER_OK);
    runs_seen first = runs_of(s, -1);
    size_t n = 0;
    cr_assert_eq(eider_store_wipe(s, "a", NULL, &n), EIDER_OK, "%s", eider_store_errmsg(s));
    cr_assert_eq(materialize(defs, s, "b"), EIDER_OK);
    events_seen ev = { 0 };
    cr_assert_eq(eider_store_events(s, first.run_id, 0, see_event, &ev), EIDER_OK);
    for (int i = 0; i < ev.n; i++)
        cr_expect_neq(ev.row_count[i], 8, "the wiped run's event %s shows b's metadata", ev.types[i]);
    cr_expect_eq(query_int(s, "SELECT min(id) FROM materializations"), 2);
    eider_defs_free(defs);
    eider_store_close(s);
}

static int see_long_message(int64_t id, const eider_event *ev, void *ud)
{
    if (ev->type == EIDER_EVENT_LOG)
        *(size_t *)ud = strlen(ev->message) + (strstr(ev->message, "(cut at 1 MiB)") ? 0 : 1u << 30);
    return 0;
}

Test(store, a_message_over_1_mib_is_kept_cut_and_says_so)
{
    eider_store *s = fresh_store();
    eider__recorder r = { .store = s };
    eider_event_sink sink;
    eider__recorder_sink(&r, &sink);
    size_t n = 3u << 20, seen = 0;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    eider_event events[] = {
        { .type = EIDER_EVENT_RUN_START, .run_id = "big", .time_us = 1 },
        { .type = EIDER_EVENT_LOG, .run_id = "big", .time_us = 2, .level = EIDER_LOG_ERROR, .message = big },
        { .type = EIDER_EVENT_RUN_END, .run_id = "big", .time_us = 3 },
    };
    for (size_t i = 0; i < EIDER__ARRAY_LEN(events); i++)
        sink.on_event(&events[i], sink.user_data);
    cr_assert_eq(r.failed, 0, "%s", eider_store_errmsg(s));
    cr_assert_eq(eider_store_events(s, "big", 0, see_long_message, &seen), EIDER_OK, "%s", eider_store_errmsg(s));
    cr_expect_eq(seen, (1u << 20) + strlen(" ... (cut at 1 MiB)"), "%zu", seen);
    free(big);
    eider_store_close(s);
}

/* ---- asset state, staleness, stale() ---- */

static eider_asset_status status_of(eider_store *s, eider_defs *defs, const char *key)
{
    eider_asset_status st[8];
    cr_assert_eq(eider_store_status(s, defs, st), EIDER_OK, "%s", eider_store_errmsg(s));
    return st[eider_defs_find(defs, key)];
}

static eider_defs *chain(const char *b_version)
{
    eider_defs *defs = eider_defs_new();
    add(defs, "a", noop, NULL, NULL);
    add(defs, "b", noop, EIDER_KEYS("a"), b_version);
    add(defs, "c", noop, EIDER_KEYS("b"), NULL);
    cr_assert_eq(eider_asset_spec(defs, &(eider_asset_spec_def){ .key = "ext" }), EIDER_OK);
    return defs;
}

Test(store, a_read_only_open_of_no_store_reads_as_an_empty_one)
{
    eider_store *ro = NULL;
    char **keys = NULL;
    size_t n = 1;
    if (is_postgres())
        return;
    eider_defs *defs = chain(NULL);
    cr_assert_eq(eider_store_open_readonly("missing", &ro), EIDER_ENOTFOUND);
    cr_expect_eq(status_of(ro, defs, "a"), EIDER_ASSET_NEVER);
    cr_expect_eq(status_of(ro, defs, "ext"), EIDER_ASSET_EXTERNAL);
    cr_expect_eq(runs_of(ro, -1).n, 0);
    cr_expect_eq(eider_store_partition_keys(ro, "regions", &keys, &n), EIDER_OK);
    cr_expect_eq(n, 0);
    eider_keys_free(keys, n);
    cr_expect_neq(eider_store_wipe(ro, "a", NULL, &n), EIDER_OK, "a missing store was written");
    eider_store_close(ro);
    cr_expect_neq(access("missing", F_OK), 0, "reading made the store");
    eider_defs_free(defs);
}

Test(store, damaged_events_are_told_as_an_error_line_and_the_rest_is_left_alone)
{
    eider_store *s = fresh_store();
    eider_defs *defs = chain(NULL);
    cr_assert_eq(materialize(defs, s, NULL), EIDER_OK);
    runs_seen runs = runs_of(s, -1);
    cr_assert_eq(eider__store_query(s, "UPDATE event_blocks SET events = '[{\"type\":' WHERE first = 1",
                                    NULL, 0, NULL, NULL), EIDER_OK);
    events_seen ev = { 0 };
    cr_assert_eq(eider_store_events(s, runs.run_id, 0, see_event, &ev), EIDER_OK, "%s", eider_store_errmsg(s));
    cr_assert_geq(ev.n, 1);
    for (int i = 1; i < ev.n; i++)      /* the blocks after it, as they were */
        cr_expect_not(strstr(ev.messages[i], "damaged"), "%s", ev.messages[i]);
    cr_expect_str_eq(ev.types[0], "log", "one line in place of the damaged block");
    cr_expect(strstr(ev.messages[0], "damaged"), "%s", ev.messages[0]);
    cr_expect(strstr(ev.messages[0], "event_blocks"), "%s", ev.messages[0]);
    cr_expect_eq(runs_of(s, -1).n, 1, "the run is still listed");
    cr_expect_eq(status_of(s, defs, "c"), EIDER_ASSET_FRESH, "and the assets' state is whole");
    eider_defs_free(defs);
    eider_store_close(s);
}

/* A block numbered below 1 (the query once kept only blocks ending above the number
 * asked from): told as one error line, not left out with every event in it. */
Test(store, an_event_block_numbered_below_one_is_told_not_dropped)
{
    eider_store *s = fresh_store();
    eider_defs *defs = chain(NULL);
    cr_assert_eq(materialize(defs, s, NULL), EIDER_OK);
    runs_seen runs = runs_of(s, -1);
    cr_assert_eq(eider__store_query(s, "UPDATE event_blocks SET first = -100000", NULL, 0, NULL, NULL),
                 EIDER_OK);
    events_seen ev = { 0 };
    cr_assert_eq(eider_store_events(s, runs.run_id, 0, see_event, &ev), EIDER_OK, "%s", eider_store_errmsg(s));
    cr_assert_geq(ev.n, 1, "the run's events vanished without a word");
    cr_expect(strstr(ev.messages[0], "damaged in table event_blocks"), "%s", ev.messages[0]);
    eider_defs_free(defs);
    eider_store_close(s);
}

/* The store's tables without a version (its rows deleted, or the table dropped) are a
 * damaged store, to read and to write: never an empty one to make again. */
Test(store, a_store_whose_schema_version_is_lost_is_damaged_not_empty)
{
    static const char *const edits[] = { "DELETE FROM eider_schema", "DROP TABLE eider_schema" };
    for (size_t i = 0; i < 2; i++) {
        eider_store *s = fresh_store(), *again = NULL;
        eider_defs *defs = chain(NULL);
        cr_assert_eq(materialize(defs, s, NULL), EIDER_OK);
        cr_assert_eq(eider__store_query(s, edits[i], NULL, 0, NULL, NULL), EIDER_OK);
        eider_store_close(s);
        cr_expect_eq(eider_store_open_readonly(location(), &again), EIDER_EIO, "%s", edits[i]);
        cr_expect(strstr(eider_store_errmsg(again), "eider_schema holds no schema version"),
                  "%s", eider_store_errmsg(again));
        eider_store_close(again);
        cr_expect_eq(eider_store_open(location(), &again), EIDER_EIO, "%s", edits[i]);
        cr_expect(strstr(eider_store_errmsg(again), "restore it"), "%s", eider_store_errmsg(again));
        eider_store_close(again);
        eider_defs_free(defs);
    }
}

static int advice_has(const char *msg, const char *want)
{
    const char *advice = eider__store_advice(msg);
    return advice && strstr(advice, want);
}

/* SQLite's messages that name no cause a user can act on get what to do; others none. */
Test(store, sqlite_errors_that_name_no_cause_get_what_to_do)
{
    cr_expect(advice_has("disk I/O error", "check that the disk"));
    cr_expect(advice_has("file is not a database", "move it away"));
    cr_expect(advice_has("attempt to write a readonly database", "fix their owner or mode"));
    cr_expect(advice_has("database or disk is full", "free some space"));
    cr_expect_null(eider__store_advice("UNIQUE constraint failed: runs.run_id"));
}

/* Anyone who may write a shared store may write anything in it: a version that is no
 * version, a run whose status is none. Every client refuses them with a message. */
Test(store, a_damaged_schema_version_or_run_row_is_refused_with_a_message)
{
    eider_store *s = fresh_store(), *again = NULL;
    eider_defs *defs = chain(NULL);
    cr_assert_eq(materialize(defs, s, NULL), EIDER_OK);
    cr_assert_eq(eider__store_query(s, "UPDATE runs SET status = 'exploded'", NULL, 0, NULL, NULL), EIDER_OK);
    runs_seen seen = { 0 };
    cr_expect_eq(eider_store_runs(s, -1, NULL, 0, see_run, &seen), EIDER_EIO);
    cr_expect(strstr(eider_store_errmsg(s), "damaged row in table runs"), "%s", eider_store_errmsg(s));
    cr_expect(strstr(eider_store_errmsg(s), "its status is 'exploded'"), "%s", eider_store_errmsg(s));
    cr_assert_eq(eider__store_query(s, "UPDATE eider_schema SET version = -1", NULL, 0, NULL, NULL), EIDER_OK);
    eider_store_close(s);
    cr_expect_eq(eider_store_open(location(), &again), EIDER_EIO);
    cr_expect(strstr(eider_store_errmsg(again), "its schema version (table eider_schema) is '-1'"),
              "%s", eider_store_errmsg(again));
    eider_store_close(again);
    cr_expect_eq(eider_store_open_readonly(location(), &again), EIDER_EIO);
    cr_expect(strstr(eider_store_errmsg(again), "is damaged"), "%s", eider_store_errmsg(again));
    eider_store_close(again);
    eider_defs_free(defs);
}

Test(store, staleness_follows_code_versions_and_newer_upstreams_transitively)
{
    eider_store *s = fresh_store();
    eider_defs *defs = chain("1");
    cr_expect_eq(status_of(s, defs, "a"), EIDER_ASSET_NEVER);
    cr_expect_eq(status_of(s, defs, "ext"), EIDER_ASSET_EXTERNAL);
    cr_assert_eq(materialize(defs, s, NULL), EIDER_OK);
    cr_expect_eq(status_of(s, defs, "c"), EIDER_ASSET_FRESH);
    eider__sleep_ms(2);
    cr_assert_eq(materialize(defs, s, "a"), EIDER_OK);
    cr_expect_eq(status_of(s, defs, "a"), EIDER_ASSET_FRESH);
    cr_expect_eq(status_of(s, defs, "b"), EIDER_ASSET_STALE, "an upstream is newer");
    cr_expect_eq(status_of(s, defs, "c"), EIDER_ASSET_STALE, "an upstream is stale");
    cr_assert_eq(materialize(defs, s, "b*"), EIDER_OK);
    cr_expect_eq(status_of(s, defs, "c"), EIDER_ASSET_FRESH);
    eider_defs_free(defs);

    defs = chain("2");
    cr_expect_eq(status_of(s, defs, "a"), EIDER_ASSET_FRESH);
    cr_expect_eq(status_of(s, defs, "b"), EIDER_ASSET_STALE, "its code_version changed");
    cr_expect_eq(status_of(s, defs, "c"), EIDER_ASSET_STALE);
    eider_defs_use_store(defs, s);
    unsigned char sel[4];
    cr_assert_eq(eider_defs_select(defs, "stale()", sel), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect(!sel[0] && sel[1] && sel[2] && !sel[3]);
    cr_assert_eq(eider_defs_select(defs, "stale(c)", sel), EIDER_OK);
    cr_expect(!sel[0] && !sel[1] && sel[2]);
    eider_defs_use_store(defs, NULL);
    cr_assert_eq(eider_defs_select(defs, "stale()", sel), EIDER_ESELECT);
    cr_expect(strstr(eider_defs_errmsg(defs), "instance store"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
    eider_store_close(s);
}

static int partition_meta(eider_context *ctx)
{
    size_t n = 0;
    eider_partition_keys(ctx, &n);
    return n ? EIDER_OK : eider_fail(ctx, "no partition keys");
}

typedef struct parts_seen {
    char partitions[8][32];
    int n;
} parts_seen;

static int see_part(const eider_asset_record *r, void *ud)
{
    parts_seen *p = ud;
    if (p->n < 8)
        snprintf(p->partitions[p->n++], 32, "%s%s", r->partition, r->run_id ? "" : "(none)");
    return 0;
}

Test(store, asset_state_is_kept_per_partition_and_wipe_forgets_it)
{
    eider_store *s = fresh_store();
    eider_defs *defs = eider_defs_new();
    const eider_partitions *p = eider_static_partitions(defs, EIDER_KEYS("x", "y", "z"));
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "parted", .compute = partition_meta,
                                                       .partitions = p }), EIDER_OK);
    eider_run_options o = { .store = s, .partition = "x...y" };
    cr_assert_eq(eider_materialize(defs, &o, NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    o.partition = "z";
    cr_assert_eq(eider_materialize(defs, &o, NULL), EIDER_OK);
    parts_seen seen = { 0 };
    cr_assert_eq(eider_store_assets(s, "parted", see_part, &seen), EIDER_OK);
    cr_assert_eq(seen.n, 3);
    cr_expect_str_eq(seen.partitions[0], "x");
    cr_expect_str_eq(seen.partitions[2], "z");
    parts_seen hist = { 0 };
    cr_assert_eq(eider_store_history(s, "parted", 0, see_part, &hist), EIDER_OK);
    cr_expect_eq(hist.n, 3);
    cr_expect_str_eq(hist.partitions[0], "z", "newest first");
    size_t n = 0;
    cr_assert_eq(eider_store_wipe(s, "parted", "y", &n), EIDER_OK);
    cr_expect_eq(n, 1);
    memset(&seen, 0, sizeof(seen));
    eider_store_assets(s, "parted", see_part, &seen);
    cr_expect_eq(seen.n, 2);
    cr_assert_eq(eider_store_wipe(s, "parted", NULL, &n), EIDER_OK);
    cr_expect_eq(n, 2);
    cr_expect_eq(status_of(s, defs, "parted"), EIDER_ASSET_NEVER);
    eider_defs_free(defs);
    eider_store_close(s);
}

static int sleep_20ms(eider_context *ctx)
{
    usleep(20000);
    return 0;
}

static int see_duration(const eider_asset_record *r, void *ud)
{
    *(double *)ud = r->duration_s;
    return 0;
}

Test(store, a_materialization_keeps_its_steps_duration_unknown_is_minus_one)
{
    eider_store *s = fresh_store();
    eider_defs *defs = eider_defs_new();
    double state = 0, history = 0;
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "slow", .compute = sleep_20ms }),
                 EIDER_OK);
    eider_run_options o = { .store = s };
    cr_assert_eq(eider_materialize(defs, &o, NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_assert_eq(eider_store_assets(s, "slow", see_duration, &state), EIDER_OK);
    cr_assert_eq(eider_store_history(s, "slow", 0, see_duration, &history), EIDER_OK);
    cr_expect(state >= 0.02 && state < 10, "the state's duration_s is %g", state);
    cr_expect_float_eq(history, state, 1e-9, "the history's is the same");
    /* as an older store recorded it: not known */
    cr_assert_eq(eider__store_query(s, "UPDATE materializations SET duration_us = NULL", NULL, 0,
                                    NULL, NULL), EIDER_OK);
    cr_assert_eq(eider_store_history(s, "slow", 0, see_duration, &history), EIDER_OK);
    cr_expect_float_eq(history, -1, 1e-9, "an unknown duration is -1");
    eider_defs_free(defs);
    eider_store_close(s);
}

static int fail_on_y(eider_context *ctx)
{
    size_t n = 0;
    const char *const *k = eider_partition_keys(ctx, &n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(k[i], "y"))
            return eider_fail(ctx, "not y");
    return EIDER_OK;
}

/* The steps a run of selection over partition would have (0: none), run now. */
static size_t steps_of_run(eider_defs *defs, eider_store *s, const char *selection,
                           const char *partition, int all)
{
    eider_run_options o = { .store = s, .selection = selection, .partition = partition,
                            .all_partitions = all, .jobs = 1 };
    eider_result *r = NULL;
    eider_materialize(defs, &o, &r);
    cr_assert(r, "%s", eider_defs_errmsg(defs));
    size_t n = eider_result_count(r);
    eider_result_free(r);
    return n;
}

Test(store, stale_with_a_partition_selects_an_asset_lacking_it_or_whose_try_failed)
{
    eider_store *s = fresh_store();
    eider_defs *defs = eider_defs_new();
    const eider_partitions *p = eider_static_partitions(defs, EIDER_KEYS("x", "y", "z"));
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "parted", .compute = fail_on_y,
                                                       .partitions = p }), EIDER_OK);
    eider_defs_use_store(defs, s);
    cr_expect_eq(steps_of_run(defs, s, "stale()", "x", 0), 1, "never materialized");
    cr_expect_eq(status_of(s, defs, "parted"), EIDER_ASSET_FRESH, "over all its partitions");
    cr_expect_eq(steps_of_run(defs, s, "stale()", "x", 0), 0, "partition x is done");
    cr_expect_eq(steps_of_run(defs, s, "stale()", "z", 0), 1, "partition z never was");
    cr_expect_eq(steps_of_run(defs, s, "stale()", "z", 0), 0, "now it is");
    cr_expect_eq(steps_of_run(defs, s, "stale()", "x...z", 0), 1, "y never was");
    cr_expect_eq(steps_of_run(defs, s, "stale()", "y", 0), 1, "y failed");
    cr_expect_eq(steps_of_run(defs, s, "stale()", NULL, 1), 1, "y failed, of all");
    unsigned char sel[2] = { 0 };
    cr_assert_eq(eider_defs_select_partitions(defs, "stale()", "x", 0, sel), EIDER_OK);
    cr_expect(sel[0], "the range's failure is x's latest try");
    cr_assert_eq(steps_of_run(defs, s, "parted", "x", 0), 1);
    cr_assert_eq(eider_defs_select_partitions(defs, "stale()", "x", 0, sel), EIDER_OK);
    cr_expect(!sel[0], "x is done again");
    cr_assert_eq(eider_defs_select_partitions(defs, "stale()", "x...y", 0, sel), EIDER_OK);
    cr_expect(sel[0], "y is not");
    eider_defs_use_store(defs, NULL);
    eider_defs_free(defs);
    eider_store_close(s);
}

/* The partitions of a run of options, as its result gives them (copied). */
static char *result_partition(eider_defs *defs, eider_run_options *o)
{
    eider_result *r = NULL;
    cr_assert_eq(eider_materialize(defs, o, &r), EIDER_OK, "%s", eider_defs_errmsg(defs));
    const char *p = eider_result_partition(r);
    char *copy = p ? strdup(p) : NULL;
    eider_result_free(r);
    return copy;
}

Test(store, a_result_names_the_partitions_its_run_records)
{
    eider_store *s = fresh_store();
    eider_defs *defs = eider_defs_new();
    const eider_partitions *p = eider_static_partitions(defs, EIDER_KEYS("x", "y", "z"));
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "parted", .compute = partition_meta,
                                                       .partitions = p }), EIDER_OK);
    add(defs, "plain", noop, NULL, NULL);
    eider_run_options o = { .store = s, .selection = "parted", .partition = "x...y", .jobs = 1 };
    char *got = result_partition(defs, &o);
    cr_expect_str_eq(got, "x...y");
    free(got);
    o = (eider_run_options){ .store = s, .selection = "parted", .all_partitions = 1, .jobs = 1 };
    got = result_partition(defs, &o);
    cr_expect_str_eq(got, "all (3)");
    free(got);
    o = (eider_run_options){ .store = s, .selection = "plain", .jobs = 1 };
    got = result_partition(defs, &o);
    cr_expect_null(got, "no step is partitioned");
    free(got);
    runs_seen runs = runs_of(s, -1);
    cr_expect_eq(runs.n, 3);
    eider_defs_free(defs);
    eider_store_close(s);
}

static int fail_always(eider_context *ctx)
{
    return eider_fail(ctx, "no");
}

Test(store, a_plain_run_leaves_out_what_reads_an_asset_whose_every_try_failed)
{
    eider_store *s = fresh_store();
    eider_defs *defs = eider_defs_new();
    const eider_partitions *p = eider_static_partitions(defs, EIDER_KEYS("x", "y"));
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "up", .compute = fail_always,
                                                       .partitions = p }), EIDER_OK);
    add(defs, "down", noop, EIDER_KEYS("up"), NULL);
    eider_run_options o = { .store = s, .selection = "up", .all_partitions = 1, .jobs = 1 };
    cr_assert_eq(eider_materialize(defs, &o, NULL), EIDER_ERUNFAILED);
    cr_expect_eq(status_of(s, defs, "up"), EIDER_ASSET_FAILED);
    eider_result *r = NULL;
    o = (eider_run_options){ .store = s, .jobs = 1 };
    cr_assert_eq(eider_materialize(defs, &o, &r), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_result_count(r), 0, "down is left out too");
    eider_left_out_why why = EIDER_LEFT_OUT_NO_PARTITION;
    const char *upstream = NULL;
    cr_assert_eq(eider_result_left_out_count(r), 2);
    cr_expect_str_eq(eider_result_left_out(r, 1, &why, &upstream), "down");
    cr_expect_eq(why, EIDER_LEFT_OUT_UPSTREAM);
    cr_expect_str_eq(upstream, "up");
    eider_result_free(r);
    eider_defs_free(defs);
    eider_store_close(s);
}

/* ---- crashed runs, gc ---- */

/* Crash marking reads only leases: a lease that ran out is a crash, whatever the pid
 * says; one still good is a live run, even with a pid that no process has here (it
 * may run in another PID namespace or on another host). A run without a lease (an
 * older Eider's) is given ten minutes from its start. */
Test(store, a_started_run_is_marked_crashed_only_when_its_lease_ran_out)
{
    eider_store *s = fresh_store();
    char past[32], future[32], old[32], recent[32];
    int64_t now = eider__now_us();
    snprintf(past, sizeof(past), "%" PRId64, now - 1000000);
    snprintf(future, sizeof(future), "%" PRId64, now + 60000000);
    snprintf(old, sizeof(old), "%" PRId64, now - (int64_t)3600000000);
    snprintf(recent, sizeof(recent), "%" PRId64, now - 1000000);
    const char *lapsed[] = { past }, *live[] = { future }, *legacy_old[] = { old },
               *legacy_new[] = { recent };
    cr_assert_eq(eider__store_query(s, "INSERT INTO runs (run_id, status, host, pid, start_us, lease_until_us) "
                                       "VALUES ('lapsed', 'started', 'elsewhere', 1, 1, ?)", lapsed, 1, NULL, NULL),
                 EIDER_OK, "%s", eider_store_errmsg(s));
    cr_assert_eq(eider__store_query(s, "INSERT INTO runs (run_id, status, host, pid, start_us, lease_until_us) "
                                       "VALUES ('live', 'started', 'elsewhere', 999999999, 2, ?)", live, 1, NULL, NULL),
                 EIDER_OK, "%s", eider_store_errmsg(s));
    cr_assert_eq(eider__store_query(s, "INSERT INTO runs (run_id, status, start_us) "
                                       "VALUES ('legacy-old', 'started', ?)", legacy_old, 1, NULL, NULL),
                 EIDER_OK, "%s", eider_store_errmsg(s));
    cr_assert_eq(eider__store_query(s, "INSERT INTO runs (run_id, status, start_us) "
                                       "VALUES ('legacy-new', 'started', ?)", legacy_new, 1, NULL, NULL),
                 EIDER_OK, "%s", eider_store_errmsg(s));
    eider_store_close(s);
    cr_assert_eq(eider_store_open(location(), &s), EIDER_OK, "%s", eider_store_errmsg(s));
    runs_seen crashed = runs_of(s, eider_run_status_parse("crashed"));
    cr_expect_eq(crashed.n, 2, "the lapsed lease, and the old run without one");
    runs_seen started = runs_of(s, eider_run_status_parse("started"));
    cr_expect_eq(started.n, 2, "the live lease (a pid unknown here), and the new run without one");
    events_seen ev = { 0 };
    eider_store_events(s, "lapsed", 0, see_event, &ev);
    cr_assert_eq(ev.n, 1, "the row's note, told as the run's end");
    cr_expect(strstr(ev.messages[0], "lease ran out"), "%s", ev.messages[0]);
    int64_t blocks = -1;
    cr_assert_eq(eider__store_query(s, "SELECT count(*) FROM event_blocks", NULL, 0, eider__read_i64,
                                    &blocks), EIDER_OK);
    cr_expect_eq(blocks, 0, "the marker takes no event number of the run's");
    eider_store_close(s);
}

Test(store, gc_deletes_old_runs_but_keeps_each_assets_latest_materialization)
{
    eider_store *s = fresh_store();
    eider_defs *defs = chain(NULL);
    cr_assert_eq(materialize(defs, s, NULL), EIDER_OK);
    cr_assert_eq(materialize(defs, s, NULL), EIDER_OK);
    size_t n = 0;
    cr_assert_eq(eider_store_gc(s, 1, &n), EIDER_OK);
    cr_expect_eq(n, 0, "nothing is a day old");
    eider__sleep_ms(2);
    cr_assert_eq(eider_store_gc(s, 0, &n), EIDER_OK, "%s", eider_store_errmsg(s));
    cr_expect_eq(n, 2);
    cr_expect_eq(runs_of(s, -1).n, 0);
    cr_expect_eq(status_of(s, defs, "c"), EIDER_ASSET_FRESH);
    eider_defs_free(defs);
    eider_store_close(s);
}

/* ---- two processes at once ---- */

/* Reports n, the length of its key, so that each event's metadata can be checked. */
static int key_length(eider_context *ctx)
{
    eider_add_meta_int(ctx, "n", (int64_t)strlen(eider_asset_key(ctx)));
    return EIDER_OK;
}

/* Assets 0, 1, ... of process k (an eider_asset_def with .key and .compute set). */
typedef eider_asset_def (*asset_of_fn)(int k, int i, char *key, size_t size);

/* Two processes record one run each into the store at once: process k materializes n
 * assets made by asset_of, with jobs threads. Each must exit 0: eider_materialize
 * returned want, or anything when want < 0. */
static void record_in_two_processes(asset_of_fn asset_of, int n, int jobs, int want)
{
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        if ((kids[k] = fork()) == 0) {
            eider_store *mine = NULL;
            eider_defs *defs = eider_defs_new();
            char key[16];
            for (int i = 0; i < n; i++) {
                eider_asset_def def = asset_of(k, i, key, sizeof(key));
                eider_asset(defs, &def);
            }
            if (eider_store_open(location(), &mine))
                _exit(2);
            eider_run_options o = { .store = mine, .jobs = jobs };
            int rc = eider_materialize(defs, &o, NULL);
            eider_store_close(mine);
            eider_defs_free(defs);
            _exit(want < 0 || rc == want ? 0 : 1);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status = 0;
        waitpid(kids[k], &status, 0);
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d failed", k);
    }
}

/* Process k's own assets, each reporting the length of its key. */
static eider_asset_def own_asset(int k, int i, char *key, size_t size)
{
    snprintf(key, size, "p%d_%d", k, i);
    return (eider_asset_def){ .key = key, .compute = key_length };
}

Test(store, two_processes_recording_at_once_are_both_recorded)
{
    eider_store *s = fresh_store();
    eider_store_close(s);
    record_in_two_processes(own_asset, 300, 2, EIDER_OK);
    cr_assert_eq(eider_store_open(location(), &s), EIDER_OK);
    runs_seen runs = runs_of(s, eider_run_status_parse("success"));
    cr_expect_eq(runs.n, 2);
    cr_expect_eq(query_int(s, "SELECT count(*) FROM asset_state"), 600);
    cr_expect_eq(query_int(s, "SELECT count(*) FROM materializations"), 600);
    cr_expect_eq(query_int(s, "SELECT count(DISTINCT id) FROM materializations"), 600, "ids taken once");
    for (int k = 0; k < 2; k++) {
        runs_seen one = { 0 };
        int n = 0;
        cr_assert_eq(eider_store_runs(s, -1, NULL, 1 + k, see_last_run, &one), EIDER_OK);
        cr_assert_eq(eider_store_events(s, one.run_id, 0, count_materializations, &n), EIDER_OK);
        cr_expect_eq(n, 300, "run %d: %d materialization events with their row_count", k, n);
    }
    eider_store_close(s);
}

/* A run long enough for the WAL to pass the checkpointer's threshold several times: the
 * checkpoints run beside the writer, and the store is whole afterwards. */
Test(store, a_long_run_is_checkpointed_beside_the_writer_and_stays_whole)
{
    eider_store *s = fresh_store();
    eider_defs *defs = eider_defs_new();
    char key[16];
    for (int i = 0; i < 6000; i++) {
        snprintf(key, sizeof(key), "w%d", i);
        eider_asset(defs, &(eider_asset_def){ .key = key, .compute = key_length });
    }
    cr_assert_eq(materialize(defs, s, NULL), EIDER_OK);
    eider_store_close(s);
    cr_assert_eq(eider_store_open(location(), &s), EIDER_OK, "%s", eider_store_errmsg(s));
    if (!is_postgres()) {
        char ok[16] = "";
        cr_assert_eq(eider__store_query(s, "PRAGMA integrity_check", NULL, 0, read_text_col, ok), EIDER_OK);
        cr_expect_str_eq(ok, "ok");
    }
    cr_expect_eq(query_int(s, "SELECT count(*) FROM materializations"), 6000);
    cr_expect_eq(query_int(s, "SELECT count(*) FROM asset_state"), 6000);
    runs_seen runs = runs_of(s, -1);
    int n = 0;
    cr_assert_eq(eider_store_events(s, runs.run_id, 0, count_materializations, &n), EIDER_OK);
    cr_expect_eq(n, 6000);
    eider_defs_free(defs);
    eider_store_close(s);
}

/* Fails, so that a batch holds failures only. */
static int always_fails(eider_context *ctx)
{
    return eider_fail(ctx, "no input today");
}

/* Counts a run's events, and the note that some were lost. */
typedef struct event_tally {
    int n, lost;
} event_tally;

static int tally_event(int64_t id, const eider_event *ev, void *ud)
{
    event_tally *t = ud;
    t->n++;
    t->lost += ev->message && strstr(ev->message, "some of them are missing") != NULL;
    return 0;
}

static event_tally tally_newest_run(eider_store *s, int nth)
{
    runs_seen one = { 0 };
    event_tally t = { 0 };
    cr_assert_eq(eider_store_runs(s, -1, NULL, (size_t)nth, see_last_run, &one), EIDER_OK);
    cr_assert_eq(eider_store_events(s, one.run_id, 0, tally_event, &t), EIDER_OK, "%s", eider_store_errmsg(s));
    return t;
}

/* Two processes record failures of the same assets in opposite orders, in batches of
 * failures only. On PostgreSQL, batches that did not queue on one lock would lock
 * asset_state's rows in opposite orders and deadlock. */
/* The same 400 failing assets in both processes, in opposite orders. */
static eider_asset_def shared_failing_asset(int k, int i, char *key, size_t size)
{
    snprintf(key, size, "f%03d", k ? 399 - i : i);
    return (eider_asset_def){ .key = key, .compute = always_fails };
}

Test(store, two_processes_failing_the_same_assets_in_opposite_orders_both_record)
{
    eider_store *s = fresh_store();
    eider_store_close(s);
    record_in_two_processes(shared_failing_asset, 400, 1, -1);
    cr_assert_eq(eider_store_open(location(), &s), EIDER_OK, "%s", eider_store_errmsg(s));
    cr_expect_eq(runs_of(s, eider_run_status_parse("failure")).n, 2);
    cr_expect_eq(query_int(s, "SELECT count(*) FROM asset_state WHERE last_failed = 1"), 400);
    for (int k = 1; k <= 2; k++) {
        event_tally t = tally_newest_run(s, k);
        cr_expect_eq(t.n, 2 + 400 * 2, "run %d: %d events", k, t.n);
        cr_expect_eq(t.lost, 0);
    }
    eider_store_close(s);
}

/* Make the write of each run's first block of events fail (on), or stop that (off). */
static void break_event_blocks(eider_store *s, int on)
{
    const char *sql = is_postgres()
        ? (on ? "ALTER TABLE event_blocks ADD CONSTRAINT broken CHECK (first <> 1)"
              : "ALTER TABLE event_blocks DROP CONSTRAINT broken")
        : (on ? "CREATE TRIGGER broken BEFORE INSERT ON event_blocks WHEN NEW.first = 1 "
                "BEGIN SELECT RAISE(ABORT, 'broken'); END"
              : "DROP TRIGGER broken");
    cr_assert_eq(eider__store_query(s, sql, NULL, 0, NULL, NULL), EIDER_OK, "%s", eider_store_errmsg(s));
}

/* Takes longer than a batch's 100 ms, so that the run's first events are written (and
 * fail) while it runs. */
static int slow(eider_context *ctx)
{
    eider__sleep_ms(300);
    return EIDER_OK;
}

/* The run's sink's messages about the store, at warning level and above. */
typedef struct store_notes {
    int waiting, missing;
    char last[2048];
} store_notes;

static void see_store_note(const eider_event *ev, void *ud)
{
    store_notes *n = ud;
    if (ev->type != EIDER_EVENT_LOG || ev->level < EIDER_LOG_WARN || !ev->message)
        return;
    n->waiting += strstr(ev->message, "kept (up to 64 MiB) and written when the store is back") != NULL;
    if (strstr(ev->message, "is recorded only in part")) {
        n->missing++;
        snprintf(n->last, sizeof(n->last), "%s", ev->message);
    }
}

/* A run whose first batch can never be written is retried until
 * EIDER_STORE_RETRY_S after its end, which is recorded; the run's sink is told exactly
 * which events are missing, and the next run on the same handle is recorded whole. */
Test(store, a_write_that_keeps_failing_is_retried_then_what_is_missing_is_told)
{
    eider_store *s = fresh_store();
    eider_defs *defs = eider_defs_new();
    add(defs, "a", noop, NULL, NULL);
    add(defs, "b", slow, EIDER_KEYS("a"), NULL);
    add(defs, "c", noop, EIDER_KEYS("b"), NULL);
    setenv("EIDER_STORE_RETRY_S", "0.5", 1);
    break_event_blocks(s, 1);
    store_notes notes = { 0 };
    eider_event_sink sink = { .on_event = see_store_note, .user_data = &notes };
    eider_run_options o = { .store = s, .jobs = 1, .sink = &sink };
    double start = eider__mono_s();
    cr_assert_eq(eider_materialize(defs, &o, NULL), EIDER_OK, "the run itself succeeds");
    cr_expect(eider__mono_s() - start < 5, "retried for a bounded time");
    break_event_blocks(s, 0);
    unsetenv("EIDER_STORE_RETRY_S");
    cr_expect_eq(notes.waiting, 1, "told once that its events wait");
    cr_expect_eq(notes.missing, 1);
    cr_expect(strstr(notes.last, "missing from the store are events 1-11 (11 events, with the "
                                 "materializations of 'a', 'b', 'c')"), "%s", notes.last);
    cr_expect(!strstr(notes.last, "run's end"), "its end is recorded: %s", notes.last);
    cr_assert_eq(materialize(defs, s, NULL), EIDER_OK);
    event_tally next = tally_newest_run(s, 1), spoiled = tally_newest_run(s, 2);
    cr_expect_eq(next.n, 2 + 3 * 3, "the next run whole: %d events", next.n);
    cr_expect_eq(spoiled.n, 0, "%d events", spoiled.n);
    cr_expect_eq(runs_of(s, eider_run_status_parse("success")).n, 2, "both ends recorded");
    eider_defs_free(defs);
    eider_store_close(s);
}

/* Cancels the run once it is told that the run's end waits for the store. */
typedef struct end_waiter {
    eider_atomic_int cancel;
    int told;
} end_waiter;

static void cancel_the_wait(const eider_event *ev, void *user_data)
{
    end_waiter *w = user_data;
    if (ev->type == EIDER_EVENT_LOG && ev->message && strstr(ev->message, "to stop waiting")) {
        w->told++;
        atomic_store(&w->cancel, 1);
    }
}

/* The run's cancel flag stops the wait of its end for a store that fails (Ctrl-C in the
 * CLI), and the result says what the store lacks. */
Test(store, the_cancel_flag_stops_the_end_waiting_for_the_store)
{
    eider_store *s = fresh_store();
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    add(defs, "a", noop, NULL, NULL);
    setenv("EIDER_STORE_RETRY_S", "60", 1);
    break_event_blocks(s, 1);
    end_waiter w = { 0 };
    eider_event_sink sink = { .on_event = cancel_the_wait, .user_data = &w };
    eider_run_options o = { .store = s, .jobs = 1, .sink = &sink, .cancel = &w.cancel };
    double start = eider__mono_s();
    eider_materialize(defs, &o, &r);
    cr_expect(eider__mono_s() - start < 5, "the wait stopped: %.1f s", eider__mono_s() - start);
    break_event_blocks(s, 0);
    unsetenv("EIDER_STORE_RETRY_S");
    cr_expect_eq(w.told, 1, "told once that the end waits, and how to stop it");
    const char *missing = eider_result_unrecorded(r);
    cr_assert(missing, "the result says what the store lacks");
    cr_expect(strstr(missing, "events 1-5 (5 events, with the materialization of 'a')"), "%s", missing);
    eider_result_free(r);
    r = NULL;
    o = (eider_run_options){ .store = s, .jobs = 1 };
    cr_assert_eq(eider_materialize(defs, &o, &r), EIDER_OK);
    cr_expect_null(eider_result_unrecorded(r), "a run recorded whole lacks nothing");
    eider_result_free(r);
    eider_defs_free(defs);
    eider_store_close(s);
}

static eider_store *mending_store;

/* Mends the store (that failed every write until now) half-way through the run. */
static int mend(eider_context *ctx)
{
    eider__sleep_ms(300);
    break_event_blocks(mending_store, 0);
    eider__sleep_ms(300);
    return EIDER_OK;
}

/* A store that fails for a while loses nothing: what it could not take is kept and
 * written, in order, once it is back, before the run's end. */
Test(store, a_write_that_fails_for_a_while_loses_nothing)
{
    eider_store *s = mending_store = fresh_store();
    eider_defs *defs = eider_defs_new();
    add(defs, "a", noop, NULL, NULL);
    add(defs, "b", mend, EIDER_KEYS("a"), NULL);
    add(defs, "c", noop, EIDER_KEYS("b"), NULL);
    break_event_blocks(s, 1);
    store_notes notes = { 0 };
    eider_event_sink sink = { .on_event = see_store_note, .user_data = &notes };
    eider_run_options o = { .store = s, .jobs = 1, .sink = &sink };
    cr_assert_eq(eider_materialize(defs, &o, NULL), EIDER_OK);
    cr_expect_eq(notes.waiting, 1, "told that its events wait");
    cr_expect_eq(notes.missing, 0, "%s", notes.last);
    event_tally t = tally_newest_run(s, 1);
    cr_expect_eq(t.n, 2 + 3 * 3, "every event: %d", t.n);
    cr_expect_eq(runs_of(s, eider_run_status_parse("success")).n, 1);
    cr_expect_eq(query_int(s, "SELECT count(*) FROM materializations"), 3);
    cr_expect_eq(query_int(s, "SELECT count(*) FROM asset_state WHERE materialization_id IS NOT NULL"), 3);
    eider_defs_free(defs);
    eider_store_close(s);
}

/* Logs 80 lines of a MiB each while the store fails, then mends it. */
static int chatty(eider_context *ctx)
{
    size_t n = (1u << 20) - 1;
    char *line = malloc(n + 1);
    memset(line, 'x', n);
    line[n] = '\0';
    eider__sleep_ms(300);            /* the run's first batch has failed by now */
    for (int i = 0; i < 80; i++)
        eider_log_info(ctx, "%s", line);
    free(line);
    break_event_blocks(mending_store, 0);
    return EIDER_OK;
}

static int count_unkept_note(int64_t id, const eider_event *ev, void *ud)
{
    if (ev->message && strstr(ev->message, "of this run were not kept while the instance store "
                                           "was out of reach (more than 64 MiB waited)"))
        (*(int *)ud)++;
    return 0;
}

/* While a failing store holds 64 MiB, what comes next is not kept but counted: once the
 * store is back, the run's events say which are missing (before its end), and so does
 * its sink. */
Test(store, past_64_mib_held_events_are_dropped_and_named)
{
    eider_store *s = mending_store = fresh_store();
    eider_defs *defs = eider_defs_new();
    add(defs, "chatty", chatty, NULL, NULL);
    break_event_blocks(s, 1);
    store_notes notes = { 0 };
    eider_event_sink sink = { .on_event = see_store_note, .user_data = &notes };
    eider_run_options o = { .store = s, .jobs = 1, .sink = &sink };
    cr_assert_eq(eider_materialize(defs, &o, NULL), EIDER_OK);
    cr_expect_eq(notes.missing, 1);
    cr_expect(strstr(notes.last, "were not kept while the store was out of reach (more than 64 MiB "
                                 "waited)") && !strstr(notes.last, "run's end"), "%s", notes.last);
    event_tally t = tally_newest_run(s, 1);
    int stored_notes = 0;
    runs_seen one = { 0 };
    cr_assert_eq(eider_store_runs(s, -1, NULL, 1, see_last_run, &one), EIDER_OK);
    cr_assert_eq(eider_store_events(s, one.run_id, 0, count_unkept_note, &stored_notes), EIDER_OK);
    cr_expect_eq(stored_notes, 1, "the note is stored with the run's events");
    cr_expect(t.n > 60 && t.n < 80, "about 64 of the 80 lines kept: %d events", t.n);
    cr_expect_eq(runs_of(s, eider_run_status_parse("success")).n, 1);
    eider_defs_free(defs);
    eider_store_close(s);
}

/* ---- observations ---- */

static int observe_source(eider_context *ctx)
{
    int rc = eider_observe(ctx, "ext", EIDER_METADATA(EIDER_META_INT("rows_seen", 150)), 1);
    if (rc)
        return rc;
    return eider_observe(ctx, "no such asset", NULL, 0) == EIDER_OK ? eider_fail(ctx, "observed nothing")
                                                                   : EIDER_OK;
}

static int see_observation(int64_t id, const eider_event *ev, void *ud)
{
    int64_t *rows = ud;
    if (ev->type == EIDER_EVENT_OBSERVATION && strcmp(ev->asset_key, "ext") == 0)
        for (size_t i = 0; i < ev->n_metadata; i++)
            if (strcmp(ev->metadata[i].key, "rows_seen") == 0)
                *rows = ev->metadata[i].i;
    return 0;
}

Test(store, an_observation_of_an_external_asset_is_recorded_with_its_metadata)
{
    eider_store *s = fresh_store();
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_asset_spec(defs, &(eider_asset_spec_def){ .key = "ext" }), EIDER_OK);
    add(defs, "watcher", observe_source, EIDER_KEYS("ext"), NULL);
    eider_result *r = NULL;
    eider_run_options o = { .store = s };
    int rc = eider_materialize(defs, &o, &r);
    cr_assert_eq(rc, EIDER_ERUNFAILED, "an unknown asset's observation fails the step");
    cr_expect(strstr(eider_result_error(r, 0), "no asset 'no such asset'"), "%s", eider_result_error(r, 0));
    eider_result_free(r);
    runs_seen runs = runs_of(s, -1);
    int64_t rows = 0;
    cr_assert_eq(eider_store_events(s, runs.run_id, 0, see_observation, &rows), EIDER_OK);
    cr_expect_eq(rows, 150);
    eider_defs_free(defs);
    eider_store_close(s);
}

/* ---- asset checks ---- */

static int says(eider_context *ctx)
{
    const char *verdict = eider_user_data(ctx);
    eider_add_meta_text(ctx, "verdict", verdict);
    return strcmp(verdict, "bad") == 0 ? eider_check_failed(ctx, "it is %s", verdict) : EIDER_OK;
}

typedef struct checks_seen {
    int n;
    char names[256];
    eider_check_record first;        /* its strings are not kept: copied below */
    char first_message[128], first_meta[128], first_partition[64];
} checks_seen;

static int see_check(const eider_check_record *r, void *ud)
{
    checks_seen *c = ud;
    if (!c->n++) {
        c->first = *r;
        snprintf(c->first_message, sizeof(c->first_message), "%s", r->message ? r->message : "");
        snprintf(c->first_partition, sizeof(c->first_partition), "%s", r->partition);
        for (size_t i = 0; i < r->n_metadata; i++)
            if (strcmp(r->metadata[i].key, "verdict") == 0)
                snprintf(c->first_meta, sizeof(c->first_meta), "%s", r->metadata[i].text);
    }
    size_t len = strlen(c->names);
    snprintf(c->names + len, sizeof(c->names) - len, "%s%s:%s", len ? "," : "", r->check_name,
             eider_check_status_name(r->status));
    return 0;
}

/* Each check's outcome is recorded per run: its history newest first, the latest of
 * each check, its message and metadata; wiping the asset forgets them. */
Test(store, check_outcomes_are_recorded_with_their_history)
{
    eider_store *s = fresh_store();
    eider_defs *defs = eider_defs_new();
    add(defs, "a", noop, NULL, NULL);
    cr_assert_eq(eider_asset_check(defs, &(eider_check_def){ .asset = "a", .name = "mood",
                     .compute = says, .user_data = "good", .severity = EIDER_CHECK_WARN }), EIDER_OK);
    cr_assert_eq(materialize(defs, s, NULL), EIDER_OK);
    defs->checks[0].user_data = "bad";
    cr_assert_eq(materialize(defs, s, NULL), EIDER_OK, "a warning does not fail the run");
    checks_seen all = { 0 }, latest = { 0 };
    cr_assert_eq(eider_store_checks(s, "a", NULL, 0, 0, see_check, &all), EIDER_OK,
                 "%s", eider_store_errmsg(s));
    cr_expect_eq(all.n, 2);
    cr_expect_str_eq(all.names, "mood:failed,mood:passed", "newest first");
    cr_expect_str_eq(all.first_message, "it is bad");
    cr_expect_str_eq(all.first_meta, "bad");
    cr_expect_eq(all.first.severity, EIDER_CHECK_WARN);
    cr_expect_str_eq(all.first_partition, "");
    cr_assert_eq(eider_store_checks(s, "a", "mood", 1, 0, see_check, &latest), EIDER_OK);
    cr_expect_eq(latest.n, 1, "the latest outcome only");
    cr_expect_eq(latest.first.status, EIDER_CHECK_FAILED);
    size_t wiped = 0;
    cr_assert_eq(eider_store_wipe(s, "a", NULL, &wiped), EIDER_OK);
    checks_seen after = { 0 };
    cr_assert_eq(eider_store_checks(s, "a", NULL, 0, 0, see_check, &after), EIDER_OK);
    cr_expect_eq(after.n, 0, "wiping an asset forgets its checks' outcomes");
    eider_defs_free(defs);
    eider_store_close(s);
}

/* A run's events hold the check's outcome, read back as the event it was. */
static int find_check_event(int64_t id, const eider_event *ev, void *ud)
{
    (void)id;
    if (ev->type == EIDER_EVENT_CHECK)
        *(eider_event *)ud = *ev;
    return 0;
}

Test(store, a_check_event_is_read_back_with_its_outcome)
{
    eider_store *s = fresh_store();
    eider_defs *defs = eider_defs_new();
    add(defs, "a", noop, NULL, NULL);
    cr_assert_eq(eider_asset_check(defs, &(eider_check_def){ .asset = "a", .name = "mood",
                     .compute = says, .user_data = "bad", .blocking = 1 }), EIDER_OK);
    eider_result *r = NULL;
    eider_run_options o = { .store = s, .jobs = 1 };
    cr_assert_eq(eider_materialize(defs, &o, &r), EIDER_ERUNFAILED, "a blocking check fails the step");
    eider_event ev = { 0 };
    cr_assert_eq(eider_store_events(s, eider_result_run_id(r), 0, find_check_event, &ev), EIDER_OK);
    cr_expect_eq(ev.type, EIDER_EVENT_CHECK);
    cr_expect_eq(ev.check_status, EIDER_CHECK_FAILED);
    cr_expect_eq(ev.check_blocking, 1);
    eider_result_free(r);
    eider_defs_free(defs);
    eider_store_close(s);
}
