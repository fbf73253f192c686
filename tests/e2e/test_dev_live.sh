#!/usr/bin/env bash
# test_dev_live.sh — what `eider dev` does live, against a real server on a free port:
# a launched run's event stream (Server-Sent Events) ending with `end`, resumed with
# Last-Event-ID; the global stream showing a run of `eider materialize` in a terminal;
# an idle stream kept alive past the 30 s idle timeout by its heartbeat; the run queue
# (runs on one DuckDB file wait for each other, runs on different files overlap, and
# go one at a time with --max-concurrent-runs 1); canceling a queued and a running
# run; re-executing a run, all of it or from its failure; reloading the definitions
# when their file changes, on POST, and keeping the last good ones on a compile error;
# a library rebuilt in place loaded with its new code;
# a crashing asset; runs launched while the server is busy all end; and stopping with
# streams connected.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/dev_lib.sh"

command -v curl >/dev/null || { echo "skipped: curl is not installed"; exit 0; }

# Two DuckDB files: a.duckdb (hello, slow_a, long) and b.duckdb (slow_b, bad, boom).
# slow_* sleep 1.5 s; long runs a query until canceled; bad fails until ./fixed exists;
# boom writes through NULL.
write_definitions() {
    cat >definitions.c <<'DEFS'
#include <eider.h>
#include <stdio.h>
#include <unistd.h>

static int hello(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "a"),
                     "CREATE OR REPLACE TABLE hello AS SELECT 42 AS x");
}

static int slow_a(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "a");
    usleep(1500000);
    return eider_sql(ctx, con, "CREATE OR REPLACE TABLE slow_a AS SELECT 1 AS x");
}

static int slow_b(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "b");
    usleep(1500000);
    return eider_sql(ctx, con, "CREATE OR REPLACE TABLE slow_b AS SELECT 1 AS x");
}

static int long_query(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "a");
    FILE *f = fopen("long.started", "w");
    if (f)
        fclose(f);
    return eider_sql(ctx, con, "CREATE OR REPLACE TABLE l AS "
                               "SELECT count(*) AS n FROM range(1000000000000)");
}

static int bad(eider_context *ctx)
{
    if (access("fixed", F_OK) != 0)
        return eider_fail(ctx, "bad is broken until ./fixed exists");
    return eider_sql(ctx, eider_duckdb_connection(ctx, "b"),
                     "CREATE OR REPLACE TABLE bad AS SELECT 1 AS x");
}

static int boom(eider_context *ctx)
{
    volatile int *nothing = NULL;
    *nothing = 1;
    return 0;
}

void eider_definitions(eider_defs *defs)
{
    eider_duckdb_resource(defs, "a", &(eider_duckdb_config){ .database = "a.duckdb" });
    eider_duckdb_resource(defs, "b", &(eider_duckdb_config){ .database = "b.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "hello", .compute = hello,
                                          .resources = EIDER_KEYS("a") });
    eider_asset(defs, &(eider_asset_def){ .key = "slow_a", .compute = slow_a,
                                          .resources = EIDER_KEYS("a") });
    eider_asset(defs, &(eider_asset_def){ .key = "slow_b", .compute = slow_b,
                                          .resources = EIDER_KEYS("b") });
    eider_asset(defs, &(eider_asset_def){ .key = "long", .compute = long_query,
                                          .resources = EIDER_KEYS("a") });
    eider_asset(defs, &(eider_asset_def){ .key = "bad", .compute = bad,
                                          .resources = EIDER_KEYS("b") });
    eider_asset(defs, &(eider_asset_def){ .key = "boom", .compute = boom,
                                          .resources = EIDER_KEYS("b") });
    /* MORE */
}
DEFS
}

# A check on body.json that shows the body when it fails.
expect_json() {
    python3 -c 'import json, sys
d = json.load(open("body.json"))
sys.exit(0 if eval(sys.argv[1]) else 1)' "$1" || { cat body.json >&2; echo >&2; fail "body.json fails: $1"; }
}

json_field() {
    python3 -c 'import json, sys; print(json.load(open("body.json"))[sys.argv[1]])' "$1"
}

# Follow a stream into FILE in the background until it ends (or 60 s); STREAM_PID.
follow_stream() {
    curl -sN --max-time 60 -H 'Accept: text/event-stream' "$URL$1" >"$2" 2>/dev/null &
    STREAM_PID=$!
    BACKGROUND_PIDS+=("$STREAM_PID")
    for _ in $(seq 1 100); do
        grep -q 'eider live events' "$2" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "the stream $1 never opened"
}

