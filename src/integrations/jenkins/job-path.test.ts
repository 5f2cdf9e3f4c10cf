import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JenkinsError } from './jenkins-error.js';
import { buildParametersForm, jobNameProblem, jobPath, parameterNameProblem } from './job-path.js';

test('folders become nested job segments, each URL-encoded', () => {
  assert.equal(jobPath('my-job'), 'job/my-job');
  assert.equal(jobPath('folder-a/my-job'), 'job/folder-a/job/my-job');
  assert.equal(jobPath('a b/c?d#e'), 'job/a%20b/job/c%3Fd%23e');
  assert.equal(jobPath('x&y=z'), 'job/x%26y%3Dz');
});

test('job names that would escape the job tree are refused', () => {
  for (const name of ['', 'a//b', '/a', 'a/', '..', 'a/../b', './a', 'a\nb']) {
    assert.ok(jobNameProblem(name), JSON.stringify(name));
    assert.throws(
      () => jobPath(name),
      (e: unknown) => e instanceof JenkinsError && e.reason === 'invalid_request',
    );
  }
});

test('parameter names must be identifiers', () => {
  for (const ok of ['BRANCH', 'commit_sha', '_x', 'a.b-c']) assert.equal(parameterNameProblem(ok), null, ok);
  for (const bad of ['X=1&delay=0', '1X', '', 'a b', '-x', 'a&b', 'é']) assert.ok(parameterNameProblem(bad), bad);
});

test('parameter values are form-encoded verbatim', () => {
  const values = { A: '@/etc/passwd', B: 'a&token=x', C: 'line1\nline2\r\n', D: '' };
  const form = buildParametersForm(values);
  assert.deepEqual(Object.fromEntries(new URLSearchParams(form.toString())), values);
});

test('a bad parameter name refuses the whole form', () => {
  assert.throws(
    () => buildParametersForm({ GOOD: '1', 'X=1&delay=0': '2' }),
    (e: unknown) => e instanceof JenkinsError && e.reason === 'invalid_request' && /X=1&delay=0/.test(e.message),
  );
});
