#!/usr/bin/env bash
# test_review_issue9.sh — issue 9 tried as a new user would, after its branches were
# merged: each case is a defect a user trips over, and states the behaviour expected.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ---- the store commands read another user's store (issue 9, 3: read-only commands) ----

# The store as it is after a run: `eider materialize` closes it cleanly, so SQLite
# removed the -wal and -shm files. Another user (no write access to .eider, the
# default 755 folder) runs `eider runs`: the runs are there and must be listed, never
# "no runs yet: there is no instance store".
another_user_reads_a_store_just_after_a_run() {
    if [[ $(id -u) != 0 ]] || ! command -v setpriv >/dev/null; then
        return 0    # needs root to become a user who may not write the store
    fi
    let_others_run_eider
    local dir="$WORK/ro"
    chmod 711 "$WORK"      # so that the other user may reach the project's folder
    mkdir -p "$dir"
    chmod 755 "$dir"
    cd "$dir"
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
    [[ ! -e .eider/eider.sqlite3-wal ]] || fail "expected no -wal file after a clean run"
    chmod -R go+rX .eider      # the store is its owner's alone until the owner shares it
    local as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    run "${as_nobody[@]}" "$EIDER" runs
    expect_not_in out.txt "no runs yet"
    expect_rc 0
    expect_in out.txt "success"
    run "${as_nobody[@]}" "$EIDER" runs --json
    check_json out.txt 'len(d) == 1'
    run "${as_nobody[@]}" "$EIDER" asset show one
    expect_rc 0
    expect_in out.txt "asset one"
}

# A team folder: .eider may be written by everyone (777). Another user's `eider runs`
# leaves eider.sqlite3-wal and -shm behind, owned by that user and not writable by the
# owner, whose next `eider materialize` then fails with exit 5: "cannot migrate the
# instance store ...: attempt to write a readonly database". A command that only reads
# must leave the store as the owner can still write it.
another_users_read_leaves_the_store_writable_for_its_owner() {
    if [[ $(id -u) != 0 ]] || ! command -v setpriv >/dev/null; then
        return 0    # needs root to act as two users
    fi
    let_others_run_eider
    local dir="$WORK/team"
    chmod 711 "$WORK"      # so that the other users may reach the project's folder
    mkdir -p "$dir"
    cat >"$dir/definitions.c" <<'EOF'
#include <eider.h>
static int one(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 1 AS x"); }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "r.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "one", .compute = one });
}
EOF
    chown -R 1:1 "$dir"
    chmod 777 "$dir"
    cd "$dir"
    local as_owner=(setpriv --reuid=1 --regid=1 --clear-groups)
    local as_other=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    run "${as_owner[@]}" "$EIDER" materialize
    expect_rc 0
    chmod 777 .eider
    chmod -R go+rX .eider/eider.sqlite3 .eider/cache   # shared: private until the owner says
    run "${as_other[@]}" "$EIDER" runs
    expect_rc 0
    expect_in out.txt "success"
    # Every other command another user may type leaves the store as it was: those that
    # only read read it; one that would write it is refused before SQLite makes a file.
    local cmd
    for cmd in "list" "asset show one" "partitions list regions" "runs --json"; do
        # shellcheck disable=SC2086
        run "${as_other[@]}" "$EIDER" $cmd
        [[ $RC != 5 ]] || fail "eider $cmd as another user: exit 5"
    done
    run "${as_other[@]}" "$EIDER" list
    expect_rc 0
    expect_in out.txt "fresh"
    run "${as_other[@]}" "$EIDER" materialize
    expect_rc 5
    expect_in err.txt "cannot write the instance store '$dir/.eider/eider.sqlite3': this user"
    if find .eider -maxdepth 1 -user 65534 | grep -q .; then
        fail "another user left files in the store's folder: $(ls -la .eider)"
    fi
    run "${as_owner[@]}" "$EIDER" materialize
    expect_not_in err.txt "readonly database"
    expect_rc 0
}

# ---- a plain materialize leaves out partitioned assets (issue 9, 2) ----

