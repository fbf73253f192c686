#!/usr/bin/env bash
# test_outage.sh — the instance store goes away mid-run (a PostgreSQL server stopped
# and started again, a full disk freed again): the run goes on, keeps what it could
# not write, and records all of it, and its true end, once the store is back. When
# the store stays away past the run's end, the run says exactly what is missing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lease_lib.sh"

PG_SERVER="$SRC/tests/tools/pg_server.sh"

# pg_ctl ARGS...: the server's pg_ctl, as the user that owns the cluster (pg_server.sh's).
pg_ctl_as_owner() {
    local bin
    bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    [[ -x "$bin/pg_ctl" ]] || bin=$(dirname "$(command -v pg_ctl)")
    if [[ $(id -u) == 0 ]]; then
        (cd / && runuser -u eider-pg -- "$bin/pg_ctl" "$@")
    else
        (cd / && "$bin/pg_ctl" "$@")
    fi
}

# A server of this case's own (never the shared fixture's, which other tests use),
# stopped mid-run for a second and a half, then started again on its port.
a_postgresql_server_stopped_mid_run_loses_nothing() {
    local dir=$PWD/pg url home port
    url=$(bash "$PG_SERVER" start "$dir" 2>pg.err) || {
        echo "    skipped: no PostgreSQL server to start: $(tail -1 pg.err)"
        return 0
    }
    trap "bash '$PG_SERVER' stop '$dir'" EXIT
    home=$(cat "$dir/cluster" 2>/dev/null || echo "$dir")
    port=${url##*:}
    port=${port%%/*}
    export EIDER_STORAGE=$url
    write_slow_defs
    TICKS=50 "$EIDER" materialize -f defs.c >run.out 2>run.err &
    local pid=$!
    BACKGROUND_PIDS+=("$pid")
    wait_started
    sleep 0.5
    pg_ctl_as_owner -D "$home/data" -m fast -w stop >/dev/null || fail "cannot stop the server"
    sleep 1.5
    pg_ctl_as_owner -D "$home/data" -l "$home/server.log" -w -o "-p $port" start >/dev/null ||
        fail "cannot start the server again"
    wait "$pid" || fail "the run failed: $(cat run.out run.err)"
    expect_in run.out "written when the store is back"
    expect_not_in run.out "recorded only in part"
    expect_whole_record 50
    run "$EIDER" list -f defs.c
    expect_in out.txt "fresh"
    expect_not_in out.txt "never"
}

# small/: a 4 MiB tmpfs of this case's, unmounted when the case ends.
mount_small_disk() {
    mkdir -p small
    if ! mount -t tmpfs -o size=4m tmpfs small 2>mount.err; then
        echo "    skipped: cannot mount a small filesystem here: $(cat mount.err)"
        return 1
    fi
    trap "umount '$PWD/small'" EXIT
}

fill_small_disk() {
    dd if=/dev/zero of=small/fill bs=4k >/dev/null 2>&1 || true
    [[ $(df --output=avail small | tail -1) -lt 8 ]] || fail "small/ is not full"
}

# The store on a disk that fills up mid-run and is freed 1.5 s later.
a_full_disk_freed_mid_run_loses_nothing() {
    mount_small_disk || return 0
    export EIDER_STORAGE=$PWD/small/store
    write_slow_defs
    TICKS=50 "$EIDER" materialize -f defs.c >run.out 2>run.err &
    local pid=$!
    BACKGROUND_PIDS+=("$pid")
    wait_started
    fill_small_disk
    sleep 1.5
    rm small/fill
    wait "$pid" || fail "the run failed: $(cat run.out run.err)"
    expect_in run.out "database or disk is full"
    expect_not_in run.out "recorded only in part"
    expect_whole_record 50
}

# The disk stays full past the run's end and EIDER_STORE_RETRY_S: the run (which
# succeeded) says which of its events and materializations, and that its end, are
# missing; once its lease runs out it shows as crashed, not started forever.
a_disk_full_past_the_end_says_exactly_what_is_missing() {
    mount_small_disk || return 0
    export EIDER_STORAGE=$PWD/small/store EIDER_STORE_RETRY_S=1 EIDER_RUN_LEASE_S=1
    write_slow_defs
    TICKS=40 "$EIDER" materialize -f defs.c >run.out 2>run.err &
    local pid=$!
    BACKGROUND_PIDS+=("$pid")
    wait_started
    fill_small_disk
    local rc=0
    wait "$pid" || rc=$?
    expect_eq "$rc" 0 "the exit code of a run that succeeded, recorded only in part"
    expect_in run.out "is recorded only in part (cannot use the instance store sqlite:$PWD/small/store/eider.sqlite3: database or disk is full; free some space"
    grep -qE "missing from the store are events [0-9]+-[0-9]+ \([0-9]+ events, with the materializations of 'slow', 'after'\) and the run's end \(success: 2 succeeded, 0 failed, 0 skipped, 0 canceled\)" run.out ||
        fail "the message does not name what is missing: $(cat run.out)"
    rm small/fill
    sleep 1.2
    expect_eq "$(run_status)" crashed "the status once its lease ran out"
}

run_case a_postgresql_server_stopped_mid_run_loses_nothing
run_case a_full_disk_freed_mid_run_loses_nothing
run_case a_disk_full_past_the_end_says_exactly_what_is_missing
finish
