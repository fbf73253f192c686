#!/usr/bin/env bash
# test_cancel.sh — Ctrl-C (SIGINT) or SIGTERM cancels a run: the running query is
# interrupted at once, nothing further starts, the run exits 130 with the canceled
# assets listed, committed tables stay, and the next run works.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

write_defs() {
    cat >definitions.c <<'EOF'
#include <eider.h>
#include <stdio.h>
#include <stdlib.h>

static int first(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"),
                     "CREATE OR REPLACE TABLE a AS SELECT 1 AS x");
}

/* Runs for minutes unless interrupted; FAST=1 makes it quick. */
static int slow(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "duckdb");
    FILE *f = fopen("slow.started", "w");
    if (f)
        fclose(f);
    return eider_sql(ctx, con, getenv("FAST")
        ? "CREATE OR REPLACE TABLE b AS SELECT 1 AS n"
        : "CREATE OR REPLACE TABLE b AS SELECT count(*) AS n FROM range(1000000000000)");
}

static int after(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"),
                     "CREATE OR REPLACE TABLE c AS SELECT 3 AS x");
}

void eider_definitions(eider_defs *defs)
{
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "cancel.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "first", .compute = first });
    eider_asset(defs, &(eider_asset_def){ .key = "slow", .compute = slow, .deps = EIDER_KEYS("first") });
    eider_asset(defs, &(eider_asset_def){ .key = "after", .compute = after, .deps = EIDER_KEYS("slow") });
}
EOF
    run "$EIDER" list
    expect_rc 0
}

# cancel_with SIGNAL JOBS: start a run, send SIGNAL once slow is running, and check
# that it ends within 5 s, canceled.
cancel_with() {
    write_defs
    "$EIDER" materialize --jobs "$2" >out.txt 2>err.txt &
    local pid=$! i start
    BACKGROUND_PIDS+=("$pid")
    for i in $(seq 100); do
        [[ -f slow.started ]] && break
        sleep 0.1
    done
    [[ -f slow.started ]] || fail "the slow asset never started"
    sleep 0.3
    start=$(date +%s)
    kill "-$1" "$pid"
    set +e
    wait "$pid"
    RC=$?
    set -e
    (( $(date +%s) - start <= 5 )) || fail "the run took more than 5 s to stop"
    expect_rc 130
    expect_in err.txt "canceling: interrupting the running assets"
    expect_in out.txt "canceled while running"
    expect_in out.txt "canceled before it started"
    expect_in out.txt "run canceled: 1 materialized, 0 failed, 0 skipped, 2 canceled"
    expect_in out.txt "canceled: "
    expect_eq "$(dq cancel.duckdb 'SELECT x FROM a')" 1 "table a of the finished asset"
    expect_eq "$(dq cancel.duckdb "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('b', 'c')")" \
        0 "tables of the canceled assets"
    FAST=1 run "$EIDER" materialize
    expect_rc 0
    expect_eq "$(dq cancel.duckdb 'SELECT x FROM c')" 3 "table c after a full run"
}

sigint_cancels_a_run_on_one_thread() {
    cancel_with INT 1
}

sigterm_cancels_a_run_on_a_pool() {
    cancel_with TERM 2
}

canceled_run_in_json_says_so() {
    write_defs
    "$EIDER" materialize --json >out.txt 2>err.txt &
    local pid=$! i
    BACKGROUND_PIDS+=("$pid")
    for i in $(seq 100); do
        [[ -f slow.started ]] && break
        sleep 0.1
    done
    kill -INT "$pid"
    set +e
    wait "$pid"
    RC=$?
    set -e
    expect_rc 130
    expect_in out.txt '"status": "canceled"'
}

run_case sigint_cancels_a_run_on_one_thread
run_case sigterm_cancels_a_run_on_a_pool
run_case canceled_run_in_json_says_so
finish