# Wait until FILE has a line matching REGEX (30 s at most).
wait_line() {
    for _ in $(seq 1 300); do
        grep -q -- "$2" "$1" && return 0
        sleep 0.1
    done
    cat "$1" >&2
    fail "$1 never had a line matching '$2'"
}

# The `data:` of each SSE event of FILE named NAME, one JSON document a line.
sse_data() {
    python3 - "$1" "$2" <<'PY'
import json, sys
name = None
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("event: "):
        name = line[7:]
    elif line.startswith("data: ") and name == sys.argv[2]:
        print(line[6:])
PY
}

run_stream_ends_with_end() {
    write_definitions
    start_server
    launch '{"selection": "slow_a"}'
    # the stream of a queued run starts before the run does, and ends with the run
    curl -sN --max-time 30 -H 'Accept: text/event-stream' "$URL/api/runs/$RUN_ID/events" \
        >stream.txt || fail "the run's stream did not end by itself"
    expect_in stream.txt "event: end"
    sse_data stream.txt event >events.jsonl
    python3 - <<'PY' || fail "the stream's events are wrong: $(cat stream.txt)"
import json
ev = [json.loads(l) for l in open("events.jsonl")]
assert ev[0]["type"] == "run_start" and ev[-1]["type"] == "run_end", ev
assert any(e["type"] == "step_start" and e["asset_key"] == "slow_a" for e in ev)
assert [e["id"] for e in ev] == sorted(set(e["id"] for e in ev))
PY
    [[ "$(sse_data stream.txt end)" == '{"status":"success"}' ]] || fail "end: $(sse_data stream.txt end)"
    grep -q '^id: ' stream.txt || fail "no id: lines"
    # resumed after the second-last event: only the last one, then the end
    local last
    last=$(python3 -c 'import json; print([json.loads(l) for l in open("events.jsonl")][-2]["id"])')
    curl -sN --max-time 10 -H "Last-Event-ID: $last" "$URL/api/runs/$RUN_ID/events?stream=1" \
        >resumed.txt || fail "the resumed stream did not end"
    [[ "$(sse_data resumed.txt event | wc -l)" == 1 ]] || { cat resumed.txt >&2; fail "resumed: not one event"; }
    expect_in resumed.txt '"type":"run_end"'
    expect_in resumed.txt 'event: end'
    # the JSON form is unchanged
    api GET "/api/runs/$RUN_ID/events"
    expect_json 'd[-1]["type"] == "run_end"'
    api GET "/api/runs/nosuch/events?stream=1"
    expect_status 404
    stop_server
}

global_stream_shows_a_terminal_run() {
    write_definitions
    start_server
    follow_stream /api/events global.txt
    run "$EIDER" materialize -f definitions.c --select hello
    expect_rc 0
    wait_line global.txt '"launched_by":"cli","tags":{},"start_us":[0-9]*,"end_us":[0-9]'
    sse_data global.txt run >runs.jsonl
    python3 - <<'PY' || fail "the terminal run is not in the stream: $(cat global.txt)"
import json
runs = [json.loads(l) for l in open("runs.jsonl")]
assert any(r["launched_by"] == "cli" and r["status"] == "success" for r in runs), runs
PY
    wait_line global.txt '"key":"hello","status":"fresh"'
    api GET /api/runs
    expect_json 'd[0]["launched_by"] == "cli" and d[0]["status"] == "success"'
    # a run launched here goes through queued, started, success
    launch '{"selection": "hello"}'
    wait_run "$RUN_ID" success
    wait_line global.txt "\"run_id\":\"$RUN_ID\",\"status\":\"success\""
    expect_in global.txt "\"run_id\":\"$RUN_ID\",\"status\":\"queued\""
    kill "$STREAM_PID"
    stop_server
}

# Idle connections are closed after 30 s, but a stream sends a comment every 15 s and
# stays open.
idle_stream_is_kept_alive() {
    write_definitions
    start_server
    follow_stream /api/events global.txt
    sleep 32
    kill -0 "$STREAM_PID" 2>/dev/null || fail "the stream was closed while idle"
    [[ "$(grep -c '^: keep-alive$' global.txt)" -ge 2 ]] || { cat global.txt >&2; fail "no heartbeat"; }
    launch '{"selection": "hello"}'
    wait_line global.txt "\"run_id\":\"$RUN_ID\",\"status\":\"queued\""
    kill "$STREAM_PID"
    stop_server
}

