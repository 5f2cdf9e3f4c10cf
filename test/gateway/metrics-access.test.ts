/**
 * /metrics is not open to whoever reaches the gateway: with ANSFLOW_METRICS_TOKEN it needs that
 * bearer token; without one the gateway has none (404), and the metrics-only listener
 * (ANSFLOW_METRICS_LISTEN, loopback by default) serves them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness } from '../support/api-harness.js';
import { gatewayRequest, startGateway } from './gateway-support.js';
import { ConfigError, loadConfig } from '../../src/config.js';

const TOKEN = 'a-long-enough-metrics-token';

describe('without a metrics token', () => {
  let h: Harness;
  before(async () => (h = await startGateway()));
  after(() => h.close());

  test('the public gateway answers 404 with the unified body; the metrics listener serves them', async () => {
    for (const token of [undefined, TOKEN, await h.login()]) {
      const r = await gatewayRequest(h, 'GET', '/metrics', token ? { token } : {});
      assert.equal(r.status, 404, r.text);
      assert.equal(r.json.error.code, 'RESOURCE_NOT_FOUND');
      assert.ok(!r.text.includes('ansflow_runs'));
    }
    assert.ok(h.servers.metricsUrl, 'a metrics listener');
    assert.match(h.servers.metricsUrl!, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(h.servers.metricsUrl, h.gatewayUrl);
    const scrape = await fetch(`${h.servers.metricsUrl}/metrics`);
    assert.equal(scrape.status, 200);
    assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await scrape.text(), /^# TYPE ansflow_runs gauge$/m);
    // Only /metrics lives there.
    const other = await fetch(`${h.servers.metricsUrl}/api/v1/system/status`);
    assert.equal(other.status, 404);
  });
});

describe('with ANSFLOW_METRICS_TOKEN, and the listener off', () => {
  let h: Harness;
  before(async () => (h = await startGateway({}, { ANSFLOW_METRICS_TOKEN: TOKEN, ANSFLOW_METRICS_LISTEN: 'off' })));
  after(() => h.close());

  test('401 without the token or with another one (an access token included); 200 with it', async () => {
    assert.equal(h.servers.metricsUrl, null);
    for (const headers of [
      {} as Record<string, string>,
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Bearer ${await h.login()}` },
      { authorization: `Basic ${TOKEN}` },
    ]) {
      const r = await gatewayRequest(h, 'GET', '/metrics', { headers });
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.equal(r.json.error.code, 'AUTHENTICATION_ERROR');
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.ok(!r.text.includes('ansflow_runs'));
    }
    const ok = await gatewayRequest(h, 'GET', '/metrics', { token: TOKEN });
    assert.equal(ok.status, 200);
    assert.match(ok.text, /^# TYPE ansflow_runs gauge$/m);
  });
});

test('bad settings are reported by name', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ NODE_ENV: 'test', ...env });
      return '';
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.message;
    }
  };
  assert.match(problems({ ANSFLOW_METRICS_LISTEN: 'everywhere' }), /ANSFLOW_METRICS_LISTEN="everywhere"/);
  assert.match(problems({ ANSFLOW_METRICS_LISTEN: 'example.com:9464' }), /ANSFLOW_METRICS_LISTEN/);
  assert.match(problems({ ANSFLOW_METRICS_LISTEN: '127.0.0.1:99999' }), /ANSFLOW_METRICS_LISTEN/);
  assert.match(problems({ ANSFLOW_METRICS_TOKEN: 'short' }), /ANSFLOW_METRICS_TOKEN must be at least 16 characters/);
  const defaults = loadConfig({ NODE_ENV: 'test' });
  assert.deepEqual(defaults.metricsListen, { host: '127.0.0.1', port: 9464, explicit: false });
  assert.equal(defaults.metricsToken, null);
  assert.deepEqual(loadConfig({ NODE_ENV: 'test', ANSFLOW_METRICS_LISTEN: '[::1]:9500' }).metricsListen, { host: '::1', port: 9500, explicit: true });
  assert.equal(loadConfig({ NODE_ENV: 'test', ANSFLOW_METRICS_LISTEN: 'OFF' }).metricsListen, null);
});
