import { recordAudit } from '../audit/audit-log.js';
import { LockstepError } from '../errors.js';
import { inUnitOfWork } from '../desired-state/unit-of-work.js';
import { insertCommand } from './commands.js';
import { occupiedFleetRefusal, openLimitRefusal, serialiseChecks } from './remote-open-counts.js';
import { approvalVerdict, openTtlSec } from './remote-open-rules.js';
/**
 * A second operator approves a request to open an occupied compartment: it must still wait (not approved, not
 * expired) and the approver must not be its requester. The open then goes out as the requester's (their caps and
 * the fleet's still apply: over one, the request keeps waiting and the approver may try again later), and the
 * command is sent after the commit. Every approval, refused or done, is audited as `remote_open.approve`; a request
 * found expired is marked so and audited as `remote_open.expire`.
 */
export async function approveRemoteOpen(ctx, requestId, approver) {
    const now = ctx.clock.now();
    const { config } = ctx;
    let request;
    const outcome = await inUnitOfWork(ctx, async (uow) => {
        const { trx } = uow;
        await serialiseChecks(trx, config);
        request = await trx.selectFrom('remote_open_requests').selectAll().where('id', '=', requestId).executeTakeFirst();
        if (!request) {
            await recordAudit(trx, { at: now, actor: approver, action: 'remote_open.approve', result: 'refused', code: 'REMOTE_OPEN_REQUEST_NOT_FOUND', subject: requestId });
            return { refusal: { code: 'REMOTE_OPEN_REQUEST_NOT_FOUND', details: { requestId } } };
        }
        const about = { at: now, actor: approver, lockerId: request.locker_id, compartmentId: request.compartment_id, reason: request.reason, subject: request.id };
        const verdict = approvalVerdict(request, approver, now);
        if (!verdict.ok) {
            const details = { requestId, requestedBy: request.requested_by, state: verdict.code === 'REMOTE_OPEN_REQUEST_NOT_PENDING' && verdict.expired ? 'expired' : request.state };
            if (details.state === 'expired' && request.state === 'pending_approval') {
                await trx.updateTable('remote_open_requests').set({ state: 'expired' }).where('id', '=', request.id).where('state', '=', 'pending_approval').execute();
                await recordAudit(trx, { ...about, actor: 'system', action: 'remote_open.expire', result: 'done', reason: 'not approved in time', detail: { requestedBy: request.requested_by, expiresAt: request.expires_at } });
            }
            await recordAudit(trx, { ...about, action: 'remote_open.approve', result: 'refused', code: verdict.code, detail: { requestedBy: request.requested_by } });
            return { refusal: { code: verdict.code, details } };
        }
        const locker = await trx.selectFrom('lockers').select('online').where('id', '=', request.locker_id).executeTakeFirstOrThrow();
        const limited = (await openLimitRefusal(trx, config, request.requested_by, request.locker_id, locker.online === 1, now)) ?? (await occupiedFleetRefusal(trx, config, now));
        if (limited) {
            await recordAudit(trx, { ...about, action: 'remote_open.approve', result: 'refused', code: limited.code, detail: { ...limited.details, requestedBy: request.requested_by } });
            return { refusal: limited };
        }
        const ttlSec = openTtlSec(request.ttl_sec ?? undefined, config.commandTtlSec, config.remoteOpenMaxTtlSec) ?? config.remoteOpenMaxTtlSec;
        const command = await insertCommand(ctx, uow, request.locker_id, { type: 'open', compartmentId: request.compartment_id, reason: request.reason, ttlSec }, request.requested_by, now);
        await trx
            .updateTable('remote_open_requests')
            .set({ state: 'approved', approved_by: approver, approved_at: now, sent_at: now, command_id: command.id })
            .where('id', '=', request.id)
            .where('state', '=', 'pending_approval')
            .execute();
        request = { ...request, state: 'approved', approved_by: approver, approved_at: now, sent_at: now, command_id: command.id };
        await recordAudit(trx, { ...about, action: 'remote_open.approve', result: 'created', commandId: command.id, detail: { requestedBy: request.requested_by } });
        return { command };
    });
    if ('refusal' in outcome || !request) {
        const refusal = 'refusal' in outcome ? outcome.refusal : { code: 'REMOTE_OPEN_REQUEST_NOT_FOUND', details: { requestId } };
        ctx.log.warn({ requestId, approver, code: refusal.code, ...refusal.details }, 'remote open approval refused');
        throw new LockstepError(refusal.code, refusal.details);
    }
    ctx.log.info({ requestId, approver, requestedBy: request.requested_by, commandId: outcome.command.id }, 'remote open approved');
    return { command: outcome.command, request };
}
export function remoteOpenRequestView(r) {
    return {
        requestId: r.id,
        state: r.state,
        code: r.state === 'pending_approval' ? 'APPROVAL_REQUIRED' : null,
        lockerId: r.locker_id,
        compartmentId: r.compartment_id,
        parcelId: r.parcel_id,
        reason: r.reason,
        requestedBy: r.requested_by,
        createdAt: r.created_at,
        expiresAt: r.expires_at,
        approvedBy: r.approved_by,
        approvedAt: r.approved_at,
        commandId: r.command_id,
    };
}
//# sourceMappingURL=remote-open-approval.js.map