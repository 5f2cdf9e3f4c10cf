/**
 * Projects in a real browser against the real server: create a project, manage its members and
 * their roles, switch the header's project (the pipelines and runs lists follow it, and the choice
 * survives a reload), the project field of the pipeline editor and of the credential dialog, edit
 * and delete a project. Screenshot: test-output/screenshots/projects.png.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startApi, type Harness } from '../support/api-harness.js';
import { waitFor } from '../support/wait.js';
import { ensureWebBuild, launchBrowser, screenshotPath, seeder, shell, signIn, watchedPage, type Browser, type WatchedPage } from './browser-support.js';

describe('projects in the browser', () => {
  let h: Harness;
  let browser: Browser;
  let w: WatchedPage;
  let admin: string;
  let payments = 0;

  before(async () => {
    ensureWebBuild();
    h = await startApi();
    admin = await h.login();
    await h.ctx.users.create({ username: 'dana', password: 'password-123', role: 'developer' });
    browser = await launchBrowser();
    w = await watchedPage(browser);
    await signIn(w.page, h.baseUrl);
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  const projectRow = (page: Page, name: string) => page.locator(`[data-testid=project-row][data-name="${name}"]`);
  const memberRow = (page: Page, name: string) => page.locator(`[data-testid=member-row][data-username="${name}"]`);
  const pipelineNames = async (page: Page) =>
    (await page.locator('[data-testid=pipelines-table] tbody tr [data-testid=pipeline-link]').allTextContents()).map((t) => t.trim());

  test('create a project; add a member, change their role, remove them', async () => {
    const { page } = w;
    await page.locator('nav.main-nav >> text=Projects').click();
    await page.waitForURL((url) => url.pathname === '/projects');
    await projectRow(page, 'default').waitFor();
    assert.equal(await projectRow(page, 'default').locator('.chip').textContent(), 'owner', 'the admin became owner of default by the upgrade');

    await page.locator('[data-testid=new-project]').click();
    await page.locator('[data-testid=project-name]').fill('Payments');
    await page.locator('[data-testid=project-description]').fill('Card and invoice services');
    await page.locator('[data-testid=project-save]').click();
    await projectRow(page, 'Payments').waitFor();
    const list = await h.request('GET', '/api/projects/?search=payments', { token: admin });
    payments = list.json.results[0].id;

    await projectRow(page, 'Payments').locator('[data-testid=project-members]').click();
    await memberRow(page, 'admin').waitFor();
    await page.locator('[data-testid=member-username]').fill('dana');
    await page.locator('[data-testid=member-new-role]').selectOption('maintainer');
    await page.locator('[data-testid=member-add]').click();
    await memberRow(page, 'dana').waitFor();
    assert.equal(await memberRow(page, 'dana').locator('[data-testid=member-role]').inputValue(), 'maintainer');

    await memberRow(page, 'dana').locator('[data-testid=member-role]').selectOption('viewer');
    await page.waitForFunction(
      async ([url, token, id]) => {
        const r = await fetch(`${url}/api/projects/${id}/members/`, { headers: { authorization: `Bearer ${token}` } });
        const members = (await r.json()) as Array<{ user: { username: string }; role: string }>;
        return members.some((m) => m.user.username === 'dana' && m.role === 'viewer');
      },
      [h.baseUrl, admin, payments] as const,
    );
    await memberRow(page, 'dana').locator('[data-testid=member-remove]').click();
    await memberRow(page, 'dana').waitFor({ state: 'detached' });
    // Back for the screenshot, as a developer.
    await page.locator('[data-testid=member-username]').fill('dana');
    await page.locator('[data-testid=member-new-role]').selectOption('developer');
    await page.locator('[data-testid=member-add]').click();
    await memberRow(page, 'dana').waitFor();
    await page.screenshot({ path: screenshotPath('projects'), fullPage: true });
  });

  test("the header's project filters the pipelines and runs lists, and is remembered", async () => {
    const { page } = w;
    const seed = seeder(h, admin);
    const paymentsPipeline = await seed.pipeline('pay-deploy', [shell('one', 'true')], { project: payments });
    const defaultPipeline = await seed.pipeline('web-build', [shell('one', 'true')]);
    const paymentsRun = await seed.run(paymentsPipeline);
    const defaultRun = await seed.run(defaultPipeline);
    await seed.finished(paymentsRun);
    await seed.finished(defaultRun);

    await page.locator('nav.main-nav >> text=Pipelines').click();
    await page.waitForURL((url) => url.pathname === '/pipelines');
    await page.locator('[data-testid=pipelines-table]').waitFor();
    await waitFor(async () => (await pipelineNames(page)).length === 2, 10_000, 'both pipelines listed');
    await waitFor(async () => (await page.locator('[data-testid=pipeline-project]').count()) === 2, 10_000, 'each row names its project');
    const projectOf = async (name: string) =>
      page.locator(`[data-testid=pipeline-row][data-pipeline-name="${name}"] [data-testid=pipeline-project]`).innerText();
    assert.equal(await projectOf('pay-deploy'), 'Payments');
    assert.equal(await projectOf('web-build'), 'default');

    await page.locator('[data-testid=project-switcher]').selectOption(String(payments));
    await waitFor(async () => (await pipelineNames(page)).length === 1, 10_000, "only the project's pipeline listed");
    assert.deepEqual(await pipelineNames(page), ['pay-deploy']);
    assert.equal(await page.locator('[data-testid=pipeline-project]').count(), 0, 'one project chosen: rows do not repeat it');

    await page.reload();
    await page.locator('[data-testid=pipelines-table]').waitFor();
    assert.equal(await page.locator('[data-testid=project-switcher]').inputValue(), String(payments), 'the choice survives a reload');
    assert.deepEqual(await pipelineNames(page), ['pay-deploy']);

    await page.locator('nav.main-nav >> text=Runs').click();
    await page.waitForURL((url) => url.pathname === '/runs');
    await page.locator(`a[href="/runs/${paymentsRun}"]`).first().waitFor();
    assert.equal(await page.locator(`a[href="/runs/${defaultRun}"]`).count(), 0, "the default project's run is not listed");

    await page.locator('[data-testid=project-switcher]').selectOption('');
    await page.locator(`a[href="/runs/${defaultRun}"]`).first().waitFor();
  });

  test('the pipeline editor and the credential dialog take the project, preset from the header', async () => {
    const { page } = w;
    await page.locator('[data-testid=project-switcher]').selectOption(String(payments));
    await page.goto(`${h.baseUrl}/pipelines/new`);
    // The choices load after the form: the preset shows once they are there.
    await waitFor(async () => (await page.locator('[data-testid=editor-project]').inputValue()) === String(payments), 10_000, 'the editor preset to Payments');

    await page.goto(`${h.baseUrl}/credentials`);
    await page.locator('[data-testid=new-credential]').click();
    await waitFor(async () => (await page.locator('[data-testid=cred-project]').inputValue()) === String(payments), 10_000, 'the dialog preset to Payments');
    await page.locator('[data-testid=cred-name]').fill('pay-token');
    await page.locator('[data-testid=cred-kind]').selectOption('token');
    await page.locator('[data-testid=cred-token]').fill('pay-token-value-1');
    await page.locator('[data-testid=credential-submit]').click();
    await page.locator('[data-testid=credential-row][data-name="pay-token"]').waitFor();
    const stored = await h.request('GET', `/api/credentials/?project=${payments}`, { token: admin });
    assert.deepEqual(
      stored.json.results.map((c: { name: string }) => c.name),
      ['pay-token'],
    );
  });

  test('edit and delete a project', async () => {
    const { page } = w;
    await page.goto(`${h.baseUrl}/projects`);
    await page.locator('[data-testid=new-project]').click();
    await page.locator('[data-testid=project-name]').fill('Scratch');
    await page.locator('[data-testid=project-save]').click();
    await projectRow(page, 'Scratch').locator('[data-testid=project-edit]').click();
    await page.locator('[data-testid=project-description]').fill('to be removed');
    await page.locator('[data-testid=project-save]').click();
    await projectRow(page, 'Scratch').locator('text=to be removed').waitFor();
    await projectRow(page, 'Scratch').locator('[data-testid=project-delete]').click();
    await page.locator('dialog[open] >> button:has-text("Delete")').click();
    await projectRow(page, 'Scratch').waitFor({ state: 'detached' });
    assert.deepEqual(w.pageErrors, []);
  });
});
