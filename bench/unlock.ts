import { createPrivateKey, randomUUID } from 'node:crypto';
import path from 'node:path';
import { LockerAgent } from '../device/agent.js';
import { DeviceStore } from '../device/store/device-store.js';
import type { LockerView } from '../shared/api/lockers.js';
import { signBrokerToken } from '../shared/broker-credentials.js';
import { systemClock } from '../shared/clock.js';
import { ApiClient } from '../client/http-client.js';
import { SimulatedLocker } from '../simulator/simulated-locker.js';
import { TcpProxy } from '../simulator/tcp-proxy.js';
import { registerLockers, startHost, stopHost, type BenchContext } from './harness.js';
import { percentiles, round, say, sleep, until, type Percentiles } from './stats.js';

export interface UnlockResult {
  samples: number;
  /** Milliseconds from the PIN typed on the keypad to the lock pulsed, connected to the server. */
  online: Percentiles;
  /** The same with the locker's network cut at its TCP proxy. */
  offline: Percentiles;
  /** p99 offline / p99 online: 1 means the decision does not wait for the network. */
  offlineVsOnlineP99: number;
  /** After the network came back: events the locker recorded offline, and how long until all were acknowledged. */
  backlog: { events: number; drainedMs: number };
}

/** Types each PIN, waits for its lock to be pulsed, then opens and shuts the door (the deposit completes). */
async function deposits(hw: SimulatedLocker, pins: readonly string[], label: string): Promise<number[]> {
  const out: number[] = [];
  for (const pin of pins) {
    const released = hw.waitForRelease(10_000);
    const t0 = performance.now();
    hw.type(pin);
    const compartment = await released;
    const ms = performance.now() - t0;
    if (!compartment) throw new Error(`${label}: a valid PIN did not open (display: ${hw.displayed.at(-1) ?? ''})`);
    out.push(ms);
    hw.openDoor(compartment);
    await sleep(5);
    hw.closeDoor(compartment);
    await sleep(15);
  }
  return out;
}

/**
 * Unlock decision latency on the device: the real LockerAgent on simulated hardware, a real server in another
 * process, the locker's network through a TCP proxy that can cut it. Every sample is a drop-off PIN whose
 * grant reached the locker with the booking.
 */
export async function benchUnlock(ctx: BenchContext): Promise<UnlockResult> {
  const samples = ctx.quick ? 50 : 200;
  const host = await startHost(ctx, { kind: 'lockstep', dataDir: path.join(ctx.tmp, 'unlock'), port: 0, mqttPort: 0, logLevel: 'info' }, 'unlock-lockstep');
  const compartments = Array.from({ length: samples * 2 }, (_, k) => ({ id: `D${k + 1}`, size: 'S' as const }));
  const [cred] = await registerLockers(host, 1, compartments);
  if (!cred) throw new Error('no locker registered');
  const proxy = new TcpProxy('127.0.0.1', host.mqttPort);
  const mqttUrl = await proxy.listen();
  const hw = new SimulatedLocker(compartments);
  const store = await DeviceStore.open(path.join(ctx.tmp, `unlock-${cred.lockerId}.sqlite`), () => randomUUID().replaceAll('-', ''));
  const key = createPrivateKey({ key: Buffer.from(cred.key, 'base64'), format: 'der', type: 'pkcs8' });
  const password = () => signBrokerToken(key, cred.lockerId, Date.now(), randomUUID().replaceAll('-', ''));
  const agent = new LockerAgent({ lockerId: cred.lockerId, mqttUrl, password, hardware: hw, store, clock: systemClock, ackTimeoutMs: 2000 });
  try {
    await agent.start();
    if (!(await until(() => agent.ready && agent.sync.connected, 30_000))) throw new Error('the agent did not connect');
    const api = new ApiClient(host.httpUrl, host.adminToken);
    const pins: string[] = [];
    for (let i = 0; i < samples * 2; i++) {
      const booked = await api.post<{ dropoff: { pin: string } }>('/v1/parcels', { lockerId: cred.lockerId, size: 'S', recipient: { email: 'r@example.com' }, reference: `U-${i}` });
      pins.push(booked.dropoff.pin);
    }
    const desired = (await api.get<LockerView>(`/v1/lockers/${cred.lockerId}`)).desiredVersion;
    if (!(await until(async () => (await store.appliedVersion()) >= desired, 60_000, 200))) throw new Error('the grants did not reach the locker');
    say(`unlock: ${samples} drop-offs online, then ${samples} with the network cut`);

    const online = await deposits(hw, pins.slice(0, samples), 'online');
    proxy.cut();
    if (!(await until(() => !agent.sync.connected, 30_000))) throw new Error('the agent did not notice the cut');
    const outboxBefore = await store.outboxSize();
    const offline = await deposits(hw, pins.slice(samples), 'offline');
    const backlogEvents = (await store.outboxSize()) - outboxBefore;
    const restored = performance.now();
    proxy.restore();
    const drained = await until(async () => (await store.outboxSize()) === 0, 120_000, 100);
    const backlog = { events: backlogEvents, drainedMs: drained ? round(performance.now() - restored) : -1 };
    const result: UnlockResult = {
      samples,
      online: percentiles(online),
      offline: percentiles(offline),
      offlineVsOnlineP99: 0,
      backlog,
    };
    result.offlineVsOnlineP99 = result.online.p99 > 0 ? round(result.offline.p99 / result.online.p99, 2) : 0;
    say(
      `  PIN → lock: online p50 ${result.online.p50} ms, p99 ${result.online.p99} ms; offline p50 ${result.offline.p50} ms, p99 ${result.offline.p99} ms; ` +
        `${backlog.events} offline events acknowledged ${round(backlog.drainedMs / 1000, 1)} s after the network came back`,
    );
    return result;
  } finally {
    await agent.stop().catch(() => undefined);
    await store.close().catch(() => undefined);
    await proxy.close().catch(() => undefined);
    await stopHost(host);
  }
}
