#!/usr/bin/env bash
# test_store_damage.sh — the store trusts nothing it reads: a real SQLite store, made by
# a real run and then damaged by SQL (python3's sqlite3, as anyone who may write the
# file could), gives each reading command a message that names the store and says
# what to do, or a note in place of what is damaged; never a crash. And the store's
# own SQLite errors (a file that is not a database, a folder this user may not write)
# name the store and say what to do.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v python3 >/dev/null || { echo "skipped: python3 is missing (scripts/setup.sh --test)"; exit 0; }

# sql_edit SQL: run SQL on the store in .eider, as one script.
sql_edit() {
    python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit(); c.close()' \
        .eider/eider.sqlite3 "$1" || fail "cannot edit the store: $1"
}

# One run of two assets, the first stored by the I/O manager (so with metadata), recorded in $WORK/base/.eider; each
# case starts from a copy.
make_base() {
    mkdir -p "$WORK/base"
    cd "$WORK/base"
    cat >defs.c <<'EOF'
#include <eider.h>
#include <unistd.h>
/* The pause outlasts the recorder's batch (100 ms): the run's events take two blocks. */
static int first(eider_context *ctx)
{
    eider_log_info(ctx, "loading the first");
    usleep(300000);
    return eider_output_sql(ctx, "SELECT 1 AS x");
}
static int second(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 2 AS y"); }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "d.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "first", .compute = first });
    eider_asset(defs, &(eider_asset_def){ .key = "second", .compute = second,
                                          .deps = EIDER_KEYS("first") });
}
EOF
    run "$EIDER" materialize -f defs.c
    expect_rc 0
    cd - >/dev/null
}

from_base() {
    cp -r "$WORK/base/." .
    RUN_ID=$(python3 -c 'import sqlite3; print(sqlite3.connect(".eider/eider.sqlite3").execute("SELECT run_id FROM runs").fetchone()[0])')
}

# expect_store_error CMD...: exits 5 (not a signal) naming the store and what to do.
expect_store_error() {
    run "$EIDER" "$@"
    expect_rc 5
    expect_in err.txt "the instance store sqlite:$PWD/.eider/eider.sqlite3"
}

every_command_refuses_a_negative_schema_version() {
    from_base
    sql_edit "UPDATE eider_schema SET version = -1"
    local c
    for c in "runs" "run show $RUN_ID" "logs $RUN_ID" "list" "asset show first" "materialize"; do
        # shellcheck disable=SC2086
        expect_store_error $c -f defs.c
        expect_in err.txt "is damaged: its schema version (table eider_schema) is '-1'"
        expect_in err.txt "restore it from a backup"
    done
}

a_schema_version_that_is_no_number_is_damage_not_an_empty_store() {
    from_base
    sql_edit "UPDATE eider_schema SET version = 'three'"
    expect_store_error runs -f defs.c
    expect_in err.txt "schema version (table eider_schema) is 'three'"
    expect_not_in out.txt "no runs yet"
    sql_edit "UPDATE eider_schema SET version = 99999999999"
    expect_store_error materialize -f defs.c
    expect_in err.txt "is '99999999999', which is not a version"
}

a_runs_row_without_an_id_is_an_error_not_a_crash() {
    from_base
    sql_edit "UPDATE runs SET run_id = NULL"
    expect_store_error runs -f defs.c
    expect_in err.txt "holds a damaged row in table runs (run_id NULL: its run_id is NULL)"
    expect_in err.txt "delete that row"
}

a_started_run_without_an_id_is_no_crash_when_runs_are_checked() {
    from_base
    sql_edit "UPDATE runs SET run_id = NULL, status = 'started', host = '$(hostname)'"
    run "$EIDER" materialize -f defs.c
    expect_rc 0
    expect_store_error runs -f defs.c
    expect_in err.txt "(run_id NULL: its run_id is NULL)"
}

run_numbers_and_statuses_out_of_range_are_refused() {
    from_base
    sql_edit "UPDATE runs SET n_succeeded = 99999999999999"
    expect_store_error run show "$RUN_ID" -f defs.c
    expect_in err.txt "($RUN_ID: its n_succeeded is '99999999999999')"
    from_base
    sql_edit "UPDATE runs SET status = 'bogus'"
    expect_store_error runs --json -f defs.c
    expect_in err.txt "its status is 'bogus'"
    from_base
    sql_edit "UPDATE runs SET start_us = 'soon'"
    expect_store_error runs -f defs.c
    expect_in err.txt "its start_us is 'soon'"
}

a_damaged_event_block_is_a_note_and_the_rest_is_shown() {
    from_base
    sql_edit "UPDATE event_blocks SET events = '[1, 2' WHERE first = 1"
    run "$EIDER" logs "$RUN_ID" -f defs.c
    expect_rc 0
    expect_in out.txt "of this run are damaged in table event_blocks (a block's events are not a JSON array) of the instance store sqlite:$PWD/.eider/eider.sqlite3"
    expect_in out.txt "run_end"
}

