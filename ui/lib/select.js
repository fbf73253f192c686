// Dagster's selection syntax, evaluated in the page over the assets it knows
// (README "Selection"; the server's parser is the reference, tests/select/golden.txt):
// keys, "quoted keys", key:glob*, group:, kind:, tag:K[=V], owner:, traversals
// (*key, key*, +key, 2+key, key+, key+2), roots(), sinks(), stale(), and, or, not,
// ',' and parentheses. compile(text) -> (graph) => Set of indexes, or throws
// Error(message). graph: { keys, index: Map key->i, group, kinds, tags, owners,
// up: [[i...]], down: [[i...]], status }.

const WORD = /[A-Za-z0-9_\/.\-@:]/;

function lex(text) {
  const toks = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n') { i++; continue; }
    const at = i + 1;
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new Error(`at column ${at}: unterminated string`);
      toks.push({ t: 'str', v: text.slice(i + 1, end), at });
      i = end + 1;
    } else if ('(),*+='.includes(c)) {
      toks.push({ t: c, at });
      i++;
    } else if (WORD.test(c)) {
      let j = i;
      while (j < text.length && WORD.test(text[j])) j++;
      toks.push({ t: 'word', v: text.slice(i, j), at });
      i = j;
    } else {
      throw new Error(`at column ${at}: unexpected character '${c}'`);
    }
  }
  toks.push({ t: 'end', at: text.length + 1 });
  return toks;
}

function globRe(glob) {
  const esc = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp('^' + esc + '$');
}

function closure(g, set, dir, depth) {
  const out = new Set(set);
  let frontier = [...set];
  for (let d = 0; frontier.length && d < depth; d++) {
    const next = [];
    for (const i of frontier) {
      for (const j of g[dir][i]) {
        if (!out.has(j)) { out.add(j); next.push(j); }
      }
    }
    frontier = next;
  }
  return out;
}

function all(g) {
  return new Set(g.keys.map((_, i) => i));
}

function filterBy(g, pred) {
  const out = new Set();
  g.keys.forEach((k, i) => { if (pred(i)) out.add(i); });
  return out;
}

function known(g, name, field, value) {
  const set = filterBy(g, (i) => {
    const v = g[field][i];
    return Array.isArray(v) ? v.includes(value) : v === value;
  });
  if (!set.size) throw new Error(`unknown ${name} '${value}'`);
  return set;
}

function attr(g, name, value, tagValue) {
  switch (name) {
    case 'key': {
      if (value.includes('*')) {
        const re = globRe(value);
        return filterBy(g, (i) => re.test(g.keys[i]));
      }
      if (!g.index.has(value)) {
        const near = g.keys.find((k) => k.endsWith('/' + value));
        throw new Error(`unknown asset '${value}'` + (near ? ` (did you mean '${near}'?)` : ''));
      }
      return new Set([g.index.get(value)]);
    }
    case 'group': return known(g, 'group', 'group', value);
    case 'kind': return known(g, 'kind', 'kinds', value);
    case 'owner': return known(g, 'owner', 'owners', value);
    case 'tag': {
      const set = filterBy(g, (i) => {
        const tags = g.tags[i] || {};
        return Object.prototype.hasOwnProperty.call(tags, value) &&
          (tagValue === undefined || String(tags[value]) === tagValue);
      });
      if (!set.size) throw new Error(`unknown tag '${value}'` + (tagValue !== undefined ? ` = '${tagValue}'` : ''));
      return set;
    }
    default:
      throw new Error(`unknown filter '${name}:': use key:, group:, tag:, kind: or owner:`);
  }
}

function func(g, name, arg) {
  const set = arg || all(g);
  if (name === 'roots') return filterBy(g, (i) => set.has(i) && !g.up[i].some((j) => set.has(j)));
  if (name === 'sinks') return filterBy(g, (i) => set.has(i) && !g.down[i].some((j) => set.has(j)));
  if (name === 'stale') {
    return filterBy(g, (i) => set.has(i) &&
      ['stale', 'never', 'failed'].includes(g.status[i] || 'never'));
  }
  throw new Error(`unknown function '${name}': use roots(), sinks() or stale()`);
}

