#!/usr/bin/env bash
# test_api_version.sh — definitions libraries built against an older eider.h load and
# run, their shorter structs read at their own size; a newer or unknown version is
# refused with a message that says what to do.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

duckdb_include() {
    dirname "$(find "$SRC/third_party/duckdb/" -name duckdb.h | head -1)"
}

# page_end.h: at_page_end(data, size) copies size bytes of data to end where an
# unreadable page starts, so that reading one byte past them crashes.
write_page_end_header() {
    cat >page_end.h <<'EOF'
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const void *at_page_end(const void *data, size_t size)
{
    long page = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || mprotect(p + page, page, PROT_NONE))
        return NULL;
    memcpy(p + page - size, data, size);
    return p + page - size;
}
EOF
}

# A library of API version 1: its eider_asset_def ends before .ins and its
# eider_asset_spec_def before .io_manager_key. Each struct it passes is the prefix of
# today's struct that version 1 had, placed at the very end of a page that is followed
# by an unreadable one, so reading one byte past what version 1 had crashes.
write_version_1_library() {
    write_page_end_header
    cat >old.c <<'EOF'
#define EIDER_BUILDING_LIBRARY     /* stamp the version by hand below */
#include <eider.h>
#include <stddef.h>
#include "page_end.h"

__attribute__((visibility("default"))) const int eider_definitions_api_version = 1;

static int compute(eider_context *ctx)
{
    return eider_add_meta_int(ctx, "answer", 42);
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

# A library of API version 2: its eider_input_def has no partition_mapping, so its
# .ins array has a shorter stride than today's; the array ends where an unreadable page
# starts. Two inputs with columns: reading them at today's stride crashes or misreads.
write_version_2_library() {
    write_page_end_header
    cat >v2.c <<'EOF'
#define EIDER_BUILDING_LIBRARY     /* stamp the version by hand below */
#include <eider.h>
#include "page_end.h"

__attribute__((visibility("default"))) const int eider_definitions_api_version = 2;

struct input_v2 { const char *key; const char *const *columns; };

static int source(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT 1 AS a, 2 AS b, 3 AS c");
}

static int both(eider_context *ctx)
{
    const eider_frame *l = eider_input_frame(ctx, "left"), *r = eider_input_frame(ctx, "right");
    if (!l || !r)
        return 1;
    eider_add_meta_int(ctx, "left_columns", (int64_t)eider_frame_columns(l));
    eider_add_meta_int(ctx, "right_columns", (int64_t)eider_frame_columns(r));
    return eider_output_sql(ctx, "SELECT 1 AS done");
}

void eider_definitions(eider_defs *defs)
{
    const struct input_v2 ins[] = {
        { "left", EIDER_KEYS("a") }, { "right", EIDER_KEYS("b", "c") }, { 0 },
    };
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "v2.duckdb" });
    eider_asset(defs, &(eider_asset_def){ .key = "left", .compute = source });
    eider_asset(defs, &(eider_asset_def){ .key = "right", .compute = source });
    eider_asset(defs, &(eider_asset_def){ .key = "both", .compute = both,
        .ins = at_page_end(ins, sizeof(ins)) });
}
EOF
    cc -shared -fPIC -I"$SRC/include" -I"$(duckdb_include)" -o v2.so v2.c ||
        fail "cannot build v2.so"
}

# A library of API version 3: its eider_duckdb_config and eider_duckdb_io_config end
# before .secret_config, and its eider_asset_def before .timeout_s, each at the very end
# of a readable page, so reading a newer field crashes.
write_version_3_library() {
    write_page_end_header
    cat >v3.c <<'EOF'
#define EIDER_BUILDING_LIBRARY     /* stamp the version by hand below */
#include <eider.h>
#include <stddef.h>
#include "page_end.h"

__attribute__((visibility("default"))) const int eider_definitions_api_version = 3;

static int answer(eider_context *ctx)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"),
                     "CREATE OR REPLACE TABLE t AS SELECT 42 AS answer");
}

static int stored(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT 1 AS one");
}

static int compute(eider_context *ctx)
{
    eider_add_meta_int(ctx, "answer", 3);
    return eider_output_sql(ctx, "SELECT 3 AS answer");
}

void eider_definitions(eider_defs *defs)
{
    eider_duckdb_config c = { .database = "v3.duckdb",
                              .connection_config = EIDER_TAGS("threads", "1") };
    eider_duckdb_io_config io = { .database = "v3io.duckdb" };
    eider_duckdb_resource(defs, "duckdb",
        at_page_end(&c, offsetof(eider_duckdb_config, secret_config)));
    eider_duckdb_io_manager(defs, NULL,
        at_page_end(&io, offsetof(eider_duckdb_io_config, secret_config)));
    eider_asset(defs, &(eider_asset_def){ .key = "answer", .compute = answer,
        .resources = EIDER_KEYS("duckdb") });
    eider_asset(defs, &(eider_asset_def){ .key = "stored", .compute = stored });
    eider_asset_def a = { .key = "v3_asset", .compute = compute };
    eider_asset(defs, at_page_end(&a, offsetof(eider_asset_def, timeout_s)));
}
EOF
    cc -shared -fPIC -I"$SRC/include" -I"$(duckdb_include)" -o v3.so v3.c ||
        fail "cannot build v3.so"
}

