#!/usr/bin/env bash
# test_cli.sh — the command line refuses bad input clearly: option values out of range,
# an empty selection, unknown options, conflicting resources, a database in a missing
# folder; and --json stays complete whatever bytes a message holds.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

write_defs() {
    cat >definitions.c <<'EOF'
#include <eider.h>

static int table(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"),
                     "CREATE OR REPLACE TABLE t AS SELECT 1 AS x");
}

static int odd_bytes(eider_context *ctx)
{
    return eider_fail(ctx, "bad byte \xff here");
}

void eider_definitions(eider_defs *defs)
{
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "cli.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "table", .compute = table });
    eider_asset(defs, &(eider_asset_def){ .key = "odd", .compute = odd_bytes });
    eider_asset_spec(defs, &(eider_asset_spec_def){ .key = "outside" });
}
EOF
}

option_values_out_of_range_are_usage_errors() {
    write_defs
    local bad
    for bad in "--jobs 4294967297" "--jobs 0" "--jobs two" "--lock-timeout nan" \
               "--lock-timeout -1" "--lock-timeout 1e9"; do
        # shellcheck disable=SC2086
        run "$EIDER" materialize $bad
        expect_rc 2
        expect_in err.txt "error: ${bad%% *} wants"
    done
    run "$EIDER" materialize --lock-timeout ''
    expect_rc 2
    # written plainly only: no white space around the number, no '+'
    for bad in " 2" "2 " "+2" "	2"; do
        run "$EIDER" materialize --jobs "$bad"
        expect_rc 2
        expect_in err.txt "error: --jobs wants a whole number from 1 to 1024, not '$bad'"
        run "$EIDER" materialize --lock-timeout "$bad"
        expect_rc 2
        expect_in err.txt "error: --lock-timeout wants seconds"
    done
    [[ ! -e cli.duckdb ]] || fail "a refused command opened the database"
    run "$EIDER" materialize --lock-timeout .5 --jobs 1 --select outside
    expect_rc 0
}

empty_selection_is_refused_not_everything() {
    write_defs
    run "$EIDER" materialize --select ' '
    expect_rc 4
    expect_in err.txt "--select is empty"
    [[ ! -e cli.duckdb ]] || fail "an empty selection materialized something"
}

unknown_option_names_itself_and_points_to_help() {
    write_defs
    run "$EIDER" materialize --bogus
    expect_rc 2
    expect_in err.txt "error: unknown option '--bogus' for 'eider materialize': see 'eider materialize --help'"
    run "$EIDER" list -x
    expect_rc 2
    expect_in err.txt "unknown option '-x' for 'eider list'"
    run "$EIDER" list --select
    expect_rc 2
    expect_in err.txt "option '--select' needs a value"
}

definitions_option_may_come_anywhere() {
    mkdir sub
    (cd sub && write_defs)
    run "$EIDER" list --select table -f sub/definitions.c --json
    expect_rc 0
    expect_in out.txt '"key": "table"'
    expect_not_in out.txt '"key": "odd"'
}

json_keeps_a_step_whose_message_is_not_utf8() {
    write_defs
    run "$EIDER" materialize --json
    expect_rc 1
    expect_in out.txt '"key": "odd"'
    expect_in out.txt '"key": "table"'
    expect_in out.txt 'bad byte ? here'
}

selecting_only_external_assets_says_nothing_to_do() {
    write_defs
    run "$EIDER" materialize --select outside
    expect_rc 0
    expect_in out.txt "nothing to materialize"
}

two_resources_on_one_file_with_different_settings_are_refused() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int noop(eider_context *ctx) { return 0; }
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_resource(defs, "writer", &(eider_duckdb_config){ .database = "one.duckdb" });
    eider_duckdb_resource(defs, "reader", &(eider_duckdb_config){ .database = "./one.duckdb",
                                                                  .read_only = 1 });
    eider_asset(defs, &(eider_asset_def){ .key = "a", .compute = noop });
}
EOF
    run "$EIDER" materialize
    expect_rc 3
    expect_in err.txt "resources 'writer' and 'reader' both name the database"
    expect_in err.txt "$(pwd -P)/one.duckdb"
}

database_in_a_missing_folder_is_named_with_its_full_path() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int use(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"), "SELECT 1");
}
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "no/such/dir/x.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "a", .compute = use });
}
EOF
    run "$EIDER" materialize
    expect_rc 1
    expect_in out.txt "resource 'duckdb': cannot open DuckDB database '$(pwd -P)/no/such/dir/x.duckdb'"
}

failure_prints_message_and_sql_as_an_indented_block_cut_when_long() {
    {
        echo '#include <eider.h>'
        echo 'static int bad(eider_context *ctx) { return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"),'
        echo '    "SELECT nope\n"'
        for i in $(seq 30); do echo "    \"  , $i AS c$i\n\""; done
        echo '    ); }'
        echo 'void eider_definitions(eider_defs *defs) {'
        echo '    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = ":memory:" });'
        echo '    eider_asset(defs, &(eider_asset_def){ .key = "bad", .compute = bad }); }'
    } >definitions.c
    run "$EIDER" materialize
    expect_rc 1
    grep -qE '^  FAIL bad +[0-9.]+ ms$' out.txt || fail "the step line should hold only the key and time"
    grep -qE '^       Binder Error: Referenced column "nope"' out.txt || fail "no indented error"
    expect_in out.txt "       sql: SELECT nope"
    expect_in out.txt "... (cut here; --json prints it whole)"
    expect_not_in out.txt "c30"
    run "$EIDER" materialize --json
    expect_in out.txt "c30"
}

new_project_materializes_as_it_is() {
    run "$EIDER" new proj
    expect_rc 0
    expect_in out.txt "created proj/definitions.c"
    cd proj
    run "$EIDER" materialize
    expect_rc 0
    expect_in out.txt "2 materialized, 0 failed"
    expect_not_in err.txt "warning"
    expect_eq "$(dq warehouse.duckdb 'SELECT count(*) FROM even_numbers')" 50 "rows of even_numbers"
    run "$EIDER" list
    expect_in out.txt "raw_events"
}

new_refuses_a_folder_that_is_not_empty() {
    mkdir taken && touch taken/notes.txt
    run "$EIDER" new taken
    expect_rc 2
    expect_in err.txt "'taken' already exists and is not an empty folder"
    [[ ! -e taken/definitions.c ]] || fail "definitions.c was written into a used folder"
    mkdir empty
    run "$EIDER" new empty
    expect_rc 0
    run "$EIDER" new
    expect_rc 2
}

run_case option_values_out_of_range_are_usage_errors
run_case empty_selection_is_refused_not_everything
run_case unknown_option_names_itself_and_points_to_help
run_case definitions_option_may_come_anywhere
run_case json_keeps_a_step_whose_message_is_not_utf8
run_case selecting_only_external_assets_says_nothing_to_do
run_case two_resources_on_one_file_with_different_settings_are_refused
run_case database_in_a_missing_folder_is_named_with_its_full_path
run_case failure_prints_message_and_sql_as_an_indented_block_cut_when_long
run_case new_project_materializes_as_it_is
run_case new_refuses_a_folder_that_is_not_empty
finish
