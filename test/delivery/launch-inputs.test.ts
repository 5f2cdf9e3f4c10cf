/**
 * Launch inputs against the real server: a pipeline declares typed inputs (checked when it is
 * saved), `POST /api/pipelines/{id}/run/` checks the values (400 naming the field) and the run
 * gets them as variables; the spec's run body (`variables` only) keeps working, a variable of an
 * input's name being that input's value; a `run`-scoped token may give inputs but not variables.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { waitFor } from '../support/wait.js';

const INPUTS = [
  { name: 'region', type: 'choice', options: ['eu', 'us'], default: 'eu', description: 'Where to deploy' },
  { name: 'DRY_RUN', type: 'boolean', default: true },
  { name: 'REPLICAS', type: 'number', required: true },
  { name: 'NOTE', type: 'string' },
];

describe('launch inputs', () => {
  let h: Harness;
  let admin = '';
  let pipelineId = 0;

  const run = (body: unknown, token = admin, id = pipelineId) => h.request('POST', `/api/pipelines/${id}/run/`, { token, body });
  const finished = (id: number) =>
    waitFor(
      async () => {
        const r = (await h.request('GET', `/api/pipeline-runs/${id}/`, { token: admin })).json;
        return ['success', 'failed', 'cancelled', 'error'].includes(r.status) ? r : false;
      },
      20000,
      `run ${id} to finish`,
    );

  before(async () => {
    h = await startApi();
    admin = await h.login();
    const p = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: {
        name: 'inputs',
        inputs: INPUTS,
        steps: [{ name: 'show', type: 'shell_command', config: { command: 'echo "to=$region dry=$DRY_RUN n=$REPLICAS note=[$NOTE]"' } }],
      },
    });
    assert.equal(p.status, 201, p.text);
    pipelineId = p.json.id;
  });
  after(() => h?.close());

  test('the pipeline keeps its declared inputs (API), PATCH leaves them, PUT without them removes them', async () => {
    const got = await h.request('GET', `/api/pipelines/${pipelineId}/`, { token: admin });
    assert.deepEqual(got.json.inputs, INPUTS);
    const other = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: { name: 'inputs-put', inputs: [{ name: 'A', type: 'string' }], steps: [{ name: 's', type: 'shell_command', config: { command: 'true' } }] },
    });
    assert.equal(other.status, 201, other.text);
    const patched = await h.request('PATCH', `/api/pipelines/${other.json.id}/`, { token: admin, body: { description: 'x' } });
    assert.deepEqual(patched.json.inputs, [{ name: 'A', type: 'string' }]);
    const put = await h.request('PUT', `/api/pipelines/${other.json.id}/`, { token: admin, body: { name: 'inputs-put', steps: other.json.steps } });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.json.inputs, []);
  });

  test('a bad declaration is a 400 naming each field, and nothing is saved', async () => {
    const r = await h.request('PUT', `/api/pipelines/${pipelineId}/`, {
      token: admin,
      body: {
        name: 'inputs',
        inputs: [
          { name: 'ok', type: 'choice', options: [] },
          { name: 'LD_PRELOAD', type: 'string' },
          { name: 'n', type: 'number', default: 'ten' },
        ],
      },
    });
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(Object.keys(r.json.error.details).sort(), ['inputs[0].options', 'inputs[1].name', 'inputs[2].default']);
    const unknownType = await h.request('PATCH', `/api/pipelines/${pipelineId}/`, { token: admin, body: { inputs: [{ name: 'x', type: 'date' }] } });
    assert.equal(unknownType.status, 400, unknownType.text);
    assert.deepEqual((await h.request('GET', `/api/pipelines/${pipelineId}/`, { token: admin })).json.inputs, INPUTS);
  });

  test('values are checked: not one of the options, the wrong type, missing, unknown — each named, no run started', async () => {
    const before = (await h.request('GET', `/api/pipelines/${pipelineId}/runs/`, { token: admin })).json.count;
    const r = await run({ inputs: { region: 'mars', DRY_RUN: 'perhaps', COLOR: 'red' } });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.code, 'VALIDATION_ERROR');
    const details = r.json.error.details;
    assert.deepEqual(Object.keys(details).sort(), ['inputs.COLOR', 'inputs.DRY_RUN', 'inputs.REPLICAS', 'inputs.region']);
    assert.match(details['inputs.region'][0], /"mars" is not one of: eu, us/);
    assert.match(details['inputs.DRY_RUN'][0], /true or false/);
    assert.match(details['inputs.REPLICAS'][0], /required/);
    assert.match(details['inputs.COLOR'][0], /no such input/);
    const wrongNumber = await run({ inputs: { REPLICAS: 'three' } });
    assert.equal(wrongNumber.status, 400);
    assert.match(wrongNumber.json.error.details['inputs.REPLICAS'][0], /a number/);
    const twice = await run({ inputs: { REPLICAS: 1 }, variables: { REPLICAS: '2' } });
    assert.equal(twice.status, 400);
    assert.deepEqual(Object.keys(twice.json.error.details), ['variables.REPLICAS']);
    assert.equal((await h.request('GET', `/api/pipelines/${pipelineId}/runs/`, { token: admin })).json.count, before);
  });

  test('the values become the run variables its steps see; defaults fill the rest; text forms of types are read', async () => {
    const r = await run({ inputs: { REPLICAS: 3, region: 'us' } });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(
      { region: r.json.variables.region, DRY_RUN: r.json.variables.DRY_RUN, REPLICAS: r.json.variables.REPLICAS, NOTE: r.json.variables.NOTE },
      { region: 'us', DRY_RUN: 'true', REPLICAS: '3', NOTE: '' },
    );
    assert.equal((await finished(r.json.id)).status, 'success');
    const log = (await h.request('GET', `/api/pipeline-runs/${r.json.id}/logs/`, { token: admin })).text;
    assert.match(log, /to=us dry=true n=3 note=\[\]/);

    const text = await run({ inputs: { REPLICAS: '2', DRY_RUN: 'false', NOTE: 'hello' } });
    assert.equal(text.status, 201, text.text);
    assert.equal(text.json.variables.DRY_RUN, 'false');
    assert.equal(text.json.variables.REPLICAS, '2');
    await finished(text.json.id);
  });

  test("the spec's run body works verbatim: variables of the inputs' names are their values, checked the same way", async () => {
    const spec = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: {
        name: 'spec-inputs',
        inputs: [{ name: 'ENVIRONMENT', type: 'choice', options: ['staging', 'production'], required: true }],
        steps: [{ name: 's', type: 'shell_command', config: { command: 'echo $ENVIRONMENT $VERSION' } }],
      },
    });
    assert.equal(spec.status, 201, spec.text);
    const body = { branch: 'main', variables: { ENVIRONMENT: 'staging', VERSION: '1.0.0' } };
    const ok = await run(body, admin, spec.json.id);
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.json.variables.ENVIRONMENT, 'staging');
    assert.equal(ok.json.variables.VERSION, '1.0.0');
    await finished(ok.json.id);
    const bad = await run({ branch: 'main', variables: { ENVIRONMENT: 'moon', VERSION: '1.0.0' } }, admin, spec.json.id);
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(Object.keys(bad.json.error.details), ['variables.ENVIRONMENT']);
    // A pipeline declaring nothing takes the same body as ever.
    const plain = await run(body);
    assert.equal(plain.status, 400, 'REPLICAS is still required here');
    const none = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: { name: 'no-inputs', steps: [{ name: 's', type: 'shell_command', config: { command: 'true' } }] },
    });
    const noInputs = await run(body, admin, none.json.id);
    assert.equal(noInputs.status, 201, noInputs.text);
    await finished(noInputs.json.id);
    const stray = await run({ inputs: { A: 'x' } }, admin, none.json.id);
    assert.equal(stray.status, 400);
    assert.deepEqual(Object.keys(stray.json.error.details), ['inputs.A']);
  });

  test('a token with only the run scope may give inputs, not variables', async () => {
    const created = await h.request('POST', '/api/users/me/tokens/', { token: admin, body: { name: 'runner', scopes: ['read', 'run'] } });
    assert.equal(created.status, 201, created.text);
    const runner = created.json.token as string;
    const withInputs = await run({ inputs: { REPLICAS: 1 } }, runner);
    assert.equal(withInputs.status, 201, withInputs.text);
    await finished(withInputs.json.id);
    const withVariables = await run({ inputs: { REPLICAS: 1 }, variables: { NOTE: 'x' } }, runner);
    assert.equal(withVariables.status, 403, withVariables.text);
  });
});
