/**
 * Web UI performance, measured in Chromium against the real server: first-load JavaScript size,
 * time to the first visible line of a 200,000-line log, scripting time (CDP Performance.getMetrics)
 * and frame pacing while scrolling that log. Prints the figures and writes them into
 * docs/benchmarks.md as the `## Web UI (test/browser)` section (replacing only that section).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as prettier from 'prettier';
import { startApi, type Harness } from '../support/api-harness.js';
import { ensureWebBuild, launchBrowser, ROOT, seeder, shell, signIn, watchedPage, type Browser, type WatchedPage } from './browser-support.js';

declare const document: any;
declare const performance: any;
declare const requestAnimationFrame: any;

const LINES = 200_000;
const BUDGET_JS_GZIP = 250 * 1024;

interface Figures {
  jsFiles: Array<{ file: string; raw: number; gzip: number }>;
  firstLineMs?: number;
  firstLinePaintMs?: number;
  allLinesMs?: number;
  loadScriptMs?: number;
  loadTaskMs?: number;
  heapMb?: number;
  scroll?: { frames: number; ms: number; meanFrame: number; p95Frame: number; maxFrame: number; longFrames: number; scriptMs: number; rowsInDom: number };
  jump?: { frames: number; meanFrame: number; p95Frame: number; maxFrame: number };
}

/** The entry script and every modulepreloaded chunk of web/dist/index.html, gzipped (level 9, like a static pre-compress). */
function firstLoadJs(): Figures['jsFiles'] {
  const dist = join(ROOT, 'web', 'dist');
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const files = new Set<string>();
  for (const m of html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g)) files.add(m[1]!);
  for (const m of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)) files.add(m[1]!);
  for (const m of html.matchAll(/<script(?![^>]*type="module")[^>]*src="([^"]+)"/g)) files.add(m[1]!);
  return [...files].map((file) => {
    const bytes = readFileSync(join(dist, file.replace(/^\//, '')));
    return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const ms = (n: number | undefined) => (n === undefined ? 'n/a' : `${Math.round(n)} ms`);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? 0;
}

describe('web UI performance', () => {
  let h: Harness;
  let browser: Browser;
  let w: WatchedPage;
  let runId = 0;
  const figures: Figures = { jsFiles: [] };

  before(async () => {
    ensureWebBuild();
    h = await startApi();
    const seed = seeder(h, await h.login());
    const id = await seed.pipeline('big-log', [shell('Print', `seq 1 ${LINES} | sed 's/^/log line /'`)]);
    runId = await seed.run(id);
    const run = await seed.finished(runId, 60_000);
    assert.equal(run.status, 'success');
    browser = await launchBrowser();
    w = await watchedPage(browser);
    await signIn(w.page, h.baseUrl);
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  test('first-load JavaScript is under 250 KB gzipped', () => {
    figures.jsFiles = firstLoadJs();
    const total = figures.jsFiles.reduce((n, f) => n + f.gzip, 0);
    process.stdout.write(
      `# first-load JS: ${figures.jsFiles.map((f) => `${f.file} ${kb(f.raw)} → ${kb(f.gzip)} gz`).join(', ')}; total ${kb(total)} gzipped\n`,
    );
    assert.ok(
      figures.jsFiles.some((f) => /index-.*\.js$/.test(f.file)),
      'the entry chunk was found',
    );
    assert.ok(total < BUDGET_JS_GZIP, `first-load JS is ${kb(total)} gzipped (budget ${kb(BUDGET_JS_GZIP)})`);
  });

  test(`a ${LINES.toLocaleString('en')}-line log: first line visible, scripting time`, async () => {
    const { page } = w;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable', { timeDomain: 'timeTicks' });
    // record, relative to navigation start, when the first log line enters the DOM and when it has been painted
    // (a string: tsx would wrap named functions in a helper that does not exist in the page)
    await page.addInitScript(`(() => {
      const marks = {};
      globalThis.__logMarks = marks;
      const observer = new MutationObserver(() => {
        if (marks.firstLine === undefined && document.querySelector('[data-testid=log-line]')) {
          marks.firstLine = performance.now();
          // after the next frame is produced: rAF runs before paint, the task after it runs after
          requestAnimationFrame(() => setTimeout(() => (marks.firstLinePaint = performance.now()), 0));
        }
      });
      if (document.documentElement) observer.observe(document.documentElement, { childList: true, subtree: true });
      else document.addEventListener('DOMContentLoaded', () => observer.observe(document.documentElement, { childList: true, subtree: true }));
    })();`);
    const metric = async () => {
      const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> };
      return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
    };
    const before = await metric();
    await page.goto(`${h.baseUrl}/runs/${runId}`);
    await page.locator('[data-testid=log-line]').first().waitFor({ state: 'visible', timeout: 30_000 });
    // the toolbar counts every line once the whole log is in
    await page.waitForFunction((n) => document.querySelector('[data-testid=log-viewer]')?.textContent?.includes(`${n} lines`), LINES.toLocaleString('en'), {
      timeout: 30_000,
    });
    const allLinesMs = await page.evaluate(() => performance.now());
    await page.waitForFunction(() => (globalThis as any).__logMarks.firstLinePaint !== undefined);
    const after = await metric();
    const marks = await page.evaluate(() => (globalThis as any).__logMarks as { firstLine: number; firstLinePaint: number });
    figures.firstLineMs = marks.firstLine;
    figures.firstLinePaintMs = marks.firstLinePaint;
    figures.allLinesMs = allLinesMs;
    // same renderer process (same-origin navigation): cumulative counters, so the difference is this load
    if ((after.ScriptDuration ?? 0) >= (before.ScriptDuration ?? 0)) {
      figures.loadScriptMs = ((after.ScriptDuration ?? 0) - (before.ScriptDuration ?? 0)) * 1000;
      figures.loadTaskMs = ((after.TaskDuration ?? 0) - (before.TaskDuration ?? 0)) * 1000;
    }
    figures.heapMb = (after.JSHeapUsedSize ?? 0) / 1024 / 1024;
    await cdp.detach();
    process.stdout.write(
      `# JS heap after load ${figures.heapMb.toFixed(1)} MB; 200k-line log: first line in DOM ${ms(marks.firstLine)}, painted ${ms(marks.firstLinePaint)}, all ${LINES} lines loaded ${ms(allLinesMs)} after navigation; scripting ${ms(figures.loadScriptMs)}, main-thread tasks ${ms(figures.loadTaskMs)}\n`,
    );
    const rows = await page.locator('[data-testid=log-line]').count();
    assert.ok(rows > 0 && rows < 500, `virtualized: ${rows} rows in the DOM for ${LINES} lines`);
    assert.ok(marks.firstLinePaint < 5000, `first log line painted after ${Math.round(marks.firstLinePaint)} ms (budget 5 s)`);
  });

  test('scrolling the 200,000-line log stays smooth', async () => {
    const { page } = w;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable', { timeDomain: 'timeTicks' });
    const scriptSeconds = async () =>
      ((await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> }).metrics.find((m) => m.name === 'ScriptDuration')
        ?.value ?? 0;
    // leave follow-tail mode and start from the top
    await page.locator('[data-testid=log-scroll]').evaluate((el: any) => (el.scrollTop = 0));
    await page.locator('[data-testid=log-line][data-line="1"]').waitFor();
    const script0 = await scriptSeconds();
    // a steady fast scroll: 40 px (2 rows) per frame... times 10, like a flick of the wheel, for 240 frames
    const scroll = await page.evaluate(async () => {
      const el = document.querySelector('[data-testid=log-scroll]');
      const frames: number[] = [];
      let last = performance.now();
      const start = last;
      let rowsInDom = 0;
      for (let i = 0; i < 240; i++) {
        el.scrollTop += 400;
        await new Promise((r) => requestAnimationFrame(r));
        const now = performance.now();
        frames.push(now - last);
        last = now;
        rowsInDom = Math.max(rowsInDom, el.querySelectorAll('[data-testid=log-line]').length);
      }
      return { frames, ms: performance.now() - start, rowsInDom, top: el.scrollTop };
    });
    const script1 = await scriptSeconds();
    // big jumps through the whole log (dragging the scrollbar)
    const jump = await page.evaluate(async () => {
      const el = document.querySelector('[data-testid=log-scroll]');
      const frames: number[] = [];
      let last = performance.now();
      for (let i = 1; i <= 60; i++) {
        el.scrollTop = (el.scrollHeight * i) / 61;
        await new Promise((r) => requestAnimationFrame(r));
        const now = performance.now();
        frames.push(now - last);
        last = now;
      }
      const lines = [...el.querySelectorAll('[data-testid=log-line]')].map((e: any) => Number(e.dataset.line));
      return { frames, maxLine: Math.max(...lines) };
    });
    await cdp.detach();
    const sorted = [...scroll.frames].sort((a, b) => a - b);
    figures.scroll = {
      frames: scroll.frames.length,
      ms: scroll.ms,
      meanFrame: scroll.ms / scroll.frames.length,
      p95Frame: percentile(sorted, 0.95),
      maxFrame: sorted[sorted.length - 1] ?? 0,
      longFrames: scroll.frames.filter((f) => f > 50).length,
      scriptMs: (script1 - script0) * 1000,
      rowsInDom: scroll.rowsInDom,
    };
    const jumpSorted = [...jump.frames].sort((a, b) => a - b);
    figures.jump = {
      frames: jump.frames.length,
      meanFrame: jump.frames.reduce((a, b) => a + b, 0) / jump.frames.length,
      p95Frame: percentile(jumpSorted, 0.95),
      maxFrame: jumpSorted[jumpSorted.length - 1] ?? 0,
    };
    const s = figures.scroll;
    process.stdout.write(
      `# scroll: ${s.frames} frames in ${ms(s.ms)} (mean ${s.meanFrame.toFixed(1)} ms, p95 ${s.p95Frame.toFixed(1)} ms, max ${s.maxFrame.toFixed(1)} ms, ${s.longFrames} frames > 50 ms), scripting ${ms(s.scriptMs)}, ≤ ${s.rowsInDom} rows in the DOM; jumps: mean ${figures.jump.meanFrame.toFixed(1)} ms, p95 ${figures.jump.p95Frame.toFixed(1)} ms\n`,
    );
    assert.ok(scroll.top > 0, 'the log scrolled');
    assert.ok(jump.maxLine > LINES * 0.9, `the jumps reached the end of the log (line ${jump.maxLine})`);
    assert.ok(s.rowsInDom < 500, 'rows stay virtualized while scrolling');
    assert.ok(s.p95Frame < 50, `p95 frame ${s.p95Frame.toFixed(1)} ms while scrolling (budget 50 ms)`);
    assert.deepEqual(w.pageErrors, []);
  });

  test('record the figures in docs/benchmarks.md', async () => {
    assert.ok(figures.scroll && figures.firstLinePaintMs !== undefined && figures.jsFiles.length > 0, 'all measurements ran');
    const total = figures.jsFiles.reduce((n, f) => n + f.gzip, 0);
    const totalRaw = figures.jsFiles.reduce((n, f) => n + f.raw, 0);
    const s = figures.scroll!;
    const j = figures.jump!;
    const version = browser.context.browser()?.version() ?? 'unknown';
    const section = [
      '## Web UI (test/browser)',
      '',
      `Measured ${new Date().toISOString().slice(0, 10)} by \`test/browser/performance.test.ts\` (\`node scripts/run-tests.mjs --browser\`, which rewrites this section): the production build in web/dist served by the real API server over loopback, Debian's Chromium ${version} headless (\`--disable-gpu\`, so software compositing), 1280x800, on ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}. Server and browser share the machine.`,
      '',
      '| Figure | Value | Target |',
      '| --- | ---: | --- |',
      `| First-load JavaScript, gzipped (entry + modulepreloaded chunks, gzip -9) | ${kb(total)} (${kb(totalRaw)} raw) | < 250 KB |`,
      `| 200,000-line log: navigation → first log line in the DOM | ${ms(figures.firstLineMs)} | |`,
      `| 200,000-line log: navigation → first log line painted | ${ms(figures.firstLinePaintMs)} | < 5 s (test budget) |`,
      `| 200,000-line log: navigation → all lines loaded (toolbar shows 200,000 lines) | ${ms(figures.allLinesMs)} | |`,
      `| Scripting during that load (CDP \`ScriptDuration\`; main-thread \`TaskDuration\`) | ${ms(figures.loadScriptMs)} (${ms(figures.loadTaskMs)}) | |`,
      `| JS heap used once the log is loaded | ${figures.heapMb?.toFixed(1)} MB | |`,
      `| Steady scroll, ${s.frames} frames at 400 px/frame: mean / p95 / max frame | ${s.meanFrame.toFixed(1)} / ${s.p95Frame.toFixed(1)} / ${s.maxFrame.toFixed(1)} ms | p95 < 50 ms (test budget) |`,
      `| Steady scroll: frames over 50 ms; scripting during the scroll | ${s.longFrames}; ${ms(s.scriptMs)} | |`,
      `| Scrollbar jumps across the whole log, ${j.frames} frames: mean / p95 / max frame | ${j.meanFrame.toFixed(1)} / ${j.p95Frame.toFixed(1)} / ${j.maxFrame.toFixed(1)} ms | |`,
      `| Log rows in the DOM while scrolling (virtualized) | ≤ ${s.rowsInDom} | < 500 |`,
      '',
      `First-load files: ${figures.jsFiles.map((f) => `\`${f.file.replace(/^\/assets\//, '')}\` ${kb(f.gzip)}`).join(', ')}. Other pages load their own chunk on demand (the run page's, with the log viewer, is not in the first load).`,
      '',
      'The first-line times include loading the app (HTTP-cached after the login page), `/api/users/me/`, the run and the step log over REST (the whole 2.3 MB log in one response: the first line is drawn only once that response is in). Frame times come from `requestAnimationFrame` timestamps in headless Chromium, whose frame clock runs at 60 Hz (16.7 ms).',
      '',
    ].join('\n');
    const path = join(ROOT, 'docs', 'benchmarks.md');
    // others append their own sections: re-read right before writing and replace only ours
    const current = readFileSync(path, 'utf8');
    const heading = '## Web UI (test/browser)';
    const start = current.indexOf(heading);
    let next: string;
    if (start === -1) next = `${current.replace(/\n*$/, '\n\n')}${section}`;
    else {
      const after = current.indexOf('\n## ', start + heading.length);
      next = current.slice(0, start) + section + (after === -1 ? '' : `\n${current.slice(after + 1)}`);
    }
    // Written as prettier writes it: `npm run lint` checks Markdown too, and a section written by a
    // browser run and committed as is would fail the next CI run's lint.
    writeFileSync(path, await prettier.format(next, { ...(await prettier.resolveConfig(path)), filepath: path }));
    process.stdout.write(`# wrote the "${heading}" section of docs/benchmarks.md\n`);
    assert.ok(readFileSync(path, 'utf8').includes(heading));
  });
});
