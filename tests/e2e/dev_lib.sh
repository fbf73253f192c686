# dev_lib.sh — what the tests of `eider dev` share (sourced after lib.sh): starting a
# server on a free port and stopping it, one request to it, waiting for a run,
# launching one, waiting for a file or for an answer. test_dev.sh, test_dev_live.sh,
# test_dev_api.sh and test_ui_static.sh use it.

# api.py METHOD PATH [BODY] [Header: value]...: one request to the server of
# server.url; prints the status on the first line, then the body. API_TOKEN set: the
# request sends it (X-Eider-Token) unless a header given sends a token, as the page
# does on a server off loopback, where every API request needs it.
write_api_client() {
    cat >api.py <<'PY'
import http.client, os, sys, urllib.parse
url = urllib.parse.urlsplit(open("server.url").read().strip())
method, path = sys.argv[1], sys.argv[2]
body = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] != "-" else None
headers = {"Host": url.netloc}
for h in sys.argv[4:]:
    k, v = h.split(":", 1)
    headers[k.strip()] = v.strip()
if os.environ.get("API_TOKEN") and not {"x-eider-token", "authorization"} & {k.lower() for k in headers}:
    headers["X-Eider-Token"] = os.environ["API_TOKEN"]
c = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
for k, v in headers.items():
    c.putheader(k, v)
data = body.encode() if body is not None else b""
if body is not None:
    c.putheader("Content-Type", "application/json")
c.putheader("Content-Length", str(len(data)))
c.endheaders(data)
r = c.getresponse()
print(r.status)
print(r.read().decode())
PY
}

# Start eider dev on a free port (--port 0) with the options given and wait for its
# URL and token: server.url (with its '/'), URL (without it), TOKEN, SERVER_PID.
# DEFS_OPTION says where the definitions are (default -f definitions.c). The server
# joins BACKGROUND_PIDS (lib.sh), killed when the case's subshell exits.
start_server() {
    write_api_client
    "$EIDER" dev ${DEFS_OPTION:--f definitions.c} --port 0 "$@" >server.out 2>server.err &
    SERVER_PID=$!
    BACKGROUND_PIDS+=("$SERVER_PID")
    # the case runs in a subshell: its background processes end with it, failed or not
    trap 'for p in "${BACKGROUND_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
    for _ in $(seq 1 600); do
        if grep -q '^eider dev: serving ' server.out 2>/dev/null; then
            sed -n 's/^eider dev: serving \(http[^ ]*\).*/\1/p' server.out >server.url
            URL=$(sed 's:/$::' server.url)
            TOKEN=$(sed -n 's/^token for .*: //p' server.out)
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || { cat server.err >&2; fail "eider dev died"; }
        sleep 0.1
    done
    fail "eider dev printed no URL in 60 s"
}

# Stop it with SIGNAL (default TERM): it exits 0 within 10 s, with nothing on stderr
# (a sanitizer's report included) but the reload errors a case expects
# (RELOAD_ERRORS=1).
stop_server() {
    kill -s "${1:-TERM}" "$SERVER_PID"
    set +e
    timeout 10 tail --pid="$SERVER_PID" -f /dev/null
    wait "$SERVER_PID"
    RC=$?
    set -e
    [[ "$RC" == 0 ]] || { cat server.err >&2; fail "eider dev exited $RC on SIG${1:-TERM}"; }
    if [[ -n "${RELOAD_ERRORS:-}" ]]; then
        expect_in server.err "did not load; serving the last good ones"
        grep -v 'ERROR\|Sanitizer\|runtime error' server.err >/dev/null \
            || { cat server.err >&2; fail "eider dev reported more than reload errors"; }
        ! grep -q 'ERROR: \|Sanitizer\|runtime error' server.err \
            || { cat server.err >&2; fail "a sanitizer reported on stderr"; }
        return 0
    fi
    [[ ! -s server.err ]] || { cat server.err >&2; fail "eider dev wrote to stderr"; }
}

# api METHOD PATH [BODY] [HEADER...]: the status in STATUS, the body in body.json.
api() {
    python3 api.py "$@" >resp.txt || fail "no answer to $1 $2"
    STATUS=$(head -1 resp.txt)
    tail -n +2 resp.txt >body.json
}

# post PATH [BODY]: a POST with the server's token (as the page sends it).
post() {
    api POST "$1" "${2:-}" "X-Eider-Token: $TOKEN"
}

expect_status() {
    [[ "$STATUS" == "$1" ]] || { cat body.json >&2; fail "expected status $1, got $STATUS"; }
}

# Wait until run $1's status is $2 (60 s at most).
wait_run() {
    for _ in $(seq 1 600); do
        api GET "/api/runs/$1"
        if [[ "$STATUS" == 200 ]] && python3 -c 'import json,sys
sys.exit(0 if json.load(open("body.json"))["status"] == sys.argv[1] else 1)' "$2"; then
            return 0
        fi
        sleep 0.1
    done
    cat body.json >&2
    fail "run $1 never became $2"
}

# launch BODY: POST /api/runs, accepted; the run's id in RUN_ID.
launch() {
    api POST /api/runs "$1" "X-Eider-Token: $TOKEN"
    expect_status 202
    RUN_ID=$(python3 -c 'import json; print(json.load(open("body.json"))["run_id"])')
}

# wait_file FILE [SECONDS]: wait until FILE exists (an asset's sign that it runs), 30 s
# at most; fails saying WHAT (default "FILE never appeared").
wait_file() {
    for _ in $(seq 1 $(( ${2:-30} * 10 ))); do
        [[ -f "$1" ]] && return 0
        sleep 0.1
    done
    fail "${3:-$1 never appeared}"
}

# await_json PATH EXPR [SECONDS]: GET PATH until its body satisfies the Python EXPR (d:
# the body), 10 s at most; 1 when it never did (body.json holds the last answer).
await_json() {
    for _ in $(seq 1 $(( ${3:-10} * 10 ))); do
        api GET "$1"
        python3 -c 'import json, sys
d = json.load(open("body.json"))
sys.exit(0 if eval(sys.argv[1]) else 1)' "$2" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
