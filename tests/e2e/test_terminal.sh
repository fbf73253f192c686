#!/usr/bin/env bash
# test_terminal.sh — terminal habits: color and the live progress line only on a
# terminal that wants them (NO_COLOR, TERM=dumb; never piped or with --json), text from
# user code and DuckDB printed with its control characters escaped and DuckDB's caret
# block once, a shell-quoted `cd` hint from `eider new`, and help and messages that say
# what is true. A terminal is had from script(1).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ESC=$'\033'

# `fast` writes 150 rows; `slow` runs for 1.2 s after it, so the live line is redrawn.
write_slow_defs() {
    cat >definitions.c <<'EOF'
#include <eider.h>
#include <unistd.h>
static int fast(eider_context *ctx) { eider_add_meta_int(ctx, "row_count", 150); return 0; }
static int slow(eider_context *ctx) { usleep(1200000); (void)ctx; return 0; }
void eider_definitions(eider_defs *defs)
{
    eider_asset(defs, &(eider_asset_def){ .key = "fast", .compute = fast });
    eider_asset(defs, &(eider_asset_def){ .key = "slow", .compute = slow, .deps = EIDER_KEYS("fast") });
}
EOF
}

# on_terminal ENV... -- CMD...: run CMD on a pseudo-terminal with the environment
# ENV, its output (what the terminal got) in tty.txt.
on_terminal() {
    local env=()
    while [[ $1 != -- ]]; do env+=("$1"); shift; done
    shift
    script -qefc "$(printf '%q ' env "${env[@]}" "$@")" tty.txt >/dev/null 2>&1 || true
}

have_script() {
    command -v script >/dev/null
}

a_terminal_gets_color_and_live_progress() {
    have_script || return 0
    write_slow_defs
    on_terminal -u NO_COLOR TERM=xterm -- "$EIDER" materialize
    expect_in tty.txt "${ESC}[32m"                   # the colored mark
    expect_in tty.txt "[1/2] 150 rows written, running: slow"
    local times
    times=$(grep -aoE 'running: slow [0-9.]+ (ms|s)' tty.txt | sort -u | wc -l)
    ((times >= 3)) || fail "the live line was not redrawn while slow ran ($times distinct times)"
    expect_in tty.txt "run succeeded"
    # once a step's line is printed, the live line no longer shows it running
    python3 - tty.txt <<'PY' || fail "the live line showed 'slow' running after its line"
import sys
t = open(sys.argv[1], "rb").read()
i = t.rfind(b"\x1b[0m slow ")
sys.exit(0 if i >= 0 and b"running: slow" not in t[i:] else 1)
PY
}

# A plain run leaves out the partitioned `daily`: the live line counts the steps that
# run (2), not the 3 assets selected.
the_live_line_counts_what_runs_not_what_was_left_out() {
    have_script || return 0
    cat >definitions.c <<'EOF'
#include <eider.h>
#include <unistd.h>
static int fast(eider_context *ctx) { eider_add_meta_int(ctx, "row_count", 150); return 0; }
static int slow(eider_context *ctx) { usleep(1200000); (void)ctx; return 0; }
void eider_definitions(eider_defs *defs)
{
    eider_asset(defs, &(eider_asset_def){ .key = "fast", .compute = fast });
    eider_asset(defs, &(eider_asset_def){ .key = "slow", .compute = slow, .deps = EIDER_KEYS("fast") });
    eider_asset(defs, &(eider_asset_def){ .key = "daily", .compute = fast,
        .partitions = eider_static_partitions(defs, EIDER_KEYS("a", "b")) });
}
EOF
    on_terminal -u NO_COLOR TERM=xterm -- "$EIDER" materialize
    expect_in tty.txt "[1/2] 150 rows written, running: slow"
    expect_in tty.txt "left out the partitioned asset 'daily'"
}

no_color_keeps_the_live_line_without_color() {
    have_script || return 0
    write_slow_defs
    on_terminal TERM=xterm NO_COLOR=1 -- "$EIDER" materialize
    expect_in tty.txt "running: slow"
    expect_not_in tty.txt "${ESC}[32m"
    expect_not_in tty.txt "${ESC}[2m"
    expect_in tty.txt "ok   slow"
}

