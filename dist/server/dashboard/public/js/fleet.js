// Fleet overview: totals, filters, a location scatter and the locker table. Rows and dots are created once per
// locker and patched in place when an update names that locker; nothing is rebuilt wholesale.
import { el, fmtTime, setData, setText, show } from './dom.js';
import { store, subscribe } from './store.js';

const SVG = 'http://www.w3.org/2000/svg';
const PAGE = 200;
const W = 1000;
const H = 400;

const TOTALS = [
  ['lockers', 'Lockers', (t) => t.lockers],
  ['online', 'Online', (t) => t.online],
  ['offline', 'Offline', (t) => t.offline],
  ['free', 'Free', (t) => t.compartments.free],
  ['reserved', 'Reserved', (t) => t.compartments.reserved],
  ['occupied', 'Occupied', (t) => t.compartments.occupied],
  ['oos', 'Out of service', (t) => t.compartments.out_of_service],
  ['alarms', 'Open alarms', (t) => t.alarms.open],
  ['acked', 'Acknowledged alarms', (t) => t.alarms.acknowledged],
];

const unresolved = (l) => l.alarms.open + l.alarms.acknowledged;

function occupancyLabel(size, c) {
  return `Size ${size}: ${c.free} free, ${c.reserved} reserved, ${c.occupied} occupied, ${c.out_of_service} out of service`;
}

