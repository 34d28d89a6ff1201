import { raiseAlarm } from '../alarms/raise-alarm.js';
import { prepareQuery } from '../store/prepared-query.js';
/** Alarm kinds raised from telemetry (one open alarm per locker and kind; resolved by the server itself). */
const POWER_ALARMS = { backup: 'on_backup_power', lowBattery: 'battery_low' };
/** `resolved_by` of an alarm the server resolved because the condition went away. */
const SYSTEM_ACTOR = 'system';
/**
 * Stores a locker's latest telemetry and keeps its power alarms in step: on battery raises
 * `on_backup_power` once (later readings update its detail, not its count), a charge below `lowBatteryPct`
 * raises `battery_low`; mains power resolves both, a charge back at or above the threshold resolves
 * `battery_low`. Parts the locker did not send keep their last value. Runs in the caller's transaction
 * (server/sync/heartbeats.ts records a turn's heartbeats together).
 */
export async function applyTelemetry(ctx, trx, lockerId, t, now) {
    {
        const updated = await trx
            .updateTable('lockers')
            .set({
            telemetry_at: now,
            ...(t.firmwareVersion !== undefined ? { firmware_version: t.firmwareVersion } : {}),
            ...(t.temperatureC !== undefined ? { temperature_c: t.temperatureC } : {}),
            ...(t.power ? { power_source: t.power.source, battery_pct: t.power.batteryPct ?? null } : {}),
        })
            .where('id', '=', lockerId)
            .executeTakeFirst();
        if (updated.numUpdatedRows === 0n || !t.power)
            return;
        const { source, batteryPct } = t.power;
        const detail = { source, ...(batteryPct !== undefined ? { batteryPct } : {}) };
        const low = batteryPct !== undefined && batteryPct < ctx.config.lowBatteryPct;
        if (source === 'battery')
            await raiseOrUpdate(trx, lockerId, POWER_ALARMS.backup, now, detail);
        else
            await resolveAlarm(trx, lockerId, POWER_ALARMS.backup, now);
        if (low)
            await raiseOrUpdate(trx, lockerId, POWER_ALARMS.lowBattery, now, { ...detail, thresholdPct: ctx.config.lowBatteryPct });
        else if (source === 'mains' || batteryPct !== undefined)
            await resolveAlarm(trx, lockerId, POWER_ALARMS.lowBattery, now);
    }
}
/** A condition that lasts is one alarm: the first reading raises it, later ones only refresh what it says. */
async function raiseOrUpdate(trx, lockerId, kind, at, detail) {
    const refreshed = await trx
        .updateTable('alarms')
        .set({ last_at: at, detail: JSON.stringify(detail) })
        .where('locker_id', '=', lockerId)
        .where('kind', '=', kind)
        .where('compartment_id', 'is', null)
        .where('state', '!=', 'resolved')
        .executeTakeFirst();
    if (refreshed.numUpdatedRows === 0n)
        await raiseAlarm(trx, { lockerId, kind, at, detail });
}
/** Resolves the locker's unresolved alarm of `kind`, if any, as the server (the condition is gone). */
async function resolveAlarm(trx, lockerId, kind, at) {
    await resolveQuery.run(trx, { at, lockerId, kind });
}
/** Run for most heartbeats (mains power resolves both power alarms, usually not raised): compiled once. */
const resolveQuery = prepareQuery((db, a) => db
    .updateTable('alarms')
    .set({ state: 'resolved', resolved_at: a.at, resolved_by: SYSTEM_ACTOR, last_at: a.at })
    .where('locker_id', '=', a.lockerId)
    .where('kind', '=', a.kind)
    .where('compartment_id', 'is', null)
    .where('state', '!=', 'resolved'));
//# sourceMappingURL=telemetry.js.map