/**
 * Through the real browser: every section of the main navigation is on screen, whole, for an admin
 * (who has the most links) on a laptop, a narrow window and a phone, with none of them hidden in a
 * sideways scroll; a click on the last one (Audit log) works without scrolling.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { ensureWebBuild, launchBrowser, screenshotPath, signIn, watchedPage, type Browser } from './browser-support.js';

const SECTIONS = ['Pipelines', 'Runs', 'Environments', 'Notifications', 'Webhooks', 'Credentials', 'Inventories', 'Projects', 'System', 'Users', 'Audit log'];

describe('the main navigation', () => {
  let h: Harness;
  const browsers: Browser[] = [];

  before(async () => {
    ensureWebBuild();
    h = await startApi();
  });
  after(async () => {
    for (const browser of browsers) await browser.close();
    await h?.close();
  });

  for (const viewport of [
    { width: 1920, height: 1000 },
    { width: 1280, height: 800 },
    { width: 1024, height: 768 },
    { width: 390, height: 844 },
  ])
    test(`shows every section whole at ${viewport.width}px`, async () => {
      const browser = await launchBrowser({ viewport });
      browsers.push(browser);
      const { page, pageErrors } = await watchedPage(browser);
      await signIn(page, h.baseUrl);
      const nav = page.getByRole('navigation', { name: 'Main' });
      await nav.getByRole('link', { name: 'Pipelines' }).waitFor();
      const navBox = (await nav.boundingBox())!;
      for (const name of SECTIONS) {
        const box = await nav.getByRole('link', { name, exact: true }).boundingBox();
        assert.ok(box, `${name} is rendered`);
        assert.ok(box.x >= navBox.x - 0.5 && box.x + box.width <= navBox.x + navBox.width + 0.5, `${name} lies inside the navigation (not scrolled away)`);
        assert.ok(box.x >= 0 && box.x + box.width <= viewport.width, `${name} is within the ${viewport.width}px window`);
      }
      const scrolls = await nav.evaluate((el) => el.scrollWidth > el.clientWidth + 1);
      assert.equal(scrolls, false, 'the navigation does not scroll sideways');
      await page.screenshot({ path: screenshotPath(`navigation-${viewport.width}`) });
      await nav.getByRole('link', { name: 'Audit log', exact: true }).click();
      await page.waitForURL((url) => url.pathname === '/admin/audit');
      assert.deepEqual(pageErrors, []);
      await page.close();
    });
});
