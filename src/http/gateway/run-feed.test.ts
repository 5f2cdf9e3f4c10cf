/**
 * RunFeed's run channel against the real in-process event bus, a runs store whose reads the test
 * controls (a read may lag the event that caused it, as a read from another connection may), and a
 * socket that records what it is sent and when it is closed. The rule under test: the last status a
 * client receives before the 1000 close says the final status, and the close comes with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InProcessEventBus } from '../../events/in-process-event-bus.js';
import type { RunStatusEvent } from '../../events/event-bus.js';
import type { RunStatus } from '../../domain/status.js';
import type { Run } from '../../store/runs-repository.js';
import { recordingSocket, type Recorded } from '../../../test/support/recording-socket.js';
import { FeedClient } from './feed-client.js';
import { RunFeed } from './run-feed.js';

const run = (status: RunStatus): Run =>
  ({
    id: 7,
    status,
    steps: [],
    created_at: '2026-12-01T00:00:00.000Z',
    started_at: '2026-12-01T00:00:01.000Z',
    finished_at: status === 'success' ? '2026-12-01T00:00:09.000Z' : null,
  }) as unknown as Run;

const statusEvent = (status: RunStatus): RunStatusEvent => ({
  type: 'run_status',
  runId: 7,
  pipelineId: 1,
  status,
  progress: status === 'success' ? 100 : 50,
  currentStep: null,
  at: new Date().toISOString(),
});

/** A feed whose run reads answer `reads` in turn (the last one repeats). */
function feedWith(reads: RunStatus[]) {
  const events = new InProcessEventBus();
  const errors: Error[] = [];
  const feed = new RunFeed({
    events,
    runs: { findById: async () => run(reads.length > 1 ? reads.shift()! : reads[0]!), projectOf: async () => 1 },
    logs: { read: async () => ({ data: Buffer.alloc(0), nextOffset: 0 }) },
    onError: (e) => errors.push(e),
  });
  return { events, feed, errors };
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 20));

type StatusFrame = { type: string; data: { status?: string } };

function statusesAndClose(sent: Array<Recorded<StatusFrame>>) {
  return sent.map((m) => ('close' in m ? `close ${m.close}` : m.type === 'pipeline_status_update' ? m.data.status! : m.type));
}

test('a final event whose read still says running: the client gets the final status, then the close', async () => {
  // The join reads running; the final event's read lags (running) as a read from a replica or
  // another connection may.
  const { events, feed, errors } = feedWith(['running', 'running']);
  const { socket, sent } = recordingSocket<StatusFrame>();
  assert.equal(await feed.watchRun(7, new FeedClient(socket, 7, { softBytes: 1 << 20, hardBytes: 4 << 20 })), true);
  events.publish(statusEvent('success'));
  await settled();
  assert.deepEqual(statusesAndClose(sent), ['running', 'success', 'close 1000']);
  assert.deepEqual(errors, []);
});

test('a running event whose read is already final: the final status closes the feed at once, and only once', async () => {
  const { events, feed } = feedWith(['running', 'success']);
  const { socket, sent } = recordingSocket<StatusFrame>();
  await feed.watchRun(7, new FeedClient(socket, 7, { softBytes: 1 << 20, hardBytes: 4 << 20 }));
  events.publish(statusEvent('running'));
  await settled();
  assert.deepEqual(statusesAndClose(sent), ['running', 'success', 'close 1000']);
  events.publish(statusEvent('success'));
  await settled();
  assert.deepEqual(statusesAndClose(sent), ['running', 'success', 'close 1000']);
  assert.equal(feed.size, 1, 'the socket is closed; ws-routes unwatches it on its close event');
});

test('updates leave in event order, each built from its read', async () => {
  const { events, feed } = feedWith(['queued', 'running', 'running', 'success']);
  const { socket, sent } = recordingSocket<StatusFrame>();
  await feed.watchRun(7, new FeedClient(socket, 7, { softBytes: 1 << 20, hardBytes: 4 << 20 }));
  events.publish(statusEvent('running'));
  events.publish(statusEvent('running'));
  events.publish(statusEvent('success'));
  await settled();
  assert.deepEqual(statusesAndClose(sent), ['queued', 'running', 'running', 'success', 'close 1000']);
});
