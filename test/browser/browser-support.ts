/**
 * Shared pieces of the browser tests (test/browser/*.test.ts): a fresh web/dist build, Debian's
 * Chromium through playwright-core, a page that records page errors and dialogs, and small helpers
 * over the UI's data-testids. Not a test file itself (run-tests.mjs only picks *.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Harness } from '../support/api-harness.js';
import { waitFor } from '../support/wait.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOT_DIR = join(ROOT, 'test-output', 'screenshots');
export const CHROMIUM = process.env.ANSFLOW_CHROMIUM ?? '/usr/bin/chromium';
// page.evaluate callbacks run in the browser; the test project has no DOM lib
declare const document: any;

export const FINAL = ['success', 'failed', 'cancelled', 'timeout', 'error'];

function newestMtime(dir: string): { mtime: number; file: string } {
  let best = { mtime: 0, file: '' };
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    const candidate = st.isDirectory() ? newestMtime(path) : { mtime: st.mtimeMs, file: path };
    if (candidate.mtime > best.mtime) best = candidate;
  }
  return best;
}

/**
 * Makes sure web/dist/index.html exists and is not older than the newest file in web/src (and
 * web/index.html, web/public); rebuilds with Vite otherwise, and fails with a clear message when
 * the build fails.
 */
export function ensureWebBuild(): void {
  const index = join(ROOT, 'web', 'dist', 'index.html');
  const sources = [join(ROOT, 'web', 'src'), join(ROOT, 'web', 'public')].filter(existsSync).map(newestMtime);
  const indexHtml = join(ROOT, 'web', 'index.html');
  if (existsSync(indexHtml)) sources.push({ mtime: statSync(indexHtml).mtimeMs, file: indexHtml });
  const newest = sources.reduce((a, b) => (b.mtime > a.mtime ? b : a), { mtime: 0, file: '' });
  if (existsSync(index) && statSync(index).mtimeMs >= newest.mtime) return;
  const why = existsSync(index) ? `web/dist is older than ${relative(ROOT, newest.file)}` : 'web/dist/index.html is missing';
  process.stderr.write(`# ${why}: running vite build\n`);
  // The test runner sets NODE_ENV=test, with which Vite would ship React's development build.
  const result = spawnSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (result.status !== 0 || !existsSync(index)) {
    throw new Error(
      `The web UI could not be built (${why}). Run \`npm run build:web\` and fix the errors:\n${result.error?.message ?? ''}\n${result.stdout ?? ''}\n${result.stderr ?? ''}`,
    );
  }
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Debian's Chromium, headless, on a fresh user data dir (a persistent context, so the dir is really used). */
export async function launchBrowser(options: { viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium, or set ANSFLOW_CHROMIUM)`);
  const userDataDir = mkdtempSync(join(tmpdir(), 'ansflow-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: options.viewport ?? { width: 1280, height: 800 },
    colorScheme: 'light',
  });
  context.setDefaultTimeout(15_000);
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export interface WatchedPage {
  page: Page;
  /** Uncaught page errors (console errors are kept apart: a refused WebSocket logs one). */
  pageErrors: string[];
  consoleErrors: string[];
  /** Every alert/confirm/prompt the page opened (all dismissed). */
  dialogs: string[];
}

export async function watchedPage(browser: Browser): Promise<WatchedPage> {
  const page = await browser.context.newPage();
  const watched: WatchedPage = { page, pageErrors: [], consoleErrors: [], dialogs: [] };
  page.on('pageerror', (e) => watched.pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') watched.consoleErrors.push(m.text());
  });
  page.on('dialog', (d) => {
    watched.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss().catch(() => undefined);
  });
  return watched;
}

/** Logs in through the login form (the page must be on /login). */
export async function fillLogin(page: Page, username = 'admin', password = 'admin123'): Promise<void> {
  await page.locator('[data-testid=login-username]').fill(username);
  await page.locator('[data-testid=login-password]').fill(password);
  await page.locator('[data-testid=login-submit]').click();
}

/** Opens `path` as a signed-in user (logs in through the form when sent to /login). */
export async function signIn(page: Page, baseUrl: string, path = '/pipelines'): Promise<void> {
  await page.goto(`${baseUrl}/login?next=${encodeURIComponent(path)}`);
  await fillLogin(page);
  await page.waitForURL((url) => url.pathname === path.split('?')[0]);
}

/**
 * The status badge of one run's page. Going from run to run (retry, re-run) keeps the same layout,
 * so a bare badge selector can match the page being left; this one only matches the run asked for.
 */
export function runStatus(page: Page, runId: number, status: string) {
  return page.locator(`[data-testid=run-page][data-run-id="${runId}"] [data-testid=run-status][data-status=${status}]`);
}

export const shell = (name: string, command: string, extra: Record<string, unknown> = {}) => ({ name, type: 'shell_command', config: { command }, ...extra });

/** Small typed API helpers for seeding data. */
export function seeder(h: Harness, token: string) {
  return {
    async pipeline(name: string, steps: unknown[], extra: Record<string, unknown> = {}): Promise<number> {
      const r = await h.request('POST', '/api/pipelines/', { token, body: { name, steps, ...extra } });
      if (r.status !== 201) throw new Error(`create pipeline ${name}: ${r.status} ${r.text}`);
      return r.json.id as number;
    },
    async run(pipelineId: number, body: unknown = {}): Promise<number> {
      const r = await h.request('POST', `/api/pipelines/${pipelineId}/run/`, { token, body });
      if (r.status !== 201) throw new Error(`run pipeline ${pipelineId}: ${r.status} ${r.text}`);
      return r.json.id as number;
    },
    async getRun(runId: number): Promise<any> {
      return (await h.request('GET', `/api/pipeline-runs/${runId}/`, { token })).json;
    },
    async finished(runId: number, timeoutMs = 30_000): Promise<any> {
      return waitFor(
        async () => {
          const r = await h.request('GET', `/api/pipeline-runs/${runId}/`, { token });
          return FINAL.includes(r.json.status) ? r.json : undefined;
        },
        timeoutMs,
        `run ${runId} to finish`,
      );
    },
  };
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return join(SCREENSHOT_DIR, `${name}.png`);
}

/** Text of the log viewer's rendered lines (only rows in the virtual window are in the DOM). */
export async function renderedLogText(page: Page): Promise<string> {
  return page.evaluate(() => [...document.querySelectorAll('[data-testid=log-line] .log-text')].map((e) => e.textContent).join('\n'));
}
