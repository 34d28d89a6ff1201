import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RolloutView } from '../../shared/api/firmware.js';
import { DeviceLinks } from '../../server/firmware/device-links.js';
import { registerLocker, startTestServer, type RegisteredLocker, type TestServer } from '../helpers/test-server.js';
import { accountWithPassword, send } from '../accounts/session-helpers.js';
import { signedUpload, vendorKeys } from '../firmware/firmware-fixture.js';
import { launchBrowser, type Browser } from './browser.js';

/**
 * The rollout view in headless Chromium: four enrolled lockers that never answer on MQTT, in two waves of two; the
 * first wave's lockers report through their device links (one applied the update, one failed), so the rollout is
 * in its second wave with 1 updated, 1 failed and 2 in progress when the page opens. An admin signs in with a
 * password (cookie + CSRF), reads the list and the progress, pauses and resumes with a reason.
 */
const PASSWORD = 'waves of new firmware';
let t: TestServer;
let b: Browser;
let lockers: RegisteredLocker[];
let rolloutId: string;

const admin = { token: '' };
const AXE = readFileSync(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');

/** axe-core (WCAG 2.x A and AA) finds nothing in the rollouts view as it is now. */
async function axe(name: string): Promise<void> {
  const page = b.page;
  if (!(await page.evaluate("'axe' in window"))) await page.evaluate(AXE);
  // A string: the page's DOM types are not in this project's lib.
  const violations = (await page.evaluate(`axe
    .run('#view-rollouts', { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } })
    .then((r) => r.violations.map((v) => v.id + ': ' + v.nodes.map((n) => JSON.stringify(n.target)).join(' ')))`)) as string[];
  expect(violations, `axe on ${name}`).toEqual([]);
}
const rollout = async () => (await send(t, 'GET', `/v1/rollouts/${rolloutId}`, admin)).body as unknown as RolloutView;

beforeAll(async () => {
  const browser = launchBrowser();
  browser.catch(() => undefined); // awaited below; a missing Chromium fails the suite there
  const vendor = vendorKeys();
  t = await startTestServer({ passwordScryptLogN: 10, firmwarePublicKey: vendor.x });
  admin.token = t.server.adminToken;
  await accountWithPassword(t, 'admin', 'Captain', PASSWORD);
  lockers = [];
  for (let i = 0; i < 4; i++) lockers.push(await registerLocker(t.api));
  expect((await send(t, 'POST', '/v1/firmware', admin, signedUpload('2.0.0', vendor.privateKey))).status).toBe(201);
  const ids = lockers.map((l) => l.id).sort();
  const created = await send(t, 'POST', '/v1/rollouts', admin, {
    version: '2.0.0',
    waves: [ids.slice(0, 2), ids.slice(2)],
    healthGate: { deadlineSec: 600, maxFailedPct: 100, maxAlarmIncrease: 100 },
    reason: 'fleet to 2.0.0',
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  rolloutId = created.body.id as string;

  // The first wave is sent; its lockers report at the links of their command, as an agent does.
  const db = t.server.ctx.db;
  const sent = async () => db.selectFrom('rollout_lockers').selectAll().where('rollout_id', '=', rolloutId).where('wave', '=', 0).where('state', '=', 'sent').execute();
  const tick = () => t.server.scheduler.runOnce();
  await vi.waitFor(async () => (await tick(), expect(await sent()).toHaveLength(2)), { timeout: 5000, interval: 50 });
  const links = new DeviceLinks(t.server.ctx.pinSecret);
  const [good, bad] = await sent();
  for (const [row, report] of [
    [good!, { state: 'applied', version: '2.0.0' }],
    [bad!, { state: 'failed', reason: 'HASH_MISMATCH' }],
  ] as const) {
    const query = links.query('update-report', row.locker_id, row.command_id!, row.deadline_at!);
    expect((await send(t, 'POST', `/v1/device/updates/${row.command_id}/report?${query}`, {}, report)).status).toBe(204);
  }
  await vi.waitFor(async () => (await tick(), expect(await rollout()).toMatchObject({ state: 'running', wave: 1, target: 4, updated: 1, failed: 1, inProgress: 2 })), { timeout: 5000, interval: 50 });

  b = await browser;
  b.page.setDefaultTimeout(8000);
  b.page.on('pageerror', (err) => console.log(`page error: ${err.message}`));
  b.page.on('console', (m) => m.type() === 'error' && console.log(`console: ${m.text()}`));
  console.log(`rollout screenshots: ${b.shots}`);
}, 30_000);

afterAll(async () => {
  await b?.close();
  await t?.close();
});

describe('firmware rollouts in headless Chromium', () => {
  it('lists the rollout with its state, wave and counts (admin nav link)', async () => {
    const page = b.page;
    await page.goto(`${t.httpUrl}/dashboard/`);
    const form = page.locator('#signin-form');
    await form.getByLabel('Name', { exact: true }).fill('Captain');
    await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.locator('#live-status[data-state="live"]').waitFor();
    await page.getByRole('link', { name: 'Rollouts' }).click();
    const row = page.locator(`#rollouts-table tbody tr[data-id="${rolloutId}"]`);
    await row.waitFor();
    expect(await row.locator('th a').textContent()).toBe('2.0.0');
    expect(await row.locator('td[data-col="state"]').textContent()).toBe('running');
    expect(await row.locator('td[data-col="wave"]').textContent()).toBe('2 of 2');
    expect(await row.locator('td[data-col="progress"] .counts').textContent()).toBe('1 / 4 updated, 1 failed');
    expect(await page.locator('#nav a[data-view="rollouts"]').getAttribute('aria-current')).toBe('page');
    // Read again every few seconds, patched in place: a focused link keeps its focus.
    await row.locator('th a').focus();
    await page.waitForResponse((r) => r.url().endsWith('/v1/rollouts') && r.ok(), { timeout: 5000 });
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(resolve))');
    expect(await page.evaluate('document.activeElement.getAttribute("href")')).toBe(`#/rollouts/${rolloutId}`);
    await axe('list');
    await b.shot('rollouts-01-list', true);
  });

  it('shows the progress overall and per wave, and each locker with its state and detail', async () => {
    const page = b.page;
    await page.locator(`#rollouts-table a[href="#/rollouts/${rolloutId}"]`).click();
    await page.locator('#rollouts-h', { hasText: 'Rollout of 2.0.0' }).waitFor();
    expect(await page.locator('#rollout-facts dd[data-fact="Wave"]').textContent()).toBe('2 of 2 (groups of 2, 2 lockers)');
    const summary = page.getByRole('status').filter({ hasText: 'wave 2 of 2' });
    expect(await summary.textContent()).toBe('running, wave 2 of 2: 1 of 4 lockers updated, 1 failed, 2 in progress.');
    const bar = page.locator('#rollout-bar');
    expect([await bar.getAttribute('value'), await bar.getAttribute('max')]).toEqual(['1', '4']);
    const waves = page.getByRole('list', { name: 'Waves' }).getByRole('listitem');
    expect(await waves.allTextContents()).toEqual(['Wave 1 of 2 (done): 1 of 2 lockers updated, 1 failed', 'Wave 2 of 2 (current): 0 of 2 lockers updated, 0 failed, 2 in progress']);
    expect(await page.getByRole('progressbar', { name: /^Wave 1 of 2/ }).getAttribute('value')).toBe('1');

    const rows = page.locator('#rollout-lockers tbody tr');
    await expect.poll(() => rows.count()).toBe(4);
    const states = await rows.evaluateAll((trs) => trs.map((tr) => [tr.querySelector('[data-col="state"]')!.textContent, tr.querySelector('[data-col="detail"]')!.textContent]));
    expect(states).toEqual([['updated', '–'], ['failed', 'HASH_MISMATCH'], ['sent', '–'], ['sent', '–']]);
    const first = lockers.map((l) => l.id).sort()[0]!;
    expect(await rows.first().locator('th a').getAttribute('href')).toBe(`#/lockers/${first}`);
    // Running: pause, abort and roll back are offered; resume is not.
    const actions = page.getByRole('group', { name: 'Act on the rollout' }).getByRole('button');
    expect(await actions.allTextContents()).toEqual(['Pause', 'Abort', 'Roll back']);
    await axe('rollout page');
    await b.shot('rollouts-02-page', true);
  });

  it('pauses after a confirmation with a reason (none: nothing is sent), then resumes', async () => {
    const page = b.page;
    await page.getByRole('button', { name: 'Pause the rollout of 2.0.0' }).click();
    const dialog = page.getByRole('dialog', { name: 'Pause the rollout of 2.0.0?' });
    await dialog.waitFor();
    expect(await page.evaluate('document.activeElement.id')).toBe('rollout-reason');
    await dialog.getByRole('button', { name: 'Pause rollout' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'Give a reason' }).waitFor();
    expect((await rollout()).state).toBe('running');
    await axe('pause dialog');
    await b.shot('rollouts-03-pause-dialog');
    await dialog.getByLabel('Reason for this rollout action (kept in the audit log)').fill('field team reports odd door behaviour');
    await page.keyboard.press('Enter');
    await page.locator('#rollouts-result', { hasText: 'the rollout of 2.0.0 is now paused' }).waitFor();
    expect(await dialog.isHidden()).toBe(true);
    expect((await rollout()).state).toBe('paused');
    await page.locator('#rollout-summary', { hasText: /^paused, wave 2 of 2/ }).waitFor();
    const actions = page.getByRole('group', { name: 'Act on the rollout' }).getByRole('button');
    expect(await actions.allTextContents()).toEqual(['Resume', 'Abort', 'Roll back']);
    const audit = await t.server.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'rollout.pause').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ reason: 'field team reports odd door behaviour', result: 'done' });

    // Abort, then changed one's mind: Escape closes the dialog and nothing happens.
    await page.getByRole('button', { name: 'Abort the rollout of 2.0.0' }).click();
    await page.getByRole('dialog', { name: 'Abort the rollout of 2.0.0?' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    expect((await rollout()).state).toBe('paused');

    await page.getByRole('button', { name: 'Resume the rollout of 2.0.0' }).click();
    const resume = page.getByRole('dialog', { name: 'Resume the rollout of 2.0.0?' });
    await resume.getByLabel('Reason for this rollout action (kept in the audit log)').fill('door issue was a loose cable');
    await resume.getByRole('button', { name: 'Resume rollout' }).click();
    await page.locator('#rollout-summary', { hasText: /^running, wave 2 of 2/ }).waitFor();
    expect((await rollout()).state).toBe('running');
    expect(await actions.allTextContents()).toEqual(['Pause', 'Abort', 'Roll back']);
  });

  it('follows changes made elsewhere while open, and stops asking once left', async () => {
    const page = b.page;
    const link = page.locator('#rollout-lockers tbody tr').last().locator('th a');
    await link.focus();
    expect((await send(t, 'POST', `/v1/rollouts/${rolloutId}/pause`, admin, { reason: 'paused from a script' })).status).toBe(200);
    await page.locator('#rollout-summary', { hasText: /^paused, wave 2 of 2/ }).waitFor({ timeout: 6000 });
    expect(await page.evaluate('document.activeElement.getAttribute("href")')).toBe(await link.getAttribute('href'));
    await page.locator('#nav a[data-view="fleet"]').click();
    await page.locator('#view-fleet').waitFor();
    const asked: string[] = [];
    page.on('request', (r) => r.url().includes('/v1/rollouts') && asked.push(r.url()));
    await new Promise((resolve) => setTimeout(resolve, 2800));
    expect(asked).toEqual([]);
  });
});
