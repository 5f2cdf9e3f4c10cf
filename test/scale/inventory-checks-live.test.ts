/**
 * Connectivity checks live when scaled out: the check runs in an API process and its events reach
 * a WebSocket client of the gateway, a separate process, through Redis pub/sub (PostgreSQL for
 * state). Two hosts: a closed port, and a host the test holds, so the first host's result is shown
 * to arrive while the check goes on; the check's end follows with its tally.
 * Under CI=true PostgreSQL and Redis must be reachable (the support helpers fail instead of skipping).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { connectTestRedis, type TestRedis } from '../support/redis.js';
import { waitFor } from '../support/wait.js';
import { heldHost, type HeldHost } from '../support/held-host.js';
import { closedPort } from '../support/ssh-hosts.js';
import { connectWs } from '../gateway/gateway-support.js';
import { api, login, startCluster, type Cluster } from './support.js';

describe('distributed mode: a connectivity check run by an API process, live on the gateway', () => {
  let db: TestDatabase | null = null;
  let redis: TestRedis | null = null;
  let cluster: Cluster | null = null;
  let gate: HeldHost | null = null;

  before(async () => {
    db = await createTestDatabase();
    redis = await connectTestRedis();
    if (!db || !redis) return;
    gate = await heldHost();
    cluster = await startCluster({ databaseUrl: db.url, redisUrl: redis.url, redisPrefix: redis.prefix, apis: 1, workers: [] });
  });
  after(async () => {
    gate?.release();
    await cluster?.stop();
    await gate?.close();
    await redis?.cleanup().catch(() => {});
    await db?.drop().catch(() => {});
  });

  test("each host's result reaches the gateway's client through Redis while the check goes on, then its end", async (t) => {
    if (!cluster || !gate) return t.skip('PostgreSQL or Redis unreachable');
    const base = cluster.apis[0]!.baseUrl;
    const token = await login(base);
    const ghostPort = await closedPort();
    const content = `ghost ansible_host=127.0.0.1 ansible_port=${ghostPort}\ngate ansible_host=127.0.0.1 ansible_port=${gate.port} ansible_ssh_timeout=3600\n`;
    const created = await api(base, 'POST', '/api/inventories/', token, { name: 'scaled', format: 'ini', content });
    assert.equal(created.status, 201, created.text);
    const id = created.json.id as number;

    const ws = await connectWs(`${cluster.gateway!.baseUrl.replace(/^http/, 'ws')}/ws/inventories/${id}?token=${encodeURIComponent(token)}`);
    assert.deepEqual(await ws.next(() => true, 60_000), { type: 'inventory_feed', data: { inventory_id: id, latest: null } });

    // Two hosts: answered when done, so the answer waits for the held host.
    const answer = api(base, 'POST', `/api/inventories/${id}/check/`, token, {});
    const ghost = await ws.next((m) => m.type === 'inventory_check' && m.data.results.some((r: { host: string }) => r.host === 'ghost'), 120_000);
    assert.equal(ghost.data.status, 'running');
    assert.equal(ghost.data.results[0].status, 'unreachable');
    await waitFor(async () => gate!.connected(), 60_000, 'Ansible to connect to the held host');
    const meanwhile = await api(base, 'GET', `/api/inventories/${id}/checks/${ghost.data.check_id}/`, token);
    assert.equal(meanwhile.json.status, 'running', 'the check goes on');

    gate.release();
    const done = await answer;
    assert.equal(done.status, 200, done.text);
    const end = await ws.next((m) => m.type === 'inventory_check' && m.data.status !== 'running', 60_000);
    assert.equal(end.data.check_id, done.json.id);
    assert.equal(end.data.status, 'finished');
    assert.deepEqual(end.data.counts, { reachable: 0, unreachable: 2, failed: 0 });
    const hostsSeen = ws.messages.flatMap((m) => (m.type === 'inventory_check' ? m.data.results.map((r: { host: string }) => r.host) : [])).sort();
    assert.deepEqual(hostsSeen, ['gate', 'ghost']);
    ws.socket.close();
  });
});
