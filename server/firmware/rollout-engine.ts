import { randomUUID } from 'node:crypto';
import { encode } from '../../shared/codec.js';
import type { UpdateCommandMessage } from '../../shared/messages.js';
import { PROTOCOL_VERSION } from '../../shared/protocol-version.js';
import { topics } from '../../shared/topics.js';
import { recordAudit, SYSTEM_ACTOR } from '../audit/audit-log.js';
import type { ServerContext } from '../context.js';
import type { RolloutRow } from '../store/schema-firmware.js';
import { DeviceLinks } from './device-links.js';
import { gateVerdict, inWindow } from './rollout-rules.js';

/** Most update commands one tick sends (a large wave goes out over a few ticks). */
const SENDS_PER_TICK = 500;

/**
 * One round of every rollout that is running or rolling back (a scheduler job): settle the lockers sent an update
 * (updated when the locker runs the version, failed when it said so or its deadline passed), check the wave's
 * health gate (halt), send the wave's lockers that are inside their maintenance window, send again what was not
 * answered, and move to the next wave once every locker of this one is settled.
 */
export async function runRollouts(ctx: ServerContext): Promise<void> {
  const rows = await ctx.db.selectFrom('rollouts').selectAll().where('state', 'in', ['running', 'rolling_back']).execute();
  for (const r of rows) {
    if (r.state === 'running') await advance(ctx, r);
    else await advanceRollback(ctx, r);
  }
}

async function advance(ctx: ServerContext, r: RolloutRow): Promise<void> {
  const now = ctx.clock.now();
  await settle(ctx, r.id, 'sent', r.version, now);
  // A target that reached the version by other means (an earlier rollout, a technician) needs nothing.
  await ctx.db
    .updateTable('rollout_lockers')
    .set({ state: 'updated', done_at: now, detail: 'already on the version' })
    .where('rollout_id', '=', r.id)
    .where('state', '=', 'pending')
    .where('locker_id', 'in', (eb) => eb.selectFrom('lockers').select('id').where('firmware_version', '=', r.version))
    .execute();

  const halted = await healthGate(ctx, r, now);
  if (halted) return;

  const pending = await ctx.db
    .selectFrom('rollout_lockers as rl')
    .innerJoin('lockers as l', 'l.id', 'rl.locker_id')
    .select(['rl.locker_id', 'l.timezone'])
    .where('rl.rollout_id', '=', r.id)
    .where('rl.wave', '=', r.wave)
    .where('rl.state', '=', 'pending')
    .orderBy('rl.locker_id')
    .execute();
  const due = pending.filter((p) => inWindow(now, p.timezone, r.window_start_min, r.window_end_min)).slice(0, SENDS_PER_TICK);
  for (const p of due) {
    const commandId = `cu_${randomUUID().replaceAll('-', '')}`;
    const deadline = now + r.deadline_sec * 1000;
    await ctx.db
      .updateTable('rollout_lockers')
      .set({ state: 'sent', command_id: commandId, sent_at: now, last_sent_at: now, deadline_at: deadline })
      .where('rollout_id', '=', r.id)
      .where('locker_id', '=', p.locker_id)
      .where('state', '=', 'pending')
      .execute();
    await publishUpdate(ctx, p.locker_id, commandId, r.version, now, deadline);
  }
  await resend(ctx, r, 'sent', now);

  const open = await ctx.db
    .selectFrom('rollout_lockers')
    .select('locker_id')
    .where('rollout_id', '=', r.id)
    .where('wave', '=', r.wave)
    .where('state', 'in', ['pending', 'sent'])
    .limit(1)
    .executeTakeFirst();
  if (open) return;
  const waves = (JSON.parse(r.waves) as unknown[]).length;
  const next = r.wave + 1 < waves ? { wave: r.wave + 1, wave_started_at: now, updated_at: now } : { state: 'completed' as const, updated_at: now };
  await ctx.db.updateTable('rollouts').set(next).where('id', '=', r.id).where('state', '=', 'running').execute();
  ctx.log.info({ rolloutId: r.id, ...next }, 'state' in next ? 'rollout completed' : 'rollout wave started');
}

