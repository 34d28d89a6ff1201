// Firmware rollouts (admins only): the list (#/rollouts) and one rollout's progress (#/rollouts/:id): overall and
// per wave, its lockers, and Pause / Resume / Abort / Roll back, each confirmed with a reason. Read again every few
// seconds while the view is open; the timer stops when the view is left.
import { api, describeError } from './api.js';
import { el, fmtTime, setData, setText, show, syncRows, words } from './dom.js';
import { store } from './store.js';

const REFRESH_MS = 2500;

/** Which states allow which action (as the server's TRANSITIONS in server/firmware/rollouts.ts). */
const ALLOWED = {
  pause: ['running'],
  resume: ['paused', 'halted'],
  abort: ['running', 'paused', 'halted'],
  rollback: ['running', 'paused', 'halted', 'aborted', 'completed'],
};

const ACTIONS = {
  pause: { title: 'Pause', what: 'Nothing new is sent; updates already sent finish.' },
  resume: { title: 'Resume', what: 'Sending goes on; the health gate counts failures and alarms from now on (the failures so far are accepted).' },
  abort: { title: 'Abort', what: 'Nothing more is sent, for good; lockers keep the version they run.' },
  rollback: { title: 'Roll back', what: 'Every locker the update was sent to is sent the version it ran before, at once, ignoring the maintenance window.' },
};

/** Rollout and locker states as the shared .state colours see them. */
const TONE = {
  running: 'pending',
  paused: 'acknowledged',
  halted: 'failed',
  aborted: 'expired',
  completed: 'succeeded',
  rolling_back: 'acknowledged',
  rolled_back: 'expired',
  pending: 'waiting',
  sent: 'pending',
  updated: 'succeeded',
  failed: 'failed',
};

/** Cumulative percentages (increasing, the last 100) or the sizes of locker groups, as the API gives them. */
function wavesText(waves) {
  const percent = waves.at(-1) === 100 && waves.every((w, i) => i === 0 || w > waves[i - 1]);
  return percent ? waves.map((w) => `${w} %`).join(' → ') : `groups of ${waves.join(', ')} lockers`;
}

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const waveText = (r) => `${Math.min(r.wave + 1, r.waves.length)} of ${r.waves.length}`;

function countsText(r) {
  const parts = [`${r.updated} of ${plural(r.target, 'locker')} updated`, `${r.failed} failed`];
  if (r.inProgress) parts.push(`${r.inProgress} in progress`);
  if (r.pending) parts.push(`${r.pending} waiting`);
  if (r.rolledBack) parts.push(`${r.rolledBack} rolled back`);
  return parts.join(', ');
}

function lockerName(id) {
  const l = store.lockers.get(id);
  return l && l.name ? l.name : null;
}

