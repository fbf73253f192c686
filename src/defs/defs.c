/*
 * defs.c — the definitions registry: copying assets, external assets and resources
 * in, the read-only views of them, and the error codes' names and messages.
 */
#include <ctype.h>
#include <math.h>

#include <stdatomic.h>
#include <sys/stat.h>

#include "defs.h"
#include "partitions.h"
#include "../io/managers.h"

#define ERR_NAME(name, code, msg) case code: return "EIDER_E" #name;
#define ERR_MSG(name, code, msg) case code: return msg;

const char *eider_errname(int err)
{
    switch (err) {
    case EIDER_OK: return "EIDER_OK";
    EIDER_ERRNO_MAP(ERR_NAME)
    default: return "EIDER_EUNKNOWN";
    }
}

const char *eider_strerror(int err)
{
    switch (err) {
    case EIDER_OK: return "success";
    EIDER_ERRNO_MAP(ERR_MSG)
    default: return "unknown error";
    }
}

const char *eider_version(void)
{
    return EIDER_VERSION;
}

eider_defs *eider_defs_new(void)
{
    static _Atomic uint64_t made;
    eider_defs *defs = eider__xcalloc(1, sizeof(eider_defs));
    defs->serial = atomic_fetch_add(&made, 1) + 1;
    return defs;
}

void eider_defs_free(eider_defs *defs)
{
    if (!defs)
        return;
    for (size_t i = 0; i < defs->n_assets; i++) {
        free(defs->assets[i].up);
        free(defs->assets[i].down);
        free(defs->assets[i].up_maps);
        free(defs->assets[i].checks);
    }
    free(defs->checks);
    free(defs->model_refs);
    free(defs->lineage);
    free(defs->sources);
    free(defs->vars);
    free(defs->project_vars);
    free(defs->assets);
    free(defs->dynamic);
    for (size_t i = 0; i < defs->n_resources; i++) {
        const eider__resource *r = &defs->resources[i];
        if (r->methods.free)         /* before its library closes */
            r->methods.free(r->methods.user_data);
        free(defs->resources[i].handlers);
    }
    free(defs->resources);
    free(defs->topo);
    eider__index_release(&defs->by_key);
    eider__buf_release(&defs->errmsg);
    eider__buf_release(&defs->first_errmsg);
    eider__buf_release(&defs->warnings);
    eider__defs_close_libraries(defs);
    eider__arena_release(&defs->arena);
    free(defs);
}

int eider__defs_error(eider_defs *defs, int code, const char *fmt, ...)
{
    va_list ap;
    eider__buf_reset(&defs->errmsg);
    defs->errcolumn = 0;
    va_start(ap, fmt);
    eider__buf_vprintf(&defs->errmsg, fmt, ap);
    va_end(ap);
    return code;
}

/* Remember the first error found while adding, for eider_defs_validate(). */
int eider__defs_remember(eider_defs *defs, int code)
{
    if (!defs->first_error) {
        defs->first_error = code;
        eider__buf_puts(&defs->first_errmsg, eider__buf_str(&defs->errmsg));
    }
    return code;
}

const char *eider_defs_warnings(const eider_defs *defs)
{
    return defs ? eider__buf_str(&defs->warnings) : "";
}

const char *eider_defs_errmsg(const eider_defs *defs)
{
    return defs ? eider__buf_str(&defs->errmsg) : "";
}

size_t eider_defs_errcolumn(const eider_defs *defs)
{
    return defs ? defs->errcolumn : 0;
}

/* A key is one or more parts separated by '/', none empty. */
static int key_is_valid(const char *key)
{
    if (!key || !*key || *key == '/')
        return 0;
    for (const char *p = key; *p; p++)
        if ((*p == '/' && (p[1] == '/' || p[1] == '\0')) || (unsigned char)*p < 0x20)
            return 0;
    return 1;
}

static char *full_key(eider_defs *defs, const char *prefix, const char *key)
{
    if (!prefix || !*prefix)
        return eider__arena_strdup(&defs->arena, key);
    size_t lp = strlen(prefix), lk = strlen(key);
    char *s = eider__arena_alloc(&defs->arena, lp + lk + 2);
    memcpy(s, prefix, lp);
    s[lp] = '/';
    memcpy(s + lp + 1, key, lk + 1);
    return s;
}

static eider_meta *copy_metadata(eider_defs *defs, const eider_meta *m, size_t *n)
{
    size_t count = 0;
    while (m && m[count].key)
        count++;
    eider_meta *out = eider__arena_alloc(&defs->arena, (count + 1) * sizeof(*out));
    for (size_t i = 0; i < count; i++) {
        out[i] = m[i];
        out[i].key = eider__arena_strdup(&defs->arena, m[i].key);
        out[i].text = eider__arena_strdup(&defs->arena, m[i].text);
    }
    memset(&out[count], 0, sizeof(out[count]));
    *n = count;
    return out;
}

