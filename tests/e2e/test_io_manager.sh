#!/usr/bin/env bash
# test_io_manager.sh — the tutorial's Option 2 (examples/duckdb_io_manager) and the
# reference guide's cases (examples/duckdb_reference) and an I/O manager of the user's
# own (examples/custom_io_manager) run by the real `eider` binary,
# the tables checked with DuckDB alone (dq) and the Parquet files read by DuckDB too.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DB=my_duckdb_database.duckdb
REF=reference.duckdb

option_2_stores_the_tutorial_tables_in_schema_IRIS() {
    copy_example duckdb_io_manager
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    expect_in out.txt "2 materialized, 0 failed, 0 skipped"
    expect_eq "$(dq $DB 'SELECT count(*) FROM "IRIS".iris_dataset')" 150 "rows of IRIS.iris_dataset"
    expect_eq "$(dq $DB 'SELECT count(*) FROM "IRIS".iris_setosa')" 50 "rows of IRIS.iris_setosa"
    expect_eq "$(dq $DB 'SELECT DISTINCT species FROM "IRIS".iris_setosa')" Iris-setosa "species"
    expect_eq "$(dq $DB "SELECT string_agg(column_name, ',' ORDER BY ordinal_position)
                         FROM information_schema.columns WHERE table_name = 'iris_setosa'")" \
        "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,species" "columns"
    grep -E 'iris_setosa .*row_count=50' out.txt >/dev/null || fail "no row_count=50 for iris_setosa"
}

option_2_twice_gives_the_same_tables() {
    copy_example duckdb_io_manager
    run "$EIDER" materialize -f definitions.c
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    expect_eq "$(dq $DB 'SELECT count(*) FROM "IRIS".iris_dataset')" 150 "rows after two runs"
}

option_2_json_has_the_write_metadata() {
    copy_example duckdb_io_manager
    run "$EIDER" materialize -f definitions.c --json
    expect_rc 0
    expect_in out.txt '"table": "my_duckdb_database.IRIS.iris_setosa"'
    expect_in out.txt '"load_query": "SELECT * FROM \"my_duckdb_database\".\"IRIS\".\"iris_setosa\""'
    expect_in out.txt '"row_count": 50'
}

downstream_alone_names_the_missing_table() {
    copy_example duckdb_io_manager
    run "$EIDER" materialize -f definitions.c --select iris_setosa
    expect_rc 1
    expect_in out.txt 'table "my_duckdb_database"."IRIS"."iris_dataset" in '"'"
    expect_in out.txt "my_duckdb_database.duckdb' does not exist: materialize 'iris_dataset' first"
    expect_in out.txt "materialize 'iris_dataset' first"
}

reference_unpartitioned_cases() {
    copy_example duckdb_reference
    run "$EIDER" materialize -f definitions.c --select 'not tag:partitioned=yes'
    expect_rc 0
    expect_in out.txt "6 materialized, 0 failed, 0 skipped"
    expect_eq "$(dq $REF "SELECT string_agg(column_name, ',' ORDER BY ordinal_position)
                          FROM information_schema.columns WHERE table_name = 'sepal_data'")" \
        "sepal_length_cm,sepal_width_cm,sepal_area_cm2" "sepal_data's columns"
    expect_eq "$(dq $REF 'SELECT count(*) FROM iris.iris_cleaned')" 147 "rows without duplicates"
    expect_eq "$(dq $REF 'SELECT flowers FROM analytics.species_stats ORDER BY species LIMIT 1')" 48 \
        "stats in schema analytics (setosa has two duplicate rows)"
    [[ -f parquet/iris_parquet.parquet ]] || fail "no Parquet file for iris_parquet"
    expect_eq "$(dq $REF "SELECT count(*) FROM read_parquet('parquet/iris_parquet.parquet')")" 150 \
        "rows in the Parquet file"
    expect_eq "$(dq $REF "SELECT parquet_rows || '/' || duckdb_flowers FROM public.parquet_check LIMIT 1")" \
        "50/48" "the join of Parquet and DuckDB inputs"
}

reference_partitions_write_only_their_rows() {
    copy_example duckdb_reference
    run "$EIDER" materialize -f definitions.c --select iris_by_species --partition Iris-setosa
    expect_rc 0
    run "$EIDER" materialize -f definitions.c --select iris_by_species --partition-range \
        Iris-versicolor...Iris-virginica
    expect_rc 0
    run "$EIDER" materialize -f definitions.c --select iris_by_species --partition Iris-setosa
    expect_rc 0
    expect_eq "$(dq $REF "SELECT count(*) || '/' || count(DISTINCT species) FROM partitioned.iris_by_species")" \
        "150/3" "rows and species after three runs"
    run "$EIDER" materialize -f definitions.c --select iris_daily --partition-range 2024-01-01...2024-01-07
    expect_rc 0
    run "$EIDER" materialize -f definitions.c --select iris_daily --partition 2024-01-03
    expect_rc 0
    expect_eq "$(dq $REF "SELECT count(*) FROM partitioned.iris_daily WHERE day = DATE '2024-01-03'")" 150 \
        "rows of the rewritten day"
    expect_eq "$(dq $REF "SELECT count(*) FROM partitioned.iris_daily WHERE day <> DATE '2024-01-03'")" 128 \
        "rows of the other days"
}

