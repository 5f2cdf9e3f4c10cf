/**
 * The notification channels page in a real browser against the real server and a real HTTP
 * receiver: create a webhook channel (a bad URL is named under its field first), send a test
 * (the receiver gets it signed; the delivery log shows the attempt and the answer), edit it
 * without retyping the secret, see a run's failure in the log, delete it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startApi, type Harness } from '../support/api-harness.js';
import { waitFor } from '../support/wait.js';
import { verifySignature } from '../../src/domain/notifications.js';
import { ensureWebBuild, launchBrowser, screenshotPath, seeder, shell, signIn, watchedPage, type Browser, type WatchedPage } from './browser-support.js';

describe('notification channels in the browser', () => {
  let h: Harness;
  let browser: Browser;
  let w: WatchedPage;
  let admin = '';
  const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('got it');
    });
  });
  let receiverUrl = '';

  before(async () => {
    ensureWebBuild();
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    h = await startApi();
    admin = await h.login();
    browser = await launchBrowser();
    w = await watchedPage(browser);
    await signIn(w.page, h.baseUrl);
  });
  after(async () => {
    await browser?.close();
    await h?.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  test('create, send a test, read the delivery log, edit keeping the secret, see a failure, delete', async () => {
    const { page } = w;
    await page.goto(`${h.baseUrl}/notifications`);
    await page.locator('[data-testid=new-channel]').click();
    await page.locator('[data-testid=channel-name]').fill('team-hook');
    await page.locator('[data-testid=channel-url]').fill('http://169.254.169.254/latest/');
    await page.locator('[data-testid=channel-secret]').fill('browser-secret-1');
    await page.locator('[data-testid=channel-submit]').click();
    // The API's 400 names config.url: shown under the URL field.
    const urlError = page.locator('#channel-url-error');
    await urlError.waitFor();
    assert.match((await urlError.textContent()) ?? '', /metadata/);

    await page.locator('[data-testid=channel-url]').fill(receiverUrl);
    await page.locator('[data-testid=channel-event-run_failed]').check();
    await page.locator('[data-testid=channel-submit]').click();
    const row = page.locator('[data-testid=channel-row][data-name=team-hook]');
    await row.waitFor();
    assert.equal(((await row.locator('[data-testid=channel-target]').textContent()) ?? '').trim(), receiverUrl);
    assert.ok(!(await page.content()).includes('browser-secret-1'), 'the secret is never shown');

    await row.locator('[data-testid=channel-test]').click();
    const log = page.locator('[data-testid=delivery-log]');
    await log.locator('[data-testid=delivery-row][data-event=test][data-outcome=delivered]').waitFor();
    assert.match((await log.locator('[data-testid=delivery-attempt]').first().textContent()) ?? '', /200 delivered in \d+ ms: got it/);
    assert.equal(received.length, 1);
    assert.ok(verifySignature(received[0]!.body, 'browser-secret-1', received[0]!.headers['x-ansflow-signature-256'] as string));
    await page.screenshot({ path: screenshotPath('notifications-delivery-log') });

    // Edit: events only; the secret field stays empty and the stored secret keeps signing.
    await row.locator('[data-testid=channel-edit]').click();
    assert.equal(await page.locator('[data-testid=channel-secret]').inputValue(), '');
    await page.locator('[data-testid=channel-event-run_fixed]').uncheck();
    await page.locator('[data-testid=channel-submit]').click();
    await waitFor(async () => ((await row.locator('[data-testid=channel-events]').textContent()) ?? '').trim() === 'run_failed', 10_000, 'the saved events');

    const seed = seeder(h, admin);
    const pipeline = await seed.pipeline('breaks', [shell('fail', 'exit 1')]);
    const run = await h.request('POST', `/api/pipelines/${pipeline}/run/`, { token: admin, body: {} });
    assert.equal(run.status, 201, run.text);
    await waitFor(async () => received.some((r) => JSON.parse(r.body).event === 'run_failed'), 20_000, 'the failure to be delivered');
    const failure = received.find((r) => JSON.parse(r.body).event === 'run_failed')!;
    assert.ok(verifySignature(failure.body, 'browser-secret-1', failure.headers['x-ansflow-signature-256'] as string), 'the kept secret signs');
    await log.locator('[data-testid=delivery-log-refresh]').click();
    await log.locator('[data-testid=delivery-row][data-event=run_failed][data-outcome=delivered]').waitFor();
    assert.match((await log.locator('[data-testid=delivery-row][data-event=run_failed]').textContent()) ?? '', /breaks #1 failed on/);

    await row.locator('[data-testid=channel-delete]').click();
    await page.locator('[data-testid=confirm-submit]').click();
    await row.waitFor({ state: 'detached' });
    assert.deepEqual(w.pageErrors, []);
  });
});
