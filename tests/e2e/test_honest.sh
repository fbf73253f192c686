#!/usr/bin/env bash
# test_honest.sh — nothing that did nothing may look like success: an asset stored by
# the I/O manager that gives no output fails; a selection naming an unknown group,
# tag, kind or owner is an error, and a valid but empty one runs and records nothing;
# the store commands tell an unknown asset from an external or unmaterialized one,
# show a run's real selection, take either spelling of a status, never create or
# write a store, and report every error as JSON under --json.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Definitions on the DuckDB I/O manager: `empty` forgets its output, `down` reads it,
# `own` declares the resource and writes its own table, `outside` is external.
write_io_defs() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int empty(eider_context *ctx) { (void)ctx; return 0; }
static int down(eider_context *ctx) { return eider_output_sql(ctx, "SELECT * FROM {empty}"); }
static int own(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"), "CREATE OR REPLACE TABLE own AS SELECT 1 AS x");
}
static int fine(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 1 AS x"); }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "w.duckdb" });
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "w.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "empty", .compute = empty, .group = "ingest",
                                          .kinds = EIDER_KEYS("duckdb"), .tags = EIDER_TAGS("tier", "gold") });
    eider_asset(defs, &(eider_asset_def){ .key = "down", .compute = down, .deps = EIDER_KEYS("empty") });
    eider_asset(defs, &(eider_asset_def){ .key = "own", .compute = own, .resources = EIDER_KEYS("duckdb"),
                                          .owners = EIDER_KEYS("ada@example.com") });
    eider_asset(defs, &(eider_asset_def){ .key = "fine", .compute = fine, .group = "ingest" });
    eider_asset_spec(defs, &(eider_asset_spec_def){ .key = "outside", .group = "external" });
}
EOF
}

# ---- 1. a missing output ----

a_missing_output_fails_and_is_never_fresh() {
    write_io_defs
    run "$EIDER" materialize --select 'empty*, own'
    expect_rc 1
    expect_in out.txt "asset 'empty' returned without an output, so I/O manager 'io_manager' stored nothing"
    expect_in out.txt "skipped:  down"
    expect_not_in out.txt "materialize it first"
    run "$EIDER" list --json
    check_json out.txt '{a["key"]: a["status"] for a in d}["empty"] == "failed"'
    check_json out.txt '{a["key"]: a["status"] for a in d}["own"] == "fresh"'
}

# ---- 2. selections ----

an_unknown_group_tag_kind_or_owner_is_an_error() {
    write_io_defs
    local sel
    for sel in group:ingset tag:teir kind:duckbd owner:ada@example.org tag:tier=glod; do
        run "$EIDER" materialize --select "$sel"
        expect_rc 4
        expect_in err.txt "did you mean"
        run "$EIDER" list --select "$sel"
        expect_rc 4
    done
    run "$EIDER" materialize --select group:nope
    expect_rc 4
    expect_in err.txt "unknown group 'nope'"
    expect_not_in out.txt "nothing to materialize"
    [[ ! -e .eider/eider.sqlite3 ]] || [[ $("$EIDER" runs --json) == "[]" ]] || fail "a typo recorded a run"
}

a_valid_empty_selection_says_so_and_records_no_run() {
    write_io_defs
    run "$EIDER" materialize --select 'group:ingest and group:external'
    expect_rc 0
    expect_in out.txt "nothing to materialize: 'group:ingest and group:external' selects no asset; no run was started or recorded"
    run "$EIDER" materialize --select outside
    expect_rc 0
    expect_in out.txt "selects only external assets (1)"
    run "$EIDER" materialize --select own
    expect_rc 0
    run "$EIDER" materialize --select 'stale(own)'
    expect_rc 0
    expect_in out.txt "everything 'stale(own)' looks at is up to date"
    run "$EIDER" materialize --select 'stale(own)' --json
    expect_rc 0
    check_json out.txt 'd["run_id"] is None and d["status"] == "nothing" and d["steps"] == []'
    run "$EIDER" runs --json
    check_json out.txt 'len(d) == 1'
}

