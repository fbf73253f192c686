#!/usr/bin/env bash
# test_checks.sh — asset checks run by the real `eider` binary at the default --jobs on
# a fresh database: each outcome printed under its asset and counted in the summary;
# a blocking check that fails exits 1 naming the check and leaves the table as it was
# (read with DuckDB alone); --no-checks skips them; `eider asset show` lists each
# check's latest outcome and history, in text and --json; --json of materialize holds
# each step's checks.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# orders: rows 1..N of ./rows (default 5), a NULL customer when ./null_customer
# exists; customers: ids 1..5. Checks: orders' id unique and not null (blocking), its
# customer a customer (a warning), its status accepted, and a row count of at most 10.
write_definitions() {
    cat >definitions.c <<'DEFS'
#include <eider.h>
#include <stdio.h>
#include <unistd.h>

static long rows_wanted(void)
{
    long v = 5;
    FILE *f = fopen("rows", "r");
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = 5;
        fclose(f);
    }
    return v;
}

static int customers(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT i AS id FROM range(1, 6) r(i)");
}

static int orders(eider_context *ctx)
{
    char sql[300];
    snprintf(sql, sizeof(sql), "SELECT i AS id, %s AS customer, 'open' AS status "
             "FROM range(1, %ld) r(i)", access("null_customer", F_OK) == 0 ? "NULL" : "i % 5 + 1",
             rows_wanted() + 1);
    return eider_output_sql(ctx, sql);
}

void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "shop.duckdb",
                                                                   .schema = "shop" });
    eider_asset(defs, &(eider_asset_def){ .key = "customers", .compute = customers });
    eider_asset(defs, &(eider_asset_def){ .key = "orders", .compute = orders,
                                          .deps = EIDER_KEYS("customers") });
    eider_asset_check(defs, &(eider_check_def){ .asset = "orders", .name = "id_present",
        .not_null = EIDER_KEYS("id", "customer"), .blocking = 1 });
    eider_asset_check(defs, &(eider_check_def){ .asset = "orders", .unique = EIDER_KEYS("id") });
    eider_asset_check(defs, &(eider_check_def){ .asset = "orders", .column = "customer",
        .references = "customers.id", .severity = EIDER_CHECK_WARN });
    eider_asset_check(defs, &(eider_check_def){ .asset = "orders", .column = "status",
        .accepted_values = EIDER_KEYS("open", "shipped") });
    eider_asset_check(defs, &(eider_check_def){ .asset = "orders", .name = "at_most_10",
        .row_count = &(eider_check_range){ 1, 10 } });
}
DEFS
}

checks_print_under_their_asset_and_in_the_summary() {
    write_definitions
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    expect_in out.txt "check orders:id_present passed"
    expect_in out.txt "check orders:references_customer passed"
    expect_in out.txt "checks: 5 passed, 0 failed, 0 erred"
    echo 12 >rows
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    expect_in out.txt "check orders:at_most_10 FAILED (error): 12 rows, expected 1 to 10"
    expect_in out.txt "checks: 4 passed, 1 failed, 0 erred"
    expect_eq "$(dq shop.duckdb "SELECT count(*) FROM shop.shop.orders")" "12" \
        "a failing check that does not block lets the write through"
}

a_failing_blocking_check_exits_1_and_keeps_the_table() {
    write_definitions
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    local before
    before=$(dq shop.duckdb "SELECT count(*) || ':' || sum(hash(id, customer, status)) FROM shop.shop.orders")
    touch null_customer
    echo 8 >rows
    run "$EIDER" materialize -f definitions.c
    expect_rc 1
    expect_in out.txt "check orders:id_present FAILED (error, blocking): 8 rows have a NULL"
    expect_in out.txt "asset 'orders': blocking check 'id_present' failed: 8 rows have a NULL"
    expect_eq "$(dq shop.duckdb "SELECT count(*) || ':' || sum(hash(id, customer, status)) FROM shop.shop.orders")" \
        "$before" "the table keeps its rows"
    run "$EIDER" materialize -f definitions.c --no-checks
    expect_rc 0
    expect_not_in out.txt "check orders:"
    expect_eq "$(dq shop.duckdb "SELECT count(*) FROM shop.shop.orders")" "8" "--no-checks writes"
}

