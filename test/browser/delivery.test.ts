/**
 * Continuous delivery in a real browser against the real server: the approval banner of a run
 * waiting at its environment (who may approve, approve with a comment, the last approval starts
 * the run, reject ends it, the run's own author reads why they may not decide); the schedule
 * editor on the pipeline page (its next five fire times are the API's, a bad cron or zone is
 * named under its field, disable, delete); the run dialog's launch inputs form; the environments
 * pages (create with every field, what is live, the deployment history); a fork's pull request
 * given secrets waits for a maintainer (the banner says so; a developer reads why not; a maintainer
 * approves, and rejects the next commit).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startApi, type Harness } from '../support/api-harness.js';
import { waitFor } from '../support/wait.js';
import {
  ensureWebBuild,
  fillLogin,
  launchBrowser,
  screenshotPath,
  seeder,
  shell,
  signIn,
  watchedPage,
  type Browser,
  type WatchedPage,
} from './browser-support.js';

describe('continuous delivery in the browser', () => {
  let h: Harness;
  let browser: Browser;
  let w: WatchedPage;
  let admin = '';
  let dev = '';
  let maint = '';
  let seed: ReturnType<typeof seeder>;
  let deployPipeline = 0;

  const text = async (page: Page, testId: string) => ((await page.locator(`[data-testid=${testId}]`).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
  const waitingRun = async (token: string) => {
    const r = await h.request('POST', `/api/pipelines/${deployPipeline}/run/`, { token, body: {} });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.status, 'waiting');
    return r.json.id as number;
  };

  before(async () => {
    ensureWebBuild();
    h = await startApi();
    admin = await h.login();
    seed = seeder(h, admin);
    const project = (await h.ctx.repos.projects.defaultProjectId())!;
    dev = await h.userToken('dev', 'developer');
    maint = await h.userToken('maint', 'developer');
    await h.ctx.repos.projects.setMember(project, (await h.ctx.repos.users.findByUsername('dev'))!.id, 'developer');
    await h.ctx.repos.projects.setMember(project, (await h.ctx.repos.users.findByUsername('maint'))!.id, 'maintainer');
    const env = await h.request('POST', '/api/environments/', {
      token: admin,
      body: { name: 'production', required_approvals: 2, prevent_self_approval: true, description: 'The live site' },
    });
    assert.equal(env.status, 201, env.text);
    deployPipeline = await seed.pipeline('deploy-site', [shell('build', 'echo built'), shell('deploy', 'echo deployed', { environment: 'production' })]);
    browser = await launchBrowser();
    w = await watchedPage(browser);
    await signIn(w.page, h.baseUrl);
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  test('approval banner: who may approve, approve with a comment, the last approval starts the run', async () => {
    const { page } = w;
    const runId = await waitingRun(dev);
    await page.goto(`${h.baseUrl}/runs/${runId}`);
    const banner = page.locator('[data-testid=approval-banner]');
    await banner.waitFor();
    assert.equal(await text(page, 'approval-title'), 'Waiting for approval to deploy to production: 0 of 2 approvals');
    assert.match(await text(page, 'approval-approvers'), /^Who may approve: 2 of: .*maintainer.*not the run.s own author/);
    await page.locator('[data-testid=approval-comment]').fill('checked the release notes');
    await page.locator('[data-testid=approval-approve]').click();
    await page.locator('[data-testid=approval-decision]').first().waitFor();
    assert.match(await text(page, 'approval-decision'), /^admin approved .*: “checked the release notes”$/);
    await waitFor(async () => (await text(page, 'approval-title')).includes('1 of 2'), 10_000, 'the banner to count the approval');
    assert.equal(await page.locator('[data-testid=approval-approve]').count(), 0, 'admin decided: no buttons again');
    assert.match(await text(page, 'approval-cannot-decide'), /already/i);
    await page.screenshot({ path: screenshotPath('delivery-approval-banner') });

    // The second approval (another maintainer, through the API) releases the run: the banner goes, the run succeeds.
    const second = await h.request('POST', `/api/pipeline-runs/${runId}/approvals/`, { token: maint, body: { decision: 'approve' } });
    assert.equal(second.status, 201, second.text);
    await banner.waitFor({ state: 'detached', timeout: 20_000 });
    await page.locator('[data-testid=run-status][data-status=success]').waitFor({ timeout: 30_000 });
    assert.deepEqual(w.pageErrors, []);
  });

  test("reject ends the run with the name and comment; the run's own author sees why they may not decide", async () => {
    const { page } = w;
    const runId = await waitingRun(dev);
    await page.goto(`${h.baseUrl}/runs/${runId}`);
    await page.locator('[data-testid=approval-banner]').waitFor();
    await page.locator('[data-testid=approval-comment]').fill('not on a Friday');
    await page.locator('[data-testid=approval-reject]').click();
    await page.locator('[data-testid=run-status][data-status=cancelled]').waitFor({ timeout: 15_000 });
    assert.match(await text(page, 'run-error-reason'), /rejected by admin: not on a Friday/);
    assert.equal(await page.locator('[data-testid=approval-banner]').count(), 0);

    const own = await waitingRun(admin);
    await page.goto(`${h.baseUrl}/runs/${own}`);
    await page.locator('[data-testid=approval-banner]').waitFor();
    assert.equal(await page.locator('[data-testid=approval-approve]').count(), 0);
    assert.match(await text(page, 'approval-cannot-decide'), /own/i);
    await h.request('POST', `/api/pipeline-runs/${own}/cancel/`, { token: admin });
  });

  test('environments: the list shows the rule and what is live; create one with every field; the history lists the deployments', async () => {
    const { page } = w;
    await page.locator('nav.main-nav >> text=Environments').click();
    await page.waitForURL((url) => url.pathname === '/environments');
    const prod = page.locator('[data-testid=environment-row][data-name=production]');
    await prod.waitFor();
    assert.equal(await prod.locator('[data-testid=environment-rule]').textContent(), '2 approvals from maintainers and owners (not the run’s author)');
    assert.match((await prod.locator('[data-testid=environment-live]').textContent()) ?? '', /deploy-site #1/);

    await page.locator('[data-testid=new-environment]').click();
    const dialog = page.locator('[data-testid=environment-dialog]');
    await dialog.locator('[data-testid=env-name]').fill('staging');
    await dialog.locator('[data-testid=env-description]').fill('Before production');
    await dialog.locator('[data-testid=env-required-approvals]').fill('1');
    await dialog.locator('[data-testid=env-approver-users]').fill('maint, dev');
    await dialog.locator('[data-testid=env-role-owner]').check();
    await dialog.locator('[data-testid=env-prevent-self-approval]').check();
    await dialog.locator('[data-testid=env-branches]').fill('main, release/*');
    await dialog.locator('[data-testid=env-wait-timer]').fill('5');
    await dialog.locator('[data-testid=env-approval-timeout]').fill('3600');
    await dialog.locator('[data-testid=env-timeout-outcome]').selectOption('approve');
    await dialog.locator('[data-testid=env-concurrency]').selectOption('queue');
    await dialog.locator('[data-testid=environment-submit]').click();
    const staging = page.locator('[data-testid=environment-row][data-name=staging]');
    await staging.waitFor();
    const stored = (await h.request('GET', '/api/environments/', { token: admin })).json.results.find((e: any) => e.name === 'staging');
    assert.deepEqual(
      {
        description: stored.description,
        required_approvals: stored.required_approvals,
        approvers: stored.approvers,
        prevent_self_approval: stored.prevent_self_approval,
        branches: stored.branches,
        wait_timer_seconds: stored.wait_timer_seconds,
        approval_timeout_seconds: stored.approval_timeout_seconds,
        timeout_outcome: stored.timeout_outcome,
        concurrency: stored.concurrency,
      },
      {
        description: 'Before production',
        required_approvals: 1,
        approvers: { users: ['maint', 'dev'], roles: ['owner'] },
        prevent_self_approval: true,
        branches: ['main', 'release/*'],
        wait_timer_seconds: 5,
        approval_timeout_seconds: 3600,
        timeout_outcome: 'approve',
        concurrency: 'queue',
      },
    );
    // The API's refusal is shown under its field (a name already taken).
    await page.locator('[data-testid=new-environment]').click();
    await dialog.locator('[data-testid=env-name]').fill('staging');
    await dialog.locator('[data-testid=environment-submit]').click();
    await dialog.locator('[data-testid=environment-form-error]').waitFor();
    await dialog.locator('button >> text=Cancel').click();

    await prod.locator('[data-testid=environment-link]').click();
    await page.waitForURL((url) => /^\/environments\/\d+$/.test(url.pathname));
    await page.locator('[data-testid=deployment-row]').first().waitFor();
    const rows = page.locator('[data-testid=deployment-row]');
    assert.equal(await rows.count(), 3, 'three runs targeted production (the waiting own run was cancelled)');
    const succeeded = page.locator('[data-testid=deployment-row]:has([data-testid=deployment-status][data-status=success])');
    assert.equal((await succeeded.locator('[data-testid=deployment-approved-by]').textContent())?.trim(), 'admin, maint');
    assert.match(await text(page, 'environment-live'), /deploy-site #1/);
    await page.screenshot({ path: screenshotPath('delivery-environment') });
  });

  test('schedule editor: the next five fire times are the API answer; a bad cron and an unknown zone are named; disable, delete', async () => {
    const { page } = w;
    const pipelineId = await seed.pipeline('nightly', [shell('build', 'echo built')]);
    await page.goto(`${h.baseUrl}/pipelines/${pipelineId}`);
    await page.locator('[data-testid=schedules-card]').waitFor();
    await page.locator('[data-testid=new-schedule]').click();
    const dialog = page.locator('[data-testid=schedule-dialog]');
    await dialog.locator('[data-testid=schedule-cron]').fill('0 9 * * 1-5');
    await dialog.locator('[data-testid=schedule-timezone]').fill('Europe/Berlin');
    await dialog.locator('[data-testid=schedule-branch]').fill('release');
    await dialog.locator('[data-testid=schedule-var-add]').click();
    await dialog.locator('[data-testid=schedule-var-key-0]').fill('TARGET');
    await dialog.locator('[data-testid=schedule-var-value-0]').fill('staging');
    await dialog.locator('[data-testid=schedule-submit]').click();
    const row = page.locator('[data-testid=schedule-row]');
    await row.locator('[data-testid=schedule-next-times] li').first().waitFor();

    const [stored] = (await h.request('GET', `/api/pipelines/${pipelineId}/schedules/`, { token: admin })).json;
    assert.deepEqual(
      [stored.cron, stored.timezone, stored.branch, stored.variables, stored.enabled],
      ['0 9 * * 1-5', 'Europe/Berlin', 'release', { TARGET: 'staging' }, true],
    );
    const shown = await row.locator('[data-testid=schedule-next-times] time').evaluateAll((els) => els.map((e) => e.getAttribute('datetime')));
    assert.equal(shown.length, 5);
    assert.deepEqual(shown, stored.next_fire_times);
    // Shown in the schedule's zone: 09:00 in Berlin.
    for (const t of await row.locator('[data-testid=schedule-next-times] time').allTextContents()) assert.match(t, /09:00/);

    await row.locator('[data-testid=schedule-edit]').click();
    await dialog.locator('[data-testid=schedule-cron]').fill('* * *');
    await dialog.locator('[data-testid=schedule-submit]').click();
    await dialog.locator('[data-testid=field-error][data-field=cron]').waitFor();
    await dialog.locator('[data-testid=schedule-cron]').fill('30 2 * * *');
    await dialog.locator('[data-testid=schedule-timezone]').fill('Mars/Olympus_Mons');
    await dialog.locator('[data-testid=schedule-submit]').click();
    await dialog.locator('[data-testid=field-error][data-field=timezone]').waitFor();
    await dialog.locator('[data-testid=schedule-timezone]').fill('UTC');
    await dialog.locator('[data-testid=schedule-enabled]').uncheck();
    await dialog.locator('[data-testid=schedule-catch-up]').check();
    await dialog.locator('[data-testid=schedule-submit]').click();
    await row.locator('[data-testid=schedule-next-none]').waitFor();
    assert.equal((await row.locator('[data-testid=schedule-state]').textContent())?.trim(), 'disabled');
    const [changed] = (await h.request('GET', `/api/pipelines/${pipelineId}/schedules/`, { token: admin })).json;
    assert.deepEqual([changed.cron, changed.timezone, changed.enabled, changed.catch_up], ['30 2 * * *', 'UTC', false, true]);
    await page.screenshot({ path: screenshotPath('delivery-schedules') });

    await row.locator('[data-testid=schedule-delete]').click();
    await page.locator('[data-testid=confirm-submit]').click();
    await row.waitFor({ state: 'detached' });
    assert.deepEqual((await h.request('GET', `/api/pipelines/${pipelineId}/schedules/`, { token: admin })).json, []);
  });

  test('run dialog: the launch inputs are a form; a missing required input is named; the values become the run variables', async () => {
    const { page } = w;
    const pipelineId = await seed.pipeline('with-inputs', [shell('show', 'echo $region $REPLICAS $DRY_RUN')], {
      inputs: [
        { name: 'region', type: 'choice', options: ['eu', 'us'], default: 'eu', description: 'Where to deploy' },
        { name: 'REPLICAS', type: 'number', required: true },
        { name: 'DRY_RUN', type: 'boolean', default: true },
        { name: 'NOTE', type: 'string' },
      ],
    });
    await page.goto(`${h.baseUrl}/pipelines/${pipelineId}`);
    await page.locator('[data-testid=run-pipeline]').click();
    const dialog = page.locator('[data-testid=run-dialog]');
    await dialog.locator('[data-testid=run-inputs]').waitFor();
    assert.equal(await dialog.locator('[data-testid=run-input-region]').inputValue(), 'eu');
    assert.equal(await dialog.locator('[data-testid=run-input-DRY_RUN]').isChecked(), true);
    assert.match((await dialog.locator('[data-testid=run-inputs]').textContent()) ?? '', /Where to deploy/);
    await dialog.locator('[data-testid=run-submit]').click();
    await dialog.locator('[data-testid=field-error][data-field="inputs.REPLICAS"]').waitFor();
    await dialog.locator('[data-testid=run-input-REPLICAS]').fill('3');
    await dialog.locator('[data-testid=run-input-region]').selectOption('us');
    await dialog.locator('[data-testid=run-input-DRY_RUN]').uncheck();
    await page.screenshot({ path: screenshotPath('delivery-run-inputs') });
    await dialog.locator('[data-testid=run-submit]').click();
    await page.waitForURL((url) => /^\/runs\/\d+$/.test(url.pathname));
    const runId = Number(new URL(page.url()).pathname.split('/').pop());
    const run = await seed.finished(runId);
    assert.equal(run.status, 'success');
    assert.deepEqual([run.variables.region, run.variables.REPLICAS, run.variables.DRY_RUN, run.variables.NOTE], ['us', '3', 'false', '']);

    // The editor shows the declared inputs, keeps them through a save, and adds one; a bad default is named by the API under its field.
    await page.goto(`${h.baseUrl}/pipelines/${pipelineId}/edit`);
    const editor = page.locator('[data-testid=inputs-editor]');
    await editor.locator('[data-testid=input-name-3]').waitFor();
    assert.equal(await editor.locator('[data-testid=input-options-0]').inputValue(), 'eu, us');
    await editor.locator('[data-testid=add-input]').click();
    await editor.locator('[data-testid=input-name-4]').fill('COUNT');
    await editor.locator('[data-testid=input-type-4]').selectOption('number');
    await editor.locator('[data-testid=input-default-4]').fill('many');
    await page.locator('[data-testid=editor-save]').click();
    await editor.locator('[data-testid=field-error][data-field="inputs[4].default"]').waitFor();
    await editor.locator('[data-testid=input-default-4]').fill('7');
    await editor.locator('[data-testid=input-required-4]').check();
    await page.locator('[data-testid=editor-save]').click();
    await page.waitForURL((url) => url.pathname === `/pipelines/${pipelineId}`);
    const saved = (await h.request('GET', `/api/pipelines/${pipelineId}/`, { token: admin })).json;
    assert.deepEqual(saved.inputs, [
      { name: 'region', type: 'choice', options: ['eu', 'us'], default: 'eu', description: 'Where to deploy' },
      { name: 'REPLICAS', type: 'number', required: true },
      { name: 'DRY_RUN', type: 'boolean', default: true },
      { name: 'NOTE', type: 'string' },
      { name: 'COUNT', type: 'number', required: true, default: 7 },
    ]);
    await page.locator('[data-testid=pipeline-inputs]').waitFor();
    assert.deepEqual(w.pageErrors, []);
  });

  test("a fork's pull request given secrets: the banner says it waits for a maintainer; a developer reads why not; a maintainer approves, then rejects the next commit", async () => {
    const pipelineId = await seed.pipeline('fork-trusting', [shell('use', 'echo "secret given: ${TOKEN:+yes}"')], {
      secrets_for_forks: true,
      variables: { TOKEN: { value: 'fork-secret-value', secret: true } },
    });
    const forkRun = async (commit: string) => {
      const run = await h.ctx.runs.trigger(null, {
        pipelineId,
        branch: 'feature',
        commit,
        trigger: {
          type: 'webhook',
          event: 'pull_request',
          provider: 'github',
          author: 'outsider',
          pull_request: { number: 7, source_branch: 'feature', target_branch: 'main' },
        },
        fromFork: true,
      });
      assert.equal(run.status, 'waiting');
      return run.id;
    };
    // Each person in a browser of their own (a session is per browser profile).
    const as = async (username: string) => {
      const b = await launchBrowser();
      const watched = await watchedPage(b);
      await watched.page.goto(`${h.baseUrl}/login?next=/pipelines`);
      await fillLogin(watched.page, username, 'password-123');
      await watched.page.waitForURL((url) => url.pathname === '/pipelines');
      return { b, ...watched };
    };

    const first = await forkRun('a'.repeat(40));
    const developer = await as('dev');
    try {
      await developer.page.goto(`${h.baseUrl}/runs/${first}`);
      await developer.page.locator('[data-testid=approval-banner]').waitFor();
      assert.equal(
        await text(developer.page, 'approval-title'),
        `Pull request #7 from a fork by outsider waits for a maintainer to give it the secrets (commit ${'a'.repeat(8)})`,
      );
      assert.match(await text(developer.page, 'approval-approvers'), /maintainers and owners \(not the pull request's author outsider\)/);
      assert.equal(await developer.page.locator('[data-testid=approval-approve]').count(), 0, 'a developer may not give a fork the secrets');
      assert.equal(await developer.page.locator('[data-testid=approval-reject]').count(), 0);
      assert.match(await text(developer.page, 'approval-cannot-decide'), /Only the project's maintainers and owners/);
      assert.deepEqual(developer.pageErrors, []);
    } finally {
      await developer.b.close();
    }

    const maintainer = await as('maint');
    try {
      const { page } = maintainer;
      await page.goto(`${h.baseUrl}/runs/${first}`);
      await page.locator('[data-testid=approval-banner]').waitFor();
      await page.screenshot({ path: screenshotPath('delivery-fork-approval-banner') });
      await page.locator('[data-testid=approval-comment]').fill('read the diff');
      await page.locator('[data-testid=approval-approve]').click();
      await page.locator('[data-testid=approval-banner]').waitFor({ state: 'detached', timeout: 20_000 });
      await page.locator('[data-testid=run-status][data-status=success]').waitFor({ timeout: 30_000 });
      const approved = await seed.finished(first);
      assert.equal(approved.status, 'success');
      assert.equal(approved.secrets_withheld ?? null, null, 'approved: the run got its secrets');
      const recorded = await h.ctx.db.kysely.selectFrom('fork_approvals').selectAll().where('run_id', '=', first).executeTakeFirstOrThrow();
      assert.deepEqual(
        [recorded.author, recorded.commit_sha, recorded.approved_by_name, recorded.comment],
        ['outsider', 'a'.repeat(40), 'maint', 'read the diff'],
      );

      // A new head commit waits again; the maintainer rejects it and the run ends with the name and the comment.
      const second = await forkRun('b'.repeat(40));
      await page.goto(`${h.baseUrl}/runs/${second}`);
      await page.locator('[data-testid=approval-banner]').waitFor();
      assert.match(await text(page, 'approval-title'), /commit bbbbbbbb\)$/);
      await page.locator('[data-testid=approval-comment]').fill('touches the release job');
      await page.locator('[data-testid=approval-reject]').click();
      await page.locator('[data-testid=run-status][data-status=cancelled]').waitFor({ timeout: 15_000 });
      assert.match(await text(page, 'run-error-reason'), /pull request #7 from a fork: secrets refused by maint: touches the release job/);
      assert.equal(await page.locator('[data-testid=approval-banner]').count(), 0);
      assert.deepEqual(maintainer.pageErrors, []);
    } finally {
      await maintainer.b.close();
    }
  });
});
