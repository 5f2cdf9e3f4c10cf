import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLogStore, type LogChunkEvent } from './file-log-store.js';
import { describeLogStoreContract } from './log-store-contract.js';

describeLogStoreContract('FileLogStore', async () => {
  const root = await mkdtemp(join(tmpdir(), 'ansflow-logs-'));
  return { store: new FileLogStore({ root }), cleanup: () => rm(root, { recursive: true, force: true }) };
});

async function withRoot(body: (root: string) => Promise<void>) {
  const root = await mkdtemp(join(tmpdir(), 'ansflow-logs-'));
  try {
    await body(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('run.log holds complete lines only: parallel steps are prefixed and never interleave mid-line', () =>
  withRoot(async (root) => {
    const store = new FileLogStore({ root });
    const a = store.openStep({ runId: 1, stepId: 1, stepName: 'lint', parallel: true });
    const b = store.openStep({ runId: 1, stepId: 2, stepName: 'test', parallel: true });
    a.write(Buffer.from('lint sta'));
    b.write(Buffer.from('test one\ntest tw'));
    a.write(Buffer.from('rted\nlint end'));
    b.write(Buffer.from('o\n'));
    await a.close();
    await b.close();
    const run = await readFile(join(root, '1', 'run.log'), 'utf8');
    assert.equal(run, ['==> lint', '==> test', '[test] test one', '[lint] lint started', '[test] test two', '[lint] lint end', ''].join('\n'));
    assert.equal(await readFile(join(root, '1', '1.log'), 'utf8'), 'lint started\nlint end');
  }));

test('a sequential step gets a header and unprefixed lines in run.log', () =>
  withRoot(async (root) => {
    const store = new FileLogStore({ root });
    const w = store.openStep({ runId: 7, stepId: 3, stepName: 'build', parallel: false });
    w.write(Buffer.from('a\nb'));
    w.write(Buffer.from('c\n'));
    await w.close();
    assert.equal(await readFile(join(root, '7', 'run.log'), 'utf8'), '==> build\na\nbc\n');
  }));

test('a step that prints nothing makes no file and reads as empty; the next one that prints makes the folder', () =>
  withRoot(async (root) => {
    const store = new FileLogStore({ root });
    const quiet = store.openStep({ runId: 9, stepId: 1, stepName: 'quiet', parallel: false });
    await quiet.close();
    assert.equal(existsSync(join(root, '9')), false, 'no folder, no run.log, no step log for silence');
    assert.deepEqual(await store.read({ runId: 9, stepId: 1, offset: 0 }), { data: Buffer.alloc(0), nextOffset: 0 });
    assert.equal(await store.size({ runId: 9, stepId: null }), 0);
    const loud = store.openStep({ runId: 9, stepId: 2, stepName: 'loud', parallel: false });
    loud.write(Buffer.from('x\n'));
    await loud.close();
    assert.equal(await readFile(join(root, '9', 'run.log'), 'utf8'), '==> loud\nx\n');
    assert.equal(await readFile(join(root, '9', '2.log'), 'utf8'), 'x\n');
    assert.equal(existsSync(join(root, '9', '1.log')), false);
  }));

test('writes are batched: many tiny writes become few flushes, each observed with its byte offset', () =>
  withRoot(async (root) => {
    const events: LogChunkEvent[] = [];
    const store = new FileLogStore({ root, flushMs: 30, onChunk: (e) => events.push(e) });
    const w = store.openStep({ runId: 1, stepId: 5, stepName: 's', parallel: false });
    for (let i = 0; i < 10_000; i++) w.write(Buffer.from(`${i}\n`));
    await new Promise((r) => setTimeout(r, 80));
    await w.close();
    assert.ok(events.length >= 1 && events.length < 20, `${events.length} flushes for 10000 writes`);
    let offset = 0;
    for (const e of events) {
      assert.equal(e.offset, offset, 'offsets are contiguous');
      assert.equal(e.runId, 1);
      assert.equal(e.stepId, 5);
      offset += Buffer.byteLength(e.text);
    }
    const whole = await readFile(join(root, '1', '5.log'), 'utf8');
    assert.equal(events.map((e) => e.text).join(''), whole);
  }));

test('the per-step onChunk observer never splits a UTF-8 character between chunks', () =>
  withRoot(async (root) => {
    const texts: string[] = [];
    const store = new FileLogStore({ root, maxBatchBytes: 4 });
    const w = store.openStep({ runId: 1, stepId: 1, stepName: 's', parallel: false, onChunk: (_o, t) => texts.push(t) });
    const bytes = Buffer.from('añb€c😀\n');
    for (const byte of bytes) w.write(Buffer.from([byte]));
    await w.close();
    assert.ok(texts.length > 1);
    assert.ok(
      texts.every((t) => !t.includes('\uFFFD')),
      JSON.stringify(texts),
    );
    assert.equal(texts.join(''), 'añb€c😀\n');
  }));

test('memory stays flat while 256 MB of output is written', () =>
  withRoot(async (root) => {
    const store = new FileLogStore({ root });
    const w = store.openStep({ runId: 1, stepId: 1, stepName: 's', parallel: true });
    const block = Buffer.from(('x'.repeat(99) + '\n').repeat(655)); // ~64 KiB of 100-byte lines
    const before = process.memoryUsage().rss;
    let peak = 0;
    for (let i = 0; i < 4096; i++) {
      w.write(block);
      if (i % 256 === 0) peak = Math.max(peak, process.memoryUsage().rss - before);
    }
    await w.close();
    assert.equal(await store.size({ runId: 1, stepId: 1 }), block.length * 4096);
    assert.ok(peak < 64 * 1024 * 1024, `rss grew by ${peak} bytes`);
  }));
