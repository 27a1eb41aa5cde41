import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { useTestStack } from '../../../tests/support/test-stack.ts';
import { seedTwoTenants, setRole } from '../../../tests/support/seed.ts';
import { signIn } from '../../../tests/support/graphql-client.ts';
import { createWorkflow, startWorkflow } from '../../../tests/support/workflows.ts';

// Sign-in goes through acme's own issuer pages, which must reach the router as the browser sees it.
const ctx = useTestStack({}, { publicRouter: true });
const CHROMIUM = process.env.TANSU_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = new URL('../../../.test-data/screenshots/', import.meta.url).pathname;

describe('the web console in Chromium', () => {
  let browser: Browser;
  let page: Page;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not at ${CHROMIUM}: apt-get install -y chromium (or set TANSU_CHROMIUM)`);
    await mkdir(SCREENSHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
  });

  const shot = (name: string) => page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });

  it("signs in through the tenant's own issuer", async () => {
    const url = ctx.stack.graphqlUrl;
    const seed = await seedTwoTenants(url);
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'DEVELOPER');
    await page.goto(`${ctx.stack.routerUrl}/console/`);
    await shot('sign-in');
    await page.fill('input[name=tenant]', 'acme');
    await page.click('button[type=submit]');
    await page.waitForSelector('input[name=email]');
    await page.fill('input[name=email]', 'alice@acme.test');
    await page.fill('input[name=password]', 'alice-password');
    await page.click('button[type=submit]');
    await page.waitForSelector('text=Allow');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=signed-in-as]');
    assert.equal(await page.textContent('[data-testid=signed-in-as]'), 'alice@acme.test');
    assert.ok(page.url().startsWith(`${ctx.stack.routerUrl}/console/`), page.url());
  });

  it("shows a run's steps turning green, live", async () => {
    const url = ctx.stack.graphqlUrl;
    const alice = await signIn(url, 'acme', 'alice@acme.test', 'alice-password');
    await createWorkflow(url, alice.accessToken, 'three-steps', [
      { id: 'fetch', type: 'delay', with: { ms: 400 } },
      { id: 'shape', type: 'delay', with: { ms: 400 }, needs: ['fetch'] },
      { id: 'store', type: 'delay', with: { ms: 400 }, needs: ['shape'] },
    ]);
    const run = await startWorkflow(url, alice.accessToken, { workflow: 'three-steps' });
    await page.goto(`${ctx.stack.routerUrl}/console/runs/${run.id}`);
    await page.waitForSelector('[data-step=store]');
    // The page was drawn before the run ended, and follows it to the end without a reload.
    const before = await page.getAttribute('[data-step=store]', 'data-status');
    assert.notEqual(before, 'SUCCEEDED', 'the page opened on a finished run: the test would prove nothing');
    await page.waitForSelector('[data-testid=run-status]:text("SUCCEEDED")', { timeout: 20_000 });
    for (const step of ['fetch', 'shape', 'store']) assert.equal(await page.getAttribute(`[data-step=${step}]`, 'data-status'), 'SUCCEEDED');
    await shot('run');
  });

  it('lists the runs, updated as they change', async () => {
    const url = ctx.stack.graphqlUrl;
    const alice = await signIn(url, 'acme', 'alice@acme.test', 'alice-password');
    await page.goto(`${ctx.stack.routerUrl}/console/runs`);
    await page.waitForSelector('table');
    const run = await startWorkflow(url, alice.accessToken, { workflow: 'three-steps' });
    await page.waitForSelector(`[data-run="${run.id}"] .status.SUCCEEDED`, { timeout: 20_000 });
    await shot('runs');
  });
});