# Every asset is partitioned: a plain `eider materialize` has nothing it can run. It
# must say which partitioned assets it left out and how to include them, and exit 0
# like any valid selection with nothing to run — not exit 4 telling the user to
# "leave it out of the selection", a selection they never gave.
plain_materialize_of_only_partitioned_assets_is_not_an_error() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int f(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 'red' AS c"); }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    const eider_partitions *cols = eider_static_partitions(defs, EIDER_KEYS("red", "blue"));
    eider_asset(defs, &(eider_asset_def){ .key = "colours", .compute = f, .partitions = cols,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "c")) });
}
EOF
    run "$EIDER" materialize
    expect_rc 0
    expect_in out.txt "nothing to materialize"
    expect_in err.txt "left out the partitioned asset 'colours'"
    expect_in err.txt "--all-partitions"
    expect_not_in err.txt "leave it out of the selection"
    run "$EIDER" materialize --json
    expect_rc 0
    check_json out.txt 'd["status"] == "nothing" and [x["key"] for x in d["left_out"]] == ["colours"]'
    # named by key, it needs a partition: the error says how to give one
    run "$EIDER" materialize --select colours
    expect_rc 4
    expect_in err.txt "asset 'colours' is partitioned: choose its partitions"
    expect_in err.txt "--all-partitions"
}

# A plain `eider materialize` on a fresh project leaves out the partitioned `daily`,
# and then runs `summary` (unpartitioned, downstream of it), which fails with "materialize
# 'daily' first (eider materialize --select 'daily')" — a command that itself fails
# (exit 4, daily is partitioned). What cannot run because its upstream was left out
# and never materialized must be left out too (or skipped), and the run succeed.
plain_materialize_does_not_fail_downstream_of_what_it_left_out() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int daily(eider_context *ctx) { return eider_output_sql(ctx, "SELECT DATE '2024-01-01' AS day"); }
static int summary(eider_context *ctx) { return eider_output_sql(ctx, "SELECT count(*) AS n FROM {daily}"); }
static int plain(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 1 AS x"); }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    const eider_partitions *days = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .end = "2024-01-03" });
    eider_asset(defs, &(eider_asset_def){ .key = "daily", .compute = daily, .partitions = days,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "day")) });
    eider_asset(defs, &(eider_asset_def){ .key = "summary", .compute = summary, .deps = EIDER_KEYS("daily") });
    eider_asset(defs, &(eider_asset_def){ .key = "plain", .compute = plain });
}
EOF
    run "$EIDER" materialize
    expect_in err.txt "left out the partitioned asset 'daily'"
    expect_in err.txt "'summary' (reads 'daily')"
    expect_not_in out.txt "FAIL"
    expect_rc 0
    expect_in out.txt "plain"
    run "$EIDER" materialize --json
    expect_rc 0
    check_json out.txt '[(x["key"], x["upstream"]) for x in d["left_out"]] == [("daily", None), ("summary", "daily")]'
    # the run's log says what was left out of its selection
    run "$EIDER" logs "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' out.txt)"
    expect_rc 0
    expect_in out.txt "left out: 'daily' (partitioned, and no partition was given), 'summary' (reads 'daily', left out and never materialized)"
    # once daily has a partition, summary reads what is there
    run "$EIDER" materialize --select daily --partition 2024-01-01
    expect_rc 0
    run "$EIDER" materialize
    expect_rc 0
    expect_in out.txt "summary"
    expect_not_in err.txt "'summary' (reads"
    expect_in err.txt "left out the partitioned asset 'daily'"
}

# `stale()` with nothing stale says "nothing to materialize" and exits 0; adding
# --all-partitions (a backfill of whatever is stale) must say the same, not exit 4 with
# "partition '(all)' was given, but no asset is selected, so none is  not partitioned".
empty_stale_backfill_says_nothing_to_materialize() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int daily(eider_context *ctx) { return eider_output_sql(ctx, "SELECT DATE '2024-01-01' AS day"); }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    const eider_partitions *days = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .end = "2024-01-02" });
    eider_asset(defs, &(eider_asset_def){ .key = "daily", .compute = daily, .partitions = days,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "day")) });
}
EOF
    run "$EIDER" materialize --select daily --all-partitions
    expect_rc 0
    run "$EIDER" materialize --select 'stale()'
    expect_rc 0
    expect_in out.txt "nothing to materialize"
    run "$EIDER" materialize --select 'stale()' --all-partitions
    expect_not_in err.txt "none is  not"
    expect_rc 0
    expect_in out.txt "nothing to materialize"
}

