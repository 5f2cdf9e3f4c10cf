import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';

const shell = (name: string, extra: Record<string, unknown> = {}) => ({ name, type: 'shell_command', config: { command: 'true' }, ...extra });

describe('stored steps with needs, when and env', () => {
  let h: Harness;
  let admin: string;
  before(async () => {
    h = await startApi();
    admin = await h.login();
  });
  after(() => h.close());

  test('a pipeline with a graph of steps is saved and read back as sent', async () => {
    const steps = [
      shell('build', { env: { NODE: '22' } }),
      shell('test', { needs: ['build'] }),
      shell('cleanup', { needs: ['test'], when: { status: 'always' } }),
    ];
    const created = await h.request('POST', '/api/pipelines/', { token: admin, body: { name: 'graph', steps } });
    assert.equal(created.status, 201, created.text);
    const got = await h.request('GET', `/api/pipelines/${created.json.id}/`, { token: admin });
    assert.deepEqual(
      got.json.steps.map((s: Record<string, unknown>) => [s.name, s.needs, s.when, s.env]),
      [
        ['build', undefined, undefined, { NODE: '22' }],
        ['test', ['build'], undefined, undefined],
        ['cleanup', ['test'], { status: 'always' }, undefined],
      ],
    );
  });

  test('an unknown need, a cycle and a reserved step variable are a 400 naming each field, and nothing is saved', async () => {
    const steps = [shell('a', { needs: ['b'] }), shell('b', { needs: ['a', 'ghost'] }), shell('c', { env: { LD_PRELOAD: 'x' } })];
    const r = await h.request('POST', '/api/pipelines/', { token: admin, body: { name: 'bad graph', steps } });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.code, 'VALIDATION_ERROR');
    assert.deepEqual(Object.keys(r.json.error.details).sort(), ['steps[0].needs', 'steps[1].needs[1]', 'steps[2].env.LD_PRELOAD']);
    assert.match(r.json.error.details['steps[0].needs'][0], /a → b → a/);
    const list = await h.request('GET', '/api/pipelines/?search=bad%20graph', { token: admin });
    assert.equal(list.json.count, 0);
  });

  test('an unknown when field or status is refused by the schema', async () => {
    const r = await h.request('POST', '/api/pipelines/', { token: admin, body: { name: 'bad when', steps: [shell('a', { when: { status: 'later' } })] } });
    assert.equal(r.status, 400, r.text);
    assert.ok(
      Object.keys(r.json.error.details).some((k) => k.startsWith('steps[0].when')),
      r.text,
    );
  });
});
