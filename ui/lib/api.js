// The JSON API of `eider dev` (docs/api.md). Errors become Error objects
// whose message is the server's {"error"} text, so a page can show it in words.
//
// The token: the page carries it in <meta name="eider-token"> when the server listens
// on a loopback address. Elsewhere the meta is empty and the user signs in (the panel in
// app.js): the token pasted is kept in sessionStorage. Every API request sends it
// (X-Eider-Token), the live streams included, which is why they are read with fetch()
// and a stream reader rather than EventSource (which cannot send a header). A 403 on
// the token: with a meta token (loopback), the server has restarted with a new one, so
// "/" is read again for it and the request tried once more; else the sign-in panel
// comes back with the server's words (onAuth listeners).

const STORE_KEY = 'eider-token';

function metaToken() {
  const m = document.querySelector('meta[name="eider-token"]');
  return (m && m.getAttribute('content')) || '';
}

let pageToken = metaToken();                 // '' when the page must sign in
const signInMode = pageToken === '';

function storedToken() {
  try {
    return sessionStorage.getItem(STORE_KEY) || '';
  } catch (e) {
    return '';
  }
}

// The token the requests send ('' when there is none yet).
export function token() {
  return signInMode ? storedToken() : pageToken;
}

// Whether the user must give the token before the page can talk to the server.
export function needsSignIn() {
  return signInMode && !storedToken();
}

// Keep the token the user gave (for this tab), and wake what waits for one.
export function setToken(t) {
  try {
    if (t) sessionStorage.setItem(STORE_KEY, t);
    else sessionStorage.removeItem(STORE_KEY);
  } catch (e) {
    /* private mode: the token lives as long as the page */
  }
  if (t) {
    const w = waiting.splice(0);
    for (const fn of w) fn();
  }
}

const authListeners = new Set();
const waiting = [];

// fn(message) when the server refuses the page's token and the user must give it again.
export function onAuth(fn) {
  authListeners.add(fn);
  return () => authListeners.delete(fn);
}

// Resolves once there is a token to send (at once when there is one).
function signedIn() {
  if (token()) return Promise.resolve();
  return new Promise((res) => waiting.push(res));
}

// Whether an error answer is the server refusing the token (not the Origin or Host).
function tokenRefused(status, body) {
  return status === 403 && body && typeof body.error === 'string' && /token/i.test(body.error);
}

// The page's token is refused. Loopback: read "/" again for the server's new token
// (once at a time); true when it has one that differs. Else: the sign-in panel.
let rereading = null;

async function tokenFailed(message) {
  if (!signInMode) {
    if (!rereading) {
      rereading = (async () => {
        try {
          const res = await fetch('/', { cache: 'no-store', headers: { Accept: 'text/html' } });
          const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
          const m = doc.querySelector('meta[name="eider-token"]');
          const fresh = (m && m.getAttribute('content')) || '';
          if (fresh && fresh !== pageToken) {
            pageToken = fresh;
            return true;
          }
        } catch (e) {
          /* the server is gone again: the caller says so */
        }
        return false;
      })().finally(() => {
        setTimeout(() => { rereading = null; }, 0);
      });
    }
    return rereading;
  }
  setToken('');
  for (const fn of [...authListeners]) fn(message);
  return false;
}

function restartedError(path) {
  const err = new Error(`the eider dev server has restarted and no longer takes this page's token (${path}): reload the page`);
  err.status = 403;
  err.restarted = true;
  return err;
}

async function parse(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch (e) {
    return null;
  }
}

function failure(res, path, body) {
  const msg = body && body.error ? body.error
    : `${path}: the server answered ${res.status} ${res.statusText}`.trim();
  const err = new Error(msg);
  err.status = res.status;
  err.body = body;
  return err;
}

function withToken(init) {
  const headers = { ...(init.headers || {}) };
  const t = token();
  if (t) headers['X-Eider-Token'] = t;
  return { ...init, headers };
}

async function send(path, init) {
  try {
    return await fetch(path, withToken(init));
  } catch (e) {
    const err = new Error(`cannot reach the eider dev server (${path}): is it still running?`);
    err.status = 0;
    throw err;
  }
}

async function request(path, init) {
  let res = await send(path, init);
  let body = await parse(res);
  if (tokenRefused(res.status, body)) {
    if (!(await tokenFailed(body.error))) {
      if (!signInMode) throw restartedError(path);
      throw failure(res, path, body);
    }
    res = await send(path, init);
    body = await parse(res);
    if (tokenRefused(res.status, body)) throw restartedError(path);
  }
  if (!res.ok) throw failure(res, path, body);
  return body;
}

// GET a JSON document; throws Error(message) on an error status.
export function getJSON(path) {
  return request(path, { headers: { Accept: 'application/json' } });
}

