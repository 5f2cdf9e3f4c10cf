import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUDIT_REDACTED, auditDiff, Redacted } from './audit.js';

test('a diff lists only the changed fields, before and after', () => {
  const diff = auditDiff({ name: 'a', branch: 'main', steps: [{ name: 's' }] }, { name: 'b', branch: 'main', steps: [{ name: 's' }] });
  assert.deepEqual(diff, { name: { before: 'a', after: 'b' } });
});

test('a created object shows every field as after, a deleted one every field as before', () => {
  assert.deepEqual(auditDiff(null, { name: 'a' }), { name: { after: 'a' } });
  assert.deepEqual(auditDiff({ name: 'a' }, null), { name: { before: 'a' } });
});

test('a changed secret shows as changed but never with its value', () => {
  const diff = auditDiff({ 'variables.TOKEN': new Redacted('old-secret') }, { 'variables.TOKEN': new Redacted('new-secret') });
  assert.deepEqual(JSON.parse(JSON.stringify(diff)), { 'variables.TOKEN': { before: AUDIT_REDACTED, after: AUDIT_REDACTED } });
  assert.doesNotMatch(JSON.stringify(diff), /secret/);
  assert.deepEqual(auditDiff({ x: new Redacted('same') }, { x: new Redacted('same') }), {});
});

test('a field that appears or disappears is listed on its side only', () => {
  assert.deepEqual(auditDiff({ a: 1 }, { b: 2 }), { a: { before: 1 }, b: { after: 2 } });
});

test('values are compared by their JSON: the same JSON is no change, scalars of different kinds are', () => {
  assert.deepEqual(auditDiff({ steps: [{ a: 1 }], n: NaN, m: 1, s: 'x', t: null }, { steps: [{ a: 1 }], n: null, m: 1, s: 'x', t: null }), {});
  assert.deepEqual(auditDiff({ a: '1', b: null, c: true, d: 'x', e: 0 }, { a: 1, b: 'null', c: 'true', d: 'y', e: false }), {
    a: { before: '1', after: 1 },
    b: { before: null, after: 'null' },
    c: { before: true, after: 'true' },
    d: { before: 'x', after: 'y' },
    e: { before: 0, after: false },
  });
  assert.deepEqual(auditDiff({ s: new Redacted('a') }, { s: 'a' }), { s: { before: AUDIT_REDACTED, after: 'a' } });
});

test('the changed fields are listed in key order, whichever side they are on', () => {
  const diff = auditDiff({ z: 1, b: 'x', a: 'same', c: 'gone' }, { a: 'same', y: 2, b: 'y', z: 1 });
  assert.deepEqual(Object.keys(diff), ['b', 'c', 'y']);
  assert.deepEqual(diff, { b: { before: 'x', after: 'y' }, c: { before: 'gone' }, y: { after: 2 } });
  assert.deepEqual(Object.keys(auditDiff(null, { b: 1, a: 2 })), ['a', 'b']);
});

test('a field is unchanged exactly when both sides write the same JSON (compared without writing it)', () => {
  const d = new Date(Date.UTC(2026, 0, 1));
  const pairs: [unknown, unknown][] = [
    [[{ name: 'a', config: { command: 'x' } }], [{ name: 'a', config: { command: 'x' } }]],
    [[{ name: 'a', config: { command: 'x' } }], [{ name: 'a', config: { command: 'y' } }]],
    [
      { a: 1, b: 2 },
      { b: 2, a: 1 },
    ], // JSON keeps key order: a change, as before
    [{ a: 1, b: undefined }, { a: 1 }],
    [{ a: 1, b: 2 }, { a: 1 }], // a member more on one side
    [{ a: 1 }, { a: 1, b: undefined, c: 3 }],
    [{ a: 1, f: () => 1 }, { a: 1 }],
    [
      [1, undefined],
      [1, null],
    ],
    [[undefined], []],
    [{ n: NaN }, { n: null }],
    [{ n: Infinity }, { n: -Infinity }],
    [
      [1, 2],
      [2, 1],
    ],
    [[], {}],
    [{ 0: 'x' }, ['x']],
    [{}, { a: undefined }],
    [{ d }, { d: d.toISOString() }],
    [{ s: new Redacted('one') }, { s: new Redacted('two') }], // nested secrets are written masked
    [{ a: { b: { c: [1, { d: 'e' }] } } }, { a: { b: { c: [1, { d: 'e' }] } } }],
    [{ a: { b: { c: [1, { d: 'e' }] } } }, { a: { b: { c: [1, { d: 'f' }] } } }],
    [{ a: [1] }, { a: [1, 2] }],
    [Object.assign(Object.create(null), { a: 1 }), { a: 1 }],
    [1.5, 1.5],
    [1, '1'],
    [null, {}],
    [[null], [{}]],
  ];
  for (const [a, b] of pairs) {
    const same = JSON.stringify(a) === JSON.stringify(b);
    assert.deepEqual(auditDiff({ x: a }, { x: b }), same ? {} : { x: { before: a, after: b } }, `${JSON.stringify(a)} / ${JSON.stringify(b)}`);
  }
});
