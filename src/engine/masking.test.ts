import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretMasker, maskText, secretPatterns } from './masking.js';

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

// ---- every form a step may print a secret in ----

const TOKEN = 'tok/en+Ab c?d&e="x"\\y';

function maskedAll(secret: string, printed: string): string {
  return maskText(printed, [secret]);
}

test('masks a secret printed base64-encoded on its own, standard and url-safe', () => {
  const padded = Buffer.from(TOKEN).toString('base64');
  const urlSafe = Buffer.from(TOKEN).toString('base64url');
  assert.equal(maskedAll(TOKEN, `b64=${padded}\n`), 'b64=******\n');
  const out = maskedAll(TOKEN, `b64url=${urlSafe}\n`);
  assert.ok(!out.includes(urlSafe.slice(0, -1)), out);
  assert.match(out, /^b64url=\*{6}.?\n$/);
});

test('masks a secret inside a longer base64-encoded text, at each of the three byte alignments', () => {
  for (const prefix of ['', 'a', 'ab', 'abc', 'Authorization: Basic user:']) {
    const encoded = Buffer.from(`${prefix}${TOKEN} and more after it`).toString('base64');
    const out = maskedAll(TOKEN, `${encoded}\n`);
    assert.ok(out.includes('******'), `prefix ${JSON.stringify(prefix)}: ${out}`);
    // What is left around the mask is at most the two characters mixing in neighbouring bits on
    // each side; the secret's own characters are gone.
    const [before, after] = out.trimEnd().split('******') as [string, string];
    const whole = encoded.length;
    assert.ok(before.length + after.length <= whole - Math.floor((TOKEN.length * 8) / 6) + 2, `${prefix}: ${out}`);
  }
});

test('masks the url-safe base64 of a longer text containing the secret', () => {
  const secret = '\u00ff\u00fe>>>???~~~'; // bytes whose base64 uses + and /
  const standard = Buffer.from(`xy${secret}z`).toString('base64');
  const urlSafe = Buffer.from(`xy${secret}z`).toString('base64url');
  assert.notEqual(standard.slice(0, -1), urlSafe.slice(0, -1), 'the fixture exercises + and /');
  assert.match(maskedAll(secret, urlSafe), /\*{6}/);
  assert.match(maskedAll(secret, standard), /\*{6}/);
});

test('masks a secret URL-encoded (encodeURIComponent) and form-encoded (+ for spaces)', () => {
  const uri = encodeURIComponent(TOKEN);
  const form = new URLSearchParams({ t: TOKEN }).toString().slice(2);
  assert.notEqual(uri, form);
  assert.equal(maskedAll(TOKEN, `https://h/?t=${uri}\n`), 'https://h/?t=******\n');
  assert.equal(maskedAll(TOKEN, `body: t=${form}&x=1\n`), 'body: t=******&x=1\n');
});

test('masks a secret JSON-escaped', () => {
  const json = JSON.stringify({ token: TOKEN });
  assert.equal(maskedAll(TOKEN, `${json}\n`), '{"token":"******"}\n');
  const multiLine = 'line-one\nline-two';
  assert.equal(maskedAll(multiLine, `{"k":${JSON.stringify(multiLine)}}`), '{"k":"******"}');
});

test('masks every encoded form split across writes, one byte at a time', () => {
  const forms = [
    Buffer.from(TOKEN).toString('base64'),
    Buffer.from(`pre${TOKEN}`).toString('base64'),
    encodeURIComponent(TOKEN),
    JSON.stringify(TOKEN).slice(1, -1),
  ];
  for (const form of forms) {
    const out = feed([TOKEN], [...`<${form}>`]).toString();
    assert.ok(out.includes('******'), `${form} → ${out}`);
    assert.ok(!out.includes(form.slice(4, -4)), `${form} → ${out}`);
  }
});

test('masks each line of a multi-line secret, and the whole value in its encodings', () => {
  const key = '-----BEGIN KEY-----\n  AAAABBBBCCCC\n-----END KEY-----\n';
  const b64 = Buffer.from(key).toString('base64');
  assert.equal(maskedAll(key, `indented:    AAAABBBBCCCC\n`), 'indented:    ******\n');
  assert.equal(maskedAll(key, `b64:${b64}\n`), 'b64:******\n');
  assert.equal(maskedAll(key, `uri:${encodeURIComponent(key)}\n`), 'uri:******\n');
});

test('short secrets and short base64 fragments are not masked; patterns stay few and distinct', () => {
  assert.deepEqual(secretPatterns(['ab']), []);
  // A 3-character secret: itself and its padded base64; the alignment fragments are too short.
  assert.deepEqual(secretPatterns(['abc']).map(String).sort(), ['YWJj', 'abc'].sort());
  // A plain alphanumeric token: no URL/JSON form differs, so only base64 forms are added.
  const plain = secretPatterns(['ghp1234567890abcdefXYZ']).map(String);
  assert.equal(new Set(plain).size, plain.length, 'no duplicates');
  assert.ok(plain.length <= 8, `${plain.length} patterns: ${plain.join(' ')}`);
  assert.ok(!plain.some((p) => p.includes('%')));
});

test('a secret of very many lines masks its first lines on their own, and stays whole-masked', () => {
  const big = Array.from({ length: 5000 }, (_, i) => `line-number-${i}`).join('\n');
  const patterns = secretPatterns([big]);
  assert.ok(patterns.length < 300, `${patterns.length} patterns`);
  assert.equal(maskedAll(big, 'line-number-7\n'), '******\n');
  assert.equal(maskedAll(big, `${big}\n`), '******\n');
});

test('a chunk with nothing to mask is handed on as a view of the input, not copied', () => {
  const masker = new SecretMasker(['hunter2']);
  const chunk = Buffer.from('line 1\nline 2\n');
  const out = masker.write(chunk);
  assert.equal(out.toString(), 'line 1\nline 2\n');
  assert.equal(out.buffer, chunk.buffer, 'same memory: the log hot path copies nothing it does not change');
  assert.equal(out.byteOffset, chunk.byteOffset);
});

test('the held-back tail is a copy: reusing the input buffer afterwards cannot change what is masked', () => {
  const masker = new SecretMasker(['hunter2']);
  const chunk = Buffer.from('ok\nhunt');
  const first = masker.write(chunk);
  assert.equal(first.toString(), 'ok\n');
  chunk.fill(0x78); // the caller reuses its buffer
  const rest = Buffer.concat([masker.write(Buffer.from('er2 end\n')), masker.flush()]);
  assert.equal(rest.toString(), '****** end\n');
});
