/*
 * models.c — SQL models: a folder of .sql files, each an asset whose output is its
 * query (the key from the file's path: analytics/orders.sql is analytics/orders), and
 * whose dependencies are the tables its SQL reads, found by DuckDB's own parser
 * (json_serialize_sql) when the files are added and matched to assets when the
 * definitions are validated: a table that no asset stores is an error naming the file
 * and line, with the nearest table.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <sys/stat.h>

#include "defs.h"
#include "lineage.h"
#include "model_yaml.h"
#include "partitions.h"
#include "template.h"
#include "../duckdb/io.h"
#include "../duckdb/value.h"

#define MODEL_BYTES (16u << 20)      /* a model's file at most */

/* A model's compute: its query, stored by its I/O manager. */
static int sql_model(eider_context *ctx)
{
    return eider_output_sql(ctx, eider_user_data(ctx));
}

/* ---- the tables a query reads ---- */

/* The line of byte offset at in text, from 1. */
static size_t line_of(const char *text, size_t at)
{
    size_t line = 1;
    for (size_t i = 0; text[i] && i < at; i++)
        line += text[i] == '\n';
    return line;
}

/* Whether name is a CTE some WITH of the query defines (their scopes are not told apart:
 * a table of that name, unqualified, is the CTE). */
static int is_cte(json_t *ctes, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(ctes, i, v)
        if (strcasecmp(json_string_value(v), name) == 0)
            return 1;
    return 0;
}

/* Collect, under node, the names of CTEs into ctes and the base tables into tables. */
static void walk(json_t *node, json_t *ctes, json_t *tables)
{
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_array(node)) {
        json_array_foreach(node, i, v)
            walk(v, ctes, tables);
        return;
    }
    if (!json_is_object(node))
        return;
    const char *type = json_string_value(json_object_get(node, "type"));
    if (type && strcmp(type, "BASE_TABLE") == 0)
        json_array_append(tables, node);
    json_t *map = json_object_get(json_object_get(node, "cte_map"), "map");
    json_array_foreach(map, i, v)
        if (json_is_string(json_object_get(v, "key")))
            json_array_append(ctes, json_object_get(v, "key"));
    json_object_foreach(node, k, v)
        walk(v, ctes, tables);
}

/* Remember each table that statement (DuckDB's JSON of it) reads, for the model key
 * from file path, whose text sql starts at offset in what was parsed. */
static void add_statement_refs(eider_defs *defs, const char *key, const char *path,
                               const char *sql, json_t *statement, size_t offset)
{
    json_t *ctes = json_array(), *tables = json_array(), *v;
    size_t i, len = strlen(sql);
    walk(statement, ctes, tables);
    eider__lineage_add(defs, key, statement);
    json_array_foreach(tables, i, v) {
        const char *schema = json_string_value(json_object_get(v, "schema_name"));
        const char *table = json_string_value(json_object_get(v, "table_name"));
        double at = json_number_value(json_object_get(v, "query_location")) - (double)offset;
        if (!table || ((!schema || !*schema) && is_cte(ctes, table)))
            continue;
        EIDER__GROW(defs->model_refs, defs->cap_model_refs, defs->n_model_refs + 1);
        defs->model_refs[defs->n_model_refs++] = (eider__model_ref){
            .model = eider__arena_strdup(&defs->arena, key),
            .path = eider__arena_strdup(&defs->arena, path),
            .schema = schema && *schema ? eider__arena_strdup(&defs->arena, schema) : NULL,
            .table = eider__arena_strdup(&defs->arena, table),
            .line = at >= 0 && at < (double)len ? line_of(sql, (size_t)at) : 0,
        };
    }
    json_decref(ctes);
    json_decref(tables);
}

/* DuckDB's JSON of sql (json_serialize_sql), numbers as reals: a location not known is
 * 2^64 - 1, past what an integer holds. NULL, with the message in defs, when the query
 * itself fails. */
