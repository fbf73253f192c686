/*
 * layout.c — the layered layout of the asset graph (layout.h), in four passes:
 *   1. ranks: the longest path from a root (Kahn's order), so every edge points right;
 *   2. dummies: an edge that spans k ranks gets k - 1 dummy items, one per rank between,
 *      whose places become its bend points; every "segment" then joins adjacent ranks.
 *      When that would make more than DUMMY_BUDGET times the nodes and edges (a deep
 *      graph with many edges from far back), the longest edges get none: they go
 *      straight from their upstream to their downstream;
 *   3. order: within a rank, items sorted by group, then by the barycentre of their
 *      neighbours in the rank before (a sweep right) or after (a sweep left);
 *   4. coordinates: each group is a horizontal band as tall as its tallest rank (capped:
 *      a taller rank wraps into more columns), ranks are columns left to right; within
 *      its band an item sits as near its upstream neighbours as the order allows.
 * Linear in items and segments, but for the sorts: 10,000 nodes take milliseconds.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"

#define DUMMY_H 16.0                 /* the room a long edge takes where it crosses a rank */
#define GAP_Y 20.0                   /* between items of a column */
#define GAP_COL 40.0                 /* between the columns of a wrapped rank */
#define GAP_RANK 100.0               /* between ranks: room for the edges */
#define GROUP_PAD 16.0               /* between a group box and its nodes */
#define GROUP_LABEL 24.0             /* the box's title, above its nodes */
#define GAP_GROUP 40.0               /* between group boxes */
#define MARGIN 20.0
#define MIN_ROWS 25                  /* a band is at least this many nodes tall before wrapping */
#define SWEEPS 4
#define DUMMY_BUDGET 2               /* dummies at most this many times nodes + edges */

/* Items are the nodes (0 .. n - 1), then the dummies. A segment joins an item to one in
 * the next rank; seg_from/seg_to list them, by_from/by_to index them per item (CSR). */
typedef struct lay {
    const srv_graph_in *g;
    size_t n, m, n_segs, n_ranks;
    size_t *rank, *group;            /* per item */
    size_t *seg_from, *seg_to;
    size_t *out_start, *out_segs;    /* the segments leaving each item */
    size_t *in_start, *in_segs;      /* the segments reaching each item */
    size_t *rank_start, *order;      /* the items of each rank, in their order */
    double *pos;                     /* an item's place in its rank's order */
    double *y;                       /* an item's top, once placed */
    size_t *column;                  /* the column of its rank it went into */
    size_t *first_dummy;             /* per edge: its first dummy item */
    size_t span_cap;                 /* an edge spanning more ranks gets no dummy */
} lay;

static void *alloc_n(size_t count, size_t size, int *failed)
{
    void *p = calloc(count ? count : 1, size);
    if (!p)
        *failed = 1;
    return p;
}

/* Kahn's order: rank[i] = 1 + the highest rank of its deps. -1 on a cycle. */
static int assign_ranks(lay *L)
{
    const srv_graph_in *g = L->g;
    int failed = 0;
    size_t *pending = alloc_n(g->n, sizeof(size_t), &failed);
    size_t *queue = alloc_n(g->n, sizeof(size_t), &failed);
    size_t head = 0, tail = 0;
    for (size_t i = 0; !failed && i < g->n; i++) {
        pending[i] = g->dep_start[i + 1] - g->dep_start[i];
        if (!pending[i])
            queue[tail++] = i;
    }
    while (!failed && head < tail) {
        size_t u = queue[head++];
        for (size_t k = L->out_start[u]; k < L->out_start[u + 1]; k++) {
            size_t v = L->out_segs[k];        /* here: a node's downstream nodes */
            if (L->rank[u] + 1 > L->rank[v])
                L->rank[v] = L->rank[u] + 1;
            if (--pending[v] == 0)
                queue[tail++] = v;
        }
    }
    free(pending);
    free(queue);
    return failed || tail < g->n ? -1 : 0;
}

