import type { AuthenticateError, Client } from 'aedes';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../shared/clock.js';
import { deviceMayPublishMessage } from '../../shared/topics.js';
import type { Db } from '../store/database.js';
import type { ServerStats } from '../stats.js';
import { checkBrokerPassword } from './device-auth.js';
import type { SocketGuard } from './guarded-connection.js';
import { KnownKeys } from './known-keys.js';
import { SignInGate, type SignIn, type SignInGateLimits } from './sign-in-gate.js';

const AUTH_ERRORS = { 3: 'server unavailable', 4: 'bad username or password', 5: 'not authorized' } as const;

function authError(code: keyof typeof AUTH_ERRORS): AuthenticateError {
  return Object.assign(new Error(AUTH_ERRORS[code]), { returnCode: code });
}

/** Doubtful sign-ins (known-keys.ts) checked at the same time, and waiting at most, in their own line. */
const DOUBTFUL_AT_ONCE = 1;
const DOUBTFUL_WAITING = 16;
/** Sign-ins being sorted (their signature verified, known-keys.ts) at once, at least; beyond, refused as busy. */
const PRECHECKS_AT_ONCE = 256;

interface SignInDeps {
  db: Db;
  stats: ServerStats;
  log: Logger;
  clock: Clock;
  limits: SignInGateLimits;
  /** Each connection's guard, told when its client signed in (keyed by the socket aedes knows as client.conn). */
  guards: WeakMap<object, SocketGuard>;
}

type AuthDone = (err: AuthenticateError | null, success: boolean | null) => void;
export type Authenticate = (client: Client, username: Readonly<string> | undefined, password: Readonly<Buffer> | undefined, done: AuthDone) => void;

/**
 * aedes' `authenticate` for lockers: username = client id = locker id, password = a broker token checked once
 * (device-auth.ts). Sign-ins wait their turn in sign-in-gate.ts' line. A token that does not verify against the
 * key this process last read for the locker (or of a locker not enrolled then) is doubtful and waits in a narrow
 * line of its own, still checked against the database: made-up tokens for known locker ids cannot crowd out the
 * lockers a power cut brings back (known-keys.ts).
 */
export function lockerSignIns({ db, stats, log, clock, limits, guards }: SignInDeps): { authenticate: Authenticate; known: KnownKeys } {
  const gate = new SignInGate(limits, () => systemClock.now());
  const doubtfulLine = new SignInGate({ ...limits, atOnce: DOUBTFUL_AT_ONCE, waiting: Math.min(limits.waiting, DOUBTFUL_WAITING) }, () => systemClock.now());
  const known = new KnownKeys();
  let busySaidAt = 0;
  // Sign-ins between their arrival and a line (the precheck verifies a signature: a few turns of the event loop).
  let prechecking = 0;
  const prechecksAtOnce = Math.max(PRECHECKS_AT_ONCE, limits.atOnce + limits.waiting);

  // Refused at once for what the CONNECT asks (CONNACK 5), before any check: counted by reason in /metrics.
  const refuseConnect = (done: AuthDone, lockerId: string, reason: 'CLEAN_SESSION_REQUIRED' | 'WILL_NOT_ALLOWED', detail?: Record<string, unknown>) => {
    stats.connectionRefused(reason);
    log.warn({ lockerId, verdict: reason, ...detail }, 'broker sign-in refused');
    done(authError(5), false);
  };

  const authenticate: Authenticate = (client, username, password, done) => {
    if (!username || username !== client.id || !password) {
      stats.authFailures++;
      done(authError(4), false);
      return;
    }
    // A locker connects with a clean session (docs/protocol.md): the broker keeps no session for anyone, so the fleet's
    // persistence need not be asked for one at each connect (redis-fleet.ts).
    if (client.clean === false) return refuseConnect(done, username, 'CLEAN_SESSION_REQUIRED');
    // The will is published for the locker when it drops, also by another process of the fleet on its behalf (with
    // no client to check it against then, fleet-wills.ts): it must be one the locker may publish itself, checked now.
    const will = (client as unknown as { _will?: { topic: string; retain?: boolean } | null })._will;
    if (will && !deviceMayPublishMessage(username, will.topic, will.retain === true)) {
      stats.aclDenied++;
      return refuseConnect(done, username, 'WILL_NOT_ALLOWED', { topic: will.topic.slice(0, 200) });
    }
    // From here every path answers the client (at worst CONNACK 3, within the line's bounds): a power cut's sign-ins
    // that waited their turn are refused with a longer backoff, not closed by the sign-in timeout without an answer
    // (which had brought them back within seconds, docs/scale.md).
    guards.get(client.conn)?.signingIn();
    // One answer per sign-in: a check that ran out of time was answered busy and may still settle later.
    let answered = false;
    const answer = (err: AuthenticateError | null, ok: boolean) => {
      if (answered) return;
      answered = true;
      done(err, ok);
    };
    const nowMs = clock.now();
    const signIn = (line: SignInGate, verifiedWith: string | undefined): SignIn => ({
      // aedes marks a client closed when its socket ends; a destroyed socket may not have told it yet.
      gone: () => client.closed || (client.conn as { destroyed?: boolean }).destroyed === true,
      check: () =>
        checkBrokerPassword(db, username, password, nowMs, known, verifiedWith).then(
          (verdict) => {
            const ok = verdict === 'OK';
            if (answered) return;
            if (ok) guards.get(client.conn)?.signedIn();
            if (!ok) {
              stats.authFailures++;
              log.warn({ lockerId: username, verdict }, 'broker sign-in refused');
            }
            answer(ok ? null : authError(4), ok);
          },
          (err: unknown) => {
            log.error({ err }, 'broker authentication failed');
            answer(authError(5), false);
          },
        ),
      refuse: (why) => {
        if (why === 'TIMEOUT') {
          stats.signInsTimedOut++;
          log.warn({ lockerId: username }, 'broker sign-in check ran out of time: answered busy');
        } else if (why === 'BUSY') {
          stats.signInsBusy++;
          if (line === doubtfulLine) stats.signInsDoubtfulBusy++;
          // Once per 10 s at most: a storm must not flood the log.
          if (systemClock.now() - busySaidAt >= 10_000) {
            busySaidAt = systemClock.now();
            log.warn({ waiting: gate.waiting, doubtfulWaiting: doubtfulLine.waiting, refusedSoFar: stats.signInsBusy }, 'mqtt sign-ins refused: busy (CONNACK 3)');
          }
        } else stats.signInsGone++;
        // Busy or out of time: CONNACK 3, the locker backs off longer. Gone: aedes answers nobody (client closed).
        answer(authError(why === 'GONE' ? 5 : 3), false);
      },
    });
    // A storm's refusals stay cheap: no token is verified for a sign-in the main line would refuse anyway, nor beyond
    // PRECHECKS_AT_ONCE being sorted (a flood of made-up tokens must not get past the sorting by its numbers).
    if (gate.busy || prechecking >= prechecksAtOnce) return signIn(gate, undefined).refuse('BUSY');
    prechecking++;
    known
      .precheck(username, password.toString('utf8'), nowMs)
      .finally(() => prechecking--)
      .then(({ verdict, key }) => {
        if (verdict === 'doubtful') stats.signInsDoubtful++;
        const line = verdict === 'doubtful' ? doubtfulLine : gate;
        line.admit(signIn(line, key));
      })
      .catch((err: unknown) => {
        log.error({ err }, 'broker sign-in failed before its check');
        answer(authError(5), false);
      });
  };
  return { authenticate, known };
}
