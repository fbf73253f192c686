// The lineage graph drawn on a canvas: only what is on screen, with fewer details as
// one zooms out; wheel zoom, drag pan, fit, a minimap; click / shift-click select,
// double-click opens; status changes animate the dot (a ring that fades), running
// assets pulse. The layout never changes here: the page hands a laid-out graph.
import { ago, count } from '../lib/format.js';

const GROUP_HUES = [212, 152, 32, 280, 0, 186, 96, 330, 48, 250];

function hueOf(name) {
  let h = 0;
  for (const c of name || '') h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return GROUP_HUES[h % GROUP_HUES.length];
}

function cssVars() {
  const cs = getComputedStyle(document.documentElement);
  const v = (n) => cs.getPropertyValue(n).trim();
  const dark = matchMedia('(prefers-color-scheme: dark)').matches;
  return {
    dark, bg: v('--bg'), card: v('--card'), fg: v('--fg'), muted: v('--muted'), faint: v('--faint'),
    border: v('--border'), accent: v('--accent'), accentSoft: v('--accent-soft'),
    fresh: v('--ok'), failed: v('--fail'), stale: v('--stale'), running: v('--running'),
    never: v('--never'), queued: v('--queued'), external: v('--external'),
    font: v('--font'), mono: v('--mono'),
  };
}

function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}

// An asset's check badge, right-aligned at (right, y): a pill in the colour of its
// checks' worst latest outcome with its mark (as .chk in style.css); its width.
const CHECK_GLYPH = { passed: '\u2713', warned: '!', failed: '\u2717', errored: '\u2717', unknown: '?' };
function drawChecks(ctx, c, checks, right, y) {
  const st = checks.status || 'unknown';
  const col = st === 'passed' ? c.fresh : st === 'warned' ? c.stale : st === 'unknown' ? c.never : c.failed;
  const w = 18, h = 14;
  roundRect(ctx, right - w, y - h / 2, w, h, 7);
  if (st === 'unknown') {
    ctx.strokeStyle = col; ctx.lineWidth = 1; ctx.stroke();
  } else {
    ctx.fillStyle = col; ctx.fill();
  }
  ctx.fillStyle = st === 'unknown' ? c.muted : '#fff';
  ctx.font = `bold 10px ${c.font}`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(CHECK_GLYPH[st] || '?', right - w / 2, y + 0.5);
  ctx.textAlign = 'left';
  return w;
}

// A status mark at (x, y): a colour and a shape each (as .dot in style.css).
export function drawStatus(ctx, c, status, x, y, r, t) {
  const col = c[status] || c.never;
  ctx.save();
  ctx.translate(x, y);
  ctx.lineWidth = 1.6;
  if (status === 'fresh') {
    ctx.fillStyle = col;
    ctx.beginPath(); ctx.arc(0, 0, r, 0, Math.PI * 2); ctx.fill();
  } else if (status === 'stale') {
    ctx.fillStyle = col;
    ctx.beginPath(); ctx.moveTo(0, -r * 1.15); ctx.lineTo(r * 1.15, 0); ctx.lineTo(0, r * 1.15); ctx.lineTo(-r * 1.15, 0);
    ctx.closePath(); ctx.fill();
  } else if (status === 'failed') {
    ctx.strokeStyle = col; ctx.lineWidth = 2.4; ctx.lineCap = 'round';
    ctx.beginPath(); ctx.moveTo(-r * 0.8, -r * 0.8); ctx.lineTo(r * 0.8, r * 0.8);
    ctx.moveTo(r * 0.8, -r * 0.8); ctx.lineTo(-r * 0.8, r * 0.8); ctx.stroke();
  } else if (status === 'running') {
    const a = 0.55 + 0.45 * Math.cos((t || 0) / 260);
    ctx.strokeStyle = col; ctx.globalAlpha *= a; ctx.lineWidth = 2.2;
    ctx.beginPath(); ctx.arc(0, 0, r * 0.85, 0, Math.PI * 2); ctx.stroke();
    ctx.globalAlpha /= a;
    ctx.fillStyle = col;
    ctx.beginPath(); ctx.arc(0, 0, r * 0.35, 0, Math.PI * 2); ctx.fill();
  } else if (status === 'queued') {
    ctx.strokeStyle = col;
    ctx.beginPath(); ctx.arc(0, 0, r * 0.85, 0, Math.PI * 2); ctx.stroke();
    ctx.fillStyle = col;
    ctx.beginPath(); ctx.arc(0, 0, r * 0.85, Math.PI / 2, Math.PI * 1.5); ctx.fill();
  } else if (status === 'external') {
    ctx.strokeStyle = col;
    ctx.strokeRect(-r * 0.8, -r * 0.8, r * 1.6, r * 1.6);
  } else {
    ctx.strokeStyle = col;
    ctx.beginPath(); ctx.arc(0, 0, r * 0.85, 0, Math.PI * 2); ctx.stroke();
  }
  ctx.restore();
}

