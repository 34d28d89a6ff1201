import type { ServerContext } from '../context.js';
import { actOnAlarm } from './alarm-actions.js';
import { inUnitOfWork } from '../desired-state/unit-of-work.js';
import { raiseAlarmInUnit } from './raise-alarm.js';

const LOCKER_OFFLINE = 'locker_offline';
/** Who resolves an alarm the server resolved by itself. */
const SYSTEM_ACTOR = 'system';

/**
 * Scheduler rule: a locker not heard from (no status, heartbeat or report) for LOCKER_OFFLINE_ALARM_SEC raises one
 * `locker_offline` alarm (the last message time is the truth: an open connection that went silent counts too),
 * updated while it stays away.
 * When the locker is heard from again, the alarm (open or acknowledged) is resolved by `system` with how long it
 * was away. Another outage raises a new one.
 */
export async function checkOfflineLockers(ctx: ServerContext): Promise<{ raised: number; resolved: number }> {
  const now = ctx.clock.now();
  const thresholdMs = ctx.config.lockerOfflineAlarmSec * 1000;
  let raised = 0;
  let resolved = 0;

  const silent = await ctx.db
    .selectFrom('lockers as l')
    .select(['l.id', 'l.last_seen_at', 'l.online'])
    .where('l.last_seen_at', '<', now - thresholdMs)
    // A retired locker (issue 16) is silent for good: no alarm.
    .where('l.retired_at', 'is', null)
    .where((eb) =>
      eb.not(eb.exists(eb.selectFrom('alarms as a').select('a.id').whereRef('a.locker_id', '=', 'l.id').where('a.kind', '=', LOCKER_OFFLINE).where('a.state', '!=', 'resolved'))),
    )
    .limit(1000)
    .execute();
  for (const l of silent) {
    if (l.last_seen_at === null) continue;
    await inUnitOfWork(ctx, (uow) =>
      raiseAlarmInUnit(uow, { lockerId: l.id, kind: LOCKER_OFFLINE, at: now, detail: { lastSeenAt: l.last_seen_at, presence: l.online === 1 ? 'silent' : 'offline', thresholdSec: ctx.config.lockerOfflineAlarmSec } }),
    );
    raised++;
  }

  // Still away: the alarm is updated (how long, `last_at`) at most once per threshold, never counted up.
  const still = await ctx.db
    .selectFrom('alarms as a')
    .innerJoin('lockers as l', 'l.id', 'a.locker_id')
    .select(['a.id', 'l.last_seen_at', 'l.online'])
    .where('a.kind', '=', LOCKER_OFFLINE)
    .where('a.state', '!=', 'resolved')
    .where('a.last_at', '<', now - thresholdMs)
    .where('l.last_seen_at', '<', now - thresholdMs)
    .limit(1000)
    .execute();
  for (const a of still) {
    const detail = { lastSeenAt: a.last_seen_at, presence: a.online === 1 ? 'silent' : 'offline', thresholdSec: ctx.config.lockerOfflineAlarmSec, awaySec: Math.round((now - (a.last_seen_at ?? now)) / 1000) };
    await ctx.db.updateTable('alarms').set({ last_at: now, detail: JSON.stringify(detail) }).where('id', '=', a.id).where('state', '!=', 'resolved').execute();
  }

  const back = await ctx.db
    .selectFrom('alarms as a')
    .innerJoin('lockers as l', 'l.id', 'a.locker_id')
    .select(['a.id', 'a.locker_id', 'a.detail', 'l.last_seen_at'])
    .where('a.kind', '=', LOCKER_OFFLINE)
    .where('a.state', '!=', 'resolved')
    .where('l.online', '=', 1)
    .where('l.last_seen_at', '>=', now - thresholdMs)
    .limit(1000)
    .execute();
  for (const a of back) {
    const detail = a.detail ? (JSON.parse(a.detail) as { lastSeenAt?: number }) : {};
    const awaySec = detail.lastSeenAt !== undefined && a.last_seen_at !== null ? Math.round((a.last_seen_at - detail.lastSeenAt) / 1000) : null;
    try {
      await actOnAlarm(ctx.db, a.id, 'resolve', SYSTEM_ACTOR, now, `back online${awaySec !== null ? ` after ${awaySec} s` : ''}`);
      ctx.bus.domain({ type: 'alarm.resolved', alarmId: a.id, lockerId: a.locker_id, kind: LOCKER_OFFLINE, by: SYSTEM_ACTOR });
      resolved++;
    } catch (err) {
      // An operator resolved it meanwhile: nothing left to do.
      ctx.log.debug({ err, alarmId: a.id }, 'offline alarm already resolved');
    }
  }
  return { raised, resolved };
}