term_dumb_gets_plain_lines() {
    have_script || return 0
    write_slow_defs
    on_terminal -u NO_COLOR TERM=dumb -- "$EIDER" materialize
    expect_not_in tty.txt "$ESC"
    expect_not_in tty.txt "running:"
    expect_in tty.txt "ok   slow"
}

json_and_pipes_get_no_live_line() {
    write_slow_defs
    if have_script; then
        on_terminal -u NO_COLOR TERM=xterm -- "$EIDER" materialize --json
        expect_not_in tty.txt "running:"
        expect_not_in tty.txt "$ESC"
    fi
    run "$EIDER" materialize
    expect_not_in out.txt "$ESC"
    expect_not_in out.txt "running:"
}

# `esc` fails with an ESC, a CR and a C1 CSI in its message and logs an ESC; `typo`
# runs SQL that DuckDB cannot parse.
write_noisy_defs() {
    cat >definitions.c <<'EOF'
#include <eider.h>
static int esc(eider_context *ctx)
{
    eider_log_warn(ctx, "log \033[31mred\033[0m");
    return eider_fail(ctx, "message \033]0;title\007 and \r back and \xc2\x9b" "31m csi");
}
static int typo(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"), "SELEC 1");
}
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "t.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "esc", .compute = esc });
    eider_asset(defs, &(eider_asset_def){ .key = "typo", .compute = typo, .resources = EIDER_KEYS("duckdb") });
}
EOF
}

# check_printed FILE: no raw control character but newline reached FILE; the escapes did.
check_printed() {
    if LC_ALL=C grep -qaP '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$1"; then
        fail "a raw control character was printed in $1"
    fi
    expect_in "$1" 'message \x1b]0;title\x07 and \x0d back and \xc2\x9b31m csi'
}

control_characters_are_escaped_where_printed_not_where_stored() {
    write_noisy_defs
    run "$EIDER" materialize --verbose
    expect_rc 1
    check_printed out.txt
    expect_in out.txt 'log \x1b[31mred\x1b[0m'
    local id
    id=$("$EIDER" runs --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["run_id"])')
    run "$EIDER" run show "$id"
    check_printed out.txt
    run "$EIDER" logs "$id"
    check_printed out.txt
    run "$EIDER" logs "$id" --json
    expect_in out.txt 'message \u001B]0;title\u0007'      # JSON keeps the text, escaped as JSON
}

duckdbs_caret_block_is_printed_once() {
    write_noisy_defs
    run "$EIDER" materialize --select typo
    expect_rc 1
    expect_eq "$(grep -c 'LINE 1: SELEC 1' out.txt)" 1 "caret blocks in materialize"
    local id
    id=$("$EIDER" runs --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["run_id"])')
    run "$EIDER" run show "$id"
    expect_eq "$(grep -c 'LINE 1: SELEC 1' out.txt)" 1 "caret blocks in run show"
    run "$EIDER" logs "$id"
    expect_eq "$(grep -c 'LINE 1: SELEC 1' out.txt)" 1 "caret blocks in logs"
}

eider_new_quotes_the_cd_hint() {
    run "$EIDER" new "my pipeline's"
    expect_rc 0
    expect_in out.txt "cd 'my pipeline'\\''s' && eider materialize"
    run "$EIDER" new -- -dash
    expect_in out.txt "cd ./-dash && eider materialize"
    run "$EIDER" new plain
    expect_in out.txt "cd plain && eider materialize"
}

help_and_messages_say_what_is_true() {
    run "$EIDER" materialize --help
    expect_in out.txt "stale(), stale(SEL)"
    write_slow_defs
    run "$EIDER" materialize --select fast
    run "$EIDER" asset wipe fast
    expect_rc 0
    expect_in out.txt "wiped the records of asset 'fast'"
    expect_not_in out.txt "partition"
}

run_case a_terminal_gets_color_and_live_progress
run_case the_live_line_counts_what_runs_not_what_was_left_out
run_case no_color_keeps_the_live_line_without_color
run_case term_dumb_gets_plain_lines
run_case json_and_pipes_get_no_live_line
run_case control_characters_are_escaped_where_printed_not_where_stored
run_case duckdbs_caret_block_is_printed_once
run_case eider_new_quotes_the_cd_hint
run_case help_and_messages_say_what_is_true
finish
