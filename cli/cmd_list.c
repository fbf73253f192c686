/*
 * cmd_list.c — `eider list`: the assets, their dependencies, groups and kinds.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char help[] =
    "usage: eider list [-f FILE.c | -l FILE.so] [--select SEL] [--json]\n"
    "\n"
    "List the assets of the definitions: key, group, kinds, status and dependencies.\n"
    "External assets (never materialized by Eider) are marked 'external'. The status\n"
    "comes from the instance store, only read (list never makes one: with none yet,\n"
    "every asset is never): never (materialized), fresh, stale (its code_version\n"
    "changed, or an upstream is newer or stale), failed (its latest run failed); '-'\n"
    "(null in JSON) when EIDER_STORAGE=none keeps no store. Then the dynamic partitions\n"
    "the assets use, with their keys.\n"
    "\n"
    CLI_DEFS_HELP
    "  -s, --select SEL      only the assets SEL selects (see 'eider materialize --help')\n"
    "      --json            one JSON array with every field of every asset\n";

static json_t *strv_json(const char *const *v)
{
    json_t *a = json_array();
    for (size_t i = 0; v && v[i]; i++)
        json_array_append_new(a, cli_json_string(v[i]));
    return a;
}

/* ---- each asset's checks, by their latest outcomes ---- */

/* A check's worst latest outcome over its partitions. */
enum { CHECK_UNKNOWN, CHECK_PASSED, CHECK_WARNED, CHECK_FAILED, CHECK_ERRORED };
static const char *const check_words[] = { "unknown", "passed", "warned", "failed", "errored" };

typedef struct check_states {
    eider_defs *defs;
    size_t *first;                   /* per asset: its checks' slots in worst[] start here */
    unsigned char *worst;            /* per check of every asset */
} check_states;

static int note_check(const eider_check_record *r, void *user_data)
{
    check_states *c = user_data;
    long i = eider_defs_find(c->defs, r->asset_key);
    for (size_t j = 0; i >= 0 && j < eider_defs_check_count(c->defs, (size_t)i); j++) {
        if (strcmp(eider_defs_check_name(c->defs, (size_t)i, j), r->check_name) != 0)
            continue;
        int v = r->status == EIDER_CHECK_PASSED ? CHECK_PASSED
              : r->severity == EIDER_CHECK_WARN ? CHECK_WARNED
              : r->status == EIDER_CHECK_FAILED ? CHECK_FAILED : CHECK_ERRORED;
        unsigned char *w = &c->worst[c->first[i] + j];
        if (v > *w)
            *w = (unsigned char)v;
    }
    return 0;
}

/* Read the latest outcome of every check from store (NULL: none known). */
static int check_states_read(check_states *c, eider_defs *defs, eider_store *store)
{
    size_t n = eider_defs_count(defs), total = 0;
    c->defs = defs;
    c->first = calloc(n + 1, sizeof(*c->first));
    for (size_t i = 0; c->first && i < n; i++) {
        c->first[i] = total;
        total += eider_defs_check_count(defs, i);
    }
    c->worst = calloc(total + 1, 1);
    if (!c->first || !c->worst)
        return EIDER_ENOMEM;
    return store && total ? eider_store_checks(store, NULL, NULL, 1, 1000000000, note_check, c)
                          : EIDER_OK;
}

static void check_states_release(check_states *c)
{
    free(c->first);
    free(c->worst);
}

/* Asset i's checks as one word: the worst latest outcome ("passed" ... "errored",
 * "unknown" when one never ran); NULL when it has none. */
static const char *checks_word(const check_states *c, size_t i)
{
    size_t n = eider_defs_check_count(c->defs, i);
    int worst = CHECK_PASSED, unknown = 0;
    for (size_t j = 0; j < n; j++) {
        int w = c->worst[c->first[i] + j];
        unknown |= w == CHECK_UNKNOWN;
        worst = w > worst ? w : worst;
    }
    return !n ? NULL : worst == CHECK_PASSED && unknown ? "unknown" : check_words[worst];
}

/* {"defined": n, "passed": ..., "status": ...} of asset i's checks, or null. */
static json_t *checks_json(const check_states *c, size_t i)
{
    size_t n = eider_defs_check_count(c->defs, i);
    int count[5] = { 0 };
    if (!n)
        return json_null();
    for (size_t j = 0; j < n; j++)
        count[c->worst[c->first[i] + j]]++;
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:s}", "defined", (int)n,
        "passed", count[CHECK_PASSED], "warned", count[CHECK_WARNED], "failed", count[CHECK_FAILED],
        "errored", count[CHECK_ERRORED], "unknown", count[CHECK_UNKNOWN], "status", checks_word(c, i));
}