/* The downstream nodes of every node, as CSR in out_start/out_segs. */
static int node_successors(lay *L)
{
    const srv_graph_in *g = L->g;
    size_t n_edges = g->dep_start[g->n];
    int failed = 0;
    L->out_start = alloc_n(g->n + 1, sizeof(size_t), &failed);
    L->out_segs = alloc_n(n_edges, sizeof(size_t), &failed);
    size_t *fill = alloc_n(g->n + 1, sizeof(size_t), &failed);
    for (size_t e = 0; !failed && e < n_edges; e++) {
        if (g->deps[e] >= g->n)
            failed = 1;
        else
            L->out_start[g->deps[e] + 1]++;
    }
    for (size_t i = 0; !failed && i < g->n; i++)
        L->out_start[i + 1] += L->out_start[i];
    for (size_t v = 0; !failed && v < g->n; v++)
        for (size_t e = g->dep_start[v]; e < g->dep_start[v + 1]; e++) {
            size_t u = g->deps[e];
            L->out_segs[L->out_start[u] + fill[u]++] = v;
        }
    free(fill);
    return failed ? -1 : 0;
}

/* The dummies an edge from u to v gets. */
static size_t n_dummies(const lay *L, size_t u, size_t v)
{
    size_t span = L->rank[v] - L->rank[u];
    return span <= L->span_cap ? span - 1 : 0;
}

/* The longest span whose edges get dummies within the budget: spans counted, shortest
 * first. */
static int cap_spans(lay *L)
{
    const srv_graph_in *g = L->g;
    size_t max_rank = 0, budget = DUMMY_BUDGET * (g->n + g->dep_start[g->n]), total = 0;
    for (size_t i = 0; i < g->n; i++)
        max_rank = L->rank[i] > max_rank ? L->rank[i] : max_rank;
    size_t *count = calloc(max_rank + 2, sizeof(size_t));
    if (!count)
        return -1;
    for (size_t v = 0; v < g->n; v++)
        for (size_t e = g->dep_start[v]; e < g->dep_start[v + 1]; e++)
            count[L->rank[v] - L->rank[g->deps[e]]]++;
    L->span_cap = 1;
    for (size_t span = 2; span <= max_rank && total + count[span] * (span - 1) <= budget; span++) {
        total += count[span] * (span - 1);
        L->span_cap = span;
    }
    free(count);
    return 0;
}

/* Count the dummies and segments, and size the item arrays. */
static int size_items(lay *L)
{
    const srv_graph_in *g = L->g;
    size_t dummies = 0, n_edges = g->dep_start[g->n];
    int failed = 0;
    if (cap_spans(L))
        return -1;
    for (size_t v = 0; v < g->n; v++)
        for (size_t e = g->dep_start[v]; e < g->dep_start[v + 1]; e++)
            dummies += n_dummies(L, g->deps[e], v);
    L->m = g->n + dummies;
    L->n_segs = n_edges + dummies;
    size_t *rank = realloc(L->rank, L->m * sizeof(size_t) + 1);
    if (!rank)
        return -1;
    L->rank = rank;
    L->group = alloc_n(L->m, sizeof(size_t), &failed);
    L->seg_from = alloc_n(L->n_segs, sizeof(size_t), &failed);
    L->seg_to = alloc_n(L->n_segs, sizeof(size_t), &failed);
    L->first_dummy = alloc_n(n_edges, sizeof(size_t), &failed);
    return failed ? -1 : 0;
}

