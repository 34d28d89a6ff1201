import { systemClock, type Clock } from '../../shared/clock.js';

/** Real time plus an adjustable shift: timers run in real time, `now()` can jump both ways. */
export class ShiftClock implements Clock {
  constructor(public shiftMs = 0) {}
  now(): number {
    return Date.now() + this.shiftMs;
  }
  setTimeout(fn: () => void, ms: number): () => void {
    return systemClock.setTimeout(fn, ms);
  }
}

/** A device clock that is `skewMs` off whatever the reference clock says. */
export class SkewedClock implements Clock {
  constructor(
    private readonly reference: Clock,
    public skewMs = 0,
  ) {}
  now(): number {
    return this.reference.now() + this.skewMs;
  }
  setTimeout(fn: () => void, ms: number): () => void {
    return this.reference.setTimeout(fn, ms);
  }
}
