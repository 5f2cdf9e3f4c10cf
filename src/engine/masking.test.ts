import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretMasker, maskText } from './masking.js';

function feed(secrets: string[], writes: Array<string | Buffer>): Buffer {
  const masker = new SecretMasker(secrets);
  const out = writes.map((w) => masker.write(typeof w === 'string' ? Buffer.from(w) : w));
  return Buffer.concat([...out, masker.flush()]);
}

test('masks a secret printed whole, every time it appears', () => {
  assert.equal(feed(['hunter2'], ['pw=hunter2 again hunter2\n']).toString(), 'pw=****** again ******\n');
});

test('masks a secret split across two writes, and emits nothing secret before the second write', () => {
  const masker = new SecretMasker(['secret']);
  const first = masker.write(Buffer.from('value: sec'));
  assert.equal(first.toString(), 'value: ', 'only the part that cannot start the secret is emitted');
  const second = masker.write(Buffer.from('ret!\n'));
  assert.equal(Buffer.concat([first, second, masker.flush()]).toString(), 'value: ******!\n');
});

test('masks a secret split one byte per write', () => {
  const writes = [...'xx topsecret yy'].map((c) => c);
  assert.equal(feed(['topsecret'], writes).toString(), 'xx ****** yy');
});

test('a held-back prefix that never completes is emitted on the next write or on flush', () => {
  const masker = new SecretMasker(['secret']);
  assert.equal(masker.write(Buffer.from('se')).toString(), '');
  assert.equal(masker.write(Buffer.from('x')).toString(), 'sex');
  assert.equal(masker.write(Buffer.from('sec')).toString(), '');
  assert.equal(masker.flush().toString(), 'sec');
});

test('masks a multi-line secret whole and each of its lines on its own', () => {
  const key = '-----BEGIN KEY-----\nAAAABBBBCCCC\n-----END KEY-----';
  const out = feed([key], [`whole:${key}\n`, 'line: AAAABBBBCCCC\n']).toString();
  assert.equal(out, 'whole:******\nline: ******\n');
  assert.ok(!out.includes('AAAABBBBCCCC'));
});

test('prefers the longest secret when secrets overlap, even when the longer one is still incomplete', () => {
  const masker = new SecretMasker(['abc', 'abcdef']);
  const a = masker.write(Buffer.from('x abcd'));
  const b = masker.write(Buffer.from('ef y'));
  assert.equal(Buffer.concat([a, b, masker.flush()]).toString(), 'x ****** y');
});

test('ignores secrets shorter than 3 characters', () => {
  assert.equal(feed(['ab', 'x', ''], ['ab x abc\n']).toString(), 'ab x abc\n');
});

test('binary bytes pass through unchanged around a masked secret', () => {
  const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0xc3]);
  const out = feed(['s3cr3t'], [binary, Buffer.from('s3c'), Buffer.from('r3t'), binary]);
  assert.deepEqual(out, Buffer.concat([binary, Buffer.from('******'), binary]));
});

test('masks UTF-8 secrets split inside a multi-byte character', () => {
  const secret = 'пароль';
  const bytes = Buffer.from(`x${secret}y`);
  assert.equal(feed([secret], [bytes.subarray(0, 4), bytes.subarray(4)]).toString(), 'x******y');
});

test('holds back no more than the longest secret minus one byte', () => {
  const masker = new SecretMasker(['abcdefgh']);
  const out = masker.write(Buffer.from('z'.repeat(1000) + 'abcdefg'));
  assert.equal(out.length, 1000);
});

test('maskText masks complete strings (messages, errors)', () => {
  assert.equal(maskText('fatal: token tok123 refused', ['tok123']), 'fatal: token ****** refused');
});

test('a secret added while streaming is masked from then on', () => {
  const masker = new SecretMasker([]);
  const before = masker.write(Buffer.from('tok-abc '));
  masker.add('tok-abc');
  const after = masker.write(Buffer.from('tok-abc\n'));
  assert.equal(Buffer.concat([before, after, masker.flush()]).toString(), 'tok-abc ******\n');
});