/* Make the dummies of every long edge and the segments of every edge. */
static void make_segments(lay *L)
{
    const srv_graph_in *g = L->g;
    size_t item = g->n, s = 0;
    for (size_t i = 0; i < g->n; i++)
        L->group[i] = g->group[i];
    for (size_t v = 0; v < g->n; v++)
        for (size_t e = g->dep_start[v]; e < g->dep_start[v + 1]; e++) {
            size_t u = g->deps[e], prev = u, d = n_dummies(L, u, v);
            L->first_dummy[e] = item;
            for (size_t r = L->rank[u] + 1; r <= L->rank[u] + d; r++, item++) {
                L->rank[item] = r;
                L->group[item] = g->group[u];
                L->seg_from[s] = prev;
                L->seg_to[s++] = item;
                prev = item;
            }
            L->seg_from[s] = prev;
            L->seg_to[s++] = v;
        }
}

/* Index the segments by their end: start[i] .. start[i + 1] of segs. */
static int index_segments(const lay *L, const size_t *end, size_t **start_out, size_t **segs_out)
{
    int failed = 0;
    size_t *start = alloc_n(L->m + 1, sizeof(size_t), &failed);
    size_t *segs = alloc_n(L->n_segs, sizeof(size_t), &failed);
    size_t *fill = alloc_n(L->m, sizeof(size_t), &failed);
    for (size_t s = 0; !failed && s < L->n_segs; s++)
        start[end[s] + 1]++;
    for (size_t i = 0; !failed && i < L->m; i++)
        start[i + 1] += start[i];
    for (size_t s = 0; !failed && s < L->n_segs; s++)
        segs[start[end[s]] + fill[end[s]]++] = s;
    free(fill);
    *start_out = start;
    *segs_out = segs;
    return failed ? -1 : 0;
}

/* Bucket the items by rank, in item order to begin with. */
static int bucket_ranks(lay *L)
{
    int failed = 0;
    L->n_ranks = 0;
    for (size_t i = 0; i < L->m; i++)
        if (L->rank[i] + 1 > L->n_ranks)
            L->n_ranks = L->rank[i] + 1;
    L->rank_start = alloc_n(L->n_ranks + 1, sizeof(size_t), &failed);
    L->order = alloc_n(L->m, sizeof(size_t), &failed);
    L->pos = alloc_n(L->m, sizeof(double), &failed);
    size_t *fill = alloc_n(L->n_ranks + 1, sizeof(size_t), &failed);
    for (size_t i = 0; !failed && i < L->m; i++)
        L->rank_start[L->rank[i] + 1]++;
    for (size_t r = 0; !failed && r < L->n_ranks; r++)
        L->rank_start[r + 1] += L->rank_start[r];
    for (size_t i = 0; !failed && i < L->m; i++) {
        size_t at = L->rank_start[L->rank[i]] + fill[L->rank[i]]++;
        L->order[at] = i;
        L->pos[i] = (double)(at - L->rank_start[L->rank[i]]);
    }
    free(fill);
    return failed ? -1 : 0;
}

typedef struct sort_key {
    size_t group;
    double bary, pos;
    size_t item;
} sort_key;

static int by_key(const void *pa, const void *pb)
{
    const sort_key *a = pa, *b = pb;
    if (a->group != b->group)
        return a->group < b->group ? -1 : 1;
    if (a->bary != b->bary)
        return a->bary < b->bary ? -1 : 1;
    if (a->pos != b->pos)
        return a->pos < b->pos ? -1 : 1;
    return a->item < b->item ? -1 : a->item > b->item;
}

/* The mean place of item's neighbours (before: in the rank to its left), or its own
 * place when it has none there. */
static double barycentre(const lay *L, size_t item, int before)
{
    const size_t *start = before ? L->in_start : L->out_start;
    const size_t *segs = before ? L->in_segs : L->out_segs;
    const size_t *other = before ? L->seg_from : L->seg_to;
    size_t k = start[item], end = start[item + 1];
    double sum = 0;
    if (k == end)
        return L->pos[item];
    for (size_t j = k; j < end; j++)
        sum += L->pos[other[segs[j]]];
    return sum / (double)(end - k);
}

