#!/usr/bin/env bash
# test_example.sh — the tutorial's example (examples/duckdb_resource) run by the real
# `eider` binary on a real DuckDB file, checked with DuckDB alone (dq).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DB=my_duckdb_database.duckdb

materialize_writes_the_tutorial_tables() {
    copy_example duckdb_resource
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    expect_in out.txt "2 materialized, 0 failed, 0 skipped"
    [[ -f $DB ]] || fail "$DB was not created beside definitions.c"
    expect_eq "$(dq $DB 'SELECT count(*) FROM iris.iris_dataset')" 150 "rows of iris_dataset"
    expect_eq "$(dq $DB 'SELECT count(*) FROM iris.iris_setosa')" 50 "rows of iris_setosa"
    expect_eq "$(dq $DB 'SELECT DISTINCT species FROM iris.iris_setosa')" Iris-setosa \
        "species in iris_setosa"
    expect_eq "$(dq $DB "SELECT count(*) FROM iris.iris_dataset WHERE species = 'Iris-setosa'")" 50 \
        "setosa rows of iris_dataset"
}

columns_are_named_as_in_the_tutorial() {
    copy_example duckdb_resource
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    local cols
    cols=$(dq $DB "SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY ordinal_position)
                   FROM information_schema.columns
                   WHERE table_schema = 'iris' AND table_name = 'iris_dataset'")
    expect_eq "$cols" \
        "sepal_length_cm:DOUBLE,sepal_width_cm:DOUBLE,petal_length_cm:DOUBLE,petal_width_cm:DOUBLE,species:VARCHAR" \
        "columns of iris.iris_dataset"
    expect_eq "$(dq $DB "SELECT sepal_length_cm, species FROM iris.iris_dataset LIMIT 1")" \
        "5.1|Iris-setosa" "first row"
}

materializing_twice_replaces_the_tables() {
    copy_example duckdb_resource
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    expect_in out.txt "2 materialized"
    expect_eq "$(dq $DB 'SELECT count(*) FROM iris.iris_dataset')" 150 "rows after the second run"
    expect_eq "$(dq $DB 'SELECT count(*) FROM iris.iris_setosa')" 50 "setosa after the second run"
}

materialize_reports_row_count_metadata() {
    copy_example duckdb_resource
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    grep -E 'iris_dataset .*row_count=150' out.txt >/dev/null || fail "no row_count=150 for iris_dataset"
    grep -E 'iris_setosa .*row_count=50' out.txt >/dev/null || fail "no row_count=50 for iris_setosa"
}

materialize_works_from_another_folder() {
    mkdir proj
    (cd proj && copy_example duckdb_resource)
    run "$EIDER" materialize -f proj/definitions.c
    expect_rc 0
    [[ -f proj/$DB ]] || fail "the database was not created beside the definitions"
    [[ ! -e $DB ]] || fail "the database was created in the working folder"
    expect_eq "$(dq proj/$DB 'SELECT count(*) FROM iris.iris_setosa')" 50 "setosa rows"
}

select_materializes_only_the_selected_asset() {
    copy_example duckdb_resource
    run "$EIDER" materialize -f definitions.c --select iris_dataset
    expect_rc 0
    expect_in out.txt "1 materialized"
    expect_eq "$(dq $DB "SELECT count(*) FROM information_schema.tables WHERE table_name = 'iris_setosa'")" \
        0 "iris_setosa tables"
}

list_shows_iris_harvest_data_as_external() {
    copy_example duckdb_resource
    run "$EIDER" list -f definitions.c
    expect_rc 0
    local line
    line=$(grep -E '^iris_harvest_data ' out.txt) || fail "iris_harvest_data is not listed"
    [[ $line == *external* ]] || fail "iris_harvest_data is not marked external: '$line'"
    line=$(grep -E '^iris_setosa ' out.txt) || fail "iris_setosa is not listed"
    [[ $line == *iris_dataset* ]] || fail "iris_setosa does not show its dependency: '$line'"
    [[ $line != *external* ]] || fail "iris_setosa is marked external: '$line'"
}

external_asset_is_never_materialized() {
    copy_example duckdb_resource
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    expect_not_in out.txt iris_harvest_data
    expect_eq "$(dq $DB "SELECT count(*) FROM information_schema.tables WHERE table_name = 'iris_harvest_data'")" \
        0 "tables named iris_harvest_data"
}

# An external asset that declares kinds is still external.
list_marks_an_external_asset_with_kinds_as_external() {
    cat >defs.c <<'EOF'
#include <eider.h>
static int noop(eider_context *ctx) { return 0; }
void eider_definitions(eider_defs *defs)
{
    eider_asset_spec(defs, &(eider_asset_spec_def){ .key = "raw_orders", .kinds = EIDER_KEYS("csv") });
    eider_asset(defs, &(eider_asset_def){ .key = "orders", .compute = noop,
                                          .deps = EIDER_KEYS("raw_orders"), .kinds = EIDER_KEYS("duckdb") });
}
EOF
    run "$EIDER" list -f defs.c
    expect_rc 0
    local line
    line=$(grep -E '^raw_orders ' out.txt) || fail "raw_orders is not listed"
    [[ $line == *external* ]] || fail "raw_orders is not marked external: '$line'"
}

list_json_parses_and_marks_external() {
    copy_example duckdb_resource
    run "$EIDER" list -f definitions.c --json
    expect_rc 0
    check_json out.txt 'len(d) == 3'
    check_json out.txt '[a["key"] for a in d if a["external"]] == ["iris_harvest_data"]'
    check_json out.txt 'next(a for a in d if a["key"] == "iris_setosa")["deps"] == ["iris_dataset"]'
    check_json out.txt 'next(a for a in d if a["key"] == "iris_dataset")["metadata"]["table"] == "iris.iris_dataset"'
}

materialize_json_parses_and_reports_each_step() {
    copy_example duckdb_resource
    run "$EIDER" materialize -f definitions.c --json
    expect_rc 0
    check_json out.txt 'd["status"] == "success"'
    check_json out.txt '[s["key"] for s in d["steps"]] == ["iris_dataset", "iris_setosa"]'
    check_json out.txt 'all(s["status"] == "success" and s["attempts"] == 1 for s in d["steps"])'
    check_json out.txt 'd["steps"][1]["metadata"]["row_count"] == 50'
}

run_case materialize_writes_the_tutorial_tables
run_case columns_are_named_as_in_the_tutorial
run_case materializing_twice_replaces_the_tables
run_case materialize_reports_row_count_metadata
run_case materialize_works_from_another_folder
run_case select_materializes_only_the_selected_asset
run_case list_shows_iris_harvest_data_as_external
run_case external_asset_is_never_materialized
run_case list_marks_an_external_asset_with_kinds_as_external
run_case list_json_parses_and_marks_external
run_case materialize_json_parses_and_reports_each_step
finish
