#!/usr/bin/env node
// Smoke test of the built UI against web/dev/mock-server.mjs with Debian's Chromium.
//   node web/dev/mock-server.mjs --api-port 18000 --gw-port 18001 &  node web/dev/smoke.mjs [outDir]
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const BASE = process.env.BASE ?? 'http://127.0.0.1:18000';
const OUT = process.argv[2] ?? '/tmp/ansflow-smoke';
mkdirSync(OUT, { recursive: true });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
const problems = [];
page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
page.on('dialog', (d) => {
  problems.push(`unexpected dialog: ${d.message()}`);
  void d.dismiss();
});
const step = async (name, fn) => {
  const t = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - t}ms)`);
  } catch (e) {
    console.log(`FAIL ${name}: ${e.message.split('\n')[0]}`);
    await page.screenshot({ path: `${OUT}/fail-${name.replace(/\W+/g, '-')}.png` });
  }
};

await step('login redirect keeps next', async () => {
  await page.goto(`${BASE}/runs/1#L5`);
  await page.waitForURL(/\/login\?next=/);
  await page.screenshot({ path: `${OUT}/login.png` });
  await page.fill('[data-testid=login-username]', 'admin');
  await page.fill('[data-testid=login-password]', 'wrong');
  await page.press('[data-testid=login-password]', 'Enter');
  await page.waitForSelector('[data-testid=login-error]');
  await page.fill('[data-testid=login-password]', 'admin123');
  await page.press('[data-testid=login-password]', 'Enter');
  await page.waitForURL(/\/runs\/1/);
});
await step('run page renders 200k-line log safely', async () => {
  await page.waitForSelector('[data-testid=log-line]');
  await page.waitForFunction(() => document.querySelector('[data-testid=log-viewer]')?.textContent?.includes('200,00'), null, { timeout: 15000 });
  const xss = await page.evaluate(() => ({
    scripts: document.querySelectorAll('.log-scroll script, .log-scroll img').length,
    links: [...document.querySelectorAll('.log-scroll a')].filter((a) => !a.getAttribute('href')?.startsWith('#L')).length,
  }));
  if (xss.scripts || xss.links) throw new Error(`unsafe nodes ${JSON.stringify(xss)}`);
  await page.screenshot({ path: `${OUT}/run.png` });
  const t = Date.now();
  await page.evaluate(async () => {
    const el = document.querySelector('[data-testid=log-scroll]');
    for (let i = 0; i < 60; i++) {
      el.scrollTop += 20000;
      await new Promise((r) => requestAnimationFrame(r));
    }
  });
  console.log(`     60 scroll frames in ${Date.now() - t}ms`);
  await page.fill('[data-testid=log-search]', 'checkpoint 150000');
  await page.waitForFunction(() => document.querySelector('[data-testid=log-match-count]')?.textContent === '1 / 1');
  await page.waitForSelector('.is-current-match');
  await page.screenshot({ path: `${OUT}/run-search.png` });
});
await step('xss lines are text', async () => {
  await page.goto(`${BASE}/runs/1#L3`);
  await page.waitForSelector('[data-testid=log-line][data-line="3"]');
  const text = await page.textContent('[data-testid=log-line][data-line="3"]');
  if (!text.includes('<script>alert(1)</script>')) throw new Error(text);
  const text4 = await page.textContent('[data-testid=log-line][data-line="4"]');
  if (!text4.includes('<img src=x onerror=alert(1)>')) throw new Error(text4);
});
await step('pipelines list', async () => {
  await page.goto(`${BASE}/pipelines`);
  await page.waitForSelector('[data-testid=pipeline-row]');
  await page.screenshot({ path: `${OUT}/pipelines.png` });
});
await step('editor shows API error next to field', async () => {
  await page.goto(`${BASE}/pipelines/new`);
  await page.fill('[data-testid=editor-name]', 'Smoke');
  await page.selectOption('[data-testid=add-step-type]', 'git_checkout');
  await page.click('[data-testid=add-step]');
  await page.locator('[data-testid=step-card]').nth(0).locator('[data-testid=step-field-command]').fill('echo hi');
  await page.locator('[data-testid=step-card]').nth(1).locator('[data-testid=step-field-repository]').fill('file:///etc');
  await page.click('[data-testid=editor-save]');
  await page.waitForSelector('[data-testid=step-card][data-step-index="1"] [data-testid=field-error][data-field="steps[1].config.repository"]');
  await page.screenshot({ path: `${OUT}/editor-error.png`, fullPage: true });
  await page.locator('[data-testid=step-card]').nth(1).locator('[data-testid=step-field-repository]').fill('https://github.com/a/b.git');
  await page.click('[data-testid=editor-save]');
  await page.waitForURL(/\/pipelines\/\d+$/);
});
await step('run live and cancel', async () => {
  await page.click('[data-testid=run-pipeline]');
  await page.click('[data-testid=run-submit]');
  await page.waitForURL(/\/runs\/\d+/);
  await page.waitForSelector('[data-testid=run-status][data-status=running]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=log-line]').length >= 5);
  await page.screenshot({ path: `${OUT}/run-live.png` });
  await page.click('[data-testid=cancel-run]');
  await page.waitForSelector('[data-testid=run-status][data-status=cancelled]', { timeout: 10000 });
});
await step('other pages', async () => {
  for (const [path, sel] of [
    ['/runs', '[data-testid=run-row]'],
    ['/webhooks', '[data-testid=delivery-row]'],
    ['/system', '[data-testid=system-status]'],
    ['/admin/users', '[data-testid=user-row]'],
    ['/pipelines/1', '[data-testid=pipeline-title]'],
    ['/pipelines/1/edit', '[data-testid=parallel-group]'],
  ]) {
    await page.goto(`${BASE}${path}`);
    await page.waitForSelector(sel);
    await page.screenshot({ path: `${OUT}/${path.replace(/\W+/g, '_')}.png` });
  }
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(`${BASE}/runs/1`);
  await page.waitForSelector('[data-testid=log-line]');
  await page.screenshot({ path: `${OUT}/run-dark.png` });
  await page.setViewportSize({ width: 390, height: 800 });
  await page.goto(`${BASE}/pipelines`);
  await page.waitForSelector('[data-testid=pipeline-row]');
  await page.screenshot({ path: `${OUT}/pipelines-phone.png` });
});
console.log(problems.length ? `problems:\n${problems.join('\n')}` : 'no page errors');
await browser.close();
