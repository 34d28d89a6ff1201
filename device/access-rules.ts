import { checkClaims, type GrantClaims, type GrantVerdictCode } from '../shared/grants.js';

/** Why the locker refuses a code. Carried as `reason` in `code.rejected` events. */
export type AccessRefusal =
  | GrantVerdictCode
  | 'UNKNOWN_CODE'
  | 'ALREADY_USED'
  | 'REVOKED'
  | 'UNKNOWN_COMPARTMENT'
  | 'OUT_OF_SERVICE'
  | 'COMPARTMENT_FAULT'
  | 'COMPARTMENT_BUSY'
  | 'COMPARTMENT_OCCUPIED'
  | 'NOT_FILLED'
  | 'UNSUPPORTED_ACTION'
  /** Keypad input while the keypad is locked after repeated wrong codes (not checked at all; see keypad-lockout.ts). */
  | 'KEYPAD_LOCKED'
  /** A deposit code for a parcel this locker already holds (it went in, maybe into another compartment). */
  | 'ALREADY_DEPOSITED'
  /** A batch code whose every parcel is in (or was dealt with otherwise). */
  | 'BATCH_DONE'
  /** A scanned label that names no parcel still to go in with the batch code in use. */
  | 'UNKNOWN_LABEL'
  /** A parcel the locker had to move found no other free compartment that fits. */
  | 'NO_FREE_COMPARTMENT';

export interface AccessContext {
  lockerId: string;
  /** Best estimate of the true time (device clock corrected by the server's), ms. */
  now: number;
  clockToleranceSec: number;
  used: boolean;
  /** The server revoked this grant. */
  revoked: boolean;
  /** What this locker knows of the compartment the grant names; undefined when it has no such compartment. */
  compartment: { inService: boolean; fault: string | null; parcelId: string | null; busy: boolean } | undefined;
  /** For a deposit: the compartment where this locker already holds the grant's parcel, if any. */
  parcelHeldIn?: string | undefined;
}

/**
 * Whether a grant whose signature checked out may open its compartment now. Pure: the whole decision, no I/O.
 * A pickup opens only a compartment this locker itself saw filled with that parcel; a deposit only an empty one.
 * (When the locker moved a deposit, `compartment` is where it put the parcel: see the agent.) Batch grants
 * (`deposit_batch`) are decided per parcel by the agent (device/batch-entry.ts).
 */
export function decideAccess(claims: GrantClaims, ctx: AccessContext): AccessRefusal | null {
  const claimVerdict = checkClaims(claims, { lockerId: ctx.lockerId, now: ctx.now, clockToleranceSec: ctx.clockToleranceSec });
  if (claimVerdict) return claimVerdict;
  if (ctx.used) return 'ALREADY_USED';
  if (ctx.revoked) return 'REVOKED';
  const c = ctx.compartment;
  if (!c) return 'UNKNOWN_COMPARTMENT';
  if (c.fault) return 'COMPARTMENT_FAULT';
  if (c.busy) return 'COMPARTMENT_BUSY';
  switch (claims.act) {
    case 'deposit':
      if (ctx.parcelHeldIn !== undefined) return 'ALREADY_DEPOSITED';
      if (!c.inService) return 'OUT_OF_SERVICE';
      return c.parcelId === null ? null : 'COMPARTMENT_OCCUPIED';
    case 'pickup':
    case 'collect':
      return c.parcelId === claims.sub ? null : 'NOT_FILLED';
    default:
      return 'UNSUPPORTED_ACTION';
  }
}
