import { randomUUID } from 'node:crypto';
import type { RolloutBody, RolloutView } from '../../shared/api/firmware.js';
import { recordAudit } from '../audit/audit-log.js';
import type { ServerContext } from '../context.js';
import { LockstepError } from '../errors.js';
import type { RolloutLockerRow, RolloutRow, RolloutState } from '../store/schema-firmware.js';
import { assignWaves, hhmm, isPercentages, minutesOf, wavesProblem, type WaveSpec } from './rollout-rules.js';

/** States in which a rollout still owns the fleet: a second one may not start. */
const ACTIVE: RolloutState[] = ['running', 'paused', 'halted', 'rolling_back'];

const DEFAULT_GATE = { deadlineSec: 1800, maxFailedPct: 10, maxAlarmIncrease: 5 };

/**
 * Starts a rollout of a stored version: every enrolled locker not on that version (or the lockers of the groups)
 * is a target, assigned to its wave now; the engine (rollout-engine.ts) sends the waves. One rollout at a time.
 * Audited (`rollout.create`).
 */
export async function createRollout(ctx: ServerContext, body: RolloutBody, actor: string): Promise<RolloutRow> {
  const now = ctx.clock.now();
  const id = `ro_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
  const about = { at: now, actor, action: 'rollout.create' as const, reason: body.reason, subject: id };
  try {
    const waves: WaveSpec = body.waves;
    const problem = wavesProblem(waves);
    if (problem) throw new LockstepError('ROLLOUT_WAVES_INVALID', { problem });
    const row = await ctx.db.transaction().execute(async (trx) => {
      const artefact = await trx.selectFrom('firmware_artefacts').select('version').where('version', '=', body.version).executeTakeFirst();
      if (!artefact) throw new LockstepError('FIRMWARE_NOT_FOUND', { version: body.version });
      const active = await trx.selectFrom('rollouts').select(['id', 'state']).where('state', 'in', ACTIVE).executeTakeFirst();
      if (active) throw new LockstepError('ROLLOUT_IN_PROGRESS', { rolloutId: active.id, state: active.state });
      let q = trx
        .selectFrom('lockers')
        .select(['id', 'firmware_version'])
        .where('public_key', 'is not', null)
        .where((eb) => eb.or([eb('firmware_version', 'is', null), eb('firmware_version', '!=', body.version)]));
      if (!isPercentages(waves)) {
        const named = waves.flat();
        const known = await trx.selectFrom('lockers').select('id').where('id', 'in', named).execute();
        if (known.length !== new Set(named).size) throw new LockstepError('ROLLOUT_WAVES_INVALID', { problem: 'a group names an unknown locker' });
        q = q.where('id', 'in', named);
      }
      const targets = await q.orderBy('id').execute();
      if (targets.length === 0) throw new LockstepError('ROLLOUT_NO_TARGETS', { version: body.version });
      const gate = { ...DEFAULT_GATE, ...body.healthGate };
      const rollout: RolloutRow = {
        id,
        version: body.version,
        state: 'running',
        waves: JSON.stringify(waves),
        wave: 0,
        wave_started_at: now,
        window_start_min: body.window ? minutesOf(body.window.start) : 0,
        window_end_min: body.window ? minutesOf(body.window.end) : 0,
        deadline_sec: gate.deadlineSec,
        max_failed_pct: gate.maxFailedPct,
        max_alarm_increase: gate.maxAlarmIncrease,
        halted_reason: null,
        reason: body.reason,
        created_by: actor,
        created_at: now,
        updated_at: now,
      };
      await trx.insertInto('rollouts').values(rollout).execute();
      const wave = assignWaves(id, targets.map((t) => t.id), waves);
      const rows: RolloutLockerRow[] = targets.map((t) => ({
        rollout_id: id,
        locker_id: t.id,
        wave: wave.get(t.id) ?? 0,
        state: 'pending',
        from_version: t.firmware_version,
        command_id: null,
        sent_at: null,
        last_sent_at: null,
        deadline_at: null,
        done_at: null,
        device_state: null,
        detail: null,
      }));
      for (let i = 0; i < rows.length; i += 500) await trx.insertInto('rollout_lockers').values(rows.slice(i, i + 500)).execute();
      await recordAudit(trx, { ...about, result: 'created', detail: { version: body.version, targets: rows.length, waves } });
      return rollout;
    });
    ctx.log.info({ rolloutId: id, version: body.version, actor }, 'rollout created');
    return row;
  } catch (err) {
    if (err instanceof LockstepError) await recordAudit(ctx.db, { ...about, result: 'refused', code: err.code });
    throw err;
  }
}

export type RolloutAction = 'pause' | 'resume' | 'abort' | 'rollback';

/** Which states each action may start from, and where it goes. */
const TRANSITIONS: Record<RolloutAction, { from: RolloutState[]; to: RolloutState }> = {
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused', 'halted'], to: 'running' },
  abort: { from: ['running', 'paused', 'halted'], to: 'aborted' },
  rollback: { from: ['running', 'paused', 'halted', 'aborted', 'completed'], to: 'rolling_back' },
};

/**
 * Pause (no new sends; updates already sent finish), resume (also after the health gate halted it: the operator
 * decided), abort (nothing more is sent; lockers keep what they run), roll back (every locker the rollout sent the
 * new version to is sent the version it ran before; the engine follows them). Audited as `rollout.<action>`.
 */
export async function actOnRollout(ctx: ServerContext, id: string, action: RolloutAction, reason: string, actor: string): Promise<RolloutRow> {
  const now = ctx.clock.now();
  const about = { at: now, actor, action: `rollout.${action}` as const, reason, subject: id };
  try {
    const row = await ctx.db.transaction().execute(async (trx) => {
      const r = await trx.selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirst();
      if (!r) throw new LockstepError('ROLLOUT_NOT_FOUND', { rolloutId: id });
      const t = TRANSITIONS[action];
      if (!t.from.includes(r.state)) throw new LockstepError('ROLLOUT_STATE_CONFLICT', { rolloutId: id, state: r.state, action });
      const next = { state: t.to, updated_at: now, ...(action === 'resume' ? { halted_reason: null, wave_started_at: now } : {}) };
      await trx.updateTable('rollouts').set(next).where('id', '=', id).execute();
      if (action === 'rollback') {
        // Lockers the update reached (or may yet reach) go back; lockers never sent anything stay as they are.
        await trx
          .updateTable('rollout_lockers')
          .set({ state: 'rolling_back', command_id: null, sent_at: null, last_sent_at: null, deadline_at: null, done_at: null, device_state: null })
          .where('rollout_id', '=', id)
          .where('state', 'in', ['sent', 'updated', 'failed'])
          .execute();
      }
      await recordAudit(trx, { ...about, result: 'done', detail: { from: r.state, to: t.to } });
      return { ...r, ...next };
    });
    ctx.log.info({ rolloutId: id, action, actor }, 'rollout changed');
    return row;
  } catch (err) {
    if (err instanceof LockstepError) await recordAudit(ctx.db, { ...about, result: 'refused', code: err.code });
    throw err;
  }
}

/** The rollout with its counts per locker state. */
export async function rolloutView(ctx: ServerContext, r: RolloutRow): Promise<RolloutView> {
  const counts = await ctx.db
    .selectFrom('rollout_lockers')
    .select(['state', (eb) => eb.fn.countAll<string | number>().as('n')])
    .where('rollout_id', '=', r.id)
    .groupBy('state')
    .execute();
  const n = (s: string) => Number(counts.find((c) => c.state === s)?.n ?? 0);
  const waves = JSON.parse(r.waves) as WaveSpec;
  return {
    id: r.id,
    version: r.version,
    state: r.state,
    wave: r.wave,
    waves: isPercentages(waves) ? waves : waves.map((g) => g.length),
    window: { start: hhmm(r.window_start_min), end: hhmm(r.window_end_min) },
    healthGate: { deadlineSec: r.deadline_sec, maxFailedPct: r.max_failed_pct, maxAlarmIncrease: r.max_alarm_increase },
    target: counts.reduce((a, c) => a + Number(c.n), 0),
    updated: n('updated'),
    failed: n('failed'),
    pending: n('pending'),
    inProgress: n('sent') + n('rolling_back'),
    rolledBack: n('rolled_back'),
    halted: r.state === 'halted',
    haltedReason: r.halted_reason,
    reason: r.reason,
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
