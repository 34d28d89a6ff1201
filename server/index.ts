/**
 * The server's in-process entry point: what a simulator or benchmark needs to run a whole server inside its own
 * process. Nothing outside server/ imports anything else from server/ (HTTP API types live in shared/api/).
 */
export { makeConfig } from './config.js';
export type { ServerConfig } from './config-schema.js';
export { createServer, type LockstepServer, type ServerOptions } from './create-server.js';
// Benchmarks register and enrol thousands of lockers in-process, without an HTTP round trip per locker.
export { registerLocker } from './lockers/register-locker.js';
export { enrolDevice } from './enrolment/enrol.js';
export { importLockers, type ImportedTicket } from './lockers/import-lockers.js';
