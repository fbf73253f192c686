/*
 * model_yaml.c — configuration in YAML (read by libyaml): an SQL model's, in a header
 * block at the top of its file, "/" "* eider" ... "*" "/", or a file beside it (orders.sql:
 * orders.yaml), which gives what an eider_asset_def gives (description, group, tags,
 * owners, kinds, code_version, metadata, and the I/O manager's keys as shortcuts:
 * schema, table, write_mode, unique_key, ...) and the model's checks; and a project's,
 * eider.yaml (eider_project()): its DuckDB database, the model folders, the external
 * sources. Every error names the file and line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <strings.h>
#include <sys/stat.h>

#include "model_yaml.h"

#define HEADER "/* eider"

/* The metadata keys a model may give at the top level (the DuckDB I/O manager's). */
static const char *const meta_keys[] = {
    "schema", "table", "write_mode", "unique_key", "merge_delete_missing", "check_columns",
    "snapshot_compare", "materialized", "on_schema_change", "write_order", "partition_expr", NULL,
};
static const char *const top_keys[] = {
    "description", "group", "code_version", "owners", "kinds", "tags", "metadata", "checks",
    "vars", NULL,
};
static const char *const check_keys[] = {
    "name", "description", "blocking", "severity", "not_null", "unique", "accepted_values",
    "row_count", "references", "freshness", "columns", "sql", NULL,
};

typedef struct reader {
    eider_defs *defs;
    eider__model_yaml *y;
    const char *path;                /* the file the YAML is in, for messages */
    size_t line0;                    /* its first line's number in that file, less 1 */
} reader;