static json_t *parse_sql(eider_defs *defs, duckdb_prepared_statement parse, const char *path,
                         const char *sql)
{
    char *parsed = NULL;
    duckdb_result res;
    json_t *doc = NULL;
    if (duckdb_bind_varchar(parse, 1, sql) == DuckDBError ||
        duckdb_execute_prepared(parse, &res) == DuckDBError) {
        eider__defs_error(defs, EIDER_ESQL, "%s: %s", path, duckdb_result_error(&res));
    } else {
        duckdb_data_chunk c = duckdb_fetch_chunk(res);
        parsed = c ? eider__chunk_text(c, 0, 0) : NULL;
        if (c)
            duckdb_destroy_data_chunk(&c);
        doc = parsed ? json_loads(parsed, JSON_DECODE_INT_AS_REAL, NULL) : NULL;
        if (!doc)
            eider__defs_error(defs, EIDER_ESQL, "%s: DuckDB's parser gave no JSON", path);
    }
    duckdb_destroy_result(&res);
    free(parsed);
    return doc;
}

/* One model's tables, parsed alone: an error names its file. */
static int parse_refs(eider_defs *defs, duckdb_prepared_statement parse, const char *key,
                      const char *path, const char *sql)
{
    json_t *doc = parse_sql(defs, parse, path, sql);
    json_t *statements = json_object_get(doc, "statements");
    int rc = EIDER_OK;
    if (!doc)
        rc = EIDER_ESQL;
    else if (json_is_true(json_object_get(doc, "error")))
        rc = eider__defs_error(defs, EIDER_ESQL, "%s: %s", path,
            json_string_value(json_object_get(doc, "error_message")) ? json_string_value(
            json_object_get(doc, "error_message")) : "DuckDB cannot parse it");
    else if (json_array_size(statements) != 1)
        rc = eider__defs_error(defs, EIDER_ESQL, "%s: a model is one SELECT statement, and "
            "this file holds %zu statements", path, json_array_size(statements));
    else
        add_statement_refs(defs, key, path, sql, json_array_get(statements, 0), 0);
    json_decref(doc);
    return rc;
}

/* ---- the files ---- */

static char *read_model(eider_defs *defs, const char *path)
{
    FILE *f = fopen(path, "rb");
    eider__buf text = { 0 };
    char chunk[8192];
    size_t n;
    if (!f) {
        eider__defs_error(defs, EIDER_EIO, "cannot read SQL model %s", path);
        return NULL;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && text.len < MODEL_BYTES)
        eider__buf_add(&text, chunk, n);
    fclose(f);
    return eider__buf_detach(&text);
}

