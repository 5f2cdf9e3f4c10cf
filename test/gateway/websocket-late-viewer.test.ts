/**
 * A viewer who connects mid-run misses nothing: the state, then the log written so far (from
 * the start, or from `?step=&offset=`), then the live chunks, each byte once and in order, so the
 * bytes received are exactly the step's log. And every status message is one snapshot: its
 * status, progress and current step agree with the steps it carries.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness } from '../support/api-harness.js';
import { connectWs, createPipeline, startGateway, wsUrl, type Recorded } from './gateway-support.js';
import { waitFor } from '../support/wait.js';
import { progressOf } from '../../src/services/runs/run-view.js';
import { isFinalRunStatus } from '../../src/domain/status.js';

describe('WebSocket: a late viewer and consistent snapshots', () => {
  let h: Harness;
  let admin: string;
  before(async () => {
    h = await startGateway();
    admin = await h.login();
  });
  after(() => h.close());

  /** A run whose one step writes `lines` lines slowly (with a multi-byte character in each). */
  const slowRun = async (name: string, lines: number) => {
    const id = await createPipeline(h, admin, {
      name,
      steps: [{ name: 'writer', type: 'shell_command', config: { command: `for i in $(seq 1 ${lines}); do echo "line-$i ünïcode"; sleep 0.05; done` } }],
    });
    const run = (await h.request('POST', `/api/pipelines/${id}/run/`, { token: admin, body: {} })).json;
    return { runId: run.id as number, stepId: run.steps[0].id as number };
  };
  const stepLog = async (runId: number, stepId: number) => (await h.request('GET', `/api/pipeline-runs/${runId}/logs/?step=${stepId}`, { token: admin })).text;
  const untilLogHas = (runId: number, stepId: number, text: string) =>
    waitFor(
      async () => {
        const log = await stepLog(runId, stepId);
        return log.includes(text) ? log : undefined;
      },
      30000,
      `the log to have ${text}`,
    );
  /** The log messages' bytes, checking each starts where the one before ended. */
  const received = (ws: Recorded, stepId: number, from: number) => {
    let offset = from;
    const parts: Buffer[] = [];
    for (const m of ws.messages.filter((m) => m.type === 'log' && m.data.step_id === stepId)) {
      assert.equal(m.data.offset, offset, 'each chunk starts where the last one ended: no gap, no repeat');
      const bytes = Buffer.from(m.data.text);
      parts.push(bytes);
      offset += bytes.length;
    }
    return Buffer.concat(parts).toString();
  };

  test('connecting mid-run: the state, the log from the start, then live chunks, every byte once', async () => {
    const { runId, stepId } = await slowRun('late-viewer', 60);
    const before = await untilLogHas(runId, stepId, 'line-10 ');
    const ws = await connectWs(wsUrl(h, `/ws/pipeline-runs/${runId}?token=${admin}`));
    const closed = await ws.closed;
    assert.equal(closed.code, 1000);
    assert.equal(ws.messages[0].type, 'pipeline_status_update', 'the state comes first');
    assert.equal(ws.messages[0].data.status, 'running');
    const firstLog = ws.messages.findIndex((m) => m.type === 'log');
    assert.ok(firstLog > 0);
    assert.equal(ws.messages[firstLog].data.offset, 0, 'the backlog starts at the beginning');
    const full = await stepLog(runId, stepId);
    assert.match(full, /line-60 ünïcode/);
    assert.ok(full.startsWith(before));
    assert.equal(received(ws, stepId, 0), full, 'the viewer has the whole log, as the API gives it');
    assert.ok(!ws.messages.some((m) => m.type === 'resync'));
  });

  test('?step=&offset= starts the backlog there', async () => {
    const { runId, stepId } = await slowRun('late-viewer-offset', 40);
    const seen = await untilLogHas(runId, stepId, 'line-5 ');
    const offset = Buffer.byteLength(seen.slice(0, seen.indexOf('line-3 ')));
    const ws = await connectWs(wsUrl(h, `/ws/pipeline-runs/${runId}?token=${admin}&step=${stepId}&offset=${offset}`));
    await ws.closed;
    const full = Buffer.from(await stepLog(runId, stepId));
    assert.equal(ws.messages.find((m) => m.type === 'log').data.offset, offset);
    assert.equal(received(ws, stepId, offset), full.subarray(offset).toString());
    assert.match(received(ws, stepId, offset), /^line-3 ünïcode\n/);
  });

  test('every status message agrees with the steps it carries', async () => {
    const id = await createPipeline(h, admin, {
      name: 'snapshots',
      steps: [1, 2, 3, 4].map((i) => ({ name: `s${i}`, type: 'shell_command', config: { command: `echo s${i}; sleep 0.1` } })),
    });
    const run = (await h.request('POST', `/api/pipelines/${id}/run/`, { token: admin, body: {} })).json;
    const ws = await connectWs(wsUrl(h, `/ws/pipeline-runs/${run.id}?token=${admin}`));
    await ws.closed;
    const statuses = ws.messages.filter((m) => m.type === 'pipeline_status_update').map((m) => m.data);
    assert.ok(statuses.length >= 1);
    for (const s of statuses) {
      assert.ok(Array.isArray(s.steps), JSON.stringify(s));
      assert.equal(s.progress, progressOf(s.status, s.steps), `progress of ${JSON.stringify(s)}`);
      const running = s.steps.find((step: { status: string }) => step.status === 'running');
      assert.equal(s.current_step?.id ?? null, running?.id ?? null, `current step of ${JSON.stringify(s)}`);
      if (isFinalRunStatus(s.status))
        assert.ok(!s.steps.some((step: { status: string }) => ['running', 'pending'].includes(step.status)), `a ${s.status} run with unfinished steps`);
      if (s.status === 'queued') assert.ok(s.steps.every((step: { status: string }) => step.status === 'pending'));
    }
    assert.equal(statuses.at(-1).status, 'success');
  });
});
