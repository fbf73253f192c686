/*
 * cmd_partitions.c — `eider partitions`: add keys to dynamic partitions, and list
 * them, in the instance store (where runs read them when they start).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char help[] =
    "usage: eider partitions add NAME KEY... [-f FILE.c | -l FILE.so] [--json]\n"
    "       eider partitions list NAME [-f FILE.c | -l FILE.so] [--json]\n"
    "\n"
    "add   add keys to the dynamic partitions NAME (eider_dynamic_partitions(defs, NAME)),\n"
    "      after the keys it has; a key it has already is kept once. Runs that start\n"
    "      afterwards can materialize them: eider materialize --partition KEY.\n"
    "      The definitions must load and declare NAME: an unknown NAME is refused (exit\n"
    "      code 4, with the name it likely meant) and nothing is added.\n"
    "list  its keys, in the order they were added. The store is only read (never made\n"
    "      where there is none); when the definitions load, an unknown NAME is refused\n"
    "      as by add. When they fail to load (or compile), the keys the store holds for\n"
    "      NAME are listed all the same, after a warning with the definitions' error,\n"
    "      since NAME cannot be checked.\n"
    "A key is not empty and holds no '...', '|' or control character. The keys live in\n"
    "the instance store ($EIDER_STORAGE, else $EIDER_HOME, else .eider beside the\n"
    "definitions), so EIDER_STORAGE=none has none.\n"
    "\n"
    CLI_DEFS_HELP
    "      --json            print the outcome as JSON\n";

static int parse_args(cli_env *env, int *json)
{
    static const struct option options[] = {
        CLI_DEFS_OPTIONS, { "json", no_argument, NULL, 'J' }, { 0 },
    };
    int c;
    while ((c = cli_getopt(env, "", options)) != -1) {
        if (c != 'J')
            return EXIT_USAGE;
        *json = 1;
    }
    int n = env->argc - optind;
    const char *sub = n > 0 ? env->argv[optind] : "";
    if (strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0) {
        cli_error("eider partitions needs 'add NAME KEY...' or 'list NAME'%s%s%s", *sub ? ", not '" : "",
                  sub, *sub ? "'" : "");
        return EXIT_USAGE;
    }
    if (n < 2 || (!strcmp(sub, "add") && n < 3) || (!strcmp(sub, "list") && n > 2)) {
        cli_error("%s", !strcmp(sub, "add") ? "eider partitions add needs a name and at least "
                  "one key: eider partitions add NAME KEY..." : "eider partitions list takes one "
                  "name: eider partitions list NAME");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

static void print_keys(const char *name, char **keys, size_t n, size_t added, int json, int adding)
{
    if (json) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, cli_json_string(keys[i]));
        json_t *doc = json_pack("{s:o, s:o}", "name", cli_json_string(name), "keys", list);
        if (adding)
            json_object_set_new(doc, "added", json_integer((json_int_t)added));
        json_dumpf(doc, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(doc);
        return;
    }
    if (adding)
        printf("added %zu key%s to dynamic partitions '%s', which now %s %zu:\n", added,
               added == 1 ? "" : "s", name, n == 1 ? "has" : "have", n);
    for (size_t i = 0; i < n; i++)
        printf("%s\n", keys[i]);
}

/* Whether the definitions declare dynamic partitions name; prints why not. */
static int check_name(eider_defs *defs, const char *name)
{
    int rc = eider_defs_find_dynamic(defs, name);
    if (!rc)
        return EXIT_OK;
    cli_error("%s", eider_defs_errmsg(defs));
    return cli_exit_for(rc);
}

/* list of a name the definitions could not check, as they failed to load: why. */
static void warn_unchecked(const char *name, const char *defs_error)
{
    const char *why = cli_message(defs_error);
    size_t len = strlen(why);
    while (len && why[len - 1] == '\n')
        len--;
    fprintf(stderr, "warning: the definitions failed to load, so whether they declare dynamic "
            "partitions '%s' is not checked; listing the keys the store holds for it: %.*s\n",
            cli_safe(name), (int)len, why);
}

/* add: the definitions must load and declare name, so that no key is kept under a
 * name no asset reads (a typo); the store is changed, made if missing. list: the
 * store is only read (never made), and the name checked when definitions load; when
 * they fail to, a warning says so (and why) before the keys. */
static int run(cli_env *env)
{
    int json = 0;
    size_t added = 0, n = 0;
    char **keys = NULL;
    int code = parse_args(env, &json);
    if (code)
        return code;
    int adding = !strcmp(env->argv[optind], "add");
    const char *name = env->argv[optind + 1];
    const char *const *new_keys = (const char *const *)&env->argv[optind + 2];
    if (adding) {
        code = cli_load_defs(env);
        if (!code)
            code = check_name(env->defs, name);
        if (!code)
            code = cli_open_store(env, CLI_STORE_WRITE);
    } else {
        code = cli_open_store(env, CLI_STORE_READ);
        eider_defs *defs = code ? NULL : cli_quiet_defs(env);
        if (defs)
            code = check_name(defs, name);
        else if (!code && env->defs_error)      /* listed all the same: the keys are the store's */
            warn_unchecked(name, env->defs_error);
    }
    if (code)
        return code;
    int rc = adding ? eider_store_add_partitions(env->store, name, new_keys, &added) : EIDER_OK;
    if (!rc && !env->store_missing)
        rc = eider_store_partition_keys(env->store, name, &keys, &n);
    if (rc) {
        cli_error("%s", eider_store_errmsg(env->store));
        return rc == EIDER_EINVAL ? EXIT_USAGE : cli_exit_for(rc);
    }
    print_keys(name, keys, n, added, json, adding);
    eider_keys_free(keys, n);
    return EXIT_OK;
}

const cli_command cli_cmd_partitions = {
    "partitions", run, "add and list the keys of dynamic partitions", help,
};