asset_show_lists_the_latest_outcomes_and_their_history() {
    write_definitions
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    echo 12 >rows
    run "$EIDER" materialize -f definitions.c --select orders
    expect_rc 0
    run "$EIDER" asset show orders -f definitions.c
    expect_rc 0
    expect_in out.txt "checks (latest outcome of each):"
    expect_in out.txt "12 rows, expected 1 to 10"
    expect_in out.txt "check history (newest first, 10 shown):"
    run "$EIDER" asset show orders -f definitions.c --json
    expect_rc 0
    check_json out.txt 'len(d["checks"]) == 5 and [c["status"] for c in d["checks"] if c["name"] == "at_most_10"] == ["failed"]'
    check_json out.txt 'len([c for c in d["check_history"] if c["name"] == "at_most_10"]) == 2'
    check_json out.txt '[c["metadata"]["row_count"] for c in d["checks"] if c["name"] == "at_most_10"] == [12]'
}

materialize_json_holds_each_steps_checks() {
    write_definitions
    touch null_customer
    run "$EIDER" materialize -f definitions.c --json
    expect_rc 1
    check_json out.txt '[s for s in d["steps"] if s["key"] == "orders"][0]["checks"][0]["name"] == "id_present"'
    check_json out.txt '[c for s in d["steps"] for c in s["checks"] if c["name"] == "id_present"][0]["metadata"]["failing_rows"] == 5'
    check_json out.txt '[c for s in d["steps"] for c in s["checks"] if c["name"] == "id_present"][0]["blocking"] is True'
}

check_evaluates_what_is_stored_and_changes_nothing() {
    write_definitions
    run "$EIDER" check -f definitions.c
    expect_rc 1
    expect_in out.txt "check orders:id_present ERRED"
    expect_in out.txt "does not exist: materialize 'orders' first"
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    touch null_customer
    run "$EIDER" materialize -f definitions.c --no-checks
    expect_rc 0
    local before
    before=$(dq shop.duckdb "SELECT count(*) || ':' || sum(hash(id, customer, status)) FROM shop.shop.orders")
    run "$EIDER" check -f definitions.c
    expect_rc 1
    expect_in out.txt "check orders:id_present FAILED (error, blocking): 5 rows have a NULL"
    expect_in out.txt "checks: 4 passed, 1 failed, 0 erred"
    expect_in out.txt "checks failed: 1 checked"
    expect_eq "$(dq shop.duckdb "SELECT count(*) || ':' || sum(hash(id, customer, status)) FROM shop.shop.orders")" \
        "$before" "eider check writes nothing"
    run "$EIDER" asset show orders -f definitions.c --json
    expect_rc 0
    check_json out.txt 'len(d["history"]) == 2 and d["partitions"][0]["last_failed"] is False'
    check_json out.txt '[c["status"] for c in d["checks"] if c["name"] == "id_present"] == ["failed"]'
    run "$EIDER" check -f definitions.c --select check:at_most_10 --json
    expect_rc 1
    check_json out.txt '[s["key"] for s in d["steps"]] == ["orders"]'
    rm null_customer
    run "$EIDER" materialize -f definitions.c --select orders
    expect_rc 0
    run "$EIDER" check -f definitions.c --select customers
    expect_rc 0
    expect_in out.txt "nothing to check: 'customers' selects no asset with a check"
}

list_shows_each_assets_check_status() {
    write_definitions
    run "$EIDER" list -f definitions.c
    expect_rc 0
    expect_in out.txt "CHECKS"
    grep -E '^orders +default +- +never +unknown +customers$' out.txt >/dev/null ||
        fail "orders' checks are unknown before they ran: $(cat out.txt)"
    echo 12 >rows
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    run "$EIDER" list -f definitions.c
    grep -E '^orders +default +- +fresh +failed +customers$' out.txt >/dev/null ||
        fail "orders' checks failed: $(cat out.txt)"
    grep -E '^customers +default +- +fresh +- +-$' out.txt >/dev/null ||
        fail "customers has no checks: $(cat out.txt)"
    run "$EIDER" list -f definitions.c --json
    check_json out.txt '[a["checks"] for a in d if a["key"] == "orders"][0] == {"defined": 5, "passed": 4, "warned": 0, "failed": 1, "errored": 0, "unknown": 0, "status": "failed"}'
    check_json out.txt '[a["checks"] for a in d if a["key"] == "customers"][0] is None'
}

run_case checks_print_under_their_asset_and_in_the_summary
run_case a_failing_blocking_check_exits_1_and_keeps_the_table
run_case asset_show_lists_the_latest_outcomes_and_their_history
run_case materialize_json_holds_each_steps_checks
run_case check_evaluates_what_is_stored_and_changes_nothing
run_case list_shows_each_assets_check_status
finish
