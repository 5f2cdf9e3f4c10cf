import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import pino from 'pino';
import { startMetricsListener } from './metrics-listener.js';
import type { PlatformMetrics } from '../../services/system/platform-metrics.js';

const metrics = { render: async () => '# TYPE ansflow_runs gauge\n' } as unknown as PlatformMetrics;

test('a busy default address only warns; a busy address the operator chose fails the start', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
  try {
    assert.equal(await startMetricsListener({ host: '127.0.0.1', port, explicit: false }, { metrics, logger }), null);
    assert.match(warnings.join(''), /in use.*ANSFLOW_METRICS_LISTEN/);
    await assert.rejects(startMetricsListener({ host: '127.0.0.1', port, explicit: true }, { metrics, logger }), /EADDRINUSE/);
  } finally {
    taken.close();
  }
});

test('serves /metrics without a token on its own address', async () => {
  const listener = await startMetricsListener({ host: '127.0.0.1', port: 0, explicit: true }, { metrics, logger: pino({ level: 'silent' }) });
  try {
    const r = await fetch(`${listener!.url}/metrics`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), '# TYPE ansflow_runs gauge\n');
  } finally {
    await listener?.close();
  }
});
