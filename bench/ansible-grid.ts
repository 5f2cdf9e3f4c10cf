/**
 * The task × host grid of an Ansible step at 200 hosts × 10 tasks in Chromium (issue 12,
 * Performance: "renders in under 1 s and stays responsive while it fills"), against the real
 * server (in this process), its WebSocket and the built web UI (web/dist).
 *
 * A real 200 × 10 playbook takes minutes on this machine (Ansible forks a worker per host and
 * task), so the results are replayed: a real Ansible step holds the run open on a one-host
 * `pause`, and the benchmark feeds 10 tasks × 200 host results for that step through the same
 * path the worker's reporter uses (stored in ansible_events, then published on the event bus,
 * in batches every 50 ms) at `--rate` results a second: the page gets them over its WebSocket
 * exactly as from Ansible. Measured in the page while it fills:
 *   - each result's delay from being published to being in the rendered grid (its data-results,
 *     read once per frame after a DOM change; the grid keeps only the columns in view in the DOM);
 *   - long tasks (PerformanceObserver 'longtask', > 50 ms of main thread) and the gaps between
 *     animation frames (a frame longer than 50 ms is input the page could not answer in time);
 * then, the run cancelled, the page opened afresh on the stored results: the time from the
 * results' REST answer arriving to all 2000 results in the rendered grid (the next frame after),
 * and from navigation start. Every cell in the DOM is checked to show a result at the end.
 *
 *   node --import tsx bench/ansible-grid.ts [--hosts 200] [--tasks 10] [--rate 100,1000] [--rounds 3]
 *
 * Needs web/dist (built when older than web/src) and /usr/bin/chromium.
 */
import assert from 'node:assert/strict';
import { loadavg } from 'node:os';
import { startApi, type Harness } from '../test/support/api-harness.js';
import { ensureWebBuild, launchBrowser, seeder, signIn, watchedPage } from '../test/browser/browser-support.js';
import { waitFor } from '../test/support/wait.js';
import { AnsibleEventsRepository } from '../src/store/ansible-events-repository.js';
import type { AnsibleEvent, HostResult } from '../src/domain/ansible-events.js';
import { ascending, median, percentile } from './stats.js';

// page.evaluate callbacks run in the browser; the project has no DOM lib
declare const document: any;
declare const window: any;
declare const performance: any;

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const HOSTS = Number(arg('hosts', '200'));
const TASKS = Number(arg('tasks', '10'));
const RATES = arg('rate', '100,1000').split(',').map(Number);
const ROUNDS = Number(arg('rounds', '3'));
const CELLS = HOSTS * TASKS;
const BATCH_MS = 50;

const HOLD_PLAYBOOK = `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: hold the run open\n      pause: { seconds: 900 }\n`;

/**
 * Installed before the app's scripts: long tasks, frame gaps, and filled cells over time. A string,
 * not a function: tsx's compiled functions call a helper (__name) the page does not have.
 */
const INSTRUMENT = `(() => {
  const perf = { longtasks: [], frames: [], filled: [] };
  window.__gridPerf = perf;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) perf.longtasks.push([e.startTime, e.duration]);
  }).observe({ type: 'longtask', buffered: true });
  let last = performance.now();
  function tick(t) {
    perf.frames.push([t, t - last]);
    last = t;
    requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
  // The results in the grid (its data-results: the grid keeps only the columns in view in the DOM),
  // read on the frame after a DOM change, so a count is a painted state.
  let queued = false;
  function count() {
    queued = false;
    const grid = document.querySelector('[data-testid=ansible-grid]');
    const n = grid ? Number(grid.dataset.results) : 0;
    const prev = perf.filled[perf.filled.length - 1];
    if (!prev || prev[1] !== n) perf.filled.push([Date.now(), n]);
  }
  new MutationObserver(() => {
    if (!queued) {
      queued = true;
      requestAnimationFrame(count);
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status', 'data-results'] });
})();`;