// POST a JSON body; throws Error(message) on an error status.
export function postJSON(path, body) {
  return request(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body === undefined ? {} : body),
  });
}

// One Server-Sent Events message from its lines (id:, event:, data:); null for none.
function sseMessage(lines, state) {
  let type = '', data = null;
  for (const line of lines) {
    if (!line || line[0] === ':') continue;
    const c = line.indexOf(':');
    const field = c < 0 ? line : line.slice(0, c);
    let value = c < 0 ? '' : line.slice(c + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'event') type = value;
    else if (field === 'data') data = data === null ? value : data + '\n' + value;
    else if (field === 'id' && !value.includes('\0')) state.lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) state.retry = Number(value);
  }
  if (data === null) return null;
  return { type: type || 'message', data };
}

// Read a stream's body, calling onMessage for each message; resolves when it ends.
async function readStream(res, state, onMessage) {
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  state.reader = reader;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let at;
    while ((at = buf.search(/\r\n\r\n|\n\n|\r\r/)) >= 0) {
      const block = buf.slice(0, at);
      buf = buf.slice(at + (buf.startsWith('\r\n\r\n', at) ? 4 : 2));
      const m = sseMessage(block.split(/\r\n|\r|\n/), state);
      if (m) onMessage(m);
    }
  }
}

// Server-Sent Events, read with fetch() so that the token goes in a header:
// onEvent(type, data, id) for each event (data JSON-parsed when it parses; only the
// types given, when given), onOpen() each time it is connected, onError(err) each time
// it breaks: err.fatal when it will not come back (no such endpoint: 404 or 405, or an
// answer that is not text/event-stream), else it reconnects by itself after a pause
// that grows (0.5 s to 10 s), sending the last event's id in Last-Event-ID; err.status
// is 0 when the server cannot be reached.
// Returns close().
export function subscribe(path, { onEvent, onError, onOpen, types } = {}) {
  const state = { lastId: '', retry: 0, closed: false, reader: null, ctl: null };
  let pause = 500;
  const fail = (err) => {
    if (!state.closed && onError) onError(err);
  };
  const deliver = (m) => {
    if (state.closed || (types && !types.includes(m.type))) return;
    let data = m.data;
    try {
      data = JSON.parse(m.data);
    } catch (e) {
      /* keep the text */
    }
    if (onEvent) onEvent(m.type, data, state.lastId);
  };
  const once = async () => {
    await signedIn();
    if (state.closed) return 'closed';
    state.ctl = new AbortController();
    const headers = { Accept: 'text/event-stream' };
    if (state.lastId) headers['Last-Event-ID'] = state.lastId;
    let res;
    try {
      res = await fetch(path, withToken({ headers, cache: 'no-store', signal: state.ctl.signal }));
    } catch (e) {
      const err = new Error(`cannot reach the eider dev server (${path}): is it still running?`);
      err.status = 0;
      fail(err);
      return 'again';
    }
    if (!res.ok) {
      const body = await parse(res).catch(() => null);
      const err = failure(res, path, body);
      if (tokenRefused(res.status, body)) {
        const fresh = await tokenFailed(body.error);
        if (fresh) return 'now';
        if (!signInMode) err.restarted = true;
      }
      err.fatal = res.status === 404 || res.status === 405;
      fail(err);
      return err.fatal ? 'closed' : 'again';
    }
    if (!/text\/event-stream/.test(res.headers.get('Content-Type') || '')) {
      // not a stream (a server without one): as EventSource, give up for good
      state.ctl.abort();
      const err = new Error(`${path} is not a stream of events on this server`);
      err.status = res.status;
      err.fatal = true;
      fail(err);
      return 'closed';
    }
    pause = 500;
    if (onOpen && !state.closed) onOpen();
    try {
      await readStream(res, state, deliver);
    } catch (e) {
      /* dropped: reconnect */
    }
    if (state.closed) return 'closed';
    const err = new Error(`the live stream ${path} ended: reconnecting`);
    err.status = 0;
    err.ended = true;
    fail(err);
    return 'again';
  };
  (async () => {
    for (;;) {
      const next = await once();
      if (next === 'closed' || state.closed) return;
      if (next === 'again') {
        await new Promise((r) => setTimeout(r, state.retry || pause));
        pause = Math.min(10000, pause * 2);
      }
      if (state.closed) return;
    }
  })();
  return () => {
    state.closed = true;
    if (state.ctl) state.ctl.abort();
  };
}

// The hash route of an asset page; keys keep their '/' separators.
export function assetPath(key) {
  return '#/assets/' + key;
}

// The hash route of a run page.
export function runPath(id) {
  return '#/runs/' + id;
}
