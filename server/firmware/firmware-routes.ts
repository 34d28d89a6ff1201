import { Type } from '@sinclair/typebox';
import { FirmwareList, FirmwareUpload, FirmwareView, RolloutActionBody, RolloutBody, RolloutList, RolloutLockerList, RolloutView, TimezoneBody } from '../../shared/api/firmware.js';
import { UpdateReport } from '../../shared/messages.js';
import { principalRef } from '../accounts/principal.js';
import { recordAudit } from '../audit/audit-log.js';
import { principalOf } from '../http/auth.js';
import type { RoutePlugin } from '../http/route-plugin.js';
import { ErrorResponse, IdParams, authErrors } from '../http/schemas.js';
import { LockstepError } from '../errors.js';
import { firmwareView, uploadFirmware } from './artefacts.js';
import { DeviceLinks } from './device-links.js';
import { isTimeZone } from './rollout-rules.js';
import { actOnRollout, createRollout, rolloutView, type RolloutAction } from './rollouts.js';

/** The query of a device link (see device-links.ts). */
export const DeviceLinkQuery = Type.Object(
  { locker: Type.String({ maxLength: 23 }), exp: Type.String({ pattern: '^[0-9]{1,16}$' }), sig: Type.String({ maxLength: 64 }) },
  { additionalProperties: false },
);
const CommandParams = Type.Object({ commandId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

/**
 * Firmware and rollouts (admin only): upload a signed artefact, list them; start a rollout, read its progress and
 * its lockers, pause, resume, abort, roll back; set a locker's timezone (its maintenance window). And the two
 * routes a locker calls with the links of its update command: download the artefact, report how the update went.
 */
export const firmwareRoutes: RoutePlugin = async (app, { ctx }) => {
  app.post(
    '/v1/firmware',
    {
      // base64 is 4/3 of the bytes; the JSON around it is small.
      bodyLimit: Math.ceil((ctx.config.firmwareMaxBytes * 4) / 3) + 16_384,
      config: { roles: ['admin'] },
      schema: { summary: 'Upload a signed firmware artefact', tags: ['firmware'], body: FirmwareUpload, response: { 201: FirmwareView, 409: ErrorResponse, 413: ErrorResponse, ...authErrors } },
    },
    async (request, reply) => reply.code(201).send(firmwareView(await uploadFirmware(ctx, request.body, principalRef(principalOf(request))))),
  );

  app.get('/v1/firmware', { config: { roles: ['admin'] }, schema: { summary: 'List firmware artefacts', tags: ['firmware'], response: { 200: FirmwareList, ...authErrors } } }, async () => {
    const rows = await ctx.db.selectFrom('firmware_artefacts').select(['version', 'sha256', 'size', 'signature', 'notes', 'created_by', 'created_at']).orderBy('created_at', 'desc').limit(200).execute();
    return { firmware: rows.map(firmwareView) };
  });

  app.post(
    '/v1/rollouts',
    { config: { roles: ['admin'] }, schema: { summary: 'Start a staged rollout', tags: ['firmware'], body: RolloutBody, response: { 201: RolloutView, 404: ErrorResponse, 409: ErrorResponse, ...authErrors } } },
    async (request, reply) => reply.code(201).send(await rolloutView(ctx, await createRollout(ctx, request.body, principalRef(principalOf(request))))),
  );

  app.get('/v1/rollouts', { config: { roles: ['admin'] }, schema: { summary: 'List rollouts', tags: ['firmware'], response: { 200: RolloutList, ...authErrors } } }, async () => {
    const rows = await ctx.db.selectFrom('rollouts').selectAll().orderBy('created_at', 'desc').limit(50).execute();
    return { rollouts: await Promise.all(rows.map((r) => rolloutView(ctx, r))) };
  });

  app.get('/v1/rollouts/:id', { config: { roles: ['admin'] }, schema: { summary: 'A rollout and its progress', tags: ['firmware'], params: IdParams, response: { 200: RolloutView, 404: ErrorResponse, ...authErrors } } }, async (request) => {
    const r = await ctx.db.selectFrom('rollouts').selectAll().where('id', '=', request.params.id).executeTakeFirst();
    if (!r) throw new LockstepError('ROLLOUT_NOT_FOUND', { rolloutId: request.params.id });
    return rolloutView(ctx, r);
  });

  app.get('/v1/rollouts/:id/lockers', { config: { roles: ['admin'] }, schema: { summary: 'The lockers of a rollout and their state', tags: ['firmware'], params: IdParams, response: { 200: RolloutLockerList, ...authErrors } } }, async (request) => {
    const rows = await ctx.db.selectFrom('rollout_lockers').selectAll().where('rollout_id', '=', request.params.id).orderBy('wave').orderBy('locker_id').limit(1000).execute();
    return {
      lockers: rows.map((l) => ({ lockerId: l.locker_id, wave: l.wave, state: l.state, fromVersion: l.from_version, deviceState: l.device_state, detail: l.detail, sentAt: l.sent_at, doneAt: l.done_at })),
    };
  });

  for (const action of ['pause', 'resume', 'abort', 'rollback'] as const satisfies readonly RolloutAction[]) {
    app.post(
      `/v1/rollouts/:id/${action}`,
      { config: { roles: ['admin'] }, schema: { summary: `${action[0]!.toUpperCase()}${action.slice(1)} a rollout`, tags: ['firmware'], params: IdParams, body: RolloutActionBody, response: { 200: RolloutView, 404: ErrorResponse, 409: ErrorResponse, ...authErrors } } },
      async (request) => rolloutView(ctx, await actOnRollout(ctx, request.params.id, action, request.body.reason, principalRef(principalOf(request)))),
    );
  }

  app.put(
    '/v1/lockers/:id/timezone',
    { config: { roles: ['admin'] }, schema: { summary: "Set a locker's time zone (maintenance windows)", tags: ['lockers'], params: IdParams, body: TimezoneBody, response: { 200: TimezoneBody, 404: ErrorResponse, ...authErrors } } },
    async (request) => {
      const { timezone } = request.body;
      if (!isTimeZone(timezone)) throw new LockstepError('TIMEZONE_INVALID', { timezone });
      const r = await ctx.db.updateTable('lockers').set({ timezone }).where('id', '=', request.params.id).executeTakeFirst();
      if (r.numUpdatedRows === 0n) throw new LockstepError('LOCKER_NOT_FOUND', { lockerId: request.params.id });
      await recordAudit(ctx.db, { at: ctx.clock.now(), actor: principalRef(principalOf(request)), action: 'locker.timezone', result: 'done', lockerId: request.params.id, detail: { timezone } });
      return { timezone };
    },
  );

  // ---- called by lockers, with the links of their update command ----

  const links = new DeviceLinks(ctx.pinSecret);
  /** The rollout row a device link names, with the version that command installs; refused as one code whatever is wrong. */
  const linked = async (kind: 'artefact' | 'update-report', commandId: string, q: { locker: string; exp: string; sig: string }) => {
    if (!links.check(kind, commandId, { ...q, exp: Number(q.exp) }, ctx.clock.now())) throw new LockstepError('DEVICE_LINK_INVALID');
    const row = await ctx.db
      .selectFrom('rollout_lockers as rl')
      .innerJoin('rollouts as r', 'r.id', 'rl.rollout_id')
      .select(['rl.rollout_id', 'rl.locker_id', 'rl.state', 'rl.from_version', 'r.version'])
      .where('rl.command_id', '=', commandId)
      .where('rl.locker_id', '=', q.locker)
      .executeTakeFirst();
    if (!row) throw new LockstepError('DEVICE_LINK_INVALID');
    return { ...row, installs: row.state === 'rolling_back' || row.state === 'rolled_back' ? row.from_version : row.version };
  };

  app.get(
    '/v1/device/updates/:commandId/artefact',
    { config: { roles: 'public' }, schema: { summary: 'Download an update artefact (device link)', tags: ['device'], params: CommandParams, querystring: DeviceLinkQuery, response: { 200: Type.Unknown({ description: 'application/octet-stream: the artefact bytes' }), 403: ErrorResponse } } },
    async (request, reply) => {
      const row = await linked('artefact', request.params.commandId, request.query);
      const a = row.installs ? await ctx.db.selectFrom('firmware_artefacts').select(['content', 'sha256']).where('version', '=', row.installs).executeTakeFirst() : undefined;
      if (!a) throw new LockstepError('FIRMWARE_NOT_FOUND');
      return reply.header('content-type', 'application/octet-stream').header('x-content-sha256', a.sha256).send(Buffer.from(a.content, 'base64'));
    },
  );

  app.post(
    '/v1/device/updates/:commandId/report',
    { config: { roles: 'public' }, schema: { summary: "Report an update's outcome (device link)", tags: ['device'], params: CommandParams, querystring: DeviceLinkQuery, body: UpdateReport, response: { 204: Type.Null(), 403: ErrorResponse } } },
    async (request, reply) => {
      const row = await linked('update-report', request.params.commandId, request.query);
      const report = request.body;
      const now = ctx.clock.now();
      const reached = report.state === 'applied' && report.version !== undefined && report.version === row.installs;
      await ctx.db
        .updateTable('rollout_lockers')
        .set({
          device_state: report.state,
          detail: report.reason ?? null,
          ...(reached && row.state === 'sent' ? { state: 'updated', done_at: now } : {}),
          ...(reached && row.state === 'rolling_back' ? { state: 'rolled_back', done_at: now } : {}),
        })
        .where('rollout_id', '=', row.rollout_id)
        .where('locker_id', '=', row.locker_id)
        .execute();
      // The locker says which version it runs now (the link proves which locker it is): the heartbeat would say so later.
      if (report.version) await ctx.db.updateTable('lockers').set({ firmware_version: report.version }).where('id', '=', row.locker_id).execute();
      request.log.info({ lockerId: row.locker_id, commandId: request.params.commandId, state: report.state, reason: report.reason, version: report.version }, 'update report');
      return reply.code(204).send(null);
    },
  );
};
