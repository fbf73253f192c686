#!/usr/bin/env bash
# test_partitions.sh — partitioned runs by the real `eider` binary: backfills of every
# partition or a range, in one run or one per partition, --resume, which redoes only
# the partitions that failed or never ran, as the instance store says, and dynamic
# partitions added with `eider partitions add`.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# A daily asset over 2024-01-01..2024-01-05 that fails on the days listed in the file
# fail.txt (read at each run), and an unpartitioned one.
write_defs() {
    cat >definitions.c <<'EOF'
#include <eider.h>
#include <stdio.h>
#include <string.h>

static int fails_today(const char *day)
{
    char line[64];
    int found = 0;
    FILE *f = fopen("fail.txt", "r");
    while (f && fgets(line, sizeof(line), f))
        found |= strncmp(line, day, strlen(day)) == 0;
    if (f)
        fclose(f);
    return found;
}

static int daily(eider_context *ctx)
{
    size_t n = 0;
    const char *const *days = eider_partition_keys(ctx, &n);
    char sql[4096] = "SELECT * FROM (VALUES ";
    for (size_t i = 0; i < n; i++) {
        if (fails_today(days[i]))
            return eider_fail(ctx, "day %s is broken", days[i]);
        snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "%s(DATE '%s')", i ? ", " : "", days[i]);
    }
    strncat(sql, ") t(day)", sizeof(sql) - strlen(sql) - 1);
    return eider_output_sql(ctx, sql);
}

static int plain(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 1 AS one"); }

void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    const eider_partitions *days = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .end = "2024-01-06" });
    eider_asset(defs, &(eider_asset_def){ .key = "daily", .compute = daily, .partitions = days,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "day")) });
    eider_asset(defs, &(eider_asset_def){ .key = "plain", .compute = plain });
}
EOF
    : >fail.txt
}

days_in_table() {
    dq p.duckdb "SELECT coalesce(string_agg(strftime(day, '%d'), ',' ORDER BY day), '') FROM public.daily"
}

all_partitions_backfills_in_one_run() {
    write_defs
    run "$EIDER" materialize -f definitions.c --select daily --all-partitions
    expect_rc 0
    expect_in out.txt "1 materialized, 0 failed"
    expect_eq "$(days_in_table)" "01,02,03,04,05" "days stored"
    run "$EIDER" runs -f definitions.c --json
    check_json out.txt 'len(d) == 1'
}

per_partition_runs_each_day_and_goes_on_after_a_failure() {
    write_defs
    echo 2024-01-03 >fail.txt
    run "$EIDER" materialize -f definitions.c --select daily --partition-range 2024-01-02...2024-01-04 \
        --per-partition
    expect_rc 1
    expect_in out.txt "day 2024-01-03 is broken"
    expect_in out.txt "backfill of 'daily': 2 partitions succeeded, 1 failed"
    expect_in out.txt "--resume"
    expect_eq "$(days_in_table)" "02,04" "days stored"
    run "$EIDER" runs -f definitions.c --json
    check_json out.txt 'len(d) == 3 and sorted(r["partition"] for r in d) == ["2024-01-02", "2024-01-03", "2024-01-04"]'
    run "$EIDER" asset show daily -f definitions.c --json
    check_json out.txt '[(p["partition"], p["last_failed"]) for p in d["partitions"]] == [("2024-01-02", False), ("2024-01-03", True), ("2024-01-04", False)]'
}

resume_redoes_only_what_failed_or_never_ran() {
    write_defs
    printf '2024-01-02\n2024-01-04\n' >fail.txt
    run "$EIDER" materialize -f definitions.c --select daily --all-partitions --per-partition
    expect_rc 1
    expect_in out.txt "3 partitions succeeded, 2 failed"
    : >fail.txt
    run "$EIDER" materialize -f definitions.c --select daily --all-partitions --resume
    expect_rc 0
    expect_in out.txt "partition 2024-01-02"
    expect_in out.txt "partition 2024-01-04"
    expect_not_in out.txt "partition 2024-01-01"
    expect_in out.txt "2 partitions succeeded, 0 failed, 3 already done"
    expect_eq "$(days_in_table)" "01,02,03,04,05" "days stored"
    run "$EIDER" materialize -f definitions.c --select daily --all-partitions --resume
    expect_rc 0
    expect_in out.txt "0 partitions succeeded, 0 failed, 5 already done"
}

