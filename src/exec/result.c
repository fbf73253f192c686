/*
 * result.c — the outcome of a run: one record per planned step, in topological
 * order, and the accessors of the public API.
 */
#include "exec.h"
#include "../defs/partitions.h"

/* A random version-4 UUID. */
static void new_run_id(char *out, size_t size)
{
    unsigned v[8];
    for (int i = 0; i < 8; i++)
        v[i] = (unsigned)(eider__random() * 65536.0) & 0xffff;
    snprintf(out, size, "%04x%04x-%04x-4%03x-%04x-%04x%04x%04x", v[0], v[1], v[2], v[3] & 0xfff,
             0x8000 | (v[4] & 0x3fff), v[5], v[6], v[7]);
}

eider_result *eider__result_new(const eider_defs *defs, const unsigned char *selected)
{
    eider_result *r = eider__xcalloc(1, sizeof(*r));
    r->defs = defs;
    new_run_id(r->run_id, sizeof(r->run_id));
    r->step_of = eider__xmalloc(defs->n_assets * sizeof(*r->step_of));
    r->steps = eider__xcalloc(defs->n_assets, sizeof(*r->steps));
    for (size_t i = 0; i < defs->n_assets; i++)
        r->step_of[i] = -1;
    for (size_t t = 0; t < defs->n_assets; t++) {
        uint32_t a = defs->topo[t];
        if (!selected[a])            /* (the planner leaves external assets out but in */
            continue;                /* a run of checks only) */
        r->step_of[a] = (long)r->n_steps;
        r->steps[r->n_steps++].asset = a;
    }
    return r;
}

void eider__step_drop_metadata(eider__step *step)
{
    for (size_t i = 0; i < step->n_meta; i++) {
        free((char *)step->meta[i].key);
        free((char *)step->meta[i].text);
    }
    step->n_meta = 0;
}

void eider__step_add_meta(eider__step *s, const eider_meta *m)
{
    for (size_t i = 0; i < s->n_meta; i++)     /* a key reported again replaces */
        if (strcmp(s->meta[i].key, m->key) == 0) {
            free((char *)s->meta[i].text);
            s->meta[i].type = m->type;
            s->meta[i].i = m->i;
            s->meta[i].f = m->f;
            s->meta[i].text = m->text ? eider__xstrdup(m->text) : NULL;
            return;
        }
    EIDER__GROW(s->meta, s->cap_meta, s->n_meta + 1);
    s->meta[s->n_meta] = *m;
    s->meta[s->n_meta].key = eider__xstrdup(m->key);
    s->meta[s->n_meta].text = m->text ? eider__xstrdup(m->text) : NULL;
    s->n_meta++;
}

static eider_meta *copy_meta(const eider_meta *m, size_t n)
{
    eider_meta *out = n ? eider__xcalloc(n, sizeof(*out)) : NULL;
    for (size_t i = 0; i < n; i++) {
        out[i] = m[i];
        out[i].key = eider__xstrdup(m[i].key);
        out[i].text = m[i].text ? eider__xstrdup(m[i].text) : NULL;
    }
    return out;
}

static void free_meta(const eider_meta *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)m[i].key);
        free((char *)m[i].text);
    }
    free((eider_meta *)m);
}

void eider__step_add_check(eider__step *s, const eider_check_outcome *o)
{
    EIDER__GROW(s->checks, s->cap_checks, s->n_checks + 1);
    eider_check_outcome *c = &s->checks[s->n_checks++];
    *c = *o;
    c->name = eider__xstrdup(o->name);
    c->message = o->message ? eider__xstrdup(o->message) : NULL;
    c->sql = o->sql ? eider__xstrdup(o->sql) : NULL;
    c->metadata = copy_meta(o->metadata, o->n_metadata);
}

void eider__step_drop_checks(eider__step *s)
{
    for (size_t i = 0; i < s->n_checks; i++) {
        free((char *)s->checks[i].name);
        free((char *)s->checks[i].message);
        free((char *)s->checks[i].sql);
        free_meta(s->checks[i].metadata, s->checks[i].n_metadata);
    }
    s->n_checks = 0;
}

