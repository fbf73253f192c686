/*
 * test_defs.c — the definitions registry: keys and key prefixes, defaults, copying of
 * everything passed in, the errors found while adding and by validation (duplicates,
 * unknown dependencies with a suggestion, cycles, unknown resources), external assets,
 * the names and messages of the error codes, and the DuckDB files a selection may open.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "defs/defs.h"

static int noop(eider_context *ctx)
{
    return 0;
}

static void add(eider_defs *defs, const eider_asset_def *def)
{
    cr_assert_eq(eider_asset(defs, def), EIDER_OK, "%s", eider_defs_errmsg(defs));
}

static void info_of(eider_defs *defs, const char *key, eider_asset_info *info)
{
    long i = eider_defs_find(defs, key);
    cr_assert_geq(i, 0, "no asset '%s'", key);
    cr_assert_eq(eider_defs_info(defs, (size_t)i, info), EIDER_OK);
}

static size_t strv_len(const char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

/* ---- keys ---- */

Test(defs, multi_part_key_is_kept_whole)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "iris/raw/iris_dataset", .compute = noop });
    cr_assert_eq(eider_defs_validate(defs), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_defs_count(defs), 1);
    cr_expect_str_eq(eider_defs_key(defs, 0), "iris/raw/iris_dataset");
    cr_expect_eq(eider_defs_find(defs, "iris/raw/iris_dataset"), 0);
    cr_expect_eq(eider_defs_find(defs, "iris_dataset"), -1);
    eider_defs_free(defs);
}

Test(defs, key_prefix_is_prepended_with_a_slash)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "iris_setosa", .key_prefix = "warehouse/iris",
                                  .compute = noop });
    add(defs, &(eider_asset_def){ .key = "b/c", .key_prefix = "a", .compute = noop });
    cr_assert_eq(eider_defs_validate(defs), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_str_eq(eider_defs_key(defs, 0), "warehouse/iris/iris_setosa");
    cr_expect_str_eq(eider_defs_key(defs, 1), "a/b/c");
    cr_expect_eq(eider_defs_find(defs, "a/b/c"), 1);
    eider_defs_free(defs);
}

Test(defs, empty_key_prefix_leaves_the_key_alone)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "x", .key_prefix = "", .compute = noop });
    cr_expect_str_eq(eider_defs_key(defs, 0), "x");
    eider_defs_free(defs);
}

Test(defs, malformed_keys_are_refused_with_einval)
{
    const char *bad[] = { "", "/a", "a/", "a//b", "tab\there" };
    for (size_t i = 0; i < EIDER__ARRAY_LEN(bad); i++) {
        eider_defs *defs = eider_defs_new();
        cr_expect_eq(eider_asset(defs, &(eider_asset_def){ .key = bad[i], .compute = noop }),
                     EIDER_EINVAL, "key '%s' was accepted", bad[i]);
        cr_expect_eq(eider_defs_count(defs), 0, "key '%s' was added", bad[i]);
        cr_expect_eq(eider_defs_validate(defs), EIDER_EINVAL, "key '%s'", bad[i]);
        eider_defs_free(defs);
    }
}

