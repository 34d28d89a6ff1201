import { Type } from '@sinclair/typebox';
import type { RoutePlugin } from '../http/route-plugin.js';
import { authErrors } from '../http/schemas.js';
import { AUDIT_ACTIONS, AUDIT_RESULTS, COMMAND_STATES } from '../store/schema.js';

const AuditView = Type.Object({
  id: Type.Integer(),
  at: Type.Integer(),
  actor: Type.String(),
  action: Type.Union(AUDIT_ACTIONS.map((a) => Type.Literal(a))),
  result: Type.Union(AUDIT_RESULTS.map((r) => Type.Literal(r))),
  code: Type.Union([Type.String(), Type.Null()]),
  lockerId: Type.Union([Type.String(), Type.Null()]),
  compartmentId: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  subject: Type.Union([Type.String(), Type.Null()]),
  commandId: Type.Union([Type.String(), Type.Null()]),
  /** The command's state now (a remote open's outcome at the locker), when the entry created one. */
  commandState: Type.Union([Type.Union(COMMAND_STATES.map((s) => Type.Literal(s))), Type.Null()]),
  commandResult: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

const AuditQuery = Type.Object(
  {
    action: Type.Optional(Type.Union(AUDIT_ACTIONS.map((a) => Type.Literal(a)))),
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    lockerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** Only entries with an id below this one (page backwards through the log). Query strings are not coerced. */
    before: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,14}$' })),
    /** At most this many entries, 1–1000 (default 200). */
    limit: Type.Optional(Type.String({ pattern: '^([1-9][0-9]{0,2}|1000)$' })),
  },
  { additionalProperties: false },
);

/** GET /v1/audit (admin): the audit log, newest first. */
export const auditRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/v1/audit',
    {
      config: { roles: ['admin'] },
      schema: { querystring: AuditQuery, response: { 200: Type.Object({ entries: Type.Array(AuditView) }), ...authErrors } },
    },
    async (request) => {
      const q = request.query;
      let query = ctx.db
        .selectFrom('audit_log as a')
        .leftJoin('commands as c', 'c.id', 'a.command_id')
        .select(['a.id', 'a.at', 'a.actor', 'a.action', 'a.result', 'a.code', 'a.locker_id', 'a.compartment_id', 'a.reason', 'a.subject', 'a.command_id', 'a.detail'])
        .select(['c.state as command_state', 'c.result as command_result'])
        .orderBy('a.id', 'desc')
        .limit(q.limit ? Number(q.limit) : 200);
      if (q.action) query = query.where('a.action', '=', q.action);
      if (q.actor) query = query.where('a.actor', '=', q.actor);
      if (q.lockerId) query = query.where('a.locker_id', '=', q.lockerId);
      if (q.before) query = query.where('a.id', '<', Number(q.before));
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
          detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
        })),
      };
    },
  );
};
