#!/usr/bin/env bash
# test_models.sh — a project without C: eider.yaml and a folder of SQL models, run by the
# real `eider` binary in their folder with no definitions.c: list shows the models with
# the dependencies their SQL implies; materialize writes them in order (read back with
# DuckDB alone), their checks from a header block included; a table no asset stores,
# and a bad configuration, exit 3 naming the file and line; -f eider.yaml from another
# folder works; a definitions.c calling eider_project() mixes C with the models; eider
# dev serves a project, runs it in its workers, and loads a model added while it runs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/dev_lib.sh"

write_project() {
    mkdir -p models/raw models/staging models/marts
    cat >eider.yaml <<'EOF'
# the warehouse and where the models are
database: shop.duckdb
models: [models]
sources:
  crm/accounts:
    description: accounts, loaded by the CRM's own job
EOF
    printf 'id,amount\n1,10\n2,20\n3,30\n' >events.csv
    cat >models/raw/events.sql <<'EOF'
SELECT * FROM read_csv('events.csv')
EOF
    cat >models/staging/orders.sql <<'EOF'
/* eider
description: the orders over 10
group: shop
checks:
  - not_null: [id]
    blocking: true
*/
SELECT id, amount FROM raw.events WHERE amount > 10
EOF
    cat >models/marts/totals.sql <<'EOF'
WITH big AS (SELECT * FROM staging.orders)
SELECT count(*) AS n, sum(amount) AS total FROM big
EOF
}

a_project_lists_its_models_with_their_dependencies() {
    write_project
    run "$EIDER" list --json
    expect_rc 0
    check_json out.txt '[a["deps"] for a in d if a["key"] == "marts/totals"] == [["staging/orders"]]'
    check_json out.txt '[a["deps"] for a in d if a["key"] == "staging/orders"] == [["raw/events"]]'
    check_json out.txt '[a["kinds"] for a in d if a["key"] == "staging/orders"] == [["sql"]]'
    check_json out.txt '[a["group"] for a in d if a["key"] == "staging/orders"] == ["shop"]'
    check_json out.txt '[a["external"] for a in d if a["key"] == "crm/accounts"] == [True]'
}

a_project_materializes_in_order_with_its_checks() {
    write_project
    run "$EIDER" materialize
    expect_rc 0
    expect_in out.txt "3 materialized"
    expect_in out.txt "check staging/orders:not_null_id passed"
    expect_eq "$(dq shop.duckdb "SELECT n || ':' || total FROM marts.totals")" "2:50" "totals"
    run "$EIDER" asset show staging/orders --json
    expect_rc 0
    check_json out.txt 'd["column_lineage"] == [{"column": "id", "sources": ["raw/events.id"]}, {"column": "amount", "sources": ["raw/events.amount"]}]'
    run "$EIDER" asset show staging/orders
    expect_in out.txt "column lineage (from its SQL):"
    mkdir elsewhere
    cd elsewhere
    run "$EIDER" materialize -f ../eider.yaml --select marts/totals
    expect_rc 0
    expect_in out.txt "1 materialized"
}

a_table_no_asset_stores_exits_3_naming_file_and_line() {
    write_project
    printf 'SELECT count(*) AS n\nFROM staging.ordres\n' >models/marts/totals.sql
    run "$EIDER" list
    expect_rc 3
    expect_in err.txt "models/marts/totals.sql:2: model 'marts/totals' reads table 'staging.ordres', which no asset stores (did you mean 'staging.orders'?)"
    write_project
    printf '/* eider\ngroup: shop\nowner: [me]\n*/\nSELECT 1 AS id\n' >models/staging/orders.sql
    run "$EIDER" materialize
    expect_rc 3
    expect_in err.txt "models/staging/orders.sql:3: unknown key 'owner' in a model's configuration (did you mean 'owners'?)"
    write_project
    printf 'database: shop.duckdb\nmodel: [models]\n' >eider.yaml
    run "$EIDER" list
    expect_rc 3
    expect_in err.txt "eider.yaml:2: unknown key 'model' in eider.yaml (did you mean 'models'?)"
}

definitions_in_c_mix_with_the_models() {
    write_project
    mv eider.yaml project.yaml
    cat >definitions.c <<'EOF'
#include <eider.h>

static int report(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT total * 2 AS doubled FROM marts.totals");
}

void eider_definitions(eider_defs *defs)
{
    eider_project(defs, "project.yaml");
    eider_asset(defs, &(eider_asset_def){ .key = "reports/doubled", .compute = report,
                                          .deps = EIDER_KEYS("marts/totals") });
}
EOF
    run "$EIDER" materialize
    expect_rc 0
    expect_in out.txt "4 materialized"
    expect_eq "$(dq shop.duckdb "SELECT doubled FROM reports.doubled")" "100" "the C asset read the model"
}

# The asset keys GET /api/assets lists, sorted, in keys.txt.
asset_keys() {
    api GET /api/assets
    python3 -c 'import json; print(" ".join(sorted(a["key"] for a in json.load(open("body.json")))))' >keys.txt
}

eider_dev_serves_a_project_and_loads_a_new_model() {
    write_project
    DEFS_OPTION=" " start_server
    asset_keys
    expect_eq "$(cat keys.txt)" "crm/accounts marts/totals raw/events staging/orders" "the project's assets"
    launch '{}'
    wait_run "$RUN_ID" success
    expect_eq "$(dq shop.duckdb "SELECT total FROM marts.totals")" "50" "the run worker ran the models"
    printf 'SELECT n * 10 AS tenfold FROM marts.totals\n' >models/marts/tenfold.sql
    for _ in $(seq 1 100); do
        asset_keys
        grep -q "marts/tenfold" keys.txt && break
        sleep 0.1
    done
    expect_in keys.txt "marts/tenfold"
    launch '{"selection": "marts/tenfold"}'
    wait_run "$RUN_ID" success
    expect_eq "$(dq shop.duckdb "SELECT tenfold FROM marts.tenfold")" "20" "the new model ran"
    stop_server
}

new_sql_scaffolds_the_iris_project_that_runs_without_c() {
    run "$EIDER" new --sql shop
    expect_rc 0
    expect_in out.txt "created shop/eider.yaml and models/; now: cd shop && eider materialize"
    cd shop
    PATH=/nonexistent run "$EIDER" materialize
    expect_rc 0
    expect_in out.txt "2 materialized"
    expect_in out.txt "checks: 3 passed, 0 failed, 0 erred"
    expect_eq "$(dq my_duckdb_database.duckdb "SELECT count(*) FROM iris.iris_dataset")" "150" "iris"
    expect_eq "$(dq my_duckdb_database.duckdb "SELECT count(*) FROM iris.iris_setosa")" "50" "setosa"
    run "$EIDER" list --json
    check_json out.txt '[a["external"] for a in d if a["key"] == "iris/iris_harvest_data"] == [True]'
    check_json out.txt '[a["deps"] for a in d if a["key"] == "iris/iris_setosa"] == [["iris/iris_dataset"]]'
    cd ..
    run "$EIDER" new --sql shop
    expect_rc 2
    expect_in err.txt "'shop' already exists and is not an empty folder"
}

run_case a_project_lists_its_models_with_their_dependencies
run_case a_project_materializes_in_order_with_its_checks
run_case a_table_no_asset_stores_exits_3_naming_file_and_line
run_case definitions_in_c_mix_with_the_models
run_case eider_dev_serves_a_project_and_loads_a_new_model
run_case new_sql_scaffolds_the_iris_project_that_runs_without_c
finish
