/*
 * test_io_custom.c — I/O managers of the user's own (eider_io_manager()): what their
 * methods are given (the asset's key, the partition keys of an output and of an input,
 * a connection where the output's SQL runs), a downstream asset loading through their
 * relation, their failures told as the step's, the required methods, free at the end,
 * and what validation refuses.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "defs/defs.h"

/* A manager that keeps one stored value per asset in memory: the sum of column x of
 * what it was given, read back as (SELECT <sum> AS x). */
typedef struct memory_manager {
    char stored_key[64];
    long long sum;
    int stored;
    char partitions_seen[128];       /* the keys of each call, "store:a|relation:a,b|" */
    int fail_store, no_relation, freed;
} memory_manager;

static int mem_exists(eider_io *io, void *user_data)
{
    (void)io;
    return ((memory_manager *)user_data)->stored;
}

static void note_keys(memory_manager *m, const char *what, eider_io *io)
{
    size_t n = 0;
    const char *const *keys = eider_io_partition_keys(io, &n);
    size_t len = strlen(m->partitions_seen);
    len += (size_t)snprintf(m->partitions_seen + len, sizeof(m->partitions_seen) - len, "%s:", what);
    for (size_t i = 0; i < n && len < sizeof(m->partitions_seen); i++)
        len += (size_t)snprintf(m->partitions_seen + len, sizeof(m->partitions_seen) - len,
                                "%s%s", i ? "," : "", keys[i]);
    snprintf(m->partitions_seen + len, sizeof(m->partitions_seen) - len, "|");
}

static char *mem_relation(eider_io *io, void *user_data)
{
    memory_manager *m = user_data;
    char *sql = NULL;
    note_keys(m, "relation", io);
    if (m->no_relation)
        return NULL;
    cr_assert(asprintf(&sql, "(SELECT %lld AS x)", m->sum) > 0);
    return sql;
}

static int mem_store(eider_io *io, const char *source, int64_t *rows, void *user_data)
{
    memory_manager *m = user_data;
    char *sql = NULL;
    duckdb_result res;
    note_keys(m, "store", io);
    if (m->fail_store)
        return eider_io_fail(io, "the shelf is full");
    cr_assert(asprintf(&sql, "SELECT CAST(sum(x) AS BIGINT), count(*) FROM (%s)", source) > 0);
    cr_assert_eq(duckdb_query(eider_io_connection(io), sql, &res), DuckDBSuccess, "%s",
                 duckdb_result_error(&res));
    duckdb_data_chunk c = duckdb_fetch_chunk(res);
    m->sum = ((int64_t *)duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 0)))[0];
    *rows = ((int64_t *)duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 1)))[0];
    duckdb_destroy_data_chunk(&c);
    duckdb_destroy_result(&res);
    free(sql);
    snprintf(m->stored_key, sizeof(m->stored_key), "%s", eider_io_asset_key(io));
    m->stored = 1;
    return EIDER_OK;
}

static void mem_free(void *user_data)
{
    ((memory_manager *)user_data)->freed++;
}

static int three_rows(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT * FROM (VALUES (1), (2), (4)) v(x)");
}

static long long loaded;
static int loads_it(eider_context *ctx)
{
    const eider_frame *f = eider_input_frame(ctx, "src");
    if (!f)
        return EIDER_ESTEP;
    eider_frame *sum = eider_frame_sql(EIDER_FRAMES({ "f", f }), "SELECT CAST(x AS BIGINT) AS x FROM f");
    loaded = sum ? eider_frame_get_int64(sum, 0, 0) : -1;
    eider_frame_free(sum);
    return EIDER_OK;
}

static eider_defs *defs_with(memory_manager *m, const eider_partitions *(*parts)(eider_defs *))
{
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_io_manager(defs, "mem", &(eider_io_manager_def){ .exists = mem_exists,
                     .relation = mem_relation, .store = mem_store, .free = mem_free,
                     .user_data = m }), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "p/src", .compute = three_rows,
                     .io_manager_key = "mem", .partitions = parts ? parts(defs) : NULL }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "down", .compute = loads_it,
                     .deps = EIDER_KEYS("p/src"), .output = EIDER_OUTPUT_NONE }), EIDER_OK);
    return defs;
}

static const char *step_error(eider_defs *defs, const char *partition, int *rc)
{
    static char out[1024];
    eider_result *r = NULL;
    *rc = eider_materialize(defs, &(eider_run_options){ .jobs = 1, .partition = partition }, &r);
    out[0] = '\0';
    for (size_t i = 0; r && !out[0] && i < eider_result_count(r); i++)
        if (eider_result_error(r, i))
            snprintf(out, sizeof(out), "%s", eider_result_error(r, i));
    eider_result_free(r);
    return out;
}

