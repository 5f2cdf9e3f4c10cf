/**
 * An invalid pipeline file, end to end: a signed GitHub push of a commit whose `.ansflow.yml` has
 * problems starts no step; the run ends `error` and every problem, located by file, line, column
 * and field, is visible in the run's API body, in its log (GET .../logs/), in the webhook delivery
 * log (the delivery's run results) and on the forge's commit (the stand-in forge receives `error`
 * with the problems in its description). The delivery log shows a run's result only to those who
 * may read the run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Harness } from '../support/api-harness.js';
import { createBareRepo, makeTempDir, startGitDaemon, type GitServer, type TempDir } from '../support/git-fixtures.js';
import { startFakeForge, type FakeForge } from '../support/fake-forge.js';
import { isFinalStatus } from '../support/run-status.js';
import { waitFor } from '../support/wait.js';
import { createPipeline, githubHeaders, postGithub, startGateway } from './gateway-support.js';

const TOKEN = `ghp_${randomUUID().replace(/-/g, '')}`;
const INVALID = ['steps:', '  - { name: build, run: "true", needs: [ghost] }', '  - { name: test, run: "true", needs: [build, phantom] }', ''].join('\n');

describe('an invalid pipeline file shows its problems everywhere a run is looked at', () => {
  let h: Harness;
  let admin: string;
  let member: string;
  let tmp: TempDir;
  let daemon: GitServer;
  let forge: FakeForge;
  let commit: string;
  let runId: number;
  let otherRunId: number;
  let deliveryRuns: number[];

  before(async () => {
    tmp = makeTempDir();
    const repo = createBareRepo(tmp.path, 'acme/app', { history: [{ '.ansflow.yml': INVALID }] });
    commit = repo.commits[0]!;
    daemon = await startGitDaemon(tmp.path);
    forge = await startFakeForge({ github: [TOKEN], gitlab: [] });
    h = await startGateway({}, { ANSFLOW_PUBLIC_URL: 'https://ci.example.com', ANSFLOW_GITHUB_API_URL: `${forge.url}/api/v3`, ANSFLOW_GITHUB_TOKEN: TOKEN });
    admin = await h.login();
    member = await h.userToken('file-reader', 'developer');
    const mine = (await h.request('POST', '/api/projects/', { token: admin, body: { name: 'files' } })).json.id as number;
    const other = (await h.request('POST', '/api/projects/', { token: admin, body: { name: 'elsewhere' } })).json.id as number;
    assert.equal(
      (await h.request('POST', `/api/projects/${mine}/members/`, { token: admin, body: { username: 'file-reader', role: 'developer' } })).status,
      201,
    );
    const common = { repository_url: daemon.url('acme/app'), branch: 'main', trigger_events: ['push'] };
    await createPipeline(h, admin, { ...common, name: 'as-code', project: mine, config_path: '.ansflow.yml' });
    await createPipeline(h, admin, { ...common, name: 'stored', project: other, steps: [{ name: 'x', type: 'shell_command', config: { command: 'exit 4' } }] });

    const body = JSON.stringify({
      ref: 'refs/heads/main',
      before: '0'.repeat(40),
      after: commit,
      deleted: false,
      repository: { id: 77, full_name: 'acme/app', clone_url: daemon.url('acme/app') },
      head_commit: { id: commit, message: 'a broken file', author: { name: 'dev' } },
      pusher: { name: 'dev' },
    });
    const r = await postGithub(h, body, githubHeaders(body, 'push'));
    assert.equal(r.status, 202, r.text);
    deliveryRuns = r.json.triggered_runs;
    assert.equal(deliveryRuns.length, 2, r.text);
    const runs = await Promise.all(
      deliveryRuns.map((id) =>
        waitFor(async () => {
          const d = await h.request('GET', `/api/pipeline-runs/${id}/`, { token: admin });
          return isFinalStatus(d.json.status) ? d.json : undefined;
        }, 60_000),
      ),
    );
    runId = runs.find((x) => x.pipeline.name === 'as-code')!.id;
    otherRunId = runs.find((x) => x.pipeline.name === 'stored')!.id;
  });
  after(async () => {
    await h?.close();
    await forge?.close();
    await daemon?.stop();
    tmp?.cleanup();
  });

  test('the run: error, no step, every problem located', async () => {
    const run = (await h.request('GET', `/api/pipeline-runs/${runId}/`, { token: admin })).json;
    assert.equal(run.status, 'error');
    assert.deepEqual(run.steps, []);
    assert.equal(run.commit, commit);
    assert.match(run.error_reason, /^the pipeline file is invalid \(2 problems\): \.ansflow\.yml:2:\d+ steps\[0\]\.needs\[0\]: /);
    const paths = (run.config_errors as Array<{ path: string; line: number }>).map((e) => [e.path, e.line]);
    assert.deepEqual(paths, [
      ['steps[0].needs[0]', 2],
      ['steps[1].needs[1]', 3],
    ]);
  });

  test("the run's log lists each problem by file, line, column and field", async () => {
    const r = await h.request('GET', `/api/pipeline-runs/${runId}/logs/`, { token: admin });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-run-status'), 'error');
    const lines = r.text.trimEnd().split('\n');
    assert.equal(lines[0], `The pipeline file .ansflow.yml at commit ${commit.slice(0, 12)} is invalid; no step was started.`);
    assert.equal(lines[1], '2 problems:');
    assert.match(lines[2]!, /^ {2}\.ansflow\.yml:2:\d+ steps\[0\]\.needs\[0\]: .*ghost/);
    assert.match(lines[3]!, /^ {2}\.ansflow\.yml:3:\d+ steps\[1\]\.needs\[1\]: .*phantom/);
    assert.equal(Number(r.headers.get('x-next-offset')), Buffer.byteLength(r.text));
    // Read on from an offset, as `ansflow logs --follow` and the log view do.
    const tail = await h.request('GET', `/api/pipeline-runs/${runId}/logs/?offset=${Buffer.byteLength(`${lines[0]}\n`)}`, { token: admin });
    assert.ok(tail.text.startsWith('2 problems:\n'), tail.text);
  });

  test('the delivery log shows what each run came to, to those who may read the run', async () => {
    const listed = async (token: string) => {
      const r = await h.request('GET', '/api/webhook-deliveries/', { token });
      assert.equal(r.status, 200, r.text);
      return (
        r.json.results as Array<{ runs: number[]; run_results: Array<{ id: number; status: string; pipeline: string; error_reason: string | null }> }>
      ).find((d) => d.runs.includes(runId))!;
    };
    const all = await listed(admin);
    assert.deepEqual(all.runs.sort(), [...deliveryRuns].sort());
    const mine = all.run_results.find((r) => r.id === runId)!;
    assert.equal(mine.status, 'error');
    assert.equal(mine.pipeline, 'as-code');
    assert.match(mine.error_reason!, /the pipeline file is invalid \(2 problems\): \.ansflow\.yml:2:/);
    assert.equal(all.run_results.find((r) => r.id === otherRunId)?.status, 'failed');

    const seen = await listed(member);
    assert.deepEqual(
      seen.run_results.map((r) => r.id),
      [runId],
      'a run of a project the member does not belong to stays a bare id: no status, no reason',
    );
  });

  test('the forge: pending, then error, with the problems in the description', async () => {
    const received = await waitFor(
      async () => {
        const got = forge.statusesOf(commit, 'ansflow/as-code');
        return got.at(-1)?.state === 'error' ? got : undefined;
      },
      30_000,
      'an error status',
    );
    assert.deepEqual(forge.violations, []);
    assert.deepEqual(
      received.slice(0, -1).map((s) => s.state),
      Array(received.length - 1).fill('pending'),
    );
    const last = received.at(-1)!;
    assert.equal(last.repository, 'acme/app');
    assert.equal(last.target_url, `https://ci.example.com/runs/${runId}`);
    assert.match(last.description!, /^the pipeline file is invalid \(2 problems\): \.ansflow\.yml:2:\d+ steps\[0\]\.needs\[0\]/);
    assert.ok(last.description!.length <= 140);
  });
});
