import { sessionRecord } from './door-controller.js';
/**
 * Runs an operator's command at most once: a command seen before is ignored (its result is already in the
 * outbox or acknowledged), an expired one is reported expired and never run. Results travel as events, so they
 * are as durable as everything else the locker records.
 */
export async function runCommand(ctx, cmd) {
    const { store, doors } = ctx;
    if (await store.commandState(cmd.id))
        return;
    const now = ctx.now();
    const about = { commandId: cmd.id, compartmentId: cmd.compartmentId };
    const finish = (state, reason, alsoDo) => ctx.record([{ type: `command.${state}`, ...about, ...(reason ? { reason } : {}) }], async (trx) => {
        await store.putCommand(trx, cmd.id, cmd.type, state, now);
        if (alsoDo)
            await alsoDo(trx);
    });
    if (now > cmd.expiresAt)
        return finish('expired', 'EXPIRED_BEFORE_RUN');
    const compartment = await store.compartment(cmd.compartmentId);
    if (!compartment)
        return finish('failed', 'UNKNOWN_COMPARTMENT');
    switch (cmd.type) {
        case 'set_service':
            return finish('succeeded', undefined, (trx) => store.setInService(trx, cmd.compartmentId, cmd.inService ?? false));
        case 'open': {
            if (compartment.fault)
                return finish('failed', 'COMPARTMENT_FAULT');
            if (doors.isBusy(cmd.compartmentId))
                return finish('failed', 'COMPARTMENT_BUSY');
            const session = { commandId: cmd.id, action: 'service', parcelId: compartment.parcel_id };
            // Durably running before the lock moves; the result follows from the door sensor.
            await ctx.record([], async (trx) => {
                await store.putCommand(trx, cmd.id, cmd.type, 'running', now);
                await store.setSession(trx, cmd.compartmentId, sessionRecord(session, 'accepted'));
            });
            return doors.unlock(cmd.compartmentId, session);
        }
    }
}
//# sourceMappingURL=commands.js.map