/* The fields an asset and an external asset share. */
typedef struct common_fields {
    const char *key, *key_prefix, *description, *group, *code_version;
    const char *const *deps, *const *tags, *const *kinds, *const *owners;
    const eider_meta *metadata;
} common_fields;

static int add_common(eider_defs *defs, const common_fields *f, eider__asset **out)
{
    const char *what = f->key ? f->key : "(null)";
    if (!key_is_valid(f->key) || (f->key_prefix && *f->key_prefix && !key_is_valid(f->key_prefix)))
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EINVAL,
            "asset key '%s' is not valid: use names separated by '/', none empty", what));
    char *key = full_key(defs, f->key_prefix, f->key);
    if (eider__index_get(&defs->by_key, key) >= 0)
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EDUPLICATE,
            "asset '%s' is defined twice: give each asset a unique key", key));
    EIDER__GROW(defs->assets, defs->cap_assets, defs->n_assets + 1);
    eider__asset *a = &defs->assets[defs->n_assets];
    memset(a, 0, sizeof(*a));
    eider__arena *ar = &defs->arena;
    a->key = key;
    a->description = eider__arena_strdup(ar, f->description);
    a->group = eider__arena_strdup(ar, f->group && *f->group ? f->group : "default");
    a->code_version = eider__arena_strdup(ar, f->code_version);
    a->deps = eider__arena_strv(ar, f->deps, &a->n_deps);
    a->tags = eider__arena_strv(ar, f->tags, &a->n_tags);
    a->kinds = eider__arena_strv(ar, f->kinds, &a->n_kinds);
    a->owners = eider__arena_strv(ar, f->owners, &a->n_owners);
    a->metadata = copy_metadata(defs, f->metadata, &a->n_metadata);
    eider__index_put(&defs->by_key, key, (uint32_t)defs->n_assets);
    defs->n_assets++;
    defs->validated = 0;
    if (a->n_tags % 2)
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EINVAL,
            "asset '%s': tags must be key/value pairs, but the last tag '%s' has no value",
            key, a->tags[a->n_tags - 1]));
    *out = a;
    return EIDER_OK;
}

/* The size of each definition struct in each API version. Structs only grow at the
 * end, so what a library built against an older eider.h passes is a prefix of today's
 * struct: as_current() copies that prefix into a zeroed struct of today's layout, and
 * the fields the library never knew read as their defaults; an array of structs
 * (.ins) is walked with the stride of the library's version. When a struct grows, bump
 * EIDER_API_VERSION and add a row with the new sizes (the assert checks the count). */
#define DUCKDB_CONFIG_3 offsetof(eider_duckdb_config, secret_config)
#define DUCKDB_IO_CONFIG_3 offsetof(eider_duckdb_io_config, secret_config)
/* The I/O manager structs came with version 4 (libraries of older versions cannot name
 * them): their rows before it hold version 4's sizes. */
#define IO_MANAGER_4 offsetof(eider_io_manager_def, open), sizeof(eider_postgres_io_config)
/* The check struct came with version 5. */
#define CHECK_5 sizeof(eider_check_def)
static const struct {
    size_t asset_def, asset_spec_def, input_def, duckdb_config, duckdb_io_config;
    size_t io_manager_def, postgres_io_config, check_def;
} struct_size[] = {
    [1] = { offsetof(eider_asset_def, ins), offsetof(eider_asset_spec_def, io_manager_key),
            offsetof(eider_input_def, partition_mapping), DUCKDB_CONFIG_3, DUCKDB_IO_CONFIG_3,
            IO_MANAGER_4, CHECK_5 },
    [2] = { offsetof(eider_asset_def, partitions) + sizeof(void *), sizeof(eider_asset_spec_def),
            offsetof(eider_input_def, partition_mapping), DUCKDB_CONFIG_3, DUCKDB_IO_CONFIG_3,
            IO_MANAGER_4, CHECK_5 },
    [3] = { offsetof(eider_asset_def, partitions) + sizeof(void *), sizeof(eider_asset_spec_def),
            sizeof(eider_input_def), DUCKDB_CONFIG_3, DUCKDB_IO_CONFIG_3, IO_MANAGER_4, CHECK_5 },
    [4] = { sizeof(eider_asset_def), sizeof(eider_asset_spec_def), sizeof(eider_input_def),
            sizeof(eider_duckdb_config), sizeof(eider_duckdb_io_config), IO_MANAGER_4,
            CHECK_5 },
    [5] = { sizeof(eider_asset_def), sizeof(eider_asset_spec_def), sizeof(eider_input_def),
            sizeof(eider_duckdb_config), sizeof(eider_duckdb_io_config),
            sizeof(eider_io_manager_def), sizeof(eider_postgres_io_config), CHECK_5 },
};
_Static_assert(sizeof(struct_size) / sizeof(struct_size[0]) == EIDER_API_VERSION + 1,
               "a new EIDER_API_VERSION needs its row of struct sizes");

