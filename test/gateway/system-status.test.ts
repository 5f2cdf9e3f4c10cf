/**
 * GET /api/v1/system/status with real checks (database, Redis, RabbitMQ) and /metrics, against the
 * real gateway: healthy, degraded when an optional service is down, 503 when the database is.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Harness } from '../support/api-harness.js';
import { freePort } from '../support/server-process.js';
import { waitFor } from '../support/wait.js';
import { gatewayRequest, startGateway } from './gateway-support.js';

/** A fake broker that answers the AMQP protocol header with a Connection.Start frame (or garbage). */
async function fakeBroker(answer: 'start' | 'garbage'): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.once('data', (header) => {
      if (answer === 'garbage' || header.toString('latin1') !== 'AMQP\x00\x00\x09\x01') return socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      const args = Buffer.from([0, 9]); // version-major 0, version-minor 9 (rest omitted: we only check the method)
      const payload = Buffer.concat([Buffer.from([0, 10, 0, 10]), args]);
      const frame = Buffer.alloc(7 + payload.length + 1);
      frame.writeUInt8(1, 0);
      frame.writeUInt16BE(0, 1);
      frame.writeUInt32BE(payload.length, 3);
      payload.copy(frame, 7);
      frame.writeUInt8(0xce, 7 + payload.length);
      socket.write(frame);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('system status', () => {
  test('healthy with only the database: live metrics, version, uptime', async () => {
    const h = await startGateway({}, {}, { statusCacheMs: 0 });
    try {
      const admin = await h.login();
      await h.request('POST', '/api/pipelines/', { token: admin, body: { name: 'a', steps: [] } });
      await h.request('POST', '/api/pipelines/', { token: admin, body: { name: 'b', status: 'inactive', steps: [] } });
      const r = await gatewayRequest(h, 'GET', '/api/v1/system/status');
      assert.equal(r.status, 200);
      assert.equal(r.json.status, 'healthy');
      assert.equal(r.json.version, '1.0.0');
      assert.ok(Number.isInteger(r.json.uptime_seconds));
      assert.deepEqual(r.json.services, { database: 'healthy' });
      assert.deepEqual(r.json.metrics, { active_pipelines: 1, running_jobs: 0, queue_size: 0 });
    } finally {
      await h.close();
    }
  });

  test('Redis configured but down → degraded (200), redis unhealthy within the short timeout', async () => {
    const port = await freePort();
    const h = await startGateway({}, { ANSFLOW_REDIS_URL: `redis://127.0.0.1:${port}` }, { statusCacheMs: 0 });
    try {
      const started = Date.now();
      const r = await gatewayRequest(h, 'GET', '/api/v1/system/status');
      assert.equal(r.status, 200);
      assert.equal(r.json.status, 'degraded');
      assert.deepEqual(r.json.services, { database: 'healthy', redis: 'unhealthy' });
      assert.match(r.json.checks.redis.error, /ECONNREFUSED|Connection is closed|no answer/);
      assert.ok(Date.now() - started < 3000);
    } finally {
      await h.close();
    }
  });

  test('RabbitMQ: a broker that sends Connection.Start is healthy; a port that is not a broker is not', async () => {
    const good = await fakeBroker('start');
    const bad = await fakeBroker('garbage');
    const h1 = await startGateway({}, { ANSFLOW_RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${good.port}/` }, { statusCacheMs: 0 });
    const h2 = await startGateway({}, { ANSFLOW_RABBITMQ_URL: `amqp://127.0.0.1:${bad.port}` }, { statusCacheMs: 0 });
    try {
      const ok = await gatewayRequest(h1, 'GET', '/api/v1/system/status');
      assert.equal(ok.json.status, 'healthy', ok.text);
      assert.equal(ok.json.services.rabbitmq, 'healthy');
      assert.doesNotMatch(ok.text, /guest/, 'no credentials in the answer');
      const notBroker = await gatewayRequest(h2, 'GET', '/api/v1/system/status');
      assert.equal(notBroker.status, 200);
      assert.equal(notBroker.json.status, 'degraded');
      assert.equal(notBroker.json.services.rabbitmq, 'unhealthy');
    } finally {
      await h1.close();
      await h2.close();
      good.server.close();
      bad.server.close();
    }
  });

  test('the database down → unhealthy, HTTP 503, metrics null', async () => {
    const h = await startGateway({}, {}, { statusCacheMs: 0 });
    try {
      await h.ctx.db.kysely.destroy();
      const r = await gatewayRequest(h, 'GET', '/api/v1/system/status');
      assert.equal(r.status, 503);
      assert.equal(r.json.status, 'unhealthy');
      assert.equal(r.json.services.database, 'unhealthy');
      assert.deepEqual(r.json.metrics, { active_pipelines: null, running_jobs: null, queue_size: null });
    } finally {
      await h.close().catch(() => undefined);
    }
  });
});

describe('Prometheus metrics', () => {
  const METRICS_TOKEN = 'metrics-token-for-the-test';
  let h: Harness;
  before(async () => (h = await startGateway({}, { ANSFLOW_METRICS_TOKEN: METRICS_TOKEN })));
  after(() => h.close());

  test('/metrics: runs by status, step durations, queue size, HTTP latency of both servers', async () => {
    const admin = await h.login();
    const p = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: { name: 'm', steps: [{ name: 's', type: 'shell_command', config: { command: 'sleep 0.2' } }] },
    });
    const run = await h.request('POST', `/api/pipelines/${p.json.id}/run/`, { token: admin, body: {} });
    await waitFor(async () => (await h.request('GET', `/api/pipeline-runs/${run.json.id}/`, { token: admin })).json.status === 'success');
    const text = await waitFor(
      async () => {
        const r = await gatewayRequest(h, 'GET', '/metrics', { token: METRICS_TOKEN });
        return r.text.includes('ansflow_step_duration_seconds_count{type="shell_command",status="success"} 1') ? r : undefined;
      },
      5000,
      'the step duration to be observed',
    );
    assert.match(text.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(text.text, /^ansflow_runs\{status="success"\} 1$/m);
    assert.match(text.text, /^ansflow_queue_size 0$/m);
    assert.match(text.text, /^# TYPE ansflow_step_duration_seconds histogram$/m);
    // prom-client writes `le` first; Prometheus reads labels in any order.
    assert.match(text.text, /^ansflow_step_duration_seconds_bucket\{le="0\.1",type="shell_command",status="success"\} 0$/m);
    // (+Inf, not 0.5: a `sleep 0.2` on a busy machine may take longer than half a second)
    assert.match(text.text, /^ansflow_step_duration_seconds_bucket\{le="\+Inf",type="shell_command",status="success"\} 1$/m);
    assert.match(text.text, /^ansflow_runs_finished_total\{status="success"\} 1$/m);
    assert.match(text.text, /^ansflow_queue_oldest_age_seconds 0$/m);
    assert.match(text.text, /^ansflow_data_filesystem_bytes\{kind="available"\} [1-9]\d*$/m);
    // prom-client's process and Node.js metrics: event-loop lag, heap, GC, handles, memory.
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_active_handles_total',
      'process_resident_memory_bytes',
    ])
      assert.match(text.text, new RegExp(`^${name} \\d`, 'm'), name);
    assert.match(text.text, /^# TYPE nodejs_gc_duration_seconds histogram$/m);
    assert.match(text.text, /^ansflow_http_request_duration_seconds_count\{server="api",method="POST",route="\/api\/pipelines\/:id\/run\/",status="201"\} 1$/m);
    const again = (await gatewayRequest(h, 'GET', '/metrics', { token: METRICS_TOKEN })).text; // a scrape is observed after it answered
    assert.match(again, /^ansflow_http_request_duration_seconds_bucket\{le="\+Inf",server="gateway",method="GET",route="\/metrics",status="200"\} \d+$/m);
  });
});
