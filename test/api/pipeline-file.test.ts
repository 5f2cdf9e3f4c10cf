/**
 * The pipeline file on the real API: the public JSON Schema, lint (located errors, the expanded
 * plan, includes as warnings), and export of a stored pipeline that lints back to the same steps.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startApi, type Harness } from '../support/api-harness.js';

const lines = (...l: string[]) => `${l.join('\n')}\n`;

describe('pipeline file API', () => {
  let h: Harness;
  let admin: string;
  let viewer: string;
  before(async () => {
    h = await startApi();
    admin = await h.login();
    viewer = await h.userToken('file-viewer', 'viewer');
  });
  after(() => h.close());

  test('the JSON Schema is served without login, as JSON Schema, equal to the committed file', async () => {
    const r = await h.request('GET', '/api/schemas/pipeline-file.json');
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type')!, /^application\/schema\+json/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.text, readFileSync(new URL('../../docs/pipeline-file.schema.json', import.meta.url), 'utf8'));
    assert.equal(r.json.title, 'AnsFlow pipeline file');
  });

  test('lint answers 200 with the expanded plan for a valid file, for a viewer too', async () => {
    const content = lines(
      'steps:',
      '  - name: build',
      '    run: make',
      '    matrix: { NODE: [20, 22] }',
      '  - name: test',
      '    run: make test',
      '    needs: [build]',
    );
    const r = await h.request('POST', '/api/pipelines/lint/', { token: viewer, body: { content } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.valid, true);
    assert.deepEqual(r.json.errors, []);
    assert.deepEqual(
      r.json.steps.map((s: { name: string; needs: string[]; env?: Record<string, string> }) => [s.name, s.needs, s.env]),
      [
        ['build (NODE=20)', [], { NODE: '20' }],
        ['build (NODE=22)', [], { NODE: '22' }],
        ['test', ['build (NODE=20)', 'build (NODE=22)'], undefined],
      ],
    );
  });

  test('lint answers 200 with every problem located for an invalid file, and no plan', async () => {
    const content = lines('steps:', '  - name: a', '    run: x', '    needs: [ghost]', '  - name: b', '    run: y', '    retries: 99');
    const r = await h.request('POST', '/api/pipelines/lint/', { token: admin, body: { content } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.valid, false);
    assert.deepEqual(r.json.errors, [{ path: 'steps[1].retries', line: 7, column: 14, message: 'Must be <= 10.' }]);
    assert.deepEqual(r.json.steps, []);
    const graph = await h.request('POST', '/api/pipelines/lint/', { token: admin, body: { content: content.replace('99', '1') } });
    assert.deepEqual(graph.json.errors, [{ path: 'steps[0].needs[0]', line: 4, column: 13, message: 'There is no step named "ghost".' }]);
    const yaml = await h.request('POST', '/api/pipelines/lint/', { token: admin, body: { content: 'steps: [\n' } });
    assert.equal(yaml.json.valid, false);
    assert.match(yaml.json.errors[0].message, /^YAML: /);
  });

  test('lint lists includes as warnings (no repository is read) and stays valid', async () => {
    const content = lines(
      'include:',
      '  - ci/common.yml',
      '  - { repository: "https://git.example.com/t.git", ref: v1, path: node.yml }',
      'steps:',
      '  - { name: a, run: x }',
    );
    const r = await h.request('POST', '/api/pipelines/lint/', { token: admin, body: { content } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.valid, true);
    assert.deepEqual(
      r.json.warnings.map((w: { path: string; line: number }) => `${w.line} ${w.path}`),
      ['2 include[0]', '3 include[1]'],
    );
  });

  test('a lint request without content, or with other fields, is a 400 naming the field; without a token a 401', async () => {
    const missing = await h.request('POST', '/api/pipelines/lint/', { token: admin, body: {} });
    assert.equal(missing.status, 400);
    assert.ok(missing.json.error.details.content, missing.text);
    const extra = await h.request('POST', '/api/pipelines/lint/', { token: admin, body: { content: 'steps: []', path: '/etc/passwd' } });
    assert.equal(extra.status, 400);
    assert.equal((await h.request('POST', '/api/pipelines/lint/', { body: { content: 'steps: []' } })).status, 401);
  });

  test('export gives text/yaml that lints back to the very steps stored; secrets and URL credentials stay out', async () => {
    const steps = [
      { name: 'checkout', type: 'git_checkout', config: { repository: 'https://github.com/o/r.git', branch: 'main' } },
      { name: 'build', type: 'shell_command', config: { command: 'npm ci\nnpm test', working_directory: 'app' }, env: { NODE: '22' } },
      { name: 'lint', type: 'shell_command', config: { command: 'npm run lint' }, parallel_group: 'checks', retries: 1 },
      { name: 'unit', type: 'shell_command', config: { command: 'npm run unit' }, parallel_group: 'checks', timeout_seconds: 300 },
    ];
    const created = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: { name: 'exported', steps, variables: { REGION: 'eu', TOKEN: { value: 'very-secret-value', secret: true } } },
    });
    assert.equal(created.status, 201, created.text);
    const r = await h.request('GET', `/api/pipelines/${created.json.id}/export/`, { token: admin });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type')!, /^text\/yaml/);
    assert.match(r.text, /^# yaml-language-server: \$schema=http:\/\/[^\s]+\/api\/schemas\/pipeline-file\.json\n/);
    assert.doesNotMatch(r.text, /very-secret-value/);
    assert.match(r.text, /not exported: TOKEN/);
    const linted = await h.request('POST', '/api/pipelines/lint/', { token: admin, body: { content: r.text } });
    assert.equal(linted.json.valid, true, linted.text);
    const stored = await h.request('GET', `/api/pipelines/${created.json.id}/`, { token: admin });
    assert.deepEqual(linted.json.steps, stored.json.steps);
    assert.deepEqual(linted.json.variables, { REGION: 'eu' });
  });

  test('export of a pipeline the caller cannot read is a 404', async () => {
    const r = await h.request('GET', '/api/pipelines/999999/export/', { token: admin });
    assert.equal(r.status, 404);
  });
});
