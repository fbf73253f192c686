#!/usr/bin/env bash
# test_dev_api.sh — the asset and graph endpoints of `eider dev` (docs/api.md) against a
# real server over the reference example (keys with '/', static and daily partitions):
# the asset detail (definition, neighbours, latest materialization with columns and
# preview, history with durations), an unknown key (404 with the nearest key), the
# graph and its layout, the list's partitions and latest, and launching a partition
# range and stale(), an asset running now, and the selection evaluated by the server
# (GET /api/select: groups, traversals, stale() before and after a run, the column of
# an error, the nearest key of a typo).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/dev_lib.sh"

# The reference example, its unpartitioned assets materialized through the API. An
# asset's "running" is what the live poller saw (four times a second), so the run's end
# in the store can come a poll before the asset shows it: wait for that too.
serve_reference() {
    copy_example duckdb_reference
    start_server
    launch '{"selection": "not tag:partitioned=yes"}'
    wait_run "$RUN_ID" success
    FIRST_RUN=$RUN_ID
    for _ in $(seq 1 50); do
        api GET /api/assets/iris/iris_dataset
        python3 -c 'import json, sys; sys.exit(json.load(open("body.json"))["status"] == "running")' && return 0
        sleep 0.1
    done
    fail "iris/iris_dataset still shows running 5 s after its run ended"
}

asset_detail_of_a_key_with_a_slash() {
    serve_reference
    api GET /api/assets/iris/iris_dataset
    expect_status 200
    check_json body.json 'd["key"] == "iris/iris_dataset" and d["status"] == "fresh"'
    check_json body.json 'd["upstream"] == [] and d["downstream"] == ["iris/sepal_data", "iris/iris_cleaned"]'
    check_json body.json 'd["partitions"] is None and d["external"] is False and d["group"] == "default"'
    check_json body.json 'd["latest"]["run_id"] == "'"$FIRST_RUN"'" and d["latest"]["row_count"] == 150'
    check_json body.json '[c["name"] for c in d["latest"]["columns"]] == ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm", "species"]'
    check_json body.json 'd["latest"]["columns"][4]["type"] == "VARCHAR" and len(d["latest"]["preview"]) > 0'
    check_json body.json 'd["latest"]["preview"][0]["species"] == "Iris-setosa"'
    check_json body.json '"row_count" not in d["latest"]["metadata"] and "columns" not in d["latest"]["metadata"]'
    check_json body.json 'len(d["history"]) == 1 and d["history"][0]["row_count"] == 150'
    check_json body.json 'd["history"][0]["duration_s"] > 0 and d["history"][0]["partition"] is None'
    api GET /api/assets/analytics/species_stats
    expect_status 200
    check_json body.json 'd["upstream"] == ["iris/iris_cleaned"] and d["downstream"] == ["parquet_check"]'
    check_json body.json 'd["latest"]["row_count"] == 3'
    # a second materialization: history newest first, and ?limit= cuts it
    launch '{"selection": "iris/iris_dataset"}'
    wait_run "$RUN_ID" success
    api GET /api/assets/iris/iris_dataset
    check_json body.json '[h["run_id"] for h in d["history"]] == ["'"$RUN_ID"'", "'"$FIRST_RUN"'"]'
    check_json body.json 'd["latest"]["run_id"] == "'"$RUN_ID"'"'
    api GET '/api/assets/iris/iris_dataset?limit=1'
    check_json body.json '[h["run_id"] for h in d["history"]] == ["'"$RUN_ID"'"]'
    stop_server
}

unknown_asset_is_404_with_the_nearest_key() {
    copy_example duckdb_reference
    start_server
    api GET /api/assets/iris/iris_datset
    expect_status 404
    check_json body.json "\"asset 'iris/iris_datset' is not defined (did you mean 'iris/iris_dataset'?)\" in d['error']"
    api GET /api/assets/zzzzzzzzzzzz
    expect_status 404
    check_json body.json '"not defined" in d["error"] and "did you mean" not in d["error"]'
    # percent-encoded, as a page's encodeURIComponent() gives it: the same asset
    api GET /api/assets/iris%2Firis_dataset
    expect_status 200
    check_json body.json 'd["key"] == "iris/iris_dataset"'
    # a key never materialized is no error: its detail says so
    api GET /api/assets/iris_by_species
    expect_status 200
    check_json body.json 'd["status"] == "never" and d["latest"] is None and d["history"] == []'
    api GET /api/assets/iris/
    expect_status 404
    api GET '/api/assets/iris/iris_dataset?limit=0'
    expect_status 400
    check_json body.json "\"'limit'\" in d['error']"
    api POST /api/assets/iris/iris_dataset '{}' "X-Eider-Token: $TOKEN"
    expect_status 405
    stop_server
}

