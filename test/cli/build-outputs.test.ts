/**
 * `ansflow artifacts`, `ansflow retry` and `ansflow caches` as real processes against the real API
 * and worker: list a run's artifacts and download one to a file GNU tar extracts (or to stdout);
 * retry a failed run from its failed steps and from a named step (reused steps named, the new run
 * followed to success), refused with the reason when no snapshot is left; list a pipeline's caches
 * with the hit rate and clear them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type Harness } from '../support/api-harness.js';
import { CLI } from '../support/server-process.js';
import { isFinalStatus } from '../support/run-status.js';
import { waitFor } from '../support/wait.js';

describe('ansflow artifacts, retry and caches', () => {
  let h: Harness;
  let dir: string;
  let env: Record<string, string>;
  let admin: string;

  const cli = (args: string[], cwd = process.cwd()): Promise<{ code: number | null; stdout: Buffer; stderr: string }> => {
    const clean = { ...process.env };
    for (const name of ['ANSFLOW_TOKEN', 'ANSFLOW_URL', 'ANSFLOW_USER', 'ANSFLOW_PASSWORD']) delete clean[name];
    // From any folder (download's default file name lands in the working folder): tsx and the CLI by absolute path.
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(process.cwd(), CLI[2]!), ...args], {
      cwd,
      env: { ...clean, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => stdout.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr })));
  };
  const shell = (name: string, command: string, extra: Record<string, unknown> = {}) => ({ name, type: 'shell_command', config: { command }, ...extra });
  const pipeline = async (name: string, steps: unknown[]) => {
    const r = await h.request('POST', '/api/pipelines/', { token: admin, body: { name, steps } });
    assert.equal(r.status, 201, r.text);
    return r.json.id as number;
  };
  const finished = (runId: number) =>
    waitFor(
      async () => {
        const r = await h.request('GET', `/api/pipeline-runs/${runId}/`, { token: admin });
        return isFinalStatus(r.json.status) ? r.json : undefined;
      },
      30000,
      `run ${runId} to finish`,
    );
  const run = async (pipelineId: number) => finished((await h.request('POST', `/api/pipelines/${pipelineId}/run/`, { token: admin, body: {} })).json.id);

  before(async () => {
    h = await startApi();
    admin = await h.login();
    dir = mkdtempSync(join(tmpdir(), 'ansflow-cli-outputs-'));
    env = { XDG_CONFIG_HOME: dir, ANSFLOW_URL: h.baseUrl, ANSFLOW_TOKEN: admin };
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("artifacts lists a run's artifacts; download writes one as .tar.gz (or to stdout), by name or id", async () => {
    const id = await pipeline('cli-artifacts', [
      shell('build', 'mkdir -p dist && printf "hello\\n" > dist/a.txt && head -c 2048 /dev/zero > dist/b.bin', {
        artifacts: { name: 'dist', paths: ['dist/**'] },
      }),
    ]);
    const done = await run(id);
    assert.equal(done.status, 'success');
    const artifact = (await h.request('GET', `/api/pipeline-runs/${done.id}/artifacts/`, { token: admin })).json.results[0];

    const list = await cli(['artifacts', String(done.id)]);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout.toString(), `${artifact.id}\tdist\tstored\t2.0 KiB\t2 files\tkept with the run\n`);

    const work = join(dir, 'download');
    execFileSync('mkdir', ['-p', work]);
    const saved = await cli(['artifacts', 'download', String(done.id), 'dist'], work);
    assert.equal(saved.code, 0, saved.stderr);
    assert.match(saved.stderr, /Wrote dist\.tar\.gz \(dist: 2 files, 2\.0 KiB before compression\)/);
    assert.deepEqual(readdirSync(work), ['dist.tar.gz']);
    execFileSync('tar', ['-xzf', 'dist.tar.gz'], { cwd: work });
    assert.equal(readFileSync(join(work, 'dist', 'a.txt'), 'utf8'), 'hello\n');
    assert.equal(readFileSync(join(work, 'dist', 'b.bin')).length, 2048);

    const named = await cli(['artifacts', 'download', String(done.id), String(artifact.id), '-o', join(dir, 'by-id.tgz')]);
    assert.equal(named.code, 0, named.stderr);
    assert.ok(
      readFileSync(join(dir, 'by-id.tgz'))
        .subarray(0, 2)
        .equals(Buffer.from([0x1f, 0x8b])),
      'a gzip file',
    );
    const piped = await cli(['artifacts', 'download', String(done.id), 'dist', '-o', '-']);
    assert.equal(piped.code, 0, piped.stderr);
    assert.ok(piped.stdout.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b])), 'gzip on stdout');

    const unknown = await cli(['artifacts', 'download', String(done.id), 'nope', '-o', join(dir, 'nope.tgz')]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /run \d+ has no artifact "nope" \(it has: dist\)/);
    assert.equal(existsSync(join(dir, 'nope.tgz')), false);
    const missingRun = await cli(['artifacts', '999999']);
    assert.equal(missingRun.code, 2);
    assert.match(missingRun.stderr, /404 RESOURCE_NOT_FOUND/);
    const badUsage = await cli(['artifacts', 'download', String(done.id)]);
    assert.equal(badUsage.code, 2);
    assert.match(badUsage.stderr, /download needs RUN and ARTIFACT/);
  });

  test('retry reuses the steps before the failure, --from names a step, --follow waits; no snapshot is refused with the reason', async () => {
    const id = await pipeline('cli-retry', [
      shell('build', 'echo "built in run $ANSFLOW_RUN_NUMBER" > out.txt'),
      shell('test', 'cat out.txt; [ "$ANSFLOW_RUN_NUMBER" -gt 1 ]'),
      shell('package', 'cat out.txt'),
    ]);
    const original = await run(id);
    assert.equal(original.status, 'failed');

    const retried = await cli(['retry', String(original.id)]);
    assert.equal(retried.code, 0, retried.stderr);
    const retryId = Number(retried.stdout.toString().trim());
    assert.match(retried.stderr, new RegExp(`Run #2 of "cli-retry" retries #1 from its failed steps \\(run id ${retryId}\\); reused: build\\.`));
    const retry = await finished(retryId);
    assert.equal(retry.status, 'success');
    assert.deepEqual(retry.retry_of, { run_id: original.id, number: 1, from: 'failed' });

    // From a named step, followed: the log of the steps that ran, exit 0.
    const followed = await cli(['retry', String(retryId), '--from', 'package', '--follow']);
    assert.equal(followed.code, 0, followed.stderr);
    assert.match(followed.stderr, /retries #2 from step "package" .*reused: build, test\./);
    assert.match(followed.stdout.toString(), /built in run 1/);
    assert.match(followed.stderr, /✔ package: success/);
    assert.match(followed.stderr, /↺ build: reused \(success in the original run\)\n↺ test: reused/);
    assert.doesNotMatch(followed.stderr, /✔ (build|test)/);

    const nothing = await cli(['retry', String(retryId)]);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /cannot be retried: /);

    // The snapshot goes (as when it expired): refused with the reason and the full run named.
    const lost = await run(await pipeline('cli-no-snapshot', [shell('one', 'true'), shell('two', 'exit 1')]));
    await h.ctx.artifactStore.deletePrefix(`runs/${lost.id}/`);
    const refused = await cli(['retry', String(lost.id), '--from', 'failed']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /cannot be retried: No usable workspace snapshot was kept after step "one"/);
    assert.match(refused.stderr, /a full run instead: POST \/api\/pipelines\/\d+\/run\//);
    const unknownStep = await cli(['retry', String(lost.id), '--from', 'nope']);
    assert.equal(unknownStep.code, 2);
    assert.match(unknownStep.stderr, /nope/);
  });

  test("caches lists a pipeline's caches with the hit rate, by name or id; --clear removes them", async () => {
    const id = await pipeline('cli-caches', [
      shell('install', '[ -d deps ] || (mkdir -p deps && head -c 1024 /dev/zero > deps/x)', { cache: { key: 'deps-v1', paths: ['deps'] } }),
    ]);
    assert.equal((await run(id)).status, 'success');
    assert.equal((await run(id)).status, 'success');

    const listed = await cli(['caches', 'cli-caches']);
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.toString().trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^deps-v1\tbranch-main\t\d+ B\t1 files\t1 hits\tlast used \d{4}-\d\d-\d\dT/);
    assert.match(lines[1]!, /^1 cache, \d+ B; 2 lookups, 1 exact and 0 partial hits; hit rate 50%$/);

    const cleared = await cli(['caches', String(id), '--clear']);
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal(cleared.stdout.toString(), 'cleared 1 cache\n');
    assert.equal((await h.request('GET', `/api/pipelines/${id}/caches/`, { token: admin })).json.count, 0);
    const empty = await cli(['caches', String(id)]);
    assert.equal(empty.stdout.toString(), '0 caches, 0 B; 2 lookups, 1 exact and 0 partial hits; hit rate 50%\n');

    const viewer = await h.userToken('cli-cache-viewer', 'viewer');
    const denied = await cli(['caches', String(id), '--clear', '--token', viewer]);
    assert.equal(denied.code, 2);
    assert.match(denied.stderr, /403 PERMISSION_DENIED/);
  });
});