/** Halts the rollout when the wave's gate fails; true when it did. */
async function healthGate(ctx: ServerContext, r: RolloutRow, now: number): Promise<boolean> {
  const lockers = ctx.db.selectFrom('rollout_lockers').select('locker_id').where('rollout_id', '=', r.id).where('wave', '=', r.wave);
  const states = await ctx.db
    .selectFrom('rollout_lockers')
    .select(['state', (eb) => eb.fn.countAll<string | number>().as('n')])
    .where('rollout_id', '=', r.id)
    .where('wave', '=', r.wave)
    .groupBy('state')
    .execute();
  const size = states.reduce((a, s) => a + Number(s.n), 0);
  const started = r.wave_started_at ?? r.created_at;
  // Failures since the wave started or was resumed: resuming a halted rollout accepts the failures so far.
  const failed = Number(
    (
      await ctx.db
        .selectFrom('rollout_lockers')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('rollout_id', '=', r.id)
        .where('wave', '=', r.wave)
        .where('state', '=', 'failed')
        .where('done_at', '>=', started)
        .executeTakeFirstOrThrow()
    ).n,
  );
  const countAlarms = async (from: number, to: number) =>
    Number(
      (
        await ctx.db
          .selectFrom('alarms')
          .select((eb) => eb.fn.countAll<string | number>().as('n'))
          .where('locker_id', 'in', lockers)
          .where('first_at', '>=', from)
          .where('first_at', '<', to)
          .executeTakeFirstOrThrow()
      ).n,
    );
  const alarmsSince = await countAlarms(started, now + 1);
  const alarmsBefore = await countAlarms(started - (now + 1 - started), started);
  const why = gateVerdict({ size, failed, alarmsSince, alarmsBefore }, { maxFailedPct: r.max_failed_pct, maxAlarmIncrease: r.max_alarm_increase });
  if (!why) return false;
  await ctx.db.transaction().execute(async (trx) => {
    const done = await trx.updateTable('rollouts').set({ state: 'halted', halted_reason: why, updated_at: now }).where('id', '=', r.id).where('state', '=', 'running').executeTakeFirst();
    if (done.numUpdatedRows > 0n) {
      await recordAudit(trx, { at: now, actor: SYSTEM_ACTOR, action: 'rollout.halt', result: 'done', subject: r.id, reason: 'health gate', detail: { wave: r.wave, size, failed, alarmsSince, alarmsBefore, why } });
    }
  });
  ctx.log.warn({ rolloutId: r.id, wave: r.wave, size, failed, alarmsSince, alarmsBefore }, 'rollout halted by its health gate');
  return true;
}

/** Rolling back: each locker the update was sent to is sent its previous version, at once (no window). */
async function advanceRollback(ctx: ServerContext, r: RolloutRow): Promise<void> {
  const now = ctx.clock.now();
  const rows = await ctx.db.selectFrom('rollout_lockers').selectAll().where('rollout_id', '=', r.id).where('state', '=', 'rolling_back').execute();
  for (const row of rows) {
    if (row.command_id) continue;
    const back = row.from_version;
    const artefact = back ? await ctx.db.selectFrom('firmware_artefacts').select('version').where('version', '=', back).executeTakeFirst() : undefined;
    if (!back || !artefact) {
      await ctx.db
        .updateTable('rollout_lockers')
        .set({ state: 'failed', done_at: now, detail: 'NO_PREVIOUS_ARTEFACT' })
        .where('rollout_id', '=', r.id)
        .where('locker_id', '=', row.locker_id)
        .execute();
      continue;
    }
    const commandId = `cu_${randomUUID().replaceAll('-', '')}`;
    const deadline = now + r.deadline_sec * 1000;
    await ctx.db
      .updateTable('rollout_lockers')
      .set({ command_id: commandId, sent_at: now, last_sent_at: now, deadline_at: deadline })
      .where('rollout_id', '=', r.id)
      .where('locker_id', '=', row.locker_id)
      .execute();
    await publishUpdate(ctx, row.locker_id, commandId, back, now, deadline);
  }
  await settleRollback(ctx, r.id, now);
  await resend(ctx, r, 'rolling_back', now);
  const open = await ctx.db.selectFrom('rollout_lockers').select('locker_id').where('rollout_id', '=', r.id).where('state', '=', 'rolling_back').limit(1).executeTakeFirst();
  if (!open) {
    await ctx.db.updateTable('rollouts').set({ state: 'rolled_back', updated_at: now }).where('id', '=', r.id).where('state', '=', 'rolling_back').execute();
    ctx.log.info({ rolloutId: r.id }, 'rollout rolled back');
  }
}

