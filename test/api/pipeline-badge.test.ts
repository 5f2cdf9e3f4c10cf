/**
 * The status badge: served without login only for pipelines that opt in (badge_public), as the
 * latest run on the asked branch says; anonymous callers of other pipelines get the same 404 as
 * for a pipeline that does not exist; the SVG carries no markup from the pipeline's name.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { waitFor } from '../support/wait.js';
import { isFinalStatus } from '../support/run-status.js';

describe('pipeline status badge', () => {
  let h: Harness;
  let admin: string;

  before(async () => {
    h = await startApi();
    admin = await h.login();
  });
  after(() => h?.close());

  const create = async (name: string, command: string, extra: Record<string, unknown> = {}) => {
    const r = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: { name, steps: [{ name: 's', type: 'shell_command', config: { command } }], ...extra },
    });
    assert.equal(r.status, 201, r.text);
    return r.json.id as number;
  };
  const runOn = async (id: number, branch: string) => {
    const r = await h.request('POST', `/api/pipelines/${id}/run/`, { token: admin, body: { branch } });
    assert.equal(r.status, 201, r.text);
    await waitFor(async () => isFinalStatus((await h.request('GET', `/api/pipeline-runs/${r.json.id}/`, { token: admin })).json.status), 20000);
  };
  const anonymous = (path: string) => fetch(h.baseUrl + path);

  test('a pipeline that opted in: anonymous callers get the SVG of the branch asked for', async () => {
    const id = await create('<b>"evil"</b> & co', 'test "$ANSFLOW_BRANCH" = main', { badge_public: true });
    let r = await anonymous(`/api/pipelines/${id}/badge.svg?branch=main`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^image\/svg\+xml/);
    let svg = await r.text();
    assert.match(svg, /^<svg /);
    assert.match(svg, />no runs</);
    assert.ok(!svg.includes('<b>'), 'the name is escaped');
    assert.ok(svg.includes('&lt;b&gt;&quot;evil&quot;&lt;/b&gt; &amp; co'));

    await runOn(id, 'main');
    await runOn(id, 'dev');
    svg = await (await anonymous(`/api/pipelines/${id}/badge.svg?branch=main`)).text();
    assert.match(svg, />passing</);
    svg = await (await anonymous(`/api/pipelines/${id}/badge.svg?branch=dev`)).text();
    assert.match(svg, />failing</);
    r = await anonymous(`/api/pipelines/${id}/badge.svg?branch=..%2Fx`);
    assert.equal(r.status, 400);
    assert.ok(((await r.json()) as any).error.details.branch);
  });

  test('a pipeline that did not opt in: 404 for anonymous callers, exactly like one that does not exist; readers still get it', async () => {
    const id = await create('private', 'true');
    const hidden = await anonymous(`/api/pipelines/${id}/badge.svg`);
    const missing = await anonymous('/api/pipelines/999999/badge.svg');
    assert.equal(hidden.status, 404);
    assert.equal(missing.status, 404);
    const [a, b] = [(await hidden.json()) as any, (await missing.json()) as any];
    assert.deepEqual(a.error, b.error);
    const reader = await h.request('GET', `/api/pipelines/${id}/badge.svg`, { token: admin });
    assert.equal(reader.status, 200);
    assert.match(reader.text, /^<svg /);
    const bad = await h.request('GET', `/api/pipelines/${id}/badge.svg`, { token: 'not-a-token' });
    assert.equal(bad.status, 401);

    // Opting in and out is a pipeline change like any other (audited; the field is in the body).
    const on = await h.request('PATCH', `/api/pipelines/${id}/`, { token: admin, body: { badge_public: true } });
    assert.equal(on.json.badge_public, true);
    assert.equal((await anonymous(`/api/pipelines/${id}/badge.svg`)).status, 200);
    const events = await h.request('GET', `/api/audit-events/?target_type=pipeline&target_id=${id}`, { token: admin });
    assert.ok(JSON.stringify(events.json).includes('badge_public'), events.text.slice(0, 500));
  });
});
