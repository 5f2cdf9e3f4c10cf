/**
 * Artifacts and caches end to end, through the real server and worker, on both ArtifactStore
 * adapters (the data folder, and S3 through a real s3rver): a step's files are stored after it and
 * listed with sizes and hashes, downloaded whole (.tar.gz, which GNU tar extracts) or one by one,
 * with safe headers; links are refused, hostile paths find nothing; caches are saved and restored
 * by the next run, listed with hit rates and cleared (with an audit event). One file answers byte
 * ranges (206, 416, If-Range; curl resumes a cut download) and both downloads answer HEAD without
 * reading the store's bytes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ArtifactStore } from '../../src/artifacts/artifact-store.js';
import { startApi, type Harness } from '../support/api-harness.js';
import { startS3Server, type S3Server } from '../support/s3-server.js';
import { isFinalStatus } from '../support/run-status.js';
import { waitFor } from '../support/wait.js';

const STORES = ['filesystem', 's3'] as const;

for (const kind of STORES) {
  describe(`artifacts and caches through the API (${kind} store)`, () => {
    let h: Harness;
    let s3: S3Server | null = null;
    let admin: string;
    let viewer: string;
    before(async () => {
      let env: Record<string, string> = {};
      if (kind === 's3') {
        s3 = await startS3Server();
        env = {
          ANSFLOW_ARTIFACTS_URL: `s3://${s3.bucket}/ansflow`,
          ANSFLOW_S3_ENDPOINT: s3.endpoint,
          ANSFLOW_S3_ACCESS_KEY_ID: s3.credentials.accessKeyId,
          ANSFLOW_S3_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
        };
      }
      // A quick retention sweep, for the test that removes a run's artifacts with the run.
      h = await startApi({}, { ANSFLOW_RETENTION_SWEEP_SECONDS: '1', ...env });
      assert.equal(h.ctx.artifactStore.kind, kind);
      admin = await h.login();
      viewer = await h.userToken('artifact-viewer', 'viewer');
    });
    after(async () => {
      await h?.close();
      await s3?.close();
    });

    const pipeline = async (name: string, steps: unknown[]) => {
      const r = await h.request('POST', '/api/pipelines/', { token: admin, body: { name, steps } });
      assert.equal(r.status, 201, r.text);
      return r.json.id as number;
    };
    const shell = (name: string, command: string, extra: Record<string, unknown> = {}) => ({ name, type: 'shell_command', config: { command }, ...extra });
    const runToEnd = async (pipelineId: number) => {
      const started = await h.request('POST', `/api/pipelines/${pipelineId}/run/`, { token: admin, body: {} });
      assert.equal(started.status, 201, started.text);
      return waitFor(
        async () => {
          const r = await h.request('GET', `/api/pipeline-runs/${started.json.id}/`, { token: admin });
          return isFinalStatus(r.json.status) ? r.json : undefined;
        },
        30000,
        'the run to finish',
      );
    };
    const log = async (runId: number) => (await h.request('GET', `/api/pipeline-runs/${runId}/logs/`, { token: admin })).text;
    const download = (path: string, token = admin) => fetch(h.baseUrl + path, { headers: { authorization: `Bearer ${token}` } });

    test('a step stores its artifact; it is listed, downloaded whole and file by file; a link is refused', async () => {
      const id = await pipeline(`build-${kind}`, [
        shell(
          'build',
          [
            'mkdir -p "dist/sub dir"',
            'printf "console.log(1)\\n" > dist/app.js',
            'head -c 300000 /dev/urandom > "dist/sub dir/blob ü.bin"',
            'ln -s /etc/passwd dist/passwd',
            `mkdir -p dist/${'n'.repeat(120)} && echo long > dist/${'n'.repeat(120)}/f.txt`,
          ].join(' && '),
          { artifacts: { name: 'dist', paths: ['dist/**'], expire_in_days: 2 } },
        ),
      ]);
      const run = await runToEnd(id);
      assert.equal(run.status, 'success', await log(run.id));
      const listed = await h.request('GET', `/api/pipeline-runs/${run.id}/artifacts/`, { token: viewer });
      assert.equal(listed.status, 200, listed.text);
      assert.equal(listed.json.count, 1);
      const artifact = listed.json.results[0];
      assert.equal(artifact.name, 'dist');
      assert.equal(artifact.status, 'stored');
      assert.equal(artifact.file_count, 3);
      assert.equal(artifact.step_id, run.steps[0].id);
      assert.deepEqual(artifact.refused, [{ path: 'dist/passwd', reason: 'a symbolic link (not followed)' }]);
      assert.ok(Date.parse(artifact.expires_at) > Date.now() + 86_400_000);

      // The whole artifact: a .tar.gz GNU tar extracts to the same bytes.
      const whole = await download(artifact.download_url, viewer);
      assert.equal(whole.status, 200);
      assert.equal(whole.headers.get('content-type'), 'application/gzip');
      assert.equal(whole.headers.get('content-disposition'), `attachment; filename="dist.tar.gz"; filename*=UTF-8''dist.tar.gz`);
      assert.equal(whole.headers.get('x-content-type-options'), 'nosniff');
      const dir = mkdtempSync(join(tmpdir(), 'ansflow-artifact-'));
      try {
        writeFileSync(join(dir, 'a.tar.gz'), Buffer.from(await whole.arrayBuffer()));
        execFileSync('tar', ['-xzf', 'a.tar.gz'], { cwd: dir });
        assert.equal(readFileSync(join(dir, 'dist', 'app.js'), 'utf8'), 'console.log(1)\n');
        assert.equal(readFileSync(join(dir, 'dist', 'n'.repeat(120), 'f.txt'), 'utf8'), 'long\n');
        const blob = readFileSync(join(dir, 'dist', 'sub dir', 'blob ü.bin'));
        assert.equal(blob.length, 300000);

        // One file, by its path (spaces and non-ASCII percent-encoded), with a safe disposition.
        const one = await download(`/api/pipeline-runs/${run.id}/artifacts/${artifact.id}/files/${encodeURIComponent('dist/sub dir/blob ü.bin')}`, viewer);
        assert.equal(one.status, 200);
        assert.equal(one.headers.get('content-type'), 'application/octet-stream');
        assert.equal(one.headers.get('content-length'), '300000');
        assert.equal(one.headers.get('content-disposition'), `attachment; filename="blob__.bin"; filename*=UTF-8''blob%20%C3%BC.bin`);
        const bytes = Buffer.from(await one.arrayBuffer());
        assert.equal(createHash('sha256').update(bytes).digest('hex'), createHash('sha256').update(blob).digest('hex'));

        // The listing names each file with its size, hash and its own link, which serves those bytes.
        const listedBlob = artifact.files.find((f: { path: string }) => f.path === 'dist/sub dir/blob ü.bin');
        assert.deepEqual(
          artifact.files.map((f: { path: string }) => f.path),
          ['dist/app.js', `dist/${'n'.repeat(120)}/f.txt`, 'dist/sub dir/blob ü.bin'],
        );
        assert.equal(listedBlob.size_bytes, 300000);
        assert.equal(listedBlob.sha256, createHash('sha256').update(blob).digest('hex'));
        const viaLink = await download(listedBlob.url, viewer);
        assert.equal(viaLink.status, 200);
        assert.equal(Buffer.from(await viaLink.arrayBuffer()).length, 300000);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }

      // Hostile paths find nothing: only recorded paths exist, and the store key never comes from the URL.
      for (const path of ['..%2f..%2fsecret.key', '..%2F..%2F..%2Fetc%2Fpasswd', 'dist%2Fpasswd', 'dist%2F..%2Fdist%2Fapp.js', '%2Fetc%2Fpasswd']) {
        const r = await download(`/api/pipeline-runs/${run.id}/artifacts/${artifact.id}/files/${path}`, viewer);
        assert.equal(r.status, 404, path);
        assert.match(await r.text(), /"code":"RESOURCE_NOT_FOUND"/);
      }
      // An artifact id of another run is not found under this run.
      const other = await runToEnd(await pipeline(`other-${kind}`, [shell('x', 'true')]));
      assert.equal((await download(`/api/pipeline-runs/${other.id}/artifacts/${artifact.id}/download/`)).status, 404);
    });

    /** A run whose artifact `data` holds one file `data.bin` of `size` random bytes; `get` downloads as the viewer. */
    const size = 100_000;
    const randomArtifact = async (name: string) => {
      const run = await runToEnd(
        await pipeline(`${name}-${kind}`, [shell('build', `head -c ${size} /dev/urandom > data.bin`, { artifacts: { name: 'data', paths: ['data.bin'] } })]),
      );
      assert.equal(run.status, 'success', await log(run.id));
      const artifact = (await h.request('GET', `/api/pipeline-runs/${run.id}/artifacts/`, { token: viewer })).json.results[0];
      const listed = artifact.files[0];
      const get = (headers: Record<string, string> = {}, path: string = listed.url, method = 'GET') =>
        fetch(h.baseUrl + path, { method, headers: { authorization: `Bearer ${viewer}`, ...headers } });
      return { artifact, listed, get };
    };

    test('one file answers byte ranges (206, 416, If-Range) and curl resumes it; the archive answers them whole', async () => {
      const { artifact, listed, get } = await randomArtifact('ranges');
      const etag = `"${listed.sha256}"`;
      const whole = await get();
      assert.equal(whole.status, 200);
      assert.equal(whole.headers.get('accept-ranges'), 'bytes');
      assert.equal(whole.headers.get('etag'), etag);
      const bytes = Buffer.from(await whole.arrayBuffer());
      assert.equal(createHash('sha256').update(bytes).digest('hex'), listed.sha256);

      // One range, in each form: 206 with exactly those bytes (the store reads only them).
      for (const [range, start, end] of [
        ['bytes=0-0', 0, 0],
        ['bytes=1000-1999', 1000, 1999],
        ['bytes=99990-', 99_990, size - 1],
        ['bytes=-25', size - 25, size - 1],
        ['bytes=50000-999999', 50_000, size - 1],
      ] as const) {
        const r = await get({ range });
        assert.equal(r.status, 206, range);
        assert.equal(r.headers.get('content-range'), `bytes ${start}-${end}/${size}`, range);
        assert.equal(r.headers.get('content-length'), String(end - start + 1), range);
        assert.equal(r.headers.get('etag'), etag);
        assert.equal(r.headers.get('content-type'), 'application/octet-stream');
        assert.ok(Buffer.from(await r.arrayBuffer()).equals(bytes.subarray(start, end + 1)), range);
      }
      // Several ranges: the whole file, as the RFC allows.
      const several = await get({ range: 'bytes=0-9,20-29' });
      assert.equal(several.status, 200);
      assert.ok(Buffer.from(await several.arrayBuffer()).equals(bytes));
      // Past the end or malformed: 416 naming the size.
      for (const range of [`bytes=${size}-`, 'bytes=5-2', 'bytes=abc', 'bytes=-0']) {
        const r = await get({ range });
        assert.equal(r.status, 416, range);
        assert.equal(r.headers.get('content-range'), `bytes */${size}`, range);
        assert.match(await r.text(), /"code":"RANGE_NOT_SATISFIABLE"/);
      }
      // If-Range: the range for the same bytes, the whole file for any other version.
      const same = await get({ range: 'bytes=10-19', 'if-range': etag });
      assert.equal(same.status, 206);
      assert.ok(Buffer.from(await same.arrayBuffer()).equals(bytes.subarray(10, 20)));
      const changed = await get({ range: 'bytes=10-19', 'if-range': `"${'0'.repeat(64)}"` });
      assert.equal(changed.status, 200);
      assert.ok(Buffer.from(await changed.arrayBuffer()).equals(bytes));

      // A cut download resumed by curl (-C -): curl refuses to resume from a 200, so whole bytes prove a 206.
      const dir = mkdtempSync(join(tmpdir(), 'ansflow-resume-'));
      try {
        const target = join(dir, 'data.bin');
        writeFileSync(target, bytes.subarray(0, 30_000));
        await promisify(execFile)('curl', ['-sS', '-f', '-C', '-', '-o', target, '-H', `Authorization: Bearer ${viewer}`, h.baseUrl + listed.url]);
        assert.ok(readFileSync(target).equals(bytes));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }

      // The archive is built as it is sent: a Range gets the whole of it, and no ranges are offered.
      const archive = await get({ range: 'bytes=0-9' }, artifact.download_url);
      assert.equal(archive.status, 200);
      assert.equal(archive.headers.get('accept-ranges'), null);
      assert.equal(archive.headers.get('content-range'), null);
      const archiveBytes = Buffer.from(await archive.arrayBuffer());
      assert.ok(archiveBytes.length > 10);
    });

    test("HEAD on both downloads answers the GET's headers without reading a byte from the store; 404 once the store lost the file", async () => {
      const { artifact, listed, get } = await randomArtifact('head');
      const whole = await get();
      await whole.arrayBuffer();
      const archive = await get({}, artifact.download_url);
      await archive.arrayBuffer();

      const store: ArtifactStore = h.ctx.artifactStore;
      const read = store.get;
      let reads = 0;
      store.get = (...args) => {
        reads += 1;
        return read.apply(store, args);
      };
      try {
        const head = await get({}, listed.url, 'HEAD');
        assert.equal(head.status, 200);
        for (const name of ['content-type', 'content-length', 'content-disposition', 'etag', 'accept-ranges', 'x-content-type-options', 'cache-control'])
          assert.equal(head.headers.get(name), whole.headers.get(name), name);
        assert.equal(head.headers.get('content-length'), String(size));
        // Ranges are defined for GET only: a HEAD with one answers the whole file's headers.
        const headWithRange = await get({ range: 'bytes=0-9' }, listed.url, 'HEAD');
        assert.equal(headWithRange.status, 200);
        assert.equal(headWithRange.headers.get('content-length'), String(size));
        const archiveHead = await get({}, artifact.download_url, 'HEAD');
        assert.equal(archiveHead.status, 200);
        for (const name of ['content-type', 'content-disposition', 'x-content-type-options', 'cache-control'])
          assert.equal(archiveHead.headers.get(name), archive.headers.get(name), name);
        assert.equal(archiveHead.headers.get('accept-ranges'), null);
        assert.equal(archiveHead.headers.get('content-length'), null, 'the size of an archive not yet built is not known');
        assert.equal(reads, 0, 'HEAD read bytes from the store');
        await (await get()).arrayBuffer();
        assert.equal(reads, 1, 'a GET reads through the counted store');
      } finally {
        store.get = read;
      }

      // A file the store no longer holds: HEAD answers the GET's 404.
      const record = await h.ctx.repos.outputs.file(artifact.id, 'data.bin');
      await store.delete(record!.key);
      assert.equal((await get({}, listed.url, 'HEAD')).status, 404);
      assert.equal((await get()).status, 404);
    });

    test('an artifact over the limit fails its step with the reason and is listed as failed, without files', async () => {
      const limited = h.ctx.config.outputs.artifactMaxBytes;
      h.ctx.config.outputs.artifactMaxBytes = 1000;
      try {
        // The worker reads the limit per run: restart is not needed (see runtime/worker.ts).
        const run = await runToEnd(await pipeline(`big-${kind}`, [shell('big', 'head -c 5000 /dev/zero > big.bin', { artifacts: { paths: ['big.bin'] } })]));
        assert.equal(run.status, 'failed');
        assert.match(run.steps[0].message, /its artifact could not be stored: artifact "big" holds 4\.9 KiB, over its limit of 1000 bytes; nothing was stored/);
        const listed = await h.request('GET', `/api/pipeline-runs/${run.id}/artifacts/`, { token: admin });
        assert.deepEqual(
          listed.json.results.map((a: { status: string; file_count: number }) => [a.status, a.file_count]),
          [['failed', 0]],
        );
        const r = await download(listed.json.results[0].download_url);
        assert.equal(r.status, 409);
      } finally {
        h.ctx.config.outputs.artifactMaxBytes = limited;
      }
    });

    test('a cache is saved by one run and restored by the next; the caches page counts hits; clearing is audited', async () => {
      const cache = { key: "deps-{{ hashFiles('lock') }}", paths: ['deps'], restore_keys: ['deps-'] };
      const id = await pipeline(`cache-${kind}`, [
        shell('lock', 'echo v1 > lock'),
        shell('deps', 'if [ -f deps/made ]; then echo RESTORED $(cat deps/made); else mkdir -p deps && echo first > deps/made; fi', { cache }),
      ]);
      const first = await runToEnd(id);
      assert.equal(first.status, 'success', await log(first.id));
      const second = await runToEnd(id);
      assert.match(await log(second.id), /RESTORED first/);

      const caches = await h.request('GET', `/api/pipelines/${id}/caches/`, { token: viewer });
      assert.equal(caches.status, 200, caches.text);
      assert.equal(caches.json.count, 1);
      assert.equal(caches.json.results[0].scope, 'branch-main');
      assert.match(caches.json.results[0].key, /^deps-[0-9a-f]{64}$/);
      assert.equal(caches.json.results[0].hits, 1);
      assert.ok(caches.json.total_bytes > 0);
      assert.deepEqual(caches.json.stats, { lookups: 2, exact_hits: 1, partial_hits: 0, hit_rate: 0.5 });

      assert.equal((await h.request('DELETE', `/api/pipelines/${id}/caches/`, { token: viewer })).status, 403);
      assert.equal((await h.request('DELETE', `/api/pipelines/${id}/caches/999999/`, { token: admin })).status, 404);
      const cleared = await h.request('DELETE', `/api/pipelines/${id}/caches/`, { token: admin });
      assert.equal(cleared.status, 200, cleared.text);
      assert.deepEqual(cleared.json, { deleted: 1 });
      assert.equal((await h.request('GET', `/api/pipelines/${id}/caches/`, { token: admin })).json.count, 0);
      const events = await h.request('GET', `/api/audit-events/?action=pipeline.caches.delete`, { token: admin });
      assert.equal(events.status, 200, events.text);
      const event = events.json.results.find((e: { target: { id: string } }) => String(e.target.id) === String(id));
      assert.ok(event, 'the clearing is in the audit log');
      assert.equal(event.diff.caches.before.length, 1);

      // Without its cache the next run starts clean again.
      const third = await runToEnd(id);
      assert.doesNotMatch(await log(third.id), /RESTORED/);
    });

    test("retention removes an expired run's artifacts and snapshots from the store with the run", async () => {
      const id = await pipeline(`kept-${kind}`, [shell('a', 'echo x > a.txt', { artifacts: { paths: ['a.txt'] } }), shell('b', 'true')]);
      const first = await runToEnd(id);
      const keys = async (runId: number) => {
        const out: string[] = [];
        for await (const o of h.ctx.artifactStore.list(`runs/${runId}/`)) out.push(o.key);
        return out;
      };
      assert.equal((await keys(first.id)).length, 3, 'the artifact file and the snapshot after step a (its archive and manifest)');
      await runToEnd(id);
      const policy = await h.request('PUT', `/api/pipelines/${id}/retention/`, { token: admin, body: { keep_runs: 1, keep_days: null } });
      assert.equal(policy.status, 200, policy.text);
      await waitFor(async () => (await h.request('GET', `/api/pipeline-runs/${first.id}/`, { token: admin })).status === 404 || undefined, 20000, 'the sweep');
      await waitFor(async () => (await keys(first.id)).length === 0 || undefined, 10000, 'the objects to go');
    });

    test('an outsider cannot see a run’s artifacts or a pipeline’s caches (404, as if they did not exist)', async () => {
      const outsider = await h.userToken(`outsider-${kind}`, 'developer');
      const defaultProject = (await h.ctx.repos.projects.defaultProjectId())!;
      await h.ctx.repos.projects.removeMember(defaultProject, (await h.ctx.repos.users.findByUsername(`outsider-${kind}`))!.id);
      const id = await pipeline(`hidden-${kind}`, [shell('a', 'echo x > a.txt', { artifacts: { paths: ['a.txt'] } })]);
      const run = await runToEnd(id);
      assert.equal((await h.request('GET', `/api/pipeline-runs/${run.id}/artifacts/`, { token: outsider })).status, 404);
      assert.equal((await h.request('GET', `/api/pipelines/${id}/caches/`, { token: outsider })).status, 404);
      const artifact = (await h.request('GET', `/api/pipeline-runs/${run.id}/artifacts/`, { token: admin })).json.results[0];
      assert.equal((await download(artifact.download_url, outsider)).status, 404);
      // HEAD and ranges are no way around it.
      const asOutsider = { authorization: `Bearer ${outsider}` };
      assert.equal((await fetch(h.baseUrl + artifact.download_url, { method: 'HEAD', headers: asOutsider })).status, 404);
      assert.equal((await fetch(h.baseUrl + artifact.files[0].url, { method: 'HEAD', headers: asOutsider })).status, 404);
      assert.equal((await fetch(h.baseUrl + artifact.files[0].url, { headers: { ...asOutsider, range: 'bytes=0-0' } })).status, 404);
      assert.equal((await fetch(h.baseUrl + artifact.files[0].url, { headers: { ...asOutsider, range: 'bytes=999-' } })).status, 404);
    });
  });
}
