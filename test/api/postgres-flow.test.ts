/** The real server on PostgreSQL: the same API flow as on SQLite, end to end with a real run. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { waitFor } from '../support/wait.js';

describe('the API on PostgreSQL', () => {
  let h: Harness | null = null;
  let pgDb: TestDatabase | null = null;
  before(async () => {
    pgDb = await createTestDatabase();
    if (pgDb) h = await startApi({ databaseUrl: pgDb.url });
  });
  after(async () => {
    await h?.close();
    await pgDb?.drop();
  });

  test('login, create, conflict, list, run to success, logs', async (t) => {
    if (!h) return t.skip('PostgreSQL unreachable');
    assert.equal(h.ctx.db.dialect, 'postgres');
    const token = await h.login();
    const body = { name: 'PG Pipeline', steps: [{ name: 'hello', type: 'shell_command', config: { command: 'echo hello-from-pg' } }] };
    const created = await h.request('POST', '/api/pipelines/', { token, body });
    assert.equal(created.status, 201, created.text);
    assert.equal((await h.request('POST', '/api/pipelines/', { token, body: { ...body, name: 'pg pipeline' } })).status, 409);
    const list = await h.request('GET', '/api/pipelines/?search=PG', { token });
    assert.equal(list.json.count, 1);
    const run = await h.request('POST', `/api/pipelines/${created.json.id}/run/`, { token, body: {} });
    assert.equal(run.status, 201);
    const done = await waitFor(async () => {
      const r = await h!.request('GET', `/api/pipeline-runs/${run.json.id}/`, { token });
      return ['success', 'failed', 'error'].includes(r.json.status) ? r.json : undefined;
    });
    assert.equal(done.status, 'success');
    const log = await h.request('GET', `/api/pipeline-runs/${run.json.id}/logs/`, { token });
    assert.match(log.text, /hello-from-pg/);
  });

  test('a rename onto a taken name inside the audited update: 409, no event, and the next update and its event commit', async (t) => {
    if (!h) return t.skip('PostgreSQL unreachable');
    // The unique index decides the clash; on PostgreSQL its violation aborts the update's
    // transaction, so nothing more may be written in it and the next request must start clean.
    const token = await h.login();
    const steps = [{ name: 'hello', type: 'shell_command', config: { command: 'true' } }];
    const taken = await h.request('POST', '/api/pipelines/', { token, body: { name: 'Taken Name', steps } });
    const mine = await h.request('POST', '/api/pipelines/', { token, body: { name: 'mine', steps } });
    assert.equal(taken.status, 201, taken.text);
    assert.equal(mine.status, 201, mine.text);
    const clash = await h.request('PUT', `/api/pipelines/${mine.json.id}/`, { token, body: { name: 'taken name', steps } });
    assert.equal(clash.status, 409, clash.text);
    const renamed = await h.request('PUT', `/api/pipelines/${mine.json.id}/`, { token, body: { name: 'mine, renamed', steps } });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.json.name, 'mine, renamed');
    const events = await h.request('GET', `/api/audit-events/?target_type=pipeline&target_id=${mine.json.id}&action=pipeline.update`, { token });
    assert.equal(events.status, 200, events.text);
    assert.deepEqual(
      events.json.results.map((e: { diff: unknown }) => e.diff),
      [{ name: { before: 'mine', after: 'mine, renamed' } }],
      'one event, for the update that happened',
    );
  });
});
