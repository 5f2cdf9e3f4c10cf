/**
 * Login, logout, the background token refresh and an expired session, in a real browser. The
 * server issues 10-second access tokens so refreshes happen within the test.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { waitFor } from '../support/wait.js';
import { ensureWebBuild, fillLogin, launchBrowser, watchedPage, type Browser, type WatchedPage } from './browser-support.js';

declare const localStorage: any;

const SESSION_KEY = 'ansflow.session';

describe('signing in and out in the browser', () => {
  let h: Harness;
  let browser: Browser;
  let w: WatchedPage;

  before(async () => {
    ensureWebBuild();
    h = await startApi({ accessTokenTtlSeconds: 10 });
    browser = await launchBrowser();
    w = await watchedPage(browser);
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  const stored = () => w.page.evaluate((key) => JSON.parse(localStorage.getItem(key) ?? 'null') as { access: string; refresh: string } | null, SESSION_KEY);
  const onLogin = (next: string) => (u: URL) => u.pathname === '/login' && u.searchParams.get('next') === next;

  test('a deep link while signed out goes to login, a wrong password is refused, then the user lands on the link', async () => {
    const { page } = w;
    await page.goto(`${h.baseUrl}/runs?status=failed`);
    await page.waitForURL(onLogin('/runs?status=failed'));
    await page.locator('[data-testid=login-form]').waitFor();
    await fillLogin(page, 'admin', 'not-the-password');
    assert.equal(await page.locator('[data-testid=login-error]').textContent(), 'Wrong username or password.');
    assert.equal(await stored(), null);
    await fillLogin(page, 'admin', 'admin123');
    await page.waitForURL((u) => u.pathname === '/runs' && u.searchParams.get('status') === 'failed');
    assert.equal(await page.locator('[data-testid=filter-run-status]').inputValue(), 'failed');
    assert.match((await page.locator('[data-testid=user-menu]').textContent()) ?? '', /admin/);
    const tokens = await stored();
    assert.ok(tokens?.access && tokens.refresh, 'tokens kept for the session');
  });

  test('the access token is refreshed in the background and the app keeps working', async () => {
    const first = (await stored())!;
    // 10 s tokens are refreshed about 5 s before they expire, without any user action
    await waitFor(async () => (await stored())?.access !== first.access, 15_000, 'a background refresh');
    const refreshed = (await stored())!;
    assert.notEqual(refreshed.refresh, first.refresh, 'the refresh token rotated too');
    assert.equal((await h.request('GET', '/api/users/me/', { token: refreshed.access })).status, 200);
    await w.page.locator('nav a[href="/pipelines"]').first().click();
    await w.page.waitForURL((u) => u.pathname === '/pipelines');
    await w.page.locator('[data-testid=new-pipeline]').waitFor();
    assert.equal(new URL(w.page.url()).pathname, '/pipelines', 'still signed in');
  });

  test('an expired session lands on login and comes back to the same page afterwards', async () => {
    const { page } = w;
    await page.goto(`${h.baseUrl}/runs?status=cancelled`);
    await page.locator('[data-testid=filter-run-status]').waitFor();
    // the session ends on the server (revoked refresh token); the access token runs out within 10 s
    const tokens = (await stored())!;
    assert.equal((await h.request('POST', '/api/auth/logout/', { body: { refresh: tokens.refresh } })).status, 204);
    await page.waitForURL(onLogin('/runs?status=cancelled'), { timeout: 20_000 });
    await page.locator('[data-testid=session-expired]').waitFor();
    assert.equal(await stored(), null, 'the dead tokens are dropped');
    await fillLogin(page);
    await page.waitForURL((u) => u.pathname === '/runs' && u.searchParams.get('status') === 'cancelled');
    assert.equal(await page.locator('[data-testid=filter-run-status]').inputValue(), 'cancelled');
  });

  test('logout ends the session in the browser and on the server', async () => {
    const { page } = w;
    // In-app navigation, as a user moves around: a full reload here could unload the page while its
    // background refresh is in flight (10-second tokens refresh constantly), and a rotated refresh
    // token presented again revokes the session by contract.
    await page.locator('nav a[href="/pipelines"]').first().click();
    await page.waitForURL((u) => u.pathname === '/pipelines');
    await page.locator('[data-testid=new-pipeline]').waitFor();
    const tokens = (await stored())!;
    await page.locator('[data-testid=user-menu]').click();
    await page.locator('[data-testid=logout]').click();
    await page.waitForURL((u) => u.pathname === '/login');
    await page.locator('[data-testid=login-form]').waitFor();
    assert.equal(await page.locator('[data-testid=session-expired]').count(), 0, 'a logout is not an expiry');
    assert.equal(await stored(), null);
    // the refresh token was revoked on the server
    await waitFor(
      async () => (await h.request('POST', '/api/auth/refresh/', { body: { refresh: tokens.refresh } })).status === 401,
      5_000,
      'refresh token revoked',
    );
    await page.goto(`${h.baseUrl}/pipelines`);
    await page.waitForURL(onLogin('/pipelines'));
    assert.deepEqual(w.pageErrors, []);
    assert.deepEqual(w.dialogs, []);
  });
});
