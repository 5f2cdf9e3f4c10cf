/**
 * Commit statuses on GitHub and GitLab, driven by run events and sent from an outbox. The engine
 * knows nothing of it: this listens to the event bus's run status events (all runs), and for a
 * run started by a GitHub or GitLab delivery writes the status of its current state
 * (record-run-status.ts) into `commit_statuses`. A background loop then sends due rows, one
 * process per row (a claim with a lease), retrying with backoff while the forge is down or
 * rate-limits, honouring its Retry-After / X-RateLimit-Reset. Nothing here blocks or fails a run.
 *
 * Events can be lost (the bus drops rather than blocks; a process may be down when a run
 * changes), so the loop also looks for recent webhook runs whose current state has no row yet.
 *
 * Loop, each tick: write the states of runs heard of → (every `sweepMs`) write missed ones →
 * supersede unsent rows that a later state of their run overtook → claim and send due rows.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { EventBus, Unsubscribe } from '../../events/event-bus.js';
import type { CommitStatus, CommitStatusesRepository } from '../../store/commit-statuses-repository.js';
import type { CredentialsRepository } from '../../store/credentials-repository.js';
import { sendCommitStatus, type SendResult } from '../../integrations/forge/send-commit-status.js';
import { recordRunStatus, type ForgeSettings } from './record-run-status.js';
import { resolveForgeToken } from './forge-token.js';
import { coerceError } from '../../domain/errors.js';
import { PassLoop } from '../outbox/pass-loop.js';
import { isFinalRunStatus, type RunStatus } from '../../domain/status.js';

export interface OutboxTiming {
  /** How often due rows are looked for when nothing wakes the loop. */
  pollMs: number;
  /** How often recent runs are checked for states that have no row (lost events). */
  sweepMs: number;
  /** First retry delay; doubled per attempt up to `maxBackoffMs`. */
  retryBaseMs: number;
  maxBackoffMs: number;
  /** A status not delivered this long after it was written is given up (failed, with the last error). */
  giveUpAfterMs: number;
  /** How long a claim holds; a sender that died is taken over after it. */
  claimMs: number;
}

export const DEFAULT_OUTBOX_TIMING: OutboxTiming = {
  pollMs: 2000,
  sweepMs: 30_000,
  retryBaseMs: 2000,
  maxBackoffMs: 10 * 60 * 1000,
  giveUpAfterMs: 24 * 3600 * 1000,
  claimMs: 60_000,
};

/** Runs older than this are not looked at by the sweep for lost events. */
const SWEEP_WINDOW_MS = 24 * 3600 * 1000;
const BATCH = 20;
/** How many unfinished runs' last status the event filter keeps (see start()). */
const MAX_RUNS_REMEMBERED = 10_000;
/** Runs remembered as never having a commit status (a bound, not a cache size to tune). */
const NEVER_LIMIT = 10_000;

export interface OutboxDeps {
  statuses: CommitStatusesRepository;
  credentials: Pick<CredentialsRepository, 'open'>;
  events: EventBus;
  settings: ForgeSettings;
  logger: Logger;
  timing?: Partial<OutboxTiming>;
  /** The send function (the real HTTP client; benchmarks may pass another). */
  send?: typeof sendCommitStatus;
}

export class CommitStatusOutbox {
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly timing: OutboxTiming;
  private readonly heard = new Set<number>();
  /** The status last heard of each run not yet final: a step's progress does not change it. */
  private readonly lastStatus = new Map<number, RunStatus>();
  /**
   * Runs whose first event's pass found that no forge started them: their later events (running,
   * each step's start and end) wake no pass, whose reads would otherwise queue on the database
   * before the run's own writes, on the path to its first step and between its steps. Forgotten
   * at the run's final status (or all at once past NEVER_LIMIT: a final event lost, or heard before the pass that found it).
   */
  private readonly never = new Set<number>();
  private unsubscribe: Unsubscribe | null = null;
  private readonly loop: PassLoop;
  private lastSweep = 0;
  /**
   * API base URL → until when it said to wait (rate limit, Retry-After). A limit is the token's or
   * the host's, not one status's: the run's next state (which supersedes the one that was refused)
   * waits too, instead of running into the same limit at once.
   */
  private readonly waitFor = new Map<string, number>();

  constructor(private readonly deps: OutboxDeps) {
    this.timing = { ...DEFAULT_OUTBOX_TIMING, ...deps.timing };
    this.loop = new PassLoop(() => this.tick(), this.timing.pollMs);
  }

