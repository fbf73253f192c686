// The asset catalog: one row per asset (status, key, group, kinds, last
// materialized, rows, owners), sortable, filtered by a search and by group, kind,
// tag and status, and by the selection box when it holds a selection; rows are
// virtualized (only those on screen are in the page), so 10,000 assets scroll
// smoothly. The filters live in the URL (#/assets?group=iris&status=stale).
import { html } from '../lib/html.js';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { assetPath } from '../lib/api.js';
import { store, useStore, selectKeys, clearSelection } from '../lib/store.js';
import { ago, checkBadge, count, statusDot, when } from '../lib/format.js';
import { materialize } from './lineage.js';

const ROW_H = 32;
const OVERSCAN = 8;

const COLUMNS = [
  { id: 'status', label: 'Status', get: (a) => a.status || 'never' },
  { id: 'key', label: 'Asset', get: (a) => a.key },
  { id: 'checks', label: 'Checks', get: (a) => (a.checks ? CHECK_ORDER[a.checks.status] ?? 9 : 10) },
  { id: 'group', label: 'Group', get: (a) => a.group || '' },
  { id: 'kinds', label: 'Kinds', get: (a) => (a.kinds || []).join(' ') },
  { id: 'latest', label: 'Materialized', get: (a) => (a.latest ? a.latest.time_us : -1) },
  { id: 'rows', label: 'Rows', get: (a) => (a.latest && a.latest.row_count != null ? a.latest.row_count : -1) },
  { id: 'owners', label: 'Owners', get: (a) => (a.owners || []).join(' ') },
];

const STATUS_ORDER = { failed: 0, running: 1, stale: 2, never: 3, fresh: 4, external: 5 };
const CHECK_ORDER = { errored: 0, failed: 1, warned: 2, unknown: 3, passed: 4 };

function tagsOf(a) {
  return Object.entries(a.tags || {}).map(([k, v]) => (v === '' || v == null ? k : `${k}=${v}`));
}

function uniq(list) {
  return [...new Set(list)].sort((x, y) => x.localeCompare(y));
}

function writeQuery(f) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) q.set(k, v);
  const s = q.toString();
  history.replaceState(null, '', '#/assets' + (s ? '?' + s : ''));
}

function Filter({ label, value, options, onChange }) {
  return html`<label class="filter">
    <span class="filter-label">${label}</span>
    <select value=${value} onChange=${(e) => onChange(e.target.value)} aria-label=${label}>
      <option value="">all</option>
      ${options.map((o) => html`<option value=${o}>${o}</option>`)}
    </select>
  </label>`;
}

function Row({ a, top, selected }) {
  const slash = a.key.lastIndexOf('/');
  const toggle = (e) => {
    e.preventDefault();
    e.stopPropagation();
    const keys = new Set(store.selected);
    if (keys.has(a.key)) keys.delete(a.key);
    else keys.add(a.key);
    if (keys.size) selectKeys(keys);
    else clearSelection();
  };
  return html`<a class=${'row' + (selected ? ' row-selected' : '')} style=${`top:${top}px`} href=${assetPath(a.key)}
      data-key=${a.key} data-status=${a.status || 'never'}>
    <span class="c-check" onClick=${toggle} title="Select"><input type="checkbox" checked=${selected} tabindex="-1" /></span>
    <span class="c-status">${statusDot(a.status || 'never')}<span class="status-text">${a.status || 'never'}</span></span>
    <span class="c-key" title=${a.description || a.key}>${slash >= 0 ? html`<span class="key-prefix">${a.key.slice(0, slash + 1)}</span>` : null}<span class="key-name">${a.key.slice(slash + 1)}</span></span>
    <span class="c-checks">${checkBadge(a.checks) || html`<span class="faint">—</span>`}</span>
    <span class="c-group">${a.group || ''}</span>
    <span class="c-kinds">${(a.kinds || []).map((k) => html`<span class="badge">${k}</span>`)}</span>
    <span class="c-latest" title=${a.latest ? when(a.latest.time_us) : ''}>${a.latest ? ago(a.latest.time_us) : html`<span class="faint">—</span>`}</span>
    <span class="c-rows">${a.latest && a.latest.row_count != null ? count(a.latest.row_count) : html`<span class="faint">—</span>`}</span>
    <span class="c-owners">${(a.owners || []).join(', ')}</span>
  </a>`;
}

