/**
 * The built-in executors. `jenkins_job` lives with the Jenkins client; the worker appends it:
 *   executors: [...createDefaultExecutors(options, launcher), jenkinsExecutor]
 */
import type { EngineOptions, StepExecutor } from '../ports.js';
import type { ProcessLauncher } from '../launch/launcher.js';
import { ShellCommandExecutor } from './shell-command.js';
import { GitCheckoutExecutor } from './git-checkout.js';
import { AnsiblePlaybookExecutor } from './ansible-playbook.js';

export function createDefaultExecutors(
  options: Pick<EngineOptions, 'shell' | 'cancelGraceMs' | 'allowLocalRepositories' | 'allowMetadataAddresses' | 'mirrors'>,
  launcher: ProcessLauncher,
): StepExecutor[] {
  const processes = { launcher, cancelGraceMs: options.cancelGraceMs };
  return [
    new ShellCommandExecutor({ ...processes, shell: options.shell }),
    new GitCheckoutExecutor({
      ...processes,
      allowLocalRepositories: options.allowLocalRepositories,
      allowMetadataAddresses: options.allowMetadataAddresses ?? false,
      mirrors: options.mirrors,
    }),
    new AnsiblePlaybookExecutor(processes),
  ];
}
