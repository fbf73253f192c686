/*
 * test_layout.c — the layered layout of GET /api/graph (server/layout.c): no two nodes
 * overlap, every edge goes left to right through bend points that do too, a chain keeps
 * its order, a node sits level with its upstream, group boxes hold their nodes and never
 * overlap, a wide rank wraps into columns, and a cycle is refused.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "../../server/layout.h"

/* A graph under construction: deps as lists per node. */
typedef struct graph {
    size_t n, n_groups, n_deps;
    size_t dep_start[20001], deps[80000], group[20000];
} graph;

static graph *graph_new(size_t n_groups)
{
    graph *g = calloc(1, sizeof(*g));
    cr_assert_not_null(g);
    g->n_groups = n_groups;
    return g;
}

/* Add a node in group grp with the deps given (a list ending in -1). */
static size_t node(graph *g, size_t grp, const long *deps)
{
    size_t i = g->n++;
    g->group[i] = grp;
    for (size_t d = 0; deps && deps[d] >= 0; d++)
        g->deps[g->n_deps++] = (size_t)deps[d];
    g->dep_start[i + 1] = g->n_deps;
    return i;
}

static srv_graph_in in_of(const graph *g)
{
    return (srv_graph_in){ g->n, g->dep_start, g->deps, g->group, g->n_groups };
}

/* A random DAG: each node depends on up to three earlier ones, some far back (edges
 * that span many ranks), in n_groups groups of runs of nodes. */
static graph *random_dag(size_t n, size_t n_groups, unsigned seed)
{
    graph *g = graph_new(n_groups);
    srand(seed);
    for (size_t i = 0; i < n; i++) {
        long deps[4] = { -1, -1, -1, -1 };
        size_t k = i ? (size_t)rand() % 4 : 0;
        for (size_t d = 0; d < k && d < 3; d++) {
            long back = 1 + rand() % (rand() % 10 == 0 ? (int)i : (int)(i < 20 ? i : 20));
            long dep = (long)i - back;
            if (dep >= 0 && (d == 0 || deps[d - 1] != dep))
                deps[d] = dep;
            else
                break;
        }
        node(g, (i / 97) % n_groups, deps);
    }
    return g;
}

static int overlap(srv_point a, double aw, double ah, srv_point b, double bw, double bh)
{
    return a.x < b.x + bw && b.x < a.x + aw && a.y < b.y + bh && b.y < a.y + ah;
}

static void assert_no_overlap(const srv_layout *l)
{
    for (size_t i = 0; i < l->n; i++)
        for (size_t j = i + 1; j < l->n; j++)
            cr_assert(!overlap(l->pos[i], SRV_NODE_W, SRV_NODE_H, l->pos[j], SRV_NODE_W, SRV_NODE_H),
                      "nodes %zu (%g, %g) and %zu (%g, %g) overlap", i, l->pos[i].x, l->pos[i].y, j,
                      l->pos[j].x, l->pos[j].y);
}

/* From the upstream's right side, through bends that go right, to the downstream's left. */
static void assert_left_to_right(const srv_layout *l)
{
    for (size_t e = 0; e < l->n_edges; e++) {
        const srv_edge *ed = &l->edges[e];
        double x = l->pos[ed->from].x + SRV_NODE_W;
        for (size_t b = 0; b < ed->n_bends; b++) {
            cr_assert_gt(l->bends[ed->first_bend + b].x, x, "edge %zu bends back", e);
            x = l->bends[ed->first_bend + b].x;
        }
        cr_assert_lt(x, l->pos[ed->to].x, "edge %zu (%zu -> %zu) does not go right", e, ed->from,
                     ed->to);
    }
}

static void assert_in_drawing(const srv_layout *l)
{
    for (size_t i = 0; i < l->n; i++)
        cr_assert(l->pos[i].x >= 0 && l->pos[i].y >= 0 && l->pos[i].x + SRV_NODE_W <= l->width
                  && l->pos[i].y + SRV_NODE_H <= l->height, "node %zu is outside the drawing", i);
}

/* Each node inside its group's box; no two boxes overlap. */
static void assert_groups(const graph *g, const srv_layout *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const srv_box *b = &l->groups[g->group[i]];
        cr_assert(l->pos[i].x >= b->x && l->pos[i].y >= b->y
                  && l->pos[i].x + SRV_NODE_W <= b->x + b->w
                  && l->pos[i].y + SRV_NODE_H <= b->y + b->h, "node %zu is outside its group", i);
    }
    for (size_t a = 0; a < l->n_groups; a++)
        for (size_t b = a + 1; b < l->n_groups; b++) {
            const srv_box *p = &l->groups[a], *q = &l->groups[b];
            if (p->w > 0 && q->w > 0)
                cr_assert(!overlap((srv_point){ p->x, p->y }, p->w, p->h,
                                   (srv_point){ q->x, q->y }, q->w, q->h),
                          "group boxes %zu and %zu overlap", a, b);
        }
}

