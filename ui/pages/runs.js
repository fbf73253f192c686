// The runs list (#/runs): status, selection, partition, launched by, start and
// duration of each run, newest first; filtered by status, paged, and live: a
// `run` event of /api/events updates its row (polling when the stream is not
// there). Also the small pieces the other pages of this folder share.
import { html } from '../lib/html.js';
import { useState, useEffect, useRef } from 'preact/hooks';
import { getJSON, subscribe, runPath } from '../lib/api.js';
import { ago, duration, when, statusDot } from '../lib/format.js';

const PAGE = 50;
const FILTERS = ['all', 'queued', 'started', 'success', 'failure', 'canceled', 'crashed'];
const ENDED = ['success', 'failure', 'canceled', 'crashed', 'refused'];

// True once a run with this status can change no more.
export function runEnded(status) {
  return ENDED.includes(status);
}

// An API error in words, where the content would be.
export function ErrorNote({ error, what }) {
  if (!error) return null;
  const msg = error.message || String(error);
  return html`<div class="pg-error" role="alert">
    <strong>${what || 'The server answered with an error'}:</strong> ${msg}
  </div>`;
}

// Grey placeholder lines shown while a page loads (never a bare spinner).
export function Skeleton({ lines = 6 }) {
  const rows = [];
  for (let i = 0; i < lines; i++)
    rows.push(html`<div class="skel" style=${{ width: 40 + ((i * 37) % 55) + '%' }}></div>`);
  return html`<div class="skel-block" aria-busy="true">${rows}</div>`;
}

// The first 8 characters of a run id, the rest on hover.
export function RunLink({ id }) {
  if (!id) return null;
  return html`<a class="mono run-link" href=${runPath(id)} title=${id}>${id.slice(0, 8)}</a>`;
}

// A run's status as a dot and its word.
export function RunStatus({ status }) {
  return html`<span class=${'run-status rs-' + status}>${statusDot(status)} ${status}</span>`;
}

// Live updates of /api/events: onEvent(type, data) for each event; when the
// stream is missing or breaks for good, poll() every `every` milliseconds instead.
// Returns nothing; stops with the component.
export function useLive(onEvent, poll, every, deps) {
  const cb = useRef({ onEvent, poll });
  cb.current = { onEvent, poll };
  useEffect(() => {
    let timer = null;
    let close = null;
    const startPolling = () => {
      if (timer || !cb.current.poll) return;
      timer = setInterval(() => cb.current.poll(), every);
    };
    try {
      close = subscribe('/api/events', {
        onEvent: (type, data) => cb.current.onEvent && cb.current.onEvent(type, data),
        onOpen: () => cb.current.poll && cb.current.poll(),   // (re)connected: what was missed
        onError: (e) => {
          if (e.fatal) startPolling();
        },
      });
    } catch (e) {
      startPolling();
    }
    return () => {
      if (close) close();
      if (timer) clearInterval(timer);
    };
  }, deps || []);
}

function statusFromHash() {
  const m = /[?&]status=([a-z]+)/.exec(location.hash);
  return m && FILTERS.includes(m[1]) ? m[1] : 'all';
}

function runsQuery(filter, page) {
  let q = `/api/runs?limit=${PAGE + 1}&offset=${page * PAGE}`;
  if (filter !== 'all') q += `&status=${filter}`;
  return q;
}

