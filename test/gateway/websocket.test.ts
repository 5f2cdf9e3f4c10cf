/**
 * The live run feed over real WebSockets: token auth (no data without it), the current state at
 * once, status updates and live log chunks of a real shell run, close after the final status,
 * the all-runs feed, keepalive pings, and bounded buffers for a client that stops reading.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Harness } from '../support/api-harness.js';
import { TokenService } from '../../src/services/auth/token-service.js';
import { loadOrCreateSecretKey } from '../../src/services/secret-key.js';
import type { GatewayOptions } from '../../src/http/gateway/gateway-options.js';
import { connectWs, createPipeline, startGateway, wsUrl, type Recorded } from './gateway-support.js';
import { waitFor } from '../support/wait.js';

/**
 * How long a wait may take before the test calls it a hang: a liveness bound, not a speed target.
 * Every wait here is for a condition (a message, a file, a count) and ends as soon as it holds; on
 * a heavily loaded machine that can take many times what it takes on a quiet one.
 */
const LIVENESS_MS = 120_000;

/**
 * The setup of a describe: its own gateway with `gateway` options (started before, closed after),
 * handed with an admin token to `started`, and helpers that create a pipeline of shell steps and trigger a run.
 */
function gatewaySuite(gateway: Partial<GatewayOptions>, started: (h: Harness, admin: string) => void) {
  let h: Harness;
  let admin: string;
  before(async () => {
    h = await startGateway({}, {}, gateway);
    admin = await h.login();
    started(h, admin);
  });
  after(() => h.close());

  const pipeline = (name: string, commands: string[]) =>
    createPipeline(h, admin, { name, steps: commands.map((command, i) => ({ name: `step-${i + 1}`, type: 'shell_command', config: { command } })) });
  const trigger = async (pipelineId: number) => (await h.request('POST', `/api/pipelines/${pipelineId}/run/`, { token: admin, body: {} })).json.id as number;
  return { pipeline, trigger };
}

