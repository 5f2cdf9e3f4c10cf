/**
 * FeedClient's status path with a socket whose send buffer the test sets: a final status held
 * (before release) or kept back (a client over its hard limit) is still the last thing sent, and
 * the 1000 close comes only after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordingSocket, type Recorded } from '../../../test/support/recording-socket.js';
import { FeedClient } from './feed-client.js';

type StatusFrame = { type: string; data: { status?: string } };
/** Each status sent (or the frame's type) and each close, as short labels. */
const labels = (sent: Array<Recorded<StatusFrame>>) => sent.map((m) => ('close' in m ? `close ${m.close}` : (m.data.status ?? m.type)));

const status = (s: string) => Buffer.from(JSON.stringify({ type: 'pipeline_status_update', data: { status: s } }));
const limits = { softBytes: 1000, hardBytes: 4000 };

test('a final status held before release is sent, after the initial state, then the close', () => {
  const { socket, sent } = recordingSocket<StatusFrame>();
  const client = new FeedClient(socket, 1, limits);
  client.sendStatus(status('running'), false);
  client.sendStatus(status('success'), true);
  assert.deepEqual(labels(sent), []);
  client.sendFirst(() => client.sendStatus(status('queued'), false));
  client.release();
  assert.deepEqual(labels(sent), ['queued', 'success', 'close 1000']);
});

test('a final status kept back by a full buffer is sent once the client catches up, then the close', async () => {
  const { fake, socket, sent } = recordingSocket<StatusFrame>();
  const client = new FeedClient(socket, 1, limits);
  client.release();
  fake.bufferedAmount = 5000;
  client.sendStatus(status('running'), false);
  client.sendStatus(status('success'), true);
  assert.deepEqual(labels(sent), [], 'over the hard limit nothing is sent, and the socket stays open');
  fake.bufferedAmount = 0;
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.deepEqual(labels(sent), ['success', 'close 1000']);
});
