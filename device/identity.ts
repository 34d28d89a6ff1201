import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { signBrokerToken, type DevicePublicKey } from '../shared/broker-credentials.js';
import type { DeviceStore } from './store/device-store.js';

/**
 * The locker's own Ed25519 key pair, made on the device the first time it starts and kept in its store. The
 * private key never leaves the device; the server learns the public key at enrolment.
 */
export class DeviceIdentity {
  private constructor(
    private readonly privateKey: CryptoKey,
    readonly publicKey: DevicePublicKey,
  ) {}

  static async loadOrCreate(store: DeviceStore): Promise<DeviceIdentity> {
    const saved = await store.getMeta('identity');
    if (saved) {
      const jwk = JSON.parse(saved) as JWK;
      return new DeviceIdentity((await importJWK(jwk, 'EdDSA')) as CryptoKey, { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) });
    }
    const { privateKey } = await generateKeyPair('Ed25519', { extractable: true });
    const jwk = await exportJWK(privateKey);
    await store.setMeta('identity', JSON.stringify(jwk));
    return new DeviceIdentity(privateKey, { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) });
  }

  /** A fresh broker password: a token signed with the device key, valid for a few minutes. */
  brokerPassword(lockerId: string, nowMs: number): Promise<string> {
    return signBrokerToken(this.privateKey, lockerId, nowMs, randomUUID().replaceAll('-', ''));
  }
}

export interface Enrolment {
  lockerId: string;
  mqttUrl: string;
  /** The locker's last event seq the server holds: a replacement controller numbers on from it. */
  lastSeq: number;
}

/** Exchanges a single-use enrolment token and this device's public key for its place in the fleet. */
export async function enrol(apiUrl: string, lockerId: string, token: string, publicKey: DevicePublicKey): Promise<Enrolment> {
  const res = await fetch(`${apiUrl.replace(/\/$/, '')}/v1/enrol`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ lockerId, token, publicKey }),
  });
  const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } } & Partial<Enrolment>;
  if (!res.ok || !body.lockerId || !body.mqttUrl) {
    throw new Error(`enrolment refused: ${body.error?.code ?? res.status} ${body.error?.message ?? ''}`.trim());
  }
  return { lockerId: body.lockerId, mqttUrl: body.mqttUrl, lastSeq: body.lastSeq ?? 0 };
}

/** After enrolment: this device's events continue after the ones the server already holds for the locker. */
export async function continueNumbering(store: DeviceStore, lastSeq: number): Promise<void> {
  if ((await store.lastSeq()) < lastSeq) await store.setMeta('last_seq', String(lastSeq));
}
