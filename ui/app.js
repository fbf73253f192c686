// The shell of Eider's UI: the hash router, the top bar (pages, the selection box,
// the live state), the keyboard (/ focuses the selection, g l / g a / g r go to a
// page, Esc clears), the definitions-error panel and the toasts.
import { html, render } from './lib/html.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import { postJSON, getJSON, needsSignIn, setToken, onAuth } from './lib/api.js';
import {
  store, useStore, loadAssets, loadDefs, startLive, applySelection, clearSelection, focusSelection,
} from './lib/store.js';
import { onToasts, dismiss, toast } from './lib/toast.js';
import { LineagePage } from './pages/lineage.js';
import { AssetsPage } from './pages/assets.js';

// "#/assets/iris/iris_setosa?x=1" -> { page: 'asset', arg: 'iris/iris_setosa', query }
export function parseRoute(hash) {
  let path = (hash || '').replace(/^#/, '') || '/';
  let query = new URLSearchParams();
  const q = path.indexOf('?');
  if (q >= 0) {
    query = new URLSearchParams(path.slice(q + 1));
    path = path.slice(0, q);
  }
  const dec = (s) => {
    try {
      return decodeURIComponent(s);
    } catch (e) {
      return s;
    }
  };
  if (path === '/' || path === '') return { page: 'lineage', query };
  if (path === '/assets' || path === '/assets/') return { page: 'assets', query };
  if (path.startsWith('/assets/')) return { page: 'asset', arg: dec(path.slice(8)), query };
  if (path === '/runs' || path === '/runs/') return { page: 'runs', query };
  if (path.startsWith('/runs/')) return { page: 'run', arg: dec(path.slice(6)), query };
  return { page: 'unknown', arg: path, query };
}

function useRoute() {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const f = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  return route;
}

// A page (asset, runs, run) loaded when first shown, so that the
// shell works even when one of them fails to load.
const loaded = {};
function Lazy({ mod, name, props }) {
  const [C, setC] = useState(() => (loaded[mod] ? loaded[mod][name] : null));
  const [err, setErr] = useState(null);
  useEffect(() => {
    if (C) return;
    import(mod).then((m) => {
      loaded[mod] = m;
      if (m[name]) setC(() => m[name]);
      else setErr(`${mod} has no ${name}`);
    }).catch((e) => setErr(e.message));
  }, [mod]);
  if (err) return html`<div class="panel panel-error"><h2>This page cannot load</h2><p>${err}</p></div>`;
  if (!C) return html`<div class="skeleton-page"><div class="sk sk-title"></div><div class="sk"></div><div class="sk"></div></div>`;
  return html`<${C} ...${props} />`;
}

function NavLink({ href, active, children, hint }) {
  return html`<a href=${href} class=${active ? 'nav-link active' : 'nav-link'} title=${hint}>${children}</a>`;
}

// Why the selection does not parse, under the box: the server's message and the
// text with a caret under the column it points at (counted in characters).
function SelectionError({ error }) {
  const line = error.message.split('\n')[0];
  const prefix = `bad selection '${error.text}' `;
  const chars = Array.from(error.text.replace(/\s/g, ' '));
  return html`<div class="selbox-msg" role="alert">
    ${error.column ? html`<pre class="selbox-where">${chars.join('') + '\n'}<span class="selbox-caret">${' '.repeat(Math.min(error.column, chars.length + 1) - 1)}^</span></pre>` : null}
    <div>${line.startsWith(prefix) ? line.slice(prefix.length) : line}</div>
  </div>`;
}

// The selection box: its text goes to the server (GET /api/select) 120 ms after the
// last keystroke, or at once on Enter.
function SelectionBox() {
  const s = useStore(['selection', 'assets']);
  const [text, setText] = useState(s.selectionText);
  const timer = useRef(null);
  const input = useRef(null);
  useEffect(() => setText(s.selectionText), [s.selectionText]);
  const onInput = (e) => {
    const v = e.target.value;
    setText(v);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => applySelection(v), 120);
  };
  const onKey = (e) => {
    if (e.key === 'Escape') {
      clearTimeout(timer.current);
      clearSelection();
      e.target.blur();
    } else if (e.key === 'Enter') {
      clearTimeout(timer.current);
      applySelection(text).then(focusSelection);
    }
  };
  const n = s.selected.size;
  const error = s.selectionError && s.selectionError.text === text ? s.selectionError : null;
  return html`
    <div class=${'selbox' + (error ? ' selbox-error' : '')}>
      <svg class="selbox-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
        <circle cx="7" cy="7" r="4.5" fill="none" stroke="currentColor" stroke-width="1.6"/>
        <path d="M10.5 10.5 14 14" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/>
      </svg>
      <input id="selection" ref=${input} value=${text} onInput=${onInput} onKeyDown=${onKey}
        spellcheck="false" autocomplete="off" aria-label="Asset selection"
        placeholder=${placeholderOf(s.assets)} />
      ${text && !s.selectionError ? html`<span class="selbox-count">${n} selected</span>` : null}
      ${text ? html`<button class="selbox-clear" title="Clear (Esc)" onClick=${() => clearSelection()}>×</button>` : html`<kbd>/</kbd>`}
      ${error ? html`<${SelectionError} error=${error} />` : null}
    </div>`;
}

