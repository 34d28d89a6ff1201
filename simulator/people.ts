import type { ParcelView } from '../server/parcels/parcel-views.js';
import type { ApiClient } from './api-client.js';
import type { SimLocker } from './fleet.js';

export interface Code {
  pin: string;
  qr: string;
}

export interface VisitOutcome {
  ok: boolean;
  /** What went wrong, for the report. */
  problem?: string;
  /** Codes the locker refused before it opened (e.g. grants not yet synced). */
  refusals: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A person at the locker with a code: types the PIN (or scans the QR), waits for a latch to release, checks it
 * is the expected door, pulls it open, does their thing, pushes it shut. Retries a refused code a few times,
 * as people do when a locker is still receiving their booking.
 */
export function visitLocker(
  locker: SimLocker,
  code: Code,
  expectedCompartment: string,
  options: { useQr: boolean; tries?: number; retryMs?: number },
): Promise<VisitOutcome> {
  // People queue at the locker: one at the keypad at a time.
  const visit = locker.turn.then(() => useLocker(locker, code, expectedCompartment, options));
  locker.turn = visit.catch(() => undefined);
  return visit;
}

async function useLocker(
  locker: SimLocker,
  code: Code,
  expectedCompartment: string,
  options: { useQr: boolean; tries?: number; retryMs?: number },
): Promise<VisitOutcome> {
  const tries = options.tries ?? 40;
  let refusals = 0;
  for (let i = 0; i < tries; i++) {
    const released = locker.hardware.waitForRelease(5000);
    const outcome = await locker.agent.enterCode(options.useQr ? code.qr : code.pin, options.useQr ? 'scanner' : 'keypad');
    if ('refused' in outcome) {
      refusals++;
      await sleep(options.retryMs ?? 100);
      continue;
    }
    const door = await released;
    if (door === null) return { ok: false, problem: 'no latch released after the code was accepted', refusals };
    if (door !== expectedCompartment) return { ok: false, problem: `door ${door} opened, expected ${expectedCompartment}`, refusals };
    if (!locker.hardware.openDoor(door)) return { ok: false, problem: `door ${door} would not open`, refusals };
    await sleep(5);
    locker.hardware.closeDoor(door);
    return { ok: true, refusals };
  }
  return { ok: false, problem: 'code refused on every try', refusals };
}

/** The recipient waits for the pickup code to arrive (the notification), then returns it. */
export async function awaitPickupCode(api: ApiClient, parcelId: string, timeoutMs = 30_000): Promise<Code | null> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const { notifications } = await api.get<{ notifications: { kind: string; code: Code }[] }>(`/v1/parcels/${parcelId}/notifications`);
    const n = notifications.find((x) => x.kind === 'pickup_code');
    if (n) return n.code;
    await sleep(50);
  }
  return null;
}

export type ParcelWithHistory = ParcelView & { history: { type: string; status: string }[] };
