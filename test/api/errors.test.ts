import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';

describe('errors on every failure use the unified body', () => {
  let h: Harness;
  let token: string;
  before(async () => {
    h = await startApi();
    token = await h.login();
  });
  after(() => h.close());

  const isErrorBody = (json: any, code: string) => {
    assert.equal(json.error.code, code);
    assert.equal(typeof json.error.message, 'string');
    assert.equal(typeof json.error.details, 'object');
    assert.ok(!Number.isNaN(Date.parse(json.timestamp)));
    assert.equal(typeof json.path, 'string');
  };

  test('unknown route → 404, wrong method → 405 with Allow', async () => {
    const r = await h.request('GET', '/api/nothing-here/', { token });
    assert.equal(r.status, 404);
    isErrorBody(r.json, 'RESOURCE_NOT_FOUND');
    const m = await h.request('PUT', '/api/pipelines/', { token, body: {} });
    assert.equal(m.status, 405);
    isErrorBody(m.json, 'METHOD_NOT_ALLOWED');
    assert.equal(m.headers.get('allow'), 'GET, POST');
  });

  test('path tricks are clear 4xx, never a 500', async () => {
    for (const path of [
      '/api/pipelines/1%2f..',
      '/API/pipelines/',
      '//api/pipelines/',
      '/api//pipelines/',
      '/api/pipelines/..%2f..%2fetc%2fpasswd/',
      '/api/pipelines/99999999999999999999/',
      '/api/pipelines/-1/',
    ]) {
      const r = await h.request('GET', path, { token });
      assert.ok(r.status >= 400 && r.status < 500, `${path} → ${r.status}`);
      assert.ok(r.json?.error?.code, `${path} has an error body`);
    }
  });

  test('malformed JSON → 400, wrong media type → 415, 50 MB body → 413', async () => {
    const bad = await h.request('POST', '/api/pipelines/', { token, rawBody: '{"name": ', headers: { 'content-type': 'application/json' } });
    assert.equal(bad.status, 400);
    isErrorBody(bad.json, 'VALIDATION_ERROR');
    const proto = await h.request('POST', '/api/pipelines/', {
      token,
      rawBody: '{"name":"p","__proto__":{"x":1}}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(proto.status, 400);
    const media = await h.request('POST', '/api/pipelines/', { token, rawBody: 'name=x', headers: { 'content-type': 'text/plain' } });
    assert.equal(media.status, 415);
    isErrorBody(media.json, 'UNSUPPORTED_MEDIA_TYPE');
    const big = await h.request('POST', '/api/pipelines/', {
      token,
      rawBody: `{"name":"${'x'.repeat(50 * 1024 * 1024)}"}`,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(big.status, 413);
    isErrorBody(big.json, 'PAYLOAD_TOO_LARGE');
  });

  test('an unexpected fault is a 500 without internals, with a request id', async () => {
    const original = h.ctx.repos.pipelines.list.bind(h.ctx.repos.pipelines);
    h.ctx.repos.pipelines.list = async () => {
      throw new Error('secret internal detail at /srv/db.ts:42');
    };
    try {
      const r = await h.request('GET', '/api/pipelines/', { token });
      assert.equal(r.status, 500);
      isErrorBody(r.json, 'INTERNAL_ERROR');
      assert.ok(!r.text.includes('secret internal detail'));
      assert.equal(r.json.error.details.request_id, r.headers.get('x-request-id'));
    } finally {
      h.ctx.repos.pipelines.list = original;
    }
  });

  test('an empty JSON body on a bodiless POST is accepted as no body', async () => {
    const r = await h.request('POST', '/api/auth/logout/', { rawBody: '', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.ok(r.json.error.details.refresh || r.json.error.details.non_field_errors, r.text);
  });

  test('OpenAPI is served from the same schemas, with both UIs', async () => {
    const schema = await h.request('GET', '/api/schema/');
    assert.equal(schema.status, 200);
    assert.equal(schema.json.openapi, '3.1.0');
    assert.deepEqual(schema.json.servers, [{ url: '/', description: 'the server that serves this document' }]);
    const create = schema.json.paths['/api/pipelines/'].post;
    assert.ok(create.requestBody.content['application/json'].schema.properties.steps);
    // Every operation has a unique operationId and documents a success (or, for the sign-on callback, its redirect).
    const operations = Object.entries(schema.json.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ key: `${method} ${path}`, op })),
    );
    const ids = operations.map((o) => o.op.operationId);
    assert.ok(
      ids.every((id) => typeof id === 'string' && id.length > 0),
      'an operation without operationId',
    );
    assert.equal(new Set(ids).size, ids.length, 'operationIds repeat');
    for (const { key, op } of operations)
      assert.ok(
        Object.keys(op.responses).some((s) => /^[23]\d\d$/.test(s)),
        `${key} documents no success`,
      );
    // The log is text with its offset header; its errors are the JSON error body, not text.
    const logs = schema.json.paths['/api/pipeline-runs/{id}/logs/'].get.responses;
    assert.deepEqual(Object.keys(logs['200'].content), ['text/plain']);
    assert.ok(logs['200'].headers['X-Next-Offset']);
    assert.deepEqual(Object.keys(logs['404'].content), ['application/json']);
    for (const ui of ['/api/docs/', '/api/schema/swagger-ui/']) {
      const r = await h.request('GET', ui);
      assert.equal(r.status, 200, ui);
      assert.match(r.text, /swagger/i);
    }
  });
});
