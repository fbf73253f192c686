/*
 * cmd_new.c — `eider new NAME`: a folder with a definitions.c that materializes as it
 * is, to start a project from.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "../server/static.h"

static const char help[] =
    "usage: eider new [--sql] NAME\n"
    "\n"
    "Create the folder NAME with a definitions.c to start from: a DuckDB resource, two\n"
    "assets (one depending on the other) and an external asset. Then:\n"
    "\n"
    "  cd NAME && eider materialize\n"
    "\n"
    "With --sql, a project without C instead: the tutorial's iris assets as SQL models\n"
    "(eider.yaml, iris.csv, models/iris/iris_dataset.sql with its checks,\n"
    "models/iris/iris_setosa.sql, and the external iris/iris_harvest_data), which\n"
    "materializes with no C compiler.\n"
    "\n"
    "NAME must not exist yet, or be an empty folder.\n";

static const char template_text[] =
    "/*\n"
    " * definitions.c: the assets of this project. Materialize them with\n"
    " *\n"
    " *   eider materialize            (or: eider materialize --select numbers)\n"
    " *\n"
    " * Paths are relative to this folder: the database is warehouse.duckdb beside it.\n"
    " */\n"
    "#include <eider.h>\n"
    "\n"
    "/* An asset that runs its own SQL on the DuckDB resource's connection. */\n"
    "static int numbers(eider_context *ctx)\n"
    "{\n"
    "    duckdb_connection con = eider_duckdb_connection(ctx, \"duckdb\");\n"
    "    return eider_sql(ctx, con,\n"
    "        \"CREATE OR REPLACE TABLE numbers AS SELECT range AS n FROM range(100)\");\n"
    "}\n"
    "\n"
    "/* Downstream of numbers: it runs after numbers, and reports a row count. */\n"
    "static int even_numbers(eider_context *ctx)\n"
    "{\n"
    "    duckdb_connection con = eider_duckdb_connection(ctx, \"duckdb\");\n"
    "    int64_t rows = 0;\n"
    "    int rc = eider_sql(ctx, con,\n"
    "        \"CREATE OR REPLACE TABLE even_numbers AS SELECT n FROM numbers WHERE n % 2 = 0\");\n"
    "    if (!rc)\n"
    "        rc = eider_sql_int64(ctx, con, \"SELECT count(*) FROM even_numbers\", &rows);\n"
    "    if (!rc)\n"
    "        eider_add_meta_int(ctx, \"row_count\", rows);\n"
    "    return rc;\n"
    "}\n"
    "\n"
    "void eider_definitions(eider_defs *defs)\n"
    "{\n"
    "    eider_duckdb_resource(defs, \"duckdb\", &(eider_duckdb_config){ .database = \"warehouse.duckdb\" });\n"
    "\n"
    "    eider_asset(defs, &(eider_asset_def){ .key = \"numbers\", .compute = numbers,\n"
    "                                          .resources = EIDER_KEYS(\"duckdb\") });\n"
    "    eider_asset(defs, &(eider_asset_def){ .key = \"even_numbers\", .compute = even_numbers,\n"
    "                                          .deps = EIDER_KEYS(\"numbers\"),\n"
    "                                          .resources = EIDER_KEYS(\"duckdb\") });\n"
    "    /* Made by something outside Eider: in the lineage, never materialized here. */\n"
    "    eider_asset_spec(defs, &(eider_asset_spec_def){ .key = \"raw_events\" });\n"
    "}\n";

/* NAME may be new, or an empty folder. */
static int folder_is_usable(const char *name)
{
    DIR *d = opendir(name);
    struct dirent *e;
    int empty = 1;
    if (!d)
        return errno == ENOENT;
    while (empty && (e = readdir(d)))
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

/* The project of SQL models (examples/sql_models, built into the binary). */
static const char *const sql_files[] = {
    "eider.yaml", "iris.csv", "models/iris/iris_dataset.sql", "models/iris/iris_setosa.sql",
};

static int write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wx");
    if (!f) {
        cli_error("cannot create '%s': %s", path, strerror(errno));
        return EXIT_INTERNAL;
    }
    int bad = fwrite(data, 1, size, f) != size;
    bad |= fclose(f) != 0;
    if (bad) {
        cli_error("cannot write '%s': %s", path, strerror(errno));
        return EXIT_INTERNAL;
    }
    return EXIT_OK;
}

static int write_sql_project(const char *name)
{
    char path[4096], url[256];
    int code = EXIT_OK;
    snprintf(path, sizeof(path), "%s/models", name);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/models/iris", name);
    mkdir(path, 0755);
    for (size_t i = 0; !code && i < sizeof(sql_files) / sizeof(sql_files[0]); i++) {
        snprintf(url, sizeof(url), "/new/sql/%s", sql_files[i]);
        snprintf(path, sizeof(path), "%s/%s", name, sql_files[i]);
        const srv_file *f = srv_builtin_file(url);
        code = f ? write_file(path, f->data, f->size) : EXIT_INTERNAL;
        if (!f)
            cli_error("this eider was built without its SQL project (%s)", url);
    }
    return code;
}

static int write_template(const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/definitions.c", name);
    FILE *f = fopen(path, "wx");
    if (!f) {
        cli_error("cannot create '%s': %s", path, strerror(errno));
        return EXIT_INTERNAL;
    }
    int bad = fputs(template_text, f) < 0;
    bad |= fclose(f) != 0;
    if (bad) {
        cli_error("cannot write '%s': %s", path, strerror(errno));
        return EXIT_INTERNAL;
    }
    return EXIT_OK;
}

static int run(cli_env *env)
{
    static const struct option options[] = { { "sql", no_argument, NULL, 'S' }, { 0 } };
    int c, sql = 0;
    while ((c = cli_getopt(env, "", options)) != -1) {
        if (c != 'S')
            return EXIT_USAGE;
        sql = 1;
    }
    if (optind + 1 != env->argc) {
        cli_error("eider new wants one folder name: eider new NAME");
        return EXIT_USAGE;
    }
    const char *name = env->argv[optind];
    if (env->defs_path) {
        cli_error("eider new takes no -f or -l: it writes a new definitions.c");
        return EXIT_USAGE;
    }
    if (cli_parse_only())
        return CLI_PARSED;
    if (!folder_is_usable(name)) {
        cli_error("'%s' already exists and is not an empty folder: choose a new name", name);
        return EXIT_USAGE;
    }
    if (mkdir(name, 0755) && errno != EEXIST) {
        cli_error("cannot create folder '%s': %s", name, strerror(errno));
        return EXIT_INTERNAL;
    }
    int code = sql ? write_sql_project(name) : write_template(name);
    char *dir = NULL;      /* for cd: a name starting with '-' would be an option */
    if (!code && asprintf(&dir, "%s%s", *name == '-' ? "./" : "", name) >= 0)
        printf("created %s/%s; now: cd %s && eider materialize\n", cli_safe(name),
               sql ? "eider.yaml and models/" : "definitions.c", cli_shell_word(dir));
    free(dir);
    return code;
}

const cli_command cli_cmd_new = { "new", run, "start a project: a folder with a definitions.c (or SQL models)", help };
