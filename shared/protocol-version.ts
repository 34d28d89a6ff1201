/** Schema version carried as `v` in every MQTT payload. Bump on any incompatible change. */
export const PROTOCOL_VERSION = 1 as const;

/** Largest MQTT payload either side accepts, in bytes, on every topic but `state`. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/**
 * Largest desired-state payload (`lockers/{id}/state`): a snapshot carries every live grant of the locker
 * (up to 1024 tokens of at most 1024 characters).
 */
export const MAX_STATE_PAYLOAD_BYTES = 1024 * 1024 + 64 * 1024;

/** Largest number of events a device sends in one batch. */
export const MAX_EVENTS_PER_BATCH = 100;
