/*
 * backfill.c — `eider materialize --per-partition | --resume`: a backfill run as several
 * runs. The selected partitioned assets are grouped by the keys the backfill names for
 * them (one partitioning each, upstream first); each partitioning's keys are run one
 * partition a run, or a span a run; --resume skips the keys every asset of a
 * partitioning has succeeded for, as the instance store says.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int same_keys(char **a, size_t na, char **b, size_t nb)
{
    for (size_t i = 0; na == nb && i < na; i++)
        if (strcmp(a[i], b[i]))
            return 0;
    return na == nb;
}

/* Add asset i, whose keys the backfill names are keys (taken), to its partitioning. */
static void add_to_partitioning(backfill *b, size_t n_assets, size_t i, char **keys, size_t n)
{
    for (size_t s = 0; s < b->n_sets; s++)
        if (same_keys(b->sets[s].keys, b->sets[s].n, keys, n)) {
            b->sets[s].assets[i] = 1;
            eider_keys_free(keys, n);
            return;
        }
    b->sets = realloc(b->sets, (b->n_sets + 1) * sizeof(*b->sets));
    partitioning *set = &b->sets[b->n_sets++];
    *set = (partitioning){ .keys = keys, .n = n, .assets = calloc(n_assets + 1, 1) };
    set->assets[i] = 1;
}

/* Key as the selection syntax reads it: bare when it can be, else quoted. */
static void put_selection_key(FILE *out, const char *key)
{
    static const char *const words[] = { "and", "or", "not", "roots", "sinks", "stale" };
    int bare = *key && strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789_-./") == strlen(key);
    for (size_t i = 0; bare && i < sizeof(words) / sizeof(words[0]); i++)
        bare = strcmp(key, words[i]) != 0;
    if (bare) {
        fputs(key, out);
        return;
    }
    fputc('"', out);
    for (const char *c = key; *c; c++)
        fprintf(out, "%s%c", *c == '"' || *c == '\\' ? "\\" : "", *c);
    fputc('"', out);
}

/* Whether selection depends on the assets' state (stale()), so may hold a
 * partitioned asset one day and none the next. */
static int by_state(const char *selection)
{
    return selection && strcasestr(selection, "stale(");
}

/* The selection of a partitioning's runs, when the user's does not fit: its assets and
 * the selection's unpartitioned ones, by key. The user's fits when it holds only one
 * partitioning, no asset lacking the range's partitions (each run would name it) and
 * does not depend on state (stale() changes as the backfill goes). */
static void freeze_selections(eider_defs *defs, const eider_run_options *o, backfill *b)
{
    size_t n = eider_defs_count(defs);
    int lacking = 0;
    for (size_t i = 0; i < n; i++)
        lacking |= b->lacking[i];
    if (b->n_sets == 1 && !lacking && !by_state(o->selection))
        return;
    for (size_t s = 0; s < b->n_sets; s++) {
        size_t len = 0, listed = 0;
        FILE *sel = open_memstream(&b->sets[s].selection, &len);
        for (size_t i = 0; sel && i < n; i++) {
            eider_asset_info a;
            if (!b->selected[i] || eider_defs_info(defs, i, &a) || a.external ||
                (a.partitioned && !b->sets[s].assets[i]))
                continue;
            fputs(listed++ ? ", " : "", sel);
            put_selection_key(sel, a.key);
        }
        if (sel)
            fclose(sel);
    }
}

/* How far asset i lies from the roots of the graph: 0 for a root, else one more than its
 * farthest upstream (an asset reading its own past is no upstream of itself). depth
 * holds -1 for what is not known yet. */
static long depth_of(eider_defs *defs, size_t i, long *depth)
{
    eider_asset_info a;
    if (depth[i] >= 0 || eider_defs_info(defs, i, &a))
        return depth[i] < 0 ? 0 : depth[i];
    depth[i] = 0;
    for (size_t d = 0; a.deps && a.deps[d]; d++) {
        long up = eider_defs_find(defs, a.deps[d]);
        if (up >= 0 && (size_t)up != i && depth_of(defs, (size_t)up, depth) + 1 > depth[i])
            depth[i] = depth[up] + 1;
    }
    return depth[i];
}

/* Put the partitionings in dependency order: by the depth of their shallowest asset (a
 * downstream partitioning after its upstream one), else as defined. */
static void order_partitionings(eider_defs *defs, backfill *b)
{
    size_t n = eider_defs_count(defs);
    long *depth = malloc((n + 1) * sizeof(*depth)), *set_depth = calloc(b->n_sets + 1, sizeof(long));
    for (size_t i = 0; depth && i < n; i++)
        depth[i] = -1;
    for (size_t s = 0; depth && set_depth && s < b->n_sets; s++) {
        set_depth[s] = LONG_MAX;
        for (size_t i = 0; i < n; i++)
            if (b->sets[s].assets[i] && depth_of(defs, i, depth) < set_depth[s])
                set_depth[s] = depth[i];
    }
    for (size_t s = 1; depth && set_depth && s < b->n_sets; s++)   /* insertion sort: stable */
        for (size_t t = s; t > 0 && set_depth[t] < set_depth[t - 1]; t--) {
            partitioning p = b->sets[t];
            long d = set_depth[t];
            b->sets[t] = b->sets[t - 1];
            set_depth[t] = set_depth[t - 1];
            b->sets[t - 1] = p;
            set_depth[t - 1] = d;
        }
    free(depth);
    free(set_depth);
}