backfill_flags_are_checked() {
    write_defs
    run "$EIDER" materialize -f definitions.c --select daily --per-partition
    expect_rc 2
    expect_in err.txt "--partition-range FIRST...LAST or --all-partitions"
    run "$EIDER" materialize -f definitions.c --all-partitions --partition 2024-01-01
    expect_rc 2
    expect_in err.txt "give one"
    run "$EIDER" materialize -f definitions.c --select plain --all-partitions --per-partition
    expect_rc 4
    expect_in err.txt "the selection holds none"
    EIDER_STORAGE=none run "$EIDER" materialize -f definitions.c --all-partitions --resume
    expect_rc 2
    expect_in err.txt "EIDER_STORAGE=none"
}

dynamic_partitions_are_added_listed_and_materialized() {
    cat >definitions.c <<'EOF'
#include <eider.h>
#include <stdio.h>

static int by_region(eider_context *ctx)
{
    size_t n = 0;
    const char *const *keys = eider_partition_keys(ctx, &n);
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT '%s' AS region, 1 AS one", keys[0]);
    return eider_output_sql(ctx, sql);
}

void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "by_region", .compute = by_region,
        .partitions = eider_dynamic_partitions(defs, "regions"),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "region")) });
}
EOF
    run "$EIDER" list -f definitions.c
    expect_rc 0
    expect_in out.txt "regions: (no keys yet)"
    run "$EIDER" materialize -f definitions.c --all-partitions      # no key: no step runs
    expect_rc 4
    expect_in err.txt "asset 'by_region' has no partition to materialize"
    expect_in err.txt "eider partitions add regions KEY"
    run "$EIDER" materialize -f definitions.c --all-partitions --per-partition
    expect_rc 4
    expect_in err.txt "asset 'by_region' has no partition to backfill yet"
    run "$EIDER" partitions add regions eu us -f definitions.c
    expect_rc 0
    expect_in out.txt "added 2 keys to dynamic partitions 'regions', which now have 2:"
    run "$EIDER" partitions add regions us asia -f definitions.c --json
    expect_rc 0
    check_json out.txt 'd["added"] == 1 and d["keys"] == ["eu", "us", "asia"]'
    run "$EIDER" partitions add regions 'a...b' -f definitions.c
    expect_rc 2
    expect_in err.txt "contains '...'"
    run "$EIDER" list -f definitions.c
    expect_in out.txt "regions: eu, us, asia"
    run "$EIDER" list -f definitions.c --json
    check_json out.txt 'd[0]["dynamic_partitions"] == {"name": "regions", "keys": ["eu", "us", "asia"]}'
    run "$EIDER" materialize -f definitions.c --partition us
    expect_rc 0
    run "$EIDER" materialize -f definitions.c --partition mars
    expect_rc 4
    expect_in err.txt "add it with eider partitions add regions 'mars'"
    run "$EIDER" partitions list regions -f definitions.c
    expect_rc 0
    expect_eq "$(tr '\n' ' ' <out.txt)" "eu us asia " "keys listed"
    expect_eq "$(dq p.duckdb "SELECT string_agg(region, ',') FROM public.by_region")" "us" "regions stored"
}