export function AssetsPage({ query }) {
  const s = useStore(['assets', 'asset', 'selection']);
  const q = query || new URLSearchParams();
  const [f, setF] = useState(() => ({
    q: q.get('q') || '', group: q.get('group') || '', kind: q.get('kind') || '',
    tag: q.get('tag') || '', status: q.get('status') || '', sort: q.get('sort') || 'key', desc: q.get('desc') || '',
  }));
  const set = (k, v) => {
    const next = { ...f, [k]: v };
    setF(next);
    writeQuery(next);
  };
  const scroller = useRef(null);
  const [scroll, setScroll] = useState({ top: 0, height: 600 });
  useEffect(() => {
    const el = scroller.current;
    const measure = () => setScroll({ top: el.scrollTop, height: el.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const assets = s.assets || [];
  const options = useMemo(() => ({
    group: uniq(assets.map((a) => a.group).filter(Boolean)),
    kind: uniq(assets.flatMap((a) => a.kinds || [])),
    tag: uniq(assets.flatMap(tagsOf)),
    status: uniq(assets.map((a) => a.status || 'never')),
  }), [s.assets]);

  const useSel = s.selectionText.trim() && !s.selectionError;
  const rows = useMemo(() => {
    const needle = f.q.trim().toLowerCase();
    const out = assets.filter((a) => (!needle || a.key.toLowerCase().includes(needle) ||
        (a.description || '').toLowerCase().includes(needle)) &&
      (!f.group || a.group === f.group) &&
      (!f.kind || (a.kinds || []).includes(f.kind)) &&
      (!f.tag || tagsOf(a).includes(f.tag)) &&
      (!f.status || (a.status || 'never') === f.status) &&
      (!useSel || s.selected.has(a.key)));
    const col = COLUMNS.find((c) => c.id === f.sort) || COLUMNS[1];
    const dir = f.desc ? -1 : 1;
    const val = col.id === 'status' ? (a) => STATUS_ORDER[a.status || 'never'] ?? 9 : col.get;
    out.sort((x, y) => {
      const a = val(x), b = val(y);
      const c = typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
      return c * dir || x.key.localeCompare(y.key);
    });
    return out;
  }, [s.assets, f, s.selected, useSel, s.assets && s.assets.map((a) => a.status + (a.checks ? a.checks.status : '')).join()]);

  const first = Math.max(0, Math.floor(scroll.top / ROW_H) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scroll.top + scroll.height) / ROW_H) + OVERSCAN);
  const sortBy = (id) => {
    const next = { ...f, sort: id, desc: f.sort === id && !f.desc ? '1' : '' };
    setF(next);
    writeQuery(next);
  };
  const anyFilter = f.q || f.group || f.kind || f.tag || f.status;
  const nSel = s.selected.size;

  return html`<div class="catalog">
    <div class="toolbar catalog-toolbar">
      <input class="search" type="search" placeholder="Search assets" value=${f.q} aria-label="Search assets"
        onInput=${(e) => set('q', e.target.value)} />
      <${Filter} label="Group" value=${f.group} options=${options.group} onChange=${(v) => set('group', v)} />
      <${Filter} label="Kind" value=${f.kind} options=${options.kind} onChange=${(v) => set('kind', v)} />
      <${Filter} label="Tag" value=${f.tag} options=${options.tag} onChange=${(v) => set('tag', v)} />
      <${Filter} label="Status" value=${f.status} options=${options.status} onChange=${(v) => set('status', v)} />
      ${anyFilter ? html`<button class="btn btn-link" onClick=${() => { const n = { ...f, q: '', group: '', kind: '', tag: '', status: '' }; setF(n); writeQuery(n); }}>Clear filters</button>` : null}
      <span class="toolbar-gap"></span>
      <span class="muted small count">${rows.length === assets.length ? `${count(assets.length)} assets` : `${count(rows.length)} of ${count(assets.length)} assets`}${useSel ? ' · in the selection' : ''}</span>
      <button class="btn btn-primary" disabled=${!nSel}
        onClick=${() => materialize({ selection: store.selectionText }, nSel === 1 ? [...store.selected][0] : `${nSel} assets`)}>
        Materialize selected${nSel ? ` (${nSel})` : ''}</button>
    </div>
    <div class="grid-head row">
      <span class="c-check"></span>
      ${COLUMNS.map((c) => html`<span class=${'c-' + c.id + ' sortable' + (f.sort === c.id ? ' sorted' : '')} onClick=${() => sortBy(c.id)}
          role="columnheader" aria-sort=${f.sort === c.id ? (f.desc ? 'descending' : 'ascending') : 'none'}>
        ${c.label}${f.sort === c.id ? (f.desc ? ' ↓' : ' ↑') : ''}</span>`)}
    </div>
    <div class="grid-body" ref=${scroller} onScroll=${(e) => setScroll({ top: e.target.scrollTop, height: e.target.clientHeight })}>
      ${s.assetsError ? html`<div class="panel panel-error"><h2>The assets cannot load</h2><p>${s.assetsError}</p></div>` : null}
      ${!s.assets && !s.assetsError ? html`<div class="rows-skeleton">${Array.from({ length: 8 }, () => html`<div class="sk"></div>`)}</div>` : null}
      ${s.assets && !rows.length ? html`<div class="empty muted">No asset matches${anyFilter ? ' these filters' : ''}${useSel ? ' in the selection' : ''}.</div>` : null}
      <div class="grid-spacer" style=${`height:${rows.length * ROW_H}px`}>
        ${rows.slice(first, last).map((a, j) => html`<${Row} key=${a.key} a=${a} top=${(first + j) * ROW_H} selected=${s.selected.has(a.key)} />`)}
      </div>
    </div>
  </div>`;
}