function LiveState() {
  const s = useStore(['live']);
  const title = s.live === 'live' ? 'Live updates from the server (Server-Sent Events)'
    : s.live === 'polling' ? 'The server has no live stream: polling every 2 s'
      : s.live === 'offline' ? 'The eider dev server cannot be reached: trying again' : 'Connecting…';
  return html`<span class=${'live live-' + s.live} title=${title}><span class="live-dot"></span>${s.live}</span>`;
}

// The server cannot be reached (stopped, or restarting): said in words under the bar.
function OfflineBanner() {
  const s = useStore(['live']);
  if (s.live !== 'offline') return null;
  return html`<div class="banner banner-error" role="alert">Cannot reach the eider dev server: it has stopped
    or is restarting. What this page shows may be out of date; it reconnects by itself once the server is back.</div>`;
}

// A selection to suggest in the box's placeholder, from this project's assets: an asset
// with upstream assets ("+key"), and a group.
function placeholderOf(assets) {
  if (!assets || !assets.length) return 'Select assets: +key, group:name, kind:duckdb, stale()';
  const plain = (k) => /^[A-Za-z0-9_\/.\-]+$/.test(k) && !/^\d+$/.test(k);
  const withDeps = assets.find((a) => (a.deps || []).length && plain(a.key)) || assets.find((a) => plain(a.key));
  const group = (assets.find((a) => a.group && plain(a.group)) || {}).group;
  const kind = (assets.find((a) => (a.kinds || []).length) || { kinds: ['duckdb'] }).kinds[0];
  const parts = [withDeps ? '+' + withDeps.key : '+key', group ? 'group:' + group : null,
    plain(kind) ? 'kind:' + kind : null, 'stale()'].filter(Boolean);
  return 'Select assets: ' + parts.join(', ');
}

function TopBar({ route }) {
  const p = route.page;
  return html`
    <header class="topbar">
      <a class="brand" href="#/" title="Eider">
        <svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true">
          <path d="M3 13c2-6 8-9 14-7-3 1-5 3-6 6 2-1 4-1 6 0-4 3-10 4-14 1z" fill="currentColor"/>
        </svg>
        <span>Eider</span>
      </a>
      <nav>
        <${NavLink} href="#/" active=${p === 'lineage'} hint="Lineage (g l)">Lineage<//>
        <${NavLink} href="#/assets" active=${p === 'assets' || p === 'asset'} hint="Assets (g a)">Assets<//>
        <${NavLink} href="#/runs" active=${p === 'runs' || p === 'run'} hint="Runs (g r)">Runs<//>
      </nav>
      <${SelectionBox} />
      <div class="topbar-right"><${LiveState} /></div>
    </header>`;
}

// The definitions failed to load or reload: say where, and offer a reload.
export function DefsErrorPanel({ error }) {
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState(null);
  const reload = async () => {
    setBusy(true);
    setMsg(null);
    try {
      await postJSON('/api/reload', {});
      toast('Definitions reloaded');
      loadDefs();
      loadAssets();
    } catch (e) {
      setMsg(e.message);
    } finally {
      setBusy(false);
    }
  };
  const where = error.file ? `${error.file}${error.line ? ':' + error.line : ''}` : null;
  return html`
    <div class="defs-error" role="alert">
      <h2>The definitions do not load</h2>
      <p class="muted">Eider keeps serving the last definitions that loaded. Fix the error and save the file
        (the server reloads by itself), or reload now.</p>
      ${where ? html`<div class="defs-where mono">${where}</div>` : null}
      <pre class="defs-message">${error.message || String(error)}</pre>
      ${msg ? html`<p class="error-text">${msg}</p>` : null}
      <button class="btn btn-primary" disabled=${busy} onClick=${reload}>${busy ? 'Reloading…' : 'Reload definitions'}</button>
    </div>`;
}

function Toasts() {
  const [list, setList] = useState([]);
  useEffect(() => onToasts(setList), []);
  return html`<div class="toasts" aria-live="polite">
    ${list.map((t) => html`<div class=${'toast toast-' + t.kind} key=${t.id}>
      <span>${t.text}</span>
      ${t.href ? html`<a href=${t.href} onClick=${() => dismiss(t.id)}>${t.linkText || 'Open'}</a>` : null}
      <button class="toast-x" title="Dismiss" onClick=${() => dismiss(t.id)}>×</button>
    </div>`)}
  </div>`;
}

