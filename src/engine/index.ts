/**
 * The engine's public API: what a worker needs to execute runs. Everything else is internal.
 */
export type { AbortReason, EngineOptions, LogStore, RunOutcome, RunReporter, RunSpec, StepContext, StepExecutor, StepLogWriter, StepResult } from './ports.js';
export { executeRun, type ExecuteRunInput } from './execute-run.js';
export { createDefaultExecutors } from './executors/index.js';
export { planStages, type Stage } from './plan.js';
export { createWorkspace, removeWorkspace, sweepWorkspaces, resolveInside, workspacePaths, type Workspace } from './workspace.js';
export { SecretMasker, maskText, MIN_SECRET_LENGTH } from './masking.js';
export { LineLimiter, DEFAULT_MAX_LINE_BYTES } from './line-limit.js';
export { runProcess, type ProcessOptions, type ProcessResult, type RunProcessOptions } from './process.js';
export type { LaunchedProcess, LaunchRequest, ProcessExit, ProcessLauncher } from './launch/launcher.js';
export { SpawnerLauncher } from './launch/spawner-launcher.js';
export { FileLogStore, type FileLogStoreOptions, type LogChunkEvent } from '../logs/file-log-store.js';