event_numbers_that_overlap_or_miscount_are_notes() {
    from_base
    local last
    last=$(python3 -c 'import sqlite3; print(sqlite3.connect(".eider/eider.sqlite3").execute("SELECT max(first) FROM event_blocks").fetchone()[0])')
    [[ "$last" -gt 1 ]] || fail "the run wrote one block only"
    sql_edit "UPDATE event_blocks SET first = first - 1 WHERE first = $last"
    run "$EIDER" logs "$RUN_ID" -f defs.c
    expect_rc 0
    expect_in out.txt "which the block before it numbered already"
    from_base
    sql_edit "UPDATE event_blocks SET n = n + 5 WHERE first = 1"
    run "$EIDER" run show "$RUN_ID" -f defs.c --json
    expect_rc 0
    expect_in out.txt "events but says"
    from_base
    sql_edit "UPDATE event_blocks SET events = '[{\"type\": \"explosion\"}]', n = 1 WHERE first = 1"
    run "$EIDER" logs "$RUN_ID" -f defs.c
    expect_rc 0
    expect_in out.txt "an event's type is 'explosion'"
}

damaged_metadata_entries_say_so() {
    from_base
    sql_edit "UPDATE materializations SET metadata = '{\"table\": {\"type\": \"text\", \"value\": 5}, \"note\": 5}'"
    run "$EIDER" asset show first -f defs.c
    expect_rc 0
    expect_in out.txt "(damaged in the instance store: a value of the wrong kind)"
    expect_in out.txt "(damaged in the instance store: no known type)"
    sql_edit "UPDATE materializations SET metadata = 'not json'"
    run "$EIDER" asset show first -f defs.c --json
    expect_rc 0
    expect_in out.txt "(damaged in the instance store: not a JSON object)"
}

a_damaged_asset_state_row_is_an_error() {
    from_base
    sql_edit "UPDATE asset_state SET last_failed = 'x' WHERE asset_key = 'first'"
    expect_store_error list -f defs.c
    expect_in err.txt "holds a damaged row in table asset_state (first: "
    expect_store_error asset show first -f defs.c
    expect_in err.txt "its last_failed is 'x'"
}

a_damaged_dynamic_partition_key_is_refused_and_listed_as_such() {
    cat >defs.c <<'EOF'
#include <eider.h>
static int f(eider_context *ctx) { return 0; }
void eider_definitions(eider_defs *defs)
{
    const eider_partitions *p = eider_dynamic_partitions(defs, "regions");
    eider_asset(defs, &(eider_asset_def){ .key = "a", .compute = f, .partitions = p });
}
EOF
    run "$EIDER" partitions add regions eu us -f defs.c
    expect_rc 0
    sql_edit "UPDATE dynamic_partitions SET key = 'x...y' WHERE key = 'eu'"
    expect_store_error partitions list regions -f defs.c
    expect_in err.txt "holds a damaged row in table dynamic_partitions (regions: partition key 'x...y' contains '...'"
    expect_store_error materialize --all-partitions -f defs.c
    run "$EIDER" list -f defs.c
    expect_rc 0
    expect_in out.txt "regions: (cannot be read: the instance store sqlite:$PWD/.eider/eider.sqlite3 holds a damaged row"
    run "$EIDER" list -f defs.c --json
    expect_rc 0
    check_json out.txt '"damaged row" in d[0]["dynamic_partitions"]["error"]'
}

a_file_that_is_not_a_database_is_named_with_what_to_do() {
    mkdir .eider
    head -c 8192 /dev/urandom >.eider/eider.sqlite3
    cp "$WORK/base/defs.c" .
    local c
    for c in runs materialize; do
        run "$EIDER" $c -f defs.c
        expect_rc 5
        expect_in err.txt "the instance store sqlite:$PWD/.eider/eider.sqlite3: file is not a database; it is not a SQLite database"
        expect_in err.txt "move it away to start a new store"
    done
}

a_store_in_a_folder_nobody_may_write_is_named_with_what_to_do() {
    [[ $(id -u) == 0 ]] || { echo "    (skipped: needs root to run as nobody)"; return 0; }
    let_others_run_eider
    from_base
    chown -R 65534:65534 .
    chmod 555 .eider
    run setpriv --reuid=65534 --regid=65534 --clear-groups "$EIDER" materialize -f defs.c
    expect_rc 5
    expect_in err.txt "cannot open the instance store sqlite:$PWD/.eider/eider.sqlite3: attempt to write a readonly database"
    expect_in err.txt "fix their owner or mode"
}

make_base
run_case every_command_refuses_a_negative_schema_version
run_case a_schema_version_that_is_no_number_is_damage_not_an_empty_store
run_case a_runs_row_without_an_id_is_an_error_not_a_crash
run_case a_started_run_without_an_id_is_no_crash_when_runs_are_checked
run_case run_numbers_and_statuses_out_of_range_are_refused
run_case a_damaged_event_block_is_a_note_and_the_rest_is_shown
run_case event_numbers_that_overlap_or_miscount_are_notes
run_case damaged_metadata_entries_say_so
run_case a_damaged_asset_state_row_is_an_error
run_case a_damaged_dynamic_partition_key_is_refused_and_listed_as_such
run_case a_file_that_is_not_a_database_is_named_with_what_to_do
run_case a_store_in_a_folder_nobody_may_write_is_named_with_what_to_do
finish