static int fail(reader *r, const yaml_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(reader *r, const yaml_node_t *at, const char *fmt, ...)
{
    eider__buf msg = { 0 };
    va_list ap;
    va_start(ap, fmt);
    eider__buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    eider__defs_error(r->defs, EIDER_EINVAL, "%s:%zu: %s", r->path,
                      r->line0 + (at ? at->start_mark.line + 1 : 1), eider__buf_str(&msg));
    eider__buf_release(&msg);
    return EIDER_EINVAL;
}

static yaml_node_t *node(reader *r, int i)
{
    return yaml_document_get_node(&r->y->doc, i);
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Keep p (malloc'd) until the configuration is released; returns it. */
static void *own(eider__model_yaml *y, void *p)
{
    EIDER__GROW(y->owned, y->cap_owned, y->n_owned + 1);
    y->owned[y->n_owned++] = p;
    return p;
}

/* A scalar, or a list of scalars, as a NULL-terminated list (a scalar is one item). */
static const char *const *list_of(reader *r, const yaml_node_t *n, const char *what)
{
    size_t count = n->type == YAML_SEQUENCE_NODE
                 ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start) : 1;
    const char **v = own(r->y, eider__xcalloc(count + 1, sizeof(*v)));
    if (n->type == YAML_SCALAR_NODE) {
        v[0] = scalar(n);
        return v;
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        fail(r, n, "%s: give a name or a list of names", what);
        return NULL;
    }
    for (size_t i = 0; i < count; i++)
        if (!(v[i] = scalar(node(r, n->data.sequence.items.start[i])))) {
            fail(r, n, "%s: each item is a name, not a list or a mapping", what);
            return NULL;
        }
    return v;
}

/* A mapping of scalars as a NULL-terminated list of pairs (EIDER_TAGS's form). */
static const char *const *pairs_of(reader *r, const yaml_node_t *n, const char *what)
{
    if (n->type != YAML_MAPPING_NODE) {
        fail(r, n, "%s: give a mapping (name: value)", what);
        return NULL;
    }
    size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    const char **v = own(r->y, eider__xcalloc(2 * count + 1, sizeof(*v)));
    for (size_t i = 0; i < count; i++) {
        yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
        v[2 * i] = scalar(node(r, p->key));
        v[2 * i + 1] = scalar(node(r, p->value));
        if (!v[2 * i] || !v[2 * i + 1]) {
            fail(r, node(r, p->key), "%s: each value is a scalar", what);
            return NULL;
        }
    }
    return v;
}

/* Whether key is among known; else an error with the nearest one. */
static int known(reader *r, const yaml_node_t *at, const char *key, const char *const *keys,
                 const char *where)
{
    const char *near = NULL;
    size_t best = 3;
    for (size_t i = 0; keys[i]; i++) {
        if (strcmp(keys[i], key) == 0)
            return 1;
        size_t d = eider__edit_distance(key, keys[i], best);
        if (d < best) {
            best = d;
            near = keys[i];
        }
    }
    fail(r, at, "unknown key '%s' in %s%s%s%s", key, where, near ? " (did you mean '" : "",
         near ? near : "", near ? "'?)" : "");
    return 0;
}

static void add_meta(eider__model_yaml *y, const char *key, const char *value)
{
    EIDER__GROW(y->meta, y->cap_meta, y->n_meta + 2);
    y->meta[y->n_meta++] = (eider_meta)EIDER_META_TEXT(key, value);
    y->meta[y->n_meta] = (eider_meta){ 0 };
}

/* ---- checks ---- */

static int int_of(reader *r, const yaml_node_t *n, const char *what, int64_t *out)
{
    const char *s = scalar(n);
    char *end = NULL;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || !*s || *end)
        return fail(r, n, "%s: give a whole number", what);
    *out = v;
    return EIDER_OK;
}

static int check_compound(reader *r, const char *key, const yaml_node_t *v, eider_check_def *c);

/* One item of a check's mapping, key: value, into c. */
static int check_item(reader *r, const char *key, const yaml_node_t *v, eider_check_def *c)
{
    const char *s = scalar(v);
    if (strcmp(key, "name") == 0 || strcmp(key, "description") == 0 || strcmp(key, "sql") == 0 ||
        strcmp(key, "references") == 0 || strcmp(key, "severity") == 0 || strcmp(key, "blocking") == 0) {
        if (!s)
            return fail(r, v, "checks: '%s' is a scalar", key);
    }
    if (strcmp(key, "name") == 0)
        c->name = s;
    else if (strcmp(key, "description") == 0)
        c->description = s;
    else if (strcmp(key, "sql") == 0)
        c->sql = s;
    else if (strcmp(key, "blocking") == 0)
        c->blocking = strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 || strcmp(s, "1") == 0;
    else if (strcmp(key, "severity") == 0 && strcmp(s, "warn") && strcmp(s, "error"))
        return fail(r, v, "checks: severity is 'error' or 'warn', not '%s'", s);
    else if (strcmp(key, "severity") == 0)
        c->severity = strcmp(s, "warn") == 0 ? EIDER_CHECK_WARN : EIDER_CHECK_ERROR;
    else if (strcmp(key, "not_null") == 0)
        return (c->not_null = list_of(r, v, "checks: not_null")) ? EIDER_OK : EIDER_EINVAL;
    else if (strcmp(key, "unique") == 0)
        return (c->unique = list_of(r, v, "checks: unique")) ? EIDER_OK : EIDER_EINVAL;
    else if (strcmp(key, "columns") == 0)
        return (c->columns = pairs_of(r, v, "checks: columns")) ? EIDER_OK : EIDER_EINVAL;
    else if (strcmp(key, "references") == 0)
        c->references = s;
    else
        return check_compound(r, key, v, c);
    return EIDER_OK;
}

/* The kinds given as a mapping: accepted_values {column, values}, row_count {min, max},
 * freshness {column, within_s}; a column of references sits beside it as "column". */
static int check_compound(reader *r, const char *key, const yaml_node_t *v, eider_check_def *c)
{
    if (v->type != YAML_MAPPING_NODE)
        return fail(r, v, "checks: '%s' is a mapping", key);
    eider_check_range *range = strcmp(key, "row_count") == 0
                             ? own(r->y, eider__xcalloc(1, sizeof(*range))) : NULL;
    if (range) {
        range->max = -1;
        c->row_count = range;
    }
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const char *k = scalar(node(r, p->key));
        yaml_node_t *val = node(r, p->value);
        int rc = EIDER_OK;
        if (!k)
            return fail(r, v, "checks: %s's keys are names", key);
        if (strcmp(k, "column") == 0 && scalar(val))
            c->column = scalar(val);
        else if (strcmp(key, "accepted_values") == 0 && strcmp(k, "values") == 0)
            rc = (c->accepted_values = list_of(r, val, "checks: accepted_values")) ? EIDER_OK : EIDER_EINVAL;
        else if (range && strcmp(k, "min") == 0)
            rc = int_of(r, val, "checks: row_count's min", &range->min);
        else if (range && strcmp(k, "max") == 0)
            rc = int_of(r, val, "checks: row_count's max", &range->max);
        else if (strcmp(key, "freshness") == 0 && strcmp(k, "within_s") == 0 && scalar(val))
            c->fresh_within_s = strtod(scalar(val), NULL);
        else
            rc = fail(r, node(r, p->key), "checks: '%s' has no '%s'", key, k);
        if (rc)
            return rc;
    }
    return EIDER_OK;
}

