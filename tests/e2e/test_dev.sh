#!/usr/bin/env bash
# test_dev.sh — `eider dev` against a real server on a free port: each endpoint of the
# JSON API (docs/api.md), its error statuses, the security rules (the token, a foreign
# Origin, a foreign Host, a non-loopback --host without a token, and off loopback every
# API request needing the token, which the page does not carry), a launched run that
# succeeds, runs that wait their turn in the queue, one whose asset segfaults (the run
# is crashed, the server answers on), the port in use, and stopping with SIGINT and
# SIGTERM.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/dev_lib.sh"

# hello makes a table; boom writes through NULL; slow sleeps 3 s (long enough for a
# loaded machine to look at a run queued behind it).
write_definitions() {
    cat >definitions.c <<'DEFS'
#include <eider.h>
#include <unistd.h>

static int hello(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"),
                     "CREATE OR REPLACE TABLE hello AS SELECT 42 AS x");
}

static int boom(eider_context *ctx)
{
    volatile int *nothing = NULL;
    *nothing = 1;
    return 0;
}

static int slow(eider_context *ctx)
{
    usleep(3000000);
    return 0;
}

void eider_definitions(eider_defs *defs)
{
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "dev.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "hello", .compute = hello, .group = "demo" });
    eider_asset(defs, &(eider_asset_def){ .key = "boom", .compute = boom });
    eider_asset(defs, &(eider_asset_def){ .key = "slow", .compute = slow,
                                          .deps = EIDER_KEYS("hello") });
}
DEFS
}

assets_and_a_run_that_succeeds() {
    write_definitions
    start_server
    api GET /api/assets
    expect_status 200
    check_json body.json '[a["key"] for a in d] == ["hello", "boom", "slow"]'
    check_json body.json 'd[2]["deps"] == ["hello"] and d[0]["group"] == "demo"'
    check_json body.json 'd[0]["status"] == "never"'
    launch '{"selection": "hello+"}'
    check_json body.json 'd["status"] == "queued"'
    wait_run "$RUN_ID" success
    check_json body.json '[s["key"] for s in d["steps"]] == ["hello", "slow"]'
    check_json body.json 'd["launched_by"] == "api" and d["selection"] == "hello+"'
    api GET /api/assets
    check_json body.json 'd[0]["status"] == "fresh"'
    api GET /api/runs
    expect_status 200
    check_json body.json 'len(d) == 1 and d[0]["run_id"] == "'"$RUN_ID"'"'
    api GET "/api/runs/$RUN_ID/events"
    expect_status 200
    check_json body.json 'd[0]["type"] == "run_start" and d[-1]["type"] == "run_end"'
    check_json body.json 'all(e["run_id"] == "'"$RUN_ID"'" for e in d)'
    api GET "/api/runs/$RUN_ID/events?after=$(python3 -c 'import json; print(json.load(open("body.json"))[-2]["id"])')"
    check_json body.json 'len(d) == 1 and d[0]["type"] == "run_end"'
    # the CLI reads the same store: the run is there, launched by the API
    run "$EIDER" runs -f definitions.c --json
    expect_rc 0
    check_json out.txt 'd[0]["run_id"] == "'"$RUN_ID"'" and d[0]["launched_by"] == "api"'
    stop_server
}

runs_filters_and_paging() {
    write_definitions
    start_server
    launch '{"selection": "hello"}'
    wait_run "$RUN_ID" success
    local first=$RUN_ID
    launch '{"selection": "boom"}'
    wait_run "$RUN_ID" crashed
    api GET '/api/runs?status=success'
    check_json body.json '[r["run_id"] for r in d] == ["'"$first"'"]'
    api GET '/api/runs?limit=1'
    check_json body.json '[r["run_id"] for r in d] == ["'"$RUN_ID"'"]'
    api GET '/api/runs?limit=1&offset=1'
    check_json body.json '[r["run_id"] for r in d] == ["'"$first"'"]'
    # stale() reads the store: hello is fresh, so only slow (never) and boom (failed) run
    launch '{"selection": "stale() and not boom"}'
    wait_run "$RUN_ID" success
    check_json body.json '[s["key"] for s in d["steps"]] == ["slow"]'
    stop_server
}

