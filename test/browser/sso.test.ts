/**
 * Single sign-on in the real browser (Chromium) against a real OpenID Connect provider
 * (oidc-provider, test/support/oidc-provider.ts): the login page's "Sign in with Test IdP" button,
 * the provider's login form, and back in AnsFlow on the page asked for, signed in, with no token
 * or code left in the address bar. Then a failed sign-in's message, and a server with password
 * sign-in off: the form hidden behind the break-glass link, which still signs the admin in.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js';
import { ensureWebBuild, fillLogin, launchBrowser, screenshotPath, watchedPage, type Browser } from './browser-support.js';

// page.evaluate callbacks run in the browser; the test project has no DOM lib
declare const localStorage: any;

describe('single sign-on in the browser', () => {
  let idp: TestProvider;
  let h: Harness;
  let off: Harness;
  let browser: Browser;

  before(async () => {
    ensureWebBuild();
    idp = await startTestProvider();
    h = await startApi({}, idp.env({ ANSFLOW_OIDC_GROUP_ROLES: JSON.stringify({ 'ci-maintainers': { default: 'maintainer' } }) }));
    await idp.register(`${h.baseUrl}/api/auth/oidc/callback/`);
    off = await startApi({}, idp.env({ ANSFLOW_PASSWORD_LOGIN: 'off' }));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await off?.close();
    await h?.close();
    await idp?.close();
  });

  test('click "Sign in with Test IdP", sign in at the provider, land in AnsFlow on the page asked for', async () => {
    const { page, pageErrors } = await watchedPage(browser);
    await page.goto(`${h.baseUrl}/login?next=${encodeURIComponent('/runs')}`);
    const button = page.locator('[data-testid=login-sso]');
    await button.waitFor();
    assert.equal(await button.textContent(), 'Sign in with Test IdP');
    assert.ok(await page.locator('[data-testid=login-password]').isVisible(), 'password sign-in is on here');
    await page.locator('[data-testid=login-form]').screenshot({ path: screenshotPath('login-sso') });
    await button.click();

    await page.waitForURL((url) => url.origin === idp.issuer);
    await page.locator('input[name=login]').fill('alice');
    await page.locator('input[name=password]').fill('any-password');
    await page.locator('button[type=submit]').click();

    await page.waitForURL((url) => url.origin === h.baseUrl && url.pathname === '/runs');
    await page.locator('[data-testid=user-menu]').waitFor();
    assert.match((await page.locator('[data-testid=user-menu]').textContent()) ?? '', /alice/);
    assert.equal(new URL(page.url()).hash, '', 'no code left in the address bar');
    const session = JSON.parse(await page.evaluate(() => localStorage.getItem('ansflow.session')));
    const me = await h.request('GET', '/api/users/me/', { token: session.access });
    assert.equal(me.json.username, 'alice');
    const defaultId = (await h.ctx.repos.projects.defaultProjectId())!;
    assert.equal(await h.ctx.repos.projects.roleOf(defaultId, me.json.id), 'maintainer', 'the group mapping applied');
    assert.deepEqual(pageErrors, []);
    await page.close();
  });

  test('a failed sign-in comes back to the login page with a message', async () => {
    const { page } = await watchedPage(browser);
    // Signed out (the test above signed alice in, in this browser).
    await page.goto(`${h.baseUrl}/login`);
    await page.evaluate(() => localStorage.clear());
    // The provider's answer replayed in a browser that did not start the sign-in.
    await page.goto(`${h.baseUrl}/api/auth/oidc/callback/?code=stolen&state=stolen`);
    await page.waitForURL((url) => url.pathname === '/login');
    const error = page.locator('[data-testid=login-error]');
    await error.waitFor();
    assert.match((await error.textContent()) ?? '', /could not be completed/);
    await page.close();
  });

  test('password sign-in off: the form is behind the break-glass link, which still signs the admin in', async () => {
    const { page, pageErrors } = await watchedPage(browser);
    await page.goto(`${off.baseUrl}/login`);
    await page.locator('[data-testid=login-sso]').waitFor();
    assert.equal(await page.locator('[data-testid=login-password]').count(), 0, 'no password form');
    await page.locator('[data-testid=login-form]').screenshot({ path: screenshotPath('login-sso-password-off') });
    await page.locator('[data-testid=login-break-glass]').click();
    // Anyone else is refused with the server's message.
    await fillLogin(page, 'someone', 'password-123');
    assert.match((await page.locator('[data-testid=login-error]').textContent()) ?? '', /Password sign-in is turned off/);
    await fillLogin(page, 'admin', 'admin123');
    await page.waitForURL((url) => url.pathname === '/pipelines');
    assert.deepEqual(pageErrors, []);
    await page.close();
  });
});
