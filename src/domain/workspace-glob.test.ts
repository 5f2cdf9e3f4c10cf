import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workspaceGlobProblem } from './workspace-glob.js';

test('relative globs are fine', () => {
  for (const glob of ['dist/**', '*.tar.gz', 'build/report.xml', 'a/**/b/*.{js,map}', '.cache/x']) assert.equal(workspaceGlobProblem(glob), null, glob);
});

test('globs that could leave the workspace are refused, saying why', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['/etc/passwd', /absolute/],
    ['../other-run/**', /climbs out/],
    ['dist/../../secret.key', /climbs out/],
    ['~/.ssh/id_rsa', /home folder/],
    ['dist\\..\\x', /backslash/],
    ['a\0b', /NUL/],
  ];
  for (const [glob, why] of cases) assert.match(workspaceGlobProblem(glob) ?? '', why, glob);
});
