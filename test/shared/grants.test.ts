import { describe, expect, it, beforeAll } from 'vitest';
import { CompactSign, FlattenedSign, base64url } from 'jose';
import { createHmac } from 'node:crypto';
import { GrantVerifier, GRANT_TYP, signGrantNow } from '../../shared/grants.js';
import { T0, claims, makeSigner, sign, type Signer } from '../helpers/grant-fixtures.js';

const check = { lockerId: 'lk_one', now: T0 + 1000, clockToleranceSec: 60 };

describe('grant verification', () => {
  let signer: Signer;
  let other: Signer;
  let verifier: GrantVerifier;
  beforeAll(async () => {
    signer = await makeSigner('k1');
    other = await makeSigner('k1');
    verifier = new GrantVerifier([signer.publicJwk]);
  });

  it('accepts a grant signed by a known key, for this locker, inside its window', async () => {
    const v = await verifier.verify(await sign(signer), check);
    expect(v).toMatchObject({ ok: true, kid: 'k1', claims: { jti: 'j_1', act: 'pickup' } });
  });

  it('refuses a grant whose payload was changed after signing', async () => {
    const [h, , s] = (await sign(signer)).split('.');
    const forged = base64url.encode(JSON.stringify(claims({ cmp: 'B9' })));
    expect(await verifier.verify(`${h}.${forged}.${s}`, check)).toEqual({ ok: false, code: 'BAD_SIGNATURE' });
  });

  it('refuses a grant whose signature was changed', async () => {
    const token = await sign(signer);
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    expect(await verifier.verify(`${token.slice(0, -2)}${last}${token.at(-1)}`, check)).toEqual({ ok: false, code: 'BAD_SIGNATURE' });
  });

  it('refuses a grant signed by another key that claims a known kid', async () => {
    expect(await verifier.verify(await sign(other), check)).toEqual({ ok: false, code: 'BAD_SIGNATURE' });
  });

  it('refuses a grant from a key the locker does not hold', async () => {
    const stranger = await makeSigner('k-unknown');
    expect(await verifier.verify(await sign(stranger), check)).toEqual({ ok: false, code: 'UNKNOWN_KEY' });
  });

  it('refuses a grant for another locker', async () => {
    expect(await verifier.verify(await sign(signer, { aud: 'lk_two' }), check)).toEqual({ ok: false, code: 'WRONG_LOCKER' });
  });

  it('refuses an expired grant, but allows the stated clock tolerance', async () => {
    const exp = Math.floor(T0 / 1000) + 10;
    const token = await sign(signer, { exp });
    expect(await verifier.verify(token, { ...check, now: (exp + 59) * 1000 })).toMatchObject({ ok: true });
    expect(await verifier.verify(token, { ...check, now: (exp + 60) * 1000 })).toEqual({ ok: false, code: 'EXPIRED' });
  });

  it('refuses a grant before its window opens', async () => {
    const token = await sign(signer, { nbf: Math.floor(T0 / 1000) + 3600 });
    expect(await verifier.verify(token, check)).toEqual({ ok: false, code: 'NOT_YET_VALID' });
  });

  it('refuses a grant for another action when an action is required', async () => {
    const token = await sign(signer, { act: 'deposit' });
    expect(await verifier.verify(token, { ...check, action: 'pickup' })).toEqual({ ok: false, code: 'WRONG_ACTION' });
  });

  it('refuses unsigned (alg none) and HMAC tokens keyed with the public key', async () => {
    const payload = base64url.encode(JSON.stringify(claims()));
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: GRANT_TYP, kid: 'k1' }))}.${payload}.`;
    expect(await verifier.verify(none, check)).toEqual({ ok: false, code: 'BAD_ALGORITHM' });
    const header = base64url.encode(JSON.stringify({ alg: 'HS256', typ: GRANT_TYP, kid: 'k1' }));
    const mac = createHmac('sha256', Buffer.from(signer.publicJwk.x, 'base64url')).update(`${header}.${payload}`).digest('base64url');
    expect(await verifier.verify(`${header}.${payload}.${mac}`, check)).toEqual({ ok: false, code: 'BAD_ALGORITHM' });
  });

  it('refuses a token of another type even when correctly signed', async () => {
    const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims())))
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: 'k1' })
      .sign(signer.privateKey);
    expect(await verifier.verify(token, check)).toEqual({ ok: false, code: 'WRONG_TYPE' });
  });

  it('refuses garbage and signed tokens with missing claims as malformed', async () => {
    expect(await verifier.verify('not-a-token', check)).toEqual({ ok: false, code: 'MALFORMED' });
    const partial = await new CompactSign(new TextEncoder().encode(JSON.stringify({ aud: 'lk_one' })))
      .setProtectedHeader({ alg: 'EdDSA', typ: GRANT_TYP, kid: 'k1' })
      .sign(signer.privateKey);
    expect(await verifier.verify(partial, check)).toEqual({ ok: false, code: 'MALFORMED' });
  });
});

describe('grant header extensions', () => {
  it('refuses a correctly signed grant that uses crit / b64 (unencoded payload)', async () => {
    const signer = await makeSigner('k1');
    const verifier = new GrantVerifier([signer.publicJwk]);
    const f = await new FlattenedSign(new TextEncoder().encode(JSON.stringify(claims())))
      .setProtectedHeader({ alg: 'EdDSA', typ: GRANT_TYP, kid: 'k1', b64: false, crit: ['b64'] })
      .sign(signer.privateKey);
    const token = `${f.protected}.${f.payload}.${f.signature}`;
    expect(token.split('.')).toHaveLength(3);
    expect(await verifier.verify(token, check)).toEqual({ ok: false, code: 'MALFORMED' });
  });
});

describe('grant signing', () => {
  it('signs on node:crypto the very bytes jose signs, and jose verifies them', async () => {
    const signer = await makeSigner('k7');
    const c = claims({ jti: 'j_same' });
    const ours = signGrantNow(c, signer.privateKey, 'k7');
    const theirs = await new CompactSign(new TextEncoder().encode(JSON.stringify(c)))
      .setProtectedHeader({ alg: 'EdDSA', typ: GRANT_TYP, kid: 'k7' })
      .sign(signer.privateKey);
    expect(ours).toBe(theirs);
    expect(await new GrantVerifier([signer.publicJwk]).verify(ours, { ...check, now: T0 })).toMatchObject({ ok: true, kid: 'k7' });
  });
});