/* status: NULL when no store is kept. */
static json_t *asset_json(const eider_asset_info *a, const eider_asset_status *status)
{
    json_t *o = json_object(), *tags = json_object();
    for (size_t i = 0; a->tags[i] && a->tags[i + 1]; i += 2)
        json_object_set_new(tags, a->tags[i], cli_json_string(a->tags[i + 1]));
    size_t n_meta = 0;
    while (a->metadata[n_meta].key)
        n_meta++;
    json_object_set_new(o, "key", cli_json_string(a->key));
    json_object_set_new(o, "external", json_boolean(a->external));
    json_object_set_new(o, "group", cli_json_string(a->group));
    json_object_set_new(o, "deps", strv_json(a->deps));
    json_object_set_new(o, "kinds", strv_json(a->kinds));
    json_object_set_new(o, "owners", strv_json(a->owners));
    json_object_set_new(o, "resources", strv_json(a->resources));
    json_object_set_new(o, "tags", tags);
    json_object_set_new(o, "metadata", cli_meta_json(a->metadata, n_meta));
    json_object_set_new(o, "description", a->description ? cli_json_string(a->description) : json_null());
    json_object_set_new(o, "code_version", a->code_version ? cli_json_string(a->code_version) : json_null());
    json_object_set_new(o, "status", status ? json_string(eider_asset_status_name(*status)) : json_null());
    return o;
}

/* v joined by commas into out, or empty when v has nothing. */
static void join(char *out, size_t size, const char *const *v, const char *empty)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; v && v[i] && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? "," : "", v[i]);
    if (!out[0])
        snprintf(out, size, "%s", empty);
}

static int key_width(eider_defs *defs, const unsigned char *sel)
{
    size_t w = 3;
    for (size_t i = 0; i < eider_defs_count(defs); i++)
        if (sel[i] && strlen(eider_defs_key(defs, i)) > w)
            w = strlen(eider_defs_key(defs, i));
    return (int)(w > 60 ? 60 : w);
}

static void print_table(eider_defs *defs, const unsigned char *sel, const eider_asset_status *st,
                        const check_states *checks)
{
    int w = key_width(defs, sel);
    char kinds[256], deps[4096];
    printf("%-*s  %-12s %-16s %-8s %-8s %s\n", w, "KEY", "GROUP", "KINDS", "STATUS", "CHECKS", "DEPS");
    for (size_t i = 0; i < eider_defs_count(defs); i++) {
        eider_asset_info a;
        if (!sel[i] || eider_defs_info(defs, i, &a))
            continue;
        size_t off = a.external ? (size_t)snprintf(kinds, sizeof(kinds), "external%s",
                                                   a.kinds[0] ? "," : "") : 0;
        join(kinds + off, sizeof(kinds) - off, a.kinds, a.external ? "" : "-");
        join(deps, sizeof(deps), a.deps, "-");
        const char *word = checks_word(checks, i);
        printf("%-*s  %-12s %-16s %-8s %-8s %s\n", w, cli_safe(a.key), cli_safe(a.group),
               cli_safe(kinds), st ? eider_asset_status_name(st[i]) : "-", word ? word : "-",
               cli_safe(deps));
    }
}

/* {"name": ..., "keys": [...]} of the asset's dynamic partitions (keys from the store,
 * none without one; "error" says why when the store's cannot be read), or null. */
static json_t *dynamic_json(eider_store *store, const eider_asset_info *a)
{
    char **keys = NULL;
    size_t n = 0;
    if (!a->dynamic_partitions)
        return json_null();
    json_t *list = json_array();
    int rc = store ? eider_store_partition_keys(store, a->dynamic_partitions, &keys, &n) : EIDER_OK;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, cli_json_string(keys[i]));
    eider_keys_free(keys, n);
    json_t *o = json_pack("{s:o, s:o}", "name", cli_json_string(a->dynamic_partitions), "keys", list);
    if (rc)
        json_object_set_new(o, "error", cli_json_string(eider_store_errmsg(store)));
    return o;
}

