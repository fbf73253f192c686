#!/usr/bin/env bash
# test_ctest.sh — properties of the test suite itself, read from ctest's own listing:
# every test has a time limit, so a hang fails instead of running until CI gives up.
source "$(dirname "$0")/lib.sh"
: "${BUILD:?set BUILD to the build folder}"

every_test_has_a_timeout() {
    ctest --test-dir "$BUILD" --show-only=json-v1 >tests.json 2>err.txt ||
        fail "ctest --show-only failed"
    local total untimed
    total=$(jq '.tests | length' tests.json)
    untimed=$(jq -r '.tests[] | select(([.properties[]? | select(.name == "TIMEOUT")
                                         | .value] | first // 0) <= 0) | .name' tests.json)
    ((total > 10)) || fail "only $total tests listed"
    [[ -z "$untimed" ]] || fail "tests without a TIMEOUT: $untimed"
}

run_case every_test_has_a_timeout
finish
