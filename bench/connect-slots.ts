/**
 * How many of one client process's lockers may be connecting at the same time (from the start of an attempt to
 * its CONNACK or its close). A simulated locker shares its process's event loop with thousands of others; when they
 * all retry at once (the power cut at 170,000: 12 client processes, 1,500 attempts a second), the loop falls so far
 * behind that each attempt's CONNECT goes out seconds after its TCP connect, the server closes the silent
 * connection (its sign-in timeout) and the locker retries: no attempt completes (docs/scale.md). A real locker
 * has its own CPU and sends its CONNECT at once. With slots, a locker whose backoff has run out waits for a free
 * slot (as its timer would have fired late anyway) and then connects promptly. 0: no limit.
 */
export class ConnectSlots {
  readonly #limit: number;
  #busy = 0;
  /** Waiting attempts from `#head` on (an index, not shift(): thousands may wait). */
  #line: ((release: () => void) => void)[] = [];
  #head = 0;
  /** Attempts that had to wait for a slot. */
  readonly counts = { waited: 0 };

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 0) throw new Error(`connect slots must be an integer ≥ 0, got ${limit}`);
    this.#limit = limit;
  }

  get inUse(): number {
    return this.#busy;
  }

  get waiting(): number {
    return this.#line.length - this.#head;
  }

  /** Resolves with the slot's release (idempotent) once one is free; at once when there is no limit. */
  acquire(): Promise<() => void> {
    if (this.#limit === 0 || this.#busy < this.#limit) return Promise.resolve(this.#take());
    this.counts.waited++;
    return new Promise((resolve) => this.#line.push(resolve));
  }

  #take(): () => void {
    this.#busy++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#busy--;
      this.#next();
    };
  }

  #next(): void {
    if (this.#head >= this.#line.length || (this.#limit !== 0 && this.#busy >= this.#limit)) return;
    const resolve = this.#line[this.#head] as (release: () => void) => void;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#line.length) {
      this.#line = this.#line.slice(this.#head);
      this.#head = 0;
    }
    resolve(this.#take());
  }
}
