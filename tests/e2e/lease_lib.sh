# lease_lib.sh — what test_lease.sh and test_outage.sh share: a slow run to watch, and
# the check that its record is whole. Sourced after lib.sh.

# defs.c: "slow" logs "tick 0" .. "tick $TICKS-1" a tenth of a second apart, then
# "after" runs; compiled and cached, so that a run starts at once.
write_slow_defs() {
    cat >defs.c <<'EOF2'
#include <eider.h>
#include <stdlib.h>
#include <unistd.h>
static int slow(eider_context *ctx)
{
    int n = getenv("TICKS") ? atoi(getenv("TICKS")) : 10;
    for (int i = 0; i < n; i++) {
        eider_log_info(ctx, "tick %d", i);
        usleep(100000);
    }
    return 0;
}
static int after(eider_context *ctx)
{
    (void)ctx;
    return 0;
}
void eider_definitions(eider_defs *defs)
{
    eider_asset(defs, &(eider_asset_def){ .key = "slow", .compute = slow });
    eider_asset(defs, &(eider_asset_def){ .key = "after", .compute = after,
                                          .deps = EIDER_KEYS("slow") });
}
EOF2
    "$EIDER" list -f defs.c >/dev/null || fail "defs.c does not compile"
}

# run_status: the newest run's status ("" when there is none).
run_status() {
    "$EIDER" runs --json 2>/dev/null |
        python3 -c 'import json, sys; r = json.load(sys.stdin); print(r[0]["status"] if r else "")'
}

# wait_started: until the newest run shows as started (5 s at most).
wait_started() {
    local i status=""
    for i in $(seq 50); do
        status=$(run_status)
        [[ "$status" == started ]] && return 0
        sleep 0.1
    done
    fail "the run never showed as started (its status: '$status')"
}

# expect_whole_record TICKS [TEXT]: the newest run succeeded, and its events are all
# there, numbered 1.. without a gap or a repeat: every tick, both materializations, and
# its end last (and an event whose message holds TEXT, when given).
expect_whole_record() {
    run "$EIDER" runs --json
    check_json out.txt 'd[0]["status"] == "success" and d[0]["n_succeeded"] == 2'
    local id
    id=$(python3 -c 'import json, sys; print(json.load(open("out.txt"))[0]["run_id"])')
    run "$EIDER" logs "$id" --json
    expect_rc 0
    python3 - "$1" "${2:-}" <<'PY' || fail "the run's record is not whole: $(cat out.txt)"
import json, sys
ticks, text = int(sys.argv[1]), sys.argv[2]
events = [json.loads(line) for line in open("out.txt") if line.strip()]
ids = [e["id"] for e in events]
seen = {e["message"] for e in events if e["type"] == "log"}
mats = [e for e in events if e["type"] == "materialization"]
ok = (ids == list(range(1, len(ids) + 1)) and all("tick %d" % i in seen for i in range(ticks))
      and len(mats) == 2 and events[-1]["type"] == "run_end"
      and (not text or any(text in (e["message"] or "") for e in events)))
sys.exit(0 if ok else 1)
PY
}
