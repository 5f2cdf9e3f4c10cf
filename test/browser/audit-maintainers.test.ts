/**
 * Through the real browser: a project maintainer finds the Audit log in the navigation and reads
 * their project's events there (not another project's); a developer gets no such link.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { ensureWebBuild, fillLogin, launchBrowser, screenshotPath, watchedPage, type Browser } from './browser-support.js';

describe('the audit log page for maintainers', () => {
  let h: Harness;
  let browser: Browser;

  before(async () => {
    ensureWebBuild();
    h = await startApi();
    const admin = await h.login();
    await h.userToken('maint', 'developer');
    await h.userToken('dev', 'developer');
    const alpha = (await h.request('POST', '/api/projects/', { token: admin, body: { name: 'alpha' } })).json.id;
    const beta = (await h.request('POST', '/api/projects/', { token: admin, body: { name: 'beta' } })).json.id;
    await h.request('POST', `/api/projects/${alpha}/members/`, { token: admin, body: { username: 'maint', role: 'maintainer' } });
    await h.request('POST', `/api/projects/${alpha}/members/`, { token: admin, body: { username: 'dev', role: 'developer' } });
    const defaultId = (await h.ctx.repos.projects.defaultProjectId())!;
    for (const name of ['maint', 'dev']) await h.ctx.repos.projects.removeMember(defaultId, (await h.ctx.repos.users.findByUsername(name))!.id);
    for (const [project, name] of [
      [alpha, 'alpha-pipe'],
      [beta, 'beta-pipe'],
    ] as const)
      assert.equal((await h.request('POST', '/api/pipelines/', { token: admin, body: { name, project } })).status, 201);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  test("a maintainer opens the Audit log and sees their project's events only", async () => {
    const { page, pageErrors } = await watchedPage(browser);
    await page.goto(`${h.baseUrl}/login`);
    await fillLogin(page, 'maint', 'password-123');
    await page.waitForURL((url) => url.pathname === '/pipelines');
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.waitForURL((url) => url.pathname === '/admin/audit');
    const table = page.locator('[data-testid=audit-table]');
    await table.waitFor();
    const text = (await table.textContent()) ?? '';
    assert.match(text, /alpha-pipe/);
    assert.doesNotMatch(text, /beta-pipe/);
    assert.doesNotMatch(text, /login\./, 'sign-ins are for admins');
    await page.screenshot({ path: screenshotPath('audit-maintainer') });
    assert.deepEqual(pageErrors, []);
    await page.close();
  });

  test('a developer has no Audit log link', async () => {
    await browser.context.clearCookies();
    const { page } = await watchedPage(browser);
    await page.goto(`${h.baseUrl}/login`);
    await page.evaluate(() => (globalThis as unknown as { localStorage: { clear(): void } }).localStorage.clear());
    await page.reload();
    await fillLogin(page, 'dev', 'password-123');
    await page.waitForURL((url) => url.pathname === '/pipelines');
    await page.getByRole('link', { name: 'Runs' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Audit log' }).count(), 0);
    await page.close();
  });
});
