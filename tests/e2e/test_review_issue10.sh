#!/usr/bin/env bash
# test_review_issue10.sh — issue 10 (sections 2 to 5: leases, outages, a store that
# trusts nothing, secrets and files) tried as a new user would, after its branches were
# merged: each case is a defect a user trips over, and states the behaviour expected.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lease_lib.sh"

command -v python3 >/dev/null || { echo "skipped: python3 is missing (scripts/setup.sh --test)"; exit 0; }

SECRET=s3cr3t-Pa55

# expect_secret_nowhere FILE...: the secret is in none of them (bytes, not lines).
expect_secret_nowhere() {
    local f
    for f in "$@"; do
        if [[ -e "$f" ]] && grep -aqF -- "$SECRET" "$f"; then
            fail "the secret appears in $f: $(grep -aF -- "$SECRET" "$f" | head -2 | cut -c1-200)"
        fi
    done
}

# definitions.c: asset "a" runs the SQL in $SQL with eider_sql() on a DuckDB resource.
write_env_sql_defs() {
    cat >definitions.c <<'EOF'
#include <stdlib.h>
#include <eider.h>
static int a(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"), getenv("SQL"));
}
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "s.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "a", .compute = a,
                                          .resources = EIDER_KEYS("duckdb") });
}
EOF
    "$EIDER" list >/dev/null || fail "definitions.c does not compile"
}

# expect_sql_secret_kept SQL: materialize runs SQL, which fails; the secret is on
# neither the terminal nor --json, nor in the store, nor in what logs and run show print.
expect_sql_secret_kept() {
    local id cmd
    run env SQL="$1" "$EIDER" materialize
    expect_rc 1
    expect_secret_nowhere out.txt err.txt
    run env SQL="$1" "$EIDER" materialize --json
    expect_rc 1
    expect_secret_nowhere out.txt err.txt
    id=$("$EIDER" runs --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["run_id"])')
    for cmd in "logs $id" "logs $id --json" "run show $id" "run show $id --json"; do
        # shellcheck disable=SC2086
        run "$EIDER" $cmd
        expect_secret_nowhere out.txt err.txt
    done
    expect_secret_nowhere .eider/eider.sqlite3 .eider/eider.sqlite3-wal
}

# ---- secrets (issue 10, 4) ----

# DuckDB takes `PRAGMA name = value` as `SET name = value`. A SET of a secret setting
# is masked; the same setting given by PRAGMA is printed and stored whole (here a
# misspelt s3 setting, refused by DuckDB, so that the statement fails on any machine).
a_pragma_of_a_secret_setting_is_masked_as_a_set_is() {
    write_env_sql_defs
    run env SQL="SET s3_secret_acess_key = '$SECRET'" "$EIDER" materialize
    expect_rc 1
    expect_secret_nowhere out.txt err.txt      # the SET form is masked already
    expect_sql_secret_kept "PRAGMA s3_secret_acess_key = '$SECRET'"
}

# DuckDB's MySQL extension takes its password as passwd= in the ATTACH string (as
# libmysqlclient does). Only "password", "token" and "secret" are looked for, so the
# string is printed and stored whole when the ATTACH fails.
an_attach_string_with_passwd_is_masked() {
    write_env_sql_defs
    expect_sql_secret_kept "ATTACH 'host=127.0.0.1 port=1 user=u passwd=$SECRET database=x' AS m (TYPE mysql)"
}

# A secret value that holds a quote, written doubled in SQL as it must be: DuckDB's
# message quotes the value as it is (it's ...), while the mask looks for the text as
# typed (it''s ...), so the message shows the value whole. Values must be masked in
# messages as DuckDB reads them.
a_secret_value_with_a_quote_is_masked_in_the_message() {
    write_env_sql_defs
    expect_sql_secret_kept "CREATE SECRET s (TYPE http, EXTRA_HTTP_HEADERS 'it''s-$SECRET')"
}

