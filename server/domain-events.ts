/**
 * What happened in the domain, as the server announces it after the commit (ChangeBus.domain): the log
 * (server/domain-log.ts) writes one info line for each one that matters. Ids and states only: never a code, a
 * grant, a recipient or a token.
 */
import type { HistorySource } from './store/schema.js';

export type DomainEvent =
  /** A parcel history row was committed (`change` is its type: booked, deposited, picked_up, expired, …). */
  | { type: 'parcel'; change: string; parcelId: string; status: string; source: HistorySource; sourceRef: string; at: number }
  | { type: 'alarm.raised'; alarmId: string; lockerId: string; kind: string; compartmentId: string | null; parcelId: string | null }
  | { type: 'alarm.resolved'; alarmId: string; lockerId: string; kind: string; by: string }
  /** The locker's retained status: online when its agent connected, offline by its will (or a clean stop). */
  | { type: 'locker.presence'; lockerId: string; online: boolean }
  | { type: 'command.sent'; commandId: string; lockerId: string; commandType: string; compartmentId: string; requestedBy: string }
  | { type: 'command.done'; commandId: string; lockerId: string; state: string; result: string | null };

export type DomainListener = (event: DomainEvent) => void;
