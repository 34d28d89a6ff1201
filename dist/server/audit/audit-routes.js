import { AuditPage, AuditQuery } from '../../shared/api/audit.js';
import { authErrors } from '../http/schemas.js';
/** GET /v1/audit (admin): the audit log, newest first. */
export const auditRoutes = async (app, { ctx }) => {
    app.get('/v1/audit', {
        config: { roles: ['admin'] },
        schema: { querystring: AuditQuery, response: { 200: AuditPage, ...authErrors } },
    }, async (request) => {
        const q = request.query;
        let query = ctx.db
            .selectFrom('audit_log as a')
            .leftJoin('commands as c', 'c.id', 'a.command_id')
            .select(['a.id', 'a.at', 'a.actor', 'a.action', 'a.result', 'a.code', 'a.locker_id', 'a.compartment_id', 'a.reason', 'a.subject', 'a.command_id', 'a.detail'])
            .select(['c.state as command_state', 'c.result as command_result'])
            .orderBy('a.id', 'desc')
            .limit(q.limit ? Number(q.limit) : 200);
        if (q.action)
            query = query.where('a.action', '=', q.action);
        if (q.actor)
            query = query.where('a.actor', '=', q.actor);
        if (q.lockerId)
            query = query.where('a.locker_id', '=', q.lockerId);
        if (q.before)
            query = query.where('a.id', '<', Number(q.before));
        const rows = await query.execute();
        return {
            entries: rows.map((r) => ({
                id: r.id,
                at: r.at,
                actor: r.actor,
                action: r.action,
                result: r.result,
                code: r.code,
                lockerId: r.locker_id,
                compartmentId: r.compartment_id,
                reason: r.reason,
                subject: r.subject,
                commandId: r.command_id,
                commandState: r.command_state,
                commandResult: r.command_result,
                detail: r.detail ? JSON.parse(r.detail) : null,
            })),
        };
    });
};
//# sourceMappingURL=audit-routes.js.map