/* The API version of the caller adding definitions now. */
static int caller_api(const eider_defs *defs)
{
    int v = defs->caller_api;
    return v >= 1 && v < EIDER_API_VERSION ? v : EIDER_API_VERSION;
}

/* def as a struct of today's layout: def itself when its caller's version has all of
 * it, else the old_size bytes it has copied into a zeroed *full. */
static const void *as_current(const void *def, size_t old_size, void *full, size_t full_size)
{
    if (old_size >= full_size)
        return def;
    memset(full, 0, full_size);
    memcpy(full, def, old_size);
    return full;
}

/* Copy the inputs' options, and add their keys to the deps they are missing from. */
static void copy_inputs(eider_defs *defs, eider__asset *a, const eider_input_def *ins)
{
    size_t n = 0, extra = 0, stride = struct_size[caller_api(defs)].input_def;
    eider_input_def full;
#define INPUT(i) ((const eider_input_def *)as_current((const char *)ins + (i) * stride, stride, \
                                                     &full, sizeof(full)))
    while (ins && INPUT(n)->key)
        n++;
    a->ins = eider__arena_alloc(&defs->arena, (n + 1) * sizeof(*a->ins));
    for (size_t i = 0; i < n; i++) {
        const eider_input_def *in = INPUT(i);
        a->ins[i].key = eider__arena_strdup(&defs->arena, in->key);
        a->ins[i].columns = in->columns
            ? (const char *const *)eider__arena_strv(&defs->arena, in->columns, NULL) : NULL;
        eider_partition_mapping *m = &a->ins[i].partition_mapping;
        *m = in->partition_mapping;
        m->dimension = m->dimension ? eider__arena_strdup(&defs->arena, m->dimension) : NULL;
        m->pairs = m->pairs ? (const char *const *)eider__arena_strv(&defs->arena, m->pairs, NULL)
                            : NULL;
    }
#undef INPUT
    a->n_ins = n;
    char **deps = eider__arena_alloc(&defs->arena, (a->n_deps + n + 1) * sizeof(*deps));
    memcpy(deps, a->deps, a->n_deps * sizeof(*deps));
    for (size_t i = 0; i < n; i++) {
        size_t d = 0;
        while (d < a->n_deps + extra && strcmp(deps[d], a->ins[i].key) != 0)
            d++;
        if (d == a->n_deps + extra)
            deps[a->n_deps + extra++] = (char *)a->ins[i].key;
    }
    deps[a->n_deps + extra] = NULL;
    a->deps = deps;
    a->n_deps += extra;
}

static int check_retry(eider_defs *defs, const char *key, const eider_retry_policy *r)
{
    if (r->max_retries < 0 || r->max_retries > 1000 || r->delay_ms < 0)
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EINVAL, "asset '%s': retry "
            "max_retries must be 0 to 1000 and delay_ms 0 or more", key));
    if (!isfinite(r->backoff) || r->backoff < 0 || r->backoff > 100 || !isfinite(r->jitter) ||
        r->jitter < 0 || r->jitter > 10)
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EINVAL, "asset '%s': retry backoff "
            "must be 0 to 100 (a multiplier) and jitter 0 to 10 (a fraction)", key));
    return EIDER_OK;
}

int eider_asset(eider_defs *defs, const eider_asset_def *def)
{
    eider__asset *a = NULL;
    eider_asset_def full;
    if (!defs || !def)
        return EIDER_EINVAL;
    def = as_current(def, struct_size[caller_api(defs)].asset_def, &full, sizeof(full));
    common_fields f = { def->key, def->key_prefix, def->description, def->group,
                        def->code_version, def->deps, def->tags, def->kinds, def->owners,
                        def->metadata };
    int rc = add_common(defs, &f, &a);
    if (rc)
        return rc;
    a->compute = def->compute;
    a->user_data = def->user_data;
    a->retry = def->retry;
    a->resources = eider__arena_strv(&defs->arena, def->resources, &a->n_resources);
    a->io_manager = eider__arena_strdup(&defs->arena, def->io_manager_key && *def->io_manager_key
                                        ? def->io_manager_key : EIDER__DEFAULT_IO_MANAGER);
    a->output = (eider_output_kind)def->output;
    a->partitions = def->partitions;
    a->timeout_s = def->timeout_s;
    copy_inputs(defs, a, def->ins);
    if ((unsigned)def->output > EIDER_OUTPUT_OPTIONAL)
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EINVAL, "asset '%s': "
            ".output must be EIDER_OUTPUT_DEFAULT, _REQUIRED, _NONE or _OPTIONAL", a->key));
    if (!def->compute)
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EINVAL,
            "asset '%s' has no compute function: set .compute, or declare it with "
            "eider_asset_spec() if something outside Eider produces it", a->key));
    if (!isfinite(def->timeout_s) || def->timeout_s < 0 || def->timeout_s > 31 * 86400.0)
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EINVAL, "asset '%s': "
            "timeout_s must be 0 (no limit) or a number of seconds up to 31 days", a->key));
    return check_retry(defs, a->key, &def->retry);
}

