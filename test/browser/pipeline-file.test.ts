/**
 * Pipelines as code in a real browser against the real server: the run page's graph of steps (what
 * waits on what, statuses arriving live, a node opening its step's log), the Pipeline file page
 * (CodeMirror with the server's lint errors inline at their line, the plan drawn as a graph), and
 * "Export YAML" round-tripping through the linter to the same steps. Screenshots, light and dark, on
 * a desktop and a phone, go to test-output/screenshots/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startApi, type Harness } from '../support/api-harness.js';
import { createBareRepo, makeTempDir, startGitDaemon, type GitServer, type TempDir } from '../support/git-fixtures.js';
import { ensureWebBuild, launchBrowser, screenshotPath, seeder, shell, signIn, watchedPage, type Browser, type WatchedPage } from './browser-support.js';

// page.evaluate callbacks run in the browser; the test project has no DOM lib
declare const document: any;
declare const getComputedStyle: any;

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

/** The graph's edges as `from -> to`, sorted. */
async function graphEdges(page: Page, graph: string): Promise<string[]> {
  const edges = await page
    .locator(`[data-testid=${graph}] [data-testid=graph-edge]`)
    .evaluateAll((paths: any[]) => paths.map((p) => `${p.getAttribute('data-from')} -> ${p.getAttribute('data-to')}`));
  return edges.sort();
}

/** Nothing is wider than the viewport (a phone must never scroll sideways). */
async function assertNoSidewaysScroll(page: Page, what: string): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= innerWidth, `${what}: the page is ${scrollWidth}px wide on a ${innerWidth}px screen`);
}

async function shoot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: screenshotPath(name), animations: 'disabled', caret: 'hide', fullPage });
}

