/**
 * Every error on both ports — including those the framework, its plugins (static files, the
 * WebSocket plugin, `ws`) or the router raise themselves — is a 4xx with `content-type:
 * application/json` and the unified body. Raw HTTP (node:http), so paths reach the server exactly
 * as written (fetch would normalise `%2e%2e`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { Harness } from '../support/api-harness.js';
import { startGateway } from '../gateway/gateway-support.js';
import { ERROR_STATUS } from '../../src/domain/errors.js';

interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

function raw(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    // The server may answer (413) and close before a large body is written.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' ? undefined : reject(error)));
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to ${method} ${path} in 10 s`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const upgrade = (extra: Record<string, string> = {}) => ({
  connection: 'Upgrade',
  upgrade: 'websocket',
  'sec-websocket-version': '13',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  ...extra,
});

type Case = [method: string, path: string, headers?: Record<string, string>, body?: string | Buffer];

const json = { 'content-type': 'application/json' };

/** Requests that must fail cleanly on either port. */
const BOTH: Case[] = [
  ['GET', '/api/pipelines/%E0%A4%A/'],
  ['GET', '/api/%'],
  ['GET', '/%'],
  ['GET', '/api/pipelines/%zz/'],
  ['GET', `/api/pipelines/${'9'.repeat(600)}/`],
  ['GET', '/api/docs/static/..%2f..%2fpackage.json'],
  ['GET', '/api/docs/static/%2e%2e/'],
  ['GET', '/api/docs/static/%2e%2e/%2e%2e/package.json'],
  ['GET', '/api/docs/static/..%5c..%5cpackage.json'],
  ['GET', '/docs/static/..%2f..%2fpackage.json'],
  ['GET', '/docs/static/%2e%2e/'],
  ['GET', '/docs/static/%2e%2e/%2e%2e/package.json'],
  ['GET', '/api/schema/swagger-ui/static/%2e%2e/%2e%2e/package.json'],
  ['GET', '/ws/pipeline-runs/'],
  ['GET', '/ws/pipeline-runs/1'],
  ['GET', '/ws/pipeline-runs/abc'],
  ['GET', '/ws/pipeline-runs/', { connection: 'Upgrade', upgrade: 'websocket' }],
  ['GET', '/ws/pipeline-runs/', upgrade({ 'sec-websocket-key': 'not-a-key' })],
  ['GET', '/ws/pipeline-runs/1', upgrade({ 'sec-websocket-version': '7' })],
  ['GET', '/ws/pipeline-runs/1', upgrade({ 'sec-websocket-protocol': 'a b, @' })],
  ['GET', '/ws/pipeline-runs/1', upgrade({ upgrade: 'h2c' })],
  ['GET', '/ws/pipeline-runs/abc', upgrade()],
  ['GET', '/api/v1/system/status', upgrade()],
  ['GET', '/nothing-here', upgrade()],
  ['POST', '/api/auth/login/', json, '{"username": '],
  ['POST', '/api/auth/login/', json, '{"username":"a","password":"b","__proto__":{"x":1}}'],
  ['POST', '/api/auth/login/', json, '[1,2'],
  ['POST', '/api/auth/login/', { 'content-type': 'application/xml' }, '<a/>'],
  ['POST', '/api/auth/login/', { 'content-type': 'application/x-www-form-urlencoded' }, 'username=a'],
  ['POST', '/api/auth/login/', { 'content-type': 'text/plain' }, 'x'],
  ['POST', '/api/auth/login/', { 'content-type': 'multipart/form-data; boundary=x' }, '--x--'],
  ['POST', '/api/v1/webhooks/github', { ...json, 'x-github-event': 'push' }, '{"ref": '],
  ['POST', '/api/v1/webhooks/gitlab', { 'content-type': 'application/xml', 'x-gitlab-event': 'Push Hook' }, '<a/>'],
  ['POST', '/api/v1/integrations/jenkins/trigger', json, '{'],
  ['PUT', '/api/v1/system/status'],
  ['DELETE', '/metrics'],
];