# The same file: the second waits, queued, and both succeed without a lock error;
# different files: both run at once.
runs_on_one_file_wait_and_on_two_overlap() {
    write_definitions
    start_server --max-concurrent-runs 2
    launch '{"selection": "slow_a"}'
    local first=$RUN_ID
    launch '{"selection": "hello"}'
    local second=$RUN_ID
    api GET /api/runs
    expect_json 'd[0]["run_id"] == "'"$second"'" and d[0]["status"] == "queued"'
    wait_run "$second" success
    wait_run "$first" success
    api GET /api/runs
    expect_json '[r["run_id"] for r in d] == ["'"$second"'", "'"$first"'"]'
    expect_json 'd[0]["start_us"] >= d[1]["end_us"]'
    api GET "/api/runs/$second/events"
    expect_json 'not any("lock" in (e["message"] or "") for e in d)'
    launch '{"selection": "slow_a"}'
    first=$RUN_ID
    launch '{"selection": "slow_b"}'
    second=$RUN_ID
    wait_run "$first" success
    wait_run "$second" success
    api GET /api/runs
    expect_json 'd[0]["start_us"] < d[1]["end_us"] and d[1]["start_us"] < d[0]["end_us"]'
    stop_server
}

# --max-concurrent-runs 1: runs on different files go one at a time too.
one_concurrent_run_at_a_time() {
    write_definitions
    run "$EIDER" dev -f definitions.c --port 0 --max-concurrent-runs 0
    expect_rc 2
    expect_in err.txt "--max-concurrent-runs"
    start_server --max-concurrent-runs 1
    launch '{"selection": "slow_a"}'
    local first=$RUN_ID
    launch '{"selection": "slow_b"}'
    wait_run "$RUN_ID" success
    wait_run "$first" success
    api GET /api/runs
    expect_json 'd[0]["start_us"] >= d[1]["end_us"]'
    stop_server
}

cancel_queued_and_running() {
    write_definitions
    start_server
    launch '{"selection": "long"}'
    local running=$RUN_ID
    launch '{"selection": "hello"}'
    local queued=$RUN_ID
    post "/api/runs/$queued/cancel"
    expect_status 202
    expect_json 'd["status"] == "canceled"'
    api GET "/api/runs/$queued"
    expect_json 'd["status"] == "canceled"'
    post "/api/runs/$queued/cancel"
    expect_status 409
    wait_file long.started 30 "the long asset never started"
    post "/api/runs/$running/cancel"
    expect_status 202
    expect_json 'd["status"] == "canceling"'
    wait_run "$running" canceled
    post "/api/runs/$running/cancel"
    expect_status 409
    expect_json '"has ended" in d["error"]'
    post /api/runs/nosuch/cancel
    expect_status 404
    # a run of another process is not ours to cancel
    rm -f long.started
    "$EIDER" materialize -f definitions.c --select long >cli.out 2>cli.err &
    local cli=$!
    BACKGROUND_PIDS+=("$cli")
    wait_file long.started 30 "the terminal run never started the long asset"
    api GET /api/runs
    expect_json 'd[0]["launched_by"] == "cli" and d[0]["status"] == "started"'
    post "/api/runs/$(python3 -c 'import json; print(json.load(open("body.json"))[0]["run_id"])')/cancel"
    expect_status 409
    expect_json '"another process" in d["error"]'
    kill -INT "$cli"
    wait "$cli" || true
    stop_server
}

reexecute_all_and_from_failure() {
    write_definitions
    start_server
    launch '{"selection": "hello, bad"}'
    local failed=$RUN_ID
    wait_run "$failed" failure
    post "/api/runs/$failed/reexecute" '{"from_failure": false}'
    expect_status 202
    wait_run "$(json_field run_id)" failure
    expect_json 'sorted(s["key"] for s in d["steps"]) == ["bad", "hello"] and d["selection"] == "hello, bad"'
    touch fixed
    post "/api/runs/$failed/reexecute" '{"from_failure": true}'
    expect_status 202
    expect_json 'd["status"] == "queued" and d["from_run"] == "'"$failed"'"'
    local again
    again=$(json_field run_id)
    wait_run "$again" success
    expect_json '[s["key"] for s in d["steps"]] == ["bad"]'
    post "/api/runs/$again/reexecute" '{"from_failure": true}'
    expect_status 409
    expect_json '"no failed step" in d["error"]'
    post "/api/runs/$again/reexecute" '{"from_failure": 3}'
    expect_status 400
    post /api/runs/nosuch/reexecute '{}'
    expect_status 404
    stop_server
}

# Wait until GET /api/defs satisfies a check.
wait_defs() {
    for _ in $(seq 1 300); do
        api GET /api/defs
        python3 -c 'import json, sys
d = json.load(open("body.json"))
sys.exit(0 if eval(sys.argv[1]) else 1)' "$1" && return 0
        sleep 0.1
    done
    cat body.json >&2
    fail "GET /api/defs never had $1"
}

