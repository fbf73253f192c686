#!/usr/bin/env bash
# test_lease.sh — a run is marked crashed only when it has stopped proving that it is
# alive (its lease, renewed by its recorder, ran out), never from a guess about a
# process id: a live run in another PID namespace is left alone, and a run whose lease
# lapsed while it was stopped takes itself back, losing nothing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lease_lib.sh"

# Two containers sharing a store folder and a host name: the run's process has pid 1
# or 2 in its own PID namespace, a pid that names another process (or none) outside.
# `eider runs` outside, again and again past the run's lease, must leave it started,
# and the run records every event.
a_live_run_in_another_pid_namespace_is_not_marked_crashed() {
    if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
        echo "    skipped: unshare --pid --fork --mount-proc is not allowed here"
        return 0
    fi
    write_slow_defs
    TICKS=120 EIDER_RUN_LEASE_S=2 unshare --pid --fork --mount-proc \
        "$EIDER" materialize -f defs.c >run.out 2>run.err &
    local pid=$! until
    BACKGROUND_PIDS+=("$pid")
    wait_started
    until=$(($(date +%s%N) + 3000000000))      # past the run's 2 s lease
    while (($(date +%s%N) < until)); do
        expect_eq "$(run_status)" started "the live run's status, looked at from outside"
        sleep 0.2
    done
    wait "$pid" || fail "the run failed: $(cat run.out run.err)"
    expect_not_in run.out "UNIQUE"
    expect_not_in run.out "recording events failed"
    expect_whole_record 120
}

# SIGSTOP the run past its lease: `eider runs` marks it crashed (it shows no sign of
# life). After SIGCONT it renews its lease, is started again with a note that its lease
# lapsed, and ends recorded truly, every event kept.
a_run_whose_lease_lapsed_while_stopped_comes_back_whole() {
    write_slow_defs
    TICKS=20 EIDER_RUN_LEASE_S=0.5 "$EIDER" materialize -f defs.c >run.out 2>run.err &
    local pid=$!
    BACKGROUND_PIDS+=("$pid")
    wait_started
    kill -STOP "$pid"
    sleep 1
    expect_eq "$(run_status)" crashed "the stopped run's status once its lease ran out"
    run "$EIDER" runs --json
    local id
    id=$(python3 -c 'import json, sys; print(json.load(open("out.txt"))[0]["run_id"])')
    run "$EIDER" logs "$id"
    expect_in out.txt "the run's lease ran out"
    kill -CONT "$pid"
    wait "$pid" || fail "the run failed after SIGCONT: $(cat run.err)"
    expect_not_in run.err "UNIQUE"
    expect_whole_record 20 "this run's lease lapsed"
}

run_case a_live_run_in_another_pid_namespace_is_not_marked_crashed
run_case a_run_whose_lease_lapsed_while_stopped_comes_back_whole
finish