# A library of API version 4: its eider_io_manager_def ends before .open (five fields),
# at the very end of a readable page, so reading a method of version 5 crashes; the
# asset it stores is read back by a downstream one.
write_version_4_library() {
    write_page_end_header
    cat >v4.c <<'EOF'
#define EIDER_BUILDING_LIBRARY     /* stamp the version by hand below */
#include <eider.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "page_end.h"

__attribute__((visibility("default"))) const int eider_definitions_api_version = 4;

static int exists(eider_io *io, void *user_data)
{
    (void)io;
    return *(int *)user_data;
}

static char *relation(eider_io *io, void *user_data)
{
    (void)io;
    (void)user_data;
    return strdup("(SELECT * FROM kept)");
}

static int store(eider_io *io, const char *source, int64_t *rows, void *user_data)
{
    char sql[4096];
    duckdb_result res;
    snprintf(sql, sizeof(sql), "CREATE TABLE kept AS %s", source);
    if (duckdb_query(eider_io_connection(io), sql, &res) == DuckDBError) {
        int rc = eider_io_fail(io, "%s", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return rc;
    }
    duckdb_destroy_result(&res);
    *rows = 1;
    *(int *)user_data = 1;
    return EIDER_OK;
}

static int out(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT 44 AS answer");
}

static int down(eider_context *ctx)
{
    const eider_frame *f = eider_input_frame(ctx, "v4_out");
    return f ? eider_add_meta_int(ctx, "rows_read", (int64_t)eider_frame_rows(f)) : EIDER_ESTEP;
}

static int stored;

void eider_definitions(eider_defs *defs)
{
    eider_io_manager_def m = { .exists = exists, .relation = relation, .store = store,
                               .user_data = &stored };
    eider_io_manager(defs, "mine", at_page_end(&m, offsetof(eider_io_manager_def, open)));
    eider_asset(defs, &(eider_asset_def){ .key = "v4_out", .compute = out,
        .io_manager_key = "mine" });
    eider_asset(defs, &(eider_asset_def){ .key = "v4_down", .compute = down,
        .deps = EIDER_KEYS("v4_out"), .output = EIDER_OUTPUT_NONE });
}
EOF
    cc -shared -fPIC -I"$SRC/include" -I"$(duckdb_include)" -o v4.so v4.c ||
        fail "cannot build v4.so"
}

library_of_version_4_has_its_io_manager_read_at_its_size() {
    write_version_4_library
    run "$EIDER" materialize -l v4.so --jobs 1
    expect_rc 0
    expect_in out.txt "2 materialized"
    expect_in out.txt "rows_read=1"
}

library_of_version_3_has_its_duckdb_configs_read_at_their_size() {
    write_version_3_library
    run "$EIDER" materialize -l v3.so
    expect_rc 0
    expect_in out.txt "3 materialized"
}

library_of_version_3_has_no_timeout_read() {
    write_version_3_library
    run "$EIDER" materialize -l v3.so
    expect_rc 0
    expect_in out.txt "answer=3"
}

library_of_version_2_has_its_inputs_read_at_their_stride() {
    write_version_2_library
    run "$EIDER" materialize -l v2.so
    expect_rc 0
    expect_in out.txt "left_columns=1"
    expect_in out.txt "right_columns=2"
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
    bare_library future "$(sed -n 's/^#define EIDER_API_VERSION \([0-9]*\)$/\1/p' \
        "$SRC/include/eider.h") + 1"
    run "$EIDER" list -l future.so
    expect_rc 3
    expect_in err.txt "future.so'"
    expect_in err.txt "newer than this Eider's"
    expect_in err.txt "upgrade Eider"
}

library_of_version_0_is_refused() {
    bare_library zero 0
    run "$EIDER" list -l zero.so
    expect_rc 3
    expect_in err.txt "API version 0"
    expect_in err.txt "zero.so'"
}

run_case library_of_version_3_has_no_timeout_read
run_case library_of_the_previous_version_loads_and_runs
run_case library_of_version_2_has_its_inputs_read_at_their_stride
run_case library_of_version_3_has_its_duckdb_configs_read_at_their_size
run_case library_of_version_4_has_its_io_manager_read_at_its_size
run_case library_of_a_newer_version_is_refused_saying_to_upgrade
run_case library_of_version_0_is_refused
finish