Test(defs, null_key_is_refused_with_einval)
{
    eider_defs *defs = eider_defs_new();
    cr_expect_eq(eider_asset(defs, &(eider_asset_def){ .compute = noop }), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "not valid"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

Test(defs, malformed_key_prefix_is_refused)
{
    eider_defs *defs = eider_defs_new();
    cr_expect_eq(eider_asset(defs, &(eider_asset_def){ .key = "x", .key_prefix = "a//b",
                                                       .compute = noop }), EIDER_EINVAL);
    eider_defs_free(defs);
}

/* ---- defaults and copies ---- */

Test(defs, group_defaults_to_default)
{
    eider_defs *defs = eider_defs_new();
    eider_asset_info info;
    add(defs, &(eider_asset_def){ .key = "a", .compute = noop });
    add(defs, &(eider_asset_def){ .key = "b", .compute = noop, .group = "" });
    cr_assert_eq(eider_asset_spec(defs, &(eider_asset_spec_def){ .key = "c" }), EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "d", .compute = noop, .group = "iris" });
    cr_assert_eq(eider_defs_validate(defs), EIDER_OK, "%s", eider_defs_errmsg(defs));
    info_of(defs, "a", &info);
    cr_expect_str_eq(info.group, "default");
    info_of(defs, "b", &info);
    cr_expect_str_eq(info.group, "default");
    info_of(defs, "c", &info);
    cr_expect_str_eq(info.group, "default");
    info_of(defs, "d", &info);
    cr_expect_str_eq(info.group, "iris");
    eider_defs_free(defs);
}

Test(defs, absent_optional_fields_read_as_null_or_empty_lists)
{
    eider_defs *defs = eider_defs_new();
    eider_asset_info info;
    add(defs, &(eider_asset_def){ .key = "a", .compute = noop });
    info_of(defs, "a", &info);
    cr_expect_null(info.description);
    cr_expect_null(info.code_version);
    cr_expect_eq(info.external, 0);
    cr_assert_not_null(info.deps);
    cr_assert_not_null(info.tags);
    cr_assert_not_null(info.kinds);
    cr_assert_not_null(info.owners);
    cr_assert_not_null(info.resources);
    cr_assert_not_null(info.metadata);
    cr_expect_eq(strv_len(info.deps) + strv_len(info.tags) + strv_len(info.kinds) +
                 strv_len(info.owners) + strv_len(info.resources), 0);
    cr_expect_null(info.metadata[0].key);
    eider_defs_free(defs);
}

Test(defs, every_string_and_list_is_copied_not_borrowed)
{
    char key[] = "orig_key", prefix[] = "pre", group[] = "orig_group", desc[] = "orig desc";
    char cv[] = "v1", dep[] = "up", tk[] = "tier", tv[] = "gold", kind[] = "duckdb";
    char owner[] = "team:data", res[] = "db", mk[] = "source", mt[] = "UCI";
    const char *deps[] = { dep, NULL }, *tags[] = { tk, tv, NULL }, *kinds[] = { kind, NULL };
    const char *owners[] = { owner, NULL }, *resources[] = { res, NULL };
    eider_meta meta[] = { { .key = mk, .type = EIDER_META_TEXT, .text = mt },
                          { .key = "n", .type = EIDER_META_INT, .i = 7 }, { 0 } };
    eider_defs *defs = eider_defs_new();
    eider_asset_info info;
    eider_duckdb_resource(defs, "db", &(eider_duckdb_config){ .database = ":memory:" });
    add(defs, &(eider_asset_def){ .key = "up", .compute = noop });
    add(defs, &(eider_asset_def){ .key = key, .key_prefix = prefix, .compute = noop,
        .description = desc, .group = group, .code_version = cv, .deps = deps, .tags = tags,
        .kinds = kinds, .owners = owners, .resources = resources, .metadata = meta });
    /* the caller reuses every buffer and array */
    memset(key, 'X', sizeof(key) - 1);
    memset(prefix, 'X', sizeof(prefix) - 1);
    memset(group, 'X', sizeof(group) - 1);
    memset(desc, 'X', sizeof(desc) - 1);
    memset(cv, 'X', sizeof(cv) - 1);
    memset(dep, 'X', sizeof(dep) - 1);
    memset(tk, 'X', sizeof(tk) - 1);
    memset(tv, 'X', sizeof(tv) - 1);
    memset(kind, 'X', sizeof(kind) - 1);
    memset(owner, 'X', sizeof(owner) - 1);
    memset(res, 'X', sizeof(res) - 1);
    memset(mk, 'X', sizeof(mk) - 1);
    memset(mt, 'X', sizeof(mt) - 1);
    deps[0] = tags[0] = kinds[0] = owners[0] = resources[0] = "changed";
    meta[0].type = EIDER_META_INT;
    meta[1].i = 99;
    cr_assert_eq(eider_defs_validate(defs), EIDER_OK, "%s", eider_defs_errmsg(defs));
    info_of(defs, "pre/orig_key", &info);
    cr_expect_str_eq(info.key, "pre/orig_key");
    cr_expect_str_eq(info.group, "orig_group");
    cr_expect_str_eq(info.description, "orig desc");
    cr_expect_str_eq(info.code_version, "v1");
    cr_assert_eq(strv_len(info.deps), 1);
    cr_expect_str_eq(info.deps[0], "up");
    cr_assert_eq(strv_len(info.tags), 2);
    cr_expect_str_eq(info.tags[0], "tier");
    cr_expect_str_eq(info.tags[1], "gold");
    cr_assert_eq(strv_len(info.kinds), 1);
    cr_expect_str_eq(info.kinds[0], "duckdb");
    cr_assert_eq(strv_len(info.owners), 1);
    cr_expect_str_eq(info.owners[0], "team:data");
    cr_assert_eq(strv_len(info.resources), 1);
    cr_expect_str_eq(info.resources[0], "db");
    cr_assert_str_eq(info.metadata[0].key, "source");
    cr_expect_eq(info.metadata[0].type, EIDER_META_TEXT);
    cr_expect_str_eq(info.metadata[0].text, "UCI");
    cr_assert_str_eq(info.metadata[1].key, "n");
    cr_expect_eq(info.metadata[1].i, 7);
    cr_expect_null(info.metadata[2].key);
    eider_defs_free(defs);
}

Test(defs, asset_spec_fields_are_copied_and_marked_external)
{
    char key[] = "harvest", desc[] = "from another team", kind[] = "csv";
    const char *kinds[] = { kind, NULL };
    eider_defs *defs = eider_defs_new();
    eider_asset_info info;
    cr_assert_eq(eider_asset_spec(defs, &(eider_asset_spec_def){ .key = key, .key_prefix = "iris",
        .description = desc, .kinds = kinds, .group = "ingest" }), EIDER_OK);
    memset(key, 'X', sizeof(key) - 1);
    memset(desc, 'X', sizeof(desc) - 1);
    memset(kind, 'X', sizeof(kind) - 1);
    info_of(defs, "iris/harvest", &info);
    cr_expect_eq(info.external, 1);
    cr_expect_str_eq(info.description, "from another team");
    cr_expect_str_eq(info.kinds[0], "csv");
    cr_expect_str_eq(info.group, "ingest");
    cr_expect_eq(strv_len(info.resources), 0);
    eider_defs_free(defs);
}

Test(defs, odd_number_of_tags_is_an_error_naming_the_tag)
{
    eider_defs *defs = eider_defs_new();
    cr_expect_eq(eider_asset(defs, &(eider_asset_def){ .key = "a", .compute = noop,
                                  .tags = EIDER_TAGS("tier", "gold", "lonely") }), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "'lonely'"), "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_defs_validate(defs), EIDER_EINVAL);
    eider_defs_free(defs);
}

Test(defs, asset_without_compute_function_is_an_error)
{
    eider_defs *defs = eider_defs_new();
    cr_expect_eq(eider_asset(defs, &(eider_asset_def){ .key = "a" }), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "'a' has no compute function"), "%s",
              eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

Test(defs, negative_retry_settings_are_an_error)
{
    eider_defs *defs = eider_defs_new();
    cr_expect_eq(eider_asset(defs, &(eider_asset_def){ .key = "a", .compute = noop,
                                  .retry = { .max_retries = -1 } }), EIDER_EINVAL);
    eider_defs_free(defs);
}

/* ---- errors ---- */

Test(defs, duplicate_key_is_refused_and_remembered_for_validate)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "iris/setosa", .compute = noop });
    cr_expect_eq(eider_asset(defs, &(eider_asset_def){ .key = "setosa", .key_prefix = "iris",
                                                       .compute = noop }), EIDER_EDUPLICATE);
    cr_expect(strstr(eider_defs_errmsg(defs), "'iris/setosa' is defined twice"), "%s",
              eider_defs_errmsg(defs));
    cr_expect_eq(eider_defs_count(defs), 1);
    /* a later, valid asset does not hide the first error */
    add(defs, &(eider_asset_def){ .key = "other", .compute = noop });
    cr_expect_eq(eider_defs_validate(defs), EIDER_EDUPLICATE);
    cr_expect(strstr(eider_defs_errmsg(defs), "'iris/setosa' is defined twice"), "%s",
              eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

Test(defs, duplicate_between_asset_and_asset_spec_is_refused)
{
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_asset_spec(defs, &(eider_asset_spec_def){ .key = "x" }), EIDER_OK);
    cr_expect_eq(eider_asset(defs, &(eider_asset_def){ .key = "x", .compute = noop }),
                 EIDER_EDUPLICATE);
    eider_defs_free(defs);
}