# `--select 'stale()'` is what a user runs every day; in a project with one partitioned
# asset it exits 4 ("asset 'daily' is partitioned ... leave it out of the selection")
# and runs nothing, so stale() is unusable there. Expected: as a plain materialize,
# the stale unpartitioned assets run and the partitioned ones are named as left out.
stale_runs_the_unpartitioned_assets_of_a_mixed_project() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int daily(eider_context *ctx) { return eider_output_sql(ctx, "SELECT DATE '2024-01-01' AS day"); }
static int plain(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 1 AS x"); }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    const eider_partitions *days = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .end = "2024-01-03" });
    eider_asset(defs, &(eider_asset_def){ .key = "daily", .compute = daily, .partitions = days,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "day")) });
    eider_asset(defs, &(eider_asset_def){ .key = "plain", .compute = plain });
}
EOF
    run "$EIDER" materialize --select 'stale()'
    expect_rc 0
    expect_in out.txt "plain"
    expect_in err.txt "left out the partitioned asset 'daily'"
    # a daily job: what is stale, with today's partition; daily is stale, plain is not
    run "$EIDER" materialize --select 'stale()' --partition 2024-01-01
    expect_rc 0
    expect_in out.txt "daily"
    expect_not_in out.txt "plain"
    # the same once daily is not stale but plain is: the partition is no error, plain runs
    run "$EIDER" asset wipe plain
    run "$EIDER" materialize --select 'stale()' --partition 2024-01-01
    expect_rc 0
    expect_in out.txt "plain"
    # --all-partitions for assets that are not partitioned says so, without "(all)"
    run "$EIDER" materialize --select plain --all-partitions
    expect_rc 4
    expect_in err.txt "--all-partitions was given, but 'plain' is not partitioned: leave out --all-partitions"
    expect_not_in err.txt "(all)"
}

# Two partitioned assets with different partitions (colours, days): one run of
# --all-partitions works, but the same command with --resume (what a failed backfill
# tells the user to run) and with --per-partition exit 4 with "asset 'days' has no
# partition 'red'". Each asset's partitions are its own: a backfill resumes and splits
# per asset's partitions, or refuses the combination before it starts, naming it.
backfill_of_two_partitionings_resumes() {
    write_colours_and_days 2024-01-03
    run "$EIDER" materialize --select 'colours, days' --all-partitions
    expect_rc 0
    run "$EIDER" materialize --select 'colours, days' --all-partitions --resume
    expect_not_in err.txt "has no partition 'red'"
    expect_rc 0
    expect_in out.txt "backfill of 'colours' and 'days': 0 partitions succeeded, 0 failed, 4 already done"
    # one run per partition: each partitioning in turn, each run with the assets that
    # have its partition
    run "$EIDER" materialize --select 'colours, days' --all-partitions --per-partition
    expect_rc 0
    expect_in out.txt "backfill of 'colours' and 'days': 4 partitions succeeded, 0 failed"
    run "$EIDER" runs --json
    check_json out.txt '[(r["selection"], r["partition"]) for r in d[:4]] == [("days", "2024-01-02"), ("days", "2024-01-01"), ("colours", "blue"), ("colours", "red")]'
    expect_eq "$(dq p.duckdb "SELECT string_agg(p, ',' ORDER BY p) FROM public.colours")" "blue,red" "colours"
    expect_eq "$(dq p.duckdb "SELECT count(*) FROM public.days")" "2" "days"
    # a failed partition of one partitioning is redone alone
    run "$EIDER" asset wipe days --partition 2024-01-02
    expect_rc 0
    run "$EIDER" materialize --select 'colours, days' --all-partitions --resume
    expect_rc 0
    expect_in out.txt "partition 2024-01-02"
    expect_in out.txt "1 partition succeeded, 0 failed, 3 already done"
    # one partition, no selection: the assets that have it run, the others are named
    run "$EIDER" materialize --partition red --json
    expect_rc 0
    check_json out.txt '[s["key"] for s in d["steps"]] == ["colours"] and d["left_out"] == [{"key": "days", "why": "not_its_partition", "upstream": None}]'
    expect_in err.txt "left out the partitioned asset 'days', which has no partition 'red'"
    # ... but a partition no asset has is a typo
    run "$EIDER" materialize --partition rde
    expect_rc 4
    expect_in err.txt "no partition 'rde'"
}

