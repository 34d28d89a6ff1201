/**
 * The agent on emulated lock boards against a real server: deposits and pickups drive the right coils, a remote
 * open pulses the right coil, and a board that stops answering raises `hardware_fault` (a code for its door is
 * refused and stays valid) until it answers again. The test plays the person at the locker: it reads which coil
 * was pulsed and toggles that door's input on the emulated board.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '../../shared/clock.js';
import type { AlarmView } from '../../shared/api/alarms.js';
import type { LockerView } from '../../shared/api/lockers.js';
import type { ParcelView } from '../../shared/api/parcels.js';
import type { EnrolmentTicket } from '../../shared/api/lockers.js';
import { derivePin } from '../../server/codes/pins.js';
import { LockerAgent } from '../../device/agent.js';
import { createModbusHardware } from '../../device/hardware/modbus-factory.js';
import type { ModbusLockerHardware } from '../../device/hardware/modbus-driver.js';
import { continueNumbering, DeviceIdentity, enrol, keepBrokerAccount } from '../../device/identity.js';
import { DeviceStore } from '../../device/store/device-store.js';
import { BoardEmulator, type Pulse } from '../helpers/modbus-board-emulator.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

type Booked = ParcelView & { dropoff: { pin: string } };

const COMPARTMENTS = [
  { id: 'A1', size: 'S' as const },
  { id: 'A2', size: 'S' as const },
  { id: 'B1', size: 'M' as const },
];
const emulator = new BoardEmulator([1, 2]);
let t: TestServer;
let agent: LockerAgent;
let hardware: ModbusLockerHardware;
let store: DeviceStore;
let lockerId = '';

beforeAll(async () => {
  t = await startTestServer();
  const url = await emulator.serveTcp();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-modbus-agent-'));
  // B1 is on a second board; A1 and A2 follow the default wiring (unit 1, coils and inputs 0 and 1).
  const map = path.join(dir, 'map.json');
  writeFileSync(map, JSON.stringify({ timeoutMs: 100, attempts: 2, pulseMs: 20, compartments: { B1: { unit: 2, coil: 0, input: 0 } } }));
  const created = await t.api.post<LockerView & { enrolment: EnrolmentTicket }>('/v1/lockers', { name: 'Modbus', location: { lat: 52.23, lon: 21.01 }, compartments: COMPARTMENTS });
  lockerId = created.id;
  store = await DeviceStore.open(path.join(dir, `${lockerId}.sqlite`), () => Math.random().toString(36).slice(2, 14));
  const identity = await DeviceIdentity.loadOrCreate(store);
  const enrolled = await enrol(t.httpUrl, lockerId, created.enrolment.token, identity.publicKey);
  await continueNumbering(store, enrolled.lastSeq);
  await keepBrokerAccount(store, enrolled.broker);
  const driver = await createModbusHardware({ lockerId, compartments: COMPARTMENTS, spec: url, mapFile: map, pollMs: 10 });
  hardware = driver.hardware;
  agent = new LockerAgent({ lockerId, mqttUrl: enrolled.mqttUrl, password: () => identity.brokerPassword(lockerId, Date.now()), hardware, store, clock: systemClock, ackTimeoutMs: 1000 });
  await agent.start();
  await vi.waitFor(() => expect(agent.ready).toBe(true), { timeout: 10_000, interval: 10 });
});

afterAll(async () => {
  await agent?.stop();
  await hardware?.close();
  await store?.close();
  await emulator.close();
  await t?.close();
});

const read = (id: string) => t.api.get<ParcelView>(`/v1/parcels/${id}`);
const alarms = (kind: string) => t.api.get<{ items: AlarmView[] }>(`/v1/alarms?lockerId=${lockerId}&kind=${kind}`).then((r) => r.items);

async function synced(): Promise<void> {
  await expect
    .poll(async () => {
      const v = await t.api.get<LockerView>(`/v1/lockers/${lockerId}`);
      return v.reportedVersion === v.desiredVersion;
    })
    .toBe(true);
}

async function pickupPin(parcelId: string): Promise<string> {
  const { db, pinSecret, config } = t.server.ctx;
  const g = await db.selectFrom('grants').select('jti').where('parcel_id', '=', parcelId).where('action', '=', 'pickup').executeTakeFirstOrThrow();
  return derivePin(pinSecret, g.jti, config.pinLength);
}

/** The person: waits for the next pulse on the boards, pulls that door open and pushes it shut. */
async function walkThroughNextPulse(before: number): Promise<Pulse> {
  await expect.poll(() => emulator.pulses.length, { message: 'a coil to be pulsed' }).toBe(before + 1);
  const pulse = emulator.pulses[before]!;
  expect(emulator.pull(pulse.unit, pulse.coil)).toBe(true);
  // Long enough for the debounced poll to see it open, before the door is pushed shut.
  await expect.poll(() => agent.doors.phase(COMPARTMENTS[pulse.unit === 2 ? 2 : pulse.coil]!.id)?.kind).toBe('open');
  emulator.push(pulse.unit, pulse.coil);
  // The door session ends once the debounced poll sees it shut: the next code for this door is not "busy".
  await expect.poll(() => agent.doors.phase(COMPARTMENTS[pulse.unit === 2 ? 2 : pulse.coil]!.id)?.kind ?? 'closed').toBe('closed');
  return pulse;
}