export function createFleetView() {
  const totalsEl = document.getElementById('totals');
  const tbody = document.querySelector('#fleet-table tbody');
  const map = document.getElementById('fleet-map');
  const search = document.getElementById('fleet-search');
  const status = document.getElementById('fleet-status');
  const count = document.getElementById('fleet-count');
  const more = document.getElementById('fleet-more');
  const totalCells = new Map();
  const rows = new Map();
  const dots = new Map();
  let limit = PAGE;
  let bounds = null;

  for (const [key, label] of TOTALS) {
    const dd = el('dd', { dataset: { total: key } }, '–');
    totalsEl.append(el('div', {}, el('dt', {}, label), dd));
    totalCells.set(key, dd);
  }

  function renderTotals() {
    if (!store.totals) return;
    for (const [key, , read] of TOTALS) setText(totalCells.get(key), read(store.totals));
  }

  function createRow(l) {
    const link = el('a', { href: `#/lockers/${encodeURIComponent(l.id)}` });
    const r = {
      tr: el('tr', { dataset: { id: l.id } }),
      link,
      id: el('span', { class: 'id' }, l.id),
      status: el('td', { class: 'status', dataset: { label: 'Status' } }),
      seen: el('td', { dataset: { label: 'Last seen' } }),
      occ: el('td', { dataset: { label: 'Occupancy' } }),
      alarms: el('td', { class: 'alarm-count', dataset: { label: 'Alarms' } }),
      occKey: '',
    };
    r.tr.append(el('th', { scope: 'row' }, link, r.id), r.status, r.seen, r.occ, r.alarms);
    return r;
  }

  function patchRow(r, l) {
    setText(r.link, l.name);
    setText(r.status, l.online ? 'Online' : 'Offline');
    setData(r.status, 'status', l.online ? 'online' : 'offline');
    setText(r.seen, fmtTime(l.lastSeenAt));
    const occKey = JSON.stringify(l.occupancy);
    if (occKey !== r.occKey) {
      r.occKey = occKey;
      r.occ.replaceChildren(
        ...Object.entries(l.occupancy).map(([size, c]) =>
          el('span', { class: 'occ', title: occupancyLabel(size, c) }, el('b', {}, size), el('span', { class: 'sr-only' }, occupancyLabel(size, c)), el('span', { 'aria-hidden': 'true' }, `${c.free} / ${c.reserved} / ${c.occupied} / ${c.out_of_service}`)),
        ),
      );
    }
    const n = unresolved(l);
    setText(r.alarms, n === 0 ? 'none' : `${l.alarms.open} open, ${l.alarms.acknowledged} ack.`);
    setData(r.alarms, 'count', l.alarms.open);
  }

  function computeBounds() {
    let minLat = Infinity, maxLat = -Infinity, minLon = Infinity, maxLon = -Infinity;
    for (const l of store.lockers.values()) {
      minLat = Math.min(minLat, l.location.lat);
      maxLat = Math.max(maxLat, l.location.lat);
      minLon = Math.min(minLon, l.location.lon);
      maxLon = Math.max(maxLon, l.location.lon);
    }
    if (!Number.isFinite(minLat)) return null;
    const midLat = (minLat + maxLat) / 2;
    const kx = Math.cos((midLat * Math.PI) / 180);
    // Equirectangular around the centre, corrected for latitude, with a margin and at least ~1 km of span.
    const spanX = Math.max((maxLon - minLon) * kx, 0.01);
    const spanY = Math.max(maxLat - minLat, 0.01);
    return { cLon: (minLon + maxLon) / 2, cLat: midLat, kx, scale: Math.min((W - 40) / spanX, (H - 40) / spanY) };
  }

  function place(dot, l) {
    const b = bounds;
    dot.setAttribute('cx', (W / 2 + (l.location.lon - b.cLon) * b.kx * b.scale).toFixed(1));
    dot.setAttribute('cy', (H / 2 - (l.location.lat - b.cLat) * b.scale).toFixed(1));
  }

  function createDot(l) {
    const dot = document.createElementNS(SVG, 'circle');
    dot.setAttribute('class', 'dot');
    dot.setAttribute('r', String(store.lockers.size > 2000 ? 3 : store.lockers.size > 300 ? 4 : 7));
    dot.append(document.createElementNS(SVG, 'title'));
    dot.addEventListener('click', () => (location.hash = `#/lockers/${encodeURIComponent(l.id)}`));
    return dot;
  }

  function patchDot(dot, l) {
    setData(dot, 'status', l.online ? 'online' : 'offline');
    setData(dot, 'alarm', unresolved(l) > 0 ? 'yes' : 'no');
    setText(dot.firstChild, `${l.name} (${l.online ? 'online' : 'offline'}${unresolved(l) ? `, ${unresolved(l)} alarms` : ''})`);
  }

  function matches(l, term, mode) {
    if (mode === 'online' && !l.online) return false;
    if (mode === 'offline' && l.online) return false;
    if (mode === 'alarms' && unresolved(l) === 0) return false;
    return !term || l.name.toLowerCase().includes(term) || l.id.toLowerCase().includes(term);
  }

  /** Shows the first `limit` matching rows (and every matching dot); cheap: no DOM write unless a flag flips. */
  function applyFilter() {
    const term = search.value.trim().toLowerCase();
    const mode = status.value;
    let matched = 0;
    for (const l of store.lockers.values()) {
      const m = matches(l, term, mode);
      if (m) matched++;
      show(rows.get(l.id).tr, m && matched <= limit);
      const dot = dots.get(l.id);
      const display = m ? '' : 'none';
      if (dot.style.display !== display) dot.style.display = display;
    }
    const shown = Math.min(matched, limit);
    setText(count, matched === store.lockers.size && !term ? `${matched} lockers` : `${matched} of ${store.lockers.size} lockers match`);
    show(more, shown < matched);
    setText(more, `Show more lockers (${shown} of ${matched} shown)`);
  }

  function renderAll() {
    tbody.replaceChildren();
    map.replaceChildren();
    rows.clear();
    dots.clear();
    bounds = computeBounds();
    const body = document.createDocumentFragment();
    const svg = document.createDocumentFragment();
    for (const l of store.lockers.values()) {
      const r = createRow(l);
      patchRow(r, l);
      rows.set(l.id, r);
      body.append(r.tr);
      const dot = createDot(l);
      place(dot, l);
      patchDot(dot, l);
      dots.set(l.id, dot);
      svg.append(dot);
    }
    tbody.append(body);
    map.append(svg);
    renderTotals();
    applyFilter();
  }

  function patch(change) {
    const added = new Set(change.added);
    let reproject = false;
    for (const id of change.lockers) {
      const l = store.lockers.get(id);
      if (!l) continue;
      if (added.has(id)) {
        const r = createRow(l);
        rows.set(id, r);
        tbody.append(r.tr);
        const dot = createDot(l);
        dots.set(id, dot);
        map.append(dot);
        reproject = true;
      }
      patchRow(rows.get(id), l);
      patchDot(dots.get(id), l);
    }
    if (reproject) {
      bounds = computeBounds();
      for (const l of store.lockers.values()) place(dots.get(l.id), l);
    }
    renderTotals();
    if (change.lockers.length) applyFilter();
  }

  subscribe((change) => (change.type === 'snapshot' ? renderAll() : patch(change)));
  search.addEventListener('input', () => {
    limit = PAGE;
    applyFilter();
  });
  status.addEventListener('change', () => {
    limit = PAGE;
    applyFilter();
  });
  document.getElementById('fleet-filter').addEventListener('submit', (e) => e.preventDefault());
  more.addEventListener('click', () => {
    limit += PAGE;
    applyFilter();
  });

  return { show() {} };
}