# `eider runs` shows the partition of a run; a run of --all-partitions shows '-' (JSON:
# null), as a run of an unpartitioned asset does, so the history cannot tell a
# backfill from a plain run. Expected: the run records which partitions it ran.
runs_show_the_partitions_of_an_all_partitions_run() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int f(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 'red' AS c UNION ALL SELECT 'blue'"); }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    const eider_partitions *cols = eider_static_partitions(defs, EIDER_KEYS("red", "blue"));
    eider_asset(defs, &(eider_asset_def){ .key = "colours", .compute = f, .partitions = cols,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "c")) });
}
EOF
    run "$EIDER" materialize --select colours --all-partitions
    expect_rc 0
    run "$EIDER" runs --json
    expect_rc 0
    check_json out.txt 'd[0]["partition"] == "all (2)"'
    run "$EIDER" run show "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["run_id"])' out.txt)"
    expect_rc 0
    expect_in out.txt "partition    all (2)"
    run "$EIDER" materialize --select colours --partition-range red...blue
    expect_rc 0
    run "$EIDER" runs
    expect_in out.txt "red...blue"
}

# ---- an asset that reads its own previous partition (issue 9, 2: mappings) ----

# The README: "A time window that ends before the asset's own may name the asset
# itself ... while its table does not exist yet, that input is an empty frame." An SQL
# output naming itself ({running}) fails on the first run because its table does not
# exist, so the asset can never start. The rule chosen is dbt's is_incremental(): the
# first run has no {running}, eider_input_exists() tells, and SQL naming it then
# fails saying so (not with DuckDB's "Table ... does not exist").
a_self_dependent_sql_asset_runs_on_a_fresh_database() {
    cat >definitions.c <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <eider.h>
static int running(eider_context *ctx)
{
    size_t n = 0;
    const char *const *k = eider_partition_keys(ctx, &n);
    char sql[256];
    int incremental = getenv("NAIVE") || eider_input_exists(ctx, "running");
    snprintf(sql, sizeof(sql), "SELECT DATE '%s' AS day, %s AS before", k[0],
             incremental ? "(SELECT count(*) FROM {running})" : "0::BIGINT");
    return eider_output_sql(ctx, sql);
}
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    const eider_partitions *days = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .end = "2024-01-04" });
    eider_asset(defs, &(eider_asset_def){ .key = "running", .compute = running, .partitions = days,
        .ins = EIDER_INPUTS({ .key = "running", .partition_mapping = {
            .kind = EIDER_MAP_TIME_WINDOW, .start_offset = -1, .end_offset = -1 } }),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "day")) });
}
EOF
    NAIVE=1 run "$EIDER" materialize --select running --partition 2024-01-01
    expect_rc 1
    expect_in out.txt "{running} reads its own earlier partitions, but table \"p\".\"public\".\"running\" in "
    expect_in out.txt 'eider_input_exists(ctx, "running")'
    expect_not_in out.txt "Catalog Error"
    run "$EIDER" materialize --select running --partition 2024-01-01
    expect_rc 0
    run "$EIDER" materialize --select running --partition 2024-01-02
    expect_rc 0
    expect_eq "$(dq p.duckdb "SELECT string_agg(before::VARCHAR, ',' ORDER BY day) FROM public.running")" "0,1" \
        "rows of the previous partition each partition saw"
}

# ---- control characters in what Eider prints (issue 9, 4) ----

# `asset show` escapes ESC in the preview's values and in the columns table, but prints
# the preview's header (the column names) raw.
asset_show_escapes_the_preview_header() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int f(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 1 AS \"col\x1b[2J\""); }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "f", .compute = f });
}
EOF
    run "$EIDER" materialize
    expect_rc 0
    run "$EIDER" asset show f
    expect_rc 0
    if grep -q $'\x1b' out.txt; then
        fail "asset show printed a raw ESC: $(grep -n $'\x1b' out.txt | cat -v)"
    fi
    expect_in out.txt 'col\x1b[2J'
}

# ---- dynamic partitions (issue 9, 2) ----

