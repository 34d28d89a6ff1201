/**
 * Exponential backoff with full jitter: the n-th retry waits a uniformly random time in
 * [0, min(cap, base · 2^n)). A fleet that lost its server at once comes back spread out, not in a spike.
 */
export function backoffDelay(attempt: number, random: () => number, baseMs = 1000, capMs = 60_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** MQTT 3.1.1 CONNACK return code 3: "server unavailable", the server's answer when too many sign in at once. */
const CONNACK_SERVER_UNAVAILABLE = 3;

/**
 * After CONNACK 3 the server is shedding sign-ins (a whole fleet came back at once): the wait is drawn as after
 * at least four failures (up to 16 s) and may grow to 5 minutes, so a crowd that was turned away comes back
 * spread over minutes instead of knocking again within the minute.
 */
export function busyBackoffDelay(attempt: number, random: () => number): number {
  return backoffDelay(Math.max(attempt, 4), random, 1000, 300_000);
}

/**
 * After a connect that got no CONNACK within the connect timeout: the server may be too busy to answer (its accept
 * queue full after a city-wide power cut) or the network may be down, which the device cannot tell apart. The wait
 * starts as after a busy refusal (up to 16 s: no knocking again within the second) but keeps the ordinary 1-minute
 * cap, so a locker whose network comes back is not kept away for minutes.
 */
export function noAnswerBackoffDelay(attempt: number, random: () => number): number {
  return backoffDelay(Math.max(attempt, 4), random);
}

/** Whether an mqtt.js client error is the refusal of a connect with CONNACK 3. */
function isServerUnavailable(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === CONNACK_SERVER_UNAVAILABLE;
}

/** Whether an mqtt.js client error is a connect that got no CONNACK within its connect timeout. */
function isConnackTimeout(err: unknown): boolean {
  return err instanceof Error && err.message === 'connack timeout';
}

/** How the last connect attempt failed, for the choice of the next wait: refused busy, or no answer in time. */
export type ConnectFailure = 'busy' | 'no-answer' | undefined;

/** The wait before the next connect attempt: longer after a busy refusal or a connect left without an answer. */
export function reconnectDelay(attempt: number, failure: ConnectFailure, random: () => number): number {
  if (failure === 'busy') return busyBackoffDelay(attempt, random);
  if (failure === 'no-answer') return noAnswerBackoffDelay(attempt, random);
  return backoffDelay(attempt, random);
}

/** What an mqtt.js client error says about the connect attempt (undefined: nothing that changes the wait). */
export function connectFailureOf(err: unknown): ConnectFailure {
  if (isServerUnavailable(err)) return 'busy';
  if (isConnackTimeout(err)) return 'no-answer';
  return undefined;
}

/**
 * How long to wait for an event batch's ack after `misses` waits in a row ran out: the ack timeout doubled for
 * each miss, up to `capMs`, plus up to half of that again at random (never beyond the cap). A server that acks
 * late is not sent the same batch again and again (each copy is one more duplicate it must read and recognise),
 * and a fleet whose acks all came late at once does not resend in step.
 */
export function ackWaitMs(misses: number, random: () => number, baseMs: number, capMs: number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(misses, 30));
  return Math.min(capMs, Math.floor(ceiling + (random() * ceiling) / 2));
}
