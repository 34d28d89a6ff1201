import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { signBrokerToken, type DevicePublicKey } from '../shared/broker-credentials.js';
import type { DeviceStore } from './store/device-store.js';

/**
 * The locker's own Ed25519 key pair, made on the device the first time it starts and kept in its store. The
 * private key never leaves the device; the server learns the public key at enrolment.
 */
/** An account of its own on a broker that cannot check signed tokens (Mosquitto dynamic security). */
export interface BrokerAccount {
  username: string;
  password: string;
}

const BROKER_ACCOUNT = 'broker_account';

export class DeviceIdentity {
  private constructor(
    private readonly privateKey: CryptoKey,
    readonly publicKey: DevicePublicKey,
    private readonly store: DeviceStore,
  ) {}

  static async loadOrCreate(store: DeviceStore): Promise<DeviceIdentity> {
    const saved = await store.getMeta('identity');
    if (saved) {
      const jwk = JSON.parse(saved) as JWK;
      return new DeviceIdentity((await importJWK(jwk, 'EdDSA')) as CryptoKey, { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) }, store);
    }
    const { privateKey } = await generateKeyPair('Ed25519', { extractable: true });
    const jwk = await exportJWK(privateKey);
    await store.setMeta('identity', JSON.stringify(jwk));
    return new DeviceIdentity(privateKey, { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) }, store);
  }

  /**
   * The broker password for the next connect: the account's password when enrolment gave this device one,
   * otherwise a fresh token signed with the device key, valid for a few minutes.
   */
  async brokerPassword(lockerId: string, nowMs: number): Promise<string> {
    const account = await this.store.getMeta(BROKER_ACCOUNT);
    if (account) return (JSON.parse(account) as BrokerAccount).password;
    return signBrokerToken(this.privateKey, lockerId, nowMs, randomUUID().replaceAll('-', ''));
  }
}

/** Keeps the broker account enrolment handed out (once); a new enrolment without one forgets the old one. */
export async function keepBrokerAccount(store: DeviceStore, account: BrokerAccount | undefined): Promise<void> {
  await store.setMeta(BROKER_ACCOUNT, account ? JSON.stringify(account) : '');
}

export interface Enrolment {
  lockerId: string;
  mqttUrl: string;
  /** The locker's last event seq the server holds: a replacement controller numbers on from it. */
  lastSeq: number;
  /** The device's own broker account, when the broker keeps accounts (shown once: keep it). */
  broker?: BrokerAccount;
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
  return {
    lockerId: body.lockerId,
    mqttUrl: body.mqttUrl,
    lastSeq: body.lastSeq ?? 0,
    ...(body.broker?.username && body.broker.password ? { broker: { username: body.broker.username, password: body.broker.password } } : {}),
  };
}

/** After enrolment: this device's events continue after the ones the server already holds for the locker. */
export async function continueNumbering(store: DeviceStore, lastSeq: number): Promise<void> {
  if ((await store.lastSeq()) < lastSeq) await store.setMeta('last_seq', String(lastSeq));
}