# Two partitionings where one reads the other (days reads every colour): a backfill run
# per partition takes the upstream partitioning first, whatever the order of definition,
# so that each day reads both colours.
a_backfill_takes_the_upstream_partitioning_first() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int colours(eider_context *ctx)
{
    size_t n = 0;
    const char *const *k = eider_partition_keys(ctx, &n);
    return eider_output_sql(ctx, n && k[0][0] == 'r' ? "SELECT 'red' AS c" : "SELECT 'blue' AS c");
}
static int days(eider_context *ctx)
{
    size_t n = 0;
    const char *const *k = eider_partition_keys(ctx, &n);
    return eider_output_sql(ctx, n && k[0][9] == '1'
        ? "SELECT DATE '2024-01-01' AS d, count(*) AS n FROM {colours}"
        : "SELECT DATE '2024-01-02' AS d, count(*) AS n FROM {colours}");
}
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    const eider_partitions *cols = eider_static_partitions(defs, EIDER_KEYS("red", "blue"));
    const eider_partitions *ds = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .end = "2024-01-03" });
    eider_asset(defs, &(eider_asset_def){ .key = "days", .compute = days, .partitions = ds,
        .ins = EIDER_INPUTS({ .key = "colours", .partition_mapping = { .kind = EIDER_MAP_ALL } }),
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "d")) });
    eider_asset(defs, &(eider_asset_def){ .key = "colours", .compute = colours, .partitions = cols,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "c")) });
    eider_asset(defs, &(eider_asset_def){ .key = "shades", .compute = colours, .partitions = cols,
        .deps = EIDER_KEYS("colours"), .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "c")) });
}
EOF
    run "$EIDER" materialize -f definitions.c --all-partitions --per-partition
    expect_rc 0
    expect_in out.txt "backfill of 'colours', 'shades' and 'days': 4 partitions succeeded, 0 failed"
    expect_eq "$(dq p.duckdb "SELECT string_agg(n::VARCHAR, ',' ORDER BY d) FROM public.days")" "2,2" "colours read by each day"
}

# A stale() backfill looks at the range's partitions: a day that never ran (or failed)
# makes the asset stale for that backfill, though another day was materialized.
a_stale_backfill_runs_each_day_missing_from_the_range() {
    write_defs
    run "$EIDER" materialize -f definitions.c --select daily --partition 2024-01-02
    expect_rc 0
    run "$EIDER" materialize -f definitions.c --select 'stale()' --partition-range 2024-01-01...2024-01-03 --per-partition
    expect_rc 0
    expect_in out.txt "backfill of 'daily': 3 partitions succeeded, 0 failed"
    expect_eq "$(days_in_table)" "01,02,03" "days stored"
    run "$EIDER" materialize -f definitions.c --select 'stale()' --partition-range 2024-01-01...2024-01-03 --resume
    expect_rc 0
    expect_in out.txt "nothing to materialize"
}

# A plain run of a project whose assets are all partitioned: nothing runs, and the
# words say so without quoting a selection the user never gave.
a_plain_run_of_partitioned_assets_only_quotes_no_selection() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int f(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 'red' AS p"); }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    const eider_partitions *cols = eider_static_partitions(defs, EIDER_KEYS("red", "blue"));
    eider_asset(defs, &(eider_asset_def){ .key = "colours", .compute = f, .partitions = cols,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "p")) });
}
EOF
    run "$EIDER" materialize
    expect_rc 0
    expect_in out.txt "nothing to materialize: this run leaves out every asset (see the note)"
    expect_not_in out.txt "'*'"
    run "$EIDER" materialize --select 'key:col*'
    expect_rc 0
    expect_in out.txt "'key:col*' selects only what this run leaves out"
    expect_not_in out.txt "without a partition"
}

run_case all_partitions_backfills_in_one_run
run_case per_partition_runs_each_day_and_goes_on_after_a_failure
run_case resume_redoes_only_what_failed_or_never_ran
run_case backfill_flags_are_checked
run_case dynamic_partitions_are_added_listed_and_materialized
run_case a_backfill_takes_the_upstream_partitioning_first
run_case a_stale_backfill_runs_each_day_missing_from_the_range
run_case a_plain_run_of_partitioned_assets_only_quotes_no_selection
finish
