import { HistoryQuery, HistoryView } from '../../shared/api/history.js';
import type { RoutePlugin } from '../http/route-plugin.js';
import { ErrorResponse, authErrors } from '../http/schemas.js';
import { LockstepError } from '../errors.js';
import { historyRange, readHistory } from './hourly-history.js';

/** History for charts: per-hour counters and occupancy, of a locker or the fleet, from the aggregates. */
export const historyRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/v1/history',
    {
      config: { roles: ['admin', 'operator'] },
      schema: { summary: 'Hourly history (bookings, deposits, pickups, expiries, alarms, occupancy)', tags: ['lockers'], querystring: HistoryQuery, response: { 200: HistoryView, 404: ErrorResponse, ...authErrors } },
    },
    async (request) => {
      const { lockerId, from, to } = request.query;
      const range = historyRange(ctx.clock.now(), from === undefined ? undefined : Number(from), to === undefined ? undefined : Number(to));
      if (lockerId !== undefined) {
        const locker = await ctx.db.selectFrom('lockers').select('id').where('id', '=', lockerId).executeTakeFirst();
        if (!locker) throw new LockstepError('LOCKER_NOT_FOUND', { lockerId });
      }
      return readHistory(ctx.db, lockerId ?? null, range, ctx.clock.now());
    },
  );
};
