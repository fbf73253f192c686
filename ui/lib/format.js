// Small formatters shared by the pages.
import { html } from './html.js';

// "12 s ago", "3 min ago", "5 h ago", "2 d ago"; "never" for null.
export function ago(time_us, now_ms) {
  if (time_us === null || time_us === undefined) return 'never';
  const now = now_ms === undefined ? Date.now() : now_ms;
  const s = Math.max(0, Math.round((now - time_us / 1000) / 1000));
  if (s < 45) return s + ' s ago';
  const m = Math.round(s / 60);
  if (m < 60) return m + ' min ago';
  const hr = Math.round(s / 3600);
  if (hr < 36) return hr + ' h ago';
  return Math.round(s / 86400) + ' d ago';
}

// "850 ms", "4.2 s", "3 min 05 s", "2 h 04 min"; "" for null.
export function duration(seconds) {
  if (seconds === null || seconds === undefined || isNaN(seconds)) return '';
  if (seconds < 1) return Math.round(seconds * 1000) + ' ms';
  if (seconds < 60) return (seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)) + ' s';
  const m = Math.floor(seconds / 60);
  if (m < 60) return m + ' min ' + String(Math.round(seconds % 60)).padStart(2, '0') + ' s';
  const h = Math.floor(m / 60);
  return h + ' h ' + String(m % 60).padStart(2, '0') + ' min';
}

function pad(n) {
  return String(n).padStart(2, '0');
}

// Local time "2026-12-06 14:03:09"; "" for null.
export function when(time_us) {
  if (time_us === null || time_us === undefined) return '';
  const d = new Date(time_us / 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// "1,234,567"; "" for null.
export function count(n) {
  if (n === null || n === undefined) return '';
  return Number(n).toLocaleString('en-US');
}

// Each status has a colour and a shape (colour-blind safe):
// fresh ● filled circle, stale ◆ diamond, failed ✕ cross, running ◌ pulsing ring,
// never ○ hollow circle, queued ◔ half circle, external □ hollow square.
export const STATUSES = ['fresh', 'stale', 'failed', 'running', 'never', 'queued', 'external'];

export function statusClass(status) {
  const s = String(status || 'never').toLowerCase();
  if (s === 'success' || s === 'materialized' || s === 'ok') return 'fresh';
  if (s === 'failure' || s === 'error' || s === 'crashed' || s === 'refused') return 'failed';
  if (s === 'canceled' || s === 'cancelled' || s === 'skipped') return 'never';
  if (s === 'started' || s === 'canceling' || s === 'starting') return 'running';
  if (s === 'missing') return 'never';
  return STATUSES.includes(s) ? s : 'never';
}

// A status dot: <span class="dot dot-fresh" title="fresh"></span>.
export function statusDot(status) {
  const s = String(status || 'never');
  return html`<span class=${'dot dot-' + statusClass(s)} title=${s} aria-label=${s}></span>`;
}

// An asset's checks at a glance: a mark and a colour each (colour-blind safe):
// passed ✓, warned !, failed ✗, errored ✗, unknown ? (never ran).
export const CHECK_MARKS = { passed: '\u2713', warned: '!', failed: '\u2717', errored: '\u2717', unknown: '?' };

// checks: the "checks" of /api/assets ({defined, passed, ..., status}), or null.
export function checkBadge(checks) {
  if (!checks) return null;
  const st = checks.status || 'unknown';
  const label = checksLabel(checks);
  const bad = checks.failed + checks.errored;
  const n = bad || checks.warned || (st === 'unknown' ? checks.unknown : checks.defined);
  return html`<span class=${'chk chk-' + st} title=${label} aria-label=${label} data-checks=${st}>${CHECK_MARKS[st] || '?'}<span class="chk-n">${n}</span></span>`;
}

// "1 of 3 checks failing", "2 checks passed", ...
export function checksLabel(checks) {
  const bad = checks.failed + checks.errored;
  return bad ? `${bad} of ${checks.defined} checks failing`
    : checks.warned ? `${checks.warned} of ${checks.defined} checks warned`
    : checks.unknown ? `${checks.unknown} of ${checks.defined} checks never ran`
    : `${checks.defined} ${checks.defined === 1 ? 'check' : 'checks'} passed`;
}
