/**
 * FeedClient with a socket whose send buffer the test sets. Status path: a final status held
 * (before release) or kept back (a client over its hard limit) is still the last thing sent, and
 * the 1000 close comes only after it. Log path: a burst in one turn of the event loop reaches a
 * client that had taken everything before it, whatever its size; a client still behind when the
 * next turn starts misses that turn's chunks and is told to resync.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordingSocket, type Recorded } from '../../../test/support/recording-socket.js';
import { FeedClient, type LogChunk } from './feed-client.js';

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

type LogFrame = { type: string; data: { offset?: number; steps?: Array<{ step_id: number; offset: number }> } };
/** A recording socket that never drains by itself: every send adds its bytes to bufferedAmount. */
function fillingSocket() {
  const recording = recordingSocket<LogFrame>();
  const record = recording.fake.send;
  recording.fake.send = (data: Buffer | string) => {
    recording.fake.bufferedAmount += Buffer.byteLength(data);
    return record(data);
  };
  return recording;
}

const CHUNK = 64 * 1024;
function chunkAt(offset: number): LogChunk {
  const text = 'x'.repeat(CHUNK);
  const data = Buffer.from(JSON.stringify({ type: 'log', data: { run_id: 1, step_id: 7, offset, text } }));
  return { data, stepId: 7, offset, length: CHUNK, tail: () => data };
}
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const frames = (sent: Array<Recorded<LogFrame>>) => sent.map((m) => ('close' in m ? `close ${m.close}` : m.type === 'log' ? `log ${m.data.offset}` : m.type));

test('a 1 MiB burst in one turn reaches a client that had taken everything before it, past its 16 KiB soft limit', () => {
  const { fake, socket, sent } = fillingSocket();
  const client = new FeedClient(socket, 1, { softBytes: 16 * 1024, hardBytes: 64 * 1024 });
  client.release();
  for (let i = 0; i < 16; i++) client.sendLog(chunkAt(i * CHUNK));
  assert.deepEqual(
    frames(sent),
    Array.from({ length: 16 }, (_, i) => `log ${i * CHUNK}`),
    'every chunk of the burst was sent, and no resync',
  );
  assert.ok(fake.bufferedAmount > 1024 * 1024);
});

test('a client still behind when the next turn starts misses its chunks, then gets a resync naming the first', async () => {
  const { fake, socket, sent } = fillingSocket();
  const client = new FeedClient(socket, 1, { softBytes: 16 * 1024, hardBytes: 64 * 1024 });
  client.release();
  client.sendLog(chunkAt(0));
  await nextTurn();
  // The first chunk is still unsent: this turn's output is dropped, chunk after chunk.
  client.sendLog(chunkAt(CHUNK));
  client.sendLog(chunkAt(2 * CHUNK));
  assert.deepEqual(frames(sent), ['log 0']);
  fake.bufferedAmount = 0;
  await nextTurn();
  client.sendLog(chunkAt(3 * CHUNK));
  assert.deepEqual(frames(sent), ['log 0', 'resync', `log ${3 * CHUNK}`]);
  assert.deepEqual((sent[1] as LogFrame).data.steps, [{ step_id: 7, offset: CHUNK }]);
});
