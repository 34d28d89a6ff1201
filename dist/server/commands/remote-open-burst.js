import { raiseBurstAlarm } from '../alarms/burst-alarm.js';
import { attemptsInWindow } from './remote-open-counts.js';
import { burstKey, burstsReached } from './remote-open-rules.js';
/**
 * After each remote-open attempt: when the attempts of its principal, or of the whole fleet, within
 * REMOTE_OPEN_BURST_WINDOW_SEC reached their threshold, raise (or count up) a `remote_open_burst` alarm on the
 * attempt's locker, log a warning, and mark the locker changed so the dashboard's live stream pushes it to every
 * operator at its next interval. A failure here is logged and never undoes or refuses the open itself.
 */
export async function checkRemoteOpenBurst(ctx, actor, lockerId, compartmentId, now) {
    const { config } = ctx;
    try {
        const windowSec = config.remoteOpenBurstWindowSec;
        const counts = await attemptsInWindow(ctx.db, actor, now - windowSec * 1000);
        const thresholds = { operator: config.remoteOpenBurstPerOperator, fleet: config.remoteOpenBurstFleet };
        const changed = new Set();
        for (const scope of burstsReached(counts, thresholds, actor)) {
            const count = scope.scope === 'fleet' ? counts.fleet : counts.operator;
            const threshold = scope.scope === 'fleet' ? thresholds.fleet : thresholds.operator;
            const detail = { scope: scope.scope, ...(scope.scope === 'operator' ? { actor: scope.actor } : { lastActor: actor }), count, threshold, windowSec };
            const alarm = await ctx.db.transaction().execute((trx) => raiseBurstAlarm(trx, { key: burstKey(scope), lockerId, compartmentId, at: now, detail }));
            for (const id of alarm.lockerIds)
                changed.add(id);
            if (alarm.raised)
                ctx.log.warn({ alarmId: alarm.id, lockerId, ...detail }, 'remote open burst: alarm raised');
            else
                ctx.log.warn({ alarmId: alarm.id, lockerId, ...detail }, 'remote open burst continues');
        }
        for (const id of changed)
            ctx.bus.lockerChanged(id);
    }
    catch (err) {
        ctx.log.error({ err, actor, lockerId }, 'remote open burst check failed');
    }
}
//# sourceMappingURL=remote-open-burst.js.map