/* The .sql files under folder (rel: the path below it so far), into files, sorted. */
static void find_models(eider_defs *defs, const char *folder, const char *rel, char ***files,
                        size_t *n, size_t *cap)
{
    eider__buf dir = { 0 };
    eider__buf_printf(&dir, "%s%s%s", folder, *rel ? "/" : "", rel);
    DIR *d = opendir(eider__buf_str(&dir));
    if (d)                           /* a model added or removed changes the folder */
        eider__defs_add_source(defs, eider__buf_str(&dir));
    struct dirent *e;
    while (d && (e = readdir(d))) {
        eider__buf sub = { 0 }, full = { 0 };
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        eider__buf_printf(&sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        eider__buf_printf(&full, "%s/%s", folder, eider__buf_str(&sub));
        size_t len = strlen(e->d_name);
        if (stat(eider__buf_str(&full), &st) == 0 && S_ISDIR(st.st_mode)) {
            find_models(defs, folder, eider__buf_str(&sub), files, n, cap);
        } else if (len > 4 && strcmp(e->d_name + len - 4, ".sql") == 0) {
            EIDER__GROW(*files, *cap, *n + 1);
            (*files)[(*n)++] = eider__buf_detach(&sub);
        }
        eider__buf_release(&sub);
        eider__buf_release(&full);
    }
    if (d)
        closedir(d);
    eider__buf_release(&dir);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The model's asset, as its configuration y says, and its checks; sql rendered. */
static int add_configured(eider_defs *defs, const char *key, const char *path, const char *sql,
                          const char *io_manager_key, eider__model_yaml *y)
{
    size_t n_kinds = 0, n_meta = y->n_meta;
    while (y->kinds && y->kinds[n_kinds])
        n_kinds++;
    const char **k = eider__xcalloc(n_kinds + 2, sizeof(*k));
    eider_meta *meta = eider__xcalloc(n_meta + 2, sizeof(*meta));
    memcpy(k, y->kinds ? (const void *)y->kinds : (const void *)k, n_kinds * sizeof(*k));
    k[n_kinds] = "sql";
    meta[0] = (eider_meta)EIDER_META_TEXT("sql_file", path);
    memcpy(meta + 1, y->meta ? (const void *)y->meta : (const void *)meta, n_meta * sizeof(*meta));
    int rc = eider_asset(defs, &(eider_asset_def){ .key = key, .compute = sql_model,
        .user_data = eider__arena_strdup(&defs->arena, sql), .io_manager_key = io_manager_key,
        .description = y->description, .group = y->group, .code_version = y->code_version,
        .tags = y->tags, .owners = y->owners, .kinds = k, .metadata = meta });
    for (size_t i = 0; !rc && i < y->n_checks; i++) {
        y->checks[i].asset = key;
        rc = eider_asset_check(defs, &y->checks[i]);
    }
    free(k);
    free(meta);
    return rc;
}

/* ---- variables: the command line's, then the model's, then the project's ---- */

typedef struct var_scope {
    const eider_defs *defs;
    const char *const *model;        /* name/value pairs, or NULL */
} var_scope;

/* The value of name among NULL-terminated name/value pairs (NULL: none), or NULL. */
static const char *pair_value(const char *const *pairs, const char *name)
{
    for (size_t i = 0; pairs && pairs[i] && pairs[i + 1]; i += 2)
        if (strcmp(pairs[i], name) == 0)
            return pairs[i + 1];
    return NULL;
}

/* The nearest of pairs' names to name, when nearer than *best. */
static void nearest(const char *const *pairs, const char *name, size_t *best, const char **near)
{
    for (size_t i = 0; pairs && pairs[i] && pairs[i + 1]; i += 2) {
        size_t d = eider__edit_distance(name, pairs[i], *best);
        if (d < *best) {
            *best = d;
            *near = pairs[i];
        }
    }
}

static const char *lookup_var(const char *name, const char **near, void *user_data)
{
    const var_scope *v = user_data;
    const char *const *lists[] = { (const char *const *)v->defs->vars, v->model,
                                    (const char *const *)v->defs->project_vars };
    const char *value = NULL;
    size_t best = strlen(name) / 3 + 2;
    for (size_t i = 0; i < 3 && !value; i++)
        value = pair_value(lists[i], name);
    for (size_t i = 0; i < 3 && !value; i++)
        nearest(lists[i], name, &best, near);
    return value;
}

/* A model read, configured and rendered, waiting for its SQL to be parsed. */
typedef struct pending {
    char *key, *path;
    eider__buf sql;                  /* rendered */
    eider__model_yaml y;
    int configured;                  /* y holds a configuration to release */
} pending;

static void pending_release(pending *m)
{
    free(m->key);
    free(m->path);
    eider__buf_release(&m->sql);
    if (m->configured)
        eider__model_yaml_release(&m->y);
}

/* Read the model at folder/rel into m: its configuration, its SQL rendered. */
static int prepare_model(eider_defs *defs, const char *folder, const char *rel, pending *m)
{
    eider__buf path = { 0 }, key = { 0 }, err = { 0 };
    eider__buf_printf(&path, "%s/%s", folder, rel);
    eider__buf_add(&key, rel, strlen(rel) - 4);
    m->path = eider__buf_detach(&path);
    m->key = eider__buf_detach(&key);
    char *text = read_model(defs, m->path);
    eider__defs_add_source(defs, m->path);
    int rc = text ? eider__model_yaml_read(defs, m->path, text, &m->y) : EIDER_EIO;
    m->configured = text != NULL;
    var_scope scope = { defs, text ? m->y.vars : NULL };
    if (!rc && eider__template_render(text, lookup_var, &scope, &m->sql, &err))
        rc = eider__defs_error(defs, EIDER_EINVAL, "%s:%s", m->path,
                               eider__buf_str(&err) + strlen("line "));
    free(text);
    eider__buf_release(&err);
    return rc;
}

#define PARSE_BATCH 64               /* models parsed by one query: a query costs more
                                        than the parse of a model */

/* The tables each of n models reads: their SQL parsed in one query, each the statement
 * of its place; when that does not hold (an error, a file of several statements or of
 * none), each alone, which names the file at fault. */
static int parse_batch(eider_defs *defs, duckdb_prepared_statement parse, pending *m, size_t n)
{
    eider__buf all = { 0 };
    size_t *offset = eider__xcalloc(n + 1, sizeof(*offset));
    for (size_t i = 0; i < n; i++) {
        offset[i] = all.len;
        eider__buf_puts(&all, eider__buf_str(&m[i].sql));
        eider__buf_puts(&all, "\n;\n");
    }
    json_t *doc = n > 1 ? parse_sql(defs, parse, m[0].path, eider__buf_str(&all)) : NULL;
    json_t *statements = json_object_get(doc, "statements");
    int whole = doc && !json_is_true(json_object_get(doc, "error")) &&
                json_array_size(statements) == n;
    int rc = EIDER_OK;
    for (size_t i = 0; i < n && !rc; i++)
        if (whole)
            add_statement_refs(defs, m[i].key, m[i].path, eider__buf_str(&m[i].sql),
                               json_array_get(statements, i), offset[i]);
        else
            rc = parse_refs(defs, parse, m[i].key, m[i].path, eider__buf_str(&m[i].sql));
    json_decref(doc);
    free(offset);
    eider__buf_release(&all);
    return rc;
}

int eider_sql_models(eider_defs *defs, const char *folder, const char *io_manager_key)
{
    duckdb_database db = NULL;
    duckdb_connection con = NULL;
    duckdb_prepared_statement parse = NULL;
    char **files = NULL;
    size_t n = 0, cap = 0;
    struct stat st;
    int rc = EIDER_OK;
    if (!defs)
        return EIDER_EINVAL;
    if (!folder || stat(folder, &st) != 0 || !S_ISDIR(st.st_mode))
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EIO, "SQL models: '%s' "
            "is not a folder: give the folder of the .sql files", folder ? folder : "(null)"));
    find_models(defs, folder, "", &files, &n, &cap);
    if (n > 1)
        qsort(files, n, sizeof(*files), cmp_str);
    duckdb_config config = NULL;     /* one thread: a parse is no work to hand out */
    char *why = NULL;
    if (duckdb_create_config(&config) == DuckDBError ||
        duckdb_set_config(config, "threads", "1") == DuckDBError ||
        duckdb_open_ext(NULL, &db, config, &why) == DuckDBError ||
        duckdb_connect(db, &con) == DuckDBError ||
        duckdb_prepare(con, "SELECT json_serialize_sql(?::VARCHAR)", &parse) == DuckDBError)
        rc = eider__defs_error(defs, EIDER_EDUCKDB, "SQL models: DuckDB cannot parse them here%s%s",
                               why ? ": " : "", why ? why : "");
    duckdb_destroy_config(&config);
    duckdb_free(why);
    pending *models = eider__xcalloc(n + 1, sizeof(*models));
    for (size_t i = 0; i < n && !rc; i++)
        rc = prepare_model(defs, folder, files[i], &models[i]);
    for (size_t i = 0; i < n && !rc; i += PARSE_BATCH)
        rc = parse_batch(defs, parse, models + i, n - i < PARSE_BATCH ? n - i : PARSE_BATCH);
    for (size_t i = 0; i < n && !rc; i++)
        rc = add_configured(defs, models[i].key, models[i].path, eider__buf_str(&models[i].sql),
                            io_manager_key, &models[i].y);
    for (size_t i = 0; i < n; i++)
        pending_release(&models[i]);
    free(models);
    eider__strv_free(files, n);
    duckdb_destroy_prepare(&parse);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return rc ? eider__defs_remember(defs, rc) : EIDER_OK;
}