export function createRolloutsView() {
  const $ = (id) => document.getElementById(id);
  const heading = $('rollouts-h');
  const result = $('rollouts-result');
  const listPart = $('rollouts-list');
  const pagePart = $('rollout-page');
  const listBody = $('rollouts-table').tBodies[0];
  const lockerBody = $('rollout-lockers').tBodies[0];
  const dialog = $('rollout-dialog');
  const reason = $('rollout-reason');
  const dialogError = $('rollout-dialog-error');
  const buttons = [...$('rollout-actions').querySelectorAll('button[data-action]')];

  let current = null; // the rollout id of the page, or null for the list
  let shown = null; // the rollout last shown on the page
  let timer = null;
  let generation = 0; // a response for a view that was left is dropped
  let pendingAction = null;

  const report = (text) => setText(result, text);

  // Rows are patched in place on each refresh (syncRows), so a focused link keeps its focus.
  function listRow(r) {
    return el(
      'tr',
      { dataset: { id: r.id } },
      el('th', { scope: 'row' }, el('a', { href: `#/rollouts/${encodeURIComponent(r.id)}` }, r.version), el('span', { class: 'id' }, r.id)),
      el('td', { class: 'state', dataset: { label: 'State', col: 'state' } }, el('span', { class: 'what' }), el('span', { class: 'why' })),
      el('td', { dataset: { label: 'Wave', col: 'wave' } }),
      el('td', { dataset: { label: 'Progress', col: 'progress' } }, el('span', { class: 'counts' }), el('progress', { class: 'rollout-mini', 'aria-hidden': 'true' })),
      el('td', { dataset: { label: 'Started' } }, fmtTime(r.createdAt)),
      el('td', { dataset: { label: 'Last change', col: 'changed' } }),
    );
  }

  function patchListRow(tr, r) {
    const [, state, wave, progress, , changed] = tr.cells;
    setData(state, 'state', TONE[r.state] ?? r.state);
    setText(state.querySelector('.what'), words(r.state));
    setText(state.querySelector('.why'), r.haltedReason ? `Halted: ${r.haltedReason}` : '');
    setText(wave, waveText(r));
    setText(progress.querySelector('.counts'), `${r.updated} / ${r.target} updated, ${r.failed} failed`);
    const bar = progress.querySelector('progress');
    bar.max = Math.max(r.target, 1);
    bar.value = r.updated;
    setText(changed, fmtTime(r.updatedAt));
  }

  async function loadList(gen) {
    const { rollouts } = await api('GET', '/v1/rollouts');
    if (gen !== generation) return;
    syncRows(listBody, rollouts, (r) => r.id, listRow, patchListRow);
    show($('rollouts-none'), rollouts.length === 0);
  }

  function facts(r) {
    const rows = [
      ['Version', r.version],
      ['State', words(r.state)],
      ['Wave', `${waveText(r)} (${wavesText(r.waves)})`],
      ['Maintenance window', r.window.start === r.window.end ? 'all day' : `${r.window.start}–${r.window.end} local time`],
      ['Health gate', `failed ≤ ${r.healthGate.maxFailedPct} % of a wave, ≤ ${r.healthGate.maxAlarmIncrease} more alarms, deadline ${r.healthGate.deadlineSec} s`],
      ['Reason', r.reason],
      ['Started', `${fmtTime(r.createdAt)} by ${r.createdBy}`],
      ['Last change', fmtTime(r.updatedAt)],
    ];
    if (r.haltedReason) rows.splice(2, 0, ['Halted because', r.haltedReason]);
    return rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { dataset: { fact: k } }, v)]);
  }

  /** Per wave, from the lockers: how many, updated, failed, in progress. */
  function waveItems(r, lockers) {
    const waves = r.waves.map(() => ({ size: 0, updated: 0, failed: 0, active: 0, rolledBack: 0 }));
    for (const l of lockers) {
      const w = waves[l.wave];
      if (!w) continue;
      w.size += 1;
      if (l.state === 'updated') w.updated += 1;
      else if (l.state === 'failed') w.failed += 1;
      else if (l.state === 'sent' || l.state === 'rolling_back') w.active += 1;
      else if (l.state === 'rolled_back') w.rolledBack += 1;
    }
    return waves.map((w, i) => {
      const status = i < r.wave ? 'done' : i === r.wave && r.state !== 'completed' ? 'current' : i > r.wave ? 'waiting' : 'done';
      const text = `Wave ${i + 1} of ${waves.length} (${status}): ${w.updated} of ${plural(w.size, 'locker')} updated, ${w.failed} failed${w.active ? `, ${w.active} in progress` : ''}${w.rolledBack ? `, ${w.rolledBack} rolled back` : ''}`;
      const id = `rollout-wave-${i}`;
      return el(
        'li',
        { dataset: { wave: String(i), status } },
        el('span', { id, class: 'wave-text' }, text),
        el('progress', { class: 'rollout-bar', max: Math.max(w.size, 1), value: w.updated, 'aria-labelledby': id }),
      );
    });
  }

  function patchLocker(tr, l) {
    const cells = tr.cells;
    setText(cells[1], String(l.wave + 1));
    setText(cells[2], words(l.state));
    setData(cells[2], 'state', TONE[l.state] ?? l.state);
    setText(cells[3], l.fromVersion ?? 'unknown');
    setText(cells[4], l.deviceState ? words(l.deviceState) : '–');
    setText(cells[5], l.detail ?? '–');
    setText(cells[6], l.sentAt ? fmtTime(l.sentAt) : '–');
    setText(cells[7], l.doneAt ? fmtTime(l.doneAt) : '–');
  }

  function lockerRow(l) {
    const name = lockerName(l.lockerId);
    return el(
      'tr',
      { dataset: { id: l.lockerId } },
      el('th', { scope: 'row' }, el('a', { href: `#/lockers/${encodeURIComponent(l.lockerId)}` }, name ?? l.lockerId), name ? el('span', { class: 'id' }, l.lockerId) : null),
      el('td', { dataset: { label: 'Wave', col: 'wave' } }),
      el('td', { class: 'state', dataset: { label: 'State', col: 'state' } }),
      el('td', { dataset: { label: 'From version', col: 'from' } }),
      el('td', { dataset: { label: 'Locker reports', col: 'device' } }),
      el('td', { dataset: { label: 'Detail', col: 'detail' } }),
      el('td', { dataset: { label: 'Sent' } }),
      el('td', { dataset: { label: 'Done' } }),
    );
  }

  function renderActions(r) {
    let any = false;
    for (const b of buttons) {
      const allowed = ALLOWED[b.dataset.action].includes(r.state);
      show(b, allowed);
      b.setAttribute('aria-label', `${ACTIONS[b.dataset.action].title} the rollout of ${r.version}`);
      any ||= allowed;
    }
    show($('rollout-no-actions'), !any);
  }

  async function loadPage(gen, id) {
    const [r, { lockers }] = await Promise.all([api('GET', `/v1/rollouts/${encodeURIComponent(id)}`), api('GET', `/v1/rollouts/${encodeURIComponent(id)}/lockers`)]);
    if (gen !== generation) return;
    shown = r;
    const title = `Rollout of ${r.version}`;
    setText(heading, title);
    document.title = `${title} · Lockstep operations`;
    $('rollout-facts').replaceChildren(...facts(r));
    setText($('rollout-summary'), `${words(r.state)}, wave ${waveText(r)}: ${countsText(r)}.${r.haltedReason ? ` Halted: ${r.haltedReason}.` : ''}`);
    const bar = $('rollout-bar');
    bar.max = Math.max(r.target, 1);
    bar.value = r.updated;
    const complete = lockers.length === r.target;
    $('rollout-waves').replaceChildren(...(complete ? waveItems(r, lockers) : []));
    show($('rollout-waves-note'), !complete);
    syncRows(lockerBody, lockers, (l) => l.lockerId, lockerRow, patchLocker);
    const more = $('rollout-lockers-more');
    show(more, !complete);
    setText(more, complete ? '' : `The first ${lockers.length} of ${r.target} lockers, by wave.`);
    if (!dialog.open) renderActions(r);
  }

  async function refresh() {
    clearTimeout(timer);
    const gen = generation;
    try {
      if (current) await loadPage(gen, current);
      else await loadList(gen);
    } catch (err) {
      if (gen === generation) report(describeError(err));
    }
    // One timer only, even when a refresh after an action overlapped the timer's own.
    if (gen === generation) {
      clearTimeout(timer);
      timer = setTimeout(() => void refresh(), REFRESH_MS);
    }
  }

  function openDialog(action) {
    if (!shown) return;
    pendingAction = action;
    const a = ACTIONS[action];
    setText($('rollout-dialog-h'), `${a.title} the rollout of ${shown.version}?`);
    setText($('rollout-dialog-what'), a.what);
    setText($('rollout-confirm'), `${a.title} rollout`);
    setText(dialogError, '');
    reason.value = '';
    dialog.showModal();
    reason.focus();
  }

  function closeDialog() {
    if (dialog.open) dialog.close();
    pendingAction = null;
  }

  for (const b of buttons) b.addEventListener('click', () => openDialog(b.dataset.action));
  $('rollout-cancel').addEventListener('click', closeDialog);
  dialog.addEventListener('close', () => {
    pendingAction = null;
    if (shown) renderActions(shown);
  });

  $('rollout-dialog-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const action = pendingAction;
    const why = reason.value.trim();
    if (!action || !shown) return closeDialog();
    if (why.length < 3) {
      setText(dialogError, 'Give a reason of at least 3 characters; it goes into the audit log.');
      reason.focus();
      return;
    }
    const id = shown.id;
    const version = shown.version;
    $('rollout-confirm').disabled = true;
    try {
      const r = await api('POST', `/v1/rollouts/${encodeURIComponent(id)}/${action}`, { reason: why.slice(0, 200) });
      closeDialog();
      report(`${ACTIONS[action].title}: the rollout of ${version} is now ${words(r.state)}.`);
    } catch (err) {
      setText(dialogError, describeError(err));
      return;
    } finally {
      $('rollout-confirm').disabled = false;
    }
    await refresh();
    // The button used may be gone in the new state: keep the focus on the page.
    const next = buttons.find((b) => !b.hidden);
    (next ?? heading).focus();
  });

  return {
    show(id) {
      generation += 1;
      current = id ?? null;
      shown = null;
      closeDialog();
      report('');
      show(listPart, !current);
      show(pagePart, Boolean(current));
      show($('rollout-back'), Boolean(current));
      setText(heading, current ? 'Rollout' : 'Firmware rollouts');
      if (current) {
        $('rollout-facts').replaceChildren();
        lockerBody.replaceChildren();
        $('rollout-waves').replaceChildren();
        setText($('rollout-summary'), '');
        for (const b of buttons) show(b, false);
      }
      void refresh();
    },
    hide() {
      generation += 1;
      clearTimeout(timer);
      timer = null;
      closeDialog();
    },
  };
}
