/*
 * validate.c — checks definitions as a whole and builds the asset graph: key parts
 * that name no file ("." or "..") or hold a glob character, unknown dependencies (with a suggestion), unknown
 * resources, how partitions map between partitioned assets, cycles (printed), and a
 * topological order for the executor.
 */
#include "defs.h"
#include "partitions.h"

/* The key closest to `key` by edit distance, other than `self`'s, or NULL when
 * nothing is close. */
static const char *closest_key(const eider_defs *defs, const char *key, const eider__asset *self)
{
    size_t limit = strlen(key) / 3 + 1, best = limit + 1;
    const char *found = NULL;
    for (size_t i = 0; i < defs->n_assets; i++) {
        if (&defs->assets[i] == self)
            continue;
        size_t d = eider__edit_distance(key, defs->assets[i].key, limit);
        if (d < best) {
            best = d;
            found = defs->assets[i].key;
        }
    }
    return found;
}

static int unknown_dep(eider_defs *defs, const eider__asset *a, const char *dep)
{
    const char *near = closest_key(defs, dep, a);
    if (near)
        return eider__defs_error(defs, EIDER_EUNKNOWNDEP,
            "asset '%s' depends on unknown asset '%s' (did you mean '%s'?)", a->key, dep, near);
    return eider__defs_error(defs, EIDER_EUNKNOWNDEP,
        "asset '%s' depends on unknown asset '%s': define it, or declare it with "
        "eider_asset_spec() if something outside Eider produces it", a->key, dep);
}

static void free_graph(eider_defs *defs)
{
    for (size_t i = 0; i < defs->n_assets; i++) {
        eider__asset *a = &defs->assets[i];
        free(a->up);
        free(a->down);
        free(a->up_maps);
        a->up_maps = NULL;
        a->reads_own_past = 0;
        a->up = a->down = NULL;
        a->n_up = a->n_down = 0;
        free(a->checks);
        a->checks = NULL;
        a->n_checks = 0;
    }
    free(defs->topo);
    defs->topo = NULL;
}

static const eider_input_def *input_of(const eider__asset *a, const char *key)
{
    for (size_t i = 0; i < a->n_ins; i++)
        if (strcmp(a->ins[i].key, key) == 0)
            return &a->ins[i];
    return NULL;
}

/* Whether dep is a's own key, read through a time window that ends before a's own:
 * its earlier partitions, which is no cycle. */
static int own_past(const eider__asset *a, const char *dep)
{
    const eider_input_def *in = strcmp(dep, a->key) == 0 ? input_of(a, dep) : NULL;
    return in && in->partition_mapping.kind == EIDER_MAP_TIME_WINDOW &&
           in->partition_mapping.end_offset < 0;
}

/* Fill up[] from deps and down[] as its mirror. */
static int link_graph(eider_defs *defs)
{
    size_t *n_down = eider__xcalloc(defs->n_assets, sizeof(*n_down));
    int rc = EIDER_OK;
    for (size_t i = 0; i < defs->n_assets && !rc; i++) {
        eider__asset *a = &defs->assets[i];
        a->up = eider__xmalloc(a->n_deps * sizeof(*a->up));
        for (size_t d = 0; d < a->n_deps; d++) {
            long j = eider__index_get(&defs->by_key, a->deps[d]);
            if (j < 0) {
                rc = unknown_dep(defs, a, a->deps[d]);
                break;
            }
            if (own_past(a, a->deps[d])) {
                a->reads_own_past = 1;
                continue;
            }
            a->up[a->n_up++] = (uint32_t)j;
            n_down[j]++;
        }
    }
    for (size_t i = 0; i < defs->n_assets; i++)
        defs->assets[i].down = eider__xmalloc(n_down[i] * sizeof(uint32_t));
    for (size_t i = 0; i < defs->n_assets; i++)
        for (size_t d = 0; d < defs->assets[i].n_up; d++) {
            eider__asset *up = &defs->assets[defs->assets[i].up[d]];
            up->down[up->n_down++] = (uint32_t)i;
        }
    free(n_down);
    return rc;
}

