#!/usr/bin/env bash
# test_fuzz_build.sh — a fuzzing tree (-DEIDER_FUZZ=ON) configures where Criterion is
# missing, instruments libeider's own objects for libFuzzer (not only the harnesses),
# has a target for every fuzz_*.c, and says what it needs when the compiler is not
# clang. Only CMake's configure step runs (scripts/fuzz builds and runs the targets).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v clang >/dev/null || { echo "skipped: clang is missing (scripts/setup.sh --fuzz)"; exit 0; }

# A pkg-config folder that has every package of this machine but Criterion.
pkgconfig_without_criterion() {
    local dir path pc
    mkdir -p pc
    IFS=: read -ra dirs <<<"$(pkg-config --variable pc_path pkg-config)"
    for path in "${dirs[@]}"; do
        for pc in "$path"/*.pc; do
            [[ -e "$pc" && "$(basename "$pc")" != criterion.pc && ! -e "pc/$(basename "$pc")" ]] &&
                ln -s "$pc" "pc/$(basename "$pc")"
        done
    done
    PKG_CONFIG_LIBDIR=$PWD/pc pkg-config --exists criterion && fail "criterion is still visible"
    PKG_CONFIG_LIBDIR=$PWD/pc pkg-config --exists jansson || fail "jansson is missing from pc/"
}

a_fuzzing_tree_configures_without_criterion_and_instruments_the_library() {
    pkgconfig_without_criterion
    run env PKG_CONFIG_LIBDIR="$PWD/pc" cmake -S "$SRC" -B tree -DCMAKE_C_COMPILER=clang \
        -DEIDER_FUZZ=ON -DEIDER_BENCH=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
    expect_rc 0
    expect_in out.txt "Criterion not found: the unit tests are left out"
    python3 - tree/compile_commands.json "$SRC" <<'EOF' || fail "compile commands are not as expected"
import json, os, sys
commands = json.load(open(sys.argv[1]))
src = sys.argv[2]
def flags(path):
    return [c["command"] for c in commands if os.path.realpath(c["file"]) == os.path.realpath(os.path.join(src, path))]
for path in ("src/store/store.c", "src/defs/select.c", "src/duckdb/frame.c", "cli/cli.c"):
    got = flags(path)
    assert got and all("-fsanitize=fuzzer-no-link" in c for c in got), (path, got)
for path in os.listdir(os.path.join(src, "tests/fuzz")):
    if path.startswith("fuzz_") and path.endswith(".c"):
        got = flags("tests/fuzz/" + path)
        assert got and all("-fsanitize=fuzzer" in c for c in got), (path, got)
assert not any("/tests/unit/" in c["file"] for c in commands), "unit tests need Criterion"
EOF
}

a_fuzzing_tree_with_gcc_says_it_needs_clang() {
    run cmake -S "$SRC" -B tree -DCMAKE_C_COMPILER=gcc -DEIDER_FUZZ=ON -DEIDER_BENCH=OFF
    [[ $RC != 0 ]] || fail "configured with gcc"
    expect_in err.txt "EIDER_FUZZ needs clang"
}

run_case a_fuzzing_tree_configures_without_criterion_and_instruments_the_library
run_case a_fuzzing_tree_with_gcc_says_it_needs_clang
finish
