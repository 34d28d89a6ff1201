import { createHmac } from 'node:crypto';
/** Domain separation for the PIN hash, part of the protocol (see docs/protocol.md). */
const PIN_HASH_LABEL = 'lockstep-pin-v1:';
/** A PIN has exactly `length` symbols of `alphabet` (digits by default, which every keypad has). */
export function isPinFormat(pin, length, alphabet = '0123456789') {
    return pin.length === length && [...pin].every((c) => alphabet.includes(c));
}
/**
 * Keyed hash of a PIN: base64url(HMAC-SHA256(pinKey, "lockstep-pin-v1:" + pin)), 43 characters.
 * `pinKey` is the locker's own 32-byte PIN key, so hashes say nothing across lockers and a QR's hash cannot
 * be reversed without the key.
 */
export function pinHash(pinKey, pin) {
    return createHmac('sha256', pinKey).update(PIN_HASH_LABEL + pin).digest('base64url');
}
//# sourceMappingURL=pin.js.map