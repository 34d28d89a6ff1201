/** Runs at most `max` tasks at once; the rest wait their turn, in order. */
export class Limiter {
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    private readonly max: number,
    private readonly maxWaiting = 20_000,
  ) {}

  hasRoom(): boolean {
    return this.#waiting.length < this.maxWaiting;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#active++;
    try {
      return await task();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}
