#!/usr/bin/env bash
# test_worker.sh — `eider materialize` runs the assets' code in a run worker, so that
# whatever that code does to its process is recorded truly by eider, which survives
# it: a segfault, exit(0), exit(3), abort(), a stack overflow, kill -9 from outside and
# a self-inflicted SIGKILL (the out-of-memory killer's stand-in). Every event before
# the death is in the store, the running asset failed with the signal or exit status,
# the run is recorded crashed, eider exits 6 naming the asset (_exit() too). A segfault inside
# eider_definitions() names the definitions and the signal. Per-asset timeouts: a
# long DuckDB query is interrupted at its deadline; C code that does not return gets
# the worker killed after the grace period.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# first succeeds; second does what HOW says once its pid is in second.pid; third reads
# second. slow_sql and slow_c have a 1 s timeout, and are slow when HOW says so.
write_definitions() {
    cat >definitions.c <<'EOF'
#include <eider.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *how(void)
{
    return getenv("HOW") ? getenv("HOW") : "";
}

static int first(eider_context *ctx)
{
    eider_log(ctx, EIDER_LOG_INFO, "first is done");
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"),
                     "CREATE OR REPLACE TABLE a AS SELECT 42 AS x");
}

/* Deep enough to overflow any stack: each frame holds 4 KiB. */
static int recurse(volatile int n)
{
    volatile char pad[4096];
    pad[n % 4096] = (char)n;
    return n < 0 ? 0 : recurse(n + 1) + pad[n % 4096];
}

static void note_pid(void)
{
    FILE *f = fopen("second.pid.tmp", "w");
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    rename("second.pid.tmp", "second.pid");
}

static int second(eider_context *ctx)
{
    const char *h = how();
    eider_log(ctx, EIDER_LOG_INFO, "second is about to %s", *h ? h : "succeed");
    note_pid();
    if (!strcmp(h, "segv"))
        *(volatile int *)NULL = 1;
    if (!strcmp(h, "exit0"))
        exit(0);
    if (!strcmp(h, "exit3"))
        exit(3);
    if (!strcmp(h, "_exit5"))
        _exit(5);
    if (!strcmp(h, "abort"))
        abort();
    if (!strcmp(h, "overflow"))
        return recurse(1);
    if (!strcmp(h, "selfkill"))
        raise(SIGKILL);
    if (!strcmp(h, "wait"))
        sleep(60);
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"),
                     "CREATE OR REPLACE TABLE b AS SELECT 2 AS x");
}

static int third(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"),
                     "CREATE OR REPLACE TABLE c AS SELECT 3 AS x");
}

static int slow_sql(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"), strcmp(how(), "slow")
        ? "CREATE OR REPLACE TABLE s AS SELECT 1 AS n"
        : "CREATE OR REPLACE TABLE s AS SELECT count(*) AS n FROM range(1000000000000)");
}

static int slow_c(eider_context *ctx)
{
    eider_log(ctx, EIDER_LOG_INFO, "slow_c starts");
    if (!strcmp(how(), "slow"))
        sleep(60);
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"),
                     "CREATE OR REPLACE TABLE t AS SELECT 1 AS n");
}

void eider_definitions(eider_defs *defs)
{
    if (!strcmp(how(), "defs"))
        *(volatile int *)NULL = 1;
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "w.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "first", .compute = first });
    eider_asset(defs, &(eider_asset_def){ .key = "second", .compute = second,
                                          .deps = EIDER_KEYS("first") });
    eider_asset(defs, &(eider_asset_def){ .key = "third", .compute = third,
                                          .deps = EIDER_KEYS("second") });
    eider_asset(defs, &(eider_asset_def){ .key = "slow_sql", .compute = slow_sql,
                                          .group = "slow", .timeout_s = 1 });
    eider_asset(defs, &(eider_asset_def){ .key = "slow_c", .compute = slow_c,
                                          .group = "slow", .timeout_s = 1 });
}
EOF
    HOW= run "$EIDER" materialize
    expect_rc 0
}

last_run_id() {
    "$EIDER" runs --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["run_id"])'
}