Test(defs, duplicate_resource_name_is_refused)
{
    eider_defs *defs = eider_defs_new();
    eider_duckdb_config c = { .database = ":memory:" };
    cr_assert_eq(eider_duckdb_resource(defs, "duckdb", &c), EIDER_OK);
    cr_expect_eq(eider_duckdb_resource(defs, "duckdb", &c), EIDER_EDUPLICATE);
    cr_expect(strstr(eider_defs_errmsg(defs), "resource 'duckdb' is defined twice"), "%s",
              eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

Test(defs, unknown_dep_suggests_the_closest_key)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "iris_dataset", .compute = noop });
    add(defs, &(eider_asset_def){ .key = "iris_setosa", .compute = noop,
                                  .deps = EIDER_KEYS("iris_datset") });
    cr_assert_eq(eider_defs_validate(defs), EIDER_EUNKNOWNDEP);
    cr_expect_str_eq(eider_defs_errmsg(defs),
        "asset 'iris_setosa' depends on unknown asset 'iris_datset' "
        "(did you mean 'iris_dataset'?)");
    eider_defs_free(defs);
}

Test(defs, unknown_dep_with_nothing_close_says_how_to_declare_it)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "iris_setosa", .compute = noop,
                                  .deps = EIDER_KEYS("weather_stations") });
    cr_assert_eq(eider_defs_validate(defs), EIDER_EUNKNOWNDEP);
    const char *msg = eider_defs_errmsg(defs);
    cr_expect(strstr(msg, "unknown asset 'weather_stations'"), "%s", msg);
    cr_expect(!strstr(msg, "did you mean"), "%s", msg);
    cr_expect(strstr(msg, "eider_asset_spec()"), "%s", msg);
    eider_defs_free(defs);
}

