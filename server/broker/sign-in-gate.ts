/**
 * Admission control for broker sign-ins. A city-wide power cut brings every locker back within a second; checking
 * all their tokens at once queued thousands of database look-ups per process, most for clients that had given up
 * (their connect timeout, or the sign-in timeout) before their turn, and no locker got in (docs/scale.md, storm).
 * The gate checks at most `atOnce` sign-ins at a time; the rest wait in arrival order. A sign-in whose client is
 * gone by its turn costs nothing more. One that finds the line full (`waiting` of them), or so slow that its first
 * sign-in has waited `maxWaitMs`, is answered at once with CONNACK 3 "server unavailable", which tells the locker
 * to back off longer (docs/protocol.md): it comes back when there is room, instead of waiting in a line that its
 * connect timeout or the sign-in timeout would end before its turn.
 */
export interface SignInGateLimits {
  /** Sign-ins checked at the same time. */
  atOnce: number;
  /** Sign-ins waiting for their turn; beyond it, refused as busy (0: none wait). */
  waiting: number;
  /** While the first sign-in in line has waited this long, newcomers are refused as busy. */
  maxWaitMs: number;
}

export interface SignIn {
  /** The client closed its connection (or was closed) while it waited: its check is skipped. */
  gone(): boolean;
  /** Checks the credentials and answers the client; the slot is free when it settles. */
  check(): Promise<void>;
  /** Answered without a check: 'BUSY' (the line is full), 'GONE' (nobody left to answer). */
  refuse(why: 'BUSY' | 'GONE'): void;
}

export class SignInGate {
  #active = 0;
  /** Waiting sign-ins from `#head` on (an index, not shift(): the line can hold thousands). */
  #line: ({ signIn: SignIn; at: number } | undefined)[] = [];
  #head = 0;
  readonly counts = { checked: 0, busy: 0, gone: 0 };

  /** `now`: wall time in ms (the line's delay is about the network, not the business clock). */
  constructor(
    private readonly limits: SignInGateLimits,
    private readonly now: () => number,
  ) {}

  get waiting(): number {
    return this.#line.length - this.#head;
  }

  get active(): number {
    return this.#active;
  }

  admit(signIn: SignIn): void {
    if (this.#active < this.limits.atOnce) {
      this.#start(signIn);
      return;
    }
    const now = this.now();
    const first = this.#line[this.#head];
    if (this.waiting >= this.limits.waiting || (first !== undefined && now - first.at >= this.limits.maxWaitMs)) {
      this.counts.busy++;
      signIn.refuse('BUSY');
      return;
    }
    this.#line.push({ signIn, at: now });
  }

  #start(signIn: SignIn): void {
    this.#active++;
    this.counts.checked++;
    let settled: Promise<void>;
    try {
      settled = signIn.check();
    } catch (err) {
      settled = Promise.reject(err);
    }
    // check() answers the client itself, also when it fails: here only the slot is given back.
    settled.catch(() => undefined).finally(() => {
      this.#active--;
      this.#next();
    });
  }

  #next(): void {
    while (this.#active < this.limits.atOnce && this.#head < this.#line.length) {
      const { signIn } = this.#line[this.#head] as { signIn: SignIn };
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
      this.#start(signIn);
    }
  }
}
