/**
 * A door sensor that never changes after its lock was pulsed is suspect: a cut or shorted wire reads "closed"
 * forever, and a door that looks closed forever would let the locker believe nothing happened. When a lock was
 * pulsed `pulses` times in a row (each pulse confirmed at the coil) and its door sensor did not change for `ms`
 * after the last of them, the sensor is reported suspect, once, until it changes again. The agent meanwhile
 * counts nothing: a door not seen open completes no pickup (docs/hardware.md, "A suspect sensor").
 */
import type { Clock } from '../../shared/clock.js';

interface Watch {
  quietPulses: number;
  suspect: boolean;
  cancel: (() => void) | undefined;
}

export class SensorWatch {
  readonly #watches = new Map<string, Watch>();

  constructor(
    readonly clock: Clock,
    readonly pulses: number,
    readonly ms: number,
    readonly onSuspect: (compartmentId: string, quietPulses: number) => void,
  ) {}

  /** A pulse of this compartment's lock was confirmed at the coil. */
  pulsed(id: string): void {
    const w = this.#get(id);
    w.quietPulses++;
    w.cancel?.();
    w.cancel = this.clock.setTimeout(() => {
      w.cancel = undefined;
      if (w.quietPulses >= this.pulses && !w.suspect) {
        w.suspect = true;
        this.onSuspect(id, w.quietPulses);
      }
    }, this.ms);
  }

  /** The door sensor changed: it works. */
  changed(id: string): void {
    const w = this.#get(id);
    w.cancel?.();
    w.cancel = undefined;
    w.quietPulses = 0;
    w.suspect = false;
  }

  isSuspect(id: string): boolean {
    return this.#watches.get(id)?.suspect ?? false;
  }

  stop(): void {
    for (const w of this.#watches.values()) w.cancel?.();
  }

  #get(id: string): Watch {
    let w = this.#watches.get(id);
    if (!w) {
      w = { quietPulses: 0, suspect: false, cancel: undefined };
      this.#watches.set(id, w);
    }
    return w;
  }
}