  start(): void {
    this.unsubscribe = this.deps.events.subscribeAll((event) => {
      if (this.never.has(event.runId)) {
        if (isFinalRunStatus(event.status)) this.never.delete(event.runId);
        return;
      }
      // A commit status is the run's status, and each step's start and end is an event of a run
      // whose status stays `running`: a pass per such event read the run and its definition and
      // queried the outbox twice, on the server's event loop, between one step's end and the
      // next one's start (bench/engine.ts). Lost events are still the sweep's.
      if (this.lastStatus.get(event.runId) === event.status) return;
      if (isFinalRunStatus(event.status)) this.lastStatus.delete(event.runId);
      else {
        // Runs whose end this process never hears of (it stopped meanwhile): forgotten in bulk.
        if (this.lastStatus.size >= MAX_RUNS_REMEMBERED) this.lastStatus.clear();
        this.lastStatus.set(event.runId, event.status);
      }
      this.heard.add(event.runId);
      this.wake();
    });
    this.loop.start();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.loop.stop();
  }

  /** Works the outbox now (or right after the pass in progress). */
  wake(): void {
    this.loop.wake();
  }

  /** One pass; every fault is logged and the next pass tries again. */
  async tick(): Promise<void> {
    try {
      const now = Date.now();
      const runIds = [...this.heard];
      this.heard.clear();
      if (now - this.lastSweep >= this.timing.sweepMs) {
        this.lastSweep = now;
        runIds.push(...(await this.deps.statuses.runsWithoutStatus(new Date(now - SWEEP_WINDOW_MS).toISOString(), 100)));
      }
      for (const runId of new Set(runIds)) {
        if ((await recordRunStatus(this.deps, runId, new Date().toISOString())) !== 'never') continue;
        if (this.never.size >= NEVER_LIMIT) this.never.clear();
        this.never.add(runId);
        this.lastStatus.delete(runId);
      }
      await this.deps.statuses.supersede(new Date().toISOString());
      const due = await this.deps.statuses.due(new Date().toISOString(), BATCH);
      const ready = due.filter((row) => (this.waitFor.get(row.api_url) ?? 0) <= Date.now());
      for (const row of due) if (!ready.includes(row)) this.loop.wakeAt(this.waitFor.get(row.api_url)!);
      await Promise.all(ready.map((row) => this.deliver(row)));
      // A full batch may mean more are due: go again at once.
      if (due.length === BATCH) this.loop.passAgain();
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'commit status outbox: a pass failed; the next one retries');
    }
  }

  private async deliver(row: CommitStatus): Promise<void> {
    const { statuses } = this.deps;
    const now = Date.now();
    if (!(await statuses.claim(row.id, this.owner, new Date(now).toISOString(), new Date(now + this.timing.claimMs).toISOString()))) return;
    const attempts = row.attempts + 1;
    let result: SendResult;
    try {
      const token = await resolveForgeToken(this.deps, row);
      if ('problem' in token) {
        await statuses.failed(row.id, this.owner, token.problem, null);
        return;
      }
      result = await (this.deps.send ?? sendCommitStatus)({
        forge: row.provider,
        apiUrl: row.api_url,
        repository: row.repository,
        sha: row.sha,
        token: token.token,
        state: row.state,
        targetUrl: row.target_url,
        description: row.description,
        context: row.context,
      });
    } catch (error) {
      result = { kind: 'retry', statusCode: null, error: `could not send: ${coerceError(error).message.slice(0, 200)}`, retryAt: null };
    }
    const at = Date.now();
    switch (result.kind) {
      case 'delivered':
        await statuses.delivered(row.id, this.owner, new Date(at).toISOString(), result.statusCode);
        return;
      case 'failed':
        await statuses.failed(row.id, this.owner, result.error, result.statusCode);
        return;
      case 'retry': {
        if (at - Date.parse(row.created_at) >= this.timing.giveUpAfterMs) {
          await statuses.failed(row.id, this.owner, `gave up after ${attempts} attempts; last: ${result.error}`, result.statusCode);
          return;
        }
        const next = result.retryAt ?? at + this.backoff(attempts);
        if (result.retryAt !== null) this.waitFor.set(row.api_url, Math.max(result.retryAt, this.waitFor.get(row.api_url) ?? 0));
        await statuses.retryLater(row.id, this.owner, new Date(next).toISOString(), `attempt ${attempts}: ${result.error}`, result.statusCode);
        this.loop.wakeAt(next);
        return;
      }
    }
  }

  /** Exponential backoff with ±20 % jitter, so several senders do not retry in step. */
  private backoff(attempts: number): number {
    const base = Math.min(this.timing.retryBaseMs * 2 ** Math.min(attempts - 1, 20), this.timing.maxBackoffMs);
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }
}
