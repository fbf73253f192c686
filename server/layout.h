/*
 * layout.h — a layered layout of the asset graph for GET /api/graph, left to right
 * (upstream left): longest-path ranks, a dummy node per rank that a long edge crosses
 * (its bend points), barycentre sweeps against crossings, and a horizontal band per
 * group so that group boxes never overlap. A rank taller than the band's cap wraps into
 * several columns. Pure computation on indices: no definitions, no JSON.
 */
#ifndef EIDER_SERVER_LAYOUT_H
#define EIDER_SERVER_LAYOUT_H

#include <stddef.h>

#define SRV_NODE_W 220.0
#define SRV_NODE_H 64.0

/* The graph: n nodes; the upstream nodes of node i are
 * deps[dep_start[i] .. dep_start[i + 1]) (dep_start holds n + 1 entries); group[i] is
 * its group, 0 .. n_groups - 1. */
typedef struct srv_graph_in {
    size_t n;
    const size_t *dep_start, *deps;
    const size_t *group;
    size_t n_groups;
} srv_graph_in;

typedef struct srv_point {
    double x, y;
} srv_point;

typedef struct srv_box {
    double x, y, w, h;               /* w == 0: the group has no node */
} srv_box;

/* An edge from -> to (an upstream to its downstream) through n_bends points, from
 * bends[first_bend]. */
typedef struct srv_edge {
    size_t from, to, first_bend, n_bends;
} srv_edge;

typedef struct srv_layout {
    size_t n;
    srv_point *pos;                  /* each node's top-left corner; SRV_NODE_W x SRV_NODE_H */
    size_t *rank;                    /* each node's rank (column group, left to right) */
    srv_edge *edges;                 /* in the order of node, then of its deps */
    size_t n_edges;
    srv_point *bends;
    srv_box *groups;                 /* n_groups boxes, label room included */
    size_t n_groups;
    double width, height;            /* of the whole drawing */
} srv_layout;

/* Lay g out into *out (its arrays malloc'd; free with srv_layout_release()). Returns 0;
 * -1 when memory ran out or the graph has a cycle or a dep out of range (*out is then
 * empty). */
int srv_layout_compute(const srv_graph_in *g, srv_layout *out);
void srv_layout_release(srv_layout *l);

#endif
