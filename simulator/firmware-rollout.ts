import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { RolloutView } from '../shared/api/firmware.js';
import { firmwareSignedText } from '../shared/messages.js';
import type { UpdateSettings } from '../device/update/updater.js';
import { simulatedFirmware } from '../device/update/simulated-firmware.js';
import type { ApiClient } from '../client/http-client.js';
import { seededRandom } from './random.js';

/**
 * The simulator's firmware rollout (scenario `firmwareRollout`, issue 19): the simulator plays the vendor (makes the
 * Ed25519 key pair, signs the simulated firmware), the lockers trust its public key, and a share of them cannot
 * run the new version (their health check fails: think of an older board revision). After the traffic the admin
 * uploads the version and starts the rollout; the run reports where it ended. See docs/firmware.md.
 */
export interface SimulatedVendor {
  privateKey: KeyObject;
  /** The public key, base64url (FIRMWARE_PUBLIC_KEY, and each locker's trusted key). */
  x: string;
}

export function simulatedVendor(): SimulatedVendor {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, x: String(publicKey.export({ format: 'jwk' }).x) };
}

/** Which lockers (by index) the new version does not come up on: `share` of them, drawn from the seed. */
export function failingLockers(lockers: number, share: number, seed: number): number[] {
  const random = seededRandom(seed ^ 0xf1f1);
  return Array.from({ length: lockers }, (_, i) => i).filter(() => random() < share);
}

/** A simulated locker's update settings: trusts the vendor, runs 1.0.0, and on a failing locker nothing new comes up. */
export function simulatedFirmwareSettings(f: { publicKey: string; failing: readonly number[] }, index: number): Omit<UpdateSettings, 'dir' | 'apiUrl'> {
  return { publicKey: f.publicKey, initialVersion: '1.0.0', idleRetryMs: 500, ...(f.failing.includes(index) ? { healthCheck: () => false } : {}) };
}

export interface RolloutOutcome {
  target: number;
  updated: number;
  failed: number;
  halted: boolean;
  state: string;
  /** The wave the rollout ended in (0-based), and why it halted. */
  wave: number;
  haltedReason: string | null;
  /** Why lockers failed (the reason each reported, or NO_REPORT_BEFORE_DEADLINE), counted. */
  failures: Record<string, number>;
}

const FINAL = new Set(['completed', 'halted', 'aborted', 'rolled_back']);

/** Uploads the signed version, starts the rollout, and follows it (`tick` drives the server's scheduler) until it ends. */
export async function runFirmwareRollout(
  api: ApiClient,
  vendor: SimulatedVendor,
  rollout: { version: string; waves: number[]; healthGate?: { deadlineSec?: number; maxFailedPct?: number; maxAlarmIncrease?: number } },
  tick: () => Promise<void>,
  timeoutMs: number,
): Promise<RolloutOutcome> {
  const bytes = simulatedFirmware(rollout.version);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const signature = sign(null, Buffer.from(firmwareSignedText(rollout.version, sha256)), vendor.privateKey).toString('base64url');
  await api.post('/v1/firmware', { version: rollout.version, artefact: bytes.toString('base64'), signature, notes: 'simulated firmware' });
  let view = await api.post<RolloutView>('/v1/rollouts', {
    version: rollout.version,
    waves: rollout.waves,
    healthGate: { deadlineSec: 60, maxFailedPct: 10, maxAlarmIncrease: 1000, ...rollout.healthGate },
    reason: 'simulator: firmware rollout scenario',
  });
  const until = Date.now() + timeoutMs;
  while (!FINAL.has(view.state) && Date.now() < until) {
    await tick();
    await new Promise((r) => setTimeout(r, 200));
    view = await api.get<RolloutView>(`/v1/rollouts/${view.id}`);
  }
  const lockers = (await api.get<{ lockers: { state: string; detail: string | null }[] }>(`/v1/rollouts/${view.id}/lockers`)).lockers;
  const failures: Record<string, number> = {};
  for (const l of lockers) if (l.state === 'failed') failures[l.detail ?? 'unknown'] = (failures[l.detail ?? 'unknown'] ?? 0) + 1;
  return { target: view.target, updated: view.updated, failed: view.failed, halted: view.halted, state: view.state, wave: view.wave, haltedReason: view.haltedReason, failures };
}
