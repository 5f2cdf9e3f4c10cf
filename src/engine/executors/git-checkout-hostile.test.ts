/**
 * git_checkout against hostile input: a server that redirects to another host, a run variable
 * that names a proxy, a repository URL naming a cloud metadata address. Real git, real servers
 * on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeEngineHarness, makeSpec, runWith, shell, testLauncher } from '../../../test/support/engine-harness.js';
import { createBareRepo, fixtureGitEnv, makeTempDir, startHttpGitServer } from '../../../test/support/git-fixtures.js';
import { GitCheckoutExecutor } from './git-checkout.js';
import { ShellCommandExecutor } from './shell-command.js';
import type { StepDefinition } from '../../domain/pipeline.js';

const checkout = (repository: string): StepDefinition => ({ name: 'checkout', type: 'git_checkout', config: { repository } });

const executors = () => [
  new GitCheckoutExecutor({ launcher: testLauncher, cancelGraceMs: 500, allowLocalRepositories: false }),
  new ShellCommandExecutor({ launcher: testLauncher, shell: 'bash', cancelGraceMs: 500 }),
];

interface Recorder {
  port: number;
  requests: Array<{ url: string; headers: IncomingMessage['headers'] }>;
  stop(): Promise<void>;
}

/** An HTTP server that records every request and answers with `respond`. */
async function startRecorder(host: string, respond: (req: IncomingMessage) => { status: number; headers?: Record<string, string> }): Promise<Recorder> {
  const requests: Recorder['requests'] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    const { status, headers } = respond(req);
    req.resume();
    res.writeHead(status, headers).end();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { port, requests, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

for (const status of [301, 302]) {
  test(`git never follows an HTTP ${status} to another host`, async () => {
    const tmp = makeTempDir();
    const h = makeEngineHarness();
    // The place the redirect points to: another address and port, which must never be asked.
    const elsewhere = await startRecorder('127.0.0.2', () => ({ status: 404 }));
    const redirector = await startRecorder('127.0.0.1', (req) => ({
      status,
      headers: { Location: `http://127.0.0.2:${elsewhere.port}${req.url ?? '/'}` },
    }));
    try {
      // Control: plain git follows the redirect, so the recorder would see it if we did too.
      // (Asynchronously: the servers answer from this process.)
      await promisify(execFile)('git', ['ls-remote', `http://127.0.0.1:${redirector.port}/control.git`], { env: fixtureGitEnv(tmp.path) }).catch(() => {
        // 404 at the other end
      });
      assert.ok(elsewhere.requests.length > 0, 'plain git follows the redirect (the control failed)');
      elsewhere.requests.length = 0;

      const spec = makeSpec([checkout(`http://127.0.0.1:${redirector.port}/private.git`)]);
      const { outcome, stepLog } = await runWith(h, spec, { executors: executors() });
      assert.equal(outcome.status, 'failed');
      assert.ok(redirector.requests.length > 0, 'the checkout asked the first server');
      assert.deepEqual(elsewhere.requests, [], 'the redirect was followed');
      assert.match(await stepLog(0), /http\.followRedirects=false|redirect/i);
    } finally {
      await Promise.all([redirector.stop(), elsewhere.stop()]);
      h.cleanup();
      tmp.cleanup();
    }
  });
}

test('a run variable naming a proxy reaches shell steps but never the platform checkout (nor its credentials)', async () => {
  const tmp = makeTempDir();
  const h = makeEngineHarness();
  createBareRepo(tmp.path, 'private', { history: [{ app: 'ok' }] });
  const server = await startHttpGitServer(tmp.path, { username: 'deploy', password: 'proxy-test-secret' });
  const proxy = await startRecorder('127.0.0.1', () => ({ status: 502 }));
  const proxyUrl = `http://127.0.0.1:${proxy.port}`;
  const variables = Object.fromEntries(
    ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'Http_Proxy'].map((name) => [
      name,
      { value: proxyUrl, secret: false },
    ]),
  );
  // no_proxy from the user must not switch the proxy back on for the checkout either.
  variables.no_proxy = { value: '', secret: false };
  try {
    // A URL with credentials, as stored before they were refused on save: the worst case to leak.
    const repository = server.url('private').replace('http://', 'http://deploy:proxy-test-secret@');
    const run = await runWith(h, makeSpec([checkout(repository)], { variables }), { executors: executors() });
    assert.equal(run.outcome.status, 'success', await run.stepLog(0));
    assert.deepEqual(proxy.requests, [], 'the checkout went through the proxy the user chose');

    // The same variables still reach the user's own commands (and would send git through the proxy).
    const control = await runWith(h, makeSpec([shell('mine', `git ls-remote ${server.url('private')} || true`)], { variables }), { executors: executors() });
    assert.equal(control.outcome.status, 'success', await control.stepLog(0));
    assert.ok(proxy.requests.length > 0, 'the proxy is reachable and used by shell steps (the control failed)');
    assert.ok(proxy.requests.every((r) => !JSON.stringify(r).includes('proxy-test-secret')));
  } finally {
    await Promise.all([server.stop(), proxy.stop()]);
    h.cleanup();
    tmp.cleanup();
  }
});

test('the checkout refuses cloud metadata addresses unless the operator allows them', async () => {
  const h = makeEngineHarness();
  try {
    for (const url of [
      'http://169.254.169.254/latest.git',
      'http://0xa9fea9fe/x.git',
      'http://[::ffff:a9fe:a9fe]/x.git',
      'git@metadata.google.internal.:x.git',
    ]) {
      const { outcome, reporter } = await runWith(h, makeSpec([checkout(url)]), { executors: executors() });
      assert.equal(outcome.status, 'failed', url);
      assert.match(reporter.events.map((e) => JSON.stringify(e)).join('\n'), /repository refused: .*metadata/, url);
    }
  } finally {
    h.cleanup();
  }
});

test('every git call of the checkout is hardened the same way (one place)', () => {
  const source = readFileSync(join(import.meta.dirname, 'git-checkout.ts'), 'utf8');
  assert.equal(source.match(/http\.followRedirects=false/g)?.length, 1);
  assert.equal(source.match(/protocol\.ext\.allow=never/g)?.length, 2); // the doc comment and hardenedGitArgs
});
