// What the live stream told us: every locker's summary, every unresolved alarm, the totals.

export const store = {
  /** id → summary, in registration order (Map keeps insertion order). */
  lockers: new Map(),
  /** id → unresolved alarm. */
  alarms: new Map(),
  totals: null,
  listeners: new Set(),
};

/** fn(change): change.type is 'snapshot' or 'update' with the ids that moved. */
export function subscribe(fn) {
  store.listeners.add(fn);
  return () => store.listeners.delete(fn);
}

function emit(change) {
  for (const fn of store.listeners) {
    try {
      fn(change);
    } catch (err) {
      console.error(err);
    }
  }
}

export function applySnapshot(s) {
  store.lockers = new Map(s.lockers.map((l) => [l.id, l]));
  store.alarms = new Map(s.alarms.map((a) => [a.id, a]));
  store.totals = s.totals;
  emit({ type: 'snapshot' });
}

export function applyUpdate(u) {
  const added = [];
  for (const l of u.lockers) {
    if (!store.lockers.has(l.id)) added.push(l.id);
    store.lockers.set(l.id, l);
  }
  const alarmLockers = new Set(u.alarms.lockerIds);
  for (const [id, a] of store.alarms) if (alarmLockers.has(a.lockerId)) store.alarms.delete(id);
  for (const a of u.alarms.items) store.alarms.set(a.id, a);
  store.totals = u.totals;
  emit({ type: 'update', lockers: u.lockers.map((l) => l.id), added, alarmLockers: u.alarms.lockerIds, activity: u.activity });
}

/** An alarm the operator just acted on (the next live update confirms it). */
export function applyAlarm(alarm) {
  if (alarm.state === 'resolved') store.alarms.delete(alarm.id);
  else store.alarms.set(alarm.id, alarm);
  emit({ type: 'update', lockers: [], added: [], alarmLockers: [alarm.lockerId], activity: [] });
}
