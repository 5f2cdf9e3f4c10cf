/**
 * The inventory pages in a real browser against the real server and real hosts (two sshd servers
 * on loopback and a closed port): create an inventory in the code editor (a line Ansible refuses
 * is named), list it, check connectivity (reachable hosts show their facts, the closed port is
 * unreachable with ssh's reason), save a second version, see its diff against the first, and
 * restore the first. Screenshot of the hosts after the check.
 *
 * The check's results come live over the gateway's inventory feed: every check of more than one
 * host answers 202 here (nothing but the check's start in the answer), and the page makes no
 * request for the check or the hosts until the results are all shown.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { makeSshKey } from '../support/ssh-keys.js';
import { startSshHosts, type SshHosts } from '../support/ssh-hosts.js';
import { sshServerMissing } from '../support/ssh-git-server.js';
import { ensureWebBuild, launchBrowser, screenshotPath, signIn, watchedPage, type Browser, type WatchedPage } from './browser-support.js';

const skip = sshServerMissing();

describe('inventory pages in the browser', { skip: skip ?? false }, () => {
  let h: Harness;
  let browser: Browser;
  let w: WatchedPage;
  let hosts: SshHosts;
  let token: string;
  const key = makeSshKey();

  before(async () => {
    ensureWebBuild();
    hosts = await startSshHosts(2, key.publicKey);
    // More than one host: 202 at once, the results only through the feed.
    h = await startApi({ inventoryCheckSyncHosts: 1 });
    token = await h.login();
    const r = await h.request('POST', '/api/credentials/', {
      token,
      body: { name: 'deploy-key', kind: 'ssh_key', secret: { private_key: key.privateKey, known_hosts: hosts.knownHosts, username: hosts.user } },
    });
    assert.equal(r.status, 201, r.text);
    browser = await launchBrowser({ viewport: { width: 1360, height: 1000 } });
    w = await watchedPage(browser);
    await signIn(w.page, h.baseUrl, '/inventories');
  });
  after(async () => {
    await browser?.close();
    await h?.close();
    await hosts?.stop();
  });

  const typeContent = async (text: string) => {
    const editor = w.page.locator('[data-testid=inventory-content]');
    await editor.click();
    await w.page.keyboard.press('Control+A');
    await w.page.keyboard.press('Delete');
    await w.page.keyboard.insertText(text);
  };

  test('create (a refused line is named), list, check connectivity, versions with a diff and restore', async () => {
    const { page } = w;
    await page.locator('[data-testid=new-inventory]').click();
    await page.waitForURL((url) => url.pathname === '/inventories/new');
    await page.locator('[data-testid=inventory-name]').fill('fleet');
    await page.locator('[data-testid=inventory-ssh-credential]').fill('deploy-key');
    await typeContent('[web]\nweb1 ansible_host=127.0.0.1\nthis line is=broken=\n');
    await page.locator('[data-testid=inventory-save]').click();
    const problem = page.locator('[data-testid=inventory-content-error]');
    await problem.waitFor();
    assert.match((await problem.textContent()) ?? '', /line 3/);
    assert.equal(await page.locator('.cm-error-line').count(), 1, 'the line is marked in the editor');

    await typeContent(hosts.inventory());
    await page.locator('[data-testid=inventory-save]').click();
    await page.waitForURL((url) => /^\/inventories\/\d+$/.test(url.pathname));
    const id = Number(new URL(page.url()).pathname.split('/').pop());
    await page.locator('[data-testid=inventory-title]').waitFor();
    assert.equal(await page.locator('[data-testid=inventory-title]').textContent(), 'fleet');

    const rows = page.locator('[data-testid=inventory-host-row]');
    await rows.first().waitFor();
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => (e as unknown as { dataset: { host: string } }).dataset.host)), ['db1', 'ghost', 'web1']);
    assert.equal(await page.locator('[data-testid=inventory-host-row][data-check=never]').count(), 3);

    // The feed is in place (its first message came), then the check; every API request is recorded.
    await page.locator('[data-testid=inventory-hosts][data-live=watching]').waitFor();
    const requests: string[] = [];
    const record = (r: { url(): string; method(): string }) => {
      const url = new URL(r.url());
      if (url.pathname.startsWith('/api/')) requests.push(`${r.method()} ${url.pathname}`);
    };
    page.on('request', record);
    const answered = page.waitForResponse((r) => r.url().endsWith(`/api/inventories/${id}/check/`) && r.request().method() === 'POST');
    await page.locator('[data-testid=inventory-check]').click();
    assert.equal((await answered).status(), 202, 'the check goes on after its answer');
    const summary = page.locator('[data-testid=inventory-check-summary]');
    await page.waitForFunction(
      () => /Checked 3 hosts/.test((globalThis as unknown as { document: { body: { textContent: string } } }).document.body.textContent),
      undefined,
      { timeout: 120_000 },
    );
    page.off('request', record);
    assert.match((await summary.textContent()) ?? '', /2 reachable, 1 unreachable, 0 failed/);
    assert.deepEqual(requests, [`POST /api/inventories/${id}/check/`], 'the results came over the feed: no poll of the check, no read of the hosts');
    await page.locator('[data-testid=inventory-host-row][data-host=web1][data-check=reachable]').waitFor();
    assert.match((await page.locator('[data-host=web1] [data-testid=inventory-host-facts]').textContent()) ?? '', /Python 3\.\d+/);
    const ghost = page.locator('[data-testid=inventory-host-row][data-host=ghost]');
    assert.equal(await ghost.getAttribute('data-check'), 'unreachable');
    assert.match((await ghost.textContent()) ?? '', /Connection refused/);
    await page.locator('[data-testid=inventory-hosts]').screenshot({ path: screenshotPath('inventory-hosts-checked') });

    // A second version, its diff against the first, and the first restored as the third.
    await typeContent(hosts.inventory().replace('[db]', '[db]\n# the database servers'));
    await page.locator('[data-testid=inventory-save]').click();
    await page.locator('[data-testid=inventory-version-row][data-version="2"]').waitFor();
    await page.locator('[data-testid=inventory-version-row][data-version="1"] [data-testid=inventory-version-diff]').click();
    const diff = page.locator('[data-testid=inventory-diff]');
    await diff.waitFor();
    assert.match((await diff.textContent()) ?? '', /\+# the database servers/);
    assert.equal(await diff.locator('.diff-add').count(), 1);
    await page.locator('[data-testid=inventory-version-row][data-version="1"] [data-testid=inventory-version-restore]').click();
    await page.locator('[data-testid=inventory-version-row][data-version="3"]').waitFor();
    const token = await h.login();
    const saved = await h.request('GET', `/api/inventories/${id}/`, { token });
    assert.equal(saved.json.version, 3);
    assert.equal(saved.json.content, hosts.inventory());

    await page.goto(`${h.baseUrl}/inventories`);
    const listed = page.locator('[data-testid=inventory-row][data-name=fleet]');
    await listed.waitFor();
    assert.equal(await listed.locator('[data-testid=inventory-host-count]').textContent(), '3');
    assert.deepEqual(w.pageErrors, []);
  });

  test('the become and vault credentials are picked from the credentials of their kind and saved', async () => {
    const { page } = w;
    const credentials = [
      { name: 'root-become', kind: 'username_password', secret: { username: 'root', password: 'become-secret' } },
      { name: 'vault-prod', kind: 'ansible_vault_password', secret: { password: 'vault-secret-1', vault_id: 'prod' } },
      { name: 'vault-dev', kind: 'ansible_vault_password', secret: { password: 'vault-secret-2', vault_id: 'dev' } },
    ];
    for (const body of credentials) {
      const r = await h.request('POST', '/api/credentials/', { token, body });
      assert.equal(r.status, 201, r.text);
    }
    await page.goto(`${h.baseUrl}/inventories/new`);
    await page.locator('[data-testid=inventory-name]').fill('vaulted');
    await typeContent('[web]\nweb1 ansible_host=127.0.0.1\n');
    const become = page.locator('[data-testid=inventory-become-credential]');
    const vault = page.locator('[data-testid=inventory-vault-credentials]');
    await become.locator('option[value=root-become]').waitFor({ state: 'attached' });
    // Only credentials of the right kind are offered.
    assert.deepEqual(await become.locator('option').allTextContents(), ['none', 'root-become']);
    assert.deepEqual(await vault.locator('option').allTextContents(), ['vault-dev', 'vault-prod']);
    await become.selectOption('root-become');
    await vault.selectOption(['vault-prod', 'vault-dev']);
    await page.locator('[data-testid=inventory-save]').click();
    await page.waitForURL((url) => /^\/inventories\/\d+$/.test(url.pathname));
    const id = Number(new URL(page.url()).pathname.split('/').pop());
    let saved = await h.request('GET', `/api/inventories/${id}/`, { token });
    assert.equal(saved.json.become_credential, 'root-become');
    assert.deepEqual([...saved.json.vault_credentials].sort(), ['vault-dev', 'vault-prod']);

    // Opened again, the page shows them; dropping one vault and the become saves a new version.
    await page.reload();
    await vault.locator('option[value=vault-dev]').waitFor({ state: 'attached' });
    assert.equal(await become.inputValue(), 'root-become');
    assert.deepEqual(await vault.evaluate((e) => [...(e as unknown as { selectedOptions: Array<{ value: string }> }).selectedOptions].map((o) => o.value)), [
      'vault-dev',
      'vault-prod',
    ]);
    await vault.selectOption(['vault-prod']);
    await become.selectOption('');
    await page.locator('[data-testid=inventory-save]').click();
    saved = await h.request('GET', `/api/inventories/${id}/`, { token });
    // (the save answers, then the page reloads the inventory)
    for (let i = 0; i < 100 && saved.json.version < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      saved = await h.request('GET', `/api/inventories/${id}/`, { token });
    }
    assert.equal(saved.json.version, 2);
    assert.equal(saved.json.become_credential, null);
    assert.deepEqual(saved.json.vault_credentials, ['vault-prod']);
    assert.deepEqual(w.pageErrors, []);
  });
});