# expect_recorded STEP_MESSAGE: the last run is recorded crashed, first succeeded,
# second failed with STEP_MESSAGE, third was skipped; its log holds every event before
# the death; `eider list` shows second failed (not fresh from the first run).
expect_recorded() {
    local id
    id=$(last_run_id)
    run "$EIDER" run show "$id" --json
    expect_rc 0
    python3 - "$1" <<'PY' || fail "run show is not: crashed, first ok, second failed with '$1', third skipped"
import json, sys
d = json.load(open("out.txt"))
steps = {s["key"]: s for s in d["steps"]}
ok = (d["status"] == "crashed" and steps["first"]["status"] == "success"
      and steps["second"]["status"] == "failure" and sys.argv[1] in steps["second"]["error"]
      and steps["third"]["status"] == "skipped" and d["n_succeeded"] == 1
      and any(sys.argv[1] in n for n in d["notes"]))
sys.exit(0 if ok else 1)
PY
    run "$EIDER" logs "$id"
    expect_rc 0
    expect_in out.txt "first is done"
    expect_in out.txt "second is about to"
    expect_in out.txt "step_failure"
    expect_in out.txt "run_end"
    run "$EIDER" list --json
    check_json out.txt '[a["status"] for a in d if a["key"] == "second"] == ["failed"]'
}

# crash_case HOW MESSAGE: materialize first, second and third with second doing HOW.
crash_case() {
    write_definitions
    HOW=$1 run "$EIDER" materialize --select 'group:default'
    expect_rc 6
    expect_in err.txt "$2"
    expect_in err.txt "the run is recorded crashed"
    expect_in out.txt "run crashed: 1 materialized, 1 failed, 1 skipped"
    expect_recorded "$2"
    expect_eq "$("$DQ" w.duckdb 'SELECT x FROM a')" 42 "table a of the asset before the crash"
}

# --in-process (for a debugger) runs second in eider's own process; by default a run
# worker, a child of eider, runs it.
in_process_runs_the_assets_in_eiders_own_process() {
    write_definitions
    local pid
    "$EIDER" materialize --select 'group:default' --in-process >out.txt 2>err.txt &
    pid=$!
    wait "$pid" || fail "materialize --in-process failed: $(cat err.txt)"
    expect_eq "$(cat second.pid)" "$pid" "the pid second ran in, with --in-process"
    "$EIDER" materialize --select 'group:default' >out.txt 2>err.txt &
    pid=$!
    wait "$pid" || fail "materialize failed: $(cat err.txt)"
    [[ "$(cat second.pid)" != "$pid" ]] || fail "second ran in eider's own process without --in-process"
}

segfault_after_a_success_is_recorded_truly() {
    crash_case segv "asset 'second' crashed the run worker with SIGSEGV (signal 11)"
}

# --json prints the run's one document, status "crashed", and the error on stderr.
segfault_with_json_prints_one_document() {
    write_definitions
    HOW=segv run "$EIDER" materialize --select 'group:default' --json
    expect_rc 6
    check_json out.txt 'd["status"] == "crashed" and [s["status"] for s in d["steps"]] == ["success", "failure", "skipped"]'
    expect_in err.txt "asset 'second' crashed the run worker with SIGSEGV (signal 11)"
}

exit_0_in_an_asset_is_no_success() {
    crash_case exit0 "asset 'second' ended the run worker: it called exit(0)"
}

exit_3_in_an_asset_is_no_definitions_error() {
    crash_case exit3 "asset 'second' ended the run worker: it called exit(3)"
}

underscore_exit_is_recorded() {
    crash_case _exit5 "asset 'second' ended the run worker: it exited with status 5"
}

abort_is_recorded() {
    crash_case abort "asset 'second' crashed the run worker with SIGABRT (signal 6)"
}

stack_overflow_is_recorded() {
    crash_case overflow "asset 'second' crashed the run worker with SIGSEGV (signal 11)"
}

self_sigkill_is_recorded() {
    crash_case selfkill "the run worker was killed with SIGKILL (signal 9) while asset 'second' ran"
}