graph_of_the_example() {
    copy_example duckdb_reference
    start_server
    api GET /api/graph
    expect_status 200
    cp body.json graph1.json
    cat >check_graph.py <<'PY'
import json, sys
d = json.load(open("graph1.json"))
keys = [n["key"] for n in d["nodes"]]
assert keys == ["iris/iris_dataset", "iris/sepal_data", "iris/iris_cleaned",
                "analytics/species_stats", "iris_by_species", "iris_daily", "iris_parquet",
                "parquet_check"], keys
ix = {k: i for i, k in enumerate(keys)}
want = {(ix[a], ix[b]) for a, b in [("iris/iris_dataset", "iris/sepal_data"),
        ("iris/iris_dataset", "iris/iris_cleaned"), ("iris/iris_cleaned", "analytics/species_stats"),
        ("iris_parquet", "parquet_check"), ("analytics/species_stats", "parquet_check")]}
assert {(e[0], e[1]) for e in d["edges"]} == want, d["edges"]
n = d["nodes"]
for f, t, bends in d["edges"]:
    x = n[f]["x"] + n[f]["w"]
    for bx, by in bends:
        assert bx > x, ("bend goes back", f, t)
        x = bx
    assert x < n[t]["x"], ("edge does not go right", f, t)
for i, a in enumerate(n):
    assert a["w"] == 220 and a["h"] == 64
    assert 0 <= a["x"] and a["x"] + a["w"] <= d["width"] and a["y"] + a["h"] <= d["height"]
    for b in n[i + 1:]:
        assert not (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and
                    a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]), ("overlap", a, b)
# the longest path: dataset -> cleaned -> stats -> check, four ranks left to right
xs = [n[ix[k]]["x"] for k in ["iris/iris_dataset", "iris/iris_cleaned", "analytics/species_stats", "parquet_check"]]
assert xs == sorted(xs) and len(set(xs)) == 4, xs
g = d["groups"]
assert [x["name"] for x in g] == ["default"], g
assert all(g[0]["x"] <= a["x"] and a["x"] + a["w"] <= g[0]["x"] + g[0]["w"] and
           g[0]["y"] <= a["y"] and a["y"] + a["h"] <= g[0]["y"] + g[0]["h"] for a in n)
assert isinstance(d["version"], int)
PY
    python3 check_graph.py || fail "the graph's layout is wrong (check_graph.py)"
    # the second answer is the kept one: the same
    api GET /api/graph
    cmp -s body.json graph1.json || fail "a second GET /api/graph answered differently"
    stop_server
}

# Four assets in two groups, ingest (raw/a -> raw/b) and model (mid -> report, a SQL
# asset that reads mid and raw/a).
write_group_definitions() {
    cat >definitions.c <<'DEFS'
#include <eider.h>
static int nothing(eider_context *ctx) { return 0; }
void eider_definitions(eider_defs *defs)
{
    eider_asset(defs, &(eider_asset_def){ .key = "raw/a", .compute = nothing, .group = "ingest" });
    eider_asset(defs, &(eider_asset_def){ .key = "raw/b", .compute = nothing, .group = "ingest",
                                          .deps = EIDER_KEYS("raw/a") });
    eider_asset(defs, &(eider_asset_def){ .key = "mid", .compute = nothing, .group = "model",
                                          .deps = EIDER_KEYS("raw/b") });
    eider_asset(defs, &(eider_asset_def){ .key = "report", .compute = nothing, .group = "model",
                                          .deps = EIDER_KEYS("mid", "raw/a"),
                                          .kinds = EIDER_KEYS("sql") });
}
DEFS
}

# Groups get boxes that never overlap; a long edge bends.
graph_groups_and_long_edges() {
    write_group_definitions
    start_server
    api GET /api/graph
    expect_status 200
    check_json body.json '[g["name"] for g in d["groups"]] == ["ingest", "model"]'
    check_json body.json 'not (lambda a, b: a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])(d["groups"][0], d["groups"][1])'
    # raw/a -> report spans three ranks: two bend points, going right
    check_json body.json '[len(e[2]) for e in d["edges"] if (e[0], e[1]) == (0, 3)] == [2]'
    check_json body.json 'd["nodes"][1]["kinds"] == [] and d["nodes"][3]["group"] == "model"'
    stop_server
}