interface Fill {
  rate: number;
  fillMs: number;
  delays: number[];
  longtasks: number;
  longtaskMs: number;
  longestTask: number;
  script: number;
  layout: number;
  style: number;
  task: number;
  frames: number[];
}

interface Render {
  fromAnswer: number;
  fromNavigation: number;
  longestTask: number;
}

const STATUSES: HostResult[] = ['ok', 'ok', 'ok', 'changed', 'ok', 'skipped', 'ok', 'changed', 'ok', 'ok'];

/** The events of a 200 × 10 playbook, as the callback would write them (seq given when fed). */
function replayEvents(): Array<Omit<AnsibleEvent, 'seq' | 'at'>> {
  const events: Array<Omit<AnsibleEvent, 'seq' | 'at'>> = [{ kind: 'play', play: { id: 'bench-play', name: 'bench' } } as never];
  for (let t = 0; t < TASKS; t++) {
    events.push({ kind: 'task', play_id: 'bench-play', task: { id: `bench-task-${t}`, name: `task ${t + 1}`, action: 'debug', handler: false } } as never);
    for (let h = 0; h < HOSTS; h++) {
      const status = h === 7 && t === TASKS - 1 ? 'failed' : STATUSES[t % STATUSES.length]!;
      events.push({
        kind: 'host',
        task_id: `bench-task-${t}`,
        host: `host${String(h + 1).padStart(3, '0')}`,
        status,
        duration_ms: 12,
        message: `host ${h + 1} task ${t + 1}`,
      } as never);
    }
  }
  return events;
}

