/**
 * The engine's ports: everything it needs from the outside world, and everything it reports.
 * The engine knows nothing of HTTP or SQL; services implement these with the store, the log
 * store and the event bus.
 *
 * Lifecycle of one run, as the worker drives it:
 *   1. the worker claims a queued run and builds a RunSpec from the run's snapshot;
 *   2. `executeRun` creates the workspace, plans the steps as a graph (each step's `needs`, or
 *      stages of consecutive steps with the same parallel_group), and runs each step once what it
 *      needs has ended, several at a time;
 *   3. for each step: reporter.stepStarted → executor.execute (streaming into the StepLog) →
 *      retries while allowed → reporter.stepFinished;
 *   4. a blocking failure marks the steps that need it `skipped` (unless their `when.status` says
 *      otherwise); cancel marks every step not started `cancelled`;
 *   5. `executeRun` resolves with the run's final status; it never rejects for a user's step.
 */
import type { FinalRunStatus, FinalStepStatus } from '../domain/status.js';
import type { StepDefinition, Variables } from '../domain/pipeline.js';
import type { ResolvedCredential } from '../domain/credentials.js';
import type { ResolvedInventory } from '../domain/inventories.js';
import type { AnsibleEvent } from '../domain/ansible-events.js';
import type { RunIsolation } from './launch/launcher.js';
import type { RepositoryMirrors } from './mirror/repository-mirrors.js';

export interface RunSpec {
  runId: number;
  number: number;
  pipelineId: number | null;
  pipelineName: string;
  branch: string;
  commit: string | null;
  /**
   * The pipeline's repository_url. The run's branch and commit apply to git_checkout steps that
   * clone this repository (other repositories use their step's own branch/commit). When absent,
   * they apply to every git_checkout step.
   */
  repositoryUrl?: string | null;
  /** Merged pipeline + run variables; secrets are masked in every log line. */
  variables: Variables;
  steps: Array<StepDefinition & { stepId: number }>;
  /**
   * The opened credentials the run's steps name, by name. A step receives only the one it names;
   * the values are masked in every log, whichever step prints them.
   */
  credentials?: Record<string, ResolvedCredential>;
  /** Why the run got no credentials (`pull request from a fork`): a step naming one fails saying so. */
  credentialsWithheld?: string;
  /**
   * The stored inventories the run's Ansible steps name (`inventory_name`), by name, as they were
   * when the run started; the credentials they name are in `credentials`.
   */
  inventories?: Record<string, ResolvedInventory>;
  /** A pull/merge request's run: its number and branches, as ANSFLOW_PR_* in every step. */
  pullRequest?: { number: number; sourceBranch: string; targetBranch: string };
  /**
   * A retry: the steps reused from the original run (not run again; their rows already say
   * `success`) and the snapshot of the original's workspace the rest starts from.
   */
  reuse?: { stepIds: number[]; snapshotKey: string | null };
}

/**
 * Why an AbortSignal fired. One signal per run carries cancel and shutdown alike; a step's
 * attempt signal also fires with `timeout` when the step's deadline passes.
 */
export type AbortReason = { kind: 'cancel' } | { kind: 'shutdown' } | { kind: 'timeout' };

export interface RunReporter {
  runStarted(e: { runId: number; at: Date; workspace: string }): Promise<void>;
  stepStarted(e: { runId: number; stepId: number; attempt: number; at: Date; pid?: number }): Promise<void>;
  stepFinished(e: {
    runId: number;
    stepId: number;
    status: FinalStepStatus;
    exitCode: number | null;
    attempts: number;
    at: Date;
    message?: string;
    /** The commit a git_checkout step checked out (the service may record it as the run's commit). */
    commit?: string;
  }): Promise<void>;
  /**
   * A step started a process group (its leader's pid). Recorded so that, should this process die
   * (kill -9), whoever recovers the run can kill the orphaned group.
   */
  processStarted?(e: { runId: number; stepId: number; pid: number }): void;
  /**
   * Structured results of an Ansible step (plays, tasks, per-host results, the recap), in order
   * and with secrets masked, as the playbook runs. Optional: a reporter without it drops them.
   */
  ansibleEvents?(e: { runId: number; stepId: number; events: AnsibleEvent[] }): Promise<void>;
  /** Steps that never ran: skipped after a failure, or cancelled. */
  stepsSettled(e: { runId: number; stepIds: number[]; status: 'skipped' | 'cancelled'; at: Date }): Promise<void>;
}

