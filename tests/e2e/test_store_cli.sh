#!/usr/bin/env bash
# test_store_cli.sh — the commands that read the instance store (.eider/ beside the
# definitions): `eider runs`, `run show`, `logs`, `asset show`, `asset wipe` and `gc`,
# on the DuckDB I/O manager example and on small definitions that fail; and
# EIDER_STORAGE=none, which records nothing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# check_json_lines FILE PYTHON-EXPR: every line of FILE is JSON; the expression over
# `d` (the list of them) holds.
check_json_lines() {
    command -v python3 >/dev/null || return 0
    python3 -c 'import json, sys
d = [json.loads(line) for line in open(sys.argv[1])]
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" || fail "JSON Lines in $1 do not parse or fail: $2"
}

# The example materialized twice: two successful runs in .eider/.
materialize_example_twice() {
    copy_example duckdb_io_manager
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
}

# The id of the newest run, read from `eider runs --json`.
newest_run_id() {
    "$EIDER" runs "$@" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["run_id"])'
}

# Definitions whose asset `bad` fails with a message, `down` is skipped, `good` succeeds.
write_failing_defs() {
    cat >defs.c <<'EOF'
#include <eider.h>
static int good(eider_context *ctx) { eider_log_info(ctx, "all fine"); return 0; }
static int bad(eider_context *ctx) { return eider_fail(ctx, "the source file is empty: nothing to load"); }
static int down(eider_context *ctx) { return 0; }
void eider_definitions(eider_defs *defs)
{
    eider_asset(defs, &(eider_asset_def){ .key = "good", .compute = good });
    eider_asset(defs, &(eider_asset_def){ .key = "bad", .compute = bad });
    eider_asset(defs, &(eider_asset_def){ .key = "down", .compute = down, .deps = EIDER_KEYS("bad") });
}
EOF
}

runs_lists_two_successful_runs_newest_first() {
    materialize_example_twice
    run "$EIDER" runs -f definitions.c
    expect_rc 0
    expect_in out.txt "RUN ID"
    expect_eq "$(grep -c ' success ' out.txt)" 2 "runs with status success"
    expect_eq "$(grep -c '2 ok' out.txt)" 2 "runs with '2 ok'"
    grep -qE '^[0-9a-f-]{36} +success +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} ' out.txt ||
        fail "a run line lacks its full id, status and local start time"
    run "$EIDER" runs -f definitions.c --json
    local newest
    newest=$(python3 -c 'import json, sys; print(json.load(open("out.txt"))[0]["run_id"])')
    [[ $(sed -n 2p <("$EIDER" runs -f definitions.c)) == "$newest"* ]] || fail "the newest run is not first"
}

runs_json_parses_with_every_field() {
    materialize_example_twice
    run "$EIDER" runs -f definitions.c --json
    expect_rc 0
    check_json out.txt 'len(d) == 2'
    check_json out.txt 'all(r["status"] == "success" and r["n_succeeded"] == 2 and r["n_failed"] == 0 for r in d)'
    check_json out.txt 'all(r["launched_by"] == "cli" and r["selection"] is None and r["duration_s"] >= 0 for r in d)'
    check_json out.txt 'd[0]["start_us"] >= d[1]["start_us"]'
}

runs_limit_keeps_the_newest() {
    materialize_example_twice
    run "$EIDER" runs -f definitions.c --limit 1 --json
    expect_rc 0
    check_json out.txt 'len(d) == 1'
}

runs_status_failure_shows_only_the_failed_run() {
    copy_example duckdb_io_manager
    write_failing_defs
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    run "$EIDER" materialize -f defs.c
    expect_rc 1
    run "$EIDER" runs
    expect_rc 0
    expect_in out.txt "1 ok, 1 failed, 1 skipped"
    expect_eq "$(grep -c ' failure ' out.txt)" 1 "failed runs"
    run "$EIDER" runs --status failure --json
    expect_rc 0
    check_json out.txt 'len(d) == 1 and d[0]["status"] == "failure" and d[0]["n_failed"] == 1 and d[0]["n_skipped"] == 1'
    run "$EIDER" runs --status success --json
    check_json out.txt 'len(d) == 1 and d[0]["status"] == "success"'
    run "$EIDER" runs --status crashed
    expect_rc 0
    expect_in out.txt "no runs with status crashed"
}

runs_with_a_bad_status_is_a_usage_error() {
    run "$EIDER" runs --status broken
    expect_rc 2
    expect_in err.txt "'broken'"
    expect_in err.txt "queued, started (or running), success (or succeeded), failure (or failed), canceled or crashed"
}

