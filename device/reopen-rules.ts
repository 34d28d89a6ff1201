/**
 * Reopen once: a recipient whose door closed before the parcel was taken may open it again with the same code,
 * once, within a short window after the pickup completed. Pure rules, no I/O: the agent keeps the recent pickups
 * in memory (`RecentPickups`, lost on restart: the window is a minute) and records a `door.reopened` event for a
 * reopen, never a second `parcel.picked_up` (the door cycle runs as a service opening). See docs/screen.md.
 */
import type { DeviceEvent } from '../shared/messages.js';

/** Default window, from the moment the door closed on the pickup. */
export const DEFAULT_REOPEN_WINDOW_SEC = 60;

export interface ClosedPickup {
  jti: string;
  compartmentId: string;
  parcelId: string | undefined;
  /** When the pickup completed (the door closed), device time estimate, ms. */
  closedAt: number;
  reopened: boolean;
}

export type ReopenRefusal = 'NO_RECENT_PICKUP' | 'REOPEN_WINDOW_PASSED' | 'ALREADY_REOPENED' | 'COMPARTMENT_IN_USE';

export interface ReopenContext {
  now: number;
  windowMs: number;
  /** The compartment now; undefined when the locker has no such compartment any more. */
  compartment: { parcelId: string | null; busy: boolean; fault: string | null } | undefined;
}

/**
 * Whether a used pickup code may open its door once more now. Only a code whose pickup completed within the
 * window, not reopened before, and only while the compartment is still empty and idle (nothing put in since).
 */
export function decideReopen(pickup: ClosedPickup | undefined, ctx: ReopenContext): ReopenRefusal | null {
  if (!pickup) return 'NO_RECENT_PICKUP';
  if (pickup.reopened) return 'ALREADY_REOPENED';
  if (ctx.windowMs <= 0 || ctx.now - pickup.closedAt > ctx.windowMs || ctx.now < pickup.closedAt - 1000) return 'REOPEN_WINDOW_PASSED';
  const c = ctx.compartment;
  if (!c || c.fault || c.busy || c.parcelId !== null) return 'COMPARTMENT_IN_USE';
  return null;
}

/** The pickups that completed lately, by grant id, learnt from the events the agent records. */
export class RecentPickups {
  readonly #byJti = new Map<string, ClosedPickup>();

  constructor(readonly windowMs: number) {}

  /** Notes completed pickups (and forgets ones whose window passed). */
  observe(events: readonly DeviceEvent[], now: number): void {
    for (const [jti, p] of this.#byJti) if (now - p.closedAt > this.windowMs) this.#byJti.delete(jti);
    if (this.windowMs <= 0) return;
    for (const e of events) {
      if (e.type === 'parcel.picked_up' && e.jti && e.compartmentId && !e.reason) {
        this.#byJti.set(e.jti, { jti: e.jti, compartmentId: e.compartmentId, parcelId: e.parcelId, closedAt: e.at, reopened: false });
      }
    }
  }

  get(jti: string): ClosedPickup | undefined {
    return this.#byJti.get(jti);
  }

  markReopened(jti: string): void {
    const p = this.#byJti.get(jti);
    if (p) p.reopened = true;
  }
}
