/**
 * A step's `from: {pipeline, branch}` end to end, through the real server and worker: a later run
 * takes the artifacts of another pipeline's latest successful run on that branch into its workspace
 * before the step (not a failed run's, not another branch's); a pipeline of another project is never
 * found (a run reads only its own project's pipelines); no successful run, or none of its artifacts
 * left, fails the step before it runs with the reason; a bad `from:` is refused when saved.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { isFinalStatus } from '../support/run-status.js';
import { waitFor } from '../support/wait.js';

describe("from: another pipeline's artifacts", () => {
  let h: Harness;
  let admin: string;
  before(async () => {
    h = await startApi();
    admin = await h.login();
  });
  after(() => h?.close());

  const shell = (name: string, command: string, extra: Record<string, unknown> = {}) => ({ name, type: 'shell_command', config: { command }, ...extra });
  const pipeline = async (name: string, steps: unknown[], extra: Record<string, unknown> = {}) => {
    const r = await h.request('POST', '/api/pipelines/', { token: admin, body: { name, steps, ...extra } });
    assert.equal(r.status, 201, r.text);
    return r.json.id as number;
  };
  const run = async (pipelineId: number, body: Record<string, unknown> = {}) => {
    const started = await h.request('POST', `/api/pipelines/${pipelineId}/run/`, { token: admin, body });
    assert.equal(started.status, 201, started.text);
    return waitFor(
      async () => {
        const r = await h.request('GET', `/api/pipeline-runs/${started.json.id}/`, { token: admin });
        return isFinalStatus(r.json.status) ? r.json : undefined;
      },
      30000,
      'the run to finish',
    );
  };
  const log = async (runId: number) => (await h.request('GET', `/api/pipeline-runs/${runId}/logs/`, { token: admin })).text;

  // Writes which run and branch built it; fails after storing nothing when FAIL is set.
  const producerSteps = [
    shell(
      'build',
      'mkdir -p dist/sub && echo "built by run $ANSFLOW_RUN_NUMBER on $ANSFLOW_BRANCH" > dist/app.txt && echo two > dist/sub/two.txt; [ -z "$FAIL" ]',
      {
        artifacts: { name: 'dist', paths: ['dist/**'] },
      },
    ),
    shell('report', 'echo report > report.txt', { artifacts: { name: 'report', paths: ['report.txt'] } }),
  ];

  test("a step takes the latest successful run's artifacts on the branch into its workspace", async () => {
    const producer = await pipeline('producer', producerSteps);
    assert.equal((await run(producer)).status, 'success'); // #1 on main
    assert.equal((await run(producer, { branch: 'dev' })).status, 'success'); // #2 on dev
    const third = await run(producer); // #3 on main: the latest successful on main
    assert.equal(third.status, 'success');
    // #4 on main fails: not a successful run, so not taken.
    assert.equal((await run(producer, { variables: { FAIL: '1' } })).status, 'failed');

    const consumer = await pipeline('consumer', [
      shell('deploy', 'cat dist/app.txt dist/sub/two.txt report.txt', { from: { pipeline: 'producer', branch: 'main' } }),
      shell('later', 'cat dist/app.txt'),
    ]);
    const taken = await run(consumer);
    const text = await log(taken.id);
    assert.equal(taken.status, 'success', text);
    assert.match(text, /from: 3 files \(34 bytes\) of "dist", "report" from run #3 of "producer" on branch "main"/);
    assert.match(text, /built by run 3 on main\ntwo\nreport/);

    // Another branch by name; the producer's own branch when none is given; by id too.
    const dev = await run(await pipeline('consumer-dev', [shell('deploy', 'cat dist/app.txt', { from: { pipeline: 'PRODUCER', branch: 'dev' } })]));
    assert.equal(dev.status, 'success', await log(dev.id));
    assert.match(await log(dev.id), /built by run 2 on dev/);
    const byId = await run(await pipeline('consumer-id', [shell('deploy', 'cat dist/app.txt', { from: { pipeline: producer } })]));
    assert.equal(byId.status, 'success', await log(byId.id));
    assert.match(await log(byId.id), /built by run 3 on main/);
  });

  test('no successful run on the branch, or no artifacts left: the step fails before it runs, with the reason', async () => {
    assert.equal((await run(await pipeline('lonely', [shell('build', 'true')]))).status, 'success');
    const consumer = await pipeline('consumer-none', [
      shell('deploy', 'echo SHOULD-NOT-RUN', { from: { pipeline: 'producer', branch: 'nowhere' } }),
      shell('after', 'echo after'),
    ]);
    const none = await run(consumer);
    assert.equal(none.status, 'failed');
    assert.equal(
      none.steps[0].message,
      'from: no artifacts of pipeline "producer" on branch "nowhere": pipeline "producer" has no successful run on branch "nowhere"',
    );
    assert.equal(none.steps[0].exit_code, null);
    const text = await log(none.id);
    assert.doesNotMatch(text, /SHOULD-NOT-RUN/);
    assert.notEqual(none.steps[1].status, 'success');

    const empty = await run(await pipeline('consumer-empty', [shell('deploy', 'echo SHOULD-NOT-RUN', { from: { pipeline: 'lonely' } })]));
    assert.equal(empty.status, 'failed');
    assert.match(empty.steps[0].message, /^from: no artifacts of pipeline "lonely": its latest successful run on branch "main", #1, has no artifacts left/);
    assert.doesNotMatch(await log(empty.id), /SHOULD-NOT-RUN/);
  });

  test("another project's pipeline is never found, by name or by id", async () => {
    const project = (await h.request('POST', '/api/projects/', { token: admin, body: { name: 'secret-team' } })).json.id;
    const secret = await pipeline('secret-producer', [shell('build', 'echo secret > key.txt', { artifacts: { name: 'keys', paths: ['key.txt'] } })], {
      project,
    });
    assert.equal((await run(secret)).status, 'success');

    for (const ref of ['secret-producer', secret]) {
      const consumer = await pipeline(`thief-${typeof ref}`, [shell('steal', 'cat key.txt', { from: { pipeline: ref } })]);
      const stolen = await run(consumer);
      assert.equal(stolen.status, 'failed');
      assert.match(
        stolen.steps[0].message,
        new RegExp(
          `^from: no artifacts of pipeline .*: this run's project has no pipeline ${typeof ref === 'number' ? `with id ${ref}` : '"secret-producer"'} \\(a run takes artifacts only from its own project's pipelines\\)$`,
        ),
      );
      assert.doesNotMatch(await log(stolen.id), /^secret$/m);
    }
    // Within that project, the same reference works.
    const own = await run(await pipeline('own-consumer', [shell('use', 'cat key.txt', { from: { pipeline: 'secret-producer' } })], { project }));
    assert.equal(own.status, 'success', await log(own.id));
    assert.match(await log(own.id), /^secret$/m);
  });

  test('a bad from: is refused when the pipeline is saved, with the field named', async () => {
    const bad = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: { name: 'bad-from', steps: [shell('x', 'true', { from: { pipeline: 'producer', branch: '-evil' } })] },
    });
    assert.equal(bad.status, 400, bad.text);
    assert.ok(bad.json.error.details['steps[0].from.branch'], bad.text);
    const extra = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: { name: 'bad-from-2', steps: [shell('x', 'true', { from: { pipeline: 'producer', run: 3 } })] },
    });
    assert.equal(extra.status, 400, extra.text);
    const empty = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: { name: 'bad-from-3', steps: [shell('x', 'true', { from: { pipeline: '' } })] },
    });
    assert.equal(empty.status, 400, empty.text);
  });
});
