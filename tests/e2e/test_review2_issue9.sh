#!/usr/bin/env bash
# test_review2_issue9.sh — a second pass over issue 9 as a new user, on main after the
# first review's fixes: each case is a defect found, and states the behaviour expected.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The recorded preview is `to_json(list(p)) FROM (SELECT * ... ) p`: a table with a
# column named `p` makes `p` the column, not the row, so the preview is a list of that
# column's values and `eider asset show` prints "preview: no rows" for a table with rows.
asset_show_previews_a_table_with_a_column_named_p() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int one(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 'a' AS name, 3 AS p"); }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "r.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "prices", .compute = one });
}
EOF
    run "$EIDER" materialize --json
    expect_rc 0
    check_json out.txt 'd["steps"][0]["metadata"]["preview"] == [{"name": "a", "p": 3}]'
    run "$EIDER" asset show prices
    expect_rc 0
    expect_not_in out.txt "preview: no rows"
    expect_in out.txt "preview (first 1 of the 1 rows"
}

# Dynamic partitions with no keys yet: `--all-partitions` ran the asset with no
# partition at all (eider_partition_keys gave 0 keys), recorded a successful run of
# "all (0)" and the asset as materialized, unpartitioned. All the partitions of an asset
# that has none is a request that cannot be met: it is refused (exit 4) before anything
# runs, saying how to add keys, and records no run.
all_partitions_of_no_dynamic_keys_runs_nothing() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int f(eider_context *ctx)
{
    size_t n = 0;
    eider_partition_keys(ctx, &n);
    eider_log(ctx, EIDER_LOG_INFO, "keys: %zu", n);
    return eider_output_sql(ctx, "SELECT 'eu' AS region WHERE false");
}
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    const eider_partitions *regions = eider_dynamic_partitions(defs, "regions");
    eider_asset(defs, &(eider_asset_def){ .key = "regional", .compute = f, .partitions = regions,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "region")) });
}
EOF
    run "$EIDER" materialize --all-partitions -v
    expect_not_in out.txt "keys: 0"
    expect_rc 4
    cat out.txt err.txt >all.txt
    expect_in all.txt "asset 'regional' has no partition to materialize"
    expect_in all.txt "eider partitions add regions"
    run "$EIDER" runs --json
    check_json out.txt 'len(d) == 0'
    run "$EIDER" asset show regional
    cat out.txt err.txt >all.txt
    expect_in all.txt "never materialized"
}

# The hints to materialize a partitioned asset name a command that is refused: `asset
# show colours` (never materialized) says "(eider materialize --select 'colours')",
# and so does the failure of a downstream selected alone ("materialize 'colours' first
# (eider materialize --select 'colours')"); that command exits 4, "asset 'colours' is
# partitioned". A hint for a partitioned asset names its partitions (--partition KEY,
# --partition-range or --all-partitions), as the note of a plain run does.
hints_to_materialize_a_partitioned_asset_work() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int f(eider_context *ctx)
{
    size_t n = 0;
    const char *const *k = eider_partition_keys(ctx, &n);
    return eider_output_sql(ctx, k[0][0] == 'r' ? "SELECT 'red' AS p" : "SELECT 'blue' AS p");
}
static int summary(eider_context *ctx) { return eider_output_sql(ctx, "SELECT count(*) AS n FROM {colours}"); }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    const eider_partitions *cols = eider_static_partitions(defs, EIDER_KEYS("red", "blue"));
    eider_asset(defs, &(eider_asset_def){ .key = "colours", .compute = f, .partitions = cols,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "p")) });
    eider_asset(defs, &(eider_asset_def){ .key = "summary", .compute = summary,
        .deps = EIDER_KEYS("colours") });
}
EOF
    run "$EIDER" asset show colours
    expect_rc 2
    expect_not_in err.txt "(eider materialize --select 'colours')"
    expect_in err.txt "(eider materialize --select 'colours' --partition red, or --all-partitions)"
    run "$EIDER" materialize --select summary
    expect_rc 1
    expect_not_in out.txt "(eider materialize --select 'colours')"
    expect_in out.txt "(eider materialize --select 'colours' --partition KEY, or --all-partitions)"
    # what the hints say works
    run "$EIDER" materialize --select 'colours' --partition red
    expect_rc 0
    run "$EIDER" materialize --select 'colours' --all-partitions
    expect_rc 0
}