int eider_asset_spec(eider_defs *defs, const eider_asset_spec_def *spec)
{
    eider__asset *a = NULL;
    eider_asset_spec_def full;
    if (!defs || !spec)
        return EIDER_EINVAL;
    spec = as_current(spec, struct_size[caller_api(defs)].asset_spec_def, &full,
                      sizeof(full));
    common_fields f = { spec->key, spec->key_prefix, spec->description, spec->group,
                        spec->code_version, spec->deps, spec->tags, spec->kinds,
                        spec->owners, spec->metadata };
    int rc = add_common(defs, &f, &a);
    if (rc)
        return rc;
    a->external = 1;
    a->resources = eider__arena_strv(&defs->arena, NULL, NULL);
    a->io_manager = eider__arena_strdup(&defs->arena, spec->io_manager_key && *spec->io_manager_key
                                        ? spec->io_manager_key : EIDER__DEFAULT_IO_MANAGER);
    a->output = EIDER_OUTPUT_NONE;
    a->partitions = spec->partitions;
    copy_inputs(defs, a, NULL);
    return EIDER_OK;
}

const eider__resource *eider__defs_resource(const eider_defs *defs, const char *name)
{
    for (size_t i = 0; i < defs->n_resources; i++)
        if (strcmp(defs->resources[i].name, name) == 0)
            return &defs->resources[i];
    return NULL;
}

int eider__asset_output_required(const eider_defs *defs, const eider__asset *a)
{
    const eider__resource *io = NULL;
    if (a->output != EIDER_OUTPUT_DEFAULT)
        return a->output == EIDER_OUTPUT_REQUIRED;
    if (strcmp(a->io_manager, EIDER__DEFAULT_IO_MANAGER) != 0)
        return 1;
    io = eider__defs_resource(defs, a->io_manager);
    return a->n_resources == 0 && io && io->kind != EIDER__DUCKDB;
}

const char *eider__asset_meta(const eider__asset *a, const char *key)
{
    for (size_t i = 0; i < a->n_metadata; i++)
        if (strcmp(a->metadata[i].key, key) == 0)
            return a->metadata[i].text;
    return NULL;
}

/* Whether a list of settings holds name/value pairs; if not, remembered as an error. */
static int check_pairs(eider_defs *defs, const char *name, const char *field,
                       const char *const *config)
{
    size_t n = 0;
    while (config && config[n])
        n++;
    if (n % 2 == 0)
        return EIDER_OK;
    return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EINVAL, "resource '%s': %s must "
        "be name/value pairs, but '%s' has no value", name, field, config[n - 1]));
}

/* config's settings followed by secret's, which r->config_shown marks. */
static void copy_config(eider_defs *defs, eider__resource *r, const char *const *config,
                        const char *const *secret)
{
    size_t n = 0, n_secret = 0;
    char **shown = eider__arena_strv(&defs->arena, config, &n);
    char **hidden = eider__arena_strv(&defs->arena, secret, &n_secret);
    r->config = eider__arena_alloc(&defs->arena, (n + n_secret + 1) * sizeof(*r->config));
    memcpy(r->config, shown, n * sizeof(*shown));
    memcpy(r->config + n, hidden, (n_secret + 1) * sizeof(*hidden));
    r->config_shown = n;
}

/* Add a resource of kind called name over database, with a DuckDB connection config
 * and its secret settings. */
static eider__resource *add_resource(eider_defs *defs, const char *name, eider__resource_kind kind,
                                     const char *database, const char *const *config,
                                     const char *const *secret)
{
    if (eider__defs_resource(defs, name)) {
        eider__defs_remember(defs, eider__defs_error(defs, EIDER_EDUPLICATE,
            "resource '%s' is defined twice: give each resource (and I/O manager) a unique name",
            name));
        return NULL;
    }
    EIDER__GROW(defs->resources, defs->cap_resources, defs->n_resources + 1);
    eider__resource *r = &defs->resources[defs->n_resources++];
    memset(r, 0, sizeof(*r));
    r->name = eider__arena_strdup(&defs->arena, name);
    r->kind = kind;
    r->database = eider__arena_strdup(&defs->arena, database && *database ? database : ":memory:");
    copy_config(defs, r, config, secret);
    defs->validated = 0;
    if (check_pairs(defs, name, "connection_config", config) ||
        check_pairs(defs, name, "secret_config", secret))
        return NULL;
    return r;
}