describe('WebSocket run feed', () => {
  let h: Harness;
  let admin: string;
  // Pings rare enough that no client here is dropped as dead: on a loaded machine a pong can be
  // read after the next round (keepalive has a suite of its own).
  const { pipeline, trigger } = gatewaySuite(
    { wsPingMs: 60_000, wsSoftBufferBytes: 16 * 1024, wsHardBufferBytes: 64 * 1024 },
    (...started) => ([h, admin] = started),
  );
  const closedWithoutData = async (url: string, headers: Record<string, string> = {}) => {
    const ws = await connectWs(url, headers);
    const closed = await ws.closed;
    assert.deepEqual(ws.messages, [], 'no data before authentication');
    return closed;
  };

  test('no token, a garbage token, or an expired token → closed with 4401 and no data', async () => {
    const runId = await trigger(await pipeline('auth-check', ['true']));
    assert.equal((await closedWithoutData(wsUrl(h, `/ws/pipeline-runs/${runId}`))).code, 4401);
    assert.equal((await closedWithoutData(wsUrl(h, `/ws/pipeline-runs/${runId}?token=not.a.jwt`))).code, 4401);
    assert.equal((await closedWithoutData(wsUrl(h, `/ws/pipeline-runs/${runId}`), { authorization: 'Bearer nope' })).code, 4401);
    assert.equal((await closedWithoutData(wsUrl(h, '/ws/pipeline-runs/'))).code, 4401);
    const user = await h.ctx.repos.users.findByUsername('admin');
    const shortLived = new TokenService(loadOrCreateSecretKey(null, h.dataDir), 1, 3600).issueAccess({ userId: user!.id, tokenVersion: user!.token_version });
    await sleep(2100);
    assert.equal((await closedWithoutData(wsUrl(h, `/ws/pipeline-runs/${runId}?token=${shortLived}`))).code, 4401);
  });

  test('a real shell run: state at once, status updates, live log chunks, close 1000 after the final status', async () => {
    // Chunks are live, not replayed: the step prints only once the test is connected (a loaded
    // machine can take longer than any fixed sleep to connect).
    // The go-ahead is a file in the run's workspace: the sandbox shows the step nothing else.
    const waitForGo = `for i in $(seq 2400); do [ -e ws-connected ] && break; sleep 0.05; done`;
    const id = await pipeline('live', [`${waitForGo}; echo hello-live; sleep 0.3; echo second-line`, 'echo from-step-two']);
    const runId = await trigger(id);
    const ws = await connectWs(wsUrl(h, `/ws/pipeline-runs/${runId}?token=${admin}`));
    const first = await ws.next(() => true, LIVENESS_MS);
    const workspace = join(h.dataDir, 'workspaces', `run-${runId}`);
    await waitFor(async () => existsSync(workspace) || undefined, LIVENESS_MS, 'the run to have its workspace');
    writeFileSync(join(workspace, 'ws-connected'), '');
    assert.equal(first.type, 'pipeline_status_update');
    assert.equal(first.data.run_id, runId);
    assert.ok(['queued', 'running'].includes(first.data.status));
    assert.equal(first.data.steps.length, 2);
    assert.ok('progress' in first.data && 'current_step' in first.data);

    const running = await ws.next((m) => m.type === 'pipeline_status_update' && m.data.current_step?.name === 'step-1', LIVENESS_MS);
    assert.equal(running.data.status, 'running');
    assert.equal(running.data.current_step.status, 'running');
    const log = await ws.next((m) => m.type === 'log' && m.data.text.includes('hello-live'), LIVENESS_MS);
    assert.equal(log.data.run_id, runId);
    assert.equal(log.data.step_id, running.data.current_step.id);
    assert.equal(typeof log.data.offset, 'number');
    // The chunk arrived while the run was still going: it is live, not replayed.
    const status = (await h.request('GET', `/api/pipeline-runs/${runId}/`, { token: admin })).json.status;
    assert.ok(['running', 'success'].includes(status));

    const closed = await ws.closed;
    assert.equal(closed.code, 1000);
    const last = ws.messages.at(-1);
    assert.equal(last.type, 'pipeline_status_update');
    assert.equal(last.data.status, 'success');
    assert.equal(last.data.progress, 100);
    assert.ok(last.data.steps.every((s: { status: string }) => s.status === 'success'));
    const text = ws.messages
      .filter((m) => m.type === 'log')
      .map((m) => m.data.text)
      .join('');
    assert.match(text, /hello-live\n[\s\S]*second-line\n[\s\S]*from-step-two\n/);
    const progresses = ws.messages.filter((m) => m.type === 'pipeline_status_update').map((m) => m.data.progress);
    assert.deepEqual(
      progresses,
      [...progresses].sort((a, b) => a - b),
      'progress never goes back',
    );
  });

  test('a finished run: its final state at once, then close 1000; an unknown run → 4404', async () => {
    const runId = await trigger(await pipeline('done-before', ['true']));
    await waitFor(
      async () => (await h.request('GET', `/api/pipeline-runs/${runId}/`, { token: admin })).json.status === 'success',
      LIVENESS_MS,
      'the run to end',
    );
    const ws = await connectWs(wsUrl(h, `/ws/pipeline-runs/${runId}`), { authorization: `Bearer ${admin}` });
    assert.equal((await ws.closed).code, 1000);
    assert.equal(ws.messages.length, 1);
    assert.equal(ws.messages[0].data.status, 'success');
    const unknown = await connectWs(wsUrl(h, `/ws/pipeline-runs/999999?token=${admin}`));
    assert.equal((await unknown.closed).code, 4404);
  });

  test('viewers read every run; the all-runs feed sends status updates of every run', async () => {
    const viewer = await h.userToken('viewer-ws', 'viewer');
    const all = await connectWs(wsUrl(h, `/ws/pipeline-runs/?token=${viewer}`));
    // The feed is live once an update of a marker run arrives on it (the subscription follows the
    // handshake's checks, so a fixed pause can be too short): a marker run that ended before that
    // sends nothing, and another is started. From then on every update of the next run must
    // arrive, its `queued` first.
    const markerPipeline = await pipeline('feed-marker', ['true']);
    const markers: number[] = [];
    await waitFor(
      async () => {
        markers.push(await trigger(markerPipeline));
        return all
          .next((m) => markers.includes(m.data?.run_id), 5000)
          .then(
            () => true,
            () => undefined,
          );
      },
      LIVENESS_MS,
      'the all-runs feed to be live',
    );
    const runId = await trigger(await pipeline('feed-all', ['true']));
    const done = await all.next((m) => m.data?.run_id === runId && m.data.status === 'success', LIVENESS_MS);
    assert.equal(done.type, 'pipeline_status_update');
    assert.equal(typeof done.data.pipeline_id, 'number');
    const statuses = all.messages.filter((m) => m.data.run_id === runId).map((m) => m.data.status);
    assert.equal(statuses[0], 'queued');
    all.socket.close();
  });
});