Test(io_custom, an_output_is_stored_and_loaded_downstream_through_the_relation)
{
    memory_manager m = { 0 };
    int rc;
    eider_defs *defs = defs_with(&m, NULL);
    const char *err = step_error(defs, NULL, &rc);
    cr_assert_eq(rc, EIDER_OK, "%s", err);
    cr_expect_str_eq(m.stored_key, "p/src");
    cr_expect_eq(m.sum, 7);
    cr_expect_eq(loaded, 7, "down loaded what the manager's relation reads");
    cr_expect_str_eq(m.partitions_seen, "store:|relation:|relation:|", "no partitions: none given");
    eider_defs_free(defs);
    cr_expect_eq(m.freed, 1, "free is called once, when the definitions are freed");
}

static const eider_partitions *two_parts(eider_defs *defs)
{
    return eider_static_partitions(defs, EIDER_KEYS("a", "b"));
}

Test(io_custom, the_methods_are_given_the_partition_keys_of_the_step)
{
    memory_manager m = { 0 };
    int rc;
    eider_defs *defs = defs_with(&m, two_parts);
    const char *err = step_error(defs, "b", &rc);
    cr_assert_eq(rc, EIDER_OK, "%s", err);
    cr_expect_str_eq(m.partitions_seen, "store:b|relation:b|relation:|",
                     "its output's partition, then down's input of every partition");
    eider_defs_free(defs);
}

Test(io_custom, a_missing_input_names_the_asset_and_the_manager)
{
    memory_manager m = { 0 };
    int rc;
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_io_manager(defs, "mem", &(eider_io_manager_def){ .exists = mem_exists,
                     .relation = mem_relation, .store = mem_store, .user_data = &m }), EIDER_OK);
    cr_assert_eq(eider_asset_spec(defs, &(eider_asset_spec_def){ .key = "src",
                     .io_manager_key = "mem" }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "down", .compute = loads_it,
                     .deps = EIDER_KEYS("src"), .output = EIDER_OUTPUT_NONE }), EIDER_OK);
    const char *err = step_error(defs, NULL, &rc);
    cr_expect_eq(rc, EIDER_ERUNFAILED);
    cr_expect(strstr(err, "the stored output of src in 'mem' does not exist, and 'src' is an external asset"), "%s", err);
    eider_defs_free(defs);
}

Test(io_custom, a_failing_store_and_a_missing_relation_fail_the_step_saying_so)
{
    memory_manager m = { .fail_store = 1 };
    int rc;
    eider_defs *defs = defs_with(&m, NULL);
    const char *err = step_error(defs, NULL, &rc);
    cr_expect_eq(rc, EIDER_ERUNFAILED);
    cr_expect(strstr(err, "asset 'p/src': the shelf is full"), "%s", err);
    m.fail_store = 0;
    m.no_relation = 1;
    err = step_error(defs, NULL, &rc);
    cr_expect_eq(rc, EIDER_ERUNFAILED);
    cr_expect(strstr(err, "I/O manager 'mem' gave no relation to read 'p/src' through"), "%s", err);
    eider_defs_free(defs);
}

Test(io_custom, a_manager_without_its_methods_is_refused)
{
    eider_defs *defs = eider_defs_new();
    cr_expect_eq(eider_io_manager(defs, "half", &(eider_io_manager_def){ .exists = mem_exists }),
                 EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "I/O manager 'half' needs its .exists, .relation "
                     "and .store methods"), "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_defs_validate(defs), EIDER_EINVAL, "the first error is kept");
    eider_defs_free(defs);
}

Test(io_custom, a_write_mode_is_refused_for_a_manager_of_ones_own)
{
    memory_manager m = { 0 };
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_io_manager(defs, "mem", &(eider_io_manager_def){ .exists = mem_exists,
                     .relation = mem_relation, .store = mem_store, .user_data = &m }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "src", .compute = three_rows,
                     .io_manager_key = "mem",
                     .metadata = EIDER_METADATA(EIDER_META_TEXT("write_mode", "append")) }), EIDER_OK);
    cr_expect_eq(eider_defs_validate(defs), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "its I/O manager is one of your own"), "%s",
              eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

/* ---- the optional methods (API 5): open, metadata, describe, flags ---- */

static int mem_open(eider_io *io, void *user_data)
{
    note_keys(user_data, "open", io);
    return ((memory_manager *)user_data)->fail_store == 2 ? eider_io_fail(io, "no shelf here")
                                                           : EIDER_OK;
}

static int mem_metadata(eider_io *io, const char *source, int64_t rows, void *user_data)
{
    memory_manager *m = user_data;
    char shelf[64];
    snprintf(shelf, sizeof(shelf), "sum %lld of %lld rows", m->sum, (long long)rows);
    cr_expect(strstr(source, "VALUES"), "the source is the output's query: %s", source);
    return eider_io_add_meta(io, &(eider_meta)EIDER_META_TEXT("shelf", shelf));
}

