/**
 * Admission control for broker sign-ins. A city-wide power cut brings every locker back within a second; checking
 * all their tokens at once queued thousands of database look-ups per process, most for clients that had given up
 * (their connect timeout, or the sign-in timeout) before their turn, and no locker got in (docs/scale.md, storm).
 *
 * The gate checks at most `atOnce` sign-ins at a time; the rest wait in arrival order. A sign-in whose client is
 * gone by its turn costs nothing more. A newcomer is answered at once with CONNACK 3 "server unavailable" (which
 * tells the locker to back off longer, docs/protocol.md) when it would not be checked within `maxWaitMs`: the line
 * holds `waiting` already, or its first sign-in has waited `maxWaitMs`, or the line is longer than the recent pace
 * of checks gets through in `maxWaitMs`. It comes back when there is room, instead of waiting in a line that the
 * sign-in timeout would end before its turn (a plain close, after which it would come back within a second).
 * A check that takes longer than `checkTimeoutMs` (a database that hangs) gives its slot back and is answered
 * CONNACK 3, so hung checks cannot hold every slot. A sign-in whose turn comes after `maxWaitMs` in line (the checks
 * slowed down after it was let in) is answered CONNACK 3 too, not checked late.
 */
export interface SignInGateLimits {
  /** Sign-ins checked at the same time. */
  atOnce: number;
  /** Sign-ins waiting for their turn; beyond it, refused as busy (0: none wait). */
  waiting: number;
  /** Longest expected wait in line for a newcomer to be let in. */
  maxWaitMs: number;
  /** A check still running after this long is answered busy and its slot freed. */
  checkTimeoutMs: number;
}

export type Refusal = 'BUSY' | 'GONE' | 'TIMEOUT';

export interface SignIn {
  /** The client closed its connection (or was closed) while it waited: its check is skipped. */
  gone(): boolean;
  /** Checks the credentials and answers the client; the slot is free when it settles. */
  check(): Promise<void>;
  /**
   * Answered without (the end of) a check: 'BUSY' (no room in line), 'GONE' (nobody left to answer), 'TIMEOUT'
   * (the check ran out of time; it may still settle later and must not answer again).
   */
  refuse(why: Refusal): void;
}

/** How much of the pace estimate each finished check moves (an exponential average over about 20 checks). */
const PACE_WEIGHT = 0.05;

export class SignInGate {
  #active = 0;
  /** Waiting sign-ins from `#head` on (an index, not shift(): the line can hold thousands). */
  #line: ({ signIn: SignIn; at: number } | undefined)[] = [];
  #head = 0;
  /** Average time of a check, ms (0: none finished yet, no estimate). */
  #checkMs = 0;
  readonly counts = { checked: 0, busy: 0, gone: 0, timedOut: 0 };

  /**
   * `now`: wall time in ms (the line's delay is about the network, not the business clock). `setTimer` runs `fn`
   * after `ms` and returns its cancel (wall time too; injectable for tests).
   */
  constructor(
    private readonly limits: SignInGateLimits,
    private readonly now: () => number,
    private readonly setTimer: (fn: () => void, ms: number) => () => void = (fn, ms) => {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    },
  ) {}

  get waiting(): number {
    return this.#line.length - this.#head;
  }

  get active(): number {
    return this.#active;
  }

  /** Expected wait of a newcomer at the end of the line, ms, from the recent pace of checks (0: no estimate yet). */
  get expectedWaitMs(): number {
    return (this.waiting * this.#checkMs) / this.limits.atOnce;
  }

  /** Whether a newcomer would be refused as busy now: no slot free, and the line full, stuck or too slow. */
  get busy(): boolean {
    if (this.#active < this.limits.atOnce) return false;
    const first = this.#line[this.#head];
    const full = this.waiting >= this.limits.waiting;
    const stuck = first !== undefined && this.now() - first.at >= this.limits.maxWaitMs;
    return full || stuck || this.expectedWaitMs >= this.limits.maxWaitMs;
  }

  admit(signIn: SignIn): void {
    // Gone already (it hung up while it was sorted, known-keys.ts): nothing to check.
    if (signIn.gone()) {
      this.counts.gone++;
      signIn.refuse('GONE');
      return;
    }
    if (this.#active < this.limits.atOnce) {
      this.#start(signIn);
      return;
    }
    if (this.busy) {
      this.counts.busy++;
      signIn.refuse('BUSY');
      return;
    }
    this.#line.push({ signIn, at: this.now() });
  }

  #start(signIn: SignIn): void {
    this.#active++;
    this.counts.checked++;
    const started = this.now();
    let freed = false;
    const free = () => {
      if (freed) return;
      freed = true;
      cancel();
      this.#active--;
      this.#next();
    };
    const cancel = this.setTimer(() => {
      if (freed) return;
      this.counts.timedOut++;
      // Counted as a check that took the whole timeout: the pace estimate sees the database is slow.
      this.#pace(this.limits.checkTimeoutMs);
      signIn.refuse('TIMEOUT');
      free();
    }, this.limits.checkTimeoutMs);
    let settled: Promise<void>;
    try {
      settled = signIn.check();
    } catch (err) {
      settled = Promise.reject(err);
    }
    // check() answers the client itself, also when it fails: here only the slot is given back.
    settled.catch(() => undefined).finally(() => {
      if (!freed) this.#pace(this.now() - started);
      free();
    });
  }

  #pace(ms: number): void {
    this.#checkMs = this.#checkMs === 0 ? ms : this.#checkMs + PACE_WEIGHT * (ms - this.#checkMs);
  }

  #next(): void {
    while (this.#active < this.limits.atOnce && this.#head < this.#line.length) {
      const { signIn, at } = this.#line[this.#head] as { signIn: SignIn; at: number };
      this.#line[this.#head++] = undefined;
      if (this.#head > 1024 && this.#head * 2 > this.#line.length) {
        this.#line = this.#line.slice(this.#head);
        this.#head = 0;
      }
      if (signIn.gone()) {
        this.counts.gone++;
        signIn.refuse('GONE');
        continue;
      }
      // Waited longer than a newcomer is ever let wait (the checks slowed down after it was let in): answered busy now
      // rather than checked late, while the locker still listens (the agent gives a connect 10 s; the connection's
      // sign-in timeout no longer ends the wait, guarded-connection.ts).
      if (this.now() - at > this.limits.maxWaitMs) {
        this.counts.busy++;
        signIn.refuse('BUSY');
        continue;
      }
      this.#start(signIn);
    }
  }
}
