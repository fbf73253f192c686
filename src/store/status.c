/*
 * status.c — each asset's status from the instance store: never materialized, fresh,
 * stale (its code_version changed since its materialization, an upstream was
 * materialized after it, or an upstream is stale or was never materialized — all
 * transitive, unlike Dagster's "unsynced"), or failed (its latest run failed).
 */
#define _GNU_SOURCE
#include "store.h"

/* What the store knows of one asset, over all its partitions. */
typedef struct known {
    int64_t materialized_us;         /* the latest materialization, 0 when none */
    char *code_version;              /* at that materialization */
    int failed;                      /* the latest try failed (after the materialization) */
} known;

typedef struct collect {
    const eider_defs *defs;
    known *k;
} collect;

static int collect_row(void *ud, const char *const *c, size_t n)
{
    collect *col = ud;
    long i = eider__index_get(&col->defs->by_key, c[0]);
    if (i < 0)
        return 0;                    /* an asset the definitions no longer have */
    known *k = &col->k[i];
    int64_t mat = c[1] ? strtoll(c[1], NULL, 10) : 0, last = c[4] ? strtoll(c[4], NULL, 10) : 0;
    if (mat > k->materialized_us) {
        k->materialized_us = mat;
        free(k->code_version);
        k->code_version = c[2] ? eider__xstrdup(c[2]) : NULL;
    }
    if (c[3] && strcmp(c[3], "1") == 0 && last >= mat)
        k->failed = 1;
    return 0;
}

static int same_version(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static eider_asset_status status_of(const eider_defs *defs, const known *k, const eider_asset_status *st,
                                    size_t i)
{
    const eider__asset *a = &defs->assets[i];
    if (a->external)
        return EIDER_ASSET_EXTERNAL;
    if (k[i].failed)
        return EIDER_ASSET_FAILED;
    if (!k[i].materialized_us)
        return EIDER_ASSET_NEVER;
    if (!same_version(a->code_version, k[i].code_version))
        return EIDER_ASSET_STALE;
    for (size_t u = 0; u < a->n_up; u++) {
        uint32_t up = a->up[u];
        if (st[up] == EIDER_ASSET_STALE || st[up] == EIDER_ASSET_NEVER ||
            k[up].materialized_us > k[i].materialized_us)
            return EIDER_ASSET_STALE;
    }
    return EIDER_ASSET_FRESH;
}

int eider__store_status(eider_store *s, const eider_defs *defs, eider_asset_status *out)
{
    collect col = { defs, eider__xcalloc(defs->n_assets + 1, sizeof(known)) };
    int rc = eider__store_flush(s);
    if (!rc)
        rc = eider__store_query(s, "SELECT a.asset_key, m.time_us, m.code_version, a.last_failed, "
            "a.last_us FROM asset_state a LEFT JOIN materializations m ON m.id = a.materialization_id",
            NULL, 0, collect_row, &col);
    for (size_t t = 0; !rc && t < defs->n_assets; t++) {   /* upstream first */
        size_t i = defs->topo[t];
        out[i] = status_of(defs, col.k, out, i);
    }
    for (size_t i = 0; i < defs->n_assets; i++)
        free(col.k[i].code_version);
    free(col.k);
    return rc;
}

int eider_store_status(eider_store *s, eider_defs *defs, eider_asset_status *out)
{
    if (!s || !defs || !out)
        return EIDER_EINVAL;
    int rc = defs->validated ? EIDER_OK : eider_defs_validate(defs);
    return rc ? rc : eider__store_status(s, defs, out);
}

static int status_callback(void *store, const eider_defs *defs, eider_asset_status *out)
{
    return eider__store_status(store, defs, out);
}

void eider_defs_use_store(eider_defs *defs, eider_store *store)
{
    if (!defs)
        return;
    defs->status = store ? status_callback : NULL;
    defs->status_store = store;
    eider__store_load_dynamic(store, defs);
}
