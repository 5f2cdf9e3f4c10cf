/**
 * A run's outputs through the engine, with real steps and a real filesystem store: artifacts after
 * a step (links refused, limits, `when`), caches restored and saved around a step (scopes, restore
 * keys), snapshots after steps a later step needs, and a retry that reuses steps and restores the
 * workspace from a snapshot; a step's `from:` taking another pipeline's artifacts before it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import * as tar from 'tar';
import { makeEngineHarness, makeSpec, runWith, shell } from '../../test/support/engine-harness.js';
import { RecordedOutputs } from '../../test/support/recorded-outputs.js';
import { FsArtifactStore } from '../artifacts/fs-artifact-store.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';

const setup = (limits?: Partial<RecordedOutputs['limits']>) => {
  const h = makeEngineHarness();
  const store = new FsArtifactStore(join(h.root, 'store'));
  const outputs = new RecordedOutputs(store, undefined, {
    artifactBytes: 1 << 20,
    runArtifactBytes: 1 << 20,
    cacheBytes: 1 << 20,
    snapshotBytes: 1 << 20,
    ...limits,
  });
  return { h, store, outputs };
};

const keys = async (store: ArtifactStore, prefix = '') => {
  const out: string[] = [];
  for await (const o of store.list(prefix)) out.push(o.key);
  return out.sort();
};

test('an artifact is stored after the step with sizes and hashes; a link to /etc/passwd is refused and recorded', async () => {
  const { h, store, outputs } = setup();
  try {
    const spec = makeSpec([
      shell('build', 'mkdir -p dist && printf hello > dist/app.js && ln -s /etc/passwd dist/passwd && echo x > other.txt', {
        artifacts: { name: 'dist', paths: ['dist/**'], expire_in_days: 3 },
      }),
    ]);
    const { outcome, stepLog } = await runWith(h, spec, { outputs });
    assert.equal(outcome.status, 'success');
    assert.equal(outputs.artifacts.length, 1);
    const a = outputs.artifacts[0]!;
    assert.equal(a.name, 'dist');
    assert.equal(a.error, null);
    assert.equal(a.expireInDays, 3);
    assert.deepEqual(
      a.files.map((f) => [f.path, f.size]),
      [['dist/app.js', 5]],
    );
    assert.equal(a.files[0]!.sha256, '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    assert.deepEqual(a.refused, [{ path: 'dist/passwd', reason: 'a symbolic link (not followed)' }]);
    assert.equal(await text((await store.get(a.files[0]!.key))!), 'hello');
    assert.match(await stepLog(0), /artifact "dist": 1 file, 5 bytes stored\n.*dist\/passwd refused: a symbolic link/s);
  } finally {
    h.cleanup();
  }
});

test('an artifact over its limit fails the step with the reason, stores nothing, and the run fails', async () => {
  const { h, store, outputs } = setup({ artifactBytes: 1024 });
  try {
    const spec = makeSpec([shell('build', 'head -c 4096 /dev/zero > big.bin', { artifacts: { paths: ['*.bin'] } }), shell('after', 'true')]);
    const { outcome, reporter, stepLog } = await runWith(h, spec, { outputs });
    assert.equal(outcome.status, 'failed');
    assert.deepEqual(Object.values(reporter.finalStatuses()), ['failed', 'skipped']);
    assert.match(reporter.finished(spec.steps[0]!.stepId)!.message!, /its artifact could not be stored: artifact "build" holds 4 KiB, over its limit of 1 KiB/);
    assert.match(await stepLog(0), /error: artifact "build" holds 4 KiB/);
    assert.equal(outputs.artifacts[0]!.error !== null, true);
    assert.deepEqual(await keys(store), []);
  } finally {
    h.cleanup();
  }
});

test("the run's limit counts every artifact: the second one over what is left fails, saying so", async () => {
  const { h, outputs } = setup({ artifactBytes: 3000, runArtifactBytes: 4000 });
  try {
    const spec = makeSpec([
      shell('a', 'head -c 2500 /dev/zero > a.bin', { artifacts: { paths: ['a.bin'] } }),
      shell('b', 'head -c 2500 /dev/zero > b.bin', { artifacts: { paths: ['b.bin'] } }),
    ]);
    const { outcome, reporter } = await runWith(h, spec, { outputs });
    assert.equal(outcome.status, 'failed');
    assert.match(reporter.finished(spec.steps[1]!.stepId)!.message!, /run's artifacts may hold 3\.9 KiB in all; 1\.5 KiB was left/);
  } finally {
    h.cleanup();
  }
});

test('artifacts `when`: on_failure stores after a failure only; a failed step keeps its own message', async () => {
  const { h, outputs } = setup();
  try {
    const spec = makeSpec([
      shell('ok', 'echo r > report.txt', { artifacts: { name: 'never', paths: ['report.txt'], when: 'on_failure' } }),
      shell('bad', 'echo r > report2.txt; exit 3', { artifacts: { name: 'report', paths: ['report2.txt'], when: 'on_failure' } }),
    ]);
    const { outcome, reporter } = await runWith(h, spec, { outputs });
    assert.equal(outcome.status, 'failed');
    assert.deepEqual(
      outputs.artifacts.map((a) => [a.name, a.files.length]),
      [['report', 1]],
    );
    assert.equal(reporter.finished(spec.steps[1]!.stepId)!.exitCode, 3);
  } finally {
    h.cleanup();
  }
});

test('a cache is saved after a miss and restored by the next run; restore keys take the newest prefix match', async () => {
  const { h, outputs } = setup();
  try {
    const step = (command: string) =>
      shell('deps', command, { cache: { key: "deps-{{ hashFiles('lock') }}", paths: ['node_modules'], restore_keys: ['deps-'] } });
    const first = makeSpec([
      shell('lock', 'echo v1 > lock'),
      step('test -d node_modules && exit 9; mkdir -p node_modules/.bin && echo one > node_modules/m.js && ln -s ../m.js node_modules/.bin/m'),
    ]);
    const r1 = await runWith(h, first, { outputs });
    assert.equal(r1.outcome.status, 'success', await r1.stepLog(1));
    assert.equal(outputs.caches.length, 1);
    assert.match(outputs.caches[0]!.key, /^deps-[0-9a-f]{64}$/);
    assert.match(await r1.stepLog(1), /cache: no entry for key deps-.*\n.*cache: saved key deps-/s);

    // Same lock file: exact hit, nothing saved again; the link comes back as a link.
    const second = makeSpec([shell('lock', 'echo v1 > lock'), step('cat node_modules/m.js; readlink node_modules/.bin/m')]);
    const r2 = await runWith(h, second, { outputs });
    assert.equal(r2.outcome.status, 'success');
    assert.match(await r2.stepLog(1), /cache: restored key deps-.*\none\n\.\.\/m\.js\n/s);
    assert.equal(outputs.caches.length, 1);

    // A changed lock file: the restore key finds the old entry; a new one is saved under the new key.
    const third = makeSpec([shell('lock', 'echo v2 > lock'), step('cat node_modules/m.js')]);
    const r3 = await runWith(h, third, { outputs });
    assert.match(await r3.stepLog(1), /cache: restored from restore key match deps-.*\none\n.*cache: saved key deps-/s);
    assert.equal(outputs.caches.length, 2);
    assert.deepEqual(
      outputs.lookups.map((l) => [l.restored !== null, l.exact]),
      [
        [false, false],
        [true, true],
        [true, false],
      ],
    );
  } finally {
    h.cleanup();
  }
});

test("a pull request's run reads the default branch's cache but writes only its own scope", async () => {
  const { h, outputs } = setup();
  try {
    const cache = { key: 'deps-v1', paths: ['deps'] };
    await runWith(h, makeSpec([shell('s', 'mkdir deps && echo main > deps/x', { cache })]), { outputs });
    const pr = outputs.withScopes({ write: 'pr-7', read: ['pr-7', 'branch-main'] });
    // The pull request changes the cached files under the same key: an exact hit from main, so nothing is written anywhere.
    const r = await runWith(h, makeSpec([shell('s', 'cat deps/x; echo pr > deps/x', { cache })]), { outputs: pr });
    assert.match(await r.stepLog(0), /restored key deps-v1 \(branch main/);
    assert.equal(outputs.caches.length, 1);
    // With a new key it saves, into its own scope only.
    await runWith(h, makeSpec([shell('s', 'mkdir -p deps; echo pr > deps/x', { cache: { key: 'deps-v2', paths: ['deps'] } })]), { outputs: pr });
    assert.deepEqual(
      outputs.caches.map((c) => [c.scope, c.key]),
      [
        ['branch-main', 'deps-v1'],
        ['pr-7', 'deps-v2'],
      ],
    );
  } finally {
    h.cleanup();
  }
});

test('a store that fails makes a cache a warning, never the step’s failure', async () => {
  const { h, outputs } = setup();
  try {
    // A store whose folder is a file: every put fails.
    writeFileSync(join(h.root, 'not-a-folder'), '');
    const broken = new RecordedOutputs(new FsArtifactStore(join(h.root, 'not-a-folder', 'store')), outputs.cacheScopes, outputs.limits);
    const r = await runWith(h, makeSpec([shell('s', 'mkdir deps && echo x > deps/x', { cache: { key: 'k', paths: ['deps'] } })]), { outputs: broken });
    assert.equal(r.outcome.status, 'success');
    assert.match(await r.stepLog(0), /cache: not saved: storing caches\/7\/.* failed/);
  } finally {
    h.cleanup();
  }
});

test('snapshots are taken after steps a later step needs, and a retry restores one and runs only the rest', async () => {
  const { h, store, outputs } = setup();
  try {
    const original = makeSpec([
      shell('one', 'echo 1 > one.txt; echo 1 >> ran.log'),
      shell('two', 'echo 2 > two.txt; echo 2 >> ran.log'),
      shell('three', 'cat one.txt two.txt; exit 1'),
    ]);
    const r1 = await runWith(h, original, { outputs });
    assert.equal(r1.outcome.status, 'failed');
    assert.deepEqual(
      outputs.snapshots.map((s) => s.stepId),
      [original.steps[0]!.stepId, original.steps[1]!.stepId],
      'the last step has no dependents: no snapshot',
    );
    const snapshotKey = outputs.snapshots[1]!.objectKey;
    assert.ok((await keys(store, `runs/${original.runId}/`)).includes(snapshotKey));

    // The retry: one and two reused (not run again), three runs in the workspace as two left it.
    const retry = makeSpec([shell('one', 'echo BAD >> ran.log'), shell('two', 'echo BAD >> ran.log'), shell('three', 'cat one.txt two.txt ran.log')]);
    retry.reuse = { stepIds: [retry.steps[0]!.stepId, retry.steps[1]!.stepId], snapshotKey };
    const r2 = await runWith(h, retry, { outputs });
    assert.equal(r2.outcome.status, 'success');
    assert.equal(await r2.stepLog(2), '1\n2\n1\n2\n');
    assert.equal(r2.reporter.events.filter((e) => e.kind === 'stepStarted').length, 1, 'only the third step started');
    const workspace = (r2.reporter.events[0] as { workspace: string }).workspace;
    assert.equal(readFileSync(join(workspace, 'ran.log'), 'utf8'), '1\n2\n');
  } finally {
    h.cleanup();
  }
});

test('a snapshot is stored while the next step runs, the step log closed at its end; the run ends once it is stored', async () => {
  const { h, outputs } = setup();
  try {
    const spec = makeSpec([shell('one', 'echo 1 > one.txt; echo one-last-line'), shell('two', 'echo two-first-line; touch two-ran'), shell('three', 'true')]);
    const workspace = join(h.root, 'workspaces', `run-${spec.runId}`);
    const seen: string[] = [];
    let stepTwoLogWhileHeld = '';
    const put = outputs.store.put.bind(outputs.store);
    outputs.store.put = async (key, body, options) => {
      if (key.endsWith(`s${spec.steps[0]!.stepId}.tgz`)) {
        // Held until step two has run: were the upload on the path between the steps, this would wait it out and fail below.
        for (let i = 0; i < 2400 && !existsSync(join(workspace, 'two-ran')); i++) await new Promise((r) => setTimeout(r, 50));
        seen.push(existsSync(join(workspace, 'two-ran')) ? 'two ran before one was stored' : 'two had not run');
        stepTwoLogWhileHeld = (await h.logs.read({ runId: spec.runId, stepId: null, offset: 0 })).data.toString('utf8');
      }
      return put(key, body, options);
    };
    const r = await runWith(h, spec, { outputs });
    assert.equal(r.outcome.status, 'success');
    assert.deepEqual(seen, ['two ran before one was stored']);
    // Step one's log was closed at its end, before step two began: its last line is in the run log before two's first.
    assert.match(stepTwoLogWhileHeld, /one-last-line\n[\s\S]*two-first-line/);
    assert.deepEqual(
      outputs.snapshots.map((s) => s.stepId).sort(),
      [spec.steps[0]!.stepId, spec.steps[1]!.stepId].sort(),
      'both snapshots are recorded before the run ends',
    );
    assert.deepEqual(outputs.snapshotFailures, []);
    assert.deepEqual(
      readdirSync(join(h.root, 'workspaces')).filter((name) => name.startsWith('.snapshot-')),
      [],
      'the staged copies are gone',
    );
  } finally {
    h.cleanup();
  }
});

test("a snapshot that fails to be stored after its step ended is a line in the step's and the run's log and on the step's record; the run still succeeds", async () => {
  const { h, outputs } = setup();
  try {
    const spec = makeSpec([shell('one', 'echo 1 > one.txt'), shell('two', 'echo 2 > two.txt; echo two-last-line'), shell('three', 'echo three-output')]);
    const put = outputs.store.put.bind(outputs.store);
    outputs.store.put = async (key, body, options) => {
      if (key.endsWith(`s${spec.steps[1]!.stepId}.tgz`)) {
        body.resume();
        throw new Error('the store is down');
      }
      return put(key, body, options);
    };
    const r = await runWith(h, spec, { outputs });
    assert.equal(r.outcome.status, 'success');
    assert.deepEqual(Object.values(r.reporter.finalStatuses()), ['success', 'success', 'success']);
    assert.deepEqual(
      outputs.snapshots.map((s) => s.stepId),
      [spec.steps[0]!.stepId],
      "one's snapshot is recorded; two's failed",
    );
    assert.equal(outputs.snapshotFailures.length, 1, 'recorded before the run ended');
    assert.equal(outputs.snapshotFailures[0]!.stepId, spec.steps[1]!.stepId);
    assert.match(outputs.snapshotFailures[0]!.message, /snapshot: not taken \(a retry from a later step will not be offered\): .*the store is down/);
    // Appended after the step's own last line, once its log had closed.
    assert.match(await r.stepLog(1), /two-last-line\n(?:.*\n)*snapshot: not taken \(a retry from a later step will not be offered\): .*the store is down\n$/);
    // In the run log: under no new header (step three's lines may follow), prefixed with its step's name.
    const runLog = await r.runLog();
    assert.match(runLog, /==> two\n[\s\S]*two-last-line\n[\s\S]*\[two\] snapshot: not taken .*the store is down\n/);
    assert.equal(runLog.match(/^==> two$/gm)?.length, 1);
    assert.match(runLog, /==> three\n/);
    assert.deepEqual(
      readdirSync(join(h.root, 'workspaces')).filter((name) => name.startsWith('.snapshot-')),
      [],
      'the staged copies are gone',
    );
  } finally {
    h.cleanup();
  }
});

test('a retry whose snapshot is gone ends `error` saying so, and runs nothing', async () => {
  const { h, outputs } = setup();
  try {
    const retry = makeSpec([shell('one', 'true'), shell('two', 'touch ran')]);
    retry.reuse = { stepIds: [retry.steps[0]!.stepId], snapshotKey: 'runs/1/snapshots/s1.tgz' };
    const r = await runWith(h, retry, { outputs });
    assert.equal(r.outcome.status, 'error');
    assert.match(r.outcome.reason!, /workspace snapshot could not be restored .*runs\/1\/snapshots\/s1\.tgz is not in/);
    assert.equal(r.reporter.finalStatuses()[retry.steps[1]!.stepId], 'skipped');
    assert.equal(existsSync(join((r.reporter.events[0] as { workspace: string }).workspace, 'ran')), false);
  } finally {
    h.cleanup();
  }
});

test('a workspace over the snapshot limit is not snapshotted, and the log says a retry will not be offered', async () => {
  const { h, outputs } = setup({ snapshotBytes: 100 });
  try {
    const r = await runWith(h, makeSpec([shell('one', 'head -c 500 /dev/zero > f'), shell('two', 'true')]), { outputs });
    assert.equal(r.outcome.status, 'success');
    assert.deepEqual(outputs.snapshots, []);
    assert.match(await r.stepLog(0), /snapshot: the workspace holds 500 bytes, over the snapshot limit of 100 bytes/);
  } finally {
    h.cleanup();
  }
});

test("a step's from: puts the other pipeline's artifacts into the workspace before it; none fails it before it runs", async () => {
  const { h, outputs } = setup();
  try {
    const source = join(h.root, 'source');
    mkdirSync(join(source, 'dist', 'sub'), { recursive: true });
    writeFileSync(join(source, 'dist', 'app.txt'), 'from the producer\n');
    writeFileSync(join(source, 'dist', 'sub', 'b.txt'), 'b\n');
    const asked: unknown[] = [];
    outputs.taken = async (from) => {
      asked.push(from);
      return {
        run: { id: 9, number: 4, pipeline: 'producer', branch: 'main' },
        artifacts: ['dist'],
        files: 2,
        bytes: 20,
        archive: tar.create({ gzip: true, cwd: source, portable: true }, ['dist']) as unknown as Readable,
      };
    };
    const spec = makeSpec([shell('deploy', 'cat dist/app.txt dist/sub/b.txt', { from: { pipeline: 'producer', branch: 'main' } })]);
    const { outcome, stepLog } = await runWith(h, spec, { outputs });
    assert.equal(outcome.status, 'success', await stepLog(0));
    assert.deepEqual(asked, [{ pipeline: 'producer', branch: 'main' }]);
    assert.match(await stepLog(0), /from: 2 files \(20 bytes\) of "dist" from run #4 of "producer" on branch "main"\nfrom the producer\nb\n/);

    outputs.taken = null;
    const none = makeSpec([shell('deploy', 'echo SHOULD-NOT-RUN', { from: { pipeline: 7 } }), shell('after', 'true')]);
    const refused = await runWith(h, none, { outputs });
    assert.equal(refused.outcome.status, 'failed');
    assert.deepEqual(Object.values(refused.reporter.finalStatuses()), ['failed', 'skipped']);
    assert.equal(refused.reporter.finished(none.steps[0]!.stepId)!.message, 'from: no artifacts of pipeline 7: it has no successful run');
    assert.doesNotMatch(await refused.stepLog(0), /SHOULD-NOT-RUN/);
  } finally {
    h.cleanup();
  }
});
