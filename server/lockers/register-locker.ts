import { randomBytes } from 'node:crypto';
import type { CompartmentSize } from '../../shared/compartment-sizes.js';
import { LockstepError } from '../errors.js';
import type { ServerContext } from '../context.js';
import { newDeviceSecret } from '../broker/device-auth.js';

export interface LockerRegistration {
  name: string;
  location: { lat: number; lon: number };
  compartments: { id: string; size: CompartmentSize }[];
}

/** What a device needs to connect. The password is shown only here; the server keeps its hash. */
export interface DeviceCredentials {
  lockerId: string;
  mqttUrl: string;
  username: string;
  password: string;
}

export function newLockerId(): string {
  return `lk_${randomBytes(8).toString('hex')}`;
}

export async function registerLocker(ctx: ServerContext, reg: LockerRegistration, mqttUrl: string): Promise<DeviceCredentials> {
  const ids = new Set<string>();
  for (const c of reg.compartments) {
    if (ids.has(c.id)) throw new LockstepError('DUPLICATE_COMPARTMENT', { compartmentId: c.id });
    ids.add(c.id);
  }
  const id = newLockerId();
  const { secret, hash } = newDeviceSecret();
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('lockers')
      .values({
        id,
        name: reg.name,
        lat: reg.location.lat,
        lon: reg.location.lon,
        created_at: ctx.clock.now(),
        secret_hash: hash,
        online: 0,
        last_seen_at: null,
        boot_id: null,
        desired_version: 0,
        reported_version: 0,
        reported_seq: 0,
      })
      .execute();
    await trx
      .insertInto('compartments')
      .values(reg.compartments.map((c) => ({ locker_id: id, id: c.id, size: c.size, in_service: 1, parcel_id: null })))
      .execute();
  });
  return { lockerId: id, mqttUrl, username: id, password: secret };
}