runs_wait_their_turn() {
    write_definitions
    start_server
    launch '{"selection": "slow"}'
    local first=$RUN_ID
    launch '{"selection": "hello"}'
    api GET "/api/runs/$RUN_ID"
    check_json body.json 'd["status"] == "queued" and d["selection"] == "hello"'
    api GET "/api/runs/$RUN_ID/events"
    expect_status 200
    check_json body.json 'd == []'
    wait_run "$RUN_ID" success
    api GET /api/runs
    # one at a time: the second started after the first ended
    check_json body.json '[r["run_id"] for r in d] == ["'"$RUN_ID"'", "'"$first"'"]'
    check_json body.json 'd[1]["status"] == "success" and d[0]["start_us"] >= d[1]["end_us"]'
    stop_server
}

# The server holds no DuckDB file: a run from a terminal meanwhile works, and the API
# shows it.
a_terminal_run_meanwhile_shows_up() {
    write_definitions
    start_server
    run "$EIDER" materialize -f definitions.c --select hello --lock-timeout 0
    expect_rc 0
    api GET /api/runs
    check_json body.json 'len(d) == 1 and d[0]["launched_by"] == "cli" and d[0]["status"] == "success"'
    api GET /api/assets
    check_json body.json 'd[0]["key"] == "hello" and d[0]["status"] == "fresh"'
    stop_server
}

# -l: the definitions already built (loaded twice: for the handlers and for the runs).
serves_a_library() {
    write_definitions
    cc -shared -fPIC -I"$SRC/include" -I"$SRC/third_party/duckdb/include" -o defs.so \
        definitions.c || fail "cannot build defs.so"
    DEFS_OPTION="-l defs.so" start_server
    api GET /api/assets
    check_json body.json '[a["key"] for a in d] == ["hello", "boom", "slow"]'
    launch '{"selection": "hello"}'
    wait_run "$RUN_ID" success
    stop_server
}

errors_are_json_with_their_status() {
    write_definitions
    start_server
    api GET /api/nothing
    expect_status 404
    check_json body.json '"no such path" in d["error"]'
    api GET /api/runs/no-such-run
    expect_status 404
    check_json body.json '"no run '"'no-such-run'"'" in d["error"]'
    api GET /api/runs/no-such-run/events
    expect_status 404
    api DELETE /api/runs
    expect_status 405
    check_json body.json '"not allowed" in d["error"]'
    api POST /api/assets '{}' "X-Eider-Token: $TOKEN"
    expect_status 405
    api GET '/api/runs?limit=abc'
    expect_status 400
    check_json body.json "\"'limit'\" in d['error']"
    api GET '/api/runs?status=bogus'
    expect_status 400
    check_json body.json "\"'bogus'\" in d['error']"
    api POST /api/runs '{"selection": ' "X-Eider-Token: $TOKEN"
    expect_status 400
    api POST /api/runs '{"selection": 3}' "X-Eider-Token: $TOKEN"
    expect_status 400
    api POST /api/runs '{"selection": "nosuch"}' "X-Eider-Token: $TOKEN"
    expect_status 400
    check_json body.json '"nosuch" in d["error"]'
    api POST /api/runs "{\"selection\": \"$(head -c 70000 /dev/zero | tr '\0' a)\"}" \
        "X-Eider-Token: $TOKEN"
    expect_status 413
    api GET /api/runs
    check_json body.json 'd == []'
    # a partition no selected asset has: accepted, then refused before it starts
    launch '{"selection": "hello", "partition": "2024-01-01"}'
    wait_run "$RUN_ID" refused
    check_json body.json '"2024-01-01" in d["error"]'
    stop_server
}

