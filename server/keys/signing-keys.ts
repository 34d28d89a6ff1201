import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { PublicJwk } from '../../shared/messages.js';
import { GRANT_ALG } from '../../shared/grants.js';
import { writeFileAtomic } from '../data-dir.js';

interface StoredKey {
  kid: string;
  createdAt: number;
  jwk: JWK;
}

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: PublicJwk;
  createdAt: number;
}

/** The server's Ed25519 grant-signing keys, kept as private JWK files under the data folder (mode 0600). */
export class SigningKeys {
  private constructor(private readonly keys: SigningKey[]) {}

  /** Loads every key in `dir`, making the first one when there is none. */
  static async load(dir: string, now: number): Promise<SigningKeys> {
    const stored: StoredKey[] = readdirSync(dir)
      .filter((f) => f.startsWith('signing-') && f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as StoredKey);
    if (stored.length === 0) stored.push(await createKey(dir, now));
    const keys = await Promise.all(stored.map(toSigningKey));
    keys.sort((a, b) => a.createdAt - b.createdAt);
    return new SigningKeys(keys);
  }

  /** The key new grants are signed with. */
  get active(): SigningKey {
    const key = this.keys[this.keys.length - 1];
    if (!key) throw new Error('no signing key');
    return key;
  }

  /** Public keys of every key whose grants may still be live, for the JWKS and for devices. */
  publicKeys(): PublicJwk[] {
    return this.keys.map((k) => k.publicJwk);
  }
}

async function createKey(dir: string, now: number): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair('Ed25519', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = (await calculateJwkThumbprint(jwk)).slice(0, 16);
  const stored: StoredKey = { kid, createdAt: now, jwk };
  writeFileAtomic(path.join(dir, `signing-${kid}.json`), JSON.stringify(stored));
  return stored;
}

async function toSigningKey(s: StoredKey): Promise<SigningKey> {
  const privateKey = (await importJWK(s.jwk, GRANT_ALG)) as CryptoKey;
  const { x } = s.jwk;
  if (typeof x !== 'string') throw new Error(`signing key ${s.kid} has no public part`);
  return {
    kid: s.kid,
    privateKey,
    createdAt: s.createdAt,
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x, kid: s.kid, alg: 'EdDSA', use: 'sig' },
  };
}
