import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, copyFileSync } from 'node:fs';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { raiseAlarm } from '../../server/alarms/raise-alarm.js';
import { registerLocker } from '../../server/lockers/register-locker.js';
import { launchBrowser, type Browser } from './browser.js';
import { insertFleet, type BulkLocker } from './bulk-fleet.js';

/** The operator's cockpit on a fleet of 10,000 lockers: map, server-side paging and sorting, charts, alarms, parcels, remote open. */
const FLEET = 10_000;
let t: TestServer;
let b: Browser;
let fleet: BulkLocker[];
let lisbon: string;
const SAVE = process.env.SAVE_DASHBOARD_SHOTS;

const shot = async (name: string, fullPage = false) => {
  const file = await b.shot(name, fullPage);
  if (SAVE) {
    mkdirSync(SAVE, { recursive: true });
    copyFileSync(file, `${SAVE}/${name}.png`);
  }
};

beforeAll(async () => {
  t = await startTestServer({ lockerOfflineAlarmSec: 7 * 86_400 });
  const browser = launchBrowser();
  browser.catch(() => undefined);
  fleet = await insertFleet(t.server.ctx.db, FLEET, Date.now());
  // The fullest locker (every compartment in use) and one far from the others (alone on the map, not clustered).
  for (const size of ['S', 'S', 'M', 'L']) await t.api.post('/v1/parcels', { lockerId: fleet[4242]!.id, size, recipient: { email: 'r@x.example' }, reference: `FULL-${size}` });
  lisbon = (await registerLocker(t.server.ctx, { name: 'Lisboa Oriente', location: { lat: 38.77, lon: -9.1 }, compartments: [{ id: 'A1', size: 'S' }, { id: 'A2', size: 'M' }] }, 'admin:admin')).lockerId;
  await t.server.ctx.db.transaction().execute((trx) => raiseAlarm(trx, { lockerId: lisbon, compartmentId: 'A1', kind: 'lock_jam', at: Date.now() - 3 * 3_600_000 }));
  const booked = await t.api.post<{ id: string }>('/v1/parcels', { lockerId: lisbon, size: 'S', recipient: { email: 'r@x.example' }, reference: 'COCKPIT-7' });
  expect(booked.id).toMatch(/^p_/);
  await t.server.scheduler.runOnce();
  b = await browser;
  b.page.on('pageerror', (err) => console.log(`page error: ${err.message}`));
  b.page.on('console', (m) => m.type() === 'error' && console.log(`console: ${m.text()}`));
  const operator = await t.api.post<{ token: string }>('/v1/accounts', { name: 'Cockpit operator', role: 'operator' });
  await b.page.goto(`${t.httpUrl}/dashboard/`);
  await b.page.getByLabel('Operator or admin token').fill(operator.token);
  await b.page.getByRole('button', { name: 'Sign in' }).click();
  await b.page.locator('#live-status[data-state="live"]').waitFor();
}, 60_000);

afterAll(async () => {
  await b?.close();
  await t?.close();
});

const rows = () => b.page.locator('#fleet-table tbody tr');

