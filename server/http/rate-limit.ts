import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import type { Principal } from '../accounts/principal.js';
import type { App } from './app.js';
import { clockWindowStore } from './rate-limit-store.js';

export interface RateLimitSettings {
  /** Per operator or carrier account. */
  perMinute: number;
  /** Per admin (bootstrap token or admin account); 0 = not limited. */
  adminPerMinute: number;
  /** Per client address, for requests without a valid token. */
  anonymousPerMinute: number;
}

type RateVerdict = { limited: false } | { limited: true; retryAfterSec: number };

/** Counts a request against its account (or its address when it has no valid token). */
export type RequestLimiter = (request: FastifyRequest, principal: Principal | null) => Promise<RateVerdict>;

const MINUTE = 60_000;

/** Registers @fastify/rate-limit (no global hook) and returns the limiter the auth hook calls. */
export async function registerRateLimits(app: App, settings: RateLimitSettings, clock: Clock): Promise<RequestLimiter> {
  await app.register(rateLimit, { global: false, store: clockWindowStore(clock) });
  // The auth hook sets request.principal before it asks; the key is the account, whatever the route.
  const perAccount = app.createRateLimit({
    timeWindow: MINUTE,
    keyGenerator: (req) => `account:${req.principal?.id ?? ''}`,
    max: (req) => (req.principal?.role === 'admin' ? settings.adminPerMinute : settings.perMinute),
  });
  const perAddress = app.createRateLimit({
    timeWindow: MINUTE,
    keyGenerator: (req) => `address:${normalizeIP(req.ip)}`,
    max: settings.anonymousPerMinute,
  });

  return async (request, principal) => {
    if (principal?.role === 'admin' && settings.adminPerMinute === 0) return { limited: false };
    const result = await (principal ? perAccount(request) : perAddress(request));
    if (result.isAllowed || !result.isExceeded) return { limited: false };
    return { limited: true, retryAfterSec: Math.max(1, result.ttlInSeconds) };
  };
}