partition_range_launch() {
    serve_reference
    launch '{"selection": "iris_daily", "partition": "2024-01-02...2024-01-04"}'
    wait_run "$RUN_ID" success
    check_json body.json 'd["partition"] == "2024-01-02...2024-01-04"'
    check_json body.json '[s["key"] for s in d["steps"]] == ["iris_daily"]'
    api GET /api/assets/iris_daily
    expect_status 200
    check_json body.json 'd["partitions"]["count"] == 7 and d["partitions"]["keys"][0] == "2024-01-01"'
    check_json body.json 'd["partitions"]["status"]["2024-01-01"] == "missing"'
    check_json body.json 'all(d["partitions"]["status"][k] == "materialized" for k in ["2024-01-02", "2024-01-03", "2024-01-04"])'
    check_json body.json 'd["partitions"]["materialized"] == 3 and d["partitions"]["failed"] == 0'
    check_json body.json 'sorted(h["partition"] for h in d["history"]) == ["2024-01-02", "2024-01-03", "2024-01-04"]'
    check_json body.json 'all(h["run_id"] == "'"$RUN_ID"'" and h["duration_s"] > 0 for h in d["history"])'
    check_json body.json 'd["latest"]["partition"] in ["2024-01-02", "2024-01-03", "2024-01-04"]'
    # a range backwards is a run refused before it starts, saying why
    launch '{"selection": "iris_daily", "partition": "2024-01-04...2024-01-02"}'
    wait_run "$RUN_ID" refused
    check_json body.json '"2024-01-04" in d["error"]'
    stop_server
}

stale_launch_runs_what_is_not_fresh() {
    copy_example duckdb_reference
    start_server
    launch '{"selection": "iris/iris_dataset"}'
    wait_run "$RUN_ID" success
    # never materialized: the rest of the unpartitioned assets (the partitioned ones are
    # left out of a run without a partition)
    launch '{"selection": "stale()"}'
    wait_run "$RUN_ID" success
    check_json body.json 'sorted(s["key"] for s in d["steps"]) == ["analytics/species_stats", "iris/iris_cleaned", "iris/sepal_data", "iris_parquet", "parquet_check"]'
    check_json body.json 'd["selection"] == "stale()"'
    # now nothing unpartitioned is stale: a run of stale() with a partition runs that one
    launch '{"selection": "stale()", "partition": "Iris-setosa"}'
    wait_run "$RUN_ID" success
    check_json body.json '[s["key"] for s in d["steps"]] == ["iris_by_species"]'
    api GET /api/assets/iris_by_species
    check_json body.json 'd["partitions"]["status"] == {"Iris-setosa": "materialized", "Iris-versicolor": "missing", "Iris-virginica": "missing"}'
    stop_server
}

partitions_and_latest_in_the_list() {
    serve_reference
    launch '{"selection": "iris_daily", "partition": "2024-01-01...2024-01-03"}'
    wait_run "$RUN_ID" success
    api GET /api/assets
    expect_status 200
    check_json body.json '{a["key"]: a["partitions"] for a in d}["iris_daily"] == {"count": 7, "materialized": 3, "failed": 0}'
    check_json body.json '{a["key"]: a["partitions"] for a in d}["iris_by_species"] == {"count": 3, "materialized": 0, "failed": 0}'
    check_json body.json '{a["key"]: a["partitions"] for a in d}["iris/iris_dataset"] is None'
    check_json body.json '{a["key"]: a for a in d}["iris_by_species"]["latest"] is None'
    check_json body.json '{a["key"]: a for a in d}["iris_daily"]["latest"]["run_id"] == "'"$RUN_ID"'"'
    check_json body.json '{a["key"]: a for a in d}["iris_daily"]["latest"]["row_count"] == 50'
    check_json body.json '{a["key"]: a for a in d}["iris/iris_cleaned"]["latest"]["row_count"] == 147'
    check_json body.json '{a["key"]: a for a in d}["iris/iris_cleaned"]["latest"]["run_id"] == "'"$FIRST_RUN"'"'
    check_json body.json '{a["key"]: a for a in d}["iris/iris_cleaned"]["latest"]["partition"] is None'
    stop_server
}