# A script that sets a secret setting and then fails: the value is masked in the SET
# statement, but when the failing statement's message quotes it, the value is shown —
# the values found in the statements before are not masked in a later one's message.
a_secret_set_earlier_in_a_script_is_masked_in_a_later_message() {
    write_env_sql_defs
    expect_sql_secret_kept "SET GLOBAL http_proxy_password = '$SECRET';
SELECT error(current_setting('http_proxy_password'))"
}

# ---- key parts and the Parquet I/O manager (issue 10, 4) ----

# A key part holding a glob character: the Parquet I/O manager writes pq/a*.parquet
# literally, but its load (read_parquet) reads the path as a glob, so a downstream of
# "a*" gets the rows of "ab" too. Key parts that DuckDB would read as a glob must be
# refused at validation (as '..' is) or escaped.
a_glob_key_part_loads_only_its_own_parquet_file() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int one(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 1 AS x"); }
static int two(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 2 AS x"); }
static int down(eider_context *ctx)
{
    const eider_frame *f = eider_input_frame(ctx, "a*");
    if (!f)
        return 1;
    if (eider_frame_rows(f) != 1)
        return eider_fail(ctx, "asset 'a*' holds 1 row, but %zu were loaded", eider_frame_rows(f));
    return eider_output_sql(ctx, "SELECT 3 AS x");
}
void eider_definitions(eider_defs *defs)
{
    eider_parquet_io_manager(defs, NULL, &(eider_parquet_io_config){ .base_path = "pq" });
    eider_asset(defs, &(eider_asset_def){ .key = "a*", .compute = one });
    eider_asset(defs, &(eider_asset_def){ .key = "ab", .compute = two });
    eider_asset(defs, &(eider_asset_def){ .key = "down", .compute = down,
                                          .deps = EIDER_KEYS("a*", "ab") });
}
EOF
    run "$EIDER" materialize --jobs 1
    # Either refused at validation (exit 3, naming the asset), or right.
    if [[ $RC == 3 ]]; then
        expect_in err.txt "a*"
        return 0
    fi
    expect_not_in out.txt "were loaded"
    expect_rc 0
}

# ---- the store trusts nothing it reads (issue 10, 3) ----

# a store of one run of one asset, in .eider
make_store() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int one(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 1 AS x"); }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "r.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "one", .compute = one });
}
EOF
    run "$EIDER" materialize
    expect_rc 0
    RUN_ID=$(python3 -c 'import sqlite3; print(sqlite3.connect(".eider/eider.sqlite3").execute("SELECT run_id FROM runs").fetchone()[0])')
}

sql_edit() {
    python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit(); c.close()' \
        .eider/eider.sqlite3 "$1" || fail "cannot edit the store: $1"
}

# The row of eider_schema deleted (anyone who may write a shared store may): the store
# holds a run, yet `eider runs` says "there is no instance store ...; eider materialize
# makes it" and exits 0, `run show` says nothing is recorded, and `eider materialize`
# fails with SQLite's "table runs already exists", saying nothing of what to do. A
# store without its version is damaged: every command must say so, name the store and
# say what to do (exit 5), as for a version that is no number.
a_store_without_its_schema_version_is_damaged_not_empty() {
    make_store
    sql_edit "DELETE FROM eider_schema"
    run "$EIDER" runs
    expect_not_in out.txt "no runs yet"
    expect_rc 5
    expect_in err.txt "sqlite:$PWD/.eider/eider.sqlite3"
    expect_in err.txt "eider_schema"
    run "$EIDER" run show "$RUN_ID"
    expect_not_in err.txt "nothing is recorded yet"
    expect_rc 5
    run "$EIDER" materialize
    expect_rc 5
    expect_in err.txt "eider_schema"
    expect_in err.txt "restore"
}