partition_errors_are_clear() {
    copy_example duckdb_reference
    run "$EIDER" materialize -f definitions.c --select iris_daily --partition 2024-01-09
    expect_rc 4
    expect_in err.txt "has no partition '2024-01-09'"
    run "$EIDER" materialize -f definitions.c --select iris_by_species
    expect_rc 4
    expect_in err.txt "--partition KEY"
    run "$EIDER" materialize -f definitions.c --partition-range 2024-01-01
    expect_rc 2
    expect_in err.txt "FIRST...LAST"
    run "$EIDER" materialize -f definitions.c --partition a --partition b
    expect_rc 2
    expect_in err.txt "give one"
}

a_plain_run_leaves_the_partitioned_assets_out_and_says_so() {
    copy_example duckdb_reference
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    expect_in out.txt "6 materialized, 0 failed, 0 skipped"
    expect_in err.txt "left out the partitioned assets 'iris_by_species', 'iris_daily'"
    expect_in err.txt "--partition KEY"
}

a_partition_for_unpartitioned_assets_is_refused() {
    copy_example duckdb_reference
    run "$EIDER" materialize -f definitions.c --select iris/iris_cleaned --partition Iris-setosa
    expect_rc 4
    expect_in err.txt "partition 'Iris-setosa' was given, but 'iris/iris_cleaned' is not partitioned"
    run "$EIDER" runs --json
    expect_rc 0
    expect_in out.txt "[]"
}

asset_show_gives_each_partition_its_own_row_count() {
    copy_example duckdb_reference
    run "$EIDER" materialize -f definitions.c --select iris_daily --partition-range 2024-01-01...2024-01-07
    expect_rc 0
    run "$EIDER" asset show iris_daily -f definitions.c --json
    expect_rc 0
    check_json out.txt 'len(d["partitions"]) == 7'
    check_json out.txt 'all(p["metadata"]["row_count"] == d["history"][0]["metadata"]
        ["partition_row_counts"][p["partition"]] for p in d["partitions"])'
    check_json out.txt 'sum(p["metadata"]["row_count"] for p in d["partitions"]) == 150'
    expect_eq "$(dq $REF "SELECT count(*) FROM partitioned.iris_daily WHERE day = DATE '2024-01-02'")" \
        "$(python3 -c 'import json,sys; d=json.load(open("out.txt"))
print([p for p in d["partitions"] if p["partition"] == "2024-01-02"][0]["metadata"]["row_count"])')" \
        "the row count shown for 2024-01-02"
}

# examples/custom_io_manager: an I/O manager written on the public API (CSV files, one
# per partition), and a downstream asset that loads its files and goes to DuckDB.
custom_io_manager_stores_csv_files_that_downstream_loads() {
    copy_example custom_io_manager
    rm -rf csv
    run "$EIDER" materialize -f definitions.c --select setosa
    expect_rc 1
    expect_in out.txt "input 'iris_by_species' of asset 'setosa': CSV output 'csv/iris_by_species' does not exist"
    run "$EIDER" materialize -f definitions.c --select iris_dataset --json
    expect_rc 0
    expect_in out.txt '"relation": "read_csv('"'"'csv/iris_dataset.csv'"'"', header = true)"'
    expect_in out.txt '"row_count": 150'
    expect_eq "$(head -1 csv/iris_dataset.csv)" \
        "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,species" "the CSV header"
    for species in setosa versicolor virginica; do
        run "$EIDER" materialize -f definitions.c --select iris_by_species --partition $species
        expect_rc 0
        expect_eq "$(grep -c "Iris-$species" csv/iris_by_species/$species.csv)" 50 "rows of $species.csv"
    done
    run "$EIDER" materialize -f definitions.c --select setosa
    expect_rc 0
    expect_in out.txt "row_count=50"
    expect_eq "$(dq my_duckdb_database.duckdb 'SELECT count(*) FROM "IRIS".setosa')" 50 "rows of IRIS.setosa"
    ls csv/iris_by_species | grep -q tmp && fail "a temporary file was left behind"
    return 0
}

run_case custom_io_manager_stores_csv_files_that_downstream_loads
run_case option_2_stores_the_tutorial_tables_in_schema_IRIS
run_case option_2_twice_gives_the_same_tables
run_case option_2_json_has_the_write_metadata
run_case downstream_alone_names_the_missing_table
run_case reference_unpartitioned_cases
run_case reference_partitions_write_only_their_rows
run_case partition_errors_are_clear
run_case a_plain_run_leaves_the_partitioned_assets_out_and_says_so
run_case a_partition_for_unpartitioned_assets_is_refused
run_case asset_show_gives_each_partition_its_own_row_count
finish
