import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import { makeConfig, type ServerConfig } from '../../server/config.js';
import { createServer, type LockstepServer } from '../../server/create-server.js';
import { ApiClient } from '../../simulator/api-client.js';
import type { LockerView } from '../../server/lockers/locker-views.js';
import type { DeviceCredentials } from '../../server/lockers/register-locker.js';

export interface TestServer {
  server: LockstepServer;
  api: ApiClient;
  httpUrl: string;
  mqttUrl: string;
  dir: string;
  close(): Promise<void>;
}

/** A real server (SQLite file, aedes on a loopback port, Fastify) in a temporary folder. */
export async function startTestServer(overrides: Partial<ServerConfig> = {}, clock?: Clock, logger?: Logger): Promise<TestServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-test-'));
  const config = makeConfig({ port: 0, mqttPort: 0, dataDir: dir, logLevel: 'silent', ...overrides });
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
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type RegisteredLocker = LockerView & { device: DeviceCredentials };

export function registerLocker(
  api: ApiClient,
  compartments: { id: string; size: string }[] = [
    { id: 'A1', size: 'S' },
    { id: 'B1', size: 'M' },
  ],
): Promise<RegisteredLocker> {
  return api.post<RegisteredLocker>('/v1/lockers', { name: 'Test locker', location: { lat: 52.23, lon: 21.01 }, compartments });
}
