import { AuditPage, AuditQuery } from '../../shared/api/audit.js';
import type { RoutePlugin } from '../http/route-plugin.js';
import { authErrors } from '../http/schemas.js';
import { readAuditPage } from './audit-page.js';

/** GET /v1/audit (admin): the audit log, newest first, in cursor pages. */
export const auditRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/v1/audit',
    {
      config: { roles: ['admin'] },
      schema: { summary: 'Read the audit log (cursor pages)', tags: ['admin'], querystring: AuditQuery, response: { 200: AuditPage, ...authErrors } },
    },
    async (request) => readAuditPage(ctx.db, request.query),
  );
};