static int read_checks(reader *r, const yaml_node_t *n)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(r, n, "checks: give a list of checks (- not_null: [id])");
    for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
        yaml_node_t *m = node(r, *i);
        eider_check_def c = { 0 };
        if (m->type != YAML_MAPPING_NODE)
            return fail(r, m, "checks: each check is a mapping (- not_null: [id])");
        for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
            const char *k = scalar(node(r, p->key));
            if (!k || !known(r, node(r, p->key), k ? k : "", check_keys, "a check"))
                return EIDER_EINVAL;
            if (check_item(r, k, node(r, p->value), &c))
                return EIDER_EINVAL;
        }
        EIDER__GROW(r->y->checks, r->y->cap_checks, r->y->n_checks + 1);
        r->y->checks[r->y->n_checks++] = c;
    }
    return EIDER_OK;
}

/* ---- the document ---- */

/* key: value at the top level. */
static int top_item(reader *r, const char *key, const yaml_node_t *v)
{
    eider__model_yaml *y = r->y;
    const char *s = scalar(v);
    for (size_t i = 0; meta_keys[i]; i++)
        if (strcmp(key, meta_keys[i]) == 0) {
            const char *const *l = s ? NULL : list_of(r, v, key);   /* unique_key: [a, b] */
            eider__buf joined = { 0 };
            for (size_t j = 0; l && l[j]; j++)
                eider__buf_printf(&joined, "%s%s", j ? "," : "", l[j]);
            if (!s && !l)
                return EIDER_EINVAL;
            add_meta(y, key, s ? s : own(y, eider__buf_detach(&joined)));
            eider__buf_release(&joined);
            return EIDER_OK;
        }
    if (!known(r, v, key, top_keys, "a model's configuration"))
        return EIDER_EINVAL;
    if (strcmp(key, "checks") == 0)
        return read_checks(r, v);
    if (strcmp(key, "owners") == 0 || strcmp(key, "kinds") == 0) {
        const char *const *l = list_of(r, v, key);
        *(strcmp(key, "owners") == 0 ? &y->owners : &y->kinds) = l;
        return l ? EIDER_OK : EIDER_EINVAL;
    }
    if (strcmp(key, "tags") == 0 || strcmp(key, "metadata") == 0 || strcmp(key, "vars") == 0) {
        const char *const *p = pairs_of(r, v, key);
        if (p && strcmp(key, "tags") == 0)
            y->tags = p;
        if (p && strcmp(key, "vars") == 0)
            y->vars = p;
        for (size_t i = 0; p && p[i] && strcmp(key, "metadata") == 0; i += 2)
            add_meta(y, p[i], p[i + 1]);
        return p ? EIDER_OK : EIDER_EINVAL;
    }
    if (!s)
        return fail(r, v, "'%s' is a scalar", key);
    *(strcmp(key, "description") == 0 ? &y->description
      : strcmp(key, "group") == 0 ? &y->group : &y->code_version) = s;
    return EIDER_OK;
}

/* Parse text into r->y->doc; the message, with file and line, when it is no YAML. */
static int read_document_only(reader *r, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int ok = yaml_parser_load(&parser, &r->y->doc);
    if (!ok) {
        eider__defs_error(r->defs, EIDER_EINVAL, "%s:%zu: %s%s%s", r->path,
                          r->line0 + parser.problem_mark.line + 1,
                          parser.problem ? parser.problem : "not YAML",
                          parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return EIDER_EINVAL;
    }
    yaml_parser_delete(&parser);
    r->y->loaded = 1;
    return EIDER_OK;
}

static int read_document(reader *r, const char *text, size_t len)
{
    if (read_document_only(r, text, len))
        return EIDER_EINVAL;
    yaml_node_t *root = yaml_document_get_root_node(&r->y->doc);
    if (!root)
        return EIDER_OK;             /* empty: nothing configured */
    if (root->type != YAML_MAPPING_NODE)
        return fail(r, root, "a model's configuration is a mapping (description: ...)");
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        const char *k = scalar(node(r, p->key));
        if (!k)
            return fail(r, node(r, p->key), "a key is a name");
        if (top_item(r, k, node(r, p->value)))
            return EIDER_EINVAL;
    }
    return EIDER_OK;
}

