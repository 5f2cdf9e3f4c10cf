import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configPathProblem } from './config-path.js';

test('safe relative paths are accepted', () => {
  for (const p of ['.ansflow.yml', 'ci/pipeline.yaml', '.ansflow/build.yml', 'a b/c-d_e.yml']) assert.equal(configPathProblem(p), null, p);
});

test('paths that leave the tree, name git internals, look like options or revisions are refused', () => {
  for (const p of [
    '',
    '/etc/passwd',
    '../x.yml',
    'ci/../../x',
    './x.yml',
    'ci//x.yml',
    'ci/',
    '.git/config',
    'a/.GIT/x',
    '-x.yml',
    'HEAD:x',
    'a\\b',
    'x\ny',
    'x\0',
    'x~1',
    'a'.repeat(256),
  ])
    assert.ok(configPathProblem(p), JSON.stringify(p));
});
