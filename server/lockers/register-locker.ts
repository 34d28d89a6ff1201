import { randomBytes } from 'node:crypto';
import type { EnrolmentTicket, RegisterLockerBody } from '../../shared/api/lockers.js';
import { LockstepError } from '../errors.js';
import type { ServerContext } from '../context.js';
import { createEnrolmentToken } from '../enrolment/enrolment-tokens.js';

export function newLockerId(): string {
  return `lk_${randomBytes(8).toString('hex')}`;
}

/** The row of a locker just registered: offline, never seen, not enrolled (used by the route and the bulk import). */
export function newLockerRow(id: string, reg: Pick<RegisterLockerBody, 'name' | 'location'>, now: number) {
  return {
    id,
    name: reg.name,
    lat: reg.location.lat,
    lon: reg.location.lon,
    created_at: now,
    // Lockers sign in with their own key (enrolment), never with a secret the server made.
    secret_hash: '',
    online: 0,
    last_seen_at: null,
    boot_id: null,
    desired_version: 0,
    reported_version: 0,
    reported_seq: 0,
    public_key: null,
    enrolled_at: null,
  };
}

export async function registerLocker(ctx: ServerContext, reg: RegisterLockerBody, createdBy: string): Promise<EnrolmentTicket> {
  const ids = new Set<string>();
  for (const c of reg.compartments) {
    if (ids.has(c.id)) throw new LockstepError('DUPLICATE_COMPARTMENT', { compartmentId: c.id });
    ids.add(c.id);
  }
  const id = newLockerId();
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('lockers')
      .values(newLockerRow(id, reg, now))
      .execute();
    await trx
      .insertInto('compartments')
      .values(reg.compartments.map((c) => ({ locker_id: id, id: c.id, size: c.size, in_service: 1, parcel_id: null, low: c.low ? 1 : 0 })))
      .execute();
    const ticket = await createEnrolmentToken(trx, id, createdBy, now);
    return { lockerId: id, ...ticket };
  });
}
