// One locker: facts, compartment grid with live states, compartment actions (remote open, service state),
// unresolved alarms, commands and recent device events. Reloaded (at most one request set at a time) when a
// live update names this locker.
import { api, describeError } from './api.js';
import { renderHistory } from './charts.js';
import { el, fmtTime, setData, setText, show, syncRows, words } from './dom.js';
import { alarmRow, patchAlarmRow } from './alarms.js';
import { store, subscribe } from './store.js';

const EVENTS_PAGE = 25;

function eventDetail(e) {
  const parts = [];
  if (e.action) parts.push(e.action);
  if (e.via) parts.push(`via ${e.via}`);
  if (e.reason) parts.push(e.reason);
  if (e.parcelId) parts.push(`parcel ${e.parcelId}`);
  if (e.commandId) parts.push(`command ${e.commandId}`);
  return parts.join(' · ') || '–';
}

/** Firmware, temperature and power from the locker's latest heartbeat (nothing before the first one). */
function telemetryFacts(t) {
  if (!t) return [['Telemetry', 'none yet']];
  const power = !t.power
    ? '–'
    : t.power.source === 'battery'
      ? `on backup battery${t.power.batteryPct === null ? '' : `, ${t.power.batteryPct} %`}`
      : `mains${t.power.batteryPct === null ? '' : ` (battery ${t.power.batteryPct} %)`}`;
  return [
    ['Firmware', t.firmwareVersion ?? '–'],
    ['Temperature', t.temperatureC === null ? '–' : `${t.temperatureC} °C`],
    ['Power', power],
    ['Telemetry from', fmtTime(t.at)],
  ];
}

