// Toasts: short notes at the bottom right (a run launched, with a link to it; an
// API error in words). toast(text, { href, linkText, kind: 'ok' | 'error', ms }).
const listeners = new Set();
let nextId = 1;
export const toasts = [];

export function onToasts(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function changed() {
  for (const fn of listeners) fn(toasts.slice());
}

export function dismiss(id) {
  const i = toasts.findIndex((t) => t.id === id);
  if (i >= 0) toasts.splice(i, 1);
  changed();
}

// Change a toast's text (and kind) while it shows: a run it names moved on.
export function updateToast(id, text, kind) {
  const t = toasts.find((x) => x.id === id);
  if (!t) return;
  t.text = text;
  if (kind) t.kind = kind;
  changed();
}

export function toast(text, opts = {}) {
  const t = { id: nextId++, text, kind: opts.kind || 'ok', href: opts.href, linkText: opts.linkText };
  toasts.push(t);
  if (toasts.length > 4) toasts.shift();
  changed();
  setTimeout(() => dismiss(t.id), opts.ms || (t.kind === 'error' ? 12000 : 8000));
  return t.id;
}