/* Suggesting that an asset depend on itself would only turn one error into a cycle. */
Test(defs, unknown_dep_never_suggests_the_asset_itself)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "stage_2", .compute = noop,
                                  .deps = EIDER_KEYS("stage_1") });
    cr_assert_eq(eider_defs_validate(defs), EIDER_EUNKNOWNDEP);
    cr_expect(!strstr(eider_defs_errmsg(defs), "did you mean 'stage_2'"), "%s",
              eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

Test(defs, dependency_on_an_asset_spec_is_known)
{
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_asset_spec(defs, &(eider_asset_spec_def){ .key = "raw" }), EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "clean", .compute = noop, .deps = EIDER_KEYS("raw") });
    cr_expect_eq(eider_defs_validate(defs), EIDER_OK, "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

Test(defs, cycle_error_prints_the_cycle_path)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "root", .compute = noop });
    /* c -> a -> b -> c, read as "upstream -> downstream"; d hangs below the cycle */
    add(defs, &(eider_asset_def){ .key = "a", .compute = noop, .deps = EIDER_KEYS("c", "root") });
    add(defs, &(eider_asset_def){ .key = "b", .compute = noop, .deps = EIDER_KEYS("a") });
    add(defs, &(eider_asset_def){ .key = "c", .compute = noop, .deps = EIDER_KEYS("b") });
    add(defs, &(eider_asset_def){ .key = "d", .compute = noop, .deps = EIDER_KEYS("a") });
    cr_assert_eq(eider_defs_validate(defs), EIDER_ECYCLE);
    const char *msg = eider_defs_errmsg(defs);
    int found = strstr(msg, "'a' -> 'b' -> 'c' -> 'a'") || strstr(msg, "'b' -> 'c' -> 'a' -> 'b'") ||
                strstr(msg, "'c' -> 'a' -> 'b' -> 'c'");
    cr_expect(found, "the cycle path is missing from: %s", msg);
    cr_expect(!strstr(msg, "'d'") && !strstr(msg, "'root'"), "not in the cycle: %s", msg);
    cr_expect(strstr(msg, "dependency cycle"), "%s", msg);
    eider_defs_free(defs);
}

