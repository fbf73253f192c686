/*
 * test_select.c — the selection syntax: the golden table in tests/select/golden.txt
 * (expression => selected keys, or an error), error messages that point at the
 * column, the empty selection, the nesting limit and traversal of a large graph.
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

static void add_spec(eider_defs *defs, const eider_asset_spec_def *spec)
{
    cr_assert_eq(eider_asset_spec(defs, spec), EIDER_OK, "%s", eider_defs_errmsg(defs));
}

/* The graph drawn at the top of tests/select/golden.txt. */
static eider_defs *fixture(void)
{
    eider_defs *defs = eider_defs_new();
    cr_assert_not_null(defs);
    add_spec(defs, &(eider_asset_spec_def){ .key = "raw_csv", .key_prefix = "iris",
        .group = "ingest", .kinds = EIDER_KEYS("csv"), .owners = EIDER_KEYS("team:data") });
    add(defs, &(eider_asset_def){ .key = "iris/iris_dataset", .compute = noop,
        .deps = EIDER_KEYS("iris/raw_csv"), .group = "ingest",
        .tags = EIDER_TAGS("domain", "botany", "tier", "bronze"),
        .kinds = EIDER_KEYS("duckdb"), .owners = EIDER_KEYS("team:data") });
    add(defs, &(eider_asset_def){ .key = "iris/iris_setosa", .compute = noop,
        .deps = EIDER_KEYS("iris/iris_dataset"), .group = "analytics",
        .tags = EIDER_TAGS("tier", "silver"), .kinds = EIDER_KEYS("duckdb", "sql") });
    add(defs, &(eider_asset_def){ .key = "iris_virginica", .key_prefix = "iris",
        .compute = noop, .deps = EIDER_KEYS("iris/iris_dataset"), .group = "analytics",
        .tags = EIDER_TAGS("tier", "silver", "pii", ""), .kinds = EIDER_KEYS("duckdb") });
    add(defs, &(eider_asset_def){ .key = "iris/species_summary", .compute = noop,
        .deps = EIDER_KEYS("iris/iris_setosa", "iris/iris_virginica"), .group = "analytics",
        .tags = EIDER_TAGS("tier", "gold"), .kinds = EIDER_KEYS("duckdb", "sql"),
        .owners = EIDER_KEYS("ada@example.com") });
    add(defs, &(eider_asset_def){ .key = "report", .compute = noop,
        .deps = EIDER_KEYS("iris/species_summary"), .group = "reporting",
        .kinds = EIDER_KEYS("python"), .owners = EIDER_KEYS("ada@example.com", "team:data") });
    add_spec(defs, &(eider_asset_spec_def){ .key = "weather/raw", .group = "ingest",
        .tags = EIDER_TAGS("domain", "weather") });
    add(defs, &(eider_asset_def){ .key = "weather/daily", .compute = noop,
        .deps = EIDER_KEYS("weather/raw"), .group = "ingest",
        .tags = EIDER_TAGS("domain", "weather", "has space", "x y") });
    add(defs, &(eider_asset_def){ .key = "dashboard", .compute = noop,
        .deps = EIDER_KEYS("report", "weather/daily"), .group = "reporting",
        .tags = EIDER_TAGS("tier", "gold") });
    add(defs, &(eider_asset_def){ .key = "v1.2-metrics", .compute = noop,
        .deps = EIDER_KEYS("weather/daily"), .group = "misc" });
    add(defs, &(eider_asset_def){ .key = "standalone", .compute = noop, .group = "misc" });
    add(defs, &(eider_asset_def){ .key = "odd key", .compute = noop, .group = "misc" });
    cr_assert_eq(eider_asset_check(defs, &(eider_check_def){ .asset = "iris/iris_setosa",
                     .name = "species_present", .not_null = EIDER_KEYS("species") }), EIDER_OK);
    cr_assert_eq(eider_asset_check(defs, &(eider_check_def){ .asset = "report", .name = "sane",
                     .sql = "SELECT 1 WHERE false" }), EIDER_OK);
    cr_assert_eq(eider_defs_validate(defs), EIDER_OK, "%s", eider_defs_errmsg(defs));
    return defs;
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The selected keys, sorted and joined by one space, or "(none)", into out. */
static void selected_keys(eider_defs *defs, const unsigned char *selected, eider__buf *out)
{
    size_t n = eider_defs_count(defs), k = 0;
    const char **keys = calloc(n + 1, sizeof(*keys));
    for (size_t i = 0; i < n; i++) {
        cr_assert(selected[i] == 0 || selected[i] == 1, "selected[%zu] = %d", i, selected[i]);
        if (selected[i])
            keys[k++] = eider_defs_key(defs, i);
    }
    qsort(keys, k, sizeof(*keys), by_string);
    eider__buf_reset(out);
    for (size_t i = 0; i < k; i++)
        eider__buf_printf(out, "%s%s", i ? " " : "", keys[i]);
    if (!k)
        eider__buf_puts(out, "(none)");
    free(keys);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Check one golden line; returns 1 if it was a case, 0 for a comment or blank. */
static int check_golden_line(eider_defs *defs, char *line, int lineno, unsigned char *selected)
{
    char *arrow = strstr(line, "=>");
    if (line[0] == '#' || !*trim(line))
        return 0;
    cr_assert_not_null(arrow, "golden.txt:%d: no '=>'", lineno);
    *arrow = '\0';
    const char *expr = trim(line), *want = trim(arrow + 2);
    int rc = eider_defs_select(defs, expr, selected);
    if (strncmp(want, "error:", 6) == 0) {
        const char *needle = trim((char *)want + 6);
        cr_expect_eq(rc, EIDER_ESELECT, "golden.txt:%d: '%s' should fail", lineno, expr);
        cr_expect(strstr(eider_defs_errmsg(defs), needle) != NULL,
                  "golden.txt:%d: '%s': message\n%s\nlacks '%s'", lineno, expr,
                  eider_defs_errmsg(defs), needle);
        size_t column = 0;
        if (sscanf(needle, "at column %zu", &column) == 1)
            cr_expect_eq(eider_defs_errcolumn(defs), column,
                         "golden.txt:%d: '%s': eider_defs_errcolumn() is %zu, not %zu", lineno,
                         expr, eider_defs_errcolumn(defs), column);
        return 1;
    }
    eider__buf got = { 0 };
    cr_expect_eq(rc, EIDER_OK, "golden.txt:%d: '%s' failed: %s", lineno, expr,
                 eider_defs_errmsg(defs));
    if (rc == EIDER_OK) {
        selected_keys(defs, selected, &got);
        cr_expect_str_eq(eider__buf_str(&got), want, "golden.txt:%d: '%s'", lineno, expr);
    }
    eider__buf_release(&got);
    return 1;
}

Test(select, golden_table_selects_the_expected_keys)
{
    eider_defs *defs = fixture();
    unsigned char *selected = calloc(eider_defs_count(defs), 1);
    FILE *f = fopen(EIDER_TEST_DATA "/select/golden.txt", "r");
    cr_assert_not_null(f, "cannot open %s", EIDER_TEST_DATA "/select/golden.txt");
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, cases = 0;
    while (getline(&line, &cap, f) != -1)
        cases += check_golden_line(defs, line, ++lineno, selected);
    cr_expect_geq(cases, 40, "only %d golden cases", cases);
    free(line);
    fclose(f);
    free(selected);
    eider_defs_free(defs);
}

/* Split an error message into its three lines. */
static void message_lines(const char *msg, eider__buf lines[3])
{
    for (int i = 0; i < 3; i++) {
        const char *nl = strchr(msg, '\n');
        size_t n = nl ? (size_t)(nl - msg) : strlen(msg);
        eider__buf_add(&lines[i], msg, n);
        msg += n + (nl != NULL);
    }
}

Test(select, error_message_names_the_column_and_draws_a_caret)
{
    eider_defs *defs = fixture();
    unsigned char selected[16];
    eider__buf lines[3] = { { 0 } };
    cr_assert_eq(eider_defs_select(defs, "report and (standalone", selected), EIDER_ESELECT);
    message_lines(eider_defs_errmsg(defs), lines);
    cr_expect_str_eq(eider__buf_str(&lines[0]),
        "bad selection 'report and (standalone' at column 23: "
        "expected ')' to close the '(' at column 12");
    cr_expect_str_eq(eider__buf_str(&lines[1]), "  report and (standalone");
    cr_expect_str_eq(eider__buf_str(&lines[2]), "                        ^");
    for (int i = 0; i < 3; i++)
        eider__buf_release(&lines[i]);
    eider_defs_free(defs);
}

Test(select, error_column_counts_characters_not_bytes)
{
    eider_defs *defs = fixture();
    unsigned char selected[16];
    cr_assert_eq(eider_defs_select(defs, "key:\"caf\xc3\xa9*\" or %", selected), EIDER_ESELECT);
    /* é is two bytes but one column: '%' is at column 16 */
    cr_expect(strstr(eider_defs_errmsg(defs), "at column 16: unexpected character '%'"),
              "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_defs_errcolumn(defs), 16);
    eider_defs_free(defs);
}

Test(select, error_clears_the_selection)
{
    eider_defs *defs = fixture();
    unsigned char selected[16];
    memset(selected, 1, sizeof(selected));
    cr_assert_eq(eider_defs_select(defs, "report or nosuch", selected), EIDER_ESELECT);
    for (size_t i = 0; i < eider_defs_count(defs); i++)
        cr_expect_eq(selected[i], 0);
    eider_defs_free(defs);
}

Test(select, null_empty_and_blank_select_everything)
{
    eider_defs *defs = fixture();
    const char *exprs[] = { NULL, "", "  \t ", "*" };
    unsigned char selected[16];
    for (size_t e = 0; e < EIDER__ARRAY_LEN(exprs); e++) {
        memset(selected, 0, sizeof(selected));
        cr_assert_eq(eider_defs_select(defs, exprs[e], selected), EIDER_OK);
        for (size_t i = 0; i < eider_defs_count(defs); i++)
            cr_expect_eq(selected[i], 1, "expr %zu, asset %zu", e, i);
    }
    eider_defs_free(defs);
}

static char *nested(const char *open, const char *inner, const char *close, int depth)
{
    eider__buf b = { 0 };
    for (int i = 0; i < depth; i++)
        eider__buf_puts(&b, open);
    eider__buf_puts(&b, inner);
    for (int i = 0; i < depth; i++)
        eider__buf_puts(&b, close);
    return eider__buf_detach(&b);
}

Test(select, nesting_up_to_the_limit_works_and_deeper_fails_cleanly)
{
    eider_defs *defs = fixture();
    unsigned char selected[16];
    char *ok = nested("(", "report", ")", 200), *deep = nested("(", "report", ")", 5000);
    char *nots = nested("not ", "report", "", 5000);
    cr_expect_eq(eider_defs_select(defs, ok, selected), EIDER_OK, "%s", eider_defs_errmsg(defs));
    cr_expect_eq(eider_defs_select(defs, deep, selected), EIDER_ESELECT);
    cr_expect(strstr(eider_defs_errmsg(defs), "nested deeper than 200 levels"));
    cr_expect_eq(eider_defs_select(defs, nots, selected), EIDER_ESELECT);
    cr_expect(strstr(eider_defs_errmsg(defs), "nested deeper than 200 levels"));
    free(ok);
    free(deep);
    free(nots);
    eider_defs_free(defs);
}

/* A chain a0 <- a1 <- ... of n assets. */
static eider_defs *chain(size_t n)
{
    eider_defs *defs = eider_defs_new();
    char key[32], dep[32];
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "a%zu", i);
        snprintf(dep, sizeof(dep), "a%zu", i ? i - 1 : 0);
        add(defs, &(eider_asset_def){ .key = key, .compute = noop,
                                      .deps = i ? EIDER_KEYS(dep) : NULL });
    }
    cr_assert_eq(eider_defs_validate(defs), EIDER_OK, "%s", eider_defs_errmsg(defs));
    return defs;
}

static size_t count_selected(const unsigned char *selected, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += selected[i];
    return c;
}

Test(select, traversals_of_a_long_chain_are_complete_and_bounded)
{
    size_t n = 20000;
    eider_defs *defs = chain(n);
    unsigned char *selected = calloc(n, 1);
    cr_assert_eq(eider_defs_select(defs, "*a19999", selected), EIDER_OK);
    cr_expect_eq(count_selected(selected, n), n);
    cr_assert_eq(eider_defs_select(defs, "a0*, a19999*", selected), EIDER_OK);
    cr_expect_eq(count_selected(selected, n), n);
    cr_assert_eq(eider_defs_select(defs, "a100+250", selected), EIDER_OK);
    cr_expect_eq(count_selected(selected, n), 251);
    cr_expect(selected[100] && selected[350] && !selected[351] && !selected[99]);
    cr_assert_eq(eider_defs_select(defs, "roots(), sinks()", selected), EIDER_OK);
    cr_expect_eq(count_selected(selected, n), 2);
    cr_expect(selected[0] && selected[n - 1]);
    free(selected);
    eider_defs_free(defs);
}

Test(select, eider_select_writes_the_message_to_the_given_buffer)
{
    eider_defs *defs = fixture();
    unsigned char selected[16];
    eider__buf err = { 0 };
    cr_assert_eq(eider__select(defs, "repotr", selected, &err), EIDER_ESELECT);
    cr_expect(strncmp(eider__buf_str(&err),
        "bad selection 'repotr' at column 1: unknown asset 'repotr' (did you mean 'report'?)\n"
        "  repotr\n  ^", 200) == 0, "%s", eider__buf_str(&err));
    cr_expect_eq(eider__select(defs, "repotr", selected, NULL), EIDER_ESELECT);
    eider__buf_release(&err);
    eider_defs_free(defs);
}