/** Sent lockers now running `version` are updated; those that said they failed, or are past their deadline, failed. */
async function settle(ctx: ServerContext, rolloutId: string, state: 'sent', version: string, now: number): Promise<void> {
  await ctx.db
    .updateTable('rollout_lockers')
    .set({ state: 'updated', done_at: now })
    .where('rollout_id', '=', rolloutId)
    .where('state', '=', state)
    .where('locker_id', 'in', (eb) => eb.selectFrom('lockers').select('id').where('firmware_version', '=', version))
    .execute();
  await ctx.db
    .updateTable('rollout_lockers')
    .set((eb) => ({ state: 'failed', done_at: now, detail: eb.fn.coalesce('detail', eb.val('NO_REPORT_BEFORE_DEADLINE')) }))
    .where('rollout_id', '=', rolloutId)
    .where('state', '=', state)
    .where((eb) => eb.or([eb('device_state', 'in', ['failed', 'rolled_back']), eb('deadline_at', '<', now)]))
    .execute();
}

async function settleRollback(ctx: ServerContext, rolloutId: string, now: number): Promise<void> {
  const rows = await ctx.db
    .selectFrom('rollout_lockers as rl')
    .innerJoin('lockers as l', 'l.id', 'rl.locker_id')
    .select(['rl.locker_id', 'rl.from_version', 'l.firmware_version', 'rl.deadline_at', 'rl.device_state'])
    .where('rl.rollout_id', '=', rolloutId)
    .where('rl.state', '=', 'rolling_back')
    .where('rl.command_id', 'is not', null)
    .execute();
  for (const row of rows) {
    const back = row.firmware_version === row.from_version;
    const gaveUp = !back && ((row.deadline_at ?? Infinity) < now || row.device_state === 'failed');
    if (!back && !gaveUp) continue;
    await ctx.db
      .updateTable('rollout_lockers')
      .set({ state: back ? 'rolled_back' : 'failed', done_at: now, ...(gaveUp ? { detail: 'ROLLBACK_FAILED' } : {}) })
      .where('rollout_id', '=', rolloutId)
      .where('locker_id', '=', row.locker_id)
      .execute();
  }
}

/** Updates not answered for FIRMWARE_RESEND_SEC go again to lockers that are online (the locker runs each id once). */
async function resend(ctx: ServerContext, r: RolloutRow, state: 'sent' | 'rolling_back', now: number): Promise<void> {
  const rows = await ctx.db
    .selectFrom('rollout_lockers as rl')
    .innerJoin('lockers as l', 'l.id', 'rl.locker_id')
    .select(['rl.locker_id', 'rl.command_id', 'rl.from_version', 'rl.deadline_at', 'rl.sent_at'])
    .where('rl.rollout_id', '=', r.id)
    .where('rl.state', '=', state)
    .where('rl.command_id', 'is not', null)
    .where('rl.last_sent_at', '<', now - ctx.config.firmwareResendSec * 1000)
    .where('l.online', '=', 1)
    .limit(SENDS_PER_TICK)
    .execute();
  for (const row of rows) {
    const version = state === 'sent' ? r.version : row.from_version;
    if (!row.command_id || !version) continue;
    await ctx.db.updateTable('rollout_lockers').set({ last_sent_at: now }).where('rollout_id', '=', r.id).where('locker_id', '=', row.locker_id).execute();
    await publishUpdate(ctx, row.locker_id, row.command_id, version, row.sent_at ?? now, row.deadline_at ?? now);
  }
}

/** The update command for one locker, with its download and report links (valid until the deadline). */
export async function publishUpdate(ctx: ServerContext, lockerId: string, commandId: string, version: string, issuedAt: number, expiresAt: number): Promise<void> {
  const a = await ctx.db.selectFrom('firmware_artefacts').select(['sha256', 'size', 'signature']).where('version', '=', version).executeTakeFirst();
  if (!a) return;
  const links = new DeviceLinks(ctx.pinSecret);
  const msg: UpdateCommandMessage = {
    v: PROTOCOL_VERSION,
    id: commandId,
    type: 'update',
    version,
    sha256: a.sha256,
    size: a.size,
    signature: a.signature,
    download: `/v1/device/updates/${commandId}/artefact?${links.query('artefact', lockerId, commandId, expiresAt)}`,
    report: `/v1/device/updates/${commandId}/report?${links.query('update-report', lockerId, commandId, expiresAt)}`,
    issuedAt,
    expiresAt,
    serverTime: ctx.clock.now(),
  };
  try {
    await ctx.link.publish(topics.commands(lockerId), encode(msg), { qos: 1 });
  } catch (err) {
    ctx.log.warn({ err, lockerId, commandId }, 'update command not published; sent again later');
  }
}

