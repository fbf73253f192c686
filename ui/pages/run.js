// The run page (#/runs/<id>): a status header with Re-execute (all, or from
// failure) and Cancel; a live Gantt of the steps built from the events'
// step_start / step_success / step_failure times; each failure with its message
// and failing SQL, highlighted; the event log filtered by step, level and a
// search. Live through the run's event stream (GET /api/runs/{id}/events?stream=1),
// or by polling ?after=N every second where the stream is not served.
import { html } from '../lib/html.js';
import { useState, useEffect, useRef, useMemo } from 'preact/hooks';
import { getJSON, postJSON, subscribe, assetPath, runPath } from '../lib/api.js';
import { ago, duration, when, count, statusDot } from '../lib/format.js';
import { ErrorNote, Skeleton, RunStatus, runEnded } from './runs.js';

/* ---- SQL keyword highlighting (vnodes; the text stays text) ---- */

const KEYWORDS = new Set(('select from where group by order having limit offset join left right inner outer ' +
  'full cross on using as and or not in is null like ilike between case when then else end create replace ' +
  'table view insert into values update set delete drop alter add column with union all distinct copy ' +
  'attach detach schema if exists cast try_cast true false asc desc over partition window returning ' +
  'primary key default read_csv read_parquet describe summarize pivot unpivot qualify filter interval').split(' '));
const SQL_TOKEN = /(--[^\n]*)|('(?:[^']|'')*'?)|("(?:[^"]|"")*"?)|(\b\d+(?:\.\d+)?\b)|([A-Za-z_][A-Za-z_0-9]*)/g;

export function highlightSQL(sql) {
  const out = [];
  let last = 0;
  let m;
  SQL_TOKEN.lastIndex = 0;
  while ((m = SQL_TOKEN.exec(sql)) !== null) {
    if (m.index > last) out.push(sql.slice(last, m.index));
    const t = m[0];
    if (m[1]) out.push(html`<span class="sql-com">${t}</span>`);
    else if (m[2]) out.push(html`<span class="sql-str">${t}</span>`);
    else if (m[3]) out.push(html`<span class="sql-id">${t}</span>`);
    else if (m[4]) out.push(html`<span class="sql-num">${t}</span>`);
    else if (KEYWORDS.has(t.toLowerCase())) out.push(html`<span class="sql-kw">${t}</span>`);
    else out.push(t);
    last = m.index + t.length;
  }
  if (last < sql.length) out.push(sql.slice(last));
  return out;
}

/* ---- Steps from events ---- */

const OUTCOME = {
  step_success: 'success', step_failure: 'failure', step_skipped: 'skipped',
  step_canceled: 'canceled', step_retry: 'retry',
};

// [{ key, bars: [{ attempt, start, end, outcome }], status }] in order of first appearance;
// planned steps (run.steps) that have no event yet come last, without bars.
export function stepsOf(events, planned) {
  const byKey = new Map();
  const get = (k) => {
    if (!byKey.has(k)) byKey.set(k, { key: k, bars: [], status: 'pending' });
    return byKey.get(k);
  };
  for (const e of events) {
    if (!e.asset_key) continue;
    const s = get(e.asset_key);
    const open = s.bars.length ? s.bars[s.bars.length - 1] : null;
    if (e.type === 'step_start') {
      s.bars.push({ attempt: e.attempt || s.bars.length + 1, start: e.time_us, end: null, outcome: 'running' });
      s.status = 'running';
    } else if (OUTCOME[e.type]) {
      const outcome = OUTCOME[e.type];
      if (open && open.end === null) {
        open.end = e.time_us;
        open.outcome = outcome;
      } else {
        const start = e.duration_s ? e.time_us - e.duration_s * 1e6 : e.time_us;
        s.bars.push({ attempt: e.attempt || s.bars.length + 1, start, end: e.time_us, outcome });
      }
      s.status = outcome === 'retry' ? 'running' : outcome;
      if (e.type === 'step_failure') s.error = { message: e.message, sql: e.sql, attempt: e.attempt };
    }
  }
  for (const p of planned || []) {
    const s = get(p.key);
    if (s.status === 'pending' && p.status) s.status = p.status;
  }
  return [...byKey.values()];
}

/* ---- The Gantt ---- */

