// The lineage page (home): the whole asset graph from GET /api/graph (laid out by the
// server; a small layout in the page when the server has none), status from the
// assets and the live stream, the selection highlighted, and the toolbar that
// materializes the selection, the stale assets or all.
import { html } from '../lib/html.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import { getJSON, postJSON, runPath, assetPath } from '../lib/api.js';
import {
  store, useStore, on, selectKeys, clearSelection, applySelection, launched, keysSelection, runRow,
} from '../lib/store.js';
import { toast, updateToast } from '../lib/toast.js';
import { statusDot, ago, checkBadge, count, when } from '../lib/format.js';
import { GraphView } from './graphview.js';
import { layeredLayout } from './layout.js';

// Whether the URL shows the lineage (the page may be on its way out).
function parseHashPage() {
  const p = location.hash.replace(/^#/, '').split('?')[0];
  return p === '' || p === '/' ? 'lineage' : 'other';
}

// The graph: the server's, else (404) one laid out here from the assets.
async function loadGraph() {
  try {
    return await getJSON('/api/graph');
  } catch (e) {
    if (e.status !== 404) throw e;
    return null;
  }
}

// Launch a run; a toast names it and follows it (queued, started, then how it ended).
export async function materialize(body, what) {
  try {
    const r = await postJSON('/api/runs', body);
    const short = r.run_id.slice(0, 8);
    const id = toast(`Run ${short} ${r.status || 'queued'}: ${what}`, {
      href: runPath(r.run_id), linkText: 'View run', ms: 15000,
    });
    let done = false;
    const follow = (row) => {
      if (done) return;
      const ended = !['queued', 'started'].includes(row.status);
      const bad = ['failure', 'crashed', 'canceled', 'refused'].includes(row.status);
      const why = row.status === 'refused' && row.error ? ` (${row.error})` : '';
      updateToast(id, `Run ${short} ${row.status}: ${what}${why}`, bad ? 'error' : 'ok');
      if (ended) {
        done = true;
        off();
      }
    };
    const off = on((type, row) => {
      if (type === 'run' && row.run_id === r.run_id) follow(row);
    });
    setTimeout(off, 600000);
    launched({ run_id: r.run_id, status: r.status || 'queued', selection: body.selection || null });
    // the stream may have told the run's end before this answer came: never queued again
    const known = runRow(r.run_id);
    if (known) follow(known);
    return r;
  } catch (e) {
    toast(`Cannot materialize ${what}: ${e.message}`, { kind: 'error' });
    return null;
  }
}

// Every status the graph draws, each with its shape.
const LEGEND = [
  ['fresh', 'materialized, and nothing upstream changed since'],
  ['stale', 'upstream or its code changed since it was materialized'],
  ['failed', 'its latest materialization failed'],
  ['running', 'being materialized now'],
  ['never', 'never materialized'],
  ['external', 'an external asset: produced outside Eider, observed here'],
];

function Legend() {
  return html`<div class="legend">
    ${LEGEND.map(([s, why]) => html`<span title=${why}>${statusDot(s)} ${s}</span>`)}
  </div>`;
}

function Toolbar({ nSelected, onFit, onZoom, graph }) {
  const selText = () => store.selectionText || keysSelection([...store.selected]);
  return html`<div class="toolbar lineage-toolbar">
    <button class="btn btn-primary" disabled=${!nSelected} title="Materialize the selected assets (in the selection box)"
      onClick=${() => materialize({ selection: selText() }, nSelected === 1 ? [...store.selected][0] : `${nSelected} assets`)}>
      Materialize selected${nSelected ? ` (${nSelected})` : ''}</button>
    <button class="btn" title="Materialize what is stale, never materialized or failed"
      onClick=${() => materialize({ selection: 'stale()' }, 'the stale assets')}>Materialize stale</button>
    <button class="btn" title="Materialize every asset"
      onClick=${() => materialize({}, 'all assets')}>Materialize all</button>
    <span class="toolbar-gap"></span>
    ${graph && graph.fallback ? html`<span class="muted small" title="GET /api/graph is missing on this server">laid out in the page</span>` : null}
    ${graph ? html`<span class="muted small">${graph.nodes.length} assets</span>` : null}
    <div class="btn-group">
      <button class="btn btn-icon" title="Zoom out" onClick=${() => onZoom(1 / 1.25)}>−</button>
      <button class="btn btn-icon" title="Zoom in" onClick=${() => onZoom(1.25)}>+</button>
      <button class="btn" title="Fit the graph to the screen" onClick=${onFit}>Fit</button>
    </div>
  </div>`;
}

// Fit the selected nodes on screen (all of them when nothing is selected).
function fitTo(gv) {
  if (!gv || !gv.g) return;
  const idx = [...store.selected].map((k) => gv.keyIndex.get(k)).filter((i) => i !== undefined);
  gv.fit(idx.length ? idx : undefined);
}

// What the pointer is over: the asset's key, status, when, rows, description.
function HoverCard({ hover }) {
  const a = store.byKey.get(hover.key);
  if (!a) return null;
  const latest = a.latest;
  return html`<div class="hover-card" style=${`left:${hover.x + 14}px;top:${hover.y + 14}px`}>
    <div class="hc-key">${statusDot(a.status || 'never')}<b>${a.key}</b></div>
    ${a.description ? html`<div class="hc-desc">${a.description.split('\n')[0].slice(0, 160)}</div>` : null}
    <div class="hc-grid">
      <span>status</span><span>${a.status || 'never'}</span>
      ${a.checks ? html`<span>checks</span><span>${checkBadge(a.checks)} ${a.checks.status}</span>` : null}
      <span>group</span><span>${a.group || ''}</span>
      ${latest ? html`<span>materialized</span><span title=${when(latest.time_us)}>${ago(latest.time_us)}</span>` : null}
      ${latest && latest.row_count != null ? html`<span>rows</span><span>${count(latest.row_count)}</span>` : null}
      ${(a.kinds || []).length ? html`<span>kinds</span><span>${a.kinds.join(', ')}</span>` : null}
      ${(a.owners || []).length ? html`<span>owners</span><span>${a.owners.join(', ')}</span>` : null}
    </div>
    <div class="hc-hint">click selects · shift-click adds · double-click opens</div>
  </div>`;
}

// The selection in the URL (#/?select=TEXT), so that a reload keeps it and a link shares it.
function selectionToHash(text) {
  const want = text.trim() ? '#/?' + new URLSearchParams({ select: text }).toString() : '#/';
  if (location.hash !== want && !(want === '#/' && !location.hash)) history.replaceState(null, '', want);
}

export function LineagePage({ query }) {
  const s = useStore(['selection', 'assets']);
  const asked = query && query.get('select');

  // The URL's selection when it has one (a link, a reload); else the URL takes the box's.
  useEffect(() => {
    if (asked !== null && asked !== undefined && asked !== store.selectionText) applySelection(asked);
    else selectionToHash(store.selectionText);
  }, [asked]);
  useEffect(() => on((type) => {
    if (type === 'selection' && parseHashPage() === 'lineage') selectionToHash(store.selectionText);
  }), []);

  const wrap = useRef(null);
  const canvas = useRef(null);
  const minimap = useRef(null);
  const view = useRef(null);
  const [graph, setGraph] = useState(null);
  const [error, setError] = useState(null);
  const [serverGraph, setServerGraph] = useState(undefined);   // undefined: loading; null: none
  const [hover, setHover] = useState(null);                      // { key, x, y }

  // The server's graph (again when the definitions change).
  useEffect(() => {
    let live = true;
    const fetchIt = () => loadGraph().then((g) => live && setServerGraph(g)).catch((e) => live && setError(e.message));
    fetchIt();
    const off = on((type) => { if (type === 'defs') fetchIt(); });
    return () => { live = false; off(); };
  }, []);

  // The graph to draw: the server's, or one laid out here once the assets are known.
  useEffect(() => {
    if (serverGraph) setGraph(serverGraph);
    else if (serverGraph === null && s.assets) {
      const keys = s.assets.map((a) => a.key + '\u0000' + (a.deps || []).join(',')).join('\n');
      if (!graph || graph.sig !== keys) setGraph({ ...layeredLayout(s.assets), sig: keys });
    }
  }, [serverGraph, s.assets]);

  // The canvas view, made once.
  useEffect(() => {
    const index = () => (view.current && view.current.keyIndex) || new Map();
    const gv = new GraphView(canvas.current, minimap.current, {
      info: (i) => {
        const a = store.byKey.get(gv.g.nodes[i].key);
        return a ? { status: a.status, latest: a.latest, checks: a.checks } : { status: 'never' };
      },
      selected: (i) => store.selected.has(gv.g.nodes[i].key),
      anySelected: () => store.selected.size > 0,
      onSelect: (i, additive) => {
        if (i < 0) {
          if (!additive) clearSelection();
          return;
        }
        const key = gv.g.nodes[i].key;
        const keys = new Set(additive ? store.selected : []);
        if (additive && keys.has(key)) keys.delete(key);
        else keys.add(key);
        if (keys.size) selectKeys(keys);
        else clearSelection();
      },
      onOpen: (i) => { location.hash = assetPath(gv.g.nodes[i].key); },
      onHover: (i, x, y) => setHover(i < 0 || gv.drag ? null : { key: gv.g.nodes[i].key, x, y }),
    });
    view.current = gv;
    const ro = new ResizeObserver(() => {
      if (!wrap.current) return;
      const r = wrap.current.getBoundingClientRect();
      gv.resize(r.width, r.height);
    });
    ro.observe(wrap.current);
    const off = on((type, data) => {
      if (type === 'asset' && gv.g) {
        const i = index().get(data.key);
        if (i !== undefined) gv.statusChanged(i);
      } else if (type === 'assets') {
        gv.miniCache = null;
        gv.draw();
      } else if (type === 'run') {
        gv.draw();
      } else if (type === 'focus') {
        fitTo(gv);
      }
    });
    // For the browser tests: where each node is, and its status.
    window.__eiderLineage = {
      nodes: () => (gv.g ? gv.g.nodes.map((n, i) => ({ key: n.key, status: gv.cb.info(i).status, checks: (gv.cb.info(i).checks || {}).status || null, selected: gv.cb.selected(i), hidden: gv.hidden(i), ...gv.screenRect(i) })) : []),
      groups: () => (gv.g ? (gv.g.groups || []).map((gr) => ({ name: gr.name, folded: gv.folded.has(gr.name), ...gv.toScreen(gr) })) : []),
      view: () => ({ ...gv.view, shown: gv.shown, paintMs: gv.paintMs, paints: gv.paints }),
      fallback: () => !!(gv.g && gv.g.fallback),
    };
    const tick = setInterval(() => gv.draw(), 30000);   // "3 min ago" moves on
    return () => { ro.disconnect(); off(); gv.destroy(); clearInterval(tick); delete window.__eiderLineage; };
  }, []);

  useEffect(() => {
    if (!graph || !view.current) return;
    view.current.keyIndex = new Map(graph.nodes.map((n, i) => [n.key, i]));
    view.current.setGraph(graph);
  }, [graph]);

  // A new selection from the box: redraw, and bring it on screen when it is off.
  useEffect(() => {
    const gv = view.current;
    if (!gv || !gv.g) return;
    gv.draw();
  }, [s.selected]);

  const fitSelection = () => fitTo(view.current);
  const zoom = (f) => {
    const gv = view.current;
    if (gv) gv.zoomAt(gv.w / 2, gv.h / 2, f);
  };

  const loading = !graph && !error && !s.assetsError;
  const failed = error || (serverGraph === null && s.assetsError);
  return html`
    <div class="lineage">
      <${Toolbar} nSelected=${s.selected.size} onFit=${fitSelection} onZoom=${zoom} graph=${graph} />
      <div class="canvas-wrap" ref=${wrap}>
        <canvas ref=${canvas} class="graph-canvas" aria-label="The asset lineage graph" role="img"></canvas>
        ${loading ? html`<div class="graph-skeleton"><div></div><div></div><div></div><div></div></div>` : null}
        ${failed ? html`<div class="panel panel-error graph-error"><h2>The graph cannot load</h2><p>${failed}</p></div>` : null}
        ${graph && !graph.nodes.length ? html`<div class="panel graph-empty"><h2>No assets</h2><p>The definitions define no asset yet.</p></div>` : null}
        ${hover ? html`<${HoverCard} hover=${hover} />` : null}
        <canvas ref=${minimap} class="minimap" title="Drag to move around"></canvas>
        <${Legend} />
      </div>
    </div>`;
}