int eider__model_yaml_read(eider_defs *defs, const char *sql_path, const char *sql,
                           eider__model_yaml *y)
{
    const char *start = sql + strspn(sql, " \t\r\n");
    reader r = { defs, y, sql_path, 0 };
    memset(y, 0, sizeof(*y));
    if (strncmp(start, HEADER, strlen(HEADER)) == 0) {
        const char *body = start + strlen(HEADER), *end = strstr(body, "*/");
        for (const char *p = sql; p < body; p++)
            r.line0 += *p == '\n';
        if (!end)
            return eider__defs_error(defs, EIDER_EINVAL, "%s:%zu: the configuration block has "
                                     "no end: close it with */", sql_path, r.line0 + 1);
        return read_document(&r, body, (size_t)(end - body));
    }
    eider__buf side = { 0 };
    eider__buf_add(&side, sql_path, strlen(sql_path) - 4);
    eider__buf_puts(&side, ".yaml");
    FILE *f = fopen(eider__buf_str(&side), "rb");
    if (f)
        eider__defs_add_source(defs, eider__buf_str(&side));
    int rc = EIDER_OK;
    if (f) {
        eider__buf text = { 0 };
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
            eider__buf_add(&text, chunk, n);
        fclose(f);
        r.path = own(y, eider__buf_detach(&side));
        rc = read_document(&r, eider__buf_str(&text), text.len);
        eider__buf_release(&text);
    }
    eider__buf_release(&side);
    return rc;
}

void eider__model_yaml_release(eider__model_yaml *y)
{
    for (size_t i = 0; i < y->n_owned; i++)
        free(y->owned[i]);
    free(y->owned);
    free(y->meta);
    free(y->checks);
    if (y->loaded)
        yaml_document_delete(&y->doc);
    memset(y, 0, sizeof(*y));
}

/* ---- a project: eider.yaml ---- */

static const char *const project_keys[] = { "database", "schema", "models", "sources", "vars",
                                             NULL };
static const char *const source_keys[] = {
    "description", "group", "owners", "kinds", "tags", "metadata", "schema", "table", NULL,
};

/* path, or dir/path when path is relative and dir is not "." (a malloc'd string kept). */
static const char *beside(eider__model_yaml *y, const char *dir, const char *path)
{
    if (path[0] == '/' || strcmp(dir, ".") == 0)
        return path;
    eider__buf b = { 0 };
    eider__buf_printf(&b, "%s/%s", dir, path);
    return own(y, eider__buf_detach(&b));
}

/* One external source, key: {description, ...}. */
static int add_source(reader *r, const char *key, const yaml_node_t *v)
{
    eider__model_yaml cfg = { 0 };
    reader sub = { r->defs, &cfg, r->path, r->line0 };
    int rc = EIDER_OK;
    cfg.doc = r->y->doc;             /* (the nodes are the project's: not freed twice) */
    if (v->type != YAML_MAPPING_NODE && !(v->type == YAML_SCALAR_NODE && !*scalar(v)))
        return fail(r, v, "sources: '%s' is a mapping (description: ...), or empty", key);
    for (yaml_node_pair_t *p = v->type == YAML_MAPPING_NODE ? v->data.mapping.pairs.start : NULL;
         p && p < v->data.mapping.pairs.top && !rc; p++) {
        const char *k = scalar(node(&sub, p->key));
        if (!k || !known(&sub, node(&sub, p->key), k, source_keys, "a source"))
            rc = EIDER_EINVAL;
        else
            rc = top_item(&sub, k, node(&sub, p->value));
    }
    if (!rc)
        rc = eider_asset_spec(r->defs, &(eider_asset_spec_def){ .key = key,
            .description = cfg.description, .group = cfg.group, .owners = cfg.owners,
            .kinds = cfg.kinds, .tags = cfg.tags, .metadata = cfg.meta });
    cfg.loaded = 0;
    eider__model_yaml_release(&cfg);
    return rc;
}