describe('the cockpit in headless Chromium, 10,000 lockers', () => {
  it('shows every locker on a map without tiles (plain background), in clusters, and a click opens the locker', async () => {
    const page = b.page;
    const map = page.locator('#fleet-map');
    await page.locator(`#fleet-map[data-markers="${FLEET + 1}"]`).waitFor({ timeout: 15_000 });
    expect(await map.getAttribute('class')).toContain('no-tiles');
    expect(await page.locator('#fleet-map img.leaflet-tile').count()).toBe(0);
    // The clusters are drawn a frame after the markers are counted: under load that can be later than this line.
    await expect.poll(() => page.locator('#fleet-map .marker-cluster').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await shot('cockpit-01-fleet');
    // Lisbon is alone: a single marker, not a cluster. Its click opens the locker page.
    await page.locator('#fleet-map path.leaflet-interactive').first().click();
    await expect.poll(() => page.evaluate('location.hash')).toBe(`#/lockers/${lisbon}`);
    await page.locator('#locker-h', { hasText: 'Lisboa Oriente' }).waitFor();
  });

  it('pages and sorts the fleet on the server: 50 rows a page, fullest first, next page, CSV of the filter', async () => {
    const page = b.page;
    await page.locator('#nav a[data-view="fleet"]').click();
    await expect.poll(() => rows().count()).toBe(50);
    expect(await page.locator('#fleet-table tbody tr').first().locator('th a').textContent()).toBe('Bulk 000000');
    const started = Date.now();
    await page.locator('th[data-sort="occupancy"] button').click();
    await page.locator('th[data-sort="occupancy"][aria-sort="descending"]').waitFor();
    await expect.poll(() => rows().first().getAttribute('data-id')).toBe(fleet[4242]!.id);
    console.log(`sorting ${FLEET} lockers by occupancy, first page shown in ${Date.now() - started} ms`);
    await rows().first().getByText('4 of 4 in use').waitFor();
    const firstPage = await rows().evaluateAll((trs) => trs.map((tr) => (tr as unknown as { dataset: { id: string } }).dataset.id));
    await page.locator('#fleet-next').click();
    await page.locator('#fleet-page', { hasText: 'Page 2' }).waitFor();
    const secondPage = await rows().evaluateAll((trs) => trs.map((tr) => (tr as unknown as { dataset: { id: string } }).dataset.id));
    expect(secondPage).toHaveLength(50);
    expect(secondPage.filter((id) => firstPage.includes(id))).toEqual([]);
    await page.locator('#fleet-prev').click();
    await page.locator('#fleet-page', { hasText: 'Page 1' }).waitFor();
    await page.locator('#fleet-status').selectOption('alarms');
    await expect.poll(() => rows().count()).toBe(1);
    const download = page.waitForEvent('download');
    await page.locator('#fleet-export').click();
    const csv = await (await download).createReadStream().then(async (s) => {
      let text = '';
      for await (const chunk of s) text += String(chunk);
      return text;
    });
    expect(csv.trim().split('\r\n')).toHaveLength(2);
    expect(csv).toContain('Lisboa Oriente');
    await page.locator('#fleet-status').selectOption('all');
    await shot('cockpit-02-fleet-sorted');
  });

  it('draws the charts from the aggregates, fleet-wide and for one locker', async () => {
    const page = b.page;
    await page.locator('#fleet-charts figure').first().waitFor();
    expect(await page.locator('#fleet-charts figure').count()).toBe(3);
    expect(await page.locator('#fleet-charts canvas').count()).toBeGreaterThanOrEqual(3);
    await page.locator('#fleet-charts .sr-only', { hasText: 'Bookings: 5' }).waitFor({ state: 'attached' });
    await page.goto(`${t.httpUrl}/dashboard/#/lockers/${lisbon}`);
    await page.locator('#locker-charts figure').nth(2).waitFor();
    await page.locator('#locker-charts .sr-only', { hasText: 'Bookings: 1' }).waitFor({ state: 'attached' });
    await page.locator('#locker-charts figure').nth(1).scrollIntoViewIfNeeded();
    await shot('cockpit-03-locker-charts');
  });

  it('asks for confirmation before a remote open, and sends nothing when declined', async () => {
    const page = b.page;
    const commands = async () => (await t.api.get<{ commands: unknown[] }>(`/v1/lockers/${lisbon}/commands`)).commands.length;
    const before = await commands();
    await page.locator('#cmd-compartment').selectOption('A2');
    await page.locator('#cmd-reason').fill('Customer locked out');
    page.once('dialog', (d) => {
      expect(d.type()).toBe('confirm');
      expect(d.message()).toContain('Open compartment A2 remotely now?');
      expect(d.message()).toContain('Customer locked out');
      void d.dismiss();
    });
    await page.locator('#cmd-open').click();
    await page.locator('#cmd-result', { hasText: 'not sent' }).waitFor();
    expect(await commands()).toBe(before);
    page.once('dialog', (d) => void d.accept());
    await page.locator('#cmd-reason').fill('Customer locked out');
    await page.locator('#cmd-open').click();
    await page.locator('#cmd-result', { hasText: 'Remote open of A2 sent' }).waitFor();
    expect(await commands()).toBe(before + 1);
  });

  it('filters alarms by kind and locker, shows age and severity, and acknowledges with a note', async () => {
    const page = b.page;
    await page.getByRole('link', { name: /Alarms/ }).click();
    await page.locator('#alarm-kind').selectOption('lock_jam');
    await page.locator('#alarm-locker').fill('Lisboa');
    const row = page.locator('#alarm-table tbody tr');
    await expect.poll(() => row.count()).toBe(1);
    await row.first().locator('[data-col="age"]', { hasText: '3 h' }).waitFor();
    await row.first().locator('[data-col="kind"][data-severity="warning"]').waitFor();
    page.once('dialog', (d) => void d.accept('Technician booked for Monday'));
    await row.first().getByRole('button', { name: /^Acknowledge/ }).click();
    await page.locator('#alarm-result', { hasText: 'Acknowledged' }).waitFor();
    const alarm = (await t.api.get<{ items: { note: string | null; state: string }[] }>(`/v1/alarms?lockerId=${lisbon}&kind=lock_jam`)).items[0]!;
    expect(alarm).toMatchObject({ state: 'acknowledged', note: 'Technician booked for Monday' });
    await row.first().getByText('Technician booked for Monday').waitFor();
    await shot('cockpit-04-alarms');
  });

  it('searches parcels by reference and status, and opens the parcel page with its timeline and deadlines', async () => {
    const page = b.page;
    await page.getByRole('link', { name: 'Parcels' }).click();
    await page.locator('#ps-reference').fill('COCKPIT');
    await page.locator('#ps-status').selectOption('booked');
    await page.locator('#parcel-search').getByRole('button', { name: 'Search' }).click();
    const link = page.locator('#parcel-list tbody tr th a');
    await expect.poll(() => link.count()).toBe(1);
    await shot('cockpit-05-parcels');
    await link.click();
    await page.locator('#parcel-timeline li', { hasText: 'booked' }).waitFor();
    await page.locator('#parcel-facts dt', { hasText: 'Pickup deadline' }).waitFor();
    await page.locator('#parcel-facts a', { hasText: 'Lisboa Oriente' }).waitFor();
    await page.locator('#ps-status').selectOption('picked_up');
    await page.locator('#parcel-search').getByRole('button', { name: 'Search' }).click();
    await page.locator('#parcel-count', { hasText: '0 parcels' }).waitFor();
  });
});
