/**
 * The System page says, per worker, whether steps run sandboxed, and warns when some do not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi } from '../support/api-harness.js';
import { ensureWebBuild, launchBrowser, screenshotPath, signIn, watchedPage } from './browser-support.js';

async function systemPage(env: Record<string, string>, screenshot: string) {
  const h = await startApi({}, env);
  const browser = await launchBrowser();
  try {
    const { page } = await watchedPage(browser);
    await signIn(page, h.baseUrl);
    await page.goto(`${h.baseUrl}/system`);
    const cell = page.locator('[data-testid=worker-sandbox]').first();
    await cell.waitFor({ timeout: 15_000 });
    const warnings = page.locator('[data-testid=system-warnings]');
    const shown = { cell: (await cell.textContent()) ?? '', warnings: (await warnings.count()) > 0 ? ((await warnings.textContent()) ?? '') : null };
    await page.screenshot({ path: screenshotPath(screenshot), fullPage: true });
    return shown;
  } finally {
    await browser.close();
    await h.close();
  }
}

test('with ANSFLOW_SANDBOX=off the System page warns that steps are not isolated', async () => {
  ensureWebBuild();
  const shown = await systemPage({ ANSFLOW_SANDBOX: 'off' }, 'system-sandbox-off');
  assert.match(shown.cell, /not isolated/);
  assert.match(shown.warnings ?? '', /Steps are not isolated on every worker.*ANSFLOW_SANDBOX=off/s);
});

test('with the sandbox on, workers show as sandboxed and nothing is warned', async () => {
  ensureWebBuild();
  const shown = await systemPage({}, 'system-sandbox-on');
  assert.match(shown.cell, /sandboxed/);
  assert.equal(shown.warnings, null);
});