static void order_rank(lay *L, size_t r, int before, sort_key *keys)
{
    size_t first = L->rank_start[r], count = L->rank_start[r + 1] - first;
    for (size_t k = 0; k < count; k++) {
        size_t item = L->order[first + k];
        keys[k] = (sort_key){ L->group[item], barycentre(L, item, before), L->pos[item], item };
    }
    qsort(keys, count, sizeof(*keys), by_key);
    for (size_t k = 0; k < count; k++) {
        L->order[first + k] = keys[k].item;
        L->pos[keys[k].item] = (double)k;
    }
}

/* Barycentre sweeps, right then left, SWEEPS times in all. */
static int order_ranks(lay *L)
{
    int failed = 0;
    sort_key *keys = alloc_n(L->m, sizeof(*keys), &failed);
    for (int sweep = 0; !failed && sweep < SWEEPS; sweep++) {
        int right = sweep % 2 == 0;
        for (size_t k = 0; k < L->n_ranks; k++)
            order_rank(L, right ? k : L->n_ranks - 1 - k, right, keys);
    }
    free(keys);
    return failed ? -1 : 0;
}

static double item_h(const lay *L, size_t item)
{
    return item < L->n ? SRV_NODE_H : DUMMY_H;
}

/* Each group's band height: its tallest rank, capped at cap. */
static void band_heights(const lay *L, double cap, double *band_h, double *tall)
{
    for (size_t r = 0; r < L->n_ranks; r++) {
        for (size_t k = L->rank_start[r]; k < L->rank_start[r + 1]; k++)
            tall[L->group[L->order[k]]] += item_h(L, L->order[k]) + GAP_Y;
        for (size_t k = L->rank_start[r]; k < L->rank_start[r + 1]; k++) {
            size_t grp = L->group[L->order[k]];
            if (tall[grp] > band_h[grp])
                band_h[grp] = tall[grp] > cap ? cap : tall[grp];
            tall[grp] = 0;
        }
    }
}

/* Where item would go: its upstream neighbours' mean centre (they are placed: ranks go
 * left to right), or at the cursor when it has none. */
static double wanted_top(const lay *L, size_t item, double cursor)
{
    size_t k = L->in_start[item], end = L->in_start[item + 1];
    double sum = 0;
    if (k == end)
        return cursor;
    for (size_t j = k; j < end; j++) {
        size_t from = L->seg_from[L->in_segs[j]];
        sum += L->y[from] + item_h(L, from) / 2;
    }
    return sum / (double)(end - k) - item_h(L, item) / 2;
}

/* A group's items of a rank that fit its band, in one column: each as near its
 * upstream neighbours as the order, the gaps and the band allow (a chain runs straight,
 * a fan-in sits beside its middle). */
static void align_run(lay *L, size_t from, size_t to, double top, double room)
{
    double cursor = top, rest = 0;
    for (size_t k = from; k < to; k++)
        rest += item_h(L, L->order[k]) + GAP_Y;
    for (size_t k = from; k < to; k++) {
        size_t item = L->order[k];
        double h = item_h(L, item) + GAP_Y, want = wanted_top(L, item, cursor);
        double lowest = top + room - rest;     /* room left for the items after it */
        L->y[item] = want < cursor ? cursor : want > lowest ? lowest : want;
        L->column[item] = 0;
        cursor = L->y[item] + h;
        rest -= h;
    }
}

/* A group's items of a rank taller than its band: packed into columns; their count. */
static size_t wrap_run(lay *L, size_t from, size_t to, double top, double room)
{
    size_t col = 0;
    double fill = 0;
    for (size_t k = from; k < to; k++) {
        size_t item = L->order[k];
        double h = item_h(L, item) + GAP_Y;
        if (fill > 0 && fill + h > room) {
            col++;
            fill = 0;
        }
        L->y[item] = top + fill;
        L->column[item] = col;
        fill += h;
    }
    return col + 1;
}

/* Place the items of rank r within their bands, each group's run of them in turn (the
 * order keeps a group's items together); returns the rank's columns. */