runs_rejects_a_bad_limit_and_arguments() {
    run "$EIDER" runs --limit 0
    expect_rc 2
    expect_in err.txt "--limit"
    run "$EIDER" runs --limit 3x
    expect_rc 2
    run "$EIDER" runs 1234
    expect_rc 2
    expect_in err.txt "eider run show"
}

runs_in_an_empty_store_says_so() {
    run "$EIDER" runs
    expect_rc 0
    expect_in out.txt "no runs yet: nothing is recorded"
    run "$EIDER" runs --json
    check_json out.txt 'd == []'
}

run_show_by_prefix_shows_both_steps_with_row_count() {
    materialize_example_twice
    local id
    id=$(newest_run_id -f definitions.c)
    run "$EIDER" run show "${id:0:8}" -f definitions.c
    expect_rc 0
    expect_in out.txt "run $id  success"
    grep -qE '^  ok +iris_dataset .*row_count=150' out.txt || fail "no ok line with row_count=150 for iris_dataset"
    grep -qE '^  ok +iris_setosa .*row_count=50' out.txt || fail "no ok line with row_count=50 for iris_setosa"
    run "$EIDER" run show "$id" -f definitions.c --json
    expect_rc 0
    check_json out.txt "d['run_id'] == '$id' and [s['key'] for s in d['steps']] == ['iris_dataset', 'iris_setosa']"
    check_json out.txt 'all(s["status"] == "success" and s["attempts"] == 1 for s in d["steps"])'
    check_json out.txt 'd["steps"][1]["metadata"]["row_count"] == 50'
}

run_show_of_a_failed_run_shows_the_message() {
    write_failing_defs
    run "$EIDER" materialize -f defs.c
    expect_rc 1
    run "$EIDER" run show "$(newest_run_id)"
    expect_rc 0
    expect_in out.txt "failure"
    expect_in out.txt "1 ok, 1 failed, 1 skipped"
    grep -qE '^  FAIL +bad ' out.txt || fail "no FAIL line for bad"
    grep -qE '^       the source file is empty: nothing to load$' out.txt || fail "the failure message is not indented under bad"
    grep -qE "^  skip +down .*upstream asset 'bad' failed" out.txt || fail "no skip line for down"
    run "$EIDER" run show "$(newest_run_id)" --json
    check_json out.txt 'next(s for s in d["steps"] if s["key"] == "bad")["error"] == "the source file is empty: nothing to load"'
}

run_show_of_a_failed_query_shows_its_sql() {
    cat >defs.c <<'EOF'
#include <eider.h>
static int broken(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "duckdb");
    return con ? eider_sql(ctx, con, "SELECT * FROM no_such_table") : EIDER_ESTEP;
}
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "t.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "broken", .compute = broken, .resources = EIDER_KEYS("duckdb") });
}
EOF
    run "$EIDER" materialize -f defs.c
    expect_rc 1
    run "$EIDER" run show "$(newest_run_id)"
    expect_rc 0
    expect_in out.txt "no_such_table"
    grep -qE '^       sql: SELECT \* FROM no_such_table$' out.txt || fail "the failing SQL is not shown"
    run "$EIDER" logs "$(newest_run_id)"
    expect_in out.txt "step_failure"
    expect_in out.txt "sql: SELECT * FROM no_such_table"
}

run_show_of_an_unknown_run_is_an_error() {
    materialize_example_twice
    run "$EIDER" run show 'zzz' -f definitions.c
    expect_rc 2
    expect_in err.txt "no run 'zzz'"
    expect_in err.txt "eider runs"
    run "$EIDER" run show '_' -f definitions.c     # a LIKE wildcard is no wildcard here
    expect_rc 2
    expect_in err.txt "no run '_'"
    run "$EIDER" logs '%' -f definitions.c
    expect_rc 2
    expect_in err.txt "no run '%'"
    run "$EIDER" run show -f definitions.c
    expect_rc 2
    expect_in err.txt "which run?"
    run "$EIDER" run list -f definitions.c
    expect_rc 2
    expect_in err.txt "unknown subcommand 'eider run list'"
}

