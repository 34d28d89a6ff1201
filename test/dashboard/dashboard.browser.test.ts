import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import { encode } from '../../shared/codec.js';
import { topics } from '../../shared/topics.js';
import type { EventBatchMessage } from '../../shared/messages.js';
import { registerLocker } from '../../server/lockers/register-locker.js';
import { startSimLocker, type InProcessLocker } from '../../simulator/fleet.js';
import { seededRandom } from '../../simulator/random.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { launchBrowser, type Browser } from './browser.js';

type Booked = { id: string; compartmentId: string; dropoff: { pin: string } };

const BURST = 1000;

let t: TestServer;
let b: Browser;
let north: InProcessLocker;
let south: InProcessLocker;
const quiet: string[] = [];

beforeAll(async () => {
  t = await startTestServer();
  const sim = (name: string, lat: number, lon: number, seed: number) =>
    startSimLocker({ api: t.api, name, location: { lat, lon }, dataDir: t.dir, clock: systemClock, random: seededRandom(seed) });
  [north, south] = await Promise.all([sim('Północ Station', 52.29, 21.0, 1), sim('Mokotów Mall', 52.19, 21.02, 2)]);
  const browser = launchBrowser();
  browser.catch(() => undefined); // awaited below; a missing Chromium fails the suite there
  // A thousand more lockers without agents (they only "send" events in the burst below), registered through the
  // domain function: the HTTP route would spend most of the test's time budget on a thousand commits.
  for (let i = 0; i < BURST; i++) {
    const reg = {
      name: `Kiosk ${String(i + 1).padStart(4, '0')}`,
      location: { lat: 52.1 + (i % 40) * 0.006, lon: 20.85 + Math.floor(i / 40) * 0.013 },
      compartments: [{ id: 'A1', size: 'S' as const }, { id: 'B1', size: 'M' as const }],
    };
    quiet.push((await registerLocker(t.server.ctx, reg, 'admin:admin')).lockerId);
  }
  await vi.waitFor(() => expect(north.agent.ready && south.agent.ready, 'both agents configured').toBe(true), { timeout: 10_000, interval: 10 });
  b = await browser;
  // Remote opens ask for confirmation and alarm actions for a note (test/dashboard/cockpit.browser.test.ts): yes, no note.
  b.page.on('dialog', (d) => void d.accept());
  console.log(`dashboard screenshots: ${b.shots}`);
}, 60_000);

afterAll(async () => {
  await b?.close();
  await north?.stop();
  await south?.stop();
  await t?.close();
});

const rowOf = (id: string) => b.page.locator(`#fleet-table tbody tr[data-id="${id}"]`);

