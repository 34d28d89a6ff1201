import { randomBytes } from 'node:crypto';
import { LockstepError } from '../errors.js';
import { createEnrolmentToken } from '../enrolment/enrolment-tokens.js';
export function newLockerId() {
    return `lk_${randomBytes(8).toString('hex')}`;
}
export async function registerLocker(ctx, reg, createdBy) {
    const ids = new Set();
    for (const c of reg.compartments) {
        if (ids.has(c.id))
            throw new LockstepError('DUPLICATE_COMPARTMENT', { compartmentId: c.id });
        ids.add(c.id);
    }
    const id = newLockerId();
    const now = ctx.clock.now();
    return ctx.db.transaction().execute(async (trx) => {
        await trx
            .insertInto('lockers')
            .values({
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
        })
            .execute();
        await trx
            .insertInto('compartments')
            .values(reg.compartments.map((c) => ({ locker_id: id, id: c.id, size: c.size, in_service: 1, parcel_id: null })))
            .execute();
        const ticket = await createEnrolmentToken(trx, id, createdBy, now);
        return { lockerId: id, ...ticket };
    });
}
//# sourceMappingURL=register-locker.js.map