# write_days: definitions.c of one daily asset "days" (2024-01-01 to 2024-01-03), a
# row of its day per run, into p.duckdb.
write_days() {
    cat >definitions.c <<'EOF'
#include <stdio.h>
#include <eider.h>
static int f(eider_context *ctx)
{
    size_t n = 0;
    const char *const *k = eider_partition_keys(ctx, &n);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT DATE '%s' AS day", k[0]);
    return eider_output_sql(ctx, sql);
}
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    const eider_partitions *days = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .end = "2024-01-03" });
    eider_asset(defs, &(eider_asset_def){ .key = "days", .compute = f, .partitions = days,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "day")) });
}
EOF
}

# `materialize --json` prints one document per run of a backfill (--per-partition,
# --resume), but no document says which partition it ran: the keys are run_id, status,
# duration_s, recorded, steps, left_out. A script reading them cannot tell which
# partition failed without a second command. Each document carries the run's partition
# as `eider runs --json` does ("partition": "2024-01-02", "A...B" or "all (N)").
materialize_json_names_the_partition_of_each_run() {
    write_days
    run "$EIDER" materialize --partition 2024-01-02 --json
    expect_rc 0
    check_json out.txt 'd.get("partition") == "2024-01-02"'
    run "$EIDER" materialize --all-partitions --per-partition --json
    expect_rc 0
    python3 - out.txt <<'PY2' || fail "each document of a --per-partition --json backfill names its partition"
import json, sys
t = open(sys.argv[1]).read(); dec = json.JSONDecoder(); i = 0; parts = []
while t[i:].strip():
    i += len(t[i:]) - len(t[i:].lstrip())
    o, j = dec.raw_decode(t, i); i = j
    parts.append(o.get("partition"))
sys.exit(0 if sorted(parts) == ["2024-01-01", "2024-01-02"] else 1)
PY2
}

# `eider partitions list NAME` when definitions.c does not compile: a misspelt name
# prints nothing and exits 0, with not a word about the definitions, while `partitions
# add` refuses with exit 3 and `list` of a name no definition declares is exit 4 when
# they compile (its --help: "when the definitions load, an unknown NAME is refused").
# A list that cannot tell whether the name exists must say why (the definitions
# error), never answer "no keys" in silence.
partitions_list_says_when_definitions_fail() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int f(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 'eu' AS region"); }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "regional", .compute = f,
        .partitions = eider_dynamic_partitions(defs, "regions"),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "region")) });
}
EOF
    run "$EIDER" partitions add regions eu
    expect_rc 0
    echo 'syntax error' >>definitions.c
    run "$EIDER" partitions add regionz us
    expect_rc 3
    run "$EIDER" partitions list regionz
    expect_in err.txt "failed to compile"
    # listed all the same, with a warning: the keys are the store's
    expect_rc 0
    expect_in err.txt "warning: the definitions failed to load, so whether they declare dynamic partitions 'regionz' is not checked"
    run "$EIDER" partitions list regions
    expect_rc 0
    expect_in err.txt "failed to compile"
    expect_eq "$(cat out.txt)" "eu" "keys listed"
}

# A project with two partitionings (colours, days) and no --select: a range of days as
# one run leaves out 'colours' ("which has no partition '2024-01-01...2024-01-02'") and
# succeeds; the same range with --per-partition, or with --resume (which a failed
# backfill tells you to add), exits 4 with "asset 'colours' has no partition
# '2024-01-01'"; so does --partition 2024-01-01 with --resume. A backfill leaves out the
# assets without its partitions as the one run does.
range_backfill_leaves_out_other_partitionings() {
    write_colours_and_days 2024-01-04
    run "$EIDER" materialize --partition-range 2024-01-01...2024-01-02
    expect_rc 0
    expect_in err.txt "left out the partitioned asset 'colours'"
    run "$EIDER" materialize --partition-range 2024-01-01...2024-01-03 --per-partition
    expect_not_in err.txt "has no partition '2024-01-01'"
    expect_rc 0
    expect_in out.txt "3 partitions succeeded"
    run "$EIDER" asset wipe days --partition 2024-01-02
    expect_rc 0
    run "$EIDER" materialize --partition-range 2024-01-01...2024-01-03 --resume
    expect_not_in err.txt "has no partition '2024-01-01'"
    expect_rc 0
    expect_in out.txt "1 partition succeeded, 0 failed, 2 already done"
    run "$EIDER" materialize --partition 2024-01-01 --resume
    expect_not_in err.txt "asset 'colours' has no partition"
}