export function createLockerView() {
  const heading = document.getElementById('locker-h');
  const facts = document.getElementById('locker-facts');
  const grid = document.getElementById('compartments');
  const form = document.getElementById('command-form');
  const select = document.getElementById('cmd-compartment');
  const reason = document.getElementById('cmd-reason');
  const serviceButton = document.getElementById('cmd-service');
  const result = document.getElementById('cmd-result');
  const alarmsBody = document.querySelector('#locker-alarms tbody');
  const alarmsNone = document.getElementById('locker-alarms-none');
  const commandsBody = document.querySelector('#commands tbody');
  const eventsBody = document.querySelector('#events tbody');
  const older = document.getElementById('events-older');
  const report = (text) => setText(result, text);

  let lockerId = null;
  let view = null;
  let olderEvents = [];
  let nextBefore = null;
  let loading = null;
  let again = false;

  function renderFacts() {
    const l = view;
    const rows = [
      ['Id', l.id],
      ['Status', l.online ? 'Online' : 'Offline'],
      ['Last seen', fmtTime(l.lastSeenAt)],
      ['Location', `${l.location.lat.toFixed(5)}, ${l.location.lon.toFixed(5)}`],
      ['Desired state', `version ${l.desiredVersion}, locker reported ${l.reportedVersion}`],
      ['Device events', `${l.events.received} committed, last seq ${l.events.lastSeq}`],
      ...telemetryFacts(l.telemetry),
    ];
    if (facts.children.length !== rows.length * 2) facts.replaceChildren(...rows.flatMap(([k]) => [el('dt', {}, k), el('dd', { dataset: { fact: k } })]));
    rows.forEach(([, v], i) => setText(facts.children[i * 2 + 1], v));
    setText(heading, l.name);
    document.title = `${l.name} · Lockstep operations`;
  }

  function renderGrid() {
    const existing = new Map([...grid.children].map((li) => [li.dataset.id, li]));
    for (const c of view.compartments) {
      let li = existing.get(c.id);
      if (!li) {
        li = el('li', { dataset: { id: c.id } }, el('span', { class: 'cid' }, c.id), el('span', { class: 'size' }, c.size), el('span', { class: 'cstate' }), el('span', { class: 'parcel' }));
        grid.append(li);
      }
      existing.delete(c.id);
      setData(li, 'state', c.state);
      setText(li.querySelector('.cstate'), words(c.state));
      // The parcel id is a link to its page.
      const slot = li.querySelector('.parcel');
      if ((slot.dataset.parcel ?? '') !== (c.parcelId ?? '')) {
        slot.dataset.parcel = c.parcelId ?? '';
        slot.replaceChildren(...(c.parcelId ? [el('a', { href: `#/parcels/${encodeURIComponent(c.parcelId)}` }, c.parcelId)] : []));
      }
      li.setAttribute('aria-label', `${c.id}, size ${c.size}, ${words(c.state)}${c.parcelId ? `, parcel ${c.parcelId}` : ''}`);
    }
    for (const li of existing.values()) li.remove();
    const chosen = select.value;
    if (select.options.length !== view.compartments.length) {
      select.replaceChildren(...view.compartments.map((c) => el('option', { value: c.id }, `${c.id} (${c.size})`)));
      if (chosen) select.value = chosen;
    }
    renderServiceButton();
  }

  function selected() {
    return view?.compartments.find((c) => c.id === select.value);
  }

  function renderServiceButton() {
    const c = selected();
    setText(serviceButton, c && !c.inService ? 'Return to service' : 'Take out of service');
  }

  function renderAlarms() {
    const items = [...store.alarms.values()].filter((a) => a.lockerId === lockerId).sort((a, b) => b.lastAt - a.lastAt);
    syncRows(alarmsBody, items, (a) => a.id, (a) => alarmRow(a, { withLocker: false }), (tr, a) => patchAlarmRow(tr, a, report));
    show(alarmsNone, items.length === 0);
    show(alarmsBody.closest('.table-wrap'), items.length > 0);
  }

  function renderCommands(commands) {
    syncRows(
      commandsBody,
      commands.slice(0, 20),
      (c) => c.id,
      () => el('tr', {}, el('td', { dataset: { label: 'Asked' } }), el('th', { scope: 'row' }), el('td', { dataset: { label: 'Reason' } }), el('td', { dataset: { label: 'By' } }), el('td', { class: 'state', dataset: { label: 'State' } })),
      (tr, c) => {
        const [at, what, why, by, state] = tr.cells;
        setText(at, fmtTime(c.createdAt));
        setText(what, c.type === 'open' ? `Open ${c.compartmentId}` : `${c.inService ? 'Return' : 'Take out'} ${c.compartmentId}${c.inService ? ' to service' : ' of service'}`);
        setText(why, c.reason);
        setText(by, c.requestedBy);
        setText(state, c.result ? `${c.state} (${c.result})` : c.state);
        setData(state, 'state', c.state);
      },
    );
  }

  function renderEvents(recent) {
    const items = [...recent, ...olderEvents.filter((e) => !recent.some((r) => r.seq === e.seq))];
    syncRows(
      eventsBody,
      items,
      (e) => String(e.seq),
      () => el('tr', {}, el('td', { dataset: { label: 'Seq' } }), el('td', { dataset: { label: 'Device time' } }), el('th', { scope: 'row' }), el('td', { dataset: { label: 'Compartment' } }), el('td', { dataset: { label: 'Detail' } })),
      (tr, e) => {
        const [seq, at, type, comp, detail] = tr.cells;
        setText(seq, e.seq);
        setText(at, fmtTime(e.at));
        setText(type, words(e.type));
        setText(comp, e.compartmentId ?? '–');
        setText(detail, eventDetail(e));
      },
    );
  }

  /** Reads the locker, its commands and its latest events; a call while one runs makes it run once more. */
  async function load() {
    if (loading) {
      again = true;
      return loading;
    }
    const id = lockerId;
    loading = (async () => {
      try {
        const [l, commands, events] = await Promise.all([
          api('GET', `/v1/lockers/${encodeURIComponent(id)}`),
          api('GET', `/v1/lockers/${encodeURIComponent(id)}/commands`),
          api('GET', `/v1/lockers/${encodeURIComponent(id)}/events?limit=${EVENTS_PAGE}`),
        ]);
        if (id !== lockerId) return;
        view = l;
        renderFacts();
        renderGrid();
        renderCommands(commands.commands);
        if (olderEvents.length === 0) nextBefore = events.nextBefore;
        renderEvents(events.events);
        show(older, nextBefore !== null);
      } catch (err) {
        if (id === lockerId) report(describeError(err));
      }
    })();
    await loading;
    loading = null;
    if (again) {
      again = false;
      await load();
    }
  }

  async function send(action) {
    const c = selected();
    if (!c) return;
    const body =
      action === 'open'
        ? { type: 'open', compartmentId: c.id, reason: reason.value.trim() }
        : { type: 'set_service', compartmentId: c.id, inService: !c.inService, reason: reason.value.trim() };
    // A remote open is confirmed first; opening a compartment with a parcel in it may need a second operator.
    if (action === 'open') {
      const held = c.state === 'occupied' || c.state === 'reserved';
      const question = `Open compartment ${c.id} remotely now?\nReason: ${body.reason}${held ? '\nIt holds a parcel: beyond your daily allowance a second operator must approve (four-eyes).' : ''}`;
      if (!window.confirm(question)) {
        report(`Remote open of ${c.id} not sent.`);
        return;
      }
    }
    try {
      const cmd = await api('POST', `/v1/lockers/${encodeURIComponent(lockerId)}/commands`, body);
      if (cmd.requestId) report(`Four-eyes: the remote open of ${c.id} waits for another operator's approval (request ${cmd.requestId}, ${cmd.state.replaceAll('_', ' ')}, until ${fmtTime(cmd.expiresAt)}).`);
      else report(action === 'open' ? `Remote open of ${c.id} sent (command ${cmd.id}, ${cmd.state}).` : `${c.inService ? 'Out-of-service' : 'Back-in-service'} command for ${c.id} sent (${cmd.state}).`);
      reason.value = '';
      await load();
    } catch (err) {
      report(describeError(err));
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const action = e.submitter && e.submitter.dataset.action;
    void send(action === 'service' ? 'service' : 'open');
  });
  select.addEventListener('change', renderServiceButton);
  older.addEventListener('click', async () => {
    if (nextBefore === null) return;
    try {
      const page = await api('GET', `/v1/lockers/${encodeURIComponent(lockerId)}/events?limit=${EVENTS_PAGE}&before=${nextBefore}`);
      olderEvents = [...olderEvents, ...page.events];
      nextBefore = page.nextBefore;
      show(older, nextBefore !== null);
      await load();
    } catch (err) {
      report(describeError(err));
    }
  });

  subscribe((change) => {
    if (!lockerId) return;
    if (change.type === 'snapshot' || change.lockers.includes(lockerId) || change.activity.includes(lockerId)) void load();
    if (change.type === 'snapshot' || change.alarmLockers.includes(lockerId)) renderAlarms();
  });

  return {
    show(id) {
      if (id !== lockerId) {
        lockerId = id;
        view = null;
        olderEvents = [];
        nextBefore = null;
        grid.replaceChildren();
        facts.replaceChildren();
        select.replaceChildren();
        commandsBody.replaceChildren();
        eventsBody.replaceChildren();
        report('');
        setText(heading, store.lockers.get(id)?.name ?? 'Locker');
        // This locker's history charts (per-hour aggregates), drawn once per visit.
        const charts = document.getElementById('locker-charts');
        charts.replaceChildren();
        renderHistory(charts, id).catch((err) => report(describeError(err)));
      }
      renderAlarms();
      void load();
    },
    hide() {
      lockerId = null;
    },
  };
}
