import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LockerView } from '../../shared/api/lockers.js';
import type { ParcelView } from '../../shared/api/parcels.js';
import { ApiClient, ApiError } from '../../client/http-client.js';
import { checkInvariants, type DeviceRecord, type ParcelWithHistory } from '../../simulator/checker.js';
import { awaitPickupCode } from '../../simulator/people.js';
import { startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startBrokerLocker, type BrokerLocker } from './broker-lockers.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

const ADMIN_TOKEN = 'scale-out-admin-token-0123456789abcdef';
const LOCKERS = 3;
const PARCELS_PER_LOCKER = 6;
/** People at one locker at the same time (each with their own parcel). */
const PEOPLE_PER_LOCKER = 2;

let pg: TestPostgres;
let broker: TestMosquitto;
let dir: string;
const servers: ServerProcess[] = [];
const lockers: BrokerLocker[] = [];

beforeAll(async () => {
  [pg, broker] = await Promise.all([startPostgres(), startMosquitto()]);
  dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-two-'));
  const env = {
    HOST: '127.0.0.1',
    DATA_DIR: path.join(dir, 'server'),
    ADMIN_TOKEN,
    DATABASE_URL: await pg.createDatabase(),
    MQTT_URL: broker.url,
    MQTT_USERNAME: broker.admin.username,
    MQTT_PASSWORD: broker.admin.password,
    // A killed process' session (and what the broker queued for it) goes soon; lockers resend what was not acked.
    MQTT_SESSION_EXPIRY_SEC: '5',
    HEARTBEAT_MS: '2000',
    LOG_LEVEL: 'warn',
  };
  // One after the other: the first makes the shared secrets and runs the migrations.
  servers.push(await startServerProcess('a', env));
  servers.push(await startServerProcess('b', env));
}, 120_000);

afterAll(async () => {
  await Promise.all(lockers.map((l) => l.stop().catch(() => undefined)));
  for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  await Promise.all(servers.map((s) => (s.child.exitCode === null && s.child.signalCode === null ? new Promise((r) => s.child.once('exit', r)) : undefined)));
  await broker?.stop();
  await pg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Types `code` until a door opens (the locker may not have the grant yet); returns the door. */
async function openWith(locker: BrokerLocker, pin: string, what: string): Promise<string> {
  const until = Date.now() + 30_000;
  for (;;) {
    const outcome = await locker.agent.enterCode(pin, 'keypad');
    if ('opened' in outcome) return outcome.opened;
    if (Date.now() > until) throw new Error(`${what}: the locker kept refusing (${JSON.stringify(outcome)})`);
    await sleep(250);
  }
}

/** One parcel from booking to pickup, as the carrier, the courier and the recipient do it. */
async function deliver(api: ApiClient, locker: BrokerLocker, reference: string): Promise<string> {
  let booked: ParcelView & { dropoff: { pin: string } };
  for (;;) {
    try {
      booked = await api.post('/v1/parcels', { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference });
      break;
    } catch (err) {
      // A booking cut off by the kill may have been applied by the dead process, holding a compartment.
      if (!(err instanceof ApiError && err.code === 'NO_FREE_COMPARTMENT')) throw err;
      await sleep(500);
    }
  }
  const door = await openWith(locker, booked.dropoff.pin, `${reference} drop-off`);
  expect(door).toBe(booked.compartmentId);
  locker.hardware.openDoor(door);
  locker.hardware.closeDoor(door);
  const code = await awaitPickupCode(api, booked.id, 30_000, 200);
  if (!code) throw new Error(`${reference}: no pickup code`);
  const again = await openWith(locker, code.pin, `${reference} pickup`);
  expect(again).toBe(door);
  locker.hardware.openDoor(again);
  locker.hardware.closeDoor(again);
  await expect.poll(async () => (await api.get<ParcelView>(`/v1/parcels/${booked.id}`)).status, { timeout: 30_000, message: `${reference} picked up` }).toBe('picked_up');
  return booked.id;
}

describe('two server processes on Postgres and Mosquitto', () => {
  it('carries every parcel through when one process is killed (SIGKILL) mid-traffic', async () => {
    const api = new ApiClient(servers.map((s) => s.url), ADMIN_TOKEN);
    for (let i = 0; i < LOCKERS; i++) {
      lockers.push(
        await startBrokerLocker(api, dir, [
          { id: 'A1', size: 'S' },
          { id: 'A2', size: 'S' },
          { id: 'A3', size: 'S' },
        ]),
      );
    }
    await expect.poll(() => lockers.every((l) => l.agent.ready), { timeout: 20_000, message: 'every locker to get its configuration' }).toBe(true);

    let done = 0;
    const parcelIds: string[] = [];
    const flows = lockers.flatMap((locker, li) =>
      Array.from({ length: PEOPLE_PER_LOCKER }, async (_, pi) => {
        for (let k = pi; k < PARCELS_PER_LOCKER; k += PEOPLE_PER_LOCKER) {
          parcelIds.push(await deliver(api, locker, `TWO-${li}-${k}`));
          done++;
        }
      }),
    );
    const all = Promise.all(flows);
    // Mid-traffic: a third of the parcels went through, the others are at every stage.
    await expect.poll(() => done >= (LOCKERS * PARCELS_PER_LOCKER) / 3, { timeout: 60_000, message: 'a third of the parcels' }).toBe(true);
    const victim = servers[0] as ServerProcess;
    victim.child.kill('SIGKILL');
    const doneAtKill = done;
    await all;
    // Most of the traffic went on after the kill, through the survivor alone.
    expect(doneAtKill).toBeLessThan(LOCKERS * PARCELS_PER_LOCKER);
    expect(parcelIds).toHaveLength(LOCKERS * PARCELS_PER_LOCKER);

    // The survivor alone answers now, and the books balance.
    const survivor = new ApiClient(servers[1]!.url, ADMIN_TOKEN);
    await expect.poll(async () => (await Promise.all(lockers.map((l) => l.store.outboxSize()))).every((n) => n === 0), { timeout: 30_000, message: 'every locker outbox to drain' }).toBe(true);
    const parcels = await Promise.all(parcelIds.map((id) => survivor.get<ParcelWithHistory>(`/v1/parcels/${id}`)));
    expect(parcels.every((p) => p.status === 'picked_up')).toBe(true);
    const views = await Promise.all(lockers.map((l) => survivor.get<LockerView>(`/v1/lockers/${l.id}`)));
    const devices = new Map<string, DeviceRecord>();
    for (const l of lockers) devices.set(l.id, { lastSeq: await l.store.lastSeq(), acceptedByJti: l.acceptedByJti });
    expect(checkInvariants({ parcels, lockers: views, devices })).toEqual([]);
    expect(victim.child.signalCode).toBe('SIGKILL');
  }, 150_000);
});