int eider_duckdb_resource(eider_defs *defs, const char *name, const eider_duckdb_config *config)
{
    eider_duckdb_config full;
    if (!defs)
        return EIDER_EINVAL;
    if (!name || !*name || !config)
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EINVAL,
                                                "a DuckDB resource needs a name and a config"));
    config = as_current(config, struct_size[caller_api(defs)].duckdb_config, &full, sizeof(full));
    eider__resource *r = add_resource(defs, name, EIDER__DUCKDB, config->database,
                                      config->connection_config, config->secret_config);
    if (!r)
        return defs->first_error;
    r->read_only = config->read_only;
    return EIDER_OK;
}

int eider_duckdb_io_manager(eider_defs *defs, const char *key, const eider_duckdb_io_config *config)
{
    eider_duckdb_io_config full;
    if (!defs)
        return EIDER_EINVAL;
    if (!config)
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EINVAL,
            "a DuckDB I/O manager needs a config with .database"));
    config = as_current(config, struct_size[caller_api(defs)].duckdb_io_config, &full, sizeof(full));
    eider__resource *r = add_resource(defs, key && *key ? key : EIDER__DEFAULT_IO_MANAGER,
                                      EIDER__IO_DUCKDB, config->database, config->connection_config,
                                      config->secret_config);
    if (!r)
        return defs->first_error;
    r->schema = eider__arena_strdup(&defs->arena, config->schema && *config->schema ? config->schema : NULL);
    r->methods = eider__duckdb_io_methods;
    return EIDER_OK;
}

int eider_parquet_io_manager(eider_defs *defs, const char *key, const eider_parquet_io_config *config)
{
    if (!defs)
        return EIDER_EINVAL;
    if (!config || !config->base_path || !*config->base_path)
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EINVAL,
            "a Parquet I/O manager needs a config with .base_path, the folder for its files"));
    eider__resource *r = add_resource(defs, key && *key ? key : EIDER__DEFAULT_IO_MANAGER,
                                      EIDER__IO_PARQUET, ":memory:", NULL, NULL);
    if (!r)
        return defs->first_error;
    r->base_path = eider__arena_strdup(&defs->arena, config->base_path);
    r->methods = eider__parquet_io_methods;
    return EIDER_OK;
}

int eider_postgres_io_manager(eider_defs *defs, const char *key,
                              const eider_postgres_io_config *config)
{
    eider_postgres_io_config full;
    if (!defs)
        return EIDER_EINVAL;
    if (config)
        config = as_current(config, struct_size[caller_api(defs)].postgres_io_config, &full,
                            sizeof(full));
    if (!config || !config->conninfo || !*config->conninfo)
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EINVAL,
            "a PostgreSQL I/O manager needs a config with .conninfo, libpq's connection "
            "string (postgresql://user@host/dbname)"));
    eider__resource *r = add_resource(defs, key && *key ? key : EIDER__DEFAULT_IO_MANAGER,
                                      EIDER__IO_POSTGRES, ":memory:", NULL, NULL);
    if (!r)
        return defs->first_error;
    r->conninfo = eider__arena_strdup(&defs->arena, config->conninfo);
    r->schema = config->schema && *config->schema ? eider__arena_strdup(&defs->arena, config->schema)
                                                  : NULL;
    r->methods = eider__postgres_io_methods;
    return EIDER_OK;
}

int eider_io_manager(eider_defs *defs, const char *key, const eider_io_manager_def *def)
{
    const char *name = key && *key ? key : EIDER__DEFAULT_IO_MANAGER;
    eider_io_manager_def full;
    if (!defs)
        return EIDER_EINVAL;
    if (def)                         /* read at the size its library's eider.h gave it */
        def = as_current(def, struct_size[caller_api(defs)].io_manager_def, &full, sizeof(full));
    if (!def || !def->exists || !def->relation || !def->store)
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EINVAL, "I/O manager "
            "'%s' needs its .exists, .relation and .store methods (eider_io_manager_def)", name));
    eider__resource *r = add_resource(defs, name, EIDER__IO_CUSTOM, ":memory:", NULL, NULL);
    if (!r)
        return defs->first_error;
    r->methods = *def;
    return EIDER_OK;
}

