import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadYaml, MAX_FILE_BYTES } from './yaml-document.js';

test('locate: a value, a key, a list item, and the closest parent of a missing field', () => {
  const y = loadYaml('steps:\n  - name: a\n    needs: [x, y]\n    empty:\n', 'f.yml');
  assert.deepEqual(y.errors, []);
  assert.deepEqual(y.locate(['steps', 0, 'name']), { line: 2, column: 11 });
  assert.deepEqual(y.locate(['steps', 0, 'name'], 'key'), { line: 2, column: 5 });
  assert.deepEqual(y.locate(['steps', 0, 'needs', 1]), { line: 3, column: 16 });
  assert.deepEqual(y.locate(['steps', 0, 'missing']), { line: 2, column: 5 });
  assert.deepEqual(y.locate(['steps', 0, 'empty']), { line: 4, column: 5 }, 'a key with no value points at the key');
  assert.deepEqual(y.locate([]), { line: 1, column: 1 });
});

test('an alias bomb is refused instead of expanded', () => {
  const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++)
    levels.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(',')}]`,
    );
  const y = loadYaml(`${levels.join('\n')}\n`, 'bomb.yml');
  assert.equal(y.value, undefined);
  assert.match(y.errors[0]!.message, /^YAML: .*alias/i);
});

test('a file above the size limit is refused before parsing', () => {
  const y = loadYaml(`# ${'x'.repeat(MAX_FILE_BYTES)}\n`, 'big.yml');
  assert.deepEqual(y.errors, [{ file: 'big.yml', path: '', line: 1, column: 1, message: 'The file is larger than 512 KiB.' }]);
});

test('more than one document is an error, located', () => {
  const y = loadYaml('steps: []\n---\nsteps: []\n', 'two.yml');
  assert.equal(y.errors.length, 1);
  assert.equal(y.errors[0]!.line, 2);
});
