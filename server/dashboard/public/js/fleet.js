// Fleet overview: live totals, a clustered map of every locker, the locker table one server page at a time
// (GET /v1/lockers: sorted, filtered and paged on the server, so the page stays fast at any fleet size), a CSV
// export of the filtered fleet, and the fleet's history charts. Rows on the page are patched when the live stream
// names their locker.
import { api, session } from './api.js';
import { el, fmtTime, setData, setText, show } from './dom.js';
import { store, subscribe } from './store.js';
import { createFleetMap } from './fleet-map.js';
import { occupancyNodes } from './occupancy.js';
import { renderHistory } from './charts.js';

const PAGE = 50;
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

export function createFleetView() {
  const $ = (id) => document.getElementById(id);
  const totalsEl = $('totals');
  const tbody = document.querySelector('#fleet-table tbody');
  const search = $('fleet-search');
  const status = $('fleet-status');
  const count = $('fleet-count');
  const prev = $('fleet-prev');
  const next = $('fleet-next');
  const pageInfo = $('fleet-page');
  const map = createFleetMap($('fleet-map'));
  const totalCells = new Map();
  const rows = new Map();
  let sort = 'name';
  let order = 'asc';
  /** Cursors of the pages before the one shown (to go back), and the one after it. */
  let history = [];
  let cursor = null;
  let nextCursor = null;
  let loading = 0;
  let chartsDrawn = false;

  for (const [key, label] of TOTALS) {
    const dd = el('dd', { dataset: { total: key } }, '–');
    totalsEl.append(el('div', {}, el('dt', {}, label), dd));
    totalCells.set(key, dd);
  }

  function renderTotals() {
    if (!store.totals) return;
    for (const [key, , read] of TOTALS) setText(totalCells.get(key), read(store.totals));
  }

  function filterQuery() {
    const q = new URLSearchParams({ sort, order });
    const term = search.value.trim();
    if (term) q.set('q', term);
    const mode = status.value;
    if (mode === 'online' || mode === 'offline') q.set('state', mode);
    if (mode === 'alarms') q.set('state', 'alarm');
    return q;
  }

  /** How many lockers match, from the live store (every locker's summary is there for the map anyway). */
  function renderCount() {
    const term = search.value.trim().toLowerCase();
    const mode = status.value;
    let matched = 0;
    for (const l of store.lockers.values()) {
      if (mode === 'online' && !l.online) continue;
      if (mode === 'offline' && l.online) continue;
      if (mode === 'alarms' && unresolved(l) === 0) continue;
      if (term && !l.name.toLowerCase().includes(term) && l.id !== search.value.trim()) continue;
      matched++;
    }
    setText(count, matched === store.lockers.size && !term && mode === 'all' ? `${matched} lockers` : `${matched} of ${store.lockers.size} lockers match`);
  }

  function createRow(l) {
    const link = el('a', { href: `#/lockers/${encodeURIComponent(l.id)}` });
    const r = {
      tr: el('tr', { dataset: { id: l.id } }),
      link,
      id: el('span', { class: 'id' }, l.id),
      status: el('td', { class: 'status', dataset: { label: 'Status' } }),
      seen: el('td', { dataset: { label: 'Last seen' } }),
      occ: el('td', { class: 'occ-cell', dataset: { label: 'Occupancy' } }),
      alarms: el('td', { class: 'alarm-count', dataset: { label: 'Alarms' } }),
      occKey: '',
    };
    r.tr.append(el('th', { scope: 'row' }, link, r.id), r.status, r.seen, r.occ, r.alarms);
    return r;
  }

  /** `l` is a listing item or a live summary: both carry online, lastSeenAt, alarms and occupancy per size. */
  function patchRow(r, l) {
    const bySize = l.occupancy.bySize ?? l.occupancy;
    setText(r.link, l.name);
    setText(r.status, l.online ? 'Online' : 'Offline');
    setData(r.status, 'status', l.online ? 'online' : 'offline');
    setText(r.seen, fmtTime(l.lastSeenAt));
    const occKey = JSON.stringify(bySize);
    if (occKey !== r.occKey) {
      r.occKey = occKey;
      r.occ.replaceChildren(...occupancyNodes(bySize));
    }
    setText(r.alarms, unresolved(l) === 0 ? 'none' : `${l.alarms.open} open, ${l.alarms.acknowledged} ack.`);
    setData(r.alarms, 'count', l.alarms.open);
  }

  async function load() {
    const mine = ++loading;
    const q = filterQuery();
    q.set('limit', String(PAGE));
    if (cursor) q.set('cursor', cursor);
    const page = await api('GET', `/v1/lockers?${q}`);
    if (mine !== loading) return;
    rows.clear();
    const body = document.createDocumentFragment();
    for (const l of page.items) {
      const r = createRow(l);
      patchRow(r, l);
      rows.set(l.id, r);
      body.append(r.tr);
    }
    tbody.replaceChildren(body);
    nextCursor = page.nextCursor;
    show(prev, history.length > 0);
    show(next, nextCursor !== null);
    setText(pageInfo, `Page ${history.length + 1}`);
    document.getElementById('fleet-table').dataset.loaded = String(loading);
  }

  function restart() {
    history = [];
    cursor = null;
    void load();
  }

  function renderSortButtons() {
    for (const th of document.querySelectorAll('#fleet-table thead th[data-sort]')) {
      const active = th.dataset.sort === sort;
      th.setAttribute('aria-sort', active ? (order === 'asc' ? 'ascending' : 'descending') : 'none');
    }
  }

  for (const th of document.querySelectorAll('#fleet-table thead th[data-sort]')) {
    th.querySelector('button').addEventListener('click', () => {
      if (sort === th.dataset.sort) order = order === 'asc' ? 'desc' : 'asc';
      else {
        sort = th.dataset.sort;
        order = sort === 'name' ? 'asc' : 'desc';
      }
      renderSortButtons();
      restart();
    });
  }
  renderSortButtons();

  next.addEventListener('click', () => {
    if (!nextCursor) return;
    history.push(cursor);
    cursor = nextCursor;
    void load();
  });
  prev.addEventListener('click', () => {
    cursor = history.pop() ?? null;
    void load();
  });

  // The export needs the token in a header, so it is fetched and handed to the browser as a file.
  $('fleet-export').addEventListener('click', async () => {
    const res = await fetch(`/v1/lockers/export.csv?${filterQuery()}`, { headers: { authorization: `Bearer ${session.token}` } });
    const url = URL.createObjectURL(await res.blob());
    const a = el('a', { href: url, download: 'lockers.csv' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });

  let typing;
  search.addEventListener('input', () => {
    clearTimeout(typing);
    renderCount();
    typing = setTimeout(restart, 250);
  });
  status.addEventListener('change', () => {
    renderCount();
    restart();
  });
  $('fleet-filter').addEventListener('submit', (e) => e.preventDefault());

  subscribe((change) => {
    renderTotals();
    renderCount();
    if (change.type === 'snapshot') {
      void map.setAll(store.lockers.values());
      restart();
      return;
    }
    const changed = [];
    for (const id of change.lockers) {
      const l = store.lockers.get(id);
      if (!l) continue;
      changed.push(l);
      const r = rows.get(id);
      if (r) patchRow(r, l);
    }
    if (changed.length) void map.update(changed);
  });

  return {
    show() {
      map.invalidate();
      if (!chartsDrawn) {
        chartsDrawn = true;
        renderHistory($('fleet-charts'), null).catch(() => (chartsDrawn = false));
      }
    },
  };
}
