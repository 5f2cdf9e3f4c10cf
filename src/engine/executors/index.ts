/**
 * The built-in executors. `jenkins_job` lives with the Jenkins client; the worker appends it:
 *   executors: [...createDefaultExecutors(options), jenkinsExecutor]
 */
import type { EngineOptions, StepExecutor } from '../ports.js';
import { ShellCommandExecutor } from './shell-command.js';
import { GitCheckoutExecutor } from './git-checkout.js';
import { AnsiblePlaybookExecutor } from './ansible-playbook.js';

export function createDefaultExecutors(options: Pick<EngineOptions, 'shell' | 'cancelGraceMs' | 'allowLocalRepositories'>): StepExecutor[] {
  return [
    new ShellCommandExecutor({ shell: options.shell, cancelGraceMs: options.cancelGraceMs }),
    new GitCheckoutExecutor({ cancelGraceMs: options.cancelGraceMs, allowLocalRepositories: options.allowLocalRepositories }),
    new AnsiblePlaybookExecutor({ cancelGraceMs: options.cancelGraceMs }),
  ];
}