# A block of events whose first number is below 1 (Eider numbers them from 1): `eider
# logs` prints nothing at all and exits 0, and `run show` says "no steps recorded" —
# the whole run's events vanish without a word. A damaged block must be one error
# line in its place, as a block numbered from 0 is. (Only the first block is edited,
# numbered so that it ends below 1: a run's events may span two blocks, which one
# number for all would make break the table's UNIQUE (run_id, first).)
an_event_block_numbered_below_one_is_a_note_not_silence() {
    make_store
    sql_edit "UPDATE event_blocks SET first = -5 - n WHERE first = 1"
    run "$EIDER" logs "$RUN_ID"
    expect_rc 0
    expect_in out.txt "damaged in table event_blocks"
    run "$EIDER" run show "$RUN_ID"
    expect_in out.txt "damaged in table event_blocks"
}

# A store whose file SQLite opens but whose pages are damaged ("database disk image is
# malformed"): `eider runs` says so, naming the store and what to do (exit 5), but
# `eider asset show` answers "asset 'one' was never materialized ... has no record of
# it" (exit 2), text and --json alike: a store that cannot be read must never pass
# for one with nothing recorded.
asset_show_of_a_malformed_store_is_an_error_not_never_materialized() {
    make_store
    python3 -c 'import os
p = ".eider/eider.sqlite3"
with open(p, "r+b") as f:
    for off in range(2 * 4096, os.path.getsize(p), 4096):
        f.seek(off + 8)
        f.write(b"\xff" * 200)'
    run "$EIDER" runs
    expect_rc 5
    expect_in err.txt "malformed"
    local json
    for json in "" --json; do
        run "$EIDER" asset show one $json
        expect_not_in err.txt "never materialized"
        expect_rc 5
        expect_in err.txt "sqlite:$PWD/.eider/eider.sqlite3"
    done
}

# `eider materialize` on a store whose pages are damaged warns "this run is not
# recorded", runs, and exits 0 — while a file that is not a database at all is refused
# (exit 5) — and its --json says "recorded": true. Either refuse it as the other
# damaged file is, or at least tell --json the truth.
materialize_on_a_malformed_store_is_refused_or_says_it_is_unrecorded() {
    make_store
    python3 -c 'import os
p = ".eider/eider.sqlite3"
with open(p, "r+b") as f:
    for off in range(2 * 4096, os.path.getsize(p), 4096):
        f.seek(off + 8)
        f.write(b"\xff" * 200)'
    run "$EIDER" materialize --json
    if [[ $RC == 5 ]]; then
        expect_in err.txt "malformed"
        return 0
    fi
    expect_in err.txt "not recorded"
    check_json out.txt 'd["recorded"] is False'
}

# EIDER_STORAGE set to the store's file rather than its folder (an easy slip: the
# file is what one sees): the message says "Not a directory (a store is private to the
# user who made it ...); check that this user may read it and its folder", which
# sends the user to permissions. It must say that EIDER_STORAGE names a folder, and
# that this one is a file (give its folder).
storage_naming_the_store_file_says_to_give_its_folder() {
    make_store
    run env EIDER_STORAGE="$PWD/.eider/eider.sqlite3" "$EIDER" runs
    [[ $RC != 0 ]] || fail "EIDER_STORAGE naming a file was taken"
    expect_not_in err.txt "check that this user may read it"
    expect_in err.txt "$PWD/.eider/eider.sqlite3"
    expect_in err.txt "folder"
}

# EIDER_STORAGE as key=value with a misspelt key (pasword=) is refused before anything
# runs (exit 2), naming the key. The same slip in a URL (?pasword=...) is taken, fails
# to connect (exit 5) with `invalid URI query parameter: "***"` — the name the user
# must fix is masked — and a hint to check that the server is running. The URL form
# must be refused as the key=value form is, naming the parameter, never its value.
storage_url_with_a_misspelt_parameter_is_refused_naming_it() {
    make_store
    run env EIDER_STORAGE="host=127.0.0.1 port=1 pasword=$SECRET" "$EIDER" runs
    expect_rc 2
    expect_in err.txt '"pasword"'
    run env EIDER_STORAGE="postgresql://alice@127.0.0.1:1/db?pasword=$SECRET" "$EIDER" runs
    expect_secret_nowhere out.txt err.txt
    expect_in err.txt "pasword"
    expect_not_in err.txt "check that the server is running"
    expect_rc 2
}

