/**
 * `config_path` on a pipeline through the API: set on create, read back, changed by PATCH and PUT,
 * cleared with null, audited; refused (400 naming the field, nothing written) when it is not a safe
 * relative path or the pipeline has no repository. A run of such a pipeline starts without steps.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';

describe('pipeline config_path', () => {
  let h: Harness;
  let admin: string;
  before(async () => {
    h = await startApi();
    admin = await h.login();
  });
  after(() => h.close());

  const repo = 'https://git.example.com/acme/app.git';

  test('set, read, patched, cleared with null; omitted on create means null', async () => {
    const plain = await h.request('POST', '/api/pipelines/', { token: admin, body: { name: 'stored-steps' } });
    assert.equal(plain.status, 201, plain.text);
    assert.equal(plain.json.config_path, null);

    const created = await h.request('POST', '/api/pipelines/', { token: admin, body: { name: 'as-code', repository_url: repo, config_path: '.ansflow.yml' } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.config_path, '.ansflow.yml');
    const id = created.json.id as number;
    assert.equal((await h.request('GET', `/api/pipelines/${id}/`, { token: admin })).json.config_path, '.ansflow.yml');
    const listed = (await h.request('GET', '/api/pipelines/?search=as-code', { token: admin })).json.results[0];
    assert.equal(listed.config_path, '.ansflow.yml');

    const patched = await h.request('PATCH', `/api/pipelines/${id}/`, { token: admin, body: { config_path: 'ci/pipeline.yaml' } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.config_path, 'ci/pipeline.yaml');
    // A PATCH of another field keeps it.
    assert.equal((await h.request('PATCH', `/api/pipelines/${id}/`, { token: admin, body: { description: 'x' } })).json.config_path, 'ci/pipeline.yaml');
    const cleared = await h.request('PATCH', `/api/pipelines/${id}/`, { token: admin, body: { config_path: null } });
    assert.equal(cleared.json.config_path, null);
    const put = await h.request('PUT', `/api/pipelines/${id}/`, { token: admin, body: { name: 'as-code', repository_url: repo, config_path: '.ansflow.yml' } });
    assert.equal(put.json.config_path, '.ansflow.yml');

    const audit = await h.request('GET', `/api/audit-events/?target_type=pipeline&target_id=${id}&page_size=50`, { token: admin });
    assert.equal(audit.status, 200, audit.text);
    const events = audit.json.results as Array<{ action: string; diff: Record<string, { before?: unknown; after?: unknown }> }>;
    const changes = events.filter((e) => e.action === 'pipeline.update' && e.diff.config_path).map((e) => e.diff.config_path!);
    assert.deepEqual(changes.map((c) => c.after).sort(), ['.ansflow.yml', 'ci/pipeline.yaml', null].sort());
  });

  test('unsafe paths and a missing repository are 400 naming config_path; nothing is written', async () => {
    for (const config_path of [
      '/etc/passwd',
      '../outside.yml',
      'ci/../../x.yml',
      '.git/config',
      '-x.yml',
      'HEAD:x.yml',
      'a\\b.yml',
      'ci//x.yml',
      'x\u0000.yml',
      'a'.repeat(300),
    ]) {
      const r = await h.request('POST', '/api/pipelines/', {
        token: admin,
        body: { name: `bad-${config_path.length}-${config_path.charCodeAt(0)}`, repository_url: repo, config_path },
      });
      assert.equal(r.status, 400, `${JSON.stringify(config_path)}: ${r.text}`);
      assert.equal(r.json.error.code, 'VALIDATION_ERROR');
      assert.ok(r.json.error.details.config_path, r.text);
    }
    const noRepo = await h.request('POST', '/api/pipelines/', { token: admin, body: { name: 'no-repo', config_path: '.ansflow.yml' } });
    assert.equal(noRepo.status, 400);
    assert.match(noRepo.json.error.details.config_path[0], /repository_url/);
    const names = (await h.request('GET', '/api/pipelines/?search=bad-', { token: admin })).json.count;
    assert.equal(names, 0);
  });
});
