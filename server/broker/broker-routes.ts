import { createHash, timingSafeEqual } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { deviceMayPublishMessage, deviceMaySubscribe } from '../../shared/topics.js';
import { LockstepError } from '../errors.js';
import type { RoutePlugin } from '../http/route-plugin.js';
import { bearerToken } from '../http/auth.js';
import { ErrorResponse } from '../http/schemas.js';
import { checkBrokerPassword } from './device-auth.js';

const Verdict = Type.Object({ result: Type.Union([Type.Literal('allow'), Type.Literal('deny')]) });
const AuthBody = Type.Object({
  username: Type.String({ maxLength: 256 }),
  password: Type.String({ maxLength: 4096 }),
  clientid: Type.Optional(Type.String({ maxLength: 256 })),
});
const AclBody = Type.Object({
  username: Type.String({ maxLength: 256 }),
  topic: Type.String({ maxLength: 1024 }),
  action: Type.Union([Type.Literal('publish'), Type.Literal('subscribe')]),
  retain: Type.Optional(Type.Union([Type.Boolean(), Type.String({ maxLength: 8 })])),
});

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * For a broker that asks us (EMQX HTTP authentication and authorization, MQTT_DEVICE_AUTH=http): POST
 * /v1/broker/auth checks a locker's signed, single-use token exactly as the embedded broker does, and POST
 * /v1/broker/acl allows each locker its own topics only. The broker proves itself with BROKER_HOOK_TOKEN
 * (a bearer token); the routes exist only when it is set. Answers `{ result: allow | deny }`.
 */
export const brokerRoutes: RoutePlugin = async (app, { ctx }) => {
  const expected = ctx.config.brokerHookToken;
  if (!expected) return;
  const isBroker = (header: unknown) => {
    const token = bearerToken(header);
    return token !== undefined && timingSafeEqual(digest(token), digest(expected));
  };
  const guard = (header: unknown) => {
    if (!isBroker(header)) throw new LockstepError('BROKER_HOOK_REFUSED');
  };
  // Public for the account-based auth (the broker has no account) and its rate limits: the hook token guards it.
  const config = { roles: 'public' as const };
  const response = { 200: Verdict, 400: ErrorResponse, 403: ErrorResponse };

  app.post('/v1/broker/auth', { config, schema: { summary: 'Broker hook: authenticate a locker', tags: ['admin'], body: AuthBody, response } }, async (request) => {
    guard(request.headers.authorization);
    const { username, password, clientid } = request.body;
    if (!username || (clientid !== undefined && clientid !== username) || !password) return { result: 'deny' as const };
    const verdict = await checkBrokerPassword(ctx.db, username, Buffer.from(password, 'utf8'), ctx.clock.now());
    if (verdict !== 'OK') {
      ctx.stats.authFailures++;
      ctx.log.warn({ lockerId: username.slice(0, 64), verdict }, 'broker sign-in refused');
      return { result: 'deny' as const };
    }
    return { result: 'allow' as const };
  });

  app.post('/v1/broker/acl', { config, schema: { summary: 'Broker hook: authorise a publish or subscribe', tags: ['admin'], body: AclBody, response } }, async (request) => {
    guard(request.headers.authorization);
    const { username, topic, action } = request.body;
    const retain = request.body.retain === true || request.body.retain === 'true' || request.body.retain === '1';
    const ok = action === 'publish' ? deviceMayPublishMessage(username, topic, retain) : deviceMaySubscribe(username, topic);
    if (!ok) {
      ctx.stats.aclDenied++;
      return { result: 'deny' as const };
    }
    // A revoked controller (no key) keeps nothing, even on a connection it opened before.
    const locker = await ctx.db.selectFrom('lockers').select('public_key').where('id', '=', username).executeTakeFirst();
    return { result: locker?.public_key ? ('allow' as const) : ('deny' as const) };
  });
};
