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

# bare_library NAME VERSION: NAME.so, a definitions library built without eider.h that
# declares API version VERSION (an expression) and defines nothing.
bare_library() {
    cat >"$1.c" <<EOF
struct eider_defs;
__attribute__((visibility("default"))) const int eider_definitions_api_version = $2;
void eider_definitions(struct eider_defs *defs);
void eider_definitions(struct eider_defs *defs) { (void)defs; }
EOF
    cc -shared -fPIC -o "$1.so" "$1.c" || fail "cannot build $1.so"
}

# write_colours_and_days LAST_DAY: definitions.c of two assets of two partitionings,
# "colours" (static: red, blue) and "days" (daily from 2024-01-01 to LAST_DAY), each
# writing one row per partition of its run, the key in column p, into p.duckdb.
write_colours_and_days() {
    cat >definitions.c <<EOF
#include <stdio.h>
#include <string.h>
#include <eider.h>
static int f(eider_context *ctx)
{
    size_t n = 0;
    const char *const *k = eider_partition_keys(ctx, &n);
    char sql[512] = "SELECT * FROM (VALUES ";
    for (size_t i = 0; i < n; i++)
        snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "%s('%s')", i ? ", " : "", k[i]);
    strncat(sql, ") t(p)", sizeof(sql) - strlen(sql) - 1);
    return eider_output_sql(ctx, sql);
}
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "p.duckdb" });
    const eider_partitions *cols = eider_static_partitions(defs, EIDER_KEYS("red", "blue"));
    const eider_partitions *days = eider_time_partitions(defs, &(eider_time_partitions_def){
        .unit = EIDER_DAILY, .start = "2024-01-01", .end = "$1" });
    eider_asset(defs, &(eider_asset_def){ .key = "colours", .compute = f, .partitions = cols,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "p")) });
    eider_asset(defs, &(eider_asset_def){ .key = "days", .compute = f, .partitions = days,
        .metadata = EIDER_METADATA(EIDER_META_TEXT("partition_expr", "p::DATE")) });
}
EOF
}

# A copy of the example definitions folder in the current folder, without any
# database or compile cache it may carry.
copy_example() {
    cp -r "$SRC/examples/$1/." .
    rm -rf .eider ./*.duckdb ./*.duckdb.wal
}

# run_case NAME: run the function NAME in a fresh folder under WORK, in a subshell
# with errexit on, and count it.
# ONLY_CASES="a b" runs only those cases of a script (while working on them).
run_case() {
    CASE=$1
    if [[ -n "${ONLY_CASES:-}" && " $ONLY_CASES " != *" $1 "* ]]; then
        return 0
    fi
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
