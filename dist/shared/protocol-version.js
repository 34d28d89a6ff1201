/** Schema version carried as `v` in every MQTT payload. Bump on any incompatible change. */
export const PROTOCOL_VERSION = 1;
/** Largest MQTT payload either side accepts, in bytes, on every topic but `state`. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/**
 * Largest desired-state payload (`lockers/{id}/state`): a snapshot carries every live grant of the locker
 * (up to 1024 tokens of about 600 characters, a few batch grants of up to 2,560, keys and revocations).
 */
export const MAX_STATE_PAYLOAD_BYTES = 1024 * 1024 + 256 * 1024;
/** Largest number of events a device sends in one batch. */
export const MAX_EVENTS_PER_BATCH = 100;
//# sourceMappingURL=protocol-version.js.map