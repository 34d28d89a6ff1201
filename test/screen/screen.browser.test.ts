/**
 * The locker screen in real Chromium against a real server and a real agent on simulated hardware: every flow
 * entirely through the screen (doors played by the simulated hardware, as a person at the locker would), and
 * axe-core on every screen state. With SCREEN_SHOTS=<folder> (npm run screenshots:screen) it also saves a
 * screenshot of each state at 1080×1920 (portrait) and 1280×800.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derivePin } from '../../server/codes/pins.js';
import { launchBrowser, type Browser } from '../dashboard/browser.js';
import { IdleClock, startScreenFixture, type ScreenFixture } from './screen-fixture.js';

const AXE = readFileSync(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
const SHOTS = process.env.SCREEN_SHOTS;
const VIEWPORTS = [
  { width: 1080, height: 1920 },
  { width: 1280, height: 800 },
];

let f: ScreenFixture;
let browser: Browser;
let page: Page;
const clock = new IdleClock();
const checked = new Set<string>();

beforeAll(async () => {
  [f, browser] = await Promise.all([
    startScreenFixture({
      compartments: [
        { id: 'A1', size: 'S' },
        { id: 'A2', size: 'S' },
        { id: 'A3', size: 'S' },
        { id: 'A4', size: 'S' },
        { id: 'B1', size: 'M' },
        { id: 'B2', size: 'M' },
        { id: 'C1', size: 'L' },
      ],
      lowCompartments: ['A4', 'B2'],
      screenClock: clock,
      reopenWindowSec: 60,
    }),
    launchBrowser(),
  ]);
  page = browser.page;
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(f.screen.url);
  await page.waitForSelector('body[data-view="idle"]');
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await f?.closeAll();
});

async function view(kind: string): Promise<void> {
  await expect.poll(() => page.locator('body').getAttribute('data-view'), { message: `the ${kind} view` }).toBe(kind);
}

const heading = () => page.locator('#heading').textContent();
const prompt = () => page.locator('#prompt').textContent();

/** axe-core (WCAG 2.0–2.2 A and AA rules) finds nothing on the page as it is; and a screenshot when asked. */
async function check(name: string): Promise<void> {
  if (!(await page.evaluate("'axe' in window"))) await page.evaluate(AXE);
  // A string: the page's DOM types are not in this project's lib.
  const violations = (await page.evaluate(`axe
    .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } })
    .then((r) => r.violations.map((v) => v.id + ': ' + v.nodes.map((n) => JSON.stringify(n.target)).join(' ')))`)) as string[];
  expect(violations, `axe on ${name}`).toEqual([]);
  checked.add(name);
  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    for (const vp of VIEWPORTS) {
      await page.setViewportSize(vp);
      await page.screenshot({ path: path.join(SHOTS, `${name}-${vp.width}x${vp.height}.png`) });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  }
}

/** Back to the start from a finished flow or an error, with the screen's own buttons. */
async function toStart(): Promise<void> {
  const kind = await page.locator('body').getAttribute('data-view');
  if (kind === 'done') await page.getByTestId('done').click();
  else if (kind !== 'idle') await page.getByRole('button', { name: 'Back to start' }).click();
  await view('idle');
}

/** Types a code on the on-screen keypad with the mouse (finger) and presses Open. */
async function tapCode(code: string): Promise<void> {
  await toStart();
  await page.getByTestId('start').click();
  await view('code');
  for (const d of code) await page.getByRole('button', { name: `Digit ${d}`, exact: true }).click();
  await page.getByTestId('code-ok').click();
}

/** Types a code with the keyboard only (Tab to the button, Enter), as a person with a keyboard or switch would. */
async function keyCode(code: string): Promise<void> {
  await toStart();
  await page.getByTestId('start').focus();
  await page.keyboard.press('Enter');
  await view('code');
  await expect.poll(() => page.evaluate('document.activeElement && document.activeElement.id')).toBe('code-input');
  await page.keyboard.type(code);
  await page.keyboard.press('Enter');
}

async function pickupPin(parcelId: string): Promise<string> {
  const ctx = f.t.server.ctx;
  const g = await ctx.db.selectFrom('grants').select('jti').where('parcel_id', '=', parcelId).where('action', '=', 'pickup').executeTakeFirstOrThrow();
  return derivePin(ctx.pinSecret, g.jti, ctx.config.pinLength);
}

