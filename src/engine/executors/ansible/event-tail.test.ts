import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnsibleEvent } from '../../../domain/ansible-events.js';
import { tailEvents } from './event-tail.js';

const hostLine = (seq: number) =>
  JSON.stringify({ kind: 'host', seq, at: '2026-01-01T00:00:00.000Z', task_id: 't', host: `h${seq}`, status: 'ok', duration_ms: 1, message: `m${seq}` }) + '\n';

test('every event once and in order, across reads smaller than a line and lines written in pieces', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-event-tail-'));
  const file = join(dir, 'events.jsonl');
  writeFileSync(file, '');
  const seen: AnsibleEvent[] = [];
  const batches: number[] = [];
  // A 64-byte buffer, shorter than one line: each read goes on in the same (reused) buffer.
  const tail = tailEvents(
    file,
    async (events) => {
      batches.push(events.length);
      seen.push(...events);
    },
    5,
    64,
  );
  try {
    let text = '';
    for (let seq = 1; seq <= 40; seq++) text += hostLine(seq);
    // Written in uneven pieces, some ending mid-line, with time for the tail to read between them.
    for (let at = 0; at < text.length; at += 173) {
      appendFileSync(file, text.slice(at, at + 173));
      if (at % 3 === 0) await new Promise((resolve) => setTimeout(resolve, 7));
    }
    await tail.stop();
    assert.deepEqual(
      seen.map((e) => e.seq),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    assert.deepEqual(
      seen.map((e) => (e.kind === 'host' ? e.message : null)),
      Array.from({ length: 40 }, (_, i) => `m${i + 1}`),
    );
    assert.equal(
      batches.reduce((a, b) => a + b, 0),
      40,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a character split between two reads arrives whole', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-event-tail-'));
  const file = join(dir, 'events.jsonl');
  // Two, three and four bytes a character, so some reads of 7 bytes end inside one.
  const message = (seq: number) => `déploiement 部署 ${seq} ✅🚀`;
  const line = (seq: number) =>
    JSON.stringify({ kind: 'host', seq, at: '2026-01-01T00:00:00.000Z', task_id: 't', host: `h${seq}`, status: 'ok', duration_ms: 1, message: message(seq) }) +
    '\n';
  writeFileSync(file, Array.from({ length: 12 }, (_, i) => line(i + 1)).join(''));
  const seen: AnsibleEvent[] = [];
  const tail = tailEvents(file, async (events) => void seen.push(...events), 5, 7);
  try {
    await tail.stop();
    assert.deepEqual(
      seen.map((e) => (e.kind === 'host' ? e.message : null)),
      Array.from({ length: 12 }, (_, i) => message(i + 1)),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
