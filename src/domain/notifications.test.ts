import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { notificationUrlProblem, runEndEvents, signBody, verifySignature } from './notifications.js';

test('a run end raises failed, succeeded, and fixed after a failure', () => {
  assert.deepEqual(runEndEvents('failed', 'success'), ['run_failed']);
  assert.deepEqual(runEndEvents('timeout', null), ['run_failed']);
  assert.deepEqual(runEndEvents('success', 'failed'), ['run_succeeded', 'run_fixed']);
  assert.deepEqual(runEndEvents('success', 'error'), ['run_succeeded', 'run_fixed']);
  assert.deepEqual(runEndEvents('success', 'success'), ['run_succeeded']);
  assert.deepEqual(runEndEvents('success', null), ['run_succeeded']);
  assert.deepEqual(runEndEvents('cancelled', 'failed'), []);
});

test('notification URLs: http(s) only, no credentials, never the metadata address in any spelling', () => {
  assert.equal(notificationUrlProblem('https://hooks.slack.com/services/T/B/X'), null);
  assert.equal(notificationUrlProblem('http://127.0.0.1:9000/hook'), null);
  const bad: [string, RegExp][] = [
    ['file:///etc/passwd', /Only http and https/],
    ['gopher://x', /Only http and https/],
    ['http://169.254.169.254/latest/meta-data/', /metadata/],
    ['http://[fd00:ec2::254]/', /metadata/],
    ['http://0xa9fea9fe/', /metadata/],
    ['http://metadata.google.internal/', /metadata/],
    ['https://user:pw@example.com/', /credentials/],
    ['not a url', /Not a URL/],
  ];
  for (const [url, why] of bad) assert.match(notificationUrlProblem(url) ?? '', why, url);
});

test('signatures are HMAC-SHA256 of the exact body, checked in constant time', () => {
  const body = '{"event":"run_failed"}';
  assert.equal(signBody(body, 's3cret'), `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`);
  assert.equal(verifySignature(body, 's3cret', signBody(body, 's3cret')), true);
  assert.equal(verifySignature(`${body} `, 's3cret', signBody(body, 's3cret')), false);
  assert.equal(verifySignature(body, 'other', signBody(body, 's3cret')), false);
  assert.equal(verifySignature(body, 's3cret', undefined), false);
  assert.equal(verifySignature(body, 's3cret', 'sha256=short'), false);
});