state_changes_need_the_token_and_our_origin() {
    write_definitions
    start_server
    local port
    port=$(sed 's/.*:\([0-9]*\)\/$/\1/' server.url)
    api POST /api/runs '{"selection": "hello"}'
    expect_status 403
    check_json body.json '"token is needed" in d["error"]'
    api POST /api/runs '{"selection": "hello"}' "X-Eider-Token: wrong"
    expect_status 403
    check_json body.json '"token is wrong" in d["error"]'
    api POST /api/runs '{"selection": "hello"}' "X-Eider-Token: $TOKEN" "Origin: http://evil.example"
    expect_status 403
    check_json body.json '"evil.example" in d["error"]'
    api POST /api/runs '{"selection": "hello"}' "X-Eider-Token: $TOKEN" "Host: evil.example:$port"
    expect_status 403
    api GET /api/assets "-" "Host: evil.example:$port"
    expect_status 403
    check_json body.json '"Host" in d["error"]'
    api GET /api/runs
    check_json body.json 'd == []'
    # our own origin, with the token (also as a bearer token), is let in
    api POST /api/runs '{"selection": "hello"}' "X-Eider-Token: $TOKEN" "Origin: http://localhost:$port"
    expect_status 202
    api POST /api/runs '{"selection": "hello"}' "Authorization: Bearer $TOKEN"
    expect_status 202
    stop_server
}

given_auth_token_is_the_one() {
    write_definitions
    start_server --auth-token sesame
    expect_eq "$TOKEN" sesame "the printed token"
    api POST /api/runs '{"selection": "hello"}' "X-Eider-Token: sesame"
    expect_status 202
    stop_server
}

non_loopback_host_needs_a_token() {
    write_definitions
    run timeout 20 "$EIDER" dev -f definitions.c --host 0.0.0.0 --port 0
    expect_rc 2
    expect_in err.txt "'0.0.0.0' is not a loopback address"
    expect_in err.txt "--auth-token"
    start_server --host 0.0.0.0 --auth-token sesame
    expect_in server.out "serving http://0.0.0.0:"
    stop_server
}

# Off loopback (--host 0.0.0.0, with --auth-token) the page does not carry the token
# (anyone on the network may read it) and every API request needs it, reads and live
# streams included, in a header (never in the query string); the UI's files stay
# public, so that the page can ask its user for the token.
off_loopback_every_api_request_needs_the_token() {
    write_definitions
    start_server --host 0.0.0.0 --auth-token sesame
    expect_in server.out "token for every API request"
    api GET /
    expect_status 200
    expect_in body.json '<meta name="eider-token" content="">'
    expect_not_in body.json sesame
    api GET /app.js
    expect_status 200
    api GET /api/assets
    expect_status 403
    check_json body.json '"this server needs its token" in d["error"] and "--auth-token" in d["error"]'
    api GET /api/assets - "X-Eider-Token: sesamf"
    expect_status 403
    check_json body.json '"wrong" in d["error"]'
    api GET "/api/assets?token=sesame"
    expect_status 403
    api GET /api/nowhere
    expect_status 403
    api GET /api/assets - "X-Eider-Token: sesame"
    expect_status 200
    check_json body.json '[a["key"] for a in d] == ["hello", "boom", "slow"]'
    api GET /api/defs - "Authorization: Bearer sesame"
    expect_status 200
    launch '{"selection": "hello"}'
    export API_TOKEN=sesame
    wait_run "$RUN_ID" success
    # a run's live stream (Server-Sent Events) with the header: its events, then its end
    API_TOKEN='' api GET "/api/runs/$RUN_ID/events" - "Accept: text/event-stream"
    expect_status 403
    api GET "/api/runs/$RUN_ID/events" - "Accept: text/event-stream"
    expect_status 200
    expect_in body.json "event: event"
    expect_in body.json 'data: {"status":"success"}'
    # the global stream too, with the header only
    local code
    code=$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$URL/api/events" || true)
    [[ "$code" == 403 ]] || fail "GET /api/events without the token is $code, not 403"
    code=$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' -H "X-Eider-Token: sesame" \
           "$URL/api/events" || true)
    [[ "$code" == 200 ]] || fail "GET /api/events with the token is $code, not 200"
    # the Origin check stays on for state-changing requests: on every address, the
    # origin must be the name the request was sent to
    api POST /api/runs '{"selection": "hello"}' "Origin: http://evil.example"
    expect_status 403
    check_json body.json '"origin" in d["error"]'
    api POST /api/runs '{"selection": "hello"}' "Origin: http://$(cat server.url | sed 's|^http://||; s|/$||')"
    expect_status 202
    stop_server
}

