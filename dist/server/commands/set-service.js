import { recordAudit } from '../audit/audit-log.js';
import { LockstepError } from '../errors.js';
import { inUnitOfWork } from '../desired-state/unit-of-work.js';
import { insertCommand } from './commands.js';
import { perMinuteRefusal, serialiseChecks } from './remote-open-counts.js';
/**
 * Takes a compartment out of service (or back in), like a remote open (issue 17): within
 * SET_SERVICE_PER_OPERATOR_PER_MINUTE per principal and SET_SERVICE_FLEET_PER_MINUTE for the fleet (429
 * SET_SERVICE_LIMITED with retry-after), and audited as `set_service` whatever the outcome, in the transaction
 * that stores the command and changes the desired state.
 */
export async function setServiceLimited(ctx, lockerId, req, actor) {
    const now = ctx.clock.now();
    const about = { at: now, actor, action: 'set_service', lockerId, compartmentId: req.compartmentId, reason: req.reason, detail: { inService: req.inService ?? false } };
    let outcome;
    try {
        outcome = await inUnitOfWork(ctx, async (uow) => {
            const { trx } = uow;
            await serialiseChecks(trx, ctx.config);
            const limits = { operator: ctx.config.setServicePerOperatorPerMinute, fleet: ctx.config.setServiceFleetPerMinute };
            const refusal = await perMinuteRefusal(trx, 'set_service', limits, actor, now);
            if (refusal) {
                await recordAudit(trx, { ...about, result: 'refused', code: refusal.code, detail: { ...about.detail, ...refusal.details } });
                return { refusal };
            }
            const created = await insertCommand(ctx, uow, lockerId, { ...req, type: 'set_service' }, actor, now);
            await recordAudit(trx, { ...about, result: 'created', commandId: created.id });
            return { created };
        });
    }
    catch (err) {
        if (err instanceof LockstepError)
            await recordAudit(ctx.db, { ...about, result: 'refused', code: err.code });
        throw err;
    }
    if ('refusal' in outcome) {
        ctx.log.warn({ lockerId, compartmentId: req.compartmentId, actor, code: outcome.refusal.code, ...outcome.refusal.details }, 'set_service refused: limit');
        throw new LockstepError(outcome.refusal.code, { ...outcome.refusal.details });
    }
    return outcome.created;
}
//# sourceMappingURL=set-service.js.map