function Page({ route }) {
  const s = useStore(['defs']);
  const defsError = s.defs && s.defs.error;
  switch (route.page) {
    case 'lineage':
      return defsError ? html`<${DefsErrorPanel} error=${defsError} />` : html`<${LineagePage} query=${route.query} />`;
    case 'assets':
      return html`<${AssetsPage} query=${route.query} />`;
    case 'asset':
      return html`<${Lazy} key="asset" mod="./pages/asset.js" name="AssetPage" props=${{ assetKey: route.arg }} />`;
    case 'runs':
      return html`<${Lazy} key="runs" mod="./pages/runs.js" name="RunsPage" props=${{}} />`;
    case 'run':
      return html`<${Lazy} key="run" mod="./pages/run.js" name="RunPage" props=${{ runId: route.arg }} />`;
    default:
      return html`<div class="panel"><h2>No such page</h2><p>'${route.arg}' is not a page of Eider's UI. <a href="#/">Go to the lineage</a>.</p></div>`;
  }
}

function DefsBanner({ route }) {
  const s = useStore(['defs']);
  if (!s.defs || !s.defs.error || route.page === 'lineage') return null;
  return html`<div class="banner banner-error">The definitions do not load: ${s.defs.error.message}
    <a href="#/">Details</a></div>`;
}

// g then l / a / r within a second goes to that page; / focuses the selection; Esc clears it.
function useKeyboard() {
  useEffect(() => {
    let g = 0;
    const f = (e) => {
      const t = e.target;
      const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 'Escape') {
        if (typing) t.blur();
        clearSelection();
        return;
      }
      if (typing) return;
      if (e.key === '/') {
        e.preventDefault();
        const box = document.getElementById('selection');
        if (box) {
          box.focus();
          box.select();
        }
      } else if (e.key === 'g') {
        g = Date.now();
      } else if (Date.now() - g < 1000 && 'lar'.includes(e.key)) {
        location.hash = { l: '#/', a: '#/assets', r: '#/runs' }[e.key];
        g = 0;
      }
    };
    document.addEventListener('keydown', f);
    return () => document.removeEventListener('keydown', f);
  }, []);
}

// The server asks for its token (its page carries none: it listens beyond loopback):
// the user pastes it; it is kept for this tab (sessionStorage) and sent on every request.
function SignIn({ message, onDone }) {
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(message || null);
  const submit = async (e) => {
    e.preventDefault();
    const t = value.trim();
    if (!t) return;
    setBusy(true);
    setError(null);
    setToken(t);
    try {
      await getJSON('/api/defs');
      onDone();
    } catch (err) {
      if (err.status === 403) setToken('');
      setError(err.status === 403 ? `The server refused this token (it says: ${err.message})` : err.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="signin-wrap"><form class="panel signin" onSubmit=${submit}>
    <h2>Sign in to Eider</h2>
    <p>This server asks for its token: paste the token given to <code>eider dev</code> with <code>--auth-token</code>.</p>
    <label class="signin-label">Token
      <input id="token" type="password" autocomplete="current-password" spellcheck="false" value=${value}
        onInput=${(e) => setValue(e.target.value)} autofocus /></label>
    ${error ? html`<p class="error-text" role="alert">${error}</p>` : null}
    <button class="btn btn-primary" type="submit" disabled=${busy || !value.trim()}>${busy ? 'Checking…' : 'Sign in'}</button>
    <p class="muted small">The token stays in this tab only (it is forgotten when the tab closes).</p>
  </form></div>`;
}

// What the page reads once it may talk to the server.
let started = false;
function start() {
  if (started) {
    loadAssets();
    loadDefs();
    return;
  }
  started = true;
  // The live stream starts once the assets are known, so that no event finds them missing.
  loadAssets().then(startLive);
  loadDefs();
}

function App() {
  const route = useRoute();
  const [auth, setAuth] = useState(() => (needsSignIn() ? { message: null } : null));
  useKeyboard();
  useEffect(() => {
    const titles = { lineage: 'Lineage', assets: 'Assets', asset: route.arg, runs: 'Runs', run: 'Run ' + route.arg };
    document.title = (titles[route.page] ? titles[route.page] + ' · ' : '') + 'Eider';
  }, [route.page, route.arg]);
  useEffect(() => {
    if (!auth) start();
    return onAuth((message) => setAuth({ message }));
  }, []);
  if (auth) {
    return html`<${SignIn} message=${auth.message} onDone=${() => { setAuth(null); start(); }} />`;
  }
  return html`
    <${TopBar} route=${route} />
    <${OfflineBanner} />
    <${DefsBanner} route=${route} />
    <main class=${'page page-' + route.page}><${Page} route=${route} /></main>
    <${Toasts} />`;
}

render(html`<${App} />`, document.getElementById('app'));
