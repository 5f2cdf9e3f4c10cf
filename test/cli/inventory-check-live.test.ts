/**
 * `ansflow inventory check` as a real process against the real server and real sshd hosts, with a
 * host the test holds so the check cannot end before the test lets it: a host's line is printed
 * while the check is still running (it came over the inventory's WebSocket feed), and the CLI's
 * HTTP requests, recorded by a proxy in front of the API, include no read of the check. When the
 * feed cannot be opened the CLI says so on stderr and reads the check every second instead.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type Harness } from '../support/api-harness.js';
import { CLI } from '../support/server-process.js';
import { makeSshKey } from '../support/ssh-keys.js';
import { closedPort, startSshHosts, type SshHosts } from '../support/ssh-hosts.js';
import { sshServerMissing } from '../support/ssh-git-server.js';
import { heldHost, type HeldHost } from '../support/held-host.js';
import { waitFor } from '../support/wait.js';
import { connectWs, wsUrl } from '../gateway/gateway-support.js';

const skip = sshServerMissing();

/** A proxy in front of the API that records each request (`GET /api/…`) and may answer `/api/config/` itself. */
async function recordingProxy(target: string): Promise<{ url: string; requests: string[]; config: { gatewayUrl: string | null }; close(): Promise<void> }> {
  const requests: string[] = [];
  const config = { gatewayUrl: null as string | null };
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (config.gatewayUrl && req.url === '/api/config/') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ gateway_url: config.gatewayUrl, version: 'test' }));
      return;
    }
    const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    config,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('ansflow inventory check follows the check live', { skip: skip ?? false }, () => {
  let h: Harness;
  let hosts: SshHosts;
  let gate: HeldHost;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let dir: string;
  let token: string;
  let inventory: number;
  const key = makeSshKey();

  /** The CLI running, with what it printed so far and its exit. */
  const cli = (args: string[]) => {
    const clean = { ...process.env };
    for (const name of ['ANSFLOW_TOKEN', 'ANSFLOW_URL', 'ANSFLOW_USER', 'ANSFLOW_PASSWORD']) delete clean[name];
    const child = spawn(process.execPath, [...CLI, 'inventory', ...args], {
      env: { ...clean, XDG_CONFIG_HOME: dir, ANSFLOW_URL: proxy.url, ANSFLOW_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '', code: undefined as number | null | undefined };
    child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    const exited = new Promise<typeof out>((resolve) =>
      child.on('exit', (code) => {
        out.code = code;
        resolve(out);
      }),
    );
    return { out, exited };
  };
  const checkReads = () => proxy.requests.filter((r) => /^GET \/api\/inventories\/\d+\/checks\//.test(r));

  before(async () => {
    hosts = await startSshHosts(1, key.publicKey);
    gate = await heldHost();
    // Every check of more than one host answers 202 and is followed.
    h = await startApi({ inventoryCheckSyncHosts: 1 });
    token = await h.login();
    proxy = await recordingProxy(h.baseUrl);
    dir = mkdtempSync(join(tmpdir(), 'ansflow-cli-check-live-'));
    const credential = await h.request('POST', '/api/credentials/', {
      token,
      body: { name: 'deploy-key', kind: 'ssh_key', secret: { private_key: key.privateKey, known_hosts: hosts.knownHosts, username: hosts.user } },
    });
    assert.equal(credential.status, 201, credential.text);
    // `gate` waits for the test: ssh's own timeout for it is raised so only the test ends its wait.
    const content = `${hosts.inventory()}\n[held]\ngate ansible_host=127.0.0.1 ansible_port=${gate.port} ansible_ssh_timeout=3600\n`;
    const r = await h.request('POST', '/api/inventories/', { token, body: { name: 'fleet', format: 'ini', content, ssh_credential: 'deploy-key' } });
    assert.equal(r.status, 201, r.text);
    inventory = r.json.id;
  });
  after(async () => {
    gate?.release();
    await proxy?.close();
    await h?.close();
    await hosts?.stop();
    await gate?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("a host's line is printed while the check goes on, from the WebSocket feed (no HTTP read of the check); the tally and exit 1 at its end", async () => {
    const running = cli(['check', 'fleet']);
    // The closed port answers at once; the check cannot end while `gate` is held.
    await waitFor(async () => /^ghost\tunreachable\t/m.test(running.out.stdout) || running.out.code !== undefined, 120_000, "ghost's line");
    assert.equal(running.out.code, undefined, `still running: ${running.out.stdout}${running.out.stderr}`);
    assert.match(running.out.stdout, new RegExp(`^ghost\\tunreachable\\t.*port ${hosts.closed.port}.*Connection refused`, 'm'));
    // The inventory's latest check, as the feed's first message shows it to a new viewer.
    const viewer = await connectWs(wsUrl(h, `/ws/inventories/${inventory}?token=${encodeURIComponent(token)}`));
    const { data } = await viewer.next((m) => m.type === 'inventory_feed');
    viewer.socket.close();
    assert.equal(data.latest.status, 'running', 'the line came while the check was running');
    assert.ok(!data.latest.results.some((r: { host: string }) => r.host === 'gate'), 'the held host has not answered');
    assert.doesNotMatch(running.out.stdout, /hosts: /, 'no tally yet');

    gate.release();
    const done = await running.exited;
    assert.equal(done.code, 1, done.stdout + done.stderr);
    assert.equal(done.stderr, '', 'no fallback');
    const lines = done.stdout.trim().split('\n');
    assert.equal(lines.length, 4, done.stdout);
    assert.match(done.stdout, /^web1\treachable\t.*Python 3\.\d+/m);
    assert.match(done.stdout, /^gate\tunreachable\t/m);
    assert.equal(lines.at(-1), '3 hosts: 1 reachable, 2 unreachable, 0 failed');
    assert.ok(proxy.requests.includes(`POST /api/inventories/${inventory}/check/`), proxy.requests.join('\n'));
    assert.ok(proxy.requests.includes('GET /api/config/'), 'the gateway found through /api/config/');
    assert.deepEqual(checkReads(), [], 'the check was never read over HTTP');
  });

  test('when the WebSocket cannot connect: said on stderr, the check read every second, the same lines and tally', async () => {
    // /api/config/ names a gateway on a port nothing listens on.
    proxy.config.gatewayUrl = `http://127.0.0.1:${await closedPort()}`;
    proxy.requests.length = 0;
    try {
      const done = await cli(['check', 'fleet', '--limit', 'web1,ghost']).exited;
      assert.equal(done.code, 1, done.stdout + done.stderr);
      assert.match(done.stderr, /cannot follow the check live over the WebSocket \(.*ECONNREFUSED.*\); reading it every second instead/);
      assert.match(done.stdout, /^web1\treachable\t.*Python 3\.\d+/m);
      assert.match(done.stdout, /^ghost\tunreachable\t.*Connection refused/m);
      assert.match(done.stdout, /^2 hosts: 1 reachable, 1 unreachable, 0 failed\n$/m);
      assert.ok(checkReads().length >= 1, proxy.requests.join('\n'));
    } finally {
      proxy.config.gatewayUrl = null;
    }
  });
});