# `--select 'stale()' --all-partitions` when nothing is stale says "nothing to
# materialize" and exits 0 (the first review's case 7), but the same with
# --per-partition or --resume, the daily job's natural form, exits 4: "--per-partition
# backfills partitioned assets, and the selection holds none: select them with
# --select". An empty stale() selection is not an error, whatever the backfill's form.
empty_stale_per_partition_backfill_says_nothing_to_materialize() {
    write_days
    run "$EIDER" materialize --all-partitions
    expect_rc 0
    run "$EIDER" materialize --select 'stale()' --all-partitions
    expect_rc 0
    expect_in out.txt "nothing to materialize"
    local how
    for how in --per-partition --resume; do
        run "$EIDER" materialize --select 'stale()' --all-partitions $how
        expect_not_in err.txt "the selection holds none"
        expect_rc 0
        cat out.txt err.txt >all.txt
        expect_in all.txt "nothing to materialize"
    done
}

# The README's daily job, `eider materialize --select 'stale()' --partition
# "$(date -I)"`, never materializes the new day: once one partition of 'days' is
# materialized, the asset counts as fresh, so stale() leaves it out of the run of a
# partition it never had ("nothing to materialize ... none is stale, failed or never
# materialized"), and `eider list` shows it fresh. With a partition, stale() selects an
# asset whose partition was never materialized (or failed).
stale_with_a_partition_selects_its_missing_partition() {
    write_days
    run "$EIDER" materialize --partition 2024-01-01
    expect_rc 0
    run "$EIDER" materialize --select 'stale()' --partition 2024-01-02
    expect_rc 0
    expect_not_in out.txt "nothing to materialize"
    expect_in out.txt "days"
    expect_eq "$(dq p.duckdb "SELECT count(*) FROM public.days")" "2" "rows of days"
    # the same partition again: now it is up to date
    run "$EIDER" materialize --select 'stale()' --partition 2024-01-02
    expect_rc 0
    expect_in out.txt "nothing to materialize"
}

# `eider list` only reads the store (statuses), yet on a fresh project it makes
# .eider/eider.sqlite3 (and with EIDER_HOME=/new/folder, that folder and a store in
# it), as the read-only commands did before issue 9 (runs, asset show and partitions
# list no longer do). A listing makes no store; every asset is "never" without one.
list_makes_no_store() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int one(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 1 AS x"); }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "r.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "one", .compute = one });
}
EOF
    run "$EIDER" list
    expect_rc 0
    expect_in out.txt "never"
    [[ ! -e .eider/eider.sqlite3 ]] || fail "eider list made the store .eider/eider.sqlite3"
    EIDER_HOME="$PWD/home" run "$EIDER" list --json
    expect_rc 0
    check_json out.txt 'd[0]["status"] == "never"'
    [[ ! -e home ]] || fail "eider list made EIDER_HOME and a store in it"
    # with no store, stale() selects what was never materialized, and still makes none
    run "$EIDER" list --select 'stale()'
    expect_rc 0
    expect_in out.txt "never"
    [[ ! -e .eider/eider.sqlite3 ]] || fail "eider list --select 'stale()' made the store"
    # a run still makes it, and list then reads it
    run "$EIDER" materialize
    expect_rc 0
    [[ -e .eider/eider.sqlite3 ]] || fail "eider materialize made no store"
    run "$EIDER" list
    expect_in out.txt "fresh"
}

