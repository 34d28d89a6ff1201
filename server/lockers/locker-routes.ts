import { LockerView, RegisterLockerBody, RegisteredLockerView } from '../../shared/api/lockers.js';
import type { RoutePlugin } from '../http/route-plugin.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { LockstepError } from '../errors.js';
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { LockerExportQuery, LockerListQuery, LockerPage } from '../../shared/api/fleet-listing.js';
import { pageLimit } from '../http/page-cursor.js';
import { readLockers } from './locker-views.js';
import { LOCKER_PAGE_DEFAULT, LOCKER_PAGE_MAX, listLockers } from './locker-list.js';
import { lockersCsv } from './locker-csv.js';
import { registerLocker } from './register-locker.js';
import { principalOf } from '../http/auth.js';
import { principalRef } from '../accounts/principal.js';

/** Lockers: register one (with its controller's enrolment ticket), list them (a page, or all as CSV), read one. */
export const lockerRoutes: RoutePlugin = async (app, { ctx }) => {
  app.post(
    '/v1/lockers',
    {
      // Its answer holds the enrolment token: never stored for an idempotent replay.
      config: { roles: ['admin', 'operator'], idempotency: false },
      schema: { summary: 'Register a locker (with its enrolment token)', tags: ['lockers'], body: RegisterLockerBody, response: { 201: RegisteredLockerView, ...authErrors } },
    },
    async (request, reply) => {
      const enrolment = await registerLocker(ctx, request.body, principalRef(principalOf(request)));
      const [view] = await readLockers(ctx.db, enrolment.lockerId);
      request.log.info({ lockerId: enrolment.lockerId }, 'locker registered');
      return reply.code(201).send({ ...(view as LockerView), enrolment });
    },
  );

  app.get(
    '/v1/lockers',
    {
      config: { roles: ['admin', 'operator'] },
      schema: { summary: 'List lockers (sorted, filtered, in cursor pages)', tags: ['lockers'], querystring: LockerListQuery, response: { 200: LockerPage, ...authErrors } },
    },
    // One keyset page, sorted and filtered on indexed columns (server/lockers/locker-list.ts): fast at any fleet size.
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return listLockers(ctx.db, filter, pageLimit(limit, LOCKER_PAGE_DEFAULT, LOCKER_PAGE_MAX), cursor);
    },
  );

  app.get(
    '/v1/lockers/export.csv',
    {
      config: { roles: ['admin', 'operator'], streaming: true },
      schema: { summary: 'Export the filtered fleet as CSV', tags: ['lockers'], querystring: LockerExportQuery, response: { 200: Type.Unknown({ description: 'text/csv: one line per locker the filter matches, in the sort asked for' }), ...authErrors } },
    },
    // Streamed page by page: the whole fleet is never in memory.
    async (request, reply) => {
      const filter = request.query;
      const csv = Readable.from(lockersCsv(ctx.db, filter));
      return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="lockers.csv"').send(csv);
    },
  );

  app.get(
    '/v1/lockers/:id',
    {
      config: { roles: ['admin', 'operator', 'carrier'] },
      schema: { summary: 'Read a locker', tags: ['lockers'], params: IdParams, response: { 200: LockerView, 404: ErrorResponse, ...authErrors } },
    },
    async (request) => {
      const [view] = await readLockers(ctx.db, request.params.id);
      if (!view) throw new LockstepError('LOCKER_NOT_FOUND', { lockerId: request.params.id });
      return view;
    },
  );
};
