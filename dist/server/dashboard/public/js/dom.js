// Small DOM helpers. Data only ever goes in as text (textContent, attributes), never as HTML.

/** Creates an element: el('td', { class: 'x', dataset: { label: 'Status' } }, 'text', child). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** Sets text only when it changed (no layout work for what did not move). */
export function setText(node, text) {
  const value = String(text);
  if (node.textContent !== value) node.textContent = value;
}

export function setData(node, key, value) {
  const v = String(value);
  if (node.dataset[key] !== v) node.dataset[key] = v;
}

export function show(node, visible) {
  if (node.hidden === visible) node.hidden = !visible;
}

const pad = (n) => String(n).padStart(2, '0');

/** Today: 14:03:09; another day: 2026-01-31 14:03. */
export function fmtTime(ms) {
  if (ms === null || ms === undefined) return 'never';
  const d = new Date(ms);
  const now = new Date();
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (d.toDateString() === now.toDateString()) return time;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time.slice(0, 5)}`;
}

export const words = (s) => String(s).replaceAll('_', ' ').replaceAll('.', ' ');

/** Replaces a table body's rows, keyed: rows with the same key are kept and patched, not rebuilt. */
export function syncRows(tbody, items, keyOf, create, patch) {
  const existing = new Map();
  for (const tr of tbody.rows) existing.set(tr.dataset.key, tr);
  let previous = null;
  for (const item of items) {
    const key = keyOf(item);
    let tr = existing.get(key);
    if (tr) existing.delete(key);
    else {
      tr = create(item);
      tr.dataset.key = key;
    }
    patch(tr, item);
    const expected = previous ? previous.nextSibling : tbody.firstChild;
    if (expected !== tr) tbody.insertBefore(tr, expected);
    previous = tr;
  }
  for (const tr of existing.values()) tr.remove();
}
