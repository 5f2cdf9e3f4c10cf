/**
 * `ansible_playbook`: `ansible-playbook` with an argv list, never a shell. Options take their
 * value in the same argument (`--limit=<value>`), so no value can be read as another option,
 * and the playbook comes after `--`.
 *
 * The inventory is a stored one (`inventory_name`: RunSpec.inventories, with the credentials it
 * names), a file of the repository or a host list (`inventory`). Credentials (ssh key, become
 * password, vault passwords: the step's own, else the inventory's) reach Ansible as files in the
 * step's private folder (ansible/ansible-files.ts). The events callback plugin reports plays,
 * tasks and per-host results as they happen (ansible/event-tail.ts → StepContext.reportEvents);
 * Ansible's own output still makes the log.
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
import type { ResolvedCredential } from '../../domain/credentials.js';
import { isSecretVariable, maskVariables, type ResolvedInventory } from '../../domain/inventories.js';
import { credentialForStep } from '../credentials/run-credentials.js';
import { writeAnsibleFiles, type AnsibleConnection } from './ansible/ansible-files.js';
import { tailEvents } from './ansible/event-tail.js';

export interface AnsiblePlaybookConfig {
  playbook: string;
  inventory?: string;
  inventory_name?: string;
  extra_vars?: Record<string, unknown>;
  limit?: string;
  tags?: string[];
  skip_tags?: string[];
  check_mode?: boolean;
  diff?: boolean;
  verbosity?: number;
  forks?: number;
  become?: boolean;
  ssh_credential?: string;
  become_credential?: string;
  vault_credentials?: string[];
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
    const config = raw as Partial<AnsiblePlaybookConfig>;
    const connection = resolveConnection(config, ctx);
    if ('problem' in connection) return { status: 'failed', exitCode: null, message: connection.problem };
    const built = await buildAnsibleArgs({ ...config, ...(connection.inventory && { inventory: undefined }) }, ctx.workspace);
    if ('problem' in built) return { status: 'failed', exitCode: null, message: built.problem };

    const home = ctx.env.HOME ?? ctx.workspace;
    for (const value of secretValuesOf(built.extraVars ?? {})) ctx.addSecret(value);
    const files = await writeAnsibleFiles({
      home,
      stepId: ctx.stepId,
      owner: ctx.fileOwner,
      connection,
      ...(built.extraVars && { extraVars: built.extraVars }),
    });
    const tail = tailEvents(files.eventsFile, async (events) => ctx.reportEvents?.(events));
    try {
      // The user's proxy, GIT_* and SSH_* variables never reach the platform's ansible call.
      const env = {
        ...platformToolEnv(ctx.env),
        ANSIBLE_FORCE_COLOR: '0',
        ANSIBLE_NOCOLOR: '1',
        // Without an ssh_key credential (a host list, local connections) host keys are not checked,
        // as before; with one, its known_hosts alone decides (ansible-files.ts).
        ANSIBLE_HOST_KEY_CHECKING: 'False',
        ANSIBLE_HOME: join(home, '.ansible'),
        ANSIBLE_LOCAL_TEMP: join(home, '.ansible', 'tmp'),
        ANSIBLE_RETRY_FILES_ENABLED: 'False',
        // Python buffers stdout when it is a pipe; the log must stream as tasks run.
        PYTHONUNBUFFERED: '1',
        ...files.env,
      };
      const executable = this.options.ansiblePlaybook ?? 'ansible-playbook';
      const args = [...files.args, ...built.args];
      const shown = [...files.args.filter((a) => !a.startsWith('--extra-vars=@')).map((a) => a.replace(`${home}/`, '$HOME/')), ...built.shown];
      ctx.output(`$ ${[executable, ...shown].join(' ')}\n`);
      const result = await runStepProcess(this.options, ctx, { argv: [executable, ...args], cwd: ctx.workspace, env });
      if (result.failure) throw new Error(`${executable}: ${result.failure.message}`);
      if (result.exitCode === 0) return { status: 'success', exitCode: 0 };
      return { status: 'failed', exitCode: result.exitCode, message: `ansible-playbook ${describeExit(result)}` };
    } finally {
      await tail.stop();
      await files.remove();
    }
  }
}

/**
 * The stored inventory and the credentials the step connects with: the step's own names first,
 * else the inventory's; an ssh_key named as the step's `credential` serves as its SSH credential.
 */
