import { createHmac } from 'node:crypto';

/**
 * PINs are never stored: each is derived from the server's PIN secret and the grant id, so the server can show
 * it when it is issued (and release a pickup PIN after the deposit) without keeping it anywhere.
 */
export function derivePin(pinSecret: Uint8Array, jti: string, length: number): string {
  const mac = createHmac('sha256', pinSecret).update(`pin:${jti}`).digest();
  // 64 bits mod 10^length: the bias is below 10^-7 for length ≤ 12.
  const n = mac.readBigUInt64BE(0) % 10n ** BigInt(length);
  return n.toString().padStart(length, '0');
}

/** The locker's own key for PIN hashes, derived so that no per-locker secret has to be stored. */
export function lockerPinKey(pinSecret: Uint8Array, lockerId: string): Buffer {
  return createHmac('sha256', pinSecret).update(`locker-pin-key:${lockerId}`).digest();
}