/* The mapping of a's partitions onto those of up, into *out. */
static int check_mapping(eider_defs *defs, const eider__asset *a, const eider__asset *up,
                         eider_partition_mapping *out)
{
    const eider_input_def *in = input_of(a, up->key);
    const eider_partition_mapping *declared = in ? &in->partition_mapping : NULL;
    eider__buf err = { 0 };
    int rc = EIDER_OK;
    memset(out, 0, sizeof(*out));
    if (declared && declared->kind != EIDER_MAP_INFER && (!a->partitions || !up->partitions))
        rc = eider__defs_error(defs, EIDER_EINVAL, "asset '%s' declares a partition_mapping for "
            "input '%s', but %s is not partitioned: remove the mapping", a->key, up->key,
            a->partitions ? "the input" : "the asset");
    else if (a->partitions && up->partitions &&
             eider__mapping_check(a->partitions, up->partitions, declared, out, &err))
        rc = eider__defs_error(defs, EIDER_EINVAL, "asset '%s' reads asset '%s', but %s", a->key,
                               up->key, eider__buf_str(&err));
    eider__buf_release(&err);
    return rc;
}

static int check_mappings(eider_defs *defs)
{
    int rc = EIDER_OK;
    for (size_t i = 0; i < defs->n_assets && !rc; i++) {
        eider__asset *a = &defs->assets[i];
        a->up_maps = eider__xcalloc(a->n_up ? a->n_up : 1, sizeof(*a->up_maps));
        for (size_t d = 0; d < a->n_up && !rc; d++)
            rc = check_mapping(defs, a, &defs->assets[a->up[d]], &a->up_maps[d]);
        if (!rc && a->reads_own_past)
            rc = check_mapping(defs, a, a, &a->own_map);
    }
    return rc;
}

static int check_resources(eider_defs *defs)
{
    for (size_t i = 0; i < defs->n_assets; i++) {
        const eider__asset *a = &defs->assets[i];
        for (size_t r = 0; r < a->n_resources; r++)
            if (!eider__defs_resource(defs, a->resources[r]))
                return eider__defs_error(defs, EIDER_ENORESOURCE,
                    "asset '%s' needs resource '%s', which is not defined: add it with "
                    "eider_duckdb_resource(defs, \"%s\", ...)", a->key, a->resources[r],
                    a->resources[r]);
    }
    return EIDER_OK;
}

/* Whether metadata key of a, when given, is one of the allowed words. */
static int check_choice(eider_defs *defs, const eider__asset *a, const char *key,
                        const char *const *allowed)
{
    const char *v = eider__asset_meta(a, key);
    eider__buf words = { 0 };
    size_t n = 0;
    if (!v)
        return EIDER_OK;
    for (; allowed[n]; n++)
        if (strcmp(v, allowed[n]) == 0)
            return EIDER_OK;
    for (size_t i = 0; i < n; i++)
        eider__buf_printf(&words, "%s'%s'", i == 0 ? "" : i + 1 < n ? ", " : " or ", allowed[i]);
    int rc = eider__defs_error(defs, EIDER_EINVAL, "asset '%s': metadata \"%s\" is '%s', but it "
                               "must be %s", a->key, key, v, eider__buf_str(&words));
    eider__buf_release(&words);
    return rc;
}

/* What goes with an incremental write (metadata "write_mode" append, merge or
 * snapshot): a merge and a snapshot name their unique key, a snapshot its check
 * columns if any; the table keeps its rows, so it is never replaced whole, nor a view,
 * nor a Parquet file (which the Parquet I/O manager rewrites). */