describe('the agent on Modbus lock boards', () => {
  it('a parcel is deposited and picked up: each code pulses its compartment coil, the door sensor completes it', async () => {
    const parcel = await t.api.post<Booked>('/v1/parcels', { lockerId, size: 'S', recipient: { email: 'r@x.example' }, reference: 'MB-1' });
    await synced();
    const coilOf = COMPARTMENTS.findIndex((c) => c.id === parcel.compartmentId);

    let before = emulator.pulses.length;
    expect(await agent.enterCode(parcel.dropoff.pin, 'keypad')).toEqual({ opened: parcel.compartmentId });
    expect(await walkThroughNextPulse(before)).toMatchObject({ unit: 1, coil: coilOf });
    await expect.poll(async () => (await read(parcel.id)).status, { message: 'the deposit to reach the server' }).toBe('in_locker');

    await synced();
    before = emulator.pulses.length;
    expect(await agent.enterCode(await pickupPin(parcel.id), 'keypad')).toEqual({ opened: parcel.compartmentId });
    expect(await walkThroughNextPulse(before)).toMatchObject({ unit: 1, coil: coilOf });
    await expect.poll(async () => (await read(parcel.id)).status, { message: 'the pickup to reach the server' }).toBe('picked_up');
    expect(emulator.coil(1, coilOf)).toBe(false);
  });

  it('a remote open pulses the coil of that compartment, on its own board', async () => {
    const before = emulator.pulses.length;
    const sent = await t.api.post<{ id: string }>(`/v1/lockers/${lockerId}/commands`, { type: 'open', compartmentId: 'B1', reason: 'modbus test' });
    expect(await walkThroughNextPulse(before)).toMatchObject({ unit: 2, coil: 0 });
    expect(emulator.pulsesOf(1, 0) + emulator.pulsesOf(1, 1)).toBe(before);
    const state = () => t.server.ctx.db.selectFrom('commands').select('state').where('id', '=', sent.id).executeTakeFirst();
    await expect.poll(async () => (await state())?.state, { message: 'the command to succeed' }).toBe('succeeded');
  });

  it('a board that stops answering raises hardware_fault for that board; its codes are refused but stay valid; it recovers when the board answers', async () => {
    const parcel = await t.api.post<Booked>('/v1/parcels', { lockerId, size: 'M', recipient: { email: 'r@x.example' }, reference: 'MB-2' });
    expect(parcel.compartmentId).toBe('B1');
    await synced();

    emulator.silence(2);
    await expect.poll(async () => (await alarms('hardware_fault')).find((a) => a.state === 'open')?.detail, { timeout: 10_000, message: 'the alarm' }).toMatchObject({ board: 'unit 2', reason: 'NO_ANSWER' });
    const pulses = emulator.pulses.length;
    expect(await agent.enterCode(parcel.dropoff.pin, 'keypad')).toEqual({ refused: 'HARDWARE_FAULT' });
    expect(emulator.pulses.length).toBe(pulses);
    // Board 1 still works meanwhile, and the agent is still running.
    expect(hardware.canPulse('A1')).toBe(true);
    const telemetry = await hardware.telemetry();
    expect(telemetry.bus).toMatchObject({ boardsSeen: 1, boards: 2 });
    expect(telemetry.bus!.errorsPerMinute).toBeGreaterThan(0);

    emulator.silence(2, false);
    await expect.poll(async () => (await alarms('hardware_fault'))[0]?.state, { timeout: 10_000, message: 'the alarm resolved' }).toBe('resolved');
    expect((await alarms('hardware_fault'))[0]).toMatchObject({ resolvedBy: 'system', count: 1 });
    // The refused code was never used: it opens now.
    expect(await agent.enterCode(parcel.dropoff.pin, 'keypad')).toEqual({ opened: 'B1' });
    expect(await walkThroughNextPulse(pulses)).toMatchObject({ unit: 2, coil: 0 });
    await expect.poll(async () => (await read(parcel.id)).status).toBe('in_locker');
  });

  it('a coil that does not take aborts the session: the code is not used, on the locker or on the server, and works once the coil does', async () => {
    const parcel = await t.api.post<Booked>('/v1/parcels', { lockerId, size: 'S', recipient: { email: 'r@x.example' }, reference: 'MB-3' });
    await synced();
    const coil = COMPARTMENTS.findIndex((c) => c.id === parcel.compartmentId);
    emulator.stick(1, coil);
    expect(await agent.enterCode(parcel.dropoff.pin, 'keypad')).toEqual({ opened: parcel.compartmentId });
    await expect.poll(() => agent.doors.isBusy(parcel.compartmentId), { message: 'the session to end' }).toBe(false);
    const { db } = t.server.ctx;
    const grant = () => db.selectFrom('grants').select(['status', 'uses']).where('parcel_id', '=', parcel.id).where('action', '=', 'deposit').executeTakeFirstOrThrow();
    await expect.poll(async () => (await t.api.get<{ items: AlarmView[] }>(`/v1/alarms?lockerId=${lockerId}&kind=session_aborted`)).items[0]?.detail).toMatchObject({ reason: 'HARDWARE_FAULT' });
    await expect.poll(grant).toEqual({ status: 'live', uses: 0 });

    emulator.stick(1, coil, false);
    await expect.poll(() => hardware.canPulse(parcel.compartmentId)).toBe(true);
    const before = emulator.pulses.length;
    expect(await agent.enterCode(parcel.dropoff.pin, 'keypad')).toEqual({ opened: parcel.compartmentId });
    await walkThroughNextPulse(before);
    await expect.poll(async () => (await read(parcel.id)).status).toBe('in_locker');
    await expect.poll(grant).toEqual({ status: 'used', uses: 1 });
    expect((await alarms('grant_reused')).length).toBe(0);
  });
});
