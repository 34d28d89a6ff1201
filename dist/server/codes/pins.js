import { createHmac } from 'node:crypto';
/**
 * PINs are never stored: each is derived from the server's PIN secret and the grant id, so the server can show
 * it when it is issued (and release a pickup PIN after the deposit) without keeping it anywhere.
 */
export function derivePin(pinSecret, jti, length, alphabet = DIGITS) {
    const mac = createHmac('sha256', pinSecret).update(`pin:${jti}`).digest();
    // 128 bits reduced to `length` symbols: the bias is below 10^-19 for every allowed alphabet and length.
    let n = (mac.readBigUInt64BE(0) << 64n) | mac.readBigUInt64BE(8);
    const base = BigInt(alphabet.length);
    let pin = '';
    for (let i = 0; i < length; i++) {
        pin = (alphabet[Number(n % base)] ?? '') + pin;
        n /= base;
    }
    return pin;
}
/** The default PIN alphabet: digits, which every keypad has. */
const DIGITS = '0123456789';
/** The locker's own key for PIN hashes, derived so that no per-locker secret has to be stored. */
export function lockerPinKey(pinSecret, lockerId) {
    return createHmac('sha256', pinSecret).update(`locker-pin-key:${lockerId}`).digest();
}
/** The grant id a grant's PIN is derived from: its own, unless it was re-issued keeping an earlier PIN. */
export function pinSourceOf(grant) {
    return grant.pin_jti ?? grant.jti;
}
//# sourceMappingURL=pins.js.map