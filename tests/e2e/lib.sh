# lib.sh — what every end-to-end script shares: a temporary work folder removed on
# exit, one function per case run in its own folder and subshell, helpers that run a
# command and check its exit code and output, and the closing "N passed, M failed".
#
# Sourced by tests/e2e/test_*.sh, which ctest runs with EIDER (the binary), DQ (a
# DuckDB-only query tool), SRC (the source folder) and BUILD (the build folder).

set -euo pipefail

: "${EIDER:?set EIDER to the eider binary}"
: "${DQ:?set DQ to the dq tool}"
: "${SRC:?set SRC to the source folder}"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/eider-e2e-XXXXXX")
BACKGROUND_PIDS=()
cleanup() {
    local pid
    for pid in "${BACKGROUND_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

PASSED=0
FAILED=0
FAILED_NAMES=()
CASE=""

# Fail the current case with a message; the case's subshell ends here.
fail() {
    echo "    FAIL [$CASE]: $*" >&2
    if [[ -s out.txt || -s err.txt ]]; then
        echo "    --- stdout of the last command:" >&2
        sed 's/^/    | /' out.txt 2>/dev/null | head -40 >&2 || true
        echo "    --- stderr of the last command:" >&2
        sed 's/^/    | /' err.txt 2>/dev/null | head -40 >&2 || true
    fi
    exit 1
}

# run CMD...: run it with stdout in out.txt, stderr in err.txt, the exit code in RC.
run() {
    set +e
    "$@" >out.txt 2>err.txt
    RC=$?
    set -e
}

expect_rc() {
    [[ "$RC" == "$1" ]] || fail "expected exit code $1, got $RC"
}

# expect_in FILE TEXT: TEXT occurs (as a fixed string) in FILE.
expect_in() {
    grep -qF -- "$2" "$1" || fail "'$2' not found in $1"
}

expect_not_in() {
    if grep -qF -- "$2" "$1"; then
        fail "'$2' unexpectedly found in $1"
    fi
}

expect_eq() {
    [[ "$1" == "$2" ]] || fail "$3: expected '$2', got '$1'"
}

# check_json FILE PYTHON-EXPR: FILE parses as JSON and the expression over `d` holds.
check_json() {
    if command -v python3 >/dev/null; then
        python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" || fail "JSON in $1 does not parse or fails: $2"
    else
        grep -q '^\[\|^{' "$1" || fail "$1 does not look like JSON"
    fi
}

# dq DATABASE SQL: the rows, read by DuckDB alone.
dq() {
    "$DQ" "$1" "$2"
}

# let_others_run_eider: make eider runnable by other users (a case that runs it as
# another user calls this first, as root). The build, the sources (eider.h, for the
# compile cache's check) and DuckDB's library may sit where other users cannot reach: a
# fresh root's /root is 0700. The folders on those paths get the search bit a normal /
# has (o+x only: nothing becomes readable or listable that was not), as pg_server.sh
# does for its server.
let_others_run_eider() {
    local path dir
    for path in "$(dirname "$EIDER")" "$SRC/include" "$SRC/third_party/duckdb/lib" "$WORK"; do
        dir=$(readlink -f "$path")
        while [[ -n "$dir" ]]; do
            if [[ -d "$dir" ]] && ! (( $(stat -c '%#a' "$dir") & 1 )); then
                chmod o+x "$dir"
            fi
            [[ "$dir" == / ]] && break
            dir=$(dirname "$dir")
        done
    done
    setpriv --reuid=65534 --regid=65534 --clear-groups "$EIDER" --version >/dev/null ||
        fail "user nobody cannot run $EIDER"
}

# A copy of the example definitions folder in the current folder, without any
# database or compile cache it may carry.
copy_example() {
    cp -r "$SRC/examples/$1/." .
    rm -rf .eider ./*.duckdb ./*.duckdb.wal
}

# run_case NAME: run the function NAME in a fresh folder under WORK, in a subshell
# with errexit on, and count it.
run_case() {
    CASE=$1
    local dir="$WORK/$1" rc
    mkdir -p "$dir"
    set +e
    (
        set -euo pipefail
        cd "$dir"
        "$CASE"
    )
    rc=$?
    set -e
    if [[ $rc == 0 ]]; then
        PASSED=$((PASSED + 1))
        echo "ok   $CASE"
    else
        FAILED=$((FAILED + 1))
        FAILED_NAMES+=("$CASE")
        echo "FAIL $CASE"
    fi
}

# Print the summary and exit non-zero when a case failed.
finish() {
    if ((FAILED)); then
        echo "failed: ${FAILED_NAMES[*]}"
    fi
    echo "$PASSED passed, $FAILED failed"
    ((FAILED == 0))
}
