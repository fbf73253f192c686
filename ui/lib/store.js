// The state the shell and the pages share: the assets (GET /api/assets), the
// definitions' state (GET /api/defs), the selection (its text, the selected keys as
// the server evaluates it: GET /api/select), and the live stream (GET /api/events,
// Server-Sent Events). Where the server has no /api/events, it polls /api/assets and
// /api/runs every 2 s instead and reports the same events. Listeners get (type, data): 'assets', 'asset', 'run', 'defs',
// 'selection', 'live'.
import { useEffect, useState } from 'preact/hooks';
import { getJSON, subscribe } from './api.js';

export const store = {
  assets: null,         // the list, or null while loading
  assetsError: null,    // the API's message when it failed
  byKey: new Map(),     // key -> asset
  defs: null,           // GET /api/defs, or null when the server has none
  selectionText: '',
  selectionError: null, // { message, column (from 1, or null), text }: why it does not parse
  selected: new Set(),  // keys
  live: 'connecting',   // 'live' (SSE), 'polling', 'connecting', 'offline' (the server cannot be reached)
  runs: new Map(),      // run_id -> the latest row seen
};

const listeners = new Set();

export function on(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(type, data) {
  for (const fn of [...listeners]) {
    try {
      fn(type, data);
    } catch (e) {
      console.error(e);
    }
  }
}

// Re-render the calling component on the store's events (all, or those in types).
export function useStore(types) {
  const [, setTick] = useState(0);
  useEffect(() => on((type) => {
    if (!types || types.includes(type)) setTick((t) => t + 1);
  }), []);
  return store;
}

export function setAssets(list) {
  store.assets = list;
  store.byKey = new Map(list.map((a) => [a.key, a]));
  store.assetsError = null;
  emit('assets', list);
  // again: stale() and the indices may have changed with the assets
  if (store.selectionText.trim()) applySelection(store.selectionText);
}

export async function loadAssets() {
  try {
    setAssets(await getJSON('/api/assets'));
  } catch (e) {
    store.assetsError = e.message;
    emit('assets', null);
  }
}

export async function loadDefs() {
  try {
    store.defs = await getJSON('/api/defs');
  } catch (e) {
    store.defs = e.status === 404 ? null : { error: { message: e.message } };
  }
  emit('defs', store.defs);
}

// The selection text naming exactly these keys: "a, b, \"odd key\"".
export function keysSelection(keys) {
  return keys.map((k) => (/^[A-Za-z0-9_\/.\-]+$/.test(k) && !/^\d+$/.test(k) ? k : JSON.stringify(k))).join(', ');
}

// Set the selection from its text, as the server evaluates it (GET /api/select: the
// indices of the assets, in the order of GET /api/assets). Resolves when the answer
// (the latest asked for; an older one is dropped) is in the store.
let selectionAsked = 0;

export async function applySelection(text) {
  const asked = ++selectionAsked;
  store.selectionText = text;
  if (!text.trim()) {
    store.selectionError = null;
    store.selected = new Set();
    emit('selection', store.selected);
    return;
  }
  let keys = null;
  let error = null;
  try {
    const r = await getJSON('/api/select?selection=' + encodeURIComponent(text));
    const list = store.assets || [];
    keys = new Set(r.indices.filter((i) => i < list.length).map((i) => list[i].key));
  } catch (e) {
    error = { message: e.message, column: (e.body && e.body.column) || null, text };
  }
  if (asked !== selectionAsked) return;
  store.selectionError = error;
  store.selected = keys || new Set();
  emit('selection', store.selected);
}

// Select exactly these keys (a click on the graph), the text naming them.
export function selectKeys(keys) {
  const list = [...keys];
  selectionAsked++;      // an answer still on its way is for an older text
  store.selected = new Set(list);
  store.selectionText = keysSelection(list);
  store.selectionError = null;
  emit('selection', store.selected);
}

// Ask the page to bring the selection on screen (Enter in the selection box).
export function focusSelection() {
  emit('focus', store.selected);
}

export function clearSelection() {
  return applySelection('');
}

function assetEvent(data) {
  const a = store.byKey.get(data.key);
  if (!a || a.status === data.status) return;
  a.status = data.status;
  emit('asset', data);
}

const isEnded = (status) => !['queued', 'started'].includes(status);

function runEvent(row) {
  const before = store.runs.get(row.run_id);
  // a row that has ended is never written back as queued or started (an older answer)
  if (before && isEnded(before.status) && !isEnded(row.status)) return;
  store.runs.set(row.run_id, row);
  emit('run', row);
  if (isEnded(row.status) && (!before || !isEnded(before.status))) loadAssets();
}

// Polling, for a server without /api/events: the same events from diffs.
let pollTimer = null;

async function pollOnce() {
  try {
    const [assets, runs] = await Promise.all([getJSON('/api/assets'), getJSON('/api/runs?limit=20')]);
    for (const a of assets) assetEvent({ key: a.key, status: a.status });
    for (const r of runs.slice().reverse()) {
      const before = store.runs.get(r.run_id);
      if (!before || JSON.stringify(before) !== JSON.stringify(r)) runEvent(r);
    }
  } catch (e) {
    /* the next poll tries again */
  }
}

function startPolling() {
  if (pollTimer) return;
  store.live = 'polling';
  emit('live', store.live);
  getJSON('/api/runs?limit=20').then((runs) => {
    for (const r of runs) store.runs.set(r.run_id, r);
  }).catch(() => {}).finally(() => {
    pollTimer = setInterval(pollOnce, 2000);
  });
}

function setLive(state) {
  if (store.live === state) return;
  store.live = state;
  emit('live', state);
}

// Follow the live stream; fall back to polling when the server has none. A stream that
// breaks reconnects by itself: 'connecting' while it tries, 'offline' once a try finds
// no server (the page says so in words), 'live' again once it is back (and the assets
// are read again, for what was missed).
export function startLive() {
  let opened = false;
  const close = subscribe('/api/events', {
    onEvent(type, data) {
      setLive('live');
      if (type === 'asset') assetEvent(data);
      else if (type === 'run') runEvent(data);
      else if (type === 'defs') {
        loadDefs();
        loadAssets();
      }
    },
    onOpen() {
      if (opened) {   // reconnected: catch up on what was missed
        loadAssets();
        loadDefs();
      }
      opened = true;
      setLive('live');
    },
    onError(e) {
      if (e.fatal) {   // no such endpoint
        close();
        startPolling();
      } else if (store.live !== 'polling') {
        setLive(e.status === 0 && !e.ended ? 'offline' : 'connecting');
      }
    },
  });
}

// Notify the listeners of a run this page launched (the toast; the runs it follows):
// the row its POST answered, unless the live stream has already told more; then the
// run as the server has it now (an event may have come before anyone listened).
export function launched(row) {
  runEvent(row);
  if (isEnded(row.status)) return;
  getJSON('/api/runs/' + encodeURIComponent(row.run_id)).then((r) => {
    if (r && r.run_id) runEvent({ ...row, ...r });
  }, () => {});
}

// The latest row seen of a run, or undefined.
export function runRow(id) {
  return store.runs.get(id);
}