describe('pipelines as code in the browser', () => {
  let h: Harness;
  let browser: Browser;
  let admin: string;
  let seed: ReturnType<typeof seeder>;
  const tabs: WatchedPage[] = [];

  before(async () => {
    ensureWebBuild();
    h = await startApi({ cancelGraceSeconds: 1 });
    admin = await h.login();
    seed = seeder(h, admin);
    browser = await launchBrowser();
    const first = await watchedPage(browser);
    await signIn(first.page, h.baseUrl);
    await first.page.close();
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  const tab = async () => {
    const w = await watchedPage(browser);
    tabs.push(w);
    return w;
  };
  const closeTab = async (w: WatchedPage) => {
    assert.deepEqual(w.pageErrors, [], 'no uncaught errors in the page');
    await w.page.close();
  };

  test("a run's graph: what waits on what, statuses arriving live, a node opens its step's log", async () => {
    // The last step waits for a file in the run's workspace, so the test sees it running, then done.
    const id = await seed.pipeline('graph-stages', [
      shell('Install', 'for i in $(seq 1 200); do echo "install line $i"; done'),
      shell('Lint', 'echo linted', { parallel_group: 'checks' }),
      shell('Unit tests', 'echo tested', { parallel_group: 'checks' }),
      shell('Build', 'while [ ! -e go-ahead ]; do sleep 0.1; done; echo built'),
    ]);
    const runId = await seed.run(id);
    const w = await tab();
    const { page } = w;
    await page.goto(`${h.baseUrl}/runs/${runId}`);
    const graph = page.locator('[data-testid=run-graph]');
    await graph.waitFor();
    assert.equal(await graph.locator('[data-testid=graph-node]').count(), 4);
    assert.deepEqual(await graphEdges(page, 'run-graph'), ['Install -> Lint', 'Install -> Unit tests', 'Lint -> Build', 'Unit tests -> Build']);
    // laid out left to right: each stage starts after the one it waits on ends
    const box = async (name: string) => (await graph.locator(`[data-testid=graph-node][data-step-name="${name}"]`).boundingBox())!;
    const [install, lint, tests, build] = [await box('Install'), await box('Lint'), await box('Unit tests'), await box('Build')];
    assert.ok(lint.x >= install.x + install.width && tests.x >= install.x + install.width, 'the checks are right of Install');
    assert.ok(build.x >= lint.x + lint.width, 'Build is right of the checks');
    assert.ok(Math.abs(lint.x + lint.width / 2 - (tests.x + tests.width / 2)) < 1 && lint.y !== tests.y, 'the parallel checks share a column');

    // live: Build runs, the others are done, without a reload
    const node = (name: string) => graph.locator(`[data-testid=graph-node][data-step-name="${name}"]`);
    await node('Build').and(page.locator('[data-status=running]')).waitFor({ timeout: 40_000 });
    for (const name of ['Install', 'Lint', 'Unit tests']) assert.equal(await node(name).getAttribute('data-status'), 'success', name);
    const runningColour = await node('Build').evaluate((el: any) => getComputedStyle(el).borderLeftColor);
    const doneColour = await node('Install').evaluate((el: any) => getComputedStyle(el).borderLeftColor);
    assert.notEqual(runningColour, doneColour, 'a running node is coloured apart from a successful one');
    const gate = join(h.dataDir, 'workspaces', `run-${runId}`, 'go-ahead');
    assert.ok(!existsSync(gate));
    writeFileSync(gate, 'go');
    await node('Build').and(page.locator('[data-status=success]')).waitFor({ timeout: 40_000 });
    await page.locator('[data-testid=run-status][data-status=success]').waitFor();

    // a node opens its step's log. The log followed the run to its end, so Install's section (200
    // lines up) is out of view; its node brings it to the top.
    await page.locator('[data-testid=log-line]', { hasText: 'built' }).waitFor();
    const sectionOffset = (stepId: string) =>
      page.evaluate((id: string) => {
        const scroll = document.querySelector('[data-testid=log-scroll]');
        const head = document.querySelector(`[data-testid=log-section-header][data-step-id="${id}"]`);
        return scroll && head ? head.getBoundingClientRect().top - scroll.getBoundingClientRect().top : null;
      }, stepId);
    const installId = (await node('Install').getAttribute('data-step-id'))!;
    assert.ok(installId, 'a run node carries its step id');
    const before = await sectionOffset(installId);
    assert.ok(before === null || before < -100, `Install's section is out of view before the click (offset ${before})`);
    await node('Install').click();
    await page.waitForFunction(
      (id: string) => {
        const scroll = document.querySelector('[data-testid=log-scroll]');
        const head = document.querySelector(`[data-testid=log-section-header][data-step-id="${id}"]`);
        if (!scroll || !head) return false;
        const offset = head.getBoundingClientRect().top - scroll.getBoundingClientRect().top;
        return offset >= -2 && offset < 30;
      },
      installId,
      { timeout: 5_000 },
    );
    await page.locator('[data-testid=log-line]', { hasText: 'install line 1' }).first().waitFor();
    await closeTab(w);
  });

  test('a run of steps with needs and matrix cells: its graph, statuses live, cells boxed under their step', async () => {
    const id = await seed.pipeline('graph-needs', [
      shell('checkout', 'echo checked out'),
      shell('test (NODE=20)', 'echo node 20', { needs: ['checkout'] }),
      shell('test (NODE=22)', 'echo node 22', { needs: ['checkout'] }),
      shell('lint', 'echo lint', { needs: ['checkout'] }),
      shell('publish', 'while [ ! -e go-ahead ]; do sleep 0.1; done; echo published', { needs: ['test (NODE=20)', 'test (NODE=22)', 'lint'] }),
      shell('cleanup', 'echo cleaned', { needs: ['publish'], when: { status: 'always' } }),
    ]);
    const runId = await seed.run(id);
    const w = await tab();
    const { page } = w;
    await page.goto(`${h.baseUrl}/runs/${runId}`);
    const graph = page.locator('[data-testid=run-graph]');
    await graph.locator('[data-testid=graph-node]').first().waitFor();
    // the API gives each step what it waited on, from the run's snapshot
    const api = await seed.getRun(runId);
    assert.deepEqual(
      api.steps.map((s: { name: string; needs: string[] | null }) => [s.name, s.needs]),
      [
        ['checkout', null],
        ['test (NODE=20)', ['checkout']],
        ['test (NODE=22)', ['checkout']],
        ['lint', ['checkout']],
        ['publish', ['test (NODE=20)', 'test (NODE=22)', 'lint']],
        ['cleanup', ['publish']],
      ],
    );
    assert.deepEqual(await graphEdges(page, 'run-graph'), [
      'checkout -> lint',
      'checkout -> test (NODE=20)',
      'checkout -> test (NODE=22)',
      'lint -> publish',
      'publish -> cleanup',
      'test (NODE=20) -> publish',
      'test (NODE=22) -> publish',
    ]);
    // the matrix cells sit in one box labelled with their step, showing their values
    const group = graph.locator('[data-testid=graph-group][data-group=test]');
    assert.equal(await group.count(), 1);
    const cell = graph.locator('[data-testid=graph-node][data-step-name="test (NODE=22)"]');
    assert.equal((await cell.innerText()).trim(), 'NODE=22');
    const node = (name: string) => graph.locator(`[data-testid=graph-node][data-step-name="${name}"]`);
    await node('publish').and(page.locator('[data-status=running]')).waitFor({ timeout: 40_000 });
    for (const name of ['checkout', 'test (NODE=20)', 'test (NODE=22)', 'lint']) assert.equal(await node(name).getAttribute('data-status'), 'success', name);
    assert.equal(await node('cleanup').getAttribute('data-status'), 'pending');
    writeFileSync(join(h.dataDir, 'workspaces', `run-${runId}`, 'go-ahead'), 'go');
    await node('cleanup').and(page.locator('[data-status=success]')).waitFor({ timeout: 40_000 });
    assert.equal(await node('publish').getAttribute('data-status'), 'success');
    await page.setViewportSize(PHONE);
    await assertNoSidewaysScroll(page, 'run page with a graph, phone');
    await page.setViewportSize(DESKTOP);
    await closeTab(w);
  });

  test("the editor's Pipeline file field: saved as config_path, shown on the pipeline, cleared back to the stored steps", async () => {
    const id = await seed.pipeline('from-a-file', [shell('Build', 'echo build')], { repository_url: 'https://github.com/example/app.git' });
    const w = await tab();
    const { page } = w;
    await page.goto(`${h.baseUrl}/pipelines/${id}/edit`);
    const field = page.locator('[data-testid=editor-config-path]');
    await field.fill('/etc/passwd');
    await page.locator('[data-testid=editor-save]').click();
    // the form refuses a path outside the repository before sending it, next to the field
    await page.locator('[data-testid=field-error][data-field=config_path]').waitFor();
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    await field.fill('ci/.ansflow.yml');
    await page.locator('[data-testid=steps-unused]').waitFor();
    await page.locator('[data-testid=editor-save]').click();
    await page.waitForURL((u) => u.pathname === `/pipelines/${id}`);
    assert.equal((await page.locator('[data-testid=pipeline-config-path]').innerText()).trim(), 'ci/.ansflow.yml');
    await page.locator('[data-testid=steps-from-file]').waitFor();
    assert.equal((await h.request('GET', `/api/pipelines/${id}/`, { token: admin })).json.config_path, 'ci/.ansflow.yml');

    await page.goto(`${h.baseUrl}/pipelines/${id}/edit`);
    assert.equal(await field.inputValue(), 'ci/.ansflow.yml');
    await field.fill('');
    await page.locator('[data-testid=editor-save]').click();
    await page.waitForURL((u) => u.pathname === `/pipelines/${id}`);
    assert.equal((await h.request('GET', `/api/pipelines/${id}/`, { token: admin })).json.config_path, null);
    assert.equal(await page.locator('[data-testid=pipeline-config-path]').count(), 0);
    await closeTab(w);
  });

  test('the Pipeline file page: a valid file shows its plan as a graph; typing an invalid one shows the error inline at its line', async () => {
    const w = await tab();
    const { page } = w;
    await page.goto(`${h.baseUrl}/pipelines/file`);
    const content = page.locator('[data-testid=yaml-editor] .cm-content');
    await content.waitFor();
    // the example file: valid, with needs and a matrix
    await page.locator('[data-testid=lint-badge][data-valid=true]').waitFor({ timeout: 15_000 });
    const plan = page.locator('[data-testid=plan-graph]');
    await plan.locator('[data-testid=graph-node]').first().waitFor();
    assert.deepEqual(await plan.locator('[data-testid=graph-node]').evaluateAll((nodes: any[]) => nodes.map((n) => n.getAttribute('data-step-name')).sort()), [
      'build',
      'install',
      'publish',
      'test (NODE=20)',
      'test (NODE=22)',
    ]);
    assert.deepEqual(await graphEdges(page, 'plan-graph'), [
      'build -> publish',
      'install -> build',
      'install -> test (NODE=20)',
      'install -> test (NODE=22)',
      'test (NODE=20) -> publish',
      'test (NODE=22) -> publish',
    ]);
    assert.equal(await plan.locator('[data-testid=graph-group][data-group=test]').count(), 1, 'the matrix cells are boxed under their step');
    await shoot(page, 'pipeline-file-valid-light');

    // replace the file, then type the last need by hand, misspelt
    await content.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('steps:\n  - name: build\n    run: make\n  - name: test\n    run: make test\n    needs: [');
    await page.keyboard.type('biuld]', { delay: 40 });
    await page.locator('[data-testid=lint-badge][data-valid=false]').waitFor({ timeout: 15_000 });
    const problem = page.locator('[data-testid=file-errors] [data-testid=file-error]');
    assert.equal(await problem.count(), 1);
    assert.equal(await problem.getAttribute('data-line'), '6');
    assert.match(await problem.innerText(), /biuld/);
    // inline: the underline is on line 6 of the editor, and the gutter marks that line
    const marked = await page.evaluate(() => {
      const lines = [...document.querySelectorAll('[data-testid=yaml-editor] .cm-content > .cm-line')];
      const ranges = [...document.querySelectorAll('[data-testid=yaml-editor] .cm-lintRange-error')];
      const markers = [...document.querySelectorAll('[data-testid=yaml-editor] .cm-lint-marker-error')];
      // (no named functions in here: tsx would wrap them in a helper the page does not have)
      return {
        ranges: ranges.map((r: any) => ({ line: 1 + lines.findIndex((l: any) => l.contains(r)), text: r.textContent })),
        markers: markers.map((m: any) => {
          const box = m.getBoundingClientRect();
          const mid = box.top + box.height / 2;
          return 1 + lines.findIndex((l: any) => l.getBoundingClientRect().top <= mid && mid <= l.getBoundingClientRect().bottom);
        }),
      };
    });
    assert.ok(marked.ranges.length >= 1, 'an underline is drawn');
    for (const r of marked.ranges) assert.equal(r.line, 6, `the underline "${r.text}" is on line 6`);
    assert.ok(
      marked.ranges.some((r: { text: string }) => /biuld/.test(r.text)),
      `the misspelt need is underlined (${JSON.stringify(marked.ranges)})`,
    );
    assert.deepEqual(marked.markers, [6], 'one gutter marker, on line 6');
    assert.equal(await page.locator('[data-testid=plan-graph]').count(), 0, 'no plan while the file is invalid');
    await shoot(page, 'pipeline-file-error-light');

    // clicking the problem moves the cursor there; fixing the typo clears it and draws the plan
    await problem.locator('button').click();
    await page.keyboard.press('End');
    for (let i = 0; i < 'biuld]'.length; i++) await page.keyboard.press('Backspace');
    await page.keyboard.type('build]', { delay: 40 });
    await page.locator('[data-testid=lint-badge][data-valid=true]').waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('[data-testid=yaml-editor] .cm-lintRange-error').count(), 0);
    await plan.locator('[data-testid=graph-node]').first().waitFor();
    assert.deepEqual(await graphEdges(page, 'plan-graph'), ['build -> test']);
    await closeTab(w);
  });

  test('Export YAML round-trips: the exported file lints to the same steps, waiting on the same steps', async () => {
    const steps = [
      shell('Install', 'npm ci', { timeout_seconds: 600 }),
      shell('Lint', 'npm run lint', { parallel_group: 'checks', retries: 2 }),
      shell('Unit tests', 'npm test', { parallel_group: 'checks', continue_on_error: true }),
      shell('Build', 'npm run build'),
    ];
    const id = await seed.pipeline('export-me', steps, { description: 'round trip' });
    const w = await tab();
    const { page } = w;
    await page.goto(`${h.baseUrl}/pipelines/${id}`);
    await page.locator('[data-testid=export-yaml]').click();
    const yaml = page.locator('[data-testid=export-yaml-dialog] [data-testid=export-yaml]');
    await yaml.waitFor();
    const text = await yaml.innerText();
    assert.match(text, /Unit tests/);

    // the same text through the linter gives the pipeline's steps back
    const linted = await h.request('POST', '/api/pipelines/lint/', { token: admin, body: { content: text } });
    assert.equal(linted.status, 200, linted.text);
    assert.equal(linted.json.valid, true, JSON.stringify(linted.json.errors));
    const stored = (await h.request('GET', `/api/pipelines/${id}/`, { token: admin })).json.steps;
    const fields = (s: Record<string, unknown>) => {
      const { needs: _needs, parallel_group: _group, ...rest } = s;
      return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== null && v !== undefined));
    };
    assert.deepEqual(linted.json.steps.map(fields), stored.map(fields), 'every field of every step, in order');

    // and in the browser: the file opens in the editor, is valid, and its plan waits as the stages did
    await page.locator('[data-testid=export-open-editor]').click();
    await page.waitForURL((u) => u.pathname === '/pipelines/file');
    await page.locator('[data-testid=lint-badge][data-valid=true]').waitFor({ timeout: 15_000 });
    // each line of the document is a .cm-line (an empty one holds a <br>, which innerText would count twice)
    const editorText = (await page.locator('[data-testid=yaml-editor] .cm-content > .cm-line').allTextContents()).join('\n');
    assert.equal(editorText.trim(), text.trim(), 'the editor holds the exported file');
    await page.locator('[data-testid=plan-graph] [data-testid=graph-node]').first().waitFor();
    assert.deepEqual(await graphEdges(page, 'plan-graph'), ['Install -> Lint', 'Install -> Unit tests', 'Lint -> Build', 'Unit tests -> Build']);
    await closeTab(w);
  });

  test("runs that read their steps from the repository's file: the graph of the expanded plan, and an invalid file's problems", async () => {
    const tmp: TempDir = makeTempDir();
    let daemon: GitServer | undefined;
    try {
      createBareRepo(tmp.path, 'app', {
        history: [
          {
            '.ansflow.yml': [
              'steps:',
              '  - name: build',
              '    run: echo built',
              '  - name: test',
              '    run: echo "node $NODE"',
              '    needs: [build]',
              '    matrix:',
              '      NODE: ["20", "22"]',
              '  - name: ship',
              '    run: echo shipped',
              '    needs: [test]',
              '',
            ].join('\n'),
          },
        ],
      });
      createBareRepo(tmp.path, 'broken', { history: [{ '.ansflow.yml': 'steps:\n  - name: build\n    run: make\n    needs: [nothing]\n' }] });
      daemon = await startGitDaemon(tmp.path);
      const good = await seed.pipeline('as-code', [], { repository_url: daemon.url('app'), config_path: '.ansflow.yml' });
      const bad = await seed.pipeline('as-code-broken', [], { repository_url: daemon.url('broken'), config_path: '.ansflow.yml' });

      const goodRun = await seed.finished(await seed.run(good), 90_000);
      assert.equal(goodRun.status, 'success', JSON.stringify(goodRun));
      const w = await tab();
      const { page } = w;
      await page.goto(`${h.baseUrl}/runs/${goodRun.id}`);
      const graph = page.locator('[data-testid=run-graph]');
      await graph.locator('[data-testid=graph-node][data-status=success]').first().waitFor();
      assert.deepEqual(await graphEdges(page, 'run-graph'), [
        'build -> test (NODE=20)',
        'build -> test (NODE=22)',
        'test (NODE=20) -> ship',
        'test (NODE=22) -> ship',
      ]);
      assert.equal(await graph.locator('[data-testid=graph-group][data-group=test]').count(), 1);
      assert.equal(await graph.locator('[data-testid=graph-node][data-status=success]').count(), 4);

      const badRun = await seed.finished(await seed.run(bad), 90_000);
      assert.equal(badRun.status, 'error');
      await page.goto(`${h.baseUrl}/runs/${badRun.id}`);
      const problems = page.locator('[data-testid=run-config-errors]');
      await problems.waitFor();
      const item = problems.locator('[data-testid=file-error]');
      assert.equal(await item.count(), 1);
      assert.equal(await item.getAttribute('data-line'), '4');
      assert.equal(await item.getAttribute('data-path'), 'steps[0].needs[0]');
      assert.match(await item.innerText(), /\.ansflow\.yml:4:\d+[\s\S]*nothing/);
      assert.equal(await page.locator('[data-testid=run-graph]').count(), 0, 'no step ran, so there is no graph');
      assert.equal(await page.locator('[data-testid=run-error-reason]').count(), 0, 'the problems are listed once, not again as the error reason');
      await shoot(page, 'run-config-errors-light');
      await closeTab(w);
    } finally {
      await daemon?.stop();
      tmp.cleanup();
    }
  });

  test("a run's graph shows each step's `when`: a step skipped by its condition, and steps `when` left out, dashed, with why", async () => {
    const tmp: TempDir = makeTempDir();
    let daemon: GitServer | undefined;
    try {
      createBareRepo(tmp.path, 'conditions', {
        history: [
          {
            '.ansflow.yml': [
              'steps:',
              '  - { name: build, run: echo built }',
              '  - { name: notify, run: echo failed, needs: [build], when: { status: failure } }',
              '  - { name: deploy, run: echo deploy, needs: [build], when: { branch: "release/*" } }',
              '  - { name: docs, run: echo docs, when: { event: push } }',
              '',
            ].join('\n'),
          },
        ],
      });
      daemon = await startGitDaemon(tmp.path);
      const pipeline = await seed.pipeline('conditions', [], { repository_url: daemon.url('conditions'), config_path: '.ansflow.yml' });
      const run = await seed.finished(await seed.run(pipeline), 90_000);
      assert.equal(run.status, 'success', JSON.stringify(run));
      const w = await tab();
      const { page } = w;
      await page.goto(`${h.baseUrl}/runs/${run.id}`);
      const graph = page.locator('[data-testid=run-graph]');
      await graph.locator('[data-testid=graph-node][data-status=success]').first().waitFor();

      const notify = graph.locator('[data-testid=graph-node][data-step-name=notify]');
      assert.equal(await notify.getAttribute('data-status'), 'skipped');
      assert.equal(await notify.getAttribute('data-condition'), 'if failure');
      assert.equal(await notify.locator('[data-testid=graph-condition]').innerText(), 'when: if failure');
      assert.match((await notify.getAttribute('title'))!, /its condition \(if failure\) did not hold/);

      const deploy = graph.locator('[data-testid=graph-node][data-step-name=deploy]');
      assert.equal(await deploy.getAttribute('data-status'), 'left-out');
      assert.equal(await deploy.locator('[data-testid=graph-left-out-reason]').innerText(), 'not run: branch "main" is not in when.branch');
      assert.match((await deploy.getAttribute('title'))!, /not in this run/);
      const docs = graph.locator('[data-testid=graph-node][data-step-name=docs]');
      assert.equal(await docs.locator('[data-testid=graph-left-out-reason]').innerText(), 'not run: event "manual" is not in when.event');
      // Left-out steps are drawn apart: dashed, and tied by a dashed edge to what they would have waited for.
      assert.equal(await deploy.evaluate((el: any) => getComputedStyle(el).borderTopStyle), 'dashed');
      assert.deepEqual(await graphEdges(page, 'run-graph'), ['build -> left-out:deploy', 'build -> notify']);
      assert.equal(
        await graph.locator('[data-testid=graph-edge][data-to="left-out:deploy"]').evaluate((el: any) => getComputedStyle(el).strokeDasharray),
        '4px, 3px',
      );
      await shoot(page, 'run-graph-conditions-light');
      await closeTab(w);
    } finally {
      await daemon?.stop();
      tmp.cleanup();
    }
  });

  test('the run graph and the Pipeline file page, light and dark, desktop and phone (screenshots)', async () => {
    const id = await seed.pipeline('graph-shots', [
      shell('Install', 'echo install'),
      shell('Lint', 'echo lint', { parallel_group: 'checks' }),
      shell('Unit tests', 'exit 3', { parallel_group: 'checks', continue_on_error: true }),
      shell('Build', 'echo build'),
    ]);
    const runId = await seed.run(id);
    await seed.finished(runId);
    const w = await tab();
    const { page } = w;
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [size, viewport] of [
        ['desktop', DESKTOP],
        ['phone', PHONE],
      ] as const) {
        await page.setViewportSize(viewport);
        await page.goto(`${h.baseUrl}/runs/${runId}`);
        await page.locator('[data-testid=run-graph] [data-testid=graph-node][data-status=failed]').waitFor();
        await assertNoSidewaysScroll(page, `run page, ${size}`);
        await shoot(page, `run-graph-${size}-${scheme}`);
      }
    }
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [size, viewport] of [
        ['desktop', DESKTOP],
        ['phone', PHONE],
      ] as const) {
        await page.setViewportSize(viewport);
        await page.goto(`${h.baseUrl}/pipelines/file`);
        await page.locator('[data-testid=lint-badge][data-valid=true]').waitFor({ timeout: 15_000 });
        await page.locator('[data-testid=plan-graph] [data-testid=graph-node]').first().waitFor();
        const bg = await page.evaluate(() => getComputedStyle(document.querySelector('[data-testid=yaml-editor] .cm-editor')).backgroundColor);
        const [r, g, b] = (bg.match(/\d+/g) ?? []).map(Number);
        assert.equal((r! + g! + b!) / 3 > 128, scheme === 'light', `the editor follows the ${scheme} theme (background ${bg})`);
        await assertNoSidewaysScroll(page, `Pipeline file page, ${size}`);
        await shoot(page, `pipeline-file-${size}-${scheme}`, true);
      }
    }
    await page.setViewportSize(DESKTOP);
    await closeTab(w);
  });
});
