import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import { signGrant, GRANT_ISSUER, type GrantClaims } from '../../shared/grants.js';
import type { GrantAction } from '../../shared/messages.js';
import { pinHash } from '../../shared/pin.js';
import { LockstepError } from '../errors.js';
import type { ServerContext } from '../context.js';
import type { Database, NewGrant } from '../store/schema.js';
import { derivePin, lockerPinKey } from './pins.js';

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
  const key = lockerPinKey(ctx.pinSecret, req.lockerId);
  const nowSec = Math.floor(ctx.clock.now() / 1000);
  for (let i = 0; i < MAX_PIN_TRIES; i++) {
    const jti = randomBytes(12).toString('base64url');
    const pinJti = req.keepPinOf?.pinJti ?? jti;
    const pin = derivePin(ctx.pinSecret, pinJti, ctx.config.pinLength, ctx.config.pinAlphabet);
    const ph = req.keepPinOf?.pinHash ?? pinHash(key, pin);
    if (!req.keepPinOf && alsoAvoid.includes(ph)) continue;
    // A kept PIN is already the recipient's (its earlier grant is being revoked): nothing to compare it with.
    const clash =
      !req.keepPinOf &&
      (await trx
        .selectFrom('grants')
        .select('jti')
        .where('locker_id', '=', req.lockerId)
        .where('pin_hash', '=', ph)
        .where('status', '=', 'live')
        .where('exp', '>', nowSec)
        .executeTakeFirst());
    if (clash) continue;
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
    const signer = ctx.keys.active;
    const token = await signGrant(claims, signer.privateKey, signer.kid);
    const row: NewGrant = {
      jti,
      parcel_id: req.parcelId,
      locker_id: req.lockerId,
      compartment_id: req.compartmentId,
      action: req.action,
      pin_hash: ph,
      token,
      kid: signer.kid,
      nbf: claims.nbf,
      exp: claims.exp,
      status: 'live',
      used_at: null,
      uses: 0,
      pin_jti: req.keepPinOf ? pinJti : null,
    };
    await trx.insertInto('grants').values(row).execute();
    return { row, pin };
  }
  throw new LockstepError('CODE_SPACE_EXHAUSTED', { lockerId: req.lockerId });
}