# A partition whose latest try failed shows so, in the detail and the list.
failed_partition_shows_failed() {
    cat >definitions.c <<'DEFS'
#include <stdio.h>
#include <string.h>
#include <eider.h>
static int part(eider_context *ctx)
{
    size_t n = 0;
    const char *const *k = eider_partition_keys(ctx, &n);
    char sql[128];
    if (strcmp(k[0], "bad") == 0)
        return eider_fail(ctx, "partition bad fails");
    snprintf(sql, sizeof(sql), "SELECT '%s' AS p", k[0]);
    return eider_output_sql(ctx, sql);
}
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "part", .compute = part,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "p")),
        .partitions = eider_static_partitions(defs, EIDER_KEYS("good", "bad", "later")) });
}
DEFS
    start_server
    launch '{"selection": "part", "partition": "good"}'
    wait_run "$RUN_ID" success
    launch '{"selection": "part", "partition": "bad"}'
    wait_run "$RUN_ID" failure
    api GET /api/assets/part
    check_json body.json 'd["partitions"]["status"] == {"good": "materialized", "bad": "failed", "later": "missing"}'
    api GET /api/assets
    check_json body.json 'd[0]["partitions"] == {"count": 3, "materialized": 1, "failed": 1}'
    stop_server
}

# A step that runs now makes its asset "running", in the list and the detail (as the
# server's poller saw it in the store); its end makes it fresh, once the poller has
# looked again (four times a second).
running_asset_shows_running() {
    cat >definitions.c <<'DEFS'
#include <unistd.h>
#include <eider.h>
static int slow(eider_context *ctx) { usleep(3000000); return 0; }
static int quick(eider_context *ctx) { return 0; }
void eider_definitions(eider_defs *defs)
{
    eider_asset(defs, &(eider_asset_def){ .key = "quick", .compute = quick });
    eider_asset(defs, &(eider_asset_def){ .key = "slow/one", .compute = slow,
                                          .deps = EIDER_KEYS("quick") });
}
DEFS
    start_server
    launch '{"selection": "*"}'
    await_json /api/assets 'd[1]["status"] == "running"' 5 || fail "slow/one never showed running"
    check_json body.json 'd[0]["status"] == "fresh"'
    api GET /api/assets/slow/one
    check_json body.json 'd["status"] == "running"'
    wait_run "$RUN_ID" success
    await_json /api/assets '[a["status"] for a in d] == ["fresh", "fresh"]' 2 \
        || fail "the assets of a run that ended are not fresh: $(cat body.json)"
    api GET /api/assets/slow/one
    check_json body.json 'd["status"] == "fresh"'
    stop_server
}

# select SELECTION: GET /api/select with the selection percent-encoded, as the page's
# encodeURIComponent() sends it ('+' as %2B: a bare '+' in a query is a space).
select_api() {
    api GET "/api/select?selection=$(python3 -c 'import sys, urllib.parse
print(urllib.parse.quote(sys.argv[1], safe=""))' "$1")"
}

# The indices are those of GET /api/assets (and /api/graph's nodes): definitions order.
select_groups_and_traversals() {
    write_group_definitions
    start_server
    select_api "group:model"
    expect_status 200
    check_json body.json 'd == {"indices": [2, 3], "count": 2}'
    select_api "+mid"
    check_json body.json 'd["indices"] == [1, 2]'
    select_api "raw/b*"
    check_json body.json 'd["indices"] == [1, 2, 3]'
    select_api "*report and not group:model"
    check_json body.json 'd["indices"] == [0, 1]'
    select_api "kind:sql, raw/a"
    check_json body.json 'd["indices"] == [0, 3] and d["count"] == 2'
    # the order of GET /api/assets and of the graph's nodes
    select_api "1+report"
    cp body.json select.json
    api GET /api/assets
    check_json body.json '[d[i]["key"] for i in json.load(open("select.json"))["indices"]] == ["raw/a", "mid", "report"]'
    api GET /api/graph
    check_json body.json '[d["nodes"][i]["key"] for i in json.load(open("select.json"))["indices"]] == ["raw/a", "mid", "report"]'
    # no selection, or a blank one: every asset
    api GET /api/select
    check_json body.json 'd == {"indices": [0, 1, 2, 3], "count": 4}'
    select_api "  "
    check_json body.json 'd["count"] == 4'
    api POST /api/select '{}' "X-Eider-Token: $TOKEN"
    expect_status 405
    stop_server
}

# stale() reads the store, as a run of it would: everything before a run, then only what
# the run did not materialize.
select_stale_before_and_after_a_run() {
    copy_example duckdb_reference
    start_server
    select_api "stale()"
    expect_status 200
    check_json body.json 'd["count"] == 8'
    launch '{"selection": "not tag:partitioned=yes"}'
    wait_run "$RUN_ID" success
    select_api "stale()"
    cp body.json stale.json
    api GET /api/assets
    check_json body.json 'sorted(d[i]["key"] for i in json.load(open("stale.json"))["indices"]) == ["iris_by_species", "iris_daily"]'
    select_api "stale() and not tag:partitioned=yes"
    check_json body.json 'd == {"indices": [], "count": 0}'
    stop_server
}

