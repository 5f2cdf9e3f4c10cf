/**
 * The Credentials page in a real browser against the real server: create an ssh_key and a token
 * credential through the dialog, see the key's fingerprint and which pipeline uses the token,
 * edit (secret fields start empty and an empty field keeps the stored value), delete (a used one
 * asks again and names its pipeline). No secret value may appear in the page's HTML or in any API
 * response the page received.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startApi, type Harness } from '../support/api-harness.js';
import { makeSshKey, type TestSshKey } from '../support/ssh-keys.js';
import { ensureWebBuild, launchBrowser, screenshotPath, seeder, shell, signIn, watchedPage, type Browser, type WatchedPage } from './browser-support.js';
/** Credentials created without a project are in the `default` project, the first one (migration 009). */
const DEFAULT_PROJECT_ID = 1;

const TOKEN = 'ghp_browserTokenValue_0123456789';
const NEW_TOKEN = 'ghp_replacedTokenValue_9876543210';
const KNOWN_HOSTS = 'git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

describe('credentials in the browser', () => {
  let h: Harness;
  let browser: Browser;
  let w: WatchedPage;
  let key: TestSshKey;
  /** Every /api/ response body the page received. */
  const bodies: Array<{ url: string; text: string }> = [];

  before(async () => {
    ensureWebBuild();
    key = makeSshKey();
    h = await startApi();
    browser = await launchBrowser();
    w = await watchedPage(browser);
    w.page.on('response', (response) => {
      if (!new URL(response.url()).pathname.startsWith('/api/')) return;
      void response
        .text()
        .then((text) => bodies.push({ url: response.url(), text }))
        .catch(() => undefined);
    });
    await signIn(w.page, h.baseUrl);
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  /** The secrets of this file: the token values and every base64 line of the private key. */
  const secrets = () => [TOKEN, NEW_TOKEN, ...key.privateKey.split('\n').filter((l) => l.length > 16 && !l.startsWith('-----'))];
  const assertNoSecretInHtml = async (page: Page, when: string) => {
    const html = await page.content();
    for (const s of secrets()) assert.ok(!html.includes(s), `a secret is in the page's HTML ${when}`);
  };
  const row = (page: Page, name: string) => page.locator(`[data-testid=credential-row][data-name="${name}"]`);

  test('create an ssh_key and a token credential; the fingerprint and the using pipeline show', async () => {
    const { page } = w;
    await page.locator('nav.main-nav >> text=Credentials').click();
    await page.waitForURL((url) => url.pathname === '/credentials');

    await page.locator('[data-testid=new-credential]').click();
    const dialog = page.locator('[data-testid=credential-dialog]');
    await dialog.locator('[data-testid=cred-name]').fill('deploy-key');
    await dialog.locator('[data-testid=cred-kind]').selectOption('ssh_key');
    await dialog.locator('[data-testid=cred-description]').fill('pushes to production');
    await dialog.locator('[data-testid=cred-private_key]').fill(key.privateKey);
    await dialog.locator('[data-testid=cred-known_hosts]').fill(KNOWN_HOSTS);
    await dialog.locator('[data-testid=credential-submit]').click();
    await row(page, 'deploy-key').waitFor();
    assert.equal((await row(page, 'deploy-key').locator('[data-testid=credential-fingerprint]').textContent())?.trim(), key.fingerprint);
    assert.equal(await dialog.locator('form').count(), 0, 'the dialog and its inputs are gone');

    // A bad value comes back under its field, and the value itself does not.
    await page.locator('[data-testid=new-credential]').click();
    await dialog.locator('[data-testid=cred-name]').fill('gh-token');
    await dialog.locator('[data-testid=cred-kind]').selectOption('token');
    await dialog.locator('[data-testid=credential-submit]').click();
    await dialog.locator('[data-testid=field-error][data-field="secret.token"]').waitFor();
    await dialog.locator('[data-testid=cred-token]').fill(TOKEN);
    assert.equal(await dialog.locator('[data-testid=cred-token]').getAttribute('type'), 'password');
    await dialog.locator('[data-testid=credential-submit]').click();
    await row(page, 'gh-token').waitFor();
    assert.equal((await row(page, 'gh-token').locator('[data-testid=credential-fingerprint]').textContent())?.trim(), '—');

    const admin = await h.login();
    await seeder(h, admin).pipeline('release', [shell('publish', 'true', { credential: 'gh-token' })]);
    await page.reload();
    await row(page, 'gh-token').waitFor();
    assert.equal((await row(page, 'gh-token').locator('[data-testid=credential-used-by]').textContent())?.trim(), 'release');
    assert.match((await row(page, 'deploy-key').locator('[data-testid=credential-kind]').textContent()) ?? '', /SSH key/);
    await assertNoSecretInHtml(page, 'on the list');
    await page.screenshot({ path: screenshotPath('credentials'), animations: 'disabled', caret: 'hide' });
  });

  test('edit: secret fields start empty; empty keeps the stored value; a typed one replaces it', async () => {
    const { page } = w;
    await row(page, 'gh-token').locator('[data-testid=credential-edit]').click();
    const dialog = page.locator('[data-testid=credential-dialog]');
    const tokenInput = dialog.locator('[data-testid=cred-token]');
    assert.equal(await tokenInput.inputValue(), '');
    assert.match((await dialog.textContent()) ?? '', /leave empty to keep the stored value/);
    await page.screenshot({ path: screenshotPath('credentials-edit'), animations: 'disabled', caret: 'hide' });
    await dialog.locator('[data-testid=cred-description]').fill('release uploads');
    await dialog.locator('[data-testid=credential-submit]').click();
    await row(page, 'gh-token').locator('text=release uploads').waitFor();
    assert.deepEqual((await h.ctx.repos.credentials.open(['gh-token'], DEFAULT_PROJECT_ID))[0]!.secret.value, { token: TOKEN }, 'the stored token was kept');

    await row(page, 'gh-token').locator('[data-testid=credential-edit]').click();
    await dialog.locator('[data-testid=cred-token]').fill(NEW_TOKEN);
    await dialog.locator('[data-testid=credential-submit]').click();
    await dialog.locator('form').waitFor({ state: 'detached' });
    assert.deepEqual((await h.ctx.repos.credentials.open(['gh-token'], DEFAULT_PROJECT_ID))[0]!.secret.value, { token: NEW_TOKEN });
    await assertNoSecretInHtml(page, 'after editing');
  });

  test('delete: a used credential names its pipeline and needs "Delete anyway"; an unused one goes at once', async () => {
    const { page } = w;
    await row(page, 'gh-token').locator('[data-testid=credential-delete]').click();
    const dialog = page.locator('[data-testid=credential-delete-dialog]');
    await dialog.locator('[data-testid=credential-delete-confirm]').click();
    const inUse = dialog.locator('[data-testid=credential-in-use]');
    await inUse.waitFor();
    assert.match((await inUse.textContent()) ?? '', /release/);
    assert.equal((await dialog.locator('[data-testid=credential-delete-confirm]').textContent())?.trim(), 'Delete anyway');
    await page.screenshot({ path: screenshotPath('credentials-delete-in-use'), animations: 'disabled', caret: 'hide' });
    await dialog.locator('[data-testid=credential-delete-confirm]').click();
    await row(page, 'gh-token').waitFor({ state: 'detached' });

    await row(page, 'deploy-key').locator('[data-testid=credential-delete]').click();
    await dialog.locator('[data-testid=credential-delete-confirm]').click();
    await row(page, 'deploy-key').waitFor({ state: 'detached' });
    assert.equal((await h.ctx.repos.credentials.list({}, { limit: 10, offset: 0 })).total, 0);
  });

  test('no secret value reached the page: not in its HTML, not in any API response it received', async () => {
    await assertNoSecretInHtml(w.page, 'at the end');
    const credentialResponses = bodies.filter((b) => b.url.includes('/api/credentials/'));
    assert.ok(credentialResponses.length >= 6, `the page talked to the credentials API (${credentialResponses.length} responses)`);
    for (const body of bodies) for (const s of secrets()) assert.ok(!body.text.includes(s), `a secret is in the response of ${body.url}`);
    assert.deepEqual(w.pageErrors, []);
  });
});
