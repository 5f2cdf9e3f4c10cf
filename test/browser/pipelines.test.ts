/**
 * The main journey in a real browser against the real server: the editor (schema forms, API
 * validation errors next to their field), running from the Run dialog with a variable, the log
 * arriving live, cancelling, HTML in the log rendered as text, run history by status, a step's
 * credential, network and limits, and the notice on a fork's run that got no secrets.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApi, type Harness } from '../support/api-harness.js';
import { waitFor } from '../support/wait.js';
import {
  ensureWebBuild,
  launchBrowser,
  renderedLogText,
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
declare const window: any;
declare const requestAnimationFrame: any;

describe('pipelines, runs and logs in the browser', () => {
  let h: Harness;
  let browser: Browser;
  let admin: string;
  let seed: ReturnType<typeof seeder>;
  const open: WatchedPage[] = [];

  before(async () => {
    ensureWebBuild();
    h = await startApi({ cancelGraceSeconds: 1 });
    admin = await h.login();
    seed = seeder(h, admin);
    browser = await launchBrowser();
    const first = await watchedPage(browser);
    await signIn(first.page, h.baseUrl); // the session (localStorage) is shared by the context's pages
    await first.page.close();
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  /** A fresh tab per test (closing a tab skips beforeunload, so a dirty editor cannot block). */
  const tab = async () => {
    const w = await watchedPage(browser);
    open.push(w);
    return w;
  };
  const closeTab = async (w: WatchedPage) => {
    assert.deepEqual(w.pageErrors, [], 'no uncaught errors in the page');
    await w.page.close();
  };

  test('an unsafe repository on a git_checkout step: the API error appears under that input', async () => {
    const { page, ...w } = await tab();
    await page.goto(`${h.baseUrl}/pipelines/new`);
    await page.locator('[data-testid=editor-name]').fill('checkout-validation');
    const card = page.locator('[data-testid=step-card][data-step-index="0"]');
    await card.locator('[data-testid=step-type]').selectOption('git_checkout');
    await card.locator('[data-testid=step-name]').fill('Checkout');
    const repo = card.locator('[data-testid=step-field-repository]');
    await repo.fill('ext::sh -c x');
    await page.locator('[data-testid=editor-save]').click();

    const error = card.locator('[data-testid=field-error][data-field="steps[0].config.repository"]');
    await error.waitFor();
    assert.match((await error.textContent()) ?? '', /whitespace or control characters/, 'the message is the API one');
    assert.equal(await repo.getAttribute('aria-invalid'), 'true');
    const errorId = await error.getAttribute('id');
    assert.ok(errorId && ((await repo.getAttribute('aria-describedby')) ?? '').split(' ').includes(errorId), 'the input is described by its error');
    // next to the field: the error lives in the same .field block as the input, just below it
    const sameField = await repo.evaluate((input: any) => {
      const field = input.closest('.field');
      const err = field?.querySelector('[data-testid=field-error]');
      return err ? err.getBoundingClientRect().top >= input.getBoundingClientRect().bottom - 1 : false;
    });
    assert.ok(sameField, 'the error is inside the field, below the input');
    await page.locator('[data-testid=editor-errors]').waitFor();
    assert.match(page.url(), /\/pipelines\/new$/, 'still on the editor');
    const list = await h.request('GET', '/api/pipelines/', { token: admin });
    assert.equal(list.json.count, 0, 'nothing was created');
    await closeTab({ page, ...w });
  });

  let pipelineId = 0;

  test('create a pipeline through the editor: a shell_command step added and filled through its schema form', async () => {
    const { page, ...w } = await tab();
    await page.goto(`${h.baseUrl}/pipelines`);
    await page.locator('[data-testid=new-pipeline]').click();
    await page.waitForURL(/\/pipelines\/new$/);
    await page.locator('[data-testid=editor-name]').fill('browser-e2e');
    await page.locator('[data-testid=editor-description]').fill('Made by test/browser');
    // replace the default step by one added through "Add a step"
    await page.locator('[data-testid=step-card]').first().locator('[data-testid=step-remove]').click();
    assert.equal(await page.locator('[data-testid=step-card]').count(), 0);
    await page.locator('[data-testid=add-step-type]').selectOption('shell_command');
    await page.locator('[data-testid=add-step]').click();
    const card = page.locator('[data-testid=step-card][data-step-index="0"]');
    await card.waitFor();
    await card.locator('[data-testid=step-name]').fill('Ticks');
    // a command from the generated form; it waits for a file the test creates, so "live" is provable
    const command = 'echo "greeting=$GREETING"; for i in 1 2 3; do echo tick-$i; sleep 0.2; done; while [ ! -e "$GATE" ]; do sleep 0.1; done; echo released';
    await card.locator('[data-testid=step-field-command]').fill(command);
    // enum field with a default, generated from the schema
    assert.deepEqual(await card.locator('[data-testid=step-field-shell] option').allTextContents(), ['(default)', 'bash', 'sh']);
    await page.locator('[data-testid=editor-save]').click();
    await page.waitForURL(/\/pipelines\/\d+$/);
    assert.equal(await page.locator('[data-testid=pipeline-title]').textContent(), 'browser-e2e');
    pipelineId = Number(/\/pipelines\/(\d+)$/.exec(page.url())![1]);
    const saved = await h.request('GET', `/api/pipelines/${pipelineId}/`, { token: admin });
    assert.equal(saved.status, 200);
    assert.equal(saved.json.steps.length, 1);
    assert.equal(saved.json.steps[0].type, 'shell_command');
    assert.equal(saved.json.steps[0].name, 'Ticks');
    assert.equal(saved.json.steps[0].config.command, command);
    await closeTab({ page, ...w });
  });

  test('run from the Run dialog with a variable and watch the log arrive live', async () => {
    assert.ok(pipelineId > 0, 'needs the pipeline from the editor test');
    const { page, ...w } = await tab();
    await page.goto(`${h.baseUrl}/pipelines/${pipelineId}`);
    await page.locator('[data-testid=run-pipeline]').click();
    const dialog = page.locator('[data-testid=run-dialog]');
    await dialog.waitFor();
    await dialog.locator('[data-testid=run-var-add]').click();
    await dialog.locator('[data-testid=run-var-key-0]').fill('GREETING');
    await dialog.locator('[data-testid=run-var-value-0]').fill('hello-from-dialog');
    await dialog.locator('[data-testid=run-var-add]').click();
    await dialog.locator('[data-testid=run-var-key-1]').fill('GATE');
    // A file in the run's workspace (the step's working directory): the sandbox shows it nothing else.
    await dialog.locator('[data-testid=run-var-value-1]').fill('release');
    await dialog.locator('[data-testid=run-submit]').click();
    await page.waitForURL(/\/runs\/\d+$/);
    const runId = Number(/\/runs\/(\d+)$/.exec(page.url())![1]);
    const gate = join(h.dataDir, 'workspaces', `run-${runId}`, 'release');

    // tick-1 shows up while the run is still blocked on the gate: it arrived live, not at the end
    await page.locator('[data-testid=log-line]', { hasText: 'tick-1' }).waitFor({ timeout: 40_000 });
    assert.ok(!existsSync(gate));
    assert.equal((await seed.getRun(runId)).status, 'running', 'the run is still running when tick-1 is on screen');
    const mode = (await page.locator('[data-testid=run-live-mode]').textContent())?.trim();
    process.stdout.write(`# live updates mode on the run page: ${mode}\n`);
    assert.match(await renderedLogText(page), /greeting=hello-from-dialog/, 'the dialog variable reached the step');
    const run = await seed.getRun(runId);
    assert.equal(run.variables.GREETING, 'hello-from-dialog');

    writeFileSync(gate, 'go');
    await page.locator('[data-testid=run-status][data-status=success]').waitFor({ timeout: 40_000 });
    await page.locator('[data-testid=log-line]', { hasText: 'released' }).waitFor();
    const text = await renderedLogText(page);
    assert.ok(text.indexOf('tick-1') < text.indexOf('tick-3') && text.indexOf('tick-3') < text.indexOf('released'), 'lines in order, none lost');
    assert.equal(text.split('\n').filter((l) => l === 'tick-2').length, 1, 'no duplicated lines');
    assert.equal(await page.locator('[data-testid=step-row]').count(), 1);
    await closeTab({ page, ...w });
  });

  test('cancel a running run from the run page', async () => {
    const id = await seed.pipeline('sleeper', [shell('Sleep', 'echo started; sleep 30; echo woke-up')]);
    const runId = await seed.run(id);
    const { page, ...w } = await tab();
    await page.goto(`${h.baseUrl}/runs/${runId}`);
    await page.locator('[data-testid=run-status][data-status=running]').waitFor({ timeout: 40_000 });
    await page.locator('[data-testid=log-line]', { hasText: 'started' }).waitFor({ timeout: 40_000 });
    const clicked = Date.now();
    await page.locator('[data-testid=cancel-run]').click();
    await page.locator('[data-testid=run-status][data-status=cancelled]').waitFor({ timeout: 40_000 });
    const run = await seed.getRun(runId);
    assert.equal(run.status, 'cancelled');
    assert.ok(Date.now() - clicked < 25_000, 'the sleep was stopped, not waited out');
    assert.ok(!(await renderedLogText(page)).includes('woke-up'));
    assert.equal(await page.locator('[data-testid=cancel-run]').isVisible(), false, 'no cancel button on a finished run');
    await closeTab({ page, ...w });
  });

  test('HTML and ANSI-wrapped HTML in the log render as text, never as elements', async () => {
    const id = await seed.pipeline('xss', [
      shell(
        'Evil',
        [
          "echo '<script>alert(1)</script>'",
          "printf '\\033[31m<img src=x onerror=alert(1)>\\033[0m\\n'",
          `echo '<a href="javascript:alert(1)">click me</a>'`,
          "printf '\\033]8;;javascript:alert(1)\\033\\\\osc-link\\033]8;;\\033\\\\\\n'",
        ].join('\n'),
      ),
    ]);
    const runId = await seed.run(id);
    const { page, dialogs, ...w } = await tab();
    await page.addInitScript(() => {
      // any script that did run would leave a trace here as well as a dialog
      (globalThis as any).__alerts = 0;
      const original = (globalThis as any).alert;
      (globalThis as any).alert = (...args: unknown[]) => {
        (globalThis as any).__alerts++;
        return original?.(...args);
      };
    });
    await page.goto(`${h.baseUrl}/runs/${runId}`);
    await page.locator('[data-testid=log-line]', { hasText: '<script>alert(1)</script>' }).waitFor({ state: 'visible', timeout: 40_000 });
    const imgLine = page.locator('[data-testid=log-line]', { hasText: '<img src=x onerror=alert(1)>' });
    await imgLine.waitFor({ state: 'visible' });
    await page.locator('[data-testid=log-line]', { hasText: 'osc-link' }).waitFor({ state: 'visible' });
    // the ANSI colour is applied (so the escape codes were parsed, not shown or dropped wholesale)
    assert.equal(await imgLine.locator('.log-text .ansi-fg-1').textContent(), '<img src=x onerror=alert(1)>');
    // eslint-disable-next-line no-control-regex -- the ESC byte is exactly what must not show
    assert.doesNotMatch((await imgLine.textContent()) ?? '', /\x1b|\[31m/);
    const unsafe = await page.evaluate(() => {
      const viewer = document.querySelector('[data-testid=log-viewer]');
      return {
        scripts: viewer.querySelectorAll('script').length,
        imgs: viewer.querySelectorAll('img').length,
        links: [...viewer.querySelectorAll('a')].map((a: any) => a.getAttribute('href')).filter((href: string | null) => !/^#L\d+$/.test(href ?? '')),
        handlers: [...viewer.querySelectorAll('*')].filter((el: any) => [...el.attributes].some((a: any) => a.name.startsWith('on'))).length,
        alerts: window.__alerts,
      };
    });
    assert.deepEqual(unsafe, { scripts: 0, imgs: 0, links: [], handlers: 0, alerts: 0 });
    // give an onerror handler a chance to fire if an <img> had been created anyway
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50))));
    assert.deepEqual(dialogs, [], 'no dialog opened');
    await closeTab({ page, dialogs, ...w });
  });

  test('run history across pipelines, filtered by status (kept in the URL)', async () => {
    const failing = await seed.pipeline('fails', [shell('Fail', 'echo about to fail; exit 3')]);
    const failedRun = await seed.run(failing);
    await seed.finished(failedRun);
    const all = (await h.request('GET', '/api/pipeline-runs/?page_size=100', { token: admin })).json.results as Array<{ id: number; status: string }>;
    const byStatus = (s: string) =>
      all
        .filter((r) => r.status === s)
        .map((r) => r.id)
        .sort();
    assert.ok(byStatus('failed').length >= 1 && byStatus('success').length >= 1 && byStatus('cancelled').length >= 1, JSON.stringify(all));

    const { page, ...w } = await tab();
    await page.goto(`${h.baseUrl}/runs`);
    await waitFor(async () => (await page.locator('[data-testid=run-row]').count()) === all.length, 15_000, 'all runs listed');
    const rowsNow = async () =>
      (
        await page.locator('[data-testid=run-row]').evaluateAll((rows: any[]) => rows.map((r) => ({ id: Number(r.dataset.runId), status: r.dataset.status })))
      ).sort((a, b) => a.id - b.id);

    for (const status of ['failed', 'cancelled', 'success']) {
      await page.locator('[data-testid=filter-run-status]').selectOption(status);
      await page.waitForURL((u) => u.searchParams.get('status') === status);
      const expected = byStatus(status);
      const rows = await waitFor(
        async () => {
          const r = await rowsNow();
          return r.length === expected.length && r.every((x) => x.status === status) ? r : undefined;
        },
        15_000,
        `only ${status} runs`,
      );
      assert.deepEqual(
        rows.map((r) => r.id),
        expected,
      );
    }
    // the back button restores the previous filter
    await page.goBack();
    await page.waitForURL((u) => u.searchParams.get('status') === 'cancelled');
    await waitFor(async () => JSON.stringify((await rowsNow()).map((r) => r.id)) === JSON.stringify(byStatus('cancelled')), 15_000, 'cancelled rows again');
    assert.equal(await page.locator('[data-testid=filter-run-status]').inputValue(), 'cancelled');
    // a status with no runs says so
    await page.locator('[data-testid=filter-run-status]').selectOption('timeout');
    await page.getByText('No timeout runs').waitFor();
    await closeTab({ page, ...w });
  });

  test('a step gets a credential, no network and a memory limit in the editor; saved, reloaded and shown again', async () => {
    const created = await h.request('POST', '/api/credentials/', {
      token: admin,
      body: { name: 'deploy-token', kind: 'token', secret: { token: 'browser-test-token' } },
    });
    assert.equal(created.status, 201, created.text);
    const id = await seed.pipeline('sandboxed-step', [shell('Build', 'make')]);
    const { page, ...w } = await tab();
    await page.goto(`${h.baseUrl}/pipelines/${id}/edit`);
    const card = page.locator('[data-testid=step-card][data-step-index="0"]');
    await card.waitFor();
    assert.equal(await card.locator('[data-testid=step-sandbox]').count(), 0, 'a step with no sandbox settings starts folded');
    await card.locator('[data-testid=step-advanced-toggle]').click();
    const credential = card.locator('[data-testid=step-credential]');
    await waitFor(async () => (await credential.locator('option').count()) === 2, 10_000, 'the credential list from the API');
    assert.deepEqual(await credential.locator('option').allTextContents(), ['none', 'deploy-token (token)']);
    await credential.selectOption('deploy-token');
    await card.locator('[data-testid=step-network]').selectOption('none');
    await card.locator('[data-testid=step-limit-memory]').fill('256m');
    const forks = page.locator('[data-testid=editor-secrets-for-forks]');
    assert.equal(await forks.isChecked(), false, 'fork pull requests get no secrets by default');
    await forks.check();
    await card
      .locator('[data-testid=step-sandbox]')
      .screenshot({ path: screenshotPath('pipeline-editor-step-sandbox'), animations: 'disabled', caret: 'hide' });
    await page.locator('[data-testid=editor-save]').click();
    await page.waitForURL(new RegExp(`/pipelines/${id}$`));

    const saved = (await h.request('GET', `/api/pipelines/${id}/`, { token: admin })).json;
    assert.equal(saved.secrets_for_forks, true);
    assert.deepEqual(
      { credential: saved.steps[0].credential, network: saved.steps[0].network, limits: saved.steps[0].limits },
      { credential: 'deploy-token', network: 'none', limits: { memory: '256m' } },
    );

    // A reload from the pipeline page the save landed on; the page may still be settling (lazy
    // chunks), which Chromium reports as an aborted navigation (seen once in CI): try once more.
    await page.goto(`${h.baseUrl}/pipelines/${id}/edit`).catch(async (error: Error) => {
      if (!/ERR_ABORTED/.test(error.message)) throw error;
      await page.goto(`${h.baseUrl}/pipelines/${id}/edit`);
    });
    await card.locator('[data-testid=step-sandbox]').waitFor(); // open at once: the step has sandbox settings
    await waitFor(async () => (await card.locator('[data-testid=step-credential] option').count()) === 2, 10_000, 'the credential list again');
    assert.equal(await card.locator('[data-testid=step-credential]').inputValue(), 'deploy-token');
    assert.equal(await card.locator('[data-testid=step-network]').inputValue(), 'none');
    assert.equal(await card.locator('[data-testid=step-limit-memory]').inputValue(), '256m');
    assert.equal(await card.locator('[data-testid=step-limit-processes]').inputValue(), '', 'an empty limit is the server default');
    assert.equal(await page.locator('[data-testid=editor-secrets-for-forks]').isChecked(), true);
    await closeTab({ page, ...w });
  });

  test("a fork's pull request run says on its page that secrets were withheld", async () => {
    const id = await seed.pipeline('fork-notice', [shell('Print', 'echo "token=[${TOKEN-unset}]"')], {
      variables: { TOKEN: { value: 'never-shown', secret: true } },
    });
    const run = await h.ctx.runs.trigger(null, {
      pipelineId: id,
      branch: 'feature',
      trigger: { type: 'webhook', event: 'pull_request', provider: 'github' },
      fromFork: true,
    });
    await seed.finished(run.id);
    const { page, ...w } = await tab();
    await page.goto(`${h.baseUrl}/runs/${run.id}`);
    const notice = page.locator('[data-testid=run-secrets-withheld]');
    await notice.waitFor();
    assert.match((await notice.textContent()) ?? '', /Secrets withheld: pull request from a fork/);
    await waitFor(async () => (await renderedLogText(page)).includes('token=[unset]'), 15_000, 'the log without the secret');
    await page.screenshot({ path: screenshotPath('run-secrets-withheld'), animations: 'disabled', caret: 'hide' });
    await closeTab({ page, ...w });
  });
});