async function main() {
  ensureWebBuild();
  const h: Harness = await startApi();
  const browser = await launchBrowser({ viewport: { width: 1440, height: 1000 } });
  const fills: Fill[] = [];
  const renders: Render[] = [];
  try {
    const token = await h.login();
    const seed = seeder(h, token);
    const inv = await h.request('POST', '/api/inventories/', {
      token,
      body: { name: 'hold', format: 'ini', content: 'hold ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' },
    });
    assert.equal(inv.status, 201, inv.text);
    const pipeline = await seed.pipeline('ansible-grid-bench', [
      { name: 'prepare', type: 'shell_command', config: { command: `cat > site.yml <<'YAML'\n${HOLD_PLAYBOOK}\nYAML` } },
      { name: 'deploy', type: 'ansible_playbook', config: { playbook: 'site.yml', inventory_name: 'hold' } },
    ]);
    const store = new AnsibleEventsRepository(h.ctx.db.kysely);
    const w = await watchedPage(browser);
    await w.page.addInitScript(INSTRUMENT);
    await signIn(w.page, h.baseUrl);
    // The main thread's time split by kind (CDP Performance.getMetrics: cumulative seconds).
    const cdp = await browser.context.newCDPSession(w.page);
    await cdp.send('Performance.enable');
    const metrics = async () => {
      const { metrics: m } = (await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> };
      const get = (n: string) => (m.find((x) => x.name === n)?.value ?? 0) * 1000;
      return { script: get('ScriptDuration'), layout: get('LayoutDuration'), style: get('RecalcStyleDuration'), task: get('TaskDuration') };
    };

    for (let round = 0; round < ROUNDS; round++)
      for (const rate of RATES) {
        const runId = await seed.run(pipeline);
        await w.page.goto(`${h.baseUrl}/runs/${runId}`);
        // The holding task is in the grid: the step runs and the page follows it live.
        const run = await waitFor(
          async () => {
            const r = await seed.getRun(runId);
            return r.steps.find((s: { name: string; status: string }) => s.name === 'deploy' && s.status === 'running') ? r : undefined;
          },
          120_000,
          'the Ansible step starts',
        );
        const stepId: number = run.steps.find((s: { name: string }) => s.name === 'deploy').id;
        await w.page.locator(`[data-testid=ansible-results-${stepId}] [data-testid=ansible-grid] tbody tr`).first().waitFor({ timeout: 120_000 });
        await w.page.locator('[data-testid=run-live-mode]').filter({ hasText: 'live' }).waitFor({ timeout: 30_000 });
        const startedAt = await w.page.evaluate(() => performance.now());
        const m0 = await metrics();
        let seq = (await store.lastSeq(runId, stepId)) + 1;
        const published: number[] = [];
        const all = replayEvents();
        const perBatch = Math.max(1, Math.round((rate * BATCH_MS) / 1000));
        const began = Date.now();
        for (let i = 0; i < all.length; i += perBatch) {
          const due = began + (i / rate) * 1000;
          if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
          const at = new Date().toISOString();
          const batch = all.slice(i, i + perBatch).map((e) => ({ ...e, seq: seq++, at }) as AnsibleEvent);
          // What the reporter does: stored first, then published (run-reporter.ts: ansibleEvents).
          await store.append(runId, stepId, batch);
          h.ctx.events.publish({ type: 'ansible', runId, stepId, events: batch });
          const now = Date.now();
          for (const e of batch) if (e.kind === 'host') published.push(now);
        }
        await waitFor(
          () => w.page.evaluate((n: number) => (window.__gridPerf.filled.at(-1)?.[1] ?? 0) >= n, CELLS),
          120_000,
          `all ${CELLS} cells filled`,
        ).catch(async (e) => {
          const seen = await w.page.evaluate(() => ({
            filled: window.__gridPerf.filled.slice(-3),
            cells: document.querySelectorAll('[data-testid=ansible-grid] td').length,
            text: document.querySelector('[data-testid=ansible-grid]')?.outerHTML.slice(0, 1500),
          }));
          throw new Error(`${(e as Error).message}: ${JSON.stringify(seen)}`);
        });
        const m1 = await metrics();
        // (the first row is the holding task, which has no results)
        const empty = await w.page.evaluate(
          () => document.querySelectorAll('[data-testid=ansible-grid] tbody tr:not(:first-child) td[data-host][data-status=""]').length,
        );
        const inDom = await w.page.evaluate(() => document.querySelectorAll('[data-testid=ansible-grid] td[data-host]').length);
        assert.equal(empty, 0, 'every cell in view shows its result');
        assert.ok(inDom >= TASKS, 'cells in the DOM');
        const perf = await w.page.evaluate(() => window.__gridPerf);
        const filled: Array<[number, number]> = perf.filled;
        // The k-th result shows when the count of filled cells first reaches k.
        const delays: number[] = [];
        let j = 0;
        for (let k = 0; k < published.length; k++) {
          while (j < filled.length && filled[j]![1] < k + 1) j++;
          if (j < filled.length) delays.push(filled[j]![0] - published[k]!);
        }
        const filledEnd = filled.at(-1)![0] - (await w.page.evaluate(() => performance.timeOrigin));
        const during = (t: number) => t >= startedAt && t <= filledEnd;
        const tasks = (perf.longtasks as Array<[number, number]>).filter(([t]) => during(t));
        fills.push({
          rate,
          fillMs: filled.at(-1)![0] - began,
          delays,
          longtasks: tasks.length,
          longtaskMs: tasks.reduce((a, [, d]) => a + d, 0),
          longestTask: Math.max(0, ...tasks.map(([, d]) => d)),
          script: m1.script - m0.script,
          layout: m1.layout - m0.layout,
          style: m1.style - m0.style,
          task: m1.task - m0.task,
          frames: (perf.frames as Array<[number, number]>).filter(([t]) => during(t)).map(([, d]) => d),
        });
        process.stderr.write(`# round ${round + 1}, ${rate}/s: filled in ${fills.at(-1)!.fillMs} ms; ${inDom} cells in the DOM\n`);

        const cancel = await h.request('POST', `/api/pipeline-runs/${runId}/cancel/`, { token });
        assert.ok(cancel.status < 300, cancel.text);
        await seed.finished(runId, 60_000);
        // The stored results, opened afresh.
        await w.page.goto(`${h.baseUrl}/runs/${runId}`);
        await waitFor(() => w.page.evaluate((n: number) => (window.__gridPerf?.filled.at(-1)?.[1] ?? 0) >= n, CELLS), 60_000, 'the stored grid rendered');
        const shown = await w.page.evaluate(() => {
          const answer = performance.getEntriesByType('resource').filter((e: any) => /\/steps\/\d+\/ansible\/$/.test(new URL(e.name).pathname));
          const last = window.__gridPerf.filled.at(-1)[0] - performance.timeOrigin;
          return {
            answerEnd: answer.length ? answer[answer.length - 1].responseEnd : NaN,
            full: last,
            longest: Math.max(0, ...window.__gridPerf.longtasks.map(([, d]: [number, number]) => d)),
          };
        });
        // Scrolled to the right end, the last host's column is there with its results.
        await w.page.evaluate(() => {
          const box = document.querySelector('.ansible-grid-scroll');
          box.scrollLeft = box.scrollWidth;
        });
        const lastHost = `host${String(HOSTS).padStart(3, '0')}`;
        await w.page.locator(`[data-testid=ansible-grid] tbody tr:nth-child(2) td[data-host=${lastHost}][data-status=ok]`).waitFor({ timeout: 10_000 });
        renders.push({ fromAnswer: shown.full - shown.answerEnd, fromNavigation: shown.full, longestTask: shown.longest });
      }
    if (w.pageErrors.length) throw new Error(`page errors: ${w.pageErrors.join('; ')}`);
  } finally {
    await browser.close();
    await h.close();
  }

  const ms = (n: number) => `${Math.round(n)} ms`;
  console.log(
    `\nAnsible grid: ${HOSTS} hosts × ${TASKS} tasks in Chromium, ${ROUNDS} round(s); load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log('| measure | value (median of rounds; p95 / max over all) | target |');
  console.log('| --- | --- | --- |');
  console.log(
    `| full grid from the stored results: REST answer → all ${CELLS} results in the painted grid | ${ms(median(renders.map((r) => r.fromAnswer)))} (max ${ms(Math.max(...renders.map((r) => r.fromAnswer)))}) | < 1 s |`,
  );
  console.log(`| same, from navigation start (page, bundle, session, run, results) | ${ms(median(renders.map((r) => r.fromNavigation)))} | — |`);
  console.log(`| longest task while opening | ${ms(Math.max(...renders.map((r) => r.longestTask)))} | — |`);
  for (const rate of RATES) {
    const f = fills.filter((x) => x.rate === rate);
    const delays = ascending(f.flatMap((x) => x.delays));
    const frames = ascending(f.flatMap((x) => x.frames));
    console.log(
      `| live at ${rate} results/s: first result fed → all in the grid | ${ms(median(f.map((x) => x.fillMs)))} (feed alone ${ms((CELLS / rate) * 1000)}) | — |`,
    );
    console.log(
      `| live at ${rate}/s: published → in the painted grid, p50 / p95 / max | ${ms(percentile(delays, 50))} / ${ms(percentile(delays, 95))} / ${ms(delays.at(-1)!)} | — |`,
    );
    console.log(
      `| live at ${rate}/s: long tasks (count, total, longest) per fill | ${median(f.map((x) => x.longtasks))}, ${ms(median(f.map((x) => x.longtaskMs)))}, ${ms(Math.max(...f.map((x) => x.longestTask)))} | responsive: none ≫ 50 ms |`,
    );
    console.log(
      `| live at ${rate}/s: main thread busy (script / layout / style) per fill | ${ms(median(f.map((x) => x.task)))} (${ms(median(f.map((x) => x.script)))} / ${ms(median(f.map((x) => x.layout)))} / ${ms(median(f.map((x) => x.style)))}) | — |`,
    );
    console.log(
      `| live at ${rate}/s: frame gap p50 / p95 / max; frames > 50 ms | ${ms(percentile(frames, 50))} / ${ms(percentile(frames, 95))} / ${ms(frames.at(-1)!)}; ${frames.filter((d) => d > 50).length} of ${frames.length} | — |`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