# kill -9 of the worker (second's process) from outside, while second sleeps.
kill_9_of_the_worker_is_recorded() {
    write_definitions
    local pid i
    rm -f second.pid                 # the first run's
    HOW=wait "$EIDER" materialize --select 'group:default' >out.txt 2>err.txt &
    pid=$!
    BACKGROUND_PIDS+=("$pid")
    for i in $(seq 100); do
        [[ -f second.pid ]] && break
        sleep 0.1
    done
    [[ -f second.pid ]] || fail "second never started"
    [[ "$(cat second.pid)" != "$pid" ]] || fail "second runs in eider's own process, not a worker"
    kill -9 "$(cat second.pid)"
    set +e
    wait "$pid"
    RC=$?
    set -e
    expect_rc 6
    expect_in err.txt "the run worker was killed with SIGKILL (signal 9) while asset 'second' ran"
    expect_in err.txt "out-of-memory killer"
    expect_recorded "killed with SIGKILL (signal 9)"
}

segfault_in_definitions_names_them() {
    write_definitions
    HOW=defs run "$EIDER" materialize
    expect_rc 6
    expect_in err.txt "error: the definitions '$PWD/definitions.c' crashed with SIGSEGV (signal 11)"
    HOW=defs run "$EIDER" list
    expect_rc 6
    expect_in err.txt "crashed with SIGSEGV (signal 11) while they were loaded"
}

# A query past its asset's timeout is interrupted: the step fails "timed out", the
# run fails (no crash), within seconds.
timeout_interrupts_a_query() {
    write_definitions
    local start=$SECONDS
    HOW=slow run "$EIDER" materialize --select slow_sql --json
    expect_rc 1
    (( SECONDS - start <= 10 )) || fail "the timed-out query ran $((SECONDS - start)) s"
    check_json out.txt 'd["status"] == "failure" and d["steps"][0]["error"].startswith("timed out after 1 s")'
    run "$EIDER" list --json
    check_json out.txt '[a["status"] for a in d if a["key"] == "slow_sql"] == ["failed"]'
}

# The I/O manager's write is part of the attempt: eider_output_sql() returns at once, and
# the query it gives, run when the I/O manager stores it, is interrupted at the deadline
# (it used to run on until the grace killed the worker).
timeout_interrupts_the_io_managers_write() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int slow_out(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT count(*) AS n FROM range(1000000000) a, range(1000) b");
}
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "w.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "slow_out", .compute = slow_out, .timeout_s = 1 });
}
EOF
    local start=$SECONDS
    run "$EIDER" materialize --json
    expect_rc 1
    (( SECONDS - start <= 4 )) || fail "the timed-out write ran $((SECONDS - start)) s"
    check_json out.txt 'd["status"] == "failure" and d["steps"][0]["error"].startswith("timed out after 1 s")'
}

# C code past its timeout and the 5 s grace gets the worker killed; the run is crashed.
timeout_kills_code_that_does_not_return() {
    write_definitions
    local start=$SECONDS
    HOW=slow run "$EIDER" materialize --select slow_c
    expect_rc 6
    (( SECONDS - start >= 5 && SECONDS - start <= 20 )) || fail "the kill came after $((SECONDS - start)) s"
    expect_in err.txt "asset 'slow_c' timed out after 1 s and did not return within the 5 s grace: the run worker was killed with SIGKILL (signal 9)"
    run "$EIDER" run show "$(last_run_id)" --json
    check_json out.txt 'd["status"] == "crashed" and d["steps"][0]["status"] == "failure" and "timed out after 1 s" in d["steps"][0]["error"]'
    run "$EIDER" logs "$(last_run_id)"
    expect_in out.txt "slow_c starts"
}

run_case in_process_runs_the_assets_in_eiders_own_process
run_case segfault_after_a_success_is_recorded_truly
run_case segfault_with_json_prints_one_document
run_case exit_0_in_an_asset_is_no_success
run_case exit_3_in_an_asset_is_no_definitions_error
run_case underscore_exit_is_recorded
run_case abort_is_recorded
run_case stack_overflow_is_recorded
run_case self_sigkill_is_recorded
run_case kill_9_of_the_worker_is_recorded
run_case segfault_in_definitions_names_them
run_case timeout_interrupts_a_query
run_case timeout_interrupts_the_io_managers_write
run_case timeout_kills_code_that_does_not_return
finish
