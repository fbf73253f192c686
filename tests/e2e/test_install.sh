#!/usr/bin/env bash
# test_install.sh — `cmake --install` gives a usable Eider: the library, the headers and
# eider.pc let a program that links libeider be Eider's command line (eider_main), and
# the installed `eider` compiles definitions against the installed header.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${BUILD:?set BUILD to the build folder}"

PREFIX="$WORK/prefix"
cmake --install "$BUILD" --prefix "$PREFIX" >/dev/null

write_pipeline() {
    cat >pipeline.c <<'C'
#include <eider.h>

static int numbers(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "duckdb");
    eider_log_info(ctx, "making %s", eider_asset_key(ctx));
    return eider_sql(ctx, con, "CREATE OR REPLACE TABLE numbers AS SELECT range AS n FROM range(7)");
}

int main(int argc, char **argv)
{
    eider_defs *defs = eider_defs_new();
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "linked.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "numbers", .compute = numbers,
                                          .resources = EIDER_KEYS("duckdb") });
    int code = eider_main(defs, argc, argv);
    eider_defs_free(defs);
    return code;
}
C
}

install_lays_out_library_headers_and_pkg_config() {
    for f in bin/eider include/eider.h include/duckdb.h lib/libeider.so lib/libeider.a \
             lib/libduckdb.so lib/pkgconfig/eider.pc; do
        [[ -e "$PREFIX/$f" ]] || fail "$f is not installed"
    done
}

program_linked_with_pkg_config_runs_eider_main() {
    write_pipeline
    run cc ${PROGRAM_CFLAGS:-} pipeline.c -o pipeline $(PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" pkg-config --cflags --libs eider)
    expect_rc 0
    run ./pipeline materialize --verbose
    expect_rc 0
    expect_in out.txt "making numbers"
    expect_in out.txt "1 materialized, 0 failed"
    expect_eq "$(dq linked.duckdb 'SELECT sum(n) FROM numbers')" 21 "sum of numbers"
    run ./pipeline list --json
    expect_rc 0
    expect_in out.txt '"key": "numbers"'
}

program_with_eider_main_reports_bad_selection() {
    write_pipeline
    run cc ${PROGRAM_CFLAGS:-} pipeline.c -o pipeline $(PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" pkg-config --cflags --libs eider)
    expect_rc 0
    run ./pipeline materialize --select 'numbrs'
    expect_rc 4
    expect_in err.txt "did you mean 'numbers'"
    run ./pipeline list -f other.c
    expect_rc 2
    expect_in err.txt "this program builds its own definitions"
}

installed_eider_compiles_definitions_against_installed_header() {
    copy_example duckdb_resource
    run env -u EIDER_INCLUDE "$PREFIX/bin/eider" materialize -f definitions.c
    expect_rc 0
    expect_in out.txt "2 materialized"
    expect_eq "$(dq my_duckdb_database.duckdb 'SELECT count(*) FROM iris.iris_setosa')" 50 "setosa rows"
}

terminal_gets_a_live_status_and_marks() {
    command -v script >/dev/null || fail "the 'script' program (bsdutils) is missing"
    copy_example duckdb_resource
    run script -qec "$EIDER materialize -f definitions.c" /dev/null
    expect_rc 0
    expect_in out.txt "✓"
    expect_in out.txt "running"
    run "$EIDER" materialize -f definitions.c
    expect_not_in out.txt "running"
    expect_in out.txt "ok   iris_setosa"
}

library_built_with_hidden_visibility_still_loads() {
    cat >hidden.c <<'EOF'
#include <eider.h>
static int noop(eider_context *ctx) { return 0; }
void eider_definitions(eider_defs *defs)
{
    eider_asset(defs, &(eider_asset_def){ .key = "from_hidden", .compute = noop });
}
EOF
    run cc -shared -fPIC -fvisibility=hidden -I"$PREFIX/include" hidden.c -o hidden.so
    expect_rc 0
    run "$EIDER" materialize -l hidden.so
    expect_rc 0
    expect_in out.txt "ok   from_hidden"
}

definitions_in_cxx_load_and_run() {
    command -v c++ >/dev/null || fail "no C++ compiler: scripts/setup.sh --test installs g++"
    cat >defs.cc <<'EOF'
#include <eider.h>
#include <string>

static int greet(eider_context *ctx)
{
    std::string key = eider_asset_key(ctx);
    eider_log_info(ctx, "hello from %s in C++", key.c_str());
    return 0;
}

void eider_definitions(eider_defs *defs)
{
    eider_asset_def def = {};
    def.key = "from_cxx";
    def.compute = greet;
    eider_asset(defs, &def);
}
EOF
    run c++ -shared -fPIC -fvisibility=hidden -I"$PREFIX/include" defs.cc -o cxx.so
    expect_rc 0
    run "$EIDER" materialize -l cxx.so --verbose
    expect_rc 0
    expect_in out.txt "hello from from_cxx in C++"
}

run_case install_lays_out_library_headers_and_pkg_config
run_case program_linked_with_pkg_config_runs_eider_main
run_case program_with_eider_main_reports_bad_selection
run_case installed_eider_compiles_definitions_against_installed_header
run_case terminal_gets_a_live_status_and_marks
run_case library_built_with_hidden_visibility_still_loads
run_case definitions_in_cxx_load_and_run
finish