static char *mem_describe(eider_io *io, void *user_data)
{
    char *what = NULL;
    (void)user_data;
    cr_assert(asprintf(&what, "the shelf of %s", eider_io_asset_key(io)) > 0);
    return what;
}

static eider_defs *defs_with_all(memory_manager *m, unsigned flags, const char *key)
{
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_io_manager(defs, "mem", &(eider_io_manager_def){ .exists = mem_exists,
                     .relation = mem_relation, .store = mem_store, .open = mem_open,
                     .metadata = mem_metadata, .describe = mem_describe, .flags = flags,
                     .user_data = m }), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = key, .compute = three_rows,
                     .io_manager_key = "mem" }), EIDER_OK);
    return defs;
}

static int n_meta;
static const eider_meta *find_meta(const eider_result *r, const char *key, const char *name)
{
    size_t n = 0;
    const eider_meta *m = eider_result_metadata(r, (size_t)eider_result_find(r, key), &n);
    n_meta = (int)n;
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].key, name) == 0)
            return &m[i];
    return NULL;
}

Test(io_custom, a_metadata_method_reports_the_write_in_place_of_eiders_reading)
{
    memory_manager m = { 0 };
    eider_result *r = NULL;
    eider_defs *defs = defs_with_all(&m, 0, "src");
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_OK);
    const eider_meta *shelf = find_meta(r, "src", "shelf");
    cr_assert(shelf, "the metadata method's entry is recorded");
    cr_expect_str_eq(shelf->text, "sum 7 of 3 rows", "it is given store's row count");
    cr_expect_null(find_meta(r, "src", "preview"), "Eider does not read the relation itself");
    cr_expect_str_eq(m.partitions_seen, "open:|store:|", "open first, no relation asked");
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(io_custom, describe_names_the_output_in_a_missing_inputs_message)
{
    memory_manager m = { 0 };
    int rc;
    eider_defs *defs = defs_with_all(&m, 0, "src");
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "down", .compute = loads_it,
                     .deps = EIDER_KEYS("src"), .output = EIDER_OUTPUT_NONE }), EIDER_OK);
    eider_result *r = NULL;
    rc = eider_materialize(defs, &(eider_run_options){ .jobs = 1, .selection = "down" }, &r);
    cr_expect_eq(rc, EIDER_ERUNFAILED);
    const char *err = eider_result_error(r, (size_t)eider_result_find(r, "down"));
    cr_expect(err && strstr(err, "input 'src' of asset 'down': the shelf of src does not exist: "
                            "materialize 'src' first"), "%s", err ? err : "(none)");
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(io_custom, a_failing_open_fails_the_step_with_its_message)
{
    memory_manager m = { .fail_store = 2 };
    int rc;
    eider_defs *defs = defs_with_all(&m, 0, "src");
    const char *err = step_error(defs, NULL, &rc);
    cr_expect_eq(rc, EIDER_ERUNFAILED);
    cr_expect(strstr(err, "asset 'src': no shelf here"), "%s", err);
    cr_expect_eq(m.stored, 0, "store is not called");
    eider_defs_free(defs);
}

static int sql_of_src(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT x FROM {src}");
}

/* A local relation is a table of the manager's own database: an SQL output another
 * manager stores cannot read it, and is told so; without the flag it reads it. */
Test(io_custom, a_local_relation_is_refused_to_sql_of_another_manager)
{
    for (unsigned flags = 0; flags <= EIDER_IO_LOCAL_RELATION; flags++) {
        memory_manager m = { 0 }, other = { 0 };
        eider_result *r = NULL;
        eider_defs *defs = defs_with_all(&m, flags, "src");
        cr_assert_eq(eider_io_manager(defs, "other", &(eider_io_manager_def){
                         .exists = mem_exists, .relation = mem_relation, .store = mem_store,
                         .user_data = &other }), EIDER_OK);
        cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "down", .compute = sql_of_src,
                         .deps = EIDER_KEYS("src"), .io_manager_key = "other" }), EIDER_OK);
        int rc = eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r);
        const char *err = eider_result_error(r, (size_t)eider_result_find(r, "down"));
        if (flags) {
            cr_expect_eq(rc, EIDER_ERUNFAILED);
            cr_expect(err && strstr(err, "{src} is stored in another database"), "%s",
                      err ? err : "(none)");
        } else {
            cr_expect_eq(rc, EIDER_OK, "%s", err ? err : "");
            cr_expect_eq(other.sum, 7, "down read src's relation");
        }
        eider_result_free(r);
        eider_defs_free(defs);
    }
}
