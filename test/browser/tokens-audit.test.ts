/**
 * Through the real browser: the Tokens section of the profile (create with name, scopes and
 * expiry, shown once with a copy button, listed, revoked) and the admins' Audit log page (filters,
 * older pages, the JSON lines export). Screenshots in test-output/screenshots/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startApi, type Harness } from '../support/api-harness.js';
import { ensureWebBuild, fillLogin, launchBrowser, screenshotPath, signIn, watchedPage, type Browser } from './browser-support.js';

// page.evaluate callbacks run in the browser; the test project has no DOM lib
declare const document: any;
declare const navigator: any;

describe('tokens and audit log in the browser', () => {
  let h: Harness;
  let browser: Browser;
  before(async () => {
    ensureWebBuild();
    h = await startApi();
    browser = await launchBrowser();
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.baseUrl });
  });
  after(async () => {
    await browser.close();
    await h.close();
  });

  test('create a token (shown once, copied), use it, revoke it', async () => {
    const { page, pageErrors } = await watchedPage(browser);
    await signIn(page, h.baseUrl, '/profile');
    const section = page.locator('[data-testid=tokens-section]');
    await section.waitFor();
    await page.locator('[data-testid=token-name]').fill('deploy script');
    await page.locator('[data-testid=token-scope-run]').check();
    await page.locator('[data-testid=token-create]').click();
    const value = page.locator('[data-testid=created-token-value]');
    await value.waitFor();
    const token = await value.inputValue();
    assert.match(token, /^afp_[0-9A-Za-z]{32}$/);
    await page.locator('[data-testid=copy-token]').click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
    const row = page.locator('[data-testid=token-row][data-name="deploy script"]');
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /read.*run.*never/s);
    await section.screenshot({ path: screenshotPath('tokens-created') });

    const used = await fetch(`${h.baseUrl}/api/pipelines/`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(used.status, 200);
    // Once dismissed, the token is gone from the page for good.
    await page.getByRole('button', { name: 'Done' }).click();
    await page.reload();
    await row.waitFor();
    assert.equal(await page.locator('[data-testid=created-token-value]').count(), 0);
    assert.ok(!(await page.content()).includes(token));

    await row.locator('[data-testid=token-revoke]').click();
    await page.locator('[data-testid=confirm-submit]').click();
    await row.waitFor({ state: 'detached' });
    const refused = await fetch(`${h.baseUrl}/api/pipelines/`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(refused.status, 401);
    await section.screenshot({ path: screenshotPath('tokens-revoked') });
    assert.deepEqual(pageErrors, []);
  });

  test('a developer cannot choose the admin scope and has no audit log', async () => {
    await h.ctx.users.create({ username: 'web-dev', password: 'password-123', role: 'developer' });
    const context = await launchBrowser();
    try {
      const { page } = await watchedPage(context);
      await page.goto(`${h.baseUrl}/login?next=/profile`);
      await fillLogin(page, 'web-dev', 'password-123');
      await page.locator('[data-testid=tokens-section]').waitFor();
      assert.equal(await page.locator('[data-testid=token-scope-admin]').isDisabled(), true);
      assert.equal(await page.locator('[data-testid=token-scope-write]').isDisabled(), false);
      assert.equal(await page.getByRole('link', { name: 'Audit log' }).count(), 0);
    } finally {
      await context.close();
    }
  });

  test('the audit log page lists events, filters them, and exports JSON lines', async () => {
    const { page, pageErrors } = await watchedPage(browser);
    // Signed in as admin by the first test (the session is the browser's).
    await page.goto(`${h.baseUrl}/pipelines`);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.waitForURL((u) => u.pathname === '/admin/audit');
    const rows = page.locator('[data-testid=audit-row]');
    await rows.first().waitFor();
    const actions = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));
    for (const expected of ['token.create', 'token.revoke', 'login.succeeded', 'user.create'])
      assert.ok(actions.includes(expected), `${expected} in ${actions}`);
    await page.locator('[data-testid=audit-row][data-action="token.create"] summary').first().click();
    await page.screenshot({ path: screenshotPath('audit-log'), fullPage: true });

    await page.locator('[data-testid=audit-filter-action]').fill('token.*');
    await page.locator('[data-testid=audit-apply]').click();
    await page.waitForURL((u) => u.searchParams.get('action') === 'token.*');
    await page.waitForFunction(() => {
      const all = [...document.querySelectorAll('[data-testid=audit-row]')].map((e) => e.getAttribute('data-action'));
      return all.length > 0 && all.every((a) => a?.startsWith('token.'));
    });
    await page.screenshot({ path: screenshotPath('audit-log-filtered'), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid=audit-export]').click()]);
    const lines = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(lines.length >= 2);
    assert.ok(lines.every((e) => e.action.startsWith('token.')));
    assert.deepEqual(pageErrors, []);
  });
});
