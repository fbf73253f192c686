#!/usr/bin/env bash
# dev_live_clients.sh — the CPU the server of `eider dev` spends while CLIENTS clients
# (default 100) follow live events as a run of ASSETS assets (default 1,000: 50 chains
# of 20, each asset sleeping 5 ms) goes. Half the clients follow the run's own stream
# (every event of the run), half the global stream (runs and asset statuses). Prints
# the server process's CPU time (every thread of it; the run worker, a child, apart)
# over the run's wall time, and the same run with no client as the floor. Issue 11's
# target: under one core. Run by `scripts/bench dev`; not a test: it prints figures.
#
#   EIDER=build/eider bench/dev_live_clients.sh [CLIENTS] [ASSETS]
set -euo pipefail
: "${EIDER:?set EIDER to the eider binary}"
for tool in curl python3; do
    command -v "$tool" >/dev/null || {
        echo "dev_live_clients: skipped: $tool is not installed (scripts/setup.sh --test installs it)"
        exit 0
    }
done
CLIENTS=${1:-100}
ASSETS=${2:-1000}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/eider-bench-live-XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"

python3 - "$ASSETS" >definitions.c <<'PY'
import sys
n = int(sys.argv[1])
print('#include <eider.h>\n#include <unistd.h>\n')
print('static int work(eider_context *ctx) { usleep(5000); return 0; }\n')
parts = (n + 99) // 100
for p in range(parts):
    print(f'static void part{p}(eider_defs *defs)\n{{')
    for i in range(p * 100, min(n, p * 100 + 100)):
        dep = f', .deps = EIDER_KEYS("a{i - 1}")' if i % 20 else ''
        print(f'    eider_asset(defs, &(eider_asset_def){{ .key = "a{i}", .compute = work{dep} }});')
    print('}\n')
print('void eider_definitions(eider_defs *defs)\n{')
for p in range(parts):
    print(f'    part{p}(defs);')
print('}')
PY

"$EIDER" dev -f definitions.c --port 0 >server.out 2>server.err &
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 1 600); do
    grep -q '^eider dev: serving ' server.out 2>/dev/null && break
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.1
done
URL=$(sed -n 's/^eider dev: serving \(http[^ ]*\)\/ .*/\1/p' server.out)
[[ -n "$URL" ]] || { echo "dev_live_clients: eider dev did not start:" >&2; cat server.err >&2; exit 1; }
TOKEN=$(sed -n 's/^token for .*: //p' server.out)
TICK=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }

launch() {
    curl -s -H "X-Eider-Token: $TOKEN" --data-binary '{}' "$URL/api/runs" \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["run_id"])'
}

status() {
    curl -s "$URL/api/runs/$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["status"])'
}

# measure N: a run with N clients; prints "wall_s cpu_s least_events clients_fed":
# the fewest events one client of the run's stream received, and how many clients
# (of either stream) received at least one event about the run.
measure() {
    local n=$1 id t0 c0 t1 c1 i
    local streams=()
    id=$(launch)
    # the run waits for no one: clients connect as it is queued, a few ms
    for ((i = 0; i < n; i++)); do
        if ((i % 2)); then
            curl -sN "$URL/api/events" >"g$i.txt" 2>/dev/null &
        else
            curl -sN "$URL/api/runs/$id/events?stream=1" >"r$i.txt" 2>/dev/null &
        fi
        streams+=($!)
        PIDS+=($!)
    done
    t0=$(date +%s.%N)
    c0=$(cpu_ticks)
    while [[ "$(status "$id")" =~ ^(queued|started)$ ]]; do sleep 0.2; done
    t1=$(date +%s.%N)
    c1=$(cpu_ticks)
    sleep 0.5
    for p in "${streams[@]}"; do kill "$p" 2>/dev/null || true; done
    local ev=0 fed=0 f
    if ((n)); then
        ev=$(for f in r*.txt; do grep -c '^event: event' "$f" || true; done | sort -n | head -1)
        for f in r*.txt g*.txt; do grep -q "$id" "$f" && ((fed += 1)); done
    fi
    echo "$(python3 -c "print(f'{$t1 - $t0:.2f} {($c1 - $c0) / $TICK:.2f}')") $ev $fed"
    rm -f g*.txt r*.txt
}

launch >/dev/null   # a warm-up run (the definitions compiled, the store made)
sleep 5
read -r w0 c0 _ <<<"$(measure 0)"
read -r w1 c1 ev fed <<<"$(measure "$CLIENTS")"
echo "dev_live_clients: eider dev's live events, a run of $ASSETS assets (chains of 20, 5 ms each) followed by $CLIENTS clients (half on the run's stream, half on the global one)"
echo "  the server's CPU time (all its threads; the run worker apart) over the run's wall time; target: under one core (100 %) with $CLIENTS clients"
echo "  no client (floor): run ${w0} s, server CPU ${c0} s = $(python3 -c "print(f'{100 * $c0 / $w0:.1f}')") % of one core"
echo "  $CLIENTS clients:       run ${w1} s, server CPU ${c1} s = $(python3 -c "print(f'{100 * $c1 / $w1:.1f}')") % of one core (ratio to the floor $(python3 -c "print(f'{($c1 / $w1) / max($c0 / $w0, 1e-9):.2f}')")); $fed of $CLIENTS clients got the run's events, each on the run's stream at least $ev events"
