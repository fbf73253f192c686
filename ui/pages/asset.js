// The asset page (#/assets/<key>): its header (key, description as markdown,
// group, kinds, owners, tags, status, Materialize), the metadata, column schema,
// preview, plots of row count and duration over time, materialization history,
// neighbours, definition and, when partitioned, the partition status grid from
// which a partition or a range "A...B" is launched. Live through /api/events.
import { html } from '../lib/html.js';
import { useState, useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { getJSON, postJSON, assetPath, runPath } from '../lib/api.js';
import { ago, checkBadge, checksLabel, CHECK_MARKS, duration, when, count, statusDot } from '../lib/format.js';
import { ErrorNote, Skeleton, RunLink, useLive } from './runs.js';
import { highlightSQL } from './run.js';

// The API path of an asset: its key as-is ('/' kept), each part escaped.
function apiPath(key) {
  return '/api/assets/' + key.split('/').map(encodeURIComponent).join('/');
}

/* ---- A tiny markdown renderer: vnodes only (text stays text, never HTML). ---- */

const INLINE = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*\s][^*]*\*)|(\[[^\]]+\]\([^)\s]+\))|(https?:\/\/[^\s<>()]+)/g;

function safeUrl(url) {
  return /^(https?:\/\/|#|\/)/i.test(url) ? url : null;
}

function inline(text) {
  const out = [];
  let last = 0;
  let m;
  const re = new RegExp(INLINE.source, 'g');    // one each call: the calls nest
  while ((m = re.exec(text)) !== null) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const t = m[0];
    if (m[1]) out.push(html`<code>${t.slice(1, -1)}</code>`);
    else if (m[2]) out.push(html`<strong>${inline(t.slice(2, -2))}</strong>`);
    else if (m[3]) out.push(html`<em>${inline(t.slice(1, -1))}</em>`);
    else if (m[4]) {
      const close = t.indexOf('](');
      const url = safeUrl(t.slice(close + 2, -1));
      const label = inline(t.slice(1, close));
      out.push(url ? html`<a href=${url} target=${url[0] === '#' ? null : '_blank'}
        rel="noopener noreferrer">${label}</a>` : label);
    } else out.push(html`<a href=${t} target="_blank" rel="noopener noreferrer">${t}</a>`);
    last = m.index + t.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

// Paragraphs, `- ` lists, `#` headings and ``` fences; inline code, bold,
// emphasis and links (http, https, # and / only).
export function markdown(src) {
  const blocks = [];
  const parts = String(src || '').replace(/\r\n?/g, '\n').split(/```/);
  parts.forEach((part, i) => {
    if (i % 2 === 1) {
      blocks.push(html`<pre class="md-pre">${part.replace(/^[a-z]*\n/, '')}</pre>`);
      return;
    }
    for (const block of part.split(/\n\s*\n/)) {
      const lines = block.split('\n').filter((l) => l.trim() !== '');
      if (!lines.length) continue;
      if (lines.every((l) => /^\s*[-*] /.test(l)))
        blocks.push(html`<ul>${lines.map((l) => html`<li>${inline(l.replace(/^\s*[-*] /, ''))}</li>`)}</ul>`);
      else if (lines.length === 1 && /^#{1,6} /.test(lines[0]))
        blocks.push(html`<h4>${inline(lines[0].replace(/^#+ /, ''))}</h4>`);
      else blocks.push(html`<p>${inline(lines.join(' '))}</p>`);
    }
  });
  return blocks;
}

/* ---- Small pieces ---- */

function KeyTitle({ k }) {
  const i = k.lastIndexOf('/');
  return html`<h1 class="asset-key"><span class="key-prefix">${i >= 0 ? k.slice(0, i + 1) : ''}</span>${k.slice(i + 1)}</h1>`;
}

function AssetLink({ k }) {
  const i = k.lastIndexOf('/');
  return html`<a class="asset-link" href=${assetPath(k)}><span class="key-prefix">${i >= 0 ? k.slice(0, i + 1) : ''}</span>${k.slice(i + 1)}</a>`;
}

function value(v, key) {
  if (v === null || v === undefined) return html`<span class="c-muted">null</span>`;
  if (typeof v === 'number') return html`<span class="num">${count(v)}</span>`;
  if (typeof v === 'string') {
    if (/^https?:\/\//.test(v)) return html`<a href=${v} target="_blank" rel="noopener noreferrer">${v}</a>`;
    if (/^(select|with|create|insert|copy)\b/i.test(v) || /query|sql/i.test(key || ''))
      return html`<code class="long">${highlightSQL(v)}</code>`;
    return v.length > 32 ? html`<code class="long">${v}</code>` : v;
  }
  // A small object of plain values (partition_row_counts, ...): a nested table.
  const entries = !Array.isArray(v) ? Object.entries(v) : [];
  if (entries.length && entries.length <= 40 && entries.every(([, x]) => x === null || typeof x !== 'object'))
    return html`<table class="kv kv-inner">${entries.map(([k, x]) => html`<tr><th>${k}</th><td>${value(x, k)}</td></tr>`)}</table>`;
  return html`<code class="json">${JSON.stringify(v)}</code>`;
}

function Section({ title, children, extra, id }) {
  return html`<section class="card" id=${id}>
    <h2>${title}${extra ? html`<span class="h-extra">${extra}</span>` : null}</h2>
    ${children}
  </section>`;
}

function KV({ rows }) {
  const shown = rows.filter((r) => r);
  if (!shown.length) return html`<div class="pg-empty">None.</div>`;
  return html`<table class="kv">${shown.map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`)}</table>`;
}

/* ---- Plots (uPlot) ---- */

function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

function Plot({ title, xs, ys, colorVar, fmt }) {
  const box = useRef(null);
  const [scheme, setScheme] = useState(0);
  useEffect(() => {
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    const f = () => setScheme((n) => n + 1);
    mq.addEventListener('change', f);
    return () => mq.removeEventListener('change', f);
  }, []);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const color = cssVar(colorVar, '#2f6fdb');
    const muted = cssVar('--muted', '#6b717b');
    const grid = cssVar('--border', '#dcdcd6');
    const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 },
      font: '11px ' + cssVar('--font', 'sans-serif') };
    const x0 = xs[0];
    const x1 = xs[xs.length - 1];
    const opts = {
      width: Math.max(200, el.clientWidth), height: 150,
      cursor: { points: { size: 7 } },
      legend: { show: true, live: true },
      scales: {
        // From the data (uPlot widens a single time to years): half an hour
        // either side of one point, else 3 % of the span.
        x: { time: true, range: () => (x1 - x0 < 1 ? [x0 - 1800, x1 + 1800] : [x0 - (x1 - x0) * 0.03, x1 + (x1 - x0) * 0.03]) },
        y: { range: (u, lo, hi) => [0, hi > 0 ? hi * 1.15 : 1] },
      },
      // Without the pointer on the plot, the legend tells the newest point.
      hooks: {
        ready: [(u) => u.setLegend({ idx: xs.length - 1 })],
        setCursor: [(u) => { if (u.cursor.idx === null || u.cursor.idx === undefined) u.setLegend({ idx: xs.length - 1 }); }],
      },
      axes: [axis, { ...axis, size: 56, values: (u, vals) => vals.map((v) => fmt(v)) }],
      series: [
        { value: (u, v) => (v === null || v === undefined ? '' : when(v * 1e6)) },
        { label: title, stroke: color, width: 1.5, fill: color + '1f',
          points: { show: true, size: 5, fill: color },
          value: (u, v) => (v === null || v === undefined ? '' : fmt(v)) },
      ],
    };
    const u = new uPlot(opts, [xs, ys], el);
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: 150 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
    };
  }, [xs, ys, scheme]);
  return html`<div class="plot" ref=${box} data-plot=${title}></div>`;
}

function Plots({ history }) {
  const pts = (history || []).filter((h) => h.time_us).slice().reverse();
  if (!pts.length) return html`<div class="pg-empty">No materialization yet: the plots appear after the first run.</div>`;
  const xs = pts.map((h) => h.time_us / 1e6);
  const rows = pts.map((h) => (h.row_count === null || h.row_count === undefined ? null : h.row_count));
  const secs = pts.map((h) => (h.duration_s === null || h.duration_s === undefined ? null : h.duration_s));
  return html`<div class="plots">
    <${Plot} title="Row count" xs=${xs} ys=${rows} colorVar="--accent" fmt=${(v) => count(Math.round(v))} />
    <${Plot} title="Duration" xs=${xs} ys=${secs} colorVar="--ok" fmt=${(v) => duration(v)} />
  </div>`;
}

/* ---- Tables ---- */

function Schema({ columns }) {
  if (!columns || !columns.length) return html`<div class="pg-empty">No columns recorded.</div>`;
  return html`<table class="tbl schema"><thead><tr><th>Column</th><th>Type</th></tr></thead>
    <tbody>${columns.map((c) => html`<tr><td class="mono">${c.name}</td><td class="mono c-muted">${c.type}</td></tr>`)}</tbody></table>`;
}

const FLOATS = /^(DOUBLE|FLOAT|REAL|FLOAT4|FLOAT8|DECIMAL)/i;

// A preview value; a whole number in a floating column keeps its ".0".
function cell(v, type) {
  if (v === null || v === undefined) return html`<span class="c-faint">NULL</span>`;
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'number' && Number.isInteger(v) && FLOATS.test(type || '')) return v.toFixed(1);
  return String(v);
}

function Preview({ columns, rows }) {
  if (!rows || !rows.length) return html`<div class="pg-empty">No preview recorded.</div>`;
  const names = columns && columns.length ? columns.map((c) => c.name) : Object.keys(rows[0]);
  const types = {};
  for (const c of columns || []) types[c.name] = c.type;
  return html`<div class="scroll-x"><table class="tbl preview">
    <thead><tr>${names.map((n) => html`<th>${n}</th>`)}</tr></thead>
    <tbody>${rows.map((r) => html`<tr>${names.map((n) => html`<td class=${typeof r[n] === 'number' ? 'num' : ''}>${cell(r[n], types[n])}</td>`)}</tr>`)}</tbody>
  </table></div>`;
}

function History({ history }) {
  if (!history || !history.length) return html`<div class="pg-empty">Never materialized.</div>`;
  return html`<div class="scroll-y"><table class="tbl history">
    <thead><tr><th>Time</th><th>Run</th><th class="num">Rows</th><th class="num">Duration</th><th>Partition</th></tr></thead>
    <tbody>${history.map((h) => html`<tr>
      <td title=${ago(h.time_us)}>${when(h.time_us)}</td>
      <td><${RunLink} id=${h.run_id} /></td>
      <td class="num">${count(h.row_count)}</td>
      <td class="num">${duration(h.duration_s)}</td>
      <td class="mono">${h.partition || ''}</td>
    </tr>`)}</tbody></table></div>`;
}

/* ---- Checks ---- */

// A check outcome's mark and word, coloured as the check badges are.
function CheckStatus({ r }) {
  const st = !r ? 'unknown' : r.status === 'passed' ? 'passed'
    : r.severity === 'warn' ? 'warned' : r.status;
  return html`<span class=${'chk-status chk-text-' + st} data-check-status=${r ? r.status : 'never'}>
    <span class=${'chk chk-' + st}>${CHECK_MARKS[st] || '?'}</span> ${r ? r.status : 'never ran'}</span>`;
}

// One check's latest outcome (of one partition): a row, and under it what failed —
// the message, the failing rows it sampled, the query that decided it.
function CheckRow({ name, r }) {
  const m = (r && r.metadata) || {};
  const sample = Array.isArray(m.sample) ? m.sample : null;
  const failing = typeof m.failing_rows === 'number' ? m.failing_rows : null;
  return html`<tr class="check-row" data-check=${name}>
      <td><${CheckStatus} r=${r} /></td>
      <td class="mono">${name}</td>
      <td class="mono">${r && r.partition ? r.partition : ''}</td>
      <td>${r ? r.severity + (r.blocking ? ', blocking' : '') : ''}</td>
      <td class="num">${failing !== null ? count(failing) : ''}</td>
      <td title=${r ? when(r.time_us) : ''}>${r ? ago(r.time_us) : ''}</td>
      <td>${r ? html`<${RunLink} id=${r.run_id} />` : null}</td>
    </tr>
    ${r && (r.message || sample || r.sql) ? html`<tr class="check-detail"><td></td><td colspan="6">
      ${r.message ? html`<div class=${r.status === 'passed' ? 'c-muted' : 'check-msg'}>${r.message}</div>` : null}
      ${sample && sample.length ? html`<details class="check-sample" open=${r.status !== 'passed'}>
        <summary>${failing !== null && failing > sample.length ? `${sample.length} of the ${count(failing)} failing rows` : 'the failing rows'}</summary>
        <${Preview} columns=${null} rows=${sample} /></details>` : null}
      ${r.sql ? html`<details class="check-sql"><summary>query</summary><pre class="sql small">${highlightSQL(r.sql)}</pre></details>` : null}
    </td></tr>` : null}`;
}

function Checks({ d }) {
  const list = d.check_results || [];
  return html`<table class="tbl checks">
    <thead><tr><th>Status</th><th>Check</th><th>Partition</th><th>Severity</th><th class="num">Failing rows</th><th>When</th><th>Run</th></tr></thead>
    <tbody>${list.map((c) => (c.results.length ? c.results.map((r) => html`<${CheckRow} name=${c.name} r=${r} />`)
      : html`<${CheckRow} name=${c.name} r=${null} />`))}</tbody></table>`;
}

function CheckHistory({ history }) {
  if (!history || !history.length) return html`<div class="pg-empty">No check has run yet.</div>`;
  return html`<div class="scroll-y"><table class="tbl check-history">
    <thead><tr><th>Time</th><th>Check</th><th>Status</th><th>Partition</th><th>Run</th><th>Message</th></tr></thead>
    <tbody>${history.map((h) => html`<tr>
      <td title=${ago(h.time_us)}>${when(h.time_us)}</td>
      <td class="mono">${h.name}</td>
      <td><${CheckStatus} r=${h} /></td>
      <td class="mono">${h.partition || ''}</td>
      <td><${RunLink} id=${h.run_id} /></td>
      <td>${h.message || ''}</td>
    </tr>`)}</tbody></table></div>`;
}

/* ---- The partition grid ---- */

const PSTATUS = ['materialized', 'stale', 'failed', 'missing'];

// The note after a launch; its run's status follows the run events (statuses).
function Launched({ result, statuses }) {
  // A run the server refuses before it starts (nothing to run) sends no run event:
  // look at it once, a moment after the launch.
  const [refused, setRefused] = useState(null);
  const id = result && result.run_id;
  useEffect(() => {
    setRefused(null);
    if (!id) return undefined;
    const t = setTimeout(() => {
      getJSON('/api/runs/' + encodeURIComponent(id)).then((r) => {
        if (r && r.status === 'refused') setRefused(r.error || 'the server refused the run');
      }, () => {});
    }, 800);
    return () => clearTimeout(t);
  }, [id]);
  if (!result) return null;
  if (result.error) return html`<${ErrorNote} error=${result.error} what="Could not launch the run" />`;
  if (refused) return html`<${ErrorNote} error=${refused} what=${`The run of ${result.what} was refused`} />`;
  const status = (statuses && statuses[result.run_id]) || result.status;
  return html`<div class="pg-note" role="status">Launched ${result.what}: run <a href=${runPath(result.run_id)}
    class="mono">${result.run_id.slice(0, 8)}</a> <span class="launch-status" data-status=${status}>${statusDot(status)} ${status}</span></div>`;
}

export function PartitionGrid({ assetKey, partitions, onLaunched, statuses }) {
  const keys = partitions.keys || [];
  const status = partitions.status || {};
  const [sel, setSel] = useState(null);        // [first, last] indexes
  const drag = useRef(null);                    // { anchor, moved }
  const [result, setResult] = useState(null);

  const launch = async (partition, what) => {
    setResult(null);
    try {
      const r = await postJSON('/api/runs', { selection: assetKey, partition });
      setResult({ ...r, what });
      if (onLaunched) onLaunched(r);
    } catch (e) {
      setResult({ error: e });
    }
  };

  const indexOf = (ev) => {
    const t = ev.target.closest ? ev.target.closest('[data-i]') : null;
    return t ? Number(t.getAttribute('data-i')) : -1;
  };
  const down = (ev) => {
    const i = indexOf(ev);
    if (i < 0 || ev.button !== 0) return;
    ev.preventDefault();
    drag.current = { anchor: i, moved: false };
    setSel([i, i]);
  };
  const over = (ev) => {
    if (!drag.current) return;
    const i = indexOf(ev);
    if (i < 0) return;
    if (i !== drag.current.anchor) drag.current.moved = true;
    const a = drag.current.anchor;
    setSel([Math.min(a, i), Math.max(a, i)]);
  };
  useEffect(() => {
    const up = () => {
      const d = drag.current;
      drag.current = null;
      if (d && !d.moved) {
        setSel(null);
        launch(keys[d.anchor], 'partition ' + keys[d.anchor]);
      }
    };
    window.addEventListener('pointerup', up);
    return () => window.removeEventListener('pointerup', up);
  });

  const tally = {};
  for (const k of keys) {
    const s = status[k] || 'missing';
    tally[s] = (tally[s] || 0) + 1;
  }
  const labelled = keys.length <= 48;
  const range = sel && sel[1] > sel[0] ? [keys[sel[0]], keys[sel[1]]] : null;
  return html`<div class="pgrid-wrap">
    <div class="pgrid-legend">
      ${PSTATUS.map((s) => html`<span class="pl"><span class=${'pcell-sw pc-' + s}></span>${s} ${tally[s] || 0}</span>`)}
      <span class="c-muted">${partitions.count > keys.length ? `first ${count(keys.length)} of ${count(partitions.count)}` : `${count(keys.length)} partitions`}${' '}
        · click a cell to launch it, drag to choose a range</span>
    </div>
    <div class=${'pgrid' + (labelled ? ' labelled' : '')} onPointerDown=${down} onPointerOver=${over}
        role="grid" aria-label="partitions">
      ${keys.map((k, i) => {
        const s = status[k] || 'missing';
        const on = sel && i >= sel[0] && i <= sel[1];
        return html`<div key=${k} data-i=${i} data-key=${k} data-status=${s} role="gridcell"
          class=${'pcell pc-' + s + (on ? ' sel' : '')} title=${k + ': ' + s}>${labelled ? k : ''}</div>`;
      })}
    </div>
    ${range ? html`<div class="pgrid-bar">
      <span>Range <code>${range[0]}...${range[1]}</code> (${sel[1] - sel[0] + 1} partitions)</span>
      <button class="btn btn-primary" onClick=${() => { setSel(null); launch(range[0] + '...' + range[1], 'range ' + range[0] + '...' + range[1]); }}>
        Materialize range</button>
      <button class="btn" onClick=${() => setSel(null)}>Clear</button>
    </div>` : null}
    <${Launched} result=${result} statuses=${statuses} />
  </div>`;
}

/* ---- The page ---- */

// When the detail endpoint fails, the definition from /api/assets still gives
// the header, the neighbours and the definition.
async function fallbackDetail(key) {
  const all = await getJSON('/api/assets');
  const a = (all || []).find((x) => x.key === key);
  if (!a) return null;
  return {
    ...a, upstream: a.deps || [],
    downstream: all.filter((x) => (x.deps || []).includes(key)).map((x) => x.key),
    latest: a.latest && a.latest.columns ? a.latest : null, history: null,
    partitions: null, partial: true,
  };
}

function Header({ d, onMaterialize, launch }) {
  const nparts = d.partitions && d.partitions.keys ? d.partitions.keys.length : 0;
  const tags = Object.entries(d.tags || {});
  const latest = d.latest;
  return html`<div class="asset-head">
    <div class="ah-top">
      <div>
        <div class="crumbs"><a href="#/assets">Assets</a> /</div>
        <${KeyTitle} k=${d.key} />
      </div>
      <div class="ah-actions">
        <span class="ah-status" data-status=${d.status || 'never'}>${statusDot(d.status || 'never')} ${d.status || 'never'}</span>
        <button class="btn btn-primary" onClick=${onMaterialize} disabled=${d.external || launch === 'busy'}
          title=${d.external ? 'an external asset is not materialized by Eider'
            : nparts ? `materialize its ${nparts} partitions now (a backfill)` : 'materialize this asset now'}>
          ${nparts > 1 ? 'Materialize all' : 'Materialize'}</button>
      </div>
    </div>
    <div class="chips">
      ${d.group ? html`<span class="chip"><span class="c-muted">group</span> ${d.group}</span>` : null}
      ${(d.kinds || []).map((k) => html`<span class="chip kind">${k}</span>`)}
      ${(d.owners || []).map((o) => html`<span class="chip"><span class="c-muted">owner</span> ${o}</span>`)}
      ${tags.map(([k, v]) => html`<span class="chip tag">${k}${v ? '=' + v : ''}</span>`)}
      ${d.external ? html`<span class="chip">external</span>` : null}
      ${latest && latest.time_us ? html`<span class="ah-latest">materialized <span title=${when(latest.time_us)}>${ago(latest.time_us)}</span>${' '}in run <${RunLink} id=${latest.run_id} />${latest.row_count !== null && latest.row_count !== undefined ? html` · <strong>${count(latest.row_count)}</strong> rows` : null}</span>` : null}
    </div>
    ${d.description ? html`<div class="md">${markdown(d.description)}</div>`
      : html`<div class="md c-faint">No description.</div>`}
  </div>`;
}

function Neighbours({ d }) {
  const list = (keys) => (keys && keys.length
    ? html`<ul class="nbrs">${keys.map((k) => html`<li><${AssetLink} k=${k} /></li>`)}</ul>`
    : html`<div class="pg-empty">None.</div>`);
  return html`<div class="two">
    <div><h3>Upstream</h3>${list(d.upstream)}</div>
    <div><h3>Downstream</h3>${list(d.downstream)}</div>
  </div>`;
}

function Definition({ d }) {
  const p = d.partitions;
  return html`<${KV} rows=${[
    ['code version', d.code_version ? html`<code>${d.code_version}</code>` : html`<span class="c-muted">none</span>`],
    ['resources', d.resources && d.resources.length ? d.resources.map((r) => html`<code class="sp">${r}</code>`) : html`<span class="c-muted">none</span>`],
    d.io_manager ? ['I/O manager', html`<code>${d.io_manager}</code>`] : null,
    ['partitions', p ? `${count(p.count)} keys` : html`<span class="c-muted">not partitioned</span>`],
    d.external ? ['external', 'yes: observed, not materialized'] : null,
  ]} />`;
}

function Body({ d }) {
  const latest = d.latest || {};
  const defMeta = Object.entries(d.metadata || {});
  const recMeta = Object.entries(latest.metadata || {}).filter(([k]) => !['columns', 'preview', 'row_count'].includes(k));
  const never = !d.latest && !(d.history && d.history.length);
  const nChecks = d.check_results ? d.check_results.length : 0;
  return html`<div class="asset-grid">
    <div class="col-main">
      ${nChecks ? html`<${Section} title="Checks" id="checks" extra=${d.checks ? html`${checkBadge(d.checks)} ${checksLabel(d.checks)}` : null}>
        <${Checks} d=${d} /></${Section}>` : null}
      ${never ? html`<${Section} title="Materializations" id="history">
        <div class="pg-empty" data-never="1">${d.external
          ? 'An external asset: Eider observes it and never materializes it.'
          : d.history ? 'Never materialized. Materialize it to see its rows, columns, preview and plots here.'
          : 'Its materializations are not available from this server.'}</div></${Section}>` : html`
      <${Section} title="Row count and duration over time" id="plots"><${Plots} history=${d.history} /></${Section}>
      <${Section} title="Preview" id="preview" extra=${latest.preview ? `first ${latest.preview.length} rows recorded at materialization` : null}>
        <${Preview} columns=${latest.columns} rows=${latest.preview} /></${Section}>
      <${Section} title="Materialization history" id="history" extra=${d.history && d.history.length > 1 ? `${d.history.length} newest` : null}>
        ${d.history ? html`<${History} history=${d.history} />` : html`<div class="pg-empty">Not available from this server.</div>`}</${Section}>`}
      ${nChecks ? html`<${Section} title="Check history" id="check-history" extra=${d.check_history && d.check_history.length > 1 ? `${d.check_history.length} newest` : null}>
        <${CheckHistory} history=${d.check_history} /></${Section}>` : null}
    </div>
    <div class="col-side">
      <${Section} title="Metadata" id="metadata">
        <${KV} rows=${[...defMeta.map(([k, v]) => [k, value(v, k)]), ...recMeta.map(([k, v]) => [k, value(v, k)])]} />
      </${Section}>
      <${Section} title="Columns" id="schema" extra=${latest.columns ? String(latest.columns.length) : null}>
        <${Schema} columns=${latest.columns} /></${Section}>
      <${Section} title="Lineage" id="lineage"><${Neighbours} d=${d} /></${Section}>
      <${Section} title="Definition" id="definition"><${Definition} d=${d} /></${Section}>
    </div>
  </div>`;
}

export function AssetPage({ assetKey }) {
  const key = assetKey || '';
  const [d, setD] = useState(null);
  const [error, setError] = useState(null);
  const [launch, setLaunch] = useState(null);
  const [statuses, setStatuses] = useState({});   // run id -> status, from run events
  const seq = useRef(0);
  const reloadSoon = useRef(null);

  const load = async () => {
    const mine = ++seq.current;
    try {
      const detail = await getJSON(apiPath(key));
      if (mine !== seq.current) return;
      setD(detail);
      setError(null);
    } catch (e) {
      // A 404 is an unknown asset, or a server without the detail endpoint:
      // the list of assets tells which.
      let fb = null;
      try {
        fb = await fallbackDetail(key);
      } catch (e2) {
        fb = null;
      }
      if (mine !== seq.current) return;
      setError(e);
      setD(fb);
    }
  };

  useEffect(() => {
    setD(null);
    setError(null);
    setLaunch(null);
    load();
  }, [key]);

  useLive((type, ev) => {
    if (type === 'asset' && ev && ev.key === key) {
      setD((cur) => (cur ? { ...cur, status: ev.status } : cur));
      if (ev.status !== 'running') load();
    } else if (type === 'defs') load();
    if (type === 'run' && ev && ev.run_id) setStatuses((m) => ({ ...m, [ev.run_id]: ev.status }));
    if (type === 'run' && ev && ['success', 'failure', 'canceled', 'crashed'].includes(ev.status)) {
      // a run that ended may have materialized this asset without changing its status
      clearTimeout(reloadSoon.current);
      reloadSoon.current = setTimeout(load, 200);
    }
  }, load, 3000, [key]);
  useEffect(() => () => clearTimeout(reloadSoon.current), []);

  // A partitioned asset: every partition listed, as one range.
  const materialize = async () => {
    setLaunch('busy');
    const keys = d && d.partitions && d.partitions.keys;
    const body = { selection: key };
    let what = key;
    if (keys && keys.length) {
      body.partition = keys.length === 1 ? keys[0] : `${keys[0]}...${keys[keys.length - 1]}`;
      what = `${key}, ${keys.length === 1 ? 'its partition' : `its ${count(keys.length)} partitions`}`;
    }
    try {
      const r = await postJSON('/api/runs', body);
      setLaunch({ ...r, what });
    } catch (e) {
      setLaunch({ error: e });
    }
  };

  if (!d && !error) return html`<div class="pg pg-asset"><${KeyTitle} k=${key} /><${Skeleton} lines=${10} /></div>`;
  if (!d) return html`<div class="pg pg-asset"><${KeyTitle} k=${key} />
    <${ErrorNote} error=${error} what=${`Could not load the asset ${key}`} /></div>`;
  return html`<div class="pg pg-asset">
    <${Header} d=${d} onMaterialize=${materialize} launch=${launch} />
    ${launch && launch !== 'busy' ? html`<div id="launch"><${Launched} result=${launch} statuses=${statuses} /></div>` : null}
    ${error ? html`<${ErrorNote} error=${error} what="The asset's recorded state is not available; showing its definition" />` : null}
    ${d.partitions ? html`<${Section} title="Partitions" id="partitions">
      <${PartitionGrid} assetKey=${key} partitions=${d.partitions} statuses=${statuses} /></${Section}>` : null}
    <${Body} d=${d} />
  </div>`;
}
