import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineLimiter } from './line-limit.js';

function run(limit: number, writes: Array<string | Buffer>): string {
  const limiter = new LineLimiter(limit);
  const out = writes.map((w) => limiter.write(typeof w === 'string' ? Buffer.from(w) : w));
  return Buffer.concat([...out, limiter.flush()]).toString();
}

test('short lines pass through unchanged', () => {
  assert.equal(run(10, ['abc\nde', 'f\n']), 'abc\ndef\n');
});

test('a long line keeps its first part and says how many bytes were dropped', () => {
  assert.equal(run(5, ['0123456789\nok\n']), '01234 … [line truncated, 5 bytes]\nok\n');
});

test('the cut works across writes and the count spans them', () => {
  assert.equal(run(4, ['ab', 'cdef', 'gh', 'ij\nnext\n']), 'abcd … [line truncated, 6 bytes]\nnext\n');
});

test('a line cut at the end of the stream still gets its marker on flush', () => {
  assert.equal(run(3, ['abcdef']), 'abc … [line truncated, 3 bytes]');
});

test('does not split a UTF-8 character at the cut', () => {
  const out = run(4, ['aéé\n']); // a(1) é(2) é(2): the 4-byte cut falls inside the second é
  assert.equal(out, 'aé … [line truncated, 2 bytes]\n');
});

test('a 50 MB single line is cut to the limit with flat memory', () => {
  const limiter = new LineLimiter(64 * 1024);
  const block = Buffer.alloc(1024 * 1024, 0x61);
  const before = process.memoryUsage().rss;
  let emitted = 0;
  for (let i = 0; i < 50; i++) emitted += limiter.write(block).length;
  emitted += limiter.write(Buffer.from('\n')).length;
  const grown = process.memoryUsage().rss - before;
  const expectedMarker = ` … [line truncated, ${50 * 1024 * 1024 - 64 * 1024} bytes]\n`;
  assert.equal(emitted, 64 * 1024 + Buffer.byteLength(expectedMarker));
  assert.ok(grown < 20 * 1024 * 1024, `rss grew by ${grown} bytes`);
});
