/**
 * `expire_in_days` honoured, end to end on both stores: the retention sweeper (with its clock moved
 * ahead) removes an artifact once it expired, rows and bytes, and keeps the run, its other artifact
 * (kept as long as the run) and an artifact not yet expired; the API then no longer lists or serves
 * it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startApi, type Harness } from '../support/api-harness.js';
import { startS3Server, type S3Server } from '../support/s3-server.js';
import { isFinalStatus } from '../support/run-status.js';
import { waitFor } from '../support/wait.js';
import { makeRetentionSweeper } from '../../src/runtime/retention.js';

const DAY = 86_400_000;

for (const kind of ['filesystem', 's3'] as const) {
  describe(`expired artifacts are swept (${kind} store)`, () => {
    let h: Harness;
    let s3: S3Server | null = null;
    let admin: string;
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
      h = await startApi({}, env);
      assert.equal(h.ctx.artifactStore.kind, kind);
      admin = await h.login();
    });
    after(async () => {
      await h?.close();
      await s3?.close();
    });

    const keys = async (prefix: string) => {
      const out: string[] = [];
      for await (const o of h.ctx.artifactStore.list(prefix)) out.push(o.key);
      return out.sort();
    };

    test('the sweeper removes an artifact past expire_in_days, keeps the rest and the run', async () => {
      const shell = (name: string, command: string, extra: Record<string, unknown>) => ({ name, type: 'shell_command', config: { command }, ...extra });
      const made = await h.request('POST', '/api/pipelines/', {
        token: admin,
        body: {
          name: `expiring-${kind}`,
          steps: [
            shell('short', 'head -c 1000 /dev/zero > short.bin', { artifacts: { name: 'short', paths: ['short.bin'], expire_in_days: 1 } }),
            shell('long', 'head -c 2000 /dev/zero > long.bin', { artifacts: { name: 'long', paths: ['long.bin'], expire_in_days: 5 } }),
            shell('kept', 'echo kept > kept.txt', { artifacts: { name: 'kept', paths: ['kept.txt'] } }),
          ],
        },
      });
      assert.equal(made.status, 201, made.text);
      const started = await h.request('POST', `/api/pipelines/${made.json.id}/run/`, { token: admin, body: {} });
      const run = await waitFor(
        async () => {
          const r = await h.request('GET', `/api/pipeline-runs/${started.json.id}/`, { token: admin });
          return isFinalStatus(r.json.status) ? r.json : undefined;
        },
        30000,
        'the run to finish',
      );
      assert.equal(run.status, 'success');
      const listed = async () => (await h.request('GET', `/api/pipeline-runs/${run.id}/artifacts/`, { token: admin })).json.results as Array<any>;
      const before = await listed();
      assert.deepEqual(
        before.map((a) => a.name),
        ['short', 'long', 'kept'],
      );
      const short = before[0];
      assert.equal((await keys(`runs/${run.id}/artifacts/`)).length, 3);

      let now = Date.now();
      const sweeper = makeRetentionSweeper(h.ctx, { now: () => now });
      // What a put a crash cut short leaves in the filesystem store: its temporary file, gone an hour later.
      const leftover = kind === 'filesystem' ? join(h.ctx.artifactStore.location, 'runs', String(run.id), '.put-0123456789abcdef') : null;
      if (leftover) await writeFile(leftover, 'half a file');
      try {
        // Nothing has expired yet.
        const first = await sweeper.sweepOnce();
        assert.equal(first?.expiredArtifacts, 0);
        assert.equal(first?.leftovers, 0);
        assert.equal((await listed()).length, 3);
        if (leftover) assert.ok(existsSync(leftover), 'a put may still be writing it');

        // Two days on: "short" (1 day) is past, "long" (5 days) and "kept" (no expiry) are not.
        now += 2 * DAY;
        const swept = await sweeper.sweepOnce();
        assert.equal(swept?.expiredArtifacts, 1);
        assert.equal(swept?.leftovers, kind === 'filesystem' ? 1 : 0);
        if (leftover) assert.equal(existsSync(leftover), false, 'the leftover temporary file is gone');
        assert.equal(swept?.freedBytes, 1000);
        assert.deepEqual(
          (await listed()).map((a) => a.name),
          ['long', 'kept'],
        );
        assert.equal((await keys(`runs/${run.id}/artifacts/s${run.steps[0].id}/`)).length, 0, 'its bytes are gone from the store');
        assert.equal((await keys(`runs/${run.id}/artifacts/`)).length, 2);
        const gone = await fetch(h.baseUrl + short.download_url, { headers: { authorization: `Bearer ${admin}` } });
        assert.equal(gone.status, 404);
        assert.equal((await h.request('GET', `/api/pipeline-runs/${run.id}/`, { token: admin })).status, 200, 'the run stays');

        // Six days on: "long" goes too; "kept" stays as long as the run.
        now += 4 * DAY;
        assert.equal((await sweeper.sweepOnce())?.expiredArtifacts, 1);
        assert.deepEqual(
          (await listed()).map((a) => a.name),
          ['kept'],
        );
        assert.equal((await keys(`runs/${run.id}/artifacts/`)).length, 1);
      } finally {
        await sweeper.stop();
      }
    });
  });
}