/* The partitioned assets a backfill of a range leaves out, for lacking those
 * partitions, as one note (the runs of a frozen selection do not see them). */
static void note_lacking(eider_defs *defs, const backfill *b, const char *partition)
{
    size_t n = eider_defs_count(defs), count = 0, shown = 0;
    for (size_t i = 0; i < n; i++)
        count += b->lacking[i];
    for (size_t i = 0; i < n && count; i++) {
        if (!b->lacking[i] || shown >= 5)
            continue;
        if (!shown++)
            left_out_note_start(EIDER_LEFT_OUT_NOT_ITS_PARTITION, count);
        fprintf(stderr, "%s'%s'", shown == 1 ? "" : ", ", cli_safe(eider_defs_key(defs, i)));
    }
    if (count > shown)
        fprintf(stderr, " and %zu more", count - shown);
    if (count)
        left_out_note_end(EIDER_LEFT_OUT_NOT_ITS_PARTITION, count, partition);
}

/* Asset i's keys of the backfill into its partitioning. Without those partitions it is
 * marked lacking (left out, as in one run) and *first_error keeps the first such error,
 * for when no asset has them (a typo). */
static int partitioning_of(eider_defs *defs, const eider_run_options *o, backfill *b, size_t i,
                           char **first_error)
{
    eider_asset_info a;
    char **keys = NULL;
    size_t nk = 0;
    if (!b->selected[i] || eider_defs_info(defs, i, &a) || !a.partitioned || a.external)
        return EIDER_OK;
    int rc = eider_defs_partition_keys(defs, i, o->all_partitions ? NULL : o->partition, &keys, &nk);
    if (rc == EIDER_ESELECT && !o->all_partitions) {
        b->lacking[i] = 1;
        if (!*first_error)
            *first_error = strdup(eider_defs_errmsg(defs));
        return EIDER_OK;
    }
    if (!rc && !nk) {
        eider_keys_free(keys, nk);
        cli_error("asset '%s' has no partition to backfill yet: dynamic partitions get "
                  "their keys with eider partitions add NAME KEY..., time partitions a "
                  "key once a window has ended", a.key);
        return EIDER_ESELECT;
    }
    if (rc) {
        cli_error("%s", eider_defs_errmsg(defs));
        return rc;
    }
    add_to_partitioning(b, eider_defs_count(defs), i, keys, nk);
    return EIDER_OK;
}

/* The partitionings the backfill goes through: the selected partitioned assets grouped
 * by the keys it names of each, a downstream partitioning after its upstream one. The
 * assets without the range's partitions are left out, as in one run. *one_run is set
 * (and nothing else done) when a stale() selection holds no partitioned asset today:
 * that backfill is the one run of the same options, which says what it finds. */
int backfill_keys(eider_defs *defs, const eider_run_options *o, backfill *b, int *one_run)
{
    size_t n = eider_defs_count(defs);
    char *first_error = NULL;
    int rc = (b->selected = malloc(n + 1)) && (b->lacking = calloc(n + 1, 1))
           ? eider_defs_select_partitions(defs, o->selection, o->partition, o->all_partitions,
                                          b->selected)
           : EIDER_ENOMEM;
    for (size_t i = 0; !rc && i < n; i++)
        rc = partitioning_of(defs, o, b, i, &first_error);
    if (!rc && !b->n_sets && by_state(o->selection)) {
        *one_run = 1;
    } else if (!rc && !b->n_sets && first_error) {   /* none has them: a typo, most likely */
        cli_error("%s", first_error);
        rc = EIDER_ESELECT;
    } else if (!rc && !b->n_sets) {
        cli_error("--%s backfills partitioned assets, and the selection holds none: select "
                  "them with --select", b->resume ? "resume" : "per-partition");
        rc = EIDER_ESELECT;
    } else if (!rc) {
        order_partitionings(defs, b);
        freeze_selections(defs, o, b);
        note_lacking(defs, b, o->partition);
    }
    free(first_error);
    return rc;
}

/* Partitions of one asset whose latest materialization succeeded and was not followed
 * by a failure, as the store says. */
typedef struct ok_list {
    char **v;
    size_t n, cap;
} ok_list;

static int collect_ok(const eider_asset_record *rec, void *user_data)
{
    ok_list *l = user_data;
    if (!rec->materialized_us || rec->last_failed || !rec->partition)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return 1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = strdup(rec->partition);
    return 0;
}

