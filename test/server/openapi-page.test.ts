import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from '../dashboard/browser.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let t: TestServer;
let browser: Browser;

beforeAll(async () => {
  t = await startTestServer();
  browser = await launchBrowser();
}, 30_000);
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('the API reference page in a browser', () => {
  it('renders the operations from the server alone: no request leaves it, no CSP violation, no script error', async () => {
    const { page } = browser;
    const outside: string[] = [];
    const problems: string[] = [];
    const origin = new URL(t.httpUrl).origin;
    page.on('request', (r) => {
      if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) outside.push(r.url());
    });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${t.httpUrl}/docs/`);
    // swagger-ui parses its whole bundle and renders every operation: a few seconds alone on this machine, and it
    // passed 15 s once under the whole suite on CI. A page that never renders still fails, after a minute.
    await page.getByText('Book a parcel').first().waitFor({ timeout: 60_000 });
    expect(await page.getByText('/v1/lockers/{id}/retire').count()).toBeGreaterThan(0);
    await browser.shot('api-docs');
    expect(outside).toEqual([]);
    expect(problems).toEqual([]);
  }, 90_000);
});
