#!/usr/bin/env bash
# test_api_version.sh — definitions libraries built against an older eider.h load and
# run, their shorter structs read at their own size; a newer or unknown version is
# refused with a message that says what to do.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

duckdb_include() {
    dirname "$(find "$SRC/third_party/duckdb/" -name duckdb.h | head -1)"
}

# A library of API version 1: its eider_asset_def ends before .ins and its
# eider_asset_spec_def before .io_manager_key. Each struct it passes is the prefix of
# today's struct that version 1 had, placed at the very end of a page that is followed
# by an unreadable one, so reading one byte past what version 1 had crashes.
write_version_1_library() {
    cat >old.c <<'EOF'
#define EIDER_BUILDING_LIBRARY     /* stamp the version by hand below */
#include <eider.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

__attribute__((visibility("default"))) const int eider_definitions_api_version = 1;

static int compute(eider_context *ctx)
{
    return eider_add_meta_int(ctx, "answer", 42);
}

/* size bytes of def, ending where an unreadable page starts. */
static const void *at_page_end(const void *def, size_t size)
{
    long page = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || mprotect(p + page, page, PROT_NONE))
        return NULL;
    memcpy(p + page - size, def, size);
    return p + page - size;
}

void eider_definitions(eider_defs *defs)
{
    eider_asset_def a = { .key = "old_asset", .compute = compute,
                          .deps = EIDER_KEYS("old_source"), .group = "legacy" };
    eider_asset_spec_def s = { .key = "old_source" };
    eider_asset(defs, at_page_end(&a, offsetof(eider_asset_def, ins)));
    eider_asset_spec(defs, at_page_end(&s, offsetof(eider_asset_spec_def, io_manager_key)));
}
EOF
    cc -shared -fPIC -I"$SRC/include" -I"$(duckdb_include)" -o old.so old.c ||
        fail "cannot build old.so"
}

library_of_the_previous_version_loads_and_runs() {
    write_version_1_library
    run "$EIDER" list -l old.so
    expect_rc 0
    expect_in out.txt "old_asset"
    expect_in out.txt "legacy"
    run "$EIDER" materialize -l old.so --select old_asset
    expect_rc 0
    expect_in out.txt "answer=42"
}

library_of_a_newer_version_is_refused_saying_to_upgrade() {
    cat >future.c <<EOF
struct eider_defs;
__attribute__((visibility("default"))) const int eider_definitions_api_version = $(
    sed -n 's/^#define EIDER_API_VERSION \([0-9]*\)$/\1/p' "$SRC/include/eider.h") + 1;
void eider_definitions(struct eider_defs *defs);
void eider_definitions(struct eider_defs *defs) { (void)defs; }
EOF
    cc -shared -fPIC -o future.so future.c || fail "cannot build future.so"
    run "$EIDER" list -l future.so
    expect_rc 3
    expect_in err.txt "future.so'"
    expect_in err.txt "newer than this Eider's"
    expect_in err.txt "upgrade Eider"
}

library_of_version_0_is_refused() {
    cat >zero.c <<'EOF'
struct eider_defs;
__attribute__((visibility("default"))) const int eider_definitions_api_version = 0;
void eider_definitions(struct eider_defs *defs);
void eider_definitions(struct eider_defs *defs) { (void)defs; }
EOF
    cc -shared -fPIC -o zero.so zero.c || fail "cannot build zero.so"
    run "$EIDER" list -l zero.so
    expect_rc 3
    expect_in err.txt "API version 0"
    expect_in err.txt "zero.so'"
}

run_case library_of_the_previous_version_loads_and_runs
run_case library_of_a_newer_version_is_refused_saying_to_upgrade
run_case library_of_version_0_is_refused
finish
