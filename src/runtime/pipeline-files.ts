/**
 * What a worker needs for pipelines as code: the repository mirrors under the data folder (for
 * reading pipeline files and for git_checkout) and the reader that plans a run from its file.
 */
import { join } from 'node:path';
import type { AppContext } from './context.js';
import { RepositoryMirrors } from '../engine/mirror/repository-mirrors.js';
import { launcherCommands } from '../engine/launch/run-command.js';
import type { SpawnerLauncher } from '../engine/launch/spawner-launcher.js';
import { launcherLongLived } from '../engine/launch/long-lived-command.js';
import { parsePipelineFile } from '../domain/pipeline-file/parse-pipeline-file.js';
import { planFromFile } from '../services/runs/plan-from-file.js';
import type { Run } from '../store/runs-repository.js';

export const mirrorsRoot = (dataDir: string) => join(dataDir, 'mirrors');

/**
 * The worker's mirrors. `host`: the launcher of the host's spawner (unsandboxed), which starts the
 * mirrors' git (and their long-lived readers) so that the server never forks itself for them
 * (run-command.ts says why).
 */
export function repositoryMirrors(ctx: AppContext, host: SpawnerLauncher): RepositoryMirrors {
  const policy = { allowLocal: ctx.config.allowLocalRepositories, allowMetadataAddresses: ctx.config.allowMetadataAddresses };
  return new RepositoryMirrors({ root: mirrorsRoot(ctx.config.dataDir), policy, commands: launcherCommands(host), readers: launcherLongLived(host) });
}

export function pipelineFileReader(ctx: AppContext, mirrors: RepositoryMirrors) {
  const policy = { allowLocal: ctx.config.allowLocalRepositories, allowMetadataAddresses: ctx.config.allowMetadataAddresses };
  return {
    plan: (run: Run, signal: AbortSignal) => planFromFile({ mirrors, planner: parsePipelineFile, policy, credentials: ctx.repos.credentials }, run, signal),
  };
}
