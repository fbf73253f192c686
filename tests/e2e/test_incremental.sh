#!/usr/bin/env bash
# test_incremental.sh — incremental writes (metadata "write_mode") run by the real
# `eider` binary on a DuckDB file, checked with DuckDB alone (dq): an append run twice
# holds both runs' rows and says so; a merge run twice changes nothing the second
# time; a merge refused for a duplicate key keeps the table and exits 1 naming the key;
# and a merge killed with SIGKILL in the middle of its MERGE leaves the old table whole.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DB=inc.duckdb

# events: an append of the rows of ./batch (a number); totals: a merge by id of
# SELECT id, x FROM range(./rows) with x = id * ./factor (files, so that runs differ);
# big.started holds the run worker's pid once totals' compute runs.
write_definitions() {
    cat >definitions.c <<'DEFS'
#include <eider.h>
#include <stdio.h>
#include <unistd.h>

static long number_in(const char *path, long otherwise)
{
    long v = otherwise;
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = otherwise;
        fclose(f);
    }
    return v;
}

static int events(eider_context *ctx)
{
    char sql[200];
    snprintf(sql, sizeof(sql), "SELECT %ld AS batch, i AS n FROM range(3) r(i)",
             number_in("batch", 1));
    return eider_output_sql(ctx, sql);
}

static int totals(eider_context *ctx)
{
    char sql[300];
    FILE *f = fopen("big.started.tmp", "w");      /* the run worker's pid, whole */
    if (f) {
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
        rename("big.started.tmp", "big.started");
    }
    snprintf(sql, sizeof(sql), "SELECT i AS id, i * %ld AS x FROM range(%ld) r(i)%s",
             number_in("factor", 1), number_in("rows", 10),
             number_in("duplicate", 0) ? " UNION ALL SELECT 7, 0" : "");
    return eider_output_sql(ctx, sql);
}

void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "inc.duckdb",
                                                                   .schema = "s" });
    eider_asset(defs, &(eider_asset_def){ .key = "events", .compute = events,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("write_mode", "append")) });
    eider_asset(defs, &(eider_asset_def){ .key = "totals", .compute = totals,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("write_mode", "merge"),
                                   EIDER_META_TEXT("unique_key", "id")) });
}
DEFS
}

an_append_run_twice_holds_both_runs_rows() {
    write_definitions
    run "$EIDER" materialize -f definitions.c --select events
    expect_rc 0
    echo 2 >batch
    run "$EIDER" materialize -f definitions.c --select events --json
    expect_rc 0
    expect_in out.txt '"row_count": 6'
    expect_in out.txt '"rows_written": 3'
    expect_eq "$(dq $DB 'SELECT string_agg(DISTINCT batch::VARCHAR, $$,$$ ORDER BY batch::VARCHAR) FROM s.events')" \
        "1,2" "batches held"
}

a_merge_run_twice_changes_nothing_the_second_time() {
    write_definitions
    run "$EIDER" materialize -f definitions.c --select totals
    expect_rc 0
    echo 3 >factor
    echo 12 >rows
    run "$EIDER" materialize -f definitions.c --select totals --json
    expect_rc 0
    expect_in out.txt '"rows_written": 11'
    run "$EIDER" materialize -f definitions.c --select totals --json
    expect_rc 0
    expect_in out.txt '"rows_written": 0'
    expect_in out.txt '"row_count": 12'
    expect_eq "$(dq $DB 'SELECT sum(x) FROM s.totals')" 198 "sum of 3 * id over 0..11"
}

a_duplicate_key_fails_the_run_and_keeps_the_table() {
    write_definitions
    run "$EIDER" materialize -f definitions.c --select totals
    expect_rc 0
    echo 1 >duplicate
    echo 5 >factor
    run "$EIDER" materialize -f definitions.c --select totals
    expect_rc 1
    expect_in out.txt 'the output has 2 rows of the merge key {"id":7}'
    expect_eq "$(dq $DB 'SELECT sum(x) FROM s.totals')" 45 "the table as the first run left it"
}

# A merge of 3 million rows, killed 0.3 s after its compute ran (within its MERGE on
# this machine; if the write had already committed, the new table is whole instead):
# the table is the old one or the new one, never a mix, and the next run succeeds.
a_merge_killed_mid_write_leaves_a_whole_table() {
    write_definitions
    echo 3000000 >rows
    run "$EIDER" materialize -f definitions.c --select totals
    expect_rc 0
    rm -f big.started
    echo 2 >factor
    "$EIDER" materialize -f definitions.c --select totals >out.txt 2>err.txt &
    local pid=$! i
    BACKGROUND_PIDS+=("$pid")
    for i in $(seq 100); do
        [[ -f big.started ]] && break
        sleep 0.05
    done
    [[ -f big.started ]] || fail "totals never started"
    sleep 0.3
    local worker
    worker=$(cat big.started)
    kill -9 "$worker" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for i in $(seq 100); do                     # the worker's lock on the file goes with it
        kill -0 "$worker" 2>/dev/null || break
        sleep 0.05
    done
    local mix
    mix=$(dq $DB 'SELECT count(*)::VARCHAR || $$ $$ || (bool_and(x = id) OR bool_and(x = 2 * id))::VARCHAR
                  FROM s.totals')
    [[ "$mix" == "3000000 true" ]] || fail "the table is not whole after the kill: rows, all old or all new = $mix"
    echo "    (after the kill: $(dq $DB 'SELECT CASE WHEN bool_and(x = id) THEN $$the old table$$ ELSE $$the new table$$ END FROM s.totals'))"
    run "$EIDER" materialize -f definitions.c --select totals
    expect_rc 0
    expect_eq "$(dq $DB 'SELECT count(*) FROM s.totals WHERE x <> 2 * id')" 0 "the next run's rows"
}

run_case an_append_run_twice_holds_both_runs_rows
run_case a_merge_run_twice_changes_nothing_the_second_time
run_case a_duplicate_key_fails_the_run_and_keeps_the_table
run_case a_merge_killed_mid_write_leaves_a_whole_table
finish