static int check_write_mode(eider_defs *defs, const eider__asset *a, const eider__resource *io)
{
    const char *mode = eider__asset_meta(a, "write_mode"), *key = eider__asset_meta(a, "unique_key");
    int keyed = mode && (strcmp(mode, "merge") == 0 || strcmp(mode, "snapshot") == 0);
    int snapshot = mode && strcmp(mode, "snapshot") == 0;
    int rc = check_choice(defs, a, "write_mode", EIDER_KEYS("replace", "append", "merge", "snapshot"));
    if (!rc)
        rc = check_choice(defs, a, "merge_delete_missing", EIDER_KEYS("true", "false"));
    if (!rc)
        rc = check_choice(defs, a, "snapshot_compare", EIDER_KEYS("columns", "hash"));
    if (rc)
        return rc;
    if (!keyed && key)
        return eider__defs_error(defs, EIDER_EINVAL, "asset '%s': metadata \"unique_key\" is for "
            "metadata \"write_mode\" \"merge\" or \"snapshot\", but it is \"%s\": remove the "
            "key, or choose one of those", a->key, mode ? mode : "replace");
    const char *only = eider__asset_meta(a, "check_columns") ? "check_columns"
                     : eider__asset_meta(a, "snapshot_compare") ? "snapshot_compare" : NULL;
    if (!snapshot && only)
        return eider__defs_error(defs, EIDER_EINVAL, "asset '%s': metadata \"%s\" is for "
            "metadata \"write_mode\" \"snapshot\": remove it, or snapshot", a->key, only);
    if (!mode || strcmp(mode, "replace") == 0)
        return EIDER_OK;
    if (keyed && (!key || !key[strspn(key, " \t,")]))
        return eider__defs_error(defs, EIDER_EINVAL, "asset '%s': metadata \"write_mode\" is "
            "\"%s\", which matches rows by a unique key: add EIDER_META_TEXT(\"unique_key\", "
            "\"<column>[, <column>...]\")", a->key, mode);
    const char *schema = eider__asset_meta(a, "on_schema_change");
    const char *materialized = eider__asset_meta(a, "materialized");
    const char *why = schema && strcmp(schema, "replace") == 0
        ? "metadata \"on_schema_change\" \"replace\" would replace its table, rows and all: "
          "use \"evolve\" (the default here) or \"fail\""
        : materialized && strcmp(materialized, "view") == 0
        ? "metadata \"materialized\" \"view\" keeps no rows to add to: remove one of them"
        : io && io->kind == EIDER__IO_PARQUET
        ? "the Parquet I/O manager writes each file whole: store it with a DuckDB I/O manager"
        : io && io->kind == EIDER__IO_CUSTOM
        ? "its I/O manager is one of your own, which stores as it likes: store it with a "
          "DuckDB I/O manager, or leave write_mode out"
        : io && io->kind == EIDER__IO_POSTGRES
        ? "the PostgreSQL I/O manager replaces its tables (incremental writes are the "
          "DuckDB I/O manager's, for now): leave write_mode out"
        : NULL;
    return why ? eider__defs_error(defs, EIDER_EINVAL, "asset '%s' is written with \"write_mode\" "
        "\"%s\", which keeps the rows its table has, but %s", a->key, mode, why) : EIDER_OK;
}

/* An asset's I/O manager: defined, an I/O manager, and told what it needs. */
static int check_io(eider_defs *defs, const eider__asset *a)
{
    const eider__resource *io = eider__defs_resource(defs, a->io_manager);
    int named = strcmp(a->io_manager, EIDER__DEFAULT_IO_MANAGER) != 0;
    int rc = check_choice(defs, a, "on_schema_change", EIDER_KEYS("replace", "evolve", "fail"));
    if (!rc)
        rc = check_choice(defs, a, "materialized", EIDER_KEYS("table", "view"));
    if (!rc)
        rc = check_choice(defs, a, "write_order", EIDER_KEYS("keep", "any"));
    if (!rc)
        rc = check_write_mode(defs, a, io);
    if (rc)
        return rc;
    if (!io && (named || a->output == EIDER_OUTPUT_REQUIRED))
        return eider__defs_error(defs, EIDER_ENORESOURCE, "asset '%s' is stored by I/O manager "
            "'%s', which is not defined: add it with eider_duckdb_io_manager(defs, %s%s%s, ...)",
            a->key, a->io_manager, named ? "\"" : "", named ? a->io_manager : "NULL", named ? "\"" : "");
    if (io && io->kind == EIDER__DUCKDB && (named || a->output == EIDER_OUTPUT_REQUIRED))
        return eider__defs_error(defs, EIDER_EINVAL, "asset '%s': '%s' is a DuckDB resource, not "
            "an I/O manager: define the I/O manager with eider_duckdb_io_manager()", a->key,
            a->io_manager);
    if (io && (io->kind == EIDER__IO_DUCKDB || io->kind == EIDER__IO_POSTGRES) && a->partitions &&
        a->output != EIDER_OUTPUT_NONE &&
        !eider__asset_meta(a, "partition_expr"))
        return eider__defs_error(defs, EIDER_EINVAL, "asset '%s' is partitioned, so the %s "
            "I/O manager needs to know which column holds the partition: add metadata "
            "EIDER_META_TEXT(\"partition_expr\", \"<column or SQL expression>\") (for several "
            "dimensions, a JSON object {\"dimension\": \"expression\", ...})", a->key,
            io->kind == EIDER__IO_DUCKDB ? "DuckDB" : "PostgreSQL");
    return EIDER_OK;
}