function RunRow({ run, now }) {
  const running = !runEnded(run.status) && run.start_us;
  const secs = running ? (now * 1000 - run.start_us) / 1e6 : run.duration_s;
  const counts = [];
  if (run.n_succeeded) counts.push(html`<span class="c-ok">${run.n_succeeded} ok</span>`);
  if (run.n_failed) counts.push(html`<span class="c-fail">${run.n_failed} failed</span>`);
  if (run.n_skipped) counts.push(html`<span class="c-muted">${run.n_skipped} skipped</span>`);
  if (run.n_canceled) counts.push(html`<span class="c-muted">${run.n_canceled} canceled</span>`);
  const open = (ev) => {
    if (!ev.target.closest('a, button')) location.hash = runPath(run.run_id);
  };
  return html`<tr data-run=${run.run_id} class="clickable" onClick=${open}>
    <td><${RunStatus} status=${run.status} /></td>
    <td><${RunLink} id=${run.run_id} /></td>
    <td class="sel mono" title=${run.selection || '*'}>${run.selection || html`<span class="c-muted">all assets</span>`}</td>
    <td class="mono">${run.partition || ''}</td>
    <td>${run.launched_by || ''}</td>
    <td title=${when(run.start_us)}>${run.start_us ? ago(run.start_us, now) : ''}</td>
    <td class="num">${secs !== null && secs !== undefined ? duration(secs) : ''}</td>
    <td class="counts">${counts}</td>
  </tr>`;
}

export function RunsPage() {
  const [filter, setFilter] = useState(statusFromHash());
  const [page, setPage] = useState(0);
  const [runs, setRuns] = useState(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState(null);
  const [now, setNow] = useState(Date.now());
  const seq = useRef(0);

  const load = async () => {
    const mine = ++seq.current;
    try {
      const list = await getJSON(runsQuery(filter, page));
      if (mine !== seq.current) return;
      setMore(list.length > PAGE);
      setRuns(list.slice(0, PAGE));
      setError(null);
    } catch (e) {
      if (mine === seq.current) setError(e);
    }
  };

  useEffect(() => {
    load();
  }, [filter, page]);

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

  useLive((type, run) => {
    if (type !== 'run' || !run || !run.run_id) return;
    setRuns((list) => {
      if (!list) return list;
      const i = list.findIndex((r) => r.run_id === run.run_id);
      const fits = filter === 'all' || run.status === filter;
      if (i >= 0) {
        const next = list.slice();
        if (fits) next[i] = { ...list[i], ...run };
        else next.splice(i, 1);
        return next;
      }
      if (fits && page === 0) return [run, ...list].slice(0, PAGE);
      return list;
    });
  }, load, 2000, [filter, page]);

  const choose = (f) => {
    setFilter(f);
    setPage(0);
    const base = location.hash.split('?')[0] || '#/runs';
    history.replaceState(null, '', f === 'all' ? base : `${base}?status=${f}`);
  };

  return html`<div class="pg pg-runs">
    <div class="pg-head">
      <h1>Runs</h1>
      <div class="seg" role="tablist" aria-label="filter by status">
        ${FILTERS.map((f) => html`<button role="tab" aria-selected=${f === filter}
            class=${f === filter ? 'on' : ''} onClick=${() => choose(f)}>
            ${f === 'all' ? 'All' : html`${statusDot(f)} ${f}`}</button>`)}
      </div>
    </div>
    <${ErrorNote} error=${error} what="Could not list the runs" />
    ${runs === null && !error ? html`<${Skeleton} lines=${8} />` : null}
    ${runs !== null ? html`<table class="tbl runs-tbl">
      <thead><tr><th>Status</th><th>Run</th><th>Selection</th><th>Partition</th>
        <th>Launched by</th><th>Started</th><th class="num">Duration</th><th>Steps</th></tr></thead>
      <tbody>${runs.map((r) => html`<${RunRow} key=${r.run_id} run=${r} now=${now} />`)}</tbody>
    </table>
    ${runs.length === 0 ? html`<div class="pg-empty">${filter === 'all'
      ? 'No runs yet: materialize an asset from the lineage graph or an asset page.'
      : `No ${filter} runs.`}</div>` : null}
    ${page === 0 && !more ? null : html`<div class="pager">
      <button disabled=${page === 0} onClick=${() => setPage(page - 1)}>← Newer</button>
      <span class="c-muted">page ${page + 1}</span>
      <button disabled=${!more} onClick=${() => setPage(page + 1)}>Older →</button>
    </div>`}` : null}
  </div>`;
}
