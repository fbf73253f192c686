#!/usr/bin/env bash
# test_lock.sh — two real `eider materialize` processes on one DuckDB file: the second
# waits for the first's lock up to --lock-timeout, then fails with a message that names
# the file and the holder (never DuckDB's raw lock error), or succeeds once the first
# has finished.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HOLD_SECONDS=3

# holder.c holds shared.duckdb open for HOLD_SECONDS inside its step, after touching
# holder.started; waiter.c writes to the same file.
write_definitions() {
    cat >holder.c <<EOF
#include <eider.h>
#include <stdio.h>
#include <unistd.h>

static int hold(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "duckdb");
    int rc = eider_sql(ctx, con, "CREATE OR REPLACE TABLE held AS SELECT 42 AS answer");
    if (rc)
        return rc;
    FILE *f = fopen("holder.started", "w");
    if (f)
        fclose(f);
    sleep($HOLD_SECONDS);
    return 0;
}

void eider_definitions(eider_defs *defs)
{
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "shared.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "held", .compute = hold });
}
EOF
    cat >waiter.c <<'EOF'
#include <eider.h>

static int write_table(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "duckdb");
    return eider_sql(ctx, con, "CREATE OR REPLACE TABLE waited AS SELECT 'b' AS who");
}

void eider_definitions(eider_defs *defs)
{
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "./shared.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "waited", .compute = write_table });
}
EOF
    # compile both now, so that compiling does not eat into the holder's window
    run "$EIDER" list -f holder.c
    expect_rc 0
    run "$EIDER" list -f waiter.c
    expect_rc 0
}

# start_holder [EIDER-BINARY]: process A in the background, once it holds the file.
start_holder() {
    local bin=${1:-$EIDER}
    rm -f holder.started
    "$bin" materialize -f holder.c >holder.out 2>&1 &
    HOLDER=$!
    trap 'kill "$HOLDER" 2>/dev/null || true; wait "$HOLDER" 2>/dev/null || true' EXIT
    local i
    for ((i = 0; i < 300; i++)); do
        if [[ -e holder.started ]]; then
            # the database is held by the holder's run worker, its child process
            WORKER=$(cat "/proc/$HOLDER/task/$HOLDER/children")
            WORKER=${WORKER%% *}
            return 0
        fi
        kill -0 "$HOLDER" 2>/dev/null || fail "the holder exited early: $(cat holder.out)"
        sleep 0.1
    done
    fail "the holder never started its step"
}

wait_holder() {
    local rc=0
    wait "$HOLDER" || rc=$?
    trap - EXIT
    [[ $rc == 0 ]] || fail "the holder failed with $rc: $(cat holder.out)"
}

now() {
    date +%s.%N
}

# elapsed_at_least T0 SECONDS / elapsed_below T0 SECONDS
elapsed_at_least() {
    awk -v t0="$1" -v t1="$(now)" -v s="$2" 'BEGIN { exit !(t1 - t0 >= s) }' ||
        fail "finished sooner than $2 s"
}

elapsed_below() {
    awk -v t0="$1" -v t1="$(now)" -v s="$2" 'BEGIN { exit !(t1 - t0 < s) }' ||
        fail "took $2 s or more"
}

table_count() {
    dq shared.duckdb "SELECT count(*) FROM information_schema.tables WHERE table_name = '$1'"
}

short_timeout_fails_naming_the_file_and_the_holder() {
    write_definitions
    start_holder
    local t0
    t0=$(now)
    run "$EIDER" materialize -f waiter.c --lock-timeout 1
    elapsed_at_least "$t0" 0.9
    expect_rc 1
    cat out.txt err.txt >all.txt
    expect_in all.txt "shared.duckdb"
    expect_in all.txt "is locked by"
    expect_in all.txt "(PID $WORKER)"
    expect_in all.txt "--lock-timeout"
    expect_not_in all.txt "Could not set lock"
    expect_not_in all.txt "Conflicting lock"
    expect_not_in all.txt "IO Error"
    wait_holder
    expect_eq "$(dq shared.duckdb 'SELECT answer FROM held')" 42 "the holder's table"
    expect_eq "$(table_count waited)" 0 "tables the refused run wrote"
}

zero_timeout_fails_at_once() {
    write_definitions
    start_holder
    local t0
    t0=$(now)
    run "$EIDER" materialize -f waiter.c --lock-timeout 0
    elapsed_below "$t0" "$HOLD_SECONDS"
    expect_rc 1
    cat out.txt err.txt >all.txt
    expect_in all.txt "is locked by"
    expect_not_in all.txt "Could not set lock"
    wait_holder
}

long_timeout_waits_and_then_succeeds() {
    write_definitions
    start_holder
    local t0
    t0=$(now)
    run "$EIDER" materialize -f waiter.c --lock-timeout 20
    expect_rc 0
    elapsed_at_least "$t0" 1
    cat out.txt err.txt >all.txt
    expect_in all.txt "waiting"
    expect_not_in all.txt "Could not set lock"
    expect_in out.txt "1 materialized, 0 failed"
    wait_holder
    expect_eq "$(dq shared.duckdb 'SELECT answer FROM held')" 42 "the holder's table"
    expect_eq "$(dq shared.duckdb 'SELECT who FROM waited')" b "the waiter's table"
}

# DuckDB names the holding program by its full path; a dot in that path must not cut
# the name short.
holder_with_a_dot_in_its_path_is_named_in_full() {
    write_definitions
    mkdir -p release.d/bin
    cp "$EIDER" release.d/bin/eider
    start_holder "$PWD/release.d/bin/eider"
    run "$EIDER" materialize -f waiter.c --lock-timeout 0.5
    expect_rc 1
    cat out.txt err.txt >all.txt
    expect_in all.txt "release.d/bin/eider (PID $WORKER)"
    expect_in all.txt "(PID $WORKER)"
    wait_holder
}

# Without --lock-timeout the CLI asks the library for its default wait (60 s), which
# outlasts the holder.
no_timeout_option_waits_the_default_time() {
    write_definitions
    start_holder
    run "$EIDER" materialize -f waiter.c
    expect_rc 0
    cat out.txt err.txt >all.txt
    expect_in all.txt "waiting"
    expect_in all.txt "of 60 s"
    wait_holder
    expect_eq "$(dq shared.duckdb 'SELECT who FROM waited')" b "the waiter's table"
}

run_case short_timeout_fails_naming_the_file_and_the_holder
run_case zero_timeout_fails_at_once
run_case no_timeout_option_waits_the_default_time
run_case long_timeout_waits_and_then_succeeds
run_case holder_with_a_dot_in_its_path_is_named_in_full
finish