int eider_type_handler(eider_defs *defs, const char *io_manager_key, const eider_type_handler_def *def)
{
    const char *key = io_manager_key && *io_manager_key ? io_manager_key : EIDER__DEFAULT_IO_MANAGER;
    if (!defs)
        return EIDER_EINVAL;
    eider__resource *r = (eider__resource *)eider__defs_resource(defs, key);
    if (!def || !def->type || !*def->type || (!def->store && !def->load))
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EINVAL,
            "a type handler needs a .type name and a .store or .load callback"));
    if (!r || r->kind == EIDER__DUCKDB)
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_ENORESOURCE,
            "type handler '%s': there is no I/O manager '%s': add it (eider_duckdb_io_manager) "
            "before its handlers", def->type, key));
    for (size_t i = 0; i < r->n_handlers; i++)
        if (strcmp(r->handlers[i].type, def->type) == 0)
            return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EDUPLICATE,
                "I/O manager '%s' already has a handler for type '%s'", key, def->type));
    EIDER__GROW(r->handlers, r->cap_handlers, r->n_handlers + 1);
    r->handlers[r->n_handlers] = *def;
    r->handlers[r->n_handlers].type = eider__arena_strdup(&defs->arena, def->type);
    r->n_handlers++;
    return EIDER_OK;
}

size_t eider_defs_count(const eider_defs *defs)
{
    return defs ? defs->n_assets : 0;
}

const char *eider_defs_key(const eider_defs *defs, size_t i)
{
    return defs && i < defs->n_assets ? defs->assets[i].key : NULL;
}

long eider_defs_find(const eider_defs *defs, const char *key)
{
    return defs && key ? eider__index_get(&defs->by_key, key) : -1;
}

int eider_defs_info(const eider_defs *defs, size_t i, eider_asset_info *info)
{
    if (!defs || !info || i >= defs->n_assets)
        return EIDER_EINVAL;
    const eider__asset *a = &defs->assets[i];
    *info = (eider_asset_info){
        .key = a->key, .description = a->description, .group = a->group,
        .code_version = a->code_version, .external = a->external,
        .deps = (const char *const *)a->deps, .tags = (const char *const *)a->tags,
        .kinds = (const char *const *)a->kinds, .owners = (const char *const *)a->owners,
        .resources = (const char *const *)a->resources, .metadata = a->metadata,
        .partitioned = a->partitions != NULL,
        .dynamic_partitions = eider__partitions_dynamic_name(a->partitions),
    };
    return EIDER_OK;
}

const char *eider_defs_io_manager(const eider_defs *defs, size_t i)
{
    if (!defs || i >= defs->n_assets)
        return NULL;
    const eider__asset *a = &defs->assets[i];
    const eider__resource *io = eider__defs_resource(defs, a->io_manager);
    int named = strcmp(a->io_manager, EIDER__DEFAULT_IO_MANAGER) != 0;
    if (!io || io->kind == EIDER__DUCKDB || a->output == EIDER_OUTPUT_NONE
        || (!named && a->n_resources > 0 && a->output == EIDER_OUTPUT_DEFAULT))
        return NULL;
    return a->io_manager;
}

int eider_defs_select(eider_defs *defs, const char *selection, unsigned char *selected)
{
    return eider_defs_select_partitions(defs, selection, NULL, 0, selected);
}

int eider_defs_select_partitions(eider_defs *defs, const char *selection, const char *partition,
                                 int all_partitions, unsigned char *selected)
{
    if (!defs || !selected)
        return EIDER_EINVAL;
    if (!defs->validated) {
        int rc = eider_defs_validate(defs);
        if (rc)
            return rc;
    }
    eider__buf err = { 0 };
    eider__select_info info = { .named = eider__xmalloc(defs->n_assets + 1),
                                .partition = partition, .all_partitions = all_partitions };
    int rc = eider__select_with(defs, selection, selected, &info, &err);
    free(info.named);
    if (rc) {
        eider__defs_error(defs, rc, "%s", eider__buf_str(&err));
        defs->errcolumn = info.column;
    }
    eider__buf_release(&err);
    return rc;
}

/* ---- asset checks ---- */

/* What def checks, and how many things it names (it must name one). */
static int check_kind(const eider_check_def *d, eider__check_kind *kind)
{
    int n = 0;
    if (d->compute && ++n)
        *kind = EIDER__CHECK_C;
    if (d->not_null && ++n)
        *kind = EIDER__CHECK_NOT_NULL;
    if (d->unique && ++n)
        *kind = EIDER__CHECK_UNIQUE;
    if (d->accepted_values && ++n)
        *kind = EIDER__CHECK_ACCEPTED;
    if (d->row_count && ++n)
        *kind = EIDER__CHECK_ROW_COUNT;
    if (d->references && ++n)
        *kind = EIDER__CHECK_REFERENCES;
    if (d->fresh_within_s > 0 && ++n)
        *kind = EIDER__CHECK_FRESHNESS;
    if (d->columns && ++n)
        *kind = EIDER__CHECK_SCHEMA;
    if (d->sql && ++n)
        *kind = EIDER__CHECK_SQL;
    return n;
}

