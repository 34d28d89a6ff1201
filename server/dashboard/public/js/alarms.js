// Alarm list with acknowledge and resolve. Unresolved alarms come from the live stream; resolved ones are read
// on demand. Rows are keyed by alarm id and patched in place.
import { api, describeError } from './api.js';
import { el, fmtTime, setData, setText, show, syncRows, words } from './dom.js';
import { applyAlarm, store, subscribe } from './store.js';

const lockerName = (id) => store.lockers.get(id)?.name ?? id;
const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 };

/** How long ago an alarm was raised, in words: "5 min", "3 h", "2 d". */
export function ageOf(ms) {
  const s = Math.max(0, (Date.now() - ms) / 1000);
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min`;
  if (s < 86_400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** An alarm's action buttons: acknowledge (open only) and resolve (open or acknowledged). */
export function alarmButtons(alarm, report) {
  const what = `${words(alarm.kind)} at ${lockerName(alarm.lockerId)}${alarm.compartmentId ? ` ${alarm.compartmentId}` : ''}`;
  const act = async (action, button) => {
    // A note for whoever looks next (kept on the alarm); cancelling the prompt cancels the action.
    const note = window.prompt(`${action === 'acknowledge' ? 'Acknowledge' : 'Resolve'} ${what}. Note (optional):`, '');
    if (note === null) return;
    button.disabled = true;
    try {
      const updated = await api('POST', `/v1/alarms/${encodeURIComponent(alarm.id)}/${action}`, note.trim() ? { note: note.trim().slice(0, 500) } : undefined);
      applyAlarm(updated);
      report(`${action === 'acknowledge' ? 'Acknowledged' : 'Resolved'}: ${what}.`);
    } catch (err) {
      report(describeError(err));
      button.disabled = false;
    }
  };
  const buttons = [];
  if (alarm.state === 'open') {
    const b = el('button', { type: 'button', class: 'small', 'aria-label': `Acknowledge ${what}` }, 'Acknowledge');
    b.addEventListener('click', () => act('acknowledge', b));
    buttons.push(b);
  }
  if (alarm.state !== 'resolved') {
    const b = el('button', { type: 'button', class: 'small secondary', 'aria-label': `Resolve ${what}` }, 'Resolve');
    b.addEventListener('click', () => act('resolve', b));
    buttons.push(b);
  }
  return buttons;
}

/** Patches an alarm row: cells by data-col; buttons rebuilt only when the state changed. */
export function patchAlarmRow(tr, a, report) {
  const cells = tr.cells;
  for (const td of cells) {
    const col = td.dataset.col;
    if (col === 'kind') {
      setText(td, `${words(a.kind)} · ${a.severity ?? 'warning'}${a.note ? ` · “${a.note}”` : ''}`);
      setData(td, 'severity', a.severity ?? 'warning');
    } else if (col === 'age') setText(td, ageOf(a.firstAt));
    else if (col === 'locker') {
      const link = td.firstChild;
      setText(link, lockerName(a.lockerId));
    } else if (col === 'compartment') setText(td, a.compartmentId ?? '–');
    else if (col === 'count') setText(td, a.count);
    else if (col === 'last') setText(td, fmtTime(a.lastAt));
    else if (col === 'state') {
      const who = a.state === 'acknowledged' ? ` by ${a.acknowledgedBy}` : a.state === 'resolved' ? ` by ${a.resolvedBy}` : '';
      setText(td, `${a.state}${who}`);
      setData(td, 'state', a.state);
    } else if (col === 'actions' && td.dataset.for !== a.state) {
      td.dataset.for = a.state;
      td.replaceChildren(...alarmButtons(a, report));
    }
  }
}

export function alarmRow(a, { withLocker }) {
  const tr = el('tr');
  tr.append(el('th', { scope: 'row', dataset: { col: 'kind' } }));
  if (withLocker) tr.append(el('td', { dataset: { col: 'locker', label: 'Locker' } }, el('a', { href: `#/lockers/${encodeURIComponent(a.lockerId)}` })));
  tr.append(
    el('td', { dataset: { col: 'compartment', label: 'Compartment' } }),
    el('td', { dataset: { col: 'count', label: 'Count' } }),
    el('td', { dataset: { col: 'last', label: 'Last' } }),
    withLocker ? el('td', { dataset: { col: 'age', label: 'Age' } }) : null,
    el('td', { class: 'state', dataset: { col: 'state', label: 'State' } }),
    el('td', { class: 'actions', dataset: { col: 'actions', label: 'Actions' } }),
  );
  return tr;
}