# ---- leases and outages (issue 10, 2) ----

# EIDER_RUN_LEASE_S and EIDER_STORE_RETRY_S that are no number of seconds (a typo, a
# unit) are ignored without a word: the run goes on with 60 s. As EIDER_STORAGE is, a
# setting Eider cannot use must be refused, naming it, before anything runs (exit 2).
a_bad_lease_or_retry_setting_is_refused_naming_it() {
    make_store
    local var value
    for var in EIDER_RUN_LEASE_S EIDER_STORE_RETRY_S; do
        for value in abc 5s -1; do
            run env "$var=$value" "$EIDER" materialize
            expect_rc 2
            expect_in err.txt "$var"
            expect_in err.txt "'$value'"
        done
    done
}

# The store is gone at the run's end (a full disk), so eider retries for up to
# EIDER_STORE_RETRY_S (60 s) before saying what is missing. The run has succeeded;
# the user presses Ctrl-C to stop waiting. Eider prints "canceling: interrupting the
# running assets" (none is running) and goes on waiting; a second Ctrl-C exits 130
# with no summary and no word of the events, materializations and end the store lacks.
# One Ctrl-C must stop the wait and say what is missing, as the end of the wait does.
ctrl_c_while_the_end_waits_for_the_store_says_what_is_missing() {
    mkdir -p small
    if ! mount -t tmpfs -o size=4m tmpfs small 2>mount.err; then
        echo "    skipped: cannot mount a small filesystem here: $(cat mount.err)"
        return 0
    fi
    trap "umount '$PWD/small'" EXIT
    export EIDER_STORAGE=$PWD/small/store
    write_slow_defs
    TICKS=10 "$EIDER" materialize -f defs.c >run.out 2>run.err &
    local pid=$! i
    BACKGROUND_PIDS+=("$pid")
    wait_started
    dd if=/dev/zero of=small/fill bs=4k >/dev/null 2>&1 || true
    for i in $(seq 50); do
        grep -q "ok   after" run.out && break
        sleep 0.1
    done
    grep -q "ok   after" run.out || fail "the run did not end: $(cat run.out)"
    sleep 0.5
    kill -INT "$pid"
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -INT "$pid"
        wait "$pid" || true
        fail "one Ctrl-C did not stop the wait for the store (5 s later); after a second: $(tail -3 run.out | tr '\n' ' ')"
    fi
    wait "$pid" || true
    expect_in run.out "recorded only in part"
    expect_in run.out "the run's end"
}

# The disk stays full past the run's end: on stderr the run says it is "recorded only
# in part", naming what is missing, but `--json` (what CI reads) says "recorded": true
# and nothing of it. The JSON must say that the record is partial, and what it lacks.
json_of_a_run_recorded_only_in_part_says_so() {
    mkdir -p small
    if ! mount -t tmpfs -o size=4m tmpfs small 2>mount.err; then
        echo "    skipped: cannot mount a small filesystem here: $(cat mount.err)"
        return 0
    fi
    trap "umount '$PWD/small'" EXIT
    export EIDER_STORAGE=$PWD/small/store EIDER_STORE_RETRY_S=1
    write_slow_defs
    TICKS=10 "$EIDER" materialize -f defs.c --json >run.out 2>run.err &
    local pid=$!
    BACKGROUND_PIDS+=("$pid")
    wait_started
    dd if=/dev/zero of=small/fill bs=4k >/dev/null 2>&1 || true
    wait "$pid" || fail "the run failed: $(cat run.err)"
    expect_in run.err "recorded only in part"
    cp run.out out.txt
    check_json out.txt 'd["recorded"] is not True or "missing" in d'
}

