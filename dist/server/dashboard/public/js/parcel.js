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
        const { parcels } = await api('GET', `/v1/parcels?reference=${encodeURIComponent(id)}`);
        if (!parcels.length) throw err;
        return api('GET', `/v1/parcels/${encodeURIComponent(parcels[0].id)}`);
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