static size_t place_rank(lay *L, size_t r, const double *band_y, const double *band_h)
{
    size_t columns = 1, k = L->rank_start[r], end = L->rank_start[r + 1];
    while (k < end) {
        size_t grp = L->group[L->order[k]], to = k, c = 1;
        double tall = 0;
        for (; to < end && L->group[L->order[to]] == grp; to++)
            tall += item_h(L, L->order[to]) + GAP_Y;
        if (tall <= band_h[grp])
            align_run(L, k, to, band_y[grp], band_h[grp]);
        else
            c = wrap_run(L, k, to, band_y[grp], band_h[grp]);
        columns = c > columns ? c : columns;
        k = to;
    }
    return columns;
}

/* The bands, one under the other, for the groups that have items; returns the bottom. */
static double stack_bands(const lay *L, const double *band_h, double *band_y)
{
    double y = MARGIN;
    for (size_t grp = 0; grp < L->g->n_groups; grp++) {
        if (band_h[grp] <= 0)
            continue;
        band_y[grp] = y + GROUP_LABEL + GROUP_PAD;
        y = band_y[grp] + band_h[grp] - GAP_Y + GROUP_PAD + GAP_GROUP;
    }
    return y - GAP_GROUP + MARGIN;
}

/* Each group's box: its nodes' columns, its band, room for the label. */
static void group_boxes(const lay *L, srv_layout *out, const double *band_y, const double *band_h)
{
    for (size_t grp = 0; grp < out->n_groups; grp++)
        out->groups[grp] = (srv_box){ INFINITY, 0, -INFINITY, 0 };   /* w: the right edge */
    for (size_t i = 0; i < L->n; i++) {
        srv_box *b = &out->groups[L->group[i]];
        b->x = fmin(b->x, out->pos[i].x);
        b->w = fmax(b->w, out->pos[i].x + SRV_NODE_W);
    }
    for (size_t grp = 0; grp < out->n_groups; grp++) {
        srv_box *b = &out->groups[grp];
        if (isinf(b->x))
            *b = (srv_box){ 0, 0, 0, 0 };
        else
            *b = (srv_box){ b->x - GROUP_PAD, band_y[grp] - GROUP_LABEL - GROUP_PAD,
                            b->w - b->x + 2 * GROUP_PAD,
                            band_h[grp] - GAP_Y + GROUP_LABEL + 2 * GROUP_PAD };
    }
}

/* The x of each rank's first column into rank_x; returns the drawing's width. */
static double rank_columns(lay *L, const double *band_y, const double *band_h, double *rank_x)
{
    double x = MARGIN + GROUP_PAD;
    if (!L->n_ranks)
        return 0;
    for (size_t r = 0; r < L->n_ranks; r++) {
        size_t columns = place_rank(L, r, band_y, band_h);
        rank_x[r] = x;
        x += (double)columns * (SRV_NODE_W + GAP_COL) - GAP_COL + GAP_RANK;
    }
    return x - GAP_RANK + GROUP_PAD + MARGIN;
}

static void item_point(const lay *L, const double *rank_x, size_t item, srv_point *p)
{
    p->x = rank_x[L->rank[item]] + (double)L->column[item] * (SRV_NODE_W + GAP_COL);
    p->y = L->y[item];
}

/* The nodes' corners, the edges with their bend points (the dummies' centres). */
static void write_out(const lay *L, const double *rank_x, srv_layout *out)
{
    const srv_graph_in *g = L->g;
    size_t e = 0, b = 0;
    for (size_t i = 0; i < L->n; i++) {
        item_point(L, rank_x, i, &out->pos[i]);
        out->rank[i] = L->rank[i];
    }
    for (size_t v = 0; v < g->n; v++)
        for (size_t k = g->dep_start[v]; k < g->dep_start[v + 1]; k++, e++) {
            size_t u = g->deps[k], n_bends = n_dummies(L, u, v);
            out->edges[e] = (srv_edge){ u, v, b, n_bends };
            for (size_t d = 0; d < n_bends; d++, b++) {
                item_point(L, rank_x, L->first_dummy[k] + d, &out->bends[b]);
                out->bends[b].x += SRV_NODE_W / 2;
                out->bends[b].y += DUMMY_H / 2;
            }
        }
}