reload_on_change_on_post_and_errors() {
    write_definitions
    start_server
    follow_stream /api/events global.txt
    api GET /api/defs
    expect_json 'd["version"] == 1 and d["error"] is None and d["source"].endswith("/definitions.c")'
    # the file changes: a new asset, loaded within seconds
    sed -i 's|/\* MORE \*/|eider_asset(defs, \&(eider_asset_def){ .key = "extra", .compute = hello, .resources = EIDER_KEYS("a") });|' definitions.c
    wait_defs 'd["version"] == 2 and d["error"] is None'
    api GET /api/assets
    expect_json '"extra" in [a["key"] for a in d]'
    wait_line global.txt '^data: {"version":2,"error":null}'
    launch '{"selection": "extra"}'
    wait_run "$RUN_ID" success
    # on request; a run going meanwhile keeps its definitions and ends well
    launch '{"selection": "slow_a"}'
    local going=$RUN_ID
    wait_run "$going" started
    post /api/reload
    expect_status 200
    expect_json 'd["version"] == 3 and d["error"] is None'
    wait_run "$going" success
    # a compile error: reported with its line, the last good definitions kept
    sed -i 's|^static int bad|int broken = ;\nstatic int bad|' definitions.c
    local line
    line=$(grep -n '^int broken' definitions.c | cut -d: -f1)
    wait_defs 'd["error"] is not None'
    expect_json 'd["version"] == 3 and d["error"]["line"] == '"$line"' and d["error"]["file"].endswith("definitions.c")'
    wait_line global.txt '^data: {"version":3,"error":"'
    post /api/reload
    expect_status 422
    expect_json 'd["version"] == 3 and d["line"] == '"$line"' and "error" in d["error"]'
    api GET /api/assets
    expect_json '"extra" in [a["key"] for a in d]'
    launch '{"selection": "extra"}'
    wait_run "$RUN_ID" success
    # fixed: loaded again
    sed -i '/^int broken = ;$/d' definitions.c
    wait_defs 'd["version"] == 4 and d["error"] is None'
    # a cycle: no line, the message says so
    sed -i 's|\.key = "hello", \.compute = hello,|.key = "hello", .compute = hello, .deps = EIDER_KEYS("extra"),|; s|\.key = "extra", \.compute = hello,|.key = "extra", .compute = hello, .deps = EIDER_KEYS("hello"),|' definitions.c
    post /api/reload
    expect_status 422
    expect_json '"cycle" in d["error"] and d["line"] is None and d["version"] == 4'
    kill "$STREAM_PID"
    RELOAD_ERRORS=1 stop_server
}

# Definitions that fail at start (a cycle here: an error with no file nor line) are
# served as a failed reload is: no assets, the error in GET /api/defs (and the UI) and
# on stderr; a reload that fails again says so; once the file is fixed they load, and
# runs go, two at once (a second load of the fixed file). A missing file is still an
# error at start, as for every command.
# A library rebuilt in place (-l) is loaded again with its new code, and its runs run
# that code: dlopen() gives back the library it has for a path, so a rebuilt one is
# loaded from a copy of its own, which the run worker loads too.
a_library_rebuilt_in_place_runs_its_new_code() {
    write_definitions
    cc -shared -fPIC -I"$SRC/include" -I"$SRC/third_party/duckdb/include" -o defs.so \
        definitions.c || fail "cannot build defs.so"
    DEFS_OPTION="-l defs.so" start_server
    sed -i 's|/\* MORE \*/|eider_asset(defs, \&(eider_asset_def){ .key = "added", .compute = hello, .resources = EIDER_KEYS("a") });|' definitions.c
    sleep 1.1
    cc -shared -fPIC -I"$SRC/include" -I"$SRC/third_party/duckdb/include" -o defs.so \
        definitions.c || fail "cannot build defs.so again"
    wait_defs 'd["version"] == 2 and d["error"] is None'
    api GET /api/assets
    expect_json '"added" in [a["key"] for a in d]'
    launch '{"selection": "added"}'
    wait_run "$RUN_ID" success
    launch '{"selection": "slow_a"}'
    wait_run "$RUN_ID" success
    stop_server
}

