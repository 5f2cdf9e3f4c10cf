/**
 * The outbox with several senders over one database (as with several API processes): every
 * status reaches the stand-in forge exactly once and in order per commit; a run skipped by its
 * pipeline file's `when` reports success "skipped: no matching changes". SQLite always,
 * PostgreSQL when reachable (test/support/postgres.ts says so loudly otherwise).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../runtime/logger.js';
import { createContext, type AppContext } from '../../runtime/context.js';
import { CommitStatusOutbox } from './commit-status-outbox.js';
import { startFakeForge, type FakeForge } from '../../../test/support/fake-forge.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';
import { waitFor } from '../../../test/support/wait.js';
import type { RunStatus } from '../../domain/status.js';

const TOKEN = 'ghp_outbox_test_token';

async function withContext(databaseUrl: string | null, work: (ctx: AppContext, forge: FakeForge) => Promise<void>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'ansflow-outbox-'));
  const forge = await startFakeForge({ github: [TOKEN], gitlab: [] });
  const config = loadConfig({ NODE_ENV: 'test', ANSFLOW_DATA_DIR: dataDir, ...(databaseUrl ? { ANSFLOW_DATABASE_URL: databaseUrl } : {}) });
  const ctx = await createContext(config, createLogger('silent'));
  try {
    await work(ctx, forge);
  } finally {
    await ctx.close();
    await forge.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const outbox = (ctx: AppContext, forge: FakeForge) =>
  new CommitStatusOutbox({
    statuses: ctx.repos.commitStatuses,
    credentials: ctx.repos.credentials,
    events: ctx.events,
    logger: ctx.logger,
    settings: { publicUrl: 'https://ci.example.com', githubApiUrl: `${forge.url}/api/v3`, githubToken: TOKEN, gitlabApiUrl: null, gitlabToken: null },
    timing: { pollMs: 20, sweepMs: 50, retryBaseMs: 50 },
  });

async function scenario(ctx: AppContext, forge: FakeForge) {
  const admin = { id: 1, username: 'admin', role: 'admin' as const };
  await ctx.users.ensureAdmin('admin123');
  const pipeline = await ctx.pipelines.create(admin, { name: 'p', repository_url: 'https://github.com/acme/app', steps: [] });
  const senders = [outbox(ctx, forge), outbox(ctx, forge), outbox(ctx, forge)];
  for (const s of senders) s.start();
  try {
    const commits: string[] = [];
    const runIds: number[] = [];
    for (let i = 0; i < 12; i++) {
      const commit = randomBytes(20).toString('hex');
      commits.push(commit);
      const run = await ctx.runs.trigger(null, {
        pipelineId: pipeline.id,
        commit,
        trigger: { type: 'webhook', provider: 'github', event: 'push', ref: 'refs/heads/main', delivery_id: `d-${i}` },
      });
      runIds.push(run.id);
    }
    // Nothing executes these runs (no worker): their states are written here, as a worker would.
    const at = () => new Date().toISOString();
    for (const [i, id] of runIds.entries()) {
      await ctx.repos.runs.markRunning(id, at());
      ctx.events.publish({ type: 'run_status', runId: id, pipelineId: pipeline.id, status: 'running', progress: 0, currentStep: null, at: at() });
      const final: RunStatus = i % 3 === 0 ? 'failed' : 'success';
      // Every fourth run is skipped by its file's `when` (issue 11b settles such runs this way).
      await ctx.repos.runs.finish(id, final, at(), i % 4 === 1 ? 'skipped: branch "main" is not in when.branch' : null);
      ctx.events.publish({ type: 'run_status', runId: id, pipelineId: pipeline.id, status: final, progress: 100, currentStep: null, at: at() });
    }
    await waitFor(async () => commits.every((c) => ['success', 'failure'].includes(forge.statusesOf(c).at(-1)?.state ?? '')), 20000, 'every final status');
    assert.deepEqual(forge.violations, []);
    // The forge has answered; the senders record the answers right after.
    await waitFor(async () => {
      for (const id of runIds) if ((await ctx.repos.commitStatuses.forRun(id)).some((r) => r.outcome === 'pending')) return false;
      return true;
    });
    for (const [i, commit] of commits.entries()) {
      const got = forge.statusesOf(commit);
      const states = got.map((s) => s.state);
      // Exactly one final state, last; before it only pendings, each rank at most once.
      assert.ok(states.length <= 3, `${commit}: ${states.join(',')}`);
      assert.deepEqual(states.slice(0, -1), Array(states.length - 1).fill('pending'), states.join(','));
      assert.equal(got.at(-1)!.state, i % 3 === 0 ? 'failure' : 'success');
      if (i % 4 === 1 && i % 3 !== 0) assert.equal(got.at(-1)!.description, 'skipped: no matching changes');
      assert.equal(got.at(-1)!.context, 'ansflow/p');
      assert.equal(got.at(-1)!.target_url, `https://ci.example.com/runs/${runIds[i]}`);
      const rows = await ctx.repos.commitStatuses.forRun(runIds[i]!);
      const delivered = rows.filter((r) => r.outcome === 'delivered').map((r) => r.state);
      assert.deepEqual(delivered, states, 'each delivered row reached the forge once, and nothing else did');
    }
  } finally {
    await Promise.all(senders.map((s) => s.stop()));
  }
}

test('statuses written while the forge is down survive a restart and are sent by the next process', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ansflow-outbox-restart-'));
  const forge = await startFakeForge({ github: [TOKEN], gitlab: [] });
  const config = loadConfig({ NODE_ENV: 'test', ANSFLOW_DATA_DIR: dataDir });
  const commit = randomBytes(20).toString('hex');
  try {
    forge.down();
    const first = await createContext(config, createLogger('silent'));
    await first.users.ensureAdmin('admin123');
    const admin = { id: 1, username: 'admin', role: 'admin' as const };
    const pipeline = await first.pipelines.create(admin, { name: 'restart', repository_url: 'https://github.com/acme/app', steps: [] });
    const sender = outbox(first, forge);
    sender.start();
    const run = await first.runs.trigger(null, {
      pipelineId: pipeline.id,
      commit,
      trigger: { type: 'webhook', provider: 'github', event: 'push', ref: 'refs/heads/main' },
    });
    await first.repos.runs.finish(run.id, 'success', new Date().toISOString(), null);
    first.events.publish({
      type: 'run_status',
      runId: run.id,
      pipelineId: pipeline.id,
      status: 'success',
      progress: 100,
      currentStep: null,
      at: new Date().toISOString(),
    });
    await waitFor(async () => (await first.repos.commitStatuses.forRun(run.id)).some((r) => r.state === 'success' && r.attempts > 0), 10000);
    await sender.stop();
    await first.close();
    assert.equal(forge.statuses.length, 0);

    // The next life of the process: the forge is back.
    forge.up();
    const second = await createContext(config, createLogger('silent'));
    const next = outbox(second, forge);
    next.start();
    try {
      const got = await waitFor(
        async () => ((s) => (s.at(-1)?.state === 'success' ? s : undefined))(forge.statusesOf(commit)),
        15000,
        'the status after the restart',
      );
      assert.deepEqual(
        got.map((s) => s.state),
        ['success'],
        'the queued state, superseded while the forge was down, was never sent',
      );
    } finally {
      await next.stop();
      await second.close();
    }
  } finally {
    await forge.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("a step's progress wakes no pass: the run is read once per status it takes", () =>
  withContext(null, async (ctx, forge) => {
    const admin = { id: 1, username: 'admin', role: 'admin' as const };
    await ctx.users.ensureAdmin('admin123');
    const pipeline = await ctx.pipelines.create(admin, { name: 'p', repository_url: 'https://github.com/acme/app', steps: [] });
    const commit = randomBytes(20).toString('hex');
    const run = await ctx.runs.trigger(null, {
      pipelineId: pipeline.id,
      commit,
      trigger: { type: 'webhook', provider: 'github', event: 'push', ref: 'refs/heads/main', delivery_id: 'd-progress' },
    });
    // Every read of the run for its commit status, counted.
    const reads: number[] = [];
    const statuses = ctx.repos.commitStatuses;
    const counting = Object.create(statuses) as typeof statuses;
    counting.runForStatus = (id: number) => {
      reads.push(id);
      return statuses.runForStatus(id);
    };
    const sender = new CommitStatusOutbox({
      statuses: counting,
      credentials: ctx.repos.credentials,
      events: ctx.events,
      logger: ctx.logger,
      settings: { publicUrl: 'https://ci.example.com', githubApiUrl: `${forge.url}/api/v3`, githubToken: TOKEN, gitlabApiUrl: null, gitlabToken: null },
      // No sweep after the first pass: only events lead to reads.
      timing: { pollMs: 20, sweepMs: 3_600_000, retryBaseMs: 50 },
    });
    sender.start();
    try {
      // The first pass (with its sweep) reads the queued run.
      await waitFor(async () => forge.statusesOf(commit).length === 1, 20000, 'the queued state');
      const before = reads.filter((id) => id === run.id).length;
      const at = () => new Date().toISOString();
      const status = (s: RunStatus, progress: number) =>
        ctx.events.publish({ type: 'run_status', runId: run.id, pipelineId: pipeline.id, status: s, progress, currentStep: null, at: at() });
      await ctx.repos.runs.markRunning(run.id, at());
      status('running', 0);
      // Ten steps starting and ending, each event apart from the last so that each could have its own pass.
      for (let i = 1; i <= 20; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        status('running', i * 4);
      }
      await ctx.repos.runs.finish(run.id, 'success', at(), null);
      status('success', 100);
      await waitFor(async () => forge.statusesOf(commit).at(-1)?.state === 'success', 20000, 'the final state');
      // running and success: two reads (a pass per step event made 20 more).
      assert.ok(reads.filter((id) => id === run.id).length - before <= 2, `reads: ${reads.filter((id) => id === run.id).length - before}`);
      assert.deepEqual(
        forge.statusesOf(commit).map((s) => s.state),
        ['pending', 'pending', 'success'],
      );
    } finally {
      await sender.stop();
    }
  }));

describe('commit status outbox with several senders', () => {
  const databases: TestDatabase[] = [];
  after(async () => {
    for (const db of databases) await db.drop();
  });

  test('SQLite: each status once, in order; skipped runs report success', () => withContext(null, scenario));

  test('PostgreSQL: the same', async (t) => {
    const db = await createTestDatabase();
    if (!db) return t.skip('PostgreSQL is unreachable (see the warning above)');
    databases.push(db);
    await withContext(db.url, scenario);
  });
});

test("a run no forge started: its first event's pass reads it, its later events wake no pass (none would write a status)", () =>
  withContext(null, async (ctx, forge) => {
    const admin = { id: 1, username: 'admin', role: 'admin' as const };
    await ctx.users.ensureAdmin('admin123');
    const pipeline = await ctx.pipelines.create(admin, { name: 'p', repository_url: 'https://github.com/acme/app', steps: [] });
    // The reads of runs' states counted (each pass reads every run it heard of).
    const statuses = Object.create(ctx.repos.commitStatuses) as typeof ctx.repos.commitStatuses;
    const reads: number[] = [];
    statuses.runForStatus = (runId) => {
      reads.push(runId);
      return ctx.repos.commitStatuses.runForStatus(runId);
    };
    const sender = new CommitStatusOutbox({
      statuses,
      credentials: ctx.repos.credentials,
      events: ctx.events,
      logger: ctx.logger,
      settings: { publicUrl: 'https://ci.example.com', githubApiUrl: `${forge.url}/api/v3`, githubToken: TOKEN, gitlabApiUrl: null, gitlabToken: null },
      timing: { pollMs: 60_000, sweepMs: 600_000 },
    });
    sender.start();
    try {
      const at = () => new Date().toISOString();
      const publish = (runId: number, status: RunStatus) =>
        ctx.events.publish({ type: 'run_status', runId, pipelineId: pipeline.id, status, progress: 0, currentStep: null, at: at() });
      // trigger() publishes `queued`: the pass reads the run and finds it manual.
      const manual = await ctx.runs.trigger(admin, { pipelineId: pipeline.id, trigger: { type: 'manual', user: { id: 1, username: 'admin' } } });
      await waitFor(async () => reads.includes(manual.id), 5000, 'the manual run read once');
      // A forge's run beside it is read at each of its states, as before.
      const pushed = await ctx.runs.trigger(null, {
        pipelineId: pipeline.id,
        commit: randomBytes(20).toString('hex'),
        trigger: { type: 'webhook', provider: 'github', event: 'push', ref: 'refs/heads/main', delivery_id: 'd-never' },
      });
      await waitFor(async () => reads.includes(pushed.id), 5000, 'the pushed run read');
      const readsOf = (runId: number) => reads.filter((id) => id === runId).length;
      for (const status of ['running', 'success'] as const) {
        const before = readsOf(pushed.id);
        publish(manual.id, status);
        publish(pushed.id, status);
        // The pass that took these events has read the pushed run again (and would have read the manual one).
        await waitFor(async () => readsOf(pushed.id) > before, 5000, 'the pushed run read again');
      }
      assert.equal(reads.filter((id) => id === manual.id).length, 1, 'the manual run read at its first event only');
    } finally {
      await sender.stop();
    }
  }));