static const char *const kind_names[] = {
    [EIDER__CHECK_C] = "check", [EIDER__CHECK_NOT_NULL] = "not_null",
    [EIDER__CHECK_UNIQUE] = "unique", [EIDER__CHECK_ACCEPTED] = "accepted_values",
    [EIDER__CHECK_ROW_COUNT] = "row_count", [EIDER__CHECK_REFERENCES] = "references",
    [EIDER__CHECK_FRESHNESS] = "freshness", [EIDER__CHECK_SCHEMA] = "columns",
    [EIDER__CHECK_SQL] = "sql",
};

/* A check's default name: its kind, then the columns it names ("not_null_id"). */
static char *default_name(eider_defs *defs, const eider__check *c)
{
    eider__buf name = { 0 };
    eider__buf_puts(&name, kind_names[c->kind]);
    if (c->kind == EIDER__CHECK_NOT_NULL || c->kind == EIDER__CHECK_UNIQUE)
        for (size_t i = 0; i < c->n_columns; i++)
            eider__buf_printf(&name, "_%s", c->columns[i]);
    else if (c->column)
        eider__buf_printf(&name, "_%s", c->column);
    char *out = eider__arena_strdup(&defs->arena, eider__buf_str(&name));
    eider__buf_release(&name);
    return out;
}

/* What the kind of c needs beside its own field; NULL when it has it. */
static const char *missing_field(const eider__check *c, const eider_check_def *d)
{
    int needs_column = c->kind == EIDER__CHECK_ACCEPTED || c->kind == EIDER__CHECK_REFERENCES ||
                       c->kind == EIDER__CHECK_FRESHNESS;
    if (needs_column && (!d->column || !*d->column))
        return ".column, the column it checks";
    if ((c->kind == EIDER__CHECK_NOT_NULL || c->kind == EIDER__CHECK_UNIQUE) && !c->n_columns)
        return "at least one column in its list";
    if (c->kind == EIDER__CHECK_SCHEMA && (!c->n_columns || c->n_columns % 2))
        return "name and type pairs in .columns (EIDER_TAGS(\"id\", \"BIGINT\", ...))";
    if (c->kind == EIDER__CHECK_REFERENCES && (!c->ref_asset || !c->ref_column))
        return "\"asset.column\" in .references";
    if (c->kind == EIDER__CHECK_ROW_COUNT && (c->min_rows < 0 ||
                                              (c->max_rows >= 0 && c->max_rows < c->min_rows)))
        return "a row_count range with 0 <= min <= max (max < 0: no upper bound)";
    return NULL;
}

/* Copy what def names into c. */
static void copy_check(eider_defs *defs, eider__check *c, const eider_check_def *d)
{
    eider__arena *ar = &defs->arena;
    const char *const *cols = c->kind == EIDER__CHECK_NOT_NULL ? d->not_null
                            : c->kind == EIDER__CHECK_UNIQUE ? d->unique
                            : c->kind == EIDER__CHECK_SCHEMA ? d->columns : NULL;
    c->asset_key = eider__arena_strdup(ar, d->asset);
    c->description = eider__arena_strdup(ar, d->description);
    c->blocking = d->blocking != 0;
    c->severity = d->severity == EIDER_CHECK_WARN ? EIDER_CHECK_WARN : EIDER_CHECK_ERROR;
    c->compute = d->compute;
    c->user_data = d->user_data;
    c->columns = eider__arena_strv(ar, cols, &c->n_columns);
    c->column = eider__arena_strdup(ar, d->column && *d->column ? d->column : NULL);
    c->values = eider__arena_strv(ar, d->accepted_values, &c->n_values);
    c->min_rows = d->row_count ? d->row_count->min : 0;
    c->max_rows = d->row_count ? d->row_count->max : -1;
    const char *dot = d->references ? strrchr(d->references, '.') : NULL;
    if (dot && dot > d->references && dot[1]) {
        c->ref_asset = eider__arena_strndup(ar, d->references, (size_t)(dot - d->references));
        c->ref_column = eider__arena_strdup(ar, dot + 1);
    }
    c->fresh_s = d->fresh_within_s;
    c->sql = eider__arena_strdup(ar, d->sql);
}

