import { generateKeyPairSync } from 'node:crypto';

/** What a light client needs to sign in as an enrolled locker: its id and its Ed25519 private key. */
export interface FleetCredential {
  lockerId: string;
  /** PKCS#8 DER, base64: the key the locker made at enrolment; it signs a fresh broker token for each connect. */
  key: string;
}

/** A locker identity as a controller makes it: an Ed25519 key pair (the server learns only the public half). */
export function newLockerKey(): { key: string; x: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x;
  if (!x) throw new Error('no public key');
  return { key: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'), x };
}
