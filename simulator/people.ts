import { isRetryableRead, type ApiClient } from '../client/http-client.js';
import type { SimLocker } from './fleet.js';

export interface Code {
  pin: string;
  qr: string;
}

export interface VisitOutcome {
  ok: boolean;
  /** What went wrong, for the report. */
  problem?: string;
  /** Tries on which no door opened (code refused, or the locker was restarting). */
  refusals: number;
  /** Real ms from the code typed or scanned to the latch released, on the try that opened (the device's decision). */
  unlockMs?: number;
  /** The door the person used. */
  door?: string;
}

export interface VisitOptions {
  /** Scan the QR from the start instead of typing the PIN. */
  useQr: boolean;
  /** How long the person keeps the door open. */
  holdMs?: number;
  tries?: number;
  /** How long the person waits for a latch after each try (default 1.5 s). */
  releaseTimeoutMs?: number;
  /** Use whichever door opens (the agent moved the parcel to another compartment, its latch being jammed). */
  acceptAnyDoor?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A person at the locker with a code, using only what a person has: the keypad, the scanner and the doors. Types
 * the PIN (or scans the QR), waits for a latch to release, checks it is the expected door, pulls it open, holds
 * it, pushes it shut. When the PIN is refused twice (the locker may not have the booking yet, being offline)
 * they show the QR, which the locker checks by signature alone. People queue: one at the keypad at a time.
 */
export function visitLocker(locker: SimLocker, code: Code, expectedCompartment: string, options: VisitOptions): Promise<VisitOutcome> {
  const visit = locker.turn.then(() => useLocker(locker, code, expectedCompartment, options));
  locker.turn = visit.catch(() => undefined);
  return visit;
}

async function useLocker(locker: SimLocker, code: Code, expected: string, o: VisitOptions): Promise<VisitOutcome> {
  const tries = o.tries ?? 60;
  const hw = locker.hardware;
  let refusals = 0;
  // A latch that let go late (after the person stopped waiting, on a slow locker) clicks: they pull that door.
  const unlatched = () => (hw.isReleased(expected) && !hw.isDoorOpen(expected) ? expected : null);
  for (let i = 0; i < tries; i++) {
    const late = unlatched();
    const released = late ? Promise.resolve(late) : hw.waitForRelease(o.releaseTimeoutMs ?? 1500);
    const asked = performance.now();
    if (!late && (o.useQr || i >= 2)) hw.scan(code.qr);
    else if (!late) hw.type(code.pin);
    const door = (await released) ?? unlatched();
    const unlockMs = late ? undefined : performance.now() - asked;
    if (door === null) {
      refusals++;
      await sleep(200);
      continue;
    }
    const timing = unlockMs === undefined ? {} : { unlockMs };
    if (door !== expected && !o.acceptAnyDoor) return { ok: false, problem: `door ${door} opened, expected ${expected}`, refusals, ...timing };
    if (!hw.openDoor(door)) return { ok: false, problem: `door ${door} would not open`, refusals, ...timing };
    await sleep(o.holdMs ?? 5);
    hw.closeDoor(door);
    return { ok: true, refusals, door, ...timing };
  }
  return { ok: false, problem: 'no door opened on any try', refusals };
}

/** The recipient waits for the pickup code to arrive (the notification), then returns it. */
export function awaitPickupCode(api: ApiClient, parcelId: string, timeoutMs = 60_000, pollMs = 50): Promise<Code | null> {
  return awaitCode(api, parcelId, 'pickup_code', timeoutMs, pollMs);
}

/**
 * Waits for a code notification of a kind (`pickup_code` for the recipient, `collection_code` for the carrier).
 * A look-up that still finds no server after the client's own retries (a restart longer than they last) is
 * only a look-up that found nothing yet: the person keeps checking until their deadline, then reports why.
 */
export async function awaitCode(
  api: ApiClient,
  parcelId: string,
  kind: 'pickup_code' | 'collection_code',
  timeoutMs = 60_000,
  pollMs = 50,
): Promise<Code | null> {
  const until = Date.now() + timeoutMs;
  // Asking less and less often: thousands of recipients polling at a fixed pace would be most of a server's load.
  const maxWait = Math.max(pollMs, pollMs >= 250 ? 2000 : 500);
  let unanswered: unknown = null;
  for (let wait = pollMs; Date.now() < until; wait = Math.min(maxWait, wait * 1.5)) {
    try {
      const { notifications } = await api.get<{ notifications: { kind: string; code: Code }[] }>(`/v1/parcels/${parcelId}/notifications`);
      unanswered = null;
      const n = notifications.find((x) => x.kind === kind);
      if (n) return n.code;
    } catch (err) {
      if (!isRetryableRead(err)) throw err;
      unanswered = err;
    }
    await sleep(wait);
  }
  if (unanswered !== null) throw unanswered;
  return null;
}
