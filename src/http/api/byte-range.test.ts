import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentRange, parseByteRange, rangeApplies } from './byte-range.js';

const part = (start: number, end: number) => ({ kind: 'part', start, end });
const WHOLE = { kind: 'whole' };
const UNSATISFIABLE = { kind: 'unsatisfiable' };

test('one range in each of its three forms, the last position clipped to the end', () => {
  assert.deepEqual(parseByteRange('bytes=0-0', 100), part(0, 0));
  assert.deepEqual(parseByteRange('bytes=10-19', 100), part(10, 19));
  assert.deepEqual(parseByteRange('bytes=10-1000', 100), part(10, 99));
  assert.deepEqual(parseByteRange('bytes=99-99', 100), part(99, 99));
  assert.deepEqual(parseByteRange('bytes=90-', 100), part(90, 99));
  assert.deepEqual(parseByteRange('bytes=0-', 100), part(0, 99));
  assert.deepEqual(parseByteRange('bytes=-10', 100), part(90, 99));
  assert.deepEqual(parseByteRange('bytes=-1000', 100), part(0, 99));
  assert.deepEqual(parseByteRange('bytes=007-010', 100), part(7, 10));
  // A position past any safe integer is still past the end, or clipped to it.
  assert.deepEqual(parseByteRange('bytes=5-99999999999999999999999', 100), part(5, 99));
});

test('the unit is case-insensitive; spaces around list elements and empty elements are allowed', () => {
  assert.deepEqual(parseByteRange('Bytes=1-2', 10), part(1, 2));
  assert.deepEqual(parseByteRange(' bytes=1-2 ', 10), part(1, 2));
  assert.deepEqual(parseByteRange('bytes= 1-2 ,', 10), part(1, 2));
  assert.deepEqual(parseByteRange('bytes=,\t1-2', 10), part(1, 2));
});

test('no Range, another unit, or several ranges: the whole object', () => {
  assert.deepEqual(parseByteRange(undefined, 100), WHOLE);
  assert.deepEqual(parseByteRange('items=0-5', 100), WHOLE);
  assert.deepEqual(parseByteRange('bytes=0-4,10-14', 100), WHOLE);
  assert.deepEqual(parseByteRange('bytes=0-4, -5', 100), WHOLE);
});

test('ranges that start at or past the end, or a zero suffix, cannot be satisfied', () => {
  assert.deepEqual(parseByteRange('bytes=100-', 100), UNSATISFIABLE);
  assert.deepEqual(parseByteRange('bytes=100-200', 100), UNSATISFIABLE);
  assert.deepEqual(parseByteRange('bytes=99999999999999999999-', 100), UNSATISFIABLE);
  assert.deepEqual(parseByteRange('bytes=-0', 100), UNSATISFIABLE);
  assert.deepEqual(parseByteRange('bytes=0-0', 0), UNSATISFIABLE);
  assert.deepEqual(parseByteRange('bytes=0-', 0), UNSATISFIABLE);
});

test('an empty object answers a suffix range with its (empty) whole', () => {
  assert.deepEqual(parseByteRange('bytes=-5', 0), WHOLE);
});

test('a malformed bytes range is refused (416), anywhere in the list', () => {
  for (const header of [
    'bytes',
    'bytes=',
    'bytes=,',
    'bytes=-',
    'bytes=5-2',
    'bytes=a-b',
    'bytes=1-2-3',
    'bytes=+1-2',
    'bytes=1 - 2',
    'bytes=1e3-',
    'bytes=0x10-',
    'bytes=--5',
    'bytes=1-2,x',
    '=1-2',
    'by tes=1-2',
  ])
    assert.deepEqual(parseByteRange(header, 100), UNSATISFIABLE, header);
});

test('If-Range: the range applies only when it names the current strong ETag exactly', () => {
  const etag = '"abc"';
  assert.equal(rangeApplies(undefined, etag), true);
  assert.equal(rangeApplies(undefined, undefined), true);
  assert.equal(rangeApplies('"abc"', etag), true);
  assert.equal(rangeApplies(' "abc" ', etag), true);
  assert.equal(rangeApplies('"abd"', etag), false);
  assert.equal(rangeApplies('W/"abc"', etag), false);
  assert.equal(rangeApplies('abc', etag), false);
  assert.equal(rangeApplies('Wed, 02 Dec 2026 10:00:00 GMT', etag), false);
  assert.equal(rangeApplies('"abc"', undefined), false);
  assert.equal(rangeApplies('W/"abc"', 'W/"abc"'), false);
});

test('Content-Range names the part sent, or only the size when nothing is', () => {
  assert.equal(contentRange({ kind: 'part', start: 10, end: 19 }, 100), 'bytes 10-19/100');
  assert.equal(contentRange({ kind: 'unsatisfiable' }, 100), 'bytes */100');
});
