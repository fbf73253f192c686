/*
 * test_models.c — SQL models (eider_sql_models): each .sql file under a folder is an
 * asset keyed by its path, whose dependencies come from the tables its query reads as
 * DuckDB's parser finds them (CTEs aside, unqualified names too), matched to models and
 * to assets in C; materialized in order into a DuckDB file (read back with DuckDB
 * alone); a table no asset stores is an error naming the file and line with the
 * nearest table; a file DuckDB cannot parse, or of two statements, is refused.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "defs/defs.h"
#include "duckq.h"
#include "tmpdir.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static int events(eider_context *ctx)
{
    return eider_output_sql(ctx, "SELECT * FROM (VALUES (1, 10), (2, 20), (3, 30)) v(id, amount)");
}

/* raw/events in C; models/staging/orders.sql and models/marts/totals.sql on top. */
static eider_defs *shop(void)
{
    enter_tmpdir_tagged("models");
    mkdir("models", 0755);
    mkdir("models/staging", 0755);
    mkdir("models/marts", 0755);
    write_file("models/staging/orders.sql",
               "-- the orders over 10\n"
               "SELECT id, amount\n"
               "FROM raw.events\n"
               "WHERE amount > 10\n");
    write_file("models/marts/totals.sql",
               "WITH big AS (SELECT * FROM staging.orders)\n"
               "SELECT count(*) AS n, sum(amount) AS total FROM big\n");
    eider_defs *defs = eider_defs_new();
    cr_assert_eq(eider_duckdb_io_manager(defs, NULL, &(eider_duckdb_io_config){
                     .database = "m.duckdb" }), EIDER_OK);
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "raw/events", .compute = events }),
                 EIDER_OK);
    return defs;
}

static const char *dep_list(eider_defs *defs, const char *key)
{
    static char out[256];
    eider_asset_info info;
    cr_assert_eq(eider_defs_info(defs, (size_t)eider_defs_find(defs, key), &info), EIDER_OK);
    out[0] = '\0';
    for (size_t i = 0; info.deps[i]; i++)
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? "," : "", info.deps[i]);
    return out;
}

