/**
 * Paging a list kept in the URL (components/UrlPagination), in the real browser against the real
 * server: 25 users → "1–20 of 25", Next writes ?page=2 and shows the last 5, a page size of 10
 * goes back to the first page and writes ?page_size=10, and a reload keeps what the URL says.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { ensureWebBuild, launchBrowser, signIn, watchedPage, type Browser } from './browser-support.js';

describe('a paged list in the browser', () => {
  let h: Harness;
  let browser: Browser;

  before(async () => {
    ensureWebBuild();
    h = await startApi();
    const admin = await h.login();
    // With the admin: 25 users.
    for (let i = 1; i <= 24; i++) {
      const r = await h.request('POST', '/api/users/', {
        token: admin,
        body: { username: `paged-${String(i).padStart(2, '0')}`, password: 'password-123', role: 'viewer' },
      });
      assert.equal(r.status, 201, r.text);
    }
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  test('next page, page size and reload follow the URL', async () => {
    const { page, pageErrors } = await watchedPage(browser);
    await signIn(page, h.baseUrl);
    await page.goto(`${h.baseUrl}/admin/users`);
    const pagination = page.getByTestId('pagination');
    await pagination.getByText('1–20 of 25').waitFor();
    await pagination.getByTestId('page-next').click();
    await pagination.getByText('21–25 of 25').waitFor();
    assert.equal(new URL(page.url()).searchParams.get('page'), '2');
    // The label follows the URL at once; the rows follow when page 2's answer arrives (seen 20 rows
    // still on screen under a loaded CI machine), so wait for them rather than count once.
    await page.locator('tbody tr').nth(5).waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await page.locator('tbody tr').count(), 5);
    assert.equal(await pagination.getByTestId('page-next').isDisabled(), true, 'no page after the last');

    await pagination.locator('select').selectOption('10');
    await pagination.getByText('1–10 of 25').waitFor();
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('page_size'), '10');
    assert.equal(url.searchParams.get('page'), null, 'a new page size starts at the first page');

    await pagination.getByTestId('page-next').click();
    await pagination.getByText('11–20 of 25').waitFor();
    await page.reload();
    await page.getByTestId('pagination').getByText('11–20 of 25').waitFor();
    assert.deepEqual(pageErrors, []);
    await page.close();
  });
});
