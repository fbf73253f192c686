/*
 * fuzz_select.c — fuzz target for the selection parser: any bytes, taken as a
 * selection expression over a small fixed graph, must either select a 0/1 set or fail
 * with EIDER_ESELECT and a message; never crash, hang or read out of bounds.
 */
#include <stdint.h>

#include "defs/defs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int noop(eider_context *ctx)
{
    return 0;
}

/* a -> b -> c -> e, a -> d -> e, x/raw (external) -> x/y, lonely; built once. */
static eider_defs *fixture(void)
{
    static eider_defs *defs;
    if (defs)
        return defs;
    defs = eider_defs_new();
    eider_asset_spec(defs, &(eider_asset_spec_def){ .key = "x/raw", .group = "ingest" });
    eider_asset(defs, &(eider_asset_def){ .key = "a", .compute = noop, .group = "g",
        .tags = EIDER_TAGS("tier", "gold", "pii", ""), .kinds = EIDER_KEYS("duckdb") });
    eider_asset(defs, &(eider_asset_def){ .key = "b", .compute = noop,
        .deps = EIDER_KEYS("a"), .owners = EIDER_KEYS("team:data") });
    eider_asset(defs, &(eider_asset_def){ .key = "c", .compute = noop,
        .deps = EIDER_KEYS("b"), .kinds = EIDER_KEYS("sql") });
    eider_asset(defs, &(eider_asset_def){ .key = "d", .compute = noop, .group = "g",
        .deps = EIDER_KEYS("a") });
    eider_asset(defs, &(eider_asset_def){ .key = "e", .compute = noop,
        .deps = EIDER_KEYS("c", "d"), .tags = EIDER_TAGS("tier", "silver") });
    eider_asset(defs, &(eider_asset_def){ .key = "x/y", .compute = noop,
        .deps = EIDER_KEYS("x/raw") });
    eider_asset(defs, &(eider_asset_def){ .key = "lonely key", .compute = noop });
    eider_asset_check(defs, &(eider_check_def){ .asset = "a", .name = "a_ok",
                                                .not_null = EIDER_KEYS("id") });
    if (eider_defs_validate(defs) != EIDER_OK)
        abort();
    return defs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eider_defs *defs = fixture();
    char *expr = eider__xmalloc(size + 1);
    unsigned char selected[16];
    eider__buf err = { 0 };
    if (size)
        memcpy(expr, data, size);
    expr[size] = '\0';
    int rc = eider__select(defs, expr, selected, &err);
    if (rc != EIDER_OK && rc != EIDER_ESELECT)
        abort();
    if (rc == EIDER_ESELECT && strncmp(eider__buf_str(&err), "bad selection '", 15) != 0)
        abort();
    for (size_t i = 0; i < defs->n_assets; i++)
        if (selected[i] > 1 || (rc != EIDER_OK && selected[i]))
            abort();
    eider__buf_release(&err);
    free(expr);
    return 0;
}
