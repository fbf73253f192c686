/*
 * databases.c — the DuckDB database files a run of a selection may open, so that a
 * launcher (the run queue of eider dev) never starts two runs on one file at once.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "defs.h"

/* The file of resource r as one name for one file: the real path of its folder plus
 * its base name (as the run's database layer names it); NULL for an in-memory one. */
static char *file_of(const eider__resource *r)
{
    char dir[PATH_MAX], real[PATH_MAX];
    eider__buf id = { 0 };
    if (r->kind == EIDER__IO_PARQUET || r->kind == EIDER__IO_CUSTOM ||
        r->kind == EIDER__IO_POSTGRES || !r->database || strncmp(r->database, ":memory:", 8) == 0)
        return NULL;
    const char *slash = strrchr(r->database, '/');
    const char *base = slash ? slash + 1 : r->database;
    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - r->database) : 1,
             slash ? r->database : ".");
    if (slash == r->database)
        snprintf(dir, sizeof(dir), "/");
    if (realpath(dir, real))
        eider__buf_printf(&id, "%s/%s", strcmp(real, "/") ? real : "", base);
    else if (r->database[0] != '/' && getcwd(real, sizeof(real)))
        eider__buf_printf(&id, "%s/%s", real, r->database);
    else
        eider__buf_puts(&id, r->database);
    return eider__buf_detach(&id);
}

typedef struct file_set {
    char **v;
    size_t n, cap;
} file_set;

static void add_resource(file_set *s, const eider__resource *r)
{
    char *f = r ? file_of(r) : NULL;
    if (!f)
        return;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], f) == 0) {
            free(f);
            return;
        }
    EIDER__GROW(s->v, s->cap, s->n + 1);
    s->v[s->n++] = f;
}

/* What asset a may open: its resources (every DuckDB resource when it declares none,
 * since its code may connect to any by name), its I/O manager's database and those of
 * the assets it reads. */
static void add_asset(file_set *s, const eider_defs *defs, const eider__asset *a)
{
    for (size_t k = 0; k < a->n_resources; k++)
        add_resource(s, eider__defs_resource(defs, a->resources[k]));
    for (size_t k = 0; a->n_resources == 0 && k < defs->n_resources; k++)
        if (defs->resources[k].kind == EIDER__DUCKDB)
            add_resource(s, &defs->resources[k]);
    add_resource(s, eider__defs_resource(defs, a->io_manager));
    for (size_t k = 0; k < a->n_up; k++)
        add_resource(s, eider__defs_resource(defs, defs->assets[a->up[k]].io_manager));
}

int eider_defs_databases(const eider_defs *defs, const unsigned char *selected, char ***files,
                         size_t *n)
{
    file_set s = { 0 };
    *files = NULL;
    *n = 0;
    if (!defs || !defs->validated)
        return EIDER_EINVAL;
    for (size_t i = 0; i < defs->n_assets; i++)
        if ((!selected || selected[i]) && !defs->assets[i].external)
            add_asset(&s, defs, &defs->assets[i]);
    EIDER__GROW(s.v, s.cap, s.n + 1);
    s.v[s.n] = NULL;
    *files = s.v;
    *n = s.n;
    return EIDER_OK;
}
