/** A run started by a webhook is audited like any other trigger: no actor, trigger type webhook. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness } from '../support/api-harness.js';
import { createWebhookPipeline, githubHeaders, postGithub, pushFixtures, startGateway } from './gateway-support.js';

let h: Harness;
before(async () => {
  h = await startGateway();
});
after(() => h.close());

test('a webhook trigger writes run.trigger with no actor', async () => {
  const admin = await h.login();
  await createWebhookPipeline(h, admin, {
    name: 'hooked',
    repository_url: 'https://github.com/codertocat/hello-world',
    branch: 'master',
    trigger_events: ['push'],
  });
  const { PUSH } = pushFixtures();
  const answer = await postGithub(h, PUSH, githubHeaders(PUSH, 'push'));
  assert.equal(answer.status, 202, answer.text);
  const runId = answer.json.triggered_runs[0];
  const events = await h.request('GET', `/api/audit-events/?target_type=run&target_id=${runId}`, { token: admin });
  assert.equal(events.json.results.length, 1, events.text);
  const [event] = events.json.results;
  assert.equal(event.action, 'run.trigger');
  assert.equal(event.actor, null);
  assert.equal(event.diff.trigger.after, 'webhook');
  assert.equal(event.target.name, 'hooked #1');
});