Test(defs, self_dependency_is_a_cycle_of_one)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "a", .compute = noop, .deps = EIDER_KEYS("a") });
    cr_assert_eq(eider_defs_validate(defs), EIDER_ECYCLE);
    cr_expect(strstr(eider_defs_errmsg(defs), "'a' -> 'a'"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

Test(defs, asset_needing_an_undefined_resource_fails_validation)
{
    eider_defs *defs = eider_defs_new();
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = ":memory:" });
    add(defs, &(eider_asset_def){ .key = "a", .compute = noop,
                                  .resources = EIDER_KEYS("duckdb", "warehouse") });
    cr_assert_eq(eider_defs_validate(defs), EIDER_ENORESOURCE);
    cr_expect(strstr(eider_defs_errmsg(defs), "asset 'a' needs resource 'warehouse'"), "%s",
              eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

Test(defs, materialize_refuses_invalid_definitions_without_a_result)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = (eider_result *)1;
    add(defs, &(eider_asset_def){ .key = "a", .compute = noop, .deps = EIDER_KEYS("nope") });
    cr_expect_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r),
                 EIDER_EUNKNOWNDEP);
    cr_expect_null(r);
    cr_expect(strstr(eider_defs_errmsg(defs), "'nope'"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

Test(defs, validate_succeeds_again_after_an_error_is_fixed_by_adding_the_dep)
{
    eider_defs *defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "b", .compute = noop, .deps = EIDER_KEYS("a") });
    cr_expect_eq(eider_defs_validate(defs), EIDER_EUNKNOWNDEP);
    add(defs, &(eider_asset_def){ .key = "a", .compute = noop });
    cr_expect_eq(eider_defs_validate(defs), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_str_eq(eider_defs_errmsg(defs), "");
    eider_defs_free(defs);
}

/* ---- external assets ---- */

static atomic_int ran_count;

static int count_run(eider_context *ctx)
{
    atomic_fetch_add(&ran_count, 1);
    return 0;
}

Test(defs, external_asset_is_in_the_graph_but_never_executed)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    unsigned char sel[2];
    cr_assert_eq(eider_asset_spec(defs, &(eider_asset_spec_def){ .key = "iris_harvest_data" }),
                 EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "iris_clean", .compute = count_run,
                                  .deps = EIDER_KEYS("iris_harvest_data") });
    cr_assert_eq(eider_defs_validate(defs), EIDER_OK, "%s", eider_defs_errmsg(defs));
    /* in the graph: selection traverses it */
    cr_assert_eq(eider_defs_select(defs, "iris_harvest_data+", sel), EIDER_OK);
    cr_expect(sel[0] && sel[1]);
    /* never executed: no step for it, and its downstream is not skipped */
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 2 }, &r), EIDER_OK);
    cr_expect_eq(eider_result_count(r), 1);
    cr_expect_eq(eider_result_find(r, "iris_harvest_data"), -1);
    long i = eider_result_find(r, "iris_clean");
    cr_assert_geq(i, 0);
    cr_expect_eq(eider_result_status(r, (size_t)i), EIDER_STEP_SUCCESS);
    cr_expect_eq(ran_count, 1);
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(defs, selecting_only_an_external_asset_runs_no_steps)
{
    eider_defs *defs = eider_defs_new();
    eider_result *r = NULL;
    cr_assert_eq(eider_asset_spec(defs, &(eider_asset_spec_def){ .key = "ext" }), EIDER_OK);
    add(defs, &(eider_asset_def){ .key = "down", .compute = count_run, .deps = EIDER_KEYS("ext") });
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .selection = "ext", .jobs = 2 },
                                   &r), EIDER_OK);
    cr_expect_eq(eider_result_count(r), 0);
    cr_expect_eq(ran_count, 0);
    eider_result_free(r);
    eider_defs_free(defs);
}

/* ---- error codes ---- */