// A recursive-descent parser that builds a function of the graph.
function parser(toks) {
  let p = 0;
  const peek = () => toks[p];
  const next = () => toks[p++];
  const isWord = (w) => peek().t === 'word' && peek().v.toLowerCase() === w;

  function expectKey() {
    const t = peek();
    if (t.t === ')') throw new Error(`unexpected ')': expected an asset key`);
    throw new Error(`at column ${t.at}: expected an asset key`);
  }

  function count() {
    if (peek().t === 'word' && /^\d+$/.test(peek().v) && toks[p + 1].t === '+') {
      const n = Number(next().v);
      next();
      return n;
    }
    let n = 0;
    while (peek().t === '+') { next(); n++; }
    return n;
  }

  function value(t, name) {
    if (t.t === 'str' || t.t === 'word') return t.v;
    if (t.t === '*') return '*';
    throw new Error(`expected a value after '${name}:'`);
  }

  function primary() {
    const t = peek();
    if (t.t === '(') {
      next();
      const e = orExpr();
      if (peek().t !== ')') throw new Error(`at column ${peek().at}: expected ')' to close the '(' at column ${t.at}`);
      next();
      return e;
    }
    if (t.t === '*' ) {
      next();
      return (g) => all(g);
    }
    if (t.t === 'str') {
      next();
      return (g) => attr(g, 'key', t.v);
    }
    if (t.t !== 'word') expectKey();
    next();
    const lower = t.v.toLowerCase();
    if (peek().t === '(' && ['roots', 'sinks', 'stale'].includes(lower)) {
      const open = next();
      let arg = null;
      if (peek().t !== ')') arg = orExpr();
      if (peek().t !== ')') throw new Error(`expected ')' to close the '(' at column ${open.at}`);
      next();
      return (g) => func(g, lower, arg ? arg(g) : null);
    }
    if (['roots', 'sinks', 'stale'].includes(lower)) {
      throw new Error(`at column ${t.at + t.v.length}: expected '(' after '${lower}': write ${lower}() or ${lower}(selection)`);
    }
    const colon = t.v.indexOf(':');
    if (colon > 0 && ['key', 'group', 'kind', 'tag', 'owner'].includes(t.v.slice(0, colon).toLowerCase())) {
      const name = t.v.slice(0, colon).toLowerCase();
      let v = t.v.slice(colon + 1);
      if (v === '' ) {
        const vt = peek();
        if (vt.t === 'end' || vt.t === ')') throw new Error(`expected a value after '${name}:'`);
        v = value(next(), name);
        while (name === 'key' && (peek().t === '*' || peek().t === 'word') && peek().at === toks[p - 1].at + String(toks[p - 1].v || '*').length) {
          v += value(next(), name);
        }
      } else if (name === 'key') {
        while ((peek().t === '*' || peek().t === 'word') && peek().at === toks[p - 1].at + (toks[p - 1].v || '*').length) {
          v += value(next(), name);
        }
      }
      let tv;
      if (name === 'tag' && peek().t === '=') {
        next();
        const vt = peek();
        if (vt.t !== 'str' && vt.t !== 'word') throw new Error(`expected a tag value after '='`);
        tv = next().v;
      }
      return (g) => attr(g, name, v, tv);
    }
    if (colon > 0) throw new Error(`unknown filter '${t.v.slice(0, colon + 1)}': use key:, group:, tag:, kind: or owner:`);
    return (g) => attr(g, 'key', t.v);
  }

  function traversal() {
    let upAll = false;
    if (peek().t === '*' && toks[p + 1].t !== 'end' && toks[p + 1].t !== ')' && toks[p + 1].t !== ',' &&
        toks[p + 1].at === peek().at + 1) {
      next();
      upAll = true;
    }
    const up = upAll ? Infinity : count();
    if (['end', ')', ','].includes(peek().t) && (up || upAll)) expectKey();
    let e = primary();
    let down = 0;
    if (peek().t === '*' && peek().at === toks[p - 1].at + (toks[p - 1].v ? toks[p - 1].v.length : 1)) {
      next();
      down = Infinity;
      if (peek().t === '*') throw new Error(`unexpected '*'`);
    } else if (peek().t === '+') {
      while (peek().t === '+') { next(); down++; }
      if (peek().t === 'word' && /^\d+$/.test(peek().v)) down = Number(next().v);
    }
    if (!up && !down) return e;
    return (g) => {
      const base = e(g);
      const a = up ? closure(g, base, 'up', up) : base;
      const b = down ? closure(g, base, 'down', down) : base;
      return new Set([...a, ...b]);
    };
  }

  function notExpr() {
    if (isWord('not')) {
      next();
      const e = notExpr();
      return (g) => {
        const s = e(g);
        return filterBy(g, (i) => !s.has(i));
      };
    }
    if (isWord('and') || isWord('or')) throw new Error(`unexpected '${peek().v}'`);
    return traversal();
  }

  function andExpr() {
    let e = notExpr();
    while (isWord('and')) {
      next();
      const l = e, r = notExpr();
      e = (g) => {
        const a = l(g), b = r(g);
        return new Set([...a].filter((i) => b.has(i)));
      };
    }
    return e;
  }

  function orExpr() {
    let e = andExpr();
    while (isWord('or') || peek().t === ',') {
      next();
      const l = e, r = andExpr();
      e = (g) => new Set([...l(g), ...r(g)]);
    }
    return e;
  }

  return function parse() {
    const e = orExpr();
    const t = peek();
    if (t.t === ')') throw new Error(`unexpected ')': remove it`);
    if (t.t === 'word') throw new Error(`unexpected '${t.v}': join selections with 'and', 'or' or ','`);
    if (t.t === '(') throw new Error(`at column ${t.at}: unexpected '('`);
    if (t.t !== 'end') throw new Error(`at column ${t.at}: unexpected '${t.t}'`);
    return e;
  };
}

// The function of a selection's text; throws Error(message) when it does not parse.
export function compile(text) {
  return parser(lex(text))();
}

// The graph select works on, from GET /api/assets' list.
export function selectionGraph(assets) {
  const index = new Map(assets.map((a, i) => [a.key, i]));
  const up = assets.map(() => []);
  const down = assets.map(() => []);
  assets.forEach((a, i) => {
    for (const d of a.deps || []) {
      const j = index.get(d);
      if (j === undefined) continue;
      up[i].push(j);
      down[j].push(i);
    }
  });
  return {
    keys: assets.map((a) => a.key),
    index,
    group: assets.map((a) => a.group),
    kinds: assets.map((a) => a.kinds || []),
    tags: assets.map((a) => a.tags || {}),
    owners: assets.map((a) => a.owners || []),
    status: assets.map((a) => a.status),
    up,
    down,
  };
}

// The selection text naming exactly these keys: "a, b, \"odd key\"".
export function keysSelection(keys) {
  return keys.map((k) => (/^[A-Za-z0-9_\/.\-]+$/.test(k) && !/^\d+$/.test(k) ? k : JSON.stringify(k))).join(', ');
}
