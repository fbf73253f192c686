/*
 * lineage.c — column-level lineage of SQL models: for each output column of a model's
 * top SELECT, the columns it reads, from DuckDB's parse of the query (its JSON): a
 * column's name is its alias, or the column it is, or "#N" (its place) for another
 * unnamed expression; a column read through a table alias is that table's, an
 * unqualified one the FROM's table when there is one ("?" when there are several), and
 * each table is named by the asset that stores it once the definitions are validated.
 * A CTE or subquery is a source by its name, not traced through.
 */
#include "lineage.h"

/* The tables of a FROM tree: alias (or name) -> "schema.table", or the CTE's or
 * subquery's alias itself, into names (pairs). */
static void from_tables(json_t *from, json_t *ctes_seen, json_t *names)
{
    const char *type = json_string_value(json_object_get(from, "type"));
    if (!type)
        return;
    if (strcmp(type, "JOIN") == 0) {
        from_tables(json_object_get(from, "left"), ctes_seen, names);
        from_tables(json_object_get(from, "right"), ctes_seen, names);
        return;
    }
    const char *alias = json_string_value(json_object_get(from, "alias"));
    const char *schema = json_string_value(json_object_get(from, "schema_name"));
    const char *table = json_string_value(json_object_get(from, "table_name"));
    eider__buf full = { 0 };
    if (strcmp(type, "BASE_TABLE") == 0 && table) {
        if (schema && *schema)
            eider__buf_printf(&full, "%s.%s", schema, table);
        else
            eider__buf_puts(&full, table);           /* a CTE, or an unqualified table */
        json_object_set_new(names, alias && *alias ? alias : table,
                            json_string(eider__buf_str(&full)));
    } else if (alias && *alias) {
        json_object_set_new(names, alias, json_string(alias));   /* a subquery */
    }
    (void)ctes_seen;
    eider__buf_release(&full);
}

/* Each COLUMN_REF under e, as "table.column" by the FROM's names, appended to out. */
static void column_refs(json_t *e, json_t *names, json_t *out)
{
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_array(e)) {
        json_array_foreach(e, i, v)
            column_refs(v, names, out);
        return;
    }
    if (!json_is_object(e))
        return;
    const char *cls = json_string_value(json_object_get(e, "class"));
    if (cls && strcmp(cls, "SUBQUERY") == 0)
        return;                      /* its columns are its own query's */
    if (cls && strcmp(cls, "COLUMN_REF") == 0) {
        json_t *parts = json_object_get(e, "column_names");
        size_t n = json_array_size(parts);
        const char *col = json_string_value(json_array_get(parts, n - 1));
        const char *qual = n >= 2 ? json_string_value(json_array_get(parts, n - 2)) : NULL;
        const char *table = qual ? json_string_value(json_object_get(names, qual)) : NULL;
        eider__buf src = { 0 };
        if (!table && !qual && json_object_size(names) == 1) {
            const char *only;
            json_t *t;
            json_object_foreach(names, only, t)
                table = json_string_value(t);
        }
        eider__buf_printf(&src, "%s.%s", table ? table : qual ? qual : "?", col ? col : "?");
        json_array_append_new(out, json_string(eider__buf_str(&src)));
        eider__buf_release(&src);
        return;
    }
    json_object_foreach(e, k, v)
        column_refs(v, names, out);
}

void eider__lineage_add(eider_defs *defs, const char *model, json_t *statement)
{
    json_t *node = json_object_get(statement, "node");
    json_t *list = json_object_get(node, "select_list"), *e;
    json_t *names = json_object();
    size_t i;
    from_tables(json_object_get(node, "from_table"), NULL, names);
    json_array_foreach(list, i, e) {
        const char *alias = json_string_value(json_object_get(e, "alias"));
        const char *cls = json_string_value(json_object_get(e, "class"));
        json_t *parts = json_object_get(e, "column_names"), *srcs = json_array();
        eider__buf name = { 0 };
        if (alias && *alias)
            eider__buf_puts(&name, alias);
        else if (cls && strcmp(cls, "COLUMN_REF") == 0)
            eider__buf_puts(&name, json_string_value(json_array_get(parts, json_array_size(parts) - 1)));
        else if (cls && strcmp(cls, "STAR") == 0)
            eider__buf_puts(&name, "*");
        else
            eider__buf_printf(&name, "#%zu", i + 1);
        if (cls && strcmp(cls, "STAR") == 0) {
            const char *k;
            json_t *t;
            json_object_foreach(names, k, t) {
                eider__buf all = { 0 };
                eider__buf_printf(&all, "%s.*", json_string_value(t));
                json_array_append_new(srcs, json_string(eider__buf_str(&all)));
                eider__buf_release(&all);
            }
        } else {
            column_refs(e, names, srcs);
        }
        EIDER__GROW(defs->lineage, defs->cap_lineage, defs->n_lineage + 1);
        eider__column_lineage *c = &defs->lineage[defs->n_lineage++];
        c->model = eider__arena_strdup(&defs->arena, model);
        c->column = eider__arena_strdup(&defs->arena, eider__buf_str(&name));
        c->n_sources = json_array_size(srcs);
        c->sources = eider__arena_alloc(&defs->arena, (c->n_sources + 1) * sizeof(*c->sources));
        for (size_t s = 0; s < c->n_sources; s++)
            c->sources[s] = eider__arena_strdup(&defs->arena, json_string_value(json_array_get(srcs, s)));
        c->sources[c->n_sources] = NULL;
        eider__buf_release(&name);
        json_decref(srcs);
    }
    json_decref(names);
}

/* ---- the public accessors ---- */

/* The lineage entries of asset i: the first at *first, how many returned. */
static size_t entries_of(const eider_defs *defs, size_t i, size_t *first)
{
    if (!defs || !defs->validated || i >= defs->n_assets)
        return 0;
    const char *key = defs->assets[i].key;
    size_t n = 0;
    for (size_t e = 0; e < defs->n_lineage; e++)
        if (strcmp(defs->lineage[e].model, key) == 0) {
            if (!n)
                *first = e;
            n++;
        }
    return n;
}

size_t eider_defs_column_count(const eider_defs *defs, size_t i)
{
    size_t first = 0;
    return entries_of(defs, i, &first);
}

const char *eider_defs_column(const eider_defs *defs, size_t i, size_t j,
                              const char *const **sources)
{
    size_t first = 0, n = entries_of(defs, i, &first);
    if (j >= n)
        return NULL;
    const eider__column_lineage *c = &defs->lineage[first + j];
    if (sources)
        *sources = (const char *const *)c->sources;
    return c->column;
}
