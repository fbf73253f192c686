// The JSON API of `eider dev` (docs/api.md). Errors become Error objects
// whose message is the server's {"error"} text, so a page can show it in words.

function token() {
  const m = document.querySelector('meta[name="eider-token"]');
  return m ? m.getAttribute('content') : '';
}

async function decode(res, path) {
  let body = null;
  const text = await res.text();
  if (text) {
    try {
      body = JSON.parse(text);
    } catch (e) {
      body = null;
    }
  }
  if (!res.ok) {
    const msg = body && body.error ? body.error
      : `${path}: the server answered ${res.status} ${res.statusText}`.trim();
    const err = new Error(msg);
    err.status = res.status;
    err.body = body;
    throw err;
  }
  return body;
}

async function request(path, init) {
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    const err = new Error(`cannot reach the eider dev server (${path}): is it still running?`);
    err.status = 0;
    throw err;
  }
  return decode(res, path);
}

// GET a JSON document; throws Error(message) on an error status.
export function getJSON(path) {
  return request(path, { headers: { Accept: 'application/json' } });
}

// POST a JSON body with the page's token; throws Error(message) on an error status.
export function postJSON(path, body) {
  return request(path, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'X-Eider-Token': token(),
    },
    body: JSON.stringify(body === undefined ? {} : body),
  });
}

// Server-Sent Events: onEvent(type, data, id) for each named event (data
// JSON-parsed when it parses), onError(err) when the stream breaks (the
// browser reconnects by itself unless err.target.readyState is 2, closed: an
// error status), onOpen() when it is connected. Returns close().
export function subscribe(path, { onEvent, onError, onOpen, types } = {}) {
  const src = new EventSource(path);
  const names = types || ['run', 'asset', 'defs', 'event', 'end', 'message'];
  const handler = (ev) => {
    let data = ev.data;
    try {
      data = JSON.parse(ev.data);
    } catch (e) {
      /* keep the text */
    }
    if (onEvent) onEvent(ev.type, data, ev.lastEventId);
  };
  for (const n of names) src.addEventListener(n, handler);
  src.onopen = () => {
    if (onOpen) onOpen();
  };
  src.onerror = (e) => {
    if (onError) onError(e);
  };
  return () => src.close();
}

// The hash route of an asset page; keys keep their '/' separators.
export function assetPath(key) {
  return '#/assets/' + key;
}

// The hash route of a run page.
export function runPath(id) {
  return '#/runs/' + id;
}
