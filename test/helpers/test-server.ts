import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import { makeConfig } from '../../server/config.js';
import type { ServerConfig } from '../../server/config-schema.js';
import { createServer, type LockstepServer } from '../../server/create-server.js';
import { ApiClient } from '../../client/http-client.js';
import type { EnrolmentTicket, LockerView } from '../../shared/api/lockers.js';
import { exportJWK, generateKeyPair } from 'jose';
import { randomUUID } from 'node:crypto';
import { signBrokerToken } from '../../shared/broker-credentials.js';
import { enrol } from '../../device/identity.js';

export interface TestServer {
  server: LockstepServer;
  api: ApiClient;
  httpUrl: string;
  mqttUrl: string;
  dir: string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** A data folder to use (and keep): several server instances of one deployment share its secrets and keys. */
  dir?: string;
}

/** A real server (SQLite file, aedes on a loopback port, Fastify) in a temporary folder. */
export async function startTestServer(overrides: Partial<ServerConfig> = {}, clock?: Clock, logger?: Logger, options: TestServerOptions = {}): Promise<TestServer> {
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'lockstep-test-'));
  // Test webhook receivers listen on 127.0.0.1: allowed unless a test says otherwise (webhookAllowPrivate: []).
  const config = makeConfig({ port: 0, mqttPort: 0, dataDir: dir, logLevel: 'silent', webhookAllowPrivate: ['127.0.0.1/32'], ...overrides });
  const server = await createServer(config, { ...(clock ? { clock } : {}), ...(logger ? { logger } : {}) });
  const { httpUrl, mqttUrl } = await server.start();
  return {
    server,
    api: new ApiClient(httpUrl, server.adminToken),
    httpUrl,
    mqttUrl,
    dir,
    async close() {
      await server.stop();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a test needs to act as the locker's controller on MQTT. */
export interface TestDevice {
  lockerId: string;
  mqttUrl: string;
  username: string;
  /** A broker token (valid 10 minutes) signed with the locker's key. */
  password: string;
  /** Signs another broker token, optionally for another time or locker id. */
  sign(options?: { nowMs?: number; lockerId?: string; lifetimeSec?: number }): Promise<string>;
}

export type RegisteredLocker = LockerView & { enrolment: EnrolmentTicket; device: TestDevice };

/** Registers a locker (as an operator) and enrols it with a fresh Ed25519 key (as its controller would). */
export async function registerLocker(
  api: ApiClient,
  compartments: { id: string; size: string }[] = [
    { id: 'A1', size: 'S' },
    { id: 'B1', size: 'M' },
  ],
): Promise<RegisteredLocker> {
  const created = await api.post<LockerView & { enrolment: EnrolmentTicket }>('/v1/lockers', { name: 'Test locker', location: { lat: 52.23, lon: 21.01 }, compartments });
  const { privateKey, publicKey } = await generateKeyPair('Ed25519', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const { mqttUrl } = await enrol(api.baseUrl, created.id, created.enrolment.token, { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) });
  const sign = (o: { nowMs?: number; lockerId?: string; lifetimeSec?: number } = {}) =>
    signBrokerToken(privateKey, o.lockerId ?? created.id, o.nowMs ?? Date.now(), randomUUID().replaceAll('-', ''), o.lifetimeSec ?? 600);
  return { ...created, device: { lockerId: created.id, mqttUrl, username: created.id, password: await sign(), sign } };
}
