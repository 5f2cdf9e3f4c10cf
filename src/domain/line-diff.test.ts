import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffLines, unifiedDiff } from './line-diff.js';

test('a changed line in the middle is one hunk with its context', () => {
  const before = 'a\nb\nc\nd\ne\nf\ng\nh\n';
  const after = 'a\nb\nc\nd\nE\nf\ng\nh\n';
  assert.equal(unifiedDiff(diffLines(before, after), { from: 'v1', to: 'v2' }), '--- v1\n+++ v2\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n');
});

test('insertions and deletions keep what is common', () => {
  const d = diffLines('x\ny\nz\n', 'w\nx\nz\n');
  assert.deepEqual(
    d.map((l) => l.op + l.text),
    ['+w', ' x', '-y', ' z'],
  );
});

test('equal texts have no diff; empty to something is all added', () => {
  assert.equal(unifiedDiff(diffLines('a\n', 'a\n'), { from: 'a', to: 'b' }), '');
  assert.deepEqual(
    diffLines('', 'a\nb').map((l) => l.op),
    ['+', '+'],
  );
});

test('far-apart changes make separate hunks with the right line numbers', () => {
  const before = Array.from({ length: 20 }, (_, i) => `l${i + 1}`).join('\n');
  const after = before.replace('l2\n', 'L2\n').replace('l18', 'L18');
  const text = unifiedDiff(diffLines(before, after), { from: 'a', to: 'b' }, 1);
  assert.match(text, /@@ -1,3 \+1,3 @@\n l1\n-l2\n\+L2\n l3\n@@ -17,3 \+17,3 @@\n l17\n-l18\n\+L18\n l19\n/);
});
