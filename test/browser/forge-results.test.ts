/**
 * Results on the forge in a real browser against the real server and the stand-in forge: the
 * run page of a webhook run lists its commit statuses and whether each was delivered (and why
 * not, for a refused token); a run superseded by auto-cancel says so; the pipeline editor sets
 * auto-cancel, the public badge (showing its Markdown snippet) and the forge token credential.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Harness } from '../support/api-harness.js';
import { readJsonFixture } from '../support/fixtures.js';
import { startFakeForge, type FakeForge } from '../support/fake-forge.js';
import { waitFor } from '../support/wait.js';
import { githubHeaders, postGithub, startGateway } from '../gateway/gateway-support.js';
import { ensureWebBuild, launchBrowser, screenshotPath, seeder, shell, signIn, watchedPage, type Browser, type WatchedPage } from './browser-support.js';

const TOKEN = 'ghp_browser_forge_token_0123456789';

function githubPush(commit: string, branch: string): string {
  const body = readJsonFixture<Record<string, any>>('webhooks', 'github', 'push.go-scm.json');
  body.ref = `refs/heads/${branch}`;
  body.after = commit;
  body.head_commit = { ...body.head_commit, id: commit };
  return JSON.stringify(body);
}

describe('forge results in the browser', () => {
  let h: Harness;
  let forge: FakeForge;
  let browser: Browser;
  let w: WatchedPage;
  let admin: string;

  before(async () => {
    ensureWebBuild();
    forge = await startFakeForge({ github: [TOKEN], gitlab: [] });
    h = await startGateway({}, { ANSFLOW_GITHUB_API_URL: `${forge.url}/api/v3`, ANSFLOW_GITHUB_TOKEN: TOKEN });
    admin = await h.login();
    browser = await launchBrowser();
    w = await watchedPage(browser);
    await signIn(w.page, h.baseUrl);
  });
  after(async () => {
    await browser?.close();
    await h?.close();
    await forge?.close();
  });

  const push = async (branch: string) => {
    const body = githubPush(randomBytes(20).toString('hex'), branch);
    const r = await postGithub(h, body, githubHeaders(body, 'push'));
    assert.equal(r.status, 202, r.text);
    return r.json.triggered_runs as number[];
  };

  test('the run page shows the commit statuses, delivered; a superseded run says by which run', async () => {
    const seed = seeder(h, admin);
    await seed.pipeline('web-forge', [shell('wait', 'sleep 20')], {
      repository_url: 'https://github.com/Codertocat/Hello-World',
      branch: 'main',
      trigger_events: ['push'],
      auto_cancel: true,
    });
    const [first] = await push('main');
    const [second] = await push('main');
    await seed.finished(first!);
    const { page } = w;
    await page.goto(`${h.baseUrl}/runs/${first}`);
    const reason = page.getByTestId('run-error-reason');
    await reason.waitFor();
    assert.match((await reason.textContent()) ?? '', /superseded by run #2/);
    const rows = page.getByTestId('commit-status-row');
    await waitFor(async () => (await rows.count()) > 0 && (await page.locator('[data-testid=commit-status-row][data-outcome=pending]').count()) === 0, 20000);
    await page.reload();
    const section = page.getByTestId('run-commit-statuses');
    await section.waitFor();
    const text = (await section.textContent()) ?? '';
    assert.match(text, /ansflow\/web-forge/);
    assert.match(text, /error/, 'the cancelled run reports error on GitHub');
    assert.match(text, /delivered/);
    await page.screenshot({ path: screenshotPath('run-commit-statuses'), fullPage: true });
    await h.request('POST', `/api/pipeline-runs/${second}/cancel/`, { token: admin });
  });

  test('the pipeline editor sets auto-cancel, the public badge (with its snippet) and the forge token', async () => {
    const seed = seeder(h, admin);
    const credential = await h.request('POST', '/api/credentials/', { token: admin, body: { name: 'gh-web', kind: 'token', secret: { token: TOKEN } } });
    assert.equal(credential.status, 201, credential.text);
    const id = await seed.pipeline('badge-me', [shell('s', 'true')], { repository_url: 'https://github.com/acme/app', branch: 'main' });
    const { page } = w;
    await page.goto(`${h.baseUrl}/pipelines/${id}/edit`);
    await page.getByTestId('editor-badge-public').check();
    await page.getByTestId('editor-auto-cancel').check();
    await page.getByTestId('editor-forge-credential').selectOption('gh-web');
    const snippet = (await page.getByTestId('editor-badge-markdown').textContent()) ?? '';
    assert.equal(snippet, `[![AnsFlow](${h.baseUrl}/api/pipelines/${id}/badge.svg?branch=main)](${h.baseUrl}/pipelines/${id})`);
    await page.screenshot({ path: screenshotPath('pipeline-editor-forge'), fullPage: true });
    await page.getByTestId('editor-save').click();
    await waitFor(async () => (await h.request('GET', `/api/pipelines/${id}/`, { token: admin })).json.badge_public === true, 10000, 'the pipeline saved');
    const saved = (await h.request('GET', `/api/pipelines/${id}/`, { token: admin })).json;
    assert.equal(saved.auto_cancel, true);
    assert.equal(saved.forge_credential, 'gh-web');
    const badge = await fetch(`${h.baseUrl}/api/pipelines/${id}/badge.svg?branch=main`);
    assert.equal(badge.status, 200, 'anonymous callers now get the badge');
    assert.deepEqual(w.pageErrors, []);
  });
});