Test(models, files_become_assets_whose_deps_come_from_their_sql)
{
    eider_defs *defs = shop();
    cr_assert_eq(eider_sql_models(defs, "models", NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_assert_eq(eider_defs_validate(defs), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_geq(eider_defs_find(defs, "staging/orders"), 0);
    cr_expect_str_eq(dep_list(defs, "staging/orders"), "raw/events");
    cr_expect_str_eq(dep_list(defs, "marts/totals"), "staging/orders", "the CTE 'big' is no table");
    eider_asset_info info;
    eider_defs_info(defs, (size_t)eider_defs_find(defs, "marts/totals"), &info);
    cr_expect_str_eq(info.kinds[0], "sql");
    cr_expect_str_eq(info.metadata[0].key, "sql_file");
    cr_expect_str_eq(info.metadata[0].text, "models/marts/totals.sql");
    eider_defs_free(defs);
}

Test(models, a_run_materializes_them_in_order)
{
    eider_defs *defs = shop();
    cr_assert_eq(eider_sql_models(defs, "models", NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    eider_result *r = NULL;
    int rc = eider_materialize(defs, &(eider_run_options){ 0 }, &r);
    cr_assert_eq(rc, EIDER_OK, "%s", r && eider_result_count(r) > 1 && eider_result_error(r, 1)
                 ? eider_result_error(r, 1) : eider_defs_errmsg(defs));
    eider_result_free(r);
    cr_expect_str_eq(duckq("m.duckdb", "SELECT n || ':' || total FROM marts.totals"), "2:50");
    eider_defs_free(defs);
}

Test(models, an_unqualified_table_matches_the_one_asset_that_has_it)
{
    eider_defs *defs = shop();
    write_file("models/marts/totals.sql", "SELECT sum(amount) AS total FROM orders");
    cr_assert_eq(eider_sql_models(defs, "models", NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_assert_eq(eider_defs_validate(defs), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_str_eq(dep_list(defs, "marts/totals"), "staging/orders");
    eider_defs_free(defs);
}

Test(models, a_table_no_asset_stores_is_named_with_its_file_and_line)
{
    eider_defs *defs = shop();
    write_file("models/marts/totals.sql", "SELECT count(*) AS n\n\nFROM staging.ordres\n");
    cr_assert_eq(eider_sql_models(defs, "models", NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_defs_validate(defs), EIDER_EUNKNOWNDEP);
    cr_expect(strstr(eider_defs_errmsg(defs), "models/marts/totals.sql:3: model 'marts/totals' "
                     "reads table 'staging.ordres', which no asset stores (did you mean "
                     "'staging.orders'?)"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

Test(models, a_file_duckdb_cannot_parse_or_of_two_statements_is_refused)
{
    eider_defs *defs = shop();
    write_file("models/marts/totals.sql", "SELEC 1");
    cr_expect_eq(eider_sql_models(defs, "models", NULL), EIDER_ESQL);
    cr_expect(strstr(eider_defs_errmsg(defs), "models/marts/totals.sql: ") &&
              strstr(eider_defs_errmsg(defs), "syntax error"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);

    defs = shop();
    write_file("models/marts/totals.sql", "SELECT 1; SELECT 2");
    cr_expect_eq(eider_sql_models(defs, "models", NULL), EIDER_ESQL);
    cr_expect(strstr(eider_defs_errmsg(defs), "a model is one SELECT statement, and this file "
                     "holds 2 statements"), "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_defs_validate(defs), EIDER_ESQL, "the error is remembered");
    eider_defs_free(defs);

    defs = eider_defs_new();
    cr_expect_eq(eider_sql_models(defs, "no_such_folder", NULL), EIDER_EIO);
    cr_expect(strstr(eider_defs_errmsg(defs), "'no_such_folder' is not a folder"), "%s",
              eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

/* ---- configuration in YAML: a header block, or a file beside the model ---- */

static const char *meta_text(const eider_asset_info *info, const char *key)
{
    for (size_t i = 0; info->metadata[i].key; i++)
        if (strcmp(info->metadata[i].key, key) == 0)
            return info->metadata[i].text;
    return NULL;
}

Test(models, a_header_block_configures_the_model_and_its_checks)
{
    eider_defs *defs = shop();
    write_file("models/staging/orders.sql",
               "/* eider\n"
               "description: The orders over 10\n"
               "group: shop\n"
               "owners: [data@example.com]\n"
               "kinds: [duckdb]\n"
               "tags: {tier: gold}\n"
               "write_mode: merge\n"
               "unique_key: [id]\n"
               "checks:\n"
               "  - not_null: [id, amount]\n"
               "    blocking: true\n"
               "  - name: few\n"
               "    row_count: {min: 1, max: 2}\n"
               "    severity: warn\n"
               "*/\n"
               "SELECT id, amount FROM raw.events WHERE amount > 10\n");
    cr_assert_eq(eider_sql_models(defs, "models", NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_assert_eq(eider_defs_validate(defs), EIDER_OK, "%s", eider_defs_errmsg(defs));
    eider_asset_info info;
    size_t i = (size_t)eider_defs_find(defs, "staging/orders");
    eider_defs_info(defs, i, &info);
    cr_expect_str_eq(info.description, "The orders over 10");
    cr_expect_str_eq(info.group, "shop");
    cr_expect_str_eq(info.owners[0], "data@example.com");
    cr_expect_str_eq(info.kinds[0], "duckdb");
    cr_expect_str_eq(info.kinds[1], "sql");
    cr_expect_str_eq(info.tags[0], "tier");
    cr_expect_str_eq(meta_text(&info, "write_mode"), "merge");
    cr_expect_str_eq(meta_text(&info, "unique_key"), "id");
    cr_expect_eq(eider_defs_check_count(defs, i), 2);
    cr_expect_str_eq(eider_defs_check_name(defs, i, 0), "not_null_id_amount");
    cr_expect_str_eq(eider_defs_check_name(defs, i, 1), "few");
    eider_result *r = NULL;
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_OK);
    long s = eider_result_find(r, "staging/orders");
    cr_expect_eq(eider_result_check(r, (size_t)s, 0)->status, EIDER_CHECK_PASSED);
    cr_expect_eq(eider_result_check(r, (size_t)s, 1)->status, EIDER_CHECK_PASSED);
    eider_result_free(r);
    eider_defs_free(defs);
}

Test(models, a_yaml_file_beside_the_model_configures_it)
{
    eider_defs *defs = shop();
    write_file("models/staging/orders.yaml", "description: from the side\ngroup: side\n");
    cr_assert_eq(eider_sql_models(defs, "models", NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    eider_asset_info info;
    cr_assert_eq(eider_defs_validate(defs), EIDER_OK);
    eider_defs_info(defs, (size_t)eider_defs_find(defs, "staging/orders"), &info);
    cr_expect_str_eq(info.description, "from the side");
    cr_expect_str_eq(info.group, "side");
    eider_defs_free(defs);
}

Test(models, a_bad_configuration_is_named_with_its_file_and_line)
{
    eider_defs *defs = shop();
    write_file("models/staging/orders.sql", "\n/* eider\ngroup: shop\ndescripton: x\n*/\nSELECT 1 AS id");
    cr_expect_eq(eider_sql_models(defs, "models", NULL), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "models/staging/orders.sql:4: unknown key "
                     "'descripton' in a model's configuration (did you mean 'description'?)"), "%s",
              eider_defs_errmsg(defs));
    eider_defs_free(defs);

    defs = shop();
    write_file("models/staging/orders.yaml", "group: [unclosed\n");
    cr_expect_eq(eider_sql_models(defs, "models", NULL), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "models/staging/orders.yaml:2: "), "%s",
              eider_defs_errmsg(defs));
    eider_defs_free(defs);

    defs = shop();
    write_file("models/staging/orders.yaml", "checks:\n  - not_nul: [id]\n");
    cr_expect_eq(eider_sql_models(defs, "models", NULL), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "models/staging/orders.yaml:2: unknown key "
                     "'not_nul' in a check (did you mean 'not_null'?)"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);

    defs = shop();
    write_file("models/staging/orders.yaml", "checks:\n  - row_count: {min: few}\n");
    cr_expect_eq(eider_sql_models(defs, "models", NULL), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "orders.yaml:2: checks: row_count's min: give a "
                     "whole number"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

/* ---- templates: {{ name }} ---- */

Test(models, variables_come_from_the_command_line_the_model_and_the_project)
{
    eider_defs *defs = shop();
    write_file("eider.yaml", "database: m.duckdb\nvars: {min: 10, source: raw.events, label: p}\n");
    write_file("models/staging/orders.sql",
               "/* eider\nvars: {label: model}\n*/\n"
               "SELECT id, amount, '{{ label }}' AS label, {{cut}} AS cut\n"
               "FROM {{ source }} WHERE amount > {{ min }}\n");
    eider_defs_free(defs);
    defs = eider_defs_new();
    cr_assert_eq(eider_asset(defs, &(eider_asset_def){ .key = "raw/events", .compute = events }),
                 EIDER_OK);
    cr_assert_eq(eider_defs_var(defs, "cut", "25"), EIDER_OK);
    cr_assert_eq(eider_project(defs, "eider.yaml"), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_assert_eq(eider_defs_validate(defs), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_str_eq(dep_list(defs, "staging/orders"), "raw/events", "{{ source }} named the table");
    eider_result *r = NULL;
    cr_assert_eq(eider_materialize(defs, &(eider_run_options){ .jobs = 1 }, &r), EIDER_OK);
    eider_result_free(r);
    cr_expect_str_eq(duckq("m.duckdb", "SELECT string_agg(id || label || cut, ',' ORDER BY id) "
                           "FROM staging.orders"), "2model25,3model25",
                     "the project's min, the model's label over the project's, the command line's cut");
    eider_defs_free(defs);
}

Test(models, an_unknown_variable_is_named_with_its_line_and_the_nearest)
{
    eider_defs *defs = shop();
    write_file("models/staging/orders.sql", "/* eider\nvars: {minimum: 10}\n*/\n"
                                            "SELECT * FROM raw.events\nWHERE amount > {{ minimun }}\n");
    cr_expect_eq(eider_sql_models(defs, "models", NULL), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "models/staging/orders.sql:5: unknown variable "
                     "'minimun' (did you mean 'minimum'?)"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);

    defs = shop();
    write_file("models/staging/orders.sql", "SELECT 1 AS id WHERE 1 = {{ 1 }}");
    cr_expect_eq(eider_sql_models(defs, "models", NULL), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "models/staging/orders.sql:1: '{{' starts no "
                     "variable"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);

    defs = eider_defs_new();
    cr_expect_eq(eider_defs_var(defs, "2x", "1"), EIDER_EINVAL);
    cr_expect(strstr(eider_defs_errmsg(defs), "variable '2x': a name is letters"), "%s",
              eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

/* Models are parsed 64 to a query: a line is still the line of its own file. */
Test(models, a_line_is_its_files_when_models_are_parsed_together)
{
    eider_defs *defs = shop();
    write_file("models/staging/orders.sql", "SELECT id,\n  amount\nFROM raw.event\n");
    cr_assert_eq(eider_sql_models(defs, "models", NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_defs_validate(defs), EIDER_EUNKNOWNDEP);
    cr_expect(strstr(eider_defs_errmsg(defs), "models/staging/orders.sql:3: model "
                     "'staging/orders' reads table 'raw.event', which no asset stores (did you "
                     "mean 'raw.events'?)"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

Test(models, a_table_nothing_is_near_says_to_declare_it_as_a_source)
{
    eider_defs *defs = shop();
    write_file("models/marts/totals.sql", "SELECT * FROM warehouse_zzz.qqq");
    cr_assert_eq(eider_sql_models(defs, "models", NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_defs_validate(defs), EIDER_EUNKNOWNDEP);
    cr_expect(strstr(eider_defs_errmsg(defs), "reads table 'warehouse_zzz.qqq', which no asset "
                     "stores: add a model of it, or declare it as a source (eider.yaml's "
                     "sources, or eider_asset_spec())"), "%s", eider_defs_errmsg(defs));
    eider_defs_free(defs);
}

/* ---- column-level lineage ---- */

static const char *lineage_of(eider_defs *defs, const char *key)
{
    static char out[512];
    size_t i = (size_t)eider_defs_find(defs, key);
    out[0] = '\0';
    for (size_t j = 0; j < eider_defs_column_count(defs, i); j++) {
        const char *const *src = NULL;
        const char *col = eider_defs_column(defs, i, j, &src);
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s<-", j ? "; " : "", col);
        for (size_t s = 0; src && src[s]; s++)
            snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", s ? "," : "", src[s]);
    }
    return out;
}

Test(models, each_output_column_names_the_columns_it_reads)
{
    eider_defs *defs = shop();
    write_file("models/marts/totals.sql",
               "SELECT o.id, o.amount * 2 AS doubled, e.amount, count(*) AS n, upper('x')\n"
               "FROM staging.orders AS o JOIN raw.events e USING (id)\nGROUP BY ALL\n");
    write_file("models/staging/orders.sql", "SELECT * FROM raw.events WHERE amount > 10");
    cr_assert_eq(eider_sql_models(defs, "models", NULL), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_assert_eq(eider_defs_validate(defs), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_str_eq(lineage_of(defs, "marts/totals"),
                     "id<-staging/orders.id; doubled<-staging/orders.amount; "
                     "amount<-raw/events.amount; n<-; #5<-");
    cr_expect_str_eq(lineage_of(defs, "staging/orders"), "*<-raw/events.*");
    cr_expect_eq(eider_defs_column_count(defs, (size_t)eider_defs_find(defs, "raw/events")), 0,
                 "an asset in C has none");
    eider_defs_free(defs);
}