void eider__step_release(eider__step *step)
{
    free(step->error);
    free(step->sql);
    eider__buf_release(&step->log);
    eider__step_drop_metadata(step);
    free(step->meta);
    eider__step_drop_checks(step);
    free(step->checks);
    eider__strv_free(step->partitions, step->n_partitions);
}

void eider_result_free(eider_result *result)
{
    if (!result)
        return;
    for (size_t i = 0; i < result->n_steps; i++)
        eider__step_release(&result->steps[i]);
    free(result->steps);
    free(result->step_of);
    free(result->left_out);
    free(result->left_out_because);
    free(result->partition);
    free(result->unrecorded);
    free(result);
}

size_t eider_result_left_out_count(const eider_result *result)
{
    return result ? result->n_left_out : 0;
}

const char *eider_result_left_out(const eider_result *result, size_t i, eider_left_out_why *why,
                                  const char **upstream)
{
    if (upstream)
        *upstream = NULL;
    if (!result || i >= result->n_left_out)
        return NULL;
    long because = result->left_out_because[i];
    if (why)
        *why = because >= 0 ? EIDER_LEFT_OUT_UPSTREAM
             : because == EIDER__LEFT_OUT_NOT_ITS_PARTITION ? EIDER_LEFT_OUT_NOT_ITS_PARTITION
             : EIDER_LEFT_OUT_NO_PARTITION;
    if (upstream && because >= 0)
        *upstream = result->defs->assets[because].key;
    return result->defs->assets[result->left_out[i]].key;
}

const char *eider_result_run_id(const eider_result *result)
{
    return result ? result->run_id : NULL;
}

const char *eider_result_partition(const eider_result *result)
{
    return result ? result->partition : NULL;
}

const char *eider_result_unrecorded(const eider_result *result)
{
    return result ? result->unrecorded : NULL;
}

size_t eider_result_count(const eider_result *result)
{
    return result ? result->n_steps : 0;
}

static const eider__step *step_at(const eider_result *result, size_t i)
{
    return result && i < result->n_steps ? &result->steps[i] : NULL;
}

const char *eider_result_key(const eider_result *result, size_t i)
{
    const eider__step *s = step_at(result, i);
    return s ? result->defs->assets[s->asset].key : NULL;
}

eider_step_status eider_result_status(const eider_result *result, size_t i)
{
    const eider__step *s = step_at(result, i);
    return s ? s->status : EIDER_STEP_SKIPPED;
}

long eider_result_find(const eider_result *result, const char *key)
{
    long a = result ? eider_defs_find(result->defs, key) : -1;
    return a < 0 ? -1 : result->step_of[a];
}

const char *eider_result_error(const eider_result *result, size_t i)
{
    const eider__step *s = step_at(result, i);
    return s ? s->error : NULL;
}

const char *eider_result_sql(const eider_result *result, size_t i)
{
    const eider__step *s = step_at(result, i);
    return s ? s->sql : NULL;
}

double eider_result_duration(const eider_result *result, size_t i)
{
    const eider__step *s = step_at(result, i);
    return s ? s->duration_s : 0;
}

int eider_result_attempts(const eider_result *result, size_t i)
{
    const eider__step *s = step_at(result, i);
    return s ? s->attempts : 0;
}

const char *eider_result_log(const eider_result *result, size_t i)
{
    const eider__step *s = step_at(result, i);
    return s ? eider__buf_str(&s->log) : NULL;
}

const eider_meta *eider_result_metadata(const eider_result *result, size_t i, size_t *n)
{
    const eider__step *s = step_at(result, i);
    if (n)
        *n = s ? s->n_meta : 0;
    return s ? s->meta : NULL;
}

size_t eider_result_check_count(const eider_result *result, size_t i)
{
    const eider__step *s = step_at(result, i);
    return s ? s->n_checks : 0;
}

const eider_check_outcome *eider_result_check(const eider_result *result, size_t i, size_t j)
{
    const eider__step *s = step_at(result, i);
    return s && j < s->n_checks ? &s->checks[j] : NULL;
}
