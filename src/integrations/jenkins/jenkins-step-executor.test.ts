import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { FakeJenkins } from '../../../test/support/fake-jenkins.js';
import type { StepContext } from '../../engine/ports.js';
import { JenkinsClient } from './jenkins-client.js';
import { createJenkinsStepExecutor } from './jenkins-step-executor.js';

let jenkins: FakeJenkins;
let client: JenkinsClient;
before(async () => {
  jenkins = await FakeJenkins.start();
  client = new JenkinsClient({ url: jenkins.url, user: jenkins.user, token: jenkins.token, timeoutMs: 2000 });
});
after(async () => {
  await jenkins.stop();
});

function context(signal: AbortSignal = new AbortController().signal): { ctx: StepContext; log: () => string } {
  const chunks: string[] = [];
  const ctx: StepContext = {
    runId: 1,
    stepId: 1,
    workspace: '/tmp/none',
    env: {},
    output: (chunk) => chunks.push(chunk.toString()),
    signal,
    addSecret: () => undefined,
    processStarted: () => undefined,
    spec: { runId: 1, number: 1, pipelineId: 1, pipelineName: 'p', branch: 'main', commit: null, variables: {}, steps: [] },
  };
  return { ctx, log: () => chunks.join('') };
}

let counter = 0;
function newJob(options: Parameters<FakeJenkins['addJob']>[1]): string {
  const name = `step-${++counter}`;
  jenkins.addJob(name, options);
  return name;
}

test('a SUCCESS build is a successful step with the Jenkins console in the step log', async () => {
  const job = newJob({ build: { queue: ['waiting'], console: ['compiling\n', 'testing\n'] } });
  const executor = createJenkinsStepExecutor({ client, pollMs: 1 });
  assert.equal(executor.type, 'jenkins_job');
  const { ctx, log } = context();
  const result = await executor.execute({ job_name: job, parameters: { BRANCH: 'main', SECRET_LOOKING: 'x' } }, ctx);
  assert.deepEqual(result, { status: 'success', exitCode: null });
  assert.match(log(), /Triggering Jenkins job step-\d+ with parameters BRANCH, SECRET_LOOKING\n/);
  assert.match(log(), /Started Jenkins build #42: http:\/\/127\.0\.0\.1:\d+\/job\/step-\d+\/42\//);
  assert.match(log(), /compiling\ntesting\nFinished: SUCCESS\n/);
  assert.doesNotMatch(log(), /=x/, 'parameter values are not echoed');
  assert.deepEqual(
    [...jenkins.requestsTo(`/job/${job}/buildWithParameters`, 'POST')[0]!.form.entries()],
    [
      ['BRANCH', 'main'],
      ['SECRET_LOOKING', 'x'],
    ],
  );
});

test('every other result fails the step with a message naming it', async () => {
  for (const result of ['FAILURE', 'UNSTABLE', 'ABORTED', 'NOT_BUILT'] as const) {
    const job = newJob({ build: { queue: [], result } });
    const { ctx } = context();
    const outcome = await createJenkinsStepExecutor({ client, pollMs: 1 }).execute({ job_name: job }, ctx);
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.exitCode, null);
    assert.match(outcome.message ?? '', new RegExp(`#42 finished with result ${result}$`));
  }
});

test('a job without parameters is triggered with build', async () => {
  const job = newJob({ parameterized: false, build: { queue: [] } });
  const { ctx } = context();
  const outcome = await createJenkinsStepExecutor({ client, pollMs: 1 }).execute({ job_name: job, parameters: {} }, ctx);
  assert.equal(outcome.status, 'success');
  assert.equal(jenkins.requestsTo(`/job/${job}/build`, 'POST').length, 1);
});

test('cancelling the run stops the Jenkins build', async () => {
  const job = newJob({ build: { queue: [], console: ['long job\n'], hold: true } });
  const controller = new AbortController();
  const { ctx, log } = context(controller.signal);
  const executing = createJenkinsStepExecutor({ client, pollMs: 5 }).execute({ job_name: job }, ctx);
  while (!log().includes('long job')) await new Promise((r) => setTimeout(r, 5));
  controller.abort({ kind: 'cancel' });
  const outcome = await executing;
  assert.equal(outcome.status, 'failed');
  assert.match(outcome.message ?? '', /#42 was aborted because the run was cancelled/);
  assert.equal(jenkins.build(job, 42)?.stopRequests, 1);
});

test('Jenkins refusing or unreachable fails the step with the reason', async () => {
  const disabled = newJob({ disabled: true });
  const { ctx, log } = context();
  const outcome = await createJenkinsStepExecutor({ client, pollMs: 1 }).execute({ job_name: disabled, parameters: { A: '1' } }, ctx);
  assert.equal(outcome.status, 'failed');
  assert.match(outcome.message ?? '', /HTTP 409: .*is not buildable/);
  assert.match(log(), /is not buildable/);

  const down = new JenkinsClient({ url: await FakeJenkins.closedUrl(), user: 'u', token: 't' });
  const r2 = await createJenkinsStepExecutor({ client: down }).execute({ job_name: 'x' }, context().ctx);
  assert.match(r2.message ?? '', /cannot reach/);
});

test('invalid configuration or no configured Jenkins fails without contacting anything', async () => {
  const count = jenkins.requests.length;
  const exec = createJenkinsStepExecutor({ client, pollMs: 1 });
  assert.match((await exec.execute({}, context().ctx)).message ?? '', /needs a job_name/);
  assert.match((await exec.execute({ job_name: 'j', parameters: { A: 1 } }, context().ctx)).message ?? '', /parameter A must be a string/);
  assert.match((await exec.execute({ job_name: 'j', parameters: { 'X=1&delay=0': 'v' } }, context().ctx)).message ?? '', /X=1&delay=0/);
  assert.equal(jenkins.requests.length, count);
  const none = createJenkinsStepExecutor({ client: null });
  assert.match((await none.execute({ job_name: 'j' }, context().ctx)).message ?? '', /Jenkins is not configured/);
});

test('a step timeout stops the Jenkins build and says so', async () => {
  const job = newJob({ build: { queue: [], console: ['slow\n'], hold: true } });
  const controller = new AbortController();
  const { ctx, log } = context(controller.signal);
  const executing = createJenkinsStepExecutor({ client, pollMs: 5 }).execute({ job_name: job }, ctx);
  while (!log().includes('slow')) await new Promise((r) => setTimeout(r, 5));
  controller.abort({ kind: 'timeout' });
  assert.match((await executing).message ?? '', /aborted because the step timed out/);
  assert.equal(jenkins.build(job, 42)?.stopRequests, 1);
});
