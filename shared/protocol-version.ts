/** Schema version carried as `v` in every MQTT payload. Bump on any incompatible change. */
export const PROTOCOL_VERSION = 1 as const;

/** Largest MQTT payload either side accepts, in bytes. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** Largest number of events a device sends in one batch. */
export const MAX_EVENTS_PER_BATCH = 100;
