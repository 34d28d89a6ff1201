import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../server/accounts/totp.js';
import { registerLocker, startTestServer, type TestServer } from '../helpers/test-server.js';
import { accountWithPassword, send, signInAs } from '../accounts/session-helpers.js';
import { createAccount } from '../security/api-helpers.js';
import { WebhookReceiver } from '../webhooks/receiver.js';
import { launchBrowser, type Browser } from './browser.js';

const CHIEF_PASSWORD = 'the boss passphrase';

let t: TestServer;
let b: Browser;
let receiver: WebhookReceiver;

beforeAll(async () => {
  const browser = launchBrowser();
  browser.catch(() => undefined); // awaited below; a missing Chromium fails the suite there
  t = await startTestServer({ passwordScryptLogN: 10, webhookMaxAttempts: 1 });
  await accountWithPassword(t, 'admin', 'Chief', CHIEF_PASSWORD);
  // A carrier whose receiver fails: its delivery is dead-lettered after one attempt.
  receiver = await new WebhookReceiver().listen();
  receiver.script('/hook', { status: 500 });
  const carrier = await createAccount(t, 'carrier', 'Courier Co');
  await send(t, 'PUT', `/v1/accounts/${carrier.id}/webhook`, { token: t.server.adminToken }, { url: `${receiver.url}/hook` });
  const locker = await registerLocker(t.api);
  const booked = await send(t, 'POST', '/v1/parcels', { token: carrier.token }, { lockerId: locker.id, size: 'S', recipient: { email: 'r@x.example' }, reference: 'HOOK-1' });
  expect(booked.status).toBe(201);
  await t.server.webhookWorker.runOnce();
  b = await browser;
  b.page.setDefaultTimeout(10_000);
  console.log(`sign-in screenshots: ${b.shots}`);
}, 60_000);

afterAll(async () => {
  await b?.close();
  await receiver?.close();
  await t?.close();
});