write_dynamic_defs() {
    cat >definitions.c <<'EOF'
#include <stdio.h>
#include <eider.h>
static int sales(eider_context *ctx)
{
    size_t n = 0;
    const char *const *k = eider_partition_keys(ctx, &n);
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT '%s' AS region", k[0]);
    return eider_output_sql(ctx, sql);
}
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "sales", .compute = sales,
        .partitions = eider_dynamic_partitions(defs, "regions"),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "region")) });
}
EOF
}

# A typo in the name: `eider partitions add region eu` (the definitions say "regions")
# succeeds and keeps the key under a name no asset uses, so the user's next
# `materialize --partition eu` fails with "no partition 'eu'". An unknown name is an
# error with a did-you-mean, as an unknown asset key is (exit 4), and adds nothing.
partitions_add_refuses_a_name_no_definition_has() {
    write_dynamic_defs
    run "$EIDER" partitions add region eu
    expect_rc 4
    expect_in err.txt "did you mean 'regions'"
    run "$EIDER" partitions add region eu --json
    expect_rc 4
    check_json out.txt '"did you mean" in d["error"]["message"] and d["error"]["exit_code"] == 4'
    run "$EIDER" partitions add regions eu
    expect_rc 0
    run "$EIDER" partitions list region
    expect_rc 4
    expect_not_in out.txt "eu"
    # Definitions that do not compile: their error, and nothing added.
    echo 'this does not compile' >>definitions.c
    run "$EIDER" partitions add regions us
    expect_rc 3
    expect_in err.txt "definitions.c"
    sed -i '$d' definitions.c
    run "$EIDER" partitions list regions
    expect_rc 0
    expect_eq "$(tr '\n' ' ' <out.txt)" "eu " "keys after the refused add"
}

# `eider partitions list` only reads: like runs, run show, logs and asset show it must
# not make an instance store where there is none. An unknown name is an error with a
# did-you-mean when the definitions load.
partitions_list_makes_no_store() {
    write_dynamic_defs
    run "$EIDER" partitions list regions
    expect_rc 0
    [[ ! -e .eider/eider.sqlite3 ]] || fail "eider partitions list made a store"
    run "$EIDER" partitions list regions --json
    expect_rc 0
    check_json out.txt 'd == {"name": "regions", "keys": []}'
    run "$EIDER" partitions list region
    expect_rc 4
    expect_in err.txt "did you mean 'regions'"
    [[ ! -e .eider/eider.sqlite3 ]] || fail "eider partitions list made a store"
}

# With EIDER_STORAGE=none there is no store to keep dynamic keys: the error for a
# missing key says so, not "add them with eider partitions add", which that mode
# refuses.
storage_none_says_dynamic_keys_need_a_store() {
    write_dynamic_defs
    EIDER_STORAGE=none run "$EIDER" materialize --partition eu
    expect_rc 4
    expect_in err.txt "EIDER_STORAGE is 'none'): unset EIDER_STORAGE"
    expect_not_in err.txt "have no keys yet: add them"
    EIDER_STORAGE=none run "$EIDER" partitions add regions eu
    expect_rc 2
    expect_in err.txt "EIDER_STORAGE is 'none', so nothing is recorded and there is no store to change"
    EIDER_STORAGE=none run "$EIDER" list
    expect_rc 0
    expect_in out.txt "regions: (none: EIDER_STORAGE is 'none'"
    expect_not_in out.txt "no keys yet"
    run "$EIDER" materialize --partition eu
    expect_rc 4
    expect_in err.txt "have no keys yet: add them with eider partitions add regions KEY..."
}

run_case another_user_reads_a_store_just_after_a_run
run_case another_users_read_leaves_the_store_writable_for_its_owner
run_case plain_materialize_of_only_partitioned_assets_is_not_an_error
run_case plain_materialize_does_not_fail_downstream_of_what_it_left_out
run_case empty_stale_backfill_says_nothing_to_materialize
run_case stale_runs_the_unpartitioned_assets_of_a_mixed_project
run_case backfill_of_two_partitionings_resumes
run_case runs_show_the_partitions_of_an_all_partitions_run
run_case a_self_dependent_sql_asset_runs_on_a_fresh_database
run_case asset_show_escapes_the_preview_header
run_case partitions_add_refuses_a_name_no_definition_has
run_case partitions_list_makes_no_store
run_case storage_none_says_dynamic_keys_need_a_store
finish
