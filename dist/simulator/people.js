import { isRetryableRead } from './api-client.js';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/**
 * A person at the locker with a code, using only what a person has: the keypad, the scanner and the doors. Types
 * the PIN (or scans the QR), waits for a latch to release, checks it is the expected door, pulls it open, holds
 * it, pushes it shut. When the PIN is refused twice (the locker may not have the booking yet, being offline)
 * they show the QR, which the locker checks by signature alone. People queue: one at the keypad at a time.
 */
export function visitLocker(locker, code, expectedCompartment, options) {
    const visit = locker.turn.then(() => useLocker(locker, code, expectedCompartment, options));
    locker.turn = visit.catch(() => undefined);
    return visit;
}
async function useLocker(locker, code, expected, o) {
    const tries = o.tries ?? 60;
    const hw = locker.hardware;
    let refusals = 0;
    // A latch that let go late (after the person stopped waiting, on a slow locker) clicks: they pull that door.
    const unlatched = () => (hw.isReleased(expected) && !hw.isDoorOpen(expected) ? expected : null);
    for (let i = 0; i < tries; i++) {
        const late = unlatched();
        const released = late ? Promise.resolve(late) : hw.waitForRelease(o.releaseTimeoutMs ?? 1500);
        const asked = performance.now();
        if (!late && (o.useQr || i >= 2))
            hw.scan(code.qr);
        else if (!late)
            hw.type(code.pin);
        const door = (await released) ?? unlatched();
        const unlockMs = late ? undefined : performance.now() - asked;
        if (door === null) {
            refusals++;
            await sleep(200);
            continue;
        }
        const timing = unlockMs === undefined ? {} : { unlockMs };
        if (door !== expected && !o.acceptAnyDoor)
            return { ok: false, problem: `door ${door} opened, expected ${expected}`, refusals, ...timing };
        if (!hw.openDoor(door))
            return { ok: false, problem: `door ${door} would not open`, refusals, ...timing };
        await sleep(o.holdMs ?? 5);
        hw.closeDoor(door);
        return { ok: true, refusals, door, ...timing };
    }
    return { ok: false, problem: 'no door opened on any try', refusals };
}
/** The recipient waits for the pickup code to arrive (the notification), then returns it. */
export function awaitPickupCode(api, parcelId, timeoutMs = 60_000, pollMs = 50) {
    return awaitCode(api, parcelId, 'pickup_code', timeoutMs, pollMs);
}
/**
 * Waits for a code notification of a kind (`pickup_code` for the recipient, `collection_code` for the carrier).
 * A look-up that still finds no server after the client's own retries (a restart longer than they last) is
 * only a look-up that found nothing yet: the person keeps checking until their deadline, then reports why.
 */
export async function awaitCode(api, parcelId, kind, timeoutMs = 60_000, pollMs = 50) {
    const until = Date.now() + timeoutMs;
    // Asking less and less often: thousands of recipients polling at a fixed pace would be most of a server's load.
    const maxWait = Math.max(pollMs, pollMs >= 250 ? 2000 : 500);
    let unanswered = null;
    for (let wait = pollMs; Date.now() < until; wait = Math.min(maxWait, wait * 1.5)) {
        try {
            const { notifications } = await api.get(`/v1/parcels/${parcelId}/notifications`);
            unanswered = null;
            const n = notifications.find((x) => x.kind === kind);
            if (n)
                return n.code;
        }
        catch (err) {
            if (!isRetryableRead(err))
                throw err;
            unanswered = err;
        }
        await sleep(wait);
    }
    if (unanswered !== null)
        throw unanswered;
    return null;
}
//# sourceMappingURL=people.js.map