const byRecent = (a, b) => b.lastAt - a.lastAt || (a.id < b.id ? -1 : 1);
const bySeverity = (a, b) => (SEVERITY_RANK[a.severity] ?? 1) - (SEVERITY_RANK[b.severity] ?? 1) || a.firstAt - b.firstAt || byRecent(a, b);

export function createAlarmsView() {
  const tbody = document.querySelector('#alarm-table tbody');
  const filter = document.getElementById('alarm-state');
  const kindFilter = document.getElementById('alarm-kind');
  const severityFilter = document.getElementById('alarm-severity');
  const lockerFilter = document.getElementById('alarm-locker');
  const sortBy = document.getElementById('alarm-sort');
  const none = document.getElementById('alarms-none');
  const result = document.getElementById('alarm-result');
  const badge = document.getElementById('nav-alarms');
  const report = (text) => setText(result, text);
  let resolved = [];
  let visible = false;

  function render() {
    const open = [...store.alarms.values()].filter((a) => a.state === 'open').length;
    setText(badge, open ? String(open) : '');
    badge.setAttribute('aria-label', `${open} open alarms`);
    if (!visible) return;
    const mode = filter.value;
    const term = lockerFilter.value.trim().toLowerCase();
    const kinds = new Set([...store.alarms.values()].map((a) => a.kind));
    if (kindFilter.options.length - 1 !== kinds.size) {
      const current = kindFilter.value;
      kindFilter.replaceChildren(el('option', { value: '' }, 'All kinds'), ...[...kinds].sort().map((k) => el('option', { value: k }, words(k))));
      kindFilter.value = current;
    }
    const wanted = (a) =>
      (!kindFilter.value || a.kind === kindFilter.value) &&
      (!severityFilter.value || (a.severity ?? 'warning') === severityFilter.value) &&
      (!term || a.lockerId === lockerFilter.value.trim() || lockerName(a.lockerId).toLowerCase().includes(term));
    const base = mode === 'resolved' ? resolved : [...store.alarms.values()].filter((a) => mode === 'unresolved' || a.state === mode);
    const items = base.filter(wanted).sort(sortBy.value === 'severity' ? bySeverity : byRecent);
    syncRows(tbody, items.slice(0, 500), (a) => a.id, (a) => alarmRow(a, { withLocker: true }), (tr, a) => patchAlarmRow(tr, a, report));
    show(none, items.length === 0);
  }

  async function loadResolved() {
    try {
      const q = new URLSearchParams({ state: 'resolved', limit: '200' });
      if (kindFilter.value) q.set('kind', kindFilter.value);
      if (severityFilter.value) q.set('severity', severityFilter.value);
      resolved = (await api('GET', `/v1/alarms?${q}`)).items;
    } catch (err) {
      report(describeError(err));
      resolved = [];
    }
    render();
  }

  filter.addEventListener('change', () => (filter.value === 'resolved' ? loadResolved() : render()));
  for (const input of [kindFilter, severityFilter, sortBy]) input.addEventListener('change', () => (filter.value === 'resolved' ? loadResolved() : render()));
  lockerFilter.addEventListener('input', () => render());
  subscribe(() => render());
  return {
    show() {
      visible = true;
      if (filter.value === 'resolved') void loadResolved();
      else render();
    },
    hide() {
      visible = false;
    },
  };
}