static int coordinates(lay *L, srv_layout *out)
{
    int failed = 0;
    size_t n_groups = L->g->n_groups;
    double cap = (double)(MIN_ROWS > sqrt((double)L->n) ? MIN_ROWS : ceil(sqrt((double)L->n)))
               * (SRV_NODE_H + GAP_Y);
    double *band_h = alloc_n(n_groups, sizeof(double), &failed);
    double *band_y = alloc_n(n_groups, sizeof(double), &failed);
    double *tall = alloc_n(n_groups, sizeof(double), &failed);
    double *rank_x = alloc_n(L->n_ranks, sizeof(double), &failed);
    L->y = alloc_n(L->m, sizeof(double), &failed);
    L->column = alloc_n(L->m, sizeof(size_t), &failed);
    if (!failed) {
        band_heights(L, cap, band_h, tall);
        out->height = stack_bands(L, band_h, band_y);
        out->width = rank_columns(L, band_y, band_h, rank_x);
    }
    if (!failed) {
        write_out(L, rank_x, out);
        group_boxes(L, out, band_y, band_h);
    }
    free(band_h);
    free(band_y);
    free(tall);
    free(rank_x);
    return failed ? -1 : 0;
}

static void lay_release(lay *L)
{
    free(L->rank);
    free(L->group);
    free(L->seg_from);
    free(L->seg_to);
    free(L->out_start);
    free(L->out_segs);
    free(L->in_start);
    free(L->in_segs);
    free(L->rank_start);
    free(L->order);
    free(L->pos);
    free(L->y);
    free(L->column);
    free(L->first_dummy);
}

static int alloc_out(const lay *L, srv_layout *out)
{
    int failed = 0;
    out->n = L->n;
    out->n_edges = L->g->dep_start[L->n];
    out->n_groups = L->g->n_groups;
    out->pos = alloc_n(L->n, sizeof(srv_point), &failed);
    out->rank = alloc_n(L->n, sizeof(size_t), &failed);
    out->edges = alloc_n(out->n_edges, sizeof(srv_edge), &failed);
    out->bends = alloc_n(L->m - L->n, sizeof(srv_point), &failed);
    out->groups = alloc_n(out->n_groups, sizeof(srv_box), &failed);
    return failed ? -1 : 0;
}

int srv_layout_compute(const srv_graph_in *g, srv_layout *out)
{
    lay L = { .g = g, .n = g->n };
    int failed = 0, rc = -1;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < g->n; i++)
        if (g->group[i] >= g->n_groups)
            return -1;
    L.rank = alloc_n(g->n, sizeof(size_t), &failed);
    if (failed || node_successors(&L) || assign_ranks(&L) || size_items(&L))
        goto out;
    free(L.out_start);
    free(L.out_segs);
    L.out_start = L.out_segs = NULL;
    make_segments(&L);
    if (index_segments(&L, L.seg_from, &L.out_start, &L.out_segs)
        || index_segments(&L, L.seg_to, &L.in_start, &L.in_segs)
        || bucket_ranks(&L) || order_ranks(&L) || alloc_out(&L, out) || coordinates(&L, out))
        goto out;
    rc = 0;
out:
    lay_release(&L);
    if (rc)
        srv_layout_release(out);
    return rc;
}

void srv_layout_release(srv_layout *l)
{
    if (!l)
        return;
    free(l->pos);
    free(l->rank);
    free(l->edges);
    free(l->bends);
    free(l->groups);
    memset(l, 0, sizeof(*l));
}