/* ---- at validation: each table a model reads, an asset ---- */

/* Asset a's table as the DuckDB I/O manager names it ("schema.table"). */
static void table_name(const eider_defs *defs, const eider__asset *a, eider__buf *out)
{
    eider__table t;
    const eider__resource *r = eider__defs_resource(defs, a->io_manager);
    eider__table_of(a, r && r->kind != EIDER__DUCKDB ? r : NULL, NULL, &t);
    eider__buf_printf(out, "%s.%s", t.schema, t.table);
    eider__table_release(&t);
}

/* The table name nearest to the one ref names (by schema.table, or by table when ref
 * gives no schema), into near; left empty when none is near. For an error's words. */
static void nearest_table(const eider_defs *defs, const eider__model_ref *ref, eider__buf *near)
{
    eider__buf wanted = { 0 };
    size_t best = 4;
    eider__buf_printf(&wanted, "%s%s%s", ref->schema ? ref->schema : "", ref->schema ? "." : "",
                      ref->table);
    for (size_t i = 0; i < defs->n_assets; i++) {
        eider__buf name = { 0 };
        table_name(defs, &defs->assets[i], &name);
        const char *shown = ref->schema ? eider__buf_str(&name) : strchr(eider__buf_str(&name), '.') + 1;
        size_t d = eider__edit_distance(eider__buf_str(&wanted), shown, best - 1);
        if (d < best) {
            best = d;
            eider__buf_reset(near);
            eider__buf_puts(near, shown);
        }
        eider__buf_release(&name);
    }
    eider__buf_release(&wanted);
}

