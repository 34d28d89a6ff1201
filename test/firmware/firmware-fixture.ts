import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { expect, vi } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import { firmwareSignedText } from '../../shared/messages.js';
import type { RolloutView } from '../../shared/api/firmware.js';
import { simulatedFirmware } from '../../device/update/simulated-firmware.js';
import { startSimLocker, type InProcessLocker } from '../../simulator/fleet.js';
import { seededRandom } from '../../simulator/random.js';
import { ShiftClock } from '../helpers/shift-clock.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** The vendor's firmware key pair (the server and lockers get only the public half). */
export function vendorKeys(): { privateKey: KeyObject; x: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, x: String(publicKey.export({ format: 'jwk' }).x) };
}

/** An upload body: the simulated firmware manifest, signed by `key`. */
export function signedUpload(version: string, key: KeyObject, comesUp = true) {
  const bytes = simulatedFirmware(version, comesUp);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { version, artefact: bytes.toString('base64'), signature: sign(null, Buffer.from(firmwareSignedText(version, sha256)), key).toString('base64url') };
}

export interface FirmwareFleet {
  t: TestServer;
  clock: ShiftClock;
  lockers: InProcessLocker[];
  vendor: ReturnType<typeof vendorKeys>;
  /** Any request as the bootstrap admin; the status and JSON body. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Runs scheduler ticks until the rollout satisfies `done` (the engine moves one step per tick). */
  driveRollout(id: string, done: (r: RolloutView) => boolean, timeoutMs?: number): Promise<RolloutView>;
  close(): Promise<void>;
}

/** A real server (short heartbeats, the vendor's key configured) and `n` in-process lockers on 1.0.0 that take updates. */
export async function startFirmwareFleet(n: number): Promise<FirmwareFleet> {
  const vendor = vendorKeys();
  const clock = new ShiftClock();
  const t = await startTestServer({ heartbeatMs: 1000, firmwarePublicKey: vendor.x, firmwareResendSec: 2 }, clock);
  const lockers: InProcessLocker[] = [];
  for (let i = 0; i < n; i++) {
    lockers.push(
      await startSimLocker({
        api: t.api,
        name: `Fw ${i}`,
        location: { lat: 52.2, lon: 21 },
        compartments: [
          { id: 'A1', size: 'S' },
          { id: 'A2', size: 'M' },
        ],
        dataDir: t.dir,
        clock: systemClock,
        random: seededRandom(i + 1),
        direct: true,
        firmware: { publicKey: vendor.x, initialVersion: '1.0.0', idleRetryMs: 100 },
      }),
    );
  }
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${t.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${t.server.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  // Every locker holds its configuration (a heartbeat, with the version, comes only 30 s after a connect: the
  // server learns versions from the lockers' update reports here).
  await vi.waitFor(() => expect(lockers.every((l) => l.agent.ready)).toBe(true), { timeout: 15_000, interval: 20 });
  return {
    t,
    clock,
    lockers,
    vendor,
    call,
    async driveRollout(id, done, timeoutMs = 15_000) {
      let last: RolloutView | undefined;
      await expect
        .poll(
          async () => {
            await t.server.scheduler.runOnce();
            last = (await call('GET', `/v1/rollouts/${id}`)).body as unknown as RolloutView;
            return done(last);
          },
          { timeout: timeoutMs, interval: 50 },
        )
        .toBe(true);
      return last as RolloutView;
    },
    async close() {
      for (const l of lockers) await l.stop();
      await t.close();
    },
  };
}
