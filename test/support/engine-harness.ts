/**
 * A harness for running the engine in tests: a reporter that records every event, a real
 * FileLogStore and workspace root in a temp folder, and helpers to build a RunSpec.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineOptions, RunReporter, RunSpec, StepExecutor } from '../../src/engine/ports.js';
import type { StepDefinition, Variables } from '../../src/domain/pipeline.js';
import { FileLogStore } from '../../src/logs/file-log-store.js';
import { executeRun } from '../../src/engine/execute-run.js';
import { createDefaultExecutors } from '../../src/engine/executors/index.js';
import { SpawnerLauncher } from '../../src/engine/launch/spawner-launcher.js';
import type { RunOutputs } from '../../src/engine/artifacts/run-outputs.js';

/**
 * One spawner for every engine test in a test file's process. It holds the process open only while
 * something runs, and exits with it.
 */
export const testLauncher = new SpawnerLauncher();

export type ReporterEvent =
  | ({ kind: 'runStarted' } & Parameters<RunReporter['runStarted']>[0])
  | ({ kind: 'stepStarted' } & Parameters<RunReporter['stepStarted']>[0])
  | ({ kind: 'stepFinished' } & Parameters<RunReporter['stepFinished']>[0])
  | ({ kind: 'stepsSettled' } & Parameters<RunReporter['stepsSettled']>[0]);

export class RecordingReporter implements RunReporter {
  readonly events: ReporterEvent[] = [];
  async runStarted(e: Parameters<RunReporter['runStarted']>[0]) {
    this.events.push({ kind: 'runStarted', ...e });
  }
  async stepStarted(e: Parameters<RunReporter['stepStarted']>[0]) {
    this.events.push({ kind: 'stepStarted', ...e });
  }
  async stepFinished(e: Parameters<RunReporter['stepFinished']>[0]) {
    this.events.push({ kind: 'stepFinished', ...e });
  }
  async stepsSettled(e: Parameters<RunReporter['stepsSettled']>[0]) {
    this.events.push({ kind: 'stepsSettled', ...e });
  }
  /** Final status of each step id, from stepFinished and stepsSettled. */
  finalStatuses(): Record<number, string> {
    const out: Record<number, string> = {};
    for (const e of this.events) {
      if (e.kind === 'stepFinished') out[e.stepId] = e.status;
      if (e.kind === 'stepsSettled') for (const id of e.stepIds) out[id] = e.status;
    }
    return out;
  }
  finished(stepId: number) {
    return this.events.find((e): e is Extract<ReporterEvent, { kind: 'stepFinished' }> => e.kind === 'stepFinished' && e.stepId === stepId);
  }
}

export interface EngineHarness {
  root: string;
  logs: FileLogStore;
  options: EngineOptions;
  cleanup(): void;
}

export function makeEngineHarness(overrides: Partial<EngineOptions> = {}): EngineHarness {
  const root = mkdtempSync(join(tmpdir(), 'ansflow-engine-'));
  return {
    root,
    logs: new FileLogStore({ root: join(root, 'logs') }),
    options: {
      workspaceRoot: join(root, 'workspaces'),
      shell: 'bash',
      cancelGraceMs: 500,
      allowLocalRepositories: true,
      maxLineBytes: 64 * 1024,
      ...overrides,
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

let nextRunId = 1000;

export function makeSpec(steps: StepDefinition[], extra: Partial<Omit<RunSpec, 'steps'>> & { variables?: Variables } = {}): RunSpec {
  const runId = extra.runId ?? nextRunId++;
  return {
    runId,
    number: 1,
    pipelineId: 7,
    pipelineName: 'demo',
    branch: 'main',
    commit: null,
    variables: {},
    ...extra,
    steps: steps.map((s, i) => ({ ...s, stepId: runId * 100 + i + 1 })),
  };
}

export const shell = (name: string, command: string, extra: Partial<StepDefinition> = {}, config: Record<string, unknown> = {}): StepDefinition => ({
  name,
  type: 'shell_command',
  config: { command, ...config },
  ...extra,
});

export async function runWith(
  h: EngineHarness,
  spec: RunSpec,
  opts: { signal?: AbortSignal; executors?: StepExecutor[]; reporter?: RecordingReporter; outputs?: RunOutputs } = {},
) {
  const reporter = opts.reporter ?? new RecordingReporter();
  const outcome = await executeRun({
    spec,
    executors: opts.executors ?? createDefaultExecutors(h.options, testLauncher),
    reporter,
    logs: h.logs,
    signal: opts.signal ?? new AbortController().signal,
    options: h.options,
    ...(opts.outputs && { outputs: opts.outputs }),
  });
  const stepLog = async (index: number) => (await h.logs.read({ runId: spec.runId, stepId: spec.steps[index]!.stepId, offset: 0 })).data.toString('utf8');
  const runLog = async () => (await h.logs.read({ runId: spec.runId, stepId: null, offset: 0 })).data.toString('utf8');
  return { outcome, reporter, stepLog, runLog };
}