# A run stopped past its lease is marked crashed; `eider logs --follow` started on it
# before prints a run_end ("the run's lease ran out") and exits 0. When the run comes
# back it goes on and succeeds, but the follower is gone: it showed an end that was
# not the run's, and missed the rest. --follow must follow the run to its true end.
logs_follow_follows_a_run_whose_lease_lapsed_to_its_true_end() {
    write_slow_defs
    TICKS=30 EIDER_RUN_LEASE_S=0.5 "$EIDER" materialize -f defs.c >run.out 2>run.err &
    local pid=$! follower id
    BACKGROUND_PIDS+=("$pid")
    wait_started
    id=$("$EIDER" runs --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["run_id"])')
    "$EIDER" logs "$id" --follow -f defs.c >follow.out 2>follow.err &
    follower=$!
    BACKGROUND_PIDS+=("$follower")
    sleep 0.3
    kill -STOP "$pid"
    sleep 1.2
    expect_eq "$(run_status)" crashed "the stopped run's status once its lease ran out"
    sleep 0.5
    kill -CONT "$pid"
    wait "$pid" || fail "the run failed after SIGCONT: $(cat run.err)"
    local i
    for i in $(seq 50); do
        kill -0 "$follower" 2>/dev/null || break
        sleep 0.1
    done
    expect_in follow.out "tick 29"
    expect_in follow.out "step_success"
}

# A run stopped past its lease shows as crashed, and `eider gc --keep-days 0` deletes
# it with its events. The run comes back, says "run succeeded" and exits 0, but its
# row is gone: `eider runs` lists nothing, and the events it writes after are kept
# under no run (gc never reaches them again). A run that lost its record must not say
# nothing: either gc leaves a run whose lease lapsed only just now, or the run says at
# its end that its record was deleted.
a_run_deleted_by_gc_while_stopped_does_not_end_silently() {
    write_slow_defs
    TICKS=20 EIDER_RUN_LEASE_S=0.5 "$EIDER" materialize -f defs.c >run.out 2>run.err &
    local pid=$!
    BACKGROUND_PIDS+=("$pid")
    wait_started
    kill -STOP "$pid"
    sleep 1.2
    expect_eq "$(run_status)" crashed "the stopped run's status once its lease ran out"
    run "$EIDER" gc --keep-days 0 -f defs.c
    expect_rc 0
    kill -CONT "$pid"
    set +e
    wait "$pid"
    set -e
    if [[ "$(run_status)" == success ]]; then
        return 0                                 # gc left it, and it ended recorded
    fi
    grep -qi "deleted\|not recorded\|missing" run.out run.err ||
        fail "the run's record was deleted under it, and it said nothing: $(tail -2 run.out)"
}

run_case a_pragma_of_a_secret_setting_is_masked_as_a_set_is
run_case an_attach_string_with_passwd_is_masked
run_case a_secret_value_with_a_quote_is_masked_in_the_message
run_case a_secret_set_earlier_in_a_script_is_masked_in_a_later_message
run_case a_glob_key_part_loads_only_its_own_parquet_file
run_case a_store_without_its_schema_version_is_damaged_not_empty
run_case an_event_block_numbered_below_one_is_a_note_not_silence
run_case asset_show_of_a_malformed_store_is_an_error_not_never_materialized
run_case materialize_on_a_malformed_store_is_refused_or_says_it_is_unrecorded
run_case storage_naming_the_store_file_says_to_give_its_folder
run_case storage_url_with_a_misspelt_parameter_is_refused_naming_it
run_case a_bad_lease_or_retry_setting_is_refused_naming_it
run_case ctrl_c_while_the_end_waits_for_the_store_says_what_is_missing
run_case json_of_a_run_recorded_only_in_part_says_so
run_case logs_follow_follows_a_run_whose_lease_lapsed_to_its_true_end
run_case a_run_deleted_by_gc_while_stopped_does_not_end_silently
finish