broken_at_start_is_served_then_loaded() {
    write_definitions
    run timeout 20 "$EIDER" dev -f nowhere.c --port 0
    expect_rc 3
    expect_in err.txt "cannot read definitions 'nowhere.c'"
    cp definitions.c good.c
    sed -i 's|\.key = "hello", \.compute = hello,|.key = "hello", .compute = hello, .deps = EIDER_KEYS("slow_a"),|; s|\.key = "slow_a", \.compute = slow_a,|.key = "slow_a", .compute = slow_a, .deps = EIDER_KEYS("hello"),|' definitions.c
    start_server
    expect_in server.err "cycle"
    expect_in server.err "serving with no assets until the definitions"
    api GET /api/defs
    expect_json 'd["version"] == 1 and "cycle" in d["error"]["message"] and d["error"]["line"] is None'
    api GET /api/assets
    expect_json 'd == []'
    api GET /api/graph
    expect_json 'd["nodes"] == [] and d["edges"] == []'
    post /api/reload
    expect_status 422
    expect_in server.err "did not load; serving none until they do"
    cp good.c definitions.c
    touch definitions.c
    wait_defs 'd["version"] == 2 and d["error"] is None'
    api GET /api/assets
    expect_json '[a["key"] for a in d][:2] == ["hello", "slow_a"]'
    launch '{"selection": "slow_a"}'
    local first=$RUN_ID
    launch '{"selection": "slow_b"}'
    wait_run "$first" success
    wait_run "$RUN_ID" success
    api GET /api/runs
    expect_json 'd[0]["start_us"] < d[1]["end_us"] and d[1]["start_us"] < d[0]["end_us"]'
    kill -s TERM "$SERVER_PID"
    wait "$SERVER_PID" || fail "eider dev exited $? on SIGTERM"
    ! grep -q 'Sanitizer\|runtime error' server.err || { cat server.err >&2; fail "a sanitizer reported"; }
}

crash_fails_the_run_and_the_server_answers() {
    write_definitions
    start_server
    launch '{"selection": "boom"}'
    curl -sN --max-time 30 "$URL/api/runs/$RUN_ID/events?stream=1" >stream.txt \
        || fail "the crashed run's stream did not end"
    [[ "$(sse_data stream.txt end)" == '{"status":"crashed"}' ]] || { cat stream.txt >&2; fail "no crashed end"; }
    wait_run "$RUN_ID" crashed
    expect_json '"SIGSEGV" in d["steps"][0]["error"]'
    api GET /api/assets
    expect_status 200
    launch '{"selection": "hello"}'
    wait_run "$RUN_ID" success
    stop_server
}

# Runs launched while twenty live streams and a reader keep the server's threads busy
# (allocating, formatting times) all end: a worker forked from a thread of the server
# inherited the locks those threads held at that instant, and under AddressSanitizer
# hung within three runs; the launcher forks them from a process of one thread.
runs_launched_while_the_server_is_busy_all_end() {
    write_definitions
    start_server
    local i
    for i in $(seq 1 20); do
        curl -sN --max-time 120 -H 'Accept: text/event-stream' "$URL/api/events" >/dev/null 2>&1 &
        BACKGROUND_PIDS+=("$!")
    done
    (while true; do curl -s "$URL/api/assets" >/dev/null 2>&1 || true; done) &
    BACKGROUND_PIDS+=("$!")
    for i in $(seq 1 8); do
        launch '{"selection": "hello"}'
        wait_run "$RUN_ID" success
    done
    stop_server
}

stops_with_streams_connected() {
    local sig
    write_definitions
    for sig in INT TERM; do
        rm -f long.started
        start_server
        follow_stream /api/events g1.txt
        local g1=$STREAM_PID
        launch '{"selection": "long"}'
        follow_stream "/api/runs/$RUN_ID/events" r1.txt
        local r1=$STREAM_PID
        for _ in $(seq 1 300); do
            [[ -f long.started ]] && break
            sleep 0.1
        done
        stop_server "$sig"
        timeout 5 tail --pid="$g1" -f /dev/null || fail "a global stream outlived the server"
        timeout 5 tail --pid="$r1" -f /dev/null || fail "a run's stream outlived the server"
    done
}

run_case run_stream_ends_with_end
run_case global_stream_shows_a_terminal_run
run_case idle_stream_is_kept_alive
run_case runs_on_one_file_wait_and_on_two_overlap
run_case one_concurrent_run_at_a_time
run_case cancel_queued_and_running
run_case reexecute_all_and_from_failure
run_case reload_on_change_on_post_and_errors
run_case a_library_rebuilt_in_place_runs_its_new_code
run_case broken_at_start_is_served_then_loaded
run_case crash_fails_the_run_and_the_server_answers
run_case runs_launched_while_the_server_is_busy_all_end
run_case stops_with_streams_connected
finish
