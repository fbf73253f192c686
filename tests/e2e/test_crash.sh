#!/usr/bin/env bash
# test_crash.sh — a crash in an asset's code, and a run killed with SIGKILL, lose
# nothing: tables committed before stay intact, the open transaction is rolled back,
# and the next run works. A crash names the asset that crashed and exits 6 (the run
# worker died; eider itself did not). The instance store marks such a run crashed.
# (test_worker.sh checks what is recorded of a crashed run worker in detail.)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# A run's lease (the proof that it is alive) lasts a second here, so that a killed
# run is marked crashed a second after it died.
export EIDER_RUN_LEASE_S=1

# first commits table a; second opens a transaction that writes b and changes a, then,
# as CRASH_HOW says, writes through NULL, aborts, or sleeps to be killed, before it
# could commit.
write_definitions() {
    cat >definitions.c <<'EOF'
#include <eider.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int first(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"),
                     "CREATE OR REPLACE TABLE a AS SELECT range AS x FROM range(1000)");
}

static int second(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "duckdb");
    const char *how = getenv("CRASH_HOW") ? getenv("CRASH_HOW") : "";
    int rc = eider_sql(ctx, con, "BEGIN; CREATE OR REPLACE TABLE b AS SELECT 1 AS y; "
                                 "UPDATE a SET x = -1");
    FILE *f = fopen("second.started", "w");
    if (f)
        fclose(f);
    if (how[0] == 's') {
        volatile int *nothing = NULL;
        *nothing = 1;
    }
    if (how[0] == 'a')
        abort();
    if (how[0] == 'k')
        sleep(30);
    return rc ? rc : eider_sql(ctx, con, "COMMIT");
}

void eider_definitions(eider_defs *defs)
{
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "crash.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "first", .compute = first });
    eider_asset(defs, &(eider_asset_def){ .key = "second", .compute = second,
                                          .deps = EIDER_KEYS("first") });
}
EOF
    run "$EIDER" list -f definitions.c
    expect_rc 0
}

expect_intact() {
    expect_eq "$(dq crash.duckdb 'SELECT count(*), min(x) FROM a')" "1000|0" "table a after the crash"
    expect_eq "$(dq crash.duckdb "SELECT count(*) FROM information_schema.tables WHERE table_name = 'b'")" \
        0 "tables named b (the crashed transaction's)"
}

expect_next_run_works() {
    CRASH_HOW= run "$EIDER" materialize -f definitions.c
    expect_rc 0
    expect_eq "$(dq crash.duckdb 'SELECT count(*) FROM b')" 1 "b after a good run"
}

segfault_names_the_asset_and_keeps_committed_tables() {
    write_definitions
    CRASH_HOW=segv run "$EIDER" materialize -f definitions.c
    expect_rc 6
    expect_in err.txt "asset 'second' crashed the run worker with SIGSEGV (signal 11)"
    expect_in err.txt "the tables committed before are intact"
    expect_intact
    expect_next_run_works
}

abort_names_the_asset() {
    write_definitions
    CRASH_HOW=abort run "$EIDER" materialize -f definitions.c
    expect_rc 6
    expect_in err.txt "asset 'second' crashed the run worker with SIGABRT (signal 6)"
    expect_intact
}

sigkill_mid_transaction_keeps_committed_tables() {
    write_definitions
    CRASH_HOW=kill "$EIDER" materialize -f definitions.c >out.txt 2>err.txt &
    local pid=$! i
    BACKGROUND_PIDS+=("$pid")
    for i in $(seq 100); do
        [[ -f second.started ]] && break
        sleep 0.1
    done
    [[ -f second.started ]] || fail "the second asset never started"
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    expect_intact
    expect_next_run_works
    expect_recorded_crashed 2
}

# The instance store: the killed (or crashed) run is marked crashed by the first eider
# that opens the store after its lease ran out, never left "started"; the next run is
# recorded as a success.
expect_recorded_crashed() {
    sleep 1.2
    run "$EIDER" runs -f definitions.c --json
    expect_rc 0
    python3 - "$1" <<'PY' || fail "the runs recorded are not one crashed and one success: $(cat out.txt)"
import json, sys
runs = json.load(open("out.txt"))
statuses = sorted(r["status"] for r in runs)
sys.exit(0 if len(runs) == int(sys.argv[1]) and statuses == ["crashed", "success"] else 1)
PY
}

segfault_is_recorded_as_crashed() {
    write_definitions
    CRASH_HOW=segv run "$EIDER" materialize -f definitions.c
    expect_rc 6
    expect_next_run_works
    expect_recorded_crashed 2
}

run_case segfault_names_the_asset_and_keeps_committed_tables
run_case abort_names_the_asset
run_case sigkill_mid_transaction_keeps_committed_tables
run_case segfault_is_recorded_as_crashed
finish