/** The person pulls the released door (the screen then says to close it), then pushes it shut. */
async function useDoor(id: string, shot?: string): Promise<void> {
  expect(f.locker.hardware.openDoor(id)).toBe(true);
  await view('closeDoor');
  if (shot) await check(shot);
  f.locker.hardware.closeDoor(id);
}

describe('the locker screen in Chromium', () => {
  let parcelId = '';
  let pin = '';

  it('start screen, then a deposit entirely through the screen: keypad, the door drawn in the grid, done', async () => {
    expect(await heading()).toBe('Welcome');
    await check('start');
    const parcel = await f.book('SCREEN-1');
    parcelId = parcel.id;
    await f.synced();
    await page.getByTestId('start').click();
    await view('code');
    await check('code-entry');
    await page.getByTestId('code-ok').focus();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await view('idle');
    await tapCode(parcel.dropoff.pin);
    await view('open');
    expect(await heading()).toBe(`Door ${parcel.compartmentId} is open`);
    expect(await page.locator(`[data-cell="${parcel.compartmentId}"]`).getAttribute('class')).toContain('open');
    expect(await page.locator('.cell.open').count()).toBe(1);
    await check('door-open');
    await useDoor(parcel.compartmentId, 'deposit-close-door');
    await view('done');
    expect(await heading()).toBe(`Thank you! The parcel is in compartment ${parcel.compartmentId}.`);
    await check('deposit-done');
    await page.getByTestId('done').click();
    await view('idle');
  });

  it('a pickup through the screen: "take your parcel and close the door", then done; the code on the screen is gone', async () => {
    await expect.poll(async () => (await f.read(parcelId)).status).toBe('in_locker');
    await f.synced();
    pin = await pickupPin(parcelId);
    await keyCode(pin);
    await view('open');
    expect(await page.locator('#code-input').count()).toBe(0);
    expect(await page.content()).not.toContain(pin);
    f.locker.hardware.openDoor('A1');
    await view('closeDoor');
    expect(await prompt()).toBe('Take your parcel and close door A1.');
    await check('pickup-close-door');
    f.locker.hardware.closeDoor('A1');
    await view('done');
    expect(await heading()).toBe('Thank you! Door A1 is closed.');
    await check('pickup-done');
    await expect.poll(async () => (await f.read(parcelId)).status).toBe('picked_up');
  });

  it('reopen once: the same code opens the door once more (recorded, no second pickup), a third time it is "already used"', async () => {
    await page.getByTestId('done').click();
    await view('idle');
    await keyCode(pin);
    await view('open');
    expect(await prompt()).toContain('one extra opening');
    await check('reopen');
    await useDoor('A1');
    await view('done');
    await keyCode(pin);
    await view('error');
    expect(await prompt()).toBe('This code was already used.');
    await check('error-code-used');
    expect(f.locker.tap.byType.get('door.reopened')).toBe(1);
    expect(f.locker.tap.byType.get('parcel.picked_up')).toBe(1);
    await expect.poll(async () => (await f.read(parcelId)).history.filter((h) => h.type === 'picked_up').length).toBeLessThanOrEqual(1);
    await page.getByRole('button', { name: 'Back to start' }).click();
    await view('idle');
  });

  it('a batch of three: "parcel 1 of 3", one does not fit (a larger door opens), skip, and the count at the end', async () => {
    const parcels = [await f.book('BATCH-S1'), await f.book('BATCH-S2'), await f.book('BATCH-S3')];
    const session = await f.t.api.post<{ code: { pin: string } }>(`/v1/lockers/${f.locker.id}/deposit-sessions`, { parcelIds: parcels.map((p) => p.id) });
    await f.synced();
    const [first, second, third] = parcels.map((p) => p.compartmentId);
    await keyCode(session.code.pin);
    await view('open');
    expect(await prompt()).toContain('Parcel 1 of 3');
    expect(f.locker.hardware.openDoor(first ?? '')).toBe(true);
    await view('closeDoor');
    await page.getByTestId('does-not-fit').click();
    f.locker.hardware.closeDoor(first ?? '');
    await view('open');
    const moved = await page.locator('.cell.open').textContent();
    expect(['B1', 'B2', 'C1']).toContain(moved);
    expect(await prompt()).toContain(`Compartment ${first} was too small: use door ${moved} instead.`);
    await check('batch-moved');
    await useDoor(moved ?? '');
    await view('batchNext');
    expect(await heading()).toBe(`Next: parcel 2 of 3, door ${second}`);
    await check('batch-next');
    await page.getByTestId('batch-skip').click();
    await expect.poll(heading).toBe(`Next: parcel 3 of 3, door ${third}`);
    await page.getByTestId('batch-next').click();
    await view('open');
    await useDoor(third ?? '');
    await view('done');
    expect(await heading()).toBe('Thank you! 2 parcels are in.');
    await check('batch-done');
    await expect.poll(async () => (await f.read(parcels[0]?.id ?? '')).compartmentId).toBe(moved);
    expect((await f.read(parcels[1]?.id ?? '')).status).not.toBe('in_locker');
  });

  it('language switch: Polish, German and Chinese from the catalogues; idle returns to the start in the default language', async () => {
    await page.getByRole('button', { name: 'Done' }).click();
    await view('idle');
    await page.locator('[data-lang="pl"]').click();
    await expect.poll(heading).toBe('Witamy');
    expect(await page.locator('html').getAttribute('lang')).toBe('pl');
    await check('start-pl');
    await page.locator('[data-lang="de"]').click();
    await expect.poll(heading).toBe('Willkommen');
    await page.locator('[data-lang="zh"]').click();
    await expect.poll(heading).toBe('欢迎');
    await page.getByTestId('start').click();
    await view('code');
    await check('code-entry-zh');
    await page.locator('#code-input').fill('1234');
    // "More time", then nobody touches the screen: back to the start, code gone, English again.
    await page.locator('#more-time').click();
    clock.fireLong();
    await view('idle');
    await expect.poll(heading).toBe('Welcome');
    expect(await page.locator('#code-input').count()).toBe(0);
  });

  it('offline: the screen shows the mark and a pickup works with the server unreachable', async () => {
    const parcel = await f.book('OFFLINE-1');
    await f.synced();
    expect(await f.locker.agent.enterCode(parcel.dropoff.pin, 'keypad')).toEqual({ opened: parcel.compartmentId });
    f.cycle(parcel.compartmentId);
    await expect.poll(async () => (await f.read(parcel.id)).status).toBe('in_locker');
    await f.synced();
    const code = await pickupPin(parcel.id);
    await page.getByTestId('done').click().catch(() => undefined);
    f.locker.proxy.cut();
    await expect.poll(() => page.locator('#offline').isVisible(), { timeout: 10_000 }).toBe(true);
    await view('idle');
    await check('start-offline');
    await keyCode(code);
    await view('open');
    await useDoor(parcel.compartmentId);
    await view('done');
    f.locker.proxy.restore();
    await expect.poll(() => page.locator('#offline').isVisible(), { timeout: 10_000 }).toBe(false);
    await expect.poll(async () => (await f.read(parcel.id)).status, { timeout: 10_000 }).toBe('picked_up');
  });

  it('wrong codes: attempts left in words, then the keypad locked with the time until it unlocks', async () => {
    await page.getByTestId('done').click();
    await view('idle');
    for (let left = 4; left >= 1; left--) {
      await keyCode('11111111');
      await view('error');
      expect(await prompt()).toBe(`Wrong code. Attempts left before the keypad locks: ${left}.`);
      if (left === 4) await check('error-wrong-code');
      await page.getByRole('button', { name: 'Back to start' }).click();
      await view('idle');
    }
    await keyCode('11111111');
    await expect.poll(prompt).toMatch(/^Too many wrong codes\. The keypad is locked for (29|30) s\. A QR code still works\.$/);
    await check('error-keypad-locked');
    // Try again while locked: the screen says so before any code is typed.
    await page.getByTestId('retry').click();
    await expect.poll(prompt).toMatch(/keypad is locked/);
  });

  it('axe-core checked every screen state', () => {
    for (const s of ['start', 'code-entry', 'door-open', 'deposit-close-door', 'deposit-done', 'pickup-close-door', 'reopen', 'error-code-used', 'batch-moved', 'batch-next', 'batch-done', 'start-pl', 'start-offline', 'error-wrong-code', 'error-keypad-locked']) {
      expect(checked, s).toContain(s);
    }
  });
});
