/**
 * When steps are not isolated, everybody is told: the start-up message, the system status and its
 * page (the browser test covers the page). When the sandbox cannot be set up, runs are refused
 * with the reason instead of running unisolated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi } from '../support/api-harness.js';
import { isFinalStatus } from '../support/run-status.js';
import { waitFor } from '../support/wait.js';

async function statusOf(gatewayUrl: string) {
  return waitFor(
    async () => {
      const body = (await (await fetch(`${gatewayUrl}/api/v1/system/status`)).json()) as { warnings: string[]; workers: Array<{ sandbox: unknown }> };
      return body.workers.length > 0 ? body : undefined;
    },
    10_000,
    'the worker to announce itself',
  );
}

async function runOnce(h: Awaited<ReturnType<typeof startApi>>) {
  const token = await h.login();
  const p = await h.request('POST', '/api/pipelines/', {
    token,
    body: { name: 'p', steps: [{ name: 's', type: 'shell_command', config: { command: 'echo ran' } }] },
  });
  const r = await h.request('POST', `/api/pipelines/${p.json.id}/run/`, { token, body: {} });
  return waitFor(
    async () => {
      const run = (await h.request('GET', `/api/pipeline-runs/${r.json.id}/`, { token })).json;
      return isFinalStatus(run.status) ? run : undefined;
    },
    20_000,
    'the run to end',
  );
}

test('ANSFLOW_SANDBOX=off runs steps, and the system status warns that they are not isolated', async () => {
  const h = await startApi({}, { ANSFLOW_SANDBOX: 'off' });
  try {
    const status = await statusOf(h.gatewayUrl);
    assert.deepEqual({ ...(status.workers[0]!.sandbox as object), detail: undefined }, { isolated: false, mode: 'off', detail: undefined });
    assert.match(status.warnings.join('\n'), /steps are not isolated on worker .*ANSFLOW_SANDBOX=off/);
    assert.equal((await runOnce(h)).status, 'success');
  } finally {
    await h.close();
  }
});

test('with the sandbox on, the status says how steps are isolated and warns of nothing', async () => {
  const h = await startApi();
  try {
    const status = await statusOf(h.gatewayUrl);
    assert.equal((status.workers[0]!.sandbox as { isolated: boolean }).isolated, true);
    assert.deepEqual(status.warnings, []);
  } finally {
    await h.close();
  }
});

test('when the sandbox cannot be set up (no bubblewrap), runs end as a platform error saying why', async () => {
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  let h: Awaited<ReturnType<typeof startApi>>;
  try {
    h = await startApi();
  } finally {
    process.env.PATH = path;
  }
  try {
    const status = await statusOf(h.gatewayUrl);
    assert.match(status.warnings.join('\n'), /steps are refused: bubblewrap is not installed/);
    const run = await runOnce(h);
    assert.equal(run.status, 'error');
    assert.match(run.error_reason, /sandbox could not be set up: steps are not run: the sandbox cannot be set up \(bubblewrap is not installed/);
  } finally {
    await h.close();
  }
});
