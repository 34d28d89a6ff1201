import { randomBytes } from 'node:crypto';
import { signGrantNow, GRANT_ISSUER } from '../../shared/grants.js';
import { pinHash } from '../../shared/pin.js';
import { LockstepError } from '../errors.js';
import { derivePin, lockerPinKey } from './pins.js';
import { prepareQuery } from '../store/prepared-query.js';
const MAX_PIN_TRIES = 20;
/**
 * Makes a signed grant whose PIN is unique among the locker's live codes (and `alsoAvoid`), and inserts it.
 * The PIN is returned to the caller to show once; only its keyed hash is stored.
 */
export async function issueGrant(ctx, trx, req, alsoAvoid = []) {
    const [issued] = await issueGrants(ctx, trx, [req], alsoAvoid);
    if (!issued)
        throw new Error('issueGrants returned nothing');
    return issued;
}
/** Lockers' PIN keys (an HMAC each), kept per secret: every grant issued needs its locker's. */
const pinKeys = new WeakMap();
const PIN_KEYS_KEPT = 10_000;
function pinKeyOf(pinSecret, lockerId) {
    let keys = pinKeys.get(pinSecret);
    if (!keys)
        pinKeys.set(pinSecret, (keys = new Map()));
    let key = keys.get(lockerId);
    if (!key) {
        if (keys.size >= PIN_KEYS_KEPT)
            keys.clear();
        keys.set(lockerId, (key = lockerPinKey(pinSecret, lockerId)));
    }
    return key;
}
/**
 * Grant ids: 12 random bytes each, cut from a pool filled 4 KiB at a time (one call to the CSPRNG per 341 ids
 * instead of one per id, which cost ~3 % of a booking). Each byte is used once.
 */
let idPool = Buffer.alloc(0);
let idAt = 0;
function newGrantId() {
    if (idAt + 12 > idPool.length) {
        idPool = randomBytes(4092);
        idAt = 0;
    }
    const id = idPool.toString('base64url', idAt, idAt + 12);
    idAt += 12;
    return id;
}
/**
 * Issues several grants of one locker at once (a booking's drop-off and pickup): PINs unique among the
 * locker's live codes, `alsoAvoid` and each other, checked with one query per draw (`pin_hash in (…)`), signed
 * here on this thread, and inserted with one multi-row insert. Returned in the order of `reqs`.
 */
export async function issueGrants(ctx, trx, reqs, alsoAvoid = []) {
    const lockerId = reqs[0]?.lockerId;
    if (lockerId === undefined)
        return [];
    if (reqs.some((r) => r.lockerId !== lockerId))
        throw new Error('issueGrants: one locker at a time');
    const key = pinKeyOf(ctx.pinSecret, lockerId);
    const nowSec = Math.floor(ctx.clock.now() / 1000);
    const draw = (req) => {
        const jti = newGrantId();
        const pinJti = req.keepPinOf?.pinJti ?? jti;
        const pin = derivePin(ctx.pinSecret, pinJti, ctx.config.pinLength, ctx.config.pinAlphabet);
        return { req, jti, pinJti, pin, ph: req.keepPinOf?.pinHash ?? pinHash(key, pin) };
    };
    const drafts = reqs.map(draw);
    // A kept PIN is already the recipient's (its earlier grant is being revoked): nothing to compare it with.
    const fresh = (d) => !d.req.keepPinOf;
    let settled = false;
    for (let tries = 0; tries < MAX_PIN_TRIES && !settled; tries++) {
        const avoid = new Set(alsoAvoid);
        const redraw = new Set();
        drafts.forEach((d, i) => {
            if (fresh(d) && avoid.has(d.ph))
                redraw.add(i);
            avoid.add(d.ph);
        });
        const asked = drafts.filter((d, i) => fresh(d) && !redraw.has(i)).map((d) => d.ph);
        const clashes = asked.length
            ? new Set((await liveClashes.run(trx, { lockerId, asked, nowSec })).rows.map((r) => r.pin_hash))
            : new Set();
        drafts.forEach((d, i) => {
            if (fresh(d) && clashes.has(d.ph))
                redraw.add(i);
        });
        for (const i of redraw)
            drafts[i] = draw(reqs[i]);
        settled = redraw.size === 0;
    }
    if (!settled)
        throw new LockstepError('CODE_SPACE_EXHAUSTED', { lockerId });
    const signer = ctx.keys.active;
    const issued = drafts.map(({ req, jti, pinJti, pin, ph }) => {
        const claims = {
            iss: GRANT_ISSUER,
            aud: lockerId,
            sub: req.parcelId,
            jti,
            act: req.action,
            cmp: req.compartmentId,
            ph,
            iat: nowSec,
            nbf: Math.floor(req.notBefore / 1000),
            exp: Math.floor(req.expiresAt / 1000),
        };
        const row = {
            jti,
            parcel_id: req.parcelId,
            locker_id: lockerId,
            compartment_id: req.compartmentId,
            action: req.action,
            pin_hash: ph,
            token: signGrantNow(claims, signer.privateKey, signer.kid),
            kid: signer.kid,
            nbf: claims.nbf,
            exp: claims.exp,
            status: 'live',
            used_at: null,
            uses: 0,
            pin_jti: req.keepPinOf ? pinJti : null,
        };
        return { row, pin };
    });
    await insertGrants.run(trx, { rows: issued.map((g) => g.row) });
    return issued;
}
// Compiled once per shape (server/store/prepared-query.ts): they run for every grant issued.
const liveClashes = prepareQuery((db, a) => db
    .selectFrom('grants')
    .select('pin_hash')
    .where('locker_id', '=', a.lockerId)
    .where('pin_hash', 'in', a.asked)
    .where('status', '=', 'live')
    .where('exp', '>', a.nowSec));
const insertGrants = prepareQuery((db, a) => db.insertInto('grants').values(a.rows));
//# sourceMappingURL=grant-issuer.js.map