async function signInInBrowser(name: string, password: string) {
  const page = b.page;
  const form = page.locator('#signin-form');
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

describe('operator sign-in in headless Chromium', () => {
  it('signs in with name and password: an HttpOnly SameSite=Strict cookie the page cannot read, and a CSRF header on changes', async () => {
    const page = b.page;
    await page.goto(`${t.httpUrl}/dashboard/`);
    await signInInBrowser('Chief', 'not the password at all');
    await page.getByText('The name, password or code was not accepted.').waitFor();
    expect(await page.locator('#view-fleet').isHidden()).toBe(true);
    await signInInBrowser('Chief', CHIEF_PASSWORD);
    await page.locator('#live-status[data-state="live"]').waitFor();
    await page.getByRole('link', { name: 'Accounts' }).waitFor();
    await b.shot('signin-01-signed-in');

    const cookies = await b.context.cookies();
    const cookie = cookies.find((c) => c.name === 'lockstep_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(await page.evaluate('document.cookie')).not.toContain('lockstep_session');
    expect(await page.evaluate('sessionStorage.getItem("lockstep.token")')).toBeNull();
    // A script on the page (or a forged request) without the CSRF token changes nothing.
    const forged = (await page.evaluate(`fetch('/v1/lockers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', location: { lat: 1, lon: 1 }, compartments: [{ id: 'A1', size: 'S' }] }) }).then(async (r) => [r.status, (await r.json()).error.code])`)) as [number, string];
    expect(forged).toEqual([403, 'CSRF_TOKEN_INVALID']);
    // After a reload the cookie session is found again.
    await page.reload();
    await page.locator('#live-status[data-state="live"]').waitFor();
  });

  it('manages accounts: create, set a password, revoke sessions, disable', async () => {
    const page = b.page;
    await page.getByRole('link', { name: 'Accounts' }).click();
    await page.locator('#accounts-table tbody tr', { hasText: 'Chief' }).waitFor();
    const form = page.locator('#account-form');
    await form.getByLabel('Name', { exact: true }).fill('Evening operator');
    await form.getByLabel('Role', { exact: true }).selectOption('operator');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Account Evening operator (operator) created.').waitFor();
    expect(await page.locator('#account-created-token').textContent()).toMatch(/^ey/);

    await page.getByLabel('Account (operators and admins)').selectOption({ label: 'Evening operator (operator)' });
    await page.locator('#password-form').getByLabel(/^New password/).fill('dusk till dawn shift');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByText('Password of Evening operator set; 0 sessions ended.').waitFor();
    const evening = await signInAs(t, 'Evening operator', 'dusk till dawn shift');
    expect((await send(t, 'GET', '/v1/fleet', { cookie: evening.cookie })).status).toBe(200);

    await page.reload();
    await page.getByRole('link', { name: 'Accounts' }).click();
    const row = page.locator('#accounts-table tbody tr', { hasText: 'Evening operator' });
    await row.getByText('password, 1 session').waitFor();
    await page.getByRole('button', { name: 'Revoke sessions of Evening operator' }).click();
    await row.getByText('password, 0 sessions').waitFor();
    expect((await send(t, 'GET', '/v1/fleet', { cookie: evening.cookie })).status).toBe(401);

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Disable Evening operator' }).click();
    await row.locator('td[data-col="status"]', { hasText: 'disabled' }).waitFor();
    expect((await send(t, 'POST', '/v1/session', {}, { name: 'Evening operator', password: 'dusk till dawn shift' })).body.error?.code).toBe('SIGN_IN_FAILED');
    await b.shot('signin-02-accounts', true);
  });

  it('lists webhook deliveries with state, attempts and last error, and retries a dead one', async () => {
    const page = b.page;
    await page.getByRole('link', { name: 'Webhook deliveries' }).click();
    const row = page.locator('#deliveries-table tbody tr', { hasText: 'parcel booked' });
    await row.locator('td[data-col="state"]', { hasText: 'dead' }).waitFor();
    expect(await row.locator('td[data-col="attempts"]').textContent()).toBe('1');
    expect(await row.locator('td[data-col="error"]').textContent()).toContain('500');
    await b.shot('signin-03-deliveries', true);
    await row.getByRole('button', { name: /^Retry delivery/ }).click();
    await row.locator('td[data-col="state"]', { hasText: 'pending' }).waitFor();
    // The retried delivery goes out again (the receiver now answers 200): the worker may already have sent it.
    await t.server.webhookWorker.runOnce();
    const { deliveries } = (await send(t, 'GET', '/v1/webhooks/deliveries', { token: t.server.adminToken })).body as unknown as { deliveries: { state: string }[] };
    expect(deliveries.map((d) => d.state)).toEqual(['delivered']);
    expect(receiver.on('/hook')).toHaveLength(2);
  });

  it('signs out everywhere: this browser and every other session of the account', async () => {
    const page = b.page;
    const elsewhere = await signInAs(t, 'Chief', CHIEF_PASSWORD);
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.locator('#view-signin h1').waitFor();
    expect(await page.locator('#nav').isHidden()).toBe(true);
    expect((await send(t, 'GET', '/v1/fleet', { cookie: elsewhere.cookie })).status).toBe(401);
    expect((await b.context.cookies()).find((c) => c.name === 'lockstep_session')).toBeUndefined();
  });

  it('sets up a second factor on "Your sign-in", then asks for the code at sign-in; an operator sees no admin pages; sign-out', async () => {
    const page = b.page;
    await accountWithPassword(t, 'operator', 'Guarded operator', 'guarded by two factors');
    await signInInBrowser('Guarded operator', 'guarded by two factors');
    await page.locator('#live-status[data-state="live"]').waitFor();
    expect(await page.getByRole('link', { name: 'Accounts' }).isHidden()).toBe(true);
    await page.goto(`${t.httpUrl}/dashboard/#/accounts`);
    await page.locator('#view-fleet').waitFor();

    await page.getByRole('link', { name: 'Your sign-in' }).click();
    await page.getByRole('button', { name: 'Set up a second factor' }).click();
    await page.locator('#totp-enrolment').waitFor();
    const secret = (await page.locator('#totp-secret').textContent()) ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(await page.locator('#totp-uri').textContent()).toContain(`secret=${secret}`);
    await page.locator('#totp-confirm-form').getByLabel('Code from your authenticator app').fill(totpCode(secret, Date.now()));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByText('Second factor on: from now on sign-in asks for a code.').waitFor();
    expect(await page.locator('#totp-secret').textContent()).toBe('');
    await b.shot('signin-04-second-factor');

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.locator('#view-signin h1').waitFor();
    expect((await b.context.cookies()).find((c) => c.name === 'lockstep_session')).toBeUndefined();

    await signInInBrowser('Guarded operator', 'guarded by two factors');
    await page.getByText('Enter the 6-digit code from your authenticator app.').waitFor();
    await b.shot('signin-05-code');
    await page.locator('#signin-form').getByLabel('Code from your authenticator app').fill(totpCode(secret, Date.now() + 30_000));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.locator('#live-status[data-state="live"]').waitFor();
    await page.getByRole('link', { name: 'Your sign-in' }).click();
    await page.getByRole('button', { name: 'Remove second factor' }).waitFor();
  });
});