/* The dynamic partitions the selected assets use, each once, with their keys. */
static void print_dynamic(eider_defs *defs, const unsigned char *sel, eider_store *store)
{
    const char *shown[64];
    size_t n_shown = 0;
    for (size_t i = 0; i < eider_defs_count(defs) && n_shown < 64; i++) {
        eider_asset_info a;
        size_t s = 0, n = 0;
        char **keys = NULL;
        if (!sel[i] || eider_defs_info(defs, i, &a) || !a.dynamic_partitions)
            continue;
        while (s < n_shown && strcmp(shown[s], a.dynamic_partitions) != 0)
            s++;
        if (s < n_shown)
            continue;
        printf("%s%s  %s:", n_shown ? "" : "\ndynamic partitions ", n_shown ? "" : store
               ? "(eider partitions add NAME KEY...):\n" : "(kept in the instance store):\n",
               a.dynamic_partitions);
        shown[n_shown++] = a.dynamic_partitions;
        if (store && eider_store_partition_keys(store, a.dynamic_partitions, &keys, &n)) {
            printf(" (cannot be read: %s)\n", cli_safe(eider_store_errmsg(store)));
            continue;
        }
        for (size_t k = 0; k < n && k < 20; k++)
            printf("%s %s", k ? "," : "", keys[k]);
        printf("%s\n", n > 20 ? ", ..." : n ? "" : store ? " (no keys yet)"
               : " (none: EIDER_STORAGE is 'none', so there is no store to keep them)");
        eider_keys_free(keys, n);
    }
}

json_t *cli_assets_json(eider_defs *defs, const unsigned char *sel, const eider_asset_status *st,
                        eider_store *store)
{
    json_t *all = json_array();
    check_states checks = { 0 };
    check_states_read(&checks, defs, store);         /* unknown, when the store fails */
    for (size_t i = 0; i < eider_defs_count(defs); i++) {
        eider_asset_info a;
        if (!sel[i] || eider_defs_info(defs, i, &a))
            continue;
        json_t *o = asset_json(&a, st ? &st[i] : NULL);
        json_object_set_new(o, "dynamic_partitions", dynamic_json(store, &a));
        json_object_set_new(o, "checks", checks.worst ? checks_json(&checks, i) : json_null());
        json_array_append_new(all, o);
    }
    check_states_release(&checks);
    return all;
}

static void print_json(eider_defs *defs, const unsigned char *sel, const eider_asset_status *st,
                       eider_store *store)
{
    json_t *all = cli_assets_json(defs, sel, st, store);
    json_dumpf(all, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(all);
}

static int parse_args(cli_env *env, const char **selection, int *as_json)
{
    static const struct option options[] = {
        CLI_DEFS_OPTIONS, { "select", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' }, { 0 },
    };
    int c;
    while ((c = cli_getopt(env, "s:", options)) != -1) {
        if (c == 's')
            *selection = optarg;
        else if (c == 'j')
            *as_json = 1;
        else
            return EXIT_USAGE;
    }
    if (optind < env->argc) {
        cli_error("unexpected argument '%s': eider list takes options only (see --help)",
                  env->argv[optind]);
        return EXIT_USAGE;
    }
    return cli_check_selection(*selection);
}

static int run(cli_env *env)
{
    const char *selection = NULL;
    int as_json = 0;
    int code = parse_args(env, &selection, &as_json);
    if (!code)
        code = cli_load_defs(env);
    if (!code)
        code = cli_open_store(env, CLI_STORE_SHOW);
    if (code)
        return code;
    size_t n = eider_defs_count(env->defs);
    unsigned char *sel = malloc(n + 1);
    eider_asset_status *st = calloc(n + 1, sizeof(*st));
    int rc = eider_defs_select(env->defs, selection, sel);
    if (rc)
        cli_error("%s", eider_defs_errmsg(env->defs));
    else if (env->store && (rc = eider_store_status(env->store, env->defs, st)))
        cli_error("%s", eider_store_errmsg(env->store));
    else if (as_json)
        print_json(env->defs, sel, env->store ? st : NULL, env->store);
    if (!rc && !as_json) {
        check_states checks = { 0 };
        if ((rc = check_states_read(&checks, env->defs, env->store)))
            cli_error("%s", env->store ? eider_store_errmsg(env->store) : "out of memory");
        else
            print_table(env->defs, sel, env->store ? st : NULL, &checks);
        check_states_release(&checks);
    }
    if (!rc && !as_json)
        print_dynamic(env->defs, sel, env->store);
    free(sel);
    free(st);
    return rc ? cli_exit_for(rc) : EXIT_OK;
}

const cli_command cli_cmd_list = { "list", run, "list assets, their dependencies and groups", help };
