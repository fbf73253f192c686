#!/usr/bin/env bash
# test_errors.sh — how the `eider` binary fails: exit codes, and messages that name
# the file, line, column, asset or version at fault, and leave earlier tables intact.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

syntax_error_exits_3_naming_file_and_line() {
    cat >definitions.c <<'EOF'
#include <eider.h>

void eider_definitions(eider_defs *defs)
{
    int broken = ;
}
EOF
    run "$EIDER" list -f definitions.c
    expect_rc 3
    expect_in err.txt "definitions.c:5"
    expect_in err.txt "failed to compile"
    [[ ! -e .eider/cache ]] || ! ls .eider/cache/*.so >/dev/null 2>&1 ||
        fail "a library was cached for source that does not compile"
}

cycle_exits_3_and_prints_the_cycle() {
    cat >defs.c <<'EOF'
#include <eider.h>
static int noop(eider_context *ctx) { return 0; }
void eider_definitions(eider_defs *defs)
{
    eider_asset(defs, &(eider_asset_def){ .key = "a", .compute = noop, .deps = EIDER_KEYS("c") });
    eider_asset(defs, &(eider_asset_def){ .key = "b", .compute = noop, .deps = EIDER_KEYS("a") });
    eider_asset(defs, &(eider_asset_def){ .key = "c", .compute = noop, .deps = EIDER_KEYS("b") });
}
EOF
    run "$EIDER" materialize -f defs.c
    expect_rc 3
    expect_in err.txt "dependency cycle"
    grep -qE "'a' -> 'b' -> 'c' -> 'a'|'b' -> 'c' -> 'a' -> 'b'|'c' -> 'a' -> 'b' -> 'c'" err.txt ||
        fail "the cycle path is not printed"
    run "$EIDER" list -f defs.c
    expect_rc 3
}

unknown_dep_exits_3_with_did_you_mean() {
    cat >defs.c <<'EOF'
#include <eider.h>
static int noop(eider_context *ctx) { return 0; }
void eider_definitions(eider_defs *defs)
{
    eider_asset(defs, &(eider_asset_def){ .key = "iris_dataset", .compute = noop });
    eider_asset(defs, &(eider_asset_def){ .key = "iris_setosa", .compute = noop,
                                          .deps = EIDER_KEYS("iris_datset") });
}
EOF
    run "$EIDER" list -f defs.c
    expect_rc 3
    expect_in err.txt "error: asset 'iris_setosa' depends on unknown asset 'iris_datset' (did you mean 'iris_dataset'?)"
}

undefined_resource_exits_3_naming_it() {
    cat >defs.c <<'EOF'
#include <eider.h>
static int noop(eider_context *ctx) { return 0; }
void eider_definitions(eider_defs *defs)
{
    eider_asset(defs, &(eider_asset_def){ .key = "a", .compute = noop,
                                          .resources = EIDER_KEYS("warehouse") });
}
EOF
    run "$EIDER" materialize -f defs.c
    expect_rc 3
    expect_in err.txt "needs resource 'warehouse'"
}

bad_select_exits_4_naming_the_column() {
    cp "$SRC/examples/duckdb_resource/definitions.c" .
    run "$EIDER" list -f definitions.c --select 'iris_dataset or (iris_setosa'
    expect_rc 4
    expect_in err.txt "at column 29"
    expect_in err.txt "  iris_dataset or (iris_setosa"
    run "$EIDER" materialize -f definitions.c --select 'iris_setosa and %'
    expect_rc 4
    expect_in err.txt "at column 17"
    [[ ! -e my_duckdb_database.duckdb ]] || fail "a bad selection opened the database"
}

unknown_asset_in_select_exits_4_with_did_you_mean() {
    cp "$SRC/examples/duckdb_resource/definitions.c" .
    run "$EIDER" materialize -f definitions.c --select iris_setsa
    expect_rc 4
    expect_in err.txt "did you mean 'iris_setosa'"
}

# write_failing_defs SQL: good and kept, then bad (running SQL), then after_bad.
write_failing_defs() {
    cat >defs.c <<'EOF'
#include <eider.h>
static int run_sql(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"), eider_user_data(ctx));
}
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "warehouse.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "good", .compute = run_sql,
        .user_data = "CREATE OR REPLACE TABLE good AS SELECT range AS n FROM range(10)" });
    eider_asset(defs, &(eider_asset_def){ .key = "kept", .compute = run_sql,
        .user_data = "CREATE TABLE IF NOT EXISTS kept AS SELECT 'old' AS v" });
    eider_asset(defs, &(eider_asset_def){ .key = "bad", .compute = run_sql,
        .deps = EIDER_KEYS("good", "kept"),
        .user_data = BAD_SQL });
    eider_asset(defs, &(eider_asset_def){ .key = "after_bad", .compute = run_sql,
        .deps = EIDER_KEYS("bad"), .user_data = "CREATE TABLE after_bad AS SELECT 1" });
}
EOF
    sed -i "s|BAD_SQL|\"$1\"|" defs.c
}

bad_sql_exits_1_printing_the_error_and_sql_and_keeps_earlier_tables() {
    # first a run that succeeds, so that "kept" exists with its old value
    write_failing_defs "SELECT 1"
    run "$EIDER" materialize -f defs.c --select 'good, kept'
    expect_rc 0
    write_failing_defs "CREATE OR REPLACE TABLE kept AS SELECT 1 AS v FROM missing_table"
    run "$EIDER" materialize -f defs.c
    expect_rc 1
    expect_in out.txt "bad"
    expect_in out.txt "Catalog Error"
    expect_in out.txt "missing_table"
    expect_in out.txt "sql: CREATE OR REPLACE TABLE kept AS SELECT 1 AS v FROM missing_table"
    grep -E "skip.*after_bad.*'bad'" out.txt >/dev/null || fail "after_bad is not shown skipped because of 'bad'"
    expect_in out.txt "run failed: 2 materialized, 1 failed, 1 skipped"
    expect_eq "$(dq warehouse.duckdb 'SELECT count(*) FROM good')" 10 "rows of good"
    expect_eq "$(dq warehouse.duckdb 'SELECT v FROM kept')" old "the table the failing SQL tried to replace"
    expect_eq "$(dq warehouse.duckdb "SELECT count(*) FROM information_schema.tables WHERE table_name = 'after_bad'")" \
        0 "after_bad tables"
}

bad_sql_json_reports_error_and_sql() {
    write_failing_defs "SELECT * FROM missing_table"
    run "$EIDER" materialize -f defs.c --json
    expect_rc 1
    if command -v python3 >/dev/null; then
        python3 - out.txt <<'EOF' || fail "the JSON does not report the failure"
import json, sys
d = json.load(open(sys.argv[1]))
s = {x["key"]: x for x in d["steps"]}
assert d["status"] == "failure"
assert s["bad"]["status"] == "failure" and "missing_table" in s["bad"]["error"], s["bad"]
assert s["bad"]["sql"] == "SELECT * FROM missing_table", s["bad"]
assert s["after_bad"]["status"] == "skipped"
assert s["good"]["status"] == "success"
EOF
    else
        expect_in out.txt '"sql": "SELECT * FROM missing_table"'
    fi
}

unknown_command_exits_2() {
    run "$EIDER" frobnicate
    expect_rc 2
    expect_in err.txt "unknown command 'frobnicate'"
}

no_command_exits_2_with_usage() {
    run "$EIDER"
    expect_rc 2
    expect_in err.txt "usage: eider"
}

unknown_option_exits_2() {
    cp "$SRC/examples/duckdb_resource/definitions.c" .
    run "$EIDER" materialize -f definitions.c --no-such-option
    expect_rc 2
    run "$EIDER" materialize -f definitions.c --jobs zero
    expect_rc 2
    expect_in err.txt "--jobs"
}

help_lists_the_exit_codes() {
    run "$EIDER" --help
    expect_rc 0
    expect_in out.txt "exit codes:"
    local code
    for code in 0 1 2 3 4 5 130; do
        grep -qE "^ +$code  [a-z]" out.txt || fail "exit code $code is not listed"
    done
    expect_in out.txt "materialize"
    expect_in out.txt "list"
}

materialize_help_exits_0() {
    run "$EIDER" materialize --help
    expect_rc 0
    expect_in out.txt "usage: eider materialize"
    expect_in out.txt "--lock-timeout"
    expect_in out.txt "--select"
    run "$EIDER" help list
    expect_rc 0
    expect_in out.txt "usage: eider list"
}

missing_definitions_file_is_named() {
    run "$EIDER" materialize -f no_such_defs.c
    [[ $RC != 0 ]] || fail "a missing definitions file exited 0"
    expect_in err.txt "'no_such_defs.c'"
    run "$EIDER" list -l no_such_lib.so
    [[ $RC != 0 ]] || fail "a missing library exited 0"
    expect_in err.txt "'no_such_lib.so'"
}

no_definitions_at_all_says_what_to_pass() {
    run "$EIDER" list
    expect_rc 2
    expect_in err.txt "-f FILE.c"
}

# A library that declares another API version, built without eider.h.
library_of_another_api_version_is_refused_naming_it() {
    bare_library future 999
    run "$EIDER" list -l future.so
    expect_rc 3
    expect_in err.txt "API version 999"
    expect_in err.txt "future.so"
}

library_without_an_api_version_is_refused() {
    cat >old.c <<'EOF'
struct eider_defs;
void eider_definitions(struct eider_defs *defs);
void eider_definitions(struct eider_defs *defs) { (void)defs; }
EOF
    cc -shared -fPIC -o old.so old.c || fail "cannot build old.so"
    run "$EIDER" list -l old.so
    expect_rc 3
    expect_in err.txt "old.so"
    expect_in err.txt "API"
}

library_without_eider_definitions_is_refused() {
    cat >empty.c <<'EOF'
__attribute__((visibility("default"))) const int eider_definitions_api_version = 1;
int unrelated(void);
int unrelated(void) { return 0; }
EOF
    cc -shared -fPIC -o empty.so empty.c || fail "cannot build empty.so"
    run "$EIDER" list -l empty.so
    expect_rc 3
    expect_in err.txt "eider_definitions"
}

built_library_of_the_right_version_loads() {
    local inc
    inc=$(dirname "$(find "$SRC/third_party/duckdb" -name duckdb.h | head -1)")
    cp "$SRC/examples/duckdb_resource/definitions.c" .
    cc -shared -fPIC -I"$SRC/include" -I"$inc" -o defs.so definitions.c || fail "cannot build defs.so"
    run "$EIDER" list -l defs.so
    expect_rc 0
    expect_in out.txt "iris_setosa"
}

run_case syntax_error_exits_3_naming_file_and_line
run_case cycle_exits_3_and_prints_the_cycle
run_case unknown_dep_exits_3_with_did_you_mean
run_case undefined_resource_exits_3_naming_it
run_case bad_select_exits_4_naming_the_column
run_case unknown_asset_in_select_exits_4_with_did_you_mean
run_case bad_sql_exits_1_printing_the_error_and_sql_and_keeps_earlier_tables
run_case bad_sql_json_reports_error_and_sql
run_case unknown_command_exits_2
run_case no_command_exits_2_with_usage
run_case unknown_option_exits_2
run_case help_lists_the_exit_codes
run_case materialize_help_exits_0
run_case missing_definitions_file_is_named
run_case no_definitions_at_all_says_what_to_pass
run_case library_of_another_api_version_is_refused_naming_it
run_case library_without_an_api_version_is_refused
run_case library_without_eider_definitions_is_refused
run_case built_library_of_the_right_version_loads
finish
