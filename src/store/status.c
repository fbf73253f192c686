/*
 * status.c — each asset's status from the instance store: never materialized, fresh,
 * stale (its code_version changed since its materialization, an upstream was
 * materialized after it, or an upstream is stale or was never materialized — all
 * transitive, unlike Dagster's "unsynced"), or failed (its latest run failed). Over all
 * of an asset's partitions, or, for a run's partitions, over those of each partitioned
 * asset that has them.
 */
#define _GNU_SOURCE
#include "rows.h"
#include "store.h"
#include "../defs/partitions.h"

/* What the store knows of one asset, over all its partitions or those in scope. */
typedef struct known {
    int64_t materialized_us;         /* the latest materialization, 0 when none */
    char *code_version;              /* at that materialization */
    int failed;                      /* the latest try failed (after the materialization) */
    char **keys;                     /* the partitions in scope; NULL: all of them */
    size_t n_keys;
    unsigned char *have;             /* n_keys bytes: this key has a materialization */
} known;

typedef struct collect {
    const eider_defs *defs;
    known *k;
    eider__buf why;                  /* a damaged row: what is wrong, and its key */
    char *row;
} collect;

static int compare_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether partition is in k's scope (its keys are sorted); *at gets its index among
 * the keys. */
static int in_scope(const known *k, const char *partition, size_t *at)
{
    *at = 0;
    if (!k->keys)
        return 1;
    char **found = partition ? bsearch(&partition, k->keys, k->n_keys, sizeof(*k->keys),
                                       compare_key) : NULL;
    if (found)
        *at = (size_t)(found - k->keys);
    return found != NULL;
}

/* Check a row as rows.c does; on damage, what and where into col. */
static int collect_check(collect *col, const char *const *c, size_t n, int64_t *mat, int64_t *last)
{
    int64_t failed = 0;
    if (n < 6 || !c[0])
        eider__buf_puts(&col->why, "its asset_key is NULL");
    else if (eider__row_int(c[1], 0, EIDER__ROW_MAX_US, 1, mat))
        eider__buf_puts(&col->why, "its materialization's time_us is not a time");
    else if (eider__row_int(c[3], 0, 1, 1, &failed) || eider__row_int(c[4], 0, EIDER__ROW_MAX_US, 1, last))
        eider__buf_puts(&col->why, "its last_failed or last_us is not a number in range");
    else
        return 0;
    col->row = eider__xstrdup(n && c[0] ? c[0] : "asset_key NULL");
    return -1;
}

static int collect_row(void *ud, const char *const *c, size_t n)
{
    collect *col = ud;
    int64_t mat = 0, last = 0;
    size_t at = 0;
    if (collect_check(col, c, n, &mat, &last))
        return 1;
    long i = eider__index_get(&col->defs->by_key, c[0]);
    if (i < 0)
        return 0;                    /* an asset the definitions no longer have */
    known *k = &col->k[i];
    if (!in_scope(k, c[5], &at))
        return 0;
    if (mat > k->materialized_us) {
        k->materialized_us = mat;
        free(k->code_version);
        k->code_version = c[2] ? eider__xstrdup(c[2]) : NULL;
    }
    if (k->have && mat)
        k->have[at] = 1;
    if (c[3] && strcmp(c[3], "1") == 0 && last >= mat)
        k->failed = 1;
    return 0;
}

/* Scope each partitioned asset that has the run's partitions (partition, a key or a
 * range, or every partition with all) to them; the others stay unscoped. */
static void scope(const eider_defs *defs, const char *partition, int all, known *k)
{
    for (size_t i = 0; (partition || all) && i < defs->n_assets; i++) {
        const eider__asset *a = &defs->assets[i];
        eider__buf err = { 0 };
        int rc = !a->partitions || a->external ? -1
               : all ? eider__partitions_keys(a->partitions, &k[i].keys, &k[i].n_keys, &err)
                     : eider__partitions_resolve(a->partitions, a->key, partition, &k[i].keys,
                                                 &k[i].n_keys, &err);
        eider__buf_release(&err);
        if (rc || !k[i].n_keys) {
            eider__strv_free(k[i].keys, k[i].n_keys);
            k[i].keys = NULL;
            k[i].n_keys = 0;
            continue;
        }
        qsort(k[i].keys, k[i].n_keys, sizeof(*k[i].keys), compare_key);
        k[i].have = eider__xcalloc(k[i].n_keys + 1, 1);
    }
}

/* Whether each partition in k's scope has a materialization (true when unscoped). */
static int has_every_key(const known *k)
{
    for (size_t i = 0; k->have && i < k->n_keys; i++)
        if (!k->have[i])
            return 0;
    return 1;
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
    if (!k[i].materialized_us || !has_every_key(&k[i]))
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

/* What the store knows of every asset, scoped as scope() says: a calloc'd array of
 * defs->n_assets, free with known_free(). */
static int known_of(eider_store *s, const eider_defs *defs, const char *partition, int all,
                    known **out)
{
    collect col = { defs, eider__xcalloc(defs->n_assets + 1, sizeof(known)), { 0 }, NULL };
    scope(defs, partition, all, col.k);
    int rc = eider__store_flush(s);
    if (!rc)
        rc = eider__store_query(s, "SELECT a.asset_key, m.time_us, m.code_version, a.last_failed, "
            "a.last_us, a.partition FROM asset_state a LEFT JOIN materializations m "
            "ON m.id = a.materialization_id", NULL, 0, collect_row, &col);
    if (!rc && col.row)
        rc = eider__store_damaged(s, "asset_state", col.row, eider__buf_str(&col.why));
    eider__buf_release(&col.why);
    free(col.row);
    *out = col.k;
    return rc;
}

static void known_free(const eider_defs *defs, known *k)
{
    for (size_t i = 0; i < defs->n_assets; i++) {
        free(k[i].code_version);
        eider__strv_free(k[i].keys, k[i].n_keys);
        free(k[i].have);
    }
    free(k);
}

int eider__store_status_at(eider_store *s, const eider_defs *defs, const char *partition,
                           int all, eider_asset_status *out)
{
    known *k = NULL;
    int rc = known_of(s, defs, partition, all, &k);
    for (size_t t = 0; !rc && t < defs->n_assets; t++) {   /* upstream first */
        size_t i = defs->topo[t];
        out[i] = status_of(defs, k, out, i);
    }
    known_free(defs, k);
    return rc;
}

int eider__store_status(eider_store *s, const eider_defs *defs, eider_asset_status *out)
{
    return eider__store_status_at(s, defs, NULL, 0, out);
}

int eider__store_materialized(eider_store *s, const eider_defs *defs, unsigned char *out)
{
    known *k = NULL;
    int rc = known_of(s, defs, NULL, 0, &k);
    for (size_t i = 0; i < defs->n_assets; i++)
        out[i] = !rc && k[i].materialized_us != 0;
    known_free(defs, k);
    return rc;
}

int eider_store_status(eider_store *s, eider_defs *defs, eider_asset_status *out)
{
    if (!s || !defs || !out)
        return EIDER_EINVAL;
    int rc = defs->validated ? EIDER_OK : eider_defs_validate(defs);
    return rc ? rc : eider__store_status(s, defs, out);
}

static int status_callback(void *store, const eider_defs *defs, const char *partition, int all,
                           eider_asset_status *out)
{
    return eider__store_status_at(store, defs, partition, all, out);
}

void eider_defs_use_store(eider_defs *defs, eider_store *store)
{
    if (!defs)
        return;
    defs->status = store ? status_callback : NULL;
    defs->status_store = store;
    eider__store_load_dynamic(store, defs);
}
