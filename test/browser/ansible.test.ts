/**
 * An Ansible step's results on the run page in a real browser against the real server: 24 hosts
 * (`ansible_connection=local` aliases) × 4 tasks, one host failing a task. The task × host grid
 * shows each cell coloured by its result, the recap counts per host, the host filter narrows
 * both and the step's raw log, and the re-run button starts a run limited to the failed host. A
 * second run, watched while a pause holds the playbook, fills the grid from the WebSocket with no
 * polling. Screenshots of the grid, finished and live.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { ensureWebBuild, launchBrowser, screenshotPath, seeder, shell, signIn, watchedPage, type Browser, type WatchedPage } from './browser-support.js';
import { waitFor } from '../support/wait.js';

const HOSTS = Array.from({ length: 24 }, (_, i) => `node${String(i + 1).padStart(2, '0')}`);
const PLAYBOOK = `
- hosts: all
  gather_facts: false
  tasks:
    - name: say hello
      debug: { msg: "hello {{ inventory_hostname }}" }
    - name: change something
      command: /bin/true
    - name: only on the first half
      debug: { msg: first }
      when: inventory_hostname < 'node13'
    - name: node07 is broken
      fail: { msg: "node07 refuses" }
      when: inventory_hostname == 'node07'
`;

const LIVE_PLAYBOOK = `
- hosts: all
  gather_facts: false
  tasks:
    - name: before the pause
      debug: { msg: "hello {{ inventory_hostname }}" }
    - name: pause
      pause: { seconds: 8 }
      run_once: true
    - name: after the pause
      command: /bin/true
`;

describe('Ansible results in the browser', () => {
  let h: Harness;
  let browser: Browser;
  let w: WatchedPage;
  let token: string;
  let runId: number;
  let stepId: number;

  let livePipeline: number;

  before(async () => {
    ensureWebBuild();
    h = await startApi();
    token = await h.login();
    const inventory = `[nodes]\n${HOSTS.map((n) => `${n} ansible_connection=local ansible_python_interpreter=/usr/bin/python3`).join('\n')}\n`;
    const created = await h.request('POST', '/api/inventories/', { token, body: { name: 'local-nodes', format: 'ini', content: inventory } });
    assert.equal(created.status, 201, created.text);
    const seed = seeder(h, token);
    const pipeline = await seed.pipeline('ansible-grid', [
      shell('prepare', `cat > site.yml <<'YAML'\n${PLAYBOOK}\nYAML`),
      { name: 'deploy', type: 'ansible_playbook', config: { playbook: 'site.yml', inventory_name: 'local-nodes', forks: 8 } },
    ]);
    // The same hosts with a pause between two tasks: a run watched while it fills in.
    livePipeline = await seed.pipeline('ansible-live', [
      shell('prepare', `sleep 3\ncat > site.yml <<'YAML'\n${LIVE_PLAYBOOK}\nYAML`),
      { name: 'deploy', type: 'ansible_playbook', config: { playbook: 'site.yml', inventory_name: 'local-nodes', forks: 8 } },
    ]);
    runId = await seed.run(pipeline);
    const run = await seed.finished(runId, 180_000);
    assert.equal(run.status, 'failed');
    stepId = run.steps.find((s: { name: string }) => s.name === 'deploy').id;
    browser = await launchBrowser({ viewport: { width: 1440, height: 1100 } });
    w = await watchedPage(browser);
    await signIn(w.page, h.baseUrl);
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  test('the task × host grid, the recap, the host filter and the re-run on failed hosts', async () => {
    const { page } = w;
    await page.goto(`${h.baseUrl}/runs/${runId}`);
    const section = page.locator(`[data-testid=ansible-results-${stepId}]`);
    const grid = section.locator('[data-testid=ansible-grid]');
    await grid.waitFor();
    assert.equal(await grid.locator('tbody tr').count(), 4, 'one row a task');
    assert.equal(await grid.locator('thead th.ansible-host').count(), 24, 'one column a host');
    const cell = (task: number, host: string) => grid.locator(`tbody tr:nth-child(${task}) td[data-host="${host}"]`);
    assert.equal(await cell(1, 'node01').getAttribute('data-status'), 'ok');
    assert.equal(await cell(2, 'node01').getAttribute('data-status'), 'changed');
    assert.equal(await cell(3, 'node20').getAttribute('data-status'), 'skipped');
    assert.equal(await cell(4, 'node07').getAttribute('data-status'), 'failed');
    assert.equal(await cell(4, 'node07').textContent(), 'FAIL');
    const failedColour = await cell(4, 'node07').evaluate(
      (e) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(e).backgroundColor,
    );
    const okColour = await cell(1, 'node01').evaluate(
      (e) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(e).backgroundColor,
    );
    assert.notEqual(failedColour, okColour, 'results are told apart by colour');
    const recap = section.locator('[data-testid=ansible-recap]');
    assert.equal(await recap.locator('tr[data-host=node07] td[data-result=failed]').textContent(), '1');
    assert.equal(await recap.locator('tr[data-host=node07] td[data-result=unreachable]').textContent(), '0');
    await grid.screenshot({ path: screenshotPath('ansible-grid') });

    await section.locator('[data-testid=ansible-host-filter]').selectOption('node07');
    assert.equal(await grid.locator('thead th.ansible-host').count(), 1);
    assert.equal(await recap.locator('tbody tr').count(), 1);
    // The step's raw log, narrowed to the host: its results under their task headers, no other host.
    const hostLog = (await section.locator('[data-testid=ansible-host-log]').textContent()) ?? '';
    assert.match(hostLog, /TASK \[node07 is broken\]/);
    assert.match(hostLog, /fatal: \[node07\]: FAILED!.*node07 refuses/);
    assert.match(hostLog, /^node07\s+: ok=/m, 'its recap line');
    assert.ok(!/\[node0[1-68]\]/.test(hostLog), 'no other host');
    await section.locator('[data-testid=ansible-host-filter]').selectOption('');

    await section.locator('[data-testid=ansible-rerun-failed]').click();
    await page.waitForURL((url) => url.pathname.startsWith('/runs/') && url.pathname !== `/runs/${runId}`);
    const newRunId = Number(new URL(page.url()).pathname.split('/').pop());
    const newRun = await seeder(h, token).finished(newRunId, 180_000);
    const newStep = newRun.steps.find((s: { name: string }) => s.name === 'deploy').id;
    const results = await h.request('GET', `/api/pipeline-runs/${newRunId}/steps/${newStep}/ansible/`, { token });
    assert.deepEqual(results.json.hosts, ['node07'], 'the re-run touched only the failed host');
  });

  test('the grid fills in live from the WebSocket while the playbook runs (no polling)', async () => {
    const { page } = w;
    const seed = seeder(h, token);
    const reads: string[] = [];
    page.on('request', (r) => {
      if (/\/steps\/\d+\/ansible\/$/.test(new URL(r.url()).pathname)) reads.push(r.url());
    });
    const live = await seed.run(livePipeline);
    await page.goto(`${h.baseUrl}/runs/${live}`);
    await page.locator('[data-testid=run-live-mode]').filter({ hasText: 'live' }).waitFor({ timeout: 30_000 });
    const run = await waitFor(
      async () => {
        const r = await seed.getRun(live);
        return r.steps.find((s: { name: string; status: string }) => s.name === 'deploy' && s.status === 'running') ? r : undefined;
      },
      60_000,
      'the Ansible step starts',
    );
    const stepId = run.steps.find((s: { name: string }) => s.name === 'deploy').id;
    const grid = page.locator(`[data-testid=ansible-results-${stepId}] [data-testid=ansible-grid]`);
    // Every host's first result is shown while the pause holds the playbook.
    await grid.locator('tbody tr:nth-child(1) td[data-status=ok]').nth(23).waitFor({ timeout: 60_000 });
    assert.equal((await seed.getRun(live)).status, 'running', 'shown before the run ended');
    await grid.screenshot({ path: screenshotPath('ansible-grid-live') });
    const readsWhileRunning = reads.length;
    await seed.finished(live, 180_000);
    await grid.locator('tbody tr:nth-child(3) td[data-status=changed]').nth(23).waitFor({ timeout: 30_000 });
    assert.equal(await grid.locator('tbody tr').count(), 3);
    // One read when the step appeared (and at most one more as it ended): the rest came over the socket.
    assert.ok(readsWhileRunning <= 2, `read ${readsWhileRunning} times while running (polling?)`);
    assert.ok(reads.length <= 3, `read ${reads.length} times in all`);
  });

  test('the grid keeps only the host columns in view in the DOM; scrolling brings the others', async () => {
    const { page } = w;
    await page.setViewportSize({ width: 640, height: 900 });
    try {
      await page.goto(`${h.baseUrl}/runs/${runId}`);
      const grid = page.locator(`[data-testid=ansible-results-${stepId}] [data-testid=ansible-grid]`);
      await grid.locator('tbody tr:nth-child(1) td[data-host=node01][data-status=ok]').waitFor();
      assert.equal(await grid.getAttribute('data-hosts'), '24');
      const columns = await grid.locator('thead th.ansible-host').count();
      assert.ok(columns < 24, `${columns} host columns in the DOM of a narrow page`);
      assert.equal(await grid.locator('td[data-host=node24]').count(), 0, 'the last host is not rendered yet');
      await page.evaluate(() => {
        const box = (globalThis as unknown as { document: { querySelector(s: string): { scrollLeft: number; scrollWidth: number } } }).document.querySelector(
          '.ansible-grid-scroll',
        );
        box.scrollLeft = box.scrollWidth;
      });
      await grid.locator('tbody tr:nth-child(4) td[data-host=node24][data-status=skipped]').waitFor();
      assert.equal(await grid.locator('td[data-host=node01]').count(), 0, 'the first host left the DOM');
    } finally {
      await page.setViewportSize({ width: 1440, height: 1100 });
    }
  });
});
