import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import { principalRef } from '../accounts/principal.js';
import { LockstepError } from '../errors.js';
import type { Db } from '../store/database.js';
import { plainGroupCommit } from '../store/group-commit.js';
import {
  IDEMPOTENCY_HEADER,
  REPLAYED_HEADER,
  isStoredAnswer,
  isValidIdempotencyKey,
  judgeKey,
  requestFingerprint,
} from './idempotency-rules.js';
import { claimKey, dropExpiredKey, readKey, releaseKey, storeAnswer, takeOverKey, type KeyRef } from './idempotency-store.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * `false`: the route refuses an `Idempotency-Key` (IDEMPOTENCY_NOT_SUPPORTED) because its answer holds a
     * credential (a token, an enrolment secret) that must not be stored. Every other authenticated POST takes one.
     */
    idempotency?: false;
  }
  interface FastifyRequest {
    /** The key this request holds while it runs (set by the idempotency hook). */
    idempotencyClaim: KeyRef | null;
  }
}

export interface IdempotencyDeps {
  db: Db;
  clock: Clock;
}

/** How many times a request tries to claim a key that changes under it (expired and claimed by another) before 409. */
const CLAIM_TRIES = 3;
/** Most claims (or stored answers) in one transaction. */
const MAX_KEY_GROUP = 200;

/** A claim or an answer to store, queued for a group commit (ordered by account and key, the "locker id" of the queue). */
interface Claim {
  lockerId: string;
  ref: KeyRef;
  fingerprint: string;
  now: number;
}
interface Answer {
  lockerId: string;
  ref: KeyRef;
  answer: { status: number; contentType: string | null; body: string };
}
const orderOf = (ref: KeyRef) => `${ref.account}\u0000${ref.key}`;

/**
 * `Idempotency-Key` on every authenticated POST, as hooks on the root app (so every route plugin has them):
 * preHandler (after auth and validation) claims the key or answers from it: the first answer again with
 * `Idempotent-Replayed: true`, 422 IDEMPOTENCY_KEY_REUSED for another request, 409 IDEMPOTENCY_KEY_IN_FLIGHT
 * while the first runs; onSend stores the answer (or releases the key after a 429/5xx, which changed nothing).
 * Keys are per account and live in the database, so every server process sharing it sees them.
 */
export const idempotencyPlugin: FastifyPluginAsync<IdempotencyDeps> = async (app, { db, clock }) => {
  app.decorateRequest('idempotencyClaim', null);
  // Claims and stored answers of concurrent requests share one transaction (server/store/group-commit.ts): a key
  // costs no durable commit of its own beside the request's.
  const options = {
    db,
    maxGroup: MAX_KEY_GROUP,
    onGroupFailed: (err: unknown, size: number) => app.log.warn({ err, writer: 'idempotency keys', size }, 'group commit failed; its items run again one by one'),
  };
  const claims = plainGroupCommit<Claim, boolean>(options, async (trx, items) => {
    const out: boolean[] = [];
    for (const c of items) out.push(await claimKey(trx, c.ref, c.fingerprint, c.now));
    return out;
  });
  const answers = plainGroupCommit<Answer, void>(options, async (trx, items) => {
    for (const a of items) await storeAnswer(trx, a.ref, a.answer);
    return items.map(() => undefined);
  });

  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'POST' || !request.principal) return;
    const header = request.headers[IDEMPOTENCY_HEADER];
    if (header === undefined) return;
    if (request.routeOptions.config.idempotency === false) throw new LockstepError('IDEMPOTENCY_NOT_SUPPORTED');
    if (!isValidIdempotencyKey(header)) throw new LockstepError('IDEMPOTENCY_KEY_INVALID');
    const ref: KeyRef = { account: principalRef(request.principal), key: header };
    const fingerprint = requestFingerprint(request.method, request.url, request.body);
    for (let attempt = 0; attempt < CLAIM_TRIES; attempt++) {
      const now = clock.now();
      if (await claims.add({ lockerId: orderOf(ref), ref, fingerprint, now })) {
        request.idempotencyClaim = ref;
        return;
      }
      const stored = await readKey(db, ref);
      const verdict = judgeKey(stored, fingerprint, now);
      if (verdict.kind === 'reused') throw new LockstepError('IDEMPOTENCY_KEY_REUSED');
      if (verdict.kind === 'in_flight') throw new LockstepError('IDEMPOTENCY_KEY_IN_FLIGHT');
      if (verdict.kind === 'replay' && stored?.status != null) {
        request.log.info({ idempotencyKey: ref.key, status: stored.status }, 'idempotent request replayed');
        reply.code(stored.status).header(REPLAYED_HEADER, 'true');
        if (stored.content_type) reply.header('content-type', stored.content_type);
        return reply.send(stored.body ?? '');
      }
      if (verdict.kind === 'take_over' && stored && (await takeOverKey(db, ref, stored.locked_until, now))) {
        request.log.warn({ idempotencyKey: ref.key }, 'idempotency key taken over from a request that never answered');
        request.idempotencyClaim = ref;
        return;
      }
      if (verdict.kind === 'run') await dropExpiredKey(db, ref, now);
    }
    throw new LockstepError('IDEMPOTENCY_KEY_IN_FLIGHT');
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const ref = request.idempotencyClaim;
    if (!ref) return payload;
    request.idempotencyClaim = null;
    try {
      if (isStoredAnswer(reply.statusCode) && (typeof payload === 'string' || Buffer.isBuffer(payload) || payload == null)) {
        const contentType = reply.getHeader('content-type');
        await answers.add({
          lockerId: orderOf(ref),
          ref,
          answer: { status: reply.statusCode, contentType: typeof contentType === 'string' ? contentType : null, body: payload == null ? '' : payload.toString() },
        });
      } else {
        await releaseKey(db, ref);
      }
    } catch (err) {
      // The request did its work; its answer still goes out. The claim stays until its lock lapses (then a retry runs again).
      request.log.error({ err, idempotencyKey: ref.key }, 'idempotent answer not stored');
    }
    return payload;
  });

  // A request that ended without sending (its connection dropped before an answer was built) gives its key back.
  app.addHook('onResponse', async (request) => {
    const ref = request.idempotencyClaim;
    if (!ref) return;
    request.idempotencyClaim = null;
    await releaseKey(db, ref).catch((err: unknown) => request.log.error({ err, idempotencyKey: ref.key }, 'idempotency key not released'));
  });
};

// The hooks apply to the whole app, not only to routes registered inside this plugin (what fastify-plugin does).
(idempotencyPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
