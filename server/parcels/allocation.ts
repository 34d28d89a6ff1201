import { sql, type RawBuilder, type Transaction } from 'kysely';
import { fits, sizeRank, type CompartmentSize } from '../../shared/compartment-sizes.js';
import type { Database } from '../store/schema.js';
import { prepareQuery } from '../store/prepared-query.js';

export interface CompartmentCandidate {
  id: string;
  size: CompartmentSize;
  inService: boolean;
  /** Parcel reserved into or held by it; null when free. */
  parcelId: string | null;
  /** Sits low (reachable from a wheelchair). */
  low?: boolean;
  /** A remote open of it is still pending: not free (see `reservePicks`). */
  openPending?: boolean;
}

export type Allocation = { ok: true; compartmentId: string } | { ok: false; code: 'SIZE_NOT_OFFERED' | 'NO_FREE_COMPARTMENT' };

/**
 * The locker's compartments as the allocation rules see them (bookings, re-bookings); undefined when there is no
 * such locker.
 */
export async function compartmentCandidates(trx: Transaction<Database>, lockerId: string): Promise<CompartmentCandidate[] | undefined> {
  return (await lockersCompartments(trx, [lockerId])).get(lockerId);
}

/**
 * Several lockers' compartments in one read (a booking group's): the lockers left-joined with their compartments.
 * A locker that does not exist has no entry.
 */
export async function lockersCompartments(trx: Transaction<Database>, lockerIds: readonly string[]): Promise<Map<string, CompartmentCandidate[]>> {
  const byLocker = new Map<string, CompartmentCandidate[]>();
  if (lockerIds.length === 0) return byLocker;
  const { rows } = await compartmentsOf.run(trx, { lockerIds: [...lockerIds] });
  for (const c of rows) {
    let list = byLocker.get(c.locker_id);
    if (!list) byLocker.set(c.locker_id, (list = []));
    if (c.id !== null && c.size !== null) {
      list.push({ id: c.id, size: c.size, inService: c.in_service === 1, parcelId: c.parcel_id, low: c.low === 1, openPending: Boolean(c.open_pending) });
    }
  }
  return byLocker;
}

// Compiled once per number of lockers (server/store/prepared-query.ts): every booking group runs it.
const compartmentsOf = prepareQuery((db, a: { lockerIds: string[] }) =>
  db
    .selectFrom('lockers as l')
    .leftJoin('compartments as c', 'c.locker_id', 'l.id')
    .select(['l.id as locker_id', 'c.id', 'c.size', 'c.in_service', 'c.parcel_id', 'c.low', openPending('c').as('open_pending')])
    .where('l.id', 'in', a.lockerIds),
);

/**
 * Whether a remote open of the compartment is still pending. Such a compartment is not free: the open was allowed
 * because it was empty (no second operator), and must not hand out a parcel booked meanwhile when an offline locker
 * reconnects.
 */
function openPending(compartments: 'c' | 'compartments'): RawBuilder<boolean> {
  return sql<boolean>`exists (select 1 from commands where commands.locker_id = ${sql.ref(`${compartments}.locker_id`)}
    and commands.compartment_id = ${sql.ref(`${compartments}.id`)} and commands.type = 'open' and commands.state = 'pending')`;
}

/**
 * Every free in-service compartment that fits the parcel, best first (smallest, then lowest id). An `accessible`
 * booking ranks the low compartments first (smallest of them first), then the others: it still gets a door when
 * no low one is free, and the booking answer says so (`lowCompartment: false`).
 */
export function rankFree(compartments: readonly CompartmentCandidate[], size: CompartmentSize, accessible = false): string[] {
  const lowFirst = (c: CompartmentCandidate) => (accessible && !c.low ? 1 : 0);
  return compartments
    .filter((c) => fits(size, c.size) && c.inService && c.parcelId === null && !c.openPending)
    .sort((a, b) => lowFirst(a) - lowFirst(b) || sizeRank(a.size) - sizeRank(b.size) || a.id.localeCompare(b.id))
    .map((c) => c.id);
}

/** Picks the smallest free in-service compartment that fits the parcel (ties: lowest id). */
export function chooseCompartment(compartments: readonly CompartmentCandidate[], size: CompartmentSize): Allocation {
  if (!compartments.some((c) => fits(size, c.size))) return { ok: false, code: 'SIZE_NOT_OFFERED' };
  const best = rankFree(compartments, size)[0];
  return best ? { ok: true, compartmentId: best } : { ok: false, code: 'NO_FREE_COMPARTMENT' };
}

/**
 * Reserves the first of `ranked` that is still free, each with a conditional update (`parcel_id is null`): the
 * compartment row is the booking lock. Several server processes booking into one locker at once never share a
 * compartment; one that lost the race for a compartment (its update waited for the winner's commit, then matched
 * nothing) takes the next one. A compartment with a remote open still pending is not free either: that open was
 * allowed because the compartment was empty (no second operator), and must not hand out a parcel booked meanwhile
 * when an offline locker reconnects. Returns the compartment, or undefined when every candidate was taken.
 */
export async function reserveFirstFree(trx: Transaction<Database>, lockerId: string, parcelId: string, ranked: readonly string[]): Promise<string | undefined> {
  for (const compartmentId of ranked) {
    if ((await reservePicks(trx, [{ lockerId, compartmentId, parcelId }])).size === 1) return compartmentId;
  }
  return undefined;
}

/** A compartment a booking group picked for a parcel. */
export interface Pick {
  lockerId: string;
  compartmentId: string;
  parcelId: string;
}

/**
 * Reserves every pick that is still free with one conditional update (the same conditions as `reserveFirstFree`);
 * returns the picks it reserved, as `lockerId/compartmentId`. A pick another writer took first is left out: the
 * caller reads again and picks another.
 */
export async function reservePicks(trx: Transaction<Database>, picks: readonly Pick[]): Promise<Set<string>> {
  if (picks.length === 0) return new Set();
  const { rows } = await reserveEach.run(trx, { picks: picks.map((p) => ({ ...p })) });
  return new Set(rows.map((r) => `${r.locker_id}/${r.id}`));
}

// Compiled once per number of picks (server/store/prepared-query.ts).
const reserveEach = prepareQuery((db, a: { picks: Pick[] }) =>
  db
    .updateTable('compartments')
    .set((eb) => {
      let parcel = eb.case().when(eb.and([eb('locker_id', '=', a.picks[0]?.lockerId as string), eb('id', '=', a.picks[0]?.compartmentId as string)])).then(a.picks[0]?.parcelId as string);
      for (const p of a.picks.slice(1)) parcel = parcel.when(eb.and([eb('locker_id', '=', p.lockerId), eb('id', '=', p.compartmentId)])).then(p.parcelId);
      return { parcel_id: parcel.end() };
    })
    .where((eb) => eb(eb.refTuple('locker_id', 'id'), 'in', a.picks.map((p) => eb.tuple(p.lockerId, p.compartmentId))))
    .where('parcel_id', 'is', null)
    .where('in_service', '=', 1)
    .where((eb) => eb.not(openPending('compartments')))
    .returning(['locker_id', 'id']),
);