// The text fitted into width with an ellipsis (cached per string and width).
function fit(ctx, cache, text, width) {
  const id = ctx.font + '\u0000' + width + '\u0000' + text;
  let s = cache.get(id);
  if (s !== undefined) return s;
  s = text;
  if (ctx.measureText(s).width > width) {
    let lo = 0, hi = text.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ctx.measureText(text.slice(0, mid) + '…').width <= width) lo = mid;
      else hi = mid - 1;
    }
    s = text.slice(0, lo) + '…';
  }
  if (cache.size > 20000) cache.clear();
  cache.set(id, s);
  return s;
}

export class GraphView {
  constructor(canvas, minimap, cb) {
    this.canvas = canvas;
    this.minimap = minimap;
    this.cb = cb;                 // { info(i) -> {status, latest}, selected(key) -> bool,
                                  //   anySelected() -> bool, onSelect(i, additive), onOpen(i) }
    this.ctx = canvas.getContext('2d');
    this.g = null;
    this.view = { k: 1, x: 0, y: 0 };
    this.dpr = window.devicePixelRatio || 1;
    this.w = 0;
    this.h = 0;
    this.c = cssVars();
    this.textCache = new Map();
    this.flash = new Map();       // node index -> time the status changed
    this.hover = -1;
    this.folded = new Set();      // names of folded groups: their nodes shown as one card
    this.frame = 0;
    this.drag = null;
    this.listen();
    this.scheme = matchMedia('(prefers-color-scheme: dark)');
    this.onScheme = () => { this.c = cssVars(); this.miniCache = null; this.draw(); };
    this.scheme.addEventListener('change', this.onScheme);
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    clearTimeout(this.pulse);
    this.scheme.removeEventListener('change', this.onScheme);
    this.unlisten();
  }

  setGraph(g) {
    const first = !this.g;
    this.g = g;
    this.edgeBox = g.edges.map(([a, b, bends]) => {
      const na = g.nodes[a], nb = g.nodes[b];
      const xs = [na.x + na.w, nb.x, ...bends.map((p) => p[0])];
      const ys = [na.y + na.h / 2, nb.y + nb.h / 2, ...bends.map((p) => p[1])];
      return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
    });
    this.adj = g.nodes.map(() => []);
    g.edges.forEach(([a, b], e) => { this.adj[a].push(e); this.adj[b].push(e); });
    this.bounds = this.computeBounds();
    this.miniCache = null;
    if (first) this.fit();
    else this.draw();
  }

