#!/usr/bin/env bash
# test_compile_cache.sh — `eider -f defs.c` compiles into .eider/cache beside the file
# once, reuses the library while the source is unchanged, and compiles again when the
# source changes.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

write_defs() {
    cat >defs.c <<'EOF'
#include <eider.h>
static int noop(eider_context *ctx) { return 0; }
void eider_definitions(eider_defs *defs)
{
    eider_asset(defs, &(eider_asset_def){ .key = "first", .compute = noop });
}
EOF
}

# The cached libraries, one per line: name, inode and mtime with nanoseconds.
cache_state() {
    local f
    for f in .eider/cache/*.so; do
        [[ -e $f ]] || continue
        stat -c '%n %i %.9Y' "$f"
    done
}

cache_count() {
    cache_state | wc -l
}

first_list_compiles_into_the_cache_beside_the_file() {
    write_defs
    run "$EIDER" list -f defs.c
    expect_rc 0
    expect_in out.txt first
    expect_eq "$(cache_count)" 1 "libraries in .eider/cache"
    ls .eider/cache/defs.c-*.so >/dev/null 2>&1 || fail "no .eider/cache/defs.c-*.so"
    ls .eider/cache/*.tmp >/dev/null 2>&1 && fail "a temporary file was left in the cache"
    true
}

second_list_does_not_recompile() {
    write_defs
    run "$EIDER" list -f defs.c
    expect_rc 0
    local before after
    before=$(cache_state)
    sleep 1.1    # a recompile would now get a visibly newer mtime
    run "$EIDER" list -f defs.c
    expect_rc 0
    expect_in out.txt first
    after=$(cache_state)
    expect_eq "$after" "$before" "the cache after the second list"
}

touching_the_source_without_changing_it_does_not_recompile() {
    write_defs
    run "$EIDER" list -f defs.c
    local before
    before=$(cache_state)
    sleep 1.1
    touch defs.c
    run "$EIDER" materialize -f defs.c
    expect_rc 0
    expect_eq "$(cache_state)" "$before" "the cache after touching the source"
}

editing_the_source_recompiles() {
    write_defs
    run "$EIDER" list -f defs.c
    expect_rc 0
    local before
    before=$(cache_state)
    sed -i 's/"first"/"second"/' defs.c
    run "$EIDER" list -f defs.c
    expect_rc 0
    expect_in out.txt second
    expect_not_in out.txt first
    expect_eq "$(cache_count)" 2 "libraries in .eider/cache after the edit"
    # the first library is untouched; the new one is another file
    local old
    old=$(head -1 <<<"$before")
    grep -qxF -- "$old" <<<"$(cache_state)" || fail "the first library changed: $old"
}

reverting_an_edit_reuses_the_first_library() {
    write_defs
    run "$EIDER" list -f defs.c
    local first
    first=$(cache_state)
    sed -i 's/"first"/"second"/' defs.c
    run "$EIDER" list -f defs.c
    expect_rc 0
    write_defs
    local before
    before=$(cache_state)
    sleep 1.1
    run "$EIDER" list -f defs.c
    expect_rc 0
    expect_in out.txt first
    expect_eq "$(cache_state)" "$before" "the cache after reverting"
    grep -qxF -- "$first" <<<"$(cache_state)" || fail "the first library was rebuilt"
}

compile_error_caches_nothing_and_a_fix_compiles() {
    write_defs
    sed -i 's/return 0;/return oops;/' defs.c
    run "$EIDER" list -f defs.c
    expect_rc 3
    expect_in err.txt "defs.c:2"
    expect_eq "$(cache_count)" 0 "libraries cached for a failed compile"
    write_defs
    run "$EIDER" list -f defs.c
    expect_rc 0
    expect_eq "$(cache_count)" 1 "libraries after the fix"
}

same_file_name_in_two_folders_gets_two_caches() {
    mkdir one two
    (cd one && write_defs)
    (cd two && write_defs && sed -i 's/"first"/"other"/' defs.c)
    run "$EIDER" list -f one/defs.c
    expect_rc 0
    expect_in out.txt first
    run "$EIDER" list -f two/defs.c
    expect_rc 0
    expect_in out.txt other
    [[ -d one/.eider/cache && -d two/.eider/cache ]] || fail "each folder should have its own cache"
}

editing_an_included_header_recompiles() {
    cat >names.h <<'EOF'
#define ASSET_NAME "from_header"
EOF
    cat >defs.c <<'EOF'
#include <eider.h>
#include "names.h"
static int noop(eider_context *ctx) { return 0; }
void eider_definitions(eider_defs *defs)
{
    eider_asset(defs, &(eider_asset_def){ .key = ASSET_NAME, .compute = noop });
}
EOF
    run "$EIDER" list -f defs.c
    expect_rc 0
    expect_in out.txt from_header
    sleep 1.1
    echo '#define ASSET_NAME "changed_header"' >names.h
    run "$EIDER" list -f defs.c
    expect_rc 0
    expect_in out.txt changed_header
    expect_not_in out.txt from_header
}

# The compiler's dependency file escapes a space in a path as "\ ": read as two
# paths, neither exists, and every command compiled again.
folder_with_spaces_does_not_recompile_until_its_header_changes() {
    mkdir "my defs"
    cat >"my defs/my names.h" <<'EOF'
#define ASSET_NAME "from_header"
EOF
    cat >"my defs/defs.c" <<'EOF'
#include <eider.h>
#include "my names.h"
static int noop(eider_context *ctx) { return 0; }
void eider_definitions(eider_defs *defs)
{
    eider_asset(defs, &(eider_asset_def){ .key = ASSET_NAME, .compute = noop });
}
EOF
    run "$EIDER" list -f "my defs/defs.c"
    expect_rc 0
    expect_in out.txt from_header
    local before
    before=$(cd "my defs" && cache_state)
    [[ -n $before ]] || fail "nothing cached in 'my defs/.eider/cache'"
    sleep 1.1    # a recompile would now get a visibly newer mtime
    run "$EIDER" list -f "my defs/defs.c"
    expect_rc 0
    expect_eq "$(cd "my defs" && cache_state)" "$before" "the cache after the second list"
    echo '#define ASSET_NAME "changed_header"' >"my defs/my names.h"
    run "$EIDER" list -f "my defs/defs.c"
    expect_rc 0
    expect_in out.txt changed_header
}

cache_keeps_the_eight_newest_libraries_of_a_source() {
    write_defs
    local i
    for i in $(seq 10); do
        sed -i "s/\"[a-z0-9_]*\", .compute/\"asset_$i\", .compute/" defs.c
        run "$EIDER" list -f defs.c
        expect_rc 0
        expect_in out.txt "asset_$i"
    done
    expect_eq "$(cache_count)" 8 "libraries in the cache after 10 versions"
    expect_eq "$(ls .eider/cache/*.so.d | wc -l)" 8 "dependency files in the cache"
}

missing_compiler_says_what_to_install() {
    write_defs
    CC=no-such-compiler run "$EIDER" list -f defs.c
    expect_rc 3
    expect_in err.txt "need a C compiler, but cannot run 'no-such-compiler'"
    expect_in err.txt "apt-get install gcc"
}

compiler_warnings_show_once_when_compiling() {
    cat >defs.c <<'EOF'
#include <eider.h>
static int noop(eider_context *ctx) { int unused; return 0; }
void eider_definitions(eider_defs *defs)
{
    eider_asset(defs, &(eider_asset_def){ .key = "first", .compute = noop });
}
EOF
    run "$EIDER" list -f defs.c
    expect_rc 0
    expect_in err.txt "defs.c:2"
    expect_in err.txt "unused variable"
    run "$EIDER" list -f defs.c
    expect_rc 0
    expect_not_in err.txt "unused variable"
}

run_case first_list_compiles_into_the_cache_beside_the_file
run_case second_list_does_not_recompile
run_case touching_the_source_without_changing_it_does_not_recompile
run_case editing_the_source_recompiles
run_case reverting_an_edit_reuses_the_first_library
run_case compile_error_caches_nothing_and_a_fix_compiles
run_case same_file_name_in_two_folders_gets_two_caches
run_case editing_an_included_header_recompiles
run_case folder_with_spaces_does_not_recompile_until_its_header_changes
run_case cache_keeps_the_eight_newest_libraries_of_a_source
run_case missing_compiler_says_what_to_install
run_case compiler_warnings_show_once_when_compiling
finish
