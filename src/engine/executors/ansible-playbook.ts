/**
 * `ansible_playbook`: `ansible-playbook` with an argv list, never a shell. Options take their
 * value in the same argument (`--limit=<value>`), so no value can be read as another option,
 * and the playbook comes after `--`.
 *
 * Ansible's own state (ANSIBLE_HOME, ANSIBLE_LOCAL_TEMP) goes under the run's HOME rather than
 * into the workspace, so it never pollutes the checkout (`git status`, later clones); both are
 * per run and removed with the workspace.
 */
import { join } from 'node:path';
import type { StepContext, StepExecutor, StepResult } from '../ports.js';
import { runStepProcess, describeExit, type ProcessOptions } from '../process.js';
import { exists, isFile, resolveInside } from '../workspace.js';
import { coerceError } from '../../domain/errors.js';
import { platformToolEnv } from '../platform-tool-env.js';

export interface AnsiblePlaybookConfig {
  playbook: string;
  inventory?: string;
  extra_vars?: Record<string, unknown>;
  limit?: string;
  tags?: string[];
  check_mode?: boolean;
}

export interface AnsibleExecutorOptions extends ProcessOptions {
  /** The ansible-playbook executable. */
  ansiblePlaybook?: string;
}

const TAG_PATTERN = /^[A-Za-z0-9_.-]+$/;

export class AnsiblePlaybookExecutor implements StepExecutor {
  readonly type = 'ansible_playbook';

  constructor(private readonly options: AnsibleExecutorOptions) {}

  async execute(raw: Record<string, unknown>, ctx: StepContext): Promise<StepResult> {
    const built = await buildAnsibleArgs(raw as Partial<AnsiblePlaybookConfig>, ctx.workspace);
    if ('problem' in built) return { status: 'failed', exitCode: null, message: built.problem };

    const home = ctx.env.HOME ?? ctx.workspace;
    // The user's proxy, GIT_* and SSH_* variables never reach the platform's ansible call.
    const env = {
      ...platformToolEnv(ctx.env),
      ANSIBLE_FORCE_COLOR: '0',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_HOST_KEY_CHECKING: 'False',
      ANSIBLE_HOME: join(home, '.ansible'),
      ANSIBLE_LOCAL_TEMP: join(home, '.ansible', 'tmp'),
      ANSIBLE_RETRY_FILES_ENABLED: 'False',
      // Python buffers stdout when it is a pipe; the log must stream as tasks run.
      PYTHONUNBUFFERED: '1',
    };
    const executable = this.options.ansiblePlaybook ?? 'ansible-playbook';
    ctx.output(`$ ${[executable, ...built.shown].join(' ')}\n`);
    const result = await runStepProcess(this.options, ctx, { argv: [executable, ...built.args], cwd: ctx.workspace, env });
    if (result.failure) throw new Error(`${executable}: ${result.failure.message}`);
    if (result.exitCode === 0) return { status: 'success', exitCode: 0 };
    return { status: 'failed', exitCode: result.exitCode, message: `ansible-playbook ${describeExit(result)}` };
  }
}

/** The argv after `ansible-playbook`, or why the config is refused. `shown` is for the log. */
export async function buildAnsibleArgs(
  config: Partial<AnsiblePlaybookConfig>,
  workspace: string,
): Promise<{ args: string[]; shown: string[] } | { problem: string }> {
  if (typeof config.playbook !== 'string' || config.playbook === '') return { problem: 'config.playbook must be a non-empty string' };
  let playbook: string;
  try {
    playbook = await resolveInside(workspace, config.playbook);
  } catch (thrown) {
    return { problem: `playbook refused: ${coerceError(thrown).message}` };
  }
  if (!(await isFile(playbook))) return { problem: `playbook "${config.playbook}" was not found in the workspace` };

  const args: string[] = [];
  const shown: string[] = [];
  const add = (arg: string) => {
    args.push(arg);
    shown.push(arg);
  };

  if (typeof config.inventory === 'string' && config.inventory !== '') {
    const inventory = config.inventory;
    if (inventory.startsWith('-')) return { problem: 'inventory must not start with "-"' };
    if (inventory.includes(',')) {
      add(`--inventory=${inventory}`); // a host list: "web1,web2" or "localhost,"
    } else {
      let path: string;
      try {
        path = await resolveInside(workspace, inventory);
      } catch (thrown) {
        return { problem: `inventory refused: ${coerceError(thrown).message}` };
      }
      if (!(await exists(path))) return { problem: `inventory "${inventory}" was not found in the workspace (a host list needs a comma, e.g. "host1,")` };
      add(`--inventory=${path}`);
    }
  }
  if (config.extra_vars !== undefined) {
    if (typeof config.extra_vars !== 'object' || config.extra_vars === null || Array.isArray(config.extra_vars))
      return { problem: 'extra_vars must be an object' };
    add(`--extra-vars=${JSON.stringify(config.extra_vars)}`);
  }
  if (typeof config.limit === 'string' && config.limit !== '') {
    if (config.limit.startsWith('-')) return { problem: 'limit must not start with "-"' };
    add(`--limit=${config.limit}`);
  }
  if (Array.isArray(config.tags) && config.tags.length > 0) {
    if (!config.tags.every((t) => typeof t === 'string' && TAG_PATTERN.test(t))) return { problem: 'tags must match [A-Za-z0-9_.-]+' };
    add(`--tags=${config.tags.join(',')}`);
  }
  if (config.check_mode === true) add('--check');
  args.push('--', playbook);
  shown.push('--', config.playbook);
  return { args, shown };
}
