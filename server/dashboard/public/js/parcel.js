// Parcel lookup by id or by the carrier's reference: its status and its timeline (every change with its source).
import { api, describeError } from './api.js';
import { el, fmtTime, setText, show, words } from './dom.js';
import { store } from './store.js';

export function createParcelView() {
  const form = document.getElementById('parcel-form');
  const input = document.getElementById('parcel-id');
  const error = document.getElementById('parcel-error');
  const result = document.getElementById('parcel-result');
  const title = document.getElementById('parcel-title');
  const facts = document.getElementById('parcel-facts');
  const timeline = document.getElementById('parcel-timeline');

  async function lookup(id) {
    setText(error, '');
    try {
      // A parcel id, or else the carrier's reference (the newest parcel with it).
      const p = await api('GET', `/v1/parcels/${encodeURIComponent(id)}`).catch(async (err) => {
        if (err.code !== 'PARCEL_NOT_FOUND') throw err;
        const { items } = await api('GET', `/v1/parcels?reference=${encodeURIComponent(id)}&limit=1`);
        if (!items.length) throw err;
        return api('GET', `/v1/parcels/${encodeURIComponent(items[0].id)}`);
      });
      setText(title, `Parcel ${p.id}`);
      const locker = el('a', { href: `#/lockers/${encodeURIComponent(p.lockerId)}` }, store.lockers.get(p.lockerId)?.name ?? p.lockerId);
      const rows = [
        ['Status', words(p.status)],
        ['Reference', p.reference],
        ['Locker', locker],
        ['Compartment', `${p.compartmentId} (size ${p.size})`],
        ['Booked', fmtTime(p.createdAt)],
        ['Deposited', p.depositedAt ? fmtTime(p.depositedAt) : '–'],
        ['Picked up', p.pickedUpAt ? fmtTime(p.pickedUpAt) : '–'],
        ['Pickup deadline', p.pickupDeadline ? `${fmtTime(p.pickupDeadline)}${p.windowPausedSince ? ` (window paused since ${fmtTime(p.windowPausedSince)})` : ''}` : '–'],
        ['Extensions', String(p.extensions)],
      ];
      facts.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
      timeline.replaceChildren(
        ...p.history.map((h) =>
          el('li', {}, el('strong', {}, words(h.type)), ` → ${words(h.status)} · ${fmtTime(h.at)} · ${h.source}${h.sourceRef ? ` (${h.sourceRef})` : ''}`),
        ),
      );
      show(result, true);
    } catch (err) {
      show(result, false);
      setText(error, err.code === 'PARCEL_NOT_FOUND' ? `No parcel with id or reference ${id}.` : describeError(err));
    }
  }

  // Search: status, locker, reference prefix and booking date, newest first, a page at a time (GET /v1/parcels).
  const searchForm = document.getElementById('parcel-search');
  const searchBody = document.querySelector('#parcel-list tbody');
  const searchMore = document.getElementById('parcel-more');
  const searchCount = document.getElementById('parcel-count');
  let searchCursor = null;
  let found = 0;

  function searchQuery() {
    const q = new URLSearchParams({ limit: '50' });
    const v = (id) => document.getElementById(id).value.trim();
    if (v('ps-status')) q.set('status', v('ps-status'));
    if (v('ps-locker')) q.set('lockerId', v('ps-locker'));
    if (v('ps-reference')) q.set('referencePrefix', v('ps-reference'));
    if (v('ps-from')) q.set('createdFrom', String(new Date(`${v('ps-from')}T00:00`).getTime()));
    if (v('ps-to')) q.set('createdTo', String(new Date(`${v('ps-to')}T00:00`).getTime() + 86_400_000));
    return q;
  }

  async function search(more) {
    setText(error, '');
    const q = searchQuery();
    if (more && searchCursor) q.set('cursor', searchCursor);
    try {
      const page = await api('GET', `/v1/parcels?${q}`);
      if (!more) {
        searchBody.replaceChildren();
        found = 0;
      }
      for (const p of page.items) {
        searchBody.append(
          el(
            'tr',
            { dataset: { id: p.id } },
            el('th', { scope: 'row' }, el('a', { href: `#/parcels/${encodeURIComponent(p.id)}` }, p.id)),
            el('td', { dataset: { label: 'Reference' } }, p.reference),
            el('td', { dataset: { label: 'Status' } }, words(p.status)),
            el('td', { dataset: { label: 'Locker' } }, el('a', { href: `#/lockers/${encodeURIComponent(p.lockerId)}` }, store.lockers.get(p.lockerId)?.name ?? p.lockerId)),
            el('td', { dataset: { label: 'Booked' } }, fmtTime(p.createdAt)),
            el('td', { dataset: { label: 'Deadline' } }, p.pickupDeadline ? fmtTime(p.pickupDeadline) : '–'),
          ),
        );
      }
      found += page.items.length;
      searchCursor = page.nextCursor;
      show(searchMore, searchCursor !== null);
      setText(searchCount, `${found}${searchCursor ? '+' : ''} parcels`);
    } catch (err) {
      setText(error, describeError(err));
    }
  }
  searchForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void search(false);
  });
  searchMore.addEventListener('click', () => void search(true));

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const id = input.value.trim();
    if (id) location.hash = `#/parcels/${encodeURIComponent(id)}`;
  });

  return {
    show(id) {
      if (id) {
        input.value = id;
        void lookup(id);
      }
    },
  };
}