# Seventeen runs: two of them share the first character of their id (there are 16).
run_show_of_an_ambiguous_prefix_lists_the_runs() {
    write_failing_defs
    for _ in $(seq 17); do
        "$EIDER" materialize -f defs.c --select good >/dev/null
    done
    local prefix
    prefix=$("$EIDER" runs --limit 17 --json | python3 -c 'import json, sys, collections
c = collections.Counter(r["run_id"][0] for r in json.load(sys.stdin))
print(c.most_common(1)[0][0])')
    run "$EIDER" run show "$prefix"
    expect_rc 2
    expect_in err.txt "run id '$prefix' is ambiguous"
    [[ $(grep -c "^  $prefix" err.txt) -ge 2 ]] || fail "the matching runs are not listed"
}

logs_prints_every_event_in_order() {
    materialize_example_twice
    local id
    id=$(newest_run_id -f definitions.c)
    run "$EIDER" logs "${id:0:6}" -f definitions.c
    expect_rc 0
    expect_eq "$(head -1 out.txt | awk '{print $3, $4}')" "- run_start" "first event"
    expect_eq "$(tail -1 out.txt | awk '{print $3, $4}')" "- run_end" "last event"
    grep -qE '^[0-9-]{10} [0-9:.]{12}  iris_dataset +step_start$' out.txt || fail "no step_start for iris_dataset"
    grep -qE '  iris_setosa +step_success +[0-9.]+ m?s$' out.txt || fail "no step_success for iris_setosa"
    grep -qE '  iris_setosa +materialization +row_count=50' out.txt || fail "no materialization for iris_setosa"
}

logs_json_is_one_object_per_line() {
    write_failing_defs
    run "$EIDER" materialize -f defs.c
    run "$EIDER" logs "$(newest_run_id)" --json
    expect_rc 0
    check_json_lines out.txt 'd[0]["type"] == "run_start" and d[-1]["type"] == "run_end"'
    check_json_lines out.txt '[e["id"] for e in d] == sorted(e["id"] for e in d)'
    check_json_lines out.txt 'any(e["type"] == "log" and e["asset_key"] == "good" and e["level"] == "info" and e["message"] == "all fine" for e in d)'
    check_json_lines out.txt 'any(e["type"] == "step_failure" and e["asset_key"] == "bad" for e in d)'
}

logs_follow_on_a_finished_run_exits_at_once() {
    materialize_example_twice
    local start
    start=$(date +%s)
    run timeout 10 "$EIDER" logs --follow "$(newest_run_id -f definitions.c)" -f definitions.c
    expect_rc 0
    expect_in out.txt "run_end"
    (($(date +%s) - start < 5)) || fail "logs --follow waited on a finished run"
}

# A slow run of one asset logging N ticks 0.1 s apart (defs.c), started in the
# background; RUN_ID and RUN_PID get its id and process.
start_slow_run() {
    cat >defs.c <<EOF
#include <eider.h>
#include <unistd.h>
static int slow(eider_context *ctx)
{
    for (int i = 0; i < $1; i++) {
        eider_log_info(ctx, "tick %d", i);
        usleep(100000);
    }
    return 0;
}
void eider_definitions(eider_defs *defs)
{
    eider_asset(defs, &(eider_asset_def){ .key = "slow", .compute = slow });
}
EOF
    "$EIDER" list -f defs.c >/dev/null    # compiled and cached: the run below starts at once
    EIDER_RUN_LEASE_S=1 "$EIDER" materialize -f defs.c >/dev/null &   # dead a second after it is killed
    RUN_PID=$!
    BACKGROUND_PIDS+=("$RUN_PID")
    RUN_ID=""
    local i
    for i in $(seq 50); do
        RUN_ID=$("$EIDER" runs --status started --json | python3 -c 'import json, sys; r = json.load(sys.stdin); print(r[0]["run_id"] if r else "")')
        [[ -n $RUN_ID ]] && return 0
        sleep 0.1
    done
    fail "the run never showed as started"
}

logs_follow_follows_a_live_run_to_its_end() {
    start_slow_run 10
    run timeout 20 "$EIDER" logs --follow "$RUN_ID"
    expect_rc 0
    expect_in out.txt "tick 9"
    expect_eq "$(tail -1 out.txt | awk '{print $4}')" run_end "the last line followed"
}

logs_follow_ends_when_the_followed_process_is_killed() {
    start_slow_run 300
    "$EIDER" logs --follow "$RUN_ID" >follow.txt 2>&1 &
    local follower=$! i
    BACKGROUND_PIDS+=("$follower")
    sleep 0.5
    kill -KILL "$RUN_PID"
    for i in $(seq 100); do
        kill -0 "$follower" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$follower" 2>/dev/null; then
        fail "logs --follow still runs 10 s after the run's process was killed"
    fi
    wait "$follower" || fail "logs --follow exited with an error"
    expect_in follow.txt "tick 0"
    expect_in follow.txt "the run's lease ran out"
    run "$EIDER" runs --json
    check_json out.txt 'd[0]["status"] == "crashed"'
}

asset_show_has_columns_preview_and_history() {
    materialize_example_twice
    run "$EIDER" asset show iris_setosa -f definitions.c
    expect_rc 0
    expect_in out.txt "asset iris_setosa"
    expect_in out.txt "row_count    50"
    expect_in out.txt "columns:"
    grep -qE '^    sepal_length_cm +DOUBLE$' out.txt || fail "the columns table lacks sepal_length_cm DOUBLE"
    grep -qE '^    species +VARCHAR$' out.txt || fail "the columns table lacks species VARCHAR"
    expect_in out.txt "preview"
    grep -qE '^    5\.1 +3\.5 +1\.4 +0\.2 +Iris-setosa$' out.txt || fail "the preview lacks the first row"
    expect_in out.txt "row-count history"
    expect_eq "$(sed -n '/row-count history/,$p' out.txt | grep -cE ' 50$')" 2 "history entries"
    run "$EIDER" asset show iris_setosa -f definitions.c --json
    expect_rc 0
    check_json out.txt 'd["key"] == "iris_setosa" and len(d["partitions"]) == 1 and len(d["history"]) == 2'
    check_json out.txt 'd["partitions"][0]["metadata"]["row_count"] == 50 and not d["partitions"][0]["last_failed"]'
    check_json out.txt '[c["name"] for c in d["partitions"][0]["metadata"]["columns"]][-1] == "species"'
    check_json out.txt 'len(d["partitions"][0]["metadata"]["preview"]) == 10'
    run "$EIDER" asset show iris_setosa -f definitions.c --limit 1 --json
    check_json out.txt 'len(d["history"]) == 1'
}

asset_show_of_a_failed_asset_says_its_latest_run_failed() {
    write_failing_defs
    run "$EIDER" materialize -f defs.c
    run "$EIDER" asset show bad
    expect_rc 0
    expect_in out.txt "materialized never"
    expect_in out.txt "FAILED"
}

asset_show_of_an_unknown_asset_says_it_is_not_defined() {
    materialize_example_twice
    run "$EIDER" asset show iris_datset -f definitions.c
    expect_rc 4
    expect_in err.txt "asset 'iris_datset' is not defined (did you mean 'iris_dataset'?)"
    expect_in err.txt "eider list"
}

asset_wipe_forgets_the_asset_but_not_its_table() {
    materialize_example_twice
    run "$EIDER" asset wipe iris_setosa -f definitions.c
    expect_rc 0
    expect_in out.txt "wiped the records of asset 'iris_setosa'"
    expect_in out.txt "tables are untouched"
    run "$EIDER" asset show iris_setosa -f definitions.c
    expect_rc 2
    expect_in err.txt "never materialized"
    run "$EIDER" list -f definitions.c
    grep -qE '^iris_setosa .* never ' out.txt || fail "iris_setosa is not 'never' after the wipe"
    grep -qE '^iris_dataset .* fresh ' out.txt || fail "iris_dataset was wiped too"
    expect_eq "$(dq my_duckdb_database.duckdb 'SELECT count(*) FROM IRIS.iris_setosa')" 50 "rows left in the table"
    run "$EIDER" asset wipe iris_setosa -f definitions.c
    expect_rc 2
    expect_in err.txt "never materialized"
}

gc_deletes_the_runs_but_keeps_the_assets_fresh() {
    materialize_example_twice
    run "$EIDER" gc --keep-days 0 -f definitions.c
    expect_rc 0
    expect_in out.txt "deleted 2 runs"
    run "$EIDER" runs -f definitions.c --json
    check_json out.txt 'd == []'
    run "$EIDER" list -f definitions.c
    grep -qE '^iris_dataset .* fresh ' out.txt || fail "iris_dataset is not fresh after gc"
    grep -qE '^iris_setosa .* fresh ' out.txt || fail "iris_setosa is not fresh after gc"
    run "$EIDER" asset show iris_setosa -f definitions.c --json
    expect_rc 0
    check_json out.txt 'len(d["history"]) == 1 and d["partitions"][0]["metadata"]["row_count"] == 50'
}

gc_keeps_recent_runs() {
    materialize_example_twice
    run "$EIDER" gc --keep-days 1 -f definitions.c --json
    expect_rc 0
    check_json out.txt 'd["deleted_runs"] == 0'
    run "$EIDER" runs -f definitions.c --json
    check_json out.txt 'len(d) == 2'
}

gc_wants_a_number_of_days() {
    run "$EIDER" gc
    expect_rc 2
    expect_in err.txt "--keep-days"
    for bad in -1 abc 1x nan inf ""; do
        run "$EIDER" gc --keep-days "$bad"
        expect_rc 2
        expect_in err.txt "--keep-days wants a number of days"
    done
}

eider_home_elsewhere_is_honoured() {
    copy_example duckdb_io_manager
    EIDER_HOME="$PWD/home" run "$EIDER" materialize -f definitions.c
    expect_rc 0
    [[ -f home/eider.sqlite3 ]] || fail "no store in \$EIDER_HOME"
    EIDER_HOME="$PWD/home" run "$EIDER" runs -f definitions.c --json
    check_json out.txt 'len(d) == 1 and d[0]["status"] == "success"'
    EIDER_HOME="$PWD/home" run "$EIDER" asset show iris_dataset -f definitions.c
    expect_rc 0
    expect_in out.txt "row_count    150"
    run "$EIDER" runs -f definitions.c
    expect_in out.txt "no runs"
}

storage_none_runs_unrecorded_and_the_store_commands_say_so() {
    copy_example duckdb_io_manager
    EIDER_STORAGE=none run "$EIDER" materialize -f definitions.c
    expect_rc 0
    expect_in out.txt "not recorded: EIDER_STORAGE=none"
    [[ ! -e .eider/eider.sqlite3 ]] || fail "EIDER_STORAGE=none made a store"
    expect_eq "$(dq my_duckdb_database.duckdb 'SELECT count(*) FROM IRIS.iris_dataset')" "150" "the run still ran"
    EIDER_STORAGE=none run "$EIDER" materialize -f definitions.c --json
    check_json out.txt 'd["recorded"] is False and d["status"] == "success"'
    EIDER_STORAGE=none run "$EIDER" list -f definitions.c --json
    expect_rc 0
    check_json out.txt 'all(a["status"] is None for a in d)'
    EIDER_STORAGE=none run "$EIDER" list -f definitions.c --select 'stale()'
    expect_rc 4
    expect_in err.txt "EIDER_STORAGE=none"
    local cmd
    for cmd in "runs" "logs 1234" "run show 1234" "asset show iris_dataset" "gc --keep-days 1"; do
        # shellcheck disable=SC2086
        EIDER_STORAGE=none run "$EIDER" $cmd -f definitions.c
        expect_rc 2
        expect_in err.txt "EIDER_STORAGE is 'none'"
    done
    [[ ! -e .eider/eider.sqlite3 ]] || fail "a store command made a store"
    run "$EIDER" materialize -f definitions.c --json
    check_json out.txt 'd["recorded"] is True'
}

store_commands_take_help() {
    local cmd
    for cmd in runs run logs asset gc; do
        run "$EIDER" "$cmd" --help
        expect_rc 0
        expect_in out.txt "usage: eider $cmd"
    done
    run "$EIDER" --help
    for cmd in runs run logs asset gc; do
        grep -qE "^  $cmd " out.txt || fail "'$cmd' is not in eider --help"
    done
}

run_case runs_lists_two_successful_runs_newest_first
run_case runs_json_parses_with_every_field
run_case runs_limit_keeps_the_newest
run_case runs_status_failure_shows_only_the_failed_run
run_case runs_with_a_bad_status_is_a_usage_error
run_case runs_rejects_a_bad_limit_and_arguments
run_case runs_in_an_empty_store_says_so
run_case run_show_by_prefix_shows_both_steps_with_row_count
run_case run_show_of_a_failed_run_shows_the_message
run_case run_show_of_a_failed_query_shows_its_sql
run_case run_show_of_an_unknown_run_is_an_error
run_case run_show_of_an_ambiguous_prefix_lists_the_runs
run_case logs_prints_every_event_in_order
run_case logs_json_is_one_object_per_line
run_case logs_follow_on_a_finished_run_exits_at_once
run_case logs_follow_follows_a_live_run_to_its_end
run_case logs_follow_ends_when_the_followed_process_is_killed
run_case asset_show_has_columns_preview_and_history
run_case asset_show_of_a_failed_asset_says_its_latest_run_failed
run_case asset_show_of_an_unknown_asset_says_it_is_not_defined
run_case asset_wipe_forgets_the_asset_but_not_its_table
run_case gc_deletes_the_runs_but_keeps_the_assets_fresh
run_case gc_keeps_recent_runs
run_case gc_wants_a_number_of_days
run_case eider_home_elsewhere_is_honoured
run_case storage_none_runs_unrecorded_and_the_store_commands_say_so
run_case store_commands_take_help
finish
