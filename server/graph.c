/*
 * graph.c — GET /api/graph: the asset graph with its layout (layout.c), as JSON text,
 * made once per definitions version and kept in the srv until they change.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../cli/cli.h"
#include "layout.h"
#include "server.h"

/* The layout's input from the definitions, and the groups' names by id. */
typedef struct graph_src {
    srv_graph_in in;
    size_t *dep_start, *deps, *group;
    json_t *names;                   /* group name -> id; ids in first-seen order */
    const char **by_id;              /* id -> name (the definitions' strings) */
} graph_src;

static void graph_src_release(graph_src *src)
{
    free(src->dep_start);
    free(src->deps);
    free(src->group);
    free(src->by_id);
    json_decref(src->names);
}

/* The id of group name: a new one when it is first seen. */
static size_t group_id(graph_src *src, const char *name)
{
    json_t *id = json_object_get(src->names, name);
    if (id)
        return (size_t)json_integer_value(id);
    size_t next = json_object_size(src->names);
    json_object_set_new(src->names, name, json_integer((json_int_t)next));
    src->by_id[next] = name;
    return next;
}

static size_t count_deps(eider_defs *defs)
{
    size_t n = 0;
    for (size_t i = 0; i < eider_defs_count(defs); i++) {
        eider_asset_info a;
        for (size_t d = 0; eider_defs_info(defs, i, &a) == EIDER_OK && a.deps[d]; d++)
            n++;
    }
    return n;
}

static int graph_src_init(graph_src *src, eider_defs *defs)
{
    size_t n = eider_defs_count(defs), e = 0;
    memset(src, 0, sizeof(*src));
    src->dep_start = calloc(n + 1, sizeof(size_t));
    src->deps = calloc(count_deps(defs) + 1, sizeof(size_t));
    src->group = calloc(n + 1, sizeof(size_t));
    src->by_id = calloc(n + 1, sizeof(*src->by_id));
    src->names = json_object();
    if (!src->dep_start || !src->deps || !src->group || !src->by_id || !src->names)
        return -1;
    for (size_t i = 0; i < n; i++) {
        eider_asset_info a;
        if (eider_defs_info(defs, i, &a))
            return -1;
        src->group[i] = group_id(src, a.group ? a.group : "default");
        for (size_t d = 0; a.deps[d]; d++) {
            long u = eider_defs_find(defs, a.deps[d]);
            if (u >= 0)
                src->deps[e++] = (size_t)u;
        }
        src->dep_start[i + 1] = e;
    }
    src->in = (srv_graph_in){ n, src->dep_start, src->deps, src->group,
                              json_object_size(src->names) };
    return 0;
}

static json_t *num(double v)
{
    return json_integer((json_int_t)lround(v));
}

static json_t *nodes_json(eider_defs *defs, const srv_layout *l)
{
    json_t *nodes = json_array();
    for (size_t i = 0; i < l->n; i++) {
        eider_asset_info a;
        json_t *kinds = json_array();
        eider_defs_info(defs, i, &a);
        for (size_t k = 0; a.kinds[k]; k++)
            json_array_append_new(kinds, cli_json_string(a.kinds[k]));
        json_array_append_new(nodes, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}",
            "key", cli_json_string(a.key), "group", cli_json_string(a.group), "kinds", kinds,
            "x", num(l->pos[i].x), "y", num(l->pos[i].y), "w", num(SRV_NODE_W),
            "h", num(SRV_NODE_H), "rank", (json_int_t)l->rank[i]));
    }
    return nodes;
}

static json_t *edges_json(const srv_layout *l)
{
    json_t *edges = json_array();
    for (size_t e = 0; e < l->n_edges; e++) {
        const srv_edge *ed = &l->edges[e];
        json_t *bends = json_array();
        for (size_t b = 0; b < ed->n_bends; b++) {
            const srv_point *p = &l->bends[ed->first_bend + b];
            json_array_append_new(bends, json_pack("[o, o]", num(p->x), num(p->y)));
        }
        json_array_append_new(edges, json_pack("[I, I, o]", (json_int_t)ed->from,
                                                (json_int_t)ed->to, bends));
    }
    return edges;
}

static json_t *groups_json(const graph_src *src, const srv_layout *l)
{
    json_t *groups = json_array();
    for (size_t g = 0; g < l->n_groups; g++) {
        const srv_box *b = &l->groups[g];
        if (b->w > 0)
            json_array_append_new(groups, json_pack("{s:o, s:o, s:o, s:o, s:o}",
                "name", cli_json_string(src->by_id[g]), "x", num(b->x), "y", num(b->y),
                "w", num(b->w), "h", num(b->h)));
    }
    return groups;
}

/* The graph's JSON for the definitions of s, or NULL (reply set). */
static json_t *graph_json(srv *s, srv_reply *reply)
{
    graph_src src;
    srv_layout l = { 0 };
    json_t *doc = NULL;
    if (graph_src_init(&src, s->defs) || srv_layout_compute(&src.in, &l)) {
        srv_error(reply, 500, "cannot lay the graph out: out of memory, or a cycle");
        goto out;
    }
    doc = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}", "version", (json_int_t)s->defs_version,
                    "width", num(l.width), "height", num(l.height), "nodes", nodes_json(s->defs, &l),
                    "edges", edges_json(&l), "groups", groups_json(&src, &l));
out:
    srv_layout_release(&l);
    graph_src_release(&src);
    return doc;
}

/* Lay the graph out again when the definitions changed; its text is kept. */
void api_graph(srv *s, const srv_request *req, srv_reply *reply)
{
    (void)req;
    if (!s->graph || s->graph_version != s->defs_version) {
        srv_reply made = { .status = 200 };
        json_t *doc = graph_json(s, reply);
        free(s->graph);
        s->graph = NULL;
        if (!doc || api_reply_text(&made, doc)) {
            json_decref(made.doc);
            if (doc)
                srv_error(reply, 500, "out of memory");
            return;
        }
        s->graph = made.raw;
        s->graph_len = strlen(made.raw);
        s->graph_version = s->defs_version;
    }
    reply->raw = malloc(s->graph_len + 1);
    if (reply->raw)
        memcpy(reply->raw, s->graph, s->graph_len + 1);
    else
        srv_error(reply, 500, "out of memory");
}

void api_release(srv *s)
{
    free(s->graph);
    s->graph = NULL;
}