  computeBounds() {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const n of this.g.nodes) {
      x0 = Math.min(x0, n.x); y0 = Math.min(y0, n.y);
      x1 = Math.max(x1, n.x + n.w); y1 = Math.max(y1, n.y + n.h);
    }
    for (const gr of this.g.groups || []) {
      x0 = Math.min(x0, gr.x); y0 = Math.min(y0, gr.y);
      x1 = Math.max(x1, gr.x + gr.w); y1 = Math.max(y1, gr.y + gr.h);
    }
    if (x0 === Infinity) return { x0: 0, y0: 0, x1: 1, y1: 1 };
    return { x0, y0, x1, y1 };
  }

  resize(w, h) {
    this.dpr = window.devicePixelRatio || 1;
    this.w = w;
    this.h = h;
    this.canvas.width = Math.round(w * this.dpr);
    this.canvas.height = Math.round(h * this.dpr);
    this.canvas.style.width = w + 'px';
    this.canvas.style.height = h + 'px';
    this.draw();
  }

  // Zoom and pan so that the whole graph (or the nodes given) is on screen.
  fit(indexes) {
    if (!this.g || !this.w) return;
    let b = this.bounds;
    if (indexes && indexes.length) {
      b = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
      for (const i of indexes) {
        const n = this.g.nodes[i];
        b.x0 = Math.min(b.x0, n.x); b.y0 = Math.min(b.y0, n.y);
        b.x1 = Math.max(b.x1, n.x + n.w); b.y1 = Math.max(b.y1, n.y + n.h);
      }
    }
    this.view.k = this.fitScale(b);
    this.view.x = (this.w - (b.x1 - b.x0) * this.view.k) / 2 - b.x0 * this.view.k;
    this.view.y = (this.h - (b.y1 - b.y0) * this.view.k) / 2 - b.y0 * this.view.k;
    this.draw();
  }

  // The scale at which the box b fits on screen (at most 1: cards never grow past their size).
  fitScale(b) {
    const pad = 40;
    const k = Math.min(1, (this.w - 2 * pad) / Math.max(1, b.x1 - b.x0), (this.h - 2 * pad) / Math.max(1, b.y1 - b.y0));
    return Math.max(1e-4, k);
  }

  // How far one may zoom out: to the whole graph fitted and half again (0.02 at least,
  // for small graphs), so that Fit shows the whole of a graph of any size.
  minScale() {
    return Math.min(0.02, this.bounds && this.w ? this.fitScale(this.bounds) / 2 : 0.02);
  }

  zoomAt(sx, sy, factor) {
    const v = this.view;
    const k = Math.min(2, Math.max(this.minScale(), v.k * factor));
    v.x = sx - ((sx - v.x) * k) / v.k;
    v.y = sy - ((sy - v.y) * k) / v.k;
    v.k = k;
    this.draw();
  }

  // The node under a point of the canvas, or -1.
  nodeAt(sx, sy) {
    if (!this.g) return -1;
    const wx = (sx - this.view.x) / this.view.k, wy = (sy - this.view.y) / this.view.k;
    const nodes = this.g.nodes;
    for (let i = nodes.length - 1; i >= 0; i--) {
      const n = nodes[i];
      if (this.hidden(i)) continue;
      if (wx >= n.x && wx <= n.x + n.w && wy >= n.y && wy <= n.y + n.h) return i;
    }
    return -1;
  }

  // Whether node i is inside a folded group (not drawn, not clickable).
  hidden(i) {
    return this.folded.size > 0 && this.folded.has(this.g.nodes[i].group);
  }

  // The card a folded group shrinks to, at its top left corner.
  foldRect(gr) {
    return { x: gr.x, y: gr.y, w: Math.min(gr.w, 240), h: 56 };
  }

  // The group whose title strip (or folded card) is under a point, or null.
  groupAt(sx, sy) {
    const wx = (sx - this.view.x) / this.view.k, wy = (sy - this.view.y) / this.view.k;
    for (const gr of this.g.groups || []) {
      const r = this.folded.has(gr.name) ? this.foldRect(gr) : { x: gr.x, y: gr.y, w: gr.w, h: 26 };
      if (wx >= r.x && wx <= r.x + r.w && wy >= r.y && wy <= r.y + r.h) return gr;
    }
    return null;
  }

  // Fold a group into one card, or unfold it: nothing moves but its nodes.
  toggleFold(name) {
    if (this.folded.has(name)) this.folded.delete(name);
    else this.folded.add(name);
    this.draw();
  }

  // Where a rectangle of the graph is on screen (CSS pixels of the canvas).
  toScreen(r) {
    const v = this.view;
    return { x: r.x * v.k + v.x, y: r.y * v.k + v.y, w: r.w * v.k, h: r.h * v.k };
  }

  // Where node i is on screen: for tests and tooltips.
  screenRect(i) {
    return this.toScreen(this.g.nodes[i]);
  }

  statusChanged(i) {
    this.flash.set(i, performance.now());
    this.miniCache = null;
    this.draw();
  }

  listen() {
    const cv = this.canvas;
    this.handlers = {
      wheel: (e) => {
        e.preventDefault();
        const r = cv.getBoundingClientRect();
        const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
        if (e.ctrlKey || !e.shiftKey) this.zoomAt(e.clientX - r.left, e.clientY - r.top, Math.exp(-dy * 0.0015));
        else { this.view.x -= dy; this.draw(); }
      },
      pointerdown: (e) => {
        if (e.button !== 0) return;
        cv.setPointerCapture(e.pointerId);
        this.drag = { x: e.clientX, y: e.clientY, vx: this.view.x, vy: this.view.y, moved: false };
      },
      pointermove: (e) => {
        const r = cv.getBoundingClientRect();
        if (this.drag) {
          const dx = e.clientX - this.drag.x, dy = e.clientY - this.drag.y;
          if (Math.abs(dx) + Math.abs(dy) > 3) this.drag.moved = true;
          if (this.drag.moved) {
            this.view.x = this.drag.vx + dx;
            this.view.y = this.drag.vy + dy;
            cv.classList.add('grabbing');
            this.draw();
          }
          return;
        }
        const sx = e.clientX - r.left, sy = e.clientY - r.top;
        const i = this.nodeAt(sx, sy);
        if (i !== this.hover) {
          this.hover = i;
          this.draw();
        }
        cv.style.cursor = i >= 0 || (this.g && this.groupAt(sx, sy)) ? 'pointer' : '';
        if (this.cb.onHover) this.cb.onHover(i, sx, sy);
      },
      pointerup: (e) => {
        const d = this.drag;
        this.drag = null;
        cv.classList.remove('grabbing');
        if (!d || d.moved) return;
        const r = cv.getBoundingClientRect();
        const i = this.nodeAt(e.clientX - r.left, e.clientY - r.top);
        const gr = i < 0 ? this.groupAt(e.clientX - r.left, e.clientY - r.top) : null;
        if (gr) this.toggleFold(gr.name);
        else this.cb.onSelect(i, e.shiftKey || e.metaKey || e.ctrlKey);
      },
      dblclick: (e) => {
        const r = cv.getBoundingClientRect();
        const i = this.nodeAt(e.clientX - r.left, e.clientY - r.top);
        if (i >= 0) this.cb.onOpen(i);
      },
      pointerleave: () => {
        if (this.cb.onHover) this.cb.onHover(-1, 0, 0);
        if (this.hover >= 0) { this.hover = -1; this.draw(); }
      },
    };
    for (const [name, fn] of Object.entries(this.handlers)) cv.addEventListener(name, fn, { passive: name !== 'wheel' });
    const mm = this.minimap;
    this.miniHandlers = {
      pointerdown: (e) => { mm.setPointerCapture(e.pointerId); this.miniDrag = true; this.miniMove(e); },
      pointermove: (e) => { if (this.miniDrag) this.miniMove(e); },
      pointerup: () => { this.miniDrag = false; },
    };
    if (mm) for (const [name, fn] of Object.entries(this.miniHandlers)) mm.addEventListener(name, fn);
  }

  unlisten() {
    for (const [name, fn] of Object.entries(this.handlers)) this.canvas.removeEventListener(name, fn);
    if (this.minimap) for (const [name, fn] of Object.entries(this.miniHandlers)) this.minimap.removeEventListener(name, fn);
  }

  // Centre the view on the point of the minimap under the pointer.
  miniMove(e) {
    if (!this.mini) return;
    const r = this.minimap.getBoundingClientRect();
    const m = this.mini;
    const wx = (e.clientX - r.left - m.ox) / m.s + this.bounds.x0;
    const wy = (e.clientY - r.top - m.oy) / m.s + this.bounds.y0;
    this.view.x = this.w / 2 - wx * this.view.k;
    this.view.y = this.h / 2 - wy * this.view.k;
    this.draw();
  }

  draw() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.paint();
    });
  }

  paint() {
    const { ctx, g, view } = this;
    if (!g || !this.w) return;
    const now = performance.now();
    this.paints = (this.paints || 0) + 1;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.w, this.h);
    ctx.setTransform(this.dpr * view.k, 0, 0, this.dpr * view.k, this.dpr * view.x, this.dpr * view.y);
    const vis = {
      x0: -view.x / view.k, y0: -view.y / view.k,
      x1: (this.w - view.x) / view.k, y1: (this.h - view.y) / view.k,
    };
    const anySel = this.cb.anySelected();
    this.paintGroups(vis);
    const shown = [];
    g.nodes.forEach((n, i) => {
      if (this.hidden(i)) return;
      if (n.x + n.w >= vis.x0 && n.x <= vis.x1 && n.y + n.h >= vis.y0 && n.y <= vis.y1) shown.push(i);
    });
    this.paintEdges(vis, anySel);
    let animate = 0;
    for (const i of shown) animate = Math.max(animate, this.paintNode(i, anySel, now));
    if (this.folded.size) this.paintFolded(vis);
    this.shown = shown.length;
    this.paintMinimap(vis);
    this.paintMs = performance.now() - now;
    // The first paint that shows nodes: a mark for the benchmark (bench/dev_browser.mjs).
    if (shown.length && !this.markedDrawn) {
      this.markedDrawn = true;
      if (performance.mark) performance.mark('eider:graph-drawn');
    }
    // A status that just changed animates at full rate; running ones pulse at ~15 fps.
    if (animate === 2) this.draw();
    else if (animate === 1 && !this.pulse) this.pulse = setTimeout(() => { this.pulse = 0; this.draw(); }, 66);
  }

  paintGroups(vis) {
    const { ctx, c, view } = this;
    for (const gr of this.g.groups || []) {
      if (gr.x + gr.w < vis.x0 || gr.x > vis.x1 || gr.y + gr.h < vis.y0 || gr.y > vis.y1) continue;
      if (this.folded.has(gr.name)) continue;
      const hue = hueOf(gr.name);
      ctx.fillStyle = c.dark ? `hsla(${hue}, 40%, 50%, 0.07)` : `hsla(${hue}, 55%, 50%, 0.05)`;
      ctx.strokeStyle = c.dark ? `hsla(${hue}, 35%, 60%, 0.25)` : `hsla(${hue}, 40%, 45%, 0.22)`;
      ctx.lineWidth = 1 / view.k;
      roundRect(ctx, gr.x, gr.y, gr.w, gr.h, 10);
      ctx.fill();
      ctx.stroke();
      if (view.k > 0.25) {
        ctx.fillStyle = c.dark ? `hsl(${hue}, 35%, 70%)` : `hsl(${hue}, 40%, 35%)`;
        ctx.font = `600 12px ${c.font}`;
        ctx.textBaseline = 'alphabetic';
        ctx.fillText('▾ ' + gr.name, gr.x + 10, gr.y + 17);
      }
    }
  }

  // Each folded group as one card: its name, how many assets, their statuses.
  paintFolded(vis) {
    const { ctx, c, g } = this;
    const order = ['failed', 'running', 'stale', 'never', 'fresh', 'external'];
    for (const gr of g.groups || []) {
      if (!this.folded.has(gr.name)) continue;
      const r = this.foldRect(gr);
      if (r.x + r.w < vis.x0 || r.x > vis.x1 || r.y + r.h < vis.y0 || r.y > vis.y1) continue;
      const counts = {};
      g.nodes.forEach((n, i) => {
        if (n.group !== gr.name) return;
        const st = this.cb.info(i).status || 'never';
        counts[st] = (counts[st] || 0) + 1;
      });
      const worst = order.find((st) => counts[st]) || 'never';
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      const hue = hueOf(gr.name);
      roundRect(ctx, r.x, r.y, r.w, r.h, 8);
      ctx.fillStyle = c.card;
      ctx.fill();
      ctx.strokeStyle = c.dark ? `hsla(${hue}, 35%, 60%, 0.6)` : `hsla(${hue}, 40%, 45%, 0.55)`;
      ctx.lineWidth = 1.5;
      ctx.setLineDash([5, 3]);
      ctx.stroke();
      ctx.setLineDash([]);
      drawStatus(ctx, c, worst, r.x + 16, r.y + 19, 5, performance.now());
      ctx.textBaseline = 'middle';
      ctx.font = `600 13px ${c.font}`;
      ctx.fillStyle = c.fg;
      ctx.fillText('▸ ' + gr.name, r.x + 28, r.y + 19);
      ctx.font = `11px ${c.font}`;
      ctx.fillStyle = c.muted;
      const parts = order.filter((st) => counts[st]).map((st) => `${counts[st]} ${st}`);
      ctx.fillText(fit(ctx, this.textCache, `${total} assets · ${parts.join(' · ')}`, r.w - 24), r.x + 12, r.y + 40);
    }
  }

  paintEdges(vis, anySel) {
    const { ctx, c, g, view } = this;
    const hot = new Set();
    if (this.hover >= 0) for (const e of this.adj[this.hover]) hot.add(e);
    const strokeOf = (e) => {
      const [a, b] = g.edges[e];
      const sel = anySel && this.cb.selected(a) && this.cb.selected(b);
      if (hot.has(e) || sel) return c.accent;
      return c.dark ? 'rgba(160,170,185,0.35)' : 'rgba(90,100,115,0.32)';
    };
    ctx.lineWidth = Math.max(1, 1.2 / view.k);
    if (view.k < 0.1 && !hot.size && !anySel) return;   // a grey mist at this scale
    g.edges.forEach((edge, e) => {
      if (view.k < 0.1 && !hot.has(e) && !(this.cb.selected(edge[0]) && this.cb.selected(edge[1]))) return;
      const bx = this.edgeBox[e];
      const moved = this.folded.size && (this.hidden(edge[0]) || this.hidden(edge[1]));
      if (!moved && (bx[2] < vis.x0 || bx[0] > vis.x1 || bx[3] < vis.y0 || bx[1] > vis.y1)) return;
      const [a, b, bends] = edge;
      const na = g.nodes[a], nb = g.nodes[b];
      let pts = [[na.x + na.w, na.y + na.h / 2], ...bends, [nb.x, nb.y + nb.h / 2]];
      if (this.folded.size && (this.hidden(a) || this.hidden(b))) {
        if (na.group === nb.group) return;          // inside a folded group
        const card = (n) => this.foldRect(g.groups.find((x) => x.name === n.group));
        const ra = this.hidden(a) ? card(na) : null, rb = this.hidden(b) ? card(nb) : null;
        pts = [ra ? [ra.x + ra.w, ra.y + ra.h / 2] : pts[0], rb ? [rb.x, rb.y + rb.h / 2] : pts[pts.length - 1]];
      }
      const col = strokeOf(e);
      ctx.strokeStyle = col;
      ctx.globalAlpha = anySel && !(this.cb.selected(a) || this.cb.selected(b)) && !hot.has(e) ? 0.35 : 1;
      ctx.beginPath();
      ctx.moveTo(pts[0][0], pts[0][1]);
      for (let p = 1; p < pts.length; p++) {
        const [x0, y0] = pts[p - 1], [x1, y1] = pts[p];
        const dx = Math.max(20, (x1 - x0) / 2);
        ctx.bezierCurveTo(x0 + dx, y0, x1 - dx, y1, x1, y1);
      }
      ctx.stroke();
      if (view.k > 0.3) {
        const [x, y] = pts[pts.length - 1];
        ctx.fillStyle = col;
        ctx.beginPath();
        ctx.moveTo(x, y); ctx.lineTo(x - 7, y - 4); ctx.lineTo(x - 7, y + 4); ctx.closePath();
        ctx.fill();
      }
    });
    ctx.globalAlpha = 1;
  }

  // One node; returns 2 while its status change animates, 1 when it runs (it pulses),
  // else 0.
  paintNode(i, anySel, now) {
    const { ctx, c, g, view } = this;
    const n = g.nodes[i];
    const info = this.cb.info(i);
    const status = info.status || 'never';
    const sel = this.cb.selected(i);
    const hue = hueOf(n.group);
    ctx.globalAlpha = anySel && !sel ? 0.4 : 1;
    if (view.k < 0.3) {
      // Far out: a block in its status colour, a tile of 1.5 pixels at least when tiny.
      const tw = Math.max(n.w, 1.5 / view.k), th = Math.max(n.h, 1.5 / view.k);
      ctx.fillStyle = c[status] || c.never;
      ctx.globalAlpha *= status === 'never' ? 0.45 : 0.85;
      ctx.fillRect(n.x, n.y, tw, th);
      if (sel) {
        ctx.globalAlpha = 1;
        ctx.strokeStyle = c.accent;
        ctx.lineWidth = 3 / view.k;
        ctx.strokeRect(n.x, n.y, tw, th);
      }
      ctx.globalAlpha = 1;
      return 0;
    }
    roundRect(ctx, n.x, n.y, n.w, n.h, 6);
    ctx.fillStyle = c.card;
    ctx.fill();
    ctx.lineWidth = sel ? 2 : i === this.hover ? 1.5 : 1;
    ctx.strokeStyle = sel ? c.accent : i === this.hover ? c.muted : c.border;
    ctx.stroke();
    // the group's band
    ctx.save();
    roundRect(ctx, n.x, n.y, n.w, n.h, 6);
    ctx.clip();
    ctx.fillStyle = c.dark ? `hsl(${hue}, 45%, 55%)` : `hsl(${hue}, 55%, 55%)`;
    ctx.fillRect(n.x, n.y, 4, n.h);
    ctx.restore();
    drawStatus(ctx, c, status, n.x + 18, n.y + 21, 5, now);
    let animate = status === 'running' ? 1 : 0;
    const t0 = this.flash.get(i);
    if (t0 !== undefined) {
      const p = (now - t0) / 900;
      if (p >= 1) this.flash.delete(i);
      else {
        ctx.strokeStyle = c[status] || c.accent;
        ctx.globalAlpha = (1 - p) * (anySel && !sel ? 0.4 : 1);
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.arc(n.x + 18, n.y + 21, 5 + p * 12, 0, Math.PI * 2);
        ctx.stroke();
        ctx.globalAlpha = anySel && !sel ? 0.4 : 1;
        animate = 2;
      }
    }
    if (view.k >= 0.45) this.paintText(n, info);
    if (view.k >= 0.45 && info.checks) drawChecks(ctx, c, info.checks, n.x + n.w - 8, n.y + 21);
    ctx.globalAlpha = 1;
    return animate;
  }

  paintText(n, info) {
    const { ctx, c } = this;
    const slash = n.key.lastIndexOf('/');
    const prefix = slash >= 0 ? n.key.slice(0, slash + 1) : '';
    const name = n.key.slice(slash + 1);
    const x = n.x + 30, room = n.w - 30 - 10 - (info.checks ? 22 : 0);
    ctx.textBaseline = 'middle';
    ctx.font = `12px ${c.font}`;
    let used = 0;
    if (prefix) {
      const p = fit(ctx, this.textCache, prefix, room * 0.45);
      ctx.fillStyle = c.muted;
      ctx.fillText(p, x, n.y + 21);
      used = ctx.measureText(p).width;
    }
    ctx.font = `600 13px ${c.font}`;
    ctx.fillStyle = c.fg;
    ctx.fillText(fit(ctx, this.textCache, name, room - used), x + used, n.y + 21);
    // the bottom line: when, and how many rows (the rows first: badges give way to them)
    const latest = info.latest;
    const st = info.status || 'never';
    const when = latest ? ago(latest.time_us)
      : st === 'never' ? 'never materialized' : st === 'running' ? 'materializing…' : st;
    const rows = latest && latest.row_count !== null && latest.row_count !== undefined ? count(latest.row_count) + ' rows' : '';
    const left = n.x + 12, right = n.x + n.w - 8;
    ctx.font = `11px ${c.font}`;
    const sep = rows ? ' · ' : '';
    const rowsW = ctx.measureText(sep + rows).width;
    const lineW = ctx.measureText(when).width + rowsW;
    // kind badges, right to left along the bottom, while the line keeps its room
    ctx.font = `10px ${c.mono}`;
    let bx = right;
    const need = Math.min(lineW, rowsW + 40);   // the rows whole, and a little of when
    for (const k of (n.kinds || []).slice(0, 3).reverse()) {
      const w = ctx.measureText(k).width + 10;
      if (bx - w < n.x + n.w / 2 || bx - w - 6 < left + need) break;
      bx -= w;
      roundRect(ctx, bx, n.y + n.h - 22, w, 15, 4);
      ctx.fillStyle = c.dark ? 'rgba(255,255,255,0.06)' : 'rgba(0,0,0,0.045)';
      ctx.fill();
      ctx.fillStyle = c.muted;
      ctx.fillText(k, bx + 5, n.y + n.h - 14.5);
      bx -= 4;
    }
    ctx.font = `11px ${c.font}`;
    ctx.fillStyle = c.muted;
    const lineRoom = bx - left - 4;
    const line = lineW <= lineRoom ? when + sep + rows
      : fit(ctx, this.textCache, when, Math.max(0, lineRoom - rowsW)) + sep + rows;
    ctx.fillText(fit(ctx, this.textCache, line, lineRoom), left, n.y + n.h - 14.5);
  }

  paintMinimap(vis) {
    const mm = this.minimap;
    if (!mm) return;
    // Only when part of the graph is off screen.
    const b0 = this.bounds;
    const all = vis.x0 <= b0.x0 && vis.y0 <= b0.y0 && vis.x1 >= b0.x1 && vis.y1 >= b0.y1;
    mm.classList.toggle('minimap-hidden', all);
    if (all) return;
    const W = mm.clientWidth, H = mm.clientHeight;
    if (!W || !H) return;
    const b = this.bounds;
    const s = Math.min((W - 8) / (b.x1 - b.x0 || 1), (H - 8) / (b.y1 - b.y0 || 1));
    const ox = (W - (b.x1 - b.x0) * s) / 2, oy = (H - (b.y1 - b.y0) * s) / 2;
    this.mini = { s, ox, oy };
    const dpr = this.dpr;
    if (mm.width !== Math.round(W * dpr)) { mm.width = Math.round(W * dpr); mm.height = Math.round(H * dpr); this.miniCache = null; }
    const c = this.c;
    if (!this.miniCache) {
      // The nodes, drawn once per graph, status change or theme.
      const off = document.createElement('canvas');
      off.width = mm.width;
      off.height = mm.height;
      const o = off.getContext('2d');
      o.setTransform(dpr, 0, 0, dpr, 0, 0);
      for (const [i, n] of this.g.nodes.entries()) {
        const st = this.cb.info(i).status || 'never';
        o.fillStyle = c[st] || c.never;
        o.globalAlpha = st === 'never' ? 0.5 : 0.9;
        o.fillRect(ox + (n.x - b.x0) * s, oy + (n.y - b.y0) * s, Math.max(1, n.w * s), Math.max(1, n.h * s));
      }
      this.miniCache = off;
    }
    const ctx = mm.getContext('2d');
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, mm.width, mm.height);
    ctx.drawImage(this.miniCache, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = c.accent;
    ctx.lineWidth = 1.5;
    ctx.fillStyle = c.accentSoft;
    const rx = ox + (vis.x0 - b.x0) * s, ry = oy + (vis.y0 - b.y0) * s;
    ctx.fillRect(rx, ry, (vis.x1 - vis.x0) * s, (vis.y1 - vis.y0) * s);
    ctx.strokeRect(rx, ry, (vis.x1 - vis.x0) * s, (vis.y1 - vis.y0) * s);
  }
}
