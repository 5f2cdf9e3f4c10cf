/**
 * Build outputs in a real browser against the real server and worker (docs/artifacts.md): a run's
 * artifacts with sizes, the whole .tar.gz and each file downloaded through their links; a
 * pipeline's caches page (sizes, last use, hits and hit rate, clearing one and all); retrying a
 * failed run (its failed steps, or from a chosen step) with the reused steps marked and the "retry
 * of #N" link, and, with no usable snapshot, the API's reason and a full run offered instead.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type Harness } from '../support/api-harness.js';
import {
  ensureWebBuild,
  launchBrowser,
  runStatus,
  screenshotPath,
  seeder,
  shell,
  signIn,
  watchedPage,
  type Browser,
  type WatchedPage,
} from './browser-support.js';

// page.evaluate callbacks run in the browser; the test project has no DOM lib
declare const document: any;

describe('build outputs in the browser', () => {
  let h: Harness;
  let browser: Browser;
  let admin: string;
  let seed: ReturnType<typeof seeder>;
  let w: WatchedPage;

  before(async () => {
    ensureWebBuild();
    h = await startApi();
    admin = await h.login();
    seed = seeder(h, admin);
    browser = await launchBrowser();
    w = await watchedPage(browser);
    await signIn(w.page, h.baseUrl);
  });
  after(async () => {
    assert.deepEqual(w?.pageErrors ?? [], [], 'no uncaught errors in the page');
    await browser?.close();
    await h?.close();
  });

  test("the run page lists the run's artifacts with sizes; the archive and each file download through their links", async () => {
    const { page } = w;
    const id = await seed.pipeline('outputs-artifacts', [
      shell(
        'build',
        'mkdir -p dist/sub && printf "console.log(1)\\n" > dist/app.js && head -c 3000 /dev/urandom > dist/sub/data.bin && ln -s /etc/passwd dist/passwd',
        {
          artifacts: { name: 'dist', paths: ['dist/**'] },
        },
      ),
    ]);
    const run = await seed.finished(await seed.run(id));
    assert.equal(run.status, 'success');
    const listed = (await h.request('GET', `/api/pipeline-runs/${run.id}/artifacts/`, { token: admin })).json.results[0];

    await page.goto(`${h.baseUrl}/runs/${run.id}`);
    const artifact = page.locator('[data-testid=artifact][data-artifact-name=dist]');
    await artifact.waitFor();
    assert.equal(await artifact.locator('[data-testid=artifact-size]').textContent(), '2.9 KiB');
    assert.match((await artifact.textContent()) ?? '', /2 files/);
    // The link refused is shown with its reason.
    await artifact.locator('[data-testid=artifact-refused] summary').click();
    assert.match((await artifact.locator('[data-testid=artifact-refused]').textContent()) ?? '', /dist\/passwd.*symbolic link \(not followed\)/);

    // The whole artifact: the link names the API's address, a click saves the .tar.gz.
    const whole = artifact.locator('[data-testid=artifact-download]');
    assert.equal(await whole.getAttribute('href'), listed.download_url);
    const [archive] = await Promise.all([page.waitForEvent('download'), whole.click()]);
    assert.equal(archive.suggestedFilename(), 'dist.tar.gz');
    const dir = mkdtempSync(join(tmpdir(), 'ansflow-browser-artifact-'));
    try {
      execFileSync('tar', ['-xzf', (await archive.path())!], { cwd: dir });
      assert.equal(readFileSync(join(dir, 'dist', 'app.js'), 'utf8'), 'console.log(1)\n');
      const data = readFileSync(join(dir, 'dist', 'sub', 'data.bin'));

      // Each file on its own, with its size.
      await artifact.locator('[data-testid=artifact-files-toggle]').click();
      const files = artifact.locator('[data-testid=artifact-file]');
      assert.deepEqual(await files.allTextContents(), ['dist/app.js', 'dist/sub/data.bin']);
      assert.deepEqual(await artifact.locator('[data-testid=artifact-file-size]').allTextContents(), ['15 B', '2.9 KiB']);
      const [one] = await Promise.all([page.waitForEvent('download'), files.nth(1).click()]);
      assert.equal(one.suggestedFilename(), 'data.bin');
      const bytes = readFileSync((await one.path())!);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), createHash('sha256').update(data).digest('hex'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await page.screenshot({ path: screenshotPath('run-artifacts'), fullPage: true });
  });

  test("a pipeline's caches page shows sizes, last use and hit rate, and clears them", async () => {
    const { page } = w;
    const id = await seed.pipeline('outputs-caches', [
      shell('install', '[ -f deps/lib.txt ] && echo restored || (mkdir -p deps && head -c 2048 /dev/urandom > deps/lib.txt)', {
        cache: { key: 'deps-v1', paths: ['deps'] },
      }),
      shell('tools', 'mkdir -p tools && echo t > tools/t.txt', { cache: { key: 'tools-{{ branch }}', paths: ['tools'] } }),
    ]);
    assert.equal((await seed.finished(await seed.run(id))).status, 'success');
    assert.equal((await seed.finished(await seed.run(id))).status, 'success');
    const api = (await h.request('GET', `/api/pipelines/${id}/caches/`, { token: admin })).json;
    assert.equal(api.count, 2);

    await page.goto(`${h.baseUrl}/pipelines/${id}`);
    await page.locator('[data-testid=pipeline-caches-link]').click();
    await page.waitForURL((u) => u.pathname === `/pipelines/${id}/caches`);
    const rows = page.locator('[data-testid=cache-row]');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 2);
    const deps = page.locator('[data-testid=cache-row][data-cache-key=deps-v1]');
    const depsApi = api.results.find((c: { key: string }) => c.key === 'deps-v1');
    // Saved by the first run, restored (a hit) by the second.
    assert.equal(depsApi.hits, 1);
    assert.equal(await deps.locator('[data-testid=cache-hits]').textContent(), '1');
    assert.match((await deps.locator('[data-testid=cache-size]').textContent()) ?? '', /^\d+(\.\d)? (B|KiB)$/);
    assert.equal(await deps.locator('[data-testid=cache-scope]').textContent(), 'branch main');
    assert.match((await deps.locator('[data-testid=cache-last-used]').textContent()) ?? '', /ago|now/);
    // Four lookups, two exact hits.
    assert.deepEqual([api.stats.lookups, api.stats.exact_hits], [4, 2]);
    assert.equal(await page.locator('[data-testid=cache-hit-rate]').textContent(), '50%');
    assert.equal(await page.locator('[data-testid=cache-count]').textContent(), '2');
    await page.screenshot({ path: screenshotPath('pipeline-caches'), fullPage: true });

    // One entry, then all.
    await deps.locator('[data-testid=delete-cache]').click();
    await page.locator('[data-testid=confirm-submit]').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=cache-row]').length === 1);
    assert.equal((await h.request('GET', `/api/pipelines/${id}/caches/`, { token: admin })).json.results[0].key, 'tools-main');
    await page.locator('[data-testid=clear-caches]').click();
    await page.locator('[data-testid=confirm-submit]').click();
    await page.getByText('No caches').waitFor();
    assert.equal((await h.request('GET', `/api/pipelines/${id}/caches/`, { token: admin })).json.count, 0);
  });

  test('retry failed steps and retry from a step: reused steps marked, "retry of #N" linked; no snapshot offers a full run', async () => {
    const { page } = w;
    const id = await seed.pipeline('outputs-retry', [
      shell('build', 'echo "built in run $ANSFLOW_RUN_NUMBER" > out.txt'),
      // Fails in the first run only (a flaky test).
      shell('test', 'cat out.txt; [ "$ANSFLOW_RUN_NUMBER" -gt 1 ]'),
      shell('package', 'cat out.txt'),
    ]);
    const original = await seed.finished(await seed.run(id));
    assert.equal(original.status, 'failed');

    await page.goto(`${h.baseUrl}/runs/${original.id}`);
    await page.locator('[data-testid=run-status][data-status=failed]').waitFor();
    await page.locator('[data-testid=retry-failed]').click();
    await page.waitForURL((u) => u.pathname !== `/runs/${original.id}`);
    const retryId = Number(new URL(page.url()).pathname.split('/').pop());
    await runStatus(page, retryId, 'success').waitFor({ timeout: 30_000 });
    const retry = await seed.getRun(retryId);
    assert.deepEqual(retry.retry_of, { run_id: original.id, number: original.number, from: 'failed' });
    assert.match((await page.locator('[data-testid=run-retry-of]').textContent()) ?? '', new RegExp(`Retry of #${original.number} from its failed steps`));
    const step = (name: string) => page.locator(`[data-testid=step-row][data-step-name=${name}]`);
    assert.equal(await step('build').getAttribute('data-reused'), 'true');
    assert.equal(await step('build').locator('[data-testid=step-reused]').textContent(), 'reused');
    assert.equal(await step('test').getAttribute('data-reused'), null);
    assert.equal(await step('test').getAttribute('data-status'), 'success');
    await page.screenshot({ path: screenshotPath('run-retry'), fullPage: true });

    // "Retry from this step" on the retry: a third run reusing build and test.
    await page.locator('[data-testid=retry-from-step][data-step-name=package]').click();
    await page.waitForURL((u) => u.pathname !== `/runs/${retryId}`);
    const thirdId = Number(new URL(page.url()).pathname.split('/').pop());
    // The retried run was a success too: wait for the third run's own page, not any success badge.
    await runStatus(page, thirdId, 'success').waitFor({ timeout: 30_000 });
    const third = await seed.getRun(thirdId);
    assert.deepEqual(third.retry_of, { run_id: retryId, number: retry.number, from: 'package' });
    assert.deepEqual(
      third.steps.map((s: { name: string; reused_from: number | null }) => [s.name, s.reused_from !== null]),
      [
        ['build', true],
        ['test', true],
        ['package', false],
      ],
    );
    assert.equal(await step('test').getAttribute('data-reused'), 'true');
    assert.match((await page.locator('[data-testid=run-retry-of]').textContent()) ?? '', /from step “package”/);
    // The link goes back to the run retried.
    await page.locator('[data-testid=run-retry-of-link]').click();
    await page.waitForURL((u) => u.pathname === `/runs/${retryId}`);

    // Without a usable snapshot the API's reason is shown and a full run is offered.
    const lost = await seed.pipeline('outputs-no-snapshot', [shell('one', 'true'), shell('two', 'exit 1')]);
    const failed = await seed.finished(await seed.run(lost));
    await h.ctx.artifactStore.deletePrefix(`runs/${failed.id}/`);
    await page.goto(`${h.baseUrl}/runs/${failed.id}`);
    await page.locator('[data-testid=retry-failed]').click();
    const reason = page.locator('[data-testid=retry-refused-reason]');
    await reason.waitFor();
    assert.match((await reason.textContent()) ?? '', /No usable workspace snapshot was kept after step "one".*run the pipeline again from the start/);
    assert.equal(new URL(page.url()).pathname, `/runs/${failed.id}`);
    await page.screenshot({ path: screenshotPath('run-retry-refused'), fullPage: true });
    await page.locator('[data-testid=retry-full-rerun]').click();
    await page.waitForURL((u) => u.pathname !== `/runs/${failed.id}`);
    const full = await seed.getRun(Number(new URL(page.url()).pathname.split('/').pop()));
    assert.equal(full.retry_of, null);
    assert.equal(full.number, failed.number + 1);
    await runStatus(page, full.id, 'failed').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('[data-testid=run-retry-of]').count(), 0);
  });
});
