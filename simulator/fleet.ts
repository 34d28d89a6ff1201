import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../shared/clock.js';
import type { CompartmentSize } from '../shared/compartment-sizes.js';
import type { EventType } from '../shared/messages.js';
import { LockerAgent } from '../device/agent.js';
import { DeviceStore } from '../device/store/device-store.js';
import type { LockerView } from '../server/lockers/locker-views.js';
import type { DeviceCredentials } from '../server/lockers/register-locker.js';
import type { ApiClient } from './api-client.js';
import { SimulatedLocker } from './simulated-locker.js';

/** Compartment mix of a simulated locker. */
export const DEFAULT_COMPARTMENTS: readonly { id: string; size: CompartmentSize }[] = [
  { id: 'A1', size: 'S' },
  { id: 'A2', size: 'S' },
  { id: 'A3', size: 'S' },
  { id: 'B1', size: 'M' },
  { id: 'B2', size: 'M' },
  { id: 'C1', size: 'L' },
  { id: 'D1', size: 'XL' },
];

/** What the simulator saw a locker record (the device side of the books). */
export interface DeviceTap {
  seqs: Set<number>;
  acceptedByJti: Map<string, number>;
  byType: Map<EventType, number>;
}

export interface SimLocker {
  id: string;
  hardware: SimulatedLocker;
  agent: LockerAgent;
  store: DeviceStore;
  tap: DeviceTap;
  /** One person at the keypad at a time: visits queue here. */
  turn: Promise<unknown>;
}

export interface LockerSetup {
  api: ApiClient;
  name: string;
  location: { lat: number; lon: number };
  compartments?: readonly { id: string; size: CompartmentSize }[];
  dataDir: string;
  clock: Clock;
  random: () => number;
}

/** Registers a locker with the server and starts its agent on simulated hardware. */
export async function startSimLocker(s: LockerSetup): Promise<SimLocker> {
  const compartments = s.compartments ?? DEFAULT_COMPARTMENTS;
  const created = await s.api.post<LockerView & { device: DeviceCredentials }>('/v1/lockers', {
    name: s.name,
    location: s.location,
    compartments,
  });
  const hardware = new SimulatedLocker(compartments);
  const store = await DeviceStore.open(path.join(s.dataDir, `${created.id}.sqlite`), () => randomUUID().replaceAll('-', ''));
  const agent = new LockerAgent({
    lockerId: created.id,
    mqttUrl: created.device.mqttUrl,
    password: created.device.password,
    hardware,
    store,
    clock: s.clock,
    random: s.random,
    ackTimeoutMs: 5000,
  });
  const tap: DeviceTap = { seqs: new Set(), acceptedByJti: new Map(), byType: new Map() };
  agent.onRecorded = (events) => {
    for (const e of events) {
      tap.seqs.add(e.seq);
      tap.byType.set(e.type, (tap.byType.get(e.type) ?? 0) + 1);
      if (e.type === 'code.accepted' && e.jti) tap.acceptedByJti.set(e.jti, (tap.acceptedByJti.get(e.jti) ?? 0) + 1);
    }
  };
  await agent.start();
  return { id: created.id, hardware, agent, store, tap, turn: Promise.resolve() };
}

export async function stopSimLocker(l: SimLocker): Promise<void> {
  await l.agent.stop();
  await l.store.close();
}