static int check_io_managers(eider_defs *defs)
{
    for (size_t i = 0; i < defs->n_assets; i++) {
        int rc = check_io(defs, &defs->assets[i]);
        if (rc)
            return rc;
    }
    return EIDER_OK;
}

/* Report a cycle through `start`, which Kahn's algorithm left unordered: walk up
 * through unordered assets until one repeats. */
static int report_cycle(eider_defs *defs, const unsigned char *ordered, size_t start)
{
    size_t n = defs->n_assets, *seen_at = eider__xmalloc(n * sizeof(*seen_at));
    size_t *path = eider__xmalloc((n + 1) * sizeof(*path)), len = 0, cur = start;
    for (size_t i = 0; i < n; i++)
        seen_at[i] = SIZE_MAX;
    while (seen_at[cur] == SIZE_MAX) {
        seen_at[cur] = len;
        path[len++] = cur;
        const eider__asset *a = &defs->assets[cur];
        for (size_t d = 0; d < a->n_up; d++)
            if (!ordered[a->up[d]]) {
                cur = a->up[d];
                break;
            }
    }
    eider__buf msg = { 0 };
    eider__buf_puts(&msg, "the assets form a dependency cycle: ");
    for (size_t i = len; i-- > seen_at[cur];)
        eider__buf_printf(&msg, "'%s' -> ", defs->assets[path[i]].key);
    eider__buf_printf(&msg, "'%s'; remove one of these dependencies", defs->assets[path[len - 1]].key);
    eider__defs_error(defs, EIDER_ECYCLE, "%s", eider__buf_str(&msg));
    eider__buf_release(&msg);
    free(seen_at);
    free(path);
    return EIDER_ECYCLE;
}

/* Kahn's algorithm; a cycle leaves assets unordered. */
static int order_graph(eider_defs *defs)
{
    size_t n = defs->n_assets, head = 0, tail = 0;
    size_t *pending = eider__xmalloc(n * sizeof(*pending));
    unsigned char *ordered = eider__xcalloc(n, 1);
    int rc = EIDER_OK;
    defs->topo = eider__xmalloc(n * sizeof(*defs->topo));
    for (size_t i = 0; i < n; i++)
        if ((pending[i] = defs->assets[i].n_up) == 0)
            defs->topo[tail++] = (uint32_t)i;
    while (head < tail) {
        const eider__asset *a = &defs->assets[defs->topo[head++]];
        ordered[defs->topo[head - 1]] = 1;
        for (size_t d = 0; d < a->n_down; d++)
            if (--pending[a->down[d]] == 0)
                defs->topo[tail++] = a->down[d];
    }
    for (size_t i = 0; i < n && tail < n; i++)
        if (!ordered[i]) {
            rc = report_cycle(defs, ordered, i);
            break;
        }
    free(pending);
    free(ordered);
    return rc;
}

/* The first part of key that names no file of its own ("", "." or ".."), or one that
 * DuckDB would read as a glob ('*', '?' or '['), or NULL. A part never holds '/' (it
 * separates them) nor NUL (it ends the key). */
static const char *bad_key_part(const char *key, size_t *len)
{
    for (const char *p = key;; p += *len + 1) {
        *len = strcspn(p, "/");
        if (*len == 0 || (p[0] == '.' && (*len == 1 || (*len == 2 && p[1] == '.'))) ||
            strcspn(p, "*?[") < *len)
            return p;
        if (!p[*len])
            return NULL;
    }
}

/* I/O managers make paths of the key's parts (base_path/a/b.parquet): a part that is
 * empty, "." or ".." would write somewhere else, outside base_path even, and one that
 * holds a glob character would load other assets' files too (read_parquet globs). */