/** Appends one step's (already masked) output. Writes are buffered; close() flushes. */
export interface StepLogWriter {
  write(chunk: Buffer): void;
  close(): Promise<void>;
}

export interface LogStore {
  /**
   * `reopened`: the step has ended and this appends to its log (a failure found later, as its
   * snapshot's storing); in the run log its lines come without a new `==>` header, each prefixed
   * `[name] `, since other steps' lines may be going on there.
   */
  openStep(e: { runId: number; stepId: number; stepName: string; parallel: boolean; reopened?: boolean }): StepLogWriter;
  /** Bytes of one step's log (or of the whole run when stepId is null) from `offset`. */
  read(e: { runId: number; stepId: number | null; offset: number; limit?: number }): Promise<{ data: Buffer; nextOffset: number }>;
  size(e: { runId: number; stepId: number | null }): Promise<number>;
  removeRun(runId: number): Promise<void>;
}

export interface StepContext {
  runId: number;
  stepId: number;
  /** Absolute path of the run's workspace. */
  workspace: string;
  /** The step's environment: a clean base, the run's variables and ANSFLOW_* context. */
  env: Record<string, string>;
  /** Writes output into the step log (the engine masks secrets and cuts long lines). */
  output(chunk: Buffer | string): void;
  /** Fires on cancel, timeout or shutdown. */
  signal: AbortSignal;
  /** Executors call this with the pid of every process (group leader) they spawn. */
  processStarted(pid: number): void;
  /** Adds a value found while running (e.g. a token taken from a URL) to the step's masking. */
  addSecret(value: string): void;
  /** Hands on an Ansible step's structured events (the engine masks their messages). */
  reportEvents?(events: AnsibleEvent[]): Promise<void>;
  /**
   * Who files the platform writes for the step (credentials, helper scripts) must belong to, so
   * that the sandboxed step, which runs as an unprivileged user, can read them. Undefined when
   * steps run as the server's own user.
   */
  fileOwner?: FileOwner;
  /**
   * The credential this step names (`credential:`), already given to it as files and variables in
   * `env`; executors that use it themselves (git_checkout) read it here.
   */
  credential?: ResolvedCredential;
  spec: RunSpec;
}

export interface FileOwner {
  uid: number;
  gid: number;
}

export interface StepResult {
  status: 'success' | 'failed';
  exitCode: number | null;
  message?: string;
  /** Set by git_checkout: the commit now checked out. */
  commit?: string;
}

export interface StepExecutor {
  readonly type: string;
  execute(config: Record<string, unknown>, ctx: StepContext): Promise<StepResult>;
}

export interface EngineOptions {
  workspaceRoot: string;
  shell: string;
  cancelGraceMs: number;
  allowLocalRepositories: boolean;
  /** Let repository URLs name cloud metadata addresses (ANSFLOW_ALLOW_METADATA_ADDRESSES); refused when absent. */
  allowMetadataAddresses?: boolean;
  maxLineBytes: number;
  /** The user sandboxed steps run as, when it differs from the server's (see StepContext.fileOwner). */
  stepOwner?: FileOwner;
  /** Opens each run's sandbox; absent when steps run unisolated (ANSFLOW_SANDBOX=off). */
  isolation?: RunIsolation;
  /**
   * One bare mirror per repository (`<data>/mirrors`): git_checkout fetches into it and copies the
   * commit from it; a run's sandbox sees its checkouts' mirrors read-only. Absent: plain clones.
   */
  mirrors?: RepositoryMirrors;
  /** How many steps of one run may run at the same time (ANSFLOW_MAX_PARALLEL_STEPS). */
  maxParallelSteps?: number;
}

/** Steps of one run running at once when the operator does not say. */
export const DEFAULT_MAX_PARALLEL_STEPS = 8;

export interface RunOutcome {
  status: FinalRunStatus;
  reason?: string;
}
