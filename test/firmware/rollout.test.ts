import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedUpload, startFirmwareFleet, vendorKeys, type FirmwareFleet } from './firmware-fixture.js';

type LockerRow = { lockerId: string; wave: number; state: string; deviceState: string | null; detail: string | null };

describe('firmware rollouts with real agents over MQTT', () => {
  let f: FirmwareFleet;
  beforeAll(async () => {
    f = await startFirmwareFleet(4);
  }, 30_000);
  afterAll(() => f?.close());

  const lockersOf = async (id: string) => (await f.call('GET', `/v1/rollouts/${id}/lockers`)).body.lockers as LockerRow[];
  const versionsOnServer = async () => (await f.t.server.ctx.db.selectFrom('lockers').select(['id', 'firmware_version']).orderBy('id').execute()).map((l) => l.firmware_version);

  it('checks rollout input before anything is stored', async () => {
    const bad = async (body: unknown) => ((await f.call('POST', '/v1/rollouts', body)).body.error as { code: string }).code;
    expect(await bad({ version: '9.9.9', waves: [100], reason: 'nope' })).toBe('FIRMWARE_NOT_FOUND');
    expect((await f.call('POST', '/v1/firmware', signedUpload('1.0.0', f.vendor.privateKey))).status).toBe(201);
    expect(await bad({ version: '1.0.0', waves: [50, 40, 100], reason: 'nope' })).toBe('ROLLOUT_WAVES_INVALID');
    expect(await bad({ version: '1.0.0', waves: [10, 50], reason: 'nope' })).toBe('ROLLOUT_WAVES_INVALID');
    expect(await bad({ version: '1.0.0', waves: [['lk_nope']], reason: 'nope' })).toBe('ROLLOUT_WAVES_INVALID');
    expect((await f.call('POST', '/v1/firmware', signedUpload('1.0.0', f.vendor.privateKey))).status).toBe(409);
    expect((await f.call('GET', '/v1/rollouts')).body.rollouts).toEqual([]);
    expect((await f.call('PUT', `/v1/lockers/${f.lockers[0]!.id}/timezone`, { timezone: 'Mars/Olympus' })).status).toBe(400);
    expect((await f.call('PUT', `/v1/lockers/${f.lockers[0]!.id}/timezone`, { timezone: 'Europe/Warsaw' })).status).toBe(200);
  });

  it('refuses an upload whose signature is not the vendor key’s, and stores nothing', async () => {
    const impostor = vendorKeys();
    const res = await f.call('POST', '/v1/firmware', signedUpload('2.0.0', impostor.privateKey));
    expect(res.status).toBe(400);
    expect((res.body.error as { code: string }).code).toBe('FIRMWARE_SIGNATURE_INVALID');
    expect(((await f.call('GET', '/v1/firmware')).body.firmware as { version: string }[]).map((a) => a.version)).toEqual(['1.0.0']);
  });

  it('rolls a good update out wave by wave; a locker with a door open installs only once the door is shut', async () => {
    const up = await f.call('POST', '/v1/firmware', signedUpload('2.0.0', f.vendor.privateKey));
    expect(up.status).toBe(201);
    const busy = f.lockers[0]!;
    busy.hardware.forceOpen('A1');
    await expect.poll(() => busy.agent.doors.isBusy('A1')).toBe(true);

    const created = await f.call('POST', '/v1/rollouts', { version: '2.0.0', waves: [50, 100], healthGate: { deadlineSec: 600, maxFailedPct: 0, maxAlarmIncrease: 100 }, reason: 'fleet to 2.0.0' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.body).toMatchObject({ target: 4, state: 'running', wave: 0, waves: [50, 100] });

    // The busy locker is told to update (its wave comes, at the latest, second) and says it waits for the door.
    await f.driveRollout(id, () => true);
    await expect
      .poll(async () => {
        await f.t.server.scheduler.runOnce();
        return (await lockersOf(id)).find((l) => l.lockerId === busy.id)?.deviceState;
      }, { timeout: 15_000 })
      .toBe('deferred');
    expect(busy.agent.updater?.version).toBe('1.0.0');
    busy.hardware.closeDoor('A1');

    const done = await f.driveRollout(id, (r) => r.state === 'completed');
    expect(done).toMatchObject({ target: 4, updated: 4, failed: 0, halted: false, wave: 1 });
    await expect.poll(versionsOnServer, { timeout: 10_000 }).toEqual(['2.0.0', '2.0.0', '2.0.0', '2.0.0']);
    for (const l of f.lockers) expect(l.agent.updater?.version).toBe('2.0.0');
  });

  it('a tampered artefact is refused by every locker (nothing installed) and the health gate halts the rollout', async () => {
    expect((await f.call('POST', '/v1/firmware', signedUpload('2.1.0', f.vendor.privateKey))).status).toBe(201);
    // Someone changes the stored bytes after the upload: the signature no longer matches what lockers download.
    const evil = Buffer.from(JSON.stringify({ format: 'lockstep-simulated-firmware', version: '2.1.0', comesUp: true, evil: 1 }));
    await f.t.server.ctx.db.updateTable('firmware_artefacts').set({ content: evil.toString('base64'), size: evil.length }).where('version', '=', '2.1.0').execute();

    const id = (await f.call('POST', '/v1/rollouts', { version: '2.1.0', waves: [25, 100], healthGate: { maxFailedPct: 0, maxAlarmIncrease: 100 }, reason: 'tampered' })).body.id as string;
    const halted = await f.driveRollout(id, (r) => r.state === 'halted');
    expect(halted).toMatchObject({ target: 4, updated: 0, failed: 1, pending: 3, halted: true, wave: 0 });
    expect(halted.haltedReason).toMatch(/did not come back/);
    const failed = (await lockersOf(id)).find((l) => l.state === 'failed')!;
    expect(failed.detail).toBe('HASH_MISMATCH');
    const locker = f.lockers.find((l) => l.id === failed.lockerId)!;
    expect(locker.agent.updater?.version).toBe('2.0.0');
    expect(existsSync(path.join(f.t.dir, `${locker.id}-firmware`, 'versions', '2.1.0'))).toBe(false);
    const audit = (await f.call('GET', '/v1/audit?action=rollout.halt')).body.items as { actor: string; subject: string }[];
    expect(audit.map((e) => [e.actor, e.subject])).toEqual([['system', id]]);
    expect((await f.call('POST', `/v1/rollouts/${id}/abort`, { reason: 'bad artefact' })).body).toMatchObject({ state: 'aborted' });
  });

  it('a version that does not come up falls back on the locker, halts the rollout, and the rollback brings the wave back', async () => {
    expect((await f.call('POST', '/v1/firmware', signedUpload('3.0.0', f.vendor.privateKey, false))).status).toBe(201);
    const id = (await f.call('POST', '/v1/rollouts', { version: '3.0.0', waves: [25, 100], healthGate: { maxFailedPct: 0, maxAlarmIncrease: 100 }, reason: 'bad build' })).body.id as string;
    const halted = await f.driveRollout(id, (r) => r.state === 'halted');
    expect(halted).toMatchObject({ target: 4, updated: 0, failed: 1, pending: 3, halted: true });
    const failed = (await lockersOf(id)).find((l) => l.state === 'failed')!;
    expect(failed).toMatchObject({ deviceState: 'rolled_back', detail: 'DID_NOT_COME_UP' });
    const locker = f.lockers.find((l) => l.id === failed.lockerId)!;
    // Installed, tried, and back on the previous version: the bad one stays in the versions folder, not current.
    expect(locker.agent.updater?.version).toBe('2.0.0');
    expect(existsSync(path.join(f.t.dir, `${locker.id}-firmware`, 'versions', '3.0.0', 'artefact'))).toBe(true);

    // Neither pausing a halted rollout nor resuming a finished one makes sense.
    expect((await f.call('POST', `/v1/rollouts/${id}/pause`, { reason: 'x'.repeat(3) })).status).toBe(409);
    const back = await f.call('POST', `/v1/rollouts/${id}/rollback`, { reason: 'roll back 3.0.0' });
    expect(back.body).toMatchObject({ state: 'rolling_back' });
    const rolled = await f.driveRollout(id, (r) => r.state === 'rolled_back');
    expect(rolled).toMatchObject({ rolledBack: 1, pending: 3, updated: 0 });
    expect(await versionsOnServer()).toEqual(['2.0.0', '2.0.0', '2.0.0', '2.0.0']);
    const audit = (await f.call('GET', '/v1/audit?action=rollout.rollback')).body.items as { actor: string; result: string }[];
    expect(audit.map((e) => e.result)).toEqual(['done']);
  });

  it('a locker that does not come back before the deadline fails the wave (injected clock)', async () => {
    expect((await f.call('POST', '/v1/firmware', signedUpload('3.1.0', f.vendor.privateKey))).status).toBe(201);
    const offline = f.lockers[3]!;
    await offline.agent.stop();
    await expect.poll(async () => (await f.t.server.ctx.db.selectFrom('lockers').select('online').where('id', '=', offline.id).executeTakeFirstOrThrow()).online).toBe(0);
    const id = (await f.call('POST', '/v1/rollouts', { version: '3.1.0', waves: [[offline.id], f.lockers.slice(0, 3).map((l) => l.id)], healthGate: { deadlineSec: 60, maxFailedPct: 0, maxAlarmIncrease: 100 }, reason: 'deadline' })).body
      .id as string;
    await f.driveRollout(id, (r) => r.inProgress === 1);
    f.clock.shiftMs += 61_000;
    const halted = await f.driveRollout(id, (r) => r.state === 'halted');
    expect(halted).toMatchObject({ target: 4, failed: 1, pending: 3 });
    expect((await lockersOf(id)).find((l) => l.lockerId === offline.id)?.detail).toBe('NO_REPORT_BEFORE_DEADLINE');
    // The operator accepts that failure and resumes: the next wave goes out and the rollout completes.
    expect((await f.call('POST', `/v1/rollouts/${id}/resume`, { reason: 'locker is being replaced' })).body).toMatchObject({ state: 'running', halted: false });
    const done = await f.driveRollout(id, (r) => r.state === 'completed');
    expect(done).toMatchObject({ target: 4, updated: 3, failed: 1, wave: 1 });
    f.clock.shiftMs = 0;
  });
});

