/**
 * Pipelines as code end to end, with real repositories served by `git daemon` and signed GitHub
 * deliveries: each run reads `.ansflow.yml` at its own commit (files that differ between commits),
 * includes a template from a second repository pinned to a tag, runs its steps as a graph (order
 * checked from the stored start and end times), skips a push whose changes the file's `when.paths`
 * does not match, plans a pull request with its target branch and changed files, and refuses an
 * invalid file with every problem located and no step started.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Harness } from '../support/api-harness.js';
import { createBareRepo, git, makeTempDir, startGitDaemon, type FixtureRepo, type GitServer, type TempDir } from '../support/git-fixtures.js';
import { waitFor } from '../support/wait.js';
import { isFinalStatus } from '../support/run-status.js';
import { createPipeline, githubHeaders, postGithub, startGateway } from './gateway-support.js';

const ZERO = '0'.repeat(40);

describe('pipeline files read from the repository at each run commit', () => {
  let h: Harness;
  let token: string;
  let tmp: TempDir;
  let daemon: GitServer;
  let app: FixtureRepo;
  let work: string;
  let pipelineId: number;

  /** Commits files (null deletes) on `branch` of the app repository and pushes; returns the SHA. */
  const commit = (files: Record<string, string | null>, branch = 'main'): string => {
    // Every change starts from main's tip (a feature branch is one commit ahead of it).
    git(work, ['checkout', '-q', '-B', branch, 'origin/main']);
    for (const [path, content] of Object.entries(files)) {
      if (content === null) rmSync(join(work, path), { force: true });
      else {
        mkdirSync(join(work, path, '..'), { recursive: true });
        writeFileSync(join(work, path), content);
      }
    }
    git(work, ['add', '-A']);
    git(work, ['commit', '-q', '--allow-empty', '-m', `change ${randomUUID().slice(0, 8)}`]);
    git(work, ['push', '-q', '-f', 'origin', `HEAD:refs/heads/${branch}`]);
    git(work, ['fetch', '-q', 'origin']);
    return git(work, ['rev-parse', 'HEAD']);
  };

  const repository = () => ({ id: 4242, full_name: 'acme/app', clone_url: daemon.url('app') });

  const push = async (before: string, after: string) => {
    const body = JSON.stringify({
      ref: 'refs/heads/main',
      before,
      after,
      deleted: false,
      repository: repository(),
      head_commit: { id: after, message: 'a change', author: { name: 'dev' } },
      pusher: { name: 'dev' },
    });
    const r = await postGithub(h, body, githubHeaders(body, 'push'));
    assert.equal(r.status, 202, r.text);
    return runOf(r.json);
  };

  const pullRequest = async (number: number, head: string, sha: string) => {
    const body = JSON.stringify({
      action: 'opened',
      number,
      pull_request: {
        number,
        title: 'a change',
        head: { ref: head, sha, repo: repository() },
        base: { ref: 'main', repo: repository() },
        user: { login: 'dev' },
      },
      repository: repository(),
    });
    const r = await postGithub(h, body, githubHeaders(body, 'pull_request'));
    assert.equal(r.status, 202, r.text);
    return runOf(r.json);
  };

  /** The run a delivery started, once it has ended. */
  const runOf = async (delivery: { triggered_runs: number[] }) => {
    assert.equal(delivery.triggered_runs.length, 1, JSON.stringify(delivery));
    const id = delivery.triggered_runs[0]!;
    return waitFor(async () => {
      const d = await h.request('GET', `/api/pipeline-runs/${id}/`, { token });
      return isFinalStatus(d.json.status) ? d.json : undefined;
    }, 90_000);
  };

  const times = (run: { steps: Array<{ name: string; started_at: string | null; finished_at: string | null }> }) =>
    Object.fromEntries(run.steps.map((s) => [s.name, { start: Date.parse(s.started_at!), end: Date.parse(s.finished_at!) }]));

  before(async () => {
    tmp = makeTempDir();
    app = createBareRepo(tmp.path, 'app', { history: [{ 'README.md': '# app\n' }] });
    const templates = createBareRepo(tmp.path, 'templates', {
      history: [{ 'notify.yml': 'steps:\n  - name: notify\n    run: echo "template v1"\n    needs: [deploy]\n' }],
    });
    git(tmp.path, ['--git-dir', templates.bare, 'tag', 'v1']);
    daemon = await startGitDaemon(tmp.path);
    work = join(tmp.path, 'work');
    git(tmp.path, ['clone', '-q', app.bare, work]);
    h = await startGateway();
    token = await h.login();
    pipelineId = await createPipeline(h, token, {
      name: 'as-code',
      repository_url: daemon.url('app'),
      branch: 'main',
      trigger_events: ['push', 'pull_request'],
      config_path: '.ansflow.yml',
    });
  });
  after(async () => {
    await h?.close();
    await daemon?.stop();
    tmp?.cleanup();
  });

  let first: string;
  test('a push runs the steps of the file at the pushed commit, as a graph, with a template from another repository', async () => {
    first = commit({
      '.ansflow.yml': [
        'include:',
        `  - { repository: "${daemon.url('templates')}", ref: v1, path: notify.yml }`,
        'steps:',
        '  - { name: build, run: "sleep 0.3; echo built > built.txt" }',
        '  - { name: test, run: "test -f built.txt; sleep 0.6", needs: [build] }',
        '  - { name: lint, run: "sleep 0.6", needs: [build] }',
        '  - { name: deploy, run: "echo deploying $TARGET", needs: [test, lint], env: { TARGET: staging } }',
        '',
      ].join('\n'),
      'src/app.txt': 'v1',
    });
    const run = await push(ZERO, first);
    assert.equal(run.status, 'success', JSON.stringify(run));
    assert.equal(run.commit, first);
    assert.deepEqual(run.steps.map((s: { name: string }) => s.name).sort(), ['build', 'deploy', 'lint', 'notify', 'test']);
    const t = times(run);
    assert.ok(t.test!.start >= t.build!.end && t.lint!.start >= t.build!.end, 'test and lint wait for build');
    assert.ok(t.test!.start < t.lint!.end && t.lint!.start < t.test!.end, 'test and lint overlap');
    assert.ok(t.deploy!.start >= Math.max(t.test!.end, t.lint!.end), 'deploy waits for both');
    assert.ok(t.notify!.start >= t.deploy!.end, 'the template step waits for deploy');
    const log = (await h.request('GET', `/api/pipeline-runs/${run.id}/logs/`, { token })).text;
    assert.match(log, /deploying staging/);
    assert.match(log, /template v1/);
  });

  test('the next commit changes the file: its run runs the new steps; the first run keeps its snapshot', async () => {
    // The checkout copies the commit from the repository's mirror, which the run's sandbox sees read-only.
    const second = commit({
      '.ansflow.yml': `steps:\n  - { name: only, type: git_checkout, config: { repository: "${daemon.url('app')}" } }\n  - { name: show, run: "cat src/app.txt; git rev-parse HEAD", needs: [only] }\n`,
    });
    const run = await push(first, second);
    assert.equal(run.status, 'success', JSON.stringify(run));
    assert.equal(run.commit, second);
    assert.deepEqual(
      run.steps.map((s: { name: string }) => s.name),
      ['only', 'show'],
    );
    const log = (await h.request('GET', `/api/pipeline-runs/${run.id}/logs/`, { token })).text;
    assert.match(log, /Mirror updated; copying commit/);
    assert.match(log, new RegExp(`==> show\\nv1${second}\\n`));
    const runs = (await h.request('GET', `/api/pipelines/${pipelineId}/runs/`, { token })).json.results as Array<{ id: number; commit: string }>;
    const older = runs.find((r) => r.commit === first)!;
    const detail = (await h.request('GET', `/api/pipeline-runs/${older.id}/`, { token })).json;
    assert.equal(detail.steps.length, 5);
  });

  test("a push whose changes the file's when.paths does not match runs nothing and ends success, skipped", async () => {
    const base = commit({ '.ansflow.yml': 'when: { paths: ["src/**"] }\nsteps:\n  - { name: build, run: "true" }\n' });
    const docsOnly = commit({ 'docs/readme.md': 'docs' });
    const skipped = await push(base, docsOnly);
    assert.equal(skipped.status, 'success', JSON.stringify(skipped));
    assert.equal(skipped.error_reason, 'skipped: no matching changes');
    assert.equal(skipped.commit, docsOnly);
    assert.deepEqual(skipped.steps, []);

    const source = commit({ 'src/app.txt': 'v2' });
    const ran = await push(docsOnly, source);
    assert.equal(ran.status, 'success');
    assert.deepEqual(
      ran.steps.map((s: { name: string }) => s.name),
      ['build'],
    );
  });

  test('a pull request is planned for its target branch and the files it changes since the merge base', async () => {
    commit({
      '.ansflow.yml': [
        'steps:',
        '  - { name: always, run: "echo pr=$ANSFLOW_COMMIT" }',
        '  - { name: on-main, run: "true", when: { branch: main, event: pull_request } }',
        '  - { name: on-src, run: "true", when: { paths: ["src/**"] } }',
        '  - { name: on-docs, run: "true", when: { paths: ["docs/**"] } }',
        '',
      ].join('\n'),
    });
    const head = commit({ 'docs/guide.md': 'guide' }, 'feature/docs');
    git(tmp.path, ['--git-dir', app.bare, 'update-ref', 'refs/pull/7/head', head]);
    const run = await pullRequest(7, 'feature/docs', head);
    assert.equal(run.status, 'success', JSON.stringify(run));
    assert.equal(run.commit, head);
    assert.deepEqual(run.steps.map((s: { name: string }) => s.name).sort(), ['always', 'on-docs', 'on-main']);
    // What the run's graph shows: each step's `when`, and the step `when` left out, with why.
    const byName = Object.fromEntries(run.steps.map((s: { name: string; when: unknown }) => [s.name, s.when]));
    assert.deepEqual(byName['on-main'], { branch: ['main'], event: ['pull_request'] });
    assert.deepEqual(byName['on-docs'], { paths: ['docs/**'] });
    assert.equal(byName.always, null);
    assert.deepEqual(run.left_out_steps, [{ name: 'on-src', reason: 'skipped: no matching changes', needs: [], when: { paths: ['src/**'] } }]);
  });

  test('an invalid file starts no step: the run ends error with each problem located (file, line, column, field)', async () => {
    const bad = commit({
      '.ansflow.yml': [
        'steps:',
        '  - { name: a, run: "true", needs: [ghost] }',
        '  - { name: b, run: "true", needs: [c] }',
        '  - { name: c, run: "true", needs: [b] }',
        '',
      ].join('\n'),
    });
    const run = await push(ZERO, bad);
    assert.equal(run.status, 'error', JSON.stringify(run));
    assert.deepEqual(run.steps, []);
    assert.match(run.error_reason, /the pipeline file is invalid/);
    const problems = run.config_errors as Array<{ file: string; path: string; line: number; column: number; message: string }>;
    assert.ok(problems.length >= 2, JSON.stringify(problems));
    const ghost = problems.find((p) => /ghost/.test(p.message))!;
    assert.equal(ghost.file, '.ansflow.yml');
    assert.equal(ghost.line, 2);
    assert.match(ghost.path, /^steps\[0\]\.needs/);
    assert.ok(ghost.column > 1);
    assert.ok(problems.some((p) => /wait for each other|cycle/i.test(p.message)));

    const broken = commit({ '.ansflow.yml': 'steps:\n  - name: [unclosed\n' });
    const syntax = await push(bad, broken);
    assert.equal(syntax.status, 'error');
    assert.ok(syntax.config_errors.length >= 1 && syntax.config_errors[0].line >= 2, JSON.stringify(syntax.config_errors));

    const missing = commit({ '.ansflow.yml': null });
    const none = await push(broken, missing);
    assert.equal(none.status, 'error');
    assert.match(none.config_errors[0].message, /\.ansflow\.yml does not exist at commit/);
  });
});
