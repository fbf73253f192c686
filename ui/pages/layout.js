// A small layered layout for the lineage graph, used only when the server has no
// GET /api/graph (it lays the graph out in C): longest-path layers from the
// sources, a few barycentre sweeps to order each layer, no dummy nodes (long edges
// are drawn as curves, groups as each node's colour band only). Returns the shape
// /api/graph has.
export const NODE_W = 220;
export const NODE_H = 64;
const GAP_X = 90;
const GAP_Y = 22;

function layers(assets, index) {
  const n = assets.length;
  const preds = assets.map((a) => (a.deps || []).map((d) => index.get(d)).filter((j) => j !== undefined));
  const succs = assets.map(() => []);
  const indeg = new Array(n).fill(0);
  preds.forEach((ps, i) => ps.forEach((j) => { succs[j].push(i); indeg[i]++; }));
  const rank = new Array(n).fill(0);
  const queue = [];
  indeg.forEach((d, i) => { if (!d) queue.push(i); });
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q];
    for (const j of succs[i]) {
      rank[j] = Math.max(rank[j], rank[i] + 1);
      if (--indeg[j] === 0) queue.push(j);
    }
  }
  return { preds, succs, rank };
}

function sweep(byRank, pos, neighbours) {
  for (const layer of byRank) {
    const bary = new Map();
    for (const i of layer) {
      const ns = neighbours[i];
      bary.set(i, ns.length ? ns.reduce((s, j) => s + pos[j], 0) / ns.length : pos[i]);
    }
    layer.sort((a, b) => bary.get(a) - bary.get(b) || pos[a] - pos[b]);
    layer.forEach((i, p) => { pos[i] = p; });
  }
}

export function layeredLayout(assets) {
  const index = new Map(assets.map((a, i) => [a.key, i]));
  const { preds, succs, rank } = layers(assets, index);
  const nRanks = Math.max(0, ...rank) + 1;
  const byRank = Array.from({ length: nRanks }, () => []);
  rank.forEach((r, i) => byRank[r].push(i));
  const pos = new Array(assets.length).fill(0);
  byRank.forEach((layer) => layer.forEach((i, p) => { pos[i] = p; }));
  for (let s = 0; s < 4; s++) {
    sweep(byRank, pos, preds);
    sweep(byRank.slice().reverse(), pos, succs);
  }
  const tallest = Math.max(1, ...byRank.map((l) => l.length));
  const nodes = assets.map((a, i) => {
    const layer = byRank[rank[i]];
    const offset = ((tallest - layer.length) * (NODE_H + GAP_Y)) / 2;
    return {
      key: a.key, group: a.group, kinds: a.kinds || [],
      x: rank[i] * (NODE_W + GAP_X), y: offset + pos[i] * (NODE_H + GAP_Y), w: NODE_W, h: NODE_H,
    };
  });
  const edges = [];
  preds.forEach((ps, i) => ps.forEach((j) => edges.push([j, i, []])));
  return {
    version: null,
    fallback: true,
    width: nRanks * (NODE_W + GAP_X) - GAP_X,
    height: tallest * (NODE_H + GAP_Y) - GAP_Y,
    nodes,
    edges,
    groups: [],   // the server's layout keeps a group together; this one does not
  };
}