static int unknown_table(eider_defs *defs, const eider__model_ref *ref, long found, const char *near)
{
    if (found == -2)
        return eider__defs_error(defs, EIDER_EUNKNOWNDEP, "%s:%zu: table '%s' is the table of "
            "several assets: qualify it with its schema", ref->path, ref->line, ref->table);
    return eider__defs_error(defs, EIDER_EUNKNOWNDEP, "%s:%zu: model '%s' reads table '%s%s%s', "
        "which no asset stores%s%s%s", ref->path, ref->line, ref->model,
        ref->schema ? ref->schema : "", ref->schema ? "." : "", ref->table,
        *near ? " (did you mean '" : ": add a model of it, or declare it as a source "
                                     "(eider.yaml's sources, or eider_asset_spec())",
        near, *near ? "'?)" : "");
}

/* Every asset's table, lowercased (DuckDB's names are), by "schema.table" and by table
 * alone; a name two assets share is in the dup index too. */
typedef struct table_index {
    eider__index full, bare, full_dup, bare_dup;
    eider__arena names;
} table_index;

static char *lowered(eider__arena *a, const char *s)
{
    char *out = eider__arena_strdup(a, s);
    for (char *p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return out;
}

static void index_put(eider__index *ix, eider__index *dup, const char *key, uint32_t i)
{
    if (eider__index_put(ix, key, i))
        eider__index_put(dup, key, i);
}

static void index_tables(const eider_defs *defs, table_index *t)
{
    memset(t, 0, sizeof(*t));
    for (size_t i = 0; i < defs->n_assets; i++) {
        eider__buf name = { 0 };
        table_name(defs, &defs->assets[i], &name);
        char *full = lowered(&t->names, eider__buf_str(&name));
        index_put(&t->full, &t->full_dup, full, (uint32_t)i);
        index_put(&t->bare, &t->bare_dup, strchr(full, '.') + 1, (uint32_t)i);
        eider__buf_release(&name);
    }
}

static void table_index_release(table_index *t)
{
    eider__index_release(&t->full);
    eider__index_release(&t->bare);
    eider__index_release(&t->full_dup);
    eider__index_release(&t->bare_dup);
    eider__arena_release(&t->names);
}

/* The asset whose table ref names: its index, -1 when none, -2 when several. */
static long find_indexed(table_index *t, const eider__model_ref *ref)
{
    eider__buf b = { 0 };
    eider__buf_printf(&b, "%s%s%s", ref->schema ? ref->schema : "", ref->schema ? "." : "",
                      ref->table);
    for (char *p = b.data; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    const char *key = eider__buf_str(&b);
    long found = eider__index_get(ref->schema ? &t->full_dup : &t->bare_dup, key) >= 0 ? -2
               : eider__index_get(ref->schema ? &t->full : &t->bare, key);
    eider__buf_release(&b);
    return found;
}

/* Each lineage source "schema.table.column" whose table an asset stores, as
 * "asset/key.column". */
static void name_lineage(eider_defs *defs, table_index *t)
{
    for (size_t e = 0; e < defs->n_lineage; e++)
        for (size_t s = 0; s < defs->lineage[e].n_sources; s++) {
            char *src = defs->lineage[e].sources[s], *dot = strrchr(src, '.');
            eider__model_ref ref = { 0 };
            eider__buf table = { 0 }, schema = { 0 }, named = { 0 };
            if (!dot)
                continue;
            eider__buf_add(&table, src, (size_t)(dot - src));
            char *inner = strchr(table.data, '.');
            if (inner) {             /* schema.table */
                eider__buf_add(&schema, table.data, (size_t)(inner - table.data));
                ref.schema = schema.data;
                ref.table = inner + 1;
            } else {
                ref.table = table.data;
            }
            long up = find_indexed(t, &ref);
            if (up >= 0) {
                eider__buf_printf(&named, "%s%s", defs->assets[up].key, dot);
                defs->lineage[e].sources[s] = eider__arena_strdup(&defs->arena, eider__buf_str(&named));
            }
            eider__buf_release(&table);
            eider__buf_release(&schema);
            eider__buf_release(&named);
        }
}

/* The key of each table a model reads among its deps (once). */
int eider__models_link(eider_defs *defs)
{
    table_index t;
    int rc = EIDER_OK;
    if (!defs->n_model_refs)
        return EIDER_OK;
    index_tables(defs, &t);
    for (size_t r = 0; r < defs->n_model_refs && !rc; r++) {
        const eider__model_ref *ref = &defs->model_refs[r];
        long m = eider__index_get(&defs->by_key, ref->model);
        long up = m < 0 ? -1 : find_indexed(&t, ref);
        if (m >= 0 && up < 0) {
            eider__buf near = { 0 };
            nearest_table(defs, ref, &near);
            rc = unknown_table(defs, ref, up, eider__buf_str(&near));
            eider__buf_release(&near);
            break;
        }
        if (m < 0 || up == m)
            continue;                /* (a model reading its own table: no dependency) */
        eider__asset *a = &defs->assets[m];
        const char *key = defs->assets[up].key;
        size_t d = 0;
        while (d < a->n_deps && strcmp(a->deps[d], key) != 0)
            d++;
        if (d < a->n_deps)
            continue;
        char **deps = eider__arena_alloc(&defs->arena, (a->n_deps + 2) * sizeof(*deps));
        memcpy(deps, a->deps, a->n_deps * sizeof(*deps));
        deps[a->n_deps++] = (char *)key;
        deps[a->n_deps] = NULL;
        a->deps = deps;
    }
    if (!rc)
        name_lineage(defs, &t);
    table_index_release(&t);
    return rc;
}