# The first review's case 4, after a failed backfill: every partition of 'up' failed,
# so 'up' was never materialized, yet a plain `eider materialize` (which leaves 'up'
# out) runs 'down' and fails it: "table "p"."public"."up" does not exist ...: materialize
# 'up' first". A failed partition is no materialization: 'down' is left out and named,
# and the run does not fail.
plain_materialize_leaves_out_what_reads_only_failed_partitions() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int none(eider_context *ctx) { return eider_fail(ctx, "not today"); }
static int down(eider_context *ctx) { return eider_output_sql(ctx, "SELECT * FROM {up}"); }
static int other(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 1 AS x"); }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    const eider_partitions *cols = eider_static_partitions(defs, EIDER_KEYS("red", "blue"));
    eider_asset(defs, &(eider_asset_def){ .key = "up", .compute = none, .partitions = cols,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "p")) });
    eider_asset(defs, &(eider_asset_def){ .key = "down", .compute = down, .deps = EIDER_KEYS("up") });
    eider_asset(defs, &(eider_asset_def){ .key = "other", .compute = other });
}
EOF
    run "$EIDER" materialize --select up --all-partitions
    expect_rc 1
    run "$EIDER" materialize
    expect_not_in out.txt "does not exist"
    expect_rc 0
    expect_in err.txt "also left out, as it reads an asset left out and never materialized: 'down'"
    run "$EIDER" materialize --json
    expect_rc 0
    check_json out.txt '[s["key"] for s in d["steps"]] == ["other"]'
}

# s5: a partition key not added yet is hinted as `eider partitions add regions
# 'o'brien'` for the key o'brien: broken shell (the quote ends the word). The hint is
# quoted for a POSIX shell, and typing it adds the key.
hint_to_add_a_dynamic_key_is_shell_quoted() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int f(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 'eu' AS region"); }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "regional", .compute = f,
        .partitions = eider_dynamic_partitions(defs, "regions"),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "region")) });
}
EOF
    run "$EIDER" partitions add regions eu
    expect_rc 0
    run "$EIDER" materialize --partition "o'brien"
    expect_rc 4
    expect_in err.txt "add it with eider partitions add regions 'o'\''brien'"
    local hint
    hint=$(sed -n "s/.*add it with eider partitions add \(regions 'o.*brien'\).*/\1/p" err.txt)
    [[ -n "$hint" ]] || fail "no hint to add the key"
    run eval "\"\$EIDER\" partitions add $hint"
    expect_rc 0
    run "$EIDER" partitions list regions
    expect_eq "$(cat out.txt)" "$(printf "eu\no'brien")" "keys after the hint"
}

# s6: `asset wipe colours --partition green`, green not a key of colours, said "no
# record of partition 'green'", as if it were one never materialized. A key the asset's
# partitions do not hold is named so, with the nearest key (exit 4).
wipe_of_a_partition_the_asset_lacks_says_so() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int f(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 'red' AS p"); }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "colours", .compute = f,
        .partitions = eider_static_partitions(defs, EIDER_KEYS("red", "blue")),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "p")) });
}
EOF
    run "$EIDER" materialize --select colours --partition red
    expect_rc 0
    run "$EIDER" asset wipe colours --partition green
    expect_rc 4
    expect_in err.txt "asset 'colours' has no partition 'green'"
    expect_not_in err.txt "no record"
    run "$EIDER" asset wipe colours --partition blu
    expect_rc 4
    expect_in err.txt "asset 'colours' has no partition 'blu' (did you mean 'blue'?)"
    # a key it has, never materialized: no record of it
    run "$EIDER" asset wipe colours --partition blue
    expect_rc 4
    expect_in err.txt "has no record of partition 'blue'"
    run "$EIDER" asset wipe colours --partition red
    expect_rc 0
}

run_case asset_show_previews_a_table_with_a_column_named_p
run_case all_partitions_of_no_dynamic_keys_runs_nothing
run_case hints_to_materialize_a_partitioned_asset_work
run_case materialize_json_names_the_partition_of_each_run
run_case partitions_list_says_when_definitions_fail
run_case range_backfill_leaves_out_other_partitionings
run_case empty_stale_per_partition_backfill_says_nothing_to_materialize
run_case stale_with_a_partition_selects_its_missing_partition
run_case list_makes_no_store
run_case hint_to_add_a_dynamic_key_is_shell_quoted
run_case wipe_of_a_partition_the_asset_lacks_says_so
run_case plain_materialize_leaves_out_what_reads_only_failed_partitions
finish
