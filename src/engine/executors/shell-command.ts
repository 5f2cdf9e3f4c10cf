/**
 * `shell_command`: the user's script, run by `bash -e -c <command>` (or `sh -e -c`) in the
 * workspace or in `working_directory` inside it. Handing the script to a shell is this step's
 * contract; the argv around it is ours and fixed.
 */
import type { StepContext, StepExecutor, StepResult } from '../ports.js';
import { runStepProcess, describeExit, type ProcessOptions } from '../process.js';
import { isDirectory, resolveInside } from '../workspace.js';
import { addVariables } from '../env.js';
import { coerceError } from '../../domain/errors.js';

export interface ShellCommandConfig {
  command: string;
  shell?: 'bash' | 'sh';
  working_directory?: string;
  env?: Record<string, string>;
}

export interface ShellExecutorOptions extends ProcessOptions {
  /** The bash executable (EngineOptions.shell). */
  shell: string;
}

export class ShellCommandExecutor implements StepExecutor {
  readonly type = 'shell_command';

  constructor(private readonly options: ShellExecutorOptions) {}

  async execute(raw: Record<string, unknown>, ctx: StepContext): Promise<StepResult> {
    const config = raw as Partial<ShellCommandConfig>;
    if (typeof config.command !== 'string' || config.command.length === 0) return failed('config.command must be a non-empty string');
    const shell = config.shell === 'sh' ? 'sh' : this.options.shell;

    let cwd = ctx.workspace;
    if (config.working_directory !== undefined && config.working_directory !== '') {
      try {
        cwd = await resolveInside(ctx.workspace, config.working_directory);
      } catch (thrown) {
        return failed(`working_directory refused: ${coerceError(thrown).message}`);
      }
      if (!(await isDirectory(cwd))) return failed(`working_directory "${config.working_directory}" is not a directory in the workspace`);
    }

    const env = { ...ctx.env };
    try {
      if (config.env) addVariables(env, config.env);
    } catch (thrown) {
      return failed(`env refused: ${coerceError(thrown).message}`);
    }

    const result = await runStepProcess(this.options, ctx, { argv: [shell, '-e', '-c', config.command], cwd, env });
    // The shell itself missing is the platform's fault, not the user's script.
    if (result.failure) throw new Error(`${shell}: ${describeExit(result)}`);
    if (result.exitCode === 0) return { status: 'success', exitCode: 0 };
    return { status: 'failed', exitCode: result.exitCode, message: describeExit(result) };
  }
}

function failed(message: string): StepResult {
  return { status: 'failed', exitCode: null, message };
}
