import type { Logger } from 'pino';
import type { ChangeBus } from './change-bus.js';
import type { DomainEvent } from './domain-events.js';

/** Parcel history types worth an info line, and what the line says; other history rows are debug lines. */
const PARCEL_LINES: Readonly<Record<string, string>> = {
  booked: 'parcel booked',
  deposited: 'parcel deposited',
  picked_up: 'parcel picked up',
  expired: 'parcel expired',
  collected: 'parcel returned',
  cancelled: 'parcel cancelled',
  reservation_expired: 'parcel cancelled',
  moved: 'parcel moved',
  extended: 'pickup window extended',
};

/** The message and fields of an event's log line, and its level. Pure: tested with every kind of event. */
export function domainLine(e: DomainEvent): { level: 'info' | 'debug'; fields: Record<string, unknown>; msg: string } {
  switch (e.type) {
    case 'parcel': {
      const msg = PARCEL_LINES[e.change];
      const fields = { parcelId: e.parcelId, status: e.status, source: e.source, by: e.sourceRef, ...(msg ? {} : { change: e.change }) };
      // A cancellation names why: cancelled by the API, or the reservation ran out.
      if (e.change === 'cancelled' || e.change === 'reservation_expired') Object.assign(fields, { cause: e.change });
      return msg ? { level: 'info', fields, msg } : { level: 'debug', fields, msg: 'parcel history' };
    }
    case 'alarm.raised':
      return { level: 'info', fields: { alarmId: e.alarmId, lockerId: e.lockerId, kind: e.kind, compartmentId: e.compartmentId ?? undefined, parcelId: e.parcelId ?? undefined }, msg: 'alarm raised' };
    case 'alarm.resolved':
      return { level: 'info', fields: { alarmId: e.alarmId, lockerId: e.lockerId, kind: e.kind, by: e.by }, msg: 'alarm resolved' };
    case 'locker.presence':
      return { level: 'info', fields: { lockerId: e.lockerId }, msg: e.online ? 'locker online' : 'locker offline' };
    case 'command.sent':
      return { level: 'info', fields: { commandId: e.commandId, lockerId: e.lockerId, type: e.commandType, compartmentId: e.compartmentId, requestedBy: e.requestedBy }, msg: 'command sent' };
    case 'command.done':
      return { level: 'info', fields: { commandId: e.commandId, lockerId: e.lockerId, state: e.state, result: e.result ?? undefined }, msg: 'command done' };
  }
}

/**
 * One log line per domain event, written in this one place: what the change bus announces after each commit
 * (server/change-bus.ts). Returns the unsubscribe.
 */
export function logDomainEvents(bus: ChangeBus, log: Logger): () => void {
  return bus.onDomain((e) => {
    const line = domainLine(e);
    log[line.level](line.fields, line.msg);
  });
}
