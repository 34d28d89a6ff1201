import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { firmwareSignedText } from '../../shared/messages.js';

/** Why a downloaded artefact is refused (reported to the server as the update's `reason`). */
export type ArtefactRefusal = 'SIZE_MISMATCH' | 'HASH_MISMATCH' | 'BAD_SIGNATURE' | 'NO_TRUSTED_KEY';

export interface ExpectedArtefact {
  version: string;
  sha256: string;
  size: number;
  /** base64url Ed25519 signature over firmwareSignedText(version, sha256). */
  signature: string;
}

/** The vendor's firmware key as a locker is configured with it: the 32-byte Ed25519 public key, base64url (a JWK's `x`). */
export function firmwareKey(x: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

/**
 * Checks downloaded bytes against what the update command promised and the vendor key the locker trusts: the size,
 * the SHA-256 of the bytes themselves (not the hash the command claims), then the signature over the version and
 * that hash. Null when the artefact may be applied. A pure decision: no I/O.
 */
export function checkArtefact(bytes: Uint8Array, expected: ExpectedArtefact, trusted: KeyObject | undefined): ArtefactRefusal | null {
  if (!trusted) return 'NO_TRUSTED_KEY';
  if (bytes.byteLength !== expected.size) return 'SIZE_MISMATCH';
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== expected.sha256) return 'HASH_MISMATCH';
  const signature = Buffer.from(expected.signature, 'base64url');
  if (signature.length !== 64) return 'BAD_SIGNATURE';
  const ok = verify(null, Buffer.from(firmwareSignedText(expected.version, sha256), 'utf8'), trusted, signature);
  return ok ? null : 'BAD_SIGNATURE';
}
