import { Type } from '@sinclair/typebox';
/**
 * Locker ids are MQTT client ids and usernames and a topic level, so they are short (MQTT 3.1.1 servers may
 * refuse client ids over 23 characters) and use only characters that are safe in all three.
 */
const LOCKER_ID_PATTERN = '^[a-z0-9][a-z0-9_-]{0,22}$';
export const LockerId = Type.String({ pattern: LOCKER_ID_PATTERN, minLength: 1, maxLength: 23 });
const lockerIdRe = new RegExp(LOCKER_ID_PATTERN);
export function isLockerId(s) {
    return lockerIdRe.test(s);
}
/** Compartment ids are printed on the door: short, human-readable. */
const COMPARTMENT_ID_PATTERN = '^[A-Za-z0-9_-]{1,16}$';
export const CompartmentId = Type.String({ pattern: COMPARTMENT_ID_PATTERN, minLength: 1, maxLength: 16 });
/** Opaque ids made by the server or device (parcels, grants, events). */
export const OpaqueId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', minLength: 1, maxLength: 64 });
//# sourceMappingURL=ids.js.map