# On loopback the page carries the token, and reads need none.
loopback_page_carries_the_token() {
    write_definitions
    start_server
    expect_in server.out "token for state-changing requests"
    api GET /
    expect_status 200
    expect_in body.json "<meta name=\"eider-token\" content=\"$TOKEN\">"
    api GET /api/assets
    expect_status 200
    api POST /api/runs '{"selection": "hello"}'
    expect_status 403
    check_json body.json '"a token is needed" in d["error"]'
    stop_server
}

# The first words a user reads name the web UI: --help's first sentence, the
# commands' summary (the start line is test_review_issue11.sh's).
help_leads_with_the_web_ui() {
    run "$EIDER" dev --help
    expect_rc 0
    sed -n 4p out.txt | grep -q '^Serve the web UI at /' || fail "--help starts: $(sed -n 4p out.txt)"
    run "$EIDER" --help
    expect_in out.txt "serve the web UI"
}

port_in_use_is_named() {
    write_definitions
    start_server
    local port
    port=$(sed 's/.*:\([0-9]*\)\/$/\1/' server.url)
    run timeout 20 "$EIDER" dev -f definitions.c --port "$port"
    expect_rc 2
    expect_in err.txt "port $port on '127.0.0.1' is in use"
    stop_server
}

segfault_fails_the_run_and_the_server_answers() {
    write_definitions
    start_server
    launch '{"selection": "boom"}'
    wait_run "$RUN_ID" crashed
    check_json body.json 'd["steps"][0]["key"] == "boom" and "SIGSEGV" in d["steps"][0]["error"]'
    api GET /api/assets
    expect_status 200
    launch '{"selection": "hello"}'
    wait_run "$RUN_ID" success
    kill -0 "$SERVER_PID" || fail "the server died"
    stop_server
}

stops_on_sigint_and_sigterm() {
    local sig
    write_definitions
    for sig in INT TERM; do
        start_server
        kill -s "$sig" "$SERVER_PID"
        set +e
        timeout 10 tail --pid="$SERVER_PID" -f /dev/null
        wait "$SERVER_PID"
        RC=$?
        set -e
        expect_rc 0
        expect_in server.out "stopping (SIG$sig)"
        python3 api.py GET /api/assets >/dev/null 2>&1 && fail "it still answers after SIG$sig"
    done
    true
}

run_case assets_and_a_run_that_succeeds
run_case runs_filters_and_paging
run_case runs_wait_their_turn
run_case a_terminal_run_meanwhile_shows_up
run_case serves_a_library
run_case errors_are_json_with_their_status
run_case state_changes_need_the_token_and_our_origin
run_case given_auth_token_is_the_one
run_case non_loopback_host_needs_a_token
run_case off_loopback_every_api_request_needs_the_token
run_case loopback_page_carries_the_token
run_case help_leads_with_the_web_ui
run_case port_in_use_is_named
run_case segfault_fails_the_run_and_the_server_answers
run_case stops_on_sigint_and_sigterm
finish
