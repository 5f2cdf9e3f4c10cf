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

test('slack and email messages are made from the payload: a link to the run, escaped text, a one-line subject', async () => {
  const { emailMessage, eventSummary, slackMessage } = await import('./notifications.js');
  const run = {
    id: 7,
    number: 3,
    status: 'timeout',
    branch: 'fix/<a&b>',
    commit: '0123456789abcdef0123',
    trigger: 'manual',
    triggered_by: 'alice',
    reason: 'step "x" timed out',
    url: 'https://ci.example/runs/7',
    started_at: null,
    finished_at: null,
  };
  const summary = eventSummary('run_failed', run, 'deploy\nsite', null);
  assert.equal(summary, 'deploy\nsite #3 failed on fix/<a&b> (timeout)');
  assert.equal(eventSummary('approval_requested', run, 'deploy', 'prod'), 'deploy #3 is waiting for approval to deploy to prod (fix/<a&b>)');
  assert.equal(eventSummary('approval_requested', run, 'deploy', null), "deploy #3 is waiting for a maintainer's approval (fix/<a&b>)");
  const payload = {
    event: 'run_failed' as const,
    occurred_at: '2026-12-01T00:00:00.000Z',
    project: { id: 1, name: 'default' },
    pipeline: { id: 2, name: 'deploy' },
    run,
    environment: null,
    summary,
  };
  const slack = slackMessage(payload);
  assert.match(slack.text, /^<https:\/\/ci\.example\/runs\/7\|deploy\nsite #3 failed on fix\/&lt;a&amp;b&gt; \(timeout\)>/);
  assert.match(slack.text, /commit `0123456789ab` by alice/);
  const email = emailMessage(payload);
  assert.equal(email.subject, '[AnsFlow] deploy site #3 failed on fix/<a&b> (timeout)');
  assert.ok(email.text.includes('Run:      https://ci.example/runs/7'), email.text);
  assert.ok(email.text.includes('Reason:   step "x" timed out'), email.text);
});
