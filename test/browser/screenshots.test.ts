/**
 * Screenshots of the main pages for reviewers (test-output/screenshots/, gitignored): 1280x800 and
 * a 390x844 phone, light and dark. Each page must show its main content first, and nothing may
 * overflow sideways on the phone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import {
  ensureWebBuild,
  fillLogin,
  launchBrowser,
  screenshotPath,
  seeder,
  shell,
  signIn,
  watchedPage,
  type Browser,
  type WatchedPage,
} from './browser-support.js';

declare const document: any;
declare const localStorage: any;
declare const getComputedStyle: any;

describe('screenshots of the main pages', () => {
  let h: Harness;
  let browser: Browser;
  let w: WatchedPage;
  let runId = 0;
  let pipelineId = 0;

  before(async () => {
    ensureWebBuild();
    h = await startApi({ cancelGraceSeconds: 1 });
    const admin = await h.login();
    const seed = seeder(h, admin);
    await h.userToken('dana', 'developer');
    await h.userToken('victor', 'viewer');
    pipelineId = await seed.pipeline(
      'web-app',
      [
        shell('Install', 'echo "npm ci"; for i in $(seq 1 12); do echo "added package-$i"; done'),
        shell('Lint', "printf '\\033[32m✔\\033[0m no problems\\n'", { parallel_group: 'checks' }),
        shell('Unit tests', "printf 'tests \\033[1;32m42 passed\\033[0m, \\033[33m1 skipped\\033[0m\\n'", { parallel_group: 'checks' }),
        shell('Build', 'for i in $(seq 1 40); do echo "[build] compiling module $i of 40"; done; printf "\\033[31mwarning:\\033[0m bundle is 212 kB\\n"'),
      ],
      {
        description: 'Frontend build and tests',
        repository_url: 'https://github.com/example/web-app.git',
        branch: 'main',
        variables: { NODE_ENV: 'production' },
      },
    );
    const api = await seed.pipeline('api-service', [shell('Test', 'echo testing; exit 1')], { description: 'Backend service', branch: 'develop' });
    const deploy = await seed.pipeline('deploy-staging', [shell('Deploy', 'echo deploying; sleep 30')], { description: 'Ships main to staging' });
    await seed.pipeline('nightly-report', [shell('Report', 'echo report')], { description: 'Inactive example', status: 'inactive' });
    runId = await seed.run(pipelineId);
    await seed.finished(runId);
    await seed.finished(await seed.run(api));
    const cancelled = await seed.run(deploy);
    await seed.pipeline('docs', [shell('Docs', 'echo docs')], { description: 'Documentation site' });
    await new Promise((r) => setTimeout(r, 300));
    await h.request('POST', `/api/pipeline-runs/${cancelled}/cancel/`, { token: admin });
    await seed.finished(cancelled);
    runId = await seed.run(pipelineId);
    await seed.finished(runId);

    browser = await launchBrowser();
    w = await watchedPage(browser);
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  const pages = () => [
    { name: 'pipelines', path: '/pipelines', ready: '[data-testid=pipeline-row]' },
    { name: 'pipeline-detail', path: `/pipelines/${pipelineId}`, ready: '[data-testid=run-row]' },
    { name: 'editor', path: `/pipelines/${pipelineId}/edit`, ready: '[data-testid=parallel-group]' },
    { name: 'run', path: `/runs/${runId}`, ready: '[data-testid=log-line]' },
    { name: 'runs', path: '/runs', ready: '[data-testid=run-row]' },
    { name: 'system', path: '/system', ready: '[data-testid=system-status]' },
    { name: 'users', path: '/admin/users', ready: '[data-testid=user-row]' },
  ];

  const shoot = async (name: string, fullPage = false) => {
    await w.page.evaluate(() => document.fonts.ready);
    await w.page.screenshot({ path: screenshotPath(name), animations: 'disabled', caret: 'hide', fullPage });
  };

  test('the System page shows the health the gateway reports', async () => {
    const { page } = w;
    await page.setViewportSize({ width: 1280, height: 800 });
    if (!(await page.evaluate(() => localStorage.getItem('ansflow.session')).catch(() => null))) await signIn(page, h.baseUrl);
    await page.goto(`${h.baseUrl}/system`);
    const status = page.locator('[data-testid=system-status]');
    try {
      await status.waitFor({ timeout: 10_000 });
    } catch {
      const text = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
      assert.fail(`no status on the System page: ${text.slice(0, 300)} (console: ${w.consoleErrors.slice(-2).join(' | ')})`);
    }
    assert.match((await status.textContent()) ?? '', /healthy/i);
    assert.equal((await page.locator('[data-testid=service-row]').count()) > 0, true);
    // The embedded worker reports itself: one row, with its slots.
    const worker = page.locator('[data-testid=worker-row]');
    await worker.first().waitFor({ timeout: 10_000 });
    assert.equal(await worker.count(), 1);
    assert.match((await worker.first().textContent()) ?? '', /0 \/ \d+/);
  });

  for (const scheme of ['light', 'dark'] as const) {
    test(`1280x800, ${scheme}`, async () => {
      const { page } = w;
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.emulateMedia({ colorScheme: scheme });
      await page.evaluate(() => localStorage.clear()).catch(() => undefined);
      await page.goto(`${h.baseUrl}/login`);
      await page.locator('[data-testid=login-form]').waitFor();
      await shoot(`login-${scheme}`);
      await fillLogin(page);
      await page.waitForURL((u) => u.pathname === '/pipelines');
      const missing: string[] = [];
      for (const p of pages()) {
        await page.goto(`${h.baseUrl}${p.path}`);
        try {
          await page
            .locator(p.ready)
            .first()
            .waitFor({ timeout: p.name === 'system' ? 3_000 : 10_000 });
        } catch {
          // still take the picture, so the reviewer sees what is wrong
          missing.push(`${p.name}: ${p.ready} never appeared (${(await page.locator('main').innerText()).replace(/\s+/g, ' ').slice(0, 200)})`);
        }
        if (p.name === 'run') await page.locator('[data-testid=run-status][data-status=success]').waitFor();
        const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        const [r, g, b] = (bg.match(/\d+/g) ?? []).map(Number);
        const light = (r! + g! + b!) / 3 > 128;
        assert.equal(light, scheme === 'light', `${p.name}: ${scheme} background (got ${bg})`);
        await shoot(`${p.name}-${scheme}`);
      }
      // the editor's full length, where the forms are
      await page.goto(`${h.baseUrl}/pipelines/${pipelineId}/edit`);
      await page.locator('[data-testid=parallel-group]').waitFor();
      await shoot(`editor-full-${scheme}`, true);
      // the System page has its own test below (it depends on the gateway answering cross-origin)
      assert.deepEqual(
        missing.filter((m) => !m.startsWith('system:')),
        [],
        'every page showed its content',
      );
      assert.deepEqual(w.pageErrors, []);
    });

    test(`phone 390x844, ${scheme}`, async () => {
      const { page } = w;
      await page.setViewportSize({ width: 390, height: 844 });
      await page.emulateMedia({ colorScheme: scheme });
      if (!(await page.evaluate(() => localStorage.getItem('ansflow.session')))) await signIn(page, h.baseUrl);
      for (const p of pages().filter((x) => ['pipelines', 'run', 'editor', 'runs'].includes(x.name))) {
        await page.goto(`${h.baseUrl}${p.path}`);
        await page.locator(p.ready).first().waitFor();
        await shoot(`phone-${p.name}-${scheme}`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 1, `${p.name}: the page scrolls sideways on a phone by ${overflow}px`);
      }
      assert.deepEqual(w.pageErrors, []);
    });
  }
});
