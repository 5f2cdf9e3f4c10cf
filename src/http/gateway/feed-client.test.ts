/**
 * FeedClient's status path with a socket whose send buffer the test sets: a final status held
 * (before release) or kept back (a client over its hard limit) is still the last thing sent, and
 * the 1000 close comes only after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebSocket } from 'ws';
import { FeedClient } from './feed-client.js';

function recordingSocket() {
  const sent: string[] = [];
  const socket = {
    OPEN: 1,
    CONNECTING: 0,
    readyState: 1,
    bufferedAmount: 0,
    on: () => socket,
    send: (data: Buffer | string) => sent.push(JSON.parse(data.toString()).data.status ?? JSON.parse(data.toString()).type),
    close: (code: number) => {
      sent.push(`close ${code}`);
      socket.readyState = 3;
    },
    terminate: () => undefined,
  };
  return { socket, sent };
}

const status = (s: string) => Buffer.from(JSON.stringify({ type: 'pipeline_status_update', data: { status: s } }));
const limits = { softBytes: 1000, hardBytes: 4000 };

test('a final status held before release is sent, after the initial state, then the close', () => {
  const { socket, sent } = recordingSocket();
  const client = new FeedClient(socket as unknown as WebSocket, 1, limits);
  client.sendStatus(status('running'), false);
  client.sendStatus(status('success'), true);
  assert.deepEqual(sent, []);
  client.sendFirst(() => client.sendStatus(status('queued'), false));
  client.release();
  assert.deepEqual(sent, ['queued', 'success', 'close 1000']);
});

test('a final status kept back by a full buffer is sent once the client catches up, then the close', async () => {
  const { socket, sent } = recordingSocket();
  const client = new FeedClient(socket as unknown as WebSocket, 1, limits);
  client.release();
  socket.bufferedAmount = 5000;
  client.sendStatus(status('running'), false);
  client.sendStatus(status('success'), true);
  assert.deepEqual(sent, [], 'over the hard limit nothing is sent, and the socket stays open');
  socket.bufferedAmount = 0;
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.deepEqual(sent, ['success', 'close 1000']);
});