list_and_materialize_agree_on_an_empty_select() {
    write_io_defs
    run "$EIDER" list --select ''
    expect_rc 4
    expect_in err.txt "--select is empty"
    run "$EIDER" materialize --select ' '
    expect_rc 4
    expect_in err.txt "--select is empty"
}

# ---- 3. asset show ----

asset_show_tells_unknown_external_and_never_materialized_apart() {
    write_io_defs
    run "$EIDER" materialize --select own
    run "$EIDER" asset show fiine
    expect_rc 4
    expect_in err.txt "asset 'fiine' is not defined (did you mean 'fine'?)"
    run "$EIDER" asset show outside
    expect_rc 2
    expect_in err.txt "asset 'outside' is external: something outside Eider produces it"
    run "$EIDER" asset show fine
    expect_rc 2
    expect_in err.txt "asset 'fine' was never materialized"
    run "$EIDER" asset wipe fien
    expect_rc 4
    mkdir elsewhere && cd elsewhere
    run env EIDER_HOME=../.eider "$EIDER" asset show fiine
    expect_rc 2
    expect_in err.txt "no definitions here to tell"
}

# Definitions that fail to compile cannot tell an unknown asset from one never
# materialized: say that they failed and why, not "there are no definitions here".
asset_show_with_broken_definitions_says_they_failed_to_load() {
    write_io_defs
    run "$EIDER" materialize --select fine
    expect_rc 0
    echo 'this is no C;' >>definitions.c
    run "$EIDER" asset show fiine
    expect_rc 3
    expect_not_in err.txt "no definitions here"
    expect_in err.txt "has no record of asset 'fiine', and the definitions, which would tell"
    expect_in err.txt "failed to load"
    expect_in err.txt "this is no C"
    run "$EIDER" asset show fine
    expect_rc 0
}

# `asset wipe KEY --partition P` of an asset that is not partitioned says so, with
# the exit code of every other partition error (4), whether the definitions or only
# the records tell.
asset_wipe_of_a_partition_of_an_unpartitioned_asset_says_it_is_not_partitioned() {
    write_io_defs
    run "$EIDER" materialize --select fine
    expect_rc 0
    run "$EIDER" asset wipe fine --partition x
    expect_rc 4
    expect_in err.txt "asset 'fine' is not partitioned, so it has no partition 'x': leave out --partition"
    run "$EIDER" asset wipe down --partition x
    expect_rc 4
    expect_in err.txt "asset 'down' is not partitioned"
    mkdir elsewhere && cd elsewhere
    run env EIDER_HOME=../.eider "$EIDER" asset wipe fine --partition x
    expect_rc 4
    expect_in err.txt "asset 'fine' is not partitioned"
    run env EIDER_HOME=../.eider "$EIDER" asset show fine
    expect_rc 0
}

# ---- 4. logs ----

logs_print_the_runs_real_selection() {
    write_io_defs
    run "$EIDER" materialize --select 'own or fine'
    expect_rc 0
    local id
    id=$("$EIDER" runs --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["run_id"])')
    run "$EIDER" logs "$id"
    expect_rc 0
    grep -qE 'run_start +selection own or fine$' out.txt || fail "run_start does not show the selection"
    run "$EIDER" logs "$id" --json
    head -1 out.txt >first.json
    check_json first.json 'd["type"] == "run_start" and d["selection"] == "own or fine"'
}

# ---- 5. one vocabulary of statuses ----

runs_status_takes_the_word_list_prints() {
    write_io_defs
    run "$EIDER" materialize --select 'empty, own'
    expect_rc 1
    run "$EIDER" list
    grep -qE '^empty .* failed ' out.txt || fail "list does not say 'failed'"
    local word
    for word in failed failure FAILED; do
        run "$EIDER" runs --status "$word" --json
        expect_rc 0
        check_json out.txt 'len(d) == 1 and d[0]["status"] == "failure"'
    done
    run "$EIDER" runs --status succeeded --json
    expect_rc 0
    check_json out.txt 'd == []'
}

# ---- 6. the read-only commands neither make a store nor need to write one ----

