import { randomBytes, randomUUID } from 'node:crypto';
import { GRANT_ISSUER, signGrant } from '../../shared/grants.js';
import { pinHash } from '../../shared/pin.js';
import { derivePin, lockerPinKey } from '../codes/pins.js';
import { LockstepError } from '../errors.js';
import { inUnitOfWork } from '../desired-state/unit-of-work.js';
const MAX_PIN_TRIES = 20;
/**
 * Opens a courier's batch deposit at one locker: one code for several booked parcels of one carrier. The
 * server signs one `deposit_batch` grant listing each parcel and its booked compartment (`items`), stores it
 * as a grant of the first parcel (so snapshots, key rotation and PIN uniqueness count it like any other) and
 * sends it to the locker in a new desired-state version. Each door cycle is then a normal `parcel.deposited`.
 * The code lives `depositSessionSec` at most and never beyond the earliest drop-off window of its parcels.
 */
export async function openDepositSession(ctx, req) {
    const now = ctx.clock.now();
    const nowSec = Math.floor(now / 1000);
    const sessionId = `ds_${randomUUID().replaceAll('-', '')}`;
    const result = await inUnitOfWork(ctx, async (uow) => {
        const { trx } = uow;
        const locker = await trx.selectFrom('lockers').select('id').where('id', '=', req.lockerId).executeTakeFirst();
        if (!locker)
            throw new LockstepError('LOCKER_NOT_FOUND', { lockerId: req.lockerId });
        const rows = await trx.selectFrom('parcels').selectAll().where('id', 'in', [...req.parcelIds]).execute();
        const byId = new Map(rows.map((p) => [p.id, p]));
        const items = [];
        for (const parcelId of req.parcelIds) {
            const p = byId.get(parcelId);
            // Another carrier's parcel looks like no parcel at all.
            if (!p || (req.ownedBy !== undefined && p.created_by !== req.ownedBy))
                throw new LockstepError('PARCEL_NOT_FOUND', { parcelId });
            if (p.locker_id !== req.lockerId)
                throw new LockstepError('PARCEL_NOT_AT_LOCKER', { parcelId, lockerId: p.locker_id });
            if (p.status !== 'booked')
                throw new LockstepError('PARCEL_NOT_AWAITING_DEPOSIT', { parcelId, status: p.status });
            items.push({ p: p.id, c: p.compartment_id });
        }
        if (new Set(rows.map((p) => p.created_by)).size > 1)
            throw new LockstepError('MIXED_CARRIERS', { lockerId: req.lockerId });
        // Each parcel's own drop-off grant must still be live: the locker skips a parcel whose grant is gone.
        const dropoffs = await trx
            .selectFrom('grants')
            .select(['parcel_id', 'exp'])
            .where('parcel_id', 'in', [...req.parcelIds])
            .where('action', '=', 'deposit')
            .where('status', '=', 'live')
            .where('exp', '>', nowSec)
            .execute();
        for (const parcelId of req.parcelIds) {
            if (!dropoffs.some((g) => g.parcel_id === parcelId))
                throw new LockstepError('PARCEL_NOT_AWAITING_DEPOSIT', { parcelId, status: 'booked', reason: 'dropoff_code_spent' });
        }
        const expSec = Math.min(nowSec + ctx.config.depositSessionSec, ...dropoffs.map((g) => g.exp));
        const key = lockerPinKey(ctx.pinSecret, req.lockerId);
        for (let i = 0; i < MAX_PIN_TRIES; i++) {
            const jti = randomBytes(12).toString('base64url');
            const pin = derivePin(ctx.pinSecret, jti, ctx.config.pinLength, ctx.config.pinAlphabet);
            const ph = pinHash(key, pin);
            const clash = await trx
                .selectFrom('grants')
                .select('jti')
                .where('locker_id', '=', req.lockerId)
                .where('pin_hash', '=', ph)
                .where('status', '=', 'live')
                .where('exp', '>', nowSec)
                .executeTakeFirst();
            if (clash)
                continue;
            const first = items[0];
            if (!first)
                throw new LockstepError('VALIDATION_FAILED', { parcelIds: 'empty' });
            const claims = {
                iss: GRANT_ISSUER,
                aud: req.lockerId,
                sub: sessionId,
                jti,
                act: 'deposit_batch',
                cmp: first.c,
                ph,
                iat: nowSec,
                nbf: nowSec,
                exp: expSec,
                items,
            };
            const signer = ctx.keys.active;
            const token = await signGrant(claims, signer.privateKey, signer.kid);
            await trx
                .insertInto('grants')
                .values({
                jti,
                parcel_id: first.p,
                locker_id: req.lockerId,
                compartment_id: first.c,
                action: 'deposit_batch',
                pin_hash: ph,
                token,
                kid: signer.kid,
                nbf: nowSec,
                exp: expSec,
                status: 'live',
                used_at: null,
                uses: 0,
            })
                .execute();
            const changes = [{ op: 'grant.add', token }];
            await uow.changeDesiredState(req.lockerId, changes, now);
            for (const item of items) {
                await uow.addHistory({ parcelId: item.p, at: now, type: 'deposit_session.opened', status: 'booked', source: 'api', sourceRef: req.principalRef, detail: { sessionId, parcels: items.length } });
            }
            return { pin, token, items, expSec };
        }
        throw new LockstepError('CODE_SPACE_EXHAUSTED', { lockerId: req.lockerId });
    });
    return {
        sessionId,
        lockerId: req.lockerId,
        code: { pin: result.pin, qr: result.token },
        expiresAt: result.expSec * 1000,
        parcels: result.items.map((i) => ({ parcelId: i.p, compartmentId: i.c })),
    };
}
//# sourceMappingURL=deposit-sessions.js.map