# A selection that does not parse: 400 with the message and the column it points at,
# counted in characters (as a page counts them), the same from POST /api/runs.
select_error_names_the_column() {
    copy_example duckdb_reference
    start_server
    select_api "iris/iris_dataset and (iris/sepal_data"
    expect_status 400
    check_json body.json "d['column'] == 39 and \"expected ')' to close the '(' at column 23\" in d['error']"
    check_json body.json "d['error'].startswith(\"bad selection 'iris/iris_dataset and (iris/sepal_data' at column 39: \")"
    # 'é' is two bytes, one character: '%' is at column 16
    select_api 'key:"café*" or %'
    expect_status 400
    check_json body.json "d['column'] == 16 and \"unexpected character '%'\" in d['error']"
    api POST /api/runs '{"selection": "key:\"café*\" or %"}' "X-Eider-Token: $TOKEN"
    expect_status 400
    check_json body.json "d['column'] == 16 and \"unexpected character '%'\" in d['error']"
    stop_server
}

# An unknown key (or group) is an error, with the nearest known one, never an empty set.
select_unknown_key_says_did_you_mean() {
    copy_example duckdb_reference
    start_server
    select_api "iris/iris_dataset or iris/sepal_dta"
    expect_status 400
    check_json body.json 'd["column"] == 22'
    check_json body.json "\"unknown asset 'iris/sepal_dta' (did you mean 'iris/sepal_data'?)\" in d['error']"
    select_api "group:defualt"
    expect_status 400
    check_json body.json "d['column'] == 7 and \"did you mean 'default'\" in d['error']"
    stop_server
}

# A step of a run of `eider materialize` in a terminal shows "running" too: the poller
# reads every process's runs from the store.
terminal_run_shows_running() {
    cat >definitions.c <<'DEFS'
#include <stdio.h>
#include <unistd.h>
#include <eider.h>
static int slow(eider_context *ctx)
{
    FILE *f = fopen("slow.started", "w");
    if (f)
        fclose(f);
    usleep(3000000);
    return 0;
}
void eider_definitions(eider_defs *defs)
{
    eider_asset(defs, &(eider_asset_def){ .key = "slow/one", .compute = slow });
}
DEFS
    start_server
    "$EIDER" materialize -f definitions.c >cli.out 2>cli.err &
    local cli=$!
    BACKGROUND_PIDS+=("$cli")
    wait_file slow.started 10 "the terminal run never started slow/one"
    await_json /api/assets 'd[0]["status"] == "running"' 2 \
        || fail "the terminal run's slow/one never showed running"
    api GET /api/assets/slow/one
    check_json body.json 'd["status"] == "running"'
    wait "$cli" || fail "eider materialize failed: $(cat cli.err)"
    await_json /api/assets/slow/one 'd["status"] == "fresh"' 2 \
        || fail "slow/one is not fresh after its run: $(cat body.json)"
    stop_server
}

# Without a store (EIDER_STORAGE=none) the definitions' part is all there is.
no_store_gives_definitions_only() {
    copy_example duckdb_reference
    EIDER_STORAGE=none start_server
    api GET /api/assets/iris_daily
    expect_status 200
    check_json body.json 'd["status"] is None and d["latest"] is None and d["history"] == []'
    check_json body.json 'd["partitions"]["count"] == 7 and d["partitions"]["materialized"] == 0'
    check_json body.json 'set(d["partitions"]["status"].values()) == {"missing"}'
    api GET /api/assets
    check_json body.json '{a["key"]: a["partitions"] for a in d}["iris_daily"]["count"] == 7'
    check_json body.json 'all(a["latest"] is None for a in d)'
    api GET /api/graph
    expect_status 200
    check_json body.json 'len(d["nodes"]) == 8'
    # stale() needs a store: a 400 that says so
    select_api "stale()"
    expect_status 400
    check_json body.json '"stale() needs the instance store" in d["error"] and d["column"] == 1'
    stop_server
}

run_case asset_detail_of_a_key_with_a_slash
run_case unknown_asset_is_404_with_the_nearest_key
run_case graph_of_the_example
run_case graph_groups_and_long_edges
run_case partition_range_launch
run_case stale_launch_runs_what_is_not_fresh
run_case partitions_and_latest_in_the_list
run_case failed_partition_shows_failed
run_case running_asset_shows_running
run_case terminal_run_shows_running
run_case select_groups_and_traversals
run_case select_stale_before_and_after_a_run
run_case select_error_names_the_column
run_case select_unknown_key_says_did_you_mean
run_case no_store_gives_definitions_only
finish