describe('operator dashboard in headless Chromium', () => {
  it('shows nothing without a token, refuses a wrong one, and signs in with an operator token', async () => {
    const page = b.page;
    await page.goto(`${t.httpUrl}/dashboard/`);
    await expect(page.locator('#view-signin h1').textContent()).resolves.toBe('Sign in');
    expect(await page.locator('#view-fleet').isHidden()).toBe(true);
    await page.getByLabel('Operator or admin token').fill('not-a-token-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This token was not accepted.').waitFor();
    for (const hidden of ['#nav', '#view-fleet', '#view-alarms', '#live-status']) expect(await page.locator(hidden).isHidden()).toBe(true);
    await b.shot('01-sign-in-refused');

    const operator = await t.api.post<{ token: string }>('/v1/accounts', { name: 'Night shift', role: 'operator' });
    await page.getByLabel('Operator or admin token').fill(operator.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#live-status[data-state="live"]').waitFor();
    await expect(page.locator('#fleet-count').textContent()).resolves.toBe(`${BURST + 2} lockers`);
    await page.locator('#fleet-search').fill('Mokotów');
    // The table is one server page: the search reloads it.
    await rowOf(south.id).waitFor();
    await expect.poll(() => rowOf(north.id).count()).toBe(0);
    await page.locator('#fleet-search').fill('');
    await page.locator('#fleet-status').selectOption('online');
    await page.locator('#fleet-count').getByText('2 of').waitFor();
    await b.shot('02-fleet-online-filter');
    await page.locator('#fleet-status').selectOption('all');
    expect(await page.evaluate('sessionStorage.getItem("lockstep.token")')).toBe(operator.token);
  });

  it('shows a deposit live, patching the locker row in place', async () => {
    const page = b.page;
    // A reconnect of the live stream (a new GET /v1/live) brings a fresh snapshot, after which the table is reloaded
    // by design: counted, so that only such a reload excuses a row built anew.
    let liveConnects = 0;
    const countLive = (r: { url(): string }) => void (r.url().includes('/v1/live') && liveConnects++);
    page.on('request', countLive);
    // The table shows one server page (sorted by name, Kiosks first): find the locker through the search.
    await page.locator('#fleet-search').fill('Północ');
    const row = rowOf(north.id);
    await row.waitFor();
    await row.evaluate((tr: object) => void ((tr as { marked?: boolean }).marked = true));
    const loaded = () => page.locator('#fleet-table').getAttribute('data-loaded');
    const [loadedBefore, liveBefore] = [await loaded(), liveConnects];
    const grants = await north.store.grantCount();
    const booked = await t.api.post<Booked>('/v1/parcels', { lockerId: north.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'DASH-1' });
    await row.getByText('Size S: 2 free, 1 reserved, 0 occupied, 0 out of service').waitFor();
    await expect.poll(async () => (await north.store.grantCount()) === grants + 2, { message: 'the grants to reach the locker' }).toBe(true);
    expect(await north.agent.enterCode(booked.dropoff.pin, 'keypad')).toEqual({ opened: booked.compartmentId });
    north.hardware.openDoor(booked.compartmentId);
    north.hardware.closeDoor(booked.compartmentId);
    await row.getByText('Size S: 2 free, 0 reserved, 1 occupied, 0 out of service').waitFor();
    await expect(page.locator('[data-total="occupied"]').textContent()).resolves.toBe('1');
    // The same row element, patched: no reload, no re-render of the table (unless the live stream reconnected).
    page.off('request', countLive);
    if ((await loaded()) === loadedBefore) expect(await row.evaluate((tr: object) => (tr as { marked?: boolean }).marked)).toBe(true);
    else expect(liveConnects, 'the table was reloaded without a new live snapshot').toBeGreaterThan(liveBefore);
    await b.shot('03-fleet-after-deposit');
  });

  it(`stays responsive while ${BURST} lockers send events at once`, async () => {
    const page = b.page;
    // The longest gap between two animation frames while the burst arrives: the page's responsiveness.
    await page.evaluate(`
      window.maxGap = 0;
      window.lastFrame = performance.now();
      const tick = (now) => {
        window.maxGap = Math.max(window.maxGap, now - window.lastFrame);
        window.lastFrame = now;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    `);
    // Every one of them reports a forced door at once. Delivered through the broker 50 at a time: aedes runs at
    // most 100 deliveries at once, and the event handler's own acknowledgement needs one of those slots.
    const now = Date.now();
    for (let i = 0; i < quiet.length; i += 50) {
      await Promise.all(
        quiet.slice(i, i + 50).map((lockerId, j) => {
          const batch: EventBatchMessage = { v: 1, events: [{ seq: 1, id: `burst${i + j}`, bootId: 'burstboot', at: now, type: 'door.forced_open', compartmentId: 'A1' }] };
          return t.server.ctx.link.publish(topics.events(lockerId), encode(batch), { qos: 1 });
        }),
      );
    }
    await page.locator('[data-total="alarms"]', { hasText: String(BURST) }).waitFor({ timeout: 20_000 });
    await page.locator('#nav-alarms', { hasText: String(BURST) }).waitFor();
    const maxGap = Number(await page.evaluate('window.maxGap'));
    console.log(`longest gap between frames while ${BURST} lockers reported: ${maxGap.toFixed(0)} ms`);
    // Alone the gap is about 200 ms; with the whole suite on both cores it reached 1,217 ms once. The limit is there
    // for a page that freezes for seconds (every event re-rendering the table), not to time the machine.
    expect(maxGap).toBeLessThan(3000);
    await b.shot('04-fleet-after-burst');
  });

  it('acknowledges an alarm from the alarm list', async () => {
    const page = b.page;
    north.hardware.forceOpen('B1');
    await page.getByRole('link', { name: /Alarms/ }).click();
    const ack = page.getByRole('button', { name: 'Acknowledge forced open at Północ Station B1' });
    await ack.waitFor();
    await ack.click();
    await page.getByText('Acknowledged: forced open at Północ Station B1.').waitFor();
    const alarms = await t.api.get<{ items: { compartmentId: string; state: string; acknowledgedBy: string }[] }>(`/v1/alarms?lockerId=${north.id}`);
    expect(alarms.items.find((a) => a.compartmentId === 'B1')).toMatchObject({ state: 'acknowledged', acknowledgedBy: expect.stringMatching(/^operator:/) });
    await b.shot('05-alarm-acknowledged');
    north.hardware.closeDoor('B1');
  });

  it('opens a compartment remotely only with a reason, and shows the result', async () => {
    const page = b.page;
    await page.goto(`${t.httpUrl}/dashboard/#/lockers/${south.id}`);
    await page.locator('#compartments li[data-id="A2"]').waitFor();
    await page.getByLabel('Compartment', { exact: true }).selectOption('A2');
    await page.getByRole('button', { name: 'Open remotely' }).click();
    // The browser refuses the form without a reason: nothing was asked of the server.
    expect(await page.getByLabel('Reason (kept in the audit log)').evaluate((i: object) => (i as { validity: { valueMissing: boolean } }).validity.valueMissing)).toBe(true);
    expect((await t.api.get<{ commands: unknown[] }>(`/v1/lockers/${south.id}/commands`)).commands).toHaveLength(0);

    const released = south.hardware.waitForRelease(10_000);
    await page.getByLabel('Reason (kept in the audit log)').fill('Customer on the phone, app broken');
    await page.getByRole('button', { name: 'Open remotely' }).click();
    await page.getByText(/Remote open of A2 sent/).waitFor();
    expect(await released).toBe('A2');
    south.hardware.openDoor('A2');
    south.hardware.closeDoor('A2');
    await page.locator('#commands tbody td.state[data-state="succeeded"]').waitFor();
    await page.locator('#events tbody th', { hasText: 'command succeeded' }).waitFor();
    await b.shot('06-locker-remote-open', true);
  });

  it('looks up a parcel and its timeline, and fits a phone screen', async () => {
    const page = b.page;
    const parcel = (await t.server.ctx.db.selectFrom('parcels').select('id').where('reference', '=', 'DASH-1').executeTakeFirstOrThrow()).id;
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'Parcels' }).click();
    await page.getByLabel('Parcel id').fill(parcel);
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.locator('#parcel-timeline li', { hasText: 'deposited' }).waitFor();
    await b.shot('07-phone-parcel', true);
    await page.getByRole('link', { name: 'Fleet' }).click();
    await rowOf(north.id).waitFor();
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    expect(overflow).toBeLessThanOrEqual(0);
    await b.shot('08-phone-fleet');
  });
});