read_only_commands_make_no_store() {
    write_io_defs
    run "$EIDER" runs
    expect_rc 0
    expect_in out.txt "no runs yet: nothing is recorded"
    run "$EIDER" runs --json
    expect_rc 0
    check_json out.txt 'd == []'
    run "$EIDER" run show 1234
    expect_rc 2
    expect_in err.txt "no run '1234': nothing is recorded yet"
    run "$EIDER" logs 1234
    expect_rc 2
    expect_in err.txt "nothing is recorded yet"
    run "$EIDER" asset show own
    expect_rc 2
    expect_in err.txt "asset 'own' was never materialized"
    [[ ! -e .eider/eider.sqlite3 ]] || fail "a command that only reads made a store"
}

read_only_commands_read_a_store_they_cannot_write() {
    if [[ $(id -u) != 0 ]] || ! command -v setpriv >/dev/null; then
        return 0    # needs root to become a user who may not write the store
    fi
    let_others_run_eider
    local dir
    dir=$(mktemp -d /tmp/eider-ro-XXXXXX)
    chmod 755 "$dir"
    cd "$dir"
    write_io_defs
    run "$EIDER" materialize --select own
    expect_rc 0
    local id
    id=$("$EIDER" runs --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["run_id"])')
    chmod -R go+rX .eider      # the store is its owner's alone until the owner shares it
    chmod -R a-w "$dir"
    local as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    run "${as_nobody[@]}" "$EIDER" runs
    expect_rc 0
    expect_in out.txt "$id"
    run "${as_nobody[@]}" "$EIDER" run show "$id"
    expect_rc 0
    run "${as_nobody[@]}" "$EIDER" logs "$id"
    expect_rc 0
    expect_in out.txt "run_end"
    run "${as_nobody[@]}" "$EIDER" asset show own
    expect_rc 0
    expect_in out.txt "asset own"
    chmod -R u+w "$dir"
    cd / && rm -rf "$dir"
}

# ---- 7. --json reports errors as JSON ----

every_json_error_is_json_on_stdout() {
    echo 'this is not C' >broken.c
    run "$EIDER" list -f broken.c --json
    expect_rc 3
    check_json out.txt 'd["error"]["code"] == "definitions" and d["error"]["exit_code"] == 3 and "broken.c" in d["error"]["message"]'
    run "$EIDER" materialize -f broken.c --json
    expect_rc 3
    check_json out.txt 'd["error"]["code"] == "definitions"'
    write_io_defs
    run "$EIDER" materialize --select group:nope --json
    expect_rc 4
    check_json out.txt 'd["error"]["code"] == "selection" and "unknown group" in d["error"]["message"]'
    run "$EIDER" list --select 'own and' --json
    expect_rc 4
    check_json out.txt 'd["error"]["exit_code"] == 4'
    run "$EIDER" runs --status broken --json
    expect_rc 2
    check_json out.txt 'd["error"]["code"] == "usage"'
    run "$EIDER" run show nosuch --json
    expect_rc 2
    check_json out.txt '"nosuch" in d["error"]["message"]'
    run "$EIDER" logs nosuch --json
    expect_rc 2
    check_json out.txt '"error" in d'
    run "$EIDER" asset show fiine --json
    expect_rc 4
    check_json out.txt '"did you mean" in d["error"]["message"]'
    run "$EIDER" gc --json
    expect_rc 2
    check_json out.txt 'd["error"]["code"] == "usage"'
    run "$EIDER" materialize --jobs 0 --json
    expect_rc 2
    check_json out.txt 'd["error"]["code"] == "usage"'
}

run_case a_missing_output_fails_and_is_never_fresh
run_case an_unknown_group_tag_kind_or_owner_is_an_error
run_case a_valid_empty_selection_says_so_and_records_no_run
run_case list_and_materialize_agree_on_an_empty_select
run_case asset_show_tells_unknown_external_and_never_materialized_apart
run_case asset_show_with_broken_definitions_says_they_failed_to_load
run_case asset_wipe_of_a_partition_of_an_unpartitioned_asset_says_it_is_not_partitioned
run_case logs_print_the_runs_real_selection
run_case runs_status_takes_the_word_list_prints
run_case read_only_commands_make_no_store
run_case read_only_commands_read_a_store_they_cannot_write
run_case every_json_error_is_json_on_stdout
finish