describe('every error on both ports is a 4xx with the unified JSON body', () => {
  let h: Harness;
  before(async () => {
    h = await startGateway();
  });
  after(() => h.close());

  const check = (where: string, r: RawResponse) => {
    assert.ok(r.status >= 400 && r.status < 500, `${where} → ${r.status} ${r.text.slice(0, 200)}`);
    assert.match(r.contentType, /^application\/json/, `${where}: content-type ${r.contentType} ${r.text.slice(0, 200)}`);
    let body: any;
    try {
      body = JSON.parse(r.text);
    } catch {
      assert.fail(`${where}: body is not JSON: ${r.text.slice(0, 200)}`);
    }
    assert.ok(body.error && typeof body.error === 'object', `${where}: ${r.text}`);
    assert.ok(Object.hasOwn(ERROR_STATUS, body.error.code), `${where}: code ${body.error.code}`);
    assert.equal(typeof body.error.message, 'string', where);
    assert.equal(typeof body.error.details, 'object', where);
    assert.ok(!Number.isNaN(Date.parse(body.timestamp)), where);
    assert.equal(typeof body.path, 'string', where);
    assert.ok(!r.text.includes('"name": "ansflow"') && !r.text.includes('"dependencies"'), `${where}: a file outside the static folder was served`);
  };

  for (const port of ['api', 'gateway'] as const) {
    test(`port ${port === 'api' ? 8000 : 8001} (${port})`, async () => {
      const base = port === 'api' ? h.baseUrl : h.gatewayUrl;
      for (const [method, path, headers, body] of BOTH) {
        const where = `${port} ${method} ${path.slice(0, 80)} ${JSON.stringify(headers ?? {})}`;
        check(
          where,
          await raw(base, method, path, headers, body).catch((error: Error) => {
            throw new Error(`${where}: ${error.message}`);
          }),
        );
      }
    });
  }

  test('bodies over the limit on both ports: 413', async () => {
    const apiBig = `{"username":"${'x'.repeat(3 * 1024 * 1024)}"}`;
    const api = await raw(h.baseUrl, 'POST', '/api/auth/login/', json, apiBig);
    assert.equal(api.status, 413);
    check('api oversized', api);
    const gatewayBig = Buffer.alloc(26 * 1024 * 1024, 0x20);
    const gateway = await raw(h.gatewayUrl, 'POST', '/api/v1/webhooks/github', { ...json, 'x-github-event': 'push' }, gatewayBig);
    assert.equal(gateway.status, 413);
    check('gateway oversized', gateway);
  });

  test('specific answers: bad %-encoding → 400, WebSocket path without upgrade → 400 naming the upgrade, static climb → 403/404', async () => {
    const bad = await raw(h.baseUrl, 'GET', '/api/pipelines/%E0%A4%A/');
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.text).error.code, 'VALIDATION_ERROR');
    const plain = await raw(h.gatewayUrl, 'GET', '/ws/pipeline-runs/1');
    assert.equal(plain.status, 400);
    assert.ok(JSON.parse(plain.text).error.details.upgrade, plain.text);
    const key = await raw(h.gatewayUrl, 'GET', '/ws/pipeline-runs/', upgrade({ 'sec-websocket-key': 'x' }));
    assert.ok(JSON.parse(key.text).error.details['sec-websocket-key'], key.text);
    for (const path of ['/api/docs/static/%2e%2e/', '/api/docs/static/..%2f..%2fpackage.json']) {
      const r = await raw(h.baseUrl, 'GET', path);
      assert.ok(r.status === 403 || r.status === 404, `${path} → ${r.status}`);
    }
    // The static files themselves are still served.
    const css = await raw(h.baseUrl, 'GET', '/api/docs/static/swagger-ui.css');
    assert.equal(css.status, 200);
  });
});