int eider_asset_check(eider_defs *defs, const eider_check_def *def)
{
    eider_check_def full;
    eider__check c = { 0 };
    if (!defs)
        return EIDER_EINVAL;
    if (def)
        def = as_current(def, struct_size[caller_api(defs)].check_def, &full, sizeof(full));
    if (!def || !def->asset || !*def->asset)
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EINVAL, "an asset check "
            "needs .asset, the key of the asset it checks"));
    int n = check_kind(def, &c.kind);
    if (n != 1)
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EINVAL, "check %s%s%sof "
            "asset '%s' names %s: give exactly one of .compute, .not_null, .unique, "
            ".accepted_values, .row_count, .references, .fresh_within_s, .columns or .sql",
            def->name ? "'" : "", def->name ? def->name : "", def->name ? "' " : "", def->asset,
            n ? "several things to check" : "nothing to check"));
    copy_check(defs, &c, def);
    const char *missing = missing_field(&c, def);
    c.name = def->name && *def->name ? eider__arena_strdup(&defs->arena, def->name)
                                     : default_name(defs, &c);
    if (missing)
        return eider__defs_remember(defs, eider__defs_error(defs, EIDER_EINVAL, "check '%s' of "
            "asset '%s' (%s) needs %s", c.name, def->asset, kind_names[c.kind], missing));
    EIDER__GROW(defs->checks, defs->cap_checks, defs->n_checks + 1);
    defs->checks[defs->n_checks++] = c;
    defs->validated = 0;
    return EIDER_OK;
}

size_t eider_defs_check_count(const eider_defs *defs, size_t i)
{
    return defs && defs->validated && i < defs->n_assets ? defs->assets[i].n_checks : 0;
}

const char *eider_defs_check_name(const eider_defs *defs, size_t i, size_t j)
{
    if (j >= eider_defs_check_count(defs, i))
        return NULL;
    return defs->checks[defs->assets[i].checks[j]].name;
}

/* ---- what the definitions were read from ---- */

void eider__defs_add_source(eider_defs *defs, const char *path)
{
    EIDER__GROW(defs->sources, defs->cap_sources, defs->n_sources + 1);
    defs->sources[defs->n_sources++] = eider__arena_strdup(&defs->arena, path);
}

uint64_t eider_defs_sources_signature(const eider_defs *defs)
{
    uint64_t h = 1469598103934665603ull;        /* FNV-1a over what each stat says */
    for (size_t i = 0; defs && i < defs->n_sources; i++) {
        struct stat st;
        int64_t v[4] = { -1, -1, -1, -1 };
        if (stat(defs->sources[i], &st) == 0) {
            v[0] = (int64_t)st.st_mtim.tv_sec;
            v[1] = (int64_t)st.st_mtim.tv_nsec;
            v[2] = (int64_t)st.st_size;
            v[3] = (int64_t)st.st_ino;
        }
        for (size_t b = 0; b < sizeof(v); b++) {
            h ^= ((const unsigned char *)v)[b];
            h *= 1099511628211ull;
        }
    }
    return defs && defs->n_sources ? h : 0;
}

/* ---- SQL models' variables ---- */

static int var_name_ok(const char *name)
{
    if (!name || !(isalpha((unsigned char)*name) || *name == '_'))
        return 0;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return 0;
    return 1;
}

/* Set name to value among pairs (replacing an earlier one), kept NULL-terminated. */
static void set_pair(eider_defs *defs, char ***pairs, size_t *n, size_t *cap, const char *name,
                     const char *value)
{
    for (size_t i = 0; i < *n; i += 2)
        if (strcmp((*pairs)[i], name) == 0) {
            (*pairs)[i + 1] = eider__arena_strdup(&defs->arena, value);
            return;
        }
    EIDER__GROW(*pairs, *cap, *n + 3);
    (*pairs)[(*n)++] = eider__arena_strdup(&defs->arena, name);
    (*pairs)[(*n)++] = eider__arena_strdup(&defs->arena, value);
    (*pairs)[*n] = NULL;
}

int eider__defs_project_var(eider_defs *defs, const char *name, const char *value)
{
    if (!var_name_ok(name) || !value)
        return EIDER_EINVAL;
    set_pair(defs, &defs->project_vars, &defs->n_project_vars, &defs->cap_project_vars, name, value);
    return EIDER_OK;
}

int eider_defs_var(eider_defs *defs, const char *name, const char *value)
{
    if (!defs)
        return EIDER_EINVAL;
    if (!var_name_ok(name) || !value)
        return eider__defs_error(defs, EIDER_EINVAL, "variable '%s': a name is letters, digits "
            "and '_', not starting with a digit, and it needs a value (--var NAME=VALUE)",
            name ? name : "(null)");
    set_pair(defs, &defs->vars, &defs->n_vars, &defs->cap_vars, name, value);
    defs->added_outside = 1;         /* not the libraries' alone: a worker copies them */
    return EIDER_OK;
}
