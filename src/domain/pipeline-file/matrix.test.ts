import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellName, expandMatrix } from './matrix.js';

test('axes combine in the order written, the first varying slowest; values become text', () => {
  const { cells, problems } = expandMatrix({ NODE: [20, 22], DEBUG: [true, false] } as never);
  assert.deepEqual(problems, []);
  assert.deepEqual(cells, [
    { NODE: '20', DEBUG: 'true' },
    { NODE: '20', DEBUG: 'false' },
    { NODE: '22', DEBUG: 'true' },
    { NODE: '22', DEBUG: 'false' },
  ]);
  assert.equal(cellName('build', cells[2]!), 'build (NODE=22, DEBUG=true)');
});

test('exclude removes every cell matching all the values it gives; include adds exact cells once', () => {
  const { cells } = expandMatrix({
    A: [1, 2],
    B: ['x', 'y'],
    exclude: [{ B: 'y' }],
    include: [
      { A: 1, B: 'x' },
      { A: 3, B: 'z', EXTRA: 'e' },
    ],
  } as never);
  assert.deepEqual(cells, [
    { A: '1', B: 'x' },
    { A: '2', B: 'x' },
    { A: '3', B: 'z', EXTRA: 'e' },
  ]);
});

test('a matrix of includes only is a list of cells', () => {
  assert.deepEqual(expandMatrix({ include: [{ OS: 'debian' }, { OS: 'alpine' }] } as never).cells, [{ OS: 'debian' }, { OS: 'alpine' }]);
});

test('exactly 256 cells is allowed, 257 is not; a huge product is refused without listing it', () => {
  const axis = (n: number) => Array.from({ length: n }, (_, i) => i);
  assert.equal(expandMatrix({ A: axis(16), B: axis(16) } as never).cells.length, 256);
  assert.deepEqual(expandMatrix({ A: axis(16), B: axis(16), include: [{ A: 99, B: 99 }] } as never).problems, [
    { segments: ['matrix'], at: 'key', message: 'The matrix has 257 cells; at most 256 are allowed.' },
  ]);
  assert.match(expandMatrix({ A: axis(256), B: axis(256), C: axis(256) } as never).problems[0]!.message, /16777216 combinations/);
});

test('an exclude that leaves nothing is an error', () => {
  assert.deepEqual(expandMatrix({ A: [1], exclude: [{ A: 1 }] } as never).problems[0]!.message, 'The matrix has no cells left.');
});