static int compare_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* --resume: mark done, in each partitioning, the keys all its assets succeeded for. */
int backfill_done(cli_env *env, backfill *b)
{
    size_t n = eider_defs_count(env->defs);
    int rc = EIDER_OK;
    for (size_t s = 0; !rc && s < b->n_sets; s++) {
        partitioning *set = &b->sets[s];
        if (!(set->done = malloc(set->n + 1)))
            return EIDER_ENOMEM;
        memset(set->done, 1, set->n + 1);
        for (size_t i = 0; !rc && i < n; i++) {
            ok_list ok = { 0 };
            if (!set->assets[i])
                continue;
            rc = eider_store_assets(env->store, eider_defs_key(env->defs, i), collect_ok, &ok);
            if (ok.n)
                qsort(ok.v, ok.n, sizeof(*ok.v), compare_str);
            for (size_t k = 0; k < set->n; k++)
                if (!ok.n || !bsearch(&set->keys[k], ok.v, ok.n, sizeof(*ok.v), compare_str))
                    set->done[k] = 0;
            for (size_t k = 0; k < ok.n; k++)
                free(ok.v[k]);
            free(ok.v);
        }
    }
    if (rc)
        fprintf(stderr, "error: reading the instance store: %s\n", eider_store_errmsg(env->store));
    return rc;
}

void backfill_release(backfill *b)
{
    for (size_t s = 0; s < b->n_sets; s++) {
        eider_keys_free(b->sets[s].keys, b->sets[s].n);
        free(b->sets[s].assets);
        free(b->sets[s].selection);
        free(b->sets[s].done);
    }
    free(b->sets);
    free(b->selected);
    free(b->lacking);
}

/* Counts of a backfill, over its partitions. */
typedef struct backfill_counts {
    size_t ok, failed, done, runs;
} backfill_counts;

/* The runs of one partitioning: one per partition, or per span of partitions not done.
 * A failed run does not stop the others; a canceled one, a crashed one (its run
 * worker died), or one that cannot start, does: its code is returned. */
static int run_partitioning(eider_run_options *o, const backfill_runner *runner,
                            const backfill *b, const partitioning *set, backfill_counts *c)
{
    char *range = NULL;
    int rc = EIDER_OK;
    for (size_t i = 0, j = 0; i < set->n && rc != EIDER_ECANCELED; i = j + 1) {
        j = i;
        if (set->done && set->done[i]) {
            c->done++;
            continue;
        }
        while (!b->per_partition && j + 1 < set->n && !(set->done && set->done[j + 1]))
            j++;
        free(range);
        range = NULL;
        if (i != j && asprintf(&range, "%s...%s", set->keys[i], set->keys[j]) < 0)
            return EIDER_ENOMEM;
        o->partition = i == j ? set->keys[i] : range;
        if (!runner->json)
            printf("%spartition%s %s\n", c->runs++ ? "\n" : "", i == j ? "" : "s",
                   cli_safe(o->partition));
        rc = runner->once(o, runner->user_data);
        if (rc != EIDER_OK && rc != EIDER_ERUNFAILED && rc != EIDER_ECANCELED)
            break;
        *(rc == EIDER_OK ? &c->ok : &c->failed) += j - i + 1;
    }
    free(range);
    o->partition = NULL;
    return rc == EIDER_ERUNFAILED ? EIDER_OK : rc;
}

/* The partitioned assets the backfill went through, partitioning after partitioning:
 * "'a'", "'a' and 'b'", "'a', 'b', 'c', 'd', 'e' and 2 more". */
static void name_backfilled(FILE *out, eider_defs *defs, const backfill *b)
{
    size_t n = eider_defs_count(defs), total = 0, shown = 0;
    for (size_t s = 0; s < b->n_sets; s++)
        for (size_t i = 0; i < n; i++)
            total += b->sets[s].assets[i];
    for (size_t s = 0; s < b->n_sets; s++)
        for (size_t i = 0; i < n && shown < 5; i++) {
            if (!b->sets[s].assets[i])
                continue;
            shown++;
            fprintf(out, "%s'%s'", shown == 1 ? "" : shown == total ? " and " : ", ",
                    cli_safe(eider_defs_key(defs, i)));
        }
    if (total > shown)
        fprintf(out, " and %zu more", total - shown);
}

/* A backfill in several runs, one partitioning after another (each run materializes
 * the selection's unpartitioned assets too). */
int run_backfill(eider_defs *defs, eider_run_options *o, backfill *b,
                 const backfill_runner *runner)
{
    backfill_counts c = { 0 };
    const char *user_selection = o->selection;
    FILE *out = runner->json ? stderr : stdout;
    int rc = EIDER_OK;
    o->all_partitions = 0;
    for (size_t s = 0; s < b->n_sets && rc == EIDER_OK; s++) {
        o->selection = b->sets[s].selection ? b->sets[s].selection : user_selection;
        rc = run_partitioning(o, runner, b, &b->sets[s], &c);
    }
    o->selection = user_selection;
    if (rc != EIDER_OK)
        return cli_exit_for(rc);
    fputs("\nbackfill of ", out);
    name_backfilled(out, defs, b);
    fprintf(out, ": %zu partition%s succeeded, %zu failed", c.ok, c.ok == 1 ? "" : "s", c.failed);
    if (b->resume)
        fprintf(out, ", %zu already done", c.done);
    fputc('\n', out);
    if (c.failed)
        fputs("redo the failed ones with the same command and --resume\n", out);
    return c.failed ? EXIT_RUN_FAILED : EXIT_OK;
}