function niceStep(span) {
  const raw = span / 6;
  const p = Math.pow(10, Math.floor(Math.log10(raw || 1)));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

// A tick's time since the start, with as many decimals as the step between ticks needs
// (ticks 0.5 ms apart say 0.5 ms, 1.0 ms, 1.5 ms: never the same twice).
export function offsetLabel(us, step) {
  if (us === 0) return '0';
  if (step !== undefined && step < 1000) return (us / 1000).toFixed(step < 10 ? 3 : step < 100 ? 2 : 1) + ' ms';
  return duration(us / 1e6);
}

export function Gantt({ steps, t0, t1, onPick, picked, refused }) {
  const [tip, setTip] = useState(null);
  if (!steps.length) return html`<div class="pg-empty">${refused ? 'No step ran: the run was refused.' : 'No step has started yet.'}</div>`;
  const span = Math.max(1, t1 - t0);
  const step = niceStep(span);
  const ticks = [];
  for (let t = 0; t <= span; t += step) ticks.push(t);
  const pct = (us) => (Math.max(0, Math.min(span, us - t0)) / span) * 100;
  const show = (ev, s, b) => {
    const g = ev.currentTarget.closest('.gantt');
    const box = g.getBoundingClientRect();
    const x = ev.clientX - box.left;
    setTip({ x: x > box.width - 240 ? x - 232 : x + 12, y: ev.clientY - box.top + g.scrollTop + 12, s, b });
  };
  return html`<div class="gantt" onMouseLeave=${() => setTip(null)}>
    <div class="g-row g-axis"><div class="g-label"></div><div class="g-track">
      ${ticks.map((t) => html`<span class="g-tick" style=${{ left: (t / span) * 100 + '%' }}>${offsetLabel(t, step)}</span>`)}
    </div></div>
    ${steps.map((s) => html`<div class=${'g-row' + (picked === s.key ? ' picked' : '')} data-step=${s.key}>
      <div class="g-label" title=${s.key}>
        <a href=${assetPath(s.key)} class="asset-link">${s.key}</a>
        <button class="g-filter" title="show only this step's events" onClick=${() => onPick(picked === s.key ? '' : s.key)}>⌕</button>
      </div>
      <div class="g-track">
        ${ticks.map((t) => html`<span class="g-grid" style=${{ left: (t / span) * 100 + '%' }}></span>`)}
        ${s.bars.length === 0 ? html`<span class="g-pending">${s.status}</span>` : null}
        ${s.bars.map((b) => {
          const end = b.end === null ? t1 : b.end;
          const left = pct(b.start);
          const width = Math.max(0.4, pct(end) - left);
          const label = left + width < 88 && b.outcome !== 'skipped' && b.outcome !== 'canceled'
            ? html`<span class="g-dur" style=${{ left: left + width + '%' }}>${duration((end - b.start) / 1e6)}</span>` : null;
          return html`<div class=${'g-bar gb-' + b.outcome} data-outcome=${b.outcome}
            style=${{ left: left + '%', width: width + '%' }}
            onMouseMove=${(ev) => show(ev, s, b)} onClick=${() => onPick(s.key)}></div>${label}`;
        })}
      </div>
    </div>`)}
    ${tip ? html`<div class="g-tip" style=${{ left: tip.x + 'px', top: tip.y + 'px' }}>
      <div><strong>${tip.s.key}</strong>${tip.b.attempt > 1 ? ` · attempt ${tip.b.attempt}` : ''}</div>
      <div>${tip.b.outcome}${tip.b.end === null ? ' (still running)' : ''}</div>
      <div class="c-muted">start +${offsetLabel(tip.b.start - t0)} · ${duration(((tip.b.end === null ? t1 : tip.b.end) - tip.b.start) / 1e6)}</div>
    </div>` : null}
  </div>`;
}

/* ---- The event log ---- */

const LEVELS = ['debug', 'info', 'warning', 'error'];

function levelOf(e) {
  if (e.level) return e.level === 'warn' ? 'warning' : e.level;
  if (e.type === 'step_failure') return 'error';
  if (e.type === 'run_end' && e.message) return 'error';
  if (e.type === 'step_retry' || e.type === 'step_skipped' || e.type === 'step_canceled') return 'warning';
  return 'info';
}

function describe(e) {
  const md = e.metadata || {};
  switch (e.type) {
    case 'run_start': return `run started${e.selection ? ': ' + e.selection : ''}${e.partition ? ' [' + e.partition + ']' : ''}`;
    case 'run_end': return e.message || `run ended in ${duration(e.duration_s)}`;
    case 'step_start': return `started${e.attempt > 1 ? ' (attempt ' + e.attempt + ')' : ''}`;
    case 'step_success': return `succeeded in ${duration(e.duration_s)}`;
    case 'materialization': return `materialized${md.row_count !== undefined ? ' ' + count(md.row_count) + ' rows' : ''}` +
      `${md.table ? ' into ' + md.table : md.path ? ' into ' + md.path : ''}`;
    case 'step_failure': return e.message || 'failed';
    case 'check': return `check ${e.check_name || '?'} ${e.status || ''}` +
      (e.status && e.status !== 'passed' ? ` (${e.severity}${e.blocking ? ', blocking' : ''}): ${e.message || ''}` : '');
    default: return e.message || '';
  }
}

function matches(e, q) {
  if (!q) return true;
  const hay = [e.type, e.asset_key, e.message, e.sql, describe(e)].join(' ').toLowerCase();
  return hay.includes(q);
}

const LOG_PAGE = 500;

function EventLog({ events, t0, stepFilter, setStepFilter, stepKeys, level, setLevel, q, setQ }) {
  const [limit, setLimit] = useState(LOG_PAGE);     // rows drawn: a long run stays quick
  const query = q.trim().toLowerCase();
  const minLevel = level === 'all' ? -1 : LEVELS.indexOf(level);
  const shown = events.filter((e) => (!stepFilter || (stepFilter === '(run)' ? !e.asset_key : e.asset_key === stepFilter)) &&
    LEVELS.indexOf(levelOf(e)) >= minLevel && matches(e, query));
  return html`<div class="log">
    <div class="log-tools">
      <label>Step <select value=${stepFilter} onChange=${(ev) => setStepFilter(ev.target.value)} name="step">
        <option value="">all steps</option><option value="(run)">run events</option>
        ${stepKeys.map((k) => html`<option value=${k}>${k}</option>`)}
      </select></label>
      <label>Level <select value=${level} onChange=${(ev) => setLevel(ev.target.value)} name="level">
        <option value="all">all</option>
        ${LEVELS.map((l) => html`<option value=${l}>${l}${l === 'error' ? '' : ' and above'}</option>`)}
      </select></label>
      <input type="search" placeholder="Search the events…" value=${q} onInput=${(ev) => setQ(ev.target.value)} name="search" />
      <span class="c-muted">${shown.length} of ${events.length} events</span>
    </div>
    <div class="scroll-y log-body"><table class="tbl log-tbl">
      <thead><tr><th class="num">Time</th><th>Step</th><th>Event</th><th>Message</th></tr></thead>
      <tbody>${shown.slice(0, limit).map((e) => {
        const lv = levelOf(e);
        return html`<tr key=${e.id} class=${'lv-' + lv} data-type=${e.type}>
          <td class="num mono" title=${when(e.time_us)}>+${duration(Math.max(0, e.time_us - t0) / 1e6)}</td>
          <td class="mono">${e.asset_key ? html`<button class="linkish" title="show only this step's events" onClick=${() => setStepFilter(e.asset_key)}>${e.asset_key}</button>` : html`<span class="c-faint">run</span>`}</td>
          <td><span class=${'etype et-' + e.type}>${e.type}</span>${lv !== 'info' ? html` <span class=${'lvl lvl-' + lv}>${lv}</span>` : null}</td>
          <td class="msg">${describe(e)}${e.sql ? html`<pre class="sql small">${highlightSQL(e.sql)}</pre>` : null}</td>
        </tr>`;
      })}</tbody>
    </table>
    ${shown.length === 0 ? html`<div class="pg-empty">${events.length ? 'No event matches the filters.' : 'No events yet.'}</div>` : null}
    ${shown.length > limit ? html`<div class="log-more"><span class="c-muted">${count(limit)} of ${count(shown.length)} shown</span>
      <button class="btn" onClick=${() => setLimit(limit + LOG_PAGE * 4)}>Show ${count(Math.min(LOG_PAGE * 4, shown.length - limit))} more</button></div>` : null}
    </div>
  </div>`;
}

/* ---- Failures ---- */

function Failures({ run, events }) {
  const [all, setAll] = useState(false);
  if (run.status === 'refused') return null;   // the header's note says why, once
  const items = [];
  for (const e of events) {
    if (e.type === 'step_failure') items.push({ key: e.asset_key, attempt: e.attempt, message: e.message, sql: e.sql });
    if (e.type === 'run_end' && e.message && run.status !== 'success') items.push({ key: null, message: e.message });
  }
  // the run's own message when it only repeats a step's (a crash says it twice)
  const told = new Set(items.filter((f) => f.key).map((f) => (f.message || '').trim()));
  for (let i = items.length - 1; i >= 0; i--) if (!items[i].key && told.has((items[i].message || '').trim())) items.splice(i, 1);
  if (!items.length) {
    for (const s of run.steps || []) {
      if (s.error && (s.status === 'failure' || s.status === 'crashed')) items.push({ key: s.key, attempt: s.attempts, message: s.error, sql: s.sql });
    }
  }
  if (!items.length && run.error) items.push({ key: null, message: run.error });
  if (!items.length) return null;
  return html`<section class="card failures" id="failures">
    <h2>${items.length === 1 ? 'Failure' : `Failures (${items.length})`}</h2>
    ${(all ? items : items.slice(0, 3)).map((f) => html`<div class="failure">
      <div class="f-head">${statusDot('failed')} ${f.key ? html`<a href=${assetPath(f.key)} class="mono">${f.key}</a>` : html`<strong>the run</strong>`}
        ${f.attempt > 1 ? html`<span class="c-muted"> · attempt ${f.attempt}</span>` : null}</div>
      <pre class="f-msg">${f.message || 'failed (no message recorded)'}</pre>
      ${f.sql ? html`<div class="f-sql-label c-muted">Failing SQL</div><pre class="sql">${highlightSQL(f.sql)}</pre>` : null}
    </div>`)}
    ${items.length > 3 && !all ? html`<div class="log-more"><button class="btn" onClick=${() => setAll(true)}>
      Show the ${items.length - 3} other failures</button></div>` : null}
  </section>`;
}

/* ---- Live events ---- */

// The run's events, in order, kept up to date: the SSE stream while the run goes
// on (live); polling ?after=N every second where the stream is not served; once the
// run is known (known) to have ended, one more read. onChange() on each step outcome
// and at the run's end (to refresh the run's counters).
function useRunEvents(runId, live, known, onChange) {
  const [events, setEvents] = useState(null);
  const [error, setError] = useState(null);
  const last = useRef(0);
  const cb = useRef(onChange);
  cb.current = onChange;

  const add = (list) => {
    const fresh = list.filter((e) => e && typeof e.id === 'number' && e.id > last.current);
    if (!fresh.length) return;
    last.current = fresh[fresh.length - 1].id;
    setEvents((cur) => (cur || []).concat(fresh));
    if (fresh.some((e) => e.type !== 'step_start' && e.type !== 'log')) cb.current();
  };

  useEffect(() => {
    last.current = 0;
    setEvents(null);
    setError(null);
    let stop = false;
    getJSON(`/api/runs/${encodeURIComponent(runId)}/events`).then((list) => {
      if (stop) return;
      setEvents([]);
      add(list || []);
    }, (e) => {
      if (!stop) {
        setError(e);
        setEvents([]);
      }
    });
    return () => {
      stop = true;
    };
  }, [runId]);

  useEffect(() => {
    if (!live || events === null) return undefined;
    let timer = null;
    let busy = false;
    const poll = async () => {
      if (busy) return;
      busy = true;
      try {
        add(await getJSON(`/api/runs/${encodeURIComponent(runId)}/events?after=${last.current}`) || []);
        setError(null);
      } catch (e) {
        setError(e);
      } finally {
        busy = false;
      }
    };
    const startPolling = () => {
      if (!timer) timer = setInterval(poll, 1000);
    };
    const close = subscribe(`/api/runs/${encodeURIComponent(runId)}/events?stream=1&after=${last.current}`, {
      types: ['event', 'end'],
      onEvent: (type, data) => {
        if (type === 'event') {
          if (data && typeof data === 'object') add([data]);
        } else {
          close();
          cb.current();
        }
      },
      onError: (e) => {
        if (e.fatal) startPolling();
      },
    });
    return () => {
      close();
      if (timer) clearInterval(timer);
    };
  }, [runId, live, events === null]);

  // Once the run is known to have ended, read the events the first load, the stream or
  // the polls may have missed: the first load can come back while the run still goes,
  // and the run's status only after it has ended, so that the stream never opens (on a
  // loaded machine a page then kept a step running for ever).
  useEffect(() => {
    if (live || !known || events === null) return;
    getJSON(`/api/runs/${encodeURIComponent(runId)}/events?after=${last.current}`)
      .then((list) => add(list || []), () => {});
  }, [live, known, events === null]);

  return { events, error };
}

/* ---- The page ---- */

// The log's filters as the URL has them: #/runs/ID?step=KEY&level=warn&q=text.
function filtersFromHash(runId) {
  const h = location.hash;
  const at = h.indexOf('?');
  const p = new URLSearchParams(at >= 0 ? h.slice(at + 1) : '');
  const level = p.get('level') || 'all';
  return { step: p.get('step') || '', level: level === 'all' || LEVELS.includes(level) ? level : 'all', q: p.get('q') || '' };
}

// Keep the filters in the URL (a link to "this step's events in this run"), without a
// history entry per keystroke.
function filtersToHash(runId, f) {
  const p = new URLSearchParams();
  if (f.step) p.set('step', f.step);
  if (f.level && f.level !== 'all') p.set('level', f.level);
  if (f.q) p.set('q', f.q);
  const qs = p.toString();
  history.replaceState(null, '', runPath(runId) + (qs ? '?' + qs : ''));
}

function Header({ run, onReexecute, onCancel, action }) {
  const refused = run.status === 'refused';
  const ended = runEnded(run.status) && !refused;   // a refused run never ran: nothing to run again
  const failed = ['failure', 'crashed', 'canceled'].includes(run.status);
  const cancellable = ['queued', 'started', 'starting'].includes(run.status);
  const busy = action === 'busy';
  return html`<div class="run-head">
    <div class="rh-title">
      <div class="crumbs"><a href="#/runs">Runs</a> /</div>
      <h1 class="run-id">${run.run_id}</h1>
    </div>
    <div class="rh-line">
      <span class="rh-status" data-status=${run.status}><${RunStatus} status=${run.status} /></span>
      ${run.selection !== undefined ? html`<span><span class="c-muted">selection</span> <code>${run.selection || 'all assets'}</code></span>` : null}
      ${run.partition ? html`<span><span class="c-muted">partition</span> <code>${run.partition}</code></span>` : null}
      ${run.launched_by ? html`<span><span class="c-muted">launched by</span> ${run.launched_by}</span>` : null}
      ${run.start_us ? html`<span title=${when(run.start_us)}><span class="c-muted">${refused ? 'refused' : 'started'}</span> ${ago(run.start_us)}</span>` : null}
      ${run.duration_s !== null && run.duration_s !== undefined ? html`<span><span class="c-muted">took</span> ${duration(run.duration_s)}</span>` : null}
      ${run.n_succeeded !== undefined && !refused ? html`<span class="counts">${[
        html`<span class="c-ok">${run.n_succeeded} ok</span>`,
        run.n_failed ? html`<span class="c-fail">${run.n_failed} failed</span>` : null,
        run.n_skipped ? html`<span class="c-muted">${run.n_skipped} skipped</span>` : null,
        run.n_canceled ? html`<span class="c-muted">${run.n_canceled} canceled</span>` : null,
      ].filter(Boolean)}</span>` : null}
      <span class="rh-actions">
        <button class="btn" disabled=${busy || !ended} onClick=${() => onReexecute(false)}
          title=${refused ? 'a refused run never ran: launch a new one from the lineage or an asset page' : 'run the same selection and partition again'}>Re-execute all</button>
        <button class="btn" disabled=${busy || !failed} onClick=${() => onReexecute(true)}
          title="run again only the steps that failed or did not run">Re-execute from failure</button>
        <button class="btn danger" disabled=${busy || !cancellable} onClick=${onCancel}
          title="stop this run">Cancel</button>
      </span>
    </div>
  </div>`;
}

export function RunPage({ runId }) {
  const [run, setRun] = useState(null);
  const [runError, setRunError] = useState(null);
  const [action, setAction] = useState(null);
  const [filters, setFilters] = useState(() => filtersFromHash(runId));
  const { step: stepFilter, level, q } = filters;
  const setFilter = (name) => (v) => setFilters((f) => {
    const next = { ...f, [name]: v };
    filtersToHash(runId, next);
    return next;
  });
  const setStepFilter = setFilter('step');
  const [now, setNow] = useState(Date.now());
  const pending = useRef(null);

  const loadRun = async () => {
    try {
      setRun(await getJSON(`/api/runs/${encodeURIComponent(runId)}`));
      setRunError(null);
    } catch (e) {
      setRunError(e);
    }
  };
  // At most one refresh of the run a half second, however many events arrive.
  const refresh = () => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      loadRun();
    }, 500);
  };

  useEffect(() => {
    setRun(null);
    setRunError(null);
    setAction(null);
    setFilters(filtersFromHash(runId));
    loadRun();
    return () => {
      if (pending.current) clearTimeout(pending.current);
      pending.current = null;
    };
  }, [runId]);

  const live = !!run && !runEnded(run.status);
  const { events, error: evError } = useRunEvents(runId, live, !!run, refresh);

  // A queued run has no events to wake the page: look again every second.
  useEffect(() => {
    if (!live) return undefined;
    const t = setInterval(() => {
      setNow(Date.now());
      if (run.status === 'queued' || run.status === 'canceling') refresh();
    }, 1000);
    return () => clearInterval(t);
  }, [live, run && run.status]);

  const steps = useMemo(() => stepsOf(events || [], run && run.steps), [events, run]);
  // The log redraws when its events or filter change, not at each tick of a live run.
  const logT0 = run ? run.start_us || (events && events.length ? events[0].time_us : 0) : 0;
  const log = useMemo(() => (events === null ? null : html`<${EventLog} events=${events} t0=${logT0}
    stepFilter=${stepFilter} setStepFilter=${setStepFilter} stepKeys=${steps.map((s) => s.key)}
    level=${level} setLevel=${setFilter('level')} q=${q} setQ=${setFilter('q')} />`),
  [events, logT0, stepFilter, steps, level, q]);

  const reexecute = async (fromFailure) => {
    setAction('busy');
    try {
      const r = await postJSON(`/api/runs/${encodeURIComponent(runId)}/reexecute`, { from_failure: fromFailure });
      location.hash = runPath(r.run_id);
    } catch (e) {
      setAction({ error: e, what: 'Could not re-execute the run' });
    }
  };
  const cancel = async () => {
    setAction('busy');
    try {
      const r = await postJSON(`/api/runs/${encodeURIComponent(runId)}/cancel`, {});
      setAction({ note: `Cancel requested: the run is ${r.status}.` });
      loadRun();
    } catch (e) {
      setAction({ error: e, what: 'Could not cancel the run' });
    }
  };

  if (!run && !runError) return html`<div class="pg pg-run"><h1 class="run-id">${runId}</h1><${Skeleton} lines=${10} /></div>`;
  if (!run) return html`<div class="pg pg-run"><h1 class="run-id">${runId}</h1>
    <${ErrorNote} error=${runError} what="Could not load the run" /></div>`;

  const evs = events || [];
  const first = evs.length ? evs[0].time_us : null;
  const t0 = run.start_us || first || now * 1000;
  const lastT = evs.length ? evs[evs.length - 1].time_us : t0;
  const t1 = live ? Math.max(now * 1000, lastT) : (run.end_us || lastT);
  return html`<div class="pg pg-run">
    <${Header} run=${run} onReexecute=${reexecute} onCancel=${cancel} action=${action} />
    ${action && action.error ? html`<${ErrorNote} error=${action.error} what=${action.what} />` : null}
    ${action && action.note && !runEnded(run.status) ? html`<div class="pg-note" role="status">${action.note}</div>` : null}
    ${runError ? html`<${ErrorNote} error=${runError} what="Could not refresh the run" />` : null}
    ${run.status === 'refused' ? html`<${ErrorNote} error=${run.error || 'refused'} what="The run was refused" />` : null}
    <section class="card" id="timeline">
      <h2>Timeline<span class="h-extra">${steps.length} step${steps.length === 1 ? "" : "s"} · ${duration((t1 - t0) / 1e6)}${live ? ' · live' : ''}</span></h2>
      ${events === null ? html`<${Skeleton} lines=${4} />`
        : html`<${Gantt} steps=${steps} t0=${t0} t1=${t1} picked=${stepFilter} onPick=${setStepFilter} refused=${run.status === 'refused'} />`}
    </section>
    ${events !== null ? html`<${Failures} run=${run} events=${evs} />` : null}
    <section class="card" id="events">
      <h2>Events</h2>
      <${ErrorNote} error=${evError} what="Could not read the run's events" />
      ${events === null ? html`<${Skeleton} lines=${6} />`
        : log}
    </section>
  </div>`;
}
