import { createHmac } from 'node:crypto';

/** Domain separation for the PIN hash, part of the protocol (see docs/protocol.md). */
const PIN_HASH_LABEL = 'lockstep-pin-v1:';

/** PINs are digits only, so every keypad can type them. */
export function isPinFormat(pin: string, length: number): boolean {
  return pin.length === length && /^[0-9]+$/.test(pin);
}

/**
 * Keyed hash of a PIN: base64url(HMAC-SHA256(pinKey, "lockstep-pin-v1:" + pin)), 43 characters.
 * `pinKey` is the locker's own 32-byte PIN key, so hashes say nothing across lockers and a QR's hash cannot
 * be reversed without the key.
 */
export function pinHash(pinKey: Uint8Array, pin: string): string {
  return createHmac('sha256', pinKey).update(PIN_HASH_LABEL + pin).digest('base64url');
}
