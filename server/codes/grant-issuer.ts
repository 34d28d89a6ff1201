import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import { signGrantNow, GRANT_ISSUER, type GrantClaims } from '../../shared/grants.js';
import type { GrantAction } from '../../shared/messages.js';
import { pinHash } from '../../shared/pin.js';
import { LockstepError } from '../errors.js';
import type { ServerContext } from '../context.js';
import type { Database, NewGrant } from '../store/schema.js';
import { derivePin, lockerPinKey } from './pins.js';
import { prepareQuery } from '../store/prepared-query.js';

export interface GrantRequest {
  lockerId: string;
  parcelId: string;
  compartmentId: string;
  action: GrantAction;
  /** Validity window, milliseconds. */
  notBefore: number;
  expiresAt: number;
  /**
   * Keep the PIN of an earlier grant (its PIN hash, and the grant id the PIN is derived from): a pickup grant
   * re-issued with a later end still opens with the code the recipient has. The caller revokes the earlier one.
   */
  keepPinOf?: { pinJti: string; pinHash: string };
}

export interface IssuedGrant {
  row: NewGrant;
  pin: string;
}

const MAX_PIN_TRIES = 20;

/**
 * Makes a signed grant whose PIN is unique among the locker's live codes (and `alsoAvoid`), and inserts it.
 * The PIN is returned to the caller to show once; only its keyed hash is stored.
 */
export async function issueGrant(
  ctx: ServerContext,
  trx: Transaction<Database>,
  req: GrantRequest,
  alsoAvoid: readonly string[] = [],
): Promise<IssuedGrant> {
  const [issued] = await issueGrants(ctx, trx, [req], alsoAvoid);
  if (!issued) throw new Error('issueGrants returned nothing');
  return issued;
}

/** Lockers' PIN keys (an HMAC each), kept per secret: every grant issued needs its locker's. */
const pinKeys = new WeakMap<Uint8Array, Map<string, Buffer>>();
const PIN_KEYS_KEPT = 10_000;

function pinKeyOf(pinSecret: Uint8Array, lockerId: string): Buffer {
  let keys = pinKeys.get(pinSecret);
  if (!keys) pinKeys.set(pinSecret, (keys = new Map()));
  let key = keys.get(lockerId);
  if (!key) {
    if (keys.size >= PIN_KEYS_KEPT) keys.clear();
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

function newGrantId(): string {
  if (idAt + 12 > idPool.length) {
    idPool = randomBytes(4092);
    idAt = 0;
  }
  const id = idPool.toString('base64url', idAt, idAt + 12);
  idAt += 12;
  return id;
}

interface Draft {
  req: GrantRequest;
  jti: string;
  pinJti: string;
  pin: string;
  ph: string;
}

/**
 * Issues several grants at once (a re-issue of a parcel's drop-off and pickup): drafted by `draftGrants`, inserted
 * with one multi-row insert. Returned in the order of `reqs`.
 */
export async function issueGrants(
  ctx: ServerContext,
  trx: Transaction<Database>,
  reqs: readonly GrantRequest[],
  alsoAvoid: readonly string[] = [],
): Promise<IssuedGrant[]> {
  const issued = await draftGrants(ctx, trx, reqs, alsoAvoid);
  if (issued.length) await insertGrants.run(trx, { rows: issued.map((g) => g.row) });
  return issued;
}

/**
 * Drafts grants of one or more lockers (a booking group's) without inserting them: PINs unique among each
 * locker's live codes, `alsoAvoid` and each other, checked with one query per draw for all the lockers
 * (`locker_id in (…) and pin_hash in (…)`), and signed here on this thread. The caller inserts the rows in the
 * same transaction. Returned in the order of `reqs`; CODE_SPACE_EXHAUSTED when a locker has no PIN left.
 */
export async function draftGrants(
  ctx: ServerContext,
  trx: Transaction<Database>,
  reqs: readonly GrantRequest[],
  alsoAvoid: readonly string[] = [],
): Promise<IssuedGrant[]> {
  if (reqs.length === 0) return [];
  const nowSec = Math.floor(ctx.clock.now() / 1000);
  const draw = (req: GrantRequest): Draft => {
    const jti = newGrantId();
    const pinJti = req.keepPinOf?.pinJti ?? jti;
    const pin = derivePin(ctx.pinSecret, pinJti, ctx.config.pinLength, ctx.config.pinAlphabet);
    return { req, jti, pinJti, pin, ph: req.keepPinOf?.pinHash ?? pinHash(pinKeyOf(ctx.pinSecret, req.lockerId), pin) };
  };
  const drafts = reqs.map(draw);
  // One locker's PIN hash: PINs need only be unique within a locker.
  const at = (d: Draft) => `${d.req.lockerId}\u0000${d.ph}`;
  // A kept PIN is already the recipient's (its earlier grant is being revoked): nothing to compare it with.
  const fresh = (d: Draft) => !d.req.keepPinOf;
  let redraw = new Set<number>([0]);
  for (let tries = 0; tries < MAX_PIN_TRIES && redraw.size > 0; tries++) {
    const avoid = new Set(drafts.flatMap((d) => alsoAvoid.map((ph) => `${d.req.lockerId}\u0000${ph}`)));
    redraw = new Set<number>();
    drafts.forEach((d, i) => {
      if (fresh(d) && avoid.has(at(d))) redraw.add(i);
      avoid.add(at(d));
    });
    const asked = drafts.filter((d, i) => fresh(d) && !redraw.has(i));
    const clashes = asked.length
      ? new Set(
          (
            await liveClashes.run(trx, { lockerIds: [...new Set(asked.map((d) => d.req.lockerId))], asked: [...new Set(asked.map((d) => d.ph))], nowSec })
          ).rows.map((r) => `${r.locker_id}\u0000${r.pin_hash}`),
        )
      : new Set<string>();
    drafts.forEach((d, i) => {
      if (fresh(d) && clashes.has(at(d))) redraw.add(i);
    });
    for (const i of redraw) drafts[i] = draw(reqs[i] as GrantRequest);
  }
  const [unsettled] = redraw;
  if (unsettled !== undefined) throw new LockstepError('CODE_SPACE_EXHAUSTED', { lockerId: reqs[unsettled]?.lockerId });

  const signer = ctx.keys.active;
  return drafts.map(({ req, jti, pinJti, pin, ph }): IssuedGrant => {
    const claims: GrantClaims = {
      iss: GRANT_ISSUER,
      aud: req.lockerId,
      sub: req.parcelId,
      jti,
      act: req.action,
      cmp: req.compartmentId,
      ph,
      iat: nowSec,
      nbf: Math.floor(req.notBefore / 1000),
      exp: Math.floor(req.expiresAt / 1000),
    };
    const row: NewGrant = {
      jti,
      parcel_id: req.parcelId,
      locker_id: req.lockerId,
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
}

// Compiled once per shape (server/store/prepared-query.ts): they run for every grant issued.
const liveClashes = prepareQuery((db, a: { lockerIds: string[]; asked: string[]; nowSec: number }) =>
  db
    .selectFrom('grants')
    .select(['locker_id', 'pin_hash'])
    .where('locker_id', 'in', a.lockerIds)
    .where('pin_hash', 'in', a.asked)
    .where('status', '=', 'live')
    .where('exp', '>', a.nowSec),
);
/** Grant rows in one insert (`issueGrants`; a booking group inserts its drafted grants with it). */
export const insertGrants = prepareQuery((db, a: { rows: NewGrant[] }) => db.insertInto('grants').values(a.rows));