Test(layout, a_chain_keeps_its_order_left_to_right)
{
    graph *g = graph_new(1);
    srv_layout l;
    size_t prev = node(g, 0, NULL);
    for (int i = 1; i < 6; i++)
        prev = node(g, 0, (const long[]){ (long)prev, -1 });
    srv_graph_in in = in_of(g);
    cr_assert_eq(srv_layout_compute(&in, &l), 0);
    for (size_t i = 1; i < 6; i++) {
        cr_assert_gt(l.pos[i].x, l.pos[i - 1].x + SRV_NODE_W, "node %zu is not right of %zu", i, i - 1);
        cr_assert_eq(l.pos[i].y, l.pos[0].y, "a lone chain is one straight line");
        cr_assert_eq(l.rank[i], i);
    }
    cr_assert_eq(l.n_edges, 5);
    srv_layout_release(&l);
    free(g);
}

/* Five roots; the one downstream node reads the fourth: it sits level with it, not at
 * the top of its rank. */
Test(layout, a_node_sits_level_with_its_only_upstream)
{
    graph *g = graph_new(1);
    srv_layout l;
    for (int i = 0; i < 5; i++)
        node(g, 0, NULL);
    node(g, 0, (const long[]){ 3, -1 });
    srv_graph_in in = in_of(g);
    cr_assert_eq(srv_layout_compute(&in, &l), 0);
    cr_assert_gt(l.pos[3].y, l.pos[0].y);
    cr_assert_eq(l.pos[5].y, l.pos[3].y, "y %g, its upstream's %g", l.pos[5].y, l.pos[3].y);
    srv_layout_release(&l);
    free(g);
}

Test(layout, a_long_edge_bends_once_per_rank_it_crosses)
{
    graph *g = graph_new(1);
    srv_layout l;
    node(g, 0, NULL);                                      /* 0 */
    node(g, 0, (const long[]){ 0, -1 });                   /* 1 */
    node(g, 0, (const long[]){ 1, -1 });                   /* 2 */
    node(g, 0, (const long[]){ 2, 0, -1 });                /* 3: 0 -> 3 spans 3 ranks */
    srv_graph_in in = in_of(g);
    cr_assert_eq(srv_layout_compute(&in, &l), 0);
    cr_assert_eq(l.n_edges, 4);
    cr_assert_eq(l.edges[3].from, 0);
    cr_assert_eq(l.edges[3].to, 3);
    cr_assert_eq(l.edges[3].n_bends, 2);
    cr_assert_eq(l.edges[0].n_bends, 0);
    assert_left_to_right(&l);
    assert_no_overlap(&l);
    srv_layout_release(&l);
    free(g);
}

Test(layout, a_random_dag_has_no_overlap_and_edges_go_right)
{
    graph *g = random_dag(3000, 5, 7);
    srv_layout l;
    srv_graph_in in = in_of(g);
    cr_assert_eq(srv_layout_compute(&in, &l), 0);
    cr_assert_eq(l.n_edges, g->n_deps);
    assert_no_overlap(&l);
    assert_left_to_right(&l);
    assert_in_drawing(&l);
    assert_groups(g, &l);
    srv_layout_release(&l);
    free(g);
}

/* One root and 5,000 leaves: the leaves' rank wraps into columns, not one 400,000 px
 * tall column. */
Test(layout, a_wide_rank_wraps_into_columns)
{
    graph *g = graph_new(1);
    srv_layout l;
    node(g, 0, NULL);
    for (int i = 0; i < 5000; i++)
        node(g, 0, (const long[]){ 0, -1 });
    srv_graph_in in = in_of(g);
    cr_assert_eq(srv_layout_compute(&in, &l), 0);
    cr_assert_lt(l.height, 100 * (SRV_NODE_H + 40), "height %g", l.height);
    cr_assert_lt(l.width, 100 * (SRV_NODE_W + 100), "width %g", l.width);
    assert_no_overlap(&l);
    assert_left_to_right(&l);
    srv_layout_release(&l);
    free(g);
}

Test(layout, a_cycle_is_refused)
{
    graph *g = graph_new(1);
    srv_layout l;
    node(g, 0, (const long[]){ 1, -1 });
    node(g, 0, (const long[]){ 0, -1 });
    srv_graph_in in = in_of(g);
    cr_assert_eq(srv_layout_compute(&in, &l), -1);
    cr_assert_null(l.pos);
    free(g);
}

Test(layout, an_empty_graph_is_laid_out)
{
    graph *g = graph_new(0);
    srv_layout l;
    srv_graph_in in = in_of(g);
    cr_assert_eq(srv_layout_compute(&in, &l), 0);
    cr_assert_eq(l.n, 0);
    srv_layout_release(&l);
    free(g);
}
