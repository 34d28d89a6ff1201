// Webhook deliveries (admins only): the outbox with each delivery's state, attempts and last error, newest first;
// a dead-lettered one can be sent again.
import { api, describeError } from './api.js';
import { el, fmtTime, setText, show, words } from './dom.js';

export function createWebhooksView() {
  const $ = (id) => document.getElementById(id);
  const tbody = $('deliveries-table').tBodies[0];
  const state = $('delivery-state');
  const result = $('deliveries-result');
  const none = $('deliveries-none');

  function lastError(d) {
    if (d.lastError) return d.lastStatus ? `${d.lastError} (HTTP ${d.lastStatus})` : d.lastError;
    return d.lastStatus ? `HTTP ${d.lastStatus}` : '–';
  }

  function row(d) {
    const cells = [
      el('th', { scope: 'row' }, words(d.eventType), el('span', { class: 'id' }, d.id)),
      el('td', { dataset: { label: 'Parcel' } }, el('a', { href: `#/parcels/${encodeURIComponent(d.parcelId)}` }, d.parcelId)),
      el('td', { dataset: { label: 'Account' } }, d.accountId),
      el('td', { class: 'state', 'data-state': d.state === 'dead' ? 'failed' : d.state === 'delivered' ? 'succeeded' : 'pending', dataset: { label: 'State', col: 'state' } }, d.state),
      el('td', { dataset: { label: 'Attempts', col: 'attempts' } }, String(d.attempts)),
      el('td', { dataset: { label: 'Last attempt' } }, d.lastAttemptAt ? fmtTime(d.lastAttemptAt) : '–'),
      el('td', { dataset: { label: 'Last error', col: 'error' } }, lastError(d)),
      el('td', { dataset: { label: 'Next attempt' } }, d.state === 'pending' && d.nextAttemptAt ? fmtTime(d.nextAttemptAt) : '–'),
    ];
    const actions = el('td', { class: 'actions', dataset: { label: 'Actions' } });
    if (d.state === 'dead') {
      const retry = el('button', { type: 'button', class: 'small', 'aria-label': `Retry delivery ${d.id}` }, 'Retry');
      retry.addEventListener('click', async () => {
        retry.disabled = true;
        try {
          await api('POST', `/v1/webhooks/deliveries/${encodeURIComponent(d.id)}/retry`);
          setText(result, `Delivery ${d.id} queued again.`);
        } catch (err) {
          setText(result, describeError(err));
        }
        await load();
      });
      actions.append(retry);
    }
    return el('tr', { dataset: { id: d.id } }, ...cells, actions);
  }

  async function load() {
    const query = state.value === 'all' ? '' : `?state=${encodeURIComponent(state.value)}`;
    try {
      const { deliveries } = await api('GET', `/v1/webhooks/deliveries${query}`);
      tbody.replaceChildren(...deliveries.map(row));
      show(none, deliveries.length === 0);
    } catch (err) {
      setText(result, describeError(err));
    }
  }

  state.addEventListener('change', () => void load());
  $('deliveries-refresh').addEventListener('click', () => void load());

  return {
    show() {
      setText(result, '');
      void load();
    },
  };
}
