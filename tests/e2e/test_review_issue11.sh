#!/usr/bin/env bash
# test_review_issue11.sh — issue 11 (`eider dev`: the web UI and the run launcher) tried
# as a Dagster user who just read the README, after its branches were merged: each case
# is a defect that user trips over, and states the behaviour expected. The UI's own
# defects are in tests/browser/test_review.mjs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/dev_lib.sh"

command -v python3 >/dev/null || { echo "skipped: python3 is missing (scripts/setup.sh --test)"; exit 0; }

# UI.md's asset page shows "definition (code_version, I/O manager, resource keys, ...)",
# and ui/pages/asset.js shows `io_manager` when the asset detail has it; but
# GET /api/assets/KEY has no such field: iris_dataset, which the DuckDB I/O manager
# stores, says "resources none" and nothing of where it goes.
asset_detail_names_its_io_manager() {
    copy_example duckdb_io_manager
    start_server
    api GET /api/assets/iris_dataset
    expect_status 200
    check_json body.json '"io_manager" in d and d["io_manager"]'
    stop_server
}

# docs/api.md: "Any other path is 404 ... the files are a table built into the binary,
# looked up by exact name". A NUL written %00 cuts the name short: /app.js%00.css is
# served as app.js (200, JavaScript) instead of being no file.
a_nul_in_a_ui_path_is_404() {
    copy_example duckdb_io_manager
    start_server
    api GET /app.js%00.css
    [[ "$STATUS" == 404 ]] || fail "GET /app.js%00.css is $STATUS, not 404: the name was cut at the NUL"
    api GET /index.html%00
    [[ "$STATUS" == 404 ]] || fail "GET /index.html%00 is $STATUS, not 404"
    stop_server
}

# `--port 3000x` is refused ("a whole number from 0 to 65535"), `--port ' 3000'` (a
# stray space from a script's variable) is taken as 3000: the same rule for both.
port_with_a_space_is_refused() {
    copy_example duckdb_io_manager
    run timeout 10 "$EIDER" dev -f definitions.c --port ' 0'
    expect_rc 2
    expect_in err.txt "--port wants a whole number from 0 to 65535"
}

# The README's tutorial step: run `eider dev` and open the UI. The line it prints says
# "serving http://127.0.0.1:PORT/ (the JSON API: docs/api.md)": nothing says the web UI
# is there (the README's command summary and --help's first sentence say "serve the
# JSON API" too). The start line must name the web UI at that URL.
start_line_names_the_web_ui() {
    copy_example duckdb_io_manager
    start_server
    grep '^eider dev: serving ' server.out | grep -qi 'UI' ||
        fail "the start line does not name the web UI: $(grep '^eider dev: serving ' server.out)"
    stop_server
}

# A definitions error at start: `eider dev` exits 3 with the compiler's message, so the
# UI a user opens after a typo (and after restarting the server) does not exist. The
# issue: a compile error "is shown in the UI" and the server reloads when the file
# changes. With no good definitions yet, it must serve anyway, the error in
# GET /api/defs (file and line), and load the definitions once the file is fixed.
starts_with_broken_definitions_and_loads_the_fix() {
    copy_example duckdb_io_manager
    cp definitions.c good.c
    sed -i 's/return eider_output_frame(ctx, eider_frame_filter_eq/return eider_output_frame(ctx eider_frame_filter_eq/' definitions.c
    ! cmp -s definitions.c good.c || fail "the example changed: cannot break it"
    write_api_client
    "$EIDER" dev -f definitions.c --port 0 >server.out 2>server.err &
    SERVER_PID=$!
    trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
    for _ in $(seq 1 600); do
        grep -q '^eider dev: serving ' server.out 2>/dev/null && break
        kill -0 "$SERVER_PID" 2>/dev/null ||
            fail "eider dev exited at a compile error instead of serving it: $(grep -m1 "error" server.err)"
        sleep 0.1
    done
    sed -n 's/^eider dev: serving \(http[^ ]*\).*/\1/p' server.out >server.url
    api GET /api/defs
    expect_status 200
    check_json body.json 'd["error"] and d["error"]["line"] == 25 and d["error"]["file"].endswith("definitions.c")'
    cp good.c definitions.c
    touch definitions.c
    for _ in $(seq 1 100); do
        api GET /api/defs
        python3 -c 'import json; import sys; sys.exit(0 if json.load(open("body.json"))["error"] is None else 1)' && break
        sleep 0.1
    done
    api GET /api/assets
    expect_status 200
    check_json body.json '"iris_dataset" in [a["key"] for a in d]'
    # stop_server would refuse the compile error on stderr, which belongs there
    kill -s TERM "$SERVER_PID"
    wait "$SERVER_PID" || fail "eider dev exited $? on SIGTERM"
}

# "Materialize stale" in the UI after the definitions were reloaded once (the file
# saved, even unchanged): the run is refused with "stale() needs the instance store, and
# none is open here (EIDER_STORAGE=none keeps none)", though the store is there and the
# same launch before the reload ran. The reloaded definitions must keep the store.
stale_launch_after_a_reload_is_not_refused() {
    copy_example duckdb_io_manager
    start_server
    launch '{"selection": "stale()"}'
    wait_run "$RUN_ID" success
    touch definitions.c
    for _ in $(seq 1 100); do
        api GET /api/defs
        python3 -c 'import json, sys; sys.exit(0 if json.load(open("body.json"))["version"] == 2 else 1)' && break
        sleep 0.1
    done
    check_json body.json 'd["version"] == 2 and d["error"] is None'
    # iris_setosa is made stale: its upstream is materialized again
    launch '{"selection": "iris_dataset"}'
    wait_run "$RUN_ID" success
    launch '{"selection": "stale()"}'
    for _ in $(seq 1 300); do
        api GET "/api/runs/$RUN_ID"
        python3 -c 'import json, sys; sys.exit(0 if json.load(open("body.json"))["status"] not in ("queued", "started") else 1)' && break
        sleep 0.1
    done
    check_json body.json 'd["status"] != "refused" or "instance store" not in d.get("error", "")'
    stop_server
}

# --host 0.0.0.0 --auth-token T: the README says "the token alone guards", but GET /
# hands the token to anyone who asks, in <meta name="eider-token"> (the Host check is
# off on every address, so a DNS-rebinding page can read it too; Origin evil.example
# with Host evil.example is then accepted). Anyone on the network reads the token and
# launches runs. Served on a non-loopback address, the page must not carry the token
# to a request that did not prove it knows it (a login with the token, a cookie ...).
public_server_does_not_hand_out_its_token() {
    copy_example duckdb_io_manager
    start_server --host 0.0.0.0 --auth-token s3cretTok42
    local port
    port=$(sed 's/.*:\([0-9]*\)\/$/\1/' server.url)
    api GET / - "Host: evil.example:$port"
    expect_status 200
    ! grep -q s3cretTok42 body.json || fail "GET / without the token gives it away: $(grep -o 'eider-token[^>]*' body.json)"
    api GET /index.html - "Host: 192.0.2.1:$port"
    ! grep -q s3cretTok42 body.json || fail "GET /index.html without the token gives it away"
    stop_server
}

run_case asset_detail_names_its_io_manager
run_case a_nul_in_a_ui_path_is_404
run_case port_with_a_space_is_refused
run_case start_line_names_the_web_ui
run_case starts_with_broken_definitions_and_loads_the_fix
run_case stale_launch_after_a_reload_is_not_refused
run_case public_server_does_not_hand_out_its_token
finish