export function resolveConnection(
  config: Partial<AnsiblePlaybookConfig>,
  ctx: Pick<StepContext, 'spec' | 'credential'>,
): AnsibleConnection | { problem: string } {
  let inventory: ResolvedInventory | undefined;
  if (typeof config.inventory_name === 'string' && config.inventory_name !== '') {
    const found = Object.hasOwn(ctx.spec.inventories ?? {}, config.inventory_name) ? ctx.spec.inventories![config.inventory_name] : undefined;
    if (!found) return { problem: `inventory "${config.inventory_name}" does not exist in this project` };
    inventory = found;
  }
  const pick = (name: string | null | undefined, kind: string, field: string): { credential?: ResolvedCredential } | { problem: string } => {
    if (!name) return {};
    const found = credentialForStep(ctx.spec, name);
    if ('problem' in found) return { problem: `${field}: ${found.problem}` };
    if (found.credential.secret.kind !== kind) return { problem: `${field}: credential "${name}" is a ${found.credential.secret.kind}, not a ${kind}` };
    return { credential: found.credential };
  };
  const ssh = pick(config.ssh_credential ?? inventory?.ssh_credential, 'ssh_key', 'ssh_credential');
  if ('problem' in ssh) return ssh;
  const become = pick(config.become_credential ?? inventory?.become_credential, 'username_password', 'become_credential');
  if ('problem' in become) return become;
  const vault: ResolvedCredential[] = [];
  for (const name of config.vault_credentials ?? inventory?.vault_credentials ?? []) {
    const found = pick(name, 'ansible_vault_password', 'vault_credentials');
    if ('problem' in found) return found;
    if (found.credential) vault.push(found.credential);
  }
  const sshCredential = ssh.credential ?? (ctx.credential?.secret.kind === 'ssh_key' ? ctx.credential : undefined);
  return { ...(inventory && { inventory }), ...(sshCredential && { ssh: sshCredential }), ...(become.credential && { become: become.credential }), vault };
}

/** The argv after `ansible-playbook`, or why the config is refused. `shown` is for the log. */
export async function buildAnsibleArgs(
  config: Partial<AnsiblePlaybookConfig>,
  workspace: string,
): Promise<{ args: string[]; shown: string[]; extraVars?: Record<string, unknown> } | { problem: string }> {
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
  let extraVars: Record<string, unknown> | undefined;
  if (config.extra_vars !== undefined) {
    if (typeof config.extra_vars !== 'object' || config.extra_vars === null || Array.isArray(config.extra_vars))
      return { problem: 'extra_vars must be an object' };
    // Given as a file (`@path`, written by the executor), never as text in argv; the log shows them masked.
    extraVars = config.extra_vars;
    shown.push(`--extra-vars=${JSON.stringify(maskVariables(extraVars))}`);
  }
  if (typeof config.limit === 'string' && config.limit !== '') {
    if (config.limit.startsWith('-')) return { problem: 'limit must not start with "-"' };
    add(`--limit=${config.limit}`);
  }
  for (const [field, option] of [
    ['tags', '--tags'],
    ['skip_tags', '--skip-tags'],
  ] as const) {
    const list = config[field];
    if (!Array.isArray(list) || list.length === 0) continue;
    if (!list.every((t) => typeof t === 'string' && TAG_PATTERN.test(t))) return { problem: `${field} must match [A-Za-z0-9_.-]+` };
    add(`${option}=${list.join(',')}`);
  }
  if (config.check_mode === true) add('--check');
  if (config.diff === true) add('--diff');
  if (config.become === true) add('--become');
  if (config.forks !== undefined) {
    if (!Number.isInteger(config.forks) || config.forks < 1 || config.forks > 500) return { problem: 'forks must be an integer from 1 to 500' };
    add(`--forks=${config.forks}`);
  }
  if (config.verbosity !== undefined && config.verbosity !== 0) {
    if (!Number.isInteger(config.verbosity) || config.verbosity < 0 || config.verbosity > 4) return { problem: 'verbosity must be 0 to 4' };
    add(`-${'v'.repeat(config.verbosity)}`);
  }
  args.push('--', playbook);
  shown.push('--', config.playbook);
  return { args, shown, ...(extraVars && { extraVars }) };
}

/** The string values under secret-looking names, at any depth: masked in the log wherever they appear. */
function secretValuesOf(vars: Record<string, unknown>): string[] {
  const out: string[] = [];
  const walk = (value: unknown, secret: boolean) => {
    if (typeof value === 'string' && secret && value.length >= 3) out.push(value);
    else if (Array.isArray(value)) for (const v of value) walk(v, secret);
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, secret || isSecretVariable(k));
  };
  walk(vars, false);
  return out;
}
