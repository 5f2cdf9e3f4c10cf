/** The gateway's OpenAPI document and UI, its unified errors, and its place in the Postman collection. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Harness } from '../support/api-harness.js';
import { COLLECTION_PATH } from '../../scripts/postman.js';
import { gatewayRequest, startGateway } from './gateway-support.js';

describe('gateway documentation and errors', () => {
  let h: Harness;
  before(async () => (h = await startGateway()));
  after(() => h.close());

  test('/openapi.json documents every gateway route; /docs serves the UI', async () => {
    const spec = await gatewayRequest(h, 'GET', '/openapi.json');
    assert.equal(spec.status, 200);
    assert.deepEqual(Object.keys(spec.json.paths).sort(), [
      '/api/v1/integrations/jenkins/builds/{id}',
      '/api/v1/integrations/jenkins/trigger',
      '/api/v1/system/status',
      '/api/v1/webhooks/github',
      '/api/v1/webhooks/gitlab',
      '/metrics',
    ]);
    const ui = await gatewayRequest(h, 'GET', '/docs');
    assert.equal(ui.status, 200);
    assert.match(ui.text, /swagger/i);
  });

  test('unknown routes 404, wrong methods 405, malformed JSON 400: all in the unified error body', async () => {
    const missing = await gatewayRequest(h, 'GET', '/api/v1/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'RESOURCE_NOT_FOUND');
    const wrong = await gatewayRequest(h, 'GET', '/api/v1/webhooks/github');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'POST');
    const admin = await h.login();
    const bad = await gatewayRequest(h, 'POST', '/api/v1/integrations/jenkins/trigger', {
      token: admin,
      headers: { 'content-type': 'application/json' },
      body: '{"job_name":',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'VALIDATION_ERROR');
    assert.equal(bad.json.path, '/api/v1/integrations/jenkins/trigger');
  });

  test('the Postman collection has the gateway under {{fastapi_url}}', () => {
    const collection = JSON.parse(readFileSync(COLLECTION_PATH, 'utf8'));
    const raws = collection.item.flatMap((f: { item: Array<{ request: { method: string; url: { raw: string } } }> }) =>
      // The URL without its query (the story fills some in).
      f.item.map((i) => `${i.request.method} ${i.request.url.raw.split('?')[0]}`),
    );
    assert.ok(raws.includes('POST {{fastapi_url}}/api/v1/webhooks/github'));
    assert.ok(raws.includes('GET {{fastapi_url}}/api/v1/system/status'));
    assert.ok(raws.includes('POST {{fastapi_url}}/api/v1/integrations/jenkins/trigger'));
    assert.ok(raws.includes('GET {{base_url}}/api/webhook-deliveries/'));
  });
});
