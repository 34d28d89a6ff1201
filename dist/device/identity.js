import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK } from 'jose';
import { signBrokerToken } from '../shared/broker-credentials.js';
const BROKER_ACCOUNT = 'broker_account';
export class DeviceIdentity {
    privateKey;
    publicKey;
    store;
    constructor(privateKey, publicKey, store) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
        this.store = store;
    }
    static async loadOrCreate(store) {
        const saved = await store.getMeta('identity');
        if (saved) {
            const jwk = JSON.parse(saved);
            return new DeviceIdentity((await importJWK(jwk, 'EdDSA')), { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) }, store);
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
    async brokerPassword(lockerId, nowMs) {
        const account = await this.store.getMeta(BROKER_ACCOUNT);
        if (account)
            return JSON.parse(account).password;
        return signBrokerToken(this.privateKey, lockerId, nowMs, randomUUID().replaceAll('-', ''));
    }
}
/** Keeps the broker account enrolment handed out (once); a new enrolment without one forgets the old one. */
export async function keepBrokerAccount(store, account) {
    await store.setMeta(BROKER_ACCOUNT, account ? JSON.stringify(account) : '');
}
/** Exchanges a single-use enrolment token and this device's public key for its place in the fleet. */
export async function enrol(apiUrl, lockerId, token, publicKey) {
    const res = await fetch(`${apiUrl.replace(/\/$/, '')}/v1/enrol`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ lockerId, token, publicKey }),
    });
    const body = (await res.json().catch(() => ({})));
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
export async function continueNumbering(store, lastSeq) {
    if ((await store.lastSeq()) < lastSeq)
        await store.setMeta('last_seq', String(lastSeq));
}
//# sourceMappingURL=identity.js.map