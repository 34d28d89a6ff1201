import type { Transaction } from 'kysely';
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
}

export type Allocation = { ok: true; compartmentId: string } | { ok: false; code: 'SIZE_NOT_OFFERED' | 'NO_FREE_COMPARTMENT' };

/**
 * The locker's compartments as the allocation rules see them (bookings, re-bookings); undefined when there is no
 * such locker. One read: the locker left-joined with its compartments.
 */
export async function compartmentCandidates(trx: Transaction<Database>, lockerId: string): Promise<CompartmentCandidate[] | undefined> {
  const { rows } = await compartmentsOf.run(trx, { lockerId });
  if (rows.length === 0) return undefined;
  return rows.flatMap((c) =>
    c.id !== null && c.size !== null ? [{ id: c.id, size: c.size, inService: c.in_service === 1, parcelId: c.parcel_id, low: c.low === 1 }] : [],
  );
}

// Compiled once (server/store/prepared-query.ts): every booking runs it.
const compartmentsOf = prepareQuery((db, a: { lockerId: string }) =>
  db
    .selectFrom('lockers as l')
    .leftJoin('compartments as c', 'c.locker_id', 'l.id')
    .select(['c.id', 'c.size', 'c.in_service', 'c.parcel_id', 'c.low'])
    .where('l.id', '=', a.lockerId),
);

/**
 * Every free in-service compartment that fits the parcel, best first (smallest, then lowest id). An `accessible`
 * booking ranks the low compartments first (smallest of them first), then the others: it still gets a door when
 * no low one is free, and the booking answer says so (`lowCompartment: false`).
 */
export function rankFree(compartments: readonly CompartmentCandidate[], size: CompartmentSize, accessible = false): string[] {
  const lowFirst = (c: CompartmentCandidate) => (accessible && !c.low ? 1 : 0);
  return compartments
    .filter((c) => fits(size, c.size) && c.inService && c.parcelId === null)
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
    const reserved = await reserveIfFree.run(trx, { parcelId, lockerId, compartmentId });
    if (reserved.numAffectedRows === 1n) return compartmentId;
  }
  return undefined;
}

// Compiled once (server/store/prepared-query.ts): every booking runs it.
const reserveIfFree = prepareQuery((db, a: { parcelId: string; lockerId: string; compartmentId: string }) =>
  db
    .updateTable('compartments')
    .set({ parcel_id: a.parcelId })
    .where('locker_id', '=', a.lockerId)
    .where('id', '=', a.compartmentId)
    .where('parcel_id', 'is', null)
    .where('in_service', '=', 1)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('commands')
            .select('commands.id')
            .whereRef('commands.locker_id', '=', 'compartments.locker_id')
            .whereRef('commands.compartment_id', '=', 'compartments.id')
            .where('commands.type', '=', 'open')
            .where('commands.state', '=', 'pending'),
        ),
      ),
    ),
);