static int check_keys(eider_defs *defs)
{
    for (size_t i = 0; i < defs->n_assets; i++) {
        size_t len = 0;
        const char *part = bad_key_part(defs->assets[i].key, &len);
        if (part)
            return eider__defs_error(defs, EIDER_EINVAL, "asset '%s': key part '%.*s' is not "
                "allowed: a part may not be empty, '.' or '..', nor hold '/', NUL, '*', '?' or '[', "
                "since I/O managers make file paths of the parts (and DuckDB reads '*', '?' and "
                "'[' in a path as a glob); rename the asset", defs->assets[i].key,
                (int)len, part);
    }
    return EIDER_OK;
}

/* The asset key names, or an error naming what (the check's asset, or the one it
 * references) and the nearest key. */
static int check_asset(eider_defs *defs, const eider__check *c, const char *key, const char *what,
                       uint32_t *index)
{
    long i = eider__index_get(&defs->by_key, key);
    if (i >= 0) {
        *index = (uint32_t)i;
        return EIDER_OK;
    }
    const char *near = closest_key(defs, key, NULL);
    return eider__defs_error(defs, EIDER_EUNKNOWNDEP, "check '%s' %s unknown asset '%s'%s%s%s",
        c->name, what, key, near ? " (did you mean '" : ": define it, or fix the key",
        near ? near : "", near ? "'?)" : "");
}

/* Whether asset `up` is upstream of asset `a` (directly or not). */
static int is_upstream(const eider_defs *defs, uint32_t a, uint32_t up, unsigned char *seen)
{
    if (seen[a])
        return 0;
    seen[a] = 1;
    for (size_t i = 0; i < defs->assets[a].n_up; i++)
        if (defs->assets[a].up[i] == up || is_upstream(defs, defs->assets[a].up[i], up, seen))
            return 1;
    return 0;
}

/* A check that references another asset's table runs in its asset's step: the other
 * asset must be upstream, so that a run writes it first. */
static int check_reference(eider_defs *defs, const eider__check *c)
{
    unsigned char *seen = eider__xcalloc(defs->n_assets, 1);
    int up = c->ref == c->asset || is_upstream(defs, c->asset, c->ref, seen);
    free(seen);
    if (up)
        return EIDER_OK;
    return eider__defs_error(defs, EIDER_EINVAL, "check '%s' of asset '%s' references '%s', "
        "which is not upstream of '%s': add '%s' to its .deps, so that a run writes it first",
        c->name, c->asset_key, c->ref_asset, c->asset_key, c->ref_asset);
}

/* Each check's asset (and the asset it references) known, its name unique among its
 * asset's checks; each asset's list of checks. */
static int link_checks(eider_defs *defs)
{
    for (size_t i = 0; i < defs->n_checks; i++) {
        eider__check *c = &defs->checks[i];
        int rc = check_asset(defs, c, c->asset_key, "is of", &c->asset);
        if (!rc && c->ref_asset)
            rc = check_asset(defs, c, c->ref_asset, "references", &c->ref);
        if (!rc && c->ref_asset)
            rc = check_reference(defs, c);
        if (rc)
            return rc;
        eider__asset *a = &defs->assets[c->asset];
        for (size_t j = 0; j < a->n_checks; j++)
            if (strcmp(defs->checks[a->checks[j]].name, c->name) == 0)
                return eider__defs_error(defs, EIDER_EDUPLICATE, "asset '%s' has two checks named "
                    "'%s': give one another .name", a->key, c->name);
        a->checks = eider__xrealloc(a->checks, (a->n_checks + 1) * sizeof(*a->checks));
        a->checks[a->n_checks++] = (uint32_t)i;
    }
    return EIDER_OK;
}

int eider_defs_validate(eider_defs *defs)
{
    if (!defs)
        return EIDER_EINVAL;
    if (defs->first_error)
        return eider__defs_error(defs, defs->first_error, "%s",
                                 eider__buf_str(&defs->first_errmsg));
    free_graph(defs);
    int rc = check_keys(defs);
    if (!rc)
        rc = eider__models_link(defs);
    if (!rc)
        rc = link_graph(defs);
    if (!rc)
        rc = check_mappings(defs);
    if (!rc)
        rc = check_resources(defs);
    if (!rc)
        rc = check_io_managers(defs);
    if (!rc)
        rc = link_checks(defs);
    if (!rc)
        rc = order_graph(defs);
    if (rc) {
        free_graph(defs);
        return rc;
    }
    eider__buf_reset(&defs->errmsg);
    defs->errcolumn = 0;
    defs->validated = 1;
    return EIDER_OK;
}