/* The project's settings into defs: its I/O manager, sources, then models. */
static int read_project(reader *r, const char *dir, const yaml_node_t *root)
{
    const char *database = NULL, *schema = NULL;
    const yaml_node_t *models = NULL, *sources = NULL;
    int rc = EIDER_OK;
    if (root && root->type != YAML_MAPPING_NODE)
        return fail(r, root, "a project is a mapping (database: ..., models: ...)");
    for (yaml_node_pair_t *p = root ? root->data.mapping.pairs.start : NULL;
         p && p < root->data.mapping.pairs.top; p++) {
        const char *k = scalar(node(r, p->key));
        yaml_node_t *v = node(r, p->value);
        if (!k || !known(r, node(r, p->key), k, project_keys, "eider.yaml"))
            return EIDER_EINVAL;
        if ((strcmp(k, "database") == 0 || strcmp(k, "schema") == 0) && !scalar(v))
            return fail(r, v, "'%s' is a scalar", k);
        if (strcmp(k, "vars") == 0) {
            const char *const *vars = pairs_of(r, v, "vars");
            for (size_t i = 0; vars && vars[i]; i += 2)
                if (eider__defs_project_var(r->defs, vars[i], vars[i + 1]))
                    return fail(r, v, "vars: '%s' is no variable name: letters, digits and '_'",
                                vars[i]);
            if (!vars)
                return EIDER_EINVAL;
        } else if (strcmp(k, "database") == 0)
            database = scalar(v);
        else if (strcmp(k, "schema") == 0)
            schema = scalar(v);
        else if (strcmp(k, "models") == 0)
            models = v;
        else
            sources = v;
    }
    if (database)
        rc = eider_duckdb_io_manager(r->defs, NULL, &(eider_duckdb_io_config){
            .database = beside(r->y, dir, database), .schema = schema });
    if (!rc && sources && sources->type != YAML_MAPPING_NODE)
        rc = fail(r, sources, "sources: give a mapping of keys (raw/events: {...})");
    for (yaml_node_pair_t *p = sources && !rc ? sources->data.mapping.pairs.start : NULL;
         p && p < sources->data.mapping.pairs.top && !rc; p++) {
        const char *k = scalar(node(r, p->key));
        rc = k ? add_source(r, k, node(r, p->value)) : fail(r, sources, "sources: a key is a name");
    }
    const char *const *folders = models ? list_of(r, models, "models") : NULL;
    if (models && !folders)
        rc = EIDER_EINVAL;
    struct stat st;
    const char *fallback = beside(r->y, dir, "models");
    if (!rc && !folders && stat(fallback, &st) == 0 && S_ISDIR(st.st_mode))
        rc = eider_sql_models(r->defs, fallback, NULL);
    for (size_t i = 0; !rc && folders && folders[i]; i++)
        rc = eider_sql_models(r->defs, beside(r->y, dir, folders[i]), NULL);
    return rc;
}

int eider_project(eider_defs *defs, const char *path)
{
    eider__model_yaml y;
    reader r = { defs, &y, path, 0 };
    eider__buf text = { 0 }, dir = { 0 };
    char chunk[4096];
    size_t n;
    memset(&y, 0, sizeof(y));
    if (!defs)
        return EIDER_EINVAL;
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f)
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EIO, "cannot read the "
            "project file '%s': %s", path ? path : "(null)", strerror(errno)));
    eider__defs_add_source(defs, path);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        eider__buf_add(&text, chunk, n);
    fclose(f);
    const char *slash = strrchr(path, '/');
    eider__buf_add(&dir, slash ? path : ".", slash ? (size_t)(slash - path) + (slash == path) : 1);
    int rc = read_document_only(&r, eider__buf_str(&text), text.len);
    if (!rc)
        rc = read_project(&r, eider__buf_str(&dir), yaml_document_get_root_node(&y.doc));
    eider__model_yaml_release(&y);
    eider__buf_release(&text);
    eider__buf_release(&dir);
    return rc ? eider__defs_remember(defs, rc) : EIDER_OK;
}