Test(defs, every_error_code_has_its_name_and_message)
{
#define CHECK_CODE(name, code, msg)                                                         \
    cr_expect_str_eq(eider_errname(code), "EIDER_E" #name);                                  \
    cr_expect_str_eq(eider_strerror(code), msg);                                             \
    cr_expect_eq(EIDER_E##name, code);
    EIDER_ERRNO_MAP(CHECK_CODE)
#undef CHECK_CODE
    cr_expect_str_eq(eider_errname(EIDER_OK), "EIDER_OK");
    cr_expect_str_eq(eider_strerror(EIDER_OK), "success");
}

Test(defs, error_codes_are_distinct_and_negative)
{
    int codes[] = {
#define CODE(name, code, msg) code,
        EIDER_ERRNO_MAP(CODE)
#undef CODE
    };
    for (size_t i = 0; i < EIDER__ARRAY_LEN(codes); i++) {
        cr_expect_lt(codes[i], 0);
        for (size_t j = i + 1; j < EIDER__ARRAY_LEN(codes); j++)
            cr_expect_neq(codes[i], codes[j]);
    }
}

Test(defs, unknown_error_code_has_a_name_and_message)
{
    cr_expect_str_eq(eider_errname(12345), "EIDER_EUNKNOWN");
    cr_expect_str_eq(eider_strerror(-999), "unknown error");
}

Test(defs, free_and_errmsg_accept_null)
{
    eider_defs_free(NULL);
    cr_expect_str_eq(eider_defs_errmsg(NULL), "");
    cr_expect_eq(eider_defs_count(NULL), 0);
    cr_expect_eq(eider_defs_find(NULL, "a"), -1);
}

static int noop_compute(eider_context *ctx)
{
    return 0;
}

Test(defs, retry_policy_out_of_range_is_refused)
{
    eider_retry_policy bad[] = {
        { .max_retries = 2, .delay_ms = 1, .backoff = 1e300 },
        { .max_retries = 2, .delay_ms = 1, .backoff = __builtin_nan("") },
        { .max_retries = 2, .delay_ms = 1, .jitter = -1 },
        { .max_retries = 5000 },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        eider_defs *defs = eider_defs_new();
        cr_expect_eq(eider_asset(defs, &(eider_asset_def){ .key = "a", .compute = noop_compute,
                                                           .retry = bad[i] }), EIDER_EINVAL);
        cr_expect(strstr(eider_defs_errmsg(defs), "retry") != NULL, "%s", eider_defs_errmsg(defs));
        eider_defs_free(defs);
    }
}

/* ---- the DuckDB files a selection may open ---- */

/* a (declares "a"), b (declares none: may connect to any DuckDB resource), c (stores
 * through the I/O manager "io" and reads b), m (declares the in-memory resource). */
static eider_defs *files_defs(void)
{
    eider_defs *defs = eider_defs_new();
    eider_duckdb_resource(defs, "a", &(eider_duckdb_config){ .database = "a.duckdb" });
    eider_duckdb_resource(defs, "a2", &(eider_duckdb_config){ .database = "./a.duckdb" });
    eider_duckdb_resource(defs, "b", &(eider_duckdb_config){ .database = "b.duckdb" });
    eider_duckdb_resource(defs, "mem", &(eider_duckdb_config){ .database = ":memory:" });
    eider_duckdb_io_manager(defs, "io", &(eider_duckdb_io_config){ .database = "io.duckdb" });
    eider_parquet_io_manager(defs, "pq", &(eider_parquet_io_config){ .base_path = "pq" });
    add(defs, &(eider_asset_def){ .key = "a", .compute = noop, .resources = EIDER_KEYS("a") });
    add(defs, &(eider_asset_def){ .key = "b", .compute = noop });
    add(defs, &(eider_asset_def){ .key = "c", .compute = noop, .io_manager_key = "io",
                                  .deps = EIDER_KEYS("b"), .resources = EIDER_KEYS("a2") });
    add(defs, &(eider_asset_def){ .key = "m", .compute = noop, .resources = EIDER_KEYS("mem"),
                                  .io_manager_key = "pq" });
    add(defs, &(eider_asset_def){ .key = "d", .compute = noop, .deps = EIDER_KEYS("c"),
                                  .resources = EIDER_KEYS("mem") });
    cr_assert_eq(eider_defs_validate(defs), EIDER_OK, "%s", eider_defs_errmsg(defs));
    return defs;
}

/* The files of selection, as base names joined by ' '. */
static void files_of(eider_defs *defs, const char *selection, char *out, size_t size)
{
    unsigned char sel[8];
    char **files = NULL;
    size_t n = 0, len = 0;
    cr_assert_eq(eider_defs_select(defs, selection, sel), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_assert_eq(eider_defs_databases(defs, sel, &files, &n), EIDER_OK);
    cr_assert_null(files[n]);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(files[i][0], '/', "not an absolute path: %s", files[i]);
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? " " : "", strrchr(files[i], '/') + 1);
    }
    eider_keys_free(files, n);
}

Test(defs, databases_of_declared_resources_and_io_managers)
{
    eider_defs *defs = files_defs();
    char got[256];
    files_of(defs, "a", got, sizeof(got));
    cr_expect_str_eq(got, "a.duckdb");
    /* a2 names a.duckdb too: one file; io.duckdb stores c; b's I/O manager is none */
    files_of(defs, "c", got, sizeof(got));
    cr_expect_str_eq(got, "a.duckdb io.duckdb");
    /* in memory and Parquet: no file; d reads c through io.duckdb */
    files_of(defs, "m", got, sizeof(got));
    cr_expect_str_eq(got, "");
    files_of(defs, "d", got, sizeof(got));
    cr_expect_str_eq(got, "io.duckdb");
    eider_defs_free(defs);
}

Test(defs, databases_of_an_asset_declaring_none_are_every_duckdb_resource)
{
    eider_defs *defs = files_defs();
    char got[256];
    files_of(defs, "b", got, sizeof(got));
    cr_expect_str_eq(got, "a.duckdb b.duckdb");
    eider_defs_free(defs);
}

Test(defs, databases_need_validated_definitions)
{
    eider_defs *defs = eider_defs_new();
    char **files = (char **)1;
    size_t n = 7;
    add(defs, &(eider_asset_def){ .key = "a", .compute = noop });
    cr_expect_eq(eider_defs_databases(defs, NULL, &files, &n), EIDER_EINVAL);
    cr_expect_null(files);
    cr_expect_eq(n, 0);
    eider_defs_free(defs);
}

/* ---- the I/O manager of each asset ---- */

static const char *io_of(eider_defs *defs, const char *key)
{
    long i = eider_defs_find(defs, key);
    cr_assert_geq(i, 0, "no asset '%s'", key);
    return eider_defs_io_manager(defs, (size_t)i);
}

Test(defs, io_manager_of_each_asset)
{
    eider_defs *defs = eider_defs_new();
    eider_duckdb_resource(defs, "db", &(eider_duckdb_config){ .database = "db.duckdb" });
    eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){ .database = "io.duckdb" });
    eider_parquet_io_manager(defs, "pq", &(eider_parquet_io_config){ .base_path = "pq" });
    add(defs, &(eider_asset_def){ .key = "plain", .compute = noop });
    add(defs, &(eider_asset_def){ .key = "own", .compute = noop, .resources = EIDER_KEYS("db") });
    add(defs, &(eider_asset_def){ .key = "kept", .compute = noop, .resources = EIDER_KEYS("db"),
                                  .output = EIDER_OUTPUT_REQUIRED });
    add(defs, &(eider_asset_def){ .key = "named", .compute = noop, .io_manager_key = "pq",
                                  .resources = EIDER_KEYS("db") });
    add(defs, &(eider_asset_def){ .key = "none", .compute = noop, .output = EIDER_OUTPUT_NONE });
    cr_assert_eq(eider_defs_validate(defs), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_str_eq(io_of(defs, "plain"), "io_manager");
    cr_expect_null(io_of(defs, "own"), "an asset with resources writes its own tables");
    cr_expect_str_eq(io_of(defs, "kept"), "io_manager");
    cr_expect_str_eq(io_of(defs, "named"), "pq");
    cr_expect_null(io_of(defs, "none"));
    cr_expect_null(eider_defs_io_manager(defs, 99));
    cr_expect_null(eider_defs_io_manager(NULL, 0));
    eider_defs_free(defs);

    /* no default I/O manager: an asset that names none has none */
    defs = eider_defs_new();
    add(defs, &(eider_asset_def){ .key = "plain", .compute = noop });
    cr_assert_eq(eider_defs_validate(defs), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_null(io_of(defs, "plain"));
    eider_defs_free(defs);
}
