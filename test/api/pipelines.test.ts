import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';

const DOC_EXAMPLE = {
  name: 'New Pipeline',
  description: 'Pipeline description',
  repository_url: 'https://github.com/user/repo.git',
  branch: 'main',
  trigger_events: ['push', 'pull_request'],
  steps: [
    { name: 'Checkout Code', type: 'git_checkout', config: { repository: 'https://github.com/user/repo.git', branch: 'main' } },
    { name: 'Install Dependencies', type: 'shell_command', config: { command: 'npm install' } },
  ],
};

describe('pipelines', () => {
  let h: Harness;
  let admin: string;
  before(async () => {
    h = await startApi();
    admin = await h.login();
  });
  after(() => h.close());

  test('the document create example works verbatim and reads back', async () => {
    const created = await h.request('POST', '/api/pipelines/', { token: admin, body: DOC_EXAMPLE });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.steps_count, 2);
    assert.deepEqual(created.json.created_by, { id: 1, username: 'admin' });
    assert.equal(created.json.last_run, null);
    assert.equal(created.json.status, 'active');
    const got = await h.request('GET', `/api/pipelines/${created.json.id}/`, { token: admin });
    assert.equal(got.status, 200);
    assert.equal(got.json.steps[0].config.repository, 'https://github.com/user/repo.git');
    assert.deepEqual(got.json.trigger_events, ['push', 'pull_request']);
  });

  test('the curl example with only name and description works', async () => {
    const r = await h.request('POST', '/api/pipelines/', { token: admin, body: { name: 'Test Pipeline', description: 'API Test Pipeline' } });
    assert.equal(r.status, 201);
    assert.equal(r.json.steps_count, 0);
  });

  test('names are unique case-insensitively (409), and nothing is overwritten', async () => {
    const r = await h.request('POST', '/api/pipelines/', { token: admin, body: { ...DOC_EXAMPLE, name: 'NEW PIPELINE', description: 'other' } });
    assert.equal(r.status, 409);
    assert.equal(r.json.error.code, 'RESOURCE_CONFLICT');
    const list = await h.request('GET', '/api/pipelines/?search=new%20pipeline', { token: admin });
    assert.equal(list.json.count, 1);
    assert.equal(list.json.results[0].description, 'Pipeline description');
  });

  test('list: paging envelope with absolute links, search, status and creator filters', async () => {
    for (let i = 0; i < 25; i++)
      await h.request('POST', '/api/pipelines/', {
        token: admin,
        body: { name: `bulk-${i}`, description: i % 2 ? 'odd one' : 'even one', status: i % 5 === 0 ? 'inactive' : 'active' },
      });
    const page1 = await h.request('GET', '/api/pipelines/?page_size=10&search=bulk', { token: admin });
    assert.equal(page1.status, 200);
    assert.equal(page1.json.count, 25);
    assert.equal(page1.json.results.length, 10);
    assert.equal(page1.json.previous, null);
    assert.equal(page1.json.next, `${h.baseUrl}/api/pipelines/?page_size=10&search=bulk&page=2`);
    const page3 = await h.request('GET', new URL(page1.json.next).pathname + new URL(page1.json.next).search.replace('page=2', 'page=3'), { token: admin });
    assert.equal(page3.json.results.length, 5);
    assert.equal(page3.json.next, null);
    assert.ok(page3.json.previous.includes('page=2'));
    const odd = await h.request('GET', '/api/pipelines/?search=ODD&page_size=100', { token: admin });
    assert.equal(odd.json.count, 12, 'search is case-insensitive on the description');
    const inactive = await h.request('GET', '/api/pipelines/?status=inactive&search=bulk', { token: admin });
    assert.equal(inactive.json.count, 5);
    const dev = await h.userToken('creator', 'developer');
    await h.request('POST', '/api/pipelines/', { token: dev, body: { name: 'mine' } });
    const mine = await h.request('GET', '/api/pipelines/?created_by=2', { token: admin });
    assert.deepEqual(
      mine.json.results.map((p: { name: string }) => p.name),
      ['mine'],
    );
    const past = await h.request('GET', '/api/pipelines/?page=99', { token: admin });
    assert.equal(past.status, 404);
    assert.equal(past.json.error.code, 'RESOURCE_NOT_FOUND');
    const like = await h.request('GET', '/api/pipelines/?search=%25', { token: admin });
    assert.equal(like.json.count, 0, 'a % in search is literal, not a wildcard');
  });

  test('bad query parameters are 400 naming the parameter', async () => {
    for (const [query, field] of [
      ['page=0', 'page'],
      ['page=abc', 'page'],
      ['page_size=100000', 'page_size'],
      ['page_size=0', 'page_size'],
      ['status=weird', 'status'],
      ['created_by=x', 'created_by'],
    ]) {
      const r = await h.request('GET', `/api/pipelines/?${query}`, { token: admin });
      assert.equal(r.status, 400, query);
      assert.equal(r.json.error.code, 'VALIDATION_ERROR');
      assert.ok(r.json.error.details[field!], `${query} names ${field}: ${r.text}`);
    }
  });

  test('bad bodies are 400 naming the field, and change nothing', async () => {
    const base = (await h.request('POST', '/api/pipelines/', { token: admin, body: { name: 'stable', description: 'keep me' } })).json;
    const cases: Array<[unknown, string]> = [
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: '   ' }, 'name'],
      [{ name: 'x'.repeat(10000) }, 'name'],
      [{ name: 42 }, 'name'],
      [{ name: 'ok', unknown_field: 1 }, 'unknown_field'],
      [{ name: 'ok', trigger_events: ['deploy'] }, 'trigger_events[0]'],
      [{ name: 'ok', steps: [{ name: 's', type: 'teleport', config: {} }] }, 'steps[0].type'],
      [{ name: 'ok', steps: [{ name: 's', type: 'git_checkout', config: {} }] }, 'steps[0].config.repository'],
      [
        {
          name: 'ok',
          steps: [
            { name: 's', type: 'shell_command', config: { command: 'x' } },
            { name: 't', type: 'git_checkout', config: { repository: 5 } },
          ],
        },
        'steps[1].config.repository',
      ],
      [{ name: 'ok', steps: [{ name: 's', type: 'shell_command', config: { command: 'x', extra: 1 } }] }, 'steps[0].config.extra'],
      [
        { name: 'ok', steps: [{ name: 's', type: 'shell_command', config: { command: 'x', working_directory: '../../etc' } }] },
        'steps[0].config.working_directory',
      ],
      [{ name: 'ok', steps: [{ name: 's', type: 'git_checkout', config: { repository: 'ext::sh -c touch% /tmp/pwned' } }] }, 'steps[0].config.repository'],
      [{ name: 'ok', steps: [{ name: 's', type: 'shell_command', config: { command: 'x' }, timeout_seconds: 0 }] }, 'steps[0].timeout_seconds'],
      [{ name: 'ok', repository_url: '--upload-pack=touch /tmp/pwned' }, 'repository_url'],
      [{ name: 'ok', repository_url: 'file:///etc' }, 'repository_url'],
      [{ name: 'ok', branch: 'a";$(touch /tmp/pwned);echo"' }, 'branch'],
      [{ name: 'ok', variables: { PATH: '/evil' } }, 'variables.PATH'],
      [{ name: 'ok', variables: { LD_PRELOAD: 'x' } }, 'variables.LD_PRELOAD'],
      [{ name: 'ok', variables: { 'bad-name': 'x' } }, 'variables.bad-name'],
    ];
    for (const [body, field] of cases) {
      const r = await h.request('POST', '/api/pipelines/', { token: admin, body });
      assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 80)} → ${r.text.slice(0, 300)}`);
      assert.equal(r.json.error.code, 'VALIDATION_ERROR');
      assert.ok(r.json.error.details[field], `expected details for ${field}, got ${JSON.stringify(r.json.error.details)}`);
      const put = await h.request('PUT', `/api/pipelines/${base.id}/`, { token: admin, body });
      assert.equal(put.status, 400, `PUT ${JSON.stringify(body).slice(0, 80)}`);
    }
    const after = await h.request('GET', `/api/pipelines/${base.id}/`, { token: admin });
    assert.equal(after.json.description, 'keep me');
    assert.equal(after.json.name, 'stable');
  });

  test('PUT replaces, PATCH changes only some fields, DELETE is 204 then 404', async () => {
    const p = (await h.request('POST', '/api/pipelines/', { token: admin, body: { ...DOC_EXAMPLE, name: 'editable' } })).json;
    const patched = await h.request('PATCH', `/api/pipelines/${p.id}/`, { token: admin, body: { status: 'inactive' } });
    assert.equal(patched.status, 200);
    assert.equal(patched.json.status, 'inactive');
    assert.equal(patched.json.steps_count, 2);
    const put = await h.request('PUT', `/api/pipelines/${p.id}/`, { token: admin, body: { name: 'edited' } });
    assert.equal(put.status, 200);
    assert.equal(put.json.steps_count, 0);
    assert.equal(put.json.status, 'active');
    const clash = await h.request('PATCH', `/api/pipelines/${p.id}/`, { token: admin, body: { name: 'stable' } });
    assert.equal(clash.status, 409);
    assert.equal((await h.request('DELETE', `/api/pipelines/${p.id}/`, { token: admin })).status, 204);
    assert.equal((await h.request('GET', `/api/pipelines/${p.id}/`, { token: admin })).status, 404);
    assert.equal((await h.request('DELETE', `/api/pipelines/${p.id}/`, { token: admin })).status, 404);
  });

  test('secret variables are never returned, and "******" keeps the stored value', async () => {
    const r = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: { name: 'with-secrets', variables: { PLAIN: 'visible', TOKEN: { value: 's3cr3t-value', secret: true } } },
    });
    assert.equal(r.status, 201);
    assert.deepEqual(r.json.variables, { PLAIN: 'visible', TOKEN: { value: '******', secret: true } });
    assert.ok(!r.text.includes('s3cr3t-value'));
    const put = await h.request('PATCH', `/api/pipelines/${r.json.id}/`, {
      token: admin,
      body: { variables: { PLAIN: 'changed', TOKEN: { value: '******', secret: true } } },
    });
    assert.equal(put.status, 200);
    const stored = await h.ctx.repos.pipelines.findById(r.json.id);
    assert.equal(stored!.variables.TOKEN!.value, 's3cr3t-value');
    assert.equal(stored!.variables.PLAIN!.value, 'changed');
    const row = await h.ctx.db.kysely.selectFrom('pipelines').select('variables').where('id', '=', r.json.id).executeTakeFirstOrThrow();
    assert.ok(!row.variables.includes('s3cr3t-value'), 'encrypted at rest');
  });

  test('roles: viewers read only; developers change only their own pipelines', async () => {
    const viewer = await h.userToken('viewer1', 'viewer');
    const dev = await h.userToken('dev-a', 'developer');
    const other = await h.userToken('dev-b', 'developer');
    assert.equal((await h.request('GET', '/api/pipelines/', { token: viewer })).status, 200);
    const denied = await h.request('POST', '/api/pipelines/', { token: viewer, body: { name: 'viewer-made' } });
    assert.equal(denied.status, 403);
    assert.equal(denied.json.error.code, 'PERMISSION_DENIED');
    const mine = (await h.request('POST', '/api/pipelines/', { token: dev, body: { name: 'dev-a-pipeline' } })).json;
    assert.equal((await h.request('DELETE', `/api/pipelines/${mine.id}/`, { token: viewer })).status, 403);
    assert.equal((await h.request('DELETE', `/api/pipelines/${mine.id}/`, { token: other })).status, 403);
    assert.equal((await h.request('PATCH', `/api/pipelines/${mine.id}/`, { token: other, body: { description: 'hijack' } })).status, 403);
    assert.equal((await h.request('GET', `/api/pipelines/${mine.id}/`, { token: other })).status, 200);
    assert.equal((await h.request('DELETE', `/api/pipelines/${mine.id}/`, { token: dev })).status, 204);
  });

  test('step types: the catalogue with JSON schemas', async () => {
    const r = await h.request('GET', '/api/step-types/', { token: admin });
    assert.equal(r.status, 200);
    const ids = r.json.results.map((t: { id: string }) => t.id);
    assert.deepEqual(ids, ['git_checkout', 'shell_command', 'ansible_playbook', 'jenkins_job']);
    const git = r.json.results[0];
    assert.equal(git.category, 'source_control');
    assert.deepEqual(git.config_schema.required, ['repository']);
    assert.equal(git.config_schema.properties.branch.default, 'main');
  });
});