describe('WebSocket keepalive', () => {
  let h: Harness;
  let admin: string;
  // A ping every second: often enough to see two soon, rarely enough that an answering client's
  // pong is read before the next round even on a loaded machine (a late round judges nobody).
  gatewaySuite({ wsPingMs: 1000 }, (...started) => ([h, admin] = started));

  test('keepalive: the server pings; a client that stops answering is dropped', async () => {
    const all = await connectWs(wsUrl(h, `/ws/pipeline-runs/?token=${admin}`));
    let pings = 0;
    all.socket.on('ping', () => pings++);
    await waitFor(async () => pings >= 2, LIVENESS_MS, 'two pings');
    // Stop reading the TCP socket: pongs stop, and the server terminates the connection.
    (all.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const clients = async () => Number(/^ansflow_websocket_clients (\d+)$/m.exec(await fetch(h.servers.metricsUrl + '/metrics').then((r) => r.text()))?.[1]);
    await waitFor(async () => (await clients()) === 0, LIVENESS_MS, 'the silent client to be dropped');
    all.socket.terminate();
  });
});

describe('WebSocket backpressure', () => {
  let h: Harness;
  let admin: string;
  // Buffers far smaller than the 7.5 MB the step prints, so the stalled client must lose chunks
  // once the kernel's socket buffers are full (a paused reader's stay a few MB at most); yet wide
  // enough that the reading client, which shares this process's event loop with the server, is
  // not judged behind when a loaded machine delays its reads by a burst or two (with 16 KB it was,
  // on CI). Pings rare enough that the stalled client is not dropped as dead.
  const { pipeline, trigger } = gatewaySuite(
    { wsPingMs: 60_000, wsSoftBufferBytes: 256 * 1024, wsHardBufferBytes: 1024 * 1024 },
    (...started) => ([h, admin] = started),
  );

  test('a client that stops reading gets a resync hint instead of unbounded buffering; others get every byte', async () => {
    // About 7.8 MB in 28 bursts of 280 KB a tenth of a second apart: more than a paused reader's
    // kernel buffers hold, at a pace a reading client keeps up with even on a loaded machine.
    const id = await pipeline('flood', ['sleep 0.3; for i in $(seq 1 28); do seq 100001 140000; sleep 0.1; done; echo flood-end']);
    const runId = await trigger(id);
    const fast = await connectWs(wsUrl(h, `/ws/pipeline-runs/${runId}?token=${admin}`));
    const slow = await connectWs(wsUrl(h, `/ws/pipeline-runs/${runId}?token=${admin}`));
    await slow.next(() => true, LIVENESS_MS);
    const raw = (slow.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();
    const fastClosed = await fast.closed;
    assert.equal(fastClosed.code, 1000);
    // The run ended while the stalled client still was not reading: it did not hold the run up.
    const ended = (await h.request('GET', `/api/pipeline-runs/${runId}/`, { token: admin })).json;
    assert.equal(ended.status, 'success', 'the run finished while a client was stalled');
    raw.resume();
    const slowClosed = await slow.closed;
    assert.equal(slowClosed.code, 1000);

    const logOf = (ws: Recorded) =>
      ws.messages
        .filter((m) => m.type === 'log')
        .map((m) => m.data.text)
        .join('');
    const stepId = fast.messages.find((m) => m.type === 'log').data.step_id;
    const full = (await h.request('GET', `/api/pipeline-runs/${runId}/logs/?step=${stepId}`, { token: admin })).text;
    assert.ok(full.length > 1_000_000);
    assert.ok(logOf(fast) === full, `a reading client receives the whole log live (${logOf(fast).length} of ${full.length} bytes)`);
    const resync = slow.messages.find((m) => m.type === 'resync');
    assert.ok(resync, 'the stalled client is told what it missed');
    assert.equal(resync.data.run_id, runId);
    assert.ok(resync.data.steps[0].offset >= 0);
    assert.ok(logOf(slow).length < full.length, 'chunks were dropped, not buffered without bound');
    assert.equal(slow.messages.at(-1).data.status, 'success', 'the final status always arrives');
  });
});
